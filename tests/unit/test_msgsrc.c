/*
 * test_msgsrc.c -- unit tests for msgsrc: the mbox splitter (separator
 * shapes, spans, CRLF, ">From " and prose), and the source (walk order,
 * names, .mdir and mbox files, dot files, FIFOs, loops, depth, missing
 * paths, the body and mbox caps at the cap and cap + 1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "caps.h"
#include "err.h"
#include "msgsrc.h"

/* ---- helpers ------------------------------------------------------- */

static bool
sep(const char *line)
{
    return msgsrc_is_separator((const uint8_t *)line, strlen(line));
}

static bool
is_mbox(const char *text)
{
    return msgsrc_is_mbox((const uint8_t *)text, strlen(text));
}

/* Split text; write each message (as a string) into out[], return n. */
static size_t
split(const char *text, char out[][256], size_t max)
{
    size_t pos = 0;
    size_t n = 0;
    struct msgsrc_span span;
    size_t len = strlen(text);

    while (msgsrc_mbox_next((const uint8_t *)text, len, &pos, &span)) {
        assert_true(span.off + span.len <= len);
        assert_true(n < max);
        assert_true(span.len < 256);
        memcpy(out[n], text + span.off, span.len);
        out[n][span.len] = '\0';
        n++;
    }
    return n;
}

static char *
make_tmpdir(void)
{
    char tmpl[] = "/tmp/test_msgsrc.XXXXXX";
    char *dir = mkdtemp(tmpl);

    assert_non_null(dir);
    return strdup(dir);
}

static void
write_file(const char *dir, const char *name, const void *p, size_t len)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    if (len > 0) {
        assert_int_equal(fwrite(p, 1, len, f), len);
    }
    assert_int_equal(fclose(f), 0);
}

static void
write_text(const char *dir, const char *name, const char *text)
{
    write_file(dir, name, text, strlen(text));
}

static void
make_dir(const char *dir, const char *name)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(mkdir(path, 0700), 0);
}

