/* test_expr.c -- the expression DAG through its C API: hash-consing,
 * canonicalisation, printing in the three styles, substitution. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "expr.h"
#include "num.h"

/* ---- helpers: every combinator consumes its arguments ---- */

static SlExpr *S(const char *name) { return sl_expr_sym(name); }
static SlExpr *I(long n) { return sl_expr_int(n); }

static SlExpr *Q(long p, long q)
{
    mpq_t r;
    mpq_init(r);
    mpq_set_si(r, p, (unsigned long)q);
    SlExpr *e = sl_expr_rat(r);
    mpq_clear(r);
    return e;
}

static SlExpr *F(double d)
{
    mpfr_t f;
    mpfr_init2(f, 53);
    mpfr_set_d(f, d, MPFR_RNDN);
    SlExpr *e = sl_expr_flt(f);
    mpfr_clear(f);
    return e;
}

static SlExpr *take2(SlExpr *r, SlExpr *a, SlExpr *b)
{
    sl_expr_unref(a);
    sl_expr_unref(b);
    return r;
}

static SlExpr *add(SlExpr *a, SlExpr *b) { return take2(sl_expr_add(a, b), a, b); }
static SlExpr *sub(SlExpr *a, SlExpr *b) { return take2(sl_expr_sub(a, b), a, b); }
static SlExpr *mul(SlExpr *a, SlExpr *b) { return take2(sl_expr_mul(a, b), a, b); }
static SlExpr *dv(SlExpr *a, SlExpr *b) { return take2(sl_expr_div(a, b), a, b); }
static SlExpr *pw(SlExpr *a, SlExpr *b) { return take2(sl_expr_pow(a, b), a, b); }

static SlExpr *neg(SlExpr *a)
{
    SlExpr *r = sl_expr_neg(a);
    sl_expr_unref(a);
    return r;
}

static SlExpr *fn1(SlMathFn f, SlExpr *a)
{
    SlExpr *r = sl_expr_fn(f, &a, 1);
    sl_expr_unref(a);
    return r;
}

static SlExpr *fn2(SlMathFn f, SlExpr *a, SlExpr *b)
{
    SlExpr *args[2] = {a, b};
    return take2(sl_expr_fn(f, args, 2), a, b);
}

static SlExpr *fn3(SlMathFn f, SlExpr *a, SlExpr *b, SlExpr *c)
{
    SlExpr *args[3] = {a, b, c};
    SlExpr *r = sl_expr_fn(f, args, 3);
    sl_expr_unref(c);
    return take2(r, a, b);
}

static SlExpr *PI(void) { return sl_expr_const(SL_CONST_PI); }
static SlExpr *E(void) { return sl_expr_const(SL_CONST_E); }

static char *show(const SlExpr *e, SlStyle st)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_expr_print(&b, e, st);
    return sl_buf_take(&b);
}

static char *repr(const SlValue *v)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_repr(&b, v);
    return sl_buf_take(&b);
}

#define CHECK_STR(got, want)                                                                                     \
    do {                                                                                                         \
        char *g_ = (got);                                                                                        \
        ck_assert_str_eq(g_, (want));                                                                            \
        free(g_);                                                                                                \
    } while (0)

/* ---- LaTeX well-formedness (no TeX on the test machines) ----
 * What pdflatex with amsmath would reject in math mode: unbalanced braces,
 * \left without \right (or with no delimiter), \begin without its \end,
 * a control word outside the set the printer may write, ^ or _ in text
 * mode, raw non-ASCII bytes.  Returns NULL or what is wrong. */
static const char *const latex_words[] = {
    "frac", "left", "right", "sqrt", "cdot", "operatorname", "mathrm", "text", "begin", "end", "quad",
    "infty", "ldots", "log", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "exp", "min", "max", "lfloor", "rfloor", "lceil", "rceil", "pi", "alpha", "beta", "gamma", "delta",
    "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu",
    "xi", "rho", "varrho", "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
    "varpi", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
    "surd", "geq", "leq", "neq", NULL};

static const char *latex_problem(const char *s)
{
    int depth = 0, lr = 0, envs = 0;
    int text_depth = -1; /* brace depth of an open \text{ */
    bool math_in_text = false;
    for (const char *c = s; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u >= 0x80)
            return "raw non-ASCII";
        if (*c == '\\') {
            c++;
            if (!*c)
                return "a lone backslash";
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
                continue; /* \\ \, \_ \{ \| */
            const char *w = c;
            while ((c[1] >= 'a' && c[1] <= 'z') || (c[1] >= 'A' && c[1] <= 'Z'))
                c++;
            size_t n = (size_t)(c - w + 1);
            bool known = false;
            for (size_t i = 0; latex_words[i] && !known; i++)
                known = strlen(latex_words[i]) == n && strncmp(latex_words[i], w, n) == 0;
            if (!known)
                return "an unknown control word";
            bool left = n == 4 && strncmp(w, "left", 4) == 0, right = n == 5 && strncmp(w, "right", 5) == 0;
            if (left || right) {
                const char *d = c + 1;
                if (!(*d == '(' || *d == ')' || *d == '[' || *d == ']' || *d == '|' || *d == '.' ||
                      strncmp(d, "\\lfloor", 7) == 0 || strncmp(d, "\\rfloor", 7) == 0 ||
                      strncmp(d, "\\lceil", 6) == 0 || strncmp(d, "\\rceil", 6) == 0))
                    return "\\left or \\right without a delimiter";
                lr += left ? 1 : -1;
                if (lr < 0)
                    return "\\right without \\left";
            }
            if (n == 5 && strncmp(w, "begin", 5) == 0)
                envs++;
            if (n == 3 && strncmp(w, "end", 3) == 0 && --envs < 0)
                return "\\end without \\begin";
            if (n == 4 && strncmp(w, "text", 4) == 0 && text_depth < 0) {
                if (c[1] != '{')
                    return "\\text without {";
                text_depth = depth;
            }
            continue;
        }
        if (*c == '{')
            depth++;
        if (*c == '}' && --depth < 0)
            return "unbalanced }";
        if (*c == '}' && depth == text_depth)
            text_depth = -1;
        if (text_depth >= 0 && *c == '$')
            math_in_text = !math_in_text;
        if (text_depth >= 0 && !math_in_text && (*c == '^' || *c == '_' || *c == '&' || *c == '#' || *c == '%'))
            return "a math character in text mode";
        if (text_depth < 0 && (*c == '$' || *c == '#' || *c == '%' || *c == '~'))
            return "a character TeX treats specially";
    }
    if (depth)
        return "unbalanced {";
    if (lr)
        return "\\left without \\right";
    if (envs)
        return "\\begin without \\end";
    return NULL;
}

#define CHECK_LATEX(text)                                                                                        \
    do {                                                                                                         \
        const char *why_ = latex_problem(text);                                                                  \
        ck_assert_msg(why_ == NULL, "bad LaTeX (%s): %s", why_, (text));                                         \
    } while (0)

/* Print e (consumed) in the three styles. */
static void P3(SlExpr *e, const char *u, const char *a, const char *l)
{
    ck_assert_ptr_nonnull(e);
    CHECK_STR(show(e, SL_STYLE_UNICODE), u);
    CHECK_STR(show(e, SL_STYLE_ASCII), a);
    CHECK_LATEX(l);
    CHECK_STR(show(e, SL_STYLE_LATEX), l);
    sl_expr_unref(e);
}

/* The latex text of e (consumed), checked well-formed. */
static void L1(SlExpr *e, const char *l)
{
    ck_assert_ptr_nonnull(e);
    char *g = show(e, SL_STYLE_LATEX);
    CHECK_LATEX(g);
    ck_assert_str_eq(g, l);
    free(g);
    sl_expr_unref(e);
}

static size_t baseline;

static void setup(void)
{
    sl_num_set_prec(53);
    baseline = sl_expr_live_count();
}

static void teardown(void)
{
    ck_assert_uint_eq(sl_expr_live_count(), baseline);
}

/* ---- hash-consing ---- */

START_TEST(test_hashcons)
{
    SlExpr *x1 = S("x"), *x2 = S("x"), *y = S("y");
    ck_assert_ptr_eq(x1, x2);
    ck_assert_ptr_ne(x1, y);
    ck_assert_int_eq(x1->refs, 2);
    ck_assert_str_eq(x1->u.name, "x");
    sl_expr_unref(x2);
    ck_assert_int_eq(x1->refs, 1);

    SlExpr *a = sl_expr_add(x1, y), *b = sl_expr_add(x1, y);
    ck_assert_ptr_eq(a, b);
    ck_assert_int_eq(a->refs, 2);
    ck_assert_int_eq(x1->refs, 2); /* one from the ADD node */
    SlExpr *c = sl_expr_add(y, x1);
    ck_assert_ptr_ne(a, c); /* no reordering */
    sl_expr_unref(c);

    /* rationals compare by value */
    mpq_t raw;
    mpq_init(raw);
    mpz_set_si(mpq_numref(raw), -3);
    mpz_set_si(mpq_denref(raw), -6); /* not canonical: sl_expr_rat canonicalises */
    SlExpr *h1 = Q(2, 4), *h2 = Q(1, 2), *h3 = sl_expr_rat(raw);
    mpq_clear(raw);
    ck_assert_ptr_eq(h1, h2);
    ck_assert_ptr_eq(h1, h3);
    SlExpr *i4 = I(4), *q4 = Q(8, 2);
    ck_assert_ptr_eq(i4, q4);
    ck_assert(sl_expr_is_int(q4, 4));
    ck_assert(!sl_expr_is_int(h1, 0));

    /* floats by value and precision; -0.0 and 0.0 differ; NaN is one node */
    SlExpr *f1 = F(0.5), *f2 = F(0.5), *z = F(0.0), *mz = F(-0.0), *n1 = F(NAN), *n2 = F(-NAN);
    ck_assert_ptr_eq(f1, f2);
    ck_assert_ptr_ne(z, mz);
    ck_assert_ptr_eq(n1, n2);
    mpfr_t w;
    mpfr_init2(w, 100);
    mpfr_set_d(w, 0.5, MPFR_RNDN);
    SlExpr *f100 = sl_expr_flt(w);
    mpfr_set_nan(w);
    SlExpr *n100 = sl_expr_flt(w);
    mpfr_clear(w);
    ck_assert_ptr_ne(f1, f100);
    ck_assert_ptr_ne(n1, n100);
    ck_assert_ptr_ne(f1, h1); /* 0.5 is not 1/2 */

    SlExpr *s1 = fn1(SL_FN_SIN, sl_expr_ref(x1)), *s2 = fn1(SL_FN_SIN, sl_expr_ref(x1));
    SlExpr *c1 = fn1(SL_FN_COS, sl_expr_ref(x1));
    ck_assert_ptr_eq(s1, s2);
    ck_assert_ptr_ne(s1, c1);
    ck_assert_ptr_eq(PI(), sl_expr_const(SL_CONST_PI));
    SlExpr *pi = sl_expr_const(SL_CONST_PI);
    ck_assert_int_eq(pi->refs, 3);
    sl_expr_unref(pi);
    sl_expr_unref(pi);
    sl_expr_unref(pi);

    SlExpr *all[] = {x1, y, a, b, h1, h2, h3, i4, q4, f1, f2, z, mz, n1, n2, f100, n100, s1, s2, c1};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_expr_unref(all[i]);
}
END_TEST

