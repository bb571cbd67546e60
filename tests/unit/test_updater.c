/*
 * test_updater.c -- unit tests for updater: base URL, back-off, the
 * statistics body, the not-configured and bad-key paths, the start-up
 * choice from the cache, and the thread against a small HTTP server in
 * this process (install and hot swap, conditional GET answered 304, a
 * statistics POST, stop while a transfer stalls, stop while backing off).
 * Cartridges are trained from testdata/update/train with train_main.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "caps.h"
#include "cartridge.h"
#include "config.h"
#include "delta.h"
#include "fsutil.h"
#include "log.h"
#include "train.h"
#include "updater.h"
#include "updfile.h"
#include "updkeys.h"

#define TRAIN_DIR "testdata/update/train"

/* ---- a tiny HTTP server ---------------------------------------------- */

struct srv {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* what it serves */
    struct buf manifest;
    const char *etag;
    char file_name[64];
    struct buf file;
    char file2_name[64]; /* a second file ("" for none) */
    struct buf file2;
    size_t stall_from_manifest; /* this manifest request (1-based) stalls */
    /* what it saw */
    size_t n_manifest;
    char heads[16][1024];
    size_t n_heads;
    char post[4096];
    size_t n_posts;
    bool is_stalled;
    bool is_released;
    /* manifest GETs received after this wall time (0: not counted) */
    time_t count_after;
    size_t n_manifest_after;
    /* a file answered "503 busy, Retry-After: 120" ("" for none), and
     * how many GETs of file_name came */
    char busy_name[64];
    size_t n_file;
    /* a file whose body never comes: headers, one byte, then the
     * connection is held until the client gives up ("" for none) */
    char stall_name[64];
    /* the updater's refusals, from its on_refused hook */
    size_t n_refused;
    enum cm_err last_refused;
};

static void
send_all(int fd, const void *p, size_t len)
{
    const char *b = p;

    while (len > 0) {
        ssize_t n = write(fd, b, len);
        if (n <= 0) {
            return;
        }
        b += n;
        len -= (size_t)n;
    }
}

static void
respond(int fd, int status, const char *extra, const uint8_t *body,
        size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n%s\r\n",
                     status, len, extra);

    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

static void
serve_one(struct srv *s, int c)
{
    char req[8192];
    size_t got = 0;
    char *end = NULL;
    size_t want_body = 0;
    char *cl;
    bool is_manifest;
    size_t manifest_no = 0;

    while (got < sizeof(req) - 1 && end == NULL) {
        ssize_t n = read(c, req + got, sizeof(req) - 1 - got);
        if (n <= 0) {
            return;
        }
        got += (size_t)n;
        req[got] = '\0';
        end = strstr(req, "\r\n\r\n");
    }
    if (end == NULL) {
        return;
    }
    cl = strstr(req, "Content-Length: ");
    if (cl != NULL && cl < end) {
        want_body = (size_t)strtoul(cl + 16, NULL, 10);
    }
    while (got - (size_t)(end + 4 - req) < want_body && got < sizeof(req) - 1) {
        ssize_t n = read(c, req + got, sizeof(req) - 1 - got);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
        req[got] = '\0';
    }
    is_manifest = strncmp(req, "GET /manifest ", 14) == 0;
    pthread_mutex_lock(&s->lock);
    if (s->n_heads < 16) {
        snprintf(s->heads[s->n_heads++], sizeof(s->heads[0]), "%.*s",
                 (int)(end - req), req);
    }
    if (is_manifest) {
        manifest_no = ++s->n_manifest;
        if (s->count_after != 0 && time(NULL) > s->count_after) {
            s->n_manifest_after++;
        }
    }
    if (strncmp(req, "POST /cmstats ", 14) == 0) {
        snprintf(s->post, sizeof(s->post), "%s", end + 4);
        s->n_posts++;
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);

    if (is_manifest && manifest_no == s->stall_from_manifest) {
        /* Headers promise a body that never comes. */
        send_all(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nx", 44);
        pthread_mutex_lock(&s->lock);
        s->is_stalled = true;
        pthread_cond_broadcast(&s->cond);
        while (!s->is_released) {
            pthread_cond_wait(&s->cond, &s->lock);
        }
        pthread_mutex_unlock(&s->lock);
    } else if (is_manifest) {
        char inm[128];
        snprintf(inm, sizeof(inm), "If-None-Match: %s\r\n", s->etag);
        if (strstr(req, inm) != NULL) {
            respond(c, 304, "", NULL, 0);
        } else {
            snprintf(inm, sizeof(inm), "ETag: %s\r\n", s->etag);
            respond(c, 200, inm, s->manifest.data, s->manifest.len);
        }
    } else if (s->stall_name[0] != '\0' && strncmp(req, "GET /", 5) == 0 &&
               strncmp(req + 5, s->stall_name, strlen(s->stall_name)) ==
                   0) {
        /* Within the size the manifest lists, so only time refuses it. */
        static const char head[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\nx";
        send_all(c, head, sizeof(head) - 1);
        while (read(c, req, sizeof(req)) > 0) {
        }
    } else if (s->busy_name[0] != '\0' && strncmp(req, "GET /", 5) == 0 &&
               strncmp(req + 5, s->busy_name, strlen(s->busy_name)) == 0) {
        respond(c, 503, "Retry-After: 120\r\n", (const uint8_t *)"busy\n",
                5);
    } else if (s->file2_name[0] != '\0' && strncmp(req, "GET /", 5) == 0 &&
               strncmp(req + 5, s->file2_name, strlen(s->file2_name)) ==
                   0) {
        respond(c, 200, "", s->file2.data, s->file2.len);
    } else if (strncmp(req, "GET /", 5) == 0 &&
               strncmp(req + 5, s->file_name, strlen(s->file_name)) == 0) {
        pthread_mutex_lock(&s->lock);
        s->n_file++;
        pthread_mutex_unlock(&s->lock);
        respond(c, 200, "", s->file.data, s->file.len);
    } else if (strncmp(req, "POST /cmstats ", 14) == 0) {
        respond(c, 200, "", (const uint8_t *)"ok\n", 3);
    } else {
        respond(c, 404, "", (const uint8_t *)"no\n", 3);
    }
}

static void *
srv_main(void *arg)
{
    struct srv *s = arg;

    for (;;) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR) {
                continue;
            }
            return NULL;
        }
        serve_one(s, c);
        close(c);
    }
}

static void
srv_start(struct srv *s)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);

    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
}

/* A stopped server's files and itself. */
static void
srv_free(struct srv *s)
{
    buf_clear(&s->file);
    buf_clear(&s->file2);
    buf_clear(&s->manifest);
    free(s);
}

static void
srv_stop(struct srv *s)
{
    pthread_mutex_lock(&s->lock);
    s->is_released = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    shutdown(s->fd, SHUT_RDWR);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}

/* Wait (bounded, so a bug fails instead of hanging) for a condition. */
static bool
srv_wait(struct srv *s, bool (*pred)(const struct srv *))
{
    struct timespec ts;
    bool ok;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 60;
    pthread_mutex_lock(&s->lock);
    while (!pred(s)) {
        if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT) {
            break;
        }
    }
    ok = pred(s);
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* ---- fixture --------------------------------------------------------- */

struct fixture {
    char dir[64];
    struct config cfg;
    struct updkeys_key secret;
    struct updkeys_key content;
    char c1[128];
    char c2[128];
};

