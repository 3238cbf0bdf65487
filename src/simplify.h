/* simplify.h -- the simplifier: results that read like a textbook.
 *
 * sl_simplify is the cheap default applied to every derivative: flatten
 * sums and products, collect like terms and like factors with exact
 * rational coefficients, fold constants, apply the identities (x + 0,
 * 1·x, x^1, x^0, 0·x) and order terms by degree then name
 * (x² + x − 6, 3x²·y² + y·cos(x·y)).  It is linear-ish in the DAG size and
 * memoised per node, so shared subexpressions are simplified once.
 * sl_expand multiplies out products and integer powers of sums;
 * sl_factor factors polynomials with integer coefficients (one or more
 * variables: content, then square-free, then rational roots / Kronecker or
 * Zassenhaus as implemented); sl_simplify_full tries harder (expand +
 * collect + factor, trigonometric and exp/log identities) and keeps the
 * smallest result.
 */
#ifndef SL_SIMPLIFY_H
#define SL_SIMPLIFY_H

#include "expr.h"

SlExpr *sl_simplify(SlExpr *e);
SlExpr *sl_expand(SlExpr *e);
SlExpr *sl_factor(SlExpr *e, SlError *err);
SlExpr *sl_simplify_full(SlExpr *e);

/* The pieces of sl_simplify for callers that build results from parts
 * that are already simplified (diff.c): arguments borrowed, results new. */
SlExpr *sl_simplify_add(SlExpr *const *terms, size_t n);
SlExpr *sl_simplify_mul(SlExpr *const *factors, size_t n);
SlExpr *sl_simplify_pow(SlExpr *b, SlExpr *x);
SlExpr *sl_simplify_fn(SlMathFn fn, SlExpr *const *args, size_t n);
/* The order of terms in a simplified sum: < 0 when a goes before b. */
int sl_simplify_order_terms(const SlExpr *a, const SlExpr *b);

#endif
