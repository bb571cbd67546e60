/*
 * rarlist.c -- member names of RAR 4.x and 5.0 archives (rarlist.h).
 *
 * Both formats are a chain of headers, each saying its own size and the
 * size of the packed data after it; a file header carries the member's
 * name.  RAR 4.x: HEAD_CRC(2) HEAD_TYPE(1) HEAD_FLAGS(2) HEAD_SIZE(2),
 * then for a file (0x74) PACK_SIZE(4) ... NAME_SIZE(2 at offset 26)
 * ATTR(4), HIGH_PACK_SIZE and HIGH_UNP_SIZE(4+4) with LHD_LARGE, and the
 * name at 32 (40); other headers add ADD_SIZE(4 at offset 7) bytes when
 * flag 0x8000 is set.  RAR 5.0: CRC32(4), then variable-length integers
 * (7 bits a byte, low first, at most 10 bytes): header size (from the
 * type on), type, flags, extra area size (flag 0x1), data size (0x2);
 * a file header (type 2) goes on with file flags, unpacked size,
 * attributes, mtime(4) and CRC32(4) when its flags say so, compression
 * and host OS, then the name's length and the name; an extra record of
 * type 1 in its extra area means the file is encrypted.
 *
 * Every offset is checked against the header's end and the data's end
 * before it is read; sizes are added only after checking they fit.
 */
#include "rarlist.h"

#include <string.h>

#include "byteorder.h"
#include "caps.h"

/* RAR 4.x header types and flags. */
enum {
    RAR4_MAIN = 0x73,
    RAR4_FILE = 0x74,
    RAR4_NEWSUB = 0x7a,
    RAR4_END = 0x7b,
    RAR4_BASE_LEN = 7,
    RAR4_FILE_LEN = 32,
    RAR4_MHD_PASSWORD = 0x0080,
    RAR4_LHD_PASSWORD = 0x0004,
    RAR4_LHD_LARGE = 0x0100,
    RAR4_LHD_UNICODE = 0x0200,
    RAR4_LONG_BLOCK = 0x8000,
    RAR4_METHOD_STORE = 0x30
};

/* RAR 5.0 header types and flags. */
enum {
    RAR5_FILE = 2,
    RAR5_CRYPT = 4,
    RAR5_END = 5,
    RAR5_HFL_EXTRA = 0x1,
    RAR5_HFL_DATA = 0x2,
    RAR5_FHFL_UTIME = 0x2,
    RAR5_FHFL_CRC32 = 0x4,
    RAR5_EXTRA_CRYPT = 1,
    RAR5_VINT_MAX = 10
};

static const uint8_t rar_signature[6] = {'R', 'a', 'r', '!', 0x1a, 0x07};

/* Offset just past a signature whose 7th byte (and 8th for 5.0) is
 * known, with *is_v5; len when there is none where WinRAR looks. */
static size_t
find_signature(const uint8_t *p, size_t len, bool *is_v5)
{
    size_t limit = len < CAPS_RARLIST_SIGNATURE_SEARCH_BYTES
                       ? len
                       : CAPS_RARLIST_SIGNATURE_SEARCH_BYTES;
    size_t at = 0;

    while (at + 7 <= limit) {
        const uint8_t *hit = memchr(p + at, 'R', limit - 6 - at);

        if (hit == NULL) {
            break;
        }
        at = (size_t)(hit - p);
        if (memcmp(p + at, rar_signature, sizeof(rar_signature)) == 0) {
            if (p[at + 6] == 0x00) {
                *is_v5 = false;
                return at + 7;
            }
            if (p[at + 6] == 0x01 && at + 8 <= len && p[at + 7] == 0x00) {
                *is_v5 = true;
                return at + 8;
            }
        }
        at++;
    }
    return len;
}

bool
rarlist_is_rar(const uint8_t *p, size_t len)
{
    bool is_v5;

    return p != NULL && find_signature(p, len, &is_v5) < len;
}

