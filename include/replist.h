/*
 * replist.h -- plain-text reputation lists an administrator or publisher
 * writes, parsed into reputation entries (reputation.h) for cmtool train
 * --reputation and cmtool reputation --list.
 *
 * One entry a line; blank lines, everything after '#' and a UTF-8 byte
 * order mark at the start of the text are ignored:
 *   ACTION KIND VALUE [WEIGHT] [CATEGORY]
 *   ACTION    block | allow
 *   KIND      ip      VALUE an IPv4 or IPv6 address, optionally /PREFIX
 *                     (decimal, no leading zero: 1..32 or 1..128; the
 *                     host bits must be zero); ::ffff:a.b.c.d/97..128 is
 *                     the IPv4 a.b.c.d/1..32; an "ipv6:" tag only before
 *                     IPv6 notation
 *             domain  VALUE a sender domain (From, return-path); covers
 *                     its subdomains
 *             urlhost VALUE a host of a URL in the message; covers its
 *                     subdomains
 *   WEIGHT    junk-margin delta, 0.01..10 (at most two decimals); given
 *             as a magnitude (a '-' is accepted on allow); default 5 for
 *             block, 5 subtracted for allow
 *   CATEGORY  spam | phishing | malware, block only (default spam)
 * e.g.  block ip 192.0.2.0/24 6 spam
 *       allow domain partner.example
 *       block urlhost login-verify.example 8 phishing
 * Host names are lower-cased; [a-z0-9._-] only (IDNs as xn-- labels).
 * The parser is bounded (CAPS_REPUTATION_LINE_MAX a line,
 * CAPS_REPUTATION_LIST_MAX_BYTES a file, CAPS_REPUTATION_ENTRIES_MAX
 * entries) and stops at the first bad line with "FILE:LINE: reason";
 * replist_check refuses lists that allow and block the same key.
 * Pure except replist_load (reads a file).  Programs layer.
 */
#ifndef CM_REPLIST_H
#define CM_REPLIST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "reputation.h"

/* Where an entry was read: list name (not copied: it must outlive the
 * replist) and line; name NULL for an entry not read from a list. */
struct replist_src {
    const char *name;
    size_t line;
};

/* Entries collected from one or more lists, in file order. */
struct replist {
    struct reputation_item *e;
    struct replist_src *src; /* one per entry */
    size_t n;
    size_t cap;
};

/* Free the entries; l may be reused empty. */
void replist_clear(struct replist *l);

/* Append one entry (grows l); CM_ELIMIT past CAPS_REPUTATION_ENTRIES_MAX,
 * CM_ENOMEM. */
enum cm_err replist_add(struct replist *l, const struct reputation_item *e);

/*
 * Parse list text (p, len) named name (for messages) and append its
 * entries to l.  CM_EPARSE / CM_ELIMIT / CM_ENOMEM with err (err_cap
 * bytes) holding "name:line: reason"; entries of earlier lines stay.
 */
enum cm_err replist_parse(const char *name, const uint8_t *p, size_t len,
                          struct replist *l, char *err, size_t err_cap);

/* replist_parse on the contents of a file. */
enum cm_err replist_load(const char *path, struct replist *l, char *err,
                         size_t err_cap);

/*
 * After the lists are read: CM_EPARSE with err "name:line: ..." naming
 * the later line and the earlier one when two list entries have the same
 * kind, prefix and key but opposite actions (allow and block).  An error,
 * not a warning: which one the administrator meant cannot be told, the
 * order of lines or --list options would settle it silently (the first
 * wins), and the cartridge goes to every installation, where an allow
 * that beats a phishing block costs most; removing one line fixes it.
 * The same action twice (another weight or category) passes: the first
 * wins, as documented.  Entries not read from a list (name NULL) are not
 * checked.  CM_ENOMEM.
 */
enum cm_err replist_check(const struct replist *l, char *err, size_t err_cap);

#endif
