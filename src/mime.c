/*
 * mime.c -- bounded MIME structure parser (see mime.h).
 *
 * DESIGN
 * - One forward pass over the message.  The parser is always "at an
 *   entity": it reads the entity's header block, then either opens it
 *   (multipart: push a frame holding its boundary; message/rfc822: push a
 *   boundary-less frame so the enclosed message counts as one level
 *   deeper) or treats it as a leaf whose body runs to the next boundary
 *   line of ANY open frame (RFC 2046 5.1.2: an outer boundary ends the
 *   inner parts too).  Boundary lines are found with memchr for '-' at
 *   line starts and compared innermost frame first (a frame whose whole
 *   delimiter fits the line before one that only starts it), so a search
 *   costs O(bytes * open frames) and the whole parse is linear.
 * - The frame stack is a fixed array of MIME_MAX_DEPTH entries; no
 *   recursion.  An entity that would need a deeper frame is kept as an
 *   opaque leaf (MIME_DEPTH_CAPPED), and the bytes inside it are skipped
 *   by the same boundary scan.  At MIME_MAX_PARTS leaves parsing stops
 *   (MIME_PARTS_CAPPED).  Both caps feed the rescan flag.
 * - RFC 2046 tolerance: preamble and epilogue are skipped; a missing close
 *   delimiter, or a multipart whose boundary never appears, sets
 *   MIME_NO_CLOSING_BOUNDARY (the latter is then read as text/plain so a
 *   broken spam still shows its words); boundaries longer than
 *   MIME_BOUNDARY_MAX are compared by prefix; LF and CRLF both work.
 * - Headers (RFC 5322 2.2): only the top-level block is kept, unfolded
 *   (CRLF removed, white space kept, control bytes blanked), cut at
 *   MIME_HEADER_MAX_BYTES without copying the rest, RFC 2047-decoded.
 *   Body-part header blocks are scanned and only Content-Type,
 *   Content-Transfer-Encoding and Content-Disposition are interpreted
 *   (RFC 2045, RFC 2183, RFC 2231 parameters incl. continuations).
 * - Leaves: base64/quoted-printable/x-uuencode undone into the arena
 *   (7bit/8bit/binary are views into the input), at most
 *   MIME_PART_MAX_BYTES each.  A uuencoded file inside a text/plain part
 *   becomes a part of its own, as mail clients show it, and its lines
 *   leave the text (add_plain_with_files, mime_uu.c).
 *   Non-attachment text/plain is converted to UTF-8 straight into
 *   doc->text; text/html is converted (only when not already valid UTF-8)
 *   and rendered by html.c into doc->text.  In a multipart/alternative
 *   only the last child that produced text is kept (RFC 2046 5.1.4: the
 *   last alternative is the preferred one).  Parts are joined with "\n".
 * - URLs: html.c reports links with anchor text; plain text is scanned
 *   with url_find.  Hosts come from url_host.
 * - Memory: everything from the caller's arena; the text buffer is sized
 *   once (min of MIME_TEXT_MAX_BYTES and 3 bytes per input byte).  When the
 *   arena is exhausted MIME_ARENA_FULL is set and parsing goes on with
 *   what it has, so the view is partial but consistent.
 * State: struct mime_state on the caller's stack (frames, a scratch
 * buffer for part headers, the charset cache); nothing global.
 * RFC 2045, 2046, 2047, 2183, 2231, 5322.
 */
#include "mime.h"

#include <string.h>

#include "byteorder.h"
#include "caps.h"
#include "charset.h"
#include "html.h"
#include "mime-int.h"
#include "swar.h"
#include "url.h"

enum mime_cte {
    MIME_CTE_IDENTITY,
    MIME_CTE_BASE64,
    MIME_CTE_QP,
    MIME_CTE_UU /* x-uuencode and its spellings (mime_uu.c) */
};

enum mime_disp {
    MIME_DISP_NONE,
    MIME_DISP_INLINE,
    MIME_DISP_ATTACHMENT
};

/* A filename being collected from name= / filename= parameters. */
struct mime_fname {
    char buf[MIME_FILENAME_MAX_BYTES];
    size_t len;
    bool has_value;
    bool is_2231; /* RFC 2231 form: charset in cs, bytes undecoded */
    char cs[MIME_CHARSET_NAME_MAX];
};

/* What one entity's header block says about its body. */
struct mime_entity {
    char ctype[MIME_CTYPE_MAX];
    bool has_ctype;
    char charset[MIME_CHARSET_NAME_MAX];
    uint8_t boundary[MIME_BOUNDARY_MAX];
    size_t boundary_len;
    bool is_boundary_cut;
    enum mime_cte cte;
    bool has_cte;
    enum mime_disp disp;
    bool has_disp;
    struct mime_fname ct_name;     /* Content-Type name= */
    struct mime_fname cd_filename; /* Content-Disposition filename= */
    struct mime_fname overridden;  /* the first plain name= / filename=
                                      value another one replaced */
};

struct mime_frame {
    uint8_t bnd[MIME_BOUNDARY_MAX];
    size_t bnd_len;      /* 0 for a message/rfc822 frame */
    bool is_bnd_cut;
    bool is_alt;         /* multipart/alternative */
    bool is_digest;      /* multipart/digest: children default rfc822 */
    size_t alt_start;    /* text_len when the container opened */
    size_t child_start;  /* text_len when the current child began */
};

struct mime_bmatch {
    size_t line_start; /* index of the leading "--" */
    size_t next;       /* index after the boundary line */
    size_t frame;      /* index of the matching frame */
    bool is_close;
};

struct mime_field {
    const uint8_t *name;
    size_t name_len;
    const uint8_t *raw; /* value with its folds, no final line break */
    size_t raw_len;
};

enum mime_field_res {
    MIME_FIELD_OK,
    MIME_FIELD_END,  /* blank line: body follows */
    MIME_FIELD_BODY, /* a line that is no header: body starts at it */
    MIME_FIELD_EOF,  /* input ended inside the header block */
    MIME_FIELD_SKIP  /* a stray continuation line, ignored */
};

struct mime_state {
    struct arena *a;
    const uint8_t *p;
    size_t len;
    struct mime_doc *doc;
    struct charset_cache cc;
    struct mime_frame frames[MIME_MAX_DEPTH];
    size_t n_frames;
    size_t n_bframes; /* frames with a boundary */
    char *text;       /* NULL when it could not be allocated */
    size_t text_len;
    size_t text_max;
    size_t parts_cap;
    size_t urls_cap;
    size_t headers_cap;
    size_t headers_bytes;
    size_t n_atts_decoded;
    bool is_stopped;
    char scratch[MIME_PART_HEADER_MAX_BYTES];
};

static const char mime_empty[] = "";

/* ---- small helpers ------------------------------------------------ */

static bool
ci_eq(const uint8_t *p, size_t n, const char *lit)
{
    size_t k = strlen(lit);

    if (n != k) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (mime_lower(p[i]) != (uint8_t)lit[i]) {
            return false;
        }
    }
    return true;
}

static bool
ci_prefix(const uint8_t *p, size_t n, const char *lit)
{
    size_t k = strlen(lit);

    return n >= k && ci_eq(p, k, lit);
}

static void
arena_full(struct mime_state *st)
{
    st->doc->flags |= MIME_ARENA_FULL;
}

/* array_room when the array is full: doubled in the arena. */
static void *
array_grow(struct mime_state *st, void *arr, size_t n, size_t *cap,
           size_t elem, size_t max)
{
    size_t new_cap;
    void *q;

    new_cap = *cap == 0 ? 8 : *cap * 2;
    if (new_cap > max) {
        new_cap = max;
    }
    if (new_cap <= n) {
        return NULL;
    }
    q = arena_grow(st->a, arr, *cap * elem, new_cap * elem);
    if (q == NULL) {
        arena_full(st);
        return NULL;
    }
    *cap = new_cap;
    return q;
}

/* Make room for one more element in an arena array of *cap elements:
 * inline for the usual case of room left (every header, part and URL
 * comes through here). */
static inline void *
array_room(struct mime_state *st, void *arr, size_t n, size_t *cap,
           size_t elem, size_t max)
{
    if (n < *cap) {
        return arr;
    }
    return array_grow(st, arr, n, cap, elem, max);
}

/* ---- header fields ------------------------------------------------ */

static size_t
line_end(const uint8_t *p, size_t len, size_t pos)
{
    const uint8_t *q = memchr(p + pos, '\n', len - pos);

    return q == NULL ? len : (size_t)(q - p);
}

/*
 * Bit 7 of every lane of x that no field name holds: below 0x21, DEL or
 * ':' (bytes >= 0x80 are left to the caller).  With bit 7 cleared first
 * no lane carries into the next, so every lane is exact: t + 0x5F keeps
 * bit 7 clear only below 0x21, t + 1 sets it only for 0x7F, and
 * (t ^ ':') + 0x7F keeps it clear only for ':'.  swar_lt | swar_eq | swar_eq
 * is the same mask, but GCC does not merge their three ~x and complements
 * (issue #7: read_headers +0.43M over 2,000 messages).
 */
static uint64_t
name_stop_lanes(uint64_t x)
{
    uint64_t t = x & ~swar_bytes(0x80);
    uint64_t keep = (t + swar_bytes(0x5F)) &
                    ((t ^ swar_bytes(':')) + swar_bytes(0x7F));

    return ((t + swar_bytes(0x01)) | ~keep) & swar_ascii(x);
}

/*
 * The length of the field name at pos: the bytes before the first that
 * no name holds -- ':', a blank, a control byte (a line break among them)
 * or DEL -- or before len.  Eight bytes at a time (issue #7: one pass where
 * a memchr for the ':' and a second pass over the name for control bytes
 * were, for every header line of every part).
 */
