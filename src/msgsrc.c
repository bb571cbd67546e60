/*
 * msgsrc.c -- the messages RATE scores: paths walked, files read, mbox
 * files split (SPEC §3, §6; cgp-protocol.md §2.3).  See msgsrc.h.
 *
 * DESIGN
 *   The splitter is three pure functions over a buffer: a separator is a
 *   line of separator shape that starts the buffer or follows an empty
 *   line, and is itself followed by a header line.  Requiring the header
 *   line and the shape (a date, or CGP's "<addr>(" comment) keeps "From "
 *   in prose and forwarded text inside the body; ">From " is never one.
 *   It keeps no state between calls but the caller's offset, so an mbox
 *   of any length is split without allocating.
 *   The source undoes ">From " quoting (mboxrd: "^>+From " loses one
 *   '>') in the copy each message gets anyway, so it costs no extra
 *   pass over the mbox and no extra memory.
 *
 *   The source owns a walk (an explicit stack of directory levels, no
 *   recursion: at most max_depth levels, each with its sorted names --
 *   of a directory with more than max_dir_entries, the first ones in
 *   sorted order, picked with a max-heap as readdir goes -- and
 *   the device and inode of each level so a symlink back up the tree is
 *   skipped as a loop) and, while an mbox is being split, that file's
 *   bytes.  A file is first read up to max_body_bytes; only when it was
 *   cut there and starts with a separator line is it read again up to
 *   max_mbox_bytes, so a large single message never costs more than the
 *   body cap and a large mbox is still split.  A file cut there that
 *   starts with CGP envelope lines is read again up to
 *   queuefile_read_max and cut to max_body_bytes after its envelope, as
 *   the helper reads it: Max_Body_Length is the message's.  Each message
 *   handed out is its own allocation (the read buffer itself for a file
 *   with one message), so the caller can pass it to another thread.
 *
 *   The walk does not stat() an entry readdir calls a regular file or a
 *   symbolic link: reading opens and fstat()s it anyway, and one path
 *   resolution per file instead of two is a fifth of RATE's reader time.
 *   A link that turns out to name a directory is entered then, at the
 *   same point of the order (msgsrc_next).  msgsrc_count_files stats
 *   everything, as it reads nothing.
 *
 * THREADS
 *   The splitter: any thread.  A struct msgsrc: one owner.
 *
 * LIMITS (caps.h "msgsrc and RATE")
 *   CAPS_MSGSRC_DEPTH_MAX, CAPS_MSGSRC_DIR_ENTRIES, CAPS_MSGSRC_PATH_MAX,
 *   CAPS_MSGSRC_MBOX_MAX_BYTES, CAPS_MSGSRC_SEPARATOR_MAX,
 *   CAPS_MSGSRC_FIELD_NAME_MAX; message bytes: CAPS_BODY_CEILING_BYTES.
 */
/* readdir's d_type and the DT_* constants: the walk trusts them to skip a
 * stat() per regular file and per symbolic link. */
#define _DEFAULT_SOURCE

#include "msgsrc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"
#include "caps.h"
#include "fsutil.h"
#include "queuefile.h"

/* ---- the mbox splitter --------------------------------------------- */

static bool
is_digit(uint8_t ch)
{
    return ch >= '0' && ch <= '9';
}

/* End of the line starting at off: the offset of its LF, or len. */
static size_t
line_end(const uint8_t *p, size_t len, size_t off)
{
    const uint8_t *lf = memchr(p + off, '\n', len - off);

    return lf == NULL ? len : (size_t)(lf - p);
}

/* A time "h:mm" or "hh:mm" somewhere in (p, len). */
static bool
has_time(const uint8_t *p, size_t len)
{
    for (size_t i = 1; i + 2 < len; i++) {
        if (p[i] == ':' && is_digit(p[i - 1]) && is_digit(p[i + 1]) &&
            is_digit(p[i + 2])) {
            return true;
        }
    }
    return false;
}

/* A year 1900..2099 as a four-digit number standing alone.  The "19" or
 * "20" is tested first: it rejects nearly every position at once, where
 * testing the neighbours first cost every byte of a separator line
 * several compares (issue #7). */
static bool
has_year(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++) {
        if (!((p[i] == '1' && p[i + 1] == '9') ||
              (p[i] == '2' && p[i + 1] == '0'))) {
            continue;
        }
        if (is_digit(p[i + 2]) && is_digit(p[i + 3]) &&
            (i == 0 || !is_digit(p[i - 1])) &&
            (i + 4 == len || !is_digit(p[i + 4]))) {
            return true;
        }
    }
    return false;
}