static void
remove_tree(const char *dir)
{
    char cmd[1200];

    /* Test clean-up only; the tree is our own mkdtemp directory. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Every item of a source over one path, rendered "K name [len]" a line,
 * with the name relative to dir. */
static char *
render_all(const char *path, const char *dir, const struct msgsrc_conf *conf)
{
    const char *paths[1] = {path};
    struct msgsrc *s = msgsrc_new(paths, 1, conf);
    struct msgsrc_item it;
    static char out[8192];
    size_t used = 0;
    size_t dlen = strlen(dir);

    assert_non_null(s);
    out[0] = '\0';
    while (msgsrc_next(s, &it)) {
        const char *name = it.name;
        const char *k = it.kind == MSGSRC_MESSAGE ? "M"
                        : it.kind == MSGSRC_ERROR ? "E"
                                                  : "S";
        int n;

        assert_non_null(name);
        if (strncmp(name, dir, dlen) == 0) {
            name += dlen;
        }
        if (it.kind == MSGSRC_MESSAGE) {
            assert_non_null(it.data);
            assert_int_equal(it.data[it.len], '\0');
            n = snprintf(out + used, sizeof(out) - used, "%s %s %zu%s\n", k,
                         name, it.len, it.is_truncated ? " T" : "");
        } else {
            assert_non_null(it.why);
            assert_null(it.data);
            n = snprintf(out + used, sizeof(out) - used, "%s %s\n", k, name);
        }
        assert_true(n > 0 && (size_t)n < sizeof(out) - used);
        used += (size_t)n;
        msgsrc_item_clear(&it);
    }
    msgsrc_free(s);
    return out;
}

static const char mbox3[] =
    "From alice@example.org Mon Jan  1 10:00:00 2001\n"
    "Subject: one\n"
    "\n"
    "first body\n"
    ">From the quoting line\n"
    "\n"
    "From bob@example.org Tue Jan  2 11:00:00 2001\n"
    "Subject: two\n"
    "\n"
    "From Monday to Friday we are open.\n"
    "\n"
    "From carol Wed Jan  3 12:00:00 2001 but not followed by a header\n"
    "\n"
    "From <>(0000-0001) 03 Jan 2001 12:00:00 +0000\n"
    "Subject: three\n"
    "\n"
    "third body\n"
    "\n";

/* ---- the splitter -------------------------------------------------- */

static void
test_msgsrc_separator_shapes(void **state)
{
    char longline[CAPS_MSGSRC_SEPARATOR_MAX + 2];

    (void)state;
    assert_true(sep("From alice@example.org Mon Jan  1 10:00:00 2001"));
    assert_true(sep("From alice@example.org Mon Jan  1 10:00:00 2001\r"));
    assert_true(sep("From MAILER-DAEMON Fri Jul  8 12:08:34 2011"));
    assert_true(sep("From a@b Sat Jan  3 01:05:34 +0100 1998"));
    assert_true(sep("From - Thu, 01 Jan 2020 09:15 +0000"));
    assert_true(sep("From <>(0000-0001) garbage"));
    assert_true(sep("From <user@example.com>(0010-0123) 01-Jan-2020"));
    assert_false(sep("From: alice@example.org"));
    assert_false(sep(">From alice@example.org Mon Jan  1 10:00:00 2001"));
    assert_false(sep("From  alice Mon Jan  1 10:00:00 2001"));
    assert_false(sep("From alice@example.org"));
    assert_false(sep("From Monday to Friday we are open."));
    assert_false(sep("From alice Mon Jan 1 2001"));    /* no time */
    assert_false(sep("From alice Mon Jan 1 10:00:00")); /* no year */
    assert_false(sep("From alice at 10:00 in 12001"));  /* 5-digit year */
    assert_false(sep("From <alice> (x) 10:00"));
    assert_false(sep("From "));
    assert_false(sep(""));
    /* at the cap and cap + 1 */
    memset(longline, 'x', sizeof(longline));
    memcpy(longline, "From a Mon Jan  1 10:00:00 2001 ", 32);
    assert_true(msgsrc_is_separator((const uint8_t *)longline,
                                    CAPS_MSGSRC_SEPARATOR_MAX));
    assert_false(msgsrc_is_separator((const uint8_t *)longline,
                                     CAPS_MSGSRC_SEPARATOR_MAX + 1));
}

static void
test_msgsrc_is_mbox(void **state)
{
    (void)state;
    assert_true(is_mbox(mbox3));
    /* one message with a leading From line is not an mbox */
    assert_false(is_mbox("From a@b Mon Jan  1 10:00:00 2001\n"
                         "Subject: x\n\nbody\n"));
    /* a second separator that does not follow an empty line */
    assert_false(is_mbox("From a@b Mon Jan  1 10:00:00 2001\n"
                         "Subject: x\n\nbody\n"
                         "From b@c Mon Jan  1 10:00:00 2001\n"
                         "Subject: y\n\nbody\n"));
    /* not followed by a header line */
    assert_false(is_mbox("From a@b Mon Jan  1 10:00:00 2001\n"
                         "Subject: x\n\nbody\n\n"
                         "From b@c Mon Jan  1 10:00:00 2001\n"
                         "just text\n"));
    /* a plain message whose body quotes an mbox is not one */
    assert_false(is_mbox("Subject: fwd\n\n"
                         "From b@c Mon Jan  1 10:00:00 2001\n"
                         "Subject: y\n\nbody\n\n"
                         "From b@c Mon Jan  1 10:00:00 2001\n"
                         "Subject: y\n\nbody\n"));
    assert_false(is_mbox(""));
    assert_false(is_mbox("From a@b Mon Jan  1 10:00:00 2001"));
}

static void
test_msgsrc_split_three(void **state)
{
    char msgs[8][256];

    (void)state;
    assert_int_equal(split(mbox3, msgs, 8), 3);
    assert_string_equal(msgs[0],
                        "Subject: one\n\nfirst body\n>From the quoting "
                        "line\n");
    assert_string_equal(msgs[1],
                        "Subject: two\n\nFrom Monday to Friday we are "
                        "open.\n\nFrom carol Wed Jan  3 12:00:00 2001 but "
                        "not followed by a header\n");
    assert_string_equal(msgs[2], "Subject: three\n\nthird body\n");
}

/* mboxrd: "^>+From " loses one '>'; nothing else changes. */
static void
test_msgsrc_unquote(void **state)
{
    static const char in[] = ">From a\n>>From b\r\n>>>From c\n"
                             "> From d\n>Fromage\n>From\nx>From y\n"
                             ">From ";
    static const char want[] = "From a\n>From b\r\n>>From c\n"
                               "> From d\n>Fromage\n>From\nx>From y\n"
                               "From ";
    uint8_t out[sizeof(in)];
    uint8_t same[sizeof(in)];
    size_t n;

    (void)state;
    n = msgsrc_mbox_unquote(out, (const uint8_t *)in, sizeof(in) - 1);
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(out, want, n);
    /* in place */
    memcpy(same, in, sizeof(in));
    n = msgsrc_mbox_unquote(same, same, sizeof(in) - 1);
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(same, want, n);
    assert_int_equal(msgsrc_mbox_unquote(out, (const uint8_t *)"", 0), 0);
}

/* msgsrc_mbox_unquote against a line-by-line reference: every line of
 * one '>' or more then "From " loses its first '>'.  Edge texts and
 * 20,000 pseudo-random ones, each at the end of its own allocation,
 * copied and in place. */
static size_t
ref_unquote(uint8_t *dst, const uint8_t *src, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; i < len;) {
        size_t e = i;
        size_t g = i;

        while (e < len && src[e] != '\n') {
            e++;
        }
        if (e < len) {
            e++;
        }
        while (g < e && src[g] == '>') {
            g++;
        }
        if (g > i && e - g >= 5 && memcmp(src + g, "From ", 5) == 0) {
            i++;
        }
        memcpy(dst + o, src + i, e - i);
        o += e - i;
        i = e;
    }
    return o;
}

static void
check_unquote(const char *text, size_t len)
{
    uint8_t *in = malloc(len > 0 ? len : 1);
    uint8_t *out = malloc(len > 0 ? len : 1);
    uint8_t *want = malloc(len > 0 ? len : 1);
    size_t wn;

    assert_true(in != NULL && out != NULL && want != NULL);
    memcpy(in, text, len);
    wn = ref_unquote(want, in, len);
    assert_int_equal(msgsrc_mbox_unquote(out, in, len), wn);
    assert_memory_equal(out, want, wn);
    assert_int_equal(msgsrc_mbox_unquote(in, in, len), wn);
    assert_memory_equal(in, want, wn);
    free(in);
    free(out);
    free(want);
}

