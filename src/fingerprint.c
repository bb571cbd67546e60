/*
 * fingerprint.c -- campaign fingerprints: body min-hash signatures,
 * attachment and URL digests, and the indexed database of a cartridge's
 * FINGERPRINTS section (SPEC §4; format and rules in fingerprint.h).
 *
 * State: a database is built once (parse or new) and then only read, by
 * any number of threads.  Signatures come from the feature tokenizer
 * (features_text_sig) and minhash.c, on the caller's stack with no
 * allocation.
 *
 * Limits: CAPS_FINGERPRINT_ENTRIES_MAX entries per database,
 * CAPS_FINGERPRINT_WORDS_MAX words per text, CAPS_FINGERPRINT_RUN_MAX
 * candidates verified per index key.
 */
#include "fingerprint.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "cursor.h"
#include "featureset.h"
#include "hashing.h"
#include "mime.h"
#include "url.h"

#define FP_MAGIC "CMFP"
#define FP_MAGIC_LEN 4u
#define FP_HEADER_LEN 20u
/* Seed of the URL filter hash ("CMFPurl1"). */
#define FP_URL_FILTER_SEED 0x434d465075726c31ull
/* The smallest entry: kind, category, weight, sub_len, digest, filter. */
#define FP_ENTRY_MIN (4u + FINGERPRINT_DIGEST_LEN + 8u)

struct fp_key {
    uint64_t key; /* position << 32 | min-hash */
    uint32_t entry;
};

struct fingerprint_db {
    struct fingerprint_entry *entries; /* ascending (kind, payload) */
    size_t n;
    size_t kind_start[FINGERPRINT_URL + 1];
    size_t kind_end[FINGERPRINT_URL + 1];
    struct fp_key *keys; /* positions 0 .. K - m of every body entry */
    size_t n_keys;
    unsigned m;
    /* Per digest kind: the entries' filters, sorted, and whether one has
     * none (0), which makes every lookup of that kind digest. */
    uint64_t *filters[FINGERPRINT_URL + 1];
    size_t n_filters[FINGERPRINT_URL + 1];
    bool has_unfiltered[FINGERPRINT_URL + 1];
};

/* ---- body signatures --------------------------------------------------- */

/* The words are the body tokens of the feature extraction (features.c
 * computes the signature in the same pass when it scores a message). */
bool
fingerprint_sig_compute(const char *text, size_t len,
                        struct fingerprint_sig *sig)
{
    return features_text_sig(text, len, sig);
}

unsigned
fingerprint_agree(const struct fingerprint_sig *a,
                  const struct fingerprint_sig *b)
{
    unsigned n = 0;

    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        n += a->h[k] == b->h[k];
    }
    return n;
}

/* ---- digests ------------------------------------------------------------ */

bool
fingerprint_digest(const uint8_t *p, size_t len,
                   uint8_t out[FINGERPRINT_DIGEST_LEN])
{
    unsigned int n = 0;
    static const uint8_t empty[1] = {0};

    if (EVP_Digest(p != NULL ? p : empty, len, out, &n, EVP_sha256(),
                   NULL) != 1) {
        return false;
    }
    return n == FINGERPRINT_DIGEST_LEN;
}

/* Whether (p, len) begins with pre (n bytes, lower case), ASCII case
 * ignored. */
static bool
has_prefix_ci(const uint8_t *p, size_t len, const char *pre, size_t n)
{
    if (len < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];

        if (ch >= 'A' && ch <= 'Z') {
            ch = (uint8_t)(ch - 'A' + 'a');
        }
        if (ch != (uint8_t)pre[i]) {
            return false;
        }
    }
    return true;
}

/* Query parameters that only say who clicked: dropped before digesting.
 * The names' lengths are taken at compile time and compared first: a
 * strlen of each of them per parameter of every URL was most of this
 * test (issue #7). */
static bool
is_tracking_param(const char *name, size_t len)
{
#define TRACKING(lit) {"" lit, sizeof(lit) - 1u}
    static const struct {
        const char *s;
        size_t n;
    } exact[] = {
        TRACKING("fbclid"),  TRACKING("gclid"),   TRACKING("dclid"),
        TRACKING("msclkid"), TRACKING("mc_cid"),  TRACKING("mc_eid"),
        TRACKING("_hsenc"),  TRACKING("_hsmi"),   TRACKING("mkt_tok"),
        TRACKING("yclid"),   TRACKING("igshid"),  TRACKING("ref_src")};
#undef TRACKING

    if (has_prefix_ci((const uint8_t *)name, len, "utm_", 4)) {
        return true;
    }
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
        if (exact[i].n == len &&
            has_prefix_ci((const uint8_t *)name, len, exact[i].s, len)) {
            return true;
        }
    }
    return false;
}

