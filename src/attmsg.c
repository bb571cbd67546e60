/*
 * attmsg.c -- the messages attached to a mail (see attmsg.h).
 *
 * DESIGN
 * - Entities are byte ranges of the mail.  A fixed work queue
 *   (CAPS_ATTMSG_PARTS_MAX ranges, on the stack) holds the ones still to
 *   look at, the mail itself first; each is read once: its header block
 *   (only Content-Type, Content-Transfer-Encoding and Content-Disposition
 *   are interpreted), then either reported (an attached message), split
 *   (a multipart: each part between two delimiter lines becomes a range
 *   one level deeper) or ignored (any other leaf).  No recursion; a
 *   multipart at CAPS_ATTMSG_DEPTH_MAX is not split.
 * - A part's range ends before the line break that precedes the next
 *   delimiter (RFC 2046 5.1.1: that break belongs to the delimiter), so
 *   an identity attachment is exactly the bytes the sender attached.
 *   Delimiter lines are "--" boundary, optionally "--", then only white
 *   space: a line that merely starts with the boundary is body text.
 * - A multipart whose close delimiter never comes (a cut mail) still
 *   yields its parts; the last one is marked is_last_of_open so the
 *   caller can refuse a message that may be truncated.
 * State: the queue and one header-field buffer on the caller's stack.
 * RFC 2045, 2046 (5.1, 5.2.1), 2183, 2231 (names are only matched by
 * their ".eml" ending, so continuations and charsets need no decoding).
 */
#include "attmsg.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"

/* Content-Type type/subtype kept (longer ones are no type we act on). */
#define ATTMSG_CTYPE_MAX 64u
/* Base64 fed to OpenSSL per call: its lengths are int. */
#define ATTMSG_B64_CHUNK (1u << 20)

struct range {
    size_t start;
    size_t end;
    unsigned depth;
    bool is_digest_child; /* default type message/rfc822 (RFC 2046 5.1.5) */
    bool is_last_of_open;
};

enum field_kind {
    FIELD_OTHER,
    FIELD_CTYPE,
    FIELD_CTE,
    FIELD_DISP
};

/* What an entity's header block says about its body. */
struct entity {
    char ctype[ATTMSG_CTYPE_MAX];
    uint8_t boundary[CAPS_ATTMSG_BOUNDARY_MAX];
    size_t boundary_len;
    enum attmsg_encoding encoding;
    bool has_eml_name;
    size_t body; /* offset of the first body byte */
};

/* One header field being collected (unfolded, cut at the cap). */
struct field {
    enum field_kind kind;
    char v[CAPS_ATTMSG_FIELD_MAX_BYTES];
    size_t len;
};

static char
lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool
is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static bool
eq_nocase(const char *a, size_t a_len, const char *b)
{
    size_t b_len = strlen(b);

    if (a_len != b_len) {
        return false;
    }
    for (size_t i = 0; i < a_len; i++) {
        if (lower(a[i]) != b[i]) {
            return false;
        }
    }
    return true;
}

static bool
starts_nocase(const char *a, size_t a_len, const char *prefix)
{
    size_t n = strlen(prefix);

    return a_len >= n && eq_nocase(a, n, prefix);
}

static bool
ends_with_eml(const char *v, size_t len)
{
    return len > 4 && eq_nocase(v + len - 4, 4, ".eml");
}

static size_t
skip_wsp(const char *v, size_t n, size_t i)
{
    while (i < n && is_wsp(v[i])) {
        i++;
    }
    return i;
}

/* One parameter (name, value) of a Content-Type or -Disposition field. */
static void
take_param(struct entity *e, enum field_kind kind, const char *name,
           size_t name_len, const char *val, size_t val_len)
{
    if (kind == FIELD_CTYPE && eq_nocase(name, name_len, "boundary")) {
        e->boundary_len = 0;
        if (val_len > 0 && val_len <= CAPS_ATTMSG_BOUNDARY_MAX) {
            memcpy(e->boundary, val, val_len);
            e->boundary_len = val_len;
        }
        return;
    }
    /* name=, name*=, name*0=; filename=, filename*=, filename*1*= ... */
    if ((kind == FIELD_CTYPE && starts_nocase(name, name_len, "name")) ||
        (kind == FIELD_DISP && starts_nocase(name, name_len, "filename"))) {
        e->has_eml_name |= ends_with_eml(val, val_len);
    }
}

