/* tensor.h -- n-dimensional arrays with PyTorch's semantics: storage,
 * views, kernels, type promotion, the random generator.
 *
 * An SlTensor is a view (shape, strides, offset, all in elements) onto a
 * reference-counted SlStorage; views (view, t, transpose, x[i], x[a:b],
 * .data, detach) share the storage.  Elements are native arrays (float,
 * double, int64_t, bool) or an array of mpfr_t at one precision.
 *
 * The kernels here know nothing of autograd: they compute values only.
 * autograd.h wraps them into differentiable operations that record graph
 * nodes.  float32 arithmetic is done in float, exactly as PyTorch 1.13's
 * CPU kernels do it (scalars are rounded to float first, add with alpha is
 * a fused multiply-add, x**2 is x*x, sums use PyTorch's cascade order,
 * matmul accumulates in order as the reference BLAS does).
 *
 * Ownership: every SlTensor and SlStorage is reference counted.  Functions
 * BORROW their tensor arguments and RETURN A NEW REFERENCE, or NULL after
 * recording an error in *err (tensor_* errors use SL_E_VALUE / SL_E_TYPE /
 * SL_E_INDEX_RANGE with PyTorch's words).  A tensor owns: its storage, its
 * version counter, its .grad and its grad_fn (autograd.h).
 */
#ifndef SL_TENSOR_H
#define SL_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mpfr.h>

#include "dtype.h"
#include "error.h"
#include "capture.h"

#define SL_TENSOR_MAXDIM 16               /* dimensions */
#define SL_TENSOR_MAX_NUMEL (1LL << 28)   /* elements in one tensor */

typedef struct SlNode SlNode; /* autograd.h */

/* PyTorch raises IndexError for these messages; errors.def has no generic
 * IndexError kind with a free-form message yet, so they travel as
 * ValueError (the class only shows with --verbose). */
#define SL_E_TENSOR_INDEX SL_E_VALUE

typedef struct SlStorage {
    int refs;          /* reference count */
    SlDType dtype;     /* element type */
    mpfr_prec_t prec;  /* MPFR: the elements' precision */
    size_t n;          /* elements allocated */
    void *data;        /* float[], double[], int64_t[], bool[], __mpfr_struct[] */
    bool in_block;     /* allocated with its tensor (tensor.c's blocks) */
    bool cap_claimed;  /* capture.c: written by a recorded kernel ... */
    unsigned long cap_id; /* ... of the capture that allocated it (0: none) */
} SlStorage;

/* In-place modifications bump a version counter shared by a tensor and
 * its views (not by .data, which gets a fresh one, as in PyTorch), so
 * backward can tell when a saved tensor was changed. */
typedef struct SlVersion {
    int refs;          /* reference count */
    uint64_t v;        /* bumped by every in-place change */
    bool in_block;     /* allocated with its tensor (tensor.c's blocks) */
} SlVersion;

typedef struct SlTensor {
    /* (the fields a kernel or the engine reads come first: one cache line) */
    int refs;                           /* reference count */
    SlDType dtype;                      /* == storage->dtype */
    int ndim;                           /* 0 for a scalar tensor */
    bool requires_grad;                 /* a leaf that wants .grad, or a graph result */
    bool is_param;                      /* nn.Parameter: prints "Parameter containing:" */
    bool wrapped;                       /* a Python number made a 0-d tensor (type promotion) */
    bool retains_grad;                  /* non-leaf asked for .grad (retain_grad()) */
    bool view_of_leaf;                  /* a differentiable view of a leaf that requires grad */
    bool in_block;                      /* allocated with its storage (tensor.c's blocks) */
    int64_t offset;                     /* first element in storage */
    SlStorage *storage;                 /* owned reference */
    SlVersion *version;                 /* owned reference */
    struct SlTensor *grad;              /* owned, or NULL */
    SlNode *grad_fn;                    /* owned, or NULL for leaves */
    SlNode *grad_acc;                   /* weak: a leaf's AccumulateGrad node while one exists */
    int64_t shape[SL_TENSOR_MAXDIM];    /* sizes */
    int64_t strides[SL_TENSOR_MAXDIM];  /* in elements */
} SlTensor;

/* Live object counts, for leak tests. */
long sl_tensor_live(void);
long sl_storage_live(void);

/* Called by sl_tensor_unref when the last reference goes. */
void sl_tensor_free_(SlTensor *t);