bool
msgsrc_is_separator(const uint8_t *p, size_t len)
{
    size_t i;

    if (len > 0 && p[len - 1] == '\r') {
        len--;
    }
    if (len < 6 || len > CAPS_MSGSRC_SEPARATOR_MAX ||
        memcmp(p, "From ", 5) != 0 || p[5] == ' ' || p[5] == '\t') {
        return false;
    }
    /* CGP: "From <addr>(flags-UID) time stamp", also "From <>(...)". */
    if (p[5] == '<') {
        const uint8_t *gt = memchr(p + 6, '>', len - 6);

        if (gt != NULL && (size_t)(gt - p) + 1 < len && gt[1] == '(') {
            return true;
        }
    }
    /* Classic: "From sender Www Mmm dd hh:mm:ss [zone] yyyy".  The
     * sender ends at its first blank, found by memchr (issue #7: a
     * loop of two compares a byte over every sender was most of this
     * test). */
    {
        const uint8_t *sp = memchr(p + 5, ' ', len - 5);
        size_t end = sp == NULL ? len : (size_t)(sp - p);
        const uint8_t *tab = memchr(p + 5, '\t', end - 5);

        i = tab == NULL ? end : (size_t)(tab - p);
    }
    if (i == len) {
        return false;
    }
    return has_time(p + i, len - i) && has_year(p + i, len - i);
}

/* A header field line: a name of printable non-blank bytes, then ':'. */
static bool
is_field_line(const uint8_t *p, size_t len, size_t off)
{
    size_t max = len - off < CAPS_MSGSRC_FIELD_NAME_MAX + 1
                     ? len - off
                     : CAPS_MSGSRC_FIELD_NAME_MAX + 1;

    for (size_t i = 0; i < max; i++) {
        uint8_t ch = p[off + i];

        if (ch == ':') {
            return i > 0;
        }
        if (ch <= ' ' || ch > '~') {
            return false;
        }
    }
    return false;
}

/* The line at off (a line start) is a separator and a header line
 * follows it. */
static bool
starts_message(const uint8_t *p, size_t len, size_t off)
{
    size_t end;

    if (off >= len || p[off] != 'F') {
        return false;
    }
    end = line_end(p, len, off);
    if (!msgsrc_is_separator(p + off, end - off) || end == len) {
        return false;
    }
    return is_field_line(p, len, end + 1);
}

/* The line before the line start off is empty ("\n" or "\r\n"). */
static bool
follows_empty_line(const uint8_t *p, size_t off)
{
    size_t e;

    if (off == 0 || p[off - 1] != '\n') {
        return false;
    }
    e = off - 1;
    if (e > 0 && p[e - 1] == '\r') {
        e--;
    }
    return e == 0 || p[e - 1] == '\n';
}

/* The 'F' at q starts "From " after one '>' or more at a line start (a
 * quoted line): *start is that line's start. */
static bool
is_quoted_from(const uint8_t *p, size_t len, size_t q, size_t *start)
{
    size_t s;

    if (q == 0 || p[q - 1] != '>' || len - q < 5 ||
        memcmp(p + q, "From ", 5) != 0) {
        return false;
    }
    s = q - 1;
    while (s > 0 && p[s - 1] == '>') {
        s--;
    }
    if (s > 0 && p[s - 1] != '\n') {
        return false;
    }
    *start = s;
    return true;
}

/* The start of the first quoted ">From " line at or after from (a line
 * start), or len. */
static size_t
first_quoted(const uint8_t *p, size_t len, size_t from)
{
    size_t at = from;

    while (at < len) {
        const uint8_t *f = memchr(p + at, 'F', len - at);
        size_t start;

        if (f == NULL) {
            break;
        }
        if (is_quoted_from(p, len, (size_t)(f - p), &start)) {
            return start;
        }
        at = (size_t)(f - p) + 1;
    }
    return len;
}

/*
 * Offset of the first separator at a line start >= from (from is a line
 * start) that follows an empty line; len when there is none.  Looks at
 * the 'F's rather than at every line: far fewer stops in a long body.
 * With quoted, the same pass sets *quoted to the start of the first
 * quoted ">From " line before the separator (len when there is none), so
 * a one-message file is not searched again to be unquoted (issue #7).
 */
static size_t
find_separator_quoted(const uint8_t *p, size_t len, size_t from,
                      size_t *quoted)
{
    size_t off = from;

    if (quoted != NULL) {
        *quoted = len;
    }
    while (off < len) {
        const uint8_t *f = memchr(p + off, 'F', len - off);
        size_t start;

        if (f == NULL) {
            break;
        }
        off = (size_t)(f - p);
        if (follows_empty_line(p, off) && starts_message(p, len, off)) {
            return off;
        }
        if (quoted != NULL && *quoted == len && off > 0 &&
            p[off - 1] == '>' && is_quoted_from(p, len, off, &start)) {
            *quoted = start;
        }
        off++;
    }
    return len;
}

static size_t
find_separator(const uint8_t *p, size_t len, size_t from)
{
    return find_separator_quoted(p, len, from, NULL);
}

/* Start of the empty line that ends at end (p[end - 1] is its LF), or end
 * when the line before end is not empty or starts before floor. */
