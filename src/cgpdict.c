/*
 * cgpdict.c -- bounded parser of CGP dictionary syntax (see cgpdict.h).
 *
 * DESIGN
 * A recursive-descent parser over (p, len) whose only recursion is
 * parse_value -> parse_array/parse_dict -> parse_value, with the depth
 * passed down and checked against CAPS_CGPDICT_DEPTH_MAX on entry, so the
 * stack is bounded whatever the input.  Every loop consumes at least one
 * byte or exits.
 *
 * While parsing, values live in a growable array of build records that
 * refer to each other by index (the array moves when it grows) and to their
 * text by offset into one string pool (a buf whose maximum is fixed from
 * the input length: decoding never makes text longer than its source, and
 * each string adds one NUL).  When parsing succeeds the records are turned
 * into the public cgpdict_node array with real pointers, and the pool's
 * storage is taken over by the tree.  On failure everything is freed and
 * the caller's output is untouched.
 *
 * Lines are counted as LF bytes are consumed (in blanks, comments, quoted
 * strings and datablocks), so each value and key knows the line it starts
 * on for configuration problem reports.
 *
 * State: none shared.  Pure; any thread.  Limits: caps.h config section.
 * Implements cgp-protocol.md §4 (Data.html), with CLI.pm's liberal atoms.
 */
#include "cgpdict.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "cgpstr.h"

#define CGPDICT_NONE SIZE_MAX

/* A value under construction; links are indices, text is pool offsets. */
struct cgpdict_build {
    enum cgpdict_type type;
    unsigned line;
    bool is_quoted;
    bool has_key;
    bool has_text;
    size_t key_off;
    size_t key_len;
    unsigned key_line;
    size_t text_off;
    size_t text_len;
    size_t child;
    size_t n_children;
    size_t next;
};

struct cgpdict {
    struct cgpdict_node *nodes; /* nodes[0] is the root */
    size_t n_nodes;
    uint8_t *pool; /* every key and text, NUL-terminated */
};

struct cgpdict_parser {
    const uint8_t *p;
    size_t len;
    size_t off;
    unsigned line;
    struct cgpdict_build *b;
    size_t n_b;
    size_t cap_b;
    struct buf pool;
    /* First failure: its code, reason and line. */
    enum cm_err err;
    const char *why;
    unsigned err_line;
};

/* Record the first failure, noticed on line. */
static enum cm_err
fail_at(struct cgpdict_parser *ps, enum cm_err err, const char *why,
        unsigned line)
{
    if (ps->err == CM_OK) {
        ps->err = err;
        ps->why = why;
        ps->err_line = line;
    }
    return ps->err;
}

static enum cm_err
fail(struct cgpdict_parser *ps, enum cm_err err, const char *why)
{
    return fail_at(ps, err, why, ps->line);
}

static bool
is_atom_char(uint8_t ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9') || ch >= 0x80) {
        return true;
    }
    return strchr("-_.@!#%:/", ch) != NULL && ch != '\0';
}

static bool
is_blank(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
           ch == '\f' || ch == '\v';
}

/* Skip blanks and "# ..." comments; count lines. */
static void
skip_blank(struct cgpdict_parser *ps)
{
    while (ps->off < ps->len) {
        uint8_t ch = ps->p[ps->off];

        if (is_blank(ch)) {
            if (ch == '\n') {
                ps->line++;
            }
            ps->off++;
            continue;
        }
        if (ch == '#' &&
            (ps->off + 1 == ps->len || is_blank(ps->p[ps->off + 1]))) {
            /* A comment: '#' then a blank can never start a scalar. */
            while (ps->off < ps->len && ps->p[ps->off] != '\n') {
                ps->off++;
            }
            continue;
        }
        break;
    }
}

static void
count_lines(struct cgpdict_parser *ps, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (ps->p[i] == '\n') {
            ps->line++;
        }
    }
}

