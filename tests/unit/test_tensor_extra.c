/* test_tensor_extra.c -- tensor_extra.h's operations through the C API.
 *
 *  - float32 and float64 outputs and gradients bit for bit against
 *    PyTorch 1.13 (tests/unit/tensor_extra_*.txt, written by
 *    tests/gen_tensor_extra.py): var/std, prod, cumsum/cumprod,
 *    logsumexp, trace, sort/topk (indices of equal keys included), unique
 *    (sorted and in unordered_set order), flip, roll, repeat, triu/tril,
 *    diag, gather, index_select, masked_fill, split/chunk, dist, lerp,
 *    outer, in-place functions;
 *  - every backward against central finite differences in float64, and in
 *    mpfr at 256 bits (step 2^-80);
 *  - torch's error messages; nonzero, isnan, allclose, equal;
 *  - no leaks: tensor and node counts back to where they were.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "num.h"
#include "tensor.h"
#include "tensor_extra.h"

#include "torch_cases.h"

static uint32_t mask_of(const int64_t *d, int n, int ndim)
{
    uint32_t m = 0;
    for (int i = 0; i < n; i++)
        m |= 1u << (d[i] < 0 ? d[i] + ndim : d[i]);
    return m;
}

static SlTensor *wrapped(double v)
{
    SlTensor *t = sl_tensor_scalar_d(SL_DT_F64, v, 0);
    t->wrapped = true;
    return t;
}

/* One case: compute, compare the outputs, backward, compare the gradients. */
static void run_case(const Case *c)
{
    SlError err = {0};
    const char *op = c->op;
    SlTensor *x = leaf_of(c, "x"), *y = NULL, *y2 = NULL, *y3 = NULL;
    SlTensor *other = NULL, *third = NULL;
    const char *oname = NULL, *tname = NULL;
    SlTensor *v = x && iparam(c, "t", 0) ? sl_ag_transpose(x, -1, -2, &err) : (x ? sl_tensor_ref(x) : NULL);
    int64_t d[SL_TENSOR_MAXDIM];
    int nd = list_param(c, "dim", d);
    if (!strcmp(op, "var") || !strcmp(op, "std")) {
        bool all = strcmp(param(c, "dim"), "all") == 0;
        y = sl_ag_var(v, mask_of(d, nd, v->ndim), all, iparam(c, "correction", 1), iparam(c, "keepdim", 0),
                      op[0] == 's', &err);
    } else if (!strcmp(op, "prod")) {
        bool all = strcmp(param(c, "dim"), "all") == 0;
        y = sl_ag_prod(v, all, all ? 0 : (int)d[0], iparam(c, "keepdim", 0), &err);
    } else if (!strcmp(op, "cumsum") || !strcmp(op, "cumprod")) {
        y = sl_ag_cumsum(v, (int)d[0], op[3] == 'p', &err);
    } else if (!strcmp(op, "logsumexp")) {
        y = sl_ag_logsumexp(v, mask_of(d, nd, v->ndim), iparam(c, "keepdim", 0), &err);
    } else if (!strcmp(op, "trace")) {
        y = sl_ag_trace(v, &err);
    } else if (!strcmp(op, "sort")) {
        ck_assert(sl_ag_sort(v, (int)d[0], iparam(c, "descending", 0), iparam(c, "stable", 0), &y, &y2, &err));
        expect_same(y2, get(c, "idx"), "idx", c);
    } else if (!strcmp(op, "topk")) {
        ck_assert(sl_ag_topk(v, iparam(c, "k", 0), (int)d[0], iparam(c, "largest", 1), iparam(c, "sorted", 1), &y,
                             &y2, &err));
        expect_same(y2, get(c, "idx"), "idx", c);
    } else if (!strcmp(op, "unique")) {
        const char *dp = param(c, "dim");
        ck_assert_msg(sl_tensor_unique(v, iparam(c, "sorted", 1), dp != NULL, dp ? atoi(dp) : 0, &y, &y2, &y3, &err),
                      "unique line %d: %s", c->line, err.msg);
        expect_same(y2, get(c, "inverse"), "inverse", c);
        expect_same(y3, get(c, "counts"), "counts", c);
    } else if (!strcmp(op, "flip")) {
        int64_t dd[SL_TENSOR_MAXDIM];
        int n = list_param(c, "dims", dd);
        y = sl_ag_flip(v, mask_of(dd, n, v->ndim), &err);
    } else if (!strcmp(op, "roll")) {
        int64_t s[SL_TENSOR_MAXDIM], dd[SL_TENSOR_MAXDIM];
        int ns = list_param(c, "shifts", s), n = list_param(c, "dims", dd);
        int di[SL_TENSOR_MAXDIM];
        for (int i = 0; i < n; i++)
            di[i] = (int)dd[i];
        (void)ns;
        y = sl_ag_roll(v, n, s, di, n == 0, &err);
    } else if (!strcmp(op, "repeat")) {
        int64_t r[SL_TENSOR_MAXDIM];
        int n = list_param(c, "reps", r);
        y = sl_ag_repeat(v, n, r, &err);
    } else if (!strcmp(op, "triu") || !strcmp(op, "tril")) {
        y = sl_ag_triu(v, iparam(c, "diagonal", 0), op[3] == 'l', &err);
    } else if (!strcmp(op, "diag")) {
        y = sl_ag_diag(v, iparam(c, "diagonal", 0), &err);
    } else if (!strcmp(op, "gather")) {
        y = sl_ag_gather(v, (int)d[0], get(c, "index"), &err);
    } else if (!strcmp(op, "index_select")) {
        y = sl_ag_index_select(v, (int)d[0], get(c, "index"), &err);
    } else if (!strcmp(op, "masked_fill")) {
        SlTensor *val = wrapped(strtod(param(c, "value"), NULL));
        y = sl_ag_masked_fill(v, get(c, "mask"), val, &err);
        sl_tensor_unref(val);
    } else if (!strcmp(op, "masked_fill_t")) {
        other = leaf_of(c, "value");
        oname = "value";
        y = sl_ag_masked_fill(v, get(c, "mask"), other, &err);
    } else if (!strcmp(op, "split") || !strcmp(op, "chunk")) {
        SlTensor *ps[64];
        int64_t sz[SL_TENSOR_MAXDIM];
        int n = list_param(c, "arg", sz), dim = (int)d[0], np;
        bool list = strchr(param(c, "arg"), ',') != NULL;
        if (!strcmp(op, "chunk"))
            np = sl_ag_chunk(v, sz[0], dim, ps, 64, &err);
        else
            np = sl_ag_split(v, list ? 0 : sz[0], list ? sz : NULL, list ? n : 0, dim, ps, 64, &err);
        ck_assert_int_eq(np, iparam(c, "n", -1));
        for (int i = 0; i < np; i++) {
            char yn[16], gn[16];
            snprintf(yn, sizeof yn, "y%d", i);
            snprintf(gn, sizeof gn, "gy%d", i);
            expect_same(ps[i], get(c, yn), yn, c);
            ck_assert(sl_ag_backward(ps[i], get(c, gn), true, &err));
            sl_tensor_unref(ps[i]);
        }
        expect_grad(c, "x", x);
        sl_tensor_unref(v);
        sl_tensor_unref(x);
        return;
    } else if (!strcmp(op, "dist")) {
        other = leaf_of(c, "other");
        oname = "other";
        y = sl_ag_dist(v, other, strtod(param(c, "p"), NULL), &err);
        if (strtod(param(c, "p"), NULL) == 0) { /* torch's backward fails there */
            expect_same(y, get(c, "y"), "y", c);
            sl_tensor_unref(y);
            sl_tensor_unref(other);
            sl_tensor_unref(v);
            sl_tensor_unref(x);
            return;
        }
    } else if (!strcmp(op, "lerp")) {
        other = leaf_of(c, "end");
        oname = "end";
        SlTensor *w = wrapped(strtod(param(c, "weight"), NULL));
        y = sl_ag_lerp(v, other, w, &err);
        sl_tensor_unref(w);
    } else if (!strcmp(op, "lerp_t")) {
        other = leaf_of(c, "end");
        oname = "end";
        third = leaf_of(c, "weight");
        tname = "weight";
        y = sl_ag_lerp(v, other, third, &err);
    } else if (!strcmp(op, "outer")) {
        other = leaf_of(c, "other");
        oname = "other";
        y = sl_ag_outer(v, other, &err);
    } else if (!strcmp(op, "inplace")) {
        const char *fn = param(c, "fn");
        if (!strcmp(fn, "square")) {
            y = sl_ag_pow_scalar(v, 2, &err);
        } else {
            SlTensor *one = sl_tensor_scalar_i(SL_DT_I64, 1, 0);
            one->wrapped = true;
            y = sl_ag_binary(SL_T_MUL, v, one, &err);
            sl_tensor_unref(one);
            bool ok;
            if (!strncmp(fn, "pow", 3))
                ok = sl_ag_pow_(y, strtod(fn + 3, NULL), &err);
            else if (!strcmp(fn, "clamp_"))
                ok = sl_ag_clamp_(y, true, -0.5, true, 0.7, &err);
            else if (!strcmp(fn, "clampmin_"))
                ok = sl_ag_clamp_(y, true, 0.2, false, 0, &err);
            else if (!strcmp(fn, "masked_fill_")) {
                SlTensor *half = wrapped(0.5), *m = sl_tensor_binary(SL_T_GT, get(c, "x"), half, &err);
                SlTensor *val = wrapped(-0.25);
                ok = sl_ag_masked_fill_(y, m, val, &err);
                sl_tensor_unref(half);
                sl_tensor_unref(m);
                sl_tensor_unref(val);
            }
            else
                ok = sl_ag_unary_(!strcmp(fn, "exp_")    ? SL_FN_EXP
                                  : !strcmp(fn, "log_")  ? SL_FN_LOG
                                  : !strcmp(fn, "abs_")  ? SL_FN_ABS
                                  : !strcmp(fn, "sqrt_") ? SL_FN_SQRT
                                                         : SL_TU_NEG,
                                  y, &err);
            ck_assert_msg(ok, "inplace %s: %s", fn, err.msg);
        }
    } else {
        ck_abort_msg("unknown op %s line %d", op, c->line);
    }
    ck_assert_msg(y != NULL, "%s line %d: %s", op, c->line, err.msg);
    expect_same(y, get(c, "y"), "y", c);
    if (y->requires_grad && sl_tensor_numel(y) > 0 && get(c, "gy")) {
        ck_assert_msg(sl_ag_backward(y, get(c, "gy"), false, &err), "%s line %d: backward: %s", op, c->line,
                      err.msg);
        expect_grad(c, "x", x);
        if (other)
            expect_grad(c, oname, other);
        if (third)
            expect_grad(c, tname, third);
    }
    sl_tensor_unref(y);
    sl_tensor_unref(y2);
    sl_tensor_unref(y3);
    sl_tensor_unref(other);
    sl_tensor_unref(third);
    sl_tensor_unref(v);
    sl_tensor_unref(x);
}

