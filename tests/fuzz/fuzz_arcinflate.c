/*
 * fuzz_arcinflate.c -- libFuzzer target for arcinflate: the output never
 * passes the cap asked for, the input used never passes the input, and a
 * deflated inner archive found in the output lists within it (the path
 * rules_archive takes for a zip in a zip or a .tar.gz).  The first byte
 * picks the mode and the cap.
 */
#include <stdint.h>
#include <stdlib.h>

#include "arcinflate.h"
#include "caps.h"
#include "tarlist.h"
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
    struct arcinflate_out o;
    struct ziplist z;
    struct ziplist_member zm;
    struct tarlist t;
    struct tarlist_member tm;
    size_t cap;
    enum arcinflate_mode mode;

    if (size < 1) {
        return 0;
    }
    mode = (data[0] & 1) != 0 ? ARCINFLATE_GZIP : ARCINFLATE_RAW;
    cap = (data[0] & 2) != 0 ? CAPS_ARCINFLATE_MAX_BYTES : (size_t)data[0] * 64u;
    if (arcinflate(data + 1, size - 1, mode, cap, &o) == CM_OK) {
        check(o.out.len <= cap && o.out.len <= CAPS_ARCINFLATE_MAX_BYTES);
        check(o.in_used <= size - 1);
        check(!o.is_capped || o.out.len == (cap < CAPS_ARCINFLATE_MAX_BYTES
                                                ? cap
                                                : CAPS_ARCINFLATE_MAX_BYTES));
    }
    ziplist_init(&z, o.out.data, o.out.len);
    while (ziplist_next(&z, &zm)) {
        check(zm.name_len <= o.out.len);
    }
    tarlist_init(&t, o.out.data, o.out.len);
    while (tarlist_next(&t, &tm)) {
        check(tm.name_len <= o.out.len);
    }
    arcinflate_free(&o);
    return 0;
}
