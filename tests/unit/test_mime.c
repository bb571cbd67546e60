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

#include <dirent.h>

#include <cmocka.h>

#include "arena.h"
#include "caps.h"
#include "mime.h"
#include "url.h"

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

static void gen_fmt(struct gen *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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

/*
 * Header values are copied eight plain bytes at a time: a byte that is
 * not plain ASCII text ('=', tab, a control byte, DEL) at every offset
 * from a block boundary must still be seen -- control bytes and DEL as
 * blanks, '=' and tab kept.
 */
static void
test_mime_headers_unfold_every_offset(void **state)
{
    static const char specials[] = {'=', '\t', 0x01, 0x7F, '~', ' '};
    static const char plain[] = "abcdefghijklmnopqrstuvwxyz0123456789";

    for (size_t k = 0; k < sizeof(specials); k++) {
        for (size_t off = 0; off < 20; off++) {
            char raw[128];
            char want[64];
            struct mime_doc *d;
            size_t n = 0;
            size_t w = 0;

            memcpy(raw, "X-T: ", 5);
            n = 5;
            memcpy(raw + n, plain, off + 1);
            memcpy(want, plain, off + 1);
            n += off + 1;
            w += off + 1;
            raw[n++] = specials[k];
            want[w++] = (specials[k] == 0x01 || specials[k] == 0x7F)
                            ? ' '
                            : specials[k];
            memcpy(raw + n, plain, 17);
            memcpy(want + w, plain, 17);
            n += 17;
            w += 17;
            memcpy(raw + n, "\r\n\r\nb\r\n", 7);
            raw[n + 7] = '\0';
            want[w] = '\0';
            d = parse(state, raw);
            assert_int_equal(d->n_headers, 1);
            assert_string_equal(d->headers[0].value, want);
        }
    }
}

/* Folds of every kind -- CRLF or LF then a blank, a stray CR before the
 * CRLF -- at every offset from a block boundary: the line breaks go, the
 * blank after them stays. */
static void
test_mime_headers_fold_every_offset(void **state)
{
    static const char *const folds[] = {"\r\n\t", "\n ", "\r\r\n ",
                                        "\r\n  \t"};
    static const char *const kept[] = {"\t", " ", " ", "  \t"};
    static const char plain[] = "abcdefghijklmnopqrstuvwxyz0123456789";

    for (size_t k = 0; k < sizeof(folds) / sizeof(folds[0]); k++) {
        for (size_t off = 0; off < 20; off++) {
            char raw[128];
            char want[64];
            struct mime_doc *d;

            snprintf(raw, sizeof(raw), "X-F: %.*s%s%.17s\r\n\r\nb\r\n",
                     (int)off + 1, plain, folds[k], plain);
            snprintf(want, sizeof(want), "%.*s%s%.17s", (int)off + 1, plain,
                     kept[k], plain);
            arena_reset(((struct fixture *)*state)->a);
            d = parse(state, raw);
            assert_int_equal(d->n_headers, 1);
            assert_string_equal(d->headers[0].value, want);
        }
    }
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
    assert_int_equal(d->flags & (MIME_BAD_BASE64 | MIME_BAD_QP), 0);
    /* Broken encodings inside words are reported by kind. */
    arena_reset(((struct fixture *)*state)->a);
    d = parse(state, "Subject: =?utf-8?B?SG!Vs?= =?utf-8?Q?a=ZZb?=\n\n");
    assert_string_equal(d->subject, "Hela=ZZb");
    assert_true(d->flags & MIME_BAD_BASE64);
    assert_true(d->flags & MIME_BAD_QP);
}

/* unfold tells an encoded word by the '?' after its '=': one after
 * parameters full of '=', at every offset against the 8-byte blocks
 * unfold scans, and a value of parameters only, left alone. */
static void
test_mime_headers_rfc2047_among_params(void **state)
{
    for (size_t pad = 0; pad < 17; pad++) {
        char msg[160];
        char want[64];
        struct mime_doc *d;

        want[0] = 'p';
        memset(want + 1, 'x', pad);
        memcpy(want + 1 + pad, " k=v;b=1", 9);
        snprintf(msg, sizeof(msg),
                 "X-P: %s =?utf-8?q?caf=C3=A9?=\nX-Q: a=1; bh=2=; c=3\n\nx",
                 want);
        arena_reset(((struct fixture *)*state)->a);
        d = parse(state, msg);
        memcpy(want + 1 + pad + 8, " caf\xc3\xa9", 7);
        assert_string_equal(mime_header_find(d, "x-p")->value, want);
        assert_string_equal(mime_header_find(d, "x-q")->value,
                            "a=1; bh=2=; c=3");
    }
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

/* A field name holding a blank, a control byte or DEL, at any offset,
 * is no header: the body starts at that line.  8-bit bytes and every
 * other printable byte are name bytes (names are checked eight bytes at
 * a time). */
static void
test_mime_header_name_bytes(void **state)
{
    static const char bad[] = {' ', '\t', 0x01, 0x1F, 0x7F};
    static const char good[] = {'!', '~', (char)0x80, (char)0xFF, '-'};

    for (size_t off = 0; off < 20; off++) {
        for (size_t k = 0; k < sizeof(bad); k++) {
            char msg[128];
            struct mime_doc *d;
            size_t n = 0;

            msg[n++] = 'X';
            memset(msg + n, 'a', off);
            n += off;
            msg[n++] = bad[k];
            memcpy(msg + n, "b: v\n\nrest\n", 12); /* with its NUL */
            d = parse(state, msg);
            assert_int_equal(d->n_headers, 0);

            msg[off + 1] = good[k];
            d = parse(state, msg);
            assert_int_equal(d->n_headers, 1);
            assert_int_equal(d->headers[0].name_len, off + 3);
            assert_string_equal(d->headers[0].value, "v");
        }
    }
}

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

/* Expected bytes of the uuencoded test file (an MZ header and 60 bytes). */
static const char uu_file[] = "\x4d\x5a\x90\x00\x20\x21\x22\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e\x2f\x30\x31\x32\x33\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\x3e\x3f\x40\x41\x42\x43\x44\x45\x46\x47\x48\x49\x4a\x4b\x4c\x4d\x4e\x4f\x50\x51\x52\x53\x54\x55\x56\x57\x58\x59\x5a\x5b";
#define UU_FILE_LINES \
    "M35J0`\"`A(B,D)28G*\"DJ*RPM+B\\P,3(S-#4V-S@Y.CL\\/3X_0$%\"0T1%1D=(\n" \
    "324I+3$U.3U!14E-455976%E:6P``\n" \
    "`\n"

/* A uuencoded file inside a text part becomes an attachment part of its
 * own, and its lines leave the text (mail clients show it as a file). */
static void
test_mime_uu_block_in_text(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Type: text/plain\n"
                               "\n"
                               "Please see the attached file.\n"
                               "begin 644 document.pif\n" UU_FILE_LINES
                               "end\n"
                               "Regards\n");

    assert_int_equal(d->n_parts, 2);
    assert_string_equal(d->parts[1].filename, "document.pif");
    assert_true(d->parts[1].is_attachment);
    assert_string_equal(d->parts[1].content_type,
                        "application/octet-stream");
    assert_int_equal(d->parts[1].data_len, sizeof(uu_file) - 1);
    assert_memory_equal(d->parts[1].data, uu_file, sizeof(uu_file) - 1);
    assert_non_null(strstr(d->text, "Please see the attached file."));
    assert_non_null(strstr(d->text, "Regards"));
    assert_null(strstr(d->text, "M35J0"));
    assert_null(strstr(d->text, "begin 644"));
}

/* Content-Transfer-Encoding: x-uuencode: the part is the decoded file,
 * named by its begin line when the headers name none. */
static void
test_mime_uu_transfer_encoding(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Type: multipart/mixed; boundary=b\n"
                               "\n"
                               "--b\n"
                               "Content-Type: text/plain\n"
                               "\n"
                               "hello\n"
                               "--b\n"
                               "Content-Type: application/octet-stream\n"
                               "Content-Transfer-Encoding: x-uuencode\n"
                               "\n"
                               "begin 600 setup.exe\n" UU_FILE_LINES
                               "end\n"
                               "--b--\n");

    assert_int_equal(d->n_parts, 2);
    assert_string_equal(d->parts[1].filename, "setup.exe");
    assert_true(d->parts[1].is_attachment);
    assert_int_equal(d->parts[1].data_len, sizeof(uu_file) - 1);
    assert_memory_equal(d->parts[1].data, uu_file, sizeof(uu_file) - 1);
}