static size_t
drop_empty_line(const uint8_t *p, size_t floor, size_t end)
{
    size_t s;

    if (end <= floor || p[end - 1] != '\n') {
        return end;
    }
    s = end - 1;
    if (s > floor && p[s - 1] == '\r') {
        s--;
    }
    if (s == floor || p[s - 1] == '\n') {
        return s;
    }
    return end;
}

/*
 * msgsrc_is_mbox of (p, len) whose first line is a separator.  When
 * quoted is not NULL and the answer is no, *quoted is the start of the
 * first quoted ">From " line (len when there is none): the first line
 * holds none, and the rest was searched for a separator in the same pass.
 */
static bool
is_mbox_after_separator(const uint8_t *p, size_t len, size_t *quoted)
{
    size_t end = line_end(p, len, 0);

    if (end == len) {
        if (quoted != NULL) {
            *quoted = len;
        }
        return false;
    }
    if (!is_field_line(p, len, end + 1)) {
        if (quoted != NULL) {
            /* No separator search; only the quoted lines matter. */
            *quoted = first_quoted(p, len, end + 1);
        }
        return false;
    }
    return find_separator_quoted(p, len, end + 1, quoted) < len;
}

bool
msgsrc_is_mbox(const uint8_t *p, size_t len)
{
    return len > 0 && msgsrc_is_separator(p, line_end(p, len, 0)) &&
           is_mbox_after_separator(p, len, NULL);
}

bool
msgsrc_mbox_next(const uint8_t *p, size_t len, size_t *pos,
                 struct msgsrc_span *out)
{
    size_t body = *pos;
    size_t next;
    size_t end;

    if (body >= len) {
        return false;
    }
    /* *pos is 0 or an offset this function returned, which is always a
     * separator: skip the separator line itself. */
    if (starts_message(p, len, body)) {
        body = line_end(p, len, body) + 1;
    }
    next = find_separator(p, len, body);
    /* The empty line before the next separator, or one trailing empty
     * line at the end, belongs to the mbox format, not to the message. */
    end = drop_empty_line(p, body, next);
    out->off = body;
    out->len = end - body;
    *pos = next;
    return true;
}

/* ---- the walk ------------------------------------------------------ */

/* A directory entry: its name and readdir's type (DT_UNKNOWN when the
 * file system does not say). */
struct walk_name {
    char *name;
    unsigned char type;
};

struct walk_dir {
    char *path;    /* prefix of the children's paths */
    struct walk_name *names; /* sorted, dot files left out */
    size_t n_names;
    size_t next;
    dev_t dev;
    ino_t ino;
};

struct walk {
    const char *const *paths; /* borrowed */
    size_t n_paths;
    size_t next_arg;
    unsigned max_depth;
    size_t max_entries; /* names kept of one directory */
    bool is_lazy; /* trust readdir's type: see walk_next */
    struct walk_dir dirs[CAPS_MSGSRC_DEPTH_MAX];
    size_t n_dirs;
};

enum walk_event {
    WALK_END = 0,
    WALK_FILE,    /* a regular file (following links) */
    WALK_ERROR,   /* a named thing that cannot be stat'ed or named */
    WALK_SKIPPED  /* not a message source */
};

struct walk_step {
    enum walk_event event;
    char *path;   /* owned by the caller (NULL for WALK_END) */
    off_t size;   /* WALK_FILE: st_size when the walk saw it, else -1 */
    bool is_link; /* WALK_FILE: a symbolic link not yet followed (it may
                     name a directory) */
    enum cm_err err;
    const char *why;
};

static void
walk_init(struct walk *w, const char *const *paths, size_t n_paths,
          unsigned max_depth, bool is_lazy)
{
    memset(w, 0, sizeof(*w));
    w->paths = paths;
    w->n_paths = n_paths;
    w->max_depth = max_depth;
    w->max_entries = CAPS_MSGSRC_DIR_ENTRIES;
    w->is_lazy = is_lazy;
}

static void
walk_dir_clear(struct walk_dir *d)
{
    for (size_t i = 0; i < d->n_names; i++) {
        free(d->names[i].name);
    }
    free(d->names);
    free(d->path);
    memset(d, 0, sizeof(*d));
}

static void
walk_clear(struct walk *w)
{
    while (w->n_dirs > 0) {
        walk_dir_clear(&w->dirs[--w->n_dirs]);
    }
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(((const struct walk_name *)a)->name,
                  ((const struct walk_name *)b)->name);
}

/* Move names[i] down the max-heap names[0..n) (the largest name on top)
 * to its place. */
static void
heap_sift_down(struct walk_name *names, size_t n, size_t i)
{
    for (;;) {
        size_t big = i;
        size_t l = 2 * i + 1;
        struct walk_name t;

        if (l < n && strcmp(names[l].name, names[big].name) > 0) {
            big = l;
        }
        if (l + 1 < n && strcmp(names[l + 1].name, names[big].name) > 0) {
            big = l + 1;
        }
        if (big == i) {
            return;
        }
        t = names[i];
        names[i] = names[big];
        names[big] = t;
        i = big;
    }
}