static void run_file(const char *file)
{
    FILE *f = open_data(file);
    Case c = {0};
    char *buf = NULL;
    size_t cap = 0;
    int lineno = 0, cases = 0;
    mismatches = 0;
    while (next_case(f, &c, &buf, &cap, &lineno)) {
        run_case(&c);
        cases++;
    }
    case_clear(&c);
    free(buf);
    fclose(f);
    ck_assert_msg(cases > 10, "%s: only %d cases", file, cases);
    ck_assert_msg(mismatches == 0, "%s: %d elements differ from torch", file, mismatches);
}

START_TEST(test_reduce_torch) { run_file("tensor_extra_reduce.txt"); }
END_TEST

START_TEST(test_sort_torch) { run_file("tensor_extra_sort.txt"); }
END_TEST

START_TEST(test_move_torch) { run_file("tensor_extra_move.txt"); }
END_TEST

START_TEST(test_math_torch) { run_file("tensor_extra_math.txt"); }
END_TEST

/* ---- finite differences ---- */

typedef struct Fx {
    int op;
    int dim;
    uint32_t mask;
    bool all, keep, flag;
    int64_t k;
    double p;
    SlTensor *aux; /* index, mask */
    int n;
    int64_t ints[4];
} Fx;

enum {
    F_VAR, F_STD, F_PROD, F_CUMSUM, F_CUMPROD, F_LSE, F_TRACE, F_SORT, F_TOPK, F_FLIP, F_ROLL, F_REPEAT, F_TRIU,
    F_DIAG, F_GATHER, F_ISEL, F_MFILL, F_MFILL_T, F_SPLIT, F_DIST, F_LERP, F_LERP_T, F_OUTER, F_INPLACE, F_NARROW
};