static size_t
name_span(const uint8_t *p, size_t len, size_t pos)
{
    size_t i = pos;

    while (len - i >= 8) {
        uint64_t m = name_stop_lanes(swar_load_le(p + i));

        if (m != 0) {
            return i - pos + swar_lowest_lane(m);
        }
        i += 8;
    }
    while (i < len && p[i] > ' ' && p[i] != 0x7F && p[i] != ':') {
        i++;
    }
    return i - pos;
}

/*
 * Whether the field name (p, n), which holds no blank or control byte
 * (next_field), is lit (k bytes of lower-case letters and '-' only),
 * ASCII case aside.  Eight bytes at a time with bit 5 set in each: for
 * such a literal that only lets a capital match its letter (and a CR
 * match '-', which a name does not hold); the last word overlaps the one
 * before.  Called for every field of every header block (issue #7).
 */
static bool
name_is(const uint8_t *p, size_t n, const char *lit, size_t k)
{
    const uint64_t bit5 = swar_bytes(0x20);

    if (n != k) {
        return false;
    }
    if (k < 8) {
        for (size_t i = 0; i < k; i++) {
            if ((p[i] | 0x20u) != (uint8_t)lit[i]) {
                return false;
            }
        }
        return true;
    }
    for (size_t i = 0; k - i > 8; i += 8) {
        if ((swar_load(p + i) | bit5) != swar_load(lit + i)) {
            return false;
        }
    }
    return (swar_load(p + k - 8) | bit5) == swar_load(lit + k - 8);
}

/* name_is of a literal, and of the literal as a prefix of the name. */
#define NAME_IS(p, n, lit) name_is((p), (n), (lit), sizeof(lit) - 1u)
#define NAME_HAS_PREFIX(p, n, lit)                                         \
    ((n) >= sizeof(lit) - 1u && name_is((p), sizeof(lit) - 1u, (lit),     \
                                        sizeof(lit) - 1u))

static enum mime_field_res
next_field(const uint8_t *p, size_t len, size_t pos, struct mime_field *f,
           size_t *next)
{
    size_t e;
    size_t le;
    size_t nl;
    size_t c;

    if (pos >= len) {
        *next = len;
        return MIME_FIELD_EOF;
    }
    if (p[pos] == '\n' ||
        (p[pos] == '\r' && (pos + 1 == len || p[pos + 1] == '\n'))) {
        /* An empty line ("\n", "\r\n", or a CR that ends the input). */
        e = p[pos] == '\n' ? pos : pos + 1;
        *next = e < len ? e + 1 : len;
        return MIME_FIELD_END;
    }
    if (mime_is_wsp(p[pos])) {
        e = line_end(p, len, pos);
        *next = e < len ? e + 1 : len;
        return MIME_FIELD_SKIP;
    }
    /* A field is a name, blanks, ':' (RFC 5322 3.6.8, with the obsolete
     * blanks of 4.5.3).  Any other byte where the name stops is no
     * field: a ':' further on would put it inside the name. */
    nl = name_span(p, len, pos);
    c = pos + nl;
    while (c < len && mime_is_wsp(p[c])) {
        c++;
    }
    if (nl == 0 || c == len || p[c] != ':') {
        *next = pos;
        return MIME_FIELD_BODY;
    }
    f->name = p + pos;
    f->name_len = nl;
    f->raw = p + c + 1;
    e = line_end(p, len, c + 1);
    /* Continuation lines start with a blank (RFC 5322 2.2.3). */
    while (e < len && e + 1 < len && mime_is_wsp(p[e + 1])) {
        e = line_end(p, len, e + 1);
    }
    le = e;
    if (le > (size_t)(f->raw - p) && p[le - 1] == '\r') {
        le--;
    }
    f->raw_len = le - (size_t)(f->raw - p);
    *next = e < len ? e + 1 : len;
    return MIME_FIELD_OK;
}

/* What unfold does with each byte. */
enum mime_ubyte {
    MIME_UB_COPY,  /* copied */
    MIME_UB_DROP,  /* CR, LF: the fold itself */
    MIME_UB_BLANK, /* other control bytes become a blank */
    MIME_UB_MARK   /* copied; 8-bit, or the '?' of "=?": needs RFC 2047
                      decoding */
};

/* enum mime_ubyte of every byte value. */
static const uint8_t unfold_class[256] = {
    2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 1, 2, 2, 1, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};

/*
 * Bit 7 of each lane of x (swar_load_le) that may end a plain run: >= 0x80,
 * DEL, below 0x20 (tab, the one copied byte of these, is left to the
 * caller) or '?'.  An encoded word is told by its '?' rather than its
 * '=': parameters ("b=", "bh=" of DKIM signatures, URLs) are full of '='
 * and rarely hold a '?', so far fewer runs stop (issue #7).  Exact for
 * the lowest marked lane, the only one read, and past a tab's: a carry or
 * borrow out of a lane that crosses into the lane above comes from a
 * marked lane other than a tab (x + 0x60 carries from >= 0xA0, x + 1 from
 * 0xFF, the borrow from '?').  Not swar.h's tests: with the high lanes
 * marked anyway no lane needs bit 7 cleared first, and their own masks
 * cost unfold 2.5 times its instructions a block (+5M over 2,000
 * messages, constants reloaded).
 */
static uint64_t
unfold_stop_lanes(uint64_t x)
{
    uint64_t eq = x ^ swar_bytes('?');

    return swar_high(x | (x + swar_bytes(0x01)) | ~(x + swar_bytes(0x60)) |
                     ((eq - swar_bytes(0x01)) & ~eq));
}

/*
 * The end of unfold_copy_run for a run of eight bytes or more: the fewer
 * than eight bytes from p to e (d is where p goes) in the one block that
 * ends at e, instead of a byte loop (issue #7).  The block's bytes before
 * p were copied already, as they are (tabs too), so storing it whole at
 * d - skip writes them again unchanged; their lanes are shifted out of
 * the stop mask, and being plain bytes or tabs they carry nothing into
 * the lanes above.  A tab's lane is cleared and the next one read (a tab
 * carries nothing either, so that lane is exact too).
 */
static size_t
unfold_copy_last(const uint8_t *raw, const uint8_t *p, const uint8_t *e,
                 char *d)
{
    const uint8_t *last = e - 8;
    size_t skip = (size_t)(p - last);
    uint8_t w[8];
    uint64_t stop;

    memcpy(w, last, sizeof(w));
    memcpy(d - skip, w, sizeof(w));
    stop = unfold_stop_lanes(swar_load_le(w)) >> (8u * skip);
    while (stop != 0) {
        size_t k = swar_lowest_lane(stop);

        if (p[k] != '\t') {
            return (size_t)(p + k - raw);
        }
        stop &= stop - 1u;
    }
    return (size_t)(e - raw);
}

/*
 * Copy the run of MIME_UB_COPY bytes from raw + i, but not past end, to
 * dst; returns where it stops.  Eight bytes at a time: each block is
 * stored whole as it is loaded (dst has room up to end; bytes past the
 * run are written over later or lie past the value), and the first byte
 * that may stop the run is found in the block at once (issue #7: one
 * pass instead of a scan, a byte loop for the run's last block and a
 * memcpy call).
 */
static size_t
unfold_copy_run(const uint8_t *raw, size_t i, size_t end, char *dst)
{
    const uint8_t *p = raw + i;
    const uint8_t *e = raw + end;
    char *d = dst;

    if (end - i >= 8) {
        const uint8_t *last = e - 8; /* the last block start */

        while (p <= last) {
            uint8_t w[8];
            uint64_t stop;

            /* One load for the copy and the test (w is a register). */
            memcpy(w, p, sizeof(w));
            memcpy(d, w, sizeof(w));
            stop = unfold_stop_lanes(swar_load_le(w));
            if (stop == 0) {
                p += 8;
                d += 8;
                continue;
            }
            p += swar_lowest_lane(stop);
            if (*p != '\t') {
                return (size_t)(p - raw);
            }
            d += swar_lowest_lane(stop) + 1;
            p++;
        }
        if (p < e) {
            return unfold_copy_last(raw, p, e, d);
        }
        return (size_t)(p - raw);
    }
    while (p < e && unfold_class[*p] == MIME_UB_COPY) {
        *d++ = (char)*p++;
    }
    return (size_t)(p - raw);
}

/*
 * Unfold a raw value into dst (at most max bytes): line breaks removed,
 * control bytes blanked, surrounding blanks trimmed.  Returns the length;
 * *is_cut when max stopped it; *needs_decode when the copy holds "=?" or
 * a byte >= 0x80 (see mime_rfc2047_needed), so no second pass is needed.
 */
