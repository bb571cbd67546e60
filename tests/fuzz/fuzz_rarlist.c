/*
 * fuzz_rarlist.c -- libFuzzer target for rarlist: every name listed lies
 * inside the input, the member cap holds, and the listing ends.
 */
#include <stdint.h>
#include <stdlib.h>

#include "caps.h"
#include "featureset.h"
#include "rarlist.h"

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
    struct rarlist r;
    struct rarlist_member m;
    size_t n = 0;

    (void)rarlist_is_rar(data, size);
    rarlist_init(&r, data, size);
    while (rarlist_next(&r, &m)) {
        check(m.name >= data && m.name_len <= size &&
              (size_t)(m.name - data) <= size - m.name_len);
        (void)features_is_dangerous_name((const char *)m.name, m.name_len);
        n++;
        check(n <= CAPS_RARLIST_MEMBERS_MAX);
    }
    check(!rarlist_next(&r, &m));
    return 0;
}
