/*
 * protocol.c -- request lines of the CGP External Filter protocol and the
 * short answers (SPEC §2, cgp-protocol.md §1.2-§1.6).
 *
 * Requests arrive as "<seq> <COMMAND> [args]" lines.  CGP sends decimal
 * sequence numbers and the commands INTF, KEY, FILE and QUIT; everything
 * else here exists to survive what CGP never sends: lines longer than any
 * path, NUL and other control bytes, missing tokens.  The rules:
 *  - blanks are SP and TAB (helpers in the field split on both);
 *  - the sequence is echoed back verbatim, so it must be printable ASCII
 *    and short (CAPS_PROTOCOL_SEQ_MAX); a line without such a token cannot
 *    be answered at all and is reported to the caller as CM_EPARSE;
 *  - with a sequence, every line is answerable: a missing or unknown
 *    command word is PROTOCOL_CMD_UNKNOWN;
 *  - FILE takes a CGP quoted string or the bare rest of the line; trailing
 *    keyword tokens (a future "HEADERS", see cgp-protocol.md §1.4) are
 *    dropped from a bare name, so names with spaces still work.
 *
 * State: none; struct protocol_linebuf belongs to its one caller (the
 * helper's reader).  Limits: CAPS_REQUEST_LINE_MAX per line,
 * CAPS_PROTOCOL_SEQ_MAX per sequence, CAPS_PROTOCOL_PATH_MAX per path (the
 * caller's buf).  No I/O, no logging; any thread.
 */
#include "protocol.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cgpstr.h"
#include "cursor.h"

static bool
is_blank(uint8_t ch)
{
    return ch == ' ' || ch == '\t';
}

static bool
is_seq_byte(uint8_t ch)
{
    return ch > 0x20 && ch < 0x7f;
}

/* Offset of the first non-blank byte at or after off. */
static size_t
skip_blanks(const uint8_t *p, size_t len, size_t off)
{
    while (off < len && is_blank(p[off])) {
        off++;
    }
    return off;
}

/* Offset of the first blank at or after off (len when none). */
static size_t
token_end(const uint8_t *p, size_t len, size_t off)
{
    while (off < len && !is_blank(p[off])) {
        off++;
    }
    return off;
}

static bool
word_equals(const uint8_t *w, size_t len, const char *upper)
{
    size_t n = strlen(upper);

    if (len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = w[i];
        if (ch >= 'a' && ch <= 'z') {
            ch = (uint8_t)(ch - 'a' + 'A');
        }
        if (ch != (uint8_t)upper[i]) {
            return false;
        }
    }
    return true;
}

size_t
protocol_loggable_len(const uint8_t *p, size_t len)
{
    size_t seq_end = token_end(p, len, skip_blanks(p, len, 0));
    size_t word_start = skip_blanks(p, len, seq_end);
    size_t word_end = token_end(p, len, word_start);

    if (word_equals(p + word_start, word_end - word_start, "KEY")) {
        return word_end;
    }
    return len;
}

static enum protocol_cmd
command_of(const uint8_t *w, size_t len)
{
    if (word_equals(w, len, "INTF")) {
        return PROTOCOL_CMD_INTF;
    }
    if (word_equals(w, len, "KEY")) {
        return PROTOCOL_CMD_KEY;
    }
    if (word_equals(w, len, "FILE")) {
        return PROTOCOL_CMD_FILE;
    }
    if (word_equals(w, len, "QUIT")) {
        return PROTOCOL_CMD_QUIT;
    }
    return PROTOCOL_CMD_UNKNOWN;
}

bool
protocol_seq_is_valid(const char *p, size_t len)
{
    if (p == NULL || len == 0 || len > CAPS_PROTOCOL_SEQ_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_seq_byte((uint8_t)p[i])) {
            return false;
        }
    }
    return true;
}

