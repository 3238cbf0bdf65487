/* ad.c -- forward and reverse numbers as values, and the derivative builtins.
 *
 * See ad.h.  A forward-mode number (type "forward number") holds a Taylor
 * series; a reverse-mode number ("reverse number") holds a node of a shared
 * tape.  Both carry an `exact` flag: true while the value is an integer
 * computed from integer inputs by +, -, * and non-negative integer powers.
 */
#include "ad.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <mpfr.h>

#include "diff.h"
#include "eval_internal.h"
#include "forward.h"
#include "num.h"
#include "reverse.h"
#include "simplify.h"

/* Guard bits the engines add to the session precision. */
static mpfr_prec_t guard_prec(long order)
{
    return sl_num_prec() + 32 + 4 * (order > 0 ? order : 0);
}

/* A result at the session precision: an int when exact and integral. */
static SlValue *finish(mpfr_srcptr v, bool exact)
{
    if (exact && mpfr_integer_p(v)) {
        SlValue *r = sl_int_new();
        mpfr_get_z(r->u.z, v, MPFR_RNDN);
        return r;
    }
    SlValue *r = sl_float_new(sl_num_prec());
    sl_num_fit(r->u.f, mpfr_set(r->u.f, v, MPFR_RNDN));
    return r;
}

static bool exact_op(int op, bool ea, bool eb) { return ea && eb && (op == SL_OP_ADD || op == SL_OP_SUB || op == SL_OP_MUL); }

static bool is_intval(const SlValue *v) { return v->kind == SL_INT || v->kind == SL_BOOL; }

/* ---------------------------------------------------------------------------
 * Forward-mode numbers
 * ------------------------------------------------------------------------- */

typedef struct TNum {
    SlTaylor t;  /* the series */
    bool exact;  /* integer arithmetic so far */
} TNum;

static const SlObjType tnum_type;

static void tnum_free(void *d)
{
    TNum *n = d;
    sl_taylor_clear(&n->t);
    free(n);
}

static void tnum_repr(const SlValue *v, FILE *out)
{
    const TNum *n = v->u.obj.data;
    SlValue *c0 = sl_num_from_mpfr(n->t.c[0]);
    SlBuf b = {0};
    sl_num_repr(&b, c0);
    fprintf(out, "<forward-mode number %s + ...t (order %d)>", b.s, n->t.order);
    sl_buf_free(&b);
    sl_unref(c0);
}

static SlValue *tnum_value(int order, mpfr_prec_t prec, TNum **out)
{
    TNum *n = calloc(1, sizeof *n);
    if (!n)
        abort();
    sl_taylor_init(&n->t, order, prec);
    *out = n;
    return sl_object_new(&tnum_type, n);
}

static const TNum *as_tnum(const SlValue *v)
{
    return v->kind == SL_OBJECT && v->u.obj.type == &tnum_type ? v->u.obj.data : NULL;
}

/* The series of v at t's order and precision (t inited by the caller). */
static bool to_series(const SlValue *v, SlTaylor *t, bool *exact, SlError *err)
{
    const TNum *n = as_tnum(v);
    if (n) {
        if (n->t.order != t->order)
            return sl_err(err, SL_E_VALUE, "forward-mode numbers of different orders (%d and %d) met",
                          n->t.order, t->order);
        sl_taylor_copy(t, &n->t);
        *exact = n->exact;
        return true;
    }
    if (sl_is_number(v)) {
        mpfr_t c;
        mpfr_init2(c, t->prec);
        sl_num_to_mpfr(c, v);
        sl_taylor_set_const(t, c);
        mpfr_clear(c);
        *exact = is_intval(v);
        return true;
    }
    return sl_err(err, SL_E_TYPE, "forward-mode differentiation met a %s; it works on numbers only%s",
                  sl_type_name(v), v->kind == SL_EXPR ? " (a symbol in the function? give it a value)" : "");
}

static SlValue *tnum_binop(int op, SlValue *a, SlValue *b, SlError *err)
{
    const TNum *na = as_tnum(a), *nb = as_tnum(b), *any = na ? na : nb;
    TNum *r;
    SlValue *rv = tnum_value(any->t.order, any->t.prec, &r);
    bool ok, ea = false, eb = false;
    long n;
    if (op == SL_OP_POW && !nb && is_intval(b) && sl_num_to_long(b, &n)) {
        SlTaylor ta;
        sl_taylor_init(&ta, any->t.order, any->t.prec);
        ok = to_series(a, &ta, &ea, err) && sl_taylor_pow_si(&r->t, &ta, n, err);
        sl_taylor_clear(&ta);
        r->exact = ea && n >= 0;
    } else {
        SlTaylor ta, tb;
        sl_taylor_init(&ta, any->t.order, any->t.prec);
        sl_taylor_init(&tb, any->t.order, any->t.prec);
        ok = to_series(a, &ta, &ea, err) && to_series(b, &tb, &eb, err) && sl_taylor_binop(&r->t, op, &ta, &tb, err);
        sl_taylor_clear(&ta);
        sl_taylor_clear(&tb);
        r->exact = exact_op(op, ea, eb);
    }
    if (!ok) {
        sl_unref(rv);
        return NULL;
    }
    return rv;
}

static SlValue *tnum_unop(int op, SlValue *a, SlError *err)
{
    (void)err;
    if (op == SL_OP_POS)
        return sl_ref(a);
    const TNum *na = as_tnum(a);
    TNum *r;
    SlValue *rv = tnum_value(na->t.order, na->t.prec, &r);
    sl_taylor_neg(&r->t, &na->t);
    r->exact = na->exact;
    return rv;
}

static SlValue *tnum_math(int fn, SlValue *const *args, size_t nargs, SlError *err)
{
    const TNum *any = NULL;
    for (size_t i = 0; i < nargs && !any; i++)
        any = as_tnum(args[i]);
    SlTaylor *ts = calloc(nargs, sizeof *ts);
    const SlTaylor **tp = calloc(nargs, sizeof *tp);
    if (!ts || !tp)
        abort();
    bool ok = true, exact = true;
    size_t done = 0;
    for (; done < nargs && ok; done++) {
        bool e;
        sl_taylor_init(&ts[done], any->t.order, any->t.prec);
        ok = to_series(args[done], &ts[done], &e, err);
        exact = exact && e;
        tp[done] = &ts[done];
    }
    TNum *r;
    SlValue *rv = tnum_value(any->t.order, any->t.prec, &r);
    if (ok)
        ok = sl_taylor_fn(&r->t, (SlMathFn)fn, tp, (int)nargs, err);
    r->exact = exact && (fn == SL_FN_ABS || fn == SL_FN_MIN || fn == SL_FN_MAX || fn == SL_FN_RELU);
    for (size_t i = 0; i < done; i++)
        sl_taylor_clear(&ts[i]);
    free(ts);
    free(tp);
    if (!ok) {
        sl_unref(rv);
        return NULL;
    }
    return rv;
}

static SlValue *tnum_primal(const SlValue *v)
{
    const TNum *n = v->u.obj.data;
    return finish(n->t.c[0], n->exact);
}

static const SlObjType tnum_type = {
    .name = "forward number",
    .free = tnum_free,
    .repr = tnum_repr,
    .binop = tnum_binop,
    .unop = tnum_unop,
    .math = tnum_math,
    .primal = tnum_primal,
};

/* ---------------------------------------------------------------------------
 * Reverse-mode numbers
 * ------------------------------------------------------------------------- */

typedef struct TapeRef {
    int refs;    /* numbers on this tape */
    SlTape *t;   /* the tape */
} TapeRef;

typedef struct RNum {
    TapeRef *tape; /* shared */
    SlNode node;   /* its node */
    bool exact;    /* integer arithmetic so far */
} RNum;

static const SlObjType rnum_type;

static void tape_release(TapeRef *r)
{
    if (--r->refs == 0) {
        sl_tape_free(r->t);
        free(r);
    }
}

static void rnum_free(void *d)
{
    RNum *n = d;
    tape_release(n->tape);
    free(n);
}

static void rnum_repr(const SlValue *v, FILE *out)
{
    const RNum *n = v->u.obj.data;
    SlValue *x = sl_num_from_mpfr(sl_tape_value(n->tape->t, n->node));
    SlBuf b = {0};
    sl_num_repr(&b, x);
    fprintf(out, "<reverse-mode number %s>", b.s);
    sl_buf_free(&b);
    sl_unref(x);
}

static SlValue *rnum_value(TapeRef *tape, SlNode node, bool exact)
{
    RNum *n = calloc(1, sizeof *n);
    if (!n)
        abort();
    n->tape = tape;
    tape->refs++;
    n->node = node;
    n->exact = exact;
    return sl_object_new(&rnum_type, n);
}

static const RNum *as_rnum(const SlValue *v)
{
    return v->kind == SL_OBJECT && v->u.obj.type == &rnum_type ? v->u.obj.data : NULL;
}

