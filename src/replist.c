/*
 * replist.c -- plain-text reputation lists → reputation entries (format
 * in replist.h).
 *
 * A line is cut into at most five blank-separated words before anything
 * is interpreted, so a long or odd line costs one bounded pass; every
 * word is checked against its own small grammar and the finished entry
 * against reputation_item_is_valid, the loader's own rule, so a list
 * that parses always makes a section that loads.
 *
 * State: none; the caller owns the growing entry array.  Limits: caps.h
 * (CAPS_REPUTATION_*).
 */
#include "replist.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "caps.h"
#include "cursor.h"
#include "fsutil.h"
#include "ipnet.h"

#define REPLIST_WORDS_MAX 5u

struct word {
    const char *p;
    size_t len;
};

void
replist_clear(struct replist *l)
{
    free(l->e);
    free(l->src);
    l->e = NULL;
    l->src = NULL;
    l->n = 0;
    l->cap = 0;
}

enum cm_err
replist_add(struct replist *l, const struct reputation_item *e)
{
    if (l->n >= CAPS_REPUTATION_ENTRIES_MAX) {
        return CM_ELIMIT;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap > 0 ? l->cap * 2 : 64;
        struct reputation_item *ne;
        struct replist_src *ns;

        if (cap > CAPS_REPUTATION_ENTRIES_MAX) {
            cap = CAPS_REPUTATION_ENTRIES_MAX;
        }
        ne = realloc(l->e, cap * sizeof(*ne));
        if (ne == NULL) {
            return CM_ENOMEM;
        }
        l->e = ne;
        /* cap grows only when both arrays have it. */
        ns = realloc(l->src, cap * sizeof(*ns));
        if (ns == NULL) {
            return CM_ENOMEM;
        }
        l->src = ns;
        l->cap = cap;
    }
    l->src[l->n] = (struct replist_src){NULL, 0};
    l->e[l->n++] = *e;
    return CM_OK;
}

static bool
word_is(const struct word *w, const char *s)
{
    return w->len == strlen(s) && memcmp(w->p, s, w->len) == 0;
}

/* "5", "2.5", "0.25", "-3" → hundredths (sign kept); false when not a
 * number of that form or its magnitude is past the maximum. */
static bool
parse_weight(const struct word *w, int *centi)
{
    size_t i = 0;
    bool is_neg = false;
    long v = 0;
    unsigned decimals = 0;
    bool has_digit = false;
    bool has_dot = false;

    if (i < w->len && (w->p[i] == '-' || w->p[i] == '+')) {
        is_neg = w->p[i] == '-';
        i++;
    }
    for (; i < w->len; i++) {
        char ch = w->p[i];

        if (ch == '.' && !has_dot) {
            has_dot = true;
            continue;
        }
        if (ch < '0' || ch > '9' || (has_dot && decimals == 2)) {
            return false;
        }
        v = v * 10 + (ch - '0');
        decimals += has_dot;
        has_digit = true;
        if (v > 100000) {
            return false;
        }
    }
    for (; decimals < 2; decimals++) {
        v *= 10;
    }
    if (!has_digit || v == 0 || v > REPUTATION_WEIGHT_MAX_CENTI) {
        return false;
    }
    *centi = is_neg ? -(int)v : (int)v;
    return true;
}

static bool
parse_category(const struct word *w, uint8_t *cat)
{
    if (word_is(w, "spam")) {
        *cat = REPUTATION_CAT_SPAM;
    } else if (word_is(w, "phishing")) {
        *cat = REPUTATION_CAT_PHISHING;
    } else if (word_is(w, "malware")) {
        *cat = REPUTATION_CAT_MALWARE;
    } else {
        return false;
    }
    return true;
}

/* IP value "a.b.c.d[/n]" or "v6[/n]" into e (ipnet's rules, shared with
 * whitelist.cfg); a static reason on error. */
static const char *
parse_ip_value(const struct word *w, struct reputation_item *e)
{
    const char *slash = memchr(w->p, '/', w->len);
    size_t al = slash != NULL ? (size_t)(slash - w->p) : w->len;
    size_t tag = al >= 5 && strncasecmp(w->p, "ipv6:", 5) == 0 ? 5 : 0;
    struct ipnet n;
    const char *why;

    /* The "ipv6:" tag (CGP's address form) belongs on IPv6 notation: on a
     * dotted IPv4 address it made "ipv6:10.0.0.0/104" pass for 10/8. */
    if (tag > 0 && memchr(w->p + tag, ':', al - tag) == NULL) {
        return "ipv6: before an IPv4 address";
    }
    why = ipnet_parse(w->p + tag, w->len - tag, &n);
    if (why != NULL) {
        return why;
    }
    /* ::ffff:a.b.c.d/N is IPv4 with N - 96 bits; one form per address. */
    if (n.is_v4 && n.prefix <= 96) {
        return "prefix of an IPv4-mapped address not in 97..128";
    }
    e->kind = n.is_v4 ? REPUTATION_IPV4 : REPUTATION_IPV6;
    e->prefix = (uint8_t)(n.is_v4 ? n.prefix - 96 : n.prefix);
    e->key_len = n.is_v4 ? 4 : 16;
    memcpy(e->key, n.is_v4 ? n.addr + 12 : n.addr, e->key_len);
    return NULL;
}

