/* diff.c -- symbolic differentiation, Taylor polynomials and explain().
 *
 * sl_diff walks the DAG in post-order on an explicit stack and computes
 * one derivative per distinct node (memoised by node address), so shared
 * subexpressions are differentiated once and their derivatives are shared
 * too.  Products of more than PRODUCT_FLAT factors are differentiated as
 * (P·f)' = P'·f + P·f' where P is the product of the other factors; P is
 * chosen among the nodes that already exist when one does, so that the
 * flattened products of an iteration (the logistic map's
 * lₙ = 4ⁿ·x·(1 − l₀)·…·(1 − lₙ₋₁)) reuse the previous level's product and
 * its derivative: the result grows linearly with n.  The raw derivative
 * is then simplified once (sl_simplify).
 *
 * Rules (u' is the chain rule's inner derivative):
 *   sin u -> cos u·u'           cos u -> −sin u·u'       tan u -> (1 + tan²u)·u'
 *   asin u -> u'/√(1 − u²)      acos u -> −u'/√(1 − u²)  atan u -> u'/(1 + u²)
 *   atan2(y, x) -> (x·y' − y·x')/(x² + y²)
 *   sinh -> cosh, cosh -> sinh, tanh u -> (1 − tanh²u)·u'
 *   exp u -> exp u·u'  log u -> u'/u  log2 u -> u'/(u·log 2)  log10 likewise
 *   sqrt u -> u'/(2√u)  cbrt u -> u'/(3·cbrt(u)²)
 *   abs u -> sign(u)·u' (0 at 0)   sign, floor, ceil, round, heaviside -> 0
 *   sigmoid u -> σ(u)·(1 − σ(u))·u'   relu u -> heaviside(u)·u' (0 at 0)
 *   max(a, b) -> a'·(1 − H(b − a)) + b'·H(b − a): a's derivative where
 *   a >= b (H = heaviside, 0 at 0); min(a, b) likewise where a <= b;
 *   more arguments nest: max(a, b, c) = max(a, max(b, c)).
 *   uⁿ (n constant) -> n·uⁿ⁻¹·u';  aᵘ (a constant) -> aᵘ·log(a)·u';
 *   uᵛ -> uᵛ·(v'·log u + v·u'/u)  (x^x -> x^x·(log x + 1)).
 *   c·P -> c·P' (a numeric coefficient first);
 *   N/D (a product with factors under negative powers) -> the quotient rule
 *   (N'·D − N·D')/D², or (N'·b − k·N·b')/b^(k+1) when D = bᵏ, so that
 *   x/(x + 1) -> 1/(x + 1)² and x/√(x² + 1) -> 1/(x² + 1)^(3/2).
 */
#include "diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simplify.h"

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

typedef struct Vec {
    SlExpr **v; /* owned references */
    size_t n, cap;
} Vec;

static void vpush(Vec *a, SlExpr *e)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
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

/* ---- building blocks: each consumes its arguments ---- */

static SlExpr *R(SlExpr *e) { return sl_expr_ref(e); }
static SlExpr *I(long n) { return sl_expr_int(n); }

static SlExpr *take2(SlExpr *r, SlExpr *a, SlExpr *b)
{
    sl_expr_unref(a);
    sl_expr_unref(b);
    return r;
}

static SlExpr *cadd(SlExpr *a, SlExpr *b) { return take2(sl_expr_add(a, b), a, b); }
static SlExpr *csub(SlExpr *a, SlExpr *b) { return take2(sl_expr_sub(a, b), a, b); }
static SlExpr *cmul(SlExpr *a, SlExpr *b) { return take2(sl_expr_mul(a, b), a, b); }
static SlExpr *cpw(SlExpr *a, SlExpr *b) { return take2(sl_expr_pow(a, b), a, b); }
/* a/b; by an exact 0 it stays written as a·0^-1 (never NULL) */
static SlExpr *cdiv(SlExpr *a, SlExpr *b)
{
    SlExpr *r = sl_expr_div(a, b);
    if (!r) {
        SlExpr *m1 = sl_expr_int(-1);
        SlExpr *inv = sl_expr_pow(b, m1);
        r = sl_expr_mul(a, inv);
        sl_expr_unref(inv);
        sl_expr_unref(m1);
    }
    return take2(r, a, b);
}
static SlExpr *cneg(SlExpr *a)
{
    SlExpr *r = sl_expr_neg(a);
    sl_expr_unref(a);
    return r;
}

static SlExpr *cfn1(SlMathFn fn, SlExpr *a)
{
    SlExpr *r = sl_expr_fn(fn, &a, 1);
    sl_expr_unref(a);
    return r;
}

static bool is_zero(const SlExpr *e) { return sl_expr_is_int(e, 0); }

/* ===========================================================================
 * The derivative walk
 * ======================================================================== */

#define PRODUCT_FLAT 3  /* products of up to this many factors: flat rule */
#define SPLIT_SEARCH 64 /* look for an existing sub-product among this many */

typedef struct Diff {
    const char *var;  /* d/d var */
    SlExprMap memo;   /* node -> index + 1 into res */
    Vec res;          /* derivatives, owned */
    SlExprMap split;  /* product -> index + 1 of the factor split off */
    Vec keep;         /* sub-products made for the splits, kept alive */
} Diff;

static SlExpr *D(const Diff *d, const SlExpr *e)
{
    void *hit = sl_expr_map_get(&d->memo, e);
    return hit ? d->res.v[(uintptr_t)hit - 1] : NULL;
}

/* The product of e's factors without factor i (e a MUL). */
static SlExpr *without(const SlExpr *e, size_t i, bool make)
{
    SlExpr *local[16], **v = e->nargs - 1 <= 16 ? local : xmalloc((e->nargs - 1) * sizeof *v);
    size_t n = 0;
    for (size_t j = 0; j < e->nargs; j++)
        if (j != i)
            v[n++] = e->args[j];
    SlExpr *r = make ? sl_expr_nary(SL_EX_MUL, v, n) : sl_expr_find_nary(SL_EX_MUL, v, n);
    if (v != local)
        free(v);
    return r;
}

/* How a product is split: the index of the factor taken off. */
static size_t split_index(Diff *d, const SlExpr *e)
{
    void *hit = sl_expr_map_get(&d->split, e);
    if (hit)
        return (uintptr_t)hit - 1;
    size_t k = e->nargs - 1;
    if (e->nargs <= SPLIT_SEARCH)
        for (size_t i = e->nargs; i-- > 0;)
            if (without(e, i, false)) {
                k = i;
                break;
            }
    sl_expr_map_put(&d->split, e, (void *)(uintptr_t)(k + 1));
    return k;
}

