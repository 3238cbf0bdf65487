/* test_reverse.c -- the reverse-mode tape (reverse.c) through its C API.
 *
 * Adjoints are checked against closed forms and against central finite
 * differences computed on a tape of more than twice the precision; forward
 * values against num.c (Python's semantics) bit for bit, errors included;
 * plus the structural promises: both contributions of a node used twice,
 * a 10^6-node chain swept on a 64 KiB stack, memory reused across resets,
 * Rosenbrock's gradient at n = 1000, 53 and 256 bits.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "num.h"
#include "reverse.h"

#define RNDN MPFR_RNDN

/* ---- helpers ---- */

static SlNode var_d(SlTape *t, double d)
{
    mpfr_t x;
    mpfr_init2(x, 53);
    mpfr_set_d(x, d, RNDN);
    SlNode n = sl_tape_var(t, x);
    mpfr_clear(x);
    return n;
}

static SlNode const_d(SlTape *t, double d)
{
    mpfr_t x;
    mpfr_init2(x, 53);
    mpfr_set_d(x, d, RNDN);
    SlNode n = sl_tape_const(t, x);
    mpfr_clear(x);
    return n;
}

static SlNode bin(SlTape *t, int op, SlNode a, SlNode b)
{
    SlError e = {0};
    SlNode o = 0;
    bool ok = sl_tape_binop(t, op, a, b, &o, &e);
    ck_assert_msg(ok, "binop failed: %s", e.msg);
    sl_err_clear(&e);
    return o;
}

static SlNode fn1(SlTape *t, SlMathFn f, SlNode a)
{
    SlError e = {0};
    SlNode o = 0;
    bool ok = sl_tape_fn(t, f, &a, 1, &o, &e);
    ck_assert_msg(ok, "%s failed: %s", sl_math_fns[f].name, e.msg);
    sl_err_clear(&e);
    return o;
}

static SlNode fn2(SlTape *t, SlMathFn f, SlNode a, SlNode b)
{
    SlError e = {0};
    SlNode o = 0, args[2] = {a, b};
    bool ok = sl_tape_fn(t, f, args, 2, &o, &e);
    ck_assert_msg(ok, "%s failed: %s", sl_math_fns[f].name, e.msg);
    sl_err_clear(&e);
    return o;
}

static double adj(const SlTape *t, SlNode n) { return mpfr_get_d(sl_tape_adjoint(t, n), RNDN); }
static double val(const SlTape *t, SlNode n) { return mpfr_get_d(sl_tape_value(t, n), RNDN); }

/* |got - want| <= rel * max(|want|, 1) */
static void near(const char *what, double got, double want, double rel)
{
    double scale = fabs(want) > 1 ? fabs(want) : 1;
    ck_assert_msg(fabs(got - want) <= rel * scale, "%s: got %.17g, want %.17g", what, got, want);
}

/* ---- finite differences on a tape of precision 2p + 64 ---- */

typedef bool (*BuildFn)(SlTape *t, const SlNode *x, SlNode *out, SlError *err);

/* Evaluate f at pt (+ h e_i) on tape h, into r. */
static void eval_at(SlTape *h, BuildFn f, int nv, const double *pt, int i, mpfr_srcptr step, int sign, mpfr_ptr r)
{
    sl_tape_reset(h);
    SlNode xs[8];
    mpfr_t x;
    mpfr_init2(x, sl_tape_prec(h));
    for (int j = 0; j < nv; j++) {
        mpfr_set_d(x, pt[j], RNDN);
        if (j == i) {
            int tern = sign > 0 ? mpfr_add(x, x, step, RNDN) : mpfr_sub(x, x, step, RNDN);
            ck_assert(tern == 0);
        }
        xs[j] = sl_tape_var(h, x);
    }
    mpfr_clear(x);
    SlNode out;
    SlError e = {0};
    ck_assert_msg(f(h, xs, &out, &e), "high-precision evaluation failed: %s", e.msg);
    mpfr_set(r, sl_tape_value(h, out), RNDN);
}

/* The tape's gradient at precision p against central differences with
 * step 2^(exponent - p): truncation ~2^-2p, rounding ~2^-(p+64). */
static void check_fd(const char *name, BuildFn f, int nv, const double *pt, mpfr_prec_t p)
{
    SlTape *t = sl_tape_new(p);
    SlNode xs[8];
    for (int j = 0; j < nv; j++)
        xs[j] = var_d(t, pt[j]);
    SlNode out;
    SlError e = {0};
    ck_assert_msg(f(t, xs, &out, &e), "%s: evaluation failed: %s", name, e.msg);
    sl_tape_backward(t, out);

    mpfr_prec_t P = 2 * p + 64;
    SlTape *h = sl_tape_new(P);
    mpfr_t step, fp, fm, d, diff, tol;
    mpfr_inits2(P, step, fp, fm, d, diff, tol, (mpfr_ptr)0);
    for (int i = 0; i < nv; i++) {
        int ex = 0;
        if (pt[i] != 0)
            frexp(pt[i], &ex);
        mpfr_set_ui_2exp(step, 1, ex - (long)p, RNDN);
        eval_at(h, f, nv, pt, i, step, +1, fp);
        eval_at(h, f, nv, pt, i, step, -1, fm);
        mpfr_sub(d, fp, fm, RNDN);
        mpfr_div(d, d, step, RNDN);
        mpfr_div_2ui(d, d, 1, RNDN);
        mpfr_sub(diff, sl_tape_adjoint(t, xs[i]), d, RNDN);
        mpfr_abs(diff, diff, RNDN);
        mpfr_abs(tol, d, RNDN);
        if (mpfr_cmp_ui(tol, 1) < 0)
            mpfr_set_ui(tol, 1, RNDN);
        mpfr_mul_2si(tol, tol, -(long)(p - 20), RNDN);
        ck_assert_msg(mpfr_number_p(d) && mpfr_lessequal_p(diff, tol),
                      "%s at %d bits, d/dx%d: tape %.17g, finite difference %.17g", name, (int)p, i,
                      mpfr_get_d(sl_tape_adjoint(t, xs[i]), RNDN), mpfr_get_d(d, RNDN));
    }
    mpfr_clears(step, fp, fm, d, diff, tol, (mpfr_ptr)0);
    sl_tape_free(h);
    sl_tape_free(t);
}

/* ---- basics ---- */

START_TEST(test_basics)
{
    SlTape *t = sl_tape_new(53);
    ck_assert_int_eq(sl_tape_prec(t), 53);
    ck_assert_uint_eq(sl_tape_size(t), 0);
    SlNode x = var_d(t, 3), y = var_d(t, 4), c = const_d(t, 2);
    ck_assert(!sl_tape_is_const(t, x));
    ck_assert(sl_tape_is_const(t, c));
    SlNode xy = bin(t, SL_OP_MUL, x, y);           /* 12 */
    SlNode s = bin(t, SL_OP_ADD, xy, c);            /* 14 */
    SlNode q = bin(t, SL_OP_DIV, s, y);             /* 3.5 */
    SlNode nq;
    ck_assert(sl_tape_neg(t, q, &nq));              /* -3.5 */
    ck_assert_uint_eq(sl_tape_size(t), 7);
    ck_assert(val(t, nq) == -3.5);
    sl_tape_backward(t, nq);
    /* -(xy + 2)/y: d/dx = -1, d/dy = -(x*y - xy - 2)/y² = 2/16 */
    ck_assert(adj(t, x) == -1);
    ck_assert(adj(t, y) == 0.125);
    ck_assert(adj(t, c) == 0);
    ck_assert(adj(t, nq) == 1);
    /* constants only: a constant */
    SlNode cc = bin(t, SL_OP_MUL, c, c);
    ck_assert(sl_tape_is_const(t, cc));
    ck_assert(val(t, cc) == 4);
    /* unary plus is the node itself */
    SlNode p;
    SlError e = {0};
    ck_assert(sl_tape_unop(t, SL_OP_POS, x, &p, &e) && p == x);
    ck_assert(sl_tape_unop(t, SL_OP_NEG, x, &p, &e) && val(t, p) == -3);
    sl_tape_free(t);
    /* precision is clamped to num.h's range */
    t = sl_tape_new(1);
    ck_assert_int_eq(sl_tape_prec(t), SL_PREC_MIN);
    sl_tape_free(t);
}
END_TEST

