/*
 * cartridge.h -- the engine's data: a versioned, validated, immutable,
 * reference-counted object, and the slot that holds the current one.
 *
 * File format (little-endian), see cartridge.c for the section layouts:
 *   magic "CMCART\r\n" (8) | format u32 | flags u32 | version u64 |
 *   created_unix u64 | n_sections u32 | section table (type u32, offset u64,
 *   length u64, crc32 u32) | section bodies.
 * Unknown formats are refused; unknown section types are skipped; every
 * offset, count and length is validated at load so the hot path can trust
 * the object.  A loaded cartridge never changes.
 *
 * Threads: cartridge_load*() run anywhere off the request path.  The slot
 * is shared: cartridge_acquire/release from any thread, cartridge_publish
 * from the updater.  The last release frees a cartridge.
 */
#ifndef CM_CARTRIDGE_H
#define CM_CARTRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cartridge;
struct cartridge_slot;

/* Validate and load a cartridge image (copied; p may be freed after).
 * *out has one reference.  CM_EPARSE/CM_EVERSION/CM_ELIMIT on bad input,
 * with *why (may be NULL) set to a static reason. */
enum cm_err cartridge_load(const uint8_t *p, size_t len,
                           struct cartridge **out, const char **why);

/* cartridge_load on a file's contents. */
enum cm_err cartridge_load_file(const char *path, struct cartridge **out,
                                const char **why);

/* Load the default cartridge compiled into the binary (is_default set). */
enum cm_err cartridge_load_default(struct cartridge **out, const char **why);

/* Bytes of the embedded default cartridge (for cmtool and tests). */
void cartridge_default_image(const uint8_t **p, size_t *len);

uint64_t cartridge_version(const struct cartridge *c);
bool cartridge_is_default(const struct cartridge *c);

/* Add a reference (any thread). */
void cartridge_ref(const struct cartridge *c);
/* Drop a reference; the last one frees.  NULL does nothing.  Dropping
 * below zero is a bug and aborts. */
void cartridge_unref(const struct cartridge *c);

/* A slot holding the current cartridge; takes over initial's reference. */
struct cartridge_slot *cartridge_slot_new(struct cartridge *initial);
/* Drops the slot's reference; outstanding acquisitions stay valid. */
void cartridge_slot_free(struct cartridge_slot *s);
/* The current cartridge with a reference held for the caller: score the
 * whole message on it, then cartridge_unref().  Never NULL. */
const struct cartridge *cartridge_acquire(struct cartridge_slot *s);
/* Make next current (takes over its reference); the old one is freed after
 * its last user releases it. */
void cartridge_publish(struct cartridge_slot *s, struct cartridge *next);

/* ---- format details, accessors and the writer (engine, cmtool) ------ */

struct buf;
struct model;
struct model_calibration;

#define CARTRIDGE_MAGIC "CMCART\r\n"
#define CARTRIDGE_MAGIC_LEN 8u
#define CARTRIDGE_FORMAT 1u
#define CARTRIDGE_HEADER_LEN 36u  /* magic .. n_sections */
#define CARTRIDGE_ENTRY_LEN 24u   /* one section table entry */

/* Section types.  Reserved ones are skipped by this version's loader. */
enum cartridge_section_type {
    CARTRIDGE_SEC_META = 1,        /* key=value lines, informational */
    CARTRIDGE_SEC_MODEL = 2,       /* model.h MODEL body (required) */
    CARTRIDGE_SEC_CALIBRATION = 3, /* model.h CALIBRATION body (required) */
    CARTRIDGE_SEC_CATEGORY = 4,    /* category codes, names, descriptions */
    CARTRIDGE_SEC_FINGERPRINTS = 5, /* fingerprint.h section (optional) */
    CARTRIDGE_SEC_REPUTATION = 6,   /* reputation.h section (optional) */
    CARTRIDGE_SEC_ALLOWLIST = 7,    /* reserved: cartridge allow-list */
    CARTRIDGE_SEC_RULES = 8         /* rules.h section (optional) */
};

