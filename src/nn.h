/* nn.h -- layers and losses as language values: Linear, Conv2d, ReLU,
 * Sigmoid, Tanh, Softmax, LogSoftmax, LeakyReLU, Flatten, Identity,
 * Sequential, MSELoss, L1Loss, BCELoss, CrossEntropyLoss, NLLLoss, and the
 * functional forms (F.relu, F.softmax, F.linear, F.conv2d, F.mse_loss,
 * F.cross_entropy, ...), with PyTorch 1.13's names, arguments, defaults
 * and messages.
 *
 * A module is an object value (one SlObjType per class, so type names
 * read "Linear") called like a function: model(x), loss(input, target).
 * It prints as PyTorch's Module.__repr__; its attributes are PyTorch's
 * (weight, bias, in_features, kernel_size, reduction, training, ...);
 * methods parameters(), named_parameters(), zero_grad(), forward(),
 * train(), eval(), requires_grad_(), children(), and for Sequential
 * model[i], model[a:b], len(), iteration and append().
 *
 * Initialisation is PyTorch's: weight kaiming_uniform_(a=sqrt(5)), then
 * bias uniform(+-1/sqrt(fan_in)), drawn from the tensor generator (:seed /
 * manual_seed) in torch's order and with the fused multiply-add of torch's
 * AVX2 uniform_ kernel on CPUs that have one, so a seeded run gives
 * PyTorch's initial weights bit for bit.  Parameters are leaf tensors
 * with requires_grad and is_param ("Parameter containing:").
 *
 * Ownership: a module owns its Parameters and, for Sequential, references
 * to its child module values.  Modules never form cycles and nest at most
 * 100 Sequentials deep (append() refuses a module's own ancestors, and a
 * Sequential held by another may not grow deeper), which bounds every
 * recursion over them.  The arithmetic is nnops.h / autograd.h.
 */
#ifndef SL_NN_H
#define SL_NN_H

#include <stddef.h>

#include "builtins.h"
#include "value.h"

/* Builtins of this module by name: every name reachable after nn. / torch.nn.
 * / F. / torch. (NULL when not one of them).  relu, sigmoid and tanh given a
 * non-tensor fall back to the global math builtins of those names. */
const SlBuiltin *sl_nn_builtin_lookup(const char *name);
/* The subset that is also a global name: every class (Linear, MSELoss,
 * ...), mse_loss, l1_loss, binary_cross_entropy, cross_entropy, nll_loss,
 * softmax, log_softmax and parameters. */
const SlBuiltin *sl_nn_global_lookup(const char *name);
/* Iterate over the global subset (for :help and completion). */
const SlBuiltin *sl_nn_global_at(size_t i);

/* Whether v is a module (a layer, a loss or a Sequential). */
bool sl_nn_is_module(const SlValue *v);

/* Append to list (an SL_LIST) every parameter tensor value reachable from
 * v, without repeats (of each other or of tensors already in list):
 *   - a module: its parameters in PyTorch's order (weight, bias, then the
 *     children's);
 *   - a list/tuple: its items in order (modules, leaf tensors that require
 *     grad, nested lists, functions);
 *   - a user function: the modules its body names as globals (looked up in
 *     the session now), also through the functions it calls and lists it
 *     names, in the order the modules were created -- PyTorch's
 *     registration order for a class whose __init__ makes them;
 *   - a bound method of a module (model.forward).
 * false + error when v is none of these, or is a function naming no module. */
bool sl_nn_collect_parameters(SlSession *s, SlValue *v, SlValue *list, SlError *err);

#endif