static void
test_msgsrc_unquote_matches_reference(void **state)
{
    static const char *const edges[] = {
        "", "F", ">F", ">From", ">From ", "From ", "\n>From ", "x\n>>From x",
        ">>>>", ">>>>From ", "a>From \n>From \n", "\r\n>From \r\n",
        ">F>From ", ">>F>From \n>From"};
    static const char *const pieces[] = {">", ">", "From ", "From", "F",
                                         "\n", "\r\n", "x", " ", "rom ",
                                         "<a>", ">From "};
    uint32_t r = 0xfeedu;
    char text[120];

    (void)state;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        check_unquote(edges[i], strlen(edges[i]));
    }
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        size_t n_pieces;

        r = r * 1103515245u + 12345u;
        n_pieces = (r >> 16) % 24;
        for (size_t k = 0; k < n_pieces; k++) {
            const char *pc;
            size_t pl;

            r = r * 1103515245u + 12345u;
            pc = pieces[(r >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
            pl = strlen(pc);
            if (len + pl > sizeof(text)) {
                break;
            }
            memcpy(text + len, pc, pl);
            len += pl;
        }
        check_unquote(text, len);
    }
}

/* msgsrc_is_separator against its contract written out plainly (the
 * neighbours of a year tested before its digits): edge lines and 20,000
 * pseudo-random "From " lines of digits, colons, blanks and letters. */
static bool
ref_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool
ref_is_separator(const uint8_t *p, size_t len)
{
    size_t i;
    bool has_time = false;
    bool has_year = false;

    if (len > 0 && p[len - 1] == '\r') {
        len--;
    }
    if (len < 6 || len > CAPS_MSGSRC_SEPARATOR_MAX ||
        memcmp(p, "From ", 5) != 0 || p[5] == ' ' || p[5] == '\t') {
        return false;
    }
    if (p[5] == '<') {
        const uint8_t *gt = memchr(p + 6, '>', len - 6);

        if (gt != NULL && (size_t)(gt - p) + 1 < len && gt[1] == '(') {
            return true;
        }
    }
    for (i = 5; i < len && p[i] != ' ' && p[i] != '\t'; i++) {
    }
    if (i == len) {
        return false;
    }
    p += i;
    len -= i;
    for (size_t k = 1; k + 2 < len; k++) {
        has_time |= p[k] == ':' && ref_digit(p[k - 1]) &&
                    ref_digit(p[k + 1]) && ref_digit(p[k + 2]);
    }
    for (size_t k = 0; k + 4 <= len; k++) {
        bool is_alone = (k == 0 || !ref_digit(p[k - 1])) &&
                        (k + 4 == len || !ref_digit(p[k + 4]));

        has_year |= is_alone && ref_digit(p[k + 2]) && ref_digit(p[k + 3]) &&
                    ((p[k] == '1' && p[k + 1] == '9') ||
                     (p[k] == '2' && p[k + 1] == '0'));
    }
    return has_time && has_year;
}

static void
test_msgsrc_separator_matches_reference(void **state)
{
    static const char alphabet[] = "0129 :x<>(\r\t";
    static const char *const edges[] = {
        "From a Mon Jan 1 00:00:00 2024", "From a 1:00 1999",
        "From a 1:00 21999", "From a 1:00 x2000x", "From a 12:34 2099\r",
        "From a 2000 1:00", "From  a 1:00 2000", "From <x>(1) y",
        "From a 1:0 2000", "From a 19201:00"};
    uint32_t r = 0xabcdu;
    char line[64];

    (void)state;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        const uint8_t *e = (const uint8_t *)edges[i];

        assert_int_equal(msgsrc_is_separator(e, strlen(edges[i])),
                         ref_is_separator(e, strlen(edges[i])));
    }
    memcpy(line, "From ", 5);
    for (int round = 0; round < 20000; round++) {
        size_t len;
        uint8_t *q;

        r = r * 1103515245u + 12345u;
        len = 5 + (r >> 16) % (sizeof(line) - 5);
        for (size_t i = 5; i < len; i++) {
            r = r * 1103515245u + 12345u;
            line[i] = alphabet[(r >> 16) % (sizeof(alphabet) - 1)];
        }
        q = malloc(len);
        assert_non_null(q);
        memcpy(q, line, len);
        assert_int_equal(msgsrc_is_separator(q, len),
                         ref_is_separator(q, len));
        free(q);
    }
}

static void
test_msgsrc_split_crlf_and_no_trailing_blank(void **state)
{
    char msgs[8][256];
    const char *text = "From a@b Mon Jan  1 10:00:00 2001\r\n"
                       "Subject: x\r\n\r\nbody x\r\n\r\n"
                       "From b@c Mon Jan  1 10:00:00 2001\r\n"
                       "Subject: y\r\n\r\nbody y\r\n";

    (void)state;
    assert_true(is_mbox(text));
    assert_int_equal(split(text, msgs, 8), 2);
    assert_string_equal(msgs[0], "Subject: x\r\n\r\nbody x\r\n");
    assert_string_equal(msgs[1], "Subject: y\r\n\r\nbody y\r\n");
}

