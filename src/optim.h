/* optim.h -- optimizers as language values: SGD (momentum, dampening,
 * weight_decay, nesterov, maximize), Adam (betas, eps, weight_decay,
 * amsgrad), with zero_grad() and step() that update parameters exactly as
 * PyTorch 1.13's single-tensor implementations do (same float32
 * roundings); and user optimizers, written in slope as
 *
 *     optimizer Momentum(lr=0.01, mu=0.9) {
 *         state v = 0          # per-parameter state, zeros like p at first
 *         v = mu*v + p.grad
 *         p -= lr*v
 *     }
 *
 * whose body runs once per parameter on step(), in no_grad mode, with p,
 * the hyper-parameters and the state variables bound.
 */
#ifndef SL_OPTIM_H
#define SL_OPTIM_H

#include <stddef.h>

#include "builtins.h"
#include "value.h"

/* Builtins of this module by name (SGD, Adam, ...), reachable as globals
 * and after optim. / torch.optim. (NULL when not one of them). */
const SlBuiltin *sl_optim_builtin_lookup(const char *name);
const SlBuiltin *sl_optim_builtin_at(size_t i);

#endif
