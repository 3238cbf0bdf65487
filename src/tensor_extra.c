/* tensor_extra.c -- more tensor operations, as PyTorch 1.13's CPU kernels
 * compute them (tensor_extra.h), and their backward formulas.
 *
 * The orders of operations that show in the last bit, found against
 * torch's bits (tests/gen_tensor_extra.py writes the cases):
 *
 *   var, std   a reduction to one element: torch's mean (float32 for a
 *              float32 tensor), then the squared deviations summed in
 *              double in memory order, divided, rooted in double, rounded
 *              once; any other: one Welford pass per output in double,
 *              m2 += delta * delta' fused (the AVX2 kernel is built with
 *              -mfma and GCC contracts it).
 *   prod       binary_kernel_reduce_vec: along a contiguous last dim, 4
 *              accumulators of 8 float (4 double) lanes over blocks of 32
 *              (16), the four multiplied pairwise, the lanes in order, the
 *              rest in order; along other dims, in order from 1.
 *   cumsum     the running value in double for float32 (acc_type), each
 *   cumprod    output rounded from it.
 *   trace      the diagonal summed in double for float32.
 *   sort       std::sort (libstdc++'s introsort, transcribed below) on
 *              (value, index) pairs; ties come out in torch's order.
 *   topk       std::partial_sort when k * 64 <= n, else nth_element and a
 *              sort of the first k - 1.
 *   unique     sorted: std::sort of the distinct values; unsorted: the
 *              iteration order of libstdc++'s unordered_set (its bucket
 *              counts and hashes transcribed).
 *   dist       float32 p = 2: 8 lanes of fused multiply-adds, the lanes
 *              summed in order, the tail fused, sqrt; float64 p = 2 and
 *              every other p: in order (p = 2 fused).
 *   lerp       torch's two branches (|w| < 0.5), multiply-adds fused.
 *   logsumexp  amax, x - max, exp, sum, log, + max, with tensor.c's
 *              kernels (torch composes it the same way).
 *   sums       of backward formulas (repeat's, var's mean): tensor.c's
 *              sum, which takes torch's TensorIterator order (dims sorted
 *              by stride, coalesced) for any dims and strides.
 *   backward   torch 1.13's formulas term by term (var_backward's
 *              (2 / dof) * grad * (x - mean), prod's exclusive cumprods
 *              with a zero, cumprod's first-zero masks, norm_backward).
 *
 * float32 code is written in float (C17 keeps -ffp-contract=off); fma()
 * is called where torch's kernels fuse.  mpfr tensors are computed at
 * their precision in the same order.
 */
#include "tensor_extra.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autograd_internal.h"
#include "num.h"

/* storage arrays (index with absolute storage offsets) */
#define F32(t) ((float *)(t)->storage->data)
#define F64(t) ((double *)(t)->storage->data)
#define I64(t) ((int64_t *)(t)->storage->data)
#define BOOLS(t) ((bool *)(t)->storage->data)
#define MPF(t) ((__mpfr_struct *)(t)->storage->data)

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

static mpfr_prec_t prec_of(const SlTensor *t) { return t->dtype == SL_DT_MPFR ? t->storage->prec : 0; }


static uint32_t all_mask(int ndim) { return ndim >= 32 ? ~0u : (uint32_t)((UINT64_C(1) << ndim) - 1); }

static SlTensor *new_as(const SlTensor *t, int nd, const int64_t *shape, SlError *err)
{
    return sl_tensor_zeros(t->dtype, nd, shape, prec_of(t), err);
}

/* d[di] = s[si] (absolute storage offsets), converting */
static void ecopy(SlTensor *d, int64_t di, const SlTensor *s, int64_t si)
{
    if (d->dtype == s->dtype) {
        switch (d->dtype) {
        case SL_DT_F32: F32(d)[di] = F32(s)[si]; return;
        case SL_DT_F64: F64(d)[di] = F64(s)[si]; return;
        case SL_DT_I64: I64(d)[di] = I64(s)[si]; return;
        case SL_DT_BOOL: BOOLS(d)[di] = BOOLS(s)[si]; return;
        case SL_DT_MPFR: mpfr_set(&MPF(d)[di], &MPF(s)[si], MPFR_RNDN); return;
        }
    }
    /* mixed dtypes only through the public conversions */
    SlTensor *one = sl_tensor_alias(s);
    one->ndim = 0;
    one->offset = si;
    SlTensor *two = sl_tensor_alias(d);
    two->ndim = 0;
    two->offset = di;
    sl_tensor_copy_(two, one, NULL);
    sl_tensor_unref(one);
    sl_tensor_unref(two);
}

/* the element's value as a double / its truth */
static double eget_d(const SlTensor *t, int64_t o)
{
    switch (t->dtype) {
    case SL_DT_F32: return F32(t)[o];
    case SL_DT_F64: return F64(t)[o];
    case SL_DT_I64: return (double)I64(t)[o];
    case SL_DT_BOOL: return BOOLS(t)[o];
    default: return mpfr_get_d(&MPF(t)[o], MPFR_RNDN);
    }
}

static bool etrue(const SlTensor *t, int64_t o)
{
    switch (t->dtype) {
    case SL_DT_F32: return F32(t)[o] != 0.0f;
    case SL_DT_F64: return F64(t)[o] != 0.0;
    case SL_DT_I64: return I64(t)[o] != 0;
    case SL_DT_BOOL: return BOOLS(t)[o];
    default: return !mpfr_zero_p(&MPF(t)[o]);
    }
}

/* row-major counter over shape; false after the last */
static bool step(int nd, const int64_t *shape, int64_t *c)
{
    for (int d = nd - 1; d >= 0; d--) {
        if (++c[d] < shape[d])
            return true;
        c[d] = 0;
    }
    return false;
}

static int64_t ravel(int nd, const int64_t *shape, const int64_t *c)
{
    int64_t k = 0;
    for (int d = 0; d < nd; d++)
        k = k * shape[d] + c[d];
    return k;
}

static int64_t numel_of(int nd, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= shape[d];
    return n;
}

/* outer, size, inner of dim in a contiguous tensor of shape */
static void lines(int nd, const int64_t *shape, int dim, int64_t *outer, int64_t *size, int64_t *inner)
{
    *outer = 1;
    *inner = 1;
    *size = nd ? shape[dim] : 1;
    for (int d = 0; d < dim; d++)
        *outer *= shape[d];
    for (int d = dim + 1; d < nd; d++)
        *inner *= shape[d];
}

static bool wrap(int *dim, int ndim, SlError *err) { return sl_tensor_wrap_dim(dim, ndim, err); }

/* out[i] = x[map[i]] (map: row-major index into x; < 0: zero) */
static SlTensor *take(const SlTensor *x, int nd, const int64_t *shape, const int64_t *map, SlError *err)
{
    SlTensor *c = sl_tensor_contiguous(x);
    SlTensor *r = sl_tensor_zeros(c->dtype, nd, shape, prec_of(c), err);
    if (r)
        for (int64_t i = 0, n = sl_tensor_numel(r); i < n; i++)
            if (map[i] >= 0)
                ecopy(r, i, c, c->offset + map[i]);
    sl_tensor_unref(c);
    return r;
}

/* zeros of shape with r[map[i]] += g[i], in order of i (index_add,
 * scatter_add); map[i] < 0 skipped */
static SlTensor *put_add(const SlTensor *g, int nd, const int64_t *shape, const int64_t *map, SlError *err)
{
    SlTensor *c = sl_tensor_contiguous(g);
    SlTensor *r = sl_tensor_zeros(c->dtype, nd, shape, prec_of(c), err);
    if (r) {
        int64_t n = sl_tensor_numel(c), o = c->offset;
        for (int64_t i = 0; i < n; i++) {
            int64_t j = map[i];
            if (j < 0)
                continue;
            switch (r->dtype) {
            case SL_DT_F32: F32(r)[j] = F32(r)[j] + F32(c)[o + i]; break;
            case SL_DT_F64: F64(r)[j] = F64(r)[j] + F64(c)[o + i]; break;
            case SL_DT_I64: I64(r)[j] = (int64_t)((uint64_t)I64(r)[j] + (uint64_t)I64(c)[o + i]); break;
            case SL_DT_BOOL: BOOLS(r)[j] = BOOLS(r)[j] || BOOLS(c)[o + i]; break;
            case SL_DT_MPFR: mpfr_add(&MPF(r)[j], &MPF(r)[j], &MPF(c)[o + i], MPFR_RNDN); break;
            }
        }
    }
    sl_tensor_unref(c);
    return r;
}

/* a 0-d constant num/den in g's dtype family: a wrapped double (rounded
 * to float by the kernels, as torch's scalars), or mpfr at g's precision */
static SlTensor *konst(const SlTensor *g, double num, double den)
{
    SlTensor *t;
    if (g->dtype == SL_DT_MPFR) {
        t = sl_tensor_scalar_d(SL_DT_MPFR, 0, g->storage->prec);
        mpfr_ptr m = (mpfr_ptr)sl_tensor_get_m(t, 0);
        mpfr_set_d(m, num, MPFR_RNDN);
        mpfr_div_d(m, m, den, MPFR_RNDN);
    } else {
        t = sl_tensor_scalar_d(SL_DT_F64, num / den, 0);
    }
    t->wrapped = true;
    return t;
}

/* g viewed with size-1 dims where mask reduced them (unsqueeze_multiple) */
static SlTensor *keep_dims(const SlTensor *g, int nd, const int64_t *shape, uint32_t mask, SlError *err)
{
    int64_t ks[SL_TENSOR_MAXDIM];
    for (int d = 0; d < nd; d++)
        ks[d] = mask & (1u << d) ? 1 : shape[d];
    bool copied;
    return sl_tensor_reshape(g, nd, ks, &copied, err);
}

/* The backward formulas' scratch space (autograd_internal.h) */
typedef SlScratch Ar;

static SlTensor *A(Ar *a, SlTensor *t) { return sl_scratch_keep(a, t); }

static void ar_free(Ar *a) { sl_scratch_free(a); }

static SlTensor *Bin(Ar *a, SlTOp op, SlTensor *x, SlTensor *y)
{
    return x && y ? A(a, sl_tensor_binary(op, x, y, a->err)) : NULL;
}

static SlTensor *Un(Ar *a, int fn, SlTensor *x) { return x ? A(a, sl_tensor_unary(fn, x, a->err)) : NULL; }

static SlTensor *Zero0(Ar *a, const SlTensor *like)
{
    return like ? A(a, sl_tensor_zeros(like->dtype, 0, NULL, prec_of(like), a->err)) : NULL;
}

/* views: a node and the leaf mark autograd.c's views carry */
static void view_mark(SlTensor *x, SlTensor *v, SlNode *n)
{
    if (n && (x->view_of_leaf || (x->requires_grad && x->grad_fn == NULL)))
        v->view_of_leaf = true;
}


/* mean as torch's: sum / count (div_ by an int) */
static SlTensor *torch_mean(const SlTensor *x, uint32_t mask, bool keepdim, SlError *err)
{
    mask &= all_mask(x->ndim);
    SlTensor *s = sl_tensor_sum(x, mask, keepdim, err);
    if (!s)
        return NULL;
    int64_t cnt = 1;
    for (int d = 0; d < x->ndim; d++)
        if (mask & (1u << d))
            cnt *= x->shape[d];
    SlTensor *k = sl_tensor_scalar_i(SL_DT_I64, cnt, 0);
    k->wrapped = true;
    bool ok = sl_tensor_div_(s, k, err);
    sl_tensor_unref(k);
    if (!ok) {
        sl_tensor_unref(s);
        return NULL;
    }
    return s;
}

/* ---------------------------------------------------------------------------
 * var / std
 * ------------------------------------------------------------------------- */

/* dims of t in the order a TensorIterator visits them, outermost first
 * (strides decreasing; the reduced ones are what matter here) */
static void visit_order(const SlTensor *t, const int *dims, int n, int *out)
{
    for (int i = 0; i < n; i++)
        out[i] = dims[i];
    for (int i = 1; i < n; i++) /* insertion sort: stable for equal strides */
        for (int j = i; j > 0; j--) {
            int64_t a = t->strides[out[j - 1]], b = t->strides[out[j]];
            if (t->shape[out[j - 1]] == 1 || t->shape[out[j]] == 1 || a >= b)
                break;
            int tmp = out[j];
            out[j] = out[j - 1];
            out[j - 1] = tmp;
        }
}

/* Storage offsets of the reduced elements of t for the output at the
 * coordinates base (full coords, reduced ones 0), in visiting order. */
static void reduced_offsets(const SlTensor *t, const int *order, int nr, int64_t base, int64_t *offs)
{
    int64_t c[SL_TENSOR_MAXDIM] = {0}, sh[SL_TENSOR_MAXDIM];
    for (int i = 0; i < nr; i++)
        sh[i] = t->shape[order[i]];
    int64_t k = 0, n = numel_of(nr, sh);
    for (int64_t i = 0; i < n; i++) {
        int64_t o = base;
        for (int j = 0; j < nr; j++)
            o += c[j] * t->strides[order[j]];
        offs[k++] = o;
        step(nr, sh, c);
    }
}

SlTensor *sl_ag_var(SlTensor *x, uint32_t mask, bool all, int64_t correction, bool keepdim, bool take_sqrt,
                    SlError *err)
{
    if (!sl_dtype_is_float(x->dtype))
        return sl_err(err, SL_E_VALUE, "std and var only support floating point and complex dtypes"), NULL;
    if (all || x->ndim == 0)
        mask = all_mask(x->ndim);
    mask &= all_mask(x->ndim);
    int nd = 0, red[SL_TENSOR_MAXDIM], nr = 0;
    int64_t shape[SL_TENSOR_MAXDIM];
    for (int d = 0; d < x->ndim; d++) {
        if (mask & (1u << d)) {
            red[nr++] = d;
            if (keepdim)
                shape[nd++] = 1;
        } else {
            shape[nd++] = x->shape[d];
        }
    }
    SlTensor *r = new_as(x, nd, shape, err);
    if (!r)
        return NULL;
    int64_t nout = sl_tensor_numel(r), nin = sl_tensor_numel(x);
    int64_t cnt = 1;
    for (int i = 0; i < nr; i++)
        cnt *= x->shape[red[i]];
    mpfr_prec_t p = prec_of(x);
    if (nin == 0) {
        for (int64_t i = 0; i < nout; i++)
            if (r->dtype == SL_DT_MPFR)
                mpfr_set_nan(&MPF(r)[i]);
            else
                sl_tensor_set_d(r, i, NAN);
    } else if (x->dtype == SL_DT_MPFR) {
        /* two passes at the tensor's precision */
        int order[SL_TENSOR_MAXDIM];
        visit_order(x, red, nr, order);
        int64_t *offs = xmalloc((size_t)cnt * sizeof *offs);
        int64_t oc[SL_TENSOR_MAXDIM] = {0};
        int kept[SL_TENSOR_MAXDIM], nk = 0;
        for (int d = 0; d < x->ndim; d++)
            if (!(mask & (1u << d)))
                kept[nk++] = d;
        int64_t ks[SL_TENSOR_MAXDIM];
        for (int i = 0; i < nk; i++)
            ks[i] = x->shape[kept[i]];
        mpfr_t mean, s, d;
        mpfr_inits2(p, mean, s, d, (mpfr_ptr)NULL);
        for (int64_t o = 0; o < nout; o++) {
            int64_t base = x->offset;
            for (int i = 0; i < nk; i++)
                base += oc[i] * x->strides[kept[i]];
            reduced_offsets(x, order, nr, base, offs);
            mpfr_set_zero(mean, 1);
            for (int64_t i = 0; i < cnt; i++)
                mpfr_add(mean, mean, &MPF(x)[offs[i]], MPFR_RNDN);
            mpfr_div_si(mean, mean, (long)cnt, MPFR_RNDN);
            mpfr_set_zero(s, 1);
            for (int64_t i = 0; i < cnt; i++) {
                mpfr_sub(d, &MPF(x)[offs[i]], mean, MPFR_RNDN);
                mpfr_fma(s, d, d, s, MPFR_RNDN);
            }
            int64_t dof = cnt - correction;
            if (dof <= 0)
                mpfr_set_zero(d, 1);
            else
                mpfr_set_si(d, (long)dof, MPFR_RNDN);
            mpfr_ptr out = &MPF(r)[o];
            mpfr_div(out, s, d, MPFR_RNDN);
            if (take_sqrt)
                mpfr_sqrt(out, out, MPFR_RNDN);
            step(nk, ks, oc);
        }
        mpfr_clears(mean, s, d, (mpfr_ptr)NULL);
        free(offs);
    } else if (nout == 1) {
        /* std_var_all_cpu: torch's mean, then the squared deviations in
         * double in visiting order */
        SlTensor *m = torch_mean(x, all_mask(x->ndim), false, err);
        if (!m) {
            sl_tensor_unref(r);
            return NULL;
        }
        double mean = sl_tensor_get_d(m, 0), s = 0;
        sl_tensor_unref(m);
        int dims[SL_TENSOR_MAXDIM], order[SL_TENSOR_MAXDIM];
        for (int d = 0; d < x->ndim; d++)
            dims[d] = d;
        visit_order(x, dims, x->ndim, order);
        int64_t *offs = xmalloc((size_t)nin * sizeof *offs);
        reduced_offsets(x, order, x->ndim, x->offset, offs);
        for (int64_t i = 0; i < nin; i++) {
            double dx = (x->dtype == SL_DT_F32 ? (double)F32(x)[offs[i]] : F64(x)[offs[i]]) - mean;
            s += dx * dx;
        }
        free(offs);
        int64_t dof = nin - correction > 0 ? nin - correction : 0;
        double var = s / (double)dof;
        sl_tensor_set_d(r, 0, take_sqrt ? sqrt(var) : var);
    } else {
        /* WelfordOps in double, per output */
        int order[SL_TENSOR_MAXDIM], kept[SL_TENSOR_MAXDIM], nk = 0;
        visit_order(x, red, nr, order);
        for (int d = 0; d < x->ndim; d++)
            if (!(mask & (1u << d)))
                kept[nk++] = d;
        int64_t ks[SL_TENSOR_MAXDIM], oc[SL_TENSOR_MAXDIM] = {0};
        for (int i = 0; i < nk; i++)
            ks[i] = x->shape[kept[i]];
        int64_t *offs = xmalloc((size_t)cnt * sizeof *offs);
        for (int64_t o = 0; o < nout; o++) {
            int64_t base = x->offset;
            for (int i = 0; i < nk; i++)
                base += oc[i] * x->strides[kept[i]];
            reduced_offsets(x, order, nr, base, offs);
            double mean = 0, m2 = 0;
            for (int64_t i = 0; i < cnt; i++) {
                double v = x->dtype == SL_DT_F32 ? (double)F32(x)[offs[i]] : F64(x)[offs[i]];
                double nf = (double)(i + 1);
                double delta = v - mean;
                mean = mean + delta / nf;
                double nd2 = v - mean;
                m2 = fma(delta, nd2, m2);
            }
            double nf = (double)cnt;
            double divisor = nf > (double)correction ? nf - (double)correction : 0;
            double var = m2 / divisor;
            sl_tensor_set_d(r, o, take_sqrt ? sqrt(var) : var);
            step(nk, ks, oc);
        }
        free(offs);
    }
    SlNode *n = sl_ag_record(take_sqrt ? SL_N_STD : SL_N_VAR, r, 1, &x);
    if (n) {
        n->mask = mask;
        n->keepdim = keepdim;
        n->ival = correction;
        n->ival2 = all || x->ndim == 0;
        sl_ag_save(n, x);
        if (take_sqrt)
            sl_ag_save(n, r);
    }
    return r;
}

