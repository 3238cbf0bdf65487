/* test_capture.c -- capture and replay (capture.h): kernels recorded and
 * replayed give what running the operations again gives, bit for bit; what
 * a plan cannot stand for fails the capture; and, through the evaluator,
 * training loops print the same with :replay on as with it off, while the
 * replay really runs. */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "capture.h"
#include "nnops.h"
#include "tensor.h"
#include "session.h"

static SlTensor *randn(int64_t r, int64_t c)
{
    SlError e = {0};
    int64_t shape[2] = {r, c};
    SlTensor *t = sl_tensor_randn(SL_DT_F32, 2, shape, 0, &e);
    ck_assert_ptr_nonnull(t);
    return t;
}

static float *f32(SlTensor *t) { return (float *)t->storage->data + t->offset; }

/* new numbers in t, written as an optimizer would (outside any capture) */
static void refill(SlTensor *t, float k)
{
    for (int64_t i = 0; i < sl_tensor_numel(t); i++)
        f32(t)[i] = f32(t)[i] * k + 0.25f;
    sl_tensor_bump_version(t);
}

START_TEST(test_mm_replays)
{
    sl_tensor_manual_seed(1);
    SlError e = {0};
    SlTensor *a = randn(3, 4), *b = randn(4, 5);
    sl_capture_begin();
    SlTensor *c = sl_tensor_mm_ex(a, false, b, false, false, &e);
    SlTensor *r = sl_tensor_unary(SL_FN_RELU, c, &e);
    const char *why = "unset";
    SlPlan *p = sl_capture_end(&why);
    ck_assert_msg(p != NULL, "capture failed: %s", why);
    ck_assert_int_eq(sl_plan_size(p), 2);
    /* the plan keeps r's storage: drop the tensor, keep the numbers' home */
    SlStorage *rs = r->storage;
    sl_storage_ref(rs);
    sl_tensor_unref(r);
    sl_tensor_unref(c);
    for (int round = 0; round < 3; round++) {
        refill(a, -1.5f);
        refill(b, 0.75f);
        SlPlanStop where;
        ck_assert_int_eq(sl_plan_run(p, NULL, &where, &e), SL_PLAN_DONE);
        SlTensor *c2 = sl_tensor_mm_ex(a, false, b, false, false, &e);
        SlTensor *r2 = sl_tensor_unary(SL_FN_RELU, c2, &e);
        ck_assert_mem_eq(rs->data, f32(r2), 15 * sizeof(float));
        sl_tensor_unref(c2);
        sl_tensor_unref(r2);
    }
    sl_plan_free(p);
    sl_storage_unref(rs);
    sl_tensor_unref(a);
    sl_tensor_unref(b);
}
END_TEST

START_TEST(test_unclaimed_result_fails)
{
    SlError e = {0};
    int64_t shape[1] = {4};
    sl_capture_begin();
    SlTensor *z = sl_tensor_zeros(SL_DT_F32, 1, shape, 0, &e); /* made by no kernel */
    const char *why = NULL;
    SlPlan *p = sl_capture_end(&why);
    ck_assert_ptr_null(p);
    ck_assert_str_eq(why, "it makes a tensor with an operation that has no replay");
    sl_tensor_unref(z);
}
END_TEST

START_TEST(test_reading_unclaimed_fails)
{
    SlError e = {0};
    int64_t shape[1] = {4};
    sl_capture_begin();
    SlTensor *z = sl_tensor_zeros(SL_DT_F32, 1, shape, 0, &e);
    SlTensor *r = sl_tensor_unary(SL_FN_EXP, z, &e); /* a kernel, but its input came from nowhere */
    ck_assert_int_eq(sl_cap_on, 0);                   /* recording stopped there */
    const char *why = NULL;
    ck_assert_ptr_null(sl_capture_end(&why));
    ck_assert_str_eq(why, "it reads a result made by an operation that has no replay");
    sl_tensor_unref(z);
    sl_tensor_unref(r);
}
END_TEST

START_TEST(test_unrecorded_inplace_fails)
{
    SlTensor *t = randn(2, 2);
    sl_capture_begin();
    sl_tensor_fill_d(t, 1.0);
    sl_tensor_bump_version(t);
    const char *why = NULL;
    ck_assert_ptr_null(sl_capture_end(&why));
    ck_assert_str_eq(why, "it changes a tensor in place with an operation that has no replay");
    sl_tensor_unref(t);
}
END_TEST

