/* nnops.c -- layers' and losses' differentiable operations (nnops.h).
 *
 * Every float32 kernel here repeats the order of operations of the code
 * PyTorch 1.13 runs on this machine (Debian's build: reference BLAS,
 * oneDNN 2.6 with AVX-512, ATen's AVX2 kernels with Sleef), found by
 * comparing candidate orders against torch's bits (tests/gen_nnops.py):
 *
 *   addmm      each dot product from zero in order, unfused, then + bias
 *              (sgemm 'T','N' with beta = 1 adds C last).
 *   conv2d     torch's ConvParams::use_mkldnn decides between oneDNN and
 *              its own im2col + sgemm ("slow") path; oneDNN then picks
 *              one of three implementations, each with its own order
 *              (see the conv section).  float64 always takes the slow path.
 *   softmax    vec::reduce_all's lane structure (8 lanes, a shuffle tree
 *              for float, lanes in order for double), Sleef exp/log.
 *   losses     the kernels of Loss.cpp / LossNLL.cpp transcribed.
 *
 * float32 code must not be contracted into fused multiply-adds: C17 mode
 * keeps -ffp-contract=off, and fmaf() is written where torch fuses.
 * mpfr tensors are computed at their precision, one rounding per
 * operation, in the slow path's order.
 */
#include "nnops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autograd_internal.h"
#include "num.h"
#include "vecmath.h"

/* The conv kernels call fmaf() where torch fuses; on x86-64 they are also
 * compiled for the FMA instructions and picked at load time (ifunc), so
 * fmaf is one instruction instead of a call into libm (the same roundings). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define FMA_CLONES __attribute__((target_clones("fma", "default")))
#else
#define FMA_CLONES
#endif

#define FP(t) ((float *)(t)->storage->data + (t)->offset)
#define DP(t) ((double *)(t)->storage->data + (t)->offset)
#define MP(t) ((__mpfr_struct *)(t)->storage->data + (t)->offset)
#define IP(t) ((int64_t *)(t)->storage->data + (t)->offset)

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */


static bool need_float(const SlTensor *t, const char *kernel, SlError *err)
{
    if (sl_dtype_is_float(t->dtype))
        return true;
    return sl_err(err, SL_E_TYPE, "\"%s\" not implemented for '%s'", kernel, sl_dtype_word(t->dtype));
}

static bool same_shape(const SlTensor *a, const SlTensor *b)
{
    return a->ndim == b->ndim && memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof a->shape[0]) == 0;
}

static mpfr_prec_t prec_of(const SlTensor *t) { return t->dtype == SL_DT_MPFR ? t->storage->prec : 0; }

/* A new contiguous tensor of t's dtype and precision. */
static SlTensor *new_like(const SlTensor *t, int ndim, const int64_t *shape, SlError *err)
{
    return sl_tensor_zeros(t->dtype, ndim, shape, prec_of(t), err);
}

/* t contiguous in dtype dt (prec for mpfr): a new reference. */
static SlTensor *as_contig(const SlTensor *t, SlDType dt, mpfr_prec_t prec)
{
    if (t->dtype != dt || (dt == SL_DT_MPFR && t->storage->prec != prec))
        return sl_tensor_to(t, dt, prec);
    return sl_tensor_contiguous(t);
}

static SlTensor *contig(const SlTensor *t) { return sl_tensor_contiguous(t); }

static void unref_all(SlTensor **ts, int n)
{
    for (int i = 0; i < n; i++)
        sl_tensor_unref(ts[i]);
}

/* Broadcast shape of a and b, torch's message when impossible. */
static bool broadcast_shape(const SlTensor *a, const SlTensor *b, int *nd, int64_t *out, SlError *err)
{
    int n = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < n; i++) {
        int da = a->ndim - n + i, db = b->ndim - n + i;
        int64_t x = da >= 0 ? a->shape[da] : 1, y = db >= 0 ? b->shape[db] : 1;
        if (x != y && x != 1 && y != 1)
            return sl_err(err, SL_E_VALUE,
                          "The size of tensor a (%lld) must match the size of tensor b (%lld) at non-singleton "
                          "dimension %d",
                          (long long)x, (long long)y, i);
        out[i] = x == 1 ? y : x;
    }
    *nd = n;
    return true;
}

/* An owned int64 parameter array for a node (freed by the engine). */
static int64_t *geom_new(int n)
{
    int64_t *g = calloc((size_t)n, sizeof *g);
    if (!g)
        abort();
    return g;
}

/* ---------------------------------------------------------------------------
 * Linear: addmm(bias, x, W.t()) for a 2-d x with a bias.
 *
 * torch's addmm_impl_cpu_ calls sgemm('T', 'N', out, n, in, 1, W, in, x,
 * in, 1, result, out) on the result prefilled with the bias; the reference
 * BLAS forms each dot product from zero, then C = alpha*temp + beta*C.
 * A column-major W (or x, for one output) makes it 'N': the bias first.
 * ------------------------------------------------------------------------- */

/* Whether torch's addmm_impl_cpu_ calls sgemm with transa = 'N' for this
 * x (n, k) @ wt (k, m): then C starts as the bias and accumulates the
 * products in order; with 'T' each dot product is formed from zero and
 * the bias added last.  (The result is row-major, so torch swaps the
 * operands unless m == 1.) */
static bool addmm_bias_first(const SlTensor *x, const SlTensor *wt)
{
    int64_t n = x->shape[0], k = x->shape[1], m = wt->shape[1];
    const SlTensor *a = m == 1 ? x : wt;
    int64_t rows = m == 1 ? n : m, s0 = m == 1 ? a->strides[0] : a->strides[1],
            s1 = m == 1 ? a->strides[1] : a->strides[0];
    /* s0: stride along the rows of op(a) as BLAS sees them, s1 along k */
    if (s0 == 1 && s1 >= (rows > 1 ? rows : 1))
        return true;
    if (s1 == 1 && s0 >= (k > 1 ? k : 1))
        return false;
    return m != 1; /* copied to contiguous: transa = !transpose_c */
}

static SlTensor *addmm(SlTensor *b, SlTensor *x, SlTensor *wt, SlError *err)
{
    int64_t n = x->shape[0], k = x->shape[1], m = wt->shape[1];
    if (wt->shape[0] != k)
        return sl_err(err, SL_E_VALUE, "mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %lldx%lld)",
                      (long long)n, (long long)k, (long long)wt->shape[0], (long long)m),
               NULL;
    if (x->dtype != wt->dtype)
        return sl_err(err, SL_E_TYPE, "mat1 and mat2 must have the same dtype"), NULL;
    if (b->dtype != x->dtype)
        return sl_err(err, SL_E_TYPE, "self and mat2 must have the same dtype"), NULL;
    if (!need_float(x, "addmm_impl_cpu_", err))
        return NULL;
    int64_t shape[2] = {n, m};
    /* the bias broadcast to (n, m): a vector of m needs no view */
    SlTensor *be = b->ndim == 1 && b->shape[0] == m ? sl_tensor_ref(b) : sl_tensor_expand(b, 2, shape, err);
    if (!be)
        return NULL;
    mpfr_prec_t p = prec_of(x);
    if (x->dtype == SL_DT_MPFR) {
        p = p > wt->storage->prec ? p : wt->storage->prec;
        p = p > b->storage->prec ? p : b->storage->prec;
    }
    SlTensor *r = sl_tensor_zeros(x->dtype, 2, shape, p, err);
    if (!r) {
        sl_tensor_unref(be);
        return NULL;
    }
    int64_t xs0 = x->strides[0], xs1 = x->strides[1], ws0 = wt->strides[0], ws1 = wt->strides[1];
    int64_t bs0 = be->ndim == 1 ? 0 : be->strides[0], bs1 = be->ndim == 1 ? be->strides[0] : be->strides[1];
    bool first = addmm_bias_first(x, wt);
    /* each element: the bias (or zero), + x*w for l in order, then the bias */
    switch (x->dtype) {
    case SL_DT_F32:
    case SL_DT_F64: {
        bool f64 = x->dtype == SL_DT_F64;
        SlGemmArgs g = {.as0 = xs0, .as1 = xs1, .bs0 = ws0, .bs1 = ws1, .m = n, .k = k, .n = m, .c0s0 = bs0,
                        .c0s1 = bs1, .post = !first, .f64 = f64};
        g.a = f64 ? (const void *)DP(x) : (const void *)FP(x);
        g.b = f64 ? (const void *)DP(wt) : (const void *)FP(wt);
        g.c = f64 ? (void *)DP(r) : (void *)FP(r);
        g.c0 = f64 ? (const void *)DP(be) : (const void *)FP(be);
        SlTensor *in[3] = {x, wt, be};
        sl_kernel(sl_gemm_kernel, &g, sizeof g, in, 3, &r, 1, NULL, 0);
        break;
    }
    default: {
        const __mpfr_struct *xa = MP(x), *wa = MP(wt), *ba = MP(be);
        __mpfr_struct *ra = MP(r);
        if (p == 53 && sl_tensor_gemm_m53(xa, xs0, xs1, wa, ws0, ws1, n, k, m, ra, ba, bs0, bs1, !first))
            break;
        mpfr_t s, q;
        mpfr_inits2(p, s, q, (mpfr_ptr)NULL);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < m; j++) {
                if (first)
                    mpfr_set(s, &ba[i * bs0 + j * bs1], MPFR_RNDN);
                else
                    mpfr_set_zero(s, 1);
                for (int64_t l = 0; l < k; l++) {
                    mpfr_mul(q, &xa[i * xs0 + l * xs1], &wa[l * ws0 + j * ws1], MPFR_RNDN);
                    mpfr_add(s, s, q, MPFR_RNDN);
                }
                if (first)
                    mpfr_set(&ra[i * m + j], s, MPFR_RNDN);
                else
                    mpfr_add(&ra[i * m + j], s, &ba[i * bs0 + j * bs1], MPFR_RNDN);
            }
        mpfr_clears(s, q, (mpfr_ptr)NULL);
        break;
    }
    }
    sl_tensor_unref(be);
    SlTensor *in[3] = {b, x, wt};
    SlNode *nd = sl_ag_record(SL_N_ADDMM, r, 3, in);
    if (nd) {
        /* saved: mat2 (for mat1's gradient), mat1 (for mat2's) */
        sl_ag_save(nd, wt);
        sl_ag_save(nd, x);
    }
    return r;
}

/* torch 1.13's matmul for a >= 3-d left operand and a matrix: the batch
 * dims folded into the rows, one mm, and an unsafe view back (so the
 * weight's gradient sums over every row in order) */
static SlTensor *matmul_fold(SlTensor *x, SlTensor *wt, SlError *err)
{
    int64_t rows = 1, s2[2], shape[SL_TENSOR_MAXDIM];
    for (int d = 0; d < x->ndim - 1; d++) {
        rows *= x->shape[d];
        shape[d] = x->shape[d];
    }
    s2[0] = rows;
    s2[1] = x->shape[x->ndim - 1];
    shape[x->ndim - 1] = wt->shape[1];
    SlTensor *x2 = sl_ag_reshape(x, 2, s2, err);
    SlTensor *m = x2 ? sl_ag_mm(x2, wt, err) : NULL;
    SlTensor *r = m ? sl_tensor_view(m, x->ndim, shape, err) : NULL;
    if (r)
        sl_ag_record(SL_N_UNSAFE_VIEW, r, 1, &m);
    sl_tensor_unref(x2);
    sl_tensor_unref(m);
    return r;
}

SlTensor *sl_ag_linear(SlTensor *x, SlTensor *w, SlTensor *b, SlError *err)
{
    if (w->ndim != 2) {
        char s[16 * SL_TENSOR_MAXDIM];
        sl_sizes_str(s, sizeof s, w->ndim, w->shape);
        return sl_err(err, SL_E_VALUE, "linear: weight must be 2-D (out_features, in_features), got %s", s),
               NULL;
    }
    if (x->ndim == 0)
        return sl_err(err, SL_E_VALUE, "both arguments to matmul need to be at least 1D, but they are 0D and 2D"),
               NULL;
    SlTensor *wt = sl_ag_t(w, err);
    if (!wt)
        return NULL;
    SlTensor *r = NULL;
    if (x->ndim == 2 && b) {
        r = addmm(b, x, wt, err);
    } else if (x->ndim == 3 && b && sl_tensor_is_contiguous(x)) {
        /* torch 1.13 folds a contiguous 3-d input into addmm and views back */
        int64_t s2[2] = {x->shape[0] * x->shape[1], x->shape[2]};
        SlTensor *x2 = sl_ag_view(x, 2, s2, err);
        SlTensor *m = x2 ? addmm(b, x2, wt, err) : NULL;
        if (m) {
            int64_t s3[3] = {x->shape[0], x->shape[1], m->shape[1]};
            r = sl_ag_view(m, 3, s3, err);
        }
        sl_tensor_unref(x2);
        sl_tensor_unref(m);
    } else {
        if (x->shape[x->ndim - 1] != w->shape[1]) {
            int64_t rows = x->ndim == 1 ? 1 : sl_tensor_numel(x) / (x->shape[x->ndim - 1] ? x->shape[x->ndim - 1] : 1);
            sl_err(err, SL_E_VALUE, "mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %lldx%lld)",
                   (long long)rows, (long long)x->shape[x->ndim - 1], (long long)wt->shape[0],
                   (long long)wt->shape[1]);
        } else {
            /* a dtype mismatch is mm's "expected scalar type ... but found ..." */
            SlTensor *m = x->ndim >= 3 ? matmul_fold(x, wt, err) : sl_ag_matmul(x, wt, err);
            if (m && b) {
                r = sl_ag_binary(SL_T_ADD, m, b, err);
                sl_tensor_unref(m);
            } else {
                r = m;
            }
        }
    }
    sl_tensor_unref(wt);
    return r;
}

/* ---------------------------------------------------------------------------
 * conv2d
 *
 * float32 follows torch's backend choice (ConvParams::use_mkldnn with one
 * thread, groups 1, no dilation), then oneDNN 2.6's implementation choice
 * on an AVX-512 CPU; each path's order was found against torch's bits:
 *
 *  SLOW (torch's im2col + reference sgemm): out = bias (or 0), then
 *      + x*w for (c, i, j) in order, unfused.  grad_input: per im2col
 *      entry a sum over o from zero, unfused, then col2im adds them over
 *      (i, j).  grad_weight: per image a dot over the output positions
 *      from zero, added to the total.  grad_bias: grad.sum((0, 2, 3)).
 *  JIT (jit:avx512_core): input channels in blocks of 16 (or all of them
 *      when fewer than 16); per block a fused chain over (i, j, c) from
 *      zero; block 0 + bias, then each later block + the total.
 *      grad_input: the same over output-channel blocks of 16, chains over
 *      (i, j, o).  grad_weight: one fused chain over (n, oy, ox);
 *      grad_bias: one unfused sum over (n, oy, ox).
 *  1X1 (jit_1x1, 1x1 kernel, no padding, stride dividing the input): the
 *      chain over input channels starts from the bias, in blocks of 256
 *      channels (later blocks + total).  grad_input: chains over o in
 *      blocks of 256.  grad_weight: per image a chain over positions,
 *      images added.  grad_bias as JIT.
 *  GEMM (gemm:jit, when padding >= kernel or the padding outgrows the
 *      unrolled width): im2col + oneDNN's sgemm: fused chains over
 *      (c, i, j) in K-blocks of 384 (a remainder under 768 split in two
 *      halves), block sums added, then + bias.  grad_input: chains over o
 *      (same K-blocking), col2im over (i, j).  grad_weight: per image,
 *      16 lanes of strided chains reduced as a tree when 2 <= O <= 15
 *      (smalln_tn kernel), images added; when O >= 16 K-blocked chains,
 *      every block added to the total; sgemv's 8-lane chains when O == 1.
 *      grad_bias: per output row a sum from zero, rows added.
 * ------------------------------------------------------------------------- */

enum { CONV_SLOW, CONV_JIT, CONV_1X1, CONV_GEMM };

