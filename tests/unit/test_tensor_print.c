/* test_tensor_print.c -- tensor printing (tensor_print.c) against torch 1.13.
 *
 * The expectations come from real torch: tests/gen_tensor_print.py writes
 * tensor_print_cases.txt (the reference's captured examples, varied
 * tensors of every dtype, their mpfr twins, float32 item() reprs), read
 * here from $SL_TEST_DATA_DIR and checked byte for byte.  A few cases torch
 * cannot produce (mpfr beyond 53 bits, a negative nan, appending after
 * other text) are written by hand below.
 */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor_print.h"

/* ---- a tensor the view reads from ---- */

typedef struct Data {
    size_t n;          /* elements */
    double *f;         /* F32 / F64 values (and the source of MPFR ones) */
    int64_t *i;        /* I64 */
    bool *b;           /* BOOL */
    mpfr_t *m;         /* MPFR */
} Data;

static double get_f(const void *ctx, size_t i)
{
    const Data *d = ctx;
    ck_assert(i < d->n);
    return d->f[i];
}

static int64_t get_i(const void *ctx, size_t i)
{
    const Data *d = ctx;
    ck_assert(i < d->n);
    return d->i[i];
}

static bool get_b(const void *ctx, size_t i)
{
    const Data *d = ctx;
    ck_assert(i < d->n);
    return d->b[i];
}

static mpfr_srcptr get_m(const void *ctx, size_t i)
{
    const Data *d = ctx;
    ck_assert(i < d->n);
    return d->m[i];
}

static SlTensorView view_of(SlDType dt, int ndim, const int64_t *shape, const Data *d, mpfr_prec_t prec)
{
    SlTensorView v = {
        .dtype = dt, .ndim = ndim, .shape = shape, .ctx = d,
        .get_f = get_f, .get_i = get_i, .get_b = get_b, .get_m = get_m, .mpfr_prec = prec,
    };
    return v;
}

static void free_mpfr(Data *d)
{
    if (!d->m)
        return;
    for (size_t k = 0; k < d->n; k++)
        mpfr_clear(d->m[k]);
    free(d->m);
    d->m = NULL;
}

static void data_free(Data *d)
{
    free_mpfr(d);
    free(d->f);
    free(d->i);
    free(d->b);
    memset(d, 0, sizeof *d);
}

static char *format(const SlTensorView *v, const SlTensorSuffix *s)
{
    SlBuf b;
    sl_buf_init(&b);
    sl_tensor_format(&b, v, s);
    return sl_buf_take(&b);
}

/* ---- the generated cases ---- */

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

typedef struct Reader {
    FILE *f;
    char *line;    /* the current line, without its newline */
    size_t cap;
    long lineno;
} Reader;

static bool next_line(Reader *r)
{
    ssize_t n = getline(&r->line, &r->cap, r->f);
    if (n < 0)
        return false;
    r->lineno++;
    if (n > 0 && r->line[n - 1] == '\n')
        r->line[n - 1] = '\0';
    return true;
}

/* The line must start with key + ' ' (or be just key); returns the rest. */
static char *field(Reader *r, const char *key)
{
    ck_assert_msg(next_line(r), "line %ld: end of file, expected '%s'", r->lineno, key);
    size_t k = strlen(key);
    ck_assert_msg(!strncmp(r->line, key, k) && (r->line[k] == ' ' || r->line[k] == '\0'),
                  "line %ld: expected '%s', got '%.60s'", r->lineno, key, r->line);
    return r->line[k] ? r->line + k + 1 : r->line + k;
}

static double parse_double(const char *s, char **end)
{
    while (*s == ' ')
        s++;
    if (!strncmp(s, "nan", 3)) {
        *end = (char *)s + 3;
        return NAN;
    }
    if (!strncmp(s, "inf", 3)) {
        *end = (char *)s + 3;
        return INFINITY;
    }
    if (!strncmp(s, "-inf", 4)) {
        *end = (char *)s + 4;
        return -INFINITY;
    }
    return strtod(s, end);
}

/* Reads "expect N" and N lines; returns them joined by '\n' (malloc'd). */
static char *read_expect(Reader *r)
{
    long lines = strtol(field(r, "expect"), NULL, 10);
    ck_assert(lines >= 1);
    SlBuf b;
    sl_buf_init(&b);
    for (long k = 0; k < lines; k++) {
        ck_assert_msg(next_line(r), "line %ld: truncated expectation", r->lineno);
        if (k)
            sl_buf_putc(&b, '\n');
        sl_buf_puts(&b, r->line);
    }
    return sl_buf_take(&b);
}