static size_t
unfold(const uint8_t *raw, size_t n, char *dst, size_t max, bool *is_cut,
       bool *needs_decode)
{
    size_t i = 0;
    size_t o = 0;
    bool is_marked = false;

    while (i < n && mime_is_wsp(raw[i])) {
        i++;
    }
    while (i < n) {
        /* Plain bytes are copied a run at a time, as far as dst has
         * room: a run stopped there by a plain byte is cut. */
        size_t end = n - i > max - o ? i + (max - o) : n;
        size_t j = unfold_copy_run(raw, i, end, dst + o);
        uint8_t c;

        o += j - i;
        i = j;
        if (j == end && j < n && unfold_class[raw[j]] == MIME_UB_COPY) {
            /* The '=' of "=?" is in the run and its '?' stops it: seen
             * when that '=' is the first byte past max. */
            if (raw[j] == '=' && j + 1 < n && raw[j + 1] == '?') {
                is_marked = true;
            }
            *is_cut = true;
            break;
        }
        if (i >= n) {
            break;
        }
        c = raw[i];
        switch ((enum mime_ubyte)unfold_class[c]) {
        case MIME_UB_DROP:
            /* The whole line break of a fold ("\r\n") at once. */
            do {
                i++;
            } while (i < n && unfold_class[raw[i]] == MIME_UB_DROP);
            continue;
        case MIME_UB_BLANK:
            c = ' ';
            break;
        case MIME_UB_MARK:
            if (c >= 0x80 || (i > 0 && raw[i - 1] == '=')) {
                is_marked = true;
            }
            break;
        case MIME_UB_COPY:
            break;
        }
        if (o >= max) {
            *is_cut = true;
            break;
        }
        dst[o++] = (char)c;
        i++;
    }
    while (o > 0 && mime_is_wsp((uint8_t)dst[o - 1])) {
        o--;
    }
    if (needs_decode != NULL) {
        *needs_decode = is_marked;
    }
    return o;
}

/* ---- parameters (RFC 2045 5.1, RFC 2231) -------------------------- */

/*
 * Value at v[*i] (quoted-string with backslash escapes, or a token up to
 * ';' or a blank) into buf (max bytes).  Advances *i past it.
 */
static size_t
param_value(const char *v, size_t n, size_t *i, char *buf, size_t max,
            bool *is_cut)
{
    size_t k = *i;
    size_t o = 0;

    if (k < n && v[k] == '"') {
        k++;
        while (k < n && v[k] != '"') {
            char c = v[k];
            if (c == '\\' && k + 1 < n) {
                k++;
                c = v[k];
            }
            if (o < max) {
                buf[o++] = c;
            } else {
                *is_cut = true;
            }
            k++;
        }
        if (k < n) {
            k++;
        }
    } else {
        while (k < n && v[k] != ';' && !mime_is_wsp((uint8_t)v[k])) {
            if (o < max) {
                buf[o++] = v[k];
            } else {
                *is_cut = true;
            }
            k++;
        }
    }
    *i = k;
    return o;
}

static void
fname_append(struct mime_fname *fn, const char *s, size_t n, bool is_pct)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (is_pct && c == '%' && i + 2 < n) {
            int hi = mime_hexval((uint8_t)s[i + 1]);
            int lo = mime_hexval((uint8_t)s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (uint8_t)(hi * 16 + lo);
                i += 2;
            }
        }
        if (fn->len < sizeof(fn->buf)) {
            fn->buf[fn->len++] = (char)c;
        }
    }
    fn->has_value = true;
}

/*
 * One name= / filename= parameter.  suffix is what follows the base name:
 * "" (plain), "*" (RFC 2231 single), "*N" or "*N*" (sections).
 */
/* A plain value that lost to another, into *over unless it holds one. */
static void
fname_overridden(struct mime_fname *over, const char *val, size_t val_len)
{
    if (!over->has_value) {
        fname_append(over, val, val_len, false);
    }
}

/*
 * One name= / filename= parameter into fn; a plain value it does not
 * keep (a repeated one, one beside the RFC 2231 form) into *over.
 */
static void
fname_param(struct mime_fname *fn, struct mime_fname *over,
            const char *suffix, size_t suffix_len, const char *val,
            size_t val_len)
{
    bool is_ext = suffix_len > 0 && suffix[suffix_len - 1] == '*';
    bool is_first = suffix_len == 0 || suffix_len == 1 ||
                    (suffix_len >= 2 && suffix[1] == '0' &&
                     (suffix_len == 2 || suffix[2] == '*'));
    bool is_2231 = suffix_len > 0;

    if (!is_2231 && fn->is_2231) {
        fname_overridden(over, val, val_len);
        return; /* the RFC 2231 form wins over the plain one */
    }
    if (is_2231 && !fn->is_2231) {
        if (fn->has_value) {
            fname_overridden(over, fn->buf, fn->len);
        }
        fn->len = 0; /* drop a plain value seen first */
        fn->is_2231 = true;
        fn->cs[0] = '\0';
    } else if (!is_2231 && fn->has_value) {
        fname_overridden(over, val, val_len);
        return; /* first plain value wins */
    }
    if (is_ext && is_first) {
        /* charset'language'pct-encoded */
        const char *q1 = memchr(val, '\'', val_len);
        const char *q2 = q1 == NULL ? NULL
                                    : memchr(q1 + 1, '\'',
                                             val_len - (size_t)(q1 + 1 - val));
        if (q1 != NULL && q2 != NULL) {
            size_t cl = (size_t)(q1 - val);
            if (cl >= sizeof(fn->cs)) {
                cl = 0;
            }
            memcpy(fn->cs, val, cl);
            fn->cs[cl] = '\0';
            val_len -= (size_t)(q2 + 1 - val);
            val = q2 + 1;
        }
    }
    fname_append(fn, val, val_len, is_ext);
}

struct mime_params {
    struct mime_entity *ent;
    bool is_ct; /* Content-Type (else Content-Disposition) */
};

static void
params_parse(struct mime_params *pp, const char *v, size_t n, size_t i)
{
    struct mime_entity *e = pp->ent;

    while (i < n) {
        size_t ns;
        size_t ne;
        char val[MIME_FILENAME_MAX_BYTES];
        size_t vl;
        bool is_cut = false;
        while (i < n && (v[i] == ';' || mime_is_wsp((uint8_t)v[i]))) {
            i++;
        }
        ns = i;
        while (i < n && v[i] != '=' && v[i] != ';') {
            i++;
        }
        ne = i;
        while (ne > ns && mime_is_wsp((uint8_t)v[ne - 1])) {
            ne--;
        }
        if (i >= n || v[i] != '=') {
            continue;
        }
        i++;
        while (i < n && mime_is_wsp((uint8_t)v[i])) {
            i++;
        }
        vl = param_value(v, n, &i, val, sizeof(val), &is_cut);
        {
            const uint8_t *nm = (const uint8_t *)v + ns;
            size_t nn = ne - ns;
            size_t base = 0;
            while (base < nn && nm[base] != '*') {
                base++;
            }
            if (pp->is_ct && ci_eq(nm, nn, "boundary")) {
                size_t bl = vl < MIME_BOUNDARY_MAX ? vl : MIME_BOUNDARY_MAX;
                memcpy(e->boundary, val, bl);
                e->boundary_len = bl;
                e->is_boundary_cut = vl > MIME_BOUNDARY_MAX || is_cut;
            } else if (pp->is_ct && ci_eq(nm, nn, "charset")) {
                size_t cl = vl < MIME_CHARSET_NAME_MAX - 1
                                ? vl
                                : MIME_CHARSET_NAME_MAX - 1;
                for (size_t k = 0; k < cl; k++) {
                    e->charset[k] = (char)mime_lower((uint8_t)val[k]);
                }
                e->charset[cl] = '\0';
            } else if (pp->is_ct && ci_eq(nm, base, "name")) {
                fname_param(&e->ct_name, &e->overridden, v + ns + base,
                            nn - base, val, vl);
            } else if (!pp->is_ct && ci_eq(nm, base, "filename")) {
                fname_param(&e->cd_filename, &e->overridden, v + ns + base,
                            nn - base, val, vl);
            }
        }
    }
}

static void
parse_content_type(struct mime_entity *e, const char *v, size_t n)
{
    struct mime_params pp = {e, true};
    size_t i = 0;
    size_t o = 0;
    bool has_slash = false;

    if (e->has_ctype) {
        return; /* the first Content-Type counts */
    }
    e->has_ctype = true;
    while (i < n && v[i] != ';' && !mime_is_wsp((uint8_t)v[i])) {
        if (o < MIME_CTYPE_MAX - 1) {
            e->ctype[o++] = (char)mime_lower((uint8_t)v[i]);
        }
        has_slash |= v[i] == '/';
        i++;
    }
    e->ctype[o] = '\0';
    /* RFC 2045 5.2: a syntactically invalid type means text/plain. */
    if (!has_slash || e->ctype[0] == '/' || e->ctype[o - 1] == '/') {
        memcpy(e->ctype, "text/plain", sizeof("text/plain"));
    }
    params_parse(&pp, v, n, i);
}

static void
parse_cte(struct mime_entity *e, const char *v, size_t n)
{
    if (e->has_cte) {
        return;
    }
    e->has_cte = true;
    if (ci_prefix((const uint8_t *)v, n, "base64")) {
        e->cte = MIME_CTE_BASE64;
    } else if (ci_prefix((const uint8_t *)v, n, "quoted-printable")) {
        e->cte = MIME_CTE_QP;
    } else if (ci_prefix((const uint8_t *)v, n, "x-uuencode") ||
               ci_prefix((const uint8_t *)v, n, "x-uue") ||
               ci_prefix((const uint8_t *)v, n, "uuencode")) {
        e->cte = MIME_CTE_UU;
    } else {
        e->cte = MIME_CTE_IDENTITY;
    }
}

static void
parse_disposition(struct mime_entity *e, const char *v, size_t n)
{
    struct mime_params pp = {e, false};
    size_t i = 0;

    if (e->has_disp) {
        return;
    }
    e->has_disp = true;
    while (i < n && v[i] != ';' && !mime_is_wsp((uint8_t)v[i])) {
        i++;
    }
    if (ci_eq((const uint8_t *)v, i, "attachment")) {
        e->disp = MIME_DISP_ATTACHMENT;
    } else if (ci_eq((const uint8_t *)v, i, "inline")) {
        e->disp = MIME_DISP_INLINE;
    }
    params_parse(&pp, v, n, i);
}

