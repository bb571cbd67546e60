/*
 * bytetable.h -- 256-entry lookup tables built at compile time from a
 * function-like macro of the byte value, so a hot scanner classifies a
 * byte with one load instead of a chain of compares:
 *
 *     #define IS_STOP(c) ((c) <= ' ' || (c) == '<')
 *     static const bool stop[256] = {BYTETABLE(IS_STOP)};
 *
 * F is expanded once per byte value 0..255 with an int constant argument.
 */
#ifndef CM_BYTETABLE_H
#define CM_BYTETABLE_H

/* ASCII lower case, for a table of byte values:
 *     static const uint8_t lower_of[256] = {BYTETABLE(BYTETABLE_LOWER)};
 * '| 0x20', not '+ 32': clang checks the untaken branch of every entry as
 * a constant too, and 255 + 32 does not fit a byte (-Wconstant-conversion). */
#define BYTETABLE_LOWER(c) ((c) >= 'A' && (c) <= 'Z' ? (c) | 0x20 : (c))

#define BYTETABLE_4(F, c) F(c), F((c) + 1), F((c) + 2), F((c) + 3)
#define BYTETABLE_16(F, c)                                                 \
    BYTETABLE_4(F, c), BYTETABLE_4(F, (c) + 4), BYTETABLE_4(F, (c) + 8),   \
        BYTETABLE_4(F, (c) + 12)
#define BYTETABLE_64(F, c)                                                 \
    BYTETABLE_16(F, c), BYTETABLE_16(F, (c) + 16),                         \
        BYTETABLE_16(F, (c) + 32), BYTETABLE_16(F, (c) + 48)
#define BYTETABLE(F)                                                       \
    BYTETABLE_64(F, 0), BYTETABLE_64(F, 64), BYTETABLE_64(F, 128),         \
        BYTETABLE_64(F, 192)

#endif
