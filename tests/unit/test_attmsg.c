/*
 * test_attmsg.c -- unit tests for attmsg: attached messages of feedback
 * mails (message/rfc822, message/global, *.eml names, multipart/digest
 * defaults), exact bytes (LF and CRLF), nesting, what is not reported
 * (text/rfc822-headers, inner attachments of an attached message,
 * boundary look-alikes), the caps at the cap and cap + 1, an unclosed
 * multipart, and attmsg_decode (identity, base64, QP, broken, too big).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attmsg.h"
#include "buf.h"
#include "caps.h"

#define INNER                                                              \
    "From: bad@spam.example\nSubject: cheap pills\n\nBuy now.\n\nBye.\n"

static void
find(const char *mail, struct attmsg_result *r)
{
    attmsg_find((const uint8_t *)mail, strlen(mail), r);
}

/* The decoded span i of mail as a NUL-terminated string (caller frees). */
static char *
decoded(const char *mail, const struct attmsg_result *r, size_t i)
{
    struct buf b;
    char *s;

    buf_init(&b, 1u << 20);
    assert_int_equal(attmsg_decode((const uint8_t *)mail, strlen(mail),
                                   &r->spans[i], 1u << 20, &b),
                     CM_OK);
    s = strndup(b.data != NULL ? (const char *)b.data : "", b.len);
    buf_clear(&b);
    assert_non_null(s);
    return s;
}

static void
test_attmsg_rfc822_exact_bytes(void **state)
{
    const char *mail =
        "From: user@x\nSubject: spam report\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"XX\"\n\n"
        "preamble\n--XX\nContent-Type: text/plain\n\nthis is spam\n"
        "--XX\nContent-Type: message/rfc822\n\n" INNER "--XX--\nepilogue\n";
    struct attmsg_result r;
    char *m;

    (void)state;
    find(mail, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.spans[0].encoding, ATTMSG_IDENTITY);
    assert_false(r.spans[0].is_last_of_open);
    m = decoded(mail, &r, 0);
    /* The line break before the delimiter is the delimiter's. */
    assert_string_equal(m, "From: bad@spam.example\nSubject: cheap pills\n\n"
                           "Buy now.\n\nBye.");
    free(m);
}

static void
test_attmsg_crlf(void **state)
{
    const char *mail =
        "Content-Type: multipart/mixed;\r\n boundary=b1\r\n\r\n"
        "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        "--b1\r\nContent-Type: MESSAGE/RFC822\r\n\r\n"
        "Subject: x\r\n\r\nbody\r\n\r\n--b1--\r\n";
    struct attmsg_result r;
    char *m;

    (void)state;
    find(mail, &r);
    assert_int_equal(r.n, 1);
    m = decoded(mail, &r, 0);
    assert_string_equal(m, "Subject: x\r\n\r\nbody\r\n");
    free(m);
}

static void
test_attmsg_base64_and_eml_names(void **state)
{
    /* "Subject: hi\n\nbody\n" in base64, once as message/rfc822 (which
     * RFC 2046 forbids and clients do), once as an octet stream named
     * *.eml, once with an RFC 2231 name. */
    const char *mail =
        "Content-Type: multipart/mixed; boundary=\"=_b\"\n\n"
        "--=_b\nContent-Type: message/rfc822\n"
        "Content-Transfer-Encoding: base64\n\nU3ViamVjdDogaGkKCmJv\nZHkK\n"
        "--=_b\nContent-Type: application/octet-stream; name=\"Fwd.EML\"\n"
        "Content-Transfer-Encoding: BASE64\n\nU3ViamVjdDogaGkKCmJvZHkK\n"
        "--=_b\nContent-Type: application/octet-stream\n"
        "Content-Disposition: attachment;\n"
        " filename*=utf-8''r%C3%A9sum%C3%A9.eml\n\nSubject: raw\n\nx\n"
        "--=_b\nContent-Type: application/pdf; name=\"a.pdf\"\n\n%PDF\n"
        "--=_b--\n";
    struct attmsg_result r;
    char *m;

    (void)state;
    find(mail, &r);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.spans[0].encoding, ATTMSG_BASE64);
    assert_int_equal(r.spans[1].encoding, ATTMSG_BASE64);
    assert_int_equal(r.spans[2].encoding, ATTMSG_IDENTITY);
    m = decoded(mail, &r, 0);
    assert_string_equal(m, "Subject: hi\n\nbody\n");
    free(m);
    m = decoded(mail, &r, 1);
    assert_string_equal(m, "Subject: hi\n\nbody\n");
    free(m);
    m = decoded(mail, &r, 2);
    assert_string_equal(m, "Subject: raw\n\nx");
    free(m);
}

