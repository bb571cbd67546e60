/*
 * test_cgpdict.c -- CGP dictionary syntax parser: values, lines, errors,
 * caps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "caps.h"
#include "cgpdict.h"

static struct cgpdict *
parse_ok(const char *text)
{
    struct cgpdict *d = NULL;
    struct cgpdict_error err = {0, NULL};
    enum cm_err rc;

    rc = cgpdict_parse((const uint8_t *)text, strlen(text), &d, &err);
    if (rc != CM_OK) {
        print_error("parse failed at line %u: %s\n", err.line, err.why);
    }
    assert_int_equal(rc, CM_OK);
    assert_non_null(d);
    return d;
}

static void
parse_bad(const char *text, size_t len, enum cm_err want, unsigned want_line)
{
    struct cgpdict *d = (struct cgpdict *)&d; /* must stay untouched */
    struct cgpdict_error err = {0, NULL};

    assert_int_equal(cgpdict_parse((const uint8_t *)text, len, &d, &err),
                     want);
    assert_ptr_equal(d, (struct cgpdict *)&d);
    assert_non_null(err.why);
    if (want_line != 0) {
        assert_int_equal(err.line, want_line);
    }
}

static void
test_cgpdict_dictionary(void **state)
{
    const char *text = "{\n"
                       "  HeaderJunkScore = \"X-Junk-Score\";\n"
                       "  AlertThreshold = 90;\n"
                       "  BarLevels = (0, 39, 80);\n"
                       "  Empty = ();\n"
                       "  Sub = { a = b; };\n"
                       "}\n";
    struct cgpdict *d = parse_ok(text);
    const struct cgpdict_node *root = cgpdict_root(d);
    const struct cgpdict_node *n;

    (void)state;
    assert_int_equal(root->type, CGPDICT_DICT);
    assert_int_equal(root->n_children, 5);
    n = cgpdict_get(root, "HeaderJunkScore");
    assert_non_null(n);
    assert_int_equal(n->type, CGPDICT_STRING);
    assert_true(n->is_quoted);
    assert_string_equal(n->text, "X-Junk-Score");
    assert_int_equal(n->line, 2);
    assert_int_equal(n->key_line, 2);
    n = cgpdict_get(root, "AlertThreshold");
    assert_false(n->is_quoted);
    assert_string_equal(n->text, "90");
    assert_int_equal(n->line, 3);
    n = cgpdict_get(root, "BarLevels");
    assert_int_equal(n->type, CGPDICT_ARRAY);
    assert_int_equal(n->n_children, 3);
    assert_string_equal(n->child->text, "0");
    assert_string_equal(n->child->next->text, "39");
    assert_string_equal(n->child->next->next->text, "80");
    assert_null(n->child->next->next->next);
    assert_null(n->child->key);
    n = cgpdict_get(root, "Empty");
    assert_int_equal(n->type, CGPDICT_ARRAY);
    assert_int_equal(n->n_children, 0);
    assert_null(n->child);
    n = cgpdict_get(root, "Sub");
    assert_int_equal(n->type, CGPDICT_DICT);
    assert_string_equal(cgpdict_get(n, "a")->text, "b");
    assert_int_equal(cgpdict_count(d), 10);
    cgpdict_free(d);
}

static void
test_cgpdict_lookup_case(void **state)
{
    struct cgpdict *d = parse_ok("{ Key = v1; key = v2; Key = v3; }");
    const struct cgpdict_node *root = cgpdict_root(d);

    (void)state;
    assert_string_equal(cgpdict_get(root, "Key")->text, "v1");
    assert_string_equal(cgpdict_get(root, "key")->text, "v2");
    assert_null(cgpdict_get(root, "KEY"));
    assert_string_equal(cgpdict_get_ci(root, "KEY")->text, "v1");
    assert_null(cgpdict_get(root, "Ke"));
    assert_null(cgpdict_get(NULL, "Key"));
    /* Not a dictionary. */
    assert_null(cgpdict_get(root->child, "Key"));
    cgpdict_free(d);
}

static void
test_cgpdict_missing_final_semicolon(void **state)
{
    struct cgpdict *d = parse_ok("{a=1;b=2}");

    (void)state;
    assert_int_equal(cgpdict_root(d)->n_children, 2);
    assert_string_equal(cgpdict_get(cgpdict_root(d), "b")->text, "2");
    cgpdict_free(d);
    d = parse_ok("{}");
    assert_int_equal(cgpdict_root(d)->n_children, 0);
    cgpdict_free(d);
}

