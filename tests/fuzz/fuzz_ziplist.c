/*
 * fuzz_ziplist.c -- libFuzzer target for ziplist: every name listed lies
 * inside the input, the member cap holds, and the listing ends.
 */
#include <stdint.h>
#include <stdlib.h>

#include "caps.h"
#include "featureset.h"
#include "ziplist.h"

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
    struct ziplist z;
    struct ziplist_member m;
    size_t n = 0;

    (void)ziplist_is_zip(data, size);
    ziplist_init(&z, data, size);
    while (ziplist_next(&z, &m)) {
        check(m.name >= data && m.name_len <= size &&
              (size_t)(m.name - data) <= size - m.name_len);
        (void)features_is_dangerous_name((const char *)m.name, m.name_len);
        n++;
        check(n <= 2u * CAPS_ZIPLIST_MEMBERS_MAX); /* one cap a phase */
    }
    check(!ziplist_next(&z, &m));
    return 0;
}
