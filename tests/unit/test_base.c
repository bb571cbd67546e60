/*
 * test_base.c -- unit tests for the base layer: buf, cursor, arena,
 * fsutil (reads, atomic writes, the inter-process lock), log sampling and
 * error texts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "caps.h"
#include "cursor.h"
#include "err.h"
#include "fsutil.h"
#include "ipnet.h"
#include "log.h"

static void
test_base_buf_append_and_cap(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 8);
    assert_int_equal(buf_append(&b, "abcd", 4), CM_OK);
    assert_int_equal(buf_append(&b, "efgh", 4), CM_OK);
    assert_int_equal(b.len, 8);
    assert_false(b.is_capped);
    /* cap + 1: the byte that does not fit is refused and flagged */
    assert_int_equal(buf_append(&b, "i", 1), CM_ELIMIT);
    assert_true(b.is_capped);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "abcdefgh", 8);
    assert_int_equal(b.data[8], '\0');
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_false(b.is_capped);
    /* a long append is cut at the cap and keeps the prefix */
    assert_int_equal(buf_append(&b, "0123456789", 10), CM_ELIMIT);
    assert_memory_equal(b.data, "01234567", 8);
    buf_clear(&b);
    assert_null(b.data);
}

static void
test_base_buf_printf(void **state)
{
    struct buf b;
    char big[2000];

    (void)state;
    buf_init(&b, 4096);
    assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), CM_OK);
    assert_string_equal((char *)b.data, "42-x");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(buf_printf(&b, "%s", big), CM_OK);
    assert_int_equal(b.len, 4 + sizeof(big) - 1);
    buf_clear(&b);

    buf_init(&b, 100);
    assert_int_equal(buf_printf(&b, "%s", big), CM_ELIMIT);
    assert_true(b.is_capped);
    assert_int_equal(b.len, 100);
    buf_clear(&b);
}

static void
test_base_buf_alloc_failure(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 1024);
    buf_test_fail_nth_alloc(1);
    assert_int_equal(buf_append(&b, "x", 1), CM_ENOMEM);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_append(&b, "x", 1), CM_OK);
    buf_clear(&b);
}

static void
test_base_cursor_reads(void **state)
{
    static const uint8_t data[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                   13, 14, 15};
    struct cursor c;
    uint8_t u8;
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    uint64_t u64;
    const uint8_t *view;

    (void)state;
    cursor_init(&c, data, sizeof(data));
    assert_int_equal(cursor_u8(&c, &u8) || cursor_u16le(&c, &u16) ||
                         cursor_u32le(&c, &u32),
                     CM_OK);
    assert_int_equal(u8, 1);
    assert_int_equal(u16, 0x0302);
    assert_int_equal(u32, 0x07060504);
    assert_int_equal(cursor_left(&c), 8);
    assert_int_equal(cursor_u64le(&c, &u64), CM_OK);
    assert_true(u64 == 0x0f0e0d0c0b0a0908ull);
    /* reading past the end fails, records why, and poisons the cursor */
    assert_int_equal(cursor_bytes(&c, 1, &view), CM_EPARSE);
    assert_non_null(c.why);
    assert_int_equal(cursor_left(&c), 0);
}

static void
test_base_cursor_truncated_length(void **state)
{
    static const uint8_t data[] = {1, 2, 3};
    struct cursor c;
    const uint8_t *view = NULL;

    (void)state;
    cursor_init(&c, data, sizeof(data));
    assert_int_equal(cursor_bytes(&c, 4, &view), CM_EPARSE);
    assert_null(view);
    assert_int_equal(cursor_skip(&c, 1), CM_EPARSE);
}

