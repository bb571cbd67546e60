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

#endif