static void
test_cgpdict_atoms(void **state)
{
    struct cgpdict *d = parse_ok(
        "(abc, 5s, 10m, -50, a_b.c@d!e%f:g/h, caf\xc3\xa9, 00:00)");
    const struct cgpdict_node *n = cgpdict_root(d)->child;
    static const char *const want[] = {"abc", "5s", "10m", "-50",
                                       "a_b.c@d!e%f:g/h", "caf\xc3\xa9",
                                       "00:00"};

    (void)state;
    for (size_t i = 0; i < 7; i++) {
        assert_non_null(n);
        assert_int_equal(n->type, CGPDICT_STRING);
        assert_string_equal(n->text, want[i]);
        n = n->next;
    }
    assert_null(n);
    cgpdict_free(d);
}

static void
test_cgpdict_quoted_concat_and_escapes(void **state)
{
    struct cgpdict *d =
        parse_ok("{ k = \"ab\"  \"cd\"\n  \"ef\"; e = \"\"; "
                 "x = \"a\\eb\\tc\\\"d\\\\e\\000f\"; }");
    const struct cgpdict_node *root = cgpdict_root(d);
    const struct cgpdict_node *n;

    (void)state;
    n = cgpdict_get(root, "k");
    assert_string_equal(n->text, "abcdef");
    assert_int_equal(n->text_len, 6);
    n = cgpdict_get(root, "e");
    assert_true(n->is_quoted);
    assert_int_equal(n->text_len, 0);
    n = cgpdict_get(root, "x");
    assert_int_equal(n->text_len, 11);
    assert_memory_equal(n->text, "a\nb\tc\"d\\e\0f", 11);
    /* The line after the joined string is counted. */
    assert_int_equal(cgpdict_get(root, "e")->line, 2);
    cgpdict_free(d);
}

static void
test_cgpdict_quoted_keys(void **state)
{
    struct cgpdict *d = parse_ok("{ \"a key\" = 1; \"\" = 2; }");

    (void)state;
    assert_string_equal(cgpdict_get(cgpdict_root(d), "a key")->text, "1");
    assert_string_equal(cgpdict_get(cgpdict_root(d), "")->text, "2");
    cgpdict_free(d);
}

static void
test_cgpdict_datablock_and_scalars(void **state)
{
    struct cgpdict *d =
        parse_ok("{ b = [HcqH\nfHI=]; n = #50; m = #-50; t = "
                 "#T22-10-2009_15:24:45;\n ip = #I[10.0.44.55]:25; "
                 "v6 = #I[2001:470::1]; z = #NULL#; }");
    const struct cgpdict_node *root = cgpdict_root(d);
    const struct cgpdict_node *n;

    (void)state;
    n = cgpdict_get(root, "b");
    assert_int_equal(n->type, CGPDICT_DATA);
    assert_string_equal(n->text, "HcqH\nfHI=");
    n = cgpdict_get(root, "n");
    assert_int_equal(n->type, CGPDICT_SCALAR);
    assert_string_equal(n->text, "#50");
    assert_string_equal(cgpdict_get(root, "m")->text, "#-50");
    assert_string_equal(cgpdict_get(root, "t")->text,
                        "#T22-10-2009_15:24:45");
    n = cgpdict_get(root, "ip");
    assert_string_equal(n->text, "#I[10.0.44.55]:25");
    assert_int_equal(n->line, 3);
    assert_string_equal(cgpdict_get(root, "v6")->text, "#I[2001:470::1]");
    assert_string_equal(cgpdict_get(root, "z")->text, "#NULL#");
    cgpdict_free(d);
}

static void
test_cgpdict_comments(void **state)
{
    const char *text = "# a comment\n"
                       "{\n"
                       "  #\n"
                       "  # Threshold:\n"
                       "  A = 1; # trailing comment\n"
                       "  B = #5;\n"
                       "}\n"
                       "# after\n"
                       "#";
    struct cgpdict *d = parse_ok(text);
    const struct cgpdict_node *root = cgpdict_root(d);

    (void)state;
    assert_int_equal(root->line, 2);
    assert_int_equal(root->n_children, 2);
    assert_int_equal(cgpdict_get(root, "A")->line, 5);
    assert_string_equal(cgpdict_get(root, "B")->text, "#5");
    assert_int_equal(cgpdict_get(root, "B")->line, 6);
    cgpdict_free(d);
}