static bool to_node(TapeRef *tape, const SlValue *v, SlNode *out, bool *exact, SlError *err)
{
    const RNum *n = as_rnum(v);
    if (n) {
        if (n->tape != tape)
            return sl_err(err, SL_E_VALUE, "numbers from two different gradient computations met");
        *out = n->node;
        *exact = n->exact;
        return true;
    }
    if (sl_is_number(v)) {
        mpfr_t c;
        mpfr_init2(c, sl_tape_prec(tape->t));
        sl_num_to_mpfr(c, v);
        *out = sl_tape_const(tape->t, c);
        mpfr_clear(c);
        *exact = is_intval(v);
        return true;
    }
    return sl_err(err, SL_E_TYPE, "reverse-mode differentiation met a %s; it works on numbers only%s",
                  sl_type_name(v), v->kind == SL_EXPR ? " (a symbol in the function? give it a value)" : "");
}

static SlValue *rnum_binop(int op, SlValue *a, SlValue *b, SlError *err)
{
    const RNum *na = as_rnum(a), *nb = as_rnum(b);
    TapeRef *tape = na ? na->tape : nb->tape;
    SlNode x = 0, y = 0, r = 0;
    bool ea = false, eb = false;
    if (!to_node(tape, a, &x, &ea, err) || !to_node(tape, b, &y, &eb, err))
        return NULL;
    if (!sl_tape_binop(tape->t, op, x, y, &r, err))
        return NULL;
    bool exact = exact_op(op, ea, eb);
    long n;
    if (op == SL_OP_POW && !nb && is_intval(b) && sl_num_to_long(b, &n))
        exact = ea && n >= 0;
    return rnum_value(tape, r, exact);
}

static SlValue *rnum_unop(int op, SlValue *a, SlError *err)
{
    if (op == SL_OP_POS)
        return sl_ref(a);
    const RNum *na = as_rnum(a);
    SlNode r;
    if (!sl_tape_unop(na->tape->t, op, na->node, &r, err))
        return NULL;
    return rnum_value(na->tape, r, na->exact);
}

static SlValue *rnum_math(int fn, SlValue *const *args, size_t nargs, SlError *err)
{
    TapeRef *tape = NULL;
    for (size_t i = 0; i < nargs && !tape; i++)
        if (as_rnum(args[i]))
            tape = as_rnum(args[i])->tape;
    SlNode *nodes = calloc(nargs, sizeof *nodes);
    if (!nodes)
        abort();
    bool ok = true, exact = true;
    for (size_t i = 0; i < nargs && ok; i++) {
        bool e = false;
        ok = to_node(tape, args[i], &nodes[i], &e, err);
        exact = exact && e;
    }
    SlNode r = 0;
    if (ok)
        ok = sl_tape_fn(tape->t, (SlMathFn)fn, nodes, (int)nargs, &r, err);
    free(nodes);
    if (!ok)
        return NULL;
    return rnum_value(tape, r, exact && (fn == SL_FN_ABS || fn == SL_FN_MIN || fn == SL_FN_MAX || fn == SL_FN_RELU));
}

static SlValue *rnum_primal(const SlValue *v)
{
    const RNum *n = v->u.obj.data;
    return finish(sl_tape_value(n->tape->t, n->node), n->exact);
}

static const SlObjType rnum_type = {
    .name = "reverse number",
    .free = rnum_free,
    .repr = rnum_repr,
    .binop = rnum_binop,
    .unop = rnum_unop,
    .math = rnum_math,
    .primal = rnum_primal,
};

/* ---------------------------------------------------------------------------
 * Functions, parameters, symbolic bodies
 * ------------------------------------------------------------------------- */

static bool is_callable(const SlValue *f)
{
    return f->kind == SL_FUNC || f->kind == SL_BUILTIN || f->kind == SL_METHOD;
}

size_t sl_ad_params(SlValue *f, const char **names, size_t max)
{
    if (f->kind == SL_FUNC) {
        const SlFunc *fn = f->u.func;
        if (!fn->def)
            return sl_ad_params(fn->parent, names, max);
        size_t n = 0;
        for (size_t i = 0; i < fn->def->nparams; i++) {
            if (fn->def->params[i].def) /* parameters with defaults are not variables */
                continue;
            if (n < max)
                names[n] = fn->def->params[i].name;
            n++;
        }
        return n;
    }
    if (f->kind == SL_BUILTIN) {
        int m = sl_math_fn_lookup(f->u.builtin->name);
        if (m >= 0 && sl_math_fns[m].min_args == 2) {
            if (max >= 2) {
                names[0] = "y";
                names[1] = "x";
            }
            return 2;
        }
        if (max >= 1)
            names[0] = "x";
        return 1;
    }
    if (f->kind == SL_EXPR)
        return sl_expr_free_syms(f->u.expr, names, max);
    return 0;
}

static SlValue *call(SlSession *s, SlValue *f, SlValue **args, size_t n, SlError *err);

/* Evaluate an expression with values for its symbols, through the
 * language's own operators (so AD numbers flow through it). */
static SlValue *eval_expr(SlSession *s, SlExpr *e, const char *const *names, SlValue *const *vals, size_t n,
                          SlError *err)
{
    switch (e->kind) {
    case SL_EX_RAT:
    case SL_EX_FLT: return sl_expr_number_value(e);
    case SL_EX_CONST: return e->u.cid == SL_CONST_PI ? sl_num_pi() : sl_num_e();
    case SL_EX_SYM:
        for (size_t i = 0; i < n; i++)
            if (strcmp(names[i], e->u.name) == 0)
                return sl_ref(vals[i]);
        return sl_expr_value(sl_expr_ref(e));
    case SL_EX_ADD:
    case SL_EX_MUL: {
        SlValue *acc = eval_expr(s, e->args[0], names, vals, n, err);
        for (size_t i = 1; i < e->nargs && acc; i++) {
            SlValue *x = eval_expr(s, e->args[i], names, vals, n, err);
            if (!x) {
                sl_unref(acc);
                return NULL;
            }
            SlValue *r = sl_binop(e->kind == SL_EX_ADD ? SL_OP_ADD : SL_OP_MUL, acc, x, err);
            sl_unref(acc);
            sl_unref(x);
            acc = r;
        }
        return acc;
    }
    case SL_EX_POW: {
        SlValue *a = eval_expr(s, e->args[0], names, vals, n, err);
        if (!a)
            return NULL;
        SlValue *b = eval_expr(s, e->args[1], names, vals, n, err);
        SlValue *r = b ? sl_binop(SL_OP_POW, a, b, err) : NULL;
        sl_unref(a);
        sl_unref(b);
        return r;
    }
    case SL_EX_FN: {
        SlValue **args = calloc(e->nargs, sizeof *args);
        if (!args)
            abort();
        size_t k = 0;
        bool ok = true;
        for (; k < e->nargs && ok; k++)
            ok = (args[k] = eval_expr(s, e->args[k], names, vals, n, err)) != NULL;
        SlValue *r = ok ? sl_math_value(e->u.fn, args, e->nargs, err) : NULL;
        for (size_t i = 0; i < k; i++)
            sl_unref(args[i]);
        free(args);
        return r;
    }
    }
    return sl_err(err, SL_E_INTERNAL, "bad expression node"), NULL;
}

static SlValue *call(SlSession *s, SlValue *f, SlValue **args, size_t n, SlError *err)
{
    if (f->kind == SL_EXPR) {
        const char *names[64];
        size_t k = sl_expr_free_syms(f->u.expr, names, 64);
        if (k > 64)
            return sl_err(err, SL_E_LIMIT, "an expression with more than 64 symbols; write a function instead"), NULL;
        if (k != n)
            return sl_err(err, SL_E_VALUE, "the expression has %zu free symbol%s but %zu value%s given", k,
                          k == 1 ? "" : "s", n, n == 1 ? " was" : "s were"), NULL;
        return eval_expr(s, f->u.expr, names, args, n, err);
    }
    SlLoc loc = {0, 0, 0, 0};
    return sl_call_value(s, f, args, n, NULL, NULL, 0, NULL, loc, err);
}