typedef struct Cv {
    int64_t n, c, h, w;     /* input */
    int64_t o, kh, kw;      /* weight */
    int64_t oh, ow;         /* output */
    int64_t sh, sw, ph, pw; /* stride, padding */
} Cv;

enum { PASS_FWD, PASS_BWD_DATA, PASS_BWD_WEIGHT };

/* jit:avx512_core's backward-data configuration (its init_conf): the
 * unrolled input width and the overflow checks that send a shape to gemm */
static bool jit_bwd_data_ok(const Cv *v)
{
    int64_t iw = v->w, kw = v->kw, sw = v->sw, regs = 28;
    int64_t r_pad = (v->ow - 1) * sw + (kw - 1) - (iw + v->pw - 1);
    int64_t ur = sw;
    if (iw <= regs) {
        ur = iw;
    } else {
        for (int64_t u = regs; u > 0; u--)
            if (u % sw == 0) {
                ur = u;
                break;
            }
    }
    int64_t nb_ic = (v->c + 15) / 16, l_over = (kw - 1 - v->pw) / sw;
    l_over = l_over < 0 ? 0 : l_over;
    int64_t ker = 4 * (iw * 16 * 2 * v->kh + v->ow * 16 + v->kh * kw * 16 * 16 * 2);
    const int64_t l1 = 32 * 1024;
    bool small = kw == 1 || (kw == 5 && iw < 8) || (kw < 5 && (iw <= 5 || (iw > 8 && iw <= 13) || ker > l1));
    if (!small || v->sh > 1) {
        ur = iw < regs ? iw : regs;
        if (!(kw > 3 || (kw == 3 && ker < l1 && v->ow > 8)) && v->sh == 1 && nb_ic % 2 == 0) {
            ur = 31 / 3;
            ur = iw < ur ? iw : ur;
        }
    } else {
        int64_t nb = nb_ic < 4 ? nb_ic : 4;
        while (nb_ic % nb)
            nb--;
        ur = 31 / (nb + 1);
        ur = iw < ur ? iw : ur;
    }
    int64_t tail = iw % ur, rp = r_pad > 0 ? r_pad : 0;
    int64_t r_over = (kw - 1 - rp - tail) / sw;
    r_over = r_over < 0 ? 0 : r_over;
    return l_over * sw <= ur && r_over * sw <= ur && !(iw > ur && ur % sw != 0);
}

/* Which code torch runs for one pass of a convolution (see above); each
 * oneDNN pass picks its implementation by its own checks. */
static int conv_impl(const Cv *v, SlDType dt, int pass)
{
    if (dt != SL_DT_F32)
        return CONV_SLOW;
    bool strided = v->sh != 1 || v->sw != 1;
    if (!(strided || v->n >= 16 || v->kw != 1 || v->kh != 1))
        return CONV_SLOW;
    if (!((v->kw > 3 && v->kh > 3) || v->n > 1 || v->n * v->c * v->h * v->w > 20480))
        return CONV_SLOW;
    if (v->ph >= v->kh || v->pw >= v->kw)
        return CONV_GEMM;
    if (v->kh == 1 && v->kw == 1 && v->ph == 0 && v->pw == 0 && v->h % v->sh == 0 && v->w % v->sw == 0)
        return CONV_1X1;
    if (pass == PASS_FWD) {
        /* the forward kernel declines a left padding wider than its
         * unrolled output width, min(ow, 28 / (nb_oc_blocking + 1)) */
        int64_t ur = v->ow < 9 ? v->ow : 9;
        return v->pw > ur ? CONV_GEMM : CONV_JIT;
    }
    if (pass == PASS_BWD_DATA)
        return jit_bwd_data_ok(v) ? CONV_JIT : CONV_GEMM;
    /* backward weights: avx512 (1-3 or >= 16 input channels, top and
     * bottom padding at most kh / 2), else avx2 (same order), else gemm */
    int64_t bp = (v->oh - 1) * v->sh + v->kh - v->h - v->ph, rp = (v->ow - 1) * v->sw + v->kw - v->w - v->pw;
    bp = bp < 0 ? 0 : bp;
    rp = rp < 0 ? 0 : rp;
    if ((v->c <= 3 || v->c >= 16) && v->ph <= v->kh / 2 && bp <= v->kh / 2)
        return CONV_JIT;
    if (v->ph < v->kh && bp < v->kh && v->pw < v->kw && rp < v->kw && v->kw < 14 && v->kh <= v->ph + v->h &&
        v->kh <= v->h)
        return CONV_JIT;
    return CONV_GEMM;
}

/* oneDNN's sgemm K-blocking: 384, a remainder under 768 in two halves */
static int64_t kblock(int64_t left)
{
    if (left >= 768)
        return 384;
    if (left > 384)
        return (left + 1) / 2;
    return left;
}

#define XI(v, n, c, y, x) ((((n) * (v)->c + (c)) * (v)->h + (y)) * (v)->w + (x))
#define WI(v, o, c, i, j) ((((o) * (v)->c + (c)) * (v)->kh + (i)) * (v)->kw + (j))
#define YI(v, n, o, y, x) ((((n) * (v)->o + (o)) * (v)->oh + (y)) * (v)->ow + (x))

/* input element at output position (oy, ox) through kernel tap (i, j), 0 in the padding */
static inline float xat_f(const Cv *v, const float *x, int64_t n, int64_t c, int64_t oy, int64_t ox, int64_t i,
                          int64_t j)
{
    int64_t iy = oy * v->sh - v->ph + i, ix = ox * v->sw - v->pw + j;
    return iy < 0 || iy >= v->h || ix < 0 || ix >= v->w ? 0.0f : x[XI(v, n, c, iy, ix)];
}

/* output position reached from input (iy, ix) through tap (i, j), false if none */
static inline bool out_pos(const Cv *v, int64_t iy, int64_t ix, int64_t i, int64_t j, int64_t *oy, int64_t *ox)
{
    int64_t ty = iy + v->ph - i, tx = ix + v->pw - j;
    if (ty < 0 || tx < 0 || ty % v->sh || tx % v->sw)
        return false;
    *oy = ty / v->sh;
    *ox = tx / v->sw;
    return *oy < v->oh && *ox < v->ow;
}

/* ---- float32, oneDNN paths ---- */

FMA_CLONES static void jit_fwd(const Cv *vp, const float *x, const float *w, const float *b, float *y)
{
    const Cv vv = *vp, *v = &vv; /* a local copy: its fields stay in registers */
    int64_t blk = v->c < 16 ? v->c : 16;
    for (int64_t n = 0; n < v->n; n++)
        for (int64_t o = 0; o < v->o; o++)
            for (int64_t oy = 0; oy < v->oh; oy++)
                for (int64_t ox = 0; ox < v->ow; ox++) {
                    float tot = 0.0f;
                    for (int64_t c0 = 0; c0 < v->c; c0 += blk) {
                        int64_t c1 = c0 + blk < v->c ? c0 + blk : v->c;
                        float acc = 0.0f;
                        for (int64_t i = 0; i < v->kh; i++) {
                            int64_t iy = oy * v->sh - v->ph + i;
                            if (iy < 0 || iy >= v->h)
                                continue;
                            for (int64_t j = 0; j < v->kw; j++) {
                                int64_t ix = ox * v->sw - v->pw + j;
                                if (ix < 0 || ix >= v->w)
                                    continue;
                                for (int64_t c = c0; c < c1; c++)
                                    acc = fmaf(x[XI(v, n, c, iy, ix)], w[WI(v, o, c, i, j)], acc);
                            }
                        }
                        if (c0 == 0)
                            tot = b ? acc + b[o] : acc;
                        else
                            tot = acc + tot;
                    }
                    y[YI(v, n, o, oy, ox)] = tot;
                }
}

FMA_CLONES static void jit_bwd_data(const Cv *vp, const float *g, const float *w, float *dx)
{
    const Cv vv = *vp, *v = &vv; /* a local copy: its fields stay in registers */
    for (int64_t n = 0; n < v->n; n++)
        for (int64_t c = 0; c < v->c; c++)
            for (int64_t iy = 0; iy < v->h; iy++)
                for (int64_t ix = 0; ix < v->w; ix++) {
                    float tot = 0.0f;
                    for (int64_t o0 = 0; o0 < v->o; o0 += 16) {
                        int64_t o1 = o0 + 16 < v->o ? o0 + 16 : v->o;
                        float acc = 0.0f;
                        for (int64_t i = 0; i < v->kh; i++)
                            for (int64_t j = 0; j < v->kw; j++) {
                                int64_t oy, ox;
                                if (!out_pos(v, iy, ix, i, j, &oy, &ox))
                                    continue;
                                for (int64_t o = o0; o < o1; o++)
                                    acc = fmaf(g[YI(v, n, o, oy, ox)], w[WI(v, o, c, i, j)], acc);
                            }
                        tot = o0 == 0 ? acc : acc + tot;
                    }
                    dx[XI(v, n, c, iy, ix)] = tot;
                }
}

FMA_CLONES static void jit_bwd_weight(const Cv *vp, const float *g, const float *x, float *dw)
{
    const Cv vv = *vp, *v = &vv; /* a local copy: its fields stay in registers */
    for (int64_t o = 0; o < v->o; o++)
        for (int64_t c = 0; c < v->c; c++)
            for (int64_t i = 0; i < v->kh; i++)
                for (int64_t j = 0; j < v->kw; j++) {
                    float acc = 0.0f;
                    for (int64_t n = 0; n < v->n; n++)
                        for (int64_t oy = 0; oy < v->oh; oy++)
                            for (int64_t ox = 0; ox < v->ow; ox++)
                                acc = fmaf(g[YI(v, n, o, oy, ox)], xat_f(v, x, n, c, oy, ox, i, j), acc);
                    dw[WI(v, o, c, i, j)] = acc;
                }
}

/* oneDNN's direct and 1x1 kernels: one unfused sum over (n, oy, ox) */
static void seq_bwd_bias(const Cv *v, const float *g, float *db)
{
    for (int64_t o = 0; o < v->o; o++) {
        float acc = 0.0f;
        for (int64_t n = 0; n < v->n; n++)
            for (int64_t k = 0; k < v->oh * v->ow; k++)
                acc = acc + g[YI(v, n, o, 0, 0) + k];
        db[o] = acc;
    }
}

FMA_CLONES static void k1x1_fwd(const Cv *vp, const float *x, const float *w, const float *b, float *y)
{
    const Cv vv = *vp, *v = &vv; /* a local copy: its fields stay in registers */
    for (int64_t n = 0; n < v->n; n++)
        for (int64_t o = 0; o < v->o; o++)
            for (int64_t oy = 0; oy < v->oh; oy++)
                for (int64_t ox = 0; ox < v->ow; ox++) {
                    float tot = 0.0f;
                    for (int64_t c0 = 0; c0 < v->c; c0 += 256) {
                        int64_t c1 = c0 + 256 < v->c ? c0 + 256 : v->c;
                        float acc = c0 == 0 && b ? b[o] : 0.0f;
                        for (int64_t c = c0; c < c1; c++)
                            acc = fmaf(x[XI(v, n, c, oy * v->sh, ox * v->sw)], w[WI(v, o, c, 0, 0)], acc);
                        tot = c0 == 0 ? acc : acc + tot;
                    }
                    y[YI(v, n, o, oy, ox)] = tot;
                }
}

FMA_CLONES static void k1x1_bwd_data(const Cv *vp, const float *g, const float *w, float *dx)
{
    const Cv vv = *vp, *v = &vv; /* a local copy: its fields stay in registers */
    memset(dx, 0, (size_t)(v->n * v->c * v->h * v->w) * sizeof *dx);
    for (int64_t n = 0; n < v->n; n++)
        for (int64_t c = 0; c < v->c; c++)
            for (int64_t oy = 0; oy < v->oh; oy++)
                for (int64_t ox = 0; ox < v->ow; ox++) {
                    float tot = 0.0f;
                    for (int64_t o0 = 0; o0 < v->o; o0 += 256) {
                        int64_t o1 = o0 + 256 < v->o ? o0 + 256 : v->o;
                        float acc = 0.0f;
                        for (int64_t o = o0; o < o1; o++)
                            acc = fmaf(g[YI(v, n, o, oy, ox)], w[WI(v, o, c, 0, 0)], acc);
                        tot = o0 == 0 ? acc : acc + tot;
                    }
                    dx[XI(v, n, c, oy * v->sh, ox * v->sw)] = tot;
                }
}

FMA_CLONES static void k1x1_bwd_weight(const Cv *vp, const float *g, const float *x, float *dw)
{
    const Cv vv = *vp, *v = &vv; /* a local copy: its fields stay in registers */
    for (int64_t o = 0; o < v->o; o++)
        for (int64_t c = 0; c < v->c; c++) {
            float tot = 0.0f;
            for (int64_t n = 0; n < v->n; n++) {
                float acc = 0.0f;
                for (int64_t oy = 0; oy < v->oh; oy++)
                    for (int64_t ox = 0; ox < v->ow; ox++)
                        acc = fmaf(g[YI(v, n, o, oy, ox)], x[XI(v, n, c, oy * v->sh, ox * v->sw)], acc);
                tot = n == 0 ? acc : acc + tot;
            }
            dw[WI(v, o, c, 0, 0)] = tot;
        }
}

FMA_CLONES static void gemm_fwd(const Cv *vp, const float *x, const float *w, const float *b, float *y)
{
    const Cv vv = *vp, *v = &vv; /* a local copy: its fields stay in registers */
    int64_t ks = v->kh * v->kw, K = v->c * ks;
    for (int64_t n = 0; n < v->n; n++)
        for (int64_t o = 0; o < v->o; o++)
            for (int64_t oy = 0; oy < v->oh; oy++)
                for (int64_t ox = 0; ox < v->ow; ox++) {
                    float tot = 0.0f;
                    /* one column (O == 1) goes to sgemv: no K-blocking */
                    for (int64_t k0 = 0; k0 < K;) {
                        int64_t k1 = k0 + (v->o == 1 ? K : kblock(K - k0));
                        float acc = 0.0f;
                        for (int64_t k = k0; k < k1; k++) {
                            int64_t c = k / ks, i = k % ks / v->kw, j = k % v->kw;
                            acc = fmaf(xat_f(v, x, n, c, oy, ox, i, j), w[o * K + k], acc);
                        }
                        tot = k0 == 0 ? acc : acc + tot;
                        k0 = k1;
                    }
                    y[YI(v, n, o, oy, ox)] = b ? tot + b[o] : tot;
                }
}

FMA_CLONES static void gemm_bwd_data(const Cv *vp, const float *g, const float *w, float *dx)
{
    const Cv vv = *vp, *v = &vv; /* a local copy: its fields stay in registers */
    int64_t ks = v->kh * v->kw;
    bool gemv = v->c * ks == 1;
    for (int64_t n = 0; n < v->n; n++)
        for (int64_t c = 0; c < v->c; c++)
            for (int64_t iy = 0; iy < v->h; iy++)
                for (int64_t ix = 0; ix < v->w; ix++) {
                    float d = 0.0f;
                    for (int64_t i = 0; i < v->kh; i++)
                        for (int64_t j = 0; j < v->kw; j++) {
                            int64_t oy, ox;
                            if (!out_pos(v, iy, ix, i, j, &oy, &ox))
                                continue;
                            float col = 0.0f;
                            for (int64_t o0 = 0; o0 < v->o;) {
                                int64_t o1 = o0 + (gemv ? v->o : kblock(v->o - o0));
                                float acc = 0.0f;
                                for (int64_t o = o0; o < o1; o++)
                                    acc = fmaf(g[YI(v, n, o, oy, ox)], w[WI(v, o, c, i, j)], acc);
                                col = o0 == 0 ? acc : acc + col;
                                o0 = o1;
                            }
                            d = d + col;
                        }
                    dx[XI(v, n, c, iy, ix)] = d;
                }
}

