/*
 * queuefile.c -- the envelope of a CGP queue file (SPEC §3,
 * cgp-protocol.md §2).
 *
 * A queue file is envelope lines, an empty line, then the RFC 822 message:
 *
 *   P I 17-09-2001 09:52:33 0000 ____ ____ <ann@example.org>   return path
 *   O T                                                        options
 *   S <user@example.org> SMTP [192.0.2.7]        source, auth user, peer
 *   A mx.example.org                                           (ignored)
 *   R W 17-09-2001 09:52:33 0000 ____ _FY_ <bob@example.net>   recipient
 *   <empty line>
 *   Received: ...
 *
 * An envelope line is one capital letter followed by a space or the end of
 * the line; its order is not fixed and unknown letters are skipped.  The
 * first line decides the form of the file: an envelope line, an mbox
 * "From " separator (skipped; RATE feeds such files), an RFC 822 header
 * line ("name:" with printable name bytes), or none of these, which makes
 * it binary junk (QUEUEFILE_NOT_MAIL).  In every usable form the message's
 * own header must end with an empty line inside the bytes given, or be
 * header lines only up to their end (QUEUEFILE_HEADER_TO_END: a message
 * with no body, which RFC 5322 allows; unusable only when the caller cut
 * the file, see queuefile_is_unusable); otherwise the file is
 * QUEUEFILE_NO_BLANK_LINE (a cut or corrupt file: scoring half a header
 * would be a guess).  LF and CRLF line ends are both accepted, also
 * mixed.
 *
 * Addresses are the text of the last <...> group, as CGP writes them (a
 * quoted local part may hold '<' and '>'); the peer IP is the text between the last '[' and ']' of the
 * S line, kept only if it is a valid IPv4 or IPv6 address.  A value that
 * does not fit its field or holds control bytes is dropped, never cut, so a
 * whitelist never matches a truncated address.
 *
 * State: none.  Limits: at most CAPS_ENVELOPE_LINES envelope lines are
 * parsed (later ones are only skipped to the blank line, and the envelope
 * is flagged capped),
 * CAPS_ENVELOPE_RCPTS recipients (more are counted as capped), field sizes
 * from struct envelope.  Never reads outside (p, len); every loop step
 * consumes at least one byte.  Pure; any thread.
 */
#include "queuefile.h"

#include <arpa/inet.h>
#include <string.h>

/* What the envelope walk has seen so far. */
struct qf_state {
    struct envelope *env;
    unsigned flags;
    bool has_p; /* the first P line wins */
    bool has_s; /* the first S line wins */
};

struct qf_line {
    const uint8_t *p; /* content without CR/LF */
    size_t len;
    size_t next;      /* offset just past the line's LF (or len) */
};

/* The line starting at off; off < len. */
static void
line_at(const uint8_t *p, size_t len, size_t off, struct qf_line *l)
{
    const uint8_t *lf = memchr(p + off, '\n', len - off);
    size_t end = lf != NULL ? (size_t)(lf - p) : len;

    l->p = p + off;
    l->len = end - off;
    l->next = lf != NULL ? end + 1 : len;
    if (l->len > 0 && l->p[l->len - 1] == '\r') {
        l->len--;
    }
}

static bool
is_envelope_line(const struct qf_line *l)
{
    return l->len >= 1 && l->p[0] >= 'A' && l->p[0] <= 'Z' &&
           (l->len == 1 || l->p[1] == ' ');
}

static bool
is_mbox_from(const struct qf_line *l)
{
    return l->len >= 5 && memcmp(l->p, "From ", 5) == 0;
}

/* "name:" with at least one printable, non-colon name byte. */
static bool
is_header_line(const struct qf_line *l)
{
    size_t i = 0;

    while (i < l->len && l->p[i] > 0x20 && l->p[i] < 0x7f &&
           l->p[i] != ':') {
        i++;
    }
    return i > 0 && i < l->len && l->p[i] == ':';
}

/* Copy (p, len) into dst[cap] as text; false when it does not fit or holds
 * a control byte (dst is then ""). */
static bool
copy_text(char *dst, size_t cap, const uint8_t *p, size_t len)
{
    dst[0] = '\0';
    if (len >= cap) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            return false;
        }
    }
    memcpy(dst, p, len);
    dst[len] = '\0';
    return true;
}

