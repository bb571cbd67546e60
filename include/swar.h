/*
 * swar.h -- eight bytes at a time in a uint64_t ("SIMD within a
 * register"): the lane tests the scanners of mail text share (issue #7:
 * the bodies, header names, URLs and tokens of every message are walked
 * this way), spelled once instead of in each file with its own constants.
 *
 * DESIGN
 *  - A word holds eight lanes, one byte each.  A mask marks lanes by bit 7
 *    of each (0x80 << 8k for lane k) and has no other bit set; masks of
 *    the same word combine with | and &.
 *  - Loads are bounded: the caller checks that the eight bytes lie in its
 *    buffer; the load is a memcpy, one unaligned move where the CPU has
 *    one.  swar_load keeps host order (lane k is p[k] on a little-endian
 *    host only): enough for tests of "any lane" and for counting.
 *    swar_load_le puts p[k] in lane k on every host, for code that wants
 *    the first byte in memory from swar_lowest_lane.  SWAR_HOST_LE (the
 *    one macro: it is tested by #if) says whether swar_load does that too,
 *    for code that stores or hashes the loaded word as it lies.
 *  - Two kinds of lane test.  The exact ones (swar_eq, swar_lt, swar_in,
 *    swar_letter, swar_high, swar_ascii) clear bit 7 before adding, so no carry crosses a lane and
 *    every lane is marked or not on its own.  The "lowest" ones
 *    (swar_zero_lowest, swar_eq_lowest, swar_lt_lowest: the classic
 *    haszero subtraction) let a borrow leave a marked lane, so a lane
 *    ABOVE a marked one may be marked falsely; the lowest marked lane and
 *    "is any lane marked" are still exact.  An | of "lowest" masks keeps
 *    that guarantee; anything that reads a lane past the lowest marked one
 *    (swar_count, clearing the lowest and looking again) needs exact ones.
 *  - The tests take c and n as arguments but are meant for constants:
 *    inlined, the compiler folds the broadcasts, and a word's x & ~0x80..
 *    and ~x & 0x80.. are computed once for all the tests made on it.
 *    It does not merge the complements of several exact masks, though: a
 *    scanner that ORs three or four of them into one stop mask (html.c
 *    run_stops8, mime.c name_stop_lanes and unfold_stop_lanes) keeps its
 *    own hand-merged formula on swar_bytes, with the cost it saves and
 *    the guarantee it gives beside it.
 */
#ifndef CM_SWAR_H
#define CM_SWAR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "byteorder.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR_HOST_LE 1
#else
#define SWAR_HOST_LE 0
#endif

/* c in every lane. */
static inline uint64_t
swar_bytes(uint8_t c)
{
    return UINT64_C(0x0101010101010101) * c;
}

/* The eight bytes at p (all of them the caller's) in host order. */
static inline uint64_t
swar_load(const void *p)
{
    uint64_t x;

    memcpy(&x, p, sizeof(x));
    return x;
}

/* The eight bytes at p (all of them the caller's), p[k] in lane k. */
static inline uint64_t
swar_load_le(const void *p)
{
#if SWAR_HOST_LE
    return swar_load(p);
#else
    return byteorder_le64((const uint8_t *)p);
#endif
}

/* Lanes of x that are 0x80 or above.  Exact. */
static inline uint64_t
swar_high(uint64_t x)
{
    return x & swar_bytes(0x80);
}

/* Lanes of x below 0x80.  Exact. */
static inline uint64_t
swar_ascii(uint64_t x)
{
    return ~x & swar_bytes(0x80);
}

/* Lanes of x whose bit 7 is that of c: the part of an exact test that
 * the addition on the low seven bits leaves out. */
static inline uint64_t
swar_same_high(uint64_t x, uint8_t c)
{
    return (c & 0x80u) != 0 ? swar_high(x) : swar_ascii(x);
}

/* Lanes of x equal to c.  Exact: (x's low seven bits ^ c's) + 0x7F sets
 * bit 7 in every lane but an equal one, and never carries out of one. */