static void
test_cgpdict_top_level_scalar(void **state)
{
    struct cgpdict *d = parse_ok("  hello  ");

    (void)state;
    assert_int_equal(cgpdict_root(d)->type, CGPDICT_STRING);
    assert_string_equal(cgpdict_root(d)->text, "hello");
    cgpdict_free(d);
}

static void
test_cgpdict_crlf_lines(void **state)
{
    struct cgpdict *d = parse_ok("{\r\na = 1;\r\n\r\nb = 2;\r\n}\r\n");

    (void)state;
    assert_int_equal(cgpdict_get(cgpdict_root(d), "b")->line, 4);
    cgpdict_free(d);
}

static void
test_cgpdict_syntax_errors(void **state)
{
    static const struct {
        const char *text;
        unsigned line;
    } cases[] = {
        {"", 1},
        {"  \n # only a comment\n", 3},
        {"{ a = 1; ", 1},
        {"{ a = 1 b = 2; }", 1},
        {"{ a 1; }", 1},
        {"{\n = 1; }", 2},
        {"{ a = ; }", 1},
        {"( 1, 2", 1},
        {"( 1 2 )", 1},
        {"( 1, )", 1},
        {"{ a = \"abc; }", 1},
        {"{ a = \"a\\qb\"; }", 1},
        {"{ a = [abc; }", 1},
        {"{ a = #I[1.2.3.4; }", 1},
        {"{ a = #{; }", 1},
        {"{ a = 1; }\n junk", 2},
        {"{ a = 1; } }", 1},
        {"\x01", 1},
        {"{ a = b c; }", 1},
        {")", 1},
        {"{\n\n a = <x>; }", 3},
        /* A missing separator is reported on the line of the value. */
        {"{\n a = 1\n b = 2; }", 2},
        {"(\n 1\n\n 2 )", 2},
        /* Also after a quoted value, whose blanks were looked past for
         * a "..." to join: HeaderScore = "X-Foo" without ';' is line 2. */
        {"{\n a = \"x\"\n b = 2; }", 2},
        {"{\n a = \"x\" \"y\"\n\n b = 2; }", 2},
        {"(\n \"x\"\n\n 2 )", 2},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parse_bad(cases[i].text, strlen(cases[i].text), CM_EPARSE,
                  cases[i].line);
    }
    /* NULL input is empty input. */
    parse_bad(NULL, 5, CM_EPARSE, 1);
}

static void
test_cgpdict_embedded_nul_in_input(void **state)
{
    const char text[] = "{ a = b\0c; }";

    (void)state;
    parse_bad(text, sizeof(text) - 1, CM_EPARSE, 1);
}

/* Depth: CAPS_CGPDICT_DEPTH_MAX nested containers parse, one more fails. */
static void
test_cgpdict_depth_cap(void **state)
{
    char text[2 * CAPS_CGPDICT_DEPTH_MAX + 8];
    struct cgpdict *d = NULL;
    struct cgpdict_error err;
    size_t n;

    (void)state;
    for (n = CAPS_CGPDICT_DEPTH_MAX; n <= CAPS_CGPDICT_DEPTH_MAX + 1; n++) {
        for (size_t i = 0; i < n; i++) {
            text[i] = '(';
            text[2 * n - 1 - i] = ')';
        }
        if (n == CAPS_CGPDICT_DEPTH_MAX) {
            assert_int_equal(cgpdict_parse((const uint8_t *)text, 2 * n, &d,
                                           &err),
                             CM_OK);
            assert_int_equal(cgpdict_count(d), n);
            cgpdict_free(d);
        } else {
            parse_bad(text, 2 * n, CM_ELIMIT, 1);
        }
    }
}

/* A hostile nesting far past the cap fails quickly, without recursion
 * beyond the cap. */
static void
test_cgpdict_deep_hostile(void **state)
{
    size_t n = 100000;
    char *text = malloc(n);

    (void)state;
    assert_non_null(text);
    memset(text, '{', n);
    parse_bad(text, n, CM_EPARSE, 1); /* '{' is not a key */
    memset(text, '(', n);
    parse_bad(text, n, CM_ELIMIT, 1);
    free(text);
}

