/* tensor_extra.c -- kernels and differentiable operations (tensor_extra.h).
 * Skeleton: being written. */
#include "tensor_extra.h"

#include "autograd_internal.h"

bool sl_extra_owns(SlNodeKind kind) { return kind >= SL_N_STD && kind < SL_N_COUNT; }

bool sl_extra_backward(SlNode *n, SlTensor *g, SlTensor **r, SlError *err)
{
    (void)g, (void)r;
    sl_err(err, SL_E_INTERNAL, "no backward for %s", sl_node_name(n));
    return false;
}