START_TEST(test_live_count)
{
    size_t base = sl_expr_live_count();
    SlExpr *x = S("x");
    SlExpr *e = add(pw(sl_expr_ref(x), I(2)), mul(I(3), sl_expr_ref(x)));
    /* x, 2, x², 3, 3x, x² + 3x */
    ck_assert_uint_eq(sl_expr_live_count(), base + 6);
    ck_assert_uint_eq(sl_expr_node_count(e), 6);
    SlExpr *e2 = add(sl_expr_ref(e), sl_expr_ref(e));
    ck_assert_uint_eq(sl_expr_node_count(e2), 6); /* x² + 3x + x² + 3x: one new node */
    sl_expr_unref(e2);
    sl_expr_unref(e);
    ck_assert_uint_eq(sl_expr_live_count(), base + 1);
    sl_expr_unref(x);
    ck_assert_uint_eq(sl_expr_live_count(), base);
}
END_TEST

/* ---- canonicalisation ---- */

START_TEST(test_canon_identities)
{
    SlExpr *x = S("x");
    SlExpr *e;
    e = add(sl_expr_ref(x), I(0));
    ck_assert_ptr_eq(e, x);
    sl_expr_unref(e);
    e = mul(I(1), sl_expr_ref(x));
    ck_assert_ptr_eq(e, x);
    sl_expr_unref(e);
    e = mul(I(0), sl_expr_ref(x));
    ck_assert(sl_expr_is_int(e, 0));
    sl_expr_unref(e);
    e = mul(sl_expr_ref(x), F(0.0)); /* documented: 0.0·x = 0.0 */
    ck_assert_int_eq(e->kind, SL_EX_FLT);
    ck_assert(mpfr_zero_p(e->u.f));
    sl_expr_unref(e);
    e = add(sl_expr_ref(x), F(0.0)); /* the float zero stays: it makes the sum a float */
    ck_assert_int_eq(e->kind, SL_EX_ADD);
    sl_expr_unref(e);
    e = pw(sl_expr_ref(x), I(1));
    ck_assert_ptr_eq(e, x);
    sl_expr_unref(e);
    e = pw(sl_expr_ref(x), I(0));
    ck_assert(sl_expr_is_int(e, 1));
    sl_expr_unref(e);
    e = pw(I(0), I(0));
    ck_assert(sl_expr_is_int(e, 1));
    sl_expr_unref(e);
    e = mul(F(1.0), sl_expr_ref(x)); /* 1.0 is not the exact 1 */
    ck_assert_int_eq(e->kind, SL_EX_MUL);
    sl_expr_unref(e);
    sl_expr_unref(x);
}
END_TEST

START_TEST(test_canon_flatten_fold)
{
    SlExpr *x = S("x"), *y = S("y"), *z = S("z");
    SlExpr *e = add(add(sl_expr_ref(x), sl_expr_ref(y)), sl_expr_ref(z));
    ck_assert_int_eq(e->kind, SL_EX_ADD);
    ck_assert_uint_eq(e->nargs, 3);
    ck_assert_ptr_eq(e->args[0], x);
    ck_assert_ptr_eq(e->args[2], z);
    SlExpr *e2 = add(sl_expr_ref(x), add(sl_expr_ref(y), sl_expr_ref(z)));
    ck_assert_ptr_eq(e, e2);
    sl_expr_unref(e2);
    sl_expr_unref(e);

    /* the constant of a sum goes last, folded in order */
    e = add(add(I(2), sl_expr_ref(x)), I(5));
    ck_assert_uint_eq(e->nargs, 2);
    ck_assert_ptr_eq(e->args[0], x);
    ck_assert(sl_expr_is_int(e->args[1], 7));
    sl_expr_unref(e);

    /* the coefficient of a product goes first */
    e = mul(mul(I(2), sl_expr_ref(x)), mul(I(3), sl_expr_ref(y)));
    ck_assert_int_eq(e->kind, SL_EX_MUL);
    ck_assert_uint_eq(e->nargs, 3);
    ck_assert(sl_expr_is_int(e->args[0], 6));
    ck_assert_ptr_eq(e->args[1], x);
    ck_assert_ptr_eq(e->args[2], y);
    sl_expr_unref(e);
    e = mul(sl_expr_ref(x), I(3));
    ck_assert(sl_expr_is_int(e->args[0], 3));
    sl_expr_unref(e);

    /* no collecting: x + x, x·x */
    e = add(sl_expr_ref(x), sl_expr_ref(x));
    ck_assert_int_eq(e->kind, SL_EX_ADD);
    ck_assert_uint_eq(e->nargs, 2);
    sl_expr_unref(e);
    e = mul(sl_expr_ref(x), sl_expr_ref(x));
    ck_assert_int_eq(e->kind, SL_EX_MUL);
    sl_expr_unref(e);

    /* pure numbers */
    e = add(I(1), Q(1, 2));
    SlExpr *q32 = Q(3, 2);
    ck_assert_ptr_eq(e, q32);
    sl_expr_unref(q32);
    sl_expr_unref(e);
    e = add(I(1), F(0.5));
    ck_assert_int_eq(e->kind, SL_EX_FLT);
    ck_assert(mpfr_cmp_d(e->u.f, 1.5) == 0);
    sl_expr_unref(e);
    e = add(add(sl_expr_ref(x), F(0.1)), F(0.2)); /* folded as 0.1 + 0.2 */
    ck_assert(mpfr_cmp_d(e->args[1]->u.f, 0.1 + 0.2) == 0);
    CHECK_STR(show(e, SL_STYLE_ASCII), "x + 0.30000000000000004");
    sl_expr_unref(e);
    e = mul(mul(I(2), sl_expr_ref(x)), F(0.5));
    ck_assert_int_eq(e->args[0]->kind, SL_EX_FLT);
    CHECK_STR(show(e, SL_STYLE_UNICODE), "1.0x");
    sl_expr_unref(e);
    e = mul(mul(I(0), F(2.5)), sl_expr_ref(x)); /* 0 * 2.5 = 0.0 */
    ck_assert_int_eq(e->kind, SL_EX_FLT);
    sl_expr_unref(e);
    sl_expr_unref(x);
    sl_expr_unref(y);
    sl_expr_unref(z);
}
END_TEST

START_TEST(test_canon_sub_div_neg)
{
    SlExpr *x = S("x"), *y = S("y");
    SlExpr *e = sub(sl_expr_ref(x), sl_expr_ref(y));
    ck_assert_int_eq(e->kind, SL_EX_ADD);
    ck_assert_int_eq(e->args[1]->kind, SL_EX_MUL);
    ck_assert(sl_expr_is_int(e->args[1]->args[0], -1));
    ck_assert_ptr_eq(e->args[1]->args[1], y);
    sl_expr_unref(e);
    e = sub(sl_expr_ref(x), I(2));
    ck_assert(sl_expr_is_int(e->args[1], -2));
    sl_expr_unref(e);

    e = dv(sl_expr_ref(x), sl_expr_ref(y));
    ck_assert_int_eq(e->kind, SL_EX_MUL);
    ck_assert_ptr_eq(e->args[0], x);
    ck_assert_int_eq(e->args[1]->kind, SL_EX_POW);
    ck_assert_ptr_eq(e->args[1]->args[0], y);
    ck_assert(sl_expr_is_int(e->args[1]->args[1], -1));
    sl_expr_unref(e);

    e = dv(sl_expr_ref(x), I(3));
    SlExpr *third = Q(1, 3);
    ck_assert_ptr_eq(e->args[0], third);
    ck_assert_ptr_eq(e->args[1], x);
    sl_expr_unref(third);
    sl_expr_unref(e);

    /* exact division by zero */
    SlError err = {0};
    SlExpr *zero = I(0);
    ck_assert_ptr_null(sl_expr_div_e(x, zero, &err));
    ck_assert(err.set);
    ck_assert_int_eq(err.code, SL_E_ZERODIV);
    ck_assert_str_eq(err.msg, "division by zero");
    sl_err_clear(&err);
    ck_assert_ptr_null(sl_expr_div(x, zero));
    SlExpr *one = I(1);
    ck_assert_ptr_null(sl_expr_div_e(one, zero, &err));
    ck_assert_int_eq(err.code, SL_E_ZERODIV);
    sl_err_clear(&err);
    sl_expr_unref(one);
    sl_expr_unref(zero);

    /* numbers divide exactly, or as Python divides floats */
    e = dv(I(1), I(3));
    ck_assert_int_eq(e->kind, SL_EX_RAT);
    sl_expr_unref(e);
    e = dv(F(0.7), I(3));
    ck_assert(mpfr_cmp_d(e->u.f, 0.7 / 3) == 0);
    sl_expr_unref(e);

    e = neg(sl_expr_ref(x));
    ck_assert_int_eq(e->kind, SL_EX_MUL);
    ck_assert(sl_expr_is_int(e->args[0], -1));
    SlExpr *back = neg(e);
    ck_assert_ptr_eq(back, x);
    sl_expr_unref(back);
    e = neg(I(3));
    ck_assert(sl_expr_is_int(e, -3));
    sl_expr_unref(e);
    e = neg(mul(I(2), sl_expr_ref(x)));
    ck_assert(sl_expr_is_int(e->args[0], -2));
    sl_expr_unref(e);
    sl_expr_unref(x);
    sl_expr_unref(y);
}
END_TEST