START_TEST(test_used_twice)
{
    SlTape *t = sl_tape_new(53);
    SlNode x = var_d(t, 1.5);
    SlNode xx = bin(t, SL_OP_MUL, x, x);
    sl_tape_backward(t, xx);
    ck_assert(adj(t, x) == 3); /* 2x */
    SlNode x2 = bin(t, SL_OP_ADD, x, x);
    sl_tape_backward(t, x2);
    ck_assert(adj(t, x) == 2);
    ck_assert(adj(t, xx) == 0); /* not on the path from x2 */
    SlNode d = bin(t, SL_OP_SUB, x, x);
    sl_tape_backward(t, d);
    ck_assert(adj(t, x) == 0);
    /* x*x + x -> 2x + 1; sin(x)^2 via one node used twice -> 2 sin cos */
    SlNode f = bin(t, SL_OP_ADD, xx, x);
    sl_tape_backward(t, f);
    ck_assert(adj(t, x) == 4);
    SlNode s = fn1(t, SL_FN_SIN, x);
    SlNode ss = bin(t, SL_OP_MUL, s, s);
    sl_tape_backward(t, ss);
    near("sin²", adj(t, x), 2 * sin(1.5) * cos(1.5), 1e-15);
    /* a diamond: y = x*x; z = y*x + y -> 3x² + 2x */
    SlNode z = bin(t, SL_OP_ADD, bin(t, SL_OP_MUL, xx, x), xx);
    sl_tape_backward(t, z);
    ck_assert(adj(t, x) == 3 * 2.25 + 3);
    /* x/x -> 0, x^x -> x^x (1 + log x) */
    SlNode r = bin(t, SL_OP_DIV, x, x);
    sl_tape_backward(t, r);
    ck_assert(adj(t, x) == 0);
    SlNode px = bin(t, SL_OP_POW, x, x);
    sl_tape_backward(t, px);
    near("x^x", adj(t, x), pow(1.5, 1.5) * (1 + log(1.5)), 1e-15);
    sl_tape_free(t);
}
END_TEST

/* ---- closed forms, every function ---- */

/* The derivative of fn at x, at precision P, into d. */
static void closed_form(SlMathFn fn, mpfr_ptr d, double xd)
{
    mpfr_prec_t P = mpfr_get_prec(d);
    mpfr_t x, s;
    mpfr_inits2(P, x, s, (mpfr_ptr)0);
    mpfr_set_d(x, xd, RNDN);
    switch (fn) {
    case SL_FN_SIN: mpfr_cos(d, x, RNDN); break;
    case SL_FN_COS: mpfr_sin(d, x, RNDN), mpfr_neg(d, d, RNDN); break;
    case SL_FN_TAN: mpfr_sec(d, x, RNDN), mpfr_sqr(d, d, RNDN); break;
    case SL_FN_ASIN:
    case SL_FN_ACOS:
        mpfr_sqr(s, x, RNDN), mpfr_ui_sub(s, 1, s, RNDN), mpfr_rec_sqrt(d, s, RNDN);
        if (fn == SL_FN_ACOS)
            mpfr_neg(d, d, RNDN);
        break;
    case SL_FN_ATAN: mpfr_sqr(s, x, RNDN), mpfr_add_ui(s, s, 1, RNDN), mpfr_ui_div(d, 1, s, RNDN); break;
    case SL_FN_SINH: mpfr_cosh(d, x, RNDN); break;
    case SL_FN_COSH: mpfr_sinh(d, x, RNDN); break;
    case SL_FN_TANH: mpfr_sech(d, x, RNDN), mpfr_sqr(d, d, RNDN); break;
    case SL_FN_EXP: mpfr_exp(d, x, RNDN); break;
    case SL_FN_LOG: mpfr_ui_div(d, 1, x, RNDN); break;
    case SL_FN_LOG2: mpfr_const_log2(s, RNDN), mpfr_mul(s, s, x, RNDN), mpfr_ui_div(d, 1, s, RNDN); break;
    case SL_FN_LOG10: mpfr_log_ui(s, 10, RNDN), mpfr_mul(s, s, x, RNDN), mpfr_ui_div(d, 1, s, RNDN); break;
    case SL_FN_SQRT: mpfr_rec_sqrt(d, x, RNDN), mpfr_div_2ui(d, d, 1, RNDN); break;
    case SL_FN_CBRT: /* x^(-2/3) / 3 */
        mpfr_cbrt(s, x, RNDN), mpfr_sqr(s, s, RNDN), mpfr_mul_ui(s, s, 3, RNDN), mpfr_ui_div(d, 1, s, RNDN);
        break;
    case SL_FN_ABS: mpfr_set_si(d, xd > 0 ? 1 : xd < 0 ? -1 : 0, RNDN); break;
    case SL_FN_SIGMOID: /* e^-x / (1 + e^-x)² */
        mpfr_neg(s, x, RNDN), mpfr_exp(s, s, RNDN), mpfr_add_ui(d, s, 1, RNDN), mpfr_sqr(d, d, RNDN);
        mpfr_div(d, s, d, RNDN);
        break;
    case SL_FN_RELU: mpfr_set_ui(d, xd > 0, RNDN); break;
    case SL_FN_SIGN:
    case SL_FN_HEAVISIDE:
    case SL_FN_FLOOR:
    case SL_FN_CEIL:
    case SL_FN_ROUND: mpfr_set_zero(d, 1); break;
    default: ck_abort_msg("no closed form for %s", sl_math_fns[fn].name);
    }
    mpfr_clears(x, s, (mpfr_ptr)0);
}

static const struct {
    SlMathFn fn;
    double x;
} unary_cases[] = {
    {SL_FN_SIN, 0.7},     {SL_FN_SIN, -2.5},     {SL_FN_COS, 0.7},    {SL_FN_COS, 3.0},
    {SL_FN_TAN, 0.7},     {SL_FN_TAN, -1.3},     {SL_FN_ASIN, 0.3},   {SL_FN_ASIN, -0.9},
    {SL_FN_ACOS, 0.3},    {SL_FN_ACOS, -0.9},    {SL_FN_ATAN, 0.7},   {SL_FN_ATAN, -20},
    {SL_FN_SINH, 0.7},    {SL_FN_SINH, -3},      {SL_FN_COSH, 0.7},   {SL_FN_COSH, -3},
    {SL_FN_TANH, 0.7},    {SL_FN_TANH, -4},      {SL_FN_TANH, 0.3},   {SL_FN_TANH, 20},
    {SL_FN_SIGMOID, 12},  {SL_FN_SIGMOID, 40},   {SL_FN_SIGMOID, -40},      {SL_FN_EXP, 0.7},    {SL_FN_EXP, -10},
    {SL_FN_LOG, 0.7},     {SL_FN_LOG, 1e5},      {SL_FN_LOG2, 0.7},   {SL_FN_LOG2, 3},
    {SL_FN_LOG10, 0.7},   {SL_FN_LOG10, 1e-3},   {SL_FN_SQRT, 0.7},   {SL_FN_SQRT, 1e6},
    {SL_FN_CBRT, 0.7},    {SL_FN_CBRT, -8},      {SL_FN_ABS, 0.7},    {SL_FN_ABS, -0.7},
    {SL_FN_ABS, 0},       {SL_FN_SIGMOID, 0.7},  {SL_FN_SIGMOID, -5}, {SL_FN_SIGMOID, 0},
    {SL_FN_RELU, 0.7},    {SL_FN_RELU, -0.7},    {SL_FN_RELU, 0},     {SL_FN_SIGN, -0.7},   {SL_FN_HEAVISIDE, 0.7},
    {SL_FN_FLOOR, 2.5},   {SL_FN_CEIL, 2.5},     {SL_FN_ROUND, 2.5},
};