static void
test_attmsg_nested_and_not_inside(void **state)
{
    /* Outlook's shape: mixed(alternative(text, html), rfc822); the
     * attached message has an attachment of its own, not reported. */
    const char *mail =
        "Content-Type: multipart/mixed; boundary=outer\n\n"
        "--outer\nContent-Type: multipart/alternative; boundary=alt\n\n"
        "--alt\nContent-Type: text/plain\n\nsee\n"
        "--alt\nContent-Type: text/html\n\n<p>see</p>\n--alt--\n"
        "--outer\nContent-Type: message/global\n\n"
        "Subject: inner\nContent-Type: multipart/mixed; boundary=in\n\n"
        "--in\nContent-Type: text/plain\n\nbuy\n"
        "--in\nContent-Type: message/rfc822\n\nSubject: deeper\n\nz\n"
        "--in--\n"
        "--outer--\n";
    struct attmsg_result r;
    char *m;

    (void)state;
    find(mail, &r);
    assert_int_equal(r.n, 1);
    m = decoded(mail, &r, 0);
    assert_non_null(strstr(m, "Subject: inner\n"));
    assert_non_null(strstr(m, "Subject: deeper\n"));
    assert_non_null(strstr(m, "--in--"));
    free(m);
    assert_int_equal(r.n_parts, 5);
}

static void
test_attmsg_nothing_attached(void **state)
{
    struct attmsg_result r;

    (void)state;
    /* An inline forward, ARF headers only, a look-alike boundary line,
     * no MIME at all, empty and NULL input. */
    find("Subject: fwd\n\n---------- Forwarded message ---------\n"
         "From: a@b\nSubject: x\n\ntext\n", &r);
    assert_int_equal(r.n, 0);
    find("Content-Type: multipart/report; boundary=r\n\n"
         "--r\nContent-Type: text/plain\n\nreport\n"
         "--r\nContent-Type: text/rfc822-headers\n\nSubject: x\n--r--\n",
         &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.n_parts, 3);
    find("Content-Type: multipart/mixed; boundary=abc\n\n"
         "--abcdef\nContent-Type: message/rfc822\n\nSubject: no\n\n--abc--\n",
         &r);
    assert_int_equal(r.n, 0);
    find("", &r);
    assert_int_equal(r.n, 0);
    attmsg_find(NULL, 0, &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.n_parts, 0);
}

static void
test_attmsg_whole_mail_and_digest(void **state)
{
    const char *whole = "Content-Type: message/rfc822\n\nSubject: w\n\nb\n";
    const char *digest =
        "Content-Type: multipart/digest; boundary=d\n\n"
        "--d\n\nSubject: one\n\n1\n--d\n\nSubject: two\n\n2\n"
        "--d\nContent-Type: text/plain\n\nnot a message\n--d--\n";
    struct attmsg_result r;
    char *m;

    (void)state;
    find(whole, &r);
    assert_int_equal(r.n, 1);
    m = decoded(whole, &r, 0);
    assert_string_equal(m, "Subject: w\n\nb\n");
    free(m);
    /* multipart/digest: a part without Content-Type is a message. */
    find(digest, &r);
    assert_int_equal(r.n, 2);
    m = decoded(digest, &r, 1);
    assert_string_equal(m, "Subject: two\n\n2");
    free(m);
}

static void
test_attmsg_unclosed(void **state)
{
    const char *mail = "Content-Type: multipart/mixed; boundary=u\n\n"
                       "--u\nContent-Type: message/rfc822\n\nSubject: a\n\n"
                       "first\n--u\nContent-Type: message/rfc822\n\n"
                       "Subject: b\n\ncut he";
    struct attmsg_result r;

    (void)state;
    find(mail, &r);
    assert_int_equal(r.n, 2);
    assert_false(r.spans[0].is_last_of_open);
    assert_true(r.spans[1].is_last_of_open);
    assert_true((r.flags & ATTMSG_NO_CLOSE) != 0);
}

