/* simplify.c -- the simplifier: results that read like a textbook.
 *
 * Three parts:
 *   1. the order on nodes that makes results canonical: terms of a sum by
 *      degree (descending), then graded-lexicographic by base, constants
 *      last; factors of a product coefficient first, then constants (π),
 *      symbols by name, numeric bases (2ˣ), sums, other powers, and
 *      functions (exp, log, roots, trig, hyperbolic, the rest);
 *   2. sl_simplify: a post-order walk over the DAG, memoised per node, that
 *      rebuilds every node from its simplified children with simp_add,
 *      simp_mul, simp_pow and simp_fn (collecting like terms and like
 *      factors with exact coefficients and exponents);
 *   3. sl_expand, sl_factor (polynomials over the integers) and
 *      sl_simplify_full.
 *
 * Rules of simp_add: sums flatten; a numeric multiple of a short sum
 * (at most DISTRIBUTE_MAX terms) inside a sum is distributed, so that
 * 2(x + 1) + 3x becomes 5x + 2 (a sum standing alone keeps its factor:
 * 2(x + 1) is how a textbook writes the derivative of (x + 1)²); like terms
 * (equal up to the numeric coefficient) add their coefficients exactly;
 * numbers fold into one constant, written last.
 * Rules of simp_mul: products flatten; numbers fold into one leading
 * coefficient; like factors (equal bases) add their exponents (√u counts
 * as u^(1/2), so x·√x = x^(3/2) and √x/x = 1/√x); (a·b)ⁿ = aⁿ·bⁿ for an
 * integer n; a zero coefficient annihilates.
 * Rules of simp_pow: x^0 = 1, x^1 = x, 1^x = 1, numbers fold when exact,
 * (bʳ)ⁿ = b^(r·n) for an integer n, √u² = u, exp(u)ⁿ = exp(n·u),
 * |u|ⁿ = uⁿ for an even n.
 * Rules of simp_fn: the constructor's folds and identities, odd and even
 * functions take the sign out (sin(−u) = −sin(u), cos(−u) = cos(u)),
 * exp(log u) = u, log(exp u) = u, √(u²) = |u|, ||u|| = |u|, |c·u| = |c|·|u|.
 *
 * No rule expands a product of sums: hash-consed derivatives such as the
 * logistic map's stay linear in size.  Every walk is iterative or bounded
 * (the order compares at most CMP_DEPTH levels deep, then falls back to the
 * structural hash).
 */
#include "simplify.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("slope: out of memory\n", stderr);
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("slope: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* A growable array of owned node references. */
typedef struct Vec {
    SlExpr **v;  /* items */
    size_t n;    /* used */
    size_t cap;  /* allocated */
} Vec;

static void vpush(Vec *a, SlExpr *e) /* takes the reference */
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 8;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = e;
}

