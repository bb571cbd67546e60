/*
 * test_updkeys.c -- unit tests for updkeys: generation and key ids, key
 * file text (round trip, every refusal, caps), files and modes, SHA-256,
 * Ed25519 sign and verify, hex.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "caps.h"
#include "updkeys.h"

struct fixture {
    struct updkeys_key secret;
    struct updkeys_key pub;
    struct updkeys_key content;
    char dir[64];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    if (updkeys_generate(&f->secret, &f->pub, &f->content) != CM_OK) {
        free(f);
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_updkeys.XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        return -1;
    }
    free(f);
    return 0;
}

static void
ring_of(struct updkeys_ring *r, const struct updkeys_key *k)
{
    memset(r, 0, sizeof(*r));
    r->kind = k->kind;
    r->n_keys = 1;
    r->keys[0] = *k;
}

static void
test_updkeys_generate_ids(void **state)
{
    struct fixture *f = *state;
    struct updkeys_key again;
    struct updkeys_key s2;
    struct updkeys_key p2;
    struct updkeys_key c2;
    uint8_t digest[32];

    assert_int_equal(f->secret.kind, UPDKEYS_SIGNING_SECRET);
    assert_int_equal(f->pub.kind, UPDKEYS_SIGNING_PUBLIC);
    assert_int_equal(f->content.kind, UPDKEYS_CONTENT);
    /* a secret is named by its public key's id */
    assert_memory_equal(f->secret.id, f->pub.id, UPDKEYS_ID_LEN);
    /* public id = first 8 bytes of SHA-256(public key) */
    assert_int_equal(updkeys_sha256(f->pub.key, 32, digest), CM_OK);
    assert_memory_equal(f->pub.id, digest, UPDKEYS_ID_LEN);
    assert_int_equal(updkeys_public_of(&f->secret, &again), CM_OK);
    assert_memory_equal(&again.key, f->pub.key, UPDKEYS_KEY_LEN);
    assert_int_equal(updkeys_public_of(&f->pub, &again), CM_EINVAL);
    /* fresh keys every time */
    assert_int_equal(updkeys_generate(&s2, &p2, &c2), CM_OK);
    assert_memory_not_equal(s2.key, f->secret.key, UPDKEYS_KEY_LEN);
    assert_memory_not_equal(c2.key, f->content.key, UPDKEYS_KEY_LEN);
    assert_memory_not_equal(c2.id, f->content.id, UPDKEYS_ID_LEN);
    updkeys_key_wipe(&s2);
    updkeys_key_wipe(&c2);
    for (size_t i = 0; i < sizeof(s2); i++) {
        assert_int_equal(((uint8_t *)&s2)[i], 0);
    }
}

static void
test_updkeys_format_parse_round_trip(void **state)
{
    struct fixture *f = *state;
    const struct updkeys_key *keys[3] = {&f->secret, &f->pub, &f->content};

    for (size_t i = 0; i < 3; i++) {
        struct updkeys_ring r;
        struct updkeys_ring back;
        struct buf b;

        ring_of(&r, keys[i]);
        buf_init(&b, 4096);
        assert_int_equal(updkeys_format(&r, &b), CM_OK);
        assert_int_equal(updkeys_parse(b.data, b.len, keys[i]->kind, &back,
                                       NULL, NULL),
                         CM_OK);
        assert_int_equal(back.n_keys, 1);
        assert_memory_equal(&back.keys[0], keys[i], sizeof(*keys[i]));
        assert_ptr_equal(updkeys_find(&back, keys[i]->id), &back.keys[0]);
        buf_clear(&b);
    }
}