static SlTensor *fd_op(SlTensor **in, const void *ctx, SlError *err)
{
    const Fx *k = ctx;
    SlTensor *x = in[0], *v = NULL, *i = NULL;
    switch (k->op) {
    case F_VAR:
    case F_STD: return sl_ag_var(x, k->mask, k->all, k->k, k->keep, k->op == F_STD, err);
    case F_PROD: return sl_ag_prod(x, k->all, k->dim, k->keep, err);
    case F_CUMSUM:
    case F_CUMPROD: return sl_ag_cumsum(x, k->dim, k->op == F_CUMPROD, err);
    case F_LSE: return sl_ag_logsumexp(x, k->mask, k->keep, err);
    case F_TRACE: return sl_ag_trace(x, err);
    case F_SORT:
        if (!sl_ag_sort(x, k->dim, k->flag, false, &v, &i, err))
            return NULL;
        sl_tensor_unref(i);
        return v;
    case F_TOPK:
        if (!sl_ag_topk(x, k->k, k->dim, k->flag, true, &v, &i, err))
            return NULL;
        sl_tensor_unref(i);
        return v;
    case F_FLIP: return sl_ag_flip(x, k->mask, err);
    case F_ROLL: {
        int dims[1] = {k->dim};
        return sl_ag_roll(x, k->all ? 0 : 1, &k->k, dims, k->all, err);
    }
    case F_REPEAT: return sl_ag_repeat(x, k->n, k->ints, err);
    case F_TRIU: return sl_ag_triu(x, k->k, k->flag, err);
    case F_DIAG: return sl_ag_diag(x, k->k, err);
    case F_GATHER: return sl_ag_gather(x, k->dim, k->aux, err);
    case F_ISEL: return sl_ag_index_select(x, k->dim, k->aux, err);
    case F_MFILL: {
        SlTensor *val = wrapped(k->p);
        SlTensor *r = sl_ag_masked_fill(x, k->aux, val, err);
        sl_tensor_unref(val);
        return r;
    }
    case F_MFILL_T: return sl_ag_masked_fill(x, k->aux, in[1], err);
    case F_SPLIT: {
        SlTensor *ps[8];
        int n = k->n ? sl_ag_split(x, 0, k->ints, k->n, k->dim, ps, 8, err) : sl_ag_split(x, k->k, NULL, 0, k->dim, ps, 8, err);
        if (n < 0)
            return NULL;
        /* pieces weighted differently, then joined */
        for (int j = 0; j < n; j++) {
            SlTensor *w = wrapped(j + 1.5), *q = sl_ag_binary(SL_T_MUL, ps[j], w, err);
            sl_tensor_unref(w);
            sl_tensor_unref(ps[j]);
            ps[j] = q;
        }
        SlTensor *r = sl_ag_cat(ps, n, k->dim, false, err);
        for (int j = 0; j < n; j++)
            sl_tensor_unref(ps[j]);
        return r;
    }
    case F_DIST: return sl_ag_dist(x, in[1], k->p, err);
    case F_LERP: {
        SlTensor *w = wrapped(k->p);
        SlTensor *r = sl_ag_lerp(x, in[1], w, err);
        sl_tensor_unref(w);
        return r;
    }
    case F_LERP_T: return sl_ag_lerp(x, in[1], in[2], err);
    case F_OUTER: return sl_ag_outer(x, in[1], err);
    case F_NARROW: return sl_ag_narrow(x, k->dim, k->k, 2, err);
    case F_INPLACE: {
        SlTensor *one = sl_tensor_scalar_i(SL_DT_I64, 1, 0);
        one->wrapped = true;
        SlTensor *h = sl_ag_binary(SL_T_MUL, x, one, err);
        sl_tensor_unref(one);
        bool ok;
        switch (k->dim) {
        case 0: ok = sl_ag_unary_(SL_FN_EXP, h, err); break;
        case 1: ok = sl_ag_unary_(SL_FN_LOG, h, err); break;
        case 2: ok = sl_ag_unary_(SL_FN_ABS, h, err); break;
        case 3: ok = sl_ag_unary_(SL_FN_SQRT, h, err); break;
        case 4: ok = sl_ag_unary_(SL_TU_NEG, h, err); break;
        case 5: ok = sl_ag_pow_(h, k->p, err); break;
        case 6: ok = sl_ag_clamp_(h, true, -0.5, true, 0.7, err); break;
        default: {
            SlTensor *m = sl_tensor_zeros(SL_DT_BOOL, h->ndim, h->shape, 0, NULL), *val = wrapped(-0.25);
            sl_tensor_set_i(m, 0, 1);
            sl_tensor_set_i(m, 4, 1);
            ok = sl_ag_masked_fill_(h, m, val, err);
            sl_tensor_unref(m);
            sl_tensor_unref(val);
            break;
        }
        }
        if (!ok) {
            sl_tensor_unref(h);
            return NULL;
        }
        return h;
    }
    }
    return NULL;
}

