/* test_nnops.c -- layers' and losses' operations through nnops.h's C API.
 *
 *  - float32 and float64 outputs and gradients bit for bit against
 *    PyTorch 1.13 (tests/unit/nnops_*.txt, written by tests/gen_nnops.py);
 *  - seed 003's training loop (Conv2d -> view -> CrossEntropyLoss, SGD
 *    with momentum) step by step against torch's losses and weights;
 *  - every backward against central finite differences in float64, and
 *    in mpfr at 256 bits (step 2^-80: differences accurate to ~2^-150);
 *  - torch's error messages for bad shapes, dtypes and targets;
 *  - no leaks: tensor and node counts back to zero after every test.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "nnops.h"
#include "num.h"
#include "tensor.h"

#include "torch_cases.h"

static SlReduction reduction_of(const Case *c)
{
    const char *r = param(c, "reduction");
    return !r || strcmp(r, "mean") == 0 ? SL_RED_MEAN : strcmp(r, "sum") == 0 ? SL_RED_SUM : SL_RED_NONE;
}

/* Run every case of a file through fn, which returns the output and the
 * leaves (name, tensor) it used. */
typedef SlTensor *(*CaseFn)(const Case *c, SlTensor **leaves, const char **names, int *nleaves, SlError *err);

static void run_file(const char *file, CaseFn fn)
{
    FILE *f = open_data(file);
    Case c = {0};
    char *buf = NULL;
    size_t cap = 0;
    int lineno = 0, cases = 0;
    mismatches = 0;
    while (next_case(f, &c, &buf, &cap, &lineno)) {
        SlError err = {0};
        SlTensor *leaves[4] = {NULL};
        const char *names[4] = {NULL};
        int nl = 0;
        SlTensor *y = fn(&c, leaves, names, &nl, &err);
        ck_assert_msg(y != NULL, "%s line %d: %s", c.op, c.line, err.msg);
        expect_same(y, get(&c, "y"), "y", &c);
        const char *gf = param(&c, "gradfn");
        if (gf && strcmp(gf, "none") != 0) {
            ck_assert_msg(y->grad_fn != NULL, "%s line %d: no grad_fn", c.op, c.line);
            ck_assert_msg(strcmp(sl_node_name(y->grad_fn), gf) == 0, "%s line %d: grad_fn %s, torch %s", c.op, c.line,
                          sl_node_name(y->grad_fn), gf);
        }
        if (y->requires_grad) {
            ck_assert_msg(sl_ag_backward(y, get(&c, "gy"), false, &err), "%s line %d: backward: %s", c.op, c.line,
                          err.msg);
            for (int i = 0; i < nl; i++)
                if (leaves[i])
                    expect_grad(&c, names[i], leaves[i]);
        }
        sl_tensor_unref(y);
        for (int i = 0; i < nl; i++)
            sl_tensor_unref(leaves[i]);
        cases++;
    }
    case_clear(&c);
    free(buf);
    fclose(f);
    ck_assert_msg(cases > 10, "%s: only %d cases", file, cases);
    ck_assert_msg(mismatches == 0, "%s: %d elements differ from torch", file, mismatches);
}

#define LEAF(name)                                                                                             \
    (leaves[*nl] = leaf_of(c, name), names[*nl] = name, leaves[(*nl)++])

/* leaves[k] replaced by a column-major leaf of the same values */
static SlTensor *colmajor(SlTensor **slot)
{
    SlTensor *t = *slot, *tt = sl_tensor_transpose(t, 0, 1, NULL), *c = sl_tensor_clone(tt);
    SlTensor *r = sl_tensor_transpose(c, 0, 1, NULL);
    r->requires_grad = t->requires_grad;
    sl_tensor_unref(tt);
    sl_tensor_unref(c);
    sl_tensor_unref(t);
    *slot = r;
    return r;
}