/* Lines whose trailing blanks a mail path stripped decode with zero
 * bits; a block cut before its "end" keeps what it has; "begin" in
 * prose, or not followed by an encoded line, is text. */
static void
test_mime_uu_lenient_and_prose(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Type: text/plain\n"
                               "\n"
                               "begin 644 hi.bin\n"
                               "$2&D\n"
                               "Next paragraph of text.\n");

    assert_int_equal(d->n_parts, 2);
    assert_string_equal(d->parts[1].filename, "hi.bin");
    assert_int_equal(d->parts[1].data_len, 4);
    assert_memory_equal(d->parts[1].data, "Hi\0\0", 4);
    assert_non_null(strstr(d->text, "Next paragraph of text."));

    d = parse(state, "Content-Type: text/plain\n"
                     "\n"
                     "begin 100 miles north of here\n"
                     "The road turns west.\n"
                     "begin 644\n"
                     "begin 9999 x.exe\n"
                     "M35J0\n");
    assert_int_equal(d->n_parts, 1);
    assert_non_null(strstr(d->text, "begin 100 miles north of here"));
    assert_non_null(strstr(d->text, "M35J0"));
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
    /* The engine reads attachments (zip listings, digests): decoded. */
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

/* An alternative that renders to no text (an image-only HTML part) is
 * not the last one "that produced text": the one before it is kept. */