/* The ";"-separated parameters of v[i..n): name=token or name="quoted". */
static void
parse_params(struct entity *e, enum field_kind kind, const char *v, size_t n,
             size_t i)
{
    char val[CAPS_ATTMSG_FIELD_MAX_BYTES];

    while (i < n) {
        size_t ns;
        size_t ne;
        size_t vl = 0;

        if (v[i] != ';') {
            i++;
            continue;
        }
        i = skip_wsp(v, n, i + 1);
        ns = i;
        while (i < n && v[i] != '=' && v[i] != ';' && !is_wsp(v[i])) {
            i++;
        }
        ne = i;
        i = skip_wsp(v, n, i);
        if (i >= n || v[i] != '=') {
            continue;
        }
        i = skip_wsp(v, n, i + 1);
        if (i < n && v[i] == '"') {
            i++;
            while (i < n && v[i] != '"') {
                if (v[i] == '\\' && i + 1 < n) {
                    i++;
                }
                val[vl++] = v[i++];
            }
            i += i < n; /* the closing quote */
        } else {
            while (i < n && v[i] != ';' && !is_wsp(v[i])) {
                val[vl++] = v[i++];
            }
        }
        take_param(e, kind, v + ns, ne - ns, val, vl);
    }
}

static void
field_done(struct entity *e, const struct field *f)
{
    size_t i = skip_wsp(f->v, f->len, 0);
    size_t s = i;

    if (f->kind == FIELD_OTHER) {
        return;
    }
    while (i < f->len && f->v[i] != ';' && !is_wsp(f->v[i])) {
        i++;
    }
    if (f->kind == FIELD_CTE) {
        if (eq_nocase(f->v + s, i - s, "base64")) {
            e->encoding = ATTMSG_BASE64;
        } else if (eq_nocase(f->v + s, i - s, "quoted-printable")) {
            e->encoding = ATTMSG_QP;
        } else if (i == s || eq_nocase(f->v + s, i - s, "7bit") ||
                   eq_nocase(f->v + s, i - s, "8bit") ||
                   eq_nocase(f->v + s, i - s, "binary")) {
            e->encoding = ATTMSG_IDENTITY;
        } else {
            /* x-uuencode, x-gzip64 ...: the bytes on the wire are not
             * the message (RFC 2045 6.4: treat it as opaque data). */
            e->encoding = ATTMSG_OTHER;
        }
        return;
    }
    if (f->kind == FIELD_CTYPE) {
        size_t k = 0;

        e->ctype[0] = '\0';
        if (i - s < sizeof(e->ctype)) {
            for (; k < i - s; k++) {
                e->ctype[k] = lower(f->v[s + k]);
            }
            e->ctype[k] = '\0';
        }
    }
    parse_params(e, f->kind, f->v, f->len, i);
}

static void
field_add(struct field *f, const uint8_t *p, size_t len)
{
    size_t room = sizeof(f->v) - f->len;

    if (len > room) {
        len = room;
    }
    memcpy(f->v + f->len, p, len);
    f->len += len;
}

static enum field_kind
field_kind_of(const uint8_t *name, size_t len)
{
    const char *n = (const char *)name;

    if (eq_nocase(n, len, "content-type")) {
        return FIELD_CTYPE;
    }
    if (eq_nocase(n, len, "content-transfer-encoding")) {
        return FIELD_CTE;
    }
    if (eq_nocase(n, len, "content-disposition")) {
        return FIELD_DISP;
    }
    return FIELD_OTHER;
}

/*
 * Read the header block of r into *e.  The block ends at an empty line,
 * at a line that is no header field (the body starts at it), or at the
 * range's end; past CAPS_ATTMSG_HEADER_MAX_BYTES the entity has no body.
 */
