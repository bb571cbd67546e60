/*
 * test_rules.c -- the RULES section (format/parse round trip, built-in
 * table, every refusal, unknown rule ids, truncations), detection on
 * parsed messages (attachments, zips, forms, look-alike links, display
 * names, bulk markers, the category-only lure signals of rules_phish.c)
 * and the verdict's category (rules_classify).
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
#include "buf.h"
#include "caps.h"
#include "featureset.h"
#include "lookalike.h"
#include "mime.h"
#include "rules.h"
#include "../../src/rules-int.h"

static const char *const prot[] = {"paypal.com", "example.org"};
static const bool prot_brand[] = {true, false};

static void
table_with_weights(struct rules_rule *t)
{
    for (unsigned i = 0; i < RULES_COUNT; i++) {
        rules_builtin_rule((enum rules_id)i, &t[i]);
        t[i].weight = 0.25 * (double)i - 1.0;
    }
}

static struct rules *
parse_ok(const struct buf *b)
{
    struct rules *r = NULL;
    const char *why = NULL;

    assert_int_equal(rules_parse(b->data, b->len, &r, &why), CM_OK);
    assert_non_null(r);
    return r;
}

static void
test_builtin(void **state)
{
    const struct rules *r = rules_builtin();

    (void)state;
    assert_int_equal(rules_rule_at(r, RULES_EXECUTABLE_ATTACHMENT)->floor,
                     RULES_MALWARE_SCORE);
    assert_int_equal(rules_rule_at(r, RULES_EXECUTABLE_IN_ZIP)->category,
                     RULES_CAT_MALWARE);
    assert_int_equal(rules_rule_at(r, RULES_LOOKALIKE_DOMAIN)->category,
                     RULES_CAT_PHISHING);
    for (unsigned i = 0; i < RULES_COUNT; i++) {
        assert_true(rules_rule_at(r, (enum rules_id)i)->weight == 0.0);
    }
    assert_null(rules_protected(r));
    assert_string_equal(rules_name(RULES_CREDENTIAL_FORM), "credential-form");
    assert_string_equal(rules_name(RULES_COUNT), "unknown");
    rules_free((struct rules *)(uintptr_t)r); /* a no-op for the built-in */
}

static void
test_round_trip(void **state)
{
    struct rules_rule t[RULES_COUNT];
    struct buf b;
    struct rules *r;

    (void)state;
    table_with_weights(t);
    t[RULES_DECEPTIVE_LINK].category = RULES_CAT_SPAM;
    buf_init(&b, 1 << 20);
    assert_int_equal(rules_format(t, prot, prot_brand, 2, &b), CM_OK);
    r = parse_ok(&b);
    for (unsigned i = 0; i < RULES_COUNT; i++) {
        const struct rules_rule *x = rules_rule_at(r, (enum rules_id)i);

        assert_true(x->weight > t[i].weight - 0.001 &&
                    x->weight < t[i].weight + 0.001);
        assert_int_equal(x->category, t[i].category);
        assert_int_equal(x->floor, t[i].floor);
        assert_string_equal(x->sub, t[i].sub);
    }
    assert_int_equal(lookalike_db_count(rules_protected(r)), 2);
    assert_string_equal(lookalike_db_at(rules_protected(r), 0),
                        "example.org");
    assert_false(lookalike_is_brand(rules_protected(r), 0));
    assert_true(lookalike_is_brand(rules_protected(r), 1));
    rules_free(r);
    buf_clear(&b);
}

/* The section's header and one rule entry by hand. */
static void
put_header(struct buf *b, uint32_t version, uint32_t n)
{
    uint8_t h[12] = {'C', 'M', 'R', 'L', (uint8_t)version, 0, 0, 0,
                     (uint8_t)n, (uint8_t)(n >> 8), 0, 0};

    buf_reset(b);
    assert_int_equal(buf_append(b, h, sizeof(h)), CM_OK);
}

static void
put_rule(struct buf *b, uint16_t id, uint8_t cat, uint8_t floor, int32_t w,
         const char *sub)
{
    uint32_t wu;
    uint8_t e[9];

    memcpy(&wu, &w, sizeof(wu));
    e[0] = (uint8_t)id;
    e[1] = (uint8_t)(id >> 8);
    e[2] = cat;
    e[3] = floor;
    e[4] = (uint8_t)wu;
    e[5] = (uint8_t)(wu >> 8);
    e[6] = (uint8_t)(wu >> 16);
    e[7] = (uint8_t)(wu >> 24);
    e[8] = (uint8_t)strlen(sub);
    assert_int_equal(buf_append(b, e, sizeof(e)), CM_OK);
    assert_int_equal(buf_append(b, sub, strlen(sub)), CM_OK);
}

static void
put_protected(struct buf *b, const char *const *d, const uint8_t *flags,
              uint32_t n)
{
    uint8_t c[4] = {(uint8_t)n, 0, 0, 0};

    assert_int_equal(buf_append(b, c, 4), CM_OK);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(buf_putc(b, flags[i]), CM_OK);
        assert_int_equal(buf_putc(b, (uint8_t)strlen(d[i])), CM_OK);
        assert_int_equal(buf_append(b, d[i], strlen(d[i])), CM_OK);
    }
}

static enum cm_err
parse_err(const struct buf *b)
{
    struct rules *r = NULL;
    const char *why = NULL;
    enum cm_err rc = rules_parse(b->data, b->len, &r, &why);

    if (rc == CM_OK) {
        rules_free(r);
    } else {
        assert_non_null(why);
        assert_null(r);
    }
    return rc;
}

static void
test_unknown_ids_skipped_missing_kept(void **state)
{
    static const char *const d[] = {"a.com"};
    static const uint8_t f[] = {0};
    struct buf b;
    struct rules *r;

    (void)state;
    buf_init(&b, 1 << 16);
    put_header(&b, RULES_FORMAT, 2);
    put_rule(&b, 200, RULES_CAT_SPAM, 0, 1500, "from-the-future");
    put_rule(&b, RULES_LOOKALIKE_DOMAIN, RULES_CAT_PHISHING, 0, 2500,
             "look");
    put_protected(&b, d, f, 1);
    r = parse_ok(&b);
    assert_true(rules_rule_at(r, RULES_LOOKALIKE_DOMAIN)->weight > 2.49);
    assert_string_equal(rules_rule_at(r, RULES_LOOKALIKE_DOMAIN)->sub,
                        "look");
    /* Not listed: the built-in values. */
    assert_int_equal(rules_rule_at(r, RULES_EXECUTABLE_ATTACHMENT)->floor,
                     RULES_MALWARE_SCORE);
    rules_free(r);
    buf_clear(&b);
}

