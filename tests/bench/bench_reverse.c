/* bench_reverse.c -- reverse mode on the extended Rosenbrock function.
 *
 *   f(v) = sum_{i<n-1} 100 (v[i+1] - v[i]²)² + (1 - v[i])²   at v = 1.5
 *
 * for n = 10 ... 10^5 on a 53-bit tape.  Times, per call:
 *   eval    the same eight MPFR operations per term in a plain loop: no
 *           tape, no values, constants as mpfr_t (the tape's operations
 *           are these same MPFR calls, correctly rounded);
 *   record  reset the tape, record the inputs and f (forward pass only);
 *   grad    record + backward (the tape is reset and reused between runs);
 *   grad/c  the same, recording each literal constant as a new node at
 *           every use (what an evaluator that does not cache constants does);
 * and the ratios to eval (issue 3's goal: grad/eval <= 4).  Each figure is
 * the best of 9 batches of about 50 ms, the four kinds interleaved so that
 * a busy machine slows them alike.
 *
 * Usage: bench_reverse [n ...]   (default 10 100 1000 10000 100000)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ast.h"
#include "num.h"
#include "reverse.h"

#define RNDN MPFR_RNDN
#define PREC 53

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct Ctx {
    size_t n;
    mpfr_t *v;           /* the point */
    mpfr_t c100, c1, s, a, b;
    SlTape *t;
    SlNode *x;           /* input nodes */
    SlNode out;
    double sink;
    SlError err;         /* one per run, as an evaluator has one per statement */
} Ctx;

static void eval(Ctx *c)
{
    mpfr_ptr s = c->s, a = c->a, b = c->b;
    mpfr_set_zero(s, 1);
    for (size_t i = 0; i + 1 < c->n; i++) {
        mpfr_sqr(a, c->v[i], RNDN);
        mpfr_sub(a, c->v[i + 1], a, RNDN);
        mpfr_sqr(a, a, RNDN);
        mpfr_mul(a, c->c100, a, RNDN);
        mpfr_sub(b, c->c1, c->v[i], RNDN);
        mpfr_sqr(b, b, RNDN);
        mpfr_add(a, a, b, RNDN);
        mpfr_add(s, s, a, RNDN);
    }
    c->sink += mpfr_get_d(s, RNDN);
}

static SlNode op(Ctx *c, int o, SlNode a, SlNode b)
{
    SlNode r;
    if (!sl_tape_binop(c->t, o, a, b, &r, &c->err)) {
        fprintf(stderr, "bench_reverse: %s\n", c->err.msg);
        exit(1);
    }
    return r;
}

/* Record f; per_use: a new constant node at every use of a literal. */
static void record(Ctx *c, bool per_use)
{
    SlTape *t = c->t;
    sl_tape_reset(t);
    for (size_t i = 0; i < c->n; i++)
        c->x[i] = sl_tape_var(t, c->v[i]);
    mpfr_t two;
    mpfr_init2(two, PREC);
    mpfr_set_ui(two, 2, RNDN);
    SlNode k100 = sl_tape_const(t, c->c100), k1 = sl_tape_const(t, c->c1), k2 = sl_tape_const(t, two);
    mpfr_set_zero(c->s, 1);
    SlNode s = sl_tape_const(t, c->s); /* s = 0 */
    for (size_t i = 0; i + 1 < c->n; i++) {
        if (per_use)
            k2 = sl_tape_const(t, two);
        SlNode a = op(c, SL_OP_POW, c->x[i], k2);
        a = op(c, SL_OP_SUB, c->x[i + 1], a);
        if (per_use)
            k2 = sl_tape_const(t, two), k100 = sl_tape_const(t, c->c100);
        a = op(c, SL_OP_POW, a, k2);
        a = op(c, SL_OP_MUL, k100, a);
        if (per_use)
            k1 = sl_tape_const(t, c->c1);
        SlNode b = op(c, SL_OP_SUB, k1, c->x[i]);
        if (per_use)
            k2 = sl_tape_const(t, two);
        b = op(c, SL_OP_POW, b, k2);
        s = op(c, SL_OP_ADD, s, op(c, SL_OP_ADD, a, b));
    }
    mpfr_clear(two);
    c->out = s;
}

static void rec_only(Ctx *c)
{
    record(c, false);
    c->sink += mpfr_get_d(sl_tape_value(c->t, c->out), RNDN);
}

static void grad(Ctx *c)
{
    record(c, false);
    sl_tape_backward(c->t, c->out);
    c->sink += mpfr_get_d(sl_tape_adjoint(c->t, c->x[0]), RNDN);
}

