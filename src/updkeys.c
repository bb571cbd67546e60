/*
 * updkeys.c -- micro-update keys: generation, ids, key files, SHA-256 and
 * Ed25519 through OpenSSL EVP (SPEC §5; file format in updkeys.h).
 *
 * State: none.  Every key lives in caller-owned structs; secrets that pass
 * through a temporary buffer here (file text, EVP raw key export) are wiped
 * with OPENSSL_cleanse before the buffer is freed or goes out of scope.
 *
 * Key files are untrusted input of the same rank as a config file (an admin
 * may paste the wrong thing): the parser is line-oriented and bounded by
 * CAPS_UPDKEYS_FILE_MAX_BYTES and CAPS_UPDKEYS_RING_MAX, takes no NUL for
 * granted and refuses anything but the exact "<type> <id> <key>" grammar.
 * Called by cmtool (keygen, publish, inspect) and the updater; any thread.
 */
#include "updkeys.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fsutil.h"

/* Domain string hashed before a content key to derive its id. */
static const char updkeys_content_domain[] = "CGPCloudmark content key id";

const char *
updkeys_kind_name(enum updkeys_kind kind)
{
    switch (kind) {
    case UPDKEYS_SIGNING_SECRET:
        return "ed25519-secret";
    case UPDKEYS_SIGNING_PUBLIC:
        return "ed25519-public";
    case UPDKEYS_CONTENT:
        return "aes256-content";
    }
    return "?";
}

void
updkeys_hex(const uint8_t *p, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

static int
hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

enum cm_err
updkeys_unhex(const char *p, size_t len, uint8_t *out, size_t n)
{
    if (n > SIZE_MAX / 2 || len != 2 * n) {
        return CM_EPARSE;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(p[2 * i]);
        int lo = hex_value(p[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return CM_EPARSE;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return CM_OK;
}

enum cm_err
updkeys_sha256(const uint8_t *p, size_t len, uint8_t out[UPDKEYS_SHA256_LEN])
{
    unsigned int n = 0;

    if (EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) != 1 ||
        n != UPDKEYS_SHA256_LEN) {
        return CM_ECRYPTO;
    }
    return CM_OK;
}

/* An EVP_PKEY for a signing key (secret or public); NULL on failure. */
static EVP_PKEY *
pkey_of(const struct updkeys_key *k)
{
    if (k->kind == UPDKEYS_SIGNING_SECRET) {
        return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->key,
                                            UPDKEYS_KEY_LEN);
    }
    if (k->kind == UPDKEYS_SIGNING_PUBLIC) {
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->key,
                                           UPDKEYS_KEY_LEN);
    }
    return NULL;
}

/* Raw public key bytes of a secret. */
static enum cm_err
derive_public(const uint8_t seed[UPDKEYS_KEY_LEN],
              uint8_t pub[UPDKEYS_KEY_LEN])
{
    EVP_PKEY *pk;
    size_t n = UPDKEYS_KEY_LEN;
    enum cm_err rc = CM_ECRYPTO;

    pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
                                      UPDKEYS_KEY_LEN);
    if (pk == NULL) {
        return CM_ECRYPTO;
    }
    if (EVP_PKEY_get_raw_public_key(pk, pub, &n) == 1 &&
        n == UPDKEYS_KEY_LEN) {
        rc = CM_OK;
    }
    EVP_PKEY_free(pk);
    return rc;
}

enum cm_err
updkeys_compute_id(struct updkeys_key *k)
{
    uint8_t digest[UPDKEYS_SHA256_LEN];
    uint8_t pub[UPDKEYS_KEY_LEN];
    uint8_t tagged[sizeof(updkeys_content_domain) - 1 + UPDKEYS_KEY_LEN];
    enum cm_err rc = CM_EINVAL;

    switch (k->kind) {
    case UPDKEYS_SIGNING_SECRET:
        rc = derive_public(k->key, pub);
        if (rc == CM_OK) {
            rc = updkeys_sha256(pub, sizeof(pub), digest);
        }
        break;
    case UPDKEYS_SIGNING_PUBLIC:
        rc = updkeys_sha256(k->key, UPDKEYS_KEY_LEN, digest);
        break;
    case UPDKEYS_CONTENT:
        memcpy(tagged, updkeys_content_domain,
               sizeof(updkeys_content_domain) - 1);
        memcpy(tagged + sizeof(updkeys_content_domain) - 1, k->key,
               UPDKEYS_KEY_LEN);
        rc = updkeys_sha256(tagged, sizeof(tagged), digest);
        OPENSSL_cleanse(tagged, sizeof(tagged));
        break;
    }
    if (rc == CM_OK) {
        memcpy(k->id, digest, UPDKEYS_ID_LEN);
    }
    return rc;
}

