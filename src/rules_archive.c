/*
 * rules_archive.c -- is an attachment an archive holding an executable or
 * a script?  (rules.h rules_archive_is_dangerous; SPEC §4.)
 *
 * An attachment is listed when it is an archive by its magic or its name:
 * zip, RAR, Microsoft cabinet, tar, gzip (one file; a .tar.gz holds a
 * tar).  A member named like an archive is opened one level down (a zip
 * in a zip, a zip stored in a RAR, a tar in a gzip) and its names are
 * read too; the inner archive's own archives are judged by name only, so
 * the work is bounded by two levels, never by the mail's structure.
 * Compressed inner bytes are inflated (arcinflate) only for a member
 * whose name or magic says archive, at most CAPS_ARCHIVE_INNER_MAX
 * inner archives and CAPS_ARCHIVE_INFLATE_TOTAL_BYTES of output an
 * attachment; past those the rest is unseen and judged harmless (see
 * is_padded for the exception).
 *
 * 7z names are not read: 7-Zip compresses the header holding them by
 * default, which needs an LZMA decoder (a dependency we do not take),
 * and a 7z whose header is stored plain (-mhc=off) is rare enough not to
 * be worth a parser of its own.  Many legitimate 7z are mailed, so an
 * unread 7z is not called dangerous -- except one whose header is
 * encrypted (-mhe): like a RAR with encrypted headers, it hides its
 * names from every scanner, and its plain descriptor says so
 * (sevenzip.h).
 */
#include "rules.h"

#include <string.h>

#include "arcinflate.h"
#include "cablist.h"
#include "caps.h"
#include "featureset.h"
#include "mime.h"
#include "rarlist.h"
#include "rules-int.h"
#include "sevenzip.h"
#include "tarlist.h"
#include "ziplist.h"

enum arc_kind {
    ARC_NONE,
    ARC_ZIP,
    ARC_RAR,
    ARC_CAB,
    ARC_TAR,
    ARC_GZIP,
    ARC_7Z
};

/* Work left for one attachment's inner archives. */
struct arc_budget {
    size_t inner_left;   /* inner archives still to open */
    size_t inflate_left; /* bytes still to inflate */
};

static bool bytes_dangerous(const uint8_t *d, size_t len, const char *name,
                            size_t nl, struct arc_budget *b);

/* A member name as an extracting tool writes it: tools that keep names
 * as C strings (Info-ZIP's unzip among them) end it at its first NUL,
 * so "invoice.exe\0.pdf" unpacks as invoice.exe. */
static size_t
c_name_len(const uint8_t *name, size_t len)
{
    const uint8_t *nul = memchr(name, '\0', len);

    return nul != NULL ? (size_t)(nul - name) : len;
}

static bool
is_dangerous_member(const uint8_t *name, size_t len)
{
    return features_is_dangerous_name((const char *)name,
                                      c_name_len(name, len));
}

static enum arc_kind
kind_by_name(const char *name, size_t len)
{
    static const char *const gz[] = {"gz", "gzip", "tgz", "taz"};
    static const char *const zip[] = {"zip"};
    static const char *const rar[] = {"rar"};
    static const char *const cab[] = {"cab"};
    static const char *const tar[] = {"tar"};
    static const char *const sz[] = {"7z"};

    if (rules_ext_in(name, len, zip, 1)) {
        return ARC_ZIP;
    }
    if (rules_ext_in(name, len, rar, 1)) {
        return ARC_RAR;
    }
    if (rules_ext_in(name, len, cab, 1)) {
        return ARC_CAB;
    }
    if (rules_ext_in(name, len, tar, 1)) {
        return ARC_TAR;
    }
    if (rules_ext_in(name, len, sz, 1)) {
        return ARC_7Z;
    }
    return rules_ext_in(name, len, gz, 4) ? ARC_GZIP : ARC_NONE;
}

/* By magic first (a zip named .pdf is a zip), then by name; a RAR
 * signature is searched past a self-extractor's stub, so last. */
static enum arc_kind
kind_of(const uint8_t *d, size_t len, const char *name, size_t nl)
{
    enum arc_kind by_name = kind_by_name(name, nl);

    if (ziplist_is_zip(d, len) || by_name == ARC_ZIP) {
        return ARC_ZIP;
    }
    if (by_name == ARC_RAR) {
        return ARC_RAR;
    }
    if (cablist_is_cab(d, len)) {
        return ARC_CAB;
    }
    if (len >= 2 && d[0] == 0x1f && d[1] == 0x8b) {
        return ARC_GZIP;
    }
    if (sevenzip_is_7z(d, len)) {
        return ARC_7Z;
    }
    if (tarlist_is_tar(d, len)) {
        return ARC_TAR;
    }
    if (by_name != ARC_NONE) {
        return by_name;
    }
    return rarlist_is_rar(d, len) ? ARC_RAR : ARC_NONE;
}

