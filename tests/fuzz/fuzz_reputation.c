/*
 * fuzz_reputation.c -- libFuzzer target for the REPUTATION section
 * parser: a database that parses finds each of its entries by its own key
 * (IP entries by their network address, domains by their name), and
 * formatting its entries gives back the very bytes it was parsed from
 * (order and contents are canonical).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "reputation.h"

static void
check(int ok)
{
    if (!ok) {
        abort();
    }
}

/* The entry a lookup of e's own key finds is e itself: for an IP, the
 * longest prefix covering e's network address is at least e's. */
static void
check_lookup(const struct reputation_db *db, const struct reputation_entry *e)
{
    const struct reputation_entry *got;

    if (e->kind == REPUTATION_IPV4 || e->kind == REPUTATION_IPV6) {
        uint8_t a[16] = {0};

        if (e->kind == REPUTATION_IPV4) {
            a[10] = 0xff;
            a[11] = 0xff;
            memcpy(a + 12, e->key, 4);
        } else {
            memcpy(a, e->key, 16);
        }
        got = reputation_match_ip(db, a);
        check(got != NULL && got->kind == e->kind &&
              got->prefix >= e->prefix);
    } else {
        got = reputation_match_host(db, (enum reputation_kind)e->kind,
                                    (const char *)e->key, e->key_len);
        check(got == e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reputation_db *db = NULL;
    const char *why = NULL;
    size_t n;
    struct reputation_item *e;
    struct buf b;

    if (reputation_db_parse(data, size, &db, &why) != CM_OK) {
        check(why != NULL && db == NULL);
        return 0;
    }
    n = reputation_db_size(db);
    e = calloc(n > 0 ? n : 1, sizeof(*e));
    check(e != NULL);
    for (size_t i = 0; i < n; i++) {
        const struct reputation_entry *x = reputation_db_at(db, i);

        reputation_entry_item(x, &e[i]);
        check(reputation_item_is_valid(&e[i]));
        check(x->key[x->key_len] == '\0');
        check_lookup(db, x);
    }
    buf_init(&b, size + 64);
    check(reputation_format(e, n, &b) == CM_OK);
    check(b.len == size && memcmp(b.data, data, size) == 0);
    buf_clear(&b);
    free(e);
    reputation_db_free(db);
    return 0;
}
