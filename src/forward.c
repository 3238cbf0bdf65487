/* forward.c -- truncated Taylor-series arithmetic over MPFR (forward.h).
 *
 * Every operation is a recurrence on coefficient arrays (Griewank &
 * Walther, "Evaluating Derivatives", 2nd ed., ch. 13): O(n^2) products for
 * n + 1 coefficients, one call of the MPFR function itself for c[0].
 *
 * Layout: kernels (k_*) work on raw arrays Co of n + 1 coefficients, the
 * output distinct from every input, at the output's precision.  The public
 * functions check domains first, pick an output (the result's own array,
 * or a scratch array when the result aliases an operand), run the kernels
 * and swap the scratch coefficients in at the end.
 *
 * Scratch memory: mpfr_init2 is a malloc, so temporaries come from a small
 * per-thread pool of coefficient arrays, grown to the largest order and
 * precision seen and reused (mpfr_set_prec does not reallocate when the
 * precision shrinks).  Nothing in an inner loop allocates.  Arrays above
 * POOL_KEEP_BITS are freed when the outermost call returns, and
 * sl_forward_release() frees the rest.
 *
 * Operands of a lower order than the result are read as polynomials (the
 * missing coefficients are 0); higher orders are truncated.
 */
#include "forward.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

#define RNDN MPFR_RNDN
#define POOL_KEEP_BITS (1L << 25) /* 4 MiB of mantissa per kept array */
#define POWI_MAX 32               /* |n| up to this: binary powering, exact on polynomials */

typedef mpfr_t *Co; /* coefficients 0..n */

/* ---- the scratch pool ---- */

typedef struct Buf {
    mpfr_t *c;        /* cap initialised coefficients */
    int cap;          /* how many */
    mpfr_prec_t prec; /* precision of all of them */
} Buf;

static _Thread_local struct {
    Buf *b;  /* b[0..nb) exist */
    int nb;  /* arrays made */
    int cap; /* slots allocated in b */
    int top; /* arrays in use, a stack: b[0..top) */
} pool;

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fputs("slope: out of memory\n", stderr);
        abort();
    }
    return q;
}

/* A scratch array of len coefficients at prec (values unspecified).  It
 * stays valid until the pool is unwound below it (unwind). */
static Co take(int len, mpfr_prec_t prec)
{
    if (pool.top == pool.nb) {
        if (pool.nb == pool.cap) {
            pool.cap = pool.cap ? 2 * pool.cap : 16;
            pool.b = xrealloc(pool.b, (size_t)pool.cap * sizeof *pool.b);
        }
        pool.b[pool.nb++] = (Buf){NULL, 0, 0};
    }
    Buf *b = &pool.b[pool.top++];
    if (b->prec != prec) {
        for (int i = 0; i < b->cap; i++)
            mpfr_set_prec(b->c[i], prec);
        b->prec = prec;
    }
    if (b->cap < len) {
        int cap = len < 16 ? 16 : len;
        b->c = xrealloc(b->c, (size_t)cap * sizeof *b->c); /* mpfr_t structs move freely */
        for (int i = b->cap; i < cap; i++)
            mpfr_init2(b->c[i], prec);
        b->cap = cap;
    }
    return b->c;
}

static void buf_free(Buf *b)
{
    for (int i = 0; i < b->cap; i++)
        mpfr_clear(b->c[i]);
    free(b->c);
    *b = (Buf){NULL, 0, 0};
}

/* Give back every array taken since pool.top was mark. */
static void unwind(int mark)
{
    pool.top = mark;
    if (mark == 0)
        for (int i = 0; i < pool.nb; i++)
            if ((long)pool.b[i].cap * pool.b[i].prec > POOL_KEEP_BITS)
                buf_free(&pool.b[i]);
}

void sl_forward_release(void)
{
    assert(pool.top == 0);
    for (int i = 0; i < pool.nb; i++)
        buf_free(&pool.b[i]);
    free(pool.b);
    pool.b = NULL;
    pool.nb = pool.cap = pool.top = 0;
}

/* ---- small helpers ---- */

static void zero(Co r, int lo, int hi)
{
    for (int k = lo; k <= hi; k++)
        mpfr_set_zero(r[k], 1);
}

static void copy(Co r, Co a, int n)
{
    for (int k = 0; k <= n; k++)
        mpfr_set(r[k], a[k], RNDN);
}

/* c[1..n] all zero: the series is a constant. */
static bool is_const(Co a, int n)
{
    for (int k = 1; k <= n; k++)
        if (!mpfr_zero_p(a[k]))
            return false;
    return true;
}

static bool is_nonpos(mpfr_srcptr x) { return mpfr_zero_p(x) || mpfr_sgn(x) < 0; } /* false for nan */

/* acc = sum_{j=lo}^{hi} x[j] * y[k-j], skipping terms with a zero factor
 * (structural zeros: the variable's t^2.. coefficients, a constant's); acc
 * must not be one of the coefficients read. */
static void conv(mpfr_ptr acc, mpfr_ptr tmp, Co x, Co y, int lo, int hi, int k)
{
    bool first = true;
    for (int j = lo; j <= hi; j++) {
        if (mpfr_zero_p(x[j]) || mpfr_zero_p(y[k - j]))
            continue;
        if (first) {
            mpfr_mul(acc, x[j], y[k - j], RNDN);
            first = false;
        } else {
            mpfr_mul(tmp, x[j], y[k - j], RNDN);
            mpfr_add(acc, acc, tmp, RNDN);
        }
    }
    if (first)
        mpfr_set_zero(acc, 1);
}