SlExpr *sl_ad_symbolic(SlSession *s, SlValue *f, SlError *err)
{
    if (f->kind == SL_EXPR)
        return sl_expr_ref(f->u.expr);
    if (sl_is_number(f))
        return sl_expr_from_value(f);
    if (f->kind == SL_FUNC && !f->u.func->def) {
        SlExpr *body = sl_ad_symbolic(s, f->u.func->parent, err);
        if (!body)
            return NULL;
        const char *names[1];
        sl_ad_params(f->u.func->parent, names, 1);
        SlExpr *d = sl_diff_n(body, names[0], f->u.func->order, err);
        sl_expr_unref(body);
        return d;
    }
    if (!is_callable(f))
        return sl_err(err, SL_E_TYPE, "a function or an expression is needed, not '%s'", sl_type_name(f)), NULL;
    const char *names[256];
    size_t n = sl_ad_params(f, names, 256);
    if (n > 256)
        return sl_err(err, SL_E_LIMIT, "a function of more than 256 parameters has no symbolic form here"), NULL;
    SlValue *syms[256];
    for (size_t i = 0; i < n; i++)
        syms[i] = sl_expr_value(sl_expr_sym(names[i]));
    SlValue *r = call(s, f, syms, n, err);
    for (size_t i = 0; i < n; i++)
        sl_unref(syms[i]);
    if (!r) {
        if (err->code == SL_E_SYMBOLIC_BOOL && !err->hint[0])
            sl_err_hint(err, "the function branches on its argument; the forward and reverse engines follow "
                             "branches (:ad reverse)");
        return NULL;
    }
    SlExpr *e = NULL;
    if (r->kind == SL_EXPR)
        e = sl_expr_ref(r->u.expr);
    else if (sl_is_number(r))
        e = sl_expr_from_value(r);
    else
        sl_err(err, SL_E_TYPE, "the function returned a %s, not a number or an expression", sl_type_name(r));
    sl_unref(r);
    return e;
}

/* ---------------------------------------------------------------------------
 * Numeric derivatives
 * ------------------------------------------------------------------------- */

typedef struct PrecGuard {
    mpfr_prec_t saved; /* the session precision to restore */
} PrecGuard;

static PrecGuard raise_prec(mpfr_prec_t p)
{
    PrecGuard g = {sl_num_prec()};
    sl_num_set_prec(p);
    return g;
}

static void restore_prec(PrecGuard g) { sl_num_set_prec(g.saved); }

static bool point_mpfr(const SlValue *v, mpfr_t out, SlError *err)
{
    SlValue *p = sl_primal((SlValue *)v);
    bool ok = sl_is_number(p);
    if (ok)
        sl_num_to_mpfr(out, p);
    else
        sl_err(err, SL_E_TYPE, "a point must be numbers, not '%s'", sl_type_name(p));
    sl_unref(p);
    return ok;
}

/* Number of positional arguments f takes for an n-point: spread or a list. */
static bool spread_args(SlValue *f, size_t n, bool *spread, SlError *err)
{
    const char *names[2];
    size_t np = sl_ad_params(f, names, 2);
    if (np == n) {
        *spread = true;
        return true;
    }
    if (np == 1) {
        *spread = false;
        return true;
    }
    return sl_err(err, SL_E_VALUE, "the function takes %zu variable%s but the point has %zu number%s", np,
                  np == 1 ? "" : "s", n, n == 1 ? "" : "s");
}

static SlValue *apply_point(SlSession *s, SlValue *f, SlValue **xs, size_t n, bool spread, SlError *err)
{
    if (spread)
        return call(s, f, xs, n, err);
    SlValue *list = sl_list_new(n);
    for (size_t i = 0; i < n; i++)
        sl_list_push(list, xs[i]);
    SlValue *r = call(s, f, &list, 1, err);
    sl_unref(list);
    return r;
}

static bool numeric_result(SlValue *r, SlError *err)
{
    if (sl_is_number(r) || as_tnum(r) || as_rnum(r))
        return true;
    return sl_err(err, SL_E_TYPE, "the function returned a %s; differentiation needs a number", sl_type_name(r));
}

/* Forward mode: derivative n at a, or a directional first derivative. */
static SlValue *forward_derivative(SlSession *s, SlValue *f, SlValue **point, size_t npt, size_t var, long order,
                                   bool spread, SlError *err)
{
    mpfr_prec_t prec = guard_prec(order);
    SlValue **xs = calloc(npt, sizeof *xs);
    if (!xs)
        abort();
    bool ok = true, exact_in = true;
    mpfr_t a;
    mpfr_init2(a, prec);
    for (size_t i = 0; i < npt && ok; i++) {
        ok = point_mpfr(point[i], a, err);
        exact_in = exact_in && is_intval(point[i]);
        TNum *t;
        xs[i] = tnum_value((int)order, prec, &t);
        if (i == var)
            sl_taylor_set_var(&t->t, a);
        else
            sl_taylor_set_const(&t->t, a);
        t->exact = is_intval(point[i]);
    }
    mpfr_clear(a);
    SlValue *result = NULL;
    if (ok) {
        PrecGuard g = raise_prec(prec);
        SlValue *r = apply_point(s, f, xs, npt, spread, err);
        restore_prec(g);
        if (r && numeric_result(r, err)) {
            const TNum *t = as_tnum(r);
            if (t) {
                mpfr_t d;
                mpfr_init2(d, prec);
                sl_taylor_derivative(d, &t->t, (int)order);
                result = finish(d, exact_in && t->exact);
                mpfr_clear(d);
            } else {
                result = order == 0 ? sl_ref(r) : sl_int_si(0); /* f does not depend on the point */
            }
        }
        sl_unref(r);
    }
    for (size_t i = 0; i < npt; i++)
        sl_unref(xs[i]);
    free(xs);
    return result;
}

/* A function recorded on a fresh tape at a point: the inputs' nodes and
 * the point as reverse numbers.  One recording serves any number of
 * backward sweeps (a gradient, or every row of a jacobian). */
typedef struct Recording {
    TapeRef *tape;   /* the tape (one reference) */
    SlNode *nodes;   /* the inputs' nodes */
    SlValue **xs;    /* the inputs as reverse numbers (owned) */
    size_t n;        /* inputs */
    bool exact_in;   /* every input an int */
} Recording;

static bool record_open(Recording *rec, SlValue **point, size_t npt, SlError *err)
{
    mpfr_prec_t prec = guard_prec(1);
    rec->tape = calloc(1, sizeof *rec->tape);
    rec->xs = calloc(npt + 1, sizeof *rec->xs);
    rec->nodes = calloc(npt + 1, sizeof *rec->nodes);
    if (!rec->tape || !rec->xs || !rec->nodes)
        abort();
    rec->tape->t = sl_tape_new(prec);
    sl_tape_set_message_prec(rec->tape->t, sl_num_prec());
    rec->tape->refs = 1;
    rec->n = 0;
    rec->exact_in = true;
    mpfr_t a;
    mpfr_init2(a, prec);
    bool ok = true;
    for (size_t i = 0; i < npt && ok; i++) {
        ok = point_mpfr(point[i], a, err);
        rec->exact_in = rec->exact_in && is_intval(point[i]);
        rec->nodes[i] = sl_tape_var(rec->tape->t, a);
        rec->xs[i] = rnum_value(rec->tape, rec->nodes[i], is_intval(point[i]));
        rec->n++;
    }
    mpfr_clear(a);
    return ok;
}

static void record_close(Recording *rec)
{
    for (size_t i = 0; i < rec->n; i++)
        sl_unref(rec->xs[i]);
    free(rec->xs);
    free(rec->nodes);
    tape_release(rec->tape);
}

/* Run f on the recording's inputs (at the tape's precision). */
static SlValue *record_apply(SlSession *s, SlValue *f, Recording *rec, bool spread, SlError *err)
{
    PrecGuard g = raise_prec(sl_tape_prec(rec->tape->t));
    SlValue *r = apply_point(s, f, rec->xs, rec->n, spread, err);
    restore_prec(g);
    return r;
}

/* d y / d inputs by one backward sweep: a list, or the single derivative. */
static SlValue *record_adjoints(Recording *rec, SlValue *y, bool as_list)
{
    const RNum *rn = as_rnum(y);
    bool exact = rec->exact_in && rn && rn->exact;
    if (rn)
        sl_tape_backward(rec->tape->t, rn->node);
    SlValue *result = as_list ? sl_list_new(rec->n) : NULL;
    for (size_t i = 0; i < rec->n; i++) {
        SlValue *d = rn ? finish(sl_tape_adjoint(rec->tape->t, rec->nodes[i]), exact) : sl_int_si(0);
        if (as_list)
            sl_list_push_take(result, d);
        else
            result = d;
    }
    return result;
}

/* Reverse mode: the whole gradient in one backward sweep. */
static SlValue *reverse_grad(SlSession *s, SlValue *f, SlValue **point, size_t npt, bool spread, bool as_list,
                             SlError *err)
{
    Recording rec;
    SlValue *result = NULL;
    if (record_open(&rec, point, npt, err)) {
        SlValue *r = record_apply(s, f, &rec, spread, err);
        if (r && numeric_result(r, err))
            result = record_adjoints(&rec, r, as_list);
        sl_unref(r);
    }
    record_close(&rec);
    return result;
}