static void
test_base_cursor_decimal(void **state)
{
    uint64_t v = 7;

    (void)state;
    assert_int_equal(cursor_parse_u64("0", 1, 10, &v), CM_OK);
    assert_int_equal(v, 0);
    assert_int_equal(cursor_parse_u64("100", 3, 100, &v), CM_OK);
    assert_int_equal(v, 100);
    /* cap + 1 */
    assert_int_equal(cursor_parse_u64("101", 3, 100, &v), CM_EPARSE);
    assert_int_equal(v, 100);
    assert_int_equal(cursor_parse_u64("", 0, 100, &v), CM_EPARSE);
    assert_int_equal(cursor_parse_u64("-1", 2, 100, &v), CM_EPARSE);
    assert_int_equal(cursor_parse_u64("12a", 3, 100, &v), CM_EPARSE);
    assert_int_equal(cursor_parse_u64("7", 1, 5, &v), CM_EPARSE);
    assert_int_equal(cursor_parse_u64("18446744073709551615", 20,
                                      UINT64_MAX, &v),
                     CM_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(cursor_parse_u64("18446744073709551616", 20,
                                      UINT64_MAX, &v),
                     CM_EPARSE);
}

static void
test_base_arena_budget(void **state)
{
    struct arena *a = arena_new(1024);
    char *s;
    void *p;

    (void)state;
    assert_non_null(a);
    s = arena_strndup(a, "hello", 5);
    assert_string_equal(s, "hello");
    assert_true(((uintptr_t)s % 16) == 0);
    p = arena_alloc(a, 2000);
    assert_null(p);
    p = arena_calloc(a, SIZE_MAX / 2, 4);
    assert_null(p);
    p = arena_calloc(a, 10, 10);
    assert_non_null(p);
    assert_true(arena_used(a) <= 1024);
    arena_reset(a);
    assert_int_equal(arena_used(a), 0);
    assert_non_null(arena_alloc(a, 1000));
    arena_free(a);
    arena_free(NULL);
}

static void
test_base_arena_grow_and_blocks(void **state)
{
    struct arena *a = arena_new(64u << 20);
    char *p;
    char *q;

    (void)state;
    p = arena_alloc(a, 10);
    memcpy(p, "0123456789", 10);
    q = arena_grow(a, p, 10, 100);
    assert_ptr_equal(p, q); /* in place: last allocation */
    /* many allocations across several blocks stay intact */
    for (int i = 0; i < 10000; i++) {
        char *x = arena_alloc(a, 100 + (size_t)i % 300);
        assert_non_null(x);
        x[0] = (char)i;
    }
    q = arena_grow(a, p, 100, 200); /* not last: copied */
    assert_ptr_not_equal(p, q);
    assert_memory_equal(q, "0123456789", 10);
    assert_non_null(arena_alloc(a, 8u << 20)); /* larger than a block */
    arena_reset(a);
    arena_test_fail_nth(a, 2);
    assert_non_null(arena_alloc(a, 1));
    assert_null(arena_alloc(a, 1));
    assert_non_null(arena_alloc(a, 1));
    arena_free(a);
}

struct tmpdir {
    char path[PATH_MAX];
};

static int
tmpdir_setup(void **state)
{
    struct tmpdir *t = calloc(1, sizeof(*t));

    if (t == NULL) {
        return -1;
    }
    snprintf(t->path, sizeof(t->path), "/tmp/cm-test-base-XXXXXX");
    if (mkdtemp(t->path) == NULL) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int
tmpdir_teardown(void **state)
{
    struct tmpdir *t = *state;
    char cmd[PATH_MAX + 16];
    /* Test-only cleanup of the directory this test made. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
    if (system(cmd) != 0) {
        return -1;
    }
    free(t);
    return 0;
}

static void
test_base_fsutil_read_refuses_non_regular(void **state)
{
    struct tmpdir *t = *state;
    char fifo[PATH_MAX];
    struct buf b;
    bool cut = false;
    const char *why = NULL;

    buf_init(&b, 1024);
    assert_int_equal(fsutil_read_file(t->path, 100, &b, &cut, &why),
                     CM_ENOTREG);
    assert_string_equal(why, "is a directory");
    assert_int_equal(fsutil_join(fifo, sizeof(fifo), t->path, "fifo"),
                     CM_OK);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    /* A FIFO without a writer must not block. */
    assert_int_equal(fsutil_read_file(fifo, 100, &b, &cut, &why),
                     CM_ENOTREG);
    assert_int_equal(fsutil_join(fifo, sizeof(fifo), t->path, "missing"),
                     CM_OK);
    assert_int_equal(fsutil_read_file(fifo, 100, &b, &cut, &why),
                     CM_ENOENT);
    buf_clear(&b);
}

/*
 * A file that cannot be opened says why when the reason is one an
 * administrator acts on: no descriptor left (here: the soft limit just
 * above the descriptors open).  It said only "cannot open".
 */
static void
test_base_fsutil_read_says_why_not_opened(void **state)
{
    struct tmpdir *t = *state;
    char path[PATH_MAX];
    struct rlimit old;
    struct rlimit low;
    struct buf b;
    bool cut = false;
    const char *why = NULL;
    int fd;
    enum cm_err rc;

    assert_int_equal(fsutil_join(path, sizeof(path), t->path, "f"), CM_OK);
    assert_int_equal(fsutil_write_atomic(path, "x", 1, 0600), CM_OK);
    /* the lowest free descriptor: the limit set to it leaves none */
    fd = dup(0);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)fd;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    buf_init(&b, 1024);
    rc = fsutil_read_file(path, 100, &b, &cut, &why);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(rc, CM_EIO);
    assert_non_null(why);
    assert_string_equal(why, "cannot open: too many open files");
    buf_clear(&b);
}

static void
test_base_fsutil_atomic_write_and_bounded_read(void **state)
{
    struct tmpdir *t = *state;
    char path[PATH_MAX];
    struct buf b;
    bool cut = true;

    assert_int_equal(fsutil_join(path, sizeof(path), t->path, "f"), CM_OK);
    assert_int_equal(fsutil_write_atomic(path, "0123456789", 10, 0600),
                     CM_OK);
    buf_init(&b, 1024);
    assert_int_equal(fsutil_read_file(path, 10, &b, &cut, NULL), CM_OK);
    assert_false(cut); /* exactly the cap: not truncated */
    assert_int_equal(b.len, 10);
    buf_reset(&b);
    assert_int_equal(fsutil_read_file(path, 9, &b, &cut, NULL), CM_OK);
    assert_true(cut); /* cap - 1: truncated */
    assert_int_equal(b.len, 9);
    buf_reset(&b);
    assert_int_equal(fsutil_write_atomic(path, "new", 3, 0600), CM_OK);
    assert_int_equal(fsutil_read_file(path, 100, &b, &cut, NULL), CM_OK);
    assert_memory_equal(b.data, "new", 3);
    assert_int_equal(b.len, 3);
    buf_clear(&b);
}

/* fsutil_write_temp leaves the target alone and the new bytes, fsync'ed,
 * under a temporary name beside it for the caller to rename. */
static void
test_base_fsutil_write_temp(void **state)
{
    struct tmpdir *t = *state;
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    char small[8];
    struct buf b;
    bool cut = true;

    assert_int_equal(fsutil_join(path, sizeof(path), t->path, "k"), CM_OK);
    assert_int_equal(fsutil_write_atomic(path, "old", 3, 0600), CM_OK);
    assert_int_equal(fsutil_write_temp(path, "new!", 4, 0600, tmp,
                                       sizeof(tmp)),
                     CM_OK);
    assert_int_equal(strncmp(tmp, path, strlen(path)), 0);
    assert_non_null(strstr(tmp + strlen(path), ".tmp."));
    buf_init(&b, 64);
    assert_int_equal(fsutil_read_file(path, 64, &b, &cut, NULL), CM_OK);
    assert_memory_equal(b.data, "old", 3);
    buf_reset(&b);
    assert_int_equal(fsutil_read_file(tmp, 64, &b, &cut, NULL), CM_OK);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "new!", 4);
    assert_int_equal(rename(tmp, path), 0);
    buf_reset(&b);
    assert_int_equal(fsutil_read_file(path, 64, &b, &cut, NULL), CM_OK);
    assert_memory_equal(b.data, "new!", 4);
    buf_clear(&b);
    /* A name that does not fit: nothing is created. */
    assert_int_equal(fsutil_write_temp(path, "x", 1, 0600, small,
                                       sizeof(small)),
                     CM_ELIMIT);
}

