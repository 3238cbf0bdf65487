/* autograd.c -- graph nodes, backward formulas, the engine.
 *
 * The backward formulas are PyTorch 1.13's (tools/autograd/derivatives.yaml
 * and FunctionsManual.cpp), written with the same tensor operations in the
 * same order, so that float32 gradients round exactly as torch's do.  The
 * engine is torch's too: dependencies counted over the reachable graph,
 * ready nodes run latest-created first, gradients for one input summed
 * in arrival order, then reduced to the input's shape (broadcasting) and
 * cast to its dtype before they move on; leaves accumulate through an
 * AccumulateGrad node.  Everything is iterative: no recursion on graph
 * depth, neither in backward nor when a long graph is freed.
 */
#include "autograd.h"
#include "autograd_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "pool.h"
#include "value.h"

const char *sl_ag_receiver_name;

static long live_nodes;
static uint64_t next_seq = 1;
static uint64_t generation;

long sl_node_live(void) { return live_nodes; }

static const char *const node_names[] = {
#define SL_NODE_NAME(kind, name) name,
    SL_NODE_LIST(SL_NODE_NAME)
#undef SL_NODE_NAME
};

const char *sl_node_name(const SlNode *n) { return node_names[n->kind]; }

bool sl_grad_enabled(void) { return sl_no_grad_depth <= 0; }

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fputs("slope: out of memory\n", stderr);
        abort();
    }
    return p;
}

static SlPool node_pool = {.max = 4096};

static SlNode *node_new(SlNodeKind kind)
{
    SlNode *n = sl_pool_get(&node_pool, sizeof *n);
    n->refs = 1;
    n->kind = kind;
    n->seq = kind == SL_N_ACCUMULATE ? UINT64_MAX : next_seq++;
    live_nodes++;
    n->cap_id = sl_cap_on && kind != SL_N_ACCUMULATE ? sl_capture_node_made() : 0; /* leaves hold no saved tensors */
    return n;
}


/* Freeing: a long chain of nodes is released with a work list instead of
 * recursion (freeing a node drops its references to the next ones). */
static SlNode **dying;
static size_t ndying, capdying;
static bool draining;

static void node_destroy(SlNode *n)
{
    for (int k = 0; k < n->nsaved; k++)
        sl_tensor_unref(n->saved[k]);
    sl_tensor_unref(n->buf);
    free(n->geom);
    if (n->leaf) {
        if (n->leaf->grad_acc == n)
            n->leaf->grad_acc = NULL;
        sl_tensor_unref(n->leaf);
    }
    for (int i = 0; i < n->nnext; i++) {
        SlNode *m = n->next[i];
        if (m && --m->refs == 0) {
            if (ndying == capdying) {
                capdying = capdying ? 2 * capdying : 64;
                dying = realloc(dying, capdying * sizeof *dying);
                if (!dying)
                    abort();
            }
            dying[ndying++] = m;
        }
    }
    sl_pool_put(&node_pool, n);
    live_nodes--;
}

void sl_node_free_(SlNode *n)
{
    if (draining) {
        if (ndying == capdying) {
            capdying = capdying ? 2 * capdying : 64;
            dying = realloc(dying, capdying * sizeof *dying);
            if (!dying)
                abort();
        }
        dying[ndying++] = n;
        return;
    }
    draining = true;
    node_destroy(n);
    while (ndying > 0)
        node_destroy(dying[--ndying]);
    draining = false;
    if (capdying > 4096) {
        free(dying);
        dying = NULL;
        capdying = 0;
    }
}

/* ---------------------------------------------------------------------------
 * Leaves and edges
 * ------------------------------------------------------------------------- */

bool sl_tensor_is_leaf(const SlTensor *t) { return t->grad_fn == NULL; }

/* The node a gradient for t goes to: its grad_fn, or its AccumulateGrad. */
static SlNode *edge_of(SlTensor *t)
{
    if (!t || !t->requires_grad)
        return NULL;
    if (t->grad_fn)
        return sl_node_ref(t->grad_fn);
    if (t->grad_acc)
        return sl_node_ref(t->grad_acc);
    SlNode *n = node_new(SL_N_ACCUMULATE);
    n->leaf = sl_tensor_ref(t);
    t->grad_acc = n;
    return n;
}

static SlDTypeP dtype_of(const SlTensor *t)
{
    return (SlDTypeP){t->dtype, t->dtype == SL_DT_MPFR ? t->storage->prec : 0};
}

/* A node for out = op(inputs), when grad mode is on and an input requires
 * grad; NULL otherwise.  The node is out's grad_fn. */
static SlNode *record(SlNodeKind kind, SlTensor *out, int n, SlTensor *const *in)
{
    if (!sl_grad_enabled() || !out)
        return NULL;
    bool any = false;
    for (int i = 0; i < n; i++)
        if (in[i] && in[i]->requires_grad)
            any = true;
    if (!any)
        return NULL;
    SlNode *node = node_new(kind);
    node->nnext = n;
    for (int i = 0; i < n; i++) {
        node->next[i] = edge_of(in[i]);
        if (in[i]) {
            node->in_type[i] = dtype_of(in[i]);
            node->in_ndim[i] = in[i]->ndim;
            memcpy(node->in_shape[i], in[i]->shape, sizeof node->in_shape[i]);
        }
    }
    if (out->grad_fn && out->grad_fn->retain == out)
        out->grad_fn->retain = NULL;
    sl_node_unref(out->grad_fn);
    out->grad_fn = node;
    out->requires_grad = true;
    return node;
}

static void save(SlNode *n, SlTensor *t)
{
    int k = n->nsaved++;
    n->saved[k] = sl_tensor_alias(t);
    n->saved_version[k] = t->version->v;
    n->saved_from[k] = t->grad_fn ? (int)t->grad_fn->kind : -1;
}

SlNode *sl_ag_record(SlNodeKind kind, SlTensor *out, int n, SlTensor *const *in)
{
    return record(kind, out, n, in);
}

void sl_ag_save(SlNode *n, SlTensor *t) { save(n, t); }

static void release(SlNode *n)
{
    for (int k = 0; k < n->nsaved; k++) {
        sl_tensor_unref(n->saved[k]);
        n->saved[k] = NULL;
    }
    if (n->cap_id && !n->released)
        sl_capture_node_released(n->cap_id);
    n->released = true;
}

bool sl_ag_requires_grad_(SlTensor *t, bool flag, SlError *err)
{
    if (!sl_tensor_is_leaf(t)) {
        if (flag)
            return true;
        return sl_err(err, SL_E_VALUE,
                      "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                      "variable in a subgraph that doesn't require differentiation use var_no_grad = "
                      "var.detach().");
    }
    if (flag && !sl_dtype_is_float(t->dtype))
        return sl_err(err, SL_E_VALUE, "Only Tensors of floating point and complex dtype can require gradients");
    if (t->requires_grad != flag)
        sl_struct_gen++; /* what a recorded step does changes (capture.h) */
    t->requires_grad = flag;
    return true;
}

SlTensor *sl_ag_detach(SlTensor *t) { return sl_tensor_alias(t); }

bool sl_ag_retain_grad(SlTensor *t, SlError *err)
{
    if (!t->requires_grad)
        return sl_err(err, SL_E_VALUE, "can't retain_grad on Tensor that has requires_grad=False");
    if (t->grad_fn && t->grad_fn->retain != t) {
        t->grad_fn->retain = t;
        sl_struct_gen++;
    }
    return true;
}

/* ---------------------------------------------------------------------------
 * Scratch space for backward formulas: every intermediate is kept here and
 * released at the end, so the formulas read like torch's one-liners.
 * ------------------------------------------------------------------------- */

typedef SlScratch Sc; /* autograd_internal.h */

static SlTensor *K(Sc *s, SlTensor *t) { return sl_scratch_keep(s, t); }

static void sc_free(Sc *s) { sl_scratch_free(s); }

static SlTensor *B(Sc *s, SlTOp op, SlTensor *a, SlTensor *b)
{
    if (!a || !b)
        return NULL;
    return K(s, sl_tensor_binary(op, a, b, s->err));
}

static SlTensor *U(Sc *s, int fn, SlTensor *a)
{
    if (!a)
        return NULL;
    return K(s, sl_tensor_unary(fn, a, s->err));
}

/* a wrapped Python number (double), for constants in formulas */
static SlTensor *S(Sc *s, double v)
{
    SlTensor *t = sl_tensor_scalar_d(SL_DT_F64, v, 0);
    t->wrapped = true;
    sl_capture_const(t); /* the formula's, the same at every replay */
    return K(s, t);
}

static SlTensor *SI(Sc *s, int64_t v)
{
    SlTensor *t = sl_tensor_scalar_i(SL_DT_I64, v, 0);
    t->wrapped = true;
    sl_capture_const(t);
    return K(s, t);
}

static SlTensor *zeros_like(Sc *s, const SlTensor *t)
{
    if (!t)
        return NULL;
    return K(s, sl_tensor_zeros_like(t, s->err));
}

static SlTensor *reshape_to(Sc *s, SlTensor *g, int nd, const int64_t *shape)
{
    if (!g)
        return NULL;
    bool copied;
    return K(s, sl_tensor_reshape(g, nd, shape, &copied, s->err));
}

static bool saved_ok(SlNode *n, SlError *err);

/* ---------------------------------------------------------------------------
 * Backward formulas.  g: the gradient of the node's output; out[i]: the
 * gradient for input i (NULL when that input needs none).
 * ------------------------------------------------------------------------- */

static SlTensor *log_const(Sc *s, const SlTensor *like, int base)
{
    if (like->dtype == SL_DT_MPFR) {
        SlTensor *c = sl_tensor_scalar_d(SL_DT_MPFR, 0, like->storage->prec);
        mpfr_ptr m = (mpfr_ptr)sl_tensor_get_m(c, 0);
        if (base == 2) {
            mpfr_const_log2(m, MPFR_RNDN);
        } else {
            mpfr_set_ui(m, 10, MPFR_RNDN);
            mpfr_log(m, m, MPFR_RNDN);
        }
        c->wrapped = true;
        return K(s, c);
    }
    return S(s, base == 2 ? 0.6931471805599453 : 2.302585092994046);
}

/* Fused formulas for the common case, one pass over contiguous operands
 * of one shape, dtype and precision, with the same operations in the same
 * order as the formula they replace (so the same roundings). */
static bool flat_pair(const SlTensor *a, const SlTensor *b)
{
    return a->dtype == b->dtype && sl_dtype_is_float(a->dtype) && sl_tensor_same_shape(a, b) &&
           (a->dtype != SL_DT_MPFR || a->storage->prec == b->storage->prec) && sl_tensor_is_contiguous(a) &&
           sl_tensor_is_contiguous(b);
}

#define F32(t) ((float *)(t)->storage->data + (t)->offset)
#define F64(t) ((double *)(t)->storage->data + (t)->offset)
#define MPF(t) ((__mpfr_struct *)(t)->storage->data + (t)->offset)

/* r = f(g, y) over n contiguous floats: threshold_backward(grad, result, 0)
 * = where(result <= 0, 0, grad), or sigmoid_backward = grad * (1 - y) * y */
typedef struct GradYArgs {
    const void *g, *y;
    void *r;
    int64_t n;
    bool f64, sigmoid;
} GradYArgs;

static void grad_y_kernel(const void *args)
{
    const GradYArgs *a = args;
    int64_t n = a->n;
    if (!a->f64) {
        const float *gp = a->g, *yp = a->y;
        float *rp = a->r;
        if (a->sigmoid)
            for (int64_t i = 0; i < n; i++)
                rp[i] = gp[i] * (1.0f - yp[i]) * yp[i];
        else
            for (int64_t i = 0; i < n; i++)
                rp[i] = yp[i] <= 0 ? 0.0f : gp[i];
    } else {
        const double *gp = a->g, *yp = a->y;
        double *rp = a->r;
        if (a->sigmoid)
            for (int64_t i = 0; i < n; i++)
                rp[i] = gp[i] * (1.0 - yp[i]) * yp[i];
        else
            for (int64_t i = 0; i < n; i++)
                rp[i] = yp[i] <= 0 ? 0.0 : gp[i];
    }
}

/* relu's and sigmoid's backward; g and y contiguous, of one shape (the
 * caller's flat_pair) */
static SlTensor *grad_y(const SlTensor *g, const SlTensor *y, bool sigmoid, SlError *err)
{
    SlTensor *r = sl_tensor_zeros(g->dtype, g->ndim, g->shape, sl_tensor_prec(g), err);
    if (!r)
        return NULL;
    int64_t n = sl_tensor_numel(g);
    if (g->dtype == SL_DT_F32 || g->dtype == SL_DT_F64) {
        bool f64 = g->dtype == SL_DT_F64;
        GradYArgs a = {.n = n, .f64 = f64, .sigmoid = sigmoid, .r = r->storage->data};
        a.g = f64 ? (const void *)F64(g) : (const void *)F32(g);
        a.y = f64 ? (const void *)F64(y) : (const void *)F32(y);
        SlTensor *in[2] = {(SlTensor *)g, (SlTensor *)y};
        sl_kernel(grad_y_kernel, &a, sizeof a, in, 2, &r, 1, NULL, 0);
        return r;
    }
    const __mpfr_struct *gp = MPF(g), *yp = MPF(y);
    __mpfr_struct *rp = MPF(r);
    for (int64_t i = 0; i < n; i++) {
        if (sigmoid) {
            mpfr_ui_sub(&rp[i], 1, &yp[i], MPFR_RNDN);
            mpfr_mul(&rp[i], &gp[i], &rp[i], MPFR_RNDN);
            mpfr_mul(&rp[i], &rp[i], &yp[i], MPFR_RNDN);
        } else if (mpfr_nan_p(&yp[i]) || mpfr_sgn(&yp[i]) > 0) { /* else r stays zero */
            mpfr_set(&rp[i], &gp[i], MPFR_RNDN);
        }
    }
    return r;
}