/* A mail with n message/rfc822 parts in one multipart. */
static char *
many(size_t n, const char *type)
{
    struct buf b;
    char *s;

    buf_init(&b, 1u << 20);
    assert_int_equal(buf_puts(&b, "Content-Type: multipart/mixed; "
                                  "boundary=m\n\n"),
                     CM_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(buf_printf(&b, "--m\nContent-Type: %s\n\n"
                                        "Subject: %zu\n\nx\n",
                                    type, i),
                         CM_OK);
    }
    assert_int_equal(buf_puts(&b, "--m--\n"), CM_OK);
    s = strdup((const char *)b.data);
    buf_clear(&b);
    assert_non_null(s);
    return s;
}

static void
test_attmsg_count_and_parts_caps(void **state)
{
    struct attmsg_result r;
    char *m;

    (void)state;
    m = many(CAPS_ATTMSG_MAX, "message/rfc822");
    find(m, &r);
    assert_int_equal(r.n, CAPS_ATTMSG_MAX);
    assert_int_equal(r.flags & ATTMSG_COUNT_CAPPED, 0);
    free(m);
    m = many(CAPS_ATTMSG_MAX + 1, "message/rfc822");
    find(m, &r);
    assert_int_equal(r.n, CAPS_ATTMSG_MAX);
    assert_true((r.flags & ATTMSG_COUNT_CAPPED) != 0);
    free(m);
    /* The queue: the mail itself plus PARTS_MAX - 1 parts fit. */
    m = many(CAPS_ATTMSG_PARTS_MAX - 1, "text/plain");
    find(m, &r);
    assert_int_equal(r.n_parts, CAPS_ATTMSG_PARTS_MAX);
    assert_int_equal(r.flags & ATTMSG_PARTS_CAPPED, 0);
    free(m);
    m = many(CAPS_ATTMSG_PARTS_MAX, "text/plain");
    find(m, &r);
    assert_int_equal(r.n_parts, CAPS_ATTMSG_PARTS_MAX);
    assert_true((r.flags & ATTMSG_PARTS_CAPPED) != 0);
    free(m);
}

/* depth nested multiparts around one message/rfc822 part. */
static char *
nested(unsigned depth)
{
    struct buf b;
    char *s;

    buf_init(&b, 1u << 20);
    for (unsigned i = 0; i < depth; i++) {
        assert_int_equal(buf_printf(&b, "Content-Type: multipart/mixed; "
                                        "boundary=n%u\n\n--n%u\n",
                                    i, i),
                         CM_OK);
    }
    assert_int_equal(buf_puts(&b, "Content-Type: message/rfc822\n\n"
                                  "Subject: deep\n\nd\n"),
                     CM_OK);
    for (unsigned i = depth; i > 0; i--) {
        assert_int_equal(buf_printf(&b, "--n%u--\n", i - 1), CM_OK);
    }
    s = strdup((const char *)b.data);
    buf_clear(&b);
    assert_non_null(s);
    return s;
}

static void
test_attmsg_depth_cap(void **state)
{
    struct attmsg_result r;
    char *m;

    (void)state;
    m = nested(CAPS_ATTMSG_DEPTH_MAX);
    find(m, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.flags, 0);
    free(m);
    m = nested(CAPS_ATTMSG_DEPTH_MAX + 1);
    find(m, &r);
    assert_int_equal(r.n, 0);
    assert_true((r.flags & ATTMSG_DEPTH_CAPPED) != 0);
    free(m);
}

static void
test_attmsg_header_cap(void **state)
{
    size_t n = CAPS_ATTMSG_HEADER_MAX_BYTES + 64;
    char *m = malloc(n + 64);
    struct attmsg_result r;
    size_t k = 0;

    (void)state;
    assert_non_null(m);
    /* A header block longer than the cap: no body is looked at. */
    k += (size_t)snprintf(m, 64, "Content-Type: message/rfc822\n");
    while (k < n) {
        memcpy(m + k, "X-Pad: 0123456789\n", 18);
        k += 18;
    }
    memcpy(m + k, "\nSubject: x\n\ny\n", 16);
    find(m, &r);
    assert_true((r.flags & ATTMSG_HEADERS_CAPPED) != 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.spans[0].len, 0);
    free(m);
}

