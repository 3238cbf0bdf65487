/* test_forward.c -- forward mode (forward.c) through its C API.
 *
 * References: closed forms of the derivatives computed in MPFR (exp, sin,
 * cos, log, 1/x, x^n exactly, the power rule), and for everything else a
 * central finite difference of order k at 1600 bits with h = 2^-200, whose
 * error (about h^2 = 2^-400) is far below the 256 bits the series are
 * computed at.  The 10th derivative of exp(sin(x)) at 0.5 is checked to
 * 1000 digits against the same series at higher precision and against
 * mpmath (tests/bench/forward_peers.py c-literal 1000).  Then domain
 * errors, the conventions at non-smooth points, aliasing, mixed orders and
 * precisions; the scratch pool is released after every test so that ASan
 * sees no leak.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "forward.h"
#include "num.h"

#define P 256       /* precision of the series under test */
#define HP 1600     /* precision of the finite-difference references */
#define HEXP 200    /* h = 2^-HEXP */
#define K 5         /* derivatives 0..K */

#define RNDN MPFR_RNDN

typedef void (*RealFn)(mpfr_ptr y, mpfr_srcptr x); /* y = f(x) at y's precision */
typedef bool (*SerFn)(SlTaylor *r, const SlTaylor *x, SlError *err);

static void teardown(void)
{
    sl_forward_release();
    mpfr_free_cache();
}

static bool fn1(SlTaylor *r, SlMathFn fn, const SlTaylor *x, SlError *err)
{
    const SlTaylor *args[1] = {x};
    return sl_taylor_fn(r, fn, args, 1, err);
}

static bool fn2(SlTaylor *r, SlMathFn fn, const SlTaylor *x, const SlTaylor *y, SlError *err)
{
    const SlTaylor *args[2] = {x, y};
    return sl_taylor_fn(r, fn, args, 2, err);
}

/* The k-th central difference of f at x: sum_i (-1)^i C(k,i) f(x + (k/2 - i) h) / h^k. */
static void fd(mpfr_ptr out, RealFn f, mpfr_srcptr x, int k)
{
    mpfr_t s, y, t;
    mpfr_inits2(HP, s, y, t, (mpfr_ptr)0);
    mpfr_set_zero(s, 1);
    long binom = 1;
    for (int i = 0; i <= k; i++) {
        /* t = x + (k - 2i) h / 2 */
        mpfr_set_si_2exp(t, k - 2 * i, -HEXP - 1, RNDN);
        mpfr_add(t, t, x, RNDN);
        f(y, t);
        mpfr_mul_si(y, y, i % 2 ? -binom : binom, RNDN);
        mpfr_add(s, s, y, RNDN);
        binom = binom * (k - i) / (i + 1);
    }
    mpfr_mul_2si(out, s, (long)HEXP * k, RNDN);
    mpfr_clears(s, y, t, (mpfr_ptr)0);
}

/* |got - want| <= 2^-bits * max(|want|, k!, 1) */
static void assert_close(mpfr_srcptr got, mpfr_srcptr want, int k, long bits, const char *what, double x)
{
    mpfr_t d, scale;
    mpfr_inits2(HP, d, scale, (mpfr_ptr)0);
    mpfr_sub(d, got, want, RNDN);
    mpfr_abs(d, d, RNDN);
    mpfr_fac_ui(scale, (unsigned long)k, RNDN);
    if (mpfr_cmpabs(want, scale) > 0)
        mpfr_abs(scale, want, RNDN);
    mpfr_mul_2si(scale, scale, -bits, RNDN);
    if (!(mpfr_lessequal_p(d, scale))) {
        mpfr_fprintf(stderr, "%s at %g, k=%d: got %.40Rg want %.40Rg\n", what, x, k, got, want);
        ck_abort_msg("%s: derivative %d at %g is off", what, k, x);
    }
    mpfr_clears(d, scale, (mpfr_ptr)0);
}

/* Derivatives 0..K of g(x + t) at x against the finite differences of f. */
static void check_fd(const char *what, SerFn g, RealFn f, const double *xs, int nx)
{
    for (int i = 0; i < nx; i++) {
        mpfr_t a, want, got;
        mpfr_init2(a, 53);
        mpfr_inits2(HP, want, got, (mpfr_ptr)0);
        mpfr_set_d(a, xs[i], RNDN);
        SlTaylor x, r;
        sl_taylor_init(&x, K, P);
        sl_taylor_init(&r, K, P);
        sl_taylor_set_var(&x, a);
        SlError err = {0};
        if (!g(&r, &x, &err))
            ck_abort_msg("%s at %g failed: %s", what, xs[i], err.msg);
        for (int k = 0; k <= K; k++) {
            sl_taylor_derivative(got, &r, k);
            fd(want, f, a, k);
            assert_close(got, want, k, P - 40, what, xs[i]);
        }
        sl_err_clear(&err);
        sl_taylor_clear(&x);
        sl_taylor_clear(&r);
        mpfr_clears(a, want, got, (mpfr_ptr)0);
    }
}

/* ---- the functions, as series and as reals ---- */

#define UNARY(NAME, FN, MPFR)                                                                      \
    static bool s_##NAME(SlTaylor *r, const SlTaylor *x, SlError *err) { return fn1(r, FN, x, err); } \
    static void f_##NAME(mpfr_ptr y, mpfr_srcptr x) { MPFR(y, x, RNDN); }

UNARY(sin, SL_FN_SIN, mpfr_sin)
UNARY(cos, SL_FN_COS, mpfr_cos)
UNARY(tan, SL_FN_TAN, mpfr_tan)
UNARY(asin, SL_FN_ASIN, mpfr_asin)
UNARY(acos, SL_FN_ACOS, mpfr_acos)
UNARY(atan, SL_FN_ATAN, mpfr_atan)
UNARY(sinh, SL_FN_SINH, mpfr_sinh)
UNARY(cosh, SL_FN_COSH, mpfr_cosh)
UNARY(tanh, SL_FN_TANH, mpfr_tanh)
UNARY(exp, SL_FN_EXP, mpfr_exp)
UNARY(log, SL_FN_LOG, mpfr_log)
UNARY(log2, SL_FN_LOG2, mpfr_log2)
UNARY(log10, SL_FN_LOG10, mpfr_log10)
UNARY(sqrt, SL_FN_SQRT, mpfr_sqrt)
UNARY(cbrt, SL_FN_CBRT, mpfr_cbrt)

static bool s_sigmoid(SlTaylor *r, const SlTaylor *x, SlError *err) { return fn1(r, SL_FN_SIGMOID, x, err); }
static void f_sigmoid(mpfr_ptr y, mpfr_srcptr x)
{
    mpfr_neg(y, x, RNDN);
    mpfr_exp(y, y, RNDN);
    mpfr_add_ui(y, y, 1, RNDN);
    mpfr_ui_div(y, 1, y, RNDN);
}

/* x^x: series ^ series */
static bool s_xx(SlTaylor *r, const SlTaylor *x, SlError *err) { return sl_taylor_binop(r, SL_OP_POW, x, x, err); }
static void f_xx(mpfr_ptr y, mpfr_srcptr x) { mpfr_pow(y, x, x, RNDN); }

/* x^2.5: a constant real exponent */
static bool s_x25(SlTaylor *r, const SlTaylor *x, SlError *err)
{
    SlTaylor b;
    sl_taylor_init(&b, 0, P);
    mpfr_set_d(b.c[0], 2.5, RNDN);
    bool ok = sl_taylor_binop(r, SL_OP_POW, x, &b, err);
    sl_taylor_clear(&b);
    return ok;
}
static void f_x25(mpfr_ptr y, mpfr_srcptr x) { mpfr_pow_ui(y, x, 5, RNDN), mpfr_sqrt(y, y, RNDN); }

