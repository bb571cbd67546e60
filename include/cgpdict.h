/*
 * cgpdict.h -- a bounded parser of CGP dictionary syntax
 * (cgp-protocol.md §4, Data.html), used for CGPCloudmark.cfg.
 *
 * Grammar accepted (whitespace and line breaks allowed between tokens):
 *   object  = string | datablock | scalar | array | dict
 *   string  = atom | quoted+       adjacent quoted strings concatenate
 *   atom    = 1*( A-Z a-z 0-9 - _ . @ ! # % : / or a byte >= 0x80 )
 *   quoted  = '"' ... '"'          escapes as in cgpstr.h
 *   datablock = '[' ... ']'        raw text kept (not base64-decoded)
 *   scalar  = '#' ...              #50, #-50, #T..., #I[...]:port, #NULL#,
 *                                  kept as written (including the '#')
 *   array   = '(' [ object *( ',' object ) ] ')'
 *   dict    = '{' *( string '=' object ';' ) '}'   the last ';' optional
 * Comments (an extension; CGP's own settings files have none): a '#'
 * followed by a blank, a line break or the end of the input, wherever a
 * token may start, runs to the end of the line.  "#50" stays a number.
 * After the one top-level object only blanks and comments may follow.
 *
 * Limits (caps.h): CAPS_CGPDICT_DEPTH_MAX nesting, CAPS_CGPDICT_NODES_MAX
 * values, CAPS_CGPDICT_STRING_MAX bytes per decoded string; the input
 * itself must be at most CAPS_CONFIG_FILE_MAX_BYTES.
 *
 * The parsed tree is immutable and owns its storage; it may be read from
 * any thread.  Parsing is pure (no I/O, no logging).
 */
#ifndef CM_CGPDICT_H
#define CM_CGPDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum cgpdict_type {
    CGPDICT_STRING, /* atom or quoted string, decoded */
    CGPDICT_DATA,   /* [datablock]: text between the brackets, raw */
    CGPDICT_SCALAR, /* #-prefixed value, as written */
    CGPDICT_ARRAY,
    CGPDICT_DICT
};

struct cgpdict_node {
    enum cgpdict_type type;
    unsigned line;  /* 1-based line where the value starts */
    bool is_quoted; /* CGPDICT_STRING written as a quoted string */
    /* Member of a dictionary: its key (decoded, NUL-terminated) and the
     * line of the key; NULL and 0 otherwise. */
    const char *key;
    size_t key_len;
    unsigned key_line;
    /* Scalars: the text, NUL-terminated; it may hold NUL bytes of its own
     * (from \000), so compare text_len with strlen() before using it as a
     * C string.  NULL for arrays and dictionaries. */
    const char *text;
    size_t text_len;
    /* Arrays and dictionaries: the first element or member; each element
     * links to the next in document order. */
    const struct cgpdict_node *child;
    size_t n_children;
    const struct cgpdict_node *next;
};

struct cgpdict;

/* Where and why parsing stopped. */
struct cgpdict_error {
    unsigned line; /* 1-based */
    const char *why; /* static text */
};

/*
 * Parse (p, len) into *out (freed with cgpdict_free).  Errors: CM_EPARSE
 * (syntax), CM_ELIMIT (a cap), CM_ENOMEM; on error *out is untouched and
 * *err (may be NULL) says where and why.  Empty input (blanks and comments
 * only) is CM_EPARSE with why "empty input".
 */
enum cm_err cgpdict_parse(const uint8_t *p, size_t len, struct cgpdict **out,
                          struct cgpdict_error *err);

/* Free the tree and everything in it; cgpdict_free(NULL) does nothing. */
void cgpdict_free(struct cgpdict *d);

/* The top-level object; valid until cgpdict_free. */
const struct cgpdict_node *cgpdict_root(const struct cgpdict *d);

/* Total values in the tree (for tests and limits). */
size_t cgpdict_count(const struct cgpdict *d);

/*
 * The member of dictionary dict whose key equals key exactly (CGP keys are
 * case-sensitive); NULL when dict is not a dictionary or has no such key.
 * With duplicate keys the first one is returned.
 */
const struct cgpdict_node *cgpdict_get(const struct cgpdict_node *dict,
                                       const char *key);

/* Same, ignoring ASCII case (for our own configuration keys). */
const struct cgpdict_node *cgpdict_get_ci(const struct cgpdict_node *dict,
                                          const char *key);

/* Static name of a type ("string", "datablock", ...), for messages. */
const char *cgpdict_type_name(enum cgpdict_type type);

#endif