/* A temporary name already taken -- left by a run killed before its
 * rename in an earlier process with the same pid, which is every run in a
 * container where cmtool is pid 1 -- is passed over, not a failed write:
 * "out.tmp.<pid>.<n>" planted for the next three counter values. */
static void
test_base_fsutil_write_temp_name_taken(void **state)
{
    struct tmpdir *t = *state;
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    char planted[PATH_MAX + 64];
    unsigned long n;
    struct buf b;
    bool cut = true;

    assert_int_equal(fsutil_join(path, sizeof(path), t->path, "out"), CM_OK);
    assert_int_equal(fsutil_write_temp(path, "x", 1, 0600, tmp, sizeof(tmp)),
                     CM_OK);
    assert_int_equal(unlink(tmp), 0);
    n = strtoul(strrchr(tmp, '.') + 1, NULL, 10);
    for (unsigned long k = 1; k <= 3; k++) {
        int fd;

        snprintf(planted, sizeof(planted), "%s.tmp.%ld.%lu", path,
                 (long)getpid(), n + k);
        fd = open(planted, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        close(fd);
    }
    assert_int_equal(fsutil_write_atomic(path, "new", 3, 0600), CM_OK);
    buf_init(&b, 64);
    assert_int_equal(fsutil_read_file(path, 64, &b, &cut, NULL), CM_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "new", 3);
    buf_clear(&b);
    /* The planted files are someone else's: left as they were. */
    assert_true(fsutil_is_file(planted));
}

/* In a child process (record locks are per process): 0 when a lock
 * attempt without waiting finds path held, 1 when it gets the lock. */
static int
child_try_lock(const char *path)
{
    pid_t pid = fork();
    int status = -1;

    if (pid == 0) {
        int fd = -2;

        if (fsutil_lock(path, false, &fd) != CM_OK) {
            _exit(2);
        }
        _exit(fd < 0 ? 0 : 1);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void
test_base_fsutil_lock_excludes_processes(void **state)
{
    struct tmpdir *t = *state;
    char path[PATH_MAX];
    char link[PATH_MAX];
    int fd = -1;
    int other = 7;

    assert_int_equal(fsutil_join(path, sizeof(path), t->path, "l.lock"),
                     CM_OK);
    assert_int_equal(fsutil_lock(path, true, &fd), CM_OK);
    assert_true(fd >= 0);
    assert_true(fsutil_is_file(path)); /* created */
    assert_int_equal(child_try_lock(path), 0);
    fsutil_unlock(fd);
    assert_int_equal(child_try_lock(path), 1);
    assert_true(fsutil_is_file(path)); /* never removed */
    /* a symbolic link under the lock file's name is not followed */
    assert_int_equal(fsutil_join(link, sizeof(link), t->path, "s.lock"),
                     CM_OK);
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(fsutil_lock(link, false, &other), CM_EIO);
    assert_int_equal(other, 7);
    fsutil_unlock(-1);
}

static void
test_base_fsutil_sparse_file_bounded(void **state)
{
    struct tmpdir *t = *state;
    char path[PATH_MAX];
    struct buf b;
    bool cut = false;
    int fd;

    assert_int_equal(fsutil_join(path, sizeof(path), t->path, "big"), CM_OK);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)1 << 30), 0); /* 1 GiB sparse */
    close(fd);
    buf_init(&b, 1u << 20);
    assert_int_equal(fsutil_read_file(path, 1u << 20, &b, &cut, NULL),
                     CM_OK);
    assert_true(cut);
    assert_int_equal(b.len, 1u << 20);
    buf_clear(&b);
}

