/* test_num.c -- the numeric tower (num.c, format.c) through its C API.
 *
 * Most expectations come from real Python 3.11 (and mpmath for correctly
 * rounded references): tests/unit/gen_num_data.py writes num_*.txt, read
 * here at run time from $SL_TEST_DATA_DIR (default: tests/unit relative to
 * the usual working directories).  The rest are round trips and
 * hand-written cases.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ast.h"
#include "num.h"

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

/* Split a line at tabs in place; returns the number of fields. */
static int split(char *line, char sep, char **fields, int max)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    int k = 0;
    fields[k++] = line;
    for (char *p = line; *p && k < max; p++)
        if (*p == sep) {
            *p = '\0';
            fields[k++] = p + 1;
        }
    return k;
}

static void set_float(mpfr_t x, const char *s)
{
    if (!strcmp(s, "nan"))
        mpfr_set_nan(x);
    else if (!strcmp(s, "inf"))
        mpfr_set_inf(x, 1);
    else if (!strcmp(s, "-inf"))
        mpfr_set_inf(x, -1);
    else {
        char *end;
        int t = mpfr_strtofr(x, s, &end, 0, MPFR_RNDN);
        ck_assert_msg(*end == '\0' && t == 0, "bad or inexact test float %s", s);
    }
}

/* A value as gen_num_data.py encodes it. */
static SlValue *decode(const char *s, mpfr_prec_t prec)
{
    SlError err = {0};
    switch (s[0]) {
    case 'i': {
        SlValue *v = sl_num_parse_int(s + 2, &err);
        ck_assert_msg(v != NULL, "bad test int %s", s);
        return v;
    }
    case 'b': return sl_bool(!strcmp(s + 2, "True"));
    case 'n': return SL_NONE_V;
    case 's': return sl_str_cstr(s + 2);
    case 'f': {
        SlValue *v = sl_float_new(prec);
        set_float(v->u.f, s + 2);
        return v;
    }
    default: ck_abort_msg("bad test value %s", s); return NULL;
    }
}

static char *repr_of(const SlValue *v)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_repr(&b, v);
    return sl_buf_take(&b);
}

/* Compare a result (or an error) with an expectation from the data files:
 * "!Class: message" (our message must start with Python's), "i:REPR",
 * "b:REPR", "f:REPR" or "f:HEX" (compared exactly, signed zeros too). */
static bool matches(const SlValue *r, const SlError *err, const char *exp, char *why, size_t whylen)
{
    if (exp[0] == '!') {
        if (r || !err->set) {
            char *s = r ? repr_of(r) : strdup("(nothing)");
            snprintf(why, whylen, "got %s", s);
            free(s);
            return false;
        }
        char got[700];
        snprintf(got, sizeof got, "!%s: %s", sl_err_class(err->code), err->msg);
        snprintf(why, whylen, "got %s", got);
        return strncmp(got, exp, strlen(exp)) == 0;
    }
    if (!r) {
        snprintf(why, whylen, "got error %s: %s", sl_err_class(err->code), err->msg);
        return false;
    }
    char *s = repr_of(r);
    snprintf(why, whylen, "got %s (%s)", s, sl_type_name(r));
    bool ok;
    char kind = r->kind == SL_INT ? 'i' : r->kind == SL_BOOL ? 'b' : r->kind == SL_FLOAT ? 'f' : '?';
    const char *val = exp + 2;
    if (kind != exp[0]) {
        ok = false;
    } else if (kind == 'f' && (!strncmp(val, "0x", 2) || !strncmp(val, "-0x", 3))) {
        mpfr_t e;
        mpfr_init2(e, mpfr_get_prec(r->u.f));
        set_float(e, val);
        ok = mpfr_equal_p(e, r->u.f) && mpfr_signbit(e) == mpfr_signbit(r->u.f);
        mpfr_clear(e);
    } else {
        ok = !strcmp(s, val);
    }
    free(s);
    return ok;
}

#define MAX_SHOWN 25

