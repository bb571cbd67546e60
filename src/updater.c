/*
 * updater.c -- the micro-update downloader: start-up cartridge, the libcurl
 * thread, one cycle for UPDATE, the cache directory and the statistics
 * POST (SPEC §5; formats in updfile.c, deltas in delta.c).
 *
 * DESIGN
 *
 * One cycle (cycle()):
 *   1. GET <base>manifest, conditional (If-None-Match / If-Modified-Since)
 *      once a previous cycle ended cleanly on the same manifest; 304 means
 *      nothing to do while that manifest has not expired (after, it is
 *      refused as expired and the validators are dropped).  At most
 *      CAPS_UPDFILE_MANIFEST_MAX_BYTES are taken.
 *   2. Verify and parse it (updfile_manifest_parse, expiry against the
 *      wall clock).  A version older than the one installed is refused as a
 *      replay; the same version means "current".  The embedded default
 *      counts as version 0: any published cartridge replaces it.
 *   3. Pick the delta from the installed version when the manifest lists
 *      one and the installed image is in the cache, else the full file;
 *      if the delta fails (refused, missing, cut short, timed out), the
 *      full file is tried once in the same cycle, unless the updater is
 *      stopping or the server was busy (429/503): then the back-off and
 *      Retry-After apply first.
 *   4. GET it with the manifest's size as the hard cap (write callback and
 *      CURLOPT_MAXFILESIZE), check size and SHA-256 against the manifest,
 *      then updfile_open (signature, replay, GCM, bounded inflate), check
 *      the header against the manifest, apply a delta to the cached base
 *      image, check the image's SHA-256, cartridge_load it and require its
 *      version to be the update's.
 *   5. Write it to the cache (fsutil_write_atomic: temp, fsync, rename,
 *      directory fsync), prune the cache to CAPS_UPDATER_CACHE_KEEP
 *      versions (never the one just stored), and only then publish it
 *      (thread) or report it (UPDATE).
 *      A cartridge that cannot be cached is not installed, so a restart
 *      never goes back to an older version than the one that served.
 * Every refusal leaves the installed cartridge serving.  A cycle first
 * adopts a newer cartridge another process left in the cache
 * (cache_adopt_newer) and then does no network I/O; a cached file that
 * fails to load there is logged once and skipped until stat shows it
 * changed (struct updater_cache_bad), not read and validated again every
 * cycle; the files the start-up load skipped are handed to the thread
 * (struct updater_skipped) and count the same.
 *
 * Thread: wakes for a cycle at start and then every interval (minus up to
 * 10% jitter); after a failure it waits updater_backoff_s() instead, and
 * at least what a 503/429 Retry-After asked for.  Sleeping is a timed wait
 * on a condition variable (CLOCK_MONOTONIC), so updater_stop wakes it at
 * once; a transfer in progress is aborted by the progress callback, which
 * reads the same stop flag.  Statistics go out every
 * CAPS_UPDATER_STATS_INTERVAL_S when `report statistics` is on.
 * Logging follows state changes: an install is always logged, a failure
 * only when its text differs from the previous cycle's, and the recovery
 * once.  Counters count every event.
 *
 * State owned here: the struct updater (config pointer, keys, curl handle,
 * conditional-GET validators, counters and the installed version under
 * counters_lock (statistics may be posted from another thread), the
 * stop/first-cycle flags under wait_lock), and the cache directory.
 * Secrets: the content key is wiped at stop; the proxy credentials are
 * handed to libcurl and never formatted into any message.
 */
#include "updater.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "caps.h"
#include "cursor.h"
#include "delta.h"
#include "fsutil.h"
#include "log.h"
#include "updfile.h"
#include "updkeys.h"

#define UPDATER_URL_MAX 1200u
#define UPDATER_USER_AGENT "CGPCloudmark-updater/1"
#define UPDATER_CACHE_PREFIX "cartridge-"
#define UPDATER_CACHE_SUFFIX ".cmc"

struct updater {
    const struct config *cfg;
    struct cartridge_slot *slot; /* NULL for UPDATE */
    struct updater_hooks hooks;
    char base_url[UPDATER_URL_MAX];
    struct updkeys_ring pub;
    struct updkeys_ring content;
    CURL *curl;

    /* Conditional GET: validators of the last manifest fully handled,
     * and when that manifest expires (a 304 re-affirms it, so it may do
     * so only until then). */
    char etag[CAPS_UPDATER_HEADER_VALUE_MAX + 1];
    char last_modified[CAPS_UPDATER_HEADER_VALUE_MAX + 1];
    uint64_t validators_expire_unix;

    /* The installed cartridge: written by the updater thread only, under
     * counters_lock; other threads read it under the lock. */
    uint64_t current_version;
    bool is_current_default;

    /* Thread state. */
    pthread_t thread;
    bool has_thread;
    pthread_mutex_t wait_lock; /* guards is_first_done and the condvar */
    pthread_cond_t wait_cond;
    bool is_first_done;
    bool is_first_installed;
    atomic_bool is_stopping; /* also read by the curl progress callback */
    unsigned retry_after_s;  /* asked by the last failed transfer */
    bool is_server_busy;     /* it answered 429 or 503 */

    /* When the counters started (CLOCK_MONOTONIC seconds): they run
     * from here, so the statistics say how long they cover. */
    uint64_t started_mono_s;

    /* `anonymize statistics`: the site's salt for the host name's hash
     * (stats_salt_get), read or made at the first POST.  Posting thread
     * only. */
    uint8_t stats_salt[UPDATER_STATS_SALT_LEN];
    bool has_stats_salt;

    /* Log on change: the last failure text ("" when the last cycle was
     * fine), and whether the last statistics POST failed. */
    char last_failure[256];
    bool has_stats_failed;

    /* Cached files cache_adopt_newer or the start-up load found unusable
     * (logged once each), filled round-robin from next_cache_bad.
     * Updater thread only (once it runs). */
    struct updater_cache_bad cache_bad[CAPS_UPDATER_CACHE_BAD_MAX];
    size_t next_cache_bad;

    pthread_mutex_t counters_lock;
    struct updater_counters counters;
};

/* One HTTP exchange. */
struct fetch {
    struct buf body;
    size_t max_bytes;
    bool is_over_cap;
    bool is_out_of_memory; /* the body could not be stored */
    long status;
    unsigned retry_after_s;
    char etag[CAPS_UPDATER_HEADER_VALUE_MAX + 1];
    char last_modified[CAPS_UPDATER_HEADER_VALUE_MAX + 1];
};

/* ---- small helpers --------------------------------------------------- */

static uint64_t
now_mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

static void
set_why(struct updater_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_why(struct updater_result *res, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(res->why, sizeof(res->why), fmt, ap);
    va_end(ap);
}

static uint64_t
random_u64(void)
{
    uint64_t v = 0;

    if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1) {
        /* No entropy: jitter degrades to a fixed point, nothing else. */
        v = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
    }
    return v;
}

static void
count(struct updater *u, uint64_t *field)
{
    pthread_mutex_lock(&u->counters_lock);
    (*field)++;
    pthread_mutex_unlock(&u->counters_lock);
}

bool
updater_is_configured(const struct config *cfg)
{
    return cfg->cart.mu_url[0] != '\0' || cfg->cart.mu_hostname[0] != '\0';
}

enum cm_err
updater_base_url(const struct config *cfg, char *dst, size_t cap)
{
    const struct config_cartridge *c = &cfg->cart;
    size_t len;
    int n;

    if (c->mu_url[0] != '\0') {
        len = strlen(c->mu_url);
        n = snprintf(dst, cap, "%s%s", c->mu_url,
                     c->mu_url[len - 1] == '/' ? "" : "/");
    } else if (c->mu_hostname[0] != '\0') {
        /* An IPv6 literal needs brackets in a URL. */
        bool is_v6 = strchr(c->mu_hostname, ':') != NULL;
        n = snprintf(dst, cap, "http://%s%s%s:%u/", is_v6 ? "[" : "",
                     c->mu_hostname, is_v6 ? "]" : "", c->mu_port);
    } else {
        return CM_EINVAL;
    }
    if (n < 0 || (size_t)n >= cap) {
        return CM_ELIMIT;
    }
    return CM_OK;
}

/* The URL for a log line: credentials in it ("user:pass@") become "***". */
static void
url_for_log(const char *url, char *dst, size_t cap)
{
    const char *host = strstr(url, "://");
    const char *at;
    const char *slash;

    if (host == NULL) {
        snprintf(dst, cap, "%s", url);
        return;
    }
    host += 3;
    slash = strchr(host, '/');
    at = strchr(host, '@');
    if (at == NULL || (slash != NULL && at > slash)) {
        snprintf(dst, cap, "%s", url);
        return;
    }
    snprintf(dst, cap, "%.*s***%s", (int)(host - url), url, at);
}

