/*
 * fingerprint.h -- campaign fingerprints (SPEC §4): near-duplicate
 * signatures of normalised body text, exact digests of attachments and
 * URLs, and the indexed database a cartridge's FINGERPRINTS section holds.
 *
 * Body signature: FINGERPRINT_K min-hash bins (one-permutation hashing,
 * minhash.h) of the 4-word shingles of the body text.  The words are the
 * body tokens of the word features (featureset.h: lower-cased, invisible
 * characters dropped, single letters and digits skipped), except that any
 * token holding a digit becomes "#" and any URL or address "<u>" (with
 * whatever is glued to it, such as its query), so a campaign that varies
 * a name, a number or a link per recipient keeps most of its shingles.
 * features_extract collects them in its own pass.  Two texts match when
 * at least m of the K bins agree (m from the section,
 * FINGERPRINT_MATCH_MIN by default).  Text of fewer than
 * FINGERPRINT_MIN_WORDS words gets no signature: short texts collide.
 * Nor does text whose shingles fill fewer than FINGERPRINT_MIN_BINS of
 * the K bins: few distinct shingles (a list of numbers, which are all
 * "#", a list of links, one phrase repeated) collide too, whatever the
 * length -- any two number-only bodies agreed at all K bins.
 *
 * Lookup never scans the entries: any match agrees on at least one of the
 * first K - m + 1 positions (pigeonhole), so the database keeps a sorted
 * array of (position, hash) keys and a lookup makes K - m + 1 binary
 * searches, verifying each candidate it finds (at most
 * CAPS_FINGERPRINT_RUN_MAX per key).  Digests are kept sorted per kind and
 * found by binary search.  Each digest entry also holds a cheap filter
 * (an attachment's byte length; a 64-bit hash of the normalised URL) that
 * the engine checks before it computes a SHA-256 at all: almost every
 * attachment and link of a message matches no entry, and digesting them
 * all was a tenth of RATE's instructions (issue #7).  A filter of 0 means
 * "none": then every lookup of that kind digests.
 *
 * Section body (little-endian), written by fingerprint_db_format:
 *   magic "CMFP" | version u32 (2; 1 held K independent min-hashes) |
 *   k u16 | m u16 | shingle u16 | min_words u16 | n u32 | n × entry
 *   entry: kind u8 | category u8 | weight u8 | sub_len u8 | sub |
 *          payload (body: k × u32 min-hashes; attachment, url: 32-byte
 *          SHA-256 | filter u64)
 * Entries are in strictly ascending (kind, payload) order: no duplicates,
 * and the loader checks it.  k, shingle and min_words must equal this
 * build's (the engine computes signatures with them); m in [K/2+1, K].
 *
 * Pure: no I/O, no logging, no globals.  A database is immutable after
 * parse and shared by all threads; signatures live on the caller's stack.
 * Limits: caps.h (CAPS_FINGERPRINT_*).
 */
#ifndef CM_FINGERPRINT_H
#define CM_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buf;
struct mime_url;

#define FINGERPRINT_K 16u
#define FINGERPRINT_MATCH_MIN 10u
#define FINGERPRINT_SHINGLE_WORDS 4u
#define FINGERPRINT_MIN_WORDS 30u
/* About ten distinct shingles fill this many bins; a text of
 * FINGERPRINT_MIN_WORDS distinct words fills about 13. */
#define FINGERPRINT_MIN_BINS 8u
#define FINGERPRINT_DIGEST_LEN 32u
#define FINGERPRINT_SUB_MAX 31u
#define FINGERPRINT_FORMAT 2u
/* Normalised URL text digested (longer URLs are cut here). */
#define FINGERPRINT_URL_MAX 2048u

enum fingerprint_kind {
    FINGERPRINT_BODY = 1,
    FINGERPRINT_ATTACHMENT = 2,
    FINGERPRINT_URL = 3
};

/* Same codes as the cartridge CATEGORY table. */
enum fingerprint_category {
    FINGERPRINT_CAT_SPAM = 1,
    FINGERPRINT_CAT_PHISHING = 2,
    FINGERPRINT_CAT_MALWARE = 3
};

struct fingerprint_sig {
    uint32_t h[FINGERPRINT_K];
};

struct fingerprint_entry {
    uint8_t kind;     /* enum fingerprint_kind */
    uint8_t category; /* enum fingerprint_category */
    uint8_t weight;   /* score a hit raises the verdict to, 1..100 */
    char sub[FINGERPRINT_SUB_MAX + 1]; /* [a-z0-9-], may be "" */
    struct fingerprint_sig sig;        /* FINGERPRINT_BODY */
    uint8_t digest[FINGERPRINT_DIGEST_LEN]; /* ATTACHMENT, URL */
    uint64_t filter; /* ATTACHMENT, URL: see above; 0: none */
    uint32_t tag; /* the caller's own use; not in the section (0) */
};

struct fingerprint_db;

/*
 * Body signature of UTF-8 text (p, len; no NUL needed), as
 * features_text_sig computes it.  False (and *sig untouched) when the
 * text has fewer than FINGERPRINT_MIN_WORDS words or its shingles fill
 * fewer than FINGERPRINT_MIN_BINS bins.  Reads at most
 * CAPS_FINGERPRINT_WORDS_MAX words; no allocation.
 */
bool fingerprint_sig_compute(const char *p, size_t len,
                             struct fingerprint_sig *sig);

/* Positions at which a and b agree, 0..FINGERPRINT_K. */
unsigned fingerprint_agree(const struct fingerprint_sig *a,
                           const struct fingerprint_sig *b);

