/*
 * ziplist.c -- member names of a zip archive, bounded, no decompression
 * (see ziplist.h; PKWARE APPNOTE 6.3 sections 4.3.6 to 4.3.16).
 *
 * Two phases: the central directory found through the end record (zip64
 * end records when the classic fields are saturated), then a walk over
 * the local file headers from the first one.  Every read checks its
 * offset and length against the data first; a record that does not fit
 * ends its phase with ZIPLIST_BROKEN.  Each call consumes at least one
 * record, so a listing takes at most CAPS_ZIPLIST_MEMBERS_MAX calls per
 * phase plus one linear scan of the data (local headers whose size is
 * not known up front are skipped by searching for the next signature).
 * A phase with more than the cap ends the whole listing with
 * ZIPLIST_CAPPED: the members past it are unseen, which the rules treat
 * as a dangerous archive.
 * Data before the archive (a self-extractor's stub) is found from where
 * the directory must end (the end records), whether the offsets count
 * it or not: see ziplist_init and first_local.
 *
 * No state beyond the caller's iterator; any thread.
 */
#include "ziplist.h"

#include <string.h>

#include "byteorder.h"
#include "caps.h"

#define ZIP_SIG_LOCAL 0x04034b50u
#define ZIP_SIG_CENTRAL 0x02014b50u
#define ZIP_SIG_EOCD 0x06054b50u
#define ZIP_SIG_EOCD64 0x06064b50u
#define ZIP_SIG_LOCATOR64 0x07064b50u
#define ZIP_EOCD_LEN 22u
#define ZIP_LOCATOR64_LEN 20u
#define ZIP_EOCD64_LEN 56u
#define ZIP_CENTRAL_LEN 46u
#define ZIP_LOCAL_LEN 30u
#define ZIP_FLAG_ENCRYPTED 0x0001u
#define ZIP_FLAG_DESCRIPTOR 0x0008u

/* Does a record of n bytes with signature sig start at off? */
static bool
has_record(const struct ziplist *z, uint64_t off, size_t n, uint32_t sig)
{
    return off <= z->len && n <= z->len - off &&
           byteorder_le32(z->p + off) == sig;
}

bool
ziplist_is_zip(const uint8_t *p, size_t len)
{
    return p != NULL && len >= 4 && p[0] == 'P' && p[1] == 'K' &&
           ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6));
}

/* Offset of the end record, searched backwards; false when absent. */
static bool
find_eocd(const struct ziplist *z, size_t *at)
{
    size_t lowest;

    if (z->len < ZIP_EOCD_LEN) {
        return false;
    }
    lowest = z->len > CAPS_ZIPLIST_EOCD_SEARCH_BYTES
                 ? z->len - CAPS_ZIPLIST_EOCD_SEARCH_BYTES
                 : 0;
    for (size_t off = z->len - ZIP_EOCD_LEN + 1; off > lowest; off--) {
        if (byteorder_le32(z->p + off - 1) == ZIP_SIG_EOCD) {
            *at = off - 1;
            return true;
        }
    }
    return false;
}

/*
 * Directory position from the end record at eocd: count, size and
 * offset, from the zip64 record when a classic field is saturated.
 * *end is where the directory must end (the first end record).
 */
static bool
read_directory(struct ziplist *z, size_t eocd, uint64_t *n, uint64_t *size,
               uint64_t *off, uint64_t *end)
{
    const uint8_t *e = z->p + eocd;
    size_t loc;
    uint64_t rec;

    *n = byteorder_le16(e + 10);
    *size = byteorder_le32(e + 12);
    *off = byteorder_le32(e + 16);
    *end = eocd;
    if (*n != 0xffffu && *size != 0xffffffffu && *off != 0xffffffffu) {
        return true;
    }
    if (eocd < ZIP_LOCATOR64_LEN) {
        return false;
    }
    loc = eocd - ZIP_LOCATOR64_LEN;
    if (!has_record(z, loc, ZIP_LOCATOR64_LEN, ZIP_SIG_LOCATOR64)) {
        return false;
    }
    rec = byteorder_le64(z->p + loc + 8);
    if ((!has_record(z, rec, ZIP_EOCD64_LEN, ZIP_SIG_EOCD64) || rec > loc) &&
        loc >= ZIP_EOCD64_LEN) {
        /* Data prepended to the archive shifts the locator's offset too;
         * the zip64 end record (without extensible data, as writers
         * leave it) ends where the locator starts. */
        rec = loc - ZIP_EOCD64_LEN;
    }
    if (!has_record(z, rec, ZIP_EOCD64_LEN, ZIP_SIG_EOCD64) || rec > loc) {
        return false;
    }
    z->flags |= ZIPLIST_ZIP64;
    *n = byteorder_le64(z->p + rec + 32);
    *size = byteorder_le64(z->p + rec + 40);
    *off = byteorder_le64(z->p + rec + 48);
    *end = rec;
    return true;
}