static int
train(const char *out, const char *version)
{
    char *argv[] = {"train",   "--version", (char *)version, "--folds",
                    "2",       "--passes",  "1",             TRAIN_DIR,
                    "-o",      (char *)out, NULL};

    return train_main(10, argv);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct updkeys_key pub;
    struct updkeys_ring r;
    char path[256];

    if (f == NULL || !fsutil_is_dir(TRAIN_DIR)) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_updater.XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        return -1;
    }
    snprintf(f->c1, sizeof(f->c1), "%s/c1.cmc", f->dir);
    snprintf(f->c2, sizeof(f->c2), "%s/c2.cmc", f->dir);
    if (train(f->c1, "1") != 0 || train(f->c2, "2") != 0) {
        return -1;
    }
    if (updkeys_generate(&f->secret, &pub, &f->content) != CM_OK) {
        return -1;
    }
    memset(&r, 0, sizeof(r));
    r.kind = UPDKEYS_SIGNING_PUBLIC;
    r.n_keys = 1;
    r.keys[0] = pub;
    snprintf(path, sizeof(path), "%s/update.pub", f->dir);
    if (updkeys_save(path, &r, true) != CM_OK) {
        return -1;
    }
    r.kind = UPDKEYS_CONTENT;
    r.keys[0] = f->content;
    snprintf(path, sizeof(path), "%s/content.key", f->dir);
    if (updkeys_save(path, &r, true) != CM_OK) {
        return -1;
    }
    config_defaults(&f->cfg);
    snprintf(f->cfg.cart.public_key_path, CONFIG_PATH_MAX, "%s/update.pub",
             f->dir);
    snprintf(f->cfg.cart.content_key_path, CONFIG_PATH_MAX, "%s/content.key",
             f->dir);
    snprintf(f->cfg.cart.cache_path, CONFIG_PATH_MAX, "%s/cache", f->dir);
    snprintf(f->cfg.cart.customer_id, CONFIG_TEXT_MAX, "ACME & Co");
    f->cfg.cart.mu_timeout_s = 10;
    f->cfg.cart.mu_interval_s = 1;
    f->cfg.cart.report_statistics = false;
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
    updkeys_key_wipe(&f->secret);
    updkeys_key_wipe(&f->content);
    free(f);
    return 0;
}

static void
read_file(const char *path, struct buf *b)
{
    bool is_truncated = false;

    buf_init(b, CAPS_UPDFILE_PAYLOAD_MAX_BYTES);
    assert_int_equal(fsutil_read_file(path, CAPS_UPDFILE_PAYLOAD_MAX_BYTES, b,
                                      &is_truncated, NULL),
                     CM_OK);
}

/* ---- tests ----------------------------------------------------------- */

static void
test_updater_base_url(void **state)
{
    struct config cfg;
    char url[64];

    (void)state;
    config_defaults(&cfg);
    assert_false(updater_is_configured(&cfg));
    assert_int_equal(updater_base_url(&cfg, url, sizeof(url)), CM_EINVAL);
    snprintf(cfg.cart.mu_hostname, CONFIG_TEXT_MAX, "updates.example.com");
    cfg.cart.mu_port = 8080;
    assert_true(updater_is_configured(&cfg));
    assert_int_equal(updater_base_url(&cfg, url, sizeof(url)), CM_OK);
    assert_string_equal(url, "http://updates.example.com:8080/");
    snprintf(cfg.cart.mu_hostname, CONFIG_TEXT_MAX, "2001:db8::1");
    assert_int_equal(updater_base_url(&cfg, url, sizeof(url)), CM_OK);
    assert_string_equal(url, "http://[2001:db8::1]:8080/");
    /* the url wins and gets its slash */
    snprintf(cfg.cart.mu_url, CONFIG_PATH_MAX, "https://cdn.example/u");
    assert_int_equal(updater_base_url(&cfg, url, sizeof(url)), CM_OK);
    assert_string_equal(url, "https://cdn.example/u/");
    snprintf(cfg.cart.mu_url, CONFIG_PATH_MAX, "https://cdn.example/u/");
    assert_int_equal(updater_base_url(&cfg, url, sizeof(url)), CM_OK);
    assert_string_equal(url, "https://cdn.example/u/");
    assert_int_equal(updater_base_url(&cfg, url, 23), CM_OK);
    assert_int_equal(updater_base_url(&cfg, url, 22), CM_ELIMIT);
}

static void
test_updater_backoff(void **state)
{
    unsigned prev_max = 0;

    (void)state;
    /* equal jitter: within [d/2, d], d doubling from the minimum */
    for (unsigned n = 1; n <= 12; n++) {
        unsigned lo = updater_backoff_s(n, 300, 0, 0);
        unsigned hi = updater_backoff_s(n, 300, 0, UINT64_MAX);
        unsigned d = CAPS_UPDATER_BACKOFF_MIN_S << (n - 1);
        if (d > CAPS_UPDATER_BACKOFF_MAX_S || n > 10) {
            d = CAPS_UPDATER_BACKOFF_MAX_S;
        }
        assert_true(lo >= d / 2 && lo <= d);
        assert_true(hi >= d / 2 && hi <= d);
        for (uint64_t r = 0; r < 50; r++) {
            unsigned v = updater_backoff_s(n, 300, 0, r * 0x9e3779b97f4a7c15);
            assert_true(v >= d / 2 && v <= d);
        }
        assert_true(d >= prev_max);
        prev_max = d;
    }
    assert_int_equal(updater_backoff_s(1, 300, 0, 0),
                     CAPS_UPDATER_BACKOFF_MIN_S / 2);
    /* a long interval raises the ceiling */
    assert_true(updater_backoff_s(30, 86400, 0, UINT64_MAX) <= 86400);
    assert_true(updater_backoff_s(30, 86400, 0, UINT64_MAX) > 3600);
    /* Retry-After is a floor, itself capped */
    assert_int_equal(updater_backoff_s(1, 300, 120, 0), 120);
    assert_int_equal(updater_backoff_s(1, 300, 100000000, 0),
                     CAPS_UPDATER_RETRY_AFTER_MAX_S);
    /* no overflow with absurd failure counts */
    assert_true(updater_backoff_s(UINT32_MAX, UINT32_MAX, 0, 7) > 0);
}

static void
test_updater_stats_body(void **state)
{
    struct updater_counters k;
    struct buf b;
    uint8_t d[32];
    uint8_t salted[UPDATER_STATS_SALT_LEN + 15];
    char hex[65];
    char want[100];

    (void)state;
    memset(&k, 0, sizeof(k));
    k.cycles = 24;
    k.installed = 2;
    k.refused_signature = 1;
    k.refused_digest = 2;
    buf_init(&b, CAPS_UPDATER_STATS_BODY_MAX_BYTES);
    assert_int_equal(updater_stats_body("ACME & Co/ü", "mx1.example.com",
                                        NULL, 7, 3600, &k, &b),
                     CM_OK);
    assert_non_null(strstr((char *)b.data, "format=1&customer=ACME%20%26%20Co"
                                           "%2F%C3%BC&host=mx1.example.com&"
                                           "cartridge=7&period_s=3600&"
                                           "update_cycles=24&"
                                           "updates_installed=2"));
    assert_non_null(strstr((char *)b.data, "updates_refused=3"));
    buf_reset(&b);
    /* anonymized: SHA-256 of the salt and the name, never the bare
     * name's hash (undone by hashing the names MX records publish) */
    memset(salted, 0x5a, UPDATER_STATS_SALT_LEN);
    memcpy(salted + UPDATER_STATS_SALT_LEN, "mx1.example.com", 15);
    assert_int_equal(updater_stats_body("", "mx1.example.com", salted, 7,
                                        3600, &k, &b),
                     CM_OK);
    updkeys_sha256(salted, UPDATER_STATS_SALT_LEN + 15, d);
    updkeys_hex(d, 32, hex);
    snprintf(want, sizeof(want), "&host=%s&", hex);
    assert_non_null(strstr((char *)b.data, want));
    assert_null(strstr((char *)b.data, "example"));
    updkeys_sha256((const uint8_t *)"mx1.example.com", 15, d);
    updkeys_hex(d, 32, hex);
    assert_null(strstr((char *)b.data, hex));
    buf_clear(&b);
    buf_init(&b, 40);
    assert_int_equal(updater_stats_body("x", "h", NULL, 7, 3600, &k, &b),
                     CM_ELIMIT);
    buf_clear(&b);
}