static bool den_factor(const SlExpr *f)
{
    return f->kind == SL_EX_POW && f->args[1]->kind == SL_EX_RAT && mpq_sgn(f->args[1]->u.q) < 0;
}

/* D = bᵏ (√u = u^(1/2)): *b and *k new references */
static bool single_power(SlExpr *dd, SlExpr **b, SlExpr **k)
{
    SlExpr *base = dd, *x = NULL;
    if (dd->kind == SL_EX_POW && dd->args[1]->kind == SL_EX_RAT) {
        base = dd->args[0];
        x = dd->args[1];
    }
    if (base->kind == SL_EX_MUL)
        return false;
    mpq_t q;
    mpq_init(q);
    if (x)
        mpq_set(q, x->u.q);
    else
        mpq_set_ui(q, 1, 1);
    if (base->kind == SL_EX_FN && base->u.fn == SL_FN_SQRT && base->nargs == 1) {
        base = base->args[0];
        mpq_div_2exp(q, q, 1);
    }
    bool one = mpq_cmp_ui(q, 1, 1) == 0;
    if (!one) {
        *b = R(base);
        *k = sl_expr_rat(q);
    }
    mpq_clear(q);
    return !one;
}

/* A product with factors below the bar and a symbolic numerator, as N/D:
 * nq[0] = N, nq[1] = D (new references). */
static bool quotient(const SlExpr *e, SlExpr *nq[2])
{
    size_t nd = 0;
    for (size_t i = 0; i < e->nargs; i++)
        nd += den_factor(e->args[i]);
    if (!nd || nd == e->nargs)
        return false;
    SlExpr **num = xmalloc(e->nargs * sizeof *num), **den = xmalloc(nd * sizeof *den);
    size_t a = 0, b = 0;
    for (size_t i = 0; i < e->nargs; i++) {
        SlExpr *f = e->args[i];
        if (den_factor(f)) {
            SlExpr *pe = sl_expr_neg(f->args[1]);
            den[b++] = sl_expr_pow(f->args[0], pe);
            sl_expr_unref(pe);
        } else {
            num[a++] = R(f);
        }
    }
    SlExpr *one = I(1);
    SlExpr *n0 = sl_expr_nary(SL_EX_MUL, num, a), *d0 = sl_expr_nary(SL_EX_MUL, den, b);
    nq[0] = sl_expr_mul(n0, one); /* flattened: a factor may be a product */
    nq[1] = sl_expr_mul(d0, one);
    sl_expr_unref(n0);
    sl_expr_unref(d0);
    sl_expr_unref(one);
    for (size_t i = 0; i < a; i++)
        sl_expr_unref(num[i]);
    for (size_t i = 0; i < b; i++)
        sl_expr_unref(den[i]);
    free(num);
    free(den);
    return true;
}

/* The nodes whose derivatives e's derivative is made of.  Sub-products are
 * made (and kept) here. */
static SlExpr *const *deps(Diff *d, SlExpr *e, size_t *n, SlExpr *buf[2])
{
    if (e->kind == SL_EX_MUL) {
        if (sl_expr_is_number(e->args[0])) {
            buf[0] = sl_expr_nary(SL_EX_MUL, e->args + 1, e->nargs - 1);
            vpush(&d->keep, buf[0]);
            *n = 1;
            return buf;
        }
        if (quotient(e, buf)) {
            vpush(&d->keep, buf[0]);
            vpush(&d->keep, buf[1]);
            *n = 2;
            return buf;
        }
        if (e->nargs > PRODUCT_FLAT) {
            size_t k = split_index(d, e);
            buf[0] = without(e, k, true);
            vpush(&d->keep, buf[0]);
            buf[1] = e->args[k];
            *n = 2;
            return buf;
        }
    }
    if (e->kind == SL_EX_FN && (e->u.fn == SL_FN_MAX || e->u.fn == SL_FN_MIN) && e->nargs > 2) {
        buf[0] = e->args[0];
        buf[1] = sl_expr_fn((SlMathFn)e->u.fn, e->args + 1, e->nargs - 1);
        vpush(&d->keep, buf[1]);
        *n = 2;
        return buf;
    }
    *n = e->nargs;
    return e->args;
}

/* max/min(a, b)': a' where a >= b (max) or a <= b (min), else b'. */
static SlExpr *d_maxmin(bool max, SlExpr *a, SlExpr *b, SlExpr *da, SlExpr *db)
{
    if (is_zero(da) && is_zero(db))
        return I(0);
    SlExpr *h = max ? cfn1(SL_FN_HEAVISIDE, csub(R(b), R(a))) : cfn1(SL_FN_HEAVISIDE, csub(R(a), R(b)));
    SlExpr *left = cmul(R(da), csub(I(1), R(h))); /* h is used twice: sequence it */
    return cadd(left, cmul(R(db), h));
}