static inline uint64_t
swar_eq(uint64_t x, uint8_t c)
{
    uint64_t t = x & ~swar_bytes(0x80);

    return ~((t ^ swar_bytes((uint8_t)(c & 0x7Fu))) + swar_bytes(0x7F)) &
           swar_same_high(x, c);
}

/* Lanes of x below n, for n <= 0x80.  Exact: a lane's low seven bits plus
 * 0x80 - n reach bit 7 iff they are >= n, and never carry out of it. */
static inline uint64_t
swar_lt(uint64_t x, uint8_t n)
{
    uint64_t t = x & ~swar_bytes(0x80);

    return ~(t + swar_bytes((uint8_t)(0x80u - n))) & swar_ascii(x);
}

/* Lanes of x in lo..hi, for lo <= hi < 0x80.  Exact: plus 0x80 - lo bit
 * 7 is set iff a lane is >= lo, plus 0x7F - hi iff it is > hi. */
static inline uint64_t
swar_in(uint64_t x, uint8_t lo, uint8_t hi)
{
    uint64_t t = x & ~swar_bytes(0x80);

    return (t + swar_bytes((uint8_t)(0x80u - lo))) &
           ~(t + swar_bytes((uint8_t)(0x7Fu - hi))) & swar_ascii(x);
}

/* Lanes of x that are ASCII letters, either case.  Exact: swar_in of
 * 'a'..'z' on x with bit 5 set in every lane ('A'..'Z' then are
 * 'a'..'z', and no other byte below 0x80 is), but with x's own bit 7:
 * the compiler does not see that ~(x | 0x20..) & 0x80.. is ~x & 0x80..,
 * which the word's other tests share. */
static inline uint64_t
swar_letter(uint64_t x)
{
    uint64_t t = (x & ~swar_bytes(0x80)) | swar_bytes(0x20);

    return (t + swar_bytes(0x80u - 'a')) & ~(t + swar_bytes(0x7Fu - 'z')) &
           swar_ascii(x);
}

/* x with its ASCII capitals in lower case ('A'..'Z' get 0x20); the other
 * lanes as they are. */
static inline uint64_t
swar_lower(uint64_t x)
{
    return x | swar_in(x, 'A', 'Z') >> 2;
}

/* Lanes of x that are 0.  Lowest only: a 0 lane borrows from the lane
 * above, which is then marked when it is 0x01 as well. */
static inline uint64_t
swar_zero_lowest(uint64_t x)
{
    return (x - swar_bytes(0x01)) & swar_ascii(x);
}

/* Lanes of x equal to c.  Lowest only: swar_zero_lowest of x ^ c (a lane
 * c ^ 0x01 above a c lane is marked too), its ~(x ^ c) & 0x80.. written
 * as swar_same_high, which is ~x & 0x80.. for c < 0x80: one for every
 * test on x. */
static inline uint64_t
swar_eq_lowest(uint64_t x, uint8_t c)
{
    return ((x ^ swar_bytes(c)) - swar_bytes(0x01)) & swar_same_high(x, c);
}

/* Lanes of x below n, for 0 < n <= 0x80.  Lowest only: a lane below n
 * borrows from the lane above, which may then be marked when it is n. */
static inline uint64_t
swar_lt_lowest(uint64_t x, uint8_t n)
{
    return (x - swar_bytes(n)) & swar_ascii(x);
}

/* The index (0..7) of the lowest lane marked in m, which is not 0: the
 * first byte in memory for a word from swar_load_le. */
static inline size_t
swar_lowest_lane(uint64_t m)
{
#if defined(__GNUC__)
    return (size_t)__builtin_ctzll(m) >> 3;
#else
    size_t k = 0;

    while ((m & 0x80u) == 0) {
        m >>= 8;
        k++;
    }
    return k;
#endif
}

/* The lanes marked in m, counted (an exact mask). */
static inline size_t
swar_count(uint64_t m)
{
    return (size_t)(((m >> 7) * swar_bytes(0x01)) >> 56);
}

/* All bits of lanes 0..k-1, for k < 8: the bytes before lane k of a word
 * from swar_load_le. */
static inline uint64_t
swar_lanes_below(size_t k)
{
    return ((uint64_t)1 << (8u * k)) - 1u;
}

#endif
