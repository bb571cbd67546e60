/*
 * url.c -- URL finding, host extraction and registered domains (url.h).
 *
 * DESIGN
 * - url_find scans plain text once for "http://", "https://" and "www."
 *   at word starts, found by their ':' and '.' (url_next_anchor).  A
 *   URL ends at a blank, a control byte or one of <>"`; trailing
 *   sentence punctuation is trimmed afterwards.  Bytes
 *   >= 0x80 are kept so IDN hosts and paths survive.
 * - url_host follows what browsers do with hostile input rather than what
 *   RFC 3986 allows: any number of '/' or '\' after "http:", userinfo up
 *   to the LAST '@' of the authority (which ends only at '/', '\', '?'
 *   or '#': a quote or blank before the '@' is userinfo too), %XX in
 *   the host decoded, an IPv6 literal in its one serialised form, every
 *   inet_aton spelling of an IPv4 address normalised to dotted decimal
 *   (WHATWG URL 3.5: a host whose last label is numeric is an address),
 *   and a host with non-ASCII bytes turned into the ASCII name a browser
 *   looks up (UTS #46 with libidn2: "B\u00dccher" -> "xn--bcher-kva"), so
 *   one site has one host however its link spells it.
 * - url_registered_domain uses a built-in table of multi-label public
 *   suffixes (a few hundred common ones, see url.h: not the PSL), looked
 *   up by hash on the last two and three labels.
 * State: the table's hash set, built once on first use (pthread_once)
 *   and read-only after.  Limits: hosts longer than URL_HOST_MAX_BYTES are
 * refused; everything else is bounded by the caller's lengths.
 */
#include "url.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bytetable.h"
#include "swar.h"

static uint8_t
url_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool
url_is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

/* Bytes that end a URL in plain text: one table lookup per byte of a
 * URL rather than six compares.  Built at compile time. */
#define URL_STOP(c)                                                        \
    ((c) <= ' ' || (c) == 0x7F || (c) == '<' || (c) == '>' || (c) == '"' || \
     (c) == '`')
static const bool url_stop[256] = {BYTETABLE(URL_STOP)};

static bool
url_text_stop(uint8_t c)
{
    return url_stop[c];
}

static bool
ci_prefix(const char *p, size_t len, const char *lit)
{
    size_t n = strlen(lit);

    if (len < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (url_lower((uint8_t)p[i]) != (uint8_t)lit[i]) {
            return false;
        }
    }
    return true;
}

/* Occurrences of c in the n bytes at p. */
static size_t
count_byte(const char *p, size_t n, char c)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        k += p[i] == c;
    }
    return k;
}

/* Length of a URL candidate at p (scheme or "www." already checked). */
static size_t
url_extent(const char *p, size_t len)
{
    size_t n = 0;
    size_t end;
    bool is_counted = false;
    size_t opens = 0;
    size_t closes = 0;
    size_t bopens = 0;
    size_t bcloses = 0;

    while (n < len && !url_text_stop((uint8_t)p[n])) {
        n++;
    }
    end = n;
    /* Trim sentence punctuation; keep a ')' or ']' that closes one opened
     * inside the URL (Wikipedia-style paths).  The brackets of the whole
     * candidate are counted only when one ends it (issue #7: counting
     * them on the way cost more than finding the end). */
    while (n > 0) {
        char c = p[n - 1];
        if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' ||
            c == '?' || c == '\'' || c == '*') {
            n--;
            continue;
        }
        if (c != ')' && c != ']') {
            break;
        }
        if (!is_counted) {
            opens = count_byte(p, end, '(');
            closes = count_byte(p, end, ')');
            bopens = count_byte(p, end, '[');
            bcloses = count_byte(p, end, ']');
            is_counted = true;
        }
        if (c == ')' && closes > opens) {
            closes--;
            n--;
        } else if (c == ']' && bcloses > bopens) {
            bcloses--;
            n--;
        } else {
            break;
        }
    }
    return n;
}

/* First index >= k of byte c in text, or text_len. */
static size_t
url_next_byte(const char *text, size_t text_len, size_t k, char c)
{
    const char *q = memchr(text + k, c, text_len - k);

    return q != NULL ? (size_t)(q - text) : text_len;
}

/*
 * The next ':' and the next '.' at or after the scan position: the
 * anchors of the three URL prefixes (the ':' of "http://" and
 * "https://", the '.' of "www.").  Looking for them rather than for the
 * 'h' and 'w' the prefixes start with stops far less often in running
 * text, where most words hold an 'h' or a 'w'; keeping each one until
 * the scan passes it lets memchr find both, a run of text without
 * either costing no more than memchr's pass over it (issue #7).
 */
struct url_anchors {
    size_t colon;
    size_t dot;
};

static void
url_anchors_init(struct url_anchors *a, const char *text, size_t text_len,
                 size_t k)
{
    a->colon = url_next_byte(text, text_len, k, ':');
    a->dot = url_next_byte(text, text_len, k, '.');
}

/* First index >= k of a ':' or '.', or text_len. */
static size_t
url_next_anchor(struct url_anchors *a, const char *text, size_t text_len,
                size_t k)
{
    if (a->colon < k) {
        a->colon = url_next_byte(text, text_len, k, ':');
    }
    if (a->dot < k) {
        a->dot = url_next_byte(text, text_len, k, '.');
    }
    return a->colon < a->dot ? a->colon : a->dot;
}

/* The URL prefix whose anchor is at k (k < text_len): its start and its
 * length, or false when none ends there. */