/* var_backward / std_backward (FunctionsManual.cpp) */
static bool var_backward(SlNode *n, SlTensor *g, SlTensor **out, SlError *err)
{
    Ar ar = {.err = err}, *a = &ar;
    SlTensor *self = n->saved[0];
    int nd = self->ndim;
    uint32_t mask = n->mask;
    if (n->kind == SL_N_STD) {
        /* (grad / (result * 2)).masked_fill_(result == 0, 0) */
        SlTensor *res = n->saved[1];
        SlTensor *two = A(a, konst(res, 2, 1));
        SlTensor *q = Bin(a, SL_T_DIV, g, Bin(a, SL_T_MUL, res, two));
        SlTensor *z = Bin(a, SL_T_EQ, res, A(a, konst(res, 0, 1)));
        g = q && z ? A(a, sl_tensor_where(z, Zero0(a, q), q, err)) : NULL;
    }
    int64_t cnt = 1;
    for (int d = 0; d < nd; d++)
        if (mask & (1u << d))
            cnt *= self->shape[d];
    int64_t dof = cnt - n->ival;
    SlTensor *mean = A(a, torch_mean(self, mask, true, err));
    SlTensor *gk = g;
    if (g && !n->keepdim && nd > 0 && !n->ival2)
        gk = A(a, keep_dims(g, nd, self->shape, mask, err));
    SlTensor *r = NULL;
    if (n->ival2 && dof == 0) {
        /* torch 1.13: INFINITY * grad (grad's shape; torch then fails
         * on a 0-d grad, slope spreads it over the input) */
        SlTensor *t = Bin(a, SL_T_MUL, A(a, konst(self, INFINITY, 1)), gk);
        r = t ? A(a, sl_tensor_expand(t, nd, self->shape, err)) : NULL;
    } else {
        /* (2.0 / dof) * grad * (self - self.mean(dim, true)) */
        SlTensor *c = A(a, konst(self, 2, (double)dof));
        r = Bin(a, SL_T_MUL, Bin(a, SL_T_MUL, gk, c), Bin(a, SL_T_SUB, self, mean));
    }
    out[0] = r ? sl_tensor_ref(r) : NULL;
    ar_free(a);
    return out[0] != NULL;
}

/* ---------------------------------------------------------------------------
 * prod
 * ------------------------------------------------------------------------- */

/* binary_kernel_reduce_vec's product of n contiguous elements, L lanes */
#define DEFINE_VPROD(T, NAME, LANES)                                                                           \
    static T NAME(const T *x, int64_t n)                                                                       \
    {                                                                                                          \
        enum { L = LANES, W = 4 * L };                                                                         \
        int64_t cnt = n / W;                                                                                   \
        T dst = 1;                                                                                             \
        if (cnt > 0) {                                                                                         \
            T acc[W];                                                                                          \
            memcpy(acc, x, sizeof acc);                                                                        \
            for (int64_t i = 1; i < cnt; i++)                                                                  \
                for (int j = 0; j < W; j++)                                                                    \
                    acc[j] = acc[j] * x[i * W + j];                                                            \
            T b[L];                                                                                            \
            for (int l = 0; l < L; l++)                                                                        \
                b[l] = (acc[l] * acc[L + l]) * (acc[2 * L + l] * acc[3 * L + l]);                              \
            for (int l = 1; l < L; l++)                                                                        \
                b[0] = b[0] * b[l];                                                                            \
            dst = dst * b[0];                                                                                  \
        }                                                                                                      \
        for (int64_t k = cnt * W; k < n; k++)                                                                  \
            dst = dst * x[k];                                                                                  \
        return dst;                                                                                            \
    }
DEFINE_VPROD(float, vprod_f, 8)
DEFINE_VPROD(double, vprod_d, 4)
#undef DEFINE_VPROD

/* product of the cnt elements at storage offsets offs[] into r's element
 * ro; vec: they are contiguous in memory (torch's vectorised path) */
static void prod_into(SlTensor *r, int64_t ro, const SlTensor *x, const int64_t *offs, int64_t cnt, bool vec)
{
    switch (x->dtype) {
    case SL_DT_F32:
        if (vec) {
            F32(r)[ro] = vprod_f(F32(x) + offs[0], cnt);
        } else {
            float acc = 1.0f;
            for (int64_t i = 0; i < cnt; i++)
                acc = acc * F32(x)[offs[i]];
            F32(r)[ro] = acc;
        }
        break;
    case SL_DT_F64:
        if (vec) {
            F64(r)[ro] = vprod_d(F64(x) + offs[0], cnt);
        } else {
            double acc = 1.0;
            for (int64_t i = 0; i < cnt; i++)
                acc = acc * F64(x)[offs[i]];
            F64(r)[ro] = acc;
        }
        break;
    case SL_DT_I64:
    case SL_DT_BOOL: {
        uint64_t acc = 1;
        for (int64_t i = 0; i < cnt; i++)
            acc *= x->dtype == SL_DT_BOOL ? (uint64_t)BOOLS(x)[offs[i]] : (uint64_t)I64(x)[offs[i]];
        I64(r)[ro] = (int64_t)acc;
        break;
    }
    case SL_DT_MPFR: {
        mpfr_ptr acc = &MPF(r)[ro];
        mpfr_set_ui(acc, 1, MPFR_RNDN);
        for (int64_t i = 0; i < cnt; i++)
            mpfr_mul(acc, acc, &MPF(x)[offs[i]], MPFR_RNDN);
        break;
    }
    }
}

/* whether the offsets step by one element */
static bool dense_run(const int64_t *offs, int64_t cnt)
{
    for (int64_t i = 1; i < cnt; i++)
        if (offs[i] != offs[0] + i)
            return false;
    return true;
}

SlTensor *sl_ag_prod(SlTensor *x, bool all, int dim, bool keepdim, SlError *err)
{
    if (!all && !wrap(&dim, x->ndim, err))
        return NULL;
    uint32_t mask = all || x->ndim == 0 ? all_mask(x->ndim) : 1u << dim;
    int nd = 0, red[SL_TENSOR_MAXDIM], nr = 0, kept[SL_TENSOR_MAXDIM], nk = 0;
    int64_t shape[SL_TENSOR_MAXDIM], ks[SL_TENSOR_MAXDIM];
    for (int d = 0; d < x->ndim; d++) {
        if (mask & (1u << d)) {
            red[nr++] = d;
            if (keepdim && !all)
                shape[nd++] = 1;
        } else {
            ks[nk] = x->shape[d];
            kept[nk++] = d;
            shape[nd++] = x->shape[d];
        }
    }
    SlDType rdt = sl_dtype_is_float(x->dtype) ? x->dtype : SL_DT_I64;
    SlTensor *r = sl_tensor_zeros(rdt, nd, shape, prec_of(x), err);
    if (!r)
        return NULL;
    int order[SL_TENSOR_MAXDIM];
    visit_order(x, red, nr, order);
    int64_t cnt = 1;
    for (int i = 0; i < nr; i++)
        cnt *= x->shape[red[i]];
    int64_t *offs = xmalloc((size_t)(cnt ? cnt : 1) * sizeof *offs);
    int64_t oc[SL_TENSOR_MAXDIM] = {0};
    for (int64_t o = 0, nout = sl_tensor_numel(r); o < nout; o++) {
        int64_t base = x->offset;
        for (int i = 0; i < nk; i++)
            base += oc[i] * x->strides[kept[i]];
        reduced_offsets(x, order, nr, base, offs);
        prod_into(r, o, x, offs, cnt, cnt > 0 && dense_run(offs, cnt));
        step(nk, ks, oc);
    }
    free(offs);
    SlNode *n = sl_ag_record(all ? SL_N_PROD : SL_N_PROD_DIM, r, 1, &x);
    if (n) {
        n->ival = all ? 0 : dim;
        n->keepdim = keepdim;
        sl_ag_save(n, x);
        sl_ag_save(n, r);
    }
    return r;
}

/* ---------------------------------------------------------------------------
 * cumsum / cumprod
 * ------------------------------------------------------------------------- */

/* cpu_cum_base_kernel: the running value in acc_type (double for float32) */
static SlTensor *cum_kernel(const SlTensor *x, int dim, bool prod, SlError *err)
{
    SlDType rdt = sl_dtype_is_float(x->dtype) ? x->dtype : SL_DT_I64;
    SlTensor *c = sl_tensor_contiguous(x);
    SlTensor *r = sl_tensor_zeros(rdt, x->ndim, x->shape, prec_of(x), err);
    if (!r) {
        sl_tensor_unref(c);
        return NULL;
    }
    int64_t outer, size, inner;
    lines(x->ndim, x->shape, dim, &outer, &size, &inner);
    mpfr_t acc;
    if (rdt == SL_DT_MPFR)
        mpfr_init2(acc, prec_of(x));
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t b = o * size * inner + i;
            switch (c->dtype) {
            case SL_DT_F32:
            case SL_DT_F64: {
                double a = prod ? 1.0 : 0.0;
                for (int64_t k = 0; k < size; k++) {
                    int64_t e = b + k * inner;
                    double v = c->dtype == SL_DT_F32 ? (double)F32(c)[c->offset + e] : F64(c)[c->offset + e];
                    a = prod ? a * v : a + v;
                    if (rdt == SL_DT_F32)
                        F32(r)[e] = (float)a;
                    else
                        F64(r)[e] = a;
                }
                break;
            }
            case SL_DT_I64:
            case SL_DT_BOOL: {
                uint64_t a = prod ? 1 : 0;
                for (int64_t k = 0; k < size; k++) {
                    int64_t e = b + k * inner;
                    uint64_t v = c->dtype == SL_DT_BOOL ? (uint64_t)BOOLS(c)[c->offset + e]
                                                        : (uint64_t)I64(c)[c->offset + e];
                    a = prod ? a * v : a + v;
                    I64(r)[e] = (int64_t)a;
                }
                break;
            }
            case SL_DT_MPFR:
                mpfr_set_ui(acc, prod ? 1 : 0, MPFR_RNDN);
                for (int64_t k = 0; k < size; k++) {
                    int64_t e = b + k * inner;
                    if (prod)
                        mpfr_mul(acc, acc, &MPF(c)[c->offset + e], MPFR_RNDN);
                    else
                        mpfr_add(acc, acc, &MPF(c)[c->offset + e], MPFR_RNDN);
                    mpfr_set(&MPF(r)[e], acc, MPFR_RNDN);
                }
                break;
            }
        }
    if (rdt == SL_DT_MPFR)
        mpfr_clear(acc);
    sl_tensor_unref(c);
    return r;
}

SlTensor *sl_ag_cumsum(SlTensor *x, int dim, bool prod, SlError *err)
{
    if (!wrap(&dim, x->ndim, err))
        return NULL;
    SlTensor *r = cum_kernel(x, x->ndim ? dim : 0, prod, err);
    SlNode *n = r ? sl_ag_record(prod ? SL_N_CUMPROD : SL_N_CUMSUM, r, 1, &x) : NULL;
    if (n) {
        n->ival = dim;
        if (prod) {
            sl_ag_save(n, x);
            sl_ag_save(n, r);
        }
    }
    return r;
}

/* ---------------------------------------------------------------------------
 * Data movement: flip, roll, repeat, triu/tril, diag
 * ------------------------------------------------------------------------- */

static SlTensor *flip_kernel(const SlTensor *x, uint32_t mask, SlError *err)
{
    int64_t n = sl_tensor_numel(x), c[SL_TENSOR_MAXDIM] = {0}, s[SL_TENSOR_MAXDIM];
    int64_t *map = xmalloc((size_t)n * sizeof *map);
    for (int64_t i = 0; i < n; i++) {
        for (int d = 0; d < x->ndim; d++)
            s[d] = mask & (1u << d) ? x->shape[d] - 1 - c[d] : c[d];
        map[i] = ravel(x->ndim, x->shape, s);
        step(x->ndim, x->shape, c);
    }
    SlTensor *r = take(x, x->ndim, x->shape, map, err);
    free(map);
    return r;
}

SlTensor *sl_ag_flip(SlTensor *x, uint32_t mask, SlError *err)
{
    SlTensor *r = flip_kernel(x, mask, err);
    SlNode *n = r ? sl_ag_record(SL_N_FLIP, r, 1, &x) : NULL;
    if (n)
        n->mask = mask;
    return r;
}

static int64_t pmod(int64_t a, int64_t m) { return m ? ((a % m) + m) % m : 0; }

/* shifts per dim (summed when a dim repeats); flat: the flattened tensor */
static SlTensor *roll_kernel(const SlTensor *x, const int64_t *shift, bool flat, SlError *err)
{
    int64_t n = sl_tensor_numel(x), c[SL_TENSOR_MAXDIM] = {0}, s[SL_TENSOR_MAXDIM];
    int64_t *map = xmalloc((size_t)n * sizeof *map);
    for (int64_t i = 0; i < n; i++) {
        if (flat) {
            map[i] = pmod(i - shift[0], n);
        } else {
            for (int d = 0; d < x->ndim; d++)
                s[d] = pmod(c[d] - shift[d], x->shape[d]);
            map[i] = ravel(x->ndim, x->shape, s);
            step(x->ndim, x->shape, c);
        }
    }
    SlTensor *r = take(x, x->ndim, x->shape, map, err);
    free(map);
    return r;
}

SlTensor *sl_ag_roll(SlTensor *x, int n, const int64_t *shifts, const int *dims, bool flat, SlError *err)
{
    int64_t shift[SL_TENSOR_MAXDIM] = {0};
    if (flat) {
        shift[0] = shifts[0];
    } else {
        for (int i = 0; i < n; i++) {
            int d = dims[i];
            if (!wrap(&d, x->ndim, err))
                return NULL;
            if (x->ndim)
                shift[d] += shifts[i];
        }
    }
    SlTensor *r = roll_kernel(x, shift, flat || x->ndim == 0, err);
    SlNode *nd = r ? sl_ag_record(SL_N_ROLL, r, 1, &x) : NULL;
    if (nd) {
        int64_t *g = xcalloc(SL_TENSOR_MAXDIM, sizeof *g);
        memcpy(g, shift, sizeof shift);
        nd->geom = g;
        nd->ival = flat || x->ndim == 0;
    }
    return r;
}

