/*
 * rules-int.h -- private interface shared by rules.c and rules_phish.c
 * (the structural phishing signals).  Not for other modules.
 *
 * All functions are pure, bounded by the parsed message's own caps, and
 * allocate nothing.
 */
#ifndef CM_RULES_INT_H
#define CM_RULES_INT_H

#include <stdbool.h>
#include <stddef.h>

struct mime_doc;
struct mime_header;

/* Offset of the mailbox's address in a one-mailbox header value (v,
 * len): just after its last '<', or 0 without one. */
size_t rules_angle_addr_offset(const char *v, size_t len);

/* Lower-case domain of the mailbox in the top-level header name (From,
 * Reply-To: the address after the last '<', else the first '@') into dst
 * (NUL-terminated, at most cap - 1 bytes); its length, 0 when there is
 * none.  An address shown in the display name is not the sender's. */
size_t rules_header_domain(const struct mime_doc *doc, const char *name,
                           char *dst, size_t cap);

/* The From and Reply-To domains of one message (rules_header_domain,
 * 256 bytes of room each as every rule gave them) and the From display
 * name, read once by rules_detect for all its rules: each rule found
 * them again, From's domain four times a message and its name three
 * (issue #7). */
#define RULES_SENDER_DOMAIN_CAP 256u
struct rules_senders {
    char from[RULES_SENDER_DOMAIN_CAP];
    size_t from_len;
    const char *from_reg; /* url_registered_domain of from; 0 when none */
    size_t from_reg_len;
    char reply_to[RULES_SENDER_DOMAIN_CAP];
    size_t reply_to_len;
    /* rules_from_parts' answer and display name (a view into the From
     * value) */
    bool has_from_name;
    const char *from_name;
    size_t from_name_len;
};

void rules_senders_read(const struct mime_doc *doc, struct rules_senders *s);

/* A receiving server recorded that the sender failed authentication:
 * Authentication-Results with spf=fail|softfail, dmarc=fail or
 * compauth=fail, or Received-SPF: fail|softfail. */
bool rules_auth_failed(const struct mime_doc *doc);

/* A link that hides where it goes: a URL shortener's host, or a data:
 * URI in a link (not an image). */
bool rules_hidden_link(const struct mime_doc *doc);

/* dom (len bytes, lower-case) is a free mailbox provider's own domain:
 * anyone can sign up there under a made-up name. */
bool rules_is_freemail(const char *dom, size_t len);

/* Reply-To sends the answer to a free mailbox outside the From domain
 * (s: the message's sender domains). */
bool rules_reply_to_freemail(const struct mime_doc *doc,
                             const struct rules_senders *s);

/* The Subject or the From display name holds the recipient's address
 * (the only address of To). */
bool rules_recipient_named(const struct mime_doc *doc,
                           const struct rules_senders *s);

/* A word of the Subject or the From display name mixes Latin with
 * Cyrillic or Greek letters (lookalike_text_mixed_script). */
bool rules_mixed_script_text(const struct mime_doc *doc,
                             const struct rules_senders *s);

/* Whether the file name (name, len) has one of the n extensions in
 * list (lower case; compared case-blind, trailing dots and blanks
 * ignored as Windows does). */
bool rules_ext_in(const char *name, size_t len, const char *const *list,
                  size_t n);

#endif