static void
test_mime_alternative_empty_last_keeps_text(void **state)
{
    struct mime_doc *d = parse(
        state,
        "Content-Type: multipart/alternative; boundary=alt\n"
        "\n"
        "--alt\n"
        "Content-Type: text/plain\n"
        "\n"
        "cheap meds here\n"
        "--alt\n"
        "Content-Type: text/html\n"
        "\n"
        "<img src=\"http://img.example/a.png\">\n"
        "--alt--\n");

    assert_int_equal(d->n_parts, 2);
    assert_string_equal(d->text, "cheap meds here");
    assert_int_equal(d->n_urls, 1);
    assert_true(d->flags & MIME_HTML_HAS_IMAGES);

    d = parse(state,
              "Content-Type: multipart/mixed; boundary=m\n"
              "\n"
              "--m\n"
              "Content-Type: text/plain\n"
              "\n"
              "intro\n"
              "--m\n"
              "Content-Type: multipart/alternative; boundary=alt\n"
              "\n"
              "--alt\n"
              "Content-Type: text/plain\n"
              "\n"
              "plain words\n"
              "--alt\n"
              "Content-Type: text/html\n"
              "\n"
              "<p style=\"display:none\">filler</p>\n"
              "--alt--\n"
              "--m\n"
              "Content-Type: text/plain\n"
              "\n"
              "footer\n"
              "--m--\n");
    assert_string_equal(d->text, "intro\nplain words\nfooter");
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
    /* No boundary parameter at all: the same. */
    arena_reset(((struct fixture *)*state)->a);
    d = parse(state, "Content-Type: multipart/mixed\n\nBuy pills\n");
    assert_int_equal(d->n_parts, 1);
    assert_string_equal(d->text, "Buy pills\n");
    assert_true(d->flags & MIME_NO_CLOSING_BOUNDARY);
    assert_int_equal(d->n_multiparts, 0);
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

/*
 * Quoted-printable literal runs are scanned eight bytes at a time: every
 * byte that ends a run ('=', line breaks) and tab, the literal byte the
 * block test leaves to the table, must be handled at every offset from a
 * block boundary.
 */
static void
test_mime_qp_every_offset(void **state)
{
    static const struct {
        const char *in;
        const char *out;
        bool is_bad;
    } cases[] = {
        {"=41", "A", false},   {"=\n", "", false},   {" \n", "\n", false},
        {"\n", "\n", false},   {"=3D", "=", false},  {"==3D", "==", true},
        {"\t", "\t", false},   {"=zz", "=zz", true},
        {"=4a", "J", false},   {"=4g", "=4g", true}, {"=\r\n", "", false},
        {"\r\n", "\n", false}, {"=\t\n", "", false},
    };
    static const char plain[] = "abcdefghijklmnopqrstuvwxyz0123456789";

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        for (size_t off = 0; off < 20; off++) {
            char msg[192];
            char want[96];
            struct mime_doc *d;

            snprintf(msg, sizeof(msg),
                     "Content-Transfer-Encoding: quoted-printable\n\n"
                     "%.*s%s%.17s\n",
                     (int)off + 1, plain, cases[k].in, plain);
            snprintf(want, sizeof(want), "%.*s%s%.17s\n", (int)off + 1,
                     plain, cases[k].out, plain);
            arena_reset(((struct fixture *)*state)->a);
            d = parse(state, msg);
            assert_string_equal(d->text, want);
            assert_int_equal((d->flags & MIME_BAD_QP) != 0, cases[k].is_bad);
        }
    }
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
    /* Encoded blanks are data; literal blanks before a line end are not. */
    arena_reset(((struct fixture *)*state)->a);
    d = parse(state, "Content-Transfer-Encoding: quoted-printable\n"
                     "\n"
                     "a =20\r\nb \t\r\n\tc=\r\nd\r\n");
    assert_string_equal(d->text, "a  \nb\n\tcd\n");
    assert_int_equal(d->flags & MIME_BAD_QP, 0);
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

/* A URL longer than MIME_URL_MAX_BYTES is stored cut, but its host is
 * read from the whole of it: 2,100 bytes of userinfo before the '@' must
 * not hide the host from reputation, look-alike and fingerprints.  One
 * message of each kind: before, the padding, then after. */
static void
check_long_userinfo(void **state, const char *before, const char *after,
                    const char *want)
{
    static char msg[8192];
    char pad[2101];
    struct mime_doc *d;

    memset(pad, 'a', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    snprintf(msg, sizeof(msg), "%s%s%s", before, pad, after);
    d = parse(state, msg);
    assert_int_equal(d->n_urls, 1);
    assert_string_equal(d->urls[0].host, want);
    assert_true((d->urls[0].host_flags & URL_HAS_USERINFO) != 0);
    assert_true(d->urls[0].url_len <= MIME_URL_MAX_BYTES);
}

static void
test_mime_long_userinfo_href(void **state)
{
    check_long_userinfo(state,
                        "Content-Type: text/html\n\n<a href=\"https://",
                        "@evil.example/x\">x</a>\n", "evil.example");
}

/* The '@' written as an entity is an '@' to a browser. */
static void
test_mime_long_userinfo_entity(void **state)
{
    check_long_userinfo(state,
                        "Content-Type: text/html\n\n<img src=\"https://",
                        "&#64;evil.example/p.png\">\n", "evil.example");
}

static void
test_mime_long_userinfo_text(void **state)
{
    check_long_userinfo(state, "\nsee https://", "@evil.example/y now\n",
                        "evil.example");
}

/* Each URL carries url_host's flags and its registered domain, so
 * readers need not parse it again. */
static void
test_mime_url_host_flags(void **state)
{
    struct mime_doc *d = parse(state,
                               "\n"
                               "See http://user@192.168.1.1:8080/x and "
                               "https://a.b.example.com/y today\n");

    assert_int_equal(d->n_urls, 2);
    assert_string_equal(d->urls[0].host, "192.168.1.1");
    assert_int_equal(d->urls[0].host_flags,
                     URL_IS_IP | URL_HAS_USERINFO | URL_HAS_PORT);
    assert_ptr_equal(d->urls[0].reg, d->urls[0].host);
    assert_int_equal(d->urls[0].reg_len, d->urls[0].host_len);
    assert_string_equal(d->urls[1].host, "a.b.example.com");
    assert_int_equal(d->urls[1].host_flags, 0);
    assert_int_equal(d->urls[1].reg_len, strlen("example.com"));
    assert_string_equal(d->urls[1].reg, "example.com");
}

/* Runs of URLs to one host take the registered domain found for the
 * first of the run: each URL's reg is still url_registered_domain's
 * view into its own host, also after a host of the same length. */
static void
test_mime_url_reg_runs(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Type: text/html\n\n"
                               "<a href=\"http://a.b.example.co.uk/1\">x</a>"
                               "<a href=\"http://A.b.example.co.uk/2\">x</a>"
                               "<a href=\"http://a.b.example.co.uk:8/3\">x</a>"
                               "<a href=\"http://x.y.z.example.com/\">x</a>"
                               "<a href=\"http://x.y.z.example.com/\">x</a>"
                               "<a href=\"cid:none\">x</a>"
                               "<a href=\"http://x.y.z.example.com/\">x</a>"
                               "<a href=\"http://192.168.1.1/\">x</a>"
                               "<a href=\"http://192.168.1.1/\">x</a>"
                               "<a href=\"http://a.b.example.com.au/\">x</a>"
                               "<a href=\"http://a.b.example.co.uk/\">x</a>"
                               "\n");

    assert_int_equal(d->n_urls, 11);
    for (size_t i = 0; i < d->n_urls; i++) {
        const struct mime_url *u = &d->urls[i];
        const char *reg = u->host;
        size_t rl = u->host_len > 0
                        ? url_registered_domain(u->host, u->host_len, &reg)
                        : 0;

        assert_int_equal(u->reg_len, rl);
        assert_ptr_equal(u->reg, reg);
    }
    assert_string_equal(d->urls[1].reg, "example.co.uk");
    assert_string_equal(d->urls[4].reg, "example.com");
    assert_int_equal(d->urls[5].reg_len, 0);
    assert_string_equal(d->urls[9].reg, "example.com.au");
}

/* Documents of links drawn from URLs that share their first bytes (one
 * site's pages, a longer host, a userinfo, a port, mailto:, no path, a
 * blank or quote inside the authority): every URL's host, flags and
 * registered domain must be what url_host and url_registered_domain
 * give for it alone, whether mime took them from the URL before (same
 * bytes through the authority's end) or parsed it. */
static void
test_mime_url_runs_random(void **state)
{
    static const char *const urls[] = {
        "http://a.example/x", "http://a.example/y?q", "http://a.example",
        "http://a.example.evil/x", "http://a.example:80/x",
        "http://a.example:81/x", "http://u@a.example/x",
        "http://u@b.example/x", "https://a.example/x", "HTTP://A.example/x",
        "http://a.exAmple/x", "http://a.example#f", "http://a.example?q",
        "http://a.example\\x", "mailto:x@a.example?s=1",
        "mailto:x@a.example", "mailto:y@a.example?s=1",
        "http://a b@c.example/x", "http://a b/x", "http://a'b@c.example/",
        "http://0x7f.1/x", "http://0x7f.1:8/x", "http://[::1]/x",
        "http://[::1]:8/x", "//a.example/x", "www.a.example/x",
        "cid:a.example", "http://a.example./x", "http://a.example../x"};
    struct fixture *fx = *state;
    uint32_t seed = 0x1e35a7bdu;

    for (int doc_i = 0; doc_i < 300; doc_i++) {
        char msg[4096];
        size_t n = (size_t)snprintf(msg, sizeof(msg),
                                    "Content-Type: text/html\n\n");
        struct mime_doc *d;

        for (int k = 0; k < 30; k++) {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            n += (size_t)snprintf(
                msg + n, sizeof(msg) - n, "<a href=\"%s\">x</a>",
                urls[seed % (sizeof(urls) / sizeof(urls[0]))]);
        }
        arena_reset(fx->a);
        d = parse_n(state, msg, n);
        assert_int_equal(d->n_urls, 30);
        for (size_t i = 0; i < d->n_urls; i++) {
            const struct mime_url *u = &d->urls[i];
            char host[URL_HOST_MAX_BYTES + 1];
            unsigned flags = 0;
            size_t hl = url_host(u->url, u->url_len, host, sizeof(host),
                                 &flags);
            const char *reg = u->host;
            size_t rl = u->host_len > 0 ? url_registered_domain(
                                              u->host, u->host_len, &reg)
                                        : 0;

            assert_int_equal(u->host_len, hl);
            assert_memory_equal(u->host, host, hl + 1);
            assert_int_equal(u->host_flags, flags);
            assert_int_equal(u->reg_len, rl);
            assert_ptr_equal(u->reg, reg);
        }
    }
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

/* A part the headers name twice: the name kept is the one mail clients
 * mostly show (Content-Disposition, the RFC 2231 form), and the other is
 * kept too, since some clients save the part under it. */
static void
test_mime_other_filename(void **state)
{
    struct mime_doc *d = parse(
        state,
        "Content-Type: multipart/mixed; boundary=f\n"
        "\n"
        "--f\n"
        "Content-Type: application/octet-stream; name=\"invoice.exe\"\n"
        "Content-Disposition: attachment; filename=\"invoice.pdf\"\n"
        "\n"
        "--f\n"
        "Content-Type: application/octet-stream\n"
        "Content-Disposition: attachment; filename=a.pdf; filename=a.scr\n"
        "\n"
        "--f\n"
        "Content-Type: application/octet-stream\n"
        "Content-Disposition: attachment; filename=\"b.exe\";"
        " filename*=UTF-8''b.pdf\n"
        "\n"
        "--f\n"
        "Content-Type: application/pdf; name=\"same.pdf\"\n"
        "Content-Disposition: attachment; filename=\"same.pdf\"\n"
        "\n"
        "--f\n"
        "Content-Type: application/pdf; name=\"only.pdf\"\n"
        "\n"
        "--f--\n");

    assert_int_equal(d->n_parts, 5);
    assert_string_equal(d->parts[0].filename, "invoice.pdf");
    assert_string_equal(d->parts[0].other_filename, "invoice.exe");
    assert_string_equal(d->parts[1].filename, "a.pdf");
    assert_string_equal(d->parts[1].other_filename, "a.scr");
    assert_string_equal(d->parts[2].filename, "b.pdf");
    assert_string_equal(d->parts[2].other_filename, "b.exe");
    assert_string_equal(d->parts[3].filename, "same.pdf");
    assert_string_equal(d->parts[3].other_filename, "");
    assert_string_equal(d->parts[4].filename, "only.pdf");
    assert_string_equal(d->parts[4].other_filename, "");
}

static void
test_mime_filenames_rfc2231_and_2047(void **state)
{
    struct mime_doc *d = parse(
        state,
        "Content-Type: multipart/mixed; boundary=f\n"
        "\n"
        "--f\n"
        "Content-Type: application/pdf\n"
        "Content-Disposition: attachment;\n"
        " filename*=utf-8''%E2%82%AC%20rates.pdf\n"
        "\n"
        "--f\n"
        "Content-Type: text/plain\n"
        "Content-Disposition: attachment; filename*0*=iso-8859-1'fr'caf%E9;\n"
        "\tfilename*1=\".txt\"\n"
        "\n"
        "attached text is not body text\n"
        "--f\n"
        "Content-Type: application/zip; name=\"=?utf-8?B?w6lsw6k=?=.zip\"\n"
        "\n"
        "--f\n"
        "Content-Type: application/x-foo; name=plain.bin\n"
        "Content-Disposition: inline; filename=\"a \\\"q\\\".exe\";"
        " filename*=UTF-8''wins.exe\n"
        "\n"
        "--f--\n");

    assert_int_equal(d->n_parts, 4);
    assert_string_equal(d->parts[0].filename, "€ rates.pdf");
    assert_true(d->parts[0].is_attachment);
    assert_string_equal(d->parts[1].filename, "café.txt");
    assert_string_equal(d->parts[2].filename, "élé.zip");
    assert_true(d->parts[2].is_attachment);
    assert_string_equal(d->parts[3].filename, "wins.exe");
    assert_true(d->parts[3].is_attachment);
    assert_false(text_has(d, "attached text"));
}

static void
test_mime_body_charsets_via_iconv(void **state)
{
    struct mime_doc *d = parse(
        state,
        "Content-Type: multipart/mixed; boundary=c\n"
        "\n"
        "--c\n"
        "Content-Type: text/plain; charset=\"KOI8-R\"\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "8NLJ18XU\n"
        "--c\n"
        "Content-Type: text/html; charset=iso-2022-jp\n"
        "\n"
        "<b>\x1b$BF|K\\\x1b(B</b>\n"
        "--c\n"
        "Content-Type: text/plain; charset=gb2312\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "=D6=D0=CE=C4\n"
        "--c--\n");

    assert_string_equal(d->text, "Привет\n日本\n中文");
    assert_string_equal(d->parts[0].charset, "koi8-r");
    assert_int_equal(d->flags & (MIME_UNKNOWN_CHARSET |
                                 MIME_BAD_CHARSET_BYTES),
                     0);
}

static void
test_mime_unknown_body_charset(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Type: text/plain; charset=x-klingon\n"
                               "\n"
                               "caf\xe9\n");

    assert_string_equal(d->text, "café\n");
    assert_true(d->flags & MIME_UNKNOWN_CHARSET);
}

static void
test_mime_base64_broken(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Transfer-Encoding: BASE64\n"
                               "\n"
                               "SGVs!bG8g\n"
                               "V29y*bGQ\n");

    assert_string_equal(d->text, "Hello World");
    assert_true(d->flags & MIME_BAD_BASE64);
}