/* Host value, lower-cased, one trailing dot dropped. */
static const char *
parse_host_value(const struct word *w, struct reputation_item *e)
{
    size_t len = w->len;

    if (len > 0 && w->p[len - 1] == '.') {
        len--;
    }
    if (len == 0 || len > REPUTATION_KEY_MAX) {
        return "host name empty or longer than 253 bytes";
    }
    for (size_t i = 0; i < len; i++) {
        char ch = w->p[i];

        e->key[i] = (uint8_t)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    e->key[len] = '\0';
    e->key_len = (uint8_t)len;
    e->prefix = 0;
    return NULL;
}

/* One line's words into e; a static reason on error. */
static const char *
parse_entry(const struct word *w, size_t n, struct reputation_item *e)
{
    const char *why;
    int weight = 0;
    bool has_weight = false;
    bool has_cat = false;

    memset(e, 0, sizeof(*e));
    if (n < 3) {
        return "expected ACTION KIND VALUE [WEIGHT] [CATEGORY]";
    }
    if (word_is(&w[0], "block")) {
        e->action = REPUTATION_BLOCK;
        e->category = REPUTATION_CAT_SPAM;
    } else if (word_is(&w[0], "allow")) {
        e->action = REPUTATION_ALLOW;
    } else {
        return "action is not block or allow";
    }
    if (word_is(&w[1], "ip")) {
        why = parse_ip_value(&w[2], e);
    } else if (word_is(&w[1], "domain")) {
        e->kind = REPUTATION_SENDER_DOMAIN;
        why = parse_host_value(&w[2], e);
    } else if (word_is(&w[1], "urlhost")) {
        e->kind = REPUTATION_URL_HOST;
        why = parse_host_value(&w[2], e);
    } else {
        return "kind is not ip, domain or urlhost";
    }
    if (why != NULL) {
        return why;
    }
    for (size_t i = 3; i < n; i++) {
        if (!has_weight && !has_cat && parse_weight(&w[i], &weight)) {
            has_weight = true;
        } else if (!has_cat && e->action == REPUTATION_BLOCK &&
                   parse_category(&w[i], &e->category)) {
            has_cat = true;
        } else {
            return e->action == REPUTATION_ALLOW
                       ? "expected a weight 0.01..10 (allow takes no "
                         "category)"
                       : "expected a weight 0.01..10 or a category (spam, "
                         "phishing, malware)";
        }
    }
    if (!has_weight) {
        weight = e->action == REPUTATION_BLOCK ? REPUTATION_BLOCK_DEFAULT_CENTI
                                               : REPUTATION_ALLOW_DEFAULT_CENTI;
    } else if (e->action == REPUTATION_BLOCK && weight < 0) {
        return "a block weight must be positive";
    } else if (e->action == REPUTATION_ALLOW && weight > 0) {
        weight = -weight;
    }
    e->weight = (int16_t)weight;
    if (!reputation_item_is_valid(e)) {
        return e->kind == REPUTATION_IPV4 || e->kind == REPUTATION_IPV6
                   ? "host bits set past the prefix length"
                   : "bad host name (letters, digits, '.', '-', '_'; no "
                     "empty label)";
    }
    return NULL;
}

static enum cm_err
fail(char *err, size_t cap, const char *name, size_t line, const char *why)
{
    snprintf(err, cap, "%s:%zu: %s", name, line, why);
    return CM_EPARSE;
}

enum cm_err
replist_parse(const char *name, const uint8_t *p, size_t len,
              struct replist *l, char *err, size_t err_cap)
{
    size_t line = 0;
    /* A UTF-8 byte order mark, which Windows editors put in front of a
     * file they save, is no part of the first line: without this skip
     * that line failed as "action is not block or allow" while it read
     * fine (config.c skips it in its files too). */
    size_t i = len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;

    while (i < len) {
        size_t start = i;
        size_t end;
        struct word w[REPLIST_WORDS_MAX];
        size_t n = 0;
        struct reputation_item e;
        const char *why;
        enum cm_err rc;

        line++;
        while (i < len && p[i] != '\n') {
            i++;
        }
        end = i;
        i += i < len;
        if (end - start > CAPS_REPUTATION_LINE_MAX) {
            return fail(err, err_cap, name, line, "line too long");
        }
        for (size_t k = start; k < end; k++) {
            if (p[k] == '#') {
                end = k;
                break;
            }
            if (p[k] == 0 || (p[k] < 0x20 && p[k] != '\t' && p[k] != '\r')) {
                return fail(err, err_cap, name, line,
                            "control character in the line");
            }
        }
        for (size_t k = start; k < end;) {
            size_t ws;

            while (k < end && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r')) {
                k++;
            }
            if (k == end) {
                break;
            }
            ws = k;
            while (k < end && p[k] != ' ' && p[k] != '\t' && p[k] != '\r') {
                k++;
            }
            if (n == REPLIST_WORDS_MAX) {
                return fail(err, err_cap, name, line, "too many words");
            }
            w[n].p = (const char *)p + ws;
            w[n].len = k - ws;
            n++;
        }
        if (n == 0) {
            continue;
        }
        why = parse_entry(w, n, &e);
        if (why != NULL) {
            return fail(err, err_cap, name, line, why);
        }
        rc = replist_add(l, &e);
        if (rc != CM_OK) {
            fail(err, err_cap, name, line,
                 rc == CM_ELIMIT ? "too many entries" : "out of memory");
            return rc;
        }
        l->src[l->n - 1] = (struct replist_src){name, line};
    }
    return CM_OK;
}

enum cm_err
replist_load(const char *path, struct replist *l, char *err, size_t err_cap)
{
    struct buf b;
    bool is_truncated = false;
    const char *why = NULL;
    enum cm_err rc;

    buf_init(&b, CAPS_REPUTATION_LIST_MAX_BYTES);
    rc = fsutil_read_file(path, CAPS_REPUTATION_LIST_MAX_BYTES, &b,
                          &is_truncated, &why);
    if (rc != CM_OK) {
        snprintf(err, err_cap, "%s: %s", path, why != NULL ? why : "cannot "
                                                                  "read");
    } else if (is_truncated) {
        snprintf(err, err_cap, "%s: larger than %u bytes", path,
                 CAPS_REPUTATION_LIST_MAX_BYTES);
        rc = CM_ELIMIT;
    } else {
        rc = replist_parse(path, b.data, b.len, l, err, err_cap);
    }
    buf_clear(&b);
    return rc;
}

/* ---- conflicts ----------------------------------------------------- */

/* An entry of the list and its place, sorted by key then place. */
struct keyed {
    const struct reputation_item *e;
    size_t pos;
};

static int
key_cmp(const struct reputation_item *x, const struct reputation_item *y)
{
    if (x->kind != y->kind) {
        return x->kind < y->kind ? -1 : 1;
    }
    if (x->prefix != y->prefix) {
        return x->prefix < y->prefix ? -1 : 1;
    }
    if (x->key_len != y->key_len) {
        return x->key_len < y->key_len ? -1 : 1;
    }
    return memcmp(x->key, y->key, x->key_len);
}

static int
keyed_cmp(const void *a, const void *b)
{
    const struct keyed *x = a;
    const struct keyed *y = b;
    int r = key_cmp(x->e, y->e);

    return r != 0 ? r : (x->pos > y->pos) - (x->pos < y->pos);
}

/* "name:line: <later> contradicts <earlier> at name:line ..." */
static enum cm_err
conflict(const struct replist *l, size_t first, size_t later, char *err,
         size_t err_cap)
{
    char a[REPUTATION_TEXT_MAX];
    char b[REPUTATION_TEXT_MAX];

    reputation_item_text(&l->e[later], a, sizeof(a));
    reputation_item_text(&l->e[first], b, sizeof(b));
    snprintf(err, err_cap,
             "%s:%zu: \"%s\" contradicts \"%s\" at %s:%zu (the first "
             "would win); remove one of them",
             l->src[later].name, l->src[later].line, a, b,
             l->src[first].name, l->src[first].line);
    return CM_EPARSE;
}

enum cm_err
replist_check(const struct replist *l, char *err, size_t err_cap)
{
    struct keyed *k;
    size_t n = 0;
    enum cm_err rc = CM_OK;

    k = malloc((l->n > 0 ? l->n : 1) * sizeof(*k));
    if (k == NULL) {
        snprintf(err, err_cap, "out of memory");
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (l->src != NULL && l->src[i].name != NULL) {
            k[n++] = (struct keyed){&l->e[i], i};
        }
    }
    qsort(k, n, sizeof(*k), keyed_cmp);
    /* In a run of one key, sorted by place, the first entry of the other
     * action is the line to report; the run's first is the one it fights. */
    for (size_t a = 0, b = 1; b < n && rc == CM_OK; b++) {
        if (key_cmp(k[a].e, k[b].e) != 0) {
            a = b;
        } else if (k[b].e->action != k[a].e->action) {
            rc = conflict(l, k[a].pos, k[b].pos, err, err_cap);
        }
    }
    free(k);
    return rc;
}
