/* tensor_extra.h -- more of PyTorch's tensor operations (std, var, prod,
 * cumsum, sort, topk, flip, repeat, masked_fill, gather, index_select,
 * logsumexp, triu/tril, trace, chunk/split, isnan, allclose, equal, ...),
 * as torch 1.13 computes them (same float32/float64 bits, torch's
 * grad_fn names), and their language wrappers (tensor methods and
 * torch.* functions).
 *
 * Kernels and differentiable operations live in tensor_extra.c (the tensor
 * library; backward formulas through sl_extra_backward, autograd_internal.h);
 * the methods and builtins in tensor_extra_value.c (the evaluator library).
 * Conventions as tensor.h / autograd.h: tensor arguments are borrowed,
 * results are new references, NULL (or false) after an error in *err with
 * torch's message.  Every operation works on float32, float64 and mpfr
 * tensors (mpfr at the input's precision, one rounding per operation);
 * the data-movement ones (sort, flip, gather, ...) on int64 and bool too.
 * Dimensions may be negative (counted from the end) unless said otherwise.
 */
#ifndef SL_TENSOR_EXTRA_H
#define SL_TENSOR_EXTRA_H

#include <stdbool.h>
#include <stdint.h>

#include "autograd.h"
#include "builtins.h"

/* ---- reductions --------------------------------------------------------- */

/* var / std (take_sqrt) over the dims in mask, or over everything (all);
 * correction 1 is unbiased.  Like torch: a reduction to one element takes
 * the two-pass algorithm (float mean, then the squared deviations summed
 * in double), any other a Welford pass per output in double (multiply-adds
 * fused, as torch's AVX2 kernel); float32 results are rounded once from
 * double.  VarBackward0 / StdBackward0. */
SlTensor *sl_ag_var(SlTensor *x, uint32_t mask, bool all, int64_t correction, bool keepdim, bool take_sqrt,
                    SlError *err);
/* prod() (ProdBackward0) or prod(dim, keepdim) (ProdBackward1): torch's
 * vectorised product order (4 x 8 float lanes, 4 x 4 double) along a
 * contiguous last dimension, in order otherwise; int64 for bool and int64. */
SlTensor *sl_ag_prod(SlTensor *x, bool all, int dim, bool keepdim, SlError *err);
/* logsumexp over the dims in mask (LogsumexpBackward0): max, exp, sum, log
 * as torch composes them; ints are taken as float32. */
SlTensor *sl_ag_logsumexp(SlTensor *x, uint32_t mask, bool keepdim, SlError *err);
/* trace of a matrix (TraceBackward0), accumulated in double for float32 */
SlTensor *sl_ag_trace(SlTensor *x, SlError *err);

/* ---- scans -------------------------------------------------------------- */

/* cumsum / cumprod along dim (CumsumBackward0 / CumprodBackward0); float32
 * accumulates in double, bool and int64 give int64. */
SlTensor *sl_ag_cumsum(SlTensor *x, int dim, bool prod, SlError *err);

/* ---- sorting ------------------------------------------------------------ */

/* sort along dim: libstdc++'s introsort, as torch calls std::sort (so
 * equal elements come out in torch's order), or a stable sort; NaN sorts
 * as the largest.  SortBackward0 / SortBackward1 (stable). */
bool sl_ag_sort(SlTensor *x, int dim, bool descending, bool stable, SlTensor **values, SlTensor **indices,
                SlError *err);
/* topk: torch's partial_sort / nth_element + sort choice (TopkBackward0). */
bool sl_ag_topk(SlTensor *x, int64_t k, int dim, bool largest, bool sorted, SlTensor **values,
                SlTensor **indices, SlError *err);
/* unique: the distinct elements (sorted, or in the order of torch's
 * std::unordered_set), the inverse indices and counts (NULL when not
 * wanted); dim >= 0 (or negative, normalised) for unique slices along a
 * dimension, use_dim false for elements.  Records Unique2Backward0 (no
 * gradient) when x requires grad, as torch. */
bool sl_tensor_unique(SlTensor *x, bool sorted, bool use_dim, int dim, SlTensor **values, SlTensor **inverse,
                      SlTensor **counts, SlError *err);

/* ---- data movement ------------------------------------------------------ */

/* flip the dims in mask (FlipBackward0) */
SlTensor *sl_ag_flip(SlTensor *x, uint32_t mask, SlError *err);
/* roll by shifts[i] along dims[i]; n == 0 dims: the flattened tensor
 * (RollBackward0) */
SlTensor *sl_ag_roll(SlTensor *x, int n, const int64_t *shifts, const int *dims, bool flat, SlError *err);
/* repeat(*sizes) (RepeatBackward0) */
SlTensor *sl_ag_repeat(SlTensor *x, int n, const int64_t *repeats, SlError *err);
/* split into pieces of split_size (SplitBackward0), or of the n sizes
 * (SplitWithSizesBackward0) when sizes != NULL; views of x.  Returns the
 * count and fills out[] (at most max pieces; an error past it). */