/* 3^x: a constant base */
static bool s_3x(SlTaylor *r, const SlTaylor *x, SlError *err)
{
    SlTaylor b;
    sl_taylor_init(&b, K, P);
    mpfr_set_ui(b.c[0], 3, RNDN);
    bool ok = sl_taylor_binop(r, SL_OP_POW, &b, x, err);
    sl_taylor_clear(&b);
    return ok;
}
static void f_3x(mpfr_ptr y, mpfr_srcptr x) { mpfr_ui_pow(y, 3, x, RNDN); }

/* (x^2 + x)^x: a non-constant base and exponent */
static bool s_polyx(SlTaylor *r, const SlTaylor *x, SlError *err)
{
    SlTaylor a;
    sl_taylor_init(&a, K, P);
    bool ok = sl_taylor_binop(&a, SL_OP_MUL, x, x, err) && sl_taylor_binop(&a, SL_OP_ADD, &a, x, err) &&
              sl_taylor_binop(r, SL_OP_POW, &a, x, err);
    sl_taylor_clear(&a);
    return ok;
}
static void f_polyx(mpfr_ptr y, mpfr_srcptr x)
{
    mpfr_t a;
    mpfr_init2(a, mpfr_get_prec(y));
    mpfr_sqr(a, x, RNDN);
    mpfr_add(a, a, x, RNDN);
    mpfr_pow(y, a, x, RNDN);
    mpfr_clear(a);
}

/* atan2(x, x^2 - 2): all four quadrants over the points */
static bool s_atan2(SlTaylor *r, const SlTaylor *x, SlError *err)
{
    SlTaylor d;
    sl_taylor_init(&d, K, P);
    SlTaylor two;
    sl_taylor_init(&two, 0, P);
    mpfr_set_ui(two.c[0], 2, RNDN);
    bool ok = sl_taylor_pow_si(&d, x, 2, err) && sl_taylor_binop(&d, SL_OP_SUB, &d, &two, err) &&
              fn2(r, SL_FN_ATAN2, x, &d, err);
    sl_taylor_clear(&d);
    sl_taylor_clear(&two);
    return ok;
}
static void f_atan2(mpfr_ptr y, mpfr_srcptr x)
{
    mpfr_t d;
    mpfr_init2(d, mpfr_get_prec(y));
    mpfr_sqr(d, x, RNDN);
    mpfr_sub_ui(d, d, 2, RNDN);
    mpfr_atan2(y, x, d, RNDN);
    mpfr_clear(d);
}

/* atan2(-1 - x^2, x): the branch cut side (x < 0, y < 0) and x0 = 0 */
static bool s_atan2b(SlTaylor *r, const SlTaylor *x, SlError *err)
{
    SlTaylor d, one;
    sl_taylor_init(&d, K, P);
    sl_taylor_init(&one, 0, P);
    mpfr_set_si(one.c[0], -1, RNDN);
    bool ok = sl_taylor_pow_si(&d, x, 2, err) && sl_taylor_binop(&d, SL_OP_SUB, &one, &d, err) &&
              fn2(r, SL_FN_ATAN2, &d, x, err);
    sl_taylor_clear(&d);
    sl_taylor_clear(&one);
    return ok;
}
static void f_atan2b(mpfr_ptr y, mpfr_srcptr x)
{
    mpfr_t d;
    mpfr_init2(d, mpfr_get_prec(y));
    mpfr_sqr(d, x, RNDN);
    mpfr_si_sub(d, -1, d, RNDN);
    mpfr_atan2(y, d, x, RNDN);
    mpfr_clear(d);
}

/* log(x, x + 1): two-argument log */
static bool s_logb(SlTaylor *r, const SlTaylor *x, SlError *err)
{
    SlTaylor b, one;
    sl_taylor_init(&b, K, P);
    sl_taylor_init(&one, 0, P);
    mpfr_set_ui(one.c[0], 1, RNDN);
    bool ok = sl_taylor_binop(&b, SL_OP_ADD, x, &one, err) && fn2(r, SL_FN_LOG, x, &b, err);
    sl_taylor_clear(&b);
    sl_taylor_clear(&one);
    return ok;
}
static void f_logb(mpfr_ptr y, mpfr_srcptr x)
{
    mpfr_t b;
    mpfr_init2(b, mpfr_get_prec(y));
    mpfr_add_ui(b, x, 1, RNDN);
    mpfr_log(b, b, RNDN);
    mpfr_log(y, x, RNDN);
    mpfr_div(y, y, b, RNDN);
    mpfr_clear(b);
}

/* sin(x) exp(x) / (1 + x^2) - x^3 */
static bool s_mix(SlTaylor *r, const SlTaylor *x, SlError *err)
{
    SlTaylor s, e, d, one;
    sl_taylor_init(&s, K, P);
    sl_taylor_init(&e, K, P);
    sl_taylor_init(&d, K, P);
    sl_taylor_init(&one, 0, P);
    mpfr_set_ui(one.c[0], 1, RNDN);
    bool ok = fn1(&s, SL_FN_SIN, x, err) && fn1(&e, SL_FN_EXP, x, err) &&
              sl_taylor_binop(&s, SL_OP_MUL, &s, &e, err) && sl_taylor_binop(&d, SL_OP_MUL, x, x, err) &&
              sl_taylor_binop(&d, SL_OP_ADD, &one, &d, err) && sl_taylor_binop(&s, SL_OP_DIV, &s, &d, err) &&
              sl_taylor_pow_si(&e, x, 3, err) && sl_taylor_binop(r, SL_OP_SUB, &s, &e, err);
    sl_taylor_clear(&s);
    sl_taylor_clear(&e);
    sl_taylor_clear(&d);
    sl_taylor_clear(&one);
    return ok;
}
static void f_mix(mpfr_ptr y, mpfr_srcptr x)
{
    mpfr_t s, e;
    mpfr_inits2(mpfr_get_prec(y), s, e, (mpfr_ptr)0);
    mpfr_sin(s, x, RNDN);
    mpfr_exp(e, x, RNDN);
    mpfr_mul(s, s, e, RNDN);
    mpfr_sqr(e, x, RNDN);
    mpfr_add_ui(e, e, 1, RNDN);
    mpfr_div(s, s, e, RNDN);
    mpfr_pow_ui(e, x, 3, RNDN);
    mpfr_sub(y, s, e, RNDN);
    mpfr_clears(s, e, (mpfr_ptr)0);
}

/* exp(sin(x)) */
static bool s_expsin(SlTaylor *r, const SlTaylor *x, SlError *err)
{
    return fn1(r, SL_FN_SIN, x, err) && fn1(r, SL_FN_EXP, r, err);
}
static void f_expsin(mpfr_ptr y, mpfr_srcptr x)
{
    mpfr_sin(y, x, RNDN);
    mpfr_exp(y, y, RNDN);
}

/* x^-3 and x^40 through pow_si (reciprocal of a power, the recurrence) */
static bool s_xm3(SlTaylor *r, const SlTaylor *x, SlError *err) { return sl_taylor_pow_si(r, x, -3, err); }
static void f_xm3(mpfr_ptr y, mpfr_srcptr x) { mpfr_pow_si(y, x, -3, RNDN); }
static bool s_x40(SlTaylor *r, const SlTaylor *x, SlError *err) { return sl_taylor_pow_si(r, x, 40, err); }
static void f_x40(mpfr_ptr y, mpfr_srcptr x) { mpfr_pow_si(y, x, 40, RNDN); }
static bool s_xm41(SlTaylor *r, const SlTaylor *x, SlError *err) { return sl_taylor_pow_si(r, x, -41, err); }
static void f_xm41(mpfr_ptr y, mpfr_srcptr x) { mpfr_pow_si(y, x, -41, RNDN); }