static void
test_msgsrc_split_not_mbox_is_one_message(void **state)
{
    char msgs[8][256];

    (void)state;
    /* A buffer that does not start with a separator is one message. */
    assert_int_equal(split("Subject: x\n\nbody\n", msgs, 8), 1);
    assert_string_equal(msgs[0], "Subject: x\n\nbody\n");
    assert_int_equal(split("", msgs, 8), 0);
    /* An empty message between two separators. */
    assert_int_equal(split("From a@b Mon Jan  1 10:00:00 2001\nX: 1\n\n"
                           "From a@b Mon Jan  1 10:00:00 2001\nY: 2\n",
                           msgs, 8),
                     2);
    assert_string_equal(msgs[0], "X: 1\n");
    assert_string_equal(msgs[1], "Y: 2\n");
}

static void
test_msgsrc_split_progress_on_junk(void **state)
{
    uint8_t junk[4096];
    size_t pos = 0;
    size_t last = 0;
    size_t n = 0;
    struct msgsrc_span span;
    uint32_t x = 12345;

    (void)state;
    for (size_t i = 0; i < sizeof(junk); i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = "From \n\r:ab1 2009:"[(x >> 16) % 17];
    }
    memcpy(junk, "From a Mon Jan  1 10:00:00 2001\nA:", 34);
    while (msgsrc_mbox_next(junk, sizeof(junk), &pos, &span)) {
        assert_true(pos > last || (n == 0 && pos > 0));
        assert_true(span.off + span.len <= sizeof(junk));
        last = pos;
        n++;
        assert_true(n <= sizeof(junk));
    }
    assert_int_equal(pos, sizeof(junk));
}

/* ---- the source ---------------------------------------------------- */

static void
test_msgsrc_walk_order_and_names(void **state)
{
    char *dir = make_tmpdir();
    struct msgsrc_conf conf = {0};
    char *got;

    (void)state;
    write_text(dir, "b.eml", "Subject: b\n\nb\n");
    write_text(dir, "a.eml", "From x@y Mon Jan  1 10:00:00 2001\n"
                             "Subject: a\n\na\n");
    write_text(dir, ".hidden", "Subject: h\n\nh\n");
    write_text(dir, "empty", "");
    write_text(dir, "m.mbox", mbox3);
    make_dir(dir, "x.mdir");
    write_text(dir, "x.mdir/2-flags-20200101000000", "Subject: 2\n\n2\n");
    write_text(dir, "x.mdir/1-flags-20200101000000", "Subject: 1\n\n1\n");
    make_dir(dir, "Z");
    make_dir(dir, ".git");
    write_text(dir, ".git/config", "x");
    got = render_all(dir, dir, &conf);
    assert_string_equal(got,
                        "M /a.eml 48\n"
                        "M /b.eml 14\n"
                        "M /empty 0\n"
                        "M /m.mbox:1 47\n"
                        "M /m.mbox:2 115\n"
                        "M /m.mbox:3 27\n"
                        "M /x.mdir/1-flags-20200101000000 14\n"
                        "M /x.mdir/2-flags-20200101000000 14\n");
    assert_int_equal(msgsrc_count_files((const char *const *)&dir, 1, 0), 6);
    remove_tree(dir);
    free(dir);
}

static void
test_msgsrc_trailing_slash_and_args_order(void **state)
{
    char *dir = make_tmpdir();
    char slashed[1100];
    char file[1100];
    const char *paths[3];
    struct msgsrc_conf conf = {0};
    struct msgsrc *s;
    struct msgsrc_item it;
    size_t n = 0;

    (void)state;
    make_dir(dir, "d");
    write_text(dir, "d/one", "Subject: 1\n\n1\n");
    write_text(dir, "f", "Subject: f\n\nf\n");
    snprintf(slashed, sizeof(slashed), "%s/d/", dir);
    snprintf(file, sizeof(file), "%s/f", dir);
    paths[0] = file;
    paths[1] = slashed;
    paths[2] = file;
    s = msgsrc_new(paths, 3, &conf);
    assert_non_null(s);
    while (msgsrc_next(s, &it)) {
        char want[1200];

        assert_int_equal(it.kind, MSGSRC_MESSAGE);
        if (n == 1) {
            snprintf(want, sizeof(want), "%s/d/one", dir);
        } else {
            snprintf(want, sizeof(want), "%s", file);
        }
        assert_string_equal(it.name, want);
        assert_int_equal(it.file_no, n + 1);
        msgsrc_item_clear(&it);
        n++;
    }
    assert_int_equal(n, 3);
    /* the end is sticky */
    assert_false(msgsrc_next(s, &it));
    msgsrc_free(s);
    remove_tree(dir);
    free(dir);
}

