/*
 * test_updfile.c -- unit tests for updfile: update files (build → open
 * round trips, full and delta; every refusal: a flipped bit anywhere,
 * truncation, wrong or unknown keys, replay, zip bomb and the other inflate
 * lies, caps) and manifests (round trip, expiry, signature, malformed
 * lines, caps, pick).  Crafted files are built here independently of
 * updfile_build, from the layout documented in updfile.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "buf.h"
#include "caps.h"
#include "delta.h"
#include "updfile.h"
#include "updkeys.h"

struct fixture {
    struct updkeys_key secret;
    struct updkeys_key content;
    struct updkeys_ring pub_ring;
    struct updkeys_ring content_ring;
    struct updkeys_key other_secret; /* a second, unknown key set */
    struct updkeys_key other_content;
    struct updkeys_ring other_pub_ring;
    struct updkeys_ring other_content_ring;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct updkeys_key pub;

    if (f == NULL) {
        return -1;
    }
    if (updkeys_generate(&f->secret, &pub, &f->content) != CM_OK) {
        return -1;
    }
    f->pub_ring.kind = UPDKEYS_SIGNING_PUBLIC;
    f->pub_ring.n_keys = 1;
    f->pub_ring.keys[0] = pub;
    f->content_ring.kind = UPDKEYS_CONTENT;
    f->content_ring.n_keys = 1;
    f->content_ring.keys[0] = f->content;
    if (updkeys_generate(&f->other_secret, &pub, &f->other_content) !=
        CM_OK) {
        return -1;
    }
    f->other_pub_ring.kind = UPDKEYS_SIGNING_PUBLIC;
    f->other_pub_ring.n_keys = 1;
    f->other_pub_ring.keys[0] = pub;
    f->other_content_ring.kind = UPDKEYS_CONTENT;
    f->other_content_ring.n_keys = 1;
    f->other_content_ring.keys[0] = f->other_content;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    free(*state);
    return 0;
}

static void
fill(uint8_t *p, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(seed >> 56);
    }
}

/* A full update of (img, len) at version into out. */
static void
build_full(const struct fixture *f, const uint8_t *img, size_t len,
           uint64_t version, struct buf *out)
{
    struct updfile_spec spec;

    memset(&spec, 0, sizeof(spec));
    spec.kind = UPDFILE_FULL;
    spec.version = version;
    assert_int_equal(updkeys_sha256(img, len, spec.target_sha256), CM_OK);
    assert_int_equal(updfile_build(&spec, img, len, &f->secret, &f->content,
                                   out),
                     CM_OK);
}

static enum cm_err
open_with(const struct updkeys_ring *pub, const struct updkeys_ring *content,
          const uint8_t *p, size_t len, uint64_t current)
{
    struct updfile_header h;
    uint8_t *payload = NULL;
    size_t n = 0;
    const char *why = NULL;
    enum cm_err rc;

    rc = updfile_open(p, len, pub, content, current, &h, &payload, &n, &why);
    if (rc == CM_OK) {
        free(payload);
    } else {
        assert_non_null(why);
        assert_null(payload);
    }
    return rc;
}

static void
test_updfile_full_round_trip(void **state)
{
    struct fixture *f = *state;
    uint8_t img[5000];
    struct buf b;
    struct updfile_header h;
    uint8_t *payload = NULL;
    size_t n = 0;
    const char *why = NULL;

    fill(img, sizeof(img), 1);
    memset(img + 1000, 'z', 3000); /* compressible */
    buf_init(&b, CAPS_UPDFILE_MAX_BYTES);
    build_full(f, img, sizeof(img), 7, &b);
    assert_true(b.len < sizeof(img));
    assert_memory_equal(b.data, UPDFILE_MAGIC, 8);
    assert_int_equal(updfile_open(b.data, b.len, &f->pub_ring,
                                  &f->content_ring, 6, &h, &payload, &n,
                                  &why),
                     CM_OK);
    assert_int_equal(n, sizeof(img));
    assert_memory_equal(payload, img, sizeof(img));
    assert_int_equal(h.kind, UPDFILE_FULL);
    assert_int_equal(h.version, 7);
    assert_int_equal(h.base_version, 0);
    assert_memory_equal(h.signing_key_id, f->secret.id, 8);
    assert_memory_equal(h.content_key_id, f->content.id, 8);
    assert_int_equal(h.ciphertext_len + UPDFILE_OVERHEAD, b.len);
    free(payload);
    /* current version 0 (embedded default) accepts any version */
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_OK);
    buf_clear(&b);
}

