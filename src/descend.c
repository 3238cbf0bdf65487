/* descend.c -- gradient descent you can step (descend.h).
 *
 *     descend(f, x0, lr=0.1, steps=, tol=, momentum=0)
 *     d.step(n=1)   d.run(tol=1e-06, steps=10000, trace=False)
 *     d.x  d.fx  d.grad  d.history  d.losses  d.steps  d.status  d.lr ...
 *
 * The trace has one aligned row per iterate: the step number, x, f(x) and
 * f'(x) (|∇f| for several variables), every number as the language prints
 * it.  Row n shows the gradient at xₙ, the one the next step uses.
 */
#include "descend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ad.h"
#include "eval_internal.h"
#include "expr.h"
#include "num.h"

/* ---------------------------------------------------------------------------
 * Numbers
 * ------------------------------------------------------------------------- */

static bool finite_num(const SlValue *v)
{
    return v->kind != SL_FLOAT || mpfr_number_p(v->u.f);
}

static bool finite_val(const SlValue *v)
{
    if (v->kind == SL_LIST || v->kind == SL_TUPLE) {
        for (size_t i = 0; i < v->u.list.len; i++)
            if (!finite_num(v->u.list.items[i]))
                return false;
        return true;
    }
    return finite_num(v);
}

static bool zero_val(const SlValue *v)
{
    SlValue *zero = sl_int_si(0);
    bool z = true;
    if (v->kind == SL_LIST || v->kind == SL_TUPLE) {
        for (size_t i = 0; i < v->u.list.len && z; i++)
            z = sl_num_cmp(v->u.list.items[i], zero) == 0;
    } else {
        z = sl_num_cmp(v, zero) == 0;
    }
    sl_unref(zero);
    return z;
}

/* The largest |a_i - b_i| over the coordinates, and the largest |a_i|, as doubles. */
static void gap(const SlValue *a, const SlValue *b, double *d, double *size)
{
    *d = 0;
    *size = 0;
    size_t n = a->kind == SL_LIST ? a->u.list.len : 1;
    for (size_t i = 0; i < n; i++) {
        double x = sl_num_to_double(a->kind == SL_LIST ? a->u.list.items[i] : a);
        double y = sl_num_to_double(b->kind == SL_LIST ? b->u.list.items[i] : b);
        if (fabs(x - y) > *d)
            *d = fabs(x - y);
        if (fabs(x) > *size)
            *size = fabs(x);
    }
}

static bool same_val(const SlValue *a, const SlValue *b)
{
    if (a->kind == SL_LIST) {
        for (size_t i = 0; i < a->u.list.len; i++)
            if (sl_num_cmp(a->u.list.items[i], b->u.list.items[i]) != 0)
                return false;
        return true;
    }
    return sl_num_cmp(a, b) == 0;
}

/* A number argument as a plain number (primal of an AD number); NULL + error. */
static SlValue *number_arg(SlError *err, const char *fname, const char *what, SlValue *v)
{
    SlValue *p = sl_primal(v);
    if (sl_is_number(p))
        return p;
    sl_unref(p);
    sl_err(err, SL_E_ARG_TYPE, fname, what, "a number", sl_type_name(v));
    return NULL;
}

/* a op b elementwise when a (and b, unless it is a scalar) are lists. */
static SlValue *vec_op(int op, SlValue *a, SlValue *b, SlError *err)
{
    if (a->kind != SL_LIST)
        return sl_binop(op, a, b, err);
    SlValue *r = sl_list_new(a->u.list.len);
    for (size_t i = 0; i < a->u.list.len; i++) {
        SlValue *bi = b->kind == SL_LIST ? b->u.list.items[i] : b;
        SlValue *x = sl_binop(op, a->u.list.items[i], bi, err);
        if (!x) {
            sl_unref(r);
            return NULL;
        }
        sl_list_push_take(r, x);
    }
    return r;
}

/* s·a elementwise, a scalar times a number or a list. */
static SlValue *vec_scale(SlValue *s, SlValue *a, SlError *err)
{
    if (a->kind != SL_LIST)
        return sl_binop(SL_OP_MUL, s, a, err);
    SlValue *r = sl_list_new(a->u.list.len);
    for (size_t i = 0; i < a->u.list.len; i++) {
        SlValue *x = sl_binop(SL_OP_MUL, s, a->u.list.items[i], err);
        if (!x) {
            sl_unref(r);
            return NULL;
        }
        sl_list_push_take(r, x);
    }
    return r;
}

/* |g|: the gradient's Euclidean norm as a float at the session precision. */
static SlValue *norm(const SlValue *g)
{
    mpfr_prec_t prec = sl_num_prec();
    mpfr_t acc, t;
    mpfr_init2(acc, prec + 32);
    mpfr_init2(t, prec + 32);
    mpfr_set_zero(acc, 1);
    for (size_t i = 0; i < g->u.list.len; i++) {
        sl_num_to_mpfr(t, g->u.list.items[i]);
        mpfr_sqr(t, t, MPFR_RNDN);
        mpfr_add(acc, acc, t, MPFR_RNDN);
    }
    SlValue *r = sl_float_new(prec);
    int tern = mpfr_sqrt(r->u.f, acc, MPFR_RNDN);
    sl_num_fit(r->u.f, tern);
    mpfr_clear(acc);
    mpfr_clear(t);
    return r;
}

/* ---------------------------------------------------------------------------
 * Calling f and its gradient
 * ------------------------------------------------------------------------- */

