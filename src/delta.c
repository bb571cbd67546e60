/*
 * delta.c -- copy/insert binary deltas between cartridge images (format in
 * delta.h; SPEC §5 "deltas from recent versions").
 *
 * DESIGN
 * Making (publisher side, cmtool publish): the base image is cut into
 * DELTA_BLOCK_LEN-byte blocks; each block's polynomial hash goes into an
 * open-addressing table (first occurrence wins, at most DELTA_PROBES probes,
 * at most CAPS_DELTA_INDEX_BLOCKS blocks: larger bases are sampled every
 * n-th block, which still finds every match longer than n blocks).  The
 * target is scanned with the same hash rolled one byte at a time; a hit is
 * confirmed with memcmp, grown backwards over the pending literal bytes and
 * forwards as far as the bytes agree, and emitted as COPY; the bytes between
 * copies become ADD.  Time is linear in the sizes (bounded probes), memory
 * is the table plus the output buffer, whose cap the caller sets.
 *
 * Applying (updater side, untrusted even though it arrived signed): the
 * base must match the delta's base length and SHA-256 first; every length
 * and offset is checked against the bytes left in the delta, the base and
 * the target before it is used; each operation writes at least one byte,
 * so the walk ends after at most target_len + 1 operations; the result
 * must match target_len and target_sha256.  Nothing here recurses.
 *
 * No state; any thread.
 */
#include "delta.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "caps.h"
#include "cursor.h"
#include "updkeys.h"

/* Matches shorter than a block are not worth a COPY (an op costs 3+ bytes
 * before compression, and short matches are mostly noise). */
#define DELTA_BLOCK_LEN 16u
/* Probes per lookup or insert: bounds time on a base made of repeats. */
#define DELTA_PROBES 32u
/* Multiplier of the rolling hash (odd, so powers never vanish mod 2^64). */
#define DELTA_HASH_MUL 0x100000001b3ull
/* A varint never has more than 10 groups of 7 bits for 64 bits. */
#define DELTA_VARINT_MAX 10u

enum delta_op {
    DELTA_OP_END = 0x00,
    DELTA_OP_COPY = 0x01,
    DELTA_OP_ADD = 0x02
};

struct delta_index {
    uint64_t *slot_off;   /* base offset + 1; 0 = empty */
    uint32_t *slot_check; /* high bits of the mixed hash */
    size_t mask;
};

static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static uint64_t
block_hash(const uint8_t *p)
{
    uint64_t h = 0;

    for (size_t i = 0; i < DELTA_BLOCK_LEN; i++) {
        h = h * DELTA_HASH_MUL + p[i];
    }
    return h;
}

static void
index_free(struct delta_index *ix)
{
    free(ix->slot_off);
    free(ix->slot_check);
    ix->slot_off = NULL;
    ix->slot_check = NULL;
}

static enum cm_err
index_build(struct delta_index *ix, const uint8_t *base, size_t base_len)
{
    size_t n_blocks = base_len / DELTA_BLOCK_LEN;
    size_t step = 1;
    size_t n_slots = 1024;

    ix->slot_off = NULL;
    ix->slot_check = NULL;
    ix->mask = 0;
    if (n_blocks == 0) {
        return CM_OK;
    }
    if (n_blocks > CAPS_DELTA_INDEX_BLOCKS) {
        step = (n_blocks + CAPS_DELTA_INDEX_BLOCKS - 1) /
               CAPS_DELTA_INDEX_BLOCKS;
    }
    while (n_slots < 2 * (n_blocks / step + 1)) {
        n_slots *= 2;
    }
    ix->slot_off = calloc(n_slots, sizeof(*ix->slot_off));
    ix->slot_check = calloc(n_slots, sizeof(*ix->slot_check));
    if (ix->slot_off == NULL || ix->slot_check == NULL) {
        index_free(ix);
        return CM_ENOMEM;
    }
    ix->mask = n_slots - 1;
    for (size_t b = 0; b < n_blocks; b += step) {
        size_t off = b * DELTA_BLOCK_LEN;
        uint64_t m = mix64(block_hash(base + off));
        uint32_t check = (uint32_t)(m >> 32);

        for (size_t probe = 0; probe < DELTA_PROBES; probe++) {
            size_t s = (size_t)(m + probe) & ix->mask;
            uint64_t have = ix->slot_off[s];
            if (have == 0) {
                ix->slot_off[s] = (uint64_t)off + 1;
                ix->slot_check[s] = check;
                break;
            }
            if (ix->slot_check[s] == check &&
                memcmp(base + (have - 1), base + off, DELTA_BLOCK_LEN) == 0) {
                break; /* the same block again: keep the first */
            }
        }
    }
    return CM_OK;
}