static void
test_updkeys_parse_comments_crlf_and_several(void **state)
{
    struct fixture *f = *state;
    struct updkeys_key s2;
    struct updkeys_key p2;
    struct updkeys_key c2;
    struct updkeys_ring r;
    struct buf b;
    char id[17];
    char key[65];

    assert_int_equal(updkeys_generate(&s2, &p2, &c2), CM_OK);
    buf_init(&b, 4096);
    buf_puts(&b, "# rotation: new key first\r\n\r\n");
    updkeys_hex(p2.id, 8, id);
    updkeys_hex(p2.key, 32, key);
    buf_printf(&b, "ed25519-public %s %s\r\n", id, key);
    updkeys_hex(f->pub.id, 8, id);
    updkeys_hex(f->pub.key, 32, key);
    buf_printf(&b, "ed25519-public %s %s", id, key); /* no final newline */
    assert_int_equal(updkeys_parse(b.data, b.len, UPDKEYS_SIGNING_PUBLIC, &r,
                                   NULL, NULL),
                     CM_OK);
    assert_int_equal(r.n_keys, 2);
    assert_non_null(updkeys_find(&r, f->pub.id));
    assert_non_null(updkeys_find(&r, p2.id));
    assert_null(updkeys_find(&r, f->content.id));
    buf_clear(&b);
}

/* Expect updkeys_parse of text to fail with rc at line. */
static void
expect_refused(const char *text, enum updkeys_kind kind, enum cm_err rc,
               size_t line)
{
    struct updkeys_ring r;
    size_t at = 99;
    const char *why = NULL;

    r.n_keys = 7;
    assert_int_equal(updkeys_parse((const uint8_t *)text, strlen(text), kind,
                                   &r, &at, &why),
                     rc);
    assert_non_null(why);
    assert_int_equal(at, line);
    assert_int_equal(r.n_keys, 0);
}

static void
test_updkeys_parse_refusals(void **state)
{
    struct fixture *f = *state;
    char line[256];
    char text[1024];
    char id[17];
    char key[65];

    updkeys_hex(f->pub.id, 8, id);
    updkeys_hex(f->pub.key, 32, key);
    /* nothing */
    expect_refused("", UPDKEYS_SIGNING_PUBLIC, CM_EPARSE, 0);
    expect_refused("# only a comment\n", UPDKEYS_SIGNING_PUBLIC, CM_EPARSE,
                   0);
    /* a public key where a content key is expected */
    snprintf(line, sizeof(line), "ed25519-public %s %s\n", id, key);
    expect_refused(line, UPDKEYS_CONTENT, CM_EPARSE, 1);
    /* id that does not match the key */
    snprintf(line, sizeof(line), "ed25519-public %s %s\n", id, key);
    line[15] = line[15] == '0' ? '1' : '0';
    expect_refused(line, UPDKEYS_SIGNING_PUBLIC, CM_EPARSE, 1);
    /* damaged key byte */
    snprintf(line, sizeof(line), "ed25519-public %s %s\n", id, key);
    line[40] = line[40] == '0' ? '1' : '0';
    expect_refused(line, UPDKEYS_SIGNING_PUBLIC, CM_EPARSE, 1);
    /* not hex, short key, two spaces, trailing space */
    snprintf(line, sizeof(line), "ed25519-public %s %.63sg\n", id, key);
    expect_refused(line, UPDKEYS_SIGNING_PUBLIC, CM_EPARSE, 1);
    snprintf(line, sizeof(line), "ed25519-public %s %.62s\n", id, key);
    expect_refused(line, UPDKEYS_SIGNING_PUBLIC, CM_EPARSE, 1);
    snprintf(line, sizeof(line), "ed25519-public  %s %s\n", id, key);
    expect_refused(line, UPDKEYS_SIGNING_PUBLIC, CM_EPARSE, 1);
    snprintf(line, sizeof(line), "ed25519-public %s %s \n", id, key);
    expect_refused(line, UPDKEYS_SIGNING_PUBLIC, CM_EPARSE, 1);
    /* the same key twice, at line 3 */
    snprintf(text, sizeof(text),
             "ed25519-public %s %s\n#\ned25519-public %s %s\n", id, key, id,
             key);
    expect_refused(text, UPDKEYS_SIGNING_PUBLIC, CM_EPARSE, 3);
}