static void
test_updater_not_configured_and_bad_keys(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct updater_result res;
    struct updater_counters k;

    /* nothing configured: no thread, nothing sent, a clear message */
    assert_null(updater_start(&cfg, NULL, NULL, NULL));
    assert_int_equal(updater_run_once(&cfg, &res), CM_EINVAL);
    assert_int_equal(res.outcome, UPDATER_FAILED);
    assert_non_null(strstr(res.why, "micro-update url"));
    assert_false(updater_wait_first(NULL, 1));
    updater_stop(NULL);
    updater_counters_get(NULL, &k);
    assert_int_equal(k.cycles, 0);
    /* a key file that is not there: a configuration error naming it */
    snprintf(cfg.cart.mu_url, CONFIG_PATH_MAX, "http://127.0.0.1:9/");
    snprintf(cfg.cart.public_key_path, CONFIG_PATH_MAX, "%s/nope.pub",
             f->dir);
    assert_int_equal(updater_run_once(&cfg, &res), CM_EINVAL);
    assert_non_null(strstr(res.why, "nope.pub"));
    assert_non_null(strstr(res.why, "no such file"));
    /* the content key file given as the public key */
    snprintf(cfg.cart.public_key_path, CONFIG_PATH_MAX, "%s/content.key",
             f->dir);
    assert_int_equal(updater_run_once(&cfg, &res), CM_EINVAL);
    assert_non_null(strstr(res.why, "wrong key type"));
}

static void
test_updater_load_startup_from_cache(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct cartridge *c = NULL;
    struct buf img;
    char path[CONFIG_PATH_MAX + 32];
    bool is_default = true;

    snprintf(cfg.cart.cache_path, CONFIG_PATH_MAX, "%s/startup", f->dir);
    assert_int_equal(fsutil_mkdirs(cfg.cart.cache_path, 0700), CM_OK);
    read_file(f->c2, &img);
    /* newest by name first: 9 is garbage, 5 holds version 2 (mismatch),
     * 2 is good; names that are not ours are ignored */
    snprintf(path, sizeof(path), "%s/cartridge-9.cmc", cfg.cart.cache_path);
    assert_int_equal(fsutil_write_atomic(path, "junk", 4, 0600), CM_OK);
    snprintf(path, sizeof(path), "%s/cartridge-5.cmc", cfg.cart.cache_path);
    assert_int_equal(fsutil_write_atomic(path, img.data, img.len, 0600),
                     CM_OK);
    snprintf(path, sizeof(path), "%s/cartridge-2.cmc", cfg.cart.cache_path);
    assert_int_equal(fsutil_write_atomic(path, img.data, img.len, 0600),
                     CM_OK);
    snprintf(path, sizeof(path), "%s/cartridge-x.cmc", cfg.cart.cache_path);
    assert_int_equal(fsutil_write_atomic(path, "junk", 4, 0600), CM_OK);
    assert_int_equal(updater_load_startup(&cfg, &c, &is_default, NULL), CM_OK);
    assert_false(is_default);
    assert_int_equal(cartridge_version(c), 2);
    cartridge_unref(c);
    buf_clear(&img);
}

/* The request head of the n-th (0-based) manifest GET, or "". */
static const char *
manifest_head(const struct srv *s, size_t n)
{
    for (size_t i = 0; i < s->n_heads; i++) {
        if (strncmp(s->heads[i], "GET /manifest ", 14) == 0 && n-- == 0) {
            return s->heads[i];
        }
    }
    return "";
}

static bool
has_three_manifests(const struct srv *s)
{
    return s->n_manifest >= 3 && s->is_stalled;
}

/* The manifest entry for a built update file. */
static void
entry_of(struct updfile_entry *e, const char *name, enum updfile_kind kind,
         uint64_t base, uint64_t version, const struct buf *file)
{
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->kind = kind;
    e->base_version = base;
    e->version = version;
    e->size = file->len;
    updkeys_sha256(file->data, file->len, e->sha256);
}

/* full-2.cmu, installing cartridge image img as version 2, into s->file;
 * spec is left set up for building more files of version 2. */
static void
build_full_2(const struct fixture *f, struct srv *s, const struct buf *img,
             struct updfile_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->kind = UPDFILE_FULL;
    spec->version = 2;
    updkeys_sha256(img->data, img->len, spec->target_sha256);
    buf_init(&s->file, CAPS_UPDFILE_MAX_BYTES);
    assert_int_equal(updfile_build(spec, img->data, img->len, &f->secret,
                                   &f->content, &s->file),
                     CM_OK);
    snprintf(s->file_name, sizeof(s->file_name), "full-2.cmu");
}

/* The signed manifest of version 2 (its entries already in m), issued
 * now and valid for lifetime_s seconds, served with ETag "v2". */
static void
sign_manifest_2(const struct fixture *f, struct srv *s,
                struct updfile_manifest *m, uint64_t lifetime_s)
{
    m->version = 2;
    m->issued_unix = (uint64_t)time(NULL);
    m->expires_unix = m->issued_unix + lifetime_s;
    buf_init(&s->manifest, CAPS_UPDFILE_MANIFEST_MAX_BYTES);
    assert_int_equal(updfile_manifest_format(m, &f->secret, &s->manifest),
                     CM_OK);
    s->etag = "\"v2\"";
}

/* A server tree holding only full-2.cmu (cartridge c2 as version 2, its
 * image read into img) under a manifest valid for lifetime_s seconds;
 * the caller starts the server. */
static void
serve_only_full_2(const struct fixture *f, struct srv *s,
                  struct updfile_manifest *m, struct buf *img,
                  struct updfile_spec *spec, uint64_t lifetime_s)
{
    read_file(f->c2, img);
    build_full_2(f, s, img, spec);
    m->n_files = 1;
    entry_of(&m->files[0], "full-2.cmu", UPDFILE_FULL, 0, 2, &s->file);
    sign_manifest_2(f, s, m, lifetime_s);
}

/* serve_only_full_2 under a manifest valid a day, the server started,
 * and cfg pointed at it with its cache in f->dir/cache_sub (made). */
static void
start_full_2_server(const struct fixture *f, struct srv *s,
                    struct updfile_manifest *m, struct buf *img,
                    struct updfile_spec *spec, struct config *cfg,
                    const char *cache_sub)
{
    serve_only_full_2(f, s, m, img, spec, 86400);
    srv_start(s);
    snprintf(cfg->cart.mu_url, CONFIG_PATH_MAX, "http://127.0.0.1:%d/",
             s->port);
    snprintf(cfg->cart.cache_path, CONFIG_PATH_MAX, "%s/%s", f->dir,
             cache_sub);
    assert_int_equal(fsutil_mkdirs(cfg->cart.cache_path, 0700), CM_OK);
}

