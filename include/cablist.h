/*
 * cablist.h -- member names of a Microsoft cabinet (.cab, "MSCF"), without
 * decompressing anything ([MS-CAB] 2.1 CFHEADER, 2.3 CFFILE).
 *
 * The engine uses it as it uses ziplist: cabinets carry executables and
 * scripts in mail as zips do, and Windows opens them in Explorer with a
 * double click.  The header says where the CFFILE entries start
 * (coffFiles) and how many there are (cFiles); each is 16 bytes and a
 * NUL-terminated name of at most 256 bytes, in the clear whatever the
 * folders' compression.
 *
 * Bounded: cFiles is 16 bits, and at most CAPS_CABLIST_MEMBERS_MAX names
 * are listed; every entry is checked against the bytes left (one that
 * does not fit ends the listing, CABLIST_BROKEN).  Pure: no allocation,
 * no I/O; any thread (one iterator each).  Formats layer.
 */
#ifndef CM_CABLIST_H
#define CM_CABLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cablist_flag {
    CABLIST_BROKEN = 1u << 0, /* an entry ran past the data */
    CABLIST_CAPPED = 1u << 1  /* more members than the cap */
};

struct cablist_member {
    const uint8_t *name; /* view into the archive bytes, not terminated */
    size_t name_len;
};

/* Iterator state; fill with cablist_init. */
struct cablist {
    const uint8_t *p;
    size_t len;
    size_t at;      /* next CFFILE; len when done */
    size_t left;    /* entries cFiles still promises */
    size_t n_listed;
    unsigned flags; /* enum cablist_flag */
};

/* True when (p, len) starts with a cabinet header ("MSCF", then zero). */
bool cablist_is_cab(const uint8_t *p, size_t len);

/* Start listing (p, len), which must outlive c. */
void cablist_init(struct cablist *c, const uint8_t *p, size_t len);

/* Next member name; false when there are no more (c->flags then says
 * why the listing may be partial). */
bool cablist_next(struct cablist *c, struct cablist_member *m);

#endif