static void
test_refusals(void **state)
{
    static const char *const ok[] = {"a.com", "b.com"};
    static const char *const unsorted[] = {"b.com", "a.com"};
    static const char *const bad[] = {"A.com"};
    static const char *const nodot[] = {"abc"};
    static const uint8_t f0[] = {0, 0};
    static const uint8_t fx[] = {0x80};
    struct buf b;

    (void)state;
    buf_init(&b, 1 << 16);
    put_header(&b, RULES_FORMAT, 0);
    put_protected(&b, ok, f0, 2);
    assert_int_equal(parse_err(&b), CM_OK);
    b.data[0] = 'X';
    assert_int_equal(parse_err(&b), CM_EPARSE);
    put_header(&b, RULES_FORMAT + 1, 0);
    put_protected(&b, ok, f0, 2);
    assert_int_equal(parse_err(&b), CM_EVERSION);
    /* Repeated rule, category, floor, weight, sub out of range. */
    put_header(&b, RULES_FORMAT, 2);
    put_rule(&b, 1, 1, 0, 0, "");
    put_rule(&b, 1, 1, 0, 0, "");
    put_protected(&b, ok, f0, 0);
    assert_int_equal(parse_err(&b), CM_EPARSE);
    put_header(&b, RULES_FORMAT, 1);
    put_rule(&b, 1, 5, 0, 0, "");
    put_protected(&b, ok, f0, 0);
    assert_int_equal(parse_err(&b), CM_EPARSE);
    put_header(&b, RULES_FORMAT, 1);
    put_rule(&b, 1, 1, 101, 0, "");
    put_protected(&b, ok, f0, 0);
    assert_int_equal(parse_err(&b), CM_EPARSE);
    put_header(&b, RULES_FORMAT, 1);
    put_rule(&b, 1, 1, 0, -9000, "");
    put_protected(&b, ok, f0, 0);
    assert_int_equal(parse_err(&b), CM_EPARSE);
    put_header(&b, RULES_FORMAT, 1);
    put_rule(&b, 1, 1, 0, 0, "Bad_Sub");
    put_protected(&b, ok, f0, 0);
    assert_int_equal(parse_err(&b), CM_EPARSE);
    /* Protected domains out of order, malformed, unknown flags. */
    put_header(&b, RULES_FORMAT, 0);
    put_protected(&b, unsorted, f0, 2);
    assert_int_equal(parse_err(&b), CM_EPARSE);
    put_header(&b, RULES_FORMAT, 0);
    put_protected(&b, bad, f0, 1);
    assert_int_equal(parse_err(&b), CM_EPARSE);
    put_header(&b, RULES_FORMAT, 0);
    put_protected(&b, nodot, f0, 1);
    assert_int_equal(parse_err(&b), CM_EPARSE);
    put_header(&b, RULES_FORMAT, 0);
    put_protected(&b, ok, fx, 1);
    assert_int_equal(parse_err(&b), CM_EPARSE);
    /* Trailing bytes. */
    put_header(&b, RULES_FORMAT, 0);
    put_protected(&b, ok, f0, 2);
    assert_int_equal(buf_putc(&b, 0), CM_OK);
    assert_int_equal(parse_err(&b), CM_EPARSE);
    /* Counts past the caps or the bytes. */
    put_header(&b, RULES_FORMAT, CAPS_RULES_MAX + 1);
    assert_int_equal(parse_err(&b), CM_ELIMIT);
    buf_clear(&b);
}

static void
test_truncations(void **state)
{
    struct rules_rule t[RULES_COUNT];
    struct buf b;

    (void)state;
    table_with_weights(t);
    buf_init(&b, 1 << 20);
    assert_int_equal(rules_format(t, prot, prot_brand, 2, &b), CM_OK);
    for (size_t n = 0; n < b.len; n++) {
        struct rules *r = NULL;

        assert_int_not_equal(rules_parse(b.data, n, &r, NULL), CM_OK);
        assert_null(r);
    }
    buf_clear(&b);
}

static void
test_format_refuses(void **state)
{
    struct rules_rule t[RULES_COUNT];
    struct buf b;
    static const char *const bad[] = {"x"};

    (void)state;
    table_with_weights(t);
    buf_init(&b, 1 << 20);
    t[0].weight = RULES_WEIGHT_MAX + 1.0;
    assert_int_equal(rules_format(t, NULL, NULL, 0, &b), CM_EPARSE);
    table_with_weights(t);
    buf_reset(&b);
    assert_int_equal(rules_format(t, bad, NULL, 1, &b), CM_EPARSE);
    buf_clear(&b);
}

/* ---- detection -------------------------------------------------------- */

struct parsed {
    struct arena *a;
    struct features_scratch *fs;
    struct mime_doc doc;
    unsigned fflags;
};

static void
parse_msg(struct parsed *p, const char *msg)
{
    const uint32_t *ids = NULL;
    size_t n = 0;

    p->a = arena_new(CAPS_ARENA_MAX_BYTES);
    p->fs = features_scratch_new();
    assert_non_null(p->a);
    assert_non_null(p->fs);
    assert_int_equal(mime_parse(p->a, (const uint8_t *)msg, strlen(msg),
                                &p->doc),
                     CM_OK);
    p->fflags = 0;
    features_extract(&p->doc, NULL, p->fs, NULL, NULL, &ids, &n, &p->fflags);
}

static void
parsed_free(struct parsed *p)
{
    features_scratch_free(p->fs);
    arena_free(p->a);
}

/* The built-in table with the given protected domains; the look-alike
 * and credential-form rules weigh 1.5 and 0.5. */
static struct rules *
with_domains(const char *const *doms, const bool *brand, size_t n)
{
    struct rules_rule t[RULES_COUNT];
    struct buf b;
    struct rules *r;

    for (unsigned i = 0; i < RULES_COUNT; i++) {
        rules_builtin_rule((enum rules_id)i, &t[i]);
    }
    t[RULES_LOOKALIKE_DOMAIN].weight = 1.5;
    t[RULES_CREDENTIAL_FORM].weight = 0.5;
    buf_init(&b, 1 << 20);
    assert_int_equal(rules_format(t, doms, brand, n, &b), CM_OK);
    r = parse_ok(&b);
    buf_clear(&b);
    return r;
}

static struct rules *
with_protected(void)
{
    return with_domains(prot, prot_brand, 2);
}

static uint32_t
detect(const struct rules *r, const char *msg)
{
    struct parsed p;
    uint32_t fired;

    parse_msg(&p, msg);
    fired = rules_detect(r, &p.doc, p.fflags, NULL);
    parsed_free(&p);
    return fired;
}

#define BIT(x) (1u << (x))

static const char attach_fmt[] =
    "From: a@b.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
    "--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
    "--XX\r\nContent-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"%s\"\r\n\r\nMZ\r\n"
    "--XX--\r\n";

static void
test_detect_attachments(void **state)
{
    char msg[1024];
    const struct rules *r = rules_builtin();

    (void)state;
    snprintf(msg, sizeof(msg), attach_fmt, "invoice.exe");
    assert_int_equal(detect(r, msg) & 0xf, BIT(RULES_EXECUTABLE_ATTACHMENT));
    snprintf(msg, sizeof(msg), attach_fmt, "invoice.pdf.scr");
    assert_int_equal(detect(r, msg) & 0xf, BIT(RULES_EXECUTABLE_ATTACHMENT));
    snprintf(msg, sizeof(msg), attach_fmt, "payment.js");
    assert_int_equal(detect(r, msg) & 0xf, BIT(RULES_SCRIPT_ATTACHMENT));
    snprintf(msg, sizeof(msg), attach_fmt, "Shortcut.LNK");
    assert_int_equal(detect(r, msg) & 0xf, BIT(RULES_SCRIPT_ATTACHMENT));
    snprintf(msg, sizeof(msg), attach_fmt, "statement.html");
    assert_int_equal(detect(r, msg) & 0xf, BIT(RULES_HTML_ATTACHMENT));
    snprintf(msg, sizeof(msg), attach_fmt, "report.pdf");
    assert_int_equal(detect(r, msg) & 0xf, 0);
}

/* A part named twice: a client that saves it under the other name saves
 * an executable ("invoice.pdf" by Content-Disposition, "invoice.exe" by
 * Content-Type name=; a repeated filename=). */
static void
test_detect_attachment_other_name(void **state)
{
    static const char two_names[] =
        "From: a@b.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
        "--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        "--XX\r\nContent-Type: application/octet-stream; name=%s\r\n"
        "Content-Disposition: attachment; filename=%s\r\n\r\nMZ\r\n"
        "--XX--\r\n";
    char msg[1024];
    const struct rules *r = rules_builtin();

    (void)state;
    snprintf(msg, sizeof(msg), two_names, "invoice.exe", "invoice.pdf");
    assert_int_equal(detect(r, msg) & 0xf, BIT(RULES_EXECUTABLE_ATTACHMENT));
    snprintf(msg, sizeof(msg), two_names, "x.pdf", "x.pdf; filename=x.js");
    assert_int_equal(detect(r, msg) & 0xf, BIT(RULES_SCRIPT_ATTACHMENT));
    snprintf(msg, sizeof(msg), two_names, "report.pdf", "report.pdf");
    assert_int_equal(detect(r, msg) & 0xf, 0);
}