/* The derivative of fn(args) given the arguments' derivatives. */
static SlExpr *d_fn(const SlExpr *e, SlExpr *const *a, SlExpr *const *da)
{
    SlMathFn fn = (SlMathFn)e->u.fn;
    SlExpr *u = a[0], *du = da[0], *g = NULL;
    switch (fn) {
    case SL_FN_ATAN2: { /* atan2(y, x) */
        SlExpr *y = a[0], *x = a[1], *dy = da[0], *dx = da[1];
        if (is_zero(dy) && is_zero(dx))
            return I(0);
        SlExpr *num = csub(cmul(R(x), R(dy)), cmul(R(y), R(dx)));
        SlExpr *den = cadd(cpw(R(x), I(2)), cpw(R(y), I(2)));
        return cdiv(num, den);
    }
    case SL_FN_MIN:
    case SL_FN_MAX:
        if (e->nargs == 1)
            return R(du);
        /* two arguments, or a and max(rest...) as deps() arranged */
        return d_maxmin(fn == SL_FN_MAX, a[0], a[1], da[0], da[1]);
    case SL_FN_SIGN:
    case SL_FN_FLOOR:
    case SL_FN_CEIL:
    case SL_FN_ROUND:
    case SL_FN_HEAVISIDE: return I(0);
    default: break;
    }
    if (is_zero(du))
        return I(0);
    switch (fn) {
    case SL_FN_SIN: g = cfn1(SL_FN_COS, R(u)); break;
    case SL_FN_COS: g = cneg(cfn1(SL_FN_SIN, R(u))); break;
    case SL_FN_TAN: g = cadd(cpw(R((SlExpr *)e), I(2)), I(1)); break;
    case SL_FN_ASIN: g = cpw(cfn1(SL_FN_SQRT, csub(I(1), cpw(R(u), I(2)))), I(-1)); break;
    case SL_FN_ACOS: g = cneg(cpw(cfn1(SL_FN_SQRT, csub(I(1), cpw(R(u), I(2)))), I(-1))); break;
    case SL_FN_ATAN: g = cpw(cadd(cpw(R(u), I(2)), I(1)), I(-1)); break;
    case SL_FN_SINH: g = cfn1(SL_FN_COSH, R(u)); break;
    case SL_FN_COSH: g = cfn1(SL_FN_SINH, R(u)); break;
    case SL_FN_TANH: g = csub(I(1), cpw(R((SlExpr *)e), I(2))); break;
    case SL_FN_EXP: g = R((SlExpr *)e); break;
    case SL_FN_LOG: g = cpw(R(u), I(-1)); break;
    case SL_FN_LOG2:
    case SL_FN_LOG10:
        g = cpw(cmul(R(u), cfn1(SL_FN_LOG, I(fn == SL_FN_LOG2 ? 2 : 10))), I(-1));
        break;
    case SL_FN_SQRT: g = cdiv(I(1), cmul(I(2), R((SlExpr *)e))); break;
    case SL_FN_CBRT: g = cdiv(I(1), cmul(I(3), cpw(R((SlExpr *)e), I(2)))); break;
    case SL_FN_ABS: g = cfn1(SL_FN_SIGN, R(u)); break;
    case SL_FN_SIGMOID: g = cmul(R((SlExpr *)e), csub(I(1), R((SlExpr *)e))); break;
    case SL_FN_RELU: g = cfn1(SL_FN_HEAVISIDE, R(u)); break;
    default: g = I(0); break;
    }
    return cmul(g, R(du));
}

/* d(b^x) */
static SlExpr *d_pow(SlExpr *e, SlExpr *b, SlExpr *x, SlExpr *db, SlExpr *dx)
{
    if (is_zero(dx)) {
        if (is_zero(db))
            return I(0);
        /* x·b^(x−1)·b' */
        return cmul(cmul(R(x), cpw(R(b), csub(R(x), I(1)))), R(db));
    }
    SlExpr *logb = b->kind == SL_EX_CONST && b->u.cid == SL_CONST_E ? I(1) : cfn1(SL_FN_LOG, R(b));
    if (is_zero(db)) /* b^x·log(b)·x' */
        return cmul(cmul(R(e), logb), R(dx));
    /* b^x·(x'·log b + x·b'/b) */
    SlExpr *inner = cadd(cmul(R(dx), logb), cdiv(cmul(R(x), R(db)), R(b)));
    return cmul(R(e), inner);
}

static SlExpr *d_node(Diff *d, SlExpr *e)
{
    switch (e->kind) {
    case SL_EX_RAT:
    case SL_EX_FLT:
    case SL_EX_CONST: return I(0);
    case SL_EX_SYM: return I(strcmp(e->u.name, d->var) == 0 ? 1 : 0);
    case SL_EX_ADD: {
        Vec t = {0};
        for (size_t i = 0; i < e->nargs; i++) {
            SlExpr *di = D(d, e->args[i]);
            if (!is_zero(di))
                vpush(&t, R(di));
        }
        SlExpr *r = t.n ? sl_expr_nary(SL_EX_ADD, t.v, t.n) : I(0);
        if (t.n > 1) { /* fold the constants through the constructor */
            SlExpr *z = I(0);
            SlExpr *f = sl_expr_add(r, z);
            sl_expr_unref(z);
            sl_expr_unref(r);
            r = f;
        }
        vfree(&t);
        return r;
    }
    case SL_EX_MUL: {
        SlExpr *buf[2];
        size_t n;
        SlExpr *const *dep = deps(d, e, &n, buf);
        if (sl_expr_is_number(e->args[0])) /* c·P: c·P' */
            return sl_expr_mul(e->args[0], D(d, dep[0]));
        if (quotient(e, buf)) { /* (N/D)' = (N'·D − N·D')/D² */
            SlExpr *nn = buf[0], *dd = buf[1];
            SlExpr *dn = D(d, nn), *ddd = D(d, dd);
            SlExpr *r, *b, *k;
            if (single_power(dd, &b, &k)) {
                /* D = bᵏ: (N'·b − k·N·b')/b^(k+1), D' = k·bᵏ⁻¹·b' divided through */
                SlExpr *db = D(d, b);
                SlExpr *left = sl_expr_mul(dn, b);
                SlExpr *top = csub(left, cmul(cmul(R(k), R(nn)), R(db)));
                r = cdiv(top, cpw(R(b), cadd(R(k), I(1))));
                sl_expr_unref(b);
                sl_expr_unref(k);
            } else {
                SlExpr *top = csub(sl_expr_mul(dn, dd), sl_expr_mul(nn, ddd));
                r = cdiv(top, cpw(R(dd), I(2)));
            }
            sl_expr_unref(nn);
            sl_expr_unref(dd);
            return r;
        }
        if (e->nargs > PRODUCT_FLAT) { /* (P·f)' = P'·f + P·f' */
            SlExpr *p = dep[0], *f = dep[1];
            SlExpr *dp = D(d, p), *df = D(d, f);
            return cadd(sl_expr_mul(dp, f), sl_expr_mul(p, df));
        }
        Vec t = {0};
        for (size_t i = 0; i < e->nargs; i++) {
            SlExpr *di = D(d, e->args[i]);
            if (is_zero(di))
                continue;
            SlExpr *term = R(di);
            SlExpr *local[PRODUCT_FLAT];
            size_t k = 0;
            for (size_t j = 0; j < e->nargs; j++)
                local[k++] = j == i ? term : e->args[j];
            SlExpr *p = sl_expr_nary(SL_EX_MUL, local, k);
            SlExpr *z = I(1); /* flatten and fold through the constructor */
            vpush(&t, sl_expr_mul(p, z));
            sl_expr_unref(z);
            sl_expr_unref(p);
            sl_expr_unref(term);
        }
        SlExpr *r = I(0);
        for (size_t i = 0; i < t.n; i++)
            r = cadd(r, R(t.v[i]));
        vfree(&t);
        return r;
    }
    case SL_EX_POW: return d_pow(e, e->args[0], e->args[1], D(d, e->args[0]), D(d, e->args[1]));
    case SL_EX_FN: {
        SlExpr *buf[2];
        size_t n;
        SlExpr *const *dep = deps(d, e, &n, buf);
        SlExpr *local[8], **da = n <= 8 ? local : xmalloc(n * sizeof *da);
        for (size_t i = 0; i < n; i++)
            da[i] = D(d, dep[i]);
        SlExpr *r = d_fn(e, dep, da);
        if (da != local)
            free(da);
        return r;
    }
    }
    return I(0);
}