/* Central difference at extra precision, one variable. */
static SlValue *finite_difference(SlSession *s, SlValue *f, SlValue **point, size_t npt, size_t var, bool spread,
                                  SlError *err)
{
    mpfr_prec_t p = sl_num_prec(), prec = 2 * p + 64;
    PrecGuard g = raise_prec(prec);
    SlValue **xs = calloc(npt, sizeof *xs);
    if (!xs)
        abort();
    for (size_t i = 0; i < npt; i++)
        xs[i] = sl_ref(point[i]);
    mpfr_t a, h, fp, fm;
    mpfr_inits2(prec, a, h, fp, fm, (mpfr_ptr)0);
    SlValue *result = NULL;
    bool ok = point_mpfr(point[var], a, err);
    if (ok) {
        /* h = 2^-(p/2 + 32) * max(1, |a|): truncation h² and rounding 2^-prec/h both far below 2^-p */
        mpfr_set_ui_2exp(h, 1, -(mpfr_exp_t)(p / 2 + 32), MPFR_RNDN);
        if (mpfr_cmpabs_ui(a, 1) > 0)
            mpfr_mul(h, h, a, MPFR_RNDN), mpfr_abs(h, h, MPFR_RNDN);
        for (int side = 0; side < 2 && ok; side++) {
            SlValue *x = sl_float_new(prec);
            if (side == 0)
                mpfr_add(x->u.f, a, h, MPFR_RNDN);
            else
                mpfr_sub(x->u.f, a, h, MPFR_RNDN);
            sl_unref(xs[var]);
            xs[var] = x;
            SlValue *r = apply_point(s, f, xs, npt, spread, err);
            SlValue *pr = r ? sl_primal(r) : NULL;
            ok = pr && sl_is_number(pr);
            if (ok)
                sl_num_to_mpfr(side == 0 ? fp : fm, pr);
            else if (pr)
                sl_err(err, SL_E_TYPE, "the function returned a %s; differentiation needs a number",
                       sl_type_name(pr));
            sl_unref(pr);
            sl_unref(r);
        }
        if (ok) {
            mpfr_sub(fp, fp, fm, MPFR_RNDN);
            mpfr_mul_2ui(h, h, 1, MPFR_RNDN);
            mpfr_div(fp, fp, h, MPFR_RNDN);
        }
    }
    restore_prec(g);
    if (ok)
        result = finish(fp, false);
    mpfr_clears(a, h, fp, fm, (mpfr_ptr)0);
    for (size_t i = 0; i < npt; i++)
        sl_unref(xs[i]);
    free(xs);
    return result;
}

/* Symbolic: differentiate, then substitute the point. */
/* A function of one list parameter, def f(v), called with the list of
 * symbols v[0], v[1], ...: its expression and those names (malloc'd). */
static SlExpr *symbolic_of_list(SlSession *s, SlValue *f, size_t n, char ***names_out, SlError *err)
{
    const char *pname[1] = {"v"};
    sl_ad_params(f, pname, 1);
    char **names = calloc(n, sizeof *names);
    SlValue *list = sl_list_new(n);
    if (!names)
        abort();
    for (size_t i = 0; i < n; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s[%zu]", pname[0], i);
        names[i] = strdup(buf);
        sl_list_push_take(list, sl_expr_value(sl_expr_sym(names[i])));
    }
    SlValue *r = call(s, f, &list, 1, err);
    sl_unref(list);
    SlExpr *e = NULL;
    if (r && r->kind == SL_EXPR)
        e = sl_expr_ref(r->u.expr);
    else if (r && sl_is_number(r))
        e = sl_expr_from_value(r);
    else if (r)
        sl_err(err, SL_E_TYPE, "the function returned a %s, not a number or an expression", sl_type_name(r));
    sl_unref(r);
    *names_out = names;
    return e;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The expression f builds and the names of its variables (names[i] goes
 * with point i); *owned is set when the names were made here. */
static SlExpr *symbolic_body(SlSession *s, SlValue *f, size_t npt, bool spread, const char ***names, char ***owned,
                             SlError *err)
{
    *owned = NULL;
    if (!spread) {
        SlExpr *body = symbolic_of_list(s, f, npt, owned, err);
        *names = (const char **)*owned;
        if (!body) {
            free_names(*owned, npt);
            *owned = NULL;
        }
        return body;
    }
    const char **buf = calloc(npt + 1, sizeof *buf);
    if (!buf)
        abort();
    size_t np = sl_ad_params(f, buf, npt + 1);
    if (np != npt) {
        free(buf);
        return sl_err(err, SL_E_VALUE, "the point has %zu numbers for %zu variables", npt, np), NULL;
    }
    SlExpr *body = sl_ad_symbolic(s, f, err);
    if (!body) {
        free(buf);
        return NULL;
    }
    *names = buf;
    return body;
}

static void release_names(const char **names, char **owned, size_t n)
{
    if (owned)
        free_names(owned, n);
    else
        free((void *)names);
}

typedef struct NameIndex {
    const char *name; /* a variable */
    size_t i;         /* its position in the point */
} NameIndex;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const NameIndex *)a)->name, ((const NameIndex *)b)->name);
}

/* Evaluate a derivative at the point, binding only the symbols it has (so
 * a partial derivative of a 1000-variable function costs what it uses),
 * with guard bits: a derivative formula can cancel, (x·cos x − sin x)/x²
 * near 0.  `index` is names sorted for lookup. */
static SlValue *symbolic_value(SlExpr *d, const NameIndex *index, size_t npt, SlValue **point, long order,
                               SlError *err)
{
    size_t cap = npt + 1;
    const char **fs = calloc(cap, sizeof *fs);
    SlValue **vals = calloc(cap, sizeof *vals);
    if (!fs || !vals)
        abort();
    size_t k = sl_expr_free_syms(d, fs, cap);
    if (k > cap)
        k = cap;
    for (size_t j = 0; j < k; j++) {
        NameIndex key = {fs[j], 0};
        const NameIndex *hit = bsearch(&key, index, npt, sizeof *index, cmp_name);
        vals[j] = hit ? point[hit->i] : NULL;
        if (!hit) {
            free(fs);
            free(vals);
            return sl_err(err, SL_E_VALUE, "the derivative has a symbol %s that the point does not give", key.name), NULL;
        }
    }
    PrecGuard g = raise_prec(guard_prec(order) + 32);
    SlValue *r = sl_expr_subs(d, fs, vals, k, err);
    restore_prec(g);
    free(fs);
    free(vals);
    if (r && r->kind == SL_FLOAT) {
        SlValue *rounded = finish(r->u.f, false);
        sl_unref(r);
        r = rounded;
    }
    if (r && r->kind == SL_EXPR) {
        SlBuf b = {0};
        sl_repr(&b, r);
        sl_err(err, SL_E_VALUE, "the derivative still has symbols after substitution: %s", b.s);
        sl_buf_free(&b);
        sl_unref(r);
        return NULL;
    }
    return r;
}

static NameIndex *make_index(const char **names, size_t n)
{
    NameIndex *index = calloc(n + 1, sizeof *index);
    if (!index)
        abort();
    for (size_t i = 0; i < n; i++)
        index[i] = (NameIndex){names[i], i};
    qsort(index, n, sizeof *index, cmp_name);
    return index;
}

/* Symbolic: differentiate, then substitute the point; every variable when
 * var is (size_t)-1 (a list), else just that one. */
static SlValue *symbolic_at(SlSession *s, SlValue *f, SlValue **point, size_t npt, size_t var, long order,
                            bool spread, SlError *err)
{
    const char **names;
    char **owned;
    SlExpr *body = symbolic_body(s, f, npt, spread, &names, &owned, err);
    if (!body)
        return NULL;
    NameIndex *index = make_index(names, npt);
    bool all = var == (size_t)-1;
    SlValue *result = all ? sl_list_new(npt) : NULL;
    for (size_t i = all ? 0 : var; i < (all ? npt : var + 1); i++) {
        SlExpr *d = sl_diff_n(body, names[i], order, err);
        SlValue *v = d ? symbolic_value(d, index, npt, point, order, err) : NULL;
        if (d)
            sl_expr_unref(d);
        if (!v || sl_interrupted) {
            if (v)
                sl_unref(v);
            sl_unref(result);
            result = NULL;
            if (sl_interrupted) {
                sl_interrupted = 0;
                sl_err(err, SL_E_INTERRUPTED);
            }
            break;
        }
        if (all)
            sl_list_push_take(result, v);
        else
            result = v;
    }
    free(index);
    release_names(names, owned, npt);
    sl_expr_unref(body);
    return result;
}

static SlEngine session_engine(SlSession *s)
{
    switch (s->ad_mode) {
    case 1: return SL_ENGINE_FORWARD;
    case 2: return SL_ENGINE_SYMBOLIC;
    default: return SL_ENGINE_REVERSE;
    }
}