static void unary_closed(mpfr_prec_t p)
{
    mpfr_prec_t P = p + 64;
    mpfr_t d, diff;
    mpfr_inits2(P, d, diff, (mpfr_ptr)0);
    for (size_t k = 0; k < sizeof unary_cases / sizeof unary_cases[0]; k++) {
        SlMathFn fn = unary_cases[k].fn;
        SlTape *t = sl_tape_new(p);
        SlNode x = var_d(t, unary_cases[k].x);
        SlNode y = fn1(t, fn, x);
        sl_tape_backward(t, y);
        closed_form(fn, d, unary_cases[k].x);
        mpfr_sub(diff, sl_tape_adjoint(t, x), d, RNDN);
        mpfr_abs(diff, diff, RNDN);
        mpfr_abs(d, d, RNDN);
        if (mpfr_cmp_ui(d, 1) < 0)
            mpfr_set_ui(d, 1, RNDN);
        mpfr_mul_2si(d, d, -(long)(p - 4), RNDN); /* a few ulps */
        ck_assert_msg(mpfr_lessequal_p(diff, d), "%s'(%g) at %d bits: got %.17g", sl_math_fns[fn].name,
                      unary_cases[k].x, (int)p, adj(t, x));
        sl_tape_free(t);
    }
    mpfr_clears(d, diff, (mpfr_ptr)0);
}

START_TEST(test_unary_closed_53) { unary_closed(53); }
END_TEST

START_TEST(test_unary_closed_256) { unary_closed(256); }
END_TEST

START_TEST(test_binary_closed)
{
    SlTape *t = sl_tape_new(53);
    SlNode a = var_d(t, 2.5), b = var_d(t, -1.25);
    struct {
        int op;
        double da, db;
    } ops[] = {
        {SL_OP_ADD, 1, 1},
        {SL_OP_SUB, 1, -1},
        {SL_OP_MUL, -1.25, 2.5},
        {SL_OP_DIV, 1 / -1.25, -2.5 / (1.25 * 1.25)},
        {SL_OP_POW, -1.25 * pow(2.5, -2.25), pow(2.5, -1.25) * log(2.5)},
        {SL_OP_MOD, 1, -floor(2.5 / -1.25)},      /* 2.5 % -1.25 = -0.0, 2.5 // -1.25 = -2 */
        {SL_OP_FLOORDIV, 0, 0},
    };
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        SlNode y = bin(t, ops[k].op, a, b);
        sl_tape_backward(t, y);
        near("d/da", adj(t, a), ops[k].da, 1e-15);
        near("d/db", adj(t, b), ops[k].db, 1e-15);
    }
    /* 7.5 % 2: d/db = -(7.5 // 2) = -3;  -7.5 % 2 -> -(-4) = 4 */
    SlNode c = var_d(t, 7.5), m = var_d(t, -7.5), two = var_d(t, 2);
    SlNode y = bin(t, SL_OP_MOD, c, two);
    ck_assert(val(t, y) == 1.5);
    sl_tape_backward(t, y);
    ck_assert(adj(t, c) == 1 && adj(t, two) == -3);
    y = bin(t, SL_OP_MOD, m, two);
    ck_assert(val(t, y) == 0.5);
    sl_tape_backward(t, y);
    ck_assert(adj(t, m) == 1 && adj(t, two) == 4);
    /* atan2(y, x): x/(x²+y²), -y/(x²+y²) */
    SlNode u = var_d(t, 0.5), v = var_d(t, -2);
    y = fn2(t, SL_FN_ATAN2, u, v);
    near("atan2", val(t, y), atan2(0.5, -2), 1e-16);
    sl_tape_backward(t, y);
    near("atan2 d/dy", adj(t, u), -2 / 4.25, 1e-15);
    near("atan2 d/dx", adj(t, v), -0.5 / 4.25, 1e-15);
    /* log(x, b) = ln x / ln b */
    SlNode x = var_d(t, 5), base = var_d(t, 3);
    y = fn2(t, SL_FN_LOG, x, base);
    near("log(5, 3)", val(t, y), log(5) / log(3), 1e-15);
    sl_tape_backward(t, y);
    near("log d/dx", adj(t, x), 1 / (5 * log(3)), 1e-15);
    near("log d/db", adj(t, base), -log(5) / (3 * log(3) * log(3)), 1e-15);
    sl_tape_free(t);
}
END_TEST

START_TEST(test_pow_cases)
{
    SlTape *t = sl_tape_new(53);
    SlNode x = var_d(t, 3), two = const_d(t, 2), three = const_d(t, 3), half = const_d(t, 0.5);
    SlNode y = bin(t, SL_OP_POW, x, two); /* squared */
    ck_assert(val(t, y) == 9);
    sl_tape_backward(t, y);
    ck_assert(adj(t, x) == 6);
    y = bin(t, SL_OP_POW, x, three);
    sl_tape_backward(t, y);
    ck_assert(adj(t, x) == 27);
    y = bin(t, SL_OP_POW, x, half);
    sl_tape_backward(t, y);
    near("sqrt via pow", adj(t, x), 0.5 / sqrt(3), 1e-15);
    /* constant base: d/db = a^b log a */
    SlNode b = var_d(t, 1.5);
    y = bin(t, SL_OP_POW, two, b);
    sl_tape_backward(t, y);
    near("2^b", adj(t, b), pow(2, 1.5) * log(2), 1e-15);
    /* negative base, integer exponent node: d/da fine, d/db nan (as PyTorch) */
    SlNode n = var_d(t, -2), e = var_d(t, 3);
    y = bin(t, SL_OP_POW, n, e);
    ck_assert(val(t, y) == -8);
    sl_tape_backward(t, y);
    ck_assert(adj(t, n) == 12);
    ck_assert(isnan(adj(t, e)));
    /* a = 0: d/db = 0 (PyTorch); 0^1 -> d/da = 1 */
    SlNode z = var_d(t, 0), one = var_d(t, 1);
    y = bin(t, SL_OP_POW, z, one);
    ck_assert(val(t, y) == 0);
    sl_tape_backward(t, y);
    ck_assert(adj(t, z) == 1);
    ck_assert(adj(t, one) == 0);
    y = bin(t, SL_OP_POW, z, e); /* 0^3 */
    sl_tape_backward(t, y);
    ck_assert(adj(t, z) == 0 && adj(t, e) == 0);
    /* exponent 0: the constant 1 for a constant exponent, d/da = 0 for a variable one */
    SlNode c0 = const_d(t, 0), v0 = var_d(t, 0);
    y = bin(t, SL_OP_POW, x, c0);
    ck_assert(val(t, y) == 1 && sl_tape_is_const(t, y));
    y = bin(t, SL_OP_POW, z, v0); /* 0^0 = 1 */
    ck_assert(val(t, y) == 1);
    sl_tape_backward(t, y);
    ck_assert(adj(t, z) == 0 && adj(t, v0) == 0);
    y = bin(t, SL_OP_POW, x, v0);
    sl_tape_backward(t, y);
    ck_assert(adj(t, x) == 0);
    near("3^b at 0", adj(t, v0), log(3), 1e-15);
    sl_tape_free(t);
}
END_TEST