START_TEST(test_const_and_suspend)
{
    SlError e = {0};
    SlTensor *x = randn(2, 3);
    sl_capture_begin();
    sl_capture_suspend();
    SlTensor *hidden = sl_tensor_zeros(SL_DT_F32, 2, x->shape, 0, &e); /* not the plan's business */
    sl_capture_resume();
    SlTensor *one = sl_tensor_ones_like(x, &e);
    sl_capture_const(one);
    SlTensor *r = sl_tensor_unary(SL_FN_SIGMOID, one, &e);
    const char *why = NULL;
    SlPlan *p = sl_capture_end(&why);
    ck_assert_msg(p != NULL, "capture failed: %s", why);
    ck_assert_int_eq(sl_plan_size(p), 1);
    sl_plan_free(p);
    sl_capture_begin();
    const char *why2 = NULL;
    ck_assert_ptr_null(sl_capture_end(&why2));
    ck_assert_str_eq(why2, "it runs no tensor kernels (nothing to gain)");
    sl_tensor_unref(hidden);
    sl_tensor_unref(one);
    sl_tensor_unref(r);
    sl_tensor_unref(x);
}
END_TEST

START_TEST(test_untouched)
{
    SlError e = {0};
    SlTensor *x = randn(2, 3);
    sl_capture_begin();
    SlTensor *r = sl_tensor_unary(SL_FN_RELU, x, &e);
    const char *why = NULL;
    SlPlan *p = sl_capture_end(&why);
    ck_assert_ptr_nonnull(p);
    ck_assert(sl_plan_untouched(p));
    SlTensor *view = sl_tensor_alias(r); /* someone else now sees r's numbers */
    ck_assert(!sl_plan_untouched(p));
    sl_tensor_unref(view);
    ck_assert(sl_plan_untouched(p));
    sl_plan_free(p);
    sl_tensor_unref(r);
    sl_tensor_unref(x);
}
END_TEST

static int calls;

static bool count_call(void *obj, void *ctx, SlError *err)
{
    (void)ctx;
    calls++;
    if (calls == *(int *)obj)
        return sl_err(err, SL_E_VALUE, "call %d fails", calls);
    return true;
}

START_TEST(test_calls_and_errors)
{
    SlError e = {0};
    static int fail_at = 3;
    static const char where_mark[] = "statement";
    SlTensor *x = randn(1, 4);
    calls = 0;
    sl_capture_begin();
    SlTensor *r = sl_tensor_unary(SL_FN_TANH, x, &e);
    sl_capture_where(where_mark);
    sl_capture_call(count_call, &fail_at, NULL);
    const char *why = NULL;
    SlPlan *p = sl_capture_end(&why);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(sl_plan_size(p), 2);
    SlPlanStop where;
    ck_assert_int_eq(sl_plan_run(p, NULL, &where, &e), SL_PLAN_DONE);
    ck_assert_int_eq(sl_plan_run(p, NULL, &where, &e), SL_PLAN_DONE);
    ck_assert_int_eq(sl_plan_run(p, NULL, &where, &e), SL_PLAN_ERROR);
    ck_assert_ptr_eq(where.where, where_mark);
    ck_assert_int_eq(where.resume, -1);
    ck_assert(strstr(e.msg, "call 3 fails") != NULL);
    sl_err_clear(&e);
    sl_plan_free(p);
    sl_tensor_unref(r);
    sl_tensor_unref(x);
}
END_TEST

/* one step of a linear layer + relu + mse, forward and backward */
static SlTensor *step(SlTensor *x, SlTensor *w, SlTensor *b, SlTensor *y)
{
    SlError e = {0};
    SlTensor *z = sl_ag_linear(x, w, b, &e);
    SlTensor *h = sl_ag_unary(SL_FN_SIGMOID, z, &e);
    SlTensor *l = sl_ag_mse_loss(h, y, SL_RED_MEAN, &e);
    ck_assert(sl_ag_backward(l, NULL, false, &e));
    sl_tensor_unref(z);
    sl_tensor_unref(h);
    return l;
}

