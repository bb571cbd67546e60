/*
 * cartridge.c -- the cartridge container: validation, the immutable loaded
 * object with its atomic refcount, the current-cartridge slot, and the
 * writer cmtool train uses (SPEC §4, §5; STYLE §2.3, §2.7).
 *
 * Image layout (little-endian), see cartridge.h:
 *   magic "CMCART\r\n" | format u32 | flags u32 (0) | version u64 |
 *   created_unix u64 | n_sections u32 | n × (type u32, offset u64,
 *   length u64, crc32 u32) | bodies
 * Bodies follow the table back to back in table order, and the last one
 * ends the file: no gaps, no overlaps, no trailing bytes.  Every section's
 * CRC32 (zlib) is checked, known types are parsed completely, unknown
 * types are skipped, and MODEL and CALIBRATION are required exactly once.
 *
 * META body: "key=value\n" lines, keys [A-Za-z0-9_.-], values printable
 * ASCII.  CATEGORY body: n u32 | n × (code u32 | name_len u16 | name |
 * desc_len u16 | desc); names [a-z0-9_-], descriptions printable ASCII,
 * codes distinct.  FINGERPRINTS body: fingerprint.h (optional; a
 * cartridge without it has no campaign fingerprints).  REPUTATION body:
 * reputation.h (optional; without it, no IP, domain or URL host lists).
 * RULES body: rules.h (optional; without it the built-in rule table
 * applies).
 *
 * A loaded cartridge never changes.  Its refcount is atomic; the slot is a
 * mutex (slot_lock) around one pointer, held only for the swap and the
 * reference increment.  Publishing swaps first and drops the old
 * reference outside the lock, so the old cartridge is freed by whichever
 * thread releases it last (the updater or a worker), never under the lock.
 *
 * Threads: load/format anywhere; acquire/unref any thread; publish from the
 * updater.  Limits: caps.h engine section.
 */
#include "cartridge.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "buf.h"
#include "caps.h"
#include "cursor.h"
#include "featureset.h"
#include "fingerprint.h"
#include "fsutil.h"
#include "log.h"
#include "model.h"
#include "reputation.h"
#include "rules.h"

/* src/default_cartridge.S: the embedded image (empty before the first
 * `make cartridge`). */
extern const uint8_t cm_default_cartridge_start[];
extern const uint8_t cm_default_cartridge_end[];

struct cartridge_meta_pair {
    const char *key;
    const char *value;
};

struct cartridge_category {
    uint32_t code;
    char name[32];
    char desc[CAPS_CARTRIDGE_CATEGORY_DESC_MAX + 1];
};

struct cartridge {
    atomic_long refs;
    struct cartridge_header hdr;
    bool is_default;
    struct cartridge_section *secs;
    size_t n_secs;
    struct model *model;
    struct model_calibration cal;
    char *meta_text; /* NUL-separated copy of META */
    struct cartridge_meta_pair *meta;
    size_t n_meta;
    struct cartridge_category *cats;
    size_t n_cats;
    struct fingerprint_db *fingerprints; /* NULL without the section */
    struct reputation_db *reputation;    /* NULL without the section */
    struct rules *rules;                 /* NULL without the section */
};

struct cartridge_slot {
    pthread_mutex_t slot_lock;
    struct cartridge *current;
};

/* ---- validation ----------------------------------------------------- */

