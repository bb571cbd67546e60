/*
 * updfile.c -- the micro-update formats: update files (*.cmu) and the
 * signed manifest (SPEC §5, STYLE §2.7 rule 6).  No network, no files, no
 * state: cmtool publish builds with it, the updater and cmtool inspect
 * verify with it.  Any thread.
 *
 * DESIGN
 *
 * Keys (updkeys.h): Ed25519 signing keys and AES-256 content keys, each
 * named by an 8-byte key id; clients hold key rings so keys can rotate.
 *
 * Update file, format 1 (integers little-endian):
 *     off len
 *       0   8  magic "CMUPD\r\n\x1a" (the CR LF and ^Z catch text-mode
 *              transfers that would mangle the file)
 *       8   4  format = 1 (other values refused: CM_EVERSION)
 *      12   4  kind: 1 full snapshot, 2 delta
 *      16   8  version: the cartridge version the file installs (>= 1)
 *      24   8  base version: 0 for a full snapshot; for a delta the
 *              version it applies to (1 .. version - 1)
 *      32   8  content key id (AES-256 key the payload is encrypted with)
 *      40   8  signing key id (Ed25519 key that signed the file)
 *      48  12  GCM nonce (random per file)
 *      60   4  reserved, 0
 *      64   8  ciphertext length C
 *      72   8  inflated length: payload bytes after inflate
 *      80  32  SHA-256 of the full cartridge image the file produces
 *     112   C  AES-256-GCM ciphertext of the zlib stream of the payload;
 *              the 112 header bytes are the GCM additional data
 *   112+C  16  GCM tag
 *   128+C  64  Ed25519 signature over bytes [0, 128+C)
 * The file is exactly 192 + C bytes; C <= CAPS_UPDFILE_MAX_BYTES and the
 * inflated length <= CAPS_UPDFILE_PAYLOAD_MAX_BYTES.  The payload is the
 * whole cartridge image (full) or a delta.h delta from the base version's
 * image (delta); either way the image produced must hash to the header's
 * SHA-256, and the cartridge it loads into must report the header's
 * version (the updater checks that: the update's version is authoritative,
 * so `cmtool publish` refuses a cartridge trained with another --version).
 *
 * Order of checks (updfile_open), cheapest and safest first, nothing
 * parsed beyond fixed offsets before the signature holds: file size and
 * header sizes → signing key by id → Ed25519 signature over the exact
 * bytes → version newer than the installed one (replay) → content key by
 * id → GCM decrypt and tag → bounded inflate (the output buffer is the
 * declared size + 1, so a zip bomb stops there) → SHA-256 of a full image.
 * The caller then applies a delta (delta_apply checks base and result
 * digests) and validates the image with cartridge_load.
 *
 * Manifest, format 1: text, LF line ends, single spaces, in this order:
 *     cgpcloudmark-manifest 1
 *     version <newest cartridge version>
 *     issued <unix time>
 *     expires <unix time>
 *     file <name> full 0 <version> <size> <sha256 hex>
 *     file <name> delta <base> <version> <size> <sha256 hex>    (0..n)
 *     signature <signing key id hex> <Ed25519 signature hex>
 * The signature covers every byte before the signature line.  The parser
 * finds that last line first, verifies, and only then reads the rest.
 * Every listed file installs the manifest's version; exactly one is full;
 * names are unique, 1..CAPS_UPDFILE_NAME_MAX of [A-Za-z0-9._-], no
 * leading dot (they become URL paths and cache file names); sizes and the
 * SHA-256 are those of the .cmu file, checked before updfile_open.
 * Expiry bounds how long a captured old manifest can be replayed to hold a
 * client on an old version; the client also refuses any version older
 * than what it runs.
 */
#include "updfile.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "cursor.h"

/* EVP and zlib count in int / uInt: every length handed to them is below
 * the caps, which stay far below both. */
_Static_assert(CAPS_UPDFILE_MAX_BYTES < INT_MAX / 2, "EVP lengths are int");
_Static_assert(CAPS_UPDFILE_PAYLOAD_MAX_BYTES < UINT_MAX / 2,
               "zlib lengths are uInt");

#define UPDFILE_SIG_LINE "signature "

const char *
updfile_kind_name(enum updfile_kind kind)
{
    switch (kind) {
    case UPDFILE_FULL:
        return "full";
    case UPDFILE_DELTA:
        return "delta";
    }
    return "?";
}