static SlTensor *relu_backward(const SlTensor *g, const SlTensor *y, SlError *err) { return grad_y(g, y, false, err); }

static SlTensor *sigmoid_backward(const SlTensor *g, const SlTensor *y, SlError *err)
{
    return grad_y(g, y, true, err);
}

static bool node_backward(SlNode *n, SlTensor *g, SlTensor **out, SlError *err)
{
    Sc sc; /* t[] is filled as it goes: no need to clear it */
    sc.n = 0;
    sc.err = err;
    Sc *s = &sc;
    SlTensor *r[SL_NODE_MAXNEXT] = {NULL, NULL, NULL};
    SlTensor **sv = n->saved;
    bool need0 = n->nnext > 0 && n->next[0], need1 = n->nnext > 1 && n->next[1];
    if (!saved_ok(n, err))
        return false;
    switch (n->kind) {
    case SL_N_ADD:
        r[0] = g;
        if (need1)
            r[1] = n->scalar == 1.0 ? g : B(s, SL_T_MUL, g, S(s, n->scalar));
        break;
    case SL_N_SUB:
        r[0] = g;
        if (need1) {
            r[1] = U(s, SL_TU_NEG, g);
            if (n->scalar != 1.0)
                r[1] = B(s, SL_T_MUL, r[1], S(s, n->scalar));
        }
        break;
    case SL_N_RSUB:
        /* rsub(self, other, alpha) = other - alpha * self */
        r[0] = U(s, SL_TU_NEG, g);
        if (n->scalar != 1.0)
            r[0] = B(s, SL_T_MUL, r[0], S(s, n->scalar));
        r[1] = g;
        break;
    case SL_N_MUL: {
        /* saved: [other if self needs grad][self if other needs grad] */
        int k = 0;
        SlTensor *other = need0 ? sv[k++] : NULL, *self = need1 ? sv[k++] : NULL;
        if (need0)
            r[0] = B(s, SL_T_MUL, g, other);
        if (need1)
            r[1] = B(s, SL_T_MUL, g, self);
        break;
    }
    case SL_N_DIV: {
        /* saved: other, then self if other needs grad */
        SlTensor *other = sv[0], *self = need1 ? sv[1] : NULL;
        if (need0)
            r[0] = B(s, SL_T_DIV, g, other);
        if (need1)
            r[1] = B(s, SL_T_MUL, U(s, SL_TU_NEG, g), B(s, SL_T_DIV, B(s, SL_T_DIV, self, other), other));
        break;
    }
    case SL_N_POW: {
        /* grad * (exp * self.pow(exp - 1)) */
        SlTensor *self = sv[0];
        double e = n->scalar;
        if (e == 0.0)
            r[0] = zeros_like(s, self);
        else {
            SlTensor *p = self ? K(s, sl_tensor_pow_scalar(self, e - 1.0, err)) : NULL;
            r[0] = B(s, SL_T_MUL, g, B(s, SL_T_MUL, p, S(s, e)));
        }
        break;
    }
    case SL_N_POW_T: {
        /* saved: self, exponent, result */
        SlTensor *self = sv[0], *ex = sv[1], *res = sv[2];
        if (need0) {
            SlTensor *t = B(s, SL_T_MUL, g, B(s, SL_T_MUL, ex, B(s, SL_T_POW, self, B(s, SL_T_SUB, ex, SI(s, 1)))));
            SlTensor *z = t ? K(s, sl_tensor_zeros(t->dtype, 0, NULL, sl_tensor_prec(t), err)) : NULL;
            SlTensor *c = B(s, SL_T_EQ, ex, S(s, 0.0));
            r[0] = c && z && t ? K(s, sl_tensor_where(c, z, t, err)) : NULL;
        }
        if (need1) {
            SlTensor *c = B(s, SL_T_AND, B(s, SL_T_EQ, self, SI(s, 0)), B(s, SL_T_GE, ex, SI(s, 0)));
            /* torch takes the log in the base's own dtype (a Python number: double);
             * an mpfr gradient gets it at its precision */
            SlTensor *base = self;
            if (g->dtype == SL_DT_MPFR && self->dtype != SL_DT_MPFR)
                base = K(s, sl_tensor_to(self, SL_DT_MPFR, sl_tensor_prec(g)));
            SlTensor *t = B(s, SL_T_MUL, res, U(s, SL_FN_LOG, base));
            SlTensor *z = t ? K(s, sl_tensor_zeros(g->dtype, 0, NULL, sl_tensor_prec(g), err)) : NULL;
            SlTensor *w = c && z && t ? K(s, sl_tensor_where(c, z, t, err)) : NULL;
            r[1] = B(s, SL_T_MUL, g, w);
        }
        break;
    }
    case SL_N_NEG: r[0] = U(s, SL_TU_NEG, g); break;
    case SL_N_RECIPROCAL:
        r[0] = B(s, SL_T_MUL, U(s, SL_TU_NEG, g), B(s, SL_T_MUL, sv[0], sv[0]));
        break;
    case SL_N_REMAINDER:
        r[0] = g;
        if (need1)
            r[1] = B(s, SL_T_MUL, U(s, SL_TU_NEG, g), U(s, SL_FN_FLOOR, B(s, SL_T_DIV, sv[0], sv[1])));
        break;
    case SL_N_MINIMUM:
    case SL_N_MAXIMUM: {
        SlTensor *self = sv[0], *other = sv[1];
        SlTensor *eq = B(s, SL_T_EQ, self, other), *half = B(s, SL_T_DIV, g, SI(s, 2));
        SlTensor *base = eq && half ? K(s, sl_tensor_where(eq, half, g, err)) : NULL;
        SlTOp worse0 = n->kind == SL_N_MINIMUM ? SL_T_GT : SL_T_LT;
        SlTOp worse1 = n->kind == SL_N_MINIMUM ? SL_T_LT : SL_T_GT;
        SlTensor *z = base ? K(s, sl_tensor_zeros(base->dtype, 0, NULL, sl_tensor_prec(base), err)) : NULL;
        if (need0) {
            SlTensor *m = B(s, worse0, self, other);
            r[0] = m && z && base ? K(s, sl_tensor_where(m, z, base, err)) : NULL;
        }
        if (need1) {
            SlTensor *m = B(s, worse1, self, other);
            r[1] = m && z && base ? K(s, sl_tensor_where(m, z, base, err)) : NULL;
        }
        break;
    }
    case SL_N_ATAN2: {
        SlTensor *self = sv[0], *other = sv[1];
        SlTensor *recip =
            U(s, SL_TU_RECIPROCAL, B(s, SL_T_ADD, B(s, SL_T_MUL, self, self), B(s, SL_T_MUL, other, other)));
        if (need0)
            r[0] = B(s, SL_T_MUL, B(s, SL_T_MUL, g, other), recip);
        if (need1)
            r[1] = B(s, SL_T_MUL, B(s, SL_T_MUL, g, U(s, SL_TU_NEG, self)), recip);
        break;
    }
    case SL_N_SIN: r[0] = B(s, SL_T_MUL, g, U(s, SL_FN_COS, sv[0])); break;
    case SL_N_COS: r[0] = B(s, SL_T_MUL, g, U(s, SL_TU_NEG, U(s, SL_FN_SIN, sv[0]))); break;
    case SL_N_TAN: r[0] = B(s, SL_T_MUL, g, B(s, SL_T_ADD, B(s, SL_T_MUL, sv[0], sv[0]), SI(s, 1))); break;
    case SL_N_ASIN:
        r[0] = B(s, SL_T_MUL, g,
                 U(s, SL_TU_RSQRT, B(s, SL_T_ADD, B(s, SL_T_MUL, U(s, SL_TU_NEG, sv[0]), sv[0]), SI(s, 1))));
        break;
    case SL_N_ACOS:
        r[0] = B(s, SL_T_MUL, g,
                 U(s, SL_TU_NEG,
                   U(s, SL_TU_RSQRT, B(s, SL_T_ADD, B(s, SL_T_MUL, U(s, SL_TU_NEG, sv[0]), sv[0]), SI(s, 1)))));
        break;
    case SL_N_ATAN: r[0] = B(s, SL_T_DIV, g, B(s, SL_T_ADD, B(s, SL_T_MUL, sv[0], sv[0]), SI(s, 1))); break;
    case SL_N_SINH: r[0] = B(s, SL_T_MUL, g, U(s, SL_FN_COSH, sv[0])); break;
    case SL_N_COSH: r[0] = B(s, SL_T_MUL, g, U(s, SL_FN_SINH, sv[0])); break;
    case SL_N_TANH:
        /* tanh_backward: a * (1 - b * b), where torch's compiler fuses
         * 1 - b*b into one multiply-add */
        r[0] = B(s, SL_T_MUL, g, U(s, SL_TU_ONE_MINUS_SQ, sv[0]));
        break;
    case SL_N_EXP: r[0] = B(s, SL_T_MUL, g, sv[0]); break;
    case SL_N_LOG: r[0] = B(s, SL_T_DIV, g, sv[0]); break;
    case SL_N_LOG2: r[0] = B(s, SL_T_DIV, g, B(s, SL_T_MUL, sv[0], log_const(s, sv[0], 2))); break;
    case SL_N_LOG10: r[0] = B(s, SL_T_DIV, g, B(s, SL_T_MUL, sv[0], log_const(s, sv[0], 10))); break;
    case SL_N_SQRT: r[0] = B(s, SL_T_DIV, g, B(s, SL_T_MUL, sv[0], SI(s, 2))); break;
    case SL_N_RSQRT:
        r[0] = B(s, SL_T_MUL, B(s, SL_T_MUL, g, S(s, -0.5)), K(s, sl_tensor_pow_scalar(sv[0], 3.0, err)));
        break;
    case SL_N_CBRT:
        r[0] = B(s, SL_T_DIV, g, B(s, SL_T_MUL, B(s, SL_T_MUL, sv[0], sv[0]), SI(s, 3)));
        break;
    case SL_N_ABS: r[0] = B(s, SL_T_MUL, g, U(s, SL_TU_SGN, sv[0])); break;
    case SL_N_SIGN:
    case SL_N_FLOOR:
    case SL_N_CEIL:
    case SL_N_ROUND:
    case SL_N_ROUND_DEC:
    case SL_N_HEAVISIDE:
    case SL_N_ZERO:
    case SL_N_FILL: r[0] = zeros_like(s, g); break;
    case SL_N_SIGMOID:
        /* sigmoid_backward: a * (1 - b) * b */
        if (flat_pair(g, sv[0])) {
            r[0] = K(s, sigmoid_backward(g, sv[0], err));
            break;
        }
        r[0] = B(s, SL_T_MUL, B(s, SL_T_MUL, g, B(s, SL_T_SUB, SI(s, 1), sv[0])), sv[0]);
        break;
    case SL_N_RELU: {
        /* threshold_backward(grad, result, 0): result <= 0 ? 0 : grad */
        if (flat_pair(g, sv[0])) {
            r[0] = K(s, relu_backward(g, sv[0], err));
            break;
        }
        SlTensor *m = B(s, SL_T_LE, sv[0], SI(s, 0));
        SlTensor *z = K(s, sl_tensor_zeros(g->dtype, 0, NULL, sl_tensor_prec(g), err));
        r[0] = m && z ? K(s, sl_tensor_where(m, z, g, err)) : NULL;
        break;
    }
    case SL_N_SUM:
    case SL_N_SUM_DIM:
    case SL_N_MEAN:
    case SL_N_MEAN_DIM: {
        SlTensor *gg = g;
        if (!n->keepdim && n->kind != SL_N_SUM && n->kind != SL_N_MEAN) {
            for (int d = 0; d < n->in_ndim[0] && gg; d++)
                if (n->mask & (1u << d))
                    gg = K(s, sl_tensor_unsqueeze(gg, d, err));
        }
        SlTensor *e = gg ? K(s, sl_tensor_expand(gg, n->in_ndim[0], n->in_shape[0], err)) : NULL;
        if (n->kind == SL_N_MEAN || n->kind == SL_N_MEAN_DIM)
            e = B(s, SL_T_DIV, e, SI(s, n->ival));
        r[0] = e;
        break;
    }
    case SL_N_MAX_ALL:
    case SL_N_MIN_ALL: {
        /* evenly_distribute_backward */
        SlTensor *mask = B(s, SL_T_EQ, sv[0], sv[1]);
        SlTensor *count = mask ? K(s, sl_tensor_sum(mask, ~0u, false, err)) : NULL;
        SlTensor *gi = B(s, SL_T_DIV, g, count);
        SlTensor *z = zeros_like(s, sv[0]);
        r[0] = mask && gi && z ? K(s, sl_tensor_where(mask, gi, z, err)) : NULL;
        break;
    }
    case SL_N_MAX_DIM:
    case SL_N_MIN_DIM: {
        /* zeros(sizes).scatter(dim, indices, grad) */
        SlTensor *idx = sv[0], *gg = g;
        int dim = (int)n->ival;
        if (!n->keepdim) {
            idx = K(s, sl_tensor_unsqueeze(idx, dim, err));
            gg = K(s, sl_tensor_unsqueeze(g, dim, err));
        }
        SlTensor *z = idx && gg ? K(s, sl_tensor_zeros(g->dtype, n->in_ndim[0], n->in_shape[0], sl_tensor_prec(g), err))
                                : NULL;
        if (z) {
            int64_t cnt = sl_tensor_numel(idx);
            int64_t st[SL_TENSOR_MAXDIM];
            int64_t acc = 1;
            for (int d = z->ndim - 1; d >= 0; d--) {
                st[d] = acc;
                acc *= z->shape[d];
            }
            for (int64_t i = 0; i < cnt; i++) {
                /* position of element i of idx (same shape as gg) */
                int64_t rem = i, off = 0;
                for (int d = idx->ndim - 1; d >= 0; d--) {
                    int64_t c = rem % idx->shape[d];
                    rem /= idx->shape[d];
                    off += (d == dim ? sl_tensor_get_i(idx, i) : c) * st[d];
                }
                SlTensor *zero_d = NULL;
                (void)zero_d;
                if (g->dtype == SL_DT_MPFR)
                    sl_tensor_set_m(z, off, sl_tensor_get_m(gg, i));
                else
                    sl_tensor_set_d(z, off, sl_tensor_get_d(gg, i));
            }
        }
        r[0] = z;
        break;
    }
    case SL_N_MM:
    case SL_N_BMM: {
        SlTensor *mat2 = need0 ? sv[0] : NULL, *self = need1 ? sv[need0 ? 1 : 0] : NULL;
        if (n->kind == SL_N_MM) {
            if (need0)
                r[0] = mat2 ? K(s, sl_tensor_mm_ex(g, false, mat2, true, false, err)) : NULL;
            if (need1)
                r[1] = self ? K(s, sl_tensor_mm_ex(self, true, g, false, false, err)) : NULL;
        } else {
            if (need0)
                r[0] = mat2 ? K(s, sl_tensor_bmm(g, K(s, sl_tensor_transpose(mat2, 1, 2, err)), err)) : NULL;
            if (need1)
                r[1] = self ? K(s, sl_tensor_bmm(K(s, sl_tensor_transpose(self, 1, 2, err)), g, err)) : NULL;
        }
        break;
    }
    case SL_N_MV: {
        SlTensor *vec = need0 ? sv[0] : NULL, *self = need1 ? sv[need0 ? 1 : 0] : NULL;
        if (need0)
            r[0] = K(s, sl_tensor_outer(g, vec, err));
        if (need1)
            r[1] = K(s, sl_tensor_mv(K(s, sl_tensor_transpose(self, 0, 1, err)), g, err));
        break;
    }
    case SL_N_DOT: {
        SlTensor *other = need0 ? sv[0] : NULL, *self = need1 ? sv[need0 ? 1 : 0] : NULL;
        if (need0)
            r[0] = B(s, SL_T_MUL, g, other);
        if (need1)
            r[1] = B(s, SL_T_MUL, g, self);
        break;
    }
    case SL_N_VIEW:
    case SL_N_RESHAPE_ALIAS:
    case SL_N_UNSAFE_VIEW:
    case SL_N_SQUEEZE_ALL:
        r[0] = reshape_to(s, g, n->in_ndim[0], n->in_shape[0]);
        break;
    case SL_N_SQUEEZE_DIM:
    case SL_N_SQUEEZE_MM:
        if (n->in_ndim[0] > 0 && n->in_shape[0][n->ival] == 1)
            r[0] = K(s, sl_tensor_unsqueeze(g, (int)n->ival, err));
        else
            r[0] = g;
        break;
    case SL_N_UNSQUEEZE: r[0] = K(s, sl_tensor_squeeze(g, (int)n->ival, err)); break;
    case SL_N_T:
        r[0] = g->ndim < 2 ? g : K(s, sl_tensor_transpose(g, 0, 1, err));
        break;
    case SL_N_TRANSPOSE: r[0] = K(s, sl_tensor_transpose(g, (int)n->ival, (int)n->ival2, err)); break;
    case SL_N_PERMUTE: {
        int inv[SL_TENSOR_MAXDIM];
        for (int d = 0; d < n->in_ndim[0]; d++)
            inv[n->in_shape[1][d]] = d;
        r[0] = K(s, sl_tensor_permute(g, inv, err));
        break;
    }
    case SL_N_EXPAND: r[0] = K(s, sl_tensor_sum_to(g, n->in_ndim[0], n->in_shape[0], err)); break;
    case SL_N_SELECT:
    case SL_N_SLICE: {
        SlTensor *z = K(s, sl_tensor_zeros(g->dtype, n->in_ndim[0], n->in_shape[0], sl_tensor_prec(g), err));
        SlTensor *v = NULL;
        if (z)
            v = n->kind == SL_N_SELECT ? K(s, sl_tensor_select(z, (int)n->ival, n->ival2, err))
                                       : K(s, sl_tensor_slice(z, (int)n->ival, n->ival2, (int64_t)n->scalar,
                                                              n->ival3, err));
        if (v && !sl_tensor_copy_(v, g, err))
            v = NULL;
        r[0] = v ? z : NULL;
        break;
    }
    case SL_N_CLONE: r[0] = g; break;
    case SL_N_TOCOPY: r[0] = K(s, sl_tensor_to(g, n->in_type[0].dt, n->in_type[0].prec)); break;
    case SL_N_INDEX: {
        /* zeros_like(self).index_put_(indices, grad, accumulate=True), row by row
         * (rows of the flattened trailing dims) so every dtype keeps its precision */
        SlTensor *idx = sv[0];
        SlTensor *z = K(s, sl_tensor_zeros(g->dtype, n->in_ndim[0], n->in_shape[0], sl_tensor_prec(g), err));
        SlTensor *gc = K(s, sl_tensor_contiguous(g));
        if (z && gc) {
            bool mask = idx->dtype == SL_DT_BOOL;
            int lead = mask ? idx->ndim : 1;
            int64_t rows = 1, inner = 1;
            for (int d = 0; d < z->ndim; d++)
                *(d < lead ? &rows : &inner) *= z->shape[d];
            int64_t zs[2] = {rows, inner}, gs[2] = {sl_tensor_numel(gc) / (inner ? inner : 1), inner};
            SlTensor *zv = K(s, sl_tensor_view(z, 2, zs, err)), *gv = K(s, sl_tensor_view(gc, 2, gs, err));
            int64_t cnt = sl_tensor_numel(idx), k = 0;
            for (int64_t i = 0; zv && gv && i < cnt; i++) {
                int64_t row;
                if (mask) {
                    if (!sl_tensor_get_b(idx, i))
                        continue;
                    row = i;
                } else {
                    row = sl_tensor_get_i(idx, i);
                    if (row < 0)
                        row += rows;
                }
                SlTensor *zr = sl_tensor_select(zv, 0, row, err), *gr = sl_tensor_select(gv, 0, k++, err);
                bool ok = zr && gr && sl_tensor_add_(zr, gr, 1.0, err);
                sl_tensor_unref(zr);
                sl_tensor_unref(gr);
                if (!ok)
                    break;
            }
        }
        r[0] = err->set ? NULL : z;
        break;
    }
    case SL_N_COPY:
        r[0] = zeros_like(s, g);
        r[1] = g;
        break;
    case SL_N_NORM: {
        /* p = 2: self * (grad / norm), 0 where norm == 0; p = 1: self.sgn() * grad */
        SlTensor *self = sv[0], *nrm = sv[1];
        if (n->scalar == 1.0) {
            r[0] = B(s, SL_T_MUL, U(s, SL_TU_SGN, self), g);
        } else {
            SlTensor *q = B(s, SL_T_DIV, g, nrm);
            SlTensor *z = q ? K(s, sl_tensor_zeros(q->dtype, 0, NULL, sl_tensor_prec(q), err)) : NULL;
            SlTensor *c = B(s, SL_T_EQ, nrm, SI(s, 0));
            SlTensor *qq = q && z && c ? K(s, sl_tensor_where(c, z, q, err)) : NULL;
            r[0] = B(s, SL_T_MUL, self, qq);
        }
        break;
    }
    case SL_N_CLAMP: {
        /* grad where min <= self <= max, else 0 (ival: bit 0 min given, bit 1 max given) */
        SlTensor *self = sv[0], *m = NULL;
        if (n->ival & 1)
            m = B(s, SL_T_GE, self, S(s, n->scalar));
        if (n->ival & 2) {
            SlTensor *m2 = B(s, SL_T_LE, self, S(s, n->scalar2));
            m = m ? B(s, SL_T_AND, m, m2) : m2;
        }
        SlTensor *z = K(s, sl_tensor_zeros(g->dtype, 0, NULL, sl_tensor_prec(g), err));
        r[0] = m && z ? K(s, sl_tensor_where(m, g, z, err)) : g;
        break;
    }
    case SL_N_WHERE: {
        /* next[0]: a, next[1]: b; saved: cond */
        SlTensor *cond = sv[0];
        SlTensor *z = K(s, sl_tensor_zeros(g->dtype, 0, NULL, sl_tensor_prec(g), err));
        if (need0)
            r[0] = z ? K(s, sl_tensor_where(cond, g, z, err)) : NULL;
        if (need1)
            r[1] = z ? K(s, sl_tensor_where(cond, z, g, err)) : NULL;
        break;
    }
    case SL_N_CAT:
    case SL_N_STACK: {
        int dim = (int)n->ival;
        int64_t off = 0;
        for (int i = 0; i < n->nnext; i++) {
            int64_t len = n->kind == SL_N_STACK ? 1 : n->in_shape[i][dim];
            SlTensor *part = K(s, sl_tensor_slice(g, dim, off, off + len, 1, err));
            off += len;
            if (n->next[i] && part)
                r[i] = n->kind == SL_N_STACK ? K(s, sl_tensor_squeeze(part, dim, err)) : part;
        }
        break;
    }
    case SL_N_COPYSLICES: {
        /* the base's gradient with the region zeroed; the source gets the region */
        SlTensor *gb = K(s, sl_tensor_clone(g));
        SlTensor *greg = NULL;
        if (gb && n->geom) {
            SlTensor *reg = K(s, sl_tensor_alias(gb));
            reg->offset = n->geom[0];
            reg->ndim = (int)n->geom[1];
            for (int d = 0; d < reg->ndim; d++) {
                reg->shape[d] = n->geom[2 + d];
                reg->strides[d] = n->geom[2 + reg->ndim + d];
            }
            greg = K(s, sl_tensor_clone(reg));
            SlTensor *z = K(s, sl_tensor_zeros_like(reg, err));
            if (z)
                sl_tensor_copy_(reg, z, err);
        }
        r[0] = gb;
        r[1] = greg;
        break;
    }
    case SL_N_ACCUMULATE:
    case SL_N_COUNT: break;
    default:
        if (sl_nnops_owns(n->kind) || sl_extra_owns(n->kind)) {
            SlTensor *nr[SL_NODE_MAXNEXT] = {NULL, NULL, NULL};
            bool done = sl_nnops_owns(n->kind) ? sl_nnops_backward(n, g, nr, err) : sl_extra_backward(n, g, nr, err);
            if (done)
                for (int i = 0; i < n->nnext; i++)
                    r[i] = K(s, nr[i]);
        }
        break;
    }
    bool ok = !err->set;
    for (int i = 0; i < n->nnext; i++)
        out[i] = ok && n->next[i] && r[i] ? sl_tensor_ref(r[i]) : NULL;
    if (ok)
        for (int i = 0; i < n->nnext; i++)
            if (n->next[i] && !out[i]) {
                ok = false;
                if (!err->set)
                    sl_err(err, SL_E_INTERNAL, "no gradient computed");
            }
    if (!ok)
        for (int i = 0; i < n->nnext; i++) {
            sl_tensor_unref(out[i]);
            out[i] = NULL;
        }
    sc_free(s);
    return ok;
}

