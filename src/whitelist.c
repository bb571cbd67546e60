/*
 * whitelist.c -- whitelist.cfg: site entries whose match forces score 0
 * (SPEC §4 and §8, cgp-protocol.md §5.3).
 *
 * DESIGN
 * The file is a sequence of fields "name = value;".  A "type = ..." field
 * starts a new entry and the fields after it, on the same line or the
 * following ones, belong to it until the next "type" field; each field at
 * most once (a second address is a second entry):
 *
 *   type = host;     address = [1.2.3.4];   or [10.0.0.0/8], [10.1.]
 *                    (whole-octet prefix, = /16), [2001:db8::/32],
 *                    [example.com]
 *   type = header;   header = [From];  value = [@example\.com>?$];
 *   type = envelope; command = [mail from];  value = [@example\.com$];
 *   type = body;     regex = [<h1>Newsletter</h1>];
 *
 * Values.  A value in brackets is raw text (no escapes are decoded) that
 * ends at the first ']' followed, after optional blanks, by ';', the end of
 * the line or the end of the file, so regexes keep their own brackets:
 * "[[a-z]+@x\.com]" is the regex "[a-z]+@x\.com".  A backslash protects
 * the next byte from ending the value ("\]" stays in the text; POSIX regex
 * reads it as a literal ']').  A value must end on the line it starts on.
 * A value without brackets runs to ';', '#' or the end of the line.  Outside
 * values, '#' starts a comment running to the end of the line.  The ';'
 * after a field's value may be left out at the end of a line.
 *
 * Checks at load, so that matching is a plain compare: addresses are
 * parsed by ipnet (the parser cmtool's reputation lists use too) and their
 * masks built once (IPv4 is kept as an IPv4-mapped IPv6 address, so both
 * families share one compare, and an IPv4 peer matches IPv4 entries only).
 * ipnet refuses a /0 mask, as spamd does, because it would whitelist the
 * whole Internet (and this file IPv4's /0 written ::ffff:0:0/96); an octet with a leading
 * zero (octal to some tools); host bits set past the mask (10.1.2.3/8:
 * the administrator meant the host or the /8, we cannot tell which, and
 * whitelisting the wider one by a guess lets a whole network skip
 * scoring; Postfix's cidr tables refuse it too); and "::a.b.c.d", which
 * no IPv4 sender would ever match.  Regexes are POSIX extended, case-insensitive, compiled once
 * (REG_NOSUB: only "does it match" is asked); back-references and large
 * nested repetition bounds are refused first, because glibc's matcher is
 * exponential on the former and its compiler explodes on the latter, and
 * both would be paid by every message.  An entry with a syntax error,
 * a bad address or regex, or a missing or unexpected field is reported
 * with its line and skipped; the others load.
 *
 * Matching.  whitelist_match_envelope: IP entries against the peer IP of
 * the CGP envelope (IPv4 or IPv6, an IPv4-mapped IPv6 peer matches IPv4
 * entries); "mail from" regexes against the return-path, tried both as
 * "addr" and as "<addr>" (so "^<>$" matches the null sender and
 * "@example\.com$" an address); "rcpt to" against each recipient in the
 * same two forms.  CGP queue files do not record HELO, so "helo" entries
 * load (with a warning) but never match.  whitelist_match_message: header
 * entries against the decoded value of every header of that name (name
 * compared ignoring case), body entries against the decoded body text, and
 * host-name entries against the name the receiving server verified for
 * the client of the first (topmost) Received header, the one our own
 * server added: its reverse DNS as Postfix, sendmail, Exim or
 * CommuniGate Pro show it, read by reputation_received_client (the one
 * reader of those headers).  Never the client's HELO/EHLO name, which is
 * the sender's to choose: "EHLO mail.partner.example" earns nothing.
 *
 * State: the loaded object is immutable; regexec on a compiled regex is
 * thread-safe, so one whitelist serves every worker.  Limits (caps.h):
 * CAPS_WHITELIST_FILE_MAX_BYTES, CAPS_WHITELIST_ENTRIES_MAX,
 * CAPS_WHITELIST_VALUE_MAX.
 */
#include "whitelist.h"

#include <arpa/inet.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "cursor.h"
#include "fsutil.h"
#include "ipnet.h"
#include "mime.h"
#include "reputation.h"

#define WHITELIST_HOST_MAX 256
#define WHITELIST_WHY_MAX 256

enum whitelist_kind {
    WHITELIST_IP,        /* host entry: address and mask */
    WHITELIST_HOST_NAME, /* host entry: host name suffix */
    WHITELIST_HEADER,
    WHITELIST_MAIL_FROM,
    WHITELIST_RCPT_TO,
    WHITELIST_HELO, /* never matches: not in a CGP envelope */
    WHITELIST_BODY
};

struct whitelist_entry {
    enum whitelist_kind kind;
    unsigned line;
    uint8_t net[16];  /* WHITELIST_IP: address with the mask applied */
    uint8_t mask[16];
    bool is_v4;       /* WHITELIST_IP: an IPv4 network (IPv4-mapped) */
    char *text;       /* host name suffix (lower case) or header name */
    regex_t re;
    bool has_re;
};

struct whitelist {
    struct whitelist_entry *entries;
    size_t n;
    size_t cap;
    bool needs_message;
};

/* Fields an entry may have. */
enum whitelist_field {
    WHITELIST_F_ADDRESS,
    WHITELIST_F_HEADER,
    WHITELIST_F_VALUE,
    WHITELIST_F_COMMAND,
    WHITELIST_F_REGEX,
    WHITELIST_F_COUNT
};

static const char *const whitelist_field_names[WHITELIST_F_COUNT] = {
    "address", "header", "value", "command", "regex"};

