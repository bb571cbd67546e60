/*
 * featureset.h -- a parsed message → a set of hashed feature ids (module
 * "features", src/features.c; not named features.h, which would shadow
 * glibc's <features.h>).
 *
 * Every feature is a short string in a namespace (body word, subject word,
 * URL host, header fact, structure fact, ...) hashed with
 * hashing_hash64 into [0, 2^FEATURES_HASH_BITS).  The set is deduplicated
 * and capped (CAPS_FEATURES_MAX).  Bulk-marker features (List-Unsubscribe,
 * List-Id, Precedence: bulk, ...) hash into the reserved low range
 * [0, FEATURES_RESTRICTED_IDS), which the trainer only lets carry ham
 * evidence: newsletters are legitimate mail and must not be scored as spam
 * for being newsletters.
 *
 * What is never a feature: verdict headers of other filters (X-Spam-*,
 * X-Virus-*, Microsoft SCL and antispam reports, Authentication-Results,
 * ...), recipient addresses (To, Cc, Delivered-To), Received host names,
 * IPs and dates, Date years, the Return-Path relation and the envelope:
 * they describe the collecting mailbox, the list server or the corpus,
 * not the mail, and do not carry over to other mail.
 *
 * cmtool train, RATE and the engine all extract through features_extract,
 * so a cartridge sees at scoring time exactly what it was trained on.  The
 * ids of a given FEATURES_VERSION never change; any change to what is
 * extracted or how it is hashed bumps FEATURES_VERSION, and a cartridge
 * trained for another version is refused at load.
 *
 * Pure: no I/O, no allocation per message (scratch reused); any thread,
 * one scratch each.
 */
#ifndef CM_FEATURESET_H
#define CM_FEATURESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct mime_doc;
struct envelope;

#define FEATURES_VERSION 4u
#define FEATURES_HASH_BITS 22u
/* Id ranges: [0, RESTRICTED) bulk markers (ham evidence only);
 * [RESTRICTED, DENSE_END) dense facts (header, MIME, URL and text shape:
 * few values, each in many messages; the trainer keeps their weights
 * small so no single format fact can decide a message); the rest open
 * vocabularies (words, hosts, domains). */
#define FEATURES_RESTRICTED_IDS 4096u
#define FEATURES_DENSE_IDS_END 65536u

/* Feature namespaces (each hashes with its own seed). */
enum features_ns {
    FEATURES_NS_WORD = 1,      /* body word */
    FEATURES_NS_SUBJECT,       /* subject word */
    FEATURES_NS_URL_HOST,      /* URL host name */
    FEATURES_NS_URL_DOMAIN,    /* URL registered domain */
    FEATURES_NS_URL,           /* URL facts: counts, IP hosts, mismatches */
    FEATURES_NS_FROM,          /* From address and display name facts */
    FEATURES_NS_FROM_NAME,     /* From display-name words */
    FEATURES_NS_HEADER,        /* header presence and relations */
    FEATURES_NS_MAILER,        /* X-Mailer / User-Agent product */
    FEATURES_NS_SUBJECT_SHAPE, /* Subject shape */
    FEATURES_NS_MIME,          /* MIME structure, charsets, attachments */
    FEATURES_NS_TEXT,          /* body text shape */
    FEATURES_NS_BULK,          /* bulk markers (restricted range) */
    FEATURES_NS_FROM_DOMAIN,   /* From registered domain */
    FEATURES_NS_URL_PATH       /* words in URL paths and queries */
};

enum features_flag {
    FEATURES_CAPPED = 1u << 0,          /* CAPS_FEATURES_MAX reached */
    FEATURES_DANGEROUS_ATTACHMENT = 1u << 1, /* executable or script */
    FEATURES_HAS_BULK_MARKERS = 1u << 2, /* List-Unsubscribe, List-Id, ... */
    FEATURES_DECEPTIVE_LINK = 1u << 3,  /* link text shows another domain */
    /* ... and the link leaves the From address's registered domain */
    FEATURES_DECEPTIVE_FOREIGN_LINK = 1u << 4
};

struct features_scratch;
struct fingerprint_sig;

/* Scratch for one thread: the set and token buffers.  NULL on ENOMEM. */
struct features_scratch *features_scratch_new(void);
void features_scratch_free(struct features_scratch *s);

/* Called for each feature emitted (before dedupe) when tracing: namespace,
 * its text (not NUL-terminated) and the id. */
typedef void (*features_trace_fn)(void *ctx, enum features_ns ns,
                                  const char *text, size_t len, uint32_t id);

/*
 * Extract the feature set of doc (and env, which may be NULL).  *ids points
 * into s and stays valid until the next call with s; *n is at most
 * CAPS_FEATURES_MAX; *flags gets enum features_flag bits.  trace (may be
 * NULL) sees every feature as it is emitted.  Never fails.
 */
void features_extract(const struct mime_doc *doc, const struct envelope *env,
                      struct features_scratch *s, features_trace_fn trace,
                      void *trace_ctx, const uint32_t **ids, size_t *n,
                      unsigned *flags);

/*
 * The campaign signature (fingerprint.h) of the body text of the last
 * features_extract with s: its words are the body tokens the word
 * features come from, collected in the same pass.  False when the text
 * had fewer than FINGERPRINT_MIN_WORDS of them or too few distinct
 * shingles (FINGERPRINT_MIN_BINS).
 */
bool features_body_sig(const struct features_scratch *s,
                       struct fingerprint_sig *sig);

/* The same signature of a text on its own (fingerprint_sig_compute):
 * equal to features_body_sig after extracting a document whose text it
 * is.  *sig is untouched when false. */
bool features_text_sig(const char *text, size_t len,
                       struct fingerprint_sig *sig);

/* Name of a namespace for traces ("word", "subj", ...). */
const char *features_ns_name(enum features_ns ns);

/* Lower-case domain of the mailbox in a From-like header value ("Name
 * <a@b>", "a@b (Name)", "a@b") into dst (NUL-terminated when it fits);
 * 0 when it has none.  The reputation check reads senders with it. */
size_t features_address_domain(const char *value, size_t len, char *dst,
                               size_t cap);

/* True when a file name is an executable or script type that mail has no
 * business carrying (.exe, .scr, .js, ..., also "x.pdf.exe"). */
bool features_is_dangerous_name(const char *name, size_t len);

#endif