/* Base offset of a block equal to p[0..BLOCK), or -1 (as SIZE_MAX). */
static size_t
index_find(const struct delta_index *ix, const uint8_t *base, uint64_t h,
           const uint8_t *p)
{
    uint64_t m = mix64(h);
    uint32_t check = (uint32_t)(m >> 32);

    if (ix->slot_off == NULL) {
        return SIZE_MAX;
    }
    for (size_t probe = 0; probe < DELTA_PROBES; probe++) {
        size_t s = (size_t)(m + probe) & ix->mask;
        uint64_t have = ix->slot_off[s];
        if (have == 0) {
            return SIZE_MAX;
        }
        if (ix->slot_check[s] == check &&
            memcmp(base + (have - 1), p, DELTA_BLOCK_LEN) == 0) {
            return (size_t)(have - 1);
        }
    }
    return SIZE_MAX;
}

static enum cm_err
put_varint(struct buf *out, uint64_t v)
{
    uint8_t tmp[DELTA_VARINT_MAX];
    size_t n = 0;

    do {
        uint8_t byte = (uint8_t)(v & 0x7f);
        v >>= 7;
        tmp[n++] = (uint8_t)(byte | (v != 0 ? 0x80 : 0));
    } while (v != 0);
    return buf_append(out, tmp, n);
}

static enum cm_err
put_u64le(struct buf *out, uint64_t v)
{
    uint8_t tmp[8];

    for (size_t i = 0; i < 8; i++) {
        tmp[i] = (uint8_t)(v >> (8 * i));
    }
    return buf_append(out, tmp, sizeof(tmp));
}

static enum cm_err
emit_add(struct buf *out, const uint8_t *p, size_t n)
{
    if (n == 0) {
        return CM_OK;
    }
    if (buf_putc(out, DELTA_OP_ADD) != CM_OK || put_varint(out, n) != CM_OK) {
        return CM_ELIMIT;
    }
    return buf_append(out, p, n);
}

static enum cm_err
emit_copy(struct buf *out, size_t off, size_t n)
{
    if (buf_putc(out, DELTA_OP_COPY) != CM_OK ||
        put_varint(out, off) != CM_OK || put_varint(out, n) != CM_OK) {
        return CM_ELIMIT;
    }
    return CM_OK;
}

/* The scan described in the design comment, after the header. */
static enum cm_err
emit_ops(const struct delta_index *ix, const uint8_t *base, size_t base_len,
         const uint8_t *target, size_t target_len, struct buf *out)
{
    uint64_t top = 1; /* DELTA_HASH_MUL^(BLOCK-1), to roll a byte out */
    uint64_t h = 0;
    size_t i = 0;
    size_t lit = 0;
    enum cm_err rc = CM_OK;

    for (size_t k = 1; k < DELTA_BLOCK_LEN; k++) {
        top *= DELTA_HASH_MUL;
    }
    if (target_len >= DELTA_BLOCK_LEN) {
        h = block_hash(target);
    }
    while (rc == CM_OK && i + DELTA_BLOCK_LEN <= target_len) {
        size_t o = index_find(ix, base, h, target + i);
        if (o != SIZE_MAX) {
            size_t s = i;
            size_t n;
            while (s > lit && o > 0 && target[s - 1] == base[o - 1]) {
                s--;
                o--;
            }
            n = i + DELTA_BLOCK_LEN - s;
            while (s + n < target_len && o + n < base_len &&
                   target[s + n] == base[o + n]) {
                n++;
            }
            rc = emit_add(out, target + lit, s - lit);
            if (rc == CM_OK) {
                rc = emit_copy(out, o, n);
            }
            i = s + n;
            lit = i;
            if (i + DELTA_BLOCK_LEN <= target_len) {
                h = block_hash(target + i);
            }
            continue;
        }
        if (i + DELTA_BLOCK_LEN < target_len) {
            h = (h - target[i] * top) * DELTA_HASH_MUL +
                target[i + DELTA_BLOCK_LEN];
        }
        i++;
    }
    if (rc == CM_OK) {
        rc = emit_add(out, target + lit, target_len - lit);
    }
    if (rc == CM_OK) {
        rc = buf_putc(out, DELTA_OP_END);
    }
    return rc;
}