/* sgemv('T') as oneDNN's AVX kernel does one dot product into y: chunks
 * of 16 go to 8 lanes (fused, lane k mod 8), reduced by two hadds around
 * a half swap and added to y; the remainder's 8, 4, 2, 1 pieces each so. */
static float hadd8(const float *a) { return ((a[0] + a[1]) + (a[4] + a[5])) + ((a[2] + a[3]) + (a[6] + a[7])); }

FMA_CLONES
static float gemv_dot(const Cv *v, const float *gr, const float *x, int64_t n, int64_t c, int64_t i, int64_t j,
                      int64_t S, float y)
{
    int64_t main = S / 16 * 16, k = 0;
    if (main) {
        float acc[8] = {0};
        for (; k < main; k++)
            acc[k % 8] = fmaf(gr[k], xat_f(v, x, n, c, k / v->ow, k % v->ow, i, j), acc[k % 8]);
        y = y + hadd8(acc);
    }
    for (int ux = 8; ux >= 1; ux /= 2)
        if ((S - main) & ux) {
            float acc[8] = {0};
            for (int q = 0; q < ux; q++, k++)
                acc[q] = gr[k] * xat_f(v, x, n, c, k / v->ow, k % v->ow, i, j);
            y = y + hadd8(acc);
        }
    return y;
}

FMA_CLONES static void gemm_bwd_weight(const Cv *vp, const float *g, const float *x, float *dw)
{
    const Cv vv = *vp, *v = &vv; /* a local copy: its fields stay in registers */
    int64_t S = v->oh * v->ow;
    for (int64_t o = 0; o < v->o; o++)
        for (int64_t c = 0; c < v->c; c++)
            for (int64_t i = 0; i < v->kh; i++)
                for (int64_t j = 0; j < v->kw; j++) {
                    float tot = 0.0f;
                    for (int64_t n = 0; n < v->n; n++) {
                        const float *gr = g + YI(v, n, o, 0, 0);
                        float part = 0.0f;
                        if (v->o == 1) {
                            /* one column: sgemv, accumulating into the total */
                            tot = gemv_dot(v, gr, x, n, c, i, j, S, tot);
                            continue;
                        }
                        if (v->o <= 15) {
                            /* smalln_tn: 16 lanes of k (mod 16), then a halving tree */
                            float lane[16] = {0};
                            for (int64_t k = 0; k < S; k++)
                                lane[k % 16] = fmaf(gr[k], xat_f(v, x, n, c, k / v->ow, k % v->ow, i, j), lane[k % 16]);
                            for (int h = 8; h >= 1; h /= 2)
                                for (int q = 0; q < h; q++)
                                    lane[q] = lane[q] + lane[q + h];
                            part = lane[0];
                            tot = n == 0 ? part : part + tot;
                        } else {
                            /* each K-block is added into C (beta = 1 after the first) */
                            for (int64_t k0 = 0; k0 < S;) {
                                int64_t k1 = k0 + kblock(S - k0);
                                float acc = 0.0f;
                                for (int64_t k = k0; k < k1; k++)
                                    acc = fmaf(gr[k], xat_f(v, x, n, c, k / v->ow, k % v->ow, i, j), acc);
                                tot = n == 0 && k0 == 0 ? acc : acc + tot;
                                k0 = k1;
                            }
                        }
                    }
                    dw[WI(v, o, c, i, j)] = tot;
                }
}

static void gemm_bwd_bias(const Cv *v, const float *g, float *db)
{
    for (int64_t o = 0; o < v->o; o++) {
        float acc = 0.0f;
        for (int64_t n = 0; n < v->n; n++)
            for (int64_t oy = 0; oy < v->oh; oy++) {
                float row = 0.0f;
                for (int64_t ox = 0; ox < v->ow; ox++)
                    row = row + g[YI(v, n, o, oy, ox)];
                acc = acc + row;
            }
        db[o] = acc;
    }
}

/* ---- torch's slow path (float32 and float64) ---- */

#define DEFINE_SLOW(T, NAME)                                                                                   \
    static inline T NAME##_xat(const Cv *v, const T *x, int64_t n, int64_t c, int64_t oy, int64_t ox,          \
                               int64_t i, int64_t j)                                                           \
    {                                                                                                          \
        int64_t iy = oy * v->sh - v->ph + i, ix = ox * v->sw - v->pw + j;                                      \
        return iy < 0 || iy >= v->h || ix < 0 || ix >= v->w ? (T)0 : x[XI(v, n, c, iy, ix)];                   \
    }                                                                                                          \
    static void NAME##_fwd(const Cv *v, const T *x, const T *w, const T *b, T *y)                              \
    {                                                                                                          \
        for (int64_t n = 0; n < v->n; n++)                                                                     \
            for (int64_t o = 0; o < v->o; o++)                                                                 \
                for (int64_t oy = 0; oy < v->oh; oy++)                                                         \
                    for (int64_t ox = 0; ox < v->ow; ox++) {                                                   \
                        T acc = b ? b[o] : (T)0;                                                               \
                        for (int64_t c = 0; c < v->c; c++)                                                     \
                            for (int64_t i = 0; i < v->kh; i++)                                                \
                                for (int64_t j = 0; j < v->kw; j++)                                            \
                                    acc = acc + NAME##_xat(v, x, n, c, oy, ox, i, j) * w[WI(v, o, c, i, j)];   \
                        y[YI(v, n, o, oy, ox)] = acc;                                                          \
                    }                                                                                          \
    }                                                                                                          \
    static void NAME##_bwd_data(const Cv *v, const T *g, const T *w, T *dx)                                    \
    {                                                                                                          \
        for (int64_t n = 0; n < v->n; n++)                                                                     \
            for (int64_t c = 0; c < v->c; c++)                                                                 \
                for (int64_t iy = 0; iy < v->h; iy++)                                                          \
                    for (int64_t ix = 0; ix < v->w; ix++) {                                                    \
                        T d = 0;                                                                               \
                        for (int64_t i = 0; i < v->kh; i++)                                                    \
                            for (int64_t j = 0; j < v->kw; j++) {                                              \
                                int64_t oy, ox;                                                                \
                                if (!out_pos(v, iy, ix, i, j, &oy, &ox))                                       \
                                    continue;                                                                  \
                                T col = 0;                                                                     \
                                for (int64_t o = 0; o < v->o; o++)                                             \
                                    col = col + g[YI(v, n, o, oy, ox)] * w[WI(v, o, c, i, j)];                 \
                                d = d + col;                                                                   \
                            }                                                                                  \
                        dx[XI(v, n, c, iy, ix)] = d;                                                           \
                    }                                                                                          \
    }                                                                                                          \
    static void NAME##_bwd_weight(const Cv *v, const T *g, const T *x, T *dw)                                  \
    {                                                                                                          \
        for (int64_t o = 0; o < v->o; o++)                                                                     \
            for (int64_t c = 0; c < v->c; c++)                                                                 \
                for (int64_t i = 0; i < v->kh; i++)                                                            \
                    for (int64_t j = 0; j < v->kw; j++) {                                                      \
                        T tot = 0;                                                                             \
                        for (int64_t n = 0; n < v->n; n++) {                                                   \
                            T s = 0;                                                                           \
                            for (int64_t oy = 0; oy < v->oh; oy++)                                             \
                                for (int64_t ox = 0; ox < v->ow; ox++)                                         \
                                    s = s + NAME##_xat(v, x, n, c, oy, ox, i, j) * g[YI(v, n, o, oy, ox)];     \
                            tot = s + tot;                                                                     \
                        }                                                                                      \
                        dw[WI(v, o, c, i, j)] = tot;                                                           \
                    }                                                                                          \
    }

DEFINE_SLOW(float, slow_f32)
DEFINE_SLOW(double, slow_f64)

/* ---- mpfr: the slow path's order, one rounding per operation ---- */

static void mp_fwd(const Cv *v, const __mpfr_struct *x, const __mpfr_struct *w, const __mpfr_struct *b,
                   __mpfr_struct *y, mpfr_prec_t p)
{
    mpfr_t q;
    mpfr_init2(q, p);
    for (int64_t n = 0; n < v->n; n++)
        for (int64_t o = 0; o < v->o; o++)
            for (int64_t oy = 0; oy < v->oh; oy++)
                for (int64_t ox = 0; ox < v->ow; ox++) {
                    mpfr_ptr acc = &y[YI(v, n, o, oy, ox)];
                    if (b)
                        mpfr_set(acc, &b[o], MPFR_RNDN);
                    else
                        mpfr_set_zero(acc, 1);
                    for (int64_t c = 0; c < v->c; c++)
                        for (int64_t i = 0; i < v->kh; i++)
                            for (int64_t j = 0; j < v->kw; j++) {
                                int64_t iy = oy * v->sh - v->ph + i, ix = ox * v->sw - v->pw + j;
                                if (iy < 0 || iy >= v->h || ix < 0 || ix >= v->w)
                                    continue;
                                mpfr_mul(q, &x[XI(v, n, c, iy, ix)], &w[WI(v, o, c, i, j)], MPFR_RNDN);
                                mpfr_add(acc, acc, q, MPFR_RNDN);
                            }
                }
    mpfr_clear(q);
}

static void mp_bwd_data(const Cv *v, const __mpfr_struct *g, const __mpfr_struct *w, __mpfr_struct *dx,
                        mpfr_prec_t p)
{
    mpfr_t q, col;
    mpfr_inits2(p, q, col, (mpfr_ptr)NULL);
    for (int64_t n = 0; n < v->n; n++)
        for (int64_t c = 0; c < v->c; c++)
            for (int64_t iy = 0; iy < v->h; iy++)
                for (int64_t ix = 0; ix < v->w; ix++) {
                    mpfr_ptr d = &dx[XI(v, n, c, iy, ix)];
                    mpfr_set_zero(d, 1);
                    for (int64_t i = 0; i < v->kh; i++)
                        for (int64_t j = 0; j < v->kw; j++) {
                            int64_t oy, ox;
                            if (!out_pos(v, iy, ix, i, j, &oy, &ox))
                                continue;
                            mpfr_set_zero(col, 1);
                            for (int64_t o = 0; o < v->o; o++) {
                                mpfr_mul(q, &g[YI(v, n, o, oy, ox)], &w[WI(v, o, c, i, j)], MPFR_RNDN);
                                mpfr_add(col, col, q, MPFR_RNDN);
                            }
                            mpfr_add(d, d, col, MPFR_RNDN);
                        }
                }
    mpfr_clears(q, col, (mpfr_ptr)NULL);
}

static void mp_bwd_weight(const Cv *v, const __mpfr_struct *g, const __mpfr_struct *x, __mpfr_struct *dw,
                          mpfr_prec_t p)
{
    mpfr_t q, s;
    mpfr_inits2(p, q, s, (mpfr_ptr)NULL);
    for (int64_t o = 0; o < v->o; o++)
        for (int64_t c = 0; c < v->c; c++)
            for (int64_t i = 0; i < v->kh; i++)
                for (int64_t j = 0; j < v->kw; j++) {
                    mpfr_ptr tot = &dw[WI(v, o, c, i, j)];
                    mpfr_set_zero(tot, 1);
                    for (int64_t n = 0; n < v->n; n++) {
                        mpfr_set_zero(s, 1);
                        for (int64_t oy = 0; oy < v->oh; oy++)
                            for (int64_t ox = 0; ox < v->ow; ox++) {
                                int64_t iy = oy * v->sh - v->ph + i, ix = ox * v->sw - v->pw + j;
                                if (iy < 0 || iy >= v->h || ix < 0 || ix >= v->w)
                                    continue;
                                mpfr_mul(q, &x[XI(v, n, c, iy, ix)], &g[YI(v, n, o, oy, ox)], MPFR_RNDN);
                                mpfr_add(s, s, q, MPFR_RNDN);
                            }
                        mpfr_add(tot, s, tot, MPFR_RNDN);
                    }
                }
    mpfr_clears(q, s, (mpfr_ptr)NULL);
}

static void mp_bwd_bias(const Cv *v, const __mpfr_struct *g, __mpfr_struct *db)
{
    for (int64_t o = 0; o < v->o; o++) {
        mpfr_set_zero(&db[o], 1);
        for (int64_t n = 0; n < v->n; n++)
            for (int64_t k = 0; k < v->oh * v->ow; k++)
                mpfr_add(&db[o], &db[o], &g[YI(v, n, o, 0, 0) + k], MPFR_RNDN);
    }
}

/* ---- the operation ---- */

static bool conv_check(SlTensor *x, SlTensor *w, SlTensor *b, const int stride[2], const int padding[2], Cv *v,
                       SlError *err)
{
    /* the sizes for messages, written only when one is needed */
    char sx[16 * SL_TENSOR_MAXDIM], sw[16 * SL_TENSOR_MAXDIM];
    bool bad = x->ndim != 4 || w->ndim != 4 || x->shape[1] != w->shape[1] ||
               (b && (b->ndim != 1 || b->shape[0] != w->shape[0]));
    if (bad) {
        sl_sizes_str(sx, sizeof sx, x->ndim, x->shape);
        sl_sizes_str(sw, sizeof sw, w->ndim, w->shape);
    }
    if (x->ndim != 4)
        return sl_err(err, SL_E_VALUE,
                      "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: %s", sx);
    if (w->ndim != 4)
        return sl_err(err, SL_E_VALUE,
                      "Expected 4-dimensional weight for 4-dimensional input %s, but got %d-dimensional weight of "
                      "size %s instead",
                      sx, w->ndim, sw);
    if (stride[0] <= 0 || stride[1] <= 0)
        return sl_err(err, SL_E_VALUE, "non-positive stride is not supported");
    if (padding[0] < 0 || padding[1] < 0)
        return sl_err(err, SL_E_VALUE, "negative padding is not supported");
    if (x->shape[1] != w->shape[1])
        return sl_err(err, SL_E_VALUE,
                      "Given groups=1, weight of size %s, expected input%s to have %lld channels, but got %lld "
                      "channels instead",
                      sw, sx, (long long)w->shape[1], (long long)x->shape[1]);
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0])) {
        char sb[16 * SL_TENSOR_MAXDIM];
        sl_sizes_str(sb, sizeof sb, b->ndim, b->shape);
        return sl_err(err, SL_E_VALUE,
                      "Given weight of size %s, expected bias to be 1-dimensional with %lld elements, but got bias "
                      "of size %s instead",
                      sw, (long long)w->shape[0], sb);
    }
    if (x->dtype != w->dtype) {
        if (sl_dtype_is_float(x->dtype) && sl_dtype_is_float(w->dtype) && x->dtype != SL_DT_F32 &&
            x->dtype != SL_DT_MPFR)
            return sl_err(err, SL_E_TYPE, "expected scalar type %s but found %s", sl_dtype_word(x->dtype),
                          sl_dtype_word(w->dtype));
        return sl_err(err, SL_E_TYPE,
                      "Input type (torch.%sTensor) and weight type (torch.%sTensor) should be the same or input "
                      "should be a MKLDNN tensor and weight is a dense tensor",
                      sl_dtype_word(x->dtype), sl_dtype_word(w->dtype));
    }
    if (!need_float(x, "slow_conv2d_cpu", err))
        return false;
    if (b && b->dtype != x->dtype)
        return sl_err(err, SL_E_TYPE, "Input type (%s) and bias type (%s) should be the same",
                      x->dtype == SL_DT_F32 ? "float" : x->dtype == SL_DT_F64 ? "double" : "mpfr",
                      b->dtype == SL_DT_F32 ? "float" : b->dtype == SL_DT_F64 ? "double" : "other");
    *v = (Cv){.n = x->shape[0], .c = x->shape[1], .h = x->shape[2], .w = x->shape[3], .o = w->shape[0],
              .kh = w->shape[2], .kw = w->shape[3], .sh = stride[0], .sw = stride[1], .ph = padding[0],
              .pw = padding[1]};
    int64_t hp = v->h + 2 * v->ph, wp = v->w + 2 * v->pw;
    if (hp < v->kh || wp < v->kw)
        return sl_err(err, SL_E_VALUE,
                      "Calculated padded input size per channel: (%lld x %lld). Kernel size: (%lld x %lld). Kernel "
                      "size can't be greater than actual input size",
                      (long long)hp, (long long)wp, (long long)v->kh, (long long)v->kw);
    v->oh = (hp - v->kh) / v->sh + 1;
    v->ow = (wp - v->kw) / v->sw + 1;
    return true;
}

