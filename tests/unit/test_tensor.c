/* test_tensor.c -- tensors through tensor.h's C API (no evaluator).
 *
 * Expected values come from PyTorch 1.13: tests/gen_tensor_data.py writes
 * tests/unit/tensor_*.txt (floats as hex literals), read here from
 * $SL_TEST_DATA_DIR.  float32 kernels, sums, matmul and the generator are
 * compared bit for bit; promotion by dtype; views, broadcasting and mpfr
 * tensors by hand-written cases.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "num.h"
#include "tensor.h"

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

/* Read one line into a growing buffer; false at EOF. */
static bool read_line(FILE *f, char **buf, size_t *cap)
{
    ssize_t n = getline(buf, cap, f);
    if (n < 0)
        return false;
    while (n > 0 && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
        (*buf)[--n] = '\0';
    return true;
}

/* Whitespace tokens of a line, in place. */
typedef struct Toks {
    char **t;
    int n, cap;
} Toks;

static void tokenize(char *line, Toks *k)
{
    k->n = 0;
    for (char *p = strtok(line, " "); p; p = strtok(NULL, " ")) {
        if (k->n == k->cap) {
            k->cap = k->cap ? 2 * k->cap : 256;
            k->t = realloc(k->t, (size_t)k->cap * sizeof *k->t);
        }
        k->t[k->n++] = p;
    }
}

static SlTensor *vec_of(SlDType dt, int64_t n, char **vals)
{
    SlTensor *t = sl_tensor_zeros(dt, 1, &n, 0, NULL);
    for (int64_t i = 0; i < n; i++)
        sl_tensor_set_d(t, i, strtod(vals[i], NULL));
    return t;
}

static SlTensor *f32_vec(int64_t n, char **vals)
{
    SlTensor *t = sl_tensor_zeros(SL_DT_F32, 1, &n, 0, NULL);
    for (int64_t i = 0; i < n; i++)
        sl_tensor_set_d(t, i, strtod(vals[i], NULL));
    return t;
}

static SlTensor *wrapped_d(double v)
{
    SlTensor *s = sl_tensor_scalar_d(SL_DT_F64, v, 0);
    s->wrapped = true;
    return s;
}

static bool same_f(float a, float b) { return (a != a && b != b) || memcmp(&a, &b, sizeof a) == 0; }

/* Elements that differ from torch by one ulp (transcendental functions:
 * torch's Sleef vs glibc), counted by expect_f32_ulp. */
/* every element of t (float32 or float64) is the hex float torch gave, bit for bit */
static void expect_bits(const SlTensor *t, char **vals, int64_t n, const char *what, int line)
{
    ck_assert_msg(sl_tensor_numel(t) == n, "%s (line %d): %lld elements, expected %lld", what, line,
                  (long long)sl_tensor_numel(t), (long long)n);
    for (int64_t i = 0; i < n; i++) {
        double want = strtod(vals[i], NULL), got = sl_tensor_get_d(t, i);
        if (t->dtype == SL_DT_F32)
            want = (float)want;
        bool same = (got == want && signbit(got) == signbit(want)) || (isnan(got) && isnan(want));
        ck_assert_msg(same, "%s (line %d) element %lld: got %a, torch %a", what, line, (long long)i, got, want);
    }
}

/* every element of t equals the hex floats (as float32) */
static void expect_f32(const SlTensor *t, char **vals, int64_t n, const char *what, int line)
{
    ck_assert_msg(sl_tensor_numel(t) == n, "%s (line %d): %lld elements, expected %lld", what, line,
                  (long long)sl_tensor_numel(t), (long long)n);
    ck_assert_int_eq(t->dtype, SL_DT_F32);
    for (int64_t i = 0; i < n; i++) {
        float want = (float)strtod(vals[i], NULL), got = sl_tensor_get_f(t, i);
        ck_assert_msg(same_f(got, want), "%s (line %d) element %lld: got %a, torch %a", what, line, (long long)i,
                      (double)got, (double)want);
    }
}

static int arrow(const Toks *k)
{
    for (int i = 0; i < k->n; i++)
        if (strcmp(k->t[i], "->") == 0)
            return i;
    ck_abort_msg("no -> in line");
    return -1;
}

/* ---- creation, metadata, views ---- */

START_TEST(test_create)
{
    SlError err = {0};
    int64_t shape[2] = {2, 3};
    SlTensor *t = sl_tensor_zeros(SL_DT_F32, 2, shape, 0, &err);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(sl_tensor_numel(t), 6);
    ck_assert_int_eq(t->strides[0], 3);
    ck_assert_int_eq(t->strides[1], 1);
    ck_assert(sl_tensor_is_contiguous(t));
    sl_tensor_unref(t);

    t = sl_tensor_arange(SL_DT_I64, 0, 5, 1, 0, &err);
    ck_assert_int_eq(t->shape[0], 5);
    ck_assert_int_eq(sl_tensor_get_i(t, 4), 4);
    sl_tensor_unref(t);
    t = sl_tensor_arange(SL_DT_F32, 0, 1, 0.25, 0, &err);
    ck_assert_int_eq(t->shape[0], 4);
    ck_assert(sl_tensor_get_d(t, 3) == 0.75);
    sl_tensor_unref(t);
    t = sl_tensor_linspace(SL_DT_F32, 0, 1, 5, 0, &err);
    ck_assert(sl_tensor_get_d(t, 1) == 0.25 && sl_tensor_get_d(t, 4) == 1.0);
    sl_tensor_unref(t);
    t = sl_tensor_eye(SL_DT_F64, 3, -1, 0, &err);
    ck_assert(sl_tensor_get_d(t, 0) == 1 && sl_tensor_get_d(t, 1) == 0 && sl_tensor_get_d(t, 8) == 1);
    sl_tensor_unref(t);

    /* limits and bad shapes give errors, not crashes */
    int64_t huge[3] = {1 << 20, 1 << 20, 1 << 20};
    ck_assert_ptr_null(sl_tensor_zeros(SL_DT_F32, 3, huge, 0, &err));
    ck_assert(err.set && err.code == SL_E_LIMIT);
    sl_err_clear(&err);
    int64_t neg[1] = {-2};
    ck_assert_ptr_null(sl_tensor_zeros(SL_DT_F32, 1, neg, 0, &err));
    ck_assert(strstr(err.msg, "negative dimension") != NULL);
    sl_err_clear(&err);
    ck_assert_int_eq(sl_tensor_live(), 0);
    ck_assert_int_eq(sl_storage_live(), 0);
}
END_TEST

START_TEST(test_views)
{
    SlError err = {0};
    SlTensor *a = sl_tensor_arange(SL_DT_F32, 0, 6, 1, 0, &err);
    int64_t s23[2] = {2, 3};
    SlTensor *m = sl_tensor_view(a, 2, s23, &err);
    ck_assert_ptr_eq(m->storage, a->storage);
    ck_assert_ptr_eq(m->version, a->version);
    SlTensor *t = sl_tensor_transpose(m, 0, 1, &err);
    ck_assert(!sl_tensor_is_contiguous(t));
    ck_assert(sl_tensor_get_d(t, 1) == 3.0); /* t[0][1] = m[1][0] */
    int64_t s6[1] = {6};
    ck_assert_ptr_null(sl_tensor_view(t, 1, s6, &err));
    ck_assert(strstr(err.msg, "Use .reshape") != NULL);
    sl_err_clear(&err);
    bool copied;
    SlTensor *r = sl_tensor_reshape(t, 1, s6, &copied, &err);
    ck_assert(copied);
    ck_assert(r->storage != a->storage);
    ck_assert(sl_tensor_get_d(r, 1) == 3.0);
    SlTensor *r2 = sl_tensor_reshape(m, 1, s6, &copied, &err);
    ck_assert(!copied && r2->storage == a->storage);
    int64_t inf[2] = {3, -1};
    SlTensor *r3 = sl_tensor_view(a, 2, inf, &err);
    ck_assert_int_eq(r3->shape[1], 2);
    int64_t bad[2] = {4, -1};
    ck_assert_ptr_null(sl_tensor_view(a, 2, bad, &err));
    ck_assert_str_eq(err.msg, "shape '[4, -1]' is invalid for input of size 6");
    sl_err_clear(&err);

    SlTensor *row = sl_tensor_select(m, 0, 1, &err); /* [3, 4, 5] */
    ck_assert_int_eq(row->ndim, 1);
    ck_assert(sl_tensor_get_d(row, 2) == 5.0);
    SlTensor *col = sl_tensor_select(m, 1, -1, &err); /* [2, 5] */
    ck_assert(sl_tensor_get_d(col, 1) == 5.0);
    ck_assert_ptr_null(sl_tensor_select(m, 0, 2, &err));
    ck_assert_str_eq(err.msg, "index 2 is out of bounds for dimension 0 with size 2");
    sl_err_clear(&err);
    SlTensor *sl = sl_tensor_slice(a, 0, 1, 100, 2, &err); /* [1, 3, 5] */
    ck_assert_int_eq(sl->shape[0], 3);
    ck_assert(sl_tensor_get_d(sl, 2) == 5.0);
    SlTensor *u = sl_tensor_unsqueeze(a, 0, &err);
    ck_assert(u->ndim == 2 && u->shape[0] == 1 && u->shape[1] == 6);
    SlTensor *sq = sl_tensor_squeeze(u, -1000, &err);
    ck_assert(sq->ndim == 1);
    int64_t e34[2] = {4, 3};
    SlTensor *ex = sl_tensor_expand(col, 1, &e34[1], &err);
    ck_assert_ptr_null(ex);
    sl_err_clear(&err);
    SlTensor *one = sl_tensor_slice(a, 0, 0, 1, 1, &err);
    ex = sl_tensor_expand(one, 2, e34, &err);
    ck_assert(ex && ex->strides[0] == 0 && ex->strides[1] == 0 && sl_tensor_numel(ex) == 12);
    int perm[2] = {1, 0};
    SlTensor *p = sl_tensor_permute(m, perm, &err);
    ck_assert(p->shape[0] == 3 && p->strides[0] == 1);

    /* writes through a view reach the base and bump the shared version */
    uint64_t v0 = a->version->v;
    SlTensor *nine = sl_tensor_scalar_d(SL_DT_F32, 9, 0);
    ck_assert(sl_tensor_copy_(row, nine, &err));
    ck_assert(sl_tensor_get_d(a, 4) == 9.0);
    ck_assert(a->version->v == v0 + 1);
    /* .data has its own version counter; detach (alias) shares */
    SlTensor *d = sl_tensor_data_alias(a);
    ck_assert(d->version != a->version && d->storage == a->storage);

    SlTensor *all[] = {a, m, t, r, r2, r3, row, col, sl, u, sq, one, ex, p, nine, d};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_tensor_unref(all[i]);
    ck_assert_int_eq(sl_tensor_live(), 0);
    ck_assert_int_eq(sl_storage_live(), 0);
}
END_TEST

START_TEST(test_broadcast)
{
    SlError err = {0};
    int64_t s23[2] = {2, 3}, s3[1] = {3}, s21[2] = {2, 1}, s4[1] = {4};
    SlTensor *a = sl_tensor_full_d(SL_DT_F32, 2, s23, 0, 1.0, &err);
    SlTensor *b = sl_tensor_arange(SL_DT_F32, 0, 3, 1, 0, &err);
    SlTensor *c = sl_tensor_arange(SL_DT_F32, 10, 12, 1, 0, &err);
    SlTensor *c2 = sl_tensor_view(c, 2, s21, &err);
    SlTensor *r = sl_tensor_binary(SL_T_ADD, a, b, &err);
    ck_assert(r->ndim == 2 && r->shape[0] == 2 && r->shape[1] == 3);
    ck_assert(sl_tensor_get_d(r, 5) == 3.0);
    SlTensor *r2 = sl_tensor_binary(SL_T_MUL, c2, b, &err); /* (2,1) * (3,) -> (2,3) */
    ck_assert(r2->shape[0] == 2 && r2->shape[1] == 3 && sl_tensor_get_d(r2, 5) == 22.0);
    SlTensor *d = sl_tensor_zeros(SL_DT_F32, 1, s4, 0, &err);
    ck_assert_ptr_null(sl_tensor_binary(SL_T_ADD, a, d, &err));
    ck_assert_str_eq(err.msg, "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1");
    sl_err_clear(&err);
    /* sum_to undoes broadcasting */
    SlTensor *st = sl_tensor_sum_to(r2, 2, s21, &err);
    ck_assert(st->shape[0] == 2 && st->shape[1] == 1);
    ck_assert(sl_tensor_get_d(st, 0) == 30.0 && sl_tensor_get_d(st, 1) == 33.0);
    SlTensor *st2 = sl_tensor_sum_to(r2, 1, s3, &err);
    ck_assert(sl_tensor_get_d(st2, 2) == 2 * 10 + 2 * 11);
    (void)s23;
    SlTensor *all[] = {a, b, c, c2, r, r2, d, st, st2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_tensor_unref(all[i]);
    ck_assert_int_eq(sl_tensor_live(), 0);
}
END_TEST

/* ---- promotion against torch ---- */

static SlTensor *operand(const char *code)
{
    int64_t two = 2;
    SlTensor *t = NULL;
    char kind = code[0], dim = code[1];
    if (kind == 'p') {
        switch (dim) {
        case 'b': t = sl_tensor_scalar_i(SL_DT_BOOL, 1, 0); break;
        case 'i': t = sl_tensor_scalar_i(SL_DT_I64, 3, 0); break;
        default: t = sl_tensor_scalar_d(SL_DT_F64, 1.5, 0); break;
        }
        t->wrapped = true;
        return t;
    }
    SlDType dt = kind == 'b' ? SL_DT_BOOL : kind == 'i' ? SL_DT_I64 : kind == 'f' ? SL_DT_F32 : SL_DT_F64;
    if (dim == '1') {
        t = sl_tensor_zeros(dt, 1, &two, 0, NULL);
        sl_tensor_set_d(t, 0, 1);
        sl_tensor_set_d(t, 1, 2);
    } else {
        t = sl_tensor_scalar_d(dt, 1, 0);
    }
    return t;
}

START_TEST(test_promotion_torch)
{
    FILE *f = open_data("tensor_promotion.txt");
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (read_line(f, &line, &cap)) {
        char a[8], b[8], op[4], want[16];
        if (sscanf(line, "%7s %7s %3s %15s", a, b, op, want) != 4)
            continue;
        SlTensor *x = operand(a), *y = operand(b);
        SlError err = {0};
        SlTOp o = op[0] == '+' ? SL_T_ADD : op[0] == '*' ? SL_T_MUL : SL_T_DIV;
        SlTensor *r = sl_tensor_binary(o, x, y, &err);
        if (strcmp(want, "error") == 0) {
            ck_assert_msg(r == NULL, "%s %s %s should fail", a, op, b);
            sl_err_clear(&err);
        } else {
            ck_assert_msg(r != NULL, "%s %s %s failed: %s", a, op, b, err.msg);
            const char *got = sl_dtype_name(r->dtype) + 6; /* after "torch." */
            ck_assert_msg(strcmp(got, want) == 0, "%s %s %s: got %s, torch %s", a, op, b, got, want);
        }
        sl_tensor_unref(r);
        sl_tensor_unref(x);
        sl_tensor_unref(y);
        n++;
    }
    free(line);
    fclose(f);
    ck_assert_int_gt(n, 300);
}
END_TEST

/* ---- float32 kernels against torch, bit for bit ---- */

static int unary_fn(const char *op)
{
    static const struct {
        const char *name;
        int fn;
    } map[] = {{"sin", SL_FN_SIN},        {"cos", SL_FN_COS},     {"tan", SL_FN_TAN},
               {"exp", SL_FN_EXP},        {"log", SL_FN_LOG},     {"sqrt", SL_FN_SQRT},
               {"tanh", SL_FN_TANH},      {"sigmoid", SL_FN_SIGMOID}, {"relu", SL_FN_RELU},
               {"abs", SL_FN_ABS},        {"neg", SL_TU_NEG},     {"sinh", SL_FN_SINH},
               {"cosh", SL_FN_COSH},      {"atan", SL_FN_ATAN},   {"asin", SL_FN_ASIN},
               {"acos", SL_FN_ACOS},      {"log2", SL_FN_LOG2},   {"log10", SL_FN_LOG10},
               {"floor", SL_FN_FLOOR},    {"ceil", SL_FN_CEIL},   {"round", SL_FN_ROUND},
               {"sign", SL_FN_SIGN},      {"rsqrt", SL_TU_RSQRT}, {"reciprocal", SL_TU_RECIPROCAL}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, op) == 0)
            return map[i].fn;
    return -1;
}

START_TEST(test_f32_kernels_torch)
{
    FILE *f = open_data("tensor_f32.txt");
    char *line = NULL;
    size_t cap = 0;
    Toks k = {0};
    int lineno = 0, checked = 0;
    while (read_line(f, &line, &cap)) {
        lineno++;
        tokenize(line, &k);
        if (k.n < 3)
            continue;
        const char *op = k.t[0];
        /* "dsin", "dpow", ...: the same operation on float64 */
        SlDType dt = SL_DT_F32;
        if (op[0] == 'd' && (unary_fn(op + 1) >= 0 || !strcmp(op + 1, "pow") || !strcmp(op + 1, "atan2") ||
                             !strcmp(op + 1, "pows"))) {
            dt = SL_DT_F64;
            op++;
        }
        int64_t n = atoll(k.t[1]);
        int ar = arrow(&k);
        char **res = k.t + ar + 1;
        SlError err = {0};
        SlTensor *x = vec_of(dt, n, k.t + 2), *r = NULL, *y = NULL, *s = NULL;
        int fn = unary_fn(op);
        if (fn >= 0) {
            r = sl_tensor_unary(fn, x, &err);
        } else if (!strcmp(op, "adds") || !strcmp(op, "muls") || !strcmp(op, "divs") || !strcmp(op, "rsubs") ||
                   !strcmp(op, "rdivs")) {
            s = wrapped_d(strtod(k.t[2 + n], NULL));
            if (!strcmp(op, "adds"))
                r = sl_ag_binary(SL_T_ADD, x, s, &err);
            else if (!strcmp(op, "muls"))
                r = sl_ag_binary(SL_T_MUL, x, s, &err);
            else if (!strcmp(op, "divs"))
                r = sl_ag_binary(SL_T_DIV, x, s, &err);
            else if (!strcmp(op, "rsubs"))
                r = sl_ag_rsub(x, s, &err);
            else
                r = sl_ag_rdiv(x, s, &err);
        } else if (!strcmp(op, "pows")) {
            r = sl_tensor_pow_scalar(x, strtod(k.t[2 + n], NULL), &err);
        } else if (!strcmp(op, "addalpha")) {
            y = vec_of(dt, n, k.t + 2 + n);
            double alpha = -strtod(k.t[2 + 2 * n], NULL);
            ck_assert(sl_tensor_add_(x, y, alpha, &err));
            r = sl_tensor_ref(x);
        } else {
            y = vec_of(dt, n, k.t + 2 + n);
            SlTOp o = !strcmp(op, "add") ? SL_T_ADD : !strcmp(op, "sub") ? SL_T_SUB : !strcmp(op, "mul") ? SL_T_MUL
                    : !strcmp(op, "div") ? SL_T_DIV : !strcmp(op, "max") ? SL_T_MAXIMUM : !strcmp(op, "min") ? SL_T_MINIMUM
                    : !strcmp(op, "atan2") ? SL_T_ATAN2 : SL_T_POW;
            if (o == SL_T_POW) {
                SlTensor *ax = sl_tensor_unary(SL_FN_ABS, x, &err);
                r = sl_tensor_binary(o, ax, y, &err);
                sl_tensor_unref(ax);
            } else {
                r = sl_tensor_binary(o, x, y, &err);
            }
        }
        ck_assert_msg(r != NULL, "%s (line %d): %s", op, lineno, err.msg);
        expect_bits(r, res, n, op, lineno);
        checked++;
        sl_tensor_unref(r);
        sl_tensor_unref(x);
        sl_tensor_unref(y);
        sl_tensor_unref(s);
    }
    free(k.t);
    free(line);
    fclose(f);
    ck_assert_int_gt(checked, 1500);
    ck_assert_int_eq(sl_tensor_live(), 0);
}
END_TEST

static int parse_shape_tok(const char *s, int64_t *shape)
{
    int nd = 0;
    const char *p = s;
    while (*p) {
        shape[nd++] = strtoll(p, (char **)&p, 10);
        if (*p == 'x')
            p++;
    }
    return nd;
}

START_TEST(test_sum_torch)
{
    FILE *f = open_data("tensor_sum.txt");
    char *line = NULL;
    size_t cap = 0;
    Toks k = {0};
    int lineno = 0, checked = 0;
    while (read_line(f, &line, &cap)) {
        lineno++;
        tokenize(line, &k);
        int64_t shape[4];
        int nd = parse_shape_tok(k.t[0], shape);
        int dim = atoi(k.t[1]);
        int ar = arrow(&k);
        int64_t n = 1;
        for (int d = 0; d < nd; d++)
            n *= shape[d];
        ck_assert_int_eq(ar - 2, n);
        SlError err = {0};
        SlTensor *flat = f32_vec(n, k.t + 2);
        SlTensor *x = sl_tensor_view(flat, nd, shape, &err);
        SlTensor *r = sl_tensor_sum(x, dim < 0 ? ~0u : 1u << dim, false, &err);
        expect_f32(r, k.t + ar + 1, k.n - ar - 1, "sum", lineno);
        if (dim < 0) {
            /* mean is sum / n in float */
            SlTensor *m = sl_tensor_mean(x, ~0u, false, &err);
            float want = (float)strtod(k.t[ar + 1], NULL) / (float)n;
            ck_assert(same_f(sl_tensor_get_f(m, 0), want));
            sl_tensor_unref(m);
        }
        checked++;
        sl_tensor_unref(r);
        sl_tensor_unref(x);
        sl_tensor_unref(flat);
    }
    free(k.t);
    free(line);
    fclose(f);
    ck_assert_int_gt(checked, 150);
}
END_TEST

START_TEST(test_mm_torch)
{
    FILE *f = open_data("tensor_mm.txt");
    char *line = NULL;
    size_t cap = 0;
    Toks k = {0};
    int lineno = 0;
    while (read_line(f, &line, &cap)) {
        lineno++;
        tokenize(line, &k);
        int64_t m = atoll(k.t[0]), kk = atoll(k.t[1]), n = atoll(k.t[2]);
        SlError err = {0};
        SlTensor *af = f32_vec(m * kk, k.t + 3), *bf = f32_vec(kk * n, k.t + 3 + m * kk);
        int64_t sa[2] = {m, kk}, sb[2] = {kk, n};
        SlTensor *a = sl_tensor_view(af, 2, sa, &err), *b = sl_tensor_view(bf, 2, sb, &err);
        SlTensor *c = sl_tensor_mm(a, b, &err);
        int ar = arrow(&k);
        expect_f32(c, k.t + ar + 1, m * n, "mm", lineno);
        /* the same through transposed operands: (b^T a^T)^T */
        SlTensor *at = sl_tensor_transpose(a, 0, 1, &err), *bt = sl_tensor_transpose(b, 0, 1, &err);
        SlTensor *ct = sl_tensor_mm(bt, at, &err);
        SlTensor *ctt = sl_tensor_transpose(ct, 0, 1, &err);
        SlTensor *cc = sl_tensor_contiguous(ctt);
        expect_f32(cc, k.t + ar + 1, m * n, "mm transposed", lineno);
        SlTensor *all[] = {af, bf, a, b, c, at, bt, ct, ctt, cc};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            sl_tensor_unref(all[i]);
    }
    free(k.t);
    free(line);
    fclose(f);
    ck_assert_int_eq(sl_tensor_live(), 0);
}
END_TEST

START_TEST(test_rng_torch)
{
    FILE *f = open_data("tensor_rng.txt");
    char *line = NULL;
    size_t cap = 0;
    Toks k = {0};
    int lineno = 0;
    while (read_line(f, &line, &cap)) {
        lineno++;
        tokenize(line, &k);
        uint64_t seed = strtoull(k.t[0], NULL, 10);
        bool normal = strcmp(k.t[1], "randn") == 0;
        SlDType dt = strcmp(k.t[2], "f32") == 0 ? SL_DT_F32 : SL_DT_F64;
        int64_t n = atoll(k.t[3]);
        sl_tensor_manual_seed(seed);
        SlError err = {0};
        SlTensor *t = normal ? sl_tensor_randn(dt, 1, &n, 0, &err) : sl_tensor_rand(dt, 1, &n, 0, &err);
        for (int64_t i = 0; i < n; i++) {
            double want = strtod(k.t[5 + i], NULL), got = sl_tensor_get_d(t, i);
            ck_assert_msg(got == want, "line %d (seed %llu %s %s n=%lld) element %lld: got %a, torch %a", lineno,
                          (unsigned long long)seed, k.t[1], k.t[2], (long long)n, (long long)i, got, want);
        }
        sl_tensor_unref(t);
    }
    free(k.t);
    free(line);
    fclose(f);
}
END_TEST

/* ---- integer, bool and special values ---- */

START_TEST(test_int_semantics)
{
    SlError err = {0};
    int64_t four = 4;
    SlTensor *a = sl_tensor_zeros(SL_DT_I64, 1, &four, 0, &err);
    int64_t av[4] = {7, -7, 7, -7};
    for (int i = 0; i < 4; i++)
        sl_tensor_set_i(a, i, av[i]);
    SlTensor *b = sl_tensor_zeros(SL_DT_I64, 1, &four, 0, &err);
    int64_t bv[4] = {2, 2, -2, -2};
    for (int i = 0; i < 4; i++)
        sl_tensor_set_i(b, i, bv[i]);
    SlTensor *q = sl_tensor_binary(SL_T_FLOORDIV, a, b, &err), *m = sl_tensor_binary(SL_T_MOD, a, b, &err);
    int64_t wq[4] = {3, -4, -4, 3}, wm[4] = {1, 1, -1, -1}; /* Python's // and % */
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(sl_tensor_get_i(q, i), wq[i]);
        ck_assert_int_eq(sl_tensor_get_i(m, i), wm[i]);
    }
    SlTensor *d = sl_tensor_binary(SL_T_DIV, a, b, &err); /* true division: float32 */
    ck_assert_int_eq(d->dtype, SL_DT_F32);
    ck_assert(sl_tensor_get_d(d, 1) == -3.5);
    SlTensor *z = sl_tensor_zeros(SL_DT_I64, 0, NULL, 0, &err);
    ck_assert_ptr_null(sl_tensor_binary(SL_T_FLOORDIV, a, z, &err));
    ck_assert_str_eq(err.msg, "ZeroDivisionError");
    sl_err_clear(&err);
    SlTensor *cmp = sl_tensor_binary(SL_T_GT, a, b, &err);
    ck_assert_int_eq(cmp->dtype, SL_DT_BOOL);
    ck_assert(sl_tensor_get_b(cmp, 0) && !sl_tensor_get_b(cmp, 1));
    SlTensor *bs = sl_tensor_sum(cmp, ~0u, false, &err); /* bool sum is int64 */
    ck_assert_int_eq(bs->dtype, SL_DT_I64);
    ck_assert_int_eq(sl_tensor_get_i(bs, 0), 2);
    ck_assert_ptr_null(sl_tensor_binary(SL_T_SUB, cmp, cmp, &err));
    sl_err_clear(&err);
    ck_assert_ptr_null(sl_tensor_unary(SL_TU_NEG, cmp, &err));
    sl_err_clear(&err);
    ck_assert_ptr_null(sl_tensor_mean(a, ~0u, false, &err));
    ck_assert(strstr(err.msg, "could not infer output dtype") != NULL);
    sl_err_clear(&err);
    /* float NaN through max / argmax as torch: NaN wins */
    int64_t three = 3;
    SlTensor *fv = sl_tensor_zeros(SL_DT_F32, 1, &three, 0, &err);
    sl_tensor_set_d(fv, 0, 1);
    sl_tensor_set_d(fv, 1, NAN);
    sl_tensor_set_d(fv, 2, 5);
    SlTensor *mx = sl_tensor_max_all(fv, false, &err), *am = sl_tensor_argmax_all(fv, false, &err);
    ck_assert(isnan(sl_tensor_get_d(mx, 0)));
    ck_assert_int_eq(sl_tensor_get_i(am, 0), 1);
    SlTensor *all[] = {a, b, q, m, d, z, cmp, bs, fv, mx, am};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_tensor_unref(all[i]);
    ck_assert_int_eq(sl_tensor_live(), 0);
}
END_TEST