/* acc = sum_{j=lo}^{k-lo} x[j] * x[k-j], by symmetry: twice the pairs
 * j < k - j, plus the middle square when k is even. */
static void conv_sym(mpfr_ptr acc, mpfr_ptr tmp, Co x, int lo, int k)
{
    int half = k % 2 == 0 ? k / 2 - 1 : k / 2; /* the last j with j < k - j */
    conv(acc, tmp, x, x, lo, half, k);
    mpfr_mul_2ui(acc, acc, 1, RNDN);
    if (k % 2 == 0 && k / 2 >= lo && !mpfr_zero_p(x[k / 2])) {
        mpfr_sqr(tmp, x[k / 2], RNDN);
        mpfr_add(acc, acc, tmp, RNDN);
    }
}

/* d[j] = j * a[j] for j = 1..n (d[0] = 0). */
static void scaled(Co d, Co a, int n)
{
    mpfr_set_zero(d[0], 1);
    for (int j = 1; j <= n; j++)
        mpfr_mul_ui(d[j], a[j], (unsigned long)j, RNDN);
}

/* d[k] = (k+1) a[k+1] for k = 0..n-1: the derivative series, order n-1. */
static void deriv(Co d, Co a, int n)
{
    for (int k = 0; k < n; k++)
        mpfr_mul_ui(d[k], a[k + 1], (unsigned long)k + 1, RNDN);
}

/* r[k] = sign * q[k-1] / k for k = 1..n: integration (r[0] set by caller). */
static void integrate(Co r, Co q, int n, int sign)
{
    for (int k = 1; k <= n; k++) {
        mpfr_div_ui(r[k], q[k - 1], (unsigned long)k, RNDN);
        if (sign < 0)
            mpfr_neg(r[k], r[k], RNDN);
    }
}

/* ---- kernels: r distinct from the inputs, all at precision p ---- */

static void k_mul(Co r, Co a, Co b, int n, mpfr_prec_t p)
{
    int mark = pool.top;
    Co t = take(1, p);
    for (int k = 0; k <= n; k++) {
        if (a == b)
            conv_sym(r[k], t[0], a, 0, k);
        else
            conv(r[k], t[0], a, b, 0, k, k);
    }
    unwind(mark);
}

/* r = a / b (a == NULL: 1 / b); b[0] != 0. */
static void k_div(Co r, Co a, Co b, int n, mpfr_prec_t p)
{
    int mark = pool.top;
    Co t = take(2, p);
    for (int k = 0; k <= n; k++) {
        conv(t[0], t[1], b, r, 1, k, k);
        if (a)
            mpfr_sub(t[0], a[k], t[0], RNDN);
        else if (k == 0)
            mpfr_ui_sub(t[0], 1, t[0], RNDN);
        else
            mpfr_neg(t[0], t[0], RNDN);
        mpfr_div(r[k], t[0], b[0], RNDN);
    }
    unwind(mark);
}

/* r = exp(a); r[0] given already when have0. */
static void k_exp(Co r, Co a, int n, mpfr_prec_t p, bool have0)
{
    if (!have0)
        mpfr_exp(r[0], a[0], RNDN);
    if (n == 0)
        return;
    int mark = pool.top;
    Co d = take(n + 2, p);
    mpfr_ptr t = d[n + 1];
    scaled(d, a, n);
    for (int k = 1; k <= n; k++) {
        conv(r[k], t, d, r, 1, k, k);
        mpfr_div_ui(r[k], r[k], (unsigned long)k, RNDN);
    }
    unwind(mark);
}

/* r = log(a), a[0] > 0; r[0] left alone unless want0. */
static void k_log(Co r, Co a, int n, mpfr_prec_t p, bool want0)
{
    if (want0)
        mpfr_log(r[0], a[0], RNDN);
    if (n == 0)
        return;
    int mark = pool.top;
    Co d = take(n + 3, p); /* d[j] = j r[j] */
    mpfr_ptr s = d[n + 1], t = d[n + 2];
    mpfr_set_zero(d[0], 1);
    for (int k = 1; k <= n; k++) {
        conv(s, t, d, a, 1, k - 1, k);
        mpfr_mul_ui(t, a[k], (unsigned long)k, RNDN);
        mpfr_sub(t, t, s, RNDN);
        mpfr_div(d[k], t, a[0], RNDN);
        mpfr_div_ui(r[k], d[k], (unsigned long)k, RNDN);
    }
    unwind(mark);
}

/* r = sqrt(a), a[0] > 0 (or n == 0). */
static void k_sqrt(Co r, Co a, int n, mpfr_prec_t p)
{
    mpfr_sqrt(r[0], a[0], RNDN);
    if (n == 0)
        return;
    int mark = pool.top;
    Co t = take(3, p);
    mpfr_mul_2ui(t[2], r[0], 1, RNDN);
    for (int k = 1; k <= n; k++) {
        conv_sym(t[0], t[1], r, 1, k);
        mpfr_sub(t[0], a[k], t[0], RNDN);
        mpfr_div(r[k], t[0], t[2], RNDN);
    }
    unwind(mark);
}