START_TEST(test_backward_replays)
{
    sl_tensor_manual_seed(2);
    SlError e = {0};
    SlTensor *x = randn(4, 3), *w = randn(2, 3), *y = randn(4, 2);
    int64_t bs[1] = {2};
    SlTensor *b = sl_tensor_randn(SL_DT_F32, 1, bs, 0, &e);
    sl_ag_requires_grad_(w, true, &e);
    sl_ag_requires_grad_(b, true, &e);
    sl_tensor_unref(step(x, w, b, y)); /* the grads exist from now on */
    sl_tensor_fill_d(w->grad, 0.0);
    sl_tensor_fill_d(b->grad, 0.0);
    sl_capture_begin();
    SlTensor *loss = step(x, w, b, y);
    const char *why = NULL;
    SlPlan *p = sl_capture_end(&why);
    ck_assert_msg(p != NULL, "capture failed: %s", why);
    for (int round = 0; round < 3; round++) {
        /* what an optimizer does between steps, then the step again both ways */
        refill(w, 0.5f);
        refill(b, -0.5f);
        sl_tensor_fill_d(w->grad, 0.0);
        sl_tensor_fill_d(b->grad, 0.0);
        SlPlanStop where;
        ck_assert_int_eq(sl_plan_run(p, NULL, &where, &e), SL_PLAN_DONE);
        float lr = f32(loss)[0], gw[6], gb[2];
        memcpy(gw, f32(w->grad), sizeof gw);
        memcpy(gb, f32(b->grad), sizeof gb);
        sl_tensor_fill_d(w->grad, 0.0);
        sl_tensor_fill_d(b->grad, 0.0);
        SlTensor *l2 = step(x, w, b, y);
        ck_assert_mem_eq(&lr, f32(l2), sizeof lr);
        ck_assert_mem_eq(gw, f32(w->grad), sizeof gw);
        ck_assert_mem_eq(gb, f32(b->grad), sizeof gb);
        sl_tensor_unref(l2);
    }
    sl_plan_free(p);
    sl_tensor_unref(loss);
    SlTensor *all[5] = {x, w, b, y, NULL};
    for (int i = 0; all[i]; i++)
        sl_tensor_unref(all[i]);
}
END_TEST

/* ---- through the evaluator ---------------------------------------------- */

/* A training program: MODEL, OPT and LOOP filled in; prints its results. */
static char *train_text(const char *dtype, const char *model, const char *opt, const char *loop)
{
    char *t = NULL;
    if (asprintf(&t,
                 "torch.manual_seed(0)\n"
                 "x = torch.tensor([[1.0,1.0], [1.0,0.0], [0.0,0.1], [0.0,0.0]], dtype=torch.%s)\n"
                 "y = torch.tensor([[1.0],[0.0],[0.0],[1.0]], dtype=torch.%s)\n"
                 "l1 = nn.Linear(2, 6, dtype=torch.%s)\n"
                 "l2 = nn.Linear(6, 1, dtype=torch.%s)\n"
                 "%s\n%s\ncrit = nn.MSELoss()\nseen = []\n"
                 "def train(n) {\n"
                 "    for i in range(n) {\n%s\n    }\n"
                 "    return loss\n"
                 "}\n"
                 "print(train(60).item(), l1.weight, l2.bias.grad, len(seen))\n",
                 dtype, dtype, dtype, dtype, model, opt, loop) < 0)
        abort();
    return t;
}

static const char *const step_lines = "        opt.zero_grad()\n"
                                      "        out = net(x)\n"
                                      "        loss = crit(out, y)\n"
                                      "        loss.backward()\n"
                                      "        opt.step()\n";

/* the program prints the same both ways; with replay on, :replay then
 * says what it did, which must start with want */
static void same_both_ways(const char *text, const char *want)
{
    SlSession *s = session();
    char *on = run(s, text, NULL);
    char *said = run(s, ":replay", NULL);
    sl_session_free(s);
    s = session();
    free(run(s, ":replay off", NULL));
    char *off = run(s, text, NULL);
    free(run(s, ":replay on", NULL));
    sl_session_free(s);
    ck_assert_msg(strcmp(on, off) == 0, "program:\n%s\nreplay on:\n%s\nreplay off:\n%s", text, on, off);
    ck_assert_msg(strstr(on, "Error") == NULL && strstr(on, "error") == NULL, "program failed:\n%s\n%s", text,
                  on);
    ck_assert_msg(strncmp(said, want, strlen(want)) == 0, "program:\n%s\n:replay says %s, not %s", text, said,
                  want);
    free(on);
    free(off);
    free(said);
}