/* The unsimplified derivative of root. */
static SlExpr *diff_raw(SlExpr *root, const char *var)
{
    Diff d = {.var = var};
    Vec stack = {0}; /* borrowed entries */
    stack.cap = 64;
    stack.v = xmalloc(stack.cap * sizeof *stack.v);
    stack.v[stack.n++] = root;
    while (stack.n) {
        SlExpr *e = stack.v[stack.n - 1];
        if (D(&d, e)) {
            stack.n--;
            continue;
        }
        SlExpr *buf[2];
        size_t n;
        SlExpr *const *dep = deps(&d, e, &n, buf);
        bool pushed = false;
        for (size_t i = 0; i < n; i++)
            if (!D(&d, dep[i])) {
                if (stack.n == stack.cap) {
                    stack.cap *= 2;
                    stack.v = xrealloc(stack.v, stack.cap * sizeof *stack.v);
                }
                stack.v[stack.n++] = dep[i];
                pushed = true;
            }
        if (pushed)
            continue;
        SlExpr *r = d_node(&d, e);
        vpush(&d.res, r);
        sl_expr_map_put(&d.memo, e, (void *)(uintptr_t)d.res.n);
        stack.n--;
    }
    SlExpr *out = R(D(&d, root));
    free(stack.v);
    vfree(&d.res);
    vfree(&d.keep);
    sl_expr_map_free(&d.memo);
    sl_expr_map_free(&d.split);
    return out;
}

SlExpr *sl_diff(SlExpr *e, const char *var, SlError *err)
{
    (void)err;
    if (!e || !var)
        return NULL;
    SlExpr *raw = diff_raw(e, var);
    SlExpr *r = sl_simplify(raw);
    sl_expr_unref(raw);
    return r;
}

SlExpr *sl_diff_n(SlExpr *e, const char *var, long n, SlError *err)
{
    if (n < 0) {
        sl_err(err, SL_E_VALUE, "the order of a derivative must be >= 0");
        return NULL;
    }
    /* The last few derivatives, hist[k % KEEP] = the k-th: when one comes
     * back (the fourth of sin is sin, exp is its own), the rest of the way
     * goes round that cycle and only (n - i) mod p more steps are taken. */
    enum { KEEP = 8 };
    SlExpr *hist[KEEP] = {0};
    SlExpr *r = sl_simplify(e);
    long i = 0, todo = n;
    while (i < todo && r) {
        for (long p = 1; p <= KEEP && p <= i && todo == n; p++)
            if (hist[(i - p) % KEEP] == r)
                todo = i + (n - i) % p;
        if (i >= todo)
            break;
        sl_expr_unref(hist[i % KEEP]);
        hist[i % KEEP] = R(r);
        SlExpr *next = sl_diff(r, var, err);
        sl_expr_unref(r);
        r = next;
        i++;
        if (r && is_zero(r))
            break;
    }
    for (int k = 0; k < KEEP; k++)
        sl_expr_unref(hist[k]);
    return r;
}

/* ===========================================================================
 * Taylor polynomials
 * ======================================================================== */

SlExpr *sl_taylor_poly(SlExpr *e, const char *var, SlExpr *a, long n, SlError *err)
{
    if (n < 0) {
        sl_err(err, SL_E_VALUE, "the degree of a Taylor polynomial must be >= 0");
        return NULL;
    }
    SlExpr *x = sl_expr_sym(var);
    SlExpr *ma = cneg(R(a));
    SlExpr *xa = cadd(R(x), ma);              /* x − a */
    SlExpr *sxa = sl_simplify(xa);
    sl_expr_unref(xa);
    Vec terms = {0};
    SlExpr *dk = sl_simplify(e);
    mpz_t fact;
    mpz_init_set_ui(fact, 1);
    for (long k = 0; k <= n; k++) {
        if (k > 0) {
            SlExpr *next = sl_diff(dk, var, err);
            sl_expr_unref(dk);
            dk = next;
            if (!dk)
                break;
            mpz_mul_ui(fact, fact, (unsigned long)k);
        }
        /* f^(k)(a) / k! · (x − a)^k */
        const char *names[1] = {var};
        SlExpr *at = sl_expr_subs_expr(dk, names, &a, 1);
        SlExpr *c = sl_simplify(at);
        sl_expr_unref(at);
        if (is_zero(c)) {
            sl_expr_unref(c);
            continue;
        }
        mpq_t q;
        mpq_init(q);
        mpz_set_ui(mpq_numref(q), 1);
        mpz_set(mpq_denref(q), fact);
        SlExpr *inv = sl_expr_rat(q);
        mpq_clear(q);
        SlExpr *kx = I(k);
        SlExpr *pw = sl_simplify_pow(sxa, kx);
        SlExpr *f[2] = {inv, c};
        SlExpr *cf = sl_simplify_mul(f, 2);
        /* the constructor keeps c·(x − a)ᵏ as written: −(x − π), not π − x */
        vpush(&terms, sl_expr_mul(cf, pw));
        sl_expr_unref(cf);
        sl_expr_unref(kx);
        sl_expr_unref(pw);
        sl_expr_unref(inv);
        sl_expr_unref(c);
    }
    mpz_clear(fact);
    sl_expr_unref(dk);
    sl_expr_unref(sxa);
    sl_expr_unref(x);
    if (err && err->set) {
        vfree(&terms);
        return NULL;
    }
    /* ascending powers of (x − a), as a textbook writes a Taylor polynomial */
    SlExpr *r = sl_expr_nary(SL_EX_ADD, terms.v, terms.n);
    vfree(&terms);
    return r;
}