/* Interpret a Content-* field of any entity from its unfolded value. */
static void
interpret(struct mime_entity *e, const struct mime_field *f, const char *v,
          size_t n)
{
    if (f->name_len < 12 ||
        !NAME_HAS_PREFIX(f->name, f->name_len, "content-")) {
        return;
    }
    if (NAME_IS(f->name, f->name_len, "content-type")) {
        parse_content_type(e, v, n);
    } else if (NAME_IS(f->name, f->name_len, "content-transfer-encoding")) {
        parse_cte(e, v, n);
    } else if (NAME_IS(f->name, f->name_len, "content-disposition")) {
        parse_disposition(e, v, n);
    }
}

static void
map_hdr_flags(struct mime_state *st, unsigned hf)
{
    if (hf & MIME_HDR_ENCODED_WORDS) {
        st->doc->flags |= MIME_ENCODED_WORDS;
    }
    if (hf & MIME_HDR_RAW_8BIT) {
        st->doc->flags |= MIME_RAW_8BIT_HEADERS;
    }
    if (hf & MIME_HDR_UNKNOWN_CHARSET) {
        st->doc->flags |= MIME_UNKNOWN_CHARSET;
    }
    if (hf & MIME_HDR_BAD_BYTES) {
        st->doc->flags |= MIME_BAD_CHARSET_BYTES;
    }
    if (hf & MIME_HDR_BAD_B64) {
        st->doc->flags |= MIME_BAD_BASE64;
    }
    if (hf & MIME_HDR_BAD_QP) {
        st->doc->flags |= MIME_BAD_QP;
    }
}

/* Cut (v, n) to at most max bytes of whole UTF-8 characters and
 * terminate it there; returns the new length. */
static size_t
utf8_cut(char *v, size_t n, size_t max)
{
    if (n > max) {
        n = max;
        while (n > 0 && ((uint8_t)v[n] & 0xC0) == 0x80) {
            n--;
        }
        v[n] = '\0';
    }
    return n;
}

/* Keep one top-level field; returns its unfolded (undecoded) value for
 * interpretation, or NULL when it was not kept whole (the caller then
 * reads a Content-* field itself). */
static const char *
keep_header(struct mime_state *st, const struct mime_field *f, size_t *vlen)
{
    struct mime_doc *doc = st->doc;
    struct mime_header *arr;
    struct mime_header *h;
    size_t nl = f->name_len;
    size_t cap = f->raw_len;
    size_t room = MIME_HEADERS_TOTAL_BYTES - st->headers_bytes;
    char *mem;
    char *val;
    size_t ulen;
    bool is_cut = false;
    bool needs_decode = false;
    bool is_total_cut = false;

    if (nl > MIME_HEADER_MAX_BYTES) {
        nl = MIME_HEADER_MAX_BYTES;
        doc->flags |= MIME_HEADERS_CAPPED;
    }
    /* The total must include this field (tested only before it, one
     * field took it up to 32 KB past MIME_HEADERS_TOTAL_BYTES).  The field
     * that reaches the cap is cut to the room left and none after it is
     * kept, so the kept fields stay the start of the block. */
    if (doc->n_headers >= MIME_MAX_HEADERS || nl >= room) {
        doc->flags |= MIME_HEADERS_CAPPED;
        st->headers_bytes = MIME_HEADERS_TOTAL_BYTES;
        return NULL;
    }
    room -= nl;
    if (cap > MIME_HEADER_MAX_BYTES) {
        cap = MIME_HEADER_MAX_BYTES;
    }
    if (cap > room) {
        cap = room;
    }
    arr = array_room(st, doc->headers, doc->n_headers, &st->headers_cap,
                     sizeof(*arr), MIME_MAX_HEADERS);
    if (arr == NULL) {
        return NULL;
    }
    doc->headers = arr;
    mem = arena_alloc(st->a, nl + cap + 2);
    if (mem == NULL) {
        arena_full(st);
        return NULL;
    }
    memcpy(mem, f->name, nl);
    mem[nl] = '\0';
    val = mem + nl + 1;
    ulen = unfold(f->raw, f->raw_len, val, cap, &is_cut, &needs_decode);
    val[ulen] = '\0';
    if (is_cut) {
        doc->flags |= MIME_HEADERS_CAPPED;
        is_total_cut = cap == room;
    }
    h = &arr[doc->n_headers];
    h->name = mem;
    h->name_len = nl;
    h->value = val;
    h->value_len = ulen;
    h->raw_value = val;
    h->raw_value_len = ulen;
    if (needs_decode) {
        unsigned hf = 0;
        size_t dl = 0;
        char *d = mime_rfc2047_decode(st->a, &st->cc, val, ulen, &dl, &hf);
        if (d == NULL) {
            arena_full(st);
        } else {
            /* Decoding can lengthen a value (a byte of a legacy charset
             * is up to three of UTF-8), and the decoded one is kept. */
            if (dl > room) {
                dl = utf8_cut(d, dl, room);
                doc->flags |= MIME_HEADERS_CAPPED;
                is_total_cut = true;
            }
            h->value = d;
            h->value_len = dl;
            map_hdr_flags(st, hf);
        }
    }
    if (doc->subject == mime_empty &&
        NAME_IS(f->name, f->name_len, "subject")) {
        doc->subject = h->value;
    }
    doc->n_headers++;
    st->headers_bytes += nl + h->value_len;
    if (is_total_cut) {
        st->headers_bytes = MIME_HEADERS_TOTAL_BYTES;
        return NULL;
    }
    *vlen = ulen;
    return val;
}

static void
entity_init(struct mime_entity *e)
{
    e->ctype[0] = '\0';
    e->has_ctype = false;
    e->charset[0] = '\0';
    e->boundary_len = 0;
    e->is_boundary_cut = false;
    e->cte = MIME_CTE_IDENTITY;
    e->has_cte = false;
    e->disp = MIME_DISP_NONE;
    e->has_disp = false;
    e->ct_name.len = 0;
    e->ct_name.has_value = false;
    e->ct_name.is_2231 = false;
    e->ct_name.cs[0] = '\0';
    e->cd_filename.len = 0;
    e->cd_filename.has_value = false;
    e->cd_filename.is_2231 = false;
    e->cd_filename.cs[0] = '\0';
    e->overridden.len = 0;
    e->overridden.has_value = false;
    e->overridden.is_2231 = false;
    e->overridden.cs[0] = '\0';
}

static bool match_line(const struct mime_state *st, size_t k,
                       struct mime_bmatch *m);

/* Is the field f at pos a delimiter line of an open frame?  A boundary
 * may hold a ':' (Yahoo's "0-123=:45"), so its delimiter right after a
 * part's header lines reads as one more field: the entity ends there. */
static bool
is_delimiter(const struct mime_state *st, const struct mime_field *f,
             size_t pos)
{
    struct mime_bmatch m;

    return st->n_bframes > 0 && f->name_len >= 2 && f->name[1] == '-' &&
           match_line(st, pos, &m);
}

/*
 * Read the header block at pos into *e; returns where the body starts.
 * is_top keeps the fields in doc->headers.  dflt is the default type.
 */
static size_t
read_headers(struct mime_state *st, size_t pos, struct mime_entity *e,
             bool is_top, const char *dflt)
{
    const uint8_t *p = st->p;
    size_t len = st->len;

    entity_init(e);
    if (is_top && len - pos >= 5 && memcmp(p + pos, "From ", 5) == 0) {
        pos = line_end(p, len, pos); /* mbox separator */
        pos = pos < len ? pos + 1 : len;
    }
    for (;;) {
        struct mime_field f;
        size_t next = pos;
        enum mime_field_res r = next_field(p, len, pos, &f, &next);
        const char *v = NULL;
        size_t vl = 0;
        bool is_done = false;
        switch (r) {
        case MIME_FIELD_OK:
            if (f.name[0] == '-' && is_delimiter(st, &f, pos)) {
                is_done = true; /* the body (empty) starts at pos */
                break;
            }
            if (is_top) {
                v = keep_header(st, &f, &vl);
            }
            if (v == NULL && f.name_len >= 12 &&
                NAME_HAS_PREFIX(f.name, f.name_len, "content-")) {
                bool is_cut = false;
                vl = unfold(f.raw, f.raw_len, st->scratch,
                            sizeof(st->scratch), &is_cut, NULL);
                v = st->scratch;
            }
            if (v != NULL) {
                interpret(e, &f, v, vl);
            }
            pos = next;
            break;
        case MIME_FIELD_SKIP:
            pos = next;
            break;
        case MIME_FIELD_END:
            pos = next;
            is_done = true;
            break;
        case MIME_FIELD_BODY:
            is_done = true;
            break;
        case MIME_FIELD_EOF:
            if (is_top) {
                st->doc->flags |= MIME_NO_BODY;
            }
            pos = len;
            is_done = true;
            break;
        }
        if (is_done) {
            break;
        }
    }
    if (!e->has_ctype || e->ctype[0] == '\0') {
        size_t n = strlen(dflt);
        memcpy(e->ctype, dflt, n + 1);
    }
    return pos;
}

/* ---- text and URLs ------------------------------------------------ */

/* Whether url (ulen bytes) is the URL before, prev, up to and including
 * the byte that ended prev's authority: then url_host gives it prev's
 * host and flags (url_host_read), and it need not be parsed (issue #7:
 * links come in runs to one site). */
static bool
same_authority(const struct mime_url *prev, const char *url, size_t ulen)
{
    size_t n = prev->host_read_to;

    return n < prev->url_len && n < ulen && memcmp(url, prev->url, n + 1) == 0;
}