enum cm_err
cartridge_header_parse(const uint8_t *p, size_t len,
                       struct cartridge_header *hdr,
                       struct cartridge_section *secs, size_t max,
                       size_t *n_secs, const char **why)
{
    struct cursor c;
    struct cartridge_header h;
    const uint8_t *magic = NULL;
    uint64_t next;
    size_t filled = 0;
    const char *reason = NULL;
    enum cm_err rc = CM_EPARSE;

    memset(&h, 0, sizeof(h));
    if (len > CAPS_CARTRIDGE_MAX_BYTES) {
        reason = "cartridge too large";
        rc = CM_ELIMIT;
        goto fail;
    }
    cursor_init(&c, p, len);
    if (cursor_bytes(&c, CARTRIDGE_MAGIC_LEN, &magic) != CM_OK ||
        memcmp(magic, CARTRIDGE_MAGIC, CARTRIDGE_MAGIC_LEN) != 0) {
        reason = "not a cartridge (bad magic)";
        goto fail;
    }
    if (cursor_u32le(&c, &h.format) != CM_OK) {
        reason = "cartridge header truncated";
        goto fail;
    }
    if (h.format != CARTRIDGE_FORMAT) {
        reason = "unknown cartridge format";
        rc = CM_EVERSION;
        goto fail;
    }
    if (cursor_u32le(&c, &h.flags) != CM_OK ||
        cursor_u64le(&c, &h.version) != CM_OK ||
        cursor_u64le(&c, &h.created_unix) != CM_OK ||
        cursor_u32le(&c, &h.n_sections) != CM_OK) {
        reason = "cartridge header truncated";
        goto fail;
    }
    if (h.flags != 0) {
        reason = "unknown cartridge flags";
        rc = CM_EVERSION;
        goto fail;
    }
    if (h.n_sections == 0 || h.n_sections > CAPS_CARTRIDGE_SECTIONS_MAX) {
        reason = "cartridge section count out of range";
        goto fail;
    }
    if (cursor_left(&c) / CARTRIDGE_ENTRY_LEN < h.n_sections) {
        reason = "cartridge section table truncated";
        goto fail;
    }
    next = CARTRIDGE_HEADER_LEN + (uint64_t)h.n_sections * CARTRIDGE_ENTRY_LEN;
    for (uint32_t i = 0; i < h.n_sections; i++) {
        struct cartridge_section s;

        /* Cannot fail after the table-length check above; checked anyway
         * so an entry is never used unread. */
        if (cursor_u32le(&c, &s.type) != CM_OK ||
            cursor_u64le(&c, &s.offset) != CM_OK ||
            cursor_u64le(&c, &s.length) != CM_OK ||
            cursor_u32le(&c, &s.crc32) != CM_OK) {
            reason = "cartridge section table truncated";
            goto fail;
        }
        /* Bodies are back to back in table order: this pins every offset
         * and rules out overlaps, gaps and bytes nobody checks. */
        if (s.offset != next) {
            reason = "cartridge section offset out of place";
            goto fail;
        }
        if (s.length > len || s.offset > len - s.length) {
            reason = "cartridge section past the end";
            goto fail;
        }
        next = s.offset + s.length;
        if (filled < max && secs != NULL) {
            secs[filled++] = s;
        }
    }
    if (next != len) {
        reason = "bytes after the last cartridge section";
        goto fail;
    }
    *hdr = h;
    *n_secs = filled;
    return CM_OK;

fail:
    if (why != NULL) {
        *why = reason;
    }
    return rc;
}

static bool
is_key_char(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
}

static enum cm_err
parse_meta(struct cartridge *c, const uint8_t *p, size_t len,
           const char **why)
{
    size_t n_lines = 0;
    size_t i;
    char *t;

    if (len > CAPS_CARTRIDGE_META_MAX_BYTES) {
        *why = "META section too large";
        return CM_ELIMIT;
    }
    for (i = 0; i < len; i++) {
        if (p[i] == '\n') {
            n_lines++;
        } else if (p[i] < 0x20 || p[i] > 0x7e) {
            *why = "META holds a non-printable byte";
            return CM_EPARSE;
        }
    }
    if (len > 0 && p[len - 1] != '\n') {
        n_lines++;
    }
    if (n_lines > CAPS_CARTRIDGE_META_PAIRS_MAX) {
        *why = "META holds too many pairs";
        return CM_ELIMIT;
    }
    c->meta_text = malloc(len + 1);
    c->meta = calloc(n_lines > 0 ? n_lines : 1, sizeof(*c->meta));
    if (c->meta_text == NULL || c->meta == NULL) {
        *why = "out of memory";
        return CM_ENOMEM;
    }
    memcpy(c->meta_text, p, len);
    c->meta_text[len] = '\0';
    t = c->meta_text;
    i = 0;
    while (i < len) {
        size_t start = i;
        size_t eq = 0;
        bool has_eq = false;

        while (i < len && t[i] != '\n') {
            if (t[i] == '=' && !has_eq) {
                has_eq = true;
                eq = i;
            }
            i++;
        }
        if (!has_eq || eq == start) {
            *why = "META line without key=value";
            return CM_EPARSE;
        }
        for (size_t k = start; k < eq; k++) {
            if (!is_key_char((uint8_t)t[k])) {
                *why = "META key holds a bad character";
                return CM_EPARSE;
            }
        }
        t[eq] = '\0';
        if (i < len) {
            t[i] = '\0';
            i++;
        }
        c->meta[c->n_meta].key = t + start;
        c->meta[c->n_meta].value = t + eq + 1;
        c->n_meta++;
    }
    return CM_OK;
}