typedef struct Stats {
    int cases, items, mpfr, failures;
} Stats;

static void report(Stats *st, const char *name, const char *want, const char *got)
{
    if (++st->failures <= 10)
        fprintf(stderr, "tensor_print: %s\n--- expected\n%s\n--- got\n%s\n", name, want, got);
}

static void run_item(Reader *r, Stats *st, const char *name)
{
    char *end;
    double x = parse_double(field(r, "value"), &end);
    ck_assert_msg(*end == '\0', "line %ld: bad value", r->lineno);
    ck_assert_msg(isnan(x) || (double)(float)x == x, "%s: not a float32 value", name);
    char *want = read_expect(r);
    SlBuf b;
    sl_buf_init(&b);
    sl_tensor_format_item_f32(&b, (float)x);
    if (strcmp(b.s, want))
        report(st, name, want, b.s);
    st->items++;
    sl_buf_free(&b);
    free(want);
}

static void run_case(Reader *r, Stats *st, const char *name, Data *d)
{
    /* dtype */
    const char *dts = field(r, "dtype");
    SlDType dt;
    mpfr_prec_t prec = 0;
    if (!strcmp(dts, "f32"))
        dt = SL_DT_F32;
    else if (!strcmp(dts, "f64"))
        dt = SL_DT_F64;
    else if (!strcmp(dts, "i64"))
        dt = SL_DT_I64;
    else if (!strcmp(dts, "bool"))
        dt = SL_DT_BOOL;
    else if (!strncmp(dts, "mpfr ", 5)) {
        dt = SL_DT_MPFR;
        prec = strtol(dts + 5, NULL, 10);
        ck_assert(prec >= MPFR_PREC_MIN);
    } else
        ck_abort_msg("line %ld: bad dtype %s", r->lineno, dts);

    /* shape */
    int64_t shape[16];
    int ndim = 0;
    size_t numel = 1;
    char *p = field(r, "shape"), *end;
    while (*p) {
        ck_assert(ndim < 16);
        shape[ndim] = strtoll(p, &end, 10);
        ck_assert(end != p);
        numel *= (size_t)shape[ndim++];
        p = end;
        while (*p == ' ')
            p++;
    }

    /* suffixes */
    const char *g = field(r, "grad");
    char *grad_fn = NULL;
    SlTensorSuffix sfx = {0};
    if (!strcmp(g, "rg"))
        sfx.requires_grad = true;
    else if (!strncmp(g, "fn ", 3)) {
        grad_fn = strdup(g + 3);
        sfx.grad_fn = grad_fn;
        sfx.requires_grad = true;
    } else
        ck_assert_msg(!strcmp(g, "-"), "line %ld: bad grad", r->lineno);
    sfx.parameter = !strcmp(field(r, "param"), "1");

    /* data: "=" keeps the previous record's values */
    p = field(r, "data");
    if (strcmp(p, "=")) {
        data_free(d);
        d->n = numel;
        d->f = calloc(numel + 1, sizeof *d->f);
        d->i = calloc(numel + 1, sizeof *d->i);
        d->b = calloc(numel + 1, sizeof *d->b);
        for (size_t k = 0; k < numel; k++) {
            if (dt == SL_DT_I64) {
                d->i[k] = strtoll(p, &end, 10);
            } else if (dt == SL_DT_BOOL) {
                long v = strtol(p, &end, 10);
                d->b[k] = v != 0;
            } else {
                d->f[k] = parse_double(p, &end);
            }
            ck_assert_msg(end != p, "line %ld: short data (%zu of %zu)", r->lineno, k, numel);
            p = end;
        }
        while (*p == ' ')
            p++;
        ck_assert_msg(*p == '\0', "line %ld: extra data", r->lineno);
    }
    ck_assert_msg(d->n == numel, "%s: '=' data of another size", name);
    if (dt == SL_DT_F32)
        for (size_t k = 0; k < numel; k++)
            ck_assert_msg(isnan(d->f[k]) || (double)(float)d->f[k] == d->f[k], "%s: not float32", name);
    free_mpfr(d);
    if (dt == SL_DT_MPFR) {
        d->m = malloc((numel + 1) * sizeof *d->m);
        for (size_t k = 0; k < numel; k++) {
            mpfr_init2(d->m[k], prec);
            int t = mpfr_set_d(d->m[k], d->f[k], MPFR_RNDN);
            ck_assert_msg(t == 0, "%s: value not exact at %ld bits", name, (long)prec);
        }
        st->mpfr++;
    }

    char *want = read_expect(r);
    SlTensorView v = view_of(dt, ndim, shape, d, prec);
    char *got = format(&v, &sfx);
    if (strcmp(got, want))
        report(st, name, want, got);
    st->cases++;
    free(got);
    free(want);
    free(grad_fn);
}

