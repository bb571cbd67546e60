/*
 * cgpstr.h -- CGP quoted strings (cgp-protocol.md §4, Data.html).
 *
 * Inside quotes: \" \\ \r \n \e (system EOL) \t and \nnn (three decimal
 * digits).  The writer escapes every byte that could end or split a
 * protocol line: '"' and '\\' are escaped, TAB is \t, every other control
 * byte (and DEL) is \nnn; when is_multiline is set, LF becomes \e (the
 * separator between header lines) and CR is dropped.  Pure; any thread.
 */
#ifndef CM_CGPSTR_H
#define CM_CGPSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/*
 * Append the escaped form of (p, len), without surrounding quotes, to out.
 * CM_ELIMIT when out's maximum was reached (out then holds a prefix that
 * never ends inside an escape sequence).
 */
enum cm_err cgpstr_escape(const uint8_t *p, size_t len, bool is_multiline,
                          struct buf *out);

/* Bytes cgpstr_escape would append for (p, len). */
size_t cgpstr_escaped_len(const uint8_t *p, size_t len, bool is_multiline);

/*
 * Decode the quoted string that starts at p[0] == '"'.  Appends the decoded
 * bytes to out (\e decodes to "\n") and sets *consumed to the bytes used
 * including both quotes.  CM_EPARSE for a missing closing quote or a bad
 * escape, CM_ELIMIT when out is full.
 */
enum cm_err cgpstr_unquote(const uint8_t *p, size_t len, size_t *consumed,
                           struct buf *out);

#endif