static void
put_le(struct buf *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(buf_putc(b, (uint8_t)(v >> (8 * i))), CM_OK);
    }
}

/*
 * A zip that is only a central directory of n one-name entries ("a"),
 * the last named last_name, under zip64 end records (a classic end
 * record counts at most 65,535).  No local headers: every name comes
 * from the directory.
 */
static void
build_directory_zip(struct buf *b, size_t n, const char *last_name)
{
    size_t cd_size;
    size_t rec;

    buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        const char *name = i + 1 == n ? last_name : "a";
        size_t nl = strlen(name);

        put_le(b, 0x02014b50u, 4);
        put_le(b, 20, 2);
        put_le(b, 20, 2);
        for (unsigned k = 0; k < 5; k++) {
            put_le(b, 0, 4); /* flags, method, time, date, crc, sizes */
        }
        put_le(b, nl, 2);
        for (unsigned k = 0; k < 4; k++) {
            put_le(b, 0, 2); /* extra, comment, disk, internal attrs */
        }
        put_le(b, 0, 4);
        put_le(b, 0, 4);
        assert_int_equal(buf_append(b, name, nl), CM_OK);
    }
    cd_size = b->len;
    rec = b->len;
    put_le(b, 0x06064b50u, 4);
    put_le(b, 44, 8);
    put_le(b, 45, 2);
    put_le(b, 45, 2);
    put_le(b, 0, 8);
    put_le(b, n, 8);
    put_le(b, n, 8);
    put_le(b, cd_size, 8);
    put_le(b, 0, 8);
    put_le(b, 0x07064b50u, 4);
    put_le(b, 0, 4);
    put_le(b, rec, 8);
    put_le(b, 1, 4);
    put_le(b, 0x06054b50u, 4);
    put_le(b, 0, 4);
    put_le(b, 0xffff, 2);
    put_le(b, 0xffff, 2);
    put_le(b, 0xffffffffu, 4);
    put_le(b, 0xffffffffu, 4);
    put_le(b, 0, 2);
}

/*
 * A zip with more members than ziplist lists (CAPS_ZIPLIST_MEMBERS_MAX)
 * hides the ones past the cap: invoice.exe as member 65,536 was never
 * seen.  Nothing legitimate mails such an archive, so the capped listing
 * itself makes the zip dangerous (executable-in-zip, malware), while the
 * same archive at the cap, with its executable swapped for a text file,
 * is not.
 */
/* doc with one attachment part named filename (data set by the caller). */
static void
one_attachment_doc(struct mime_doc *doc, struct mime_part *part,
                   const char *filename, const char *content_type)
{
    memset(part, 0, sizeof(*part));
    part->filename = filename;
    part->content_type = content_type;
    part->charset = "";
    part->is_attachment = true;
    memset(doc, 0, sizeof(*doc));
    doc->parts = part;
    doc->n_parts = 1;
}

/* A one-member RAR 4.x archive (stored) named member. */
static void
build_rar4(struct buf *b, const char *member)
{
    size_t n = strlen(member);

    b->len = 0;
    assert_int_equal(buf_append(b, "Rar!\x1a\x07\x00", 7), CM_OK);
    put_le(b, 0, 2);
    put_le(b, 0x73, 1);
    put_le(b, 0, 2);
    put_le(b, 13, 2);
    put_le(b, 0, 6);
    put_le(b, 0, 2);
    put_le(b, 0x74, 1);
    put_le(b, 0x8000, 2);
    put_le(b, 32 + n, 2);
    put_le(b, 4, 4);
    put_le(b, 4, 4);
    put_le(b, 2, 1);
    put_le(b, 0, 8);
    put_le(b, 29, 1);
    put_le(b, 0x30, 1);
    put_le(b, n, 2);
    put_le(b, 0x20, 4);
    assert_int_equal(buf_append(b, member, n), CM_OK);
    assert_int_equal(buf_append(b, "MZ\x90\x00", 4), CM_OK);
}

/* RAR archives and gzip files are unpacked like zips: an executable in
 * one is executable-in-zip (malware). */
static void
test_detect_rar_and_gzip(void **state)
{
    static const uint8_t gz_named[] = "\x1f\x8b\x08\x08\0\0\0\0\0\x03"
                                      "invoice.exe\0\x01\x02";
    static const uint8_t gz_pdf[] = "\x1f\x8b\x08\x08\0\0\0\0\0\x03"
                                    "invoice.pdf\0\x01\x02";
    static const uint8_t gz_extra[] = "\x1f\x8b\x08\x0c\0\0\0\0\0\x03"
                                      "\x02\0ab" "setup.scr\0";
    static const uint8_t gz_plain[] = "\x1f\x8b\x08\0\0\0\0\0\0\x03\x01\x02";
    struct mime_part part;
    struct mime_doc doc;
    struct buf b;

    (void)state;
    buf_init(&b, 1u << 16);
    one_attachment_doc(&doc, &part, "hotfix.rar", "application/octet-stream");

    build_rar4(&b, "hotfix\\KB2231.exe");
    part.data = b.data;
    part.data_len = b.len;
    assert_true(rules_archive_is_dangerous(&part));
    assert_int_equal(rules_detect(rules_builtin(), &doc, 0, NULL) &
                         BIT(RULES_EXECUTABLE_IN_ZIP),
                     BIT(RULES_EXECUTABLE_IN_ZIP));
    part.filename = "scan.jpg"; /* by its signature, whatever the name */
    assert_true(rules_archive_is_dangerous(&part));
    build_rar4(&b, "photos.txt");
    part.data = b.data;
    part.data_len = b.len;
    assert_false(rules_archive_is_dangerous(&part));
    /* The same with MHD_PASSWORD in the main header (flags at byte 10):
     * the member names are encrypted, so what it holds cannot be seen. */
    b.data[10] = 0x80;
    assert_true(rules_archive_is_dangerous(&part));

    part.filename = "invoice.gz";
    part.data = gz_named;
    part.data_len = sizeof(gz_named) - 1;
    assert_true(rules_archive_is_dangerous(&part));
    part.data = gz_extra;
    part.data_len = sizeof(gz_extra) - 1;
    assert_true(rules_archive_is_dangerous(&part));
    part.data = gz_pdf;
    part.data_len = sizeof(gz_pdf) - 1;
    assert_false(rules_archive_is_dangerous(&part));
    /* No name in the header: gunzip writes the attachment's less .gz. */
    part.data = gz_plain;
    part.data_len = sizeof(gz_plain) - 1;
    assert_false(rules_archive_is_dangerous(&part));
    part.filename = "invoice.exe.gz";
    assert_true(rules_archive_is_dangerous(&part));
    part.filename = "invoice.exe.txt";
    assert_false(rules_archive_is_dangerous(&part));
    buf_clear(&b);
}