/* ===========================================================================
 * explain(): the derivative step by step
 *
 * A walk from the outside in.  At each node one rule rewrites d/dx [u] into
 * a formula in which the derivatives still to be found stand as
 * placeholders (symbols that print as "d/dx [v]"); each placeholder is
 * then derived in turn, indented under the step that made it, and the
 * step closes with its result (the formula with the placeholders replaced,
 * simplified).  Derivatives that need no further step (constants, x, xⁿ,
 * f(x) for a builtin f, c·xⁿ) take one line.  The root reads
 *     d/dx [u]
 *       = formula                                (rule)
 *         d/dx [v] = ...                         (rule)
 *       = result
 * and the rule names are: constant, power, constant multiple, sum,
 * product, quotient, chain, exponential, generalised power, and the
 * function's own (trig: d sin = cos, log rule: d log u = 1/u, ...).
 * ======================================================================== */

#define EXPLAIN_MAX_LINES 300
#define EXPLAIN_MAX_DEPTH 40

typedef struct Line {
    char *text;    /* the equation (owned) */
    char *rule;    /* the rule's name (owned), or NULL */
    int depth;     /* nesting */
} Line;

typedef struct Explain {
    const char *var;  /* the variable */
    SlStyle st;       /* output style */
    Line *lines;
    size_t n, cap;
    size_t hidden;    /* steps not shown past EXPLAIN_MAX_LINES */
    SlExprMap done;   /* node -> its derivative (owned through res) */
    Vec res;          /* derivatives found, owned */
    SlError *err;
} Explain;

static char *show(const Explain *x, const SlExpr *e)
{
    SlBuf b;
    sl_buf_init(&b);
    sl_expr_print(&b, e, x->st);
    return sl_buf_take(&b);
}

/* The rule names in the style: ascii spells the math signs out; latex
 * writes text for \text{...}, the math signs in $...$ and TeX's special
 * characters escaped, so that every line compiles. */
static char *rule_text(const Explain *x, const char *r)
{
    SlBuf b;
    sl_buf_init(&b);
    if (x->st == SL_STYLE_UNICODE) {
        sl_buf_puts(&b, r);
        return sl_buf_take(&b);
    }
    static const struct {
        const char *u, *a, *l;
    } map[] = {{"\xc2\xb2", "^2", "$^{2}$"},
               {"\xe2\x88\x9a", "sqrt ", "$\\surd$"},
               {"\xcf\x83", "sigma", "$\\sigma$"},
               {"\xe2\x88\x92", "-", "$-$"},
               {"\xe2\x89\xa5", ">=", "$\\geq$"},
               {"\xe2\x89\xa4", "<=", "$\\leq$"},
               {"\xe2\x89\xa0", "!=", "$\\neq$"},
               {"\xe2\x80\xb2", "'", "$'$"},
               {"\xc2\xb7", "*", "$\\cdot$"},
               {"\xe2\x82\x82", "2", "$_{2}$"},
               {"\xe2\x82\x81\xe2\x82\x80", "10", "$_{10}$"},
               {"\xe1\xb5\x98", "^u", "$^{u}$"},
               {"\xe1\xb5\x9b", "^v", "$^{v}$"},
               {"|", "|", "$|$"},
               {"<", "<", "$<$"},
               {">", ">", "$>$"}};
    bool latex = x->st == SL_STYLE_LATEX;
    while (*r) {
        bool hit = false;
        for (size_t i = 0; i < sizeof map / sizeof map[0] && !hit; i++) {
            size_t n = strlen(map[i].u);
            if (strncmp(r, map[i].u, n) == 0) {
                sl_buf_puts(&b, latex ? map[i].l : map[i].a);
                r += n;
                hit = true;
            }
        }
        if (hit)
            continue;
        if (latex && strchr("#$%&_{}", *r)) {
            sl_buf_putc(&b, '\\');
        } else if (latex && strchr("~^\\", *r)) {
            sl_buf_puts(&b, *r == '~' ? "\\textasciitilde{}" : *r == '^' ? "\\textasciicircum{}" : "\\textbackslash{}");
            r++;
            continue;
        }
        sl_buf_putc(&b, *r++);
    }
    return sl_buf_take(&b);
}

static void add_line(Explain *x, int depth, char *text, const char *rule)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 32;
        x->lines = xrealloc(x->lines, x->cap * sizeof *x->lines);
    }
    x->lines[x->n++] = (Line){text, rule ? rule_text(x, rule) : NULL, depth};
}

/* "d/dx [u]" in the style */
static char *dtext(const Explain *x, const SlExpr *u)
{
    char *t = show(x, u);
    SlBuf b;
    sl_buf_init(&b);
    if (x->st == SL_STYLE_LATEX) {
        sl_buf_puts(&b, "\\frac{d}{d");
        sl_expr_latex_name(&b, x->var);
        sl_buf_printf(&b, "}\\left[%s\\right]", t);
    } else
        sl_buf_printf(&b, "d/d%s [%s]", x->var, t);
    free(t);
    return sl_buf_take(&b);
}

static SlExpr *placeholder(const Explain *x, const SlExpr *u)
{
    char *t = dtext(x, u);
    SlExpr *p = sl_expr_placeholder(t);
    free(t);
    return p;
}

static char *equation(const Explain *x, const SlExpr *u, const SlExpr *rhs)
{
    char *l = dtext(x, u), *r = show(x, rhs);
    SlBuf b;
    sl_buf_init(&b);
    sl_buf_printf(&b, x->st == SL_STYLE_LATEX ? "%s &= %s" : "%s = %s", l, r);
    free(l);
    free(r);
    return sl_buf_take(&b);
}

