/* test_eval.c -- the evaluator through its C API (no REPL). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "expr.h"
#include "num.h"
#include "session.h"




START_TEST(test_values_print)
{
    SlSession *s = session();
    expect(s, "1 + 2", "3\n");
    expect(s, "7/2", "3.5\n");
    expect(s, "\"abc\"", "'abc'\n");
    expect(s, "[1, 2.5, \"s\"]", "[1, 2.5, 's']\n");
    expect(s, "(1,)", "(1,)\n");
    expect(s, "True", "True\n");
    expect(s, "None", "");
    expect(s, "1 + 2;", "");
    expect(s, "x = 5", "");
    expect(s, "x", "5\n");
    sl_session_free(s);
}
END_TEST

START_TEST(test_functions)
{
    SlSession *s = session();
    expect(s, "f(x) = x^2 + x - 6", "");
    expect(s, "f(1)", "-4\n");
    expect(s, "f(1.0)", "-4.0\n");
    expect(s, "f(0.5)", "-5.25\n");
    expect(s, "def g(a, b=10) { c = a + b\n return c * 2 }", "");
    expect(s, "g(1)", "22\n");
    expect(s, "g(1, b=2)", "6\n");
    expect(s, "c", "c\n"); /* locals stay local: c is still a symbol */
    sl_session_free(s);
}
END_TEST

START_TEST(test_control_flow)
{
    SlSession *s = session();
    expect(s, "t = 0\nfor i in range(5) { t += i }\nt", "10\n");
    expect(s, "n = 0\nwhile true { n += 1\n if n >= 3 { break } }\nn", "3\n");
    expect(s, "for i in range(4) { if i % 2 == 0 { continue }\n print(i) }", "1\n3\n");
    expect(s, "if 1 > 2 { print(\"a\") } else if 2 > 1 { print(\"b\") } else { print(\"c\") }", "b\n");
    sl_session_free(s);
}
END_TEST

START_TEST(test_failed_statement_changes_nothing)
{
    SlSession *s = session();
    expect(s, "x = 1", "");
    SlRunStatus st;
    char *out = run(s, "x = 1/0", &st);
    ck_assert_int_eq(st, SL_RUN_ERROR);
    ck_assert_ptr_nonnull(strstr(out, "division by zero"));
    free(out);
    expect(s, "x", "1\n");
    out = run(s, "a, b = [1, 2, 3]", &st);
    ck_assert_int_eq(st, SL_RUN_ERROR);
    free(out);
    expect(s, "a", "a\n");
    sl_session_free(s);
}
END_TEST

START_TEST(test_errors_located)
{
    SlSession *s = session();
    expect(s, "sine(1)", "error: unknown function 'sine'\n  sine(1)\n  ^~~~\nhint: did you mean 'sin'?\n");
    expect(s, "len(3)", "error: object of type 'int' has no len()\n  len(3)\n  ^~~~~~\n");
    SlRunStatus st;
    char *out = run(s, "def r(n) { return r(n + 1) }\nr(0)", &st);
    ck_assert_int_eq(st, SL_RUN_ERROR);
    ck_assert_ptr_nonnull(strstr(out, "maximum recursion depth"));
    free(out);
    sl_session_free(s);
}
END_TEST

START_TEST(test_interrupt)
{
    SlSession *s = session();
    sl_interrupted = 1;
    SlRunStatus st;
    char *out = run(s, "while true { }", &st);
    ck_assert_int_eq(st, SL_RUN_ERROR);
    ck_assert_ptr_nonnull(strstr(out, "interrupted"));
    ck_assert_int_eq(sl_interrupted, 0);
    free(out);
    expect(s, "1 + 1", "2\n");
    sl_session_free(s);
}
END_TEST

START_TEST(test_incomplete)
{
    SlSession *s = session();
    SlSource *src = sl_source_new(NULL, "for i in range(3) {", 19, 1);
    ck_assert_int_eq(sl_session_exec(s, src, false), SL_RUN_INCOMPLETE);
    sl_source_unref(src);
    sl_session_free(s);
}
END_TEST

START_TEST(test_format)
{
    SlSession *s = session();
    expect(s, "\"Epoch {: >8} Loss: {}\".format(100, 0.25)", "'Epoch      100 Loss: 0.25'\n");
    expect(s, "print(\"{:.4f}\".format(2))", "2.0000\n");
    expect(s, "print(\"{1}{0}\".format(\"a\", \"b\"))", "ba\n");
    sl_session_free(s);
}
END_TEST

START_TEST(test_no_leaks_in_loops)
{
    /* symbolic values made in a loop do not pile up */
    SlSession *s = session();
    size_t before = sl_expr_live_count();
    expect(s, "for i in range(1000) { e = (y + i)^2 }", "");
    expect(s, "e = 0", "");
    ck_assert_uint_le(sl_expr_live_count(), before + 4);
    sl_session_free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *su = suite_create("eval");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_values_print);
    tcase_add_test(tc, test_functions);
    tcase_add_test(tc, test_control_flow);
    tcase_add_test(tc, test_failed_statement_changes_nothing);
    tcase_add_test(tc, test_errors_located);
    tcase_add_test(tc, test_interrupt);
    tcase_add_test(tc, test_incomplete);
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_no_leaks_in_loops);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