static void
add_url(struct mime_state *st, enum html_link_kind kind, const char *url,
        size_t ulen, const char *anchor, size_t alen)
{
    struct mime_doc *doc = st->doc;
    struct mime_url *arr;
    struct mime_url *u;
    char host[URL_HOST_MAX_BYTES + 1];
    const char *hp = host; /* the host's bytes */
    size_t hl;
    unsigned uf = 0;
    size_t read_to;
    char *mem;
    /* The URL added before this one, and whether this one has its host
     * (set below). */
    const struct mime_url *prev =
        doc->n_urls > 0 ? &doc->urls[doc->n_urls - 1] : NULL;
    bool is_prev_host = false;

    if (doc->n_urls >= MIME_MAX_URLS) {
        doc->flags |= MIME_URLS_CAPPED;
        return;
    }
    {
        /* Callers never pass a NUL (html.c drops control bytes, url_find
         * stops at them); cut there anyway so url stays a C string. */
        const char *z = memchr(url, '\0', ulen);
        if (z != NULL) {
            ulen = (size_t)(z - url);
        }
    }
    /* The host from the whole URL, before the cut below: a userinfo
     * padded past the cap ("https://aaaa...aaaa@evil.example/") would
     * otherwise leave no host for reputation, look-alike and
     * fingerprints to see. */
    if (prev != NULL && same_authority(prev, url, ulen)) {
        hp = prev->host;
        hl = prev->host_len;
        uf = prev->host_flags;
        read_to = prev->host_read_to;
        is_prev_host = true;
    } else {
        hl = url_host_read(url, ulen, host, sizeof(host), &uf, &read_to);
        is_prev_host = prev != NULL && prev->host_len == hl &&
                       memcmp(prev->host, host, hl) == 0;
    }
    if (ulen > MIME_URL_MAX_BYTES) {
        ulen = MIME_URL_MAX_BYTES;
        while (ulen > 0 && ((uint8_t)url[ulen] & 0xC0) == 0x80) {
            ulen--;
        }
    }
    if (alen > MIME_ANCHOR_MAX_BYTES) {
        alen = MIME_ANCHOR_MAX_BYTES;
    }
    arr = array_room(st, doc->urls, doc->n_urls, &st->urls_cap, sizeof(*arr),
                     MIME_MAX_URLS);
    if (arr == NULL) {
        return;
    }
    doc->urls = arr;
    mem = arena_alloc(st->a, ulen + hl + alen + 3);
    if (mem == NULL) {
        arena_full(st);
        return;
    }
    u = &arr[doc->n_urls++];
    memcpy(mem, url, ulen);
    mem[ulen] = '\0';
    u->url = mem;
    u->url_len = ulen;
    mem += ulen + 1;
    memcpy(mem, hp, hl);
    mem[hl] = '\0';
    u->host = mem;
    u->host_len = hl;
    u->host_flags = uf;
    u->host_read_to = read_to;
    u->reg = u->host;
    u->reg_len = 0;
    /* The same host as the URL before (a newsletter's every link) has
     * its registered domain at the same offset, known without the
     * suffix lookup (issue #7). */
    if (hl > 0 && is_prev_host) {
        /* prev as it lies in the array now (array_room may have moved
         * it); is_prev_host says there was one. */
        const struct mime_url *before = &arr[doc->n_urls - 2];

        u->reg = u->host + (before->reg - before->host);
        u->reg_len = before->reg_len;
    } else if (hl > 0) {
        u->reg_len = url_registered_domain(u->host, hl, &u->reg);
    }
    mem += hl + 1;
    if (alen > 0) {
        memcpy(mem, anchor, alen);
    }
    mem[alen] = '\0';
    u->anchor_text = mem;
    u->anchor_len = alen;
    u->is_href = kind == HTML_LINK_HREF;
    u->is_image = kind == HTML_LINK_IMAGE;
    u->is_form = kind == HTML_LINK_FORM || kind == HTML_LINK_FORM_GET;
    u->is_get_form = kind == HTML_LINK_FORM_GET;
}

static void
on_html_link(void *ctx, enum html_link_kind kind, const char *url,
             size_t url_len, const char *anchor, size_t anchor_len)
{
    add_url(ctx, kind, url, url_len, anchor, anchor_len);
}

static void
map_charset_flags(struct mime_state *st, unsigned cf)
{
    if (cf & CHARSET_UNKNOWN) {
        st->doc->flags |= MIME_UNKNOWN_CHARSET;
    }
    if (cf & CHARSET_BAD_BYTES) {
        st->doc->flags |= MIME_BAD_CHARSET_BYTES;
    }
}

/* Separate a new part's text from the previous one; false when full. */
static bool
text_separate(struct mime_state *st)
{
    if (st->text == NULL) {
        return false;
    }
    if (st->text_len > 0 && st->text[st->text_len - 1] != '\n') {
        if (st->text_len >= st->text_max) {
            st->doc->flags |= MIME_TEXT_CAPPED;
            return false;
        }
        st->text[st->text_len++] = '\n';
    }
    if (st->text_len >= st->text_max) {
        st->doc->flags |= MIME_TEXT_CAPPED;
        return false;
    }
    return true;
}

/*
 * "\n" line breaks only, and no NUL inside the C string: CRLF and lone CR
 * become LF, NUL a blank, in place.  Returns the new length.  The runs
 * between those bytes are found with memchr and moved whole.
 */
static size_t
normalize_breaks(char *t, size_t n)
{
    size_t i = 0;
    size_t o = 0;
    const char *cr = memchr(t, '\r', n);
    const char *nul = memchr(t, '\0', n);

    while (i < n) {
        size_t j = n;
        char c;

        if (cr != NULL && (size_t)(cr - t) < i) {
            cr = memchr(t + i, '\r', n - i);
        }
        if (nul != NULL && (size_t)(nul - t) < i) {
            nul = memchr(t + i, '\0', n - i);
        }
        if (cr != NULL) {
            j = (size_t)(cr - t);
        }
        if (nul != NULL && (size_t)(nul - t) < j) {
            j = (size_t)(nul - t);
        }
        if (o != i) {
            memmove(t + o, t + i, j - i);
        }
        o += j - i;
        if (j == n) {
            break;
        }
        c = t[j];
        i = j + 1;
        if (c == '\r' && i < n && t[i] == '\n') {
            continue; /* the LF that follows is kept */
        }
        t[o++] = c == '\r' ? '\n' : ' ';
    }
    return o;
}

static void
add_plain(struct mime_state *st, const char *cs, const uint8_t *data,
          size_t n)
{
    unsigned cf = 0;
    size_t start;
    size_t w;
    size_t pos;
    size_t us;
    size_t ul;

    st->doc->flags |= MIME_HAS_PLAIN;
    if (n == 0 || !text_separate(st)) {
        return;
    }
    start = st->text_len;
    w = charset_to_utf8(&st->cc, cs, strlen(cs), data, n, st->text + start,
                        st->text_max - start, &cf);
    map_charset_flags(st, cf);
    if (cf & CHARSET_OUT_CAPPED) {
        st->doc->flags |= MIME_TEXT_CAPPED;
    }
    st->text_len = start + normalize_breaks(st->text + start, w);
    pos = start;
    while (url_find(st->text, st->text_len, &pos, &us, &ul)) {
        add_url(st, HTML_LINK_OTHER, st->text + us, ul, "", 0);
        if (st->doc->flags & MIME_URLS_CAPPED) {
            break;
        }
    }
}

/* The charset a UTF-8 or UTF-16 byte order mark at data names, or NULL;
 * *skip gets the mark's length. */
static const char *
bom_charset(const uint8_t *data, size_t n, size_t *skip)
{
    if (n >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF) {
        *skip = 3;
        return "utf-8";
    }
    if (n >= 2 && data[0] == 0xFF && data[1] == 0xFE) {
        *skip = 2;
        return "utf-16le";
    }
    if (n >= 2 && data[0] == 0xFE && data[1] == 0xFF) {
        *skip = 2;
        return "utf-16be";
    }
    return NULL;
}

/*
 * The encoding a reader's HTML engine decodes an HTML part with: a byte
 * order mark first (it beats the label, WHATWG Encoding "decode"), then
 * the MIME label, then, with no label, the page's <meta charset> (the
 * prescan).  A part labelled iso-8859-1 holding UTF-16 with a BOM read
 * as "S\0P\0A\0M\0", and a Cyrillic page that names windows-1251 only
 * in its meta read as cp1252 mojibake: words the reader sees that the
 * tokens did not.  *data and *n move past a BOM; meta (of
 * MIME_CHARSET_NAME_MAX bytes) holds a label taken from the page.
 */
static const char *
html_charset(const char *cs, const uint8_t **data, size_t *n, char *meta)
{
    size_t skip = 0;
    const char *bom = bom_charset(*data, *n, &skip);

    if (bom != NULL) {
        *data += skip;
        *n -= skip;
        return bom;
    }
    if (cs[0] == '\0' &&
        html_meta_charset(*data, *n, meta, MIME_CHARSET_NAME_MAX) > 0) {
        return meta;
    }
    return cs;
}