static void
read_headers(const uint8_t *p, const struct range *r, struct entity *e,
             unsigned *flags)
{
    struct field f;
    size_t pos = r->start;

    memset(e, 0, sizeof(*e));
    memcpy(e->ctype, r->is_digest_child ? "message/rfc822" : "text/plain",
           r->is_digest_child ? sizeof("message/rfc822")
                              : sizeof("text/plain"));
    f.kind = FIELD_OTHER;
    f.len = 0;
    e->body = r->end;
    while (pos < r->end) {
        const uint8_t *lf = memchr(p + pos, '\n', r->end - pos);
        size_t le = lf != NULL ? (size_t)(lf - p) : r->end;
        size_t next = lf != NULL ? le + 1 : r->end;
        size_t cl = le - pos;
        const uint8_t *colon;

        if (cl > 0 && p[pos + cl - 1] == '\r') {
            cl--;
        }
        if (cl == 0) {
            e->body = next;
            break;
        }
        if (pos - r->start >= CAPS_ATTMSG_HEADER_MAX_BYTES) {
            *flags |= ATTMSG_HEADERS_CAPPED;
            break;
        }
        if (is_wsp((char)p[pos])) {
            if (f.kind != FIELD_OTHER) {
                field_add(&f, p + pos, cl); /* unfolding keeps the WSP */
            }
            pos = next;
            continue;
        }
        colon = memchr(p + pos, ':', cl);
        if (colon == NULL) {
            e->body = pos;
            break;
        }
        field_done(e, &f);
        f.kind = field_kind_of(p + pos, (size_t)(colon - (p + pos)));
        f.len = 0;
        if (f.kind != FIELD_OTHER) {
            field_add(&f, colon + 1, cl - (size_t)(colon + 1 - (p + pos)));
        }
        pos = next;
    }
    field_done(e, &f);
}

static bool
is_multipart(const struct entity *e)
{
    return strncmp(e->ctype, "multipart/", 10) == 0 && e->boundary_len > 0;
}

static bool
is_attached_message(const struct entity *e)
{
    return strcmp(e->ctype, "message/rfc822") == 0 ||
           strcmp(e->ctype, "message/global") == 0 ||
           (e->has_eml_name && strncmp(e->ctype, "multipart/", 10) != 0);
}

struct delim {
    size_t line_start;
    size_t next; /* first byte after the delimiter line */
    bool is_close;
};

/* The first delimiter line of boundary b at a line start in [pos, end);
 * pos must be a line start. */
static bool
find_delim(const uint8_t *p, size_t pos, size_t end, const uint8_t *b,
           size_t b_len, struct delim *d)
{
    while (pos < end) {
        const uint8_t *lf;

        if (end - pos >= 2 + b_len && p[pos] == '-' && p[pos + 1] == '-' &&
            memcmp(p + pos + 2, b, b_len) == 0) {
            size_t k = pos + 2 + b_len;
            bool is_close = end - k >= 2 && p[k] == '-' && p[k + 1] == '-';

            k += is_close ? 2 : 0;
            while (k < end && (is_wsp((char)p[k]) || p[k] == '\r')) {
                k++;
            }
            if (k == end || p[k] == '\n') {
                d->line_start = pos;
                d->next = k < end ? k + 1 : end;
                d->is_close = is_close;
                return true;
            }
        }
        lf = memchr(p + pos, '\n', end - pos);
        if (lf == NULL) {
            return false;
        }
        pos = (size_t)(lf - p) + 1;
    }
    return false;
}

struct queue {
    struct range r[CAPS_ATTMSG_PARTS_MAX];
    size_t head;
    size_t tail;
};

static bool
enqueue(struct queue *q, const struct range *r, unsigned *flags)
{
    if (q->tail >= CAPS_ATTMSG_PARTS_MAX) {
        *flags |= ATTMSG_PARTS_CAPPED;
        return false;
    }
    q->r[q->tail++] = *r;
    return true;
}

/* The parts of multipart e (range r) onto the queue, one level deeper. */
static void
split(const uint8_t *p, const struct range *r, const struct entity *e,
      struct queue *q, unsigned *flags)
{
    struct delim d;
    struct range child;
    bool is_digest = strcmp(e->ctype, "multipart/digest") == 0;

    if (!find_delim(p, e->body, r->end, e->boundary, e->boundary_len, &d)) {
        *flags |= ATTMSG_NO_CLOSE; /* its boundary never appears */
        return;
    }
    child.depth = r->depth + 1;
    child.is_digest_child = is_digest;
    while (!d.is_close) {
        child.start = d.next;
        if (!find_delim(p, d.next, r->end, e->boundary, e->boundary_len,
                        &d)) {
            child.end = r->end;
            child.is_last_of_open = true;
            *flags |= ATTMSG_NO_CLOSE;
            (void)enqueue(q, &child, flags);
            return;
        }
        /* The line break before a delimiter belongs to the delimiter. */
        child.end = d.line_start;
        if (child.end > child.start && p[child.end - 1] == '\n') {
            child.end--;
        }
        if (child.end > child.start && p[child.end - 1] == '\r') {
            child.end--;
        }
        child.is_last_of_open = false;
        if (!enqueue(q, &child, flags)) {
            return;
        }
    }
}

