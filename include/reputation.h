/*
 * reputation.h -- the cartridge's REPUTATION section (SPEC §4): allow and
 * block entries for the sender's IP address (IPv4/IPv6 CIDR), the sender's
 * domain and the hosts of the message's URLs, each with a weight added to
 * the junk margin and, for blocks, a category.
 *
 * Section body (little-endian), written by reputation_format:
 *   magic "CMRP" | version u32 (1) | n u32 | n × entry
 *   entry: kind u8 | action u8 | category u8 | prefix u8 | weight i16 |
 *          key_len u8 | key
 *   kind   1 ipv4 (key: 4 bytes, network order), 2 ipv6 (16 bytes),
 *          3 sender domain, 4 URL host (key: [a-z0-9._-], 1..253 bytes,
 *          no empty label)
 *   action 1 allow (weight < 0, category 0), 2 block (weight > 0,
 *          category 1 spam, 2 phishing, 3 malware: the CATEGORY codes)
 *   prefix CIDR length (0 < prefix <= 32 / 128, host bits zero); 0 for
 *          domains
 *   weight junk-margin delta in hundredths, |weight| <=
 *          REPUTATION_WEIGHT_MAX_CENTI
 * Entries are in strictly ascending canonical order -- kind, then prefix
 * descending, then key_len, then key bytes -- so there are no duplicates
 * and a section has one byte form; the loader checks it.
 *
 * Matching (no allocation, any thread): an IP matches the entry with the
 * longest prefix covering it (one binary search per prefix length
 * present); a domain or host matches the entry for itself or for its
 * nearest parent domain ("a.b.example" tries a.b.example, b.example,
 * example; of a longer name only the last CAPS_REPUTATION_LABELS_MAX
 * suffixes), so one entry covers a domain and its subdomains.
 *
 * What a message is checked with (reputation_check):
 *   - peer IP: the CGP envelope's "S ... [ip]" address when present and
 *     public; otherwise the topmost Received header whose "from" clause
 *     (the text before " by ") holds a bracketed public address: the
 *     connecting one, not the client's greeting when that is an address
 *     literal ("from [10.0.0.1] (unknown [ip])", "from [ip]
 *     (helo=[10.0.0.1])"; see received_from_ip).  Not
 *     public: unspecified (0.0.0.0, ::), private (10/8, 172.16/12,
 *     192.168/16, 100.64/10, 192.0.0/24, 198.18/15, fc00::/7),
 *     loopback, link-local, multicast
 *     -- an internal relay or a test, not the sender.  The topmost
 *     header is the one the receiving server wrote; lower ones are the
 *     sender's to forge, so they are read only past private relays (at
 *     most CAPS_REPUTATION_RECEIVED_MAX): a header whose from clause has
 *     no bracketed address, or that has no from clause, ends the walk.  An IPv4-mapped IPv6 address is
 *     matched as IPv4.
 *   - sender domains: the domain of the From address and of the
 *     envelope return-path (else the Return-Path header).  Both are the
 *     sender's to write: allow entries on them are as weak as that.
 *   - URL hosts: the host of each URL the parse kept (at most
 *     MIME_MAX_URLS; IP-literal and mailto: hosts are not URL hosts).
 * Each entry counts once per message; the sum of the matched weights is
 * clipped to ±REPUTATION_WEIGHT_MAX_CENTI.
 *
 * Pure: no I/O, no logging.  A database is immutable after parse and
 * shared by all threads.  Limits: caps.h (CAPS_REPUTATION_*).
 */
#ifndef CM_REPUTATION_H
#define CM_REPUTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buf;
struct envelope;
struct mime_doc;
struct mime_header;

#define REPUTATION_FORMAT 1u
#define REPUTATION_KEY_MAX 253u
/* Largest |weight|, per entry and for a message's sum: 10.00 junk-margin
 * units, about the whole width of the calibration (score 0 to 96). */
#define REPUTATION_WEIGHT_MAX_CENTI 1000
/* Default weights of list entries without one: enough to move a message
 * the model is unsure about (margin ~0) past score 96, and a clear ham
 * (margin ~ -2) to about 90. */
#define REPUTATION_BLOCK_DEFAULT_CENTI 500
#define REPUTATION_ALLOW_DEFAULT_CENTI (-500)
/* A block at least this heavy also sets the verdict's category. */
#define REPUTATION_STRONG_CENTI 300
/* Hits counted and remembered per message (blocks first: see
 * reputation_hits_add). */