SlTensor *sl_ag_repeat(SlTensor *x, int n, const int64_t *repeats, SlError *err)
{
    if (n < x->ndim)
        return sl_err(err, SL_E_VALUE, "Number of dimensions of repeat dims can not be smaller than number of "
                                       "dimensions of tensor"),
               NULL;
    if (n > SL_TENSOR_MAXDIM)
        return sl_err(err, SL_E_LIMIT, "tensors have at most 16 dimensions"), NULL;
    int64_t xs[SL_TENSOR_MAXDIM], shape[SL_TENSOR_MAXDIM];
    int pad = n - x->ndim;
    for (int d = 0; d < n; d++) {
        xs[d] = d < pad ? 1 : x->shape[d - pad];
        shape[d] = repeats[d] * xs[d];
    }
    for (int d = 0; d < n; d++)
        if (repeats[d] < 0) {
            char s[16 * SL_TENSOR_MAXDIM];
            sl_sizes_str(s, sizeof s, n, shape);
            return sl_err(err, SL_E_VALUE, "Trying to create tensor with negative dimension %lld: %s",
                          (long long)shape[d], s),
                   NULL;
        }
    int64_t total = numel_of(n, shape);
    if (total > SL_TENSOR_MAX_NUMEL)
        return sl_err(err, SL_E_LIMIT, "repeat() would make %lld elements (slope's limit is %lld)", (long long)total,
                      (long long)SL_TENSOR_MAX_NUMEL),
               NULL;
    int64_t *map = xmalloc((size_t)total * sizeof *map), c[SL_TENSOR_MAXDIM] = {0}, s[SL_TENSOR_MAXDIM];
    for (int64_t i = 0; i < total; i++) {
        for (int d = 0; d < n; d++)
            s[d] = c[d] % xs[d];
        map[i] = ravel(n, xs, s);
        step(n, shape, c);
    }
    SlTensor *r = take(x, n, shape, map, err);
    free(map);
    SlNode *nd = r ? sl_ag_record(SL_N_REPEAT, r, 1, &x) : NULL;
    if (nd) {
        int64_t *g = xcalloc(SL_TENSOR_MAXDIM + 1, sizeof *g);
        g[0] = n;
        memcpy(g + 1, repeats, (size_t)n * sizeof *g);
        nd->geom = g;
    }
    return r;
}

/* torch's repeat_backward: sum the leading new dims one by one, then a
 * reshape to (repeat, size) pairs and one sum over the repeat dims */
static SlTensor *repeat_backward(SlNode *n, SlTensor *g, SlError *err)
{
    int nrep = (int)n->geom[0];
    const int64_t *rep = n->geom + 1;
    int ind = n->in_ndim[0];
    const int64_t *ishape = n->in_shape[0];
    for (int d = 0; d < nrep; d++)
        if (rep[d] == 0)
            return sl_tensor_zeros(g->dtype, ind, ishape, prec_of(g), err);
    SlTensor *cur = sl_tensor_ref(g);
    for (int i = 0; i < nrep - ind && cur; i++) {
        SlTensor *s = sl_tensor_sum(cur, 1u, false, err);
        sl_tensor_unref(cur);
        cur = s;
    }
    if (!cur)
        return NULL;
    int64_t gs[SL_TENSOR_MAXDIM];
    int k = 0;
    uint32_t sum = 0;
    for (int d = 0; d < ind; d++) {
        int64_t r = rep[d + nrep - ind];
        if (r != 1) {
            if (k >= SL_TENSOR_MAXDIM - 1)
                break;
            gs[k] = r;
            sum |= 1u << k;
            k++;
        }
        gs[k++] = ishape[d];
    }
    if (sum && k <= SL_TENSOR_MAXDIM) {
        bool copied;
        SlTensor *v = sl_tensor_reshape(cur, k, gs, &copied, err);
        SlTensor *s = v ? sl_tensor_sum(v, sum, false, err) : NULL;
        sl_tensor_unref(v);
        sl_tensor_unref(cur);
        cur = s;
    }
    return cur;
}

static SlTensor *triu_kernel(const SlTensor *x, int64_t k, bool lower, SlError *err)
{
    int64_t n = sl_tensor_numel(x), c[SL_TENSOR_MAXDIM] = {0};
    int64_t *map = xmalloc((size_t)n * sizeof *map);
    int nd = x->ndim;
    for (int64_t i = 0; i < n; i++) {
        int64_t d = c[nd - 1] - c[nd - 2];
        map[i] = (lower ? d <= k : d >= k) ? i : -1;
        step(nd, x->shape, c);
    }
    SlTensor *r = take(x, nd, x->shape, map, err);
    free(map);
    return r;
}

SlTensor *sl_ag_triu(SlTensor *x, int64_t diagonal, bool lower, SlError *err)
{
    if (x->ndim < 2) {
        int d = -2;
        wrap(&d, x->ndim, err);
        return NULL;
    }
    SlTensor *r = triu_kernel(x, diagonal, lower, err);
    SlNode *n = r ? sl_ag_record(lower ? SL_N_TRIL : SL_N_TRIU, r, 1, &x) : NULL;
    if (n)
        n->ival = diagonal;
    return r;
}

/* length of diagonal k of a (rows, cols) matrix */
static int64_t diag_len(int64_t rows, int64_t cols, int64_t k)
{
    int64_t l = k >= 0 ? (rows < cols - k ? rows : cols - k) : (rows + k < cols ? rows + k : cols);
    return l > 0 ? l : 0;
}

/* a matrix's diagonal k (to_vec) or a vector on diagonal k of a square
 * matrix; shape: the matrix's when given (for the backward of diag) */
static SlTensor *diag_kernel(const SlTensor *x, int64_t k, const int64_t *mshape, SlError *err)
{
    SlTensor *r;
    if (x->ndim == 2) {
        int64_t rows = x->shape[0], cols = x->shape[1], len = diag_len(rows, cols, k);
        int64_t *map = xmalloc((size_t)len * sizeof *map);
        for (int64_t i = 0; i < len; i++)
            map[i] = k >= 0 ? i * cols + i + k : (i - k) * cols + i;
        r = take(x, 1, &len, map, err);
        free(map);
    } else {
        int64_t len = x->shape[0], m = len + (k >= 0 ? k : -k);
        int64_t shape[2] = {m, m};
        if (mshape) {
            shape[0] = mshape[0];
            shape[1] = mshape[1];
        }
        int64_t total = shape[0] * shape[1];
        int64_t *map = xmalloc((size_t)total * sizeof *map);
        for (int64_t i = 0; i < total; i++)
            map[i] = -1;
        for (int64_t i = 0; i < len; i++)
            map[k >= 0 ? i * shape[1] + i + k : (i - k) * shape[1] + i] = i;
        r = take(x, 2, shape, map, err);
        free(map);
    }
    return r;
}

SlTensor *sl_ag_diag(SlTensor *x, int64_t diagonal, SlError *err)
{
    if (x->ndim != 1 && x->ndim != 2)
        return sl_err(err, SL_E_VALUE, "matrix or a vector expected"), NULL;
    SlTensor *r = diag_kernel(x, diagonal, NULL, err);
    SlNode *n = r ? sl_ag_record(SL_N_DIAG, r, 1, &x) : NULL;
    if (n)
        n->ival = diagonal;
    return r;
}

/* trace_cpu: the diagonal summed in acc_type */
SlTensor *sl_ag_trace(SlTensor *x, SlError *err)
{
    if (x->ndim != 2)
        return sl_err(err, SL_E_VALUE, "trace: expected a matrix, but got tensor with dim %d", x->ndim), NULL;
    SlDType rdt = sl_dtype_is_float(x->dtype) ? x->dtype : SL_DT_I64;
    SlTensor *r = sl_tensor_zeros(rdt, 0, NULL, prec_of(x), err);
    if (!r)
        return NULL;
    int64_t len = x->shape[0] < x->shape[1] ? x->shape[0] : x->shape[1], st = x->strides[0] + x->strides[1];
    switch (x->dtype) {
    case SL_DT_F32:
    case SL_DT_F64: {
        double s = 0;
        for (int64_t i = 0; i < len; i++)
            s += x->dtype == SL_DT_F32 ? (double)F32(x)[x->offset + i * st] : F64(x)[x->offset + i * st];
        sl_tensor_set_d(r, 0, s);
        break;
    }
    case SL_DT_I64:
    case SL_DT_BOOL: {
        uint64_t s = 0;
        for (int64_t i = 0; i < len; i++)
            s += x->dtype == SL_DT_BOOL ? (uint64_t)BOOLS(x)[x->offset + i * st] : (uint64_t)I64(x)[x->offset + i * st];
        I64(r)[0] = (int64_t)s;
        break;
    }
    case SL_DT_MPFR:
        for (int64_t i = 0; i < len; i++)
            mpfr_add(&MPF(r)[0], &MPF(r)[0], &MPF(x)[x->offset + i * st], MPFR_RNDN);
        break;
    }
    sl_ag_record(SL_N_TRACE, r, 1, &x);
    return r;
}

/* ---------------------------------------------------------------------------
 * split, chunk, narrow
 * ------------------------------------------------------------------------- */

static SlTensor *split_piece(SlTensor *x, int dim, int64_t start, int64_t len, SlNodeKind kind, SlError *err)
{
    SlTensor *v = sl_tensor_slice(x, dim, start, start + len, 1, err);
    SlNode *n = v ? sl_ag_record(kind, v, 1, &x) : NULL;
    if (n) {
        n->ival = dim;
        n->ival2 = start;
        n->ival3 = len;
        view_mark(x, v, n);
    }
    return v;
}

int sl_ag_split(SlTensor *x, int64_t split_size, const int64_t *sizes, int n, int dim, SlTensor **out, int max,
                SlError *err)
{
    if (x->ndim == 0)
        return sl_err(err, SL_E_VALUE, "split expects at least a 1-dimensional tensor"), -1;
    if (!wrap(&dim, x->ndim, err))
        return -1;
    int64_t size = x->shape[dim];
    int64_t len[4096];
    int count;
    if (sizes) {
        int64_t sum = 0;
        char s[4096];
        size_t k = (size_t)snprintf(s, sizeof s, "[");
        for (int i = 0; i < n && k < sizeof s; i++)
            k += (size_t)snprintf(s + k, sizeof s - k, i ? ", %lld" : "%lld", (long long)sizes[i]);
        if (k < sizeof s)
            snprintf(s + k, sizeof s - k, "]");
        for (int i = 0; i < n; i++) {
            if (sizes[i] < 0)
                return sl_err(err, SL_E_VALUE,
                              "split_with_sizes expects split_sizes have only non-negative entries, but got "
                              "split_sizes=%s",
                              s),
                       -1;
            sum += sizes[i];
        }
        if (sum != size)
            return sl_err(err, SL_E_VALUE,
                          "split_with_sizes expects split_sizes to sum exactly to %lld (input tensor's size at "
                          "dimension %d), but got split_sizes=%s",
                          (long long)size, dim, s),
                   -1;
        count = n;
        if (count > max || count > 4096)
            return sl_err(err, SL_E_LIMIT, "split into more than %d pieces", max), -1;
        memcpy(len, sizes, (size_t)n * sizeof *len);
    } else {
        if (split_size < 0)
            return sl_err(err, SL_E_VALUE, "split expects split_size be non-negative, but got split_size=%lld",
                          (long long)split_size),
                   -1;
        if (split_size == 0 && size != 0)
            return sl_err(err, SL_E_VALUE,
                          "split_size can only be 0 if dimension size is 0, but got dimension size of %lld",
                          (long long)size),
                   -1;
        int64_t num = split_size ? (size + split_size - 1) / split_size : 1;
        if (num < 1)
            num = 1;
        if (num > max || num > 4096)
            return sl_err(err, SL_E_LIMIT, "split into more than %d pieces", max), -1;
        count = (int)num;
        for (int i = 0; i < count; i++)
            len[i] = split_size;
        len[count - 1] = split_size - (split_size * num - size);
    }
    int64_t start = 0;
    for (int i = 0; i < count; i++) {
        out[i] = split_piece(x, dim, start, len[i], sizes ? SL_N_SPLIT_SIZES : SL_N_SPLIT, err);
        if (!out[i]) {
            for (int j = 0; j < i; j++)
                sl_tensor_unref(out[j]);
            return -1;
        }
        start += len[i];
    }
    return count;
}

int sl_ag_chunk(SlTensor *x, int64_t chunks, int dim, SlTensor **out, int max, SlError *err)
{
    if (x->ndim == 0)
        return sl_err(err, SL_E_VALUE, "chunk expects at least a 1-dimensional tensor"), -1;
    if (chunks <= 0)
        return sl_err(err, SL_E_VALUE, "chunk expects `chunks` to be greater than 0, got: %lld", (long long)chunks),
               -1;
    if (!wrap(&dim, x->ndim, err))
        return -1;
    int64_t size = x->shape[dim], split = (size + chunks - 1) / chunks;
    if (split == 0 && size == 0) {
        if (chunks > max || chunks > 4096)
            return sl_err(err, SL_E_LIMIT, "split into more than %d pieces", max), -1;
        int64_t sizes[4096] = {0};
        return sl_ag_split(x, 0, sizes, (int)chunks, dim, out, max, err);
    }
    return sl_ag_split(x, split, NULL, 0, dim, out, max, err);
}

SlTensor *sl_ag_narrow(SlTensor *x, int dim, int64_t start, int64_t length, SlError *err)
{
    if (x->ndim == 0)
        return sl_err(err, SL_E_VALUE, "narrow() cannot be applied to a 0-dim tensor."), NULL;
    if (!wrap(&dim, x->ndim, err))
        return NULL;
    int64_t cur = x->shape[dim];
    if (start != cur) {
        int64_t lo = cur > 0 ? -cur : -1, hi = cur > 0 ? cur - 1 : 0;
        if (start < lo || start > hi)
            return sl_err(err, SL_E_TENSOR_INDEX,
                          "Dimension out of range (expected to be in range of [%lld, %lld], but got %lld)",
                          (long long)lo, (long long)hi, (long long)start),
                   NULL;
        if (start < 0)
            start += cur > 0 ? cur : 1;
    }
    if (length < 0 || start > cur - length)
        return sl_err(err, SL_E_VALUE, "start (%lld) + length (%lld) exceeds dimension size (%lld).",
                      (long long)start, (long long)length, (long long)cur),
               NULL;
    return sl_ag_slice(x, dim, start, start + length, 1, err);
}

/* ---------------------------------------------------------------------------
 * gather, index_select, masked_fill, nonzero
 * ------------------------------------------------------------------------- */

/* the source index of every element of gather's result */
static int64_t *gather_map(int nd, const int64_t *xshape, int dim, const SlTensor *index, SlError *err)
{
    int64_t n = sl_tensor_numel(index), c[SL_TENSOR_MAXDIM] = {0}, s[SL_TENSOR_MAXDIM];
    int64_t *map = xmalloc((size_t)(n ? n : 1) * sizeof *map);
    SlTensor *ic = sl_tensor_contiguous(index);
    int64_t size = nd ? xshape[dim] : 1;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = I64(ic)[ic->offset + i];
        if (v < 0 || v >= size) {
            sl_err(err, SL_E_VALUE, "index %lld is out of bounds for dimension %d with size %lld", (long long)v, dim,
                   (long long)size);
            free(map);
            sl_tensor_unref(ic);
            return NULL;
        }
        for (int d = 0; d < nd; d++)
            s[d] = d == dim ? v : c[d];
        map[i] = nd ? ravel(nd, xshape, s) : 0;
        step(index->ndim, index->shape, c);
    }
    sl_tensor_unref(ic);
    return map;
}

SlTensor *sl_ag_gather(SlTensor *x, int dim, SlTensor *index, SlError *err)
{
    if (index->dtype != SL_DT_I64)
        return sl_err(err, SL_E_VALUE, "gather(): Expected dtype int64 for index"), NULL;
    if (!wrap(&dim, x->ndim, err))
        return NULL;
    int ind = index->ndim ? index->ndim : 1, xnd = x->ndim ? x->ndim : 1;
    if (ind != xnd)
        return sl_err(err, SL_E_VALUE, "Index tensor must have the same number of dimensions as input tensor"), NULL;
    for (int d = 0; d < x->ndim && index->ndim; d++)
        if (d != dim && index->shape[d] > x->shape[d]) {
            char a[16 * SL_TENSOR_MAXDIM], b[16 * SL_TENSOR_MAXDIM];
            sl_sizes_str(a, sizeof a, index->ndim, index->shape);
            sl_sizes_str(b, sizeof b, x->ndim, x->shape);
            return sl_err(err, SL_E_VALUE,
                          "Size does not match at dimension %d expected index %s to be smaller than self %s apart "
                          "from dimension %d",
                          d, a, b, dim),
                   NULL;
        }
    int64_t *map = gather_map(x->ndim, x->shape, dim, index, err);
    if (!map)
        return NULL;
    SlTensor *r = take(x, index->ndim, index->shape, map, err);
    free(map);
    SlNode *n = r ? sl_ag_record(SL_N_GATHER, r, 1, &x) : NULL;
    if (n) {
        n->ival = dim;
        sl_ag_save(n, index);
    }
    return r;
}

static int64_t *index_select_map(int xnd, const int64_t *xshape, int dim, const SlTensor *index, int *nd,
                                 int64_t *shape, SlError *err)
{
    int64_t len = sl_tensor_numel(index), size = xnd ? xshape[dim] : 1;
    *nd = xnd;
    memcpy(shape, xshape, (size_t)xnd * sizeof *shape);
    if (xnd)
        shape[dim] = len;
    int64_t n = numel_of(*nd, shape), c[SL_TENSOR_MAXDIM] = {0}, s[SL_TENSOR_MAXDIM];
    SlTensor *ic = sl_tensor_contiguous(index);
    for (int64_t i = 0; i < len; i++) {
        int64_t v = I64(ic)[ic->offset + i];
        if (v < 0 || v >= size) {
            /* torch's 2-d dim-1 kernel words it its own way */
            if (xnd == 2 && dim == 1)
                sl_err(err, SL_E_TENSOR_INDEX, "INDICES element is out of DATA bounds, id=%lld axis_dim=%lld",
                       (long long)v, (long long)size);
            else
                sl_err(err, SL_E_TENSOR_INDEX, "index out of range in self");
            sl_tensor_unref(ic);
            return NULL;
        }
    }
    int64_t *map = xmalloc((size_t)(n ? n : 1) * sizeof *map);
    for (int64_t i = 0; i < n; i++) {
        for (int d = 0; d < xnd; d++)
            s[d] = d == dim ? I64(ic)[ic->offset + c[d]] : c[d];
        map[i] = xnd ? ravel(xnd, xshape, s) : 0;
        step(*nd, shape, c);
    }
    sl_tensor_unref(ic);
    return map;
}