struct out_text {
    char *p;
    size_t max; /* including the NUL */
    size_t len;
};

static void
out_put(struct out_text *o, const char *s, size_t n)
{
    size_t room = o->max - 1 - o->len;

    n = n < room ? n : room;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

/* The bytes that end a URL's scheme, its authority and a query
 * parameter: one lookup per byte of each instead of a compare per byte
 * that could end it.  '\\' ends an authority as '/' does: url_host
 * reads it so, as browsers do for http and https. */
static const bool url_scheme_end[256] = {['/'] = true, ['\\'] = true,
                                         ['?'] = true, ['#'] = true,
                                         [':'] = true};
static const bool url_part_end[256] = {['/'] = true, ['\\'] = true,
                                       ['?'] = true, ['#'] = true};
static const bool url_param_end[256] = {['&'] = true, ['#'] = true};

static bool
is_slash(char c)
{
    return c == '/' || c == '\\';
}

/* Index past the run of '/' and '\\' at k. */
static size_t
skip_slashes(const char *url, size_t len, size_t k)
{
    while (k < len && is_slash(url[k])) {
        k++;
    }
    return k;
}

/*
 * Where the authority of url starts: after "scheme:" and every '/' or
 * '\\' that follows it, or after a leading "//", else 0 ("www.host/p").
 * url_host skips the same run, so "https:///evil.example/p" and
 * "https:\\\\evil.example/p" -- where browsers go to evil.example -- name
 * that host here too instead of turning its name into a path that no
 * listed digest of the campaign's URL matches.
 */
static size_t
authority_start(const char *url, size_t len)
{
    for (size_t k = 0; k + 2 < len; k++) {
        if (!url_scheme_end[(uint8_t)url[k]]) {
            continue;
        }
        if (url[k] != ':') {
            return is_slash(url[k]) && is_slash(url[k + 1])
                       ? skip_slashes(url, len, k)
                       : 0;
        }
        if (is_slash(url[k + 1])) {
            return skip_slashes(url, len, k + 1);
        }
    }
    return 0;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        return (c | 0x20) - 'a' + 10;
    }
    return -1;
}

