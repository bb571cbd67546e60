/*
 * fsutil.c -- non-blocking bounded reads and atomic writes (see fsutil.h).
 * No shared state; any thread.
 */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "failpoint.h"
#include "log.h"

/* Why open() failed, in the words an administrator acts on: the
 * permissions, or the process's descriptor limit (a helper whose
 * descriptors ran out, which raising its limit fixes). */
static const char *
open_failure(int err)
{
    if (err == EACCES || err == EPERM) {
        return "cannot open: permission denied";
    }
    if (err == EMFILE || err == ENFILE) {
        return "cannot open: too many open files";
    }
    return "cannot open";
}

enum cm_err
fsutil_read_file(const char *path, size_t max_bytes, struct buf *out,
                 bool *is_truncated, const char **why)
{
    struct stat st;
    int fd;
    enum cm_err rc = CM_OK;
    const char *reason = NULL;
    size_t total = 0;
    size_t hint = 0;

    *is_truncated = false;
    /* O_NONBLOCK so that opening a FIFO without a writer cannot hang the
     * worker; fstat then refuses everything that is not a regular file. */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        rc = errno == ENOENT || errno == ENOTDIR ? CM_ENOENT : CM_EIO;
        reason = rc == CM_ENOENT ? "no such file" : open_failure(errno);
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        rc = CM_EIO;
        reason = "cannot stat";
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = CM_ENOTREG;
        reason = S_ISDIR(st.st_mode) ? "is a directory"
                                     : "not a regular file";
        goto out;
    }
    /* First ask for what fstat says the file holds plus one byte, so the
     * buffer is sized once and a short read tells the end of the file
     * without one more read() returning 0 (a regular file returns fewer
     * bytes than asked only at its end).  A file that grew, or one whose
     * size fstat does not know (0), goes on in 1 MiB steps. */
    if (st.st_size >= 0 && (uint64_t)st.st_size < max_bytes) {
        hint = (size_t)st.st_size + 1;
    }
    while (total < max_bytes) {
        size_t want = max_bytes - total;
        bool is_hinted = total == 0 && hint > 0;
        ssize_t n;

        if (is_hinted) {
            want = hint;
        } else if (want > 1u << 20) {
            want = 1u << 20;
        }
        if (buf_reserve(out, want) == CM_ENOMEM) {
            rc = CM_ENOMEM;
            reason = "out of memory";
            goto out;
        }
        want = out->cap - out->len < want ? out->cap - out->len : want;
        if (want == 0) {
            *is_truncated = true;
            break;
        }
        n = read(fd, out->data + out->len, want);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = CM_EIO;
            reason = "read failed";
            goto out;
        }
        if (n == 0) {
            break;
        }
        out->len += (size_t)n;
        out->data[out->len] = '\0';
        total += (size_t)n;
        if (is_hinted && (size_t)n < want) {
            break; /* short first read: the end of the file */
        }
    }
    if (total == max_bytes) {
        char probe;
        ssize_t n = read(fd, &probe, 1);
        if (n > 0) {
            *is_truncated = true;
        }
    }
out:
    if (fd >= 0) {
        close(fd);
    }
    if (why != NULL && reason != NULL) {
        *why = reason;
    }
    return rc;
}

enum cm_err
fsutil_dirname(char *dst, size_t cap, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n;

    if (slash == NULL) {
        if (cap < 2) {
            return CM_ELIMIT;
        }
        memcpy(dst, ".", 2);
        return CM_OK;
    }
    n = slash == path ? 1 : (size_t)(slash - path);
    if (n + 1 > cap) {
        return CM_ELIMIT;
    }
    memcpy(dst, path, n);
    dst[n] = '\0';
    return CM_OK;
}

enum cm_err
fsutil_join(char *dst, size_t cap, const char *dir, const char *name)
{
    int n;

    if (name[0] == '/' || dir == NULL || dir[0] == '\0' ||
        strcmp(dir, ".") == 0) {
        n = snprintf(dst, cap, "%s", name);
    } else {
        n = snprintf(dst, cap, "%s/%s", dir, name);
    }
    if (n < 0 || (size_t)n >= cap) {
        return CM_ELIMIT;
    }
    return CM_OK;
}

/* Test hook: the nth directory fsync from now on fails with EIO. */
static struct failpoint dir_fsync_failpoint;

void
fsutil_test_fail_nth_dir_fsync(unsigned nth)
{
    failpoint_arm(&dir_fsync_failpoint, nth);
}