SlTensor *sl_ag_index_select(SlTensor *x, int dim, SlTensor *index, SlError *err)
{
    if (index->dtype != SL_DT_I64)
        return sl_err(err, SL_E_VALUE, "index_select(): Expected dtype int32 or int64 for index"), NULL;
    if (index->ndim > 1)
        return sl_err(err, SL_E_TENSOR_INDEX, "index_select(): Index is supposed to be a vector"), NULL;
    if (!wrap(&dim, x->ndim, err))
        return NULL;
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    int64_t *map = index_select_map(x->ndim, x->shape, dim, index, &nd, shape, err);
    if (!map)
        return NULL;
    SlTensor *r = take(x, nd, shape, map, err);
    free(map);
    SlNode *n = r ? sl_ag_record(SL_N_INDEX_SELECT, r, 1, &x) : NULL;
    if (n) {
        n->ival = dim;
        sl_ag_save(n, index);
    }
    return r;
}

/* x (expanded to shape) with value where mask (expanded) holds; value a
 * 0-d tensor of any dtype, converted */
static SlTensor *masked_fill_kernel(const SlTensor *x, const SlTensor *mask, const SlTensor *value, int nd,
                                    const int64_t *shape, SlError *err)
{
    SlTensor *xe = sl_tensor_expand(x, nd, shape, err);
    SlTensor *me = xe ? sl_tensor_expand(mask, nd, shape, err) : NULL;
    SlTensor *r = me ? sl_tensor_contiguous(xe) : NULL;
    if (r && r == xe) {
        sl_tensor_unref(r);
        r = sl_tensor_clone(xe);
    }
    SlTensor *mc = me ? sl_tensor_contiguous(me) : NULL;
    SlTensor *v = r ? sl_tensor_to(value, r->dtype, prec_of(r)) : NULL;
    if (v)
        for (int64_t i = 0, n = sl_tensor_numel(r); i < n; i++)
            if (etrue(mc, mc->offset + i))
                ecopy(r, r->offset + i, v, v->offset);
    sl_tensor_unref(v);
    sl_tensor_unref(mc);
    sl_tensor_unref(me);
    sl_tensor_unref(xe);
    return r;
}

/* the broadcast shape of (na, sa) and (nb, sb), torch's message when none */
static bool bshapes(int na, const int64_t *sa, int nb, const int64_t *sb, int *nd, int64_t *out, SlError *err)
{
    int n = na > nb ? na : nb;
    int64_t res[SL_TENSOR_MAXDIM];
    for (int i = 0; i < n; i++) {
        int da = na - n + i, db = nb - n + i;
        int64_t x = da >= 0 ? sa[da] : 1, y = db >= 0 ? sb[db] : 1;
        if (x != y && x != 1 && y != 1)
            return sl_err(err, SL_E_VALUE,
                          "The size of tensor a (%lld) must match the size of tensor b (%lld) at non-singleton "
                          "dimension %d",
                          (long long)x, (long long)y, i);
        res[i] = x == 1 ? y : x;
    }
    memcpy(out, res, (size_t)n * sizeof *out);
    *nd = n;
    return true;
}

static bool bshape(const SlTensor *a, const SlTensor *b, int *nd, int64_t *out, SlError *err)
{
    return bshapes(a->ndim, a->shape, b->ndim, b->shape, nd, out, err);
}

SlTensor *sl_ag_masked_fill(SlTensor *x, SlTensor *mask, SlTensor *value, SlError *err)
{
    if (sl_dtype_is_float(mask->dtype))
        return sl_err(err, SL_E_VALUE, "masked_fill_ only supports boolean masks, but got mask with dtype %s",
                      mask->dtype == SL_DT_F32 ? "float" : mask->dtype == SL_DT_F64 ? "double" : "mpfr"),
               NULL;
    if (value->ndim != 0)
        return sl_err(err, SL_E_VALUE,
                      "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with %d dimension(s).",
                      value->ndim),
               NULL;
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!bshape(mask, x, &nd, shape, err))
        return NULL;
    SlTensor *r = masked_fill_kernel(x, mask, value, nd, shape, err);
    if (!r)
        return NULL;
    bool tval = !value->wrapped;
    SlTensor *in[2] = {x, value};
    SlNode *n = sl_ag_record(tval ? SL_N_MASKED_FILL_T : SL_N_MASKED_FILL, r, tval ? 2 : 1, in);
    if (n)
        sl_ag_save(n, mask);
    return r;
}

SlTensor *sl_tensor_nonzero(const SlTensor *x, SlError *err)
{
    SlTensor *c = sl_tensor_contiguous(x);
    int64_t n = sl_tensor_numel(c), cnt = 0;
    for (int64_t i = 0; i < n; i++)
        cnt += etrue(c, c->offset + i);
    int64_t shape[2] = {cnt, x->ndim};
    SlTensor *r = sl_tensor_zeros(SL_DT_I64, 2, shape, 0, err);
    if (r) {
        int64_t co[SL_TENSOR_MAXDIM] = {0}, k = 0;
        for (int64_t i = 0; i < n; i++) {
            if (etrue(c, c->offset + i)) {
                for (int d = 0; d < x->ndim; d++)
                    I64(r)[k * x->ndim + d] = co[d];
                k++;
            }
            step(x->ndim, x->shape, co);
        }
    }
    sl_tensor_unref(c);
    return r;
}

/* ---------------------------------------------------------------------------
 * isnan, isinf, allclose, equal
 * ------------------------------------------------------------------------- */

SlTensor *sl_tensor_isnan(const SlTensor *x, bool inf, SlError *err)
{
    SlTensor *c = sl_tensor_contiguous(x);
    SlTensor *r = sl_tensor_zeros(SL_DT_BOOL, x->ndim, x->shape, 0, err);
    if (r)
        for (int64_t i = 0, n = sl_tensor_numel(c); i < n; i++) {
            int64_t o = c->offset + i;
            bool b = false;
            switch (c->dtype) {
            case SL_DT_F32: b = inf ? isinf(F32(c)[o]) : isnan(F32(c)[o]); break;
            case SL_DT_F64: b = inf ? isinf(F64(c)[o]) : isnan(F64(c)[o]); break;
            case SL_DT_MPFR: b = inf ? mpfr_inf_p(&MPF(c)[o]) : mpfr_nan_p(&MPF(c)[o]); break;
            default: break;
            }
            BOOLS(r)[i] = b;
        }
    sl_tensor_unref(c);
    return r;
}

/* torch.isclose's arithmetic, then .all() */
bool sl_tensor_allclose(SlTensor *a, SlTensor *b, double rtol, double atol, bool equal_nan, bool *result,
                        SlError *err)
{
    if (a->dtype != b->dtype || (a->dtype == SL_DT_MPFR && a->storage->prec != b->storage->prec))
        return sl_err(err, SL_E_VALUE, "%s did not match %s", sl_dtype_word(a->dtype), sl_dtype_word(b->dtype));
    Ar ar = {.err = err}, *z = &ar;
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!bshape(a, b, &nd, shape, err))
        return false;
    SlTensor *close = Bin(z, SL_T_EQ, a, b);
    if (close && equal_nan && sl_dtype_is_float(a->dtype))
        close = Bin(z, SL_T_OR, close, Bin(z, SL_T_AND, Bin(z, SL_T_NE, a, a), Bin(z, SL_T_NE, b, b)));
    if (close && !(rtol == 0 && atol == 0)) {
        SlTensor *ca = a->dtype == SL_DT_BOOL ? A(z, sl_tensor_to(a, SL_DT_F32, 0)) : a;
        SlTensor *cb = b->dtype == SL_DT_BOOL ? A(z, sl_tensor_to(b, SL_DT_F32, 0)) : b;
        SlTensor *rt = A(z, konst(cb, rtol, 1)), *at = A(z, konst(cb, atol, 1));
        SlTensor *allowed = Bin(z, SL_T_ADD, at, Un(z, SL_FN_ABS, Bin(z, SL_T_MUL, rt, cb)));
        SlTensor *actual = Un(z, SL_FN_ABS, Bin(z, SL_T_SUB, ca, cb));
        SlTensor *fin = NULL;
        if (actual) {
            SlTensor *nan = A(z, sl_tensor_isnan(actual, false, err)), *inf = A(z, sl_tensor_isnan(actual, true, err));
            fin = Un(z, SL_TU_NOT, Bin(z, SL_T_OR, nan, inf));
        }
        close = Bin(z, SL_T_OR, close, Bin(z, SL_T_AND, fin, Bin(z, SL_T_LE, actual, allowed)));
    }
    bool ok = close != NULL;
    if (ok) {
        *result = true;
        for (int64_t i = 0, n = sl_tensor_numel(close); i < n; i++)
            if (!sl_tensor_get_b(close, i)) {
                *result = false;
                break;
            }
    }
    ar_free(z);
    return ok;
}

bool sl_tensor_equal(const SlTensor *a, const SlTensor *b)
{
    if (a->ndim != b->ndim || memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof a->shape[0]) != 0)
        return false;
    for (int64_t i = 0, n = sl_tensor_numel(a); i < n; i++) {
        if (a->dtype == SL_DT_MPFR || b->dtype == SL_DT_MPFR) {
            if (a->dtype == SL_DT_MPFR && b->dtype == SL_DT_MPFR) {
                if (!mpfr_equal_p(sl_tensor_get_m(a, i), sl_tensor_get_m(b, i)))
                    return false;
                continue;
            }
        }
        if (a->dtype == SL_DT_I64 && b->dtype == SL_DT_I64) {
            if (sl_tensor_get_i(a, i) != sl_tensor_get_i(b, i))
                return false;
        } else if (!(sl_tensor_get_d(a, i) == sl_tensor_get_d(b, i))) {
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------------------
 * libstdc++'s sorting algorithms (GCC 12, bits/stl_algo.h and
 * stl_heap.h), transcribed so that equal keys end up where torch's
 * std::sort / partial_sort / nth_element put them.
 * ------------------------------------------------------------------------- */

typedef struct Item {
    double d;         /* key (float32/float64 exactly; int64 through i) */
    int64_t i;        /* int64/bool key */
    mpfr_srcptr m;    /* mpfr key */
    int64_t idx;      /* position along the dim */
} Item;

typedef bool (*Less)(const Item *, const Item *);

/* torch's KeyValueCompAsc / Desc: NaN is the largest */
static bool asc_d(const Item *a, const Item *b) { return (!isnan(a->d) && isnan(b->d)) || a->d < b->d; }
static bool desc_d(const Item *a, const Item *b) { return (isnan(a->d) && !isnan(b->d)) || a->d > b->d; }
static bool asc_i(const Item *a, const Item *b) { return a->i < b->i; }
static bool desc_i(const Item *a, const Item *b) { return a->i > b->i; }
static bool asc_m(const Item *a, const Item *b)
{
    return (!mpfr_nan_p(a->m) && mpfr_nan_p(b->m)) || mpfr_less_p(a->m, b->m);
}
static bool desc_m(const Item *a, const Item *b)
{
    return (mpfr_nan_p(a->m) && !mpfr_nan_p(b->m)) || mpfr_greater_p(a->m, b->m);
}
/* plain operator< (std::sort of unique's values) */
static bool lt_plain(const Item *a, const Item *b) { return a->m ? mpfr_less_p(a->m, b->m) : a->d < b->d; }
static bool lt_plain_i(const Item *a, const Item *b) { return a->i < b->i; }

static void iswap(Item *a, Item *b)
{
    Item t = *a;
    *a = *b;
    *b = t;
}

static int64_t lg(int64_t n)
{
    int64_t r = -1;
    while (n) {
        n >>= 1;
        r++;
    }
    return r;
}

static void move_median_to_first(Item *r, Item *a, Item *b, Item *c, Less lt)
{
    if (lt(a, b)) {
        if (lt(b, c))
            iswap(r, b);
        else if (lt(a, c))
            iswap(r, c);
        else
            iswap(r, a);
    } else if (lt(a, c)) {
        iswap(r, a);
    } else if (lt(b, c)) {
        iswap(r, c);
    } else {
        iswap(r, b);
    }
}

static Item *unguarded_partition(Item *first, Item *last, Item *pivot, Less lt)
{
    for (;;) {
        while (lt(first, pivot))
            ++first;
        --last;
        while (lt(pivot, last))
            --last;
        if (!(first < last))
            return first;
        iswap(first, last);
        ++first;
    }
}

static Item *partition_pivot(Item *first, Item *last, Less lt)
{
    Item *mid = first + (last - first) / 2;
    move_median_to_first(first, first + 1, mid, last - 1, lt);
    return unguarded_partition(first + 1, last, first, lt);
}

static void push_heap(Item *first, int64_t hole, int64_t top, Item value, Less lt)
{
    int64_t parent = (hole - 1) / 2;
    while (hole > top && lt(first + parent, &value)) {
        first[hole] = first[parent];
        hole = parent;
        parent = (hole - 1) / 2;
    }
    first[hole] = value;
}

static void adjust_heap(Item *first, int64_t hole, int64_t len, Item value, Less lt)
{
    int64_t top = hole, child = hole;
    while (child < (len - 1) / 2) {
        child = 2 * (child + 1);
        if (lt(first + child, first + (child - 1)))
            child--;
        first[hole] = first[child];
        hole = child;
    }
    if ((len & 1) == 0 && child == (len - 2) / 2) {
        child = 2 * (child + 1);
        first[hole] = first[child - 1];
        hole = child - 1;
    }
    push_heap(first, hole, top, value, lt);
}

static void make_heap(Item *first, Item *last, Less lt)
{
    int64_t len = last - first;
    if (len < 2)
        return;
    for (int64_t parent = (len - 2) / 2;; parent--) {
        adjust_heap(first, parent, len, first[parent], lt);
        if (parent == 0)
            return;
    }
}

static void pop_heap(Item *first, Item *last, Item *result, Less lt)
{
    Item v = *result;
    *result = *first;
    adjust_heap(first, 0, last - first, v, lt);
}

static void heap_select(Item *first, Item *middle, Item *last, Less lt)
{
    make_heap(first, middle, lt);
    for (Item *i = middle; i < last; ++i)
        if (lt(i, first))
            pop_heap(first, middle, i, lt);
}

static void sort_heap(Item *first, Item *last, Less lt)
{
    while (last - first > 1) {
        --last;
        pop_heap(first, last, last, lt);
    }
}

static void stl_partial_sort(Item *first, Item *middle, Item *last, Less lt)
{
    heap_select(first, middle, last, lt);
    sort_heap(first, middle, lt);
}

static void introsort_loop(Item *first, Item *last, int64_t depth, Less lt)
{
    while (last - first > 16) {
        if (depth == 0) {
            stl_partial_sort(first, last, last, lt);
            return;
        }
        --depth;
        Item *cut = partition_pivot(first, last, lt);
        introsort_loop(cut, last, depth, lt);
        last = cut;
    }
}

static void unguarded_linear_insert(Item *last, Less lt)
{
    Item v = *last;
    Item *next = last - 1;
    while (lt(&v, next)) {
        *last = *next;
        last = next;
        --next;
    }
    *last = v;
}

static void insertion_sort(Item *first, Item *last, Less lt)
{
    if (first == last)
        return;
    for (Item *i = first + 1; i != last; ++i) {
        if (lt(i, first)) {
            Item v = *i;
            memmove(first + 1, first, (size_t)(i - first) * sizeof *first);
            *first = v;
        } else {
            unguarded_linear_insert(i, lt);
        }
    }
}

static void stl_sort(Item *first, Item *last, Less lt)
{
    if (first == last)
        return;
    introsort_loop(first, last, lg(last - first) * 2, lt);
    if (last - first > 16) {
        insertion_sort(first, first + 16, lt);
        for (Item *i = first + 16; i != last; ++i)
            unguarded_linear_insert(i, lt);
    } else {
        insertion_sort(first, last, lt);
    }
}

static void stl_nth_element(Item *first, Item *nth, Item *last, Less lt)
{
    if (first == last || nth == last)
        return;
    int64_t depth = lg(last - first) * 2;
    while (last - first > 3) {
        if (depth == 0) {
            heap_select(first, nth + 1, last, lt);
            iswap(first, nth);
            return;
        }
        --depth;
        Item *cut = partition_pivot(first, last, lt);
        if (cut <= nth)
            first = cut;
        else
            last = cut;
    }
    insertion_sort(first, last, lt);
}

/* a stable merge sort (any stable sort gives std::stable_sort's result) */
static void stable_sort(Item *a, int64_t n, Less lt, Item *tmp)
{
    if (n < 2)
        return;
    int64_t h = n / 2;
    stable_sort(a, h, lt, tmp);
    stable_sort(a + h, n - h, lt, tmp);
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = lt(&a[j], &a[i]) ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, (size_t)n * sizeof *a);
}

