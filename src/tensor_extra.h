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
 * Conventions as tensor.h / autograd.h.
 */
#ifndef SL_TENSOR_EXTRA_H
#define SL_TENSOR_EXTRA_H

#include "builtins.h"

/* Tensor methods of this module by name (t.std(), t.sort(), ...), NULL when none. */
const SlBuiltin *sl_tensor_extra_method(const char *name);
/* torch.* functions of this module by name (torch.std(t), torch.allclose(a, b), ...). */
const SlBuiltin *sl_tensor_extra_builtin(const char *name);

#endif