/* the backward of the operation ctx names at in[], every input checked
 * (torch_cases.h's fd_check) */
static void fd_check_op(const char *what, const Fx *ctx, SlTensor **in, int n)
{
    bool all[8] = {true, true, true, true, true, true, true, true};
    ck_assert(n <= 8);
    fd_check(what, fd_op, ctx, in, n, all);
}

static void fd1(const char *what, Fx k, int nd, const int64_t *shape, double lo, double hi)
{
    SlTensor *in[1] = {rnd(nd, shape, lo, hi)};
    fd_check_op(what, &k, in, 1);
    sl_tensor_unref(in[0]);
}

static SlTensor *ints(int nd, const int64_t *shape, const int64_t *v)
{
    SlTensor *t = sl_tensor_zeros(SL_DT_I64, nd, shape, 0, NULL);
    for (int64_t i = 0, n = sl_tensor_numel(t); i < n; i++)
        sl_tensor_set_i(t, i, v[i]);
    return t;
}

static void fd_all(void)
{
    int64_t s5[1] = {5}, s34[2] = {3, 4}, s234[3] = {2, 3, 4}, s33[2] = {3, 3}, s4[1] = {4};
    /* var / std: everything, one dim, two dims, keepdim, corrections */
    for (int sq = 0; sq < 2; sq++) {
        int op = sq ? F_STD : F_VAR;
        fd1("var all", (Fx){.op = op, .all = true, .k = 1}, 2, s34, -2, 2);
        fd1("var all c0", (Fx){.op = op, .all = true, .k = 0}, 1, s5, -2, 2);
        fd1("var dim 1", (Fx){.op = op, .mask = 2, .k = 1}, 2, s34, -2, 2);
        fd1("var dim 0 keep", (Fx){.op = op, .mask = 1, .k = 1, .keep = true}, 2, s34, -2, 2);
        fd1("var dims 0,2", (Fx){.op = op, .mask = 5, .k = 2}, 3, s234, -2, 2);
    }
    /* prod: no zeros, one zero, along a dim with a zero */
    fd1("prod all", (Fx){.op = F_PROD, .all = true}, 2, s34, 0.5, 1.5);
    fd1("prod dim", (Fx){.op = F_PROD, .dim = 1}, 2, s34, 0.5, 1.5);
    fd1("prod dim keep", (Fx){.op = F_PROD, .dim = 0, .keep = true}, 2, s34, 0.5, 1.5);
    {
        SlTensor *in[1] = {rnd(2, s34, 0.5, 1.5)};
        sl_tensor_set_d(in[0], 5, 0);
        Fx k = {.op = F_PROD, .all = true};
        fd_check_op("prod one zero", &k, in, 1);
        k = (Fx){.op = F_PROD, .dim = 1};
        fd_check_op("prod dim zero", &k, in, 1);
        k = (Fx){.op = F_CUMPROD, .dim = 1};
        fd_check_op("cumprod zero", &k, in, 1);
        sl_tensor_set_d(in[0], 7, 0);
        fd_check_op("cumprod two zeros", &k, in, 1);
        k = (Fx){.op = F_PROD, .dim = 0};
        fd_check_op("prod dim two zeros", &k, in, 1);
        sl_tensor_unref(in[0]);
    }
    {
        /* zeros on many lines (every line its own masks) */
        int64_t s50[2] = {50, 3};
        SlTensor *in[1] = {rnd(2, s50, 0.5, 1.5)};
        for (int64_t r = 0; r < 50; r++)
            sl_tensor_set_d(in[0], r * 3 + r % 3, 0);
        Fx k = {.op = F_CUMPROD, .dim = 1};
        fd_check_op("cumprod zeros on every line", &k, in, 1);
        k = (Fx){.op = F_PROD, .dim = 1, .keep = true};
        fd_check_op("prod zeros on every line", &k, in, 1);
        sl_tensor_unref(in[0]);
    }
    fd1("cumsum", (Fx){.op = F_CUMSUM, .dim = 1}, 2, s34, -2, 2);
    fd1("cumsum 0", (Fx){.op = F_CUMSUM, .dim = 0}, 3, s234, -2, 2);
    fd1("cumprod", (Fx){.op = F_CUMPROD, .dim = 0}, 2, s34, 0.5, 1.5);
    fd1("logsumexp", (Fx){.op = F_LSE, .mask = 2}, 2, s34, -3, 3);
    fd1("logsumexp keep 2 dims", (Fx){.op = F_LSE, .mask = 5, .keep = true}, 3, s234, -3, 3);
    fd1("trace", (Fx){.op = F_TRACE}, 2, s34, -2, 2);
    fd1("sort", (Fx){.op = F_SORT, .dim = 1}, 2, s34, -2, 2);
    fd1("sort desc", (Fx){.op = F_SORT, .dim = 0, .flag = true}, 2, s34, -2, 2);
    fd1("topk", (Fx){.op = F_TOPK, .dim = 1, .k = 2, .flag = true}, 2, s34, -2, 2);
    fd1("flip", (Fx){.op = F_FLIP, .mask = 5}, 3, s234, -2, 2);
    fd1("roll", (Fx){.op = F_ROLL, .dim = 1, .k = 2}, 2, s34, -2, 2);
    fd1("roll flat", (Fx){.op = F_ROLL, .all = true, .k = -5}, 2, s34, -2, 2);
    fd1("repeat", (Fx){.op = F_REPEAT, .n = 3, .ints = {2, 1, 3}}, 2, s34, -2, 2);
    fd1("triu", (Fx){.op = F_TRIU, .k = 1}, 2, s34, -2, 2);
    fd1("tril", (Fx){.op = F_TRIU, .k = -1, .flag = true}, 3, s234, -2, 2);
    fd1("diag 2-d", (Fx){.op = F_DIAG, .k = 1}, 2, s34, -2, 2);
    fd1("diag 1-d", (Fx){.op = F_DIAG, .k = -1}, 1, s4, -2, 2);
    fd1("narrow", (Fx){.op = F_NARROW, .dim = 1, .k = 1}, 2, s34, -2, 2);
    {
        int64_t is[2] = {2, 4}, iv[8] = {0, 2, 2, 1, 2, 2, 0, 0};
        Fx k = {.op = F_GATHER, .dim = 0, .aux = ints(2, is, iv)};
        SlTensor *in[1] = {rnd(2, s34, -2, 2)};
        fd_check_op("gather", &k, in, 1);
        sl_tensor_unref(k.aux);
        int64_t ls[1] = {5}, lv[5] = {3, 0, 3, 3, 1};
        k = (Fx){.op = F_ISEL, .dim = 1, .aux = ints(1, ls, lv)};
        fd_check_op("index_select", &k, in, 1);
        sl_tensor_unref(k.aux);
        k = (Fx){.op = F_MFILL, .p = 0.5, .aux = sl_tensor_zeros(SL_DT_BOOL, 1, s4, 0, NULL)};
        sl_tensor_set_i(k.aux, 1, 1);
        sl_tensor_set_i(k.aux, 2, 1);
        fd_check_op("masked_fill", &k, in, 1);
        SlTensor *in2[2] = {in[0], rnd(0, NULL, -1, 1)};
        k.op = F_MFILL_T;
        fd_check_op("masked_fill tensor value", &k, in2, 2);
        sl_tensor_unref(in2[1]);
        sl_tensor_unref(k.aux);
        k = (Fx){.op = F_SPLIT, .dim = 1, .k = 3};
        fd_check_op("split", &k, in, 1);
        k = (Fx){.op = F_SPLIT, .dim = 0, .n = 3, .ints = {1, 0, 2}};
        fd_check_op("split sizes", &k, in, 1);
        sl_tensor_unref(in[0]);
    }
    /* dist for several p, broadcasting */
    {
        double ps[] = {2, 1, 3, 1.5, 0.5, INFINITY};
        for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++) {
            SlTensor *in[2] = {rnd(2, s34, -2, 2), rnd(1, s4, -2, 2)};
            Fx k = {.op = F_DIST, .p = ps[j]};
            fd_check_op("dist", &k, in, 2);
            sl_tensor_unref(in[0]);
            sl_tensor_unref(in[1]);
        }
    }
    {
        double ws[] = {0.25, 0.75, -0.3, 1.2};
        for (size_t j = 0; j < sizeof ws / sizeof ws[0]; j++) {
            SlTensor *in[2] = {rnd(2, s34, -2, 2), rnd(1, s4, -2, 2)};
            Fx k = {.op = F_LERP, .p = ws[j]};
            fd_check_op("lerp", &k, in, 2);
            sl_tensor_unref(in[0]);
            sl_tensor_unref(in[1]);
        }
        SlTensor *in[3] = {rnd(2, s34, -2, 2), rnd(2, s34, -2, 2), rnd(1, s4, -0.2, 1.2)};
        Fx k = {.op = F_LERP_T};
        fd_check_op("lerp tensor weight", &k, in, 3);
        for (int j = 0; j < 3; j++)
            sl_tensor_unref(in[j]);
        SlTensor *o[2] = {rnd(1, s4, -2, 2), rnd(1, s5, -2, 2)};
        k = (Fx){.op = F_OUTER};
        fd_check_op("outer", &k, o, 2);
        sl_tensor_unref(o[0]);
        sl_tensor_unref(o[1]);
    }
    /* in place on a non-leaf */
    for (int f = 0; f < 8; f++) {
        Fx k = {.op = F_INPLACE, .dim = f, .p = 2.5};
        double lo = f == 1 || f == 3 || f == 5 ? 0.2 : -2;
        fd1("inplace", k, 2, s33, lo, 2);
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

/* ---- mpfr forward values at their precision ---- */

START_TEST(test_mpfr_values)
{
    SlError err = {0};
    int64_t s[1] = {3};
    SlTensor *x = sl_tensor_zeros(SL_DT_MPFR, 1, s, 256, NULL);
    mpfr_t a;
    mpfr_init2(a, 256);
    for (int i = 0; i < 3; i++) {
        mpfr_set_ui(a, 1, MPFR_RNDN);
        mpfr_div_ui(a, a, (unsigned long)(i + 3), MPFR_RNDN); /* 1/3, 1/4, 1/5 */
        sl_tensor_set_m(x, i, a);
    }
    /* var = the exact sample variance of 1/3, 1/4, 1/5 = 31/3600 ... at 256 bits */
    SlTensor *v = sl_ag_var(x, 0, true, 1, false, false, &err);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->dtype, SL_DT_MPFR);
    ck_assert_int_eq(v->storage->prec, 256);
    mpfr_t want;
    mpfr_init2(want, 256);
    /* mean 47/180; deviations 13/180, 2/180, -11/180 -> (169 + 4 + 121) / 180^2 / 2 = 294 / 64800 */
    mpfr_set_ui(want, 294, MPFR_RNDN);
    mpfr_div_ui(want, want, 64800, MPFR_RNDN);
    mpfr_sub(a, sl_tensor_get_m(v, 0), want, MPFR_RNDN);
    ck_assert(mpfr_cmpabs(a, want) <= 0 && mpfr_get_exp(a) < mpfr_get_exp(want) - 240);
    SlTensor *p = sl_ag_prod(x, true, 0, false, &err);
    mpfr_set_ui(want, 1, MPFR_RNDN);
    mpfr_div_ui(want, want, 60, MPFR_RNDN);
    mpfr_sub(a, sl_tensor_get_m(p, 0), want, MPFR_RNDN);
    ck_assert(mpfr_zero_p(a) || mpfr_get_exp(a) < mpfr_get_exp(want) - 250);
    SlTensor *c = sl_ag_cumsum(x, 0, false, &err);
    ck_assert_int_eq(c->storage->prec, 256);
    SlTensor *vals, *idx;
    ck_assert(sl_ag_sort(x, 0, false, false, &vals, &idx, &err));
    ck_assert_int_eq(sl_tensor_get_i(idx, 0), 2);
    ck_assert(mpfr_equal_p(sl_tensor_get_m(vals, 0), sl_tensor_get_m(x, 2)));
    SlTensor *all[] = {x, v, p, c, vals, idx};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_tensor_unref(all[i]);
    mpfr_clear(a);
    mpfr_clear(want);
}
END_TEST

