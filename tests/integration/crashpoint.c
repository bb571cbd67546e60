/*
 * crashpoint.c -- LD_PRELOAD shim for test_update.py: kill -9 of the
 * process at an exact point of a file write, without timing.
 *
 * Built by the test (cc -shared -fPIC) and preloaded into CGPCloudmark.
 * When the environment says CM_CRASH_AT=<point> and CM_CRASH_PATH=<text>,
 * the process sends itself SIGKILL at that point of writing any file whose
 * path contains <text> (the cache file being written is "<final>.tmp.*"):
 *   write   after writing the first half of the first write() to it
 *   fsync   when it is fsync()ed, before the data is known to be on disk
 *   rename  when it is rename()d to <final>, before the rename happens
 * Everything else passes straight to the next definition (libc, or a
 * sanitizer's interceptor).  Test code only; never linked into a program.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
is_point(const char *point)
{
    const char *at = getenv("CM_CRASH_AT");

    return at != NULL && strcmp(at, point) == 0;
}

static int
fd_is_target(int fd)
{
    const char *want = getenv("CM_CRASH_PATH");
    char link[64];
    char path[PATH_MAX];
    ssize_t n;

    if (want == NULL || want[0] == '\0') {
        return 0;
    }
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0) {
        return 0;
    }
    path[n] = '\0';
    return strstr(path, want) != NULL && strstr(path, ".tmp.") != NULL;
}

static void
die(void)
{
    kill(getpid(), SIGKILL);
    pause();
}

ssize_t
write(int fd, const void *p, size_t len)
{
    ssize_t (*next)(int, const void *, size_t) =
        (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");

    if (is_point("write") && len > 1 && fd_is_target(fd)) {
        (void)next(fd, p, len / 2);
        die();
    }
    return next(fd, p, len);
}

int
fsync(int fd)
{
    int (*next)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");

    if (is_point("fsync") && fd_is_target(fd)) {
        die();
    }
    return next(fd);
}

int
rename(const char *from, const char *to)
{
    int (*next)(const char *, const char *) =
        (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    const char *want = getenv("CM_CRASH_PATH");

    if (is_point("rename") && want != NULL && want[0] != '\0' &&
        strstr(to, want) != NULL) {
        die();
    }
    return next(from, to);
}
