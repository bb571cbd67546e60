/*
 * protocol.h -- CGP External Filter request lines and simple answers
 * (SPEC §2, cgp-protocol.md §1.2-§1.6).
 *
 * Requests are "<seq> <COMMAND> [args]" lines.  This module splits the
 * byte stream into bounded lines (protocol_linebuf), turns one line into a
 * struct protocol_request, decodes the arguments of INTF and FILE, and
 * formats the short answers ("<seq> OK", "<seq> FAILURE", "<seq> INTF m")
 * and "*" information lines.  Pure: no I/O, no logging, no shared state;
 * any thread, each object has one owner.
 */
#ifndef CM_PROTOCOL_H
#define CM_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "caps.h"
#include "err.h"

enum protocol_cmd {
    PROTOCOL_CMD_UNKNOWN = 0, /* anything else, or no command word */
    PROTOCOL_CMD_INTF,        /* interface version negotiation */
    PROTOCOL_CMD_KEY,         /* licence key: acknowledged only */
    PROTOCOL_CMD_FILE,        /* score a queue file */
    PROTOCOL_CMD_QUIT         /* drain, answer, exit */
};

enum protocol_answer {
    PROTOCOL_ANSWER_OK = 0, /* "<seq> OK" */
    PROTOCOL_ANSWER_FAILURE /* "<seq> FAILURE" */
};

/*
 * One parsed request.  seq is a copy; word and args are views into the
 * line given to protocol_parse and are valid only as long as it is.
 */
struct protocol_request {
    char seq[CAPS_PROTOCOL_SEQ_MAX + 1]; /* printable, no blanks, NUL-term. */
    size_t seq_len;
    enum protocol_cmd cmd;
    const uint8_t *word; /* the command word as sent (may be empty) */
    size_t word_len;
    const uint8_t *args; /* after the word and its blanks, trailing */
    size_t args_len;     /* blanks trimmed; may be empty */
};

/*
 * Parse one request line (p, len): no CR/LF expected (protocol_linebuf
 * strips them), no NUL terminator assumed, any byte value allowed.
 * Blanks are SP and TAB; leading blanks and runs of blanks between tokens
 * are skipped.  The first token is the sequence: 1..CAPS_PROTOCOL_SEQ_MAX
 * bytes, each printable ASCII (0x21-0x7e).  The second token is the command
 * word, compared case-insensitively; a line with a sequence and no word, or
 * with an unknown word, is PROTOCOL_CMD_UNKNOWN (it can still be answered).
 *
 * Returns CM_OK and fills *out, or CM_EPARSE when the line has no usable
 * sequence (empty line, blanks only, token too long, control or non-ASCII
 * byte in it); *why (may be NULL) then gets a static reason and *out is
 * untouched.  Such a line cannot be answered: log it and skip it.
 */
enum cm_err protocol_parse(const uint8_t *p, size_t len,
                           struct protocol_request *out, const char **why);

/*
 * The version number of an INTF request: the first argument token, all
 * decimal digits, at most UINT32_MAX.  Further tokens are ignored.
 * CM_EPARSE (with *why) when missing or not a number.
 */
enum cm_err protocol_intf_version(const struct protocol_request *r,
                                  unsigned *out, const char **why);

/*
 * The file name of a FILE request, decoded and appended to out (use a buf
 * whose max_bytes is CAPS_PROTOCOL_PATH_MAX; its NUL terminator makes it a C
 * string).  Rules:
 *  - an argument starting with '"' is a CGP quoted string (cgpstr_unquote);
 *    after the closing quote only blanks and ignored tokens may follow;
 *  - otherwise the name is the rest of the line (so a name may contain
 *    spaces), minus up to CAPS_PROTOCOL_FILE_OPTS_MAX trailing tokens that
 *    are option keywords (1..CAPS_PROTOCOL_FILE_OPT_LEN letters A-Z, such
 *    as a future "HEADERS"), each preceded by a blank.
 * The decoded name must be non-empty and free of control bytes (NUL, CR,
 * LF, ...).  CM_EPARSE or CM_ELIMIT with *why (may be NULL) otherwise; out
 * may then hold a partial name.  Checks of where the path points (absolute,
 * "..") are the caller's policy.
 */
enum cm_err protocol_file_path(const struct protocol_request *r,
                               struct buf *out, const char **why);

/*
 * How many bytes of the request line (p, len) may go into a log: all,
 * unless its second word is KEY, whose text is never logged; then up to
 * the end of that word.  Reads the words as protocol_parse does, but
 * also for lines it refuses (a bad sequence number).
 */
size_t protocol_loggable_len(const uint8_t *p, size_t len);

/* True when (p, len) is a valid sequence token (see protocol_parse). */
bool protocol_seq_is_valid(const char *p, size_t len);

/*
 * "<seq> OK\n" or "<seq> FAILURE\n" into out (capacity cap, NUL-terminated).
 * *out_len gets the length without the NUL.  CM_EINVAL for an invalid seq,
 * CM_ELIMIT when cap is too small; out is then untouched.
 */
enum cm_err protocol_format_answer(char *out, size_t cap, const char *seq,
                                   enum protocol_answer answer,
                                   size_t *out_len);

/* "<seq> INTF <version>\n"; errors as protocol_format_answer. */
enum cm_err protocol_format_intf(char *out, size_t cap, const char *seq,
                                 unsigned version, size_t *out_len);

/*
 * "* <text>\n": an information line CGP copies into its log.  Control
 * bytes in text become '?', so the line can never split; text is cut to
 * fit cap (which must be at least 4).  Returns the length without the NUL.
 */
size_t protocol_format_info(char *out, size_t cap, const char *text,
                            size_t len);

/*
 * Splits a byte stream into request lines of at most CAPS_REQUEST_LINE_MAX
 * bytes (not counting the LF and one CR before it, which are stripped).  A
 * longer line is not kept whole: its first CAPS_REQUEST_LINE_MAX bytes stay
 * in line[] (for the sequence and a log sample), the rest is counted in
 * n_dropped up to its LF (and one CR before it, not counted either), and
 * is_overlong is set.
 */
struct protocol_linebuf {
    uint8_t line[CAPS_REQUEST_LINE_MAX + 1]; /* +1: a CR before the LF */
    size_t len;
    size_t n_dropped;  /* bytes of an overlong line not kept */
    bool is_overlong;  /* the line exceeded CAPS_REQUEST_LINE_MAX */
    bool is_complete;  /* a whole line is ready in line[0..len) */
    bool is_cr_dropped_last; /* the last byte dropped was a CR */
};

void protocol_linebuf_init(struct protocol_linebuf *lb);

/*
 * Take bytes from (p, len) until a line is complete (its LF consumed) or
 * the input is used up.  Returns the bytes consumed.  When is_complete is
 * set, handle the line, then call protocol_linebuf_next before feeding more
 * (while a line is complete, feed consumes nothing).
 */
size_t protocol_linebuf_feed(struct protocol_linebuf *lb, const uint8_t *p,
                             size_t len);

/* At end of input: make a pending partial line complete.  True when there
 * was one (with at least one byte). */
bool protocol_linebuf_finish(struct protocol_linebuf *lb);

/* Forget the completed line and start the next. */
void protocol_linebuf_next(struct protocol_linebuf *lb);

#endif
