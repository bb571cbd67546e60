/*
 * fuzz_html.c -- libFuzzer target for html_to_text (html.h) and the URL
 * helpers (url.h) on arbitrary bytes: output stays within its buffer and
 * is whole UTF-8 when the input is, links respect their caps, and every
 * URL found in the input as plain text yields a bounded host.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "charset.h"
#include "html.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_link(void *ctx, enum html_link_kind kind, const char *url, size_t url_len,
        const char *anchor, size_t anchor_len)
{
    char host[URL_HOST_MAX_BYTES + 1];
    unsigned f = 0;
    size_t n;

    (void)ctx;
    if (url_len == 0 || url_len > MIME_URL_MAX_BYTES ||
        anchor_len > MIME_ANCHOR_MAX_BYTES || kind > HTML_LINK_OTHER ||
        (anchor_len > 0 && anchor == NULL)) {
        abort();
    }
    n = url_host(url, url_len, host, sizeof(host), &f);
    if (n > URL_HOST_MAX_BYTES || host[n] != '\0') {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char out[4096];
    unsigned flags = 0;
    size_t n;
    size_t pos = 0;
    size_t s;
    size_t l;
    bool is_utf8 = charset_utf8_valid(data, size);

    n = html_to_text(data, size, out, sizeof(out), on_link, NULL, &flags);
    if (n > sizeof(out) || (is_utf8 && !charset_utf8_valid(
                                           (const uint8_t *)out, n))) {
        abort();
    }
    n = html_to_text(data, size, out, 7, NULL, NULL, &flags);
    if (n > 7) {
        abort();
    }
    while (url_find((const char *)data, size, &pos, &s, &l)) {
        char host[URL_HOST_MAX_BYTES + 1];
        const char *rd;
        unsigned f = 0;
        size_t hn;
        if (s + l > size || l == 0 || pos > size) {
            abort();
        }
        hn = url_host((const char *)data + s, l, host, sizeof(host), &f);
        if (url_registered_domain(host, hn, &rd) > hn) {
            abort();
        }
    }
    return 0;
}
