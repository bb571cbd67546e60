/*
 * test_protocol.c -- request line parsing, argument decoding, answer
 * formatting and line splitting (include/protocol.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol.h"

static enum cm_err
parse_str(const char *s, struct protocol_request *r, const char **why)
{
    return protocol_parse((const uint8_t *)s, strlen(s), r, why);
}

static void
assert_view(const uint8_t *p, size_t len, const char *want)
{
    assert_int_equal(len, strlen(want));
    assert_memory_equal(p, want, len);
}

static void
test_protocol_parse_basic(void **state)
{
    struct protocol_request r;

    (void)state;
    assert_int_equal(parse_str("1 INTF 4", &r, NULL), CM_OK);
    assert_string_equal(r.seq, "1");
    assert_int_equal(r.seq_len, 1);
    assert_int_equal(r.cmd, PROTOCOL_CMD_INTF);
    assert_view(r.word, r.word_len, "INTF");
    assert_view(r.args, r.args_len, "4");

    assert_int_equal(parse_str("00042 FILE Queue/1.msg", &r, NULL), CM_OK);
    assert_string_equal(r.seq, "00042");
    assert_int_equal(r.cmd, PROTOCOL_CMD_FILE);
    assert_view(r.args, r.args_len, "Queue/1.msg");

    assert_int_equal(parse_str("3 QUIT", &r, NULL), CM_OK);
    assert_int_equal(r.cmd, PROTOCOL_CMD_QUIT);
    assert_int_equal(r.args_len, 0);

    assert_int_equal(parse_str("2 KEY abc def", &r, NULL), CM_OK);
    assert_int_equal(r.cmd, PROTOCOL_CMD_KEY);
    assert_view(r.args, r.args_len, "abc def");
}

static void
test_protocol_parse_case_insensitive(void **state)
{
    struct protocol_request r;

    (void)state;
    assert_int_equal(parse_str("7 file a", &r, NULL), CM_OK);
    assert_int_equal(r.cmd, PROTOCOL_CMD_FILE);
    assert_int_equal(parse_str("8 Quit", &r, NULL), CM_OK);
    assert_int_equal(r.cmd, PROTOCOL_CMD_QUIT);
    assert_int_equal(parse_str("9 kEy x", &r, NULL), CM_OK);
    assert_int_equal(r.cmd, PROTOCOL_CMD_KEY);
    assert_int_equal(parse_str("10 intf 3", &r, NULL), CM_OK);
    assert_int_equal(r.cmd, PROTOCOL_CMD_INTF);
    /* Prefixes and extensions of a command word are other words. */
    assert_int_equal(parse_str("11 FIL a", &r, NULL), CM_OK);
    assert_int_equal(r.cmd, PROTOCOL_CMD_UNKNOWN);
    assert_int_equal(parse_str("12 FILES a", &r, NULL), CM_OK);
    assert_int_equal(r.cmd, PROTOCOL_CMD_UNKNOWN);
}

static void
test_protocol_parse_blanks(void **state)
{
    struct protocol_request r;

    (void)state;
    assert_int_equal(parse_str("  \t5\t\tFILE   Queue/a b.msg \t ", &r, NULL),
                     CM_OK);
    assert_string_equal(r.seq, "5");
    assert_int_equal(r.cmd, PROTOCOL_CMD_FILE);
    assert_view(r.args, r.args_len, "Queue/a b.msg");
}

static void
test_protocol_parse_seq_cap(void **state)
{
    char line[CAPS_PROTOCOL_SEQ_MAX + 16];
    struct protocol_request r;
    const char *why = NULL;

    (void)state;
    memset(line, '9', CAPS_PROTOCOL_SEQ_MAX);
    memcpy(line + CAPS_PROTOCOL_SEQ_MAX, " KEY", 5);
    assert_int_equal(parse_str(line, &r, NULL), CM_OK);
    assert_int_equal(r.seq_len, CAPS_PROTOCOL_SEQ_MAX);
    assert_int_equal(strlen(r.seq), CAPS_PROTOCOL_SEQ_MAX);

    memset(line, '9', CAPS_PROTOCOL_SEQ_MAX + 1);
    memcpy(line + CAPS_PROTOCOL_SEQ_MAX + 1, " KEY", 5);
    assert_int_equal(parse_str(line, &r, &why), CM_EPARSE);
    assert_non_null(why);
}

