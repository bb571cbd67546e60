/*
 * ipnet.h -- an IP address or network written by an administrator
 * (whitelist.cfg host entries, cmtool's reputation lists) → 16 bytes and
 * a prefix length.  One parser, so both files accept and refuse the same
 * text.
 *
 * Accepted: "a.b.c.d", "a.b.c.d/n" (n 1..32), an IPv6 address with an
 * optional "/n" (n 1..128), including the IPv4-mapped "::ffff:a.b.c.d".
 * Refused, each with its own reason: an IPv4 octet or a prefix length
 * with a leading zero (inet_aton and some tools read "010" as octal 8),
 * /0, host bits set past the prefix (an administrator who wrote
 * 10.1.2.3/8 may have meant 10.1.2.3 or 10.0.0.0/8; Postfix's cidr
 * tables refuse it too), and the deprecated IPv4-compatible "::a.b.c.d"
 * (RFC 4291 §2.5.5.1), which no IPv4 sender ever matches.
 *
 * State: none; thread-safe.
 */
#ifndef CM_IPNET_H
#define CM_IPNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text taken (a full IPv6 address with an IPv4 tail and /128). */
#define IPNET_TEXT_MAX 63u

struct ipnet {
    uint8_t addr[16]; /* IPv4 as IPv4-mapped (::ffff:a.b.c.d) */
    unsigned prefix;  /* leading bits of addr that count, 1..128 */
    bool is_v4;       /* addr is IPv4-mapped */
    bool is_v6_text;  /* written in IPv6 notation */
};

/*
 * Parse all of (s, len), no NUL needed.  NULL on success with *out set;
 * else a static reason (for the caller's "file:line:" message) and *out
 * untouched.  A dotted IPv4 "/n" is stored as prefix 96 + n.
 */
const char *ipnet_parse(const char *s, size_t len, struct ipnet *out);

/* One IPv4 octet: 0..255 in plain decimal, no leading zero.  NULL on
 * success, else a static reason. */
const char *ipnet_octet_parse(const char *s, size_t len, uint8_t *out);

/* The mask of the first prefix bits (at most 128) into mask. */
void ipnet_mask(unsigned prefix, uint8_t mask[16]);

#endif