static void
test_updfile_delta_round_trip(void **state)
{
    struct fixture *f = *state;
    uint8_t base[20000];
    uint8_t target[20000];
    struct buf d;
    struct buf b;
    struct updfile_spec spec;
    struct updfile_header h;
    uint8_t *payload = NULL;
    uint8_t *image = NULL;
    size_t n = 0;
    size_t image_len = 0;

    fill(base, sizeof(base), 2);
    memcpy(target, base, sizeof(target));
    memcpy(target + 12345, "new weights", 11);
    buf_init(&d, 1u << 20);
    assert_int_equal(delta_make(base, sizeof(base), target, sizeof(target),
                                &d),
                     CM_OK);
    memset(&spec, 0, sizeof(spec));
    spec.kind = UPDFILE_DELTA;
    spec.version = 3;
    spec.base_version = 2;
    updkeys_sha256(target, sizeof(target), spec.target_sha256);
    buf_init(&b, CAPS_UPDFILE_MAX_BYTES);
    assert_int_equal(updfile_build(&spec, d.data, d.len, &f->secret,
                                   &f->content, &b),
                     CM_OK);
    assert_true(b.len < 400);
    assert_int_equal(updfile_open(b.data, b.len, &f->pub_ring,
                                  &f->content_ring, 2, &h, &payload, &n,
                                  NULL),
                     CM_OK);
    assert_int_equal(h.kind, UPDFILE_DELTA);
    assert_int_equal(h.base_version, 2);
    assert_int_equal(delta_apply(base, sizeof(base), payload, n,
                                 CAPS_UPDFILE_PAYLOAD_MAX_BYTES, &image,
                                 &image_len, NULL),
                     CM_OK);
    assert_int_equal(image_len, sizeof(target));
    assert_memory_equal(image, target, sizeof(target));
    free(image);
    free(payload);
    buf_clear(&b);
    buf_clear(&d);
}

static void
test_updfile_build_refuses_bad_specs(void **state)
{
    struct fixture *f = *state;
    uint8_t img[100];
    struct updfile_spec spec;
    struct buf b;

    fill(img, sizeof(img), 3);
    buf_init(&b, CAPS_UPDFILE_MAX_BYTES);
    memset(&spec, 0, sizeof(spec));
    spec.kind = UPDFILE_FULL;
    spec.version = 1;
    /* full with a wrong target digest */
    assert_int_equal(updfile_build(&spec, img, sizeof(img), &f->secret,
                                   &f->content, &b),
                     CM_EINVAL);
    updkeys_sha256(img, sizeof(img), spec.target_sha256);
    /* keys swapped */
    assert_int_equal(updfile_build(&spec, img, sizeof(img), &f->content,
                                   &f->secret, &b),
                     CM_EINVAL);
    /* version 0, full with a base, delta with base >= version */
    spec.version = 0;
    assert_int_equal(updfile_build(&spec, img, sizeof(img), &f->secret,
                                   &f->content, &b),
                     CM_EINVAL);
    spec.version = 2;
    spec.base_version = 1;
    assert_int_equal(updfile_build(&spec, img, sizeof(img), &f->secret,
                                   &f->content, &b),
                     CM_EINVAL);
    spec.kind = UPDFILE_DELTA;
    spec.base_version = 2;
    assert_int_equal(updfile_build(&spec, img, sizeof(img), &f->secret,
                                   &f->content, &b),
                     CM_EINVAL);
    /* empty and oversize payloads */
    spec.base_version = 1;
    assert_int_equal(updfile_build(&spec, img, 0, &f->secret, &f->content,
                                   &b),
                     CM_EINVAL);
    assert_int_equal(updfile_build(&spec, img,
                                   CAPS_UPDFILE_PAYLOAD_MAX_BYTES + 1u,
                                   &f->secret, &f->content, &b),
                     CM_ELIMIT);
    assert_int_equal(b.len, 0);
    buf_clear(&b);
}