#define NX(a) (int)(sizeof(a) / sizeof((a)[0]))

START_TEST(test_trig_fd)
{
    const double xs[] = {-1.3, 0.25, 0.7, 2.0};
    check_fd("sin", s_sin, f_sin, xs, NX(xs));
    check_fd("cos", s_cos, f_cos, xs, NX(xs));
    check_fd("tan", s_tan, f_tan, xs, NX(xs));
    const double ys[] = {-0.9, -0.3, 0.0, 0.2, 0.8};
    check_fd("asin", s_asin, f_asin, ys, NX(ys));
    check_fd("acos", s_acos, f_acos, ys, NX(ys));
    const double zs[] = {-3.0, 0.0, 0.1, 0.5, 10.0};
    check_fd("atan", s_atan, f_atan, zs, NX(zs));
    const double ws[] = {-1.0, 0.3, 1.5, 2.0, -1.7}; /* not 0: atan2(0, -2) is on the cut */
    check_fd("atan2(x, x^2 - 2)", s_atan2, f_atan2, ws, NX(ws));
    const double vs[] = {-1.0, 0.0, 0.3, 1.5, -1.7};
    check_fd("atan2(-1 - x^2, x)", s_atan2b, f_atan2b, vs, NX(vs));
}
END_TEST

START_TEST(test_hyper_exp_log_fd)
{
    const double xs[] = {-2.0, 0.0, 0.3, 1.5, 20.0};
    check_fd("sinh", s_sinh, f_sinh, xs, NX(xs));
    check_fd("cosh", s_cosh, f_cosh, xs, NX(xs));
    check_fd("tanh", s_tanh, f_tanh, xs, NX(xs));
    check_fd("exp", s_exp, f_exp, xs, NX(xs));
    const double ss[] = {-30.0, -1.0, 0.0, 2.0, 40.0};
    check_fd("sigmoid", s_sigmoid, f_sigmoid, ss, NX(ss));
    const double ls[] = {0.1, 1.0, 2.5, 100.0};
    check_fd("log", s_log, f_log, ls, NX(ls));
    check_fd("log2", s_log2, f_log2, ls, NX(ls));
    check_fd("log10", s_log10, f_log10, ls, NX(ls));
    check_fd("sqrt", s_sqrt, f_sqrt, ls, NX(ls));
    const double cs[] = {-8.0, -0.5, 0.3, 27.0};
    check_fd("cbrt", s_cbrt, f_cbrt, cs, NX(cs));
    const double bs[] = {0.5, 2.0, 5.0};
    check_fd("log(x, x + 1)", s_logb, f_logb, bs, NX(bs));
}
END_TEST

START_TEST(test_pow_and_compositions_fd)
{
    const double ps[] = {0.5, 1.5, 3.0};
    check_fd("x^x", s_xx, f_xx, ps, NX(ps));
    check_fd("x^2.5", s_x25, f_x25, ps, NX(ps));
    check_fd("(x^2 + x)^x", s_polyx, f_polyx, ps, NX(ps));
    const double es[] = {-1.0, 0.0, 0.5, 2.0};
    check_fd("3^x", s_3x, f_3x, es, NX(es));
    const double ns[] = {-2.0, 0.5, 1.1};
    check_fd("x^-3", s_xm3, f_xm3, ns, NX(ns));
    check_fd("x^40", s_x40, f_x40, ns, NX(ns));
    check_fd("x^-41", s_xm41, f_xm41, ns, NX(ns));
    const double ms[] = {-1.0, 0.5, 2.0};
    check_fd("sin(x) exp(x) / (1 + x^2) - x^3", s_mix, f_mix, ms, NX(ms));
    check_fd("exp(sin(x))", s_expsin, f_expsin, ms, NX(ms));
}
END_TEST

/* ---- closed forms, at full precision ---- */

/* Series of order n of g at a (double), derivative k into out. */
static void deriv_of(mpfr_ptr out, SerFn g, double a, int n, int k)
{
    mpfr_t x;
    mpfr_init2(x, 53);
    mpfr_set_d(x, a, RNDN);
    SlTaylor t, r;
    sl_taylor_init(&t, n, P);
    sl_taylor_init(&r, n, P);
    sl_taylor_set_var(&t, x);
    SlError err = {0};
    ck_assert_msg(g(&r, &t, &err), "%s", err.msg);
    sl_taylor_derivative(out, &r, k);
    sl_taylor_clear(&t);
    sl_taylor_clear(&r);
    mpfr_clear(x);
}

static bool s_recip(SlTaylor *r, const SlTaylor *x, SlError *err)
{
    SlTaylor one;
    sl_taylor_init(&one, 0, P);
    mpfr_set_ui(one.c[0], 1, RNDN);
    bool ok = sl_taylor_binop(r, SL_OP_DIV, &one, x, err);
    sl_taylor_clear(&one);
    return ok;
}

START_TEST(test_closed_forms)
{
    const double xs[] = {-2.5, 0.1, 0.5, 3.0};
    mpfr_t got, want, t;
    mpfr_inits2(P + 64, got, want, t, (mpfr_ptr)0);
    for (int i = 0; i < NX(xs); i++) {
        double a = xs[i];
        for (int k = 0; k <= 8; k++) {
            /* exp: every derivative is exp(a) */
            deriv_of(got, s_exp, a, 8, k);
            mpfr_set_d(want, a, RNDN);
            mpfr_exp(want, want, RNDN);
            assert_close(got, want, 0, P - 4, "exp", a);
            /* sin, cos: sin(a + k pi/2) */
            mpfr_const_pi(t, RNDN);
            mpfr_mul_ui(t, t, (unsigned long)k, RNDN);
            mpfr_div_2ui(t, t, 1, RNDN);
            mpfr_add_d(t, t, a, RNDN);
            deriv_of(got, s_sin, a, 8, k);
            mpfr_sin(want, t, RNDN);
            assert_close(got, want, 0, P - 4, "sin", a);
            deriv_of(got, s_cos, a, 8, k);
            mpfr_cos(want, t, RNDN);
            assert_close(got, want, 0, P - 4, "cos", a);
            /* 1/x: (-1)^k k! / a^(k+1) */
            deriv_of(got, s_recip, a, 8, k);
            mpfr_fac_ui(want, (unsigned long)k, RNDN);
            mpfr_set_d(t, a, RNDN);
            mpfr_pow_si(t, t, k + 1, RNDN);
            mpfr_div(want, want, t, RNDN);
            if (k % 2)
                mpfr_neg(want, want, RNDN);
            assert_close(got, want, 0, P - 8, "1/x", a);
            if (a <= 0)
                continue;
            /* log: (-1)^(k-1) (k-1)! / a^k */
            deriv_of(got, s_log, a, 8, k);
            if (k == 0) {
                mpfr_set_d(want, a, RNDN);
                mpfr_log(want, want, RNDN);
            } else {
                mpfr_fac_ui(want, (unsigned long)k - 1, RNDN);
                mpfr_set_d(t, a, RNDN);
                mpfr_pow_si(t, t, k, RNDN);
                mpfr_div(want, want, t, RNDN);
                if (k % 2 == 0)
                    mpfr_neg(want, want, RNDN);
            }
            assert_close(got, want, 0, P - 8, "log", a);
            /* sqrt: (1/2)(1/2 - 1)...(1/2 - k + 1) a^(1/2 - k) */
            deriv_of(got, s_sqrt, a, 8, k);
            mpfr_set_d(want, a, RNDN);
            mpfr_sqrt(want, want, RNDN);
            for (int j = 0; j < k; j++) {
                mpfr_mul_d(want, want, 0.5 - j, RNDN);
                mpfr_div_d(want, want, a, RNDN);
            }
            assert_close(got, want, 0, P - 8, "sqrt", a);
        }
    }
    mpfr_clears(got, want, t, (mpfr_ptr)0);
}
END_TEST

