/* test_diff.c -- symbolic differentiation through its C API.
 *
 * Every rule has a golden printed result (unicode) and is checked
 * numerically: the symbolic derivative against a central difference taken
 * at 256-bit MPFR precision (h = 2^-60) at three random points of the
 * case's interval (y = 0.7, z = 1.3 elsewhere).  Then the DESIGN.md
 * examples, higher and mixed derivatives, the logistic map's linear size,
 * taylor and explain.  Every test checks that no node is left behind. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "expr.h"
#include "num.h"
#include "simplify.h"

/* ---- a small reader for test inputs: ascii math into the DAG ----
 * expr := term {('+'|'-') term}; term := unary {('*'|'/'|implicit) unary};
 * unary := '-' unary | power; power := atom ['^' unary];
 * atom := int | float | name | name '(' expr {',' expr} ')' | '(' expr ')'.
 * Integers are exact; n/m of integers is exact; pi and e are constants. */
typedef struct Rd {
    const char *s; /* cursor */
} Rd;

static SlExpr *rd_expr(Rd *r);

static void rd_ws(Rd *r)
{
    while (*r->s == ' ')
        r->s++;
}

static SlExpr *rd_take2(SlExpr *res, SlExpr *a, SlExpr *b)
{
    sl_expr_unref(a);
    sl_expr_unref(b);
    return res;
}