static void
put_u32le(uint8_t *p, uint32_t v)
{
    for (size_t i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void
put_u64le(uint8_t *p, uint64_t v)
{
    for (size_t i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void
header_encode(const struct updfile_header *h, uint8_t out[UPDFILE_HEADER_LEN])
{
    memset(out, 0, UPDFILE_HEADER_LEN);
    memcpy(out, UPDFILE_MAGIC, UPDFILE_MAGIC_LEN);
    put_u32le(out + 8, h->format);
    put_u32le(out + 12, (uint32_t)h->kind);
    put_u64le(out + 16, h->version);
    put_u64le(out + 24, h->base_version);
    memcpy(out + 32, h->content_key_id, UPDKEYS_ID_LEN);
    memcpy(out + 40, h->signing_key_id, UPDKEYS_ID_LEN);
    memcpy(out + 48, h->nonce, UPDFILE_NONCE_LEN);
    put_u64le(out + 64, h->ciphertext_len);
    put_u64le(out + 72, h->inflated_len);
    memcpy(out + 80, h->target_sha256, UPDKEYS_SHA256_LEN);
}

/* Versions and kind: the same rules for building and for reading. */
static enum cm_err
check_versions(enum updfile_kind kind, uint64_t version, uint64_t base,
               const char **why)
{
    if (version == 0) {
        *why = "version 0 is not a cartridge version";
        return CM_EPARSE;
    }
    if (kind == UPDFILE_FULL && base != 0) {
        *why = "a full snapshot has base version 0";
        return CM_EPARSE;
    }
    if (kind == UPDFILE_DELTA && (base == 0 || base >= version)) {
        *why = "a delta's base version must be below its version";
        return CM_EPARSE;
    }
    if (kind != UPDFILE_FULL && kind != UPDFILE_DELTA) {
        *why = "unknown update kind";
        return CM_EPARSE;
    }
    return CM_OK;
}

enum cm_err
updfile_peek(const uint8_t *p, size_t len, struct updfile_header *out,
             const char **why)
{
    struct cursor c;
    struct updfile_header h;
    const uint8_t *magic;
    uint32_t kind;
    uint32_t reserved;
    const char *reason = NULL;
    enum cm_err rc = CM_EPARSE;

    if (len > CAPS_UPDFILE_MAX_BYTES + UPDFILE_OVERHEAD) {
        reason = "update file larger than the cap";
        rc = CM_ELIMIT;
        goto out;
    }
    cursor_init(&c, p, len);
    if (cursor_bytes(&c, UPDFILE_MAGIC_LEN, &magic) != CM_OK ||
        memcmp(magic, UPDFILE_MAGIC, UPDFILE_MAGIC_LEN) != 0) {
        reason = len < UPDFILE_MAGIC_LEN ? "truncated: no header"
                                         : "not an update file (bad magic)";
        goto out;
    }
    if (cursor_u32le(&c, &h.format) != CM_OK) {
        reason = "truncated header";
        goto out;
    }
    if (h.format != UPDFILE_FORMAT) {
        reason = "unknown update file format";
        rc = CM_EVERSION;
        goto out;
    }
    if (cursor_u32le(&c, &kind) != CM_OK ||
        cursor_u64le(&c, &h.version) != CM_OK ||
        cursor_u64le(&c, &h.base_version) != CM_OK ||
        cursor_copy(&c, h.content_key_id, UPDKEYS_ID_LEN) != CM_OK ||
        cursor_copy(&c, h.signing_key_id, UPDKEYS_ID_LEN) != CM_OK ||
        cursor_copy(&c, h.nonce, UPDFILE_NONCE_LEN) != CM_OK ||
        cursor_u32le(&c, &reserved) != CM_OK ||
        cursor_u64le(&c, &h.ciphertext_len) != CM_OK ||
        cursor_u64le(&c, &h.inflated_len) != CM_OK ||
        cursor_copy(&c, h.target_sha256, UPDKEYS_SHA256_LEN) != CM_OK) {
        reason = "truncated header";
        goto out;
    }
    h.kind = kind == UPDFILE_DELTA ? UPDFILE_DELTA : UPDFILE_FULL;
    if (kind != UPDFILE_FULL && kind != UPDFILE_DELTA) {
        reason = "unknown update kind";
        goto out;
    }
    if (reserved != 0) {
        reason = "reserved header field is not 0";
        goto out;
    }
    rc = check_versions(h.kind, h.version, h.base_version, &reason);
    if (rc != CM_OK) {
        goto out;
    }
    rc = CM_EPARSE;
    if (h.ciphertext_len > CAPS_UPDFILE_MAX_BYTES ||
        h.inflated_len > CAPS_UPDFILE_PAYLOAD_MAX_BYTES) {
        reason = "declared sizes over the cap";
        rc = CM_ELIMIT;
        goto out;
    }
    if (h.ciphertext_len == 0 || h.inflated_len == 0) {
        reason = "empty payload";
        goto out;
    }
    if (len < UPDFILE_OVERHEAD + h.ciphertext_len) {
        reason = "truncated: shorter than its header says";
        goto out;
    }
    if (len > UPDFILE_OVERHEAD + h.ciphertext_len) {
        reason = "trailing bytes after the signature";
        goto out;
    }
    *out = h;
    rc = CM_OK;
out:
    if (rc != CM_OK && why != NULL) {
        *why = reason;
    }
    return rc;
}

/* AES-256-GCM one-shot; is_encrypt picks the direction.  On decrypt the
 * tag is checked and CM_ECRYPTO returned when it does not match. */
static enum cm_err
gcm(bool is_encrypt, const struct updkeys_key *key,
    const uint8_t nonce[UPDFILE_NONCE_LEN], const uint8_t *aad,
    size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out,
    uint8_t tag[UPDFILE_TAG_LEN])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    int fin = 0;
    enum cm_err rc = CM_ECRYPTO;

    if (ctx == NULL) {
        return CM_ENOMEM;
    }
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
                          is_encrypt ? 1 : 0) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
                            (int)UPDFILE_NONCE_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key->key, nonce, -1) != 1) {
        goto out;
    }
    if (EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) {
        goto out;
    }
    if (EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) != 1 ||
        (size_t)n != in_len) {
        goto out;
    }
    if (!is_encrypt &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)UPDFILE_TAG_LEN,
                            tag) != 1) {
        goto out;
    }
    if (EVP_CipherFinal_ex(ctx, out + n, &fin) != 1 || fin != 0) {
        goto out;
    }
    if (is_encrypt &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)UPDFILE_TAG_LEN,
                            tag) != 1) {
        goto out;
    }
    rc = CM_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