static void
test_detect_zip_over_member_cap(void **state)
{
    struct mime_part part;
    struct mime_doc doc;
    struct buf b;

    (void)state;
    buf_init(&b, 1u << 23);
    one_attachment_doc(&doc, &part, "files.zip", "application/zip");

    build_directory_zip(&b, CAPS_ZIPLIST_MEMBERS_MAX + 1, "invoice.exe");
    part.data = b.data;
    part.data_len = b.len;
    assert_true(rules_archive_is_dangerous(&part));
    assert_int_equal(rules_detect(rules_builtin(), &doc, 0, NULL) &
                         BIT(RULES_EXECUTABLE_IN_ZIP),
                     BIT(RULES_EXECUTABLE_IN_ZIP));

    build_directory_zip(&b, CAPS_ZIPLIST_MEMBERS_MAX, "notes.txt");
    part.data = b.data;
    part.data_len = b.len;
    assert_false(rules_archive_is_dangerous(&part));
    assert_int_equal(rules_detect(rules_builtin(), &doc, 0, NULL) &
                         BIT(RULES_EXECUTABLE_IN_ZIP),
                     0);
    buf_clear(&b);
}

/* A page attached beside the text is an HTML attachment; a message whose
 * one inline part is a named page is that page. */
static void
test_detect_html_body_is_not_attachment(void **state)
{
    static const char inline_page[] =
        "From: alert@example.com\r\nSubject: weather\r\n"
        "Content-Type: text/html\r\n"
        "Content-Disposition: inline; filename=\"wx.htm\"\r\n\r\n"
        "<p>Rain</p>\r\n";
    static const char attached_page[] =
        "From: alert@example.com\r\nSubject: statement\r\n"
        "Content-Type: text/html\r\n"
        "Content-Disposition: attachment; filename=\"wx.htm\"\r\n\r\n"
        "<p>Rain</p>\r\n";
    static const char nested_page[] =
        "From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
        "--XX\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
        "--XX\r\nContent-Type: text/html; name=\"login.html\"\r\n\r\n"
        "<form></form>\r\n--XX--\r\n";
    const struct rules *r = rules_builtin();

    (void)state;
    assert_int_equal(detect(r, inline_page) & BIT(RULES_HTML_ATTACHMENT), 0);
    assert_int_equal(detect(r, attached_page) & BIT(RULES_HTML_ATTACHMENT),
                     BIT(RULES_HTML_ATTACHMENT));
    assert_int_equal(detect(r, nested_page) & BIT(RULES_HTML_ATTACHMENT),
                     BIT(RULES_HTML_ATTACHMENT));
}

static void
test_detect_forms_links_names(void **state)
{
    struct rules *r = with_protected();
    const char *phish =
        "From: \"PayPal Service\" <service@alerts.evil.example>\r\n"
        "Subject: verify\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html\r\n\r\n"
        "<p>Please sign in to confirm your account</p>"
        "<form action=\"https://collect.evil.example/p\">"
        "<input type=password name=pw></form>"
        "<a href=\"http://paypa1.com/login\">PayPal</a>\r\n";
    const char *foreign_form =
        "From: shop@store.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html\r\n\r\n"
        "<p>Please confirm your user name</p>"
        "<form action=\"https://other.example/x\"><input name=u></form>\r\n";
    const char *own_form =
        "From: shop@store.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html\r\n\r\n"
        "<p>Please confirm your user name</p>"
        "<form action=\"https://www.store.example/x\"><input name=u></form>"
        "\r\n";
    const char *news =
        "From: \"Example News\" <news@example.org>\r\nSubject: s\r\n"
        "List-Unsubscribe: <mailto:u@example.org>\r\n"
        "Content-Type: text/html\r\n\r\n"
        "<a href=\"https://www.example.org/a\">read more</a>\r\n";
    uint32_t f;
    struct parsed p;
    const char *kind = NULL;

    (void)state;
    f = detect(r, phish);
    assert_true((f & BIT(RULES_CREDENTIAL_FORM)) != 0);
    assert_true((f & BIT(RULES_LOOKALIKE_DOMAIN)) != 0);
    assert_true((f & BIT(RULES_BRAND_DISPLAY_NAME)) != 0);
    assert_true(rules_margin(r, f) > 1.99 && rules_margin(r, f) < 2.01);
    parse_msg(&p, phish);
    (void)rules_detect(r, &p.doc, p.fflags, &kind);
    assert_string_equal(kind, "confusable");
    parsed_free(&p);
    /* Without the protected list only the form remains. */
    f = detect(rules_builtin(), phish);
    assert_int_equal(f & (BIT(RULES_LOOKALIKE_DOMAIN) |
                          BIT(RULES_BRAND_DISPLAY_NAME)),
                     0);
    assert_true((detect(r, foreign_form) & BIT(RULES_CREDENTIAL_FORM)) != 0);
    assert_int_equal(detect(r, own_form) & BIT(RULES_CREDENTIAL_FORM), 0);
    /* A newsletter's search box (method GET to a search host) beside an
     * article about passwords asks for no credentials; the same form
     * posting is a login form, and a password input always is. */
    {
        static const char fmt[] =
            "From: \"Security Newsletter\" <news@newsletter.example>\r\n"
            "Subject: s\r\nContent-Type: text/html\r\n\r\n"
            "<p>Change your password after the breach.</p>"
            "<form method=\"%s\" action=\"http://search.example.com/r\">"
            "<input type=text name=q>%s<input type=submit value=Go></form>"
            "\r\n";
        char m[1024];

        snprintf(m, sizeof(m), fmt, "GET", "");
        assert_int_equal(detect(r, m) & BIT(RULES_CREDENTIAL_FORM), 0);
        snprintf(m, sizeof(m), fmt, " get ", "");
        assert_int_equal(detect(r, m) & BIT(RULES_CREDENTIAL_FORM), 0);
        snprintf(m, sizeof(m), fmt, "post", "");
        assert_int_not_equal(detect(r, m) & BIT(RULES_CREDENTIAL_FORM), 0);
        snprintf(m, sizeof(m), fmt, "getx", "");
        assert_int_not_equal(detect(r, m) & BIT(RULES_CREDENTIAL_FORM), 0);
        snprintf(m, sizeof(m), fmt, "get", "<input type=password name=p>");
        assert_int_not_equal(detect(r, m) & BIT(RULES_CREDENTIAL_FORM), 0);
        memcpy(strstr(m, "search.example.com"), "192.0.2.7/xxxxxxxx", 18);
        snprintf(m, sizeof(m), fmt, "get", "");
        memcpy(strstr(m, "search.example.com"), "192.0.2.7/xxxxxxxx", 18);
        assert_int_not_equal(detect(r, m) & BIT(RULES_CREDENTIAL_FORM), 0);
    }
    /* A newsletter's "log in to manage your subscription" form is no
     * credential request. */
    {
        char m[1024];

        snprintf(m, sizeof(m), "%s", foreign_form);
        memcpy(strstr(m, "Please confirm your user name"),
               "Log in to manage your  account", 30);
        assert_int_equal(detect(r, m) & BIT(RULES_CREDENTIAL_FORM), 0);
    }
    f = detect(r, news);
    assert_int_equal(f, BIT(RULES_BULK_MARKERS));
    /* A brand's name in an image host is no look-alike (Amazon's own
     * m.media-amazon.com); the same host as a link is. */
    f = detect(r, "From: a@shop.example\r\nSubject: s\r\n"
                  "Content-Type: text/html\r\n\r\n"
                  "<img src=\"https://m.media-paypal.example/logo.png\">\r\n");
    assert_int_equal(f & BIT(RULES_LOOKALIKE_DOMAIN), 0);
    f = detect(r, "From: a@shop.example\r\nSubject: s\r\n"
                  "Content-Type: text/html\r\n\r\n"
                  "<a href=\"https://m.media-paypal.example/\">x</a>\r\n");
    assert_int_equal(f & BIT(RULES_LOOKALIKE_DOMAIN),
                     BIT(RULES_LOOKALIKE_DOMAIN));
    /* 100 links to one host in front of the look-alike: one host. */
    {
        static char m[16384];
        size_t o = (size_t)snprintf(m, sizeof(m),
                                    "From: a@shop.example\r\nSubject: s\r\n"
                                    "Content-Type: text/html\r\n\r\n");

        for (unsigned i = 0; i < 100; i++) {
            o += (size_t)snprintf(m + o, sizeof(m) - o,
                                  "<a href=\"https://shop.example/%u\">x</a>",
                                  i);
        }
        snprintf(m + o, sizeof(m) - o,
                 "<a href=\"https://m.media-paypal.example/\">x</a>\r\n");
        f = detect(r, m);
        assert_int_equal(f & BIT(RULES_LOOKALIKE_DOMAIN),
                         BIT(RULES_LOOKALIKE_DOMAIN));
    }
    /* 200 distinct harmless hosts in front of it: every host the parse
     * kept is looked at, so padding cannot push the lure out of reach. */
    {
        static char m[32768];
        size_t o = (size_t)snprintf(m, sizeof(m),
                                    "From: a@shop.example\r\nSubject: s\r\n"
                                    "Content-Type: text/html\r\n\r\n");

        for (unsigned i = 0; i < 200; i++) {
            o += (size_t)snprintf(m + o, sizeof(m) - o,
                                  "<a href=\"https://h%u.example/\">x</a>", i);
        }
        snprintf(m + o, sizeof(m) - o,
                 "<a href=\"https://m.media-paypal.example/\">x</a>\r\n");
        f = detect(r, m);
        assert_int_equal(f & BIT(RULES_LOOKALIKE_DOMAIN),
                         BIT(RULES_LOOKALIKE_DOMAIN));
    }
    rules_free(r);
}