static SlEngine engine(const SlSession *s)
{
    switch (s->ad_mode) {
    case 1: return SL_ENGINE_FORWARD;
    case 2: return SL_ENGINE_SYMBOLIC;
    default: return SL_ENGINE_REVERSE;
    }
}

/* f(x) for x a number or a list (spread or passed whole); a number or NULL. */
static SlValue *eval_f(SlDescent *d, SlValue *x, SlError *err)
{
    SlValue **args = x->kind == SL_LIST ? x->u.list.items : &x;
    size_t n = x->kind == SL_LIST ? x->u.list.len : 1;
    SlValue *r;
    if (d->f->kind == SL_EXPR) {
        const char *names[64];
        size_t k = sl_ad_params(d->f, names, 64);
        r = sl_expr_subs(d->f->u.expr, names, args, k < n ? k : n, err);
    } else if (d->spread || x->kind != SL_LIST) {
        SlLoc loc = {0, 0, 0, 0};
        r = sl_call_value(d->s, d->f, args, n, NULL, NULL, 0, NULL, loc, err);
    } else {
        SlLoc loc = {0, 0, 0, 0};
        r = sl_call_value(d->s, d->f, &x, 1, NULL, NULL, 0, NULL, loc, err);
    }
    if (!r)
        return NULL;
    SlValue *p = sl_primal(r);
    sl_unref(r);
    if (sl_is_number(p))
        return p;
    SlBuf b = {0};
    sl_repr(&b, x);
    sl_err(err, SL_E_TYPE, "descend needs f to return a number; %s(%s) is a %s", sl_descent_fname(d), b.s ? b.s : "",
           sl_type_name(p));
    sl_buf_free(&b);
    sl_unref(p);
    return NULL;
}

static SlValue *grad_f(SlDescent *d, SlValue *x, SlError *err)
{
    if (x->kind == SL_LIST)
        return sl_ad_grad(d->s, d->f, x, engine(d->s), err);
    return sl_ad_derivative(d->s, d->f, x, 1, engine(d->s), err);
}

/* Whether f is lower than fx anywhere at x ± h·eᵢ, h = 1e-4·max(1, |xᵢ|);
 * points where f fails do not count. */
static bool lower_nearby(SlDescent *d, SlValue *x, SlValue *fx)
{
    size_t n = x->kind == SL_LIST ? x->u.list.len : 1;
    bool lower = false;
    mpfr_t h;
    mpfr_init2(h, sl_num_prec());
    for (size_t i = 0; i < n && !lower; i++) {
        SlValue *xi = x->kind == SL_LIST ? x->u.list.items[i] : x;
        sl_num_to_mpfr(h, xi);
        mpfr_abs(h, h, MPFR_RNDN);
        if (mpfr_cmp_ui(h, 1) < 0)
            mpfr_set_ui(h, 1, MPFR_RNDN);
        mpfr_div_ui(h, h, 10000, MPFR_RNDN);
        SlValue *hv = sl_num_from_mpfr(h);
        for (int sign = 0; sign < 2 && !lower; sign++) {
            SlError e = {0};
            SlValue *xp = NULL;
            if (x->kind == SL_LIST) {
                xp = sl_list_new(n);
                for (size_t k = 0; k < n; k++) {
                    if (k != i) {
                        sl_list_push(xp, x->u.list.items[k]);
                        continue;
                    }
                    SlValue *t = sl_binop(sign ? SL_OP_SUB : SL_OP_ADD, xi, hv, &e);
                    if (!t)
                        break;
                    sl_list_push_take(xp, t);
                }
                if (xp->u.list.len != n) {
                    sl_unref(xp);
                    xp = NULL;
                }
            } else {
                xp = sl_binop(sign ? SL_OP_SUB : SL_OP_ADD, xi, hv, &e);
            }
            SlValue *fp = xp ? eval_f(d, xp, &e) : NULL;
            if (fp && sl_num_cmp(fp, fx) < 0)
                lower = true;
            sl_unref(fp);
            sl_unref(xp);
            sl_err_clear(&e);
        }
        sl_unref(hv);
    }
    mpfr_clear(h);
    return lower;
}

/* ---------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------- */

static bool unicode(void) { return sl_expr_style() != SL_STYLE_ASCII; }

/* Subscript digits in unicode (x₁₂), plain in ascii (x12). */
static void subscript(SlBuf *b, size_t n)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%zu", n);
    for (const char *p = digits; *p; p++) {
        if (unicode()) {
            static const char *const sub[] = {"₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"};
            sl_buf_puts(b, sub[*p - '0']);
        } else {
            sl_buf_putc(b, *p);
        }
    }
}

static void set_why(SlDescent *d, SlDescentStatus st, SlBuf *msg)
{
    d->status = st;
    snprintf(d->why, sizeof d->why, "%s", msg->s ? msg->s : "");
    sl_buf_free(msg);
}

static void put_num(SlBuf *b, const SlValue *v) { sl_repr(b, v); }

static const char *status_word(SlDescentStatus st)
{
    switch (st) {
    case SL_DESCENT_CONVERGED: return "converged";
    case SL_DESCENT_DIVERGING: return "diverging";
    case SL_DESCENT_STALLED: return "stalled";
    case SL_DESCENT_OSCILLATING: return "oscillating";
    default: return "running";
    }
}