/*
 * What updfile_build refuses before doing any work: keys of the wrong
 * kind, versions updfile_open would refuse, an empty or oversized payload,
 * and a full image that does not hash to the SHA-256 its header is to
 * promise (the file would be refused by every client).
 */
static enum cm_err
build_check(const struct updfile_spec *spec, const uint8_t *payload,
            size_t payload_len, const struct updkeys_key *signing,
            const struct updkeys_key *content)
{
    uint8_t digest[UPDKEYS_SHA256_LEN];
    const char *why = NULL;

    if (signing->kind != UPDKEYS_SIGNING_SECRET ||
        content->kind != UPDKEYS_CONTENT ||
        check_versions(spec->kind, spec->version, spec->base_version,
                       &why) != CM_OK ||
        payload_len == 0) {
        return CM_EINVAL;
    }
    if (payload_len > CAPS_UPDFILE_PAYLOAD_MAX_BYTES) {
        return CM_ELIMIT;
    }
    if (spec->kind == UPDFILE_FULL) {
        if (updkeys_sha256(payload, payload_len, digest) != CM_OK) {
            return CM_ECRYPTO;
        }
        if (memcmp(digest, spec->target_sha256, sizeof(digest)) != 0) {
            return CM_EINVAL;
        }
    }
    return CM_OK;
}

/* payload as a zlib stream (level 9) in *z (malloc'ed, free it), refused
 * when it is over the ciphertext cap a client would hold it to. */
static enum cm_err
deflate_payload(const uint8_t *payload, size_t payload_len, uint8_t **z,
                uLongf *zlen)
{
    uLongf n = compressBound((uLong)payload_len);
    uint8_t *zbuf = malloc(n);

    if (zbuf == NULL) {
        return CM_ENOMEM;
    }
    if (compress2(zbuf, &n, payload, (uLong)payload_len, 9) != Z_OK) {
        free(zbuf);
        return CM_ENOMEM;
    }
    if (n > CAPS_UPDFILE_MAX_BYTES) {
        free(zbuf);
        return CM_ELIMIT;
    }
    *z = zbuf;
    *zlen = n;
    return CM_OK;
}

/* The header of a file of zlen compressed bytes.  The nonce is fresh and
 * random for every file: a GCM nonce must never repeat under one key. */
static enum cm_err
header_fill(const struct updfile_spec *spec,
            const uint8_t signing_id[UPDKEYS_ID_LEN],
            const uint8_t content_id[UPDKEYS_ID_LEN], uLongf zlen,
            size_t payload_len, struct updfile_header *h)
{
    memset(h, 0, sizeof(*h));
    h->format = UPDFILE_FORMAT;
    h->kind = spec->kind;
    h->version = spec->version;
    h->base_version = spec->base_version;
    memcpy(h->content_key_id, content_id, UPDKEYS_ID_LEN);
    memcpy(h->signing_key_id, signing_id, UPDKEYS_ID_LEN);
    if (RAND_bytes(h->nonce, (int)UPDFILE_NONCE_LEN) != 1) {
        return CM_ECRYPTO;
    }
    h->ciphertext_len = zlen;
    h->inflated_len = payload_len;
    memcpy(h->target_sha256, spec->target_sha256, UPDKEYS_SHA256_LEN);
    return CM_OK;
}