START_TEST(test_canon_pow)
{
    SlExpr *x = S("x"), *e, *w;
    e = pw(I(2), I(3));
    ck_assert(sl_expr_is_int(e, 8));
    sl_expr_unref(e);
    e = pw(Q(1, 2), I(-2));
    ck_assert(sl_expr_is_int(e, 4));
    sl_expr_unref(e);
    e = pw(I(2), I(-3));
    w = Q(1, 8);
    ck_assert_ptr_eq(e, w);
    sl_expr_unref(w);
    sl_expr_unref(e);
    e = pw(I(4), Q(1, 2));
    ck_assert(sl_expr_is_int(e, 2));
    sl_expr_unref(e);
    e = pw(Q(8, 27), Q(2, 3));
    w = Q(4, 9);
    ck_assert_ptr_eq(e, w);
    sl_expr_unref(w);
    sl_expr_unref(e);
    e = pw(I(2), Q(1, 2)); /* no exact root: stays */
    ck_assert_int_eq(e->kind, SL_EX_POW);
    CHECK_STR(show(e, SL_STYLE_UNICODE), "\xe2\x88\x9a" "2");
    sl_expr_unref(e);
    e = pw(I(-8), Q(1, 3));
    ck_assert_int_eq(e->kind, SL_EX_POW);
    sl_expr_unref(e);
    e = pw(I(0), I(-1)); /* stays symbolic; evaluation reports it */
    ck_assert_int_eq(e->kind, SL_EX_POW);
    sl_expr_unref(e);
    e = pw(I(2), I(1000000)); /* too big to fold */
    ck_assert_int_eq(e->kind, SL_EX_POW);
    sl_expr_unref(e);
    e = pw(F(2.0), I(3));
    ck_assert_int_eq(e->kind, SL_EX_FLT);
    ck_assert(mpfr_cmp_d(e->u.f, 8.0) == 0);
    sl_expr_unref(e);
    e = pw(F(-8.0), Q(1, 3)); /* Python would make it complex: stays */
    ck_assert_int_eq(e->kind, SL_EX_POW);
    sl_expr_unref(e);

    /* (b^r)^n = b^(r n) for integer n */
    e = pw(pw(sl_expr_ref(x), I(2)), I(3));
    w = pw(sl_expr_ref(x), I(6));
    ck_assert_ptr_eq(e, w);
    sl_expr_unref(w);
    sl_expr_unref(e);
    e = pw(pw(sl_expr_ref(x), Q(1, 2)), I(2));
    ck_assert_ptr_eq(e, x);
    sl_expr_unref(e);
    e = pw(pw(sl_expr_ref(x), I(2)), I(-1)); /* 1/x² is x^-2 */
    w = pw(sl_expr_ref(x), I(-2));
    ck_assert_ptr_eq(e, w);
    sl_expr_unref(w);
    sl_expr_unref(e);
    e = pw(pw(sl_expr_ref(x), I(2)), Q(1, 2)); /* √(x²) is not x */
    ck_assert_int_eq(e->kind, SL_EX_POW);
    ck_assert_int_eq(e->args[0]->kind, SL_EX_POW);
    sl_expr_unref(e);
    e = dv(I(1), pw(sl_expr_ref(x), Q(1, 2)));
    w = pw(sl_expr_ref(x), Q(-1, 2));
    ck_assert_ptr_eq(e, w);
    sl_expr_unref(w);
    sl_expr_unref(e);
    sl_expr_unref(x);
}
END_TEST

START_TEST(test_canon_fn)
{
    SlExpr *x = S("x"), *e;
    e = fn1(SL_FN_ABS, I(-3));
    ck_assert(sl_expr_is_int(e, 3));
    sl_expr_unref(e);
    e = fn1(SL_FN_SIGN, Q(-1, 2));
    ck_assert(sl_expr_is_int(e, -1));
    sl_expr_unref(e);
    e = fn1(SL_FN_FLOOR, Q(7, 2));
    ck_assert(sl_expr_is_int(e, 3));
    sl_expr_unref(e);
    e = fn1(SL_FN_FLOOR, Q(-7, 2));
    ck_assert(sl_expr_is_int(e, -4));
    sl_expr_unref(e);
    e = fn1(SL_FN_CEIL, Q(7, 2));
    ck_assert(sl_expr_is_int(e, 4));
    sl_expr_unref(e);
    e = fn1(SL_FN_ROUND, Q(5, 2));
    ck_assert(sl_expr_is_int(e, 2));
    sl_expr_unref(e);
    e = fn1(SL_FN_ROUND, Q(7, 2));
    ck_assert(sl_expr_is_int(e, 4));
    sl_expr_unref(e);
    e = fn1(SL_FN_ROUND, Q(-5, 2));
    ck_assert(sl_expr_is_int(e, -2));
    sl_expr_unref(e);
    e = fn3(SL_FN_MIN, I(3), Q(1, 2), I(2));
    SlExpr *h = Q(1, 2);
    ck_assert_ptr_eq(e, h);
    sl_expr_unref(e);
    e = fn2(SL_FN_MAX, I(3), Q(7, 2));
    ck_assert(mpq_cmp_si(e->u.q, 7, 2) == 0);
    sl_expr_unref(e);
    e = fn1(SL_FN_RELU, I(-1));
    ck_assert(sl_expr_is_int(e, 0));
    sl_expr_unref(e);
    e = fn1(SL_FN_RELU, Q(1, 2));
    ck_assert_ptr_eq(e, h);
    sl_expr_unref(e);
    e = fn1(SL_FN_SIN, I(0));
    ck_assert(sl_expr_is_int(e, 0));
    sl_expr_unref(e);
    e = fn1(SL_FN_COS, I(0));
    ck_assert(sl_expr_is_int(e, 1));
    sl_expr_unref(e);
    e = fn1(SL_FN_EXP, I(0));
    ck_assert(sl_expr_is_int(e, 1));
    sl_expr_unref(e);
    e = fn1(SL_FN_LOG, I(1));
    ck_assert(sl_expr_is_int(e, 0));
    sl_expr_unref(e);
    e = fn1(SL_FN_SIGMOID, I(0));
    ck_assert_ptr_eq(e, h);
    sl_expr_unref(e);
    e = fn1(SL_FN_SIN, PI());
    ck_assert(sl_expr_is_int(e, 0));
    sl_expr_unref(e);
    e = fn1(SL_FN_COS, PI());
    ck_assert(sl_expr_is_int(e, -1));
    sl_expr_unref(e);
    e = fn1(SL_FN_LOG, E());
    ck_assert(sl_expr_is_int(e, 1));
    sl_expr_unref(e);
    sl_expr_unref(h);
    /* exact arguments otherwise stay symbolic */
    e = fn1(SL_FN_SQRT, I(4));
    ck_assert_int_eq(e->kind, SL_EX_FN);
    sl_expr_unref(e);
    e = fn1(SL_FN_SIN, I(1));
    ck_assert_int_eq(e->kind, SL_EX_FN);
    CHECK_STR(show(e, SL_STYLE_ASCII), "sin(1)");
    sl_expr_unref(e);
    /* floats fold numerically; a domain error keeps the call */
    e = fn1(SL_FN_SIN, F(0.5));
    ck_assert_int_eq(e->kind, SL_EX_FLT);
    CHECK_STR(show(e, SL_STYLE_UNICODE), "0.479425538604203");
    sl_expr_unref(e);
    e = fn1(SL_FN_FLOOR, F(2.5)); /* floor of a float is an int, as in Python */
    ck_assert(sl_expr_is_int(e, 2));
    sl_expr_unref(e);
    e = fn1(SL_FN_LOG, F(-1.0));
    ck_assert_int_eq(e->kind, SL_EX_FN);
    sl_expr_unref(e);
    e = fn1(SL_FN_SIN, sl_expr_ref(x));
    ck_assert_int_eq(e->kind, SL_EX_FN);
    ck_assert_int_eq(e->u.fn, SL_FN_SIN);
    sl_expr_unref(e);
    ck_assert_ptr_null(sl_expr_fn(SL_FN_SIN, NULL, 0));
    sl_expr_unref(x);
}
END_TEST

START_TEST(test_queries)
{
    SlExpr *x = S("x"), *y = S("y"), *z = S("z");
    SlExpr *e = add(mul(sl_expr_ref(y), fn1(SL_FN_SIN, sl_expr_ref(x))), mul(sl_expr_ref(x), sl_expr_ref(z)));
    const char *names[4];
    ck_assert_uint_eq(sl_expr_free_syms(e, names, 4), 3);
    ck_assert_str_eq(names[0], "y");
    ck_assert_str_eq(names[1], "x");
    ck_assert_str_eq(names[2], "z");
    ck_assert_uint_eq(sl_expr_free_syms(e, names, 2), 2);
    ck_assert(sl_expr_has_sym(e, "z"));
    ck_assert(!sl_expr_has_sym(e, "w"));
    ck_assert(sl_expr_is_number(e->args[0]) == false);
    SlExpr *n = F(1.5);
    ck_assert(sl_expr_is_number(n));
    sl_expr_unref(n);
    n = PI();
    ck_assert(!sl_expr_is_number(n));
    ck_assert_uint_eq(sl_expr_free_syms(n, names, 4), 0);
    sl_expr_unref(n);
    /* from values */
    SlValue *v = sl_int_si(7);
    n = sl_expr_from_value(v);
    ck_assert(sl_expr_is_int(n, 7));
    sl_expr_unref(n);
    sl_unref(v);
    n = sl_expr_from_value(SL_TRUE_V);
    ck_assert(sl_expr_is_int(n, 1));
    sl_expr_unref(n);
    v = sl_float_d(0.25);
    n = sl_expr_from_value(v);
    ck_assert_int_eq(n->kind, SL_EX_FLT);
    ck_assert_int_eq(mpfr_get_prec(n->u.f), 53);
    sl_expr_unref(n);
    sl_unref(v);
    v = sl_str_cstr("x");
    ck_assert_ptr_null(sl_expr_from_value(v));
    sl_unref(v);
    /* number nodes as values */
    n = Q(1, 4);
    v = sl_expr_number_value(n);
    CHECK_STR(repr(v), "0.25");
    sl_unref(v);
    sl_expr_unref(n);
    v = sl_expr_number_value(e);
    ck_assert_ptr_null(v);
    sl_expr_unref(e);
    sl_expr_unref(x);
    sl_expr_unref(y);
    sl_expr_unref(z);
}
END_TEST

