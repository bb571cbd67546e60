/*
 * clock.h -- injectable time and local-calendar helpers (base layer).
 *
 * Code that needs "now" takes a const struct clock * instead of calling
 * time() or clock_gettime() itself, so tests can hand in a clock they set,
 * step and jump (forward or back) without sleeping.  There is no global
 * clock: main creates nothing, it passes clock_real() down.
 *
 * Two readings:
 *  - wall: CLOCK_REALTIME, seconds since the epoch; it can jump both ways
 *    (NTP, an administrator, a suspended VM).  Only for calendar decisions.
 *  - mono: CLOCK_MONOTONIC; never goes back.  For latencies and intervals.
 *
 * Calendar dates are counted as days since 1970-01-01 in the proleptic
 * Gregorian calendar (int64_t "day numbers"): consecutive dates differ by
 * one whatever the DST rules, so they order and subtract cleanly.  Mapping
 * a wall time to a local date uses localtime_r (the process's TZ).
 *
 * Thread safety: every function here may be called from any thread; a test
 * clock may be stepped by one thread while others read it (atomics).
 */
#ifndef CM_CLOCK_H
#define CM_CLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* Fills *out with the current reading of one clock. */
typedef void (*clock_read_fn)(void *ctx, struct timespec *out);

struct clock {
    clock_read_fn read_wall; /* like CLOCK_REALTIME */
    clock_read_fn read_mono; /* like CLOCK_MONOTONIC */
    void *ctx;
};

/* The system clocks.  A pointer to a constant object; never freed. */
const struct clock *clock_real(void);

/* Wall clock, whole seconds since the epoch. */
int64_t clock_wall_s(const struct clock *c);

/* Monotonic clock in nanoseconds and microseconds. */
uint64_t clock_mono_ns(const struct clock *c);
uint64_t clock_mono_us(const struct clock *c);

/*
 * budget_clock_fn adapter (budget.h): ctx is a const struct clock *;
 * returns the monotonic clock in milliseconds.
 */
uint64_t clock_budget_now_ms(void *ctx);

/* ---- test clock ----------------------------------------------------- */

/*
 * A clock the caller sets.  Embed it, clock_test_init() it, pass
 * &t->clock.  Readers may run in other threads while it is stepped.
 */
struct clock_test {
    struct clock clock;
    _Atomic int64_t wall_ns;
    _Atomic uint64_t mono_ns;
};

/* Wall clock at wall_s, monotonic clock at an arbitrary fixed origin. */
void clock_test_init(struct clock_test *t, int64_t wall_s);

/* Jump the wall clock to wall_s (forward or back); mono does not move. */
void clock_test_set_wall(struct clock_test *t, int64_t wall_s);

/* Let time pass: both clocks move forward by ms. */
void clock_test_advance_ms(struct clock_test *t, uint64_t ms);

/* ---- calendar ------------------------------------------------------- */

/* A civil date; month 1..12, day 1..31. */
struct clock_date {
    int year;
    int month;
    int day;
};

/* "YYYY-MM-DD" plus the NUL. */
#define CLOCK_DATE_TEXT_SIZE 11u
/* Day numbers accepted by clock_date_parse (0001-01-01 .. 9999-12-31). */
#define CLOCK_DAYS_MIN (-719162)
#define CLOCK_DAYS_MAX 2932896

/* True when d names a real date between years 1 and 9999. */
bool clock_date_is_valid(const struct clock_date *d);

/* Day number of a valid date (days since 1970-01-01, negative before). */
int64_t clock_days_from_date(const struct clock_date *d);

/* Date of a day number. */
void clock_date_from_days(int64_t days, struct clock_date *out);

/*
 * Parse exactly "YYYY-MM-DD" (no spaces, no sign, a real date) from
 * (p, len) into *out_days.  CM_EPARSE otherwise; *out_days untouched.
 */
enum cm_err clock_date_parse(const char *p, size_t len, int64_t *out_days);

/*
 * "YYYY-MM-DD" of a day number into out (capacity at least
 * CLOCK_DATE_TEXT_SIZE).  Days outside the parseable range are clamped.
 */
void clock_date_format(int64_t days, char *out, size_t cap);

/*
 * Parse exactly "HH:MM" (00:00 .. 23:59; one-digit hour accepted) into
 * minutes since local midnight.  CM_EPARSE otherwise.
 */
enum cm_err clock_hhmm_parse(const char *p, size_t len, unsigned *out_min);

/* Local (TZ) breakdown of a wall time. */
struct clock_local {
    int64_t days;           /* local date as a day number */
    unsigned minute_of_day; /* 0..1439 */
    unsigned second;        /* 0..60 */
    unsigned weekday;       /* 0 = Sunday */
    long utc_offset_s;      /* local minus UTC, e.g. 7200 for +0200 */
};

/*
 * Break wall_s down in the local time zone (localtime_r).  CM_EINVAL when
 * the time cannot be represented; *out untouched then.
 */
enum cm_err clock_local(int64_t wall_s, struct clock_local *out);

/*
 * Wall time of local date days at minute_of_day (mktime with DST left to
 * the zone rules).  A local time that does not exist (skipped by a DST
 * change) maps to a moment after the change, as glibc's mktime shifts it
 * by the change (02:30 skipped by 02:00 -> 03:00 gives 03:30, not 03:00);
 * one that exists twice maps to one of the two.  CM_EINVAL when mktime
 * fails.
 */
enum cm_err clock_local_to_wall(int64_t days, unsigned minute_of_day,
                                int64_t *out_wall_s);

/*
 * RFC 5322 date-time of wall_s in local time, e.g.
 * "Thu, 02 May 2024 00:00:05 +0200" (English names whatever the locale),
 * into out (capacity cap, at least 32).  CM_EINVAL when not representable,
 * CM_ELIMIT when cap is too small.
 */
enum cm_err clock_rfc5322_format(int64_t wall_s, char *out, size_t cap);

#endif
