/* nnops.c -- layers' and losses' differentiable operations (nnops.h).
 * Skeleton: being written. */
#include "nnops.h"

#include "autograd_internal.h"

static SlTensor *pending(const char *what, SlError *err)
{
    sl_err(err, SL_E_VALUE, "%s is being written", what);
    return NULL;
}

SlTensor *sl_ag_linear(SlTensor *x, SlTensor *w, SlTensor *b, SlError *err)
{
    (void)x, (void)w, (void)b;
    return pending("linear", err);
}

SlTensor *sl_ag_conv2d(SlTensor *x, SlTensor *w, SlTensor *b, const int stride[2], const int padding[2],
                       SlError *err)
{
    (void)x, (void)w, (void)b, (void)stride, (void)padding;
    return pending("conv2d", err);
}

SlTensor *sl_ag_softmax(SlTensor *x, int dim, bool log, SlError *err)
{
    (void)x, (void)dim, (void)log;
    return pending("softmax", err);
}

SlTensor *sl_ag_leaky_relu(SlTensor *x, double slope, SlError *err)
{
    (void)x, (void)slope;
    return pending("leaky_relu", err);
}

SlTensor *sl_ag_mse_loss(SlTensor *input, SlTensor *target, SlReduction red, SlError *err)
{
    (void)input, (void)target, (void)red;
    return pending("mse_loss", err);
}

SlTensor *sl_ag_l1_loss(SlTensor *input, SlTensor *target, SlReduction red, SlError *err)
{
    (void)input, (void)target, (void)red;
    return pending("l1_loss", err);
}

SlTensor *sl_ag_bce_loss(SlTensor *input, SlTensor *target, SlTensor *weight, SlReduction red, SlError *err)
{
    (void)input, (void)target, (void)weight, (void)red;
    return pending("binary_cross_entropy", err);
}

SlTensor *sl_ag_nll_loss(SlTensor *input, SlTensor *target, SlTensor *weight, SlReduction red,
                         int64_t ignore_index, SlError *err)
{
    (void)input, (void)target, (void)weight, (void)red, (void)ignore_index;
    return pending("nll_loss", err);
}

SlTensor *sl_ag_cross_entropy(SlTensor *input, SlTensor *target, SlTensor *weight, SlReduction red,
                              int64_t ignore_index, SlError *err)
{
    (void)input, (void)target, (void)weight, (void)red, (void)ignore_index;
    return pending("cross_entropy", err);
}

bool sl_nnops_owns(SlNodeKind kind) { return kind >= SL_N_ADDMM && kind < SL_N_COUNT; }

bool sl_nnops_backward(SlNode *n, SlTensor *g, SlTensor **r, SlError *err)
{
    (void)g, (void)r;
    sl_err(err, SL_E_INTERNAL, "no backward for %s", sl_node_name(n));
    return false;
}
