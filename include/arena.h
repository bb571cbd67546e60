/*
 * arena.h -- per-message memory: many small allocations, one free.
 *
 * A job creates one arena, every parsed view of its message is allocated
 * from it, and the arena is freed (or reset for the next message) when the
 * answer is written.  The total is bounded by max_bytes: past it arena_alloc
 * returns NULL and the parser records a cap flag instead of failing the
 * message.  Not thread-safe; an arena has one owner.
 */
#ifndef CM_ARENA_H
#define CM_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* New arena that hands out at most max_bytes in total; NULL on ENOMEM. */
struct arena *arena_new(size_t max_bytes);

/* Free every allocation and the arena; arena_free(NULL) does nothing. */
void arena_free(struct arena *a);

/* Forget every allocation but keep the first block for reuse. */
void arena_reset(struct arena *a);

/* n bytes aligned to 16; NULL when the budget or memory is exhausted. */
void *arena_alloc(struct arena *a, size_t n);

/* count * size zeroed bytes; NULL on overflow or exhaustion. */
void *arena_calloc(struct arena *a, size_t count, size_t size);

/* Copy of (s, len) plus a NUL; NULL on exhaustion. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/* Grow the most recent allocation p (of old_n bytes) to new_n bytes,
 * in place when possible, else by copying; NULL on exhaustion (p stays
 * valid). */
void *arena_grow(struct arena *a, void *p, size_t old_n, size_t new_n);

/* Bytes handed out since creation or the last reset. */
size_t arena_used(const struct arena *a);

/* Test hook: the nth allocation from this arena fails (0 disables). */
void arena_test_fail_nth(struct arena *a, size_t nth);

/*
 * True when, since creation or the last reset, an allocation failed
 * because malloc refused a block (not because max_bytes was reached).  A
 * parser then set its cap flag and went on, but its partial view is an
 * accident of memory pressure, not a bounded view of a hostile message:
 * scoring it would give a verdict about a different message.
 */
bool arena_is_out_of_memory(const struct arena *a);

/* Test hook, process-wide: the nth block the arenas request from now on
 * is refused as if malloc had failed (0 disables). */
void arena_test_fail_nth_block(unsigned nth);

#endif
