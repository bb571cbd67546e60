/*
 * charset.h -- text in a MIME charset → UTF-8.
 *
 * Fast in-code paths for us-ascii, utf-8 (validated; invalid bytes become
 * U+FFFD), iso-8859-1 and windows-1252 (both decoded as windows-1252, as
 * browsers do); every other label goes through glibc iconv after alias
 * folding (utf8, latin1, gb2312 → GB18030, ks_c_5601-1987 → CP949,
 * shift_jis → CP932, ...).  A label iconv does not know is decoded as
 * windows-1252 and reported with CHARSET_UNKNOWN.
 *
 * iconv descriptors are kept in a small cache (struct charset_cache) that
 * the caller owns for the duration of one message, so a message whose
 * parts all use koi8-r opens one descriptor (UTF-16 and UTF-32 parts
 * each open their own: glibc keeps the byte order a BOM set in the
 * descriptor, and it must not carry over).  A cache has one owner and is
 * not thread-safe; the functions are otherwise pure.  Formats layer; no
 * logging.
 */
#ifndef CM_CHARSET_H
#define CM_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"

enum charset_flag {
    CHARSET_UNKNOWN = 1u << 0,    /* label unknown: decoded as cp1252 */
    CHARSET_BAD_BYTES = 1u << 1,  /* invalid input bytes → U+FFFD */
    CHARSET_OUT_CAPPED = 1u << 2  /* out_max reached before the input end */
};

struct charset_cache_slot {
    char name[MIME_CHARSET_NAME_MAX]; /* canonical iconv name */
    void *cd;                         /* iconv_t, or NULL if it failed */
};

struct charset_cache {
    struct charset_cache_slot slot[CHARSET_CACHE_SLOTS];
    size_t n_slots;
    size_t next_evict;
};

/* Empty cache; opens nothing. */
void charset_cache_init(struct charset_cache *cc);

/* Close every descriptor; the cache may be reused after init. */
void charset_cache_clear(struct charset_cache *cc);

/*
 * Convert (in, in_len), labelled with charset (name, name_len; any case,
 * surrounding quotes/blanks tolerated; empty = us-ascii), to UTF-8 in out
 * (at most out_max bytes; never a partial character; no NUL added).
 * Returns the bytes written and ORs enum charset_flag bits into *flags.
 * out_max of 3 * in_len + 4 is always enough for the in-code paths and
 * for every common iconv charset.  cc may be NULL (descriptors are then
 * opened and closed per call).
 */
size_t charset_to_utf8(struct charset_cache *cc, const char *name,
                       size_t name_len, const uint8_t *in, size_t in_len,
                       char *out, size_t out_max, unsigned *flags);

/*
 * True when text in this charset is already UTF-8 when it validates
 * (us-ascii, utf-8, empty label): a caller can then skip the copy.
 */
bool charset_is_utf8_label(const char *name, size_t name_len);

/* True when (p, len) is valid UTF-8 (no overlongs, no surrogates). */
bool charset_utf8_valid(const uint8_t *p, size_t len);

/*
 * Length of the well-formed UTF-8 sequence at p (2..4; RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF, nothing cut
 * short of left bytes), or 0 when the bytes at p (lead byte >= 0x80) do
 * not start one.
 */
size_t charset_utf8_seq_len(const uint8_t *p, size_t left);

/* Encode code point cp (invalid ones as U+FFFD) into out; returns 1..4. */
size_t charset_utf8_put(uint32_t cp, char out[4]);

/* Unicode code point of windows-1252 byte b (bytes undefined in cp1252
 * map to the C1 control of the same value). */
uint32_t charset_cp1252(uint8_t b);

#endif
