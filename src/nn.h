/* nn.h -- layers and losses as language values: Linear, Conv2d, ReLU,
 * Sigmoid, Tanh, Softmax, LogSoftmax, Flatten, Sequential, MSELoss,
 * CrossEntropyLoss, BCELoss, L1Loss, NLLLoss, and the functional forms
 * (F.relu, F.softmax, F.mse_loss, F.cross_entropy, ...).
 *
 * A module is an object value that is called like a function
 * (model(x)); it prints as PyTorch lists its modules, and
 * model.parameters() / parameters(model_or_function) list its Parameter
 * tensors.  Initialisation is PyTorch's (Kaiming-uniform weights, uniform
 * biases) drawn from the tensor generator (:seed / manual_seed), so a
 * seeded run gives PyTorch's initial weights.  The arithmetic is nnops.h.
 */
#ifndef SL_NN_H
#define SL_NN_H

#include <stddef.h>

#include "builtins.h"
#include "value.h"

/* Builtins of this module by name: every name reachable after nn. / torch.nn.
 * / F. (NULL when not one of them). */
const SlBuiltin *sl_nn_builtin_lookup(const char *name);
/* The subset that is also a global name (Linear, MSELoss, parameters, ...). */
const SlBuiltin *sl_nn_global_lookup(const char *name);
/* Iterate over the global subset (for :help and completion). */
const SlBuiltin *sl_nn_global_at(size_t i);

/* Whether v is a module (a layer, a loss or a Sequential). */
bool sl_nn_is_module(const SlValue *v);

/* Append to list (an SL_LIST) every parameter tensor value reachable from
 * v: a module, a list/tuple of them, or a user function whose body uses
 * modules by global name (looked up in the session), without repeats;
 * false + error when v has none of these. */
bool sl_nn_collect_parameters(SlSession *s, SlValue *v, SlValue *list, SlError *err);

#endif
