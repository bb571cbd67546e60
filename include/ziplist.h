/*
 * ziplist.h -- member names of a zip archive, without decompressing
 * anything (PKWARE APPNOTE 6.3: end of central directory, zip64 locator,
 * central directory headers, local file headers).
 *
 * The engine uses it to see an executable or script packed into a zip
 * attachment (SPEC §4: dangerous attachments → malware).  Names come
 * from the central directory and, because the two can disagree on
 * purpose (an archive that lists "invoice.pdf" but unpacks "invoice.exe"
 * with some tools), also from a walk over the local file headers; a name
 * may therefore be reported twice.  Encrypted members are listed (names
 * are never encrypted); nested archives are listed as names only.
 *
 * Bounded: at most CAPS_ZIPLIST_MEMBERS_MAX names from the central
 * directory and as many from the local headers (an archive with more
 * members than that stops at the cap, ZIPLIST_CAPPED), the end record is
 * searched in the last CAPS_ZIPLIST_EOCD_SEARCH_BYTES, every length is
 * checked against the bytes left.  Pure: no allocation, no I/O; any
 * thread (one iterator each).  Formats layer.
 */
#ifndef CM_ZIPLIST_H
#define CM_ZIPLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ziplist_flag {
    ZIPLIST_NO_DIRECTORY = 1u << 0, /* no usable central directory */
    ZIPLIST_BROKEN = 1u << 1,       /* a record ran past the data or was
                                       not where it should be */
    ZIPLIST_CAPPED = 1u << 2,       /* more members than the cap in the
                                       directory or the local headers;
                                       the listing stopped there */
    ZIPLIST_ENCRYPTED = 1u << 3,    /* a member is encrypted */
    ZIPLIST_ZIP64 = 1u << 4         /* zip64 end records were used */
};

struct ziplist_member {
    const uint8_t *name; /* view into the archive bytes, not terminated */
    size_t name_len;
    bool is_encrypted;
    bool is_from_directory; /* central directory (else a local header) */
    /* A local header's member: its packed bytes (up to the next header
     * when the sizes are not in the header) and method (0 stored,
     * 8 deflated).  NULL and 0 for a directory entry. */
    const uint8_t *data;
    size_t data_len;
    uint16_t method;
};

/* Iterator state; fill with ziplist_init. */
struct ziplist {
    const uint8_t *p;
    size_t len;
    size_t cd_at;   /* next central directory header */
    size_t cd_end;
    size_t cd_left; /* entries the end record promises */
    size_t local_at; /* next local header */
    bool is_local_phase;
    size_t n_listed;
    size_t n_local; /* of n_listed, from local headers */
    unsigned flags; /* enum ziplist_flag */
};

/* True when (p, len) starts like a zip archive ("PK\3\4", or "PK\5\6"
 * for an empty one). */
bool ziplist_is_zip(const uint8_t *p, size_t len);

/* Start listing (p, len), which must outlive z. */
void ziplist_init(struct ziplist *z, const uint8_t *p, size_t len);

/* Next member name; false when there are no more (z->flags then says
 * why the listing may be partial). */
bool ziplist_next(struct ziplist *z, struct ziplist_member *m);

#endif