enum cm_err
updkeys_public_of(const struct updkeys_key *secret,
                  struct updkeys_key *public_key)
{
    struct updkeys_key pub;
    enum cm_err rc;

    if (secret->kind != UPDKEYS_SIGNING_SECRET) {
        return CM_EINVAL;
    }
    pub.kind = UPDKEYS_SIGNING_PUBLIC;
    rc = derive_public(secret->key, pub.key);
    if (rc == CM_OK) {
        rc = updkeys_compute_id(&pub);
    }
    if (rc == CM_OK) {
        *public_key = pub;
    }
    return rc;
}

enum cm_err
updkeys_generate(struct updkeys_key *secret, struct updkeys_key *public_key,
                 struct updkeys_key *content)
{
    struct updkeys_key s;
    struct updkeys_key p;
    struct updkeys_key c;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    size_t n = UPDKEYS_KEY_LEN;
    enum cm_err rc = CM_ECRYPTO;

    s.kind = UPDKEYS_SIGNING_SECRET;
    c.kind = UPDKEYS_CONTENT;
    ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
        EVP_PKEY_keygen(ctx, &pk) != 1) {
        goto out;
    }
    if (EVP_PKEY_get_raw_private_key(pk, s.key, &n) != 1 ||
        n != UPDKEYS_KEY_LEN) {
        goto out;
    }
    if (RAND_bytes(c.key, (int)UPDKEYS_KEY_LEN) != 1) {
        goto out;
    }
    if (updkeys_compute_id(&s) != CM_OK ||
        updkeys_compute_id(&c) != CM_OK ||
        updkeys_public_of(&s, &p) != CM_OK) {
        goto out;
    }
    *secret = s;
    *public_key = p;
    *content = c;
    rc = CM_OK;
out:
    OPENSSL_cleanse(&s, sizeof(s));
    OPENSSL_cleanse(&c, sizeof(c));
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

void
updkeys_key_wipe(struct updkeys_key *k)
{
    OPENSSL_cleanse(k, sizeof(*k));
}

void
updkeys_ring_clear(struct updkeys_ring *ring)
{
    OPENSSL_cleanse(ring->keys, sizeof(ring->keys));
    ring->n_keys = 0;
}

const struct updkeys_key *
updkeys_find(const struct updkeys_ring *ring,
             const uint8_t id[UPDKEYS_ID_LEN])
{
    for (size_t i = 0; i < ring->n_keys && i < CAPS_UPDKEYS_RING_MAX; i++) {
        if (memcmp(ring->keys[i].id, id, UPDKEYS_ID_LEN) == 0) {
            return &ring->keys[i];
        }
    }
    return NULL;
}

/* Parse one key line (p, len): no CR/LF inside.  Fills *k. */
static enum cm_err
parse_line(const char *p, size_t len, enum updkeys_kind kind,
           struct updkeys_key *k, const char **why)
{
    const char *type = updkeys_kind_name(kind);
    size_t type_len = strlen(type);
    const char *id_hex;
    const char *key_hex;
    uint8_t id[UPDKEYS_ID_LEN];

