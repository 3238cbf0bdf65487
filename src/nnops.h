/* nnops.h -- the differentiable operations behind layers and losses, as
 * PyTorch 1.13's CPU kernels compute them (same order of float32
 * operations, so the same last bits), with PyTorch's grad_fn names.
 *
 * Conventions as autograd.h: arguments are borrowed, results are new
 * references, NULL after an error in *err (PyTorch's messages: shape
 * mismatches, "expected scalar type Long", "Target 5 is out of bounds.").
 * Every function works for float32, float64 and mpfr tensors (mpfr at the
 * input's precision); backward formulas are in nnops.c
 * (sl_nnops_backward, called by the engine in autograd.c).
 */
#ifndef SL_NNOPS_H
#define SL_NNOPS_H

#include <stdbool.h>
#include <stdint.h>

#include "autograd.h"

typedef enum SlReduction { SL_RED_NONE, SL_RED_MEAN, SL_RED_SUM } SlReduction;

/* F.linear(x, w, b): y = x @ w.T + b, w of shape (out, in), b (out) or NULL.
 * The graph is torch 1.13's: a 2-d x with a bias is addmm(b, x, w.t())
 * (AddmmBackward0, the weight behind TBackward0; each output is the dot
 * product summed in order from zero, then the bias added), a contiguous
 * 3-d x with a bias is that addmm on x.view(-1, in) viewed back
 * (ViewBackward0); other x of 3 or more dims fold their batch dims into
 * one mm (UnsafeViewBackward0), a 1-d x is matmul (SqueezeBackward3),
 * and a bias is then added (AddBackward0).  Without a bias: that matmul. */
SlTensor *sl_ag_linear(SlTensor *x, SlTensor *w, SlTensor *b, SlError *err);

/* F.conv2d(x, w, b, stride, padding): x (N, C, H, W) or (C, H, W) (then
 * unsqueezed and squeezed as torch does: SqueezeBackward1), w (O, C, kh,
 * kw), b (O) or NULL; stride NULL means (1, 1), padding NULL (0, 0);
 * grad_fn ConvolutionBackward0.  float32 repeats, per pass, the order of
 * the code torch runs on this machine (its own im2col + BLAS path or one
 * of three oneDNN implementations; nnops.c lists them); float64 and mpfr
 * take torch's im2col order. */
SlTensor *sl_ag_conv2d(SlTensor *x, SlTensor *w, SlTensor *b, const int stride[2], const int padding[2],
                       SlError *err);

/* softmax / log_softmax along dim (SoftmaxBackward0, LogSoftmaxBackward0),
 * with torch's vectorised reductions, Sleef exp/log (vecmath.h) and the
 * fused multiply-adds GCC put into torch's backward kernels. */
SlTensor *sl_ag_softmax(SlTensor *x, int dim, bool log, SlError *err);

/* leaky_relu(x, slope) (LeakyReluBackward0); relu, sigmoid and tanh are
 * sl_ag_unary (autograd.h). */
SlTensor *sl_ag_leaky_relu(SlTensor *x, double slope, SlError *err);

/* Losses.  input and target of one shape unless said otherwise. */
SlTensor *sl_ag_mse_loss(SlTensor *input, SlTensor *target, SlReduction red, SlError *err);
/* L1: torch 1.13 computes (input - target).abs() then the reduction, so
 * its grad_fn is MeanBackward0 / SumBackward0 / AbsBackward0. */
SlTensor *sl_ag_l1_loss(SlTensor *input, SlTensor *target, SlReduction red, SlError *err);
/* BCE: input in [0, 1] (torch's error otherwise), log clamped at -100;
 * weight NULL or broadcastable to input. */
SlTensor *sl_ag_bce_loss(SlTensor *input, SlTensor *target, SlTensor *weight, SlReduction red, SlError *err);
/* NLL: input (N, C) or (C) of log-probabilities, target int64 (N) or () of
 * class indices; weight NULL or (C); ignore_index as torch (-100).  The
 * reduction is torch's 8-level cascade of partial sums; a mean divides by
 * the total weight of the targets kept (their count without a weight). */
SlTensor *sl_ag_nll_loss(SlTensor *input, SlTensor *target, SlTensor *weight, SlReduction red,
                         int64_t ignore_index, SlError *err);
/* cross_entropy = nll_loss(log_softmax(input, 1)) for class-index targets
 * (input (N, C) or (C)); a float target of input's shape is the
 * probabilities form, -(log_softmax * target [* weight]).sum() / (numel /
 * C) for a mean (NegBackward0, DivBackward1), .sum(1) for none. */
SlTensor *sl_ag_cross_entropy(SlTensor *input, SlTensor *target, SlTensor *weight, SlReduction red,
                              int64_t ignore_index, SlError *err);

#endif