static const char *fn_rule(int fn)
{
    switch (fn) {
    case SL_FN_SIN: return "trig: d sin = cos";
    case SL_FN_COS: return "trig: d cos = −sin";
    case SL_FN_TAN: return "trig: d tan = 1 + tan²";
    case SL_FN_ASIN: return "inverse trig: d asin u = 1/√(1 − u²)";
    case SL_FN_ACOS: return "inverse trig: d acos u = −1/√(1 − u²)";
    case SL_FN_ATAN: return "inverse trig: d atan u = 1/(1 + u²)";
    case SL_FN_ATAN2: return "atan2 rule: (x·y′ − y·x′)/(x² + y²)";
    case SL_FN_SINH: return "hyperbolic: d sinh = cosh";
    case SL_FN_COSH: return "hyperbolic: d cosh = sinh";
    case SL_FN_TANH: return "hyperbolic: d tanh = 1 − tanh²";
    case SL_FN_EXP: return "exp rule: d exp = exp";
    case SL_FN_LOG: return "log rule: d log u = 1/u";
    case SL_FN_LOG2: return "log rule: d log₂ u = 1/(u·log 2)";
    case SL_FN_LOG10: return "log rule: d log₁₀ u = 1/(u·log 10)";
    case SL_FN_SQRT: return "power rule: d √u = 1/(2√u)";
    case SL_FN_CBRT: return "power rule: d cbrt u = 1/(3·cbrt(u)²)";
    case SL_FN_ABS: return "abs rule: d |u| = sign(u), 0 at 0";
    case SL_FN_SIGN: return "sign is constant where u ≠ 0";
    case SL_FN_FLOOR:
    case SL_FN_CEIL:
    case SL_FN_ROUND:
    case SL_FN_HEAVISIDE: return "a step function: 0 where defined";
    case SL_FN_SIGMOID: return "sigmoid rule: d σ = σ·(1 − σ)";
    case SL_FN_RELU: return "relu rule: d relu = heaviside, 0 at 0";
    case SL_FN_MAX: return "max rule: a′ where a ≥ b, else b′";
    case SL_FN_MIN: return "min rule: a′ where a ≤ b, else b′";
    default: return "derivative of a builtin";
    }
}

static char *joined(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 3;
    char *s = xmalloc(n);
    snprintf(s, n, "%s, %s", a, b);
    return s;
}

static bool constant_in(const Explain *x, const SlExpr *u) { return !sl_expr_has_sym(u, x->var); }
static bool is_var(const Explain *x, const SlExpr *u)
{
    return u->kind == SL_EX_SYM && strcmp(u->u.name, x->var) == 0;
}
static bool is_den(const SlExpr *f)
{
    return f->kind == SL_EX_POW && f->args[1]->kind == SL_EX_RAT && mpq_sgn(f->args[1]->u.q) < 0;
}

/* A child to derive (taken), once. */
static void kid(Vec *kids, SlExpr *c)
{
    for (size_t i = 0; i < kids->n; i++)
        if (kids->v[i] == c) {
            sl_expr_unref(c);
            return;
        }
    vpush(kids, c);
}

/* The formula as a teacher writes it: the parts without placeholders
 * simplified (1 − H, not −H + 1), the rest rebuilt around them. */
static SlExpr *tidy(SlExpr *f, int depth)
{
    bool has = false;
    const char *names[64];
    size_t n = sl_expr_free_syms(f, names, 64);
    for (size_t i = 0; i < n && !has; i++)
        has = names[i][0] == '\x01';
    if (!has || n == 64 || depth > 16) {
        if (!has)
            return sl_simplify(f);
        return R(f);
    }
    if (f->nargs == 0)
        return R(f);
    SlExpr *local[8], **c = f->nargs <= 8 ? local : xmalloc(f->nargs * sizeof *c);
    for (size_t i = 0; i < f->nargs; i++)
        c[i] = tidy(f->args[i], depth + 1);
    SlExpr *r;
    switch (f->kind) {
    case SL_EX_ADD:
    case SL_EX_MUL: /* the constructors flatten and fold, keeping the order */
        r = R(c[0]);
        for (size_t i = 1; i < f->nargs; i++)
            r = f->kind == SL_EX_ADD ? cadd(r, R(c[i])) : cmul(r, R(c[i]));
        break;
    case SL_EX_POW: r = sl_expr_pow(c[0], c[1]); break;
    default: r = sl_expr_fn((SlMathFn)f->u.fn, c, f->nargs); break;
    }
    for (size_t i = 0; i < f->nargs; i++)
        sl_expr_unref(c[i]);
    if (c != local)
        free(c);
    return r;
}

/* One rule at u: the formula (placeholders for the children in kids),
 * the rule's name (static or owned in *own).  kids get new references. */
