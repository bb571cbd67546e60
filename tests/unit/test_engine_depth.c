/*
 * test_engine_depth.c -- engine phase 8: campaign fingerprints (body,
 * attachment, URL) from a cartridge's FINGERPRINTS section, and
 * executables inside zip attachments.  The cartridge is the embedded
 * default with a section added in the test; messages are synthetic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cartridge.h"
#include "engine.h"
#include "fingerprint.h"

static const char campaign_fmt[] =
    "Dear %s,\n\nWe are pleased to inform you that your account has been "
    "selected for a special reward of $%u. To claim the reward please "
    "follow the secure link below and confirm your details within the next "
    "two days, otherwise the offer will expire and the funds will be "
    "returned to the pool of unclaimed prizes.\n\nThank you for being a "
    "valued member of our community. Kind regards, the rewards team.\n";

static const uint8_t payload[] = "MZ\x90\x00 not really a program";
/* A campaign's attachment known as spam only (a lower rank than the
 * malware URL that may come with it). */
static const uint8_t spam_payload[] = "a flyer every copy of the campaign has";
static const char malware_url[] = "http://dropper.example/get?f=1";
/* An entry a cartridge weighs below the legit line (a weak campaign). */
static const uint8_t weak_payload[] = "bytes a weak entry knows";

struct fx {
    struct cartridge *with_fp;
    struct cartridge *plain;
    struct engine_scratch *s;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    const uint8_t *p = NULL;
    size_t len = 0;
    struct buf img;
    struct buf sec;
    struct fingerprint_entry e[6];
    char text[2048];
    const char *why = NULL;
    const char *url = "http://rewards.example/claim?id=1";

    assert_non_null(f);
    memset(e, 0, sizeof(e));
    snprintf(text, sizeof(text), campaign_fmt, "John", 500u);
    e[0].kind = FINGERPRINT_BODY;
    e[0].category = FINGERPRINT_CAT_SPAM;
    e[0].weight = 97;
    snprintf(e[0].sub, sizeof(e[0].sub), "campaign");
    assert_true(fingerprint_sig_compute(text, strlen(text), &e[0].sig));
    e[1].kind = FINGERPRINT_ATTACHMENT;
    e[1].category = FINGERPRINT_CAT_MALWARE;
    e[1].weight = 99;
    snprintf(e[1].sub, sizeof(e[1].sub), "known-attachment");
    assert_true(fingerprint_digest(payload, sizeof(payload) - 1,
                                   e[1].digest));
    e[2].kind = FINGERPRINT_URL;
    e[2].category = FINGERPRINT_CAT_PHISHING;
    e[2].weight = 98;
    assert_true(fingerprint_url_digest(url, strlen(url), e[2].digest));
    e[3].kind = FINGERPRINT_ATTACHMENT;
    e[3].category = FINGERPRINT_CAT_SPAM;
    e[3].weight = 96;
    snprintf(e[3].sub, sizeof(e[3].sub), "flyer");
    assert_true(fingerprint_digest(spam_payload, sizeof(spam_payload) - 1,
                                   e[3].digest));
    e[4].kind = FINGERPRINT_URL;
    e[4].category = FINGERPRINT_CAT_MALWARE;
    e[4].weight = 99;
    snprintf(e[4].sub, sizeof(e[4].sub), "dropper");
    assert_true(fingerprint_url_digest(malware_url, strlen(malware_url),
                                       e[4].digest));
    e[5].kind = FINGERPRINT_ATTACHMENT;
    e[5].category = FINGERPRINT_CAT_SPAM;
    e[5].weight = 30;
    snprintf(e[5].sub, sizeof(e[5].sub), "weak");
    assert_true(fingerprint_digest(weak_payload, sizeof(weak_payload) - 1,
                                   e[5].digest));
    buf_init(&sec, 1u << 16);
    assert_int_equal(fingerprint_db_format(e, 6, FINGERPRINT_MATCH_MIN, &sec),
                     CM_OK);
    cartridge_default_image(&p, &len);
    assert_true(len > 0);
    buf_init(&img, 256u * 1024u * 1024u);
    assert_int_equal(buf_append(&img, p, len), CM_OK);
    assert_int_equal(cartridge_image_add_section(
                         &img, CARTRIDGE_SEC_FINGERPRINTS, sec.data, sec.len),
                     CM_OK);
    assert_int_equal(cartridge_load(img.data, img.len, &f->with_fp, &why),
                     CM_OK);
    assert_int_equal(cartridge_load(p, len, &f->plain, &why), CM_OK);
    f->s = engine_scratch_new();
    assert_non_null(f->s);
    buf_clear(&img);
    buf_clear(&sec);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    engine_scratch_free(f->s);
    cartridge_unref(f->with_fp);
    cartridge_unref(f->plain);
    free(f);
    return 0;
}