/* A cartridge slot serving cartridge c1 (version 1). */
static struct cartridge_slot *
slot_of_c1(const struct fixture *f)
{
    struct cartridge *c1 = NULL;
    struct cartridge_slot *slot;

    assert_int_equal(cartridge_load_file(f->c1, &c1, NULL), CM_OK);
    slot = cartridge_slot_new(c1);
    assert_non_null(slot);
    return slot;
}

static void
on_installed(void *ctx, uint64_t version)
{
    *(uint64_t *)ctx = version;
}

static void
test_updater_thread_swap_304_stats_stop(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct srv *s = calloc(1, sizeof(*s));
    struct updfile_spec spec;
    struct updfile_manifest *m = calloc(1, sizeof(*m));
    struct updater_hooks hooks;
    struct updater_counters k;
    struct cartridge_slot *slot;
    const struct cartridge *cur;
    struct updater *u;
    struct buf img;
    uint64_t installed = 0;
    char why[256];
    const char *p;
    char path[CONFIG_PATH_MAX + 32];

    assert_non_null(s);
    assert_non_null(m);
    /* the server's tree: version 2 as a full file */
    serve_only_full_2(f, s, m, &img, &spec, 86400);
    s->stall_from_manifest = 3;
    srv_start(s);

    snprintf(cfg.cart.mu_url, CONFIG_PATH_MAX, "http://127.0.0.1:%d",
             s->port);
    slot = slot_of_c1(f);
    memset(&hooks, 0, sizeof(hooks));
    hooks.on_installed = on_installed;
    hooks.ctx = &installed;
    u = updater_start(&cfg, slot, &hooks, NULL);
    assert_non_null(u);

    /* first cycle: manifest, file, cache, hot swap */
    assert_true(updater_wait_first(u, 60));
    cur = cartridge_acquire(slot);
    assert_int_equal(cartridge_version(cur), 2);
    cartridge_unref(cur);
    snprintf(path, sizeof(path), "%s/cartridge-2.cmc", cfg.cart.cache_path);
    assert_true(fsutil_is_file(path));

    /* a statistics POST, from this thread */
    assert_int_equal(updater_post_stats(u, why, sizeof(why)), CM_OK);

    /* second cycle is conditional and answered 304; the third stalls
     * and updater_stop must abort it */
    assert_true(srv_wait(s, has_three_manifests));
    updater_counters_get(u, &k);
    updater_stop(u);
    assert_int_equal(installed, 2);
    assert_int_equal(k.installed, 1);
    assert_int_equal(k.not_modified, 1);
    assert_int_equal(k.stats_sent, 1);
    assert_non_null(strstr(manifest_head(s, 0), "GET /manifest "));
    assert_null(strstr(manifest_head(s, 0), "If-None-Match"));
    assert_non_null(strstr(manifest_head(s, 1), "If-None-Match: \"v2\""));
    assert_int_equal(s->n_posts, 1);
    assert_non_null(strstr(s->post, "customer=ACME%20%26%20Co"));
    assert_non_null(strstr(s->post, "cartridge=2"));
    /* the seconds since the updater started, which the counters cover;
     * it said 3600 (the POST interval) whatever the counters held */
    p = strstr(s->post, "period_s=");
    assert_non_null(p);
    assert_true(strtoul(p + 9, NULL, 10) < 600);
    srv_stop(s);

    cartridge_slot_free(slot);
    buf_clear(&img);
    srv_free(s);
    free(m);
}