/* x^n is a polynomial: every derivative is an exact integer, at negative,
 * zero and positive points, through pow_si, pow with a constant integer
 * exponent series, and repeated multiplication. */
START_TEST(test_powers_exact)
{
    const long as[] = {-3, -1, 0, 2, 5};
    mpz_t want, f;
    mpz_inits(want, f, (mpz_ptr)0);
    mpfr_t x, got;
    mpfr_inits2(P, x, got, (mpfr_ptr)0);
    for (int i = 0; i < NX(as); i++) {
        for (long n = 0; n <= 12; n++) {
            int order = (int)n + 2;
            SlTaylor t, r, e, m;
            sl_taylor_init(&t, order, P);
            sl_taylor_init(&r, order, P);
            sl_taylor_init(&e, 0, P);
            sl_taylor_init(&m, order, P);
            mpfr_set_si(x, as[i], RNDN);
            sl_taylor_set_var(&t, x);
            mpfr_set_si(e.c[0], n, RNDN);
            SlError err = {0};
            ck_assert(sl_taylor_pow_si(&r, &t, n, &err));
            ck_assert(sl_taylor_binop(&e, SL_OP_POW, &t, &e, &err) || true); /* e has order 0: */
            sl_taylor_clear(&e);
            sl_taylor_init(&e, order, P);
            mpfr_set_si(e.c[0], n, RNDN);
            ck_assert(sl_taylor_binop(&e, SL_OP_POW, &t, &e, &err));
            mpfr_set_ui(got, 1, RNDN);
            sl_taylor_set_const(&m, got);
            for (long j = 0; j < n; j++)
                ck_assert(sl_taylor_binop(&m, SL_OP_MUL, &m, &t, &err));
            for (int k = 0; k <= order; k++) {
                /* n!/(n-k)! a^(n-k), 0 beyond n */
                if (k > n) {
                    mpz_set_ui(want, 0);
                } else {
                    mpz_set_si(want, as[i]);
                    mpz_pow_ui(want, want, (unsigned long)(n - k));
                    for (long j = n - k + 1; j <= n; j++)
                        mpz_mul_si(want, want, j);
                }
                SlTaylor *all[3] = {&r, &e, &m};
                for (int w = 0; w < 3; w++) {
                    sl_taylor_derivative(got, all[w], k);
                    ck_assert_msg(mpfr_cmp_z(got, want) == 0, "(%ld)^%ld derivative %d (way %d)", as[i], n, k, w);
                }
            }
            ck_assert(!err.set);
            sl_taylor_clear(&t);
            sl_taylor_clear(&r);
            sl_taylor_clear(&e);
            sl_taylor_clear(&m);
        }
    }
    /* x^n for n beyond the order at 0 is all zeros; 0^0 = 1 */
    SlTaylor t, r;
    sl_taylor_init(&t, 4, P);
    sl_taylor_init(&r, 4, P);
    mpfr_set_zero(x, 1);
    sl_taylor_set_var(&t, x);
    SlError err = {0};
    ck_assert(sl_taylor_pow_si(&r, &t, 1000000, &err));
    for (int k = 0; k <= 4; k++)
        ck_assert(mpfr_zero_p(r.c[k]));
    ck_assert(sl_taylor_pow_si(&r, &t, LONG_MAX, &err));
    ck_assert(mpfr_zero_p(r.c[4]));
    ck_assert(sl_taylor_pow_si(&r, &t, 0, &err));
    ck_assert(mpfr_cmp_ui(r.c[0], 1) == 0 && mpfr_zero_p(r.c[1]));
    /* a huge power of 1 + t at 1: the k-th derivative is n(n-1)...(n-k+1) */
    mpfr_set_ui(x, 1, RNDN);
    sl_taylor_set_var(&t, x);
    long big = 1L << 40;
    ck_assert(sl_taylor_pow_si(&r, &t, big, &err));
    sl_taylor_derivative(got, &r, 3);
    mpz_set_si(want, big);
    mpz_mul_si(want, want, big - 1);
    mpz_mul_si(want, want, big - 2);
    mpfr_t w;
    mpfr_init2(w, P);
    mpfr_set_z(w, want, RNDN);
    assert_close(got, w, 3, P - 16, "(1+t)^2^40", 1.0);
    mpfr_clear(w);
    sl_taylor_clear(&t);
    sl_taylor_clear(&r);
    mpz_clears(want, f, (mpz_ptr)0);
    mpfr_clears(x, got, (mpfr_ptr)0);
}
END_TEST

/* ---- benchmark 8c's case at 1000 digits ---- */

/* d^10/dx^10 exp(sin(x)) at 0.5, 1000 digits, mpmath 1.2.1 diffs at dps 1030 */
static const char expsin10_1000[] =
    "-8.540424919122208206489205415958278238940756291061310343281970658824450"
    "239384000824012467733820314346566674977655868325833934172782018121666547"
    "855733726520863495100846858041743107925961277641289953764100993686288627"
    "218134256066228049827890010259753677408082183466338386869196706855325067"
    "176135126083194835047502372904043868622047396555240199546571290087418819"
    "558176828532349203128872378779119487385454616500517765966620535509334457"
    "048707833239477466655406459907245070533767331250646260160192555052597098"
    "685226413742160377382694146679400363375352311797569052739937774318589409"
    "445609921946485822055961690178219165063217634415915099324416024892722402"
    "143682323595448836676026187088699220669353044002741119799918613518231218"
    "125572769105064464035345797984726772284456311943503814592390555930615600"
    "252704293717662318225050483776968752408789192573217273176449129542805700"
    "920054916184572952145196825997457627835473669922694910152940542036145148"
    "678135962527831731471413205787930054871076206119888691624897832004e+2";

static void expsin_series(SlTaylor *r, mpfr_prec_t prec)
{
    mpfr_t a;
    mpfr_init2(a, 53);
    mpfr_set_d(a, 0.5, RNDN);
    SlTaylor x;
    sl_taylor_init(&x, 10, prec);
    sl_taylor_init(r, 10, prec);
    sl_taylor_set_var(&x, a);
    SlError err = {0};
    ck_assert(s_expsin(r, &x, &err));
    sl_taylor_clear(&x);
    mpfr_clear(a);
}