/*
 * A member's kind by its name, else by magic at its first byte: no RAR
 * search past a stub, which would read up to a MiB of every stored
 * member (photos stored in a zip) for a signature.
 */
static enum arc_kind
kind_of_member(const uint8_t *d, size_t len, const char *name, size_t nl)
{
    enum arc_kind by_name = kind_by_name(name, nl);

    if (by_name != ARC_NONE) {
        return by_name;
    }
    if (len >= 6 && memcmp(d, "Rar!\x1a\x07", 6) == 0) {
        return ARC_RAR;
    }
    return kind_of(d, len < 512 ? len : 512, "", 0);
}

/*
 * Output cut at the cap after deflate shrank it more than a hundred
 * times: megabytes of zeros or one repeated block, which is how a member
 * is pushed past a scanner's reach (or a bomb); documents, programs and
 * text stay well under that ratio.  Such an archive is dangerous.
 */
static bool
is_padded(const struct arcinflate_out *o)
{
    return o->is_capped && o->in_used > 0 && o->out.len / o->in_used >= 100u;
}

/* Names of an archive packed inside another (data, len; method 0 stored,
 * 8 deflated; mode for 8), within the attachment's budget. */
static bool
inner_dangerous(const uint8_t *data, size_t len, unsigned method,
                enum arcinflate_mode mode, const char *name, size_t nl,
                struct arc_budget *b)
{
    struct arcinflate_out o;
    bool is_bad;

    if (b->inner_left == 0 || (method != 0 && method != 8)) {
        return false;
    }
    b->inner_left--;
    /* The inner archive is listed with no budget of its own: its own
     * archives are judged by their names. */
    if (method == 0) {
        struct arc_budget none = {0, 0};

        return bytes_dangerous(data, len, name, nl, &none);
    }
    if (b->inflate_left == 0) {
        return false;
    }
    if (arcinflate(data, len, mode,
                   b->inflate_left < CAPS_ARCINFLATE_MAX_BYTES
                       ? b->inflate_left
                       : CAPS_ARCINFLATE_MAX_BYTES,
                   &o) != CM_OK) {
        arcinflate_free(&o);
        return false; /* no memory: unseen, as past the budget */
    }
    b->inflate_left -= o.out.len;
    {
        struct arc_budget none = {0, 0};

        is_bad = is_padded(&o) ||
                 bytes_dangerous(o.out.data, o.out.len, name, nl, &none);
    }
    arcinflate_free(&o);
    return is_bad;
}

static bool
zip_is_dangerous(const uint8_t *data, size_t len, struct arc_budget *b)
{
    struct ziplist z;
    struct ziplist_member m;

    ziplist_init(&z, data, len);
    while (ziplist_next(&z, &m)) {
        size_t nl = c_name_len(m.name, m.name_len);

        if (features_is_dangerous_name((const char *)m.name, nl)) {
            return true;
        }
        /* Local headers carry the data; the directory lists the same
         * members again without it. */
        if (m.data != NULL && !m.is_encrypted && b->inner_left > 0 &&
            (kind_by_name((const char *)m.name, nl) != ARC_NONE ||
             (m.method == 0 &&
              kind_of_member(m.data, m.data_len, "", 0) != ARC_NONE)) &&
            inner_dangerous(m.data, m.data_len, m.method, ARCINFLATE_RAW,
                            (const char *)m.name, nl, b)) {
            return true;
        }
    }
    /* More members than ziplist lists: the ones past the cap are unseen,
     * and an archive built that way exists to hide one (no mail client
     * or archiver sends 65,536 members by mail). */
    return (z.flags & ZIPLIST_CAPPED) != 0;
}

static bool
rar_is_dangerous(const uint8_t *data, size_t len, struct arc_budget *b)
{
    struct rarlist r;
    struct rarlist_member m;

    rarlist_init(&r, data, len);
    while (rarlist_next(&r, &m)) {
        size_t nl = c_name_len(m.name, m.name_len);

        if (features_is_dangerous_name((const char *)m.name, nl)) {
            return true;
        }
        /* RAR's own compression is not ours to undo; a stored member's
         * bytes are the inner archive as it is. */
        if (m.is_stored && !m.is_encrypted && b->inner_left > 0 &&
            kind_of_member(m.data, m.data_len, (const char *)m.name, nl) !=
                ARC_NONE &&
            inner_dangerous(m.data, m.data_len, 0, ARCINFLATE_RAW,
                            (const char *)m.name, nl, b)) {
            return true;
        }
    }
    /* Past the listing cap, or names encrypted (MHD_PASSWORD, RAR 5
     * archive encryption): what it holds cannot be seen, by us or by any
     * scanner before the reader, which is why malware is mailed so, with
     * the password in the text.  Dangerous, like a zip past its cap. */
    return (r.flags & (RARLIST_CAPPED | RARLIST_HEADERS_ENCRYPTED)) != 0;
}

