/*
 * ipnet.c -- administrator-written IP addresses and networks (ipnet.h).
 *
 * The text is checked for the ambiguous forms first (leading zeros, the
 * IPv4-compatible form) so the reason names what is wrong instead of a
 * bare "not an address"; inet_pton then does the parsing itself.
 */
#include "ipnet.h"

#include <arpa/inet.h>
#include <string.h>

#include "cursor.h"

#define IPNET_LEADING_ZERO "an IPv4 octet with a leading zero (read as " \
                           "octal by some tools); write it in plain decimal"

static const uint8_t ipnet_mapped_pre[12] = {0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0xff, 0xff};

const char *
ipnet_octet_parse(const char *s, size_t len, uint8_t *out)
{
    uint64_t v;

    if (len > 1 && s[0] == '0') {
        return IPNET_LEADING_ZERO;
    }
    if (cursor_parse_u64(s, len, 255, &v) != CM_OK) {
        return "an IPv4 octet is a number from 0 to 255";
    }
    *out = (uint8_t)v;
    return NULL;
}

void
ipnet_mask(unsigned prefix, uint8_t mask[16])
{
    for (unsigned i = 0; i < 16; i++) {
        if (prefix >= 8) {
            mask[i] = 0xff;
            prefix -= 8;
        } else {
            mask[i] = (uint8_t)(0xff << (8 - prefix));
            prefix = 0;
        }
    }
}

/* True when the dotted part of s (all of an IPv4 text, the part after the
 * last ':' of an IPv6 one) has an octet like "010": glibc's inet_pton
 * refuses it, but only as "not an address", and the reason matters. */
static bool
has_leading_zero_octet(const char *s, size_t len)
{
    size_t start = len;

    while (start > 0 && s[start - 1] != ':') {
        start--;
    }
    if (memchr(s + start, '.', len - start) == NULL) {
        return false; /* no dotted quad: hex groups may start with 0 */
    }
    for (size_t i = start; i + 1 < len; i++) {
        bool is_octet_start = i == start || s[i - 1] == '.';

        if (is_octet_start && s[i] == '0' && s[i + 1] != '.') {
            return true;
        }
    }
    return false;
}

/* "/n" text after the slash into *bits, 1..max. */
static const char *
parse_prefix(const char *p, size_t len, unsigned max, unsigned *bits)
{
    uint64_t v;

    if (len > 1 && p[0] == '0') {
        return "prefix length with a leading zero";
    }
    if (cursor_parse_u64(p, len, max, &v) != CM_OK) {
        return max == 32 ? "prefix length not in 1..32"
                         : "prefix length not in 1..128";
    }
    if (v == 0) {
        /* spamd refuses /0 too: it would cover every address. */
        return "a /0 would cover every address; refused";
    }
    *bits = (unsigned)v;
    return NULL;
}

/* The address text (NUL-terminated, at most IPNET_TEXT_MAX) into a. */
static const char *
parse_addr(const char *t, bool is_v6_text, uint8_t a[16])
{
    if (!is_v6_text) {
        memcpy(a, ipnet_mapped_pre, 12);
        return inet_pton(AF_INET, t, a + 12) == 1 ? NULL
                                                  : "not an IPv4 address";
    }
    if (inet_pton(AF_INET6, t, a) != 1) {
        return "not an IPv6 address";
    }
    /* "::10.0.0.0" is ::a00:0, not 10.0.0.0: silently never matching an
     * IPv4 sender is worse than a clear refusal.  ("::1" has no dot.) */
    if (strchr(t, '.') != NULL &&
        memcmp(a, ipnet_mapped_pre, 10) == 0 && a[10] == 0 && a[11] == 0) {
        return "IPv4-compatible ::a.b.c.d never matches an IPv4 sender; "
               "write a.b.c.d or ::ffff:a.b.c.d";
    }
    return NULL;
}

static bool
has_host_bits(const uint8_t a[16], unsigned prefix)
{
    uint8_t mask[16];

    ipnet_mask(prefix, mask);
    for (size_t i = 0; i < 16; i++) {
        if ((a[i] & (uint8_t)~mask[i]) != 0) {
            return true;
        }
    }
    return false;
}

const char *
ipnet_parse(const char *s, size_t len, struct ipnet *out)
{
    const char *slash = memchr(s, '/', len);
    size_t al = slash != NULL ? (size_t)(slash - s) : len;
    bool is_v6_text = memchr(s, ':', al) != NULL;
    unsigned max = is_v6_text ? 128 : 32;
    unsigned prefix = max;
    char t[IPNET_TEXT_MAX + 1];
    uint8_t a[16];
    const char *why;

    if (al == 0 || al > IPNET_TEXT_MAX) {
        return is_v6_text ? "not an IPv6 address" : "not an IPv4 address";
    }
    if (has_leading_zero_octet(s, al)) {
        return IPNET_LEADING_ZERO;
    }
    memcpy(t, s, al);
    t[al] = '\0';
    why = parse_addr(t, is_v6_text, a);
    if (why == NULL && slash != NULL) {
        why = parse_prefix(slash + 1, len - al - 1, max, &prefix);
    }
    if (why != NULL) {
        return why;
    }
    prefix += is_v6_text ? 0 : 96;
    if (has_host_bits(a, prefix)) {
        return "host bits set past the prefix length; write the "
               "network's first address";
    }
    memcpy(out->addr, a, 16);
    out->prefix = prefix;
    out->is_v4 = memcmp(a, ipnet_mapped_pre, 12) == 0;
    out->is_v6_text = is_v6_text;
    return NULL;
}