static void
test_msgsrc_missing_fifo_and_loop(void **state)
{
    char *dir = make_tmpdir();
    char path[1100];
    char missing[1100];
    const char *paths[2];
    struct msgsrc_conf conf = {0};
    struct msgsrc *s;
    struct msgsrc_item it;

    (void)state;
    make_dir(dir, "t");
    snprintf(path, sizeof(path), "%s/t/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(path, sizeof(path), "%s/t/loop", dir);
    assert_int_equal(symlink("..", path), 0);
    snprintf(path, sizeof(path), "%s/t/dangling", dir);
    assert_int_equal(symlink("nowhere", path), 0);
    write_text(dir, "t/m", "Subject: m\n\nm\n");
    snprintf(path, sizeof(path), "%s/t", dir);
    snprintf(missing, sizeof(missing), "%s/missing", dir);
    paths[0] = missing;
    paths[1] = path;
    s = msgsrc_new(paths, 2, &conf);
    assert_non_null(s);

    assert_true(msgsrc_next(s, &it));
    assert_int_equal(it.kind, MSGSRC_ERROR);
    assert_int_equal(it.err, CM_ENOENT);
    assert_string_equal(it.name, missing);
    msgsrc_item_clear(&it);

    assert_true(msgsrc_next(s, &it)); /* t/dangling */
    assert_int_equal(it.kind, MSGSRC_ERROR);
    assert_int_equal(it.err, CM_ENOENT);
    msgsrc_item_clear(&it);

    assert_true(msgsrc_next(s, &it)); /* t/fifo */
    assert_int_equal(it.kind, MSGSRC_SKIPPED);
    assert_string_equal(it.why, "not a regular file");
    msgsrc_item_clear(&it);

    /* t/loop -> t's parent, which is not on the stack: walked once, and
     * inside it t again, which is. */
    assert_true(msgsrc_next(s, &it));
    assert_int_equal(it.kind, MSGSRC_SKIPPED); /* loop/t */
    assert_string_equal(it.why, "directory loop");
    msgsrc_item_clear(&it);

    assert_true(msgsrc_next(s, &it)); /* t/m */
    assert_int_equal(it.kind, MSGSRC_MESSAGE);
    snprintf(path, sizeof(path), "%s/t/m", dir);
    assert_string_equal(it.name, path);
    msgsrc_item_clear(&it);
    assert_false(msgsrc_next(s, &it));
    msgsrc_free(s);
    remove_tree(dir);
    free(dir);
}

/* Links are followed without a stat() in the walk: a link to a file is
 * read as that file, a link to a directory is walked in place, and
 * neither the link to the directory nor the directory counts as a file. */
/* A symbolic link to something open() refuses outright (a UNIX socket:
 * ENXIO) is skipped as not a regular file, as the socket itself is,
 * rather than reported as a message that could not be read. */
static void
test_msgsrc_link_to_socket_skipped(void **state)
{
    char *dir = make_tmpdir();
    char path[1100];
    struct sockaddr_un sun;
    int fd;
    char *got;

    (void)state;
    make_dir(dir, "t");
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/t/sock", dir);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (const struct sockaddr *)&sun, sizeof(sun)),
                     0);
    snprintf(path, sizeof(path), "%s/t/link", dir);
    assert_int_equal(symlink("sock", path), 0);
    write_text(dir, "t/m", "Subject: m\n\nm\n");
    snprintf(path, sizeof(path), "%s/t", dir);
    got = render_all(path, dir, &(struct msgsrc_conf){0});
    assert_string_equal(got, "S /t/link\nM /t/m 14\nS /t/sock\n");
    close(fd);
    remove_tree(dir);
    free(dir);
}

static void
test_msgsrc_links_to_files_and_dirs(void **state)
{
    char *dir = make_tmpdir();
    char path[1100];
    char want[1100];
    const char *paths[1];
    struct msgsrc_conf conf = {0};
    struct msgsrc *s;
    struct msgsrc_item it;

    (void)state;
    make_dir(dir, "t");
    make_dir(dir, "d");
    write_text(dir, "d/inner", "Subject: inner\n\ni\n");
    write_text(dir, "t/z", "Subject: z\n\nz\n");
    snprintf(path, sizeof(path), "%s/t/a-file", dir);
    assert_int_equal(symlink("z", path), 0);
    snprintf(path, sizeof(path), "%s/t/b-dir", dir);
    assert_int_equal(symlink("../d", path), 0);
    snprintf(path, sizeof(path), "%s/t", dir);
    paths[0] = path;
    s = msgsrc_new(paths, 1, &conf);
    assert_non_null(s);

    assert_true(msgsrc_next(s, &it));
    assert_int_equal(it.kind, MSGSRC_MESSAGE);
    snprintf(want, sizeof(want), "%s/t/a-file", dir);
    assert_string_equal(it.name, want);
    assert_int_equal(it.len, strlen("Subject: z\n\nz\n"));
    assert_int_equal(it.file_no, 1);
    msgsrc_item_clear(&it);

    assert_true(msgsrc_next(s, &it));
    assert_int_equal(it.kind, MSGSRC_MESSAGE);
    snprintf(want, sizeof(want), "%s/t/b-dir/inner", dir);
    assert_string_equal(it.name, want);
    assert_int_equal(it.file_no, 2);
    msgsrc_item_clear(&it);

    assert_true(msgsrc_next(s, &it));
    assert_int_equal(it.kind, MSGSRC_MESSAGE);
    snprintf(want, sizeof(want), "%s/t/z", dir);
    assert_string_equal(it.name, want);
    assert_int_equal(it.file_no, 3);
    msgsrc_item_clear(&it);
    assert_false(msgsrc_next(s, &it));
    msgsrc_free(s);
    assert_int_equal(msgsrc_count_files(paths, 1, 0), 3);
    remove_tree(dir);
    free(dir);
}