static void
on_refused_srv(void *ctx, enum cm_err err)
{
    struct srv *s = ctx;

    pthread_mutex_lock(&s->lock);
    s->n_refused++;
    s->last_refused = err;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* The updater refused something, or it had two cycles' chances. */
static bool
has_refusal_or_two_late_manifests(const struct srv *s)
{
    return s->n_refused > 0 || s->n_manifest_after >= 2;
}

/*
 * A server that answers 304 Not Modified forever may not hold the helper
 * past the expiry of the manifest it once verified: the first 304 after
 * that expiry is refused as expired (and the validators dropped), instead
 * of every cycle counting as "current".  The manifest here expires a few
 * seconds after it is issued; the server keeps answering 304.
 */
static void
test_updater_304_after_expiry(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct srv *s = calloc(1, sizeof(*s));
    struct updfile_spec spec;
    struct updfile_manifest *m = calloc(1, sizeof(*m));
    struct updater_hooks hooks;
    struct cartridge_slot *slot;
    struct updater *u;
    struct buf img;

    assert_non_null(s);
    assert_non_null(m);
    serve_only_full_2(f, s, m, &img, &spec, 3);
    /* the updater refuses from expires + 1 on ("now > expires") */
    s->count_after = (time_t)m->expires_unix + 1;
    srv_start(s);

    snprintf(cfg.cart.mu_url, CONFIG_PATH_MAX, "http://127.0.0.1:%d",
             s->port);
    snprintf(cfg.cart.cache_path, CONFIG_PATH_MAX, "%s/expiry", f->dir);
    slot = slot_of_c1(f);
    memset(&hooks, 0, sizeof(hooks));
    hooks.on_refused = on_refused_srv;
    hooks.ctx = s;
    u = updater_start(&cfg, slot, &hooks, NULL);
    assert_non_null(u);
    assert_true(updater_wait_first(u, 60));
    assert_true(srv_wait(s, has_refusal_or_two_late_manifests));
    updater_stop(u);
    assert_int_equal(s->n_refused, 1);
    assert_int_equal(s->last_refused, CM_EEXPIRED);
    srv_stop(s);

    cartridge_slot_free(slot);
    buf_clear(&img);
    srv_free(s);
    free(m);
}

/*
 * A server s (started) with full-2.cmu and delta-1-2.cmu, the delta made
 * from base to image 2 (image 1 for a good delta) into delta_file and
 * listed under that name, which is also copied into serve_as (one of
 * s's name fields: what the server does with it); cfg points at s and
 * at the cache folder f->dir/sub, which holds version 1 installed, so
 * the delta is the file a cycle asks for.  d is the delta's payload.
 */
static void
serve_full_and_delta(struct fixture *f, struct srv *s,
                     struct updfile_manifest *m, const struct buf *img2,
                     const struct buf *base, struct buf *d,
                     struct buf *delta_file, char serve_as[64],
                     const char *sub, struct config *cfg)
{
    struct updfile_spec spec;
    struct buf img1;
    char path[CONFIG_PATH_MAX + 32];

    build_full_2(f, s, img2, &spec);
    buf_init(d, CAPS_UPDFILE_PAYLOAD_MAX_BYTES);
    assert_int_equal(delta_make(base->data, base->len, img2->data, img2->len,
                                d),
                     CM_OK);
    spec.kind = UPDFILE_DELTA;
    spec.base_version = 1;
    buf_init(delta_file, CAPS_UPDFILE_MAX_BYTES);
    assert_int_equal(updfile_build(&spec, d->data, d->len, &f->secret,
                                   &f->content, delta_file),
                     CM_OK);
    snprintf(serve_as, 64, "delta-1-2.cmu");
    m->n_files = 2;
    entry_of(&m->files[0], "full-2.cmu", UPDFILE_FULL, 0, 2, &s->file);
    entry_of(&m->files[1], "delta-1-2.cmu", UPDFILE_DELTA, 1, 2, delta_file);
    sign_manifest_2(f, s, m, 86400);
    srv_start(s);

    snprintf(cfg->cart.mu_url, CONFIG_PATH_MAX, "http://127.0.0.1:%d/",
             s->port);
    snprintf(cfg->cart.cache_path, CONFIG_PATH_MAX, "%s/%s", f->dir, sub);
    assert_int_equal(fsutil_mkdirs(cfg->cart.cache_path, 0700), CM_OK);
    snprintf(path, sizeof(path), "%s/cartridge-1.cmc", cfg->cart.cache_path);
    read_file(f->c1, &img1);
    assert_int_equal(fsutil_write_atomic(path, img1.data, img1.len, 0600),
                     CM_OK);
    buf_clear(&img1);
}

/* serve_full_and_delta with a good delta (from image 1 to image 2),
 * served under the name field at name_offset of struct srv says how to
 * answer it (busy_name, stall_name); what it holds, for delta_case_free. */
struct delta_case {
    struct srv *s;
    struct updfile_manifest *m;
    struct buf img1;
    struct buf img2;
    struct buf d;
    struct buf delta_file;
};

static struct srv *
delta_case_start(struct fixture *f, struct delta_case *dc,
                 size_t name_offset, const char *sub, struct config *cfg)
{
    dc->s = calloc(1, sizeof(*dc->s));
    dc->m = calloc(1, sizeof(*dc->m));
    assert_non_null(dc->s);
    assert_non_null(dc->m);
    read_file(f->c1, &dc->img1);
    read_file(f->c2, &dc->img2);
    serve_full_and_delta(f, dc->s, dc->m, &dc->img2, &dc->img1, &dc->d,
                         &dc->delta_file, (char *)dc->s + name_offset, sub,
                         cfg);
    return dc->s;
}

/* Stop the server and free what delta_case_start made. */
static void
delta_case_free(struct delta_case *dc)
{
    srv_stop(dc->s);
    buf_clear(&dc->img1);
    buf_clear(&dc->img2);
    buf_clear(&dc->d);
    buf_clear(&dc->delta_file);
    srv_free(dc->s);
    free(dc->m);
}

/*
 * The server answers the delta with 503 and Retry-After: the cycle fails
 * and waits as asked, instead of turning at once to the full file on the
 * server that just said it is busy (which only a delta refused on its
 * content, or missing, justifies).
 */
static void
test_updater_busy_delta_no_full_fallback(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct delta_case dc;
    struct srv *s;
    struct updater_result res;
    char path[CONFIG_PATH_MAX + 32];

    /* a good delta, answered "503 busy" */
    s = delta_case_start(f, &dc, offsetof(struct srv, busy_name), "busy",
                         &cfg);
    assert_int_equal(updater_run_once(&cfg, &res), CM_ENET);
    assert_int_equal(res.outcome, UPDATER_FAILED);
    assert_non_null(strstr(res.why, "retry after 120"));
    assert_int_equal(s->n_file, 0);
    snprintf(path, sizeof(path), "%s/cartridge-2.cmc", cfg.cart.cache_path);
    assert_false(fsutil_is_file(path));

    /* a delta the server does not have (404) still falls back */
    s->busy_name[0] = '\0';
    assert_int_equal(updater_run_once(&cfg, &res), CM_OK);
    assert_int_equal(res.outcome, UPDATER_INSTALLED);
    assert_false(res.was_delta);
    assert_int_equal(s->n_file, 1);
    delta_case_free(&dc);
}

/*
 * The server answers the manifest but the delta's body never comes (a
 * stalled CDN edge): the full file is fetched in the same cycle.  A delta
 * that timed out used to fail the cycle with no fall-back, every cycle,
 * so no helper updated until the next publish replaced the delta.
 */
static void
test_updater_stalled_delta_falls_back(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct delta_case dc;
    struct srv *s;
    struct updater_result res;

    cfg.cart.mu_timeout_s = 1;
    s = delta_case_start(f, &dc, offsetof(struct srv, stall_name), "stalled",
                         &cfg);
    assert_int_equal(updater_run_once(&cfg, &res), CM_OK);
    assert_int_equal(res.outcome, UPDATER_INSTALLED);
    assert_int_equal(res.version, 2);
    assert_false(res.was_delta);
    assert_true(res.is_delta_refused);
    assert_int_equal(s->n_file, 1);
    assert_non_null(strstr(res.why, "the delta was not used: "));
    assert_non_null(strstr(res.why, "timed out after 1 s"));
    delta_case_free(&dc);
}

/*
 * Out of memory at each buffer allocation of a cycle in turn, until the
 * cycle installs: no failure is said as a size refusal.  Running out while
 * receiving the manifest or a file was reported "larger than N bytes,
 * refused" (CM_ELIMIT), pointing at the server instead of the machine.
 */
static void
test_updater_out_of_memory_said_so(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct srv *s = calloc(1, sizeof(*s));
    struct updfile_manifest *m = calloc(1, sizeof(*m));
    struct updfile_spec spec;
    struct updater_result res;
    struct buf img;
    unsigned n_out_of_memory = 0;
    unsigned nth;

    assert_non_null(s);
    assert_non_null(m);
    start_full_2_server(f, s, m, &img, &spec, &cfg, "oom");
    for (nth = 1; nth < 200; nth++) {
        enum cm_err rc;

        buf_test_fail_nth_alloc(nth);
        rc = updater_run_once(&cfg, &res);
        buf_test_fail_nth_alloc(0);
        if (rc == CM_OK) {
            break;
        }
        assert_null(strstr(res.why, "larger than"));
        assert_int_not_equal(rc, CM_ELIMIT);
        if (rc == CM_ENOMEM && strstr(res.why, "out of memory") != NULL) {
            n_out_of_memory++;
        }
    }
    srv_stop(s);
    assert_true(nth < 200);
    assert_int_equal(res.outcome, UPDATER_INSTALLED);
    assert_true(n_out_of_memory > 0);

    buf_clear(&img);
    srv_free(s);
    free(m);
}

/* The host= value of the server's last POST into out (65 bytes). */
static void
posted_host(struct srv *s, char out[65])
{
    const char *p;

    pthread_mutex_lock(&s->lock);
    p = strstr(s->post, "&host=");
    assert_non_null(p);
    assert_int_equal(strcspn(p + 6, "&"), 64);
    memcpy(out, p + 6, 64);
    out[64] = '\0';
    pthread_mutex_unlock(&s->lock);
}

/* An updater on cfg posting statistics once; its host= value into out. */
static void
post_once(const struct fixture *f, const struct config *cfg, struct srv *s,
          char out[65])
{
    struct cartridge_slot *slot = slot_of_c1(f);
    struct updater *u = updater_start(cfg, slot, NULL, NULL);
    char why[256];

    assert_non_null(u);
    assert_int_equal(updater_post_stats(u, why, sizeof(why)), CM_OK);
    updater_stop(u);
    cartridge_slot_free(slot);
    posted_host(s, out);
}

/*
 * `anonymize statistics`: the host is the hash of a salt kept in the
 * cache folder (0600) and the name, the same across restarts.  It was the
 * bare SHA-256 of the host name, which anyone can compute for the names
 * a mail server's MX records publish.
 */
static void
test_updater_anonymous_stats_salted(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct srv *s = calloc(1, sizeof(*s));
    struct updfile_manifest *m = calloc(1, sizeof(*m));
    struct updfile_spec spec;
    struct buf img;
    struct buf saltfile;
    struct stat st;
    char path[CONFIG_PATH_MAX + 32];
    char host[256];
    uint8_t salted[UPDATER_STATS_SALT_LEN + 256];
    uint8_t d[32];
    char want[65];
    char first[65];
    char again[65];
    size_t host_len;

    assert_non_null(s);
    assert_non_null(m);
    start_full_2_server(f, s, m, &img, &spec, &cfg, "anon");
    cfg.cart.anonymize_statistics = true;
    post_once(f, &cfg, s, first);
    /* a restart keeps the same pseudonym */
    post_once(f, &cfg, s, again);
    srv_stop(s);
    assert_string_equal(first, again);

    snprintf(path, sizeof(path), "%s/" UPDATER_STATS_SALT_FILE,
             cfg.cart.cache_path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    read_file(path, &saltfile);
    assert_true(saltfile.len >= 2 * UPDATER_STATS_SALT_LEN);
    assert_int_equal(updkeys_unhex((const char *)saltfile.data,
                                   2 * UPDATER_STATS_SALT_LEN, salted,
                                   UPDATER_STATS_SALT_LEN),
                     CM_OK);
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    host[sizeof(host) - 1] = '\0';
    host_len = strlen(host);
    memcpy(salted + UPDATER_STATS_SALT_LEN, host, host_len);
    updkeys_sha256(salted, UPDATER_STATS_SALT_LEN + host_len, d);
    updkeys_hex(d, 32, want);
    assert_string_equal(first, want);
    updkeys_sha256((const uint8_t *)host, host_len, d);
    updkeys_hex(d, 32, want);
    assert_string_not_equal(first, want);

    buf_clear(&saltfile);
    buf_clear(&img);
    srv_free(s);
    free(m);
}

/* A 127.0.0.1 port nobody listens on (bound, read, closed). */
static int
dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Log lines seen by the test sink (the updater thread writes them). */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen_logs[4096];

static void
capture_sink(void *ctx, enum log_level level, const char *line, size_t len)
{
    size_t have;

    (void)ctx;
    (void)level;
    pthread_mutex_lock(&seen_lock);
    have = strlen(seen_logs);
    snprintf(seen_logs + have, sizeof(seen_logs) - have, "%.*s\n", (int)len,
             line);
    pthread_mutex_unlock(&seen_lock);
}

static void
test_updater_stop_during_backoff(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct cartridge *c1 = NULL;
    struct cartridge_slot *slot;
    struct updater_counters k;
    struct updater *u;

    /* a port with nobody listening: the first cycle fails at once;
     * credentials in the URL never reach a log line */
    snprintf(cfg.cart.mu_url, CONFIG_PATH_MAX,
             "http://user:s3cret@127.0.0.1:%d/", dead_port());
    /* an empty cache: the swap test's cartridge-2 would be adopted */
    snprintf(cfg.cart.cache_path, CONFIG_PATH_MAX, "%s/backoff", f->dir);
    assert_int_equal(cartridge_load_file(f->c1, &c1, NULL), CM_OK);
    slot = cartridge_slot_new(c1);
    seen_logs[0] = '\0';
    log_setup(capture_sink, NULL, LOG_LEVEL_DEBUG);
    u = updater_start(&cfg, slot, NULL, NULL);
    assert_non_null(u);
    assert_false(updater_wait_first(u, 60));
    updater_counters_get(u, &k);
    assert_int_equal(k.cycles, 1);
    assert_int_equal(k.net_failures, 1);
    /* now sleeping CAPS_UPDATER_BACKOFF_MIN_S/2 or more: stop wakes it */
    updater_stop(u);
    log_setup(NULL, NULL, LOG_LEVEL_INFO);
    assert_non_null(strstr(seen_logs, "checking http://***@127.0.0.1:"));
    assert_non_null(strstr(seen_logs, "Couldn't connect"));
    assert_null(strstr(seen_logs, "s3cret"));
    cartridge_slot_free(slot);
}

/* With the embedded default serving, a failed cycle's log line names it
 * ("keeping the embedded default"), not "cartridge 0", which the start-up
 * banner (showing the default's own version) never mentions. */
static void
test_updater_failure_names_default(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct cartridge *def = NULL;
    struct cartridge_slot *slot;
    struct updater *u;

    snprintf(cfg.cart.mu_url, CONFIG_PATH_MAX, "http://127.0.0.1:%d/",
             dead_port());
    snprintf(cfg.cart.cache_path, CONFIG_PATH_MAX, "%s/default", f->dir);
    assert_int_equal(cartridge_load_default(&def, NULL), CM_OK);
    slot = cartridge_slot_new(def);
    assert_non_null(slot);
    pthread_mutex_lock(&seen_lock);
    seen_logs[0] = '\0';
    pthread_mutex_unlock(&seen_lock);
    log_setup(capture_sink, NULL, LOG_LEVEL_DEBUG);
    u = updater_start(&cfg, slot, NULL, NULL);
    assert_non_null(u);
    assert_false(updater_wait_first(u, 60));
    updater_stop(u);
    log_setup(NULL, NULL, LOG_LEVEL_INFO);
    assert_non_null(strstr(seen_logs, "; keeping the embedded default, "
                                      "next try in "));
    assert_null(strstr(seen_logs, "keeping cartridge 0"));
    cartridge_slot_free(slot);
}

/* A newer cartridge another process (UPDATE) left in the cache is taken
 * by the thread's next cycle, with no network I/O: here the update host
 * does not even listen. */
static void
test_updater_adopts_newer_cache(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct cartridge_slot *slot;
    const struct cartridge *cur;
    struct updater_counters k;
    struct updater *u;
    struct buf img;
    uint64_t installed = 0;
    struct updater_hooks hooks;
    char path[CONFIG_PATH_MAX + 32];

    snprintf(cfg.cart.mu_url, CONFIG_PATH_MAX, "http://127.0.0.1:%d/",
             dead_port());
    snprintf(cfg.cart.cache_path, CONFIG_PATH_MAX, "%s/adopt", f->dir);
    assert_int_equal(fsutil_mkdirs(cfg.cart.cache_path, 0700), CM_OK);
    read_file(f->c2, &img);
    snprintf(path, sizeof(path), "%s/cartridge-2.cmc", cfg.cart.cache_path);
    assert_int_equal(fsutil_write_atomic(path, img.data, img.len, 0600),
                     CM_OK);
    slot = slot_of_c1(f);
    memset(&hooks, 0, sizeof(hooks));
    hooks.on_installed = on_installed;
    hooks.ctx = &installed;
    u = updater_start(&cfg, slot, &hooks, NULL);
    assert_non_null(u);
    assert_true(updater_wait_first(u, 60));
    updater_counters_get(u, &k);
    updater_stop(u);
    cur = cartridge_acquire(slot);
    assert_int_equal(cartridge_version(cur), 2);
    cartridge_unref(cur);
    assert_int_equal(installed, 2);
    assert_int_equal(k.installed, 1);
    assert_int_equal(k.net_failures, 0);
    cartridge_slot_free(slot);
    buf_clear(&img);
}

static bool
has_three_manifests_only(const struct srv *s)
{
    return s->n_manifest >= 3;
}

static bool
has_five_manifests(const struct srv *s)
{
    return s->n_manifest >= 5;
}

/* How many captured log lines contain needle. */
static size_t
count_logs(const char *needle)
{
    size_t n = 0;
    const char *p;

    pthread_mutex_lock(&seen_lock);
    p = seen_logs;
    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    pthread_mutex_unlock(&seen_lock);
    return n;
}

/*
 * A cached cartridge newer than the installed one that does not load is
 * reported once and not read again, cycle after cycle, until the file
 * changes: cartridge-9.cmc holds junk while the thread installs version 2
 * and then sees 304s; after it is rewritten it is tried (and reported)
 * once more.
 */
static void
test_updater_bad_cache_file_once(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct srv *s = calloc(1, sizeof(*s));
    struct updfile_spec spec;
    struct updfile_manifest *m = calloc(1, sizeof(*m));
    struct cartridge_slot *slot;
    struct updater *u;
    struct buf img;
    char path[CONFIG_PATH_MAX + 32];

    assert_non_null(s);
    assert_non_null(m);
    start_full_2_server(f, s, m, &img, &spec, &cfg, "badonce");
    snprintf(path, sizeof(path), "%s/cartridge-9.cmc", cfg.cart.cache_path);
    assert_int_equal(fsutil_write_atomic(path, "junk", 4, 0600), CM_OK);
    slot = slot_of_c1(f);
    pthread_mutex_lock(&seen_lock);
    seen_logs[0] = '\0';
    pthread_mutex_unlock(&seen_lock);
    log_setup(capture_sink, NULL, LOG_LEVEL_INFO);
    u = updater_start(&cfg, slot, NULL, NULL);
    assert_non_null(u);
    /* install, then two cycles answered 304 */
    assert_true(srv_wait(s, has_three_manifests_only));
    assert_int_equal(count_logs("cartridge-9.cmc"), 1);
    /* a new file under the name: read again (the wait covers a cycle
     * that began after the rewrite) */
    assert_int_equal(fsutil_write_atomic(path, "other junk", 10, 0600),
                     CM_OK);
    assert_true(srv_wait(s, has_five_manifests));
    updater_stop(u);
    log_setup(NULL, NULL, LOG_LEVEL_INFO);
    assert_int_equal(count_logs("cartridge-9.cmc"), 2);
    srv_stop(s);

    cartridge_slot_free(slot);
    buf_clear(&img);
    srv_free(s);
    free(m);
}

/*
 * A corrupt cached cartridge is read and reported once per process: the
 * start-up load skips it and hands what it skipped to the thread, whose
 * first cycle (cache_adopt_newer) does not read it again; the same for
 * UPDATE's start-up load and its one cycle.  Both used to read and warn
 * about cartridge-9.cmc twice.
 */
static void
test_updater_bad_cache_file_at_start_once(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct cartridge *c = NULL;
    struct cartridge_slot *slot;
    struct updater_result res;
    struct updater_skipped skipped;
    struct updater *u;
    bool is_default = false;
    char path[CONFIG_PATH_MAX + 32];

    snprintf(cfg.cart.mu_url, CONFIG_PATH_MAX, "http://127.0.0.1:%d/",
             dead_port());
    snprintf(cfg.cart.cache_path, CONFIG_PATH_MAX, "%s/badstart", f->dir);
    assert_int_equal(fsutil_mkdirs(cfg.cart.cache_path, 0700), CM_OK);
    snprintf(path, sizeof(path), "%s/cartridge-9.cmc", cfg.cart.cache_path);
    assert_int_equal(fsutil_write_atomic(path, "junk", 4, 0600), CM_OK);
    pthread_mutex_lock(&seen_lock);
    seen_logs[0] = '\0';
    pthread_mutex_unlock(&seen_lock);
    log_setup(capture_sink, NULL, LOG_LEVEL_INFO);
    assert_int_equal(updater_load_startup(&cfg, &c, &is_default, &skipped),
                     CM_OK);
    assert_true(is_default);
    assert_int_equal(skipped.n, 1);
    slot = cartridge_slot_new(c);
    assert_non_null(slot);
    u = updater_start(&cfg, slot, NULL, &skipped);
    assert_non_null(u);
    assert_false(updater_wait_first(u, 60));
    updater_stop(u);
    assert_int_equal(count_logs("cartridge-9.cmc"), 1);

    pthread_mutex_lock(&seen_lock);
    seen_logs[0] = '\0';
    pthread_mutex_unlock(&seen_lock);
    assert_int_equal(updater_run_once(&cfg, &res), CM_ENET);
    log_setup(NULL, NULL, LOG_LEVEL_INFO);
    assert_int_equal(count_logs("cartridge-9.cmc"), 1);
    cartridge_slot_free(slot);
}

/* Make path's modification time two hours old (no link followed). */
static void
age_path(const char *path)
{
    struct timespec ts[2];

    ts[0].tv_sec = time(NULL) - 7200;
    ts[0].tv_nsec = 0;
    ts[1] = ts[0];
    assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/*
 * The cache's stale temporary files are judged with lstat, regular files
 * only (as fsutil_remove_stale_temps): after an install prunes the cache,
 * an old regular "cartridge-N.cmc.tmp.<pid>.<n>" is gone, but a fresh
 * one stays, and so do a symbolic link under such a name whose target is
 * old (stat followed it, so it was removed) and an old FIFO.
 */
static void
test_updater_cache_temps_lstat(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct srv *s = calloc(1, sizeof(*s));
    struct updfile_spec spec;
    struct updfile_manifest *m = calloc(1, sizeof(*m));
    struct updater_result res;
    struct buf img;
    struct stat st;
    char target[CONFIG_PATH_MAX + 32];
    char link_tmp[CONFIG_PATH_MAX + 32];
    char old_tmp[CONFIG_PATH_MAX + 32];
    char new_tmp[CONFIG_PATH_MAX + 32];
    char fifo_tmp[CONFIG_PATH_MAX + 32];

    assert_non_null(s);
    assert_non_null(m);
    start_full_2_server(f, s, m, &img, &spec, &cfg, "temps");
    snprintf(target, sizeof(target), "%s/linked-target", f->dir);
    assert_int_equal(fsutil_write_atomic(target, "x", 1, 0600), CM_OK);
    age_path(target);
    snprintf(link_tmp, sizeof(link_tmp), "%s/cartridge-3.cmc.tmp.1.0",
             cfg.cart.cache_path);
    assert_int_equal(symlink(target, link_tmp), 0);
    snprintf(old_tmp, sizeof(old_tmp), "%s/cartridge-4.cmc.tmp.1.0",
             cfg.cart.cache_path);
    assert_int_equal(fsutil_write_atomic(old_tmp, "x", 1, 0600), CM_OK);
    age_path(old_tmp);
    snprintf(new_tmp, sizeof(new_tmp), "%s/cartridge-5.cmc.tmp.1.0",
             cfg.cart.cache_path);
    assert_int_equal(fsutil_write_atomic(new_tmp, "x", 1, 0600), CM_OK);
    snprintf(fifo_tmp, sizeof(fifo_tmp), "%s/cartridge-6.cmc.tmp.1.0",
             cfg.cart.cache_path);
    assert_int_equal(mkfifo(fifo_tmp, 0600), 0);
    age_path(fifo_tmp);

    assert_int_equal(updater_run_once(&cfg, &res), CM_OK);
    assert_int_equal(res.outcome, UPDATER_INSTALLED);
    srv_stop(s);
    assert_int_not_equal(lstat(old_tmp, &st), 0);
    assert_int_equal(lstat(new_tmp, &st), 0);
    assert_int_equal(lstat(link_tmp, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(lstat(fifo_tmp, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_true(fsutil_is_file(target));

    buf_clear(&img);
    srv_free(s);
    free(m);
}

/*
 * Install version 2 (start_full_2_server, cache f->dir/cache_sub) into a
 * cache that already holds junk files under the names given, and check
 * that cartridge-2.cmc is there afterwards.  The server is stopped.
 */
static void
install_2_beside_junk(const struct fixture *f, struct srv *s,
                      struct updfile_manifest *m, struct buf *img,
                      struct config *cfg, const char *cache_sub,
                      const char *const *junk, size_t n_junk)
{
    struct updfile_spec spec;
    struct updater_result res;
    char path[CONFIG_PATH_MAX + 32];

    start_full_2_server(f, s, m, img, &spec, cfg, cache_sub);
    for (size_t i = 0; i < n_junk; i++) {
        snprintf(path, sizeof(path), "%s/%s", cfg->cart.cache_path, junk[i]);
        assert_int_equal(fsutil_write_atomic(path, "junk", 4, 0600), CM_OK);
    }
    assert_int_equal(updater_run_once(cfg, &res), CM_OK);
    assert_int_equal(res.outcome, UPDATER_INSTALLED);
    assert_int_equal(res.version, 2);
    srv_stop(s);
    snprintf(path, sizeof(path), "%s/cartridge-2.cmc", cfg->cart.cache_path);
    assert_true(fsutil_is_file(path));
}

/*
 * Only the spelling the cache writes, "cartridge-<N>.cmc" with no leading
 * zero, names a cached version.  Three junk files named like version 9 with
 * leading zeros were read as three copies of version 9, which filled the
 * CAPS_UPDATER_CACHE_KEEP slots, so the prune after installing version 2
 * deleted cartridge-2.cmc, the image just installed, and left the junk.
 */
static void
test_updater_cache_names_canonical_only(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct srv *s = calloc(1, sizeof(*s));
    struct updfile_manifest *m = calloc(1, sizeof(*m));
    struct cartridge *c = NULL;
    bool is_default = false;
    struct buf img;
    char path[CONFIG_PATH_MAX + 32];
    const char *const aliases[] = {"cartridge-09.cmc", "cartridge-009.cmc",
                                   "cartridge-0009.cmc"};

    assert_non_null(s);
    assert_non_null(m);
    install_2_beside_junk(f, s, m, &img, &cfg, "zeros", aliases,
                          sizeof(aliases) / sizeof(aliases[0]));

    /* an image under a zero-padded name alone is not a cached version:
     * start-up takes the embedded default */
    snprintf(cfg.cart.cache_path, CONFIG_PATH_MAX, "%s/zeros2", f->dir);
    assert_int_equal(fsutil_mkdirs(cfg.cart.cache_path, 0700), CM_OK);
    snprintf(path, sizeof(path), "%s/cartridge-02.cmc", cfg.cart.cache_path);
    assert_int_equal(fsutil_write_atomic(path, img.data, img.len, 0600),
                     CM_OK);
    assert_int_equal(updater_load_startup(&cfg, &c, &is_default, NULL), CM_OK);
    assert_true(is_default);
    cartridge_unref(c);

    buf_clear(&img);
    srv_free(s);
    free(m);
}

/*
 * The prune after an install never deletes the image just installed.
 * With CAPS_UPDATER_CACHE_KEEP cached files above it that do not load
 * (junk under canonical names, skipped at start), the newest "KEEP"
 * were the junk, so cartridge-2.cmc was unlinked right after it was
 * written: a restart went back to the embedded default, and the next
 * delta had no base.
 */
static void
test_updater_prune_keeps_installed(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct srv *s = calloc(1, sizeof(*s));
    struct updfile_manifest *m = calloc(1, sizeof(*m));
    struct cartridge *c = NULL;
    bool is_default = true;
    struct buf img;
    char names[CAPS_UPDATER_CACHE_KEEP][32];
    const char *junk[CAPS_UPDATER_CACHE_KEEP];

    assert_non_null(s);
    assert_non_null(m);
    /* canonical names above the version installed */
    for (unsigned k = 0; k < CAPS_UPDATER_CACHE_KEEP; k++) {
        snprintf(names[k], sizeof(names[k]), "cartridge-%u.cmc", 7 + k);
        junk[k] = names[k];
    }
    install_2_beside_junk(f, s, m, &img, &cfg, "prunejunk", junk,
                          CAPS_UPDATER_CACHE_KEEP);
    /* and a restart starts on it */
    assert_int_equal(updater_load_startup(&cfg, &c, &is_default, NULL), CM_OK);
    assert_false(is_default);
    assert_int_equal(cartridge_version(c), 2);
    cartridge_unref(c);

    buf_clear(&img);
    srv_free(s);
    free(m);
}

/*
 * A delta refused on its content is replaced by the full file in the same
 * cycle, and the refusal is said: the install's text names the delta and
 * why it was not used.  It used to read "installed cartridge 2 (full file
 * from 1)" only, so a tree whose deltas every helper refuses (a bad
 * signature, a base that differs) showed nowhere but in a counter.
 */
static void
test_updater_refused_delta_reported(void **state)
{
    struct fixture *f = *state;
    struct config cfg = f->cfg;
    struct srv *s = calloc(1, sizeof(*s));
    struct updfile_manifest *m = calloc(1, sizeof(*m));
    struct updater_result res;
    struct buf img2;
    struct buf d;

    assert_non_null(s);
    assert_non_null(m);
    read_file(f->c2, &img2);
    /* delta-1-2.cmu made from the wrong base (image 2 itself), served */
    serve_full_and_delta(f, s, m, &img2, &img2, &d, &s->file2,
                         s->file2_name, "baddelta", &cfg);
    assert_int_equal(updater_run_once(&cfg, &res), CM_OK);
    srv_stop(s);
    assert_int_equal(res.outcome, UPDATER_INSTALLED);
    assert_int_equal(res.version, 2);
    assert_false(res.was_delta);
    assert_int_equal(s->n_file, 1);
    assert_non_null(strstr(res.why, "installed cartridge 2 (full file "
                                    "from 1; "));
    assert_non_null(strstr(res.why, "delta-1-2.cmu: delta refused: "));
    assert_true(res.is_delta_refused);

    buf_clear(&img2);
    buf_clear(&d);
    srv_free(s);
    free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_updater_base_url),
        cmocka_unit_test(test_updater_backoff),
        cmocka_unit_test(test_updater_stats_body),
        cmocka_unit_test(test_updater_anonymous_stats_salted),
        cmocka_unit_test(test_updater_not_configured_and_bad_keys),
        cmocka_unit_test(test_updater_load_startup_from_cache),
        cmocka_unit_test(test_updater_thread_swap_304_stats_stop),
        cmocka_unit_test(test_updater_stop_during_backoff),
        cmocka_unit_test(test_updater_adopts_newer_cache),
        cmocka_unit_test(test_updater_304_after_expiry),
        cmocka_unit_test(test_updater_busy_delta_no_full_fallback),
        cmocka_unit_test(test_updater_stalled_delta_falls_back),
        cmocka_unit_test(test_updater_out_of_memory_said_so),
        cmocka_unit_test(test_updater_failure_names_default),
        cmocka_unit_test(test_updater_cache_temps_lstat),
        cmocka_unit_test(test_updater_cache_names_canonical_only),
        cmocka_unit_test(test_updater_prune_keeps_installed),
        cmocka_unit_test(test_updater_refused_delta_reported),
        cmocka_unit_test(test_updater_bad_cache_file_once),
        cmocka_unit_test(test_updater_bad_cache_file_at_start_once),
    };

    /* The updater logs to stderr here (the default sink): fine. */
    return cmocka_run_group_tests_name("updater", tests, setup, teardown);
}