/*
 * d is full: keep e's name instead of the largest one held when it sorts
 * before it.  The first full call turns d's names into a max-heap
 * (*is_heap), so each later name costs a comparison, or a log n sift
 * when kept; the names kept are the first in sorted order whatever
 * order readdir returns them in.
 */
static enum cm_err
keep_if_smaller(struct walk_dir *d, const struct dirent *e, bool *is_heap)
{
    char *name;

    if (!*is_heap) {
        for (size_t i = d->n_names / 2; i-- > 0;) {
            heap_sift_down(d->names, d->n_names, i);
        }
        *is_heap = true;
    }
    if (strcmp(e->d_name, d->names[0].name) >= 0) {
        return CM_OK;
    }
    name = strdup(e->d_name);
    if (name == NULL) {
        return CM_ENOMEM;
    }
    free(d->names[0].name);
    d->names[0].name = name;
    d->names[0].type = e->d_type;
    heap_sift_down(d->names, d->n_names, 0);
    return CM_OK;
}

/* Read the names of the directory at path into d (sorted, no dot files):
 * all of them, or the first max_entries in sorted order, and then
 * *is_capped is set. */
static enum cm_err
read_names(const char *path, size_t max_entries, struct walk_dir *d,
           bool *is_capped)
{
    DIR *dir = opendir(path);
    struct dirent *e;
    size_t cap = 0;
    enum cm_err rc = CM_OK;

    *is_capped = false;
    if (dir == NULL) {
        return errno == ENOENT ? CM_ENOENT : CM_EIO;
    }
    for (;;) {
        char *name;

        errno = 0;
        e = readdir(dir);
        if (e == NULL) {
            if (errno != 0) {
                rc = CM_EIO;
            }
            break;
        }
        if (e->d_name[0] == '.') {
            continue;
        }
        if (d->n_names == max_entries) {
            rc = keep_if_smaller(d, e, is_capped);
            if (rc != CM_OK) {
                break;
            }
            continue;
        }
        if (d->n_names == cap) {
            size_t new_cap = cap == 0 ? 64 : cap * 2;
            struct walk_name *names;

            if (new_cap > max_entries) {
                new_cap = max_entries;
            }
            names = realloc(d->names, new_cap * sizeof(*names));
            if (names == NULL) {
                rc = CM_ENOMEM;
                break;
            }
            d->names = names;
            cap = new_cap;
        }
        name = strdup(e->d_name);
        if (name == NULL) {
            rc = CM_ENOMEM;
            break;
        }
        d->names[d->n_names].name = name;
        d->names[d->n_names].type = e->d_type;
        d->n_names++;
    }
    closedir(dir);
    if (d->n_names > 1) {
        qsort(d->names, d->n_names, sizeof(*d->names), compare_names);
    }
    return rc;
}

/* "dir/name", without doubling a slash dir already ends with. */
static char *
join_path(const char *dir, const char *name)
{
    size_t dlen = strlen(dir);
    size_t nlen = strlen(name);
    bool has_slash = dlen > 0 && dir[dlen - 1] == '/';
    char *out;

    if (dlen > CAPS_MSGSRC_PATH_MAX || nlen > CAPS_MSGSRC_PATH_MAX) {
        return NULL;
    }
    out = malloc(dlen + nlen + 2);
    if (out == NULL) {
        return NULL;
    }
    memcpy(out, dir, dlen);
    if (!has_slash) {
        out[dlen++] = '/';
    }
    memcpy(out + dlen, name, nlen + 1);
    return out;
}

static bool
is_on_stack(const struct walk *w, const struct stat *st)
{
    for (size_t i = 0; i < w->n_dirs; i++) {
        if (w->dirs[i].dev == st->st_dev && w->dirs[i].ino == st->st_ino) {
            return true;
        }
    }
    return false;
}

/* Enter the directory path (owned; taken over on success). */
static void
walk_enter(struct walk *w, char *path, const struct stat *st,
           struct walk_step *step)
{
    struct walk_dir *d;
    bool is_capped = false;
    enum cm_err rc;

    if (w->n_dirs >= w->max_depth) {
        step->event = WALK_SKIPPED;
        step->path = path;
        step->why = "directory nested too deep";
        return;
    }
    if (is_on_stack(w, st)) {
        step->event = WALK_SKIPPED;
        step->path = path;
        step->why = "directory loop";
        return;
    }
    d = &w->dirs[w->n_dirs];
    memset(d, 0, sizeof(*d));
    rc = read_names(path, w->max_entries, d, &is_capped);
    if (rc != CM_OK) {
        walk_dir_clear(d);
        step->event = rc == CM_ENOMEM ? WALK_ERROR : WALK_SKIPPED;
        step->path = path;
        step->err = rc;
        step->why = rc == CM_ENOMEM ? "out of memory"
                                    : "cannot read directory";
        return;
    }
    d->path = path;
    d->dev = st->st_dev;
    d->ino = st->st_ino;
    w->n_dirs++;
    if (is_capped) {
        step->event = WALK_SKIPPED;
        step->path = strdup(path);
        step->why = "too many entries in directory, the rest skipped";
        if (step->path == NULL) {
            step->event = WALK_ERROR;
            step->err = CM_ENOMEM;
            step->why = "out of memory";
        }
    }
}

