/*
 * rarlist.h -- member names of a RAR archive (RAR 4.x "Rar!\x1a\x07\x00"
 * and RAR 5.0 "Rar!\x1a\x07\x01\x00" block formats), without
 * decompressing anything.
 *
 * The engine uses it as it uses ziplist: to see an executable or script
 * packed into a .rar attachment (SPEC §4: dangerous attachments →
 * malware), the way malware has been mailed for twenty years.  The
 * archive may follow a self-extractor stub or other bytes (WinRAR finds
 * it there too): the signature is searched in the first
 * CAPS_RARLIST_SIGNATURE_SEARCH_BYTES.  Encrypted members are listed (a
 * file header's name is in the clear); an archive whose headers are
 * encrypted (RAR 4.x MHD_PASSWORD, RAR 5.0 archive encryption header) has
 * no readable names: RARLIST_HEADERS_ENCRYPTED.
 *
 * Bounded: at most CAPS_RARLIST_MEMBERS_MAX names (RARLIST_CAPPED past
 * it), every size is checked against the bytes left before it is used,
 * each step moves forward by at least one header.  Header CRCs are not
 * checked: a name we list from a damaged header is still a name a
 * sender chose.  Pure: no allocation, no I/O; any thread (one iterator
 * each).  Formats layer.
 */
#ifndef CM_RARLIST_H
#define CM_RARLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rarlist_flag {
    RARLIST_BROKEN = 1u << 0,            /* a header ran past the data */
    RARLIST_CAPPED = 1u << 1,            /* more members than the cap */
    RARLIST_HEADERS_ENCRYPTED = 1u << 2, /* names are not readable */
    RARLIST_ENCRYPTED = 1u << 3,         /* a member is encrypted */
    RARLIST_V5 = 1u << 4                 /* RAR 5.0 format */
};

struct rarlist_member {
    const uint8_t *name; /* view into the archive bytes, not terminated;
                            RAR 4.x Unicode names: their 8-bit part */
    size_t name_len;
    bool is_encrypted;
    /* The member's packed bytes (cut at the end of the data) and whether
     * they are stored as they are (RAR 4.x method 0x30, RAR 5.0 method
     * 0): then an archive inside is readable without unpacking. */
    const uint8_t *data;
    size_t data_len;
    bool is_stored;
};

/* Iterator state; fill with rarlist_init. */
struct rarlist {
    const uint8_t *p;
    size_t len;
    size_t at;       /* next header; len when done */
    size_t n_listed;
    unsigned flags;  /* enum rarlist_flag */
};

/* True when (p, len) holds a RAR signature where rarlist looks for one. */
bool rarlist_is_rar(const uint8_t *p, size_t len);

/* Start listing (p, len), which must outlive r. */
void rarlist_init(struct rarlist *r, const uint8_t *p, size_t len);

/* Next member name; false when there are no more (r->flags then says
 * why the listing may be partial). */
bool rarlist_next(struct rarlist *r, struct rarlist_member *m);

#endif
