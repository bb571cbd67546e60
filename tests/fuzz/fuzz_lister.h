/*
 * fuzz_lister.h -- the body of the archive listers' fuzz targets
 * (fuzz_ziplist, fuzz_rarlist, fuzz_tarlist, fuzz_cablist).  The listers
 * share one contract: <kind>list_is_<kind> never reads past the input,
 * and <kind>list_init / <kind>list_next list member names that each lie
 * inside the input, at most max_members of them, then keep saying "no
 * more".  Each name also goes through features_is_dangerous_name, as
 * rules_archive does with it.
 */
#ifndef CM_FUZZ_LISTER_H
#define CM_FUZZ_LISTER_H

#include <stdint.h>
#include <stdlib.h>

#include "caps.h"
#include "featureset.h"

static void
fuzz_lister_check(int ok)
{
    if (!ok) {
        abort();
    }
}

#define FUZZ_LISTER(kind, is_kind, max_members)                              \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);            \
                                                                             \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)             \
    {                                                                        \
        struct kind##list l;                                                 \
        struct kind##list_member m;                                          \
        size_t n = 0;                                                        \
                                                                             \
        (void)kind##list_##is_kind(data, size);                              \
        kind##list_init(&l, data, size);                                     \
        while (kind##list_next(&l, &m)) {                                    \
            fuzz_lister_check(m.name >= data && m.name_len <= size &&        \
                              (size_t)(m.name - data) <= size - m.name_len); \
            (void)features_is_dangerous_name((const char *)m.name,           \
                                             m.name_len);                    \
            n++;                                                             \
            fuzz_lister_check(n <= (max_members));                           \
        }                                                                    \
        fuzz_lister_check(!kind##list_next(&l, &m));                         \
        return 0;                                                            \
    }

#endif
