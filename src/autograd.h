/* autograd.h -- reverse-mode differentiation of tensor programs, as
 * PyTorch's autograd does it.
 *
 * Differentiable operations (sl_ag_*) compute with tensor.h's kernels and,
 * when grad mode is on (sl_no_grad_depth == 0) and an input requires grad,
 * record an SlNode named as PyTorch names it (AddBackward0, MulBackward0,
 * PowBackward0, SumBackward0, MmBackward0, SigmoidBackward0, ...).
 *
 * Ownership (no cycles by construction):
 *   tensor --grad_fn--> node --next--> node ... --> AccumulateGrad --> leaf
 * A non-leaf tensor owns its grad_fn; a node owns the nodes it sends
 * gradients to; an AccumulateGrad node owns its leaf, and the leaf keeps
 * only a weak pointer back (cleared when the node dies).  Saved tensors
 * are aliases (shared storage and version counter, no grad_fn), so a node
 * never owns the tensor it produced.  backward() without retain_graph
 * releases every visited node's saved tensors; a later backward through
 * such a node fails with PyTorch's "backward through the graph a second
 * time" error, and the nodes themselves go when the last tensor that
 * reaches them goes.
 *
 * Conventions: as tensor.h (borrowed arguments, new references, NULL or
 * false after an error in *err).
 */
#ifndef SL_AUTOGRAD_H
#define SL_AUTOGRAD_H

#include <stdbool.h>
#include <stdint.h>

#include "tensor.h"

#define SL_NODE_MAXNEXT 3   /* inputs of one operation */
#define SL_NODE_MAXSAVED 4  /* saved tensors of one operation */

/* Node kinds and the names PyTorch 1.13 gives them. */
#define SL_NODE_LIST(X)                                                                                      \
    X(ACCUMULATE, "AccumulateGrad") X(ADD, "AddBackward0") X(SUB, "SubBackward0") X(RSUB, "RsubBackward1")   \
    X(MUL, "MulBackward0") X(DIV, "DivBackward0") X(POW, "PowBackward0") X(POW_T, "PowBackward1")             \
    X(NEG, "NegBackward0") X(RECIPROCAL, "ReciprocalBackward0") X(REMAINDER, "RemainderBackward0")            \
    X(MINIMUM, "MinimumBackward0") X(MAXIMUM, "MaximumBackward0") X(ATAN2, "Atan2Backward0")                  \
    X(SIN, "SinBackward0") X(COS, "CosBackward0") X(TAN, "TanBackward0") X(ASIN, "AsinBackward0")             \
    X(ACOS, "AcosBackward0") X(ATAN, "AtanBackward0") X(SINH, "SinhBackward0") X(COSH, "CoshBackward0")       \
    X(TANH, "TanhBackward0") X(EXP, "ExpBackward0") X(LOG, "LogBackward0") X(LOG2, "Log2Backward0")           \
    X(LOG10, "Log10Backward0") X(SQRT, "SqrtBackward0") X(RSQRT, "RsqrtBackward0") X(CBRT, "CbrtBackward0")   \
    X(ABS, "AbsBackward0") X(SIGN, "SignBackward0") X(FLOOR, "FloorBackward0") X(CEIL, "CeilBackward0")       \
    X(ROUND, "RoundBackward0") X(ROUND_DEC, "RoundBackward1") X(SIGMOID, "SigmoidBackward0")                  \
    X(RELU, "ReluBackward0") X(HEAVISIDE, "HeavisideBackward0") X(SUM, "SumBackward0")                        \
    X(SUM_DIM, "SumBackward1") X(MEAN, "MeanBackward0") X(MEAN_DIM, "MeanBackward1")                          \
    X(MAX_ALL, "MaxBackward1") X(MIN_ALL, "MinBackward1") X(MAX_DIM, "MaxBackward0") X(MIN_DIM, "MinBackward0") \
    X(MM, "MmBackward0") X(MV, "MvBackward0") X(DOT, "DotBackward0") X(BMM, "BmmBackward0")                   \
    X(VIEW, "ViewBackward0") X(RESHAPE_ALIAS, "ReshapeAliasBackward0") X(UNSAFE_VIEW, "UnsafeViewBackward0")  \
    X(SQUEEZE_ALL, "SqueezeBackward0") X(SQUEEZE_DIM, "SqueezeBackward1") X(SQUEEZE_MM, "SqueezeBackward3")   \
    X(UNSQUEEZE, "UnsqueezeBackward0") X(T, "TBackward0") X(TRANSPOSE, "TransposeBackward0")                  \
    X(PERMUTE, "PermuteBackward0") X(EXPAND, "ExpandBackward0") X(SELECT, "SelectBackward0")                  \
    X(SLICE, "SliceBackward0") X(CLONE, "CloneBackward0") X(TOCOPY, "ToCopyBackward0")                        \
    X(INDEX, "IndexBackward0") X(ZERO, "ZeroBackward0") X(FILL, "FillBackward2") X(COPY, "CopyBackwards")     \
    X(COPYSLICES, "CopySlices") X(NORM, "NormBackward1") X(CLAMP, "ClampBackward1") X(WHERE, "WhereBackward0")  \
    X(CAT, "CatBackward0") X(STACK, "StackBackward0")                                                       \
    /* nnops.c (layers and losses) from here on */                                                           \
    X(ADDMM, "AddmmBackward0") X(CONVOLUTION, "ConvolutionBackward0") X(SOFTMAX, "SoftmaxBackward0")         \
    X(LOG_SOFTMAX, "LogSoftmaxBackward0") X(MSE_LOSS, "MseLossBackward0") X(NLL_LOSS, "NllLossBackward0")     \
    X(BCE_LOSS, "BinaryCrossEntropyBackward0") X(LEAKY_RELU, "LeakyReluBackward0")                           \
    X(DIV_SCALAR, "DivBackward1") X(NN_SPARE2, "NnSpare2Backward0")                                         \
    /* tensor_extra.c from here on (rename the spares as needed) */                                          \
    X(STD, "StdBackward0") X(VAR, "VarBackward0") X(PROD, "ProdBackward0") X(PROD_DIM, "ProdBackward1")       \
    X(CUMSUM, "CumsumBackward0") X(CUMPROD, "CumprodBackward0") X(SORT, "SortBackward0")                      \
    X(TOPK, "TopkBackward0") X(FLIP, "FlipBackward0") X(REPEAT, "RepeatBackward0")                            \
    X(MASKED_FILL, "MaskedFillBackward0") X(GATHER, "GatherBackward0") X(INDEX_SELECT, "IndexSelectBackward0") \
    X(LOGSUMEXP, "LogsumexpBackward0") X(TRIU, "TriuBackward0") X(TRIL, "TrilBackward0")                      \
    X(TRACE, "TraceBackward0") X(SPLIT, "SplitBackward0") X(ROLL, "RollBackward0")                            \
    X(DIAG, "DiagBackward0") X(SPLIT_SIZES, "SplitWithSizesBackward0") X(LERP, "LerpBackward0")              \
    X(LERP_T, "LerpBackward1") X(DIST, "DistBackward0") X(MASKED_FILL_T, "MaskedFillBackward1")              \
    X(SORT_STABLE, "SortBackward1") X(UNIQUE, "Unique2Backward0")