static void vfree(Vec *a)
{
    for (size_t i = 0; i < a->n; i++)
        sl_expr_unref(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

#define DISTRIBUTE_MAX 6
#define CMP_DEPTH 48

static SlExpr *I(long n) { return sl_expr_int(n); }

static bool is_num(const SlExpr *e) { return sl_expr_is_number(e); }
static bool is_rat(const SlExpr *e) { return e->kind == SL_EX_RAT; }
static bool is_zero(const SlExpr *e)
{
    return (e->kind == SL_EX_RAT && mpq_sgn(e->u.q) == 0) || (e->kind == SL_EX_FLT && mpfr_zero_p(e->u.f));
}
static bool rat_integral(const SlExpr *e) { return is_rat(e) && mpz_cmp_ui(mpq_denref(e->u.q), 1) == 0; }
static bool rat_negative(const SlExpr *e) { return is_rat(e) && mpq_sgn(e->u.q) < 0; }
static bool num_negative(const SlExpr *e)
{
    return (is_rat(e) && mpq_sgn(e->u.q) < 0) || (e->kind == SL_EX_FLT && mpfr_sgn(e->u.f) < 0);
}
static bool is_fn(const SlExpr *e, SlMathFn fn) { return e->kind == SL_EX_FN && e->u.fn == (int)fn; }

static SlExpr *rat_si(long p, long q)
{
    mpq_t r;
    mpq_init(r);
    mpq_set_si(r, p, (unsigned long)q);
    mpq_canonicalize(r);
    SlExpr *e = sl_expr_rat(r);
    mpq_clear(r);
    return e;
}

/* ===========================================================================
 * 1. Order
 * ======================================================================== */

/* Functions in a product: exp, logs, roots, trig, hyperbolic, the rest. */
static int fn_rank(int fn)
{
    static const int order[] = {
        SL_FN_EXP,  SL_FN_LOG,   SL_FN_LOG2,    SL_FN_LOG10,  SL_FN_SQRT,      SL_FN_CBRT,  SL_FN_SIN,
        SL_FN_COS,  SL_FN_TAN,   SL_FN_ASIN,    SL_FN_ACOS,   SL_FN_ATAN,      SL_FN_ATAN2, SL_FN_SINH,
        SL_FN_COSH, SL_FN_TANH,  SL_FN_SIGMOID, SL_FN_RELU,   SL_FN_HEAVISIDE, SL_FN_ABS,   SL_FN_SIGN,
        SL_FN_FLOOR, SL_FN_CEIL, SL_FN_ROUND,   SL_FN_MIN,    SL_FN_MAX,
    };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (order[i] == fn)
            return (int)i;
    return (int)(sizeof order / sizeof order[0]) + fn;
}

static int cmp_num(const SlExpr *a, const SlExpr *b)
{
    int c;
    if (is_rat(a) && is_rat(b))
        return mpq_cmp(a->u.q, b->u.q) < 0 ? -1 : mpq_cmp(a->u.q, b->u.q) > 0;
    if (is_rat(a)) {
        if (mpfr_nan_p(b->u.f))
            return -1;
        c = -mpfr_cmp_q(b->u.f, a->u.q);
        return c ? (c < 0 ? -1 : 1) : -1; /* 1 before 1.0 */
    }
    if (is_rat(b))
        return -cmp_num(b, a);
    if (mpfr_nan_p(a->u.f) || mpfr_nan_p(b->u.f))
        return mpfr_nan_p(a->u.f) - mpfr_nan_p(b->u.f);
    c = mpfr_cmp(a->u.f, b->u.f);
    if (c)
        return c < 0 ? -1 : 1;
    if (mpfr_signbit(a->u.f) != mpfr_signbit(b->u.f))
        return mpfr_signbit(a->u.f) ? -1 : 1;
    return mpfr_get_prec(a->u.f) < mpfr_get_prec(b->u.f) ? -1 : mpfr_get_prec(a->u.f) > mpfr_get_prec(b->u.f);
}

static int kind_rank(const SlExpr *e)
{
    switch (e->kind) {
    case SL_EX_RAT:
    case SL_EX_FLT: return 0;
    case SL_EX_CONST: return 1;
    case SL_EX_SYM: return 2;
    case SL_EX_POW: return 3;
    case SL_EX_MUL: return 4;
    case SL_EX_ADD: return 5;
    case SL_EX_FN: return 6;
    }
    return 7;
}

/* A total order on nodes, structural, deterministic across runs. */
static int cmp_node(const SlExpr *a, const SlExpr *b, int depth)
{
    if (a == b)
        return 0;
    int ra = kind_rank(a), rb = kind_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (depth > CMP_DEPTH) {
        if (a->hash != b->hash)
            return a->hash < b->hash ? -1 : 1;
        return (uintptr_t)a < (uintptr_t)b ? -1 : 1;
    }
    switch (a->kind) {
    case SL_EX_RAT:
    case SL_EX_FLT: return cmp_num(a, b);
    case SL_EX_CONST: return a->u.cid < b->u.cid ? -1 : a->u.cid > b->u.cid;
    case SL_EX_SYM: {
        int c = strcmp(a->u.name, b->u.name);
        return c < 0 ? -1 : c > 0;
    }
    case SL_EX_FN:
        if (a->u.fn != b->u.fn)
            return fn_rank(a->u.fn) < fn_rank(b->u.fn) ? -1 : 1;
        break;
    default: break;
    }
    size_t n = a->nargs < b->nargs ? a->nargs : b->nargs;
    for (size_t i = 0; i < n; i++) {
        int c = cmp_node(a->args[i], b->args[i], depth + 1);
        if (c)
            return c;
    }
    if (a->nargs != b->nargs)
        return a->nargs < b->nargs ? -1 : 1;
    return (uintptr_t)a < (uintptr_t)b ? -1 : 1; /* equal structure means equal node */
}

/* A factor as base^exponent (borrowed; *x is NULL for exponent 1). */
static const SlExpr *factor_base(const SlExpr *f, const SlExpr **x)
{
    if (f->kind == SL_EX_POW) {
        *x = f->args[1];
        return f->args[0];
    }
    *x = NULL;
    return f;
}

static int base_rank(const SlExpr *b)
{
    switch (b->kind) {
    case SL_EX_CONST: return 0;
    case SL_EX_SYM: return 1;
    case SL_EX_RAT:
    case SL_EX_FLT: return 2;
    case SL_EX_FN: return 3 + fn_rank(b->u.fn);
    case SL_EX_ADD: return 100;
    case SL_EX_POW:
    case SL_EX_MUL: return 101;
    }
    return 102;
}

static int cmp_base(const SlExpr *a, const SlExpr *b)
{
    int ra = base_rank(a), rb = base_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    return cmp_node(a, b, 0);
}

/* x against the exponent 1 (x a number) */
static int cmp_one(const SlExpr *x)
{
    if (is_rat(x))
        return mpq_cmp_si(x->u.q, 1, 1) < 0 ? -1 : mpq_cmp_si(x->u.q, 1, 1) > 0;
    if (mpfr_nan_p(x->u.f))
        return 1;
    int c = mpfr_cmp_si(x->u.f, 1);
    return c ? (c < 0 ? -1 : 1) : 1;
}

/* Exponents (NULL = 1): larger first for numbers (x² before x),
 * numbers before symbolic exponents, structural otherwise. */
static int cmp_exponent(const SlExpr *a, const SlExpr *b)
{
    if (a == b)
        return 0;
    if (!a)
        return is_num(b) ? cmp_one(b) : -1;
    if (!b)
        return is_num(a) ? -cmp_one(a) : 1;
    if (is_num(a) && is_num(b))
        return -cmp_num(a, b);
    if (is_num(a) != is_num(b))
        return is_num(a) ? -1 : 1;
    return cmp_node(a, b, 0);
}

static int cmp_factor(const void *pa, const void *pb)
{
    const SlExpr *a = *(SlExpr *const *)pa, *b = *(SlExpr *const *)pb;
    const SlExpr *xa, *xb;
    const SlExpr *ba = factor_base(a, &xa), *bb = factor_base(b, &xb);
    int c = cmp_base(ba, bb);
    if (c)
        return c;
    c = cmp_exponent(xa, xb);
    return c ? c : cmp_node(a, b, 0);
}

/* Polynomial degree in the symbols (π, functions and numbers count 0);
 * memoised per node for one sort, bounded in depth. */
typedef struct Degrees {
    SlExprMap memo; /* node -> index + 1 into deg */
    double *deg;
    size_t n, cap;
} Degrees;

static Degrees *cur_deg; /* the table of the sort in progress */

static double degree(const SlExpr *e, int depth)
{
    switch (e->kind) {
    case SL_EX_SYM: return sl_expr_is_placeholder(e) ? 0 : 1;
    case SL_EX_ADD:
    case SL_EX_MUL:
    case SL_EX_POW: break;
    default: return 0;
    }
    if (depth > CMP_DEPTH)
        return 0;
    void *hit = sl_expr_map_get(&cur_deg->memo, e);
    if (hit)
        return cur_deg->deg[(uintptr_t)hit - 1];
    double d = 0;
    if (e->kind == SL_EX_ADD) {
        for (size_t i = 0; i < e->nargs; i++) {
            double t = degree(e->args[i], depth + 1);
            if (i == 0 || t > d)
                d = t;
        }
    } else if (e->kind == SL_EX_MUL) {
        for (size_t i = 0; i < e->nargs; i++)
            d += degree(e->args[i], depth + 1);
    } else if (is_rat(e->args[1])) {
        d = degree(e->args[0], depth + 1) * mpq_get_d(e->args[1]->u.q);
    } else if (e->args[1]->kind == SL_EX_FLT) {
        d = degree(e->args[0], depth + 1) * mpfr_get_d(e->args[1]->u.f, MPFR_RNDN);
    }
    if (cur_deg->n == cur_deg->cap) {
        cur_deg->cap = cur_deg->cap ? cur_deg->cap * 2 : 64;
        cur_deg->deg = xrealloc(cur_deg->deg, cur_deg->cap * sizeof *cur_deg->deg);
    }
    cur_deg->deg[cur_deg->n++] = d;
    sl_expr_map_put(&cur_deg->memo, e, (void *)(uintptr_t)cur_deg->n);
    return d;
}

/* The factors of a term after its coefficient (a non-product is its own
 * single factor: *self). */
static const SlExpr *const *term_factors(const SlExpr *const *self, size_t *n)
{
    const SlExpr *t = *self;
    if (t->kind == SL_EX_MUL) {
        size_t skip = is_num(t->args[0]) ? 1 : 0;
        *n = t->nargs - skip;
        return (const SlExpr *const *)t->args + skip;
    }
    *n = 1;
    return self;
}

static int cmp_term(const void *pa, const void *pb)
{
    const SlExpr *a = *(SlExpr *const *)pa, *b = *(SlExpr *const *)pb;
    if (a == b)
        return 0;
    if (is_num(a) != is_num(b))
        return is_num(a) ? 1 : -1;
    if (is_num(a))
        return cmp_num(a, b);
    double da = degree(a, 0), db = degree(b, 0);
    if (da != db)
        return da > db ? -1 : 1;
    size_t na, nb;
    const SlExpr *const *fa = term_factors(&a, &na);
    const SlExpr *const *fb = term_factors(&b, &nb);
    size_t n = na < nb ? na : nb;
    for (size_t i = 0; i < n; i++) {
        const SlExpr *xa, *xb;
        const SlExpr *ba = factor_base(fa[i], &xa), *bb = factor_base(fb[i], &xb);
        int c = cmp_base(ba, bb);
        if (c)
            return c;
        c = cmp_exponent(xa, xb);
        if (c)
            return c;
    }
    if (na != nb)
        return na > nb ? -1 : 1; /* x·sin(x) + x */
    return cmp_node(a, b, 0);
}

static void sort_terms(SlExpr **v, size_t n)
{
    if (n < 2)
        return;
    Degrees d = {0};
    Degrees *saved = cur_deg;
    cur_deg = &d;
    qsort(v, n, sizeof *v, cmp_term);
    cur_deg = saved;
    sl_expr_map_free(&d.memo);
    free(d.deg);
}

int sl_simplify_order_terms(const SlExpr *a, const SlExpr *b)
{
    Degrees d = {0};
    Degrees *saved = cur_deg;
    cur_deg = &d;
    int c = cmp_term(&a, &b);
    cur_deg = saved;
    sl_expr_map_free(&d.memo);
    free(d.deg);
    return c;
}

/* ===========================================================================
 * 2. The simplifier
 * ======================================================================== */

static SlExpr *simp_add(SlExpr *const *terms, size_t n);
static SlExpr *simp_mul(SlExpr *const *factors, size_t n);
static SlExpr *simp_pow(SlExpr *b, SlExpr *x);
static SlExpr *simp_fn(SlMathFn fn, SlExpr *const *args, size_t n);

static SlExpr *simp_mul2(SlExpr *a, SlExpr *b)
{
    SlExpr *t[2] = {a, b};
    return simp_mul(t, 2);
}

static SlExpr *simp_add2(SlExpr *a, SlExpr *b)
{
    SlExpr *t[2] = {a, b};
    return simp_add(t, 2);
}

static SlExpr *simp_neg(SlExpr *a)
{
    SlExpr *m1 = I(-1);
    SlExpr *r = simp_mul2(m1, a);
    sl_expr_unref(m1);
    return r;
}

/* Number arithmetic through the folding constructors. */
static SlExpr *num_add(SlExpr *a, SlExpr *b) { return sl_expr_add(a, b); }
static SlExpr *num_mul(SlExpr *a, SlExpr *b) { return sl_expr_mul(a, b); }

/* Split a simplified term into coefficient and the rest (new references). */
static void split_term(SlExpr *t, SlExpr **coef, SlExpr **rest)
{
    if (t->kind == SL_EX_MUL && is_num(t->args[0])) {
        *coef = sl_expr_ref(t->args[0]);
        *rest = sl_expr_nary(SL_EX_MUL, t->args + 1, t->nargs - 1);
    } else {
        *coef = I(1);
        *rest = sl_expr_ref(t);
    }
}

/* A numeric multiple of a short sum: c·(a + b) */
static bool distributable(const SlExpr *t)
{
    return t->kind == SL_EX_MUL && t->nargs == 2 && is_num(t->args[0]) && t->args[1]->kind == SL_EX_ADD &&
           t->args[1]->nargs <= DISTRIBUTE_MAX;
}

/* A term written with a minus: −u, −2x */
static bool negative_term(const SlExpr *u)
{
    return num_negative(u) || (u->kind == SL_EX_MUL && num_negative(u->args[0]));
}

/* Sum of simplified terms (borrowed). */
static SlExpr *simp_add(SlExpr *const *terms, size_t n)
{
    Vec work = {0}, rest = {0}, coef = {0};
    SlExprMap index = {0}; /* rest -> position + 1 */
    SlExpr *cst = NULL;
    for (size_t i = n; i-- > 0;)
        vpush(&work, sl_expr_ref(terms[i]));
    while (work.n) {
        SlExpr *t = work.v[--work.n];
        if (t->kind == SL_EX_ADD) {
            for (size_t i = t->nargs; i-- > 0;)
                vpush(&work, sl_expr_ref(t->args[i]));
        } else if (distributable(t)) {
            SlExpr *s = t->args[1];
            for (size_t i = s->nargs; i-- > 0;)
                vpush(&work, simp_mul2(t->args[0], s->args[i]));
        } else if (is_num(t)) {
            if (!cst) {
                cst = sl_expr_ref(t);
            } else {
                SlExpr *c = num_add(cst, t);
                sl_expr_unref(cst);
                cst = c;
            }
        } else {
            SlExpr *c, *r;
            split_term(t, &c, &r);
            void *hit = sl_expr_map_get(&index, r);
            if (hit) {
                size_t k = (uintptr_t)hit - 1;
                SlExpr *sum = num_add(coef.v[k], c);
                sl_expr_unref(coef.v[k]);
                coef.v[k] = sum;
                sl_expr_unref(c);
                sl_expr_unref(r);
            } else {
                vpush(&rest, r);
                vpush(&coef, c);
                sl_expr_map_put(&index, r, (void *)(uintptr_t)rest.n);
            }
        }
        sl_expr_unref(t);
    }
    Vec out = {0};
    for (size_t k = 0; k < rest.n; k++) {
        SlExpr *c = coef.v[k];
        if (is_zero(c)) {
            if (c->kind == SL_EX_FLT) { /* 0.0·x = 0.0: the sum becomes a float */
                SlExpr *s = cst ? num_add(cst, c) : sl_expr_ref(c);
                sl_expr_unref(cst);
                cst = s;
            }
            continue;
        }
        vpush(&out, sl_expr_mul(c, rest.v[k]));
    }
    sort_terms(out.v, out.n);
    if (cst && !(is_rat(cst) && mpq_sgn(cst->u.q) == 0))
        vpush(&out, sl_expr_ref(cst));
    if (out.n > 1 && negative_term(out.v[0])) { /* 1 − x², not −x² + 1 */
        for (size_t j = 1; j < out.n; j++)
            if (!negative_term(out.v[j])) {
                SlExpr *t = out.v[j];
                memmove(out.v + 1, out.v, j * sizeof *out.v);
                out.v[0] = t;
                break;
            }
    }
    SlExpr *r = sl_expr_nary(SL_EX_ADD, out.v, out.n);
    sl_expr_unref(cst);
    vfree(&out);
    vfree(&rest);
    vfree(&coef);
    vfree(&work);
    sl_expr_map_free(&index);
    return r;
}

/* A factor as (base, exponent), both new references; √u is u^(1/2). */
static void split_factor(SlExpr *f, SlExpr **b, SlExpr **x)
{
    if (f->kind == SL_EX_POW && is_rat(f->args[1]) && is_fn(f->args[0], SL_FN_SQRT) && f->args[0]->nargs == 1) {
        mpq_t h; /* √u^q = u^(q/2) */
        mpq_init(h);
        mpq_set_si(h, 1, 2);
        mpq_mul(h, h, f->args[1]->u.q);
        *b = sl_expr_ref(f->args[0]->args[0]);
        *x = sl_expr_rat(h);
        mpq_clear(h);
    } else if (f->kind == SL_EX_POW) {
        *b = sl_expr_ref(f->args[0]);
        *x = sl_expr_ref(f->args[1]);
    } else if (is_fn(f, SL_FN_SQRT) && f->nargs == 1) {
        *b = sl_expr_ref(f->args[0]);
        *x = rat_si(1, 2);
    } else {
        *b = sl_expr_ref(f);
        *x = I(1);
    }
}

/* Product of simplified factors (borrowed). */
static SlExpr *simp_mul(SlExpr *const *factors, size_t n)
{
    Vec work = {0}, base = {0}, expo = {0};
    SlExprMap index = {0}; /* base -> position + 1 */
    SlExpr *coef = I(1);
    for (size_t i = n; i-- > 0;)
        vpush(&work, sl_expr_ref(factors[i]));
    while (work.n) {
        SlExpr *f = work.v[--work.n];
        if (f->kind == SL_EX_MUL) {
            for (size_t i = f->nargs; i-- > 0;)
                vpush(&work, sl_expr_ref(f->args[i]));
        } else if (is_num(f)) {
            SlExpr *c = num_mul(coef, f);
            sl_expr_unref(coef);
            coef = c;
        } else if (f->kind == SL_EX_POW && f->args[0]->kind == SL_EX_MUL && rat_integral(f->args[1])) {
            SlExpr *m = f->args[0];
            for (size_t i = m->nargs; i-- > 0;)
                vpush(&work, simp_pow(m->args[i], f->args[1]));
        } else {
            SlExpr *b, *x;
            split_factor(f, &b, &x);
            void *hit = sl_expr_map_get(&index, b);
            if (hit) {
                size_t k = (uintptr_t)hit - 1;
                SlExpr *s = simp_add2(expo.v[k], x);
                sl_expr_unref(expo.v[k]);
                expo.v[k] = s;
                sl_expr_unref(b);
                sl_expr_unref(x);
            } else {
                vpush(&base, b);
                vpush(&expo, x);
                sl_expr_map_put(&index, b, (void *)(uintptr_t)base.n);
            }
        }
        sl_expr_unref(f);
    }
    Vec out = {0};
    for (size_t k = 0; k < base.n && !is_zero(coef); k++) {
        SlExpr *p = simp_pow(base.v[k], expo.v[k]);
        if (is_num(p)) {
            SlExpr *c = num_mul(coef, p);
            sl_expr_unref(coef);
            coef = c;
            sl_expr_unref(p);
        } else if (p->kind == SL_EX_MUL) { /* (2x)^n distributed: rare, fold it in */
            for (size_t i = 0; i < p->nargs; i++) {
                if (is_num(p->args[i])) {
                    SlExpr *c = num_mul(coef, p->args[i]);
                    sl_expr_unref(coef);
                    coef = c;
                } else {
                    vpush(&out, sl_expr_ref(p->args[i]));
                }
            }
            sl_expr_unref(p);
        } else {
            vpush(&out, p);
        }
    }
    SlExpr *r;
    if (is_zero(coef)) {
        r = sl_expr_ref(coef); /* 0·x = 0, 0.0·x = 0.0 */
    } else {
        qsort(out.v, out.n, sizeof *out.v, cmp_factor);
        if (!sl_expr_is_int(coef, 1) || out.n == 0) {
            vpush(&out, NULL);
            memmove(out.v + 1, out.v, (out.n - 1) * sizeof *out.v);
            out.v[0] = sl_expr_ref(coef);
        }
        r = sl_expr_nary(SL_EX_MUL, out.v, out.n);
    }
    sl_expr_unref(coef);
    vfree(&out);
    vfree(&base);
    vfree(&expo);
    vfree(&work);
    sl_expr_map_free(&index);
    return r;
}

/* b ^ x for simplified b and x (borrowed). */
static SlExpr *simp_pow(SlExpr *b, SlExpr *x)
{
    if (sl_expr_is_int(x, 0) || sl_expr_is_int(b, 1))
        return I(1);
    if (sl_expr_is_int(x, 1))
        return sl_expr_ref(b);
    if (is_num(b) && is_num(x)) {
        if (b->kind == SL_EX_FLT && rat_negative(x)) {
            SlExpr *t[2] = {b, x};
            return sl_expr_nary(SL_EX_POW, t, 2); /* a true division when evaluated */
        }
        return sl_expr_pow(b, x);
    }
    if (b->kind == SL_EX_MUL && rat_integral(x)) {
        Vec f = {0};
        for (size_t i = 0; i < b->nargs; i++)
            vpush(&f, simp_pow(b->args[i], x));
        SlExpr *r = simp_mul(f.v, f.n);
        vfree(&f);
        return r;
    }
    if (is_rat(x) && b->nargs == 1 && is_fn(b, SL_FN_SQRT)) { /* √u^q = u^(q/2) */
        mpq_t h;
        mpq_init(h);
        mpq_set_si(h, 1, 2);
        mpq_mul(h, h, x->u.q);
        SlExpr *q = sl_expr_rat(h);
        mpq_clear(h);
        SlExpr *r = simp_pow(b->args[0], q);
        sl_expr_unref(q);
        return r;
    }
    if (b->nargs == 1 && is_fn(b, SL_FN_EXP)) { /* exp(u)^x = exp(x·u) */
        SlExpr *u = simp_mul2(x, b->args[0]);
        SlExpr *r = simp_fn(SL_FN_EXP, &u, 1);
        sl_expr_unref(u);
        return r;
    }
    if (b->nargs == 1 && is_fn(b, SL_FN_ABS) && rat_integral(x) && mpz_even_p(mpq_numref(x->u.q)))
        return simp_pow(b->args[0], x);
    if (is_rat(x) && mpz_cmp_ui(mpq_denref(x->u.q), 2) == 0 && mpz_cmpabs_ui(mpq_numref(x->u.q), 1) == 0) {
        SlExpr *s = simp_fn(SL_FN_SQRT, &b, 1); /* u^(1/2) = √u, u^(-1/2) = 1/√u */
        if (mpq_sgn(x->u.q) > 0)
            return s;
        SlExpr *m1 = I(-1);
        SlExpr *r = sl_expr_pow(s, m1);
        sl_expr_unref(m1);
        sl_expr_unref(s);
        return r;
    }
    return sl_expr_pow(b, x); /* and (u^r)^n = u^(r·n) */
}

static bool odd_fn(int fn)
{
    switch (fn) {
    case SL_FN_SIN: case SL_FN_TAN: case SL_FN_ASIN: case SL_FN_ATAN: case SL_FN_SINH:
    case SL_FN_TANH: case SL_FN_CBRT: case SL_FN_SIGN:
        return true;
    default: return false;
    }
}

static bool even_fn(int fn) { return fn == SL_FN_COS || fn == SL_FN_COSH || fn == SL_FN_ABS; }

static SlExpr *simp_fn(SlMathFn fn, SlExpr *const *args, size_t n)
{
    if (n == 1) {
        SlExpr *u = args[0];
        if ((odd_fn((int)fn) || even_fn((int)fn)) &&
            ((u->kind == SL_EX_MUL && num_negative(u->args[0])) || rat_negative(u))) {
            SlExpr *mu = simp_neg(u);
            SlExpr *f = simp_fn(fn, &mu, 1);
            sl_expr_unref(mu);
            if (even_fn((int)fn))
                return f;
            SlExpr *r = simp_neg(f);
            sl_expr_unref(f);
            return r;
        }
        if (fn == SL_FN_ABS && u->kind == SL_EX_MUL && is_num(u->args[0])) { /* |c·v| = |c|·|v| */
            SlExpr *c = sl_expr_fn(SL_FN_ABS, &u->args[0], 1);
            SlExpr *v = sl_expr_nary(SL_EX_MUL, u->args + 1, u->nargs - 1);
            SlExpr *av = simp_fn(SL_FN_ABS, &v, 1);
            SlExpr *r = simp_mul2(c, av);
            sl_expr_unref(c);
            sl_expr_unref(v);
            sl_expr_unref(av);
            return r;
        }
        if (fn == SL_FN_ABS && (is_fn(u, SL_FN_ABS) || is_fn(u, SL_FN_EXP) || is_fn(u, SL_FN_SQRT) ||
                                (u->kind == SL_EX_POW && rat_integral(u->args[1]) &&
                                 mpz_even_p(mpq_numref(u->args[1]->u.q)))))
            return sl_expr_ref(u);
        if (fn == SL_FN_SIGN && is_fn(u, SL_FN_SIGN))
            return sl_expr_ref(u);
        if (fn == SL_FN_EXP && is_fn(u, SL_FN_LOG) && u->nargs == 1)
            return sl_expr_ref(u->args[0]);
        if (fn == SL_FN_LOG && is_fn(u, SL_FN_EXP))
            return sl_expr_ref(u->args[0]);
        if (fn == SL_FN_SQRT && u->kind == SL_EX_POW && sl_expr_is_int(u->args[1], 2))
            return simp_fn(SL_FN_ABS, &u->args[0], 1);
        if ((fn == SL_FN_FLOOR || fn == SL_FN_CEIL || fn == SL_FN_ROUND) &&
            (is_fn(u, SL_FN_FLOOR) || is_fn(u, SL_FN_CEIL) || (is_fn(u, SL_FN_ROUND) && u->nargs == 1)))
            return sl_expr_ref(u);
    }
    if ((fn == SL_FN_MIN || fn == SL_FN_MAX) && n >= 2) { /* max(u, u) = u */
        bool same = true;
        for (size_t i = 1; i < n && same; i++)
            same = args[i] == args[0];
        if (same)
            return sl_expr_ref(args[0]);
    }
    SlExpr *r = sl_expr_fn(fn, args, n);
    return r ? r : sl_expr_ref(args[0]);
}

/* One node from its simplified children. */
static SlExpr *simp_node(const SlExpr *e, SlExpr *const *c)
{
    switch (e->kind) {
    case SL_EX_ADD: return simp_add(c, e->nargs);
    case SL_EX_MUL: return simp_mul(c, e->nargs);
    case SL_EX_POW: return simp_pow(c[0], c[1]);
    case SL_EX_FN: return simp_fn((SlMathFn)e->u.fn, c, e->nargs);
    default: return sl_expr_ref((SlExpr *)e);
    }
}

/* A post-order rebuild of e, memoised per node: node(e, children') for
 * each distinct node, on an explicit stack. */
typedef SlExpr *(*NodeFn)(const SlExpr *e, SlExpr *const *children, void *ctx);

static SlExpr *rebuild(SlExpr *root, NodeFn fn, void *ctx)
{
    SlExprMap memo = {0};
    Vec done = {0};  /* results, owned */
    Vec stack = {0}; /* borrowed references: freed with free(), not vfree() */
    SlExpr *local[8];
    stack.cap = 64;
    stack.v = xmalloc(stack.cap * sizeof *stack.v);
    stack.v[stack.n++] = root;
    while (stack.n) {
        SlExpr *e = stack.v[stack.n - 1];
        if (sl_expr_map_get(&memo, e)) {
            stack.n--;
            continue;
        }
        bool pushed = false;
        for (size_t i = 0; i < e->nargs; i++)
            if (!sl_expr_map_get(&memo, e->args[i])) {
                if (stack.n == stack.cap) {
                    stack.cap *= 2;
                    stack.v = xrealloc(stack.v, stack.cap * sizeof *stack.v);
                }
                stack.v[stack.n++] = e->args[i];
                pushed = true;
            }
        if (pushed)
            continue;
        SlExpr **c = e->nargs <= 8 ? local : xmalloc(e->nargs * sizeof *c);
        for (size_t i = 0; i < e->nargs; i++)
            c[i] = done.v[(uintptr_t)sl_expr_map_get(&memo, e->args[i]) - 1];
        SlExpr *r = fn(e, c, ctx);
        if (c != local)
            free(c);
        vpush(&done, r);
        sl_expr_map_put(&memo, e, (void *)(uintptr_t)done.n);
        stack.n--;
    }
    SlExpr *out = sl_expr_ref(done.v[(uintptr_t)sl_expr_map_get(&memo, root) - 1]);
    vfree(&done);
    free(stack.v);
    sl_expr_map_free(&memo);
    return out;
}

static SlExpr *simp_visit(const SlExpr *e, SlExpr *const *c, void *ctx)
{
    (void)ctx;
    return simp_node(e, c);
}

SlExpr *sl_simplify(SlExpr *e)
{
    if (!e)
        return NULL;
    return rebuild(e, simp_visit, NULL);
}

SlExpr *sl_simplify_add(SlExpr *const *terms, size_t n) { return simp_add(terms, n); }
SlExpr *sl_simplify_mul(SlExpr *const *factors, size_t n) { return simp_mul(factors, n); }
SlExpr *sl_simplify_pow(SlExpr *b, SlExpr *x) { return simp_pow(b, x); }
SlExpr *sl_simplify_fn(SlMathFn fn, SlExpr *const *args, size_t n) { return simp_fn(fn, args, n); }

/* ===========================================================================
 * 3. Expand
 * ======================================================================== */

#define EXPAND_MAX_TERMS 20000

static size_t nterms(const SlExpr *e) { return e->kind == SL_EX_ADD ? e->nargs : 1; }

/* a·b multiplied out (a and b expanded, borrowed); NULL when too big. */
static SlExpr *expand_mul2(SlExpr *a, SlExpr *b)
{
    if (a->kind != SL_EX_ADD && b->kind != SL_EX_ADD) {
        SlExpr *p = simp_mul2(a, b);
        if (distributable(p)) { /* c·(sum) made by the product: spread it */
            SlExpr *r = simp_add(&p, 1);
            sl_expr_unref(p);
            return r;
        }
        return p;
    }
    if (nterms(a) * nterms(b) > EXPAND_MAX_TERMS)
        return NULL;
    SlExpr *const *ta = a->kind == SL_EX_ADD ? a->args : &a;
    SlExpr *const *tb = b->kind == SL_EX_ADD ? b->args : &b;
    Vec t = {0};
    for (size_t i = 0; i < nterms(a); i++)
        for (size_t j = 0; j < nterms(b); j++)
            vpush(&t, simp_mul2(ta[i], tb[j]));
    SlExpr *r = simp_add(t.v, t.n);
    vfree(&t);
    return r;
}

static SlExpr *expand_visit(const SlExpr *e, SlExpr *const *c, void *ctx)
{
    (void)ctx;
    switch (e->kind) {
    case SL_EX_ADD: return simp_add(c, e->nargs);
    case SL_EX_MUL: {
        SlExpr *acc = I(1);
        for (size_t i = 0; i < e->nargs; i++) {
            SlExpr *r = expand_mul2(acc, c[i]);
            if (!r) { /* too big: keep the rest as a product */
                Vec f = {0};
                vpush(&f, sl_expr_ref(acc));
                for (size_t j = i; j < e->nargs; j++)
                    vpush(&f, sl_expr_ref(c[j]));
                r = simp_mul(f.v, f.n);
                vfree(&f);
                sl_expr_unref(acc);
                return r;
            }
            sl_expr_unref(acc);
            acc = r;
        }
        return acc;
    }
    case SL_EX_POW:
        if (c[0]->kind == SL_EX_ADD && rat_integral(c[1]) && mpz_cmpabs_ui(mpq_numref(c[1]->u.q), 2) >= 0 &&
            mpz_cmpabs_ui(mpq_numref(c[1]->u.q), 1000) <= 0) {
            long k = labs(mpz_get_si(mpq_numref(c[1]->u.q)));
            SlExpr *acc = I(1), *sq = sl_expr_ref(c[0]);
            bool ok = true;
            while (ok && k) { /* square and multiply */
                if (k & 1) {
                    SlExpr *r = expand_mul2(acc, sq);
                    ok = r != NULL;
                    if (ok) {
                        sl_expr_unref(acc);
                        acc = r;
                    }
                }
                k >>= 1;
                if (ok && k) {
                    SlExpr *r = expand_mul2(sq, sq);
                    ok = r != NULL;
                    if (ok) {
                        sl_expr_unref(sq);
                        sq = r;
                    }
                }
            }
            sl_expr_unref(sq);
            if (!ok) {
                sl_expr_unref(acc);
                return simp_pow(c[0], c[1]);
            }
            if (mpq_sgn(c[1]->u.q) > 0)
                return acc;
            SlExpr *m1 = I(-1);
            SlExpr *r = simp_pow(acc, m1);
            sl_expr_unref(m1);
            sl_expr_unref(acc);
            return r;
        }
        return simp_pow(c[0], c[1]);
    case SL_EX_FN: return simp_fn((SlMathFn)e->u.fn, c, e->nargs);
    default: return sl_expr_ref((SlExpr *)e);
    }
}

SlExpr *sl_expand(SlExpr *e)
{
    if (!e)
        return NULL;
    SlExpr *s = sl_simplify(e);
    SlExpr *r = rebuild(s, expand_visit, NULL);
    sl_expr_unref(s);
    return r;
}

/* ===========================================================================
 * 4. Factor (to be written) and simplify_full
 * ======================================================================== */

SlExpr *sl_factor(SlExpr *e, SlError *err)
{
    (void)err;
    return sl_simplify(e);
}

SlExpr *sl_simplify_full(SlExpr *e) { return sl_simplify(e); }