static SlExpr *rule_at(Explain *x, SlExpr *u, Vec *kids, const char **rule, char **own)
{
    *own = NULL;
    if (constant_in(x, u)) {
        *rule = "constant rule";
        return I(0);
    }
    if (is_var(x, u)) {
        *rule = "power rule";
        return I(1);
    }
    switch (u->kind) {
    case SL_EX_ADD: {
        SlExpr *f = I(0);
        bool constants = false;
        for (size_t i = 0; i < u->nargs; i++) {
            SlExpr *t = u->args[i];
            if (constant_in(x, t)) {
                constants = true;
                continue;
            }
            bool neg = t->kind == SL_EX_MUL && t->args[0]->kind == SL_EX_RAT && mpq_sgn(t->args[0]->u.q) < 0;
            SlExpr *pos = neg ? sl_expr_neg(t) : R(t);
            kid(kids, R(pos));
            SlExpr *p = placeholder(x, pos);
            sl_expr_unref(pos);
            f = neg ? csub(f, p) : cadd(f, p);
        }
        *rule = constants ? "sum rule; constants vanish" : "sum rule";
        return f;
    }
    case SL_EX_MUL: {
        size_t nd = 0, nn = 0;
        for (size_t i = 0; i < u->nargs; i++) {
            if (sl_expr_is_number(u->args[i]) || constant_in(x, u->args[i]))
                continue;
            if (is_den(u->args[i]))
                nd++;
            else
                nn++;
        }
        /* constant factors first: c·d/dx [rest] */
        Vec c = {0}, v = {0};
        for (size_t i = 0; i < u->nargs; i++)
            vpush(constant_in(x, u->args[i]) ? &c : &v, R(u->args[i]));
        if (c.n) {
            SlExpr *cc = sl_expr_nary(SL_EX_MUL, c.v, c.n);
            SlExpr *rest = sl_expr_nary(SL_EX_MUL, v.v, v.n);
            SlExpr *one = I(1);
            SlExpr *flat = sl_expr_mul(rest, one); /* canonical: one factor or a product */
            sl_expr_unref(one);
            sl_expr_unref(rest);
            kid(kids, R(flat));
            SlExpr *f = cmul(cc, placeholder(x, flat));
            sl_expr_unref(flat);
            vfree(&c);
            vfree(&v);
            *rule = "constant multiple rule";
            return f;
        }
        vfree(&c);
        if (nd && nn) { /* N/D: (N′·D − N·D′)/D² */
            Vec num = {0}, den = {0};
            for (size_t i = 0; i < v.n; i++) {
                if (is_den(v.v[i])) {
                    SlExpr *pe = sl_expr_neg(v.v[i]->args[1]);
                    vpush(&den, sl_expr_pow(v.v[i]->args[0], pe));
                    sl_expr_unref(pe);
                } else {
                    vpush(&num, R(v.v[i]));
                }
            }
            SlExpr *n = sl_expr_nary(SL_EX_MUL, num.v, num.n), *d = sl_expr_nary(SL_EX_MUL, den.v, den.n);
            vfree(&num);
            vfree(&den);
            vfree(&v);
            kid(kids, R(n));
            kid(kids, R(d));
            SlExpr *left = cmul(placeholder(x, n), R(d));
            SlExpr *right = cmul(R(n), placeholder(x, d));
            SlExpr *top = csub(left, right);
            SlExpr *f = cdiv(top, cpw(d, I(2)));
            sl_expr_unref(n);
            *rule = "quotient rule";
            return f;
        }
        /* Σ f1···fi′···fk */
        SlExpr *f = I(0);
        for (size_t i = 0; i < v.n; i++) {
            kid(kids, R(v.v[i]));
            SlExpr **t = xmalloc(v.n * sizeof *t);
            for (size_t j = 0; j < v.n; j++)
                t[j] = j == i ? placeholder(x, v.v[i]) : R(v.v[j]);
            SlExpr *term = sl_expr_nary(SL_EX_MUL, t, v.n);
            for (size_t j = 0; j < v.n; j++)
                sl_expr_unref(t[j]);
            free(t);
            f = cadd(f, term);
        }
        vfree(&v);
        *rule = "product rule";
        return f;
    }
    case SL_EX_POW: {
        SlExpr *b = u->args[0], *e = u->args[1];
        if (constant_in(x, e)) { /* n·b^(n−1)·b′ */
            SlExpr *f = cmul(R(e), cpw(R(b), csub(R(e), I(1))));
            if (is_var(x, b)) {
                *rule = "power rule";
                return f;
            }
            kid(kids, R(b));
            *rule = "chain rule, power rule";
            return cmul(f, placeholder(x, b));
        }
        SlExpr *logb = b->kind == SL_EX_CONST && b->u.cid == SL_CONST_E ? I(1) : cfn1(SL_FN_LOG, R(b));
        if (constant_in(x, b)) { /* b^e·log b·e′ */
            SlExpr *f = cmul(R(u), logb);
            *rule = "exponential rule: d aᵘ = aᵘ·log a";
            if (is_var(x, e))
                return f;
            kid(kids, R(e));
            *rule = "chain rule, exponential rule: d aᵘ = aᵘ·log a";
            return cmul(f, placeholder(x, e));
        }
        kid(kids, R(e));
        kid(kids, R(b));
        SlExpr *inner = cadd(cmul(placeholder(x, e), logb), cdiv(cmul(R(e), placeholder(x, b)), R(b)));
        *rule = "generalised power rule: d uᵛ = uᵛ·(v′·log u + v·u′/u)";
        return cmul(R(u), inner);
    }
    case SL_EX_FN: {
        int fn = u->u.fn;
        if (u->nargs == 1) {
            SlExpr *a = u->args[0];
            /* f′(a) with a's derivative 1 */
            SlExpr *one = I(1);
            SlExpr *g = d_fn(u, u->args, &one);
            sl_expr_unref(one);
            if (is_var(x, a) || sl_expr_is_int(g, 0)) {
                *rule = fn_rule(fn);
                return g;
            }
            kid(kids, R(a));
            *own = joined("chain rule", fn_rule(fn));
            *rule = *own;
            return cmul(g, placeholder(x, a));
        }
        /* several arguments: the rule with a placeholder for each */
        SlExpr *local[8] = {0}, **ph = u->nargs <= 8 ? local : xmalloc(u->nargs * sizeof *ph);
        SlExpr *buf[2];
        SlExpr *const *args = u->args;
        size_t n = u->nargs;
        if ((fn == SL_FN_MAX || fn == SL_FN_MIN) && n > 2) {
            buf[0] = u->args[0];
            buf[1] = sl_expr_fn((SlMathFn)fn, u->args + 1, n - 1);
            args = buf;
            n = 2;
        }
        for (size_t i = 0; i < n; i++) {
            ph[i] = constant_in(x, args[i]) ? I(0) : placeholder(x, args[i]);
            if (!constant_in(x, args[i]))
                kid(kids, R(args[i]));
        }
        SlExpr *f = d_fn(u, args, ph);
        for (size_t i = 0; i < n; i++)
            sl_expr_unref(ph[i]);
        if (ph != local)
            free(ph);
        if (args == buf)
            sl_expr_unref(buf[1]);
        *rule = fn_rule(fn);
        return f;
    }
    default: break;
    }
    *rule = "constant rule";
    return I(0);
}

/* Shown derivation of u at depth; returns its derivative (borrowed from
 * x->res) or NULL on error. */