/* ---- the small ones ---- */

START_TEST(test_tests)
{
    SlError err = {0};
    int64_t s[1] = {4}, s22[2] = {2, 2};
    SlTensor *x = sl_tensor_zeros(SL_DT_F32, 1, s, 0, NULL);
    sl_tensor_set_d(x, 0, 1);
    sl_tensor_set_d(x, 1, NAN);
    sl_tensor_set_d(x, 2, -INFINITY);
    SlTensor *n = sl_tensor_isnan(x, false, &err), *i = sl_tensor_isnan(x, true, &err);
    ck_assert(!sl_tensor_get_b(n, 0) && sl_tensor_get_b(n, 1) && !sl_tensor_get_b(n, 2));
    ck_assert(!sl_tensor_get_b(i, 0) && !sl_tensor_get_b(i, 1) && sl_tensor_get_b(i, 2));
    bool r;
    ck_assert(sl_tensor_allclose(x, x, 1e-5, 1e-8, false, &r, &err) && !r);
    ck_assert(sl_tensor_allclose(x, x, 1e-5, 1e-8, true, &r, &err) && r);
    ck_assert(!sl_tensor_equal(x, x)); /* NaN */
    SlTensor *nz = sl_tensor_nonzero(x, &err);
    ck_assert_int_eq(nz->shape[0], 3);
    ck_assert_int_eq(nz->shape[1], 1);
    ck_assert_int_eq(sl_tensor_get_i(nz, 2), 2);
    SlTensor *m = sl_tensor_eye(SL_DT_I64, 2, 2, 0, NULL);
    SlTensor *nz2 = sl_tensor_nonzero(m, &err);
    ck_assert_int_eq(nz2->shape[0], 2);
    ck_assert_int_eq(sl_tensor_get_i(nz2, 2), 1);
    ck_assert_int_eq(sl_tensor_get_i(nz2, 3), 1);
    SlTensor *f = sl_tensor_to(m, SL_DT_F64, 0);
    ck_assert(sl_tensor_equal(m, f));
    SlTensor *z = sl_tensor_zeros(SL_DT_F64, 2, s22, 0, NULL);
    ck_assert(!sl_tensor_equal(m, z));
    ck_assert(!sl_tensor_allclose(f, x, 1e-5, 1e-8, false, &r, &err));
    ck_assert_str_eq(err.msg, "Double did not match Float");
    sl_err_clear(&err);
    SlTensor *all[] = {x, n, i, nz, m, nz2, f, z};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        sl_tensor_unref(all[k]);
}
END_TEST

