/*
 * test_delta.c -- unit tests for delta: make/apply round trips on random
 * and structured images, small deltas for small changes, every corrupted
 * or truncated delta refused, the wrong base refused, the target cap, and
 * hand-made deltas that hit each structural check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "delta.h"
#include "updkeys.h"

/* Test data generator (splitmix64); not the product's PRNG on purpose. */
static uint64_t
next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint8_t *
random_bytes(size_t n, uint64_t seed)
{
    uint8_t *p = malloc(n + 1);

    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)next_rand(&seed);
    }
    return p;
}

/* Make a delta base → target, apply it, compare; returns the delta size. */
static size_t
round_trip(const uint8_t *base, size_t base_len, const uint8_t *target,
           size_t target_len)
{
    struct buf d;
    uint8_t *out = NULL;
    size_t out_len = 0;
    size_t n;
    const char *why = NULL;

    buf_init(&d, 64u * 1024 * 1024);
    assert_int_equal(delta_make(base, base_len, target, target_len, &d),
                     CM_OK);
    assert_int_equal(delta_apply(base, base_len, d.data, d.len, target_len,
                                 &out, &out_len, &why),
                     CM_OK);
    assert_int_equal(out_len, target_len);
    if (target_len > 0) {
        assert_memory_equal(out, target, target_len);
    }
    free(out);
    n = d.len;
    buf_clear(&d);
    return n;
}

static void
test_delta_round_trip_random(void **state)
{
    uint8_t *a = random_bytes(200000, 1);
    uint8_t *b = random_bytes(150000, 2);

    (void)state;
    /* unrelated images: the delta is about the target's size */
    assert_true(round_trip(a, 200000, b, 150000) < 150000 + 100);
    /* identical images: a few bytes */
    assert_true(round_trip(a, 200000, a, 200000) < DELTA_HEADER_LEN + 16);
    /* empty base, empty target, both empty, tiny sizes */
    round_trip(a, 0, b, 1000);
    round_trip(a, 1000, b, 0);
    round_trip(a, 0, b, 0);
    round_trip(a, 5, a + 1, 3);
    round_trip(a, 15, a, 17);
    free(a);
    free(b);
}

static void
test_delta_small_when_little_changed(void **state)
{
    const size_t n = 1u << 20;
    uint8_t *base = random_bytes(n, 3);
    uint8_t *target = malloc(n + 4096);
    uint64_t seed = 9;
    size_t tlen;
    size_t dlen;

    (void)state;
    assert_non_null(target);
    /* 20 scattered byte changes, 100 bytes inserted, 3000 bytes cut */
    memcpy(target, base, 400000);
    memcpy(target + 400000, "inserted-inserted-inserted-inserted-inserted-"
                            "inserted-inserted-inserted-inserted-inserted-"
                            "0123456789",
           100);
    memcpy(target + 400100, base + 400000, n - 400000);
    tlen = n + 100;
    memmove(target + 700000, target + 703000, tlen - 703000);
    tlen -= 3000;
    for (size_t i = 0; i < 20; i++) {
        target[next_rand(&seed) % tlen] ^= 0x5a;
    }
    dlen = round_trip(base, n, target, tlen);
    assert_true(dlen < 2000); /* against ~1 MiB */
    free(base);
    free(target);
}

static void
test_delta_round_trip_structured(void **state)
{
    /* Records of 12 bytes like a sorted hash table: shifted by an insert,
     * with some weights changed, as a retrained cartridge looks. */
    const size_t n_rec = 20000;
    uint8_t *base = malloc(n_rec * 12);
    uint8_t *target = malloc((n_rec + 100) * 12);
    size_t t = 0;
    size_t dlen;

    (void)state;
    assert_non_null(base);
    assert_non_null(target);
    for (size_t i = 0; i < n_rec; i++) {
        uint64_t key = i * 2654435761u;
        memcpy(base + 12 * i, &key, 8);
        memcpy(base + 12 * i + 8, &(uint32_t){(uint32_t)(i % 251)}, 4);
    }
    for (size_t i = 0; i < n_rec; i++) {
        memcpy(target + t, base + 12 * i, 12);
        if (i % 997 == 0) {
            target[t + 9] ^= 0x11;
        }
        t += 12;
        if (i % 200 == 0) {
            memset(target + t, (int)(i & 0xff), 12);
            t += 12;
        }
    }
    dlen = round_trip(base, n_rec * 12, target, t);
    assert_true(dlen < t / 10);
    /* repetitive base (many equal blocks) and target */
    memset(base, 'x', n_rec * 12);
    memset(target, 'x', t);
    target[t / 2] = 'y';
    dlen = round_trip(base, n_rec * 12, target, t);
    assert_true(dlen < 200);
    free(base);
    free(target);
}