unsigned
updater_backoff_s(unsigned n_failures, unsigned interval_s,
                  unsigned retry_after_s, uint64_t rnd)
{
    unsigned ceiling = CAPS_UPDATER_BACKOFF_MAX_S;
    unsigned d = CAPS_UPDATER_BACKOFF_MIN_S;
    unsigned half;

    if (interval_s > ceiling) {
        ceiling = interval_s;
    }
    for (unsigned i = 1; i < n_failures && d < ceiling; i++) {
        d = d > ceiling / 2 ? ceiling : d * 2;
    }
    if (d > ceiling) {
        d = ceiling;
    }
    /* Equal jitter: never less than half, so back-off still grows. */
    half = d / 2;
    d = half + (unsigned)(rnd % ((uint64_t)(d - half) + 1));
    if (retry_after_s > CAPS_UPDATER_RETRY_AFTER_MAX_S) {
        retry_after_s = CAPS_UPDATER_RETRY_AFTER_MAX_S;
    }
    return d > retry_after_s ? d : retry_after_s;
}

/* ---- curl ------------------------------------------------------------ */

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
    struct fetch *f = arg;
    size_t n = size * nmemb;

    if (n > f->max_bytes - f->body.len) {
        /* Returning less than n aborts the transfer: a server cannot make
         * us hold more than the cap, whatever it declared. */
        f->is_over_cap = true;
        return 0;
    }
    if (buf_append(&f->body, p, n) != CM_OK) {
        /* Within the cap, so the machine's memory, not the server. */
        f->is_out_of_memory = true;
        return 0;
    }
    return n;
}

/* Copy a header value (trimmed) if it is short and printable. */
static void
keep_header(char *dst, size_t cap, const char *v, size_t len)
{
    while (len > 0 && (v[0] == ' ' || v[0] == '\t')) {
        v++;
        len--;
    }
    while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' ||
                       v[len - 1] == ' ' || v[len - 1] == '\t')) {
        len--;
    }
    dst[0] = '\0';
    if (len == 0 || len >= cap) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e) {
            return;
        }
    }
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t
header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
    struct fetch *f = arg;
    size_t n = size * nmemb;

    /* A new status line (after a 100 Continue, say) starts over. */
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        f->etag[0] = '\0';
        f->last_modified[0] = '\0';
    } else if (n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
        keep_header(f->etag, sizeof(f->etag), p + 5, n - 5);
    } else if (n > 14 && strncasecmp(p, "Last-Modified:", 14) == 0) {
        keep_header(f->last_modified, sizeof(f->last_modified), p + 14,
                    n - 14);
    }
    return n;
}

static int
progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
            curl_off_t ultotal, curl_off_t ulnow)
{
    struct updater *u = arg;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return atomic_load(&u->is_stopping) ? 1 : 0;
}

/* Options every request shares: timeouts, proxy, bind address, caps. */
static enum cm_err
setup_handle(struct updater *u, CURL *h, const char *url, struct fetch *f)
{
    const struct config_cartridge *c = &u->cfg->cart;
    char proxy[CONFIG_TEXT_MAX + 16];
    char iface[sizeof(c->local_address) + 8];
    long timeout_s = c->mu_timeout_s > 0 ? (long)c->mu_timeout_s : 30;
    CURLcode rc = CURLE_OK;

    if (timeout_s > (long)CAPS_UPDATER_TIMEOUT_MAX_S) {
        timeout_s = (long)CAPS_UPDATER_TIMEOUT_MAX_S;
    }
    curl_easy_reset(h);
#define SETOPT(opt, val)                           \
    do {                                           \
        if (rc == CURLE_OK) {                      \
            rc = curl_easy_setopt(h, opt, val);    \
        }                                          \
    } while (0)
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_USERAGENT, UPDATER_USER_AGENT);
    SETOPT(CURLOPT_TIMEOUT, timeout_s);
    SETOPT(CURLOPT_CONNECTTIMEOUT, timeout_s);
    SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
    SETOPT(CURLOPT_WRITEDATA, f);
    SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
    SETOPT(CURLOPT_HEADERDATA, f);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_bytes);
    SETOPT(CURLOPT_NOPROGRESS, 0L);
    SETOPT(CURLOPT_XFERINFOFUNCTION, progress_cb);
    SETOPT(CURLOPT_XFERINFODATA, u);
    /* The configured proxy or none at all: an http_proxy variable in the
     * environment CGP was started with must not redirect updates. */
    if (c->http_proxy[0] != '\0') {
        snprintf(proxy, sizeof(proxy), "http://%s", c->http_proxy);
        SETOPT(CURLOPT_PROXY, proxy);
        if (c->http_proxy_auth[0] != '\0') {
            SETOPT(CURLOPT_PROXYAUTH, (long)CURLAUTH_BASIC);
            SETOPT(CURLOPT_PROXYUSERPWD, c->http_proxy_auth);
        }
    } else {
        SETOPT(CURLOPT_PROXY, "");
    }
    if (c->local_address[0] != '\0') {
        /* "host!" makes libcurl take it as an address, not an interface
         * name. */
        snprintf(iface, sizeof(iface), "host!%s", c->local_address);
        SETOPT(CURLOPT_INTERFACE, iface);
    }
#undef SETOPT
    return rc == CURLE_OK ? CM_OK : CM_ENET;
}

/* What a finished transfer means; fills why. */
static enum cm_err
transfer_result(struct updater *u, CURL *h, CURLcode cc, struct fetch *f,
                const char *what, char *why, size_t why_cap)
{
    curl_off_t retry_after = 0;

    if (atomic_load(&u->is_stopping)) {
        snprintf(why, why_cap, "%s: stopped", what);
        return CM_ETIMEOUT;
    }
    if (f->is_out_of_memory) {
        snprintf(why, why_cap, "%s: out of memory", what);
        return CM_ENOMEM;
    }
    if (f->is_over_cap || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(why, why_cap, "%s: larger than %zu bytes, refused", what,
                 f->max_bytes);
        return CM_ELIMIT;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(why, why_cap, "%s: timed out after %u s", what,
                 u->cfg->cart.mu_timeout_s);
        return CM_ETIMEOUT;
    }
    if (cc == CURLE_PARTIAL_FILE) {
        snprintf(why, why_cap, "%s: transfer cut short (truncated)", what);
        return CM_ENET;
    }
    if (cc != CURLE_OK) {
        snprintf(why, why_cap, "%s: %s", what, curl_easy_strerror(cc));
        return CM_ENET;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &f->status);
    if (f->status == 429 || f->status == 503) {
        if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) ==
                CURLE_OK &&
            retry_after > 0) {
            f->retry_after_s =
                retry_after > (curl_off_t)CAPS_UPDATER_RETRY_AFTER_MAX_S
                    ? CAPS_UPDATER_RETRY_AFTER_MAX_S
                    : (unsigned)retry_after;
        }
        snprintf(why, why_cap, "%s: server busy (HTTP %ld, retry after %u s)",
                 what, f->status, f->retry_after_s);
        return CM_ENET;
    }
    if ((f->status < 200 || f->status > 299) && f->status != 304) {
        snprintf(why, why_cap, "%s: HTTP %ld", what, f->status);
        return CM_ENET;
    }
    return CM_OK;
}

/* line added to *list.  When libcurl cannot add it, it returns NULL and
 * leaves the old list alone: *list keeps it (to be freed) and the request
 * goes without the line -- a conditional header only saves a transfer. */
static void
add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *grown = curl_slist_append(*list, line);

    if (grown != NULL) {
        *list = grown;
    }
}

/*
 * GET url into f->body (at most max_bytes).  With validators, the request
 * is conditional and f->status may be 304.
 */