static void
add_html(struct mime_state *st, const char *cs, const uint8_t *data,
         size_t n)
{
    const uint8_t *src;
    size_t src_len;
    unsigned hf = 0;
    char *out = NULL;
    size_t out_max = 0;
    size_t w;
    char meta[MIME_CHARSET_NAME_MAX];

    st->doc->flags |= MIME_HAS_HTML;
    cs = html_charset(cs, &data, &n, meta);
    src = data;
    src_len = n;
    if (!(charset_is_utf8_label(cs, strlen(cs)) &&
          charset_utf8_valid(data, n))) {
        unsigned cf = 0;
        size_t tmax = 3 * n + 4; /* n <= MIME_PART_MAX_BYTES */
        char *tmp = arena_alloc(st->a, tmax);
        if (tmp == NULL) {
            arena_full(st);
            return;
        }
        src_len = charset_to_utf8(&st->cc, cs, strlen(cs), data, n, tmp,
                                  tmax, &cf);
        map_charset_flags(st, cf);
        src = (const uint8_t *)tmp;
    }
    if (text_separate(st)) {
        out = st->text + st->text_len;
        out_max = st->text_max - st->text_len;
    }
    w = html_to_text(src, src_len, out, out_max, on_html_link, st, &hf);
    if (out != NULL) {
        st->text_len += w;
    }
    if (hf & HTML_HIDDEN_TEXT) {
        st->doc->flags |= MIME_HTML_HIDDEN_TEXT;
    }
    if (hf & HTML_HAS_FORM) {
        st->doc->flags |= MIME_HTML_HAS_FORM;
    }
    if (hf & HTML_HAS_PASSWORD) {
        st->doc->flags |= MIME_HTML_HAS_PASSWORD;
    }
    if (hf & HTML_HAS_SCRIPT) {
        st->doc->flags |= MIME_HTML_HAS_SCRIPT;
    }
    if (hf & HTML_HAS_IMAGES) {
        st->doc->flags |= MIME_HTML_HAS_IMAGES;
    }
    if ((hf & HTML_OUT_CAPPED) && out != NULL) {
        st->doc->flags |= MIME_TEXT_CAPPED;
    }
}

/* ---- leaves ------------------------------------------------------- */

/* Decoded filename (RFC 2231 charset or RFC 2047 words) or "". */
static const char *
fname_decode(struct mime_state *st, const struct mime_fname *fn)
{
    char *out;
    size_t n;
    unsigned cf = 0;

    if (!fn->has_value || fn->len == 0) {
        return mime_empty;
    }
    if (fn->is_2231) {
        out = arena_alloc(st->a, 3 * fn->len + 5);
        if (out == NULL) {
            arena_full(st);
            return mime_empty;
        }
        n = charset_to_utf8(&st->cc, fn->cs, strlen(fn->cs),
                            (const uint8_t *)fn->buf, fn->len, out,
                            3 * fn->len + 4, &cf);
        map_charset_flags(st, cf);
        for (size_t i = 0; i < n; i++) {
            if ((uint8_t)out[i] < ' ') {
                out[i] = ' ';
            }
        }
        out[n] = '\0';
        return out;
    }
    {
        unsigned hf = 0;
        out = mime_rfc2047_decode(st->a, &st->cc, fn->buf, fn->len, &n, &hf);
        if (out == NULL) {
            arena_full(st);
            return mime_empty;
        }
        if (hf & MIME_HDR_UNKNOWN_CHARSET) {
            st->doc->flags |= MIME_UNKNOWN_CHARSET;
        }
        return out;
    }
}

/* The part's other name (mime.h other_filename): Content-Type name=
 * when Content-Disposition gave the name kept, else a value another
 * overrode; "" when it is none or reads as the name kept. */
static const char *
other_fname(struct mime_state *st, const struct mime_entity *e,
            const char *kept)
{
    const char *other;

    if (e->cd_filename.has_value && e->ct_name.has_value) {
        other = fname_decode(st, &e->ct_name);
        if (strcmp(other, kept) != 0) {
            return other;
        }
    }
    other = fname_decode(st, &e->overridden);
    return strcmp(other, kept) == 0 ? mime_empty : other;
}

/*
 * Undo the transfer encoding of body (b0, b1) into part->data.  Every
 * part is decoded: inline text for the text view, attachments for the
 * engine (zip member names, attachment digests -- a zip may come labelled
 * image/png).  Checking without storing was measured at 1% of the
 * instructions and would hide attachments from those checks.
 */
/* The name on a uuencoded file's "begin" line, copied into the arena
 * with control bytes as '_' (it reaches the analysis and the logs). */
static const char *
uu_name(struct mime_state *st, const uint8_t *p,
        const struct mime_uu_block *b)
{
    size_t n = b->name_len < MIME_FILENAME_MAX_BYTES - 1
                   ? b->name_len
                   : MIME_FILENAME_MAX_BYTES - 1;
    char *name = arena_alloc(st->a, n + 1);

    if (name == NULL) {
        arena_full(st);
        return mime_empty;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[b->name_at + i];

        name[i] = c < 0x20 || c == 0x7f ? '_' : (char)c;
    }
    name[n] = '\0';
    return name;
}

/* Decode the uuencoded block b of p into part's data (and its name when
 * the headers gave none). */
static void
uu_fill(struct mime_state *st, const uint8_t *p,
        const struct mime_uu_block *b, struct mime_part *part)
{
    size_t len = b->data_end - b->data_at;
    size_t max = len < MIME_PART_MAX_BYTES ? len : MIME_PART_MAX_BYTES;
    uint8_t *buf = arena_alloc(st->a, max > 0 ? max : 1);
    bool is_bad = false;
    bool is_cut = false;

    if (buf == NULL) {
        arena_full(st);
        return;
    }
    part->data = buf;
    part->data_len = mime_uu_decode(p + b->data_at, len, buf, max, &is_bad,
                                    &is_cut);
    if (part->filename[0] == '\0') {
        part->filename = uu_name(st, p, b);
        part->is_attachment = true;
    }
    if (is_cut) {
        st->doc->flags |= MIME_PART_CAPPED;
    }
}

/* An x-uuencode part: its first block decoded into part; false when it
 * has none. */
static bool
uu_decode(struct mime_state *st, const uint8_t *p, size_t n,
          struct mime_part *part)
{
    struct mime_uu_block b;

    if (!mime_uu_find(p, n, 0, &b)) {
        return false;
    }
    uu_fill(st, p, &b, part);
    return true;
}

/* A part for the uuencoded file b inside the text part data, listed as
 * an attachment the way mail clients that decode such blocks show it. */
static void
uu_part(struct mime_state *st, const uint8_t *data,
        const struct mime_uu_block *b, unsigned depth)
{
    struct mime_doc *doc = st->doc;
    struct mime_part *arr;
    struct mime_part *part;

    if (doc->n_parts >= MIME_MAX_PARTS) {
        doc->flags |= MIME_PARTS_CAPPED;
        return;
    }
    if (st->n_atts_decoded >= MIME_MAX_ATTACHMENTS) {
        doc->flags |= MIME_ATTS_CAPPED;
        return;
    }
    arr = array_room(st, doc->parts, doc->n_parts, &st->parts_cap,
                     sizeof(*arr), MIME_MAX_PARTS);
    if (arr == NULL) {
        return;
    }
    doc->parts = arr;
    part = &arr[doc->n_parts];
    memset(part, 0, sizeof(*part));
    part->content_type = "application/octet-stream";
    part->charset = mime_empty;
    part->filename = uu_name(st, data, b);
    part->other_filename = mime_empty;
    part->depth = depth;
    part->is_attachment = true;
    part->disp_attachment = true;
    part->data = (const uint8_t *)mime_empty;
    st->n_atts_decoded++;
    doc->n_parts++;
    uu_fill(st, data, b, part);
}

/* A text/plain part's text, less the uuencoded files in it, which become
 * parts of their own (uu_part).  Text without a "begin" line goes to
 * add_plain whole, as before. */
static void
add_plain_with_files(struct mime_state *st, const char *cs,
                     const uint8_t *data, size_t n, unsigned depth)
{
    struct mime_uu_block b;
    size_t seg = 0;

    while (seg < n && mime_uu_find(data, n, seg, &b)) {
        add_plain(st, cs, data + seg, b.begin_at - seg);
        uu_part(st, data, &b, depth);
        seg = b.end_at;
    }
    add_plain(st, cs, data + seg, n - seg);
}

static void
leaf_decode(struct mime_state *st, const struct mime_entity *e, size_t b0,
            size_t b1, struct mime_part *part)
{
    const uint8_t *raw = st->p + b0;
    size_t n = b1 - b0;
    size_t max;
    uint8_t *buf;
    bool is_bad = false;
    bool is_cut = false;

    switch (e->cte) {
    case MIME_CTE_BASE64:
        max = n / 4 * 3 + 3;
        if (max > MIME_PART_MAX_BYTES) {
            max = MIME_PART_MAX_BYTES;
        }
        buf = arena_alloc(st->a, max);
        if (buf == NULL) {
            arena_full(st);
            return;
        }
        part->data = buf;
        part->data_len = mime_b64_decode(raw, n, buf, max, &is_bad, &is_cut);
        if (is_bad) {
            st->doc->flags |= MIME_BAD_BASE64;
        }
        break;
    case MIME_CTE_QP:
        max = n < MIME_PART_MAX_BYTES ? n : MIME_PART_MAX_BYTES;
        buf = arena_alloc(st->a, max);
        if (buf == NULL) {
            arena_full(st);
            return;
        }
        part->data = buf;
        part->data_len = mime_qp_decode(raw, n, buf, max, false, &is_bad,
                                        &is_cut);
        if (is_bad) {
            st->doc->flags |= MIME_BAD_QP;
        }
        break;
    case MIME_CTE_UU:
        if (uu_decode(st, raw, n, part)) {
            break;
        }
        /* No "begin" line: the body as it is. */
        /* fall through */
    case MIME_CTE_IDENTITY:
        part->data = raw;
        part->data_len = n;
        if (n > MIME_PART_MAX_BYTES) {
            part->data_len = MIME_PART_MAX_BYTES;
            is_cut = true;
        }
        break;
    }
    if (is_cut) {
        st->doc->flags |= MIME_PART_CAPPED;
    }
}

