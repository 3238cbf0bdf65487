/* tensor_value.h -- tensors as language values: the glue between tensor.c /
 * autograd.c and the evaluator (an SlObjType with every hook, the torch.*
 * builtins and the module attributes such as torch.float64). */
#ifndef SL_TENSOR_VALUE_H
#define SL_TENSOR_VALUE_H

#include <stddef.h>

#include "builtins.h"
#include "tensor.h"
#include "value.h"

/* Builtins this module provides (tensor, zeros, ones, manual_seed, ...);
 * NULL when not one of them. */
const SlBuiltin *sl_tensor_builtin_lookup(const char *name);
const SlBuiltin *sl_tensor_builtin_at(size_t i);
/* module.attr for the namespaces torch, nn, optim, F, np, math when it is a
 * value rather than a function (torch.float64, torch.float, np.float32);
 * a new reference, or NULL (no error) when the module has no such value. */
SlValue *sl_tensor_module_attr(const char *module, const char *attr);

/* The "Tensor" object type. */
extern const SlObjType sl_tensor_type;
/* A tensor as a value; consumes the reference to t. */
SlValue *sl_tensor_value(SlTensor *t);
/* The tensor inside a value (borrowed), or NULL when v is not a tensor. */
SlTensor *sl_tensor_of(const SlValue *v);
/* A tensor from a tensor, a number or nested lists (torch.tensor's rules,
 * float32 default); new reference or NULL + error. */
SlTensor *sl_tensor_from_data(SlValue *data, bool have_dtype, SlDTypeP dtype, SlError *err);
/* A Python number (or a tensor) as an operand: numbers become wrapped 0-d
 * tensors (they rank below tensors in type promotion). */
SlTensor *sl_tensor_operand(SlValue *v, SlError *err);
/* self op= v in place when self is a tensor (op: SL_OP_ADD, SUB, MUL, DIV),
 * as Python's x -= ... does for tensors; a new reference to self, NULL +
 * error on failure, or NULL WITHOUT an error when not done in place (not a
 * tensor, another op): then evaluate self = self op v instead. */
SlValue *sl_tensor_inplace_binop(int op, SlValue *self, SlValue *v, SlError *err);

/* Argument conversions for builtins whose numbers may also be tensors:
 * positional i or keyword name (NULL when absent); an int (or a 0-d
 * integer tensor); a number (or a one-element tensor); a bool (or an int).
 * False after Python's error for the argument. */
SlValue *sl_arg(SlCall *c, size_t i, const char *name);
bool sl_value_as_long(const SlValue *v, long *out);
bool sl_arg_long(SlCall *c, const char *fname, const char *argname, const SlValue *v, long *out);
bool sl_arg_double(SlCall *c, const char *fname, const char *argname, const SlValue *v, double *out);
bool sl_arg_bool(SlCall *c, const char *fname, const char *argname, const SlValue *v, bool *out);

/* torch.X(t, ...) as the method t.X(...): the first argument (or input=)
 * becomes the receiver of m; convert: a non-tensor first argument is made
 * a float32 tensor (else torch's TypeError). */
SlValue *sl_tensor_as_method(SlCall *c, const char *fname, SlBuiltinFn m, bool convert);

#endif
