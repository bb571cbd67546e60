/*
 * repcmd.c -- cmtool reputation: a cartridge with its REPUTATION section
 * rebuilt from plain-text lists (replist.h), everything else unchanged.
 *
 *   cmtool reputation IN.cmc [--list FILE]... [--merge] [--version N]
 *                    -o OUT.cmc
 *
 * The new section holds the entries of the lists in the order given
 * (the first entry for a key wins; lists that allow and block one key
 * are refused, replist_check) and, with --merge, after them the
 * entries IN already has (so a list entry overrides a trained one).
 * Without --list and --merge the section is emptied.  The header version
 * becomes N, or IN's version + 1: the update network only moves
 * installations to a higher version, so N must be above IN's and IN must
 * not already have the largest version.  IN must load; OUT is loaded again
 * before it is written (atomically), so a bad list never makes a bad
 * cartridge.  Messages on stderr.
 */
#include "repcmd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "cartridge.h"
#include "cursor.h"
#include "fsutil.h"
#include "replist.h"
#include "reputation.h"

#define REPCMD_LISTS_MAX 64u

struct repcmd_opts {
    const char *in;
    const char *out;
    const char *lists[REPCMD_LISTS_MAX];
    size_t n_lists;
    bool is_merge;
    bool has_version;
    uint64_t version;
};

static void
usage(FILE *to)
{
    fprintf(to, "usage: cmtool reputation IN.cmc [--list FILE]... [--merge] "
                "[--version N] -o OUT.cmc\n"
                "Replaces the cartridge's reputation lists (IP, sender "
                "domain, URL host)\n"
                "with the entries of the list files (and, with --merge, "
                "those it has).\n");
}

/* 1 for --help, 0 ok, -1 on a usage error. */
static int
parse_args(int argc, char **argv, struct repcmd_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(a, "-o") == 0 && has_val) {
            o->out = argv[++i];
        } else if (strcmp(a, "--list") == 0 && has_val &&
                   o->n_lists == REPCMD_LISTS_MAX) {
            fprintf(stderr, "cmtool reputation: at most %u --list files; "
                            "join the lists into fewer files\n",
                    REPCMD_LISTS_MAX);
            return -1;
        } else if (strcmp(a, "--list") == 0 && has_val) {
            o->lists[o->n_lists++] = argv[++i];
        } else if (strcmp(a, "--merge") == 0) {
            o->is_merge = true;
        } else if (strcmp(a, "--version") == 0 && has_val &&
                   cursor_parse_u64(argv[i + 1], strlen(argv[i + 1]),
                                    UINT64_MAX, &o->version) == CM_OK &&
                   o->version > 0) {
            o->has_version = true;
            i++;
        } else if (a[0] != '-' && o->in == NULL) {
            o->in = a;
        } else {
            fprintf(stderr, "cmtool reputation: bad argument: %s\n", a);
            return -1;
        }
    }
    if (o->in == NULL || o->out == NULL) {
        fprintf(stderr, "cmtool reputation: give IN.cmc and -o OUT.cmc\n");
        return -1;
    }
    return 0;
}

/* The entries of the lists and (merge) of the old section into l. */
static int
collect(const struct repcmd_opts *o, const struct cartridge *old,
        struct replist *l)
{
    const struct reputation_db *db = cartridge_reputation(old);
    char err[512];

    for (size_t i = 0; i < o->n_lists; i++) {
        if (replist_load(o->lists[i], l, err, sizeof(err)) != CM_OK) {
            fprintf(stderr, "cmtool reputation: %s\n", err);
            return -1;
        }
    }
    /* Before the old entries join: a list overriding them is meant. */
    if (replist_check(l, err, sizeof(err)) != CM_OK) {
        fprintf(stderr, "cmtool reputation: %s\n", err);
        return -1;
    }
    for (size_t i = 0; o->is_merge && i < reputation_db_size(db); i++) {
        struct reputation_item it;

        reputation_entry_item(reputation_db_at(db, i), &it);
        if (replist_add(l, &it) != CM_OK) {
            fprintf(stderr, "cmtool reputation: too many entries\n");
            return -1;
        }
    }
    return 0;
}

/*
 * The new cartridge's version into *version; 0, or the exit status.
 * Helpers install only a version above the one they run, so a version at
 * or below IN's would be refused by every helper that has IN as a replay
 * -- after it was published, with nothing said here.  And IN at the
 * largest version has no successor: + 1 would wrap to 0.
 */