/* SHA-256 of (p, len) into out (OpenSSL EVP).  False on a library error. */
bool fingerprint_digest(const uint8_t *p, size_t len,
                        uint8_t out[FINGERPRINT_DIGEST_LEN]);

/*
 * Normalised form of a URL for its digest: scheme dropped (http and https
 * alike), host lower-cased (url_host), port and userinfo dropped, path
 * kept without its "." and ".." segments, fragment dropped, tracking
 * query parameters (utm_*, fbclid, gclid, mc_cid, mc_eid, ...) dropped,
 * other parameters kept in order; in path and query an escaped
 * unreserved character is decoded ("%69" is "i") and any other escape's
 * hex is upper-cased.
 * Writes a NUL-terminated string into out and returns its length; 0 when
 * the URL has no host or out_max is too small.
 */
size_t fingerprint_url_normalise(const char *url, size_t len, char *out,
                                 size_t out_max);

/* fingerprint_url_normalise then fingerprint_digest; false when the URL
 * has no host. */
bool fingerprint_url_digest(const char *url, size_t len,
                            uint8_t out[FINGERPRINT_DIGEST_LEN]);

/* The filter of an attachment of len bytes, and of a URL (0 when it has
 * no host): what a digest entry's filter field holds. */
uint64_t fingerprint_attachment_filter(size_t len);
uint64_t fingerprint_url_filter(const char *url, size_t len);

/*
 * Validate a FINGERPRINTS section body and build its index.  *out is a
 * new database (fingerprint_db_free); CM_EPARSE / CM_EVERSION /
 * CM_ELIMIT / CM_ENOMEM with *why (static) on any inconsistency: bad
 * magic, parameters, counts, lengths, kinds, categories, weights,
 * subcategory characters, order, or bytes left over.
 */
enum cm_err fingerprint_db_parse(const uint8_t *p, size_t len,
                                 struct fingerprint_db **out,
                                 const char **why);

/*
 * A database from entries in memory (cmtool train groups campaigns and
 * checks candidates against ham with it).  Entries are copied; order and
 * duplicates do not matter.  m is the match threshold.  NULL on ENOMEM
 * or n over CAPS_TRAIN_MESSAGES_MAX: it holds a training class's
 * signatures, which may be more than a section's
 * CAPS_FINGERPRINT_ENTRIES_MAX.
 */
struct fingerprint_db *fingerprint_db_new(const struct fingerprint_entry *e,
                                          size_t n, unsigned m);

void fingerprint_db_free(struct fingerprint_db *db);

/*
 * Append a section body holding entries e (sorted and de-duplicated into
 * a copy: the same (kind, payload) keeps the first occurrence in e) with
 * match threshold m to out.  CM_EPARSE when an entry is invalid (kind,
 * category, weight, subcategory), CM_ELIMIT past
 * CAPS_FINGERPRINT_ENTRIES_MAX, CM_ENOMEM.
 */
enum cm_err fingerprint_db_format(const struct fingerprint_entry *e, size_t n,
                                  unsigned m, struct buf *out);

/* Entries of a kind, and all entries. */
size_t fingerprint_db_count(const struct fingerprint_db *db,
                            enum fingerprint_kind kind);
size_t fingerprint_db_size(const struct fingerprint_db *db);
/* The i-th entry (format order), or NULL. */
const struct fingerprint_entry *fingerprint_db_at(
    const struct fingerprint_db *db, size_t i);
unsigned fingerprint_db_match_min(const struct fingerprint_db *db);

/*
 * Best body entry matching sig (at least m agreeing positions): the one
 * with the highest category (malware > phishing > spam), then weight,
 * then agreement, then the lowest index.  NULL when none.  No allocation;
 * the result lives as long as db.
 */
const struct fingerprint_entry *fingerprint_db_match_body(
    const struct fingerprint_db *db, const struct fingerprint_sig *sig);

/* Each body entry matching sig, in no particular order; at most max_run
 * entries per index key are verified.  Each is reported once unless a
 * run was cut at max_run (then an entry may repeat).  Returns the number
 * of reports. */
typedef void (*fingerprint_match_fn)(void *ctx, size_t index,
                                     unsigned agree);
size_t fingerprint_db_each_body(const struct fingerprint_db *db,
                                const struct fingerprint_sig *sig,
                                size_t max_run, fingerprint_match_fn fn,
                                void *ctx);

/* The entry of kind (ATTACHMENT or URL) with this digest, or NULL. */
const struct fingerprint_entry *fingerprint_db_match_digest(
    const struct fingerprint_db *db, enum fingerprint_kind kind,
    const uint8_t digest[FINGERPRINT_DIGEST_LEN]);

/*
 * The ATTACHMENT entry for these attachment bytes, or the URL entry for
 * this URL (as fingerprint_url_digest normalises it), or NULL: the same
 * answer as digesting and fingerprint_db_match_digest, except that no
 * SHA-256 is computed unless an entry of the kind has the filter of the
 * bytes or the URL (or one has no filter).
 */
const struct fingerprint_entry *fingerprint_db_match_attachment(
    const struct fingerprint_db *db, const uint8_t *p, size_t len);
const struct fingerprint_entry *fingerprint_db_match_url(
    const struct fingerprint_db *db, const char *url, size_t len);

/* fingerprint_db_match_url of a URL mime_parse recorded, from the host
 * and flags it kept (no second parse of the URL). */
const struct fingerprint_entry *fingerprint_db_match_mime_url(
    const struct fingerprint_db *db, const struct mime_url *u);

/* "body", "attachment", "url"; "spam", "phishing", "malware". */
const char *fingerprint_kind_name(enum fingerprint_kind kind);
const char *fingerprint_category_name(enum fingerprint_category cat);

#endif