/*
 * The file appended to out: the header, the GCM ciphertext of (z, zlen)
 * under content with the header as additional data, the tag, and last
 * the Ed25519 signature over all of those bytes.  out is only lengthened
 * once the whole file is there.
 */
static enum cm_err
seal(const struct updfile_header *h, const uint8_t *z, uLongf zlen,
     const struct updkeys_key *signing, const struct updkeys_key *content,
     struct buf *out)
{
    uint8_t header[UPDFILE_HEADER_LEN];
    uint8_t tag[UPDFILE_TAG_LEN];
    uint8_t sig[UPDKEYS_SIG_LEN];
    uint8_t *start;
    size_t base_len = out->len;
    size_t total = UPDFILE_OVERHEAD + (size_t)zlen;
    enum cm_err rc;

    header_encode(h, header);
    rc = buf_reserve(out, total);
    if (rc != CM_OK) {
        return rc;
    }
    start = out->data + base_len;
    memcpy(start, header, UPDFILE_HEADER_LEN);
    rc = gcm(true, content, h->nonce, header, UPDFILE_HEADER_LEN, z,
             (size_t)zlen, start + UPDFILE_HEADER_LEN, tag);
    if (rc != CM_OK) {
        return rc;
    }
    memcpy(start + UPDFILE_HEADER_LEN + zlen, tag, UPDFILE_TAG_LEN);
    rc = updkeys_sign(signing, start, total - UPDKEYS_SIG_LEN, sig);
    if (rc != CM_OK) {
        return rc;
    }
    memcpy(start + total - UPDKEYS_SIG_LEN, sig, UPDKEYS_SIG_LEN);
    out->len = base_len + total;
    out->data[out->len] = '\0';
    return CM_OK;
}

enum cm_err
updfile_build(const struct updfile_spec *spec, const uint8_t *payload,
              size_t payload_len, const struct updkeys_key *signing,
              const struct updkeys_key *content, struct buf *out)
{
    struct updfile_header h;
    struct updkeys_key signing_pub;
    uint8_t *zbuf = NULL;
    uLongf zlen = 0;
    enum cm_err rc;

    rc = build_check(spec, payload, payload_len, signing, content);
    if (rc != CM_OK) {
        return rc;
    }
    /* The header names the signing key by the id of its public half. */
    rc = updkeys_public_of(signing, &signing_pub);
    if (rc != CM_OK) {
        return rc;
    }
    rc = deflate_payload(payload, payload_len, &zbuf, &zlen);
    if (rc == CM_OK) {
        rc = header_fill(spec, signing_pub.id, content->id, zlen,
                         payload_len, &h);
    }
    if (rc == CM_OK) {
        rc = seal(&h, zbuf, zlen, signing, content, out);
    }
    free(zbuf);
    updkeys_key_wipe(&signing_pub);
    return rc;
}

/* Inflate (z, zlen) into exactly want bytes (see the design comment). */
static enum cm_err
inflate_exact(const uint8_t *z, size_t zlen, size_t want, uint8_t **out,
              const char **why)
{
    z_stream zs;
    uint8_t *dst;
    int ret;
    enum cm_err rc = CM_EPARSE;

    /* One byte more than declared: producing it proves a lie. */
    dst = malloc(want + 1);
    if (dst == NULL) {
        *why = "out of memory";
        return CM_ENOMEM;
    }
    memset(&zs, 0, sizeof(zs));
    if (inflateInit(&zs) != Z_OK) {
        free(dst);
        *why = "zlib init failed";
        return CM_ENOMEM;
    }
    zs.next_in = (Bytef *)(uintptr_t)z;
    zs.avail_in = (uInt)zlen;
    zs.next_out = dst;
    zs.avail_out = (uInt)(want + 1);
    do {
        ret = inflate(&zs, Z_NO_FLUSH);
    } while (ret == Z_OK && zs.avail_out > 0 && zs.avail_in > 0);
    if (zs.total_out > want) {
        *why = "payload inflates past its declared size";
        rc = CM_ELIMIT;
    } else if (ret == Z_STREAM_END && zs.avail_in != 0) {
        *why = "bytes after the compressed payload";
    } else if (ret == Z_STREAM_END && zs.total_out != want) {
        *why = "payload shorter than its declared size";
    } else if (ret == Z_STREAM_END) {
        rc = CM_OK;
    } else if (ret == Z_MEM_ERROR) {
        *why = "out of memory";
        rc = CM_ENOMEM;
    } else {
        *why = "compressed payload corrupt or truncated";
    }
    inflateEnd(&zs);
    if (rc != CM_OK) {
        free(dst);
        return rc;
    }
    *out = dst;
    return CM_OK;
}