/* The next thing found; step->event is WALK_END at the end. */
static void
walk_next(struct walk *w, struct walk_step *step)
{
    memset(step, 0, sizeof(*step));
    for (;;) {
        char *path;
        struct stat st;
        unsigned char type = DT_UNKNOWN;

        if (w->n_dirs > 0) {
            struct walk_dir *top = &w->dirs[w->n_dirs - 1];

            if (top->next == top->n_names) {
                walk_dir_clear(top);
                w->n_dirs--;
                continue;
            }
            type = top->names[top->next].type;
            path = join_path(top->path, top->names[top->next++].name);
            if (path == NULL) {
                step->event = WALK_ERROR;
                step->err = CM_ELIMIT;
                step->why = "path too long or out of memory";
                step->path = strdup(top->names[top->next - 1].name);
                if (step->path == NULL) {
                    continue;
                }
                return;
            }
        } else if (w->next_arg < w->n_paths) {
            path = strdup(w->paths[w->next_arg++]);
            if (path == NULL) {
                continue;
            }
        } else {
            step->event = WALK_END;
            return;
        }
        if (strlen(path) > CAPS_MSGSRC_PATH_MAX) {
            step->event = WALK_ERROR;
            step->err = CM_ELIMIT;
            step->why = "path too long";
            step->path = path;
            return;
        }
        if (w->is_lazy && (type == DT_REG || type == DT_LNK)) {
            /* Whoever reads the file opens and fstat()s it anyway: a
             * stat() here would resolve the path twice.  A link that
             * names a directory comes back through msgsrc_next. */
            step->event = WALK_FILE;
            step->path = path;
            step->size = -1;
            step->is_link = type == DT_LNK;
            return;
        }
        if (stat(path, &st) != 0) {
            step->event = WALK_ERROR;
            step->err = errno == ENOENT || errno == ENOTDIR ? CM_ENOENT
                                                            : CM_EIO;
            step->why = step->err == CM_ENOENT ? "no such file"
                                               : "cannot stat";
            step->path = path;
            return;
        }
        if (S_ISDIR(st.st_mode)) {
            walk_enter(w, path, &st, step);
            if (step->event != WALK_END) {
                return;
            }
            continue;
        }
        step->path = path;
        if (S_ISREG(st.st_mode)) {
            step->event = WALK_FILE;
            step->size = st.st_size;
        } else {
            step->event = WALK_SKIPPED;
            step->why = "not a regular file";
        }
        return;
    }
}

size_t
msgsrc_count_files(const char *const *paths, size_t n_paths,
                   unsigned max_depth)
{
    struct walk w;
    struct walk_step step;
    size_t n = 0;

    if (max_depth == 0 || max_depth > CAPS_MSGSRC_DEPTH_MAX) {
        max_depth = CAPS_MSGSRC_DEPTH_MAX;
    }
    walk_init(&w, paths, n_paths, max_depth, false);
    for (;;) {
        walk_next(&w, &step);
        if (step.event == WALK_END) {
            break;
        }
        n += step.event == WALK_FILE;
        free(step.path);
    }
    walk_clear(&w);
    return n;
}

/* src[from, to) appended to dst at o; returns the new o.  Nothing moves
 * while dst and src still coincide (in place, before the first quoted
 * line). */
static size_t
copy_span(uint8_t *dst, size_t o, const uint8_t *src, size_t from, size_t to)
{
    if (dst + o != src + from) {
        memmove(dst + o, src + from, to - from);
    }
    return o + (to - from);
}

size_t
msgsrc_mbox_unquote(uint8_t *dst, const uint8_t *src, size_t len)
{
    size_t o = 0;    /* bytes written to dst */
    size_t done = 0; /* bytes of src accounted for */
    size_t at = 0;   /* where the next 'F' is looked for */

    /* A quoted line is ">...>From " at a line start: jump from 'F' to
     * 'F' (memchr) and look back over the '>'s from one that starts
     * "From ", instead of walking and copying every line.  'F' rather
     * than '>': HTML has a '>' in every tag, and the mbox test before
     * this stopped at the same 'F's (issue #7).  dst never gets ahead
     * of src, so dst == src is safe. */
    while (at < len) {
        const uint8_t *f = memchr(src + at, 'F', len - at);
        size_t start;

        if (f == NULL) {
            break;
        }
        at = (size_t)(f - src) + 1;
        if (!is_quoted_from(src, len, at - 1, &start)) {
            continue;
        }
        o = copy_span(dst, o, src, done, start);
        done = start + 1; /* drop one '>' */
    }
    return copy_span(dst, o, src, done, len);
}

