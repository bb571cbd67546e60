/*
 * whitelist.h -- whitelist.cfg: trusted senders whose mail scores 0
 * (SPEC §8, cgp-protocol.md §5.3).
 *
 * Entries, one a line or several a line, each ending with ';' after its
 * last field:
 *   type = host; address = [1.2.3.0/24];          IP, CIDR, IPv6, or
 *                                                 hostname suffix
 *   type = header; header = [From]; value = [regex];
 *   type = envelope; command = [mail from]; value = [regex];
 *                                   (helo, mail from, rcpt to)
 *   type = body; regex = [regex];
 * Regexes are POSIX extended, case-insensitive, compiled once at load.
 * '#' starts a comment.  The loaded object is immutable and may be shared
 * by all threads.
 */
#ifndef CM_WHITELIST_H
#define CM_WHITELIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "queuefile.h"

struct whitelist;
struct mime_doc;

/*
 * Parse (p, len) (the text of file, used in problem reports) into *out.
 * Bad entries are reported through report (may be NULL) and skipped;
 * *n_errors (may be NULL) counts them.  CM_ENOMEM only.
 */
enum cm_err whitelist_parse(const char *file, const uint8_t *p, size_t len,
                            struct whitelist **out, config_problem_fn report,
                            void *ctx, size_t *n_errors);

/* whitelist_parse on a file; a missing file yields an empty whitelist. */
enum cm_err whitelist_load(const char *path, struct whitelist **out,
                           config_problem_fn report, void *ctx,
                           size_t *n_errors);

void whitelist_free(struct whitelist *wl);

/* Number of entries loaded. */
size_t whitelist_count(const struct whitelist *wl);

/* True when wl needs the parsed message (header/body entries). */
bool whitelist_needs_message(const struct whitelist *wl);

/*
 * Match the envelope alone (host and envelope entries).  On a match,
 * *what (may be NULL) gets a static description of the entry type.
 */
bool whitelist_match_envelope(const struct whitelist *wl,
                              const struct envelope *env, const char **what);

/* Match header and body entries against the parsed message. */
bool whitelist_match_message(const struct whitelist *wl,
                             const struct mime_doc *doc, const char **what);

#endif