/* ---- the category-only lure signals (rules_phish.c) ------------------ */

static uint32_t
detect_headers(const char *headers, const char *body)
{
    char m[2048];

    snprintf(m, sizeof(m),
             "%sMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n%s\r\n",
             headers, body);
    return detect(rules_builtin(), m);
}

#define PLAIN_FROM "From: Shop <news@shop.example>\r\nSubject: hello\r\n"

static void
test_detect_auth_failed(void **state)
{
    const uint32_t bit = BIT(RULES_AUTH_FAILED);

    (void)state;
    assert_int_equal(detect_headers(PLAIN_FROM
                                    "Authentication-Results: mx.example; "
                                    "spf=softfail smtp.mailfrom=x.example\r\n",
                                    "hi") & bit,
                     bit);
    assert_int_equal(detect_headers(PLAIN_FROM
                                    "Authentication-Results: mx.example; "
                                    "spf=pass; dkim=none;\r\n dmarc=FAIL "
                                    "header.from=shop.example\r\n",
                                    "hi") & bit,
                     bit);
    assert_int_equal(detect_headers(PLAIN_FROM
                                    "Authentication-Results: spf=pass; "
                                    "compauth=fail reason=000\r\n",
                                    "hi") & bit,
                     bit);
    assert_int_equal(detect_headers(PLAIN_FROM "Received-SPF: SoftFail "
                                               "(domain of x)\r\n",
                                    "hi") & bit,
                     bit);
    /* A second Authentication-Results header is read too. */
    assert_int_equal(detect_headers(PLAIN_FROM
                                    "Authentication-Results: a; spf=pass\r\n"
                                    "Authentication-Results: b; spf=fail\r\n",
                                    "hi") & bit,
                     bit);
    /* Passes, DKIM failures (lists alter bodies), words that only start
     * with "fail", and method names inside other words do not count. */
    assert_int_equal(detect_headers(PLAIN_FROM
                                    "Authentication-Results: mx.example; "
                                    "spf=pass; dkim=fail; dmarc=pass\r\n"
                                    "Received-SPF: pass\r\n",
                                    "hi") & bit,
                     0);
    assert_int_equal(detect_headers(PLAIN_FROM
                                    "Authentication-Results: mx; "
                                    "spf=failover; xdmarc=fail\r\n"
                                    "Received-SPF: failsafe\r\n",
                                    "hi") & bit,
                     0);
    assert_int_equal(detect_headers(PLAIN_FROM "X-Note: spf=fail\r\n", "hi") &
                         bit,
                     0);
}

static void
test_detect_hidden_link(void **state)
{
    const uint32_t bit = BIT(RULES_HIDDEN_LINK);

    (void)state;
    assert_int_equal(detect_headers(PLAIN_FROM,
                                    "<a href=\"https://bit.ly/3xYz\">open</a>")
                         & bit,
                     bit);
    assert_int_equal(detect_headers(PLAIN_FROM,
                                    "<a href=\"http://www.TinyURL.com/abc\">"
                                    "see</a>") &
                         bit,
                     bit);
    assert_int_equal(detect_headers(PLAIN_FROM,
                                    "<a href=\"data:text/html;base64,"
                                    "PGgxPg==\">view</a>") & bit,
                     bit);
    /* An inline image as a data: URI, or a host that merely ends like a
     * shortener, hides nothing. */
    assert_int_equal(detect_headers(PLAIN_FROM,
                                    "<img src=\"data:image/png;base64,AAAA\">"
                                    "<a href=\"https://notbit.ly/x\">x</a>") &
                         bit,
                     0);
    /* A shortener after many pictures and links is still seen: the
     * check is a compare or two a URL, and padding the message in front
     * of the link must not hide it. */
    {
        static char body[16384];
        size_t o = (size_t)snprintf(body, sizeof(body),
                                    "%sMIME-Version: 1.0\r\n"
                                    "Content-Type: text/html\r\n\r\n",
                                    PLAIN_FROM);

        for (unsigned i = 0; i < 100; i++) {
            o += (size_t)snprintf(body + o, sizeof(body) - o,
                                  "<img src=\"https://img.example/%u.png\">"
                                  "<a href=\"https://shop.example/%u\">x</a>",
                                  i, i);
        }
        snprintf(body + o, sizeof(body) - o,
                 "<a href=\"https://bit.ly/3xYz\">open</a>");
        assert_int_equal(detect(rules_builtin(), body) & bit, bit);
    }
}

/* The provider domains rules_is_freemail knows, and the plain scan it
 * replaced: its answer on any bytes. */
static const char *const freemail_doms[] = {
    "gmail.com", "googlemail.com", "yahoo.com", "ymail.com",
    "rocketmail.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
    "hotmail.com", "hotmail.co.uk", "hotmail.fr", "outlook.com",
    "outlook.fr", "live.com", "msn.com", "aol.com", "aim.com",
    "icloud.com", "me.com", "mail.com", "email.com", "usa.com",
    "consultant.com", "gmx.com", "gmx.net", "gmx.de", "web.de",
    "mail.ru", "inbox.ru", "list.ru", "bk.ru", "yandex.ru",
    "yandex.com", "protonmail.com", "proton.me", "zoho.com", "qq.com",
    "163.com", "126.com", "rediffmail.com", "libero.it"};

static bool
ref_is_freemail(const char *p, size_t n)
{
    for (size_t i = 0; i < sizeof(freemail_doms) / sizeof(freemail_doms[0]);
         i++) {
        if (strlen(freemail_doms[i]) == n &&
            memcmp(freemail_doms[i], p, n) == 0) {
            return true;
        }
    }
    return false;
}

/* rules_is_freemail against the scan on every provider domain, each
 * copied to the end of its own allocation (an ASan build sees a read
 * past it), and on the same one byte off: shortened at either end,
 * lengthened, each byte changed or upper-cased. */