static void
test_msgsrc_depth_cap(void **state)
{
    char *dir = make_tmpdir();
    struct msgsrc_conf conf = {.max_depth = 2};
    char *got;

    (void)state;
    make_dir(dir, "a");
    make_dir(dir, "a/b");
    write_text(dir, "a/one", "X: 1\n\n");
    write_text(dir, "a/b/two", "X: 2\n\n");
    /* depth 2 = the argument's level and one below */
    got = render_all(dir, dir, &conf);
    assert_string_equal(got, "S /a/b\nM /a/one 6\n");
    conf.max_depth = 3;
    got = render_all(dir, dir, &conf);
    assert_string_equal(got, "M /a/b/two 6\nM /a/one 6\n");
    remove_tree(dir);
    free(dir);
}

/* A directory with more names than max_dir_entries keeps the first ones
 * in sorted order, whatever order readdir gives them in: the same tree
 * gives the same lines on any file system, and "the rest skipped" means
 * the names after the last one listed. */
static void
test_msgsrc_dir_cap_keeps_first_sorted(void **state)
{
    char *dir = make_tmpdir();
    struct msgsrc_conf conf = {.max_dir_entries = 3};
    static const char *const order[] = {"h", "b", "j", "e", "a", "i",
                                        "c", "g", "d", "f"};
    char *got;

    (void)state;
    make_dir(dir, "d");
    /* Created in several orders: readdir returns hash or creation order,
     * never sorted by chance for every one of these. */
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        char name[16];

        snprintf(name, sizeof(name), "d/%s", order[i]);
        write_text(dir, name, "X: 1\n\n");
    }
    got = render_all(dir, dir, &conf);
    assert_string_equal(got, "S /d\nM /d/a 6\nM /d/b 6\nM /d/c 6\n");
    /* At the cap exactly: all of them, no skip. */
    conf.max_dir_entries = 10;
    got = render_all(dir, dir, &conf);
    assert_non_null(strstr(got, "M /d/a 6\n"));
    assert_non_null(strstr(got, "M /d/j 6\n"));
    assert_null(strstr(got, "S "));
    remove_tree(dir);
    free(dir);
}

static void
test_msgsrc_body_cap(void **state)
{
    char *dir = make_tmpdir();
    char path[1100];
    struct msgsrc_conf conf = {.max_body_bytes = 16};
    char *got;

    (void)state;
    snprintf(path, sizeof(path), "%s/f", dir);
    /* at the cap: whole, not truncated */
    write_text(dir, "f", "Subject: 123456\n");
    got = render_all(path, dir, &conf);
    assert_string_equal(got, "M /f 16\n");
    /* cap + 1: cut and flagged */
    write_text(dir, "f", "Subject: 1234567\n");
    got = render_all(path, dir, &conf);
    assert_string_equal(got, "M /f 16 T\n");
    /* a single message with a From line, longer than the cap */
    write_text(dir, "f", "From a@b Mon Jan  1 10:00:00 2001\nSubject: x\n");
    got = render_all(path, dir, &conf);
    assert_string_equal(got, "M /f 16 T\n");
    remove_tree(dir);
    free(dir);
}

/*
 * One message that starts with a "From " line and is larger than the
 * body cap: the item holds the cap's bytes in an allocation of about that
 * size.  It kept the whole-file read (up to max_mbox_bytes, 512 MiB in
 * RATE), against RATE's bound of its window times Max_Body_Length.
 */
static void
test_msgsrc_from_message_over_cap_shrunk(void **state)
{
    char *dir = make_tmpdir();
    char path[1100];
    const char *paths[1] = {path};
    struct msgsrc_conf conf = {.max_body_bytes = 4096,
                               .max_mbox_bytes = 4u << 20};
    size_t len = 2u << 20;
    char *text = malloc(len + 1);
    struct msgsrc *s;
    struct msgsrc_item it;
    int n;

    (void)state;
    assert_non_null(text);
    n = snprintf(text, len + 1, "From a@b Mon Jan  1 10:00:00 2001\n"
                                "Subject: x\n\n");
    memset(text + n, 'a', len - (size_t)n);
    text[len] = '\0';
    write_text(dir, "f", text);
    free(text);
    snprintf(path, sizeof(path), "%s/f", dir);
    s = msgsrc_new(paths, 1, &conf);
    assert_non_null(s);
    assert_true(msgsrc_next(s, &it));
    assert_int_equal(it.kind, MSGSRC_MESSAGE);
    assert_int_equal(it.len, 4096);
    assert_true(it.is_truncated);
    assert_true(malloc_usable_size(it.data) < 64u * 1024u);
    msgsrc_item_clear(&it);
    assert_false(msgsrc_next(s, &it));
    msgsrc_free(s);
    remove_tree(dir);
    free(dir);
}

static void
test_msgsrc_mbox_larger_than_body_cap(void **state)
{
    char *dir = make_tmpdir();
    char path[1100];
    struct msgsrc_conf conf = {.max_body_bytes = 20};
    char *got;

    (void)state;
    snprintf(path, sizeof(path), "%s/m", dir);
    write_text(dir, "m", mbox3);
    got = render_all(path, dir, &conf);
    assert_string_equal(got, "M /m:1 20 T\nM /m:2 20 T\nM /m:3 20 T\n");
    /* The mbox read itself is cut: the last message seen is flagged. */
    conf.max_body_bytes = 100;
    conf.max_mbox_bytes = 170;
    got = render_all(path, dir, &conf);
    assert_string_equal(got, "M /m:1 47\nM /m:2 27 T\nS /m\n");
    remove_tree(dir);
    free(dir);
}