/* Judge iterate n (just computed, or x0 for n = 0); sets status and why. */
static void judge(SlDescent *d, size_t n)
{
    SlValue *x = sl_descent_x(d, n), *fx = sl_descent_fx(d, n);
    SlBuf m = {0};
    sl_buf_init(&m);
    const char *what = !finite_val(x) ? "x" : !finite_num(fx) ? "f(x)" : !finite_val(d->g) ? "the gradient" : NULL;
    if (what) {
        const SlValue *bad = what[0] == 'x' ? x : what[0] == 'f' ? fx : d->g;
        SlBuf v = {0};
        sl_buf_init(&v);
        if (bad->kind == SL_LIST) {
            for (size_t i = 0; i < bad->u.list.len; i++)
                if (!finite_num(bad->u.list.items[i])) {
                    put_num(&v, bad->u.list.items[i]);
                    break;
                }
        } else {
            put_num(&v, bad);
        }
        sl_buf_printf(&m, "diverging at step %zu: %s %s %s; try a smaller lr (now ", n, what,
                      bad->kind == SL_LIST ? "has" : "is", v.s);
        sl_buf_free(&v);
        put_num(&m, d->lr);
        sl_buf_puts(&m, ")");
        d->dead = true;
        set_why(d, SL_DESCENT_DIVERGING, &m);
        return;
    }
    if (n > 0 && sl_num_cmp(fx, sl_descent_fx(d, n - 1)) > 0)
        d->rises++;
    else
        d->rises = 0;
    if (d->rises >= SL_DESCENT_RISES && sl_num_cmp(fx, sl_descent_fx(d, 0)) > 0) {
        sl_buf_printf(&m, "diverging at step %zu: f(x) grew %d steps in a row; try a smaller lr (now ", n, d->rises);
        put_num(&m, d->lr);
        sl_buf_puts(&m, ")");
        set_why(d, SL_DESCENT_DIVERGING, &m);
        return;
    }
    /* a 2-cycle: back where it was two steps ago, but not where it was
     * one step ago (x² from 6 with lr = 1 jumps 6, −6, 6, ...) */
    if (n >= 2) {
        double back, across, size;
        gap(x, sl_descent_x(d, n - 2), &back, &size);
        double tiny = 1e-12 * (size > 1 ? size : 1);
        gap(x, sl_descent_x(d, n - 1), &across, &size);
        if (back <= tiny && across > 1e6 * tiny) {
            sl_buf_printf(&m, "oscillating at step %zu: x jumps back and forth between ", n);
            put_num(&m, sl_descent_x(d, n - 1));
            sl_buf_puts(&m, " and ");
            put_num(&m, x);
            sl_buf_puts(&m, " without getting closer; try a smaller lr (now ");
            put_num(&m, d->lr);
            sl_buf_puts(&m, ")");
            set_why(d, SL_DESCENT_OSCILLATING, &m);
            return;
        }
    }
    bool flat = zero_val(d->g);
    bool fixed = n > 0 && same_val(x, sl_descent_x(d, n - 1));
    if (flat || fixed) {
        bool lower = lower_nearby(d, x, fx);
        if (flat && !lower)
            sl_buf_printf(&m, "converged at step %zu: the gradient is 0 at a minimum", n);
        else if (flat)
            sl_buf_printf(&m,
                          "stalled at step %zu: the gradient is 0 but f is lower nearby (not a minimum); "
                          "start from another point",
                          n);
        else if (!lower)
            sl_buf_printf(&m, "converged at step %zu: x no longer changes, at a minimum to the session precision",
                          n);
        else {
            sl_buf_printf(&m, "stalled at step %zu: x no longer changes (the steps are below its precision); ", n);
            sl_buf_puts(&m, "try a larger lr (now ");
            put_num(&m, d->lr);
            sl_buf_puts(&m, ")");
        }
        set_why(d, flat && !lower ? SL_DESCENT_CONVERGED : !lower ? SL_DESCENT_CONVERGED : SL_DESCENT_STALLED, &m);
        return;
    }
    sl_buf_free(&m);
    d->status = SL_DESCENT_RUNNING;
    d->why[0] = '\0';
}

/* ---------------------------------------------------------------------------
 * The engine
 * ------------------------------------------------------------------------- */