/* ---------------------------------------------------------------------------
 * sort, topk
 * ------------------------------------------------------------------------- */

static Less comparator(SlDType dt, bool desc)
{
    if (dt == SL_DT_MPFR)
        return desc ? desc_m : asc_m;
    if (dt == SL_DT_I64 || dt == SL_DT_BOOL)
        return desc ? desc_i : asc_i;
    return desc ? desc_d : asc_d;
}

static void load_item(Item *it, const SlTensor *c, int64_t o, int64_t idx)
{
    it->idx = idx;
    it->m = NULL;
    it->i = 0;
    it->d = 0;
    switch (c->dtype) {
    case SL_DT_F32: it->d = F32(c)[o]; break;
    case SL_DT_F64: it->d = F64(c)[o]; break;
    case SL_DT_I64: it->i = I64(c)[o]; break;
    case SL_DT_BOOL: it->i = BOOLS(c)[o]; break;
    case SL_DT_MPFR: it->m = &MPF(c)[o]; break;
    }
}

/* mode 0: sort (stable or not); 1: topk (k, sorted) */
static bool select_lines(SlTensor *x, int dim, bool desc, bool stable, int mode, int64_t k, bool sorted,
                         SlTensor **values, SlTensor **indices, SlError *err)
{
    int nd = x->ndim;
    int64_t shape[SL_TENSOR_MAXDIM];
    memcpy(shape, x->shape, (size_t)nd * sizeof *shape);
    int64_t outer, size, inner;
    lines(nd, x->shape, dim, &outer, &size, &inner);
    int64_t keep = mode ? k : size;
    if (nd)
        shape[dim] = keep;
    SlTensor *c = sl_tensor_contiguous(x);
    SlTensor *v = new_as(x, nd, shape, err);
    SlTensor *ix = v ? sl_tensor_zeros(SL_DT_I64, nd, shape, 0, err) : NULL;
    if (!ix) {
        sl_tensor_unref(c);
        sl_tensor_unref(v);
        return false;
    }
    Item *buf = xmalloc((size_t)(size ? size : 1) * sizeof *buf);
    Item *tmp = stable ? xmalloc((size_t)(size ? size : 1) * sizeof *tmp) : NULL;
    Less lt = comparator(x->dtype, desc);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t b = o * size * inner + i;
            for (int64_t j = 0; j < size; j++)
                load_item(&buf[j], c, c->offset + b + j * inner, j);
            if (mode == 0) {
                if (stable)
                    stable_sort(buf, size, lt, tmp);
                else
                    stl_sort(buf, buf + size, lt);
            } else if (k > 0) {
                if (k * 64 <= size) {
                    stl_partial_sort(buf, buf + k, buf + size, lt);
                } else {
                    stl_nth_element(buf, buf + k - 1, buf + size, lt);
                    if (sorted)
                        stl_sort(buf, buf + k - 1, lt);
                }
            }
            int64_t ob = o * keep * inner + i;
            for (int64_t j = 0; j < keep; j++) {
                ecopy(v, ob + j * inner, c, c->offset + b + buf[j].idx * inner);
                I64(ix)[ob + j * inner] = buf[j].idx;
            }
        }
    free(buf);
    free(tmp);
    sl_tensor_unref(c);
    *values = v;
    *indices = ix;
    return true;
}

bool sl_ag_sort(SlTensor *x, int dim, bool descending, bool stable, SlTensor **values, SlTensor **indices,
                SlError *err)
{
    if (!wrap(&dim, x->ndim, err))
        return false;
    if (!select_lines(x, x->ndim ? dim : 0, descending, stable, 0, 0, true, values, indices, err))
        return false;
    SlNode *n = sl_ag_record(stable ? SL_N_SORT_STABLE : SL_N_SORT, *values, 1, &x);
    if (n) {
        n->ival = dim;
        sl_ag_save(n, *indices);
    }
    return true;
}

bool sl_ag_topk(SlTensor *x, int64_t k, int dim, bool largest, bool sorted, SlTensor **values,
                SlTensor **indices, SlError *err)
{
    if (!wrap(&dim, x->ndim, err))
        return false;
    int64_t size = x->ndim ? x->shape[dim] : 1;
    if (k < 0 || k > size)
        return sl_err(err, SL_E_VALUE, "selected index k out of range");
    if (!select_lines(x, x->ndim ? dim : 0, largest, false, 1, k, sorted, values, indices, err))
        return false;
    SlNode *n = sl_ag_record(SL_N_TOPK, *values, 1, &x);
    if (n) {
        n->ival = dim;
        sl_ag_save(n, *indices);
    }
    return true;
}

/* zeros of the input's shape with g put at the indices along dim
 * (value_selecting_reduction_backward's scatter) */
static SlTensor *scatter_back(SlNode *n, SlTensor *g, SlTensor *index, int dim, SlError *err)
{
    int nd = n->in_ndim[0];
    const int64_t *shape = n->in_shape[0];
    int64_t cnt = sl_tensor_numel(index), c[SL_TENSOR_MAXDIM] = {0}, s[SL_TENSOR_MAXDIM];
    int64_t *map = xmalloc((size_t)(cnt ? cnt : 1) * sizeof *map);
    SlTensor *ic = sl_tensor_contiguous(index);
    for (int64_t i = 0; i < cnt; i++) {
        for (int d = 0; d < nd; d++)
            s[d] = d == dim ? I64(ic)[ic->offset + i] : c[d];
        map[i] = nd ? ravel(nd, shape, s) : 0;
        step(index->ndim, index->shape, c);
    }
    sl_tensor_unref(ic);
    SlTensor *r = put_add(g, nd, shape, map, err);
    free(map);
    return r;
}

/* ---------------------------------------------------------------------------
 * unique: torch's unique_cpu_template builds a std::unordered_set from the
 * elements; its iteration order (the unsorted result, and the order
 * std::sort starts from) is libstdc++'s: buckets from the prime list, each
 * new element at the front of its bucket, or of the list when the bucket
 * was empty.
 * ------------------------------------------------------------------------- */

/* libstdc++'s __prime_list, up to 2^32 */
static const uint64_t primes[] = {
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 103, 109,
    113, 127, 137, 139, 149, 157, 167, 179, 193, 199, 211, 227, 241, 257, 277, 293, 313, 337, 359, 383, 409,
    439, 467, 503, 541, 577, 619, 661, 709, 761, 823, 887, 953, 1031, 1109, 1193, 1289, 1381, 1493, 1613, 1741,
    1879, 2029, 2179, 2357, 2549, 2753, 2971, 3209, 3469, 3739, 4027, 4349, 4703, 5087, 5503, 5953, 6427, 6949,
    7517, 8123, 8783, 9497, 10273, 11113, 12011, 12983, 14033, 15173, 16411, 17749, 19183, 20753, 22447, 24281,
    26267, 28411, 30727, 33223, 35933, 38873, 42043, 45481, 49201, 53201, 57557, 62233, 67307, 72817, 78779,
    85229, 92203, 99733, 107897, 116731, 126271, 136607, 147793, 159871, 172933, 187091, 202409, 218971,
    236897, 256279, 277261, 299951, 324503, 351061, 379787, 410857, 444487, 480881, 520241, 562841, 608903,
    658753, 712697, 771049, 834181, 902483, 976369, 1056323, 1142821, 1236397, 1337629, 1447153, 1565659,
    1693859, 1832561, 1982627, 2144977, 2320627, 2510653, 2716249, 2938679, 3179303, 3439651, 3721303, 4026031,
    4355707, 4712381, 5098259, 5515729, 5967347, 6456007, 6984629, 7556579, 8175383, 8844859, 9569143,
    10352717, 11200489, 12117689, 13109983, 14183539, 15345007, 16601593, 17961079, 19431899, 21023161,
    22744717, 24607243, 26622317, 28802401, 31160981, 33712729, 36473443, 39460231, 42691603, 46187573,
    49969847, 54061849, 58488943, 63278561, 68460391, 74066549, 80131819, 86693767, 93793069, 101473717,
    109783337, 118773397, 128499677, 139022417, 150406843, 162723577, 176048909, 190465427, 206062531,
    222936881, 241193053, 260944219, 282312799, 305431229, 330442829, 357502601, 386778277, 418451333,
    452718089, 489790921, 529899637, 573292817, 620239453, 671030513, 725980837, 785430967, 849749479,
    919334987, 994618837, 1076067617, 1164186217, 1259520799, 1362662261, 1474249943, 1594975441, 1725587117,
    1866894511, 2019773507, 2185171673, 2364114217, 2557710269, 2767159799, 2993761039, 3238918481, 3504151727,
    3791104843, 4101556399, 4294967291,
};

/* _Prime_rehash_policy::_M_next_bkt (it sets the next resize too; the
 * maximum load factor is 1) */
static uint64_t next_bkt(uint64_t n, uint64_t *next_resize)
{
    static const unsigned char fast[] = {2, 2, 2, 3, 5, 5, 7, 7, 11, 11, 11, 11, 13, 13};
    if (n < sizeof fast) {
        if (n == 0)
            return 1;
        *next_resize = fast[n];
        return fast[n];
    }
    size_t lo = 6, hi = sizeof primes / sizeof primes[0] - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (primes[mid] < n)
            lo = mid + 1;
        else
            hi = mid;
    }
    *next_resize = primes[lo];
    return primes[lo];
}

/* libstdc++'s _Hashtable for unique keys, as far as the order of its
 * nodes goes: a singly linked list; each bucket knows the node before
 * its first one (BEFORE: the list's head) */
enum { U_EMPTY = -2, U_BEFORE = -1 };

typedef struct Uset {
    uint64_t nb;          /* bucket count */
    uint64_t next_resize; /* _M_next_resize */
    int64_t *bb;          /* per bucket: the node before its first, U_BEFORE, U_EMPTY */
    int64_t head;         /* the first node, -1 */
    int64_t *next;        /* per node: the next one, -1 */
    uint64_t *hash;       /* per node: its hash code */
} Uset;

/* _M_insert_bucket_begin */
static void uset_link(Uset *s, int64_t m)
{
    uint64_t b = s->hash[m] % s->nb;
    if (s->bb[b] != U_EMPTY) {
        if (s->bb[b] == U_BEFORE) {
            s->next[m] = s->head;
            s->head = m;
        } else {
            s->next[m] = s->next[s->bb[b]];
            s->next[s->bb[b]] = m;
        }
    } else {
        s->next[m] = s->head;
        s->head = m;
        if (s->next[m] >= 0)
            s->bb[s->hash[s->next[m]] % s->nb] = m;
        s->bb[b] = U_BEFORE;
    }
}

/* _M_rehash_aux for unique keys: the old list relinked in order */
static void uset_rehash(Uset *s, uint64_t nb)
{
    free(s->bb);
    s->nb = nb;
    s->bb = xmalloc((size_t)nb * sizeof *s->bb);
    for (uint64_t b = 0; b < nb; b++)
        s->bb[b] = U_EMPTY;
    int64_t p = s->head;
    s->head = -1;
    while (p >= 0) {
        int64_t nx = s->next[p];
        uset_link(s, p);
        p = nx;
    }
}

/* _M_need_rehash(bucket count, elements, 1) before an insertion */
static void uset_grow(Uset *s, uint64_t count)
{
    if (count + 1 <= s->next_resize)
        return;
    uint64_t lo = s->next_resize ? 0 : 11;
    double min_bkts = (double)(count + 1 > lo ? count + 1 : lo);
    if (min_bkts >= (double)s->nb) {
        uint64_t want = (uint64_t)floor(min_bkts) + 1, grow = s->nb * 2;
        uset_rehash(s, next_bkt(want > grow ? want : grow, &s->next_resize));
    } else {
        s->next_resize = s->nb;
    }
}

static uint64_t shift_mix(uint64_t v) { return v ^ (v >> 47); }

/* std::_Hash_bytes (libsupc++'s hash_bytes.cc, 64-bit) */
static uint64_t hash_bytes(const void *ptr, size_t len, uint64_t seed)
{
    const uint64_t mul = (UINT64_C(0xc6a4a793) << 32) + UINT64_C(0x5bd1e995);
    const unsigned char *buf = ptr;
    size_t aligned = len & ~(size_t)7;
    uint64_t hash = seed ^ (len * mul);
    for (size_t i = 0; i < aligned; i += 8) {
        uint64_t d;
        memcpy(&d, buf + i, 8);
        d = shift_mix(d * mul) * mul;
        hash ^= d;
        hash *= mul;
    }
    if (len & 7) {
        size_t n = len & 7;
        uint64_t d = 0;
        --n;
        do
            d = (d << 8) + buf[aligned + n];
        while (n-- != 0);
        hash ^= d;
        hash *= mul;
    }
    hash = shift_mix(hash) * mul;
    return shift_mix(hash);
}

/* std::hash of the element (0 and -0 hash to 0) */
static uint64_t ehash(const Item *it, SlDType dt)
{
    switch (dt) {
    case SL_DT_F32: {
        float f = (float)it->d;
        return f != 0.0f ? hash_bytes(&f, sizeof f, 0xc70f6907u) : 0;
    }
    case SL_DT_F64: return it->d != 0.0 ? hash_bytes(&it->d, sizeof it->d, 0xc70f6907u) : 0;
    case SL_DT_MPFR: {
        double d = mpfr_get_d(it->m, MPFR_RNDN);
        return d != 0.0 ? hash_bytes(&d, sizeof d, 0xc70f6907u) : 0;
    }
    default: return (uint64_t)it->i;
    }
}

static bool eeq(const Item *a, const Item *b, SlDType dt)
{
    if (dt == SL_DT_MPFR)
        return mpfr_equal_p(a->m, b->m);
    if (dt == SL_DT_I64 || dt == SL_DT_BOOL)
        return a->i == b->i;
    return a->d == b->d;
}

static bool is_nan_item(const Item *a, SlDType dt)
{
    return dt == SL_DT_MPFR ? mpfr_nan_p(a->m) : (dt == SL_DT_F32 || dt == SL_DT_F64) && isnan(a->d);
}

/* slices along dim compared lexicographically (unique(dim=)) */
static const SlTensor *slice_ctx;
static int64_t slice_len;

static int slice_cmp(const Item *a, const Item *b)
{
    const SlTensor *c = slice_ctx;
    for (int64_t k = 0; k < slice_len; k++) {
        int64_t oa = c->offset + a->idx * slice_len + k, ob = c->offset + b->idx * slice_len + k;
        int r;
        if (c->dtype == SL_DT_MPFR) {
            r = mpfr_less_p(&MPF(c)[oa], &MPF(c)[ob]) ? -1 : mpfr_greater_p(&MPF(c)[oa], &MPF(c)[ob]) ? 1 : 0;
        } else if (c->dtype == SL_DT_I64) {
            r = I64(c)[oa] < I64(c)[ob] ? -1 : I64(c)[oa] > I64(c)[ob] ? 1 : 0;
        } else {
            double x = eget_d(c, oa), y = eget_d(c, ob);
            r = x < y ? -1 : x > y ? 1 : 0;
        }
        if (r)
            return r;
    }
    return 0;
}

static bool slice_lt(const Item *a, const Item *b) { return slice_cmp(a, b) < 0; }

static bool slice_eq(const Item *a, const Item *b)
{
    const SlTensor *c = slice_ctx;
    for (int64_t k = 0; k < slice_len; k++) {
        int64_t oa = c->offset + a->idx * slice_len + k, ob = c->offset + b->idx * slice_len + k;
        bool e = c->dtype == SL_DT_MPFR ? mpfr_equal_p(&MPF(c)[oa], &MPF(c)[ob])
                 : c->dtype == SL_DT_I64 ? I64(c)[oa] == I64(c)[ob]
                                         : eget_d(c, oa) == eget_d(c, ob);
        if (!e)
            return false;
    }
    return true;
}

static bool unique_dim(SlTensor *x, int dim, SlTensor **values, SlTensor **inverse, SlTensor **counts,
                       SlError *err)
{
    /* moveaxis(dim, 0), contiguous, rows of the rest */
    int perm[SL_TENSOR_MAXDIM], k = 0;
    perm[k++] = dim;
    for (int d = 0; d < x->ndim; d++)
        if (d != dim)
            perm[k++] = d;
    SlTensor *p = sl_tensor_permute(x, perm, err);
    SlTensor *c = p ? sl_tensor_contiguous(p) : NULL;
    sl_tensor_unref(p);
    if (!c)
        return false;
    int64_t rows = x->shape[dim], len = rows ? sl_tensor_numel(c) / rows : 0;
    Item *it = xcalloc((size_t)(rows ? rows : 1), sizeof *it);
    for (int64_t i = 0; i < rows; i++)
        it[i].idx = i;
    slice_ctx = c;
    slice_len = len;
    stl_sort(it, it + rows, slice_lt);
    int64_t *inv = xcalloc((size_t)(rows ? rows : 1), sizeof *inv), *cnt = xcalloc((size_t)(rows ? rows : 1), sizeof *cnt);
    int64_t *keep = xcalloc((size_t)(rows ? rows : 1), sizeof *keep), nu = 0;
    for (int64_t i = 0; i < rows; i++) {
        if (nu == 0 || !slice_eq(&it[keep[nu - 1]], &it[i]))
            keep[nu++] = i;
        inv[it[i].idx] = nu - 1;
        cnt[nu - 1]++;
    }
    slice_ctx = NULL;
    int64_t shape[SL_TENSOR_MAXDIM];
    for (int d = 0; d < c->ndim; d++)
        shape[d] = c->shape[d];
    shape[0] = nu;
    SlTensor *u = new_as(c, c->ndim, shape, err);
    if (u)
        for (int64_t i = 0; i < nu; i++)
            for (int64_t j = 0; j < len; j++)
                ecopy(u, i * len + j, c, c->offset + it[keep[i]].idx * len + j);
    /* moveaxis(0, dim) back */
    int back[SL_TENSOR_MAXDIM];
    for (int d = 0; d < x->ndim; d++)
        back[perm[d]] = d;
    SlTensor *up = u ? sl_tensor_permute(u, back, err) : NULL;
    *values = up ? sl_tensor_contiguous(up) : NULL;
    sl_tensor_unref(up);
    sl_tensor_unref(u);
    bool ok = *values != NULL;
    if (ok && inverse) {
        *inverse = sl_tensor_zeros(SL_DT_I64, 1, &rows, 0, err);
        memcpy(I64(*inverse), inv, (size_t)rows * sizeof *inv);
    }
    if (ok && counts) {
        *counts = sl_tensor_zeros(SL_DT_I64, 1, &nu, 0, err);
        memcpy(I64(*counts), cnt, (size_t)nu * sizeof *cnt);
    }
    free(it);
    free(inv);
    free(cnt);
    free(keep);
    sl_tensor_unref(c);
    return ok;
}