START_TEST(test_nary)
{
    SlExpr *x = S("x"), *y = S("y");
    SlExpr *args[3] = {I(2), x, y};
    SlExpr *e = sl_expr_nary(SL_EX_MUL, args, 3);
    SlExpr *w = mul(mul(I(2), sl_expr_ref(x)), sl_expr_ref(y));
    ck_assert_ptr_eq(e, w);
    sl_expr_unref(w);
    sl_expr_unref(e);
    e = sl_expr_nary(SL_EX_ADD, args + 1, 1);
    ck_assert_ptr_eq(e, x);
    sl_expr_unref(e);
    e = sl_expr_nary(SL_EX_ADD, args, 0);
    ck_assert(sl_expr_is_int(e, 0));
    sl_expr_unref(e);
    sl_expr_unref(args[0]);
    sl_expr_unref(x);
    sl_expr_unref(y);
}
END_TEST

/* ---- printing ---- */

START_TEST(test_print_basic)
{
    SlExpr *x = S("x"), *y = S("y");
#define X sl_expr_ref(x)
#define Y sl_expr_ref(y)
    P3(sub(add(pw(X, I(2)), X), I(6)), "x² + x − 6", "x^2 + x - 6", "x^{2} + x - 6");
    P3(add(mul(I(2), X), I(1)), "2x + 1", "2*x + 1", "2 x + 1");
    P3(mul(X, Y), "x·y", "x*y", "x y");
    P3(mul(mul(I(3), pw(X, I(2))), pw(Y, I(2))), "3x²·y²", "3*x^2*y^2", "3 x^{2} y^{2}");
    P3(mul(mul(I(2), X), Y), "2x·y", "2*x*y", "2 x y");
    P3(dv(X, I(3)), "x/3", "x/3", "\\frac{x}{3}");
    P3(dv(pw(X, I(3)), I(3)), "x³/3", "x^3/3", "\\frac{x^{3}}{3}");
    P3(dv(mul(I(2), X), I(3)), "2x/3", "2*x/3", "\\frac{2 x}{3}");
    P3(dv(I(1), add(I(1), pw(X, I(2)))), "1/(x² + 1)", "1/(x^2 + 1)", "\\frac{1}{x^{2} + 1}");
    P3(dv(I(1), add(pw(X, I(2)), I(1))), "1/(x² + 1)", "1/(x^2 + 1)", "\\frac{1}{x^{2} + 1}");
    P3(sub(pw(X, I(2)), mul(I(2), X)), "x² − 2x", "x^2 - 2*x", "x^{2} - 2 x");
    P3(sub(mul(I(2), X), I(4)), "2x − 4", "2*x - 4", "2 x - 4");
    P3(add(mul(I(-2), X), I(1)), "−2x + 1", "-2*x + 1", "-2 x + 1");
    P3(neg(X), "−x", "-x", "-x");
    P3(neg(pw(X, I(2))), "−x²", "-x^2", "-x^{2}");
    P3(mul(X, neg(Y)), "−x·y", "-x*y", "-x y");
    P3(sub(X, Y), "x − y", "x - y", "x - y");
    P3(sub(X, mul(Q(2, 3), Y)), "x − 2y/3", "x - 2*y/3", "x - \\frac{2 y}{3}");
    P3(neg(add(X, I(1))), "−(x + 1)", "-(x + 1)", "-\\left(x + 1\\right)");
    P3(sub(X, add(Y, S("z"))), "x − (y + z)", "x - (y + z)", "x - \\left(y + z\\right)");
    P3(add(X, X), "x + x", "x + x", "x + x");
    P3(mul(X, X), "x·x", "x*x", "x x");
    P3(sub(X, F(0.5)), "x − 0.5", "x - 0.5", "x - 0.5");
    P3(dv(neg(X), I(3)), "−x/3", "-x/3", "-\\frac{x}{3}");
    P3(add(neg(X), sub(Y, X)), "−x + y − x", "-x + y - x", "-x + y - x");
#undef X
#undef Y
    sl_expr_unref(x);
    sl_expr_unref(y);
}
END_TEST

START_TEST(test_print_numbers)
{
    SlExpr *x = S("x");
#define X sl_expr_ref(x)
    P3(I(-4), "-4", "-4", "-4");
    P3(F(-4.0), "-4.0", "-4.0", "-4.0");
    P3(I(12345), "12345", "12345", "12345");
    P3(Q(1, 3), "1/3", "1/3", "\\frac{1}{3}");
    P3(Q(-1, 3), "-1/3", "-1/3", "-\\frac{1}{3}");
    P3(F(0.1), "0.1", "0.1", "0.1");
    P3(F(1e-05), "1e-05", "1e-05", "1 \\cdot 10^{-5}");
    P3(F(1e22), "1e+22", "1e+22", "1 \\cdot 10^{22}");
    P3(F(INFINITY), "inf", "inf", "\\infty");
    P3(F(-INFINITY), "-inf", "-inf", "-\\infty");
    P3(F(NAN), "nan", "nan", "\\mathrm{nan}");
    P3(mul(F(0.5), X), "0.5x", "0.5*x", "0.5 x");
    P3(mul(F(1.5), fn1(SL_FN_SIN, X)), "1.5·sin(x)", "1.5*sin(x)", "1.5 \\sin{\\left(x\\right)}");
    P3(mul(F(1e-05), X), "1e-05·x", "1e-05*x", "1 \\cdot 10^{-5} x");
    P3(mul(F(-2.5), X), "−2.5x", "-2.5*x", "-2.5 x");
    P3(add(X, I(-1)), "x − 1", "x - 1", "x - 1");
    P3(add(X, Q(1, 3)), "x + 1/3", "x + 1/3", "x + \\frac{1}{3}");
    P3(add(X, Q(-1, 3)), "x − 1/3", "x - 1/3", "x - \\frac{1}{3}");
    P3(add(X, F(-0.0)), "x − 0.0", "x - 0.0", "x - 0.0");
    P3(mul(Q(1, 2), fn1(SL_FN_SIN, X)), "sin(x)/2", "sin(x)/2", "\\frac{\\sin{\\left(x\\right)}}{2}");
    P3(mul(Q(-3, 2), fn1(SL_FN_SIN, X)), "−3·sin(x)/2", "-3*sin(x)/2", "-\\frac{3 \\sin{\\left(x\\right)}}{2}");
    P3(pw(I(-2), X), "(-2)^x", "(-2)^x", "\\left(-2\\right)^{x}");
    P3(pw(Q(1, 2), X), "(1/2)^x", "(1/2)^x", "\\left(\\frac{1}{2}\\right)^{x}");
    P3(pw(F(2.5), X), "2.5^x", "2.5^x", "2.5^{x}");
#undef X
    sl_expr_unref(x);
}
END_TEST

START_TEST(test_print_powers)
{
    SlExpr *x = S("x"), *y = S("y"), *z = S("z");
#define X sl_expr_ref(x)
#define Y sl_expr_ref(y)
#define Z sl_expr_ref(z)
    P3(pw(X, Q(1, 2)), "√x", "sqrt(x)", "\\sqrt{x}");
    P3(pw(add(X, I(1)), Q(1, 2)), "√(x + 1)", "sqrt(x + 1)", "\\sqrt{x + 1}");
    P3(pw(mul(I(2), X), Q(1, 2)), "√(2x)", "sqrt(2*x)", "\\sqrt{2 x}");
    P3(pw(X, Q(1, 3)), "x^(1/3)", "x^(1/3)", "x^{\\frac{1}{3}}");
    P3(pw(X, Q(3, 2)), "x^(3/2)", "x^(3/2)", "x^{\\frac{3}{2}}");
    P3(pw(X, I(-2)), "1/x²", "1/x^2", "\\frac{1}{x^{2}}");
    P3(pw(X, I(-1)), "1/x", "1/x", "\\frac{1}{x}");
    P3(pw(X, Q(-1, 2)), "1/√x", "1/sqrt(x)", "\\frac{1}{\\sqrt{x}}");
    P3(pw(X, Q(-2, 3)), "1/x^(2/3)", "1/x^(2/3)", "\\frac{1}{x^{\\frac{2}{3}}}");
    P3(neg(dv(I(1), X)), "−1/x", "-1/x", "-\\frac{1}{x}");
    P3(pw(I(2), X), "2^x", "2^x", "2^{x}");
    P3(pw(X, add(S("n"), I(1))), "x^(n + 1)", "x^(n + 1)", "x^{n + 1}");
    P3(pw(E(), X), "e^x", "e^x", "e^{x}");
    P3(pw(add(X, I(1)), I(2)), "(x + 1)²", "(x + 1)^2", "\\left(x + 1\\right)^{2}");
    P3(pw(pw(X, Y), Z), "(x^y)^z", "(x^y)^z", "\\left(x^{y}\\right)^{z}");
    P3(pw(X, pw(Y, Z)), "x^(y^z)", "x^(y^z)", "x^{y^{z}}");
    P3(pw(X, F(1.5)), "x^1.5", "x^1.5", "x^{1.5}");
    P3(pw(X, F(-1.5)), "x^(-1.5)", "x^(-1.5)", "x^{-1.5}");
    P3(pw(X, neg(Y)), "x^(−y)", "x^(-y)", "x^{-y}");
    P3(pw(X, mul(I(2), Y)), "x^(2y)", "x^(2*y)", "x^{2 y}");
    P3(pw(X, I(100)), "x¹⁰⁰", "x^100", "x^{100}");
    P3(pw(neg(X), I(2)), "(−x)²", "(-x)^2", "\\left(-x\\right)^{2}");
    P3(pw(pw(X, I(-1)), Y), "(1/x)^y", "(1/x)^y", "\\left(\\frac{1}{x}\\right)^{y}");
    P3(pw(dv(X, Y), I(2)), "(x/y)²", "(x/y)^2", "\\left(\\frac{x}{y}\\right)^{2}");
    P3(pw(pw(X, Q(1, 2)), Y), "(√x)^y", "sqrt(x)^y", "\\sqrt{x}^{y}");
    P3(pw(pw(X, F(1.5)), I(2)), "(x^1.5)²", "(x^1.5)^2", "\\left(x^{1.5}\\right)^{2}");
    P3(mul(I(2), pw(X, Q(1, 2))), "2√x", "2*sqrt(x)", "2 \\sqrt{x}");
    P3(mul(I(2), pw(E(), X)), "2·e^x", "2*e^x", "2 e^{x}");
    P3(mul(I(2), E()), "2·e", "2*e", "2 e");
    P3(mul(I(2), PI()), "2π", "2*pi", "2 \\pi");
    P3(mul(mul(I(2), PI()), X), "2π·x", "2*pi*x", "2 \\pi x");
    P3(PI(), "π", "pi", "\\pi");
#undef X
#undef Y
#undef Z
    sl_expr_unref(x);
    sl_expr_unref(y);
    sl_expr_unref(z);
}
END_TEST

