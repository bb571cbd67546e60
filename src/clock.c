/*
 * clock.c -- injectable time and local-calendar helpers (see clock.h).
 *
 * State: none shared.  The real clock is a constant table of two reader
 * functions; a test clock keeps its two readings in atomics inside the
 * caller's struct.  Any thread.
 *
 * Calendar arithmetic is done on day numbers (days since 1970-01-01,
 * proleptic Gregorian) with plain integer formulas, never through mktime,
 * so a date's successor is always +1 whatever the time zone does.  Local
 * time goes through localtime_r/mktime only where the zone matters.
 * Used by housekeep for the daily report (SPEC §7) and by the helper for
 * latencies and budgets.
 */
#include "clock.h"

#include <stdio.h>
#include <string.h>

/* Day number of 0001-01-01 relative to 1970-01-01. */
#define DAYS_0001_TO_1970 719162

static const char *const month_names[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};
static const char *const weekday_names[7] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

static void
real_read_wall(void *ctx, struct timespec *out)
{
    (void)ctx;
    if (clock_gettime(CLOCK_REALTIME, out) != 0) {
        out->tv_sec = time(NULL);
        out->tv_nsec = 0;
    }
}

static void
real_read_mono(void *ctx, struct timespec *out)
{
    (void)ctx;
    if (clock_gettime(CLOCK_MONOTONIC, out) != 0) {
        /* CLOCK_MONOTONIC cannot fail on Linux; stay monotonic anyway by
         * reporting the epoch rather than a wall reading. */
        out->tv_sec = 0;
        out->tv_nsec = 0;
    }
}

static const struct clock real_clock = {
    .read_wall = real_read_wall,
    .read_mono = real_read_mono,
    .ctx = NULL,
};

const struct clock *
clock_real(void)
{
    return &real_clock;
}

int64_t
clock_wall_s(const struct clock *c)
{
    struct timespec ts;

    c->read_wall(c->ctx, &ts);
    return (int64_t)ts.tv_sec;
}