int sl_ag_split(SlTensor *x, int64_t split_size, const int64_t *sizes, int n, int dim, SlTensor **out, int max,
                SlError *err);
/* chunk(chunks, dim): split with ceil(size / chunks) */
int sl_ag_chunk(SlTensor *x, int64_t chunks, int dim, SlTensor **out, int max, SlError *err);
/* narrow(dim, start, length): a slice (SliceBackward0) */
SlTensor *sl_ag_narrow(SlTensor *x, int dim, int64_t start, int64_t length, SlError *err);
/* triu / tril (lower) of the last two dims (TriuBackward0 / TrilBackward0) */
SlTensor *sl_ag_triu(SlTensor *x, int64_t diagonal, bool lower, SlError *err);
/* diag: a vector to a matrix, a matrix to its diagonal (DiagBackward0) */
SlTensor *sl_ag_diag(SlTensor *x, int64_t diagonal, SlError *err);

/* ---- indexing ----------------------------------------------------------- */

/* gather(dim, index) (GatherBackward0; the gradient is scatter_add's) */
SlTensor *sl_ag_gather(SlTensor *x, int dim, SlTensor *index, SlError *err);
/* index_select(dim, index) (IndexSelectBackward0; index_add's gradient) */
SlTensor *sl_ag_index_select(SlTensor *x, int dim, SlTensor *index, SlError *err);
/* masked_fill(mask, value): value a number as a wrapped 0-d tensor
 * (MaskedFillBackward0) or a 0-d tensor (MaskedFillBackward1, its gradient
 * the sum of the masked gradient); x and mask broadcast together. */
SlTensor *sl_ag_masked_fill(SlTensor *x, SlTensor *mask, SlTensor *value, SlError *err);
/* nonzero(): int64 (count, ndim) of the indices of the nonzero elements */
SlTensor *sl_tensor_nonzero(const SlTensor *x, SlError *err);

/* ---- tests and comparisons --------------------------------------------- */

/* isnan / isinf (bool; false everywhere for ints) */
SlTensor *sl_tensor_isnan(const SlTensor *x, bool inf, SlError *err);
/* torch.allclose: |a - b| <= atol + rtol * |b| everywhere (isclose's
 * arithmetic); a and b of one dtype, broadcastable */
bool sl_tensor_allclose(SlTensor *a, SlTensor *b, double rtol, double atol, bool equal_nan, bool *result,
                        SlError *err);
/* torch.equal: same shape and the same values */
bool sl_tensor_equal(const SlTensor *a, const SlTensor *b);

/* ---- arithmetic --------------------------------------------------------- */

/* dist(a, b, p) = norm(a - b, p) (DistBackward0), torch's norm kernels */
SlTensor *sl_ag_dist(SlTensor *a, SlTensor *b, double p, SlError *err);
/* lerp(start, end, weight): weight a wrapped number (LerpBackward0) or a
 * tensor (LerpBackward1); torch's two-branch formula, multiply-adds fused */
SlTensor *sl_ag_lerp(SlTensor *start, SlTensor *end, SlTensor *weight, SlError *err);
/* outer(a, b) = a.reshape(-1, 1) * b (MulBackward0, as torch composes it) */
SlTensor *sl_ag_outer(SlTensor *a, SlTensor *b, SlError *err);

/* ---- in place ----------------------------------------------------------- */

/* t.exp_(), log_, abs_, sqrt_, neg_ (fn: SL_FN_EXP, SL_FN_LOG, SL_FN_ABS,
 * SL_FN_SQRT, SL_TU_NEG), t.pow_(e), t.clamp_(min, max): torch's checks
 * (a leaf that requires grad; a float result into an int tensor) and
 * history (ExpBackward0 ... for a tensor in a graph). */
bool sl_ag_unary_(int fn, SlTensor *t, SlError *err);
bool sl_ag_pow_(SlTensor *t, double e, SlError *err);
bool sl_ag_clamp_(SlTensor *t, bool has_min, double lo, bool has_max, double hi, SlError *err);
/* t.masked_fill_(mask, value): value as sl_ag_masked_fill's; mask broadcast to t */
bool sl_ag_masked_fill_(SlTensor *t, SlTensor *mask, SlTensor *value, SlError *err);

/* ---- language ----------------------------------------------------------- */

/* Tensor methods of this module by name (t.std(), t.sort(), ...), NULL when none. */
const SlBuiltin *sl_tensor_extra_method(const char *name);
/* torch.* functions of this module by name (torch.std(t), torch.allclose(a, b), ...). */
const SlBuiltin *sl_tensor_extra_builtin(const char *name);
/* The builtins and methods in order (for :help and completion), NULL past the end. */
const SlBuiltin *sl_tensor_extra_builtin_at(size_t i);
const SlBuiltin *sl_tensor_extra_method_at(size_t i);
/* A torch.return_types.NAME(values=..., indices=...) value (sort, topk;
 * also right for max/min along a dim): prints as torch prints it, r[0],
 * r[1], r.values, r.indices, len(r), iteration.  Takes the references. */
SlValue *sl_return_types_value(const char *name, SlValue *values, SlValue *indices);

#endif
