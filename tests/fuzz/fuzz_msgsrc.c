/*
 * fuzz_msgsrc.c -- libFuzzer target for the mbox splitter (msgsrc.h):
 * every separator check and every split of an arbitrary buffer must stay
 * inside the buffer, make progress, and agree with msgsrc_is_mbox.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    size_t n = 0;
    size_t off = 0;
    struct msgsrc_span span;
    bool is_mbox = msgsrc_is_mbox(data, size);

    /* Each line on its own through the separator check. */
    while (off < size) {
        const uint8_t *lf = memchr(data + off, '\n', size - off);
        size_t end = lf == NULL ? size : (size_t)(lf - data);

        (void)msgsrc_is_separator(data + off, end - off);
        off = end + 1;
    }
    while (msgsrc_mbox_next(data, size, &pos, &span)) {
        size_t last = span.off + span.len;

        if (span.off > size || span.len > size - span.off || last > pos ||
            n > size) {
            abort();
        }
        n++;
    }
    if (pos != size || (is_mbox && n < 2) || (size > 0 && n == 0)) {
        abort();
    }
    return 0;
}
