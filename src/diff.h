/* diff.h -- symbolic differentiation, Taylor polynomials and explain().
 *
 * Works on the hash-consed DAG of expr.h: a derivative is computed once per
 * distinct node (memoised by node pointer during one call), so results
 * share structure and d/dx of deeply shared expressions (the logistic map)
 * stays linear in size.  Results are simplified with sl_simplify.
 * Conventions at non-smooth points, stated in :help diff:
 *   abs'(x) = sign(x) (0 at 0), relu'(x) = heaviside(x) with value 0 at 0
 *   (PyTorch's), max(a, b)' takes a's derivative where a >= b,
 *   floor' = ceil' = round' = 0 where defined.
 */
#ifndef SL_DIFF_H
#define SL_DIFF_H

#include "expr.h"

/* d e / d var. */
SlExpr *sl_diff(SlExpr *e, const char *var, SlError *err);
/* n-th derivative (n >= 0). */
SlExpr *sl_diff_n(SlExpr *e, const char *var, long n, SlError *err);
/* Taylor polynomial of e in var about a, through degree n. */
SlExpr *sl_taylor_poly(SlExpr *e, const char *var, SlExpr *a, long n, SlError *err);
/* Write the derivative step by step, naming the rule at each step. */
bool sl_explain_diff(SlBuf *out, SlExpr *e, const char *var, SlStyle style, SlError *err);

#endif