typedef enum SlNodeKind {
#define SL_NODE_ENUM(kind, name) SL_N_##kind,
    SL_NODE_LIST(SL_NODE_ENUM)
#undef SL_NODE_ENUM
    SL_N_COUNT
} SlNodeKind;

struct SlNode {
    /* (what the engine touches on every node comes first) */
    int refs;                              /* reference count */
    SlNodeKind kind;                       /* operation; its name is sl_node_name() */
    uint64_t seq;                          /* creation order: the engine runs later nodes first */
    int nnext;                             /* inputs */
    int nsaved;                            /* saved tensors */
    SlNode *next[SL_NODE_MAXNEXT];         /* owned: where each input's gradient goes (NULL: none) */
    /* engine scratch */
    uint64_t mark;                         /* visited in this backward (generation) */
    int deps;                              /* gradients still to arrive */
    bool released;                         /* saved tensors freed by a backward */
    SlTensor *buf;                         /* gradient accumulated so far */
    SlTensor *leaf;                        /* AccumulateGrad: owned leaf */
    SlTensor *retain;                      /* weak: the output that called retain_grad() */
    SlTensor *saved[SL_NODE_MAXSAVED];     /* owned aliases, NULL once released */
    uint64_t saved_version[SL_NODE_MAXSAVED]; /* their version when saved */
    int saved_from[SL_NODE_MAXSAVED];      /* kind of the node that made each (-1: a leaf), for messages */
    int64_t *geom;                         /* owned: CopySlices' region (offset, ndim, shape, strides) */
    /* what the backward formula needs besides saved tensors */
    SlDTypeP in_type[SL_NODE_MAXNEXT];     /* input dtypes (gradients are cast back) */
    int in_ndim[SL_NODE_MAXNEXT];          /* input shapes (broadcasting, views) */
    double scalar;                         /* exponent, alpha, scalar operand, clamp's min */
    double scalar2;                        /* clamp's max */
    int64_t ival;                          /* dim, index, decimals, count */
    int64_t ival2;                         /* second dim, slice start */
    int64_t ival3;                         /* slice step */
    uint32_t mask;                         /* reduced dims */
    bool keepdim;                          /* reductions */
    int64_t in_shape[SL_NODE_MAXNEXT][SL_TENSOR_MAXDIM];
    unsigned long cap_id;                  /* the capture that made it (capture.h), 0: none */
};

