/* test_optim.c -- the optimizers through optim.h's C API (and, for user
 * optimizers and printing, through a session).
 *
 *  - SGD and Adam against PyTorch 1.13, every iterate bit for bit in
 *    float32 and float64 (tests/unit/optim_steps.txt from
 *    tests/gen_optim.py: random parameters and gradients, every option,
 *    parameters without a grad at some steps, a learning-rate schedule);
 *  - the same runs in mpfr at 53 bits: SGD bit for bit with float64
 *    (every operation is correctly rounded in both), Adam within a few
 *    ulps (its bias corrections use pow(), which MPFR rounds correctly);
 *  - updates computed by hand for a couple of steps, in float64 and in
 *    mpfr at 256 bits (exactly);
 *  - print(optimizer) as torch prints it (tests/unit/optim_repr.txt);
 *  - user optimizers: SimpleGD on x², a user Momentum written with
 *    p.add_(v, alpha=-lr) identical to SGD(momentum=mu), errors in a body;
 *  - errors with torch's messages; no memory growth over 100 000 steps.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "eval.h"
#include "expr.h"
#include "num.h"
#include "optim.h"
#include "tensor.h"
#include "value.h"
#include "session.h"

/* ---- helpers ---- */

static FILE *open_data(const char *name)
{
    const char *env = getenv("SL_TEST_DATA_DIR");
    const char *dirs[] = {env, "../tests/unit", "../../tests/unit", "tests/unit", "."};
    char path[4096];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i])
            continue;
        snprintf(path, sizeof path, "%s/%s", dirs[i], name);
        FILE *f = fopen(path, "r");
        if (f)
            return f;
    }
    ck_abort_msg("cannot find test data %s (set SL_TEST_DATA_DIR to tests/unit)", name);
    return NULL;
}

/* A 1-d tensor of the values (leaf, requires grad when asked). */
static SlTensor *vec(SlDType dt, mpfr_prec_t prec, const double *v, int64_t n, bool grad)
{
    SlError err = {0};
    SlTensor *t = sl_tensor_zeros(dt, 1, &n, prec, &err);
    ck_assert(t);
    for (int64_t i = 0; i < n; i++)
        sl_tensor_set_d(t, i, v[i]);
    if (grad)
        ck_assert(sl_ag_requires_grad_(t, true, &err));
    return t;
}

static void set_grad(SlTensor *p, const double *v)
{
    SlTensor *g = vec(p->dtype, sl_tensor_prec(p), v, sl_tensor_numel(p), false);
    sl_tensor_assign(&p->grad, g);
    sl_tensor_unref(g);
}

/* ---- replaying torch's runs ---- */

typedef enum Mode { NATIVE, MPFR53 } Mode;

typedef struct Replay {
    Mode mode;
    long cases, steps, values;  /* compared */
    long mismatches;            /* beyond what the mode allows */
    double worst_ulps;          /* MPFR53 Adam: the largest difference seen */
    char first[512];            /* the first mismatch, for the message */
} Replay;

static size_t read_values(char *s, double *out, size_t cap)
{
    size_t n = 0;
    char *end;
    for (;;) {
        double d = strtod(s, &end);
        if (end == s)
            break;
        ck_assert(n < cap);
        out[n++] = d;
        s = end;
    }
    return n;
}

static double ulps_apart(double a, double b)
{
    if (a == b)
        return 0;
    double u = fabs(nextafter(a, INFINITY) - a);
    return fabs(a - b) / (u ? u : 1e-300);
}