static void
test_mime_base64_missing_padding_and_concat(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Transfer-Encoding: base64\n"
                               "\n"
                               "SGk=IQ==SGk");

    assert_string_equal(d->text, "Hi!Hi");
    assert_int_equal(d->flags & MIME_BAD_BASE64, 0);
}

/* An attachment is decoded like inline text: the same bytes, length and
 * flags.  Each body is parsed once as inline text and once as an
 * attachment. */
static void
test_mime_attachments_decoded_like_text(void **state)
{
    static const struct {
        const char *cte;
        const char *body;
        unsigned flag;
    } cases[] = {
        {"base64", "SGVs!bG8g\nV29y*bGQ\n", MIME_BAD_BASE64},
        {"base64", "SGk=IQ==SGk", 0},
        {"base64", "SGVsbG8gV29ybGQh\r\nSGk", 0},
        {"base64", "S", MIME_BAD_BASE64},
        {"quoted-printable", "caf=E9 =3D=\r\nx =ZZ  \r\n", MIME_BAD_QP},
        {"quoted-printable", "plain =41=42 \t\nend", 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char msg[512];
        size_t text_len;
        unsigned text_flags;
        struct mime_doc *d;

        snprintf(msg, sizeof(msg),
                 "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                 "Content-Type: text/plain\n"
                 "Content-Transfer-Encoding: %s\n\n%s\n--b--\n",
                 cases[i].cte, cases[i].body);
        d = parse(state, msg);
        assert_int_equal(d->n_parts, 1);
        assert_non_null(d->parts[0].data);
        text_len = d->parts[0].data_len;
        text_flags = d->flags & (MIME_BAD_BASE64 | MIME_BAD_QP |
                                 MIME_PART_CAPPED);
        assert_int_equal(text_flags, cases[i].flag);

        arena_reset(((struct fixture *)*state)->a);
        snprintf(msg, sizeof(msg),
                 "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                 "Content-Type: image/png\n"
                 "Content-Disposition: attachment; filename=a.png\n"
                 "Content-Transfer-Encoding: %s\n\n%s\n--b--\n",
                 cases[i].cte, cases[i].body);
        d = parse(state, msg);
        assert_int_equal(d->n_parts, 1);
        assert_non_null(d->parts[0].data);
        assert_int_equal(d->parts[0].data_len, text_len);
        assert_int_equal(d->flags & (MIME_BAD_BASE64 | MIME_BAD_QP |
                                     MIME_PART_CAPPED),
                         text_flags);
        arena_reset(((struct fixture *)*state)->a);
    }
}

/* Plain text keeps "\n" line breaks only (CRLF and lone CR become LF)
 * and no NUL, wherever they fall: start, end, runs, neighbours. */
static void
test_mime_plain_text_line_breaks_and_nul(void **state)
{
    static const char msg[] = "Content-Type: text/plain\r\n\r\n"
                              "\r\na\r\nb\rc\0d\r\r\n\0\0e\n\rf\r";
    struct mime_doc *d = parse_n(state, msg, sizeof(msg) - 1);

    assert_int_equal(d->text_len, strlen(d->text));
    assert_string_equal(d->text, "\na\nb\nc d\n\n  e\n\nf\n");
}

static void
test_mime_crlf_padding_and_long_boundary(void **state)
{
    struct gen g = {0};
    char bnd[MIME_BOUNDARY_MAX + 60];
    struct mime_doc *d;

    memset(bnd, 'B', sizeof(bnd) - 1);
    bnd[sizeof(bnd) - 1] = '\0';
    gen_str(&g, "Content-Type: multipart/mixed; boundary=\"");
    gen_str(&g, bnd);
    gen_str(&g, "\"\r\n\r\n--");
    gen_str(&g, bnd);
    gen_str(&g, " \t\r\nContent-Type: text/plain\r\n\r\none\r\n--");
    gen_str(&g, bnd);
    gen_str(&g, "\r\n\r\ntwo\r\n--");
    gen_str(&g, bnd);
    gen_str(&g, "--\r\n");
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->n_parts, 2);
    assert_string_equal(d->text, "one\ntwo");
    assert_int_equal(d->flags & MIME_NO_CLOSING_BOUNDARY, 0);
}

static void
test_mime_boundary_needs_line_start_and_padding_only(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Type: multipart/mixed; boundary=x\n"
                               "\n"
                               "--x\n"
                               "\n"
                               "a --x in text\n"
                               "--xy is another boundary\n"
                               "--x--\n");

    assert_int_equal(d->n_parts, 1);
    assert_true(text_has(d, "a --x in text\n--xy is another boundary"));
}

/* An outer delimiter line inside an inner part whose boundary is a prefix
 * of the outer one's (or the reverse) ends the inner multipart and starts
 * the outer's next part: the boundary whose whole delimiter fits the line
 * is the one matched, as mail clients do. */
static void
test_mime_boundary_prefix_of_another(void **state)
{
    /* The last: the inner boundary is longer than MIME_BOUNDARY_MAX, so
     * only its first MIME_BOUNDARY_MAX bytes (the outer one) are known. */
    static char long_in[MIME_BOUNDARY_MAX + 2];
    static char long_out[MIME_BOUNDARY_MAX + 1];
    const char *const bnd[][2] = {
        {"abc123", "abc"}, {"abc", "abc123"}, {"abc--1", "abc"},
        {"abc-- x", "abc"}, {long_out, long_in},
    };
    struct fixture *fx = *state;

    memset(long_in, 'b', MIME_BOUNDARY_MAX + 1);
    memset(long_out, 'b', MIME_BOUNDARY_MAX);
    for (size_t i = 0; i < sizeof(bnd) / sizeof(bnd[0]); i++) {
        const char *out = bnd[i][0];
        const char *in = bnd[i][1];
        struct gen g = {0};
        struct mime_doc *d;

        arena_reset(fx->a);
        gen_str(&g, "Content-Type: multipart/mixed; boundary=\"");
        gen_str(&g, out);
        gen_str(&g, "\"\n\n--");
        gen_str(&g, out);
        gen_str(&g, "\nContent-Type: multipart/alternative; boundary=\"");
        gen_str(&g, in);
        gen_str(&g, "\"\n\n--");
        gen_str(&g, in);
        gen_str(&g, "\n\ninner\n--");
        gen_str(&g, out);
        gen_str(&g, "\n\nouter\n--");
        gen_str(&g, out);
        gen_str(&g, "--\n");
        free(fx->big);
        fx->big = g.p;
        d = parse_n(state, g.p, g.len);
        if (d->n_parts != 2) {
            print_error("outer %s, inner %s\n", out, in);
        }
        assert_int_equal(d->n_parts, 2);
        assert_string_equal(d->text, "inner\nouter");
        /* The inner multipart was never closed. */
        assert_true(d->flags & MIME_NO_CLOSING_BOUNDARY);
    }
}

/* A boundary may hold ':' (Yahoo's "0-123=:45"): its delimiter line right
 * after a part's header lines is the part's end, not one more field. */