enum whitelist_type {
    WHITELIST_T_HOST,
    WHITELIST_T_HEADER,
    WHITELIST_T_ENVELOPE,
    WHITELIST_T_BODY
};

/* The entry being read: views into the input. */
struct whitelist_pending {
    bool is_active;
    bool is_bad; /* already reported; drop silently */
    unsigned line;
    enum whitelist_type type;
    const char *val[WHITELIST_F_COUNT];
    size_t val_len[WHITELIST_F_COUNT];
    unsigned val_line[WHITELIST_F_COUNT];
    bool has[WHITELIST_F_COUNT];
};

struct whitelist_parser {
    const char *file;
    const char *p;
    size_t len;
    size_t off;
    unsigned line;
    config_problem_fn report;
    void *ctx;
    size_t n_errors;
    bool is_full_reported;
    bool is_out_of_memory;
    struct whitelist *wl;
    struct whitelist_pending cur;
};

static void problem(struct whitelist_parser *ps, unsigned line,
                    const char *key, bool is_warning, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
problem(struct whitelist_parser *ps, unsigned line, const char *key,
        bool is_warning, const char *fmt, ...)
{
    char text[WHITELIST_WHY_MAX];
    struct config_problem p;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (!is_warning) {
        ps->n_errors++;
    }
    if (ps->report == NULL) {
        return;
    }
    p.file = ps->file;
    p.line = line;
    p.key = key;
    p.problem = text;
    p.is_warning = is_warning;
    ps->report(ps->ctx, &p);
}

static unsigned char
lower(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch - 'A' + 'a') : ch;
}

static bool
ieq(const char *a, size_t a_len, const char *b)
{
    if (strlen(b) != a_len) {
        return false;
    }
    for (size_t i = 0; i < a_len; i++) {
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) {
            return false;
        }
    }
    return true;
}

/* ---- addresses ------------------------------------------------------ */

/* IPv4 text (a full dotted quad) as an IPv4-mapped IPv6 address. */
static bool
parse_v4_mapped(const char *text, uint8_t out[16])
{
    uint8_t v4[4];

    if (inet_pton(AF_INET, text, v4) != 1) {
        return false;
    }
    memset(out, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    memcpy(out + 12, v4, 4);
    return true;
}

/* Peer IP text from the envelope → 16 bytes. */
static bool
parse_ip(const char *text, uint8_t out[16])
{
    return parse_v4_mapped(text, out) || inet_pton(AF_INET6, text, out) == 1;
}

/* "10.", "10.1", "192.168.1." → net and prefix (whole octets); NULL or
 * why not.  The octets follow ipnet's rules (no leading zero). */
static const char *
parse_v4_prefix(const char *s, size_t len, struct ipnet *n)
{
    size_t n_octets = 0;
    size_t i = 0;

    memset(n->addr, 0, 16);
    n->addr[10] = 0xff;
    n->addr[11] = 0xff;
    n->is_v4 = true;
    n->is_v6_text = false;
    while (i < len) {
        size_t j = i;
        const char *why;

        while (j < len && s[j] != '.') {
            j++;
        }
        if (n_octets == 3) {
            return "not an IPv4 address or prefix";
        }
        why = ipnet_octet_parse(s + i, j - i, &n->addr[12 + n_octets++]);
        if (why != NULL) {
            return why;
        }
        if (j == len) {
            break;
        }
        i = j + 1; /* a trailing '.' ends the loop here */
    }
    if (n_octets == 0) {
        return "not an IPv4 address or prefix";
    }
    n->prefix = 96 + 8 * (unsigned)n_octets;
    return NULL;
}

/* Whole-octet prefix text: IPv4 characters only, no mask, and fewer than
 * four octets ("10.1") or a trailing dot ("10.1.2."). */
static bool
is_octet_prefix(const char *s, size_t len)
{
    size_t n_dots = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            n_dots++;
        } else if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return len > 0 && (n_dots < 3 || s[len - 1] == '.');
}

/* An address entry's text into e (ipnet's rules, or a whole-octet IPv4
 * prefix); NULL or why not. */
static const char *
parse_ip_entry(const char *s, size_t len, struct whitelist_entry *e)
{
    struct ipnet n;
    const char *why = is_octet_prefix(s, len) ? parse_v4_prefix(s, len, &n)
                                              : ipnet_parse(s, len, &n);

    if (why != NULL) {
        return why;
    }
    /* ::ffff:0:0/96 is IPv4's /0 written in IPv6 notation (a shorter
     * mapped prefix has host bits set): as /0, refused, and likewise by
     * cmtool's reputation lists. */
    if (n.is_v4 && n.prefix <= 96) {
        return "::ffff:0:0/96 would cover every IPv4 address; refused";
    }
    ipnet_mask(n.prefix, e->mask);
    memcpy(e->net, n.addr, 16);
    e->is_v4 = n.is_v4;
    e->kind = WHITELIST_IP;
    return NULL;
}

static bool
is_host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
}

/*
 * Fill e from a host entry's address text.  NULL on success, else why.
 */
static const char *
parse_host_address(const char *s, size_t len, struct whitelist_entry *e)
{
    bool is_v6 = memchr(s, ':', len) != NULL;
    bool is_v4 = !is_v6 && len > 0;

    for (size_t i = 0; i < len && is_v4; i++) {
        is_v4 = (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '/';
    }
    if (is_v4 || is_v6) {
        return parse_ip_entry(s, len, e);
    }
    /* A host name suffix: "example.com" matches example.com and every
     * name ending in ".example.com". */
    while (len > 0 && s[0] == '.') {
        s++;
        len--;
    }
    /* "mx.example.com." (the root dot of a fully qualified name): the
     * names it is compared with have theirs dropped (copy_host). */
    while (len > 0 && s[len - 1] == '.') {
        len--;
    }
    if (len == 0 || len >= WHITELIST_HOST_MAX) {
        return "not an address or host name";
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_host_char(s[i])) {
            return "not an address or host name";
        }
    }
    e->text = malloc(len + 1);
    if (e->text == NULL) {
        return NULL; /* the caller sees text == NULL: out of memory */
    }
    for (size_t i = 0; i < len; i++) {
        e->text[i] = (char)lower((unsigned char)s[i]);
    }
    e->text[len] = '\0';
    e->kind = WHITELIST_HOST_NAME;
    return NULL;
}

