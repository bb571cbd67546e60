/*
 * keygen.c -- cmtool keygen: make the micro-update keys (SPEC §5).
 *
 *   cmtool keygen DIR            new keys; refuses to replace existing ones
 *   cmtool keygen --force DIR    new keys, replacing existing ones
 *   cmtool keygen --rotate DIR   new keys in front of the old ones
 *
 * Writes DIR/signing.key (Ed25519 private key, 0600: stays with the
 * publisher), DIR/signing.pub (public keys: copy to every helper as its
 * `update public key`) and DIR/content.key (AES-256 keys, 0600: copy to
 * every helper as its `update content key`).  Formats in updkeys.h.
 *
 * Rotation: signing.pub and content.key get the new key as their first
 * line and keep the old ones (up to CAPS_UPDKEYS_RING_MAX), so helpers
 * given the new files accept updates made with either key; signing.key
 * holds only the new key, and the old one is kept as
 * signing.key.<old key id>.  cmtool publish always uses the first key of
 * signing.key and content.key: distribute the new signing.pub and
 * content.key to the helpers before publishing with new keys.
 *
 * The files of a run replace the old ones as a set (struct keygen_set):
 * all are written to temporary files first and renamed only when every
 * one was written.  DIR is made, or narrowed to, mode 0700.
 *
 * No state; the process exits after one run.  Secrets are wiped.
 */
#include "keygen.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "fsutil.h"
#include "updkeys.h"

#define KEYGEN_PATH_MAX 4200 /* DIR + "/signing.key." + a key id */
#define KEYGEN_SET_MAX 4u     /* files one run writes */

struct keygen_paths {
    char secret[4096];
    char pub[4096];
    char content[4096];
};

static void
usage(FILE *to)
{
    fprintf(to, "usage: cmtool keygen [--force | --rotate] DIR\n"
                "  writes DIR/signing.key (keep secret), DIR/signing.pub "
                "and DIR/content.key\n"
                "  --force   replace existing keys\n"
                "  --rotate  add new keys in front of the existing ones\n");
}

/* Put k first in ring, keeping the old keys after it (cap permitting). */
static int
prepend(struct updkeys_ring *ring, const struct updkeys_key *k)
{
    if (ring->n_keys >= CAPS_UPDKEYS_RING_MAX) {
        ring->n_keys = CAPS_UPDKEYS_RING_MAX - 1;
    }
    memmove(&ring->keys[1], &ring->keys[0],
            ring->n_keys * sizeof(ring->keys[0]));
    ring->keys[0] = *k;
    ring->n_keys++;
    return 0;
}

/*
 * The key files of one run, written as a set: each to a temporary file
 * beside it (fsync'ed) first, and renamed over the old ones only when
 * all were written, so a failure or a crash before the renames leaves
 * the old set as it was.  POSIX has no rename of several files at once:
 * a crash between two renames can still mix old and new files.  They are
 * renamed in the order staged, signing.key last: until it is renamed,
 * publish signs with the old key, which the new signing.pub still lists
 * after a rotation.
 */
struct keygen_set {
    size_t n;
    char path[KEYGEN_SET_MAX][KEYGEN_PATH_MAX];
    char tmp[KEYGEN_SET_MAX][KEYGEN_PATH_MAX + 64];
};

/* ring into a temporary file for path; an exit status. */
static int
stage(struct keygen_set *set, const char *path,
      const struct updkeys_ring *ring)
{
    size_t i = set->n;

    /* rename cannot replace a directory: found only at the renames, it
     * would leave the files renamed before it new and the rest old. */
    if (fsutil_is_dir(path)) {
        fprintf(stderr, "cmtool keygen: %s is a directory\n", path);
        return 2;
    }
    /* Temporary files are named by pid, so those a killed run left are
     * never replaced: remove the stale ones of this key file. */
    if (fsutil_remove_stale_temps(path) > 0) {
        fprintf(stderr, "cmtool keygen: removed temporary files an "
                        "interrupted run left beside %s\n", path);
    }
    if (i >= KEYGEN_SET_MAX ||
        snprintf(set->path[i], sizeof(set->path[i]), "%s", path) >=
            (int)sizeof(set->path[i]) ||
        updkeys_save_temp(path, ring, set->tmp[i], sizeof(set->tmp[i])) !=
            CM_OK) {
        fprintf(stderr, "cmtool keygen: cannot write %s\n", path);
        return 2;
    }
    set->n++;
    return 0;
}

