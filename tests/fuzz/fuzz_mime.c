/*
 * fuzz_mime.c -- libFuzzer target for mime_parse (mime.h) and the helpers
 * it drives (charset, html, url): every input parses, every view in the
 * result is consistent and bounded by its cap, twice -- once with the
 * normal arena budget and once with a small one so the arena-exhaustion
 * paths run too.  The feature extraction (the tokenizer, link text,
 * addresses) and the heuristic rules then run over each parse, as the
 * engine runs them (their archive listings, look-alike and link checks
 * read what the parse produced); the feature set stays within its cap,
 * and every Received header goes through reputation_received_client,
 * whose verified name must be a dotted host name inside the header's
 * value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "caps.h"
#include "featureset.h"
#include "mime.h"
#include "reputation.h"
#include "rules.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_received(const struct mime_doc *d)
{
    const struct mime_header *h = NULL;

    while ((h = mime_header_next(d, h, "Received")) != NULL) {
        uint8_t ip[16];
        const char *name = NULL;
        size_t len = 9;
        bool has_dot = false;

        if (!reputation_received_client(h, ip, &name, &len)) {
            if (name != NULL || len != 0) {
                abort();
            }
            continue;
        }
        if ((name == NULL) != (len == 0) ||
            (name != NULL && (name < h->raw_value ||
                              name + len > h->raw_value + h->raw_value_len))) {
            abort();
        }
        for (size_t i = 0; i < len; i++) {
            has_dot = has_dot || name[i] == '.';
            if (name[i] == ' ' || name[i] == '(' || name[i] == '[' ||
                name[i] == '@') {
                abort();
            }
        }
        if (len > 0 && !has_dot) {
            abort();
        }
    }
}

static void
check(const struct mime_doc *d)
{
    if (d->text == NULL || strlen(d->text) != d->text_len ||
        d->text_len > MIME_TEXT_MAX_BYTES || d->subject == NULL ||
        d->n_parts > MIME_MAX_PARTS || d->n_urls > MIME_MAX_URLS ||
        d->n_headers > MIME_MAX_HEADERS || d->max_depth > MIME_MAX_DEPTH) {
        abort();
    }
    for (size_t i = 0, total = 0; i < d->n_headers; i++) {
        const struct mime_header *h = &d->headers[i];
        total += h->name_len + h->value_len;
        if (strlen(h->name) != h->name_len || h->value[h->value_len] != 0 ||
            mime_header_find(d, h->name) == NULL ||
            total > MIME_HEADERS_TOTAL_BYTES) {
            abort();
        }
    }
    for (size_t i = 0; i < d->n_parts; i++) {
        const struct mime_part *p = &d->parts[i];
        if (p->content_type == NULL || p->charset == NULL ||
            p->filename == NULL || p->other_filename == NULL ||
            p->depth > MIME_MAX_DEPTH ||
            p->data_len > MIME_PART_MAX_BYTES ||
            (p->data == NULL && p->data_len != 0)) {
            abort();
        }
        /* Touch both ends so ASan checks the view. */
        if (p->data_len > 0 &&
            (size_t)p->data[0] + p->data[p->data_len - 1] > 510) {
            abort();
        }
    }
    for (size_t i = 0; i < d->n_urls; i++) {
        const struct mime_url *u = &d->urls[i];
        const char *rd = NULL;
        size_t n;
        if (strlen(u->url) != u->url_len || strlen(u->host) != u->host_len ||
            strlen(u->anchor_text) != u->anchor_len ||
            u->url_len > MIME_URL_MAX_BYTES ||
            u->anchor_len > MIME_ANCHOR_MAX_BYTES) {
            abort();
        }
        n = url_registered_domain(u->host, u->host_len, &rd);
        if (rd < u->host || rd + n > u->host + u->host_len) {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t budgets[] = {CAPS_ARENA_MAX_BYTES, 4096};
    static struct features_scratch *fs;

    if (fs == NULL && (fs = features_scratch_new()) == NULL) {
        return 0;
    }
    for (size_t b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++) {
        struct arena *a = arena_new(budgets[b]);
        struct mime_doc doc;
        if (a == NULL) {
            return 0;
        }
        if (mime_parse(a, data, size, &doc) != CM_OK) {
            abort();
        }
        check(&doc);
        check_received(&doc);
        {
            const uint32_t *ids = NULL;
            size_t n = 0;
            unsigned fflags = 0;

            features_extract(&doc, NULL, fs, NULL, NULL, &ids, &n, &fflags);
            if (n > CAPS_FEATURES_MAX || (n > 0 && ids == NULL)) {
                abort();
            }
            (void)rules_detect(rules_builtin(), &doc, fflags, NULL);
        }
        arena_free(a);
    }
    return 0;
}