static SlTensor *conv_batched(SlTensor *x, SlTensor *w, SlTensor *b, const int stride[2], const int padding[2],
                              SlError *err)
{
    Cv v = {0};
    if (!conv_check(x, w, b, stride, padding, &v, err))
        return NULL;
    int impl = conv_impl(&v, x->dtype, PASS_FWD);
    mpfr_prec_t p = prec_of(x);
    if (x->dtype == SL_DT_MPFR) {
        p = p > w->storage->prec ? p : w->storage->prec;
        if (b)
            p = p > b->storage->prec ? p : b->storage->prec;
    }
    int64_t shape[4] = {v.n, v.o, v.oh, v.ow};
    SlTensor *y = sl_tensor_zeros(x->dtype, 4, shape, p, err);
    if (!y)
        return NULL;
    SlTensor *xc = as_contig(x, x->dtype, p), *wc = as_contig(w, x->dtype, p);
    SlTensor *bc = b ? as_contig(b, x->dtype, p) : NULL;
    switch (x->dtype) {
    case SL_DT_F32: {
        const float *bp = bc ? FP(bc) : NULL;
        switch (impl) {
        case CONV_JIT: jit_fwd(&v, FP(xc), FP(wc), bp, FP(y)); break;
        case CONV_1X1: k1x1_fwd(&v, FP(xc), FP(wc), bp, FP(y)); break;
        case CONV_GEMM: gemm_fwd(&v, FP(xc), FP(wc), bp, FP(y)); break;
        default: slow_f32_fwd(&v, FP(xc), FP(wc), bp, FP(y)); break;
        }
        break;
    }
    case SL_DT_F64: slow_f64_fwd(&v, DP(xc), DP(wc), bc ? DP(bc) : NULL, DP(y)); break;
    default: mp_fwd(&v, MP(xc), MP(wc), bc ? MP(bc) : NULL, MP(y), p); break;
    }
    sl_tensor_unref(xc);
    sl_tensor_unref(wc);
    sl_tensor_unref(bc);
    SlTensor *in[3] = {x, w, b};
    SlNode *nd = sl_ag_record(SL_N_CONVOLUTION, y, 3, in);
    if (nd) {
        sl_ag_save(nd, x);
        sl_ag_save(nd, w);
        nd->geom = geom_new(4);
        nd->geom[0] = v.sh;
        nd->geom[1] = v.sw;
        nd->geom[2] = v.ph;
        nd->geom[3] = v.pw;
    }
    return y;
}

SlTensor *sl_ag_conv2d(SlTensor *x, SlTensor *w, SlTensor *b, const int stride[2], const int padding[2],
                       SlError *err)
{
    static const int one[2] = {1, 1}, zero[2] = {0, 0};
    if (!stride)
        stride = one;
    if (!padding)
        padding = zero;
    if (x->ndim != 3)
        return conv_batched(x, w, b, stride, padding, err);
    /* unbatched: torch convolves input.unsqueeze(0) and squeezes dim 0 */
    SlTensor *x4 = sl_ag_unsqueeze(x, 0, err);
    SlTensor *y4 = x4 ? conv_batched(x4, w, b, stride, padding, err) : NULL;
    SlTensor *y = y4 ? sl_ag_squeeze(y4, 0, err) : NULL;
    sl_tensor_unref(x4);
    sl_tensor_unref(y4);
    return y;
}

/* torch's grad_output.sum((0, 2, 3)) as its reduction iterates it: size-1
 * dims dropped, a reduced run at the end summed by the inner (cascade)
 * sum, the batch dim outside it accumulated image by image; with one
 * channel everything is one inner sum, with one output position the
 * batch is an outer (column) sum. */
static SlTensor *slow_bias_grad(const Cv *v, SlTensor *gc, SlError *err)
{
    int64_t hw = v->oh * v->ow;
    if (v->o == 1 || v->n == 1 || hw == 1) {
        int64_t s2[2] = {v->o == 1 ? 1 : v->n, v->o == 1 ? v->n * hw : v->o};
        if (v->o != 1 && v->n == 1) {
            s2[0] = v->o;
            s2[1] = hw;
        }
        SlTensor *g2 = sl_tensor_view(gc, 2, s2, err);
        /* (1, N*HW) and (C, HW) reduce their last dim; (N, C) its first */
        uint32_t mask = v->o != 1 && v->n != 1 ? 1u : 2u;
        SlTensor *s = g2 ? sl_tensor_sum(g2, mask, false, err) : NULL;
        sl_tensor_unref(g2);
        if (s && s->ndim != 1) {
            int64_t o = v->o;
            SlTensor *t = sl_tensor_view(s, 1, &o, err);
            sl_tensor_unref(s);
            s = t;
        }
        return s;
    }
    SlTensor *tot = NULL;
    for (int64_t n = 0; n < v->n; n++) {
        SlTensor *gn = sl_tensor_select(gc, 0, n, err);
        int64_t s2[2] = {v->o, hw};
        SlTensor *g2 = gn ? sl_tensor_view(gn, 2, s2, err) : NULL;
        SlTensor *s = g2 ? sl_tensor_sum(g2, 2u, false, err) : NULL;
        sl_tensor_unref(gn);
        sl_tensor_unref(g2);
        if (!s) {
            sl_tensor_unref(tot);
            return NULL;
        }
        if (!tot) {
            tot = s;
        } else {
            bool ok = sl_tensor_add_(tot, s, 1.0, err);
            sl_tensor_unref(s);
            if (!ok) {
                sl_tensor_unref(tot);
                return NULL;
            }
        }
    }
    return tot;
}

static bool conv_backward(SlNode *nd, SlTensor *g, SlTensor **r, SlError *err)
{
    SlTensor *x = nd->saved[0], *w = nd->saved[1];
    Cv v = {.n = x->shape[0], .c = x->shape[1], .h = x->shape[2], .w = x->shape[3], .o = w->shape[0],
            .kh = w->shape[2], .kw = w->shape[3], .oh = g->shape[2], .ow = g->shape[3], .sh = nd->geom[0],
            .sw = nd->geom[1], .ph = nd->geom[2], .pw = nd->geom[3]};
    SlDType dt = g->dtype;
    int impl_d = conv_impl(&v, dt, PASS_BWD_DATA), impl = conv_impl(&v, dt, PASS_BWD_WEIGHT);
    mpfr_prec_t p = prec_of(g);
    SlTensor *gc = as_contig(g, dt, p), *xc = as_contig(x, dt, p), *wc = as_contig(w, dt, p);
    bool ok = true;
    if (nd->next[0] && ok) {
        r[0] = sl_tensor_zeros(dt, 4, x->shape, p, err);
        ok = r[0] != NULL;
        if (ok && dt == SL_DT_F32) {
            switch (impl_d) {
            case CONV_JIT: jit_bwd_data(&v, FP(gc), FP(wc), FP(r[0])); break;
            case CONV_1X1: k1x1_bwd_data(&v, FP(gc), FP(wc), FP(r[0])); break;
            case CONV_GEMM: gemm_bwd_data(&v, FP(gc), FP(wc), FP(r[0])); break;
            default: slow_f32_bwd_data(&v, FP(gc), FP(wc), FP(r[0])); break;
            }
        } else if (ok && dt == SL_DT_F64) {
            slow_f64_bwd_data(&v, DP(gc), DP(wc), DP(r[0]));
        } else if (ok) {
            mp_bwd_data(&v, MP(gc), MP(wc), MP(r[0]), p);
        }
    }
    if (nd->next[1] && ok) {
        r[1] = sl_tensor_zeros(dt, 4, w->shape, p, err);
        ok = r[1] != NULL;
        if (ok && dt == SL_DT_F32) {
            switch (impl) {
            case CONV_JIT: jit_bwd_weight(&v, FP(gc), FP(xc), FP(r[1])); break;
            case CONV_1X1: k1x1_bwd_weight(&v, FP(gc), FP(xc), FP(r[1])); break;
            case CONV_GEMM: gemm_bwd_weight(&v, FP(gc), FP(xc), FP(r[1])); break;
            default: slow_f32_bwd_weight(&v, FP(gc), FP(xc), FP(r[1])); break;
            }
        } else if (ok && dt == SL_DT_F64) {
            slow_f64_bwd_weight(&v, DP(gc), DP(xc), DP(r[1]));
        } else if (ok) {
            mp_bwd_weight(&v, MP(gc), MP(xc), MP(r[1]), p);
        }
    }
    if (nd->nnext > 2 && nd->next[2] && ok) {
        int64_t o = v.o;
        if (dt == SL_DT_MPFR || (dt == SL_DT_F32 && impl != CONV_SLOW)) {
            r[2] = sl_tensor_zeros(dt, 1, &o, p, err);
            ok = r[2] != NULL;
            if (ok && dt == SL_DT_MPFR)
                mp_bwd_bias(&v, MP(gc), MP(r[2]));
            else if (ok && impl == CONV_GEMM)
                gemm_bwd_bias(&v, FP(gc), FP(r[2]));
            else if (ok)
                seq_bwd_bias(&v, FP(gc), FP(r[2]));
        } else {
            r[2] = slow_bias_grad(&v, gc, err);
            ok = r[2] != NULL;
        }
    }
    sl_tensor_unref(gc);
    sl_tensor_unref(xc);
    sl_tensor_unref(wc);
    return ok;
}

/* ---------------------------------------------------------------------------
 * softmax and log_softmax (aten/src/ATen/native/cpu/SoftMaxKernel.cpp)
 *
 * Along the last dim, each row is reduced as vec::reduce_all does: the
 * first 8 (float) or 4 (double) elements load one vector, whole vectors
 * are added lane by lane, a tail is added into its lanes; the lanes are
 * then combined by a shuffle tree for float (((l0+l4)+(l2+l6)) + ((l1+l5)
 * + (l3+l7))) and in order for double; rows shorter than a vector are
 * summed in order.  exp and log are Sleef's.  softmax is exp(x - max) *
 * (1 / sum); log_softmax is (x - max) - log(sum).
 *
 * Along another dim (even one followed only by size-1 dims, and for a
 * 0-d tensor) the sums run down the dim in order, one per inner position;
 * positions past the last whole vector of the inner size take glibc's exp
 * instead of Sleef's.  softmax there divides by the sum.
 *
 * GCC contracted torch's vector code (-mfma, -ffp-contract=fast): the
 * backward's grad - exp(y) * sum and its sum of grad * y are fused
 * multiply-adds, and so they are here.
 * ------------------------------------------------------------------------- */

static float f32_lanes(const float *acc)
{
    float v[8];
    for (int l = 0; l < 8; l++)
        v[l] = acc[l] + acc[(l + 4) % 8];
    float a = v[0] + v[2], c = v[1] + v[3];
    return a + c;
}

static double f64_lanes(const double *acc) { return ((acc[0] + acc[1]) + acc[2]) + acc[3]; }

#define DEFINE_VSUM(T, NAME, V, LANES)                                                                         \
    static T NAME(const T *e, int64_t n)                                                                       \
    {                                                                                                          \
        if (n <= 0)                                                                                            \
            return 0;                                                                                          \
        if (n < V) {                                                                                           \
            T s = e[0];                                                                                        \
            for (int64_t k = 1; k < n; k++)                                                                    \
                s = s + e[k];                                                                                  \
            return s;                                                                                          \
        }                                                                                                      \
        T acc[V];                                                                                              \
        memcpy(acc, e, sizeof acc);                                                                            \
        int64_t d = V;                                                                                         \
        for (; d < n - n % V; d += V)                                                                          \
            for (int l = 0; l < V; l++)                                                                        \
                acc[l] = acc[l] + e[d + l];                                                                    \
        for (int l = 0; d + l < n; l++)                                                                        \
            acc[l] = acc[l] + e[d + l];                                                                        \
        return LANES(acc);                                                                                     \
    }

DEFINE_VSUM(float, f32_vsum, 8, f32_lanes)
DEFINE_VSUM(double, f64_vsum, 4, f64_lanes)

/* vec::map2_reduce_all(x * y, +) as GCC compiled it for torch: the first
 * vector's products rounded, every later product fused into its lane */
#define DEFINE_FSUM(T, NAME, V, LANES, FMA)                                                                    \
    static T NAME(const T *a, const T *b, int64_t n)                                                           \
    {                                                                                                          \
        if (n <= 0)                                                                                            \
            return 0;                                                                                          \
        if (n < V) {                                                                                           \
            T s = a[0] * b[0];                                                                                 \
            for (int64_t k = 1; k < n; k++)                                                                    \
                s = s + a[k] * b[k];                                                                           \
            return s;                                                                                          \
        }                                                                                                      \
        T acc[V];                                                                                              \
        for (int l = 0; l < V; l++)                                                                            \
            acc[l] = a[l] * b[l];                                                                              \
        int64_t d = V;                                                                                         \
        for (; d < n - n % V; d += V)                                                                          \
            for (int l = 0; l < V; l++)                                                                        \
                acc[l] = FMA(a[d + l], b[d + l], acc[l]);                                                      \
        for (int l = 0; d + l < n; l++)                                                                        \
            acc[l] = FMA(a[d + l], b[d + l], acc[l]);                                                          \
        return LANES(acc);                                                                                     \
    }

DEFINE_FSUM(float, f32_fsum, 8, f32_lanes, fmaf)
DEFINE_FSUM(double, f64_fsum, 4, f64_lanes, fma)

static float f32_exp(float x) { return sl_vm_f32_1(SL_FN_EXP, x); }
static float f32_log(float x) { return sl_vm_f32_1(SL_FN_LOG, x); }
static double f64_exp(double x) { return sl_vm_f64_1(SL_FN_EXP, x); }
static double f64_log(double x) { return sl_vm_f64_1(SL_FN_LOG, x); }