/* ---------------------------------------------------------------------------
 * Saved tensors: freed after backward, checked against in-place changes
 * ------------------------------------------------------------------------- */

static void describe_saved(char *buf, size_t n, const SlTensor *t)
{
    const char *ty = t->dtype == SL_DT_F32 ? "FloatTensor" : t->dtype == SL_DT_F64 ? "DoubleTensor"
                   : t->dtype == SL_DT_I64 ? "LongTensor" : t->dtype == SL_DT_BOOL ? "BoolTensor" : "MPFRTensor";
    size_t k = (size_t)snprintf(buf, n, "[torch.%s [", ty);
    for (int d = 0; d < t->ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, d ? ", %lld" : "%lld", (long long)t->shape[d]);
    if (k < n)
        snprintf(buf + k, n - k, "]]");
}

static bool saved_ok(SlNode *n, SlError *err)
{
    if (n->nsaved > 0 && n->released) {
        sl_err(err, SL_E_VALUE,
               "Trying to backward through the graph a second time (or directly access saved tensors after they "
               "have already been freed)");
        if (sl_ag_receiver_name)
            sl_err_hint(err,
                        "the graph behind %s (through %s) was freed by the first backward; call "
                        "%s.backward(retain_graph=True) the first time to keep it",
                        sl_ag_receiver_name, sl_node_name(n), sl_ag_receiver_name);
        else
            sl_err_hint(err, "the graph (through %s) was freed by the first backward; pass retain_graph=True to "
                             "the first backward() to keep it",
                        sl_node_name(n));
        return false;
    }
    for (int k = 0; k < n->nsaved; k++) {
        SlTensor *t = n->saved[k];
        if (t && t->version->v != n->saved_version[k]) {
            char d[256], from[64] = "";
            describe_saved(d, sizeof d, t);
            if (n->saved_from[k] >= 0)
                snprintf(from, sizeof from, ", which is output 0 of %s,", node_names[n->saved_from[k]]);
            sl_err(err, SL_E_VALUE,
                   "one of the variables needed for gradient computation has been modified by an inplace "
                   "operation: %s%s is at version %llu; expected version %llu instead",
                   d, from, (unsigned long long)t->version->v, (unsigned long long)n->saved_version[k]);
            sl_err_hint(err, "%s saved this tensor; change a copy (x.clone()) or do the in-place change after "
                             "backward()",
                        sl_node_name(n));
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------------------
 * The engine
 * ------------------------------------------------------------------------- */

typedef struct Heap {
    SlNode **a;
    size_t n, cap;
} Heap;

static void heap_push(Heap *h, SlNode *x)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 64;
        h->a = realloc(h->a, h->cap * sizeof *h->a);
        if (!h->a)
            abort();
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->a[p]->seq >= x->seq)
            break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = x;
}

static SlNode *heap_pop(Heap *h)
{
    SlNode *top = h->a[0], *x = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        SlNode *best = x;
        if (l < h->n && h->a[l]->seq > best->seq) {
            m = l;
            best = h->a[l];
        }
        if (r < h->n && h->a[r]->seq > best->seq)
            m = r;
        if (m == i)
            break;
        h->a[i] = h->a[m];
        i = m;
    }
    if (h->n > 0)
        h->a[i] = x;
    return top;
}