static void
test_updfile_every_flipped_byte_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t img[300];
    struct buf b;

    fill(img, sizeof(img), 4);
    buf_init(&b, CAPS_UPDFILE_MAX_BYTES);
    build_full(f, img, sizeof(img), 5, &b);
    for (size_t i = 0; i < b.len; i++) {
        b.data[i] ^= 0x04;
        assert_int_not_equal(open_with(&f->pub_ring, &f->content_ring,
                                       b.data, b.len, 0),
                             CM_OK);
        b.data[i] ^= 0x04;
    }
    /* specific places give specific codes */
    b.data[b.len - 1] ^= 1; /* signature */
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_ESIG);
    b.data[b.len - 1] ^= 1;
    b.data[UPDFILE_HEADER_LEN + 3] ^= 1; /* ciphertext */
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_ESIG);
    b.data[UPDFILE_HEADER_LEN + 3] ^= 1;
    b.data[40] ^= 1; /* signing key id */
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EKEY);
    b.data[40] ^= 1;
    b.data[0] ^= 1; /* magic */
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EPARSE);
    b.data[0] ^= 1;
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_OK);
    buf_clear(&b);
}

static void
test_updfile_truncation_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t img[2000];
    struct buf b;
    size_t cuts[] = {0, 1, 7, 8, 12, 111, 112, 113, 0, 0, 0, 0};

    fill(img, sizeof(img), 5);
    buf_init(&b, CAPS_UPDFILE_MAX_BYTES);
    build_full(f, img, sizeof(img), 5, &b);
    cuts[8] = b.len - 65;
    cuts[9] = b.len - 64;
    cuts[10] = b.len - 1;
    cuts[11] = b.len / 2;
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data,
                                   cuts[i], 0),
                         CM_EPARSE);
    }
    /* one byte too many */
    buf_putc(&b, 0);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EPARSE);
    buf_clear(&b);
}

static void
test_updfile_keys_and_replay(void **state)
{
    struct fixture *f = *state;
    uint8_t img[500];
    struct buf b;
    struct updkeys_ring forged;
    struct updkeys_ring both;

    fill(img, sizeof(img), 6);
    buf_init(&b, CAPS_UPDFILE_MAX_BYTES);
    build_full(f, img, sizeof(img), 10, &b);
    /* unknown signing key id, unknown content key id */
    assert_int_equal(open_with(&f->other_pub_ring, &f->content_ring, b.data,
                               b.len, 0),
                     CM_EKEY);
    assert_int_equal(open_with(&f->pub_ring, &f->other_content_ring, b.data,
                               b.len, 0),
                     CM_EKEY);
    /* a wrong public key that claims the right id: bad signature */
    forged = f->other_pub_ring;
    memcpy(forged.keys[0].id, f->secret.id, 8);
    assert_int_equal(open_with(&forged, &f->content_ring, b.data, b.len, 0),
                     CM_ESIG);
    /* a wrong content key that claims the right id: GCM fails */
    forged = f->other_content_ring;
    memcpy(forged.keys[0].id, f->content.id, 8);
    assert_int_equal(open_with(&f->pub_ring, &forged, b.data, b.len, 0),
                     CM_ECRYPTO);
    /* rotation: the right key second in the ring */
    both = f->other_pub_ring;
    both.keys[1] = f->pub_ring.keys[0];
    both.n_keys = 2;
    assert_int_equal(open_with(&both, &f->content_ring, b.data, b.len, 0),
                     CM_OK);
    /* replay: same or older installed version refused, older accepted */
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               10),
                     CM_EVERSION);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               11),
                     CM_EVERSION);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               9),
                     CM_OK);
    buf_clear(&b);
}

