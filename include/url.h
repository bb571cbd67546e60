/*
 * url.h -- URLs in mail: find them in plain text, take out the host, and
 * reduce a host to its registered domain (eTLD+1).
 *
 * Everything works on (pointer, length) views and caller buffers; nothing
 * allocates, nothing logs.  Pure and thread-safe.  Formats layer.
 *
 * The registered-domain table is a compact built-in list of a few hundred
 * common public suffixes (all generic and country TLDs are handled by the
 * default rule, plus multi-label ones such as co.uk, com.au, co.jp, com.br
 * and a few well-known hosting suffixes such as github.io or blogspot.com
 * where every customer owns a subdomain).  It is NOT the full Public
 * Suffix List: an unlisted multi-label suffix yields suffix+0 labels
 * (e.g. "example.xx.yy" gives "xx.yy"), which is a coarser but stable key.
 */
#ifndef CM_URL_H
#define CM_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"

enum url_flag {
    URL_IS_IP = 1u << 0,        /* host is an IPv4 or IPv6 literal */
    URL_IS_ODD_IP = 1u << 1,    /* IPv4 written as decimal/hex/octal/short */
    URL_HAS_USERINFO = 1u << 2, /* "user@" before the host (a lure trick) */
    URL_HAS_PORT = 1u << 3,
    URL_PCT_HOST = 1u << 4,     /* host had %XX escapes */
    URL_IS_MAILTO = 1u << 5     /* mailto: host is the address's domain */
};

/*
 * Next URL in plain text (UTF-8 or ASCII) at or after *pos: "http://",
 * "https://" (any case) or "www." at a word start.  On success sets
 * *start and *len (trailing punctuation such as ".,;:!?" and an unmatched
 * ")" or "]" removed), moves *pos past it and returns true; false when
 * there is none.  Linear in the text over all calls.
 */
bool url_find(const char *text, size_t text_len, size_t *pos, size_t *start,
              size_t *len);

/*
 * Host of a URL (absolute "scheme://", scheme-relative "//", "www."
 * without scheme, or "mailto:"): userinfo, port, path and a trailing dot
 * removed, %XX escapes decoded, ASCII lower-cased, an IPv4 written in any
 * inet_aton form (3232235777, 0xC0A80101, 0300.0250.1.1) normalised to
 * dotted decimal, an IPv6 literal written as WHATWG URL serialises it
 * ("[0:0::0001]" -> "[::1]").  The userinfo ends at the authority's last
 * '@' (the authority ends at '/', '\', '?' or '#', as in a browser).
 * Writes at most out_max - 1 bytes plus a NUL into out and returns the
 * length; 0 when the URL has no host (relative, cid:, javascript:,
 * data:, ...) or out_max is too small.  ORs enum url_flag bits into
 * *flags.
 */
size_t url_host(const char *url, size_t url_len, char *out, size_t out_max,
                unsigned *flags);

/*
 * url_host, and *read_to set to the index of the byte that ended the
 * URL's authority: url_host read no byte of url after it, so another
 * URL with the same bytes up to and including that one has the same
 * host and flags.  url_len when the authority runs to the end of url
 * or there is none (nothing to go by).
 */
size_t url_host_read(const char *url, size_t url_len, char *out,
                     size_t out_max, unsigned *flags, size_t *read_to);

/*
 * The user name of a URL's userinfo ("www.paypal.com" of
 * "https://www.paypal.com:x@evil.example/"), ASCII lower-cased into out
 * (NUL-terminated) when it is written as a host name ([A-Za-z0-9.-] with
 * a dot), which is what a reader takes it for; 0 when there is no
 * userinfo, it is no such name, or it does not fit out_max.
 */
size_t url_userinfo_host(const char *url, size_t url_len, char *out,
                         size_t out_max);

/*
 * A host (out, n bytes, NUL-terminated, out_max bytes of room) holding
 * bytes >= 0x80 rewritten in place as the ASCII name a browser resolves
 * (UTS #46 nontransitional, as browsers follow it: lower case, punycode
 * labels, "b\u00fccher.example" -> "xn--bcher-kva.example"); returns the
 * new length.  An ASCII host, or one that does not convert (invalid
 * UTF-8, a label too long, a disallowed code point), is left as it is.
 * url_host applies it to every host it returns.
 */
size_t url_host_to_ascii(char *out, size_t n, size_t out_max);

/*
 * IPv4 literal in any inet_aton form (1 to 4 parts, each decimal, octal
 * with a leading 0 or hex with 0x) → *addr (host byte order).  *is_odd is
 * set unless it was four plain decimal parts.
 */
bool url_parse_ipv4(const char *s, size_t len, uint32_t *addr, bool *is_odd);

/* True when host is a dotted-quad IPv4 or a bracketed IPv6 literal. */
bool url_host_is_ip(const char *host, size_t host_len);

/*
 * Registered domain (eTLD+1) of a lower-case host, as a view into host:
 * sets *out to a suffix of host and returns its length.  A host with one
 * label, an IP literal, or a host that is itself a public suffix is
 * returned whole.  host need not be NUL-terminated.  Example:
 * "a.b.example.co.uk" → "example.co.uk"; "x.github.io" → "x.github.io".
 */
size_t url_registered_domain(const char *host, size_t host_len,
                             const char **out);

/*
 * Whether a host (any case, a leading "www." ignored) is a public URL
 * shortener (bit.ly, t.co, ...): one redirect away from any page.  The
 * one list features (url:shortener) and rules (hidden-link) share.
 */
bool url_is_shortener(const char *host, size_t host_len);

#endif