/* Remove the temporary files of a set that will not be renamed. */
static void
discard(struct keygen_set *set, size_t from)
{
    for (size_t i = from; i < set->n; i++) {
        unlink(set->tmp[i]);
    }
    set->n = 0;
}

/* Rename every staged file over its target; an exit status. */
static int
commit(struct keygen_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        if (rename(set->tmp[i], set->path[i]) != 0) {
            fprintf(stderr, "cmtool keygen: cannot rename %s to %s: %s; "
                            "the %zu files before it are new, it and the "
                            "rest old\n",
                    set->tmp[i], set->path[i], strerror(errno), i);
            discard(set, i);
            return 2;
        }
    }
    if (set->n > 0 && fsutil_fsync_dir_of(set->path[0]) != CM_OK) {
        fprintf(stderr, "cmtool keygen: warning: cannot fsync the key "
                        "directory\n");
    }
    set->n = 0;
    return 0;
}

/* The rings of a rotation staged into set: the old signing key kept as
 * signing.key.<id>, the new keys in front of signing.pub and content.key,
 * signing.key with only the new key. */
static int
stage_rotation(struct keygen_set *set, const struct keygen_paths *p,
               const struct updkeys_ring *old_s, const char *old_path,
               const struct updkeys_key *s, const struct updkeys_key *pub,
               const struct updkeys_key *c)
{
    struct updkeys_ring ring;
    int status;

    memset(&ring, 0, sizeof(ring));
    status = stage(set, old_path, old_s);
    if (status == 0) {
        if (updkeys_load(p->pub, UPDKEYS_SIGNING_PUBLIC, &ring, NULL,
                         NULL) != CM_OK) {
            ring.kind = UPDKEYS_SIGNING_PUBLIC;
            ring.n_keys = 0;
            if (updkeys_public_of(&old_s->keys[0], &ring.keys[0]) == CM_OK) {
                ring.n_keys = 1;
            }
        }
        prepend(&ring, pub);
        status = stage(set, p->pub, &ring);
    }
    if (status == 0) {
        if (updkeys_load(p->content, UPDKEYS_CONTENT, &ring, NULL, NULL) !=
            CM_OK) {
            ring.kind = UPDKEYS_CONTENT;
            ring.n_keys = 0;
        }
        prepend(&ring, c);
        status = stage(set, p->content, &ring);
    }
    if (status == 0) {
        ring.kind = UPDKEYS_SIGNING_SECRET;
        ring.n_keys = 1;
        ring.keys[0] = *s;
        status = stage(set, p->secret, &ring);
    }
    updkeys_ring_clear(&ring);
    return status;
}

static int
rotate(const struct keygen_paths *p, const struct updkeys_key *s,
       const struct updkeys_key *pub, const struct updkeys_key *c)
{
    struct keygen_set set;
    struct updkeys_ring old_s;
    char old_path[KEYGEN_PATH_MAX];
    char id_hex[UPDKEYS_ID_HEX_LEN];
    const char *why = NULL;
    int status;

    if (updkeys_load(p->secret, UPDKEYS_SIGNING_SECRET, &old_s, NULL, &why) !=
        CM_OK) {
        fprintf(stderr, "cmtool keygen: %s: %s (nothing to rotate; run "
                        "without --rotate)\n",
                p->secret, why);
        return 2;
    }
    updkeys_hex(old_s.keys[0].id, UPDKEYS_ID_LEN, id_hex);
    set.n = 0;
    if (snprintf(old_path, sizeof(old_path), "%s.%s", p->secret, id_hex) >=
        (int)sizeof(old_path)) {
        fprintf(stderr, "cmtool keygen: directory name too long\n");
        status = 2;
    } else {
        status = stage_rotation(&set, p, &old_s, old_path, s, pub, c);
    }
    if (status == 0) {
        status = commit(&set);
    } else {
        discard(&set, 0);
    }
    if (status == 0) {
        printf("old signing key kept as %s\n", old_path);
    }
    updkeys_ring_clear(&old_s);
    return status;
}

/*
 * Whether anything is at path, the entry itself looked at: a symlink
 * whose target is missing (a key kept on a volume not mounted now) or a
 * FIFO is an existing key file too, and rename would replace it.  An
 * entry that cannot be looked at counts as there.
 */
static bool
is_taken(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 || errno != ENOENT;
}

