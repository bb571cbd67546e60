/*
 * fuzz_charset.c -- libFuzzer target for charset_to_utf8 (charset.h).
 *
 * Input: byte 0 is the label's length (mod MIME_CHARSET_NAME_MAX + 8, so
 * over-long labels are tried too), byte 1 picks a small output cap, then
 * the label, then the text.  Each conversion must stay within out_max,
 * give valid UTF-8 (never a partial character), give the same bytes
 * through a cache (twice, so a reused descriptor's state cannot leak) as
 * without one, and a capped conversion must be a prefix of the full one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "charset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Convert into a fresh buffer of out_max bytes (plus one guard byte that
 * must stay untouched); abort on a broken contract. */
static char *
convert(struct charset_cache *cc, const char *label, size_t label_len,
        const uint8_t *in, size_t in_len, size_t out_max, size_t *n,
        unsigned *flags)
{
    char *out = malloc(out_max + 1);

    if (out == NULL) {
        abort();
    }
    out[out_max] = 'G';
    *flags = 0;
    *n = charset_to_utf8(cc, label, label_len, in, in_len, out, out_max,
                         flags);
    if (*n > out_max || out[out_max] != 'G' ||
        !charset_utf8_valid((const uint8_t *)out, *n)) {
        abort();
    }
    return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct charset_cache cc;
    size_t label_len;
    size_t small_max;
    const uint8_t *in;
    size_t in_len;
    size_t full_max;
    size_t n[4];
    unsigned f[4];
    char *out[4];

    if (size < 2) {
        return 0;
    }
    label_len = data[0] % (MIME_CHARSET_NAME_MAX + 8);
    small_max = data[1];
    if (label_len > size - 2) {
        label_len = size - 2;
    }
    in = data + 2 + label_len;
    in_len = size - 2 - label_len;
    full_max = 3 * in_len + 4;
    charset_cache_init(&cc);
    out[0] = convert(NULL, (const char *)data + 2, label_len, in, in_len,
                     full_max, &n[0], &f[0]);
    out[1] = convert(&cc, (const char *)data + 2, label_len, in, in_len,
                     full_max, &n[1], &f[1]);
    out[2] = convert(&cc, (const char *)data + 2, label_len, in, in_len,
                     full_max, &n[2], &f[2]);
    out[3] = convert(&cc, (const char *)data + 2, label_len, in, in_len,
                     small_max, &n[3], &f[3]);
    if (n[1] != n[0] || n[2] != n[0] || f[1] != f[0] || f[2] != f[0] ||
        memcmp(out[1], out[0], n[0]) != 0 ||
        memcmp(out[2], out[0], n[0]) != 0) {
        abort();
    }
    /* The in-code paths promise 3 * in_len + 4 is always enough. */
    if (charset_is_utf8_label((const char *)data + 2, label_len) &&
        (f[0] & CHARSET_OUT_CAPPED) != 0) {
        abort();
    }
    /* A cap only cuts: what fits is the start of the full text. */
    if (n[3] > n[0] || memcmp(out[3], out[0], n[3]) != 0) {
        abort();
    }
    charset_cache_clear(&cc);
    for (size_t i = 0; i < 4; i++) {
        free(out[i]);
    }
    return 0;
}
