/*
 * tarlist.h -- member names of a tar archive (POSIX ustar, GNU and pax
 * headers, old v7), the bytes as they are: a .tar.gz is inflated by the
 * caller first (arcinflate).
 *
 * The engine uses it as it uses ziplist: to see an executable or script
 * packed into a tar attachment (SPEC §4: dangerous attachments →
 * malware).  Each member is a 512-byte header (name at 0, size at 124,
 * checksum at 148, type at 156) and its data rounded up to 512.  A GNU
 * long name ('L') or a pax "path" record ('x') names the member after
 * it; then that name is listed instead of the 100-byte field.  With a
 * ustar prefix (345) the name field still holds the last path
 * components, and so the file name.
 *
 * Bounded: at most CAPS_TARLIST_MEMBERS_MAX names (TARLIST_CAPPED past
 * it), every size is checked against the bytes left, each step moves
 * forward by at least one 512-byte block; a header whose checksum is
 * wrong ends the listing (TARLIST_BROKEN).  Pure: no allocation, no
 * I/O; any thread (one iterator each).  Formats layer.
 */
#ifndef CM_TARLIST_H
#define CM_TARLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tarlist_flag {
    TARLIST_BROKEN = 1u << 0, /* a header was damaged or ran past the data */
    TARLIST_CAPPED = 1u << 1  /* more members than the cap */
};

struct tarlist_member {
    const uint8_t *name; /* view into the archive bytes, not terminated */
    size_t name_len;
    uint8_t type;        /* typeflag: '0' file, '5' directory, ... */
};

/* Iterator state; fill with tarlist_init. */
struct tarlist {
    const uint8_t *p;
    size_t len;
    size_t at;                /* next header; len when done */
    const uint8_t *long_name; /* from an 'L' or 'x' header, for the next */
    size_t long_len;
    size_t n_listed;
    unsigned flags;           /* enum tarlist_flag */
};

/* True when (p, len) starts with a tar header whose checksum is right. */
bool tarlist_is_tar(const uint8_t *p, size_t len);

/* Start listing (p, len), which must outlive t. */
void tarlist_init(struct tarlist *t, const uint8_t *p, size_t len);

/* Next member name; false when there are no more (t->flags then says
 * why the listing may be partial). */
bool tarlist_next(struct tarlist *t, struct tarlist_member *m);

#endif
