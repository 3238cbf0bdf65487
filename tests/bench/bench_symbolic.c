/* bench_symbolic.c -- benchmark 8a: d/dx of the logistic map's iterate.
 *
 *   bench_symbolic [N ...]        (default: 4 5 ... 16 20 24 30)
 *
 * l₀ = x, lₙ₊₁ = 4lₙ(1 − lₙ), built through the expr API (the constructors
 * the evaluator uses).  For each n, one line of key=value fields:
 *   n          the iterate
 *   diff_us    sl_diff(lₙ, x), simplification included: the best of 7
 *              batches, each repeated until it lasts 20 ms, in µs per call
 *   nodes      distinct nodes of the derivative (sl_expr_node_count)
 *   input      distinct nodes of lₙ
 *   printed    bytes of the derivative as sl_expr_print writes it in ascii
 *              (with named shared subexpressions, "where t1 = ...")
 *   names      how many names that printing used
 *   tree       bytes of the same expression printed as a plain tree,
 *              measured on the DAG (sl_expr_tree_size), never written
 *   print_us   the ascii sl_expr_print, µs
 *   eval_us    sl_expr_subs(d, x = 0.3) at 53 bits, µs
 *   value      that value, 17 significant digits
 *   ref        dlₙ/dx at 0.3 by the recurrence d' = 4d(1 − 2l) in 256-bit
 *              MPFR (the truth the others are compared with)
 *   dbl        the same recurrence in doubles
 *   relerr     |value − ref|/|ref|; dbl_relerr likewise for dbl
 * Lines starting with '#' are comments.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diff.h"
#include "expr.h"
#include "num.h"
#include "simplify.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static SlExpr *logistic(int n)
{
    SlExpr *l = sl_expr_sym("x");
    for (int k = 0; k < n; k++) {
        SlExpr *four = sl_expr_int(4), *one = sl_expr_int(1);
        SlExpr *s = sl_expr_sub(one, l), *t = sl_expr_mul(four, l);
        SlExpr *u = sl_expr_mul(t, s);
        sl_expr_unref(four);
        sl_expr_unref(one);
        sl_expr_unref(s);
        sl_expr_unref(t);
        sl_expr_unref(l);
        l = u;
    }
    return l;
}

/* seconds per sl_diff call: best of 7 batches of >= 20 ms */
static double time_diff(SlExpr *l)
{
    double best = INFINITY;
    for (int b = 0; b < 7; b++) {
        long reps = 0;
        double t0 = now(), t1;
        do {
            SlError err = {0};
            SlExpr *d = sl_diff(l, "x", &err);
            sl_expr_unref(d);
            reps++;
            t1 = now();
        } while (t1 - t0 < 0.02);
        double per = (t1 - t0) / (double)reps;
        if (per < best)
            best = per;
    }
    return best;
}

static void reference(int n, double x, mpfr_t d)
{
    mpfr_t l, t;
    mpfr_inits2(256, l, t, (mpfr_ptr)0);
    mpfr_set_d(l, x, MPFR_RNDN);
    mpfr_set_ui(d, 1, MPFR_RNDN);
    for (int k = 0; k < n; k++) {
        mpfr_mul_2ui(t, l, 1, MPFR_RNDN); /* d = 4d(1 − 2l) */
        mpfr_ui_sub(t, 1, t, MPFR_RNDN);
        mpfr_mul(d, d, t, MPFR_RNDN);
        mpfr_mul_2ui(d, d, 2, MPFR_RNDN);
        mpfr_ui_sub(t, 1, l, MPFR_RNDN); /* l = 4l(1 − l) */
        mpfr_mul(l, l, t, MPFR_RNDN);
        mpfr_mul_2ui(l, l, 2, MPFR_RNDN);
    }
    mpfr_clears(l, t, (mpfr_ptr)0);
}

int main(int argc, char **argv)
{
    int def[] = {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 20, 24, 30};
    int nn = argc > 1 ? argc - 1 : (int)(sizeof def / sizeof def[0]);
    printf("# bench_symbolic: d/dx of the logistic map l_{n+1} = 4 l_n (1 - l_n), l_0 = x\n");
    for (int i = 0; i < nn; i++) {
        int n = argc > 1 ? atoi(argv[i + 1]) : def[i];
        SlExpr *l = logistic(n);
        double t = time_diff(l);
        SlError err = {0};
        SlExpr *d = sl_diff(l, "x", &err);
        size_t nodes = sl_expr_node_count(d), input = sl_expr_node_count(l);
        SlBuf b;
        sl_buf_init(&b);
        double p0 = now();
        sl_expr_print(&b, d, SL_STYLE_ASCII);
        double pt = now() - p0;
        size_t names = 0;
        for (const char *s = b.s; (s = strstr(s, " = ")) != NULL; s += 3)
            names++;
        size_t tree = sl_expr_tree_size(d, SL_STYLE_ASCII);
        const char *name = "x";
        SlValue *x = sl_float_d(0.3);
        double e0 = now();
        SlValue *v = sl_expr_subs(d, &name, &x, 1, &err);
        double et = now() - e0;
        double value = v ? sl_num_to_double(v) : NAN;
        mpfr_t ref;
        mpfr_init2(ref, 256);
        reference(n, 0.3, ref);
        double r = mpfr_get_d(ref, MPFR_RNDN);
        double lv = 0.3, dv = 1;
        for (int k = 0; k < n; k++) {
            dv = 4 * dv * (1 - 2 * lv);
            lv = 4 * lv * (1 - lv);
        }
        printf("n=%d diff_us=%.2f nodes=%zu input=%zu printed=%zu names=%zu tree=%zu print_us=%.1f eval_us=%.1f "
               "value=%.17g ref=%.17g dbl=%.17g relerr=%.2e dbl_relerr=%.2e\n",
               n, t * 1e6, nodes, input, b.len, names, tree, pt * 1e6, et * 1e6, value, r, dv,
               fabs(value - r) / fabs(r), fabs(dv - r) / fabs(r));
        fflush(stdout);
        mpfr_clear(ref);
        sl_unref(v);
        sl_unref(x);
        sl_buf_free(&b);
        sl_expr_unref(d);
        sl_expr_unref(l);
    }
    sl_expr_shutdown();
    return 0;
}