static void report(int *fails, const char *file, int lineno, const char *what, const char *why)
{
    if (++*fails <= MAX_SHOWN)
        fprintf(stderr, "%s:%d: %s: %s\n", file, lineno, what, why);
}

static int op_code(const char *op)
{
    static const struct {
        const char *s;
        int op;
    } ops[] = {{"+", SL_OP_ADD}, {"-", SL_OP_SUB},      {"*", SL_OP_MUL}, {"/", SL_OP_DIV},
               {"//", SL_OP_FLOORDIV}, {"%", SL_OP_MOD}, {"**", SL_OP_POW}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(ops[i].s, op))
            return ops[i].op;
    return -1;
}

/* ---- precision and digits ---- */

START_TEST(test_precision)
{
    ck_assert_int_eq(sl_num_prec(), 53);
    ck_assert_int_eq(sl_num_digits_for_bits(53), 15);
    ck_assert_int_eq(sl_num_digits_for_bits(24), 6);
    ck_assert_int_eq(sl_num_digits_for_bits(113), 33);
    ck_assert_int_eq(sl_num_bits_for_digits(15), 53);
    ck_assert_int_eq(sl_num_bits_for_digits(16), 56);
    ck_assert_int_eq(sl_num_bits_for_digits(100), 336);
    for (long d = 1; d <= 3000; d++) /* :digits N then :digits reports N */
        ck_assert_int_eq(sl_num_digits_for_bits(sl_num_bits_for_digits(d)), d);
    sl_num_set_prec(113);
    ck_assert_int_eq(sl_num_prec(), 113);
    SlValue *p = sl_num_pi();
    ck_assert_int_eq(mpfr_get_prec(p->u.f), 113);
    sl_unref(p);
    sl_num_set_prec(1);
    ck_assert_int_eq(sl_num_prec(), SL_PREC_MIN);
    sl_num_set_prec(53);
}
END_TEST

/* ---- literals ---- */

static void check_parse_float(const char *text, double want)
{
    SlError err = {0};
    SlValue *v = sl_num_parse_float(text, &err);
    ck_assert_msg(v != NULL, "parse %s: %s", text, err.msg);
    ck_assert_msg(mpfr_cmp_d(v->u.f, want) == 0, "parse %s", text);
    sl_unref(v);
}

START_TEST(test_parse)
{
    check_parse_float("1.", 1.0);
    check_parse_float(".5", 0.5);
    check_parse_float("1e5", 1e5);
    check_parse_float("1E-05", 1e-5);
    check_parse_float("1_000.5", 1000.5);
    check_parse_float("0.1", 0.1);
    check_parse_float("1e400", 1.0 / 0.0);  /* Python: inf */
    check_parse_float("1e-400", 0.0);
    check_parse_float("4.9e-324", 4.9e-324); /* subnormal */
    check_parse_float("2.4703282292062328e-324", 4.9406564584124654e-324); /* just above half: rounds up */
    check_parse_float("2.4703282292062327e-324", 0.0);                   /* just below half */

    SlError err = {0};
    SlValue *v = sl_num_parse_int("123456789012345678901234567890", &err);
    ck_assert_ptr_nonnull(v);
    char *s = repr_of(v);
    ck_assert_str_eq(s, "123456789012345678901234567890");
    free(s);
    sl_unref(v);
    v = sl_num_parse_int("1_000", &err);
    ck_assert_ptr_nonnull(v);
    ck_assert(mpz_cmp_ui(v->u.z, 1000) == 0);
    sl_unref(v);
    ck_assert_ptr_null(sl_num_parse_int("12a", &err));
    ck_assert(err.set && err.code == SL_E_VALUE);
    sl_err_clear(&err);
    ck_assert_ptr_null(sl_num_parse_float("1e", &err));
    sl_err_clear(&err);

    /* a literal is rounded once at the session precision */
    sl_num_set_prec(24);
    v = sl_num_parse_float("0.1", &err);
    ck_assert_int_eq(mpfr_get_prec(v->u.f), 24);
    ck_assert(mpfr_cmp_d(v->u.f, (double)0.1f) == 0);
    sl_unref(v);
    sl_num_set_prec(53);
}
END_TEST