static void
test_delta_corruption_refused(void **state)
{
    uint8_t *base = random_bytes(4000, 4);
    uint8_t *target = malloc(4100);
    struct buf d;
    uint8_t *out = NULL;
    size_t out_len = 0;

    (void)state;
    assert_non_null(target);
    memcpy(target, base, 1000);
    memcpy(target + 1000, "CHANGED!", 8);
    memcpy(target + 1008, base + 1000, 3000);
    buf_init(&d, 1u << 20);
    assert_int_equal(delta_make(base, 4000, target, 4008, &d), CM_OK);
    /* every single flipped bit anywhere is refused */
    for (size_t i = 0; i < d.len; i++) {
        for (unsigned bit = 0; bit < 8; bit += 3) {
            d.data[i] ^= (uint8_t)(1u << bit);
            assert_int_not_equal(delta_apply(base, 4000, d.data, d.len,
                                             1u << 20, &out, &out_len, NULL),
                                 CM_OK);
            d.data[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* every truncation and one extra byte are refused */
    for (size_t n = 0; n < d.len; n++) {
        assert_int_not_equal(delta_apply(base, 4000, d.data, n, 1u << 20,
                                         &out, &out_len, NULL),
                             CM_OK);
    }
    buf_putc(&d, 0);
    assert_int_equal(delta_apply(base, 4000, d.data, d.len, 1u << 20, &out,
                                 &out_len, NULL),
                     CM_EPARSE);
    d.len--;
    /* the wrong base: another length, then the same length */
    assert_int_equal(delta_apply(base, 3999, d.data, d.len, 1u << 20, &out,
                                 &out_len, NULL),
                     CM_EDIGEST);
    base[7] ^= 1;
    assert_int_equal(delta_apply(base, 4000, d.data, d.len, 1u << 20, &out,
                                 &out_len, NULL),
                     CM_EDIGEST);
    base[7] ^= 1;
    /* target cap: at the size it works, one byte less is refused */
    assert_int_equal(delta_apply(base, 4000, d.data, d.len, 4008, &out,
                                 &out_len, NULL),
                     CM_OK);
    free(out);
    assert_int_equal(delta_apply(base, 4000, d.data, d.len, 4007, &out,
                                 &out_len, NULL),
                     CM_ELIMIT);
    buf_clear(&d);
    free(base);
    free(target);
}

/* A hand-made delta over base (right digests) with ops appended raw. */
static void
crafted(struct buf *d, const uint8_t *base, size_t base_len,
        const uint8_t *target, size_t target_len, const uint8_t *ops,
        size_t ops_len)
{
    uint8_t sha[32];
    uint64_t v;

    buf_reset(d);
    buf_append(d, DELTA_MAGIC, DELTA_MAGIC_LEN);
    v = base_len;
    buf_append(d, &v, 8); /* the test host is little-endian */
    v = target_len;
    buf_append(d, &v, 8);
    updkeys_sha256(base, base_len, sha);
    buf_append(d, sha, 32);
    updkeys_sha256(target, target_len, sha);
    buf_append(d, sha, 32);
    buf_append(d, ops, ops_len);
}

static enum cm_err
apply_crafted(const uint8_t *ops, size_t ops_len, const uint8_t *target,
              size_t target_len)
{
    static const uint8_t base[8] = "ABCDEFGH";
    struct buf d;
    uint8_t *out = NULL;
    size_t out_len = 0;
    const char *why = NULL;
    enum cm_err rc;

    buf_init(&d, 4096);
    crafted(&d, base, 8, target, target_len, ops, ops_len);
    rc = delta_apply(base, 8, d.data, d.len, 1024, &out, &out_len, &why);
    if (rc == CM_OK) {
        assert_int_equal(out_len, target_len);
        assert_memory_equal(out, target, target_len);
        free(out);
    } else {
        assert_non_null(why);
    }
    buf_clear(&d);
    return rc;
}

static void
test_delta_crafted_checks(void **state)
{
    (void)state;
    /* COPY 2..5 then ADD "xy" then END: "CDExy" */
    assert_int_equal(apply_crafted((const uint8_t *)"\x01\x02\x03\x02\x02xy"
                                                    "\x00",
                                   8, (const uint8_t *)"CDExy", 5),
                     CM_OK);
    /* COPY reaching one past the base */
    assert_int_equal(apply_crafted((const uint8_t *)"\x01\x06\x03\x00", 4,
                                   (const uint8_t *)"GH?", 3),
                     CM_EPARSE);
    /* COPY at the last byte is fine */
    assert_int_equal(apply_crafted((const uint8_t *)"\x01\x07\x01\x00", 4,
                                   (const uint8_t *)"H", 1),
                     CM_OK);
    /* zero-length operation */
    assert_int_equal(apply_crafted((const uint8_t *)"\x02\x00\x00", 3,
                                   (const uint8_t *)"", 0),
                     CM_EPARSE);
    /* writes past the declared target */
    assert_int_equal(apply_crafted((const uint8_t *)"\x02\x03xyz\x00", 6,
                                   (const uint8_t *)"xy", 2),
                     CM_EPARSE);
    /* does not fill the target */
    assert_int_equal(apply_crafted((const uint8_t *)"\x02\x01x\x00", 4,
                                   (const uint8_t *)"xy", 2),
                     CM_EPARSE);
    /* unknown op, bytes after END, no END */
    assert_int_equal(apply_crafted((const uint8_t *)"\x03\x01x\x00", 4,
                                   (const uint8_t *)"x", 1),
                     CM_EPARSE);
    assert_int_equal(apply_crafted((const uint8_t *)"\x02\x01x\x00\x00", 5,
                                   (const uint8_t *)"x", 1),
                     CM_EPARSE);
    assert_int_equal(apply_crafted((const uint8_t *)"\x02\x01x", 3,
                                   (const uint8_t *)"x", 1),
                     CM_EPARSE);
    /* non-minimal varint (0x81 0x00 = 1) and an 11-byte varint */
    assert_int_equal(apply_crafted((const uint8_t *)"\x02\x81\x00x\x00", 5,
                                   (const uint8_t *)"x", 1),
                     CM_EPARSE);
    assert_int_equal(apply_crafted((const uint8_t *)"\x01\xff\xff\xff\xff\xff"
                                                    "\xff\xff\xff\xff\x02\x01"
                                                    "\x00",
                                   13, (const uint8_t *)"x", 1),
                     CM_EPARSE);
    /* ADD longer than the delta */
    assert_int_equal(apply_crafted((const uint8_t *)"\x02\x05xy", 4,
                                   (const uint8_t *)"xyzzy", 5),
                     CM_EPARSE);
}

static void
test_delta_describe(void **state)
{
    uint8_t *base = random_bytes(10000, 5);
    uint8_t *target = malloc(10010);
    struct buf d;
    struct delta_info info;
    const char *why = NULL;

    (void)state;
    assert_non_null(target);
    memcpy(target, base, 5000);
    memcpy(target + 5000, "0123456789", 10);
    memcpy(target + 5010, base + 5000, 5000);
    buf_init(&d, 1u << 20);
    assert_int_equal(delta_make(base, 10000, target, 10010, &d), CM_OK);
    assert_int_equal(delta_describe(d.data, d.len, &info, &why), CM_OK);
    assert_int_equal(info.base_len, 10000);
    assert_int_equal(info.target_len, 10010);
    assert_int_equal(info.n_copies, 2);
    assert_int_equal(info.n_adds, 1);
    assert_int_equal(info.added_bytes, 10);
    assert_int_equal(info.copied_bytes, 10000);
    assert_int_equal(delta_describe(d.data, 8, &info, &why), CM_EPARSE);
    assert_int_equal(delta_describe((const uint8_t *)"CMDELTA2", 8, &info,
                                    &why),
                     CM_EPARSE);
    /* the output cap makes delta_make stop with CM_ELIMIT */
    buf_clear(&d);
    buf_init(&d, 100);
    free(target);
    target = random_bytes(5000, 77);
    assert_int_equal(delta_make(base, 10000, target, 5000, &d), CM_ELIMIT);
    buf_clear(&d);
    free(base);
    free(target);
}

/* A length for the property test: the sizes around a block (16 bytes)
 * where off-by-ones live, or anything up to 3000. */
static size_t
pick_len(uint64_t *seed)
{
    static const size_t edges[] = {0, 1, 2, 15, 16, 17, 31, 32, 33, 47, 48,
                                   49, 64};
    uint64_t r = next_rand(seed);

    if (r % 2 == 0) {
        return edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))];
    }
    return (size_t)((r >> 8) % 3000);
}