START_TEST(test_print_quotients)
{
    SlExpr *x = S("x"), *y = S("y"), *z = S("z");
#define X sl_expr_ref(x)
#define Y sl_expr_ref(y)
#define Z sl_expr_ref(z)
    P3(dv(X, Y), "x/y", "x/y", "\\frac{x}{y}");
    P3(dv(mul(X, Y), Z), "x·y/z", "x*y/z", "\\frac{x y}{z}");
    P3(dv(dv(X, Y), Z), "x/(y·z)", "x/(y*z)", "\\frac{x}{y z}");
    P3(dv(X, mul(Y, Z)), "x/(y·z)", "x/(y*z)", "\\frac{x}{y z}");
    P3(dv(X, mul(I(2), Y)), "x/(2y)", "x/(2*y)", "\\frac{x}{2 y}");
    P3(dv(dv(X, I(3)), Y), "x/(3y)", "x/(3*y)", "\\frac{x}{3 y}");
    P3(dv(add(X, I(1)), sub(X, I(1))), "(x + 1)/(x − 1)", "(x + 1)/(x - 1)", "\\frac{x + 1}{x - 1}");
    P3(mul(Q(1, 2), pw(X, Q(-1, 2))), "1/(2√x)", "1/(2*sqrt(x))", "\\frac{1}{2 \\sqrt{x}}");
    P3(dv(X, pw(Y, I(2))), "x/y²", "x/y^2", "\\frac{x}{y^{2}}");
    P3(dv(X, fn1(SL_FN_SIN, Y)), "x/sin(y)", "x/sin(y)", "\\frac{x}{\\sin{\\left(y\\right)}}");
    P3(dv(X, F(2.0)), "x/2.0", "x/2.0", "\\frac{x}{2.0}");
    P3(dv(mul(I(3), X), mul(I(2), Y)), "3x/(2y)", "3*x/(2*y)", "\\frac{3 x}{2 y}");
    P3(dv(I(2), X), "2/x", "2/x", "\\frac{2}{x}");
    P3(dv(I(-2), X), "−2/x", "-2/x", "-\\frac{2}{x}");
    P3(add(dv(I(1), X), I(1)), "1/x + 1", "1/x + 1", "\\frac{1}{x} + 1");
    P3(sub(I(1), dv(X, I(2))), "−x/2 + 1", "-x/2 + 1", "-\\frac{x}{2} + 1");
    P3(dv(dv(I(1), X), I(2)), "1/(2x)", "1/(2*x)", "\\frac{1}{2 x}");
    P3(mul(X, dv(pw(Y, I(2)), Z)), "x·y²/z", "x*y^2/z", "\\frac{x y^{2}}{z}");
#undef X
#undef Y
#undef Z
    sl_expr_unref(x);
    sl_expr_unref(y);
    sl_expr_unref(z);
}
END_TEST

START_TEST(test_print_functions)
{
    SlExpr *x = S("x"), *y = S("y");
#define X sl_expr_ref(x)
#define Y sl_expr_ref(y)
    P3(fn1(SL_FN_SIN, X), "sin(x)", "sin(x)", "\\sin{\\left(x\\right)}");
    P3(fn1(SL_FN_COS, mul(X, Y)), "cos(x·y)", "cos(x*y)", "\\cos{\\left(x y\\right)}");
    P3(fn1(SL_FN_EXP, X), "exp(x)", "exp(x)", "e^{x}");
    P3(pw(fn1(SL_FN_EXP, X), I(2)), "exp(x)²", "exp(x)^2", "\\left(e^{x}\\right)^{2}");
    P3(fn1(SL_FN_SQRT, X), "√x", "sqrt(x)", "\\sqrt{x}");
    P3(fn1(SL_FN_SQRT, add(X, I(1))), "√(x + 1)", "sqrt(x + 1)", "\\sqrt{x + 1}");
    P3(fn1(SL_FN_SIGMOID, X), "σ(x)", "sigmoid(x)", "\\sigma{\\left(x\\right)}");
    P3(fn1(SL_FN_ABS, X), "|x|", "abs(x)", "\\left|x\\right|");
    P3(fn1(SL_FN_RELU, X), "relu(x)", "relu(x)", "\\operatorname{relu}{\\left(x\\right)}");
    P3(fn1(SL_FN_LOG, X), "log(x)", "log(x)", "\\log{\\left(x\\right)}");
    P3(fn1(SL_FN_LOG10, X), "log10(x)", "log10(x)", "\\log_{10}{\\left(x\\right)}");
    P3(fn1(SL_FN_LOG2, X), "log2(x)", "log2(x)", "\\log_{2}{\\left(x\\right)}");
    P3(fn1(SL_FN_FLOOR, X), "floor(x)", "floor(x)", "\\left\\lfloor x \\right\\rfloor");
    P3(fn1(SL_FN_CEIL, X), "ceil(x)", "ceil(x)", "\\left\\lceil x \\right\\rceil");
    P3(fn1(SL_FN_CBRT, X), "cbrt(x)", "cbrt(x)", "\\sqrt[3]{x}");
    P3(fn1(SL_FN_ASIN, X), "asin(x)", "asin(x)", "\\arcsin{\\left(x\\right)}");
    P3(fn1(SL_FN_TANH, X), "tanh(x)", "tanh(x)", "\\tanh{\\left(x\\right)}");
    P3(fn2(SL_FN_MAX, X, Y), "max(x, y)", "max(x, y)", "\\max{\\left(x, y\\right)}");
    P3(fn2(SL_FN_ATAN2, Y, X), "atan2(y, x)", "atan2(y, x)", "\\operatorname{atan2}{\\left(y, x\\right)}");
    P3(fn1(SL_FN_SIGN, X), "sign(x)", "sign(x)", "\\operatorname{sign}{\\left(x\\right)}");
    P3(mul(I(2), fn1(SL_FN_SIN, X)), "2·sin(x)", "2*sin(x)", "2 \\sin{\\left(x\\right)}");
    P3(mul(I(2), add(X, I(1))), "2·(x + 1)", "2*(x + 1)", "2 \\left(x + 1\\right)");
    P3(mul(X, fn1(SL_FN_SIN, X)), "x·sin(x)", "x*sin(x)", "x \\sin{\\left(x\\right)}");
    P3(pw(fn1(SL_FN_SIN, X), I(2)), "sin(x)²", "sin(x)^2", "\\sin{\\left(x\\right)}^{2}");
    P3(mul(mul(I(2), fn1(SL_FN_EXP, X)), fn1(SL_FN_COS, X)), "2·exp(x)·cos(x)", "2*exp(x)*cos(x)",
       "2 e^{x} \\cos{\\left(x\\right)}");
    P3(add(mul(mul(I(3), pw(X, I(2))), pw(Y, I(2))), mul(Y, fn1(SL_FN_COS, mul(X, Y)))), "3x²·y² + y·cos(x·y)",
       "3*x^2*y^2 + y*cos(x*y)", "3 x^{2} y^{2} + y \\cos{\\left(x y\\right)}");
    P3(fn1(SL_FN_SIN, neg(X)), "sin(−x)", "sin(-x)", "\\sin{\\left(-x\\right)}");
    P3(fn1(SL_FN_ABS, sub(X, I(1))), "|x − 1|", "abs(x - 1)", "\\left|x - 1\\right|");
    P3(mul(I(2), fn1(SL_FN_SQRT, X)), "2√x", "2*sqrt(x)", "2 \\sqrt{x}");
    P3(fn1(SL_FN_SQRT, fn1(SL_FN_SIN, X)), "√(sin(x))", "sqrt(sin(x))", "\\sqrt{\\sin{\\left(x\\right)}}");
#undef X
#undef Y
    sl_expr_unref(x);
    sl_expr_unref(y);
}
END_TEST

START_TEST(test_print_symbols)
{
    P3(S("alpha"), "alpha", "alpha", "\\alpha");
    P3(S("\xce\xb7"), "\xce\xb7", "\xce\xb7", "\\eta");
    P3(S("x1"), "x1", "x1", "x_{1}");
    P3(S("x_max"), "x_max", "x_max", "x_{\\mathrm{max}}");
    P3(S("lr"), "lr", "lr", "\\mathrm{lr}");
    P3(mul(I(2), S("theta")), "2theta", "2*theta", "2 \\theta");
    P3(mul(I(2), S("e1")), "2·e1", "2*e1", "2 e_{1}"); /* "2e1" would read as a float */
}
END_TEST