START_TEST(test_expsin_1000_digits)
{
    SlTaylor lo, hi;
    expsin_series(&lo, 3500);
    expsin_series(&hi, 4000);
    mpfr_t a, b, d, ref;
    mpfr_inits2(4000, a, b, d, ref, (mpfr_ptr)0);
    for (int k = 0; k <= 10; k++) {
        sl_taylor_derivative(a, &lo, k);
        sl_taylor_derivative(b, &hi, k);
        /* |a - b| <= 10^-1001 |b|: a is right to 1000 digits */
        mpfr_sub(d, a, b, RNDN);
        mpfr_div(d, d, b, RNDN);
        mpfr_abs(d, d, RNDN);
        mpfr_log10(d, d, RNDN);
        ck_assert_msg(mpfr_cmp_si(d, -1001) < 0, "derivative %d: only %.1f digits", k, -mpfr_get_d(d, RNDN));
    }
    /* the 10th against mpmath, printed to 1000 significant digits */
    ck_assert(mpfr_set_str(ref, expsin10_1000, 10, RNDN) == 0 || true);
    mpfr_set_str(ref, expsin10_1000, 10, RNDN);
    sl_taylor_derivative(a, &lo, 10);
    mpfr_sub(d, a, ref, RNDN);
    mpfr_div(d, d, ref, RNDN);
    mpfr_abs(d, d, RNDN);
    mpfr_log10(d, d, RNDN);
    ck_assert_msg(mpfr_cmp_si(d, -999) < 0, "against mpmath: %.1f digits", -mpfr_get_d(d, RNDN));
    /* and the printed digits are mpmath's */
    char *s = NULL;
    mpfr_asprintf(&s, "%.999Re", a);
    ck_assert_msg(!strncmp(s, expsin10_1000, 1001), "first difference in the printed digits");
    mpfr_free_str(s);
    mpfr_clears(a, b, d, ref, (mpfr_ptr)0);
    sl_taylor_clear(&lo);
    sl_taylor_clear(&hi);
}
END_TEST

/* ---- errors ---- */

static SlTaylor var_at(double a, int order)
{
    SlTaylor t;
    mpfr_t x;
    mpfr_init2(x, 53);
    mpfr_set_d(x, a, RNDN);
    sl_taylor_init(&t, order, P);
    sl_taylor_set_var(&t, x);
    mpfr_clear(x);
    return t;
}

static SlTaylor const_at(double a, int order)
{
    SlTaylor t = var_at(a, order);
    if (order >= 1)
        mpfr_set_zero(t.c[1], 1);
    return t;
}

/* fn at a (order n) fails with code and a message containing msg. */
static void expect_fn_error(SlMathFn fn, double a, int n, SlErrCode code, const char *msg)
{
    SlTaylor x = var_at(a, n), r;
    sl_taylor_init(&r, n, P);
    SlError err = {0};
    ck_assert_msg(!fn1(&r, fn, &x, &err), "%s(%g) order %d should fail", sl_math_fns[fn].name, a, n);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(strstr(err.msg, msg), "message '%s' lacks '%s'", err.msg, msg);
    sl_err_clear(&err);
    sl_taylor_clear(&x);
    sl_taylor_clear(&r);
}

static void expect_fn_ok(SlMathFn fn, double a, int n)
{
    SlTaylor x = var_at(a, n), r;
    sl_taylor_init(&r, n, P);
    SlError err = {0};
    ck_assert_msg(fn1(&r, fn, &x, &err), "%s(%g) order %d: %s", sl_math_fns[fn].name, a, n, err.msg);
    sl_taylor_clear(&x);
    sl_taylor_clear(&r);
}

static void expect_binop_error(int op, SlTaylor *a, SlTaylor *b, SlErrCode code, const char *msg)
{
    SlTaylor r;
    sl_taylor_init(&r, a->order, P);
    SlError err = {0};
    ck_assert_msg(!sl_taylor_binop(&r, op, a, b, &err), "op %d should fail", op);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(strstr(err.msg, msg), "message '%s' lacks '%s'", err.msg, msg);
    sl_err_clear(&err);
    sl_taylor_clear(&r);
}