bool sl_tensor_unique(SlTensor *x, bool sorted, bool use_dim, int dim, SlTensor **values, SlTensor **inverse,
                      SlTensor **counts, SlError *err)
{
    if (inverse)
        *inverse = NULL;
    if (counts)
        *counts = NULL;
    if (use_dim) {
        if (!wrap(&dim, x->ndim, err))
            return false;
        if (x->ndim == 0)
            return sl_err(err, SL_E_VALUE, "unique(dim=) needs a tensor with at least one dimension");
        return unique_dim(x, dim, values, inverse, counts, err);
    }
    SlTensor *c = sl_tensor_contiguous(x);
    int64_t n = sl_tensor_numel(c);
    SlDType dt = c->dtype;
    Item *node = xcalloc((size_t)(n ? n : 1), sizeof *node); /* idx: the input element */
    int64_t *of = xmalloc((size_t)(n ? n : 1) * sizeof *of); /* input element -> its node */
    Uset set = {.nb = 1, .bb = xmalloc(sizeof(int64_t)), .head = -1};
    set.bb[0] = U_EMPTY;
    set.next = xmalloc((size_t)(n ? n : 1) * sizeof *set.next);
    set.hash = xmalloc((size_t)(n ? n : 1) * sizeof *set.hash);
    int64_t nn = 0;
    for (int64_t i = 0; i < n; i++) {
        Item it;
        load_item(&it, c, c->offset + i, i);
        int64_t found = -1;
        if (dt == SL_DT_MPFR && !sorted) {
            /* no std::hash for mpfr: the order of first occurrence */
            for (int64_t k = 0; k < nn; k++)
                if (eeq(&node[k], &it, dt)) {
                    found = k;
                    break;
                }
            if (found < 0) {
                node[nn] = it;
                set.next[nn] = -1;
                if (nn)
                    set.next[nn - 1] = nn;
                else
                    set.head = 0;
                found = nn++;
            }
            of[i] = found;
            continue;
        }
        uint64_t h = ehash(&it, dt), b = h % set.nb;
        if (set.bb[b] != U_EMPTY)
            for (int64_t k = set.bb[b] == U_BEFORE ? set.head : set.next[set.bb[b]];
                 k >= 0 && set.hash[k] % set.nb == b; k = set.next[k])
                if (eeq(&node[k], &it, dt)) {
                    found = k;
                    break;
                }
        if (found < 0) {
            uset_grow(&set, (uint64_t)nn);
            found = nn++;
            node[found] = it;
            set.hash[found] = h;
            uset_link(&set, found);
        }
        of[i] = found;
    }
    int64_t head = set.head, *next = set.next;
    /* the set's order, then std::sort when sorted */
    Item *vec = xcalloc((size_t)(nn ? nn : 1), sizeof *vec);
    int64_t k = 0;
    for (int64_t m = head; m >= 0; m = next[m]) {
        vec[k] = node[m];
        vec[k].i = dt == SL_DT_I64 || dt == SL_DT_BOOL ? node[m].i : 0;
        vec[k].idx = m;
        if (dt != SL_DT_MPFR)
            vec[k].m = NULL;
        k++;
    }
    if (sorted)
        stl_sort(vec, vec + nn, dt == SL_DT_I64 || dt == SL_DT_BOOL ? lt_plain_i : lt_plain);
    int64_t *pos = xmalloc((size_t)(nn ? nn : 1) * sizeof *pos);
    for (int64_t j = 0; j < nn; j++)
        pos[vec[j].idx] = j;
    bool ok = true;
    *values = sl_tensor_zeros(dt, 1, &nn, prec_of(c), err);
    if (!*values)
        ok = false;
    for (int64_t j = 0; ok && j < nn; j++)
        ecopy(*values, j, c, c->offset + node[vec[j].idx].idx);
    if (ok && (inverse || counts)) {
        SlTensor *inv = sl_tensor_zeros(SL_DT_I64, x->ndim, x->shape, 0, err);
        SlTensor *cn = sl_tensor_zeros(SL_DT_I64, 1, &nn, 0, err);
        for (int64_t i = 0; i < n; i++) {
            if (is_nan_item(&node[of[i]], dt))
                continue; /* torch's unordered_map never finds a NaN: index 0, count 0 */
            I64(inv)[i] = pos[of[i]];
            I64(cn)[pos[of[i]]]++;
        }
        if (inverse)
            *inverse = inv;
        else
            sl_tensor_unref(inv);
        if (counts)
            *counts = cn;
        else
            sl_tensor_unref(cn);
    }
    free(set.bb);
    free(set.hash);
    free(node);
    free(next);
    free(of);
    free(vec);
    free(pos);
    sl_tensor_unref(c);
    if (ok)
        sl_ag_record(SL_N_UNIQUE, *values, 1, &x);
    return ok;
}

/* ---------------------------------------------------------------------------
 * lerp, dist, outer, logsumexp
 * ------------------------------------------------------------------------- */

static float lerp_f(float s, float e, float w)
{
    return fabsf(w) < 0.5f ? fmaf(w, e - s, s) : fmaf(-(e - s), 1.0f - w, e);
}

static double lerp_d(double s, double e, double w)
{
    return fabs(w) < 0.5 ? fma(w, e - s, s) : fma(-(e - s), 1.0 - w, e);
}

SlTensor *sl_ag_lerp(SlTensor *start, SlTensor *end, SlTensor *weight, SlError *err)
{
    bool scalar_w = weight->wrapped;
    if (!sl_dtype_is_float(start->dtype))
        return sl_err(err, SL_E_TYPE, "\"%s\" not implemented for '%s'",
                      scalar_w ? "lerp_kernel_scalar" : "lerp_kernel_tensor", sl_dtype_word(start->dtype)),
               NULL;
    if (end->dtype != start->dtype)
        return sl_err(err, SL_E_VALUE, "expected dtype %s for `end` but got dtype %s", sl_dtype_name(start->dtype) + 6,
                      sl_dtype_name(end->dtype) + 6),
               NULL;
    if (!scalar_w && weight->dtype != start->dtype)
        return sl_err(err, SL_E_VALUE, "expected dtype %s for `weight` but got dtype %s",
                      sl_dtype_name(start->dtype) + 6, sl_dtype_name(weight->dtype) + 6),
               NULL;
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!bshape(start, end, &nd, shape, err))
        return NULL;
    if (!scalar_w && !bshapes(nd, shape, weight->ndim, weight->shape, &nd, shape, err))
        return NULL;
    mpfr_prec_t p = prec_of(start);
    if (start->dtype == SL_DT_MPFR)
        p = p > end->storage->prec ? p : end->storage->prec;
    SlTensor *r = sl_tensor_zeros(start->dtype, nd, shape, p, err);
    if (!r)
        return NULL;
    SlTensor *se = sl_tensor_expand(start, nd, shape, err), *ee = sl_tensor_expand(end, nd, shape, err);
    SlTensor *we = scalar_w ? NULL : sl_tensor_expand(weight, nd, shape, err);
    SlTensor *sc = sl_tensor_contiguous(se), *ec = sl_tensor_contiguous(ee);
    SlTensor *wc = we ? sl_tensor_contiguous(we) : NULL;
    double wd = scalar_w ? sl_tensor_get_d(weight, 0) : 0;
    int64_t n = sl_tensor_numel(r);
    if (r->dtype == SL_DT_F32) {
        for (int64_t i = 0; i < n; i++)
            F32(r)[i] = lerp_f(F32(sc)[sc->offset + i], F32(ec)[ec->offset + i],
                               wc ? F32(wc)[wc->offset + i] : (float)wd);
    } else if (r->dtype == SL_DT_F64) {
        for (int64_t i = 0; i < n; i++)
            F64(r)[i] = lerp_d(F64(sc)[sc->offset + i], F64(ec)[ec->offset + i], wc ? F64(wc)[wc->offset + i] : wd);
    } else {
        mpfr_t w, d, t;
        mpfr_inits2(p, w, d, t, (mpfr_ptr)NULL);
        if (scalar_w && weight->dtype == SL_DT_MPFR)
            mpfr_set(w, sl_tensor_get_m(weight, 0), MPFR_RNDN);
        else if (scalar_w)
            mpfr_set_d(w, wd, MPFR_RNDN);
        for (int64_t i = 0; i < n; i++) {
            mpfr_srcptr s = &MPF(sc)[sc->offset + i], e = &MPF(ec)[ec->offset + i];
            if (wc)
                mpfr_set(w, &MPF(wc)[wc->offset + i], MPFR_RNDN);
            mpfr_sub(d, e, s, MPFR_RNDN);
            if (mpfr_cmp_d(w, 0.5) < 0 && mpfr_cmp_d(w, -0.5) > 0) {
                mpfr_fma(&MPF(r)[i], w, d, s, MPFR_RNDN);
            } else {
                mpfr_ui_sub(t, 1, w, MPFR_RNDN);
                mpfr_mul(t, d, t, MPFR_RNDN);
                mpfr_sub(&MPF(r)[i], e, t, MPFR_RNDN);
            }
        }
        mpfr_clears(w, d, t, (mpfr_ptr)NULL);
    }
    sl_tensor_unref(se);
    sl_tensor_unref(ee);
    sl_tensor_unref(we);
    sl_tensor_unref(sc);
    sl_tensor_unref(ec);
    sl_tensor_unref(wc);
    SlTensor *in[3] = {start, end, weight};
    SlNode *node = sl_ag_record(scalar_w ? SL_N_LERP : SL_N_LERP_T, r, scalar_w ? 2 : 3, in);
    if (node) {
        node->scalar = wd;
        sl_ag_save(node, weight);
        if (!scalar_w) {
            sl_ag_save(node, start);
            sl_ag_save(node, end);
        }
    }
    return r;
}

/* norm(d, p) of a contiguous tensor, as torch's norm kernels for a full
 * reduction: p = 2 vectorised (norm_two_reduce_step), others in order */
static SlTensor *norm_kernel(const SlTensor *d, double p, SlError *err)
{
    SlTensor *c = sl_tensor_contiguous(d);
    SlTensor *r = sl_tensor_zeros(c->dtype, 0, NULL, prec_of(c), err);
    int64_t n = sl_tensor_numel(c), o = c->offset;
    if (!r) {
        sl_tensor_unref(c);
        return NULL;
    }
    if (c->dtype == SL_DT_F32) {
        const float *x = F32(c) + o;
        float acc = 0;
        if (p == 2) {
            float lane[8] = {0};
            int64_t k = 0;
            for (; k + 8 <= n; k += 8)
                for (int l = 0; l < 8; l++)
                    lane[l] = fmaf(x[k + l], x[k + l], lane[l]);
            acc = lane[0];
            for (int l = 1; l < 8; l++)
                acc = acc + lane[l];
            for (; k < n; k++)
                acc = fmaf(x[k], x[k], acc);
            acc = sqrtf(acc);
        } else if (p == 0) {
            for (int64_t k = 0; k < n; k++)
                acc = acc + (x[k] == 0 ? 0.0f : 1.0f);
        } else if (p == 1) {
            for (int64_t k = 0; k < n; k++)
                acc = acc + fabsf(x[k]);
        } else if (isinf(p)) {
            acc = p > 0 ? 0.0f : INFINITY;
            for (int64_t k = 0; k < n; k++) {
                float a = fabsf(x[k]);
                if (isnan(a) || isnan(acc))
                    acc = NAN;
                else if (p > 0 ? a > acc : a < acc)
                    acc = a;
            }
        } else {
            float pf = (float)p;
            for (int64_t k = 0; k < n; k++)
                acc = acc + powf(fabsf(x[k]), pf);
            acc = powf(acc, 1.0f / pf);
        }
        F32(r)[0] = acc;
    } else if (c->dtype == SL_DT_F64) {
        const double *x = F64(c) + o;
        double acc = 0;
        if (p == 2) {
            /* NormTwoOps in order (the vectorised lastdim path is float's) */
            for (int64_t k = 0; k < n; k++)
                acc = fma(x[k], x[k], acc);
            acc = sqrt(acc);
        } else if (p == 0) {
            for (int64_t k = 0; k < n; k++)
                acc = acc + (x[k] == 0 ? 0.0 : 1.0);
        } else if (p == 1) {
            for (int64_t k = 0; k < n; k++)
                acc = acc + fabs(x[k]);
        } else if (isinf(p)) {
            acc = p > 0 ? 0.0 : INFINITY;
            for (int64_t k = 0; k < n; k++) {
                double a = fabs(x[k]);
                if (isnan(a) || isnan(acc))
                    acc = NAN;
                else if (p > 0 ? a > acc : a < acc)
                    acc = a;
            }
        } else {
            for (int64_t k = 0; k < n; k++)
                acc = acc + pow(fabs(x[k]), p);
            acc = pow(acc, 1.0 / p);
        }
        F64(r)[0] = acc;
    } else {
        mpfr_ptr acc = &MPF(r)[0];
        mpfr_t a;
        mpfr_init2(a, prec_of(c));
        mpfr_set_zero(acc, 1);
        if (isinf(p) && p < 0)
            mpfr_set_inf(acc, 1);
        for (int64_t k = 0; k < n; k++) {
            mpfr_abs(a, &MPF(c)[o + k], MPFR_RNDN);
            if (p == 0) {
                if (!mpfr_zero_p(a))
                    mpfr_add_ui(acc, acc, 1, MPFR_RNDN);
            } else if (isinf(p)) {
                if (mpfr_nan_p(a) || mpfr_nan_p(acc))
                    mpfr_set_nan(acc);
                else if (p > 0 ? mpfr_greater_p(a, acc) : mpfr_less_p(a, acc))
                    mpfr_set(acc, a, MPFR_RNDN);
            } else if (p == 2) {
                mpfr_fma(acc, a, a, acc, MPFR_RNDN);
            } else if (p == 1) {
                mpfr_add(acc, acc, a, MPFR_RNDN);
            } else {
                mpfr_t e;
                mpfr_init2(e, 64);
                mpfr_set_d(e, p, MPFR_RNDN);
                mpfr_pow(a, a, e, MPFR_RNDN);
                mpfr_clear(e);
                mpfr_add(acc, acc, a, MPFR_RNDN);
            }
        }
        if (p == 2) {
            mpfr_sqrt(acc, acc, MPFR_RNDN);
        } else if (p != 0 && p != 1 && !isinf(p)) {
            mpfr_set_d(a, p, MPFR_RNDN);
            mpfr_ui_div(a, 1, a, MPFR_RNDN);
            mpfr_pow(acc, acc, a, MPFR_RNDN);
        }
        mpfr_clear(a);
    }
    sl_tensor_unref(c);
    return r;
}

SlTensor *sl_ag_dist(SlTensor *a, SlTensor *b, double p, SlError *err)
{
    SlTensor *d = sl_tensor_binary(SL_T_SUB, a, b, err);
    if (!d)
        return NULL;
    if (!sl_dtype_is_float(d->dtype)) {
        sl_err(err, SL_E_VALUE, "norm(): input dtype should be either floating point or complex. Got %s instead.",
               sl_dtype_word(d->dtype));
        sl_tensor_unref(d);
        return NULL;
    }
    SlTensor *r = norm_kernel(d, p, err);
    sl_tensor_unref(d);
    SlTensor *in[2] = {a, b};
    SlNode *n = r ? sl_ag_record(SL_N_DIST, r, 2, in) : NULL;
    if (n) {
        n->scalar = p;
        sl_ag_save(n, a);
        sl_ag_save(n, b);
        sl_ag_save(n, r);
    }
    return r;
}

