/*
 * render.h -- verdict → the answer line CGP reads (SPEC §2).
 *
 * "<seq> ADDHEADER \"X-Junk-Score: 92 [XXXX]\eX-Cloudmark-Score: 92 [XXXX]
 * \eX-Alert: possible spam!\eX-Color: red\" OK\n", built in one buffer no
 * longer than CAPS_ANSWER_MAX, with every header text passed through
 * cgpstr so nothing from a message can add a line or break the quoting.
 * Pure; any thread.
 */
#ifndef CM_RENDER_H
#define CM_RENDER_H

#include <stddef.h>

#include "config.h"
#include "engine.h"
#include "err.h"

/*
 * Write the whole answer line for request seq (with its trailing "\n")
 * into out (capacity cap, at least CAPS_ANSWER_MAX + 1).  Headers are
 * dropped from the end (analysis first) when the line would exceed
 * CAPS_ANSWER_MAX.  A score below cfg->minimum_score or no enabled header
 * yields "<seq> OK\n".  *out_len gets the length without the NUL.
 */
enum cm_err render_answer(const struct config *cfg, const char *seq,
                          const struct verdict *v, char *out, size_t cap,
                          size_t *out_len);

/*
 * The header lines alone (joined by "\n", no quoting) for RATE --explain
 * and tests.
 */
enum cm_err render_headers(const struct config *cfg, const struct verdict *v,
                           char *out, size_t cap, size_t *out_len);

#endif