static enum cm_err
http_get(struct updater *u, const char *url, const char *what,
         size_t max_bytes, bool is_conditional, struct fetch *f, char *why,
         size_t why_cap)
{
    struct curl_slist *headers = NULL;
    char line[CAPS_UPDATER_HEADER_VALUE_MAX + 32];
    CURLcode cc;
    enum cm_err rc;

    memset(f, 0, sizeof(*f));
    buf_init(&f->body, max_bytes);
    f->max_bytes = max_bytes;
    rc = setup_handle(u, u->curl, url, f);
    if (rc != CM_OK) {
        snprintf(why, why_cap, "%s: cannot set up libcurl", what);
        return rc;
    }
    if (is_conditional && u->etag[0] != '\0') {
        snprintf(line, sizeof(line), "If-None-Match: %s", u->etag);
        add_header(&headers, line);
    }
    if (is_conditional && u->last_modified[0] != '\0') {
        snprintf(line, sizeof(line), "If-Modified-Since: %s",
                 u->last_modified);
        add_header(&headers, line);
    }
    if (headers != NULL) {
        curl_easy_setopt(u->curl, CURLOPT_HTTPHEADER, headers);
    }
    cc = curl_easy_perform(u->curl);
    rc = transfer_result(u, u->curl, cc, f, what, why, why_cap);
    curl_easy_setopt(u->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    if (rc != CM_OK) {
        u->retry_after_s = f->retry_after_s;
        u->is_server_busy = f->status == 429 || f->status == 503;
    }
    return rc;
}

/* ---- cache ----------------------------------------------------------- */

static enum cm_err
cache_file(const struct config *cfg, uint64_t version, char *dst, size_t cap)
{
    char name[64];

    snprintf(name, sizeof(name), UPDATER_CACHE_PREFIX "%llu"
             UPDATER_CACHE_SUFFIX, (unsigned long long)version);
    return fsutil_join(dst, cap, cfg->cart.cache_path, name);
}

/*
 * Version in a cache file name "cartridge-<N>.cmc", or 0.  Only the
 * spelling cache_file writes counts: "cartridge-09.cmc" would list as a
 * second version 9 whose path (cache_file's) is another file, so junk
 * under such names took CAPS_UPDATER_CACHE_KEEP slots and made
 * cache_prune delete real images while the junk stayed.
 */
static uint64_t
cache_name_version(const char *name)
{
    size_t len = strlen(name);
    size_t pre = sizeof(UPDATER_CACHE_PREFIX) - 1;
    size_t suf = sizeof(UPDATER_CACHE_SUFFIX) - 1;
    uint64_t v = 0;

    if (len <= pre + suf || strncmp(name, UPDATER_CACHE_PREFIX, pre) != 0 ||
        strcmp(name + len - suf, UPDATER_CACHE_SUFFIX) != 0 ||
        name[pre] == '0') {
        return 0;
    }
    if (cursor_parse_u64(name + pre, len - pre - suf, UINT64_MAX, &v) !=
        CM_OK) {
        return 0;
    }
    return v;
}

static int
cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return x < y ? 1 : x > y ? -1 : 0;
}

/* Versions in the cache, newest first, into *out (malloc'ed, free it). */
static size_t
cache_list(const struct config *cfg, uint64_t **out)
{
    DIR *d = opendir(cfg->cart.cache_path);
    struct dirent *e;
    uint64_t *v;
    size_t n = 0;
    size_t seen = 0;

    *out = NULL;
    if (d == NULL) {
        return 0;
    }
    v = calloc(CAPS_UPDATER_CACHE_SCAN_MAX, sizeof(*v));
    if (v == NULL) {
        closedir(d);
        return 0;
    }
    while (seen < CAPS_UPDATER_CACHE_SCAN_MAX && (e = readdir(d)) != NULL) {
        uint64_t ver = cache_name_version(e->d_name);
        seen++;
        if (ver != 0) {
            v[n++] = ver;
        }
    }
    closedir(d);
    qsort(v, n, sizeof(*v), cmp_desc);
    *out = v;
    return n;
}

/* Whether (name, len) is a cache file's name "cartridge-<N>.cmc": the
 * targets whose temporary files cache_prune removes. */
static bool
is_cache_name(const char *name, size_t len)
{
    char copy[64];

    if (len >= sizeof(copy)) {
        return false;
    }
    memcpy(copy, name, len);
    copy[len] = '\0';
    return cache_name_version(copy) != 0;
}

/*
 * Keep the CAPS_UPDATER_CACHE_KEEP newest versions, and always installed,
 * the one just stored: files above it are ones that do not load (skipped
 * at start) or another process's newer ones, and when KEEP of them were
 * there the image just installed was deleted, so a restart went back to
 * an older cartridge than the one serving.
 */
static void
cache_prune(const struct config *cfg, uint64_t installed)
{
    uint64_t *v = NULL;
    size_t n;
    char path[CONFIG_PATH_MAX + 64];

    /* Temporary files of writes a crash interrupted: regular files only,
     * at least CAPS_STALE_TEMP_S old (never one still being written). */
    fsutil_remove_stale_temps_in(cfg->cart.cache_path, is_cache_name);
    n = cache_list(cfg, &v);

    for (size_t i = CAPS_UPDATER_CACHE_KEEP; i < n; i++) {
        if (v[i] != installed &&
            cache_file(cfg, v[i], path, sizeof(path)) == CM_OK) {
            unlink(path);
        }
    }
    free(v);
}

static void
cache_bad_set(struct updater_cache_bad *b, uint64_t version,
              const struct stat *st)
{
    b->version = version;
    b->dev = st->st_dev;
    b->ino = st->st_ino;
    b->size = st->st_size;
    b->mtime = st->st_mtim;
    b->ctime = st->st_ctim;
}

enum cm_err
updater_load_startup(const struct config *cfg, struct cartridge **out,
                     bool *is_default, struct updater_skipped *skipped)
{
    uint64_t *v = NULL;
    size_t n = cache_list(cfg, &v);
    char path[CONFIG_PATH_MAX + 64];
    const char *why = NULL;
    enum cm_err rc;

    if (skipped != NULL) {
        skipped->n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct cartridge *c = NULL;
        struct stat st;
        bool has_stat;

        if (cache_file(cfg, v[i], path, sizeof(path)) != CM_OK) {
            continue;
        }
        /* Before the load, as cache_load_version does: a good file
         * renamed over this one meanwhile is never noted as bad. */
        has_stat = stat(path, &st) == 0;
        rc = cartridge_load_file(path, &c, &why);
        if (rc == CM_OK && cartridge_version(c) == v[i]) {
            free(v);
            *out = c;
            *is_default = false;
            return CM_OK;
        }
        if (has_stat && rc != CM_ENOMEM && skipped != NULL &&
            skipped->n < CAPS_UPDATER_CACHE_BAD_MAX) {
            cache_bad_set(&skipped->file[skipped->n++], v[i], &st);
        }
        if (rc == CM_OK) {
            log_warn("micro-update cache: %s holds version %llu, skipped",
                     path, (unsigned long long)cartridge_version(c));
            cartridge_unref(c);
        } else {
            log_warn("micro-update cache: %s unusable (%s), skipped", path,
                     why != NULL ? why : cm_strerror(rc));
        }
    }
    free(v);
    rc = cartridge_load_default(out, &why);
    if (rc == CM_OK) {
        *is_default = true;
    }
    return rc;
}

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool
cache_bad_matches(const struct updater_cache_bad *b, uint64_t version,
                  const struct stat *st)
{
    return b->version == version && b->dev == st->st_dev &&
           b->ino == st->st_ino && b->size == st->st_size &&
           same_time(&b->mtime, &st->st_mtim) &&
           same_time(&b->ctime, &st->st_ctim);
}

/* Whether the cache file of version, as stat saw it in *st, already failed
 * to load in this process. */
static bool
cache_is_known_bad(const struct updater *u, uint64_t version,
                   const struct stat *st)
{
    for (size_t i = 0; i < CAPS_UPDATER_CACHE_BAD_MAX; i++) {
        if (cache_bad_matches(&u->cache_bad[i], version, st)) {
            return true;
        }
    }
    return false;
}

/* Remember that the file *st (stat'ed before the load) failed, and say so
 * once: later cycles skip it until it changes. */
static void
cache_note_bad(struct updater *u, uint64_t version, const struct stat *st,
               const char *path, const char *why)
{
    cache_bad_set(&u->cache_bad[u->next_cache_bad], version, st);
    u->next_cache_bad = (u->next_cache_bad + 1) % CAPS_UPDATER_CACHE_BAD_MAX;
    log_warn("micro-update cache: %s unusable (%s); not read again until "
             "it changes", path, why);
}

/*
 * Load the cache file of version v for cache_adopt_newer: NULL when it is
 * not there, failed before unchanged, or fails now (then remembered, so a
 * corrupt or foreign file is not read and validated every cycle).  The
 * stat comes before the load: a good file renamed over a bad one between
 * the two is then tried again next cycle, never remembered as bad.
 */