static void
test_protocol_parse_no_seq(void **state)
{
    static const uint8_t nul_seq[] = {'1', 0, '2', ' ', 'K', 'E', 'Y'};
    static const uint8_t high_seq[] = {'1', 0xc3, 0xa9, ' ', 'K', 'E', 'Y'};
    struct protocol_request r;
    const char *why = NULL;

    (void)state;
    memset(&r, 0x5a, sizeof(r));
    assert_int_equal(parse_str("", &r, &why), CM_EPARSE);
    assert_non_null(why);
    /* *out is untouched on failure. */
    assert_int_equal((uint8_t)r.seq[0], 0x5a);
    assert_int_equal(parse_str(" \t ", &r, NULL), CM_EPARSE);
    assert_int_equal(parse_str("\x01 KEY", &r, NULL), CM_EPARSE);
    assert_int_equal(protocol_parse(nul_seq, sizeof(nul_seq), &r, NULL),
                     CM_EPARSE);
    assert_int_equal(protocol_parse(high_seq, sizeof(high_seq), &r, NULL),
                     CM_EPARSE);
    assert_int_equal(protocol_parse(NULL, 5, &r, NULL), CM_EPARSE);
}

static void
test_protocol_parse_seq_only(void **state)
{
    struct protocol_request r;

    (void)state;
    assert_int_equal(parse_str("12", &r, NULL), CM_OK);
    assert_string_equal(r.seq, "12");
    assert_int_equal(r.cmd, PROTOCOL_CMD_UNKNOWN);
    assert_int_equal(r.word_len, 0);
    assert_int_equal(r.args_len, 0);
    /* Any printable token is a sequence. */
    assert_int_equal(parse_str("a-b.c HELLO world", &r, NULL), CM_OK);
    assert_string_equal(r.seq, "a-b.c");
    assert_int_equal(r.cmd, PROTOCOL_CMD_UNKNOWN);
    assert_view(r.word, r.word_len, "HELLO");
    assert_view(r.args, r.args_len, "world");
}

static void
test_protocol_parse_binary_rest(void **state)
{
    static const uint8_t line[] = {'5', ' ', 'F', 'I', 'L', 'E', ' ',
                                   'a', 0,   'b', 0xff};
    struct protocol_request r;
    struct buf path;
    const char *why = NULL;

    (void)state;
    assert_int_equal(protocol_parse(line, sizeof(line), &r, NULL), CM_OK);
    assert_int_equal(r.cmd, PROTOCOL_CMD_FILE);
    assert_int_equal(r.args_len, 4);
    buf_init(&path, CAPS_PROTOCOL_PATH_MAX);
    assert_int_equal(protocol_file_path(&r, &path, &why), CM_EPARSE);
    assert_non_null(why);
    buf_clear(&path);
}

static void
test_protocol_intf_version(void **state)
{
    struct protocol_request r;
    unsigned v = 77;
    const char *why = NULL;

    (void)state;
    assert_int_equal(parse_str("1 INTF 4", &r, NULL), CM_OK);
    assert_int_equal(protocol_intf_version(&r, &v, NULL), CM_OK);
    assert_int_equal(v, 4);
    assert_int_equal(parse_str("1 INTF 3 extra", &r, NULL), CM_OK);
    assert_int_equal(protocol_intf_version(&r, &v, NULL), CM_OK);
    assert_int_equal(v, 3);
    assert_int_equal(parse_str("1 INTF 4294967295", &r, NULL), CM_OK);
    assert_int_equal(protocol_intf_version(&r, &v, NULL), CM_OK);
    assert_int_equal(v, 4294967295u);

    v = 77;
    assert_int_equal(parse_str("1 INTF 4294967296", &r, NULL), CM_OK);
    assert_int_equal(protocol_intf_version(&r, &v, &why), CM_EPARSE);
    assert_non_null(why);
    assert_int_equal(v, 77);
    assert_int_equal(parse_str("1 INTF", &r, NULL), CM_OK);
    assert_int_equal(protocol_intf_version(&r, &v, NULL), CM_EPARSE);
    assert_int_equal(parse_str("1 INTF x4", &r, NULL), CM_OK);
    assert_int_equal(protocol_intf_version(&r, &v, NULL), CM_EPARSE);
    assert_int_equal(parse_str("1 INTF 4x", &r, NULL), CM_OK);
    assert_int_equal(protocol_intf_version(&r, &v, NULL), CM_EPARSE);
    assert_int_equal(parse_str("1 INTF -1", &r, NULL), CM_OK);
    assert_int_equal(protocol_intf_version(&r, &v, NULL), CM_EPARSE);
    assert_int_equal(v, 77);
}