/* ---- crafted files --------------------------------------------------- */

struct raw {
    uint32_t format;
    uint32_t kind;
    uint64_t version;
    uint64_t base;
    uint32_t reserved;
    uint64_t inflated_len;
    uint8_t sha[32];
};

static void
le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void
le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* Encrypt and sign z (the would-be zlib stream) under header r, following
 * the documented layout, with the fixture's keys. */
static void
raw_file(const struct fixture *f, const struct raw *r, const uint8_t *z,
         size_t zlen, struct buf *out)
{
    uint8_t h[UPDFILE_HEADER_LEN];
    uint8_t nonce[12] = "nonce-nonce";
    uint8_t tag[16];
    uint8_t sig[64];
    uint8_t *ct = malloc(zlen + 1);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;

    assert_non_null(ct);
    memset(h, 0, sizeof(h));
    memcpy(h, UPDFILE_MAGIC, 8);
    le32(h + 8, r->format);
    le32(h + 12, r->kind);
    le64(h + 16, r->version);
    le64(h + 24, r->base);
    memcpy(h + 32, f->content.id, 8);
    memcpy(h + 40, f->secret.id, 8);
    memcpy(h + 48, nonce, 12);
    le32(h + 60, r->reserved);
    le64(h + 64, zlen);
    le64(h + 72, r->inflated_len);
    memcpy(h + 80, r->sha, 32);
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL,
                                        f->content.key, nonce),
                     1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, h, sizeof(h)), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, ct, &n, z, (int)zlen), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, ct + n, &n), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag),
                     1);
    EVP_CIPHER_CTX_free(ctx);
    buf_reset(out);
    buf_append(out, h, sizeof(h));
    buf_append(out, ct, zlen);
    buf_append(out, tag, 16);
    assert_int_equal(updkeys_sign(&f->secret, out->data, out->len, sig),
                     CM_OK);
    buf_append(out, sig, 64);
    free(ct);
}

static void
raw_defaults(struct raw *r, const uint8_t *img, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->format = 1;
    r->kind = 1;
    r->version = 4;
    r->inflated_len = len;
    updkeys_sha256(img, len, r->sha);
}

static void
test_updfile_crafted_refusals(void **state)
{
    struct fixture *f = *state;
    const size_t big = 4u << 20;
    uint8_t *img = calloc(1, big);
    uint8_t *z = malloc(compressBound(big) + 16);
    uLongf zlen = compressBound(big);
    struct buf b;
    struct raw r;

    assert_non_null(img);
    assert_non_null(z);
    buf_init(&b, CAPS_UPDFILE_MAX_BYTES);
    assert_int_equal(compress2(z, &zlen, img, big, 9), Z_OK);
    assert_true(zlen < 10000);

    /* the independent builder agrees with updfile_open */
    raw_defaults(&r, img, big);
    raw_file(f, &r, z, zlen, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_OK);
    /* zip bomb: 4 MiB of zeros declared as 1000 bytes */
    r.inflated_len = 1000;
    raw_file(f, &r, z, zlen, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_ELIMIT);
    /* declared one byte more / less than the truth */
    r.inflated_len = big + 1;
    raw_file(f, &r, z, zlen, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EPARSE);
    r.inflated_len = big - 1;
    raw_file(f, &r, z, zlen, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_ELIMIT);
    /* declared size over the cap: refused before anything else */
    r.inflated_len = CAPS_UPDFILE_PAYLOAD_MAX_BYTES + 1u;
    raw_file(f, &r, z, zlen, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_ELIMIT);
    /* the image hashes differently */
    raw_defaults(&r, img, big);
    r.sha[0] ^= 1;
    raw_file(f, &r, z, zlen, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EDIGEST);
    /* trailing bytes after the zlib stream, a truncated stream, no zlib */
    raw_defaults(&r, img, big);
    z[zlen] = 0;
    raw_file(f, &r, z, zlen + 1, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EPARSE);
    raw_file(f, &r, z, zlen - 5, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EPARSE);
    raw_file(f, &r, img, 100, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EPARSE);
    /* unknown format, unknown kind, reserved bits, version rules */
    raw_defaults(&r, img, big);
    r.format = 2;
    raw_file(f, &r, z, zlen, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EVERSION);
    raw_defaults(&r, img, big);
    r.kind = 3;
    raw_file(f, &r, z, zlen, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EPARSE);
    raw_defaults(&r, img, big);
    r.reserved = 1;
    raw_file(f, &r, z, zlen, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EPARSE);
    raw_defaults(&r, img, big);
    r.version = 0;
    raw_file(f, &r, z, zlen, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EPARSE);
    raw_defaults(&r, img, big);
    r.kind = 2;
    r.base = 4;
    raw_file(f, &r, z, zlen, &b);
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data, b.len,
                               0),
                     CM_EPARSE);
    /* a file larger than the cap is refused by its length alone */
    assert_int_equal(open_with(&f->pub_ring, &f->content_ring, b.data,
                               CAPS_UPDFILE_MAX_BYTES + UPDFILE_OVERHEAD + 1,
                               0),
                     CM_ELIMIT);
    buf_clear(&b);
    free(img);
    free(z);
}