START_TEST(test_generated)
{
    Reader r = {.f = open_data("tensor_print_cases.txt")};
    Stats st = {0};
    Data d = {0};
    while (next_line(&r)) {
        if (r.line[0] == '#' || r.line[0] == '\0')
            continue;
        char *name = NULL;
        if (!strncmp(r.line, "case ", 5)) {
            name = strdup(r.line + 5);
            run_case(&r, &st, name, &d);
        } else if (!strncmp(r.line, "item ", 5)) {
            name = strdup(r.line + 5);
            run_item(&r, &st, name);
        } else {
            ck_abort_msg("line %ld: expected a record, got '%.60s'", r.lineno, r.line);
        }
        free(name);
    }
    data_free(&d);
    free(r.line);
    fclose(r.f);
    fprintf(stderr, "tensor_print: %d tensor cases (%d mpfr), %d item cases, %d failures\n",
            st.cases, st.mpfr, st.items, st.failures);
    ck_assert_int_eq(st.failures, 0);
    ck_assert_int_ge(st.cases - st.mpfr, 200);
    ck_assert_int_ge(st.items, 50);
}
END_TEST

/* ---- by hand ---- */

/* A 1-d or 0-d tensor of doubles (dtype F32/F64) or of mpfr at prec from
 * decimal strings. */
static char *fmt_strs(SlDType dt, mpfr_prec_t prec, int ndim, const char **vals, size_t n,
                      const SlTensorSuffix *s)
{
    Data d = {.n = n};
    d.f = calloc(n + 1, sizeof *d.f);
    d.m = malloc((n + 1) * sizeof *d.m);
    for (size_t k = 0; k < n; k++) {
        mpfr_init2(d.m[k], prec ? prec : 53);
        mpfr_set_str(d.m[k], vals[k], 10, MPFR_RNDN);
        d.f[k] = strtod(vals[k], NULL);
        if (dt == SL_DT_F32)
            d.f[k] = (float)d.f[k];
    }
    int64_t shape[1] = {(int64_t)n};
    SlTensorView v = view_of(dt, ndim, shape, &d, prec);
    char *out = format(&v, s);
    data_free(&d);
    return out;
}

#define CHECK_STRS(want, dt, prec, ndim, s, ...)                                             \
    do {                                                                                     \
        const char *vals_[] = {__VA_ARGS__};                                                 \
        char *got_ = fmt_strs(dt, prec, ndim, vals_, sizeof vals_ / sizeof vals_[0], s);     \
        ck_assert_str_eq(got_, want);                                                        \
        free(got_);                                                                          \
    } while (0)

START_TEST(test_mpfr_wide)
{
    /* 1/3 at 256 bits: the same four decimals */
    CHECK_STRS("tensor(0.3333, dtype=slope.mpfr(256))", SL_DT_MPFR, 256, 0, NULL,
               "0.33333333333333333333333333333333333333333333333333333333333333333333333333");
    /* beyond the double range: scientific with a 3-digit exponent */
    CHECK_STRS("tensor([1.0000e-400,  1.0000e+00], dtype=slope.mpfr(256))", SL_DT_MPFR, 256, 1, NULL,
               "1e-400", "1");
    CHECK_STRS("tensor([ 1.6069e+60, -1.0000e+00], dtype=slope.mpfr(113))", SL_DT_MPFR, 113, 1, NULL,
               "1606938044258990275541962092341162602522202993782792835301376", "-1");
    /* integral values stay in int_mode at any precision */
    CHECK_STRS("tensor([   1., 1000.,   -0.], dtype=slope.mpfr(100))", SL_DT_MPFR, 100, 1, NULL,
               "1", "1000", "-0");
    /* the digits are those of the exact binary value: 0.99995 is just
     * below the tie at 256 bits and just above it at 53 */
    CHECK_STRS("tensor(0.9999, dtype=slope.mpfr(256))", SL_DT_MPFR, 256, 0, NULL, "0.99995");
    CHECK_STRS("tensor(1.0000, dtype=slope.mpfr(53))", SL_DT_MPFR, 53, 0, NULL, "0.99995");
    /* nan and inf, suffixes */
    SlTensorSuffix rg = {.requires_grad = true};
    CHECK_STRS("tensor([   nan,    inf,   -inf, 0.2500], dtype=slope.mpfr(64),\n"
               "       requires_grad=True)",
               SL_DT_MPFR, 64, 1, &rg, "nan", "inf", "-inf", "0.25");
    SlTensorSuffix fn = {.requires_grad = true, .grad_fn = "AddBackward0", .parameter = true};
    CHECK_STRS("Parameter containing:\ntensor([1.5000, 2.0000], dtype=slope.mpfr(200), grad_fn=<AddBackward0>)",
               SL_DT_MPFR, 200, 1, &fn, "1.5", "2");
    /* a precision below 53 bits decides the ratio at 53 bits, as torch does
     * for float32 in double */
    CHECK_STRS("tensor([1.0000e+00, 1.0010e+03], dtype=slope.mpfr(24))", SL_DT_MPFR, 24, 1, NULL,
               "1", "1001");
}
END_TEST