/* ---- repr of doubles against Python ---- */

START_TEST(test_repr_python)
{
    FILE *f = open_data("num_repr.txt");
    char line[512];
    int lineno = 0, fails = 0, n = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *fld[3];
        if (split(line, ' ', fld, 3) != 2)
            continue;
        SlValue *v = sl_float_new(53);
        set_float(v->u.f, fld[0]);
        char *s = repr_of(v);
        char why[600];
        if (strcmp(s, fld[1])) {
            snprintf(why, sizeof why, "repr(%s) is %s, Python says %s", fld[0], s, fld[1]);
            report(&fails, "num_repr.txt", lineno, "repr", why);
        }
        SlError err = {0};
        SlValue *back = sl_num_parse_float(fld[1], &err);
        if (!back || !(mpfr_equal_p(back->u.f, v->u.f) || (mpfr_nan_p(back->u.f) && mpfr_nan_p(v->u.f))) ||
            mpfr_signbit(back->u.f) != mpfr_signbit(v->u.f)) {
            snprintf(why, sizeof why, "%s does not read back as %s", fld[1], fld[0]);
            report(&fails, "num_repr.txt", lineno, "parse", why);
        }
        sl_unref(back);
        free(s);
        sl_unref(v);
        n++;
    }
    fclose(f);
    ck_assert_int_gt(n, 5000);
    ck_assert_msg(fails == 0, "%d of %d reprs differ from Python", fails, n);
}
END_TEST

/* ---- shortest digits at 24, 113 and 1000 bits against a brute force ---- */

START_TEST(test_shortest_data)
{
    FILE *f = open_data("num_shortest.txt");
    static char line[8192];
    int lineno = 0, fails = 0, n = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *fld[5];
        if (split(line, '\t', fld, 5) != 4)
            continue;
        mpfr_t x;
        mpfr_init2(x, atol(fld[0]));
        set_float(x, fld[1]);
        long e;
        char *d = sl_num_shortest(x, &e);
        if (strcmp(d, fld[2]) || e != atol(fld[3])) {
            char why[8192 + 100];
            snprintf(why, sizeof why, "%s bits: got 0.%s e%ld, want 0.%s e%s", fld[0], d, e, fld[2], fld[3]);
            report(&fails, "num_shortest.txt", lineno, "shortest", why);
        }
        free(d);
        mpfr_clear(x);
        n++;
    }
    fclose(f);
    ck_assert_int_gt(n, 500);
    ck_assert_msg(fails == 0, "%d of %d shortest digit strings differ", fails, n);
}
END_TEST

/* Print then parse back at the session precision: the same mpfr.  And the
 * digits are the fewest: no decimal with one digit less reads back. */
