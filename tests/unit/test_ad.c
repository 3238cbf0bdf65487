/* test_ad.c -- the differential test: every derivative problem through the
 * symbolic, forward and reverse engines and a central finite difference at
 * extra precision, at 53 and 256 bits, at several points each.
 *
 * Drives the engines through ad.h (the C API the builtins use); the session
 * is used only to parse each problem's expression.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad.h"
#include "eval.h"
#include "expr.h"
#include "num.h"

typedef struct Problem {
    const char *expr;    /* in x, or in x and y (variables in order of appearance) */
    const char *points;  /* ';'-separated points, each 'a' or 'a,b' */
    int smooth;          /* 0: a kink at some point: skip the finite difference there */
} Problem;

static const Problem problems[] = {
    /* elementary functions */
    {"x^2", "0;1.5;-2", 1},
    {"x^3", "0;0.5;-3", 1},
    {"x^5 - 3x^2 + 2", "0.25;1;-1.5", 1},
    {"1/x", "0.5;2;-3", 1},
    {"x^-2", "0.5;2;-1.25", 1},
    {"sqrt(x)", "0.25;2;9", 1},
    {"cbrt(x)", "0.5;8;-2", 1},
    {"exp(x)", "0;1;-2.5", 1},
    {"log(x)", "0.5;1;10", 1},
    {"log2(x)", "0.5;3;64", 1},
    {"log10(x)", "0.1;7;1000", 1},
    {"sin(x)", "0;1;-2", 1},
    {"cos(x)", "0;1;3", 1},
    {"tan(x)", "0;0.5;-1.2", 1},
    {"asin(x)", "0;0.5;-0.9", 1},
    {"acos(x)", "0;0.3;-0.7", 1},
    {"atan(x)", "0;1;-5", 1},
    {"sinh(x)", "0;1;-2", 1},
    {"cosh(x)", "0;1.5;-2", 1},
    {"tanh(x)", "0;0.5;-3", 1},
    {"sigmoid(x)", "0;2;-4", 1},
    {"exp(-x)", "0;1;-1", 1},
    {"2^x", "0;1.5;-2", 1},
    {"x^x", "0.5;1;2.5", 1},
    {"x^0.75", "0.5;2;3", 1},
    {"abs(x)", "1.5;-2;0", 0},
    {"relu(x)", "1.5;-2;0", 0},
    {"floor(x)", "1.5;-2.25;0.5", 1},
    {"ceil(x)", "1.5;-2.25;0.5", 1},
    {"heaviside(x) * x^2", "1.5;-2;0.5", 1},
    {"sign(x) * x", "1.5;-2;0.5", 1},
    /* compositions */
    {"sin(x^2)", "0;1;-1.5", 1},
    {"exp(sin(x))", "0;0.5;2", 1},
    {"log(1 + x^2)", "0;1;-3", 1},
    {"sqrt(1 + x^2)", "0;1;-2", 1},
    {"tanh(2x + 1)", "0;0.5;-1", 1},
    {"sigmoid(3x)", "0;0.2;-1", 1},
    {"atan(1/x)", "0.5;2;-1", 1},
    {"cos(exp(x))", "0;0.5;-1", 1},
    {"sin(cos(tan(x)))", "0;0.5;-0.7", 1},
    {"exp(exp(x))", "0;0.5;-1", 1},
    {"log(log(x))", "2;3;10", 1},
    {"(x^2 + 1)^10", "0;0.5;-1", 1},
    {"(1 + x)^0.5", "0;1;3", 1},
    {"sqrt(sin(x)^2 + 1)", "0;1;2", 1},
    {"exp(-x^2/2)", "0;1;-2", 1},
    {"log(sigmoid(x))", "0;2;-3", 1},
    {"tanh(tanh(tanh(x)))", "0;0.5;-1", 1},
    {"asin(x/2)^2", "0;1;-1.5", 1},
    {"atan(x^3 - x)", "0;1;-2", 1},
    {"sinh(x)/cosh(x)", "0;1;-2", 1},
    {"log10(x^2 + 3)", "0;1;-2", 1},
    {"cbrt(x^2 + 1)", "0;1;-2", 1},
    {"relu(sin(x))", "1;-1;2", 1},
    {"abs(x^3 - 1)", "2;0.5;-1", 1},
    {"exp(relu(x))", "1;-1;0.5", 1},
    /* products and quotients */
    {"x*sin(x)", "0;1;-2", 1},
    {"x^2*exp(x)", "0;1;-1", 1},
    {"sin(x)/x", "0.5;1;-2", 1},
    {"sin(x)/x", "0.00001;1e-3;3", 1},
    {"(x^2 - 1)/(x^2 + 1)", "0;1;-2", 1},
    {"exp(x)/(1 + exp(x))", "0;1;-2", 1},
    {"x*log(x)", "0.5;1;3", 1},
    {"tan(x)/x", "0.5;1;-0.3", 1},
    {"x/(1 + x^2)^2", "0;1;-2", 1},
    {"sin(x)*cos(x)*tan(x)", "0.3;1;-0.5", 1},
    {"(x + 1)*(x + 2)*(x + 3)", "0;1;-2", 1},
    {"x^2*log(x)^2", "0.5;2;3", 1},
    {"exp(x)*sin(x)*cos(x)", "0;1;-2", 1},
    {"1/(x^2 + x + 1)", "0;1;-2", 1},
    {"x/sqrt(x^2 + 1)", "0;1;-2", 1},
    {"(3x + 2)/(x - 4)", "0;1;-2", 1},
    {"x^3/3 - x", "0;1;-2", 1},
    {"x/3", "0;1;-2", 1},
    /* symbolic exponents */
    {"x^sin(x)", "0.5;1;2", 1},
    {"sin(x)^cos(x)", "0.5;1;1.5", 1},
    {"2^(x^2)", "0;1;-1.5", 1},
    {"exp(x)^x", "0;1;-1", 1},
    {"x^(1/x)", "0.5;1;3", 1},
    {"(1 + 1/x)^x", "0.5;1;10", 1},
    {"x^(x^x)", "0.5;1;1.5", 1},
    {"3^sin(x)", "0;1;-2", 1},
    /* awkward points */
    {"x^2", "0;1e-300;-1e-10", 1},
    {"log(x)", "1e-8;1e-100;1e-300", 1},
    {"x^3", "0;1e-100;-1e-5", 1},
    {"x*abs(x)", "0;1;-1", 0},
    {"relu(x)^2", "0;1;-1", 0},
    {"max(x, 0.5)", "1;0;0.5", 0},
    {"min(x, 2x)", "1;-1;0", 0},
    {"sqrt(x^2 + 1e-30)", "0;1;-1", 1},
    {"exp(x) - 1", "1e-10;0;-1e-10", 1},
    /* multivariate (x, y) */
    {"x*y", "1,2;0,0;-1.5,3", 1},
    {"x^2*y + y^3", "1,2;0,1;-1,-2", 1},
    {"sin(x*y)", "1,2;0,0.5;-1,3", 1},
    {"exp(x)*cos(y)", "0,0;1,2;-1,-0.5", 1},
    {"atan2(y, x)", "1,1;2,-1;-1,0.5", 1},
    {"sqrt(x^2 + y^2)", "3,4;1,1;-2,0.5", 1},
    {"x^y", "2,3;0.5,1.5;3,-1", 1},
    {"log(x + y)", "1,2;0.5,0.5;3,-1", 1},
    {"(x - y)/(x + y)", "1,2;3,1;-1,-2", 1},
    {"x^3*y^2 + sin(x*y)", "1,2;0,0;-1,0.5", 1},
    {"100(y - x^2)^2 + (1 - x)^2", "1,1;1.5,1.5;-1.2,1", 1},
    {"x*exp(-(x^2 + y^2))", "0,0;1,0.5;-1,-1", 1},
    {"sigmoid(x*y + x)", "0,0;1,2;-1,0.5", 1},
    {"tanh(x)*tanh(y)", "0,0;1,2;-1,0.5", 1},
    {"x/y + y/x", "1,2;3,1;-1,-2", 1},
    {"log(exp(x) + exp(y))", "0,0;1,2;-3,5", 1},
};