static bool
is_unreserved(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* Append the escape at s ("%XY", X and Y hex) as the server reads it:
 * an unreserved character as itself (RFC 3986 2.3: "log%69n" is
 * "login"), any other with its hex digits in upper case (6.2.2.1). */
static void
out_put_escape(struct out_text *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int hi = hex_value(s[1]);
    int lo = hex_value(s[2]);
    char c = (char)(hi << 4 | lo);
    char esc[3] = {'%', hex[hi], hex[lo]};

    if (is_unreserved((uint8_t)c)) {
        out_put(o, &c, 1);
    } else {
        out_put(o, esc, sizeof(esc));
    }
}

/*
 * Append n bytes at s with each %XY escape normalised (out_put_escape)
 * and, when is_path, each '\\' written as the '/' a browser sends for
 * it: the spellings of one URL that a campaign could vary per recipient
 * at no cost all get its digest.
 */
static void
out_put_text(struct out_text *o, const char *s, size_t n, bool is_path)
{
    size_t i = 0;

    while (i < n) {
        /* The run up to the next '%' (or, in a path, '\\'): found by
         * memchr, not a pair of compares per byte (issue #7: every URL of
         * every message is normalised). */
        const char *pct = memchr(s + i, '%', n - i);
        size_t run = pct != NULL ? (size_t)(pct - (s + i)) : n - i;

        if (is_path) {
            const char *bs = memchr(s + i, '\\', run);

            if (bs != NULL) {
                run = (size_t)(bs - (s + i));
            }
        }
        out_put(o, s + i, run);
        i += run;
        if (i >= n) {
            break;
        }
        if (s[i] == '\\') {
            out_put(o, "/", 1);
            i++;
        } else if (i + 2 < n && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out_put_escape(o, s + i);
            i += 3;
        } else {
            out_put(o, "%", 1);
            i++;
        }
    }
}

/*
 * Remove the "." and ".." segments of the path written at o->p + from
 * (it starts with '/'), in place, as a browser does before it asks for
 * the path (RFC 3986 5.2.4): "/x/../login" is "/login".  A trailing
 * "." or ".." leaves a trailing '/'.
 */
/* Whether the n bytes at p hold "/.", where every "." or ".." segment
 * starts: found from the '.'s by memchr, as most paths have none or a
 * file name's one. */
static bool
has_slash_dot(const char *p, size_t n)
{
    const char *d = memchr(p, '.', n);

    while (d != NULL) {
        size_t at = (size_t)(d - p);

        if (at > 0 && p[at - 1] == '/') {
            return true;
        }
        d = memchr(d + 1, '.', n - at - 1);
    }
    return false;
}

static void
out_remove_dot_segments(struct out_text *o, size_t from)
{
    char *p = o->p + from;
    size_t n = o->len - from;
    size_t r = 0;
    size_t w = 0;

    /* Without a "/." there is no dot segment, and the walk below would
     * copy each segment onto itself (issue #7: every URL's path). */
    if (n == 0 || p[0] != '/' || !has_slash_dot(p, n)) {
        return;
    }
    while (r < n) {
        size_t e = r + 1;
        bool is_dot;
        bool is_dotdot;

        while (e < n && p[e] != '/') {
            e++;
        }
        is_dot = e - r == 2 && p[r + 1] == '.';
        is_dotdot = e - r == 3 && p[r + 1] == '.' && p[r + 2] == '.';
        if (is_dotdot) {
            while (w > 0 && p[--w] != '/') {
            }
        }
        if (!is_dot && !is_dotdot) {
            memmove(p + w, p + r, e - r);
            w += e - r;
        } else if (e == n) {
            p[w++] = '/';
        }
        r = e;
    }
    o->len = from + w;
    o->p[o->len] = '\0';
}

/* Append the query parameter (n bytes at s, no '&') after sep, unless
 * its name, escapes normalised, is a tracking one. */
static bool
out_put_param(struct out_text *o, const char *sep, const char *s, size_t n)
{
    size_t mark = o->len;
    size_t name_at;
    size_t name_end;

    out_put(o, sep, 1);
    name_at = o->len;
    out_put_text(o, s, n, false);
    name_end = name_at;
    while (name_end < o->len && o->p[name_end] != '=') {
        name_end++;
    }
    if (is_tracking_param(o->p + name_at, name_end - name_at)) {
        o->len = mark;
        o->p[mark] = '\0';
        return false;
    }
    return true;
}

/* fingerprint_url_normalise of a URL whose url_host (host, hl, flags)
 * the caller has (mime keeps it per URL: no second parse). */
static size_t
normalise_with_host(const char *url, size_t len, const char *host,
                    size_t hl, unsigned flags, char *out, size_t out_max)
{
    size_t i = 0;
    size_t path_start;
    size_t q;
    struct out_text o = {out, out_max, 0};
    bool has_query = false;

    if (out_max < 2 || hl == 0 || (flags & URL_IS_MAILTO) != 0) {
        return 0;
    }
    out[0] = '\0';
    out_put(&o, host, hl);
    i = authority_start(url, len);
    while (i < len && !url_part_end[(uint8_t)url[i]]) {
        i++;
    }
    path_start = i;
    /* The path ends at the first '?' or '#': a memchr for each (the '#'
     * only before the '?') instead of two compares per byte of it. */
    {
        const char *qm = memchr(url + i, '?', len - i);
        size_t end = qm != NULL ? (size_t)(qm - url) : len;
        const char *hash = memchr(url + i, '#', end - i);

        i = hash != NULL ? (size_t)(hash - url) : end;
    }
    if (i > path_start) {
        size_t from = o.len;

        out_put_text(&o, url + path_start, i - path_start, true);
        out_remove_dot_segments(&o, from);
    } else {
        out_put(&o, "/", 1);
    }
    if (i >= len || url[i] != '?') {
        return o.len;
    }
    q = i + 1;
    while (q < len && url[q] != '#') {
        size_t start = q;

        while (q < len && !url_param_end[(uint8_t)url[q]]) {
            q++;
        }
        if (q > start &&
            out_put_param(&o, has_query ? "&" : "?", url + start,
                          q - start)) {
            has_query = true;
        }
        if (q < len && url[q] == '&') {
            q++;
        }
    }
    return o.len;
}

size_t
fingerprint_url_normalise(const char *url, size_t len, char *out,
                          size_t out_max)
{
    char host[URL_HOST_MAX_BYTES + 1];
    unsigned flags = 0;
    size_t hl = url_host(url, len, host, sizeof(host), &flags);

    return normalise_with_host(url, len, host, hl, flags, out, out_max);
}

bool
fingerprint_url_digest(const char *url, size_t len,
                       uint8_t out[FINGERPRINT_DIGEST_LEN])
{
    char norm[FINGERPRINT_URL_MAX + 1];
    size_t n = fingerprint_url_normalise(url, len, norm, sizeof(norm));

    return n > 0 && fingerprint_digest((const uint8_t *)norm, n, out);
}

/* The filter of a normalised URL; never 0 (0 means "none"). */
static uint64_t
url_filter_of(const char *norm, size_t n)
{
    uint64_t h = hashing_hash64(norm, n, FP_URL_FILTER_SEED);

    return h != 0 ? h : 1;
}

uint64_t
fingerprint_url_filter(const char *url, size_t len)
{
    char norm[FINGERPRINT_URL_MAX + 1];
    size_t n = fingerprint_url_normalise(url, len, norm, sizeof(norm));

    return n > 0 ? url_filter_of(norm, n) : 0;
}

uint64_t
fingerprint_attachment_filter(size_t len)
{
    return (uint64_t)len;
}

/* ---- the database ------------------------------------------------------- */

static int
cmp_payload(const struct fingerprint_entry *a,
            const struct fingerprint_entry *b)
{
    if (a->kind != b->kind) {
        return a->kind < b->kind ? -1 : 1;
    }
    if (a->kind == FINGERPRINT_BODY) {
        for (unsigned k = 0; k < FINGERPRINT_K; k++) {
            if (a->sig.h[k] != b->sig.h[k]) {
                return a->sig.h[k] < b->sig.h[k] ? -1 : 1;
            }
        }
        return 0;
    }
    return memcmp(a->digest, b->digest, FINGERPRINT_DIGEST_LEN);
}

static int
cmp_key(const void *a, const void *b)
{
    const struct fp_key *x = a;
    const struct fp_key *y = b;

    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    return (x->entry > y->entry) - (x->entry < y->entry);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/* The sorted filters of the entries of a digest kind (db->kind_start and
 * kind_end set); false on ENOMEM. */
static bool
build_filters(struct fingerprint_db *db, enum fingerprint_kind kind)
{
    size_t lo = db->kind_start[kind];
    size_t hi = db->kind_end[kind];
    size_t n = 0;
    uint64_t *f = calloc(hi > lo ? hi - lo : 1, sizeof(*f));

    if (f == NULL) {
        return false;
    }
    for (size_t i = lo; i < hi; i++) {
        if (db->entries[i].filter == 0) {
            db->has_unfiltered[kind] = true;
        } else {
            f[n++] = db->entries[i].filter;
        }
    }
    qsort(f, n, sizeof(*f), cmp_u64);
    db->filters[kind] = f;
    db->n_filters[kind] = n;
    return true;
}

/* Entries must already be sorted by (kind, payload); takes them over. */
static struct fingerprint_db *
db_build(struct fingerprint_entry *entries, size_t n, unsigned m)
{
    struct fingerprint_db *db = calloc(1, sizeof(*db));
    size_t n_body = 0;
    size_t probes = FINGERPRINT_K - m + 1;

    if (db == NULL) {
        free(entries);
        return NULL;
    }
    db->entries = entries;
    db->n = n;
    db->m = m;
    for (size_t i = n; i > 0; i--) {
        db->kind_start[entries[i - 1].kind] = i - 1;
    }
    for (size_t i = 0; i < n; i++) {
        db->kind_end[entries[i].kind] = i + 1;
        n_body += entries[i].kind == FINGERPRINT_BODY;
    }
    db->keys = calloc(n_body > 0 ? n_body * probes : 1, sizeof(*db->keys));
    if (db->keys == NULL) {
        fingerprint_db_free(db);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (entries[i].kind != FINGERPRINT_BODY) {
            continue;
        }
        for (size_t pos = 0; pos < probes; pos++) {
            db->keys[db->n_keys].key =
                (uint64_t)pos << 32 | entries[i].sig.h[pos];
            db->keys[db->n_keys].entry = (uint32_t)i;
            db->n_keys++;
        }
    }
    qsort(db->keys, db->n_keys, sizeof(*db->keys), cmp_key);
    if (!build_filters(db, FINGERPRINT_ATTACHMENT) ||
        !build_filters(db, FINGERPRINT_URL)) {
        fingerprint_db_free(db);
        return NULL;
    }
    return db;
}

void
fingerprint_db_free(struct fingerprint_db *db)
{
    if (db == NULL) {
        return;
    }
    free(db->entries);
    free(db->keys);
    for (unsigned k = 0; k <= FINGERPRINT_URL; k++) {
        free(db->filters[k]);
    }
    free(db);
}

static bool
is_sub_char(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
}

/* The checks an entry must pass in a section; NULL when it does. */
static const char *
entry_problem(const struct fingerprint_entry *e)
{
    size_t sl = strnlen(e->sub, sizeof(e->sub));

    if (e->kind < FINGERPRINT_BODY || e->kind > FINGERPRINT_URL) {
        return "fingerprint entry of an unknown kind";
    }
    if (e->category < FINGERPRINT_CAT_SPAM ||
        e->category > FINGERPRINT_CAT_MALWARE) {
        return "fingerprint entry of an unknown category";
    }
    if (e->weight < 1 || e->weight > 100) {
        return "fingerprint weight out of range";
    }
    if (sl > FINGERPRINT_SUB_MAX) {
        return "fingerprint subcategory too long";
    }
    for (size_t i = 0; i < sl; i++) {
        if (!is_sub_char((uint8_t)e->sub[i])) {
            return "fingerprint subcategory holds a bad character";
        }
    }
    return NULL;
}

static bool
m_is_valid(unsigned m)
{
    return m > FINGERPRINT_K / 2 && m <= FINGERPRINT_K;
}

static enum cm_err
parse_entry(struct cursor *c, struct fingerprint_entry *e, const char **why)
{
    uint8_t sub_len = 0;
    const char *problem;

    memset(e, 0, sizeof(*e));
    if (cursor_u8(c, &e->kind) != CM_OK ||
        cursor_u8(c, &e->category) != CM_OK ||
        cursor_u8(c, &e->weight) != CM_OK ||
        cursor_u8(c, &sub_len) != CM_OK) {
        *why = "fingerprint entry truncated";
        return CM_EPARSE;
    }
    if (sub_len > FINGERPRINT_SUB_MAX) {
        *why = "fingerprint subcategory too long";
        return CM_EPARSE;
    }
    if (cursor_copy(c, e->sub, sub_len) != CM_OK) {
        *why = "fingerprint entry truncated";
        return CM_EPARSE;
    }
    e->sub[sub_len] = '\0';
    if (strlen(e->sub) != sub_len) {
        *why = "fingerprint subcategory holds a bad character";
        return CM_EPARSE;
    }
    problem = entry_problem(e);
    if (problem != NULL) {
        *why = problem;
        return CM_EPARSE;
    }
    if (e->kind == FINGERPRINT_BODY) {
        for (unsigned k = 0; k < FINGERPRINT_K; k++) {
            if (cursor_u32le(c, &e->sig.h[k]) != CM_OK) {
                *why = "fingerprint entry truncated";
                return CM_EPARSE;
            }
        }
    } else if (cursor_copy(c, e->digest, FINGERPRINT_DIGEST_LEN) != CM_OK ||
               cursor_u64le(c, &e->filter) != CM_OK) {
        *why = "fingerprint entry truncated";
        return CM_EPARSE;
    }
    return CM_OK;
}

enum cm_err
fingerprint_db_parse(const uint8_t *p, size_t len,
                     struct fingerprint_db **out, const char **why)
{
    struct cursor c;
    const uint8_t *magic = NULL;
    uint32_t version = 0;
    uint16_t k = 0;
    uint16_t m = 0;
    uint16_t shingle = 0;
    uint16_t min_words = 0;
    uint32_t n = 0;
    struct fingerprint_entry *entries = NULL;
    struct fingerprint_db *db;
    const char *reason = NULL;
    enum cm_err rc = CM_EPARSE;

    cursor_init(&c, p, len);
    if (cursor_bytes(&c, FP_MAGIC_LEN, &magic) != CM_OK ||
        memcmp(magic, FP_MAGIC, FP_MAGIC_LEN) != 0) {
        reason = "FINGERPRINTS section: bad magic";
        goto fail;
    }
    if (cursor_u32le(&c, &version) != CM_OK ||
        cursor_u16le(&c, &k) != CM_OK || cursor_u16le(&c, &m) != CM_OK ||
        cursor_u16le(&c, &shingle) != CM_OK ||
        cursor_u16le(&c, &min_words) != CM_OK ||
        cursor_u32le(&c, &n) != CM_OK) {
        reason = "FINGERPRINTS header truncated";
        goto fail;
    }
    if (version != FINGERPRINT_FORMAT || k != FINGERPRINT_K ||
        shingle != FINGERPRINT_SHINGLE_WORDS ||
        min_words != FINGERPRINT_MIN_WORDS) {
        reason = "FINGERPRINTS version or parameters differ from this build";
        rc = CM_EVERSION;
        goto fail;
    }
    if (!m_is_valid(m)) {
        reason = "FINGERPRINTS match threshold out of range";
        goto fail;
    }
    if (n > CAPS_FINGERPRINT_ENTRIES_MAX) {
        reason = "FINGERPRINTS holds too many entries";
        rc = CM_ELIMIT;
        goto fail;
    }
    /* A count the bytes cannot hold (FP_ENTRY_MIN each) is refused
     * before anything is allocated for it. */
    if (cursor_left(&c) / FP_ENTRY_MIN < n) {
        reason = "FINGERPRINTS count exceeds the section";
        goto fail;
    }
    entries = calloc(n > 0 ? n : 1, sizeof(*entries));
    if (entries == NULL) {
        reason = "out of memory";
        rc = CM_ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        rc = parse_entry(&c, &entries[i], &reason);
        if (rc != CM_OK) {
            goto fail;
        }
        if (i > 0 && cmp_payload(&entries[i - 1], &entries[i]) >= 0) {
            reason = "FINGERPRINTS entries out of order or repeated";
            rc = CM_EPARSE;
            goto fail;
        }
    }
    if (cursor_left(&c) != 0) {
        reason = "bytes after the FINGERPRINTS entries";
        rc = CM_EPARSE;
        goto fail;
    }
    db = db_build(entries, n, m);
    if (db == NULL) {
        reason = "out of memory";
        rc = CM_ENOMEM;
        entries = NULL;
        goto fail;
    }
    *out = db;
    return CM_OK;

fail:
    free(entries);
    if (why != NULL) {
        *why = reason;
    }
    return rc;
}

struct sort_item {
    const struct fingerprint_entry *e;
    size_t index;
};

static int
cmp_sort_item(const void *a, const void *b)
{
    const struct sort_item *x = a;
    const struct sort_item *y = b;
    int c = cmp_payload(x->e, y->e);

    if (c != 0) {
        return c;
    }
    return (x->index > y->index) - (x->index < y->index);
}

/* Sorted copy of e; with dedupe, later repeats of a payload are dropped. */
static struct fingerprint_entry *
sorted_copy(const struct fingerprint_entry *e, size_t n, bool dedupe,
            size_t *n_out)
{
    struct sort_item *s = calloc(n > 0 ? n : 1, sizeof(*s));
    struct fingerprint_entry *out = calloc(n > 0 ? n : 1, sizeof(*out));
    size_t k = 0;

    if (s == NULL || out == NULL) {
        free(s);
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        s[i].e = &e[i];
        s[i].index = i;
    }
    qsort(s, n, sizeof(*s), cmp_sort_item);
    for (size_t i = 0; i < n; i++) {
        if (dedupe && k > 0 && cmp_payload(&out[k - 1], s[i].e) == 0) {
            continue;
        }
        out[k++] = *s[i].e;
    }
    free(s);
    *n_out = k;
    return out;
}

struct fingerprint_db *
fingerprint_db_new(const struct fingerprint_entry *e, size_t n, unsigned m)
{
    struct fingerprint_entry *copy;
    size_t k = 0;

    /* Not the section's cap: cmtool train puts every signature of a
     * class in one (see fingerprint.h). */
    if (n > CAPS_TRAIN_MESSAGES_MAX || !m_is_valid(m)) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (e[i].kind < FINGERPRINT_BODY || e[i].kind > FINGERPRINT_URL) {
            return NULL;
        }
    }
    copy = sorted_copy(e, n, false, &k);
    if (copy == NULL) {
        return NULL;
    }
    return db_build(copy, k, m);
}

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
fingerprint_db_format(const struct fingerprint_entry *e, size_t n,
                      unsigned m, struct buf *out)
{
    struct fingerprint_entry *s;
    size_t k = 0;
    enum cm_err rc;

    if (n > CAPS_FINGERPRINT_ENTRIES_MAX) {
        return CM_ELIMIT;
    }
    if (!m_is_valid(m)) {
        return CM_EPARSE;
    }
    for (size_t i = 0; i < n; i++) {
        if (entry_problem(&e[i]) != NULL) {
            return CM_EPARSE;
        }
    }
    s = sorted_copy(e, n, true, &k);
    if (s == NULL) {
        return CM_ENOMEM;
    }
    rc = buf_append(out, FP_MAGIC, FP_MAGIC_LEN);
    rc = rc != CM_OK ? rc : put_le(out, FINGERPRINT_FORMAT, 4);
    rc = rc != CM_OK ? rc : put_le(out, FINGERPRINT_K, 2);
    rc = rc != CM_OK ? rc : put_le(out, m, 2);
    rc = rc != CM_OK ? rc : put_le(out, FINGERPRINT_SHINGLE_WORDS, 2);
    rc = rc != CM_OK ? rc : put_le(out, FINGERPRINT_MIN_WORDS, 2);
    rc = rc != CM_OK ? rc : put_le(out, k, 4);
    for (size_t i = 0; i < k && rc == CM_OK; i++) {
        size_t sl = strlen(s[i].sub);

        rc = put_le(out, s[i].kind, 1);
        rc = rc != CM_OK ? rc : put_le(out, s[i].category, 1);
        rc = rc != CM_OK ? rc : put_le(out, s[i].weight, 1);
        rc = rc != CM_OK ? rc : put_le(out, sl, 1);
        rc = rc != CM_OK ? rc : buf_append(out, s[i].sub, sl);
        if (s[i].kind == FINGERPRINT_BODY) {
            for (unsigned j = 0; j < FINGERPRINT_K && rc == CM_OK; j++) {
                rc = put_le(out, s[i].sig.h[j], 4);
            }
        } else if (rc == CM_OK) {
            rc = buf_append(out, s[i].digest, FINGERPRINT_DIGEST_LEN);
            rc = rc != CM_OK ? rc : put_le(out, s[i].filter, 8);
        }
    }
    free(s);
    return rc;
}

size_t
fingerprint_db_count(const struct fingerprint_db *db,
                     enum fingerprint_kind kind)
{
    if (db == NULL || kind < FINGERPRINT_BODY || kind > FINGERPRINT_URL) {
        return 0;
    }
    return db->kind_end[kind] - db->kind_start[kind];
}

size_t
fingerprint_db_size(const struct fingerprint_db *db)
{
    return db != NULL ? db->n : 0;
}

const struct fingerprint_entry *
fingerprint_db_at(const struct fingerprint_db *db, size_t i)
{
    return db != NULL && i < db->n ? &db->entries[i] : NULL;
}

unsigned
fingerprint_db_match_min(const struct fingerprint_db *db)
{
    return db != NULL ? db->m : FINGERPRINT_MATCH_MIN;
}

/* First key >= key. */
static size_t
lower_bound(const struct fingerprint_db *db, uint64_t key)
{
    size_t lo = 0;
    size_t hi = db->n_keys;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (db->keys[mid].key < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

size_t
fingerprint_db_each_body(const struct fingerprint_db *db,
                         const struct fingerprint_sig *sig, size_t max_run,
                         fingerprint_match_fn fn, void *ctx)
{
    size_t found = 0;
    uint32_t capped = 0; /* probes whose run was cut at max_run */

    if (db == NULL || db->n_keys == 0) {
        return 0;
    }
    for (size_t pos = 0; pos + db->m <= FINGERPRINT_K; pos++) {
        uint64_t key = (uint64_t)pos << 32 | sig->h[pos];
        size_t at = lower_bound(db, key);
        size_t r = 0;

        for (; at < db->n_keys && db->keys[at].key == key; at++, r++) {
            size_t idx = db->keys[at].entry;
            const struct fingerprint_entry *e = &db->entries[idx];
            bool is_seen = false;
            unsigned agree;

            if (r == max_run) {
                capped |= 1u << pos;
                break;
            }
            /* An entry agreeing at an earlier, complete probe was handled
             * there (a capped probe may have missed it: may repeat). */
            for (size_t q = 0; q < pos && !is_seen; q++) {
                is_seen = e->sig.h[q] == sig->h[q] &&
                          (capped & (1u << q)) == 0;
            }
            if (is_seen) {
                continue;
            }
            agree = fingerprint_agree(&e->sig, sig);
            if (agree >= db->m) {
                fn(ctx, idx, agree);
                found++;
            }
        }
    }
    return found;
}

struct best {
    const struct fingerprint_db *db;
    const struct fingerprint_entry *e;
    size_t index;
    unsigned agree;
};

static bool
is_better(const struct fingerprint_entry *a, unsigned a_agree, size_t a_i,
          const struct best *b)
{
    if (b->e == NULL) {
        return true;
    }
    if (a->category != b->e->category) {
        return a->category > b->e->category;
    }
    if (a->weight != b->e->weight) {
        return a->weight > b->e->weight;
    }
    if (a_agree != b->agree) {
        return a_agree > b->agree;
    }
    return a_i < b->index;
}

static void
keep_best(void *ctx, size_t index, unsigned agree)
{
    struct best *b = ctx;
    const struct fingerprint_entry *e = &b->db->entries[index];

    if (is_better(e, agree, index, b)) {
        b->e = e;
        b->index = index;
        b->agree = agree;
    }
}

const struct fingerprint_entry *
fingerprint_db_match_body(const struct fingerprint_db *db,
                          const struct fingerprint_sig *sig)
{
    struct best b = {db, NULL, 0, 0};

    fingerprint_db_each_body(db, sig, CAPS_FINGERPRINT_RUN_MAX, keep_best,
                             &b);
    return b.e;
}

const struct fingerprint_entry *
fingerprint_db_match_digest(const struct fingerprint_db *db,
                            enum fingerprint_kind kind,
                            const uint8_t digest[FINGERPRINT_DIGEST_LEN])
{
    size_t lo;
    size_t hi;

    if (db == NULL || (kind != FINGERPRINT_ATTACHMENT &&
                       kind != FINGERPRINT_URL)) {
        return NULL;
    }
    lo = db->kind_start[kind];
    hi = db->kind_end[kind];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(db->entries[mid].digest, digest,
                       FINGERPRINT_DIGEST_LEN);

        if (c == 0) {
            return &db->entries[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* Whether an entry of kind may have this filter (see fingerprint.h). */
static bool
may_match(const struct fingerprint_db *db, enum fingerprint_kind kind,
          uint64_t filter)
{
    const uint64_t *f = db->filters[kind];
    size_t lo = 0;
    size_t hi = db->n_filters[kind];

    if (db->has_unfiltered[kind]) {
        return true;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (f[mid] == filter) {
            return true;
        }
        if (f[mid] < filter) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

const struct fingerprint_entry *
fingerprint_db_match_attachment(const struct fingerprint_db *db,
                                const uint8_t *p, size_t len)
{
    uint8_t d[FINGERPRINT_DIGEST_LEN];

    if (db == NULL || fingerprint_db_count(db, FINGERPRINT_ATTACHMENT) == 0 ||
        !may_match(db, FINGERPRINT_ATTACHMENT,
                   fingerprint_attachment_filter(len)) ||
        !fingerprint_digest(p, len, d)) {
        return NULL;
    }
    return fingerprint_db_match_digest(db, FINGERPRINT_ATTACHMENT, d);
}

/* The URL entry for a URL whose host (url_host's) is given. */
static const struct fingerprint_entry *
match_url_host(const struct fingerprint_db *db, const char *url, size_t len,
               const char *host, size_t hl, unsigned flags)
{
    char norm[FINGERPRINT_URL_MAX + 1];
    uint8_t d[FINGERPRINT_DIGEST_LEN];
    size_t n = normalise_with_host(url, len, host, hl, flags, norm,
                                   sizeof(norm));

    if (n == 0 || !may_match(db, FINGERPRINT_URL, url_filter_of(norm, n)) ||
        !fingerprint_digest((const uint8_t *)norm, n, d)) {
        return NULL;
    }
    return fingerprint_db_match_digest(db, FINGERPRINT_URL, d);
}

const struct fingerprint_entry *
fingerprint_db_match_url(const struct fingerprint_db *db, const char *url,
                         size_t len)
{
    char host[URL_HOST_MAX_BYTES + 1];
    unsigned flags = 0;
    size_t hl;

    if (db == NULL || fingerprint_db_count(db, FINGERPRINT_URL) == 0) {
        return NULL;
    }
    hl = url_host(url, len, host, sizeof(host), &flags);
    return match_url_host(db, url, len, host, hl, flags);
}

const struct fingerprint_entry *
fingerprint_db_match_mime_url(const struct fingerprint_db *db,
                              const struct mime_url *u)
{
    if (db == NULL || fingerprint_db_count(db, FINGERPRINT_URL) == 0) {
        return NULL;
    }
    return match_url_host(db, u->url, u->url_len, u->host, u->host_len,
                          u->host_flags);
}

const char *
fingerprint_kind_name(enum fingerprint_kind kind)
{
    switch (kind) {
    case FINGERPRINT_BODY:
        return "body";
    case FINGERPRINT_ATTACHMENT:
        return "attachment";
    case FINGERPRINT_URL:
        return "url";
    }
    return "unknown";
}

const char *
fingerprint_category_name(enum fingerprint_category cat)
{
    switch (cat) {
    case FINGERPRINT_CAT_SPAM:
        return "spam";
    case FINGERPRINT_CAT_PHISHING:
        return "phishing";
    case FINGERPRINT_CAT_MALWARE:
        return "malware";
    }
    return "unknown";
}