/* x: outer x dim x inner, contiguous; y likewise */
#define DEFINE_SOFTMAX(T, NAME, V, VSUM, FSUM, FMA, VEXP, VLOG, CEXP)                                          \
    static void NAME##_fwd(const T *x, T *y, int64_t outer, int64_t dim, int64_t inner, bool last, bool lg,    \
                           T *buf)                                                                             \
    {                                                                                                          \
        for (int64_t a = 0; a < outer; a++) {                                                                  \
            if (last) {                                                                                        \
                const T *xr = x + a * dim;                                                                     \
                T *yr = y + a * dim;                                                                           \
                T m = xr[0];                                                                                   \
                for (int64_t k = 1; k < dim && !isnan(m); k++)                                                 \
                    if (isnan(xr[k]) || xr[k] > m)                                                             \
                        m = xr[k];                                                                             \
                for (int64_t k = 0; k < dim; k++)                                                              \
                    buf[k] = VEXP(xr[k] - m);                                                                  \
                T s = VSUM(buf, dim);                                                                          \
                if (lg) {                                                                                      \
                    T ls = VLOG(s);                                                                            \
                    for (int64_t k = 0; k < dim; k++)                                                          \
                        yr[k] = (xr[k] - m) - ls;                                                              \
                } else {                                                                                       \
                    T inv = (T)1 / s;                                                                          \
                    for (int64_t k = 0; k < dim; k++)                                                          \
                        yr[k] = buf[k] * inv;                                                                  \
                }                                                                                              \
                continue;                                                                                      \
            }                                                                                                  \
            int64_t vend = inner - inner % V;                                                                  \
            for (int64_t q = 0; q < inner; q++) {                                                              \
                const T *xq = x + a * dim * inner + q;                                                         \
                T *yq = y + a * dim * inner + q;                                                               \
                T m = -INFINITY;                                                                               \
                for (int64_t k = 0; k < dim; k++) {                                                            \
                    T t = xq[k * inner];                                                                       \
                    if (isnan(t) || isnan(m))                                                                  \
                        m = NAN;                                                                               \
                    else if (t > m)                                                                            \
                        m = t;                                                                                 \
                }                                                                                              \
                T s = 0;                                                                                       \
                for (int64_t k = 0; k < dim; k++) {                                                            \
                    T e = q < vend ? VEXP(xq[k * inner] - m) : CEXP(xq[k * inner] - m);                        \
                    if (!lg)                                                                                   \
                        yq[k * inner] = e;                                                                     \
                    s = s + e;                                                                                 \
                }                                                                                              \
                if (lg) {                                                                                      \
                    T ls = VLOG(s);                                                                            \
                    for (int64_t k = 0; k < dim; k++)                                                          \
                        yq[k * inner] = (xq[k * inner] - m) - ls;                                              \
                } else {                                                                                       \
                    for (int64_t k = 0; k < dim; k++)                                                          \
                        yq[k * inner] = yq[k * inner] / s;                                                     \
                }                                                                                              \
            }                                                                                                  \
        }                                                                                                      \
    }                                                                                                          \
    /* g: incoming gradient, y: the saved result; gi: result */                                                \
    static void NAME##_bwd(const T *g, const T *y, T *gi, int64_t outer, int64_t dim, int64_t inner,           \
                           bool last, bool lg, T *buf)                                                         \
    {                                                                                                          \
        for (int64_t a = 0; a < outer; a++) {                                                                  \
            if (last) {                                                                                        \
                const T *gr = g + a * dim, *yr = y + a * dim;                                                  \
                T *ir = gi + a * dim;                                                                          \
                if (lg) {                                                                                      \
                    T s = VSUM(gr, dim);                                                                       \
                    for (int64_t k = 0; k < dim; k++)                                                          \
                        ir[k] = FMA(-VEXP(yr[k]), s, gr[k]);                                                   \
                } else {                                                                                       \
                    T s = FSUM(gr, yr, dim);                                                                   \
                    for (int64_t k = 0; k < dim; k++)                                                          \
                        ir[k] = (gr[k] - s) * yr[k];                                                           \
                }                                                                                              \
                continue;                                                                                      \
            }                                                                                                  \
            int64_t vend = inner - inner % V;                                                                  \
            for (int64_t q = 0; q < inner; q++) {                                                              \
                int64_t base = a * dim * inner + q;                                                            \
                T s = 0;                                                                                       \
                for (int64_t k = 0; k < dim; k++)                                                              \
                    s = lg ? s + g[base + k * inner] : FMA(g[base + k * inner], y[base + k * inner], s);       \
                for (int64_t k = 0; k < dim; k++) {                                                            \
                    int64_t i = base + k * inner;                                                              \
                    if (lg)                                                                                    \
                        gi[i] = FMA(-(q < vend ? VEXP(y[i]) : CEXP(y[i])), s, g[i]);                           \
                    else                                                                                       \
                        gi[i] = y[i] * (g[i] - s);                                                             \
                }                                                                                              \
            }                                                                                                  \
        }                                                                                                      \
    }

DEFINE_SOFTMAX(float, sm_f32, 8, f32_vsum, f32_fsum, fmaf, f32_exp, f32_log, expf)
DEFINE_SOFTMAX(double, sm_f64, 4, f64_vsum, f64_fsum, fma, f64_exp, f64_log, exp)

static void sm_mp_fwd(const __mpfr_struct *x, __mpfr_struct *y, int64_t outer, int64_t dim, int64_t inner,
                      bool lg, mpfr_prec_t p)
{
    mpfr_t m, s, t;
    mpfr_inits2(p, m, s, t, (mpfr_ptr)NULL);
    for (int64_t a = 0; a < outer; a++)
        for (int64_t q = 0; q < inner; q++) {
            int64_t base = a * dim * inner + q;
            mpfr_set_inf(m, -1);
            for (int64_t k = 0; k < dim; k++)
                if (mpfr_nan_p(&x[base + k * inner]) || mpfr_greater_p(&x[base + k * inner], m))
                    mpfr_set(m, &x[base + k * inner], MPFR_RNDN);
            mpfr_set_zero(s, 1);
            for (int64_t k = 0; k < dim; k++) {
                mpfr_sub(t, &x[base + k * inner], m, MPFR_RNDN);
                mpfr_exp(t, t, MPFR_RNDN);
                if (!lg)
                    mpfr_set(&y[base + k * inner], t, MPFR_RNDN);
                mpfr_add(s, s, t, MPFR_RNDN);
            }
            if (lg)
                mpfr_log(s, s, MPFR_RNDN);
            for (int64_t k = 0; k < dim; k++) {
                mpfr_ptr yk = &y[base + k * inner];
                if (lg) {
                    mpfr_sub(t, &x[base + k * inner], m, MPFR_RNDN);
                    mpfr_sub(yk, t, s, MPFR_RNDN);
                } else {
                    mpfr_div(yk, yk, s, MPFR_RNDN);
                }
            }
        }
    mpfr_clears(m, s, t, (mpfr_ptr)NULL);
}

static void sm_mp_bwd(const __mpfr_struct *g, const __mpfr_struct *y, __mpfr_struct *gi, int64_t outer,
                      int64_t dim, int64_t inner, bool lg, mpfr_prec_t p)
{
    mpfr_t s, t;
    mpfr_inits2(p, s, t, (mpfr_ptr)NULL);
    for (int64_t a = 0; a < outer; a++)
        for (int64_t q = 0; q < inner; q++) {
            int64_t base = a * dim * inner + q;
            mpfr_set_zero(s, 1);
            for (int64_t k = 0; k < dim; k++) {
                int64_t i = base + k * inner;
                if (lg) {
                    mpfr_add(s, s, &g[i], MPFR_RNDN);
                } else {
                    mpfr_mul(t, &g[i], &y[i], MPFR_RNDN);
                    mpfr_add(s, s, t, MPFR_RNDN);
                }
            }
            for (int64_t k = 0; k < dim; k++) {
                int64_t i = base + k * inner;
                if (lg) {
                    mpfr_exp(t, &y[i], MPFR_RNDN);
                    mpfr_mul(t, t, s, MPFR_RNDN);
                    mpfr_sub(&gi[i], &g[i], t, MPFR_RNDN);
                } else {
                    mpfr_sub(t, &g[i], s, MPFR_RNDN);
                    mpfr_mul(&gi[i], t, &y[i], MPFR_RNDN);
                }
            }
        }
    mpfr_clears(s, t, (mpfr_ptr)NULL);
}

/* outer, dim, inner sizes of t around dim (a 0-d tensor is one element) */
static void split_dims(const SlTensor *t, int dim, int64_t *outer, int64_t *size, int64_t *inner)
{
    *outer = *inner = *size = 1;
    for (int d = 0; d < t->ndim; d++)
        *(d < dim ? outer : d == dim ? size : inner) *= t->shape[d];
}

/* softmax's and log_softmax's forward (g NULL) and backward over
 * contiguous floats of dims (outer, size, inner), as kernels */
typedef struct SoftmaxArgs {
    const void *x, *g; /* forward: x; backward: g and the saved result x */
    void *y;
    int64_t outer, size, inner;
    bool last, lg, f64, bwd;
} SoftmaxArgs;

static void softmax_kernel(const void *args)
{
    const SoftmaxArgs *a = args;
    double stack[512];
    void *buf = a->size < 511 ? (void *)stack : malloc((size_t)a->size * 8 + 8);
    if (!buf)
        abort();
    if (!a->bwd && !a->f64)
        sm_f32_fwd(a->x, a->y, a->outer, a->size, a->inner, a->last, a->lg, buf);
    else if (!a->bwd)
        sm_f64_fwd(a->x, a->y, a->outer, a->size, a->inner, a->last, a->lg, buf);
    else if (!a->f64)
        sm_f32_bwd(a->g, a->x, a->y, a->outer, a->size, a->inner, a->last, a->lg, buf);
    else
        sm_f64_bwd(a->g, a->x, a->y, a->outer, a->size, a->inner, a->last, a->lg, buf);
    if (buf != stack)
        free(buf);
}

/* softmax kernel on contiguous x of dims (outer, size, inner) into y */
static bool softmax_run(const SlTensor *xc, SlTensor *y, int dim, bool lg, SlError *err)
{
    int64_t outer, size, inner;
    split_dims(xc, dim, &outer, &size, &inner);
    /* torch takes its lastdim kernel only for the last dim itself, not
     * for a dim followed by size-1 dims */
    bool last = xc->ndim > 0 && dim == xc->ndim - 1;
    if (sl_tensor_numel(xc) == 0)
        return true;
    if (xc->dtype == SL_DT_MPFR) {
        sm_mp_fwd(MP(xc), MP(y), outer, size, inner, lg, y->storage->prec);
        return true;
    }
    (void)err;
    bool f64 = xc->dtype == SL_DT_F64;
    SoftmaxArgs a = {.x = f64 ? (const void *)DP(xc) : (const void *)FP(xc), .y = f64 ? (void *)DP(y) : (void *)FP(y),
                     .outer = outer, .size = size, .inner = inner, .last = last, .lg = lg, .f64 = f64};
    SlTensor *in = (SlTensor *)xc;
    sl_kernel(softmax_kernel, &a, sizeof a, &in, 1, &y, 1, NULL, 0);
    return true;
}

SlTensor *sl_ag_softmax(SlTensor *x, int dim, bool log, SlError *err)
{
    if (!sl_tensor_wrap_dim(&dim, x->ndim, err))
        return NULL;
    if (!sl_dtype_is_float(x->dtype))
        return sl_err(err, SL_E_TYPE, "\"%s\" not implemented for '%s'",
                      log ? "log_softmax_lastdim_kernel_impl" : "softmax_lastdim_kernel_impl", sl_dtype_word(x->dtype)),
               NULL;
    SlTensor *xc = contig(x);
    SlTensor *y = new_like(x, x->ndim, x->shape, err);
    if (!y || !softmax_run(xc, y, x->ndim ? dim : 0, log, err)) {
        sl_tensor_unref(xc);
        sl_tensor_unref(y);
        return NULL;
    }
    sl_tensor_unref(xc);
    SlNode *nd = sl_ag_record(log ? SL_N_LOG_SOFTMAX : SL_N_SOFTMAX, y, 1, &x);
    if (nd) {
        nd->ival = x->ndim ? dim : 0;
        sl_ag_save(nd, y);
    }
    return y;
}

static bool softmax_backward(SlNode *nd, SlTensor *g, SlTensor **r, SlError *err)
{
    SlTensor *y = nd->saved[0];
    bool lg = nd->kind == SL_N_LOG_SOFTMAX;
    int64_t outer, size, inner;
    split_dims(y, (int)nd->ival, &outer, &size, &inner);
    bool last = y->ndim > 0 && nd->ival == y->ndim - 1;
    SlTensor *gc = as_contig(g, y->dtype, prec_of(y)), *yc = contig(y);
    SlTensor *gi = new_like(y, y->ndim, y->shape, err);
    bool ok = gi != NULL;
    if (ok && sl_tensor_numel(y) > 0) {
        if (y->dtype == SL_DT_MPFR) {
            sm_mp_bwd(MP(gc), MP(yc), MP(gi), outer, size, inner, lg, gi->storage->prec);
        } else {
            bool f64 = y->dtype == SL_DT_F64;
            SoftmaxArgs a = {.x = f64 ? (const void *)DP(yc) : (const void *)FP(yc),
                             .g = f64 ? (const void *)DP(gc) : (const void *)FP(gc),
                             .y = f64 ? (void *)DP(gi) : (void *)FP(gi), .outer = outer, .size = size,
                             .inner = inner, .last = last, .lg = lg, .f64 = f64, .bwd = true};
            SlTensor *in[2] = {gc, yc};
            sl_kernel(softmax_kernel, &a, sizeof a, in, 2, &gi, 1, NULL, 0);
        }
    }
    sl_tensor_unref(gc);
    sl_tensor_unref(yc);
    if (!ok) {
        sl_tensor_unref(gi);
        return false;
    }
    r[0] = gi;
    return true;
}

/* ---------------------------------------------------------------------------
 * leaky_relu: x > 0 ? x : x * slope (slope rounded to the dtype first);
 * backward grad or grad * slope by the sign of the saved input.
 * ------------------------------------------------------------------------- */

/* leaky_relu's forward (b = a) and backward (b = the gradient) over
 * contiguous floats, as a kernel */
typedef struct LeakyArgs {
    const void *a, *b;
    void *r;
    int64_t n;
    double slope;
    bool f64;
} LeakyArgs;

static void leaky_kernel(const void *args)
{
    const LeakyArgs *k = args;
    if (!k->f64) {
        const float *a = k->a, *b = k->b;
        float s = (float)k->slope, *o = k->r;
        for (int64_t i = 0; i < k->n; i++)
            o[i] = a[i] > 0.0f ? b[i] : b[i] * s;
    } else {
        const double *a = k->a, *b = k->b;
        double *o = k->r;
        for (int64_t i = 0; i < k->n; i++)
            o[i] = a[i] > 0.0 ? b[i] : b[i] * k->slope;
    }
}

static SlTensor *leaky(const SlTensor *x, const SlTensor *g, double slope, SlError *err)
{
    /* g NULL: forward; else backward (grad where x > 0, grad * slope elsewhere) */
    SlTensor *xc = contig(x), *gc = g ? as_contig(g, x->dtype, prec_of(x)) : NULL;
    SlTensor *r = new_like(x, x->ndim, x->shape, err);
    int64_t n = sl_tensor_numel(x);
    if (r) {
        switch (x->dtype) {
        case SL_DT_F32:
        case SL_DT_F64: {
            bool f64 = x->dtype == SL_DT_F64;
            LeakyArgs k = {.a = f64 ? (const void *)DP(xc) : (const void *)FP(xc), .r = r->storage->data, .n = n,
                           .slope = slope, .f64 = f64};
            k.b = !gc ? k.a : f64 ? (const void *)DP(gc) : (const void *)FP(gc);
            SlTensor *in[2] = {xc, gc};
            sl_kernel(leaky_kernel, &k, sizeof k, in, gc ? 2 : 1, &r, 1, NULL, 0);
            break;
        }
        default: {
            const __mpfr_struct *a = MP(xc), *b = gc ? MP(gc) : a;
            __mpfr_struct *o = MP(r);
            mpfr_t s;
            mpfr_init2(s, r->storage->prec);
            mpfr_set_d(s, slope, MPFR_RNDN);
            for (int64_t i = 0; i < n; i++) {
                if (mpfr_sgn(&a[i]) > 0 && !mpfr_nan_p(&a[i]))
                    mpfr_set(&o[i], &b[i], MPFR_RNDN);
                else
                    mpfr_mul(&o[i], &b[i], s, MPFR_RNDN);
            }
            mpfr_clear(s);
            break;
        }
        }
    }
    sl_tensor_unref(xc);
    sl_tensor_unref(gc);
    return r;
}

SlTensor *sl_ag_leaky_relu(SlTensor *x, double slope, SlError *err)
{
    if (!need_float(x, "leaky_relu_cpu", err))
        return NULL;
    SlTensor *r = leaky(x, NULL, slope, err);
    SlNode *nd = sl_ag_record(SL_N_LEAKY_RELU, r, 1, &x);
    if (nd) {
        nd->scalar = slope;
        sl_ag_save(nd, x);
    }
    return r;
}

/* ---------------------------------------------------------------------------
 * Losses: reductions by torch's mean (sum, then / numel) and sum.
 * ------------------------------------------------------------------------- */

static SlTensor *reduce(SlTensor *loss, SlReduction red, SlError *err)
{
    uint32_t all = loss->ndim >= 32 ? ~0u : (uint32_t)((UINT64_C(1) << loss->ndim) - 1);
    if (red == SL_RED_MEAN)
        return sl_tensor_mean(loss, all, false, err);
    if (red == SL_RED_SUM)
        return sl_tensor_sum(loss, all, false, err);
    return sl_tensor_ref(loss);
}

