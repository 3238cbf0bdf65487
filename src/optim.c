/* optim.c -- optimizers as values (optim.h).  Skeleton: being written. */
#include "optim.h"

#include <string.h>

const SlBuiltin *sl_optim_builtin_lookup(const char *name)
{
    (void)name;
    return NULL;
}

const SlBuiltin *sl_optim_builtin_at(size_t i)
{
    (void)i;
    return NULL;
}