static bool
cab_is_dangerous(const uint8_t *data, size_t len)
{
    struct cablist c;
    struct cablist_member m;

    cablist_init(&c, data, len);
    while (cablist_next(&c, &m)) {
        if (is_dangerous_member(m.name, m.name_len)) {
            return true;
        }
    }
    return (c.flags & CABLIST_CAPPED) != 0;
}

static bool
tar_is_dangerous(const uint8_t *data, size_t len)
{
    struct tarlist t;
    struct tarlist_member m;

    tarlist_init(&t, data, len);
    while (tarlist_next(&t, &m)) {
        if (is_dangerous_member(m.name, m.name_len)) {
            return true;
        }
    }
    return (t.flags & TARLIST_CAPPED) != 0;
}

/*
 * The name a gzip file unpacks to (name, nl): the one its header keeps
 * (FNAME, RFC 1952 2.3.1), else the attachment's name less ".gz" (gunzip)
 * -- "x.tgz" and "x.taz" unpack to "x.tar".  Into *out (not terminated),
 * at most cap bytes; its length, 0 when there is none.
 */
static size_t
gzip_inner_name(const uint8_t *data, size_t len, const char *fn, size_t fl,
                char *out, size_t cap)
{
    enum { GZ_FEXTRA = 0x04, GZ_FNAME = 0x08, GZ_HEADER = 10 };
    static const char *const gz[] = {"gz", "gzip"};
    static const char *const tgz[] = {"tgz", "taz"};
    size_t at = GZ_HEADER;
    size_t n;

    if ((data[3] & GZ_FNAME) != 0) {
        if ((data[3] & GZ_FEXTRA) != 0) {
            if (len - at < 2) {
                return 0;
            }
            at += 2 + ((size_t)data[at] | (size_t)data[at + 1] << 8);
        }
        if (at >= len) {
            return 0;
        }
        n = c_name_len(data + at, len - at < cap ? len - at : cap);
        memcpy(out, data + at, n);
        return n;
    }
    n = fl;
    while (n > 0 && fn[n - 1] != '.') {
        n--;
    }
    if (n <= 1 || n - 1 + 4 > cap) {
        return 0;
    }
    memcpy(out, fn, n - 1);
    if (rules_ext_in(fn, fl, tgz, 2)) {
        memcpy(out + n - 1, ".tar", 4);
        return n + 3;
    }
    return rules_ext_in(fn, fl, gz, 2) ? n - 1 : 0;
}

/* "invoice.pdf.gz" holding invoice.exe is how malware has been mailed
 * as gzip; "invoice.tar.gz" holds a tar whose names are read too. */
static bool
gzip_is_dangerous(const uint8_t *data, size_t len, const char *fn,
                  size_t fl, struct arc_budget *b)
{
    char inner[MIME_FILENAME_MAX_BYTES];
    size_t il;
    enum arc_kind kind;

    if (len < 10 || data[0] != 0x1f || data[1] != 0x8b) {
        return false;
    }
    il = gzip_inner_name(data, len, fn, fl, inner, sizeof(inner));
    if (features_is_dangerous_name(inner, il)) {
        return true;
    }
    kind = kind_by_name(inner, il);
    return kind != ARC_NONE && kind != ARC_GZIP &&
           inner_dangerous(data, len, 8, ARCINFLATE_GZIP, inner, il, b);
}

/* The archive (d, len) named (name, nl), by its kind. */
static bool
bytes_dangerous(const uint8_t *d, size_t len, const char *name, size_t nl,
                struct arc_budget *b)
{
    switch (kind_of(d, len, name, nl)) {
    case ARC_ZIP:
        return zip_is_dangerous(d, len, b);
    case ARC_RAR:
        return rar_is_dangerous(d, len, b);
    case ARC_CAB:
        return cab_is_dangerous(d, len);
    case ARC_TAR:
        return tar_is_dangerous(d, len);
    case ARC_GZIP:
        return gzip_is_dangerous(d, len, name, nl, b);
    case ARC_7Z:
        return sevenzip_headers_encrypted(d, len);
    case ARC_NONE:
        break;
    }
    return false;
}

bool
rules_archive_is_dangerous(const struct mime_part *part)
{
    const char *fn = part->filename != NULL ? part->filename : "";
    struct arc_budget b = {CAPS_ARCHIVE_INNER_MAX,
                           CAPS_ARCHIVE_INFLATE_TOTAL_BYTES};

    if (part->data == NULL) {
        return false;
    }
    return bytes_dangerous(part->data, part->data_len, fn, strlen(fn), &b);
}