static void replay(Replay *r, const char *file)
{
    FILE *f = open_data(file);
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    static double vals[4096];
    SlTensor *params[16] = {0};
    size_t np = 0;
    SlOptim *opt = NULL;
    bool skip = false, stepped = false, adam = false;
    SlDType dt = SL_DT_F32;
    SlSgdOptions sgd = {0};
    SlAdamOptions ad = sl_adam_defaults();
    SlError err = {0};
    long step = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        char *s = line;
        if (strncmp(s, "case ", 5) == 0) {
            char kind[8], dts[8];
            int off = 0;
            ck_assert(sscanf(s, "case %7s %7s %n", kind, dts, &off) == 2);
            adam = strcmp(kind, "adam") == 0;
            dt = strcmp(dts, "f32") == 0 ? SL_DT_F32 : SL_DT_F64;
            skip = r->mode == MPFR53 && dt == SL_DT_F32;
            if (r->mode == MPFR53)
                dt = SL_DT_MPFR;
            sgd = (SlSgdOptions){0};
            ad = sl_adam_defaults();
            for (char *kv = strtok(s + off, " \n"); kv; kv = strtok(NULL, " \n")) {
                char *eq = strchr(kv, '=');
                ck_assert(eq);
                *eq = '\0';
                double v = strtod(eq + 1, NULL);
                const char *k = kv;
                if (strcmp(k, "lr") == 0)
                    sgd.lr = ad.lr = v;
                else if (strcmp(k, "momentum") == 0)
                    sgd.momentum = v;
                else if (strcmp(k, "dampening") == 0)
                    sgd.dampening = v;
                else if (strcmp(k, "weight_decay") == 0)
                    sgd.weight_decay = ad.weight_decay = v;
                else if (strcmp(k, "nesterov") == 0)
                    sgd.nesterov = v != 0;
                else if (strcmp(k, "maximize") == 0)
                    sgd.maximize = ad.maximize = v != 0;
                else if (strcmp(k, "beta1") == 0)
                    ad.beta1 = v;
                else if (strcmp(k, "beta2") == 0)
                    ad.beta2 = v;
                else if (strcmp(k, "eps") == 0)
                    ad.eps = v;
                else if (strcmp(k, "amsgrad") == 0)
                    ad.amsgrad = v != 0;
                else
                    ck_abort_msg("unknown option %s", k);
            }
            np = 0;
            step = 0;
            if (!skip)
                r->cases++;
            continue;
        }
        if (skip)
            continue;
        if (strncmp(s, "param ", 6) == 0) {
            int i, off;
            ck_assert(sscanf(s, "param %d %n", &i, &off) == 1);
            size_t n = read_values(s + off, vals, 4096);
            params[np++] = vec(dt, 53, vals, (int64_t)n, true);
        } else if (strncmp(s, "step", 4) == 0) {
            if (!opt) {
                opt = adam ? sl_optim_adam(params, np, &ad, &err) : sl_optim_sgd(params, np, &sgd, &err);
                ck_assert_msg(opt, "line %ld: %s", lineno, err.msg);
            }
            stepped = false;
            step++;
        } else if (strncmp(s, "set ", 4) == 0) {
            char k[32];
            double v;
            ck_assert(sscanf(s, "set %31s %lf", k, &v) == 2);
            SlValue *val = sl_float_d(v);
            ck_assert(sl_optim_set(opt, k, val, &err));
            sl_unref(val);
        } else if (strncmp(s, "grad ", 5) == 0) {
            int i, off;
            ck_assert(sscanf(s, "grad %d %n", &i, &off) == 1);
            if (strncmp(s + off, "none", 4) == 0) {
                sl_tensor_assign(&params[i]->grad, NULL);
            } else {
                size_t n = read_values(s + off, vals, 4096);
                ck_assert((int64_t)n == sl_tensor_numel(params[i]));
                set_grad(params[i], vals);
            }
        } else if (strncmp(s, "expect ", 7) == 0) {
            if (!stepped) {
                ck_assert_msg(sl_optim_step(opt, NULL, &err), "line %ld: %s", lineno, err.msg);
                stepped = true;
                r->steps++;
            }
            int i, off;
            ck_assert(sscanf(s, "expect %d %n", &i, &off) == 1);
            size_t n = read_values(s + off, vals, 4096);
            SlTensor *p = params[i];
            ck_assert((int64_t)n == sl_tensor_numel(p));
            for (size_t k = 0; k < n; k++) {
                double got = dt == SL_DT_F32 ? (double)sl_tensor_get_f(p, (int64_t)k) : sl_tensor_get_d(p, (int64_t)k);
                bool same = memcmp(&got, &vals[k], sizeof got) == 0;
                if (!same && r->mode == MPFR53 && adam) {
                    double u = ulps_apart(vals[k], got);
                    if (u > r->worst_ulps)
                        r->worst_ulps = u;
                    same = u <= 64; /* pow()'s last bit, carried through 400 steps */
                }
                r->values++;
                if (!same && r->mismatches++ == 0)
                    snprintf(r->first, sizeof r->first, "%s line %ld (step %ld, param %d, element %zu): got %a, torch %a",
                             file, lineno, step, i, k, got, vals[k]);
            }
        } else if (strncmp(s, "end", 3) == 0) {
            sl_optim_free(opt);
            opt = NULL;
            for (size_t i = 0; i < np; i++)
                sl_tensor_unref(params[i]);
            np = 0;
        }
    }
    free(line);
    fclose(f);
    ck_assert_int_eq(np, 0);
}