static void
test_is_freemail(void **state)
{
    (void)state;
    assert_false(rules_is_freemail("", 0));
    for (size_t i = 0; i < sizeof(freemail_doms) / sizeof(freemail_doms[0]);
         i++) {
        size_t n = strlen(freemail_doms[i]);
        char *q = malloc(n + 1);
        char *p = q + 1;

        assert_non_null(q);
        q[0] = 'e';
        memcpy(p, freemail_doms[i], n);
        assert_true(rules_is_freemail(p, n));
        assert_int_equal(rules_is_freemail(p, n - 1), ref_is_freemail(p, n - 1));
        assert_int_equal(rules_is_freemail(p + 1, n - 1),
                         ref_is_freemail(p + 1, n - 1));
        assert_int_equal(rules_is_freemail(q, n + 1), ref_is_freemail(q, n + 1));
        for (size_t k = 0; k < n; k++) {
            char c = p[k];

            for (unsigned b = 0; b < 256; b++) {
                p[k] = (char)b;
                assert_int_equal(rules_is_freemail(p, n),
                                 ref_is_freemail(p, n));
            }
            p[k] = c;
        }
        free(q);
    }
}

static void
test_detect_reply_to_freemail(void **state)
{
    const uint32_t bit = BIT(RULES_REPLY_TO_FREEMAIL);

    (void)state;
    assert_int_equal(detect_headers(PLAIN_FROM
                                    "Reply-To: \"Claims\" <claims.desk@"
                                    "GMail.com>\r\n",
                                    "hi") & bit,
                     bit);
    /* Replies to the sender's own domain, or a free mailbox answering at
     * its own provider. */
    assert_int_equal(detect_headers(PLAIN_FROM
                                    "Reply-To: help@support.shop.example\r\n",
                                    "hi") & bit,
                     0);
    assert_int_equal(detect_headers("From: Ann <ann@gmail.com>\r\n"
                                    "Reply-To: ann.b@gmail.com\r\n",
                                    "hi") & bit,
                     0);
    assert_int_equal(detect_headers(PLAIN_FROM, "hi") & bit, 0);
    /* A list host below a provider, and a list answering to itself. */
    assert_int_equal(detect_headers("From: joy <joy@hotmail.com>\r\n"
                                    "Reply-To: <Living@groups.msn.com>\r\n",
                                    "hi") & bit,
                     0);
    assert_int_equal(detect_headers(PLAIN_FROM
                                    "To: \"Club\" <club@yahoo.com>\r\n"
                                    "Reply-To: club@yahoo.com\r\n",
                                    "hi") & bit,
                     0);
    /* The recipient's address in Reply-To's display name: the answers
     * still go to the free mailbox after it. */
    assert_int_equal(detect_headers(PLAIN_FROM
                                    "To: bob@example.org\r\n"
                                    "Reply-To: \"bob@example.org\" "
                                    "<claims@gmail.com>\r\n",
                                    "hi") & bit,
                     bit);
    /* A Reply-To address longer than any mailbox is not looked for among
     * the recipients (header bytes times address bytes). */
    {
        char hdr[2048];
        char addr[300];

        memset(addr, 'c', 290);
        memcpy(addr + 290 - 10, "@gmail.com", 11);
        snprintf(hdr, sizeof(hdr), PLAIN_FROM "To: %s\r\nReply-To: %s\r\n",
                 addr, addr);
        assert_int_equal(detect_headers(hdr, "hi") & bit, bit);
    }
}

/* Brands whose domains are also free mailboxes, as the default
 * cartridge protects them. */
static struct rules *
with_mailbox_brands(void)
{
    static const char *const doms[] = {"docusign.com", "gmail.com",
                                       "metamask.io"};
    static const bool brand[] = {true, true, true};

    return with_domains(doms, brand, 3);
}

/* The rules fired by a plain message whose From field is from. */
static uint32_t
detect_with_from(const struct rules *r, const char *from)
{
    char m[1024];

    snprintf(m, sizeof(m),
             "From: %s\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
             "Content-Type: text/plain\r\n\r\nhi\r\n",
             from);
    return detect(r, m);
}

static uint32_t
detect_from(const struct rules *r, const char *from)
{
    return detect_with_from(r, from) & BIT(RULES_BRAND_DISPLAY_NAME);
}

static void
test_detect_brand_display_name(void **state)
{
    const uint32_t bit = BIT(RULES_BRAND_DISPLAY_NAME);
    struct rules *r = with_mailbox_brands();

    (void)state;
    /* A free mailbox belongs to no brand, though it is protected. */
    assert_int_equal(detect_from(r, "DocuSign <johnm2723@gmail.com>"), bit);
    assert_int_equal(detect_from(r, "\"Gmail Team\" <ann@gmail.com>"), 0);
    assert_int_equal(detect_from(r, "DocuSign <dse@docusign.com>"), 0);
    /* The sender is the last address, not one shown in the name. */
    assert_int_equal(
        detect_from(r, "\"support@metamask.io\" <no-reply@quiz.example>"),
        bit);
    assert_int_equal(
        detect_from(r, "\"DocuSign <dse@docusign.com>\" <x@quiz.example>"),
        bit);
    assert_int_equal(detect_from(r, "dse@docusign.com"), 0);
    /* An encoded word after the address that decodes to the brand's
     * address adds no address (RFC 2047 5): the mail is from
     * quiz.example.  An encoded display name is read as before. */
    assert_int_equal(detect_from(r, "DocuSign <x@quiz.example> "
                                    "=?us-ascii?q?=3Cdse=40docusign.com=3E?="),
                     bit);
    assert_int_equal(detect_from(r, "=?utf-8?q?DocuSign?= <dse@docusign.com>"),
                     0);
    assert_int_equal(detect_from(r, "=?utf-8?q?DocuSign?= <x@quiz.example>"),
                     bit);
    /* The older "address (name)" form: mail clients show the comment as
     * the name, and features reads it so (addr_split). */
    assert_int_equal(detect_from(r, "x@quiz.example (DocuSign)"), bit);
    assert_int_equal(detect_from(r, "x@quiz.example (DocuSign Service"),
                     bit);
    assert_int_equal(detect_from(r, "dse@docusign.com (DocuSign)"), 0);
    assert_int_equal(detect_from(r, "x@quiz.example ()"), 0);
    rules_free(r);
}

/* An address longer than any mailbox (RFC 5321: 254 bytes) is not
 * searched for: the search costs header bytes times address bytes. */
static void
test_detect_recipient_named_long_address(void **state)
{
    const uint32_t bit = BIT(RULES_RECIPIENT_NAMED);
    char hdr[4096];
    char addr[300];

    (void)state;
    memset(addr, 'a', 255);
    memcpy(addr + 255 - 10, "@b.example", 11);
    snprintf(hdr, sizeof(hdr),
             "From: IT <it@desk.example>\r\nTo: %s\r\n"
             "Subject: %s: mailbox full\r\n",
             addr, addr);
    assert_int_equal(detect_headers(hdr, "hi") & bit, 0);
    /* 254 bytes is still a mailbox. */
    memset(addr, 'a', 254);
    memcpy(addr + 254 - 10, "@b.example", 11);
    snprintf(hdr, sizeof(hdr),
             "From: IT <it@desk.example>\r\nTo: %s\r\n"
             "Subject: %s: mailbox full\r\n",
             addr, addr);
    assert_int_equal(detect_headers(hdr, "hi") & bit, bit);
}