static bool
is_name_char(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}

static enum cm_err
parse_categories(struct cartridge *c, const uint8_t *p, size_t len,
                 const char **why)
{
    struct cursor cur;
    uint32_t n = 0;

    cursor_init(&cur, p, len);
    if (cursor_u32le(&cur, &n) != CM_OK) {
        *why = "CATEGORY section truncated";
        return CM_EPARSE;
    }
    if (n == 0 || n > CAPS_CARTRIDGE_CATEGORIES_MAX) {
        *why = "CATEGORY count out of range";
        return CM_EPARSE;
    }
    c->cats = calloc(n, sizeof(*c->cats));
    if (c->cats == NULL) {
        *why = "out of memory";
        return CM_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct cartridge_category *cat = &c->cats[i];
        uint16_t name_len = 0;
        uint16_t desc_len = 0;

        if (cursor_u32le(&cur, &cat->code) != CM_OK ||
            cursor_u16le(&cur, &name_len) != CM_OK) {
            *why = "CATEGORY section truncated";
            return CM_EPARSE;
        }
        if (name_len == 0 || name_len >= sizeof(cat->name)) {
            *why = "CATEGORY name length out of range";
            return CM_EPARSE;
        }
        if (cursor_copy(&cur, cat->name, name_len) != CM_OK ||
            cursor_u16le(&cur, &desc_len) != CM_OK) {
            *why = "CATEGORY section truncated";
            return CM_EPARSE;
        }
        if (desc_len > CAPS_CARTRIDGE_CATEGORY_DESC_MAX) {
            *why = "CATEGORY description too long";
            return CM_EPARSE;
        }
        if (cursor_copy(&cur, cat->desc, desc_len) != CM_OK) {
            *why = "CATEGORY section truncated";
            return CM_EPARSE;
        }
        for (uint16_t k = 0; k < name_len; k++) {
            if (!is_name_char((uint8_t)cat->name[k])) {
                *why = "CATEGORY name holds a bad character";
                return CM_EPARSE;
            }
        }
        for (uint16_t k = 0; k < desc_len; k++) {
            uint8_t ch = (uint8_t)cat->desc[k];

            if (ch < 0x20 || ch > 0x7e) {
                *why = "CATEGORY description not printable";
                return CM_EPARSE;
            }
        }
        for (uint32_t k = 0; k < i; k++) {
            if (c->cats[k].code == cat->code) {
                *why = "CATEGORY code repeated";
                return CM_EPARSE;
            }
        }
        c->n_cats++;
    }
    if (cursor_left(&cur) != 0) {
        *why = "bytes after the CATEGORY entries";
        return CM_EPARSE;
    }
    return CM_OK;
}

static void
cartridge_destroy(struct cartridge *c)
{
    if (c == NULL) {
        return;
    }
    model_free(c->model);
    free(c->secs);
    free(c->meta_text);
    free(c->meta);
    free(c->cats);
    fingerprint_db_free(c->fingerprints);
    reputation_db_free(c->reputation);
    rules_free(c->rules);
    free(c);
}

