/* bench_forward.c -- benchmark 8c: derivatives 0..10 of exp(sin(x)) at 0.5.
 *
 *   bench_forward [--guard BITS] [--budget SECONDS] [D ...]   (default 50 1000 10000)
 *   bench_forward --values D                                   the derivatives, "k value"
 *
 * For each number of digits D, at precision bits(D) + guard (bits(D) =
 * ceil(D log2 10), what :digits D sets; guard 32 by default), it times one
 * complete run -- make the variable 0.5 + t, take sin, then exp, read the
 * 11 derivatives k! c[k] -- done two ways:
 *
 *   forward    through forward.h, series made and freed in every run (what
 *              the evaluator does); forward_reuse keeps the series between
 *              runs (only the arithmetic);
 *   baseline   plain MPFR Taylor arithmetic written by hand: sin/cos of the
 *              variable by s_k = c_{k-1}/k, c_k = -s_{k-1}/k, then the exp
 *              recurrence e_k = (1/k) sum_j j s_j e_{k-j}, arrays made and
 *              freed in every run.
 *
 * Each time is the best of 5 rounds of the mean µs per run in a batch of
 * about budget/5 seconds (budget 1 s by default per way); the rounds
 * interleave the three ways so that changes in the machine's load fall on
 * all of them.  The digits on which forward and baseline agree (the
 * minimum over k; "all" when every bit is the same) are printed too.  tests/bench/run-forward.sh
 * runs this beside mpmath and PARI/gp.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpfr.h>

#include "forward.h"
#include "num.h"

#define N 10 /* derivatives 0..N */
#define RNDN MPFR_RNDN

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct Run {
    mpfr_prec_t prec;   /* working precision */
    mpfr_t *out;        /* N + 1 derivatives */
    SlTaylor x, s, e;   /* kept series, for forward_reuse */
} Run;

/* ---- (a) forward.h ---- */

static void run_forward(Run *r)
{
    SlTaylor x, s, e;
    SlError err = {0};
    mpfr_t a;
    mpfr_init2(a, 53);
    mpfr_set_d(a, 0.5, RNDN);
    sl_taylor_init(&x, N, r->prec);
    sl_taylor_init(&s, N, r->prec);
    sl_taylor_init(&e, N, r->prec);
    sl_taylor_set_var(&x, a);
    const SlTaylor *ax[1] = {&x}, *as[1] = {&s};
    if (!sl_taylor_fn(&s, SL_FN_SIN, ax, 1, &err) || !sl_taylor_fn(&e, SL_FN_EXP, as, 1, &err)) {
        fprintf(stderr, "bench_forward: %s\n", err.msg);
        exit(1);
    }
    for (int k = 0; k <= N; k++)
        sl_taylor_derivative(r->out[k], &e, k);
    sl_taylor_clear(&x);
    sl_taylor_clear(&s);
    sl_taylor_clear(&e);
    mpfr_clear(a);
}

static void run_forward_reuse(Run *r)
{
    SlError err = {0};
    mpfr_t a;
    mpfr_init2(a, 53);
    mpfr_set_d(a, 0.5, RNDN);
    sl_taylor_set_var(&r->x, a);
    const SlTaylor *ax[1] = {&r->x}, *as[1] = {&r->s};
    if (!sl_taylor_fn(&r->s, SL_FN_SIN, ax, 1, &err) || !sl_taylor_fn(&r->e, SL_FN_EXP, as, 1, &err)) {
        fprintf(stderr, "bench_forward: %s\n", err.msg);
        exit(1);
    }
    for (int k = 0; k <= N; k++)
        sl_taylor_derivative(r->out[k], &r->e, k);
    mpfr_clear(a);
}

/* ---- (b) the hand-written baseline ---- */

static void run_baseline(Run *r)
{
    mpfr_t s[N + 1], c[N + 1], e[N + 1], d[N + 1], t, x0;
    for (int k = 0; k <= N; k++)
        mpfr_inits2(r->prec, s[k], c[k], e[k], d[k], (mpfr_ptr)0);
    mpfr_inits2(r->prec, t, x0, (mpfr_ptr)0);
    mpfr_set_d(x0, 0.5, RNDN);
    /* sin and cos of x = 0.5 + t */
    mpfr_sin_cos(s[0], c[0], x0, RNDN);
    for (int k = 1; k <= N; k++) {
        mpfr_div_ui(s[k], c[k - 1], (unsigned long)k, RNDN);
        mpfr_div_ui(c[k], s[k - 1], (unsigned long)k, RNDN);
        mpfr_neg(c[k], c[k], RNDN);
    }
    /* exp of the series s */
    mpfr_exp(e[0], s[0], RNDN);
    for (int j = 1; j <= N; j++)
        mpfr_mul_ui(d[j], s[j], (unsigned long)j, RNDN);
    for (int k = 1; k <= N; k++) {
        mpfr_mul(e[k], d[1], e[k - 1], RNDN);
        for (int j = 2; j <= k; j++) {
            mpfr_mul(t, d[j], e[k - j], RNDN);
            mpfr_add(e[k], e[k], t, RNDN);
        }
        mpfr_div_ui(e[k], e[k], (unsigned long)k, RNDN);
    }
    /* k! e_k */
    mpfr_set(r->out[0], e[0], RNDN);
    unsigned long f = 1;
    for (int k = 1; k <= N; k++) {
        f *= (unsigned long)k;
        mpfr_mul_ui(r->out[k], e[k], f, RNDN);
    }
    for (int k = 0; k <= N; k++)
        mpfr_clears(s[k], c[k], e[k], d[k], (mpfr_ptr)0);
    mpfr_clears(t, x0, (mpfr_ptr)0);
}