static void
test_detect_recipient_named(void **state)
{
    const uint32_t bit = BIT(RULES_RECIPIENT_NAMED);

    (void)state;
    assert_int_equal(detect_headers("From: IT <it@desk.example>\r\n"
                                    "To: Bob <Bob@example.org>\r\n"
                                    "Subject: bob@example.org: mailbox full"
                                    "\r\n",
                                    "hi") & bit,
                     bit);
    assert_int_equal(detect_headers("From: \"bob@example.org admin\" "
                                    "<x@desk.example>\r\n"
                                    "To: bob@example.org\r\nSubject: hi\r\n",
                                    "hi") & bit,
                     bit);
    assert_int_equal(detect_headers("From: x@desk.example "
                                    "(bob@example.org admin)\r\n"
                                    "To: bob@example.org\r\nSubject: hi\r\n",
                                    "hi") & bit,
                     bit);
    /* A To display name that repeats the address is still one mailbox
     * (the way many senders write it); another address there is not. */
    assert_int_equal(detect_headers("From: IT <it@desk.example>\r\n"
                                    "To: \"Bob@example.org\" "
                                    "<bob@example.org>\r\n"
                                    "Subject: bob@example.org: mailbox full"
                                    "\r\n",
                                    "hi") & bit,
                     bit);
    assert_int_equal(detect_headers("From: IT <it@desk.example>\r\n"
                                    "To: \"ann@example.org\" "
                                    "<bob@example.org>\r\n"
                                    "Subject: bob@example.org: mailbox full"
                                    "\r\n",
                                    "hi") & bit,
                     0);
    /* Several recipients, a subject without the address, or the address
     * only in From's own mailbox part. */
    assert_int_equal(detect_headers("From: IT <it@desk.example>\r\n"
                                    "To: bob@example.org, ann@example.org\r\n"
                                    "Subject: bob@example.org\r\n",
                                    "hi") & bit,
                     0);
    assert_int_equal(detect_headers("From: Bob <bob@example.org>\r\n"
                                    "To: bob@example.org\r\n"
                                    "Subject: note to self\r\n",
                                    "hi") & bit,
                     0);
    /* A calendar server names the invitee in an invitation's Subject. */
    assert_int_equal(
        detect(rules_builtin(),
               "From: Lu <lu@gmail.com>\r\nTo: bob@example.org\r\n"
               "Subject: Invitation: sync @ Tue (bob@example.org)\r\n"
               "Content-Type: multipart/mixed; boundary=B\r\n\r\n"
               "--B\r\nContent-Type: text/plain\r\n\r\nsee you\r\n"
               "--B\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n"
               "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n--B--\r\n") &
            bit,
        0);
}

static void
test_detect_mixed_script_text(void **state)
{
    const uint32_t bit = BIT(RULES_MIXED_SCRIPT_TEXT);

    (void)state;
    /* "iPhоne" with a Cyrillic о (U+043E) in the Subject, a Greek ο
     * (U+03BF) in the From display name. */
    assert_int_equal(detect_headers("From: a@b.example\r\n"
                                    "Subject: Win an iPh\xd0\xbene 15\r\n",
                                    "hi") & bit,
                     bit);
    assert_int_equal(detect_headers("From: \"Apple Supp\xce\xbfrt\" "
                                    "<a@b.example>\r\nSubject: hi\r\n",
                                    "hi") & bit,
                     bit);
    assert_int_equal(detect_headers("From: a@b.example (Apple Supp\xce\xbfrt)"
                                    "\r\nSubject: hi\r\n",
                                    "hi") & bit,
                     bit);
    /* A '<' inside the display name does not end it. */
    assert_int_equal(detect_headers("From: \"<Apple Supp\xce\xbfrt>\" "
                                    "<a@b.example>\r\nSubject: hi\r\n",
                                    "hi") & bit,
                     bit);
    /* Russian next to English, each word in one script, and an address
     * part outside the display name. */
    assert_int_equal(detect_headers("From: \"\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd"
                                    " Ivanov\" <ivan@b.example>\r\n"
                                    "Subject: \xd0\xbe\xd1\x82\xd1\x87\xd0\xb5"
                                    "\xd1\x82 report\r\n",
                                    "hi") & bit,
                     0);
}

/* ---- the verdict ------------------------------------------------------ */

static void
classify(uint32_t fired, bool vote, unsigned score, unsigned want_score,
         enum rules_category want, const char *want_sub)
{
    enum rules_category cat = RULES_CAT_LEGIT;
    const char *sub = NULL;

    rules_classify(rules_builtin(), fired, vote, &score, &cat, &sub);
    assert_int_equal(score, want_score);
    assert_int_equal(cat, want);
    assert_string_equal(sub, want_sub);
}

static void
test_classify(void **state)
{
    char a[128] = "f=1";

    (void)state;
    classify(0, false, 10, 10, RULES_CAT_LEGIT, "");
    classify(BIT(RULES_BULK_MARKERS), false, 10, 10, RULES_CAT_LEGIT,
             "newsletter");
    classify(BIT(RULES_CREDENTIAL_FORM), false, 40, 40, RULES_CAT_LEGIT, "");
    classify(BIT(RULES_CREDENTIAL_FORM), false, 60, 60, RULES_CAT_PHISHING,
             "credential-form");
    classify(BIT(RULES_EXECUTABLE_ATTACHMENT), false, 5, 99,
             RULES_CAT_MALWARE, "executable-attachment");
    classify(BIT(RULES_EXECUTABLE_IN_ZIP) | BIT(RULES_LOOKALIKE_DOMAIN),
             true, 80, 99, RULES_CAT_MALWARE, "executable-in-zip");
    classify(BIT(RULES_BULK_MARKERS), false, 70, 70, RULES_CAT_BULK, "");
    classify(BIT(RULES_BULK_MARKERS), false, 97, 97, RULES_CAT_SPAM, "");
    /* The phishing head alone names phishing only from 96 up: below it a
     * newsletter or alert with a phish-like head would be labelled
     * phishing (bulk below 96 with bulk markers, else spam). */
    classify(BIT(RULES_BULK_MARKERS), true, 70, 70, RULES_CAT_BULK, "");
    classify(0, true, 95, 95, RULES_CAT_SPAM, "");
    classify(0, true, 96, 96, RULES_CAT_PHISHING, "");
    classify(BIT(RULES_BULK_MARKERS), true, 97, 97, RULES_CAT_PHISHING, "");
    classify(BIT(RULES_DECEPTIVE_LINK), true, 90, 90, RULES_CAT_PHISHING,
             "deceptive-link");
    classify(0, false, 90, 90, RULES_CAT_SPAM, "");
    /* A category-only rule names phishing over bulk, never below 50 and
     * never raises the score. */
    classify(BIT(RULES_AUTH_FAILED) | BIT(RULES_BULK_MARKERS), false, 70, 70,
             RULES_CAT_PHISHING, "auth-failed");
    classify(BIT(RULES_HIDDEN_LINK), false, 30, 30, RULES_CAT_LEGIT, "");
    assert_true(rules_is_category_only(RULES_RECIPIENT_NAMED));
    assert_true(rules_is_category_only(RULES_MIXED_SCRIPT_TEXT));
    assert_false(rules_is_category_only(RULES_LOOKALIKE_DOMAIN));
    rules_describe(rules_builtin(),
                   BIT(RULES_LOOKALIKE_DOMAIN) | BIT(RULES_CREDENTIAL_FORM),
                   false, a, sizeof(a));
    assert_string_equal(a, "f=1 rules=lookalike-domain,credential-form");
    a[3] = '\0';
    rules_describe(rules_builtin(), BIT(RULES_LOOKALIKE_DOMAIN), true, a,
                   sizeof(a));
    assert_string_equal(a, "f=1 rulew=lookalike-domain:+0.00");
    /* Never half an entry. */
    a[3] = '\0';
    rules_describe(rules_builtin(), BIT(RULES_LOOKALIKE_DOMAIN), false, a, 12);
    assert_string_equal(a, "f=1");
    /* An entry that just fits (with its terminator), and one byte less. */
    rules_describe(rules_builtin(), BIT(RULES_LOOKALIKE_DOMAIN), false, a,
                   sizeof("f=1 rules=lookalike-domain"));
    assert_string_equal(a, "f=1 rules=lookalike-domain");
    a[3] = '\0';
    rules_describe(rules_builtin(), BIT(RULES_LOOKALIKE_DOMAIN), false, a,
                   sizeof("f=1 rules=lookalike-domain") - 1);
    assert_string_equal(a, "f=1");
}

