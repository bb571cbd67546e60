/*
 * reputation.c -- the REPUTATION section: validation, the sorted index,
 * longest-prefix and parent-domain lookups, and the check of one message
 * (SPEC §4; format and matching rules in reputation.h).
 *
 * Index: the entries packed back to back in one pool (fields and key, no
 * fixed-size key buffer) and an array of pointers to them in canonical
 * order (kind, prefix descending, key length, key).  For each IP kind the loader records the
 * run of entries of each prefix length, so a lookup masks the address to
 * each length present, longest first, and binary-searches that run: the
 * first hit is the longest prefix.  Domains are one run per kind; a host
 * is looked up whole, then without its first label, and so on.
 *
 * State: a database is built once and then only read, by any number of
 * threads; the check works on the caller's stack.  Limits: caps.h
 * (CAPS_REPUTATION_*).
 */
#include "reputation.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "caps.h"
#include "cursor.h"
#include "featureset.h"
#include "mime.h"
#include "queuefile.h"
#include "url.h"

#define REP_MAGIC "CMRP"
#define REP_MAGIC_LEN 4u
#define REP_KINDS (REPUTATION_URL_HOST + 1)

struct rep_run {
    uint8_t prefix;
    size_t start;
    size_t end;
};

struct reputation_db {
    const struct reputation_entry **e; /* canonical order, into pool */
    size_t n;
    uint8_t *pool; /* the packed entries */
    size_t kind_start[REP_KINDS];
    size_t kind_end[REP_KINDS];
    struct rep_run runs4[33]; /* IPv4 prefix runs, longest first */
    size_t n_runs4;
    struct rep_run runs6[129];
    size_t n_runs6;
};

/* ---- entries ---------------------------------------------------------- */

static bool
is_domain_key(const uint8_t *k, size_t len)
{
    if (len == 0 || len > REPUTATION_KEY_MAX || k[0] == '.' ||
        k[len - 1] == '.') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = k[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '-' || ch == '_')) {
            return false;
        }
        if (ch == '.' && k[i + 1] == '.') {
            return false;
        }
    }
    return true;
}

static bool
has_host_bits(const uint8_t *k, size_t len, unsigned prefix)
{
    for (size_t i = 0; i < len; i++) {
        unsigned bit0 = (unsigned)i * 8u;
        uint8_t keep;

        if (bit0 + 8u <= prefix) {
            continue;
        }
        keep = (uint8_t)(prefix > bit0 ? 0xffu << (8u - (prefix - bit0))
                                       : 0u);
        if ((k[i] & (uint8_t)~keep) != 0) {
            return true;
        }
    }
    return false;
}

static bool
is_v4_mapped(const uint8_t a[16])
{
    static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    return memcmp(a, pre, sizeof(pre)) == 0;
}

bool
reputation_item_is_valid(const struct reputation_item *e)
{
    bool is_allow = e->action == REPUTATION_ALLOW;

    if (e->action != REPUTATION_ALLOW && e->action != REPUTATION_BLOCK) {
        return false;
    }
    if (is_allow ? (e->weight >= 0 || e->category != REPUTATION_CAT_NONE)
                 : (e->weight <= 0 || e->category < REPUTATION_CAT_SPAM ||
                    e->category > REPUTATION_CAT_MALWARE)) {
        return false;
    }
    if (e->weight > REPUTATION_WEIGHT_MAX_CENTI ||
        e->weight < -REPUTATION_WEIGHT_MAX_CENTI) {
        return false;
    }
    switch (e->kind) {
    case REPUTATION_IPV4:
        return e->key_len == 4 && e->prefix >= 1 && e->prefix <= 32 &&
               !has_host_bits(e->key, 4, e->prefix);
    case REPUTATION_IPV6:
        /* IPv4-mapped space is written as IPv4: one form per address. */
        return e->key_len == 16 && e->prefix >= 1 && e->prefix <= 128 &&
               !has_host_bits(e->key, 16, e->prefix) &&
               !(e->prefix >= 96 && is_v4_mapped(e->key));
    case REPUTATION_SENDER_DOMAIN:
    case REPUTATION_URL_HOST:
        return e->prefix == 0 && is_domain_key(e->key, e->key_len);
    default:
        return false;
    }
}

/* Canonical order: kind, prefix descending, key length, key bytes. */
static int
item_cmp(const struct reputation_item *a, const struct reputation_item *b)
{
    if (a->kind != b->kind) {
        return a->kind < b->kind ? -1 : 1;
    }
    if (a->prefix != b->prefix) {
        return a->prefix > b->prefix ? -1 : 1;
    }
    if (a->key_len != b->key_len) {
        return a->key_len < b->key_len ? -1 : 1;
    }
    return memcmp(a->key, b->key, a->key_len);
}

/* ---- parse and index --------------------------------------------------- */

