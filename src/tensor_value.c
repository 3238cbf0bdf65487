/* tensor_value.c -- not written yet. */
#include "tensor_value.h"

const SlBuiltin *sl_tensor_builtin_lookup(const char *name)
{
    (void)name;
    return NULL;
}

const SlBuiltin *sl_tensor_builtin_at(size_t i)
{
    (void)i;
    return NULL;
}

SlValue *sl_tensor_module_attr(const char *module, const char *attr)
{
    (void)module, (void)attr;
    return NULL;
}
