/*
 * updkeys.h -- the micro-update keys (SPEC §5): Ed25519 signing keys and
 * AES-256 content keys, their key ids, their files, and the few crypto
 * primitives built on them (SHA-256, sign, verify).
 *
 * Key file format (text, one key a line, written by `cmtool keygen`):
 *
 *     # comment lines and blank lines are ignored
 *     <type> <id> <key>
 *
 * type is "ed25519-secret" (signing.key), "ed25519-public" (signing.pub)
 * or "aes256-content" (content.key); id is the 8-byte key id and key the
 * 32 key bytes, both lower-case hex.  A file holds one kind of key and at
 * most CAPS_UPDKEYS_RING_MAX lines, so a public-key or content-key file
 * can list the new key and the old ones during a rotation; update files
 * and manifests name the key they need by id.  Key ids:
 *     public key:  first 8 bytes of SHA-256(public key)
 *     secret key:  the id of its public key
 *     content key: first 8 bytes of SHA-256("CGPCloudmark content key id"
 *                  || key), so the id says nothing useful about the key.
 * A line whose id does not match its key is refused (a damaged file).
 *
 * Secrets are wiped with OPENSSL_cleanse (updkeys_ring_clear).  Pure
 * functions on caller-owned data; any thread.
 */
#ifndef CM_UPDKEYS_H
#define CM_UPDKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "caps.h"
#include "err.h"

#define UPDKEYS_ID_LEN 8u
#define UPDKEYS_KEY_LEN 32u
#define UPDKEYS_SIG_LEN 64u
#define UPDKEYS_SHA256_LEN 32u
/* Hex text of a key id, with its NUL. */
#define UPDKEYS_ID_HEX_LEN (2u * UPDKEYS_ID_LEN + 1u)

enum updkeys_kind {
    UPDKEYS_SIGNING_SECRET = 1, /* Ed25519 private key (32-byte seed) */
    UPDKEYS_SIGNING_PUBLIC = 2, /* Ed25519 public key */
    UPDKEYS_CONTENT = 3         /* AES-256-GCM content key */
};

struct updkeys_key {
    enum updkeys_kind kind;
    uint8_t id[UPDKEYS_ID_LEN];
    uint8_t key[UPDKEYS_KEY_LEN];
};

/* The keys of one file, in file order. */
struct updkeys_ring {
    enum updkeys_kind kind;
    size_t n_keys;
    struct updkeys_key keys[CAPS_UPDKEYS_RING_MAX];
};

/* Name of a kind as written in key files ("ed25519-secret", ...). */
const char *updkeys_kind_name(enum updkeys_kind kind);

/*
 * Fresh keys from the OpenSSL CSPRNG: a signing key pair and a content
 * key, ids filled in.  CM_ECRYPTO when OpenSSL fails; outputs untouched
 * then.  The caller wipes the secrets (updkeys_key_wipe).
 */
enum cm_err updkeys_generate(struct updkeys_key *secret,
                             struct updkeys_key *public_key,
                             struct updkeys_key *content);

/* Compute k->id from k->kind and k->key (the public id for a secret). */
enum cm_err updkeys_compute_id(struct updkeys_key *k);

/* The public key of a signing secret (id filled in).  CM_ECRYPTO/EINVAL. */
enum cm_err updkeys_public_of(const struct updkeys_key *secret,
                              struct updkeys_key *public_key);

/*
 * Parse a key file's bytes (p, len; no NUL needed) holding keys of kind.
 * Errors (ring untouched except that it is wiped): CM_ELIMIT (too big, too
 * many keys), CM_EPARSE (bad line, wrong kind, id mismatch, duplicate id,
 * no key at all), CM_ECRYPTO.  *why (may be NULL) gets a static reason and
 * *line_no (may be NULL) the 1-based line at fault (0 when none).
 */
enum cm_err updkeys_parse(const uint8_t *p, size_t len,
                          enum updkeys_kind kind, struct updkeys_ring *ring,
                          size_t *line_no, const char **why);

/* updkeys_parse on a file (at most CAPS_UPDKEYS_FILE_MAX_BYTES).  Adds
 * CM_ENOENT/CM_EIO/CM_ENOTREG from reading.  The read buffer is wiped. */
enum cm_err updkeys_load(const char *path, enum updkeys_kind kind,
                         struct updkeys_ring *ring, size_t *line_no,
                         const char **why);

/* Append the file text for ring (a comment line, then one line a key). */
enum cm_err updkeys_format(const struct updkeys_ring *ring, struct buf *out);

/*
 * Write ring to path atomically (fsutil_write_atomic): mode 0600 for
 * secrets and content keys, 0644 for public keys.  Existing files are
 * replaced only when is_overwrite; else CM_EINVAL.  The text is wiped.
 */
enum cm_err updkeys_save(const char *path, const struct updkeys_ring *ring,
                         bool is_overwrite);

/*
 * The text of ring written to a temporary file beside path
 * (fsutil_write_temp, modes as updkeys_save), its name into tmp, for the
 * caller to rename over path or unlink: keygen replaces its files as a
 * set this way.  The text is wiped.  Errors as fsutil_write_temp.
 */
enum cm_err updkeys_save_temp(const char *path,
                              const struct updkeys_ring *ring, char *tmp,
                              size_t tmp_cap);

/* The key with this id, or NULL.  Borrowed from ring. */
const struct updkeys_key *updkeys_find(const struct updkeys_ring *ring,
                                       const uint8_t id[UPDKEYS_ID_LEN]);

/* Wipe one key / every key of a ring (OPENSSL_cleanse); n_keys becomes 0. */
void updkeys_key_wipe(struct updkeys_key *k);
void updkeys_ring_clear(struct updkeys_ring *ring);

/* Lower-case hex of (p, len) into out, which holds 2 * len + 1 bytes. */
void updkeys_hex(const uint8_t *p, size_t len, char *out);

/* Exactly 2 * n hex digits (either case) into out[n].  CM_EPARSE. */
enum cm_err updkeys_unhex(const char *p, size_t len, uint8_t *out, size_t n);

/* SHA-256 of (p, len).  CM_ECRYPTO when OpenSSL fails. */
enum cm_err updkeys_sha256(const uint8_t *p, size_t len,
                           uint8_t out[UPDKEYS_SHA256_LEN]);

/* Ed25519 signature of (p, len) with a signing secret. */
enum cm_err updkeys_sign(const struct updkeys_key *secret, const uint8_t *p,
                         size_t len, uint8_t sig[UPDKEYS_SIG_LEN]);

/* Verify sig over (p, len) with a public key: CM_OK or CM_ESIG
 * (CM_ECRYPTO when OpenSSL cannot even start). */
enum cm_err updkeys_verify(const struct updkeys_key *public_key,
                           const uint8_t *p, size_t len,
                           const uint8_t sig[UPDKEYS_SIG_LEN]);

#endif
