/*
 * delta.h -- binary delta between two cartridge images (SPEC §5).
 *
 * A delta turns a base image into a target image with two operations:
 * copy a range of the base, or insert literal bytes.  It knows nothing of
 * the cartridge format, so any change anywhere in an image is carried by
 * the bytes that differ plus a few bytes per changed region.
 *
 * Delta format 1 (integers little-endian; varint = unsigned LEB128, at most
 * 10 bytes, no overflow, no redundant trailing zero groups):
 *   magic "CMDELTA1" (8) | base_len u64 | target_len u64 |
 *   base_sha256 (32) | target_sha256 (32) | operations...
 *   operation: 0x01 COPY  varint base_offset, varint length (>= 1)
 *              0x02 ADD   varint length (>= 1), that many literal bytes
 *              0x00 END   must be the delta's last byte
 * delta_apply checks the base against base_len and base_sha256 before it
 * reads an operation and the result against target_len and target_sha256
 * after the last one (CRYPTO_memcmp), so a delta applied to the wrong base
 * or a corrupted delta never yields an image.
 *
 * Pure functions on caller-owned memory; any thread.
 */
#ifndef CM_DELTA_H
#define CM_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define DELTA_MAGIC "CMDELTA1"
#define DELTA_MAGIC_LEN 8u
#define DELTA_HEADER_LEN (DELTA_MAGIC_LEN + 8u + 8u + 32u + 32u)

/* What a delta holds, for cmtool inspect and tests. */
struct delta_info {
    uint64_t base_len;
    uint64_t target_len;
    uint8_t base_sha256[32];
    uint8_t target_sha256[32];
    size_t n_copies;
    size_t n_adds;
    uint64_t copied_bytes;
    uint64_t added_bytes;
};

/*
 * Append to out a delta that turns (base, base_len) into (target,
 * target_len).  Memory: an index of at most CAPS_DELTA_INDEX_BLOCKS
 * entries over the base.  CM_ELIMIT when out's cap is reached (the
 * caller then ships a full image instead), CM_ENOMEM, CM_ECRYPTO.
 * Deterministic: the same inputs give the same bytes.
 */
enum cm_err delta_make(const uint8_t *base, size_t base_len,
                       const uint8_t *target, size_t target_len,
                       struct buf *out);

/*
 * Apply delta (d, d_len) to (base, base_len).  On success *out is a
 * malloc'ed target image of *out_len bytes (free() it).  max_target_bytes
 * bounds the declared target size before anything is allocated.
 * Errors: CM_EPARSE (malformed, trailing bytes, copy outside the base,
 * length sums that do not match), CM_ELIMIT (target too big), CM_EDIGEST
 * (base or result does not match its length or SHA-256), CM_ENOMEM.
 * *why (may be NULL) gets a static reason.
 */
enum cm_err delta_apply(const uint8_t *base, size_t base_len,
                        const uint8_t *d, size_t d_len,
                        size_t max_target_bytes, uint8_t **out,
                        size_t *out_len, const char **why);

/* Walk a delta without a base and count its operations (inspect).  Same
 * structural checks as delta_apply, no digest checks. */
enum cm_err delta_describe(const uint8_t *d, size_t d_len,
                           struct delta_info *info, const char **why);

#endif