/* Gradient g for input i of node n, brought to the input's shape and dtype
 * (the engine's validate_outputs). */
static SlTensor *validate(SlNode *n, int i, SlTensor *g, SlError *err)
{
    SlTensor *r = sl_tensor_ref(g);
    int nd = n->in_ndim[i];
    const int64_t *shape = n->in_shape[i];
    bool same = g->ndim == nd;
    for (int d = 0; same && d < nd; d++)
        same = g->shape[d] == shape[d];
    if (!same) {
        SlTensor *t = sl_tensor_sum_to(r, nd, shape, err);
        sl_tensor_unref(r);
        if (!t)
            return NULL;
        r = t;
    }
    SlDTypeP want = n->in_type[i];
    if (r->dtype != want.dt || (want.dt == SL_DT_MPFR && r->storage->prec != want.prec)) {
        SlTensor *t = sl_tensor_to(r, want.dt, want.prec);
        sl_tensor_unref(r);
        r = t;
    }
    return r;
}

/* buf += g (first gradient is taken as is) */
static bool accumulate_buf(SlNode *m, SlTensor *g, SlError *err)
{
    if (!m->buf) {
        m->buf = sl_tensor_ref(g);
        return true;
    }
    SlTensor *s = sl_tensor_binary(SL_T_ADD, m->buf, g, err);
    if (!s)
        return false;
    sl_tensor_unref(m->buf);
    m->buf = s;
    return true;
}

/* a (r x c, contiguous) += b (strides s0, s1), element by element */
typedef struct AddToArgs {
    void *a;
    const void *b;
    int64_t r, c, s0, s1;
    bool f64;
} AddToArgs;

#define ADD_TO(T)                                                                                              \
    do {                                                                                                       \
        T *a = k->a;                                                                                           \
        const T *b = k->b;                                                                                     \
        if (k->s1 == 1 && k->s0 == k->c)                                                                       \
            for (int64_t i = 0, n = k->r * k->c; i < n; i++)                                                   \
                a[i] = a[i] + b[i];                                                                            \
        else                                                                                                   \
            for (int64_t i = 0; i < k->r; i++)                                                                 \
                for (int64_t j = 0; j < k->c; j++)                                                             \
                    a[i * k->c + j] = a[i * k->c + j] + b[i * k->s0 + j * k->s1];                              \
    } while (0)

static void add_to_kernel(const void *args)
{
    const AddToArgs *k = args;
    if (k->f64)
        ADD_TO(double);
    else
        ADD_TO(float);
}
#undef ADD_TO

/* AccumulateGrad: the first gradient becomes .grad (a private contiguous
 * copy unless nobody else holds it), later ones are added in place. */
static bool accumulate_leaf(SlTensor *leaf, SlTensor *g, SlError *err)
{
    if (!leaf->grad) {
        sl_struct_gen++;
        if (sl_cap_on)
            sl_capture_fail("a tensor gets its first .grad");
        if (g->refs == 1 && sl_tensor_is_contiguous(g) && g->grad_fn == NULL && !g->wrapped)
            leaf->grad = sl_tensor_ref(g);
        else
            leaf->grad = sl_tensor_clone(g);
        leaf->grad->requires_grad = false;
        return true;
    }
    SlTensor *t = leaf->grad;
    if (t->dtype == g->dtype && (t->dtype == SL_DT_F32 || t->dtype == SL_DT_F64) && !g->wrapped &&
        t->ndim == 2 && sl_tensor_same_shape(t, g) && t->storage != g->storage && sl_tensor_is_contiguous(t) &&
        !sl_tensor_is_contiguous(g)) {
        /* a transposed gradient (a weight's through TBackward0): the same
         * sums as add_'s out-of-place add and copy back, read in place */
        bool f64 = t->dtype == SL_DT_F64;
        AddToArgs a = {.r = t->shape[0], .c = t->shape[1], .s0 = g->strides[0], .s1 = g->strides[1], .f64 = f64};
        a.a = f64 ? (void *)F64(t) : (void *)F32(t);
        a.b = f64 ? (const void *)F64(g) : (const void *)F32(g);
        sl_kernel(add_to_kernel, &a, sizeof a, &g, 1, NULL, 0, &t, 1);
        sl_tensor_bump_version(t); /* as add_'s copy back does */
        return true;
    }
    if (t->dtype == g->dtype && (t->dtype == SL_DT_F32 || t->dtype == SL_DT_F64) && !g->wrapped &&
        sl_tensor_same_shape(t, g) && t->storage != g->storage && sl_tensor_is_contiguous(t) &&
        sl_tensor_is_contiguous(g)) {
        /* what sl_tensor_add_ does here (its fast path), without its checks */
        bool f64 = t->dtype == SL_DT_F64;
        AddToArgs a = {.r = 1, .c = sl_tensor_numel(t), .s0 = sl_tensor_numel(t), .s1 = 1, .f64 = f64};
        a.a = f64 ? (void *)F64(t) : (void *)F32(t);
        a.b = f64 ? (const void *)F64(g) : (const void *)F32(g);
        sl_kernel(add_to_kernel, &a, sizeof a, &g, 1, NULL, 0, &t, 1);
        sl_tensor_bump_version(t);
        return true;
    }
    if (t->dtype == SL_DT_MPFR && g->dtype == SL_DT_MPFR && t->storage->prec == g->storage->prec &&
        sl_tensor_same_shape(t, g) && t->storage != g->storage && sl_tensor_is_contiguous(t) &&
        (t->ndim == 2 || sl_tensor_is_contiguous(g))) {
        /* one rounding at the common precision, as add_'s sum and copy back
         * (at 53 bits in doubles when both are: a sum of doubles rounds as
         * mpfr's, or is exact where double's range ends) */
        __mpfr_struct *a = MPF(t);
        const __mpfr_struct *b = MPF(g);
        bool d53 = t->storage->prec == 53;
        int64_t r = t->ndim == 2 ? t->shape[0] : 1, c = t->ndim == 2 ? t->shape[1] : sl_tensor_numel(t);
        int64_t s0 = t->ndim == 2 ? g->strides[0] : 0, s1 = t->ndim == 2 ? g->strides[1] : 1;
        for (int64_t i = 0; i < r; i++)
            for (int64_t j = 0; j < c; j++) {
                mpfr_ptr x = &a[i * c + j];
                mpfr_srcptr y = &b[i * s0 + j * s1];
                double xd, yd;
                if (d53 && sl_m53_get(x, -1021, &xd) && sl_m53_get(y, -1021, &yd) && isfinite(xd + yd))
                    sl_m53_set(x, xd + yd);
                else
                    mpfr_add(x, x, y, MPFR_RNDN);
            }
        sl_tensor_bump_version(t);
        return true;
    }
    return sl_tensor_add_(t, g, 1.0, err);
}

/* Whether a node's formula is elementwise: the gradient for each input is
 * grad times a local derivative of the output's shape. */
static bool elementwise(SlNodeKind k)
{
    switch (k) {
    case SL_N_ADD: case SL_N_SUB: case SL_N_RSUB: case SL_N_MUL: case SL_N_DIV: case SL_N_POW: case SL_N_POW_T:
    case SL_N_NEG: case SL_N_RECIPROCAL: case SL_N_REMAINDER: case SL_N_MINIMUM: case SL_N_MAXIMUM:
    case SL_N_ATAN2: case SL_N_SIN: case SL_N_COS: case SL_N_TAN: case SL_N_ASIN: case SL_N_ACOS: case SL_N_ATAN:
    case SL_N_SINH: case SL_N_COSH: case SL_N_TANH: case SL_N_EXP: case SL_N_LOG: case SL_N_LOG2: case SL_N_LOG10:
    case SL_N_SQRT: case SL_N_RSQRT: case SL_N_CBRT: case SL_N_ABS: case SL_N_SIGN: case SL_N_FLOOR: case SL_N_CEIL:
    case SL_N_ROUND: case SL_N_ROUND_DEC: case SL_N_SIGMOID: case SL_N_RELU: case SL_N_HEAVISIDE: case SL_N_CLONE:
    case SL_N_TOCOPY: case SL_N_CLAMP: case SL_N_WHERE: case SL_N_LEAKY_RELU: return true;
    default: return false;
    }
}

/* For a trace: the local derivatives of node x (its formula run on a
 * gradient of ones, which is exact: every formula is linear in the
 * gradient), when they are tensors of a useful shape; locs[i] NULL else. */
static void local_grads(SlNode *x, const SlTensor *G, SlTensor **locs)
{
    bool in_place = x->kind == SL_N_ZERO || x->kind == SL_N_FILL || x->kind == SL_N_COPY ||
                    x->kind == SL_N_COPYSLICES;
    if (in_place || !(elementwise(x->kind) || sl_tensor_numel(G) == 1))
        return;
    SlError e = {0};
    SlTensor *one = sl_tensor_ones_like(G, &e);
    if (one)
        node_backward(x, one, locs, &e); /* on failure locs stay NULL */
    sl_tensor_unref(one);
    sl_err_clear(&e);
}

static bool engine(SlTensor *root, SlTensor *gradient, bool retain_graph, SlAgTrace trace, void *ctx,
                   SlError *err);

static SlNode **seen_cache;    /* the engine's graph list, kept between backwards */
static size_t seen_cache_cap;
static Heap ready_cache;       /* its ready queue */
static bool engine_busy;       /* the caches are in use */

bool sl_ag_backward(SlTensor *root, SlTensor *gradient, bool retain_graph, SlError *err)
{
    return engine(root, gradient, retain_graph, NULL, NULL, err);
}

bool sl_ag_backward_traced(SlTensor *root, SlTensor *gradient, bool retain_graph, SlAgTrace trace, void *ctx,
                           SlError *err)
{
    return engine(root, gradient, retain_graph, trace, ctx, err);
}