START_TEST(test_torch_iterates)
{
    /* both kernels: the CPU's FMA instructions (when it has them) and libm's fma() */
    for (int hw = 1; hw >= 0; hw--) {
        sl_optim_hw_fma(hw);
        Replay r = {.mode = NATIVE};
        replay(&r, "optim_steps.txt");
        ck_assert_msg(r.mismatches == 0, "%s: %ld of %ld values differ from torch; first: %s",
                      hw ? "FMA instructions" : "libm fma", r.mismatches, r.values, r.first);
        ck_assert_int_ge(r.cases, 40);
        ck_assert_int_ge(r.steps, 1000);
    }
    sl_optim_hw_fma(1);
    ck_assert_int_eq(sl_tensor_live(), 0);
}
END_TEST

START_TEST(test_mpfr_53_iterates)
{
    Replay r = {.mode = MPFR53};
    replay(&r, "optim_steps.txt");
    ck_assert_msg(r.mismatches == 0, "%ld of %ld values differ from torch's float64; first: %s", r.mismatches,
                  r.values, r.first);
    ck_assert_int_ge(r.cases, 20);
    ck_assert_int_eq(sl_tensor_live(), 0);
}
END_TEST

/* ---- by hand ---- */

static SlTensor *leaf1(SlDType dt, mpfr_prec_t prec, double v) { return vec(dt, prec, &v, 1, true); }

static void grad1(SlTensor *p, double g) { set_grad(p, &g); }

START_TEST(test_sgd_by_hand)
{
    SlError err = {0};
    /* lr 0.5, momentum 0.5 (exact in binary): p = 1, g = 2, then g = 1:
     * buf = 2, p = 1 - 0.5*2 = 0; buf = 0.5*2 + 1 = 2, p = 0 - 1 = -1 */
    SlDType dts[] = {SL_DT_F32, SL_DT_F64, SL_DT_MPFR};
    for (int d = 0; d < 3; d++) {
        SlTensor *p = leaf1(dts[d], 256, 1.0);
        SlSgdOptions o = {.lr = 0.5, .momentum = 0.5};
        SlOptim *opt = sl_optim_sgd(&p, 1, &o, &err);
        ck_assert(opt);
        grad1(p, 2.0);
        ck_assert(sl_optim_step(opt, NULL, &err));
        ck_assert(sl_tensor_get_d(p, 0) == 0.0);
        grad1(p, 1.0);
        ck_assert(sl_optim_step(opt, NULL, &err));
        ck_assert(sl_tensor_get_d(p, 0) == -1.0);
        /* no grad: nothing moves */
        sl_optim_zero_grad(opt, true);
        ck_assert(p->grad == NULL);
        ck_assert(sl_optim_step(opt, NULL, &err));
        ck_assert(sl_tensor_get_d(p, 0) == -1.0);
        sl_optim_free(opt);
        sl_tensor_unref(p);
    }
    /* float64, lr 0.1, momentum 0.9, weight_decay 0.01, nesterov */
    SlTensor *p = leaf1(SL_DT_F64, 0, 1.0);
    SlSgdOptions o = {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true};
    SlOptim *opt = sl_optim_sgd(&p, 1, &o, &err);
    double x = 1.0, buf = 0;
    for (int k = 0; k < 2; k++) {
        double g = 2.0 * x;
        grad1(p, g);
        ck_assert(sl_optim_step(opt, NULL, &err));
        double dp = g + 0.01 * x;
        buf = k == 0 ? dp : 0.9 * buf + dp;
        dp = dp + 0.9 * buf;
        x = x - 0.1 * dp;
        ck_assert_msg(fabs(sl_tensor_get_d(p, 0) - x) < 1e-15, "step %d: %.17g vs %.17g", k, sl_tensor_get_d(p, 0), x);
    }
    sl_optim_free(opt);
    sl_tensor_unref(p);
    ck_assert_int_eq(sl_tensor_live(), 0);
}
END_TEST