START_TEST(test_domain_errors)
{
    expect_fn_error(SL_FN_LOG, 0.0, 3, SL_E_MATH_DOMAIN, "math domain error: log(0.0)");
    expect_fn_error(SL_FN_LOG, -1.0, 0, SL_E_MATH_DOMAIN, "math domain error: log(-1.0)");
    expect_fn_error(SL_FN_LOG2, -2.0, 2, SL_E_MATH_DOMAIN, "log2(-2.0)");
    expect_fn_error(SL_FN_LOG10, 0.0, 0, SL_E_MATH_DOMAIN, "log10(0.0)");
    expect_fn_error(SL_FN_SQRT, -1.0, 0, SL_E_MATH_DOMAIN, "math domain error: sqrt(-1.0)");
    expect_fn_error(SL_FN_SQRT, 0.0, 1, SL_E_MATH_DOMAIN, "sqrt is not differentiable at 0.0");
    expect_fn_ok(SL_FN_SQRT, 0.0, 0);
    expect_fn_error(SL_FN_CBRT, 0.0, 2, SL_E_MATH_DOMAIN, "cbrt is not differentiable at 0.0");
    expect_fn_ok(SL_FN_CBRT, 0.0, 0);
    expect_fn_error(SL_FN_ASIN, 1.5, 0, SL_E_MATH_DOMAIN, "asin(1.5)");
    expect_fn_error(SL_FN_ASIN, 1.0, 1, SL_E_MATH_DOMAIN, "asin is not differentiable at 1.0");
    expect_fn_ok(SL_FN_ASIN, 1.0, 0);
    expect_fn_error(SL_FN_ACOS, -1.0, 3, SL_E_MATH_DOMAIN, "acos is not differentiable at -1.0");
    expect_fn_error(SL_FN_ACOS, -2.0, 3, SL_E_MATH_DOMAIN, "acos(-2.0)");
    expect_fn_ok(SL_FN_ATAN, 1e300, 4);

    /* sin(inf) is nan: Python's domain error; exp overflows as math.exp does at 53 bits */
    SlTaylor x, r;
    sl_taylor_init(&x, 2, P);
    sl_taylor_init(&r, 2, P);
    mpfr_set_inf(x.c[0], 1);
    SlError err = {0};
    ck_assert(!fn1(&r, SL_FN_SIN, &x, &err));
    ck_assert_str_eq(err.msg, "math domain error: sin(inf)");
    sl_err_clear(&err);
    sl_taylor_clear(&x);
    sl_taylor_clear(&r);
    sl_taylor_init(&x, 2, 53);
    sl_taylor_init(&r, 2, 53);
    mpfr_set_ui(x.c[0], 1000, RNDN);
    ck_assert(!fn1(&r, SL_FN_EXP, &x, &err));
    ck_assert_int_eq(err.code, SL_E_OVERFLOW);
    ck_assert_str_eq(err.msg, "math range error");
    sl_err_clear(&err);
    mpfr_set_ui(x.c[0], 700, RNDN); /* fine: 1.01e304 */
    ck_assert(fn1(&r, SL_FN_EXP, &x, &err));
    sl_taylor_clear(&x);
    sl_taylor_clear(&r);

    /* atan2 at the origin: a value, no derivative */
    SlTaylor y0 = var_at(0.0, 2), x0 = const_at(0.0, 2);
    sl_taylor_init(&r, 2, P);
    ck_assert(!fn2(&r, SL_FN_ATAN2, &y0, &x0, &err));
    ck_assert_str_eq(err.msg, "math domain error: atan2 is not differentiable at (0, 0)");
    sl_err_clear(&err);
    sl_taylor_clear(&r);
    sl_taylor_init(&r, 0, P);
    ck_assert(fn2(&r, SL_FN_ATAN2, &y0, &x0, &err));
    ck_assert(mpfr_zero_p(r.c[0]));
    sl_taylor_clear(&r);
    sl_taylor_clear(&y0);
    sl_taylor_clear(&x0);

    /* log(x, 1) divides by log(1) = 0 */
    SlTaylor a = var_at(2.0, 2), one = const_at(1.0, 0);
    sl_taylor_init(&r, 2, P);
    ck_assert(!fn2(&r, SL_FN_LOG, &a, &one, &err));
    ck_assert_int_eq(err.code, SL_E_ZERODIV);
    sl_err_clear(&err);
    sl_taylor_clear(&r);

    /* division and friends */
    SlTaylor z = var_at(0.0, 2), c0 = const_at(0.0, 2), neg = var_at(-2.0, 2), half = const_at(0.5, 0);
    expect_binop_error(SL_OP_DIV, &a, &z, SL_E_ZERODIV, "float division by zero");
    expect_binop_error(SL_OP_FLOORDIV, &a, &c0, SL_E_ZERODIV, "float floor division by zero");
    expect_binop_error(SL_OP_MOD, &a, &c0, SL_E_ZERODIV, "float modulo");
    expect_binop_error(SL_OP_POW, &neg, &half, SL_E_MATH_DOMAIN, "a negative base needs a constant integer exponent");
    expect_binop_error(SL_OP_POW, &neg, &a, SL_E_MATH_DOMAIN, "a negative base");
    expect_binop_error(SL_OP_POW, &z, &half, SL_E_MATH_DOMAIN, "not differentiable");
    SlTaylor m1 = const_at(-1.0, 0);
    expect_binop_error(SL_OP_POW, &z, &m1, SL_E_ZERODIV, "0.0 cannot be raised to a negative power");
    sl_taylor_init(&r, 2, P);
    ck_assert(!sl_taylor_pow_si(&r, &z, -2, &err));
    ck_assert_int_eq(err.code, SL_E_ZERODIV);
    sl_err_clear(&err);
    /* (-2 + t)^3 with the exponent a series: exact, negative base */
    SlTaylor three = const_at(3.0, 2);
    ck_assert(sl_taylor_binop(&r, SL_OP_POW, &neg, &three, &err));
    ck_assert(mpfr_cmp_si(r.c[0], -8) == 0 && mpfr_cmp_si(r.c[1], 12) == 0 && mpfr_cmp_si(r.c[2], -6) == 0);
    /* 0^0.5 as a value (order 0) is 0, as Python's 0.0 ** 0.5 */
    SlTaylor z0 = var_at(0.0, 0), r0;
    sl_taylor_init(&r0, 0, P);
    ck_assert(sl_taylor_binop(&r0, SL_OP_POW, &z0, &half, &err));
    ck_assert(mpfr_zero_p(r0.c[0]));
    /* ** overflows as Python's does at 53 bits */
    SlTaylor big, b2;
    sl_taylor_init(&big, 1, 53);
    sl_taylor_init(&b2, 1, 53);
    mpfr_set_d(big.c[0], 1e200, RNDN);
    ck_assert(!sl_taylor_pow_si(&b2, &big, 2, &err));
    ck_assert_int_eq(err.code, SL_E_OVERFLOW);
    sl_err_clear(&err);

    /* floor(nan) and floor(inf) as Python's */
    SlTaylor nanx;
    sl_taylor_init(&nanx, 1, P);
    mpfr_set_nan(nanx.c[0]);
    ck_assert(!fn1(&r, SL_FN_FLOOR, &nanx, &err));
    ck_assert_int_eq(err.code, SL_E_VALUE);
    sl_err_clear(&err);
    mpfr_set_inf(nanx.c[0], 1);
    ck_assert(!fn1(&r, SL_FN_CEIL, &nanx, &err));
    ck_assert_int_eq(err.code, SL_E_OVERFLOW);
    sl_err_clear(&err);
    /* nan propagates without an error where Python's math does */
    mpfr_set_nan(nanx.c[0]);
    ck_assert(fn1(&r, SL_FN_LOG, &nanx, &err));
    ck_assert(fn1(&r, SL_FN_SQRT, &nanx, &err));
    ck_assert(fn1(&r, SL_FN_EXP, &nanx, &err));
    ck_assert(mpfr_nan_p(r.c[0]));
    ck_assert(!err.set);

    /* argument counts */
    const SlTaylor *args[3] = {&a, &a, &a};
    ck_assert(!sl_taylor_fn(&r, SL_FN_SIN, args, 2, &err));
    ck_assert_int_eq(err.code, SL_E_ARG_COUNT);
    ck_assert_str_eq(err.msg, "sin() takes 1 argument but 2 were given");
    sl_err_clear(&err);
    ck_assert(!sl_taylor_fn(&r, SL_FN_ATAN2, args, 1, &err));
    sl_err_clear(&err);
    ck_assert(!sl_taylor_fn(&r, SL_FN_MAX, args, 0, &err));
    sl_err_clear(&err);
    ck_assert(!sl_taylor_binop(&r, SL_OP_MATMUL, &a, &a, &err));
    ck_assert_int_eq(err.code, SL_E_INTERNAL);
    sl_err_clear(&err);

    SlTaylor *all[] = {&a, &one, &z, &c0, &neg, &half, &m1, &three, &z0, &r0, &big, &b2, &nanx, &r};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_taylor_clear(all[i]);
}
END_TEST

/* ---- non-smooth points ---- */

/* r = fn(x) for a series x with c = (a, 2, 3) (so derivatives 2 and 6). */
static void piece(SlTaylor *r, SlMathFn fn, double a)
{
    SlTaylor x;
    sl_taylor_init(&x, 2, P);
    sl_taylor_init(r, 2, P);
    mpfr_set_d(x.c[0], a, RNDN);
    mpfr_set_ui(x.c[1], 2, RNDN);
    mpfr_set_ui(x.c[2], 3, RNDN);
    SlError err = {0};
    ck_assert_msg(fn1(r, fn, &x, &err), "%s", err.msg);
    sl_taylor_clear(&x);
}

static void assert_coeffs(const SlTaylor *r, double c0, double c1, double c2)
{
    ck_assert_msg(mpfr_cmp_d(r->c[0], c0) == 0 && mpfr_cmp_d(r->c[1], c1) == 0 && mpfr_cmp_d(r->c[2], c2) == 0,
                  "got (%g, %g, %g) want (%g, %g, %g)", mpfr_get_d(r->c[0], RNDN), mpfr_get_d(r->c[1], RNDN),
                  mpfr_get_d(r->c[2], RNDN), c0, c1, c2);
}

