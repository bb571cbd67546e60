/*
 * fuzz_msgsrc.c -- libFuzzer target for the mbox splitter (msgsrc.h):
 * every separator check and every split of an arbitrary buffer must stay
 * inside the buffer, make progress, and agree with msgsrc_is_mbox; the
 * ">From " unquoting of each message must shrink it by exactly one byte
 * per quoted line and give the same bytes in place as into a copy.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lines of (p, len) that start with one '>' or more and then "From ". */
static size_t
count_quoted(const uint8_t *p, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len;) {
        const uint8_t *lf = memchr(p + i, '\n', len - i);
        size_t end = lf == NULL ? len : (size_t)(lf - p) + 1;
        size_t j = i;

        while (j < end && p[j] == '>') {
            j++;
        }
        n += j > i && end - j >= 5 && memcmp(p + j, "From ", 5) == 0;
        i = end;
    }
    return n;
}

/* Unquote one span into a copy and in place; both must agree. */
static void
check_unquote(const uint8_t *p, size_t len)
{
    uint8_t *a = malloc(len + 1);
    uint8_t *b = malloc(len + 1);
    size_t na;
    size_t nb;

    if (a == NULL || b == NULL) {
        abort();
    }
    memcpy(b, p, len);
    na = msgsrc_mbox_unquote(a, p, len);
    nb = msgsrc_mbox_unquote(b, b, len);
    if (na != nb || na != len - count_quoted(p, len) ||
        memcmp(a, b, na) != 0) {
        abort();
    }
    free(a);
    free(b);
}

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
        check_unquote(data + span.off, span.len);
        n++;
    }
    if (pos != size || (is_mbox && n < 2) || (size > 0 && n == 0)) {
        abort();
    }
    return 0;
}