/* ---- timing ---- */

/* Runs of fn that take about batch seconds. */
static long calibrate(void (*fn)(Run *), Run *r, double batch)
{
    long n = 1;
    for (;;) {
        double t0 = now();
        for (long i = 0; i < n; i++)
            fn(r);
        double el = now() - t0;
        if (el >= batch / 4 || n >= (1L << 30))
            return (long)((double)n * batch / (el > 1e-9 ? el : 1e-9)) + 1;
        n *= 4;
    }
}

/* us[i] = the best over 5 rounds of the mean µs per run of fns[i]; the
 * rounds interleave the functions, so that a change in the machine's load
 * falls on all of them alike. */
static void time_us(void (*const *fns)(Run *), int nf, Run *r, double budget, double *us)
{
    long n[8];
    for (int f = 0; f < nf; f++) {
        n[f] = calibrate(fns[f], r, budget / 5 / nf);
        us[f] = 1e300;
    }
    for (int round = 0; round < 5; round++)
        for (int f = 0; f < nf; f++) {
            double t0 = now();
            for (long i = 0; i < n[f]; i++)
                fns[f](r);
            double t = (now() - t0) / (double)n[f] * 1e6;
            if (t < us[f])
                us[f] = t;
        }
}

/* Significant digits on which a and b agree, the minimum over k. */
static double agree(mpfr_t *a, mpfr_t *b, mpfr_prec_t prec)
{
    double worst = 1e300;
    mpfr_t d;
    mpfr_init2(d, prec);
    for (int k = 0; k <= N; k++) {
        if (mpfr_equal_p(a[k], b[k]))
            continue;
        mpfr_sub(d, a[k], b[k], RNDN);
        mpfr_div(d, d, b[k], RNDN);
        mpfr_abs(d, d, RNDN);
        mpfr_log10(d, d, RNDN);
        double g = -mpfr_get_d(d, RNDN);
        if (g < worst)
            worst = g;
    }
    mpfr_clear(d);
    return worst;
}

static mpfr_t *outs(mpfr_prec_t prec)
{
    mpfr_t *o = malloc((N + 1) * sizeof *o);
    if (!o)
        abort();
    for (int k = 0; k <= N; k++)
        mpfr_init2(o[k], prec);
    return o;
}

static void outs_free(mpfr_t *o)
{
    for (int k = 0; k <= N; k++)
        mpfr_clear(o[k]);
    free(o);
}

static void usage(void)
{
    fputs("usage: bench_forward [--guard BITS] [--budget SECONDS] [D ...]\n"
          "       bench_forward [--guard BITS] --values D\n", stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    long guard = 32, values = 0;
    double budget = 1.0;
    long ds[16];
    int nd = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--guard") && i + 1 < argc)
            guard = atol(argv[++i]);
        else if (!strcmp(argv[i], "--budget") && i + 1 < argc)
            budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--values") && i + 1 < argc)
            values = atol(argv[++i]);
        else if (argv[i][0] != '-' && nd < 16 && atol(argv[i]) > 0)
            ds[nd++] = atol(argv[i]);
        else
            usage();
    }
    if (values > 0) {
        Run r = {.prec = sl_num_bits_for_digits(values) + guard, .out = outs(sl_num_bits_for_digits(values) + guard)};
        run_forward(&r);
        for (int k = 0; k <= N; k++)
            mpfr_printf("%d %.*Re\n", k, (int)values + 4, r.out[k]);
        outs_free(r.out);
        sl_forward_release();
        mpfr_free_cache();
        return 0;
    }
    if (nd == 0) {
        ds[nd++] = 50;
        ds[nd++] = 1000;
        ds[nd++] = 10000;
    }
    printf("# bench_forward: derivatives 0..%d of exp(sin(x)) at 0.5; MPFR %s, GMP %s; guard %ld bits\n", N,
           mpfr_get_version(), gmp_version, guard);
    for (int i = 0; i < nd; i++) {
        mpfr_prec_t prec = sl_num_bits_for_digits(ds[i]) + guard;
        Run r = {.prec = prec, .out = outs(prec)};
        sl_taylor_init(&r.x, N, prec);
        sl_taylor_init(&r.s, N, prec);
        sl_taylor_init(&r.e, N, prec);
        mpfr_t *fw = outs(prec);
        run_forward(&r);
        for (int k = 0; k <= N; k++)
            mpfr_set(fw[k], r.out[k], RNDN);
        run_baseline(&r);
        double dig = agree(fw, r.out, prec);
        void (*const fns[3])(Run *) = {run_forward, run_forward_reuse, run_baseline};
        double us[3];
        time_us(fns, 3, &r, 3 * budget, us);
        double t_fw = us[0], t_re = us[1], t_bl = us[2];
        char agreed[32];
        if (dig > 1e299)
            snprintf(agreed, sizeof agreed, "all");
        else
            snprintf(agreed, sizeof agreed, "%.1f", dig);
        printf("forward D=%ld prec=%ld forward_us=%.2f forward_reuse_us=%.2f baseline_us=%.2f ratio=%.3f "
               "agree_digits=%s\n",
               ds[i], (long)prec, t_fw, t_re, t_bl, t_fw / t_bl, agreed);
        fflush(stdout);
        outs_free(fw);
        outs_free(r.out);
        sl_taylor_clear(&r.x);
        sl_taylor_clear(&r.s);
        sl_taylor_clear(&r.e);
    }
    sl_forward_release();
    mpfr_free_cache();
    return 0;
}