/* A cartridge with room for the largest section table, nothing loaded
 * yet.  NULL when out of memory. */
static struct cartridge *
cartridge_alloc(void)
{
    struct cartridge *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->secs = calloc(CAPS_CARTRIDGE_SECTIONS_MAX, sizeof(*c->secs));
    if (c->secs == NULL) {
        cartridge_destroy(c);
        return NULL;
    }
    return c;
}

/* The CRC32 of one section's body, fed to zlib in pieces of at most
 * 2^30 bytes (its length argument is a uInt). */
static uint32_t
section_crc(const uint8_t *p, const struct cartridge_section *s)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t done = 0;

    while (done < s->length) {
        uint64_t chunk = s->length - done;

        chunk = chunk > (1u << 30) ? (1u << 30) : chunk;
        crc = crc32(crc, p + s->offset + done, (uInt)chunk);
        done += chunk;
    }
    return (uint32_t)crc;
}

/* Every CRC first: no body is parsed before all of them check out. */
static enum cm_err
check_crcs(const struct cartridge *c, const uint8_t *p, const char **why)
{
    for (size_t i = 0; i < c->n_secs; i++) {
        if (section_crc(p, &c->secs[i]) != c->secs[i].crc32) {
            *why = "cartridge section CRC mismatch";
            return CM_EPARSE;
        }
    }
    return CM_OK;
}

/* Hand one section's body to its parser, which fills its part of c. */
static enum cm_err
parse_section(struct cartridge *c, uint32_t type, const uint8_t *body,
              size_t blen, const char **why)
{
    switch (type) {
    case CARTRIDGE_SEC_META:
        return parse_meta(c, body, blen, why);
    case CARTRIDGE_SEC_MODEL:
        return model_parse(body, blen, FEATURES_VERSION, FEATURES_HASH_BITS,
                           &c->model, why);
    case CARTRIDGE_SEC_CALIBRATION:
        return model_calibration_parse(body, blen, &c->cal, why);
    case CARTRIDGE_SEC_CATEGORY:
        return parse_categories(c, body, blen, why);
    case CARTRIDGE_SEC_FINGERPRINTS:
        return fingerprint_db_parse(body, blen, &c->fingerprints, why);
    case CARTRIDGE_SEC_REPUTATION:
        return reputation_db_parse(body, blen, &c->reputation, why);
    case CARTRIDGE_SEC_RULES:
        return rules_parse(body, blen, &c->rules, why);
    default:
        /* Reserved or newer section types: CRC-checked, not used. */
        return CM_OK;
    }
}

/* Parse the sections in table order, stopping at the first that fails.
 * A known type may appear only once (a second would overwrite, and leak,
 * what the first filled in), and MODEL and CALIBRATION must appear. */
static enum cm_err
parse_sections(struct cartridge *c, const uint8_t *p, const char **why)
{
    /* ALLOWLIST (7) is reserved and skipped; every known section once. */
    bool seen[CARTRIDGE_SEC_RULES + 1] = {false};

    for (size_t i = 0; i < c->n_secs; i++) {
        const struct cartridge_section *s = &c->secs[i];
        enum cm_err rc;

        if (s->type >= CARTRIDGE_SEC_META &&
            s->type <= CARTRIDGE_SEC_RULES) {
            if (seen[s->type]) {
                *why = "cartridge section repeated";
                return CM_EPARSE;
            }
            seen[s->type] = true;
        }
        rc = parse_section(c, s->type, p + s->offset, (size_t)s->length,
                           why);
        if (rc != CM_OK) {
            return rc;
        }
    }
    if (!seen[CARTRIDGE_SEC_MODEL] || !seen[CARTRIDGE_SEC_CALIBRATION]) {
        *why = "cartridge lacks a MODEL or CALIBRATION section";
        return CM_EPARSE;
    }
    return CM_OK;
}