/* ---- manifests ------------------------------------------------------- */

static void
sample_manifest(struct updfile_manifest *m)
{
    memset(m, 0, sizeof(*m));
    m->format = 1;
    m->version = 12;
    m->issued_unix = 1000000;
    m->expires_unix = 2000000;
    m->n_files = 3;
    snprintf(m->files[0].name, sizeof(m->files[0].name), "full-12.cmu");
    m->files[0].kind = UPDFILE_FULL;
    m->files[0].version = 12;
    m->files[0].size = 123456;
    snprintf(m->files[1].name, sizeof(m->files[1].name), "delta-11-12.cmu");
    m->files[1].kind = UPDFILE_DELTA;
    m->files[1].base_version = 11;
    m->files[1].version = 12;
    m->files[1].size = 999;
    snprintf(m->files[2].name, sizeof(m->files[2].name), "delta-9-12.cmu");
    m->files[2].kind = UPDFILE_DELTA;
    m->files[2].base_version = 9;
    m->files[2].version = 12;
    m->files[2].size = 4999;
    for (size_t i = 0; i < 3; i++) {
        memset(m->files[i].sha256, (int)(0x10 + i), 32);
    }
}

static void
test_updfile_manifest_round_trip(void **state)
{
    struct fixture *f = *state;
    struct updfile_manifest m;
    struct updfile_manifest back;
    struct buf b;
    const char *why = NULL;

    sample_manifest(&m);
    buf_init(&b, CAPS_UPDFILE_MANIFEST_MAX_BYTES);
    assert_int_equal(updfile_manifest_format(&m, &f->secret, &b), CM_OK);
    assert_true(strncmp((const char *)b.data, "cgpcloudmark-manifest 1\n"
                                              "version 12\nissued 1000000\n",
                        50) == 0);
    assert_int_equal(updfile_manifest_parse(b.data, b.len, &f->pub_ring,
                                            1500000, &back, &why),
                     CM_OK);
    assert_int_equal(back.version, 12);
    assert_int_equal(back.n_files, 3);
    assert_string_equal(back.files[1].name, "delta-11-12.cmu");
    assert_int_equal(back.files[2].base_version, 9);
    assert_int_equal(back.files[0].size, 123456);
    assert_memory_equal(back.files[2].sha256, m.files[2].sha256, 32);
    assert_memory_equal(back.signing_key_id, f->secret.id, 8);
    /* expiry: at the second still valid, one after refused, 0 skips */
    assert_int_equal(updfile_manifest_parse(b.data, b.len, &f->pub_ring,
                                            2000000, &back, NULL),
                     CM_OK);
    assert_int_equal(updfile_manifest_parse(b.data, b.len, &f->pub_ring,
                                            2000001, &back, &why),
                     CM_EEXPIRED);
    assert_int_equal(updfile_manifest_parse(b.data, b.len, &f->pub_ring, 0,
                                            &back, NULL),
                     CM_OK);
    /* unknown key, unverified parse still reads it */
    assert_int_equal(updfile_manifest_parse(b.data, b.len, &f->other_pub_ring,
                                            0, &back, &why),
                     CM_EKEY);
    memset(&back, 0, sizeof(back));
    assert_int_equal(updfile_manifest_parse_unverified(b.data, b.len, &back,
                                                       NULL),
                     CM_OK);
    assert_int_equal(back.version, 12);
    buf_clear(&b);
}