/* ---- building entries -------------------------------------------------- */

static void
entry_clear(struct whitelist_entry *e)
{
    free(e->text);
    if (e->has_re) {
        regfree(&e->re);
    }
}

/* Index just past the bracket expression that starts at s[i] ('['), or
 * len when it is not closed.  "[]...]" and "[^]...]" start with a
 * literal ']'; "[:alpha:]", "[.x.]" and "[=e=]" inside are skipped whole. */
static size_t
bracket_end(const char *s, size_t len, size_t i)
{
    i++;
    if (i < len && s[i] == '^') {
        i++;
    }
    if (i < len && s[i] == ']') {
        i++;
    }
    while (i < len && s[i] != ']') {
        if (s[i] == '[' && i + 1 < len &&
            (s[i + 1] == ':' || s[i + 1] == '.' || s[i + 1] == '=')) {
            char kind = s[i + 1];

            i += 2;
            while (i + 1 < len && !(s[i] == kind && s[i + 1] == ']')) {
                i++;
            }
            i += 2;
            continue;
        }
        i++;
    }
    return i < len ? i + 1 : len;
}

/*
 * Refuse what would make a regex expensive: back-references (\1..\9, a
 * glibc extension to ERE whose matching is exponential, and it runs on
 * every message) and repetition bounds whose product exceeds
 * CAPS_WHITELIST_REGEX_REPEAT_MAX (glibc expands them at compile time).
 * '+' counts as 2: glibc compiles x+ as xx*, so "a++++..." or nested
 * "((a+)+)+" double the tree at each '+' (found by fuzz_whitelist: 40 of
 * them took gigabytes).
 * Bracket expressions are skipped so "[{]" is a plain brace.  NULL when
 * fine, else why.
 */
static const char *
regex_cost_problem(const char *s, size_t len)
{
    uint64_t product = 1;
    size_t i = 0;

    while (i < len) {
        if (s[i] == '\\') {
            if (i + 1 < len && s[i + 1] >= '1' && s[i + 1] <= '9') {
                return "back-references are not allowed";
            }
            i += 2;
            continue;
        }
        if (s[i] == '[') {
            i = bracket_end(s, len, i);
            continue;
        }
        if (s[i] == '+') {
            product *= 2;
            if (product > CAPS_WHITELIST_REGEX_REPEAT_MAX) {
                return "too many '+' repetitions";
            }
            i++;
            continue;
        }
        if (s[i] == '{') {
            size_t j = i + 1;
            uint64_t n = 0;
            uint64_t m = 0;
            bool has_comma = false;

            /* {n}, {n,} or {n,m}: the larger number counts.  Numbers are
             * clamped just past the cap, so they cannot overflow. */
            while (j < len && ((s[j] >= '0' && s[j] <= '9') || s[j] == ',')) {
                uint64_t *v = has_comma ? &m : &n;

                if (s[j] == ',') {
                    has_comma = true;
                } else if (*v <= CAPS_WHITELIST_REGEX_REPEAT_MAX) {
                    *v = *v * 10 + (uint64_t)(s[j] - '0');
                }
                j++;
            }
            if (j < len && s[j] == '}' && j > i + 1) {
                uint64_t bound = m > n ? m : n;

                if (bound > 1) {
                    product *= bound;
                }
                if (product > CAPS_WHITELIST_REGEX_REPEAT_MAX) {
                    return "repetition bounds too large";
                }
                i = j + 1;
                continue;
            }
        }
        i++;
    }
    return NULL;
}

/*
 * The pattern to compile for (s, len): "^.*(" s ")".  glibc's regexec
 * tries an unanchored pattern at every start position, each try running
 * as far as the pattern may reach, so "unsubscribe.*newsletter" over a
 * megabyte of "unsubscribe " took minutes (quadratic).  Anchored behind
 * ".*" the same search is one pass: ".*" matches any run of bytes
 * (newlines too: no REG_NEWLINE; every byte: the C locale), '^' and '$'
 * inside still mean the text's ends, and back-references, whose numbers
 * the added group would shift, are refused before this.  A ')' with no
 * '(' before it, which glibc takes as a literal, is written "\)" so it
 * does not close the added group.  NULL when out of memory.
 */
static char *
anchored_pattern(const char *s, size_t len)
{
    static const char head[] = "^.*(";
    size_t depth = 0;
    size_t n = sizeof(head) - 1;
    size_t i = 0;
    /* Worst case every byte is a lone ')': two bytes each. */
    char *out = malloc(sizeof(head) + 2 * len + 1);

    if (out == NULL) {
        return NULL;
    }
    memcpy(out, head, n);
    while (i < len) {
        size_t next = i + 1;

        if (s[i] == '\\') {
            next = i + 2 <= len ? i + 2 : len;
        } else if (s[i] == '[') {
            next = bracket_end(s, len, i);
        } else if (s[i] == '(') {
            depth++;
        } else if (s[i] == ')' && depth > 0) {
            depth--;
        } else if (s[i] == ')') {
            out[n++] = '\\';
        }
        memcpy(out + n, s + i, next - i);
        n += next - i;
        i = next;
    }
    out[n++] = ')';
    out[n] = '\0';
    return out;
}