enum cm_err
cartridge_load(const uint8_t *p, size_t len, struct cartridge **out,
               const char **why)
{
    struct cartridge *c = NULL;
    const char *reason = "out of memory";
    enum cm_err rc;

    c = cartridge_alloc();
    if (c == NULL) {
        rc = CM_ENOMEM;
        goto fail;
    }
    rc = cartridge_header_parse(p, len, &c->hdr, c->secs,
                                CAPS_CARTRIDGE_SECTIONS_MAX, &c->n_secs,
                                &reason);
    if (rc != CM_OK) {
        goto fail;
    }
    rc = check_crcs(c, p, &reason);
    if (rc != CM_OK) {
        goto fail;
    }
    rc = parse_sections(c, p, &reason);
    if (rc != CM_OK) {
        goto fail;
    }
    atomic_init(&c->refs, 1);
    *out = c;
    return CM_OK;

fail:
    cartridge_destroy(c);
    if (why != NULL) {
        *why = reason;
    }
    return rc;
}

enum cm_err
cartridge_load_file(const char *path, struct cartridge **out,
                    const char **why)
{
    struct buf b;
    bool is_truncated = false;
    enum cm_err rc;

    buf_init(&b, CAPS_CARTRIDGE_MAX_BYTES);
    rc = fsutil_read_file(path, CAPS_CARTRIDGE_MAX_BYTES, &b, &is_truncated,
                          why);
    if (rc == CM_OK && is_truncated) {
        rc = CM_ELIMIT;
        if (why != NULL) {
            *why = "cartridge too large";
        }
    }
    if (rc == CM_OK) {
        rc = cartridge_load(b.data, b.len, out, why);
    }
    buf_clear(&b);
    return rc;
}

void
cartridge_default_image(const uint8_t **p, size_t *len)
{
    *p = cm_default_cartridge_start;
    *len = (size_t)(cm_default_cartridge_end - cm_default_cartridge_start);
}

enum cm_err
cartridge_load_default(struct cartridge **out, const char **why)
{
    const uint8_t *p;
    size_t len;
    struct cartridge *c = NULL;
    enum cm_err rc;

    cartridge_default_image(&p, &len);
    if (len == 0) {
        if (why != NULL) {
            *why = "no default cartridge embedded";
        }
        return CM_ENOENT;
    }
    rc = cartridge_load(p, len, &c, why);
    if (rc != CM_OK) {
        return rc;
    }
    c->is_default = true;
    *out = c;
    return CM_OK;
}

/* ---- accessors ------------------------------------------------------ */

uint64_t
cartridge_version(const struct cartridge *c)
{
    return c->hdr.version;
}

bool
cartridge_is_default(const struct cartridge *c)
{
    return c->is_default;
}

const struct model *
cartridge_model(const struct cartridge *c)
{
    return c->model;
}

const struct model_calibration *
cartridge_calibration(const struct cartridge *c)
{
    return &c->cal;
}

const char *
cartridge_meta(const struct cartridge *c, const char *key)
{
    for (size_t i = 0; i < c->n_meta; i++) {
        if (strcmp(c->meta[i].key, key) == 0) {
            return c->meta[i].value;
        }
    }
    return NULL;
}

size_t
cartridge_meta_count(const struct cartridge *c)
{
    return c->n_meta;
}

bool
cartridge_meta_at(const struct cartridge *c, size_t i, const char **key,
                  const char **value)
{
    if (i >= c->n_meta) {
        return false;
    }
    *key = c->meta[i].key;
    *value = c->meta[i].value;
    return true;
}

size_t
cartridge_category_count(const struct cartridge *c)
{
    return c->n_cats;
}

bool
cartridge_category_at(const struct cartridge *c, size_t i, uint32_t *code,
                      const char **name, const char **desc)
{
    if (i >= c->n_cats) {
        return false;
    }
    *code = c->cats[i].code;
    *name = c->cats[i].name;
    *desc = c->cats[i].desc;
    return true;
}

