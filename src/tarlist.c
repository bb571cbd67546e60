/*
 * tarlist.c -- member names of a tar archive (tarlist.h; POSIX.1-2001
 * ustar and pax, GNU tar's 'L' long names).
 *
 * Numbers are octal text (leading spaces, ended by NUL or space) or, for
 * sizes past 8 GiB, GNU base-256 (first byte 0x80, big-endian).  The
 * checksum is the sum of the header's bytes with its own field read as
 * spaces, unsigned (POSIX) or signed (old Sun tar).
 */
#include "tarlist.h"

#include <string.h>

#include "caps.h"

enum {
    TAR_BLOCK = 512,
    TAR_NAME_LEN = 100,
    TAR_SIZE_AT = 124,
    TAR_SIZE_LEN = 12,
    TAR_SUM_AT = 148,
    TAR_SUM_LEN = 8,
    TAR_TYPE_AT = 156
};

/* Octal field; false when it holds no digit or a non-octal byte. */
static bool
octal(const uint8_t *f, size_t n, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    bool has_digit = false;

    while (i < n && f[i] == ' ') {
        i++;
    }
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v > (UINT64_MAX >> 3)) {
            return false;
        }
        v = v << 3 | (uint64_t)(f[i] - '0');
        has_digit = true;
    }
    if (i < n && f[i] != ' ' && f[i] != '\0') {
        return false;
    }
    *out = v;
    return has_digit;
}

static bool
is_checksum_ok(const uint8_t *h)
{
    uint64_t want;
    uint64_t sum = 0;
    int64_t ssum = 0;

    if (!octal(h + TAR_SUM_AT, TAR_SUM_LEN, &want)) {
        return false;
    }
    for (size_t i = 0; i < TAR_BLOCK; i++) {
        uint8_t b = i >= TAR_SUM_AT && i < TAR_SUM_AT + TAR_SUM_LEN
                        ? (uint8_t)' '
                        : h[i];

        sum += b;
        ssum += (int8_t)b;
    }
    return sum == want || (ssum >= 0 && (uint64_t)ssum == want);
}

static bool
size_of(const uint8_t *h, uint64_t *out)
{
    const uint8_t *f = h + TAR_SIZE_AT;
    uint64_t v = 0;

    if ((f[0] & 0x80) == 0) {
        return octal(f, TAR_SIZE_LEN, out);
    }
    if (f[0] != 0x80 || f[1] != 0 || f[2] != 0 || f[3] != 0) {
        return false; /* negative, or past 64 bits */
    }
    for (size_t i = 4; i < TAR_SIZE_LEN; i++) {
        v = v << 8 | f[i];
    }
    *out = v;
    return true;
}

bool
tarlist_is_tar(const uint8_t *p, size_t len)
{
    return p != NULL && len >= TAR_BLOCK && p[0] != '\0' &&
           is_checksum_ok(p);
}

void
tarlist_init(struct tarlist *t, const uint8_t *p, size_t len)
{
    memset(t, 0, sizeof(*t));
    t->p = p;
    t->len = p != NULL ? len : 0;
}

static bool
is_zero_block(const uint8_t *h)
{
    for (size_t i = 0; i < TAR_BLOCK; i++) {
        if (h[i] != 0) {
            return false;
        }
    }
    return true;
}

/* The value of the last "path" record in pax data (d, n): records are
 * "<len> <key>=<value>\n", len counting the whole record. */
static void
pax_path(struct tarlist *t, const uint8_t *d, size_t n)
{
    size_t at = 0;

    while (at < n) {
        size_t rec = 0;
        size_t i = at;

        while (i < n && d[i] >= '0' && d[i] <= '9' && rec < n) {
            rec = rec * 10 + (size_t)(d[i] - '0');
            i++;
        }
        if (rec == 0 || rec > n - at || i >= at + rec || d[i] != ' ') {
            return;
        }
        i++;
        /* i <= at + rec here: the record holds its own length and space */
        if (at + rec - i > 5 && memcmp(d + i, "path=", 5) == 0) {
            t->long_name = d + i + 5;
            t->long_len = at + rec - (i + 5);
            /* without the record's closing newline */
            t->long_len -= t->long_len > 0 && d[at + rec - 1] == '\n';
        }
        at += rec;
    }
}

static size_t
name_len(const uint8_t *name, size_t max)
{
    const uint8_t *nul = memchr(name, '\0', max);

    return nul != NULL ? (size_t)(nul - name) : max;
}

/* One header at t->at; true to go on, with *m when it names a member. */
static bool
step(struct tarlist *t, struct tarlist_member *m, bool *has_member)
{
    const uint8_t *h = t->p + t->at;
    const uint8_t *d = h + TAR_BLOCK;
    uint64_t size = 0;
    size_t left;
    uint8_t type;

    if (t->len - t->at < TAR_BLOCK || is_zero_block(h)) {
        return false; /* the end (two zero blocks, or no more bytes) */
    }
    if (!is_checksum_ok(h) || !size_of(h, &size)) {
        t->flags |= TARLIST_BROKEN;
        return false;
    }
    left = t->len - t->at - TAR_BLOCK;
    type = h[TAR_TYPE_AT];
    if (type == 'L' || type == 'x') {
        size_t n = size < left ? (size_t)size : left;

        if (type == 'L') {
            t->long_name = d;
            t->long_len = name_len(d, n);
        } else {
            pax_path(t, d, n);
        }
    } else if (type != 'g' && type != 'K') {
        m->name = t->long_name != NULL ? t->long_name : h;
        m->name_len = t->long_name != NULL ? t->long_len
                                           : name_len(h, TAR_NAME_LEN);
        m->type = type;
        t->long_name = NULL;
        t->long_len = 0;
        *has_member = true;
    }
    /* Data rounds up to a block; a last member cut short ends it. */
    if (size > left || left - (size_t)size < (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK) {
        t->flags |= size > left ? TARLIST_BROKEN : 0u;
        t->at = t->len;
        return true;
    }
    t->at += TAR_BLOCK + (size_t)size + (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
    return true;
}

bool
tarlist_next(struct tarlist *t, struct tarlist_member *m)
{
    while (t->at < t->len) {
        bool has_member = false;

        if (!step(t, m, &has_member)) {
            break;
        }
        if (has_member && t->n_listed >= CAPS_TARLIST_MEMBERS_MAX) {
            t->flags |= TARLIST_CAPPED;
            break;
        }
        if (has_member) {
            t->n_listed++;
            return true;
        }
    }
    t->at = t->len;
    return false;
}