static SlTensor *case_linear(const Case *c, SlTensor **leaves, const char **names, int *nl, SlError *err)
{
    SlTensor *x = LEAF("x"), *w = LEAF("w"), *b = LEAF("b");
    const char *xc = param(c, "xcol"), *wc = param(c, "wcol");
    if (xc && atoi(xc))
        x = colmajor(&leaves[0]);
    if (wc && atoi(wc))
        w = colmajor(&leaves[1]);
    return sl_ag_linear(x, w, b, err);
}

static SlTensor *case_conv(const Case *c, SlTensor **leaves, const char **names, int *nl, SlError *err)
{
    SlTensor *x = LEAF("x"), *w = LEAF("w"), *b = LEAF("b");
    int stride[2], padding[2];
    sscanf(param(c, "stride"), "%d %d", &stride[0], &stride[1]);
    sscanf(param(c, "padding"), "%d %d", &padding[0], &padding[1]);
    return sl_ag_conv2d(x, w, b, stride, padding, err);
}

static SlTensor *case_softmax(const Case *c, SlTensor **leaves, const char **names, int *nl, SlError *err)
{
    SlTensor *x = LEAF("x");
    return sl_ag_softmax(x, atoi(param(c, "dim")), atoi(param(c, "log")) != 0, err);
}

static SlTensor *case_leaky(const Case *c, SlTensor **leaves, const char **names, int *nl, SlError *err)
{
    SlTensor *x = LEAF("x");
    return sl_ag_leaky_relu(x, strtod(param(c, "slope"), NULL), err);
}

static SlTensor *case_loss(const Case *c, SlTensor **leaves, const char **names, int *nl, SlError *err)
{
    SlTensor *in = LEAF("input"), *t = LEAF("target"), *w = LEAF("weight");
    SlReduction red = reduction_of(c);
    const char *ig = param(c, "ignore_index");
    int64_t ignore = ig ? atoll(ig) : -100;
    if (strcmp(c->op, "mse") == 0)
        return sl_ag_mse_loss(in, t, red, err);
    if (strcmp(c->op, "l1") == 0)
        return sl_ag_l1_loss(in, t, red, err);
    if (strcmp(c->op, "bce") == 0)
        return sl_ag_bce_loss(in, t, w, red, err);
    if (strcmp(c->op, "nll") == 0)
        return sl_ag_nll_loss(in, t, w, red, ignore, err);
    return sl_ag_cross_entropy(in, t, w, red, ignore, err);
}

/* ---- torch's bits ---- */

START_TEST(test_linear_torch) { run_file("nnops_linear.txt", case_linear); }
END_TEST

START_TEST(test_conv_torch) { run_file("nnops_conv.txt", case_conv); }
END_TEST

START_TEST(test_softmax_torch) { run_file("nnops_softmax.txt", case_softmax); }
END_TEST

START_TEST(test_leaky_torch) { run_file("nnops_leaky.txt", case_leaky); }
END_TEST

START_TEST(test_loss_torch) { run_file("nnops_loss.txt", case_loss); }
END_TEST

/* seed 003: Conv2d(1, 4, kernel_size=4, bias=False) on 4x4 patterns,
 * .view(1, 4), CrossEntropyLoss, SGD(lr=0.001, momentum=0.9), two epochs */
