/*
 * arena.c -- bump allocator over a chain of blocks (see arena.h).
 *
 * Blocks double in size from 64 KiB up to 4 MiB; a request larger than a
 * block gets a block of its own.  The first block is kept across resets so
 * a worker scoring message after message allocates almost nothing.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "failpoint.h"

#define ARENA_ALIGN 16u
#define ARENA_FIRST_BLOCK (64u * 1024u)
#define ARENA_MAX_BLOCK (4u * 1024u * 1024u)

struct arena_block {
    struct arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    /* data follows, aligned */
};

struct arena {
    struct arena_block *head; /* current block, newest first */
    size_t max_bytes;
    size_t used_bytes;
    size_t next_block;
    size_t fail_nth;
    size_t n_allocs;
    void *last;     /* most recent allocation, for arena_grow */
    size_t last_n;
    bool is_out_of_memory; /* malloc refused a block since the reset */
};

/* Test hook: the nth block_new from now on fails as malloc would. */
static struct failpoint block_failpoint;

void
arena_test_fail_nth_block(unsigned nth)
{
    failpoint_arm(&block_failpoint, nth);
}

#define BLOCK_HDR                                                            \
    ((sizeof(struct arena_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

static uint8_t *
block_data(struct arena_block *b)
{
    return (uint8_t *)b + BLOCK_HDR;
}

static struct arena_block *
block_new(size_t size)
{
    struct arena_block *b;

    if (size > SIZE_MAX - BLOCK_HDR || failpoint_hit(&block_failpoint)) {
        return NULL;
    }
    b = malloc(BLOCK_HDR + size);
    if (b == NULL) {
        return NULL;
    }
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

struct arena *
arena_new(size_t max_bytes)
{
    struct arena *a = calloc(1, sizeof(*a));

    if (a == NULL) {
        return NULL;
    }
    a->max_bytes = max_bytes;
    a->next_block = ARENA_FIRST_BLOCK;
    return a;
}

void
arena_free(struct arena *a)
{
    struct arena_block *b;

    if (a == NULL) {
        return;
    }
    b = a->head;
    while (b != NULL) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

void
arena_reset(struct arena *a)
{
    struct arena_block *b = a->head;
    struct arena_block *keep = NULL;

    /* Keep the oldest block (the first, smallest) and free the rest. */
    while (b != NULL) {
        struct arena_block *next = b->next;
        if (next == NULL) {
            keep = b;
        } else {
            free(b);
        }
        b = next;
    }
    a->head = keep;
    if (keep != NULL) {
        keep->used = 0;
        a->next_block = keep->size * 2;
    }
    a->used_bytes = 0;
    a->n_allocs = 0;
    a->last = NULL;
    a->last_n = 0;
    a->is_out_of_memory = false;
}

bool
arena_is_out_of_memory(const struct arena *a)
{
    return a->is_out_of_memory;
}

void *
arena_alloc(struct arena *a, size_t n)
{
    struct arena_block *b = a->head;
    size_t rounded;
    void *p;

    a->n_allocs++;
    if (a->fail_nth != 0 && a->n_allocs == a->fail_nth) {
        return NULL;
    }
    if (n == 0) {
        n = 1;
    }
    if (n > SIZE_MAX - ARENA_ALIGN) {
        return NULL;
    }
    rounded = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (rounded > a->max_bytes - a->used_bytes) {
        return NULL;
    }
    if (b == NULL || b->size - b->used < rounded) {
        size_t size = a->next_block;
        if (size < rounded) {
            size = rounded;
        }
        b = block_new(size);
        if (b == NULL) {
            /* Not the budget: the system is out of memory.  Callers
             * must not take the partial view for the message. */
            a->is_out_of_memory = true;
            return NULL;
        }
        b->next = a->head;
        a->head = b;
        if (a->next_block < ARENA_MAX_BLOCK) {
            a->next_block *= 2;
        }
    }
    p = block_data(b) + b->used;
    b->used += rounded;
    a->used_bytes += rounded;
    a->last = p;
    a->last_n = rounded;
    return p;
}

void *
arena_calloc(struct arena *a, size_t count, size_t size)
{
    void *p;

    if (size != 0 && count > SIZE_MAX / size) {
        return NULL;
    }
    p = arena_alloc(a, count * size);
    if (p != NULL) {
        memset(p, 0, count * size);
    }
    return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p;

    if (len == SIZE_MAX) {
        return NULL;
    }
    p = arena_alloc(a, len + 1);
    if (p == NULL) {
        return NULL;
    }
    if (len > 0) {
        memcpy(p, s, len);
    }
    p[len] = '\0';
    return p;
}

void *
arena_grow(struct arena *a, void *p, size_t old_n, size_t new_n)
{
    struct arena_block *b = a->head;
    void *q;

    if (new_n <= old_n) {
        return p;
    }
    if (p != NULL && p == a->last && b != NULL) {
        size_t rounded;
        if (new_n > SIZE_MAX - ARENA_ALIGN) {
            return NULL;
        }
        rounded = (new_n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
        if (rounded - a->last_n <= b->size - b->used &&
            rounded - a->last_n <= a->max_bytes - a->used_bytes) {
            b->used += rounded - a->last_n;
            a->used_bytes += rounded - a->last_n;
            a->last_n = rounded;
            return p;
        }
    }
    q = arena_alloc(a, new_n);
    if (q == NULL) {
        return NULL;
    }
    if (p != NULL && old_n > 0) {
        memcpy(q, p, old_n);
    }
    return q;
}

size_t
arena_used(const struct arena *a)
{
    return a->used_bytes;
}

void
arena_test_fail_nth(struct arena *a, size_t nth)
{
    a->fail_nth = nth;
    a->n_allocs = 0;
}
