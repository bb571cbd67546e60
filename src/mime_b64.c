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

/*
 * The fast path's tables: the sextet of an alphabet byte already shifted to
 * its place in a quantum's 24 bits (dec0 for the first byte of four, dec3
 * for the last), and B64_FAST_BAD (bit 24) for every other byte, so one OR
 * of four lookups gives the quantum and one test rejects blanks, padding
 * and junk.  Built from B64_SEXTET at compile time.
 */
#define B64_SEXTET(c)                                                      \
    ((c) >= 'A' && (c) <= 'Z'   ? (uint32_t)((c) - 'A')                   \
     : (c) >= 'a' && (c) <= 'z' ? (uint32_t)((c) - 'a' + 26)              \
     : (c) >= '0' && (c) <= '9' ? (uint32_t)((c) - '0' + 52)               \
     : (c) == '+'               ? 62u                                      \
     : (c) == '/'               ? 63u                                      \
                                : 64u)
#define B64_FAST_BAD (1u << 24)
#define B64_AT(c, shift)                                                   \
    (B64_SEXTET(c) < 64u ? B64_SEXTET(c) << (shift) : B64_FAST_BAD)
#define B64_R4(s, c)                                                       \
    B64_AT((c), s), B64_AT((c) + 1, s), B64_AT((c) + 2, s), B64_AT((c) + 3, s)
#define B64_R16(s, c)                                                      \
    B64_R4(s, c), B64_R4(s, (c) + 4), B64_R4(s, (c) + 8), B64_R4(s, (c) + 12)
#define B64_R64(s, c)                                                      \
    B64_R16(s, c), B64_R16(s, (c) + 16), B64_R16(s, (c) + 32),             \
        B64_R16(s, (c) + 48)
#define B64_R256(s)                                                        \
    B64_R64(s, 0), B64_R64(s, 64), B64_R64(s, 128), B64_R64(s, 192)

static const uint32_t b64_dec0[256] = {B64_R256(18)};
static const uint32_t b64_dec1[256] = {B64_R256(12)};
static const uint32_t b64_dec2[256] = {B64_R256(6)};
static const uint32_t b64_dec3[256] = {B64_R256(0)};

/* The 24 bits of the four bytes at s, with B64_FAST_BAD set when one of
 * them is not of the alphabet. */
static uint32_t
quantum_fast(const uint8_t *s)
{
    return b64_dec0[s[0]] | b64_dec1[s[1]] | b64_dec2[s[2]] | b64_dec3[s[3]];
}

/* The 24 bits of w as three bytes at out, which has room for four (a zero
 * goes to the fourth, past what is returned as written): one store
 * instead of three on the usual little-endian machines. */
static void
put_fast(uint8_t *out, uint32_t w)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t x = __builtin_bswap32(w << 8);

    memcpy(out, &x, sizeof(x));
#else
    out[0] = (uint8_t)(w >> 16);
    out[1] = (uint8_t)(w >> 8);
    out[2] = (uint8_t)w;
#endif
}

/* The 48 bits of w0 then w1 (24 each) as six bytes at out, which has room
 * for eight (two zeros go past them): one store instead of two. */
static void
put_fast2(uint8_t *out, uint32_t w0, uint32_t w1)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t x = __builtin_bswap64((uint64_t)w0 << 40 | (uint64_t)w1 << 16);

    memcpy(out, &x, sizeof(x));
#else
    put_fast(out, w0);
    put_fast(out + 3, w1);
#endif
}

/*
 * Decode up to q whole quanta from s to out (which has room for q quanta
 * and two bytes more) while they are four alphabet bytes; returns how many.
 * Four quanta per round with one test for all (issue #7: the loop's own
 * counting and testing were a quarter of its instructions at two a
 * round); when the group fails, its quanta before the first bad one are
 * still written, so none is looked at again.  A line of 76 characters is
 * four groups and a failing one that ends in its line break.
 */
static size_t
fast_quanta(const uint8_t *s, uint8_t *out, size_t q)
{
    size_t k = 0;

    for (; q - k >= 4; k += 4) {
        const uint8_t *g = s + 4 * k;
        uint8_t *d = out + 3 * k;
        uint32_t w0 = quantum_fast(g);
        uint32_t w1 = quantum_fast(g + 4);
        uint32_t w2 = quantum_fast(g + 8);
        uint32_t w3 = quantum_fast(g + 12);

        if (((w0 | w1 | w2 | w3) & B64_FAST_BAD) != 0) {
            if ((w0 & B64_FAST_BAD) != 0) {
                return k;
            }
            put_fast(d, w0);
            if ((w1 & B64_FAST_BAD) != 0) {
                return k + 1;
            }
            put_fast(d + 3, w1);
            if ((w2 & B64_FAST_BAD) != 0) {
                return k + 2;
            }
            put_fast(d + 6, w2);
            return k + 3;
        }
        put_fast2(d, w0, w1);
        put_fast2(d + 6, w2, w3);
    }
    for (; k < q; k++) {
        uint32_t w = quantum_fast(s + 4 * k);

        if ((w & B64_FAST_BAD) != 0) {
            break;
        }
        put_fast(out + 3 * k, w);
    }
    return k;
}

/* The length of the line break ("\r\n" or "\n") at p, which has two
 * bytes at least, or 0.  The two bytes are loaded as one word and
 * compared with words (a mask keeps the first): testing p[0] and p[1]
 * made the compiler keep the bytes of each quantum tested just before
 * alive, a move per quantum. */
static size_t
line_break_at(const uint8_t *p)
{
    static const uint8_t crlf[2] = {'\r', '\n'};
    static const uint8_t lf[2] = {'\n', 0};
    static const uint8_t first[2] = {0xff, 0};
    uint16_t two;
    uint16_t want;
    uint16_t mask;

    memcpy(&two, p, sizeof(two));
    memcpy(&want, crlf, sizeof(want));
    if (two == want) {
        return 2;
    }
    memcpy(&want, lf, sizeof(want));
    memcpy(&mask, first, sizeof(mask));
    return (two & mask) == want;
}

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
            /* Fast path: whole quanta of four alphabet bytes while five
             * bytes fit (put_fast2 writes two past its pair) -- the bulk
             * of any base64 body -- and the line breaks between them
             * (issue #7: leaving for the byte-wise path at every line
             * cost about a tenth of the decoding).  The number of quanta
             * that fit the output is counted once, not per quantum. */
            size_t room = out_max - o > 1 ? (out_max - o - 2) / 3 : 0;

            for (;;) {
                const uint8_t *s = in + i;
                size_t q = (len - i) / 4;
                size_t k;
                size_t b;

                if (q > room) {
                    q = room;
                }
                k = fast_quanta(s, out + o, q);
                s += 4 * k;
                o += 3 * k;
                i = (size_t)(s - in);
                room -= k;
                /* The line break after a line of whole quanta (k < q:
                 * four bytes are left) is skipped here, as the byte-wise
                 * path would skip it, without leaving the fast path. */
                if (k == q || (b = line_break_at(s)) == 0) {
                    break;
                }
                i += b;
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
