/*
 * numfmt.c -- "%.2f" by integer arithmetic, see numfmt.h.
 *
 * x = m * 2^e exactly (m a 53-bit integer from frexp), so x * 100 =
 * (100 m) * 2^e with 100 m below 2^60: the hundredths are 100 m shifted
 * by e, rounded half to even on the bits shifted out.  Integer arithmetic
 * throughout, so the result is printf's (which rounds the exact binary
 * value) and does not depend on how the CPU, or valgrind, does floating
 * point.  Below 1e15 the hundredths fit a uint64_t (1e17 < 2^64).
 */
#include "numfmt.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

/* Hundredths of |x| (finite, below 1e15), rounded half to even. */
static uint64_t
hundredths(double x)
{
    int e;
    double f = frexp(fabs(x), &e); /* |x| = f * 2^e, f in [0.5, 1) */
    uint64_t q = (uint64_t)ldexp(f, 53) * 100u;
    unsigned s;
    uint64_t units;
    uint64_t rest;
    uint64_t half;

    e -= 53;
    if (e >= 0) {
        return q << e; /* |x| < 1e15 keeps e small */
    }
    s = (unsigned)-e;
    if (s >= 62) {
        return 0; /* q < 2^60: below a quarter of a hundredth */
    }
    units = q >> s;
    rest = q & (((uint64_t)1 << s) - 1u);
    half = (uint64_t)1 << (s - 1);
    if (rest > half || (rest == half && (units & 1u) != 0)) {
        units++;
    }
    return units;
}

size_t
numfmt_fixed2(double x, char out[NUMFMT_FIXED2_MAX])
{
    char digits[24];
    size_t n = 0;
    size_t o = 0;
    uint64_t units;
    uint64_t whole;

    if (!isfinite(x) || fabs(x) >= 1e15) {
        int w = snprintf(out, NUMFMT_FIXED2_MAX, "%.2f", x);
        return w > 0 ? (size_t)w : 0;
    }
    units = hundredths(x);
    whole = units / 100u;
    do {
        digits[n++] = (char)('0' + whole % 10u);
        whole /= 10u;
    } while (whole > 0);
    if (signbit(x)) {
        out[o++] = '-';
    }
    while (n > 0) {
        out[o++] = digits[--n];
    }
    out[o++] = '.';
    out[o++] = (char)('0' + (units % 100u) / 10u);
    out[o++] = (char)('0' + units % 10u);
    out[o] = '\0';
    return o;
}