struct cartridge_section {
    uint32_t type;
    uint64_t offset;
    uint64_t length;
    uint32_t crc32; /* zlib crc32 of the body */
};

struct cartridge_header {
    uint32_t format;
    uint32_t flags;
    uint64_t version;
    uint64_t created_unix;
    uint32_t n_sections;
};

/*
 * Parse the fixed header and the section table of (p, len) without
 * checking CRCs or bodies (cmtool inspect shows broken files with it).
 * Fills *hdr and up to max entries of secs; *n_secs = entries filled.
 * Checks the magic, the format, the table size and that every section
 * lies inside the file.  CM_EPARSE / CM_EVERSION / CM_ELIMIT with *why.
 */
enum cm_err cartridge_header_parse(const uint8_t *p, size_t len,
                                   struct cartridge_header *hdr,
                                   struct cartridge_section *secs,
                                   size_t max, size_t *n_secs,
                                   const char **why);

/* The model and calibration of a loaded cartridge (valid while a reference
 * is held). */
const struct model *cartridge_model(const struct cartridge *c);
const struct model_calibration *cartridge_calibration(
    const struct cartridge *c);

/* META value for key, or NULL; valid while a reference is held. */
const char *cartridge_meta(const struct cartridge *c, const char *key);
size_t cartridge_meta_count(const struct cartridge *c);
/* i-th META pair in file order; false when i is out of range. */
bool cartridge_meta_at(const struct cartridge *c, size_t i, const char **key,
                       const char **value);

/* Category table entries (code, name, description). */
size_t cartridge_category_count(const struct cartridge *c);
bool cartridge_category_at(const struct cartridge *c, size_t i,
                           uint32_t *code, const char **name,
                           const char **desc);
/* Name of category code, or NULL when the table lacks it. */
const char *cartridge_category_name(const struct cartridge *c,
                                    uint32_t code);

/* Campaign fingerprints (fingerprint.h), or NULL when the cartridge has
 * no FINGERPRINTS section; valid while a reference is held. */
struct fingerprint_db;
const struct fingerprint_db *cartridge_fingerprints(
    const struct cartridge *c);

/* IP, sender-domain and URL-host lists (reputation.h), or NULL when the
 * cartridge has no REPUTATION section; valid while a reference is held. */
struct reputation_db;
const struct reputation_db *cartridge_reputation(const struct cartridge *c);
/* Heuristic rules (rules.h): the RULES section, or the built-in table
 * when the cartridge has none; valid while a reference is held. */
struct rules;
const struct rules *cartridge_rules(const struct cartridge *c);
bool cartridge_has_rules(const struct cartridge *c);

/* Sections of the loaded image, in table order. */
size_t cartridge_section_count(const struct cartridge *c);
bool cartridge_section_at(const struct cartridge *c, size_t i,
                          struct cartridge_section *out);

/* One section to write. */
struct cartridge_body {
    uint32_t type;
    const uint8_t *p;
    size_t len;
};

/*
 * Append a cartridge image (header, table, bodies in the given order) to
 * out.  No validation of the bodies: tests build broken ones on purpose.
 */
enum cm_err cartridge_format(uint64_t version, uint64_t created_unix,
                             const struct cartridge_body *bodies, size_t n,
                             struct buf *out);

/*
 * Replace or add one section of a cartridge image in place (cmtool train
 * adds FINGERPRINTS to the image the model half wrote): any section of
 * that type is dropped and the new body appended last; header fields are
 * kept.  CM_EPARSE when image does not parse, CM_ELIMIT, CM_ENOMEM.
 */
enum cm_err cartridge_image_add_section(struct buf *image, uint32_t type,
                                        const uint8_t *p, size_t len);

/* Set the header version of a cartridge image in place (cmtool
 * reputation republishes a cartridge with new lists).  CM_EPARSE when the
 * image does not parse. */
enum cm_err cartridge_image_set_version(struct buf *image, uint64_t version);

/* Append the standard CATEGORY body (legit, spam, phishing, malware, bulk
 * with descriptions) to out. */
enum cm_err cartridge_category_format(struct buf *out);

#endif
