/*
 * trainrules.h -- the heuristic-rules half of cmtool train (rules.h): per
 * message what the rules need, the protected domains for the look-alike
 * rule, the rule weights fitted on the training data, and the RULES
 * section.
 *
 * Protected domains: a small built-in seed of brands phishing imitates
 * (paypal.com, microsoft.com, ...), the admin's --protect FILE (one
 * registered domain a line, '#' comments), and the registered domains of
 * From addresses and links in at least TRAINRULES_PROTECT_MIN_HAM
 * training ham messages that are not relatively more common in training
 * junk; at most CAPS_RULES_PROTECTED_MAX, the most frequent first.
 *
 * Weights: with the out-of-fold junk margins of the training messages
 * fixed, each rule's weight is fitted by weighted logistic regression
 * on "margin + sum of fired rules' weights" (Newton steps per rule, L2
 * TRAINRULES_L2), so a rule adds only what the model's features do not
 * already say; clipped to +-TRAINRULES_CLIP, and the bulk rule to <= 0
 * (bulk mail is legitimate mail: bulk markers are never junk evidence).
 * The trainer then calibrates on the margins with the rules added, so the
 * ham-at-96 bound holds for what the engine will compute.
 *
 * Categories: a rule built in as phishing stays phishing when it fires
 * in at least as large a share of training phish as of training spam,
 * and becomes spam otherwise (a link whose text shows another domain is
 * as much a spam habit as a phishing one) -- unless the training mail
 * is too thin to tell: at the spam share fewer than
 * TRAINRULES_FLIP_MIN_EXPECTED phish firings would be expected (a sign
 * of mail newer than the training set: 0 of 990 phish against 0.2% of
 * spam, 1.8 expected), and the rule keeps its built-in meaning.  The
 * others keep theirs.
 *
 * Programs layer.  The output depends only on the inputs and their order.
 */
#ifndef CM_TRAINRULES_H
#define CM_TRAINRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rules.h"

struct buf;
struct mime_doc;
struct trainrules_item;

#define TRAINRULES_PROTECT_MIN_HAM 10u
#define TRAINRULES_PROTECTED_MAX 4000u
#define TRAINRULES_L2 2.0
#define TRAINRULES_CLIP 4.0
#define TRAINRULES_FLIP_MIN_EXPECTED 5.0

/* One message's rule facts (the rules that fire without the protected
 * list, and the hosts the look-alike rule examines), or NULL on ENOMEM.
 * Any thread. */
struct trainrules_item *trainrules_collect(const struct mime_doc *doc,
                                           unsigned fflags);

/* Test hook, process-wide: the nth item allocation of trainrules_collect from now on
 * fails as malloc would (0 disables). */
void trainrules_test_fail_nth_alloc(unsigned nth);
void trainrules_item_free(struct trainrules_item *it);

/* The rules of a collected message that fire under r (NULL it: none). */
uint32_t trainrules_item_fired(const struct rules *r,
                               const struct trainrules_item *it);

struct trainrules_input {
    const struct trainrules_item *it; /* may be NULL */
    bool is_junk;
    bool is_phish; /* junk labelled phish (the rest of junk is spam) */
    double weight; /* example weight */
    double margin; /* out-of-fold junk margin of the model */
};

/*
 * Check the --protect file before any training: one domain a line
 * (lower-case a-z 0-9 . - with a dot, no leading or trailing dot or
 * empty label; upper case is folded), '#' comments, at most 1 MiB.  Each
 * line that is no domain is named on stderr (file and line).  CM_OK,
 * CM_EIO unreadable, CM_ELIMIT too large, CM_EPARSE a bad line,
 * CM_ENOMEM.
 */
enum cm_err trainrules_protect_check(const char *path);

/*
 * Fit the rules on the n training inputs and append the RULES body to
 * section; protect_file (may be NULL) adds the admin's domains (as
 * trainrules_protect_check reads them; those past CAPS_RULES_PROTECTED_MAX
 * with the built-in brands are each named in a warning and left out).
 * Prints a per-rule summary (fired in ham/junk, weight) to stderr.  *out
 * gets the parsed section (rules_free).  CM_ENOMEM, CM_EIO for an
 * unreadable protect_file, trainrules_protect_check's errors, or an error
 * of the format.
 */
enum cm_err trainrules_build(const struct trainrules_input *in, size_t n,
                             const char *protect_file, struct buf *section,
                             struct rules **out);

#endif