enum cm_err
delta_make(const uint8_t *base, size_t base_len, const uint8_t *target,
           size_t target_len, struct buf *out)
{
    uint8_t base_sha[UPDKEYS_SHA256_LEN];
    uint8_t target_sha[UPDKEYS_SHA256_LEN];
    struct delta_index ix;
    enum cm_err rc;

    if (updkeys_sha256(base, base_len, base_sha) != CM_OK ||
        updkeys_sha256(target, target_len, target_sha) != CM_OK) {
        return CM_ECRYPTO;
    }
    rc = buf_append(out, DELTA_MAGIC, DELTA_MAGIC_LEN);
    if (rc == CM_OK) {
        rc = put_u64le(out, base_len);
    }
    if (rc == CM_OK) {
        rc = put_u64le(out, target_len);
    }
    if (rc == CM_OK) {
        rc = buf_append(out, base_sha, sizeof(base_sha));
    }
    if (rc == CM_OK) {
        rc = buf_append(out, target_sha, sizeof(target_sha));
    }
    if (rc != CM_OK) {
        return rc;
    }
    rc = index_build(&ix, base, base_len);
    if (rc != CM_OK) {
        return rc;
    }
    rc = emit_ops(&ix, base, base_len, target, target_len, out);
    index_free(&ix);
    return rc;
}

/* Minimal unsigned LEB128 (see delta.h). */
static enum cm_err
read_varint(struct cursor *c, uint64_t *out)
{
    uint64_t v = 0;

    for (size_t i = 0; i < DELTA_VARINT_MAX; i++) {
        uint8_t byte;
        if (cursor_u8(c, &byte) != CM_OK) {
            return CM_EPARSE;
        }
        if (i == DELTA_VARINT_MAX - 1 && byte > 1) {
            return cursor_fail(c, "varint overflows 64 bits");
        }
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if ((byte & 0x80) == 0) {
            if (byte == 0 && i > 0) {
                return cursor_fail(c, "varint not minimal");
            }
            *out = v;
            return CM_OK;
        }
    }
    return cursor_fail(c, "varint too long");
}

struct delta_header {
    uint64_t base_len;
    uint64_t target_len;
    uint8_t base_sha256[32];
    uint8_t target_sha256[32];
};

static enum cm_err
read_header(struct cursor *c, struct delta_header *h, const char **why)
{
    const uint8_t *magic;

    if (cursor_bytes(c, DELTA_MAGIC_LEN, &magic) != CM_OK ||
        memcmp(magic, DELTA_MAGIC, DELTA_MAGIC_LEN) != 0) {
        *why = "not a delta (bad magic)";
        return CM_EPARSE;
    }
    if (cursor_u64le(c, &h->base_len) != CM_OK ||
        cursor_u64le(c, &h->target_len) != CM_OK ||
        cursor_copy(c, h->base_sha256, 32) != CM_OK ||
        cursor_copy(c, h->target_sha256, 32) != CM_OK) {
        *why = "delta header truncated";
        return CM_EPARSE;
    }
    return CM_OK;
}

/*
 * Walk the operations.  With base and out set, produce the target;
 * without, only check the structure.  info (may be NULL) gets the counts.
 */