enum cm_err
updfile_verify(const uint8_t *p, size_t len,
               const struct updkeys_ring *signing_public,
               struct updfile_header *hdr, const char **why)
{
    struct updfile_header h;
    const struct updkeys_key *sk;
    const char *reason = NULL;
    size_t signed_len;
    enum cm_err rc;

    rc = updfile_peek(p, len, &h, &reason);
    if (rc != CM_OK) {
        goto out;
    }
    signed_len = len - UPDKEYS_SIG_LEN;
    sk = updkeys_find(signing_public, h.signing_key_id);
    if (sk == NULL) {
        reason = "signed with an unknown key id";
        rc = CM_EKEY;
        goto out;
    }
    rc = updkeys_verify(sk, p, signed_len, p + signed_len);
    if (rc != CM_OK) {
        reason = "bad signature";
        goto out;
    }
    *hdr = h;
out:
    if (rc != CM_OK && why != NULL) {
        *why = reason != NULL ? reason : cm_strerror(rc);
    }
    return rc;
}

enum cm_err
updfile_open(const uint8_t *p, size_t len,
             const struct updkeys_ring *signing_public,
             const struct updkeys_ring *content, uint64_t current_version,
             struct updfile_header *hdr, uint8_t **payload,
             size_t *payload_len, const char **why)
{
    struct updfile_header h;
    const struct updkeys_key *ck;
    uint8_t digest[UPDKEYS_SHA256_LEN];
    uint8_t *plain = NULL;
    uint8_t *image = NULL;
    const char *reason = NULL;
    enum cm_err rc;

    rc = updfile_verify(p, len, signing_public, &h, &reason);
    if (rc != CM_OK) {
        goto fail;
    }
    /* Authenticated from here on. */
    if (h.version <= current_version) {
        reason = "version not newer than the installed one (replay?)";
        rc = CM_EVERSION;
        goto fail;
    }
    ck = updkeys_find(content, h.content_key_id);
    if (ck == NULL) {
        reason = "encrypted with an unknown content key id";
        rc = CM_EKEY;
        goto fail;
    }
    plain = malloc((size_t)h.ciphertext_len);
    if (plain == NULL) {
        reason = "out of memory";
        rc = CM_ENOMEM;
        goto fail;
    }
    rc = gcm(false, ck, h.nonce, p, UPDFILE_HEADER_LEN,
             p + UPDFILE_HEADER_LEN, (size_t)h.ciphertext_len, plain,
             (uint8_t *)(uintptr_t)(p + UPDFILE_HEADER_LEN +
                                    h.ciphertext_len));
    if (rc != CM_OK) {
        reason = "decryption failed (wrong content key or altered data)";
        goto fail;
    }
    rc = inflate_exact(plain, (size_t)h.ciphertext_len,
                       (size_t)h.inflated_len, &image, &reason);
    if (rc != CM_OK) {
        goto fail;
    }
    if (h.kind == UPDFILE_FULL) {
        rc = updkeys_sha256(image, (size_t)h.inflated_len, digest);
        if (rc == CM_OK &&
            CRYPTO_memcmp(digest, h.target_sha256, sizeof(digest)) != 0) {
            reason = "image does not match its SHA-256";
            rc = CM_EDIGEST;
        }
        if (rc != CM_OK) {
            goto fail;
        }
    }
    free(plain);
    *hdr = h;
    *payload = image;
    *payload_len = (size_t)h.inflated_len;
    return CM_OK;
fail:
    free(plain);
    free(image);
    if (why != NULL) {
        *why = reason != NULL ? reason : cm_strerror(rc);
    }
    return rc;
}

/* ---- manifest ------------------------------------------------------ */

bool
updfile_name_is_valid(const char *name, size_t len)
{
    if (len == 0 || len > CAPS_UPDFILE_NAME_MAX || name[0] == '.') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        bool is_ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
                     ch == '-';
        if (!is_ok) {
            return false;
        }
    }
    return true;
}

/* The rules both the formatter and the parser enforce on a whole
 * manifest. */