static void
test_base_fsutil_paths(void **state)
{
    struct tmpdir *t = *state;
    char out[16];
    char deep[PATH_MAX + 16];

    assert_int_equal(fsutil_dirname(out, sizeof(out), "a/b/c"), CM_OK);
    assert_string_equal(out, "a/b");
    assert_int_equal(fsutil_dirname(out, sizeof(out), "c"), CM_OK);
    assert_string_equal(out, ".");
    assert_int_equal(fsutil_dirname(out, sizeof(out), "/c"), CM_OK);
    assert_string_equal(out, "/");
    assert_int_equal(fsutil_join(out, sizeof(out), "dir", "/abs"), CM_OK);
    assert_string_equal(out, "/abs");
    assert_int_equal(fsutil_join(out, sizeof(out), ".", "f"), CM_OK);
    assert_string_equal(out, "f");
    assert_int_equal(fsutil_join(out, sizeof(out), "0123456789", "abcdef"),
                     CM_ELIMIT);
    snprintf(deep, sizeof(deep), "%s/x/y/z", t->path);
    assert_int_equal(fsutil_mkdirs(deep, 0700), CM_OK);
    assert_true(fsutil_is_dir(deep));
    assert_false(fsutil_is_file(deep));
}

struct captured {
    char line[CAPS_LOG_LINE_MAX + 1];
    enum log_level level;
    int n;
};