static enum cm_err
new_node(struct cgpdict_parser *ps, enum cgpdict_type type, size_t *idx)
{
    struct cgpdict_build *nb;

    if (ps->n_b >= CAPS_CGPDICT_NODES_MAX) {
        return fail(ps, CM_ELIMIT, "too many values");
    }
    if (ps->n_b == ps->cap_b) {
        size_t cap = ps->cap_b == 0 ? 64 : ps->cap_b * 2;

        if (cap > CAPS_CGPDICT_NODES_MAX) {
            cap = CAPS_CGPDICT_NODES_MAX;
        }
        nb = realloc(ps->b, cap * sizeof(*nb));
        if (nb == NULL) {
            return fail(ps, CM_ENOMEM, "out of memory");
        }
        ps->b = nb;
        ps->cap_b = cap;
    }
    nb = &ps->b[ps->n_b];
    memset(nb, 0, sizeof(*nb));
    nb->type = type;
    nb->line = ps->line;
    nb->child = CGPDICT_NONE;
    nb->next = CGPDICT_NONE;
    *idx = ps->n_b++;
    return CM_OK;
}

/* End the string that started at pool offset start: length check, NUL. */
static enum cm_err
end_string(struct cgpdict_parser *ps, size_t start, size_t *text_len)
{
    size_t n = ps->pool.len - start;

    if (n > CAPS_CGPDICT_STRING_MAX) {
        return fail(ps, CM_ELIMIT, "string too long");
    }
    if (buf_putc(&ps->pool, '\0') != CM_OK) {
        return fail(ps, CM_ENOMEM, "out of memory");
    }
    *text_len = n;
    return CM_OK;
}

/* Quoted string(s) starting at '"'; adjacent ones are joined. */
static enum cm_err
parse_quoted(struct cgpdict_parser *ps, size_t *off, size_t *text_len)
{
    size_t start = ps->pool.len;

    for (;;) {
        size_t used = 0;
        size_t end_off;
        unsigned end_line;
        enum cm_err rc;

        rc = cgpstr_unquote(ps->p + ps->off, ps->len - ps->off, &used,
                            &ps->pool);
        if (rc == CM_ENOMEM) {
            return fail(ps, rc, "out of memory");
        }
        if (rc != CM_OK) {
            return fail(ps, CM_EPARSE,
                        "bad quoted string (missing '\"' or bad escape)");
        }
        count_lines(ps, ps->off, ps->off + used);
        ps->off += used;
        if (ps->pool.len - start > CAPS_CGPDICT_STRING_MAX) {
            return fail(ps, CM_ELIMIT, "string too long");
        }
        /* "ab" "cd" is one string "abcd" (as CLI.pm reads it).  The
         * blanks looked past are given back when no '"' follows, so the
         * caller's line is still the one the string ended on: a missing
         * ';' is reported there, not on the next key's line. */
        end_off = ps->off;
        end_line = ps->line;
        while (ps->off < ps->len && is_blank(ps->p[ps->off])) {
            if (ps->p[ps->off] == '\n') {
                ps->line++;
            }
            ps->off++;
        }
        if (ps->off >= ps->len || ps->p[ps->off] != '"') {
            ps->off = end_off;
            ps->line = end_line;
            break;
        }
    }
    *off = start;
    return end_string(ps, start, text_len);
}

/* An atom: a run of atom characters, at least one. */
static enum cm_err
parse_atom(struct cgpdict_parser *ps, size_t *off, size_t *text_len)
{
    size_t from = ps->off;
    size_t start = ps->pool.len;

    while (ps->off < ps->len && is_atom_char(ps->p[ps->off])) {
        ps->off++;
    }
    if (ps->off == from) {
        return fail(ps, CM_EPARSE, "string expected");
    }
    if (ps->off - from > CAPS_CGPDICT_STRING_MAX) {
        return fail(ps, CM_ELIMIT, "string too long");
    }
    if (buf_append(&ps->pool, ps->p + from, ps->off - from) != CM_OK) {
        return fail(ps, CM_ENOMEM, "out of memory");
    }
    *off = start;
    return end_string(ps, start, text_len);
}

/* "#50", "#T22-10-2009_15:24:45", "#I[10.0.0.1]:25", "#NULL#": kept as
 * written.  A bracketed part must close on the same line. */