/*
 * Where the walk over local headers starts: shift bytes in, past data
 * prepended to an archive whose offsets do not count it.  A
 * self-extractor whose offsets do count its stub (zip -A) has no local
 * header there but the stub; then the one the directory entry at cd_at
 * points to (not the first "PK\3\4" found: a stub's code may hold one).
 * Only when nothing is at shift, so a walk that found a header there
 * before still starts there.
 */
static size_t
first_local(const struct ziplist *z, size_t shift, size_t cd_at)
{
    uint64_t at;

    if (has_record(z, shift, ZIP_LOCAL_LEN, ZIP_SIG_LOCAL) ||
        !has_record(z, cd_at, ZIP_CENTRAL_LEN, ZIP_SIG_CENTRAL)) {
        return shift;
    }
    at = (uint64_t)shift + byteorder_le32(z->p + cd_at + 42);
    return has_record(z, at, ZIP_LOCAL_LEN, ZIP_SIG_LOCAL) ? (size_t)at
                                                            : shift;
}

void
ziplist_init(struct ziplist *z, const uint8_t *p, size_t len)
{
    size_t eocd = 0;
    uint64_t n = 0;
    uint64_t size = 0;
    uint64_t off = 0;
    uint64_t end = 0;
    size_t shift = 0;

    memset(z, 0, sizeof(*z));
    z->p = p;
    z->len = p != NULL ? len : 0;
    if (!find_eocd(z, &eocd) ||
        !read_directory(z, eocd, &n, &size, &off, &end) || size > end) {
        z->flags |= ZIPLIST_NO_DIRECTORY;
        z->is_local_phase = true;
        return;
    }
    /* Data prepended to the archive (a self-extractor stub, or junk put
     * there to hide it) shifts every offset: the directory must end
     * where the end records start, so trust that over the field. */
    if (off != end - size &&
        has_record(z, end - size, ZIP_CENTRAL_LEN, ZIP_SIG_CENTRAL)) {
        shift = off < end - size ? (size_t)(end - size - off) : 0;
        off = end - size;
    }
    z->cd_at = (size_t)off;
    z->local_at = first_local(z, shift, z->cd_at);
    z->cd_end = (size_t)(off + size <= end ? off + size : end);
    /* Past the cap only "more than the cap" matters (ziplist_next stops
     * there, capped); at the cap the directory is listed whole. */
    z->cd_left = n <= CAPS_ZIPLIST_MEMBERS_MAX ? (size_t)n
                                               : CAPS_ZIPLIST_MEMBERS_MAX + 1u;
    z->is_local_phase = z->cd_left == 0;
}

static bool
next_central(struct ziplist *z, struct ziplist_member *m)
{
    const uint8_t *h;
    size_t total;
    uint16_t bits;

    if (z->cd_at > z->cd_end || z->cd_end - z->cd_at < ZIP_CENTRAL_LEN ||
        byteorder_le32(z->p + z->cd_at) != ZIP_SIG_CENTRAL) {
        z->flags |= ZIPLIST_BROKEN;
        return false;
    }
    h = z->p + z->cd_at;
    total = ZIP_CENTRAL_LEN + (size_t)byteorder_le16(h + 28) + byteorder_le16(h + 30) +
            byteorder_le16(h + 32);
    if (total > z->cd_end - z->cd_at) {
        z->flags |= ZIPLIST_BROKEN;
        return false;
    }
    bits = byteorder_le16(h + 8);
    m->name = h + ZIP_CENTRAL_LEN;
    m->name_len = byteorder_le16(h + 28);
    m->is_encrypted = (bits & ZIP_FLAG_ENCRYPTED) != 0;
    m->is_from_directory = true;
    m->data = NULL;
    m->data_len = 0;
    m->method = byteorder_le16(h + 10);
    z->cd_at += total;
    z->cd_left--;
    return true;
}

