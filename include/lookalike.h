/*
 * lookalike.h -- host names that imitate a protected domain (phishing).
 *
 * The protected list (registered domains such as "paypal.com") comes from
 * the cartridge's RULES section (rules.h).  A host imitates one when its
 * registered domain is not itself protected and
 *   - a label is IDN (punycode "xn--" or raw UTF-8) mixing Latin letters
 *     with Cyrillic or Greek ones (always suspicious), or whose
 *     confusable letters (Cyrillic "а", Greek "ο", accented "é", ...) make
 *     it read as a protected name;
 *   - its name, with look-alike letters folded (0→o, 1/i→l, rn→m, vv→w,
 *     hyphens dropped), reads as a protected name it is not ("paypa1.com",
 *     "rnicrosoft.com");
 *   - a brand (the name of a protected domain marked as a brand, at
 *     least LOOKALIKE_BRAND_MIN characters, not a generic word such as
 *     "mail") is a label of another registered domain
 *     ("paypal.com.secure.tk") or a hyphen-separated part of its name
 *     ("paypal-verify.com");
 *   - its registered domain is one edit (insert, delete, substitute)
 *     from a brand's whose name has at least LOOKALIKE_EDIT_MIN
 *     characters ("amazom.com"); a mere TLD change ("paypal.de") is not.
 *     Below LOOKALIKE_EDIT_ANY_MIN characters only a slip counts: a
 *     confusable letter or a digit for a letter, a digit or a doubled
 *     letter added or dropped ("paypall.com", "aple.com"); "apply.com"
 *     and "chaser.com" are words, not lures.
 *
 * lookalike_display_name: a From display name that shows a brand ("PayPal
 * Service") while the address is outside every protected domain; marks
 * and invisible characters inside a word do not hide it ("P\u200dayPal").
 *
 * A database is built once (cartridge load, cmtool train), immutable,
 * shared by all threads.  lookalike_check works on the caller's stack:
 * no allocation, bounded by the host length and the list size.
 */
#ifndef CM_LOOKALIKE_H
#define CM_LOOKALIKE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define LOOKALIKE_BRAND_MIN 4u
#define LOOKALIKE_EDIT_MIN 5u
#define LOOKALIKE_EDIT_ANY_MIN 8u
#define LOOKALIKE_DOMAIN_MAX 253u

struct lookalike_db;

enum lookalike_kind {
    LOOKALIKE_NONE = 0,
    LOOKALIKE_MIXED_SCRIPT, /* IDN label mixing Latin and Cyrillic/Greek */
    LOOKALIKE_CONFUSABLE,   /* folds to a protected name */
    LOOKALIKE_BRAND_LABEL,  /* a brand as a label or part of another name */
    LOOKALIKE_EDIT_1        /* one edit from a protected domain */
};

/*
 * Build a database from n protected registered domains (lower-case ASCII
 * [a-z0-9.-], copied); is_brand (may be NULL: none) marks the brands.
 * Entries that are not such names are skipped.  CM_ENOMEM.
 */
enum cm_err lookalike_db_build(const char *const *domains,
                               const bool *is_brand, size_t n,
                               struct lookalike_db **out);
void lookalike_db_free(struct lookalike_db *db);

/* Protected domains in the database, sorted. */
size_t lookalike_db_count(const struct lookalike_db *db);
const char *lookalike_db_at(const struct lookalike_db *db, size_t i);

/* Whether protected domain i is a brand. */
bool lookalike_is_brand(const struct lookalike_db *db, size_t i);

/* True when the display name (len bytes, any case) holds a brand as a
 * word and the From host (from_len bytes, lower-case; may be empty) is
 * not in a protected domain nor the brand's name under another TLD.
 * from_anyone: the From domain gives addresses to anyone (a free
 * mailbox), so being protected does not make its sender a brand; only
 * its own name ("Gmail" at gmail.com) is then no claim. */
bool lookalike_display_name(const struct lookalike_db *db, const char *name,
                            size_t len, const char *from_host,
                            size_t from_len, bool from_anyone,
                            size_t *which);

/* lookalike_display_name given the From host's registered domain (reg,
 * reg_len: what url_registered_domain gives for the From host; 0 when
 * that host is empty), for a caller that has it. */
bool lookalike_display_name_reg(const struct lookalike_db *db,
                                const char *name, size_t len,
                                const char *reg, size_t reg_len,
                                bool from_anyone, size_t *which);

/* True when name (len bytes) is protected (exactly, as a registered
 * domain). */
bool lookalike_is_protected(const struct lookalike_db *db, const char *name,
                            size_t len);

/*
 * How host (len bytes; lower-case, as url_host gives it) imitates a
 * protected domain, or LOOKALIKE_NONE.  *which (may be NULL) gets the
 * index of the imitated domain (lookalike_db_at), or SIZE_MAX for a mixed
 * script.  db may be NULL (only the mixed-script test applies).
 */
enum lookalike_kind lookalike_check(const struct lookalike_db *db,
                                    const char *host, size_t len,
                                    size_t *which);

/* lookalike_check for a host whose registered domain the caller already
 * has: reg (reg_len bytes) must be what url_registered_domain gives for
 * (host, len), a view into host (mime keeps it for every URL, so the
 * rules do not search the suffix table again per host). */
enum lookalike_kind lookalike_check_reg(const struct lookalike_db *db,
                                        const char *host, size_t len,
                                        const char *reg, size_t reg_len,
                                        size_t *which);

/* True when a word of the UTF-8 text (len bytes) mixes Latin letters
 * with Cyrillic or Greek ones ("iPh\u043ene" with a Cyrillic o): no
 * language writes so, a lure dodging word filters does.  Any other
 * character (space, digit, punctuation, malformed UTF-8) ends a word. */
bool lookalike_text_mixed_script(const char *text, size_t len);

/* True when the UTF-8 text (len bytes) hides something inside a Latin
 * word: a mark no Latin-script language uses on a Latin letter (overlay
 * strokes, combining marks of other scripts: "A\u073fmazon") right after
 * one, or an invisible character (zero-width space/joiners, soft hyphen,
 * word joiner, BOM) between two ASCII letters or digits ("P\u200drime").
 * Text so dressed is made to slip past word filters and brand lists. */
bool lookalike_text_disguised(const char *text, size_t len);

/* "mixed-script", "confusable", "brand-label", "edit-1", "none". */
const char *lookalike_kind_name(enum lookalike_kind k);

/*
 * RFC 3492 punycode: decode the part of an "xn--" label after the prefix
 * into at most max code points.  Returns the count, or 0 when it is not
 * valid punycode or does not fit.
 */
size_t lookalike_punycode_decode(const char *p, size_t len, unsigned *out,
                                 size_t max);

#endif