static char *
array_of(size_t n_elems, size_t *len)
{
    struct buf b;
    char *out;

    buf_init(&b, 8 * 1024 * 1024);
    buf_putc(&b, '(');
    for (size_t i = 0; i < n_elems; i++) {
        buf_puts(&b, i == 0 ? "x" : ",x");
    }
    buf_putc(&b, ')');
    out = malloc(b.len + 1);
    memcpy(out, b.data, b.len);
    *len = b.len;
    buf_clear(&b);
    return out;
}

static void
test_cgpdict_nodes_cap(void **state)
{
    size_t len;
    char *text;
    struct cgpdict *d = NULL;
    struct cgpdict_error err;

    (void)state;
    /* The array itself is one value. */
    text = array_of(CAPS_CGPDICT_NODES_MAX - 1, &len);
    assert_int_equal(cgpdict_parse((const uint8_t *)text, len, &d, &err),
                     CM_OK);
    assert_int_equal(cgpdict_count(d), CAPS_CGPDICT_NODES_MAX);
    cgpdict_free(d);
    free(text);
    text = array_of(CAPS_CGPDICT_NODES_MAX, &len);
    parse_bad(text, len, CM_ELIMIT, 1);
    free(text);
}

static void
test_cgpdict_string_cap(void **state)
{
    size_t n = CAPS_CGPDICT_STRING_MAX;
    char *text = malloc(n + 3);
    struct cgpdict *d = NULL;
    struct cgpdict_error err;

    (void)state;
    assert_non_null(text);
    /* Atom at the cap, then one byte more. */
    memset(text, 'a', n + 1);
    assert_int_equal(cgpdict_parse((const uint8_t *)text, n, &d, &err),
                     CM_OK);
    assert_int_equal(cgpdict_root(d)->text_len, n);
    cgpdict_free(d);
    parse_bad(text, n + 1, CM_ELIMIT, 1);
    /* Quoted string at the cap and past it. */
    text[0] = '"';
    text[n + 1] = '"';
    assert_int_equal(cgpdict_parse((const uint8_t *)text, n + 2, &d, &err),
                     CM_OK);
    cgpdict_free(d);
    text[n + 2] = '"';
    text[n + 1] = 'a';
    parse_bad(text, n + 3, CM_ELIMIT, 1);
    free(text);
}

static void
test_cgpdict_input_cap(void **state)
{
    size_t n = CAPS_CONFIG_FILE_MAX_BYTES + 1;
    char *text = malloc(n);

    (void)state;
    assert_non_null(text);
    memset(text, ' ', n);
    text[0] = 'a';
    parse_bad(text, n, CM_ELIMIT, 1);
    free(text);
}

static void
test_cgpdict_enomem(void **state)
{
    struct cgpdict *d = NULL;
    struct cgpdict_error err;
    const char *text = "{ a = \"b\"; }";

    (void)state;
    buf_test_fail_nth_alloc(1);
    assert_int_equal(cgpdict_parse((const uint8_t *)text, strlen(text), &d,
                                   &err),
                     CM_ENOMEM);
    buf_test_fail_nth_alloc(0);
    assert_null(d);
    assert_string_equal(cgpdict_type_name(CGPDICT_DATA), "datablock");
    cgpdict_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cgpdict_dictionary),
        cmocka_unit_test(test_cgpdict_lookup_case),
        cmocka_unit_test(test_cgpdict_missing_final_semicolon),
        cmocka_unit_test(test_cgpdict_atoms),
        cmocka_unit_test(test_cgpdict_quoted_concat_and_escapes),
        cmocka_unit_test(test_cgpdict_quoted_keys),
        cmocka_unit_test(test_cgpdict_datablock_and_scalars),
        cmocka_unit_test(test_cgpdict_comments),
        cmocka_unit_test(test_cgpdict_top_level_scalar),
        cmocka_unit_test(test_cgpdict_crlf_lines),
        cmocka_unit_test(test_cgpdict_syntax_errors),
        cmocka_unit_test(test_cgpdict_embedded_nul_in_input),
        cmocka_unit_test(test_cgpdict_depth_cap),
        cmocka_unit_test(test_cgpdict_deep_hostile),
        cmocka_unit_test(test_cgpdict_nodes_cap),
        cmocka_unit_test(test_cgpdict_string_cap),
        cmocka_unit_test(test_cgpdict_input_cap),
        cmocka_unit_test(test_cgpdict_enomem),
    };

    return cmocka_run_group_tests_name("cgpdict", tests, NULL, NULL);
}