static void
capture_sink(void *ctx, enum log_level level, const char *line, size_t len)
{
    struct captured *c = ctx;

    memcpy(c->line, line, len + 1);
    c->level = level;
    c->n++;
}

/* The rename has put the new file in place when the directory's fsync
 * fails (EIO injected): the file is there and is what every later read
 * sees, so the write succeeded; only its survival of a power cut is in
 * doubt, which one warning names.  Reporting CM_EIO made LEARN, the
 * counters state and the update cache say "cannot write" about a file
 * that was written. */
static void
test_base_fsutil_atomic_write_dir_fsync_fails(void **state)
{
    struct tmpdir *t = *state;
    struct captured cap = {{0}, LOG_LEVEL_ERROR, 0};
    char path[PATH_MAX];
    struct buf b;
    bool cut = true;

    assert_int_equal(fsutil_join(path, sizeof(path), t->path, "f"), CM_OK);
    assert_int_equal(fsutil_write_atomic(path, "old", 3, 0600), CM_OK);
    log_setup(capture_sink, &cap, LOG_LEVEL_INFO);
    fsutil_test_fail_nth_dir_fsync(1);
    assert_int_equal(fsutil_write_atomic(path, "new", 3, 0600), CM_OK);
    assert_int_equal(cap.n, 1);
    assert_int_equal(cap.level, LOG_LEVEL_WARN);
    assert_non_null(strstr(cap.line, t->path));
    assert_non_null(strstr(cap.line, strerror(EIO)));
    /* A second failure in a row is the same state: not logged again;
     * a success ends it, and the next failure is logged. */
    fsutil_test_fail_nth_dir_fsync(1);
    assert_int_equal(fsutil_write_atomic(path, "new", 3, 0600), CM_OK);
    assert_int_equal(cap.n, 1);
    assert_int_equal(fsutil_write_atomic(path, "new", 3, 0600), CM_OK);
    fsutil_test_fail_nth_dir_fsync(1);
    assert_int_equal(fsutil_write_atomic(path, "new", 3, 0600), CM_OK);
    assert_int_equal(cap.n, 2);
    fsutil_test_fail_nth_dir_fsync(0);
    log_setup(NULL, NULL, LOG_LEVEL_INFO);
    buf_init(&b, 64);
    assert_int_equal(fsutil_read_file(path, 64, &b, &cut, NULL), CM_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "new", 3);
    buf_clear(&b);
    /* fsutil_fsync_dir_of itself still reports the failure, with errno. */
    fsutil_test_fail_nth_dir_fsync(1);
    errno = 0;
    assert_int_equal(fsutil_fsync_dir_of(path), CM_EIO);
    assert_int_equal(errno, EIO);
}

static void
test_base_log_sample_escapes(void **state)
{
    static const uint8_t hostile[] = "a\r\n\"\\\x01\xff";
    static const uint8_t with_nul[] = {'a', 0, 'b'};
    struct captured cap = {{0}, LOG_LEVEL_ERROR, 0};
    char out[128];
    uint8_t long_input[200];

    (void)state;
    /* The sample is escaped once, by the log line: a CR reads \x0d, not
     * \x5cx0d. */
    log_setup(capture_sink, &cap, LOG_LEVEL_INFO);
    log_sample(out, sizeof(out), hostile, sizeof(hostile) - 1);
    log_warn("dropped: %s", out);
    assert_string_equal(cap.line,
                        "dropped: a\\x0d\\x0a\"\\x5c\\x01\\xff");
    /* A NUL cannot pass through a C string: the sample ends there, cut. */
    log_sample(out, sizeof(out), with_nul, sizeof(with_nul));
    assert_string_equal(out, "a...");
    log_setup(NULL, NULL, LOG_LEVEL_INFO);
    memset(long_input, 'z', sizeof(long_input));
    log_sample(out, sizeof(out), long_input, sizeof(long_input));
    assert_int_equal(strlen(out), CAPS_LOG_SAMPLE_MAX + 3);
    assert_string_equal(out + CAPS_LOG_SAMPLE_MAX, "...");
    /* a tiny destination is still terminated */
    log_sample(out, 4, hostile, sizeof(hostile) - 1);
    assert_true(strlen(out) < 4);
}

