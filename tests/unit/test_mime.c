/*
 * test_mime.c -- mime_parse: headers, structure, transfer encodings,
 * charsets, text selection, URLs, caps and arena exhaustion.  All
 * messages are synthetic, written here or in testdata/mime/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "caps.h"
#include "mime.h"

struct fixture {
    struct arena *a;
    struct mime_doc doc;
    char *big; /* generated message, freed by teardown */
};

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    fx->a = arena_new(CAPS_ARENA_MAX_BYTES);
    assert_non_null(fx->a);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    arena_free(fx->a);
    free(fx->big);
    free(fx);
    return 0;
}

static struct mime_doc *
parse(void **state, const char *msg)
{
    struct fixture *fx = *state;

    assert_int_equal(mime_parse(fx->a, (const uint8_t *)msg, strlen(msg),
                                &fx->doc),
                     CM_OK);
    return &fx->doc;
}

static struct mime_doc *
parse_n(void **state, const char *msg, size_t len)
{
    struct fixture *fx = *state;

    assert_int_equal(mime_parse(fx->a, (const uint8_t *)msg, len, &fx->doc),
                     CM_OK);
    return &fx->doc;
}

/* Growable message text for generated inputs. */
struct gen {
    char *p;
    size_t len;
    size_t cap;
};

static void
gen_add(struct gen *g, const char *s, size_t n)
{
    if (g->len + n + 1 > g->cap) {
        size_t cap = g->cap == 0 ? 4096 : g->cap;
        while (cap < g->len + n + 1) {
            cap *= 2;
        }
        g->p = realloc(g->p, cap);
        assert_non_null(g->p);
        g->cap = cap;
    }
    memcpy(g->p + g->len, s, n);
    g->len += n;
    g->p[g->len] = '\0';
}

static void
gen_str(struct gen *g, const char *s)
{
    gen_add(g, s, strlen(s));
}

static void
gen_fmt(struct gen *g, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(tmp));
    gen_add(g, tmp, (size_t)n);
}

static bool
text_has(const struct mime_doc *d, const char *needle)
{
    return strstr(d->text, needle) != NULL;
}

/* ---- headers ------------------------------------------------------ */

static void
test_mime_headers_unfolded_and_found(void **state)
{
    const struct mime_header *h;
    struct mime_doc *d = parse(state,
                               "Received: from a\r\n\tby b\r\n"
                               "Subject: hello\r\n world\r\n"
                               "received: second\r\n"
                               "X-Empty:\r\n"
                               "\r\n"
                               "body\r\n");

    assert_int_equal(d->n_headers, 4);
    assert_string_equal(d->headers[0].name, "Received");
    assert_string_equal(d->headers[0].value, "from a\tby b");
    assert_string_equal(d->subject, "hello world");
    h = mime_header_find(d, "RECEIVED");
    assert_ptr_equal(h, &d->headers[0]);
    h = mime_header_next(d, h, "Received");
    assert_ptr_equal(h, &d->headers[2]);
    assert_string_equal(h->value, "second");
    assert_null(mime_header_next(d, h, "received"));
    assert_null(mime_header_find(d, "X-Missing"));
    assert_string_equal(mime_header_find(d, "x-empty")->value, "");
    assert_string_equal(d->text, "body\n");
    assert_int_equal(d->flags & MIME_NO_BODY, 0);
}

static void
test_mime_headers_lf_only_and_no_body(void **state)
{
    struct mime_doc *d = parse(state, "Subject: x\nFrom: a@b\n");

    assert_int_equal(d->n_headers, 2);
    assert_true(d->flags & MIME_NO_BODY);
    assert_int_equal(d->text_len, 0);
}

static void
test_mime_headers_rfc2047(void **state)
{
    struct mime_doc *d = parse(
        state,
        "Subject: =?UTF-8?B?SGVsbG8gd29ybGQ=?= =?utf-8?q?_caf=C3=A9?=\n"
        "From: =?iso-8859-1?Q?Andr=E9?= <a@b.example>\n"
        "X-Split: =?utf-8?B?w6k=?= =?utf-8?B?w6k=?= tail\n"
        "X-Split2: =?utf-8?B?4oK=?= =?utf-8?B?rA==?=\n"
        "X-Lit: a =?bogus =? b\n"
        "\nx");

    assert_string_equal(d->subject, "Hello world café");
    assert_string_equal(mime_header_find(d, "from")->value,
                        "André <a@b.example>");
    assert_string_equal(mime_header_find(d, "x-split")->value, "éé tail");
    /* A character split across two words survives. */
    assert_string_equal(mime_header_find(d, "x-split2")->value, "€");
    assert_string_equal(mime_header_find(d, "x-lit")->value,
                        "a =?bogus =? b");
    assert_true(d->flags & MIME_ENCODED_WORDS);
    assert_int_equal(d->flags & MIME_UNKNOWN_CHARSET, 0);
}