START_TEST(test_nonsmooth)
{
    SlTape *t = sl_tape_new(53);
    SlNode z = var_d(t, 0), a = var_d(t, 2), b = var_d(t, 2), c = var_d(t, 1);
    SlNode y = fn1(t, SL_FN_ABS, z);
    sl_tape_backward(t, y);
    ck_assert(adj(t, z) == 0);
    y = fn1(t, SL_FN_RELU, z);
    sl_tape_backward(t, y);
    ck_assert(adj(t, z) == 0);
    SlMathFn zero_fns[] = {SL_FN_SIGN, SL_FN_HEAVISIDE, SL_FN_FLOOR, SL_FN_CEIL, SL_FN_ROUND};
    for (size_t k = 0; k < 5; k++) {
        y = fn1(t, zero_fns[k], a);
        ck_assert(sl_tape_is_const(t, y));
        sl_tape_backward(t, y);
        ck_assert(adj(t, a) == 0);
    }
    y = bin(t, SL_OP_FLOORDIV, a, c);
    ck_assert(sl_tape_is_const(t, y) && val(t, y) == 2);
    /* max/min: the first argument attaining the extremum */
    SlNode args[3] = {c, a, b};
    SlError e = {0};
    ck_assert(sl_tape_fn(t, SL_FN_MAX, args, 3, &y, &e));
    ck_assert(y == a);
    SlNode y2 = bin(t, SL_OP_MUL, y, c);
    sl_tape_backward(t, y2);
    ck_assert(adj(t, a) == 1 && adj(t, b) == 0 && adj(t, c) == 2);
    ck_assert(sl_tape_fn(t, SL_FN_MIN, args, 3, &y, &e));
    ck_assert(y == c);
    SlNode args2[2] = {a, b};
    ck_assert(sl_tape_fn(t, SL_FN_MIN, args2, 2, &y, &e) && y == a);
    ck_assert(sl_tape_fn(t, SL_FN_MAX, args2, 1, &y, &e) && y == a);
    /* sqrt'(0) = +inf, cbrt'(0) = +inf */
    y = fn1(t, SL_FN_SQRT, z);
    sl_tape_backward(t, y);
    ck_assert(isinf(adj(t, z)) && adj(t, z) > 0);
    y = fn1(t, SL_FN_CBRT, z);
    sl_tape_backward(t, y);
    ck_assert(isinf(adj(t, z)) && adj(t, z) > 0);
    /* a node that does not reach the output does not poison the gradient:
     * sqrt(0) recorded but unused, its input still gets exactly 3 */
    SlNode s0 = fn1(t, SL_FN_SQRT, z);
    (void)s0;
    y = bin(t, SL_OP_MUL, z, const_d(t, 3));
    sl_tape_backward(t, y);
    ck_assert(adj(t, z) == 3);
    sl_tape_free(t);
}
END_TEST

/* ---- finite differences ---- */

static SlMathFn g_fn;
static bool build_fn(SlTape *t, const SlNode *x, SlNode *out, SlError *err)
{
    SlNode u;
    /* fn(x * 0.75 + 0.125), so the chain rule is exercised too */
    mpfr_t c;
    mpfr_init2(c, 53);
    mpfr_set_d(c, 0.75, RNDN);
    SlNode k1 = sl_tape_const(t, c);
    mpfr_set_d(c, 0.125, RNDN);
    SlNode k2 = sl_tape_const(t, c);
    mpfr_clear(c);
    if (!sl_tape_binop(t, SL_OP_MUL, x[0], k1, &u, err) || !sl_tape_binop(t, SL_OP_ADD, u, k2, &u, err))
        return false;
    return sl_tape_fn(t, g_fn, &u, 1, out, err);
}

static const struct {
    SlMathFn fn;
    double x;
} fd_cases[] = {
    {SL_FN_SIN, 1.1},    {SL_FN_COS, 1.1},   {SL_FN_TAN, 1.1},   {SL_FN_ASIN, 0.5},    {SL_FN_ACOS, -0.5},
    {SL_FN_ATAN, 3},     {SL_FN_SINH, 2},    {SL_FN_COSH, -2},   {SL_FN_TANH, 0.9},    {SL_FN_EXP, 2.5},
    {SL_FN_LOG, 2.5},    {SL_FN_LOG2, 2.5},  {SL_FN_LOG10, 2.5}, {SL_FN_SQRT, 2.5},    {SL_FN_CBRT, -2.5},
    {SL_FN_ABS, -2.5},   {SL_FN_ABS, 2.5},   {SL_FN_SIGMOID, 1}, {SL_FN_SIGMOID, -30}, {SL_FN_RELU, 1},
    {SL_FN_RELU, -1},    {SL_FN_FLOOR, 1.3}, {SL_FN_CEIL, 1.3},  {SL_FN_ROUND, 1.3},   {SL_FN_SIGN, 1.3},  {SL_FN_HEAVISIDE, 1.3},
};

static void fd_unary(mpfr_prec_t p)
{
    for (size_t k = 0; k < sizeof fd_cases / sizeof fd_cases[0]; k++) {
        g_fn = fd_cases[k].fn;
        check_fd(sl_math_fns[g_fn].name, build_fn, 1, &fd_cases[k].x, p);
    }
}

START_TEST(test_fd_unary_53) { fd_unary(53); }
END_TEST

START_TEST(test_fd_unary_256) { fd_unary(256); }
END_TEST

static int g_op;
static bool build_binop(SlTape *t, const SlNode *x, SlNode *out, SlError *err)
{
    return sl_tape_binop(t, g_op, x[0], x[1], out, err);
}

static bool build_fn2(SlTape *t, const SlNode *x, SlNode *out, SlError *err)
{
    return sl_tape_fn(t, g_fn, x, 2, out, err);
}

/* A bit of everything: sin(xy) + exp(z/x)·log(y) − x^y + atan2(y, z)
 * + sqrt(x² + y²)·tanh(z) − sigmoid(x)/cosh(y) + cbrt(x·y·z) + log10(x)... */