START_TEST(test_adam_by_hand)
{
    SlError err = {0};
    /* step 1: m = (1-b1) g, v = (1-b2) g², and the bias corrections make
     * the update lr * g / (|g| + eps/sqrt(1-b2)·...) = lr·sign(g) nearly */
    SlTensor *p = leaf1(SL_DT_F64, 0, 1.0);
    SlAdamOptions o = sl_adam_defaults();
    o.lr = 0.1;
    SlOptim *opt = sl_optim_adam(&p, 1, &o, &err);
    double x = 1.0, m = 0, v = 0;
    for (int k = 1; k <= 3; k++) {
        double g = 2.0 * x;
        grad1(p, g);
        ck_assert(sl_optim_step(opt, NULL, &err));
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        double mh = m / (1 - pow(0.9, k)), vh = v / (1 - pow(0.999, k));
        x = x - 0.1 * mh / (sqrt(vh) + 1e-8);
        ck_assert_msg(fabs(sl_tensor_get_d(p, 0) - x) < 1e-14, "step %d: %.17g vs %.17g", k, sl_tensor_get_d(p, 0), x);
    }
    ck_assert(fabs(sl_tensor_get_d(p, 0) - 0.7) < 1e-2); /* three steps of about lr each */
    sl_optim_free(opt);
    sl_tensor_unref(p);

    /* mpfr at 256 bits: beta1 = beta2 = 0.5, lr = 0.25, eps = 0: with g = 1
     * every step, m̂ = v̂ = 1 exactly, so p moves by exactly -0.25 per step */
    sl_num_set_prec(256);
    p = leaf1(SL_DT_MPFR, 256, 1.0);
    o = (SlAdamOptions){.lr = 0.25, .beta1 = 0.5, .beta2 = 0.5, .eps = 0};
    opt = sl_optim_adam(&p, 1, &o, &err);
    for (int k = 1; k <= 4; k++) {
        grad1(p, 1.0);
        ck_assert(sl_optim_step(opt, NULL, &err));
        ck_assert(mpfr_cmp_d(sl_tensor_get_m(p, 0), 1.0 - 0.25 * k) == 0);
    }
    sl_optim_free(opt);
    sl_tensor_unref(p);
    /* and SGD at 256 bits keeps lr = 1/3 to 256 bits: 3 steps of g = 1 from 1 give 0 up to 2^-254 */
    SlSession *s = sl_session_new();
    ck_assert(sl_session_exec_text(s, NULL, ":precision 256\nthird = 1/3", 1, true) == SL_RUN_OK);
    p = leaf1(SL_DT_MPFR, 256, 1.0);
    SlSgdOptions so = {.lr = 0};
    opt = sl_optim_sgd(&p, 1, &so, &err);
    SlValue *third = sl_session_get(s, "third");
    ck_assert(sl_optim_set(opt, "lr", third, &err));
    for (int k = 0; k < 3; k++) {
        grad1(p, 1.0);
        ck_assert(sl_optim_step(opt, NULL, &err));
    }
    ck_assert(fabs(mpfr_get_d(sl_tensor_get_m(p, 0), MPFR_RNDN)) < 1e-75);
    sl_unref(third);
    sl_session_free(s);
    sl_optim_free(opt);
    sl_tensor_unref(p);
    sl_num_set_prec(53);
    ck_assert_int_eq(sl_tensor_live(), 0);
}
END_TEST

/* ---- errors (C API) ---- */