/*
 * The last <...> group of the line: text between its '<' and the '>'
 * that closes it.  Inside a group a quoted string ("...", with \ escapes)
 * is skipped: RFC 5321 lets a quoted local part hold '<' and '>', and
 * <"x<ceo@partner.example>"@evil.example> must not read as
 * ceo@partner.example (a mail-from whitelist match, another sender
 * domain's reputation).  A last group that never closes is no address.
 */
static bool
find_addr(const struct qf_line *l, const uint8_t **addr, size_t *addr_len)
{
    size_t start = 0;
    bool is_in_group = false;
    bool is_quoted = false;
    bool has_addr = false;

    for (size_t i = 0; i < l->len; i++) {
        uint8_t ch = l->p[i];

        if (is_quoted) {
            if (ch == '\\') {
                i++;
            } else if (ch == '"') {
                is_quoted = false;
            }
        } else if (ch == '<') {
            is_in_group = true;
            start = i + 1;
        } else if (!is_in_group) {
            continue;
        } else if (ch == '"') {
            is_quoted = true;
        } else if (ch == '>') {
            is_in_group = false;
            has_addr = true;
            *addr = l->p + start;
            *addr_len = i - start;
        }
    }
    return has_addr && !is_in_group;
}

static void
parse_p(const struct qf_line *l, struct qf_state *st)
{
    const uint8_t *a;
    size_t n;

    if (st->has_p) {
        return;
    }
    st->has_p = true;
    if (!find_addr(l, &a, &n)) {
        return;
    }
    if (copy_text(st->env->return_path, sizeof(st->env->return_path), a,
                  n)) {
        st->env->has_return_path = true;
    } else {
        st->flags |= QUEUEFILE_ENVELOPE_CAPPED;
    }
}

static void
parse_r(const struct qf_line *l, struct qf_state *st)
{
    struct envelope *env = st->env;
    const uint8_t *a;
    size_t n;

    if (!find_addr(l, &a, &n)) {
        return;
    }
    if (env->n_rcpts >= CAPS_ENVELOPE_RCPTS) {
        st->flags |= QUEUEFILE_ENVELOPE_CAPPED;
        return;
    }
    if (n == 0) {
        return;
    }
    if (copy_text(env->rcpts[env->n_rcpts], sizeof(env->rcpts[0]), a, n)) {
        env->n_rcpts++;
    } else {
        st->flags |= QUEUEFILE_ENVELOPE_CAPPED;
    }
}

/* The peer IP between the last '[' and the ']' after it, validated. */
static void
parse_peer_ip(const struct qf_line *l, struct envelope *env)
{
    const uint8_t *lb = NULL;
    const uint8_t *rb;
    const uint8_t *ip;
    size_t n;
    char text[sizeof(env->peer_ip)];
    unsigned char bin[16];

    for (size_t i = l->len; i > 0; i--) {
        if (l->p[i - 1] == '[') {
            lb = l->p + i - 1;
            break;
        }
    }
    if (lb == NULL) {
        return;
    }
    ip = lb + 1;
    rb = memchr(ip, ']', l->len - (size_t)(ip - l->p));
    if (rb == NULL) {
        return;
    }
    n = (size_t)(rb - ip);
    /* The SMTP address-literal form "[IPv6:...]". */
    if (n > 5 && (ip[0] == 'I' || ip[0] == 'i') &&
        (ip[1] == 'P' || ip[1] == 'p') && (ip[2] == 'v' || ip[2] == 'V') &&
        ip[3] == '6' && ip[4] == ':') {
        ip += 5;
        n -= 5;
    }
    if (!copy_text(text, sizeof(text), ip, n)) {
        return;
    }
    if (inet_pton(AF_INET, text, bin) != 1 &&
        inet_pton(AF_INET6, text, bin) != 1) {
        return;
    }
    memcpy(env->peer_ip, text, n + 1);
    env->has_peer_ip = true;
}