/* r = a^b for a constant b, a[0] != 0, r[0] given:
 *   k a0 r_k = sum_{j=1}^{k} ((b+1) j - k) a_j r_{k-j}.
 * With bp1 == NULL, b = P/Q - 1 is rational: the factor is (P j - Q k)/Q,
 * integers (the caller makes sure they fit); otherwise bp1 = b + 1. */
static void k_powc(Co r, Co a, int n, mpfr_prec_t p, long P, long Q, mpfr_srcptr bp1)
{
    if (n == 0)
        return;
    int mark = pool.top;
    Co t = take(3, p);
    for (int k = 1; k <= n; k++) {
        bool first = true;
        for (int j = 1; j <= k; j++) {
            if (mpfr_zero_p(a[j]) || mpfr_zero_p(r[k - j]))
                continue;
            mpfr_mul(t[1], a[j], r[k - j], RNDN);
            if (bp1) {
                mpfr_mul_ui(t[2], bp1, (unsigned long)j, RNDN);
                mpfr_sub_ui(t[2], t[2], (unsigned long)k, RNDN);
                mpfr_mul(t[1], t[1], t[2], RNDN);
            } else {
                long m = P * j - Q * k;
                if (m == 0)
                    continue;
                mpfr_mul_si(t[1], t[1], m, RNDN);
            }
            if (first)
                mpfr_swap(t[0], t[1]);
            else
                mpfr_add(t[0], t[0], t[1], RNDN);
            first = false;
        }
        if (first) {
            mpfr_set_zero(r[k], 1);
            continue;
        }
        mpfr_div(t[0], t[0], a[0], RNDN);
        mpfr_div_ui(r[k], t[0], (unsigned long)k * (unsigned long)(bp1 ? 1 : Q), RNDN);
    }
    unwind(mark);
}

/* r = a^m, m >= 1, by binary powering (exact on exactly representable
 * polynomials). */
static void k_powi(Co r, Co a, unsigned long m, int n, mpfr_prec_t p)
{
    int mark = pool.top;
    Co t = take(n + 1, p);
    int bit = 63;
    while (!((m >> bit) & 1))
        bit--;
    copy(r, a, n);
    for (bit--; bit >= 0; bit--) {
        k_mul(t, r, r, n, p);
        for (int k = 0; k <= n; k++)
            mpfr_swap(r[k], t[k]);
        if ((m >> bit) & 1) {
            k_mul(t, r, a, n, p);
            for (int k = 0; k <= n; k++)
                mpfr_swap(r[k], t[k]);
        }
    }
    unwind(mark);
}

/* s = sin(a), c = cos(a) (hyper: sinh, cosh); s, c distinct arrays. */
static void k_sincos(Co s, Co c, Co a, int n, mpfr_prec_t p, bool hyper)
{
    if (hyper)
        mpfr_sinh_cosh(s[0], c[0], a[0], RNDN);
    else
        mpfr_sin_cos(s[0], c[0], a[0], RNDN);
    if (n == 0)
        return;
    int mark = pool.top;
    Co d = take(n + 2, p);
    mpfr_ptr t = d[n + 1];
    scaled(d, a, n);
    for (int k = 1; k <= n; k++) {
        conv(s[k], t, d, c, 1, k, k);
        mpfr_div_ui(s[k], s[k], (unsigned long)k, RNDN);
        conv(c[k], t, d, s, 1, k, k);
        mpfr_div_ui(c[k], c[k], (unsigned long)k, RNDN);
        if (!hyper)
            mpfr_neg(c[k], c[k], RNDN);
    }
    unwind(mark);
}

/* r = tan(a) (hyper: tanh) by r' = w a', w = 1 + r^2 (tanh: 1 - r^2, with
 * w0 = sech^2 a0 so that no digits cancel for large |a0|). */
static void k_tan(Co r, Co a, int n, mpfr_prec_t p, bool hyper)
{
    if (hyper)
        mpfr_tanh(r[0], a[0], RNDN);
    else
        mpfr_tan(r[0], a[0], RNDN);
    if (n == 0)
        return;
    int mark = pool.top;
    Co d = take(n + 1, p), w = take(n + 1, p), t = take(1, p);
    scaled(d, a, n);
    if (hyper) {
        mpfr_sech(w[0], a[0], RNDN);
        mpfr_sqr(w[0], w[0], RNDN);
    } else {
        mpfr_sqr(w[0], r[0], RNDN);
        mpfr_add_ui(w[0], w[0], 1, RNDN);
    }
    for (int k = 1; k <= n; k++) {
        conv(r[k], t[0], d, w, 1, k, k);
        mpfr_div_ui(r[k], r[k], (unsigned long)k, RNDN);
        if (k < n) {
            conv_sym(w[k], t[0], r, 0, k);
            if (hyper)
                mpfr_neg(w[k], w[k], RNDN);
        }
    }
    unwind(mark);
}

/* r = asin / acos / atan (a), r[0] from MPFR, the rest by integrating
 * a' / sqrt(1 - a^2) (acos: its negative) or a' / (1 + a^2).  For asin and
 * acos |a0| < 1 when n >= 1. */