START_TEST(test_errors)
{
    SlError err = {0};
    SlTensor *p = leaf1(SL_DT_F32, 0, 1.0);
    struct {
        SlSgdOptions o;
        const char *msg;
    } sgd[] = {
        {{.lr = -1}, "Invalid learning rate: -1.0"},
        {{.lr = 0.1, .momentum = -0.5}, "Invalid momentum value: -0.5"},
        {{.lr = 0.1, .weight_decay = -2}, "Invalid weight_decay value: -2.0"},
        {{.lr = 0.1, .nesterov = true}, "Nesterov momentum requires a momentum and zero dampening"},
        {{.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true},
         "Nesterov momentum requires a momentum and zero dampening"},
    };
    for (size_t i = 0; i < sizeof sgd / sizeof sgd[0]; i++) {
        ck_assert(sl_optim_sgd(&p, 1, &sgd[i].o, &err) == NULL);
        ck_assert_str_eq(err.msg, sgd[i].msg);
        sl_err_clear(&err);
    }
    SlAdamOptions a = sl_adam_defaults();
    a.beta1 = 1.0;
    ck_assert(sl_optim_adam(&p, 1, &a, &err) == NULL);
    ck_assert_str_eq(err.msg, "Invalid beta parameter at index 0: 1.0");
    sl_err_clear(&err);
    a = sl_adam_defaults();
    a.eps = -1e-8;
    ck_assert(sl_optim_adam(&p, 1, &a, &err) == NULL);
    ck_assert_str_eq(err.msg, "Invalid epsilon value: -1e-08");
    sl_err_clear(&err);
    a = sl_adam_defaults();
    a.lr = NAN;
    ck_assert(sl_optim_adam(&p, 1, &a, &err) == NULL);
    ck_assert_str_eq(err.msg, "Invalid learning rate: nan");
    sl_err_clear(&err);
    ck_assert(sl_optim_adam(&p, 0, &a, &err) == NULL);
    sl_err_clear(&err);
    a = sl_adam_defaults();
    ck_assert(sl_optim_adam(&p, 0, &a, &err) == NULL);
    ck_assert_str_eq(err.msg, "optimizer got an empty parameter list");
    sl_err_clear(&err);
    /* a non-leaf */
    SlTensor *q = sl_ag_binary(SL_T_MUL, p, p, &err);
    ck_assert(sl_optim_adam(&q, 1, &a, &err) == NULL);
    ck_assert_str_eq(err.msg, "can't optimize a non-leaf Tensor");
    sl_err_clear(&err);
    /* a grad of the wrong shape */
    SlOptim *opt = sl_optim_adam(&p, 1, &a, &err);
    double two[2] = {1, 2};
    SlTensor *g = vec(SL_DT_F32, 0, two, 2, false);
    sl_tensor_assign(&p->grad, g);
    ck_assert(!sl_optim_step(opt, NULL, &err));
    ck_assert_str_eq(err.msg, "the gradient of parameter 0 has shape (2,), but the parameter (1,)");
    sl_err_clear(&err);
    SlValue *one = sl_float_d(1.0);
    ck_assert(!sl_optim_set(opt, "betas", one, &err));
    ck_assert_str_eq(err.msg, "Adam.betas must be a pair of numbers, not float");
    sl_err_clear(&err);
    ck_assert(!sl_optim_set(opt, "momentum", one, &err));
    ck_assert_str_eq(err.msg, "'Adam' object has no attribute 'momentum'");
    sl_err_clear(&err);
    sl_unref(one);
    sl_optim_free(opt);
    sl_tensor_unref(g);
    sl_tensor_unref(q);
    sl_tensor_unref(p);
    ck_assert_int_eq(sl_tensor_live(), 0);
}
END_TEST

/* ---- memory ---- */

START_TEST(test_no_growth)
{
    SlError err = {0};
    double v[10] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10};
    SlDType dts[] = {SL_DT_F32, SL_DT_F64, SL_DT_MPFR};
    for (int d = 0; d < 3; d++) {
        SlTensor *ps[2] = {vec(dts[d], 80, v, 10, true), vec(dts[d], 80, v, 3, true)};
        SlSgdOptions so = {.lr = 1e-4, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true};
        SlAdamOptions ao = sl_adam_defaults();
        ao.amsgrad = true;
        SlOptim *opts[2] = {sl_optim_sgd(ps, 2, &so, &err), sl_optim_adam(ps, 2, &ao, &err)};
        for (int k = 0; k < 2; k++) {
            set_grad(ps[0], v);
            set_grad(ps[1], v);
            long steps = dts[d] == SL_DT_MPFR ? 10000 : 100000;
            ck_assert(sl_optim_step(opts[k], NULL, &err));
            long tensors = sl_tensor_live(), storages = sl_storage_live();
            for (long i = 0; i < steps; i++)
                ck_assert(sl_optim_step(opts[k], NULL, &err));
            ck_assert_int_eq(sl_tensor_live(), tensors);
            ck_assert_int_eq(sl_storage_live(), storages);
            ck_assert(isfinite(sl_tensor_get_d(ps[0], 0)));
            sl_optim_zero_grad(opts[k], false);
            ck_assert(ps[0]->grad && sl_tensor_get_d(ps[0]->grad, 3) == 0.0);
        }
        sl_optim_free(opts[0]);
        sl_optim_free(opts[1]);
        sl_tensor_unref(ps[0]);
        sl_tensor_unref(ps[1]);
    }
    ck_assert_int_eq(sl_tensor_live(), 0);
}
END_TEST