static void roundtrip(mpfr_prec_t prec, long emin, long emax, int count)
{
    sl_num_set_prec(prec);
    gmp_randstate_t rs;
    gmp_randinit_default(rs);
    gmp_randseed_ui(rs, (unsigned long)prec * 7919u);
    mpfr_t y;
    mpfr_init2(y, prec);
    int fails = 0;
    for (int i = 0; i < count; i++) {
        SlValue *v = sl_float_new(prec);
        do
            mpfr_urandomb(v->u.f, rs);
        while (mpfr_zero_p(v->u.f));
        long k = emin + (long)gmp_urandomm_ui(rs, (unsigned long)(emax - emin + 1));
        mpfr_mul_2si(v->u.f, v->u.f, k - mpfr_get_exp(v->u.f), MPFR_RNDN);
        if (gmp_urandomb_ui(rs, 1))
            mpfr_neg(v->u.f, v->u.f, MPFR_RNDN);
        char *s = repr_of(v);
        SlError err = {0};
        SlValue *back = sl_num_parse_float(s, &err);
        if (!back || !mpfr_equal_p(back->u.f, v->u.f)) {
            fails++;
            if (fails < 5)
                mpfr_fprintf(stderr, "%ld bits: %Ra printed as %s reads back as %Ra\n", (long)prec, v->u.f, s,
                             back ? back->u.f : v->u.f);
        }
        long e;
        char *d = sl_num_shortest(v->u.f, &e);
        size_t nd = strlen(d);
        if (nd > 1) {
            mpfr_t ax;
            mpfr_init2(ax, prec);
            mpfr_abs(ax, v->u.f, MPFR_RNDN);
            for (int r = 0; r < 2; r++) {
                mpfr_exp_t e2;
                char *c = mpfr_get_str(NULL, &e2, 10, nd - 1, ax, r ? MPFR_RNDU : MPFR_RNDD);
                SlBuf b = {0};
                sl_buf_init(&b);
                sl_buf_printf(&b, "0.%se%ld", c, (long)e2);
                mpfr_strtofr(y, b.s, NULL, 10, MPFR_RNDN);
                if (mpfr_equal_p(y, ax)) {
                    fails++;
                    if (fails < 5)
                        fprintf(stderr, "%ld bits: %s is not the shortest (%s)\n", (long)prec, s, b.s);
                }
                sl_buf_free(&b);
                mpfr_free_str(c);
            }
            mpfr_clear(ax);
        }
        free(d);
        free(s);
        sl_unref(back);
        sl_unref(v);
    }
    mpfr_clear(y);
    gmp_randclear(rs);
    sl_num_set_prec(53);
    ck_assert_msg(fails == 0, "%d round-trip failures at %ld bits", fails, (long)prec);
}

START_TEST(test_roundtrip_24) { roundtrip(24, -140, 140, 3000); }
END_TEST
START_TEST(test_roundtrip_53) { roundtrip(53, -1020, 1020, 3000); }
END_TEST
START_TEST(test_roundtrip_113) { roundtrip(113, -16000, 16000, 2000); }
END_TEST
START_TEST(test_roundtrip_1000) { roundtrip(1000, -5000, 5000, 300); }
END_TEST

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

START_TEST(test_repr_speed)
{
    sl_num_set_prec(10000);
    SlValue *a = sl_int_si(1), *b = sl_int_si(3);
    SlError err = {0};
    SlValue *v = sl_num_binop(SL_OP_DIV, a, b, &err); /* 1/3 at 10 000 bits */
    SlValue *w = sl_num_apply(SL_FN_EXP, &v, 1, &err); /* and a random-looking one */
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        double t0 = now();
        char *s = repr_of(w);
        double t = now() - t0;
        best = t < best ? t : best;
        ck_assert_int_gt((long)strlen(s), 3000);
        free(s);
    }
    char *s = repr_of(v);
    ck_assert_int_eq((long)strlen(s), 2 + 3011);
    free(s);
    ck_assert_msg(best < 0.010, "printing a 10000-bit float took %.1f ms", best * 1e3);
    sl_unref(a);
    sl_unref(b);
    sl_unref(v);
    sl_unref(w);
    sl_num_set_prec(53);
}
END_TEST

/* ---- arithmetic and math against Python ---- */