static const char *const sgd_variants[] = {
    "opt = optim.SGD(parameters(net), lr=0.1)",
    "opt = optim.SGD(parameters(net), lr=0.1, momentum=0.9)",
    "opt = optim.SGD(parameters(net), lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)",
    "opt = optim.SGD(parameters(net), lr=0.1, momentum=0.5, dampening=0.3)",
    "opt = optim.Adam(parameters(net), lr=0.01)",
    "opt = optim.Adam(parameters(net), lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)",
    "optimizer Mine(lr=0.05) {\n    state v = 0\n    v.mul_(0.9).add_(p.grad)\n    p.add_(v, alpha=-lr)\n}\n"
    "opt = Mine(parameters(net))",
    NULL};

START_TEST(test_optimizers_same_both_ways)
{
    const char *dtypes[] = {"float32", "float64"};
    const char *models[] = {"net(v) = sigmoid(l2(relu(l1(v))))", "net(v) = sigmoid(l2(tanh(l1(v))))",
                            "net(v) = (l2(relu(l1(v))) - 0.5) * 0.5 / 2 + 0.25 * torch.sigmoid(l2(relu(l1(v))))",
                            "net(v) = sigmoid(l2(F.leaky_relu(l1(v), 0.1)))", NULL};
    for (int d = 0; d < 2; d++)
        for (int m = 0; models[m]; m++)
            for (int i = 0; sgd_variants[i]; i++) {
                char *t = train_text(dtypes[d], models[m], sgd_variants[i], step_lines);
                same_both_ways(t, "on; last loop: replayed 5 of the body's 5 statements");
                free(t);
            }
}
END_TEST

/* classifiers: cross entropy through log_softmax and nll_loss, softmax,
 * sums over expanded gradients, dtype casts of gradients */
START_TEST(test_classifiers_same_both_ways)
{
    static const char *const losses[] = {
        "crit(net(x), y)",
        "F.nll_loss(F.log_softmax(net(x), dim=1), y, reduction=\"sum\")",
        "F.cross_entropy(net(x), y, reduction=\"none\").sum() * 0.5 + torch.softmax(net(x), 1).sum() * 0.1",
        "net(x).sum() * 0.1 + net(x).mean()",
        NULL};
    for (int i = 0; losses[i]; i++) {
        char *t = NULL;
        if (asprintf(&t,
                     "torch.manual_seed(0)\n"
                     "x = torch.randn(8, 3)\n"
                     "y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])\n"
                     "net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 3))\n"
                     "opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)\n"
                     "crit = nn.CrossEntropyLoss()\n"
                     "for epoch in range(50) {\n"
                     "    opt.zero_grad()\n"
                     "    loss = %s\n"
                     "    loss.backward()\n"
                     "    opt.step()\n"
                     "}\n"
                     "print(loss.item(), net[2].bias.grad)\n",
                     losses[i]) < 0)
            abort();
        same_both_ways(t, "on; last loop: replayed 4 of the body's 4 statements");
        free(t);
    }
}
END_TEST

/* what tutorials write: a hand-written model updated by hand in no_grad,
 * x ** 2, a broadcast bias, module.zero_grad()/train()/eval() */