static struct cartridge *
cache_load_version(struct updater *u, uint64_t v, const char *path)
{
    struct cartridge *c = NULL;
    const char *why = NULL;
    struct stat st;
    enum cm_err rc;

    if (stat(path, &st) != 0 || cache_is_known_bad(u, v, &st)) {
        return NULL;
    }
    rc = cartridge_load_file(path, &c, &why);
    if (rc == CM_ENOMEM) {
        return NULL; /* says nothing about the file: try again */
    }
    if (rc != CM_OK) {
        cache_note_bad(u, v, &st, path, why != NULL ? why : cm_strerror(rc));
        return NULL;
    }
    if (cartridge_version(c) != v) {
        char holds[64];
        snprintf(holds, sizeof(holds), "holds version %llu",
                 (unsigned long long)cartridge_version(c));
        cartridge_unref(c);
        cache_note_bad(u, v, &st, path, holds);
        return NULL;
    }
    return c;
}

/*
 * A cartridge newer than the installed one that another process put into
 * the cache (an administrator's `CGPCloudmark UPDATE`, a second helper on
 * the same cache): the server would answer 304 to this thread's validators,
 * so without this the helper would keep the older one until the next
 * publication.  The cache only ever holds verified images (step 5), the
 * same trust the start-up load gives it.  On success *installed holds one
 * reference for the caller.
 */
static bool
cache_adopt_newer(struct updater *u, uint64_t current,
                  struct updater_result *res, struct cartridge **installed)
{
    uint64_t *v = NULL;
    size_t n = cache_list(u->cfg, &v);
    char path[CONFIG_PATH_MAX + 64];
    bool is_adopted = false;

    for (size_t i = 0; i < n && v[i] > current && !is_adopted; i++) {
        struct cartridge *c = NULL;

        if (cache_file(u->cfg, v[i], path, sizeof(path)) != CM_OK) {
            continue;
        }
        c = cache_load_version(u, v[i], path);
        if (c == NULL) {
            continue;
        }
        *installed = c;
        res->outcome = UPDATER_INSTALLED;
        res->version = v[i];
        set_why(res, "installed cartridge %llu from the cache (written by "
                "another process)", (unsigned long long)v[i]);
        count(u, &u->counters.installed);
        is_adopted = true;
    }
    free(v);
    return is_adopted;
}

/* ---- one cycle ------------------------------------------------------- */

/* Refusal counter for a failed cycle's code.  An if-chain, not a switch:
 * a code added to err.h later lands in refused_format. */
static void
count_failure(struct updater *u, enum cm_err err)
{
    struct updater_counters *k = &u->counters;
    uint64_t *field = &k->refused_format;

    if (err == CM_ESIG) {
        field = &k->refused_signature;
    } else if (err == CM_EKEY) {
        field = &k->refused_key;
    } else if (err == CM_ECRYPTO) {
        field = &k->refused_decrypt;
    } else if (err == CM_EVERSION) {
        field = &k->refused_version;
    } else if (err == CM_EDIGEST) {
        field = &k->refused_digest;
    } else if (err == CM_EEXPIRED) {
        field = &k->refused_expired;
    } else if (err == CM_ENET || err == CM_ETIMEOUT) {
        field = &k->net_failures;
    } else if (err == CM_EIO || err == CM_ENOENT || err == CM_ENOTREG) {
        field = &k->cache_failures;
    }
    count(u, field);
}

/*
 * Step 4's transfer: GET entry e into f with the manifest's size as the
 * hard cap, then hold it to that exact size and the manifest's SHA-256
 * before a byte of it is parsed.
 */
static enum cm_err
download_entry(struct updater *u, const struct updfile_entry *e,
               struct fetch *f, struct updater_result *res)
{
    char url[UPDATER_URL_MAX + CAPS_UPDFILE_NAME_MAX];
    uint8_t digest[UPDKEYS_SHA256_LEN];
    enum cm_err rc;

    snprintf(url, sizeof(url), "%s%s", u->base_url, e->name);
    rc = http_get(u, url, e->name, (size_t)e->size, false, f, res->why,
                  sizeof(res->why));
    if (rc != CM_OK) {
        return rc;
    }
    if (f->body.len != e->size) {
        set_why(res, "%s: %zu bytes, the manifest says %llu", e->name,
                f->body.len, (unsigned long long)e->size);
        return CM_EDIGEST;
    }
    if (updkeys_sha256(f->body.data, f->body.len, digest) != CM_OK ||
        CRYPTO_memcmp(digest, e->sha256, sizeof(digest)) != 0) {
        set_why(res, "%s: SHA-256 differs from the manifest", e->name);
        return CM_EDIGEST;
    }
    return CM_OK;
}

/*
 * A verified delta's image: the base version's image read from the cache,
 * the delta applied, and the result held to the SHA-256 in the signed
 * header.  On success *img (malloc'ed) and *img_len.
 */
static enum cm_err
apply_delta(struct updater *u, const struct updfile_entry *e,
            const struct updfile_header *h, const uint8_t *payload,
            size_t payload_len, uint8_t **img, size_t *img_len,
            struct updater_result *res)
{
    char path[CONFIG_PATH_MAX + 64];
    struct buf base;
    uint8_t digest[UPDKEYS_SHA256_LEN];
    uint8_t *target = NULL;
    size_t target_len = 0;
    const char *why = NULL;
    bool is_truncated = false;
    enum cm_err rc;

    buf_init(&base, CAPS_UPDFILE_PAYLOAD_MAX_BYTES);
    rc = cache_file(u->cfg, h->base_version, path, sizeof(path));
    if (rc == CM_OK) {
        rc = fsutil_read_file(path, CAPS_UPDFILE_PAYLOAD_MAX_BYTES, &base,
                              &is_truncated, &why);
    }
    if (rc != CM_OK || is_truncated) {
        set_why(res, "%s: base version %llu not readable in the cache",
                e->name, (unsigned long long)h->base_version);
        rc = rc != CM_OK ? rc : CM_ELIMIT;
        goto out;
    }
    rc = delta_apply(base.data, base.len, payload, payload_len,
                     CAPS_UPDFILE_PAYLOAD_MAX_BYTES, &target, &target_len,
                     &why);
    if (rc != CM_OK) {
        set_why(res, "%s: delta refused: %s", e->name, why);
        goto out;
    }
    if (updkeys_sha256(target, target_len, digest) != CM_OK ||
        CRYPTO_memcmp(digest, h->target_sha256, sizeof(digest)) != 0) {
        set_why(res, "%s: image SHA-256 differs from the header", e->name);
        rc = CM_EDIGEST;
        goto out;
    }
    *img = target;
    *img_len = target_len;
    target = NULL;
out:
    free(target);
    buf_clear(&base);
    return rc;
}

/*
 * The image as a cartridge, which must carry the update's own version
 * (the update's version is authoritative: updfile.c).  On success *out
 * holds one reference.
 */
static enum cm_err
load_image(const struct updfile_entry *e, uint64_t version,
           const uint8_t *img, size_t img_len, struct cartridge **out,
           struct updater_result *res)
{
    struct cartridge *c = NULL;
    const char *why = NULL;
    enum cm_err rc;

    rc = cartridge_load(img, img_len, &c, &why);
    if (rc != CM_OK) {
        set_why(res, "%s: cartridge refused: %s", e->name,
                why != NULL ? why : cm_strerror(rc));
        return rc;
    }
    if (cartridge_version(c) != version) {
        set_why(res, "%s: the cartridge inside says version %llu, the "
                "update %llu", e->name,
                (unsigned long long)cartridge_version(c),
                (unsigned long long)version);
        cartridge_unref(c);
        return CM_EVERSION;
    }
    *out = c;
    return CM_OK;
}

/*
 * Download, verify and build the cartridge of entry e.  On success *out is
 * the loaded cartridge and *image/ *image_len its bytes (malloc'ed).
 */
static enum cm_err
fetch_entry(struct updater *u, const struct updfile_manifest *m,
            const struct updfile_entry *e, struct cartridge **out,
            uint8_t **image, size_t *image_len, struct updater_result *res)
{
    struct fetch f;
    struct updfile_header h;
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    uint8_t *img = NULL;
    size_t img_len = 0;
    const char *why = NULL;
    uint64_t current = u->is_current_default ? 0 : u->current_version;
    enum cm_err rc;

    rc = download_entry(u, e, &f, res);
    if (rc != CM_OK) {
        goto out;
    }
    rc = updfile_open(f.body.data, f.body.len, &u->pub, &u->content, current,
                      &h, &payload, &payload_len, &why);
    if (rc != CM_OK) {
        set_why(res, "%s: %s", e->name, why);
        goto out;
    }
    if (h.version != m->version || h.kind != e->kind ||
        h.base_version != e->base_version) {
        set_why(res, "%s: header does not match the manifest", e->name);
        rc = CM_EDIGEST;
        goto out;
    }
    if (h.kind == UPDFILE_DELTA) {
        rc = apply_delta(u, e, &h, payload, payload_len, &img, &img_len,
                         res);
        if (rc != CM_OK) {
            goto out;
        }
        free(payload);
    } else {
        img = payload;
        img_len = payload_len;
    }
    payload = NULL;
    rc = load_image(e, h.version, img, img_len, out, res);
    if (rc != CM_OK) {
        goto out;
    }
    *image = img;
    *image_len = img_len;
    img = NULL;
out:
    free(img);
    free(payload);
    buf_clear(&f.body);
    return rc;
}

