/*
 * fuzz_updfile.c -- libFuzzer target for update files and deltas.
 *
 * The keys are fixed test keys (written below, never used anywhere else),
 * so corpus files signed with them reach past the signature.  The first
 * byte picks what the rest is:
 *   0  a whole update file: updfile_peek and updfile_open (then, for a
 *      delta, delta_apply to a fixed base);
 *   1  a header choice (5 bytes) and a would-be zlib stream, which the
 *      target encrypts and signs itself so that GCM, the bounded inflate
 *      and the delta walker see arbitrary authenticated payloads;
 *   2  a delta: delta_describe and delta_apply to the fixed base.
 * Invariants: no crash, no leak, a payload is exactly the declared size,
 * a produced image hashes to what its header or delta says.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "caps.h"
#include "delta.h"
#include "updfile.h"
#include "updkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Payloads inflate to at most this much here, to keep runs fast. */
#define FUZZ_INFLATE_MAX (256u * 1024u)

static struct updkeys_key fuzz_secret;
static struct updkeys_key fuzz_content;
static struct updkeys_ring fuzz_pub_ring;
static struct updkeys_ring fuzz_content_ring;
static uint8_t fuzz_base[512];
static int fuzz_ready;

static void
fuzz_init(void)
{
    if (fuzz_ready) {
        return;
    }
    fuzz_secret.kind = UPDKEYS_SIGNING_SECRET;
    memset(fuzz_secret.key, 0x11, UPDKEYS_KEY_LEN);
    fuzz_content.kind = UPDKEYS_CONTENT;
    memset(fuzz_content.key, 0x22, UPDKEYS_KEY_LEN);
    if (updkeys_compute_id(&fuzz_secret) != CM_OK ||
        updkeys_compute_id(&fuzz_content) != CM_OK) {
        abort();
    }
    fuzz_pub_ring.kind = UPDKEYS_SIGNING_PUBLIC;
    fuzz_pub_ring.n_keys = 1;
    if (updkeys_public_of(&fuzz_secret, &fuzz_pub_ring.keys[0]) != CM_OK) {
        abort();
    }
    fuzz_content_ring.kind = UPDKEYS_CONTENT;
    fuzz_content_ring.n_keys = 1;
    fuzz_content_ring.keys[0] = fuzz_content;
    for (size_t i = 0; i < sizeof(fuzz_base); i++) {
        fuzz_base[i] = (uint8_t)(i * 37 + 11);
    }
    fuzz_ready = 1;
}

static void
check_delta(const uint8_t *d, size_t len)
{
    struct delta_info info;
    uint8_t *out = NULL;
    size_t out_len = 0;
    uint8_t sha[32];

    if (delta_describe(d, len, &info, NULL) == CM_OK &&
        info.copied_bytes + info.added_bytes != info.target_len) {
        abort();
    }
    if (delta_apply(fuzz_base, sizeof(fuzz_base), d, len, FUZZ_INFLATE_MAX,
                    &out, &out_len, NULL) == CM_OK) {
        if (updkeys_sha256(out, out_len, sha) != CM_OK ||
            delta_describe(d, len, &info, NULL) != CM_OK ||
            memcmp(sha, info.target_sha256, 32) != 0 ||
            out_len != info.target_len) {
            abort();
        }
        free(out);
    }
}

static void
check_open(const uint8_t *p, size_t len)
{
    struct updfile_header peek;
    struct updfile_header h;
    uint8_t *payload = NULL;
    size_t n = 0;
    uint8_t sha[32];

    if (updfile_peek(p, len, &peek, NULL) == CM_OK &&
        peek.ciphertext_len + UPDFILE_OVERHEAD != len) {
        abort();
    }
    if (updfile_open(p, len, &fuzz_pub_ring, &fuzz_content_ring, 0, &h,
                     &payload, &n, NULL) != CM_OK) {
        return;
    }
    if (n != h.inflated_len || h.version != peek.version ||
        h.kind != peek.kind || h.base_version != peek.base_version ||
        h.ciphertext_len != peek.ciphertext_len) {
        abort();
    }
    if (h.kind == UPDFILE_FULL &&
        (updkeys_sha256(payload, n, sha) != CM_OK ||
         memcmp(sha, h.target_sha256, 32) != 0)) {
        abort();
    }
    if (h.kind == UPDFILE_DELTA) {
        check_delta(payload, n);
    }
    free(payload);
}

static void
put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* Mode 1: wrap (z, zlen) in a valid, signed update file. */
static void
wrap_and_open(const uint8_t *choice, const uint8_t *z, size_t zlen)
{
    uint8_t h[UPDFILE_HEADER_LEN];
    uint8_t nonce[UPDFILE_NONCE_LEN] = {0};
    uint8_t sig[UPDKEYS_SIG_LEN];
    struct buf b;
    EVP_CIPHER_CTX *ctx;
    int n = 0;
    int is_delta = choice[0] & 1;
    uint64_t inflated = (uint64_t)choice[1] | (uint64_t)choice[2] << 8 |
                        (uint64_t)(choice[3] & 0x03) << 16;

    if (zlen == 0 || zlen > FUZZ_INFLATE_MAX) {
        return;
    }
    memset(h, 0, sizeof(h));
    memcpy(h, UPDFILE_MAGIC, UPDFILE_MAGIC_LEN);
    put_le(h + 8, 1, 4);
    put_le(h + 12, is_delta ? 2 : 1, 4);
    put_le(h + 16, 2 + (choice[4] & 3), 8);
    put_le(h + 24, is_delta ? 1 : 0, 8);
    memcpy(h + 32, fuzz_content.id, 8);
    memcpy(h + 40, fuzz_secret.id, 8);
    memcpy(h + 48, nonce, sizeof(nonce));
    put_le(h + 64, zlen, 8);
    put_le(h + 72, inflated, 8);
    buf_init(&b, zlen + UPDFILE_OVERHEAD);
    if (buf_reserve(&b, zlen + UPDFILE_OVERHEAD) != CM_OK) {
        buf_clear(&b);
        return;
    }
    memcpy(b.data, h, sizeof(h));
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL ||
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, fuzz_content.key,
                           nonce) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &n, h, sizeof(h)) != 1 ||
        EVP_EncryptUpdate(ctx, b.data + sizeof(h), &n, z, (int)zlen) != 1 ||
        EVP_EncryptFinal_ex(ctx, b.data + sizeof(h) + zlen, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, UPDFILE_TAG_LEN,
                            b.data + sizeof(h) + zlen) != 1) {
        abort();
    }
    EVP_CIPHER_CTX_free(ctx);
    b.len = sizeof(h) + zlen + UPDFILE_TAG_LEN;
    if (updkeys_sign(&fuzz_secret, b.data, b.len, sig) != CM_OK) {
        abort();
    }
    memcpy(b.data + b.len, sig, sizeof(sig));
    b.len += sizeof(sig);
    check_open(b.data, b.len);
    buf_clear(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < 1) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0:
        check_open(data + 1, size - 1);
        break;
    case 1:
        if (size >= 6) {
            wrap_and_open(data + 1, data + 6, size - 6);
        }
        break;
    default:
        check_delta(data + 1, size - 1);
        break;
    }
    return 0;
}