START_TEST(test_seed003)
{
    FILE *f = open_data("nnops_seed003.txt");
    Case c = {0};
    char *buf = NULL;
    size_t cap = 0;
    int lineno = 0, steps = 0;
    SlError err = {0};
    mismatches = 0;
    ck_assert(next_case(f, &c, &buf, &cap, &lineno));
    ck_assert_str_eq(c.op, "seed003_init");
    SlTensor *w = sl_tensor_clone(get(&c, "w")), *mbuf = NULL;
    w->requires_grad = true;
    SlTensor *mom = sl_tensor_scalar_d(SL_DT_F64, 0.9, 0);
    mom->wrapped = true;
    int stride[2] = {1, 1}, padding[2] = {0, 0};
    while (next_case(f, &c, &buf, &cap, &lineno)) {
        if (w->grad)
            sl_tensor_fill_d(w->grad, 0.0); /* optimizer.zero_grad() in 1.13 zeroes in place */
        SlTensor *y = sl_ag_conv2d(get(&c, "x"), w, NULL, stride, padding, &err);
        int64_t s14[2] = {1, 4};
        SlTensor *out = y ? sl_ag_view(y, 2, s14, &err) : NULL;
        SlTensor *loss = out ? sl_ag_cross_entropy(out, get(&c, "target"), NULL, SL_RED_MEAN, -100, &err) : NULL;
        ck_assert_msg(loss != NULL, "step %d: %s", steps, err.msg);
        expect_same(out, get(&c, "out"), "out", &c);
        expect_same(loss, get(&c, "loss"), "loss", &c);
        ck_assert(sl_ag_backward(loss, NULL, false, &err));
        expect_same(w->grad, get(&c, "g_w"), "g_w", &c);
        /* torch 1.13's _single_tensor_sgd */
        if (!mbuf) {
            mbuf = sl_tensor_clone(w->grad);
        } else {
            ck_assert(sl_tensor_mul_(mbuf, mom, &err));
            ck_assert(sl_tensor_add_(mbuf, w->grad, 1.0, &err));
        }
        ck_assert(sl_tensor_add_(w, mbuf, -0.001, &err));
        expect_same(w, get(&c, "w"), "w", &c);
        sl_tensor_unref(y);
        sl_tensor_unref(out);
        sl_tensor_unref(loss);
        steps++;
    }
    ck_assert_int_eq(steps, 80);
    ck_assert_msg(mismatches == 0, "seed 003: %d elements differ from torch", mismatches);
    sl_tensor_unref(w);
    sl_tensor_unref(mbuf);
    sl_tensor_unref(mom);
    case_clear(&c);
    free(buf);
    fclose(f);
}
END_TEST

/* ---- finite differences ---- */


typedef struct ConvCtx {
    int stride[2], padding[2];
} ConvCtx;

static SlTensor *fd_linear(SlTensor **in, const void *ctx, SlError *err)
{
    (void)ctx;
    return sl_ag_linear(in[0], in[1], in[2], err);
}

static SlTensor *fd_conv(SlTensor **in, const void *ctx, SlError *err)
{
    const ConvCtx *k = ctx;
    return sl_ag_conv2d(in[0], in[1], in[2], k->stride, k->padding, err);
}

typedef struct SmCtx {
    int dim;
    bool log;
    double slope;
    SlReduction red;
    int op;
} SmCtx;

static SlTensor *fd_softmax(SlTensor **in, const void *ctx, SlError *err)
{
    const SmCtx *k = ctx;
    return sl_ag_softmax(in[0], k->dim, k->log, err);
}

static SlTensor *fd_leaky(SlTensor **in, const void *ctx, SlError *err)
{
    const SmCtx *k = ctx;
    return sl_ag_leaky_relu(in[0], k->slope, err);
}

enum { L_MSE, L_L1, L_BCE, L_NLL, L_CE };

static SlTensor *fd_loss(SlTensor **in, const void *ctx, SlError *err)
{
    const SmCtx *k = ctx;
    switch (k->op) {
    case L_MSE: return sl_ag_mse_loss(in[0], in[1], k->red, err);
    case L_L1: return sl_ag_l1_loss(in[0], in[1], k->red, err);
    case L_BCE: return sl_ag_bce_loss(in[0], in[1], in[2], k->red, err);
    case L_NLL: return sl_ag_nll_loss(in[0], in[1], in[2], k->red, -100, err);
    default: return sl_ag_cross_entropy(in[0], in[1], in[2], k->red, k->dim, err);
    }
}