/* norm_backward (FunctionsManual.cpp) for a full reduction */
static SlTensor *norm_backward(Ar *z, SlTensor *g, SlTensor *self, double p, SlTensor *norm)
{
    SlError *err = z->err;
    if (p == 0)
        return A(z, sl_tensor_zeros_like(self, err));
    if (p == 1)
        return Bin(z, SL_T_MUL, Un(z, SL_TU_SGN, self), g);
    SlTensor *nz = Bin(z, SL_T_EQ, norm, A(z, konst(norm, 0, 1)));
    if (p == 2) {
        /* grad * (self / norm).masked_fill_(norm == 0, 0) */
        SlTensor *q = Bin(z, SL_T_DIV, self, norm);
        SlTensor *m = q && nz ? A(z, sl_tensor_where(nz, Zero0(z, q), q, err)) : NULL;
        return Bin(z, SL_T_MUL, g, m);
    }
    if (isinf(p)) {
        /* self.sgn() * ((grad / mask.sum()) * mask), mask: |self| == norm or NaN */
        SlTensor *ab = Un(z, SL_FN_ABS, self);
        SlTensor *mask = Bin(z, SL_T_OR, Bin(z, SL_T_EQ, ab, norm), ab ? A(z, sl_tensor_isnan(ab, false, err)) : NULL);
        SlTensor *cnt = mask ? A(z, sl_tensor_sum(mask, all_mask(mask->ndim), false, err)) : NULL;
        return Bin(z, SL_T_MUL, Un(z, SL_TU_SGN, self), Bin(z, SL_T_MUL, Bin(z, SL_T_DIV, g, cnt), mask));
    }
    SlTensor *ab = Un(z, SL_FN_ABS, self);
    if (p < 1) {
        /* self.sgn() * self.abs().pow_(p - 1).masked_fill_(self == 0, 0) * grad * norm.pow(1 - p) */
        SlTensor *pw = ab ? A(z, sl_tensor_pow_scalar(ab, p - 1, err)) : NULL;
        SlTensor *sz = Bin(z, SL_T_EQ, self, A(z, konst(self, 0, 1)));
        SlTensor *pm = pw && sz ? A(z, sl_tensor_where(sz, Zero0(z, pw), pw, err)) : NULL;
        SlTensor *scaled = Bin(z, SL_T_MUL, Un(z, SL_TU_SGN, self), pm);
        SlTensor *np = norm ? A(z, sl_tensor_pow_scalar(norm, 1 - p, err)) : NULL;
        return Bin(z, SL_T_MUL, Bin(z, SL_T_MUL, scaled, g), np);
    }
    SlTensor *scaled;
    if (p < 2)
        scaled = Bin(z, SL_T_MUL, Un(z, SL_TU_SGN, self), ab ? A(z, sl_tensor_pow_scalar(ab, p - 1, err)) : NULL);
    else
        scaled = Bin(z, SL_T_MUL, self, ab ? A(z, sl_tensor_pow_scalar(ab, p - 2, err)) : NULL);
    SlTensor *sv = Bin(z, SL_T_DIV, g, norm ? A(z, sl_tensor_pow_scalar(norm, p - 1, err)) : NULL);
    SlTensor *svm = sv && nz ? A(z, sl_tensor_where(nz, Zero0(z, sv), sv, err)) : NULL;
    return Bin(z, SL_T_MUL, scaled, svm);
}

SlTensor *sl_ag_outer(SlTensor *a, SlTensor *b, SlError *err)
{
    if (a->ndim != 1)
        return sl_err(err, SL_E_VALUE, "outer: Expected 1-D argument self, but got %d-D", a->ndim), NULL;
    if (b->ndim != 1)
        return sl_err(err, SL_E_VALUE, "outer: Expected 1-D argument vec2, but got %d-D", b->ndim), NULL;
    int64_t s2[2] = {a->shape[0], 1};
    SlTensor *col = sl_ag_reshape(a, 2, s2, err);
    SlTensor *r = col ? sl_ag_binary(SL_T_MUL, col, b, err) : NULL;
    sl_tensor_unref(col);
    return r;
}

/* amax over mask, keepdim (NaN propagates) */
static SlTensor *amax_keep(const SlTensor *x, uint32_t mask, SlError *err)
{
    int nd = x->ndim, red[SL_TENSOR_MAXDIM], nr = 0, kept[SL_TENSOR_MAXDIM], nk = 0;
    int64_t shape[SL_TENSOR_MAXDIM], ks[SL_TENSOR_MAXDIM], oc[SL_TENSOR_MAXDIM] = {0};
    for (int d = 0; d < nd; d++) {
        if (mask & (1u << d)) {
            red[nr++] = d;
            shape[d] = 1;
        } else {
            shape[d] = x->shape[d];
            ks[nk] = x->shape[d];
            kept[nk++] = d;
        }
    }
    SlTensor *r = new_as(x, nd, shape, err);
    if (!r)
        return NULL;
    int64_t cnt = 1;
    for (int i = 0; i < nr; i++)
        cnt *= x->shape[red[i]];
    int64_t *offs = xmalloc((size_t)(cnt ? cnt : 1) * sizeof *offs);
    for (int64_t o = 0, nout = sl_tensor_numel(r); o < nout; o++) {
        int64_t base = x->offset;
        for (int i = 0; i < nk; i++)
            base += oc[i] * x->strides[kept[i]];
        reduced_offsets(x, red, nr, base, offs);
        int64_t best = offs[0];
        for (int64_t i = 1; i < cnt; i++) {
            int64_t q = offs[i];
            if (x->dtype == SL_DT_MPFR) {
                if (mpfr_nan_p(&MPF(x)[best]))
                    break;
                if (mpfr_nan_p(&MPF(x)[q]) || mpfr_greater_p(&MPF(x)[q], &MPF(x)[best]))
                    best = q;
            } else {
                double a = eget_d(x, best), b = eget_d(x, q);
                if (isnan(a))
                    break;
                if (isnan(b) || b > a)
                    best = q;
            }
        }
        ecopy(r, o, x, best);
        step(nk, ks, oc);
    }
    free(offs);
    return r;
}

SlTensor *sl_ag_logsumexp(SlTensor *x, uint32_t mask, bool keepdim, SlError *err)
{
    if (!sl_dtype_is_float(x->dtype)) {
        SlTensor *f = sl_tensor_to(x, SL_DT_F32, 0);
        SlTensor *r = sl_ag_logsumexp(f, mask, keepdim, err);
        sl_tensor_unref(f);
        return r;
    }
    mask &= all_mask(x->ndim);
    Ar ar = {.err = err}, *z = &ar;
    SlTensor *r = NULL;
    if (sl_tensor_numel(x) != 0) {
        /* maxes.masked_fill_(maxes.abs() == INFINITY, 0) before x - maxes */
        SlTensor *mx = A(z, amax_keep(x, mask, err));
        SlTensor *inf = mx ? A(z, sl_tensor_isnan(mx, true, err)) : NULL;
        SlTensor *m0 = inf ? A(z, sl_tensor_where(inf, Zero0(z, mx), mx, err)) : NULL;
        SlTensor *e = Un(z, SL_FN_EXP, Bin(z, SL_T_SUB, x, m0));
        SlTensor *s = e ? A(z, sl_tensor_sum(e, mask, keepdim, err)) : NULL;
        SlTensor *l = Un(z, SL_FN_LOG, s);
        SlTensor *ms = NULL;
        if (l && m0) {
            bool copied;
            ms = A(z, sl_tensor_reshape(m0, l->ndim, l->shape, &copied, err));
        }
        r = Bin(z, SL_T_ADD, l, ms);
    } else {
        SlTensor *s = A(z, sl_tensor_sum(Un(z, SL_FN_EXP, x), mask, keepdim, err));
        r = Un(z, SL_FN_LOG, s);
    }
    r = r ? sl_tensor_ref(r) : NULL;
    ar_free(z);
    SlNode *n = r ? sl_ag_record(SL_N_LOGSUMEXP, r, 1, &x) : NULL;
    if (n) {
        n->mask = mask;
        n->keepdim = keepdim;
        sl_ag_save(n, x);
        sl_ag_save(n, r);
    }
    return r;
}

/* ---------------------------------------------------------------------------
 * In place: exp_ log_ abs_ sqrt_ neg_ pow_ clamp_
 * ------------------------------------------------------------------------- */

/* autograd.c's checks for in-place changes, with this module's views */
static bool inplace_ok(SlTensor *t, SlError *err)
{
    if (!sl_grad_enabled())
        return true;
    if (t->requires_grad && t->grad_fn == NULL) {
        sl_err(err, SL_E_VALUE, "a leaf Variable that requires grad is being used in an in-place operation.");
        if (sl_ag_receiver_name)
            sl_err_hint(err, "%s is a leaf that requires grad; change its values through %s.data or inside "
                             "no_grad { ... }",
                        sl_ag_receiver_name, sl_ag_receiver_name);
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
        case SL_N_VIEW: case SL_N_RESHAPE_ALIAS: case SL_N_SQUEEZE_ALL: case SL_N_SQUEEZE_DIM:
        case SL_N_UNSQUEEZE: case SL_N_T: case SL_N_TRANSPOSE: case SL_N_PERMUTE: case SL_N_EXPAND:
        case SL_N_SELECT: case SL_N_SLICE: case SL_N_SPLIT: case SL_N_SPLIT_SIZES:
            sl_err(err, SL_E_VALUE,
                   "in-place change of a view (made by %s) of a tensor that requires grad is not supported",
                   sl_node_name(t->grad_fn));
            sl_err_hint(err, "compute a new tensor instead (y = y.exp()), or change it inside no_grad { ... }");
            return false;
        default: break;
        }
    }
    return true;
}

/* t = r (r computed out of place from t), with torch's cast check; then
 * history: kind with t's old history as its input, saving what the
 * formula needs (what: 0 nothing, 1 the original values, 2 the result) */
static bool inplace_finish(SlTensor *t, SlTensor *r, SlNodeKind kind, int what, SlError *err, SlNode **node)
{
    *node = NULL;
    if (!r)
        return false;
    if (sl_dtype_is_float(r->dtype) && !sl_dtype_is_float(t->dtype)) {
        sl_err(err, SL_E_VALUE, "result type %s can't be cast to the desired output type %s", sl_dtype_word(r->dtype),
               sl_dtype_word(t->dtype));
        sl_tensor_unref(r);
        return false;
    }
    bool track = sl_grad_enabled() && t->requires_grad;
    SlTensor *holder = NULL, *orig = NULL;
    if (track) {
        holder = sl_tensor_alias(t);
        holder->requires_grad = true;
        holder->grad_fn = sl_node_ref(t->grad_fn);
        if (what == 1)
            orig = sl_tensor_clone(t);
    }
    bool ok = sl_tensor_copy_(t, r, err);
    sl_tensor_unref(r);
    if (ok && track) {
        SlNode *old = t->grad_fn;
        bool retained = old && old->retain == t;
        SlNode *n = sl_ag_record(kind, t, 1, &holder);
        if (n) {
            if (retained)
                n->retain = t;
            if (what == 1)
                sl_ag_save(n, orig);
            else if (what == 2)
                sl_ag_save(n, t);
        }
        *node = n;
    }
    sl_tensor_unref(holder);
    sl_tensor_unref(orig);
    return ok;
}

bool sl_ag_unary_(int fn, SlTensor *t, SlError *err)
{
    if (!inplace_ok(t, err))
        return false;
    SlNodeKind kind;
    int what;
    switch (fn) {
    case SL_FN_EXP: kind = SL_N_EXP, what = 2; break;
    case SL_FN_LOG: kind = SL_N_LOG, what = 1; break;
    case SL_FN_ABS: kind = SL_N_ABS, what = 1; break;
    case SL_FN_SQRT: kind = SL_N_SQRT, what = 2; break;
    case SL_TU_NEG: kind = SL_N_NEG, what = 0; break;
    default: return sl_err(err, SL_E_INTERNAL, "no in-place form of this function");
    }
    SlNode *n;
    return inplace_finish(t, sl_tensor_unary(fn, t, err), kind, what, err, &n);
}

bool sl_ag_pow_(SlTensor *t, double e, SlError *err)
{
    if (!inplace_ok(t, err))
        return false;
    SlNode *n;
    SlTensor *r;
    if (!sl_dtype_is_float(t->dtype) && e != floor(e)) {
        r = sl_tensor_to(t, SL_DT_F32, 0); /* the result type a float exponent gives */
    } else {
        r = sl_tensor_pow_scalar(t, e, err);
    }
    bool ok = inplace_finish(t, r, SL_N_POW, 1, err, &n);
    if (n)
        n->scalar = e;
    return ok;
}

/* t.masked_fill_(mask, value): mask broadcast to t's shape (not the other
 * way); MaskedFillBackward0 (a number) or MaskedFillBackward1 (a tensor) */
bool sl_ag_masked_fill_(SlTensor *t, SlTensor *mask, SlTensor *value, SlError *err)
{
    if (sl_dtype_is_float(mask->dtype))
        return sl_err(err, SL_E_VALUE, "masked_fill_ only supports boolean masks, but got mask with dtype %s",
                      mask->dtype == SL_DT_F32 ? "float" : mask->dtype == SL_DT_F64 ? "double" : "mpfr");
    if (value->ndim != 0)
        return sl_err(err, SL_E_VALUE,
                      "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with %d dimension(s).",
                      value->ndim);
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!bshape(t, mask, &nd, shape, err))
        return false;
    if (nd != t->ndim || memcmp(shape, t->shape, (size_t)nd * sizeof *shape) != 0) {
        char a[16 * SL_TENSOR_MAXDIM], b[16 * SL_TENSOR_MAXDIM];
        sl_sizes_str(a, sizeof a, t->ndim, t->shape);
        sl_sizes_str(b, sizeof b, nd, shape);
        return sl_err(err, SL_E_VALUE, "output with shape %s doesn't match the broadcast shape %s", a, b);
    }
    bool tval = !value->wrapped;
    if (!inplace_ok(t, err))
        return false;
    SlTensor *r = masked_fill_kernel(t, mask, value, t->ndim, t->shape, err);
    if (!r)
        return false;
    bool track = sl_grad_enabled() && (t->requires_grad || (tval && value->requires_grad));
    SlTensor *holder = NULL;
    if (track) {
        holder = sl_tensor_alias(t);
        holder->requires_grad = t->requires_grad;
        holder->grad_fn = sl_node_ref(t->grad_fn);
    }
    bool ok = sl_tensor_copy_(t, r, err);
    sl_tensor_unref(r);
    if (ok && track) {
        bool retained = t->grad_fn && t->grad_fn->retain == t;
        SlTensor *in[2] = {holder, value};
        SlNode *n = sl_ag_record(tval ? SL_N_MASKED_FILL_T : SL_N_MASKED_FILL, t, tval ? 2 : 1, in);
        if (n) {
            if (retained)
                n->retain = t;
            sl_ag_save(n, mask);
        }
    }
    sl_tensor_unref(holder);
    return ok;
}

bool sl_ag_clamp_(SlTensor *t, bool has_min, double lo, bool has_max, double hi, SlError *err)
{
    if (!has_min && !has_max)
        return sl_err(err, SL_E_VALUE, "torch.clamp: At least one of 'min' or 'max' must not be None");
    if (!inplace_ok(t, err))
        return false;
    SlTensor *r = sl_tensor_ref(t);
    for (int k = 0; k < 2 && r; k++) {
        if (!(k == 0 ? has_min : has_max))
            continue;
        double v = k == 0 ? lo : hi;
        SlTensor *m = !sl_dtype_is_float(t->dtype) && v == floor(v) && fabs(v) < 9e18
                          ? sl_tensor_scalar_i(SL_DT_I64, (int64_t)v, 0)
                          : sl_tensor_scalar_d(SL_DT_F64, v, 0);
        m->wrapped = true;
        SlTensor *q = sl_tensor_binary(k == 0 ? SL_T_MAXIMUM : SL_T_MINIMUM, r, m, err);
        sl_tensor_unref(m);
        sl_tensor_unref(r);
        r = q;
    }
    SlNode *n;
    bool ok = inplace_finish(t, r, SL_N_CLAMP, 1, err, &n);
    if (n) {
        n->ival = (has_min ? 1 : 0) | (has_max ? 2 : 0);
        n->scalar = lo;
        n->scalar2 = hi;
    }
    return ok;
}

/* ---------------------------------------------------------------------------
 * Backward formulas (torch's derivatives.yaml and FunctionsManual.cpp)
 * ------------------------------------------------------------------------- */

bool sl_extra_owns(SlNodeKind kind) { return kind >= SL_N_STD && kind < SL_N_COUNT; }

static int64_t count_zeros(const SlTensor *t)
{
    int64_t z = 0;
    SlTensor *c = sl_tensor_contiguous(t);
    for (int64_t i = 0, n = sl_tensor_numel(c); i < n; i++)
        z += !etrue(c, c->offset + i);
    sl_tensor_unref(c);
    return z;
}

/* exclusive_normal * exclusive_reverse of prod_safe_zeros_backward: per
 * line the products of the elements before and after each, each a cumprod
 * (double running value for float32) */
