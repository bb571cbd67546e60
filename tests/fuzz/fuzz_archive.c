/*
 * fuzz_archive.c -- libFuzzer target for rules_archive_is_dangerous: an
 * attachment's bytes under a name the first byte picks (none, .zip,
 * .rar, .tar, .cab, .gz, .tgz, .pdf.gz), through every lister, the inner
 * archives one level down and the bounded inflate.  It must end and
 * stay inside the input (the sanitizers watch); the answer must not
 * depend on anything but the bytes and the name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "rules.h"

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
    static const char *const names[] = {"",      "a.zip",   "a.rar",
                                        "a.tar", "a.cab",   "a.gz",
                                        "a.tgz", "a.zip.gz"};
    struct mime_part part;
    bool first;

    if (size < 1) {
        return 0;
    }
    memset(&part, 0, sizeof(part));
    part.filename = names[data[0] % (sizeof(names) / sizeof(names[0]))];
    part.data = data + 1;
    part.data_len = size - 1;
    first = rules_archive_is_dangerous(&part);
    check(rules_archive_is_dangerous(&part) == first);
    return 0;
}
