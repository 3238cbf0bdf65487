/* autograd_internal.h -- what modules that add differentiable operations
 * (nnops.c) need from the engine in autograd.c: recording a node, saving
 * tensors on it, and the hook that computes their backward formulas.
 * Not for the evaluator: it uses autograd.h only. */
#ifndef SL_AUTOGRAD_INTERNAL_H
#define SL_AUTOGRAD_INTERNAL_H

#include "autograd.h"

/* A node of kind for out = op(in[0..n-1]) when grad mode is on and some
 * input requires grad, else NULL.  The node becomes out's grad_fn (out
 * keeps the reference; the node's next[i] edges are taken from in[i],
 * which may be NULL for an input without a gradient). */
SlNode *sl_ag_record(SlNodeKind kind, SlTensor *out, int n, SlTensor *const *in);
/* Save an alias of t on n (checked against in-place changes at backward,
 * released after a backward without retain_graph). */
void sl_ag_save(SlNode *n, SlTensor *t);

/* Backward of the node kinds nnops.c records (SL_N_ADDMM and after in
 * SL_NODE_LIST): g is the incoming gradient (borrowed); fills r[i] with a
 * NEW reference for every input i with n->next[i] != NULL.  False after
 * an error in *err (then r[] holds nothing). */
bool sl_nnops_backward(SlNode *n, SlTensor *g, SlTensor **r, SlError *err);
/* Whether kind is one of nnops.c's. */
bool sl_nnops_owns(SlNodeKind kind);
/* The same for tensor_extra.c's kinds (SL_N_STD and after). */
bool sl_extra_backward(SlNode *n, SlTensor *g, SlTensor **r, SlError *err);
bool sl_extra_owns(SlNodeKind kind);

/* Scratch space for backward formulas: every intermediate is kept here and
 * released at the end, so the formulas read like torch's one-liners. */
typedef struct SlScratch {
    SlTensor *t[64]; /* intermediates */
    int n;
    SlError *err;
} SlScratch;

/* Keep t (a new reference, or NULL after an error) until sl_scratch_free. */
static inline SlTensor *sl_scratch_keep(SlScratch *s, SlTensor *t)
{
    if (!t)
        return NULL;
    if (s->n == 64) {
        sl_err(s->err, SL_E_INTERNAL, "backward formula too long");
        sl_tensor_unref(t);
        return NULL;
    }
    s->t[s->n++] = t;
    return t;
}

static inline void sl_scratch_free(SlScratch *s)
{
    for (int i = 0; i < s->n; i++)
        sl_tensor_unref(s->t[i]);
    s->n = 0;
}

#endif