static void
leaf(struct mime_state *st, const struct mime_entity *e, size_t b0, size_t b1,
     unsigned depth)
{
    struct mime_doc *doc = st->doc;
    struct mime_part tmp;
    struct mime_part *part = &tmp;
    struct mime_part *arr;
    bool is_listed = false;
    /* The text view takes inline text only (see leaf_decode). */
    bool is_text_view = e->disp != MIME_DISP_ATTACHMENT &&
                        (strcmp(e->ctype, "text/plain") == 0 ||
                         strcmp(e->ctype, "text/html") == 0);
    const char *fname;
    size_t ctl = strlen(e->ctype);
    size_t csl = strlen(e->charset);
    char *mem;

    if (doc->n_parts >= MIME_MAX_PARTS) {
        doc->flags |= MIME_PARTS_CAPPED;
        st->is_stopped = true;
        return;
    }
    arr = array_room(st, doc->parts, doc->n_parts, &st->parts_cap,
                     sizeof(*arr), MIME_MAX_PARTS);
    if (arr != NULL) {
        doc->parts = arr;
        part = &arr[doc->n_parts];
        is_listed = true;
    }
    memset(part, 0, sizeof(*part));
    part->depth = depth;
    mem = arena_alloc(st->a, ctl + csl + 2);
    if (mem == NULL) {
        arena_full(st);
        part->content_type = "text/plain";
        part->charset = mime_empty;
    } else {
        memcpy(mem, e->ctype, ctl + 1);
        memcpy(mem + ctl + 1, e->charset, csl + 1);
        part->content_type = mem;
        part->charset = mem + ctl + 1;
    }
    fname = fname_decode(st, e->cd_filename.has_value ? &e->cd_filename
                                                      : &e->ct_name);
    part->filename = fname;
    part->other_filename = other_fname(st, e, fname);
    part->disp_attachment = e->disp == MIME_DISP_ATTACHMENT;
    part->is_attachment = part->disp_attachment || fname[0] != '\0';
    if (part->is_attachment && st->n_atts_decoded >= MIME_MAX_ATTACHMENTS) {
        doc->flags |= MIME_ATTS_CAPPED;
    } else {
        if (part->is_attachment) {
            st->n_atts_decoded++;
        }
        leaf_decode(st, e, b0, b1, part);
    }
    if (is_listed) {
        doc->n_parts++;
    }
    if (!is_text_view || part->data == NULL) {
        return;
    }
    if (strcmp(e->ctype, "text/plain") == 0) {
        add_plain_with_files(st, e->charset, part->data, part->data_len,
                             depth);
    } else if (strcmp(e->ctype, "text/html") == 0) {
        add_html(st, e->charset, part->data, part->data_len);
    }
}

/* ---- structure ---------------------------------------------------- */

/* Only transport padding in p[from, to)? */
static bool
is_padding(const uint8_t *p, size_t from, size_t to)
{
    for (size_t t = from; t < to; t++) {
        if (p[t] != ' ' && p[t] != '\t' && p[t] != '\r') {
            return false;
        }
    }
    return true;
}

/*
 * Does the line starting at k ("--" there) delimit an open frame?  The
 * frame whose whole delimiter fits the line wins, innermost first, as in
 * mail clients: when an inner boundary is a prefix of an outer one
 * ("abc", "abc--1"), the outer delimiter line "--abc--1" also starts like
 * the inner close delimiter, and taking it for that would drop the outer
 * part that follows (a part clients show) into the inner epilogue.  A
 * looser match -- a close delimiter with more than padding after its
 * "--", or a boundary known only by its first MIME_BOUNDARY_MAX bytes --
 * is taken only when no frame fits exactly.
 */
static bool
match_line(const struct mime_state *st, size_t k, struct mime_bmatch *m)
{
    const uint8_t *p = st->p;
    size_t len = st->len;
    size_t s = k + 2;
    bool is_found = false;

    for (size_t f = st->n_frames; f > 0; f--) {
        const struct mime_frame *fr = &st->frames[f - 1];
        size_t e;
        size_t next;
        bool is_close;
        bool is_exact;
        if (fr->bnd_len == 0 || len - s < fr->bnd_len ||
            memcmp(p + s, fr->bnd, fr->bnd_len) != 0) {
            continue;
        }
        e = s + fr->bnd_len;
        next = line_end(p, len, e);
        if (fr->is_bnd_cut) {
            /* Only a prefix is known: a close delimiter ends in "--". */
            size_t t = next;
            while (t > e && (p[t - 1] == ' ' || p[t - 1] == '\t' ||
                             p[t - 1] == '\r')) {
                t--;
            }
            is_close = t - e >= 2 && p[t - 2] == '-' && p[t - 1] == '-';
            is_exact = false;
        } else {
            is_close = next - e >= 2 && p[e] == '-' && p[e + 1] == '-';
            is_exact = is_padding(p, is_close ? e + 2 : e, next);
            if (!is_close && !is_exact) {
                continue; /* only transport padding may follow */
            }
        }
        if (is_found && !is_exact) {
            continue;
        }
        m->line_start = k;
        m->next = next < len ? next + 1 : len;
        m->frame = f - 1;
        m->is_close = is_close;
        if (is_exact) {
            return true;
        }
        is_found = true;
    }
    return is_found;
}

/* Next boundary line of any open frame at or after from (a line start). */
static bool
find_boundary(const struct mime_state *st, size_t from, struct mime_bmatch *m)
{
    const uint8_t *p = st->p;
    size_t len = st->len;
    size_t i = from;

    if (st->n_bframes == 0) {
        return false;
    }
    while (i + 1 < len) {
        const uint8_t *q = memchr(p + i, '-', len - i - 1);
        size_t k;
        if (q == NULL) {
            return false;
        }
        k = (size_t)(q - p);
        if (p[k + 1] == '-' && (k == from || p[k - 1] == '\n') &&
            match_line(st, k, m)) {
            return true;
        }
        i = k + 1;
    }
    return false;
}

/* End of a body that is followed by the boundary line at line_start: the
 * line break before the delimiter belongs to it (RFC 2046 5.1.1). */
static size_t
body_end(const uint8_t *p, size_t body_start, size_t line_start)
{
    size_t e = line_start;

    if (e > body_start && p[e - 1] == '\n') {
        e--;
        if (e > body_start && p[e - 1] == '\r') {
            e--;
        }
    }
    return e;
}

/* A child of an alternative ended: keep only the last one with text. */
static void
child_done(struct mime_state *st, struct mime_frame *f)
{
    if (f->is_alt && st->text != NULL &&
        st->text_len == f->child_start + 1 &&
        st->text[f->child_start] == '\n') {
        /* Only text_separate's line break: this child (an image-only
         * HTML part) produced no text, so the one before it stays. */
        st->text_len = f->child_start;
    } else if (f->is_alt && st->text != NULL &&
               st->text_len > f->child_start &&
               f->child_start > f->alt_start) {
        size_t src = f->child_start;
        size_t n;
        size_t dst = f->alt_start;
        if (st->text[src] == '\n') {
            src++;
        }
        n = st->text_len - src;
        if (dst > 0 && st->text[dst - 1] != '\n') {
            st->text[dst++] = '\n';
        }
        memmove(st->text + dst, st->text + src, n);
        st->text_len = dst + n;
    }
    f->child_start = st->text_len;
}

static bool
push_frame(struct mime_state *st, const struct mime_entity *e, bool is_multi)
{
    struct mime_frame *f;

    if (st->n_frames >= MIME_MAX_DEPTH) {
        st->doc->flags |= MIME_DEPTH_CAPPED;
        return false;
    }
    f = &st->frames[st->n_frames++];
    f->bnd_len = 0;
    f->is_bnd_cut = false;
    f->is_alt = false;
    f->is_digest = false;
    f->alt_start = st->text_len;
    f->child_start = st->text_len;
    if (is_multi) {
        memcpy(f->bnd, e->boundary, e->boundary_len);
        f->bnd_len = e->boundary_len;
        f->is_bnd_cut = e->is_boundary_cut;
        f->is_alt = strcmp(e->ctype, "multipart/alternative") == 0;
        f->is_digest = strcmp(e->ctype, "multipart/digest") == 0;
        st->n_bframes++;
        st->doc->n_multiparts++;
    }
    return true;
}

/* Pop frames down to (not including) index keep. */
static void
pop_frames(struct mime_state *st, size_t keep, bool is_orderly)
{
    while (st->n_frames > keep) {
        struct mime_frame *f = &st->frames[st->n_frames - 1];
        child_done(st, f);
        if (f->bnd_len > 0) {
            st->n_bframes--;
            if (!is_orderly) {
                st->doc->flags |= MIME_NO_CLOSING_BOUNDARY;
            }
        }
        st->n_frames--;
        is_orderly = false; /* only the matched frame closes properly */
    }
}

/*
 * Act on a boundary line: close what it ends, and either start the next
 * child (return true with *pos at its header block and *depth set) or
 * reach the end of the input (false).
 */
static bool
on_boundary(struct mime_state *st, struct mime_bmatch *m, size_t *pos,
            unsigned *depth, const char **dflt)
{
    for (;;) {
        struct mime_frame *f;
        pop_frames(st, m->frame + 1, false);
        f = &st->frames[m->frame];
        if (!m->is_close) {
            child_done(st, f);
            *pos = m->next;
            *depth = (unsigned)m->frame + 1;
            *dflt = f->is_digest ? "message/rfc822" : "text/plain";
            return true;
        }
        pop_frames(st, m->frame, true);
        /* Epilogue: skip to the next boundary of an outer frame. */
        if (!find_boundary(st, m->next, m)) {
            return false;
        }
    }
}

