/* torch_cases.h -- the harness shared by the unit tests that replay
 * torch-generated cases (test_nnops.c, test_tensor_extra.c): reading the
 * data files, comparing bit for bit, leaves and their gradients, live
 * counts, and the finite-difference check of a backward.  Static
 * functions: each test program includes it once. */
#ifndef SL_TEST_TORCH_CASES_H
#define SL_TEST_TORCH_CASES_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "num.h"
#include "tensor.h"

/* ---- reading the data files ---- */

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

enum { MAXT = 24, MAXP = 8 };

typedef struct Case {
    char op[32];
    int nparam;
    char pkey[MAXP][32], pval[MAXP][128];
    int nt;
    char tname[MAXT][32];
    SlTensor *t[MAXT];
    int line;
} Case;

static void case_clear(Case *c)
{
    for (int i = 0; i < c->nt; i++)
        sl_tensor_unref(c->t[i]);
    memset(c, 0, sizeof *c);
}

static SlTensor *get(const Case *c, const char *name)
{
    for (int i = 0; i < c->nt; i++)
        if (strcmp(c->tname[i], name) == 0)
            return c->t[i];
    return NULL;
}

static const char *param(const Case *c, const char *key)
{
    for (int i = 0; i < c->nparam; i++)
        if (strcmp(c->pkey[i], key) == 0)
            return c->pval[i];
    return NULL;
}

static inline long iparam(const Case *c, const char *key, long dflt)
{
    const char *v = param(c, key);
    return v ? atol(v) : dflt;
}

/* "0,1" -> {0, 1} */
static inline int list_param(const Case *c, const char *key, int64_t *out)
{
    const char *v = param(c, key);
    int n = 0;
    if (!v || strcmp(v, "none") == 0 || strcmp(v, "all") == 0)
        return 0;
    for (const char *p = v; *p;) {
        out[n++] = strtoll(p, (char **)&p, 10);
        if (*p == ',')
            p++;
    }
    return n;
}

static SlTensor *parse_tensor(char *line, char *name)
{
    char *save = NULL;
    char *tok = strtok_r(line, " ", &save);
    snprintf(name, 32, "%s", tok);
    char *dt = strtok_r(NULL, " ", &save);
    int nd = atoi(strtok_r(NULL, " ", &save));
    int64_t shape[SL_TENSOR_MAXDIM];
    for (int d = 0; d < nd; d++)
        shape[d] = atoll(strtok_r(NULL, " ", &save));
    ck_assert_str_eq(strtok_r(NULL, " ", &save), ":");
    SlDType t = strcmp(dt, "f32") == 0   ? SL_DT_F32
                : strcmp(dt, "f64") == 0 ? SL_DT_F64
                : strcmp(dt, "b8") == 0  ? SL_DT_BOOL
                                         : SL_DT_I64;
    SlTensor *r = sl_tensor_zeros(t, nd, shape, 0, NULL);
    int64_t n = sl_tensor_numel(r);
    for (int64_t i = 0; i < n; i++) {
        char *v = strtok_r(NULL, " ", &save);
        ck_assert_msg(v != NULL, "short tensor line for %s", name);
        if (t == SL_DT_F32) {
            uint32_t u = (uint32_t)strtoul(v, NULL, 16);
            memcpy((float *)r->storage->data + i, &u, 4);
        } else if (t == SL_DT_F64) {
            uint64_t u = strtoull(v, NULL, 16);
            memcpy((double *)r->storage->data + i, &u, 8);
        } else if (t == SL_DT_BOOL) {
            ((bool *)r->storage->data)[i] = atoi(v) != 0;
        } else {
            ((int64_t *)r->storage->data)[i] = atoll(v);
        }
    }
    return r;
}