const char *
cartridge_category_name(const struct cartridge *c, uint32_t code)
{
    for (size_t i = 0; i < c->n_cats; i++) {
        if (c->cats[i].code == code) {
            return c->cats[i].name;
        }
    }
    return NULL;
}

const struct fingerprint_db *
cartridge_fingerprints(const struct cartridge *c)
{
    return c->fingerprints;
}

const struct reputation_db *
cartridge_reputation(const struct cartridge *c)
{
    return c->reputation;
}

const struct rules *
cartridge_rules(const struct cartridge *c)
{
    return c->rules != NULL ? c->rules : rules_builtin();
}

bool
cartridge_has_rules(const struct cartridge *c)
{
    return c->rules != NULL;
}

size_t
cartridge_section_count(const struct cartridge *c)
{
    return c->n_secs;
}

bool
cartridge_section_at(const struct cartridge *c, size_t i,
                     struct cartridge_section *out)
{
    if (i >= c->n_secs) {
        return false;
    }
    *out = c->secs[i];
    return true;
}

/* ---- references and the slot ---------------------------------------- */

void
cartridge_ref(const struct cartridge *c)
{
    /* The refcount is the one mutable part of a published cartridge. */
    struct cartridge *m = (struct cartridge *)(uintptr_t)c;

    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void
cartridge_unref(const struct cartridge *c)
{
    struct cartridge *m = (struct cartridge *)(uintptr_t)c;
    long prev;

    if (c == NULL) {
        return;
    }
    prev = atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel);
    if (prev == 1) {
        cartridge_destroy(m);
    } else if (prev <= 0) {
        log_error("bug: cartridge released more often than acquired");
        abort();
    }
}

struct cartridge_slot *
cartridge_slot_new(struct cartridge *initial)
{
    struct cartridge_slot *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    if (pthread_mutex_init(&s->slot_lock, NULL) != 0) {
        free(s);
        return NULL;
    }
    s->current = initial;
    return s;
}

void
cartridge_slot_free(struct cartridge_slot *s)
{
    if (s == NULL) {
        return;
    }
    cartridge_unref(s->current);
    pthread_mutex_destroy(&s->slot_lock);
    free(s);
}

const struct cartridge *
cartridge_acquire(struct cartridge_slot *s)
{
    struct cartridge *c;

    pthread_mutex_lock(&s->slot_lock);
    c = s->current;
    cartridge_ref(c);
    pthread_mutex_unlock(&s->slot_lock);
    return c;
}

void
cartridge_publish(struct cartridge_slot *s, struct cartridge *next)
{
    struct cartridge *old;

    pthread_mutex_lock(&s->slot_lock);
    old = s->current;
    s->current = next;
    pthread_mutex_unlock(&s->slot_lock);
    cartridge_unref(old);
}

/* ---- writer --------------------------------------------------------- */

static enum cm_err
put_le(struct buf *b, uint64_t v, unsigned n_bytes)
{
    uint8_t x[8];

    for (unsigned i = 0; i < n_bytes; i++) {
        x[i] = (uint8_t)(v >> (8u * i));
    }
    return buf_append(b, x, n_bytes);
}

enum cm_err
cartridge_format(uint64_t version, uint64_t created_unix,
                 const struct cartridge_body *bodies, size_t n,
                 struct buf *out)
{
    uint64_t off = CARTRIDGE_HEADER_LEN + (uint64_t)n * CARTRIDGE_ENTRY_LEN;
    enum cm_err rc;