static void run_table(const char *name, bool math)
{
    FILE *f = open_data(name);
    static char line[8192];
    int lineno = 0, fails = 0, n = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *fld[5];
        if (line[0] == '#' || split(line, '\t', fld, 5) != 4)
            continue;
        mpfr_prec_t prec = atol(fld[0]);
        sl_num_set_prec(prec);
        char *argv[16];
        int argc = split(fld[2], ',', argv, 16);
        SlValue *args[16];
        for (int i = 0; i < argc; i++)
            args[i] = decode(argv[i], prec);
        SlError err = {0};
        SlValue *r = NULL;
        if (math) {
            int fn = sl_math_fn_lookup(fld[1]);
            ck_assert_msg(fn >= 0, "unknown function %s", fld[1]);
            r = sl_num_apply((SlMathFn)fn, args, argc, &err);
        } else if (!strcmp(fld[1], "neg")) {
            r = sl_num_unop(SL_OP_NEG, args[0], &err);
        } else if (!strcmp(fld[1], "<") || !strcmp(fld[1], "==")) {
            int c = sl_num_cmp(args[0], args[1]);
            r = sl_bool(fld[1][0] == '<' ? c == -1 : c == 0);
            ck_assert(sl_num_equal(args[0], args[1]) == (c == 0));
        } else {
            r = sl_num_binop(op_code(fld[1]), args[0], args[1], &err);
        }
        char why[1024];
        if (!matches(r, &err, fld[3], why, sizeof why)) {
            char what[2048];
            snprintf(what, sizeof what, "%s bits: %s %s, want %s", fld[0], fld[1], fld[2], fld[3]);
            report(&fails, name, lineno, what, why);
        }
        sl_err_clear(&err);
        sl_unref(r);
        for (int i = 0; i < argc; i++)
            sl_unref(args[i]);
        n++;
    }
    fclose(f);
    sl_num_set_prec(53);
    ck_assert_int_gt(n, 1000);
    ck_assert_msg(fails == 0, "%s: %d of %d results differ", name, fails, n);
}

START_TEST(test_arith_python) { run_table("num_arith.txt", false); }
END_TEST
START_TEST(test_math_python) { run_table("num_math.txt", true); }
END_TEST

/* ---- format() against Python ---- */

START_TEST(test_format_python)
{
    FILE *f = open_data("num_format.txt");
    static char line[4096];
    int lineno = 0, fails = 0, n = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *fld[4];
        if (split(line, '\t', fld, 4) != 3)
            continue;
        SlValue *v = decode(fld[0], 53);
        SlBuf out = {0};
        sl_buf_init(&out);
        SlError err = {0};
        bool ok = sl_num_format(&out, v, fld[1], strlen(fld[1]), &err);
        char why[1024];
        bool good;
        if (fld[2][0] == '!') {
            snprintf(why, sizeof why, "got %s", ok ? out.s : err.msg);
            char got[700];
            snprintf(got, sizeof got, "!%s: %s", sl_err_class(err.code), err.msg);
            good = !ok && strncmp(got, fld[2], strlen(fld[2])) == 0;
            if (!ok)
                snprintf(why, sizeof why, "got %s", got);
        } else {
            snprintf(why, sizeof why, "got '%s'%s%s", ok ? out.s : "", ok ? "" : " error: ", ok ? "" : err.msg);
            good = ok && !strcmp(out.s, fld[2]);
        }
        if (!good) {
            char what[1024];
            snprintf(what, sizeof what, "format(%s, '%s'), want '%s'", fld[0], fld[1], fld[2]);
            report(&fails, "num_format.txt", lineno, what, why);
        }
        sl_err_clear(&err);
        sl_buf_free(&out);
        sl_unref(v);
        n++;
    }
    fclose(f);
    ck_assert_int_gt(n, 3000);
    ck_assert_msg(fails == 0, "%d of %d format() results differ from Python", fails, n);
}
END_TEST

/* ---- hand-written cases ---- */

static char *fmt(const SlValue *v, const char *spec)
{
    SlBuf out = {0};
    sl_buf_init(&out);
    SlError err = {0};
    bool ok = sl_num_format(&out, v, spec, strlen(spec), &err);
    ck_assert_msg(ok, "format(%s): %s", spec, err.msg);
    return sl_buf_take(&out);
}

static SlValue *binop_ii(int op, long a, long b, SlError *err)
{
    SlValue *x = sl_int_si(a), *y = sl_int_si(b);
    SlValue *r = sl_num_binop(op, x, y, err);
    sl_unref(x);
    sl_unref(y);
    return r;
}

