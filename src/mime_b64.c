/*
 * mime_b64.c -- base64 Content-Transfer-Encoding and RFC 2047 "B" words.
 *
 * One pass, table driven, into a caller-sized buffer (see mime-int.h).
 * Mail in the wild breaks RFC 2045 6.8 in a few known ways that are
 * tolerated here: lines of any length, missing "=" padding (the bits of a
 * partial quantum are flushed at the end), padding in the middle of the
 * data (concatenated blobs: decoding restarts after it), and junk bytes
 * (skipped, reported through *is_bad so the features can see them).
 * Stateless and thread-safe.
 */
#include "mime-int.h"

#include <string.h>

/* 0..63 for the alphabet, 64 for blanks and line breaks, 65 for '=',
 * 255 for anything else. */
#define B64_SPACE 64u
#define B64_PAD 65u
#define B64_BAD 255u

static const uint8_t b64_class[256] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255,  64,  64, 255,
    255,  64, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255,  64, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255,  62, 255, 255, 255,  63,
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255,
    255,  65, 255, 255, 255,   0,   1,   2,   3,   4,   5,   6,
      7,   8,   9,  10,  11,  12,  13,  14,  15,  16,  17,  18,
     19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255, 255,
    255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,
     37,  38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  48,
     49,  50,  51, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255,
};

/* The first k bytes of the quantum acc at out + o. */
static void
put_quantum(uint8_t *out, size_t o, uint32_t acc, size_t k)
{
    uint8_t tmp[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8),
                      (uint8_t)acc};

    memcpy(out + o, tmp, k);
}

size_t
mime_b64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_max,
                bool *is_bad, bool *is_cut)
{
    size_t i = 0;
    size_t o = 0;
    uint32_t acc = 0;
    unsigned n = 0; /* sextets in acc */

    while (i < len) {
        uint8_t v;

        if (n == 0) {
            /* Fast path: whole quanta of four alphabet bytes while three
             * bytes fit -- the bulk of any base64 body, between the line
             * breaks that the byte-wise path below skips.  The number of
             * quanta that fit both ways is counted once, not per quantum. */
            size_t q = (len - i) / 4;

            if (q > (out_max - o) / 3) {
                q = (out_max - o) / 3;
            }
            for (; q > 0; q--) {
                uint8_t a = b64_class[in[i]];
                uint8_t b = b64_class[in[i + 1]];
                uint8_t c = b64_class[in[i + 2]];
                uint8_t d = b64_class[in[i + 3]];
                uint32_t w;

                if ((a | b | c | d) >= 64) {
                    break;
                }
                w = ((uint32_t)a << 18) | ((uint32_t)b << 12) |
                    ((uint32_t)c << 6) | d;
                out[o] = (uint8_t)(w >> 16);
                out[o + 1] = (uint8_t)(w >> 8);
                out[o + 2] = (uint8_t)w;
                o += 3;
                i += 4;
            }
            if (i >= len) {
                break;
            }
        }
        v = b64_class[in[i++]];
        if (v < 64) {
            acc = (acc << 6) | v;
            n++;
            if (n == 4) {
                if (out_max - o < 3) {
                    /* Fill the buffer to the last byte, then stop. */
                    put_quantum(out, o, acc, out_max - o);
                    *is_cut = true;
                    return out_max;
                }
                put_quantum(out, o, acc, 3);
                o += 3;
                n = 0;
                acc = 0;
            }
            continue;
        }
        if (v == B64_SPACE) {
            continue;
        }
        if (v == B64_BAD) {
            *is_bad = true;
            continue;
        }
        /* '=': flush the partial quantum, then start afresh. */
        if (n == 1) {
            *is_bad = true;
        } else if (n >= 2) {
            size_t k = n - 1;

            if (out_max - o < k) {
                *is_cut = true;
                return o;
            }
            put_quantum(out, o, acc << (6 * (4 - n)), k);
            o += k;
        }
        n = 0;
        acc = 0;
    }
    if (n == 1) {
        *is_bad = true; /* six bits cannot make a byte */
    } else if (n >= 2) {
        size_t k = n - 1;

        if (out_max - o < k) {
            *is_cut = true;
            return o;
        }
        put_quantum(out, o, acc << (6 * (4 - n)), k);
        o += k;
    }
    return o;
}