static SlTensor *targets(int nd, const int64_t *shape, int64_t classes)
{
    SlTensor *t = sl_tensor_zeros(SL_DT_I64, nd, shape, 0, NULL);
    for (int64_t i = 0, n = sl_tensor_numel(t); i < n; i++)
        sl_tensor_set_i(t, i, (int64_t)urand(0, (double)classes - 1e-9));
    return t;
}

static void fd_all(void)
{
    static const bool all[3] = {true, true, true}, first[3] = {true, false, false};
    /* linear: 2-d with bias (addmm), 1-d, 3-d, no bias */
    {
        int64_t xs[3][3] = {{3, 4}, {4}, {2, 3, 4}};
        int xn[3] = {2, 1, 3};
        for (int v = 0; v < 3; v++)
            for (int bias = 0; bias < 2; bias++) {
                int64_t ws[2] = {5, 4}, bs[1] = {5};
                SlTensor *in[3] = {rnd(xn[v], xs[v], -2, 2), rnd(2, ws, -1, 1), bias ? rnd(1, bs, -1, 1) : NULL};
                fd_check("linear", fd_linear, NULL, in, 3, all);
                for (int i = 0; i < 3; i++)
                    sl_tensor_unref(in[i]);
            }
    }
    /* conv2d: every path's shapes (float64 and mpfr take one order, but
     * the geometry of strides, padding and channels is shared) */
    {
        static const int cfg[][12] = {
            {1, 1, 4, 4, 4, 4, 4, 1, 1, 0, 0, 0}, {2, 3, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1},
            {2, 2, 6, 5, 3, 3, 2, 2, 1, 1, 0, 1}, {1, 2, 4, 4, 2, 1, 1, 2, 2, 0, 0, 1},
            {2, 1, 4, 4, 2, 2, 2, 1, 1, 2, 2, 1}, {0, 2, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1},
        };
        for (size_t k = 0; k < sizeof cfg / sizeof cfg[0]; k++) {
            const int *q = cfg[k];
            int64_t xs[4] = {q[0], q[1], q[2], q[3]}, ws[4] = {q[4], q[1], q[5], q[6]}, bs[1] = {q[4]};
            ConvCtx ctx = {{q[7], q[8]}, {q[9], q[10]}};
            SlTensor *in[3] = {q[0] ? rnd(4, xs, -1, 1) : rnd(3, xs + 1, -1, 1), rnd(4, ws, -1, 1),
                               q[11] ? rnd(1, bs, -1, 1) : NULL};
            fd_check("conv2d", fd_conv, &ctx, in, 3, all);
            for (int i = 0; i < 3; i++)
                sl_tensor_unref(in[i]);
        }
    }
    /* softmax and log_softmax along last and inner dims */
    {
        int64_t s[3] = {2, 3, 4};
        for (int dim = -1; dim < 3; dim++)
            for (int lg = 0; lg < 2; lg++) {
                SmCtx ctx = {.dim = dim, .log = lg};
                SlTensor *in[1] = {rnd(3, s, -3, 3)};
                fd_check("softmax", fd_softmax, &ctx, in, 1, all);
                sl_tensor_unref(in[0]);
            }
    }
    /* leaky_relu away from the kink */
    {
        int64_t s[1] = {9};
        SmCtx ctx = {.slope = 0.2};
        SlTensor *in[1] = {rnd(1, s, 0.1, 2)};
        for (int64_t i = 0; i < 9; i += 2)
            sl_tensor_set_d(in[0], i, -urand(0.1, 2));
        fd_check("leaky_relu", fd_leaky, &ctx, in, 1, all);
        sl_tensor_unref(in[0]);
    }
    /* losses, each reduction */
    for (int red = 0; red < 3; red++) {
        int64_t s[2] = {3, 4}, sb[1] = {4}, s3[1] = {3};
        SmCtx ctx = {.red = (SlReduction)red, .op = L_MSE, .dim = -100};
        SlTensor *a[3] = {rnd(2, s, -2, 2), rnd(2, s, -2, 2), NULL};
        fd_check("mse", fd_loss, &ctx, a, 2, all);
        SlTensor *bt = rnd(1, sb, -2, 2);
        SlTensor *a2[3] = {a[0], bt, NULL}; /* broadcast target */
        fd_check("mse broadcast", fd_loss, &ctx, a2, 2, all);
        ctx.op = L_L1;
        fd_check("l1", fd_loss, &ctx, a, 2, all);
        sl_tensor_unref(bt);
        sl_tensor_unref(a[0]);
        sl_tensor_unref(a[1]);
        ctx.op = L_BCE;
        SlTensor *b[3] = {rnd(2, s, 0.05, 0.95), rnd(2, s, 0, 1), rnd(1, sb, 0.5, 2)};
        fd_check("bce", fd_loss, &ctx, b, 3, (const bool[3]){true, true, false});
        sl_tensor_unref(b[2]);
        b[2] = NULL;
        fd_check("bce no weight", fd_loss, &ctx, b, 3, (const bool[3]){true, true, false});
        sl_tensor_unref(b[0]);
        sl_tensor_unref(b[1]);
        ctx.op = L_NLL;
        SlTensor *c[3] = {rnd(2, s, -3, 0), targets(1, s3, 4), rnd(1, sb, 0.5, 2)};
        fd_check("nll", fd_loss, &ctx, c, 3, first);
        ctx.op = L_CE;
        fd_check("cross_entropy", fd_loss, &ctx, c, 3, first);
        sl_tensor_unref(c[2]);
        c[2] = NULL;
        fd_check("cross_entropy no weight", fd_loss, &ctx, c, 3, first);
        sl_tensor_unref(c[0]);
        sl_tensor_unref(c[1]);
        /* probabilities */
        SlTensor *p[3] = {rnd(2, s, -2, 2), rnd(2, s, 0, 1), rnd(1, sb, 0.5, 2)};
        fd_check("cross_entropy probs", fd_loss, &ctx, p, 3, (const bool[3]){true, true, false});
        for (int i = 0; i < 3; i++)
            sl_tensor_unref(p[i]);
        /* one sample: (C) input, () target */
        SlTensor *o[3] = {rnd(1, sb, -2, 2), targets(0, NULL, 4), NULL};
        fd_check("cross_entropy 1-d", fd_loss, &ctx, o, 3, first);
        ctx.op = L_NLL;
        fd_check("nll 1-d", fd_loss, &ctx, o, 3, first);
        sl_tensor_unref(o[0]);
        sl_tensor_unref(o[1]);
    }
}