START_TEST(test_high_precision)
{
    SlError err = {0};
    sl_num_set_prec(113);
    SlValue *third = binop_ii(SL_OP_DIV, 1, 3, &err);
    char *s = repr_of(third);
    ck_assert_str_eq(s, "0.3333333333333333333333333333333333");
    free(s);
    SlValue *big = binop_ii(SL_OP_POW, 2, 100, &err);
    SlValue *bigf = sl_num_to_float(big, &err);
    s = repr_of(bigf); /* fixed notation up to 10^max(16, 33) at 113 bits */
    ck_assert_str_eq(s, "1267650600228229401496703205376.0");
    free(s);
    sl_unref(big);
    sl_unref(bigf);
    SlValue *pt1 = sl_num_parse_float("0.1", &err);
    s = repr_of(pt1);
    ck_assert_str_eq(s, "0.1");
    free(s);
    sl_unref(pt1);
    sl_unref(third);

    sl_num_set_prec(200);
    third = binop_ii(SL_OP_DIV, 1, 3, &err);
    s = fmt(third, ".50f");
    ck_assert_str_eq(s, "0.33333333333333333333333333333333333333333333333333");
    free(s);
    SlValue *two = sl_int_si(2);
    SlValue *r2 = sl_num_apply(SL_FN_SQRT, &two, 1, &err);
    s = fmt(r2, ".40f");
    ck_assert_str_eq(s, "1.4142135623730950488016887242096980785697");
    free(s);
    s = fmt(r2, ".5e");
    ck_assert_str_eq(s, "1.41421e+00");
    free(s);
    sl_unref(two);
    sl_unref(r2);
    sl_unref(third);
    sl_num_set_prec(53);
}
END_TEST

