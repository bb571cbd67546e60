/*
 * test_cmdtab.c -- sub-command dispatch (include/cmdtab.h): lookup with
 * and without case, the arguments a command gets, "help" with no
 * command, with a known one (its own --help) and with an unknown one,
 * and an unknown command's status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cmdtab.h"

/* What the last command run was given (copied: "help" passes words
 * that live only during the call); the usage calls by stream. */
static int last_argc;
static char last_argv0[32];
static char last_argv1[32];
static int usage_stdout;
static int usage_stderr;

static void
record(int argc, char **argv)
{
    last_argc = argc;
    snprintf(last_argv0, sizeof(last_argv0), "%s", argv[0]);
    snprintf(last_argv1, sizeof(last_argv1), "%s", argc > 1 ? argv[1] : "");
}

static int
run_alpha(int argc, char **argv)
{
    record(argc, argv);
    return 11;
}

static int
run_beta(int argc, char **argv)
{
    record(argc, argv);
    return 22;
}

static void
usage(FILE *to)
{
    if (to == stdout) {
        usage_stdout++;
    } else {
        usage_stderr++;
    }
}

static const struct cmdtab_command commands[] = {
    {"ALPHA", run_alpha},
    {"beta", run_beta},
};

static struct cmdtab
table(bool is_case_blind)
{
    struct cmdtab t = {"prog", commands, 2, is_case_blind, usage};

    return t;
}

static int
reset(void **state)
{
    (void)state;
    last_argc = 0;
    last_argv0[0] = last_argv1[0] = '\0';
    usage_stdout = usage_stderr = 0;
    return 0;
}

static void
test_find_exact_and_case_blind(void **state)
{
    struct cmdtab exact = table(false);
    struct cmdtab blind = table(true);

    (void)state;
    assert_ptr_equal(cmdtab_find(&exact, "ALPHA"), &commands[0]);
    assert_ptr_equal(cmdtab_find(&exact, "beta"), &commands[1]);
    assert_null(cmdtab_find(&exact, "alpha"));
    assert_null(cmdtab_find(&exact, "Beta"));
    assert_ptr_equal(cmdtab_find(&blind, "alpha"), &commands[0]);
    assert_ptr_equal(cmdtab_find(&blind, "BeTa"), &commands[1]);
    /* A prefix or a longer word is another word. */
    assert_null(cmdtab_find(&blind, "alph"));
    assert_null(cmdtab_find(&blind, "alphas"));
    assert_null(cmdtab_find(&blind, ""));
}

static void
test_run_passes_arguments_and_status(void **state)
{
    struct cmdtab t = table(true);
    char w0[] = "beta", w1[] = "--x";
    char *argv[] = {w0, w1, NULL};

    (void)state;
    assert_int_equal(cmdtab_run(&t, 2, argv), 22);
    assert_int_equal(last_argc, 2);
    assert_string_equal(last_argv0, "beta");
    assert_string_equal(last_argv1, "--x");
    assert_int_equal(usage_stdout + usage_stderr, 0);
}

static void
test_run_unknown_is_usage_error(void **state)
{
    struct cmdtab t = table(false);
    char w0[] = "gamma";
    char *argv[] = {w0, NULL};

    (void)state;
    assert_int_equal(cmdtab_run(&t, 1, argv), 2);
    assert_int_equal(last_argc, 0); /* nothing ran */
    assert_int_equal(usage_stderr, 1);
    assert_int_equal(usage_stdout, 0);
}

static void
test_help_without_command_prints_usage(void **state)
{
    struct cmdtab t = table(true);
    char w0[] = "HELP";
    char *argv[] = {w0, NULL};

    (void)state;
    assert_int_equal(cmdtab_help(&t, 1, argv), 0);
    assert_int_equal(usage_stdout, 1);
    assert_int_equal(usage_stderr, 0);
    assert_int_equal(last_argc, 0);
}

static void
test_help_runs_the_commands_own_help(void **state)
{
    struct cmdtab t = table(true);
    char w0[] = "HELP", w1[] = "alpha", w2[] = "ignored";
    char *argv[] = {w0, w1, w2, NULL};

    (void)state;
    assert_int_equal(cmdtab_help(&t, 3, argv), 11);
    assert_int_equal(last_argc, 2);
    assert_string_equal(last_argv0, "alpha");
    assert_string_equal(last_argv1, "--help");
    assert_int_equal(usage_stdout + usage_stderr, 0);
}

static void
test_help_unknown_command_is_usage_error(void **state)
{
    struct cmdtab t = table(false);
    char w0[] = "help", w1[] = "Beta";
    char *argv[] = {w0, w1, NULL};

    (void)state;
    assert_int_equal(cmdtab_help(&t, 2, argv), 2);
    assert_int_equal(last_argc, 0);
    assert_int_equal(usage_stderr, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_find_exact_and_case_blind, reset),
        cmocka_unit_test_setup(test_run_passes_arguments_and_status, reset),
        cmocka_unit_test_setup(test_run_unknown_is_usage_error, reset),
        cmocka_unit_test_setup(test_help_without_command_prints_usage, reset),
        cmocka_unit_test_setup(test_help_runs_the_commands_own_help, reset),
        cmocka_unit_test_setup(test_help_unknown_command_is_usage_error,
                               reset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