/* ipnet: the forms whitelist.cfg and reputation lists share. */
static void
test_base_ipnet(void **state)
{
    struct ipnet n;
    uint8_t o = 0;

    (void)state;
    assert_null(ipnet_parse("::ffff:10.0.0.0/104", 19, &n));
    assert_true(n.is_v4 && n.is_v6_text);
    assert_int_equal(n.prefix, 104);
    assert_int_equal(n.addr[12], 10);
    assert_null(ipnet_parse("10.0.0.0/8", 10, &n));
    assert_true(n.is_v4 && !n.is_v6_text);
    assert_int_equal(n.prefix, 104);
    /* "::1" is not IPv4-compatible text; hex groups may start with 0 */
    assert_null(ipnet_parse("::1", 3, &n));
    assert_false(n.is_v4);
    assert_null(ipnet_parse("2001:db8::0a:1.2.3.4", 20, &n));
    assert_null(ipnet_parse("0.0.0.0/8", 9, &n));
    assert_non_null(strstr(ipnet_parse("1.02.3.4", 8, &n), "leading zero"));
    assert_non_null(strstr(ipnet_parse("::0.0.0.1", 9, &n), "compatible"));
    assert_non_null(strstr(ipnet_parse("1.2.3.4/24", 10, &n), "host bits"));
    assert_non_null(strstr(ipnet_parse("1.2.3.0/024", 11, &n), "leading"));
    assert_non_null(ipnet_parse("", 0, &n));
    assert_non_null(ipnet_parse("/8", 2, &n));
    assert_non_null(ipnet_parse("1.2.3.0/", 8, &n));
    assert_null(ipnet_octet_parse("0", 1, &o));
    assert_non_null(ipnet_octet_parse("00", 2, &o));
    assert_non_null(ipnet_octet_parse("256", 3, &o));
}

static void
test_base_log_lines_bounded_and_escaped(void **state)
{
    struct captured cap = {{0}, LOG_LEVEL_ERROR, 0};
    char big[2000];

    (void)state;
    log_setup(capture_sink, &cap, LOG_LEVEL_INFO);
    log_warn("bad %s", "x\ny");
    assert_int_equal(cap.n, 1);
    assert_int_equal(cap.level, LOG_LEVEL_WARN);
    assert_string_equal(cap.line, "bad x\\x0ay");
    /* A literal "\x0a" must not read like an escaped LF, and 8-bit bytes
     * from a header or file name must not reach the log raw. */
    log_warn("subj %s", "a\\x0a \xc3\xa9\xff");
    assert_string_equal(cap.line, "subj a\\x5cx0a \\xc3\\xa9\\xff");
    cap.n = 1;
    log_debug("hidden");
    assert_int_equal(cap.n, 1);
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_error("%s", big);
    assert_int_equal(strlen(cap.line), CAPS_LOG_LINE_MAX);
    /* escapes near the cap are dropped whole, never cut in half */
    memset(big, 0xff, sizeof(big) - 1);
    log_error("%s", big);
    assert_int_equal(strlen(cap.line) % 4, 0);
    assert_true(strlen(cap.line) > CAPS_LOG_LINE_MAX - 4);
    assert_string_equal(cap.line + strlen(cap.line) - 4, "\\xff");
    log_setup(NULL, NULL, LOG_LEVEL_INFO);
}