/* Compile (s, len) into e->re; a problem is reported on failure. */
static bool
compile_regex(struct whitelist_parser *ps, const char *key, unsigned line,
              const char *s, size_t len, struct whitelist_entry *e)
{
    char *pattern;
    int rc;
    char why[WHITELIST_WHY_MAX - 40];
    const char *cost;

    if (len == 0) {
        problem(ps, line, key, false, "empty regular expression; entry "
                "skipped");
        return false;
    }
    cost = regex_cost_problem(s, len);
    if (cost != NULL) {
        problem(ps, line, key, false, "%s in the regular expression; entry "
                "skipped", cost);
        return false;
    }
    pattern = malloc(len + 1);
    if (pattern == NULL) {
        ps->is_out_of_memory = true;
        return false;
    }
    memcpy(pattern, s, len);
    pattern[len] = '\0';
    /* The pattern as written first, so its errors read as before. */
    rc = regcomp(&e->re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    free(pattern);
    if (rc == 0) {
        regfree(&e->re);
        pattern = anchored_pattern(s, len);
        if (pattern == NULL) {
            ps->is_out_of_memory = true;
            return false;
        }
        rc = regcomp(&e->re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        free(pattern);
    }
    if (rc != 0) {
        regerror(rc, &e->re, why, sizeof(why));
        problem(ps, line, key, false, "bad regular expression (%s); entry "
                "skipped", why);
        return false;
    }
    e->has_re = true;
    return true;
}

static bool
add_entry(struct whitelist_parser *ps, const struct whitelist_entry *e)
{
    struct whitelist *wl = ps->wl;

    if (wl->n >= CAPS_WHITELIST_ENTRIES_MAX) {
        if (!ps->is_full_reported) {
            problem(ps, e->line, "type", false,
                    "more than %u entries; the rest are ignored",
                    CAPS_WHITELIST_ENTRIES_MAX);
            ps->is_full_reported = true;
        }
        return false;
    }
    if (wl->n == wl->cap) {
        size_t cap = wl->cap == 0 ? 16 : wl->cap * 2;
        struct whitelist_entry *ne;

        if (cap > CAPS_WHITELIST_ENTRIES_MAX) {
            cap = CAPS_WHITELIST_ENTRIES_MAX;
        }
        ne = realloc(wl->entries, cap * sizeof(*ne));
        if (ne == NULL) {
            ps->is_out_of_memory = true;
            return false;
        }
        wl->entries = ne;
        wl->cap = cap;
    }
    wl->entries[wl->n++] = *e;
    if (e->kind == WHITELIST_HEADER || e->kind == WHITELIST_BODY ||
        e->kind == WHITELIST_HOST_NAME) {
        wl->needs_message = true;
    }
    return true;
}

/* Which fields each type needs (and allows). */
static unsigned
fields_of(enum whitelist_type type)
{
    switch (type) {
    case WHITELIST_T_HOST:
        return 1u << WHITELIST_F_ADDRESS;
    case WHITELIST_T_HEADER:
        return 1u << WHITELIST_F_HEADER | 1u << WHITELIST_F_VALUE;
    case WHITELIST_T_ENVELOPE:
        return 1u << WHITELIST_F_COMMAND | 1u << WHITELIST_F_VALUE;
    case WHITELIST_T_BODY:
        return 1u << WHITELIST_F_REGEX;
    }
    return 0;
}

static const char *
type_name(enum whitelist_type type)
{
    switch (type) {
    case WHITELIST_T_HOST:
        return "host";
    case WHITELIST_T_HEADER:
        return "header";
    case WHITELIST_T_ENVELOPE:
        return "envelope";
    case WHITELIST_T_BODY:
        return "body";
    }
    return "?";
}

/* Turn the pending entry into a whitelist entry (or report why not). */
/* The entry's regex field f (named name in problems) compiled into e;
 * on failure e is cleared and the entry skipped. */
static bool
finish_regex(struct whitelist_parser *ps, const struct whitelist_pending *c,
             enum whitelist_field f, const char *name,
             struct whitelist_entry *e)
{
    if (compile_regex(ps, name, c->val_line[f], c->val[f], c->val_len[f],
                      e)) {
        return true;
    }
    entry_clear(e);
    return false;
}

/* Each finish_* below fills e from the pending entry c, or reports the
 * problem, leaves e clear and returns false (entry skipped). */
static bool
finish_host(struct whitelist_parser *ps, const struct whitelist_pending *c,
            struct whitelist_entry *e)
{
    const char *why = parse_host_address(c->val[WHITELIST_F_ADDRESS],
                                         c->val_len[WHITELIST_F_ADDRESS], e);

    if (why != NULL) {
        problem(ps, c->val_line[WHITELIST_F_ADDRESS], "address", false,
                "%s; entry skipped", why);
        return false;
    }
    if (e->kind == WHITELIST_HOST_NAME && e->text == NULL) {
        ps->is_out_of_memory = true;
        return false;
    }
    return true;
}

static bool
finish_header(struct whitelist_parser *ps,
              const struct whitelist_pending *c, struct whitelist_entry *e)
{
    const char *v = c->val[WHITELIST_F_HEADER];
    size_t len = c->val_len[WHITELIST_F_HEADER];

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch <= 0x20 || ch >= 0x7f || ch == ':') {
            len = 0;
        }
    }
    if (len == 0) {
        problem(ps, c->val_line[WHITELIST_F_HEADER], "header", false,
                "not a header field name; entry skipped");
        return false;
    }
    e->kind = WHITELIST_HEADER;
    e->text = malloc(len + 1);
    if (e->text == NULL) {
        ps->is_out_of_memory = true;
        return false;
    }
    memcpy(e->text, v, len);
    e->text[len] = '\0';
    return finish_regex(ps, c, WHITELIST_F_VALUE, "value", e);
}