void
attmsg_find(const uint8_t *p, size_t len, struct attmsg_result *out)
{
    struct queue q;
    struct range top = {0, len, 0, false, false};

    memset(out, 0, sizeof(*out));
    if (p == NULL) {
        return;
    }
    q.head = 0;
    q.tail = 0;
    (void)enqueue(&q, &top, &out->flags);
    while (q.head < q.tail) {
        const struct range r = q.r[q.head++];
        struct entity e;

        out->n_parts++;
        read_headers(p, &r, &e, &out->flags);
        if (is_attached_message(&e)) {
            struct attmsg_span *s = &out->spans[out->n];

            if (out->n >= CAPS_ATTMSG_MAX) {
                out->flags |= ATTMSG_COUNT_CAPPED;
                break;
            }
            s->off = e.body;
            s->len = r.end - e.body;
            s->encoding = e.encoding;
            s->is_last_of_open = r.is_last_of_open;
            out->n++;
        } else if (is_multipart(&e)) {
            if (r.depth >= CAPS_ATTMSG_DEPTH_MAX) {
                out->flags |= ATTMSG_DEPTH_CAPPED;
                continue;
            }
            split(p, &r, &e, &q, &out->flags);
        }
    }
}

/* ---- decoding ------------------------------------------------------- */

/* Only the base64 alphabet, '=' and line white space.  OpenSSL takes a
 * '-' as the end of the data and returns success with what came before
 * it, and a message cut there must not be stored as the one reported. */
static bool
is_base64_text(const uint8_t *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        bool is_ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                     (c >= '0' && c <= '9') || c == '+' || c == '/' ||
                     c == '=' || c == ' ' || c == '\t' || c == '\r' ||
                     c == '\n';

        if (!is_ok) {
            return false;
        }
    }
    return true;
}

static enum cm_err
decode_base64(const uint8_t *in, size_t len, size_t max_bytes,
              struct buf *out)
{
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    /* Every 4 input bytes give at most 3; OpenSSL may hold back up to a
     * line of input between calls, hence the slack. */
    size_t cap = len / 4 * 3 + 96;
    uint8_t *dec = malloc(cap);
    size_t n = 0;
    size_t i = 0;
    int outl = 0;
    enum cm_err rc = CM_ENOMEM;

    if (ctx == NULL || dec == NULL) {
        goto out;
    }
    EVP_DecodeInit(ctx);
    rc = CM_EPARSE;
    if (!is_base64_text(in, len)) {
        goto out;
    }
    while (i < len) {
        size_t chunk = len - i < ATTMSG_B64_CHUNK ? len - i
                                                  : ATTMSG_B64_CHUNK;

        if (EVP_DecodeUpdate(ctx, dec + n, &outl, in + i, (int)chunk) < 0 ||
            outl < 0) {
            goto out;
        }
        n += (size_t)outl;
        i += chunk;
    }
    if (EVP_DecodeFinal(ctx, dec + n, &outl) < 0 || outl < 0) {
        goto out;
    }
    n += (size_t)outl;
    rc = CM_ELIMIT;
    if (n > max_bytes || n > out->max_bytes - out->len) {
        goto out;
    }
    rc = buf_append(out, dec, n);

out:
    EVP_ENCODE_CTX_free(ctx);
    free(dec);
    return rc;
}

enum cm_err
attmsg_decode(const uint8_t *p, size_t len, const struct attmsg_span *s,
              size_t max_bytes, struct buf *out)
{
    if (s->off > len || s->len > len - s->off) {
        return CM_EPARSE;
    }
    switch (s->encoding) {
    case ATTMSG_IDENTITY:
        if (s->len > max_bytes || s->len > out->max_bytes - out->len) {
            return CM_ELIMIT;
        }
        return buf_append(out, p + s->off, s->len);
    case ATTMSG_BASE64:
        if (s->len / 4 > (size_t)INT_MAX) {
            return CM_ELIMIT;
        }
        return decode_base64(p + s->off, s->len, max_bytes, out);
    case ATTMSG_QP:
    case ATTMSG_OTHER:
        return CM_EPARSE;
    }
    return CM_EPARSE;
}