/* input and target brought to one shape, as F.mse_loss / F.l1_loss do with
 * torch.broadcast_tensors (ExpandBackward0 only where a shape changes) */
static bool broadcast_pair(SlTensor *a, SlTensor *b, SlTensor **ea, SlTensor **eb, SlError *err)
{
    *ea = *eb = NULL;
    if (same_shape(a, b)) {
        *ea = sl_tensor_ref(a);
        *eb = sl_tensor_ref(b);
        return true;
    }
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!broadcast_shape(a, b, &nd, shape, err))
        return false;
    *ea = a->ndim == nd && !memcmp(a->shape, shape, (size_t)nd * sizeof *shape) ? sl_tensor_ref(a)
                                                                                 : sl_ag_expand(a, nd, shape, err);
    *eb = !*ea ? NULL
               : b->ndim == nd && !memcmp(b->shape, shape, (size_t)nd * sizeof *shape) ? sl_tensor_ref(b)
                                                                                         : sl_ag_expand(b, nd, shape, err);
    if (!*ea || !*eb) {
        sl_tensor_unref(*ea);
        sl_tensor_unref(*eb);
        *ea = *eb = NULL;
        return false;
    }
    return true;
}

/* r = (a - b)^2, or with grad: norm * (a - b) * g (g read with step gs) */
typedef struct MseArgs {
    const void *a, *b, *g;
    void *r;
    int64_t n, gs;
    double norm;
    bool f64, grad;
} MseArgs;

static void mse_kernel(const void *args)
{
    const MseArgs *k = args;
    int64_t n = k->n, gs = k->gs;
    if (!k->f64) {
        const float *a = k->a, *b = k->b, *g = k->g;
        float *r = k->r;
        if (k->grad) {
            float s = (float)k->norm;
            for (int64_t i = 0; i < n; i++)
                r[i] = s * (a[i] - b[i]) * g[i * gs];
        } else {
            for (int64_t i = 0; i < n; i++) {
                float d = a[i] - b[i];
                r[i] = d * d;
            }
        }
    } else {
        const double *a = k->a, *b = k->b, *g = k->g;
        double *r = k->r;
        if (k->grad) {
            for (int64_t i = 0; i < n; i++)
                r[i] = k->norm * (a[i] - b[i]) * g[i * gs];
        } else {
            for (int64_t i = 0; i < n; i++) {
                double d = a[i] - b[i];
                r[i] = d * d;
            }
        }
    }
}

/* mse_loss: (a - b) * (a - b), then the reduction */
static SlTensor *mse_elems(const SlTensor *a, const SlTensor *b, SlDTypeP rt, SlError *err)
{
    SlTensor *ac = as_contig(a, rt.dt, rt.prec), *bc = as_contig(b, rt.dt, rt.prec);
    SlTensor *r = sl_tensor_zeros(rt.dt, a->ndim, a->shape, rt.prec, err);
    int64_t n = sl_tensor_numel(a);
    if (r) {
        switch (rt.dt) {
        case SL_DT_F32:
        case SL_DT_F64: {
            bool f64 = rt.dt == SL_DT_F64;
            MseArgs k = {.n = n, .f64 = f64, .r = f64 ? (void *)DP(r) : (void *)FP(r)};
            k.a = f64 ? (const void *)DP(ac) : (const void *)FP(ac);
            k.b = f64 ? (const void *)DP(bc) : (const void *)FP(bc);
            SlTensor *in[2] = {ac, bc};
            sl_kernel(mse_kernel, &k, sizeof k, in, 2, &r, 1, NULL, 0);
            break;
        }
        default: {
            mpfr_t d;
            mpfr_init2(d, rt.prec);
            for (int64_t i = 0; i < n; i++) {
                mpfr_sub(d, &MP(ac)[i], &MP(bc)[i], MPFR_RNDN);
                mpfr_mul(&MP(r)[i], d, d, MPFR_RNDN);
            }
            mpfr_clear(d);
            break;
        }
        }
    }
    sl_tensor_unref(ac);
    sl_tensor_unref(bc);
    return r;
}

static bool float_pair(SlTensor *input, SlTensor *target, const char *what, SlDTypeP *rt, SlError *err)
{
    SlTensor *ts[2] = {input, target};
    *rt = sl_result_type(ts, 2);
    if (!sl_dtype_is_float(rt->dt))
        return sl_err(err, SL_E_TYPE, "\"%s\" not implemented for '%s'", what, sl_dtype_word(rt->dt));
    return true;
}

SlTensor *sl_ag_mse_loss(SlTensor *input, SlTensor *target, SlReduction red, SlError *err)
{
    SlDTypeP rt;
    if (!float_pair(input, target, "mse_cpu", &rt, err))
        return NULL;
    SlTensor *a, *b;
    if (!broadcast_pair(input, target, &a, &b, err))
        return NULL;
    SlTensor *el = mse_elems(a, b, rt, err);
    SlTensor *r = el ? reduce(el, red, err) : NULL;
    sl_tensor_unref(el);
    SlTensor *in[2] = {a, b};
    SlNode *nd = r ? sl_ag_record(SL_N_MSE_LOSS, r, 2, in) : NULL;
    if (nd) {
        nd->ival = red;
        sl_ag_save(nd, a);
        sl_ag_save(nd, b);
    }
    sl_tensor_unref(a);
    sl_tensor_unref(b);
    return r;
}

/* mse_loss_backward: (norm * (self - other)) * grad, norm = 2 / numel for
 * a mean (computed in double, then rounded to the dtype), else 2 */
static SlTensor *mse_grad(const SlTensor *self, const SlTensor *other, const SlTensor *g, SlReduction red,
                          SlDTypeP rt, SlError *err)
{
    int64_t n = sl_tensor_numel(self);
    SlTensor *sc = as_contig(self, rt.dt, rt.prec), *oc = as_contig(other, rt.dt, rt.prec);
    /* the gradient of a reduced loss is one number: read in place (step 0) */
    bool one = sl_tensor_numel(g) == 1 && g->dtype == rt.dt && prec_of(g) == rt.prec;
    int64_t gs = one ? 0 : 1;
    SlTensor *ge = one ? sl_tensor_ref((SlTensor *)g) : sl_tensor_expand(g, self->ndim, self->shape, err);
    SlTensor *gc = !ge ? NULL : one ? sl_tensor_ref(ge) : as_contig(ge, rt.dt, rt.prec);
    SlTensor *r = gc ? sl_tensor_zeros(rt.dt, self->ndim, self->shape, rt.prec, err) : NULL;
    double norm = red == SL_RED_MEAN ? 2.0 / (double)n : 2.0;
    if (r) {
        switch (rt.dt) {
        case SL_DT_F32:
        case SL_DT_F64: {
            bool f64 = rt.dt == SL_DT_F64;
            MseArgs k = {.n = n, .gs = gs, .norm = norm, .f64 = f64, .grad = true,
                         .r = f64 ? (void *)DP(r) : (void *)FP(r)};
            k.a = f64 ? (const void *)DP(sc) : (const void *)FP(sc);
            k.b = f64 ? (const void *)DP(oc) : (const void *)FP(oc);
            k.g = f64 ? (const void *)DP(gc) : (const void *)FP(gc);
            SlTensor *in[3] = {sc, oc, gc};
            sl_kernel(mse_kernel, &k, sizeof k, in, 3, &r, 1, NULL, 0);
            break;
        }
        default: {
            mpfr_t s, d;
            mpfr_inits2(rt.prec, s, d, (mpfr_ptr)NULL);
            mpfr_set_ui(s, 2, MPFR_RNDN);
            if (red == SL_RED_MEAN)
                mpfr_div_si(s, s, (long)n, MPFR_RNDN);
            for (int64_t i = 0; i < n; i++) {
                mpfr_sub(d, &MP(sc)[i], &MP(oc)[i], MPFR_RNDN);
                mpfr_mul(d, s, d, MPFR_RNDN);
                mpfr_mul(&MP(r)[i], d, &MP(gc)[i * gs], MPFR_RNDN);
            }
            mpfr_clears(s, d, (mpfr_ptr)NULL);
            break;
        }
        }
    }
    sl_tensor_unref(sc);
    sl_tensor_unref(oc);
    sl_tensor_unref(ge);
    sl_tensor_unref(gc);
    return r;
}

SlTensor *sl_ag_l1_loss(SlTensor *input, SlTensor *target, SlReduction red, SlError *err)
{
    SlDTypeP rt;
    if (!float_pair(input, target, "abs_cpu", &rt, err))
        return NULL;
    SlTensor *a, *b;
    if (!broadcast_pair(input, target, &a, &b, err))
        return NULL;
    SlTensor *d = sl_ag_binary(SL_T_SUB, a, b, err);
    SlTensor *ab = d ? sl_ag_unary(SL_FN_ABS, d, err) : NULL;
    SlTensor *r = NULL;
    if (ab)
        r = red == SL_RED_NONE ? sl_tensor_ref(ab)
            : red == SL_RED_MEAN ? sl_ag_mean(ab, 0, true, false, err)
                                 : sl_ag_sum(ab, 0, true, false, err);
    SlTensor *tmp[4] = {a, b, d, ab};
    unref_all(tmp, 4);
    return r;
}

/* binary_cross_entropy: (t - 1) * max(log(1 - x), -100) - t * max(log(x), -100)
 * with glibc's logf (torch's scalar cpu_kernel), times the weight */
/* binary_cross_entropy's elements (x checked in [0, 1] at every run: a
 * replay's may have changed) and the input's gradient, over contiguous
 * floats, as kernels; the same operations in the same order as the loops
 * they stand for */
typedef struct BceArgs {
    const void *x, *t, *w, *g;
    void *o;
    int64_t n;
    bool f64, bwd, mean;
} BceArgs;

#define BCE_KERNEL(T, NAME, LOG, EPS)                                                                          \
    static void NAME(const BceArgs *k)                                                                         \
    {                                                                                                          \
        const T *x = k->x, *t = k->t, *w = k->w, *g = k->g;                                                    \
        T *o = k->o;                                                                                           \
        int64_t n = k->n;                                                                                      \
        if (!k->bwd) {                                                                                         \
            for (int64_t i = 0; i < n; i++) {                                                                  \
                if (!(x[i] >= 0 && x[i] <= 1)) {                                                               \
                    sl_kernel_fail(SL_E_VALUE, "all elements of input should be between 0 and 1");             \
                    return;                                                                                    \
                }                                                                                              \
                T l1 = LOG((T)1 - x[i]), l0 = LOG(x[i]);                                                       \
                l1 = l1 < (T)-100 ? (T)-100 : l1;                                                              \
                l0 = l0 < (T)-100 ? (T)-100 : l0;                                                              \
                o[i] = (t[i] - (T)1) * l1 - t[i] * l0;                                                         \
                if (w)                                                                                         \
                    o[i] = o[i] * w[i];                                                                        \
            }                                                                                                  \
            return;                                                                                            \
        }                                                                                                      \
        for (int64_t i = 0; i < n; i++) {                                                                      \
            T d = ((T)1 - x[i]) * x[i];                                                                        \
            d = d < (T)(EPS) ? (T)(EPS) : d;                                                                   \
            o[i] = g[i] * (x[i] - t[i]) / d;                                                                   \
        }                                                                                                      \
        for (int64_t i = 0; w && i < n; i++)                                                                   \
            o[i] = o[i] * w[i];                                                                                \
        for (int64_t i = 0; k->mean && i < n; i++)                                                             \
            o[i] = o[i] / (T)n;                                                                                \
    }
BCE_KERNEL(float, bce_f32, logf, 1e-12f)
BCE_KERNEL(double, bce_f64, log, (double)1e-12f)
#undef BCE_KERNEL

static void bce_kernel(const void *args)
{
    const BceArgs *k = args;
    if (k->f64)
        bce_f64(k);
    else
        bce_f32(k);
}

SlTensor *sl_ag_bce_loss(SlTensor *input, SlTensor *target, SlTensor *weight, SlReduction red, SlError *err)
{
    if (!same_shape(input, target)) {
        char a[16 * SL_TENSOR_MAXDIM], b[16 * SL_TENSOR_MAXDIM];
        sl_sizes_str(a, sizeof a, target->ndim, target->shape);
        sl_sizes_str(b, sizeof b, input->ndim, input->shape);
        return sl_err(err, SL_E_VALUE,
                      "Using a target size (torch.Size(%s)) that is different to the input size (torch.Size(%s)) "
                      "is deprecated. Please ensure they have the same size.",
                      a, b),
               NULL;
    }
    if (!need_float(input, "binary_cross_entropy", err))
        return NULL;
    if (target->dtype != input->dtype)
        return sl_err(err, SL_E_TYPE, "Found dtype %s but expected %s", sl_dtype_word(target->dtype),
                      sl_dtype_word(input->dtype)),
               NULL;
    SlTensor *we = NULL;
    if (weight) {
        int nd;
        int64_t shape[SL_TENSOR_MAXDIM];
        if (!broadcast_shape(target, weight, &nd, shape, err))
            return NULL;
        we = sl_tensor_expand(weight, input->ndim, input->shape, err);
        if (!we)
            return NULL;
        if (we->dtype != input->dtype) {
            SlTensor *t = sl_tensor_to(we, input->dtype, prec_of(input));
            sl_tensor_unref(we);
            we = t;
        }
    }
    mpfr_prec_t p = prec_of(input);
    SlTensor *xc = contig(input), *tc = as_contig(target, input->dtype, p), *wc = we ? contig(we) : NULL;
    int64_t n = sl_tensor_numel(input);
    SlTensor *el = new_like(input, input->ndim, input->shape, err);
    bool ok = el != NULL;
    if (ok && (input->dtype == SL_DT_F32 || input->dtype == SL_DT_F64)) {
        bool f64 = input->dtype == SL_DT_F64;
        BceArgs k = {.x = f64 ? (const void *)DP(xc) : (const void *)FP(xc),
                     .t = f64 ? (const void *)DP(tc) : (const void *)FP(tc),
                     .w = !wc ? NULL : f64 ? (const void *)DP(wc) : (const void *)FP(wc), .o = el->storage->data,
                     .n = n, .f64 = f64};
        SlTensor *in[3] = {xc, tc, wc};
        sl_kernel(bce_kernel, &k, sizeof k, in, 3, &el, 1, NULL, 0);
        ok = !sl_kernel_error(err);
        n = 0; /* done: the loop below is mpfr's */
    }
    for (int64_t i = 0; ok && i < n; i++) {
        switch (input->dtype) {
        case SL_DT_F32: {
            float x = FP(xc)[i], t = FP(tc)[i];
            if (!(x >= 0 && x <= 1)) {
                ok = false;
                break;
            }
            float l1 = logf(1.0f - x), l0 = logf(x);
            l1 = l1 < -100.0f ? -100.0f : l1;
            l0 = l0 < -100.0f ? -100.0f : l0;
            FP(el)[i] = (t - 1.0f) * l1 - t * l0;
            if (wc)
                FP(el)[i] = FP(el)[i] * FP(wc)[i];
            break;
        }
        case SL_DT_F64: {
            double x = DP(xc)[i], t = DP(tc)[i];
            if (!(x >= 0 && x <= 1)) {
                ok = false;
                break;
            }
            double l1 = log(1.0 - x), l0 = log(x);
            l1 = l1 < -100.0 ? -100.0 : l1;
            l0 = l0 < -100.0 ? -100.0 : l0;
            DP(el)[i] = (t - 1.0) * l1 - t * l0;
            if (wc)
                DP(el)[i] = DP(el)[i] * DP(wc)[i];
            break;
        }
        default: {
            mpfr_srcptr x = &MP(xc)[i], t = &MP(tc)[i];
            if (!(mpfr_cmp_ui(x, 0) >= 0 && mpfr_cmp_ui(x, 1) <= 0) || mpfr_nan_p(x)) {
                ok = false;
                break;
            }
            mpfr_t l1, l0, a;
            mpfr_inits2(p, l1, l0, a, (mpfr_ptr)NULL);
            mpfr_ui_sub(l1, 1, x, MPFR_RNDN);
            mpfr_log(l1, l1, MPFR_RNDN);
            if (mpfr_cmp_si(l1, -100) < 0)
                mpfr_set_si(l1, -100, MPFR_RNDN);
            mpfr_log(l0, x, MPFR_RNDN);
            if (mpfr_cmp_si(l0, -100) < 0)
                mpfr_set_si(l0, -100, MPFR_RNDN);
            mpfr_sub_ui(a, t, 1, MPFR_RNDN);
            mpfr_mul(a, a, l1, MPFR_RNDN);
            mpfr_mul(l0, t, l0, MPFR_RNDN);
            mpfr_sub(&MP(el)[i], a, l0, MPFR_RNDN);
            if (wc)
                mpfr_mul(&MP(el)[i], &MP(el)[i], &MP(wc)[i], MPFR_RNDN);
            mpfr_clears(l1, l0, a, (mpfr_ptr)NULL);
            break;
        }
        }
        if (!ok)
            sl_err(err, SL_E_VALUE, "all elements of input should be between 0 and 1");
    }
    SlTensor *r = ok ? reduce(el, red, err) : NULL;
    SlTensor *in[2] = {input, target};
    SlNode *nd = r ? sl_ag_record(SL_N_BCE_LOSS, r, 2, in) : NULL;
    if (nd) {
        nd->ival = red;
        sl_ag_save(nd, input);
        sl_ag_save(nd, target);
        if (we)
            sl_ag_save(nd, we);
    }
    SlTensor *tmp[5] = {xc, tc, wc, we, el};
    unref_all(tmp, 5);
    return r;
}