/* Parse line, decode its FILE path; returns the code, *out the path. */
static enum cm_err
path_of(const char *line, struct buf *out)
{
    struct protocol_request r;

    buf_reset(out);
    assert_int_equal(parse_str(line, &r, NULL), CM_OK);
    assert_int_equal(r.cmd, PROTOCOL_CMD_FILE);
    return protocol_file_path(&r, out, NULL);
}

static void
test_protocol_file_path_bare(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, CAPS_PROTOCOL_PATH_MAX);
    assert_int_equal(path_of("1 FILE Queue/1.msg", &b), CM_OK);
    assert_string_equal((char *)b.data, "Queue/1.msg");
    assert_int_equal(path_of("1 FILE Queue/my file.msg", &b), CM_OK);
    assert_string_equal((char *)b.data, "Queue/my file.msg");
    assert_int_equal(path_of("1 FILE Queue/1.msg HEADERS", &b), CM_OK);
    assert_string_equal((char *)b.data, "Queue/1.msg");
    assert_int_equal(path_of("1 FILE Queue/1.msg\tHEADERS  FOO", &b), CM_OK);
    assert_string_equal((char *)b.data, "Queue/1.msg");
    /* Not keywords: lower case, digits, too long. */
    assert_int_equal(path_of("1 FILE a b", &b), CM_OK);
    assert_string_equal((char *)b.data, "a b");
    assert_int_equal(path_of("1 FILE a B2", &b), CM_OK);
    assert_string_equal((char *)b.data, "a B2");
    assert_int_equal(path_of("1 FILE a ABCDEFGHIJKLMNOPQ", &b), CM_OK);
    assert_string_equal((char *)b.data, "a ABCDEFGHIJKLMNOPQ");
    assert_int_equal(path_of("1 FILE a ABCDEFGHIJKLMNOP", &b), CM_OK);
    assert_string_equal((char *)b.data, "a");
    /* A lone keyword is the name itself. */
    assert_int_equal(path_of("1 FILE HEADERS", &b), CM_OK);
    assert_string_equal((char *)b.data, "HEADERS");
    /* At most CAPS_PROTOCOL_FILE_OPTS_MAX keywords are dropped. */
    assert_int_equal(path_of("1 FILE a A B C D E", &b), CM_OK);
    assert_string_equal((char *)b.data, "a A");
    buf_clear(&b);
}

static void
test_protocol_file_path_quoted(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, CAPS_PROTOCOL_PATH_MAX);
    assert_int_equal(path_of("1 FILE \"Queue/a b.msg\"", &b), CM_OK);
    assert_string_equal((char *)b.data, "Queue/a b.msg");
    assert_int_equal(path_of("1 FILE \"Queue/\\\"q\\\\.msg\" HEADERS", &b),
                     CM_OK);
    assert_string_equal((char *)b.data, "Queue/\"q\\.msg");
    assert_int_equal(path_of("1 FILE \"Queue/\\065.msg\"", &b), CM_OK);
    assert_string_equal((char *)b.data, "Queue/A.msg");
    assert_int_equal(path_of("1 FILE \"a\"b", &b), CM_EPARSE);
    assert_int_equal(path_of("1 FILE \"Queue/1.msg", &b), CM_EPARSE);
    assert_int_equal(path_of("1 FILE \"\"", &b), CM_EPARSE);
    /* An escape may not smuggle a line break or a NUL into a path. */
    assert_int_equal(path_of("1 FILE \"a\\eb\"", &b), CM_EPARSE);
    assert_int_equal(path_of("1 FILE \"a\\000b\"", &b), CM_EPARSE);
    buf_clear(&b);
}

