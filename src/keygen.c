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
 * No state; the process exits after one run.  Secrets are wiped.
 */
#include "keygen.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "fsutil.h"
#include "updkeys.h"

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

static int
rotate(const struct keygen_paths *p, const struct updkeys_key *s,
       const struct updkeys_key *pub, const struct updkeys_key *c)
{
    struct updkeys_ring old_s;
    struct updkeys_ring ring;
    char old_path[4200];
    char id_hex[UPDKEYS_ID_HEX_LEN];
    const char *why = NULL;
    int status = 2;

    memset(&ring, 0, sizeof(ring));
    if (updkeys_load(p->secret, UPDKEYS_SIGNING_SECRET, &old_s, NULL, &why) !=
        CM_OK) {
        fprintf(stderr, "cmtool keygen: %s: %s (nothing to rotate; run "
                        "without --rotate)\n",
                p->secret, why);
        return 2;
    }
    updkeys_hex(old_s.keys[0].id, UPDKEYS_ID_LEN, id_hex);
    snprintf(old_path, sizeof(old_path), "%s.%s", p->secret, id_hex);
    if (updkeys_save(old_path, &old_s, true) != CM_OK) {
        fprintf(stderr, "cmtool keygen: cannot write %s\n", old_path);
        goto out;
    }
    if (updkeys_load(p->pub, UPDKEYS_SIGNING_PUBLIC, &ring, NULL, &why) !=
        CM_OK) {
        ring.kind = UPDKEYS_SIGNING_PUBLIC;
        ring.n_keys = 0;
        if (updkeys_public_of(&old_s.keys[0], &ring.keys[0]) == CM_OK) {
            ring.n_keys = 1;
        }
    }
    prepend(&ring, pub);
    if (updkeys_save(p->pub, &ring, true) != CM_OK) {
        fprintf(stderr, "cmtool keygen: cannot write %s\n", p->pub);
        goto out;
    }
    if (updkeys_load(p->content, UPDKEYS_CONTENT, &ring, NULL, &why) !=
        CM_OK) {
        ring.kind = UPDKEYS_CONTENT;
        ring.n_keys = 0;
    }
    prepend(&ring, c);
    if (updkeys_save(p->content, &ring, true) != CM_OK) {
        fprintf(stderr, "cmtool keygen: cannot write %s\n", p->content);
        goto out;
    }
    ring.kind = UPDKEYS_SIGNING_SECRET;
    ring.n_keys = 1;
    ring.keys[0] = *s;
    if (updkeys_save(p->secret, &ring, true) != CM_OK) {
        fprintf(stderr, "cmtool keygen: cannot write %s\n", p->secret);
        goto out;
    }
    printf("old signing key kept as %s\n", old_path);
    status = 0;
out:
    updkeys_ring_clear(&ring);
    updkeys_ring_clear(&old_s);
    return status;
}

static int
fresh(const struct keygen_paths *p, const struct updkeys_key *s,
      const struct updkeys_key *pub, const struct updkeys_key *c,
      bool is_force)
{
    struct updkeys_ring ring;
    const char *paths[3] = {p->secret, p->pub, p->content};
    const struct updkeys_key *keys[3] = {s, pub, c};
    int status = 0;

    if (!is_force) {
        for (size_t i = 0; i < 3; i++) {
            if (fsutil_is_file(paths[i]) || fsutil_is_dir(paths[i])) {
                fprintf(stderr, "cmtool keygen: %s exists; use --force to "
                                "replace or --rotate to add keys\n",
                        paths[i]);
                return 2;
            }
        }
    }
    for (size_t i = 0; i < 3 && status == 0; i++) {
        ring.kind = keys[i]->kind;
        ring.n_keys = 1;
        ring.keys[0] = *keys[i];
        if (updkeys_save(paths[i], &ring, true) != CM_OK) {
            fprintf(stderr, "cmtool keygen: cannot write %s\n", paths[i]);
            status = 2;
        }
    }
    updkeys_ring_clear(&ring);
    return status;
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
    if (fsutil_mkdirs(dir, 0700) != CM_OK) {
        fprintf(stderr, "cmtool keygen: cannot create directory %s\n", dir);
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
