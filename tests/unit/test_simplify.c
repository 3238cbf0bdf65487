/* test_simplify.c -- the simplifier through its C API: identities,
 * collection with exact coefficients, the canonical order (any order of
 * the same terms gives the same node), idempotence, floats, styles,
 * expand, factor and simplify_full, shared and deep inputs, no leaks. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

typedef struct Pair {
    const char *in;   /* ascii input */
    const char *want; /* unicode output */
} Pair;

typedef SlExpr *(*Op)(SlExpr *e);

static SlExpr *op_factor(SlExpr *e)
{
    SlError err = {0};
    SlExpr *r = sl_factor(e, &err);
    ck_assert(!err.set);
    return r;
}

static void check_pairs(const Pair *p, size_t n, Op op, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        SlExpr *e = X(p[i].in);
        SlExpr *r = op(e);
        ck_assert_ptr_nonnull(r);
        char *got = show(r, SL_STYLE_UNICODE);
        ck_assert_msg(strcmp(got, p[i].want) == 0, "%s(%s): got \"%s\", want \"%s\"", what, p[i].in, got,
                      p[i].want);
        free(got);
        sl_expr_unref(r);
        sl_expr_unref(e);
    }
}

#define NP(a) (sizeof(a) / sizeof((a)[0]))

static size_t baseline;

static void setup(void) { baseline = sl_expr_live_count(); }
static void teardown(void) { ck_assert_uint_eq(sl_expr_live_count(), baseline); }

/* ---- sl_simplify ---- */

static const Pair identities[] = {
    {"x + 0", "x"},
    {"0 + x", "x"},
    {"1*x", "x"},
    {"x*1", "x"},
    {"0*x", "0"},
    {"x^1", "x"},
    {"x^0", "1"},
    {"1^x", "1"},
    {"0^2", "0"},
    {"2*3*x", "6x"},
    {"x + 2 + 3", "x + 5"},
    {"--x", "x"},
    {"x*(-1)*(-1)", "x"},
    {"x/x", "1"},
    {"x^2/x", "x"},
    {"x/x^2", "1/x"},
    {"(x^2)^3", "x\xe2\x81\xb6"},
    {"(x^3)^(1/3)", "(x\xc2\xb3)^(1/3)"},
    {"(2x)^3", "8x\xc2\xb3"},
    {"(x*y)^2", "x\xc2\xb2\xc2\xb7y\xc2\xb2"},
    {"x^(1/2)*x^(1/2)", "x"},
    {"sqrt(x)*sqrt(x)", "x"},
    {"sqrt(x)^2", "x"},
    {"sqrt(x^2)", "|x|"},
    {"x*sqrt(x)", "x^(3/2)"},
    {"sqrt(x)/x", "1/\xe2\x88\x9ax"},
    {"abs(-x)", "|x|"},
    {"abs(-2x)", "2\xc2\xb7|x|"},
    {"abs(abs(x))", "|x|"},
    {"abs(x^2)", "x\xc2\xb2"},
    {"abs(exp(x))", "exp(x)"},
    {"exp(log(x))", "x"},
    {"log(exp(x))", "x"},
    {"sin(-x)", "\xe2\x88\x92sin(x)"},
    {"cos(-x)", "cos(x)"},
    {"tan(-2x)", "\xe2\x88\x92tan(2x)"},
    {"sinh(-x)", "\xe2\x88\x92sinh(x)"},
    {"cosh(-3x)", "cosh(3x)"},
    {"sin(-1)", "\xe2\x88\x92sin(1)"},
    {"exp(0)", "1"},
    {"log(1)", "0"},
    {"sin(0)", "0"},
    {"cos(pi)", "-1"},
    {"log(e)", "1"},
    {"sigmoid(0)", "1/2"},
    {"max(x, x)", "x"},
    {"min(x, x, x)", "x"},
    {"floor(floor(x))", "floor(x)"},
    {"sign(sign(x))", "sign(x)"},
    {"heaviside(-3)", "0"},
    {"relu(-2)", "0"},
    {"-(x - 1)", "1 \xe2\x88\x92 x"},
    {"-(x + 1)", "\xe2\x88\x92x \xe2\x88\x92 1"},
    {"x - (x + y)", "\xe2\x88\x92y"},
    {"0.0*x", "0.0"},
    {"x + 0.0", "x + 0.0"},
    {"1.5*2", "3.0"},
    {"2*x*0.5", "1.0x"},
    {"0.5x + 0.5x", "1.0x"},
};