#define REPUTATION_HITS_MAX 8u

enum reputation_kind {
    REPUTATION_IPV4 = 1,
    REPUTATION_IPV6 = 2,
    REPUTATION_SENDER_DOMAIN = 3,
    REPUTATION_URL_HOST = 4
};

enum reputation_action {
    REPUTATION_ALLOW = 1,
    REPUTATION_BLOCK = 2
};

/* Same codes as the cartridge CATEGORY table. */
enum reputation_category {
    REPUTATION_CAT_NONE = 0,
    REPUTATION_CAT_SPAM = 1,
    REPUTATION_CAT_PHISHING = 2,
    REPUTATION_CAT_MALWARE = 3
};

/* One entry to write (lists, training), its key inline. */
struct reputation_item {
    uint8_t kind;     /* enum reputation_kind */
    uint8_t action;   /* enum reputation_action */
    uint8_t category; /* enum reputation_category */
    uint8_t prefix;   /* CIDR length; 0 for domains */
    int16_t weight;   /* hundredths of junk margin */
    uint8_t key_len;
    uint8_t key[REPUTATION_KEY_MAX + 1]; /* domains NUL-terminated */
};

/* One loaded entry (lookup result): the same fields, packed with its key
 * (key_len bytes and a NUL) in the database's pool, so a large list costs
 * about 16 bytes plus its key per entry. */
struct reputation_entry {
    int16_t weight;
    uint8_t kind;
    uint8_t action;
    uint8_t category;
    uint8_t prefix;
    uint8_t key_len;
    uint8_t key[];
};

struct reputation_db;

/*
 * Validate a REPUTATION section body and index it.  *out is a new
 * database (reputation_db_free); CM_EPARSE / CM_EVERSION / CM_ELIMIT /
 * CM_ENOMEM with *why (static) on bad magic, version, counts, kinds,
 * actions, categories, weights, prefixes, host bits, key bytes, order or
 * bytes left over.
 */
enum cm_err reputation_db_parse(const uint8_t *p, size_t len,
                                struct reputation_db **out,
                                const char **why);
void reputation_db_free(struct reputation_db *db);

/* True when e is a valid entry (the loader's checks, order aside). */
bool reputation_item_is_valid(const struct reputation_item *e);

/* A loaded entry as an item (to write it again). */
void reputation_entry_item(const struct reputation_entry *e,
                           struct reputation_item *out);

/*
 * Append a section body holding entries e (sorted into canonical order in
 * a copy; of entries with the same kind, prefix and key the first in e is
 * kept) to out.  CM_EPARSE on an invalid entry, CM_ELIMIT past
 * CAPS_REPUTATION_ENTRIES_MAX, CM_ENOMEM.
 */
enum cm_err reputation_format(const struct reputation_item *e, size_t n,
                              struct buf *out);

size_t reputation_db_size(const struct reputation_db *db);
/* The i-th entry in canonical order, or NULL. */
const struct reputation_entry *reputation_db_at(const struct reputation_db *db,
                                                size_t i);
size_t reputation_db_count(const struct reputation_db *db,
                           enum reputation_kind kind,
                           enum reputation_action action);

/* Longest-prefix entry covering a 16-byte address (IPv4 as IPv4-mapped
 * IPv6: ::ffff:a.b.c.d), or NULL. */
const struct reputation_entry *reputation_match_ip(
    const struct reputation_db *db, const uint8_t addr[16]);

/* Entry of kind (SENDER_DOMAIN or URL_HOST) for the lower-case host or its
 * nearest parent domain, or NULL.  host need not be NUL-terminated. */
const struct reputation_entry *reputation_match_host(
    const struct reputation_db *db, enum reputation_kind kind,
    const char *host, size_t len);

/* Text address (IPv4, IPv6, IPv4-mapped) → 16 bytes; false when it is not
 * one. */
bool reputation_ip_parse(const char *text, size_t len, uint8_t out[16]);

/* True for addresses that say nothing about the sender: unspecified,
 * loopback, private, shared (100.64/10), IETF protocol assignments
 * (192.0.0/24), benchmarking (198.18/15), link-local, unique-local. */
