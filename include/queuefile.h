/*
 * queuefile.h -- the envelope of a CGP queue file (SPEC §3).
 *
 * A CGP queue file is envelope lines ("P ...", "R ...", "S ... [ip]", "O",
 * "A", ...), an empty line, then the RFC 822 message.  RATE also feeds plain
 * RFC 822 files and files that start with an mbox "From " line through here:
 * both are recognised and yield an empty envelope.  Pure parser over bytes
 * handed in; no I/O, no logging, any thread.
 */
#ifndef CM_QUEUEFILE_H
#define CM_QUEUEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"

struct envelope {
    char return_path[CAPS_ADDR_MAX]; /* address inside <>, "" for <> */
    bool has_return_path;
    char rcpts[CAPS_ENVELOPE_RCPTS][CAPS_ADDR_MAX];
    size_t n_rcpts;
    char source[32];               /* submit module: SMTP, PIPE, HTTP... */
    char auth_user[CAPS_ADDR_MAX]; /* "S <user> SMTP [ip]" form */
    bool is_authenticated;
    char peer_ip[48]; /* textual IPv4/IPv6 from "[...]" */
    bool has_peer_ip;
};

enum queuefile_flag {
    QUEUEFILE_HAS_ENVELOPE = 1u << 0,   /* CGP envelope lines were found */
    QUEUEFILE_MBOX_FROM = 1u << 1,      /* a leading "From " line skipped */
    QUEUEFILE_NO_BLANK_LINE = 1u << 2,  /* envelope or header never ended */
    QUEUEFILE_NOT_MAIL = 1u << 3,       /* first line fits no known form */
    QUEUEFILE_EMPTY = 1u << 4,          /* no bytes at all */
    QUEUEFILE_ENVELOPE_CAPPED = 1u << 5, /* lines or recipients past caps */
    QUEUEFILE_HEADER_TO_END = 1u << 6    /* header lines only, no blank line */
};

/*
 * Parse the envelope (if any) of (p, len).  Always fills *env (empty when
 * there is no envelope: strings "", counts 0, flags false; the bytes past
 * a string's terminator and the recipient slots past n_rcpts are left as
 * they were), *msg_off (offset of the RFC 822 message) and
 * *flags (enum queuefile_flag bits).  Never fails: problems are flags.
 */
void queuefile_parse(const uint8_t *p, size_t len, struct envelope *env,
                     size_t *msg_off, unsigned *flags);

/*
 * Max_Body_Length counts the message after CGP's envelope lines, so a
 * queue file is read up to queuefile_read_max(max_msg) bytes (max_msg
 * plus CAPS_ENVELOPE_MAX_BYTES) and then cut to
 * queuefile_envelope_len(p, len) + max_msg bytes when it is longer: many
 * recipients no longer push the message out of the bytes read.
 */
size_t queuefile_read_max(size_t max_msg);

/*
 * Bytes of envelope at the start of (p, len): the offset just past the
 * empty line that ends the envelope lines, or of the first line that is
 * not one (a file without the empty line), or len when they run to the
 * end of the bytes; 0 when (p, len) does not start with an envelope line
 * (a plain message, an mbox "From " line, junk).  Same line rules as
 * queuefile_parse; bounded by len.
 */
size_t queuefile_envelope_len(const uint8_t *p, size_t len);

/*
 * Cut the bytes read of a queue file, (p, *len) with room for a NUL at
 * p[*len], to its envelope plus max_msg bytes of message (see
 * queuefile_read_max): true when bytes of the message were dropped, and
 * then p[*len] is a NUL.
 */
bool queuefile_cut_message(uint8_t *p, size_t *len, size_t max_msg);

/*
 * True when the flags say the file cannot be scored (empty, binary junk,
 * no blank line, or a message of header lines only whose file was cut at
 * the size limit: is_truncated); *why receives a static reason for the
 * log line, which names the size limit when is_truncated and no blank
 * line was in the bytes read.
 */
bool queuefile_is_unusable(unsigned flags, bool is_truncated,
                           const char **why);

#endif
