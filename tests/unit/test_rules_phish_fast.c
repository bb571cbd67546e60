/*
 * test_rules_phish_fast.c -- rules_phish.c's short cuts against the code
 * they replaced, kept here: is_addr_char's byte table against its
 * compares, for every byte value.
 *
 * rules_phish.c is included: its helpers are static.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/rules_phish.c"

/* is_addr_char as it was: a letter in either case (lower() then a-z),
 * a digit or one of ".-_+@". */
static bool
ref_is_addr_char(char c)
{
    return is_letter(c) || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_' || c == '+' || c == '@';
}

static void
test_addr_char_table(void **state)
{
    (void)state;
    for (unsigned b = 0; b < 256; b++) {
        assert_int_equal(is_addr_char((char)b), ref_is_addr_char((char)b));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_char_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