const char *sl_node_name(const SlNode *n);
/* Called by sl_node_unref when the last reference goes. */
void sl_node_free_(SlNode *n);

static inline SlNode *sl_node_ref(SlNode *n)
{
    if (n)
        n->refs++;
    return n;
}

static inline void sl_node_unref(SlNode *n)
{
    if (n && --n->refs <= 0)
        sl_node_free_(n);
}
long sl_node_live(void);

/* Grad mode: recording happens when sl_no_grad_depth == 0 (value.h). */
bool sl_grad_enabled(void);

/* ---- leaves ------------------------------------------------------------- */

bool sl_tensor_is_leaf(const SlTensor *t);
/* requires_grad_(flag): only on leaves (torch's error otherwise); floats only. */
bool sl_ag_requires_grad_(SlTensor *t, bool flag, SlError *err);
/* retain_grad(): a non-leaf's .grad is filled by backward too. */
bool sl_ag_retain_grad(SlTensor *t, SlError *err);
/* detach(): shares storage and version counter, no history. */
SlTensor *sl_ag_detach(SlTensor *t);

/* ---- differentiable operations ---------------------------------------- */

SlTensor *sl_ag_binary(SlTOp op, SlTensor *a, SlTensor *b, SlError *err);
SlTensor *sl_ag_add_alpha(SlTensor *a, SlTensor *b, double alpha, SlError *err);
/* scalar - x (torch's rsub: RsubBackward1) */
SlTensor *sl_ag_rsub(SlTensor *x, SlTensor *scalar, SlError *err);
/* scalar / x (reciprocal(x) * scalar, as torch's __rtruediv__) */
SlTensor *sl_ag_rdiv(SlTensor *x, SlTensor *scalar, SlError *err);
SlTensor *sl_ag_pow_scalar(SlTensor *x, double e, SlError *err);
SlTensor *sl_ag_neg(SlTensor *x, SlError *err);
/* Elementwise functions (SlMathFn or SL_TU_*). */
SlTensor *sl_ag_unary(int fn, SlTensor *x, SlError *err);
SlTensor *sl_ag_round_dec(SlTensor *x, long decimals, SlError *err);

SlTensor *sl_ag_sum(SlTensor *x, uint32_t mask, bool all, bool keepdim, SlError *err);
SlTensor *sl_ag_mean(SlTensor *x, uint32_t mask, bool all, bool keepdim, SlError *err);
SlTensor *sl_ag_max_all(SlTensor *x, bool is_min, SlError *err);
bool sl_ag_max_dim(SlTensor *x, int dim, bool keepdim, bool is_min, SlTensor **values, SlTensor **indices,
                   SlError *err);

SlTensor *sl_ag_matmul(SlTensor *a, SlTensor *b, SlError *err);
SlTensor *sl_ag_mm(SlTensor *a, SlTensor *b, SlError *err);

