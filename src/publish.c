/*
 * publish.c -- cmtool publish: turn a trained cartridge into the static
 * micro-update tree, and cmtool inspect for manifests and update files
 * (SPEC §5; formats in updfile.c).
 *
 *   cmtool publish CARTRIDGE WEBROOT -k KEYDIR [--version N]
 *                  [--expires-days D] [--keep K] [--history DIR]
 *   cmtool publish --refresh WEBROOT -k KEYDIR [--expires-days D]
 *
 * DESIGN
 * Version rule: the update's version is authoritative and must equal the
 * cartridge's own version (what VERSION prints and what the helper checks
 * after loading).  The version to publish is --version N, else the
 * previous manifest's version + 1 (1 for an empty tree); the cartridge
 * must already carry it, so train with `cmtool train --version N`.  A
 * version not above the published one is refused: helpers would refuse it
 * as a replay.
 *
 * What is written, in this order, every file by temp + fsync + rename:
 *   WEBROOT/full-<v>.cmu       the full snapshot
 *   WEBROOT/delta-<b>-<v>.cmu  deltas from the K newest earlier images in
 *                              HISTORY (default 3) not above the published
 *                              version, each only when smaller than the
 *                              full file
 *   HISTORY/<version>.cmc      the full image, kept to make later deltas
 *   WEBROOT/manifest           last, so a client never sees a manifest
 *                              naming a file that is not there yet
 * then *.cmu files named by neither the new nor the previous manifest are
 * removed (clients that fetched the previous manifest a moment ago can
 * still get its files), and HISTORY keeps the K + 1 newest images.  The
 * temporary files a run killed half-way left in either are removed too.
 * HISTORY defaults to WEBROOT.history beside the web root, outside what
 * the HTTP server serves: the images there are not encrypted.
 * Modes are exact, whatever the umask: 0644 for the web files and 0755
 * for the directories made up to the web root (the HTTP server must read
 * them), 0600 and 0700 for the history.
 *
 * One run at a time per web root: WEBROOT/.publish.lock (an fcntl lock,
 * held until exit; a second run exits 4 at once).  The lock file stays in
 * the web root although the HTTP server may serve it (empty, mode 0600):
 * only there is it the same file for every spelling of WEBROOT and for
 * --refresh, which has no history directory; beside it or in HISTORY two
 * runs could miss each other.
 *
 * A refused run creates nothing: keys and the cartridge are checked
 * before the web root is made; what needs the lock (the previous
 * manifest, the history's place, the version) is checked under it, and
 * a web root this run made is removed again, lock file included, when
 * the run fails.
 *
 * --refresh re-signs the published manifest with a new issue time and
 * expiry and nothing else (same version, same files): a site whose
 * training mail did not change keeps its tree from expiring without a
 * new version.  Helpers on that version see it as current.
 *
 * Keys: KEYDIR/signing.key and KEYDIR/content.key (first key of each);
 * the previous manifest is verified with KEYDIR/signing.pub (all its keys,
 * so a rotation does not break publishing) or the signing key's own
 * public key, ignoring its expiry.  A signing.pub that is there must
 * list signing.key's public key: it is what the helpers are given.
 */
#include "publish.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "caps.h"
#include "cartridge.h"
#include "cursor.h"
#include "delta.h"
#include "fsutil.h"
#include "updfile.h"
#include "updkeys.h"

#define PUBLISH_PATH_MAX 4096
#define PUBLISH_DEFAULT_KEEP 3u
#define PUBLISH_DEFAULT_EXPIRES_DAYS 7u
#define PUBLISH_MAX_EXPIRES_DAYS 3650u
#define PUBLISH_LOCK_NAME ".publish.lock"
#define PUBLISH_UP_MAX 256u /* directories looked at above the history */

struct publish_opts {
    const char *cartridge;
    const char *webroot;
    const char *keydir;
    char history[PUBLISH_PATH_MAX];
    uint64_t version; /* 0 = previous + 1 */
    unsigned expires_days;
    unsigned keep;
    bool is_refresh; /* re-sign the manifest only */
};

/* Keys and the state of one publish run. */
struct publish_run {
    struct updkeys_ring secret;
    struct updkeys_ring content;
    struct updkeys_ring pub;
    struct updfile_manifest prev;
    bool has_prev;
    struct updfile_manifest next;
    struct buf image;
    struct buf full;
    uint8_t image_sha[UPDKEYS_SHA256_LEN];
    uint64_t cart_version; /* the version the cartridge carries */
};

static void
usage(FILE *to)
{
    fprintf(to,
            "usage: cmtool publish CARTRIDGE WEBROOT -k KEYDIR [--version N]\n"
            "                      [--expires-days D] [--keep K] "
            "[--history DIR]\n"
            "  writes WEBROOT/manifest, WEBROOT/full-N.cmu and deltas from "
            "the K (default 3)\n"
            "  newest earlier versions kept in DIR (default WEBROOT.history)."
            "\n"
            "  N defaults to the published version + 1 and must be the "
            "cartridge's own\n"
            "  version (cmtool train --version N).  The manifest expires "
            "after D days\n"
            "  (default 7): publish again before then.\n"
            "       cmtool publish --refresh WEBROOT -k KEYDIR "
            "[--expires-days D]\n"
            "  re-signs WEBROOT/manifest with a new expiry; version and "
            "files unchanged.\n");
}

static bool
parse_u64_arg(const char *s, uint64_t max, uint64_t *out)
{
    return cursor_parse_u64(s, strlen(s), max, out) == CM_OK;
}