static enum cm_err
parse_scalar(struct cgpdict_parser *ps, size_t *off, size_t *text_len)
{
    size_t from = ps->off;
    size_t start = ps->pool.len;

    ps->off++; /* '#' */
    while (ps->off < ps->len) {
        uint8_t ch = ps->p[ps->off];

        if (is_atom_char(ch)) {
            ps->off++;
            continue;
        }
        if (ch != '[') {
            break;
        }
        while (ps->off < ps->len && ps->p[ps->off] != ']' &&
               ps->p[ps->off] != '\n') {
            ps->off++;
        }
        if (ps->off >= ps->len || ps->p[ps->off] != ']') {
            return fail(ps, CM_EPARSE, "missing ']' in # value");
        }
        ps->off++;
    }
    if (ps->off - from < 2) {
        return fail(ps, CM_EPARSE, "bad # value");
    }
    if (ps->off - from > CAPS_CGPDICT_STRING_MAX) {
        return fail(ps, CM_ELIMIT, "string too long");
    }
    if (buf_append(&ps->pool, ps->p + from, ps->off - from) != CM_OK) {
        return fail(ps, CM_ENOMEM, "out of memory");
    }
    *off = start;
    return end_string(ps, start, text_len);
}

/* [datablock]: the raw text between the brackets (may span lines). */
static enum cm_err
parse_data(struct cgpdict_parser *ps, size_t *off, size_t *text_len)
{
    size_t from = ps->off + 1;
    size_t start = ps->pool.len;
    size_t end = from;

    while (end < ps->len && ps->p[end] != ']') {
        end++;
    }
    if (end >= ps->len) {
        return fail(ps, CM_EPARSE, "missing ']' after datablock");
    }
    if (end - from > CAPS_CGPDICT_STRING_MAX) {
        return fail(ps, CM_ELIMIT, "string too long");
    }
    count_lines(ps, from, end);
    ps->off = end + 1;
    if (buf_append(&ps->pool, ps->p + from, end - from) != CM_OK) {
        return fail(ps, CM_ENOMEM, "out of memory");
    }
    *off = start;
    return end_string(ps, start, text_len);
}

static enum cm_err parse_value(struct cgpdict_parser *ps, unsigned depth,
                               size_t *idx);

/* Append child to parent's list; *last tracks the list's tail. */
static void
link_child(struct cgpdict_parser *ps, size_t parent, size_t child,
           size_t *last)
{
    if (*last == CGPDICT_NONE) {
        ps->b[parent].child = child;
    } else {
        ps->b[*last].next = child;
    }
    *last = child;
    ps->b[parent].n_children++;
}

static enum cm_err
parse_array(struct cgpdict_parser *ps, unsigned depth, size_t idx)
{
    size_t last = CGPDICT_NONE;

    ps->off++; /* '(' */
    skip_blank(ps);
    if (ps->off < ps->len && ps->p[ps->off] == ')') {
        ps->off++;
        return CM_OK;
    }
    for (;;) {
        size_t child;
        unsigned value_end_line;

        if (parse_value(ps, depth + 1, &child) != CM_OK) {
            return ps->err;
        }
        link_child(ps, idx, child, &last);
        /* A missing separator is reported on the line of the value. */
        value_end_line = ps->line;
        skip_blank(ps);
        if (ps->off >= ps->len) {
            return fail(ps, CM_EPARSE, "missing ')' at end of input");
        }
        if (ps->p[ps->off] == ')') {
            ps->off++;
            return CM_OK;
        }
        if (ps->p[ps->off] != ',') {
            return fail_at(ps, CM_EPARSE, "',' or ')' expected in array",
                           value_end_line);
        }
        ps->off++;
    }
}

static enum cm_err
parse_dict(struct cgpdict_parser *ps, unsigned depth, size_t idx)
{
    size_t last = CGPDICT_NONE;

    ps->off++; /* '{' */
    for (;;) {
        size_t key_off;
        size_t key_len;
        unsigned key_line;
        unsigned value_end_line;
        size_t child;

        skip_blank(ps);
        if (ps->off >= ps->len) {
            return fail(ps, CM_EPARSE, "missing '}' at end of input");
        }
        if (ps->p[ps->off] == '}') {
            ps->off++;
            return CM_OK;
        }
        key_line = ps->line;
        if (ps->p[ps->off] == '"') {
            if (parse_quoted(ps, &key_off, &key_len) != CM_OK) {
                return ps->err;
            }
        } else if (is_atom_char(ps->p[ps->off])) {
            if (parse_atom(ps, &key_off, &key_len) != CM_OK) {
                return ps->err;
            }
        } else {
            return fail(ps, CM_EPARSE, "key expected in dictionary");
        }
        skip_blank(ps);
        if (ps->off >= ps->len || ps->p[ps->off] != '=') {
            return fail(ps, CM_EPARSE, "'=' expected after key");
        }
        ps->off++;
        if (parse_value(ps, depth + 1, &child) != CM_OK) {
            return ps->err;
        }
        ps->b[child].has_key = true;
        ps->b[child].key_off = key_off;
        ps->b[child].key_len = key_len;
        ps->b[child].key_line = key_line;
        link_child(ps, idx, child, &last);
        value_end_line = ps->line;
        skip_blank(ps);
        if (ps->off >= ps->len) {
            return fail(ps, CM_EPARSE, "missing '}' at end of input");
        }
        if (ps->p[ps->off] == ';') {
            ps->off++;
            continue;
        }
        /* Tolerated: no ';' after the last member. */
        if (ps->p[ps->off] != '}') {
            return fail_at(ps, CM_EPARSE, "';' expected after value",
                           value_end_line);
        }
    }
}