static bool
url_prefix_at(const char *text, size_t text_len, size_t k, size_t *start,
              size_t *skip)
{
    if (text[k] == '.') {
        if (k >= 3 && ci_prefix(text + k - 3, text_len - (k - 3), "www.")) {
            *start = k - 3;
            *skip = 4;
            return true;
        }
        return false;
    }
    if (k >= 4 && ci_prefix(text + k - 4, text_len - (k - 4), "http://")) {
        *start = k - 4;
        *skip = 7;
        return true;
    }
    if (k >= 5 && ci_prefix(text + k - 5, text_len - (k - 5), "https://")) {
        *start = k - 5;
        *skip = 8;
        return true;
    }
    return false;
}

/*
 * Every position where a prefix starts is reached through its anchor, in
 * text order (two prefixes cannot overlap so that their anchors come in
 * the other order), and no prefix starts inside another one, so going
 * on after a rejected one from the next anchor finds what going on from
 * the byte after it (or after the whole prefix) did.
 */
bool
url_find(const char *text, size_t text_len, size_t *pos, size_t *start,
         size_t *len)
{
    size_t k = *pos;
    struct url_anchors a;

    if (k >= text_len) {
        *pos = text_len;
        return false;
    }
    url_anchors_init(&a, text, text_len, k);
    while (k < text_len) {
        size_t i;
        size_t skip;
        size_t n;

        k = url_next_anchor(&a, text, text_len, k);
        if (k >= text_len) {
            break;
        }
        if (!url_prefix_at(text, text_len, k, &i, &skip) || i < *pos) {
            k++;
            continue;
        }
        /* A prefix glued to a word, a domain or a path is not a URL
         * start ("xhttp://", "a.www.b"). */
        if (i > 0 && (url_is_alnum((uint8_t)text[i - 1]) ||
                      text[i - 1] == '.' || text[i - 1] == '/')) {
            k++;
            continue;
        }
        if (i + skip >= text_len || url_text_stop((uint8_t)text[i + skip]) ||
            text[i + skip] == '.' || text[i + skip] == '/') {
            k++;
            continue;
        }
        n = url_extent(text + i, text_len - i);
        if (n <= skip) {
            k++;
            continue;
        }
        *start = i;
        *len = n;
        *pos = i + n;
        return true;
    }
    *pos = text_len;
    return false;
}

/* One inet_aton part: decimal, 0-octal or 0x-hex, value <= max. */
static bool
ipv4_part(const char *s, size_t n, uint32_t max, uint32_t *out, bool *is_odd)
{
    uint64_t v = 0;
    unsigned base = 10;
    size_t i = 0;

    if (n == 0) {
        return false;
    }
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
        *is_odd = true;
        if (n == 2) {
            return false;
        }
    } else if (n >= 2 && s[0] == '0') {
        base = 8;
        i = 1;
        *is_odd = true;
    }
    for (; i < n; i++) {
        uint8_t c = url_lower((uint8_t)s[i]);
        unsigned d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (base == 16 && c >= 'a' && c <= 'f') {
            d = c - 'a' + 10u;
        } else {
            return false;
        }
        if (d >= base) {
            return false;
        }
        v = v * base + d;
        if (v > max) {
            return false;
        }
    }
    *out = (uint32_t)v;
    return true;
}

bool
url_parse_ipv4(const char *s, size_t len, uint32_t *addr, bool *is_odd)
{
    uint32_t parts[4];
    size_t n_parts = 0;
    size_t i = 0;
    bool odd = false;
    uint32_t v;

    /* Every part starts with a digit (decimal, 0-octal, 0x-hex): a host
     * name fails here, before the parts are walked. */
    if (len == 0 || len > 64 || s[0] < '0' || s[0] > '9') {
        return false;
    }
    while (i <= len) {
        size_t j = i;
        uint32_t max;
        while (j < len && s[j] != '.') {
            j++;
        }
        if (n_parts == 4) {
            return false;
        }
        max = 0xFFFFFFFFu;
        if (!ipv4_part(s + i, j - i, max, &parts[n_parts], &odd)) {
            return false;
        }
        n_parts++;
        i = j + 1;
    }
    /* All parts but the last are bytes; the last fills what is left. */
    for (size_t k = 0; k + 1 < n_parts; k++) {
        if (parts[k] > 255) {
            return false;
        }
    }
    switch (n_parts) {
    case 1:
        v = parts[0];
        odd = true;
        break;
    case 2:
        if (parts[1] > 0xFFFFFFu) {
            return false;
        }
        v = (parts[0] << 24) | parts[1];
        odd = true;
        break;
    case 3:
        if (parts[2] > 0xFFFFu) {
            return false;
        }
        v = (parts[0] << 24) | (parts[1] << 16) | parts[2];
        odd = true;
        break;
    default:
        if (parts[3] > 255) {
            return false;
        }
        v = (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3];
        break;
    }
    *addr = v;
    *is_odd = odd;
    return true;
}

bool
url_host_is_ip(const char *host, size_t host_len)
{
    uint32_t a;
    bool is_odd = false;

    if (host_len > 0 && host[0] == '[') {
        return true;
    }
    return url_parse_ipv4(host, host_len, &a, &is_odd) && !is_odd;
}

/* Dotted decimal of addr into out (at least 16 bytes); returns length. */
static size_t
ipv4_format(uint32_t addr, char *out)
{
    size_t o = 0;

    for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned b = (addr >> shift) & 0xFFu;
        if (b >= 100) {
            out[o++] = (char)('0' + b / 100);
        }
        if (b >= 10) {
            out[o++] = (char)('0' + (b / 10) % 10);
        }
        out[o++] = (char)('0' + b % 10);
        if (shift > 0) {
            out[o++] = '.';
        }
    }
    out[o] = '\0';
    return o;
}

/* Bytes that end an authority, and bytes of a scheme after its first:
 * one table lookup per byte rather than a compare per byte value that
 * could match.  Built at compile time. */