    rc = buf_append(out, CARTRIDGE_MAGIC, CARTRIDGE_MAGIC_LEN);
    rc = rc != CM_OK ? rc : put_le(out, CARTRIDGE_FORMAT, 4);
    rc = rc != CM_OK ? rc : put_le(out, 0, 4);
    rc = rc != CM_OK ? rc : put_le(out, version, 8);
    rc = rc != CM_OK ? rc : put_le(out, created_unix, 8);
    rc = rc != CM_OK ? rc : put_le(out, n, 4);
    for (size_t i = 0; i < n && rc == CM_OK; i++) {
        uLong crc = crc32(0L, Z_NULL, 0);

        if (bodies[i].len > 0) {
            crc = crc32(crc, bodies[i].p, (uInt)bodies[i].len);
        }
        rc = put_le(out, bodies[i].type, 4);
        rc = rc != CM_OK ? rc : put_le(out, off, 8);
        rc = rc != CM_OK ? rc : put_le(out, bodies[i].len, 8);
        rc = rc != CM_OK ? rc : put_le(out, (uint32_t)crc, 4);
        off += bodies[i].len;
    }
    for (size_t i = 0; i < n && rc == CM_OK; i++) {
        rc = buf_append(out, bodies[i].p, bodies[i].len);
    }
    return rc;
}

enum cm_err
cartridge_category_format(struct buf *out)
{
    static const struct {
        uint32_t code;
        const char *name;
        const char *desc;
    } cats[] = {
        {0, "legit", "legitimate mail"},
        {1, "spam", "unsolicited commercial or fraudulent bulk mail"},
        {2, "phishing", "credential theft or impersonation of a brand"},
        {3, "malware", "carries or links to malicious software"},
        {4, "bulk", "newsletter or marketing mail from a bulk sender"},
    };
    size_t n = sizeof(cats) / sizeof(cats[0]);
    enum cm_err rc = put_le(out, n, 4);

    for (size_t i = 0; i < n && rc == CM_OK; i++) {
        size_t nl = strlen(cats[i].name);
        size_t dl = strlen(cats[i].desc);

        rc = put_le(out, cats[i].code, 4);
        rc = rc != CM_OK ? rc : put_le(out, nl, 2);
        rc = rc != CM_OK ? rc : buf_append(out, cats[i].name, nl);
        rc = rc != CM_OK ? rc : put_le(out, dl, 2);
        rc = rc != CM_OK ? rc : buf_append(out, cats[i].desc, dl);
    }
    return rc;
}

enum cm_err
cartridge_image_add_section(struct buf *image, uint32_t type,
                            const uint8_t *p, size_t len)
{
    struct cartridge_header h;
    struct cartridge_section secs[CAPS_CARTRIDGE_SECTIONS_MAX];
    struct cartridge_body bodies[CAPS_CARTRIDGE_SECTIONS_MAX];
    size_t n = 0;
    size_t k = 0;
    struct buf out;
    enum cm_err rc;

    rc = cartridge_header_parse(image->data, image->len, &h, secs,
                                CAPS_CARTRIDGE_SECTIONS_MAX, &n, NULL);
    if (rc != CM_OK) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if (secs[i].type != type) {
            bodies[k++] = (struct cartridge_body){
                secs[i].type, image->data + secs[i].offset,
                (size_t)secs[i].length};
        }
    }
    if (k >= CAPS_CARTRIDGE_SECTIONS_MAX) {
        return CM_ELIMIT;
    }
    bodies[k++] = (struct cartridge_body){type, p, len};
    /* The new image is built aside: the bodies point into the old one. */
    buf_init(&out, CAPS_CARTRIDGE_MAX_BYTES);
    rc = cartridge_format(h.version, h.created_unix, bodies, k, &out);
    if (rc == CM_OK) {
        buf_reset(image);
        rc = buf_append(image, out.data, out.len);
    }
    buf_clear(&out);
    return rc;
}

enum cm_err
cartridge_image_set_version(struct buf *image, uint64_t version)
{
    struct cartridge_header h;
    size_t n = 0;
    enum cm_err rc;

    rc = cartridge_header_parse(image->data, image->len, &h, NULL, 0, &n,
                                NULL);
    if (rc != CM_OK) {
        return rc;
    }
    /* The version sits after magic, format and flags; no CRC covers the
     * header, so the bytes are rewritten in place. */
    for (unsigned i = 0; i < 8; i++) {
        image->data[CARTRIDGE_MAGIC_LEN + 8u + i] =
            (uint8_t)(version >> (8u * i));
    }
    return CM_OK;
}
