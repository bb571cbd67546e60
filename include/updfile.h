/*
 * updfile.h -- micro-update files (*.cmu) and the signed manifest: build,
 * verify, decrypt, inflate.  No network, no files (SPEC §5; the formats and
 * the order of checks are documented at the top of updfile.c).
 *
 * Everything here is pure and works on caller-owned memory; any thread.
 * Verification functions return one code per refusal so the updater can
 * log and count each kind: CM_ELIMIT (oversize), CM_EPARSE (malformed,
 * truncated), CM_EKEY (unknown key id), CM_ESIG (bad signature),
 * CM_ECRYPTO (GCM authentication failed: wrong content key or altered
 * ciphertext), CM_EVERSION (unknown format, or version not newer than the
 * installed one: a replay), CM_EDIGEST (size or SHA-256 mismatch),
 * CM_EEXPIRED (manifest past its expiry), CM_ENOMEM.
 */
#ifndef CM_UPDFILE_H
#define CM_UPDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "caps.h"
#include "err.h"
#include "updkeys.h"

#define UPDFILE_MAGIC "CMUPD\r\n\x1a"
#define UPDFILE_MAGIC_LEN 8u
#define UPDFILE_FORMAT 1u
#define UPDFILE_NONCE_LEN 12u
#define UPDFILE_TAG_LEN 16u
#define UPDFILE_HEADER_LEN 112u
/* Header, GCM tag and signature: the smallest possible file (empty
 * ciphertext, which a valid file never has). */
#define UPDFILE_OVERHEAD \
    (UPDFILE_HEADER_LEN + UPDFILE_TAG_LEN + UPDKEYS_SIG_LEN)

#define UPDFILE_MANIFEST_FORMAT 1u
/* First line of a manifest (then " <format>\n"). */
#define UPDFILE_MANIFEST_MAGIC "cgpcloudmark-manifest"

enum updfile_kind {
    UPDFILE_FULL = 1, /* payload is a whole cartridge image */
    UPDFILE_DELTA = 2 /* payload is a delta (delta.h) from base_version */
};

/* The fixed header of an update file. */
struct updfile_header {
    uint32_t format;
    enum updfile_kind kind;
    uint64_t version;      /* cartridge version the file installs */
    uint64_t base_version; /* 0 for a full snapshot */
    uint8_t content_key_id[UPDKEYS_ID_LEN];
    uint8_t signing_key_id[UPDKEYS_ID_LEN];
    uint8_t nonce[UPDFILE_NONCE_LEN];
    uint64_t ciphertext_len;  /* bytes between header and GCM tag */
    uint64_t inflated_len;    /* payload size after inflate */
    uint8_t target_sha256[UPDKEYS_SHA256_LEN]; /* of the resulting image */
};

/* What an update file carries: which image it produces. */
struct updfile_spec {
    enum updfile_kind kind;
    uint64_t version;      /* >= 1 */
    uint64_t base_version; /* 0 for full; 1 .. version-1 for a delta */
    uint8_t target_sha256[UPDKEYS_SHA256_LEN]; /* SHA-256 of the full
                                                  image at version */
};

/* Name of a kind: "full" or "delta". */
const char *updfile_kind_name(enum updfile_kind kind);

/*
 * Build an update file into out (appended): deflate payload, encrypt it
 * with AES-256-GCM under content (fresh random nonce, the header as AAD),
 * sign everything with signing.  payload is the image (full) or a delta.
 * For a full file spec->target_sha256 must be the payload's SHA-256
 * (checked).  CM_EINVAL on an inconsistent spec or a wrong key kind,
 * CM_ELIMIT when the payload is over CAPS_UPDFILE_PAYLOAD_MAX_BYTES or out
 * is too small, CM_ECRYPTO, CM_ENOMEM.
 */
enum cm_err updfile_build(const struct updfile_spec *spec,
                          const uint8_t *payload, size_t payload_len,
                          const struct updkeys_key *signing,
                          const struct updkeys_key *content,
                          struct buf *out);

/*
 * Read the fixed header and check the sizes only: magic, format, kind,
 * versions, and that the file is exactly header + ciphertext + tag +
 * signature long with ciphertext and inflated sizes under their caps.
 * NOT authenticated: for display and for choosing keys.
 */
enum cm_err updfile_peek(const uint8_t *p, size_t len,
                         struct updfile_header *out, const char **why);