static void
test_updkeys_parse_caps(void **state)
{
    struct updkeys_ring r;
    struct buf b;
    char id[17];
    char key[65];
    size_t at = 0;

    (void)state;
    buf_init(&b, 64 * 1024);
    /* exactly CAPS_UPDKEYS_RING_MAX keys load */
    for (size_t i = 0; i < CAPS_UPDKEYS_RING_MAX + 1; i++) {
        struct updkeys_key s;
        struct updkeys_key p;
        struct updkeys_key c;
        assert_int_equal(updkeys_generate(&s, &p, &c), CM_OK);
        updkeys_hex(c.id, 8, id);
        updkeys_hex(c.key, 32, key);
        if (i == CAPS_UPDKEYS_RING_MAX) {
            assert_int_equal(updkeys_parse(b.data, b.len, UPDKEYS_CONTENT,
                                           &r, NULL, NULL),
                             CM_OK);
            assert_int_equal(r.n_keys, CAPS_UPDKEYS_RING_MAX);
        }
        buf_printf(&b, "aes256-content %s %s\n", id, key);
    }
    /* one more is refused */
    assert_int_equal(updkeys_parse(b.data, b.len, UPDKEYS_CONTENT, &r, &at,
                                   NULL),
                     CM_ELIMIT);
    assert_int_equal(at, CAPS_UPDKEYS_RING_MAX + 1);
    buf_reset(&b);
    /* file size: at the cap parsed (comments), cap + 1 refused */
    while (b.len + 80 < CAPS_UPDKEYS_FILE_MAX_BYTES) {
        buf_puts(&b, "# padding padding padding padding padding padding "
                     "padding padding padding\n");
    }
    while (b.len < CAPS_UPDKEYS_FILE_MAX_BYTES - 1) {
        buf_putc(&b, '#');
    }
    buf_putc(&b, '\n');
    assert_int_equal(b.len, CAPS_UPDKEYS_FILE_MAX_BYTES);
    assert_int_equal(updkeys_parse(b.data, b.len, UPDKEYS_CONTENT, &r, NULL,
                                   NULL),
                     CM_EPARSE); /* within the cap, but no key */
    buf_putc(&b, '\n');
    assert_int_equal(updkeys_parse(b.data, b.len, UPDKEYS_CONTENT, &r, NULL,
                                   NULL),
                     CM_ELIMIT);
    buf_clear(&b);
}