/* "S [<user>] MODULE [ip]" */
static void
parse_s(const struct qf_line *l, struct qf_state *st)
{
    struct envelope *env = st->env;
    size_t i = 1;
    size_t start;

    if (st->has_s) {
        return;
    }
    st->has_s = true;
    while (i < l->len && l->p[i] == ' ') {
        i++;
    }
    if (i < l->len && l->p[i] == '<') {
        const uint8_t *gt = memchr(l->p + i, '>', l->len - i);
        if (gt != NULL) {
            size_t n = (size_t)(gt - (l->p + i + 1));
            if (n > 0) {
                if (copy_text(env->auth_user, sizeof(env->auth_user),
                              l->p + i + 1, n)) {
                    env->is_authenticated = true;
                } else {
                    st->flags |= QUEUEFILE_ENVELOPE_CAPPED;
                }
            }
            i = (size_t)(gt - l->p) + 1;
            while (i < l->len && l->p[i] == ' ') {
                i++;
            }
        }
    }
    start = i;
    while (i < l->len && l->p[i] != ' ' && l->p[i] != '[') {
        i++;
    }
    if (i > start &&
        !copy_text(env->source, sizeof(env->source), l->p + start,
                   i - start)) {
        st->flags |= QUEUEFILE_ENVELOPE_CAPPED;
    }
    parse_peer_ip(l, env);
}

static void
parse_envelope_line(const struct qf_line *l, struct qf_state *st)
{
    switch (l->p[0]) {
    case 'P':
        parse_p(l, st);
        break;
    case 'R':
        parse_r(l, st);
        break;
    case 'S':
        parse_s(l, st);
        break;
    default:
        /* O (options), A (domain) and unknown letters carry nothing the
         * engine uses. */
        break;
    }
}

/* True when the RFC 822 header starting at off ends with an empty line
 * before len (an empty line at off itself counts: a message without a
 * header). */
static bool
header_ends(const uint8_t *p, size_t len, size_t off)
{
    /* Straight from line end to line end (a header is tens of lines):
     * only whether a line is empty matters here. */
    while (off < len) {
        const uint8_t *lf = memchr(p + off, '\n', len - off);
        size_t end = lf != NULL ? (size_t)(lf - p) : len;

        if (end == off || (end - off == 1 && p[off] == '\r')) {
            return true; /* "\n" or "\r\n" (or a lone CR at the end) */
        }
        if (lf == NULL) {
            return false;
        }
        off = end + 1;
    }
    return false;
}

/* Whether l is the header field "From:" (any case). */
static bool
is_from_field(const struct qf_line *l)
{
    static const char name[] = "from:";

    if (l->len < sizeof(name) - 1) {
        return false;
    }
    for (size_t i = 0; i < sizeof(name) - 1; i++) {
        if ((l->p[i] | 0x20) != (uint8_t)name[i]) {
            return false;
        }
    }
    return true;
}

/* Whether the bytes from off on are a message that is all header, with
 * no blank line and no body (RFC 5322 allows that): header lines only
 * ("name:" or a folded continuation of the one before) up to their end,
 * among them the From field every message has -- so a text file of
 * "key: value" lines is still not mail.  Only asked when header_ends
 * found no end, so the header lines of ordinary mail are not looked at
 * twice. */
static bool
header_runs_to_end(const uint8_t *p, size_t len, size_t off)
{
    bool is_first = true;
    bool has_from = false;

    while (off < len) {
        struct qf_line l;

        line_at(p, len, off, &l);
        if (is_header_line(&l)) {
            has_from = has_from || is_from_field(&l);
        } else if (is_first || l.len == 0 ||
                   (l.p[0] != ' ' && l.p[0] != '\t')) {
            return false;
        }
        is_first = false;
        off = l.next;
    }
    return has_from;
}

static bool
has_utf8_bom(const uint8_t *p, size_t len)
{
    return len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF;
}

/* An empty envelope without zeroing it: the recipient table alone is
 * CAPS_ENVELOPE_RCPTS * CAPS_ADDR_MAX bytes (about 21 KB), and clearing
 * it cost more per message than parsing the envelope.  Every reader goes
 * by the counts and flags, and every string starts terminated, so the
 * bytes past them are never read. */
static void
envelope_clear(struct envelope *env)
{
    env->return_path[0] = '\0';
    env->has_return_path = false;
    env->n_rcpts = 0;
    env->source[0] = '\0';
    env->auth_user[0] = '\0';
    env->is_authenticated = false;
    env->peer_ip[0] = '\0';
    env->has_peer_ip = false;
}