void
rarlist_init(struct rarlist *r, const uint8_t *p, size_t len)
{
    bool is_v5 = false;

    memset(r, 0, sizeof(*r));
    r->p = p;
    r->len = p != NULL ? len : 0;
    r->at = p != NULL ? find_signature(p, r->len, &is_v5) : 0;
    r->flags = is_v5 ? RARLIST_V5 : 0u;
}

/* The end of the packed data after a header that ends at hend, or len
 * (and broken) when the data runs past the archive's bytes. */
static size_t
after_data(struct rarlist *r, size_t hend, uint64_t data)
{
    if (data > r->len - hend) {
        r->flags |= RARLIST_BROKEN;
        return r->len;
    }
    return hend + (size_t)data;
}

/* One RAR 4.x header at r->at; true with *m when it names a member. */
static bool
step4(struct rarlist *r, struct rarlist_member *m, bool *has_member)
{
    const uint8_t *h = r->p + r->at;
    uint32_t type;
    uint32_t flags;
    size_t hsize;
    size_t hend;
    uint64_t data = 0;

    if (r->len - r->at < RAR4_BASE_LEN) {
        return false;
    }
    type = h[2];
    flags = byteorder_le16(h + 3);
    hsize = byteorder_le16(h + 5);
    if (hsize < RAR4_BASE_LEN || hsize > r->len - r->at) {
        r->flags |= RARLIST_BROKEN;
        return false;
    }
    hend = r->at + hsize;
    if (type == RAR4_MAIN && (flags & RAR4_MHD_PASSWORD) != 0) {
        r->flags |= RARLIST_HEADERS_ENCRYPTED;
        return false;
    }
    if (type == RAR4_END) {
        return false;
    }
    if (type == RAR4_FILE || type == RAR4_NEWSUB) {
        bool is_large = (flags & RAR4_LHD_LARGE) != 0;
        size_t name_at = RAR4_FILE_LEN + (is_large ? 8u : 0u);
        size_t name_len;

        if (hsize < name_at) {
            r->flags |= RARLIST_BROKEN;
            return false;
        }
        data = byteorder_le32(h + 7) |
               (is_large ? (uint64_t)byteorder_le32(h + 32) << 32 : 0);
        name_len = byteorder_le16(h + 26);
        if (name_len > hsize - name_at) {
            r->flags |= RARLIST_BROKEN;
            return false;
        }
        if (type == RAR4_FILE) {
            const uint8_t *nul = memchr(h + name_at, '\0', name_len);

            /* A Unicode name is the 8-bit name, NUL, then its encoding. */
            if ((flags & RAR4_LHD_UNICODE) != 0 && nul != NULL) {
                name_len = (size_t)(nul - (h + name_at));
            }
            m->name = h + name_at;
            m->name_len = name_len;
            m->is_encrypted = (flags & RAR4_LHD_PASSWORD) != 0;
            m->is_stored = h[25] == RAR4_METHOD_STORE;
            *has_member = true;
        }
    } else if ((flags & RAR4_LONG_BLOCK) != 0) {
        if (hsize < RAR4_BASE_LEN + 4) {
            r->flags |= RARLIST_BROKEN;
            return false;
        }
        data = byteorder_le32(h + 7);
    }
    r->at = after_data(r, hend, data);
    m->data = r->p + hend;
    m->data_len = r->at - hend;
    return true;
}