/* The latex conventions (SymPy's latex() where sensible), one case each. */
START_TEST(test_latex_conventions)
{
    SlExpr *x = S("x"), *y = S("y");
#define X sl_expr_ref(x)
#define Y sl_expr_ref(y)
    /* the brief's example, fractions, powers, roots, functions */
    L1(add(pw(X, I(2)), dv(I(1), add(I(1), pw(X, I(2))))), "x^{2} + \\frac{1}{x^{2} + 1}");
    L1(pw(X, I(-1)), "\\frac{1}{x}");
    L1(pw(X, Q(1, 2)), "\\sqrt{x}");
    L1(pw(X, Q(1, 3)), "x^{\\frac{1}{3}}");
    L1(fn1(SL_FN_SIN, X), "\\sin{\\left(x\\right)}");
    L1(fn1(SL_FN_EXP, X), "e^{x}");
    L1(fn1(SL_FN_EXP, neg(dv(pw(X, I(2)), I(2)))), "e^{-\\frac{x^{2}}{2}}");
    L1(fn1(SL_FN_LOG, X), "\\log{\\left(x\\right)}");
    L1(pw(E(), X), "e^{x}");
    L1(mul(I(2), PI()), "2 \\pi");
    /* products: side by side; \cdot only before a factor that starts with a digit */
    L1(mul(I(2), X), "2 x");
    L1(mul(X, Y), "x y");
    L1(mul(I(2), pw(I(3), X)), "2 \\cdot 3^{x}");
    L1(mul(X, pw(I(2), Y)), "x \\cdot 2^{y}");
    L1(mul(F(1.5), pw(I(2), X)), "1.5 \\cdot 2^{x}");
    L1(mul(F(2.0), X), "2.0 x");
    L1(mul(F(1e-05), pw(I(2), X)), "1 \\cdot 10^{-5} \\cdot 2^{x}");
    L1(mul(X, fn1(SL_FN_SQRT, I(2))), "x \\sqrt{2}");
    L1(mul(mul(I(2), X), fn1(SL_FN_SIN, X)), "2 x \\sin{\\left(x\\right)}");
    L1(mul(pw(X, I(2)), fn1(SL_FN_EXP, X)), "x^{2} e^{x}");
    L1(dv(mul(I(2), pw(I(3), X)), Y), "\\frac{2 \\cdot 3^{x}}{y}");
    /* groups */
    L1(mul(X, add(X, I(1))), "x \\left(x + 1\\right)");
    L1(mul(add(X, I(1)), sub(X, I(1))), "\\left(x + 1\\right) \\left(x - 1\\right)");
    L1(pw(add(X, I(1)), I(2)), "\\left(x + 1\\right)^{2}");
    L1(neg(add(X, I(1))), "-\\left(x + 1\\right)");
    L1(fn1(SL_FN_ABS, X), "\\left|x\\right|");
    /* signs */
    L1(sub(X, mul(I(2), Y)), "x - 2 y");
    L1(neg(X), "-x");
    L1(I(-3), "-3");
    L1(sub(X, Q(1, 3)), "x - \\frac{1}{3}");
    L1(neg(dv(X, I(2))), "-\\frac{x}{2}");
    L1(sub(X, F(2.5)), "x - 2.5");
    L1(mul(I(-2), pw(X, I(2))), "-2 x^{2}");
    L1(pw(I(-2), X), "\\left(-2\\right)^{x}");
    /* floats print as repr does, exponents as powers of ten */
    L1(F(0.1 + 0.2), "0.30000000000000004");
    L1(F(-1e-05), "-1 \\cdot 10^{-5}");
    L1(F(-INFINITY), "-\\infty");
    L1(mul(F(2.5e-7), X), "2.5 \\cdot 10^{-7} x");
    /* explain's d/dx placeholders keep \cdot */
    SlExpr *d = sl_expr_placeholder("\\frac{d}{dx}\\left[x^{2}\\right]");
    L1(mul(sl_expr_ref(d), fn1(SL_FN_SIN, X)), "\\frac{d}{dx}\\left[x^{2}\\right] \\cdot \\sin{\\left(x\\right)}");
    L1(mul(I(2), sl_expr_ref(d)), "2 \\cdot \\frac{d}{dx}\\left[x^{2}\\right]");
    sl_expr_unref(d);
#undef X
#undef Y
    sl_expr_unref(x);
    sl_expr_unref(y);
}
END_TEST

START_TEST(test_latex_names)
{
    L1(S("alpha"), "\\alpha");
    L1(S("\xce\xb1"), "\\alpha");
    L1(S("Omega"), "\\Omega");
    L1(S("Alpha"), "A");
    L1(S("varphi"), "\\varphi");
    L1(S("t\xe2\x82\x81"), "t_{1}");             /* t₁ */
    L1(S("\xce\xb7\xe2\x82\x81\xe2\x82\x82"), "\\eta_{12}"); /* η₁₂ */
    L1(S("x12"), "x_{12}");
    L1(S("alpha1"), "\\alpha_{1}");
    L1(S("alpha_max"), "\\alpha_{\\mathrm{max}}");
    L1(S("x_beta"), "x_{\\beta}");
    L1(S("a_b_c"), "a_{b_{c}}");
    L1(S("x_"), "\\mathrm{x\\_}");
    L1(S("_y"), "\\mathrm{\\_y}");
    L1(S("lr"), "\\mathrm{lr}");
    L1(mul(S("lr"), S("g")), "\\mathrm{lr} g");
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_expr_latex_name(&b, "theta2");
    ck_assert_str_eq(b.s, "\\theta_{2}");
    sl_buf_free(&b);
}
END_TEST

/* where-printing in latex: an aligned block, a definition a line */
START_TEST(test_latex_where)
{
    SlExpr *e = add(S("x"), I(1));
    for (int i = 0; i < 60; i++)
        e = fn2(SL_FN_MAX, sl_expr_ref(e), e);
    char *t = show(e, SL_STYLE_LATEX);
    CHECK_LATEX(t);
    ck_assert(strncmp(t, "\\begin{aligned}\n& \\max{\\left(t_{", 32) == 0);
    ck_assert_ptr_nonnull(strstr(t, " \\\\\n\\text{where } t_{1} &= \\max{\\left(x + 1, x + 1\\right)} \\\\\nt_{2} &= "));
    ck_assert(strcmp(t + strlen(t) - 14, "\n\\end{aligned}") == 0);
    free(t);
    sl_expr_unref(e);
}
END_TEST

/* Random expressions: every latex text is well-formed. */
static SlExpr *random_node(unsigned *seed, int depth);

/* A random expression (x where a fold divided by an exact 0). */
static SlExpr *random_expr(unsigned *seed, int depth)
{
    SlExpr *e = random_node(seed, depth);
    return e ? e : S("x");
}

static SlExpr *random_node(unsigned *seed, int depth)
{
    int k = (int)(rand_r(seed) % (depth > 0 ? 14u : 6u));
    switch (k) {
    case 0: return S("x");
    case 1: return S(rand_r(seed) % 2 ? "alpha_1" : "lr");
    case 2: return I((long)(rand_r(seed) % 7) - 3);
    case 3: return Q((long)(rand_r(seed) % 9) - 4, 3);
    case 4: return F((double)(rand_r(seed) % 2000) / 7.0 - 100.0);
    case 5: return rand_r(seed) % 2 ? PI() : F(1e-07);
    case 6: return add(random_expr(seed, depth - 1), random_expr(seed, depth - 1));
    case 7: return sub(random_expr(seed, depth - 1), random_expr(seed, depth - 1));
    case 8: return mul(random_expr(seed, depth - 1), random_expr(seed, depth - 1));
    case 9: {
        SlExpr *a = random_expr(seed, depth - 1), *b = random_expr(seed, depth - 1);
        if (sl_expr_is_int(b, 0)) {
            sl_expr_unref(b);
            b = I(2);
        }
        return dv(a, b);
    }
    case 10: return pw(random_expr(seed, depth - 1), rand_r(seed) % 2 ? Q((long)(rand_r(seed) % 7) - 3, 2)
                                                                     : random_expr(seed, depth - 1));
    case 11: return neg(random_expr(seed, depth - 1));
    case 12: {
        static const SlMathFn fns[] = {SL_FN_SIN, SL_FN_EXP, SL_FN_LOG, SL_FN_SQRT, SL_FN_ABS, SL_FN_FLOOR,
                                       SL_FN_CEIL, SL_FN_CBRT, SL_FN_SIGMOID, SL_FN_RELU, SL_FN_LOG10,
                                       SL_FN_SIGN, SL_FN_HEAVISIDE, SL_FN_ASIN, SL_FN_TANH};
        return fn1(fns[rand_r(seed) % (sizeof fns / sizeof fns[0])], random_expr(seed, depth - 1));
    }
    default: return fn2(rand_r(seed) % 2 ? SL_FN_MAX : SL_FN_ATAN2, random_expr(seed, depth - 1),
                        random_expr(seed, depth - 1));
    }
}

START_TEST(test_latex_checker)
{
    ck_assert_ptr_null(latex_problem("\\frac{1}{x} + \\left\\lfloor x \\right\\rfloor && \\text{(d $|$u$|$)} \\\\"));
    ck_assert_ptr_nonnull(latex_problem("\\frac{1}{x"));
    ck_assert_ptr_nonnull(latex_problem("x}"));
    ck_assert_ptr_nonnull(latex_problem("\\left(x"));
    ck_assert_ptr_nonnull(latex_problem("\\left x\\right)"));
    ck_assert_ptr_nonnull(latex_problem("\\ln x"));
    ck_assert_ptr_nonnull(latex_problem("\\text{tan^2}"));
    ck_assert_ptr_nonnull(latex_problem("\\begin{aligned} x"));
    ck_assert_ptr_nonnull(latex_problem("\xce\xb7"));
}
END_TEST

START_TEST(test_latex_random)
{
    unsigned seed = 12345;
    for (int i = 0; i < 3000; i++) {
        SlExpr *e = random_expr(&seed, 5);
        char *t = show(e, SL_STYLE_LATEX);
        CHECK_LATEX(t);
        free(t);
        sl_expr_unref(e);
    }
}
END_TEST