/* ---- through a session ---- */




static const char user_defs[] = "optimizer SimpleGD(lr=0.01) {\n"
                                "    p -= lr * p.grad\n"
                                "}\n"
                                "optimizer Momentum(lr=0.01, mu=0.9) {\n"
                                "    state v = 0\n"
                                "    v = mu*v + p.grad\n"
                                "    p.add_(v, alpha=-lr)\n"
                                "}\n"
                                "optimizer Momentum2(lr=0.01, mu=0.9) {\n"
                                "    state v = 0\n"
                                "    v = mu*v + p.grad\n"
                                "    p -= lr*v\n"
                                "}\n";

START_TEST(test_repr_torch)
{
    SlSession *s = session();
    expect(s, user_defs, "");
    expect(s, "x = torch.ones(2, requires_grad=True)", "");
    FILE *f = open_data("optim_repr.txt");
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0) {
        char *tab = strchr(line, '\t');
        ck_assert(tab);
        *tab = '\0';
        const char *e = strncmp(line, "user ", 5) == 0 ? line + 5 : line;
        char want[2048], *w = want;
        for (const char *r = tab + 1; *r && *r != '\n'; r++) {
            if (r[0] == '\\' && r[1] == 'n') {
                *w++ = '\n';
                r++;
            } else {
                *w++ = *r;
            }
        }
        *w++ = '\n';
        *w = '\0';
        char in[1024];
        snprintf(in, sizeof in, "print(%s)", e);
        expect(s, in, want);
        n++;
    }
    free(line);
    fclose(f);
    ck_assert_int_ge(n, 14);
    sl_session_free(s);
}
END_TEST

START_TEST(test_user_optimizers)
{
    SlSession *s = session();
    expect(s, user_defs, "");
    /* seed 003's SimpleGD on x² from 1 with lr 0.1: x ← 0.8 x, in float32 */
    expect(s,
           "x = torch.tensor([1.0], requires_grad=True)\n"
           "opt = SimpleGD([x], lr=0.1)\n"
           "for i in range(50) { opt.zero_grad(); (x[0] ** 2).backward(); opt.step() }\n"
           "print(x.item())",
           "1.4272479347710032e-05\n");
    /* a user momentum written with add_(alpha=) is SGD(momentum=mu), bit for bit */
    const char *loop = "manual_seed(7)\n"
                       "w0 = torch.randn(37)\n"
                       "a = w0.clone().requires_grad_(); b = w0.clone().requires_grad_(); c = w0.clone().requires_grad_()\n"
                       "oa = %s([a], lr=0.01, mu=0.9); ob = SGD([b], lr=0.01, momentum=0.9); oc = Momentum2([c], lr=0.01, "
                       "mu=0.9)\n"
                       "k = torch.randn(37)\n"
                       "for i in range(300) {\n"
                       "    for o in [oa, ob, oc] { o.zero_grad() }\n"
                       "    for t in [a, b, c] { ((t * k).sin() * (t + 1)).sum().backward() }\n"
                       "    oa.step(); ob.step(); oc.step()\n"
                       "}\n"
                       "print(bool((a == b).all()), bool((c == b).all()), (c - b).abs().max().item() < 1e-4)";
    char buf[2048];
    snprintf(buf, sizeof buf, loop, "Momentum");
    /* p -= lr*v rounds lr*v before subtracting: two roundings where torch has one */
    expect(s, buf, "True False True\n");
    /* hyper-parameters are attributes (settable), positional after params */
    expect(s, "oa.lr = 0.5; print(oa.lr, oa.mu)", "0.5 0.9\n");
    expect(s, "print(Momentum([a], 0.2, 0.5))", "Momentum (\nParameter Group 0\n    lr: 0.2\n    mu: 0.5\n)\n");
    /* mpfr parameters */
    expect(s,
           ":precision 200\n"
           "xm = torch.tensor([1.0], dtype=torch.mpfr, requires_grad=True)\n"
           "om = Momentum([xm], lr=1/8, mu=1/2)\n"
           "for i in range(3) { om.zero_grad(); (xm ** 2).sum().backward(); om.step() }\n"
           "print(xm.item(), xm.dtype)\n"
           ":precision 53",
           "0.171875 slope.mpfr(200)\n");
    sl_session_free(s);
}
END_TEST