static void
test_mime_boundary_with_colon_ends_header_block(void **state)
{
    struct mime_doc *d = parse(
        state,
        "Content-Type: multipart/mixed; boundary=\"0-123=:45\"\n"
        "\n"
        "--0-123=:45\n"
        "Content-Type: text/plain\n"
        "--0-123=:45\n"
        "Content-Type: text/html\n"
        "\n"
        "<p>two</p>\n"
        "--0-123=:45\n"
        "--0-123=:45\n"
        "\n"
        "three\n"
        "--0-123=:45--\n");

    assert_int_equal(d->n_parts, 4);
    assert_string_equal(d->parts[0].content_type, "text/plain");
    assert_int_equal(d->parts[0].data_len, 0);
    assert_string_equal(d->parts[1].content_type, "text/html");
    assert_int_equal(d->parts[2].data_len, 0);
    assert_string_equal(d->text, "two\nthree");
    assert_int_equal(d->flags & MIME_NO_CLOSING_BOUNDARY, 0);
}

static void
test_mime_digest_defaults_to_rfc822(void **state)
{
    struct mime_doc *d = parse(state,
                               "Content-Type: multipart/digest; boundary=d\n"
                               "\n"
                               "--d\n"
                               "\n"
                               "Subject: one\n"
                               "\n"
                               "first message\n"
                               "--d\n"
                               "\n"
                               "Subject: two\n"
                               "\n"
                               "second message\n"
                               "--d--\n");

    assert_int_equal(d->n_parts, 2);
    assert_int_equal(d->max_depth, 2);
    assert_string_equal(d->text, "first message\nsecond message");
}

/* A byte order mark decides an HTML part's encoding over its label, as
 * in a browser (WHATWG Encoding "decode": BOM sniffing first): a part
 * labelled iso-8859-1 that starts with FF FE is UTF-16LE text to the
 * reader, whose words we read as "S\0P\0..." before. */
static void
test_mime_html_bom_overrides_label(void **state)
{
    static const char msg[] =
        "Content-Type: text/html; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "//48AGIAPgBTAFAAQQBNADwALwBiAD4A\n"; /* FF FE "<b>SPAM</b>" */
    struct mime_doc *d = parse(state, msg);

    assert_string_equal(d->text, "SPAM");
    d = parse(state, "Content-Type: text/html; charset=windows-1252\n\n"
                     "\xef\xbb\xbf<p>caf\xc3\xa9</p>");
    assert_string_equal(d->text, "caf\xc3\xa9");
    d = parse(state, "Content-Type: text/html; charset=utf-8\n"
                     "Content-Transfer-Encoding: base64\n\n"
                     "/v8APABwAD4AaABpAPw=\n"); /* FE FF "<p>hi\u00fc" */
    assert_string_equal(d->text, "hi\xc3\xbc");
}

/* An HTML part without a MIME charset is decoded by its <meta charset>
 * or <meta http-equiv=Content-Type content="...; charset=...">, as a
 * mail reader's HTML engine does (its prescan of the first 1,024
 * bytes); a MIME charset still wins. */
static void
test_mime_html_meta_charset(void **state)
{
    struct mime_doc *d;

    d = parse(state, "Content-Type: text/html\n\n"
                     "<html><head><meta charset=\"windows-1251\"></head>"
                     "<body>\xcf\xf0\xe8\xe2\xe5\xf2</body>");
    assert_string_equal(d->text, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5"
                                 "\xd1\x82");
    d = parse(state, "Content-Type: text/html\n\n"
                     "<META HTTP-EQUIV=Content-Type CONTENT='text/html; "
                     "CHARSET=koi8-r'><p>\xf0\xd2\xc9</p>");
    assert_string_equal(d->text, "\xd0\x9f\xd1\x80\xd0\xb8");
    /* A UTF-16 meta label is read as utf-8 (the prescan's rule: the
     * page it was read from is ASCII-compatible); "<metadata" is no
     * meta. */
    d = parse(state, "Content-Type: text/html\n\n"
                     "<metadata charset=koi8-r><meta charset=UTF-16LE>"
                     "<p>caf\xc3\xa9</p>");
    assert_string_equal(d->text, "caf\xc3\xa9");
    /* The MIME label wins over the meta. */
    d = parse(state, "Content-Type: text/html; charset=iso-8859-1\n\n"
                     "<meta charset=windows-1251><p>\xe9</p>");
    assert_string_equal(d->text, "\xc3\xa9");
    /* A meta past the first 1,024 bytes is not looked for. */
    {
        char msg[1400];
        int k = snprintf(msg, sizeof(msg), "Content-Type: text/html\n\n");
        memset(msg + k, ' ', 1030);
        snprintf(msg + k + 1030, sizeof(msg) - (size_t)k - 1030,
                 "<meta charset=windows-1251><p>\xe9</p>");
        d = parse(state, msg);
        assert_string_equal(d->text, "\xc3\xa9");
    }
}

static void
test_mime_html_charset_and_entities(void **state)
{
    struct mime_doc *d = parse(
        state,
        "Content-Type: text/html; charset=windows-1252\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "<p>Price: =80 5 &euro; &#8364;</p><a href=3D\"http://x.example/\">"
        "=93here=94</a>\n");

    assert_string_equal(d->text, "Price: € 5 € €\n“here”");
    assert_int_equal(d->n_urls, 1);
    assert_string_equal(d->urls[0].anchor_text, "“here”");
}

/* ---- caps on headers, URLs, text, parts --------------------------- */

static void
gen_headers(struct gen *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        gen_fmt(g, "X-H%zu: v\n", i);
    }
}

static void
test_mime_header_count_at_cap(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    gen_headers(&g, MIME_MAX_HEADERS - 1);
    gen_str(&g, "Content-Type: text/html\n\n<b>x</b>");
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->n_headers, MIME_MAX_HEADERS);
    assert_int_equal(d->flags & MIME_HEADERS_CAPPED, 0);
    assert_string_equal(d->text, "x");
}

static void
test_mime_header_count_over_cap(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    gen_headers(&g, MIME_MAX_HEADERS);
    /* Past the cap, but still interpreted. */
    gen_str(&g, "Content-Type: text/html\n\n<b>x</b>");
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->n_headers, MIME_MAX_HEADERS);
    assert_true(d->flags & MIME_HEADERS_CAPPED);
    assert_string_equal(d->text, "x");
    assert_null(mime_header_find(d, "content-type"));
}

static void
test_mime_header_length_cap(void **state)
{
    struct fixture *fx = *state;
    size_t big = 10u * 1024 * 1024;
    char *m = malloc(big + 256);
    size_t o;
    struct mime_doc *d;

    assert_non_null(m);
    fx->big = m;
    /* Exactly at the cap. */
    o = (size_t)snprintf(m, 32, "X-Long: ");
    memset(m + o, 'a', MIME_HEADER_MAX_BYTES);
    o += MIME_HEADER_MAX_BYTES;
    o += (size_t)snprintf(m + o, 32, "\n\nbody");
    d = parse_n(state, m, o);
    assert_int_equal(d->headers[0].value_len, MIME_HEADER_MAX_BYTES);
    assert_int_equal(d->flags & MIME_HEADERS_CAPPED, 0);
    /* One byte over. */
    arena_reset(fx->a);
    o = (size_t)snprintf(m, 32, "X-Long: ");
    memset(m + o, 'a', MIME_HEADER_MAX_BYTES + 1);
    o += MIME_HEADER_MAX_BYTES + 1;
    o += (size_t)snprintf(m + o, 32, "\n\nbody");
    d = parse_n(state, m, o);
    assert_int_equal(d->headers[0].value_len, MIME_HEADER_MAX_BYTES);
    assert_true(d->flags & MIME_HEADERS_CAPPED);
    /* A 10 MB folded header: cut, and the body is still found. */
    arena_reset(fx->a);
    o = (size_t)snprintf(m, 64, "Subject: ");
    for (size_t i = 0; i < big / 64; i++) {
        memset(m + o, 'z', 62);
        m[o + 62] = '\n';
        m[o + 63] = ' ';
        o += 64;
    }
    o += (size_t)snprintf(m + o, 64, "end\nFrom: a@b\n\nthe body");
    d = parse_n(state, m, o);
    assert_int_equal(d->n_headers, 2);
    assert_int_equal(strlen(d->subject), MIME_HEADER_MAX_BYTES);
    assert_true(d->flags & MIME_HEADERS_CAPPED);
    assert_string_equal(d->text, "the body");
    assert_true(arena_used(fx->a) < 2u * 1024 * 1024);
}