static void k_arc(Co r, Co a, int n, mpfr_prec_t p, SlMathFn fn)
{
    if (fn == SL_FN_ASIN)
        mpfr_asin(r[0], a[0], RNDN);
    else if (fn == SL_FN_ACOS)
        mpfr_acos(r[0], a[0], RNDN);
    else
        mpfr_atan(r[0], a[0], RNDN);
    if (n == 0)
        return;
    int m = n - 1, mark = pool.top;
    Co d = take(n, p), u = take(n, p), q = take(n, p);
    deriv(d, a, n);
    k_mul(u, a, a, m, p); /* a^2 */
    if (fn == SL_FN_ATAN) {
        mpfr_add_ui(u[0], u[0], 1, RNDN);
        k_div(q, d, u, m, p);
    } else {
        Co g = take(n, p);
        mpfr_ui_sub(g[0], 1, a[0], RNDN); /* 1 - a0^2 as (1 - a0)(1 + a0): no cancellation */
        mpfr_add_ui(u[0], a[0], 1, RNDN);
        mpfr_mul(u[0], u[0], g[0], RNDN);
        for (int k = 1; k <= m; k++)
            mpfr_neg(u[k], u[k], RNDN);
        k_sqrt(g, u, m, p);
        k_div(q, d, g, m, p);
    }
    integrate(r, q, n, fn == SL_FN_ACOS ? -1 : 1);
    unwind(mark);
}

/* r = atan2(y, x); x0, y0 not both 0 when n >= 1:
 * r' = (x y' - y x') / (x^2 + y^2). */
static void k_atan2(Co r, Co y, Co x, int n, mpfr_prec_t p)
{
    mpfr_atan2(r[0], y[0], x[0], RNDN);
    if (n == 0)
        return;
    int m = n - 1, mark = pool.top;
    Co dy = take(n, p), dx = take(n, p), u = take(n, p), v = take(n, p);
    deriv(dy, y, n);
    deriv(dx, x, n);
    k_mul(u, x, dy, m, p);
    k_mul(v, y, dx, m, p);
    for (int k = 0; k <= m; k++)
        mpfr_sub(u[k], u[k], v[k], RNDN);
    k_mul(v, x, x, m, p);
    k_mul(dx, y, y, m, p);
    for (int k = 0; k <= m; k++)
        mpfr_add(v[k], v[k], dx[k], RNDN);
    k_div(dy, u, v, m, p);
    integrate(r, dy, n, 1);
    unwind(mark);
}

/* r = sigmoid(a) = 1 / (1 + exp(-a)), or exp(a) / (1 + exp(a)) for a0 < 0,
 * so that the exponential never overflows into the quotient's digits. */
static void k_sigmoid(Co r, Co a, int n, mpfr_prec_t p)
{
    int mark = pool.top;
    bool neg = mpfr_sgn(a[0]) < 0;
    Co e = take(n + 1, p), den = take(n + 1, p);
    for (int k = 0; k <= n; k++)
        if (neg)
            mpfr_set(den[k], a[k], RNDN);
        else
            mpfr_neg(den[k], a[k], RNDN);
    k_exp(e, den, n, p, false);
    copy(den, e, n);
    mpfr_add_ui(den[0], den[0], 1, RNDN);
    k_div(r, neg ? e : NULL, den, n, p);
    unwind(mark);
}

/* ---- errors ---- */

/* A point for a message: the value rounded to a double, as Python would
 * show it ("-1.0", "0.5"). */
static void point(char *buf, size_t size, mpfr_srcptr x)
{
    mpfr_t d;
    mpfr_init2(d, 53);
    mpfr_set(d, x, RNDN);
    SlValue *v = sl_num_from_mpfr(d);
    SlBuf b;
    sl_buf_init(&b);
    sl_num_repr(&b, v);
    snprintf(buf, size, "%s", b.s);
    sl_buf_free(&b);
    sl_unref(v);
    mpfr_clear(d);
}