static enum cm_err
manifest_check(const struct updfile_manifest *m, const char **why)
{
    size_t n_full = 0;

    if (m->version == 0) {
        *why = "manifest version 0";
        return CM_EPARSE;
    }
    if (m->issued_unix > m->expires_unix) {
        *why = "manifest expires before it was issued";
        return CM_EPARSE;
    }
    if (m->n_files > CAPS_UPDFILE_MANIFEST_FILES_MAX) {
        *why = "too many files in the manifest";
        return CM_ELIMIT;
    }
    for (size_t i = 0; i < m->n_files; i++) {
        const struct updfile_entry *e = &m->files[i];
        size_t name_len = strnlen(e->name, sizeof(e->name));

        if (!updfile_name_is_valid(e->name, name_len)) {
            *why = "bad file name in the manifest";
            return CM_EPARSE;
        }
        if (check_versions(e->kind, e->version, e->base_version, why) !=
            CM_OK) {
            return CM_EPARSE;
        }
        if (e->version != m->version) {
            *why = "a listed file does not install the manifest's version";
            return CM_EPARSE;
        }
        if (e->size <= UPDFILE_OVERHEAD ||
            e->size > CAPS_UPDFILE_MAX_BYTES + UPDFILE_OVERHEAD) {
            *why = "listed file size out of range";
            return CM_EPARSE;
        }
        n_full += e->kind == UPDFILE_FULL;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(m->files[j].name, e->name) == 0) {
                *why = "a file is listed twice";
                return CM_EPARSE;
            }
            if (e->kind == UPDFILE_DELTA &&
                m->files[j].kind == UPDFILE_DELTA &&
                m->files[j].base_version == e->base_version) {
                *why = "two deltas from the same base";
                return CM_EPARSE;
            }
        }
    }
    if (n_full != 1) {
        *why = "a manifest lists exactly one full snapshot";
        return CM_EPARSE;
    }
    return CM_OK;
}

enum cm_err
updfile_manifest_format(const struct updfile_manifest *m,
                        const struct updkeys_key *signing, struct buf *out)
{
    struct updkeys_key pub;
    uint8_t sig[UPDKEYS_SIG_LEN];
    char sig_hex[2 * UPDKEYS_SIG_LEN + 1];
    char id_hex[UPDKEYS_ID_HEX_LEN];
    char sha_hex[2 * UPDKEYS_SHA256_LEN + 1];
    const char *why = NULL;
    size_t start = out->len;
    enum cm_err rc;

    if (signing->kind != UPDKEYS_SIGNING_SECRET ||
        manifest_check(m, &why) != CM_OK) {
        return CM_EINVAL;
    }
    rc = updkeys_public_of(signing, &pub);
    if (rc != CM_OK) {
        return rc;
    }
    rc = buf_printf(out,
                    "%s %u\nversion %llu\nissued %llu\nexpires %llu\n",
                    UPDFILE_MANIFEST_MAGIC, (unsigned)UPDFILE_MANIFEST_FORMAT,
                    (unsigned long long)m->version,
                    (unsigned long long)m->issued_unix,
                    (unsigned long long)m->expires_unix);
    for (size_t i = 0; rc == CM_OK && i < m->n_files; i++) {
        const struct updfile_entry *e = &m->files[i];
        updkeys_hex(e->sha256, UPDKEYS_SHA256_LEN, sha_hex);
        rc = buf_printf(out, "file %s %s %llu %llu %llu %s\n", e->name,
                        updfile_kind_name(e->kind),
                        (unsigned long long)e->base_version,
                        (unsigned long long)e->version,
                        (unsigned long long)e->size, sha_hex);
    }
    if (rc == CM_OK) {
        rc = updkeys_sign(signing, out->data + start, out->len - start, sig);
    }
    if (rc == CM_OK) {
        updkeys_hex(pub.id, UPDKEYS_ID_LEN, id_hex);
        updkeys_hex(sig, UPDKEYS_SIG_LEN, sig_hex);
        rc = buf_printf(out, "%s%s %s\n", UPDFILE_SIG_LINE, id_hex, sig_hex);
    }
    if (rc == CM_OK && out->len - start > CAPS_UPDFILE_MANIFEST_MAX_BYTES) {
        rc = CM_ELIMIT;
    }
    if (rc != CM_OK) {
        out->len = start;
        if (out->data != NULL) {
            out->data[start] = '\0';
        }
    }
    return rc;
}

/* Up to max_fields space-separated fields of one line; empty fields (two
 * spaces, leading or trailing space) are refused. */
struct manifest_line {
    const char *field[8];
    size_t field_len[8];
    size_t n_fields;
};

static enum cm_err
split_line(const char *p, size_t len, struct manifest_line *ml)
{
    size_t start = 0;

    ml->n_fields = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != ' ') {
            if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e) {
                return CM_EPARSE;
            }
            continue;
        }
        if (i == start || ml->n_fields == 8) {
            return CM_EPARSE;
        }
        ml->field[ml->n_fields] = p + start;
        ml->field_len[ml->n_fields] = i - start;
        ml->n_fields++;
        start = i + 1;
    }
    return CM_OK;
}

static bool
field_is(const struct manifest_line *ml, size_t i, const char *word)
{
    size_t n = strlen(word);

    return i < ml->n_fields && ml->field_len[i] == n &&
           memcmp(ml->field[i], word, n) == 0;
}