static struct verdict
score(const struct cartridge *c, struct engine_scratch *s, const char *msg)
{
    struct message m;
    struct verdict v;

    m.data = (const uint8_t *)msg;
    m.len = strlen(msg);
    m.env = NULL;
    m.is_truncated = false;
    assert_int_equal(engine_score(c, NULL, &m, NULL, s, &v), CM_OK);
    return v;
}

/* A message with a text/plain body and one base64 attachment (data may
 * be NULL for none). */
static char *
message(const char *body, const char *att_name, const uint8_t *att,
        size_t att_len)
{
    size_t max = 8192 + strlen(body) + att_len * 2;
    char *m = malloc(max);
    int n;

    assert_non_null(m);
    n = snprintf(m, max,
                 "From: Rewards <team@rewards.example>\r\n"
                 "To: someone@example.org\r\n"
                 "Subject: your reward\r\n"
                 "MIME-Version: 1.0\r\n"
                 "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                 "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                 "%s\r\n",
                 body);
    assert_true(n > 0 && (size_t)n < max);
    if (att != NULL) {
        unsigned char *b64 = malloc(att_len * 2 + 8);
        int bl;

        assert_non_null(b64);
        bl = EVP_EncodeBlock(b64, att, (int)att_len);
        n += snprintf(m + n, max - (size_t)n,
                      "--b1\r\nContent-Type: application/octet-stream; "
                      "name=\"%s\"\r\nContent-Disposition: attachment; "
                      "filename=\"%s\"\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n%.*s\r\n",
                      att_name, att_name, bl, (const char *)b64);
        free(b64);
    }
    snprintf(m + n, max - (size_t)n, "--b1--\r\n");
    return m;
}

static void
put(struct buf *b, uint32_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(buf_putc(b, (uint8_t)(v >> (8 * i))), CM_OK);
    }
}

/* A stored zip with one empty member (local header, directory, end). */
static void
one_member_zip_n(struct buf *b, const char *name, size_t nl)
{
    size_t cd;

    buf_reset(b);
    put(b, 0x04034b50u, 4);
    put(b, 20, 2);
    put(b, 0, 2);
    put(b, 0, 2);
    put(b, 0, 4);
    put(b, 0, 4);
    put(b, 0, 4);
    put(b, 0, 4);
    put(b, (uint32_t)nl, 2);
    put(b, 0, 2);
    assert_int_equal(buf_append(b, name, nl), CM_OK);
    cd = b->len;
    put(b, 0x02014b50u, 4);
    put(b, 20, 2);
    put(b, 20, 2);
    put(b, 0, 2); /* flags */
    put(b, 0, 2); /* method */
    put(b, 0, 4); /* time, date */
    put(b, 0, 4); /* crc */
    put(b, 0, 4); /* compressed size */
    put(b, 0, 4); /* size */
    put(b, (uint32_t)nl, 2);
    put(b, 0, 2);
    put(b, 0, 2);
    put(b, 0, 2);
    put(b, 0, 2);
    put(b, 0, 4);
    put(b, 0, 4);
    assert_int_equal(buf_append(b, name, nl), CM_OK);
    put(b, 0x06054b50u, 4);
    put(b, 0, 4);
    put(b, 1, 2);
    put(b, 1, 2);
    put(b, (uint32_t)(b->len - cd - 12), 4);
    put(b, (uint32_t)cd, 4);
    put(b, 0, 2);
}