static void
test_updfile_manifest_every_flip_refused(void **state)
{
    struct fixture *f = *state;
    struct updfile_manifest m;
    struct updfile_manifest back;
    struct buf b;

    sample_manifest(&m);
    buf_init(&b, CAPS_UPDFILE_MANIFEST_MAX_BYTES);
    assert_int_equal(updfile_manifest_format(&m, &f->secret, &b), CM_OK);
    for (size_t i = 0; i < b.len; i++) {
        b.data[i] ^= 0x01;
        assert_int_not_equal(updfile_manifest_parse(b.data, b.len,
                                                    &f->pub_ring, 1500000,
                                                    &back, NULL),
                             CM_OK);
        b.data[i] ^= 0x01;
    }
    /* a body byte: bad signature */
    b.data[30] ^= 0x01;
    assert_int_equal(updfile_manifest_parse(b.data, b.len, &f->pub_ring,
                                            1500000, &back, NULL),
                     CM_ESIG);
    b.data[30] ^= 0x01;
    /* truncated anywhere, or bytes appended */
    for (size_t n = 0; n < b.len; n += 7) {
        assert_int_not_equal(updfile_manifest_parse(b.data, n, &f->pub_ring,
                                                    1500000, &back, NULL),
                             CM_OK);
    }
    buf_puts(&b, "x\n");
    assert_int_equal(updfile_manifest_parse(b.data, b.len, &f->pub_ring,
                                            1500000, &back, NULL),
                     CM_EPARSE);
    buf_clear(&b);
}

/* Sign body as a manifest (body must end with '\n') and parse it. */
static enum cm_err
parse_signed(const struct fixture *f, const char *body, const char **why)
{
    struct updfile_manifest *m = malloc(sizeof(*m));
    struct buf b;
    uint8_t sig[64];
    char sig_hex[129];
    char id_hex[17];
    enum cm_err rc;

    assert_non_null(m);
    buf_init(&b, 4u * CAPS_UPDFILE_MANIFEST_MAX_BYTES);
    buf_puts(&b, body);
    assert_int_equal(updkeys_sign(&f->secret, b.data, b.len, sig), CM_OK);
    updkeys_hex(sig, 64, sig_hex);
    updkeys_hex(f->secret.id, 8, id_hex);
    buf_printf(&b, "signature %s %s\n", id_hex, sig_hex);
    rc = updfile_manifest_parse(b.data, b.len, &f->pub_ring, 1500000, m, why);
    buf_clear(&b);
    free(m);
    return rc;
}

#define HEAD "cgpcloudmark-manifest 1\nversion 5\nissued 1000000\n" \
             "expires 2000000\n"
#define SHA "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define FULL "file full-5.cmu full 0 5 1000 " SHA "\n"