static inline SlTensor *sl_tensor_ref(SlTensor *t)
{
    if (t)
        t->refs++;
    return t;
}

/* NULL is fine (nothing happens). */
static inline void sl_tensor_unref(SlTensor *t)
{
    if (t && --t->refs <= 0)
        sl_tensor_free_(t);
}
/* Replace *slot with t (taking a reference), releasing the old one. */
void sl_tensor_assign(SlTensor **slot, SlTensor *t);

/* ---- creation ---------------------------------------------------------- */

/* A contiguous tensor of zeros (MPFR at prec; prec is ignored otherwise). */
SlTensor *sl_tensor_zeros(SlDType dt, int ndim, const int64_t *shape, mpfr_prec_t prec, SlError *err);
SlTensor *sl_tensor_full_d(SlDType dt, int ndim, const int64_t *shape, mpfr_prec_t prec, double v, SlError *err);
SlTensor *sl_tensor_full_m(SlDType dt, int ndim, const int64_t *shape, mpfr_prec_t prec, mpfr_srcptr v,
                           SlError *err);
SlTensor *sl_tensor_scalar_d(SlDType dt, double v, mpfr_prec_t prec);    /* 0-d */
SlTensor *sl_tensor_scalar_i(SlDType dt, int64_t v, mpfr_prec_t prec);   /* 0-d */
/* An uninitialised-shaped copy of t's metadata: same dtype/shape, zeros. */
SlTensor *sl_tensor_zeros_like(const SlTensor *t, SlError *err);
SlTensor *sl_tensor_ones_like(const SlTensor *t, SlError *err);
/* arange(start, end, step): n = ceil((end - start) / step) computed in double. */
SlTensor *sl_tensor_arange(SlDType dt, double start, double end, double step, mpfr_prec_t prec, SlError *err);
SlTensor *sl_tensor_linspace(SlDType dt, double start, double end, int64_t steps, mpfr_prec_t prec, SlError *err);
SlTensor *sl_tensor_eye(SlDType dt, int64_t n, int64_t m, mpfr_prec_t prec, SlError *err);

/* The generator: PyTorch's CPU mt19937, so that manual_seed(n) followed
 * by rand/randn gives the numbers torch gives. */
void sl_tensor_manual_seed(uint64_t seed);
uint64_t sl_tensor_initial_seed(void);
SlTensor *sl_tensor_rand(SlDType dt, int ndim, const int64_t *shape, mpfr_prec_t prec, SlError *err);
SlTensor *sl_tensor_randn(SlDType dt, int ndim, const int64_t *shape, mpfr_prec_t prec, SlError *err);
/* uniform_(from, to) in place, as nn.init uses it. */
void sl_tensor_uniform_(SlTensor *t, double from, double to);
void sl_tensor_normal_(SlTensor *t, double mean, double std);
/* randint(low, high) */
SlTensor *sl_tensor_randint(int64_t low, int64_t high, int ndim, const int64_t *shape, SlError *err);

/* ---- metadata ---------------------------------------------------------- */

static inline int64_t sl_tensor_numel(const SlTensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    return n;
}

/* Row-major without gaps (size-1 dims may have any stride). */
static inline bool sl_tensor_is_contiguous(const SlTensor *t)
{
    int64_t s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] == 1)
            continue;
        if (t->strides[d] != s)
            return t->shape[d] == 0;
        s *= t->shape[d];
    }
    return true;
}

/* F32, F64, MPFR */
static inline bool sl_dtype_is_float(SlDType dt) { return dt == SL_DT_F32 || dt == SL_DT_F64 || dt == SL_DT_MPFR; }

/* Whether a and b have one shape. */
static inline bool sl_tensor_same_shape(const SlTensor *a, const SlTensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return false;
    return true;
}
const char *sl_dtype_name(SlDType dt); /* "torch.float32", ... */
const char *sl_dtype_word(SlDType dt); /* "Float", "Double", "Long", "Bool", "MPFR": torch's messages */
mpfr_prec_t sl_tensor_prec(const SlTensor *t); /* MPFR precision, 53 for F64, 24 for F32 */
/* "(2, 3)" for messages; buf of 16 * SL_TENSOR_MAXDIM bytes is enough. */
void sl_shape_str(char *buf, size_t n, int ndim, const int64_t *shape);
/* "[2, 3]", as torch prints sizes in messages */
void sl_sizes_str(char *buf, size_t n, int ndim, const int64_t *shape);