static bool engine(SlTensor *root, SlTensor *gradient, bool retain_graph, SlAgTrace trace, void *ctx,
                   SlError *err)
{
    if (!root->requires_grad)
        return sl_err(err, SL_E_VALUE, "element 0 of tensors does not require grad and does not have a grad_fn");
    SlTensor *g;
    if (!gradient) {
        if (sl_tensor_numel(root) != 1) {
            char shp[16 * SL_TENSOR_MAXDIM];
            sl_shape_str(shp, sizeof shp, root->ndim, root->shape);
            sl_err(err, SL_E_VALUE, "grad can be implicitly created only for scalar outputs");
            const char *nm = sl_ag_receiver_name;
            char made[64] = "";
            if (root->grad_fn)
                snprintf(made, sizeof made, " (made by %s)", sl_node_name(root->grad_fn));
            if (nm)
                sl_err_hint(err, "%s has shape %s%s; reduce it to one number first, e.g. %s.sum().backward(), "
                                 "or pass gradient=",
                            nm, shp, made, nm);
            else
                sl_err_hint(err, "the tensor has shape %s%s; reduce it to one number first with .sum(), or pass "
                                 "gradient=",
                            shp, made);
            return false;
        }
        g = sl_tensor_ones_like(root, err);
        if (!g)
            return false;
        sl_capture_const(g);
    } else {
        if (gradient->ndim != root->ndim ||
            memcmp(gradient->shape, root->shape, (size_t)root->ndim * sizeof root->shape[0]) != 0) {
            char a[16 * SL_TENSOR_MAXDIM + 32], b[16 * SL_TENSOR_MAXDIM + 32];
            size_t k = (size_t)snprintf(a, sizeof a, "torch.Size([");
            for (int d = 0; d < gradient->ndim; d++)
                k += (size_t)snprintf(a + k, sizeof a - k, d ? ", %lld" : "%lld", (long long)gradient->shape[d]);
            snprintf(a + k, sizeof a - k, "])");
            k = (size_t)snprintf(b, sizeof b, "torch.Size([");
            for (int d = 0; d < root->ndim; d++)
                k += (size_t)snprintf(b + k, sizeof b - k, d ? ", %lld" : "%lld", (long long)root->shape[d]);
            snprintf(b + k, sizeof b - k, "])");
            return sl_err(err, SL_E_VALUE,
                          "Mismatch in shape: grad_output[0] has a shape of %s and output[0] has a shape of %s.", a,
                          b);
        }
        if (gradient->dtype != root->dtype)
            g = sl_tensor_to(gradient, root->dtype, sl_tensor_prec(root));
        else
            g = sl_tensor_clone(gradient);
    }
    SlNode *start = edge_of(root);
    uint64_t gen = ++generation;
    /* discover the graph and count dependencies */
    /* the work lists of the last backward are reused (a backward started
     * from inside another one, by a trace hook, gets its own) */
    bool cached = !engine_busy;
    engine_busy = true;
    SlNode **seen = cached ? seen_cache : NULL;
    size_t nseen = 0, capseen = cached ? seen_cache_cap : 0, top = 0;
#define PUSH_SEEN(x)                                                                                          \
    do {                                                                                                      \
        if (nseen == capseen) {                                                                               \
            capseen = capseen ? 2 * capseen : 64;                                                             \
            seen = realloc(seen, capseen * sizeof *seen);                                                     \
            if (!seen)                                                                                        \
                abort();                                                                                      \
        }                                                                                                     \
        seen[nseen++] = (x);                                                                                  \
    } while (0)
    start->mark = gen;
    start->deps = 0;
    start->buf = NULL;
    PUSH_SEEN(start);
    while (top < nseen) {
        SlNode *x = seen[top++];
        for (int i = 0; i < x->nnext; i++) {
            SlNode *m = x->next[i];
            if (!m)
                continue;
            if (m->mark != gen) {
                m->mark = gen;
                m->deps = 0;
                m->buf = NULL;
                PUSH_SEEN(m);
            }
            m->deps++;
        }
    }
    Heap ready = cached ? ready_cache : (Heap){NULL, 0, 0};
    ready.n = 0;
    start->buf = g;
    heap_push(&ready, start);
    bool ok = true;
    while (ok && ready.n > 0) {
        SlNode *x = heap_pop(&ready);
        /* a graph made before a capture: its checks (saved versions, freed
         * buffers) would not run again at a replay */
        if (sl_cap_on && x->kind != SL_N_ACCUMULATE && x->cap_id != sl_capture_id())
            sl_capture_fail("it runs a backward through a graph made before the recorded statements");
        SlTensor *G = x->buf;
        x->buf = NULL;
        SlTensor *outs[SL_NODE_MAXNEXT] = {NULL, NULL, NULL};
        SlTensor *locs[SL_NODE_MAXNEXT] = {NULL, NULL, NULL}, *sent[SL_NODE_MAXNEXT] = {NULL, NULL, NULL};
        bool had_grad = false;
        if (G) {
            if (x->kind == SL_N_ACCUMULATE) {
                had_grad = x->leaf->grad != NULL;
                ok = accumulate_leaf(x->leaf, G, err);
            } else {
                if (x->retain) {
                    SlTensor *rg = sl_tensor_contiguous(G);
                    ok = accumulate_leaf(x->retain, rg, err);
                    sl_tensor_unref(rg);
                }
                ok = ok && node_backward(x, G, outs, err);
                if (ok && trace)
                    local_grads(x, G, locs);
                if (ok && !retain_graph)
                    release(x);
            }
        }
        for (int i = 0; ok && i < x->nnext; i++) {
            SlNode *m = x->next[i];
            if (!m)
                continue;
            if (outs[i]) {
                SlTensor *v = validate(x, i, outs[i], err);
                ok = v && accumulate_buf(m, v, err);
                if (trace)
                    sent[i] = v; /* kept for the trace, released below */
                else
                    sl_tensor_unref(v);
            }
            if (--m->deps == 0)
                heap_push(&ready, m);
        }
        if (ok && trace && G) {
            SlAgStep step = {.node = x, .grad = G, .accumulated = had_grad};
            for (int i = 0; i < SL_NODE_MAXNEXT; i++) {
                step.local[i] = locs[i];
                step.sent[i] = sent[i];
            }
            trace(ctx, &step);
        }
        for (int i = 0; i < SL_NODE_MAXNEXT; i++) {
            sl_tensor_unref(outs[i]);
            sl_tensor_unref(locs[i]);
            sl_tensor_unref(sent[i]);
        }
        sl_tensor_unref(G);
    }
#undef PUSH_SEEN
    for (size_t i = 0; i < nseen; i++) {
        sl_tensor_unref(seen[i]->buf);
        seen[i]->buf = NULL;
    }
    if (cached && capseen <= 65536 && ready.cap <= 65536) {
        seen_cache = seen;
        seen_cache_cap = capseen;
        ready_cache = ready;
    } else {
        free(seen);
        free(ready.a);
        if (cached) {
            seen_cache = NULL;
            seen_cache_cap = 0;
            ready_cache = (Heap){NULL, 0, 0};
        }
    }
    if (cached)
        engine_busy = false;
    sl_node_unref(start);
    return ok;
}

/* ---------------------------------------------------------------------------
 * Differentiable operations
 * ------------------------------------------------------------------------- */

SlTensor *sl_ag_add_alpha(SlTensor *a, SlTensor *b, double alpha, SlError *err)
{
    SlTensor *r = sl_tensor_add_alpha(a, b, alpha, err);
    SlTensor *in[2] = {a, b};
    SlNode *n = record(SL_N_ADD, r, 2, in);
    if (n)
        n->scalar = alpha;
    return r;
}

SlTensor *sl_ag_binary(SlTOp op, SlTensor *a, SlTensor *b, SlError *err)
{
    if (op == SL_T_ADD)
        return sl_ag_add_alpha(a, b, 1.0, err);
    SlTensor *r = sl_tensor_binary(op, a, b, err);
    if (!r)
        return NULL;
    SlTensor *in[2] = {a, b};
    SlNode *n = NULL;
    switch (op) {
    case SL_T_SUB:
        n = record(SL_N_SUB, r, 2, in);
        if (n)
            n->scalar = 1.0;
        break;
    case SL_T_MUL:
        if ((n = record(SL_N_MUL, r, 2, in))) {
            if (n->next[0])
                save(n, b);
            if (n->next[1])
                save(n, a);
        }
        break;
    case SL_T_DIV:
        if ((n = record(SL_N_DIV, r, 2, in))) {
            save(n, b);
            if (n->next[1])
                save(n, a);
        }
        break;
    case SL_T_POW:
        if ((n = record(SL_N_POW_T, r, 2, in))) {
            save(n, a);
            save(n, b);
            save(n, r);
        }
        break;
    case SL_T_MOD:
        if ((n = record(SL_N_REMAINDER, r, 2, in))) {
            save(n, a);
            save(n, b);
        }
        break;
    case SL_T_MINIMUM:
    case SL_T_MAXIMUM:
    case SL_T_ATAN2:
        if ((n = record(op == SL_T_MINIMUM ? SL_N_MINIMUM : op == SL_T_MAXIMUM ? SL_N_MAXIMUM : SL_N_ATAN2, r, 2,
                        in))) {
            save(n, a);
            save(n, b);
        }
        break;
    case SL_T_FLOORDIV:
        if (sl_grad_enabled() && (a->requires_grad || b->requires_grad)) {
            sl_tensor_unref(r);
            return sl_err(err, SL_E_VALUE, "the derivative for 'floor_divide' is not implemented."), NULL;
        }
        break;
    default: break; /* comparisons, bitwise: no gradient */
    }
    return r;
}

SlTensor *sl_ag_rsub(SlTensor *x, SlTensor *scalar, SlError *err)
{
    SlTensor *r = sl_tensor_binary(SL_T_SUB, scalar, x, err);
    SlTensor *in[2] = {x, scalar};
    SlNode *n = record(SL_N_RSUB, r, 2, in);
    if (n)
        n->scalar = 1.0;
    return r;
}

static SlTensor *unary_node(SlNodeKind kind, int fn, SlTensor *x, int save_what /* 0 none, 1 self, 2 result */,
                            SlError *err)
{
    SlTensor *r = sl_tensor_unary(fn, x, err);
    SlNode *n = record(kind, r, 1, &x);
    if (n && save_what)
        save(n, save_what == 1 ? x : r);
    return r;
}

SlTensor *sl_ag_rdiv(SlTensor *x, SlTensor *scalar, SlError *err)
{
    SlTensor *rec = unary_node(SL_N_RECIPROCAL, SL_TU_RECIPROCAL, x, 2, err);
    if (!rec)
        return NULL;
    SlTensor *r = sl_ag_binary(SL_T_MUL, rec, scalar, err);
    sl_tensor_unref(rec);
    return r;
}

SlTensor *sl_ag_pow_scalar(SlTensor *x, double e, SlError *err)
{
    SlTensor *r = sl_tensor_pow_scalar(x, e, err);
    SlNode *n = record(SL_N_POW, r, 1, &x);
    if (n) {
        n->scalar = e;
        save(n, x);
    }
    return r;
}

SlTensor *sl_ag_neg(SlTensor *x, SlError *err) { return unary_node(SL_N_NEG, SL_TU_NEG, x, 0, err); }

SlTensor *sl_ag_unary(int fn, SlTensor *x, SlError *err)
{
    switch (fn) {
    case SL_FN_SIN: return unary_node(SL_N_SIN, fn, x, 1, err);
    case SL_FN_COS: return unary_node(SL_N_COS, fn, x, 1, err);
    case SL_FN_TAN: return unary_node(SL_N_TAN, fn, x, 2, err);
    case SL_FN_ASIN: return unary_node(SL_N_ASIN, fn, x, 1, err);
    case SL_FN_ACOS: return unary_node(SL_N_ACOS, fn, x, 1, err);
    case SL_FN_ATAN: return unary_node(SL_N_ATAN, fn, x, 1, err);
    case SL_FN_SINH: return unary_node(SL_N_SINH, fn, x, 1, err);
    case SL_FN_COSH: return unary_node(SL_N_COSH, fn, x, 1, err);
    case SL_FN_TANH: return unary_node(SL_N_TANH, fn, x, 2, err);
    case SL_FN_EXP: return unary_node(SL_N_EXP, fn, x, 2, err);
    case SL_FN_LOG: return unary_node(SL_N_LOG, fn, x, 1, err);
    case SL_FN_LOG2: return unary_node(SL_N_LOG2, fn, x, 1, err);
    case SL_FN_LOG10: return unary_node(SL_N_LOG10, fn, x, 1, err);
    case SL_FN_SQRT: return unary_node(SL_N_SQRT, fn, x, 2, err);
    case SL_FN_CBRT: return unary_node(SL_N_CBRT, fn, x, 2, err);
    case SL_FN_ABS: return unary_node(SL_N_ABS, fn, x, 1, err);
    case SL_FN_SIGN: return unary_node(SL_N_SIGN, fn, x, 0, err);
    case SL_FN_FLOOR: return unary_node(SL_N_FLOOR, fn, x, 0, err);
    case SL_FN_CEIL: return unary_node(SL_N_CEIL, fn, x, 0, err);
    case SL_FN_ROUND: return unary_node(SL_N_ROUND, fn, x, 0, err);
    case SL_FN_SIGMOID: return unary_node(SL_N_SIGMOID, fn, x, 2, err);
    case SL_FN_RELU: return unary_node(SL_N_RELU, fn, x, 2, err);
    case SL_FN_HEAVISIDE: return unary_node(SL_N_HEAVISIDE, fn, x, 0, err);
    case SL_TU_NEG: return unary_node(SL_N_NEG, fn, x, 0, err);
    case SL_TU_RECIPROCAL: return unary_node(SL_N_RECIPROCAL, fn, x, 2, err);
    case SL_TU_RSQRT: return unary_node(SL_N_RSQRT, fn, x, 2, err);
    default: return sl_tensor_unary(fn, x, err); /* no gradient (bitwise not, ...) */
    }
}

