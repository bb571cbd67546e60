/*
 * numfmt.h -- decimal text of numbers without the cost of printf's
 * floating-point path (issue #7: the engine formats two margins for
 * every message it scores).
 *
 * numfmt_fixed2 writes exactly what snprintf(out, NUMFMT_FIXED2_MAX,
 * "%.2f", x) writes under the default rounding mode: the exact binary
 * value rounded half to even at the second decimal, "-" for a negative
 * value or negative zero.  Values of 1e15 and above in magnitude, NaN and
 * infinities are handed to snprintf itself.
 *
 * State: none; thread-safe.
 */
#ifndef CM_NUMFMT_H
#define CM_NUMFMT_H

#include <stddef.h>

/* Room for any double in "%.2f" (DBL_MAX has 309 integer digits). */
#define NUMFMT_FIXED2_MAX 320u

/* "%.2f" of x into out (NUL-terminated); returns its length. */
size_t numfmt_fixed2(double x, char out[NUMFMT_FIXED2_MAX]);

#endif