/* Bytes of all kept header fields (names and values). */
static size_t
headers_total(const struct mime_doc *d)
{
    size_t n = 0;

    for (size_t i = 0; i < d->n_headers; i++) {
        n += d->headers[i].name_len + d->headers[i].value_len;
    }
    return n;
}

/* Fifteen fields of MIME_HEADER_MAX_BYTES, then one "X-B" of n bytes:
 * exactly MIME_HEADERS_TOTAL_BYTES with n = 16336. */
static void
gen_headers_to_total(struct gen *g, size_t n)
{
    static char v[MIME_HEADER_MAX_BYTES + 1];

    memset(v, 'a', MIME_HEADER_MAX_BYTES);
    for (size_t i = 0; i < 15; i++) {
        gen_str(g, "X-A: ");
        gen_str(g, v);
        gen_str(g, "\n");
    }
    gen_str(g, "X-B: ");
    gen_add(g, v, n);
    gen_str(g, "\n");
}

static void
test_mime_headers_total_cap(void **state)
{
    struct fixture *fx = *state;
    struct gen g = {0};
    struct mime_doc *d;

    /* Exactly at the cap. */
    assert_int_equal(15 * (3 + MIME_HEADER_MAX_BYTES) + 3 + 16336,
                     MIME_HEADERS_TOTAL_BYTES);
    gen_headers_to_total(&g, 16336);
    gen_str(&g, "\nbody");
    fx->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->n_headers, 16);
    assert_int_equal(headers_total(d), MIME_HEADERS_TOTAL_BYTES);
    assert_int_equal(d->flags & MIME_HEADERS_CAPPED, 0);
    /* One byte over: the total stays at the cap, and nothing after the
     * field that crossed it is kept. */
    arena_reset(fx->a);
    memset(&g, 0, sizeof(g));
    gen_headers_to_total(&g, 16337);
    gen_str(&g, "X-C: c\n\nbody");
    free(fx->big);
    fx->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_true(headers_total(d) <= MIME_HEADERS_TOTAL_BYTES);
    assert_true(d->flags & MIME_HEADERS_CAPPED);
    assert_null(mime_header_find(d, "x-c"));
    assert_string_equal(d->text, "body");
    /* A Content-Type that crosses it is still read whole. */
    arena_reset(fx->a);
    memset(&g, 0, sizeof(g));
    gen_headers_to_total(&g, 16300);
    gen_str(&g, "Content-Type: multipart/mixed; boundary=\"zz\"\n\n"
                "--zz\n\npart one\n--zz--\n");
    free(fx->big);
    fx->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_true(headers_total(d) <= MIME_HEADERS_TOTAL_BYTES);
    assert_true(d->flags & MIME_HEADERS_CAPPED);
    assert_int_equal(d->n_multiparts, 1);
    assert_string_equal(d->text, "part one");
    /* A field whose RFC 2047 decoding is longer than its encoding (each
     * "gICA" is three windows-1252 euro signs, nine bytes of UTF-8). */
    arena_reset(fx->a);
    memset(&g, 0, sizeof(g));
    gen_headers_to_total(&g, 0);
    gen_str(&g, "Subject: =?windows-1252?B?");
    for (size_t i = 0; i < 2000; i++) {
        gen_str(&g, "gICA");
    }
    gen_str(&g, "?=\n\nbody");
    free(fx->big);
    fx->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_true(headers_total(d) <= MIME_HEADERS_TOTAL_BYTES);
    assert_true(d->flags & MIME_HEADERS_CAPPED);
    assert_int_equal(strlen(d->subject) % 3, 0); /* whole euro signs */
}

static void
gen_urls(struct gen *g, size_t n)
{
    gen_str(g, "Content-Type: text/html\n\n");
    for (size_t i = 0; i < n; i++) {
        gen_fmt(g, "<a href=\"http://h%zu.example/\">%zu</a>\n", i, i);
    }
}

static void
test_mime_urls_at_cap(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    gen_urls(&g, MIME_MAX_URLS);
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->n_urls, MIME_MAX_URLS);
    assert_int_equal(d->flags & MIME_URLS_CAPPED, 0);
    assert_string_equal(d->urls[MIME_MAX_URLS - 1].host, "h511.example");
    assert_string_equal(d->urls[MIME_MAX_URLS - 1].anchor_text, "511");
}

static void
test_mime_urls_over_cap(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    gen_urls(&g, MIME_MAX_URLS + 1);
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->n_urls, MIME_MAX_URLS);
    assert_true(d->flags & MIME_URLS_CAPPED);
}

static void
test_mime_text_cap(void **state)
{
    struct fixture *fx = *state;
    size_t n = MIME_TEXT_MAX_BYTES;
    char *m = malloc(n + 64);
    struct mime_doc *d;

    assert_non_null(m);
    fx->big = m;
    /* At the cap. */
    m[0] = '\n';
    memset(m + 1, 't', n);
    d = parse_n(state, m, n + 1);
    assert_int_equal(d->text_len, MIME_TEXT_MAX_BYTES);
    assert_int_equal(d->flags & MIME_TEXT_CAPPED, 0);
    /* One over. */
    arena_reset(fx->a);
    m[n + 1] = 't';
    d = parse_n(state, m, n + 2);
    assert_int_equal(d->text_len, MIME_TEXT_MAX_BYTES);
    assert_int_equal(strlen(d->text), MIME_TEXT_MAX_BYTES);
    assert_true(d->flags & MIME_TEXT_CAPPED);
}

static void
test_mime_part_data_cap(void **state)
{
    struct fixture *fx = *state;
    size_t n = MIME_PART_MAX_BYTES + 1;
    char *m = malloc(2 * n + 64);
    struct mime_doc *d;
    size_t o;

    assert_non_null(m);
    fx->big = m;
    o = (size_t)snprintf(m, 64, "Content-Type: image/gif\n\n");
    memset(m + o, 'g', n - 1);
    d = parse_n(state, m, o + n - 1);
    assert_int_equal(d->parts[0].data_len, MIME_PART_MAX_BYTES);
    assert_int_equal(d->flags & MIME_PART_CAPPED, 0);
    arena_reset(fx->a);
    memset(m + o, 'g', n);
    d = parse_n(state, m, o + n);
    assert_int_equal(d->parts[0].data_len, MIME_PART_MAX_BYTES);
    assert_true(d->flags & MIME_PART_CAPPED);
    /* Quoted-printable and base64 are cut at the same size. */
    arena_reset(fx->a);
    o = (size_t)snprintf(m, 64, "Content-Transfer-Encoding: "
                                "quoted-printable\n\n");
    memset(m + o, 'q', n);
    d = parse_n(state, m, o + n);
    assert_int_equal(d->parts[0].data_len, MIME_PART_MAX_BYTES);
    assert_true(d->flags & MIME_PART_CAPPED);
    arena_reset(fx->a);
    o = (size_t)snprintf(m, 64, "Content-Transfer-Encoding: base64\n\n");
    memset(m + o, 'Q', 2 * n); /* decodes to 1.5 n bytes */
    d = parse_n(state, m, o + 2 * n);
    assert_int_equal(d->parts[0].data_len, MIME_PART_MAX_BYTES);
    assert_true(d->flags & MIME_PART_CAPPED);
}

static void
gen_attachments(struct gen *g, size_t n)
{
    gen_str(g, "Content-Type: multipart/mixed; boundary=a\n\n");
    for (size_t i = 0; i < n; i++) {
        gen_fmt(g, "--a\nContent-Type: application/octet-stream; "
                   "name=f%zu.bin\nContent-Transfer-Encoding: base64\n\n"
                   "AAEC\n",
                i);
    }
    gen_str(g, "--a--\n");
}