/* Write the image into the cache and prune it. */
static enum cm_err
cache_store(struct updater *u, uint64_t version, const uint8_t *img,
            size_t len, struct updater_result *res)
{
    char path[CONFIG_PATH_MAX + 64];
    enum cm_err rc;
    int saved;

    rc = fsutil_mkdirs(u->cfg->cart.cache_path, 0700);
    if (rc == CM_OK) {
        rc = cache_file(u->cfg, version, path, sizeof(path));
    }
    if (rc != CM_OK) {
        set_why(res, "cannot create the cache directory %s: %s",
                u->cfg->cart.cache_path, strerror(errno));
        return CM_EIO;
    }
    errno = 0;
    rc = fsutil_write_atomic(path, img, len, 0600);
    saved = errno;
    if (rc != CM_OK) {
        set_why(res, "cannot write %s (%s); cartridge %llu not installed",
                path, saved != 0 ? strerror(saved) : "I/O error",
                (unsigned long long)version);
        return CM_EIO;
    }
    cache_prune(u->cfg, version);
    return CM_OK;
}

/*
 * A 304 answer stands for the manifest whose validators we sent, so it is
 * worth no more than that manifest: without this, a hostile server or a
 * man in the middle (updates travel over plain HTTP) answering 304 forever
 * would hold the helper on its cartridge past the manifest's expiry, the
 * bound on freezing a client, with every cycle reported as "current".  A
 * 304 to a request that carried no validators means nothing at all.  On
 * refusal the validators are dropped, so the next cycle asks for the
 * manifest itself and verifies it (expiry included) again.
 */
static enum cm_err
check_not_modified(struct updater *u, struct updater_result *res)
{
    uint64_t now = (uint64_t)time(NULL);

    if (u->etag[0] == '\0' && u->last_modified[0] == '\0') {
        set_why(res, "manifest: HTTP 304 to a request without validators");
        return CM_ENET;
    }
    if (now <= u->validators_expire_unix) {
        return CM_OK;
    }
    set_why(res, "manifest expired (the server answered 304 Not Modified "
            "for a manifest that expired at %llu)",
            (unsigned long long)u->validators_expire_unix);
    u->etag[0] = '\0';
    u->last_modified[0] = '\0';
    u->validators_expire_unix = 0;
    return CM_EEXPIRED;
}

/*
 * Steps 1 and 2: GET the manifest (conditional) and verify it.  On CM_OK
 * *out is the verified manifest (malloc'ed), or NULL when the server
 * answered 304 (res says so).  A manifest older than the installed
 * cartridge is refused here as a replay, before anything it lists is
 * fetched.  f is set up whatever happens: the caller clears it.
 */
static enum cm_err
get_manifest(struct updater *u, uint64_t current, struct fetch *f,
             struct updfile_manifest **out, struct updater_result *res)
{
    char url[UPDATER_URL_MAX + 16];
    struct updfile_manifest *m;
    const char *why = NULL;
    enum cm_err rc;

    *out = NULL;
    snprintf(url, sizeof(url), "%smanifest", u->base_url);
    rc = http_get(u, url, "manifest", CAPS_UPDFILE_MANIFEST_MAX_BYTES, true,
                  f, res->why, sizeof(res->why));
    if (rc != CM_OK) {
        return rc;
    }
    if (f->status == 304) {
        rc = check_not_modified(u, res);
        if (rc != CM_OK) {
            return rc;
        }
        count(u, &u->counters.not_modified);
        set_why(res, "manifest not modified; cartridge %llu is current",
                (unsigned long long)current);
        res->outcome = UPDATER_CURRENT;
        return CM_OK;
    }
    m = malloc(sizeof(*m));
    if (m == NULL) {
        set_why(res, "out of memory");
        return CM_ENOMEM;
    }
    rc = updfile_manifest_parse(f->body.data, f->body.len, &u->pub,
                                (uint64_t)time(NULL), m, &why);
    if (rc != CM_OK) {
        set_why(res, "manifest refused: %s", why);
        free(m);
        return rc;
    }
    if (m->version < current) {
        set_why(res, "manifest offers version %llu, older than the "
                "installed %llu (replayed or stale tree), refused",
                (unsigned long long)m->version, (unsigned long long)current);
        free(m);
        return CM_EVERSION;
    }
    *out = m;
    return CM_OK;
}

/*
 * Whether the full file may follow a delta that failed, in the same
 * cycle.  Not when stopping, and not when the server said it is busy
 * (429, 503): the full file would go at once to the server that just
 * asked to be left alone; its Retry-After applies instead.  A delta that
 * is missing (404), refused on its content, cut short or that timed out
 * is replaced: the server answered the manifest in this cycle, so a
 * stalled delta is that file's problem (a CDN edge holding it), and with
 * no fall-back it would fail every cycle until the next publish.  The
 * cycle then holds for at most three transfer timeouts.
 */
static bool
may_fall_back(const struct updater *u)
{
    return !atomic_load(&u->is_stopping) && !u->is_server_busy;
}

/*
 * Steps 3 and 4 for a manifest newer than the installed cartridge: the
 * delta when the manifest lists one from the installed version and that
 * image is in the cache, else the full file.  On CM_OK *installed, *img
 * and *img_len are fetch_entry's and res->was_delta says which it was;
 * CM_ETIMEOUT when the updater was stopped before anything was fetched.
 * A delta refused before the full file was tried: its text goes to
 * delta_why (else "") and res->is_delta_refused is set.
 */
static enum cm_err
fetch_update(struct updater *u, const struct updfile_manifest *m,
             uint64_t current, struct cartridge **installed, uint8_t **img,
             size_t *img_len, char *delta_why, size_t delta_why_cap,
             struct updater_result *res)
{
    char path[CONFIG_PATH_MAX + 64];
    const struct updfile_entry *e = NULL;
    enum cm_err rc = CM_OK;

    delta_why[0] = '\0';
    if (current != 0 && cache_file(u->cfg, current, path, sizeof(path)) ==
                            CM_OK &&
        fsutil_is_file(path)) {
        e = updfile_manifest_pick(m, current, true);
    }
    if (e != NULL && e->kind == UPDFILE_DELTA) {
        rc = fetch_entry(u, m, e, installed, img, img_len, res);
        if (rc == CM_OK) {
            res->was_delta = true;
        } else if (may_fall_back(u)) {
            /* The delta's own failure is counted, and kept to be said
             * with the outcome: the full file may still be good (a base
             * that differs, a damaged delta), but a tree whose deltas are
             * refused must not go unnoticed. */
            count_failure(u, rc);
            snprintf(delta_why, delta_why_cap, "%s", res->why);
            res->is_delta_refused = true;
            e = NULL;
        }
    } else {
        e = NULL;
    }
    if (e == NULL) {
        /* Stopped before the full file was asked for: nothing was
         * fetched, so nothing may be stored or counted as installed
         * (the error transfer_result gives a transfer stopped midway). */
        if (atomic_load(&u->is_stopping)) {
            set_why(res, "stopped before the update was fetched");
            return CM_ETIMEOUT;
        }
        e = updfile_manifest_pick(m, current, false);
        rc = fetch_entry(u, m, e, installed, img, img_len, res);
    }
    return rc;
}

/*
 * Step 5: the image into the cache, and only then is the update installed
 * (res says so).  A cartridge that cannot be cached is dropped, so a
 * restart never goes back to an older version than the one that served.
 */
static enum cm_err
store_installed(struct updater *u, uint64_t version, uint64_t current,
                const uint8_t *img, size_t img_len, const char *delta_why,
                struct cartridge **installed, struct updater_result *res)
{
    enum cm_err rc = cache_store(u, version, img, img_len, res);