static bool domainf(SlError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool domainf(SlError *err, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_err(err, SL_E_MATH_DOMAIN, msg);
}

/* "math domain error: log(-1.0)" */
static bool domain_at(SlError *err, const char *name, mpfr_srcptr x)
{
    char s[64];
    point(s, sizeof s, x);
    return domainf(err, "%s(%s)", name, s);
}

/* "math domain error: sqrt is not differentiable at 0.0" */
static bool not_diff(SlError *err, const char *name, mpfr_srcptr x)
{
    char s[64];
    point(s, sizeof s, x);
    return domainf(err, "%s is not differentiable at %s", name, s);
}

/* ---- values through num, for Python's exact semantics ---- */

/* An SlValue for a coefficient: an int when integral (round's digits
 * argument), a float otherwise. */
static SlValue *num_of(mpfr_srcptr x, bool int_if_integral)
{
    if (int_if_integral && mpfr_integer_p(x)) {
        SlValue *v = sl_int_new();
        mpfr_get_z(v->u.z, x, RNDN);
        return v;
    }
    return sl_num_from_mpfr(x);
}

/* out = fn(args' c[0]) or a op b at c[0], computed by num at precision p.
 * num makes new floats at the session precision, so set it for the call. */
static bool num_c0(mpfr_ptr out, int op, SlMathFn fn, const SlTaylor *const *args, int nargs, SlError *err)
{
    SlValue *v[2] = {NULL, NULL};
    assert(nargs <= 2);
    for (int i = 0; i < nargs; i++)
        v[i] = num_of(args[i]->c[0], fn == SL_FN_ROUND && i == 1);
    mpfr_prec_t saved = sl_num_prec();
    sl_num_set_prec(mpfr_get_prec(out));
    SlValue *r = op ? sl_num_binop(op, v[0], v[1], err) : sl_num_apply(fn, v, nargs, err);
    sl_num_set_prec(saved);
    for (int i = 0; i < nargs; i++)
        sl_unref(v[i]);
    if (!r)
        return false;
    sl_num_to_mpfr(out, r);
    sl_unref(r);
    return true;
}

/* ---- series management ---- */

void sl_taylor_init(SlTaylor *t, int order, mpfr_prec_t prec)
{
    assert(order >= 0);
    t->order = order;
    t->prec = prec;
    t->c = xrealloc(NULL, (size_t)(order + 1) * sizeof *t->c);
    for (int k = 0; k <= order; k++) {
        mpfr_init2(t->c[k], prec);
        mpfr_set_zero(t->c[k], 1);
    }
}

void sl_taylor_clear(SlTaylor *t)
{
    if (!t->c)
        return;
    for (int k = 0; k <= t->order; k++)
        mpfr_clear(t->c[k]);
    free(t->c);
    t->c = NULL;
}

void sl_taylor_copy(SlTaylor *dst, const SlTaylor *src)
{
    if (dst == src)
        return;
    int n = dst->order < src->order ? dst->order : src->order;
    copy(dst->c, src->c, n);
    zero(dst->c, n + 1, dst->order);
}

void sl_taylor_set_const(SlTaylor *t, mpfr_srcptr v)
{
    mpfr_set(t->c[0], v, RNDN);
    zero(t->c, 1, t->order);
}

void sl_taylor_set_var(SlTaylor *t, mpfr_srcptr a)
{
    sl_taylor_set_const(t, a);
    if (t->order >= 1)
        mpfr_set_ui(t->c[1], 1, RNDN);
}

void sl_taylor_derivative(mpfr_ptr out, const SlTaylor *t, int k)
{
    if (k < 0 || k > t->order) {
        mpfr_set_nan(out);
        return;
    }
    if (k <= (ULONG_MAX > 0xffffffffUL ? 20 : 12)) { /* k! fits: 20! < 2^64, 12! < 2^32 */
        unsigned long f = 1;
        for (int j = 2; j <= k; j++)
            f *= (unsigned long)j;
        mpfr_mul_ui(out, t->c[k], f, RNDN);
        return;
    }
    mpz_t f;
    mpz_init(f);
    mpz_fac_ui(f, (unsigned long)k);
    mpfr_mul_z(out, t->c[k], f, RNDN);
    mpz_clear(f);
}

/* An operand's coefficients 0..n: its own array, or a zero-padded copy
 * when its order is lower. */
static Co view(const SlTaylor *a, int n)
{
    if (a->order >= n)
        return a->c;
    Co v = take(n + 1, a->prec);
    copy(v, a->c, a->order);
    zero(v, a->order + 1, n);
    return v;
}

/* Where a result is computed: r's own array unless it aliases an operand. */
static Co out_for(SlTaylor *r, const SlTaylor *const *ops, int nops)
{
    for (int i = 0; i < nops; i++)
        if (ops[i]->c == r->c)
            return take(r->order + 1, r->prec);
    return r->c;
}

/* 53-bit series live in the double range as every 53-bit float does
 * (num.h, sl_num_fit), so exp(1000) overflows as in Python. */
static void fit(Co out, int n, mpfr_prec_t p)
{
    if (p == 53)
        for (int k = 0; k <= n; k++)
            sl_num_fit(out[k], 0);
}

/* Move a result computed in out into r. */
static void finish(SlTaylor *r, Co out)
{
    if (out != r->c)
        for (int k = 0; k <= r->order; k++)
            mpfr_swap(r->c[k], out[k]);
}

/* ---- arithmetic ---- */

bool sl_taylor_neg(SlTaylor *r, const SlTaylor *a)
{
    int mark = pool.top;
    Co x = view(a, r->order);
    for (int k = 0; k <= r->order; k++)
        mpfr_neg(r->c[k], x[k], RNDN);
    fit(r->c, r->order, r->prec);
    unwind(mark);
    return true;
}

/* r = a^n into out (distinct from a). */
static bool powsi(Co out, Co a, long e, int n, mpfr_prec_t p, SlError *err)
{
    if (e == 0) {
        mpfr_set_ui(out[0], 1, RNDN); /* x**0 is 1, even 0**0 and nan**0 */
        zero(out, 1, n);
        return true;
    }
    unsigned long m = e < 0 ? 0UL - (unsigned long)e : (unsigned long)e;
    if (mpfr_zero_p(a[0])) {
        if (e < 0)
            return sl_err(err, SL_E_ZERODIV, "0.0 cannot be raised to a negative power");
        if (m > (unsigned long)n) { /* a = t*(...), so a^m = O(t^m) */
            zero(out, 0, n);
            return true;
        }
        k_powi(out, a, m, n, p);
        return true;
    }
    if (m <= POWI_MAX) {
        if (e > 0) {
            k_powi(out, a, m, n, p);
        } else {
            int mark = pool.top;
            Co t = take(n + 1, p);
            k_powi(t, a, m, n, p);
            k_div(out, NULL, t, n, p);
            unwind(mark);
        }
        return true;
    }
    mpfr_pow_si(out[0], a[0], e, RNDN);
    if (e < LONG_MAX / 4 && e > -(LONG_MAX / 4) && (e + 1 < 0 ? -(e + 1) : e + 1) <= LONG_MAX / 4 / (n + 1)) {
        k_powc(out, a, n, p, e + 1, 1, NULL);
    } else {
        mpfr_t bp1;
        mpfr_init2(bp1, p + 64);
        mpfr_set_si(bp1, e, RNDN);
        mpfr_add_ui(bp1, bp1, 1, RNDN);
        k_powc(out, a, n, p, 0, 1, bp1);
        mpfr_clear(bp1);
    }
    return true;
}

/* Python's ** overflow: inf from a finite nonzero base. */
static bool pow_range(SlError *err, mpfr_srcptr r0, mpfr_srcptr a0)
{
    if (mpfr_inf_p(r0) && mpfr_number_p(a0) && !mpfr_zero_p(a0))
        return sl_err(err, SL_E_OVERFLOW, "(34, 'Numerical result out of range')");
    return true;
}

bool sl_taylor_pow_si(SlTaylor *r, const SlTaylor *a, long e, SlError *err)
{
    int mark = pool.top, n = r->order;
    Co x = view(a, n), out = out_for(r, &a, 1);
    bool ok = powsi(out, x, e, n, r->prec, err);
    fit(out, n, r->prec);
    ok = ok && pow_range(err, out[0], x[0]);
    if (ok)
        finish(r, out);
    unwind(mark);
    return ok;
}

/* b is a constant integer fitting a long. */
static bool const_long(Co b, int n, long *out)
{
    if (!is_const(b, n) || !mpfr_integer_p(b[0]) || !mpfr_fits_slong_p(b[0], RNDN))
        return false;
    *out = mpfr_get_si(b[0], RNDN);
    return true;
}

/* r = a ^ b for series. */
static bool power(Co out, Co a, Co b, int n, mpfr_prec_t p, SlError *err)
{
    long e;
    if (const_long(b, n, &e))
        return powsi(out, a, e, n, p, err);
    bool bconst = is_const(b, n);
    if (mpfr_nan_p(a[0]) || mpfr_nan_p(b[0]) || mpfr_inf_p(a[0])) {
        for (int k = 0; k <= n; k++)
            mpfr_set_nan(out[k]);
        if (bconst || n == 0)
            mpfr_pow(out[0], a[0], b[0], RNDN);
        return true;
    }
    if (bconst && mpfr_integer_p(b[0])) { /* a huge integer exponent */
        if (mpfr_zero_p(a[0])) {
            if (mpfr_sgn(b[0]) < 0)
                return sl_err(err, SL_E_ZERODIV, "0.0 cannot be raised to a negative power");
            zero(out, 0, n);
            return true;
        }
    } else if (is_nonpos(a[0])) {
        char sa[64], sb[64];
        point(sa, sizeof sa, a[0]);
        point(sb, sizeof sb, b[0]);
        if (n == 0 && mpfr_zero_p(a[0])) { /* a value, as Python's 0.0 ** b */
            if (mpfr_sgn(b[0]) < 0)
                return sl_err(err, SL_E_ZERODIV, "0.0 cannot be raised to a negative power");
            mpfr_set_zero(out[0], 1);
            return true;
        }
        if (mpfr_zero_p(a[0]))
            return domainf(err, "pow(%s, %s) is not differentiable: the base is 0 and the exponent "
                           "is not a constant integer", sa, sb);
        return domainf(err, "pow(%s, %s): a negative base needs a constant integer exponent", sa, sb);
    }
    mpfr_pow(out[0], a[0], b[0], RNDN);
    if (n == 0)
        return true;
    int mark = pool.top;
    if (bconst) { /* r' = b r a' / a */
        mpfr_t bp1;
        mpfr_init2(bp1, p + 64);
        mpfr_add_ui(bp1, b[0], 1, RNDN);
        k_powc(out, a, n, p, 0, 1, bp1);
        mpfr_clear(bp1);
    } else { /* exp(b log a), with r0 the correctly rounded power */
        Co la = take(n + 1, p), s = take(n + 1, p);
        if (is_const(a, n)) {
            mpfr_log(la[0], a[0], RNDN);
            for (int k = 0; k <= n; k++)
                mpfr_mul(s[k], b[k], la[0], RNDN);
        } else {
            k_log(la, a, n, p, true);
            k_mul(s, b, la, n, p);
        }
        k_exp(out, s, n, p, true);
    }
    unwind(mark);
    return true;
}

bool sl_taylor_binop(SlTaylor *r, int op, const SlTaylor *a, const SlTaylor *b, SlError *err)
{
    int mark = pool.top, n = r->order;
    mpfr_prec_t p = r->prec;
    const SlTaylor *ops[2] = {a, b};
    Co x = view(a, n), y = view(b, n);
    Co out = r->c;
    bool ok = true;
    switch (op) {
    case SL_OP_ADD:
    case SL_OP_SUB: /* elementwise: aliasing is harmless */
        for (int k = 0; k <= n; k++)
            if (op == SL_OP_ADD)
                mpfr_add(out[k], x[k], y[k], RNDN);
            else
                mpfr_sub(out[k], x[k], y[k], RNDN);
        break;
    case SL_OP_MUL:
        out = out_for(r, ops, 2);
        k_mul(out, x, y, n, p);
        break;
    case SL_OP_DIV:
        if (mpfr_zero_p(y[0])) {
            ok = sl_err(err, SL_E_ZERODIV, "float division by zero");
            break;
        }
        out = out_for(r, ops, 2);
        k_div(out, x, y, n, p);
        break;
    case SL_OP_FLOORDIV: /* piecewise constant */
        out = out_for(r, ops, 2);
        ok = num_c0(out[0], op, 0, ops, 2, err);
        zero(out, 1, n);
        break;
    case SL_OP_MOD: { /* a - q b with q = a0 // b0 */
        out = out_for(r, ops, 2);
        if (!(ok = num_c0(out[0], op, 0, ops, 2, err)))
            break;
        if (n == 0)
            break;
        Co q = take(1, p);
        ok = num_c0(q[0], SL_OP_FLOORDIV, 0, ops, 2, err);
        for (int k = 1; ok && k <= n; k++) {
            mpfr_mul(out[k], y[k], q[0], RNDN);
            mpfr_sub(out[k], x[k], out[k], RNDN);
        }
        break;
    }
    case SL_OP_POW:
        out = out_for(r, ops, 2);
        ok = power(out, x, y, n, p, err);
        break;
    default: ok = sl_err(err, SL_E_INTERNAL, "sl_taylor_binop: not an arithmetic operator"); break;
    }
    fit(out, n, p);
    if (ok && op == SL_OP_POW && mpfr_number_p(y[0]))
        ok = pow_range(err, out[0], x[0]);
    if (ok)
        finish(r, out);
    unwind(mark);
    return ok;
}

/* ---- the elementary functions ---- */

static bool arg_count(SlError *err, SlMathFn fn, int nargs)
{
    const SlMathFnInfo *info = &sl_math_fns[fn];
    if (nargs >= info->min_args && (info->max_args < 0 || nargs <= info->max_args))
        return true;
    char what[64];
    if (info->max_args < 0)
        snprintf(what, sizeof what, "at least %d argument%s", info->min_args, info->min_args == 1 ? "" : "s");
    else if (info->min_args == info->max_args)
        snprintf(what, sizeof what, "%d argument%s", info->min_args, info->min_args == 1 ? "" : "s");
    else
        snprintf(what, sizeof what, "%d to %d arguments", info->min_args, info->max_args);
    return sl_err(err, SL_E_ARG_COUNT, info->name, what, nargs, nargs == 1 ? "was" : "were");
}

/* c[0] is nan where the function is defined nowhere near: Python's
 * "math domain error" (sin(inf)); inf from a finite point: overflow for
 * exp, sinh, cosh as in Python's math module, a domain error otherwise. */
static bool check_c0(SlError *err, SlMathFn fn, mpfr_srcptr x, mpfr_srcptr r0)
{
    if (mpfr_nan_p(r0) && !mpfr_nan_p(x))
        return domain_at(err, sl_math_fns[fn].name, x);
    if (mpfr_inf_p(r0) && mpfr_number_p(x)) {
        if (fn == SL_FN_EXP || fn == SL_FN_SINH || fn == SL_FN_COSH)
            return sl_err(err, SL_E_OVERFLOW, "math range error");
        return domain_at(err, sl_math_fns[fn].name, x);
    }
    return true;
}

static bool fn_log(Co out, SlMathFn fn, Co a, Co base, int n, mpfr_prec_t p, SlError *err)
{
    const char *name = sl_math_fns[fn].name;
    if (is_nonpos(a[0]) || (base && is_nonpos(base[0]))) {
        if (!base)
            return domain_at(err, name, a[0]);
        char sa[64], sb[64];
        point(sa, sizeof sa, a[0]);
        point(sb, sizeof sb, base[0]);
        return domainf(err, "%s(%s, %s)", name, sa, sb);
    }
    if (base) { /* log(a) / log(base) */
        int mark = pool.top;
        Co la = take(n + 1, p), lb = take(n + 1, p);
        k_log(la, a, n, p, true);
        k_log(lb, base, n, p, true);
        bool ok = !mpfr_zero_p(lb[0]);
        if (ok)
            k_div(out, la, lb, n, p);
        unwind(mark);
        return ok || sl_err(err, SL_E_ZERODIV, "float division by zero");
    }
    k_log(out, a, n, p, fn == SL_FN_LOG);
    if (fn == SL_FN_LOG)
        return true;
    /* log2, log10: c[0] correctly rounded, the rest divided by log 2 or log 10 */
    int mark = pool.top;
    Co l = take(1, p);
    if (fn == SL_FN_LOG2) {
        mpfr_log2(out[0], a[0], RNDN);
        mpfr_const_log2(l[0], RNDN);
    } else {
        mpfr_log10(out[0], a[0], RNDN);
        mpfr_log_ui(l[0], 10, RNDN);
    }
    for (int k = 1; k <= n; k++)
        mpfr_div(out[k], out[k], l[0], RNDN);
    unwind(mark);
    return true;
}

bool sl_taylor_fn(SlTaylor *r, SlMathFn fn, const SlTaylor *const *args, int nargs, SlError *err)
{
    if ((unsigned)fn >= SL_FN_COUNT)
        return sl_err(err, SL_E_INTERNAL, "sl_taylor_fn: bad function");
    if (!arg_count(err, fn, nargs))
        return false;
    int mark = pool.top, n = r->order;
    mpfr_prec_t p = r->prec;
    Co out = out_for(r, args, nargs);
    Co a = view(args[0], n);
    Co b = nargs > 1 ? view(args[1], n) : NULL;
    const char *name = sl_math_fns[fn].name;
    bool ok = true, smooth = true;
    switch (fn) {
    case SL_FN_SIN:
    case SL_FN_COS:
    case SL_FN_SINH:
    case SL_FN_COSH: {
        bool hyper = fn == SL_FN_SINH || fn == SL_FN_COSH;
        Co other = take(n + 1, p);
        if (fn == SL_FN_SIN || fn == SL_FN_SINH)
            k_sincos(out, other, a, n, p, hyper);
        else
            k_sincos(other, out, a, n, p, hyper);
        break;
    }
    case SL_FN_TAN:
    case SL_FN_TANH: k_tan(out, a, n, p, fn == SL_FN_TANH); break;
    case SL_FN_ASIN:
    case SL_FN_ACOS:
        if (mpfr_cmpabs_ui(a[0], 1) > 0) {
            ok = domain_at(err, name, a[0]);
            break;
        }
        if (n >= 1 && mpfr_cmpabs_ui(a[0], 1) == 0) {
            ok = not_diff(err, name, a[0]);
            break;
        }
        k_arc(out, a, n, p, fn);
        break;
    case SL_FN_ATAN: k_arc(out, a, n, p, fn); break;
    case SL_FN_ATAN2:
        if (n >= 1 && mpfr_zero_p(a[0]) && mpfr_zero_p(b[0])) {
            ok = domainf(err, "atan2 is not differentiable at (0, 0)");
            break;
        }
        k_atan2(out, a, b, n, p);
        break;
    case SL_FN_EXP: k_exp(out, a, n, p, false); break;
    case SL_FN_LOG:
    case SL_FN_LOG2:
    case SL_FN_LOG10: ok = fn_log(out, fn, a, b, n, p, err); break;
    case SL_FN_SQRT:
        if (mpfr_sgn(a[0]) < 0) {
            ok = domain_at(err, name, a[0]);
            break;
        }
        if (n >= 1 && mpfr_zero_p(a[0])) {
            ok = not_diff(err, name, a[0]);
            break;
        }
        k_sqrt(out, a, n, p);
        break;
    case SL_FN_CBRT: /* r' = r a' / (3 a): the power recurrence with b = 1/3 */
        if (n >= 1 && mpfr_zero_p(a[0])) {
            ok = not_diff(err, name, a[0]);
            break;
        }
        mpfr_cbrt(out[0], a[0], RNDN);
        k_powc(out, a, n, p, 4, 3, NULL);
        break;
    case SL_FN_SIGMOID: k_sigmoid(out, a, n, p); break;
    /* The piecewise functions: the piece is chosen by c[0]; at a kink the
     * derivative is sign(0) = 0 (abs, relu). */
    case SL_FN_ABS:
    case SL_FN_RELU:
        smooth = false;
        if (mpfr_nan_p(a[0])) {
            for (int k = 0; k <= n; k++)
                mpfr_set_nan(out[k]);
        } else if (mpfr_sgn(a[0]) > 0) {
            copy(out, a, n);
        } else if (mpfr_sgn(a[0]) < 0 && fn == SL_FN_ABS) {
            for (int k = 0; k <= n; k++)
                mpfr_neg(out[k], a[k], RNDN);
        } else { /* relu of x <= 0, abs of +-0: 0 */
            zero(out, 0, n);
        }
        break;
    case SL_FN_SIGN:
    case SL_FN_HEAVISIDE: /* piecewise constant: sign(0) = 0, heaviside(0) = 0 */
        smooth = false;
        if (mpfr_nan_p(a[0]))
            mpfr_set_nan(out[0]);
        else if (fn == SL_FN_SIGN)
            mpfr_set_si(out[0], mpfr_sgn(a[0]), RNDN);
        else
            mpfr_set_ui(out[0], mpfr_sgn(a[0]) > 0, RNDN);
        zero(out, 1, n);
        break;
    case SL_FN_FLOOR:
    case SL_FN_CEIL:
    case SL_FN_ROUND: /* piecewise constant, value as Python computes it */
        smooth = false;
        ok = num_c0(out[0], 0, fn, args, nargs, err);
        zero(out, 1, n);
        break;
    case SL_FN_MIN:
    case SL_FN_MAX: { /* follow the chosen argument; ties go to the first */
        smooth = false;
        int best = 0;
        for (int i = 1; i < nargs; i++) {
            mpfr_srcptr c = args[i]->c[0], m = args[best]->c[0];
            if (fn == SL_FN_MAX ? mpfr_greater_p(c, m) : mpfr_less_p(c, m))
                best = i;
        }
        Co v = view(args[best], n);
        if (v != out)
            copy(out, v, n);
        break;
    }
    case SL_FN_COUNT: ok = sl_err(err, SL_E_INTERNAL, "sl_taylor_fn: bad function"); break;
    }
    fit(out, n, p);
    if (ok && smooth && nargs == 1)
        ok = check_c0(err, fn, a[0], out[0]);
    if (ok)
        finish(r, out);
    unwind(mark);
    return ok;
}