static void
test_mime_headers_unknown_charset_and_raw_8bit(void **state)
{
    struct mime_doc *d = parse(state,
                               "Subject: =?x-nonsense?Q?caf=E9?=\n"
                               "X-Raw: na\xefve caf\xc3\xa9\n"
                               "\n");

    assert_true(d->flags & MIME_UNKNOWN_CHARSET);
    assert_string_equal(d->subject, "café");
    assert_true(d->flags & MIME_RAW_8BIT_HEADERS);
    assert_string_equal(mime_header_find(d, "x-raw")->value,
                        "naïve café");
}

static void
test_mime_headers_no_control_bytes(void **state)
{
    struct mime_doc *d = parse(state,
                               "Subject: =?utf-8?q?a=0D=0AX-Evil:_1=00?=\n"
                               "\n");

    assert_null(strchr(d->subject, '\r'));
    assert_null(strchr(d->subject, '\n'));
    assert_int_equal(strlen(d->subject), 13);
}

/* ---- bodies ------------------------------------------------------- */

static void
test_mime_single_part_base64(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Type: text/plain; charset=utf-8\n"
                               "Content-Transfer-Encoding: base64\n"
                               "\n"
                               "SGVsbG8s\r\nIHdvcmxk\nIQ\n");

    assert_int_equal(d->n_parts, 1);
    assert_string_equal(d->parts[0].content_type, "text/plain");
    assert_string_equal(d->parts[0].charset, "utf-8");
    assert_int_equal(d->parts[0].data_len, 13);
    assert_memory_equal(d->parts[0].data, "Hello, world!", 13);
    assert_string_equal(d->text, "Hello, world!");
    assert_int_equal(d->flags & MIME_BAD_BASE64, 0);
    assert_true(d->flags & MIME_HAS_PLAIN);
}

static void
test_mime_multipart_mixed(void **state)
{
    struct mime_doc *d = parse(
        state,
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
        "\r\n"
        "preamble is ignored\r\n"
        "--b1\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "first\r\n"
        "--b1\r\n"
        "Content-Type: application/pdf; name=\"doc.pdf\"\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment\r\n"
        "\r\n"
        "JVBERi0=\r\n"
        "--b1--\r\n"
        "epilogue is ignored\r\n");

    assert_int_equal(d->n_parts, 2);
    assert_int_equal(d->n_multiparts, 1);
    assert_int_equal(d->max_depth, 1);
    assert_string_equal(d->parts[0].content_type, "text/plain");
    assert_int_equal(d->parts[0].data_len, 5);
    assert_memory_equal(d->parts[0].data, "first", 5);
    assert_false(d->parts[0].is_attachment);
    assert_int_equal(d->parts[0].depth, 1);
    assert_string_equal(d->parts[1].content_type, "application/pdf");
    assert_string_equal(d->parts[1].filename, "doc.pdf");
    assert_true(d->parts[1].is_attachment);
    assert_int_equal(d->parts[1].data_len, 5);
    assert_memory_equal(d->parts[1].data, "%PDF-", 5);
    assert_string_equal(d->text, "first");
    assert_int_equal(d->flags & MIME_NO_CLOSING_BOUNDARY, 0);
}

static void
test_mime_alternative_takes_last(void **state)
{
    struct mime_doc *d = parse(
        state,
        "Content-Type: multipart/mixed; boundary=outer\n"
        "\n"
        "--outer\n"
        "Content-Type: multipart/alternative; boundary=alt\n"
        "\n"
        "--alt\n"
        "Content-Type: text/plain\n"
        "\n"
        "plain version\n"
        "--alt\n"
        "Content-Type: text/html\n"
        "\n"
        "<p>html <b>version</b></p>\n"
        "--alt--\n"
        "--outer\n"
        "Content-Type: text/plain\n"
        "\n"
        "footer\n"
        "--outer--\n");

    assert_int_equal(d->n_parts, 3);
    assert_int_equal(d->n_multiparts, 2);
    assert_int_equal(d->max_depth, 2);
    assert_string_equal(d->text, "html version\nfooter");
    assert_true(d->flags & MIME_HAS_HTML);
    assert_true(d->flags & MIME_HAS_PLAIN);
}

static void
test_mime_missing_closing_boundary(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Type: multipart/mixed; boundary=zz\n"
                               "\n"
                               "--zz\n"
                               "\n"
                               "only part\n");

    assert_int_equal(d->n_parts, 1);
    assert_string_equal(d->text, "only part\n");
    assert_true(d->flags & MIME_NO_CLOSING_BOUNDARY);
}