    if (rc != CM_OK) {
        cartridge_unref(*installed);
        *installed = NULL;
        return rc;
    }
    res->outcome = UPDATER_INSTALLED;
    res->version = version;
    if (current == 0) {
        set_why(res, "installed cartridge %llu (full file; the embedded "
                "default was serving)", (unsigned long long)version);
    } else if (res->is_delta_refused) {
        set_why(res, "installed cartridge %llu (full file from %llu; the "
                "delta was not used: %s)", (unsigned long long)version,
                (unsigned long long)current, delta_why);
    } else {
        set_why(res, "installed cartridge %llu (%s from %llu)",
                (unsigned long long)version,
                res->was_delta ? "delta" : "full file",
                (unsigned long long)current);
    }
    count(u, &u->counters.installed);
    return CM_OK;
}

/*
 * One cycle (see the design comment).  On INSTALLED *installed is the new
 * cartridge (one reference for the caller).
 */
static void
cycle(struct updater *u, struct updater_result *res,
      struct cartridge **installed)
{
    struct fetch f;
    struct updfile_manifest *m = NULL;
    uint8_t *img = NULL;
    size_t img_len = 0;
    uint64_t current = u->is_current_default ? 0 : u->current_version;
    char delta_why[sizeof(res->why)];
    enum cm_err rc;

    memset(res, 0, sizeof(*res));
    res->from_version = current;
    res->version = current;
    *installed = NULL;
    u->retry_after_s = 0;
    u->is_server_busy = false;
    count(u, &u->counters.cycles);
    if (cache_adopt_newer(u, current, res, installed)) {
        return;
    }
    rc = get_manifest(u, current, &f, &m, res);
    if (rc != CM_OK || m == NULL) {
        goto out; /* failed, or 304 */
    }
    if (m->version == current) {
        set_why(res, "cartridge %llu is current", (unsigned long long)current);
        res->outcome = UPDATER_CURRENT;
        goto keep_validators;
    }
    rc = fetch_update(u, m, current, installed, &img, &img_len, delta_why,
                      sizeof(delta_why), res);
    if (rc != CM_OK) {
        goto out;
    }
    rc = store_installed(u, m->version, current, img, img_len, delta_why,
                         installed, res);
    if (rc != CM_OK) {
        goto out;
    }
keep_validators:
    /* Only a manifest whose cycle ended cleanly may be skipped by 304. */
    memcpy(u->etag, f.etag, sizeof(u->etag));
    memcpy(u->last_modified, f.last_modified, sizeof(u->last_modified));
    u->validators_expire_unix = m->expires_unix;
out:
    if (rc != CM_OK) {
        res->outcome = UPDATER_FAILED;
        res->err = rc;
        count_failure(u, rc);
    } else if (res->outcome == UPDATER_CURRENT && f.status != 304) {
        count(u, &u->counters.current);
    }
    free(img);
    free(m);
    buf_clear(&f.body);
}

/* ---- set-up shared by the thread and UPDATE --------------------------- */

static void
key_problem(char *why, size_t why_cap, const char *what, const char *path,
            const char *reason, size_t line)
{
    char at[32] = "";

    if (line > 0) {
        snprintf(at, sizeof(at), " at line %zu", line);
    }
    /* Paths are cut so the reason always fits. */
    snprintf(why, why_cap, "%s %.120s: %s%s", what, path,
             reason != NULL ? reason : "unusable", at);
}

static enum cm_err
load_keys(struct updater *u, char *why, size_t why_cap)
{
    const struct config_cartridge *c = &u->cfg->cart;
    const char *reason = NULL;
    size_t line = 0;
    enum cm_err rc;

    rc = updkeys_load(c->public_key_path, UPDKEYS_SIGNING_PUBLIC, &u->pub,
                      &line, &reason);
    if (rc != CM_OK) {
        key_problem(why, why_cap, "update public key", c->public_key_path,
                    reason, line);
        return rc;
    }
    rc = updkeys_load(c->content_key_path, UPDKEYS_CONTENT, &u->content,
                      &line, &reason);
    if (rc != CM_OK) {
        key_problem(why, why_cap, "update content key", c->content_key_path,
                    reason, line);
        return rc;
    }
    return CM_OK;
}

static void
updater_free(struct updater *u)
{
    if (u == NULL) {
        return;
    }
    if (u->curl != NULL) {
        curl_easy_cleanup(u->curl);
    }
    updkeys_ring_clear(&u->content);
    updkeys_ring_clear(&u->pub);
    pthread_cond_destroy(&u->wait_cond);
    pthread_mutex_destroy(&u->wait_lock);
    pthread_mutex_destroy(&u->counters_lock);
    OPENSSL_cleanse(u, sizeof(*u));
    free(u);
}

static struct updater *
updater_new(const struct config *cfg, char *why, size_t why_cap,
            enum cm_err *err)
{
    struct updater *u = calloc(1, sizeof(*u));
    pthread_condattr_t ca;

    if (u == NULL) {
        snprintf(why, why_cap, "out of memory");
        *err = CM_ENOMEM;
        return NULL;
    }
    u->cfg = cfg;
    u->started_mono_s = now_mono_s();
    atomic_init(&u->is_stopping, false);
    pthread_mutex_init(&u->wait_lock, NULL);
    pthread_mutex_init(&u->counters_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&u->wait_cond, &ca);
    pthread_condattr_destroy(&ca);
    *err = updater_base_url(cfg, u->base_url, sizeof(u->base_url));
    if (*err != CM_OK) {
        snprintf(why, why_cap, "no micro-update url or hostname configured");
        updater_free(u);
        return NULL;
    }
    if (load_keys(u, why, why_cap) != CM_OK) {
        /* A key file that is missing or wrong is a configuration error. */
        *err = CM_EINVAL;
        updater_free(u);
        return NULL;
    }
    u->curl = curl_easy_init();
    if (u->curl == NULL) {
        snprintf(why, why_cap, "libcurl could not start");
        *err = CM_ENOMEM;
        updater_free(u);
        return NULL;
    }
    return u;
}

/* The files the start-up load skipped count as known bad: the first
 * cycle's cache_adopt_newer would read and report them a second time. */
static void
take_skipped(struct updater *u, const struct updater_skipped *skipped)
{
    size_t n;

    if (skipped == NULL) {
        return;
    }
    n = skipped->n < CAPS_UPDATER_CACHE_BAD_MAX ? skipped->n
                                                : CAPS_UPDATER_CACHE_BAD_MAX;
    memcpy(u->cache_bad, skipped->file, n * sizeof(skipped->file[0]));
    u->next_cache_bad = n % CAPS_UPDATER_CACHE_BAD_MAX;
}

enum cm_err
updater_run_once(const struct config *cfg, struct updater_result *res)
{
    struct updater *u;
    struct cartridge *c = NULL;
    struct cartridge *installed = NULL;
    struct updater_skipped skipped;
    bool is_default = false;
    enum cm_err rc;

    memset(res, 0, sizeof(*res));
    res->outcome = UPDATER_FAILED;
    if (!updater_is_configured(cfg)) {
        set_why(res, "micro-updates are off: set \"micro-update url\" or "
                "\"micro-update hostname\" in %s",
                cfg->cartridge_cfg_path);
        res->err = CM_EINVAL;
        return res->err;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        set_why(res, "libcurl could not start");
        res->err = CM_ENOMEM;
        return res->err;
    }
    u = updater_new(cfg, res->why, sizeof(res->why), &rc);
    if (u == NULL) {
        res->err = rc;
        curl_global_cleanup();
        return rc;
    }
    rc = updater_load_startup(cfg, &c, &is_default, &skipped);
    take_skipped(u, &skipped);
    if (rc != CM_OK) {
        /* No cartridge at all: anything verified is an improvement. */
        u->is_current_default = true;
    } else {
        u->current_version = cartridge_version(c);
        u->is_current_default = is_default;
        cartridge_unref(c);
    }
    cycle(u, res, &installed);
    cartridge_unref(installed);
    updater_free(u);
    curl_global_cleanup();
    return res->err;
}

/* ---- statistics ------------------------------------------------------ */

static enum cm_err
form_field(struct buf *out, const char *key, const char *value)
{
    enum cm_err rc = buf_printf(out, "%s%s=", out->len > 0 ? "&" : "", key);

    for (const char *p = value; rc == CM_OK && *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        bool is_plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
                        ch == '_' || ch == '~';
        rc = is_plain ? buf_putc(out, ch) : buf_printf(out, "%%%02X", ch);
    }
    return rc;
}

static enum cm_err
form_u64(struct buf *out, const char *key, uint64_t v)
{
    char num[24];

    snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    return form_field(out, key, num);
}