static const Pair collection[] = {
    {"x + x", "2x"},
    {"2x + 3x - 5x", "0"},
    {"x/2 + x/3", "5x/6"},
    {"x/4 + x/6", "5x/12"},
    {"(x + 1)/2 + (x - 1)/2", "x"},
    {"x/3 + 2/3", "x/3 + 2/3"},
    {"x*y + y*x", "2x\xc2\xb7y"},
    {"y*x*z + z*y*x", "2x\xc2\xb7y\xc2\xb7z"},
    {"x*x", "x\xc2\xb2"},
    {"x*x^2*x^-3", "1"},
    {"b + a + c", "a + b + c"},
    {"a*c*b", "a\xc2\xb7" "b\xc2\xb7" "c"},
    {"x^2*y + x*y^2 + y^3 + x^3", "x\xc2\xb3 + x\xc2\xb2\xc2\xb7y + x\xc2\xb7y\xc2\xb2 + y\xc2\xb3"},
    {"y^2 + x", "y\xc2\xb2 + x"},
    {"1 + x + x^2 + x^3", "x\xc2\xb3 + x\xc2\xb2 + x + 1"},
    {"3 - x", "3 \xe2\x88\x92 x"},
    {"-x + 2", "2 \xe2\x88\x92 x"},
    {"-x - y", "\xe2\x88\x92x \xe2\x88\x92 y"},
    {"x - y", "x \xe2\x88\x92 y"},
    {"x^2 - 1", "x\xc2\xb2 \xe2\x88\x92 1"},
    {"1 - x^2", "1 \xe2\x88\x92 x\xc2\xb2"},
    {"(x + y) - (x + y)", "0"},
    {"pi + pi", "2\xcf\x80"},
    {"pi*x + 2*pi*x", "3\xcf\x80\xc2\xb7x"},
    {"e^x*e^x", "e^(2x)"},
    {"exp(x)*exp(x)", "exp(2x)"},
    {"exp(x)^2", "exp(2x)"},
    {"exp(x)*exp(-x)", "1"},
    {"2*exp(x)*exp(y)", "2\xc2\xb7" "exp(x + y)"},
    {"x^y*x^2", "x^(y + 2)"},
    {"x^y*x^(-y)", "1"},
    {"2^x*2^x", "2^(2x)"},
    {"sin(x)*sin(x)", "sin(x)\xc2\xb2"},
    {"1/sin(x)", "1/sin(x)"},
    {"sin(x)/cos(x)", "sin(x)/cos(x)"},
    {"(x+1)*(x+1)", "(x + 1)\xc2\xb2"},
    {"(x+1)*(x-1)", "(x \xe2\x88\x92 1)\xc2\xb7(x + 1)"},
    {"2*(x+1)", "2\xc2\xb7(x + 1)"},
    {"2*(x+1) + 2", "2x + 4"},
    {"x*(x+1) + x", "x\xc2\xb2 + 2x"},
    {"2x*(x + 1) - 2x^2", "2x"},
    {"x^2 + y^2 + x*y", "x\xc2\xb2 + x\xc2\xb7y + y\xc2\xb2"},
    {"y^2*x^3 + x^2", "x\xc2\xb3\xc2\xb7y\xc2\xb2 + x\xc2\xb2"},
    {"z + y + x", "x + y + z"},
    {"x*sin(x) + sin(x)", "x\xc2\xb7sin(x) + sin(x)"},
    {"sin(x) + cos(x) + x", "x + sin(x) + cos(x)"},
    {"exp(x) + x^2 + 1", "x\xc2\xb2 + exp(x) + 1"},
    {"log(x) + x", "x + log(x)"},
    {"sin(y) + sin(x)", "sin(x) + sin(y)"},
    {"3 + sqrt(x)", "\xe2\x88\x9ax + 3"},
    {"x^(-1) + x", "x + 1/x"},
    {"1/x + 1/x", "2/x"},
    {"x^-2 + x^-1 + 1", "1/x + 1/x\xc2\xb2 + 1"},
    {"2*sin(x)*cos(x) + cos(x)*sin(x)", "3\xc2\xb7sin(x)\xc2\xb7" "cos(x)"},
    {"x^2*sin(x) + 2x*cos(x)", "x\xc2\xb2\xc2\xb7sin(x) + 2x\xc2\xb7" "cos(x)"},
    {"0.1 + 0.2 + x", "x + 0.30000000000000004"},
    {"x/0.5", "x/0.5"},
    {"x^2.5*x^0.5", "x^3.0"},
};