static void
test_mime_boundary_never_appears(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Type: multipart/mixed; boundary=zz\n"
                               "\n"
                               "Buy cheap pills now\n");

    assert_int_equal(d->n_parts, 1);
    assert_string_equal(d->parts[0].content_type, "text/plain");
    assert_true(text_has(d, "cheap pills"));
    assert_true(d->flags & MIME_NO_CLOSING_BOUNDARY);
}

static void
test_mime_message_rfc822_nested(void **state)
{
    struct mime_doc *d = parse(
        state,
        "Subject: Fwd\n"
        "Content-Type: multipart/mixed; boundary=a\n"
        "\n"
        "--a\n"
        "\n"
        "see below\n"
        "--a\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "Subject: inner\n"
        "Content-Type: multipart/alternative; boundary=b\n"
        "\n"
        "--b\n"
        "\n"
        "inner plain\n"
        "--b\n"
        "Content-Type: text/html\n"
        "\n"
        "inner <i>html</i>\n"
        "--b--\n"
        "--a--\n");

    assert_string_equal(d->subject, "Fwd");
    assert_int_equal(d->n_parts, 3);
    assert_int_equal(d->max_depth, 3);
    assert_int_equal(d->parts[1].depth, 3);
    assert_string_equal(d->text, "see below\ninner html");
    assert_int_equal(d->flags & MIME_NO_CLOSING_BOUNDARY, 0);
}

static void
test_mime_qp_body_and_charset(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Type: text/plain; charset=iso-8859-1\n"
                               "Content-Transfer-Encoding: quoted-printable\n"
                               "\n"
                               "caf=E9 soft=\n"
                               "break =ZZ end   \n"
                               "x\n");

    assert_string_equal(d->text, "café softbreak =ZZ end\nx\n");
    assert_true(d->flags & MIME_BAD_QP);
}

static void
test_mime_html_urls_and_flags(void **state)
{
    struct mime_doc *d = parse(
        state,
        "Content-Type: text/html; charset=utf-8\n"
        "\n"
        "<html><head><title>t</title><style>p{}</style></head><body>"
        "<a href=\"HTTP://User@WWW.Example.COM.:8080/x?a=1&amp;b=2\">"
        "Click&nbsp;here</a>"
        "<img src='http://img.example.net/p.gif'>"
        "<form action=\"https://phish.example.org/post\">"
        "<input type=password name=p></form>"
        "<script>var x = '<a href=http://no.example>';</script>"
        "<div style=\"display:none\">hidden words</div>"
        "visible</body></html>");
    const struct mime_url *u;

    assert_int_equal(d->n_urls, 3);
    u = &d->urls[0];
    assert_true(u->is_href);
    assert_string_equal(u->url,
                        "HTTP://User@WWW.Example.COM.:8080/x?a=1&b=2");
    assert_string_equal(u->host, "www.example.com");
    assert_string_equal(u->anchor_text, "Click here");
    u = &d->urls[1];
    assert_true(u->is_image);
    assert_string_equal(u->host, "img.example.net");
    u = &d->urls[2];
    assert_true(u->is_form);
    assert_string_equal(u->host, "phish.example.org");
    assert_true(d->flags & MIME_HTML_HAS_FORM);
    assert_true(d->flags & MIME_HTML_HAS_PASSWORD);
    assert_true(d->flags & MIME_HTML_HAS_SCRIPT);
    assert_true(d->flags & MIME_HTML_HAS_IMAGES);
    assert_true(d->flags & MIME_HTML_HIDDEN_TEXT);
    assert_false(text_has(d, "hidden"));
    assert_false(text_has(d, "var x"));
    assert_true(text_has(d, "visible"));
    assert_true(text_has(d, "Click here"));
}

static void
test_mime_plain_text_urls(void **state)
{
    struct mime_doc *d = parse(state,
                               "\n"
                               "Go to https://a.example/x, or www.b.example."
                               " Not xhttp://c.example\n");

    assert_int_equal(d->n_urls, 2);
    assert_string_equal(d->urls[0].url, "https://a.example/x");
    assert_string_equal(d->urls[0].host, "a.example");
    assert_false(d->urls[0].is_href);
    assert_string_equal(d->urls[1].url, "www.b.example");
    assert_string_equal(d->urls[1].host, "www.b.example");
    assert_string_equal(d->urls[1].anchor_text, "");
}

static void
test_mime_garbage_never_fails(void **state)
{
    static const char *const inputs[] = {
        "", "\n", "\r\n\r\n", ":", "--", "--\n--", "From \n",
        "Content-Type: multipart/mixed; boundary=\n\n--\n",
        "Content-Type: multipart/mixed; boundary=\"\\\n\n--\\\n",
        "Content-Type: message/rfc822\n\n",
        "Content-Transfer-Encoding: base64\n\n====",
        "Content-Transfer-Encoding: quoted-printable\n\n=",
        "Subject: =?\n\n", "Subject: =?a?b?=\n\n",
    };

    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct mime_doc *d = parse(state, inputs[i]);
        assert_non_null(d->text);
        assert_non_null(d->subject);
        arena_reset(((struct fixture *)*state)->a);
    }
    assert_non_null(parse_n(state, NULL, 0)->text);
}

