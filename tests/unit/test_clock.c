/*
 * test_clock.c -- injectable clocks, day numbers, date and time parsing,
 * local time in DST zones (include/clock.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"

static void
set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static int64_t
days_of(int y, int m, int d)
{
    struct clock_date cd = {y, m, d};

    assert_true(clock_date_is_valid(&cd));
    return clock_days_from_date(&cd);
}

static void
test_clock_real_reads(void **state)
{
    const struct clock *c = clock_real();
    uint64_t m1;
    uint64_t m2;

    (void)state;
    /* After 2020-01-01: the real wall clock is wired, not a test value. */
    assert_true(clock_wall_s(c) > 1577836800);
    m1 = clock_mono_ns(c);
    m2 = clock_mono_ns(c);
    assert_true(m2 >= m1);
    assert_true(clock_mono_us(c) >= m2 / 1000u);
    assert_true(clock_budget_now_ms((void *)c) >= m2 / 1000000u);
}

static void
test_clock_test_clock_steps_and_jumps(void **state)
{
    struct clock_test t;
    uint64_t mono0;

    (void)state;
    clock_test_init(&t, 1714557600);
    assert_int_equal(clock_wall_s(&t.clock), 1714557600);
    mono0 = clock_mono_ns(&t.clock);
    clock_test_advance_ms(&t, 1500);
    assert_int_equal(clock_wall_s(&t.clock), 1714557601);
    assert_int_equal(clock_mono_ns(&t.clock), mono0 + 1500000000u);
    assert_int_equal(clock_mono_us(&t.clock), (mono0 + 1500000000u) / 1000u);
    assert_int_equal(clock_budget_now_ms(&t.clock),
                     (mono0 + 1500000000u) / 1000000u);
    /* A jump back moves the wall clock only. */
    clock_test_set_wall(&t, 1714557000);
    assert_int_equal(clock_wall_s(&t.clock), 1714557000);
    assert_int_equal(clock_mono_ns(&t.clock), mono0 + 1500000000u);
    /* Before the epoch, whole seconds still read right. */
    clock_test_set_wall(&t, -5);
    assert_int_equal(clock_wall_s(&t.clock), -5);
    clock_test_advance_ms(&t, 500);
    assert_int_equal(clock_wall_s(&t.clock), -5);
    clock_test_advance_ms(&t, 500);
    assert_int_equal(clock_wall_s(&t.clock), -4);
}

static void
test_clock_days_known_dates(void **state)
{
    struct clock_date d;

    (void)state;
    assert_int_equal(days_of(1970, 1, 1), 0);
    assert_int_equal(days_of(1969, 12, 31), -1);
    assert_int_equal(days_of(2000, 3, 1), 11017);
    assert_int_equal(days_of(2024, 5, 1), 19844);
    assert_int_equal(days_of(1, 1, 1), CLOCK_DAYS_MIN);
    assert_int_equal(days_of(9999, 12, 31), CLOCK_DAYS_MAX);
    clock_date_from_days(19844, &d);
    assert_int_equal(d.year, 2024);
    assert_int_equal(d.month, 5);
    assert_int_equal(d.day, 1);
    /* Out of range clamps instead of producing garbage. */
    clock_date_from_days(CLOCK_DAYS_MAX + 10, &d);
    assert_int_equal(d.year, 9999);
    assert_int_equal(d.month, 12);
    assert_int_equal(d.day, 31);
    clock_date_from_days(CLOCK_DAYS_MIN - 10, &d);
    assert_int_equal(d.year, 1);
    assert_int_equal(d.month, 1);
    assert_int_equal(d.day, 1);
}

/* Walk day by day over four centuries around the leap rules: each day
 * number maps to the calendar successor of the previous one. */
static void
test_clock_days_round_trip(void **state)
{
    struct clock_date prev;
    struct clock_date d;
    int64_t start = days_of(1799, 12, 25);
    int64_t end = days_of(2401, 1, 5);

    (void)state;
    clock_date_from_days(start, &prev);
    for (int64_t n = start + 1; n <= end; n++) {
        clock_date_from_days(n, &d);
        assert_true(clock_date_is_valid(&d));
        assert_int_equal(clock_days_from_date(&d), n);
        if (d.day == 1) {
            assert_true(d.month == prev.month % 12 + 1);
            assert_true(d.year == prev.year + (d.month == 1));
        } else {
            assert_int_equal(d.day, prev.day + 1);
            assert_int_equal(d.month, prev.month);
        }
        prev = d;
    }
    clock_date_from_days(days_of(1900, 2, 28) + 1, &d);
    assert_int_equal(d.month, 3); /* 1900 is not a leap year */
    clock_date_from_days(days_of(2000, 2, 28) + 1, &d);
    assert_int_equal(d.day, 29); /* 2000 is */
}

static void
test_clock_date_parse_and_format(void **state)
{
    static const char *const bad[] = {
        "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-1-01",
        "2024-01-1", "+024-01-01", " 2024-01-0", "2024/01/01", "0000-01-01",
        "2024-01-011", "", "abcd-ef-gh"
    };
    char text[CLOCK_DATE_TEXT_SIZE];
    int64_t day = 42;

    (void)state;
    assert_int_equal(clock_date_parse("2024-02-29", 10, &day), CM_OK);
    assert_int_equal(day, days_of(2024, 2, 29));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        day = 42;
        assert_int_equal(clock_date_parse(bad[i], strlen(bad[i]), &day),
                         CM_EPARSE);
        assert_int_equal(day, 42);
    }
    /* Only the given bytes are read: no NUL needed. */
    assert_int_equal(clock_date_parse("2024-05-01XYZ", 10, &day), CM_OK);
    assert_int_equal(day, 19844);
    clock_date_format(19844, text, sizeof(text));
    assert_string_equal(text, "2024-05-01");
    clock_date_format(CLOCK_DAYS_MIN, text, sizeof(text));
    assert_string_equal(text, "0001-01-01");
}