static SlExpr *rd_atom(Rd *r)
{
    rd_ws(r);
    const char *s = r->s;
    if (*s == '(') {
        r->s++;
        SlExpr *e = rd_expr(r);
        rd_ws(r);
        ck_assert_int_eq(*r->s, ')');
        r->s++;
        return e;
    }
    if ((*s >= '0' && *s <= '9') || *s == '.') {
        const char *t = s;
        bool flt = false;
        while ((*t >= '0' && *t <= '9') || *t == '.') {
            flt = flt || *t == '.';
            t++;
        }
        char buf[64];
        memcpy(buf, s, (size_t)(t - s));
        buf[t - s] = 0;
        r->s = t;
        if (flt) {
            mpfr_t f;
            mpfr_init2(f, 53);
            mpfr_set_str(f, buf, 10, MPFR_RNDN);
            SlExpr *e = sl_expr_flt(f);
            mpfr_clear(f);
            return e;
        }
        return sl_expr_int(atol(buf));
    }
    const char *t = s;
    while ((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (t > s && *t >= '0' && *t <= '9') || *t == '_')
        t++;
    ck_assert_msg(t > s, "bad input at '%s'", s);
    char name[64];
    memcpy(name, s, (size_t)(t - s));
    name[t - s] = 0;
    r->s = t;
    rd_ws(r);
    if (*r->s == '(') {
        int fn = sl_math_fn_lookup(name);
        ck_assert_msg(fn >= 0, "unknown function %s", name);
        r->s++;
        SlExpr *args[8];
        size_t n = 0;
        for (;;) {
            args[n++] = rd_expr(r);
            rd_ws(r);
            if (*r->s == ',') {
                r->s++;
                continue;
            }
            ck_assert_int_eq(*r->s, ')');
            r->s++;
            break;
        }
        SlExpr *e = sl_expr_fn((SlMathFn)fn, args, n);
        for (size_t i = 0; i < n; i++)
            sl_expr_unref(args[i]);
        return e;
    }
    if (strcmp(name, "pi") == 0)
        return sl_expr_const(SL_CONST_PI);
    if (strcmp(name, "e") == 0)
        return sl_expr_const(SL_CONST_E);
    return sl_expr_sym(name);
}

static SlExpr *rd_unary(Rd *r);

static SlExpr *rd_power(Rd *r)
{
    SlExpr *a = rd_atom(r);
    rd_ws(r);
    if (*r->s == '^') {
        r->s++;
        SlExpr *b = rd_unary(r);
        return rd_take2(sl_expr_pow(a, b), a, b);
    }
    return a;
}

static SlExpr *rd_unary(Rd *r)
{
    rd_ws(r);
    if (*r->s == '-') {
        r->s++;
        SlExpr *a = rd_unary(r);
        SlExpr *e = sl_expr_neg(a);
        sl_expr_unref(a);
        return e;
    }
    return rd_power(r);
}

static SlExpr *rd_term(Rd *r)
{
    SlExpr *a = rd_unary(r);
    for (;;) {
        rd_ws(r);
        char c = *r->s;
        if (c == '*' || c == '/') {
            r->s++;
            SlExpr *b = rd_unary(r);
            a = rd_take2(c == '*' ? sl_expr_mul(a, b) : sl_expr_div(a, b), a, b);
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '(') {
            SlExpr *b = rd_unary(r); /* implicit: 2x, 3(x + 1) */
            a = rd_take2(sl_expr_mul(a, b), a, b);
        } else {
            return a;
        }
    }
}

static SlExpr *rd_expr(Rd *r)
{
    SlExpr *a = rd_term(r);
    for (;;) {
        rd_ws(r);
        char c = *r->s;
        if (c != '+' && c != '-')
            return a;
        r->s++;
        SlExpr *b = rd_term(r);
        a = rd_take2(c == '+' ? sl_expr_add(a, b) : sl_expr_sub(a, b), a, b);
    }
}

/* The expression written in s (ascii). */
static SlExpr *X(const char *s)
{
    Rd r = {s};
    SlExpr *e = rd_expr(&r);
    rd_ws(&r);
    ck_assert_msg(*r.s == 0, "trailing input '%s' in '%s'", r.s, s);
    return e;
}

static char *show(const SlExpr *e, SlStyle st)
{
    SlBuf b;
    sl_buf_init(&b);
    sl_expr_print(&b, e, st);
    return sl_buf_take(&b);
}

#define CHECK_STR(got, want)                                                                                     \
    do {                                                                                                         \
        char *g_ = (got);                                                                                        \
        ck_assert_str_eq(g_, (want));                                                                            \
        free(g_);                                                                                                \
    } while (0)

static SlExpr *D(const char *s, const char *var)
{
    SlError err = {0};
    SlExpr *e = X(s);
    SlExpr *d = sl_diff(e, var, &err);
    ck_assert_ptr_nonnull(d);
    ck_assert(!err.set);
    sl_expr_unref(e);
    return d;
}

/* d/dvar of s printed in style st equals want */
static void DS(const char *s, const char *var, SlStyle st, const char *want)
{
    SlExpr *d = D(s, var);
    CHECK_STR(show(d, st), want);
    sl_expr_unref(d);
}

/* ---- numeric evaluation at 256 bits ---- */

#define PREC 256

static void eval_at(mpfr_t out, SlExpr *e, double x, double dx)
{
    const char *names[3] = {"x", "y", "z"};
    SlValue *v[3];
    for (int i = 0; i < 3; i++)
        v[i] = sl_float_new(PREC);
    mpfr_set_d(v[0]->u.f, x, MPFR_RNDN);
    mpfr_add_d(v[0]->u.f, v[0]->u.f, dx, MPFR_RNDN);
    mpfr_set_d(v[1]->u.f, 0.7, MPFR_RNDN);
    mpfr_set_d(v[2]->u.f, 1.3, MPFR_RNDN);
    SlError err = {0};
    SlValue *r = sl_expr_subs(e, names, v, 3, &err);
    ck_assert_msg(r != NULL, "evaluation failed: %s", err.msg);
    ck_assert(sl_is_number(r));
    sl_num_to_mpfr(out, r);
    sl_unref(r);
    for (int i = 0; i < 3; i++)
        sl_unref(v[i]);
    sl_err_clear(&err);
}

/* |d(x) − (f(x + h) − f(x − h))/2h| small, relative to max(1, |d|) */
static void check_numeric(SlExpr *f, SlExpr *d, double x)
{
    mpfr_t a, b, c, t;
    mpfr_inits2(PREC, a, b, c, t, (mpfr_ptr)0);
    double h = ldexp(1.0, -60);
    eval_at(a, f, x, h);
    eval_at(b, f, x, -h);
    mpfr_sub(t, a, b, MPFR_RNDN);
    mpfr_div_d(t, t, 2 * h, MPFR_RNDN);
    eval_at(c, d, x, 0);
    mpfr_sub(a, c, t, MPFR_RNDN);
    mpfr_abs(a, a, MPFR_RNDN);
    double scale = fmax(1.0, fabs(mpfr_get_d(c, MPFR_RNDN)));
    double errv = mpfr_get_d(a, MPFR_RNDN) / scale;
    ck_assert_msg(errv < 1e-25, "at x = %.17g: symbolic %.17g, central difference %.17g", x,
                  mpfr_get_d(c, MPFR_RNDN), mpfr_get_d(t, MPFR_RNDN));
    mpfr_clears(a, b, c, t, (mpfr_ptr)0);
}

static uint64_t rng = 88172645463325252ULL;
static double uniform(double lo, double hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

static size_t baseline;
static mpfr_prec_t saved_prec;

static void setup(void)
{
    baseline = sl_expr_live_count();
    saved_prec = sl_num_prec();
    sl_expr_set_style(SL_STYLE_UNICODE);
}

static void teardown(void)
{
    sl_num_set_prec(saved_prec);
    ck_assert_uint_eq(sl_expr_live_count(), baseline);
}

/* ---- every rule ---- */

typedef struct Case {
    const char *in;   /* f(x), ascii */
    const char *want; /* d/dx f, unicode */
    double lo, hi;    /* where to check numerically */
} Case;

static const Case cases[] = {
    {"x^2 - 4x", "2x \xe2\x88\x92 4", 0.1, 3},
    {"x^2 + x - 6", "2x + 1", -2, 2},
    {"x^3/3", "x\xc2\xb2", -2, 2},
    {"x/3", "1/3", -2, 2},
    {"5", "0", -2, 2},
    {"y", "0", -2, 2},
    {"x", "1", -2, 2},
    {"3x^4 - 2x^3 + x - 7", "12x\xc2\xb3 \xe2\x88\x92 6x\xc2\xb2 + 1", -2, 2},
    {"(x+1)^2", "2\xc2\xb7(x + 1)", -2, 2},
    {"(2x+1)^3", "6\xc2\xb7(2x + 1)\xc2\xb2", -2, 2},
    {"x^(1/2)", "1/(2\xe2\x88\x9ax)", 0.2, 3},
    {"1/x", "\xe2\x88\x92" "1/x\xc2\xb2", 0.2, 3},
    {"1/x^2", "\xe2\x88\x92" "2/x\xc2\xb3", 0.2, 3},
    {"x^-3", "\xe2\x88\x92" "3/x\xe2\x81\xb4", 0.2, 3},
    {"sqrt(x)", "1/(2\xe2\x88\x9ax)", 0.2, 3},
    {"cbrt(x)", "1/(3\xc2\xb7" "cbrt(x)\xc2\xb2)", 0.2, 3},
    {"x^x", "x^x\xc2\xb7(log(x) + 1)", 0.2, 3},
    {"2^x", "2^x\xc2\xb7log(2)", -2, 2},
    {"e^x", "e^x", -2, 2},
    {"x^y", "y\xc2\xb7x^(y \xe2\x88\x92 1)", 0.2, 3},
    {"y^x", "y^x\xc2\xb7log(y)", -2, 2},
    {"x^2*sin(x)", "x\xc2\xb2\xc2\xb7" "cos(x) + 2x\xc2\xb7sin(x)", -2, 2},
    {"sin(x)*exp(x)", "exp(x)\xc2\xb7sin(x) + exp(x)\xc2\xb7" "cos(x)", -2, 2},
    {"x*y*z", "y\xc2\xb7z", -2, 2},
    {"x/(x+1)", "1/(x + 1)\xc2\xb2", 0.2, 3},
    {"x/(x^2+1)", "(1 \xe2\x88\x92 x\xc2\xb2)/(x\xc2\xb2 + 1)\xc2\xb2", -2, 2},
    {"exp(x)/x", "(x\xc2\xb7" "exp(x) \xe2\x88\x92 exp(x))/x\xc2\xb2", 0.2, 3},
    {"(x+1)/(x-1)", "\xe2\x88\x92" "2/(x \xe2\x88\x92 1)\xc2\xb2", 1.2, 3},
    {"sin(x)", "cos(x)", -2, 2},
    {"cos(x)", "\xe2\x88\x92sin(x)", -2, 2},
    {"tan(x)", "tan(x)\xc2\xb2 + 1", -1.2, 1.2},
    {"asin(x)", "1/\xe2\x88\x9a(1 \xe2\x88\x92 x\xc2\xb2)", -0.9, 0.9},
    {"acos(x)", "\xe2\x88\x92" "1/\xe2\x88\x9a(1 \xe2\x88\x92 x\xc2\xb2)", -0.9, 0.9},
    {"atan(x)", "1/(x\xc2\xb2 + 1)", -2, 2},
    {"atan2(x, 2)", "2/(x\xc2\xb2 + 4)", -2, 2},
    {"atan2(y, x)", "\xe2\x88\x92y/(x\xc2\xb2 + y\xc2\xb2)", 0.2, 2},
    {"atan2(x, y)", "y/(x\xc2\xb2 + y\xc2\xb2)", -2, 2},
    {"sinh(x)", "cosh(x)", -2, 2},
    {"cosh(x)", "sinh(x)", -2, 2},
    {"tanh(x)", "1 \xe2\x88\x92 tanh(x)\xc2\xb2", -2, 2},
    {"exp(x)", "exp(x)", -2, 2},
    {"log(x)", "1/x", 0.2, 3},
    {"log2(x)", "1/(x\xc2\xb7log(2))", 0.2, 3},
    {"log10(x)", "1/(x\xc2\xb7log(10))", 0.2, 3},
    {"abs(x)", "sign(x)", 0.2, 3},
    {"sign(x)", "0", 0.2, 3},
    {"floor(x)", "0", 0.2, 0.8},
    {"ceil(x)", "0", 0.2, 0.8},
    {"round(x)", "0", 0.1, 0.4},
    {"sigmoid(x)", "\xcf\x83(x)\xc2\xb7(1 \xe2\x88\x92 \xcf\x83(x))", -2, 2},
    {"relu(x)", "heaviside(x)", 0.2, 3},
    {"max(x, 0)", "1 \xe2\x88\x92 heaviside(\xe2\x88\x92x)", 0.2, 3},
    {"min(x, 1)", "1 \xe2\x88\x92 heaviside(x \xe2\x88\x92 1)", 0.2, 0.8},
    {"max(x, x^2)", "2x\xc2\xb7heaviside(x\xc2\xb2 \xe2\x88\x92 x) \xe2\x88\x92 heaviside(x\xc2\xb2 \xe2\x88\x92 x) + 1", 1.2, 3},
    {"min(x, y, x^2)", "2x\xc2\xb7heaviside(x \xe2\x88\x92 min(y, x\xc2\xb2))\xc2\xb7heaviside(y \xe2\x88\x92 x\xc2\xb2) \xe2\x88\x92 heaviside(x \xe2\x88\x92 min(y, x\xc2\xb2)) + 1", 0.1, 0.6},
    {"heaviside(x)", "0", 0.2, 3},
    {"sin(x^2)", "2x\xc2\xb7" "cos(x\xc2\xb2)", -2, 2},
    {"exp(-x^2/2)", "\xe2\x88\x92x\xc2\xb7" "exp(\xe2\x88\x92x\xc2\xb2/2)", -2, 2},
    {"log(sin(x))", "cos(x)/sin(x)", 0.2, 3},
    {"sqrt(x^2 + 1)", "x/\xe2\x88\x9a(x\xc2\xb2 + 1)", -2, 2},
    {"sin(cos(x))", "\xe2\x88\x92sin(x)\xc2\xb7" "cos(cos(x))", -2, 2},
    {"exp(sin(x))", "exp(sin(x))\xc2\xb7" "cos(x)", -2, 2},
    {"tanh(2x)", "2\xc2\xb7(1 \xe2\x88\x92 tanh(2x)\xc2\xb2)", -2, 2},
    {"sigmoid(2x + 1)", "2\xc2\xb7\xcf\x83(2x + 1)\xc2\xb7(1 \xe2\x88\x92 \xcf\x83(2x + 1))", -2, 2},
    {"relu(x^2 - 1)", "2x\xc2\xb7heaviside(x\xc2\xb2 \xe2\x88\x92 1)", 1.2, 3},
    {"abs(sin(x))", "cos(x)\xc2\xb7sign(sin(x))", 0.2, 3},
    {"log(x^2 + 1)", "2x/(x\xc2\xb2 + 1)", -2, 2},
    {"1/(1 + exp(-x))", "exp(\xe2\x88\x92x)/(exp(\xe2\x88\x92x) + 1)\xc2\xb2", -2, 2},
    {"x^3*y^2 + sin(x*y)", "3x\xc2\xb2\xc2\xb7y\xc2\xb2 + y\xc2\xb7" "cos(x\xc2\xb7y)", -2, 2},
    {"pi*x^2", "2\xcf\x80\xc2\xb7x", -2, 2},
    {"cos(x)^2 + sin(x)^2", "0", -2, 2},
    {"x*exp(x)", "x\xc2\xb7" "exp(x) + exp(x)", -2, 2},
    {"log(exp(x))", "1", -2, 2},
    {"1.5x^2", "3.0x", -2, 2},
    {"x^2.5", "2.5x^1.5", 0.2, 3},
    {"(x^2 + 1)^10", "20x\xc2\xb7(x\xc2\xb2 + 1)\xe2\x81\xb9", -1, 1},
    {"sin(x)*cos(x)", "cos(x)\xc2\xb2 \xe2\x88\x92 sin(x)\xc2\xb2", -2, 2},
    {"x^2/(x+1)^2", "2x/(x + 1)\xc2\xb3", 0.2, 3},
    {"sqrt(1 - x^2)", "\xe2\x88\x92x/\xe2\x88\x9a(1 \xe2\x88\x92 x\xc2\xb2)", -0.9, 0.9},
    {"x*log(x) - x", "log(x)", 0.2, 3},
    {"exp(x)*cos(x) + exp(x)*sin(x)", "2\xc2\xb7" "exp(x)\xc2\xb7" "cos(x)", -2, 2},
    {"4x*(1 - x)", "4\xc2\xb7(1 \xe2\x88\x92 2x)", -2, 2},
    {"atan(1/x)", "\xe2\x88\x92" "1/(x\xc2\xb2\xc2\xb7(1/x\xc2\xb2 + 1))", 0.2, 3},
    {"x^2*y + y^3", "2x\xc2\xb7y", -2, 2},
};

#define NCASES ((int)(sizeof cases / sizeof cases[0]))

START_TEST(test_rule)
{
    const Case *c = &cases[_i];
    SlExpr *f = X(c->in);
    SlError err = {0};
    SlExpr *d = sl_diff(f, "x", &err);
    ck_assert_ptr_nonnull(d);
    char *got = show(d, SL_STYLE_UNICODE);
    ck_assert_msg(strcmp(got, c->want) == 0, "d/dx %s: got \"%s\", want \"%s\"", c->in, got, c->want);
    free(got);
    sl_num_set_prec(PREC);
    rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(_i + 1);
    for (int k = 0; k < 3; k++)
        check_numeric(f, d, uniform(c->lo, c->hi));
    sl_expr_unref(d);
    sl_expr_unref(f);
}
END_TEST

START_TEST(test_case_count)
{
    ck_assert_int_ge(NCASES, 60);
    /* every builtin has a rule among the cases */
    for (int fn = 0; fn < SL_FN_COUNT; fn++) {
        bool seen = false;
        for (int i = 0; i < NCASES && !seen; i++) {
            const char *p = strstr(cases[i].in, sl_math_fns[fn].name);
            seen = p && p[strlen(sl_math_fns[fn].name)] == '(';
        }
        ck_assert_msg(seen, "no case for %s", sl_math_fns[fn].name);
    }
}
END_TEST

/* ---- the examples of DESIGN.md ---- */

START_TEST(test_design_examples)
{
    DS("x^2 - 4x", "x", SL_STYLE_UNICODE, "2x \xe2\x88\x92 4");
    DS("x^3/3", "x", SL_STYLE_UNICODE, "x\xc2\xb2");
    DS("x/3", "x", SL_STYLE_UNICODE, "1/3");
    /* grad of x³·y² + sin(x·y) */
    DS("x^3*y^2 + sin(x*y)", "x", SL_STYLE_UNICODE, "3x\xc2\xb2\xc2\xb7y\xc2\xb2 + y\xc2\xb7" "cos(x\xc2\xb7y)");
    DS("x^3*y^2 + sin(x*y)", "y", SL_STYLE_UNICODE, "2x\xc2\xb3\xc2\xb7y + x\xc2\xb7" "cos(x\xc2\xb7y)");
    /* f(x) = x² + x − 6: f' = 2x + 1, f'' = 2 */
    SlError err = {0};
    SlExpr *f = X("x^2 + x - 6");
    SlExpr *d1 = sl_diff_n(f, "x", 1, &err), *d2 = sl_diff_n(f, "x", 2, &err);
    CHECK_STR(show(d1, SL_STYLE_UNICODE), "2x + 1");
    CHECK_STR(show(d2, SL_STYLE_UNICODE), "2");
    sl_expr_unref(d1);
    sl_expr_unref(d2);
    sl_expr_unref(f);
    /* diff(sin(x)·exp(x), x, 2) */
    f = X("sin(x)*exp(x)");
    d2 = sl_diff_n(f, "x", 2, &err);
    CHECK_STR(show(d2, SL_STYLE_UNICODE), "2\xc2\xb7" "exp(x)\xc2\xb7" "cos(x)");
    sl_expr_unref(d2);
    sl_expr_unref(f);
    ck_assert(!err.set);
}
END_TEST

START_TEST(test_styles)
{
    DS("x^2 - 4x", "x", SL_STYLE_ASCII, "2*x - 4");
    DS("x^2 - 4x", "x", SL_STYLE_LATEX, "2 x - 4");
    DS("x^3*y^2 + sin(x*y)", "x", SL_STYLE_ASCII, "3*x^2*y^2 + y*cos(x*y)");
    DS("atan(x)", "x", SL_STYLE_LATEX, "\\frac{1}{x^{2} + 1}");
    DS("sqrt(x)", "x", SL_STYLE_LATEX, "\\frac{1}{2 \\sqrt{x}}");
    DS("sigmoid(x)", "x", SL_STYLE_LATEX,
       "\\sigma{\\left(x\\right)} \\left(1 - \\sigma{\\left(x\\right)}\\right)");
    DS("x/3", "x", SL_STYLE_LATEX, "\\frac{1}{3}");
}
END_TEST

/* ---- higher and mixed derivatives ---- */

START_TEST(test_diff_n)
{
    SlError err = {0};
    SlExpr *f = X("x^5 + y*x");
    SlExpr *d = sl_diff_n(f, "x", 3, &err);
    CHECK_STR(show(d, SL_STYLE_UNICODE), "60x\xc2\xb2");
    sl_expr_unref(d);
    d = sl_diff_n(f, "x", 6, &err);
    CHECK_STR(show(d, SL_STYLE_UNICODE), "0");
    sl_expr_unref(d);
    d = sl_diff_n(f, "x", 0, &err); /* the function itself, simplified */
    CHECK_STR(show(d, SL_STYLE_UNICODE), "x\xe2\x81\xb5 + x\xc2\xb7y");
    sl_expr_unref(d);
    sl_expr_unref(f);
    f = X("sin(x)");
    d = sl_diff_n(f, "x", 4, &err);
    ck_assert_ptr_eq(d, f); /* the fourth derivative of sin is sin: the same node */
    sl_expr_unref(d);
    d = sl_diff_n(f, "x", 1001, &err);
    CHECK_STR(show(d, SL_STYLE_UNICODE), "cos(x)");
    sl_expr_unref(d);
    d = sl_diff_n(f, "x", 1000000000000002L, &err); /* round the cycle: instant */
    CHECK_STR(show(d, SL_STYLE_UNICODE), "\xe2\x88\x92sin(x)");
    sl_expr_unref(d);
    SlExpr *ex = X("exp(x + y)");
    d = sl_diff_n(ex, "x", 1000000000000L, &err);
    ck_assert_ptr_eq(d, ex);
    sl_expr_unref(d);
    sl_expr_unref(ex);
    ck_assert(!err.set);
    ck_assert_ptr_null(sl_diff_n(f, "x", -1, &err));
    ck_assert(err.set);
    ck_assert_int_eq(err.code, SL_E_VALUE);
    sl_err_clear(&err);
    sl_expr_unref(f);
    f = X("exp(x)*x^3");
    d = sl_diff_n(f, "x", 3, &err);
    CHECK_STR(show(d, SL_STYLE_UNICODE),
              "x\xc2\xb3\xc2\xb7" "exp(x) + 9x\xc2\xb2\xc2\xb7" "exp(x) + 18x\xc2\xb7" "exp(x) + 6\xc2\xb7" "exp(x)");
    sl_expr_unref(d);
    sl_expr_unref(f);
}
END_TEST

START_TEST(test_mixed_partials)
{
    static const char *const fs[] = {"x^3*y^2 + sin(x*y)", "exp(x*y)/(x + y)", "atan2(y, x)", "log(x^2 + y^2)",
                                     "x^y", "sigmoid(x*y)*tanh(y)"};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) {
        SlExpr *f = X(fs[i]);
        SlError err = {0};
        SlExpr *fx = sl_diff(f, "x", &err), *fy = sl_diff(f, "y", &err);
        SlExpr *fxy = sl_diff(fx, "y", &err), *fyx = sl_diff(fy, "x", &err);
        /* equal values at a point (they may be written differently) */
        sl_num_set_prec(PREC);
        mpfr_t a, b;
        mpfr_inits2(PREC, a, b, (mpfr_ptr)0);
        eval_at(a, fxy, 0.9, 0);
        eval_at(b, fyx, 0.9, 0);
        mpfr_sub(a, a, b, MPFR_RNDN);
        ck_assert_msg(fabs(mpfr_get_d(a, MPFR_RNDN)) < 1e-60, "%s: f_xy != f_yx", fs[i]);
        mpfr_clears(a, b, (mpfr_ptr)0);
        sl_expr_unref(f);
        sl_expr_unref(fx);
        sl_expr_unref(fy);
        sl_expr_unref(fxy);
        sl_expr_unref(fyx);
    }
    /* a polynomial's mixed partials are one node */
    SlExpr *f = X("x^3*y^2 + x*y^4 - 7x*y");
    SlError err = {0};
    SlExpr *fx = sl_diff(f, "x", &err), *fy = sl_diff(f, "y", &err);
    SlExpr *fxy = sl_diff(fx, "y", &err), *fyx = sl_diff(fy, "x", &err);
    ck_assert_ptr_eq(fxy, fyx);
    CHECK_STR(show(fxy, SL_STYLE_UNICODE), "6x\xc2\xb2\xc2\xb7y + 4y\xc2\xb3 \xe2\x88\x92 7");
    sl_expr_unref(f);
    sl_expr_unref(fx);
    sl_expr_unref(fy);
    sl_expr_unref(fxy);
    sl_expr_unref(fyx);
}
END_TEST

START_TEST(test_other_variable)
{
    DS("x^2*y + y^3", "y", SL_STYLE_UNICODE, "x\xc2\xb2 + 3y\xc2\xb2");
    DS("sin(t)*x", "t", SL_STYLE_UNICODE, "x\xc2\xb7" "cos(t)");
    DS("pi*x + e", "x", SL_STYLE_UNICODE, "\xcf\x80");
    DS("x", "y", SL_STYLE_UNICODE, "0");
}
END_TEST

/* ---- the logistic map: lₙ₊₁ = 4lₙ(1 − lₙ), l₀ = x ---- */

static SlExpr *logistic(int n)
{
    SlExpr *l = sl_expr_sym("x");
    for (int k = 0; k < n; k++) {
        SlExpr *four = sl_expr_int(4), *one = sl_expr_int(1);
        SlExpr *s = sl_expr_sub(one, l), *t = sl_expr_mul(four, l);
        SlExpr *u = sl_expr_mul(t, s);
        sl_expr_unref(four);
        sl_expr_unref(one);
        sl_expr_unref(s);
        sl_expr_unref(t);
        sl_expr_unref(l);
        l = u;
    }
    return l;
}

START_TEST(test_logistic_linear)
{
    size_t prev = 0, step = 0;
    for (int n = 1; n <= 30; n++) {
        SlExpr *l = logistic(n);
        SlError err = {0};
        SlExpr *d = sl_diff(l, "x", &err);
        ck_assert_ptr_nonnull(d);
        size_t count = sl_expr_node_count(d);
        if (n >= 5) {
            if (n > 5)
                ck_assert_uint_eq(count - prev, step); /* the same few nodes per level */
            step = count - prev;
            ck_assert_uint_le(step, 8);
        }
        prev = count;
        /* the value at 0.3 against the recurrence in doubles */
        double lv = 0.3, dv = 1.0;
        for (int k = 0; k < n; k++) {
            dv = 4 * dv * (1 - 2 * lv);
            lv = 4 * lv * (1 - lv);
        }
        const char *name = "x";
        SlValue *p = sl_float_d(0.3);
        SlValue *r = sl_expr_subs(d, &name, &p, 1, &err);
        ck_assert_ptr_nonnull(r);
        double got = sl_num_to_double(r);
        /* the map is chaotic: doubles agree to about 1e-16·3ⁿ relatively */
        ck_assert_msg(fabs(got - dv) <= 1e-15 * pow(3.0, n) * fabs(dv), "n = %d: %.17g vs %.17g", n, got, dv);
        sl_unref(r);
        sl_unref(p);
        sl_expr_unref(d);
        sl_expr_unref(l);
    }
    ck_assert_uint_le(prev, 200);
}
END_TEST

START_TEST(test_logistic_where)
{
    SlExpr *l = logistic(12);
    SlError err = {0};
    SlExpr *d = sl_diff(l, "x", &err);
    size_t tree = sl_expr_tree_size(d, SL_STYLE_UNICODE);
    ck_assert_uint_gt(tree, 500000);
    char *s = show(d, SL_STYLE_UNICODE);
    ck_assert_uint_lt(strlen(s), 3000);
    ck_assert_ptr_nonnull(strstr(s, "\nwhere t\xe2\x82\x81 = 4x\xc2\xb2 \xe2\x88\x92 4x + 1\n"));
    /* every name up to t₉ is defined, on its own line */
    for (int k = 2; k <= 9; k++) {
        char def[32];
        snprintf(def, sizeof def, "\n      t\xe2\x82%c = ", (char)(0x80 + k));
        ck_assert_msg(strstr(s, def) != NULL, "t%d not defined", k);
    }
    free(s);
    s = show(d, SL_STYLE_ASCII);
    ck_assert_ptr_nonnull(strstr(s, "\nwhere t1 = 4*x^2 - 4*x + 1\n"));
    free(s);
    s = show(d, SL_STYLE_LATEX);
    ck_assert_ptr_nonnull(strstr(s, "\\begin{aligned}\n& "));
    ck_assert_ptr_nonnull(strstr(s, "\\text{where } t_{1} &= 4 x^{2} - 4 x + 1 \\\\\n"));
    free(s);
    /* the plain tree text is as long as the tree size says */
    SlExpr *l5 = logistic(5);
    SlExpr *d5 = sl_diff(l5, "x", &err);
    SlBuf b;
    sl_buf_init(&b);
    sl_expr_print_tree(&b, d5, SL_STYLE_UNICODE);
    ck_assert_uint_eq(b.len, sl_expr_tree_size(d5, SL_STYLE_UNICODE));
    sl_buf_free(&b);
    sl_expr_unref(d5);
    sl_expr_unref(l5);
    sl_expr_unref(d);
    sl_expr_unref(l);
}
END_TEST

START_TEST(test_where_names_avoid_symbols)
{
    /* a symbol t1 in the expression: the names use another letter */
    SlExpr *e = X("(t1 + x + 1)*(x + 2)");
    for (int i = 0; i < 14; i++) {
        SlExpr *f = sl_expr_mul(e, e);
        SlExpr *g = sl_expr_add(f, e);
        sl_expr_unref(f);
        sl_expr_unref(e);
        e = g;
    }
    char *s = show(e, SL_STYLE_ASCII);
    ck_assert_ptr_nonnull(strstr(s, "\nwhere u1 = "));
    ck_assert_ptr_null(strstr(s, "where t1"));
    free(s);
    sl_expr_unref(e);
}
END_TEST

/* ---- deep inputs: no recursion on the depth ---- */

START_TEST(test_deep)
{
    SlExpr *e = sl_expr_sym("x");
    for (int i = 0; i < 3000; i++) { /* sin(sin(...sin(x))) */
        SlExpr *s = sl_expr_fn(SL_FN_SIN, &e, 1);
        sl_expr_unref(e);
        e = s;
    }
    SlError err = {0};
    SlExpr *d = sl_diff(e, "x", &err);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_le(sl_expr_node_count(d), 7000);
    const char *name = "x";
    SlValue *p = sl_float_d(0.5);
    SlValue *r = sl_expr_subs(d, &name, &p, 1, &err);
    ck_assert_ptr_nonnull(r);
    double xv = 0.5, dv = 1;
    for (int i = 0; i < 3000; i++) {
        dv *= cos(xv);
        xv = sin(xv);
    }
    ck_assert(fabs(sl_num_to_double(r) - dv) < 1e-12 * fabs(dv));
    sl_unref(r);
    sl_unref(p);
    sl_expr_unref(d);
    sl_expr_unref(e);
    /* a long sum: x + x²/2 + ... + xⁿ/n differentiates to xⁿ⁻¹ + ... + x + 1 */
    e = sl_expr_int(0);
    for (int k = 1; k <= 2000; k++) {
        SlExpr *x = sl_expr_sym("x"), *kk = sl_expr_int(k);
        SlExpr *pw = sl_expr_pow(x, kk), *t = sl_expr_div(pw, kk), *s = sl_expr_add(e, t);
        sl_expr_unref(x);
        sl_expr_unref(kk);
        sl_expr_unref(pw);
        sl_expr_unref(t);
        sl_expr_unref(e);
        e = s;
    }
    d = sl_diff(e, "x", &err);
    ck_assert_uint_eq(d->nargs, 2000);
    char *s = show(d, SL_STYLE_ASCII);
    ck_assert(strncmp(s, "x^1999 + x^1998 + ", 18) == 0);
    ck_assert_str_eq(s + strlen(s) - 14, " + x^2 + x + 1");
    free(s);
    sl_expr_unref(d);
    sl_expr_unref(e);
}
END_TEST

/* ---- taylor ---- */

static void TAY(const char *f, const char *a, long n, const char *want)
{
    SlExpr *e = X(f), *pa = X(a);
    SlError err = {0};
    SlExpr *t = sl_taylor_poly(e, "x", pa, n, &err);
    ck_assert_ptr_nonnull(t);
    CHECK_STR(show(t, SL_STYLE_UNICODE), want);
    sl_expr_unref(t);
    sl_expr_unref(e);
    sl_expr_unref(pa);
}

START_TEST(test_taylor)
{
    TAY("exp(x)", "0", 4, "1 + x + x\xc2\xb2/2 + x\xc2\xb3/6 + x\xe2\x81\xb4/24");
    TAY("sin(x)", "0", 7, "x \xe2\x88\x92 x\xc2\xb3/6 + x\xe2\x81\xb5/120 \xe2\x88\x92 x\xe2\x81\xb7/5040");
    TAY("cos(x)", "0", 6, "1 \xe2\x88\x92 x\xc2\xb2/2 + x\xe2\x81\xb4/24 \xe2\x88\x92 x\xe2\x81\xb6/720");
    TAY("1/(1 - x)", "0", 5, "1 + x + x\xc2\xb2 + x\xc2\xb3 + x\xe2\x81\xb4 + x\xe2\x81\xb5");
    TAY("tan(x)", "0", 7, "x + x\xc2\xb3/3 + 2x\xe2\x81\xb5/15 + 17x\xe2\x81\xb7/315");
    TAY("log(x)", "1", 3, "(x \xe2\x88\x92 1) \xe2\x88\x92 (x \xe2\x88\x92 1)\xc2\xb2/2 + (x \xe2\x88\x92 1)\xc2\xb3/3");
    TAY("sin(x)", "1", 2, "sin(1) + cos(1)\xc2\xb7(x \xe2\x88\x92 1) \xe2\x88\x92 sin(1)\xc2\xb7(x \xe2\x88\x92 1)\xc2\xb2/2");
    TAY("x^3", "2", 5, "8 + 12\xc2\xb7(x \xe2\x88\x92 2) + 6\xc2\xb7(x \xe2\x88\x92 2)\xc2\xb2 + (x \xe2\x88\x92 2)\xc2\xb3");
    TAY("sqrt(x)", "4", 2, "2 + (x \xe2\x88\x92 4)/4 \xe2\x88\x92 (x \xe2\x88\x92 4)\xc2\xb2/64");
    TAY("exp(x)", "a", 2, "exp(a) + exp(a)\xc2\xb7(x \xe2\x88\x92 a) + exp(a)\xc2\xb7(x \xe2\x88\x92 a)\xc2\xb2/2");
    TAY("sin(x)", "pi", 3, "\xe2\x88\x92(x \xe2\x88\x92 \xcf\x80) + (x \xe2\x88\x92 \xcf\x80)\xc2\xb3/6");
    TAY("x^2 + 1", "0", 0, "1");
    TAY("sin(x)", "0", 0, "0");
    SlExpr *e = X("exp(x)"), *z = X("0");
    SlError err = {0};
    ck_assert_ptr_null(sl_taylor_poly(e, "x", z, -1, &err));
    ck_assert_int_eq(err.code, SL_E_VALUE);
    sl_err_clear(&err);
    /* the polynomial agrees with the function near a */
    SlExpr *t = sl_taylor_poly(e, "x", z, 12, &err);
    sl_num_set_prec(PREC);
    mpfr_t a, b;
    mpfr_inits2(PREC, a, b, (mpfr_ptr)0);
    eval_at(a, t, 0.01, 0);
    eval_at(b, e, 0.01, 0);
    mpfr_sub(a, a, b, MPFR_RNDN);
    ck_assert(fabs(mpfr_get_d(a, MPFR_RNDN)) < 1e-33);
    mpfr_clears(a, b, (mpfr_ptr)0);
    sl_expr_unref(t);
    sl_expr_unref(e);
    sl_expr_unref(z);
}
END_TEST

/* ---- explain ---- */

static void EXPL(const char *f, SlStyle st, const char *want)
{
    SlExpr *e = X(f);
    SlError err = {0};
    SlBuf b;
    sl_buf_init(&b);
    ck_assert(sl_explain_diff(&b, e, "x", st, &err));
    ck_assert_str_eq(b.s, want);
    sl_buf_free(&b);
    sl_expr_unref(e);
}

START_TEST(test_explain)
{
    EXPL("x^2*sin(x)", SL_STYLE_UNICODE,
         "d/dx [x\xc2\xb2\xc2\xb7sin(x)]\n"
         "  = d/dx [x\xc2\xb2]\xc2\xb7sin(x) + x\xc2\xb2\xc2\xb7" "d/dx [sin(x)]    (product rule)\n"
         "    d/dx [x\xc2\xb2] = 2x                         (power rule)\n"
         "    d/dx [sin(x)] = cos(x)                 (trig: d sin = cos)\n"
         "  = x\xc2\xb2\xc2\xb7" "cos(x) + 2x\xc2\xb7sin(x)");
    EXPL("x^2*sin(x)", SL_STYLE_ASCII,
         "d/dx [x^2*sin(x)]\n"
         "  = d/dx [x^2]*sin(x) + x^2*d/dx [sin(x)]    (product rule)\n"
         "    d/dx [x^2] = 2*x                         (power rule)\n"
         "    d/dx [sin(x)] = cos(x)                   (trig: d sin = cos)\n"
         "  = x^2*cos(x) + 2*x*sin(x)");
    EXPL("x^2*sin(x)", SL_STYLE_LATEX,
         "\\begin{aligned}\n"
         "\\frac{d}{dx}\\left[x^{2} \\sin{\\left(x\\right)}\\right] &= \\frac{d}{dx}\\left[x^{2}\\right] \\cdot "
         "\\sin{\\left(x\\right)} + x^{2} \\cdot \\frac{d}{dx}\\left[\\sin{\\left(x\\right)}\\right] && \\text{(product rule)} \\\\\n"
         "\\quad \\frac{d}{dx}\\left[x^{2}\\right] &= 2 x && \\text{(power rule)} \\\\\n"
         "\\quad \\frac{d}{dx}\\left[\\sin{\\left(x\\right)}\\right] &= \\cos{\\left(x\\right)} && \\text{(trig: d sin = cos)} \\\\\n"
         "&= x^{2} \\cos{\\left(x\\right)} + 2 x \\sin{\\left(x\\right)}\n"
         "\\end{aligned}");
    EXPL("x^2 - 4x + 6", SL_STYLE_ASCII,
         "d/dx [x^2 - 4*x + 6]\n"
         "  = d/dx [x^2] - d/dx [4*x]    (sum rule; constants vanish)\n"
         "    d/dx [x^2] = 2*x           (power rule)\n"
         "    d/dx [4*x] = 4             (constant multiple rule, power rule)\n"
         "  = 2*x - 4");
    EXPL("sin(x^2)*exp(x)", SL_STYLE_ASCII,
         "d/dx [sin(x^2)*exp(x)]\n"
         "  = d/dx [sin(x^2)]*exp(x) + sin(x^2)*d/dx [exp(x)]    (product rule)\n"
         "    d/dx [sin(x^2)] = cos(x^2)*d/dx [x^2]              (chain rule, trig: d sin = cos)\n"
         "      d/dx [x^2] = 2*x                                 (power rule)\n"
         "    d/dx [sin(x^2)] = 2*x*cos(x^2)\n"
         "    d/dx [exp(x)] = exp(x)                             (exp rule: d exp = exp)\n"
         "  = 2*x*exp(x)*cos(x^2) + exp(x)*sin(x^2)");
    EXPL("x/(x + 1)", SL_STYLE_ASCII,
         "d/dx [x/(x + 1)]\n"
         "  = (d/dx [x]*(x + 1) - x*d/dx [x + 1])/(x + 1)^2    (quotient rule)\n"
         "    d/dx [x] = 1                                     (power rule)\n"
         "    d/dx [x + 1] = d/dx [x]                          (sum rule; constants vanish)\n"
         "      d/dx [x] = 1                                   (power rule)\n"
         "    d/dx [x + 1] = 1\n"
         "  = 1/(x + 1)^2");
    EXPL("sin(x)", SL_STYLE_UNICODE, "d/dx [sin(x)]\n  = cos(x)    (trig: d sin = cos)");
    EXPL("relu(x)", SL_STYLE_ASCII, "d/dx [relu(x)]\n  = heaviside(x)    (relu rule: d relu = heaviside, 0 at 0)");
    EXPL("7", SL_STYLE_ASCII, "d/dx [7]\n  = 0    (constant rule)");
    EXPL("2^x", SL_STYLE_ASCII, "d/dx [2^x]\n  = 2^x*log(2)    (exponential rule: d a^u = a^u*log a)");
}
END_TEST

START_TEST(test_explain_every_case)
{
    /* every rule explains, and the explained result is the derivative */
    for (int i = 0; i < NCASES; i++) {
        SlExpr *f = X(cases[i].in);
        SlError err = {0};
        SlBuf b;
        sl_buf_init(&b);
        ck_assert(sl_explain_diff(&b, f, "x", SL_STYLE_ASCII, &err));
        ck_assert_msg(strstr(b.s, "    (") != NULL, "%s: no rule named in\n%s", cases[i].in, b.s);
        sl_buf_free(&b);
        sl_expr_unref(f);
    }
}
END_TEST

START_TEST(test_explain_big)
{
    /* a big derivation stops showing steps after a bound, with a note */
    SlExpr *l = sl_expr_int(0);
    for (int k = 1; k <= 400; k++) { /* sin(x) + sin(2x) + ... */
        SlExpr *x = sl_expr_sym("x"), *kk = sl_expr_int(k);
        SlExpr *kx = sl_expr_mul(kk, x), *sn = sl_expr_fn(SL_FN_SIN, &kx, 1), *s = sl_expr_add(l, sn);
        sl_expr_unref(x);
        sl_expr_unref(kk);
        sl_expr_unref(kx);
        sl_expr_unref(sn);
        sl_expr_unref(l);
        l = s;
    }
    SlError err = {0};
    SlBuf b;
    sl_buf_init(&b);
    ck_assert(sl_explain_diff(&b, l, "x", SL_STYLE_ASCII, &err));
    ck_assert_ptr_nonnull(strstr(b.s, "more steps by the same rules"));
    sl_buf_free(&b);
    sl_expr_unref(l);
}
END_TEST

static uint64_t rs = 1;
static unsigned rnd(unsigned n)
{
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(rs >> 33) % n;
}

static SlExpr *gen(int depth)
{
    if (depth <= 0 || rnd(4) == 0) {
        switch (rnd(6)) {
        case 0: return sl_expr_int((long)rnd(7) - 3);
        case 1: {
            mpq_t q;
            mpq_init(q);
            mpq_set_si(q, (long)rnd(9) - 4, rnd(4) + 1);
            mpq_canonicalize(q);
            SlExpr *e = sl_expr_rat(q);
            mpq_clear(q);
            return e;
        }
        case 2: return sl_expr_sym("y");
        default: return sl_expr_sym("x");
        }
    }
    static const SlMathFn fns[] = {SL_FN_SIN, SL_FN_COS, SL_FN_EXP, SL_FN_LOG, SL_FN_SQRT,
                                   SL_FN_TANH, SL_FN_ATAN, SL_FN_ABS, SL_FN_SIGMOID};
    SlExpr *a = gen(depth - 1), *b = NULL, *e;
    switch (rnd(9)) {
    case 0:
    case 1: b = gen(depth - 1); e = sl_expr_add(a, b); break;
    case 2: b = gen(depth - 1); e = sl_expr_sub(a, b); break;
    case 3:
    case 4: b = gen(depth - 1); e = sl_expr_mul(a, b); break;
    case 5:
        b = gen(depth - 1);
        e = sl_expr_div(a, b);
        if (!e)
            e = sl_expr_ref(a);
        break;
    case 6: b = sl_expr_int((long)rnd(5) - 1); e = sl_expr_pow(a, b); break;
    default: e = sl_expr_fn(fns[rnd(9)], &a, 1); break;
    }
    sl_expr_unref(a);
    sl_expr_unref(b);
    return e;
}

START_TEST(test_random_derivatives)
{
    /* random expressions: d/dx against a central difference (h = 2^-100 at
     * 256 bits), away from kinks (the points are not simple fractions) */
    sl_num_set_prec(PREC);
    rs = 77;
    int compared = 0;
    for (int i = 0; i < 1500; i++) {
        SlExpr *f = gen(5);
        SlError err = {0};
        SlExpr *d = sl_diff(f, "x", &err);
        ck_assert_ptr_nonnull(d);
        static const double xs[2] = {0.3141592653589793, 0.8660254037844386};
        for (int k = 0; k < 2; k++) {
            mpfr_t a, b, c;
            mpfr_inits2(PREC, a, b, c, (mpfr_ptr)0);
            const char *names[2] = {"x", "y"};
            SlValue *v[2] = {sl_float_new(PREC), sl_float_new(PREC)};
            mpfr_set_d(v[1]->u.f, 0.5772156649015329, MPFR_RNDN);
            bool ok = true;
            for (int s = 0; s < 3 && ok; s++) {
                mpfr_set_d(v[0]->u.f, xs[k], MPFR_RNDN);
                if (s < 2)
                    mpfr_add_d(v[0]->u.f, v[0]->u.f, ldexp(s ? -1.0 : 1.0, -100), MPFR_RNDN);
                SlValue *r = sl_expr_subs(s < 2 ? f : d, names, v, 2, &err);
                ok = r && sl_is_number(r);
                if (ok) {
                    sl_num_to_mpfr(s == 0 ? a : s == 1 ? b : c, r);
                    ok = mpfr_number_p(s == 0 ? a : s == 1 ? b : c) &&
                         mpfr_cmpabs_ui(s == 0 ? a : s == 1 ? b : c, 1000000) < 0;
                }
                sl_unref(r);
                sl_err_clear(&err);
            }
            if (ok) {
                mpfr_sub(a, a, b, MPFR_RNDN);
                mpfr_mul_2si(a, a, 99, MPFR_RNDN); /* /(2h) */
                mpfr_sub(a, a, c, MPFR_RNDN);
                double e = fabs(mpfr_get_d(a, MPFR_RNDN)), scale = fmax(1.0, fabs(mpfr_get_d(c, MPFR_RNDN)));
                if (e > 1e-20 * scale) {
                    char *fs = show(f, SL_STYLE_ASCII), *ds = show(d, SL_STYLE_ASCII);
                    ck_abort_msg("d/dx %s = %s is off by %g at x = %g", fs, ds, e, xs[k]);
                }
                compared++;
            }
            sl_unref(v[0]);
            sl_unref(v[1]);
            mpfr_clears(a, b, c, (mpfr_ptr)0);
        }
        sl_expr_unref(d);
        sl_expr_unref(f);
    }
    ck_assert_int_gt(compared, 1500);
}
END_TEST

static Suite *diff_suite(void)
{
    Suite *s = suite_create("diff");
    TCase *t = tcase_create("rules");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_loop_test(t, test_rule, 0, NCASES);
    tcase_add_test(t, test_case_count);
    suite_add_tcase(s, t);
    t = tcase_create("core");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_design_examples);
    tcase_add_test(t, test_styles);
    tcase_add_test(t, test_diff_n);
    tcase_add_test(t, test_mixed_partials);
    tcase_add_test(t, test_other_variable);
    tcase_add_test(t, test_logistic_linear);
    tcase_add_test(t, test_logistic_where);
    tcase_add_test(t, test_where_names_avoid_symbols);
    tcase_add_test(t, test_deep);
    tcase_add_test(t, test_taylor);
    tcase_add_test(t, test_explain);
    tcase_add_test(t, test_explain_every_case);
    tcase_add_test(t, test_explain_big);
    tcase_add_test(t, test_random_derivatives);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(diff_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    sl_expr_shutdown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