static void
test_updfile_manifest_malformed(void **state)
{
    struct fixture *f = *state;
    const char *why = NULL;
    static const struct {
        const char *body;
        enum cm_err rc;
    } cases[] = {
        {HEAD FULL, CM_OK},
        {HEAD FULL "file delta-4-5.cmu delta 4 5 500 " SHA "\n", CM_OK},
        {HEAD, CM_EPARSE},                         /* no full snapshot */
        {HEAD FULL FULL, CM_EPARSE},               /* listed twice */
        {HEAD FULL "file f2.cmu full 0 5 9 " SHA "\n", CM_EPARSE}, /* 2 */
        {"cgpcloudmark-manifest 2\nversion 5\n", CM_EVERSION},
        {"cgpcloudmark-manifest 1\nissued 1\n", CM_EPARSE}, /* order */
        {"cgpcloudmark-manifest  1\n", CM_EPARSE},          /* 2 spaces */
        {"cgpcloudmark-manifest 1\r\nversion 5\n", CM_EPARSE}, /* CR */
        {"other 1\nversion 5\nissued 1\nexpires 2\n" FULL, CM_EPARSE},
        {"cgpcloudmark-manifest 1\nversion 5\nissued 3000000\n"
         "expires 2000000\n" FULL,
         CM_EPARSE}, /* issued after expiry */
        {"cgpcloudmark-manifest 1\nversion 0\nissued 1\nexpires 2000000\n"
         "file full-0.cmu full 0 0 1000 " SHA "\n",
         CM_EPARSE},
        {"cgpcloudmark-manifest 1\nversion x5\nissued 1\nexpires 2000000\n"
         FULL,
         CM_EPARSE},
        {HEAD "file full-5.cmu full 0 4 1000 " SHA "\n", CM_EPARSE},
        {HEAD "file ../x.cmu full 0 5 1000 " SHA "\n", CM_EPARSE},
        {HEAD "file .hidden full 0 5 1000 " SHA "\n", CM_EPARSE},
        {HEAD "file full-5.cmu fool 0 5 1000 " SHA "\n", CM_EPARSE},
        {HEAD "file full-5.cmu full 1 5 1000 " SHA "\n", CM_EPARSE},
        {HEAD "file full-5.cmu full 0 5 1000 " SHA "0\n", CM_EPARSE},
        {HEAD "file full-5.cmu full 0 5 10 " SHA "\n", CM_EPARSE},
        {HEAD "file full-5.cmu full 0 5 1000 " SHA " x\n", CM_EPARSE},
        {HEAD FULL "file d.cmu delta 5 5 500 " SHA "\n", CM_EPARSE},
        {HEAD FULL "file d.cmu delta 0 5 500 " SHA "\n", CM_EPARSE},
        {HEAD FULL "file d.cmu delta 3 5 500 " SHA "\n"
                   "file e.cmu delta 3 5 500 " SHA "\n",
         CM_EPARSE}, /* two deltas from one base */
        {HEAD FULL "junk line\n", CM_EPARSE},
        {HEAD FULL "\n", CM_EPARSE},
        {HEAD FULL "file\tx\n", CM_EPARSE},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum cm_err rc = parse_signed(f, cases[i].body, &why);
        if (rc != cases[i].rc) {
            print_error("case %zu: got %d (%s)\n", i, rc, why);
        }
        assert_int_equal(rc, cases[i].rc);
    }
}