SlDescent *sl_descent_new(SlSession *s, SlValue *f, SlValue *x0, SlValue *lr, SlValue *momentum, SlValue *tol,
                          SlError *err)
{
    if (f->kind != SL_FUNC && f->kind != SL_BUILTIN && f->kind != SL_EXPR) {
        sl_err(err, SL_E_ARG_TYPE, "descend", "1 (f)", "a function", sl_type_name(f));
        return NULL;
    }
    if (f->kind == SL_BUILTIN && sl_math_fn_lookup(f->u.builtin->name) < 0) {
        sl_err(err, SL_E_TYPE, "descend needs a function of numbers; %s() is not one", f->u.builtin->name);
        return NULL;
    }
    if (f->kind == SL_FUNC && f->u.func->def && f->u.func->def->kind == SL_AST_OPTIMIZER) {
        sl_err(err, SL_E_TYPE, "descend needs a function to minimise; %s is an optimizer", f->u.func->name);
        return NULL;
    }
    const char *names[2];
    size_t np = sl_ad_params(f, names, 2);
    if (np == 0) {
        sl_err(err, SL_E_VALUE, "descend needs a function of at least one variable; this one has none");
        return NULL;
    }
    bool vector = x0->kind == SL_LIST || x0->kind == SL_TUPLE;
    size_t n = vector ? x0->u.list.len : 1;
    if (vector && n == 0) {
        sl_err(err, SL_E_VALUE, "descend: the starting point x0 is an empty list");
        return NULL;
    }
    SlValue *x = vector ? sl_list_new(n) : NULL;
    for (size_t i = 0; i < n; i++) {
        SlValue *item = vector ? x0->u.list.items[i] : x0;
        SlValue *p = sl_primal(item);
        if (!sl_is_number(p)) {
            if (vector)
                sl_err(err, SL_E_TYPE, "descend: x0 must be numbers; item %zu is a %s", i, sl_type_name(item));
            else
                sl_err(err, SL_E_ARG_TYPE, "descend", "2 (x0)", "a number or a list of numbers", sl_type_name(item));
            sl_unref(p);
            sl_unref(x);
            return NULL;
        }
        if (p->kind == SL_BOOL) { /* True is 1 */
            bool b = p->u.b;
            sl_unref(p);
            p = sl_int_si(b);
        }
        if (vector)
            sl_list_push_take(x, p);
        else
            x = p;
    }
    bool spread = true;
    if (np != n) {
        if (vector && np == 1 && f->kind == SL_FUNC) {
            spread = false; /* def rosen(v): the point is its one list argument */
        } else {
            if (vector)
                sl_err(err, SL_E_VALUE, "descend: f takes %zu variable%s but x0 has %zu number%s", np,
                       np == 1 ? "" : "s", n, n == 1 ? "" : "s");
            else
                sl_err(err, SL_E_VALUE, "descend: f takes %zu variables; give x0 as a list of %zu numbers", np, np);
            sl_unref(x);
            return NULL;
        }
    }
    SlDescent *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    d->s = s;
    d->f = sl_ref(f);
    d->nvars = n;
    d->vector = vector;
    d->spread = spread;
    d->lr = sl_ref(lr);
    d->momentum = sl_ref(momentum);
    d->tol = tol ? sl_ref(tol) : NULL;
    d->xs = sl_list_new(16);
    d->fs = sl_list_new(16);
    SlValue *fx = eval_f(d, x, err);
    SlValue *g = fx ? grad_f(d, x, err) : NULL;
    if (!g && err->set && !err->hint[0]) {
        SlBuf xb = {0};
        sl_buf_init(&xb);
        sl_repr(&xb, x);
        if (!spread)
            sl_err_hint(err, "%s takes one variable: give x0 as a number, or write f of a list (def f(v) { ... v[0] ... })",
                        sl_descent_fname(d));
        else
            sl_err_hint(err, "at the starting point x0 = %s", xb.s);
        sl_buf_free(&xb);
    }
    if (!g) {
        sl_unref(fx);
        sl_unref(x);
        sl_descent_free(d);
        return NULL;
    }
    sl_list_push_take(d->xs, x);
    sl_list_push_take(d->fs, fx);
    d->g = g;
    judge(d, 0);
    return d;
}

void sl_descent_free(SlDescent *d)
{
    if (!d)
        return;
    sl_unref(d->f);
    sl_unref(d->lr);
    sl_unref(d->momentum);
    sl_unref(d->tol);
    sl_unref(d->xs);
    sl_unref(d->fs);
    sl_unref(d->g);
    sl_unref(d->v);
    free(d);
}

size_t sl_descent_steps(const SlDescent *d) { return d->xs->u.list.len - 1; }
SlValue *sl_descent_x(const SlDescent *d, size_t n) { return d->xs->u.list.items[n]; }
SlValue *sl_descent_fx(const SlDescent *d, size_t n) { return d->fs->u.list.items[n]; }

bool sl_descent_step(SlDescent *d, bool *changed, SlError *err)
{
    *changed = false;
    size_t n = sl_descent_steps(d);
    if (d->dead)
        return sl_err(err, SL_E_VALUE, "%s; start a new descent", d->why);
    if (n >= (size_t)SL_DESCENT_MAX_STEPS)
        return sl_err(err, SL_E_LIMIT, "a descent is limited to 10000000 steps");
    SlValue *x = sl_descent_x(d, n);
    /* v = μ·v + g (heavy ball), or just g */
    SlValue *v = NULL;
    SlValue *zero = sl_int_si(0);
    bool plain = sl_num_cmp(d->momentum, zero) == 0;
    sl_unref(zero);
    if (plain) {
        v = sl_ref(d->g);
    } else if (!d->v) {
        v = sl_ref(d->g);
    } else {
        SlValue *mv = vec_scale(d->momentum, d->v, err);
        v = mv ? vec_op(SL_OP_ADD, mv, d->g, err) : NULL;
        sl_unref(mv);
    }
    SlValue *step = v ? vec_scale(d->lr, v, err) : NULL;
    SlValue *nx = step ? vec_op(SL_OP_SUB, x, step, err) : NULL;
    sl_unref(step);
    SlError e = {0};
    SlValue *fx = nx ? eval_f(d, nx, &e) : NULL;
    SlValue *g = fx ? grad_f(d, nx, &e) : NULL;
    if (!g) {
        bool overflow = nx && e.set && e.code == SL_E_OVERFLOW;
        if (overflow) { /* x² of a huge x: Python's OverflowError means the descent ran away */
            SlBuf m = {0};
            sl_buf_init(&m);
            sl_buf_printf(&m, "diverging at step %zu: f overflows at x = ", n + 1);
            put_num(&m, nx);
            sl_buf_printf(&m, " (%s); try a smaller lr (now ", e.msg);
            put_num(&m, d->lr);
            sl_buf_puts(&m, ")");
            set_why(d, SL_DESCENT_DIVERGING, &m);
            d->dead = true;
            *changed = true;
            sl_err_clear(&e);
        } else if (e.set) {
            if (!e.hint[0] && nx) { /* where the descent was when f failed */
                SlBuf xb = {0}, lb = {0};
                sl_buf_init(&xb);
                sl_buf_init(&lb);
                put_num(&xb, nx);
                put_num(&lb, d->lr);
                sl_err_hint(&e, "at step %zu of the descent, x = %s (lr=%s)", n + 1, xb.s, lb.s);
                sl_buf_free(&xb);
                sl_buf_free(&lb);
            }
            *err = e;
        }
        sl_unref(v);
        sl_unref(nx);
        sl_unref(fx);
        return overflow;
    }
    sl_list_push_take(d->xs, nx);
    sl_list_push_take(d->fs, fx);
    sl_unref(d->g);
    d->g = g;
    if (!plain) {
        sl_unref(d->v);
        d->v = v;
    } else {
        sl_unref(v);
    }
    SlDescentStatus before = d->status;
    judge(d, n + 1);
    *changed = d->status != before;
    return true;
}