static bool
finish_envelope(struct whitelist_parser *ps,
                const struct whitelist_pending *c, struct whitelist_entry *e)
{
    /* "mail from", "MAIL  FROM", "rcpt to", "helo": any case, any blanks
     * between the words. */
    const char *v = c->val[WHITELIST_F_COMMAND];
    size_t len = c->val_len[WHITELIST_F_COMMAND];
    unsigned line = c->val_line[WHITELIST_F_COMMAND];
    char cmd[16];
    size_t n = 0;

    for (size_t i = 0; i < len && n < sizeof(cmd) - 1; i++) {
        if (v[i] == ' ' || v[i] == '\t') {
            if (n > 0 && cmd[n - 1] != ' ') {
                cmd[n++] = ' ';
            }
            continue;
        }
        cmd[n++] = (char)lower((unsigned char)v[i]);
    }
    while (n > 0 && cmd[n - 1] == ' ') {
        n--;
    }
    cmd[n] = '\0';
    if (strcmp(cmd, "mail from") == 0) {
        e->kind = WHITELIST_MAIL_FROM;
    } else if (strcmp(cmd, "rcpt to") == 0) {
        e->kind = WHITELIST_RCPT_TO;
    } else if (strcmp(cmd, "helo") == 0) {
        e->kind = WHITELIST_HELO;
        problem(ps, line, "command", true,
                "CGP queue files do not record HELO; this "
                "entry never matches");
    } else {
        problem(ps, line, "command", false,
                "must be mail from, rcpt to or helo; entry skipped");
        return false;
    }
    return finish_regex(ps, c, WHITELIST_F_VALUE, "value", e);
}

static bool
finish_body(struct whitelist_parser *ps, const struct whitelist_pending *c,
            struct whitelist_entry *e)
{
    e->kind = WHITELIST_BODY;
    return finish_regex(ps, c, WHITELIST_F_REGEX, "regex", e);
}

static void
finish_entry(struct whitelist_parser *ps)
{
    struct whitelist_pending *c = &ps->cur;
    struct whitelist_entry e;
    unsigned want;
    bool is_ok = false;

    if (!c->is_active || c->is_bad) {
        c->is_active = false;
        return;
    }
    c->is_active = false;
    want = fields_of(c->type);
    for (unsigned f = 0; f < WHITELIST_F_COUNT; f++) {
        if ((want & (1u << f)) != 0 && !c->has[f]) {
            problem(ps, c->line, whitelist_field_names[f], false,
                    "%s entry without %s; entry skipped", type_name(c->type),
                    whitelist_field_names[f]);
            return;
        }
    }
    memset(&e, 0, sizeof(e));
    e.line = c->line;
    switch (c->type) {
    case WHITELIST_T_HOST:
        is_ok = finish_host(ps, c, &e);
        break;
    case WHITELIST_T_HEADER:
        is_ok = finish_header(ps, c, &e);
        break;
    case WHITELIST_T_ENVELOPE:
        is_ok = finish_envelope(ps, c, &e);
        break;
    case WHITELIST_T_BODY:
        is_ok = finish_body(ps, c, &e);
        break;
    }
    if (is_ok && !add_entry(ps, &e)) {
        entry_clear(&e);
    }
}

/* ---- lexing ----------------------------------------------------------- */

static bool
is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' ||
           ch == '\v';
}

static void
skip_line_blanks(struct whitelist_parser *ps)
{
    while (ps->off < ps->len && is_blank(ps->p[ps->off])) {
        ps->off++;
    }
}

/* Skip to the start of the next line (after an error). */
static void
skip_line(struct whitelist_parser *ps)
{
    while (ps->off < ps->len && ps->p[ps->off] != '\n') {
        ps->off++;
    }
}

/* Report a syntax error on the current line, drop the current entry and
 * resume on the next line.  An entry that began on an earlier line (a
 * stray line after a complete entry: an entry runs to the next "type")
 * is named by its line, or its loss would go unseen. */
static void
syntax_error(struct whitelist_parser *ps, const char *key, const char *why)
{
    if (ps->cur.is_active && !ps->cur.is_bad && ps->cur.line != ps->line) {
        problem(ps, ps->line, key, false, "%s; entry of line %u skipped",
                why, ps->cur.line);
    } else {
        problem(ps, ps->line, key, false, "%s; entry skipped", why);
    }
    if (ps->cur.is_active) {
        ps->cur.is_bad = true;
    }
    skip_line(ps);
}

/*
 * Read a bracketed value starting at '['.  On success (*v, *len) is the
 * text between the brackets and the closing ']' is consumed.
 */
static bool
read_bracket_value(struct whitelist_parser *ps, const char **v, size_t *len)
{
    size_t start = ps->off + 1;
    size_t i = start;

    while (i < ps->len && ps->p[i] != '\n') {
        if (ps->p[i] == '\\' && i + 1 < ps->len && ps->p[i + 1] != '\n') {
            i += 2;
            continue;
        }
        if (ps->p[i] == ']') {
            size_t j = i + 1;

            while (j < ps->len && is_blank(ps->p[j])) {
                j++;
            }
            if (j >= ps->len || ps->p[j] == ';' || ps->p[j] == '\n') {
                *v = ps->p + start;
                *len = i - start;
                ps->off = i + 1;
                return true;
            }
        }
        i++;
    }
    return false;
}

/* One "name = value [;]" field's text, as read_field reads it. */
struct field_text {
    const char *name;
    size_t name_len;
    const char *v;
    size_t len;
};

/* The value after "name =": a "[...]" value up to its ']', or the text up
 * to ';', the end of the line or a comment, without trailing blanks. */