enum cm_err
fsutil_fsync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    int fd;
    int saved;
    enum cm_err rc = CM_OK;

    if (fsutil_is_dir(path)) {
        if (fsutil_join(dir, sizeof(dir), "", path) != CM_OK) {
            return CM_ELIMIT;
        }
    } else if (fsutil_dirname(dir, sizeof(dir), path) != CM_OK) {
        return CM_ELIMIT;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return CM_EIO;
    }
    if (failpoint_hit(&dir_fsync_failpoint)) {
        errno = EIO;
        rc = CM_EIO;
    } else if (fsync(fd) != 0 && errno != EINVAL) {
        rc = CM_EIO;
    }
    saved = errno; /* the cause of a CM_EIO, for the caller's log line */
    close(fd);
    errno = saved;
    return rc;
}

static enum cm_err
write_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;

    while (len > 0) {
        ssize_t n = write(fd, b, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return CM_EIO;
        }
        b += n;
        len -= (size_t)n;
    }
    return CM_OK;
}

enum cm_err
fsutil_write_temp(const char *path, const void *p, size_t len, mode_t mode,
                  char *tmp, size_t tmp_cap)
{
    static atomic_uint tmp_counter;
    int fd = -1;

    /* A name can be taken: left by a process with this pid that died
     * before its rename (in a container every run of cmtool is pid 1,
     * and stale files are removed only after CAPS_STALE_TEMP_S), so the
     * next numbers are tried; O_EXCL still never opens an existing
     * entry or follows a link. */
    for (unsigned tries = 0; fd < 0; tries++) {
        int n = snprintf(tmp, tmp_cap, "%s.tmp.%ld.%u", path,
                         (long)getpid(), atomic_fetch_add(&tmp_counter, 1));

        if (n < 0 || (size_t)n >= tmp_cap) {
            return CM_ELIMIT;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0 && (errno != EEXIST || tries + 1 >= CAPS_TEMP_NAME_TRIES)) {
            return CM_EIO;
        }
    }
    if (write_all(fd, p, len) != CM_OK || fsync(fd) != 0) {
        int saved = errno; /* the cause, for the caller's log line */

        close(fd);
        unlink(tmp);
        errno = saved;
        return CM_EIO;
    }
    if (close(fd) != 0) {
        int saved = errno;

        unlink(tmp);
        errno = saved;
        return CM_EIO;
    }
    return CM_OK;
}

/* Length of <target> when name is "<target>.tmp.<digits>.<digits>", a
 * name fsutil_write_temp gives to a file written for target; else 0. */
static size_t
temp_target_len(const char *name)
{
    size_t len = strlen(name);
    size_t i = len;
    size_t n_digits;

    for (int part = 0; part < 2; part++) {
        n_digits = 0;
        while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9') {
            i--;
            n_digits++;
        }
        if (n_digits == 0 || i == 0 || name[i - 1] != '.') {
            return 0;
        }
        i--;
    }
    if (i < 4 || memcmp(name + i - 4, ".tmp", 4) != 0) {
        return 0;
    }
    return i - 4;
}

/* dir/name if it is a regular file old enough to be a crash's leftover;
 * removing it never follows a link (unlink acts on the entry). */
static bool
remove_if_stale(const char *dir, const char *name, time_t now)
{
    char path[PATH_MAX];
    struct stat st;

    if (fsutil_join(path, sizeof(path), dir, name) != CM_OK ||
        lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
        now - st.st_mtime < (time_t)CAPS_STALE_TEMP_S) {
        return false;
    }
    return unlink(path) == 0;
}

/* The walk of both public functions: is_target picks the targets by
 * name (base: exactly that name; NULL base: the callback's say). */
static size_t
remove_stale_in(const char *dir, const char *base,
                bool (*is_target)(const char *name, size_t len))
{
    time_t now = time(NULL);
    size_t n_removed = 0;
    size_t seen = 0;
    struct dirent *e;
    DIR *d = opendir(dir);

    if (d == NULL) {
        return 0;
    }
    while (seen++ < CAPS_STALE_TEMP_SCAN_MAX && (e = readdir(d)) != NULL) {
        size_t len = temp_target_len(e->d_name);
        bool is_ours;

        if (len == 0) {
            continue;
        }
        is_ours = base != NULL ? strlen(base) == len &&
                                     memcmp(e->d_name, base, len) == 0
                               : is_target(e->d_name, len);
        if (is_ours && remove_if_stale(dir, e->d_name, now)) {
            n_removed++;
        }
    }
    closedir(d);
    return n_removed;
}