static void
one_member_zip(struct buf *b, const char *name)
{
    one_member_zip_n(b, name, strlen(name));
}

static void
test_engine_depth_body_fingerprint(void **state)
{
    struct fx *f = *state;
    char body[2048];
    char *m;
    struct verdict v;

    /* Another copy of the campaign: name and amount changed. */
    snprintf(body, sizeof(body), campaign_fmt, "Mary", 750u);
    m = message(body, NULL, NULL, 0);
    v = score(f->with_fp, f->s, m);
    assert_true(v.score >= 97);
    assert_non_null(strstr(v.analysis, "fp=body:spam:campaign"));
    assert_true(v.category == ENGINE_CAT_SPAM ||
                v.category == ENGINE_CAT_PHISHING ||
                v.category == ENGINE_CAT_MALWARE);
    if (v.category == ENGINE_CAT_SPAM) {
        assert_string_equal(v.subcategory_name, "campaign");
    }
    /* No section, no fingerprint. */
    v = score(f->plain, f->s, m);
    assert_null(strstr(v.analysis, "fp="));
    free(m);
    /* A short text of the campaign gets no signature. */
    m = message("Dear Mary, we are pleased to inform you that your account "
                "has been selected.", NULL, NULL, 0);
    v = score(f->with_fp, f->s, m);
    assert_null(strstr(v.analysis, "fp="));
    free(m);
}

static void
test_engine_depth_digests(void **state)
{
    struct fx *f = *state;
    char *m;
    struct verdict v;
    const uint8_t other[] = "some other bytes";

    m = message("see attached", "notes.dat", payload, sizeof(payload) - 1);
    v = score(f->with_fp, f->s, m);
    assert_int_equal(v.category, ENGINE_CAT_MALWARE);
    assert_true(v.score >= 99);
    assert_string_equal(v.subcategory_name, "known-attachment");
    assert_non_null(strstr(v.analysis, "fp=attachment:malware"));
    free(m);
    m = message("see attached", "notes.dat", other, sizeof(other) - 1);
    v = score(f->with_fp, f->s, m);
    assert_null(strstr(v.analysis, "fp="));
    free(m);
    /* The URL, with tracking parameters and a fragment added. */
    m = message("Log in at https://REWARDS.example/claim?id=1&utm_source=m"
                "#now today.",
                NULL, NULL, 0);
    v = score(f->with_fp, f->s, m);
    assert_true(v.score >= 98);
    assert_true(v.category == ENGINE_CAT_PHISHING ||
                v.category == ENGINE_CAT_MALWARE);
    assert_non_null(strstr(v.analysis, "fp=url:phishing"));
    free(m);
    m = message("Log in at https://rewards.example/claim?id=2 today.", NULL,
                NULL, 0);
    v = score(f->with_fp, f->s, m);
    assert_null(strstr(v.analysis, "fp="));
    free(m);
}

/* Several digests hit: the highest ranked category decides (malware >
 * phishing > spam), and the score is that entry's weight, whatever the
 * order the attachments and URLs come in. */
static void
test_engine_depth_digest_ranking(void **state)
{
    struct fx *f = *state;
    char body[256];
    char *m;
    struct verdict v;

    snprintf(body, sizeof(body), "Get the tool at %s now.", malware_url);
    m = message(body, "flyer.dat", spam_payload, sizeof(spam_payload) - 1);
    v = score(f->with_fp, f->s, m);
    assert_int_equal(v.category, ENGINE_CAT_MALWARE);
    assert_string_equal(v.subcategory_name, "dropper");
    assert_true(v.score >= 99);
    assert_non_null(strstr(v.analysis, "fp=url:malware:dropper"));
    free(m);
    /* The spam attachment alone still counts. */
    m = message("see attached", "flyer.dat", spam_payload,
                sizeof(spam_payload) - 1);
    v = score(f->with_fp, f->s, m);
    assert_non_null(strstr(v.analysis, "fp=attachment:spam:flyer"));
    assert_true(v.score >= 96);
    free(m);
}