static bool
read_value(struct whitelist_parser *ps, struct field_text *ft)
{
    if (ps->off < ps->len && ps->p[ps->off] == '[') {
        if (!read_bracket_value(ps, &ft->v, &ft->len)) {
            syntax_error(ps, "", "'[' value not closed by ']' on its line");
            return false;
        }
        return true;
    }
    ft->v = ps->p + ps->off;
    while (ps->off < ps->len && ps->p[ps->off] != ';' &&
           ps->p[ps->off] != '\n' && ps->p[ps->off] != '#') {
        ps->off++;
    }
    ft->len = (size_t)(ps->p + ps->off - ft->v);
    while (ft->len > 0 && is_blank(ft->v[ft->len - 1])) {
        ft->len--;
    }
    return true;
}

/* The syntax of one field at ps->off: false (the problem recorded) when
 * it is not "name = value" ended by ';', the line's end or a comment. */
static bool
read_field_text(struct whitelist_parser *ps, struct field_text *ft)
{
    ft->name = ps->p + ps->off;
    ft->name_len = 0;
    while (ps->off < ps->len &&
           ((ps->p[ps->off] >= 'a' && ps->p[ps->off] <= 'z') ||
            (ps->p[ps->off] >= 'A' && ps->p[ps->off] <= 'Z'))) {
        ps->off++;
        ft->name_len++;
    }
    if (ft->name_len == 0) {
        syntax_error(ps, "", "expected a field such as \"type = host;\"");
        return false;
    }
    skip_line_blanks(ps);
    if (ps->off >= ps->len || ps->p[ps->off] != '=') {
        syntax_error(ps, "", "expected '=' after the field name");
        return false;
    }
    ps->off++;
    skip_line_blanks(ps);
    if (!read_value(ps, ft)) {
        return false;
    }
    skip_line_blanks(ps);
    if (ps->off < ps->len && ps->p[ps->off] == ';') {
        ps->off++;
    } else if (ps->off < ps->len && ps->p[ps->off] != '\n' &&
               ps->p[ps->off] != '#') {
        syntax_error(ps, "", "expected ';' after the value");
        return false;
    }
    if (memchr(ft->v, '\0', ft->len) != NULL) {
        syntax_error(ps, "", "NUL byte in a value");
        return false;
    }
    return true;
}

/* "type = ...;": the entry before it ends and a new one starts. */
static void
start_entry(struct whitelist_parser *ps, const char *v, size_t len,
            unsigned line)
{
    finish_entry(ps);
    memset(&ps->cur, 0, sizeof(ps->cur));
    ps->cur.is_active = true;
    ps->cur.line = line;
    if (ieq(v, len, "host")) {
        ps->cur.type = WHITELIST_T_HOST;
    } else if (ieq(v, len, "header")) {
        ps->cur.type = WHITELIST_T_HEADER;
    } else if (ieq(v, len, "envelope")) {
        ps->cur.type = WHITELIST_T_ENVELOPE;
    } else if (ieq(v, len, "body")) {
        ps->cur.type = WHITELIST_T_BODY;
    } else {
        problem(ps, line, "type", false, "must be host, header, "
                "envelope or body; entry skipped");
        ps->cur.is_bad = true;
    }
}

/* Any other field: kept in the current entry when the entry's type has
 * it and it was not given before; otherwise the entry is skipped. */
static void
set_field(struct whitelist_parser *ps, const struct field_text *ft,
          unsigned line)
{
    int f = -1;

    for (int i = 0; i < WHITELIST_F_COUNT; i++) {
        if (ieq(ft->name, ft->name_len, whitelist_field_names[i])) {
            f = i;
        }
    }
    if (!ps->cur.is_active) {
        problem(ps, line, f < 0 ? "" : whitelist_field_names[f], false,
                "field before any \"type = ...;\"; ignored");
        return;
    }
    if (ps->cur.is_bad) {
        return;
    }
    if (f < 0) {
        char key[32];

        snprintf(key, sizeof(key), "%.*s", (int)ft->name_len, ft->name);
        problem(ps, line, key, false, "unknown field; entry skipped");
        ps->cur.is_bad = true;
        return;
    }
    if ((fields_of(ps->cur.type) & (1u << f)) == 0) {
        problem(ps, line, whitelist_field_names[f], false,
                "not a field of a %s entry; entry skipped",
                type_name(ps->cur.type));
        ps->cur.is_bad = true;
        return;
    }
    if (ps->cur.has[f]) {
        problem(ps, line, whitelist_field_names[f], false,
                "given twice in one entry; entry skipped");
        ps->cur.is_bad = true;
        return;
    }
    ps->cur.has[f] = true;
    ps->cur.val[f] = ft->v;
    ps->cur.val_len[f] = ft->len;
    ps->cur.val_line[f] = line;
}

/* Read one "name = value [;]" field at ps->off (not at a blank). */
static void
read_field(struct whitelist_parser *ps)
{
    struct field_text ft;
    unsigned line = ps->line;

    if (!read_field_text(ps, &ft)) {
        return;
    }
    if (ft.len > CAPS_WHITELIST_VALUE_MAX) {
        problem(ps, line, "", false, "value longer than %u bytes; entry "
                "skipped", CAPS_WHITELIST_VALUE_MAX);
        if (ps->cur.is_active) {
            ps->cur.is_bad = true;
        }
        return;
    }
    if (ieq(ft.name, ft.name_len, "type")) {
        start_entry(ps, ft.v, ft.len, line);
        return;
    }
    set_field(ps, &ft, line);
}

static void
parse_all(struct whitelist_parser *ps)
{
    while (ps->off < ps->len && !ps->is_out_of_memory) {
        char ch = ps->p[ps->off];

        if (ch == '\n') {
            ps->line++;
            ps->off++;
            continue;
        }
        if (is_blank(ch) || ch == ';') {
            ps->off++;
            continue;
        }
        if (ch == '#') {
            skip_line(ps);
            continue;
        }
        read_field(ps);
    }
    finish_entry(ps);
}