static void
test_protocol_file_path_errors(void **state)
{
    struct buf b;
    const char *why = NULL;
    struct protocol_request r;

    (void)state;
    buf_init(&b, CAPS_PROTOCOL_PATH_MAX);
    assert_int_equal(parse_str("1 FILE", &r, NULL), CM_OK);
    assert_int_equal(protocol_file_path(&r, &b, &why), CM_EPARSE);
    assert_non_null(why);
    assert_int_equal(path_of("1 FILE a\x01" "b", &b), CM_EPARSE);
    assert_int_equal(path_of("1 FILE a\x7f", &b), CM_EPARSE);
    buf_clear(&b);
}

static void
test_protocol_file_path_cap(void **state)
{
    size_t n = CAPS_PROTOCOL_PATH_MAX + 1;
    uint8_t *name = malloc(n);
    struct protocol_request r;
    struct buf b;
    const char *why = NULL;

    (void)state;
    assert_non_null(name);
    memset(name, 'a', n);
    memset(&r, 0, sizeof(r));
    memcpy(r.seq, "1", 2);
    r.seq_len = 1;
    r.cmd = PROTOCOL_CMD_FILE;
    r.args = name;

    buf_init(&b, CAPS_PROTOCOL_PATH_MAX);
    r.args_len = CAPS_PROTOCOL_PATH_MAX;
    assert_int_equal(protocol_file_path(&r, &b, NULL), CM_OK);
    assert_int_equal(b.len, CAPS_PROTOCOL_PATH_MAX);
    buf_reset(&b);
    r.args_len = CAPS_PROTOCOL_PATH_MAX + 1;
    assert_int_equal(protocol_file_path(&r, &b, &why), CM_ELIMIT);
    assert_non_null(why);
    buf_clear(&b);
    free(name);
}

static void
test_protocol_format_answer(void **state)
{
    char out[64];
    size_t n = 0;

    (void)state;
    assert_int_equal(protocol_format_answer(out, sizeof(out), "12",
                                            PROTOCOL_ANSWER_OK, &n),
                     CM_OK);
    assert_string_equal(out, "12 OK\n");
    assert_int_equal(n, 6);
    assert_int_equal(protocol_format_answer(out, sizeof(out), "12",
                                            PROTOCOL_ANSWER_FAILURE, &n),
                     CM_OK);
    assert_string_equal(out, "12 FAILURE\n");
    assert_int_equal(n, 11);
    /* Exactly fitting, and one byte short. */
    assert_int_equal(
        protocol_format_answer(out, 7, "12", PROTOCOL_ANSWER_OK, &n), CM_OK);
    assert_int_equal(
        protocol_format_answer(out, 6, "12", PROTOCOL_ANSWER_OK, &n),
        CM_ELIMIT);
    assert_int_equal(
        protocol_format_answer(out, sizeof(out), "", PROTOCOL_ANSWER_OK, &n),
        CM_EINVAL);
    assert_int_equal(protocol_format_answer(out, sizeof(out), "1 2",
                                            PROTOCOL_ANSWER_OK, &n),
                     CM_EINVAL);
    assert_int_equal(protocol_format_answer(out, sizeof(out), NULL,
                                            PROTOCOL_ANSWER_OK, &n),
                     CM_EINVAL);
}

static void
test_protocol_format_intf(void **state)
{
    char out[64];
    size_t n = 0;

    (void)state;
    assert_int_equal(protocol_format_intf(out, sizeof(out), "1", 3, &n),
                     CM_OK);
    assert_string_equal(out, "1 INTF 3\n");
    assert_int_equal(n, 9);
    assert_int_equal(protocol_format_intf(out, 5, "1", 3, &n), CM_ELIMIT);
}

static void
test_protocol_format_info(void **state)
{
    char out[16];
    size_t n;

    (void)state;
    n = protocol_format_info(out, sizeof(out), "hi\nthere", 8);
    assert_string_equal(out, "* hi?there\n");
    assert_int_equal(n, 11);
    n = protocol_format_info(out, sizeof(out), "0123456789abcdefghij", 20);
    assert_int_equal(n, sizeof(out) - 1);
    assert_string_equal(out, "* 0123456789ab\n");
    assert_int_equal(protocol_format_info(out, 3, "x", 1), 0);
}