/* ---- mpfr tensors ---- */

START_TEST(test_mpfr_tensors)
{
    SlError err = {0};
    mpfr_prec_t p = 300;
    int64_t n = 3;
    SlTensor *x = sl_tensor_arange(SL_DT_MPFR, 1, 4, 1, p, &err); /* 1 2 3 */
    ck_assert_int_eq(x->dtype, SL_DT_MPFR);
    ck_assert_int_eq(sl_tensor_prec(x), p);
    SlTensor *third = sl_tensor_scalar_i(SL_DT_I64, 3, 0);
    third->wrapped = true;
    SlTensor *q = sl_tensor_binary(SL_T_DIV, x, third, &err); /* 1/3 2/3 1 */
    ck_assert_int_eq(q->dtype, SL_DT_MPFR);
    mpfr_t want, got;
    mpfr_inits2(p, want, got, (mpfr_ptr)0);
    mpfr_set_ui(want, 1, MPFR_RNDN);
    mpfr_div_ui(want, want, 3, MPFR_RNDN);
    ck_assert(mpfr_equal_p(sl_tensor_get_m(q, 0), want));
    SlTensor *e = sl_tensor_unary(SL_FN_EXP, q, &err);
    mpfr_exp(want, want, MPFR_RNDN);
    ck_assert(mpfr_equal_p(sl_tensor_get_m(e, 0), want));
    SlTensor *s = sl_tensor_sum(x, ~0u, false, &err);
    ck_assert(mpfr_cmp_ui(sl_tensor_get_m(s, 0), 6) == 0);
    /* matmul of mpfr vectors: 1 + 4 + 9 */
    SlTensor *dot = sl_tensor_dot(x, x, &err);
    ck_assert(mpfr_cmp_ui(sl_tensor_get_m(dot, 0), 14) == 0);
    /* float32 + mpfr promotes to mpfr */
    SlTensor *f = sl_tensor_full_d(SL_DT_F32, 1, &n, 0, 0.1, &err);
    SlTensor *fm = sl_tensor_binary(SL_T_ADD, f, x, &err);
    ck_assert_int_eq(fm->dtype, SL_DT_MPFR);
    mpfr_set_flt(want, 0.1f, MPFR_RNDN);
    mpfr_add_ui(want, want, 1, MPFR_RNDN);
    ck_assert(mpfr_equal_p(sl_tensor_get_m(fm, 0), want));
    SlTensor *sg = sl_tensor_unary(SL_FN_SIGMOID, x, &err);
    mpfr_set_si(got, -1, MPFR_RNDN);
    mpfr_exp(got, got, MPFR_RNDN);
    mpfr_add_ui(got, got, 1, MPFR_RNDN);
    mpfr_ui_div(got, 1, got, MPFR_RNDN);
    mpfr_sub(got, got, sl_tensor_get_m(sg, 0), MPFR_RNDN);
    ck_assert(mpfr_zero_p(got) || mpfr_get_exp(got) < -(mpfr_exp_t)p + 4);
    mpfr_clears(want, got, (mpfr_ptr)0);
    SlTensor *all[] = {x, third, q, e, s, dot, f, fm, sg};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_tensor_unref(all[i]);
    ck_assert_int_eq(sl_tensor_live(), 0);
    ck_assert_int_eq(sl_storage_live(), 0);
}
END_TEST