static enum cm_err
parse_text_value(struct cgpdict_parser *ps, enum cgpdict_type type,
                 size_t *idx)
{
    size_t n;
    size_t off;
    size_t len;
    enum cm_err rc;
    uint8_t ch = ps->p[ps->off];

    if (new_node(ps, type, &n) != CM_OK) {
        return ps->err;
    }
    if (ch == '"') {
        rc = parse_quoted(ps, &off, &len);
    } else if (ch == '[') {
        rc = parse_data(ps, &off, &len);
    } else if (ch == '#') {
        rc = parse_scalar(ps, &off, &len);
    } else {
        rc = parse_atom(ps, &off, &len);
    }
    if (rc != CM_OK) {
        return rc;
    }
    ps->b[n].is_quoted = ch == '"';
    ps->b[n].has_text = true;
    ps->b[n].text_off = off;
    ps->b[n].text_len = len;
    *idx = n;
    return CM_OK;
}

static enum cm_err
parse_value(struct cgpdict_parser *ps, unsigned depth, size_t *idx)
{
    uint8_t ch;
    size_t n;

    if (depth >= CAPS_CGPDICT_DEPTH_MAX) {
        return fail(ps, CM_ELIMIT, "nesting too deep");
    }
    skip_blank(ps);
    if (ps->off >= ps->len) {
        return fail(ps, CM_EPARSE, "value expected at end of input");
    }
    ch = ps->p[ps->off];
    switch (ch) {
    case '{':
    case '(':
        if (new_node(ps, ch == '{' ? CGPDICT_DICT : CGPDICT_ARRAY, &n) !=
            CM_OK) {
            return ps->err;
        }
        if ((ch == '{' ? parse_dict(ps, depth, n)
                       : parse_array(ps, depth, n)) != CM_OK) {
            return ps->err;
        }
        *idx = n;
        return CM_OK;
    case '"':
        return parse_text_value(ps, CGPDICT_STRING, idx);
    case '[':
        return parse_text_value(ps, CGPDICT_DATA, idx);
    case '#':
        return parse_text_value(ps, CGPDICT_SCALAR, idx);
    default:
        break;
    }
    if (!is_atom_char(ch)) {
        return fail(ps, CM_EPARSE, "value expected");
    }
    return parse_text_value(ps, CGPDICT_STRING, idx);
}

/* Turn the build records into the public tree (pointers into nodes and
 * the pool, which the tree takes over). */
static struct cgpdict *
finish(struct cgpdict_parser *ps)
{
    struct cgpdict *d = calloc(1, sizeof(*d));
    const char *pool;

    if (d == NULL) {
        return NULL;
    }
    d->nodes = calloc(ps->n_b, sizeof(*d->nodes));
    if (d->nodes == NULL) {
        free(d);
        return NULL;
    }
    d->n_nodes = ps->n_b;
    d->pool = ps->pool.data;
    ps->pool.data = NULL;
    buf_init(&ps->pool, 0);
    pool = (const char *)d->pool;
    for (size_t i = 0; i < ps->n_b; i++) {
        const struct cgpdict_build *bn = &ps->b[i];
        struct cgpdict_node *node = &d->nodes[i];

        node->type = bn->type;
        node->line = bn->line;
        node->is_quoted = bn->is_quoted;
        if (bn->has_key) {
            node->key = pool + bn->key_off;
            node->key_len = bn->key_len;
            node->key_line = bn->key_line;
        }
        if (bn->has_text) {
            node->text = pool + bn->text_off;
            node->text_len = bn->text_len;
        }
        node->child = bn->child == CGPDICT_NONE ? NULL : &d->nodes[bn->child];
        node->n_children = bn->n_children;
        node->next = bn->next == CGPDICT_NONE ? NULL : &d->nodes[bn->next];
    }
    return d;
}

