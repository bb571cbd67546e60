/*
 * mime.h -- bounded MIME parser: RFC 822/2045-2049 message → parsed view.
 *
 * One pass over the bytes, an explicit stack for nesting (no recursion on
 * message structure), every part and byte count capped (caps.h MIME
 * section).  Everything returned is allocated from the caller's arena and
 * lives until that arena is reset or freed.  A broken part never fails the
 * message: problems become flag bits (enum mime_flag) that feed the rescan
 * flag and the features.  Split as mime.c (structure), mime_b64.c,
 * mime_qp.c, mime_rfc2047.c, mime_uu.c (decoders) sharing mime-int.h;
 * uses charset, html and url.  Pure: no I/O, no logging; any thread (one arena each).
 */
#ifndef CM_MIME_H
#define CM_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "err.h"

enum mime_flag {
    MIME_DEPTH_CAPPED = 1u << 0,     /* nesting deeper than the cap */
    MIME_PARTS_CAPPED = 1u << 1,     /* more parts than the cap */
    MIME_HEADERS_CAPPED = 1u << 2,   /* too many or too long header lines */
    MIME_TEXT_CAPPED = 1u << 3,      /* decoded text past its cap */
    MIME_URLS_CAPPED = 1u << 4,      /* more URLs than the cap */
    MIME_ATTS_CAPPED = 1u << 5,      /* more attachments than the cap */
    MIME_ARENA_FULL = 1u << 6,       /* arena budget ran out; view partial */
    MIME_BAD_BASE64 = 1u << 7,       /* invalid base64 skipped */
    MIME_BAD_QP = 1u << 8,           /* invalid quoted-printable kept raw */
    MIME_UNKNOWN_CHARSET = 1u << 9,  /* a charset iconv does not know */
    MIME_BAD_CHARSET_BYTES = 1u << 10, /* bytes invalid in their charset */
    MIME_NO_CLOSING_BOUNDARY = 1u << 11,
    MIME_NO_BODY = 1u << 12,         /* header block never ended */
    MIME_HAS_HTML = 1u << 13,        /* a text/html part was rendered */
    MIME_HAS_PLAIN = 1u << 14,       /* a text/plain part was seen */
    MIME_HTML_HIDDEN_TEXT = 1u << 15, /* display:none, tiny or same-colour */
    MIME_HTML_HAS_FORM = 1u << 16,   /* <form> (credential phishing) */
    MIME_HTML_HAS_PASSWORD = 1u << 17, /* <input type=password> */
    MIME_HTML_HAS_SCRIPT = 1u << 18, /* <script> dropped */
    MIME_HTML_HAS_IMAGES = 1u << 19, /* <img> present */
    MIME_RAW_8BIT_HEADERS = 1u << 20, /* unencoded 8-bit bytes in headers */
    MIME_ENCODED_WORDS = 1u << 21,   /* RFC 2047 words were decoded */
    MIME_TRUNCATED = 1u << 22,       /* set by the caller: input was cut */
    MIME_PART_CAPPED = 1u << 23      /* a part's decoded data was cut */
};

/* One header field of the top-level header block. */
struct mime_header {
    const char *name; /* as written, NUL-terminated */
    size_t name_len;
    const char *value; /* unfolded, RFC 2047 decoded, UTF-8, NUL-terminated */
    size_t value_len;
    /* Unfolded but not RFC 2047 decoded (value itself when nothing was
     * decoded); NUL-terminated.  Where an address is: an encoded word is
     * never part of one (RFC 2047 5), so "<x@evil.example>
     * =?us-ascii?q?=3Cy=40bank.example=3E?=" is from evil.example,
     * whatever the decoded value ends with. */
    const char *raw_value;
    size_t raw_value_len;
};