enum cm_err
protocol_parse(const uint8_t *p, size_t len, struct protocol_request *out,
               const char **why)
{
    struct protocol_request r;
    size_t seq_start;
    size_t seq_end;
    size_t word_start;
    size_t word_end;
    size_t args_start;
    size_t args_end;
    const char *reason = NULL;

    if (p == NULL) {
        len = 0;
    }
    seq_start = skip_blanks(p, len, 0);
    if (seq_start == len) {
        reason = "empty line";
        goto fail;
    }
    seq_end = token_end(p, len, seq_start);
    if (seq_end - seq_start > CAPS_PROTOCOL_SEQ_MAX) {
        reason = "sequence number too long";
        goto fail;
    }
    if (!protocol_seq_is_valid((const char *)p + seq_start,
                               seq_end - seq_start)) {
        reason = "sequence number with a control or non-ASCII byte";
        goto fail;
    }
    memset(&r, 0, sizeof(r));
    r.seq_len = seq_end - seq_start;
    memcpy(r.seq, p + seq_start, r.seq_len);
    r.seq[r.seq_len] = '\0';

    word_start = skip_blanks(p, len, seq_end);
    word_end = token_end(p, len, word_start);
    r.word = p + word_start;
    r.word_len = word_end - word_start;
    r.cmd = command_of(r.word, r.word_len);

    args_start = skip_blanks(p, len, word_end);
    args_end = len;
    while (args_end > args_start && is_blank(p[args_end - 1])) {
        args_end--;
    }
    r.args = p + args_start;
    r.args_len = args_end - args_start;
    *out = r;
    return CM_OK;
fail:
    if (why != NULL) {
        *why = reason;
    }
    return CM_EPARSE;
}

enum cm_err
protocol_intf_version(const struct protocol_request *r, unsigned *out,
                      const char **why)
{
    size_t end = token_end(r->args, r->args_len, 0);
    uint64_t v;

    if (end == 0) {
        if (why != NULL) {
            *why = "INTF without a version";
        }
        return CM_EPARSE;
    }
    if (cursor_parse_u64((const char *)r->args, end, UINT_MAX, &v) !=
        CM_OK) {
        if (why != NULL) {
            *why = "INTF version is not a number";
        }
        return CM_EPARSE;
    }
    *out = (unsigned)v;
    return CM_OK;
}

/* True when (p, len) is an option keyword that may follow a bare name. */
static bool
is_option_word(const uint8_t *p, size_t len)
{
    if (len == 0 || len > CAPS_PROTOCOL_FILE_OPT_LEN) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (p[i] < 'A' || p[i] > 'Z') {
            return false;
        }
    }
    return true;
}

/* Length of a bare name: args minus trailing option keywords. */
static size_t
bare_name_len(const uint8_t *p, size_t len)
{
    for (unsigned n = 0; n < CAPS_PROTOCOL_FILE_OPTS_MAX; n++) {
        size_t start = len;
        size_t end;

        while (start > 0 && !is_blank(p[start - 1])) {
            start--;
        }
        if (start == 0 || !is_option_word(p + start, len - start)) {
            break;
        }
        end = start;
        while (end > 0 && is_blank(p[end - 1])) {
            end--;
        }
        if (end == 0) {
            break;
        }
        len = end;
    }
    return len;
}

enum cm_err
protocol_file_path(const struct protocol_request *r, struct buf *out,
                   const char **why)
{
    const char *reason = NULL;
    enum cm_err rc = CM_EPARSE;
    size_t start = out->len;

    if (r->args_len == 0) {
        reason = "FILE without a file name";
        goto fail;
    }
    if (r->args[0] == '"') {
        size_t consumed = 0;

        rc = cgpstr_unquote(r->args, r->args_len, &consumed, out);
        if (rc == CM_ELIMIT) {
            reason = "file name too long";
            goto fail;
        }
        if (rc != CM_OK) {
            rc = CM_EPARSE;
            reason = "bad quoted file name";
            goto fail;
        }
        if (consumed < r->args_len && !is_blank(r->args[consumed])) {
            rc = CM_EPARSE;
            reason = "junk after the quoted file name";
            goto fail;
        }
    } else {
        size_t n = bare_name_len(r->args, r->args_len);

        rc = buf_append(out, r->args, n);
        if (rc != CM_OK) {
            reason = rc == CM_ELIMIT ? "file name too long" : "out of memory";
            goto fail;
        }
    }
    rc = CM_EPARSE;
    if (out->len == start) {
        reason = "empty file name";
        goto fail;
    }
    for (size_t i = start; i < out->len; i++) {
        if (out->data[i] < 0x20 || out->data[i] == 0x7f) {
            reason = "control byte in the file name";
            goto fail;
        }
    }
    return CM_OK;
fail:
    if (why != NULL) {
        *why = reason;
    }
    return rc;
}

