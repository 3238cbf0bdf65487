/* forward.h -- forward-mode differentiation: truncated Taylor series over MPFR.
 *
 * An SlTaylor is x(t) = c[0] + c[1] t + ... + c[order] t^order, every
 * coefficient an mpfr_t at the series' precision.  Arithmetic and every
 * elementary function (SlMathFn) propagate the series with the standard
 * recurrences (Griewank & Walther, "Evaluating Derivatives", ch. 13), so
 * after evaluating f on the variable a + t, the k-th derivative of f at a
 * is k! * c[k].  All coefficients are computed at the series' precision
 * (callers add guard bits when they want every printed digit right).
 *
 * Ownership: a series owns its coefficient array; init/clear pair up.
 * Results may alias operands (r == a is fine).  Functions return false and
 * record an error (Python's words: "math domain error: log(0)") when the
 * series is undefined at the point, e.g. log of a series with c[0] <= 0,
 * division by a series with c[0] == 0, sqrt at 0 of order >= 1.
 */
#ifndef SL_FORWARD_H
#define SL_FORWARD_H

#include <stdbool.h>

#include <mpfr.h>

#include "error.h"
#include "num.h"

typedef struct SlTaylor {
    int order;         /* highest coefficient kept */
    mpfr_prec_t prec;  /* precision of every coefficient */
    mpfr_t *c;         /* order + 1 coefficients */
} SlTaylor;

void sl_taylor_init(SlTaylor *t, int order, mpfr_prec_t prec);   /* all zero */
void sl_taylor_clear(SlTaylor *t);
void sl_taylor_copy(SlTaylor *dst, const SlTaylor *src);          /* dst inited, same order */
void sl_taylor_set_const(SlTaylor *t, mpfr_srcptr v);            /* v + 0t + ... */
void sl_taylor_set_var(SlTaylor *t, mpfr_srcptr a);              /* a + 1t */

/* r = a op b for op SL_OP_ADD, SUB, MUL, DIV, POW (general series ^ series,
 * via exp(b log a); a constant integer exponent is exact for any sign of
 * c[0]), and SL_OP_FLOORDIV / MOD (derivative 0 / 1 where defined). */
bool sl_taylor_binop(SlTaylor *r, int op, const SlTaylor *a, const SlTaylor *b, SlError *err);
/* r = a ^ n for an integer n (handles a negative c[0]; a(0) = 0 with n >= 0). */
bool sl_taylor_pow_si(SlTaylor *r, const SlTaylor *a, long n, SlError *err);
bool sl_taylor_neg(SlTaylor *r, const SlTaylor *a);
/* r = fn(args) for every SlMathFn.  Non-smooth functions take the one-sided
 * convention stated in :help (relu'(0) = 0, abs'(0) = 0 as sign(0),
 * floor/ceil/round derivatives 0, min/max follow the chosen argument). */
bool sl_taylor_fn(SlTaylor *r, SlMathFn fn, const SlTaylor *const *args, int nargs, SlError *err);

/* The k-th derivative from a series: k! * c[k], rounded to out's precision
 * (nan when k is not in 0..order). */
void sl_taylor_derivative(mpfr_ptr out, const SlTaylor *t, int k);

/* Results have r's order and precision; an operand of a lower order reads
 * as a polynomial (missing coefficients 0), a higher one is truncated.
 * After a failure r's coefficients are unspecified.  Temporaries come from
 * a per-thread pool of coefficient arrays kept between calls (no mpfr_init2
 * in the inner loops); this frees it (call it at exit, or to give memory
 * back after a very large order or precision). */
void sl_forward_release(void);

#endif