static bool next_case(FILE *f, Case *c, char **buf, size_t *cap, int *lineno)
{
    case_clear(c);
    for (;;) {
        long pos = ftell(f);
        ssize_t n = getline(buf, cap, f);
        if (n < 0)
            return c->op[0] != 0;
        ++*lineno;
        while (n > 0 && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
            (*buf)[--n] = '\0';
        if ((*buf)[0] == '#' || (*buf)[0] == '\0')
            continue;
        if (strncmp(*buf, "op ", 3) == 0) {
            if (c->op[0]) {
                fseek(f, pos, SEEK_SET);
                --*lineno;
                return true;
            }
            char *save = NULL;
            strtok_r(*buf, " ", &save);
            snprintf(c->op, sizeof c->op, "%s", strtok_r(NULL, " ", &save));
            c->line = *lineno;
            char *k;
            while ((k = strtok_r(NULL, " ", &save)) && c->nparam < MAXP) {
                char *v = strtok_r(NULL, " ", &save);
                snprintf(c->pkey[c->nparam], 32, "%s", k);
                if (strcmp(k, "stride") == 0 || strcmp(k, "padding") == 0) {
                    /* stride/padding carry two values */
                    char *v2 = strtok_r(NULL, " ", &save);
                    snprintf(c->pval[c->nparam], 128, "%s %s", v, v2 ? v2 : "");
                } else {
                    snprintf(c->pval[c->nparam], 128, "%s", v ? v : "");
                }
                c->nparam++;
            }
            continue;
        }
        ck_assert_int_lt(c->nt, MAXT);
        c->t[c->nt] = parse_tensor(*buf, c->tname[c->nt]);
        c->nt++;
    }
}

/* ---- comparing ---- */

static bool same_bits(const SlTensor *a, int64_t i, const SlTensor *b, int64_t j)
{
    if (a->dtype == SL_DT_F32) {
        float x = sl_tensor_get_f(a, i), y = sl_tensor_get_f(b, j);
        return (x != x && y != y) || memcmp(&x, &y, 4) == 0;
    }
    if (a->dtype == SL_DT_I64 || a->dtype == SL_DT_BOOL)
        return sl_tensor_get_i(a, i) == sl_tensor_get_i(b, j);
    double x = sl_tensor_get_d(a, i), y = sl_tensor_get_d(b, j);
    return (x != x && y != y) || memcmp(&x, &y, 8) == 0;
}

static int mismatches;

static void expect_same(const SlTensor *got, const SlTensor *want, const char *what, const Case *c)
{
    if (!want)
        return;
    ck_assert_msg(got != NULL, "%s line %d: no %s", c->op, c->line, what);
    ck_assert_msg(got->ndim == want->ndim, "%s line %d: %s has %d dims, torch %d", c->op, c->line, what, got->ndim,
                  want->ndim);
    for (int d = 0; d < got->ndim; d++)
        ck_assert_msg(got->shape[d] == want->shape[d], "%s line %d: %s shape differs at dim %d", c->op, c->line, what,
                      d);
    ck_assert_msg(got->dtype == want->dtype, "%s line %d: %s dtype %d, torch %d", c->op, c->line, what, got->dtype,
                  want->dtype);
    int64_t n = sl_tensor_numel(want);
    for (int64_t i = 0; i < n; i++)
        if (!same_bits(got, i, want, i)) {
            if (mismatches++ < 8 || getenv("SL_TEST_VERBOSE"))
                fprintf(stderr, "%s line %d: %s[%lld] = %a, torch %a\n", c->op, c->line, what, (long long)i,
                        sl_tensor_get_d(got, i), sl_tensor_get_d(want, i));
        }
}

/* a leaf copy of the case's tensor (requiring grad when torch has its gradient) */
static SlTensor *leaf_of(const Case *c, const char *name)
{
    SlTensor *t = get(c, name);
    if (!t)
        return NULL;
    SlTensor *l = sl_tensor_clone(t);
    char g[40];
    snprintf(g, sizeof g, "g_%s", name);
    if (get(c, g) && sl_dtype_is_float(l->dtype))
        l->requires_grad = true;
    return l;
}

static void expect_grad(const Case *c, const char *name, SlTensor *leafp)
{
    char g[40];
    snprintf(g, sizeof g, "g_%s", name);
    SlTensor *want = get(c, g);
    if (!want || !leafp)
        return;
    if (!leafp->grad) {
        /* torch's gradient of an unused input is all zeros here */
        SlTensor *z = sl_tensor_zeros_like(want, NULL);
        expect_same(z, want, g, c);
        sl_tensor_unref(z);
        return;
    }
    expect_same(leafp->grad, want, g, c);
}

static long live_t, live_n;

static void count_start(void)
{
    live_t = sl_tensor_live();
    live_n = sl_node_live();
}

static void count_end(void)
{
    ck_assert_int_eq(sl_tensor_live(), live_t);
    ck_assert_int_eq(sl_node_live(), live_n);
}

/* ---- finite differences ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double urand(double lo, double hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

static mpfr_prec_t fd_prec; /* 0: float64, else mpfr at this precision */

static SlTensor *rnd(int nd, const int64_t *shape, double lo, double hi)
{
    SlTensor *t = sl_tensor_zeros(fd_prec ? SL_DT_MPFR : SL_DT_F64, nd, shape, fd_prec, NULL);
    for (int64_t i = 0, n = sl_tensor_numel(t); i < n; i++)
        sl_tensor_set_d(t, i, urand(lo, hi));
    return t;
}

/* sum(y * c) in mpfr */
static void weighted(mpfr_ptr r, SlTensor *y, SlTensor *c)
{
    mpfr_t q;
    mpfr_init2(q, mpfr_get_prec(r));
    mpfr_set_zero(r, 1);
    for (int64_t i = 0, n = sl_tensor_numel(y); i < n; i++) {
        if (y->dtype == SL_DT_MPFR) {
            mpfr_mul(q, sl_tensor_get_m(y, i), sl_tensor_get_m(c, i), MPFR_RNDN);
        } else {
            mpfr_set_d(q, sl_tensor_get_d(y, i), MPFR_RNDN);
            mpfr_mul_d(q, q, sl_tensor_get_d(c, i), MPFR_RNDN);
        }
        mpfr_add(r, r, q, MPFR_RNDN);
    }
    mpfr_clear(q);
}

/* The function under test: inputs in[0..n-1] -> output */
typedef SlTensor *(*FdFn)(SlTensor **in, const void *ctx, SlError *err);

/* Check the backward of f at in[] against central differences of
 * sum(f * c) for a random c; diff[i] says which inputs to check. */
static void fd_check(const char *what, FdFn f, const void *ctx, SlTensor **in, int n, const bool *diff)
{
    SlError err = {0};
    for (int i = 0; i < n; i++)
        if (in[i] && diff[i])
            in[i]->requires_grad = true;
    SlTensor *y = f(in, ctx, &err);
    ck_assert_msg(y != NULL, "%s: %s", what, err.msg);
    SlTensor *c = rnd(y->ndim, y->shape, -1, 1);
    ck_assert_msg(sl_ag_backward(y, c, false, &err), "%s: backward: %s", what, err.msg);
    sl_tensor_unref(y);
    mpfr_prec_t p = fd_prec ? fd_prec + 64 : 128;
    mpfr_t lo, hi, d, h, x0;
    mpfr_inits2(p, lo, hi, d, h, x0, (mpfr_ptr)NULL);
    double hd = fd_prec ? ldexp(1.0, -80) : 1e-6;
    double tol = fd_prec ? 1e-40 : 2e-7;
    for (int i = 0; i < n; i++) {
        if (!in[i] || !diff[i])
            continue;
        ck_assert_msg(in[i]->grad != NULL, "%s: no gradient for input %d", what, i);
        SlTensor *g = in[i]->grad;
        in[i]->grad = NULL;
        in[i]->requires_grad = false;
        for (int64_t k = 0, m = sl_tensor_numel(in[i]); k < m; k++) {
            int64_t off = sl_tensor_elem_offset(in[i], k);
            for (int side = 0; side < 2; side++) {
                if (fd_prec) {
                    mpfr_ptr e = (__mpfr_struct *)in[i]->storage->data + off;
                    mpfr_set(x0, e, MPFR_RNDN);
                    mpfr_set_d(h, side ? hd : -hd, MPFR_RNDN);
                    mpfr_add(e, x0, h, MPFR_RNDN);
                } else {
                    double *e = (double *)in[i]->storage->data + off;
                    mpfr_set_d(x0, *e, MPFR_RNDN);
                    *e = mpfr_get_d(x0, MPFR_RNDN) + (side ? hd : -hd);
                }
                SlTensor *yy = f(in, ctx, &err);
                ck_assert_msg(yy != NULL, "%s: %s", what, err.msg);
                weighted(side ? hi : lo, yy, c);
                sl_tensor_unref(yy);
                if (fd_prec)
                    mpfr_set((__mpfr_struct *)in[i]->storage->data + off, x0, MPFR_RNDN);
                else
                    ((double *)in[i]->storage->data)[off] = mpfr_get_d(x0, MPFR_RNDN);
            }
            mpfr_sub(d, hi, lo, MPFR_RNDN);
            mpfr_div_d(d, d, 2 * hd, MPFR_RNDN);
            double an = sl_tensor_get_d(g, k), num = mpfr_get_d(d, MPFR_RNDN);
            if (fd_prec) {
                mpfr_t a;
                mpfr_init2(a, p);
                mpfr_set(a, sl_tensor_get_m(g, k), MPFR_RNDN);
                mpfr_sub(a, a, d, MPFR_RNDN);
                double e = fabs(mpfr_get_d(a, MPFR_RNDN));
                mpfr_clear(a);
                ck_assert_msg(e <= tol * (1 + fabs(num)), "%s mpfr: input %d element %lld: %.20g vs %.20g (err %g)",
                              what, i, (long long)k, an, num, e);
            } else {
                ck_assert_msg(fabs(an - num) <= tol * (1 + fabs(num)) * 50,
                              "%s f64: input %d element %lld: %.17g vs %.17g", what, i, (long long)k, an, num);
            }
        }
        sl_tensor_unref(g);
        in[i]->requires_grad = true;
    }
    mpfr_clears(lo, hi, d, h, x0, (mpfr_ptr)NULL);
    sl_tensor_unref(c);
}

#endif