/* binary_cross_entropy_backward: grad * (x - t) / max((1 - x) * x, 1e-12f),
 * times the weight, / numel for a mean.  The target's gradient:
 * (log(1 - x) - log(x)) * grad (Sleef logs, torch's log_), same scaling. */
static bool bce_backward(SlNode *nd, SlTensor *g, SlTensor **r, SlError *err)
{
    SlTensor *x = nd->saved[0], *t = nd->saved[1], *w = nd->nsaved > 2 ? nd->saved[2] : NULL;
    SlDType dt = x->dtype;
    mpfr_prec_t p = prec_of(x);
    int64_t n = sl_tensor_numel(x);
    bool mean = nd->ival == SL_RED_MEAN;
    SlTensor *ge = sl_tensor_expand(g, x->ndim, x->shape, err);
    if (!ge)
        return false;
    SlTensor *gc = as_contig(ge, dt, p), *xc = contig(x), *tc = contig(t), *wc = w ? contig(w) : NULL;
    sl_tensor_unref(ge);
    for (int which = 0; which < 2; which++) {
        if (!nd->next[which])
            continue;
        SlTensor *o = new_like(x, x->ndim, x->shape, err);
        if (!o)
            break;
        if (which == 0 && (dt == SL_DT_F32 || dt == SL_DT_F64)) {
            bool f64 = dt == SL_DT_F64;
            BceArgs k = {.x = f64 ? (const void *)DP(xc) : (const void *)FP(xc),
                         .t = f64 ? (const void *)DP(tc) : (const void *)FP(tc),
                         .g = f64 ? (const void *)DP(gc) : (const void *)FP(gc),
                         .w = !wc ? NULL : f64 ? (const void *)DP(wc) : (const void *)FP(wc), .o = o->storage->data,
                         .n = n, .f64 = f64, .bwd = true, .mean = mean};
            SlTensor *in[4] = {xc, tc, gc, wc};
            sl_kernel(bce_kernel, &k, sizeof k, in, 4, &o, 1, NULL, 0);
            r[which] = o;
            continue;
        }
        if (dt == SL_DT_F32) {
            const float *xa = FP(xc), *ta = FP(tc), *ga = FP(gc), *wa = wc ? FP(wc) : NULL;
            float *oa = FP(o);
            if (which == 0) {
                for (int64_t i = 0; i < n; i++) {
                    float d = (1.0f - xa[i]) * xa[i];
                    d = d < 1e-12f ? 1e-12f : d;
                    oa[i] = ga[i] * (xa[i] - ta[i]) / d;
                }
            } else {
                for (int64_t i = 0; i < n; i++)
                    oa[i] = 1.0f - xa[i];
                sl_vm_f32(SL_FN_LOG, oa, oa, n);
                float *lx = malloc((size_t)(n ? n : 1) * sizeof *lx);
                if (!lx)
                    abort();
                sl_vm_f32(SL_FN_LOG, lx, xa, n);
                for (int64_t i = 0; i < n; i++)
                    oa[i] = (oa[i] - lx[i]) * ga[i];
                free(lx);
            }
            for (int64_t i = 0; wa && i < n; i++)
                oa[i] = oa[i] * wa[i];
            for (int64_t i = 0; mean && i < n; i++)
                oa[i] = oa[i] / (float)n;
        } else if (dt == SL_DT_F64) {
            const double *xa = DP(xc), *ta = DP(tc), *ga = DP(gc), *wa = wc ? DP(wc) : NULL;
            double *oa = DP(o);
            if (which == 0) {
                for (int64_t i = 0; i < n; i++) {
                    /* torch's EPSILON is a float constant */
                    double d = (1.0 - xa[i]) * xa[i];
                    d = d < (double)1e-12f ? (double)1e-12f : d;
                    oa[i] = ga[i] * (xa[i] - ta[i]) / d;
                }
            } else {
                for (int64_t i = 0; i < n; i++)
                    oa[i] = 1.0 - xa[i];
                sl_vm_f64(SL_FN_LOG, oa, oa, n);
                for (int64_t i = 0; i < n; i++)
                    oa[i] = (oa[i] - sl_vm_f64_1(SL_FN_LOG, xa[i])) * ga[i];
            }
            for (int64_t i = 0; wa && i < n; i++)
                oa[i] = oa[i] * wa[i];
            for (int64_t i = 0; mean && i < n; i++)
                oa[i] = oa[i] / (double)n;
        } else {
            mpfr_t d, e;
            mpfr_inits2(p, d, e, (mpfr_ptr)NULL);
            for (int64_t i = 0; i < n; i++) {
                mpfr_srcptr xi = &MP(xc)[i];
                mpfr_ptr oi = &MP(o)[i];
                if (which == 0) {
                    mpfr_ui_sub(d, 1, xi, MPFR_RNDN);
                    mpfr_mul(d, d, xi, MPFR_RNDN);
                    mpfr_set_d(e, (double)1e-12f, MPFR_RNDN);
                    if (mpfr_less_p(d, e))
                        mpfr_set(d, e, MPFR_RNDN);
                    mpfr_sub(e, xi, &MP(tc)[i], MPFR_RNDN);
                    mpfr_mul(e, &MP(gc)[i], e, MPFR_RNDN);
                    mpfr_div(oi, e, d, MPFR_RNDN);
                } else {
                    mpfr_ui_sub(d, 1, xi, MPFR_RNDN);
                    mpfr_log(d, d, MPFR_RNDN);
                    mpfr_log(e, xi, MPFR_RNDN);
                    mpfr_sub(d, d, e, MPFR_RNDN);
                    mpfr_mul(oi, d, &MP(gc)[i], MPFR_RNDN);
                }
                if (wc)
                    mpfr_mul(oi, oi, &MP(wc)[i], MPFR_RNDN);
                if (mean)
                    mpfr_div_si(oi, oi, (long)n, MPFR_RNDN);
            }
            mpfr_clears(d, e, (mpfr_ptr)NULL);
        }
        r[which] = o;
    }
    SlTensor *tmp[4] = {gc, xc, tc, wc};
    unref_all(tmp, 4);
    for (int which = 0; which < 2; which++)
        if (nd->next[which] && !r[which])
            return false;
    return true;
}

/* ---------------------------------------------------------------------------
 * nll_loss (aten/src/ATen/native/LossNLL.cpp): a reduction sums -input[b,
 * target[b]] * weight through an 8-level cascade of partial sums; the mean
 * divides by the total weight (the count of targets without a weight).
 * ------------------------------------------------------------------------- */

static int64_t ceil_log2(int64_t x)
{
    int64_t r = 0;
    while (((int64_t)1 << r) < x)
        r++;
    return r;
}

#define DEFINE_NLL(T, NAME)                                                                                    \
    static void NAME(const T *in, const int64_t *tg, const T *w, int64_t batch, int64_t ncls, int64_t ignore,  \
                     bool mean, T *out, T *total)                                                              \
    {                                                                                                          \
        enum { LEVELS = 8 };                                                                                   \
        int64_t power = ceil_log2(batch) / LEVELS;                                                             \
        power = power < 4 ? 4 : power;                                                                         \
        int64_t mask = ((int64_t)1 << power) - 1, ignored = 0;                                                 \
        T wsum[LEVELS] = {0}, lsum[LEVELS] = {0};                                                              \
        for (int64_t b = 0; b < batch; b++) {                                                                  \
            int64_t t = tg[b];                                                                                 \
            if (t == ignore) {                                                                                 \
                ignored++;                                                                                     \
                continue;                                                                                      \
            }                                                                                                  \
            T data = in[b * ncls + t];                                                                         \
            if (w) {                                                                                           \
                lsum[0] -= data * w[t];                                                                        \
                wsum[0] += w[t];                                                                               \
            } else {                                                                                           \
                lsum[0] -= data;                                                                               \
            }                                                                                                  \
            for (int j = 0; j + 1 < LEVELS; j++) {                                                             \
                if ((b & (mask << (j * power))) != 0)                                                          \
                    break;                                                                                     \
                wsum[j + 1] += wsum[j];                                                                        \
                lsum[j + 1] += lsum[j];                                                                        \
                wsum[j] = 0;                                                                                   \
                lsum[j] = 0;                                                                                   \
            }                                                                                                  \
        }                                                                                                      \
        T tw = 0, o = 0;                                                                                       \
        if (!w)                                                                                                \
            tw = (T)(batch - ignored);                                                                         \
        else                                                                                                   \
            for (int j = 0; j < LEVELS; j++)                                                                   \
                tw = tw + wsum[j];                                                                             \
        for (int j = 0; j < LEVELS; j++)                                                                       \
            o = o + lsum[j];                                                                                   \
        if (mean)                                                                                              \
            o /= tw;                                                                                           \
        *out = o;                                                                                              \
        *total = tw;                                                                                           \
    }

DEFINE_NLL(float, nll_f32)
DEFINE_NLL(double, nll_f64)

static void nll_mp(const __mpfr_struct *in, const int64_t *tg, const __mpfr_struct *w, int64_t batch, int64_t ncls,
                   int64_t ignore, bool mean, mpfr_ptr out, mpfr_ptr total)
{
    mpfr_t q;
    mpfr_init2(q, mpfr_get_prec(out));
    mpfr_set_zero(out, 1);
    mpfr_set_zero(total, 1);
    for (int64_t b = 0; b < batch; b++) {
        int64_t t = tg[b];
        if (t == ignore)
            continue;
        if (w) {
            mpfr_mul(q, &in[b * ncls + t], &w[t], MPFR_RNDN);
            mpfr_sub(out, out, q, MPFR_RNDN);
            mpfr_add(total, total, &w[t], MPFR_RNDN);
        } else {
            mpfr_sub(out, out, &in[b * ncls + t], MPFR_RNDN);
            mpfr_add_ui(total, total, 1, MPFR_RNDN);
        }
    }
    if (mean)
        mpfr_div(out, out, total, MPFR_RNDN);
    mpfr_clear(q);
}

/* nll_loss's forward (total: the weights' sum) and backward (into gi,
 * zeros but at the targets) over contiguous floats, as kernels.  The
 * targets are checked again at each run: a replay's may have changed. */
typedef struct NllArgs {
    const void *in, *w, *g, *total_in; /* forward: in; backward: g and the forward's total */
    const int64_t *tg;
    void *r, *total;                   /* forward: the loss (or losses) and total; backward: gi in r */
    int64_t batch, ncls, ignore;
    SlReduction red;
    bool none, f64, bwd;
} NllArgs;

static bool nll_targets_ok(const NllArgs *a)
{
    for (int64_t b = 0; b < a->batch; b++) {
        int64_t t = a->tg[b];
        if (t != a->ignore && (t < 0 || t >= a->ncls)) {
            sl_kernel_fail(SL_E_VALUE, "Target %lld is out of bounds.", (long long)t);
            return false;
        }
    }
    return true;
}

#define NLL_KERNEL(T, NAME, FWD)                                                                               \
    static void NAME(const NllArgs *a)                                                                         \
    {                                                                                                          \
        const T *w = a->w;                                                                                     \
        T *r = a->r;                                                                                           \
        if (!a->bwd && !a->none) {                                                                             \
            FWD(a->in, a->tg, w, a->batch, a->ncls, a->ignore, a->red == SL_RED_MEAN, r, a->total);            \
            return;                                                                                            \
        }                                                                                                      \
        if (a->bwd)                                                                                            \
            memset(r, 0, (size_t)(a->batch * a->ncls) * sizeof(T));                                            \
        for (int64_t b = 0; b < a->batch; b++) {                                                               \
            int64_t t = a->tg[b];                                                                              \
            if (!a->bwd) {                                                                                     \
                const T *in = a->in;                                                                           \
                r[b] = t == a->ignore ? (T)0 : -in[b * a->ncls + t] * (w ? w[t] : (T)1);                       \
                continue;                                                                                      \
            }                                                                                                  \
            if (t == a->ignore)                                                                                \
                continue;                                                                                      \
            const T *g = a->g, *total = a->total_in;                                                           \
            int64_t k = b * a->ncls + t;                                                                       \
            T wt = w ? w[t] : (T)1;                                                                            \
            if (a->none) {                                                                                     \
                r[k] = -wt * g[b];                                                                             \
            } else {                                                                                           \
                T gr = -(a->red == SL_RED_MEAN ? g[0] / total[0] : g[0]);                                      \
                r[k] = w ? wt * gr : gr;                                                                       \
            }                                                                                                  \
        }                                                                                                      \
    }
NLL_KERNEL(float, nll_run_f32, nll_f32)
NLL_KERNEL(double, nll_run_f64, nll_f64)

static void nll_kernel(const void *args)
{
    const NllArgs *a = args;
    if (!nll_targets_ok(a))
        return;
    if (a->f64)
        nll_run_f64(a);
    else
        nll_run_f32(a);
}