static void
index_runs(struct reputation_db *db)
{
    for (size_t i = 0; i < db->n; i++) {
        const struct reputation_entry *e = db->e[i];
        struct rep_run *runs = e->kind == REPUTATION_IPV4 ? db->runs4
                                                          : db->runs6;
        size_t *n_runs = e->kind == REPUTATION_IPV4 ? &db->n_runs4
                                                    : &db->n_runs6;

        if (db->kind_end[e->kind] == 0) {
            db->kind_start[e->kind] = i;
        }
        db->kind_end[e->kind] = i + 1;
        if (e->kind != REPUTATION_IPV4 && e->kind != REPUTATION_IPV6) {
            continue;
        }
        if (*n_runs == 0 || runs[*n_runs - 1].prefix != e->prefix) {
            runs[*n_runs] = (struct rep_run){e->prefix, i, i};
            (*n_runs)++;
        }
        runs[*n_runs - 1].end = i + 1;
    }
}

/* Copy e packed into pool at *used (2-aligned for the weight); the
 * pool was sized from the body, which holds each entry in 7 bytes plus
 * its key, so there is room for 7 + key + NUL + 1 alignment. */
static const struct reputation_entry *
pack(uint8_t *pool, size_t *used, const struct reputation_item *e)
{
    struct reputation_entry *p = (struct reputation_entry *)(void *)(pool +
                                                                     *used);

    p->weight = e->weight;
    p->kind = e->kind;
    p->action = e->action;
    p->category = e->category;
    p->prefix = e->prefix;
    p->key_len = e->key_len;
    memcpy(p->key, e->key, e->key_len);
    p->key[e->key_len] = '\0';
    *used += (offsetof(struct reputation_entry, key) + e->key_len + 2u) &
             ~(size_t)1u;
    return p;
}

void
reputation_entry_item(const struct reputation_entry *e,
                      struct reputation_item *out)
{
    memset(out, 0, sizeof(*out));
    out->weight = e->weight;
    out->kind = e->kind;
    out->action = e->action;
    out->category = e->category;
    out->prefix = e->prefix;
    out->key_len = e->key_len;
    memcpy(out->key, e->key, e->key_len);
}

/* One entry into *e.  The key length is a byte of the section, up to 255,
 * and e->key holds REPUTATION_KEY_MAX + 1: it is refused before the copy
 * (*why says so), not after by reputation_item_is_valid. */
static enum cm_err
read_entry(struct cursor *c, struct reputation_item *e, const char **why)
{
    uint16_t w = 0;

    memset(e, 0, sizeof(*e));
    if (cursor_u8(c, &e->kind) != CM_OK || cursor_u8(c, &e->action) ||
        cursor_u8(c, &e->category) || cursor_u8(c, &e->prefix) ||
        cursor_u16le(c, &w) || cursor_u8(c, &e->key_len)) {
        *why = "REPUTATION section truncated";
        return CM_EPARSE;
    }
    if (e->key_len > REPUTATION_KEY_MAX) {
        *why = "REPUTATION entry key longer than REPUTATION_KEY_MAX";
        return CM_EPARSE;
    }
    if (cursor_copy(c, e->key, e->key_len) != CM_OK) {
        *why = "REPUTATION section truncated";
        return CM_EPARSE;
    }
    e->weight = (int16_t)w;
    return CM_OK;
}

enum cm_err
reputation_db_parse(const uint8_t *p, size_t len, struct reputation_db **out,
                    const char **why)
{
    struct cursor c;
    const uint8_t *magic = NULL;
    uint32_t version = 0;
    uint32_t n = 0;
    struct reputation_db *db = NULL;
    struct reputation_item items[2]; /* this entry and the one before */
    size_t used = 0;

    *out = NULL;
    cursor_init(&c, p, len);
    if (cursor_bytes(&c, REP_MAGIC_LEN, &magic) != CM_OK ||
        memcmp(magic, REP_MAGIC, REP_MAGIC_LEN) != 0) {
        *why = "REPUTATION section: bad magic";
        return CM_EPARSE;
    }
    if (cursor_u32le(&c, &version) != CM_OK || cursor_u32le(&c, &n)) {
        *why = "REPUTATION section truncated";
        return CM_EPARSE;
    }
    if (version != REPUTATION_FORMAT) {
        *why = "REPUTATION section of an unknown version";
        return CM_EVERSION;
    }
    if (n > CAPS_REPUTATION_ENTRIES_MAX) {
        *why = "REPUTATION section holds too many entries";
        return CM_ELIMIT;
    }
    /* Every entry takes at least 7 bytes: a count past that is a lie. */
    if (n > cursor_left(&c) / 7u) {
        *why = "REPUTATION section truncated";
        return CM_EPARSE;
    }
    db = calloc(1, sizeof(*db));
    if (db == NULL ||
        (db->e = calloc(n > 0 ? n : 1, sizeof(*db->e))) == NULL ||
        (db->pool = malloc(len + 2u * (size_t)n + 2u)) == NULL) {
        reputation_db_free(db);
        *why = "out of memory";
        return CM_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct reputation_item *e = &items[i % 2];

        if (read_entry(&c, e, why) != CM_OK) {
            goto bad;
        }
        if (!reputation_item_is_valid(e)) {
            *why = "REPUTATION entry invalid (kind, action, category, "
                   "weight, prefix or key)";
            goto bad;
        }
        if (i > 0 && item_cmp(&items[(i + 1) % 2], e) >= 0) {
            *why = "REPUTATION entries out of order or repeated";
            goto bad;
        }
        db->e[i] = pack(db->pool, &used, e);
        db->n++;
    }
    if (cursor_left(&c) != 0) {
        *why = "bytes after the REPUTATION entries";
        goto bad;
    }
    index_runs(db);
    *out = db;
    return CM_OK;

bad:
    reputation_db_free(db);
    return CM_EPARSE;
}