static enum cm_err
walk(struct cursor *c, const struct delta_header *h, const uint8_t *base,
     uint8_t *out, struct delta_info *info, const char **why)
{
    uint64_t pos = 0;

    for (;;) {
        uint8_t op;
        uint64_t off = 0;
        uint64_t n;
        const uint8_t *lit;

        if (cursor_u8(c, &op) != CM_OK) {
            *why = "delta truncated (no END)";
            return CM_EPARSE;
        }
        if (op == DELTA_OP_END) {
            break;
        }
        if (op != DELTA_OP_COPY && op != DELTA_OP_ADD) {
            *why = "unknown delta operation";
            return CM_EPARSE;
        }
        if (op == DELTA_OP_COPY && read_varint(c, &off) != CM_OK) {
            *why = "bad COPY offset";
            return CM_EPARSE;
        }
        if (read_varint(c, &n) != CM_OK || n == 0) {
            *why = "bad operation length";
            return CM_EPARSE;
        }
        if (n > h->target_len - pos) {
            *why = "operations write past the target length";
            return CM_EPARSE;
        }
        if (op == DELTA_OP_COPY) {
            if (off > h->base_len || n > h->base_len - off) {
                *why = "COPY outside the base";
                return CM_EPARSE;
            }
            if (out != NULL) {
                memcpy(out + pos, base + off, (size_t)n);
            }
            if (info != NULL) {
                info->n_copies++;
                info->copied_bytes += n;
            }
        } else {
            if (n > cursor_left(c) ||
                cursor_bytes(c, (size_t)n, &lit) != CM_OK) {
                *why = "ADD runs past the end of the delta";
                return CM_EPARSE;
            }
            if (out != NULL) {
                memcpy(out + pos, lit, (size_t)n);
            }
            if (info != NULL) {
                info->n_adds++;
                info->added_bytes += n;
            }
        }
        pos += n;
    }
    if (cursor_left(c) != 0) {
        *why = "bytes after END";
        return CM_EPARSE;
    }
    if (pos != h->target_len) {
        *why = "operations do not fill the target";
        return CM_EPARSE;
    }
    return CM_OK;
}

enum cm_err
delta_describe(const uint8_t *d, size_t d_len, struct delta_info *info,
               const char **why)
{
    struct cursor c;
    struct delta_header h;
    struct delta_info tmp;
    const char *reason = NULL;
    enum cm_err rc;

    memset(&tmp, 0, sizeof(tmp));
    cursor_init(&c, d, d_len);
    rc = read_header(&c, &h, &reason);
    if (rc == CM_OK) {
        rc = walk(&c, &h, NULL, NULL, &tmp, &reason);
    }
    if (rc != CM_OK) {
        if (why != NULL) {
            *why = reason;
        }
        return rc;
    }
    tmp.base_len = h.base_len;
    tmp.target_len = h.target_len;
    memcpy(tmp.base_sha256, h.base_sha256, 32);
    memcpy(tmp.target_sha256, h.target_sha256, 32);
    *info = tmp;
    return CM_OK;
}

enum cm_err
delta_apply(const uint8_t *base, size_t base_len, const uint8_t *d,
            size_t d_len, size_t max_target_bytes, uint8_t **out,
            size_t *out_len, const char **why)
{
    struct cursor c;
    struct delta_header h;
    uint8_t digest[UPDKEYS_SHA256_LEN];
    uint8_t *target = NULL;
    const char *reason = NULL;
    enum cm_err rc;

    cursor_init(&c, d, d_len);
    rc = read_header(&c, &h, &reason);
    if (rc != CM_OK) {
        goto fail;
    }
    if (h.target_len > max_target_bytes || h.target_len > SIZE_MAX - 1) {
        reason = "delta target larger than the cap";
        rc = CM_ELIMIT;
        goto fail;
    }
    if (h.base_len != base_len) {
        reason = "delta made for a base of another length";
        rc = CM_EDIGEST;
        goto fail;
    }
    if (updkeys_sha256(base, base_len, digest) != CM_OK) {
        reason = "SHA-256 failed";
        rc = CM_ECRYPTO;
        goto fail;
    }
    if (CRYPTO_memcmp(digest, h.base_sha256, sizeof(digest)) != 0) {
        reason = "delta made for another base (SHA-256 differs)";
        rc = CM_EDIGEST;
        goto fail;
    }
    target = malloc((size_t)h.target_len + 1);
    if (target == NULL) {
        reason = "out of memory";
        rc = CM_ENOMEM;
        goto fail;
    }
    rc = walk(&c, &h, base, target, NULL, &reason);
    if (rc != CM_OK) {
        goto fail;
    }
    if (updkeys_sha256(target, (size_t)h.target_len, digest) != CM_OK) {
        reason = "SHA-256 failed";
        rc = CM_ECRYPTO;
        goto fail;
    }
    if (CRYPTO_memcmp(digest, h.target_sha256, sizeof(digest)) != 0) {
        reason = "delta result does not match its SHA-256";
        rc = CM_EDIGEST;
        goto fail;
    }
    *out = target;
    *out_len = (size_t)h.target_len;
    return CM_OK;
fail:
    free(target);
    if (why != NULL) {
        *why = reason;
    }
    return rc;
}