/* ---------------------------------------------------------------------------
 * The trace
 * ------------------------------------------------------------------------- */

static size_t columns(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Column widths: a number takes up to digits + 7 columns ("-0.13984999999999997"
 * and two spaces at 53 bits), a list of n numbers n times that less a little. */
static int num_width(void) { return (int)sl_num_digits_for_bits(sl_num_prec()) + 7; }

static int x_width(const SlDescent *d)
{
    int w = num_width();
    return d->vector ? (int)d->nvars * (w - 4) + 4 : w;
}

static void cell(FILE *out, const char *s, int width)
{
    fputs(s, out);
    int pad = width - (int)columns(s);
    if (pad < 2)
        pad = 2;
    fprintf(out, "%*s", pad, "");
}

const char *sl_descent_fname(const SlDescent *d)
{
    if (d->f->kind == SL_FUNC)
        return d->f->u.func->name;
    if (d->f->kind == SL_BUILTIN)
        return d->f->u.builtin->name;
    return "f";
}

static void fn_name(const SlDescent *d, SlBuf *b) { sl_buf_puts(b, sl_descent_fname(d)); }

static void var_names(const SlDescent *d, SlBuf *b)
{
    const char *names[64];
    size_t k = sl_ad_params(d->f, names, 64);
    if (k > 64)
        k = 64;
    for (size_t i = 0; i < k; i++) {
        if (i)
            sl_buf_puts(b, ", ");
        sl_buf_puts(b, names[i]);
    }
}

void sl_descent_print_header(const SlDescent *d, FILE *out)
{
    int wx = x_width(d), w = num_width();
    SlBuf name = {0}, vars = {0}, b = {0};
    sl_buf_init(&name);
    sl_buf_init(&vars);
    sl_buf_init(&b);
    fn_name(d, &name);
    var_names(d, &vars);
    fputs("step  ", out);
    cell(out, vars.s, wx);
    sl_buf_printf(&b, "%s(%s)", name.s, vars.s);
    cell(out, b.s, w);
    if (d->nvars == 1 && d->spread)
        fprintf(out, "%s'(%s)\n", name.s, vars.s);
    else
        fprintf(out, unicode() ? "|∇%s|\n" : "|grad %s|\n", name.s);
    sl_buf_free(&name);
    sl_buf_free(&vars);
    sl_buf_free(&b);
}

void sl_descent_print_row(const SlDescent *d, size_t n, FILE *out)
{
    int wx = x_width(d), w = num_width();
    SlBuf b = {0};
    sl_buf_init(&b);
    fprintf(out, "%4zu  ", n);
    sl_repr(&b, sl_descent_x(d, n));
    cell(out, b.s, wx);
    b.len = 0;
    b.s[0] = '\0';
    sl_repr(&b, sl_descent_fx(d, n));
    cell(out, b.s, w);
    b.len = 0;
    b.s[0] = '\0';
    /* the gradient is kept for the last iterate only; earlier rows were
     * printed when they were the last */
    if (n == sl_descent_steps(d)) {
        if (d->g->kind == SL_LIST && !(d->nvars == 1 && d->spread)) {
            SlValue *nm = norm(d->g);
            sl_repr(&b, nm);
            sl_unref(nm);
        } else if (d->g->kind == SL_LIST) {
            sl_repr(&b, d->g->u.list.items[0]);
        } else {
            sl_repr(&b, d->g);
        }
    }
    fprintf(out, "%s\n", b.s);
    sl_buf_free(&b);
}

/* Print the header and the current row (row 0 for a new descent) the first
 * time a descent shows its trace. */
static bool start_trace(SlDescent *d, FILE *out)
{
    if (d->header_printed)
        return false;
    d->header_printed = true;
    sl_descent_print_header(d, out);
    sl_descent_print_row(d, sl_descent_steps(d), out);
    if (d->status == SL_DESCENT_RUNNING)
        return false;
    fprintf(out, "%s\n", d->why);
    return true;
}

/* |f(xₙ) − f(xₙ₋₁)| ≤ tol after step n: sets the status and message. */
static bool tol_reached(SlDescent *d, SlValue *tol, SlError *err)
{
    size_t n = sl_descent_steps(d);
    if (n == 0)
        return false;
    SlValue *diff = sl_binop(SL_OP_SUB, sl_descent_fx(d, n), sl_descent_fx(d, n - 1), err);
    if (!diff)
        return false;
    SlValue *ad = sl_num_apply(SL_FN_ABS, &diff, 1, err);
    sl_unref(diff);
    if (!ad)
        return false;
    bool done = sl_num_cmp(ad, tol) <= 0;
    double across, size;
    gap(sl_descent_x(d, n), sl_descent_x(d, n - 1), &across, &size);
    if (done && sl_num_cmp(sl_descent_fx(d, n), sl_descent_fx(d, n - 1)) >= 0 && across > 1e-6 * (size > 1 ? size : 1)) {
        /* f did not fall although x moved a long way: bouncing across a
         * valley (x² from 6 with lr = 1), not converging */
        SlBuf m = {0};
        sl_buf_init(&m);
        sl_buf_printf(&m, "oscillating at step %zu: f(x) stopped falling but x still jumps from ", n);
        put_num(&m, sl_descent_x(d, n - 1));
        sl_buf_puts(&m, " to ");
        put_num(&m, sl_descent_x(d, n));
        sl_buf_puts(&m, "; try a smaller lr (now ");
        put_num(&m, d->lr);
        sl_buf_puts(&m, ")");
        set_why(d, SL_DESCENT_OSCILLATING, &m);
        sl_unref(ad);
        return true;
    }
    if (done) {
        SlBuf m = {0};
        sl_buf_init(&m);
        sl_buf_printf(&m, "converged at step %zu: |f(x", n);
        subscript(&m, n);
        sl_buf_puts(&m, unicode() ? ") − f(x" : ") - f(x");
        subscript(&m, n - 1);
        sl_buf_puts(&m, ")| = ");
        put_num(&m, ad);
        sl_buf_puts(&m, unicode() ? " ≤ " : " <= ");
        put_num(&m, tol);
        set_why(d, SL_DESCENT_CONVERGED, &m);
    }
    sl_unref(ad);
    return done;
}

/* Up to `steps` steps, printing rows when `trace`; stops at a change of
 * status (printed) or when tol (may be NULL) is reached.  Returns false +
 * error on failure or interruption; *stopped tells whether it stopped early. */
static bool run_steps(SlDescent *d, long steps, SlValue *tol, bool trace, bool *stopped, SlError *err)
{
    FILE *out = d->s->out;
    *stopped = false;
    bool said = trace && start_trace(d, out);
    if (zero_val(d->g) && !d->dead) { /* nothing moves at a zero gradient */
        if (!said)
            fprintf(out, "%s\n", d->why);
        *stopped = true;
        return true;
    }
    if (said && d->status == SL_DESCENT_DIVERGING)
        return *stopped = true;
    for (long k = 0; k < steps; k++) {
        if (sl_interrupted) {
            sl_interrupted = 0;
            return sl_err(err, SL_E_INTERRUPTED);
        }
        bool changed;
        if (!sl_descent_step(d, &changed, err))
            return false;
        if (trace)
            sl_descent_print_row(d, sl_descent_steps(d), out);
        if (changed && d->status != SL_DESCENT_RUNNING) {
            fprintf(out, "%s\n", d->why);
            *stopped = true;
            return true;
        }
        if (tol) {
            SlError e = {0};
            if (tol_reached(d, tol, &e)) {
                fprintf(out, "%s\n", d->why);
                *stopped = true;
                return true;
            }
            if (e.set) {
                *err = e;
                return false;
            }
        }
    }
    return true;
}

/* ---------------------------------------------------------------------------
 * The language value
 * ------------------------------------------------------------------------- */

static const SlObjType descent_type;

static void descent_free(void *data) { sl_descent_free(data); }

static void descent_repr(const SlValue *v, FILE *out)
{
    const SlDescent *d = v->u.obj.data;
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_buf_puts(&b, "<descent of ");
    if (d->f->kind == SL_EXPR)
        sl_repr(&b, d->f);
    else
        fn_name(d, &b);
    sl_buf_puts(&b, " from ");
    sl_repr(&b, sl_descent_x(d, 0));
    sl_buf_puts(&b, ", lr=");
    sl_repr(&b, d->lr);
    SlValue *zero = sl_int_si(0);
    if (sl_num_cmp(d->momentum, zero) != 0) {
        sl_buf_puts(&b, ", momentum=");
        sl_repr(&b, d->momentum);
    }
    sl_unref(zero);
    size_t n = sl_descent_steps(d);
    sl_buf_printf(&b, ": %zu step%s, x = ", n, n == 1 ? "" : "s");
    sl_repr(&b, sl_descent_x(d, n));
    sl_buf_puts(&b, ", f(x) = ");
    sl_repr(&b, sl_descent_fx(d, n));
    if (d->status != SL_DESCENT_RUNNING)
        sl_buf_printf(&b, ", %s", status_word(d->status));
    sl_buf_puts(&b, ">");
    fputs(b.s, out);
    sl_buf_free(&b);
}

static SlValue *copy_list(SlValue *l)
{
    SlValue *r = sl_list_new(l->u.list.len);
    for (size_t i = 0; i < l->u.list.len; i++) {
        SlValue *it = l->u.list.items[i];
        if (it->kind == SL_LIST) /* a fresh list per iterate: the history stays ours */
            sl_list_push_take(r, copy_list(it));
        else
            sl_list_push(r, it);
    }
    return r;
}

static SlValue *copy_val(SlValue *v) { return v->kind == SL_LIST ? copy_list(v) : sl_ref(v); }

static SlValue *descent_getattr(SlValue *self, const char *name, SlError *err)
{
    SlDescent *d = self->u.obj.data;
    size_t n = sl_descent_steps(d);
    if (strcmp(name, "x") == 0)
        return copy_val(sl_descent_x(d, n));
    if (strcmp(name, "fx") == 0 || strcmp(name, "loss") == 0)
        return sl_ref(sl_descent_fx(d, n));
    if (strcmp(name, "grad") == 0)
        return copy_val(d->g);
    if (strcmp(name, "history") == 0)
        return copy_list(d->xs);
    if (strcmp(name, "losses") == 0)
        return copy_list(d->fs);
    if (strcmp(name, "steps") == 0)
        return sl_int_si((long)n);
    if (strcmp(name, "lr") == 0)
        return sl_ref(d->lr);
    if (strcmp(name, "momentum") == 0)
        return sl_ref(d->momentum);
    if (strcmp(name, "tol") == 0)
        return d->tol ? sl_ref(d->tol) : SL_NONE_V;
    if (strcmp(name, "f") == 0)
        return sl_ref(d->f);
    if (strcmp(name, "status") == 0)
        return sl_str_cstr(status_word(d->status));
    (void)err;
    return NULL;
}

static bool check_lr(SlError *err, const char *fname, const char *what, SlValue *v, bool positive)
{
    SlValue *zero = sl_int_si(0);
    int c = sl_num_cmp(v, zero);
    sl_unref(zero);
    if (c == 2 || !finite_num(v) || (positive ? c <= 0 : c < 0)) {
        SlBuf b = {0};
        sl_repr(&b, v);
        sl_err(err, SL_E_VALUE, "%s%s must be a number %s 0, not %s", fname, what, positive ? ">" : ">=", b.s);
        sl_buf_free(&b);
        return false;
    }
    return true;
}

static bool descent_setattr(SlValue *self, const char *name, SlValue *v, SlError *err)
{
    SlDescent *d = self->u.obj.data;
    SlValue **slot = strcmp(name, "lr") == 0         ? &d->lr
                     : strcmp(name, "momentum") == 0 ? &d->momentum
                     : strcmp(name, "tol") == 0      ? &d->tol
                                                     : NULL;
    if (!slot)
        return sl_err(err, SL_E_VALUE, "descent.%s cannot be set (lr, momentum and tol can)", name);
    if (slot == &d->tol && v->kind == SL_NONE) {
        sl_unref(d->tol);
        d->tol = NULL;
        return true;
    }
    SlValue *p = sl_primal(v);
    if (!sl_is_number(p)) {
        sl_unref(p);
        return sl_err(err, SL_E_TYPE, "descent.%s must be a number, not %s", name, sl_type_name(v));
    }
    if (!check_lr(err, "descent.", name, p, slot == &d->lr)) {
        sl_unref(p);
        return false;
    }
    sl_unref(*slot);
    *slot = p;
    if (!d->dead && d->status != SL_DESCENT_RUNNING && !zero_val(d->g)) {
        d->status = SL_DESCENT_RUNNING; /* a new lr: judge afresh */
        d->why[0] = '\0';
    }
    d->rises = 0;
    return true;
}

static bool get_count(SlCall *c, const char *fname, const char *what, SlValue *v, long *out)
{
    if (v->kind != SL_INT && v->kind != SL_BOOL)
        return sl_err(c->err, SL_E_ARG_TYPE, fname, what, "an int", sl_type_name(v));
    if (!sl_num_to_long(v, out) || *out > SL_DESCENT_MAX_STEPS)
        return sl_err(c->err, SL_E_LIMIT, "a descent is limited to 10000000 steps");
    if (*out < 0)
        return sl_err(c->err, SL_E_VALUE, "%s: %s must be >= 0, not %ld", fname, what, *out);
    return true;
}

/* d.step(n=1) */
static SlValue *m_step(SlCall *c)
{
    static const char *const kw[] = {"n", NULL};
    if (!sl_call_keywords(c, "step", kw) || !sl_call_arity(c, "step", 0, 1))
        return NULL;
    SlDescent *d = c->self->u.obj.data;
    SlValue *nv = c->nargs ? c->args[0] : sl_call_kwarg(c, "n");
    long n = 1;
    if (nv && !get_count(c, "step", "n", nv, &n))
        return NULL;
    bool stopped;
    if (!run_steps(d, n, d->tol, true, &stopped, c->err))
        return NULL;
    return SL_NONE_V;
}

/* d.run(tol=1e-06, steps=10000, trace=False) */
static SlValue *m_run(SlCall *c)
{
    static const char *const kw[] = {"tol", "steps", "trace", NULL};
    if (!sl_call_keywords(c, "run", kw) || !sl_call_arity(c, "run", 0, 0))
        return NULL;
    SlDescent *d = c->self->u.obj.data;
    SlValue *tv = sl_call_kwarg(c, "tol"), *sv = sl_call_kwarg(c, "steps"), *trv = sl_call_kwarg(c, "trace");
    SlValue *tol = NULL;
    if (tv && tv->kind != SL_NONE) {
        tol = number_arg(c->err, "run", "tol", tv);
        if (!tol || !check_lr(c->err, "run: ", "tol", tol, false)) {
            sl_unref(tol);
            return NULL;
        }
    } else if (d->tol) {
        tol = sl_ref(d->tol);
    } else {
        tol = sl_float_d(1e-6);
    }
    long limit = 10000;
    if (sv && !get_count(c, "run", "steps", sv, &limit)) {
        sl_unref(tol);
        return NULL;
    }
    bool trace = false;
    if (trv) {
        bool ok = true;
        trace = sl_truthy(trv, &ok);
        if (!ok) {
            sl_unref(tol);
            return sl_err(c->err, SL_E_ARG_TYPE, "run", "trace", "True or False", sl_type_name(trv)), NULL;
        }
    }
    FILE *out = d->s->out;
    bool stopped = false;
    bool ok = true;
    if (d->status != SL_DESCENT_RUNNING && d->status != SL_DESCENT_CONVERGED) {
        fprintf(out, "%s\n", d->why); /* diverging or stalled already: say so, do not go on */
        stopped = true;
    }
    if (ok && !stopped)
        ok = run_steps(d, limit, tol, trace, &stopped, c->err);
    if (ok && !stopped) {
        size_t n = sl_descent_steps(d);
        SlBuf m = {0};
        sl_buf_init(&m);
        sl_buf_printf(&m, "stopped at the step limit (%ld) at step %zu: |f(x", limit, n);
        subscript(&m, n);
        sl_buf_puts(&m, unicode() ? ") − f(x" : ") - f(x");
        subscript(&m, n ? n - 1 : 0);
        sl_buf_puts(&m, ")| is still above ");
        put_num(&m, tol);
        fprintf(out, "%s\n", m.s);
        sl_buf_free(&m);
    }
    sl_unref(tol);
    if (!ok)
        return NULL;
    return copy_val(sl_descent_x(d, sl_descent_steps(d)));
}

static const SlBuiltin descent_methods[] = {
    {"step", m_step, "d.step(n=1)",
     "Take n steps of gradient descent, printing one row per step (the first time, with a header and the "
     "starting point); stops early, saying why, when the descent converges, stalls, oscillates or diverges."},
    {"run", m_run, "d.run(tol=1e-06, steps=10000, trace=False)",
     "Step until |f(xₙ₊₁) − f(xₙ)| ≤ tol, or until it converges, stalls, oscillates or diverges, or after `steps` "
     "steps; says which, and returns the last x. trace=True prints every row."},
};

static const SlBuiltin *descent_method(const SlValue *self, const char *name)
{
    (void)self;
    for (size_t i = 0; i < sizeof descent_methods / sizeof descent_methods[0]; i++)
        if (strcmp(descent_methods[i].name, name) == 0)
            return &descent_methods[i];
    return NULL;
}

static const SlObjType descent_type = {
    .name = "descent",
    .free = descent_free,
    .repr = descent_repr,
    .getattr = descent_getattr,
    .setattr = descent_setattr,
    .method = descent_method,
};

SlValue *sl_descent_value(SlDescent *d) { return sl_object_new(&descent_type, d); }

SlDescent *sl_descent_of(const SlValue *v)
{
    return v->kind == SL_OBJECT && v->u.obj.type == &descent_type ? v->u.obj.data : NULL;
}

/* ---------------------------------------------------------------------------
 * descend(f, x0, lr=0.1, steps=, tol=, momentum=0)
 * ------------------------------------------------------------------------- */

static SlValue *b_descend(SlCall *c)
{
    static const char *const kw[] = {"lr", "steps", "tol", "momentum", NULL};
    if (!sl_call_keywords(c, "descend", kw) || !sl_call_arity(c, "descend", 2, 2))
        return NULL;
    SlValue *lv = sl_call_kwarg(c, "lr"), *sv = sl_call_kwarg(c, "steps"), *tv = sl_call_kwarg(c, "tol"),
            *mv = sl_call_kwarg(c, "momentum");
    SlValue *lr = NULL, *mom = NULL, *tol = NULL;
    bool ok = true;
    lr = lv ? number_arg(c->err, "descend", "lr", lv) : sl_float_d(0.1);
    ok = lr && check_lr(c->err, "descend: ", "lr", lr, true);
    if (ok) {
        mom = mv ? number_arg(c->err, "descend", "momentum", mv) : sl_int_si(0);
        ok = mom && check_lr(c->err, "descend: ", "momentum", mom, false);
    }
    if (ok && tv && tv->kind != SL_NONE) {
        tol = number_arg(c->err, "descend", "tol", tv);
        ok = tol && check_lr(c->err, "descend: ", "tol", tol, false);
    }
    long steps = -1;
    if (ok && sv && sv->kind != SL_NONE)
        ok = get_count(c, "descend", "steps", sv, &steps);
    SlDescent *d = ok ? sl_descent_new(c->s, c->args[0], c->args[1], lr, mom, tol, c->err) : NULL;
    sl_unref(lr);
    sl_unref(mom);
    sl_unref(tol);
    if (!d)
        return NULL;
    SlValue *dv = sl_descent_value(d);
    if (steps >= 0) {
        bool stopped;
        if (!run_steps(d, steps, d->tol, true, &stopped, c->err)) {
            sl_unref(dv);
            return NULL;
        }
    }
    return dv;
}

static const SlBuiltin descend_builtins[] = {
    {"descend", b_descend, "descend(f, x0, lr=0.1, steps=None, tol=None, momentum=0)",
     "Gradient descent on f from x0 (a number, or a list for several variables): x -= lr·∇f(x), with "
     "heavy-ball momentum v = momentum·v + ∇f(x), x -= lr·v. With steps=N it prints a trace of N steps "
     "(step, x, f(x), f'(x) or |∇f|); without, it returns a descent to drive: d.step(), d.step(10), "
     "d.run(tol=1e-3), d.x, d.history, d.losses, plot(d). It says when the iterates diverge, oscillate or stall. "
     "Gradients come from the :ad engine."},
};

const SlBuiltin *sl_descend_builtin_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof descend_builtins / sizeof descend_builtins[0]; i++)
        if (strcmp(descend_builtins[i].name, name) == 0)
            return &descend_builtins[i];
    return NULL;
}

const SlBuiltin *sl_descend_builtin_at(size_t i)
{
    return i < sizeof descend_builtins / sizeof descend_builtins[0] ? &descend_builtins[i] : NULL;
}