void
reputation_db_free(struct reputation_db *db)
{
    if (db == NULL) {
        return;
    }
    free(db->e);
    free(db->pool);
    free(db);
}

/* ---- writer ------------------------------------------------------------ */

/* An entry and its place in the writer's input: sorting on both keeps
 * the first of equal keys first (qsort is not stable). */
struct rep_sortable {
    struct reputation_item e;
    size_t pos;
};

static int
sortable_cmp(const void *a, const void *b)
{
    const struct rep_sortable *x = a;
    const struct rep_sortable *y = b;
    int r = item_cmp(&x->e, &y->e);

    if (r != 0) {
        return r;
    }
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    for (unsigned b = 0; b < 4; b++) {
        p[b] = (uint8_t)(v >> (8u * b));
    }
}

enum cm_err
reputation_format(const struct reputation_item *e, size_t n, struct buf *out)
{
    struct rep_sortable *s;
    size_t kept = 0;
    uint8_t hdr[12];
    enum cm_err rc;

    if (n > CAPS_REPUTATION_ENTRIES_MAX) {
        return CM_ELIMIT;
    }
    for (size_t i = 0; i < n; i++) {
        if (!reputation_item_is_valid(&e[i])) {
            return CM_EPARSE;
        }
    }
    s = malloc((n > 0 ? n : 1) * sizeof(*s));
    if (s == NULL) {
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        s[i].e = e[i];
        s[i].pos = i;
    }
    qsort(s, n, sizeof(*s), sortable_cmp);
    for (size_t i = 0; i < n; i++) {
        if (kept == 0 || item_cmp(&s[kept - 1].e, &s[i].e) != 0) {
            s[kept++] = s[i];
        }
    }
    memcpy(hdr, REP_MAGIC, REP_MAGIC_LEN);
    put_u32(hdr + 4, REPUTATION_FORMAT);
    put_u32(hdr + 8, (uint32_t)kept);
    rc = buf_append(out, hdr, sizeof(hdr));
    for (size_t i = 0; i < kept && rc == CM_OK; i++) {
        const struct reputation_item *x = &s[i].e;
        uint8_t f[7];

        f[0] = x->kind;
        f[1] = x->action;
        f[2] = x->category;
        f[3] = x->prefix;
        f[4] = (uint8_t)((uint16_t)x->weight & 0xffu);
        f[5] = (uint8_t)((uint16_t)x->weight >> 8);
        f[6] = x->key_len;
        rc = buf_append(out, f, sizeof(f));
        rc = rc != CM_OK ? rc : buf_append(out, x->key, x->key_len);
    }
    free(s);
    return rc;
}

/* ---- accessors and lookups --------------------------------------------- */

size_t
reputation_db_size(const struct reputation_db *db)
{
    return db != NULL ? db->n : 0;
}

const struct reputation_entry *
reputation_db_at(const struct reputation_db *db, size_t i)
{
    return db != NULL && i < db->n ? db->e[i] : NULL;
}

size_t
reputation_db_count(const struct reputation_db *db, enum reputation_kind kind,
                    enum reputation_action action)
{
    size_t n = 0;

    if (db == NULL || kind < REPUTATION_IPV4 || kind > REPUTATION_URL_HOST) {
        return 0;
    }
    for (size_t i = db->kind_start[kind]; i < db->kind_end[kind]; i++) {
        n += db->e[i]->action == action;
    }
    return n;
}