static void grad_per_use(Ctx *c)
{
    record(c, true);
    sl_tape_backward(c->t, c->out);
    c->sink += mpfr_get_d(sl_tape_adjoint(c->t, c->x[0]), RNDN);
}

/* Calls per batch so that one batch of f takes about 50 ms. */
static long calibrate(Ctx *c, void (*f)(Ctx *))
{
    f(c); /* warm up: the tape grows to its working size here */
    long reps = 1;
    for (;;) {
        double t0 = now();
        for (long k = 0; k < reps; k++)
            f(c);
        double dt = now() - t0;
        if (dt >= 0.05)
            return reps;
        reps = dt > 0.005 ? (long)((double)reps * 0.06 / dt) + 1 : reps * 10;
    }
}

#define NFN 4
#define ROUNDS 9

/* Seconds per call of each f: the best of ROUNDS batches, the batches of
 * the different fs interleaved so that they see the same machine load. */
static void timeall(Ctx *c, void (*fs[NFN])(Ctx *), double best[NFN])
{
    long reps[NFN];
    for (int i = 0; i < NFN; i++) {
        reps[i] = calibrate(c, fs[i]);
        best[i] = INFINITY;
    }
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < NFN; i++) {
            double t0 = now();
            for (long k = 0; k < reps[i]; k++)
                fs[i](c);
            double dt = (now() - t0) / (double)reps[i];
            if (dt < best[i])
                best[i] = dt;
        }
}

int main(int argc, char **argv)
{
    size_t def[] = {10, 100, 1000, 10000, 100000}, ns[32];
    size_t count = 0;
    for (int i = 1; i < argc && count < 32; i++)
        ns[count++] = (size_t)strtoull(argv[i], NULL, 10);
    if (!count)
        for (; count < sizeof def / sizeof def[0]; count++)
            ns[count] = def[count];
    printf("extended Rosenbrock at v = 1.5, %d-bit tape (times per call, microseconds)\n", PREC);
    printf("%8s %8s %11s %11s %11s %11s %7s %7s %7s\n", "n", "nodes", "eval", "record", "grad", "grad/c",
           "rec/ev", "grad/ev", "g/c/ev");
    for (size_t k = 0; k < count; k++) {
        Ctx c = {0};
        c.n = ns[k] < 2 ? 2 : ns[k];
        c.v = malloc(c.n * sizeof *c.v);
        c.x = malloc(c.n * sizeof *c.x);
        for (size_t i = 0; i < c.n; i++) {
            mpfr_init2(c.v[i], PREC);
            mpfr_set_d(c.v[i], 1.5, RNDN);
        }
        mpfr_inits2(PREC, c.c100, c.c1, c.s, c.a, c.b, (mpfr_ptr)0);
        mpfr_set_ui(c.c100, 100, RNDN);
        mpfr_set_ui(c.c1, 1, RNDN);
        c.t = sl_tape_new(PREC);

        /* sanity: value and gradient against the closed form at v = 1.5:
         * f = (n-1)(100·0.5625 + 0.25), df/dv0 = -400·1.5·(1.5 - 2.25) - 2(1 - 1.5) */
        grad(&c);
        double fv = mpfr_get_d(sl_tape_value(c.t, c.out), RNDN);
        double g0 = mpfr_get_d(sl_tape_adjoint(c.t, c.x[0]), RNDN);
        if (fabs(fv - (double)(c.n - 1) * 56.5) > 1e-9 * fv || g0 != 451) {
            fprintf(stderr, "bench_reverse: wrong result at n = %zu: f = %.17g, df/dv0 = %.17g\n", c.n, fv, g0);
            return 1;
        }
        size_t nodes = sl_tape_size(c.t);

        void (*fs[NFN])(Ctx *) = {eval, rec_only, grad, grad_per_use};
        double tm[NFN];
        timeall(&c, fs, tm);
        double te = tm[0], tr = tm[1], tg = tm[2], tc = tm[3];
        printf("%8zu %8zu %11.2f %11.2f %11.2f %11.2f %7.2f %7.2f %7.2f\n", c.n, nodes, te * 1e6, tr * 1e6,
               tg * 1e6, tc * 1e6, tr / te, tg / te, tc / te);
        fflush(stdout);

        sl_tape_free(c.t);
        for (size_t i = 0; i < c.n; i++)
            mpfr_clear(c.v[i]);
        mpfr_clears(c.c100, c.c1, c.s, c.a, c.b, (mpfr_ptr)0);
        free(c.v);
        free(c.x);
        if (c.sink == 12345.678)
            puts("");
    }
    return 0;
}