/* The default sink's lines on stderr, into out (cap bytes). */
static void
stderr_lines(const char *program, char *out, size_t cap)
{
    char tmpl[] = "/tmp/test_base_log.XXXXXX";
    int fd = mkstemp(tmpl);
    int saved = dup(STDERR_FILENO);
    ssize_t n;

    assert_true(fd >= 0 && saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    log_setup(NULL, (void *)program, LOG_LEVEL_INFO);
    log_warn("w %d", 1);
    log_setup(NULL, NULL, LOG_LEVEL_INFO);
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    n = pread(fd, out, cap - 1, 0);
    assert_true(n >= 0);
    out[n] = '\0';
    close(fd);
    unlink(tmpl);
}

static void
test_base_fsutil_is_within(void **state)
{
    char root[] = "/tmp/test_base_within.XXXXXX";
    char other[] = "/tmp/test_base_other.XXXXXX";
    char path[256];
    struct stat st;

    (void)state;
    assert_non_null(mkdtemp(root));
    assert_non_null(mkdtemp(other));
    assert_int_equal(stat(root, &st), 0);
    snprintf(path, sizeof(path), "%s/a", root);
    assert_int_equal(mkdir(path, 0700), 0);
    /* Below it (also through "..", and a tail that does not exist yet),
     * the directory itself, and not another. */
    snprintf(path, sizeof(path), "%s/a/../a/not-yet", root);
    assert_true(fsutil_is_within(path, sizeof(path), st.st_dev, st.st_ino,
                                 16));
    snprintf(path, sizeof(path), "%s", root);
    assert_true(fsutil_is_within(path, sizeof(path), st.st_dev, st.st_ino,
                                 16));
    snprintf(path, sizeof(path), "%s/x", other);
    assert_false(fsutil_is_within(path, sizeof(path), st.st_dev, st.st_ino,
                                  16));
    /* No further up than asked. */
    snprintf(path, sizeof(path), "%s/a/b/c", root);
    assert_false(fsutil_is_within(path, sizeof(path), st.st_dev, st.st_ino,
                                  2));
    snprintf(path, sizeof(path), "%s/a", root);
    rmdir(path);
    rmdir(root);
    rmdir(other);
}

static void
test_base_log_stderr_names_program(void **state)
{
    static char cmtool_name[] = "cmtool";
    char out[256];

    (void)state;
    /* cmtool's warnings are cmtool's, not the helper's. */
    stderr_lines(cmtool_name, out, sizeof(out));
    assert_string_equal(out, "cmtool: warning: w 1\n");
    stderr_lines(NULL, out, sizeof(out));
    assert_string_equal(out, "CGPCloudmark: warning: w 1\n");
}

static void
test_base_strerror_total(void **state)
{
    (void)state;
    for (int e = CM_OK; e <= CM_ENET; e++) {
        assert_non_null(cm_strerror((enum cm_err)e));
    }
    assert_string_equal(cm_strerror((enum cm_err)999), "unknown error");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_buf_append_and_cap),
        cmocka_unit_test(test_base_buf_printf),
        cmocka_unit_test(test_base_buf_alloc_failure),
        cmocka_unit_test(test_base_cursor_reads),
        cmocka_unit_test(test_base_cursor_truncated_length),
        cmocka_unit_test(test_base_cursor_decimal),
        cmocka_unit_test(test_base_arena_budget),
        cmocka_unit_test(test_base_arena_grow_and_blocks),
        cmocka_unit_test_setup_teardown(
            test_base_fsutil_read_refuses_non_regular, tmpdir_setup,
            tmpdir_teardown),
        cmocka_unit_test_setup_teardown(
            test_base_fsutil_read_says_why_not_opened, tmpdir_setup,
            tmpdir_teardown),
        cmocka_unit_test_setup_teardown(
            test_base_fsutil_atomic_write_and_bounded_read, tmpdir_setup,
            tmpdir_teardown),
        cmocka_unit_test_setup_teardown(
            test_base_fsutil_atomic_write_dir_fsync_fails, tmpdir_setup,
            tmpdir_teardown),
        cmocka_unit_test_setup_teardown(
            test_base_fsutil_write_temp_name_taken, tmpdir_setup,
            tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_base_fsutil_write_temp,
                                        tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(
            test_base_fsutil_lock_excludes_processes, tmpdir_setup,
            tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_base_fsutil_sparse_file_bounded,
                                        tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_base_fsutil_paths, tmpdir_setup,
                                        tmpdir_teardown),
        cmocka_unit_test(test_base_log_sample_escapes),
        cmocka_unit_test(test_base_ipnet),
        cmocka_unit_test(test_base_log_lines_bounded_and_escaped),
        cmocka_unit_test(test_base_fsutil_is_within),
        cmocka_unit_test(test_base_log_stderr_names_program),
        cmocka_unit_test(test_base_strerror_total),
    };

    return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