static bool build_mix(SlTape *t, const SlNode *x, SlNode *out, SlError *err)
{
    SlNode xy, s, zx, e, ly, p, a, x2, y2, r, th, sg, ch, q, xyz, cb, acc;
#define B(op, l, rr, o) if (!sl_tape_binop(t, op, l, rr, &(o), err)) return false
#define F(f, in, o) if (!sl_tape_fn(t, f, &(in), 1, &(o), err)) return false
    B(SL_OP_MUL, x[0], x[1], xy);
    F(SL_FN_SIN, xy, s);
    B(SL_OP_DIV, x[2], x[0], zx);
    F(SL_FN_EXP, zx, e);
    F(SL_FN_LOG, x[1], ly);
    B(SL_OP_MUL, e, ly, e);
    B(SL_OP_ADD, s, e, acc);
    B(SL_OP_POW, x[0], x[1], p);
    B(SL_OP_SUB, acc, p, acc);
    SlNode yz[2] = {x[1], x[2]};
    if (!sl_tape_fn(t, SL_FN_ATAN2, yz, 2, &a, err))
        return false;
    B(SL_OP_ADD, acc, a, acc);
    B(SL_OP_MUL, x[0], x[0], x2);
    B(SL_OP_MUL, x[1], x[1], y2);
    B(SL_OP_ADD, x2, y2, r);
    F(SL_FN_SQRT, r, r);
    F(SL_FN_TANH, x[2], th);
    B(SL_OP_MUL, r, th, r);
    B(SL_OP_ADD, acc, r, acc);
    F(SL_FN_SIGMOID, x[0], sg);
    F(SL_FN_COSH, x[1], ch);
    B(SL_OP_DIV, sg, ch, q);
    B(SL_OP_SUB, acc, q, acc);
    B(SL_OP_MUL, xy, x[2], xyz);
    F(SL_FN_CBRT, xyz, cb);
    B(SL_OP_ADD, acc, cb, acc);
    F(SL_FN_LOG10, x[0], q);
    B(SL_OP_MUL, acc, q, acc);
    F(SL_FN_ATAN, acc, acc);
    SlNode m;
    if (!sl_tape_neg(t, acc, &m))
        return false;
    B(SL_OP_MOD, m, x[1], m);
    B(SL_OP_ADD, acc, m, *out);
#undef B
#undef F
    return true;
}

/* A "def" with a loop and branches, recorded as it runs:
 *   s = x; for k in 1..12: if s < 2: s = s*y + x else: s = sqrt(s) - y/k */
static bool build_loop(SlTape *t, const SlNode *x, SlNode *out, SlError *err)
{
    SlNode s = x[0];
    mpfr_t c;
    mpfr_init2(c, 53);
    for (int k = 1; k <= 12; k++) {
        bool ok;
        if (mpfr_cmp_ui(sl_tape_value(t, s), 2) < 0) {
            ok = sl_tape_binop(t, SL_OP_MUL, s, x[1], &s, err) && sl_tape_binop(t, SL_OP_ADD, s, x[0], &s, err);
        } else {
            mpfr_set_si(c, k, RNDN);
            SlNode kn = sl_tape_const(t, c), q;
            ok = sl_tape_fn(t, SL_FN_SQRT, &s, 1, &s, err) && sl_tape_binop(t, SL_OP_DIV, x[1], kn, &q, err) &&
                 sl_tape_binop(t, SL_OP_SUB, s, q, &s, err);
        }
        if (!ok) {
            mpfr_clear(c);
            return false;
        }
    }
    mpfr_clear(c);
    *out = s;
    return true;
}

START_TEST(test_fd_binary)
{
    static const struct {
        int op;
        double a, b;
    } cases[] = {
        {SL_OP_ADD, 1.3, -0.7}, {SL_OP_SUB, 1.3, -0.7}, {SL_OP_MUL, 1.3, -0.7}, {SL_OP_DIV, 1.3, -0.7},
        {SL_OP_POW, 1.3, -0.7}, {SL_OP_POW, 0.3, 2.5},  {SL_OP_POW, -1.3, 3},   {SL_OP_MOD, 5.3, 1.7},
        {SL_OP_MOD, -5.3, 1.7}, {SL_OP_MOD, 5.3, -1.7}, {SL_OP_FLOORDIV, 5.3, 1.7},
    };
    for (int p = 53; p <= 256; p += 203)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            g_op = cases[k].op;
            double pt[2] = {cases[k].a, cases[k].b};
            if (g_op == SL_OP_POW && pt[0] < 0) { /* d/db is nan: check d/da alone */
                SlTape *t = sl_tape_new(p);
                SlNode a = var_d(t, pt[0]), b = const_d(t, pt[1]);
                SlNode y = bin(t, g_op, a, b);
                sl_tape_backward(t, y);
                near("(-1.3)^3", adj(t, a), 3 * 1.69, 1e-15);
                sl_tape_free(t);
                continue;
            }
            check_fd("binop", build_binop, 2, pt, p);
        }
    double pa[2] = {0.8, -1.9}, pl[2] = {7.5, 2.5};
    for (int p = 53; p <= 256; p += 203) {
        g_fn = SL_FN_ATAN2;
        check_fd("atan2", build_fn2, 2, pa, p);
        g_fn = SL_FN_LOG;
        check_fd("log(x, b)", build_fn2, 2, pl, p);
    }
}
END_TEST

START_TEST(test_fd_composite)
{
    double pt[3] = {1.25, 0.75, 0.5};
    check_fd("mix", build_mix, 3, pt, 53);
    check_fd("mix", build_mix, 3, pt, 256);
    double pl[2] = {0.5, 1.75};
    check_fd("loop", build_loop, 2, pl, 53);
    check_fd("loop", build_loop, 2, pl, 256);
    /* the loop takes both branches at this point */
    SlTape *t = sl_tape_new(53);
    SlNode x[2] = {var_d(t, 0.5), var_d(t, 1.75)}, out;
    SlError e = {0};
    ck_assert(build_loop(t, x, &out, &e));
    size_t n = sl_tape_size(t);
    ck_assert(n > 2 + 2 * 12 && n < 2 + 3 * 12);
    sl_tape_free(t);
}
END_TEST

/* ---- forward values: num.c's, bit for bit, errors included ---- */

static const double grid[] = {-2.5, -1, -0.0, 0.0, 0.5, 0.7, 1, 2, 3, 7.25, -0.3, 1e300,
                              1e-300, 5e-324, 710, INFINITY, -INFINITY, NAN};
#define NGRID (sizeof grid / sizeof grid[0])

static SlValue *fl(double d, mpfr_prec_t p)
{
    SlValue *v = sl_float_new(p);
    mpfr_set_d(v->u.f, d, RNDN);
    return v;
}

/* Compare a tape result (ok, node) with num.c's (r, e). */
static void same(const char *what, const SlTape *t, bool ok, SlNode n, const SlError *te, SlValue *r,
                 const SlError *ne)
{
    if (!r) {
        ck_assert_msg(!ok, "%s: num.c fails (%s) but the tape gives %.17g", what, ne->msg,
                      val(t, n));
        ck_assert_msg(te->code == ne->code && !strcmp(te->msg, ne->msg), "%s: tape says '%s', num.c '%s'",
                      what, te->msg, ne->msg);
        return;
    }
    ck_assert_msg(ok, "%s: the tape fails (%s), num.c does not", what, te->msg);
    mpfr_t want;
    mpfr_init2(want, sl_tape_prec(t));
    if (r->kind == SL_FLOAT)
        mpfr_set(want, r->u.f, RNDN);
    else
        sl_num_to_mpfr(want, r);
    mpfr_srcptr got = sl_tape_value(t, n);
    bool eq = (mpfr_nan_p(got) && mpfr_nan_p(want)) ||
              (mpfr_equal_p(got, want) && mpfr_signbit(got) == mpfr_signbit(want));
    ck_assert_msg(eq, "%s: tape %.17g, num.c %.17g", what, mpfr_get_d(got, RNDN), mpfr_get_d(want, RNDN));
    mpfr_clear(want);
}