SlValue *sl_ad_derivative(SlSession *s, SlValue *f, SlValue *at, long n, SlEngine eng, SlError *err)
{
    if (n < 0)
        return sl_err(err, SL_E_VALUE, "the order of a derivative must be >= 0, not %ld", n), NULL;
    if (n > 100000)
        return sl_err(err, SL_E_LIMIT, "derivatives above order 100000 are not supported"), NULL;
    const char *names[2];
    size_t np = sl_ad_params(f, names, 2);
    if (np > 1)
        return sl_err(err, SL_E_VALUE, "a function of one variable is needed; this one has %zu (use grad)", np), NULL;
    SlValue *pt[1] = {at};
    if (np == 0) /* a constant expression */
        return n == 0 ? sl_ref(f) : sl_int_si(0);
    if (n != 1 && eng == SL_ENGINE_REVERSE)
        eng = SL_ENGINE_FORWARD; /* higher orders come from the Taylor engine */
    if (n != 1 && eng == SL_ENGINE_FINITE)
        return sl_err(err, SL_E_VALUE, "finite differences give first derivatives only"), NULL;
    switch (eng) {
    case SL_ENGINE_FORWARD: return forward_derivative(s, f, pt, 1, 0, n, true, err);
    case SL_ENGINE_REVERSE: return reverse_grad(s, f, pt, 1, true, false, err);
    case SL_ENGINE_SYMBOLIC: return symbolic_at(s, f, pt, 1, 0, n, true, err);
    case SL_ENGINE_FINITE: return finite_difference(s, f, pt, 1, 0, true, err);
    }
    return NULL;
}

static bool point_list(SlValue *point, SlValue ***items, size_t *n, SlError *err)
{
    if (point->kind == SL_LIST || point->kind == SL_TUPLE) {
        *items = point->u.list.items;
        *n = point->u.list.len;
        for (size_t i = 0; i < *n; i++) {
            SlValue *p = sl_primal((*items)[i]);
            bool ok = sl_is_number(p);
            sl_unref(p);
            if (!ok)
                return sl_err(err, SL_E_TYPE, "a point must be a list of numbers; item %zu is a %s", i,
                              sl_type_name((*items)[i]));
        }
        if (*n == 0)
            return sl_err(err, SL_E_VALUE, "the point is empty");
        return true;
    }
    return sl_err(err, SL_E_TYPE, "a point must be a list of numbers, not '%s'", sl_type_name(point));
}

SlValue *sl_ad_grad(SlSession *s, SlValue *f, SlValue *point, SlEngine eng, SlError *err)
{
    SlValue **pts;
    size_t n;
    if (!point_list(point, &pts, &n, err))
        return NULL;
    bool spread = false;
    if (!spread_args(f, n, &spread, err))
        return NULL;
    if (eng == SL_ENGINE_REVERSE)
        return reverse_grad(s, f, pts, n, spread, true, err);
    if (eng == SL_ENGINE_SYMBOLIC)
        return symbolic_at(s, f, pts, n, (size_t)-1, 1, spread, err);
    SlValue *list = sl_list_new(n);
    for (size_t i = 0; i < n; i++) {
        SlValue *d = NULL;
        if (eng == SL_ENGINE_FORWARD)
            d = forward_derivative(s, f, pts, n, i, 1, spread, err);
        else
            d = finite_difference(s, f, pts, n, i, spread, err);
        if (!d) {
            sl_unref(list);
            return NULL;
        }
        sl_list_push_take(list, d);
        if (sl_interrupted) {
            sl_unref(list);
            sl_interrupted = 0;
            return sl_err(err, SL_E_INTERRUPTED), NULL;
        }
    }
    return list;
}

/* ---------------------------------------------------------------------------
 * Derived functions: f', f''
 * ------------------------------------------------------------------------- */

SlValue *sl_ad_prime(SlSession *s, SlValue *f, const char *name, int order, SlError *err)
{
    (void)s;
    if (f->kind == SL_EXPR && f->u.expr->kind == SL_EX_SYM)
        return sl_err(err, SL_E_NAME_UNKNOWN_FN, name), NULL;
    if (!(f->kind == SL_FUNC || (f->kind == SL_BUILTIN && sl_math_fn_lookup(f->u.builtin->name) >= 0)))
        return sl_err(err, SL_E_TYPE, "%s' needs a function, but %s is a value of type '%s'", name, name, sl_type_name(f)), NULL;
    if (f->kind == SL_FUNC && f->u.func->def && f->u.func->def->kind == SL_AST_OPTIMIZER)
        return sl_err(err, SL_E_TYPE, "%s is an optimizer, not a function to differentiate", name), NULL;
    const char *names[4];
    size_t np = sl_ad_params(f, names, 4);
    if (np != 1) {
        sl_err(err, SL_E_VALUE, "%s' needs a function of one variable; %s has %zu", name, name, np);
        sl_err_hint(err, "use diff(%s(...), x) for a partial derivative, or grad(%s)", name, name);
        return NULL;
    }
    SlValue *parent = f;
    if (f->kind == SL_FUNC && !f->u.func->def) {
        order += f->u.func->order;
        parent = f->u.func->parent;
    }
    SlFunc *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    d->refs = 1;
    size_t len = strlen(parent->kind == SL_FUNC ? parent->u.func->name : parent->u.builtin->name);
    d->name = malloc(len + (size_t)order + 1);
    if (!d->name)
        abort();
    memcpy(d->name, parent->kind == SL_FUNC ? parent->u.func->name : parent->u.builtin->name, len);
    memset(d->name + len, '\'', (size_t)order);
    d->name[len + (size_t)order] = '\0';
    d->parent = sl_ref(parent);
    d->order = order;
    return sl_func_value(d);
}

SlValue *sl_ad_call_derived(SlSession *s, SlFunc *f, SlValue **args, size_t nargs, SlError *err)
{
    if (nargs != 1)
        return sl_err(err, SL_E_ARG_COUNT, f->name, "1 positional argument", (int)nargs,
                      nargs == 1 ? "was" : "were"), NULL;
    SlValue *a = args[0];
    SlValue *self = sl_func_value(sl_func_ref(f));
    SlValue *r = NULL;
    if (sl_is_number(a)) {
        SlEngine eng = session_engine(s);
        r = sl_ad_derivative(s, f->parent, a, f->order, eng, err);
    } else {
        /* a symbol, an expression or an AD number: the symbolic derivative, evaluated */
        SlExpr *d = sl_ad_symbolic(s, self, err);
        if (d) {
            const char *names[1];
            sl_ad_params(f->parent, names, 1);
            r = eval_expr(s, d, names, &a, 1, err);
            sl_expr_unref(d);
            if (r && r->kind == SL_EXPR && sl_expr_is_number(r->u.expr)) {
                SlValue *num = sl_expr_number_value(r->u.expr);
                sl_unref(r);
                r = num;
            }
        }
    }
    sl_unref(self);
    return r;
}

/* ---------------------------------------------------------------------------
 * Builtins
 * ------------------------------------------------------------------------- */

static bool want(SlCall *c, const char *name, size_t min, size_t max, const char *const *kw)
{
    return sl_call_keywords(c, name, kw) && sl_call_arity(c, name, min, max);
}

/* A variable argument: a symbol (or a string naming one). */
static const char *var_name(SlCall *c, const char *fname, SlValue *v)
{
    if (v->kind == SL_EXPR && v->u.expr->kind == SL_EX_SYM)
        return v->u.expr->u.name;
    if (v->kind == SL_STR)
        return v->u.str.s;
    SlBuf b = {0};
    sl_repr(&b, v);
    sl_err(c->err, SL_E_TYPE, "%s() needs a symbol as the variable, not %s", fname, b.s);
    if (sl_is_number(v))
        sl_err_hint(c->err, "a name with a value is not a symbol: use another name for the variable, or :reset");
    sl_buf_free(&b);
    return NULL;
}

static bool get_order(SlCall *c, const char *fname, SlValue *v, long *n)
{
    if (!is_intval(v) || !sl_num_to_long(v, n) || *n < 0)
        return sl_err(c->err, SL_E_TYPE, "%s(): the order must be a non-negative int", fname);
    return true;
}

/* A symbolic result as a value: integers and floats become numbers; an
 * exact fraction stays an expression so it prints as 1/3, not 0.333... */
static SlValue *expr_out(SlExpr *e)
{
    if (!e)
        return NULL;
    if (e->kind == SL_EX_FLT || (e->kind == SL_EX_RAT && mpz_cmp_ui(mpq_denref(e->u.q), 1) == 0)) {
        SlValue *v = sl_expr_number_value(e);
        sl_expr_unref(e);
        return v;
    }
    return sl_expr_value(e);
}

/* diff(expr, x[, n]) ; diff(expr, [x, y]) mixed ; diff(f) for a function */
static SlValue *b_diff(SlCall *c)
{
    if (!want(c, "diff", 1, 3, NULL))
        return NULL;
    SlExpr *e = sl_ad_symbolic(c->s, c->args[0], c->err);
    if (!e)
        return NULL;
    SlExpr *r = NULL;
    if (c->nargs == 1) {
        const char *names[2];
        size_t k = sl_ad_params(c->args[0], names, 2);
        if (k == 1)
            r = sl_diff(e, names[0], c->err);
        else
            sl_err(c->err, SL_E_VALUE, "diff() needs the variable: the expression has %zu free symbols", k);
    } else if (c->args[1]->kind == SL_LIST || c->args[1]->kind == SL_TUPLE) {
        if (c->nargs == 3) {
            sl_err(c->err, SL_E_TYPE, "diff(expr, [x, y]) takes no order");
        } else {
            r = sl_expr_ref(e);
            for (size_t i = 0; i < c->args[1]->u.list.len && r; i++) {
                const char *v = var_name(c, "diff", c->args[1]->u.list.items[i]);
                SlExpr *d = v ? sl_diff(r, v, c->err) : NULL;
                sl_expr_unref(r);
                r = d;
            }
        }
    } else {
        const char *v = var_name(c, "diff", c->args[1]);
        long n = 1;
        if (v && (c->nargs < 3 || get_order(c, "diff", c->args[2], &n)))
            r = sl_diff_n(e, v, n, c->err);
    }
    sl_expr_unref(e);
    return expr_out(r);
}