/* ---- the source ---------------------------------------------------- */

struct msgsrc {
    struct msgsrc_conf conf;
    struct walk walk;
    size_t file_no;

    /* The mbox being split (is_splitting), or nothing. */
    bool is_splitting;
    struct buf mbox;
    char *mbox_path;
    size_t mbox_pos;
    size_t mbox_n;
    bool is_mbox_truncated; /* the file was longer than what was read */
};

struct msgsrc *
msgsrc_new(const char *const *paths, size_t n_paths,
           const struct msgsrc_conf *conf)
{
    struct msgsrc *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    s->conf = *conf;
    if (s->conf.max_body_bytes == 0) {
        s->conf.max_body_bytes = CAPS_BODY_DEFAULT_BYTES;
    }
    if (s->conf.max_body_bytes > CAPS_BODY_CEILING_BYTES) {
        s->conf.max_body_bytes = CAPS_BODY_CEILING_BYTES;
    }
    if (s->conf.max_mbox_bytes == 0 ||
        s->conf.max_mbox_bytes > CAPS_MSGSRC_MBOX_MAX_BYTES) {
        s->conf.max_mbox_bytes = CAPS_MSGSRC_MBOX_MAX_BYTES;
    }
    if (s->conf.max_depth == 0 || s->conf.max_depth > CAPS_MSGSRC_DEPTH_MAX) {
        s->conf.max_depth = CAPS_MSGSRC_DEPTH_MAX;
    }
    if (s->conf.max_dir_entries == 0 ||
        s->conf.max_dir_entries > CAPS_MSGSRC_DIR_ENTRIES) {
        s->conf.max_dir_entries = CAPS_MSGSRC_DIR_ENTRIES;
    }
    walk_init(&s->walk, paths, n_paths, s->conf.max_depth, true);
    s->walk.max_entries = s->conf.max_dir_entries;
    buf_init(&s->mbox, s->conf.max_mbox_bytes);
    return s;
}

static void
end_split(struct msgsrc *s)
{
    buf_clear(&s->mbox);
    free(s->mbox_path);
    s->mbox_path = NULL;
    s->is_splitting = false;
    s->mbox_pos = 0;
    s->mbox_n = 0;
    s->is_mbox_truncated = false;
}

void
msgsrc_free(struct msgsrc *s)
{
    if (s == NULL) {
        return;
    }
    end_split(s);
    walk_clear(&s->walk);
    free(s);
}

void
msgsrc_item_clear(struct msgsrc_item *it)
{
    if (it == NULL) {
        return;
    }
    free(it->name);
    free(it->data);
    memset(it, 0, sizeof(*it));
}

static void
set_error(struct msgsrc_item *out, enum cm_err err, const char *why)
{
    free(out->data);
    out->data = NULL;
    out->len = 0;
    out->kind = MSGSRC_ERROR;
    out->err = err;
    out->why = why;
}

/*
 * The mbox being split has no message left: end the split.  When the
 * file was longer than max_mbox_bytes, the messages after the cut were
 * never read; say so with a skip item under the file's path (true), so
 * the caller warns and counts them rather than losing them unseen.
 */
static bool
end_split_rest(struct msgsrc *s, struct msgsrc_item *out)
{
    bool is_cut = s->is_mbox_truncated;

    if (is_cut) {
        out->kind = MSGSRC_SKIPPED;
        out->file_no = s->file_no;
        out->name = s->mbox_path; /* taken over */
        s->mbox_path = NULL;
        out->why = "mbox larger than the mbox read cap (512 MiB in RATE): "
                   "the messages after the last one listed were not read";
    }
    end_split(s);
    return is_cut;
}

/* The next message of the mbox being split into *out; false when the mbox
 * is done (and the split ended). */
static bool
next_split(struct msgsrc *s, struct msgsrc_item *out)
{
    struct msgsrc_span span;
    size_t keep;
    char suffix[24];
    size_t plen = strlen(s->mbox_path);
    int n;

    memset(out, 0, sizeof(*out));
    for (;;) {
        if (!msgsrc_mbox_next(s->mbox.data, s->mbox.len, &s->mbox_pos,
                              &span)) {
            return end_split_rest(s, out);
        }
        s->mbox_n++;
        n = snprintf(suffix, sizeof(suffix), ":%zu", s->mbox_n);
        out->name = malloc(plen + (size_t)n + 1);
        if (out->name != NULL) {
            break;
        }
        /* Without a name there is nothing to report the message under:
         * skip it but keep counting so later names stay right. */
    }
    out->file_no = s->file_no;
    out->kind = MSGSRC_MESSAGE;
    memcpy(out->name, s->mbox_path, plen);
    memcpy(out->name + plen, suffix, (size_t)n + 1);
    keep = span.len < s->conf.max_body_bytes ? span.len
                                             : s->conf.max_body_bytes;
    /* The last message of a file cut at max_mbox_bytes is cut too. */
    out->is_truncated = keep < span.len ||
                        (s->is_mbox_truncated && s->mbox_pos >= s->mbox.len);
    out->data = malloc(keep + 1);
    if (out->data == NULL) {
        set_error(out, CM_ENOMEM, "out of memory");
        return true;
    }
    /* The copy each message gets anyway is where ">From " is unquoted. */
    out->len = msgsrc_mbox_unquote(out->data, s->mbox.data + span.off, keep);
    out->data[out->len] = '\0';
    return true;
}

