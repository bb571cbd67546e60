/*
 * attmsg.h -- the messages attached to a mail: the message/rfc822 parts
 * of a feedback report (cmtool feedback; SPEC §5, seeds: "Feedback
 * messages that are not submitted as an RFC822 attachment will not be
 * forwarded").
 *
 * attmsg_find walks the MIME structure of a mail -- multipart containers
 * split on their boundaries, breadth first with a fixed work queue (no
 * recursion) -- and reports every part that is an attached message:
 * Content-Type message/rfc822 or message/global, or any non-multipart
 * part whose file name ends in ".eml" (clients that send a saved message
 * as application/octet-stream).  It does not look inside an attached
 * message: the attachment is the reported mail as a whole, and what it
 * carries itself belongs to it.  text/rfc822-headers (ARF reports that
 * hold only the headers) is not a message and is not reported.
 *
 * mime.c is not used: it opens an identity message/rfc822 part as one
 * more nesting level and keeps no raw bytes of it, while the reported
 * message must be handed on byte for byte (header order, Received lines
 * and all), as the RATE manual asks of messages kept for rating.
 *
 * attmsg_decode undoes a base64 transfer encoding (OpenSSL EVP), which
 * RFC 2046 5.2.1 forbids for message/rfc822 but clients use anyway;
 * quoted-printable is refused (CM_EPARSE): no client is known to send
 * it, and a QP-mangled message would not be the reported bytes.
 *
 * Pure: no I/O, no logging, no globals; any thread.  Limits: caps.h
 * (CAPS_ATTMSG_*).  Fuzzed by tests/fuzz/fuzz_attmsg.c.
 */
#ifndef CM_ATTMSG_H
#define CM_ATTMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"
#include "err.h"

struct buf;

enum attmsg_encoding {
    ATTMSG_IDENTITY = 0, /* 7bit, 8bit, binary or none */
    ATTMSG_BASE64,
    ATTMSG_QP,
    ATTMSG_OTHER         /* any other (x-uuencode ...): not undone */
};

enum attmsg_flag {
    ATTMSG_DEPTH_CAPPED = 1u << 0,   /* multiparts nested past the cap */
    ATTMSG_PARTS_CAPPED = 1u << 1,   /* more entities than the cap */
    ATTMSG_COUNT_CAPPED = 1u << 2,   /* more attached messages than kept */
    ATTMSG_NO_CLOSE = 1u << 3,       /* a multipart's close delimiter is
                                        missing (its last part may be cut) */
    ATTMSG_HEADERS_CAPPED = 1u << 4  /* a header block past its cap */
};

/* One attached message: its body bytes [off, off + len) in the mail, as
 * encoded on the wire. */
struct attmsg_span {
    size_t off;
    size_t len;
    enum attmsg_encoding encoding;
    bool is_last_of_open; /* in the last part of a multipart whose close
                             delimiter never came: may be truncated */
};

struct attmsg_result {
    struct attmsg_span spans[CAPS_ATTMSG_MAX];
    size_t n;        /* attached messages found, document order within
                        each container, outer containers first */
    unsigned flags;  /* enum attmsg_flag bits */
    size_t n_parts;  /* entities examined (the mail itself included) */
};

/*
 * Find the attached messages of the RFC 822 mail (p, len) (no CGP
 * envelope: run queuefile_parse first).  Never fails: a broken mail
 * yields what could be found and flag bits.  *out is overwritten.
 */
void attmsg_find(const uint8_t *p, size_t len, struct attmsg_result *out);

/*
 * Append the decoded bytes of span s of (p, len) to out.  CM_OK;
 * CM_EPARSE when the base64 is broken or the encoding is
 * quoted-printable or one this does not know (ATTMSG_OTHER); CM_ELIMIT when the decoded message would exceed
 * max_bytes (out then holds nothing new); CM_ENOMEM, or CM_ECRYPTO on
 * an OpenSSL failure.  On any error out's contents are unchanged.
 */
enum cm_err attmsg_decode(const uint8_t *p, size_t len,
                          const struct attmsg_span *s, size_t max_bytes,
                          struct buf *out);

#endif