void
queuefile_parse(const uint8_t *p, size_t len, struct envelope *env,
                size_t *msg_off, unsigned *flags)
{
    struct qf_line l;
    struct qf_state st;
    size_t off = 0;
    size_t n_lines = 0;

    envelope_clear(env);
    memset(&st, 0, sizeof(st));
    st.env = env;
    *msg_off = 0;
    if (p == NULL || len == 0) {
        *flags = QUEUEFILE_EMPTY;
        return;
    }
    /* A .eml saved by a Windows editor may start with a UTF-8 byte order
     * mark, which RFC 5322 has no place for: the header starts after it.
     * Only a header may follow (CGP's queue files and mbox have none). */
    off = has_utf8_bom(p, len) ? 3 : 0;
    line_at(p, len, off, &l);
    if (off > 0) {
        if (!is_header_line(&l)) {
            *flags = QUEUEFILE_NOT_MAIL;
            return;
        }
    } else if (is_mbox_from(&l)) {
        st.flags |= QUEUEFILE_MBOX_FROM;
        off = l.next;
    } else if (is_envelope_line(&l)) {
        st.flags |= QUEUEFILE_HAS_ENVELOPE;
        for (;;) {
            if (off >= len) {
                st.flags |= QUEUEFILE_NO_BLANK_LINE;
                break;
            }
            line_at(p, len, off, &l);
            if (l.len == 0) {
                off = l.next;
                break;
            }
            if (!is_envelope_line(&l)) {
                /* A header where the envelope should end: the blank line
                 * between them is missing. */
                st.flags |= QUEUEFILE_NO_BLANK_LINE;
                break;
            }
            /* Past the cap a line is skipped, not parsed: a message to
             * thousands of recipients (a list expansion, a mass-Bcc spam
             * run) is still scored, on the envelope seen so far.  The
             * walk stays bounded by the bytes read. */
            if (n_lines == CAPS_ENVELOPE_LINES) {
                st.flags |= QUEUEFILE_ENVELOPE_CAPPED;
            } else {
                n_lines++;
                parse_envelope_line(&l, &st);
            }
            off = l.next;
        }
    } else if (!is_header_line(&l)) {
        *flags = QUEUEFILE_NOT_MAIL;
        return;
    }
    if ((st.flags & QUEUEFILE_NO_BLANK_LINE) == 0 &&
        !header_ends(p, len, off)) {
        st.flags |= header_runs_to_end(p, len, off) ? QUEUEFILE_HEADER_TO_END
                                                    : QUEUEFILE_NO_BLANK_LINE;
    }
    *msg_off = off;
    *flags = st.flags;
}

size_t
queuefile_read_max(size_t max_msg)
{
    return max_msg + CAPS_ENVELOPE_MAX_BYTES;
}

size_t
queuefile_envelope_len(const uint8_t *p, size_t len)
{
    struct qf_line l;
    size_t off = 0;

    if (p == NULL || len == 0) {
        return 0;
    }
    line_at(p, len, 0, &l);
    if (!is_envelope_line(&l)) {
        return 0;
    }
    while (off < len) {
        line_at(p, len, off, &l);
        if (l.len == 0) {
            return l.next;
        }
        if (!is_envelope_line(&l)) {
            return off;
        }
        off = l.next;
    }
    return len;
}

bool
queuefile_cut_message(uint8_t *p, size_t *len, size_t max_msg)
{
    size_t keep = queuefile_envelope_len(p, *len) + max_msg;

    if (keep >= *len) {
        return false;
    }
    *len = keep;
    p[keep] = '\0';
    return true;
}

bool
queuefile_is_unusable(unsigned flags, bool is_truncated, const char **why)
{
    const char *reason = NULL;

    if (flags & QUEUEFILE_EMPTY) {
        reason = "empty file";
    } else if (flags & QUEUEFILE_NOT_MAIL) {
        reason = "not a mail file";
    } else if ((flags & QUEUEFILE_NO_BLANK_LINE) != 0 && is_truncated) {
        /* The bytes read ended first: a header (or envelope) longer than
         * the limit, which is not a file without its blank line. */
        reason = "no blank line in the bytes read (envelope or header "
                 "longer than Max_Body_Length allows)";
    } else if (flags & QUEUEFILE_NO_BLANK_LINE) {
        reason = "no blank line after the envelope or header";
    } else if ((flags & QUEUEFILE_HEADER_TO_END) != 0 && is_truncated) {
        /* Cut inside the header: scoring half a header would be a guess. */
        reason = "header longer than the bytes read (Max_Body_Length)";
    }
    if (reason == NULL) {
        return false;
    }
    if (why != NULL) {
        *why = reason;
    }
    return true;
}