/* Write "<seq> <text>\n" if it fits. */
static enum cm_err
format_line(char *out, size_t cap, const char *seq, const char *text,
            size_t *out_len)
{
    size_t seq_len;
    int n;

    if (seq == NULL) {
        return CM_EINVAL;
    }
    seq_len = strnlen(seq, CAPS_PROTOCOL_SEQ_MAX + 1);
    if (!protocol_seq_is_valid(seq, seq_len)) {
        return CM_EINVAL;
    }
    if (out == NULL || cap == 0) {
        return CM_ELIMIT;
    }
    n = snprintf(out, cap, "%s %s\n", seq, text);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return CM_ELIMIT;
    }
    *out_len = (size_t)n;
    return CM_OK;
}

enum cm_err
protocol_format_answer(char *out, size_t cap, const char *seq,
                       enum protocol_answer answer, size_t *out_len)
{
    const char *text = "OK";

    switch (answer) {
    case PROTOCOL_ANSWER_OK:
        text = "OK";
        break;
    case PROTOCOL_ANSWER_FAILURE:
        text = "FAILURE";
        break;
    }
    return format_line(out, cap, seq, text, out_len);
}

enum cm_err
protocol_format_intf(char *out, size_t cap, const char *seq,
                     unsigned version, size_t *out_len)
{
    char text[32];

    snprintf(text, sizeof(text), "INTF %u", version);
    return format_line(out, cap, seq, text, out_len);
}

size_t
protocol_format_info(char *out, size_t cap, const char *text, size_t len)
{
    size_t o = 0;

    if (out == NULL || cap < 4) {
        if (out != NULL && cap > 0) {
            out[0] = '\0';
        }
        return 0;
    }
    out[o++] = '*';
    out[o++] = ' ';
    for (size_t i = 0; i < len && o + 2 < cap; i++) {
        uint8_t ch = (uint8_t)text[i];
        out[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    out[o++] = '\n';
    out[o] = '\0';
    return o;
}

void
protocol_linebuf_init(struct protocol_linebuf *lb)
{
    lb->len = 0;
    lb->n_dropped = 0;
    lb->is_overlong = false;
    lb->is_complete = false;
    lb->is_cr_dropped_last = false;
}

void
protocol_linebuf_next(struct protocol_linebuf *lb)
{
    protocol_linebuf_init(lb);
}

/* The line's LF was seen (or input ended): strip one CR, apply the cap. */
static void
complete_line(struct protocol_linebuf *lb)
{
    if (lb->is_overlong) {
        /* The CR of a CRLF went with the dropped bytes; it is not one of
         * the line's own, which the log's count reports. */
        lb->n_dropped -= lb->is_cr_dropped_last ? 1u : 0u;
    } else if (lb->len > 0 && lb->line[lb->len - 1] == '\r') {
        lb->len--;
    }
    if (lb->len > CAPS_REQUEST_LINE_MAX) {
        /* The spare byte held a non-CR: the line is one byte too long. */
        lb->n_dropped += lb->len - CAPS_REQUEST_LINE_MAX;
        lb->len = CAPS_REQUEST_LINE_MAX;
        lb->is_overlong = true;
    }
    lb->is_complete = true;
}

size_t
protocol_linebuf_feed(struct protocol_linebuf *lb, const uint8_t *p,
                      size_t len)
{
    const uint8_t *lf;
    size_t take;
    size_t used;
    size_t room;

    if (lb->is_complete || p == NULL || len == 0) {
        return 0;
    }
    lf = memchr(p, '\n', len);
    take = lf != NULL ? (size_t)(lf - p) : len;
    used = lf != NULL ? take + 1 : take;
    room = sizeof(lb->line) - lb->len;
    if (take > room) {
        /* Keep the prefix for the sequence and the log sample; drop the
         * rest so a hostile line costs no memory. */
        memcpy(lb->line + lb->len, p, room);
        lb->len += room;
        lb->n_dropped += take - room;
        lb->is_overlong = true;
        lb->is_cr_dropped_last = p[take - 1] == '\r';
    } else {
        memcpy(lb->line + lb->len, p, take);
        lb->len += take;
    }
    if (lf != NULL) {
        complete_line(lb);
    }
    return used;
}

bool
protocol_linebuf_finish(struct protocol_linebuf *lb)
{
    if (lb->is_complete) {
        return true;
    }
    if (lb->len == 0 && lb->n_dropped == 0) {
        return false;
    }
    complete_line(lb);
    return true;
}