static void against_num(mpfr_prec_t p)
{
    mpfr_prec_t saved = sl_num_prec();
    SlTape *t = sl_tape_new(p);
    static const int ops[] = {SL_OP_ADD, SL_OP_SUB, SL_OP_MUL, SL_OP_DIV, SL_OP_FLOORDIV, SL_OP_MOD, SL_OP_POW};
    char what[160];
    for (size_t i = 0; i < NGRID; i++)
        for (size_t j = 0; j < NGRID; j++) {
            SlValue *a = fl(grid[i], p), *b = fl(grid[j], p);
            for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
                sl_tape_reset(t);
                SlNode x = var_d(t, grid[i]), y = var_d(t, grid[j]), o = 0;
                SlError te = {0}, ne = {0};
                bool ok = sl_tape_binop(t, ops[k], x, y, &o, &te);
                ck_assert(sl_num_prec() == saved);
                sl_num_set_prec(p);
                SlValue *r = sl_num_binop(ops[k], a, b, &ne);
                sl_num_set_prec(saved);
                snprintf(what, sizeof what, "%d bits: %g op%d %g", (int)p, grid[i], ops[k] - SL_OP_ADD, grid[j]);
                same(what, t, ok, o, &te, r, &ne);
                if (!ok)
                    ck_assert_uint_eq(sl_tape_size(t), 2); /* nothing recorded */
                if (r)
                    sl_unref(r);
                sl_err_clear(&te);
                sl_err_clear(&ne);
            }
            sl_unref(a);
            sl_unref(b);
        }
    for (int f = 0; f < SL_FN_COUNT; f++) {
        int nargs = sl_math_fns[f].min_args;
        for (int na = nargs; na <= 2; na++) {
            if (sl_math_fns[f].max_args >= 0 && na > sl_math_fns[f].max_args)
                break;
            for (size_t i = 0; i < NGRID; i++)
                for (size_t j = 0; j < (na == 2 ? NGRID : 1); j++) {
                    double second = grid[j];
                    if (f == SL_FN_ROUND && na == 2)
                        second = (double)((int)j - 9); /* ndigits: an int */
                    sl_tape_reset(t);
                    SlNode args[2] = {var_d(t, grid[i]), var_d(t, second)}, o = 0;
                    SlValue *vals[2] = {fl(grid[i], p), f == SL_FN_ROUND ? sl_int_si((long)second) : fl(second, p)};
                    SlError te = {0}, ne = {0};
                    bool ok = sl_tape_fn(t, (SlMathFn)f, args, na, &o, &te);
                    sl_num_set_prec(p);
                    SlValue *r = sl_num_apply((SlMathFn)f, vals, na, &ne);
                    sl_num_set_prec(saved);
                    snprintf(what, sizeof what, "%d bits: %s(%g%s%g)", (int)p, sl_math_fns[f].name, grid[i],
                             na == 2 ? ", " : "", na == 2 ? second : 0.0);
                    same(what, t, ok, o, &te, r, &ne);
                    if (r)
                        sl_unref(r);
                    sl_unref(vals[0]);
                    sl_unref(vals[1]);
                    sl_err_clear(&te);
                    sl_err_clear(&ne);
                }
        }
    }
    sl_tape_free(t);
}

START_TEST(test_values_53) { against_num(53); }
END_TEST

START_TEST(test_values_256) { against_num(256); }
END_TEST

START_TEST(test_errors)
{
    SlTape *t = sl_tape_new(53);
    SlNode x = var_d(t, 2), z = var_d(t, 0), m = var_d(t, -1), big = var_d(t, 1e200), o;
    SlNode keep = bin(t, SL_OP_MUL, x, x);
    size_t n = sl_tape_size(t);
    struct {
        bool ok;
        SlErrCode code;
        const char *msg;
    } want[] = {
        {false, SL_E_ZERODIV, "float division by zero"},
        {false, SL_E_ZERODIV, "float floor division by zero"},
        {false, SL_E_ZERODIV, "float modulo"},
        {false, SL_E_MATH_DOMAIN, "math domain error: log(0.0)"},
        {false, SL_E_MATH_DOMAIN, "math domain error: sqrt(-1.0)"},
        {false, SL_E_OVERFLOW, "math range error"},
        {false, SL_E_OVERFLOW, "(34, 'Numerical result out of range')"},
        {false, SL_E_ZERODIV, "0.0 cannot be raised to a negative power"},
        {false, SL_E_MATH_DOMAIN, "math domain error: acos(2.0)"},
        {false, SL_E_VALUE, "cannot convert float NaN to integer"},
    };
    SlError e[10] = {{0}};
    SlNode huge = var_d(t, 1000), nan_ = var_d(t, NAN);
    n = sl_tape_size(t);
    bool r[10];
    r[0] = sl_tape_binop(t, SL_OP_DIV, x, z, &o, &e[0]);
    r[1] = sl_tape_binop(t, SL_OP_FLOORDIV, x, z, &o, &e[1]);
    r[2] = sl_tape_binop(t, SL_OP_MOD, x, z, &o, &e[2]);
    r[3] = sl_tape_fn(t, SL_FN_LOG, &z, 1, &o, &e[3]);
    r[4] = sl_tape_fn(t, SL_FN_SQRT, &m, 1, &o, &e[4]);
    r[5] = sl_tape_fn(t, SL_FN_EXP, &huge, 1, &o, &e[5]);
    SlNode two = const_d(t, 2);
    n = sl_tape_size(t);
    r[6] = sl_tape_binop(t, SL_OP_POW, big, two, &o, &e[6]);
    r[7] = sl_tape_binop(t, SL_OP_POW, z, m, &o, &e[7]);
    r[8] = sl_tape_fn(t, SL_FN_ACOS, &x, 1, &o, &e[8]);
    r[9] = sl_tape_fn(t, SL_FN_FLOOR, &nan_, 1, &o, &e[9]);
    for (int k = 0; k < 10; k++) {
        ck_assert_msg(!r[k], "case %d succeeded", k);
        ck_assert_msg(e[k].code == want[k].code && !strcmp(e[k].msg, want[k].msg), "case %d: '%s'", k,
                      e[k].msg);
        sl_err_clear(&e[k]);
    }
    /* failures record nothing, and the tape goes on */
    ck_assert_uint_eq(sl_tape_size(t), n);
    sl_tape_backward(t, keep);
    ck_assert(adj(t, x) == 4);
    SlNode y = bin(t, SL_OP_MUL, keep, x);
    sl_tape_backward(t, y);
    ck_assert(adj(t, x) == 12);
    /* Python: float * float overflows to inf without an error */
    y = bin(t, SL_OP_MUL, big, big);
    ck_assert(isinf(val(t, y)));
    /* 256 bits keeps MPFR's exponent range */
    SlTape *w = sl_tape_new(256);
    SlNode bw = var_d(w, 1e200);
    SlNode yw = bin(w, SL_OP_MUL, bw, bw);
    ck_assert(mpfr_number_p(sl_tape_value(w, yw)));
    sl_tape_backward(w, yw);
    ck_assert(mpfr_cmp_d(sl_tape_adjoint(w, bw), 2e200) == 0 || fabs(adj(w, bw) / 2e200 - 1) < 1e-15);
    sl_tape_free(w);
    /* with guard bits, messages show the operands at the user's precision */
    SlError e2 = {0};
    SlTape *g = sl_tape_new(53 + 64);
    SlNode m1 = var_d(g, -0.1);
    ck_assert(!sl_tape_fn(g, SL_FN_LOG, &m1, 1, &o, &e2));
    ck_assert_msg(strlen(e2.msg) > 40, "%s", e2.msg); /* every guard digit */
    sl_err_clear(&e2);
    sl_tape_set_message_prec(g, 53);
    ck_assert(!sl_tape_fn(g, SL_FN_LOG, &m1, 1, &o, &e2));
    ck_assert_str_eq(e2.msg, "math domain error: log(-0.1)");
    sl_err_clear(&e2);
    SlNode big2 = var_d(g, 1e300), three2 = const_d(g, 1e300);
    ck_assert(!sl_tape_binop(g, SL_OP_POW, big2, three2, &o, &e2));
    ck_assert_int_eq(e2.code, SL_E_OVERFLOW);
    sl_err_clear(&e2);
    sl_tape_free(g);
    /* bad argument counts and nodes */
    ck_assert(!sl_tape_fn(t, SL_FN_ATAN2, &x, 1, &o, &e2));
    ck_assert_int_eq(e2.code, SL_E_ARG_COUNT);
    sl_err_clear(&e2);
    ck_assert(!sl_tape_fn(t, SL_FN_MAX, &x, 0, &o, &e2));
    ck_assert_int_eq(e2.code, SL_E_ARG_COUNT);
    sl_err_clear(&e2);
    ck_assert(!sl_tape_binop(t, SL_OP_ADD, x, 1000000, &o, &e2));
    ck_assert_int_eq(e2.code, SL_E_INTERNAL);
    sl_err_clear(&e2);
    ck_assert(!sl_tape_binop(t, SL_OP_MATMUL, x, x, &o, &e2));
    ck_assert_int_eq(e2.code, SL_E_INTERNAL);
    sl_err_clear(&e2);
    sl_tape_free(t);
}
END_TEST