/* len bytes, random or (one time in three) from a 2-letter alphabet, so
 * that blocks repeat and the index keeps only the first of equal ones. */
static void
fill(uint8_t *p, size_t len, uint64_t *seed)
{
    bool is_repetitive = next_rand(seed) % 3 == 0;

    for (size_t i = 0; i < len; i++) {
        uint8_t v = (uint8_t)next_rand(seed);
        p[i] = is_repetitive ? (uint8_t)('a' + (v & 1)) : v;
    }
}

/* target made from base by a few random edits: runs copied from anywhere
 * in the base (shifted, repeated, reordered), runs of new bytes, single
 * flipped bytes.  Returns its length (at most cap). */
static size_t
edit(const uint8_t *base, size_t base_len, uint8_t *target, size_t cap,
     uint64_t *seed)
{
    size_t t = 0;
    size_t n_edits = (size_t)(next_rand(seed) % 8);

    for (size_t e = 0; e <= n_edits && t < cap; e++) {
        uint64_t r = next_rand(seed);
        size_t n = (size_t)((r >> 8) % 700);

        n = n > cap - t ? cap - t : n;
        if (r % 3 != 0 && base_len > 0) {
            size_t off = (size_t)(next_rand(seed) % base_len);
            n = n > base_len - off ? base_len - off : n;
            memcpy(target + t, base + off, n);
        } else {
            fill(target + t, n, seed);
        }
        t += n;
    }
    if (t > 0 && next_rand(seed) % 2 == 0) {
        target[next_rand(seed) % t] ^= 0x40;
    }
    return t;
}