static SlValue *symbolic_grad(SlCall *c, SlValue *f, SlValue *vars)
{
    SlExpr *e = sl_ad_symbolic(c->s, f, c->err);
    if (!e)
        return NULL;
    const char *names[256];
    size_t n;
    if (vars) {
        if (vars->kind != SL_LIST && vars->kind != SL_TUPLE) {
            sl_expr_unref(e);
            return sl_err(c->err, SL_E_TYPE, "the variables must be a list of symbols"), NULL;
        }
        n = vars->u.list.len;
        if (n > 256) {
            sl_expr_unref(e);
            return sl_err(c->err, SL_E_LIMIT, "more than 256 variables"), NULL;
        }
        for (size_t i = 0; i < n; i++)
            if (!(names[i] = var_name(c, "grad", vars->u.list.items[i]))) {
                sl_expr_unref(e);
                return NULL;
            }
    } else {
        n = sl_ad_params(f, names, 256);
        if (n > 256) {
            sl_expr_unref(e);
            return sl_err(c->err, SL_E_LIMIT, "more than 256 variables"), NULL;
        }
    }
    SlValue *list = sl_list_new(n);
    for (size_t i = 0; i < n; i++) {
        SlExpr *d = sl_diff(e, names[i], c->err);
        if (!d) {
            sl_unref(list);
            sl_expr_unref(e);
            return NULL;
        }
        sl_list_push_take(list, expr_out(d));
    }
    sl_expr_unref(e);
    return list;
}

static bool is_numeric_point(SlValue *v)
{
    if (sl_is_number(v))
        return true;
    if (v->kind != SL_LIST && v->kind != SL_TUPLE)
        return false;
    for (size_t i = 0; i < v->u.list.len; i++)
        if (!sl_is_number(v->u.list.items[i]) && !as_tnum(v->u.list.items[i]) && !as_rnum(v->u.list.items[i]))
            return false;
    return v->u.list.len > 0;
}

/* grad(f) symbolic ; grad(f, point) numeric ; grad(expr, [x, y]) symbolic */
static SlValue *b_grad(SlCall *c)
{
    if (!want(c, "grad", 1, 2, NULL))
        return NULL;
    SlValue *f = c->args[0];
    if (c->nargs == 1)
        return symbolic_grad(c, f, NULL);
    SlValue *p = c->args[1];
    if (!is_numeric_point(p))
        return symbolic_grad(c, f, p);
    if (sl_is_number(p)) {
        SlValue *l = sl_list_new(1);
        sl_list_push(l, p);
        SlValue *r = sl_ad_grad(c->s, f, l, session_engine(c->s), c->err);
        sl_unref(l);
        return r;
    }
    return sl_ad_grad(c->s, f, p, session_engine(c->s), c->err);
}

/* derivative(f, a[, n]): forward mode, any order */
static SlValue *b_derivative(SlCall *c)
{
    if (!want(c, "derivative", 2, 3, NULL))
        return NULL;
    long n = 1;
    if (c->nargs == 3 && !get_order(c, "derivative", c->args[2], &n))
        return NULL;
    if (!sl_is_number(c->args[1]))
        return sl_err(c->err, SL_E_TYPE, "derivative(f, a, n): a must be a number, not '%s'",
                      sl_type_name(c->args[1])), NULL;
    return sl_ad_derivative(c->s, c->args[0], c->args[1], n, SL_ENGINE_FORWARD, c->err);
}

/* jacobian([f, g], [x, y]) symbolic ; jacobian(F, point) / jacobian([f, g], point) numeric */
static SlValue *b_jacobian(SlCall *c)
{
    if (!want(c, "jacobian", 1, 2, NULL))
        return NULL;
    SlValue *fs = c->args[0];
    SlValue *p = c->nargs == 2 ? c->args[1] : NULL;
    bool numeric = p && is_numeric_point(p);
    SlValue *rows = sl_list_new(0);
    if (fs->kind == SL_LIST || fs->kind == SL_TUPLE) {
        for (size_t i = 0; i < fs->u.list.len; i++) {
            SlValue *row;
            if (numeric)
                row = sl_is_number(p) ? NULL : sl_ad_grad(c->s, fs->u.list.items[i], p, session_engine(c->s), c->err);
            else
                row = symbolic_grad(c, fs->u.list.items[i], p);
            if (!row) {
                if (!c->err->set)
                    sl_err(c->err, SL_E_TYPE, "jacobian needs a list of numbers as the point");
                sl_unref(rows);
                return NULL;
            }
            sl_list_push_take(rows, row);
        }
        return rows;
    }
    sl_unref(rows);
    if (!numeric)
        return sl_err(c->err, SL_E_TYPE, "jacobian(F, point) needs a point; jacobian([f, g], [x, y]) a list of functions"),
               NULL;
    /* F returns a list: recorded once, one backward sweep per output */
    SlValue **pts;
    size_t n;
    bool spread = false;
    if (!point_list(p, &pts, &n, c->err) || !spread_args(fs, n, &spread, c->err))
        return NULL;
    Recording rec;
    rows = NULL;
    if (record_open(&rec, pts, n, c->err)) {
        SlValue *r = record_apply(c->s, fs, &rec, spread, c->err);
        if (r && r->kind != SL_LIST && r->kind != SL_TUPLE)
            sl_err(c->err, SL_E_TYPE, "jacobian(F, point): F must return a list");
        else if (r) {
            rows = sl_list_new(r->u.list.len);
            for (size_t i = 0; i < r->u.list.len; i++)
                sl_list_push_take(rows, record_adjoints(&rec, r->u.list.items[i], true));
        }
        sl_unref(r);
    }
    record_close(&rec);
    return rows;
}

/* hessian(f[, vars]) symbolic ; hessian(f, point) via the symbolic engine */
static SlValue *b_hessian(SlCall *c)
{
    if (!want(c, "hessian", 1, 2, NULL))
        return NULL;
    SlValue *f = c->args[0];
    SlValue *p = c->nargs == 2 ? c->args[1] : NULL;
    bool numeric = p && is_numeric_point(p);
    SlExpr *e = sl_ad_symbolic(c->s, f, c->err);
    if (!e)
        return NULL;
    const char *names[64];
    size_t n;
    if (p && !numeric) {
        if (p->kind != SL_LIST && p->kind != SL_TUPLE) {
            sl_expr_unref(e);
            return sl_err(c->err, SL_E_TYPE, "the variables must be a list of symbols"), NULL;
        }
        n = p->u.list.len;
        for (size_t i = 0; i < n && i < 64; i++)
            if (!(names[i] = var_name(c, "hessian", p->u.list.items[i]))) {
                sl_expr_unref(e);
                return NULL;
            }
    } else {
        n = sl_ad_params(f, names, 64);
    }
    if (n > 64) {
        sl_expr_unref(e);
        return sl_err(c->err, SL_E_LIMIT, "hessian of more than 64 variables"), NULL;
    }
    SlValue **pts = NULL;
    size_t npt = 0;
    if (numeric) {
        if (sl_is_number(p) ? (npt = 1, pts = &c->args[1], false) : !point_list(p, &pts, &npt, c->err)) {
            sl_expr_unref(e);
            return NULL;
        }
        if (npt != n) {
            sl_expr_unref(e);
            return sl_err(c->err, SL_E_VALUE, "the point has %zu numbers for %zu variables", npt, n), NULL;
        }
    }
    SlValue *rows = sl_list_new(n);
    for (size_t i = 0; i < n; i++) {
        SlExpr *di = sl_diff(e, names[i], c->err);
        SlValue *row = sl_list_new(n);
        for (size_t j = 0; j < n && di; j++) {
            SlExpr *dij = sl_diff(di, names[j], c->err);
            if (!dij)
                break;
            SlValue *v = numeric ? sl_expr_subs(dij, names, pts, n, c->err) : expr_out(sl_expr_ref(dij));
            sl_expr_unref(dij);
            if (!v)
                break;
            sl_list_push_take(row, v);
        }
        if (di)
            sl_expr_unref(di);
        if (c->err->set) {
            sl_unref(row);
            sl_unref(rows);
            sl_expr_unref(e);
            return NULL;
        }
        sl_list_push_take(rows, row);
    }
    sl_expr_unref(e);
    return rows;
}