#define NPROB (sizeof problems / sizeof problems[0])

static SlSession *session;

static SlValue *parse_expr(const char *text)
{
    char buf[512];
    snprintf(buf, sizeof buf, "__e = %s", text);
    FILE *null = fopen("/dev/null", "w");
    sl_session_set_output(session, null, null);
    SlRunStatus st = sl_session_exec_text(session, NULL, buf, 1, true);
    sl_session_set_output(session, stdout, stderr);
    fclose(null);
    ck_assert_msg(st == SL_RUN_OK, "cannot parse %s", text);
    return sl_session_get(session, "__e");
}

/* Parse "a,b" into number values at the session precision. */
static size_t parse_point(const char *s, SlValue **out)
{
    size_t n = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok && n < 4; tok = strtok(NULL, ",")) {
        SlError err = {0};
        out[n++] = strpbrk(tok, ".e") ? sl_num_parse_float(tok, &err) : sl_num_parse_int(tok, &err);
        ck_assert_ptr_nonnull(out[n - 1]);
    }
    return n;
}

/* |a - b| <= tol * max(|a|, |b|, floor) ; both values numbers */
static bool close_to(SlValue *a, SlValue *b, mpfr_prec_t prec, long bits_lost, double floor_abs)
{
    mpfr_t x, y, d, m;
    mpfr_inits2(prec + 16, x, y, d, m, (mpfr_ptr)0);
    sl_num_to_mpfr(x, a);
    sl_num_to_mpfr(y, b);
    bool ok;
    if (mpfr_inf_p(x) || mpfr_inf_p(y) || mpfr_nan_p(x) || mpfr_nan_p(y)) {
        ok = mpfr_equal_p(x, y) || (mpfr_nan_p(x) && mpfr_nan_p(y));
    } else {
        mpfr_sub(d, x, y, MPFR_RNDN);
        mpfr_abs(d, d, MPFR_RNDN);
        mpfr_abs(x, x, MPFR_RNDN);
        mpfr_abs(y, y, MPFR_RNDN);
        mpfr_max(m, x, y, MPFR_RNDN);
        if (mpfr_cmp_d(m, floor_abs) < 0)
            mpfr_set_d(m, floor_abs, MPFR_RNDN);
        mpfr_mul_2si(m, m, -(long)prec + bits_lost, MPFR_RNDN);
        ok = mpfr_cmp(d, m) <= 0;
    }
    mpfr_clears(x, y, d, m, (mpfr_ptr)0);
    return ok;
}