static void
test_attmsg_decode_errors(void **state)
{
    const char *p = "QUJDRA==";
    struct attmsg_span s = {0, 8, ATTMSG_BASE64, false};
    struct buf b;

    (void)state;
    buf_init(&b, 1u << 20);
    assert_int_equal(attmsg_decode((const uint8_t *)p, 8, &s, 4, &b), CM_OK);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "ABCD", 4);
    /* One byte over the limit: refused, nothing appended. */
    assert_int_equal(attmsg_decode((const uint8_t *)p, 8, &s, 3, &b),
                     CM_ELIMIT);
    assert_int_equal(b.len, 4);
    s.encoding = ATTMSG_IDENTITY;
    assert_int_equal(attmsg_decode((const uint8_t *)p, 8, &s, 7, &b),
                     CM_ELIMIT);
    assert_int_equal(b.len, 4);
    s.encoding = ATTMSG_QP;
    assert_int_equal(attmsg_decode((const uint8_t *)p, 8, &s, 100, &b),
                     CM_EPARSE);
    s.encoding = ATTMSG_BASE64;
    assert_int_equal(attmsg_decode((const uint8_t *)"QU*DRA==", 8, &s, 100,
                                   &b),
                     CM_EPARSE);
    /* OpenSSL stops at a '-' (its end-of-data mark) and reports success
     * with the bytes before it: a message cut short must be refused, not
     * stored.  "RnJvbTog" is "From: ". */
    {
        const char *dash = "RnJvbTog-YUBiLmV4YW1wbGUK\n";
        struct attmsg_span sd = {0, strlen(dash), ATTMSG_BASE64, false};

        assert_int_equal(attmsg_decode((const uint8_t *)dash, strlen(dash),
                                       &sd, 100, &b),
                         CM_EPARSE);
        assert_int_equal(b.len, 4);
    }
    /* A span outside the input. */
    s.off = 4;
    assert_int_equal(attmsg_decode((const uint8_t *)p, 8, &s, 100, &b),
                     CM_EPARSE);
    assert_int_equal(b.len, 4);
    buf_clear(&b);
}

/* A transfer encoding other than 7bit, 8bit, binary, base64 or
 * quoted-printable is not undone: its bytes are not the message, so the
 * span is refused rather than handed on as if it were one. */
static void
test_attmsg_unknown_encoding(void **state)
{
    const char *mail =
        "From: user@x\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"XX\"\n\n"
        "--XX\nContent-Type: message/rfc822\n"
        "Content-Transfer-Encoding: x-uuencode\n\n"
        "begin 644 spam.eml\nM1G)O;3H@8F%D0'-P86TN97AA;7!L90H*0G5Y(&YO=RX*\n`\nend\n"
        "--XX\nContent-Type: message/rfc822\n"
        "Content-Transfer-Encoding: 8BIT\n\n" INNER "--XX\n"
        "Content-Type: message/rfc822\nContent-Transfer-Encoding:\n\n"
        INNER "--XX--\n";
    struct attmsg_result r;
    struct buf b;
    char *m;

    (void)state;
    find(mail, &r);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.spans[0].encoding, ATTMSG_OTHER);
    assert_int_equal(r.spans[1].encoding, ATTMSG_IDENTITY);
    assert_int_equal(r.spans[2].encoding, ATTMSG_IDENTITY);
    buf_init(&b, 1u << 20);
    assert_int_equal(attmsg_decode((const uint8_t *)mail, strlen(mail),
                                   &r.spans[0], 1u << 20, &b),
                     CM_EPARSE);
    assert_int_equal(b.len, 0);
    buf_clear(&b);
    m = decoded(mail, &r, 1);
    assert_string_equal(m, "From: bad@spam.example\nSubject: cheap pills\n\n"
                           "Buy now.\n\nBye.");
    free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attmsg_rfc822_exact_bytes),
        cmocka_unit_test(test_attmsg_crlf),
        cmocka_unit_test(test_attmsg_base64_and_eml_names),
        cmocka_unit_test(test_attmsg_nested_and_not_inside),
        cmocka_unit_test(test_attmsg_nothing_attached),
        cmocka_unit_test(test_attmsg_whole_mail_and_digest),
        cmocka_unit_test(test_attmsg_unclosed),
        cmocka_unit_test(test_attmsg_count_and_parts_caps),
        cmocka_unit_test(test_attmsg_depth_cap),
        cmocka_unit_test(test_attmsg_header_cap),
        cmocka_unit_test(test_attmsg_decode_errors),
        cmocka_unit_test(test_attmsg_unknown_encoding),
    };

    return cmocka_run_group_tests_name("attmsg", tests, NULL, NULL);
}