/* ---- caps --------------------------------------------------------- */

/* Multiparts nested n deep, a text leaf at the bottom (depth n). */
static void
gen_nested(struct gen *g, size_t n)
{
    gen_str(g, "Content-Type: multipart/mixed; boundary=b0\n\n");
    for (size_t i = 0; i < n; i++) {
        gen_fmt(g, "--b%zu\n", i);
        if (i + 1 < n) {
            gen_fmt(g, "Content-Type: multipart/mixed; boundary=b%zu\n\n",
                    i + 1);
        } else {
            gen_str(g, "Content-Type: text/plain\n\ndeep leaf\n");
        }
    }
    for (size_t i = n; i > 0; i--) {
        gen_fmt(g, "--b%zu--\n", i - 1);
    }
}

static void
test_mime_depth_at_cap(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    gen_nested(&g, MIME_MAX_DEPTH);
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->flags & MIME_DEPTH_CAPPED, 0);
    assert_int_equal(d->max_depth, MIME_MAX_DEPTH);
    assert_int_equal(d->n_parts, 1);
    assert_int_equal(d->parts[0].depth, MIME_MAX_DEPTH);
    assert_string_equal(d->text, "deep leaf");
    assert_int_equal(d->flags & MIME_NO_CLOSING_BOUNDARY, 0);
}

static void
test_mime_depth_over_cap(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    gen_nested(&g, MIME_MAX_DEPTH + 1);
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_true(d->flags & MIME_DEPTH_CAPPED);
    assert_int_equal(d->max_depth, MIME_MAX_DEPTH);
    assert_int_equal(d->n_parts, 1);
    assert_string_equal(d->parts[0].content_type, "multipart/mixed");
    assert_int_equal(d->flags & MIME_NO_CLOSING_BOUNDARY, 0);
}

static void
test_mime_depth_10000(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    gen_nested(&g, 10000);
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_true(d->flags & MIME_DEPTH_CAPPED);
    assert_int_equal(d->max_depth, MIME_MAX_DEPTH);
}

static void
test_mime_depth_message_rfc822_counts(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    for (size_t i = 0; i < MIME_MAX_DEPTH + 5; i++) {
        gen_str(&g, "Content-Type: message/rfc822\n\n");
    }
    gen_str(&g, "\nforwarded many times\n");
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_true(d->flags & MIME_DEPTH_CAPPED);
    assert_int_equal(d->max_depth, MIME_MAX_DEPTH);
    assert_int_equal(d->n_parts, 1);
}

/* One multipart of n text leaves. */
static void
gen_parts(struct gen *g, size_t n)
{
    gen_str(g, "Content-Type: multipart/mixed; boundary=p\n\n");
    for (size_t i = 0; i < n; i++) {
        gen_fmt(g, "--p\n\nw%zu\n", i);
    }
    gen_str(g, "--p--\n");
}

static void
test_mime_parts_at_cap(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    gen_parts(&g, MIME_MAX_PARTS);
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->n_parts, MIME_MAX_PARTS);
    assert_int_equal(d->flags & MIME_PARTS_CAPPED, 0);
    assert_true(text_has(d, "w511"));
}

static void
test_mime_parts_over_cap(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    gen_parts(&g, MIME_MAX_PARTS + 1);
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->n_parts, MIME_MAX_PARTS);
    assert_true(d->flags & MIME_PARTS_CAPPED);
    assert_false(text_has(d, "w512"));
}

static void
test_mime_parts_100000(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    gen_parts(&g, 100000);
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->n_parts, MIME_MAX_PARTS);
    assert_true(d->flags & MIME_PARTS_CAPPED);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mime_headers_unfolded_and_found,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mime_headers_lf_only_and_no_body,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mime_headers_rfc2047, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_mime_headers_unknown_charset_and_raw_8bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mime_headers_no_control_bytes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mime_single_part_base64, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_multipart_mixed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_alternative_takes_last,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mime_missing_closing_boundary,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mime_boundary_never_appears,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mime_message_rfc822_nested,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mime_qp_body_and_charset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_html_urls_and_flags, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_plain_text_urls, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_garbage_never_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_depth_at_cap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_depth_over_cap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_depth_10000, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_depth_message_rfc822_counts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_parts_at_cap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_parts_over_cap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mime_parts_100000, setup,
                                        teardown),
    };

    return cmocka_run_group_tests_name("mime", tests, NULL, NULL);
}