static char *show(SlValue *v)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    if (v)
        sl_repr(&b, v);
    else
        sl_buf_puts(&b, "(error)");
    return sl_buf_take(&b);
}

static int checked;

static void run_problem(size_t i, mpfr_prec_t prec)
{
    const Problem *p = &problems[i];
    sl_num_set_prec(prec);
    SlValue *e = parse_expr(p->expr);
    char pts[256];
    snprintf(pts, sizeof pts, "%s", p->points);
    char *save = NULL;
    for (char *pt = strtok_r(pts, ";", &save); pt; pt = strtok_r(NULL, ";", &save)) {
        SlValue *xs[4];
        size_t n = parse_point(pt, xs);
        SlValue *point = sl_list_new(n);
        for (size_t k = 0; k < n; k++)
            sl_list_push_take(point, xs[k]);
        SlValue *res[4];
        SlError errs[4];
        static const SlEngine engines[4] = {SL_ENGINE_SYMBOLIC, SL_ENGINE_FORWARD, SL_ENGINE_REVERSE, SL_ENGINE_FINITE};
        for (int k = 0; k < 4; k++) {
            memset(&errs[k], 0, sizeof errs[k]);
            res[k] = sl_ad_grad(session, e, point, engines[k], &errs[k]);
        }
        /* the three engines agree with one another: all fail alike or agree to a few ulps */
        for (int k = 0; k < 3; k++) {
            ck_assert_msg((res[k] != NULL) == (res[2] != NULL), "%s at %s (%ld bits): engine %d %s, reverse %s",
                          p->expr, pt, (long)prec, k, res[k] ? "ok" : errs[k].msg, res[2] ? "ok" : errs[2].msg);
            if (!res[k])
                continue;
            for (size_t v = 0; v < n; v++) {
                SlValue *a = res[k]->u.list.items[v], *b = res[2]->u.list.items[v];
                char *sa = show(a), *sb = show(b);
                ck_assert_msg(close_to(a, b, prec, 6, 1e-300), "%s at %s (%ld bits), d/dv%zu: engine %d %s vs reverse %s",
                              p->expr, pt, (long)prec, v, k, sa, sb);
                free(sa);
                free(sb);
                checked++;
            }
        }
        /* the finite difference agrees where the function is smooth */
        bool kink = !p->smooth && (strcmp(pt, "0") == 0 || strcmp(pt, "0.5") == 0);
        if (res[2] && res[3] && !kink) {
            for (size_t v = 0; v < n; v++) {
                SlValue *a = res[3]->u.list.items[v], *b = res[2]->u.list.items[v];
                char *sa = show(a), *sb = show(b);
                ck_assert_msg(close_to(a, b, prec, 10, 1.0), "%s at %s (%ld bits), d/dv%zu: finite %s vs reverse %s",
                              p->expr, pt, (long)prec, v, sa, sb);
                free(sa);
                free(sb);
                checked++;
            }
        }
        for (int k = 0; k < 4; k++) {
            sl_unref(res[k]);
            sl_err_clear(&errs[k]);
        }
        sl_unref(point);
    }
    sl_unref(e);
    sl_num_set_prec(53);
}