/* One URL found in an href/src/action attribute or in plain text. */
struct mime_url {
    const char *url; /* as found (entities decoded), NUL-terminated */
    size_t url_len;
    const char *host; /* lower-case host, no userinfo/port; "" if none */
    size_t host_len;
    unsigned host_flags; /* enum url_flag bits url_host gave (url.h): the
                            readers need not parse the URL again */
    const char *reg; /* url_registered_domain of host, a view into it;
                        host and 0 when there is no host */
    size_t reg_len;
    size_t host_read_to; /* url_host_read's read_to (url.h), for mime's
                            own use: a next URL the same up to it and
                            including it has this host */
    const char *anchor_text; /* visible text of <a>, "" if none */
    size_t anchor_len;
    bool is_href;   /* from <a href> (else text, img src, form action) */
    bool is_image;  /* from <img src> */
    bool is_form;   /* from <form action> */
    bool is_get_form; /* ... of a form with method=get (a search box) */
};

/* One leaf part (text, attachment or other). */
struct mime_part {
    const char *content_type; /* lower-case "type/subtype" */
    const char *charset;      /* lower-case, "" if none */
    const char *filename;     /* decoded name/filename, "" if none */
    /* Another name the headers give the part, "" if none or the same:
     * Content-Type name= beside the Content-Disposition filename= kept
     * above, else a plain filename=/name= that a repeated one or the
     * RFC 2231 form overrode.  Some clients save the part under it. */
    const char *other_filename;
    const uint8_t *data;      /* decoded content (transfer encoding undone) */
    size_t data_len;
    unsigned depth;           /* 0 = the message itself */
    bool is_attachment;       /* Content-Disposition attachment or a name */
    bool disp_attachment;     /* Content-Disposition: attachment itself */
};

struct mime_doc {
    struct mime_header *headers; /* top-level header block, in order */
    size_t n_headers;
    struct mime_part *parts; /* leaf parts in document order */
    size_t n_parts;
    const char *subject; /* decoded Subject value, "" when absent */
    const char *text;    /* body text for features: text/plain parts and
                            rendered HTML, UTF-8, NUL-terminated; from a
                            multipart/alternative only the preferred part */
    size_t text_len;
    struct mime_url *urls;
    size_t n_urls;
    unsigned n_multiparts; /* multipart containers seen */
    unsigned max_depth;
    unsigned flags; /* enum mime_flag bits */
    /* Lookup index of the header names, for mime_header_find/next: slot
     * name_slots[k] holds 1 + the index of the first header whose name
     * hashes there (open addressing, 0 = free), next_same[i] 1 + the
     * index of the next header named like header i (0 = none).  Built by
     * mime_parse; both NULL when it had no room, or in a mime_doc built
     * by hand: the lookups then scan the headers. */
    const uint16_t *name_slots;
    const uint16_t *next_same;
};

/*
 * Parse the RFC 822 message (p, len) into *out, allocating from a.
 * Returns CM_OK for every input (garbage yields an almost empty view with
 * flags); CM_ENOMEM only when not even the empty view could be allocated.
 * (p, len) must stay valid as long as *out is used (part data may point
 * into it).
 */
enum cm_err mime_parse(struct arena *a, const uint8_t *p, size_t len,
                       struct mime_doc *out);

/* Next header named (name, name_len) after prev (NULL to start), ASCII
 * case-insensitive, or NULL. */
const struct mime_header *mime_header_next_n(const struct mime_doc *doc,
                                             const struct mime_header *prev,
                                             const char *name,
                                             size_t name_len);

/* Next header named name after prev (NULL to start), or NULL.  Inline so
 * that the length of a literal name is known when compiling (issue #7: a
 * strlen per lookup). */
static inline const struct mime_header *
mime_header_next(const struct mime_doc *doc, const struct mime_header *prev,
                 const char *name)
{
    return mime_header_next_n(doc, prev, name, strlen(name));
}

/* First header named name (ASCII case-insensitive), or NULL. */
static inline const struct mime_header *
mime_header_find(const struct mime_doc *doc, const char *name)
{
    return mime_header_next_n(doc, NULL, name, strlen(name));
}

/* The text of header h to read a mailbox address from, into (*v,
 * *len): the value before RFC 2047 decoding when that holds an '@' (an
 * encoded word is never part of an address, so one decoding to
 * "<y@bank.example>" after the real address adds none), else the
 * decoded value (a broken sender that encoded its whole From). */
void mime_header_addr_text(const struct mime_header *h, const char **v,
                           size_t *len);

#endif
