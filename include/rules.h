/*
 * rules.h -- the heuristics in code and their weights from the cartridge
 * (SPEC §4 "rule weights for the heuristics in code"; RULES section).
 *
 * Rules (enum rules_id): each looks at the parsed message and fires or
 * not.  A fired rule adds its weight to the junk margin (after the model,
 * before the calibration), may raise the score to its floor, and names a
 * category and subcategory; the verdict's category is the highest ranked
 * one of the fired rules that apply (malware > phishing > spam > bulk; a
 * rule without a floor applies only at score >= RULES_LEGIT_BELOW, bulk
 * only below RULES_BULK_BELOW), with the model's phishing head as one
 * more phishing vote from RULES_PHISH_VOTE_FROM up (rules_classify).
 *
 * RULES section body (little-endian):
 *   magic "CMRL" | version u32 (1) | n_rules u32 | n_rules × rule |
 *   n_protected u32 | n_protected × (flags u8 | len u8 | domain)
 *   rule: id u16 | category u8 | floor u8 | weight i32 (thousandths) |
 *         sub_len u8 | sub ([a-z0-9-], at most RULES_SUB_MAX)
 * Ids are distinct; ids this build does not know are skipped (newer
 * rules), rules the section does not list keep the built-in values;
 * category <= RULES_CAT_BULK, floor <= 100, |weight| <= RULES_WEIGHT_MAX;
 * protected domains ([a-z0-9.-] with a dot, lookalike.h) are in strictly
 * ascending byte order, at most CAPS_RULES_PROTECTED_MAX; flags: only
 * RULES_PROTECTED_BRAND (a brand: its name counts in links' labels and
 * in From display names, not only as a look-alike target).  A cartridge
 * without the section gets the built-in table (rules_builtin): weights 0
 * (its calibration was made without them), today's categories and
 * floors, no protected domains.
 *
 * A loaded struct rules is immutable and shared by all threads;
 * rules_detect works on the caller's stack, no allocation.
 */
#ifndef CM_RULES_H
#define CM_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "lookalike.h"

struct buf;
struct mime_doc;
struct mime_part;

#define RULES_FORMAT 1u
#define RULES_SUB_MAX 31u
/* Largest |weight| a section may carry, in junk-margin units. */
#define RULES_WEIGHT_MAX 8.0
#define RULES_LEGIT_BELOW 50u
#define RULES_BULK_BELOW 96u
/* The model's phishing head names the category from this score up;
 * below it only a phishing rule does (see rules_classify). */
#define RULES_PHISH_VOTE_FROM 96u
#define RULES_MALWARE_SCORE 99u
#define RULES_PROTECTED_BRAND 0x01u

enum rules_id {
    RULES_EXECUTABLE_ATTACHMENT = 0, /* .exe .scr .msi ..., x.pdf.exe */
    RULES_SCRIPT_ATTACHMENT,         /* .js .vbs .hta .ps1 .lnk .iso ... */
    RULES_EXECUTABLE_IN_ZIP,         /* either of those inside a zip */
    RULES_HTML_ATTACHMENT,           /* .html/.htm/.svg attachment */
    RULES_DECEPTIVE_LINK,            /* link text shows another domain,
                                        the link leaves the From domain */
    RULES_LOOKALIKE_DOMAIN,          /* link/From host imitates a brand */
    RULES_CREDENTIAL_FORM,           /* password input, or a login form
                                        posting to a foreign host */
    RULES_BULK_MARKERS,              /* List-Unsubscribe, Precedence ... */
    RULES_BRAND_DISPLAY_NAME,        /* From name shows a brand the
                                        address is not from */
    /* Category-only rules (rules_is_category_only): structural signs of
     * a lure (rules_phish.c) that name the kind of junk; the trainer
     * keeps their weight at 0. */
    RULES_AUTH_FAILED,               /* a receiver found the sender
                                        forged (SPF/DMARC fail) */
    RULES_HIDDEN_LINK,               /* link via a URL shortener, or a
                                        data: URI link */
    RULES_REPLY_TO_FREEMAIL,         /* replies go to a free mailbox
                                        outside the From domain */
    RULES_RECIPIENT_NAMED,           /* the To address pasted into the
                                        Subject or From name */
    RULES_MIXED_SCRIPT_TEXT,         /* a Subject or From-name word mixing
                                        Latin with Cyrillic/Greek, or
                                        dressed in marks/invisibles */
    RULES_COUNT
};