START_TEST(test_tutorial_loops_same_both_ways)
{
    static const char *const setup = "torch.manual_seed(0)\n"
                                      "X = torch.randn(16, 3)\n"
                                      "Y = torch.randn(16, 1)\n";
    static const char *const loops[][2] = {
        {"w = torch.randn(3, 1, requires_grad=True)\n"
         "b = torch.zeros(1, requires_grad=True)\n"
         "def forward(x) { return x @ w + b }\n"
         "for epoch in range(100) {\n"
         "    y_pred = forward(X)\n"
         "    l = ((y_pred - Y) ** 2).mean()\n"
         "    l.backward()\n"
         "    no_grad {\n"
         "        w -= 0.05 * w.grad\n"
         "        b -= 0.05 * b.grad\n"
         "    }\n"
         "    w.grad.zero_()\n"
         "    b.grad.zero_()\n"
         "}\n"
         "print(l.item(), w)\n",
         "on; last loop: replayed 3 of the body's 6 statements"},
        {"W1 = torch.randn(3, 8, requires_grad=True)\n"
         "b1 = torch.zeros(8, requires_grad=True)\n"
         "W2 = torch.randn(8, 1, requires_grad=True)\n"
         "opt = optim.Adam([W1, b1, W2], lr=0.01)\n"
         "for epoch in range(100) {\n"
         "    opt.zero_grad()\n"
         "    h = torch.tanh(X @ W1 + b1)\n"
         "    loss = (h @ W2 - Y).pow(2).mean() + (h ** 3).sum() * 0.001\n"
         "    loss.backward()\n"
         "    opt.step()\n"
         "}\n"
         "print(loss.item(), b1.grad)\n",
         "on; last loop: replayed 5 of the body's 5 statements"},
        {"model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))\n"
         "opt = optim.SGD(model.parameters(), lr=0.05)\n"
         "for epoch in range(100) {\n"
         "    model.train()\n"
         "    model.zero_grad()\n"
         "    loss = F.mse_loss(model(X), Y)\n"
         "    loss.backward()\n"
         "    opt.step()\n"
         "    model.eval()\n"
         "}\n"
         "print(loss.item(), model.training)\n",
         "on; last loop: replayed 6 of the body's 6 statements"},
        {"Yb = (Y > 0).float()\n"
         "W = torch.ones(16, 1) * 0.5\n"
         "model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())\n"
         "opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)\n"
         "crit = nn.BCELoss()\n"
         "for epoch in range(100) {\n"
         "    opt.zero_grad()\n"
         "    loss = crit(model(X), Yb) + F.binary_cross_entropy(model(X), Yb, weight=W, reduction=\"sum\") * 0.01\n"
         "    loss.backward()\n"
         "    opt.step()\n"
         "}\n"
         "print(loss.item())\n",
         "on; last loop: replayed 4 of the body's 4 statements"},
        /* a number changed with += is rebound each time: not replayed */
        {"w = torch.randn(3, 1, requires_grad=True)\n"
         "lr = 0.1\n"
         "for epoch in range(20) {\n"
         "    l = ((X @ w - Y) ** 2).mean() * lr\n"
         "    l.backward()\n"
         "    lr -= 0.001\n"
         "}\n"
         "print(l.item(), w.grad)\n",
         "on; last loop: not replayed: lr changes with += and the like, and is not a tensor"},
    };
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        char *t = NULL;
        if (asprintf(&t, "%s%s", setup, loops[i][0]) < 0)
            abort();
        same_both_ways(t, loops[i][1]);
        free(t);
    }
}
END_TEST

/* a kernel that finds its inputs wrong at a replay fails it as the
 * operation would: a class index changed in place to one out of range */
START_TEST(test_kernel_error_at_replay)
{
    const char *t = "torch.manual_seed(0)\n"
                    "x = torch.randn(8, 3)\n"
                    "y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])\n"
                    "model = nn.Linear(3, 3)\n"
                    "opt = optim.SGD(model.parameters(), lr=0.1)\n"
                    "crit = nn.CrossEntropyLoss()\n"
                    "for epoch in range(10) {\n"
                    "    opt.zero_grad()\n"
                    "    loss = crit(model(x), y)\n"
                    "    loss.backward()\n"
                    "    opt.step()\n"
                    "    if epoch == 4 { y.add_(7) }\n"
                    "}\n";
    SlSession *s = session();
    char *on = run(s, t, NULL);
    sl_session_free(s);
    s = session();
    free(run(s, ":replay off", NULL));
    char *off = run(s, t, NULL);
    free(run(s, ":replay on", NULL));
    sl_session_free(s);
    ck_assert_str_eq(on, off);
    ck_assert_msg(strstr(on, "Target 7 is out of bounds.") != NULL, "%s", on);
    ck_assert_msg(strstr(on, "crit(model(x), y)\n             ^~~~~~~~~~~~~~~~~") != NULL, "%s", on);
    free(on);
    free(off);
}
END_TEST

START_TEST(test_rest_of_body_interpreted)
{
    /* printing, item(), a break and an lr schedule after the step */
    const char *loop = "        opt.zero_grad()\n"
                       "        loss = crit(net(x), y)\n"
                       "        loss.backward()\n"
                       "        opt.step()\n"
                       "        seen.append(loss.item())\n"
                       "        opt.lr = opt.lr * 0.99\n"
                       "        if i % 20 == 0 { print(i, loss.item()) }\n"
                       "        if loss.item() < 0.2 { break }\n";
    char *t = train_text("float32", "net(v) = sigmoid(l2(relu(l1(v))))", sgd_variants[1], loop);
    same_both_ways(t, "on; last loop: replayed 4 of the body's 8 statements");
    free(t);
}
END_TEST

