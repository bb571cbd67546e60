/*
 * msgsrc.h -- the messages RATE scores: files, directories and mbox files
 * (SPEC §3, §6; cgp-protocol.md §2.3).
 *
 * Two layers:
 *
 *   - the mbox splitter (msgsrc_is_separator, msgsrc_is_mbox,
 *     msgsrc_mbox_next): pure functions over bytes handed in, no I/O, no
 *     allocation, any thread;
 *   - the source (struct msgsrc): walks the paths given on the command
 *     line in order, directories recursively in sorted byte order (dot
 *     files skipped, .mdir folders are plain directories), reads each
 *     regular file with fsutil_read_file, and yields one item per message
 *     with its name and bytes.  One owner, one thread.
 *
 * Naming: a file that holds one message is named by its path as given,
 * even when it starts with a "From " line.  A file that starts with an
 * mbox separator line and holds at least one more separator yields
 * "<path>:<n>" for its n-th message (1-based).  A path found in a
 * directory is "<dir>/<name>" (no doubled slash).
 *
 * The CGP queue envelope is not handled here: the caller runs
 * queuefile_parse on each message's bytes, exactly as the helper does.
 *
 * Lower layer: nothing here logs.  Problems come back as items of kind
 * MSGSRC_ERROR (a message that cannot be read: the caller reports it as
 * a result) or MSGSRC_SKIPPED (something that is not a message source: a
 * FIFO, a device, a directory loop, a tree too deep; or the part of an
 * mbox past max_mbox_bytes, one item under the file's path after its
 * last message; the caller warns).
 */
#ifndef CM_MSGSRC_H
#define CM_MSGSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* ---- the mbox splitter (pure) -------------------------------------- */

/* One message inside an mbox buffer: bytes [off, off + len). */
struct msgsrc_span {
    size_t off;
    size_t len;
};

/*
 * True when the line (p, len) -- without its LF; a trailing CR is allowed
 * -- has the shape of an mbox separator: "From " then a non-blank sender
 * and either the classic date ("From a@b Mon Jan  1 10:00:00 2001": a
 * time h:mm and a four-digit year somewhere after the sender) or CGP's
 * form "From <addr>(flags-UID) ..." (also "<>").  Lines longer than
 * CAPS_MSGSRC_SEPARATOR_MAX are never separators.  ">From " is not one.
 */
bool msgsrc_is_separator(const uint8_t *p, size_t len);

/*
 * True when (p, len) is an mbox of at least two messages: it starts with a
 * separator line followed by a header line, and at least one more such
 * separator follows an empty line.  A buffer with one message (with or
 * without a leading "From " line) is not an mbox.
 */
bool msgsrc_is_mbox(const uint8_t *p, size_t len);

/*
 * Step through the messages of the mbox (p, len): set *pos to 0 first,
 * then each call returns true and fills *out with the next message -- the
 * bytes after its separator line up to, not including, the empty line
 * before the next separator (or the end, less one trailing empty line) --
 * and moves *pos past it.  Returns false when no message is left.  Every
 * call that returns true advances *pos, so the loop ends.  Separators
 * inside a message must follow an empty line and be followed by a header
 * line; anything else (">From ", "From " in prose) stays in the body.
 * The bytes are not changed: ">From " quoting is left to
 * msgsrc_mbox_unquote.
 */
bool msgsrc_mbox_next(const uint8_t *p, size_t len, size_t *pos,
                      struct msgsrc_span *out);

/*
 * Undo mboxrd quoting in one message's bytes (src, len): every line that
 * matches "^>+From " loses one '>'.  This also undoes mboxo quoting (only
 * ">From " is quoted there; a ">From " line the sender wrote in an mboxo
 * file cannot be told apart).  Writes to dst, which has room for len
 * bytes and may be src itself; returns the new length (at most len).
 * One pass, no allocation.
 */
size_t msgsrc_mbox_unquote(uint8_t *dst, const uint8_t *src, size_t len);

/* ---- the source (walks paths, reads files) ------------------------- */

struct msgsrc_conf {
    size_t max_body_bytes; /* bytes kept of each message (Max_Body_Length) */
    size_t max_mbox_bytes; /* bytes read of a file that may be an mbox,
                              at most CAPS_MSGSRC_MBOX_MAX_BYTES */
    unsigned max_depth;    /* directories open at once, the argument's
                              own included (1: no subdirectories); at
                              most CAPS_MSGSRC_DEPTH_MAX */
    size_t max_dir_entries; /* names kept of one directory (the first
                               in sorted order); at most
                               CAPS_MSGSRC_DIR_ENTRIES */
};

enum msgsrc_kind {
    MSGSRC_MESSAGE = 0, /* data, len: the message bytes (may be empty) */
    MSGSRC_ERROR,       /* a message that could not be read: err, why */
    MSGSRC_SKIPPED      /* not a message source: why */
};

struct msgsrc_item {
    enum msgsrc_kind kind;
    char *name;        /* "path" or "path:n"; owned by the item; NULL
                          only for a SKIPPED item whose name could not
                          be allocated ("out of memory") */
    uint8_t *data;     /* MSGSRC_MESSAGE: owned by the item (NUL after it);
                          NULL otherwise */
    size_t len;
    bool is_truncated; /* cut at max_body_bytes (or at max_mbox_bytes) */
    enum cm_err err;   /* MSGSRC_ERROR: why reading failed */
    const char *why;   /* ERROR and SKIPPED: static text; else NULL */
    size_t file_no;    /* 1-based ordinal of the file it came from */
};

struct msgsrc;

/*
 * A source over paths[0..n_paths) (borrowed: they must outlive the
 * source).  Caps in conf above their ceilings are lowered to them; zero
 * values take the defaults (CAPS_BODY_DEFAULT_BYTES,
 * CAPS_MSGSRC_MBOX_MAX_BYTES, CAPS_MSGSRC_DEPTH_MAX,
 * CAPS_MSGSRC_DIR_ENTRIES).  Nothing is read
 * until msgsrc_next.  NULL on ENOMEM.
 */
struct msgsrc *msgsrc_new(const char *const *paths, size_t n_paths,
                          const struct msgsrc_conf *conf);

/*
 * The next item, in argument order and then sorted directory order.
 * Returns false at the end (out untouched).  On true the caller owns
 * *out and releases it with msgsrc_item_clear (or takes name and data
 * over and frees them with free()).  Out of memory while reading yields
 * an MSGSRC_ERROR item, never a lost message.
 */
bool msgsrc_next(struct msgsrc *s, struct msgsrc_item *out);

/* Free what an item owns and zero it; NULL-safe. */
void msgsrc_item_clear(struct msgsrc_item *it);

/* Free the source (items already handed out stay valid); NULL-safe. */
void msgsrc_free(struct msgsrc *s);

/*
 * Regular files the source over the same paths would read, counted by a
 * walk that reads no file (for a progress bar); 0 on ENOMEM.
 */
size_t msgsrc_count_files(const char *const *paths, size_t n_paths,
                          unsigned max_depth);

#endif