/* Entry in [lo, hi) with exactly this key (all of one length), or NULL. */
static const struct reputation_entry *
search_key(const struct reputation_db *db, size_t lo, size_t hi,
           const uint8_t *key, size_t key_len)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct reputation_entry *e = db->e[mid];
        int r = e->key_len != key_len ? (e->key_len < key_len ? -1 : 1)
                                      : memcmp(e->key, key, key_len);

        if (r == 0) {
            return e;
        }
        if (r < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

static const struct reputation_entry *
match_runs(const struct reputation_db *db, const struct rep_run *runs,
           size_t n_runs, const uint8_t *addr, size_t len)
{
    uint8_t masked[16];

    for (size_t r = 0; r < n_runs; r++) {
        unsigned prefix = runs[r].prefix;
        const struct reputation_entry *e;

        for (size_t i = 0; i < len; i++) {
            unsigned bit0 = (unsigned)i * 8u;

            masked[i] = (uint8_t)(bit0 + 8u <= prefix ? addr[i]
                                  : prefix > bit0
                                      ? addr[i] &
                                            (0xffu << (8u - (prefix - bit0)))
                                      : 0u);
        }
        e = search_key(db, runs[r].start, runs[r].end, masked, len);
        if (e != NULL) {
            return e;
        }
    }
    return NULL;
}

const struct reputation_entry *
reputation_match_ip(const struct reputation_db *db, const uint8_t addr[16])
{
    if (db == NULL) {
        return NULL;
    }
    if (is_v4_mapped(addr)) {
        return match_runs(db, db->runs4, db->n_runs4, addr + 12, 4);
    }
    return match_runs(db, db->runs6, db->n_runs6, addr, 16);
}

const struct reputation_entry *
reputation_match_host(const struct reputation_db *db,
                      enum reputation_kind kind, const char *host, size_t len)
{
    /* Start offsets of the last CAPS_REPUTATION_LABELS_MAX suffixes (a
     * ring): labels added on the left cannot push the registered domain
     * out of reach. */
    size_t starts[CAPS_REPUTATION_LABELS_MAX];
    size_t n = 0;

    if (db == NULL ||
        (kind != REPUTATION_SENDER_DOMAIN && kind != REPUTATION_URL_HOST) ||
        db->kind_end[kind] == 0) {
        return NULL;
    }
    while (len > 0 && host[len - 1] == '.') {
        len--;
    }
    for (size_t i = 0; i < len; i++) {
        if (i == 0 || host[i - 1] == '.') {
            starts[n % CAPS_REPUTATION_LABELS_MAX] = i;
            n++;
        }
    }
    /* Most specific first: the longest suffix kept, then shorter ones. */
    for (size_t k = n > CAPS_REPUTATION_LABELS_MAX
                        ? n - CAPS_REPUTATION_LABELS_MAX
                        : 0;
         k < n; k++) {
        size_t at = starts[k % CAPS_REPUTATION_LABELS_MAX];
        const struct reputation_entry *e;

        if (len - at > REPUTATION_KEY_MAX) {
            continue;
        }
        e = search_key(db, db->kind_start[kind], db->kind_end[kind],
                       (const uint8_t *)host + at, len - at);
        if (e != NULL) {
            return e;
        }
    }
    return NULL;
}

/* ---- addresses ---------------------------------------------------------- */

bool
reputation_ip_parse(const char *text, size_t len, uint8_t out[16])
{
    char t[64];
    uint8_t v4[4];

    if (len >= 5 && strncasecmp(text, "ipv6:", 5) == 0) {
        text += 5;
        len -= 5;
    }
    if (len == 0 || len >= sizeof(t)) {
        return false;
    }
    memcpy(t, text, len);
    t[len] = '\0';
    if (inet_pton(AF_INET, t, v4) == 1) {
        memset(out, 0, 10);
        out[10] = 0xff;
        out[11] = 0xff;
        memcpy(out + 12, v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, t, out) == 1;
}

bool
reputation_ip_is_local(const uint8_t a[16])
{
    static const uint8_t zero[16] = {0};

    if (is_v4_mapped(a)) {
        const uint8_t *v = a + 12;

        return v[0] == 0 || v[0] == 10 || v[0] == 127 || v[0] >= 224 ||
               (v[0] == 169 && v[1] == 254) ||
               (v[0] == 172 && (v[1] & 0xf0) == 16) ||
               (v[0] == 192 && v[1] == 168) ||
               (v[0] == 100 && (v[1] & 0xc0) == 64) ||
               /* 192.0.0/24 (DS-Lite's 192.0.0.1/.2) and 198.18/15
                * (benchmarking; proxies' fake-IP answers): never an
                * Internet sender (RFC 6890), so a relay of ours. */
               (v[0] == 192 && v[1] == 0 && v[2] == 0) ||
               (v[0] == 198 && (v[1] & 0xfe) == 18);
    }
    if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) {
        return true; /* :: and ::1 */
    }
    return (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || /* fe80::/10 */
           (a[0] & 0xfe) == 0xfc ||                   /* fc00::/7 */
           a[0] == 0xff;                              /* multicast */
}

static bool
ieq_prefix(const char *p, size_t len, const char *word)
{
    size_t n = strlen(word);

    return len >= n && strncasecmp(p, word, n) == 0;
}

/* Whether the '[' at v[i] opens the client's greeting: "helo=[" (Exim)
 * or "HELO [" (CommuniGate Pro), any case. */
static bool
follows_helo(const char *v, size_t i)
{
    return i >= 5 && strncasecmp(v + i - 5, "helo", 4) == 0 &&
           (v[i - 1] == '=' || v[i - 1] == ' ');
}

/* Where received_from_ip found the client: the address, the '[' and
 * ']' around it, and the '(' of the group holding it (none: outside
 * parentheses); end is where the from clause ends. */
struct received_at {
    uint8_t ip[16];
    size_t open_br;
    size_t close_br;
    size_t group;
    bool is_inner;
    size_t end;
};

/*
 * The connecting address in the "from" clause of a Received value (the
 * text before " by " or ';'); false when there is none.  The clause also
 * holds the client's greeting, which may be an address literal of its
 * choosing ("EHLO [10.0.0.1]"): Postfix and sendmail write "from HELO
 * (rDNS [ip])", Exim and CommuniGate Pro "from [ip] (helo=HELO)",
 * "from rDNS ([ip] helo=HELO)" or "from [ip] (HELO HELO)".  So the
 * last bracketed address inside parentheses that is not the greeting's
 * wins, else the first one outside them.
 */
static bool
received_from_ip(const char *v, size_t len, struct received_at *at)
{
    size_t i = 0;
    size_t last_open = 0;
    unsigned depth = 0;
    bool has_inner = false;
    bool has_outer = false;
    struct received_at outer;

    while (i < len && (v[i] == ' ' || v[i] == '\t')) {
        i++;
    }
    if (!ieq_prefix(v + i, len - i, "from") || i + 4 >= len ||
        (v[i + 4] != ' ' && v[i + 4] != '\t')) {
        return false;
    }
    for (i += 4; i < len && v[i] != ';'; i++) {
        const char *end;
        uint8_t a[16];
        struct received_at *to;

        if ((v[i] == ' ' || v[i] == '\t') &&
            ieq_prefix(v + i + 1, len - i - 1, "by ")) {
            break;
        }
        last_open = v[i] == '(' ? i : last_open;
        depth += v[i] == '(';
        depth -= v[i] == ')' && depth > 0;
        if (v[i] != '[' || follows_helo(v, i) ||
            (end = memchr(v + i + 1, ']', len - i - 1)) == NULL ||
            !reputation_ip_parse(v + i + 1, (size_t)(end - v - i - 1), a)) {
            continue;
        }
        if (depth == 0 && has_outer) {
            continue;
        }
        to = depth > 0 ? at : &outer;
        memcpy(to->ip, a, 16);
        to->open_br = i;
        to->close_br = (size_t)(end - v);
        to->group = last_open;
        to->is_inner = depth > 0;
        has_inner = has_inner || depth > 0;
        has_outer = has_outer || depth == 0;
    }
    if (!has_inner && has_outer) {
        *at = outer;
    }
    at->end = i;
    return has_inner || has_outer;
}

/* Length of the host name at s (up to n bytes): letters, digits, '.',
 * '-', '_', with at least one dot ("unknown", "localhost" and the like
 * are placeholders, not names); 0 when it is not one. */
static size_t
host_name_len(const char *s, size_t n)
{
    size_t k = 0;
    bool has_dot = false;

    while (k < n && (((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'z') ||
                     (s[k] >= '0' && s[k] <= '9') || s[k] == '.' ||
                     s[k] == '-' || s[k] == '_')) {
        has_dot = has_dot || s[k] == '.';
        k++;
    }
    return has_dot ? k : 0;
}

/* Whether word occurs, any case, in v[from, to). */
static bool
has_word(const char *v, size_t from, size_t to, const char *word)
{
    size_t n = strlen(word);

    for (size_t i = from; i + n <= to; i++) {
        if (strncasecmp(v + i, word, n) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether the address whose ']' is at v[i] is followed (after Exim's
 * ":port" and blanks) by Exim's "helo=" or CommuniGate Pro's "verified"
 * word, within the clause (end): the forms that name the client by a
 * looked-up name only. */
static bool
shows_lookup(const char *v, size_t i, size_t end)
{
    size_t k = i + 1;

    if (k < end && v[k] == ':') {
        for (k++; k < end && v[k] >= '0' && v[k] <= '9'; k++) {
        }
    }
    if (k >= end || (v[k] != ' ' && v[k] != '\t')) {
        return false;
    }
    while (k < end && (v[k] == ' ' || v[k] == '\t')) {
        k++;
    }
    if (ieq_prefix(v + k, end - k, "helo=")) {
        return true;
    }
    return ieq_prefix(v + k, end - k, "verified") &&
           (k + 8 == end || v[k + 8] == ')' || v[k + 8] == ' ' ||
            v[k + 8] == '\t');
}

/*
 * The name the writing server verified for the client at *at, as
 * (*name, return value); 0 when the form shows none.  Only two forms say
 * a lookup made the name, and the client's greeting is never it:
 *   - "(NAME [ip])": Postfix and sendmail put the reverse DNS name first
 *     in the group ("unknown" when there is none; sendmail adds "(may be
 *     forged)" when it did not resolve back, which disqualifies it);
 *   - "from NAME ([ip] helo=...)" (Exim, which names a client only by a
 *     verified name) and "from NAME ([ip] verified)" (CommuniGate Pro).
 * "from NAME ([ip])" alone is sendmail's HELO as often as Exim's name,
 * so it gives none; so do an address outside parentheses ("from [ip]
 * (HELO x)") and other words before the address ("(account u [ip])").
 */
static size_t
received_verified_name(const char *v, const struct received_at *at,
                       const char **name)
{
    size_t i = at->group + 1;
    size_t n;
    size_t f = 0;

    if (!at->is_inner) {
        return 0;
    }
    while (i < at->open_br && (v[i] == ' ' || v[i] == '\t')) {
        i++;
    }
    if (i < at->open_br) {
        n = host_name_len(v + i, at->open_br - i);
        if (n == 0 || has_word(v, at->close_br, at->end, "forged")) {
            return 0;
        }
        for (size_t k = i + n; k < at->open_br; k++) {
            if (v[k] != ' ' && v[k] != '\t') {
                return 0;
            }
        }
        *name = v + i;
        return n;
    }
    if (!shows_lookup(v, at->close_br, at->end)) {
        return 0;
    }
    /* "from NAME (": NAME is the clause's first word, and this group
     * follows it. */
    while (v[f] == ' ' || v[f] == '\t') {
        f++;
    }
    f += 4;
    while (f < at->group && (v[f] == ' ' || v[f] == '\t')) {
        f++;
    }
    n = host_name_len(v + f, at->group - f);
    for (size_t k = f + n; n > 0 && k < at->group; k++) {
        if (v[k] != ' ' && v[k] != '\t') {
            return 0;
        }
    }
    *name = v + f;
    return n;
}

bool
reputation_received_client(const struct mime_header *h, uint8_t ip[16],
                           const char **name, size_t *name_len)
{
    struct received_at at;

    *name = NULL;
    *name_len = 0;
    /* As written: the value is RFC 2047 decoded, and an encoded word in
     * the client's greeting (no MTA decodes one) would put parentheses
     * and brackets of its choosing into the server's text. */
    if (h == NULL || h->raw_value == NULL ||
        !received_from_ip(h->raw_value, h->raw_value_len, &at)) {
        return false;
    }
    memcpy(ip, at.ip, 16);
    *name_len = received_verified_name(h->raw_value, &at, name);
    if (*name_len == 0) {
        *name = NULL;
    }
    return true;
}

bool
reputation_peer_ip(const struct mime_doc *doc, const struct envelope *env,
                   uint8_t out[16])
{
    const struct mime_header *h = NULL;

    if (env != NULL && env->has_peer_ip &&
        memchr(env->peer_ip, '\0', sizeof(env->peer_ip)) != NULL &&
        reputation_ip_parse(env->peer_ip, strlen(env->peer_ip), out) &&
        !reputation_ip_is_local(out)) {
        return true;
    }
    if (doc == NULL) {
        return false;
    }
    /* The topmost header is trusted; each one below it only because the
     * one above names a private relay (ours) as its client.  A header
     * without a bracketed client address names no relay, so whatever is
     * below it may be the sender's writing: the walk ends there. */
    for (size_t k = 0; k < CAPS_REPUTATION_RECEIVED_MAX; k++) {
        const char *name;
        size_t name_len;

        h = mime_header_next(doc, h, "Received");
        if (!reputation_received_client(h, out, &name, &name_len)) {
            break;
        }
        if (!reputation_ip_is_local(out)) {
            return true;
        }
    }
    return false;
}

/* ---- one message ------------------------------------------------------- */

/* The slot a block that finds the list full may take: the last allow,
 * else the lightest block lighter than it; REPUTATION_HITS_MAX for none. */
static size_t
slot_for_block(const struct reputation_hits *hits,
               const struct reputation_entry *e)
{
    size_t lightest = REPUTATION_HITS_MAX;

    for (size_t i = hits->n; i > 0; i--) {
        const struct reputation_entry *x = hits->hit[i - 1].e;

        if (x->action == REPUTATION_ALLOW) {
            return i - 1;
        }
        if (x->weight < e->weight &&
            (lightest == REPUTATION_HITS_MAX ||
             x->weight < hits->hit[lightest].e->weight)) {
            lightest = i - 1;
        }
    }
    return lightest;
}

/*
 * Keep e unless it is kept already.  When the list is full, a block
 * replaces the last allow or a lighter block (its weight leaves the
 * total), so links to allow-listed hosts cannot push a blocked one out;
 * an entry replaced never comes back (a later block only replaces a
 * lighter one), so none counts twice.
 */
void
reputation_hits_add(struct reputation_hits *hits,
                    const struct reputation_entry *e)
{
    size_t at = hits->n;

    if (e == NULL) {
        return;
    }
    for (size_t i = 0; i < hits->n; i++) {
        if (hits->hit[i].e == e) {
            return;
        }
    }
    if (at == REPUTATION_HITS_MAX) {
        if (e->action != REPUTATION_BLOCK) {
            return;
        }
        at = slot_for_block(hits, e);
        if (at == REPUTATION_HITS_MAX) {
            return;
        }
        hits->total -= hits->hit[at].e->weight;
    } else {
        hits->n++;
    }
    hits->hit[at].e = e;
    hits->total += e->weight;
    if (e->action == REPUTATION_BLOCK &&
        (hits->strongest_block == NULL ||
         e->weight > hits->strongest_block->weight)) {
        hits->strongest_block = e;
    }
}

static void
visit_sender(const char *value, size_t len, reputation_key_fn fn, void *ctx)
{
    char dom[CAPS_ADDR_MAX];
    size_t dl = features_address_domain(value, len, dom, sizeof(dom));

    if (dl > 0) {
        fn(ctx, REPUTATION_SENDER_DOMAIN, (const uint8_t *)dom, dl);
    }
}

void
reputation_each_key(const struct mime_doc *doc, const struct envelope *env,
                    unsigned kinds, reputation_key_fn fn, void *ctx)
{
    uint8_t ip[16];

    if ((kinds & REPUTATION_KEYS_IP) != 0 &&
        reputation_peer_ip(doc, env, ip)) {
        fn(ctx, REPUTATION_IPV6, ip, sizeof(ip));
    }
    if ((kinds & REPUTATION_KEYS_SENDER) != 0 && doc != NULL) {
        const struct mime_header *from = mime_header_find(doc, "From");
        const struct mime_header *rp = mime_header_find(doc, "Return-Path");

        const char *v;
        size_t vl;

        /* The address before RFC 2047 decoding: an encoded word that
         * decodes to "<x@allowed.example>" after the real address must
         * not earn that domain's allow entry. */
        if (from != NULL) {
            mime_header_addr_text(from, &v, &vl);
            visit_sender(v, vl, fn, ctx);
        }
        if (env != NULL && env->has_return_path &&
            memchr(env->return_path, '\0', sizeof(env->return_path)) !=
                NULL) {
            visit_sender(env->return_path, strlen(env->return_path), fn,
                         ctx);
        } else if (rp != NULL) {
            mime_header_addr_text(rp, &v, &vl);
            visit_sender(v, vl, fn, ctx);
        }
    }
    /* Every URL the parse kept (at most MIME_MAX_URLS), not the model's
     * CAPS_FEATURES_URLS_MAX: harmless links in front of a blocked one
     * must not push it out of reach (one lookup is a few binary
     * searches). */
    if ((kinds & REPUTATION_KEYS_URL) != 0 && doc != NULL) {
        size_t n = doc->n_urls < MIME_MAX_URLS ? doc->n_urls : MIME_MAX_URLS;

        for (size_t i = 0; i < n; i++) {
            const struct mime_url *u = &doc->urls[i];

            if (u->host_len > 0 &&
                (u->host_flags & (URL_IS_MAILTO | URL_IS_IP)) == 0) {
                fn(ctx, REPUTATION_URL_HOST, (const uint8_t *)u->host,
                   u->host_len);
            }
        }
    }
}

struct check_ctx {
    const struct reputation_db *db;
    struct reputation_hits *hits;
};

static void
check_key(void *ctx, enum reputation_kind kind, const uint8_t *key,
          size_t len)
{
    struct check_ctx *cc = ctx;

    reputation_hits_add(cc->hits,
                        kind == REPUTATION_IPV6
                            ? reputation_match_ip(cc->db, key)
                            : reputation_match_host(cc->db, kind,
                                                    (const char *)key, len));
}

void
reputation_check(const struct reputation_db *db, const struct mime_doc *doc,
                 const struct envelope *env, struct reputation_hits *hits)
{
    struct check_ctx cc = {db, hits};
    unsigned kinds = 0;

    memset(hits, 0, sizeof(*hits));
    if (db == NULL || db->n == 0) {
        return;
    }
    /* Only the kinds the database has: no Received walk or URL host
     * parse for a cartridge that lists none. */
    kinds |= db->n_runs4 > 0 || db->n_runs6 > 0 ? REPUTATION_KEYS_IP : 0u;
    kinds |= db->kind_end[REPUTATION_SENDER_DOMAIN] > 0
                 ? REPUTATION_KEYS_SENDER
                 : 0u;
    kinds |= db->kind_end[REPUTATION_URL_HOST] > 0 ? REPUTATION_KEYS_URL : 0u;
    reputation_each_key(doc, env, kinds, check_key, &cc);
    reputation_hits_clip(hits);
}

void
reputation_hits_clip(struct reputation_hits *hits)
{
    if (hits->total > REPUTATION_WEIGHT_MAX_CENTI) {
        hits->total = REPUTATION_WEIGHT_MAX_CENTI;
    } else if (hits->total < -REPUTATION_WEIGHT_MAX_CENTI) {
        hits->total = -REPUTATION_WEIGHT_MAX_CENTI;
    }
}

/* ---- text --------------------------------------------------------------- */

const char *
reputation_kind_name(enum reputation_kind kind)
{
    switch (kind) {
    case REPUTATION_IPV4:
        return "ipv4";
    case REPUTATION_IPV6:
        return "ipv6";
    case REPUTATION_SENDER_DOMAIN:
        return "domain";
    case REPUTATION_URL_HOST:
        return "urlhost";
    }
    return "?";
}

const char *
reputation_action_name(enum reputation_action action)
{
    return action == REPUTATION_ALLOW   ? "allow"
           : action == REPUTATION_BLOCK ? "block"
                                        : "?";
}

const char *
reputation_category_name(enum reputation_category cat)
{
    switch (cat) {
    case REPUTATION_CAT_NONE:
        return "none";
    case REPUTATION_CAT_SPAM:
        return "spam";
    case REPUTATION_CAT_PHISHING:
        return "phishing";
    case REPUTATION_CAT_MALWARE:
        return "malware";
    }
    return "?";
}

/* The key as text: "192.0.2.0/24", "2001:db8::/32", "example.org". */
static void
key_text(uint8_t kind, uint8_t prefix, const uint8_t *key, uint8_t key_len,
         char *out, size_t cap)
{
    char a[INET6_ADDRSTRLEN];

    if (kind == REPUTATION_IPV4 || kind == REPUTATION_IPV6) {
        if (inet_ntop(kind == REPUTATION_IPV4 ? AF_INET : AF_INET6, key, a,
                      sizeof(a)) == NULL) {
            snprintf(a, sizeof(a), "?");
        }
        snprintf(out, cap, "%s/%u", a, (unsigned)prefix);
    } else {
        snprintf(out, cap, "%.*s", (int)key_len, (const char *)key);
    }
}

void
reputation_item_text(const struct reputation_item *e, char *out, size_t cap)
{
    char k[REPUTATION_KEY_MAX + 1];
    bool is_ip = e->kind == REPUTATION_IPV4 || e->kind == REPUTATION_IPV6;

    key_text(e->kind, e->prefix, e->key, e->key_len, k, sizeof(k));
    snprintf(out, cap, "%s %s %s %.2f%s%s",
             reputation_action_name((enum reputation_action)e->action),
             is_ip ? "ip" : reputation_kind_name((enum reputation_kind)e->kind),
             k, e->weight / 100.0,
             e->action == REPUTATION_BLOCK ? " " : "",
             e->action == REPUTATION_BLOCK
                 ? reputation_category_name(
                       (enum reputation_category)e->category)
                 : "");
}

void
reputation_hits_format(const struct reputation_hits *hits, bool with_keys,
                       char *text, size_t cap)
{
    size_t used = strlen(text);

    for (size_t i = 0; i < hits->n; i++) {
        const struct reputation_entry *e = hits->hit[i].e;
        const char *kind = e->kind == REPUTATION_SENDER_DOMAIN ? "dom"
                           : e->kind == REPUTATION_URL_HOST    ? "url"
                                                               : "ip";
        char k[REPUTATION_KEY_MAX + 2];
        int w;

        k[0] = '\0';
        if (with_keys) {
            key_text(e->kind, e->prefix, e->key, e->key_len, k + 1,
                     sizeof(k) - 1);
            k[0] = ':';
        }
        w = snprintf(text + used, cap - used, "%s%s%s%s:%+.2f",
                     i == 0 && used > 0 ? " " : "",
                     i > 0 ? "," : with_keys ? "rep-hits=" : "rep=", kind, k,
                     e->weight / 100.0);
        if (w < 0 || (size_t)w >= cap - used) {
            text[used] = '\0'; /* no half entry */
            break;
        }
        used += (size_t)w;
    }
}