START_TEST(test_fd_f64)
{
    fd_prec = 0;
    fd_all();
}
END_TEST

START_TEST(test_fd_mpfr)
{
    fd_prec = 256;
    fd_all();
}
END_TEST

/* ---- errors ---- */

static void expect_err(SlTensor *r, SlError *err, const char *msg)
{
    ck_assert_ptr_null(r);
    ck_assert_msg(err->set, "no error, expected: %s", msg);
    ck_assert_msg(strcmp(err->msg, msg) == 0, "got \"%s\", expected \"%s\"", err->msg, msg);
    sl_err_clear(err);
}

static SlTensor *zf(SlDType dt, int nd, const int64_t *s) { return sl_tensor_zeros(dt, nd, s, 0, NULL); }

START_TEST(test_errors)
{
    SlError err = {0};
    int64_t s23[2] = {2, 3}, s22[2] = {2, 2}, s43[2] = {4, 3}, s4[1] = {4}, s3[1] = {3}, s2[1] = {2};
    SlTensor *W = zf(SL_DT_F32, 2, s43), *b = zf(SL_DT_F32, 1, s4);
    SlTensor *x22 = zf(SL_DT_F32, 2, s22), *x23d = zf(SL_DT_F64, 2, s23), *x2 = zf(SL_DT_F32, 1, s2);
    expect_err(sl_ag_linear(x22, W, b, &err), &err, "mat1 and mat2 shapes cannot be multiplied (2x2 and 3x4)");
    expect_err(sl_ag_linear(x2, W, b, &err), &err, "mat1 and mat2 shapes cannot be multiplied (1x2 and 3x4)");
    expect_err(sl_ag_linear(x23d, W, b, &err), &err, "mat1 and mat2 must have the same dtype");
    SlTensor *x3d = zf(SL_DT_F64, 1, s3), *x3l = sl_tensor_zeros(SL_DT_I64, 1, s3, 0, NULL);
    expect_err(sl_ag_linear(x3d, W, b, &err), &err, "expected scalar type Double but found Float");
    expect_err(sl_ag_linear(x3l, W, NULL, &err), &err, "expected scalar type Long but found Float");
    expect_err(sl_ag_linear(x23d, W, NULL, &err), &err, "expected scalar type Double but found Float");
    sl_tensor_unref(x3d);
    sl_tensor_unref(x3l);
    SlTensor *s0 = sl_tensor_scalar_d(SL_DT_F32, 1, 0);
    expect_err(sl_ag_linear(s0, W, b, &err), &err,
               "both arguments to matmul need to be at least 1D, but they are 0D and 2D");

    int64_t xs[4] = {1, 1, 4, 4}, x3s[4] = {1, 3, 4, 4}, xsm[4] = {1, 1, 3, 3}, ws[4] = {4, 1, 4, 4};
    SlTensor *x = zf(SL_DT_F32, 4, xs), *x3 = zf(SL_DT_F32, 4, x3s), *xsmall = zf(SL_DT_F32, 4, xsm);
    SlTensor *w = zf(SL_DT_F32, 4, ws), *wd = zf(SL_DT_F64, 4, ws), *xd = zf(SL_DT_F64, 4, xs);
    SlTensor *b3 = zf(SL_DT_F32, 1, s3), *bd = zf(SL_DT_F64, 1, s4);
    int st[2] = {1, 1}, pd[2] = {0, 0}, st0[2] = {0, 1}, pdn[2] = {-1, 0};
    expect_err(sl_ag_conv2d(x3, w, NULL, st, pd, &err), &err,
               "Given groups=1, weight of size [4, 1, 4, 4], expected input[1, 3, 4, 4] to have 1 channels, but got "
               "3 channels instead");
    expect_err(sl_ag_conv2d(xsmall, w, NULL, st, pd, &err), &err,
               "Calculated padded input size per channel: (3 x 3). Kernel size: (4 x 4). Kernel size can't be "
               "greater than actual input size");
    expect_err(sl_ag_conv2d(x22, w, NULL, st, pd, &err), &err,
               "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [2, 2]");
    expect_err(sl_ag_conv2d(x, w, b3, st, pd, &err), &err,
               "Given weight of size [4, 1, 4, 4], expected bias to be 1-dimensional with 4 elements, but got bias "
               "of size [3] instead");
    expect_err(sl_ag_conv2d(x, w, NULL, st0, pd, &err), &err, "non-positive stride is not supported");
    expect_err(sl_ag_conv2d(x, w, NULL, st, pdn, &err), &err, "negative padding is not supported");
    expect_err(sl_ag_conv2d(xd, w, NULL, st, pd, &err), &err, "expected scalar type Double but found Float");
    expect_err(sl_ag_conv2d(x, wd, NULL, st, pd, &err), &err,
               "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor) should be the same or input "
               "should be a MKLDNN tensor and weight is a dense tensor");
    expect_err(sl_ag_conv2d(x, w, bd, st, pd, &err), &err, "Input type (float) and bias type (double) should be the same");

    SlTensor *li = sl_tensor_zeros(SL_DT_I64, 1, s2, 0, NULL);
    expect_err(sl_ag_softmax(x22, 2, false, &err), &err, "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    expect_err(sl_ag_softmax(li, 0, false, &err), &err, "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'");
    expect_err(sl_ag_leaky_relu(li, 0.1, &err), &err, "\"leaky_relu_cpu\" not implemented for 'Long'");

    SlTensor *f3 = zf(SL_DT_F32, 1, s3);
    expect_err(sl_ag_mse_loss(f3, x2, SL_RED_MEAN, &err), &err,
               "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0");
    expect_err(sl_ag_l1_loss(f3, x2, SL_RED_MEAN, &err), &err,
               "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0");
    expect_err(sl_ag_bce_loss(f3, x2, NULL, SL_RED_MEAN, &err), &err,
               "Using a target size (torch.Size([2])) that is different to the input size (torch.Size([3])) is "
               "deprecated. Please ensure they have the same size.");
    SlTensor *big = sl_tensor_full_d(SL_DT_F32, 1, s3, 0, 1.5, NULL);
    expect_err(sl_ag_bce_loss(big, f3, NULL, SL_RED_MEAN, &err), &err, "all elements of input should be between 0 and 1");
    SlTensor *f3d = zf(SL_DT_F64, 1, s3), *l3 = sl_tensor_zeros(SL_DT_I64, 1, s3, 0, NULL);
    expect_err(sl_ag_bce_loss(f3d, f3, NULL, SL_RED_MEAN, &err), &err, "Found dtype Float but expected Double");
    expect_err(sl_ag_bce_loss(f3, l3, NULL, SL_RED_MEAN, &err), &err, "Found dtype Long but expected Float");
    expect_err(sl_ag_bce_loss(f3, f3, x2, SL_RED_MEAN, &err), &err,
               "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0");

    int64_t s35[2] = {3, 5}, s5[1] = {5}, s13[2] = {1, 3};
    SlTensor *in = zf(SL_DT_F32, 2, s35), *in1 = zf(SL_DT_F32, 1, s5);
    SlTensor *t = sl_tensor_zeros(SL_DT_I64, 1, s3, 0, NULL);
    sl_tensor_set_i(t, 1, 5);
    expect_err(sl_ag_nll_loss(in, t, NULL, SL_RED_MEAN, -100, &err), &err, "Target 5 is out of bounds.");
    expect_err(sl_ag_cross_entropy(in, t, NULL, SL_RED_MEAN, -100, &err), &err, "Target 5 is out of bounds.");
    sl_tensor_set_i(t, 1, -1);
    expect_err(sl_ag_nll_loss(in, t, NULL, SL_RED_SUM, -100, &err), &err, "Target -1 is out of bounds.");
    expect_err(sl_ag_nll_loss(in, f3, NULL, SL_RED_MEAN, -100, &err), &err, "expected scalar type Long but found Float");
    SlTensor *t2 = sl_tensor_zeros(SL_DT_I64, 1, s2, 0, NULL), *t13 = sl_tensor_zeros(SL_DT_I64, 2, s13, 0, NULL);
    expect_err(sl_ag_nll_loss(in, t2, NULL, SL_RED_MEAN, -100, &err), &err,
               "Expected input batch_size (3) to match target batch_size (2).");
    expect_err(sl_ag_cross_entropy(in, t2, NULL, SL_RED_MEAN, -100, &err), &err,
               "Expected input batch_size (3) to match target batch_size (2).");
    expect_err(sl_ag_nll_loss(in, t13, NULL, SL_RED_MEAN, -100, &err), &err,
               "Expected input batch_size (3) to match target batch_size (1).");
    SlTensor *t1 = sl_tensor_zeros(SL_DT_I64, 1, (const int64_t[1]){1}, 0, NULL);
    expect_err(sl_ag_nll_loss(in1, t1, NULL, SL_RED_MEAN, -100, &err), &err,
               "size mismatch (got input: [5], target: [1])");
    sl_tensor_set_i(t, 1, 0);
    expect_err(sl_ag_nll_loss(in, t, f3, SL_RED_MEAN, -100, &err), &err,
               "weight tensor should be defined either for all 5 classes or no classes but got weight tensor of "
               "shape: [3]");
    SlTensor *sc = sl_tensor_scalar_d(SL_DT_F32, 1, 0), *ti = sl_tensor_scalar_i(SL_DT_I64, 1, 0);
    expect_err(sl_ag_nll_loss(sc, ti, NULL, SL_RED_MEAN, -100, &err), &err, "Expected 1 or more dimensions (got 0)");
    SlTensor *lprob = sl_tensor_zeros(SL_DT_I64, 2, s35, 0, NULL);
    expect_err(sl_ag_cross_entropy(in, lprob, NULL, SL_RED_MEAN, -100, &err), &err,
               "Expected floating point type for target with class probabilities, got Long");

    SlTensor *all[] = {W, b, x22, x23d, x2, s0, x, x3, xsmall, w, wd, xd, b3, bd, li, f3, big, f3d, l3,
                       in, in1, t, t2, t13, t1, sc, ti, lprob};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_tensor_unref(all[i]);
}
END_TEST

/* grad_fn names for inputs the data files don't cover */
START_TEST(test_graph_names)
{
    SlError err = {0};
    int64_t s[3] = {2, 5, 3}, ws[2] = {4, 3}, bs[1] = {4};
    SlTensor *x = sl_tensor_zeros(SL_DT_F32, 3, s, 0, NULL), *w = sl_tensor_zeros(SL_DT_F32, 2, ws, 0, NULL);
    SlTensor *b = sl_tensor_zeros(SL_DT_F32, 1, bs, 0, NULL);
    w->requires_grad = b->requires_grad = true;
    SlTensor *xt = sl_tensor_transpose(x, 0, 1, &err);
    SlTensor *y = sl_ag_linear(xt, w, b, &err); /* not contiguous: matmul + add */
    ck_assert_str_eq(sl_node_name(y->grad_fn), "AddBackward0");
    ck_assert(sl_ag_backward(y, NULL, false, &err) == false);
    sl_err_clear(&err);
    SlTensor *sum = sl_ag_sum(y, 0, true, false, &err);
    ck_assert(sl_ag_backward(sum, NULL, false, &err));
    ck_assert_double_eq(sl_tensor_get_d(b->grad, 0), 10.0);
    sl_tensor_unref(sum);
    SlTensor *yy = sl_ag_linear(x, w, b, &err);
    ck_assert_str_eq(sl_node_name(yy->grad_fn), "ViewBackward0");
    /* an addmm's weight edge goes through TBackward0 */
    int64_t s2[2] = {2, 3};
    SlTensor *x2 = sl_tensor_zeros(SL_DT_F32, 2, s2, 0, NULL);
    SlTensor *y2 = sl_ag_linear(x2, w, b, &err);
    ck_assert_str_eq(sl_node_name(y2->grad_fn), "AddmmBackward0");
    ck_assert_str_eq(sl_node_name(y2->grad_fn->next[2]), "TBackward0");
    ck_assert_ptr_null(y2->grad_fn->next[1]);
    SlTensor *all[] = {x, w, b, xt, y, yy, x2, y2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_tensor_unref(all[i]);
}
END_TEST

static Suite *nnops_suite(void)
{
    Suite *s = suite_create("nnops");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, count_start, count_end);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_linear_torch);
    tcase_add_test(tc, test_conv_torch);
    tcase_add_test(tc, test_softmax_torch);
    tcase_add_test(tc, test_leaky_torch);
    tcase_add_test(tc, test_loss_torch);
    tcase_add_test(tc, test_seed003);
    tcase_add_test(tc, test_fd_f64);
    tcase_add_test(tc, test_fd_mpfr);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_graph_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(nnops_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