static void
test_clock_hhmm_parse(void **state)
{
    static const char *const bad[] = {
        "24:00", "12:60", "1200", "12:5", "-1:00", "12:00 ", "", ":00",
        "123:00", "a1:00"
    };
    unsigned m = 7;

    (void)state;
    assert_int_equal(clock_hhmm_parse("00:00", 5, &m), CM_OK);
    assert_int_equal(m, 0);
    assert_int_equal(clock_hhmm_parse("23:59", 5, &m), CM_OK);
    assert_int_equal(m, 1439);
    assert_int_equal(clock_hhmm_parse("7:05", 4, &m), CM_OK);
    assert_int_equal(m, 425);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m = 7;
        assert_int_equal(clock_hhmm_parse(bad[i], strlen(bad[i]), &m),
                         CM_EPARSE);
        assert_int_equal(m, 7);
    }
}

static void
test_clock_local_utc_and_berlin(void **state)
{
    struct clock_local l;

    (void)state;
    set_tz("UTC");
    assert_int_equal(clock_local(0, &l), CM_OK);
    assert_int_equal(l.days, 0);
    assert_int_equal(l.minute_of_day, 0);
    assert_int_equal(l.weekday, 4); /* a Thursday */
    assert_int_equal(l.utc_offset_s, 0);

    set_tz("Europe/Berlin");
    /* 2024-05-01 12:00 CEST */
    assert_int_equal(clock_local(1714557600, &l), CM_OK);
    assert_int_equal(l.days, 19844);
    assert_int_equal(l.minute_of_day, 12 * 60);
    assert_int_equal(l.utc_offset_s, 7200);
    /* Spring forward: 01:59 CET, then 03:00 CEST one minute later. */
    assert_int_equal(clock_local(1711846740, &l), CM_OK);
    assert_int_equal(l.minute_of_day, 119);
    assert_int_equal(l.utc_offset_s, 3600);
    assert_int_equal(clock_local(1711846800, &l), CM_OK);
    assert_int_equal(l.minute_of_day, 180);
    assert_int_equal(l.utc_offset_s, 7200);
    set_tz("UTC");
}

static void
test_clock_local_to_wall_dst_days(void **state)
{
    int64_t t = 0;

    (void)state;
    set_tz("Europe/Berlin");
    assert_int_equal(clock_local_to_wall(days_of(2024, 3, 31), 0, &t), CM_OK);
    assert_int_equal(t, 1711839600);
    assert_int_equal(clock_local_to_wall(days_of(2024, 10, 27), 0, &t),
                     CM_OK);
    assert_int_equal(t, 1729980000);
    assert_int_equal(clock_local_to_wall(days_of(2024, 10, 28), 0, &t),
                     CM_OK);
    assert_int_equal(t, 1730070000); /* a 25-hour day */
    /* 02:30 does not exist on 2024-03-31: some moment around the gap. */
    assert_int_equal(clock_local_to_wall(days_of(2024, 3, 31), 150, &t),
                     CM_OK);
    assert_true(t >= 1711846740 - 3600 && t <= 1711846800 + 3600);

    set_tz("America/New_York");
    assert_int_equal(clock_local_to_wall(days_of(2024, 3, 11), 0, &t), CM_OK);
    assert_int_equal(t - 1710046800, 23 * 3600); /* a 23-hour day */
    assert_int_equal(clock_local_to_wall(days_of(2024, 11, 4), 0, &t), CM_OK);
    assert_int_equal(t - 1730606400, 25 * 3600);
    assert_int_equal(clock_local_to_wall(CLOCK_DAYS_MAX + 1, 0, &t),
                     CM_EINVAL);
    assert_int_equal(clock_local_to_wall(0, 1440, &t), CM_EINVAL);
    set_tz("UTC");
}

static void
test_clock_rfc5322_format(void **state)
{
    char s[40];

    (void)state;
    set_tz("UTC");
    assert_int_equal(clock_rfc5322_format(0, s, sizeof(s)), CM_OK);
    assert_string_equal(s, "Thu, 01 Jan 1970 00:00:00 +0000");
    set_tz("Europe/Berlin");
    assert_int_equal(clock_rfc5322_format(1714557605, s, sizeof(s)), CM_OK);
    assert_string_equal(s, "Wed, 01 May 2024 12:00:05 +0200");
    set_tz("America/New_York");
    assert_int_equal(clock_rfc5322_format(1710129600, s, sizeof(s)), CM_OK);
    assert_string_equal(s, "Mon, 11 Mar 2024 00:00:00 -0400");
    /* Half-hour zones keep their minutes. */
    set_tz("Asia/Kolkata");
    assert_int_equal(clock_rfc5322_format(0, s, sizeof(s)), CM_OK);
    assert_string_equal(s, "Thu, 01 Jan 1970 05:30:00 +0530");
    assert_int_equal(clock_rfc5322_format(0, s, 10), CM_ELIMIT);
    set_tz("UTC");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_real_reads),
        cmocka_unit_test(test_clock_test_clock_steps_and_jumps),
        cmocka_unit_test(test_clock_days_known_dates),
        cmocka_unit_test(test_clock_days_round_trip),
        cmocka_unit_test(test_clock_date_parse_and_format),
        cmocka_unit_test(test_clock_hhmm_parse),
        cmocka_unit_test(test_clock_local_utc_and_berlin),
        cmocka_unit_test(test_clock_local_to_wall_dst_days),
        cmocka_unit_test(test_clock_rfc5322_format),
    };

    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
