/*
 * fuzz_cgpstr.c -- libFuzzer target for cgpstr: escaping any bytes gives
 * one safe line that decodes back to the input; unquoting any bytes never
 * reads out of bounds.  First byte: bit 0 = is_multiline, bits 1-7 = a
 * small output cap for the truncation path (whose cut must fall between
 * escapes and between UTF-8 characters).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cgpstr.h"
#include "charset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_escape(const uint8_t *p, size_t len, bool is_multiline)
{
    struct buf esc;
    struct buf dec;
    size_t used = 0;
    size_t want = cgpstr_escaped_len(p, len, is_multiline);

    buf_init(&esc, want + 2);
    buf_init(&dec, len + 1);
    if (buf_putc(&esc, '"') != CM_OK ||
        cgpstr_escape(p, len, is_multiline, &esc) != CM_OK ||
        buf_putc(&esc, '"') != CM_OK) {
        abort();
    }
    if (esc.len != want + 2) {
        abort();
    }
    for (size_t i = 0; i < esc.len; i++) {
        if (esc.data[i] < 0x20 || esc.data[i] == 0x7f) {
            abort();
        }
    }
    if (cgpstr_unquote(esc.data, esc.len, &used, &dec) != CM_OK ||
        used != esc.len) {
        abort();
    }
    /* len == 0 leaves dec.data NULL, which memcmp must not see. */
    if (!is_multiline &&
        (dec.len != len || (len > 0 && memcmp(dec.data, p, len) != 0))) {
        abort();
    }
    buf_clear(&esc);
    buf_clear(&dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf b;
    size_t used = 0;
    bool is_multiline;
    size_t cap;

    if (size == 0) {
        return 0;
    }
    is_multiline = (data[0] & 1) != 0;
    cap = data[0] >> 1;
    data++;
    size--;
    check_escape(data, size, is_multiline);
    /* Truncated escape: a prefix of the full output, within the cap, that
     * still decodes (half an escape would not). */
    buf_init(&b, cap);
    (void)cgpstr_escape(data, size, is_multiline, &b);
    if (b.len > cap) {
        abort();
    }
    /* Nor half a UTF-8 character: a cut of valid UTF-8 stays valid. */
    if (charset_utf8_valid(data, size) &&
        !charset_utf8_valid(b.data == NULL ? (const uint8_t *)"" : b.data,
                            b.len)) {
        abort();
    }
    {
        struct buf q;
        struct buf dec;

        buf_init(&q, cap + 2);
        buf_init(&dec, cap + 1);
        if (buf_putc(&q, '"') != CM_OK ||
            buf_append(&q, b.data == NULL ? (const uint8_t *)"" : b.data,
                       b.len) != CM_OK ||
            buf_putc(&q, '"') != CM_OK ||
            cgpstr_unquote(q.data, q.len, &used, &dec) != CM_OK ||
            used != q.len) {
            abort();
        }
        buf_clear(&q);
        buf_clear(&dec);
    }
    buf_clear(&b);
    /* Decoding arbitrary bytes. */
    buf_init(&b, 4096);
    (void)cgpstr_unquote(data, size, &used, &b);
    buf_clear(&b);
    return 0;
}