size_t
fsutil_remove_stale_temps(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    size_t dir_len = slash != NULL ? (size_t)(slash - path) : 0;

    if (*base == '\0' || dir_len >= sizeof(dir)) {
        return 0;
    }
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else if (dir_len == 0) {
        snprintf(dir, sizeof(dir), "/");
    } else {
        memcpy(dir, path, dir_len);
        dir[dir_len] = '\0';
    }
    return remove_stale_in(dir, base, NULL);
}

size_t
fsutil_remove_stale_temps_in(const char *dir,
                             bool (*is_target)(const char *name, size_t len))
{
    return remove_stale_in(dir, NULL, is_target);
}

/* Whether the last directory fsync of fsutil_sync_renamed failed: a disk
 * that fails it keeps failing, and the counters are saved every minute,
 * so the warning is given when the state changes, not at every save. */
static atomic_bool is_dir_fsync_failing;

/*
 * After the rename the new file is in place and is what every later read
 * gets, so the write has succeeded: a caller told it failed would report
 * "cannot write" about a file that was written (and LEARN, publish or the
 * updater would stop short).  Only its survival of a power cut is in
 * doubt; that is logged here, where the decision is made.
 */
void
fsutil_sync_renamed(const char *path)
{
    char dir[PATH_MAX];
    int err;

    if (fsutil_fsync_dir_of(path) == CM_OK) {
        atomic_store(&is_dir_fsync_failing, false);
        return;
    }
    err = errno;
    if (atomic_exchange(&is_dir_fsync_failing, true)) {
        return;
    }
    if (fsutil_dirname(dir, sizeof(dir), path) != CM_OK) {
        snprintf(dir, sizeof(dir), "of %s", path);
    }
    log_warn("%s written, but the directory %s could not be synced to "
             "disk (%s): a power cut may undo it", path, dir,
             err != 0 ? strerror(err) : "I/O error");
}

enum cm_err
fsutil_write_atomic(const char *path, const void *p, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    enum cm_err rc = fsutil_write_temp(path, p, len, mode, tmp, sizeof(tmp));

    if (rc == CM_ELIMIT) {
        return rc;
    }
    if (rc != CM_OK) {
        return CM_EIO;
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;

        unlink(tmp);
        errno = saved;
        return CM_EIO;
    }
    fsutil_sync_renamed(path);
    return CM_OK;
}

enum cm_err
fsutil_lock(const char *path, bool is_wait, int *fd)
{
    struct flock fl;
    int lfd;
    int rc;

    /* O_NOFOLLOW: a symbolic link planted under the lock file's name
     * cannot make us create a file elsewhere. */
    lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW,
               0600);
    if (lfd < 0) {
        return CM_EIO;
    }
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
    do {
        rc = fcntl(lfd, is_wait ? F_SETLKW : F_SETLK, &fl);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int saved = errno;

        close(lfd);
        if (!is_wait && (saved == EAGAIN || saved == EACCES)) {
            *fd = -1;
            return CM_OK;
        }
        errno = saved;
        return CM_EIO;
    }
    *fd = lfd;
    return CM_OK;
}

void
fsutil_unlock(int fd)
{
    if (fd >= 0) {
        close(fd); /* closing drops the process's record locks */
    }
}

bool
fsutil_is_within(char *dir, size_t cap, dev_t dev, ino_t ino, unsigned max_up)
{
    char up[PATH_MAX];
    struct stat st;

    if (cap > sizeof(up)) {
        cap = sizeof(up);
    }
    for (unsigned i = 0; i < max_up; i++) {
        if (stat(dir, &st) == 0 && st.st_dev == dev && st.st_ino == ino) {
            return true;
        }
        if (fsutil_dirname(up, cap, dir) != CM_OK || strcmp(up, dir) == 0) {
            return false;
        }
        memcpy(dir, up, strlen(up) + 1);
    }
    return false;
}

bool
fsutil_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool
fsutil_is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

enum cm_err
fsutil_mkdirs(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(tmp)) {
        return CM_ELIMIT;
    }
    memcpy(tmp, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char saved = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
                return CM_EIO;
            }
            tmp[i] = saved;
        }
    }
    return fsutil_is_dir(path) ? CM_OK : CM_EIO;
}