static void
test_protocol_linebuf_lines(void **state)
{
    static const char input[] = "1 INTF 4\n2 KEY x\r\n\n3 QUIT";
    struct protocol_linebuf *lb = malloc(sizeof(*lb));
    const char *want[] = {"1 INTF 4", "2 KEY x", "", "3 QUIT"};
    size_t n_lines = 0;

    (void)state;
    assert_non_null(lb);
    /* Byte by byte: the split must not depend on read boundaries. */
    protocol_linebuf_init(lb);
    for (size_t i = 0; i < sizeof(input) - 1; i++) {
        size_t used = protocol_linebuf_feed(lb, (const uint8_t *)input + i, 1);
        assert_int_equal(used, 1);
        if (lb->is_complete) {
            assert_view(lb->line, lb->len, want[n_lines]);
            assert_false(lb->is_overlong);
            n_lines++;
            /* A complete line takes nothing more until next(). */
            assert_int_equal(
                protocol_linebuf_feed(lb, (const uint8_t *)"x", 1), 0);
            protocol_linebuf_next(lb);
        }
    }
    assert_int_equal(n_lines, 3);
    assert_true(protocol_linebuf_finish(lb));
    assert_view(lb->line, lb->len, want[3]);
    protocol_linebuf_next(lb);
    assert_false(protocol_linebuf_finish(lb));

    /* All at once. */
    {
        size_t off = 0;
        n_lines = 0;
        protocol_linebuf_init(lb);
        while (off < sizeof(input) - 1) {
            off += protocol_linebuf_feed(lb, (const uint8_t *)input + off,
                                         sizeof(input) - 1 - off);
            if (lb->is_complete) {
                assert_view(lb->line, lb->len, want[n_lines]);
                n_lines++;
                protocol_linebuf_next(lb);
            }
        }
        assert_int_equal(n_lines, 3);
    }
    free(lb);
}

/* Feed (p, len) whole; true when exactly one line completed. */
static bool
feed_one(struct protocol_linebuf *lb, const uint8_t *p, size_t len)
{
    size_t off = 0;

    protocol_linebuf_init(lb);
    while (off < len && !lb->is_complete) {
        off += protocol_linebuf_feed(lb, p + off, len - off);
    }
    return lb->is_complete && off == len;
}

