/*
 * sitelayer.h -- the site's own adaptive layer over the cartridge: weights
 * learned from `CGPCloudmark LEARN spam|ham` feedback, added to the
 * cartridge model's junk margin (SPEC §9).
 *
 * What it is: a bounded map from feature id (features.c, open-vocabulary
 * ids only: words, hosts, domains) to a weight.  It is kept in its own
 * file beside the state file, so it survives cartridge swaps; it records
 * the FEATURES_VERSION it was learned under and is ignored (with a log
 * line by the caller) when the engine's feature set changes.
 *
 * Learning: one passive-aggressive step per message (Crammer et al.,
 * "Online Passive-Aggressive Algorithms", 2006): when the message's
 * margin is on the wrong side of the target, the smallest equal change
 * to each of its open-vocabulary weights that reaches the target, each
 * weight clipped to +-SITELAYER_WEIGHT_MAX so one report cannot make a
 * word decide every message.  Structural (dense) and bulk-marker ids are
 * never learned: they occur in most mail, and site feedback on a few
 * messages must not shift all of it.
 *
 * File format (little-endian): "CMSL" | format u32 | features_version u32 |
 * n u32 | n x (id u32, weight f32), ids strictly increasing | crc32 u32 of
 * all that precedes it.
 *
 * Threads: a layer is immutable once published in a slot; LEARN mutates a
 * private one.  The slot (mutex + reference count) lets the helper's
 * housekeeping thread swap in a layer LEARN wrote while workers score.
 */
#ifndef CM_SITELAYER_H
#define CM_SITELAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SITELAYER_FORMAT 1u
#define SITELAYER_WEIGHT_MAX 3.0

struct sitelayer;
struct sitelayer_slot;

/* An empty layer; NULL on ENOMEM. */
struct sitelayer *sitelayer_new(void);
void sitelayer_free(struct sitelayer *l);

/* Open-vocabulary features with a weight. */
size_t sitelayer_count(const struct sitelayer *l);

/* Sum of the weights of ids (NULL layer: 0). */
double sitelayer_margin(const struct sitelayer *l, const uint32_t *ids,
                        size_t n);

/*
 * One learning step towards target (a junk margin): for junk, up to at
 * least target; for ham, down to at most target.  Returns true when a
 * weight changed; *is_full when some id could not be added (the layer
 * holds CAPS_SITELAYER_FEATURES_MAX ids).  All or nothing: when the
 * table cannot grow to hold the step's ids, no weight changes, it
 * returns false and sitelayer_is_out_of_memory turns true.
 */
bool sitelayer_learn(struct sitelayer *l, const uint32_t *ids, size_t n,
                     double margin, double target, bool is_junk,
                     bool *is_full);

/* Whether a learning step on l ran out of memory (sticky): the layer
 * lacks that step, so it is not the one the input asked for and must not
 * be saved. */
bool sitelayer_is_out_of_memory(const struct sitelayer *l);

/* Parse a layer file image; *why says what is wrong. */
enum cm_err sitelayer_parse(const uint8_t *p, size_t len,
                            struct sitelayer **out, const char **why);

/* Load from path: CM_ENOENT when missing (the caller starts empty). */
enum cm_err sitelayer_load(const char *path, struct sitelayer **out,
                           const char **why);

/* Write atomically (temp, fsync, rename). */
enum cm_err sitelayer_save(const struct sitelayer *l, const char *path);

/* Test hook, process-wide: the nth allocation of a layer's table from now
 * on (a new layer, or a step that grows it) fails as calloc would (0
 * disables). */
void sitelayer_test_fail_nth_alloc(unsigned nth);

/* ---- slot ----------------------------------------------------------- */

/* A slot holding the current layer (may be NULL); takes it over. */
struct sitelayer_slot *sitelayer_slot_new(struct sitelayer *initial);
void sitelayer_slot_free(struct sitelayer_slot *s);

/* The current layer with a reference (NULL when none); release it. */
const struct sitelayer *sitelayer_acquire(struct sitelayer_slot *s);
void sitelayer_release(struct sitelayer_slot *s, const struct sitelayer *l);

/*
 * Reload path into the slot when the file changed (inode, size or mtime)
 * since the last call; a removed file (ENOENT) empties the slot.  Returns
 * CM_OK when nothing changed or the new layer was installed.  On a bad
 * file, or a stat() failure other than ENOENT, the old layer stays and
 * *why says why; each problem is returned once, not again until the file
 * or the failure changes.  A file that could not be read (CM_EIO, e.g.
 * out of descriptors or EACCES; CM_ENOMEM) says nothing about the file
 * and is tried again at the next call, but reported (returned) again only
 * once it was read or failed for another reason.  One thread calls it.
 */
enum cm_err sitelayer_slot_refresh(struct sitelayer_slot *s, const char *path,
                                   bool *is_changed, const char **why);

#endif
