/*
 * fuzz_cablist.c -- libFuzzer target for cablist: every name listed lies
 * inside the input, the member cap holds, and the listing ends.
 */
#include <stdint.h>
#include <stdlib.h>

#include "caps.h"
#include "featureset.h"
#include "cablist.h"

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
    struct cablist t;
    struct cablist_member m;
    size_t n = 0;

    (void)cablist_is_cab(data, size);
    cablist_init(&t, data, size);
    while (cablist_next(&t, &m)) {
        check(m.name >= data && m.name_len <= size &&
              (size_t)(m.name - data) <= size - m.name_len);
        (void)features_is_dangerous_name((const char *)m.name, m.name_len);
        n++;
        check(n <= CAPS_CABLIST_MEMBERS_MAX);
    }
    check(!cablist_next(&t, &m));
    return 0;
}
