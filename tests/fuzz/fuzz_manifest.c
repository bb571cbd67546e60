/*
 * fuzz_manifest.c -- libFuzzer target for the signed manifest parser.
 *
 * The signing key is a fixed test key (below), so corpus manifests signed
 * with it pass verification and the fuzzer mutates real ones; the
 * unverified parse (cmtool inspect without keys) sees every body.
 * Invariants: no crash or leak; a manifest that parses obeys the caps and
 * the rules (one full file, every file at the manifest's version, valid
 * names); formatting it again and parsing that gives the same manifest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "updfile.h"
#include "updkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "now" for the expiry check: fixed so runs are reproducible. */
#define FUZZ_NOW 1000000u

static struct updkeys_key fuzz_secret;
static struct updkeys_ring fuzz_pub_ring;
static int fuzz_ready;

static void
fuzz_init(void)
{
    if (fuzz_ready) {
        return;
    }
    fuzz_secret.kind = UPDKEYS_SIGNING_SECRET;
    memset(fuzz_secret.key, 0x11, UPDKEYS_KEY_LEN);
    if (updkeys_compute_id(&fuzz_secret) != CM_OK) {
        abort();
    }
    fuzz_pub_ring.kind = UPDKEYS_SIGNING_PUBLIC;
    fuzz_pub_ring.n_keys = 1;
    if (updkeys_public_of(&fuzz_secret, &fuzz_pub_ring.keys[0]) != CM_OK) {
        abort();
    }
    fuzz_ready = 1;
}

static void
check_rules(const struct updfile_manifest *m)
{
    size_t n_full = 0;

    if (m->n_files > CAPS_UPDFILE_MANIFEST_FILES_MAX || m->version == 0 ||
        m->issued_unix > m->expires_unix) {
        abort();
    }
    for (size_t i = 0; i < m->n_files; i++) {
        const struct updfile_entry *e = &m->files[i];
        if (!updfile_name_is_valid(e->name, strlen(e->name)) ||
            e->version != m->version) {
            abort();
        }
        n_full += e->kind == UPDFILE_FULL;
    }
    if (n_full != 1 || updfile_manifest_pick(m, 0, true) == NULL) {
        abort();
    }
}

static void
check_round_trip(const struct updfile_manifest *m)
{
    struct updfile_manifest *again = malloc(sizeof(*again));
    struct buf b;

    if (again == NULL) {
        return;
    }
    buf_init(&b, CAPS_UPDFILE_MANIFEST_MAX_BYTES);
    if (updfile_manifest_format(m, &fuzz_secret, &b) == CM_OK) {
        if (updfile_manifest_parse(b.data, b.len, &fuzz_pub_ring, 0, again,
                                   NULL) != CM_OK ||
            again->version != m->version || again->n_files != m->n_files ||
            again->expires_unix != m->expires_unix) {
            abort();
        }
        for (size_t i = 0; i < m->n_files; i++) {
            if (strcmp(again->files[i].name, m->files[i].name) != 0 ||
                again->files[i].size != m->files[i].size ||
                memcmp(again->files[i].sha256, m->files[i].sha256, 32) != 0) {
                abort();
            }
        }
    }
    buf_clear(&b);
    free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct updfile_manifest *m = malloc(sizeof(*m));

    fuzz_init();
    if (m == NULL) {
        return 0;
    }
    if (updfile_manifest_parse(data, size, &fuzz_pub_ring, FUZZ_NOW, m,
                               NULL) == CM_OK) {
        check_rules(m);
        check_round_trip(m);
    }
    if (updfile_manifest_parse_unverified(data, size, m, NULL) == CM_OK) {
        check_rules(m);
    }
    free(m);
    return 0;
}