/* Offset of the next local header signature at or after from, or len. */
static size_t
scan_local(const struct ziplist *z, size_t from)
{
    for (size_t i = from; i + 4 <= z->len; i++) {
        if (z->p[i] == 'P' && byteorder_le32(z->p + i) == ZIP_SIG_LOCAL) {
            return i;
        }
    }
    return z->len;
}

static bool
next_local(struct ziplist *z, struct ziplist_member *m)
{
    const uint8_t *h;
    size_t data_at;
    uint32_t csize;
    uint16_t bits;

    if (!has_record(z, z->local_at, ZIP_LOCAL_LEN, ZIP_SIG_LOCAL)) {
        return false;
    }
    h = z->p + z->local_at;
    data_at = z->local_at + ZIP_LOCAL_LEN + byteorder_le16(h + 26) + byteorder_le16(h + 28);
    if (data_at > z->len) {
        z->flags |= ZIPLIST_BROKEN;
        z->local_at = z->len;
        return false;
    }
    bits = byteorder_le16(h + 6);
    csize = byteorder_le32(h + 18);
    m->name = h + ZIP_LOCAL_LEN;
    m->name_len = byteorder_le16(h + 26);
    m->is_encrypted = (bits & ZIP_FLAG_ENCRYPTED) != 0;
    m->is_from_directory = false;
    if ((bits & ZIP_FLAG_DESCRIPTOR) != 0 || csize == 0xffffffffu ||
        csize > z->len - data_at) {
        /* Size unknown here (data descriptor, zip64) or wrong: find the
         * next header instead of trusting it. */
        z->local_at = scan_local(z, data_at);
    } else {
        z->local_at = data_at + csize;
    }
    m->data = z->p + data_at;
    m->data_len = z->local_at - data_at;
    m->method = byteorder_le16(h + 8);
    return true;
}

/*
 * Whether listing must stop at the cap: the directory holds more than
 * CAPS_ZIPLIST_MEMBERS_MAX entries, or the local walk found that many
 * and another header follows.  Each phase has the cap to itself, so an
 * archive of up to that many members, listed twice (directory, then
 * local headers), is listed whole and not called capped.
 */
static bool
is_over_cap(struct ziplist *z)
{
    if (!z->is_local_phase) {
        if (z->n_listed < CAPS_ZIPLIST_MEMBERS_MAX) {
            return false;
        }
    } else if (z->n_local < CAPS_ZIPLIST_MEMBERS_MAX ||
               !has_record(z, z->local_at, ZIP_LOCAL_LEN, ZIP_SIG_LOCAL)) {
        return false;
    }
    z->flags |= ZIPLIST_CAPPED;
    z->is_local_phase = true;
    z->local_at = z->len;
    return true;
}

bool
ziplist_next(struct ziplist *z, struct ziplist_member *m)
{
    bool has_one = false;

    if ((z->flags & ZIPLIST_CAPPED) != 0 || is_over_cap(z)) {
        return false;
    }
    if (!z->is_local_phase) {
        has_one = next_central(z, m);
        if (!has_one || z->cd_left == 0) {
            z->is_local_phase = true;
        }
    }
    if (!has_one) {
        if (is_over_cap(z)) {
            return false;
        }
        has_one = next_local(z, m);
        z->n_local += has_one ? 1u : 0u;
    }
    if (has_one) {
        z->n_listed++;
        if (m->is_encrypted) {
            z->flags |= ZIPLIST_ENCRYPTED;
        }
    }
    return has_one;
}
