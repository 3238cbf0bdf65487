/* diff.h -- symbolic differentiation, Taylor polynomials and explain().
 *
 * Works on the hash-consed DAG of expr.h: a derivative is computed once per
 * distinct node (memoised by node pointer during one call, on an explicit
 * stack), so results share structure and d/dx of deeply shared expressions
 * (the logistic map) stays linear in size.  Results are simplified with
 * sl_simplify.  The rules are listed at the top of diff.c.
 * Conventions at non-smooth points, stated in :help diff:
 *   abs'(x) = sign(x) (0 at 0), relu'(x) = heaviside(x) with value 0 at 0
 *   (PyTorch's), max(a, b)' takes a's derivative where a >= b (min: where
 *   a <= b), written a'·(1 − heaviside(b − a)) + b'·heaviside(b − a);
 *   floor' = ceil' = round' = sign' = heaviside' = 0 where defined.
 * All take borrowed arguments and return new references (NULL + err).
 */
#ifndef SL_DIFF_H
#define SL_DIFF_H

#include "expr.h"

/* d e / d var. */
SlExpr *sl_diff(SlExpr *e, const char *var, SlError *err);
/* n-th derivative (n >= 0). */
SlExpr *sl_diff_n(SlExpr *e, const char *var, long n, SlError *err);
/* Taylor polynomial of e in var about a, through degree n: the terms in
 * ascending powers of (x − a), as a textbook writes it
 * (1 + x + x²/2 + ..., sin(1) + cos(1)·(x − 1) − ...); the sum is not
 * re-sorted, so do not pass it through sl_simplify for display. */
SlExpr *sl_taylor_poly(SlExpr *e, const char *var, SlExpr *a, long n, SlError *err);
/* Write the derivative step by step, naming the rule at each step (a walk
 * from the outside in; the format is described in diff.c):
 *     d/dx [x²·sin(x)]
 *       = d/dx [x²]·sin(x) + x²·d/dx [sin(x)]    (product rule)
 *         d/dx [x²] = 2x                         (power rule)
 *         d/dx [sin(x)] = cos(x)                 (trig: d sin = cos)
 *       = x²·cos(x) + 2x·sin(x)
 * In latex, an aligned environment with \text{(rule)} columns.  No
 * trailing newline.  At most 300 lines; deeper steps are summarised. */
bool sl_explain_diff(SlBuf *out, SlExpr *e, const char *var, SlStyle style, SlError *err);

#endif