/* Same codes as the cartridge CATEGORY table and enum engine_category. */
enum rules_category {
    RULES_CAT_LEGIT = 0,
    RULES_CAT_SPAM = 1,
    RULES_CAT_PHISHING = 2,
    RULES_CAT_MALWARE = 3,
    RULES_CAT_BULK = 4
};

struct rules_rule {
    double weight;    /* added to the junk margin when fired */
    uint8_t category; /* enum rules_category */
    uint8_t floor;    /* 0, or the score a firing raises the verdict to */
    char sub[RULES_SUB_MAX + 1];
};

struct rules;

/* The built-in table (static; never freed). */
const struct rules *rules_builtin(void);

/* Parse and validate a RULES body.  CM_EPARSE / CM_EVERSION / CM_ELIMIT /
 * CM_ENOMEM with *why (may be NULL) a static reason. */
enum cm_err rules_parse(const uint8_t *p, size_t len, struct rules **out,
                        const char **why);
void rules_free(struct rules *r);

/* Rule i of r (i < RULES_COUNT). */
const struct rules_rule *rules_rule_at(const struct rules *r,
                                       enum rules_id i);
/* The protected domains (lookalike.h; may be empty). */
const struct lookalike_db *rules_protected(const struct rules *r);

/* Name of a rule ("executable-attachment", ...); "unknown" past the end. */
const char *rules_name(unsigned id);

/* True for the rules that only name a category (their weight stays 0
 * when trained): RULES_AUTH_FAILED .. RULES_MIXED_SCRIPT_TEXT. */
bool rules_is_category_only(enum rules_id i);

/* Built-in rule values (for the trainer and for absent rules). */
void rules_builtin_rule(enum rules_id i, struct rules_rule *out);

/*
 * Append a RULES body to out: table[RULES_COUNT] and the n protected
 * domains, is_brand[i] (may be NULL: none) marking brands (sorted and
 * deduplicated here).  CM_EPARSE when a value is out of range,
 * CM_ELIMIT, CM_ENOMEM.
 */
enum cm_err rules_format(const struct rules_rule *table,
                         const char *const *protected, const bool *is_brand,
                         size_t n, struct buf *out);

/*
 * The rules of doc that fire, as bits (1u << id).  fflags are the
 * featureset flags of the same message (dangerous attachment, bulk,
 * deceptive link).  lookalike (may be NULL) gets a short static-text
 * description "kind" of the first look-alike host.  Bounded, no
 * allocation.
 */
uint32_t rules_detect(const struct rules *r, const struct mime_doc *doc,
                      unsigned fflags, const char **lookalike);

