/*
 * fuzz_sevenzip.c -- libFuzzer target for sevenzip: the signature and
 * encrypted-header tests end and stay inside the input, and an
 * encrypted header is only ever found in a 7z.
 */
#include <stdint.h>
#include <stdlib.h>

#include "sevenzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool is_7z = sevenzip_is_7z(data, size);

    if (sevenzip_headers_encrypted(data, size) && !is_7z) {
        abort();
    }
    return 0;
}