    /* "<type> <16 hex> <64 hex>", single spaces, nothing else. */
    if (len != type_len + 1 + 2 * UPDKEYS_ID_LEN + 1 + 2 * UPDKEYS_KEY_LEN) {
        *why = "a key line is \"<type> <16 hex id> <64 hex key>\"";
        return CM_EPARSE;
    }
    if (memcmp(p, type, type_len) != 0 || p[type_len] != ' ') {
        *why = "wrong key type for this file";
        return CM_EPARSE;
    }
    id_hex = p + type_len + 1;
    key_hex = id_hex + 2 * UPDKEYS_ID_LEN + 1;
    if (key_hex[-1] != ' ') {
        *why = "a key line is \"<type> <16 hex id> <64 hex key>\"";
        return CM_EPARSE;
    }
    k->kind = kind;
    if (updkeys_unhex(id_hex, 2 * UPDKEYS_ID_LEN, id, UPDKEYS_ID_LEN) !=
            CM_OK ||
        updkeys_unhex(key_hex, 2 * UPDKEYS_KEY_LEN, k->key,
                      UPDKEYS_KEY_LEN) != CM_OK) {
        *why = "key id or key is not hex";
        return CM_EPARSE;
    }
    if (updkeys_compute_id(k) != CM_OK) {
        *why = "OpenSSL refused the key";
        return CM_ECRYPTO;
    }
    if (memcmp(id, k->id, UPDKEYS_ID_LEN) != 0) {
        *why = "key id does not match the key (damaged file?)";
        return CM_EPARSE;
    }
    return CM_OK;
}

enum cm_err
updkeys_parse(const uint8_t *p, size_t len, enum updkeys_kind kind,
              struct updkeys_ring *ring, size_t *line_no, const char **why)
{
    size_t off = 0;
    size_t line = 0;
    const char *reason = NULL;
    enum cm_err rc = CM_OK;

    ring->kind = kind;
    updkeys_ring_clear(ring);
    if (len > CAPS_UPDKEYS_FILE_MAX_BYTES) {
        reason = "key file too big";
        rc = CM_ELIMIT;
        goto out;
    }
    while (off < len) {
        const uint8_t *nl = memchr(p + off, '\n', len - off);
        size_t end = nl == NULL ? len : (size_t)(nl - p);
        size_t n = end - off;
        const char *s = (const char *)p + off;

        line++;
        if (n > 0 && s[n - 1] == '\r') {
            n--;
        }
        off = end + (nl != NULL);
        if (n == 0 || s[0] == '#') {
            continue;
        }
        if (ring->n_keys == CAPS_UPDKEYS_RING_MAX) {
            reason = "too many keys in one file";
            rc = CM_ELIMIT;
            goto out;
        }
        rc = parse_line(s, n, kind, &ring->keys[ring->n_keys], &reason);
        if (rc != CM_OK) {
            goto out;
        }
        if (updkeys_find(ring, ring->keys[ring->n_keys].id) != NULL) {
            reason = "the same key id appears twice";
            rc = CM_EPARSE;
            goto out;
        }
        ring->n_keys++;
    }
    line = 0;
    if (ring->n_keys == 0) {
        reason = "no key in the file";
        rc = CM_EPARSE;
    }
out:
    if (rc != CM_OK) {
        updkeys_ring_clear(ring);
        if (why != NULL) {
            *why = reason;
        }
        if (line_no != NULL) {
            *line_no = line;
        }
    }
    return rc;
}

enum cm_err
updkeys_load(const char *path, enum updkeys_kind kind,
             struct updkeys_ring *ring, size_t *line_no, const char **why)
{
    struct buf b;
    bool is_truncated = false;
    enum cm_err rc;

    if (line_no != NULL) {
        *line_no = 0;
    }
    buf_init(&b, CAPS_UPDKEYS_FILE_MAX_BYTES + 1);
    rc = fsutil_read_file(path, CAPS_UPDKEYS_FILE_MAX_BYTES + 1, &b,
                          &is_truncated, why);
    if (rc == CM_OK) {
        rc = updkeys_parse(b.data, b.len, kind, ring, line_no, why);
    }
    if (b.data != NULL) {
        OPENSSL_cleanse(b.data, b.cap);
    }
    buf_clear(&b);
    return rc;
}