bool reputation_ip_is_local(const uint8_t addr[16]);

/*
 * The client of one Received header (h may be NULL: false) as the server
 * that wrote it saw it: its bracketed address (the rule at the top) into
 * ip, and the host name that server verified by reverse DNS as (*name,
 * *name_len) -- not NUL-terminated, not lower-cased -- or NULL and 0
 * when the header shows none.  Never the client's HELO/EHLO name: only
 * Postfix/sendmail "(NAME [ip])" (not "unknown", not "(may be
 * forged)"), Exim "from NAME ([ip] helo=...)" and CommuniGate Pro "from
 * NAME ([ip] verified)" give one; a name has a dot.  False when the from
 * clause has no bracketed address.  Reads h->raw_value (not RFC 2047
 * decoded: the server wrote no encoded words; the name points into it).
 * The one reader of Received from clauses (whitelist.cfg host entries use
 * it too).
 */
bool reputation_received_client(const struct mime_header *h, uint8_t ip[16],
                                const char **name, size_t *name_len);

/* The sender's IP of a message by the rule at the top; false if none. */
bool reputation_peer_ip(const struct mime_doc *doc,
                        const struct envelope *env, uint8_t out[16]);

/* What a message is checked with (the rule at the top), one call each:
 * the peer IP as kind REPUTATION_IPV6 and 16 bytes (IPv4-mapped for
 * IPv4), each sender domain and URL host as its kind and lower-case
 * text (not NUL-terminated; repeats possible).  kinds: REPUTATION_KEYS_*
 * bits.  No allocation. */
enum reputation_keys {
    REPUTATION_KEYS_IP = 1u << 0,
    REPUTATION_KEYS_SENDER = 1u << 1,
    REPUTATION_KEYS_URL = 1u << 2,
    REPUTATION_KEYS_ALL = 7u
};
typedef void (*reputation_key_fn)(void *ctx, enum reputation_kind kind,
                                  const uint8_t *key, size_t len);
void reputation_each_key(const struct mime_doc *doc,
                         const struct envelope *env, unsigned kinds,
                         reputation_key_fn fn, void *ctx);

struct reputation_hit {
    const struct reputation_entry *e;
};

struct reputation_hits {
    struct reputation_hit hit[REPUTATION_HITS_MAX];
    size_t n;
    int total; /* clipped sum of the weights, hundredths */
    const struct reputation_entry *strongest_block; /* or NULL */
};

/*
 * Check a parsed message and its envelope (may be NULL) against db (NULL
 * gives no hits).  No allocation; bounded by the URL and header caps.
 */
void reputation_check(const struct reputation_db *db,
                      const struct mime_doc *doc, const struct envelope *env,
                      struct reputation_hits *hits);

/* Count entry e (NULL: nothing) once: at most REPUTATION_HITS_MAX
 * distinct entries of a message count, the first ones, except that a
 * block takes the place of an allow (the last) or of a lighter block
 * when the list is full, so allows never hide a block.  hits starts
 * zeroed. */
void reputation_hits_add(struct reputation_hits *hits,
                         const struct reputation_entry *e);
/* Clip the total to ±REPUTATION_WEIGHT_MAX_CENTI (after the last add). */
void reputation_hits_clip(struct reputation_hits *hits);

/*
 * Append the hits to text (NUL-terminated, cap bytes in all; a space
 * first when text is not empty) as "rep=ip:+5.00,dom:-2.00" or, with
 * keys, "rep-hits=ip:192.0.2.0/24:+5.00,url:bad.example:+3.00";
 * printable ASCII without quotes or spaces.  A hit that does not fit is
 * left out whole.
 */
void reputation_hits_format(const struct reputation_hits *hits,
                            bool with_keys, char *text, size_t cap);

/* Item as list text: "block ip 192.0.2.0/24 5.00 spam"; out holds at
 * least REPUTATION_TEXT_MAX bytes. */
#define REPUTATION_TEXT_MAX 320u
void reputation_item_text(const struct reputation_item *e, char *out,
                          size_t cap);

/* "ipv4", "ipv6", "domain", "urlhost"; "allow", "block"; "spam", ... */
const char *reputation_kind_name(enum reputation_kind kind);
const char *reputation_action_name(enum reputation_action action);
const char *reputation_category_name(enum reputation_category cat);

#endif