/* An mbox longer than max_mbox_bytes: the messages after the cut are not
 * read, and the source says so with a skip item under the file's path
 * after its last message, so RATE warns and counts it instead of
 * dropping them without a word. */
static void
test_msgsrc_mbox_cap_reports_rest(void **state)
{
    char *dir = make_tmpdir();
    char path[1100];
    struct msgsrc_conf conf = {.max_body_bytes = 100, .max_mbox_bytes = 170};
    const char *paths[1] = {path};
    struct msgsrc *s;
    struct msgsrc_item it;
    char *got;

    (void)state;
    snprintf(path, sizeof(path), "%s/m", dir);
    write_text(dir, "m", mbox3);
    got = render_all(path, dir, &conf);
    assert_string_equal(got, "M /m:1 47\nM /m:2 27 T\nS /m\n");
    s = msgsrc_new(paths, 1, &conf);
    assert_non_null(s);
    for (int i = 0; i < 2; i++) {
        assert_true(msgsrc_next(s, &it));
        msgsrc_item_clear(&it);
    }
    assert_true(msgsrc_next(s, &it));
    assert_int_equal(it.kind, MSGSRC_SKIPPED);
    assert_string_equal(it.name, path);
    assert_non_null(strstr(it.why, "not read"));
    assert_int_equal(it.file_no, 1);
    msgsrc_item_clear(&it);
    assert_false(msgsrc_next(s, &it));
    msgsrc_free(s);
    /* Read whole: no skip item. */
    conf.max_mbox_bytes = 0;
    got = render_all(path, dir, &conf);
    assert_string_equal(got, "M /m:1 47\nM /m:2 100 T\nM /m:3 27\n");
    remove_tree(dir);
    free(dir);
}

/* The source hands out mbox messages unquoted, and a one-message file
 * that starts with a separator line too (it is an mbox of one). */
static void
test_msgsrc_source_unquotes_from(void **state)
{
    char *dir = make_tmpdir();
    struct msgsrc_conf conf = {0};
    const char *paths[1];
    struct msgsrc *s;
    struct msgsrc_item it;
    static const char *const want[] = {
        "Subject: one\n\nfirst body\nFrom the quoting line\n",
        "Subject: two\n\nFrom Monday to Friday we are open.\n\nFrom "
        "carol Wed Jan  3 12:00:00 2001 but not followed by a header\n",
        "Subject: three\n\nthird body\n",
        "From x@y Mon Jan  1 10:00:00 2001\nSubject: a\n\nFrom here\n"
        ">From there\n",
        "Subject: b\n\n>From kept: not an mbox\n"};

    (void)state;
    write_text(dir, "1.mbox", mbox3);
    write_text(dir, "2.eml", "From x@y Mon Jan  1 10:00:00 2001\n"
                             "Subject: a\n\n>From here\n>>From there\n");
    write_text(dir, "3.eml", "Subject: b\n\n>From kept: not an mbox\n");
    paths[0] = dir;
    s = msgsrc_new(paths, 1, &conf);
    assert_non_null(s);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_true(msgsrc_next(s, &it));
        assert_int_equal(it.kind, MSGSRC_MESSAGE);
        assert_int_equal(it.data[it.len], '\0');
        assert_string_equal((const char *)it.data, want[i]);
        msgsrc_item_clear(&it);
    }
    assert_false(msgsrc_next(s, &it));
    msgsrc_free(s);
    remove_tree(dir);
    free(dir);
}

/* What the source hands out for a whole file (text, len): an mbox split
 * and each message unquoted, or, when text is no mbox, the one message,
 * unquoted when its first line is a separator.  Built from the public
 * splitter and ref_unquote; returns the number of messages, each into
 * out[] with its length in lens[]. */
static size_t
ref_items(const uint8_t *text, size_t len, uint8_t out[][320], size_t *lens,
          size_t max)
{
    size_t n = 0;
    const uint8_t *lf = memchr(text, '\n', len);
    size_t first = lf == NULL ? len : (size_t)(lf - text);

    if (msgsrc_is_mbox(text, len)) {
        size_t pos = 0;
        struct msgsrc_span span;

        while (msgsrc_mbox_next(text, len, &pos, &span)) {
            assert_true(n < max);
            lens[n] = ref_unquote(out[n], text + span.off, span.len);
            n++;
        }
        return n;
    }
    if (len > 0 && msgsrc_is_separator(text, first)) {
        lens[0] = ref_unquote(out[0], text, len);
    } else {
        memcpy(out[0], text, len);
        lens[0] = len;
    }
    return 1;
}

/* A file that starts with a separator line is searched once for both a
 * second separator and the first line to unquote (read_file): its items
 * against ref_items over edge files and 3,000 pseudo-random ones built
 * of separators, field lines, empty lines and ">From " lines. */