enum cm_err
updater_stats_body(const char *customer_id, const char *host_name,
                   const uint8_t *salt, uint64_t cartridge_version,
                   unsigned period_s, const struct updater_counters *k,
                   struct buf *out)
{
    uint8_t salted[UPDATER_STATS_SALT_LEN + 256];
    uint8_t digest[UPDKEYS_SHA256_LEN];
    char host_hex[2 * UPDKEYS_SHA256_LEN + 1];
    size_t host_len = strnlen(host_name, 256);
    enum cm_err rc;

    if (salt != NULL) {
        /* Salted: a bare hash of a mail server's name is undone by
         * hashing the names its MX records publish. */
        memcpy(salted, salt, UPDATER_STATS_SALT_LEN);
        memcpy(salted + UPDATER_STATS_SALT_LEN, host_name, host_len);
        if (updkeys_sha256(salted, UPDATER_STATS_SALT_LEN + host_len,
                           digest) != CM_OK) {
            return CM_ECRYPTO;
        }
        updkeys_hex(digest, sizeof(digest), host_hex);
        host_name = host_hex;
    }
    rc = form_field(out, "format", "1");
    rc = rc != CM_OK ? rc : form_field(out, "customer", customer_id);
    rc = rc != CM_OK ? rc : form_field(out, "host", host_name);
    rc = rc != CM_OK ? rc : form_u64(out, "cartridge", cartridge_version);
    rc = rc != CM_OK ? rc : form_u64(out, "period_s", period_s);
    rc = rc != CM_OK ? rc : form_u64(out, "update_cycles", k->cycles);
    rc = rc != CM_OK ? rc : form_u64(out, "updates_installed", k->installed);
    rc = rc != CM_OK ? rc : form_u64(out, "update_net_failures",
                                     k->net_failures);
    rc = rc != CM_OK ? rc : form_u64(out, "updates_refused",
                                     k->refused_signature + k->refused_key +
                                         k->refused_decrypt +
                                         k->refused_version +
                                         k->refused_digest +
                                         k->refused_expired +
                                         k->refused_format);
    rc = rc != CM_OK ? rc : form_u64(out, "update_cache_failures",
                                     k->cache_failures);
    return rc;
}

/*
 * The salt for `anonymize statistics`: UPDATER_STATS_SALT_LEN random
 * bytes kept in the cache folder (UPDATER_STATS_SALT_FILE, hex, 0600), so
 * the server tells this host's POSTs apart across restarts without
 * learning its name.  Made at the first anonymous POST; when it cannot be
 * kept (no cache folder yet, read-only disk) a salt for this process's
 * life is used, logged once.
 */
static const uint8_t *
stats_salt_get(struct updater *u)
{
    char path[CONFIG_PATH_MAX + 32];
    char hex[2 * UPDATER_STATS_SALT_LEN + 2];
    struct buf b;
    bool is_truncated = false;
    const char *why = NULL;

    if (u->has_stats_salt) {
        return u->stats_salt;
    }
    u->has_stats_salt = true;
    if (fsutil_join(path, sizeof(path), u->cfg->cart.cache_path,
                    UPDATER_STATS_SALT_FILE) != CM_OK) {
        path[0] = '\0';
    }
    buf_init(&b, sizeof(hex));
    if (path[0] != '\0' &&
        fsutil_read_file(path, sizeof(hex), &b, &is_truncated, &why) ==
            CM_OK &&
        b.len >= 2 * UPDATER_STATS_SALT_LEN &&
        updkeys_unhex((const char *)b.data, 2 * UPDATER_STATS_SALT_LEN,
                      u->stats_salt, UPDATER_STATS_SALT_LEN) == CM_OK) {
        buf_clear(&b);
        return u->stats_salt;
    }
    buf_clear(&b);
    if (RAND_bytes(u->stats_salt, sizeof(u->stats_salt)) != 1) {
        /* No randomness from OpenSSL (never seen): random_u64's clock
         * fallback, word by word; no weaker than an unsalted hash. */
        for (size_t i = 0; i < sizeof(u->stats_salt); i += 8) {
            uint64_t v = random_u64();
            memcpy(u->stats_salt + i, &v, 8);
        }
    }
    updkeys_hex(u->stats_salt, sizeof(u->stats_salt), hex);
    hex[2 * UPDATER_STATS_SALT_LEN] = '\n';
    if (path[0] == '\0' ||
        fsutil_write_atomic(path, hex, 2 * UPDATER_STATS_SALT_LEN + 1,
                            0600) != CM_OK) {
        log_warn("micro-update: statistics: cannot keep the anonymizing "
                 "salt in %.200s; this run's host hash will differ from "
                 "the next run's", path);
    }
    return u->stats_salt;
}

enum cm_err
updater_post_stats(struct updater *u, char *why, size_t why_cap)
{
    char url[UPDATER_URL_MAX + 16];
    char host[256];
    struct updater_counters k;
    struct buf body;
    struct fetch f;
    struct curl_slist *headers = NULL;
    CURL *h = NULL;
    uint64_t version;
    CURLcode cc;
    enum cm_err rc;

    updater_counters_get(u, &k);
    pthread_mutex_lock(&u->counters_lock);
    version = u->is_current_default ? 0 : u->current_version;
    pthread_mutex_unlock(&u->counters_lock);
    if (gethostname(host, sizeof(host)) != 0) {
        snprintf(host, sizeof(host), "unknown");
    }
    host[sizeof(host) - 1] = '\0';
    buf_init(&body, CAPS_UPDATER_STATS_BODY_MAX_BYTES);
    memset(&f, 0, sizeof(f));
    buf_init(&f.body, CAPS_UPDATER_STATS_REPLY_MAX_BYTES);
    f.max_bytes = CAPS_UPDATER_STATS_REPLY_MAX_BYTES;
    rc = updater_stats_body(u->cfg->cart.customer_id, host,
                            u->cfg->cart.anonymize_statistics
                                ? stats_salt_get(u)
                                : NULL,
                            version,
                            (unsigned)(now_mono_s() - u->started_mono_s), &k,
                            &body);
    if (rc == CM_OK && u->hooks.add_stats != NULL) {
        u->hooks.add_stats(u->hooks.ctx, &body);
        rc = body.is_capped ? CM_ELIMIT : CM_OK;
    }
    if (rc != CM_OK) {
        snprintf(why, why_cap, "statistics: body over %u bytes",
                 CAPS_UPDATER_STATS_BODY_MAX_BYTES);
        goto out;
    }
    /* Its own handle: this may run beside a download on the thread's. */
    h = curl_easy_init();
    if (h == NULL) {
        snprintf(why, why_cap, "statistics: libcurl could not start");
        rc = CM_ENOMEM;
        goto out;
    }
    snprintf(url, sizeof(url), "%scmstats", u->base_url);
    rc = setup_handle(u, h, url, &f);
    headers = curl_slist_append(
        headers, "Content-Type: application/x-www-form-urlencoded");
    if (rc != CM_OK || headers == NULL) {
        snprintf(why, why_cap, "statistics: cannot set up libcurl");
        rc = CM_ENOMEM;
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, (char *)body.data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body.len);
    cc = curl_easy_perform(h);
    rc = transfer_result(u, h, cc, &f, "statistics", why, why_cap);
    if (rc == CM_OK && f.status == 304) {
        snprintf(why, why_cap, "statistics: HTTP %ld", f.status);
        rc = CM_ENET;
    }
out:
    if (h != NULL) {
        curl_easy_cleanup(h);
    }
    curl_slist_free_all(headers);
    buf_clear(&f.body);
    buf_clear(&body);
    count(u, rc == CM_OK ? &u->counters.stats_sent : &u->counters.stats_failed);
    return rc;
}

/* ---- the thread ------------------------------------------------------ */

/* Sleep until the monotonic second `until` or a stop; true when stopping. */
static bool
sleep_until(struct updater *u, uint64_t until)
{
    struct timespec ts;
    bool is_stopping;

    ts.tv_sec = (time_t)until;
    ts.tv_nsec = 0;
    pthread_mutex_lock(&u->wait_lock);
    while (!atomic_load(&u->is_stopping) && now_mono_s() < until) {
        if (pthread_cond_timedwait(&u->wait_cond, &u->wait_lock, &ts) ==
            ETIMEDOUT) {
            break;
        }
    }
    is_stopping = atomic_load(&u->is_stopping);
    pthread_mutex_unlock(&u->wait_lock);
    return is_stopping;
}

