/* simplify.h -- the simplifier: results that read like a textbook.
 *
 * sl_simplify is the cheap default applied to every derivative: flatten
 * sums and products, collect like terms and like factors with exact
 * rational coefficients, fold constants, apply the identities (x + 0,
 * 1·x, x^1, x^0, 0·x) and order terms by degree then name
 * (x² + x − 6, 3x²·y² + y·cos(x·y)).  It is linear-ish in the DAG size and
 * memoised per node, so shared subexpressions are simplified once; it
 * never multiplies two sums.  The rules and the order are listed at the
 * top of simplify.c.
 * sl_expand multiplies out products and integer powers of sums (up to
 * 20000 terms a product; denominators too: 1/((x − 1)(x + 1)) = 1/(x² − 1)).
 * sl_factor factors polynomials with rational coefficients in any "atoms"
 * (symbols, functions, sums under negative powers): the rational and
 * monomial contents always; the rest when it is univariate or homogeneous
 * in two atoms (x² − y²), by square-free decomposition, rational roots and
 * Kronecker's method within a work bound.  Floats: returned simplified.
 * sl_simplify_full tries the Pythagorean identity, expand, factor and
 * "together" (a common denominator with common factors cancelled) and
 * keeps the shortest text.
 * All take borrowed arguments and return new references.
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
