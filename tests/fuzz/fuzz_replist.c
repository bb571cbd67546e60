/*
 * fuzz_replist.c -- libFuzzer target for the plain-text reputation list
 * parser: any input either parses or fails with a "t.list:LINE: reason"
 * message, and whatever parsed is a valid set of entries that formats
 * into a section the loader accepts; replist_check passes it or names a
 * line of it ("t.list:LINE: ...").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "replist.h"
#include "reputation.h"

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
    struct replist l = {0};
    char err[256] = "";
    enum cm_err rc = replist_parse("t.list", data, size, &l, err,
                                   sizeof(err));
    struct buf b;
    struct reputation_db *db = NULL;
    const char *why = NULL;

    if (rc != CM_OK) {
        check(strncmp(err, "t.list:", 7) == 0);
    }
    for (size_t i = 0; i < l.n; i++) {
        check(reputation_item_is_valid(&l.e[i]));
        check(l.src[i].name != NULL && l.src[i].line > 0);
    }
    err[0] = '\0';
    if (replist_check(&l, err, sizeof(err)) != CM_OK) {
        check(strncmp(err, "t.list:", 7) == 0 &&
              strstr(err, "contradicts") != NULL);
    }
    buf_init(&b, CAPS_CARTRIDGE_MAX_BYTES);
    check(reputation_format(l.e, l.n, &b) == CM_OK);
    check(reputation_db_parse(b.data, b.len, &db, &why) == CM_OK);
    check(reputation_db_size(db) <= l.n);
    reputation_db_free(db);
    buf_clear(&b);
    replist_clear(&l);
    return 0;
}
