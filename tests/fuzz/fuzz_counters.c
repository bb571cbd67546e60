/*
 * fuzz_counters.c -- libFuzzer target for the state-file parser
 * (counters.h): any bytes parse without crashing, every accepted count
 * respects CAPS_COUNTERS_VALUE_MAX and the day order, and what was parsed
 * formats and parses back to the same snapshot with no bad line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_counts(const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] > CAPS_COUNTERS_VALUE_MAX) {
            abort();
        }
    }
}

static void
check_day(const struct counters_day *d)
{
    check_counts(d->by_score, COUNTERS_SCORES);
    check_counts(d->by_category, COUNTERS_CATEGORIES);
    check_counts(d->fail_open, COUNTERS_FAIL_REASONS);
    check_counts(&d->errors, 1);
    check_counts(d->latency, COUNTERS_LATENCY_BUCKETS);
    check_counts(&d->updates_installed, 1);
    check_counts(d->updates_refused, COUNTERS_REFUSALS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct counters_snapshot *a = malloc(sizeof(*a));
    struct counters_snapshot *b = malloc(sizeof(*b));
    struct buf out;
    size_t n_bad = 0;

    if (a == NULL || b == NULL) {
        free(a);
        free(b);
        return 0;
    }
    if (counters_parse(data, size, a, NULL, NULL, &n_bad) == CM_OK) {
        if (a->n_history > CAPS_COUNTERS_HISTORY_DAYS) {
            abort();
        }
        if (a->today.day != COUNTERS_DAY_NONE) {
            check_day(&a->today);
        }
        for (size_t i = 0; i < a->n_history; i++) {
            int64_t newer = i == 0 ? a->today.day : a->history[i - 1].day;
            if (a->history[i].day >= newer) {
                abort();
            }
            check_day(&a->history[i]);
        }
        buf_init(&out, CAPS_COUNTERS_STATE_MAX_BYTES);
        if (counters_format(a, &out) != CM_OK ||
            counters_parse(out.data, out.len, b, NULL, NULL, &n_bad) !=
                CM_OK ||
            n_bad != 0 || memcmp(a, b, sizeof(*a)) != 0) {
            abort();
        }
        buf_clear(&out);
    }
    free(a);
    free(b);
    return 0;
}
