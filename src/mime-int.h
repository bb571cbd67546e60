/*
 * mime-int.h -- private interface shared by mime.c and its decoders
 * (mime_b64.c, mime_qp.c, mime_rfc2047.c, mime_uu.c).  Not for other
 * modules.
 *
 * The decoders write into caller-provided buffers and never allocate,
 * except mime_rfc2047_decode, which allocates its result from the arena.
 * All are pure and thread-safe.
 */
#ifndef CM_MIME_INT_H
#define CM_MIME_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "charset.h"

/*
 * Base64 (RFC 2045 6.8) of (in, len) into out (at most out_max bytes).
 * Whitespace is skipped silently; other bytes outside the alphabet are
 * skipped and set *is_bad; missing padding is tolerated; '=' ends a
 * quantum and decoding resumes after it (concatenated blobs).  Sets
 * *is_cut when out_max stopped decoding.  Returns bytes written.  An out
 * of len / 4 * 3 + 3 bytes always suffices.
 */
size_t mime_b64_decode(const uint8_t *in, size_t len, uint8_t *out,
                       size_t out_max, bool *is_bad, bool *is_cut);

/*
 * Quoted-printable (RFC 2045 6.7) of (in, len) into out (at most out_max
 * bytes).  Soft line breaks ("=" before CRLF or LF, with optional
 * trailing blanks) are removed, "=XX" (either case) decoded, trailing
 * blanks before a hard line break dropped.  An invalid "=" sequence is
 * kept raw and sets *is_bad.  With is_header (RFC 2047 "Q"), "_" becomes
 * a space.  Sets *is_cut when out_max stopped decoding.  Returns bytes
 * written; out of len bytes always suffices.
 */
size_t mime_qp_decode(const uint8_t *in, size_t len, uint8_t *out,
                      size_t out_max, bool is_header, bool *is_bad,
                      bool *is_cut);

/* A uuencoded file in a text: offsets into it. */
struct mime_uu_block {
    size_t begin_at;  /* the "begin MODE NAME" line */
    size_t name_at;   /* NAME, up to the line's end less CR and blanks */
    size_t name_len;
    size_t data_at;   /* the first encoded line */
    size_t data_end;  /* the "end" line, or where the block stopped */
    size_t end_at;    /* just past the "end" line (data_end without one) */
};

/*
 * The first uuencoded block of (p, len) whose "begin" line starts a line
 * at or after from (a line start): "begin", three or four octal digits,
 * a name, and an encoded line right after.  The block ends with its
 * "end" line or, without one, before the first line that is not encoded
 * (so it may be cut short).  False when there is none.
 */
bool mime_uu_find(const uint8_t *p, size_t len, size_t from,
                  struct mime_uu_block *b);

/*
 * Decode the encoded lines of (in, len) (a block's [data_at, data_end))
 * into out, at most out_max bytes.  Lines of length 0 are skipped; a line
 * that is not encoded sets *is_bad and is skipped.  Sets *is_cut when
 * out_max stopped decoding.  Returns bytes written; len bytes of out
 * always suffice (a line holds at least as many characters as bytes,
 * even with its trailing blanks stripped).
 */
size_t mime_uu_decode(const uint8_t *in, size_t len, uint8_t *out,
                      size_t out_max, bool *is_bad, bool *is_cut);

/* Flags mime_rfc2047_decode reports (mapped to enum mime_flag). */
enum mime_hdr_flag {
    MIME_HDR_ENCODED_WORDS = 1u << 0, /* at least one word was decoded */
    MIME_HDR_RAW_8BIT = 1u << 1,      /* unencoded bytes >= 0x80 */
    MIME_HDR_UNKNOWN_CHARSET = 1u << 2,
    MIME_HDR_BAD_BYTES = 1u << 3,     /* invalid bytes in their charset */
    MIME_HDR_BAD_B64 = 1u << 4,       /* broken base64 inside a "B" word */
    MIME_HDR_BAD_QP = 1u << 5         /* broken escape inside a "Q" word */
};

/*
 * True when (p, len) needs mime_rfc2047_decode: it holds "=?" or a byte
 * >= 0x80.  Pure ASCII without encoded words can be used as it is.
 */
bool mime_rfc2047_needed(const char *p, size_t len);

/*
 * Decode an unfolded header value (RFC 2047 encoded words, B and Q;
 * whitespace between adjacent encoded words dropped; words of one charset
 * joined before conversion so a character split across words survives;
 * raw 8-bit text taken as UTF-8 when valid, else windows-1252) into a new
 * NUL-terminated UTF-8 string from a.  ORs enum mime_hdr_flag bits into
 * *flags.  Returns NULL when the arena is exhausted.
 */
char *mime_rfc2047_decode(struct arena *a, struct charset_cache *cc,
                          const char *in, size_t len, size_t *out_len,
                          unsigned *flags);

/* ASCII helpers shared by the MIME files. */
static inline uint8_t
mime_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static inline bool
mime_is_wsp(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Value of a hex digit, or -1: one table lookup per digit of every
 * "=XX" escape.  Built at compile time. */
#define MIME_HEX(c)                                                        \
    ((c) >= '0' && (c) <= '9'   ? (c) - '0'                                \
     : (c) >= 'a' && (c) <= 'f' ? (c) - 'a' + 10                           \
     : (c) >= 'A' && (c) <= 'F' ? (c) - 'A' + 10                           \
                                : -1)
#define MIME_HEX4(c)                                                       \
    MIME_HEX(c), MIME_HEX((c) + 1), MIME_HEX((c) + 2), MIME_HEX((c) + 3)
#define MIME_HEX16(c)                                                      \
    MIME_HEX4(c), MIME_HEX4((c) + 4), MIME_HEX4((c) + 8), MIME_HEX4((c) + 12)
#define MIME_HEX64(c)                                                      \
    MIME_HEX16(c), MIME_HEX16((c) + 16), MIME_HEX16((c) + 32),             \
        MIME_HEX16((c) + 48)

static const int8_t mime_hex_table[256] = {MIME_HEX64(0), MIME_HEX64(64),
                                           MIME_HEX64(128), MIME_HEX64(192)};

static inline int
mime_hexval(uint8_t c)
{
    return mime_hex_table[c];
}

#endif