/* ---- elements ---------------------------------------------------------- */

/* Element i in row-major order. */
double sl_tensor_get_d(const SlTensor *t, int64_t i);
int64_t sl_tensor_get_i(const SlTensor *t, int64_t i);
bool sl_tensor_get_b(const SlTensor *t, int64_t i);
mpfr_srcptr sl_tensor_get_m(const SlTensor *t, int64_t i);   /* MPFR tensors only */
float sl_tensor_get_f(const SlTensor *t, int64_t i);          /* F32 only */
/* Set element i (row-major), converting. */
void sl_tensor_set_d(SlTensor *t, int64_t i, double v);
void sl_tensor_set_i(SlTensor *t, int64_t i, int64_t v);
void sl_tensor_set_m(SlTensor *t, int64_t i, mpfr_srcptr v);
/* Storage offset of element i (row-major). */
int64_t sl_tensor_elem_offset(const SlTensor *t, int64_t i);

/* ---- views (share storage and version counter) ------------------------- */

/* A new tensor header onto the same storage; no grad, no grad_fn. */
SlTensor *sl_tensor_alias(const SlTensor *t);
/* .data: like alias but with a fresh version counter (PyTorch's .data). */
SlTensor *sl_tensor_data_alias(const SlTensor *t);
/* shape may contain one -1; error as torch's when impossible. */
bool sl_tensor_infer_shape(int64_t numel, int ndim, int64_t *shape, SlError *err);
/* view: needs compatible strides; NULL + torch's error otherwise. */
SlTensor *sl_tensor_view(const SlTensor *t, int ndim, const int64_t *shape, SlError *err);
/* reshape: a view when possible (*copied = false), else a copy. */
SlTensor *sl_tensor_reshape(const SlTensor *t, int ndim, const int64_t *shape, bool *copied, SlError *err);
SlTensor *sl_tensor_transpose(const SlTensor *t, int d0, int d1, SlError *err);
SlTensor *sl_tensor_permute(const SlTensor *t, const int *perm, SlError *err);
SlTensor *sl_tensor_squeeze(const SlTensor *t, int dim /* -1000: all */, SlError *err);
SlTensor *sl_tensor_unsqueeze(const SlTensor *t, int dim, SlError *err);
SlTensor *sl_tensor_select(const SlTensor *t, int dim, int64_t index, SlError *err);
/* Python slice semantics on one dimension (start/stop already clamped by caller or not: clamped here). */
SlTensor *sl_tensor_slice(const SlTensor *t, int dim, int64_t start, int64_t stop, int64_t step, SlError *err);
SlTensor *sl_tensor_expand(const SlTensor *t, int ndim, const int64_t *shape, SlError *err);
/* Normalise a dimension index (negative counts from the end) for ndim dims. */
bool sl_tensor_wrap_dim(int *dim, int ndim, SlError *err);

/* ---- copies and conversions -------------------------------------------- */

SlTensor *sl_tensor_contiguous(const SlTensor *t);   /* t itself (new ref) when already */
SlTensor *sl_tensor_clone(const SlTensor *t);        /* always a fresh contiguous copy */
SlTensor *sl_tensor_to(const SlTensor *t, SlDType dt, mpfr_prec_t prec); /* copy, converted */
/* dst[...] = src (broadcast src to dst's shape, converting). */
bool sl_tensor_copy_(SlTensor *dst, const SlTensor *src, SlError *err);
void sl_tensor_fill_d(SlTensor *t, double v);
/* A reference on a storage (capture.c keeps what a plan points into) */
void sl_storage_ref(SlStorage *s);
void sl_storage_unref(SlStorage *s);
static inline void sl_tensor_bump_version(SlTensor *t)
{
    t->version->v++;
    if (sl_cap_on)
        sl_capture_bumped(t);
}

/* ---- type promotion ---------------------------------------------------- */

typedef struct SlDTypeP {
    SlDType dt;
    mpfr_prec_t prec;  /* MPFR only */
} SlDTypeP;

/* torch.result_type over the operands (0-d tensors and wrapped numbers
 * rank below dimensioned tensors unless of a higher category). */
SlDTypeP sl_result_type(SlTensor *const *ts, int n);

/* ---- elementwise kernels ------------------------------------------------ */