START_TEST(test_style_setting)
{
    ck_assert_int_eq(sl_expr_style(), SL_STYLE_UNICODE);
    SlExpr *x = S("x");
    SlExpr *e = pw(sl_expr_ref(x), I(2));
    SlValue *v = sl_expr_value(sl_expr_ref(e));
    CHECK_STR(repr(v), "x²");
    sl_expr_set_style(SL_STYLE_ASCII);
    CHECK_STR(repr(v), "x^2");
    sl_expr_set_style(SL_STYLE_LATEX);
    CHECK_STR(repr(v), "x^{2}");
    sl_expr_set_style(SL_STYLE_UNICODE);
    sl_unref(v);
    sl_expr_unref(e);
    sl_expr_unref(x);
}
END_TEST

/* The ascii forms of canonical expressions read back through the same
 * constructors the evaluator uses: build what the printed text says, and
 * it must be the very same node. */
START_TEST(test_ascii_roundtrip)
{
    SlExpr *x = S("x"), *y = S("y");
#define X sl_expr_ref(x)
#define Y sl_expr_ref(y)
    struct {
        SlExpr *e;        /* built as a user would */
        const char *text; /* its ascii form */
        SlExpr *reread;   /* built as that text parses */
    } cases[] = {
        /* x^2 + x - 6 */
        {sub(add(pw(X, I(2)), X), I(6)), "x^2 + x - 6", sub(add(pw(X, I(2)), X), I(6))},
        /* 2*x + 1 */
        {add(mul(X, I(2)), I(1)), "2*x + 1", add(mul(I(2), X), I(1))},
        /* -x */
        {mul(I(-1), X), "-x", neg(X)},
        /* x - 2*x: sub, then the product */
        {add(X, mul(I(-2), X)), "x - 2*x", sub(X, mul(I(2), X))},
        /* 2*x/3 */
        {mul(Q(2, 3), X), "2*x/3", dv(mul(I(2), X), I(3))},
        /* x/(2*y) */
        {dv(X, mul(Y, I(2))), "x/(2*y)", dv(X, mul(I(2), Y))},
        /* -1/x^2: -(1/(x^2)) */
        {mul(I(-1), pw(X, I(-2))), "-1/x^2", neg(dv(I(1), pw(X, I(2))))},
        /* 1/(x^2 + 1) */
        {pw(add(I(1), pw(X, I(2))), I(-1)), "1/(x^2 + 1)", dv(I(1), add(pw(X, I(2)), I(1)))},
        /* -(x + 1)*y */
        {mul(neg(add(X, I(1))), Y), "-(x + 1)*y", mul(neg(add(X, I(1))), Y)},
        /* x^(y^2): ^ is right associative */
        {pw(X, pw(Y, I(2))), "x^(y^2)", pw(X, pw(Y, I(2)))},
        /* 3*x^2*y^2 + y*cos(x*y) */
        {add(mul(mul(I(3), pw(X, I(2))), pw(Y, I(2))), mul(Y, fn1(SL_FN_COS, mul(X, Y)))),
         "3*x^2*y^2 + y*cos(x*y)",
         add(mul(mul(I(3), pw(X, I(2))), pw(Y, I(2))), mul(Y, fn1(SL_FN_COS, mul(X, Y))))},
        /* 2*pi*x */
        {mul(PI(), mul(X, I(2))), "2*pi*x", mul(mul(I(2), PI()), X)},
        /* 1/x^(2/3): x^(-2/3) */
        {pw(X, Q(-2, 3)), "1/x^(2/3)", dv(I(1), pw(X, Q(2, 3)))},
        /* sin(x)/2 */
        {dv(fn1(SL_FN_SIN, X), I(2)), "sin(x)/2", dv(fn1(SL_FN_SIN, X), I(2))},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_STR(show(cases[i].e, SL_STYLE_ASCII), cases[i].text);
        ck_assert_msg(cases[i].e == cases[i].reread, "round trip of %s", cases[i].text);
        sl_expr_unref(cases[i].e);
        sl_expr_unref(cases[i].reread);
    }
#undef X
#undef Y
    sl_expr_unref(x);
    sl_expr_unref(y);
}
END_TEST

/* ---- substitution ---- */

/* subs(e, name=v) printed with repr; e is consumed, v too. */
static char *subs1(SlExpr *e, const char *name, SlValue *v, SlError *err)
{
    const char *names[1] = {name};
    SlValue *vals[1] = {v};
    SlValue *r = sl_expr_subs(e, names, vals, 1, err);
    sl_expr_unref(e);
    sl_unref(v);
    if (!r)
        return NULL;
    char *s = repr(r);
    sl_unref(r);
    return s;
}

static char *subs2(SlExpr *e, const char *n1, SlValue *v1, const char *n2, SlValue *v2, SlError *err)
{
    const char *names[2] = {n1, n2};
    SlValue *vals[2] = {v1, v2};
    SlValue *r = sl_expr_subs(e, names, vals, 2, err);
    sl_expr_unref(e);
    sl_unref(v1);
    sl_unref(v2);
    if (!r)
        return NULL;
    char *s = repr(r);
    sl_unref(r);
    return s;
}

static SlValue *vi(long n) { return sl_int_si(n); }
static SlValue *vf(double d) { return sl_float_d(d); }

START_TEST(test_subs_exact_and_float)
{
    SlExpr *x = S("x");
#define X sl_expr_ref(x)
    SlExpr *f = sub(add(pw(X, I(2)), X), I(6));
    SlError err = {0};
    SlValue *r;
    const char *nx[1] = {"x"};
    SlValue *v = vi(1);
    r = sl_expr_subs(f, nx, &v, 1, &err);
    ck_assert_int_eq(r->kind, SL_INT);
    CHECK_STR(repr(r), "-4");
    sl_unref(r);
    sl_unref(v);
    v = vf(1.0);
    r = sl_expr_subs(f, nx, &v, 1, &err);
    ck_assert_int_eq(r->kind, SL_FLOAT);
    CHECK_STR(repr(r), "-4.0");
    sl_unref(r);
    sl_unref(v);
    CHECK_STR(subs1(sl_expr_ref(f), "x", vf(0.5), &err), "-5.25");
    CHECK_STR(subs1(sl_expr_ref(f), "x", vf(1.5), &err), "-2.25");
    CHECK_STR(subs1(sl_expr_ref(f), "x", sl_bool(true), &err), "-4");
    sl_expr_unref(f);

    /* exactness */
    v = vi(3);
    f = dv(X, I(3));
    r = sl_expr_subs(f, nx, &v, 1, &err);
    ck_assert_int_eq(r->kind, SL_INT);
    CHECK_STR(repr(r), "1");
    sl_unref(r);
    sl_unref(v);
    CHECK_STR(subs1(sl_expr_ref(f), "x", vi(1), &err), "0.3333333333333333");
    CHECK_STR(subs1(sl_expr_ref(f), "x", vf(0.7), &err), "0.2333333333333333");   /* 0.7/3 */
    sl_expr_unref(f);
    CHECK_STR(subs1(dv(mul(I(2), X), I(3)), "x", vf(0.7), &err), "0.4666666666666666"); /* (2*0.7)/3 */
    CHECK_STR(subs1(add(dv(X, I(3)), dv(X, I(6))), "x", vi(1), &err), "0.5");
    CHECK_STR(subs1(mul(dv(X, I(3)), I(3)), "x", vi(5), &err), "5");
    CHECK_STR(subs1(fn1(SL_FN_FLOOR, dv(X, I(2))), "x", vi(7), &err), "3");
    CHECK_STR(subs1(pw(X, I(-1)), "x", vi(3), &err), "0.3333333333333333");
    CHECK_STR(subs1(pw(I(2), X), "x", vi(-1), &err), "0.5");
    CHECK_STR(subs1(pw(I(2), X), "x", vi(100), &err), "1267650600228229401496703205376");
    CHECK_STR(subs1(pw(X, Q(1, 2)), "x", vi(4), &err), "2.0"); /* 4**0.5 */
    CHECK_STR(subs1(fn1(SL_FN_SQRT, X), "x", vi(2), &err), "1.4142135623730951");
    CHECK_STR(subs1(fn1(SL_FN_ABS, X), "x", vi(-3), &err), "3");

    /* Python's float results, evaluated as the user's expression */
    CHECK_STR(subs1(sub(dv(pw(X, I(3)), I(3)), X), "x", vf(1.1), &err), "-0.6563333333333332");
    CHECK_STR(subs1(dv(add(X, I(1)), sub(X, I(1))), "x", vf(0.3), &err), "-1.8571428571428574");
    CHECK_STR(subs1(add(mul(F(0.1), X), F(0.2)), "x", vi(3), &err), "0.5");
    CHECK_STR(subs1(dv(I(1), add(I(1), pw(X, I(2)))), "x", vf(0.3), &err), "0.9174311926605504");
    CHECK_STR(subs1(mul(fn1(SL_FN_SIN, X), fn1(SL_FN_EXP, X)), "x", vf(0.5), &err), "0.7904390832136149");
    CHECK_STR(subs1(dv(mul(mul(X, X), X), I(3)), "x", vf(1.1), &err), "0.4436666666666668");
    SlExpr *y = S("y");
    CHECK_STR(subs2(mul(mul(I(3), pw(X, I(2))), pw(sl_expr_ref(y), I(2))), "x", vf(1.1), "y", vf(2.5), &err),
              "22.687500000000004");
    CHECK_STR(subs2(dv(X, sl_expr_ref(y)), "x", vi(1), "y", vi(3), &err), "0.3333333333333333");
    CHECK_STR(subs2(dv(X, sl_expr_ref(y)), "x", vf(1.0), "y", vi(4), &err), "0.25");
    /* grad(g)[0] at (1, 2): 3x²y² + y cos(xy) */
    CHECK_STR(subs2(add(mul(mul(I(3), pw(X, I(2))), pw(sl_expr_ref(y), I(2))),
                        mul(sl_expr_ref(y), fn1(SL_FN_COS, mul(X, sl_expr_ref(y))))),
                    "x", vi(1), "y", vi(2), &err),
              "11.167706326905716");
    ck_assert(!err.set);
#undef X
    sl_expr_unref(x);
    sl_expr_unref(y);
}
END_TEST

