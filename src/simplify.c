/* simplify.c -- the simplifier: results that read like a textbook.
 *
 * Five parts:
 *   1. the order on nodes that makes results canonical.  Terms of a sum:
 *      by total degree in the symbols, descending (√x counts 1/2,
 *      functions 0), then graded-lexicographic by base name, numbers last;
 *      a sum whose first term would carry a minus starts with its first
 *      positive term instead (1 − x², not −x² + 1).  Factors of a product:
 *      the coefficient, then constants (π), symbols by name, symbolic
 *      powers (x^y, 2ˣ), functions (exp, logs, roots, trig, inverse trig,
 *      hyperbolic, the rest), then sums (simpler first), so that
 *      3x²·y², 2·exp(x)·cos(x), σ(x)·(1 − σ(x)), x·(x − 1)·(x² + 1);
 *   2. sl_simplify: a post-order walk over the DAG on an explicit stack,
 *      memoised per node, that rebuilds every node from its simplified
 *      children with simp_add, simp_mul, simp_pow and simp_fn;
 *   3. sl_expand;
 *   4. sl_factor (polynomials over the integers);
 *   5. sl_simplify_full.
 *
 * Rules of simp_add: sums flatten; a monomial times a short sum (at most
 * DISTRIBUTE_MAX terms) inside a sum is distributed, so that
 * 2(x + 1) + 3x is 5x + 2 and 2x·(x + 1) − 2x² is 2x (a product standing
 * alone keeps its factor: 2·(x + 1) is how a textbook writes the
 * derivative of (x + 1)²; −(a + b) alone is −a − b); like terms (equal up to
 * the numeric coefficient) add their coefficients exactly; numbers fold
 * into one constant.
 * Rules of simp_mul: products flatten; numbers fold into one leading
 * coefficient; like factors (equal bases) add their exponents (√u counts
 * as u^(1/2), so x·√x = x^(3/2) and √x/x = 1/√x); exp(a)·exp(b) =
 * exp(a + b); (a·b)ⁿ = aⁿ·bⁿ for an integer n; a zero coefficient
 * annihilates (0.0 too, as in the constructors).
 * Rules of simp_pow: x^0 = 1, x^1 = x, 1^x = 1, numbers fold when exact
 * (a float base under a negative power stays a division), (bʳ)ⁿ = b^(r·n)
 * for an integer n, √u^q = u^(q/2), u^(±1/2) = √u or 1/√u,
 * exp(u)ⁿ = exp(n·u), |u|ⁿ = uⁿ for an even n.
 * Rules of simp_fn: the constructor's folds and identities, odd and even
 * functions take the sign out (sin(−u) = −sin(u), cos(−u) = cos(u)),
 * exp(log u) = u, log(exp u) = u, √(u²) = |u|, ||u|| = |u|, |c·u| = |c|·|u|,
 * |u²| = u², floor(floor u) = floor u, max(u, u) = u.
 *
 * No rule multiplies two sums: hash-consed derivatives such as the
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

/* A factor's rank: symbolic powers (x^y, 2^x) go after the symbols. */
static int factor_rank(const SlExpr *b, const SlExpr *x)
{
    return x && !is_num(x) ? 2 : base_rank(b);
}

static double degree(const SlExpr *e, int depth);