enum cm_err
cgpdict_parse(const uint8_t *p, size_t len, struct cgpdict **out,
              struct cgpdict_error *err)
{
    struct cgpdict_parser ps;
    struct cgpdict *d = NULL;
    size_t root;

    memset(&ps, 0, sizeof(ps));
    ps.p = p;
    ps.len = p == NULL ? 0 : len;
    ps.line = 1;
    /* Decoded text never exceeds its source; each string adds a NUL. */
    buf_init(&ps.pool, ps.len + 2u * CAPS_CGPDICT_NODES_MAX + 1u);
    if (ps.len > CAPS_CONFIG_FILE_MAX_BYTES) {
        fail(&ps, CM_ELIMIT, "input too large");
        goto out;
    }
    skip_blank(&ps);
    if (ps.off >= ps.len) {
        fail(&ps, CM_EPARSE, "empty input");
        goto out;
    }
    if (parse_value(&ps, 0, &root) != CM_OK) {
        goto out;
    }
    skip_blank(&ps);
    if (ps.off < ps.len) {
        fail(&ps, CM_EPARSE, "unexpected text after the value");
        goto out;
    }
    d = finish(&ps);
    if (d == NULL) {
        fail(&ps, CM_ENOMEM, "out of memory");
    }
out:
    free(ps.b);
    buf_clear(&ps.pool);
    if (ps.err != CM_OK) {
        if (err != NULL) {
            err->line = ps.err_line;
            err->why = ps.why;
        }
        return ps.err;
    }
    *out = d;
    return CM_OK;
}

void
cgpdict_free(struct cgpdict *d)
{
    if (d == NULL) {
        return;
    }
    free(d->nodes);
    free(d->pool);
    free(d);
}

const struct cgpdict_node *
cgpdict_root(const struct cgpdict *d)
{
    return d == NULL || d->n_nodes == 0 ? NULL : &d->nodes[0];
}

size_t
cgpdict_count(const struct cgpdict *d)
{
    return d == NULL ? 0 : d->n_nodes;
}

static bool
key_equal(const struct cgpdict_node *n, const char *key, size_t key_len,
          bool is_nocase)
{
    if (n->key == NULL || n->key_len != key_len) {
        return false;
    }
    if (!is_nocase) {
        return memcmp(n->key, key, key_len) == 0;
    }
    for (size_t i = 0; i < key_len; i++) {
        unsigned char a = (unsigned char)n->key[i];
        unsigned char b = (unsigned char)key[i];

        if (a >= 'A' && a <= 'Z') {
            a = (unsigned char)(a - 'A' + 'a');
        }
        if (b >= 'A' && b <= 'Z') {
            b = (unsigned char)(b - 'A' + 'a');
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

static const struct cgpdict_node *
lookup(const struct cgpdict_node *dict, const char *key, bool is_nocase)
{
    size_t key_len;

    if (dict == NULL || dict->type != CGPDICT_DICT || key == NULL) {
        return NULL;
    }
    key_len = strlen(key);
    for (const struct cgpdict_node *n = dict->child; n != NULL; n = n->next) {
        if (key_equal(n, key, key_len, is_nocase)) {
            return n;
        }
    }
    return NULL;
}

const struct cgpdict_node *
cgpdict_get(const struct cgpdict_node *dict, const char *key)
{
    return lookup(dict, key, false);
}

const struct cgpdict_node *
cgpdict_get_ci(const struct cgpdict_node *dict, const char *key)
{
    return lookup(dict, key, true);
}

const char *
cgpdict_type_name(enum cgpdict_type type)
{
    switch (type) {
    case CGPDICT_STRING:
        return "string";
    case CGPDICT_DATA:
        return "datablock";
    case CGPDICT_SCALAR:
        return "# value";
    case CGPDICT_ARRAY:
        return "array";
    case CGPDICT_DICT:
        return "dictionary";
    }
    return "value";
}