static int
parse_args(int argc, char **argv, struct publish_opts *o)
{
    const char *history = NULL;
    bool has_keep = false;
    uint64_t v;
    size_t n;

    memset(o, 0, sizeof(*o));
    o->expires_days = PUBLISH_DEFAULT_EXPIRES_DAYS;
    o->keep = PUBLISH_DEFAULT_KEEP;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--refresh") == 0) {
            o->is_refresh = true;
        } else if (strcmp(a, "-k") == 0 && has_val) {
            o->keydir = argv[++i];
        } else if (strcmp(a, "--version") == 0 && has_val &&
                   parse_u64_arg(argv[i + 1], UINT64_MAX, &v) && v > 0) {
            o->version = v;
            i++;
        } else if (strcmp(a, "--expires-days") == 0 && has_val &&
                   parse_u64_arg(argv[i + 1], PUBLISH_MAX_EXPIRES_DAYS, &v) &&
                   v > 0) {
            o->expires_days = (unsigned)v;
            i++;
        } else if (strcmp(a, "--keep") == 0 && has_val &&
                   parse_u64_arg(argv[i + 1], CAPS_PUBLISH_KEEP_MAX, &v)) {
            o->keep = (unsigned)v;
            has_keep = true;
            i++;
        } else if (strcmp(a, "--history") == 0 && has_val) {
            history = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "cmtool publish: bad option or value: %s\n", a);
            return 2;
        } else if (o->cartridge == NULL && !o->is_refresh) {
            o->cartridge = a;
        } else if (o->webroot == NULL) {
            o->webroot = a;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if ((o->cartridge == NULL && !o->is_refresh) || o->webroot == NULL ||
        o->keydir == NULL) {
        usage(stderr);
        return 2;
    }
    /* Dropped without a word, they made "publish CART --refresh WEBROOT"
     * re-sign the old manifest, exit 0, and publish nothing. */
    if (o->is_refresh && (o->cartridge != NULL || o->version != 0 ||
                          has_keep || history != NULL)) {
        fprintf(stderr, "cmtool publish: --refresh only re-signs the "
                        "published manifest: it takes no CARTRIDGE, "
                        "--version, --keep or --history\n");
        return 2;
    }
    if (history != NULL) {
        n = (size_t)snprintf(o->history, sizeof(o->history), "%s", history);
    } else {
        /* WEBROOT.history, with the web root's trailing slashes dropped. */
        n = strlen(o->webroot);
        while (n > 1 && o->webroot[n - 1] == '/') {
            n--;
        }
        n = (size_t)snprintf(o->history, sizeof(o->history), "%.*s.history",
                             (int)n, o->webroot);
    }
    if (n >= sizeof(o->history)) {
        fprintf(stderr, "cmtool publish: history path too long\n");
        return 2;
    }
    return -1; /* go on */
}

static enum cm_err
join(char *dst, const char *dir, const char *name)
{
    return fsutil_join(dst, PUBLISH_PATH_MAX, dir, name);
}

/*
 * KEYDIR/name into ring.  Returns an exit status: 2 when the path does
 * not fit (join() leaves path unset then, so it cannot be printed), 3
 * when the file is missing or not a key file of that kind.
 */
static int
load_key_file(const char *keydir, const char *name, enum updkeys_kind kind,
              struct updkeys_ring *ring)
{
    char path[PUBLISH_PATH_MAX];
    const char *why = NULL;

    if (join(path, keydir, name) != CM_OK) {
        fprintf(stderr, "cmtool publish: key directory path too long: "
                        "%.64s...\n", keydir);
        return 2;
    }
    if (updkeys_load(path, kind, ring, NULL, &why) != CM_OK) {
        fprintf(stderr, "cmtool publish: %s: %s\n", path,
                why != NULL ? why : "cannot read");
        return 3;
    }
    return 0;
}

/*
 * A warning, not a refusal, when signing.key is readable by group or
 * others: whoever can read it can sign updates every helper installs,
 * but a key already exposed is not made safer by a publish that does not
 * happen.
 */