/* ---- public ------------------------------------------------------------ */

void
whitelist_free(struct whitelist *wl)
{
    if (wl == NULL) {
        return;
    }
    for (size_t i = 0; i < wl->n; i++) {
        entry_clear(&wl->entries[i]);
    }
    free(wl->entries);
    free(wl);
}

enum cm_err
whitelist_parse(const char *file, const uint8_t *p, size_t len,
                struct whitelist **out, config_problem_fn report, void *ctx,
                size_t *n_errors)
{
    struct whitelist_parser ps;

    memset(&ps, 0, sizeof(ps));
    ps.file = file == NULL ? "whitelist.cfg" : file;
    ps.p = (const char *)p;
    ps.len = p == NULL ? 0 : len;
    ps.line = 1;
    ps.report = report;
    ps.ctx = ctx;
    /* A UTF-8 byte order mark, which Windows editors put in front of a
     * file they save: no field name, it made line 1 a syntax error (its
     * entry dropped).  The other two configuration files skip it too. */
    if (ps.len >= 3 && memcmp(ps.p, "\xef\xbb\xbf", 3) == 0) {
        ps.off = 3;
    }
    ps.wl = calloc(1, sizeof(*ps.wl));
    if (ps.wl == NULL) {
        return CM_ENOMEM;
    }
    parse_all(&ps);
    if (ps.is_out_of_memory) {
        whitelist_free(ps.wl);
        return CM_ENOMEM;
    }
    if (n_errors != NULL) {
        *n_errors = ps.n_errors;
    }
    *out = ps.wl;
    return CM_OK;
}

enum cm_err
whitelist_load(const char *path, struct whitelist **out,
               config_problem_fn report, void *ctx, size_t *n_errors)
{
    struct buf b;
    bool is_truncated = false;
    const char *why = NULL;
    char text[WHITELIST_WHY_MAX];
    struct config_problem p;
    enum cm_err rc;

    buf_init(&b, CAPS_WHITELIST_FILE_MAX_BYTES);
    rc = fsutil_read_file(path, CAPS_WHITELIST_FILE_MAX_BYTES, &b,
                          &is_truncated, &why);
    if (rc == CM_OK && !is_truncated) {
        rc = whitelist_parse(path, b.data, b.len, out, report, ctx,
                             n_errors);
        buf_clear(&b);
        return rc;
    }
    buf_clear(&b);
    if (rc == CM_ENOMEM) {
        return rc;
    }
    /* Missing: no entries, silently.  Unreadable or too big: no entries
     * and an error, so that CHECK-CONFIG fails. */
    if (whitelist_parse(path, NULL, 0, out, NULL, NULL, NULL) != CM_OK) {
        return CM_ENOMEM;
    }
    if (n_errors != NULL) {
        *n_errors = rc == CM_ENOENT ? 0 : 1;
    }
    if (rc == CM_ENOENT || report == NULL) {
        return CM_OK;
    }
    if (is_truncated) {
        snprintf(text, sizeof(text), "larger than %u bytes; no entry loaded",
                 CAPS_WHITELIST_FILE_MAX_BYTES);
    } else {
        snprintf(text, sizeof(text), "cannot read: %s; no entry loaded",
                 why != NULL ? why : cm_strerror(rc));
    }
    p.file = path;
    p.line = 0;
    p.key = "";
    p.problem = text;
    p.is_warning = false;
    report(ctx, &p);
    return CM_OK;
}

size_t
whitelist_count(const struct whitelist *wl)
{
    return wl == NULL ? 0 : wl->n;
}

bool
whitelist_needs_message(const struct whitelist *wl)
{
    return wl != NULL && wl->needs_message;
}

/* An IPv4 peer (kept IPv4-mapped) matches IPv4 entries only: the range
 * of an IPv6 network such as ::/8 holds ::ffff:0:0/96, and an
 * administrator who listed it did not mean every IPv4 sender. */
static bool
ip_matches(const struct whitelist_entry *e, const uint8_t ip[16],
           bool is_v4_peer)
{
    if (is_v4_peer && !e->is_v4) {
        return false;
    }
    for (size_t i = 0; i < 16; i++) {
        if ((ip[i] & e->mask[i]) != e->net[i]) {
            return false;
        }
    }
    return true;
}

static bool
regex_matches(const struct whitelist_entry *e, const char *s)
{
    return regexec(&e->re, s, 0, NULL, 0) == 0;
}

/* addr and "<addr>" (addr is at most CAPS_ADDR_MAX bytes). */
static bool
addr_matches(const struct whitelist_entry *e, const char *addr)
{
    char bracketed[CAPS_ADDR_MAX + 3];

    if (regex_matches(e, addr)) {
        return true;
    }
    snprintf(bracketed, sizeof(bracketed), "<%.*s>", (int)CAPS_ADDR_MAX,
             addr);
    return regex_matches(e, bracketed);
}