static int
fresh(const struct keygen_paths *p, const struct updkeys_key *s,
      const struct updkeys_key *pub, const struct updkeys_key *c,
      bool is_force)
{
    struct keygen_set set;
    struct updkeys_ring ring;
    /* signing.key last (see struct keygen_set). */
    const char *paths[3] = {p->pub, p->content, p->secret};
    const struct updkeys_key *keys[3] = {pub, c, s};
    int status = 0;

    if (!is_force) {
        for (size_t i = 0; i < 3; i++) {
            if (is_taken(paths[i])) {
                fprintf(stderr, "cmtool keygen: %s exists; use --force to "
                                "replace or --rotate to add keys\n",
                        paths[i]);
                return 2;
            }
        }
    }
    set.n = 0;
    for (size_t i = 0; i < 3 && status == 0; i++) {
        ring.kind = keys[i]->kind;
        ring.n_keys = 1;
        ring.keys[0] = *keys[i];
        status = stage(&set, paths[i], &ring);
    }
    updkeys_ring_clear(&ring);
    if (status == 0) {
        return commit(&set);
    }
    discard(&set, 0);
    return status;
}

/*
 * DIR made mode 0700, or an existing one narrowed to it: the directory
 * holds the signing key, and a group or world that can list or enter it
 * sees the key files come and go (and reads any made with a lax umask).
 * An exit status.
 */
static int
private_dir(const char *dir)
{
    struct stat st;

    if (fsutil_mkdirs(dir, 0700) != CM_OK || stat(dir, &st) != 0) {
        fprintf(stderr, "cmtool keygen: cannot create directory %s\n", dir);
        return 2;
    }
    if ((st.st_mode & 077) == 0) {
        return 0;
    }
    if (chmod(dir, 0700) != 0) {
        fprintf(stderr, "cmtool keygen: %s is mode %04o and cannot be made "
                        "0700: %s\n",
                dir, (unsigned)(st.st_mode & 07777), strerror(errno));
        return 2;
    }
    fprintf(stderr, "cmtool keygen: %s was mode %04o; made it 0700 (it "
                    "holds the signing key)\n",
            dir, (unsigned)(st.st_mode & 07777));
    return 0;
}

int
keygen_main(int argc, char **argv)
{
    struct keygen_paths p;
    struct updkeys_key s;
    struct updkeys_key pub;
    struct updkeys_key c;
    const char *dir = NULL;
    bool is_force = false;
    bool is_rotate = false;
    char s_hex[UPDKEYS_ID_HEX_LEN];
    char c_hex[UPDKEYS_ID_HEX_LEN];
    int status;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--force") == 0) {
            is_force = true;
        } else if (strcmp(argv[i], "--rotate") == 0) {
            is_rotate = true;
        } else if (argv[i][0] == '-' || dir != NULL) {
            usage(stderr);
            return 2;
        } else {
            dir = argv[i];
        }
    }
    if (dir == NULL || (is_force && is_rotate)) {
        usage(stderr);
        return 2;
    }
    if (private_dir(dir) != 0) {
        return 2;
    }
    if (fsutil_join(p.secret, sizeof(p.secret), dir, "signing.key") !=
            CM_OK ||
        fsutil_join(p.pub, sizeof(p.pub), dir, "signing.pub") != CM_OK ||
        fsutil_join(p.content, sizeof(p.content), dir, "content.key") !=
            CM_OK) {
        fprintf(stderr, "cmtool keygen: directory name too long\n");
        return 2;
    }
    if (updkeys_generate(&s, &pub, &c) != CM_OK) {
        fprintf(stderr, "cmtool keygen: OpenSSL could not make keys\n");
        return 2;
    }
    status = is_rotate ? rotate(&p, &s, &pub, &c)
                       : fresh(&p, &s, &pub, &c, is_force);
    if (status == 0) {
        updkeys_hex(pub.id, UPDKEYS_ID_LEN, s_hex);
        updkeys_hex(c.id, UPDKEYS_ID_LEN, c_hex);
        printf("signing key id %s\ncontent key id %s\n"
               "wrote %s (keep secret), %s and %s\n"
               "copy %s and %s to each helper (cartridge.cfg: "
               "\"update public key\", \"update content key\")\n",
               s_hex, c_hex, p.secret, p.pub, p.content, p.pub, p.content);
    }
    updkeys_key_wipe(&s);
    updkeys_key_wipe(&c);
    return status;
}