/* A RAR 5.0 variable-length integer at *pos, below end. */
static bool
vint(const uint8_t *p, size_t end, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < RAR5_VINT_MAX && *pos < end; i++) {
        uint8_t b = p[(*pos)++];

        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Whether the extra area [at, end) of a RAR 5.0 file header holds a file
 * encryption record. */
static bool
extra_says_encrypted(const uint8_t *p, size_t at, size_t end)
{
    while (at < end) {
        uint64_t size;
        uint64_t type;
        size_t rec;

        if (!vint(p, end, &at, &size) || size > end - at) {
            return false;
        }
        rec = at;
        if (vint(p, rec + (size_t)size, &rec, &type) &&
            type == RAR5_EXTRA_CRYPT) {
            return true;
        }
        if (size == 0) {
            return false;
        }
        at += (size_t)size;
    }
    return false;
}

/* The name of the RAR 5.0 file header whose fields start at pos. */
static bool
file5(struct rarlist *r, size_t pos, size_t hend, uint64_t extra,
      struct rarlist_member *m)
{
    uint64_t fflags;
    uint64_t skip;
    uint64_t comp = 0;
    uint64_t name_len;

    if (!vint(r->p, hend, &pos, &fflags) || !vint(r->p, hend, &pos, &skip) ||
        !vint(r->p, hend, &pos, &skip)) {
        return false;
    }
    pos += (fflags & RAR5_FHFL_UTIME) != 0 ? 4u : 0u;
    pos += (fflags & RAR5_FHFL_CRC32) != 0 ? 4u : 0u;
    if (pos > hend || !vint(r->p, hend, &pos, &comp) ||
        !vint(r->p, hend, &pos, &skip) ||
        !vint(r->p, hend, &pos, &name_len) || name_len > hend - pos) {
        return false;
    }
    m->name = r->p + pos;
    m->name_len = (size_t)name_len;
    /* Compression information: the method in bits 7-9, 0 is store. */
    m->is_stored = ((comp >> 7) & 7u) == 0;
    m->is_encrypted = extra <= hend - pos - name_len &&
                      extra_says_encrypted(r->p, hend - (size_t)extra, hend);
    return true;
}

/* One RAR 5.0 header at r->at; true with *m when it names a member. */
static bool
step5(struct rarlist *r, struct rarlist_member *m, bool *has_member)
{
    size_t pos = r->at + 4; /* past the header CRC32 */
    size_t hend;
    uint64_t hsize;
    uint64_t type;
    uint64_t hflags;
    uint64_t extra = 0;
    uint64_t data = 0;

    if (r->len - r->at <= 4 || !vint(r->p, r->len, &pos, &hsize) ||
        hsize == 0 || hsize > r->len - pos) {
        r->flags |= r->len - r->at > 4 ? RARLIST_BROKEN : 0u;
        return false;
    }
    hend = pos + (size_t)hsize;
    if (!vint(r->p, hend, &pos, &type) || !vint(r->p, hend, &pos, &hflags) ||
        ((hflags & RAR5_HFL_EXTRA) != 0 && !vint(r->p, hend, &pos, &extra)) ||
        ((hflags & RAR5_HFL_DATA) != 0 && !vint(r->p, hend, &pos, &data))) {
        r->flags |= RARLIST_BROKEN;
        return false;
    }
    if (type == RAR5_CRYPT) {
        r->flags |= RARLIST_HEADERS_ENCRYPTED;
        return false;
    }
    if (type == RAR5_END) {
        return false;
    }
    if (type == RAR5_FILE) {
        if (!file5(r, pos, hend, extra, m)) {
            r->flags |= RARLIST_BROKEN;
            return false;
        }
        *has_member = true;
    }
    r->at = after_data(r, hend, data);
    m->data = r->p + hend;
    m->data_len = r->at - hend;
    return true;
}

bool
rarlist_next(struct rarlist *r, struct rarlist_member *m)
{
    while (r->at < r->len) {
        bool has_member = false;
        bool is_more;

        is_more = (r->flags & RARLIST_V5) != 0 ? step5(r, m, &has_member)
                                               : step4(r, m, &has_member);
        if (!is_more) {
            break;
        }
        if (has_member && r->n_listed >= CAPS_RARLIST_MEMBERS_MAX) {
            /* One member past the cap: the rest are unseen. */
            r->flags |= RARLIST_CAPPED;
            break;
        }
        if (has_member) {
            r->n_listed++;
            r->flags |= m->is_encrypted ? RARLIST_ENCRYPTED : 0u;
            return true;
        }
    }
    r->at = r->len;
    return false;
}