SlTensor *sl_ag_view(SlTensor *x, int ndim, const int64_t *shape, SlError *err);
SlTensor *sl_ag_reshape(SlTensor *x, int ndim, const int64_t *shape, SlError *err);
SlTensor *sl_ag_flatten(SlTensor *x, int start, int end, SlError *err);
SlTensor *sl_ag_squeeze(SlTensor *x, int dim /* -1000: all */, SlError *err);
SlTensor *sl_ag_unsqueeze(SlTensor *x, int dim, SlError *err);
SlTensor *sl_ag_t(SlTensor *x, SlError *err);
SlTensor *sl_ag_transpose(SlTensor *x, int d0, int d1, SlError *err);
SlTensor *sl_ag_permute(SlTensor *x, const int *perm, SlError *err);
SlTensor *sl_ag_expand(SlTensor *x, int ndim, const int64_t *shape, SlError *err);
SlTensor *sl_ag_select(SlTensor *x, int dim, int64_t index, SlError *err);
SlTensor *sl_ag_slice(SlTensor *x, int dim, int64_t start, int64_t stop, int64_t step, SlError *err);
SlTensor *sl_ag_clone(SlTensor *x, SlError *err);
SlTensor *sl_ag_to(SlTensor *x, SlDType dt, mpfr_prec_t prec, SlError *err);
/* x[mask] for a bool mask of x's shape, x[index_tensor] along dim 0 */
SlTensor *sl_ag_index_tensor(SlTensor *x, SlTensor *index, SlError *err);
/* x.norm(p) for p = 1 or 2 (NormBackward1) */
SlTensor *sl_ag_norm(SlTensor *x, double p, SlError *err);
/* clamp(x, min, max); has_min/has_max say which bounds apply */
SlTensor *sl_ag_clamp(SlTensor *x, bool has_min, double lo, bool has_max, double hi, SlError *err);
/* where(cond, a, b) */
SlTensor *sl_ag_where(SlTensor *cond, SlTensor *a, SlTensor *b, SlError *err);
/* torch.cat / torch.stack of n tensors along dim */
SlTensor *sl_ag_cat(SlTensor *const *ts, int n, int dim, bool stack, SlError *err);

/* ---- in place ----------------------------------------------------------- */

/* t.add_(other, alpha=), t.sub_(other), t.mul_(other), t.div_(other),
 * t.zero_(), t.fill_(v), t.copy_(src): PyTorch's checks (a leaf that
 * requires grad can't be changed in place while grad mode is on) and
 * history (a non-leaf gets a new grad_fn). */
bool sl_ag_add_(SlTensor *t, SlTensor *other, double alpha, SlError *err);
bool sl_ag_sub_(SlTensor *t, SlTensor *other, double alpha, SlError *err);
bool sl_ag_mul_(SlTensor *t, SlTensor *other, SlError *err);
bool sl_ag_div_(SlTensor *t, SlTensor *other, SlError *err);
bool sl_ag_fill_(SlTensor *t, SlTensor *value, SlError *err);
bool sl_ag_copy_(SlTensor *t, SlTensor *src, SlError *err);
/* base[...] = src through view (a view of base made by indexing): torch's
 * CopySlices when base or src is in a graph.  base must be contiguous. */
bool sl_ag_copy_slices(SlTensor *base, SlTensor *view, SlTensor *src, SlError *err);

/* ---- the engine --------------------------------------------------------- */

/* root.backward(gradient, retain_graph): gradient NULL means ones for a
 * scalar root (an error for others).  Accumulates into the leaves' .grad. */
bool sl_ag_backward(SlTensor *root, SlTensor *gradient, bool retain_graph, SlError *err);

/* One step of a traced backward, in the engine's order: node ran with the
 * incoming gradient grad (the sum of every contribution that arrived) and
 * sent sent[i] to next[i] (already reduced to input i's shape and cast to
 * its dtype; NULL where nothing goes).  local[i] is d(output)/d(input i),
 * the node's own derivative (the formula run with a gradient of ones), for
 * elementwise operations (then in the output's shape: sent[i] is
 * grad * local[i], summed to the input's shape when it was broadcast) and
 * for one-element outputs (then in input i's shape: sent[i] = grad *
 * local[i]); NULL for the others (matmul, views, ...), whose Jacobian is
 * no tensor of either shape.  An AccumulateGrad step has no inputs: its
 * leaf's .grad is then the result, and accumulated says whether grad was
 * added to a .grad that was already there.  Everything is borrowed for the
 * duration of the call. */
typedef struct SlAgStep {
    const SlNode *node;                      /* the node that ran */
    const SlTensor *grad;                    /* its incoming gradient */
    const SlTensor *local[SL_NODE_MAXNEXT];  /* its local derivative per input, or NULL */
    const SlTensor *sent[SL_NODE_MAXNEXT];   /* what it sent to next[i], or NULL */
    bool accumulated;                        /* AccumulateGrad: .grad existed and was added to */
} SlAgStep;

typedef void (*SlAgTrace)(void *ctx, const SlAgStep *step);

/* sl_ag_backward, calling trace(ctx, step) after each node has run.  It
 * computes exactly what sl_ag_backward computes (the local derivatives are
 * extra work on the side) and frees the graph by the same rules. */
bool sl_ag_backward_traced(SlTensor *root, SlTensor *gradient, bool retain_graph, SlAgTrace trace, void *ctx,
                           SlError *err);

/* Names of the tensor for error hints (set by the caller, may be NULL):
 * "y" in "y.backward()". */
extern const char *sl_ag_receiver_name;

#endif
