/* optim.h -- optimizers: SGD (momentum, dampening, weight_decay, nesterov,
 * maximize) and Adam (betas, eps, weight_decay, amsgrad, maximize), with
 * zero_grad() and step() that update parameters exactly as PyTorch 1.13's
 * single-tensor implementations do (torch/optim/sgd.py _single_tensor_sgd,
 * adam.py _single_tensor_adam: the same float32 and float64 roundings, bit
 * for bit; mpfr tensors at their own precision); and user optimizers,
 * written in slope as
 *
 *     optimizer Momentum(lr=0.01, mu=0.9) {
 *         state v = 0          # per-parameter state, zeros like p at first
 *         v = mu*v + p.grad
 *         p -= lr*v
 *     }
 *
 * whose body runs once per parameter with a grad on step(), in no_grad
 * mode, with p (the parameter), the hyper-parameters and the state
 * variables bound.
 *
 * Ownership: an SlOptim holds a reference to each parameter tensor and
 * owns its state (momentum buffers, Adam's moments, user state values) and
 * its hyper-parameter values.  Made from C it belongs to the caller
 * (sl_optim_free); once wrapped by sl_optim_value it belongs to the value.
 * Hyper-parameters are kept as the values given (so they print as torch
 * prints its param_groups: "lr: 1", "betas: (0.9, 0.999)") and, for the
 * builtins, as doubles for the update.
 */
#ifndef SL_OPTIM_H
#define SL_OPTIM_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"
#include "builtins.h"
#include "eval.h"
#include "tensor.h"
#include "value.h"

typedef struct SlOptim SlOptim;

/* torch.optim.SGD's arguments (lr has no default in torch). */
typedef struct SlSgdOptions {
    double lr;            /* learning rate, >= 0 */
    double momentum;      /* momentum factor, >= 0 (0: none) */
    double dampening;     /* dampening of the momentum */
    double weight_decay;  /* L2 penalty, >= 0 */
    bool nesterov;        /* Nesterov momentum (needs momentum > 0, dampening 0) */
    bool maximize;        /* ascend instead of descend */
} SlSgdOptions;

/* torch.optim.Adam's arguments; sl_adam_defaults() gives torch's defaults. */
typedef struct SlAdamOptions {
    double lr;            /* 0.001 */
    double beta1, beta2;  /* 0.9, 0.999 */
    double eps;           /* 1e-08 */
    double weight_decay;  /* 0 */
    bool amsgrad;         /* False */
    bool maximize;        /* False */
} SlAdamOptions;

SlAdamOptions sl_adam_defaults(void);

/* An optimizer over n parameter tensors (float32, float64 or mpfr leaves;
 * references are taken), with torch's checks and messages ("Invalid
 * learning rate: -1", "can't optimize a non-leaf Tensor", "optimizer got
 * an empty parameter list"); NULL + error. */
SlOptim *sl_optim_sgd(SlTensor *const *params, size_t n, const SlSgdOptions *o, SlError *err);
SlOptim *sl_optim_adam(SlTensor *const *params, size_t n, const SlAdamOptions *o, SlError *err);
void sl_optim_free(SlOptim *o);

/* step(): update every parameter that has a .grad (in no_grad mode).  s is
 * needed only by user optimizers (their bodies run in it; may be NULL for
 * SGD and Adam).  false + error (a user body's error, with its location). */
bool sl_optim_step(SlOptim *o, SlSession *s, SlError *err);
/* zero_grad(set_to_none): fill every parameter's .grad with zeros, or drop it. */
void sl_optim_zero_grad(SlOptim *o, bool set_to_none);
/* A hyper-parameter by name (lr, momentum, betas, ...): a borrowed value,
 * or NULL when the optimizer has none of that name. */
SlValue *sl_optim_get(const SlOptim *o, const char *name);
/* opt.name = v (learning-rate schedules): the builtins check the type
 * (a number; a pair of numbers for betas); false + error. */
bool sl_optim_set(SlOptim *o, const char *name, SlValue *v, SlError *err);
/* print(opt) as torch prints it: "SGD (\nParameter Group 0\n    dampening: 0\n ...)". */
void sl_optim_repr(SlBuf *out, const SlOptim *o);
size_t sl_optim_nparams(const SlOptim *o);
/* The float kernels use the CPU's fused multiply-add instructions when it
 * has them, else libm's fma() (the same results, slower).  For tests: on 0
 * forces libm, 1 the CPU's (if any), -1 asks; returns whether the CPU's are used. */
bool sl_optim_hw_fma(int on);

/* As a language value (consumes o), and back (borrowed; NULL when v is not
 * an optimizer). */
SlValue *sl_optim_value(SlOptim *o);
SlOptim *sl_optim_of(const SlValue *v);

/* Builtins of this module by name (SGD, Adam), reachable as globals and
 * after optim. / torch.optim. (NULL when not one of them). */
const SlBuiltin *sl_optim_builtin_lookup(const char *name);
const SlBuiltin *sl_optim_builtin_at(size_t i);

/* ---- user optimizers (called by eval.c) ---------------------------------- */

/* Check an `optimizer NAME(...) { ... }` definition before it is bound: no
 * hyper-parameter or state named p or params, no state declared twice or
 * named as a hyper-parameter; false + error at the offending place. */
bool sl_optim_check_def(const SlAst *def, SlSource *src, SlError *err);
/* NAME(params, hyper..., hyper=...): a new optimizer value for the user
 * optimizer f; Python's TypeError wording for bad arguments. */
SlValue *sl_optim_user_new(SlSession *s, SlFunc *f, SlValue **args, size_t nargs, const char **kwnames,
                           SlValue **kwargs, size_t nkw, SlError *err);

#endif