START_TEST(test_limit)
{
    SlTape *t = sl_tape_new(53);
    sl_tape_set_max_bytes(t, 1 << 20);
    SlNode x = var_d(t, 1.0001), y = x, o;
    SlError e = {0};
    size_t k = 0;
    while (sl_tape_binop(t, SL_OP_MUL, y, x, &o, &e))
        y = o, k++;
    ck_assert(k > 1000 && k < 20000);
    ck_assert_int_eq(e.code, SL_E_LIMIT);
    ck_assert_msg(strstr(e.msg, "tape is full") != NULL, "%s", e.msg);
    sl_err_clear(&e);
    ck_assert(!sl_tape_unop(t, SL_OP_NEG, y, &o, &e));
    ck_assert_int_eq(e.code, SL_E_LIMIT);
    sl_err_clear(&e);
    ck_assert(!sl_tape_neg(t, y, &o));
    /* what was recorded is intact */
    sl_tape_backward(t, y);
    near("x^k", adj(t, x), (double)(k + 1) * pow(1.0001, (double)k), 1e-12);
    sl_tape_reset(t);
    sl_tape_set_max_bytes(t, SL_TAPE_MAX_BYTES);
    ck_assert(sl_tape_binop(t, SL_OP_MUL, var_d(t, 2), var_d(t, 3), &o, &e));
    sl_tape_free(t);
}
END_TEST

/* ---- structure: long chains, reuse, jacobians, precision ---- */

#define CHAIN 1000000

typedef struct {
    SlTape *t;
    SlNode out;
} Sweep;

static void *sweep(void *arg)
{
    Sweep *s = arg;
    sl_tape_backward(s->t, s->out);
    return NULL;
}

START_TEST(test_long_chain)
{
    /* y = x; 10^6 times y = y*c + x with c = 1 - 2^-20:
     * dy/dx = c^N + (1 - c^N)/(1 - c) */
    SlTape *t = sl_tape_new(53);
    SlNode x = var_d(t, 0.5), c = const_d(t, 1 - ldexp(1, -20)), y = x;
    for (int k = 0; k < CHAIN / 2; k++)
        y = bin(t, SL_OP_ADD, bin(t, SL_OP_MUL, y, c), x);
    ck_assert_uint_ge(sl_tape_size(t), CHAIN);
    /* the sweep runs on a 64 KiB stack: no recursion */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t th;
    Sweep s = {t, y};
    ck_assert_int_eq(pthread_create(&th, &attr, sweep, &s), 0);
    pthread_join(th, NULL);
    pthread_attr_destroy(&attr);
    mpfr_t cn, w;
    mpfr_inits2(200, cn, w, (mpfr_ptr)0);
    mpfr_set_d(cn, 1 - ldexp(1, -20), RNDN);
    mpfr_pow_ui(cn, cn, CHAIN / 2, RNDN);
    mpfr_ui_sub(w, 1, cn, RNDN);
    mpfr_mul_2ui(w, w, 20, RNDN);
    mpfr_add(w, w, cn, RNDN);
    near("chain", adj(t, x), mpfr_get_d(w, RNDN), 1e-9);
    mpfr_clears(cn, w, (mpfr_ptr)0);
    sl_tape_free(t);
}
END_TEST

/* Extended Rosenbrock: sum 100(v[i+1] - v[i]²)² + (1 - v[i])². */
static SlNode rosen(SlTape *t, const SlNode *v, size_t n)
{
    SlNode c100 = const_d(t, 100), c1 = const_d(t, 1), c2 = const_d(t, 2), s = const_d(t, 0);
    for (size_t i = 0; i + 1 < n; i++) {
        SlNode a = bin(t, SL_OP_POW, v[i], c2);
        a = bin(t, SL_OP_SUB, v[i + 1], a);
        a = bin(t, SL_OP_POW, a, c2);
        a = bin(t, SL_OP_MUL, c100, a);
        SlNode b = bin(t, SL_OP_SUB, c1, v[i]);
        b = bin(t, SL_OP_POW, b, c2);
        s = bin(t, SL_OP_ADD, s, bin(t, SL_OP_ADD, a, b));
    }
    return s;
}

static void rosen_check(mpfr_prec_t p, size_t n)
{
    SlTape *t = sl_tape_new(p);
    SlNode *v = malloc(n * sizeof *v);
    double *pt = malloc(n * sizeof *pt);
    for (size_t i = 0; i < n; i++) {
        pt[i] = 1.5 + 0.125 * (double)((int)(i * 7 % 11) - 5);
        v[i] = var_d(t, pt[i]);
    }
    SlNode f = rosen(t, v, n);
    sl_tape_backward(t, f);
    /* closed form: g_i = -400 v_i (v_{i+1} - v_i²) - 2(1 - v_i) + 200 (v_i - v_{i-1}²) */
    mpfr_prec_t P = p + 64;
    mpfr_t g, a, d, tol;
    mpfr_inits2(P, g, a, d, tol, (mpfr_ptr)0);
    for (size_t i = 0; i < n; i++) {
        mpfr_set_zero(g, 1);
        if (i + 1 < n) {
            mpfr_set_d(a, pt[i], RNDN);
            mpfr_sqr(a, a, RNDN);
            mpfr_d_sub(a, pt[i + 1], a, RNDN);
            mpfr_mul_d(a, a, -400 * pt[i], RNDN);
            mpfr_add(g, g, a, RNDN);
            mpfr_set_d(a, -2 * (1 - pt[i]), RNDN);
            mpfr_add(g, g, a, RNDN);
        }
        if (i > 0) {
            mpfr_set_d(a, pt[i - 1], RNDN);
            mpfr_sqr(a, a, RNDN);
            mpfr_d_sub(a, pt[i], a, RNDN);
            mpfr_mul_ui(a, a, 200, RNDN);
            mpfr_add(g, g, a, RNDN);
        }
        mpfr_sub(d, sl_tape_adjoint(t, v[i]), g, RNDN);
        mpfr_abs(d, d, RNDN);
        mpfr_set_ui_2exp(tol, 1, 16 - (long)p, RNDN); /* terms are ~1e3: a few ulps of them */
        ck_assert_msg(mpfr_lessequal_p(d, tol), "rosenbrock d/dv%zu at %d bits: tape %.17g, closed %.17g", i,
                      (int)p, adj(t, v[i]), mpfr_get_d(g, RNDN));
    }
    mpfr_clears(g, a, d, tol, (mpfr_ptr)0);
    free(v);
    free(pt);
    sl_tape_free(t);
}