static void
test_mime_attachments_cap(void **state)
{
    struct gen g = {0};
    struct mime_doc *d;

    gen_attachments(&g, MIME_MAX_ATTACHMENTS);
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->n_parts, MIME_MAX_ATTACHMENTS);
    assert_int_equal(d->flags & MIME_ATTS_CAPPED, 0);
    assert_int_equal(d->parts[MIME_MAX_ATTACHMENTS - 1].data_len, 3);
    free(g.p);
    g = (struct gen){0};
    arena_reset(((struct fixture *)*state)->a);
    gen_attachments(&g, MIME_MAX_ATTACHMENTS + 1);
    ((struct fixture *)*state)->big = g.p;
    d = parse_n(state, g.p, g.len);
    assert_int_equal(d->n_parts, MIME_MAX_ATTACHMENTS + 1);
    assert_true(d->flags & MIME_ATTS_CAPPED);
    assert_int_equal(d->parts[MIME_MAX_ATTACHMENTS].data_len, 0);
    assert_string_equal(d->parts[MIME_MAX_ATTACHMENTS].filename, "f64.bin");
}

/* ---- arena exhaustion --------------------------------------------- */

static const char arena_msg[] =
    "Subject: =?utf-8?q?caf=C3=A9?=\n"
    "From: a@b\n"
    "Content-Type: multipart/alternative; boundary=q\n"
    "\n"
    "--q\n"
    "Content-Type: text/plain; charset=koi8-r\n"
    "\n"
    "\xf0\xd2\xc9 http://p.example/\n"
    "--q\n"
    "Content-Type: text/html; charset=latin1\n"
    "Content-Disposition: inline; filename*=utf-8''x%C3%A9.html\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "PGEgaHJlZj1odHRwOi8vaC5leGFtcGxlLz7pPC9hPg==\n"
    "--q--\n";

static void
check_consistent(const struct mime_doc *d)
{
    assert_non_null(d->text);
    assert_int_equal(strlen(d->text), d->text_len);
    assert_non_null(d->subject);
    for (size_t i = 0; i < d->n_headers; i++) {
        assert_non_null(d->headers[i].name);
        assert_non_null(d->headers[i].value);
    }
    for (size_t i = 0; i < d->n_parts; i++) {
        assert_non_null(d->parts[i].content_type);
        assert_non_null(d->parts[i].charset);
        assert_non_null(d->parts[i].filename);
    }
    for (size_t i = 0; i < d->n_urls; i++) {
        assert_non_null(d->urls[i].url);
        assert_non_null(d->urls[i].host);
        assert_non_null(d->urls[i].anchor_text);
    }
}

/* Header lookups through mime's name index find what a scan of the
 * block finds: repeated names in any case, names that share a slot
 * (same length, first and last byte), absent names, and a walk that
 * starts after a header of another name. */
static void
test_mime_header_lookup_index(void **state)
{
    static const char *const names[] = {
        "Received", "RECEIVED", "received", "x-aa", "X-BA", "x-ca",
        "x-da",     "subject",  "from",     "to",   "",     "Receive",
        "Receivedx"};
    struct mime_doc *d = parse(state, "Received: a\n"
                                      "received: b\n"
                                      "X-Aa: 1\n"
                                      "X-Ba: 2\n"
                                      "Subject: s\n"
                                      "RECEIVED: c\n"
                                      "X-Ca: 3\n"
                                      "From: f\n"
                                      "\nbody");
    struct mime_doc scan = *d;

    assert_int_equal(d->n_headers, 8);
    assert_non_null(d->name_slots);
    assert_non_null(d->next_same);
    scan.name_slots = NULL; /* as a mime_doc built by hand: a scan */
    scan.next_same = NULL;
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        const struct mime_header *a = mime_header_find(d, names[k]);
        const struct mime_header *b = mime_header_find(&scan, names[k]);

        for (;;) {
            if (a == NULL || b == NULL) {
                assert_true(a == NULL && b == NULL);
                break;
            }
            assert_int_equal(a - d->headers, b - scan.headers);
            a = mime_header_next(d, a, names[k]);
            b = mime_header_next(&scan, b, names[k]);
        }
    }
    assert_int_equal(mime_header_find(d, "received") - d->headers, 0);
    assert_int_equal(mime_header_next(d, &d->headers[0], "RECEIVED") -
                         d->headers,
                     1);
    assert_int_equal(mime_header_next(d, &d->headers[1], "Received") -
                         d->headers,
                     5);
    assert_null(mime_header_next(d, &d->headers[5], "received"));
    /* After a header of another name: the next of this name. */
    assert_int_equal(mime_header_next(d, &d->headers[2], "received") -
                         d->headers,
                     5);
    assert_int_equal(mime_header_find(d, "x-ca") - d->headers, 6);
    assert_null(mime_header_find(d, "x-da"));
}

static void
test_mime_arena_fail_each_allocation(void **state)
{
    struct fixture *fx = *state;
    struct mime_doc *d;
    size_t n_allocs = 0;

    /* Count the allocations of a clean parse, then fail each in turn. */
    d = parse(state, arena_msg);
    assert_int_equal(d->flags & MIME_ARENA_FULL, 0);
    assert_string_equal(d->text, "\xc3\xa9");
    assert_int_equal(d->n_urls, 2);
    for (size_t nth = 1; nth < 100; nth++) {
        arena_reset(fx->a);
        arena_test_fail_nth(fx->a, nth);
        d = parse(state, arena_msg);
        check_consistent(d);
        if (!(d->flags & MIME_ARENA_FULL)) {
            n_allocs = nth;
            break;
        }
    }
    assert_true(n_allocs > 5);
    arena_test_fail_nth(fx->a, 0);
}

static void
test_mime_arena_tiny_budget(void **state)
{
    struct arena *a;
    struct mime_doc doc;

    (void)state;
    for (size_t budget = 16; budget <= 4096; budget *= 2) {
        a = arena_new(budget);
        assert_non_null(a);
        assert_int_equal(mime_parse(a, (const uint8_t *)arena_msg,
                                    strlen(arena_msg), &doc),
                         CM_OK);
        check_consistent(&doc);
        if (budget < 1024) {
            assert_true(doc.flags & MIME_ARENA_FULL);
        }
        arena_free(a);
    }
}

/* Found by fuzz_mime: a NUL inside an unclosed href made url_len and
 * strlen(url) disagree. */
static void
test_mime_url_never_holds_control_bytes(void **state)
{
    static const char msg[] =
        "Content-Type: text/html\n"
        "\n"
        "<a href=\"http://h.example/a\0b&#1;c\tdx\">t</a>";
    struct mime_doc *d = parse_n(state, msg, sizeof(msg) - 1);

    assert_int_equal(d->n_urls, 1);
    assert_string_equal(d->urls[0].url, "http://h.example/abcdx");
    assert_int_equal(d->urls[0].url_len, strlen(d->urls[0].url));
}

/* Found by fuzz_mime: with no text buffer (its allocation failed) an
 * anchor's text was taken from a NULL output. */
static void
test_mime_arena_no_text_buffer(void **state)
{
    struct fixture *fx = *state;
    struct mime_doc *d;

    arena_test_fail_nth(fx->a, 1); /* the text buffer is the first */
    d = parse(state, "Content-Type: text/html\n\n"
                     "<a href=\"http://a.example/\">anchor</a>");
    arena_test_fail_nth(fx->a, 0);
    check_consistent(d);
    assert_true(d->flags & MIME_ARENA_FULL);
    assert_string_equal(d->text, "");
    assert_int_equal(d->n_urls, 1);
    assert_string_equal(d->urls[0].host, "a.example");
    assert_string_equal(d->urls[0].anchor_text, "");
}

/* ---- golden files ------------------------------------------------ */

static const char *const flag_names[] = {
    "DEPTH_CAPPED", "PARTS_CAPPED", "HEADERS_CAPPED", "TEXT_CAPPED",
    "URLS_CAPPED", "ATTS_CAPPED", "ARENA_FULL", "BAD_BASE64", "BAD_QP",
    "UNKNOWN_CHARSET", "BAD_CHARSET_BYTES", "NO_CLOSING_BOUNDARY",
    "NO_BODY", "HAS_HTML", "HAS_PLAIN", "HTML_HIDDEN_TEXT",
    "HTML_HAS_FORM", "HTML_HAS_PASSWORD", "HTML_HAS_SCRIPT",
    "HTML_HAS_IMAGES", "RAW_8BIT_HEADERS", "ENCODED_WORDS", "TRUNCATED",
    "PART_CAPPED",
};