SlTensor *sl_ag_round_dec(SlTensor *x, long decimals, SlError *err)
{
    SlTensor *r = sl_tensor_round_dec(x, decimals, err);
    SlNode *n = record(SL_N_ROUND_DEC, r, 1, &x);
    if (n)
        n->ival = decimals;
    return r;
}

static uint32_t all_mask(int ndim) { return ndim >= 32 ? ~0u : (uint32_t)((UINT64_C(1) << ndim) - 1); }

SlTensor *sl_ag_sum(SlTensor *x, uint32_t mask, bool all, bool keepdim, SlError *err)
{
    if (all) {
        mask = all_mask(x->ndim);
        keepdim = false;
    }
    SlTensor *r = sl_tensor_sum(x, mask, keepdim, err);
    SlNode *n = record(all ? SL_N_SUM : SL_N_SUM_DIM, r, 1, &x);
    if (n) {
        n->mask = mask;
        n->keepdim = keepdim;
    }
    return r;
}

SlTensor *sl_ag_mean(SlTensor *x, uint32_t mask, bool all, bool keepdim, SlError *err)
{
    if (all) {
        mask = all_mask(x->ndim);
        keepdim = false;
    }
    SlTensor *r = sl_tensor_mean(x, mask, keepdim, err);
    SlNode *n = record(all ? SL_N_MEAN : SL_N_MEAN_DIM, r, 1, &x);
    if (n) {
        int64_t cnt = 1;
        for (int d = 0; d < x->ndim; d++)
            if (mask & (1u << d))
                cnt *= x->shape[d];
        n->mask = mask;
        n->keepdim = keepdim;
        n->ival = cnt;
    }
    return r;
}

SlTensor *sl_ag_max_all(SlTensor *x, bool is_min, SlError *err)
{
    SlTensor *r = sl_tensor_max_all(x, is_min, err);
    SlNode *n = record(is_min ? SL_N_MIN_ALL : SL_N_MAX_ALL, r, 1, &x);
    if (n) {
        save(n, x);
        save(n, r);
    }
    return r;
}

bool sl_ag_max_dim(SlTensor *x, int dim, bool keepdim, bool is_min, SlTensor **values, SlTensor **indices,
                   SlError *err)
{
    if (!sl_tensor_wrap_dim(&dim, x->ndim, err))
        return false;
    if (!sl_tensor_max_dim(x, dim, keepdim, is_min, values, indices, err))
        return false;
    SlNode *n = record(is_min ? SL_N_MIN_DIM : SL_N_MAX_DIM, *values, 1, &x);
    if (n) {
        n->ival = x->ndim ? dim : 0;
        n->keepdim = keepdim || x->ndim == 0;
        save(n, *indices);
    }
    return true;
}

static SlTensor *mm_like(SlNodeKind kind, SlTensor *a, SlTensor *b, SlTensor *r)
{
    SlTensor *in[2] = {a, b};
    SlNode *n = record(kind, r, 2, in);
    if (n) {
        if (n->next[0])
            save(n, b);
        if (n->next[1])
            save(n, a);
    }
    return r;
}

SlTensor *sl_ag_mm(SlTensor *a, SlTensor *b, SlError *err)
{
    SlTensor *r = sl_tensor_mm(a, b, err);
    return r ? mm_like(SL_N_MM, a, b, r) : NULL;
}

static void shape_msg(char *buf, size_t n, const SlTensor *t)
{
    sl_shape_str(buf, n, t->ndim, t->shape);
}

SlTensor *sl_ag_matmul(SlTensor *a, SlTensor *b, SlError *err)
{
    if (a->ndim == 0 || b->ndim == 0)
        return sl_err(err, SL_E_VALUE, "both arguments to matmul need to be at least 1D, but they are %dD and %dD",
                      a->ndim, b->ndim),
               NULL;
    int64_t ka = a->shape[a->ndim - 1], kb = b->ndim == 1 ? b->shape[0] : b->shape[b->ndim - 2];
    if (ka != kb) {
        char sa[16 * SL_TENSOR_MAXDIM], sb[16 * SL_TENSOR_MAXDIM];
        shape_msg(sa, sizeof sa, a);
        shape_msg(sb, sizeof sb, b);
        sl_err(err, SL_E_VALUE, "shape mismatch: %s @ %s", sa, sb);
        sl_err_hint(err, "the last dimension of the left operand (%lld) must equal the %s dimension of the right "
                         "operand (%lld)",
                    (long long)ka, b->ndim == 1 ? "only" : "second-to-last", (long long)kb);
        return NULL;
    }
    if (a->ndim == 1 && b->ndim == 1) {
        SlTensor *r = sl_tensor_dot(a, b, err);
        return r ? mm_like(SL_N_DOT, a, b, r) : NULL;
    }
    if (a->ndim == 2 && b->ndim == 1) {
        SlTensor *r = sl_tensor_mv(a, b, err);
        return r ? mm_like(SL_N_MV, a, b, r) : NULL;
    }
    if (a->ndim == 1 && b->ndim == 2) {
        SlTensor *ua = sl_ag_unsqueeze(a, 0, err);
        if (!ua)
            return NULL;
        SlTensor *m = sl_ag_mm(ua, b, err);
        sl_tensor_unref(ua);
        if (!m)
            return NULL;
        SlTensor *r = sl_tensor_squeeze(m, 0, err);
        SlNode *n = record(SL_N_SQUEEZE_MM, r, 1, &m);
        if (n)
            n->ival = 0;
        sl_tensor_unref(m);
        return r;
    }
    if (a->ndim == 2 && b->ndim == 2)
        return sl_ag_mm(a, b, err);
    /* batched: broadcast the batch dims, fold them into one, bmm, unfold */
    int na = a->ndim, nb = b->ndim;
    SlTensor *A = sl_tensor_ref(a), *Bt = sl_tensor_ref(b);
    bool a1 = na == 1, b1 = nb == 1;
    if (a1) {
        sl_tensor_unref(A);
        A = sl_ag_unsqueeze(a, 0, err);
        na = 2;
    }
    if (b1) {
        sl_tensor_unref(Bt);
        Bt = sl_ag_unsqueeze(b, 1, err);
        nb = 2;
    }
    if (!A || !Bt) {
        sl_tensor_unref(A);
        sl_tensor_unref(Bt);
        return NULL;
    }
    int nbatch_a = na - 2, nbatch_b = nb - 2;
    int nbatch = nbatch_a > nbatch_b ? nbatch_a : nbatch_b;
    int64_t batch[SL_TENSOR_MAXDIM];
    for (int i = 0; i < nbatch; i++) {
        int da = nbatch_a - nbatch + i, db = nbatch_b - nbatch + i;
        int64_t x = da >= 0 ? A->shape[da] : 1, y = db >= 0 ? Bt->shape[db] : 1;
        if (x != y && x != 1 && y != 1) {
            char sa[16 * SL_TENSOR_MAXDIM], sb[16 * SL_TENSOR_MAXDIM];
            shape_msg(sa, sizeof sa, a);
            shape_msg(sb, sizeof sb, b);
            sl_tensor_unref(A);
            sl_tensor_unref(Bt);
            return sl_err(err, SL_E_VALUE, "shape mismatch: %s @ %s (batch dimensions %lld and %lld)", sa, sb,
                          (long long)x, (long long)y),
                   NULL;
        }
        batch[i] = x == 1 ? y : x;
    }
    int64_t m = A->shape[na - 2], k = A->shape[na - 1], p = Bt->shape[nb - 1], nbt = 1;
    for (int i = 0; i < nbatch; i++)
        nbt *= batch[i];
    int64_t ea[SL_TENSOR_MAXDIM], eb[SL_TENSOR_MAXDIM];
    memcpy(ea, batch, (size_t)nbatch * sizeof *batch);
    memcpy(eb, batch, (size_t)nbatch * sizeof *batch);
    ea[nbatch] = m;
    ea[nbatch + 1] = k;
    eb[nbatch] = k;
    eb[nbatch + 1] = p;
    SlTensor *Ae = sl_ag_expand(A, nbatch + 2, ea, err), *Be = Ae ? sl_ag_expand(Bt, nbatch + 2, eb, err) : NULL;
    sl_tensor_unref(A);
    sl_tensor_unref(Bt);
    int64_t s3a[3] = {nbt, m, k}, s3b[3] = {nbt, k, p};
    SlTensor *A3 = Be ? sl_ag_reshape(Ae, 3, s3a, err) : NULL, *B3 = A3 ? sl_ag_reshape(Be, 3, s3b, err) : NULL;
    sl_tensor_unref(Ae);
    sl_tensor_unref(Be);
    SlTensor *R3 = B3 ? sl_tensor_bmm(A3, B3, err) : NULL;
    if (R3)
        mm_like(SL_N_BMM, A3, B3, R3);
    sl_tensor_unref(A3);
    sl_tensor_unref(B3);
    if (!R3)
        return NULL;
    int64_t rs[SL_TENSOR_MAXDIM];
    int nr = 0;
    for (int i = 0; i < nbatch; i++)
        rs[nr++] = batch[i];
    if (!a1)
        rs[nr++] = m;
    if (!b1)
        rs[nr++] = p;
    SlTensor *r = sl_tensor_view(R3, nr, rs, err);
    SlNode *n = record(SL_N_UNSAFE_VIEW, r, 1, &R3);
    (void)n;
    sl_tensor_unref(R3);
    return r;
}

/* Views: record a node and mark views of leaves (for in-place checks). */
static SlTensor *view_node(SlNodeKind kind, SlTensor *x, SlTensor *v)
{
    if (!v)
        return NULL;
    SlNode *n = record(kind, v, 1, &x);
    if (n && (x->view_of_leaf || (x->requires_grad && x->grad_fn == NULL)))
        v->view_of_leaf = true;
    return v;
}

SlTensor *sl_ag_view(SlTensor *x, int ndim, const int64_t *shape, SlError *err)
{
    return view_node(SL_N_VIEW, x, sl_tensor_view(x, ndim, shape, err));
}

SlTensor *sl_ag_reshape(SlTensor *x, int ndim, const int64_t *shape, SlError *err)
{
    bool copied = false;
    SlTensor *v = sl_tensor_reshape(x, ndim, shape, &copied, err);
    if (!v)
        return NULL;
    if (!copied)
        return view_node(SL_N_RESHAPE_ALIAS, x, v);
    /* torch: clone (CloneBackward0) then _unsafe_view (UnsafeViewBackward0) */
    SlTensor *c = sl_ag_clone(x, err);
    SlNode *n = record(SL_N_UNSAFE_VIEW, v, 1, &c);
    (void)n;
    sl_tensor_unref(c);
    return v;
}

SlTensor *sl_ag_flatten(SlTensor *x, int start, int end, SlError *err)
{
    if (x->ndim == 0) {
        int64_t one = 1;
        return sl_ag_reshape(x, 1, &one, err);
    }
    if (!sl_tensor_wrap_dim(&start, x->ndim, err) || !sl_tensor_wrap_dim(&end, x->ndim, err))
        return NULL;
    if (start > end)
        return sl_err(err, SL_E_VALUE, "flatten() has invalid args: start_dim cannot come after end_dim"), NULL;
    if (start == end)
        return sl_tensor_ref(x);
    int64_t shape[SL_TENSOR_MAXDIM];
    int k = 0;
    for (int d = 0; d < start; d++)
        shape[k++] = x->shape[d];
    int64_t p = 1;
    for (int d = start; d <= end; d++)
        p *= x->shape[d];
    shape[k++] = p;
    for (int d = end + 1; d < x->ndim; d++)
        shape[k++] = x->shape[d];
    return sl_ag_reshape(x, k, shape, err);
}

SlTensor *sl_ag_squeeze(SlTensor *x, int dim, SlError *err)
{
    if (dim != -1000 && !sl_tensor_wrap_dim(&dim, x->ndim, err))
        return NULL;
    SlTensor *v = sl_tensor_squeeze(x, dim, err);
    v = view_node(dim == -1000 ? SL_N_SQUEEZE_ALL : SL_N_SQUEEZE_DIM, x, v);
    if (v && v->grad_fn && dim != -1000 && v->grad_fn->kind == SL_N_SQUEEZE_DIM)
        v->grad_fn->ival = dim;
    return v;
}

SlTensor *sl_ag_unsqueeze(SlTensor *x, int dim, SlError *err)
{
    if (!sl_tensor_wrap_dim(&dim, x->ndim + 1, err))
        return NULL;
    SlTensor *v = view_node(SL_N_UNSQUEEZE, x, sl_tensor_unsqueeze(x, dim, err));
    if (v && v->grad_fn && v->grad_fn->kind == SL_N_UNSQUEEZE)
        v->grad_fn->ival = dim;
    return v;
}

SlTensor *sl_ag_t(SlTensor *x, SlError *err)
{
    if (x->ndim > 2)
        return sl_err(err, SL_E_VALUE, "t() expects a tensor with <= 2 dimensions, but self is %dD", x->ndim), NULL;
    SlTensor *v = x->ndim < 2 ? sl_tensor_alias(x) : sl_tensor_transpose(x, 0, 1, err);
    return view_node(SL_N_T, x, v);
}