enum cm_err
updkeys_format(const struct updkeys_ring *ring, struct buf *out)
{
    char id_hex[UPDKEYS_ID_HEX_LEN];
    char key_hex[2 * UPDKEYS_KEY_LEN + 1];
    enum cm_err rc;

    rc = buf_printf(out,
                    "# CGPCloudmark micro-update key file (format 1): "
                    "<type> <key id> <key>\n");
    for (size_t i = 0; rc == CM_OK && i < ring->n_keys; i++) {
        const struct updkeys_key *k = &ring->keys[i];
        updkeys_hex(k->id, UPDKEYS_ID_LEN, id_hex);
        updkeys_hex(k->key, UPDKEYS_KEY_LEN, key_hex);
        rc = buf_printf(out, "%s %s %s\n", updkeys_kind_name(k->kind), id_hex,
                        key_hex);
    }
    OPENSSL_cleanse(key_hex, sizeof(key_hex));
    return rc;
}

enum cm_err
updkeys_save_temp(const char *path, const struct updkeys_ring *ring,
                  char *tmp, size_t tmp_cap)
{
    struct buf b;
    enum cm_err rc;
    mode_t mode = ring->kind == UPDKEYS_SIGNING_PUBLIC ? 0644 : 0600;

    buf_init(&b, CAPS_UPDKEYS_FILE_MAX_BYTES);
    rc = updkeys_format(ring, &b);
    if (rc == CM_OK) {
        rc = fsutil_write_temp(path, b.data, b.len, mode, tmp, tmp_cap);
    }
    if (b.data != NULL) {
        OPENSSL_cleanse(b.data, b.cap);
    }
    buf_clear(&b);
    return rc;
}

enum cm_err
updkeys_save(const char *path, const struct updkeys_ring *ring,
             bool is_overwrite)
{
    struct buf b;
    enum cm_err rc;
    mode_t mode = ring->kind == UPDKEYS_SIGNING_PUBLIC ? 0644 : 0600;

    if (!is_overwrite && (fsutil_is_file(path) || fsutil_is_dir(path))) {
        return CM_EINVAL;
    }
    buf_init(&b, CAPS_UPDKEYS_FILE_MAX_BYTES);
    rc = updkeys_format(ring, &b);
    if (rc == CM_OK) {
        rc = fsutil_write_atomic(path, b.data, b.len, mode);
    }
    if (b.data != NULL) {
        OPENSSL_cleanse(b.data, b.cap);
    }
    buf_clear(&b);
    return rc;
}

enum cm_err
updkeys_sign(const struct updkeys_key *secret, const uint8_t *p, size_t len,
             uint8_t sig[UPDKEYS_SIG_LEN])
{
    EVP_MD_CTX *md = NULL;
    EVP_PKEY *pk = NULL;
    size_t n = UPDKEYS_SIG_LEN;
    enum cm_err rc = CM_ECRYPTO;

    if (secret->kind != UPDKEYS_SIGNING_SECRET) {
        return CM_EINVAL;
    }
    pk = pkey_of(secret);
    md = EVP_MD_CTX_new();
    if (pk == NULL || md == NULL) {
        goto out;
    }
    /* Ed25519 is one-shot: no digest, the whole message at once. */
    if (EVP_DigestSignInit(md, NULL, NULL, NULL, pk) != 1 ||
        EVP_DigestSign(md, sig, &n, p, len) != 1 || n != UPDKEYS_SIG_LEN) {
        goto out;
    }
    rc = CM_OK;
out:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pk);
    return rc;
}

enum cm_err
updkeys_verify(const struct updkeys_key *public_key, const uint8_t *p,
               size_t len, const uint8_t sig[UPDKEYS_SIG_LEN])
{
    EVP_MD_CTX *md = NULL;
    EVP_PKEY *pk = NULL;
    enum cm_err rc = CM_ECRYPTO;

    if (public_key->kind != UPDKEYS_SIGNING_PUBLIC) {
        return CM_EINVAL;
    }
    pk = pkey_of(public_key);
    md = EVP_MD_CTX_new();
    if (pk == NULL || md == NULL) {
        goto out;
    }
    if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) != 1) {
        goto out;
    }
    rc = EVP_DigestVerify(md, sig, UPDKEYS_SIG_LEN, p, len) == 1 ? CM_OK
                                                                  : CM_ESIG;
out:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pk);
    return rc;
}