START_TEST(test_matmul_shapes)
{
    SlError err = {0};
    int64_t s42[2] = {4, 2}, s310[2] = {3, 10};
    SlTensor *a = sl_tensor_zeros(SL_DT_F32, 2, s42, 0, &err), *b = sl_tensor_zeros(SL_DT_F32, 2, s310, 0, &err);
    SlTensor *r = sl_ag_matmul(a, b, &err);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err.msg, "shape mismatch: (4, 2) @ (3, 10)");
    sl_err_clear(&err);
    int64_t s234[3] = {2, 3, 4}, s45[2] = {4, 5}, s4[1] = {4};
    SlTensor *c = sl_tensor_full_d(SL_DT_F32, 3, s234, 0, 1, &err), *d = sl_tensor_full_d(SL_DT_F32, 2, s45, 0, 2, &err);
    SlTensor *cd = sl_ag_matmul(c, d, &err);
    ck_assert(cd && cd->ndim == 3 && cd->shape[0] == 2 && cd->shape[1] == 3 && cd->shape[2] == 5);
    ck_assert(sl_tensor_get_d(cd, 7) == 8.0);
    SlTensor *v = sl_tensor_full_d(SL_DT_F32, 1, s4, 0, 1, &err);
    SlTensor *cv = sl_ag_matmul(c, v, &err);
    ck_assert(cv && cv->ndim == 2 && cv->shape[1] == 3 && sl_tensor_get_d(cv, 0) == 4.0);
    SlTensor *vd = sl_ag_matmul(v, d, &err);
    ck_assert(vd && vd->ndim == 1 && vd->shape[0] == 5 && sl_tensor_get_d(vd, 0) == 8.0);
    SlTensor *all[] = {a, b, c, d, cd, v, cv, vd};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_tensor_unref(all[i]);
    ck_assert_int_eq(sl_tensor_live(), 0);
}
END_TEST

static Suite *tensor_suite(void)
{
    Suite *s = suite_create("tensor");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_create);
    tcase_add_test(tc, test_views);
    tcase_add_test(tc, test_broadcast);
    tcase_add_test(tc, test_promotion_torch);
    tcase_add_test(tc, test_f32_kernels_torch);
    tcase_add_test(tc, test_sum_torch);
    tcase_add_test(tc, test_mm_torch);
    tcase_add_test(tc, test_rng_torch);
    tcase_add_test(tc, test_int_semantics);
    tcase_add_test(tc, test_mpfr_tensors);
    tcase_add_test(tc, test_matmul_shapes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tensor_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