START_TEST(test_identities) { check_pairs(identities, NP(identities), sl_simplify, "simplify"); }
END_TEST

START_TEST(test_collection) { check_pairs(collection, NP(collection), sl_simplify, "simplify"); }
END_TEST

START_TEST(test_idempotent)
{
    const Pair *sets[2] = {identities, collection};
    size_t ns[2] = {NP(identities), NP(collection)};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < ns[k]; i++) {
            SlExpr *e = X(sets[k][i].in);
            SlExpr *s1 = sl_simplify(e), *s2 = sl_simplify(s1);
            ck_assert_msg(s1 == s2, "simplify is not idempotent on %s", sets[k][i].in);
            sl_expr_unref(s1);
            sl_expr_unref(s2);
            sl_expr_unref(e);
        }
}
END_TEST

/* Any order of the same terms and factors: one node. */
START_TEST(test_canonical_order)
{
    static const char *const terms[] = {"3x^2*y^2", "y*cos(x*y)", "-7", "x", "sin(x)", "x*y*z", "exp(x)", "y^3",
                                        "x/2", "sqrt(x)"};
    size_t n = sizeof terms / sizeof terms[0];
    SlExpr *first = NULL;
    uint64_t r = 12345;
    for (int trial = 0; trial < 20; trial++) {
        size_t idx[16];
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        for (size_t i = n - 1; i > 0; i--) { /* shuffle */
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t j = (size_t)(r >> 33) % (i + 1);
            size_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        SlExpr *sum = sl_expr_int(0);
        for (size_t i = 0; i < n; i++) {
            SlExpr *t = X(terms[idx[i]]);
            SlExpr *s = sl_expr_add(sum, t);
            sl_expr_unref(t);
            sl_expr_unref(sum);
            sum = s;
        }
        SlExpr *s = sl_simplify(sum);
        sl_expr_unref(sum);
        if (!first)
            first = s;
        else {
            ck_assert_ptr_eq(s, first);
            sl_expr_unref(s);
        }
    }
    char *got = show(first, SL_STYLE_UNICODE);
    ck_assert_str_eq(got, "3x\xc2\xb2\xc2\xb7y\xc2\xb2 + x\xc2\xb7y\xc2\xb7z + y\xc2\xb3 + 3x/2 + y\xc2\xb7" "cos(x\xc2\xb7y) + "
                          "\xe2\x88\x9ax + exp(x) + sin(x) \xe2\x88\x92 7");
    free(got);
    sl_expr_unref(first);
    /* factors */
    SlExpr *a = X("cos(x)*y*2*x^2*exp(x)*(x + 1)*pi"), *b = X("pi*(1 + x)*exp(x)*x*2*y*cos(x)*x");
    SlExpr *sa = sl_simplify(a), *sb = sl_simplify(b);
    ck_assert_ptr_eq(sa, sb);
    got = show(sa, SL_STYLE_UNICODE);
    ck_assert_str_eq(got, "2\xcf\x80\xc2\xb7x\xc2\xb2\xc2\xb7y\xc2\xb7" "exp(x)\xc2\xb7" "cos(x)\xc2\xb7(x + 1)");
    free(got);
    SlExpr *x2 = X("x^2"), *x1 = X("x");
    ck_assert_int_lt(sl_simplify_order_terms(x2, x1), 0);
    ck_assert_int_gt(sl_simplify_order_terms(x1, x2), 0);
    sl_expr_unref(x2);
    sl_expr_unref(x1);
    sl_expr_unref(sa);
    sl_expr_unref(sb);
    sl_expr_unref(a);
    sl_expr_unref(b);
}
END_TEST

START_TEST(test_styles)
{
    SlExpr *e = X("x^2 - 4x + y^2/3 + sqrt(x) - sin(x*y)");
    SlExpr *s = sl_simplify(e);
    char *u = show(s, SL_STYLE_UNICODE), *a = show(s, SL_STYLE_ASCII), *l = show(s, SL_STYLE_LATEX);
    ck_assert_str_eq(u, "x\xc2\xb2 + y\xc2\xb2/3 \xe2\x88\x92 4x + \xe2\x88\x9ax \xe2\x88\x92 sin(x\xc2\xb7y)");
    ck_assert_str_eq(a, "x^2 + y^2/3 - 4*x + sqrt(x) - sin(x*y)");
    ck_assert_str_eq(l, "x^{2} + \\frac{y^{2}}{3} - 4 x + \\sqrt{x} - \\sin{\\left(x y\\right)}");
    free(u);
    free(a);
    free(l);
    sl_expr_unref(s);
    sl_expr_unref(e);
}
END_TEST

START_TEST(test_shared_linear)
{
    /* the logistic map lₙ: simplification keeps the sharing */
    SlExpr *l = sl_expr_sym("x");
    for (int k = 0; k < 40; k++) {
        SlExpr *four = sl_expr_int(4), *one = sl_expr_int(1);
        SlExpr *s = sl_expr_sub(one, l), *t = sl_expr_mul(four, l), *u = sl_expr_mul(t, s);
        sl_expr_unref(four);
        sl_expr_unref(one);
        sl_expr_unref(s);
        sl_expr_unref(t);
        sl_expr_unref(l);
        l = u;
    }
    SlExpr *s = sl_simplify(l);
    ck_assert_uint_le(sl_expr_node_count(s), 4 * 40 + 10);
    sl_expr_unref(s);
    sl_expr_unref(l);
}
END_TEST

START_TEST(test_deep)
{
    /* x + x + ... + x (10⁵ terms, one node) */
    SlExpr *x = sl_expr_sym("x");
    SlExpr **xs = malloc(100000 * sizeof *xs);
    for (int i = 0; i < 100000; i++)
        xs[i] = x;
    SlExpr *sum = sl_expr_nary(SL_EX_ADD, xs, 100000);
    free(xs);
    SlExpr *s = sl_simplify(sum);
    char *got = show(s, SL_STYLE_UNICODE);
    ck_assert_str_eq(got, "100000x");
    free(got);
    sl_expr_unref(s);
    sl_expr_unref(sum);
    /* sin(sin(...(x + 0)...)) 20000 deep: no recursion on the depth */
    SlExpr *e = sl_expr_add(x, x);
    for (int i = 0; i < 20000; i++) {
        SlExpr *t = sl_expr_fn(SL_FN_SIN, &e, 1);
        sl_expr_unref(e);
        e = t;
    }
    s = sl_simplify(e);
    ck_assert_uint_eq(sl_expr_node_count(s), 20000 + 3);
    sl_expr_unref(s);
    s = sl_expand(e);
    sl_expr_unref(s);
    s = sl_simplify_full(e);
    sl_expr_unref(s);
    sl_expr_unref(e);
    /* nested sums (((x + 1)·2 + 1)·2 + 1)... stay nested sums of products */
    e = sl_expr_ref(x);
    for (int i = 0; i < 5000; i++) {
        SlExpr *one = sl_expr_int(1), *y = sl_expr_sym("y");
        SlExpr *p = sl_expr_mul(e, y), *t = sl_expr_add(p, one);
        sl_expr_unref(one);
        sl_expr_unref(y);
        sl_expr_unref(p);
        sl_expr_unref(e);
        e = t;
    }
    s = sl_simplify(e);
    ck_assert_uint_le(sl_expr_node_count(s), 3 * 5000 + 10);
    sl_expr_unref(s);
    sl_expr_unref(e);
    sl_expr_unref(x);
}
END_TEST

/* ---- expand ---- */

static const Pair expansions[] = {
    {"(x+1)^2", "x\xc2\xb2 + 2x + 1"},
    {"(x+1)*(x-1)", "x\xc2\xb2 \xe2\x88\x92 1"},
    {"(x+y)^3", "x\xc2\xb3 + 3x\xc2\xb2\xc2\xb7y + 3x\xc2\xb7y\xc2\xb2 + y\xc2\xb3"},
    {"(a+b)*(c+d)", "a\xc2\xb7" "c + a\xc2\xb7" "d + b\xc2\xb7" "c + b\xc2\xb7" "d"},
    {"2*(x+1)", "2x + 2"},
    {"(x+1)^2/x", "x + 1/x + 2"},
    {"sin((x+1)^2)", "sin(x\xc2\xb2 + 2x + 1)"},
    {"(x+1)^-2", "1/(x\xc2\xb2 + 2x + 1)"},
    {"exp(x)*(exp(x)+1)", "exp(x) + exp(2x)"},
    {"(x-1)*(x^2+x+1)", "x\xc2\xb3 \xe2\x88\x92 1"},
    {"(x+1)^10", "x\xc2\xb9\xe2\x81\xb0 + 10x\xe2\x81\xb9 + 45x\xe2\x81\xb8 + 120x\xe2\x81\xb7 + 210x\xe2\x81\xb6 + 252x\xe2\x81\xb5 + 210x\xe2\x81\xb4 + 120x\xc2\xb3 + 45x\xc2\xb2 + 10x + 1"},
    {"x*(y+z)*(y-z)", "x\xc2\xb7y\xc2\xb2 \xe2\x88\x92 x\xc2\xb7z\xc2\xb2"},
    {"(1+x/2)^2", "x\xc2\xb2/4 + x + 1"},
    {"(x+0.5)^2", "x\xc2\xb2 + 1.0x + 0.25"},
    {"3", "3"},
    {"x", "x"},
    {"(x + 1)^2 - (x - 1)^2", "4x"},
};

START_TEST(test_expand) { check_pairs(expansions, NP(expansions), sl_expand, "expand"); }
END_TEST

/* ---- factor ---- */

static const Pair factorisations[] = {
    {"x^2 - 1", "(x \xe2\x88\x92 1)\xc2\xb7(x + 1)"},
    {"2x^2 + 4x + 2", "2\xc2\xb7(x + 1)\xc2\xb2"},
    {"x^3 - x", "x\xc2\xb7(x \xe2\x88\x92 1)\xc2\xb7(x + 1)"},
    {"x^2 - y^2", "(x + y)\xc2\xb7(x \xe2\x88\x92 y)"},
    {"x^4 - 1", "(x \xe2\x88\x92 1)\xc2\xb7(x + 1)\xc2\xb7(x\xc2\xb2 + 1)"},
    {"x^4 + 4", "(x\xc2\xb2 \xe2\x88\x92 2x + 2)\xc2\xb7(x\xc2\xb2 + 2x + 2)"},
    {"x^2 + 1", "x\xc2\xb2 + 1"},
    {"6x^2 + 5x + 1", "(2x + 1)\xc2\xb7(3x + 1)"},
    {"x^6 - 1", "(x \xe2\x88\x92 1)\xc2\xb7(x + 1)\xc2\xb7(x\xc2\xb2 + x + 1)\xc2\xb7(x\xc2\xb2 \xe2\x88\x92 x + 1)"},
    {"(x^2-1)*(x+1)", "(x \xe2\x88\x92 1)\xc2\xb7(x + 1)\xc2\xb2"},
    {"x + 1/x", "(x\xc2\xb2 + 1)/x"},
    {"1/(x^2-1)", "1/((x \xe2\x88\x92 1)\xc2\xb7(x + 1))"},
    {"sin(x)^2 - 1", "(sin(x) \xe2\x88\x92 1)\xc2\xb7(sin(x) + 1)"},
    {"x^2/2 - 1/2", "(x \xe2\x88\x92 1)\xc2\xb7(x + 1)/2"},
    {"x^2*y + x*y^2", "x\xc2\xb7y\xc2\xb7(x + y)"},
    {"x^3 + 2x^2*y + x*y^2", "x\xc2\xb7(x + y)\xc2\xb2"},
    {"x^8 - 1", "(x \xe2\x88\x92 1)\xc2\xb7(x + 1)\xc2\xb7(x\xc2\xb2 + 1)\xc2\xb7(x\xe2\x81\xb4 + 1)"},
    {"x^5 + x + 1", "(x\xc2\xb2 + x + 1)\xc2\xb7(x\xc2\xb3 \xe2\x88\x92 x\xc2\xb2 + 1)"},
    {"1 - x^2", "\xe2\x88\x92(x \xe2\x88\x92 1)\xc2\xb7(x + 1)"},
    {"x^4 + x^2 + 1", "(x\xc2\xb2 + x + 1)\xc2\xb7(x\xc2\xb2 \xe2\x88\x92 x + 1)"},
    {"x^10 - 1", "(x \xe2\x88\x92 1)\xc2\xb7(x + 1)\xc2\xb7(x\xe2\x81\xb4 + x\xc2\xb3 + x\xc2\xb2 + x + 1)\xc2\xb7(x\xe2\x81\xb4 \xe2\x88\x92 x\xc2\xb3 + x\xc2\xb2 \xe2\x88\x92 x + 1)"},
    {"4 - 2x", "\xe2\x88\x92" "2\xc2\xb7(x \xe2\x88\x92 2)"},
    {"x^2 - 2x + 1", "(x \xe2\x88\x92 1)\xc2\xb2"},
    {"x^3 - 3x^2 + 3x - 1", "(x \xe2\x88\x92 1)\xc2\xb3"},
    {"12x^3 - 6x^2 + 1", "12x\xc2\xb3 \xe2\x88\x92 6x\xc2\xb2 + 1"},
    {"x^2 + 2x*y + y^2 - 1", "x\xc2\xb2 + 2x\xc2\xb7y + y\xc2\xb2 \xe2\x88\x92 1"},
    {"x^3 - y^3", "(x \xe2\x88\x92 y)\xc2\xb7(x\xc2\xb2 + x\xc2\xb7y + y\xc2\xb2)"},
    {"x^4 - y^4", "(x + y)\xc2\xb7(x \xe2\x88\x92 y)\xc2\xb7(x\xc2\xb2 + y\xc2\xb2)"},
    {"7", "7"},
    {"x", "x"},
    {"x^2 - 2", "x\xc2\xb2 \xe2\x88\x92 2"},
};

START_TEST(test_factor)
{
    check_pairs(factorisations, NP(factorisations), op_factor, "factor");
    /* expanding a factorisation gives back the expanded input */
    for (size_t i = 0; i < NP(factorisations); i++) {
        SlExpr *e = X(factorisations[i].in);
        SlError err = {0};
        SlExpr *f = sl_factor(e, &err);
        SlExpr *a = sl_expand(e), *b = sl_expand(f);
        ck_assert_msg(a == b, "expand(factor(%s)) != expand(%s)", factorisations[i].in, factorisations[i].in);
        sl_expr_unref(a);
        sl_expr_unref(b);
        sl_expr_unref(f);
        sl_expr_unref(e);
    }
}
END_TEST

START_TEST(test_factor_random)
{
    /* products of random small linear and quadratic factors come back */
    uint64_t r = 99;
    for (int trial = 0; trial < 40; trial++) {
        SlExpr *p = sl_expr_int(1);
        int nf = 2 + trial % 3;
        for (int k = 0; k < nf; k++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            long a = (long)((r >> 33) % 5) + 1, b = (long)((r >> 40) % 11) - 5, c = (long)((r >> 50) % 7) + 1;
            char buf[64];
            if (k % 2)
                snprintf(buf, sizeof buf, "%ldx + %ld", a, b);
            else
                snprintf(buf, sizeof buf, "x^2 + %ldx + %ld", b, c + 4);
            SlExpr *f = X(buf), *q = sl_expr_mul(p, f);
            sl_expr_unref(f);
            sl_expr_unref(p);
            p = q;
        }
        SlExpr *ex = sl_expand(p);
        SlError err = {0};
        SlExpr *fa = sl_factor(ex, &err);
        SlExpr *back = sl_expand(fa);
        ck_assert_ptr_eq(back, ex);
        /* at least as many factors as linear ones put in */
        ck_assert(fa->kind == SL_EX_MUL || fa->kind == SL_EX_POW);
        sl_expr_unref(back);
        sl_expr_unref(fa);
        sl_expr_unref(ex);
        sl_expr_unref(p);
    }
}
END_TEST

/* ---- simplify_full ---- */

static const Pair full[] = {
    {"sin(x)^2 + cos(x)^2", "1"},
    {"2*sin(x)^2*y + 2*y*cos(x)^2 + 1", "2y + 1"},
    {"(x^2-1)/(x-1)", "x + 1"},
    {"(x+1)^2 - x^2", "2x + 1"},
    {"x/(x+1) + 1/(x+1)", "1"},
    {"x^2 + 2x + 1", "(x + 1)\xc2\xb2"},
    {"1/x + 1/y", "1/x + 1/y"},
    {"(2x*(x + 1)^2 - 2x^2*(x + 1))/(x + 1)^4", "2x/(x + 1)\xc2\xb3"},
    {"(sqrt(x^2 + 1) - x^2/sqrt(x^2 + 1))/(x^2 + 1)", "1/(x\xc2\xb2 + 1)^(3/2)"},
    {"-1/(x^2*(1/x^2 + 1))", "\xe2\x88\x92" "1/(x\xc2\xb2 + 1)"},
    {"x*exp(x) - exp(x)", "exp(x)\xc2\xb7(x \xe2\x88\x92 1)"},
    {"(sin(x)^2 + cos(x)^2)/cos(x)^2", "1/cos(x)\xc2\xb2"},
    {"x^2 - 1", "x\xc2\xb2 \xe2\x88\x92 1"},
};

START_TEST(test_simplify_full) { check_pairs(full, NP(full), sl_simplify_full, "simplify_full"); }
END_TEST

/* ---- random expressions: every form has the same value ---- */

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

/* e at (x, y) in 256-bit floats; false when it fails or is not finite */
static bool value_at(SlExpr *e, double x, double y, mpfr_t out)
{
    const char *names[2] = {"x", "y"};
    SlValue *v[2] = {sl_float_new(256), sl_float_new(256)};
    mpfr_set_d(v[0]->u.f, x, MPFR_RNDN);
    mpfr_set_d(v[1]->u.f, y, MPFR_RNDN);
    SlError err = {0};
    SlValue *r = sl_expr_subs(e, names, v, 2, &err);
    bool ok = r && sl_is_number(r);
    if (ok) {
        sl_num_to_mpfr(out, r);
        ok = mpfr_number_p(out) && mpfr_cmpabs_ui(out, 1000000) < 0;
    }
    sl_unref(r);
    sl_unref(v[0]);
    sl_unref(v[1]);
    sl_err_clear(&err);
    return ok;
}

static char *ascii(SlExpr *e) { return show(e, SL_STYLE_ASCII); }

START_TEST(test_random_equivalence)
{
    mpfr_prec_t saved = sl_num_prec();
    sl_num_set_prec(256);
    rs = 20261201;
    mpfr_t a, b;
    mpfr_inits2(256, a, b, (mpfr_ptr)0);
    int compared = 0;
    for (int i = 0; i < 1500; i++) {
        SlExpr *e = gen(5);
        SlError err = {0};
        SlExpr *forms[4] = {sl_simplify(e), sl_expand(e), sl_simplify_full(e), sl_factor(e, &err)};
        static const char *const what[4] = {"simplify", "expand", "simplify_full", "factor"};
        SlExpr *again = sl_simplify(forms[0]);
        if (again != forms[0]) {
            char *s = ascii(e);
            ck_abort_msg("simplify is not idempotent on %s", s);
        }
        sl_expr_unref(again);
        for (int k = 0; k < 2; k++) {
            double x = 0.3 + 0.7 * k, y = 0.45 + 0.3 * k;
            if (!value_at(e, x, y, a))
                continue;
            for (int j = 0; j < 4; j++) {
                if (!value_at(forms[j], x, y, b))
                    continue; /* a form may be defined where the input is not, not the other way */
                mpfr_sub(b, b, a, MPFR_RNDN);
                double d = fabs(mpfr_get_d(b, MPFR_RNDN)), scale = fmax(1.0, fabs(mpfr_get_d(a, MPFR_RNDN)));
                if (d > 1e-40 * scale) {
                    char *s = ascii(e), *t = ascii(forms[j]);
                    ck_abort_msg("%s(%s) = %s differs by %g at x = %g", what[j], s, t, d, x);
                }
                compared++;
            }
        }
        for (int j = 0; j < 4; j++)
            sl_expr_unref(forms[j]);
        sl_expr_unref(e);
    }
    ck_assert_int_gt(compared, 3000);
    mpfr_clears(a, b, (mpfr_ptr)0);
    sl_num_set_prec(saved);
}
END_TEST

static Suite *simplify_suite(void)
{
    Suite *s = suite_create("simplify");
    TCase *t = tcase_create("core");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_identities);
    tcase_add_test(t, test_collection);
    tcase_add_test(t, test_idempotent);
    tcase_add_test(t, test_canonical_order);
    tcase_add_test(t, test_styles);
    tcase_add_test(t, test_shared_linear);
    tcase_add_test(t, test_deep);
    tcase_add_test(t, test_expand);
    tcase_add_test(t, test_factor);
    tcase_add_test(t, test_factor_random);
    tcase_add_test(t, test_simplify_full);
    tcase_add_test(t, test_random_equivalence);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(simplify_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    sl_expr_shutdown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