/* The first line of b is a separator line. */
static bool
starts_with_separator(const struct buf *b)
{
    return b->len > 0 &&
           msgsrc_is_separator(b->data, line_end(b->data, b->len, 0));
}

/* A one-message file that starts with a separator line
 * (starts_with_separator, which the caller has asked already) is an mbox
 * of one: unquote it in place, as next_split does each message of a
 * longer one, so a message scores the same however many share its
 * file.  from is a line start at or before the first quoted line (0
 * when not known): the bytes before it stay as they are. */
static void
unquote_single(struct buf *b, bool is_separated, size_t from)
{
    if (!is_separated || from >= b->len) {
        return;
    }
    b->len = from + msgsrc_mbox_unquote(b->data + from, b->data + from,
                                        b->len - from);
    b->data[b->len] = '\0';
}

/* The queue file path, cut at max_body_bytes, read again into b (its
 * maximum raised) so that max_body_bytes of the message after the
 * envelope are kept; *is_truncated when bytes of the message were left. */
static enum cm_err
read_queue_file(struct msgsrc *s, const char *path, struct buf *b,
                bool *is_truncated, const char **why)
{
    size_t max = s->conf.max_body_bytes;
    enum cm_err rc;

    buf_clear(b);
    buf_init(b, queuefile_read_max(max));
    rc = fsutil_read_file(path, queuefile_read_max(max), b, is_truncated,
                          why);
    if (rc != CM_OK) {
        return rc;
    }
    if (queuefile_cut_message(b->data, &b->len, max)) {
        *is_truncated = true;
    }
    return CM_OK;
}

/*
 * Reading path failed with rc before fstat could tell what it is: true
 * (and *why) when it is not a regular file after all.  A link the walk
 * did not follow (see walk_next) can name a socket or a device open()
 * refuses (ENXIO), or a directory it may not open; those are skipped
 * like the things themselves, not reported as unreadable messages.  One
 * stat(), and only on this failure path.
 */
static bool
names_non_file(const char *path, enum cm_err rc, const char **why)
{
    struct stat st;

    if (rc == CM_ENOMEM || stat(path, &st) != 0 || S_ISREG(st.st_mode)) {
        return false;
    }
    *why = S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
    return true;
}

/*
 * Cut b to its first max bytes, in an allocation of about that size: a
 * whole-file read (up to max_mbox_bytes) must not stay behind one item,
 * since RATE bounds its memory by its window times Max_Body_Length.  When
 * the smaller allocation fails the large one serves as it is.
 */
static void
keep_prefix(struct buf *b, size_t max)
{
    uint8_t *p;

    if (b->len <= max) {
        return;
    }
    b->len = max;
    b->data[max] = '\0';
    p = realloc(b->data, max + 1);
    if (p != NULL) {
        b->data = p;
        b->cap = max;
    }
}

/* Read the regular file path (owned, taken over; size as the walk saw
 * it) into *out, or start splitting it as an mbox and hand out its first
 * message. */