static void
test_updfile_manifest_caps(void **state)
{
    struct fixture *f = *state;
    struct buf body;
    const char *why = NULL;
    char name[CAPS_UPDFILE_NAME_MAX + 2];

    buf_init(&body, 4u * CAPS_UPDFILE_MANIFEST_MAX_BYTES);
    buf_puts(&body, HEAD FULL);
    for (size_t i = 1; i < CAPS_UPDFILE_MANIFEST_FILES_MAX; i++) {
        buf_printf(&body, "file d%zu.cmu delta %zu 5 500 " SHA "\n", i,
                   i % 4 + 1);
    }
    /* at the file cap: parses except for the duplicate bases */
    assert_int_equal(parse_signed(f, (const char *)body.data, &why),
                     CM_EPARSE);
    buf_reset(&body);
    buf_puts(&body, "cgpcloudmark-manifest 1\nversion 100\nissued 1\n"
                    "expires 2000000\n"
                    "file full-100.cmu full 0 100 1000 " SHA "\n");
    for (size_t i = 1; i < CAPS_UPDFILE_MANIFEST_FILES_MAX; i++) {
        buf_printf(&body, "file d%zu.cmu delta %zu 100 500 " SHA "\n", i, i);
    }
    assert_int_equal(parse_signed(f, (const char *)body.data, &why), CM_OK);
    buf_printf(&body, "file dx.cmu delta 99 100 500 " SHA "\n");
    assert_int_equal(parse_signed(f, (const char *)body.data, &why),
                     CM_ELIMIT);
    /* name length: at the cap and one more */
    memset(name, 'n', sizeof(name));
    name[CAPS_UPDFILE_NAME_MAX] = '\0';
    buf_reset(&body);
    buf_printf(&body, HEAD "file %s full 0 5 1000 " SHA "\n", name);
    assert_int_equal(parse_signed(f, (const char *)body.data, &why), CM_OK);
    name[CAPS_UPDFILE_NAME_MAX] = 'n';
    name[CAPS_UPDFILE_NAME_MAX + 1] = '\0';
    buf_reset(&body);
    buf_printf(&body, HEAD "file %s full 0 5 1000 " SHA "\n", name);
    assert_int_equal(parse_signed(f, (const char *)body.data, &why),
                     CM_EPARSE);
    /* a line over the cap */
    buf_reset(&body);
    buf_puts(&body, HEAD FULL);
    for (size_t i = 0; i <= CAPS_UPDFILE_LINE_MAX; i++) {
        buf_putc(&body, 'x');
    }
    buf_putc(&body, '\n');
    assert_int_equal(parse_signed(f, (const char *)body.data, &why),
                     CM_ELIMIT);
    /* the whole manifest over the cap */
    buf_reset(&body);
    buf_puts(&body, HEAD FULL);
    while (body.len <= CAPS_UPDFILE_MANIFEST_MAX_BYTES) {
        buf_puts(&body, "x\n");
    }
    assert_int_equal(parse_signed(f, (const char *)body.data, &why),
                     CM_ELIMIT);
    buf_clear(&body);
}

static void
test_updfile_manifest_pick(void **state)
{
    struct updfile_manifest m;

    (void)state;
    sample_manifest(&m);
    assert_string_equal(updfile_manifest_pick(&m, 11, true)->name,
                        "delta-11-12.cmu");
    assert_string_equal(updfile_manifest_pick(&m, 9, true)->name,
                        "delta-9-12.cmu");
    assert_string_equal(updfile_manifest_pick(&m, 11, false)->name,
                        "full-12.cmu");
    assert_string_equal(updfile_manifest_pick(&m, 10, true)->name,
                        "full-12.cmu");
    assert_string_equal(updfile_manifest_pick(&m, 0, true)->name,
                        "full-12.cmu");
    m.n_files = 0;
    assert_null(updfile_manifest_pick(&m, 0, true));
    assert_true(updfile_name_is_valid("a-B_9.cmu", 9));
    assert_false(updfile_name_is_valid("a/b", 3));
    assert_false(updfile_name_is_valid("", 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_updfile_full_round_trip),
        cmocka_unit_test(test_updfile_delta_round_trip),
        cmocka_unit_test(test_updfile_build_refuses_bad_specs),
        cmocka_unit_test(test_updfile_every_flipped_byte_refused),
        cmocka_unit_test(test_updfile_truncation_refused),
        cmocka_unit_test(test_updfile_keys_and_replay),
        cmocka_unit_test(test_updfile_crafted_refusals),
        cmocka_unit_test(test_updfile_manifest_round_trip),
        cmocka_unit_test(test_updfile_manifest_every_flip_refused),
        cmocka_unit_test(test_updfile_manifest_malformed),
        cmocka_unit_test(test_updfile_manifest_caps),
        cmocka_unit_test(test_updfile_manifest_pick),
    };

    return cmocka_run_group_tests_name("updfile", tests, setup, teardown);
}
