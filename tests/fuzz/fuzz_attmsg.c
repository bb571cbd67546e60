/*
 * fuzz_attmsg.c -- libFuzzer target for attmsg (attached messages of a
 * feedback mail): every span must lie inside the input, counts and flags
 * must agree with the caps, and decoding any span must either succeed
 * within its limit or fail without touching the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attmsg.h"
#include "buf.h"
#include "caps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoded messages are cut short here: the fuzzer needs no big ones. */
#define FUZZ_ATTMSG_DECODE_MAX (256u * 1024u)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct attmsg_result *r = malloc(sizeof(*r));
    struct buf b;

    if (r == NULL) {
        return 0;
    }
    attmsg_find(data, size, r);
    if (r->n > CAPS_ATTMSG_MAX || r->n_parts > CAPS_ATTMSG_PARTS_MAX ||
        (size > 0 && r->n_parts == 0)) {
        abort();
    }
    buf_init(&b, FUZZ_ATTMSG_DECODE_MAX);
    for (size_t i = 0; i < r->n; i++) {
        const struct attmsg_span *s = &r->spans[i];
        size_t before;
        enum cm_err rc;

        if (s->off > size || s->len > size - s->off) {
            abort();
        }
        buf_reset(&b);
        before = b.len;
        rc = attmsg_decode(data, size, s, FUZZ_ATTMSG_DECODE_MAX, &b);
        if ((rc == CM_OK && b.len > FUZZ_ATTMSG_DECODE_MAX) ||
            (rc != CM_OK && b.len != before)) {
            abort();
        }
    }
    buf_clear(&b);
    free(r);
    return 0;
}