static int cmp_base(const SlExpr *a, const SlExpr *xa, const SlExpr *b, const SlExpr *xb)
{
    int ra = factor_rank(a, xa), rb = factor_rank(b, xb);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (a->kind == SL_EX_ADD && b->kind == SL_EX_ADD && a != b) { /* (x + 1)·(x² + 1): simpler sums first */
        double da = degree(a, 0), db = degree(b, 0);
        if (da != db)
            return da < db ? -1 : 1;
        if (a->nargs != b->nargs)
            return a->nargs < b->nargs ? -1 : 1;
    }
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
    int c = cmp_base(ba, xa, bb, xb);
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
    case SL_EX_FN: /* √x is x^(1/2) */
        if (e->nargs == 1 && (e->u.fn == SL_FN_SQRT || e->u.fn == SL_FN_CBRT) && depth <= CMP_DEPTH)
            return degree(e->args[0], depth + 1) / (e->u.fn == SL_FN_SQRT ? 2 : 3);
        return 0;
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
        int c = cmp_base(ba, xa, bb, xb);
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

static void sort_factors(SlExpr **v, size_t n)
{
    if (n < 2)
        return;
    Degrees d = {0};
    Degrees *saved = cur_deg;
    cur_deg = &d;
    qsort(v, n, sizeof *v, cmp_factor);
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
/* A monomial times a short sum: c·(a + b), 2x·(x + 1), x²·y·(1 − x) */
static bool distributable(const SlExpr *t)
{
    if (t->kind != SL_EX_MUL || t->nargs < 2 || t->nargs > 5)
        return false;
    const SlExpr *s = t->args[t->nargs - 1];
    if (s->kind != SL_EX_ADD || s->nargs > DISTRIBUTE_MAX)
        return false;
    for (size_t i = 0; i + 1 < t->nargs; i++) {
        const SlExpr *f = t->args[i];
        if (i == 0 && is_num(f))
            continue;
        if (f->kind == SL_EX_POW && rat_integral(f->args[1]) && mpq_sgn(f->args[1]->u.q) > 0)
            f = f->args[0];
        if (f->kind != SL_EX_SYM || sl_expr_is_placeholder(f))
            return false;
    }
    return true;
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
            SlExpr *s = t->args[t->nargs - 1];
            SlExpr *m = sl_expr_nary(SL_EX_MUL, t->args, t->nargs - 1);
            for (size_t i = s->nargs; i-- > 0;)
                vpush(&work, simp_mul2(m, s->args[i]));
            sl_expr_unref(m);
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
    if (f->kind == SL_EX_POW && !is_rat(f->args[1])) { /* x^y, 2^x */
        *b = sl_expr_ref(f->args[0]);
        *x = sl_expr_ref(f->args[1]);
        return;
    }
    /* rational exponents: √u^q = u^(q/2) at any depth (√√x = x^(1/4)),
     * (u^r)^n = u^(r·n) while the outer exponent is an integer */
    mpq_t q;
    mpq_init(q);
    mpq_set_ui(q, 1, 1);
    const SlExpr *base = f;
    for (;;) {
        if (base->kind == SL_EX_POW && is_rat(base->args[1]) && mpz_cmp_ui(mpq_denref(q), 1) == 0) {
            mpq_mul(q, q, base->args[1]->u.q);
            base = base->args[0];
        } else if (is_fn(base, SL_FN_SQRT) && base->nargs == 1) {
            mpq_div_2exp(q, q, 1);
            base = base->args[0];
        } else {
            break;
        }
    }
    *b = sl_expr_ref((SlExpr *)base);
    *x = sl_expr_rat(q);
    mpq_clear(q);
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
    bool again = false; /* a power became another base: |x|²·x = x³ needs a second pass */
    for (size_t k = 0; k < base.n && !is_zero(coef); k++) {
        SlExpr *p = simp_pow(base.v[k], expo.v[k]);
        const SlExpr *pb0 = p->kind == SL_EX_POW ? p->args[0] : p; /* the usual forms: b, b^x, √b, 1/√b */
        if (is_fn(pb0, SL_FN_SQRT) && pb0->nargs == 1)
            pb0 = pb0->args[0];
        if (!is_num(p) && p->kind != SL_EX_MUL && pb0 != base.v[k]) {
            SlExpr *pb, *px;
            split_factor(p, &pb, &px);
            again = again || pb != base.v[k];
            sl_expr_unref(pb);
            sl_expr_unref(px);
        }
        if (is_num(p)) {
            SlExpr *c = num_mul(coef, p);
            sl_expr_unref(coef);
            coef = c;
            sl_expr_unref(p);
        } else if (p->kind == SL_EX_MUL) { /* (2x)^n distributed: fold it in, collect again */
            again = true;
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
    size_t nexp = 0;
    for (size_t i = 0; i < out.n; i++)
        nexp += is_fn(out.v[i], SL_FN_EXP) && out.v[i]->nargs == 1;
    if (nexp > 1 && !is_zero(coef)) { /* exp(a)·exp(b) = exp(a + b) */
        Vec args = {0};
        size_t m = 0;
        for (size_t i = 0; i < out.n; i++) {
            if (is_fn(out.v[i], SL_FN_EXP) && out.v[i]->nargs == 1) {
                vpush(&args, sl_expr_ref(out.v[i]->args[0]));
                sl_expr_unref(out.v[i]);
            } else {
                out.v[m++] = out.v[i];
            }
        }
        out.n = m;
        SlExpr *sum = simp_add(args.v, args.n);
        SlExpr *ex = simp_fn(SL_FN_EXP, &sum, 1);
        if (is_num(ex)) {
            SlExpr *c = num_mul(coef, ex);
            sl_expr_unref(coef);
            coef = c;
            sl_expr_unref(ex);
        } else {
            vpush(&out, ex);
        }
        sl_expr_unref(sum);
        vfree(&args);
    }
    SlExpr *r;
    if (again && !is_zero(coef) && out.n > 1) {
        vpush(&out, sl_expr_ref(coef));
        r = simp_mul(out.v, out.n);
    } else if (is_zero(coef)) {
        r = sl_expr_ref(coef); /* 0·x = 0, 0.0·x = 0.0 */
    } else {
        sort_factors(out.v, out.n);
        if (!sl_expr_is_int(coef, 1) || out.n == 0) {
            vpush(&out, NULL);
            memmove(out.v + 1, out.v, (out.n - 1) * sizeof *out.v);
            out.v[0] = sl_expr_ref(coef);
        }
        r = sl_expr_nary(SL_EX_MUL, out.v, out.n);
        if (r->nargs == 2 && sl_expr_is_int(r->args[0], -1) && distributable(r)) { /* −(x − 1) = 1 − x */
            SlExpr *t = simp_add(&r, 1);
            sl_expr_unref(r);
            r = t;
        }
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
    if (b->kind == SL_EX_POW && is_rat(b->args[1]) && rat_integral(x) && !is_num(b->args[0])) {
        mpq_t q; /* (u^r)^n = u^(r·n), and the rules for u apply */
        mpq_init(q);
        mpq_mul(q, b->args[1]->u.q, x->u.q);
        SlExpr *rn = sl_expr_rat(q);
        mpq_clear(q);
        SlExpr *r = simp_pow(b->args[0], rn);
        sl_expr_unref(rn);
        return r;
    }
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

/* The product of expanded factors, multiplied out (as far as the size
 * bound allows: the rest stays a product). */
static SlExpr *expand_product(SlExpr *const *c, size_t n)
{
    SlExpr *acc = I(1);
    for (size_t i = 0; i < n; i++) {
        SlExpr *r = expand_mul2(acc, c[i]);
        if (!r) {
            Vec f = {0};
            vpush(&f, sl_expr_ref(acc));
            for (size_t j = i; j < n; j++)
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

static SlExpr *expand_visit(const SlExpr *e, SlExpr *const *c, void *ctx)
{
    (void)ctx;
    switch (e->kind) {
    case SL_EX_ADD: return simp_add(c, e->nargs);
    case SL_EX_MUL: {
        /* denominators with sums multiply out into one: 1/((x − 1)(x + 1)) = 1/(x² − 1) */
        size_t nsum = 0;
        for (size_t i = 0; i < e->nargs; i++)
            nsum += c[i]->kind == SL_EX_POW && rat_negative(c[i]->args[1]) && rat_integral(c[i]->args[1]) &&
                    c[i]->args[0]->kind == SL_EX_ADD;
        if (nsum >= 2) {
            Vec num = {0}, den = {0};
            for (size_t i = 0; i < e->nargs; i++) {
                if (c[i]->kind == SL_EX_POW && rat_negative(c[i]->args[1]) && rat_integral(c[i]->args[1])) {
                    SlExpr *k = simp_neg(c[i]->args[1]);
                    vpush(&den, simp_pow(c[i]->args[0], k));
                    sl_expr_unref(k);
                } else {
                    vpush(&num, sl_expr_ref(c[i]));
                }
            }
            SlExpr *nx = expand_product(num.v, num.n), *dx = expand_product(den.v, den.n);
            SlExpr *m1 = I(-1);
            SlExpr *inv = simp_pow(dx, m1);
            SlExpr *r = expand_mul2(nx, inv);
            if (!r)
                r = simp_mul2(nx, inv);
            sl_expr_unref(m1);
            sl_expr_unref(inv);
            sl_expr_unref(nx);
            sl_expr_unref(dx);
            vfree(&num);
            vfree(&den);
            return r;
        }
        return expand_product(c, e->nargs);
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
 * 4. Factor: polynomials over the integers
 *
 * The expression is expanded and read as a polynomial in its "atoms" (the
 * non-numeric factors: symbols, functions, sums raised to negative
 * powers), with rational coefficients.  Out come the rational content and
 * the monomial content (x³ − x = x·(x² − 1); negative powers too:
 * x + 1/x = (x² + 1)/x).  What is left is factored when it is univariate
 * (in any atom: sin(x)² − 1 works) or homogeneous in two atoms
 * (x² − y² through t² − 1 with t = x/y): square-free decomposition (Yun),
 * rational roots, then Kronecker's method for factors of degree 2 to n/2
 * (within a work bound; past it a factor is left whole).  Sums under
 * negative powers are factored in turn (1/(x² − 1) = 1/((x − 1)·(x + 1))).
 * Other multivariate polynomials keep their contents factored out and
 * the rest whole.
 * ======================================================================== */

#define FACTOR_MAX_DEGREE 200
#define FACTOR_MAX_TERMS 5000
#define KRONECKER_WORK 400000L
#define DIVISOR_TRIAL 1000000UL

/* ---- dense univariate polynomials over Z ---- */

typedef struct ZPoly {
    mpz_t *c;  /* coefficients, c[i] of x^i */
    long deg;  /* degree; -1 for the zero polynomial */
    long cap;  /* allocated coefficients */
} ZPoly;

static void zp_init(ZPoly *p, long deg)
{
    p->cap = deg + 1 > 1 ? deg + 1 : 1;
    p->c = xmalloc((size_t)p->cap * sizeof *p->c);
    for (long i = 0; i < p->cap; i++)
        mpz_init(p->c[i]);
    p->deg = -1;
}

static void zp_clear(ZPoly *p)
{
    for (long i = 0; i < p->cap; i++)
        mpz_clear(p->c[i]);
    free(p->c);
    memset(p, 0, sizeof *p);
}

static void zp_reserve(ZPoly *p, long deg)
{
    if (deg + 1 <= p->cap)
        return;
    p->c = xrealloc(p->c, (size_t)(deg + 1) * sizeof *p->c);
    for (long i = p->cap; i <= deg; i++)
        mpz_init(p->c[i]);
    p->cap = deg + 1;
}

static void zp_trim(ZPoly *p)
{
    while (p->deg >= 0 && mpz_sgn(p->c[p->deg]) == 0)
        p->deg--;
}

static void zp_set(ZPoly *d, const ZPoly *s)
{
    zp_reserve(d, s->deg);
    for (long i = 0; i <= s->deg; i++)
        mpz_set(d->c[i], s->c[i]);
    d->deg = s->deg;
}

static void zp_content(mpz_t g, const ZPoly *p)
{
    mpz_set_ui(g, 0);
    for (long i = 0; i <= p->deg; i++)
        mpz_gcd(g, g, p->c[i]);
}

/* p = its primitive part with a positive leading coefficient */
static void zp_primitive(ZPoly *p)
{
    if (p->deg < 0)
        return;
    mpz_t g;
    mpz_init(g);
    zp_content(g, p);
    if (mpz_sgn(p->c[p->deg]) < 0)
        mpz_neg(g, g);
    for (long i = 0; i <= p->deg; i++)
        mpz_divexact(p->c[i], p->c[i], g);
    mpz_clear(g);
}

static void zp_deriv(ZPoly *d, const ZPoly *p)
{
    zp_reserve(d, p->deg - 1);
    for (long i = 1; i <= p->deg; i++)
        mpz_mul_si(d->c[i - 1], p->c[i], i);
    d->deg = p->deg - 1;
    zp_trim(d);
}

/* q = a / b when b divides a exactly over Z; false otherwise */
static bool zp_divexact(ZPoly *q, const ZPoly *a, const ZPoly *b)
{
    if (b->deg < 0)
        return false;
    if (a->deg < b->deg) {
        q->deg = -1;
        return a->deg < 0;
    }
    ZPoly r = {0};
    zp_init(&r, a->deg);
    zp_set(&r, a);
    zp_reserve(q, a->deg - b->deg);
    q->deg = a->deg - b->deg;
    mpz_t t, rem;
    mpz_init(t);
    mpz_init(rem);
    bool ok = true;
    for (long k = a->deg - b->deg; k >= 0 && ok; k--) {
        mpz_fdiv_qr(t, rem, r.c[k + b->deg], b->c[b->deg]);
        if (mpz_sgn(rem) != 0) {
            ok = false;
            break;
        }
        mpz_set(q->c[k], t);
        for (long i = 0; i <= b->deg; i++)
            mpz_submul(r.c[k + i], t, b->c[i]);
    }
    if (ok) {
        r.deg = b->deg - 1;
        zp_trim(&r);
        ok = r.deg < 0;
    }
    zp_trim(q);
    mpz_clear(t);
    mpz_clear(rem);
    zp_clear(&r);
    return ok;
}

/* g = gcd(a, b), primitive with a positive leading coefficient */
static void zp_gcd(ZPoly *g, const ZPoly *a, const ZPoly *b)
{
    ZPoly x = {0}, y = {0};
    zp_init(&x, a->deg);
    zp_init(&y, b->deg);
    zp_set(&x, a);
    zp_set(&y, b);
    zp_primitive(&x);
    zp_primitive(&y);
    mpz_t lc, t;
    mpz_init(lc);
    mpz_init(t);
    while (y.deg >= 0) {
        if (x.deg < y.deg) {
            ZPoly s = x;
            x = y;
            y = s;
            continue;
        }
        /* x = prem(x, y), primitive */
        mpz_set(lc, y.c[y.deg]);
        while (x.deg >= y.deg && x.deg >= 0) {
            long k = x.deg - y.deg;
            mpz_set(t, x.c[x.deg]);
            for (long i = 0; i <= x.deg; i++)
                mpz_mul(x.c[i], x.c[i], lc);
            for (long i = 0; i <= y.deg; i++)
                mpz_submul(x.c[k + i], t, y.c[i]);
            zp_trim(&x);
        }
        zp_primitive(&x);
        ZPoly s = x;
        x = y;
        y = s;
    }
    zp_reserve(g, x.deg);
    zp_set(g, &x);
    zp_primitive(g);
    mpz_clear(lc);
    mpz_clear(t);
    zp_clear(&x);
    zp_clear(&y);
}

static void zp_sub(ZPoly *d, const ZPoly *a, const ZPoly *b)
{
    long n = a->deg > b->deg ? a->deg : b->deg;
    zp_reserve(d, n);
    for (long i = 0; i <= n; i++) {
        if (i <= a->deg && i <= b->deg)
            mpz_sub(d->c[i], a->c[i], b->c[i]);
        else if (i <= a->deg)
            mpz_set(d->c[i], a->c[i]);
        else
            mpz_neg(d->c[i], b->c[i]);
    }
    d->deg = n;
    zp_trim(d);
}

/* q^n·p(num/q), i.e. the value of the homogenised polynomial */
static void zp_eval_frac(mpz_t out, const ZPoly *p, const mpz_t num, const mpz_t den)
{
    mpz_t pw, dp;
    mpz_init_set_ui(pw, 1);
    mpz_init(dp);
    mpz_pow_ui(dp, den, (unsigned long)p->deg);
    mpz_set_ui(out, 0);
    mpz_t t;
    mpz_init(t);
    mpz_t dinv; /* den^(n-i) computed by division from den^n */
    mpz_init_set(dinv, dp);
    for (long i = 0; i <= p->deg; i++) {
        mpz_mul(t, p->c[i], pw);
        mpz_mul(t, t, dinv);
        mpz_add(out, out, t);
        mpz_mul(pw, pw, num);
        if (i < p->deg)
            mpz_divexact(dinv, dinv, den);
    }
    mpz_clear(pw);
    mpz_clear(dp);
    mpz_clear(t);
    mpz_clear(dinv);
}

/* The positive divisors of |n| (n != 0); false when there are too many or
 * n has a large factor left after trial division (taken as a prime). */
static bool divisors(const mpz_t n, mpz_t **out, size_t *count, size_t max)
{
    mpz_t m, pf;
    mpz_init(m);
    mpz_abs(m, n);
    mpz_init(pf);
    /* prime factorisation by trial division */
    size_t nf = 0, capf = 8;
    mpz_t *pr = xmalloc(capf * sizeof *pr);
    unsigned long *mult = xmalloc(capf * sizeof *mult);
    for (unsigned long d = 2; d <= DIVISOR_TRIAL && mpz_cmp_ui(m, 1) > 0; d += d == 2 ? 1 : 2) {
        if (mpz_divisible_ui_p(m, d)) {
            if (nf == capf) {
                capf *= 2;
                pr = xrealloc(pr, capf * sizeof *pr);
                mult = xrealloc(mult, capf * sizeof *mult);
            }
            mpz_init_set_ui(pr[nf], d);
            mult[nf] = 0;
            while (mpz_divisible_ui_p(m, d)) {
                mpz_divexact_ui(m, m, d);
                mult[nf]++;
            }
            nf++;
        }
        if (mpz_cmp_ui(m, d) > 0 && mpz_sizeinbase(m, 2) < 40 && (unsigned long)d * d > mpz_get_ui(m))
            break; /* m is prime */
    }
    if (mpz_cmp_ui(m, 1) > 0) {
        if (nf == capf) {
            capf++;
            pr = xrealloc(pr, capf * sizeof *pr);
            mult = xrealloc(mult, capf * sizeof *mult);
        }
        mpz_init_set(pr[nf], m);
        mult[nf++] = 1;
    }
    size_t total = 1;
    bool ok = true;
    for (size_t i = 0; i < nf && ok; i++) {
        total *= mult[i] + 1;
        ok = total <= max;
    }
    if (ok) {
        *out = xmalloc(total * sizeof **out);
        *count = 1;
        mpz_init_set_ui((*out)[0], 1);
        for (size_t i = 0; i < nf; i++) {
            size_t base = *count;
            for (unsigned long k = 1; k <= mult[i]; k++)
                for (size_t j = 0; j < base; j++) {
                    mpz_init((*out)[*count]);
                    mpz_pow_ui(pf, pr[i], k);
                    mpz_mul((*out)[*count], (*out)[j], pf);
                    (*count)++;
                }
        }
    }
    for (size_t i = 0; i < nf; i++)
        mpz_clear(pr[i]);
    free(pr);
    free(mult);
    mpz_clear(m);
    mpz_clear(pf);
    return ok;
}

static void free_mpz_array(mpz_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mpz_clear(a[i]);
    free(a);
}

typedef struct Factors {
    ZPoly *f;       /* irreducible factors (primitive, positive leading coefficient) */
    long *mult;     /* their multiplicities */
    size_t n, cap;
} Factors;

static void factors_add(Factors *fs, const ZPoly *p, long mult)
{
    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? 2 * fs->cap : 8;
        fs->f = xrealloc(fs->f, fs->cap * sizeof *fs->f);
        fs->mult = xrealloc(fs->mult, fs->cap * sizeof *fs->mult);
    }
    zp_init(&fs->f[fs->n], p->deg);
    zp_set(&fs->f[fs->n], p);
    fs->mult[fs->n++] = mult;
}

static void factors_free(Factors *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        zp_clear(&fs->f[i]);
    free(fs->f);
    free(fs->mult);
    memset(fs, 0, sizeof *fs);
}

/* Linear factors q·x − p of a square-free primitive a; a is divided by them. */
static void rational_roots(ZPoly *a, Factors *fs, long mult)
{
    if (a->deg < 1)
        return;
    while (a->deg >= 1 && mpz_sgn(a->c[0]) == 0) { /* the root 0 */
        ZPoly x = {0};
        zp_init(&x, 1);
        mpz_set_ui(x.c[1], 1);
        x.deg = 1;
        factors_add(fs, &x, mult);
        for (long i = 0; i < a->deg; i++)
            mpz_set(a->c[i], a->c[i + 1]);
        a->deg--;
        zp_clear(&x);
    }
    if (a->deg < 1)
        return;
    mpz_t *dp = NULL, *dq = NULL;
    size_t np = 0, nq = 0;
    if (!divisors(a->c[0], &dp, &np, 20000) || !divisors(a->c[a->deg], &dq, &nq, 20000)) {
        if (dp)
            free_mpz_array(dp, np);
        return;
    }
    mpz_t v, g, num;
    mpz_init(v);
    mpz_init(g);
    mpz_init(num);
    long work = 0;
    for (size_t j = 0; j < nq && a->deg >= 1; j++)
        for (size_t i = 0; i < np && a->deg >= 1 && work < KRONECKER_WORK; i++)
            for (int sgn = 1; sgn >= -1 && a->deg >= 1; sgn -= 2) {
                mpz_gcd(g, dp[i], dq[j]);
                if (mpz_cmp_ui(g, 1) != 0)
                    continue;
                work++;
                mpz_set(num, dp[i]);
                if (sgn < 0)
                    mpz_neg(num, num);
                zp_eval_frac(v, a, num, dq[j]);
                if (mpz_sgn(v) != 0)
                    continue;
                ZPoly lin = {0}, q = {0};
                zp_init(&lin, 1);
                zp_init(&q, a->deg);
                mpz_set(lin.c[1], dq[j]);
                mpz_neg(lin.c[0], num);
                lin.deg = 1;
                if (zp_divexact(&q, a, &lin)) {
                    factors_add(fs, &lin, mult);
                    zp_set(a, &q);
                }
                zp_clear(&lin);
                zp_clear(&q);
            }
    mpz_clear(v);
    mpz_clear(g);
    mpz_clear(num);
    free_mpz_array(dp, np);
    free_mpz_array(dq, nq);
}

/* Kronecker: a factor of degree d of the square-free primitive a with no
 * linear factors, found by interpolating through divisors of a's values
 * at d + 1 points.  Returns true with *f set. */
static bool kronecker(const ZPoly *a, long d, ZPoly *f, long *work)
{
    long npts = d + 1;
    mpz_t *xs = xmalloc((size_t)npts * sizeof *xs);
    mpz_t **divs = xmalloc((size_t)npts * sizeof *divs);
    size_t *nd = xmalloc((size_t)npts * sizeof *nd);
    long got = 0;
    mpz_t v, one;
    mpz_init(v);
    mpz_init_set_ui(one, 1);
    bool ok = true;
    for (long k = 0; got < npts && k < 4 * npts + 8; k++) {
        long xv = (k + 1) / 2 * (k % 2 ? 1 : -1); /* 0, 1, -1, 2, -2, ... */
        mpz_t xz;
        mpz_init_set_si(xz, xv);
        zp_eval_frac(v, a, xz, one);
        if (mpz_sgn(v) != 0 && divisors(v, &divs[got], &nd[got], 5000)) {
            mpz_init_set(xs[got], xz);
            got++;
        }
        mpz_clear(xz);
    }
    ok = got == npts;
    bool found = false;
    if (ok) {
        /* Lagrange basis over Q: L_i(x) = Π_{j≠i} (x − x_j)/(x_i − x_j) */
        mpq_t **L = xmalloc((size_t)npts * sizeof *L);
        for (long i = 0; i < npts; i++) {
            L[i] = xmalloc((size_t)npts * sizeof **L);
            for (long k = 0; k < npts; k++)
                mpq_init(L[i][k]);
            mpq_set_ui(L[i][0], 1, 1);
            long deg = 0;
            mpq_t den, t;
            mpq_init(den);
            mpq_init(t);
            mpq_set_ui(den, 1, 1);
            for (long j = 0; j < npts; j++) {
                if (j == i)
                    continue;
                /* multiply by (x − x_j) */
                for (long k = deg + 1; k >= 0; k--) {
                    mpq_set_z(t, xs[j]);
                    mpq_mul(t, t, L[i][k]);
                    mpq_neg(t, t);
                    if (k > 0)
                        mpq_add(t, t, L[i][k - 1]);
                    mpq_set(L[i][k], t);
                }
                deg++;
                mpz_sub(mpq_numref(t), xs[i], xs[j]);
                mpz_set_ui(mpq_denref(t), 1);
                mpq_mul(den, den, t);
            }
            for (long k = 0; k < npts; k++)
                mpq_div(L[i][k], L[i][k], den);
            mpq_clear(den);
            mpq_clear(t);
        }
        size_t *idx = xmalloc((size_t)npts * sizeof *idx);
        int *sg = xmalloc((size_t)npts * sizeof *sg);
        for (long i = 0; i < npts; i++) {
            idx[i] = 0;
            sg[i] = 1;
        }
        mpq_t c, t;
        mpq_init(c);
        mpq_init(t);
        ZPoly cand = {0}, q = {0};
        zp_init(&cand, d);
        zp_init(&q, a->deg);
        for (;;) {
            if (++*work > KRONECKER_WORK)
                break;
            /* candidate through (x_i, ±divisor) */
            bool integral = true;
            for (long k = 0; k <= d && integral; k++) {
                mpq_set_ui(c, 0, 1);
                for (long i = 0; i < npts; i++) {
                    mpq_set_z(t, divs[i][idx[i]]);
                    if (sg[i] < 0)
                        mpq_neg(t, t);
                    mpq_mul(t, t, L[i][k]);
                    mpq_add(c, c, t);
                }
                integral = mpz_cmp_ui(mpq_denref(c), 1) == 0;
                if (integral)
                    mpz_set(cand.c[k], mpq_numref(c));
            }
            if (integral) {
                cand.deg = d;
                zp_trim(&cand);
                if (cand.deg == d && mpz_divisible_p(a->c[a->deg], cand.c[d]) && zp_divexact(&q, a, &cand)) {
                    zp_reserve(f, d);
                    zp_set(f, &cand);
                    zp_primitive(f);
                    found = true;
                    break;
                }
            }
            /* next combination: the first point keeps a positive sign */
            long i = 0;
            for (; i < npts; i++) {
                if (i > 0 && sg[i] > 0) {
                    sg[i] = -1;
                    break;
                }
                sg[i] = 1;
                if (++idx[i] < nd[i])
                    break;
                idx[i] = 0;
            }
            if (i == npts)
                break;
        }
        zp_clear(&cand);
        zp_clear(&q);
        mpq_clear(c);
        mpq_clear(t);
        free(idx);
        free(sg);
        for (long i = 0; i < npts; i++) {
            for (long k = 0; k < npts; k++)
                mpq_clear(L[i][k]);
            free(L[i]);
        }
        free(L);
    }
    for (long i = 0; i < got; i++) {
        mpz_clear(xs[i]);
        free_mpz_array(divs[i], nd[i]);
    }
    free(xs);
    free(divs);
    free(nd);
    mpz_clear(v);
    mpz_clear(one);
    return found;
}

/* The irreducible factors of a primitive polynomial of degree >= 1. */
static void zp_factor(const ZPoly *f, Factors *fs)
{
    /* Yun's square-free decomposition */
    ZPoly fp = {0}, g = {0}, c = {0}, dd = {0}, a = {0}, t = {0}, cp = {0};
    zp_init(&fp, f->deg);
    zp_init(&g, f->deg);
    zp_init(&c, f->deg);
    zp_init(&dd, f->deg);
    zp_init(&a, f->deg);
    zp_init(&t, f->deg);
    zp_init(&cp, f->deg);
    zp_deriv(&fp, f);
    zp_gcd(&g, f, &fp);
    zp_divexact(&c, f, &g);
    zp_divexact(&dd, &fp, &g);
    zp_deriv(&cp, &c);
    zp_sub(&t, &dd, &cp);
    zp_set(&dd, &t);
    long work = 0;
    for (long i = 1; c.deg > 0; i++) {
        if (dd.deg < 0)
            zp_set(&a, &c);
        else
            zp_gcd(&a, &c, &dd);
        zp_primitive(&a);
        if (a.deg > 0) {
            /* factor the square-free a */
            rational_roots(&a, fs, i);
            zp_primitive(&a);
            while (a.deg >= 4) {
                bool hit = false;
                ZPoly k = {0}, q = {0};
                zp_init(&k, a.deg);
                zp_init(&q, a.deg);
                for (long d = 2; d <= a.deg / 2 && !hit; d++)
                    hit = kronecker(&a, d, &k, &work);
                if (hit && zp_divexact(&q, &a, &k)) {
                    factors_add(fs, &k, i);
                    zp_set(&a, &q);
                    zp_primitive(&a);
                } else {
                    hit = false;
                }
                zp_clear(&k);
                zp_clear(&q);
                if (!hit)
                    break;
            }
            if (a.deg > 0)
                factors_add(fs, &a, i);
        }
        /* c = c/a, d = d/a − c' (a = the gcd before its factoring) */
        ZPoly a0 = {0};
        zp_init(&a0, c.deg);
        if (dd.deg < 0)
            zp_set(&a0, &c);
        else
            zp_gcd(&a0, &c, &dd);
        zp_divexact(&t, &c, &a0);
        zp_set(&c, &t);
        if (dd.deg >= 0) {
            zp_divexact(&t, &dd, &a0);
            zp_set(&dd, &t);
        }
        zp_deriv(&cp, &c);
        zp_sub(&t, &dd, &cp);
        zp_set(&dd, &t);
        zp_clear(&a0);
    }
    zp_clear(&fp);
    zp_clear(&g);
    zp_clear(&c);
    zp_clear(&dd);
    zp_clear(&a);
    zp_clear(&t);
    zp_clear(&cp);
}

/* ---- sparse polynomials in atoms ---- */

typedef struct Mono {
    mpq_t c;     /* coefficient */
    long *e;     /* exponent of each atom */
} Mono;

typedef struct Poly {
    Vec atoms;   /* the atoms (owned) */
    Mono *t;     /* terms */
    size_t n, cap;
} Poly;

static size_t atom_index(Poly *p, SlExpr *a)
{
    for (size_t i = 0; i < p->atoms.n; i++)
        if (p->atoms.v[i] == a)
            return i;
    vpush(&p->atoms, sl_expr_ref(a));
    for (size_t k = 0; k < p->n; k++) {
        p->t[k].e = xrealloc(p->t[k].e, p->atoms.n * sizeof *p->t[k].e);
        p->t[k].e[p->atoms.n - 1] = 0;
    }
    return p->atoms.n - 1;
}

static void poly_free(Poly *p)
{
    for (size_t k = 0; k < p->n; k++) {
        mpq_clear(p->t[k].c);
        free(p->t[k].e);
    }
    free(p->t);
    vfree(&p->atoms);
}

/* Read the expanded e as a polynomial; false for floats or powers that are
 * not integers (those are atoms then, unless the exponent is a float). */
static bool poly_read(SlExpr *e, Poly *p)
{
    SlExpr *const *terms = e->kind == SL_EX_ADD ? e->args : &e;
    size_t nt = e->kind == SL_EX_ADD ? e->nargs : 1;
    if (nt > FACTOR_MAX_TERMS)
        return false;
    for (size_t k = 0; k < nt; k++) {
        SlExpr *t = terms[k];
        SlExpr *const *fs = t->kind == SL_EX_MUL ? t->args : &t;
        size_t nf = t->kind == SL_EX_MUL ? t->nargs : 1;
        if (p->n == p->cap) {
            p->cap = p->cap ? 2 * p->cap : 16;
            p->t = xrealloc(p->t, p->cap * sizeof *p->t);
        }
        Mono *m = &p->t[p->n++];
        mpq_init(m->c);
        mpq_set_ui(m->c, 1, 1);
        m->e = xmalloc((p->atoms.n ? p->atoms.n : 1) * sizeof *m->e);
        for (size_t i = 0; i < p->atoms.n; i++)
            m->e[i] = 0;
        for (size_t j = 0; j < nf; j++) {
            SlExpr *f = fs[j];
            if (f->kind == SL_EX_FLT)
                return false;
            if (f->kind == SL_EX_RAT) {
                mpq_mul(m->c, m->c, f->u.q);
                continue;
            }
            SlExpr *b = f;
            long x = 1;
            if (f->kind == SL_EX_POW && rat_integral(f->args[1]) && !is_num(f->args[0]) &&
                mpz_fits_slong_p(mpq_numref(f->args[1]->u.q))) {
                b = f->args[0];
                x = mpz_get_si(mpq_numref(f->args[1]->u.q));
                if (labs(x) > FACTOR_MAX_DEGREE)
                    return false;
            } else if (f->kind == SL_EX_POW && f->args[1]->kind == SL_EX_FLT) {
                return false;
            }
            size_t i = atom_index(p, b);
            m = &p->t[p->n - 1]; /* atom_index may have moved the exponent arrays */
            m->e[i] += x;
        }
    }
    return true;
}

/* c·Π atoms^e as an expression */
static SlExpr *mono_expr(const Poly *p, const mpq_t c, const long *e)
{
    Vec f = {0};
    vpush(&f, sl_expr_rat(c));
    for (size_t i = 0; i < p->atoms.n; i++)
        if (e[i]) {
            SlExpr *x = I(e[i]);
            vpush(&f, simp_pow(p->atoms.v[i], x));
            sl_expr_unref(x);
        }
    SlExpr *r = simp_mul(f.v, f.n);
    vfree(&f);
    return r;
}

/* z(atom i = t, atom j = 1 ... ) : a univariate ZPoly back into an
 * expression in atom a (and, homogenised, in atom h with total degree n). */
static SlExpr *zp_expr(const ZPoly *z, SlExpr *a, SlExpr *h, long n)
{
    Vec t = {0};
    for (long i = 0; i <= z->deg; i++) {
        if (mpz_sgn(z->c[i]) == 0)
            continue;
        Vec f = {0};
        mpq_t q;
        mpq_init(q);
        mpq_set_z(q, z->c[i]);
        vpush(&f, sl_expr_rat(q));
        mpq_clear(q);
        SlExpr *xi = I(i);
        vpush(&f, simp_pow(a, xi));
        sl_expr_unref(xi);
        if (h) {
            SlExpr *xh = I(n - i);
            vpush(&f, simp_pow(h, xh));
            sl_expr_unref(xh);
        }
        vpush(&t, simp_mul(f.v, f.n));
        vfree(&f);
    }
    SlExpr *r = simp_add(t.v, t.n);
    vfree(&t);
    return r;
}

static SlExpr *factor_depth(SlExpr *e, int depth);

SlExpr *sl_factor(SlExpr *e, SlError *err)
{
    (void)err;
    if (!e)
        return NULL;
    return factor_depth(e, 0);
}

static SlExpr *factor_depth(SlExpr *e, int depth)
{
    SlExpr *ex = sl_expand(e);
    Poly p = {0};
    if (depth > 4 || !poly_read(ex, &p) || p.n == 0) {
        poly_free(&p);
        sl_expr_unref(ex);
        return sl_simplify(e);
    }
    sl_expr_unref(ex);
    size_t na = p.atoms.n;
    /* rational content: gcd of numerators over lcm of denominators */
    mpq_t content;
    mpq_init(content);
    mpz_t g, l;
    mpz_init(g);
    mpz_init_set_ui(l, 1);
    for (size_t k = 0; k < p.n; k++) {
        mpz_gcd(g, g, mpq_numref(p.t[k].c));
        mpz_lcm(l, l, mpq_denref(p.t[k].c));
    }
    if (mpz_sgn(g) == 0) { /* the zero polynomial */
        mpz_clear(g);
        mpz_clear(l);
        mpq_clear(content);
        poly_free(&p);
        return sl_simplify(e);
    }
    mpz_set(mpq_numref(content), g);
    mpz_set(mpq_denref(content), l);
    mpq_canonicalize(content);
    /* monomial content */
    long *mc = xmalloc((na ? na : 1) * sizeof *mc);
    for (size_t i = 0; i < na; i++) {
        mc[i] = p.t[0].e[i];
        for (size_t k = 1; k < p.n; k++)
            if (p.t[k].e[i] < mc[i])
                mc[i] = p.t[k].e[i];
    }
    for (size_t k = 0; k < p.n; k++) {
        mpq_div(p.t[k].c, p.t[k].c, content);
        for (size_t i = 0; i < na; i++)
            p.t[k].e[i] -= mc[i];
    }
    /* the atoms left, and whether the rest is homogeneous in two of them */
    size_t vars[2], nv = 0;
    bool many = false;
    for (size_t i = 0; i < na; i++) {
        bool used = false;
        for (size_t k = 0; k < p.n && !used; k++)
            used = p.t[k].e[i] != 0;
        if (used) {
            if (nv < 2)
                vars[nv] = i;
            else
                many = true;
            nv++;
        }
    }
    long total = -1;
    bool homogeneous = nv == 2 && !many;
    for (size_t k = 0; k < p.n && homogeneous; k++) {
        long dsum = p.t[k].e[vars[0]] + p.t[k].e[vars[1]];
        if (total < 0)
            total = dsum;
        homogeneous = dsum == total;
    }
    Vec out = {0};
    vpush(&out, sl_expr_rat(content));
    /* the monomial content; sums under negative powers are factored too */
    for (size_t i = 0; i < na; i++) {
        if (!mc[i])
            continue;
        SlExpr *a = p.atoms.v[i];
        SlExpr *fa = a->kind == SL_EX_ADD ? factor_depth(a, depth + 1) : sl_expr_ref(a);
        SlExpr *x = I(mc[i]);
        vpush(&out, simp_pow(fa, x));
        sl_expr_unref(x);
        sl_expr_unref(fa);
    }
    bool done = false;
    if (nv == 1 || homogeneous) {
        size_t v = vars[0];
        long deg = 0;
        for (size_t k = 0; k < p.n; k++)
            if (p.t[k].e[v] > deg)
                deg = p.t[k].e[v];
        ZPoly z = {0};
        zp_init(&z, deg);
        z.deg = deg;
        bool integral = true;
        for (size_t k = 0; k < p.n; k++) {
            integral = integral && mpz_cmp_ui(mpq_denref(p.t[k].c), 1) == 0;
            mpz_add(z.c[p.t[k].e[v]], z.c[p.t[k].e[v]], mpq_numref(p.t[k].c));
        }
        zp_trim(&z);
        if (integral && z.deg >= 1 && z.deg <= FACTOR_MAX_DEGREE) {
            Factors fs = {0};
            int sign = mpz_sgn(z.c[z.deg]);
            zp_primitive(&z);
            zp_factor(&z, &fs);
            SlExpr *h = homogeneous ? p.atoms.v[vars[1]] : NULL;
            long used = 0;
            for (size_t j = 0; j < fs.n; j++) {
                SlExpr *fe = zp_expr(&fs.f[j], p.atoms.v[v], h, fs.f[j].deg);
                SlExpr *m = I(fs.mult[j]);
                vpush(&out, simp_pow(fe, m));
                used += fs.f[j].deg * fs.mult[j];
                sl_expr_unref(m);
                sl_expr_unref(fe);
            }
            if (h && total > used) { /* y^(n − deg) when the x-degree fell short */
                SlExpr *m = I(total - used);
                vpush(&out, simp_pow(h, m));
                sl_expr_unref(m);
            }
            if (sign < 0)
                vpush(&out, I(-1));
            factors_free(&fs);
            done = true;
        }
        zp_clear(&z);
    }
    if (!done) { /* the rest as one factor */
        Vec t = {0};
        for (size_t k = 0; k < p.n; k++)
            vpush(&t, mono_expr(&p, p.t[k].c, p.t[k].e));
        vpush(&out, simp_add(t.v, t.n));
        vfree(&t);
    }
    SlExpr *r = simp_mul(out.v, out.n);
    vfree(&out);
    free(mc);
    mpz_clear(g);
    mpz_clear(l);
    mpq_clear(content);
    poly_free(&p);
    return r;
}

/* ===========================================================================
 * 5. simplify_full: try harder, keep the smallest
 *
 * Candidates: the default simplification; the Pythagorean identity
 * (c·sin²u·R + c·cos²u·R = c·R, in every sum); that expanded; that
 * factored; and that brought over a common denominator in every sum
 * (together) with common factors of numerator and denominator cancelled
 * (through sl_factor).  The one with the shortest text wins (ties: fewer
 * nodes, then the earlier candidate).
 * ======================================================================== */

#define FULL_MAX_SIZE 20000 /* bytes of text beyond which only the cheap forms are tried */

/* t with its factor f replaced by g (or dropped when g is NULL) */
static SlExpr *replace_factor(SlExpr *t, const SlExpr *f, SlExpr *g)
{
    Vec v = {0};
    SlExpr *const *fs = t->kind == SL_EX_MUL ? t->args : &t;
    size_t n = t->kind == SL_EX_MUL ? t->nargs : 1;
    bool done = false;
    for (size_t i = 0; i < n; i++) {
        if (!done && fs[i] == f) {
            done = true;
            if (g)
                vpush(&v, sl_expr_ref(g));
        } else {
            vpush(&v, sl_expr_ref(fs[i]));
        }
    }
    SlExpr *r = simp_mul(v.v, v.n);
    vfree(&v);
    return r;
}

static bool is_trig_sq(const SlExpr *f, SlMathFn fn)
{
    return f->kind == SL_EX_POW && sl_expr_is_int(f->args[1], 2) && is_fn(f->args[0], fn) && f->args[0]->nargs == 1;
}

static SlExpr *pyth_visit(const SlExpr *e, SlExpr *const *c, void *ctx)
{
    (void)ctx;
    SlExpr *s = simp_node(e, c);
    if (s->kind != SL_EX_ADD)
        return s;
    size_t n = s->nargs;
    SlExpr **t = xmalloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = sl_expr_ref(s->args[i]);
    bool changed = false;
    for (size_t i = 0; i < n; i++) {
        if (!t[i])
            continue;
        SlExpr *const *fs = t[i]->kind == SL_EX_MUL ? t[i]->args : &t[i];
        size_t nf = t[i]->kind == SL_EX_MUL ? t[i]->nargs : 1;
        for (size_t j = 0; j < nf; j++) {
            if (!is_trig_sq(fs[j], SL_FN_SIN))
                continue;
            SlExpr *cu = simp_fn(SL_FN_COS, fs[j]->args[0]->args, 1);
            SlExpr *two = I(2);
            SlExpr *c2 = simp_pow(cu, two);
            SlExpr *want = replace_factor(t[i], fs[j], c2);
            size_t k = 0;
            for (; k < n; k++)
                if (k != i && t[k] == want)
                    break;
            if (k < n) {
                SlExpr *rest = replace_factor(t[i], fs[j], NULL);
                sl_expr_unref(t[i]);
                sl_expr_unref(t[k]);
                t[i] = rest;
                t[k] = NULL;
                changed = true;
            }
            sl_expr_unref(want);
            sl_expr_unref(c2);
            sl_expr_unref(two);
            sl_expr_unref(cu);
            if (k < n)
                break;
        }
    }
    SlExpr *r = s;
    if (changed) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (t[i])
                t[m++] = t[i];
        r = simp_add(t, m);
        sl_expr_unref(s);
        n = m;
    }
    for (size_t i = 0; i < n; i++)
        sl_expr_unref(t[i]);
    free(t);
    return r;
}

/* base -> exponent maps for numerators and denominators */
typedef struct Powers {
    Vec base, expo; /* owned, parallel */
} Powers;

static void powers_add(Powers *p, SlExpr *b, SlExpr *x) /* borrowed */
{
    for (size_t i = 0; i < p->base.n; i++)
        if (p->base.v[i] == b) {
            SlExpr *s = simp_add2(p->expo.v[i], x);
            sl_expr_unref(p->expo.v[i]);
            p->expo.v[i] = s;
            return;
        }
    vpush(&p->base, sl_expr_ref(b));
    vpush(&p->expo, sl_expr_ref(x));
}

static void powers_free(Powers *p)
{
    vfree(&p->base);
    vfree(&p->expo);
}

/* The factors of f (a product or not) into p, each exponent times k;
 * numbers multiply into *coef. */
static void powers_of(Powers *p, SlExpr *f, SlExpr *k, SlExpr **coef)
{
    SlExpr *const *fs = f->kind == SL_EX_MUL ? f->args : &f;
    size_t n = f->kind == SL_EX_MUL ? f->nargs : 1;
    for (size_t i = 0; i < n; i++) {
        if (is_num(fs[i])) {
            SlExpr *kk = simp_pow(fs[i], k);
            SlExpr *c = simp_mul2(*coef, kk);
            sl_expr_unref(*coef);
            sl_expr_unref(kk);
            *coef = c;
            continue;
        }
        SlExpr *b, *x;
        split_factor(fs[i], &b, &x);
        SlExpr *xk = simp_mul2(x, k);
        powers_add(p, b, xk);
        sl_expr_unref(xk);
        sl_expr_unref(b);
        sl_expr_unref(x);
    }
}

/* N/D with common factors cancelled (N, D borrowed; D > 0 factors) */
static SlExpr *cancel(SlExpr *num, SlExpr *den)
{
    Powers pn = {0}, pd = {0};
    SlExpr *coef = I(1), *one = I(1), *m1 = I(-1);
    SlExpr *fn = sl_factor(num, NULL), *fd = sl_factor(den, NULL);
    powers_of(&pn, fn, one, &coef);
    powers_of(&pd, fd, m1, &coef);
    for (size_t i = 0; i < pd.base.n; i++)
        powers_add(&pn, pd.base.v[i], pd.expo.v[i]);
    Vec f = {0};
    vpush(&f, sl_expr_ref(coef));
    for (size_t i = 0; i < pn.base.n; i++)
        vpush(&f, simp_pow(pn.base.v[i], pn.expo.v[i]));
    SlExpr *r = simp_mul(f.v, f.n);
    vfree(&f);
    powers_free(&pn);
    powers_free(&pd);
    sl_expr_unref(fn);
    sl_expr_unref(fd);
    sl_expr_unref(coef);
    sl_expr_unref(one);
    sl_expr_unref(m1);
    return r;
}

static bool den_power(const SlExpr *f) { return f->kind == SL_EX_POW && rat_negative(f->args[1]); }

/* A sum over a common denominator, cancelled. */
static SlExpr *together_visit(const SlExpr *e, SlExpr *const *c, void *ctx)
{
    (void)ctx;
    SlExpr *s = simp_node(e, c);
    if (s->kind != SL_EX_ADD && s->kind != SL_EX_MUL)
        return s;
    SlExpr *const *terms = s->kind == SL_EX_ADD ? s->args : &s;
    size_t n = s->kind == SL_EX_ADD ? s->nargs : 1;
    /* the common denominator: each base at its largest power */
    Powers d = {0};
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        SlExpr *const *fs = terms[i]->kind == SL_EX_MUL ? terms[i]->args : &terms[i];
        size_t nf = terms[i]->kind == SL_EX_MUL ? terms[i]->nargs : 1;
        for (size_t j = 0; j < nf; j++) {
            if (!den_power(fs[j]))
                continue; /* numeric denominators stay in the coefficients */
            any = true;
            SlExpr *b, *x;
            split_factor(fs[j], &b, &x);
            SlExpr *nx = simp_neg(x);
            size_t k = 0;
            for (; k < d.base.n; k++)
                if (d.base.v[k] == b)
                    break;
            if (k == d.base.n) {
                vpush(&d.base, sl_expr_ref(b));
                vpush(&d.expo, sl_expr_ref(nx));
            } else if (is_rat(nx) && is_rat(d.expo.v[k]) && mpq_cmp(nx->u.q, d.expo.v[k]->u.q) > 0) {
                sl_expr_unref(d.expo.v[k]);
                d.expo.v[k] = sl_expr_ref(nx);
            }
            sl_expr_unref(nx);
            sl_expr_unref(b);
            sl_expr_unref(x);
        }
    }
    if (!any) {
        powers_free(&d);
        return s;
    }
    Vec dv = {0};
    for (size_t k = 0; k < d.base.n; k++)
        vpush(&dv, simp_pow(d.base.v[k], d.expo.v[k]));
    SlExpr *den = simp_mul(dv.v, dv.n);
    vfree(&dv);
    Vec nt = {0};
    for (size_t i = 0; i < n; i++) {
        SlExpr *p = simp_mul2(terms[i], den);
        SlExpr *x = sl_expand(p);
        vpush(&nt, x);
        sl_expr_unref(p);
    }
    SlExpr *num = simp_add(nt.v, nt.n);
    vfree(&nt);
    SlExpr *r = cancel(num, den);
    sl_expr_unref(num);
    sl_expr_unref(den);
    powers_free(&d);
    sl_expr_unref(s);
    return r;
}

static size_t text_size(const SlExpr *e) { return sl_expr_tree_size(e, SL_STYLE_ASCII); }

SlExpr *sl_simplify_full(SlExpr *e)
{
    if (!e)
        return NULL;
    SlExpr *cand[5];
    size_t nc = 0;
    cand[nc++] = sl_simplify(e);
    if (text_size(cand[0]) <= FULL_MAX_SIZE) {
        SlExpr *py = rebuild(cand[0], pyth_visit, NULL);
        cand[nc++] = py;
        cand[nc++] = sl_expand(py);
        cand[nc++] = sl_factor(py, NULL);
        cand[nc++] = rebuild(py, together_visit, NULL);
    }
    size_t best = 0, bs = text_size(cand[0]), bn = sl_expr_node_count(cand[0]);
    for (size_t i = 1; i < nc; i++) {
        size_t ts = text_size(cand[i]), tn = sl_expr_node_count(cand[i]);
        if (ts < bs || (ts == bs && tn < bn)) {
            best = i;
            bs = ts;
            bn = tn;
        }
    }
    SlExpr *r = sl_expr_ref(cand[best]);
    for (size_t i = 0; i < nc; i++)
        sl_expr_unref(cand[i]);
    return r;
}
