/* bench_train_native.c -- the floor for tests/bench/train_xor.slope: the
 * same training step written in C against the engine, so slope's time per
 * step can be set against the work the step itself takes (everything above
 * it is the evaluator's).
 *
 * A session builds the model as the script does (same seed, same
 * initialisation, same optimizer); then each step calls what the
 * evaluator ends up calling for
 *     opt.zero_grad(); loss = loss_fcn(model(x2), target2); loss.backward(); opt.step()
 * with model(x) = sigmoid(l3(relu(l2(relu(l1(x)))))) and nn.MSELoss().
 * 100 steps of warm-up, then STEPS timed; the output has the script's
 * "time:" and "loss" lines, so the final losses can be compared.
 *
 * Usage: bench_train_native [float32|float64|mpfr53|mpfr256] [STEPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autograd.h"
#include "eval.h"
#include "eval_internal.h"
#include "expr.h"
#include "nnops.h"
#include "optim.h"
#include "tensor_value.h"

/* A global of the session that holds a tensor (a new reference). */
static SlTensor *global_tensor(SlSession *s, const char *name)
{
    SlValue *v = sl_session_get(s, name);
    SlTensor *t = sl_tensor_of(v);
    if (!t) {
        fprintf(stderr, "bench_train_native: %s is not a tensor\n", name);
        exit(1);
    }
    sl_tensor_ref(t);
    sl_unref(v);
    return t;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    const char *dt = argc > 1 ? argv[1] : "float32";
    long steps = argc > 2 ? atol(argv[2]) : 20000;
    const char *prec = strcmp(dt, "mpfr53") == 0 ? ":precision 53\n" : strcmp(dt, "mpfr256") == 0 ? ":precision 256\n" : "";
    const char *torch_dt = *prec ? "mpfr" : dt;
    char setup[2048];
    snprintf(setup, sizeof setup,
             "%sDT = torch.%s\n"
             "torch.manual_seed(0)\n"
             "x2 = torch.tensor([[1.0,1.0], [1.0,0.0], [0.0,0.1], [0.0,0.0]], dtype=DT)\n"
             "target2 = torch.tensor([[1.0],[0.0],[0.0],[1.0]], dtype=DT)\n"
             "l1 = nn.Linear(2, 10, dtype=DT)\n"
             "l2 = nn.Linear(10, 5, dtype=DT)\n"
             "l3 = nn.Linear(5, 1, dtype=DT)\n"
             "model(x) = sigmoid(l3(relu(l2(relu(l1(x))))))\n"
             "opt = optim.SGD(parameters(model), lr=0.01)\n"
             "w1, b1, w2, b2, w3, b3 = l1.weight, l1.bias, l2.weight, l2.bias, l3.weight, l3.bias\n",
             prec, torch_dt);
    SlSession *s = sl_session_new();
    if (sl_session_exec_text(s, "setup", setup, 1, true) != SL_RUN_OK)
        return 1;
    SlTensor *x = global_tensor(s, "x2"), *target = global_tensor(s, "target2");
    SlTensor *w[3] = {global_tensor(s, "w1"), global_tensor(s, "w2"), global_tensor(s, "w3")};
    SlTensor *b[3] = {global_tensor(s, "b1"), global_tensor(s, "b2"), global_tensor(s, "b3")};
    SlValue *optv = sl_session_get(s, "opt");
    SlOptim *opt = sl_optim_of(optv);
    SlError err = {0};
    SlTensor *loss = NULL;
    double start = 0;
    for (long i = 0; i < 100 + steps; i++) {
        if (i == 100)
            start = now_ms();
        sl_optim_zero_grad(opt, false);
        SlTensor *h = sl_tensor_ref(x);
        for (int k = 0; k < 3 && h; k++) {
            SlTensor *z = sl_ag_linear(h, w[k], b[k], &err);
            sl_tensor_unref(h);
            h = z ? sl_ag_unary(k < 2 ? SL_FN_RELU : SL_FN_SIGMOID, z, &err) : NULL;
            sl_tensor_unref(z);
        }
        SlTensor *l = h ? sl_ag_mse_loss(h, target, SL_RED_MEAN, &err) : NULL;
        sl_tensor_unref(h);
        if (!l || !sl_ag_backward(l, NULL, false, &err) || !sl_optim_step(opt, s, &err)) {
            sl_err_print(&err, stderr);
            return 1;
        }
        sl_tensor_unref(loss);
        loss = l;
    }
    printf("time: %.3f ms\n", now_ms() - start);
    /* the loss printed as the script prints it */
    SlValue *lv = sl_tensor_value(loss);
    sl_scope_set(&s->globals, "native_loss", lv);
    sl_unref(lv);
    sl_session_exec_text(s, "report", "print(\"loss\", native_loss.item())", 1, true);
    sl_tensor_unref(x);
    sl_tensor_unref(target);
    for (int k = 0; k < 3; k++) {
        sl_tensor_unref(w[k]);
        sl_tensor_unref(b[k]);
    }
    sl_unref(optv);
    sl_session_free(s);
    return 0;
}
