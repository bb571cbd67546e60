/*
 * fsutil.h -- safe file reads and atomic file writes.
 *
 * Reads never block: a FIFO, device or directory named by CGP (or by an
 * attacker who can place files) is refused before any read, and at most
 * max_bytes are read however large the file.  Writes go to a temporary
 * file in the same directory, are fsync'ed, renamed over the target and
 * the directory is fsync'ed, so a crash leaves the old file or the new one,
 * never a mix.  Thread-safe (no shared state).
 */
#ifndef CM_FSUTIL_H
#define CM_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/*
 * Read up to max_bytes of the regular file at path into out (appended;
 * out's own maximum also applies).  *is_truncated is set when the file is
 * longer than what was read.  Errors: CM_ENOENT, CM_ENOTREG (directory,
 * FIFO, socket, device), CM_EIO (other errno), CM_ENOMEM.  *why (may be
 * NULL) receives a static description on failure ("cannot open: permission
 * denied", "cannot open: too many open files", ...).
 */
enum cm_err fsutil_read_file(const char *path, size_t max_bytes,
                             struct buf *out, bool *is_truncated,
                             const char **why);

/*
 * Replace path with (p, len) atomically (temp file, fsync, rename, fsync
 * of the directory).  mode is used for the new file.  CM_EIO on failure,
 * with errno set to the cause, in which case the old file (if any) is left
 * as it was and no temporary file remains.  Once renamed the new file is
 * in place, so a failing fsync of the directory still returns CM_OK; it
 * is logged (log_warn, once until a directory fsync succeeds again), as a
 * power cut may then bring the old file back.
 */
enum cm_err fsutil_write_atomic(const char *path, const void *p, size_t len,
                                mode_t mode);

/*
 * The first half of fsutil_write_atomic: (p, len) written to a new
 * temporary file "<path>.tmp.<pid>.<n>" in path's directory (mode mode)
 * and fsync'ed; its name into tmp (capacity tmp_cap).  The caller renames
 * it over path (then fsutil_fsync_dir_of) or unlinks it: several files
 * written this way first and renamed only when all were written replace
 * a set together, short of a crash between the renames.  CM_ELIMIT when
 * the name does not fit, CM_EIO when writing fails (no temporary file
 * remains then).
 */
enum cm_err fsutil_write_temp(const char *path, const void *p, size_t len,
                              mode_t mode, char *tmp, size_t tmp_cap);

/*
 * Remove what fsutil_write_temp left for path when its process died
 * before the rename: entries "<name>.tmp.<pid>.<n>" (<name> path's last
 * component, <pid> and <n> decimal) in path's directory that are regular
 * files (lstat: a symlink, directory or anything else is left alone, and
 * no link is followed) last modified at least CAPS_STALE_TEMP_S ago, so
 * that a write in progress in another process is never touched.  At most
 * CAPS_STALE_TEMP_SCAN_MAX entries are looked at.  Returns the number
 * removed (0 when the directory cannot be read).  Any thread.
 */
size_t fsutil_remove_stale_temps(const char *path);

/*
 * fsutil_remove_stale_temps for a directory of many targets named by
 * their content or version, each written once: the same test (regular,
 * lstat, at least CAPS_STALE_TEMP_S old, at most CAPS_STALE_TEMP_SCAN_MAX
 * entries) of the entries "<name>.tmp.<pid>.<n>" in dir whose <name> (its
 * first len bytes, not NUL-terminated there) is_target accepts.  Returns
 * the number removed.  Any thread.
 */
size_t fsutil_remove_stale_temps_in(const char *dir,
                                    bool (*is_target)(const char *name,
                                                      size_t len));

/*
 * Take an exclusive lock on the lock file at path, to serialise the
 * read-modify-rename of a file beside it between processes.  The lock
 * file is created (mode 0600) when missing and never removed or replaced,
 * so every process locks the same inode; the lock is a POSIX record lock
 * (fcntl), which lockd also carries over NFS.  With is_wait, blocks until
 * the lock is held; without, returns CM_OK with *fd = -1 when another
 * process holds it.  On success with *fd >= 0 the lock is held until
 * fsutil_unlock(*fd) or exit.  CM_EIO (errno set) when the file cannot be
 * opened or locked.  Process-wide: threads of one process share a lock.
 */
enum cm_err fsutil_lock(const char *path, bool is_wait, int *fd);

/* Release a lock from fsutil_lock (closes fd); fd < 0 does nothing. */
void fsutil_unlock(int fd);

/*
 * After path was renamed into place: fsync its directory.  A failure is
 * logged (log_warn, once until a directory fsync here succeeds again),
 * not returned: the file is in place and read by everyone from now on,
 * only a power cut could still undo the rename.  Any thread.
 */
void fsutil_sync_renamed(const char *path);

/* fsync the directory containing path (or path itself if a directory).
 * CM_EIO with errno set when it cannot be opened or the fsync fails. */
enum cm_err fsutil_fsync_dir_of(const char *path);

/* Test hook, process-wide: the nth directory fsync (fsutil_fsync_dir_of,
 * fsutil_write_atomic) from now on fails with EIO (0 disables). */
void fsutil_test_fail_nth_dir_fsync(unsigned nth);

/* True when path names an existing directory (following links). */
bool fsutil_is_dir(const char *path);

/* True when path names an existing regular file (following links). */
bool fsutil_is_file(const char *path);

/* Create directory path and its parents with mode (like mkdir -p). */
enum cm_err fsutil_mkdirs(const char *path, mode_t mode);

/*
 * Join dir and name into dst (capacity cap): "name" when name is absolute
 * or dir is empty, else "dir/name".  CM_ELIMIT when it does not fit.
 */
enum cm_err fsutil_join(char *dst, size_t cap, const char *dir,
                        const char *name);

/* Directory part of path into dst ("." when none).  CM_ELIMIT if too long. */
enum cm_err fsutil_dirname(char *dst, size_t cap, const char *path);

/*
 * Whether the directory dir, or one of at most max_up directories above it
 * by name, is the one with device dev and inode ino: "is this path inside
 * that directory", whatever the spelling of either.  dir (NUL-terminated,
 * at most cap bytes with the NUL) is overwritten as the walk goes up; an
 * absolute dir is walked to "/", a relative one to ".".
 */
bool fsutil_is_within(char *dir, size_t cap, dev_t dev, ino_t ino,
                      unsigned max_up);

#endif