typedef enum SlTOp {
    SL_T_ADD, SL_T_SUB, SL_T_MUL, SL_T_DIV, SL_T_FLOORDIV, SL_T_MOD, SL_T_POW,
    SL_T_EQ, SL_T_NE, SL_T_LT, SL_T_LE, SL_T_GT, SL_T_GE,
    SL_T_MINIMUM, SL_T_MAXIMUM, SL_T_ATAN2,
    SL_T_AND, SL_T_OR, SL_T_XOR
} SlTOp;

/* a op b with broadcasting and promotion; SL_T_ADD/SUB use alpha:
 * a + alpha*b (alpha 1 for plain +).  Comparisons give bool tensors. */
SlTensor *sl_tensor_binary(SlTOp op, const SlTensor *a, const SlTensor *b, SlError *err);
SlTensor *sl_tensor_add_alpha(const SlTensor *a, const SlTensor *b, double alpha, SlError *err);
/* x ** e for a scalar exponent, with PyTorch's special cases (2: x*x, 3, -2, 0.5, -0.5, -1). */
SlTensor *sl_tensor_pow_scalar(const SlTensor *x, double e, SlError *err);
SlTensor *sl_tensor_mul_scalar(const SlTensor *x, double s, SlError *err);
SlTensor *sl_tensor_neg(const SlTensor *x, SlError *err);

/* Unary math by SlMathFn (num.h) for one-argument functions, and a few
 * extras used by backward formulas. */
enum {
    SL_TU_NEG = 1000, SL_TU_RECIPROCAL, SL_TU_RSQRT, SL_TU_SGN, SL_TU_NOT, SL_TU_SQUARE,
    SL_TU_ONE_MINUS_SQ  /* 1 - x*x rounded once (fused), as torch's tanh_backward */
};
SlTensor *sl_tensor_unary(int fn, const SlTensor *x, SlError *err);
/* round(x, decimals=n) */
SlTensor *sl_tensor_round_dec(const SlTensor *x, long decimals, SlError *err);
/* where(cond, a, b) */
SlTensor *sl_tensor_where(const SlTensor *cond, const SlTensor *a, const SlTensor *b, SlError *err);

/* In place: t += alpha * other (fma for float32, as torch's add_ with alpha),
 * t *= other, t /= other.  Broadcast other to t's shape; no promotion of t
 * (the result must be castable: float into int is an error, as torch). */
bool sl_tensor_add_(SlTensor *t, const SlTensor *other, double alpha, SlError *err);
bool sl_tensor_mul_(SlTensor *t, const SlTensor *other, SlError *err);
bool sl_tensor_div_(SlTensor *t, const SlTensor *other, SlError *err);

/* ---- reductions -------------------------------------------------------- */

/* Sum over the dims set in mask (bit d), keepdim as torch; the result dtype
 * is t's, int64 for bool/int. */
SlTensor *sl_tensor_sum(const SlTensor *t, uint32_t mask, bool keepdim, SlError *err);
SlTensor *sl_tensor_mean(const SlTensor *t, uint32_t mask, bool keepdim, SlError *err);
/* Over everything: a 0-d tensor. */
SlTensor *sl_tensor_max_all(const SlTensor *t, bool is_min, SlError *err);
/* Along dim: values and indices (int64). */
bool sl_tensor_max_dim(const SlTensor *t, int dim, bool keepdim, bool is_min, SlTensor **values,
                       SlTensor **indices, SlError *err);
SlTensor *sl_tensor_argmax_all(const SlTensor *t, bool is_min, SlError *err);
/* Sum t down to shape (for broadcasting's backward). */
SlTensor *sl_tensor_sum_to(const SlTensor *t, int ndim, const int64_t *shape, SlError *err);

/* ---- linear algebra ---------------------------------------------------- */

/* 2-d @ 2-d, 2-d @ 1-d, 1-d @ 1-d, batched 3-d @ 3-d (same batch). */
SlTensor *sl_tensor_mm(const SlTensor *a, const SlTensor *b, SlError *err);
/* op(a) @ op(b), op transposing when ta / tb are set, without making the
 * transposed views (the same numbers as sl_tensor_mm on them); tc: the
 * result comes back transposed (a non-contiguous view of fresh storage,
 * what .t() of the product would be). */
SlTensor *sl_tensor_mm_ex(const SlTensor *a, bool ta, const SlTensor *b, bool tb, bool tc, SlError *err);
SlTensor *sl_tensor_mv(const SlTensor *a, const SlTensor *v, SlError *err);
/* The kernel under them: c (m x n, contiguous) = c0 (or zeros when c0 is
 * NULL; strides c0s0, c0s1) + a (m x k) @ b (k x n), every element summed
 * from its start value over l in order, unfused (the reference BLAS's
 * order); with post, each element is summed from zero and c0 added last
 * (sgemm's beta = 1 after the product).  Strides in elements. */