static void
test_protocol_linebuf_cap(void **state)
{
    size_t big = 1024 * 1024;
    uint8_t *p = malloc(big + 2);
    struct protocol_linebuf *lb = malloc(sizeof(*lb));

    (void)state;
    assert_non_null(p);
    assert_non_null(lb);
    memset(p, 'a', big);

    /* At the cap. */
    p[CAPS_REQUEST_LINE_MAX] = '\n';
    assert_true(feed_one(lb, p, CAPS_REQUEST_LINE_MAX + 1));
    assert_false(lb->is_overlong);
    assert_int_equal(lb->len, CAPS_REQUEST_LINE_MAX);
    /* At the cap plus its CR. */
    p[CAPS_REQUEST_LINE_MAX] = '\r';
    p[CAPS_REQUEST_LINE_MAX + 1] = '\n';
    assert_true(feed_one(lb, p, CAPS_REQUEST_LINE_MAX + 2));
    assert_false(lb->is_overlong);
    assert_int_equal(lb->len, CAPS_REQUEST_LINE_MAX);
    /* Cap + 1. */
    p[CAPS_REQUEST_LINE_MAX] = 'a';
    assert_true(feed_one(lb, p, CAPS_REQUEST_LINE_MAX + 2));
    assert_true(lb->is_overlong);
    assert_int_equal(lb->len, CAPS_REQUEST_LINE_MAX);
    assert_int_equal(lb->n_dropped, 1);
    /* Cap + 1 with a CR: still overlong, and the CR is not one of the
     * line's dropped bytes. */
    p[CAPS_REQUEST_LINE_MAX + 1] = '\r';
    p[CAPS_REQUEST_LINE_MAX + 2] = '\n';
    assert_true(feed_one(lb, p, CAPS_REQUEST_LINE_MAX + 3));
    assert_true(lb->is_overlong);
    assert_int_equal(lb->len, CAPS_REQUEST_LINE_MAX);
    assert_int_equal(lb->n_dropped, 1);
    /* Cap + 5 with a CR that ends one read and the LF starting the next. */
    memset(p, 'a', CAPS_REQUEST_LINE_MAX + 5);
    p[CAPS_REQUEST_LINE_MAX + 5] = '\r';
    protocol_linebuf_init(lb);
    assert_int_equal(protocol_linebuf_feed(lb, p, CAPS_REQUEST_LINE_MAX + 6),
                     CAPS_REQUEST_LINE_MAX + 6);
    assert_int_equal(protocol_linebuf_feed(lb, (const uint8_t *)"\n", 1), 1);
    assert_true(lb->is_complete);
    assert_true(lb->is_overlong);
    assert_int_equal(lb->n_dropped, 5);
    /* A CR inside the line is one of its bytes. */
    p[CAPS_REQUEST_LINE_MAX + 3] = '\r';
    p[CAPS_REQUEST_LINE_MAX + 5] = 'a';
    p[CAPS_REQUEST_LINE_MAX + 6] = '\n';
    assert_true(feed_one(lb, p, CAPS_REQUEST_LINE_MAX + 7));
    assert_int_equal(lb->n_dropped, 6);

    /* 1 MB of garbage and its CRLF, fed in chunks, then a normal line. */
    memset(p, 'z', big);
    memcpy(p, "77 ", 3);
    p[big] = '\r';
    p[big + 1] = '\n';
    protocol_linebuf_init(lb);
    for (size_t off = 0; off < big + 2;) {
        size_t chunk = big + 2 - off < 4000 ? big + 2 - off : 4000;
        off += protocol_linebuf_feed(lb, p + off, chunk);
    }
    assert_true(lb->is_complete);
    assert_true(lb->is_overlong);
    assert_int_equal(lb->len, CAPS_REQUEST_LINE_MAX);
    assert_int_equal(lb->n_dropped, big - CAPS_REQUEST_LINE_MAX);
    protocol_linebuf_next(lb);
    assert_int_equal(protocol_linebuf_feed(lb, (const uint8_t *)"5 QUIT\n", 7),
                     7);
    assert_true(lb->is_complete);
    assert_false(lb->is_overlong);
    assert_view(lb->line, lb->len, "5 QUIT");

    /* An overlong partial line at EOF is still reported as overlong. */
    protocol_linebuf_init(lb);
    protocol_linebuf_feed(lb, p, CAPS_REQUEST_LINE_MAX + 10);
    assert_true(protocol_linebuf_finish(lb));
    assert_true(lb->is_overlong);
    free(lb);
    free(p);
}

/* A KEY line is logged up to its command word, however its sequence
 * number and blanks look; any other line whole. */
static void
test_protocol_loggable_len(void **state)
{
    static const struct {
        const char *line;
        size_t want;
    } cases[] = {
        {"1 KEY secret", 5},
        {"  \t1\tkey  secret", 8},
        {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx KEY s", 46},
        {"1 KEY", 5},
        {"1 KEYS secret", 13},
        {"1 FILE Queue/1.msg", 18},
        {"KEY secret", 10}, /* KEY is the sequence here, not the command */
        {"", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *l = cases[i].line;

        assert_int_equal(protocol_loggable_len((const uint8_t *)l, strlen(l)),
                         cases[i].want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol_parse_basic),
        cmocka_unit_test(test_protocol_loggable_len),
        cmocka_unit_test(test_protocol_parse_case_insensitive),
        cmocka_unit_test(test_protocol_parse_blanks),
        cmocka_unit_test(test_protocol_parse_seq_cap),
        cmocka_unit_test(test_protocol_parse_no_seq),
        cmocka_unit_test(test_protocol_parse_seq_only),
        cmocka_unit_test(test_protocol_parse_binary_rest),
        cmocka_unit_test(test_protocol_intf_version),
        cmocka_unit_test(test_protocol_file_path_bare),
        cmocka_unit_test(test_protocol_file_path_quoted),
        cmocka_unit_test(test_protocol_file_path_errors),
        cmocka_unit_test(test_protocol_file_path_cap),
        cmocka_unit_test(test_protocol_format_answer),
        cmocka_unit_test(test_protocol_format_intf),
        cmocka_unit_test(test_protocol_format_info),
        cmocka_unit_test(test_protocol_linebuf_lines),
        cmocka_unit_test(test_protocol_linebuf_cap),
    };

    return cmocka_run_group_tests_name("protocol", tests, NULL, NULL);
}
