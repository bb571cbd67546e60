/*
 * fuzz_fingerprint.c -- libFuzzer target for the FINGERPRINTS section
 * parser and the body signature: a database that parses answers every
 * lookup inside itself, and formatting its entries gives back the very
 * bytes it was parsed from (the order and contents are canonical).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "fingerprint.h"

static void
check(int ok)
{
    if (!ok) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fingerprint_db *db = NULL;
    const char *why = NULL;
    struct fingerprint_sig sig;
    char norm[FINGERPRINT_URL_MAX + 1];

    /* The input as body text and as a URL. */
    if (fingerprint_sig_compute((const char *)data, size, &sig)) {
        check(fingerprint_agree(&sig, &sig) == FINGERPRINT_K);
    }
    check(fingerprint_url_normalise((const char *)data, size, norm,
                                    sizeof(norm)) < sizeof(norm));
    if (fingerprint_db_parse(data, size, &db, &why) != CM_OK) {
        check(why != NULL && db == NULL);
        return 0;
    }
    {
        size_t n = fingerprint_db_size(db);
        struct fingerprint_entry *e = calloc(n > 0 ? n : 1, sizeof(*e));
        struct buf b;

        check(e != NULL);
        for (size_t i = 0; i < n; i++) {
            const struct fingerprint_entry *x = fingerprint_db_at(db, i);

            e[i] = *x;
            if (x->kind == FINGERPRINT_BODY &&
                n <= CAPS_FINGERPRINT_RUN_MAX) {
                check(fingerprint_db_match_body(db, &x->sig) != NULL);
            } else if (x->kind != FINGERPRINT_BODY) {
                check(fingerprint_db_match_digest(db, x->kind, x->digest) ==
                      x);
            }
        }
        buf_init(&b, size + 64);
        check(fingerprint_db_format(e, n, fingerprint_db_match_min(db), &b) ==
              CM_OK);
        check(b.len == size && memcmp(b.data, data, size) == 0);
        buf_clear(&b);
        free(e);
    }
    fingerprint_db_free(db);
    return 0;
}