/* Log the outcome of a cycle when the state changed (see the design). */
static void
report_cycle(struct updater *u, const struct updater_result *res,
             unsigned delay_s)
{
    switch (res->outcome) {
    case UPDATER_INSTALLED:
        /* A refused delta is input refused, even with the full file
         * installed in its place. */
        if (res->is_delta_refused) {
            log_warn("micro-update: %s", res->why);
        } else {
            log_info("micro-update: %s", res->why);
        }
        u->last_failure[0] = '\0';
        break;
    case UPDATER_CURRENT:
        if (u->last_failure[0] != '\0') {
            log_info("micro-update: working again; %s", res->why);
        }
        u->last_failure[0] = '\0';
        break;
    case UPDATER_FAILED:
        if (strcmp(u->last_failure, res->why) != 0) {
            /* from_version 0 stands for the embedded default, whose own
             * version is what the banner shows: name it, not "0". */
            char serving[48];
            if (res->from_version == 0) {
                snprintf(serving, sizeof(serving), "the embedded default");
            } else {
                snprintf(serving, sizeof(serving), "cartridge %llu",
                         (unsigned long long)res->from_version);
            }
            if (res->err == CM_EIO) {
                log_error("micro-update: %s; keeping %s, next try in %u s",
                          res->why, serving, delay_s);
            } else {
                log_warn("micro-update: %s; keeping %s, next try in %u s",
                         res->why, serving, delay_s);
            }
            snprintf(u->last_failure, sizeof(u->last_failure), "%s",
                     res->why);
        }
        break;
    }
}

static void *
thread_main(void *arg)
{
    struct updater *u = arg;
    const struct config_cartridge *c = &u->cfg->cart;
    unsigned interval_s = c->mu_interval_s > 0 ? c->mu_interval_s : 300;
    unsigned n_failures = 0;
    uint64_t next_cycle = now_mono_s();
    uint64_t next_stats = next_cycle + CAPS_UPDATER_STATS_INTERVAL_S;
    bool is_first = true;

    if (interval_s > CAPS_UPDATER_INTERVAL_MAX_S) {
        interval_s = CAPS_UPDATER_INTERVAL_MAX_S;
    }
    for (;;) {
        uint64_t wake = next_cycle;
        if (c->report_statistics && next_stats < wake) {
            wake = next_stats;
        }
        if (sleep_until(u, wake)) {
            break;
        }
        if (now_mono_s() >= next_cycle) {
            struct updater_result res;
            struct cartridge *installed = NULL;
            unsigned delay_s;

            cycle(u, &res, &installed);
            if (atomic_load(&u->is_stopping)) {
                cartridge_unref(installed);
                break;
            }
            if (installed != NULL) {
                pthread_mutex_lock(&u->counters_lock);
                u->current_version = cartridge_version(installed);
                u->is_current_default = false;
                pthread_mutex_unlock(&u->counters_lock);
                /* Built and validated above, off the request path; the
                 * swap itself is a pointer exchange. */
                cartridge_publish(u->slot, installed);
                if (u->hooks.on_installed != NULL) {
                    u->hooks.on_installed(u->hooks.ctx, u->current_version);
                }
            }
            if (res.outcome == UPDATER_FAILED) {
                n_failures++;
                delay_s = updater_backoff_s(n_failures, interval_s,
                                            u->retry_after_s, random_u64());
                if (u->hooks.on_refused != NULL) {
                    u->hooks.on_refused(u->hooks.ctx, res.err);
                }
            } else {
                n_failures = 0;
                /* Up to 10% early, so many sites do not poll in step. */
                delay_s = interval_s -
                          (unsigned)(random_u64() % (interval_s / 10 + 1));
            }
            report_cycle(u, &res, delay_s);
            next_cycle = now_mono_s() + delay_s;
            if (is_first) {
                pthread_mutex_lock(&u->wait_lock);
                u->is_first_done = true;
                u->is_first_installed = res.outcome == UPDATER_INSTALLED;
                pthread_cond_broadcast(&u->wait_cond);
                pthread_mutex_unlock(&u->wait_lock);
                is_first = false;
            }
        }
        if (c->report_statistics && now_mono_s() >= next_stats) {
            char why[256];
            enum cm_err rc = updater_post_stats(u, why, sizeof(why));
            if (rc != CM_OK && !u->has_stats_failed &&
                !atomic_load(&u->is_stopping)) {
                log_warn("micro-update: %s", why);
            }
            u->has_stats_failed = rc != CM_OK;
            next_stats = now_mono_s() + CAPS_UPDATER_STATS_INTERVAL_S;
        }
    }
    /* Release anyone still waiting for the first cycle. */
    pthread_mutex_lock(&u->wait_lock);
    u->is_first_done = true;
    pthread_cond_broadcast(&u->wait_cond);
    pthread_mutex_unlock(&u->wait_lock);
    return NULL;
}

struct updater *
updater_start(const struct config *cfg, struct cartridge_slot *slot,
              const struct updater_hooks *hooks,
              const struct updater_skipped *skipped)
{
    struct updater *u;
    const struct cartridge *c;
    char why[256];
    char log_url[UPDATER_URL_MAX];
    sigset_t all;
    sigset_t old;
    enum cm_err rc;
    int err;

    if (!updater_is_configured(cfg)) {
        log_info("micro-updates off (no micro-update url or hostname)");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("micro-update: libcurl could not start; updates off");
        return NULL;
    }
    u = updater_new(cfg, why, sizeof(why), &rc);
    if (u == NULL) {
        log_error("micro-update: %s; updates off", why);
        curl_global_cleanup();
        return NULL;
    }
    u->slot = slot;
    if (hooks != NULL) {
        u->hooks = *hooks;
    }
    take_skipped(u, skipped);
    c = cartridge_acquire(slot);
    u->current_version = cartridge_version(c);
    u->is_current_default = cartridge_is_default(c);
    cartridge_unref(c);
    /* The thread starts with every signal blocked (STYLE §2.8). */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&u->thread, NULL, thread_main, u);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        log_error("micro-update: cannot start the updater thread: %s",
                  strerror(err));
        updater_free(u);
        curl_global_cleanup();
        return NULL;
    }
    u->has_thread = true;
    url_for_log(u->base_url, log_url, sizeof(log_url));
    log_info("micro-update: checking %s every %u s", log_url,
             cfg->cart.mu_interval_s);
    return u;
}

/* A slice of the start-up wait: how often cancel_fd is looked at. */
#define UPDATER_WAIT_SLICE_MS 100

/* True when fd has something to read (or its writer is gone).  Nothing is
 * read: the byte stays for its owner. */
static bool
fd_is_readable(int fd)
{
    struct pollfd p;

    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

/* ts advanced by ms milliseconds. */
static void
timespec_add_ms(struct timespec *ts, long ms)
{
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static bool
timespec_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec ||
           (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

bool
updater_wait_first_or(struct updater *u, unsigned max_wait_s, int cancel_fd)
{
    struct timespec deadline;
    struct timespec slice;
    bool is_done;
    bool is_installed;

    if (u == NULL) {
        return false;
    }
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)max_wait_s;
    for (;;) {
        /* Without a cancel_fd one wait to the deadline; with one, slices,
         * so a SIGTERM at start-up is not held for the whole download. */
        clock_gettime(CLOCK_MONOTONIC, &slice);
        timespec_add_ms(&slice, UPDATER_WAIT_SLICE_MS);
        if (cancel_fd < 0 || timespec_before(&deadline, &slice)) {
            slice = deadline;
        }
        pthread_mutex_lock(&u->wait_lock);
        while (!u->is_first_done) {
            if (pthread_cond_timedwait(&u->wait_cond, &u->wait_lock,
                                       &slice) == ETIMEDOUT) {
                break;
            }
        }
        is_done = u->is_first_done;
        is_installed = u->is_first_installed;
        pthread_mutex_unlock(&u->wait_lock);
        if (is_done || !timespec_before(&slice, &deadline) ||
            (cancel_fd >= 0 && fd_is_readable(cancel_fd))) {
            return is_done && is_installed;
        }
    }
}

bool
updater_wait_first(struct updater *u, unsigned max_wait_s)
{
    return updater_wait_first_or(u, max_wait_s, -1);
}

void
updater_stop(struct updater *u)
{
    if (u == NULL) {
        return;
    }
    pthread_mutex_lock(&u->wait_lock);
    atomic_store(&u->is_stopping, true);
    pthread_cond_broadcast(&u->wait_cond);
    pthread_mutex_unlock(&u->wait_lock);
    if (u->has_thread) {
        pthread_join(u->thread, NULL);
    }
    updater_free(u);
    curl_global_cleanup();
}

void
updater_counters_get(struct updater *u, struct updater_counters *out)
{
    if (u == NULL) {
        memset(out, 0, sizeof(*out));
        return;
    }
    pthread_mutex_lock(&u->counters_lock);
    *out = u->counters;
    pthread_mutex_unlock(&u->counters_lock);
}
