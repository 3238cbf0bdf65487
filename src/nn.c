/* nn.c -- layers and losses as values (nn.h).  Skeleton: being written. */
#include "nn.h"

#include <string.h>

const SlBuiltin *sl_nn_builtin_lookup(const char *name)
{
    (void)name;
    return NULL;
}

const SlBuiltin *sl_nn_global_lookup(const char *name)
{
    (void)name;
    return NULL;
}

const SlBuiltin *sl_nn_global_at(size_t i)
{
    (void)i;
    return NULL;
}

bool sl_nn_collect_parameters(SlSession *s, SlValue *v, SlValue *list, SlError *err)
{
    (void)s, (void)v, (void)list;
    sl_err(err, SL_E_VALUE, "parameters() is being written");
    return false;
}