static SlExpr *explain_node(Explain *x, SlExpr *u, int depth, bool root)
{
    void *hit = sl_expr_map_get(&x->done, u);
    if (hit) {
        SlExpr *r = x->res.v[(uintptr_t)hit - 1];
        if (x->n < EXPLAIN_MAX_LINES) {
            Vec k2 = {0};
            const char *r2;
            char *own2;
            SlExpr *g = rule_at(x, u, &k2, &r2, &own2);
            add_line(x, depth, equation(x, u, r), k2.n ? "as above" : r2);
            sl_expr_unref(g);
            free(own2);
            vfree(&k2);
        }
        return r;
    }
    SlExpr *r = NULL;
    if (x->n >= EXPLAIN_MAX_LINES || depth > EXPLAIN_MAX_DEPTH) {
        r = sl_diff(u, x->var, x->err);
        if (!r)
            return NULL;
        x->hidden++;
    } else {
        Vec kids = {0};
        const char *rule;
        char *own;
        SlExpr *f0 = rule_at(x, u, &kids, &rule, &own);
        SlExpr *f = tidy(f0, 0);
        sl_expr_unref(f0);
        SlExpr *ck = NULL; /* c·v with v's derivative in one step: one line */
        if (kids.n == 1 && strcmp(rule, "constant multiple rule") == 0 && !sl_expr_map_get(&x->done, kids.v[0])) {
            Vec k2 = {0};
            const char *r2;
            char *own2;
            SlExpr *g = rule_at(x, kids.v[0], &k2, &r2, &own2);
            if (!k2.n) {
                SlExpr *gs = sl_simplify(g);
                SlExpr *ph = placeholder(x, kids.v[0]);
                const char *nm = ph->u.name;
                SlExpr *sub = sl_expr_subs_expr(f, &nm, &gs, 1);
                ck = sl_simplify(sub);
                sl_expr_unref(sub);
                sl_expr_unref(ph);
                sl_expr_unref(gs);
                free(own);
                own = joined("constant multiple rule", r2);
                rule = own;
            }
            sl_expr_unref(g);
            free(own2);
            vfree(&k2);
        }
        if (ck) {
            r = ck;
            if (root) {
                add_line(x, 0, dtext(x, u), NULL);
                char *t = show(x, r);
                SlBuf b;
                sl_buf_init(&b);
                sl_buf_printf(&b, x->st == SL_STYLE_LATEX ? "&= %s" : "= %s", t);
                free(t);
                add_line(x, 1, sl_buf_take(&b), rule);
            } else {
                add_line(x, depth, equation(x, u, r), rule);
            }
            sl_expr_unref(f);
        } else if (!kids.n) {
            r = sl_simplify(f);
            sl_expr_unref(f);
            if (root) {
                add_line(x, 0, dtext(x, u), NULL);
                char *t = show(x, r);
                SlBuf b;
                sl_buf_init(&b);
                sl_buf_printf(&b, x->st == SL_STYLE_LATEX ? "&= %s" : "= %s", t);
                free(t);
                add_line(x, 1, sl_buf_take(&b), rule);
            } else {
                add_line(x, depth, equation(x, u, r), rule);
            }
        } else {
            if (root) {
                add_line(x, 0, dtext(x, u), NULL);
                char *t = show(x, f);
                SlBuf b;
                sl_buf_init(&b);
                sl_buf_printf(&b, x->st == SL_STYLE_LATEX ? "&= %s" : "= %s", t);
                free(t);
                add_line(x, 1, sl_buf_take(&b), rule);
            } else {
                add_line(x, depth, equation(x, u, f), rule);
            }
            /* the children, then the formula with their results */
            const char **names = xmalloc(kids.n * sizeof *names);
            SlExpr **vals = xmalloc(kids.n * sizeof *vals);
            SlExpr **phs = xmalloc(kids.n * sizeof *phs);
            bool ok = true;
            for (size_t i = 0; i < kids.n && ok; i++) {
                phs[i] = placeholder(x, kids.v[i]);
                names[i] = phs[i]->u.name;
                vals[i] = explain_node(x, kids.v[i], root ? 2 : depth + 1, false);
                ok = vals[i] != NULL;
                if (!ok)
                    sl_expr_unref(phs[i]);
            }
            if (ok) {
                SlExpr *sub = sl_expr_subs_expr(f, names, vals, kids.n);
                r = sl_simplify(sub);
                sl_expr_unref(sub);
                if (root) {
                    char *t = show(x, r);
                    SlBuf b;
                    sl_buf_init(&b);
                    sl_buf_printf(&b, x->st == SL_STYLE_LATEX ? "&= %s" : "= %s", t);
                    free(t);
                    add_line(x, 1, sl_buf_take(&b), NULL);
                } else if (x->n < EXPLAIN_MAX_LINES) {
                    add_line(x, depth, equation(x, u, r), NULL);
                }
                for (size_t i = 0; i < kids.n; i++)
                    sl_expr_unref(phs[i]);
            }
            free(names);
            free(vals);
            free(phs);
            sl_expr_unref(f);
        }
        vfree(&kids);
        free(own);
        if (!r)
            return NULL;
    }
    vpush(&x->res, r);
    sl_expr_map_put(&x->done, u, (void *)(uintptr_t)x->res.n);
    return r;
}

/* Display width of UTF-8 text (code points). */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

bool sl_explain_diff(SlBuf *out, SlExpr *e, const char *var, SlStyle style, SlError *err)
{
    if (!e || !var)
        return false;
    Explain x = {.var = var, .st = style, .err = err};
    SlExpr *r = explain_node(&x, e, 0, true);
    bool ok = r != NULL;
    if (ok) {
        bool latex = style == SL_STYLE_LATEX;
        size_t col = 0;
        for (size_t i = 0; i < x.n; i++) {
            size_t w = width(x.lines[i].text) + 2 * (size_t)x.lines[i].depth;
            if (x.lines[i].rule && w > col && w <= 60)
                col = w;
        }
        if (latex)
            sl_buf_puts(out, "\\begin{aligned}\n");
        for (size_t i = 0; i < x.n; i++) {
            const Line *l = &x.lines[i];
            if (latex) {
                for (int d = 1; d < l->depth; d++)
                    sl_buf_puts(out, "\\quad ");
                sl_buf_puts(out, l->text);
                if (l->depth == 0)
                    sl_buf_putc(out, ' '); /* the first step continues this line */
                else if (l->rule)
                    sl_buf_printf(out, " && \\text{(%s)}%s", l->rule, i + 1 < x.n || x.hidden ? " \\\\\n" : "\n");
                else
                    sl_buf_puts(out, i + 1 < x.n || x.hidden ? " \\\\\n" : "\n");
                continue;
            }
            size_t w = width(l->text) + 2 * (size_t)l->depth;
            for (int d = 0; d < l->depth; d++)
                sl_buf_puts(out, "  ");
            sl_buf_puts(out, l->text);
            if (l->rule) {
                for (size_t k = w < col ? col - w + 4 : 4; k > 0; k--)
                    sl_buf_putc(out, ' ');
                sl_buf_printf(out, "(%s)", l->rule);
            }
            if (i + 1 < x.n)
                sl_buf_putc(out, '\n');
        }
        if (x.hidden)
            sl_buf_printf(out, latex ? "& \\text{(%zu more steps by the same rules)}\n" : "\n  (%zu more steps by the same rules)",
                          x.hidden);
        if (latex)
            sl_buf_puts(out, "\\end{aligned}");
    }
    for (size_t i = 0; i < x.n; i++) {
        free(x.lines[i].text);
        free(x.lines[i].rule);
    }
    free(x.lines);
    vfree(&x.res);
    sl_expr_map_free(&x.done);
    return ok;
}
