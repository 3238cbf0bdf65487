/* tensor_extra_value.c -- tensor_extra.h's operations as methods and
 * torch.* builtins.  Skeleton: being written. */
#include "tensor_extra.h"

const SlBuiltin *sl_tensor_extra_method(const char *name)
{
    (void)name;
    return NULL;
}

const SlBuiltin *sl_tensor_extra_builtin(const char *name)
{
    (void)name;
    return NULL;
}