static enum cm_err
field_u64(const struct manifest_line *ml, size_t i, uint64_t *out)
{
    if (i >= ml->n_fields) {
        return CM_EPARSE;
    }
    return cursor_parse_u64(ml->field[i], ml->field_len[i], UINT64_MAX, out);
}

/* "file NAME KIND BASE VERSION SIZE SHA256" */
static enum cm_err
parse_file_line(const struct manifest_line *ml, struct updfile_entry *e,
                const char **why)
{
    *why = "bad file line";
    if (ml->n_fields != 7) {
        return CM_EPARSE;
    }
    if (!updfile_name_is_valid(ml->field[1], ml->field_len[1])) {
        *why = "bad file name in the manifest";
        return CM_EPARSE;
    }
    memcpy(e->name, ml->field[1], ml->field_len[1]);
    e->name[ml->field_len[1]] = '\0';
    if (field_is(ml, 2, "full")) {
        e->kind = UPDFILE_FULL;
    } else if (field_is(ml, 2, "delta")) {
        e->kind = UPDFILE_DELTA;
    } else {
        *why = "file kind is neither full nor delta";
        return CM_EPARSE;
    }
    if (field_u64(ml, 3, &e->base_version) != CM_OK ||
        field_u64(ml, 4, &e->version) != CM_OK ||
        field_u64(ml, 5, &e->size) != CM_OK ||
        updkeys_unhex(ml->field[6], ml->field_len[6], e->sha256,
                      UPDKEYS_SHA256_LEN) != CM_OK) {
        return CM_EPARSE;
    }
    return CM_OK;
}

enum manifest_step {
    MANIFEST_STEP_MAGIC,
    MANIFEST_STEP_VERSION,
    MANIFEST_STEP_ISSUED,
    MANIFEST_STEP_EXPIRES,
    MANIFEST_STEP_FILES
};

/* Parse the signed body (p, len), which ends with '\n'. */
static enum cm_err
parse_body(const uint8_t *p, size_t len, struct updfile_manifest *m,
           const char **why)
{
    enum manifest_step step = MANIFEST_STEP_MAGIC;
    size_t off = 0;
    enum cm_err rc;

    while (off < len) {
        const uint8_t *nl = memchr(p + off, '\n', len - off);
        size_t n;
        struct manifest_line ml;
        uint64_t num = 0;

        if (nl == NULL) {
            *why = "manifest line without a newline";
            return CM_EPARSE;
        }
        n = (size_t)(nl - (p + off));
        if (n > CAPS_UPDFILE_LINE_MAX) {
            *why = "manifest line too long";
            return CM_ELIMIT;
        }
        if (split_line((const char *)p + off, n, &ml) != CM_OK) {
            *why = "malformed manifest line";
            return CM_EPARSE;
        }
        off += n + 1;
        switch (step) {
        case MANIFEST_STEP_MAGIC:
            if (ml.n_fields != 2 || !field_is(&ml, 0, UPDFILE_MANIFEST_MAGIC)) {
                *why = "not a manifest";
                return CM_EPARSE;
            }
            if (field_u64(&ml, 1, &num) != CM_OK ||
                num != UPDFILE_MANIFEST_FORMAT) {
                *why = "unknown manifest format";
                return CM_EVERSION;
            }
            m->format = (uint32_t)num;
            step = MANIFEST_STEP_VERSION;
            break;
        case MANIFEST_STEP_VERSION:
            if (ml.n_fields != 2 || !field_is(&ml, 0, "version") ||
                field_u64(&ml, 1, &m->version) != CM_OK) {
                *why = "expected \"version N\"";
                return CM_EPARSE;
            }
            step = MANIFEST_STEP_ISSUED;
            break;
        case MANIFEST_STEP_ISSUED:
            if (ml.n_fields != 2 || !field_is(&ml, 0, "issued") ||
                field_u64(&ml, 1, &m->issued_unix) != CM_OK) {
                *why = "expected \"issued UNIXTIME\"";
                return CM_EPARSE;
            }
            step = MANIFEST_STEP_EXPIRES;
            break;
        case MANIFEST_STEP_EXPIRES:
            if (ml.n_fields != 2 || !field_is(&ml, 0, "expires") ||
                field_u64(&ml, 1, &m->expires_unix) != CM_OK) {
                *why = "expected \"expires UNIXTIME\"";
                return CM_EPARSE;
            }
            step = MANIFEST_STEP_FILES;
            break;
        case MANIFEST_STEP_FILES:
            if (!field_is(&ml, 0, "file")) {
                *why = "expected a \"file\" line";
                return CM_EPARSE;
            }
            if (m->n_files == CAPS_UPDFILE_MANIFEST_FILES_MAX) {
                *why = "too many files in the manifest";
                return CM_ELIMIT;
            }
            rc = parse_file_line(&ml, &m->files[m->n_files], why);
            if (rc != CM_OK) {
                return rc;
            }
            m->n_files++;
            break;
        }
    }
    if (step != MANIFEST_STEP_FILES) {
        *why = "manifest ends early";
        return CM_EPARSE;
    }
    return manifest_check(m, why);
}