SlTensor *sl_ag_transpose(SlTensor *x, int d0, int d1, SlError *err)
{
    if (!sl_tensor_wrap_dim(&d0, x->ndim, err) || !sl_tensor_wrap_dim(&d1, x->ndim, err))
        return NULL;
    SlTensor *v = view_node(SL_N_TRANSPOSE, x, sl_tensor_transpose(x, d0, d1, err));
    if (v && v->grad_fn && v->grad_fn->kind == SL_N_TRANSPOSE) {
        v->grad_fn->ival = d0;
        v->grad_fn->ival2 = d1;
    }
    return v;
}

SlTensor *sl_ag_permute(SlTensor *x, const int *perm, SlError *err)
{
    SlTensor *v = view_node(SL_N_PERMUTE, x, sl_tensor_permute(x, perm, err));
    if (v && v->grad_fn && v->grad_fn->kind == SL_N_PERMUTE)
        for (int d = 0; d < x->ndim; d++) {
            int p = perm[d];
            if (p < 0)
                p += x->ndim;
            v->grad_fn->in_shape[1][d] = p;
        }
    return v;
}

SlTensor *sl_ag_expand(SlTensor *x, int ndim, const int64_t *shape, SlError *err)
{
    return view_node(SL_N_EXPAND, x, sl_tensor_expand(x, ndim, shape, err));
}

SlTensor *sl_ag_select(SlTensor *x, int dim, int64_t index, SlError *err)
{
    if (!sl_tensor_wrap_dim(&dim, x->ndim, err))
        return NULL;
    SlTensor *v = view_node(SL_N_SELECT, x, sl_tensor_select(x, dim, index, err));
    if (v && v->grad_fn && v->grad_fn->kind == SL_N_SELECT) {
        v->grad_fn->ival = dim;
        v->grad_fn->ival2 = index < 0 ? index + x->shape[dim] : index;
    }
    return v;
}

SlTensor *sl_ag_slice(SlTensor *x, int dim, int64_t start, int64_t stop, int64_t step, SlError *err)
{
    if (!sl_tensor_wrap_dim(&dim, x->ndim, err))
        return NULL;
    SlTensor *v = view_node(SL_N_SLICE, x, sl_tensor_slice(x, dim, start, stop, step, err));
    if (v && v->grad_fn && v->grad_fn->kind == SL_N_SLICE) {
        int64_t size = x->shape[dim];
        if (start < 0)
            start += size;
        if (start < 0)
            start = 0;
        if (start > size)
            start = size;
        if (stop < 0)
            stop += size;
        if (stop > size)
            stop = size;
        if (stop < start)
            stop = start;
        v->grad_fn->ival = dim;
        v->grad_fn->ival2 = start;
        v->grad_fn->scalar = (double)stop;
        v->grad_fn->ival3 = step;
    }
    return v;
}

SlTensor *sl_ag_clone(SlTensor *x, SlError *err)
{
    (void)err;
    SlTensor *r = sl_tensor_clone(x);
    record(SL_N_CLONE, r, 1, &x);
    return r;
}

SlTensor *sl_ag_to(SlTensor *x, SlDType dt, mpfr_prec_t prec, SlError *err)
{
    if (x->dtype == dt && (dt != SL_DT_MPFR || x->storage->prec == prec))
        return sl_tensor_ref(x);
    if (!sl_dtype_is_float(dt) && x->requires_grad && sl_grad_enabled()) {
        /* torch allows it but the result does not require grad */
        return sl_tensor_to(x, dt, prec);
    }
    (void)err;
    SlTensor *r = sl_tensor_to(x, dt, prec);
    record(SL_N_TOCOPY, r, 1, &x);
    return r;
}

SlTensor *sl_ag_index_tensor(SlTensor *x, SlTensor *index, SlError *err)
{
    SlTensor *r = NULL;
    if (index->dtype == SL_DT_BOOL) {
        if (index->ndim > x->ndim)
            return sl_err(err, SL_E_TENSOR_INDEX, "too many indices for tensor of dimension %d", x->ndim), NULL;
        for (int d = 0; d < index->ndim; d++)
            if (index->shape[d] != x->shape[d])
                return sl_err(err, SL_E_TENSOR_INDEX,
                              "The shape of the mask [%lld] at index %d does not match the shape of the indexed "
                              "tensor [%lld] at index %d",
                              (long long)index->shape[d], d, (long long)x->shape[d], d),
                       NULL;
        int64_t cnt = 0, n = sl_tensor_numel(index), inner = 1;
        for (int64_t i = 0; i < n; i++)
            cnt += sl_tensor_get_b(index, i);
        int64_t shape[SL_TENSOR_MAXDIM];
        int k = 0;
        shape[k++] = cnt;
        for (int d = index->ndim; d < x->ndim; d++) {
            shape[k++] = x->shape[d];
            inner *= x->shape[d];
        }
        SlTensor *c = sl_tensor_contiguous(x);
        r = sl_tensor_zeros(x->dtype, k, shape, sl_tensor_prec(x), err);
        int64_t o = 0;
        for (int64_t i = 0; r && i < n; i++)
            if (sl_tensor_get_b(index, i))
                for (int64_t j = 0; j < inner; j++, o++) {
                    if (x->dtype == SL_DT_MPFR)
                        sl_tensor_set_m(r, o, sl_tensor_get_m(c, i * inner + j));
                    else if (x->dtype == SL_DT_I64)
                        sl_tensor_set_i(r, o, sl_tensor_get_i(c, i * inner + j));
                    else
                        sl_tensor_set_d(r, o, sl_tensor_get_d(c, i * inner + j));
                }
        sl_tensor_unref(c);
    } else {
        if (x->ndim == 0)
            return sl_err(err, SL_E_TENSOR_INDEX, "too many indices for tensor of dimension 0"), NULL;
        int64_t n = sl_tensor_numel(index), inner = 1;
        for (int64_t i = 0; i < n; i++) {
            int64_t v = sl_tensor_get_i(index, i);
            if (v < -x->shape[0] || v >= x->shape[0])
                return sl_err(err, SL_E_TENSOR_INDEX, "index %lld is out of bounds for dimension 0 with size %lld",
                              (long long)v, (long long)x->shape[0]),
                       NULL;
        }
        int64_t shape[SL_TENSOR_MAXDIM];
        int k = 0;
        for (int d = 0; d < index->ndim; d++)
            shape[k++] = index->shape[d];
        for (int d = 1; d < x->ndim; d++) {
            shape[k++] = x->shape[d];
            inner *= x->shape[d];
        }
        if (k > SL_TENSOR_MAXDIM)
            return sl_err(err, SL_E_LIMIT, "tensors have at most 16 dimensions"), NULL;
        SlTensor *c = sl_tensor_contiguous(x);
        r = sl_tensor_zeros(x->dtype, k, shape, sl_tensor_prec(x), err);
        for (int64_t i = 0; r && i < n; i++) {
            int64_t row = sl_tensor_get_i(index, i);
            if (row < 0)
                row += x->shape[0];
            for (int64_t j = 0; j < inner; j++) {
                if (x->dtype == SL_DT_MPFR)
                    sl_tensor_set_m(r, i * inner + j, sl_tensor_get_m(c, row * inner + j));
                else if (x->dtype == SL_DT_I64 || x->dtype == SL_DT_BOOL)
                    sl_tensor_set_i(r, i * inner + j, sl_tensor_get_i(c, row * inner + j));
                else
                    sl_tensor_set_d(r, i * inner + j, sl_tensor_get_d(c, row * inner + j));
            }
        }
        sl_tensor_unref(c);
    }
    if (!r)
        return NULL;
    SlNode *n = record(SL_N_INDEX, r, 1, &x);
    if (n)
        save(n, index);
    return r;
}

SlTensor *sl_ag_norm(SlTensor *x, double p, SlError *err)
{
    if (p != 1.0 && p != 2.0)
        return sl_err(err, SL_E_VALUE, "norm(p=%g): slope has p=1 and p=2", p), NULL;
    if (!sl_dtype_is_float(x->dtype))
        return sl_err(err, SL_E_TYPE, "linalg.vector_norm: Expected a floating point or complex tensor as input. "
                                      "Got %s",
                      x->dtype == SL_DT_I64 ? "Long" : "Bool"),
               NULL;
    /* torch's norm reduction: terms accumulated in order, then sqrt */
    SlTensor *t = p == 1.0 ? sl_tensor_unary(SL_FN_ABS, x, err) : sl_tensor_unary(SL_TU_SQUARE, x, err);
    if (!t)
        return NULL;
    SlTensor *c = sl_tensor_contiguous(t);
    SlTensor *r = sl_tensor_zeros(x->dtype, 0, NULL, sl_tensor_prec(x), err);
    int64_t n = sl_tensor_numel(c);
    if (x->dtype == SL_DT_F32) {
        float acc = 0;
        for (int64_t i = 0; i < n; i++)
            acc += sl_tensor_get_f(c, i);
        sl_tensor_set_d(r, 0, p == 1.0 ? acc : sqrtf(acc));
    } else if (x->dtype == SL_DT_F64) {
        double acc = 0;
        for (int64_t i = 0; i < n; i++)
            acc += sl_tensor_get_d(c, i);
        sl_tensor_set_d(r, 0, p == 1.0 ? acc : sqrt(acc));
    } else {
        SlTensor *sm = sl_tensor_sum(c, ~0u, false, err);
        SlTensor *q = p == 1.0 ? sl_tensor_ref(sm) : sl_tensor_unary(SL_FN_SQRT, sm, err);
        sl_tensor_set_m(r, 0, sl_tensor_get_m(q, 0));
        sl_tensor_unref(sm);
        sl_tensor_unref(q);
    }
    sl_tensor_unref(c);
    sl_tensor_unref(t);
    SlNode *node = record(SL_N_NORM, r, 1, &x);
    if (node) {
        node->scalar = p;
        save(node, x);
        save(node, r);
    }
    return r;
}

SlTensor *sl_ag_clamp(SlTensor *x, bool has_min, double lo, bool has_max, double hi, SlError *err)
{
    if (!has_min && !has_max)
        return sl_err(err, SL_E_VALUE, "torch.clamp: At least one of 'min' or 'max' must not be None"), NULL;
    SlTensor *r = sl_tensor_ref(x);
    if (has_min) {
        SlTensor *m = sl_tensor_scalar_d(SL_DT_F64, lo, 0);
        m->wrapped = true;
        SlTensor *t = sl_tensor_binary(SL_T_MAXIMUM, r, m, err);
        sl_tensor_unref(m);
        sl_tensor_unref(r);
        r = t;
    }
    if (r && has_max) {
        SlTensor *m = sl_tensor_scalar_d(SL_DT_F64, hi, 0);
        m->wrapped = true;
        SlTensor *t = sl_tensor_binary(SL_T_MINIMUM, r, m, err);
        sl_tensor_unref(m);
        sl_tensor_unref(r);
        r = t;
    }
    if (r == x) { /* keep identity semantics: always a new tensor */
        sl_tensor_unref(r);
        r = sl_tensor_clone(x);
    }
    SlNode *node = r ? record(SL_N_CLAMP, r, 1, &x) : NULL;
    if (node) {
        node->ival = (has_min ? 1 : 0) | (has_max ? 2 : 0);
        node->scalar = lo;
        node->scalar2 = hi;
        save(node, x);
    }
    return r;
}

SlTensor *sl_ag_where(SlTensor *cond, SlTensor *a, SlTensor *b, SlError *err)
{
    if (cond->dtype != SL_DT_BOOL)
        return sl_err(err, SL_E_TYPE, "where expected condition to be a boolean tensor, but got a tensor with "
                                      "dtype %s",
                      cond->dtype == SL_DT_I64 ? "Long" : "Float"),
               NULL;
    SlTensor *r = sl_tensor_where(cond, a, b, err);
    SlTensor *in[2] = {a, b};
    SlNode *node = r ? record(SL_N_WHERE, r, 2, in) : NULL;
    if (node)
        save(node, cond);
    return r;
}