static bool
is_multipart(const struct mime_entity *e)
{
    return strncmp(e->ctype, "multipart/", 10) == 0 && e->boundary_len > 0;
}

static bool
is_message(const struct mime_entity *e)
{
    return (strcmp(e->ctype, "message/rfc822") == 0 ||
            strcmp(e->ctype, "message/global") == 0) &&
           e->cte == MIME_CTE_IDENTITY;
}

static void
parse_body(struct mime_state *st, struct mime_entity *e, size_t pos)
{
    unsigned depth = 0;
    const char *dflt = "text/plain";
    struct mime_bmatch m;

    while (!st->is_stopped) {
        bool has_match;
        if (depth > st->doc->max_depth) {
            st->doc->max_depth = depth;
        }
        if (is_multipart(e) && push_frame(st, e, true)) {
            has_match = find_boundary(st, pos, &m);
            if (has_match && m.frame == st->n_frames - 1) {
                if (!on_boundary(st, &m, &pos, &depth, &dflt)) {
                    break;
                }
                pos = read_headers(st, pos, e, false, dflt);
                continue;
            }
            /* Its boundary never appears: read the body as text. */
            st->n_frames--;
            st->n_bframes--;
            st->doc->n_multiparts--;
            st->doc->flags |= MIME_NO_CLOSING_BOUNDARY;
            memcpy(e->ctype, "text/plain", sizeof("text/plain"));
        } else if (is_message(e) && push_frame(st, e, false)) {
            depth++;
            pos = read_headers(st, pos, e, false, "text/plain");
            continue;
        }
        if (e->boundary_len == 0 && strncmp(e->ctype, "multipart/", 10) == 0) {
            /* No boundary to split on: read the body as text, as above. */
            st->doc->flags |= MIME_NO_CLOSING_BOUNDARY;
            memcpy(e->ctype, "text/plain", sizeof("text/plain"));
        }
        has_match = find_boundary(st, pos, &m);
        leaf(st, e, pos, has_match ? body_end(st->p, pos, m.line_start)
                                   : st->len, depth);
        if (!has_match || st->is_stopped) {
            break;
        }
        if (!on_boundary(st, &m, &pos, &depth, &dflt)) {
            break;
        }
        pos = read_headers(st, pos, e, false, dflt);
    }
    pop_frames(st, 0, false);
}

/* ---- header name index ------------------------------------------- */

#define MIME_NAME_SLOTS (2u * MIME_MAX_HEADERS)
_Static_assert((MIME_NAME_SLOTS & (MIME_NAME_SLOTS - 1u)) == 0,
               "the name slots are a power of two");
_Static_assert(MIME_MAX_HEADERS < UINT16_MAX, "1 + an index fits 16 bits");

/*
 * Whether the n >= 4 bytes at a and at b are the same, in words: whole
 * ones, the last overlapping the one before, or two overlapping halves
 * under eight bytes.  Reads only the n bytes.
 */
static bool
same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n < 8) {
        return byteorder_le32(a) == byteorder_le32(b) &&
               byteorder_le32(a + n - 4) == byteorder_le32(b + n - 4);
    }
    for (size_t k = 0; n - k > 8; k += 8) {
        if (byteorder_le64(a + k) != byteorder_le64(b + k)) {
            return false;
        }
    }
    return byteorder_le64(a + n - 8) == byteorder_le64(b + n - 8);
}

/* Whether header h is named (name, nl), ASCII case-insensitive. */
static bool
same_name(const struct mime_header *h, const char *name, size_t nl)
{
    if (h->name_len != nl) {
        return false;
    }
    /* Mail mostly writes a field name as callers spell it: the bytes
     * agree, compared a word at a time (issue #7), and folding is only
     * for the rest. */
    if (nl >= 4 && same_bytes((const uint8_t *)h->name,
                              (const uint8_t *)name, nl)) {
        return true;
    }
    for (size_t k = 0; k < nl; k++) {
        uint8_t a = (uint8_t)h->name[k];
        uint8_t b = (uint8_t)name[k];

        if (a != b && mime_lower(a) != mime_lower(b)) {
            return false;
        }
    }
    return true;
}

/* Home slot of a name (nl > 0): its length and its first and last
 * bytes, case-folded -- cheap for the literal names the lookups pass,
 * and enough to spread a header block (collisions are compared). */
static size_t
name_slot(const char *name, size_t nl)
{
    size_t h = nl * 0x9e37u + mime_lower((uint8_t)name[0]) * 31u +
               mime_lower((uint8_t)name[nl - 1]);

    return h & (MIME_NAME_SLOTS - 1u);
}

/* The first header named (name, nl > 0) through the index: *at. */
static bool
find_name(const struct mime_doc *doc, const char *name, size_t nl,
          size_t *at)
{
    size_t s = name_slot(name, nl);

    /* At most MIME_MAX_HEADERS slots are taken: a free one ends it. */
    while (doc->name_slots[s] != 0) {
        size_t i = doc->name_slots[s] - 1u;

        if (same_name(&doc->headers[i], name, nl)) {
            *at = i;
            return true;
        }
        s = (s + 1u) & (MIME_NAME_SLOTS - 1u);
    }
    return false;
}

/*
 * Index the top-level header names (see struct mime_doc): lookups were
 * a scan of the whole block each, about 25 per message from features
 * and rules (issue #7).  Without room in the arena the index is left
 * out.
 */
static void
index_headers(struct mime_state *st)
{
    struct mime_doc *doc = st->doc;
    uint16_t last[MIME_NAME_SLOTS]; /* chain tail of each used slot */
    uint16_t *slots;
    uint16_t *next;

    for (size_t i = 0; i < doc->n_headers; i++) {
        if (doc->headers[i].name_len == 0) {
            return; /* no field has an empty name; scan if one did */
        }
    }
    if (doc->n_headers == 0) {
        return;
    }
    slots = arena_calloc(st->a, MIME_NAME_SLOTS, sizeof(*slots));
    next = arena_calloc(st->a, doc->n_headers, sizeof(*next));
    if (slots == NULL || next == NULL) {
        return;
    }
    for (size_t i = 0; i < doc->n_headers; i++) {
        const struct mime_header *h = &doc->headers[i];
        size_t s = name_slot(h->name, h->name_len);

        while (slots[s] != 0 && !same_name(&doc->headers[slots[s] - 1u],
                                           h->name, h->name_len)) {
            s = (s + 1u) & (MIME_NAME_SLOTS - 1u);
        }
        if (slots[s] == 0) {
            slots[s] = (uint16_t)(i + 1u);
        } else {
            next[last[s]] = (uint16_t)(i + 1u);
        }
        last[s] = (uint16_t)i;
    }
    doc->name_slots = slots;
    doc->next_same = next;
}

enum cm_err
mime_parse(struct arena *a, const uint8_t *p, size_t len, struct mime_doc *out)
{
    struct mime_state st;
    struct mime_entity ent;
    size_t pos;

    memset(out, 0, sizeof(*out));
    out->subject = mime_empty;
    out->text = mime_empty;
    if (p == NULL) {
        len = 0;
        p = (const uint8_t *)mime_empty;
    }
    st.a = a;
    st.p = p;
    st.len = len;
    st.doc = out;
    charset_cache_init(&st.cc);
    st.n_frames = 0;
    st.n_bframes = 0;
    st.text_len = 0;
    st.text_max = len < (MIME_TEXT_MAX_BYTES - 64) / 3 ? 3 * len + 64
                                                       : MIME_TEXT_MAX_BYTES;
    st.parts_cap = 0;
    st.urls_cap = 0;
    st.headers_cap = 0;
    st.headers_bytes = 0;
    st.n_atts_decoded = 0;
    st.is_stopped = false;
    st.text = arena_alloc(a, st.text_max + 1);
    if (st.text == NULL) {
        arena_full(&st);
    }
    pos = read_headers(&st, 0, &ent, true, "text/plain");
    parse_body(&st, &ent, pos);
    if (st.text != NULL) {
        st.text[st.text_len] = '\0';
        out->text = st.text;
        out->text_len = st.text_len;
    }
    /* Last: the index is the arena's last allocation, so when it does
     * not fit, nothing else lost room to it (lookups then scan). */
    index_headers(&st);
    charset_cache_clear(&st.cc);
    return CM_OK;
}

const struct mime_header *
mime_header_next_n(const struct mime_doc *doc, const struct mime_header *prev,
                   const char *name, size_t nl)
{
    size_t i = prev == NULL ? 0 : (size_t)(prev - doc->headers) + 1;

    if (doc->name_slots != NULL && doc->next_same != NULL) {
        size_t at;

        if (prev == NULL) {
            return nl > 0 && find_name(doc, name, nl, &at) ? &doc->headers[at]
                                                           : NULL;
        }
        if (same_name(prev, name, nl)) {
            at = doc->next_same[i - 1];
            return at != 0 ? &doc->headers[at - 1] : NULL;
        }
    }
    for (; i < doc->n_headers; i++) {
        if (same_name(&doc->headers[i], name, nl)) {
            return &doc->headers[i];
        }
    }
    return NULL;
}

/* See mime.h.  The raw value only when it holds an address: a broken
 * sender that encoded its whole From ("=?utf-8?b?...?=" for "Ann
 * <ann@example.org>") is read as before, from the decoded one. */
void
mime_header_addr_text(const struct mime_header *h, const char **v,
                      size_t *len)
{
    *v = h->value;
    *len = h->value_len;
    if (h->raw_value != NULL &&
        memchr(h->raw_value, '@', h->raw_value_len) != NULL) {
        *v = h->raw_value;
        *len = h->raw_value_len;
    }
}