/* A hit that leaves the score below the legit line raises the score but
 * does not name a legit message spam (score < 50 is legit, as the
 * classifier and a reputation block have it). */
static void
test_engine_depth_weak_hit_keeps_legit(void **state)
{
    struct fx *f = *state;
    unsigned char b64[128];
    char m[2048];
    struct verdict v;
    int bl = EVP_EncodeBlock(b64, weak_payload,
                             (int)(sizeof(weak_payload) - 1));

    snprintf(m, sizeof(m),
             "From: Bob Smith <bob@example.org>\r\n"
             "To: Anna Jones <anna@example.org>\r\n"
             "Subject: Re: minutes of Tuesday's meeting\r\n"
             "Date: Tue, 3 Mar 2026 10:00:00 +0000\r\n"
             "Message-ID: <1234@mail.example.org>\r\n"
             "In-Reply-To: <1200@mail.example.org>\r\n"
             "MIME-Version: 1.0\r\n"
             "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
             "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
             "Hi Anna,\r\n\r\nthe minutes are attached, as promised. "
             "I moved the budget item to next week.\r\n\r\nBob\r\n"
             "--b1\r\nContent-Type: application/octet-stream; "
             "name=\"minutes.dat\"\r\nContent-Disposition: attachment; "
             "filename=\"minutes.dat\"\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n%.*s\r\n"
             "--b1--\r\n",
             bl, (const char *)b64);
    v = score(f->plain, f->s, m);
    assert_true(v.score < 30);
    assert_int_equal(v.category, ENGINE_CAT_LEGIT);
    v = score(f->with_fp, f->s, m);
    assert_non_null(strstr(v.analysis, "fp=attachment:spam:weak"));
    assert_int_equal(v.score, 30);
    assert_int_equal(v.category, ENGINE_CAT_LEGIT);
    assert_string_equal(v.category_name, "legit");
    assert_string_not_equal(v.subcategory_name, "weak");
}

static void
test_engine_depth_zip(void **state)
{
    struct fx *f = *state;
    struct buf zip;
    char *m;
    struct verdict v;

    buf_init(&zip, 1u << 16);
    one_member_zip(&zip, "scan_0042.pdf.exe");
    m = message("Please see the scanned document.", "scan.zip", zip.data,
                zip.len);
    v = score(f->plain, f->s, m);
    assert_int_equal(v.category, ENGINE_CAT_MALWARE);
    assert_true(v.score >= 99);
    assert_string_equal(v.subcategory_name, "executable-in-zip");
    assert_non_null(strstr(v.analysis, "rules=executable-in-zip"));
    free(m);
    /* Named like something else: the bytes say zip. */
    m = message("Please see the scanned document.", "scan.pdf", zip.data,
                zip.len);
    v = score(f->plain, f->s, m);
    assert_string_equal(v.subcategory_name, "executable-in-zip");
    free(m);
    /* A NUL in the member name: tools that end the name there unpack
     * an executable. */
    one_member_zip_n(&zip, "scan_0042.exe\0.pdf", 18);
    m = message("Please see the scanned document.", "scan.zip", zip.data,
                zip.len);
    v = score(f->plain, f->s, m);
    assert_string_equal(v.subcategory_name, "executable-in-zip");
    free(m);
    /* Harmless members: no malware. */
    one_member_zip(&zip, "scan_0042.pdf");
    m = message("Please see the scanned document.", "scan.zip", zip.data,
                zip.len);
    v = score(f->plain, f->s, m);
    assert_int_not_equal(v.category, ENGINE_CAT_MALWARE);
    assert_null(strstr(v.analysis, "executable-in-zip"));
    free(m);
    buf_clear(&zip);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_engine_depth_body_fingerprint,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_depth_digests, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_engine_depth_digest_ranking,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_depth_weak_hit_keeps_legit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_depth_zip, setup,
                                        teardown),
    };

    return cmocka_run_group_tests_name("engine_depth", tests, NULL, NULL);
}