/* up to SL_NODE_MAXNEXT tensors in one node; longer lists fold */
static SlTensor *cat_some(SlTensor *const *ts, int n, int dim, bool stack, SlError *err)
{
    SlTensor *items[SL_NODE_MAXNEXT];
    for (int i = 0; i < n; i++) {
        items[i] = stack ? sl_tensor_unsqueeze(ts[i], dim, err) : sl_tensor_ref(ts[i]);
        if (!items[i]) {
            for (int j = 0; j < i; j++)
                sl_tensor_unref(items[j]);
            return NULL;
        }
    }
    SlDTypeP rt = sl_result_type(items, n);
    /* every operand ranks as a dimensioned tensor here */
    rt = (SlDTypeP){items[0]->dtype, sl_tensor_prec(items[0])};
    for (int i = 1; i < n; i++) {
        SlTensor *pair[2] = {NULL, items[i]};
        SlTensor *tmp = sl_tensor_zeros(rt.dt, 1, (const int64_t[]){1}, rt.prec, err);
        pair[0] = tmp;
        rt = sl_result_type(pair, 2);
        sl_tensor_unref(tmp);
    }
    int nd = items[0]->ndim;
    SlTensor *r = NULL;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (nd == 0) {
        sl_err(err, SL_E_VALUE, "zero-dimensional tensor (at position 0) cannot be concatenated");
        goto done;
    }
    memcpy(shape, items[0]->shape, sizeof shape);
    shape[dim] = 0;
    for (int i = 0; i < n; i++) {
        bool ok = items[i]->ndim == nd;
        for (int k = 0; ok && k < nd; k++)
            if (k != dim && items[i]->shape[k] != items[0]->shape[k])
                ok = false;
        if (!ok) {
            char a[16 * SL_TENSOR_MAXDIM], b[16 * SL_TENSOR_MAXDIM];
            sl_shape_str(a, sizeof a, items[0]->ndim, items[0]->shape);
            sl_shape_str(b, sizeof b, items[i]->ndim, items[i]->shape);
            if (stack)
                sl_err(err, SL_E_VALUE, "stack expects each tensor to be equal size, but got %s at entry 0 and %s at "
                                        "entry %d",
                       a, b, i);
            else
                sl_err(err, SL_E_VALUE, "Sizes of tensors must match except in dimension %d: %s at entry 0 and %s "
                                        "at entry %d",
                       dim, a, b, i);
            goto done;
        }
        shape[dim] += items[i]->shape[dim];
    }
    r = sl_tensor_zeros(rt.dt, nd, shape, rt.prec, err);
    int64_t off = 0;
    for (int i = 0; r && i < n; i++) {
        SlTensor *dst = sl_tensor_slice(r, dim, off, off + items[i]->shape[dim], 1, err);
        bool ok = dst && sl_tensor_copy_(dst, items[i], err);
        sl_tensor_unref(dst);
        if (!ok) {
            sl_tensor_unref(r);
            r = NULL;
            break;
        }
        off += items[i]->shape[dim];
    }
    if (r) {
        r->version->v = 0;
        SlNode *node = record(stack ? SL_N_STACK : SL_N_CAT, r, n, (SlTensor *const *)ts);
        if (node)
            node->ival = dim;
    }
done:
    for (int i = 0; i < n; i++)
        sl_tensor_unref(items[i]);
    return r;
}

SlTensor *sl_ag_cat(SlTensor *const *ts, int n, int dim, bool stack, SlError *err)
{
    if (n <= 0)
        return sl_err(err, SL_E_VALUE, "%s expects a non-empty TensorList", stack ? "stack" : "torch.cat"), NULL;
    if (!sl_tensor_wrap_dim(&dim, ts[0]->ndim + (stack ? 1 : 0), err))
        return NULL;
    if (n <= SL_NODE_MAXNEXT)
        return cat_some(ts, n, dim, stack, err);
    /* stack = cat of unsqueezed; fold in groups: cat(cat(a, b, c), d, e) ... */
    SlTensor *acc = NULL;
    int i = 0;
    if (stack) {
        SlTensor **us = calloc((size_t)n, sizeof *us);
        if (!us)
            abort();
        for (int k = 0; k < n; k++) {
            us[k] = sl_ag_unsqueeze(ts[k], dim, err);
            if (!us[k]) {
                for (int j = 0; j < k; j++)
                    sl_tensor_unref(us[j]);
                free(us);
                return NULL;
            }
        }
        acc = sl_ag_cat(us, n, dim, false, err);
        for (int k = 0; k < n; k++)
            sl_tensor_unref(us[k]);
        free(us);
        return acc;
    }
    acc = cat_some(ts, SL_NODE_MAXNEXT, dim, false, err);
    i = SL_NODE_MAXNEXT;
    while (acc && i < n) {
        SlTensor *group[SL_NODE_MAXNEXT];
        int k = 0;
        group[k++] = acc;
        while (k < SL_NODE_MAXNEXT && i < n)
            group[k++] = ts[i++];
        SlTensor *next = cat_some(group, k, dim, false, err);
        sl_tensor_unref(acc);
        acc = next;
    }
    return acc;
}

/* ---------------------------------------------------------------------------
 * In place
 * ------------------------------------------------------------------------- */

static bool inplace_allowed(SlTensor *t, SlError *err)
{
    if (!sl_grad_enabled())
        return true;
    if (t->requires_grad && t->grad_fn == NULL) {
        sl_err(err, SL_E_VALUE, "a leaf Variable that requires grad is being used in an in-place operation.");
        if (sl_ag_receiver_name)
            sl_err_hint(err, "%s is a leaf that requires grad; change its values through %s.data "
                             "(%s.data.sub_(...)) or inside no_grad { ... }",
                        sl_ag_receiver_name, sl_ag_receiver_name, sl_ag_receiver_name);
        else
            sl_err_hint(err, "it is a leaf that requires grad; change its values through .data or inside "
                             "no_grad { ... }");
        return false;
    }
    if (t->view_of_leaf) {
        sl_err(err, SL_E_VALUE,
               "a view of a leaf Variable that requires grad is being used in an in-place operation.");
        sl_err_hint(err, "change the leaf's values through .data or inside no_grad { ... }");
        return false;
    }
    if (t->grad_fn) {
        switch (t->grad_fn->kind) {
        case SL_N_VIEW:
        case SL_N_RESHAPE_ALIAS:
        case SL_N_SQUEEZE_ALL:
        case SL_N_SQUEEZE_DIM:
        case SL_N_UNSQUEEZE:
        case SL_N_T:
        case SL_N_TRANSPOSE:
        case SL_N_PERMUTE:
        case SL_N_EXPAND:
        case SL_N_SELECT:
        case SL_N_SLICE:
            sl_err(err, SL_E_VALUE, "in-place change of a view (made by %s) of a tensor that requires grad is not "
                                    "supported",
                   sl_node_name(t->grad_fn));
            sl_err_hint(err, "compute a new tensor instead (y = y + ...), or change it inside no_grad { ... }");
            return false;
        default: break;
        }
    }
    return true;
}

/* History for t after an in-place op with other (NULL for zero_/fill_). */
static void inplace_history(SlNodeKind kind, SlTensor *t, SlTensor *old_fn_holder, SlTensor *other,
                            SlTensor *orig, double alpha)
{
    if (!sl_grad_enabled())
        return;
    bool tg = t->requires_grad, og = other && other->requires_grad;
    if (!tg && !og)
        return;
    SlNode *node = node_new(kind);
    node->nnext = other ? 2 : 1;
    node->next[0] = edge_of(old_fn_holder);
    node->in_type[0] = dtype_of(t);
    node->in_ndim[0] = t->ndim;
    memcpy(node->in_shape[0], t->shape, sizeof node->in_shape[0]);
    if (other) {
        node->next[1] = edge_of(other);
        node->in_type[1] = dtype_of(other);
        node->in_ndim[1] = other->ndim;
        memcpy(node->in_shape[1], other->shape, sizeof node->in_shape[1]);
    }
    node->scalar = alpha;
    switch (kind) {
    case SL_N_MUL:
        if (node->next[0])
            save(node, other);
        if (node->next[1])
            save(node, orig);
        break;
    case SL_N_DIV:
        save(node, other);
        if (node->next[1])
            save(node, orig);
        break;
    default: break;
    }
    if (t->grad_fn && t->grad_fn->retain == t) { /* retain_grad() follows the tensor */
        t->grad_fn->retain = NULL;
        node->retain = t;
    }
    sl_node_unref(t->grad_fn);
    t->grad_fn = node;
    t->requires_grad = true;
}

static bool inplace_binop(SlNodeKind kind, SlTensor *t, SlTensor *other, double alpha, SlError *err)
{
    if (!inplace_allowed(t, err))
        return false;
    bool track = sl_grad_enabled() && (t->requires_grad || other->requires_grad);
    SlTensor *holder = track ? sl_tensor_alias(t) : NULL; /* carries the old history */
    if (holder) {
        holder->requires_grad = t->requires_grad;
        holder->grad_fn = sl_node_ref(t->grad_fn);
    }
    SlTensor *orig = track && other->requires_grad && (kind == SL_N_MUL || kind == SL_N_DIV) ? sl_tensor_clone(t)
                                                                                              : NULL;
    bool ok;
    switch (kind) {
    case SL_N_ADD: ok = sl_tensor_add_(t, other, alpha, err); break;
    case SL_N_SUB: ok = sl_tensor_add_(t, other, -alpha, err); break;
    case SL_N_MUL: ok = sl_tensor_mul_(t, other, err); break;
    default: ok = sl_tensor_div_(t, other, err); break;
    }
    if (ok && track) {
        inplace_history(kind, t, holder, other, orig, alpha);
    }
    sl_tensor_unref(holder);
    sl_tensor_unref(orig);
    return ok;
}

bool sl_ag_add_(SlTensor *t, SlTensor *other, double alpha, SlError *err)
{
    return inplace_binop(SL_N_ADD, t, other, alpha, err);
}

bool sl_ag_sub_(SlTensor *t, SlTensor *other, double alpha, SlError *err)
{
    return inplace_binop(SL_N_SUB, t, other, alpha, err);
}

bool sl_ag_mul_(SlTensor *t, SlTensor *other, SlError *err) { return inplace_binop(SL_N_MUL, t, other, 1.0, err); }

bool sl_ag_div_(SlTensor *t, SlTensor *other, SlError *err) { return inplace_binop(SL_N_DIV, t, other, 1.0, err); }

bool sl_ag_fill_(SlTensor *t, SlTensor *value, SlError *err)
{
    if (!inplace_allowed(t, err))
        return false;
    bool zero = value == NULL;
    SlTensor *holder = NULL;
    if (sl_grad_enabled() && t->requires_grad) {
        holder = sl_tensor_alias(t);
        holder->requires_grad = true;
        holder->grad_fn = sl_node_ref(t->grad_fn);
    }
    bool ok;
    if (zero) {
        sl_tensor_fill_d(t, 0.0);
        sl_tensor_bump_version(t);
        ok = true;
    } else {
        ok = sl_tensor_copy_(t, value, err);
    }
    if (ok && holder)
        inplace_history(zero ? SL_N_ZERO : SL_N_FILL, t, holder, NULL, NULL, 1.0);
    sl_tensor_unref(holder);
    return ok;
}

bool sl_ag_copy_slices(SlTensor *base, SlTensor *view, SlTensor *src, SlError *err)
{
    bool track = sl_grad_enabled() && (base->requires_grad || src->requires_grad);
    if (!track)
        return sl_tensor_copy_(view, src, err);
    if (base->requires_grad && base->grad_fn == NULL) {
        sl_err(err, SL_E_VALUE, "a view of a leaf Variable that requires grad is being used in an in-place operation.");
        sl_err_hint(err, "assign through .data (x.data[i] = v) or inside no_grad { ... }");
        return false;
    }
    if (!sl_tensor_is_contiguous(base) || base->offset != 0)
        return sl_err(err, SL_E_VALUE, "indexed assignment into a non-contiguous tensor that is part of a graph is "
                                       "not supported; assign into a contiguous copy (x = x.clone())");
    SlTensor *holder = sl_tensor_alias(base); /* carries the old history */
    holder->requires_grad = base->requires_grad;
    holder->grad_fn = sl_node_ref(base->grad_fn);
    bool ok = sl_tensor_copy_(view, src, err);
    if (ok) {
        SlNode *node = node_new(SL_N_COPYSLICES);
        node->nnext = 2;
        node->next[0] = edge_of(holder);
        node->next[1] = edge_of(src);
        node->in_type[0] = dtype_of(base);
        node->in_ndim[0] = base->ndim;
        memcpy(node->in_shape[0], base->shape, sizeof node->in_shape[0]);
        node->in_type[1] = dtype_of(src);
        node->in_ndim[1] = src->ndim;
        memcpy(node->in_shape[1], src->shape, sizeof node->in_shape[1]);
        node->geom = xcalloc((size_t)(2 + 2 * view->ndim), sizeof *node->geom);
        node->geom[0] = view->offset - base->offset;
        node->geom[1] = view->ndim;
        for (int d = 0; d < view->ndim; d++) {
            node->geom[2 + d] = view->shape[d];
            node->geom[2 + view->ndim + d] = view->strides[d];
        }
        if (base->grad_fn && base->grad_fn->retain == base) {
            base->grad_fn->retain = NULL;
            node->retain = base;
        }
        sl_node_unref(base->grad_fn);
        base->grad_fn = node;
        base->requires_grad = true;
    }
    sl_tensor_unref(holder);
    return ok;
}

bool sl_ag_copy_(SlTensor *t, SlTensor *src, SlError *err)
{
    if (!inplace_allowed(t, err))
        return false;
    bool track = sl_grad_enabled() && (t->requires_grad || src->requires_grad);
    SlTensor *holder = NULL;
    if (track) {
        holder = sl_tensor_alias(t);
        holder->requires_grad = t->requires_grad;
        holder->grad_fn = sl_node_ref(t->grad_fn);
    }
    bool ok = sl_tensor_copy_(t, src, err);
    if (ok && track)
        inplace_history(SL_N_COPY, t, holder, src, NULL, 1.0);
    sl_tensor_unref(holder);
    return ok;
}
