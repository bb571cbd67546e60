/*
 * fuzz_cgpdict.c -- libFuzzer target for cgpdict_parse: any bytes either
 * parse into a tree whose links, counts and texts are consistent, or fail
 * with a reason and a line; nothing leaks or reads out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "cgpdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk the tree; depth is bounded by the parser's cap. */
static size_t
walk(const struct cgpdict_node *n, unsigned depth)
{
    size_t count = 1;
    size_t n_children = 0;

    if (depth > CAPS_CGPDICT_DEPTH_MAX) {
        abort();
    }
    if ((n->type == CGPDICT_ARRAY || n->type == CGPDICT_DICT) !=
        (n->text == NULL)) {
        abort();
    }
    if (n->text != NULL && n->text[n->text_len] != '\0') {
        abort();
    }
    for (const struct cgpdict_node *c = n->child; c != NULL; c = c->next) {
        if ((n->type == CGPDICT_DICT) != (c->key != NULL)) {
            abort();
        }
        if (c->key != NULL &&
            cgpdict_get(n, c->key) == NULL &&
            strlen(c->key) == c->key_len) {
            abort();
        }
        count += walk(c, depth + 1);
        n_children++;
    }
    if (n_children != n->n_children) {
        abort();
    }
    return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cgpdict *d = NULL;
    struct cgpdict_error err = {0, NULL};
    const struct cgpdict_node *root;

    if (cgpdict_parse(data, size, &d, &err) != CM_OK) {
        if (err.why == NULL || err.line == 0) {
            abort();
        }
        return 0;
    }
    root = cgpdict_root(d);
    if (walk(root, 0) != cgpdict_count(d)) {
        abort();
    }
    (void)cgpdict_get(root, "HeaderJunkScore");
    (void)cgpdict_get_ci(root, "barlevels");
    cgpdict_free(d);
    return 0;
}