uint64_t
clock_mono_ns(const struct clock *c)
{
    struct timespec ts;

    c->read_mono(c->ctx, &ts);
    if (ts.tv_sec < 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
clock_mono_us(const struct clock *c)
{
    return clock_mono_ns(c) / 1000u;
}

uint64_t
clock_budget_now_ms(void *ctx)
{
    return clock_mono_ns(ctx) / 1000000u;
}

/* ---- test clock ----------------------------------------------------- */

static void
test_read_wall(void *ctx, struct timespec *out)
{
    struct clock_test *t = ctx;
    int64_t ns = atomic_load(&t->wall_ns);
    int64_t s = ns / 1000000000;
    int64_t rem = ns % 1000000000;

    if (rem < 0) {
        rem += 1000000000;
        s -= 1;
    }
    out->tv_sec = (time_t)s;
    out->tv_nsec = (long)rem;
}

static void
test_read_mono(void *ctx, struct timespec *out)
{
    struct clock_test *t = ctx;
    uint64_t ns = atomic_load(&t->mono_ns);

    out->tv_sec = (time_t)(ns / 1000000000u);
    out->tv_nsec = (long)(ns % 1000000000u);
}

void
clock_test_init(struct clock_test *t, int64_t wall_s)
{
    t->clock.read_wall = test_read_wall;
    t->clock.read_mono = test_read_mono;
    t->clock.ctx = t;
    atomic_init(&t->wall_ns, wall_s * 1000000000);
    /* Not zero, so that code treating 0 as "never" is exercised honestly. */
    atomic_init(&t->mono_ns, (uint64_t)1000 * 1000000000u);
}

void
clock_test_set_wall(struct clock_test *t, int64_t wall_s)
{
    atomic_store(&t->wall_ns, wall_s * 1000000000);
}

void
clock_test_advance_ms(struct clock_test *t, uint64_t ms)
{
    atomic_fetch_add(&t->wall_ns, (int64_t)(ms * 1000000u));
    atomic_fetch_add(&t->mono_ns, ms * 1000000u);
}

/* ---- calendar ------------------------------------------------------- */

static bool
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
    static const int n[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

/* Days from 0001-01-01 to January 1st of year y (y >= 1). */
static int64_t
days_before_year(int64_t y)
{
    int64_t p = y - 1;

    return 365 * p + p / 4 - p / 100 + p / 400;
}

bool
clock_date_is_valid(const struct clock_date *d)
{
    return d->year >= 1 && d->year <= 9999 && d->month >= 1 &&
           d->month <= 12 && d->day >= 1 &&
           d->day <= days_in_month(d->year, d->month);
}

int64_t
clock_days_from_date(const struct clock_date *d)
{
    int64_t days = days_before_year(d->year);

    for (int m = 1; m < d->month; m++) {
        days += days_in_month(d->year, m);
    }
    days += d->day - 1;
    return days - DAYS_0001_TO_1970;
}

void
clock_date_from_days(int64_t days, struct clock_date *out)
{
    int64_t d0;
    int64_t y;
    int m = 1;

    if (days < CLOCK_DAYS_MIN) {
        days = CLOCK_DAYS_MIN;
    } else if (days > CLOCK_DAYS_MAX) {
        days = CLOCK_DAYS_MAX;
    }
    d0 = days + DAYS_0001_TO_1970;
    /* 146097 days per 400 years: a close first guess, then correct it. */
    y = 1 + d0 * 400 / 146097;
    while (y > 1 && days_before_year(y) > d0) {
        y--;
    }
    while (days_before_year(y + 1) <= d0) {
        y++;
    }
    d0 -= days_before_year(y);
    while (d0 >= days_in_month(y, m)) {
        d0 -= days_in_month(y, m);
        m++;
    }
    out->year = (int)y;
    out->month = m;
    out->day = (int)d0 + 1;
}

/* n decimal digits at p into *out; false on a non-digit. */
static bool
digits(const char *p, size_t n, int *out)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

enum cm_err
clock_date_parse(const char *p, size_t len, int64_t *out_days)
{
    struct clock_date d;

    if (len != 10 || p[4] != '-' || p[7] != '-' ||
        !digits(p, 4, &d.year) || !digits(p + 5, 2, &d.month) ||
        !digits(p + 8, 2, &d.day) || !clock_date_is_valid(&d)) {
        return CM_EPARSE;
    }
    *out_days = clock_days_from_date(&d);
    return CM_OK;
}

void
clock_date_format(int64_t days, char *out, size_t cap)
{
    struct clock_date d;

    clock_date_from_days(days, &d);
    snprintf(out, cap, "%04d-%02d-%02d", d.year, d.month, d.day);
}

enum cm_err
clock_hhmm_parse(const char *p, size_t len, unsigned *out_min)
{
    int h;
    int m;
    size_t hl;

    if (len == 4 && p[1] == ':') {
        hl = 1;
    } else if (len == 5 && p[2] == ':') {
        hl = 2;
    } else {
        return CM_EPARSE;
    }
    if (!digits(p, hl, &h) || !digits(p + hl + 1, 2, &m) || h > 23 ||
        m > 59) {
        return CM_EPARSE;
    }
    *out_min = (unsigned)(h * 60 + m);
    return CM_OK;
}

enum cm_err
clock_local(int64_t wall_s, struct clock_local *out)
{
    struct tm tm;
    time_t t = (time_t)wall_s;
    struct clock_date d;
    int64_t local_s;

    if (localtime_r(&t, &tm) == NULL) {
        return CM_EINVAL;
    }
    d.year = tm.tm_year + 1900;
    d.month = tm.tm_mon + 1;
    d.day = tm.tm_mday;
    if (!clock_date_is_valid(&d)) {
        return CM_EINVAL;
    }
    out->days = clock_days_from_date(&d);
    out->minute_of_day = (unsigned)(tm.tm_hour * 60 + tm.tm_min);
    out->second = (unsigned)tm.tm_sec;
    out->weekday = (unsigned)tm.tm_wday % 7u;
    local_s = out->days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 +
              tm.tm_sec;
    out->utc_offset_s = (long)(local_s - wall_s);
    return CM_OK;
}

enum cm_err
clock_local_to_wall(int64_t days, unsigned minute_of_day, int64_t *out_wall_s)
{
    struct tm tm;
    struct clock_date d;
    time_t t;

    if (days < CLOCK_DAYS_MIN || days > CLOCK_DAYS_MAX ||
        minute_of_day >= 1440) {
        return CM_EINVAL;
    }
    clock_date_from_days(days, &d);
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = d.year - 1900;
    tm.tm_mon = d.month - 1;
    tm.tm_mday = d.day;
    tm.tm_hour = (int)(minute_of_day / 60);
    tm.tm_min = (int)(minute_of_day % 60);
    tm.tm_isdst = -1;
    t = mktime(&tm);
    if (t == (time_t)-1) {
        return CM_EINVAL;
    }
    *out_wall_s = (int64_t)t;
    return CM_OK;
}

enum cm_err
clock_rfc5322_format(int64_t wall_s, char *out, size_t cap)
{
    struct clock_local l;
    struct clock_date d;
    long off;
    char sign = '+';
    int n;

    if (clock_local(wall_s, &l) != CM_OK) {
        return CM_EINVAL;
    }
    clock_date_from_days(l.days, &d);
    off = l.utc_offset_s;
    if (off < 0) {
        sign = '-';
        off = -off;
    }
    n = snprintf(out, cap, "%s, %02d %s %04d %02u:%02u:%02u %c%02ld%02ld",
                 weekday_names[l.weekday], d.day, month_names[d.month - 1],
                 d.year, l.minute_of_day / 60, l.minute_of_day % 60,
                 l.second > 59 ? 59u : l.second, sign, off / 3600,
                 off % 3600 / 60);
    if (n < 0 || (size_t)n >= cap) {
        return CM_ELIMIT;
    }
    return CM_OK;
}