static int
pick_version(const struct repcmd_opts *o, const struct cartridge *old,
             uint64_t *version)
{
    uint64_t have = cartridge_version(old);

    if (o->has_version && o->version <= have) {
        fprintf(stderr, "cmtool reputation: --version %llu is not above "
                        "%s's version %llu; helpers running it would "
                        "refuse the new cartridge as a replay\n",
                (unsigned long long)o->version, o->in,
                (unsigned long long)have);
        return 2;
    }
    if (!o->has_version && have == UINT64_MAX) {
        fprintf(stderr, "cmtool reputation: %s has the largest version "
                        "(%llu); there is no higher version to give the "
                        "new cartridge\n",
                o->in, (unsigned long long)have);
        return 1;
    }
    *version = o->has_version ? o->version : have + 1;
    return 0;
}

/* image with the new section and version, checked by loading it. */
static int
rebuild(const struct replist *l, uint64_t version, struct buf *image)
{
    struct buf section;
    struct cartridge *c = NULL;
    const char *why = NULL;
    enum cm_err rc;

    buf_init(&section, CAPS_CARTRIDGE_MAX_BYTES);
    rc = reputation_format(l->e, l->n, &section);
    rc = rc != CM_OK ? rc
                     : cartridge_image_add_section(image,
                                                   CARTRIDGE_SEC_REPUTATION,
                                                   section.data, section.len);
    rc = rc != CM_OK ? rc : cartridge_image_set_version(image, version);
    buf_clear(&section);
    if (rc != CM_OK) {
        fprintf(stderr, "cmtool reputation: cannot build the cartridge "
                        "(error %d)\n", (int)rc);
        return -1;
    }
    if (cartridge_load(image->data, image->len, &c, &why) != CM_OK) {
        fprintf(stderr, "cmtool reputation: bug: the new cartridge does not "
                        "load: %s\n", why != NULL ? why : "?");
        return -1;
    }
    fprintf(stderr, "cmtool reputation: %zu entries, version %llu\n",
            reputation_db_size(cartridge_reputation(c)),
            (unsigned long long)version);
    cartridge_unref(c);
    return 0;
}

int
repcmd_main(int argc, char **argv)
{
    struct repcmd_opts o;
    struct buf image;
    struct replist l = {0};
    struct cartridge *old = NULL;
    const char *why = NULL;
    bool is_truncated = false;
    uint64_t version = 0;
    int status = 1;
    int rc = parse_args(argc, argv, &o);

    if (rc != 0) {
        if (rc < 0) {
            usage(stderr);
        }
        return rc > 0 ? 0 : 2;
    }
    buf_init(&image, CAPS_CARTRIDGE_MAX_BYTES);
    if (fsutil_read_file(o.in, CAPS_CARTRIDGE_MAX_BYTES, &image,
                         &is_truncated, &why) != CM_OK ||
        is_truncated) {
        fprintf(stderr, "cmtool reputation: %s: %s\n", o.in,
                is_truncated ? "too large" : why != NULL ? why : "cannot read");
        goto out;
    }
    if (cartridge_load(image.data, image.len, &old, &why) != CM_OK) {
        fprintf(stderr, "cmtool reputation: %s: invalid: %s\n", o.in,
                why != NULL ? why : "?");
        goto out;
    }
    rc = pick_version(&o, old, &version);
    if (rc != 0) {
        status = rc;
        goto out;
    }
    if (collect(&o, old, &l) != 0 || rebuild(&l, version, &image) != 0) {
        goto out;
    }
    /* Temporary files are named by pid, so those a killed run left are
     * never replaced: remove the stale ones of this output. */
    if (fsutil_remove_stale_temps(o.out) > 0) {
        fprintf(stderr, "cmtool reputation: removed temporary files an "
                        "interrupted run left beside %s\n",
                o.out);
    }
    if (fsutil_write_atomic(o.out, image.data, image.len, 0644) != CM_OK) {
        fprintf(stderr, "cmtool reputation: cannot write %s: %s\n", o.out,
                strerror(errno));
        goto out;
    }
    status = 0;

out:
    cartridge_unref(old);
    replist_clear(&l);
    buf_clear(&image);
    return status;
}