static uint32_t
lookalike_from(const struct rules *r, const char *from)
{
    return detect_with_from(r, from) & BIT(RULES_LOOKALIKE_DOMAIN);
}

static void
test_lookalike_spares_mailbox_providers(void **state)
{
    static const char *const doms[] = {"gmail.com"};
    static const bool brand[] = {true};
    struct rules *r = with_domains(doms, brand, 1);

    (void)state;
    /* mail.com and email.com are one edit from gmail.com and are real
     * free mailboxes of their own: their users' mail imitates nothing. */
    assert_int_equal(lookalike_from(r, "Bob <bob@mail.com>"), 0);
    assert_int_equal(lookalike_from(r, "bob@email.com"), 0);
    assert_int_equal(detect(r, "From: a@shop.example\r\nSubject: s\r\n"
                               "Content-Type: text/html\r\n\r\n"
                               "<a href=\"https://www.mail.com/\">x</a>\r\n") &
                         BIT(RULES_LOOKALIKE_DOMAIN),
                     0);
    /* A name one edit from the brand that is no provider still is. */
    assert_int_equal(lookalike_from(r, "bob@gmaill.com"),
                     BIT(RULES_LOOKALIKE_DOMAIN));
    assert_int_equal(lookalike_from(r, "bob@qmail.com"),
                     BIT(RULES_LOOKALIKE_DOMAIN));
    /* k for g is no slip of the eye: another name. */
    assert_int_equal(lookalike_from(r, "bob@kmail.com"), 0);
    rules_free(r);
}

/* "https://www.paypal.com@evil.example/" goes to evil.example, and the
 * reader sees www.paypal.com: a protected host as the userinfo of a
 * link to another site is a lure. */
static void
test_lookalike_userinfo_host(void **state)
{
    static const char *const doms[] = {"paypal.com"};
    static const bool brand[] = {true};
    static const struct {
        const char *href;
        bool fires;
    } cases[] = {
        {"https://www.paypal.com@evil.example/", true},
        {"https://PayPal.com:secure@evil.example/login", true},
        {"http://paypa1.com@evil.example/", true},
        {"https://www.paypal.com@www.paypal.com/", false},
        {"https://user@evil.example/", false},
        {"ftp://anonymous:guest@ftp.example.org/", false},
    };
    struct rules *r = with_domains(doms, brand, 1);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char m[512];
        uint32_t got;

        snprintf(m, sizeof(m),
                 "From: a@shop.example\r\nSubject: s\r\n"
                 "Content-Type: text/html\r\n\r\n"
                 "<a href=\"%s\">account</a>\r\n",
                 cases[i].href);
        got = detect(r, m) & BIT(RULES_LOOKALIKE_DOMAIN);
        if (got != (cases[i].fires ? BIT(RULES_LOOKALIKE_DOMAIN) : 0u)) {
            fail_msg("%s: lookalike-domain %s", cases[i].href,
                     got != 0 ? "fired" : "did not fire");
        }
    }
    rules_free(r);
}

/* "(support@paypal.com) x@evil.example": the address in the comment
 * before the mailbox is the name's; the mail comes from evil.example,
 * so the brand in the name is claimed falsely, as with the name first
 * and the comment after. */
static void
test_brand_name_comment_first(void **state)
{
    const uint32_t bit = BIT(RULES_BRAND_DISPLAY_NAME);
    struct rules *r = with_protected();

    (void)state;
    assert_int_equal(detect_with_from(r, "(PayPal) x@evil.example") & bit,
                     bit);
    assert_int_equal(
        detect_with_from(r, "(support@paypal.com) x@evil.example") & bit,
        bit);
    assert_int_equal(
        detect_with_from(r, "(support@paypal.com) x@paypal.com") & bit, 0);
    rules_free(r);
}

/* rules_angle_addr_offset (memchr from '<' to '<') against a walk back
 * from the end: the offset after the last '<', 0 without one, on edge
 * values and 20,000 pseudo-random ones, each at the end of its own
 * allocation. */
static size_t
ref_angle_addr_offset(const char *v, size_t len)
{
    for (size_t i = len; i > 0; i--) {
        if (v[i - 1] == '<') {
            return i;
        }
    }
    return 0;
}

static void
check_angle(const char *v, size_t len)
{
    char *q = malloc(len > 0 ? len : 1);

    assert_non_null(q);
    memcpy(q, v, len);
    assert_int_equal(rules_angle_addr_offset(q, len),
                     ref_angle_addr_offset(q, len));
    free(q);
}

static void
test_angle_addr_offset(void **state)
{
    static const char *const edges[] = {"", "<", "<<", "a<", "<a", "a",
                                        "A <a@b.c>", "\"x <y@z>\" <a@b>",
                                        "no angle@x.example", ">", "<>"};
    static const char alphabet[] = "<>@ a.\"(),";
    uint32_t r = 0x1234567u;
    char v[80];

    (void)state;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        check_angle(edges[i], strlen(edges[i]));
    }
    for (int round = 0; round < 20000; round++) {
        size_t len;

        r = r * 1103515245u + 12345u;
        len = (r >> 16) % sizeof(v);
        for (size_t i = 0; i < len; i++) {
            r = r * 1103515245u + 12345u;
            v[i] = alphabet[(r >> 16) % (sizeof(alphabet) - 1)];
        }
        check_angle(v, len);
    }
}

/* rules_header_domain's stop table against the compares it replaced:
 * the From domain "x" + byte + "y.example" for every printable byte
 * (and tab) ends at the byte exactly when one of them names it, and
 * comes back lower-cased. */
static void
test_header_domain_stops(void **state)
{
    (void)state;
    for (unsigned c = 0x09; c < 0x7f; c++) {
        char m[256];
        char dom[64];
        struct parsed p;
        bool stop = c == '>' || c == ' ' || c == '\t' || c == ',' ||
                    c == ';' || c == '"' || c == ')' || c == '(';
        size_t n;

        if (c > 0x09 && c < 0x20) {
            continue;
        }
        snprintf(m, sizeof(m),
                 "From: a@X%cY.Example\r\nSubject: s\r\n\r\nhi\r\n",
                 (int)c);
        parse_msg(&p, m);
        n = rules_header_domain(&p.doc, "From", dom, sizeof(dom));
        parsed_free(&p);
        if (stop) {
            assert_string_equal(dom, "x");
            assert_int_equal(n, 1);
        } else if (c != '@' && c != '<') {
            char want[32];

            snprintf(want, sizeof(want), "x%cy.example",
                     (int)(c >= 'A' && c <= 'Z' ? c + 32 : c));
            assert_string_equal(dom, want);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_unknown_ids_skipped_missing_kept),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_format_refuses),
        cmocka_unit_test(test_detect_attachments),
        cmocka_unit_test(test_detect_attachment_other_name),
        cmocka_unit_test(test_detect_zip_over_member_cap),
        cmocka_unit_test(test_detect_rar_and_gzip),
        cmocka_unit_test(test_detect_html_body_is_not_attachment),
        cmocka_unit_test(test_detect_forms_links_names),
        cmocka_unit_test(test_lookalike_spares_mailbox_providers),
        cmocka_unit_test(test_lookalike_userinfo_host),
        cmocka_unit_test(test_brand_name_comment_first),
        cmocka_unit_test(test_detect_auth_failed),
        cmocka_unit_test(test_detect_hidden_link),
        cmocka_unit_test(test_is_freemail),
        cmocka_unit_test(test_detect_reply_to_freemail),
        cmocka_unit_test(test_detect_brand_display_name),
        cmocka_unit_test(test_detect_recipient_named),
        cmocka_unit_test(test_detect_recipient_named_long_address),
        cmocka_unit_test(test_detect_mixed_script_text),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_angle_addr_offset),
        cmocka_unit_test(test_header_domain_stops),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