#define URL_AUTH_STOP(c)                                                   \
    ((c) == '/' || (c) == '\\' || (c) == '?' || (c) == '#' || (c) <= ' ' ||  \
     (c) == '<' || (c) == '>' || (c) == '"' || (c) == '\'' || (c) == 0x7F)
#define URL_SCHEME_BYTE(c)                                                 \
    (((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z') ||          \
     ((c) >= 'A' && (c) <= 'Z') || (c) == '+' || (c) == '-' || (c) == '.')
/* Bytes a browser ends an authority at (WHATWG URL, special schemes):
 * a quote, blank or '<' before them is still userinfo when an '@'
 * follows, so only url_host's host scan stops there.  Control bytes end
 * it too: hrefs arrive without them and text URLs end before them. */
#define URL_AUTH_END(c)                                                    \
    ((c) == '/' || (c) == '\\' || (c) == '?' || (c) == '#' || (c) < ' ' ||   \
     (c) == 0x7F)
#define URL_ABYTE(c)                                                       \
    (uint8_t)((URL_AUTH_STOP(c) ? 1u : 0u) | (URL_SCHEME_BYTE(c) ? 2u : 0u) | \
              (URL_AUTH_END(c) ? 4u : 0u))
static const uint8_t url_abyte[256] = {BYTETABLE(URL_ABYTE)};

#define URL_AB_STOP 1u
#define URL_AB_SCHEME 2u
#define URL_AB_END 4u

static bool
url_scheme_byte(uint8_t c)
{
    return (url_abyte[c] & URL_AB_SCHEME) != 0;
}

static bool
url_authority_end(uint8_t c)
{
    return (url_abyte[c] & URL_AB_END) != 0;
}

/* Index of the last byte c in p[from, to), or SIZE_MAX: memchr from one
 * to the next, as most authorities hold no '@' and most hosts no ':'
 * (issue #7: a byte loop over each was most of url_host). */
static size_t
url_last_byte(const char *p, size_t from, size_t to, char c)
{
    size_t last = SIZE_MAX;
    const char *q;

    while (from < to && (q = memchr(p + from, c, to - from)) != NULL) {
        last = (size_t)(q - p);
        from = last + 1;
    }
    return last;
}

/* First index in p[from, to) of a byte whose url_abyte has a bit of
 * mask, or to. */
static size_t
url_scan_to(const char *p, size_t from, size_t to, uint8_t mask)
{
    while (from < to && (url_abyte[(uint8_t)p[from]] & mask) == 0) {
        from++;
    }
    return from;
}

/* Locate where the authority of url starts; false when it has none.
 * Its end (url_authority_end) is found by the caller, *a_end left
 * SIZE_MAX, except for a mailto: URL, whose "authority" is the domain
 * of its address. */
static bool
url_authority_head(const char *u, size_t n, size_t *a_start, size_t *a_end,
                   unsigned *flags)
{
    size_t i = 0;
    size_t s;

    while (i < n && ((uint8_t)u[i] <= ' ')) {
        i++;
    }
    u += i;
    n -= i;
    s = 0;
    if (n > 0 && ((u[0] >= 'a' && u[0] <= 'z') ||
                  (u[0] >= 'A' && u[0] <= 'Z'))) {
        size_t k = 1;
        while (k < n && k < 32 && url_scheme_byte((uint8_t)u[k])) {
            k++;
        }
        /* "www.host:8080" is a host and port, not a scheme (scheme bytes
         * include '.'): without this a short one lost its host.  The
         * '.' is tested first, so an "http:" URL pays one compare. */
        if (k < n && u[k] == ':' &&
            !(k > 3 && u[3] == '.' && ci_prefix(u, n, "www."))) {
            bool is_special = (k == 4 && ci_prefix(u, n, "http")) ||
                              (k == 5 && ci_prefix(u, n, "https")) ||
                              (k == 3 && ci_prefix(u, n, "ftp")) ||
                              (k == 2 && ci_prefix(u, n, "ws")) ||
                              (k == 3 && ci_prefix(u, n, "wss"));
            if (k == 6 && ci_prefix(u, n, "mailto")) {
                size_t at = 0;
                size_t e = k + 1;
                while (e < n && u[e] != '?' && u[e] != '>' && u[e] != ',' &&
                       (uint8_t)u[e] > ' ') {
                    if (u[e] == '@') {
                        at = e;
                    }
                    e++;
                }
                if (at == 0) {
                    return false;
                }
                *flags |= URL_IS_MAILTO;
                *a_start = i + at + 1;
                *a_end = i + e;
                return true;
            }
            s = k + 1;
            if (is_special) {
                while (s < n && (u[s] == '/' || u[s] == '\\')) {
                    s++;
                }
            } else if (s + 1 < n && u[s] == '/' && u[s + 1] == '/') {
                s += 2;
            } else {
                return false; /* javascript:, data:, cid:, tel: ... */
            }
        } else if (!ci_prefix(u, n, "www.")) {
            return false; /* relative reference */
        }
    } else if (n >= 2 && (u[0] == '/' || u[0] == '\\') &&
               (u[1] == '/' || u[1] == '\\')) {
        s = 2;
    } else {
        return false;
    }
    *a_start = i + s;
    *a_end = SIZE_MAX;
    return true;
}

/* Locate the authority of url (up to url_authority_end, userinfo
 * included); false when it has none. */
static bool
url_authority(const char *u, size_t n, size_t *a_start, size_t *a_end,
              unsigned *flags)
{
    if (!url_authority_head(u, n, a_start, a_end, flags)) {
        return false;
    }
    if (*a_end == SIZE_MAX) {
        *a_end = url_scan_to(u, *a_start, n, URL_AB_END);
    }
    return true;
}

static int
hexval(uint8_t c)
{
    c = url_lower(c);
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* WHATWG URL: a host whose last label is a number is an IPv4 address. */
static bool
last_label_numeric(const char *h, size_t n)
{
    size_t k = n;
    bool is_hex;

    while (k > 0 && h[k - 1] != '.') {
        k--;
    }
    if (k == n) {
        return false;
    }
    is_hex = n - k > 2 && h[k] == '0' && h[k + 1] == 'x';
    for (size_t i = is_hex ? k + 2 : k; i < n; i++) {
        if (!(h[i] >= '0' && h[i] <= '9') &&
            !(is_hex && hexval((uint8_t)h[i]) >= 0)) {
            return false;
        }
    }
    return true;
}

/* The ASCII byte a browser reads for the three-byte UTF-8 sequence at
 * p (UTS #46 mapping, which WHATWG URL applies to every host): the
 * ideographic, fullwidth and halfwidth full stops are '.', a fullwidth
 * letter, digit or hyphen its ASCII twin (lower case); 0 otherwise. */
static char
wide_host_byte(const uint8_t *p)
{
    unsigned cp;

    if ((p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x82) ||
        (p[0] == 0xEF && p[1] == 0xBD && p[2] == 0xA1)) {
        return '.'; /* U+3002, U+FF61 */
    }
    if (p[0] != 0xEF || (p[1] != 0xBC && p[1] != 0xBD) ||
        (p[2] & 0xC0) != 0x80) {
        return 0;
    }
    cp = 0xF000u | (unsigned)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    if (cp == 0xFF0E) {
        return '.';
    }
    if (cp < 0xFF01 || cp > 0xFF5E) {
        return 0;
    }
    cp -= 0xFEE0u; /* the ASCII code point */
    if (!url_is_alnum((uint8_t)cp) && cp != '-') {
        return 0;
    }
    return (char)url_lower((uint8_t)cp);
}

/*
 * Fold the wide forms of a host's dots, letters and digits in h (n
 * bytes) to ASCII, in place; the new length.  A browser opens
 * "evil\u3002example" and "\uff50aypal.com" as evil.example and
 * paypal.com: read raw, the first was one label and the second another
 * name, so link host reputation, registered domains and the look-alike
 * checks never saw the host the reader is sent to.
 */
static size_t
fold_wide_host(char *h, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n;) {
        char c = i + 2 < n ? wide_host_byte((const uint8_t *)h + i) : 0;

        if (c != 0) {
            h[o++] = c;
            i += 3;
        } else {
            h[o++] = h[i++];
        }
    }
    return o;
}

/*
 * A bracketed IPv6 host (h, n bytes with its brackets) rewritten in
 * place as WHATWG URL 3.7 serialises it: lower-case hex pieces without
 * leading zeros, the first longest run of two or more zero pieces as
 * "::", an IPv4 tail as two pieces.  "[0:0::1]", "[::0001]" and
 * "[::1]" open one host; read raw they were three to reputation lists
 * and fingerprints.  What inet_pton refuses (not an address: a browser
 * refuses the URL) stays as written.  Returns the new length; out
 * holds at least URL_IPV6_TEXT_MAX bytes.
 */
#define URL_IPV6_TEXT_MAX 48u
static size_t
ipv6_canonical(char *h, size_t n)
{
    char in[URL_IPV6_TEXT_MAX];
    unsigned char a[16];
    unsigned piece[8];
    size_t best = 8;
    size_t best_len = 1;
    size_t o = 0;

    if (n < 3 || n - 2 >= sizeof(in) || h[n - 1] != ']') {
        return n;
    }
    memcpy(in, h + 1, n - 2);
    in[n - 2] = '\0';
    if (inet_pton(AF_INET6, in, a) != 1) {
        return n;
    }
    for (size_t i = 0; i < 8; i++) {
        piece[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    }
    for (size_t i = 0; i < 8;) {
        size_t k = i;
        while (k < 8 && piece[k] == 0) {
            k++;
        }
        if (k - i > best_len) {
            best = i;
            best_len = k - i;
        }
        i = k > i ? k : i + 1;
    }
    h[o++] = '[';
    for (size_t i = 0; i < 8; i++) {
        static const char hex[] = "0123456789abcdef";
        bool is_lead = true;

        if (i == best) {
            h[o++] = ':';
            if (i == 0) {
                h[o++] = ':';
            }
            i += best_len - 1;
            continue;
        }
        for (int shift = 12; shift >= 0; shift -= 4) {
            unsigned d = (piece[i] >> shift) & 0xFu;
            if (d != 0 || shift == 0 || !is_lead) {
                h[o++] = hex[d];
                is_lead = false;
            }
        }
        if (i < 7) {
            h[o++] = ':';
        }
    }
    h[o++] = ']';
    h[o] = '\0';
    return o;
}

/* See url.h.  libidn2 allocates its result: this runs only for the
 * rare non-ASCII host. */
size_t
url_host_to_ascii(char *out, size_t n, size_t out_max)
{
    char *ascii = NULL;
    size_t al;
    bool is_ascii = true;

    for (size_t i = 0; i < n && is_ascii; i++) {
        is_ascii = (uint8_t)out[i] < 0x80;
    }
    if (is_ascii || idn2_to_ascii_8z(out, &ascii, IDN2_NFC_INPUT |
                                                      IDN2_NONTRANSITIONAL) !=
                        IDN2_OK) {
        return n;
    }
    al = strlen(ascii);
    if (al > 0 && al < out_max && al <= URL_HOST_MAX_BYTES) {
        memcpy(out, ascii, al + 1);
        n = al;
    }
    idn2_free(ascii);
    return n;
}

size_t
url_userinfo_host(const char *url, size_t url_len, char *out,
                  size_t out_max)
{
    size_t as;
    size_t ae;
    size_t at = SIZE_MAX;
    size_t n = 0;
    bool dot = false;
    unsigned f = 0;

    if (!url_authority(url, url_len, &as, &ae, &f) ||
        (f & URL_IS_MAILTO) != 0) {
        return 0;
    }
    for (size_t k = as; k < ae; k++) {
        if (url[k] == '@') {
            at = k;
        }
    }
    for (size_t k = as; at != SIZE_MAX && k < at && url[k] != ':'; k++) {
        char c = url[k];

        if (c >= 'A' && c <= 'Z') {
            c = (char)(c + 32);
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-') ||
            n + 1 >= out_max) {
            return 0;
        }
        dot |= c == '.';
        out[n++] = c;
    }
    while (n > 0 && out[n - 1] == '.') {
        n--;
    }
    if (!dot || n == 0) {
        return 0;
    }
    out[n] = '\0';
    return n;
}

/*
 * The n host bytes at h lower-cased into out (*o bytes, the OR of the
 * bytes into *high) when they fit and none is a '%' -- nearly every
 * host: one pass that neither tests for an escape nor checks the room
 * per byte (issue #7: url_host's byte loop was most of its cost).
 * False when a byte is a '%' or the bytes may not fit: the caller then
 * copies them with the escape-decoding loop, from the start.
 */
static bool
copy_plain_host(const char *h, size_t n, char *out, size_t out_max,
                size_t *o, uint8_t *high)
{
    uint64_t pct = 0; /* not 0: a byte was a '%' */
    uint64_t acc = 0;
    uint8_t last = 0;
    size_t k = 0;

    /* The escape loop gives up at the byte that would leave no room for
     * the NUL or pass URL_HOST_MAX_BYTES: n bytes fit when this holds. */
    if (n >= out_max || n > URL_HOST_MAX_BYTES) {
        return false;
    }
    /* Eight bytes per step: swar_lower, and swar_eq_lowest for a '%'
     * (exact for "any", all that is asked). */
    for (; n - k >= 8; k += 8) {
        uint64_t x = swar_load(h + k);

        pct |= swar_eq_lowest(x, '%');
        acc |= x;
        x = swar_lower(x);
        memcpy(out + k, &x, sizeof(x));
    }
    for (; k < n; k++) {
        uint8_t c = (uint8_t)h[k];

        last |= c;
        pct |= c == '%';
        out[k] = (char)url_lower(c);
    }
    if (pct != 0) {
        return false;
    }
    acc |= acc >> 32;
    acc |= acc >> 16;
    acc |= acc >> 8;
    last |= (uint8_t)acc;
    *o = n;
    *high = last;
    return true;
}

/*
 * The host bytes url[hs, he) into out as copy_plain_host does, each
 * %XX escape decoded (URL_PCT_HOST into *f) and the copy ended at an
 * escaped control byte.  False when they do not fit.
 */
static bool
copy_escaped_host(const char *url, size_t hs, size_t he, char *out,
                  size_t out_max, size_t *o, uint8_t *high, unsigned *f)
{
    size_t n = 0;
    uint8_t acc = 0;

    for (size_t k = hs; k < he; k++) {
        uint8_t c = (uint8_t)url[k];
        if (c == '%' && k + 2 < he) {
            int hi = hexval((uint8_t)url[k + 1]);
            int lo = hexval((uint8_t)url[k + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (uint8_t)(hi * 16 + lo);
                k += 2;
                *f |= URL_PCT_HOST;
                if (c < ' ' || c == 0x7F) {
                    break;
                }
            }
        }
        if (n + 1 >= out_max || n >= URL_HOST_MAX_BYTES) {
            return false;
        }
        acc |= c;
        out[n++] = (char)url_lower(c);
    }
    *o = n;
    *high = acc;
    return true;
}

size_t
url_host(const char *url, size_t url_len, char *out, size_t out_max,
         unsigned *flags)
{
    size_t read_to;

    return url_host_read(url, url_len, out, out_max, flags, &read_to);
}

size_t
url_host_read(const char *url, size_t url_len, char *out, size_t out_max,
              unsigned *flags, size_t *read_to)
{
    size_t as;
    size_t ae;
    size_t hs;
    size_t he;
    size_t o = 0;
    unsigned f = 0;
    uint32_t addr;
    bool is_odd = false;
    uint8_t high = 0; /* the OR of the host's bytes: 0x80 set if any is */

    *read_to = url_len;
    if (out_max == 0) {
        return 0;
    }
    out[0] = '\0';
    if (!url_authority_head(url, url_len, &as, &ae, &f)) {
        return 0;
    }
    /* The host ends at the first blank, quote or bracket after the
     * userinfo too: "http://a.example's" is a.example.  So no byte of
     * it is a control byte, a blank or DEL: only a %XX can make one.
     * Every byte that ends the authority ends the host too, so the
     * first such stop after its start is also the authority's end when
     * it is an end byte: one scan finds both for nearly every URL (one
     * without an '@'), not one for each (issue #7). */
    he = url_scan_to(url, as, ae != SIZE_MAX ? ae : url_len, URL_AB_STOP);
    if (ae == SIZE_MAX) {
        ae = he < url_len && !url_authority_end((uint8_t)url[he])
                 ? url_scan_to(url, he, url_len, URL_AB_END)
                 : he;
    }
    /* Nothing past the authority's end is read below: the scheme and
     * the slashes came before its start, and every scan of the host
     * stops at its end. */
    *read_to = ae;
    hs = as;
    if (!(f & URL_IS_MAILTO)) {
        size_t at = url_last_byte(url, as, ae, '@');

        if (at != SIZE_MAX) {
            hs = at + 1;
            f |= URL_HAS_USERINFO;
            he = url_scan_to(url, hs, ae, URL_AB_STOP);
        }
    }
    if (hs < he && url[hs] == '[') {
        size_t k = hs;
        while (k < he && url[k] != ']') {
            k++;
        }
        if (k < he) {
            k++;
        }
        if (k < he && url[k] == ':') {
            f |= URL_HAS_PORT;
        }
        he = k;
        f |= URL_IS_IP;
    } else {
        size_t colon = url_last_byte(url, hs, he, ':');

        if (colon != SIZE_MAX) {
            he = colon;
            f |= URL_HAS_PORT;
        }
    }
    if (!copy_plain_host(url + hs, he - hs, out, out_max, &o, &high) &&
        !copy_escaped_host(url, hs, he, out, out_max, &o, &high, &f)) {
        out[0] = '\0';
        return 0;
    }
    /* Wide forms and IDNA concern non-ASCII hosts only: an ASCII one
     * (nearly every host) skips both walks (issue #7). */
    if ((high & 0x80u) != 0) {
        o = fold_wide_host(out, o);
    }
    while (o > 0 && out[o - 1] == '.') {
        o--;
    }
    out[o] = '\0';
    if ((f & URL_IS_IP) && out_max >= URL_IPV6_TEXT_MAX) {
        o = ipv6_canonical(out, o);
    }
    if ((high & 0x80u) != 0) {
        o = url_host_to_ascii(out, o, out_max);
    }
    if (o > 0 && !(f & URL_IS_IP) && last_label_numeric(out, o) &&
        url_parse_ipv4(out, o, &addr, &is_odd)) {
        f |= URL_IS_IP;
        if (is_odd) {
            f |= URL_IS_ODD_IP;
        }
        if (out_max >= 16) {
            o = ipv4_format(addr, out);
        }
    }
    *flags |= f;
    return o;
}

/* Multi-label public suffixes, sorted for the reader (the lookup below
 * hashes them and does not need the order). */
static const char *const url_suffixes[] = {
    "000webhostapp.com", "ab.ca", "ac.ae", "ac.at", "ac.be", "ac.cn", "ac.cy",
    "ac.id", "ac.il", "ac.in", "ac.ir", "ac.jp", "ac.ke", "ac.kr", "ac.ma",
    "ac.nz", "ac.th", "ac.uk", "ac.za", "ad.jp", "adv.br", "appspot.com",
    "art.br", "asn.au", "asso.fr", "av.tr", "azurewebsites.net", "bc.ca",
    "bel.tr", "biz.id", "biz.pl", "biz.tr", "blog.br", "blogspot.com",
    "br.com", "cloudfront.net", "cn.com", "co.ae", "co.at", "co.ci", "co.cm",
    "co.com", "co.cr", "co.hu", "co.id", "co.il", "co.in", "co.ir", "co.jp",
    "co.ke", "co.kr", "co.ma", "co.mz", "co.nz", "co.om", "co.rs", "co.th",
    "co.tt", "co.tz", "co.ug", "co.uk", "co.uz", "co.za", "co.zm", "co.zw",
    "com.af", "com.al", "com.ar", "com.au", "com.ba", "com.bd", "com.bh",
    "com.bn", "com.bo", "com.br", "com.by", "com.cn", "com.co", "com.cu",
    "com.cy", "com.do", "com.dz", "com.ec", "com.eg", "com.es", "com.fj",
    "com.ge", "com.gh", "com.gr", "com.gt", "com.hk", "com.hn", "com.hr",
    "com.jm", "com.jo", "com.kg", "com.kh", "com.kw", "com.kz", "com.lb",
    "com.lk", "com.mk", "com.mm", "com.mt", "com.mv", "com.mx", "com.my",
    "com.ng", "com.ni", "com.np", "com.om", "com.pa", "com.pe", "com.pg",
    "com.ph", "com.pk", "com.pl", "com.pr", "com.pt", "com.py", "com.qa",
    "com.ro", "com.ru", "com.sa", "com.sg", "com.sv", "com.tj", "com.tn",
    "com.tr", "com.tw", "com.ua", "com.uy", "com.uz", "com.ve", "com.vn",
    "ddns.net", "de.com", "duckdns.org", "eco.br", "ed.jp", "edu.ar", "edu.au",
    "edu.br", "edu.cn", "edu.co", "edu.eg", "edu.es", "edu.gr", "edu.hk",
    "edu.in", "edu.mt", "edu.mx", "edu.my", "edu.ng", "edu.pe", "edu.ph",
    "edu.pk", "edu.pl", "edu.pt", "edu.rs", "edu.sa", "edu.sg", "edu.tr",
    "edu.tw", "edu.ua", "edu.uy", "edu.vn", "edu.za", "eng.br", "eu.com",
    "firebaseapp.com", "firm.in", "gb.net", "geek.nz", "gen.in", "gen.nz",
    "gen.tr", "github.io", "githubusercontent.com", "glitch.me", "go.id",
    "go.jp", "go.ke", "go.kr", "go.th", "gob.ar", "gob.es", "gob.mx", "gob.pe",
    "gouv.fr", "gov.ae", "gov.ar", "gov.au", "gov.br", "gov.cn", "gov.co",
    "gov.eg",
    "gov.gr", "gov.hk", "gov.il", "gov.in", "gov.ir", "gov.it", "gov.ma",
    "gov.my", "gov.ng", "gov.ph", "gov.pk", "gov.pl", "gov.pt", "gov.sa",
    "gov.sg", "gov.tr", "gov.tw", "gov.ua", "gov.uk", "gov.vn", "gov.za",
    "govt.nz", "gr.jp", "gub.uy", "gv.at", "herokuapp.com", "hopto.org",
    "id.au", "idv.hk", "idv.tw", "in.rs", "in.th", "in.ua", "ind.br", "ind.in",
    "inf.br", "info.hu", "info.pl", "info.ro", "info.tr", "int.ar", "jpn.com",
    "k12.tr", "kiev.ua", "kiwi.nz", "lg.jp", "ltd.uk", "maori.nz", "mb.ca",
    "me.uk", "mil.ar", "mil.kr", "msk.ru", "muni.il", "my.id", "myshopify.com",
    "nb.ca",
    "ne.jp", "ne.ke", "ne.kr", "net.ae", "net.al", "net.ar", "net.au",
    "net.bd", "net.br", "net.by", "net.cn", "net.co", "net.cy", "net.ec",
    "net.eg", "net.ge", "net.gr", "net.hk", "net.id", "net.il", "net.in",
    "net.ir", "net.ma", "net.mt", "net.mx", "net.my", "net.ng", "net.nz",
    "net.pe", "net.ph", "net.pk", "net.pl", "net.ru", "net.sa", "net.sg",
    "net.th", "net.tr", "net.tw", "net.ua", "net.uk", "net.uy", "net.ve",
    "net.vn", "net.za", "netlify.app", "nf.ca", "ngrok.io", "nhs.uk", "nl.ca",
    "no-ip.org", "nom.es", "nom.ro", "ns.ca", "nt.ca", "nu.ca", "on.ca",
    "or.at", "or.cr", "or.id", "or.jp", "or.ke", "or.kr", "or.th", "or.tz",
    "or.ug", "org.ae", "org.al", "org.ar", "org.au", "org.ba", "org.bd",
    "org.br", "org.by", "org.cn", "org.co", "org.cy", "org.ec", "org.eg",
    "org.es", "org.ge", "org.gh", "org.gr", "org.hk", "org.hu", "org.il",
    "org.in", "org.ir", "org.kz", "org.lk", "org.ma", "org.mk", "org.mt",
    "org.mx", "org.my", "org.ng", "org.np", "org.nz", "org.pe", "org.ph",
    "org.pk", "org.pl", "org.pt", "org.ro", "org.rs", "org.ru", "org.sa",
    "org.sg", "org.tr", "org.tw", "org.ua", "org.uk", "org.uy", "org.ve",
    "org.vn", "org.za", "pages.dev", "pe.ca", "pe.kr", "per.sg", "plc.uk",
    "police.uk", "pp.ru", "qc.ca", "r2.dev", "re.kr", "repl.co", "res.in",
    "ru.com", "s3.amazonaws.com", "sa.com", "sch.id", "sch.uk", "school.nz",
    "sk.ca", "spb.ru", "store.ro", "sytes.net", "tv.br", "tv.tr", "uk.com",
    "uk.net", "us.com", "us.org", "vercel.app", "waw.pl", "web.app", "web.id",
    "web.tr", "web.za", "weebly.com", "wixsite.com", "workers.dev", "yk.ca",
    "za.com", "zapto.org",
};

#define URL_N_SUFFIXES (sizeof(url_suffixes) / sizeof(url_suffixes[0]))

/*
 * The suffix table as an open-addressing hash set, built once on first
 * use and read-only after (pthread_once: RATE's workers share it).  A
 * suffix hashes from its last byte back to its first, so one backward
 * walk over a host gives the hash of its last two and last three labels
 * on the way to their dots: a lookup is then one slot or two, where a
 * binary search of the table cost two string compares per step, and
 * this runs for every link and header domain (issue #7).
 */
#define URL_SUFFIX_SLOTS 1024u /* a power of two, over twice the table */
_Static_assert(URL_SUFFIX_SLOTS >= 2 * URL_N_SUFFIXES,
               "URL_SUFFIX_SLOTS is too small for the suffix table");
_Static_assert(URL_N_SUFFIXES < UINT16_MAX, "suffix index is 16 bits");

struct suffix_slot {
    uint32_t hash;
    uint16_t index; /* into url_suffixes, plus one; 0 for an empty slot */
    uint16_t len;
};

static struct suffix_slot suffix_slots[URL_SUFFIX_SLOTS];
static pthread_once_t suffix_once = PTHREAD_ONCE_INIT;

#define URL_SUFFIX_HASH_SEED 2166136261u

/* One byte more of a backward FNV-1a hash. */
static uint32_t
suffix_hash_step(uint32_t h, uint8_t c)
{
    return (h ^ c) * 16777619u;
}

static void
suffix_slots_build(void)
{
    for (size_t i = 0; i < URL_N_SUFFIXES; i++) {
        const char *t = url_suffixes[i];
        size_t n = strlen(t);
        uint32_t h = URL_SUFFIX_HASH_SEED;
        size_t k;

        for (size_t j = n; j > 0; j--) {
            h = suffix_hash_step(h, (uint8_t)t[j - 1]);
        }
        k = h & (URL_SUFFIX_SLOTS - 1);
        while (suffix_slots[k].index != 0) {
            k = (k + 1) & (URL_SUFFIX_SLOTS - 1);
        }
        suffix_slots[k].hash = h;
        suffix_slots[k].index = (uint16_t)(i + 1);
        suffix_slots[k].len = (uint16_t)n;
    }
}

/* Whether the n bytes at s, of backward hash h, are a table suffix. */
static bool
suffix_known(const char *s, size_t n, uint32_t h)
{
    size_t k = h & (URL_SUFFIX_SLOTS - 1);

    /* Less than half full: an empty slot always ends the probe. */
    while (suffix_slots[k].index != 0) {
        const struct suffix_slot *e = &suffix_slots[k];
        if (e->hash == h && e->len == n &&
            memcmp(url_suffixes[e->index - 1], s, n) == 0) {
            return true;
        }
        k = (k + 1) & (URL_SUFFIX_SLOTS - 1);
    }
    return false;
}

size_t
url_registered_domain(const char *host, size_t host_len, const char **out)
{
    size_t dots[4]; /* positions of the last four dots, nearest first */
    uint32_t hashes[4]; /* backward hash of the labels after each dot */
    uint32_t h = URL_SUFFIX_HASH_SEED;
    size_t n_dots = 0;
    size_t k;

    while (host_len > 0 && host[host_len - 1] == '.') {
        host_len--;
    }
    *out = host;
    if (host_len == 0 || url_host_is_ip(host, host_len)) {
        return host_len;
    }
    (void)pthread_once(&suffix_once, suffix_slots_build);
    for (k = host_len; k > 0 && n_dots < 4; k--) {
        if (host[k - 1] == '.') {
            hashes[n_dots] = h;
            dots[n_dots++] = k - 1;
        }
        h = suffix_hash_step(h, (uint8_t)host[k - 1]);
    }
    /* A known suffix of 3 labels, then of 2: keep one label more. */
    for (size_t labels = 3; labels >= 2; labels--) {
        size_t s;
        uint32_t sh;
        if (n_dots < labels - 1) {
            continue;
        }
        if (n_dots >= labels) {
            s = dots[labels - 1] + 1;
            sh = hashes[labels - 1];
        } else {
            /* The whole host (the walk reached its start: fewer than
             * four dots). */
            s = 0;
            sh = h;
        }
        if (!suffix_known(host + s, host_len - s, sh)) {
            continue;
        }
        if (n_dots < labels) {
            return host_len; /* the host is a public suffix itself */
        }
        s = n_dots > labels ? dots[labels] + 1 : 0;
        *out = host + s;
        return host_len - s;
    }
    if (n_dots < 2) {
        return host_len;
    }
    *out = host + dots[1] + 1;
    return host_len - dots[1] - 1;
}

/* Link shorteners, as an X-macro: the table below and a compile-time
 * check of each name's length come from the one list. */
#define URL_SHORTENERS(X)                                                  \
    X("bit.ly") X("bitly.com") X("t.co") X("t.ly") X("tinyurl.com")       \
    X("goo.gl") X("ow.ly") X("is.gd") X("v.gd") X("rb.gy") X("cutt.ly")   \
    X("shorturl.at") X("tiny.cc") X("rebrand.ly") X("s.id") X("buff.ly")  \
    X("tr.im") X("shorte.st") X("urlz.fr") X("qrco.de") X("lnkd.in")      \
    X("x.co") X("snip.ly") X("soo.gd") X("clck.ru")

/* The longest name above: a longer host (nearly every one) is none of
 * them, found without walking the list (issue #7). */
#define URL_SHORTENER_NAME_MAX 11u
#define URL_SHORTENER_FITS(x)                                              \
    _Static_assert(sizeof(x) - 1u <= URL_SHORTENER_NAME_MAX,               \
                   "a shortener name is longer than URL_SHORTENER_NAME_MAX");
URL_SHORTENERS(URL_SHORTENER_FITS)
#undef URL_SHORTENER_FITS

#define URL_SHORTENER_NAME(x) x,
static const char *const url_shorteners[] = {
    URL_SHORTENERS(URL_SHORTENER_NAME)};
#undef URL_SHORTENER_NAME
#define URL_N_SHORTENERS (sizeof(url_shorteners) / sizeof(url_shorteners[0]))

/* Bit (c | 0x20) & 31 of shortener_first[n] is set when a name of n
 * bytes starts with c: a host of a length and first letter that no
 * name has (nearly every one: its registered domain is often as short
 * as a shortener's) is none of them without the walk below (issue #7).
 * Built once, read-only after. */
static uint32_t shortener_first[URL_SHORTENER_NAME_MAX + 1];
static pthread_once_t shortener_once = PTHREAD_ONCE_INIT;

static uint32_t
shortener_bit(char c)
{
    return 1u << (((unsigned char)c | 0x20u) & 31u);
}

static void
shortener_first_build(void)
{
    for (size_t i = 0; i < URL_N_SHORTENERS; i++) {
        const char *h = url_shorteners[i];

        shortener_first[strlen(h)] |= shortener_bit(h[0]);
    }
}

bool
url_is_shortener(const char *host, size_t len)
{
    const char *const *hosts = url_shorteners;

    if (len > 4 && (host[0] | 0x20) == 'w' && (host[1] | 0x20) == 'w' &&
        (host[2] | 0x20) == 'w' && host[3] == '.') {
        host += 4;
        len -= 4;
    }
    if (len == 0 || len > URL_SHORTENER_NAME_MAX) {
        return false;
    }
    (void)pthread_once(&shortener_once, shortener_first_build);
    if ((shortener_first[len] & shortener_bit(host[0])) == 0) {
        return false;
    }
    for (size_t i = 0; i < URL_N_SHORTENERS; i++) {
        const char *h = hosts[i];
        size_t k = 0;

        /* The first byte decides for almost every host: URLs pass this
         * list one after another on the hot path. */
        if ((host[0] | 0x20) != h[0]) {
            continue;
        }
        while (k < len && h[k] != '\0' &&
               (host[k] >= 'A' && host[k] <= 'Z' ? host[k] | 0x20 : host[k]) ==
                   h[k]) {
            k++;
        }
        if (k == len && h[k] == '\0') {
            return true;
        }
    }
    return false;
}