/* A readable dump of everything mime_parse returns. */
static void
dump(const struct mime_doc *d, struct gen *g)
{
    gen_str(g, "flags:");
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if (d->flags & (1u << i)) {
            gen_fmt(g, " %s", flag_names[i]);
        }
    }
    gen_fmt(g, "\nmultiparts: %u max_depth: %u\nsubject: ", d->n_multiparts,
            d->max_depth);
    gen_str(g, d->subject);
    gen_str(g, "\n");
    for (size_t i = 0; i < d->n_headers; i++) {
        gen_fmt(g, "header %zu: ", i);
        gen_str(g, d->headers[i].name);
        gen_str(g, ": ");
        gen_str(g, d->headers[i].value);
        gen_str(g, "\n");
    }
    for (size_t i = 0; i < d->n_parts; i++) {
        const struct mime_part *p = &d->parts[i];
        gen_fmt(g, "part %zu: depth=%u type=", i, p->depth);
        gen_str(g, p->content_type);
        gen_str(g, " charset=");
        gen_str(g, p->charset);
        gen_str(g, " filename=\"");
        gen_str(g, p->filename);
        gen_fmt(g, "\" attachment=%s bytes=%zu\n",
                p->is_attachment ? "yes" : "no", p->data_len);
    }
    for (size_t i = 0; i < d->n_urls; i++) {
        const struct mime_url *u = &d->urls[i];
        gen_fmt(g, "url %zu: %s host=", i,
                u->is_href ? "href" : u->is_image ? "image"
                                    : u->is_form  ? "form"
                                                  : "other");
        gen_str(g, u->host);
        gen_str(g, " url=");
        gen_str(g, u->url);
        gen_str(g, " anchor=\"");
        gen_str(g, u->anchor_text);
        gen_str(g, "\"\n");
    }
    gen_str(g, "text:\n");
    gen_str(g, d->text);
    gen_str(g, "\n");
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL) {
        return NULL;
    }
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/*
 * Every testdata/mime/<case>.eml against its <case>.expected.  Run from
 * the tree's top directory (as `make test` does) or set CM_TESTDATA to the
 * testdata/mime directory; CM_GOLDEN_UPDATE=1 rewrites the .expected
 * files (review the diff).
 */
static void
test_mime_golden_files(void **state)
{
    struct fixture *fx = *state;
    const char *dir = getenv("CM_TESTDATA");
    bool is_update = getenv("CM_GOLDEN_UPDATE") != NULL;
    DIR *dh;
    struct dirent *de;
    size_t n_cases = 0;

    if (dir == NULL) {
        dir = "testdata/mime";
    }
    dh = opendir(dir);
    assert_non_null(dh);
    while ((de = readdir(dh)) != NULL) {
        char path[1024];
        size_t nl = strlen(de->d_name);
        size_t len = 0;
        size_t elen = 0;
        char *msg;
        char *expected;
        struct gen g = {0};
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".eml") != 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        msg = slurp(path, &len);
        assert_non_null(msg);
        arena_reset(fx->a);
        dump(parse_n(state, msg, len), &g);
        snprintf(path, sizeof(path), "%s/%.*s.expected", dir, (int)(nl - 4),
                 de->d_name);
        if (is_update) {
            FILE *f = fopen(path, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(g.p, 1, g.len, f), g.len);
            assert_int_equal(fclose(f), 0);
        }
        expected = slurp(path, &elen);
        if (expected == NULL || elen != g.len ||
            memcmp(expected, g.p, g.len) != 0) {
            print_error("golden mismatch for %s; got:\n%s\n", path, g.p);
            fail();
        }
        free(expected);
        free(msg);
        free(g.p);
        n_cases++;
    }
    closedir(dh);
    assert_true(n_cases >= 6);
}

#define MIME_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        MIME_TEST(test_mime_headers_unfolded_and_found),
        MIME_TEST(test_mime_headers_unfold_every_offset),
        MIME_TEST(test_mime_headers_fold_every_offset),
        MIME_TEST(test_mime_headers_lf_only_and_no_body),
        MIME_TEST(test_mime_headers_rfc2047),
        MIME_TEST(test_mime_headers_rfc2047_among_params),
        MIME_TEST(test_mime_header_lookup_index),
        MIME_TEST(test_mime_headers_unknown_charset_and_raw_8bit),
        MIME_TEST(test_mime_headers_no_control_bytes),
        MIME_TEST(test_mime_header_name_bytes),
        MIME_TEST(test_mime_single_part_base64),
        MIME_TEST(test_mime_uu_block_in_text),
        MIME_TEST(test_mime_uu_transfer_encoding),
        MIME_TEST(test_mime_uu_lenient_and_prose),
        MIME_TEST(test_mime_multipart_mixed),
        MIME_TEST(test_mime_alternative_takes_last),
        MIME_TEST(test_mime_alternative_empty_last_keeps_text),
        MIME_TEST(test_mime_missing_closing_boundary),
        MIME_TEST(test_mime_boundary_never_appears),
        MIME_TEST(test_mime_message_rfc822_nested),
        MIME_TEST(test_mime_qp_body_and_charset),
        MIME_TEST(test_mime_qp_every_offset),
        MIME_TEST(test_mime_html_urls_and_flags),
        MIME_TEST(test_mime_plain_text_urls),
        MIME_TEST(test_mime_url_host_flags),
        MIME_TEST(test_mime_url_reg_runs),
        MIME_TEST(test_mime_url_runs_random),
        MIME_TEST(test_mime_long_userinfo_href),
        MIME_TEST(test_mime_long_userinfo_entity),
        MIME_TEST(test_mime_long_userinfo_text),
        MIME_TEST(test_mime_garbage_never_fails),
        MIME_TEST(test_mime_depth_at_cap),
        MIME_TEST(test_mime_depth_over_cap),
        MIME_TEST(test_mime_depth_10000),
        MIME_TEST(test_mime_depth_message_rfc822_counts),
        MIME_TEST(test_mime_parts_at_cap),
        MIME_TEST(test_mime_parts_over_cap),
        MIME_TEST(test_mime_parts_100000),
        MIME_TEST(test_mime_filenames_rfc2231_and_2047),
        MIME_TEST(test_mime_other_filename),
        MIME_TEST(test_mime_body_charsets_via_iconv),
        MIME_TEST(test_mime_unknown_body_charset),
        MIME_TEST(test_mime_base64_broken),
        MIME_TEST(test_mime_base64_missing_padding_and_concat),
        MIME_TEST(test_mime_attachments_decoded_like_text),
        MIME_TEST(test_mime_plain_text_line_breaks_and_nul),
        MIME_TEST(test_mime_crlf_padding_and_long_boundary),
        MIME_TEST(test_mime_boundary_needs_line_start_and_padding_only),
        MIME_TEST(test_mime_boundary_prefix_of_another),
        MIME_TEST(test_mime_boundary_with_colon_ends_header_block),
        MIME_TEST(test_mime_digest_defaults_to_rfc822),
        MIME_TEST(test_mime_html_charset_and_entities),
        MIME_TEST(test_mime_html_bom_overrides_label),
        MIME_TEST(test_mime_html_meta_charset),
        MIME_TEST(test_mime_header_count_at_cap),
        MIME_TEST(test_mime_header_count_over_cap),
        MIME_TEST(test_mime_header_length_cap),
        MIME_TEST(test_mime_headers_total_cap),
        MIME_TEST(test_mime_urls_at_cap),
        MIME_TEST(test_mime_urls_over_cap),
        MIME_TEST(test_mime_text_cap),
        MIME_TEST(test_mime_part_data_cap),
        MIME_TEST(test_mime_attachments_cap),
        MIME_TEST(test_mime_arena_fail_each_allocation),
        MIME_TEST(test_mime_arena_tiny_budget),
        MIME_TEST(test_mime_url_never_holds_control_bytes),
        MIME_TEST(test_mime_golden_files),
        MIME_TEST(test_mime_arena_no_text_buffer),
    };

    return cmocka_run_group_tests_name("mime", tests, NULL, NULL);
}
