/*
 * byteorder.h -- little-endian integers read from (and written to) byte
 * arrays the caller has already bounds-checked: the fixed-layout records
 * of zip and RAR archives and of the site layer file.  (cursor.h reads
 * the same with a bounds check per read, for sequential records.)
 */
#ifndef CM_BYTEORDER_H
#define CM_BYTEORDER_H

#include <stdint.h>

static inline uint16_t
byteorder_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
byteorder_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t
byteorder_le64(const uint8_t *p)
{
    return (uint64_t)byteorder_le32(p) | (uint64_t)byteorder_le32(p + 4)
                                             << 32;
}

static inline void
byteorder_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#endif