START_TEST(test_rosenbrock_53) { rosen_check(53, 1000); }
END_TEST

START_TEST(test_rosenbrock_256) { rosen_check(256, 1000); }
END_TEST

START_TEST(test_reset_reuses)
{
    SlTape *t = sl_tape_new(53);
    SlNode v[1000];
    size_t bytes = 0;
    mpfr_srcptr first = NULL;
    for (int round = 0; round < 5; round++) {
        sl_tape_reset(t);
        ck_assert_uint_eq(sl_tape_size(t), 0);
        for (int i = 0; i < 1000; i++)
            v[i] = var_d(t, 1.5 + round);
        if (round == 0)
            first = sl_tape_value(t, v[0]);
        SlNode f = rosen(t, v, 1000);
        sl_tape_backward(t, f);
        /* at v = c everywhere: -400c(c - c²) - 2(1 - c) + 200(c - c²) */
        double c = 1.5 + round;
        near("rosen middle", adj(t, v[500]), -400 * c * (c - c * c) - 2 * (1 - c) + 200 * (c - c * c), 1e-12);
        if (round == 0)
            bytes = sl_tape_bytes(t);
        ck_assert_uint_eq(sl_tape_bytes(t), bytes); /* no growth */
        ck_assert_ptr_eq(sl_tape_value(t, v[0]), first); /* the same storage */
    }
    /* values stay put while the tape grows */
    sl_tape_reset(t);
    SlNode x = var_d(t, 0.25);
    mpfr_srcptr px = sl_tape_value(t, x);
    SlNode y = x;
    for (int i = 0; i < 100000; i++)
        y = bin(t, SL_OP_ADD, y, x);
    ck_assert(mpfr_cmp_d(px, 0.25) == 0 && sl_tape_value(t, x) == px);
    sl_tape_backward(t, y);
    ck_assert(adj(t, x) == 100001);
    /* a tape at a large precision: chunks shrink to stay small */
    SlTape *big = sl_tape_new(200000);
    SlNode a = var_d(big, 3), b = bin(big, SL_OP_MUL, a, a);
    for (int i = 0; i < 20; i++)
        b = bin(big, SL_OP_ADD, b, a);
    sl_tape_backward(big, b);
    ck_assert(adj(big, a) == 26);
    ck_assert(sl_tape_bytes(big) < 16u << 20);
    sl_tape_free(big);
    sl_tape_free(t);
    sl_tape_free(NULL);
}
END_TEST

START_TEST(test_jacobian)
{
    /* F(x, y) = [x·y, x + y², sin(x)·y]: three sweeps over one tape */
    SlTape *t = sl_tape_new(53);
    SlNode x = var_d(t, 0.5), y = var_d(t, 3);
    SlNode f0 = bin(t, SL_OP_MUL, x, y);
    SlNode f1 = bin(t, SL_OP_ADD, x, bin(t, SL_OP_MUL, y, y));
    SlNode f2 = bin(t, SL_OP_MUL, fn1(t, SL_FN_SIN, x), y);
    double J[3][2] = {{3, 0.5}, {1, 6}, {3 * cos(0.5), sin(0.5)}};
    SlNode outs[3] = {f0, f1, f2};
    for (int pass = 0; pass < 2; pass++)
        for (int r = 0; r < 3; r++) {
            sl_tape_backward(t, outs[r]);
            near("J x", adj(t, x), J[r][0], 1e-15);
            near("J y", adj(t, y), J[r][1], 1e-15);
            ck_assert(adj(t, outs[r]) == 1);
            for (int q = 0; q < 3; q++)
                if (outs[q] > outs[r])
                    ck_assert(adj(t, outs[q]) == 0); /* recorded after the output */
        }
    sl_tape_free(t);
}
END_TEST

START_TEST(test_precision)
{
    /* d/dx x³ at x = 1/3 (inexact) at 256 bits: 3x² to ~2^-250 */
    SlTape *t = sl_tape_new(256);
    mpfr_t third, want, d;
    mpfr_inits2(256, third, want, d, (mpfr_ptr)0);
    mpfr_set_ui(third, 1, RNDN);
    mpfr_div_ui(third, third, 3, RNDN);
    SlNode x = sl_tape_var(t, third);
    mpfr_t three;
    mpfr_init2(three, 53);
    mpfr_set_ui(three, 3, RNDN);
    SlNode y = bin(t, SL_OP_POW, x, sl_tape_const(t, three));
    sl_tape_backward(t, y);
    mpfr_sqr(want, third, RNDN);
    mpfr_mul_ui(want, want, 3, RNDN);
    mpfr_sub(d, sl_tape_adjoint(t, x), want, RNDN);
    ck_assert(mpfr_zero_p(d) || mpfr_get_exp(d) < -248);
    ck_assert(mpfr_get_prec(sl_tape_adjoint(t, x)) == 256);
    ck_assert(mpfr_get_prec(sl_tape_value(t, y)) == 256);
    /* a var given at another precision is rounded to the tape's */
    mpfr_t fine;
    mpfr_init2(fine, 1000);
    mpfr_const_pi(fine, RNDN);
    SlNode pi = sl_tape_var(t, fine);
    mpfr_set_prec(d, 256);
    mpfr_const_pi(d, RNDN);
    ck_assert(mpfr_equal_p(sl_tape_value(t, pi), d));
    /* 53 bits is Python's float: exp(1) is the double */
    SlTape *s = sl_tape_new(53);
    SlNode one = var_d(s, 1);
    ck_assert(val(s, fn1(s, SL_FN_EXP, one)) == exp(1.0));
    /* subnormal adjoints as in IEEE doubles */
    SlNode tiny = var_d(s, 1e-300);
    SlNode p = bin(s, SL_OP_MUL, tiny, tiny); /* 1e-600: 0 in doubles */
    ck_assert(val(s, p) == 0);
    SlNode q = bin(s, SL_OP_MUL, p, tiny);
    sl_tape_backward(s, q);
    ck_assert(adj(s, p) == 1e-300);
    ck_assert(adj(s, tiny) == 0); /* 2·tiny·0 + tiny·tiny -> underflow */
    sl_tape_free(s);
    mpfr_clears(third, want, d, three, fine, (mpfr_ptr)0);
    sl_tape_free(t);
}
END_TEST

static Suite *reverse_suite(void)
{
    Suite *s = suite_create("reverse");
    TCase *tc = tcase_create("tape");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_basics);
    tcase_add_test(tc, test_used_twice);
    tcase_add_test(tc, test_unary_closed_53);
    tcase_add_test(tc, test_unary_closed_256);
    tcase_add_test(tc, test_binary_closed);
    tcase_add_test(tc, test_pow_cases);
    tcase_add_test(tc, test_nonsmooth);
    tcase_add_test(tc, test_fd_unary_53);
    tcase_add_test(tc, test_fd_unary_256);
    tcase_add_test(tc, test_fd_binary);
    tcase_add_test(tc, test_fd_composite);
    tcase_add_test(tc, test_values_53);
    tcase_add_test(tc, test_values_256);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_limit);
    tcase_add_test(tc, test_long_chain);
    tcase_add_test(tc, test_rosenbrock_53);
    tcase_add_test(tc, test_rosenbrock_256);
    tcase_add_test(tc, test_reset_reuses);
    tcase_add_test(tc, test_jacobian);
    tcase_add_test(tc, test_precision);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reverse_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