SlTensor *sl_ag_nll_loss(SlTensor *input, SlTensor *target, SlTensor *weight, SlReduction red,
                         int64_t ignore_index, SlError *err)
{
    char si[16 * SL_TENSOR_MAXDIM], st[16 * SL_TENSOR_MAXDIM];
    /* nll_loss_nd's checks, then nll_loss_forward's */
    if (input->ndim < 1)
        return sl_err(err, SL_E_VALUE, "Expected 1 or more dimensions (got %d)", input->ndim), NULL;
    if (input->ndim != 1 && target->ndim > 0 && input->shape[0] != target->shape[0])
        return sl_err(err, SL_E_VALUE, "Expected input batch_size (%lld) to match target batch_size (%lld).",
                      (long long)input->shape[0], (long long)target->shape[0]),
               NULL;
    if (input->ndim > 2)
        return sl_err(err, SL_E_VALUE, "input tensor should be 1D or 2D"), NULL;
    if (target->ndim > 1)
        return sl_err(err, SL_E_VALUE, "0D or 1D target tensor expected, multi-target not supported"), NULL;
    bool no_batch = input->ndim == 1 && target->ndim == 0;
    if (!no_batch && (target->ndim == 0 || input->shape[0] != target->shape[0])) {
        sl_sizes_str(si, sizeof si, input->ndim, input->shape);
        sl_sizes_str(st, sizeof st, target->ndim, target->shape);
        return sl_err(err, SL_E_VALUE, "size mismatch (got input: %s, target: %s)", si, st), NULL;
    }
    int64_t ncls = input->shape[input->ndim - 1];
    if (weight && (weight->ndim != 1 || weight->shape[0] != ncls)) {
        char sw[16 * SL_TENSOR_MAXDIM];
        sl_sizes_str(sw, sizeof sw, weight->ndim, weight->shape);
        return sl_err(err, SL_E_VALUE,
                      "weight tensor should be defined either for all %lld classes or no classes but got weight "
                      "tensor of shape: %s",
                      (long long)ncls, sw),
               NULL;
    }
    if (!need_float(input, "nll_loss_out_frame", err))
        return NULL;
    if (target->dtype != SL_DT_I64)
        return sl_err(err, SL_E_TYPE, "expected scalar type Long but found %s", sl_dtype_word(target->dtype)), NULL;
    if (weight && weight->dtype != input->dtype)
        return sl_err(err, SL_E_TYPE, "expected scalar type %s but found %s", sl_dtype_word(input->dtype),
                      sl_dtype_word(weight->dtype)),
               NULL;
    int64_t batch = input->ndim == 1 ? 1 : input->shape[0];
    SlTensor *tc = contig(target);
    for (int64_t b = 0; b < batch; b++) {
        int64_t t = IP(tc)[b];
        if (t != ignore_index && (t < 0 || t >= ncls)) {
            sl_tensor_unref(tc);
            return sl_err(err, SL_E_TENSOR_INDEX, "Target %lld is out of bounds.", (long long)t), NULL;
        }
    }
    mpfr_prec_t p = prec_of(input);
    SlTensor *xc = contig(input), *wc = weight ? contig(weight) : NULL;
    SlTensor *r, *total = sl_tensor_zeros(input->dtype, 0, NULL, p, err);
    bool fl = input->dtype == SL_DT_F32 || input->dtype == SL_DT_F64;
    if (fl && batch > 0 && total) {
        bool none = red == SL_RED_NONE && input->ndim == 2;
        r = none ? new_like(input, 1, &batch, err) : sl_tensor_zeros(input->dtype, 0, NULL, p, err);
        if (r) {
            NllArgs a = {.in = input->dtype == SL_DT_F64 ? (const void *)DP(xc) : (const void *)FP(xc),
                         .w = !wc ? NULL : input->dtype == SL_DT_F64 ? (const void *)DP(wc) : (const void *)FP(wc),
                         .tg = IP(tc), .r = r->storage->data, .total = total->storage->data, .batch = batch,
                         .ncls = ncls, .ignore = ignore_index, .red = red, .none = none,
                         .f64 = input->dtype == SL_DT_F64};
            SlTensor *in[3] = {xc, tc, wc}, *out[2] = {r, total};
            if (none)
                sl_capture_const(total); /* stays zero */
            sl_kernel(nll_kernel, &a, sizeof a, in, 3, out, none ? 1 : 2, NULL, 0);
            if (sl_kernel_error(err)) {
                sl_tensor_unref(r);
                r = NULL;
            }
        }
    } else if (red == SL_RED_NONE && input->ndim == 2) {
        r = new_like(input, 1, &batch, err);
        for (int64_t b = 0; r && b < batch; b++) {
            int64_t t = IP(tc)[b];
            if (t == ignore_index)
                continue;
            switch (input->dtype) {
            case SL_DT_F32: FP(r)[b] = -FP(xc)[b * ncls + t] * (wc ? FP(wc)[t] : 1.0f); break;
            case SL_DT_F64: DP(r)[b] = -DP(xc)[b * ncls + t] * (wc ? DP(wc)[t] : 1.0); break;
            default:
                mpfr_neg(&MP(r)[b], &MP(xc)[b * ncls + t], MPFR_RNDN);
                if (wc)
                    mpfr_mul(&MP(r)[b], &MP(r)[b], &MP(wc)[t], MPFR_RNDN);
                break;
            }
        }
    } else {
        r = sl_tensor_zeros(input->dtype, 0, NULL, p, err);
        bool mean = red == SL_RED_MEAN;
        if (batch == 0) {
            if (mean)
                sl_tensor_fill_d(r, NAN);
        } else if (input->dtype == SL_DT_F32) {
            nll_f32(FP(xc), IP(tc), wc ? FP(wc) : NULL, batch, ncls, ignore_index, mean, FP(r), FP(total));
        } else if (input->dtype == SL_DT_F64) {
            nll_f64(DP(xc), IP(tc), wc ? DP(wc) : NULL, batch, ncls, ignore_index, mean, DP(r), DP(total));
        } else {
            nll_mp(MP(xc), IP(tc), wc ? MP(wc) : NULL, batch, ncls, ignore_index, mean, MP(r), MP(total));
        }
    }
    SlNode *nd = r ? sl_ag_record(SL_N_NLL_LOSS, r, 1, &input) : NULL;
    if (nd) {
        nd->ival = red;
        nd->ival2 = ignore_index;
        sl_ag_save(nd, target);
        sl_ag_save(nd, total);
        if (weight)
            sl_ag_save(nd, weight);
    }
    SlTensor *tmp[4] = {tc, xc, wc, total};
    unref_all(tmp, 4);
    return r;
}

/* nll_loss_backward: zeros, and at each kept target -w * grad (none) or
 * w * -(grad / total_weight) (mean) or w * -grad (sum) */
static bool nll_backward(SlNode *nd, SlTensor *g, SlTensor **r, SlError *err)
{
    SlTensor *target = nd->saved[0], *total = nd->saved[1], *w = nd->nsaved > 2 ? nd->saved[2] : NULL;
    int ndim = nd->in_ndim[0];
    const int64_t *shape = nd->in_shape[0];
    SlDType dt = g->dtype;
    mpfr_prec_t p = prec_of(g);
    SlReduction red = (SlReduction)nd->ival;
    int64_t ignore = nd->ival2, ncls = shape[ndim - 1], batch = ndim == 1 ? 1 : shape[0];
    SlTensor *gi = sl_tensor_zeros(dt, ndim, shape, p, err);
    if (!gi)
        return false;
    SlTensor *gc = contig(g), *tc = contig(target), *wc = w ? contig(w) : NULL;
    bool none = red == SL_RED_NONE && ndim == 2;
    if ((dt == SL_DT_F32 || dt == SL_DT_F64) && gc->dtype == dt && total->dtype == dt && (!wc || wc->dtype == dt)) {
        bool f64 = dt == SL_DT_F64;
        NllArgs a = {.g = f64 ? (const void *)DP(gc) : (const void *)FP(gc),
                     .total_in = f64 ? (const void *)DP(total) : (const void *)FP(total),
                     .w = !wc ? NULL : f64 ? (const void *)DP(wc) : (const void *)FP(wc), .tg = IP(tc),
                     .r = gi->storage->data, .batch = batch, .ncls = ncls, .ignore = ignore, .red = red,
                     .none = none, .f64 = f64, .bwd = true};
        SlTensor *in[4] = {gc, tc, wc, total};
        sl_kernel(nll_kernel, &a, sizeof a, in, 4, &gi, 1, NULL, 0);
        SlTensor *tmp[3] = {gc, tc, wc};
        unref_all(tmp, 3);
        if (sl_kernel_error(err)) { /* a target changed since the forward (through .data) */
            sl_tensor_unref(gi);
            return false;
        }
        r[0] = gi;
        return true;
    }
    mpfr_t q;
    if (dt == SL_DT_MPFR)
        mpfr_init2(q, p);
    for (int64_t b = 0; b < batch; b++) {
        int64_t t = IP(tc)[b];
        if (t == ignore)
            continue;
        int64_t k = b * ncls + t;
        switch (dt) {
        case SL_DT_F32: {
            float wt = wc ? FP(wc)[t] : 1.0f;
            if (none) {
                FP(gi)[k] = -wt * FP(gc)[b];
            } else {
                float gr = -(red == SL_RED_MEAN ? FP(gc)[0] / FP(total)[0] : FP(gc)[0]);
                FP(gi)[k] = wc ? wt * gr : gr;
            }
            break;
        }
        case SL_DT_F64: {
            double wt = wc ? DP(wc)[t] : 1.0;
            if (none) {
                DP(gi)[k] = -wt * DP(gc)[b];
            } else {
                double gr = -(red == SL_RED_MEAN ? DP(gc)[0] / DP(total)[0] : DP(gc)[0]);
                DP(gi)[k] = wc ? wt * gr : gr;
            }
            break;
        }
        default:
            if (none) {
                mpfr_neg(&MP(gi)[k], &MP(gc)[b], MPFR_RNDN);
            } else {
                if (red == SL_RED_MEAN)
                    mpfr_div(q, &MP(gc)[0], &MP(total)[0], MPFR_RNDN);
                else
                    mpfr_set(q, &MP(gc)[0], MPFR_RNDN);
                mpfr_neg(&MP(gi)[k], q, MPFR_RNDN);
            }
            if (wc)
                mpfr_mul(&MP(gi)[k], &MP(gi)[k], &MP(wc)[t], MPFR_RNDN);
            break;
        }
    }
    if (dt == SL_DT_MPFR)
        mpfr_clear(q);
    SlTensor *tmp[3] = {gc, tc, wc};
    unref_all(tmp, 3);
    r[0] = gi;
    return true;
}

/* tensor / int (torch's div.Scalar: DivBackward1, grad / k) */
static SlTensor *div_scalar(SlTensor *t, int64_t k, SlError *err)
{
    SlTensor *ks = sl_tensor_scalar_i(SL_DT_I64, k, 0);
    ks->wrapped = true;
    SlTensor *r = sl_tensor_binary(SL_T_DIV, t, ks, err);
    sl_tensor_unref(ks);
    SlNode *nd = r ? sl_ag_record(SL_N_DIV_SCALAR, r, 1, &t) : NULL;
    if (nd)
        nd->ival = k;
    return r;
}

/* cross_entropy: class indices go through nll_loss(log_softmax(input, 1));
 * a float target of input's shape holds probabilities:
 * -(log_softmax * target [* weight]).sum() / (numel / C) for a mean. */
SlTensor *sl_ag_cross_entropy(SlTensor *input, SlTensor *target, SlTensor *weight, SlReduction red,
                              int64_t ignore_index, SlError *err)
{
    int cdim = input->ndim == 1 ? 0 : 1;
    bool probs = same_shape(input, target);
    if (probs) {
        if (!sl_dtype_is_float(target->dtype))
            return sl_err(err, SL_E_TYPE, "Expected floating point type for target with class probabilities, got %s",
                          sl_dtype_word(target->dtype)),
                   NULL;
        if (ignore_index >= 0)
            return sl_err(err, SL_E_VALUE, "ignore_index is not supported for floating point target"), NULL;
        if (input->ndim == 0)
            return sl_err(err, SL_E_VALUE, "Expected 1 or more dimensions (got 0)"), NULL;
        int64_t ncls = input->shape[cdim];
        if (weight && (weight->ndim != 1 || weight->shape[0] != ncls)) {
            char sw[16 * SL_TENSOR_MAXDIM];
            sl_sizes_str(sw, sizeof sw, weight->ndim, weight->shape);
            return sl_err(err, SL_E_VALUE,
                          "cross_entropy: weight tensor should be defined either for all %lld classes or no classes "
                          "but got weight tensor of shape: %s",
                          (long long)ncls, sw),
                   NULL;
        }
    }
    if (input->ndim == 0)
        return sl_err(err, SL_E_VALUE, "Expected 1 or more dimensions (got 0)"), NULL;
    SlTensor *ls = sl_ag_softmax(input, cdim, true, err);
    if (!ls)
        return NULL;
    if (!probs) {
        SlTensor *r = sl_ag_nll_loss(ls, target, weight, red, ignore_index, err);
        sl_tensor_unref(ls);
        return r;
    }
    SlTensor *t[6] = {ls, NULL, NULL, NULL, NULL, NULL};
    SlTensor *prod = t[1] = sl_ag_binary(SL_T_MUL, ls, target, err);
    if (prod && weight) {
        int64_t shape[SL_TENSOR_MAXDIM];
        for (int d = 0; d < input->ndim; d++)
            shape[d] = d == cdim ? weight->shape[0] : 1;
        SlTensor *wv = t[2] = input->ndim > 1 ? sl_ag_view(weight, input->ndim, shape, err) : sl_tensor_ref(weight);
        prod = t[3] = wv ? sl_ag_binary(SL_T_MUL, prod, wv, err) : NULL;
    }
    SlTensor *r = NULL;
    if (prod && red == SL_RED_NONE) {
        SlTensor *s = t[4] = sl_ag_sum(prod, 1u << cdim, false, false, err);
        r = s ? sl_ag_neg(s, err) : NULL;
    } else if (prod) {
        SlTensor *s = t[4] = sl_ag_sum(prod, 0, true, false, err);
        SlTensor *neg = t[5] = s ? sl_ag_neg(s, err) : NULL;
        if (neg && red == SL_RED_MEAN) {
            r = div_scalar(neg, sl_tensor_numel(input) / input->shape[cdim], err);
        } else if (neg) {
            r = sl_tensor_ref(neg);
        }
    }
    unref_all(t, 6);
    return r;
}

/* ---------------------------------------------------------------------------
 * Backward formulas of the nodes recorded here
 * ------------------------------------------------------------------------- */

bool sl_nnops_owns(SlNodeKind kind) { return kind >= SL_N_ADDMM && kind < SL_N_STD; }

static bool addmm_backward(SlNode *nd, SlTensor *g, SlTensor **r, SlError *err)
{
    SlTensor *wt = nd->saved[0], *x = nd->saved[1];
    if (nd->next[0])
        r[0] = sl_tensor_ref(g);
    /* mm_mat1_backward: grad.mm(mat2.t()) */
    if (nd->next[1] && !(r[1] = sl_tensor_mm_ex(g, false, wt, true, false, err)))
        return false;
    /* mm_mat2_backward for a transposed mat2: grad.t().mm(mat1).t() */
    if (nd->next[2] && !(r[2] = sl_tensor_mm_ex(g, true, x, false, true, err)))
        return false;
    return true;
}

static bool mse_backward(SlNode *nd, SlTensor *g, SlTensor **r, SlError *err)
{
    SlTensor *a = nd->saved[0], *b = nd->saved[1];
    SlDTypeP rt = {g->dtype, prec_of(g)};
    if (nd->next[0] && !(r[0] = mse_grad(a, b, g, (SlReduction)nd->ival, rt, err)))
        return false;
    if (nd->next[1] && !(r[1] = mse_grad(b, a, g, (SlReduction)nd->ival, rt, err)))
        return false;
    return true;
}

bool sl_nnops_backward(SlNode *n, SlTensor *g, SlTensor **r, SlError *err)
{
    bool ok;
    switch (n->kind) {
    case SL_N_ADDMM: ok = addmm_backward(n, g, r, err); break;
    case SL_N_CONVOLUTION: ok = conv_backward(n, g, r, err); break;
    case SL_N_SOFTMAX:
    case SL_N_LOG_SOFTMAX: ok = softmax_backward(n, g, r, err); break;
    case SL_N_LEAKY_RELU: ok = (r[0] = leaky(n->saved[0], g, n->scalar, err)) != NULL; break;
    case SL_N_MSE_LOSS: ok = mse_backward(n, g, r, err); break;
    case SL_N_BCE_LOSS: ok = bce_backward(n, g, r, err); break;
    case SL_N_NLL_LOSS: ok = nll_backward(n, g, r, err); break;
    case SL_N_DIV_SCALAR: {
        SlTensor *k = sl_tensor_scalar_i(SL_DT_I64, n->ival, 0);
        k->wrapped = true;
        ok = (r[0] = sl_tensor_binary(SL_T_DIV, g, k, err)) != NULL;
        sl_tensor_unref(k);
        break;
    }
    default: ok = sl_err(err, SL_E_INTERNAL, "no backward for %s", sl_node_name(n)); break;
    }
    if (!ok)
        for (int i = 0; i < n->nnext; i++) {
            sl_tensor_unref(r[i]);
            r[i] = NULL;
        }
    return ok;
}