START_TEST(test_errors_and_limits)
{
    SlError err = {0};
    SlValue *r = binop_ii(SL_OP_POW, 2, 100000000, &err);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(err.code, SL_E_LIMIT);
    ck_assert_str_eq(err.msg, "integer result too large: 2**100000000 would have 100000001 bits");
    sl_err_clear(&err);
    r = binop_ii(SL_OP_POW, -10, 10000000, &err);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err.msg, "integer result too large: (-10)**10000000 would have 33219281 bits");
    sl_err_clear(&err);
    r = binop_ii(SL_OP_POW, 1, 100000000000L, &err);
    ck_assert_ptr_nonnull(r);
    ck_assert(mpz_cmp_ui(r->u.z, 1) == 0);
    sl_unref(r);
    r = binop_ii(SL_OP_POW, -1, 100000000001L, &err);
    ck_assert(mpz_cmp_si(r->u.z, -1) == 0);
    sl_unref(r);
    r = binop_ii(SL_OP_POW, 3, 100000, &err); /* big but fine */
    ck_assert_ptr_nonnull(r);
    sl_unref(r);

    /* exp(1000) overflows a double, not an MPFR number at 113 bits */
    SlValue *x = sl_int_si(1000);
    r = sl_num_apply(SL_FN_EXP, &x, 1, &err);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err.msg, "math range error");
    sl_err_clear(&err);
    sl_num_set_prec(113);
    r = sl_num_apply(SL_FN_EXP, &x, 1, &err);
    ck_assert_ptr_nonnull(r);
    char *s = repr_of(r);
    ck_assert_str_eq(s, "1.9700711140170469938888793522433231e+434");
    free(s);
    sl_unref(r);
    sl_num_set_prec(53);
    sl_unref(x);

    x = sl_int_si(-1);
    r = sl_num_apply(SL_FN_SQRT, &x, 1, &err);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(err.code, SL_E_MATH_DOMAIN);
    ck_assert_str_eq(err.msg, "math domain error: sqrt(-1)");
    sl_err_clear(&err);
    sl_unref(x);

    SlValue *args[2] = {sl_num_parse_float("2.0", &err), sl_int_si(1)};
    r = sl_num_apply(SL_FN_SIN, args, 2, &err);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(err.code, SL_E_ARG_COUNT);
    sl_err_clear(&err);
    SlValue *str = sl_str_cstr("a");
    r = sl_num_apply(SL_FN_SIN, &str, 1, &err);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err.msg, "must be real number, not str");
    sl_err_clear(&err);
    sl_unref(str);
    sl_unref(args[0]);
    sl_unref(args[1]);

    /* conversions */
    SlValue *f = sl_num_parse_float("-2.75", &err);
    SlValue *i = sl_num_to_int(f, &err);
    ck_assert(mpz_cmp_si(i->u.z, -2) == 0);
    long l;
    ck_assert(sl_num_to_long(i, &l) && l == -2);
    ck_assert(!sl_num_to_long(f, &l));
    ck_assert(sl_num_to_double(f) == -2.75);
    sl_unref(i);
    SlValue *huge = binop_ii(SL_OP_POW, 10, 400, &err);
    ck_assert(!sl_num_to_long(huge, &l));
    ck_assert_ptr_null(sl_num_to_float(huge, &err));
    ck_assert_str_eq(err.msg, "int too large to convert to float");
    sl_err_clear(&err);
    ck_assert(sl_num_cmp(huge, f) == 1);
    SlValue *inf = sl_num_inf(), *nan = sl_num_nan();
    ck_assert(sl_num_cmp(huge, inf) == -1);
    ck_assert(sl_num_cmp(nan, f) == 2);
    ck_assert(!sl_num_equal(nan, nan));
    ck_assert_ptr_null(sl_num_to_int(inf, &err));
    ck_assert_str_eq(err.msg, "cannot convert float infinity to integer");
    sl_err_clear(&err);
    ck_assert_ptr_null(sl_num_to_int(nan, &err));
    ck_assert_str_eq(err.msg, "cannot convert float NaN to integer");
    sl_err_clear(&err);
    sl_unref(inf);
    sl_unref(nan);
    sl_unref(huge);
    mpfr_t m;
    mpfr_init2(m, 70);
    sl_num_to_mpfr(m, f);
    ck_assert(mpfr_cmp_d(m, -2.75) == 0);
    SlValue *g = sl_num_from_mpfr(m);
    ck_assert_int_eq(mpfr_get_prec(g->u.f), 70);
    sl_unref(g);
    mpfr_clear(m);
    sl_unref(f);

    /* constants */
    SlValue *c = sl_num_pi();
    s = repr_of(c);
    ck_assert_str_eq(s, "3.141592653589793");
    free(s);
    sl_unref(c);
    c = sl_num_e();
    s = repr_of(c);
    ck_assert_str_eq(s, "2.718281828459045");
    free(s);
    sl_unref(c);
    ck_assert_int_eq(sl_math_fn_lookup("log10"), SL_FN_LOG10);
    ck_assert_int_eq(sl_math_fn_lookup("sigmoid"), SL_FN_SIGMOID);
    ck_assert_int_eq(sl_math_fn_lookup("nope"), -1);
    ck_assert_int_eq(sl_math_fns[SL_FN_ATAN2].min_args, 2);

    /* formats of other kinds */
    SlBuf out = {0};
    sl_buf_init(&out);
    ck_assert(!sl_num_format(&out, SL_NONE_V, "x", 1, &err));
    ck_assert_str_eq(err.msg, "unsupported format string passed to NoneType.__format__");
    sl_err_clear(&err);
    ck_assert(sl_num_format(&out, SL_NONE_V, "", 0, &err));
    ck_assert_str_eq(out.s, "None");
    sl_buf_free(&out);
}
END_TEST

static Suite *num_suite(void)
{
    Suite *s = suite_create("num");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_precision);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_repr_python);
    tcase_add_test(tc, test_shortest_data);
    tcase_add_test(tc, test_roundtrip_24);
    tcase_add_test(tc, test_roundtrip_53);
    tcase_add_test(tc, test_roundtrip_113);
    tcase_add_test(tc, test_roundtrip_1000);
    tcase_add_test(tc, test_repr_speed);
    tcase_add_test(tc, test_arith_python);
    tcase_add_test(tc, test_math_python);
    tcase_add_test(tc, test_format_python);
    tcase_add_test(tc, test_high_precision);
    tcase_add_test(tc, test_errors_and_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(num_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