bool
whitelist_match_envelope(const struct whitelist *wl,
                         const struct envelope *env, const char **what)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0xff, 0xff};
    uint8_t ip[16];
    bool has_ip;
    bool is_v4_peer;

    if (wl == NULL || env == NULL) {
        return false;
    }
    has_ip = env->has_peer_ip &&
             memchr(env->peer_ip, '\0', sizeof(env->peer_ip)) != NULL &&
             parse_ip(env->peer_ip, ip);
    is_v4_peer = has_ip && memcmp(ip, mapped, sizeof(mapped)) == 0;
    for (size_t i = 0; i < wl->n; i++) {
        const struct whitelist_entry *e = &wl->entries[i];
        bool is_match = false;

        switch (e->kind) {
        case WHITELIST_IP:
            is_match = has_ip && ip_matches(e, ip, is_v4_peer);
            break;
        case WHITELIST_MAIL_FROM:
            is_match = env->has_return_path &&
                       memchr(env->return_path, '\0',
                              sizeof(env->return_path)) != NULL &&
                       addr_matches(e, env->return_path);
            break;
        case WHITELIST_RCPT_TO:
            for (size_t r = 0; r < env->n_rcpts && r < CAPS_ENVELOPE_RCPTS &&
                               !is_match;
                 r++) {
                is_match = memchr(env->rcpts[r], '\0',
                                  sizeof(env->rcpts[r])) != NULL &&
                           addr_matches(e, env->rcpts[r]);
            }
            break;
        case WHITELIST_HOST_NAME:
        case WHITELIST_HEADER:
        case WHITELIST_HELO:
        case WHITELIST_BODY:
            break;
        }
        if (is_match) {
            if (what != NULL) {
                *what = e->kind == WHITELIST_IP ? "host address"
                        : e->kind == WHITELIST_MAIL_FROM
                            ? "envelope mail from"
                            : "envelope rcpt to";
            }
            return true;
        }
    }
    return false;
}

/* The verified name of the client in the topmost Received header (the
 * one our own server added), lower-cased, trailing dots dropped, into
 * host; false when it shows none (reputation_received_client: never the
 * client's HELO name) or the name is too long. */
static bool
received_host(const struct mime_doc *doc, char host[WHITELIST_HOST_MAX])
{
    const struct mime_header *h = mime_header_next(doc, NULL, "Received");
    uint8_t ip[16];
    const char *name;
    size_t len;

    if (!reputation_received_client(h, ip, &name, &len)) {
        return false;
    }
    while (len > 0 && name[len - 1] == '.') {
        len--;
    }
    if (len == 0 || len >= WHITELIST_HOST_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        host[i] = (char)lower((unsigned char)name[i]);
    }
    host[len] = '\0';
    return true;
}

static bool
host_suffix_matches(const char *suffix, const char *host)
{
    size_t sl = strlen(suffix);
    size_t hl = strlen(host);

    if (hl == sl) {
        return strcmp(host, suffix) == 0;
    }
    return hl > sl && host[hl - sl - 1] == '.' &&
           strcmp(host + hl - sl, suffix) == 0;
}

/* The mailbox part of an address header's text: after the last '<' up
 * to the next '>', else the whole text. */
static void
mailbox_part(const char *v, size_t len, const char **m, size_t *ml)
{
    size_t i = len;

    while (i > 0 && v[i - 1] != '<') {
        i--;
    }
    *m = v + i;
    *ml = len - i;
    if (i > 0) {
        const char *gt = memchr(*m, '>', *ml);

        if (gt != NULL) {
            *ml = (size_t)(gt - *m);
        }
    }
}

/* The text a header entry's regex runs on: the decoded value, except
 * when RFC 2047 decoding changed the mailbox an address header holds.
 * "<x@evil.example> =?us-ascii?q?=3Cy=40partner.example=3E?=" decodes
 * to a value ending in "<y@partner.example>", which would match the
 * usual "@partner\.example>?$" entry; an encoded word is never part of
 * an address (RFC 2047 5), so that header is matched as written. */
static const char *
header_match_text(const struct mime_header *mh)
{
    static const char *const address_headers[] = {
        "From", "Sender", "Reply-To", "Return-Path", "To", "Cc"};
    const char *raw;
    size_t raw_len;
    const char *a;
    size_t al;
    const char *b;
    size_t bl;
    bool is_address = false;

    for (size_t i = 0; i < sizeof(address_headers) / sizeof(*address_headers);
         i++) {
        is_address = is_address ||
                     ieq(mh->name, strlen(mh->name), address_headers[i]);
    }
    if (!is_address) {
        return mh->value;
    }
    mime_header_addr_text(mh, &raw, &raw_len);
    if (raw == mh->value) {
        return mh->value;
    }
    mailbox_part(mh->value, mh->value_len, &a, &al);
    mailbox_part(raw, raw_len, &b, &bl);
    return al == bl && memcmp(a, b, al) == 0 ? mh->value : raw;
}

bool
whitelist_match_message(const struct whitelist *wl,
                        const struct mime_doc *doc, const char **what)
{
    char host[WHITELIST_HOST_MAX];
    bool has_host = false;
    bool is_host_read = false;

    if (wl == NULL || doc == NULL || !wl->needs_message) {
        return false;
    }
    for (size_t i = 0; i < wl->n; i++) {
        const struct whitelist_entry *e = &wl->entries[i];
        bool is_match = false;

        switch (e->kind) {
        case WHITELIST_HEADER:
            for (size_t h = 0; h < doc->n_headers && !is_match; h++) {
                const struct mime_header *mh = &doc->headers[h];

                is_match = mh->name != NULL && mh->value != NULL &&
                           ieq(mh->name, strlen(mh->name), e->text) &&
                           regex_matches(e, header_match_text(mh));
            }
            break;
        case WHITELIST_BODY:
            is_match = doc->text != NULL && regex_matches(e, doc->text);
            break;
        case WHITELIST_HOST_NAME:
            if (!is_host_read) {
                has_host = received_host(doc, host);
                is_host_read = true;
            }
            is_match = has_host && host_suffix_matches(e->text, host);
            break;
        case WHITELIST_IP:
        case WHITELIST_MAIL_FROM:
        case WHITELIST_RCPT_TO:
        case WHITELIST_HELO:
            break;
        }
        if (is_match) {
            if (what != NULL) {
                *what = e->kind == WHITELIST_HEADER ? "header"
                        : e->kind == WHITELIST_BODY ? "body"
                                                    : "host name";
            }
            return true;
        }
    }
    return false;
}