static void
read_file(struct msgsrc *s, char *path, off_t size, struct msgsrc_item *out)
{
    struct buf b;
    bool is_truncated = false;
    const char *why = "cannot read";
    size_t first_max = s->conf.max_body_bytes;
    enum cm_err rc;
    bool is_separated; /* the first line is a separator line */
    size_t from = 0;   /* where unquoting starts (a line start) */

    out->name = path;
    /* Ask for what the file holds (plus one byte to notice growth), so
     * the read allocates about that much instead of whole read chunks,
     * which costs a large copy per small message. */
    if (size >= 0 && (uint64_t)size < first_max) {
        first_max = (size_t)size + 1;
    }
    buf_init(&b, s->conf.max_body_bytes);
    rc = fsutil_read_file(path, first_max, &b, &is_truncated, &why);
    if (rc == CM_OK && first_max < s->conf.max_body_bytes &&
        b.len >= first_max) {
        /* It grew since the walk saw it: read it again with the cap. */
        buf_clear(&b);
        rc = fsutil_read_file(path, s->conf.max_body_bytes, &b,
                              &is_truncated, &why);
    }
    if (rc == CM_OK && is_truncated &&
        queuefile_envelope_len(b.data, b.len) > 0) {
        /* A CGP queue file: Max_Body_Length is its message's, so the
         * envelope is read besides (as the helper reads it). */
        rc = read_queue_file(s, path, &b, &is_truncated, &why);
    }
    if (rc != CM_OK) {
        buf_clear(&b);
        if (rc == CM_ENOTREG || names_non_file(path, rc, &why)) {
            /* Replaced by a FIFO or device since the walk saw it, or a
             * link to one. */
            out->kind = MSGSRC_SKIPPED;
            out->why = why;
            return;
        }
        set_error(out, rc, why);
        return;
    }
    if (is_truncated && b.len > 0) {
        /* The body cap may cut even the first line: "From " is enough
         * reason to look at the whole file. */
        if (b.len >= 5 && memcmp(b.data, "From ", 5) == 0) {
            /* Maybe an mbox larger than one message: read it whole. */
            buf_clear(&b);
            buf_init(&s->mbox, s->conf.max_mbox_bytes);
            rc = fsutil_read_file(path, s->conf.max_mbox_bytes, &s->mbox,
                                  &s->is_mbox_truncated, &why);
            if (rc != CM_OK) {
                buf_clear(&s->mbox);
                set_error(out, rc, why);
                return;
            }
            if (msgsrc_is_mbox(s->mbox.data, s->mbox.len)) {
                goto split;
            }
            /* One large message: keep the first max_body_bytes. */
            b = s->mbox;
            buf_init(&s->mbox, s->conf.max_mbox_bytes);
            keep_prefix(&b, s->conf.max_body_bytes);
        }
        is_separated = starts_with_separator(&b);
    } else {
        /* One look at the first line serves the mbox test and the
         * unquoting, and one pass over the rest finds a separator or the
         * first line to unquote (issue #7). */
        is_separated = starts_with_separator(&b);
        if (is_separated && is_mbox_after_separator(b.data, b.len, &from)) {
            s->mbox = b;
            s->is_mbox_truncated = false;
            goto split;
        }
    }
    unquote_single(&b, is_separated, from);
    out->kind = MSGSRC_MESSAGE;
    out->is_truncated = is_truncated;
    out->len = b.len;
    out->data = b.data;
    if (out->data == NULL) {
        /* An empty file: hand out an empty, NUL-terminated message. */
        out->data = calloc(1, 1);
        if (out->data == NULL) {
            set_error(out, CM_ENOMEM, "out of memory");
        }
    }
    return;
split:
    s->mbox_path = path;
    s->is_splitting = true;
    s->mbox_pos = 0;
    s->mbox_n = 0;
    /* msgsrc_is_mbox accepted a non-empty buffer, so there is a first
     * message (unless no name could be allocated for any of them). */
    if (!next_split(s, out)) {
        out->kind = MSGSRC_SKIPPED;
        out->name = NULL;
        out->why = "out of memory";
    }
}

/* A WALK_ERROR or WALK_SKIPPED step as an item (taking over its path). */
static void
item_from_step(const struct msgsrc *s, struct walk_step *step,
               struct msgsrc_item *out)
{
    out->file_no = s->file_no;
    out->name = step->path;
    step->path = NULL;
    if (step->event == WALK_ERROR) {
        set_error(out, step->err, step->why);
    } else {
        out->kind = MSGSRC_SKIPPED;
        out->why = step->why;
    }
}

/*
 * out is the MSGSRC_SKIPPED item of a symbolic link the walk did not
 * follow (see walk_next).  When the link names a directory, enter it as
 * the walk would have: true when the caller is to go on walking, false
 * when out (possibly replaced by the directory's own skip or error item)
 * is the answer.
 */
static bool
enter_linked_dir(struct msgsrc *s, struct msgsrc_item *out)
{
    struct stat st;
    struct walk_step step;

    if (stat(out->name, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return false;
    }
    memset(&step, 0, sizeof(step));
    s->file_no--; /* not a file after all */
    walk_enter(&s->walk, out->name, &st, &step);
    out->name = NULL;
    if (step.event == WALK_END) {
        return true;
    }
    memset(out, 0, sizeof(*out));
    item_from_step(s, &step, out);
    return false;
}

bool
msgsrc_next(struct msgsrc *s, struct msgsrc_item *out)
{
    struct walk_step step;

    if (s->is_splitting && next_split(s, out)) {
        return true;
    }
    for (;;) {
        walk_next(&s->walk, &step);
        if (step.event == WALK_END) {
            return false;
        }
        memset(out, 0, sizeof(*out));
        if (step.event != WALK_FILE) {
            item_from_step(s, &step, out);
            return true;
        }
        s->file_no++;
        out->file_no = s->file_no;
        read_file(s, step.path, step.size, out);
        if (step.is_link && out->kind == MSGSRC_SKIPPED &&
            enter_linked_dir(s, out)) {
            continue;
        }
        return true;
    }
}