/*
 * The first steps of updfile_open only: size checks (peek) → signing key
 * by id (CM_EKEY) → Ed25519 over every byte before the signature
 * (CM_ESIG).  For cmtool inspect given the public key but no content
 * key.  On success *hdr is the (now authenticated) header.
 */
enum cm_err updfile_verify(const uint8_t *p, size_t len,
                           const struct updkeys_ring *signing_public,
                           struct updfile_header *hdr, const char **why);

/*
 * Verify and open an update file, in this order: size checks (peek) →
 * signing key by id (CM_EKEY) → Ed25519 over every byte before the
 * signature (CM_ESIG) → version newer than current_version (CM_EVERSION;
 * pass 0 to accept any) → content key by id (CM_EKEY) → AES-256-GCM
 * decrypt (CM_ECRYPTO) → inflate to exactly inflated_len bytes, no more
 * (CM_ELIMIT past it: a zip bomb; CM_EPARSE short or trailing data) → for a
 * full file, SHA-256 of the image against target_sha256 (CM_EDIGEST).
 * On success *hdr is the header and *payload a malloc'ed buffer of
 * *payload_len bytes (free() it).  *why (may be NULL) gets a static reason.
 */
enum cm_err updfile_open(const uint8_t *p, size_t len,
                         const struct updkeys_ring *signing_public,
                         const struct updkeys_ring *content,
                         uint64_t current_version,
                         struct updfile_header *hdr, uint8_t **payload,
                         size_t *payload_len, const char **why);

/* One file listed in a manifest. */
struct updfile_entry {
    char name[CAPS_UPDFILE_NAME_MAX + 1];
    enum updfile_kind kind;
    uint64_t base_version; /* 0 for full */
    uint64_t version;      /* always the manifest's version */
    uint64_t size;         /* bytes of the .cmu */
    uint8_t sha256[UPDKEYS_SHA256_LEN]; /* of the .cmu */
};

struct updfile_manifest {
    uint32_t format;
    uint64_t version;      /* newest cartridge version published */
    uint64_t issued_unix;
    uint64_t expires_unix; /* refused after this */
    uint8_t signing_key_id[UPDKEYS_ID_LEN]; /* from the signature line */
    size_t n_files;
    struct updfile_entry files[CAPS_UPDFILE_MANIFEST_FILES_MAX];
};

/* True when name is a valid update file name: 1..CAPS_UPDFILE_NAME_MAX
 * bytes of [A-Za-z0-9._-], not starting with a dot. */
bool updfile_name_is_valid(const char *name, size_t len);

/*
 * Append the signed manifest text for m (m->signing_key_id is ignored;
 * the signing key's id is written).  CM_EINVAL when m is not valid (the
 * same rules the parser applies), CM_ELIMIT, CM_ECRYPTO.
 */
enum cm_err updfile_manifest_format(const struct updfile_manifest *m,
                                    const struct updkeys_key *signing,
                                    struct buf *out);

/*
 * Verify then parse a manifest: size (CM_ELIMIT) → the last line must be
 * the signature line (CM_EPARSE) → its key id in signing_public (CM_EKEY)
 * → Ed25519 over every byte before that line (CM_ESIG) → the lines
 * (CM_EPARSE, CM_EVERSION for an unknown format, CM_ELIMIT for too many
 * files) → expiry against now_unix (CM_EEXPIRED; now_unix 0 skips the
 * expiry check, for the publisher re-reading its own tree).  *out is
 * written only on success; *why (may be NULL) gets a static reason.
 */
enum cm_err updfile_manifest_parse(const uint8_t *p, size_t len,
                                   const struct updkeys_ring *signing_public,
                                   uint64_t now_unix,
                                   struct updfile_manifest *out,
                                   const char **why);

/* The same parse WITHOUT any signature check, for cmtool inspect when no
 * key is at hand.  Never use what it returns to install anything. */
enum cm_err updfile_manifest_parse_unverified(const uint8_t *p, size_t len,
                                              struct updfile_manifest *out,
                                              const char **why);

/*
 * The file to fetch to go from current_version to m->version: the delta
 * whose base is current_version when allow_delta, else the full snapshot.
 * NULL when m offers neither.  Borrowed from m.
 */
const struct updfile_entry *
updfile_manifest_pick(const struct updfile_manifest *m,
                      uint64_t current_version, bool allow_delta);

#endif