static void
warn_if_exposed(const char *keydir)
{
    char path[PUBLISH_PATH_MAX];
    struct stat st;

    if (join(path, keydir, "signing.key") == CM_OK && stat(path, &st) == 0 &&
        (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        fprintf(stderr, "cmtool publish: warning: %s is mode %04o: group "
                        "or others can read it and sign updates; chmod 600 "
                        "it (and check who read it)\n",
                path, (unsigned)(st.st_mode & 07777));
    }
}

/*
 * KEYDIR/signing.pub into r->pub.  It is optional: a publishing machine
 * may hold only the secret keys, and the signing key's own public key
 * (load_keys) verifies the previous manifest.  But when it is there it is
 * the file keygen says to copy to every helper, so one that cannot be
 * read or does not list signing.key's public key (keys of two keygen runs
 * mixed, a --force that stopped half-way) is refused: every helper given
 * it would refuse what this run signs ("unknown key id") while publish
 * reported success.  Returns an exit status.
 */
static int
load_signing_pub(const char *keydir, struct publish_run *r)
{
    char path[PUBLISH_PATH_MAX];
    char id_hex[UPDKEYS_ID_HEX_LEN];
    const char *why = NULL;
    enum cm_err rc;

    r->pub.kind = UPDKEYS_SIGNING_PUBLIC;
    r->pub.n_keys = 0;
    if (join(path, keydir, "signing.pub") != CM_OK) {
        fprintf(stderr, "cmtool publish: key directory path too long: "
                        "%.64s...\n", keydir);
        return 2;
    }
    rc = updkeys_load(path, UPDKEYS_SIGNING_PUBLIC, &r->pub, NULL, &why);
    if (rc == CM_ENOENT) {
        r->pub.kind = UPDKEYS_SIGNING_PUBLIC;
        r->pub.n_keys = 0;
        return 0;
    }
    if (rc != CM_OK) {
        fprintf(stderr, "cmtool publish: %s: %s (helpers given it could "
                        "not verify updates; remove it if it is not the "
                        "one they have)\n",
                path, why != NULL ? why : "cannot read");
        return 3;
    }
    if (updkeys_find(&r->pub, r->secret.keys[0].id) == NULL) {
        updkeys_hex(r->secret.keys[0].id, UPDKEYS_ID_LEN, id_hex);
        fprintf(stderr, "cmtool publish: %s does not list the public key "
                        "of signing.key (key id %s): helpers given it "
                        "would refuse everything published; the key "
                        "files come from different keygen runs\n",
                path, id_hex);
        return 3;
    }
    return 0;
}

static int
load_keys(const struct publish_opts *o, struct publish_run *r)
{
    int status;

    status = load_key_file(o->keydir, "signing.key", UPDKEYS_SIGNING_SECRET,
                           &r->secret);
    if (status == 0) {
        status = load_key_file(o->keydir, "content.key", UPDKEYS_CONTENT,
                               &r->content);
    }
    if (status != 0) {
        return status;
    }
    warn_if_exposed(o->keydir);
    status = load_signing_pub(o->keydir, r);
    if (status != 0) {
        return status;
    }
    /* The signing key's own public key always verifies our manifests. */
    if (r->pub.n_keys < CAPS_UPDKEYS_RING_MAX &&
        updkeys_find(&r->pub, r->secret.keys[0].id) == NULL &&
        updkeys_public_of(&r->secret.keys[0], &r->pub.keys[r->pub.n_keys]) ==
            CM_OK) {
        r->pub.n_keys++;
    }
    return 0;
}

/* The previous manifest, if any.  Returns an exit status or -1 to go on. */
static int
load_previous(const struct publish_opts *o, struct publish_run *r)
{
    char path[PUBLISH_PATH_MAX];
    struct buf b;
    bool is_truncated = false;
    const char *why = NULL;
    enum cm_err rc;

    if (join(path, o->webroot, "manifest") != CM_OK) {
        fprintf(stderr, "cmtool publish: web root path too long\n");
        return 2;
    }
    buf_init(&b, CAPS_UPDFILE_MANIFEST_MAX_BYTES + 1);
    rc = fsutil_read_file(path, CAPS_UPDFILE_MANIFEST_MAX_BYTES + 1, &b,
                          &is_truncated, &why);
    if (rc == CM_ENOENT) {
        buf_clear(&b);
        return -1;
    }
    if (rc == CM_OK) {
        rc = updfile_manifest_parse(b.data, b.len, &r->pub, 0, &r->prev,
                                    &why);
    }
    buf_clear(&b);
    if (rc != CM_OK) {
        if (o->version != 0) {
            fprintf(stderr, "cmtool publish: warning: %s: %s; replacing it "
                            "(--version given)\n",
                    path, why);
            return -1;
        }
        fprintf(stderr, "cmtool publish: %s: %s; refusing to guess the "
                        "version (give --version N to start over)\n",
                path, why);
        return 3;
    }
    r->has_prev = true;
    return -1;
}

/* Versions N of HISTORY/N.cmc below `below`, newest first (at most cap). */
static size_t
history_versions(const char *dir, uint64_t below, uint64_t *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    size_t seen = 0;

    if (d == NULL) {
        return 0;
    }
    while (seen++ < CAPS_UPDATER_CACHE_SCAN_MAX && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        uint64_t v = 0;
        size_t at;

        if (len <= 4 || strcmp(e->d_name + len - 4, ".cmc") != 0 ||
            cursor_parse_u64(e->d_name, len - 4, UINT64_MAX, &v) != CM_OK ||
            v == 0 || v >= below) {
            continue;
        }
        /* Insert sorted, newest first; drop the oldest past cap. */
        at = 0;
        while (at < n && out[at] > v) {
            at++;
        }
        if (at >= cap) {
            continue;
        }
        if (n == cap) {
            n--;
        }
        memmove(&out[at + 1], &out[at], (n - at) * sizeof(out[0]));
        out[at] = v;
        n++;
    }
    closedir(d);
    return n;
}

static int
write_file(const char *dir, const char *name, const uint8_t *p, size_t len,
           mode_t mode)
{
    char path[PUBLISH_PATH_MAX];

    if (join(path, dir, name) != CM_OK) {
        fprintf(stderr, "cmtool publish: cannot write %s/%s: path too "
                        "long\n", dir, name);
        return 4;
    }
    if (fsutil_write_atomic(path, p, len, mode) != CM_OK) {
        /* The system's reason: a full disk, permissions and a name
         * taken by a folder each want another fix. */
        fprintf(stderr, "cmtool publish: cannot write %s/%s: %s\n", dir,
                name, strerror(errno));
        return 4;
    }
    return 0;
}

/*
 * HTTP validators have one-second resolution: a server's Last-Modified
 * (and nginx's ETag, made of mtime and size) would not change if two
 * versions were published within the same second, and helpers polling
 * with If-Modified-Since would keep getting 304 for the newer manifest.
 * So the new manifest's mtime is made strictly later than the old one's.
 */
static void
advance_manifest_mtime(const char *webroot, time_t old_mtime)
{
    char path[PUBLISH_PATH_MAX];
    struct stat st;
    struct timespec times[2];

    if (old_mtime == 0 || join(path, webroot, "manifest") != CM_OK ||
        stat(path, &st) != 0 || st.st_mtime > old_mtime) {
        return;
    }
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = old_mtime + 1;
    times[1].tv_nsec = 0;
    if (utimensat(AT_FDCWD, path, times, 0) != 0) {
        fprintf(stderr, "cmtool publish: warning: cannot advance the "
                        "manifest's modification time\n");
    }
}

/* Add a .cmu to the new manifest. */
static void
list_file(struct publish_run *r, const char *name, enum updfile_kind kind,
          uint64_t base, uint64_t version, const struct buf *b)
{
    struct updfile_entry *e = &r->next.files[r->next.n_files++];

    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->kind = kind;
    e->base_version = base;
    e->version = version;
    e->size = b->len;
    updkeys_sha256(b->data, b->len, e->sha256);
}

/*
 * Deltas from earlier images; each written and listed when smaller than
 * the full file.  The bases are the K newest images not above the
 * published version: one above it is left by a run that failed before
 * its manifest, no helper holds it, and it would take the slot of a
 * version helpers do run.  Without a previous manifest (a tree started
 * over with --version) every earlier image may be one a helper holds.
 */
static int
make_deltas(const struct publish_opts *o, struct publish_run *r,
            uint64_t version)
{
    uint64_t bases[CAPS_PUBLISH_KEEP_MAX];
    uint64_t below = r->has_prev ? r->prev.version + 1 : version;
    size_t n = history_versions(o->history, below, bases, o->keep);

    for (size_t i = 0; i < n; i++) {
        char name[64];
        char path[PUBLISH_PATH_MAX];
        struct buf base;
        struct buf d;
        struct buf file;
        struct updfile_spec spec;
        bool is_truncated = false;
        int status = 0;

        snprintf(name, sizeof(name), "%llu.cmc", (unsigned long long)bases[i]);
        buf_init(&base, CAPS_UPDFILE_PAYLOAD_MAX_BYTES);
        /* A delta bigger than the full file is useless: cap it there. */
        buf_init(&d, r->full.len);
        buf_init(&file, CAPS_UPDFILE_MAX_BYTES + UPDFILE_OVERHEAD);
        if (join(path, o->history, name) != CM_OK ||
            fsutil_read_file(path, CAPS_UPDFILE_PAYLOAD_MAX_BYTES, &base,
                             &is_truncated, NULL) != CM_OK ||
            is_truncated) {
            fprintf(stderr, "cmtool publish: warning: cannot read %s; no "
                            "delta from version %llu\n",
                    path, (unsigned long long)bases[i]);
            goto next;
        }
        if (delta_make(base.data, base.len, r->image.data, r->image.len,
                       &d) != CM_OK) {
            goto next; /* larger than the full file */
        }
        memset(&spec, 0, sizeof(spec));
        spec.kind = UPDFILE_DELTA;
        spec.version = version;
        spec.base_version = bases[i];
        memcpy(spec.target_sha256, r->image_sha, UPDKEYS_SHA256_LEN);
        if (updfile_build(&spec, d.data, d.len, &r->secret.keys[0],
                          &r->content.keys[0], &file) != CM_OK ||
            file.len >= r->full.len) {
            goto next;
        }
        snprintf(name, sizeof(name), "delta-%llu-%llu.cmu",
                 (unsigned long long)bases[i], (unsigned long long)version);
        status = write_file(o->webroot, name, file.data, file.len, 0644);
        if (status == 0) {
            list_file(r, name, UPDFILE_DELTA, bases[i], version, &file);
        }
    next:
        buf_clear(&base);
        buf_clear(&d);
        buf_clear(&file);
        if (status != 0) {
            return status;
        }
    }
    return 0;
}

static bool
is_listed(const struct updfile_manifest *m, const char *name)
{
    for (size_t i = 0; i < m->n_files; i++) {
        if (strcmp(m->files[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

/* Digits, a dot, digits: the "<pid>.<n>" fsutil_write_atomic appends. */
static bool
is_tmp_suffix(const char *s)
{
    const char *dot = strchr(s, '.');

    return dot != NULL && dot > s &&
           strspn(s, "0123456789") == (size_t)(dot - s) && dot[1] != '\0' &&
           strspn(dot + 1, "0123456789") == strlen(dot + 1);
}

/* A temporary file of a run killed half-way: "<ours>.tmp.<pid>.<n>", where
 * <ours> is the manifest or an update file (web root) or an image
 * (history).  Only called with the lock held, so no run is writing it. */
static bool
is_leftover_tmp(const char *name, bool is_history)
{
    const char *t = strstr(name, ".tmp.");
    size_t len = t != NULL ? (size_t)(t - name) : 0;

    if (t == NULL || !is_tmp_suffix(t + 5)) {
        return false;
    }
    if (is_history) {
        return len > 4 && memcmp(name + len - 4, ".cmc", 4) == 0 &&
               strspn(name, "0123456789") == len - 4;
    }
    return (len == 8 && memcmp(name, "manifest", 8) == 0) ||
           (len > 4 && memcmp(name + len - 4, ".cmu", 4) == 0 &&
            (strncmp(name, "full-", 5) == 0 ||
             strncmp(name, "delta-", 6) == 0));
}

/* Remove the temporary files a killed run left in dir. */
static void
remove_leftovers(const char *dir, bool is_history)
{
    char path[PUBLISH_PATH_MAX];
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t seen = 0;

    while (d != NULL && seen++ < CAPS_UPDATER_CACHE_SCAN_MAX &&
           (e = readdir(d)) != NULL) {
        if (is_leftover_tmp(e->d_name, is_history) &&
            join(path, dir, e->d_name) == CM_OK) {
            unlink(path);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
}

/* Remove our *.cmu that neither manifest lists, old history images and
 * what killed runs left. */
static void
prune(const struct publish_opts *o, const struct publish_run *r,
      uint64_t version)
{
    uint64_t keep[CAPS_PUBLISH_KEEP_MAX + 1];
    uint64_t all[64];
    size_t n_keep = history_versions(o->history, version + 1, keep,
                                     o->keep + 1);
    size_t n_all;
    DIR *d = opendir(o->webroot);
    struct dirent *e;
    char path[PUBLISH_PATH_MAX];
    size_t seen = 0;
    size_t passes = 0;

    while (d != NULL && seen++ < CAPS_UPDATER_CACHE_SCAN_MAX &&
           (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        bool is_ours = len > 4 && strcmp(e->d_name + len - 4, ".cmu") == 0 &&
                       (strncmp(e->d_name, "full-", 5) == 0 ||
                        strncmp(e->d_name, "delta-", 6) == 0);
        if (!is_ours || is_listed(&r->next, e->d_name) ||
            (r->has_prev && is_listed(&r->prev, e->d_name))) {
            continue;
        }
        if (join(path, o->webroot, e->d_name) == CM_OK) {
            unlink(path);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    /* History: everything older than the n_keep newest goes. */
    do {
        n_all = history_versions(o->history, UINT64_MAX, all, 64);
        for (size_t i = 0; i < n_all; i++) {
            char name[32];
            bool is_kept = false;
            for (size_t j = 0; j < n_keep; j++) {
                is_kept = is_kept || keep[j] == all[i];
            }
            snprintf(name, sizeof(name), "%llu.cmc",
                     (unsigned long long)all[i]);
            if (!is_kept && join(path, o->history, name) == CM_OK) {
                unlink(path);
            }
        }
    } while (n_all == 64 && ++passes < 100);
    remove_leftovers(o->webroot, false);
    remove_leftovers(o->history, true);
}

static void
run_clear(struct publish_run *r)
{
    updkeys_ring_clear(&r->secret);
    updkeys_ring_clear(&r->content);
    updkeys_ring_clear(&r->pub);
    buf_clear(&r->image);
    buf_clear(&r->full);
}

/* r->next signed into WEBROOT/manifest (last: every file it names is
 * there), its mtime moved past the old one's (a new validator). */
static int
write_manifest(const struct publish_opts *o, const struct publish_run *r)
{
    struct buf manifest;
    struct stat old_st;
    char path[PUBLISH_PATH_MAX];
    time_t old_mtime = 0;
    int status;

    if (join(path, o->webroot, "manifest") == CM_OK &&
        stat(path, &old_st) == 0) {
        old_mtime = old_st.st_mtime;
    }
    buf_init(&manifest, CAPS_UPDFILE_MANIFEST_MAX_BYTES);
    if (updfile_manifest_format(&r->next, &r->secret.keys[0], &manifest) !=
        CM_OK) {
        fprintf(stderr, "cmtool publish: cannot format the manifest\n");
        buf_clear(&manifest);
        return 3;
    }
    status = write_file(o->webroot, "manifest", manifest.data, manifest.len,
                        0644);
    buf_clear(&manifest);
    if (status == 0) {
        advance_manifest_mtime(o->webroot, old_mtime);
    }
    return status;
}

/* The version the web root serves now: 0 for an empty tree. */
static uint64_t
published_version(const struct publish_run *r)
{
    return r->has_prev ? r->prev.version : 0;
}

/*
 * The previous manifest and the version to publish (the version rule
 * above), which must be above the published one: helpers would
 * refuse anything else as a replay.  Returns an exit status or -1 to go
 * on.
 */
static int
publish_version(const struct publish_opts *o, struct publish_run *r,
                uint64_t *version)
{
    uint64_t prev_version;
    int status;

    status = load_previous(o, r);
    if (status >= 0) {
        return status;
    }
    prev_version = published_version(r);
    *version = o->version != 0 ? o->version : prev_version + 1;
    if (*version <= prev_version) {
        fprintf(stderr, "cmtool publish: version %llu is not above the "
                        "published %llu; helpers would refuse it\n",
                (unsigned long long)*version,
                (unsigned long long)prev_version);
        return 3;
    }
    return -1;
}

/*
 * The cartridge into r->image, refused unless it loads as a valid
 * cartridge; its version into r->cart_version.  Needs neither the web
 * root nor the lock, so it runs before anything is created.  Returns an
 * exit status, 0 to go on.
 */
static int
load_cartridge(const struct publish_opts *o, struct publish_run *r)
{
    struct cartridge *c = NULL;
    const char *why = NULL;
    bool is_truncated = false;

    if (fsutil_read_file(o->cartridge, CAPS_UPDFILE_PAYLOAD_MAX_BYTES,
                         &r->image, &is_truncated, &why) != CM_OK ||
        is_truncated) {
        fprintf(stderr, "cmtool publish: %s: %s\n", o->cartridge,
                is_truncated ? "larger than an update may carry" : why);
        return 3;
    }
    if (cartridge_load(r->image.data, r->image.len, &c, &why) != CM_OK) {
        fprintf(stderr, "cmtool publish: %s is not a valid cartridge: %s\n",
                o->cartridge, why);
        return 3;
    }
    r->cart_version = cartridge_version(c);
    cartridge_unref(c);
    return 0;
}

/*
 * Refused unless the cartridge already carries the version being
 * published (what the helper checks after installing it).  Returns an
 * exit status, 0 to go on.
 */
static int
check_cartridge_version(const struct publish_opts *o,
                        const struct publish_run *r, uint64_t version)
{
    uint64_t have = r->cart_version;

    if (have != version && have <= published_version(r)) {
        /* Published twice, or an old file: no --version can help. */
        fprintf(stderr, "cmtool publish: %s is version %llu, not above "
                        "the published %llu (this publish is version "
                        "%llu): helpers would refuse it as a replay; train "
                        "the next cartridge with --version %llu\n",
                o->cartridge, (unsigned long long)have,
                (unsigned long long)published_version(r),
                (unsigned long long)version, (unsigned long long)version);
        return 3;
    }
    if (have != version) {
        fprintf(stderr, "cmtool publish: %s is version %llu but this "
                        "publish is version %llu: train it with --version "
                        "%llu (or pass --version %llu if that is newer than "
                        "%llu)\n",
                o->cartridge, (unsigned long long)have,
                (unsigned long long)version, (unsigned long long)version,
                (unsigned long long)have,
                (unsigned long long)published_version(r));
        return 3;
    }
    return 0;
}

/*
 * The full snapshot into r->full, WEBROOT/full-<v>.cmu and the new
 * manifest r->next (issued now), which lists it first.  It comes before
 * the deltas: a delta is only kept when it is smaller.
 */
static int
write_full(const struct publish_opts *o, struct publish_run *r,
           uint64_t version, uint64_t now)
{
    struct updfile_spec spec;
    char name[64];
    int status;

    memset(&spec, 0, sizeof(spec));
    spec.kind = UPDFILE_FULL;
    spec.version = version;
    memcpy(spec.target_sha256, r->image_sha, UPDKEYS_SHA256_LEN);
    if (updfile_build(&spec, r->image.data, r->image.len, &r->secret.keys[0],
                      &r->content.keys[0], &r->full) != CM_OK) {
        fprintf(stderr, "cmtool publish: cannot build the update file\n");
        return 3;
    }
    memset(&r->next, 0, sizeof(r->next));
    r->next.format = UPDFILE_MANIFEST_FORMAT;
    r->next.version = version;
    r->next.issued_unix = now;
    r->next.expires_unix = now + (uint64_t)o->expires_days * 86400u;
    snprintf(name, sizeof(name), "full-%llu.cmu", (unsigned long long)version);
    status = write_file(o->webroot, name, r->full.data, r->full.len, 0644);
    if (status != 0) {
        return status;
    }
    list_file(r, name, UPDFILE_FULL, 0, version, &r->full);
    return 0;
}

/* What was published, for the person running cmtool. */
static void
print_published(const struct publish_opts *o, const struct publish_run *r,
                uint64_t version)
{
    printf("published version %llu in %s (expires in %u days):\n",
           (unsigned long long)version, o->webroot, o->expires_days);
    for (size_t i = 0; i < r->next.n_files; i++) {
        const struct updfile_entry *e = &r->next.files[i];
        printf("  %-28s %-5s %8llu bytes\n", e->name,
               updfile_kind_name(e->kind), (unsigned long long)e->size);
    }
}

/* Whether fd is still the file at path (same device and inode). */
static bool
is_same_file(int fd, const char *path)
{
    struct stat a;
    struct stat b;

    return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * WEBROOT/.publish.lock, held until exit: two runs on one web root (a cron
 * job and a publish by hand) would both take the published version + 1 and
 * write full-<v>.cmu and the manifest of different cartridges over each
 * other, leaving a manifest whose digests do not match its files.  0 when
 * held, else an exit status.
 */
static int
lock_webroot(const struct publish_opts *o)
{
    char path[PUBLISH_PATH_MAX];
    int fd = -1;

    if (join(path, o->webroot, PUBLISH_LOCK_NAME) != CM_OK ||
        fsutil_lock(path, false, &fd) != CM_OK) {
        fprintf(stderr, "cmtool publish: cannot lock %s/%s\n", o->webroot,
                PUBLISH_LOCK_NAME);
        return 4;
    }
    /* A failed first run unlinks the lock file of the web root it made
     * (abandon_webroot): a lock on that unlinked file guards nothing. */
    if (fd >= 0 && !is_same_file(fd, path)) {
        fsutil_unlock(fd);
        fd = -1;
    }
    if (fd < 0) {
        fprintf(stderr, "cmtool publish: another cmtool publish is running "
                        "on %s; try again when it is done\n",
                o->webroot);
        return 4;
    }
    return 0; /* the descriptor stays open: the lock ends with the run */
}

/*
 * The deepest directory of path that exists, opened (symlinks followed),
 * or -1.  The tail that does not exist yet cannot hold a symlink.
 */
static int
open_existing(const char *path)
{
    char cur[PUBLISH_PATH_MAX];
    size_t len;
    int fd;

    if (snprintf(cur, sizeof(cur), "%s", path) >= (int)sizeof(cur)) {
        return -1;
    }
    while ((fd = open(cur[0] != '\0' ? cur : ".",
                      O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        if (errno != ENOENT || cur[0] == '\0') {
            return -1;
        }
        len = strlen(cur);
        while (len > 1 && cur[len - 1] == '/') {
            len--;
        }
        while (len > 0 && cur[len - 1] != '/') {
            len--;
        }
        cur[len] = '\0'; /* "a/b" -> "a/", "b" -> "" (the cwd) */
    }
    return fd;
}

/* Whether the directory fd (closed here) or one of its parents, walked
 * up through "..", is the one of rs. */
static bool
is_within_fd(int fd, const struct stat *rs)
{
    struct stat st;
    struct stat up;
    bool is_within = false;

    for (unsigned i = 0; fd >= 0 && i < PUBLISH_UP_MAX; i++) {
        int parent;

        if (fstat(fd, &st) != 0) {
            break;
        }
        if (st.st_dev == rs->st_dev && st.st_ino == rs->st_ino) {
            is_within = true;
            break;
        }
        parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0 || fstat(parent, &up) != 0 ||
            (up.st_dev == st.st_dev && up.st_ino == st.st_ino)) {
            if (parent >= 0) {
                close(parent); /* "/" is its own parent */
            }
            break;
        }
        close(fd);
        fd = parent;
    }
    if (fd >= 0) {
        close(fd);
    }
    return is_within;
}

/*
 * Whether dir is root or lies below it, compared by device and inode
 * along dir's absolute path (its missing tail skipped), so any spelling
 * of the two matches; and again from dir's existing part up through
 * "..", since walking up by name from a symlink (HIST -> WEBROOT/sub)
 * never meets the web root above the link's target.
 */
static bool
is_below(const char *dir, const char *root)
{
    char cur[PUBLISH_PATH_MAX];
    struct stat rs;
    int n;

    if (stat(root, &rs) != 0) {
        return false;
    }
    if (dir[0] == '/') {
        n = snprintf(cur, sizeof(cur), "%s", dir);
    } else {
        char cwd[PUBLISH_PATH_MAX];

        if (getcwd(cwd, sizeof(cwd)) == NULL) {
            return false;
        }
        n = snprintf(cur, sizeof(cur), "%s/%s", cwd, dir);
    }
    if (n < 0 || (size_t)n >= sizeof(cur)) {
        return false;
    }
    if (fsutil_is_within(cur, sizeof(cur), rs.st_dev, rs.st_ino,
                         PUBLISH_UP_MAX)) {
        return true;
    }
    return is_within_fd(open_existing(dir), &rs);
}

/*
 * The outermost directory of path that does not exist yet into top (""
 * when path exists), walking up by name: what fsutil_mkdirs is about to
 * make, so a failed run can take it away again.
 */
static void
missing_top(const char *path, char top[PUBLISH_PATH_MAX])
{
    char cur[PUBLISH_PATH_MAX];
    struct stat st;
    size_t len;

    top[0] = '\0';
    if (snprintf(cur, sizeof(cur), "%s", path) >= (int)sizeof(cur)) {
        return;
    }
    while (cur[0] != '\0' && stat(cur, &st) != 0 && errno == ENOENT) {
        memcpy(top, cur, strlen(cur) + 1);
        len = strlen(cur);
        while (len > 1 && cur[len - 1] == '/') {
            len--;
        }
        while (len > 0 && cur[len - 1] != '/') {
            len--;
        }
        cur[len] = '\0'; /* "a/b" -> "a/", "b" -> "" */
    }
}

/* Remove the empty directories from path up to top (both included),
 * the ones missing_top said this run made. */
static void
remove_made(const char *path, const char *top)
{
    char cur[PUBLISH_PATH_MAX];
    size_t top_len = strlen(top);
    size_t len;

    if (snprintf(cur, sizeof(cur), "%s", path) >= (int)sizeof(cur)) {
        return;
    }
    while (top_len > 1 && top[top_len - 1] == '/') {
        top_len--;
    }
    len = strlen(cur);
    while (len >= top_len && len > 0) {
        cur[len] = '\0';
        if (rmdir(cur) != 0) {
            return; /* not empty (or gone): nor are its parents */
        }
        while (len > 1 && cur[len - 1] == '/') {
            len--;
        }
        while (len > 0 && cur[len - 1] != '/') {
            len--;
        }
        while (len > 1 && cur[len - 1] == '/') {
            len--;
        }
        if (len < top_len) {
            return;
        }
    }
}

/*
 * A failed first publish takes away the web root it made: an empty tree
 * holding only .publish.lock would be served as is, and the next run
 * would find a web root nobody meant to keep.  Our files in it and the
 * lock file go (the lock is still ours: the descriptor stays open), then
 * the directories, each only while empty.
 */
static void
abandon_webroot(const struct publish_opts *o, const struct publish_run *r,
                const char *made_top)
{
    char path[PUBLISH_PATH_MAX];

    for (size_t i = 0; i < r->next.n_files; i++) {
        if (join(path, o->webroot, r->next.files[i].name) == CM_OK) {
            unlink(path);
        }
    }
    if (join(path, o->webroot, PUBLISH_LOCK_NAME) == CM_OK) {
        unlink(path);
    }
    remove_made(o->webroot, made_top);
}

/* Everything after the web root exists, in the order the design comment
 * gives, under the lock. */
static int
publish_locked(const struct publish_opts *o, struct publish_run *r,
               bool *is_locked)
{
    char name[64];
    uint64_t version = 0;
    uint64_t now = (uint64_t)time(NULL);
    int status;

    status = lock_webroot(o);
    if (status != 0) {
        return status;
    }
    *is_locked = true;
    /* The history images are plain: below the web root, anyone who can
     * fetch the updates could fetch the cartridge without the content
     * key. */
    if (is_below(o->history, o->webroot)) {
        fprintf(stderr, "cmtool publish: the history %s is inside the web "
                        "root %s; its images are not encrypted: give "
                        "--history a directory outside it\n",
                o->history, o->webroot);
        return 2;
    }
    status = publish_version(o, r, &version);
    if (status >= 0) {
        return status;
    }
    status = check_cartridge_version(o, r, version);
    if (status != 0) {
        return status;
    }
    if (fsutil_mkdirs(o->history, 0700) != CM_OK) {
        fprintf(stderr, "cmtool publish: cannot create %s\n", o->history);
        return 4;
    }
    updkeys_sha256(r->image.data, r->image.len, r->image_sha);
    status = write_full(o, r, version, now);
    if (status != 0) {
        return status;
    }
    status = make_deltas(o, r, version);
    if (status != 0) {
        return status;
    }
    snprintf(name, sizeof(name), "%llu.cmc", (unsigned long long)version);
    status = write_file(o->history, name, r->image.data, r->image.len, 0600);
    if (status != 0) {
        return status;
    }
    status = write_manifest(o, r);
    if (status != 0) {
        return status;
    }
    prune(o, r, version);
    print_published(o, r, version);
    return 0;
}

/*
 * What can be checked without the web root (keys, the cartridge) is
 * checked before it is created, so a refused run creates nothing; what
 * needs the lock is checked under it, and a web root this run made is
 * taken away again when the run fails.
 */
static int
publish(const struct publish_opts *o, struct publish_run *r)
{
    char made_top[PUBLISH_PATH_MAX];
    bool is_locked = false;
    int status = load_keys(o, r);

    if (status == 0) {
        status = load_cartridge(o, r);
    }
    if (status != 0) {
        return status;
    }
    missing_top(o->webroot, made_top);
    if (fsutil_mkdirs(o->webroot, 0755) != CM_OK) {
        fprintf(stderr, "cmtool publish: cannot create %s\n", o->webroot);
        remove_made(o->webroot, made_top); /* the part that was made */
        return 4;
    }
    status = publish_locked(o, r, &is_locked);
    /* Without the lock the web root may be another run's by now (made
     * between our look and our mkdir): only its lock holder clears it. */
    if (status != 0 && made_top[0] != '\0' && is_locked) {
        abandon_webroot(o, r, made_top);
    }
    return status;
}

/* --refresh: the previous manifest, verified, re-signed with a new issue
 * time and expiry. */
static int
refresh(const struct publish_opts *o, struct publish_run *r)
{
    uint64_t now = (uint64_t)time(NULL);
    int status;

    if (!fsutil_is_dir(o->webroot)) {
        fprintf(stderr, "cmtool publish: %s holds no manifest to refresh\n",
                o->webroot);
        return 3;
    }
    /* Keys first: a refused run should not leave a lock file behind. */
    status = load_keys(o, r);
    if (status == 0) {
        status = lock_webroot(o);
    }
    if (status != 0) {
        return status;
    }
    status = load_previous(o, r);
    if (status >= 0) {
        return status;
    }
    if (!r->has_prev) {
        fprintf(stderr, "cmtool publish: %s holds no manifest to refresh\n",
                o->webroot);
        return 3;
    }
    r->next = r->prev;
    r->next.issued_unix = now;
    r->next.expires_unix = now + (uint64_t)o->expires_days * 86400u;
    status = write_manifest(o, r);
    if (status != 0) {
        return status;
    }
    printf("refreshed version %llu in %s (expires in %u days)\n",
           (unsigned long long)r->next.version, o->webroot, o->expires_days);
    return 0;
}

int
publish_main(int argc, char **argv)
{
    struct publish_opts o;
    struct publish_run *r;
    int status = parse_args(argc, argv, &o);

    if (status >= 0) {
        return status;
    }
    /* Every mode this run asks for is meant exactly: 0644 and 0755 for
     * what the HTTP server must read (encrypted), 0600 and 0700 for the
     * history and the lock.  A cron job's umask 077 (or 027, owner root)
     * made the web files unreadable to the server, and every helper got
     * 403; 022 takes nothing from any of them. */
    umask(022);
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "cmtool publish: out of memory\n");
        return 4;
    }
    buf_init(&r->image, CAPS_UPDFILE_PAYLOAD_MAX_BYTES);
    buf_init(&r->full, CAPS_UPDFILE_MAX_BYTES + UPDFILE_OVERHEAD);
    status = o.is_refresh ? refresh(&o, r) : publish(&o, r);
    run_clear(r);
    free(r);
    return status;
}

/* ---- cmtool inspect for manifests and update files ------------------- */

struct inspect_keys {
    struct updkeys_ring pub;
    struct updkeys_ring content;
    bool has_pub;
    bool has_content;
};

static void
print_id(const char *label, const uint8_t id[UPDKEYS_ID_LEN])
{
    char hex[UPDKEYS_ID_HEX_LEN];

    updkeys_hex(id, UPDKEYS_ID_LEN, hex);
    printf("%-16s %s\n", label, hex);
}

static void
print_time(const char *label, uint64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char text[64] = "?";

    if (gmtime_r(&tt, &tm) != NULL) {
        strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &tm);
    }
    printf("%-16s %llu (%s)\n", label, (unsigned long long)t, text);
}

static int
inspect_manifest(const uint8_t *p, size_t len, const struct inspect_keys *k)
{
    struct updfile_manifest *m = calloc(1, sizeof(*m));
    char hex[2 * UPDKEYS_SHA256_LEN + 1];
    const char *why = NULL;
    enum cm_err rc;
    int status = 0;

    if (m == NULL) {
        return 2;
    }
    if (k->has_pub) {
        rc = updfile_manifest_parse(p, len, &k->pub, 0, m, &why);
    } else {
        rc = updfile_manifest_parse_unverified(p, len, m, &why);
    }
    if (rc != CM_OK) {
        printf("manifest         INVALID: %s (%s)\n", why, cm_strerror(rc));
        free(m);
        return 1;
    }
    printf("type             manifest (format %u)\n", (unsigned)m->format);
    printf("signature        %s\n",
           k->has_pub ? "good" : "NOT verified (no public key given)");
    print_id("signing key id", m->signing_key_id);
    printf("version          %llu\n", (unsigned long long)m->version);
    print_time("issued", m->issued_unix);
    print_time("expires", m->expires_unix);
    if ((uint64_t)time(NULL) > m->expires_unix) {
        printf("expiry           EXPIRED: helpers refuse it\n");
        status = 1;
    }
    for (size_t i = 0; i < m->n_files; i++) {
        const struct updfile_entry *e = &m->files[i];
        updkeys_hex(e->sha256, UPDKEYS_SHA256_LEN, hex);
        printf("file             %s %s %llu->%llu %llu bytes sha256 %s\n",
               e->name, updfile_kind_name(e->kind),
               (unsigned long long)e->base_version,
               (unsigned long long)e->version, (unsigned long long)e->size,
               hex);
    }
    free(m);
    return status;
}

static int
inspect_update(const uint8_t *p, size_t len, const struct inspect_keys *k)
{
    struct updfile_header h;
    struct delta_info di;
    struct cartridge *c = NULL;
    char hex[2 * UPDKEYS_SHA256_LEN + 1];
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    const char *why = NULL;
    enum cm_err rc;

    rc = updfile_peek(p, len, &h, &why);
    if (rc != CM_OK) {
        printf("update file      INVALID: %s (%s)\n", why, cm_strerror(rc));
        return 1;
    }
    printf("type             update file (format %u, %s)\n",
           (unsigned)h.format, updfile_kind_name(h.kind));
    printf("version          %llu\n", (unsigned long long)h.version);
    if (h.kind == UPDFILE_DELTA) {
        printf("base version     %llu\n", (unsigned long long)h.base_version);
    }
    print_id("signing key id", h.signing_key_id);
    print_id("content key id", h.content_key_id);
    printf("ciphertext       %llu bytes\n",
           (unsigned long long)h.ciphertext_len);
    printf("payload          %llu bytes inflated\n",
           (unsigned long long)h.inflated_len);
    updkeys_hex(h.target_sha256, UPDKEYS_SHA256_LEN, hex);
    printf("image sha256     %s\n", hex);
    if (!k->has_pub) {
        printf("signature        NOT verified (give -k KEYDIR or --public "
               "and --content)\n");
        return 0;
    }
    if (!k->has_content) {
        /* The public key alone settles the signature: a key given and
         * not used would let a forged file pass a check script. */
        rc = updfile_verify(p, len, &k->pub, &h, &why);
        if (rc != CM_OK) {
            printf("signature        FAILED: %s (%s)\n", why,
                   cm_strerror(rc));
            return 1;
        }
        printf("signature        good\n");
        printf("decryption       NOT checked (give --content or a KEYDIR "
               "with content.key)\n");
        return 0;
    }
    rc = updfile_open(p, len, &k->pub, &k->content, 0, &h, &payload,
                      &payload_len, &why);
    if (rc != CM_OK) {
        printf("verification     FAILED: %s (%s)\n", why, cm_strerror(rc));
        return 1;
    }
    printf("signature        good\n");
    printf("decryption       good, payload inflated to %zu bytes\n",
           payload_len);
    if (h.kind == UPDFILE_DELTA) {
        rc = delta_describe(payload, payload_len, &di, &why);
        if (rc != CM_OK) {
            printf("delta            INVALID: %s\n", why);
            free(payload);
            return 1;
        }
        printf("delta            %llu -> %llu bytes: %zu copies (%llu "
               "bytes), %zu inserts (%llu bytes)\n",
               (unsigned long long)di.base_len,
               (unsigned long long)di.target_len, di.n_copies,
               (unsigned long long)di.copied_bytes, di.n_adds,
               (unsigned long long)di.added_bytes);
        free(payload);
        return 0;
    }
    rc = cartridge_load(payload, payload_len, &c, &why);
    free(payload);
    if (rc != CM_OK) {
        printf("cartridge        INVALID: %s\n", why);
        return 1;
    }
    printf("cartridge        version %llu%s\n",
           (unsigned long long)cartridge_version(c),
           cartridge_version(c) == h.version ? ""
                                             : " (DIFFERS from the header)");
    rc = cartridge_version(c) == h.version ? CM_OK : CM_EVERSION;
    cartridge_unref(c);
    return rc == CM_OK ? 0 : 1;
}

static bool
load_inspect_key(const char *path, enum updkeys_kind kind,
                 struct updkeys_ring *ring)
{
    const char *why = NULL;

    if (updkeys_load(path, kind, ring, NULL, &why) != CM_OK) {
        fprintf(stderr, "cmtool inspect: %s: %s\n", path, why);
        return false;
    }
    return true;
}

int
publish_inspect_main(int argc, char **argv)
{
    struct inspect_keys *k;
    const char *file = NULL;
    const char *keydir = NULL;
    const char *pub_path = NULL;
    const char *content_path = NULL;
    char path[PUBLISH_PATH_MAX];
    struct buf b;
    bool is_truncated = false;
    bool is_manifest;
    bool is_update;
    const char *why = NULL;
    int status = 2;

    for (int i = 1; i < argc; i++) {
        bool has_val = i + 1 < argc;
        if (strcmp(argv[i], "-k") == 0 && has_val) {
            keydir = argv[++i];
        } else if (strcmp(argv[i], "--public") == 0 && has_val) {
            pub_path = argv[++i];
        } else if (strcmp(argv[i], "--content") == 0 && has_val) {
            content_path = argv[++i];
        } else if (strcmp(argv[i], "--all") == 0) {
            /* A manifest or update file is always shown whole; --all is
             * taken so that one check line fits every file of a tree. */
        } else if (argv[i][0] != '-' && file == NULL) {
            file = argv[i];
        } else {
            return PUBLISH_INSPECT_NOT_MINE;
        }
    }
    if (file == NULL) {
        return PUBLISH_INSPECT_NOT_MINE;
    }
    buf_init(&b, CAPS_UPDFILE_MAX_BYTES + UPDFILE_OVERHEAD + 1);
    if (fsutil_read_file(file, CAPS_UPDFILE_MAX_BYTES + UPDFILE_OVERHEAD + 1,
                         &b, &is_truncated, &why) != CM_OK) {
        buf_clear(&b);
        return PUBLISH_INSPECT_NOT_MINE; /* the caller reports it */
    }
    is_update = b.len >= UPDFILE_MAGIC_LEN &&
                memcmp(b.data, UPDFILE_MAGIC, UPDFILE_MAGIC_LEN) == 0;
    is_manifest = b.len > sizeof(UPDFILE_MANIFEST_MAGIC) &&
                  memcmp(b.data, UPDFILE_MANIFEST_MAGIC " ",
                         sizeof(UPDFILE_MANIFEST_MAGIC)) == 0;
    if (!is_update && !is_manifest) {
        buf_clear(&b);
        return PUBLISH_INSPECT_NOT_MINE;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        buf_clear(&b);
        return 2;
    }
    /* Keys asked for but not usable are a bad argument: reporting the
     * file as merely "not verified" with exit 0 would let a check script
     * with a mistyped key directory pass. */
    status = 0;
    if (keydir != NULL && (pub_path == NULL || content_path == NULL)) {
        bool has_any = false;

        if (pub_path == NULL && join(path, keydir, "signing.pub") == CM_OK &&
            fsutil_is_file(path)) {
            has_any = true;
            k->has_pub = load_inspect_key(path, UPDKEYS_SIGNING_PUBLIC,
                                          &k->pub);
            status = k->has_pub ? status : 2;
        }
        if (content_path == NULL &&
            join(path, keydir, "content.key") == CM_OK &&
            fsutil_is_file(path)) {
            has_any = true;
            k->has_content = load_inspect_key(path, UPDKEYS_CONTENT,
                                              &k->content);
            status = k->has_content ? status : 2;
        }
        if (!has_any) {
            fprintf(stderr, "cmtool inspect: %s holds no signing.pub or "
                            "content.key\n",
                    keydir);
            status = 2;
        }
    }
    if (pub_path != NULL) {
        k->has_pub = load_inspect_key(pub_path, UPDKEYS_SIGNING_PUBLIC,
                                      &k->pub);
        status = k->has_pub ? status : 2;
    }
    if (content_path != NULL) {
        k->has_content = load_inspect_key(content_path, UPDKEYS_CONTENT,
                                          &k->content);
        status = k->has_content ? status : 2;
    }
    if (status == 0 && !k->has_pub &&
        (keydir != NULL || content_path != NULL)) {
        /* Keys were given, so a check was asked for, and the signature
         * (which an update file's decryption also waits on) cannot be
         * checked: the file shown with exit 0 would pass for verified. */
        fprintf(stderr, "cmtool inspect: signature not verified: %s%s "
                        "no public key; give --public FILE (or no keys "
                        "at all to see the file unverified)\n",
                keydir != NULL ? keydir : "--content",
                keydir != NULL ? " holds no signing.pub and there is"
                               : " was given with");
        status = 2;
    }
    if (status == 0) {
        printf("file             %s (%zu bytes)\n", file, b.len);
        status = is_update ? inspect_update(b.data, b.len, k)
                           : inspect_manifest(b.data, b.len, k);
    }
    updkeys_ring_clear(&k->content);
    free(k);
    buf_clear(&b);
    return status;
}