static void
test_updkeys_save_load_modes(void **state)
{
    struct fixture *f = *state;
    struct updkeys_ring r;
    struct updkeys_ring back;
    struct stat st;
    char path[128];

    snprintf(path, sizeof(path), "%s/signing.key", f->dir);
    ring_of(&r, &f->secret);
    assert_int_equal(updkeys_save(path, &r, false), CM_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* no silent overwrite */
    assert_int_equal(updkeys_save(path, &r, false), CM_EINVAL);
    assert_int_equal(updkeys_save(path, &r, true), CM_OK);
    assert_int_equal(updkeys_load(path, UPDKEYS_SIGNING_SECRET, &back, NULL,
                                  NULL),
                     CM_OK);
    assert_memory_equal(back.keys[0].key, f->secret.key, 32);
    updkeys_ring_clear(&back);
    assert_int_equal(back.n_keys, 0);

    snprintf(path, sizeof(path), "%s/signing.pub", f->dir);
    ring_of(&r, &f->pub);
    assert_int_equal(updkeys_save(path, &r, false), CM_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0644, 0644);

    snprintf(path, sizeof(path), "%s/content.key", f->dir);
    ring_of(&r, &f->content);
    assert_int_equal(updkeys_save(path, &r, false), CM_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(updkeys_load(path, UPDKEYS_CONTENT, &back, NULL, NULL),
                     CM_OK);

    snprintf(path, sizeof(path), "%s/missing.key", f->dir);
    assert_int_equal(updkeys_load(path, UPDKEYS_CONTENT, &back, NULL, NULL),
                     CM_ENOENT);
    assert_int_equal(updkeys_load(f->dir, UPDKEYS_CONTENT, &back, NULL, NULL),
                     CM_ENOTREG);
}

static void
test_updkeys_sign_verify(void **state)
{
    struct fixture *f = *state;
    struct updkeys_key s2;
    struct updkeys_key p2;
    struct updkeys_key c2;
    uint8_t msg[100];
    uint8_t sig[64];

    for (size_t i = 0; i < sizeof(msg); i++) {
        msg[i] = (uint8_t)(i * 7);
    }
    assert_int_equal(updkeys_sign(&f->secret, msg, sizeof(msg), sig), CM_OK);
    assert_int_equal(updkeys_verify(&f->pub, msg, sizeof(msg), sig), CM_OK);
    /* empty message signs too */
    assert_int_equal(updkeys_sign(&f->secret, msg, 0, sig), CM_OK);
    assert_int_equal(updkeys_verify(&f->pub, msg, 0, sig), CM_OK);
    assert_int_equal(updkeys_sign(&f->secret, msg, sizeof(msg), sig), CM_OK);
    msg[50] ^= 1;
    assert_int_equal(updkeys_verify(&f->pub, msg, sizeof(msg), sig), CM_ESIG);
    msg[50] ^= 1;
    sig[10] ^= 0x80;
    assert_int_equal(updkeys_verify(&f->pub, msg, sizeof(msg), sig), CM_ESIG);
    sig[10] ^= 0x80;
    assert_int_equal(updkeys_generate(&s2, &p2, &c2), CM_OK);
    assert_int_equal(updkeys_verify(&p2, msg, sizeof(msg), sig), CM_ESIG);
    /* wrong kinds */
    assert_int_equal(updkeys_sign(&f->pub, msg, sizeof(msg), sig), CM_EINVAL);
    assert_int_equal(updkeys_verify(&f->secret, msg, sizeof(msg), sig),
                     CM_EINVAL);
    updkeys_key_wipe(&s2);
}

static void
test_updkeys_hex_and_sha256(void **state)
{
    static const uint8_t abc_sha[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    uint8_t d[32];
    uint8_t out[4];
    char hex[9];

    (void)state;
    assert_int_equal(updkeys_sha256((const uint8_t *)"abc", 3, d), CM_OK);
    assert_memory_equal(d, abc_sha, 32);
    updkeys_hex((const uint8_t *)"\x00\xff\x10\xab", 4, hex);
    assert_string_equal(hex, "00ff10ab");
    assert_int_equal(updkeys_unhex("00FF10aB", 8, out, 4), CM_OK);
    assert_memory_equal(out, "\x00\xff\x10\xab", 4);
    assert_int_equal(updkeys_unhex("00ff10a", 7, out, 4), CM_EPARSE);
    assert_int_equal(updkeys_unhex("00ff10ag", 8, out, 4), CM_EPARSE);
    assert_int_equal(updkeys_unhex("00ff10ab00", 10, out, 4), CM_EPARSE);
    assert_string_equal(updkeys_kind_name(UPDKEYS_CONTENT), "aes256-content");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_updkeys_generate_ids),
        cmocka_unit_test(test_updkeys_format_parse_round_trip),
        cmocka_unit_test(test_updkeys_parse_comments_crlf_and_several),
        cmocka_unit_test(test_updkeys_parse_refusals),
        cmocka_unit_test(test_updkeys_parse_caps),
        cmocka_unit_test(test_updkeys_save_load_modes),
        cmocka_unit_test(test_updkeys_sign_verify),
        cmocka_unit_test(test_updkeys_hex_and_sha256),
    };

    return cmocka_run_group_tests_name("updkeys", tests, setup, teardown);
}