START_TEST(test_nonsmooth)
{
    SlTaylor r;
    struct { SlMathFn fn; double a, c0, c1, c2; } cases[] = {
        {SL_FN_ABS, 1.5, 1.5, 2, 3},      {SL_FN_ABS, -1.5, 1.5, -2, -3}, {SL_FN_ABS, 0.0, 0, 0, 0},
        {SL_FN_ABS, -0.0, 0, 0, 0},       {SL_FN_RELU, 1.5, 1.5, 2, 3},   {SL_FN_RELU, -1.5, 0, 0, 0},
        {SL_FN_RELU, 0.0, 0, 0, 0},       {SL_FN_SIGN, -1.5, -1, 0, 0},   {SL_FN_SIGN, 0.0, 0, 0, 0},
        {SL_FN_SIGN, 2.0, 1, 0, 0},       {SL_FN_HEAVISIDE, 0.0, 0, 0, 0}, {SL_FN_HEAVISIDE, 0.1, 1, 0, 0},
        {SL_FN_FLOOR, -1.5, -2, 0, 0},    {SL_FN_FLOOR, 2.0, 2, 0, 0},    {SL_FN_CEIL, -1.5, -1, 0, 0},
        {SL_FN_CEIL, 2.0, 2, 0, 0},       {SL_FN_ROUND, 2.5, 2, 0, 0},    {SL_FN_ROUND, 3.5, 4, 0, 0},
        {SL_FN_ROUND, -0.5, 0, 0, 0},     {SL_FN_MIN, 7.0, 7, 2, 3},      {SL_FN_MAX, -7.0, -7, 2, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        piece(&r, cases[i].fn, cases[i].a);
        assert_coeffs(&r, cases[i].c0, cases[i].c1, cases[i].c2);
        sl_taylor_clear(&r);
    }
    /* abs(0.0) keeps no minus sign; relu(-1.5) is +0 */
    piece(&r, SL_FN_ABS, -0.0);
    ck_assert(!mpfr_signbit(r.c[0]));
    sl_taylor_clear(&r);
    /* nan: nan everywhere for abs/relu, nan value for sign */
    piece(&r, SL_FN_RELU, 0.0);
    sl_taylor_clear(&r);

    /* round(x, 1) as Python: round(2.675, 2) = 2.67 (the double below) */
    SlTaylor x = var_at(2.675, 2), nd = const_at(2.0, 0);
    sl_taylor_init(&r, 2, 53);
    SlError err = {0};
    ck_assert(fn2(&r, SL_FN_ROUND, &x, &nd, &err));
    ck_assert(mpfr_cmp_d(r.c[0], 2.67) == 0 && mpfr_zero_p(r.c[1]));
    sl_taylor_clear(&nd);
    nd = const_at(1.5, 0);
    ck_assert(!fn2(&r, SL_FN_ROUND, &x, &nd, &err));
    ck_assert_int_eq(err.code, SL_E_TYPE);
    sl_err_clear(&err);
    sl_taylor_clear(&r);
    sl_taylor_clear(&nd);
    sl_taylor_clear(&x);

    /* min/max follow the chosen argument; a tie goes to the first */
    SlTaylor a, b, c;
    sl_taylor_init(&a, 2, P);
    sl_taylor_init(&b, 2, P);
    sl_taylor_init(&c, 1, P); /* lower order: reads as a polynomial */
    sl_taylor_init(&r, 2, P);
    mpfr_set_ui(a.c[0], 1, RNDN), mpfr_set_ui(a.c[1], 10, RNDN), mpfr_set_ui(a.c[2], 100, RNDN);
    mpfr_set_ui(b.c[0], 1, RNDN), mpfr_set_ui(b.c[1], 20, RNDN), mpfr_set_ui(b.c[2], 200, RNDN);
    mpfr_set_ui(c.c[0], 3, RNDN), mpfr_set_ui(c.c[1], 30, RNDN);
    const SlTaylor *ab[3] = {&a, &b, &c};
    ck_assert(sl_taylor_fn(&r, SL_FN_MAX, ab, 2, &err));
    assert_coeffs(&r, 1, 10, 100);
    ck_assert(sl_taylor_fn(&r, SL_FN_MIN, ab, 2, &err));
    assert_coeffs(&r, 1, 10, 100);
    const SlTaylor *ba[2] = {&b, &a};
    ck_assert(sl_taylor_fn(&r, SL_FN_MAX, ba, 2, &err));
    assert_coeffs(&r, 1, 20, 200);
    ck_assert(sl_taylor_fn(&r, SL_FN_MAX, ab, 3, &err));
    assert_coeffs(&r, 3, 30, 0);
    ck_assert(sl_taylor_fn(&r, SL_FN_MIN, ab, 3, &err));
    assert_coeffs(&r, 1, 10, 100);
    ck_assert(sl_taylor_fn(&r, SL_FN_MAX, ab, 1, &err));
    assert_coeffs(&r, 1, 10, 100);

    /* x // y is piecewise constant; x % y = x - (x0 // y0) y */
    mpfr_set_d(a.c[0], 7.5, RNDN);
    mpfr_set_d(b.c[0], -2.0, RNDN);
    ck_assert(sl_taylor_binop(&r, SL_OP_FLOORDIV, &a, &b, &err));
    assert_coeffs(&r, -4, 0, 0);
    ck_assert(sl_taylor_binop(&r, SL_OP_MOD, &a, &b, &err));
    assert_coeffs(&r, -0.5, 10 + 4 * 20, 100 + 4 * 200);
    ck_assert(!err.set);
    sl_taylor_clear(&a);
    sl_taylor_clear(&b);
    sl_taylor_clear(&c);
    sl_taylor_clear(&r);
}
END_TEST

/* ---- aliasing, mixed orders and precisions ---- */

static bool equal_series(const SlTaylor *a, const SlTaylor *b)
{
    if (a->order != b->order)
        return false;
    for (int k = 0; k <= a->order; k++)
        if (!mpfr_equal_p(a->c[k], b->c[k]) && !(mpfr_nan_p(a->c[k]) && mpfr_nan_p(b->c[k])))
            return false;
    return true;
}

/* A generic series with every coefficient nonzero: (a, 0.3, -0.2, 0.1, ...). */
static SlTaylor generic(double a, int n)
{
    SlTaylor t;
    sl_taylor_init(&t, n, P);
    mpfr_set_d(t.c[0], a, RNDN);
    for (int k = 1; k <= n; k++)
        mpfr_set_d(t.c[k], (k % 2 ? 0.3 : -0.2) / k, RNDN);
    return t;
}

START_TEST(test_aliasing)
{
    const int n = 6;
    SlError err = {0};
    for (int fn = 0; fn < SL_FN_COUNT; fn++) {
        int nargs = sl_math_fns[fn].min_args;
        double a0 = fn == SL_FN_ASIN || fn == SL_FN_ACOS ? 0.4 : 1.7;
        SlTaylor x = generic(a0, n), y = generic(0.9, n), r;
        sl_taylor_init(&r, n, P);
        const SlTaylor *args[2] = {&x, &y};
        ck_assert_msg(sl_taylor_fn(&r, fn, args, nargs, &err), "%s: %s", sl_math_fns[fn].name, err.msg);
        ck_assert_msg(sl_taylor_fn(&x, fn, args, nargs, &err), "%s: %s", sl_math_fns[fn].name, err.msg);
        ck_assert_msg(equal_series(&r, &x), "%s(x) into x", sl_math_fns[fn].name);
        if (nargs == 2) { /* into the second argument, and f(x, x) into x */
            SlTaylor x2 = generic(a0, n);
            args[0] = &x2;
            ck_assert(sl_taylor_fn(&r, fn, args, 2, &err));
            ck_assert(sl_taylor_fn(&y, fn, args, 2, &err));
            ck_assert_msg(equal_series(&r, &y), "%s(x, y) into y", sl_math_fns[fn].name);
            args[1] = &x2;
            ck_assert(sl_taylor_fn(&r, fn, args, 2, &err));
            ck_assert(sl_taylor_fn(&x2, fn, args, 2, &err));
            ck_assert_msg(equal_series(&r, &x2), "%s(x, x) into x", sl_math_fns[fn].name);
            sl_taylor_clear(&x2);
        }
        sl_taylor_clear(&x);
        sl_taylor_clear(&y);
        sl_taylor_clear(&r);
    }
    const int ops[] = {SL_OP_ADD, SL_OP_SUB, SL_OP_MUL, SL_OP_DIV, SL_OP_POW, SL_OP_FLOORDIV, SL_OP_MOD};
    for (int i = 0; i < NX(ops); i++) {
        SlTaylor a = generic(1.7, n), b = generic(0.9, n), r, want;
        sl_taylor_init(&want, n, P);
        sl_taylor_init(&r, n, P);
        ck_assert(sl_taylor_binop(&want, ops[i], &a, &b, &err));
        sl_taylor_copy(&r, &a);
        ck_assert(sl_taylor_binop(&r, ops[i], &r, &b, &err)); /* r = r op b */
        ck_assert_msg(equal_series(&r, &want), "op %d into a", ops[i]);
        sl_taylor_copy(&r, &b);
        ck_assert(sl_taylor_binop(&r, ops[i], &a, &r, &err)); /* r = a op r */
        ck_assert_msg(equal_series(&r, &want), "op %d into b", ops[i]);
        ck_assert(sl_taylor_binop(&want, ops[i], &a, &a, &err));
        ck_assert(sl_taylor_binop(&a, ops[i], &a, &a, &err)); /* a = a op a */
        ck_assert_msg(equal_series(&a, &want), "op %d: a op a into a", ops[i]);
        sl_taylor_clear(&a);
        sl_taylor_clear(&b);
        sl_taylor_clear(&r);
        sl_taylor_clear(&want);
    }
    SlTaylor a = generic(1.7, n), r;
    sl_taylor_init(&r, n, P);
    ck_assert(sl_taylor_pow_si(&r, &a, -5, &err));
    ck_assert(sl_taylor_pow_si(&a, &a, -5, &err));
    ck_assert(equal_series(&r, &a));
    ck_assert(sl_taylor_neg(&r, &a));
    ck_assert(sl_taylor_neg(&a, &a));
    ck_assert(equal_series(&r, &a));
    ck_assert(!err.set);
    sl_taylor_clear(&a);
    sl_taylor_clear(&r);
}
END_TEST

START_TEST(test_orders_and_precisions)
{
    SlError err = {0};
    /* an order-0 constant acts as a constant on a series of order 4 */
    SlTaylor x = var_at(0.5, 4), two = const_at(2.0, 0), r, s;
    sl_taylor_init(&r, 4, P);
    sl_taylor_init(&s, 4, P);
    ck_assert(sl_taylor_binop(&r, SL_OP_MUL, &two, &x, &err));
    ck_assert(sl_taylor_binop(&s, SL_OP_ADD, &x, &x, &err));
    ck_assert(equal_series(&r, &s));
    /* a higher-order operand is truncated to the result's order */
    SlTaylor lo;
    sl_taylor_init(&lo, 2, P);
    ck_assert(fn1(&lo, SL_FN_EXP, &x, &err));
    ck_assert(fn1(&r, SL_FN_EXP, &x, &err));
    for (int k = 0; k <= 2; k++)
        ck_assert(mpfr_equal_p(lo.c[k], r.c[k]));
    /* copy pads with zeros */
    sl_taylor_copy(&r, &lo);
    ck_assert(mpfr_zero_p(r.c[3]) && mpfr_zero_p(r.c[4]));
    /* derivative out of range is nan */
    mpfr_t d;
    mpfr_init2(d, 53);
    sl_taylor_derivative(d, &lo, 3);
    ck_assert(mpfr_nan_p(d));
    sl_taylor_derivative(d, &lo, -1);
    ck_assert(mpfr_nan_p(d));
    /* k! beyond a machine word: every derivative of exp at 0 is 1 */
    SlTaylor t0 = var_at(0.0, 30), e;
    sl_taylor_init(&e, 30, P);
    ck_assert(fn1(&e, SL_FN_EXP, &t0, &err));
    for (int k = 0; k <= 30; k++) {
        sl_taylor_derivative(d, &e, k);
        ck_assert_msg(mpfr_cmp_ui(d, 1) == 0, "exp^(%d)(0) = %g", k, mpfr_get_d(d, RNDN));
    }
    sl_taylor_clear(&t0);
    sl_taylor_clear(&e);
    mpfr_clear(d);
    /* results take r's precision; the pool is reused across precisions and
     * orders without changing results */
    int precs[] = {53, 3500, 64, 2, 200, 53};
    int orders[] = {0, 30, 3, 1, 12, 5};
    for (int i = 0; i < NX(precs); i++) {
        for (int rep = 0; rep < 2; rep++) {
            SlTaylor v, e1, e2;
            mpfr_t a;
            mpfr_init2(a, 53);
            mpfr_set_d(a, 0.5, RNDN);
            sl_taylor_init(&v, orders[i], P);
            sl_taylor_init(&e1, orders[i], precs[i]);
            sl_taylor_init(&e2, orders[i], precs[i]);
            sl_taylor_set_var(&v, a);
            ck_assert(fn1(&e1, SL_FN_TAN, &v, &err) && fn1(&e1, SL_FN_ATAN, &e1, &err));
            ck_assert(fn1(&e2, SL_FN_TAN, &v, &err) && fn1(&e2, SL_FN_ATAN, &e2, &err));
            ck_assert(equal_series(&e1, &e2));
            for (int k = 0; k <= orders[i]; k++)
                ck_assert(mpfr_get_prec(e1.c[k]) == precs[i]);
            if (precs[i] >= 53) { /* atan(tan(x)) = x: 0.5 + t + 0 t^2 ... */
                for (int k = 0; k <= orders[i]; k++) {
                    mpfr_set_d(a, k == 0 ? 0.5 : k == 1 ? 1.0 : 0.0, RNDN);
                    mpfr_sub(a, e1.c[k], a, RNDN);
                    ck_assert_msg(mpfr_zero_p(a) || mpfr_get_exp(a) < -(precs[i] - 12),
                                  "prec %d order %d: c[%d] off by 2^%ld", precs[i], orders[i], k,
                                  (long)mpfr_get_exp(a));
                }
            }
            sl_taylor_clear(&v);
            sl_taylor_clear(&e1);
            sl_taylor_clear(&e2);
            mpfr_clear(a);
        }
    }
    ck_assert(!err.set);
    sl_taylor_clear(&x);
    sl_taylor_clear(&two);
    sl_taylor_clear(&r);
    sl_taylor_clear(&s);
    sl_taylor_clear(&lo);
}
END_TEST

/* tanh and sigmoid far out: the derivatives are tiny and must keep their
 * relative accuracy (no 1 - tanh^2 cancellation). */
START_TEST(test_far_tails)
{
    SlTaylor x = var_at(40.0, 3), r;
    sl_taylor_init(&r, 3, 53);
    SlError err = {0};
    ck_assert(fn1(&r, SL_FN_TANH, &x, &err));
    mpfr_t w, g;
    mpfr_inits2(200, w, g, (mpfr_ptr)0);
    mpfr_set_ui(w, 40, RNDN);
    mpfr_sech(w, w, RNDN);
    mpfr_sqr(w, w, RNDN); /* tanh'(40) = sech^2(40) ~ 7e-35 */
    sl_taylor_derivative(g, &r, 1);
    assert_close(g, w, 0, 50, "tanh'(40) relative", 40.0);
    ck_assert(fn1(&r, SL_FN_SIGMOID, &x, &err)); /* sigmoid'(40) = s(1-s) ~ exp(-40) */
    mpfr_set_si(w, -40, RNDN);
    mpfr_exp(w, w, RNDN);
    mpfr_add_ui(g, w, 1, RNDN);
    mpfr_sqr(g, g, RNDN);
    mpfr_div(w, w, g, RNDN);
    sl_taylor_derivative(g, &r, 1);
    assert_close(g, w, 0, 50, "sigmoid'(40) relative", 40.0);
    ck_assert(!err.set);
    mpfr_clears(w, g, (mpfr_ptr)0);
    sl_taylor_clear(&x);
    sl_taylor_clear(&r);
}
END_TEST

static Suite *forward_suite(void)
{
    Suite *s = suite_create("forward");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_closed_forms);
    tcase_add_test(tc, test_powers_exact);
    tcase_add_test(tc, test_trig_fd);
    tcase_add_test(tc, test_hyper_exp_log_fd);
    tcase_add_test(tc, test_pow_and_compositions_fd);
    tcase_add_test(tc, test_expsin_1000_digits);
    tcase_add_test(tc, test_domain_errors);
    tcase_add_test(tc, test_nonsmooth);
    tcase_add_test(tc, test_aliasing);
    tcase_add_test(tc, test_orders_and_precisions);
    tcase_add_test(tc, test_far_tails);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(forward_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