START_TEST(test_what_stops_a_replay)
{
    /* a result kept across iterations: the replay stops before it would overwrite it */
    const char *kept = "        opt.zero_grad()\n"
                       "        loss = crit(net(x), y)\n"
                       "        loss.backward()\n"
                       "        opt.step()\n"
                       "        seen.append(loss)\n";
    char *t = train_text("float32", "net(v) = sigmoid(l2(relu(l1(v))))", sgd_variants[0], kept);
    char *t2 = NULL;
    if (asprintf(&t2, "%sprint(seen[0], seen[1], seen[59])\n", t) < 0)
        abort();
    same_both_ways(t2, "on; last loop: replay stopped at iteration 3: the loop changed what it works on, or kept a "
                       "result");
    free(t);
    free(t2);
    /* a value carried from one iteration to the next */
    const char *carried = "        opt.zero_grad()\n"
                          "        loss = crit(net(x), y) + 0 * prev\n"
                          "        prev = loss.detach()\n"
                          "        loss.backward()\n"
                          "        opt.step()\n";
    t = train_text("float32", "net(v) = sigmoid(l2(relu(l1(v))))\nprev = torch.tensor(0.0)", sgd_variants[0],
                   carried);
    same_both_ways(t, "on; last loop: not replayed: it runs no tensor kernels"); /* zero_grad alone */
    free(t);
    /* a function reading a global the body changes */
    const char *global = "        opt.zero_grad()\n"
                         "        loss = crit(net(x), y)\n"
                         "        loss.backward()\n"
                         "        opt.step()\n"
                         "        act = relu\n";
    t = train_text("float32", "act = relu\nnet(v) = sigmoid(l2(act(l1(v))))", sgd_variants[0], global);
    same_both_ways(t, "on; last loop: not replayed: a function it calls reads a name the loop changes");
    free(t);
    /* a branch on a tensor inside the step */
    const char *branch = "        loss = crit(net(x), y)\n"
                         "        opt.zero_grad()\n"
                         "        loss.backward()\n"
                         "        opt.step()\n";
    t = train_text("float32", "def net(v) { h = relu(l1(v))\n if h.sum() > 0 { return sigmoid(l2(h)) }\n return h }",
                   sgd_variants[0], branch);
    same_both_ways(t, "on; last loop: not replayed: it branches on a tensor's value");
    free(t);
    /* an operation without a replay (clamp has none yet) */
    t = train_text("float32", "net(v) = sigmoid(l2(torch.clamp(l1(v), -1, 1)))", sgd_variants[0], branch);
    same_both_ways(t, "on; last loop: not replayed: it reads a result made by an operation that has no replay");
    free(t);
    /* a forward without its backward: a replay would not rebuild the graph
     * the interpreted backward needs */
    const char *apart = "        loss = crit(net(x), y)\n"
                        "        opt.zero_grad()\n"
                        "        if True { loss.backward() }\n"
                        "        opt.step()\n";
    t = train_text("float32", "net(v) = sigmoid(l2(relu(l1(v))))", sgd_variants[0], apart);
    same_both_ways(t, "on; last loop: not replayed: it builds a graph that the rest of the loop uses");
    free(t);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("capture");
    TCase *tc = tcase_create("engine");
    tcase_add_test(tc, test_mm_replays);
    tcase_add_test(tc, test_unclaimed_result_fails);
    tcase_add_test(tc, test_reading_unclaimed_fails);
    tcase_add_test(tc, test_unrecorded_inplace_fails);
    tcase_add_test(tc, test_const_and_suspend);
    tcase_add_test(tc, test_untouched);
    tcase_add_test(tc, test_calls_and_errors);
    tcase_add_test(tc, test_backward_replays);
    suite_add_tcase(su, tc);
    TCase *te = tcase_create("evaluator");
    tcase_set_timeout(te, 300);
    tcase_add_test(te, test_optimizers_same_both_ways);
    tcase_add_test(te, test_classifiers_same_both_ways);
    tcase_add_test(te, test_kernel_error_at_replay);
    tcase_add_test(te, test_tutorial_loops_same_both_ways);
    tcase_add_test(te, test_rest_of_body_interpreted);
    tcase_add_test(te, test_what_stops_a_replay);
    suite_add_tcase(su, te);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