static void expect_err(bool failed, SlError *err, const char *msg)
{
    ck_assert(failed);
    ck_assert_msg(err->set, "no error, expected: %s", msg);
    ck_assert_msg(strcmp(err->msg, msg) == 0, "got \"%s\", expected \"%s\"", err->msg, msg);
    sl_err_clear(err);
}

START_TEST(test_errors)
{
    SlError err = {0};
    int64_t s23[2] = {2, 3}, s3[1] = {3}, s1[1] = {1}, s11[2] = {1, 1};
    SlTensor *x = sl_tensor_zeros(SL_DT_F32, 2, s23, 0, NULL), *i = sl_tensor_zeros(SL_DT_I64, 1, s3, 0, NULL);
    SlTensor *v, *ix, *ps[8];
    expect_err(!sl_ag_var(i, 0, true, 1, false, false, &err), &err,
               "std and var only support floating point and complex dtypes");
    expect_err(!sl_ag_cumsum(x, 2, false, &err), &err,
               "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    expect_err(!sl_ag_topk(x, 4, -1, true, true, &v, &ix, &err), &err, "selected index k out of range");
    expect_err(sl_ag_split(x, 0, (int64_t[]){1, 1}, 2, 1, ps, 8, &err) < 0, &err,
               "split_with_sizes expects split_sizes to sum exactly to 3 (input tensor's size at dimension 1), but "
               "got split_sizes=[1, 1]");
    expect_err(sl_ag_split(x, 0, NULL, 0, 1, ps, 8, &err) < 0, &err,
               "split_size can only be 0 if dimension size is 0, but got dimension size of 3");
    expect_err(sl_ag_chunk(x, 0, 0, ps, 8, &err) < 0, &err, "chunk expects `chunks` to be greater than 0, got: 0");
    expect_err(!sl_ag_narrow(x, 1, 2, 2, &err), &err, "start (2) + length (2) exceeds dimension size (3).");
    expect_err(!sl_ag_repeat(x, 1, (int64_t[]){2}, &err), &err,
               "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
    SlTensor *bad = sl_tensor_full_d(SL_DT_I64, 2, s11, 0, 3, NULL);
    expect_err(!sl_ag_gather(x, 1, bad, &err), &err, "index 3 is out of bounds for dimension 1 with size 3");
    SlTensor *flat = sl_tensor_zeros(SL_DT_I64, 1, s1, 0, NULL);
    expect_err(!sl_ag_gather(x, 1, flat, &err), &err,
               "Index tensor must have the same number of dimensions as input tensor");
    SlTensor *two = sl_tensor_full_d(SL_DT_I64, 1, s1, 0, 2, NULL);
    expect_err(!sl_ag_index_select(x, 0, two, &err), &err, "index out of range in self");
    expect_err(!sl_ag_index_select(x, 1, bad, &err), &err, "index_select(): Index is supposed to be a vector");
    expect_err(!sl_ag_triu(i, 0, false, &err), &err,
               "Dimension out of range (expected to be in range of [-1, 0], but got -2)");
    expect_err(!sl_ag_trace(i, &err), &err, "trace: expected a matrix, but got tensor with dim 1");
    expect_err(!sl_ag_outer(x, i, &err), &err, "outer: Expected 1-D argument self, but got 2-D");
    expect_err(!sl_ag_dist(i, i, 2, &err), &err,
               "norm(): input dtype should be either floating point or complex. Got Long instead.");
    SlTensor *w = wrapped(0.5);
    expect_err(!sl_ag_lerp(i, i, w, &err), &err, "\"lerp_kernel_scalar\" not implemented for 'Long'");
    expect_err(!sl_ag_unary_(SL_FN_EXP, i, &err), &err, "result type Float can't be cast to the desired output type Long");
    expect_err(!sl_ag_masked_fill(x, x, w, &err), &err,
               "masked_fill_ only supports boolean masks, but got mask with dtype float");
    SlTensor *leaf = sl_tensor_zeros(SL_DT_F32, 1, s3, 0, NULL);
    leaf->requires_grad = true;
    expect_err(!sl_ag_unary_(SL_FN_EXP, leaf, &err), &err,
               "a leaf Variable that requires grad is being used in an in-place operation.");
    /* a split piece of a graph tensor cannot be changed in place */
    SlTensor *h = sl_ag_binary(SL_T_MUL, leaf, w, &err);
    int np = sl_ag_split(h, 2, NULL, 0, 0, ps, 8, &err);
    ck_assert_int_eq(np, 2);
    expect_err(!sl_ag_unary_(SL_FN_EXP, ps[0], &err), &err,
               "in-place change of a view (made by SplitBackward0) of a tensor that requires grad is not supported");
    /* unique has no derivative */
    SlTensor *u, *ui, *uc;
    ck_assert(sl_tensor_unique(h, true, false, 0, &u, &ui, &uc, &err));
    ck_assert_str_eq(sl_node_name(u->grad_fn), "Unique2Backward0");
    SlTensor *one = sl_tensor_ones_like(u, NULL);
    expect_err(!sl_ag_backward(u, one, false, &err), &err, "the derivative for '_unique2' is not implemented.");
    SlTensor *all[] = {x, i, bad, flat, two, w, leaf, h, ps[0], ps[1], u, ui, uc, one};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        sl_tensor_unref(all[k]);
}
END_TEST

/* grad_fn names, as torch 1.13 names them */
START_TEST(test_names)
{
    SlError err = {0};
    int64_t s23[2] = {2, 3};
    SlTensor *x = sl_tensor_full_d(SL_DT_F32, 2, s23, 0, 1.5, NULL);
    x->requires_grad = true;
    SlTensor *v, *ix;
    struct {
        SlTensor *t;
        const char *name;
    } k[] = {
        {sl_ag_var(x, 0, true, 1, false, true, &err), "StdBackward0"},
        {sl_ag_var(x, 1, false, 1, false, false, &err), "VarBackward0"},
        {sl_ag_prod(x, true, 0, false, &err), "ProdBackward0"},
        {sl_ag_prod(x, false, 1, false, &err), "ProdBackward1"},
        {sl_ag_cumsum(x, 0, false, &err), "CumsumBackward0"},
        {sl_ag_cumsum(x, 0, true, &err), "CumprodBackward0"},
        {sl_ag_flip(x, 1, &err), "FlipBackward0"},
        {sl_ag_repeat(x, 2, (int64_t[]){1, 2}, &err), "RepeatBackward0"},
        {sl_ag_logsumexp(x, 1, false, &err), "LogsumexpBackward0"},
        {sl_ag_triu(x, 0, false, &err), "TriuBackward0"},
        {sl_ag_triu(x, 0, true, &err), "TrilBackward0"},
        {sl_ag_trace(x, &err), "TraceBackward0"},
        {sl_ag_diag(x, 0, &err), "DiagBackward0"},
        {sl_ag_narrow(x, 1, 0, 2, &err), "SliceBackward0"},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        if (!k[i].name)
            continue;
        ck_assert_msg(k[i].t && k[i].t->grad_fn, "%s: no node", k[i].name);
        ck_assert_str_eq(sl_node_name(k[i].t->grad_fn), k[i].name);
        sl_tensor_unref(k[i].t);
    }
    ck_assert(sl_ag_sort(x, 1, false, false, &v, &ix, &err));
    ck_assert_str_eq(sl_node_name(v->grad_fn), "SortBackward0");
    ck_assert_ptr_null(ix->grad_fn);
    sl_tensor_unref(v);
    sl_tensor_unref(ix);
    ck_assert(sl_ag_sort(x, 1, false, true, &v, &ix, &err));
    ck_assert_str_eq(sl_node_name(v->grad_fn), "SortBackward1");
    sl_tensor_unref(v);
    sl_tensor_unref(ix);
    ck_assert(sl_ag_topk(x, 1, 1, true, true, &v, &ix, &err));
    ck_assert_str_eq(sl_node_name(v->grad_fn), "TopkBackward0");
    sl_tensor_unref(v);
    sl_tensor_unref(ix);
    SlTensor *ps[4];
    ck_assert_int_eq(sl_ag_split(x, 0, (int64_t[]){1, 2}, 2, 1, ps, 4, &err), 2);
    ck_assert_str_eq(sl_node_name(ps[1]->grad_fn), "SplitWithSizesBackward0");
    ck_assert(ps[1]->storage == x->storage); /* views */
    sl_tensor_unref(ps[0]);
    sl_tensor_unref(ps[1]);
    ck_assert_int_eq(sl_ag_chunk(x, 2, 1, ps, 4, &err), 2);
    ck_assert_str_eq(sl_node_name(ps[0]->grad_fn), "SplitBackward0");
    sl_tensor_unref(ps[0]);
    sl_tensor_unref(ps[1]);
    /* in place keeps torch's names: ExpBackward0 on a non-leaf */
    SlTensor *one = wrapped(1), *h = sl_ag_binary(SL_T_MUL, x, one, &err);
    ck_assert(sl_ag_unary_(SL_FN_EXP, h, &err));
    ck_assert_str_eq(sl_node_name(h->grad_fn), "ExpBackward0");
    ck_assert(sl_ag_clamp_(h, true, 0, false, 0, &err));
    ck_assert_str_eq(sl_node_name(h->grad_fn), "ClampBackward1");
    ck_assert_str_eq(sl_node_name(h->grad_fn->next[0]), "ExpBackward0");
    SlTensor *mask = sl_tensor_zeros(SL_DT_BOOL, 2, s23, 0, NULL);
    SlTensor *m1 = sl_ag_masked_fill(x, mask, one, &err);
    ck_assert_str_eq(sl_node_name(m1->grad_fn), "MaskedFillBackward0");
    SlTensor *val = sl_tensor_scalar_d(SL_DT_F32, 2, 0);
    SlTensor *m2 = sl_ag_masked_fill(x, mask, val, &err);
    ck_assert_str_eq(sl_node_name(m2->grad_fn), "MaskedFillBackward1");
    SlTensor *all[] = {x, one, h, mask, m1, val, m2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_tensor_unref(all[i]);
}
END_TEST

static Suite *extra_suite(void)
{
    Suite *s = suite_create("tensor_extra");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, count_start, count_end);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_reduce_torch);
    tcase_add_test(tc, test_sort_torch);
    tcase_add_test(tc, test_move_torch);
    tcase_add_test(tc, test_math_torch);
    tcase_add_test(tc, test_fd_f64);
    tcase_add_test(tc, test_fd_mpfr);
    tcase_add_test(tc, test_mpfr_values);
    tcase_add_test(tc, test_tests);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(extra_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
