/*
 * budget.h -- a per-message time budget the engine can check without
 * reading a clock itself (the clock is injected by the caller).
 */
#ifndef CM_BUDGET_H
#define CM_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t (*budget_clock_fn)(void *ctx);

struct budget {
    budget_clock_fn now_ms; /* NULL: no deadline */
    void *ctx;
    uint64_t deadline_ms;
};

/* True when the budget has a clock and its deadline has passed. */
static inline bool
budget_expired(const struct budget *b)
{
    return b != NULL && b->now_ms != NULL && b->now_ms(b->ctx) > b->deadline_ms;
}

#endif