/* taylor(expr, x, a, n) */
static SlValue *b_taylor(SlCall *c)
{
    if (!want(c, "taylor", 4, 4, NULL))
        return NULL;
    SlExpr *e = sl_ad_symbolic(c->s, c->args[0], c->err);
    if (!e)
        return NULL;
    const char *v = var_name(c, "taylor", c->args[1]);
    long n;
    SlExpr *a = NULL, *r = NULL;
    if (v && get_order(c, "taylor", c->args[3], &n)) {
        SlValue *av = c->args[2];
        a = av->kind == SL_EXPR ? sl_expr_ref(av->u.expr) : sl_expr_from_value(av);
        if (!a)
            sl_err(c->err, SL_E_TYPE, "taylor(): the point must be a number or an expression");
        else
            r = sl_taylor_poly(e, v, a, n, c->err);
    }
    if (a)
        sl_expr_unref(a);
    sl_expr_unref(e);
    return expr_out(r);
}

static SlValue *one_expr(SlCall *c, const char *name, SlExpr *(*fn)(SlExpr *))
{
    if (!want(c, name, 1, 1, NULL))
        return NULL;
    if (sl_is_number(c->args[0]))
        return sl_ref(c->args[0]);
    SlExpr *e = sl_ad_symbolic(c->s, c->args[0], c->err);
    if (!e)
        return NULL;
    SlExpr *r = fn(e);
    sl_expr_unref(e);
    return expr_out(r);
}

static SlValue *b_expand(SlCall *c) { return one_expr(c, "expand", sl_expand); }
static SlValue *b_simplify(SlCall *c) { return one_expr(c, "simplify", sl_simplify_full); }

static SlValue *b_factor(SlCall *c)
{
    if (!want(c, "factor", 1, 1, NULL))
        return NULL;
    SlExpr *e = sl_ad_symbolic(c->s, c->args[0], c->err);
    if (!e)
        return NULL;
    SlExpr *r = sl_factor(e, c->err);
    sl_expr_unref(e);
    return expr_out(r);
}

/* ---- latex(v) ----
 * The LaTeX of an expression, a number, a user function ("f{\left(x\right)}
 * = x^{2} + 1") or a list or tuple of them ("\left[x, x^{2}\right]"; a
 * list of equal-length lists is a matrix, as SymPy writes one), in the
 * conventions of sl_expr_print's latex style whatever :style is.  Returns
 * a str, as SymPy's latex() does. */

#define LATEX_DEPTH 64

static bool latex_value(SlCall *c, SlBuf *out, SlValue *v, int depth);

static void latex_type_error(SlCall *c, const SlValue *v, int depth)
{
    sl_err(c->err, SL_E_ARG_TYPE, "latex", "1", "an expression, a number, a function or a list of them",
           sl_type_name(v));
    if (v->kind == SL_STR && depth == 0)
        sl_err_hint(c->err, "a symbol of that name: latex(symbols(\"%s\"))",
                    v->u.str.len <= 40 && !strchr(v->u.str.s, '"') ? v->u.str.s : "x");
}

/* A rectangular list of lists (at least one row and one column). */
static bool latex_matrix_shape(const SlValue *v)
{
    if (v->kind != SL_LIST || v->u.list.len == 0)
        return false;
    size_t cols = 0;
    for (size_t i = 0; i < v->u.list.len; i++) {
        const SlValue *r = v->u.list.items[i];
        if (r->kind != SL_LIST || r->u.list.len == 0 || (i && r->u.list.len != cols))
            return false;
        cols = r->u.list.len;
    }
    return true;
}

/* f{\left(x, y\right)} = body (as SymPy writes an applied function); f'
 * keeps its primes, a longer name is an \operatorname. */
static bool latex_func(SlCall *c, SlBuf *out, SlValue *v)
{
    SlExpr *body = sl_ad_symbolic(c->s, v, c->err);
    if (!body)
        return false;
    const char *name = v->u.func->name;
    size_t n = strlen(name), stem = n;
    while (stem > 1 && name[stem - 1] == '\'')
        stem--;
    char *base = strndup(name, stem);
    if (!base)
        abort();
    SlBuf nb = {0};
    sl_buf_init(&nb);
    sl_expr_latex_name(&nb, base);
    free(base);
    if (strncmp(nb.s, "\\mathrm{", 8) == 0)
        sl_buf_printf(out, "\\operatorname{%s", nb.s + 8);
    else
        sl_buf_puts(out, nb.s);
    sl_buf_free(&nb);
    sl_buf_add(out, name + stem, n - stem);
    const char *params[256];
    size_t np = sl_ad_params(v, params, 256);
    sl_buf_puts(out, "{\\left(");
    for (size_t i = 0; i < np && i < 256; i++) {
        if (i)
            sl_buf_puts(out, ", ");
        sl_expr_latex_name(out, params[i]);
    }
    sl_buf_puts(out, "\\right)} = ");
    sl_expr_print(out, body, SL_STYLE_LATEX);
    sl_expr_unref(body);
    return true;
}

static bool latex_value(SlCall *c, SlBuf *out, SlValue *v, int depth)
{
    if (depth > LATEX_DEPTH)
        return sl_err(c->err, SL_E_LIMIT, "latex(): lists nested more than 64 deep"), false;
    switch (v->kind) {
    case SL_EXPR: sl_expr_print(out, v->u.expr, SL_STYLE_LATEX); return true;
    case SL_BOOL: sl_buf_puts(out, v->u.b ? "\\text{True}" : "\\text{False}"); return true;
    case SL_INT:
    case SL_FLOAT: {
        SlExpr *e = sl_expr_from_value(v);
        sl_expr_print(out, e, SL_STYLE_LATEX);
        sl_expr_unref(e);
        return true;
    }
    case SL_FUNC: return latex_func(c, out, v);
    case SL_LIST:
    case SL_TUPLE: {
        size_t len = v->u.list.len;
        if (latex_matrix_shape(v)) {
            sl_buf_puts(out, "\\left[\\begin{matrix}");
            for (size_t i = 0; i < len; i++) {
                const SlValue *r = v->u.list.items[i];
                if (i)
                    sl_buf_puts(out, "\\\\");
                for (size_t j = 0; j < r->u.list.len; j++) {
                    if (j)
                        sl_buf_puts(out, " & ");
                    if (!latex_value(c, out, r->u.list.items[j], depth + 2))
                        return false;
                }
            }
            sl_buf_puts(out, "\\end{matrix}\\right]");
            return true;
        }
        bool tuple = v->kind == SL_TUPLE;
        sl_buf_puts(out, tuple ? "\\left(" : "\\left[");
        for (size_t i = 0; i < len; i++) {
            if (i)
                sl_buf_puts(out, ", ");
            if (!latex_value(c, out, v->u.list.items[i], depth + 1))
                return false;
        }
        if (tuple && len == 1)
            sl_buf_putc(out, ',');
        sl_buf_puts(out, tuple ? "\\right)" : "\\right]");
        return true;
    }
    default: latex_type_error(c, v, depth); return false;
    }
}

static SlValue *b_latex(SlCall *c)
{
    if (!want(c, "latex", 1, 1, NULL))
        return NULL;
    SlBuf b = {0};
    sl_buf_init(&b);
    if (!latex_value(c, &b, c->args[0], 0)) {
        sl_buf_free(&b);
        return NULL;
    }
    size_t len = b.len;
    SlValue *r = sl_str_take(sl_buf_take(&b), len);
    r->tag = SL_TAG_RAW; /* the prompt shows the LaTeX as written */
    return r;
}

SlValue *sl_ad_explain(SlSession *s, SlValue *e, SlValue *var, SlError *err)
{
    SlExpr *x = sl_ad_symbolic(s, e, err);
    if (!x)
        return NULL;
    const char *v = NULL;
    if (var) {
        if (var->kind == SL_EXPR && var->u.expr->kind == SL_EX_SYM)
            v = var->u.expr->u.name;
        else {
            sl_expr_unref(x);
            return sl_err(err, SL_E_TYPE, "explain(diff(expr, x)): x must be a symbol"), NULL;
        }
    } else {
        const char *names[2];
        size_t k = sl_expr_free_syms(x, names, 2);
        if (k != 1) {
            sl_expr_unref(x);
            return sl_err(err, SL_E_VALUE, "explain(diff(expr, x)) needs the variable"), NULL;
        }
        v = names[0];
    }
    SlBuf b = {0};
    sl_buf_init(&b);
    bool ok = sl_explain_diff(&b, x, v, sl_expr_style(), err);
    if (ok) {
        fwrite(b.s, 1, b.len, s->out);
        if (b.len && b.s[b.len - 1] != '\n')
            fputc('\n', s->out);
    }
    sl_buf_free(&b);
    sl_expr_unref(x);
    return ok ? SL_NONE_V : NULL;
}