/*
 * Find the signature line: the file must end with '\n' and its last line
 * must be "signature <id> <sig>".  *body_len is the signed prefix.
 */
static enum cm_err
split_signature(const uint8_t *p, size_t len, size_t *body_len,
                uint8_t id[UPDKEYS_ID_LEN], uint8_t sig[UPDKEYS_SIG_LEN],
                const char **why)
{
    const size_t prefix = sizeof(UPDFILE_SIG_LINE) - 1;
    const size_t want = prefix + 2 * UPDKEYS_ID_LEN + 1 +
                        2 * UPDKEYS_SIG_LEN + 1;
    const uint8_t *line;

    if (len > CAPS_UPDFILE_MANIFEST_MAX_BYTES) {
        *why = "manifest larger than the cap";
        return CM_ELIMIT;
    }
    /* The signature line has a fixed length, so it is simply the last
     * `want` bytes, preceded by the body's final newline. */
    if (len <= want || p[len - want - 1] != '\n' || p[len - 1] != '\n') {
        *why = "manifest truncated or without a signature line";
        return CM_EPARSE;
    }
    line = p + len - want;
    if (memcmp(line, UPDFILE_SIG_LINE, prefix) != 0 ||
        line[prefix + 2 * UPDKEYS_ID_LEN] != ' ') {
        *why = "manifest truncated or without a signature line";
        return CM_EPARSE;
    }
    if (updkeys_unhex((const char *)line + prefix, 2 * UPDKEYS_ID_LEN, id,
                      UPDKEYS_ID_LEN) != CM_OK ||
        updkeys_unhex((const char *)line + prefix + 2 * UPDKEYS_ID_LEN + 1,
                      2 * UPDKEYS_SIG_LEN, sig, UPDKEYS_SIG_LEN) != CM_OK) {
        *why = "malformed signature line";
        return CM_EPARSE;
    }
    *body_len = len - want;
    return CM_OK;
}

static enum cm_err
manifest_parse(const uint8_t *p, size_t len,
               const struct updkeys_ring *signing_public, bool is_verified,
               uint64_t now_unix, struct updfile_manifest *out,
               const char **why)
{
    struct updfile_manifest *m;
    uint8_t id[UPDKEYS_ID_LEN];
    uint8_t sig[UPDKEYS_SIG_LEN];
    size_t body_len = 0;
    const char *reason = NULL;
    enum cm_err rc;

    rc = split_signature(p, len, &body_len, id, sig, &reason);
    if (rc != CM_OK) {
        goto out;
    }
    if (is_verified) {
        const struct updkeys_key *k = updkeys_find(signing_public, id);
        if (k == NULL) {
            reason = "manifest signed with an unknown key id";
            rc = CM_EKEY;
            goto out;
        }
        if (updkeys_verify(k, p, body_len, sig) != CM_OK) {
            reason = "bad manifest signature";
            rc = CM_ESIG;
            goto out;
        }
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        reason = "out of memory";
        rc = CM_ENOMEM;
        goto out;
    }
    rc = parse_body(p, body_len, m, &reason);
    if (rc == CM_OK && now_unix != 0 && now_unix > m->expires_unix) {
        reason = "manifest expired";
        rc = CM_EEXPIRED;
    }
    if (rc == CM_OK) {
        memcpy(m->signing_key_id, id, UPDKEYS_ID_LEN);
        *out = *m;
    }
    free(m);
out:
    if (rc != CM_OK && why != NULL) {
        *why = reason;
    }
    return rc;
}

enum cm_err
updfile_manifest_parse(const uint8_t *p, size_t len,
                       const struct updkeys_ring *signing_public,
                       uint64_t now_unix, struct updfile_manifest *out,
                       const char **why)
{
    return manifest_parse(p, len, signing_public, true, now_unix, out, why);
}

enum cm_err
updfile_manifest_parse_unverified(const uint8_t *p, size_t len,
                                  struct updfile_manifest *out,
                                  const char **why)
{
    return manifest_parse(p, len, NULL, false, 0, out, why);
}

const struct updfile_entry *
updfile_manifest_pick(const struct updfile_manifest *m,
                      uint64_t current_version, bool allow_delta)
{
    const struct updfile_entry *full = NULL;

    for (size_t i = 0; i < m->n_files; i++) {
        const struct updfile_entry *e = &m->files[i];
        if (e->kind == UPDFILE_FULL) {
            full = e;
        } else if (allow_delta && current_version != 0 &&
                   e->base_version == current_version) {
            return e;
        }
    }
    return full;
}