static void
test_msgsrc_file_items_match_reference(void **state)
{
    static const char *const pieces[] = {
        "From a@b Mon Jan  1 10:00:00 2001\n", "From <>(0-1) 01 Jan 2001\n",
        "Subject: x\n", "\n", "\r\n", ">From q\n", ">>From q\n",
        "From here\n", "x>From y\n", "F", ">", "text\n", "From ", "<b>\n"};
    static const char *const edges[] = {
        "From a@b Mon Jan  1 10:00:00 2001",
        "From a@b Mon Jan  1 10:00:00 2001\n",
        "From a@b Mon Jan  1 10:00:00 2001\n>From x",
        "From a@b Mon Jan  1 10:00:00 2001\nnot a field\n>From x\n",
        "From a@b Mon Jan  1 10:00:00 2001\nS: 1\n\n>From x\n\n"
        "From c@d Mon Jan  1 10:00:00 2001\nS: 2\n\n>>From y\n",
        "From a@b Mon Jan  1 10:00:00 2001\r\nS: 1\r\n\r\n>From x"};
    static uint8_t want[40][320];
    static size_t lens[40];
    char *dir = make_tmpdir();
    struct msgsrc_conf conf = {0};
    uint32_t r = 0x5eedu;
    enum { N_FILES = 3000 };
    static uint8_t texts[N_FILES][320];
    static size_t tlens[N_FILES];
    const char *paths[1];
    struct msgsrc *s;
    struct msgsrc_item it;

    (void)state;
    for (size_t i = 0; i < N_FILES; i++) {
        size_t len = 0;
        char name[32];

        if (i < sizeof(edges) / sizeof(edges[0])) {
            len = strlen(edges[i]);
            memcpy(texts[i], edges[i], len);
        } else {
            /* Most start with a separator, the case under test. */
            r = r * 1103515245u + 12345u;
            if ((r >> 16) % 8 != 0) {
                len = strlen(pieces[0]);
                memcpy(texts[i], pieces[0], len);
            }
            r = r * 1103515245u + 12345u;
            for (size_t k = (r >> 16) % 30; k > 0; k--) {
                const char *pc;
                size_t pl;

                r = r * 1103515245u + 12345u;
                pc = pieces[(r >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
                pl = strlen(pc);
                if (len + pl > sizeof(texts[i])) {
                    break;
                }
                memcpy(texts[i] + len, pc, pl);
                len += pl;
            }
        }
        tlens[i] = len;
        snprintf(name, sizeof(name), "m%05zu.eml", i);
        write_file(dir, name, texts[i], len);
    }
    paths[0] = dir;
    s = msgsrc_new(paths, 1, &conf);
    assert_non_null(s);
    for (size_t i = 0; i < N_FILES; i++) {
        size_t n = ref_items(texts[i], tlens[i], want, lens, 40);

        for (size_t k = 0; k < n; k++) {
            assert_true(msgsrc_next(s, &it));
            assert_int_equal(it.kind, MSGSRC_MESSAGE);
            assert_int_equal(it.len, lens[k]);
            assert_memory_equal(it.data, want[k], lens[k]);
            assert_int_equal(it.data[it.len], '\0');
            msgsrc_item_clear(&it);
        }
    }
    assert_false(msgsrc_next(s, &it));
    msgsrc_free(s);
    remove_tree(dir);
    free(dir);
}

static void
test_msgsrc_binary_and_null_safety(void **state)
{
    char *dir = make_tmpdir();
    char path[1100];
    uint8_t junk[300];
    struct msgsrc_conf conf = {0};
    char *got;

    (void)state;
    for (size_t i = 0; i < sizeof(junk); i++) {
        junk[i] = (uint8_t)(i * 7);
    }
    write_file(dir, "junk", junk, sizeof(junk));
    snprintf(path, sizeof(path), "%s/junk", dir);
    got = render_all(path, dir, &conf);
    assert_string_equal(got, "M /junk 300\n");
    msgsrc_item_clear(NULL);
    msgsrc_free(NULL);
    assert_int_equal(msgsrc_count_files(NULL, 0, 0), 0);
    remove_tree(dir);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msgsrc_separator_shapes),
        cmocka_unit_test(test_msgsrc_is_mbox),
        cmocka_unit_test(test_msgsrc_split_three),
        cmocka_unit_test(test_msgsrc_unquote),
        cmocka_unit_test(test_msgsrc_unquote_matches_reference),
        cmocka_unit_test(test_msgsrc_separator_matches_reference),
        cmocka_unit_test(test_msgsrc_source_unquotes_from),
        cmocka_unit_test(test_msgsrc_file_items_match_reference),
        cmocka_unit_test(test_msgsrc_split_crlf_and_no_trailing_blank),
        cmocka_unit_test(test_msgsrc_split_not_mbox_is_one_message),
        cmocka_unit_test(test_msgsrc_split_progress_on_junk),
        cmocka_unit_test(test_msgsrc_walk_order_and_names),
        cmocka_unit_test(test_msgsrc_trailing_slash_and_args_order),
        cmocka_unit_test(test_msgsrc_missing_fifo_and_loop),
        cmocka_unit_test(test_msgsrc_links_to_files_and_dirs),
        cmocka_unit_test(test_msgsrc_link_to_socket_skipped),
        cmocka_unit_test(test_msgsrc_depth_cap),
        cmocka_unit_test(test_msgsrc_dir_cap_keeps_first_sorted),
        cmocka_unit_test(test_msgsrc_body_cap),
        cmocka_unit_test(test_msgsrc_mbox_larger_than_body_cap),
        cmocka_unit_test(test_msgsrc_from_message_over_cap_shrunk),
        cmocka_unit_test(test_msgsrc_mbox_cap_reports_rest),
        cmocka_unit_test(test_msgsrc_binary_and_null_safety),
    };

    return cmocka_run_group_tests_name("msgsrc", tests, NULL, NULL);
}