/* Display columns of UTF-8 text (code points). */
static size_t columns(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A left-aligned cell: two spaces before every cell but the first, padding
 * only when more cells follow. */
static void print_cell(FILE *o, const char *text, size_t width, bool last)
{
    static bool first = true;
    if (!first)
        fputs("  ", o);
    fputs(text, o);
    if (last) {
        fputc('\n', o);
        first = true;
        return;
    }
    for (size_t c = columns(text); c < width; c++)
        fputc(' ', o);
    first = false;
}

/* gradcheck(f, point): every engine side by side */
static SlValue *b_gradcheck(SlCall *c)
{
    if (!want(c, "gradcheck", 2, 2, NULL))
        return NULL;
    SlValue *f = c->args[0], *p = c->args[1];
    SlValue *plist = p;
    bool made = false;
    if (sl_is_number(p)) {
        plist = sl_list_new(1);
        sl_list_push(plist, p);
        made = true;
    }
    static const char *const titles[4] = {"symbolic", "forward", "reverse", "finite difference"};
    static const SlEngine engines[4] = {SL_ENGINE_SYMBOLIC, SL_ENGINE_FORWARD, SL_ENGINE_REVERSE, SL_ENGINE_FINITE};
    SlValue *res[4] = {NULL, NULL, NULL, NULL};
    char why[4][512] = {{0}};
    for (int k = 0; k < 4; k++) {
        SlError e2 = {0};
        res[k] = sl_ad_grad(c->s, f, plist, engines[k], &e2);
        if (!res[k])
            snprintf(why[k], sizeof why[k], "%s", e2.msg);
        if (e2.code == SL_E_INTERRUPTED && e2.set) {
            sl_err_clear(&e2);
            for (int j = 0; j < 4; j++)
                sl_unref(res[j]);
            if (made)
                sl_unref(plist);
            return sl_err(c->err, SL_E_INTERRUPTED), NULL;
        }
        sl_err_clear(&e2);
    }
    if (!res[2] && !res[1]) {
        sl_err(c->err, SL_E_VALUE, "%s", why[2]);
        for (int j = 0; j < 4; j++)
            sl_unref(res[j]);
        if (made)
            sl_unref(plist);
        return NULL;
    }
    size_t n = plist->u.list.len;
    const char *names[256];
    size_t np = sl_ad_params(f, names, 256);
    FILE *o = c->s->out;
    /* columns: variable, then each engine */
    char **cells = calloc(4 * n, sizeof *cells);
    if (!cells)
        abort();
    size_t width[5] = {0, 0, 0, 0, 0};
    for (int k = 0; k < 4; k++) {
        width[k + 1] = columns(titles[k]);
        for (size_t i = 0; i < n; i++) {
            SlBuf b = {0};
            sl_buf_init(&b);
            if (res[k])
                sl_repr(&b, res[k]->u.list.items[i]);
            else
                sl_buf_puts(&b, "-");
            cells[k * n + i] = sl_buf_take(&b);
            size_t w = columns(cells[k * n + i]);
            if (w > width[k + 1])
                width[k + 1] = w;
        }
    }
    size_t shown = n > 10 ? 8 : n;
    char **labels = calloc(shown + 1, sizeof *labels);
    if (!labels)
        abort();
    for (size_t i = 0; i < shown; i++) {
        char label[96];
        if (np == n && i < 256)
            snprintf(label, sizeof label, "∂/∂%s", names[i]);
        else
            snprintf(label, sizeof label, "∂/∂x[%zu]", i);
        labels[i] = strdup(label);
        if (columns(label) > width[0])
            width[0] = columns(label);
    }
    /* one row per variable, a column per engine; no trailing spaces */
    print_cell(o, "", width[0], false);
    for (int k = 0; k < 4; k++)
        print_cell(o, titles[k], width[k + 1], k == 3);
    for (size_t i = 0; i < shown; i++) {
        print_cell(o, labels[i], width[0], false);
        for (int k = 0; k < 4; k++)
            print_cell(o, cells[k * n + i], width[k + 1], k == 3);
        free(labels[i]);
    }
    free(labels);
    if (shown < n)
        fprintf(o, "... and %zu more partial derivatives\n", n - shown);
    /* largest relative disagreement against reverse (or forward) */
    int ref = res[2] ? 2 : 1;
    mpfr_t x, y, d, worst_eng, worst_fd;
    mpfr_prec_t prec = sl_num_prec();
    mpfr_inits2(prec, x, y, d, worst_eng, worst_fd, (mpfr_ptr)0);
    mpfr_set_zero(worst_eng, 1);
    mpfr_set_zero(worst_fd, 1);
    for (int k = 0; k < 4; k++) {
        if (!res[k] || k == ref)
            continue;
        for (size_t i = 0; i < n; i++) {
            sl_num_to_mpfr(x, res[k]->u.list.items[i]);
            sl_num_to_mpfr(y, res[ref]->u.list.items[i]);
            mpfr_sub(d, x, y, MPFR_RNDN);
            mpfr_abs(d, d, MPFR_RNDN);
            mpfr_abs(x, x, MPFR_RNDN);
            mpfr_abs(y, y, MPFR_RNDN);
            mpfr_max(x, x, y, MPFR_RNDN);
            if (!mpfr_zero_p(x))
                mpfr_div(d, d, x, MPFR_RNDN);
            mpfr_ptr w = k == 3 ? worst_fd : worst_eng;
            if (mpfr_cmp(d, w) > 0 || mpfr_nan_p(d))
                mpfr_set(w, d, MPFR_RNDN);
        }
    }
    mpfr_fprintf(o, "largest relative disagreement: %.2Re between the engines, %.2Re for the finite difference\n",
            worst_eng, worst_fd);
    for (int k = 0; k < 4; k++)
        if (!res[k])
            fprintf(o, "(%s: %s)\n", titles[k], why[k]);
    mpfr_clears(x, y, d, worst_eng, worst_fd, (mpfr_ptr)0);
    for (size_t i = 0; i < 4 * n; i++)
        free(cells[i]);
    free(cells);
    for (int k = 0; k < 4; k++)
        sl_unref(res[k]);
    if (made)
        sl_unref(plist);
    return SL_NONE_V;
}

static const SlBuiltin ad_builtins[] = {
    {"diff", b_diff, "diff(expr, x[, n])  diff(expr, [x, y])",
     "Symbolic derivative of an expression or function: the n-th in x, or the mixed partial in x then y.\n"
     "  At kinks: abs'(0) = sign(0) = 0, relu'(0) = 0 (as PyTorch), max/min follow the first argument on ties,\n"
     "  floor, ceil and round have derivative 0 where defined."},
    {"grad", b_grad, "grad(f)  grad(f, point)",
     "grad(f): the list of partial derivatives (symbolic).  grad(f, [a, b]): their values at a point, by the\n"
     "  engine :ad chooses (reverse mode by default).  A function of one list parameter, def f(v), takes the\n"
     "  whole point as its list."},
    {"derivative", b_derivative, "derivative(f, a[, n])",
     "The n-th derivative (default 1) of a one-variable function or expression at a, by forward-mode Taylor\n"
     "  arithmetic at the session precision (any order, every digit correct)."},
    {"jacobian", b_jacobian, "jacobian([f, g], [x, y])  jacobian(F, point)",
     "Matrix of partial derivatives, symbolic for symbols, numeric (reverse mode) for a point."},
    {"hessian", b_hessian, "hessian(f)  hessian(f, point)", "Matrix of second partial derivatives."},
    {"taylor", b_taylor, "taylor(expr, x, a, n)", "The Taylor polynomial of expr in x about a, through degree n."},
    {"expand", b_expand, "expand(expr)", "Multiply out products and integer powers of sums."},
    {"factor", b_factor, "factor(expr)", "Factor a polynomial with integer coefficients."},
    {"simplify", b_simplify, "simplify(expr)", "Try harder than the default to make expr smaller."},
    {"gradcheck", b_gradcheck, "gradcheck(f, point)",
     "The gradient at a point by every engine — symbolic, forward, reverse, and a central finite difference\n"
     "  at extra precision — side by side with their largest relative disagreement."},
    {"explain", NULL, "explain(diff(expr, x))", "Show a derivative step by step, naming the rule used at each step."},
    {"latex", b_latex, "latex(expr)",
     "The LaTeX of an expression, a number, a function (f{\\left(x\\right)} = ...) or a list of them (a list of\n"
     "  equal-length lists is a matrix), for math mode with amsmath, whatever :style is.  It is a str, as\n"
     "  SymPy's latex() returns: print(latex(e)) writes the bare text.  :style latex prints every result,\n"
     "  derivative, taylor polynomial and explain step in LaTeX."},
};

const SlBuiltin *sl_ad_builtin_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof ad_builtins / sizeof ad_builtins[0]; i++)
        if (strcmp(ad_builtins[i].name, name) == 0)
            return &ad_builtins[i];
    return NULL;
}

const SlBuiltin *sl_ad_builtin_at(size_t i)
{
    return i < sizeof ad_builtins / sizeof ad_builtins[0] ? &ad_builtins[i] : NULL;
}