static SlTensor *omitted_products(const SlTensor *inp, int dim, SlError *err)
{
    SlTensor *c = sl_tensor_contiguous(inp);
    SlTensor *r = new_as(c, c->ndim, c->shape, err);
    if (!r) {
        sl_tensor_unref(c);
        return NULL;
    }
    int64_t outer, size, inner;
    lines(c->ndim, c->shape, dim, &outer, &size, &inner);
    mpfr_prec_t p = prec_of(c);
    mpfr_t acc;
    if (p)
        mpfr_init2(acc, p);
    SlTensor *en = new_as(c, 1, &size, err), *er = new_as(c, 1, &size, err);
    for (int64_t o = 0; o < outer && en && er; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t b = c->offset + o * size * inner + i, ob = o * size * inner + i;
            if (p) {
                mpfr_set_ui(acc, 1, MPFR_RNDN);
                for (int64_t k = 0; k < size; k++) {
                    mpfr_set(&MPF(en)[k], acc, MPFR_RNDN);
                    mpfr_mul(acc, acc, &MPF(c)[b + k * inner], MPFR_RNDN);
                }
                mpfr_set_ui(acc, 1, MPFR_RNDN);
                for (int64_t k = size - 1; k >= 0; k--) {
                    mpfr_set(&MPF(er)[k], acc, MPFR_RNDN);
                    mpfr_mul(acc, acc, &MPF(c)[b + k * inner], MPFR_RNDN);
                }
                for (int64_t k = 0; k < size; k++)
                    mpfr_mul(&MPF(r)[ob + k * inner], &MPF(en)[k], &MPF(er)[k], MPFR_RNDN);
            } else {
                double a = 1.0;
                for (int64_t k = 0; k < size; k++) {
                    double v = c->dtype == SL_DT_F32 ? (double)F32(c)[b + k * inner] : F64(c)[b + k * inner];
                    sl_tensor_set_d(en, k, a);
                    a = a * v;
                }
                a = 1.0;
                for (int64_t k = size - 1; k >= 0; k--) {
                    double v = c->dtype == SL_DT_F32 ? (double)F32(c)[b + k * inner] : F64(c)[b + k * inner];
                    sl_tensor_set_d(er, k, a);
                    a = a * v;
                }
                for (int64_t k = 0; k < size; k++) {
                    int64_t e = ob + k * inner;
                    if (c->dtype == SL_DT_F32)
                        F32(r)[e] = F32(en)[k] * F32(er)[k];
                    else
                        F64(r)[e] = F64(en)[k] * F64(er)[k];
                }
            }
        }
    if (p)
        mpfr_clear(acc);
    sl_tensor_unref(en);
    sl_tensor_unref(er);
    sl_tensor_unref(c);
    return r;
}

static SlTensor *prod_backward(Ar *z, SlNode *n, SlTensor *g)
{
    SlTensor *self = n->saved[0], *res = n->saved[1];
    SlError *err = z->err;
    if (self->ndim == 0)
        return g;
    int64_t zeros = count_zeros(self);
    if (n->kind == SL_N_PROD) {
        if (zeros == 0)
            return Bin(z, SL_T_MUL, g, Bin(z, SL_T_DIV, res, self));
        if (zeros > 1)
            return A(z, sl_tensor_zeros_like(self, err));
        /* prod_safe_zeros_backward(grad, input.contiguous().view(-1), 0).view_as(input) */
        int64_t total = sl_tensor_numel(self);
        bool copied;
        SlTensor *flat = A(z, sl_tensor_reshape(self, 1, &total, &copied, err));
        SlTensor *om = flat ? A(z, omitted_products(flat, 0, err)) : NULL;
        SlTensor *omv = om ? A(z, sl_tensor_reshape(om, self->ndim, self->shape, &copied, err)) : NULL;
        return Bin(z, SL_T_MUL, g, omv);
    }
    int dim = (int)n->ival;
    SlTensor *gk = g, *rk = res;
    if (!n->keepdim) {
        gk = A(z, sl_tensor_unsqueeze(g, dim, err));
        rk = A(z, sl_tensor_unsqueeze(res, dim, err));
    }
    if (zeros == 0)
        return Bin(z, SL_T_MUL, gk, Bin(z, SL_T_DIV, rk, self));
    return Bin(z, SL_T_MUL, gk, A(z, omitted_products(self, dim, err)));
}

/* cumprod_backward (ReduceOps.cpp), the O(n) path without grad mode */
static SlTensor *cumprod_backward(Ar *z, SlNode *n, SlTensor *g)
{
    SlTensor *in = n->saved[0], *out = n->saved[1];
    SlError *err = z->err;
    int dim = (int)n->ival;
    if (sl_tensor_numel(in) <= 1 || in->shape[dim] == 1)
        return g;
    SlTensor *w = Bin(z, SL_T_MUL, out, g);
    if (!w)
        return NULL;
    if (count_zeros(in) == 0) {
        SlTensor *f = A(z, flip_kernel(w, 1u << dim, err));
        SlTensor *cs = f ? A(z, cum_kernel(f, dim, false, err)) : NULL;
        return Bin(z, SL_T_DIV, cs ? A(z, flip_kernel(cs, 1u << dim, err)) : NULL, in);
    }
    /* per line: k < z1 as without zeros (w masked past z1); k == z1: the
     * sum over [z1, z2) of grad * the products after z1, times out[z1-1] */
    SlTensor *ic = A(z, sl_tensor_contiguous(in)), *wc = A(z, sl_tensor_contiguous(w)),
             *gc = A(z, sl_tensor_contiguous(g)), *oc = A(z, sl_tensor_contiguous(out));
    SlTensor *wm = A(z, sl_tensor_zeros_like(wc, err));
    SlTensor *cp = A(z, sl_tensor_zeros_like(wc, err)), *gm = A(z, sl_tensor_zeros_like(wc, err));
    if (!ic || !wc || !gc || !oc || !wm || !cp || !gm)
        return NULL;
    int64_t outer, size, inner;
    lines(in->ndim, in->shape, dim, &outer, &size, &inner);
    int64_t nl = outer * inner, *z1 = xmalloc((size_t)nl * sizeof *z1);
    SlTensor *one = A(z, konst(wc, 1, 1));
    if (!one) {
        free(z1);
        return NULL;
    }
    /* w masked, the masked inputs' cumprod (1 outside (z1, z2)), grad masked to [z1, z2) */
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t b = o * size * inner + i, first = -1, second = size;
            for (int64_t k = 0; k < size; k++)
                if (!etrue(ic, ic->offset + b + k * inner)) {
                    if (first < 0)
                        first = k;
                    else {
                        second = k;
                        break;
                    }
                }
            z1[o * inner + i] = first;
            for (int64_t k = 0; k < size; k++) {
                int64_t e = b + k * inner;
                if (first < 0 || k < first)
                    ecopy(wm, e, wc, wc->offset + e);
                if (first >= 0 && k >= first && k < second)
                    ecopy(gm, e, gc, gc->offset + e);
                if (first >= 0 && k > first && k < second)
                    ecopy(cp, e, ic, ic->offset + e);
                else
                    ecopy(cp, e, one, one->offset);
            }
        }
    SlTensor *f = A(z, flip_kernel(wm, 1u << dim, err));
    SlTensor *cs = f ? A(z, cum_kernel(f, dim, false, err)) : NULL;
    SlTensor *before = Bin(z, SL_T_DIV, cs ? A(z, flip_kernel(cs, 1u << dim, err)) : NULL, ic);
    SlTensor *cpp = A(z, cum_kernel(cp, dim, true, err));
    SlTensor *sum = cpp ? A(z, sl_tensor_sum(Bin(z, SL_T_MUL, cpp, gm), 1u << dim, true, err)) : NULL;
    SlTensor *r = before ? A(z, sl_tensor_zeros_like(before, err)) : NULL;
    if (r && sum) {
        SlTensor *sc = A(z, sl_tensor_contiguous(sum));
        SlTensor *bc = A(z, sl_tensor_contiguous(before));
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t b = o * size * inner + i, first = z1[o * inner + i];
                for (int64_t k = 0; k < size && (first < 0 || k < first); k++)
                    ecopy(r, b + k * inner, bc, bc->offset + b + k * inner);
                if (first < 0)
                    continue;
                /* sum * (first ? out[first - 1] : 1) */
                int64_t e = b + first * inner, so = sc->offset + o * inner + i;
                ecopy(r, e, sc, so);
                if (first > 0) {
                    int64_t po = oc->offset + b + (first - 1) * inner;
                    switch (r->dtype) {
                    case SL_DT_F32: F32(r)[e] = F32(r)[e] * F32(oc)[po]; break;
                    case SL_DT_F64: F64(r)[e] = F64(r)[e] * F64(oc)[po]; break;
                    case SL_DT_MPFR: mpfr_mul(&MPF(r)[e], &MPF(r)[e], &MPF(oc)[po], MPFR_RNDN); break;
                    default: break;
                    }
                }
            }
    }
    free(z1);
    return r && sum ? r : NULL;
}

static SlTensor *masked_zero(Ar *z, SlTensor *g, SlTensor *mask)
{
    SlTensor *zero = Zero0(z, g);
    return zero ? A(z, masked_fill_kernel(g, mask, zero, g->ndim, g->shape, z->err)) : NULL;
}

bool sl_extra_backward(SlNode *n, SlTensor *g, SlTensor **r, SlError *err)
{
    Ar ar = {.err = err}, *z = &ar;
    SlTensor **sv = n->saved, *o[SL_NODE_MAXNEXT] = {NULL, NULL, NULL};
    bool need1 = n->nnext > 1 && n->next[1], need2 = n->nnext > 2 && n->next[2];
    switch (n->kind) {
    case SL_N_STD:
    case SL_N_VAR: {
        bool ok = var_backward(n, g, r, err);
        ar_free(z);
        return ok;
    }
    case SL_N_PROD:
    case SL_N_PROD_DIM: o[0] = prod_backward(z, n, g); break;
    case SL_N_CUMSUM: {
        int dim = (int)n->ival;
        if (sl_tensor_numel(g) <= 1 || g->shape[dim] == 1) {
            o[0] = g;
        } else {
            SlTensor *f = A(z, flip_kernel(g, 1u << dim, err));
            SlTensor *c = f ? A(z, cum_kernel(f, dim, false, err)) : NULL;
            o[0] = c ? A(z, flip_kernel(c, 1u << dim, err)) : NULL;
        }
        break;
    }
    case SL_N_CUMPROD: o[0] = cumprod_backward(z, n, g); break;
    case SL_N_SORT:
    case SL_N_SORT_STABLE:
    case SL_N_TOPK: o[0] = A(z, scatter_back(n, g, sv[0], (int)n->ival, err)); break;
    case SL_N_FLIP: o[0] = A(z, flip_kernel(g, n->mask, err)); break;
    case SL_N_ROLL: {
        int64_t back[SL_TENSOR_MAXDIM];
        for (int d = 0; d < SL_TENSOR_MAXDIM; d++)
            back[d] = -n->geom[d];
        o[0] = A(z, roll_kernel(g, back, n->ival != 0, err));
        break;
    }
    case SL_N_REPEAT: o[0] = A(z, repeat_backward(n, g, err)); break;
    case SL_N_MASKED_FILL: o[0] = masked_zero(z, g, sv[0]); break;
    case SL_N_MASKED_FILL_T: {
        if (n->next[0])
            o[0] = masked_zero(z, g, sv[0]);
        if (need1) {
            /* masked_select(grad, mask).sum() */
            int nd;
            int64_t shape[SL_TENSOR_MAXDIM];
            SlTensor *me = bshape(sv[0], g, &nd, shape, err) ? A(z, sl_tensor_expand(sv[0], nd, shape, err)) : NULL;
            SlTensor *ge = me ? A(z, sl_tensor_expand(g, nd, shape, err)) : NULL;
            SlTensor *mc = me ? A(z, sl_tensor_contiguous(me)) : NULL, *gc = ge ? A(z, sl_tensor_contiguous(ge)) : NULL;
            if (mc && gc) {
                int64_t cnt = 0, tot = sl_tensor_numel(gc);
                for (int64_t i = 0; i < tot; i++)
                    cnt += etrue(mc, mc->offset + i);
                SlTensor *sel = A(z, new_as(gc, 1, &cnt, err));
                for (int64_t i = 0, k = 0; sel && i < tot; i++)
                    if (etrue(mc, mc->offset + i))
                        ecopy(sel, k++, gc, gc->offset + i);
                o[1] = sel ? A(z, sl_tensor_sum(sel, 1u, false, err)) : NULL;
            }
        }
        break;
    }
    case SL_N_GATHER: {
        int64_t *map = gather_map(n->in_ndim[0], n->in_shape[0], (int)n->ival, sv[0], err);
        if (map)
            o[0] = A(z, put_add(g, n->in_ndim[0], n->in_shape[0], map, err));
        free(map);
        break;
    }
    case SL_N_INDEX_SELECT: {
        int nd;
        int64_t shape[SL_TENSOR_MAXDIM];
        int64_t *map = index_select_map(n->in_ndim[0], n->in_shape[0], (int)n->ival, sv[0], &nd, shape, err);
        if (map)
            o[0] = A(z, put_add(g, n->in_ndim[0], n->in_shape[0], map, err));
        free(map);
        break;
    }
    case SL_N_LOGSUMEXP: {
        /* grad * (self - result).exp(), both unsqueezed */
        SlTensor *self = sv[0], *res = sv[1];
        SlTensor *gk = g, *rk = res;
        if (!n->keepdim && self->ndim) {
            gk = A(z, keep_dims(g, self->ndim, self->shape, n->mask, err));
            rk = A(z, keep_dims(res, self->ndim, self->shape, n->mask, err));
        }
        o[0] = Bin(z, SL_T_MUL, gk, Un(z, SL_FN_EXP, Bin(z, SL_T_SUB, self, rk)));
        break;
    }
    case SL_N_TRIU:
    case SL_N_TRIL: o[0] = A(z, triu_kernel(g, n->ival, n->kind == SL_N_TRIL, err)); break;
    case SL_N_TRACE: {
        /* zeros(rows * cols).index_fill_(0, arange(0, numel, cols + 1), grad) */
        int64_t rows = n->in_shape[0][0], cols = n->in_shape[0][1], tot = rows * cols;
        int64_t *map = xmalloc((size_t)(tot ? tot : 1) * sizeof *map);
        for (int64_t i = 0; i < tot; i++)
            map[i] = i % (cols + 1) == 0 ? 0 : -1;
        o[0] = A(z, take(g, 2, n->in_shape[0], map, err));
        free(map);
        break;
    }
    case SL_N_SPLIT:
    case SL_N_SPLIT_SIZES: {
        SlTensor *zr = A(z, sl_tensor_zeros(g->dtype, n->in_ndim[0], n->in_shape[0], prec_of(g), err));
        SlTensor *v = zr ? A(z, sl_tensor_slice(zr, (int)n->ival, n->ival2, n->ival2 + n->ival3, 1, err)) : NULL;
        if (v && sl_tensor_copy_(v, g, err))
            o[0] = zr;
        break;
    }
    case SL_N_DIAG:
        o[0] = A(z, diag_kernel(g, n->ival, n->in_ndim[0] == 2 ? n->in_shape[0] : NULL, err));
        break;
    case SL_N_LERP: {
        double w = n->scalar;
        SlTensor *one_m;
        if (g->dtype == SL_DT_MPFR) {
            one_m = A(z, konst(g, 1, 1));
            if (one_m)
                mpfr_sub((mpfr_ptr)sl_tensor_get_m(one_m, 0), sl_tensor_get_m(one_m, 0),
                         sv[0]->dtype == SL_DT_MPFR ? sl_tensor_get_m(sv[0], 0) : sl_tensor_get_m(A(z, konst(g, w, 1)), 0),
                         MPFR_RNDN);
        } else {
            one_m = A(z, konst(g, 1.0 - w, 1));
        }
        if (n->next[0])
            o[0] = Bin(z, SL_T_MUL, g, one_m);
        if (need1)
            o[1] = Bin(z, SL_T_MUL, g, sv[0]->dtype == SL_DT_MPFR ? sv[0] : A(z, konst(g, w, 1)));
        break;
    }
    case SL_N_LERP_T: {
        SlTensor *w = sv[0], *start = sv[1], *end = sv[2];
        SlTensor *one = A(z, sl_tensor_scalar_i(SL_DT_I64, 1, 0));
        if (one)
            one->wrapped = true;
        if (n->next[0])
            o[0] = Bin(z, SL_T_MUL, g, Bin(z, SL_T_SUB, one, w));
        if (need1)
            o[1] = Bin(z, SL_T_MUL, g, w);
        if (need2)
            o[2] = Bin(z, SL_T_MUL, g, Bin(z, SL_T_SUB, end, start));
        break;
    }
    case SL_N_DIST: {
        SlTensor *d = Bin(z, SL_T_SUB, sv[0], sv[1]);
        SlTensor *gr = d ? norm_backward(z, g, d, n->scalar, sv[2]) : NULL;
        if (n->next[0])
            o[0] = gr;
        if (need1)
            o[1] = Un(z, SL_TU_NEG, gr);
        break;
    }
    case SL_N_UNIQUE:
        sl_err(err, SL_E_VALUE, "the derivative for '_unique2' is not implemented.");
        break;
    default: sl_err(err, SL_E_INTERNAL, "no backward for %s", sl_node_name(n)); break;
    }
    bool ok = !err->set;
    for (int i = 0; i < n->nnext; i++) {
        r[i] = ok && n->next[i] && o[i] ? sl_tensor_ref(o[i]) : NULL;
        if (ok && n->next[i] && !o[i]) {
            ok = false;
            if (!err->set)
                sl_err(err, SL_E_INTERNAL, "no gradient computed for %s", sl_node_name(n));
        }
    }
    if (!ok)
        for (int i = 0; i < n->nnext; i++) {
            sl_tensor_unref(r[i]);
            r[i] = NULL;
        }
    ar_free(z);
    return ok;
}