/*
 * The property: apply(base, make(base, target)) == target for any pair,
 * over 3000 random pairs biased to the edge sizes (empty base, base or
 * target shorter than a block, exactly one or two blocks, identical
 * images, target longer than base, repetitive content).
 */
static void
test_delta_property(void **state)
{
    uint64_t seed = 20261207;
    uint8_t *base = malloc(3000);
    uint8_t *target = malloc(6000);

    (void)state;
    assert_non_null(base);
    assert_non_null(target);
    for (int iter = 0; iter < 3000; iter++) {
        size_t base_len = pick_len(&seed);
        size_t target_len;
        uint64_t how = next_rand(&seed) % 4;

        fill(base, base_len, &seed);
        if (how == 0) { /* identical */
            memcpy(target, base, base_len);
            target_len = base_len;
        } else if (how == 1) { /* unrelated, edge sizes too */
            target_len = pick_len(&seed);
            fill(target, target_len, &seed);
        } else { /* edited, possibly longer than the base */
            target_len = edit(base, base_len, target, 6000, &seed);
        }
        round_trip(base, base_len, target, target_len);
        if (how == 0 && base_len >= 16) {
            /* one COPY of the whole base: header + a few bytes */
            struct buf d;
            buf_init(&d, 1u << 20);
            assert_int_equal(delta_make(base, base_len, target, target_len,
                                        &d),
                             CM_OK);
            assert_true(d.len <= DELTA_HEADER_LEN + 1 + 1 + 2 + 1);
            buf_clear(&d);
        }
    }
    free(base);
    free(target);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delta_round_trip_random),
        cmocka_unit_test(test_delta_small_when_little_changed),
        cmocka_unit_test(test_delta_round_trip_structured),
        cmocka_unit_test(test_delta_corruption_refused),
        cmocka_unit_test(test_delta_crafted_checks),
        cmocka_unit_test(test_delta_describe),
        cmocka_unit_test(test_delta_property),
    };

    return cmocka_run_group_tests_name("delta", tests, NULL, NULL);
}