START_TEST(test_subs_constants_partial)
{
    SlExpr *x = S("x"), *y = S("y");
    SlError err = {0};
    SlExpr *e = mul(I(2), PI());
    SlValue *r = sl_expr_subs(e, NULL, NULL, 0, &err);
    CHECK_STR(repr(r), "6.283185307179586");
    sl_unref(r);
    sl_expr_unref(e);
    CHECK_STR(subs1(dv(PI(), I(3)), "x", vi(1), &err), "1.0471975511965976");
    CHECK_STR(subs1(pw(E(), sl_expr_ref(x)), "x", vi(1), &err), "2.718281828459045");
    /* an expression without symbols as the value */
    CHECK_STR(subs1(mul(sl_expr_ref(x), I(2)), "x", sl_expr_value(PI()), &err), "6.283185307179586");
    /* partial: the rest stays symbolic */
    CHECK_STR(subs1(add(sl_expr_ref(x), sl_expr_ref(y)), "x", vi(1), &err), "y + 1");
    CHECK_STR(subs1(mul(sl_expr_ref(x), sl_expr_ref(y)), "x", sl_expr_value(PI()), &err), "π·y");
    CHECK_STR(subs1(dv(sl_expr_ref(x), sl_expr_ref(y)), "y", vi(2), &err), "x/2");
    CHECK_STR(subs1(dv(sl_expr_ref(x), sl_expr_ref(y)), "y", vf(2.0), &err), "x/2.0");
    CHECK_STR(subs1(pw(sl_expr_ref(x), sl_expr_ref(y)), "y", vi(2), &err), "x²");
    CHECK_STR(subs1(fn1(SL_FN_SIN, sl_expr_ref(y)), "y", sl_expr_value(mul(I(2), sl_expr_ref(x))), &err),
              "sin(2x)");
    CHECK_STR(subs1(add(sl_expr_ref(x), sl_expr_ref(y)), "z", vi(1), &err), "x + y");
    /* the first binding of a name wins; unused names are ignored */
    CHECK_STR(subs2(mul(sl_expr_ref(x), I(3)), "x", vi(2), "x", vi(5), &err), "6");
    ck_assert(!err.set);
    sl_expr_unref(x);
    sl_expr_unref(y);
}
END_TEST

START_TEST(test_subs_errors)
{
    SlExpr *x = S("x"), *y = S("y");
    SlError err = {0};
    ck_assert_ptr_null(subs2(dv(sl_expr_ref(x), sl_expr_ref(y)), "x", vi(1), "y", vi(0), &err));
    ck_assert_int_eq(err.code, SL_E_ZERODIV);
    ck_assert_str_eq(err.msg, "division by zero");
    sl_err_clear(&err);
    ck_assert_ptr_null(subs2(dv(sl_expr_ref(x), sl_expr_ref(y)), "x", vf(1.0), "y", vf(0.0), &err));
    ck_assert_int_eq(err.code, SL_E_ZERODIV);
    sl_err_clear(&err);
    ck_assert_ptr_null(subs1(dv(I(1), pw(sl_expr_ref(x), I(2))), "x", vi(0), &err));
    ck_assert_int_eq(err.code, SL_E_ZERODIV);
    sl_err_clear(&err);
    ck_assert_ptr_null(subs1(pw(I(0), I(-1)), "x", vi(0), &err));
    ck_assert_int_eq(err.code, SL_E_ZERODIV);
    sl_err_clear(&err);
    ck_assert_ptr_null(subs1(fn1(SL_FN_LOG, sl_expr_ref(x)), "x", vi(-1), &err));
    ck_assert_int_eq(err.code, SL_E_MATH_DOMAIN);
    sl_err_clear(&err);
    ck_assert_ptr_null(subs1(fn1(SL_FN_SQRT, sl_expr_ref(x)), "x", vf(-2.0), &err));
    ck_assert_int_eq(err.code, SL_E_MATH_DOMAIN);
    sl_err_clear(&err);
    ck_assert_ptr_null(subs1(sl_expr_ref(x), "x", sl_str_cstr("a"), &err));
    ck_assert_int_eq(err.code, SL_E_ARG_TYPE);
    sl_err_clear(&err);
    sl_expr_unref(x);
    sl_expr_unref(y);
}
END_TEST

START_TEST(test_subs_precision)
{
    SlError err = {0};
    sl_num_set_prec(100);
    char *t = subs1(dv(S("x"), I(3)), "x", vi(1), &err);
    ck_assert_msg(strncmp(t, "0.333333333333333333333333333", 29) == 0, "%s", t);
    free(t);
    SlExpr *e = PI();
    SlValue *r = sl_expr_subs(e, NULL, NULL, 0, &err);
    ck_assert_int_eq(mpfr_get_prec(r->u.f), 100);
    sl_unref(r);
    sl_expr_unref(e);
    sl_num_set_prec(53);
}
END_TEST

/* ---- deep and big expressions ---- */

START_TEST(test_deep_chain)
{
    size_t base = sl_expr_live_count();
    SlExpr *x = S("x"), *y = S("y");
    SlExpr *e = sl_expr_ref(x);
    const long n = 100000;
    for (long i = 0; i < n; i++)
        e = add(mul(e, sl_expr_ref(y)), I(1)); /* ((x·y + 1)·y + 1)... */
    ck_assert_uint_eq(sl_expr_node_count(e), (size_t)(2 * n + 3));
    const char *names[3];
    ck_assert_uint_eq(sl_expr_free_syms(e, names, 3), 2);
    ck_assert_str_eq(names[0], "x");
    ck_assert(sl_expr_has_sym(e, "y"));
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_expr_print(&b, e, SL_STYLE_UNICODE);
    ck_assert(strncmp(b.s, "((((", 4) == 0);
    ck_assert(strstr(b.s, "(x·y + 1)·y + 1)") != NULL);
    sl_buf_free(&b);
    sl_buf_init(&b);
    sl_expr_print(&b, e, SL_STYLE_LATEX);
    ck_assert(b.len > 0);
    sl_buf_free(&b);
    SlError err = {0};
    CHECK_STR(subs2(sl_expr_ref(e), "x", vi(0), "y", vf(0.5), &err), "2.0");
    CHECK_STR(subs2(sl_expr_ref(e), "x", vi(5), "y", vi(1), &err), "100005");
    /* partial: the rebuilt sum flattens level by level into x + 100000 */
    const char *ny[1] = {"y"};
    SlValue *one = vi(1);
    SlValue *p = sl_expr_subs(e, ny, &one, 1, &err);
    CHECK_STR(repr(p), "x + 100000");
    sl_unref(p);
    sl_unref(one);
    sl_expr_unref(e);
    sl_expr_unref(x);
    sl_expr_unref(y);
    ck_assert_uint_eq(sl_expr_live_count(), base);
}
END_TEST

START_TEST(test_million_nodes)
{
    size_t base = sl_expr_live_count();
    SlExpr *e = S("x");
    const long n = 1000000;
    for (long i = 0; i < n; i++)
        e = fn1(SL_FN_SIN, e);
    ck_assert_uint_eq(sl_expr_live_count(), base + (size_t)n + 1);
    ck_assert_uint_eq(sl_expr_node_count(e), (size_t)n + 1);
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_expr_print(&b, e, SL_STYLE_UNICODE);
    /* 4 MB of "sin(" then the ellipsis */
    ck_assert_uint_ge(b.len, SL_EXPR_PRINT_MAX);
    ck_assert_uint_le(b.len, SL_EXPR_PRINT_MAX + 64);
    ck_assert_str_eq(b.s + b.len - 3, "\xe2\x80\xa6");
    sl_buf_free(&b);
    sl_buf_init(&b);
    sl_expr_print(&b, e, SL_STYLE_ASCII);
    ck_assert_str_eq(b.s + b.len - 3, "...");
    sl_buf_free(&b);
    sl_expr_unref(e); /* frees a million nodes without recursion */
    ck_assert_uint_eq(sl_expr_live_count(), base);
}
END_TEST

START_TEST(test_shared_blowup_print)
{
    /* e_{k+1} = max(e_k, e_k): 60 nodes, 2^60 leaves as a tree: printed
     * with named shared subexpressions (where t1 = ...), a line each */
    size_t base = sl_expr_live_count();
    SlExpr *e = add(S("x"), I(1));
    for (int i = 0; i < 60; i++)
        e = fn2(SL_FN_MAX, sl_expr_ref(e), e);
    ck_assert_uint_le(sl_expr_node_count(e), 70);
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_expr_print(&b, e, SL_STYLE_ASCII);
    ck_assert_uint_le(b.len, 2000);
    ck_assert_ptr_nonnull(strstr(b.s, "\nwhere t1 = max(x + 1, x + 1)\n"));
    sl_buf_free(&b);
    sl_expr_unref(e);
    ck_assert_uint_eq(sl_expr_live_count(), base);
}
END_TEST

static Suite *expr_suite(void)
{
    Suite *s = suite_create("expr");
    TCase *t = tcase_create("core");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_hashcons);
    tcase_add_test(t, test_live_count);
    tcase_add_test(t, test_canon_identities);
    tcase_add_test(t, test_canon_flatten_fold);
    tcase_add_test(t, test_canon_sub_div_neg);
    tcase_add_test(t, test_canon_pow);
    tcase_add_test(t, test_canon_fn);
    tcase_add_test(t, test_queries);
    tcase_add_test(t, test_nary);
    tcase_add_test(t, test_print_basic);
    tcase_add_test(t, test_print_numbers);
    tcase_add_test(t, test_print_powers);
    tcase_add_test(t, test_print_quotients);
    tcase_add_test(t, test_print_functions);
    tcase_add_test(t, test_print_symbols);
    tcase_add_test(t, test_latex_conventions);
    tcase_add_test(t, test_latex_names);
    tcase_add_test(t, test_latex_where);
    tcase_add_test(t, test_latex_checker);
    tcase_add_test(t, test_latex_random);
    tcase_add_test(t, test_style_setting);
    tcase_add_test(t, test_ascii_roundtrip);
    tcase_add_test(t, test_subs_exact_and_float);
    tcase_add_test(t, test_subs_constants_partial);
    tcase_add_test(t, test_subs_errors);
    tcase_add_test(t, test_subs_precision);
    tcase_add_test(t, test_deep_chain);
    tcase_add_test(t, test_million_nodes);
    tcase_add_test(t, test_shared_blowup_print);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(expr_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    sl_expr_shutdown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