START_TEST(test_differential_53) { run_problem((size_t)_i, 53); }
END_TEST

START_TEST(test_differential_256) { run_problem((size_t)_i, 256); }
END_TEST

START_TEST(test_problem_count) { ck_assert_uint_ge(NPROB, 100); }
END_TEST

/* f'(1) for f(x) = x² + x − 6 is the int 3 by every engine. */
START_TEST(test_exact_derivative)
{
    SlValue *f = parse_expr("x^2 + x - 6");
    SlValue *one = sl_int_si(1);
    static const SlEngine engines[3] = {SL_ENGINE_SYMBOLIC, SL_ENGINE_FORWARD, SL_ENGINE_REVERSE};
    for (int k = 0; k < 3; k++) {
        SlError err = {0};
        SlValue *d = sl_ad_derivative(session, f, one, 1, engines[k], &err);
        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(d->kind, SL_INT);
        ck_assert_int_eq(mpz_get_si(d->u.z), 3);
        sl_unref(d);
    }
    SlError err = {0};
    SlValue *d2 = sl_ad_derivative(session, f, one, 2, SL_ENGINE_FORWARD, &err);
    ck_assert_ptr_nonnull(d2);
    ck_assert_int_eq(mpz_get_si(d2->u.z), 2);
    sl_unref(d2);
    sl_unref(one);
    sl_unref(f);
}
END_TEST

static void setup(void)
{
    session = sl_session_new();
    sl_session_set_mode(session, SL_MODE_CHECK);
}

static void teardown(void)
{
    sl_session_free(session);
    session = NULL;
}

int main(void)
{
    Suite *su = suite_create("ad");
    TCase *tc = tcase_create("differential");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_problem_count);
    tcase_add_test(tc, test_exact_derivative);
    tcase_add_loop_test(tc, test_differential_53, 0, (int)NPROB);
    tcase_add_loop_test(tc, test_differential_256, 0, (int)NPROB);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("%d comparisons\n", checked);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