START_TEST(test_negative_nan)
{
    /* Python writes no sign on a nan; x86 makes 0/0 a negative one */
    CHECK_STRS("tensor([nan, 1.])", SL_DT_F32, 0, 1, NULL, "-nan", "1");
    CHECK_STRS("tensor([    nan, -0.5000], dtype=torch.float64)", SL_DT_F64, 0, 1, NULL, "-nan", "-0.5");
    CHECK_STRS("tensor([        nan, -1.0000e-05])", SL_DT_F32, 0, 1, NULL, "-nan", "-1e-5");
    CHECK_STRS("tensor(nan)", SL_DT_F32, 0, 0, NULL, "-nan");
    CHECK_STRS("tensor(nan, dtype=slope.mpfr(53))", SL_DT_MPFR, 53, 0, NULL, "-nan");
    SlBuf b;
    sl_buf_init(&b);
    sl_tensor_format_item_f32(&b, -NAN);
    ck_assert_str_eq(b.s, "nan");
    sl_buf_free(&b);
}
END_TEST

START_TEST(test_appends)
{
    /* The text goes after what the buffer holds; the wrapping rule counts
     * from the start of "tensor(" only. */
    Data d = {.n = 4};
    double vals[4] = {1.3196e8, -2.7389e8, -2.6770e8, -2.2322e8};
    d.f = malloc(sizeof vals);
    memcpy(d.f, vals, sizeof vals);
    for (int k = 0; k < 4; k++)
        d.f[k] = (float)d.f[k];
    int64_t shape[2] = {1, 4};
    SlTensorView v = view_of(SL_DT_F32, 2, shape, &d, 0);
    SlTensorSuffix fn = {.requires_grad = true, .grad_fn = "MulBackward0"};
    SlBuf b;
    sl_buf_init(&b);
    sl_buf_puts(&b, "x = ");
    sl_tensor_format(&b, &v, &fn);
    ck_assert_str_eq(b.s, "x = tensor([[ 1.3196e+08, -2.7389e+08, -2.6770e+08, -2.2322e+08]],\n"
                          "       grad_fn=<MulBackward0>)");
    b.len = 0;
    sl_buf_puts(&b, "a long line before, with no newline at its end ........");
    size_t before = b.len;
    fn.grad_fn = "AddBackward0";
    shape[1] = 2;
    sl_tensor_format(&b, &v, &fn);
    ck_assert_str_eq(b.s + before, "tensor([[ 1.3196e+08, -2.7389e+08]], grad_fn=<AddBackward0>)");
    /* NULL suffixes: none */
    b.len = 0;
    sl_tensor_format(&b, &v, NULL);
    ck_assert_str_eq(b.s, "tensor([[ 1.3196e+08, -2.7389e+08]])");
    sl_buf_free(&b);
    data_free(&d);
}
END_TEST

START_TEST(test_deep)
{
    /* 6-d: the rule generalises (dim - 1 newlines between slices) */
    Data d = {.n = 4};
    d.i = calloc(4, sizeof *d.i);
    for (int k = 0; k < 4; k++)
        d.i[k] = k * 11 - 5;
    int64_t shape[6] = {2, 1, 1, 1, 2, 1};
    SlTensorView v = view_of(SL_DT_I64, 6, shape, &d, 0);
    char *got = format(&v, NULL);
    ck_assert_str_eq(got, "tensor([[[[[[-5],\n"
                          "            [ 6]]]]],\n"
                          "\n\n\n\n"
                          "        [[[[[17],\n"
                          "            [28]]]]]])");
    free(got);
    data_free(&d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tensor_print");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_generated);
    tcase_add_test(tc, test_mpfr_wide);
    tcase_add_test(tc, test_negative_nan);
    tcase_add_test(tc, test_appends);
    tcase_add_test(tc, test_deep);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