/* sl_tensor_gemm_f32/_f64's arguments as one block, for sl_kernel */
typedef struct SlGemmArgs {
    const void *a, *b, *c0;
    void *c;
    int64_t as0, as1, bs0, bs1, m, k, n, c0s0, c0s1;
    bool post, f64;
} SlGemmArgs;
void sl_gemm_kernel(const void *args);
void sl_tensor_gemm_f32(const float *a, int64_t as0, int64_t as1, const float *b, int64_t bs0, int64_t bs1,
                        int64_t m, int64_t k, int64_t n, float *c, const float *c0, int64_t c0s0, int64_t c0s1,
                        bool post);
void sl_tensor_gemm_f64(const double *a, int64_t as0, int64_t as1, const double *b, int64_t bs0, int64_t bs1,
                        int64_t m, int64_t k, int64_t n, double *c, const double *c0, int64_t c0s0, int64_t c0s1,
                        bool post);
/* An mpfr number of precision 53 whose exponent e (value 0.1b... * 2^e) is
 * in [emin, 1024], or a zero, is a double: *d = it exactly, true; false
 * for others (NaN, infinities, out of range).  Read from the number's
 * limb, without a call into mpfr. */
static inline bool sl_m53_get(mpfr_srcptr x, mpfr_exp_t emin, double *d)
{
#if GMP_NUMB_BITS == 64
    if (mpfr_zero_p(x)) {
        *d = mpfr_signbit(x) ? -0.0 : 0.0;
        return true;
    }
    if (!mpfr_regular_p(x))
        return false;
    mpfr_exp_t e = mpfr_custom_get_exp(x);
    if (e < emin || e > 1024)
        return false;
    uint64_t limb = *(const mp_limb_t *)mpfr_custom_get_significand(x);
    uint64_t bits = (uint64_t)(e + 1022) << 52 | ((limb >> 11) & ((UINT64_C(1) << 52) - 1)) |
                    (mpfr_signbit(x) ? UINT64_C(1) << 63 : 0);
    memcpy(d, &bits, sizeof *d);
    return true;
#else
    *d = mpfr_get_d(x, MPFR_RNDN);
    return mpfr_zero_p(x) || (mpfr_regular_p(x) && mpfr_get_exp(x) >= emin && mpfr_get_exp(x) <= 1024);
#endif
}

/* x (precision 53, a tensor element: its limb is ours to write) = d exactly. */
static inline void sl_m53_set(mpfr_ptr x, double d)
{
#if GMP_NUMB_BITS == 64
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    int64_t be = (int64_t)((bits >> 52) & 0x7ff);
    if (be > 0 && be < 0x7ff) {
        mp_limb_t *m = mpfr_custom_get_significand(x);
        *m = UINT64_C(1) << 63 | (bits & ((UINT64_C(1) << 52) - 1)) << 11;
        mpfr_custom_init_set(x, bits >> 63 ? -MPFR_REGULAR_KIND : MPFR_REGULAR_KIND, be - 1022, 53, m);
        return;
    }
    if (d == 0) {
        mpfr_set_zero(x, bits >> 63 ? -1 : 1);
        return;
    }
#endif
    mpfr_set_d(x, d, MPFR_RNDN); /* subnormals (exact at 53 bits), the rest */
}

/* The same for mpfr elements of precision 53, computed in doubles when
 * that gives mpfr's numbers exactly (operands and results in double's
 * normal range); false, with nothing written, when it cannot. */
bool sl_tensor_gemm_m53(const __mpfr_struct *a, int64_t as0, int64_t as1, const __mpfr_struct *b, int64_t bs0,
                        int64_t bs1, int64_t m, int64_t k, int64_t n, __mpfr_struct *c, const __mpfr_struct *c0,
                        int64_t c0s0, int64_t c0s1, bool post);
SlTensor *sl_tensor_dot(const SlTensor *a, const SlTensor *b, SlError *err);
SlTensor *sl_tensor_bmm(const SlTensor *a, const SlTensor *b, SlError *err);
SlTensor *sl_tensor_outer(const SlTensor *a, const SlTensor *b, SlError *err);

#endif