START_TEST(test_user_errors)
{
    SlSession *s = session();
    expect(s, user_defs, "");
    expect(s, "x = torch.tensor([1.0], requires_grad=True)", "");
    expect(s, "SimpleGD([x], rate=1)", "error: SimpleGD() got an unexpected keyword argument 'rate'\n"
                                       "  SimpleGD([x], rate=1)\n  ^~~~~~~~~~~~~~~~~~~~~\n");
    expect(s, "SimpleGD([x], 1, 2)", "error: SimpleGD() takes from 1 to 2 positional arguments but 3 were given\n"
                                     "  SimpleGD([x], 1, 2)\n  ^~~~~~~~~~~~~~~~~~~\n");
    expect(s, "SimpleGD([], 1)", "error: optimizer got an empty parameter list\n"
                                 "  SimpleGD([], 1)\n  ^~~~~~~~~~~~~~~\n");
    expect(s,
           "optimizer Bad(lr=0.1) {\n"
           "    state v = 0\n"
           "    v = v + undefined_fn(p)\n"
           "}\n"
           "o = Bad([x])\n"
           "x.grad = torch.ones(1)\n"
           "o.step()",
           "3:13: error: unknown function 'undefined_fn'\n"
           "      v = v + undefined_fn(p)\n"
           "              ^~~~~~~~~~~~\n"
           "hint: in Bad.step(), for parameter 0 of shape (1,)\n");
    /* the session goes on; no_grad is over */
    expect(s, "y = x * 2; print(y.requires_grad)", "True\n");
    expect(s,
           "optimizer Rebind(lr=0.1) { p = p - lr * p.grad }\n"
           "Rebind([x]).step()",
           "1:28: error: p = ... makes a new tensor and leaves the parameter as it was; change p in place: "
           "p -= ..., p.sub_(...), p.add_(..., alpha=...)\n"
           "  optimizer Rebind(lr=0.1) { p = p - lr * p.grad }\n"
           "                             ^~~~~~~~~~~~~~~~~~~\n"
           "hint: in Rebind.step(), for parameter 0 of shape (1,)\n");
    expect(s, "optimizer Dup(lr=0.1) { state lr = 0 }",
           "error: state 'lr' has the name of a hyper-parameter of Dup\n"
           "  optimizer Dup(lr=0.1) { state lr = 0 }\n                          ^~~~~~~~~~~~\n");
    expect(s, "x", "tensor([1.], requires_grad=True)\n");
    sl_session_free(s);
}
END_TEST

START_TEST(test_user_no_growth)
{
    SlSession *s = session();
    expect(s, user_defs, "");
    expect(s,
           "x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
           "opt = Momentum([x], lr=1e-6)\n"
           "x.grad = torch.ones(2)\n"
           "opt.step()",
           "");
    long tensors = sl_tensor_live(), storages = sl_storage_live();
    expect(s, "for i in range(100000) { opt.step() }", "");
    ck_assert_int_eq(sl_tensor_live(), tensors);
    ck_assert_int_eq(sl_storage_live(), storages);
    sl_session_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_torch_iterates);
    tcase_add_test(tc, test_mpfr_53_iterates);
    tcase_add_test(tc, test_sgd_by_hand);
    tcase_add_test(tc, test_adam_by_hand);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_no_growth);
    tcase_add_test(tc, test_repr_torch);
    tcase_add_test(tc, test_user_optimizers);
    tcase_add_test(tc, test_user_errors);
    tcase_add_test(tc, test_user_no_growth);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