/*
 * The executable-in-zip rule's test: part is an archive that would unpack
 * a file features_is_dangerous_name calls dangerous, the name cut at its
 * first NUL as extracting tools cut it ("invoice.exe\0.pdf" unpacks as
 * invoice.exe):
 *  - a zip (by its magic or a ".zip" name) listing one, or with more
 *    members than ziplist lists (ZIPLIST_CAPPED: one may hide past the
 *    cap);
 *  - a RAR archive (a ".rar" name, or the signature where WinRAR looks
 *    for it) listing one, or with more members than rarlist lists;
 *  - a RAR archive whose names are encrypted (nothing can be seen);
 *  - a tar (by its header checksum or a ".tar" name) or a Microsoft
 *    cabinet ("MSCF" or ".cab") listing one, or past its member cap;
 *  - a gzip file whose header keeps such a name, or without one named
 *    like "invoice.exe.gz" (gunzip writes the name less ".gz");
 *  - one level down (rules_archive.c): an archive inside a zip (stored,
 *    or deflated and named or stored with an archive's magic), stored
 *    inside a RAR, or inside a gzip file said to hold one (".tar.gz",
 *    ".tgz", "x.zip.gz") listing one; an inner archive whose inflated
 *    bytes were cut at CAPS_ARCINFLATE_MAX_BYTES after shrinking more
 *    than 100 times (padding) counts too.
 * 7z is not read (see rules_archive.c).  cmtool train asks here too, so
 * training calls an attachment dangerous where scoring does.
 * Bounded by the listers' caps, CAPS_ARCHIVE_INNER_MAX inner archives
 * and CAPS_ARCHIVE_INFLATE_TOTAL_BYTES inflated an attachment;
 * allocates only the inflate buffers (freed before it returns); any
 * thread.
 */
bool rules_archive_is_dangerous(const struct mime_part *part);

/* Sum of the weights of the fired rules. */
double rules_margin(const struct rules *r, uint32_t fired);

/* How host (len bytes, lower-case; reg, reg_len: its registered domain,
 * as url_registered_domain gives it) imitates one of r's protected
 * domains (lookalike_check_reg).  A free mailbox provider's own domain imitates
 * nothing: "mail.com" is one edit from "gmail.com" and a real provider
 * whose users write to us.  rules_detect and cmtool train both ask
 * here, so training sees the rule fire where scoring does. */
enum lookalike_kind rules_lookalike_host(const struct rules *r,
                                         const char *host, size_t len,
                                         const char *reg, size_t reg_len);

/* Hosts the look-alike rule examines: From and Reply-To domains, URL
 * hosts (not mailto:, not IP literals, not image sources), each once,
 * at most CAPS_RULES_HOSTS_MAX (every one the parse kept).
 * fn gets each (lower-case, not NUL-terminated) with its registered
 * domain (url_registered_domain's view into host: kept by mime for URL
 * hosts, found here for the header domains). */
typedef void (*rules_host_fn)(void *ctx, const char *host, size_t len,
                              const char *reg, size_t reg_len);
void rules_for_each_host(const struct mime_doc *doc, rules_host_fn fn,
                         void *ctx);

/* The From display name (the text before the last "<", or without
 * one the comment of "x@b.example (Name)"; not NUL-terminated) and the
 * From domain (of the address, into host, lower-case, NUL-terminated;
 * host may be NULL when only the name is wanted); false when From has
 * no display name. */
bool rules_from_parts(const struct mime_doc *doc, const char **name,
                      size_t *name_len, char *host, size_t cap,
                      size_t *host_len);

/* The brand-display-name rule on rules_from_parts' output: the name
 * shows a brand the address does not belong to.  An address at a free
 * mailbox provider belongs to no brand, protected or not ("DocuSign
 * <x@gmail.com>"). */
bool rules_brand_display_name(const struct rules *r, const char *name,
                              size_t name_len, const char *host,
                              size_t host_len);

/*
 * The verdict's score and category from the calibrated score, the fired
 * rules and the phishing head's vote (see the top of the file).  *score
 * is raised to the floors of fired rules; *sub points to the deciding
 * rule's subcategory ("newsletter" for legit with bulk markers, "" when
 * none).
 */
void rules_classify(const struct rules *r, uint32_t fired, bool phish_vote,
                    unsigned *score, enum rules_category *cat,
                    const char **sub);

/*
 * Append " rules=name,name" for the fired rules to dst (a NUL-terminated
 * string in a buffer of cap bytes), or with_weights
 * " rulew=name:+w.ww,..."; never a partial entry.
 */
void rules_describe(const struct rules *r, uint32_t fired, bool with_weights,
                    char *dst, size_t cap);

#endif
