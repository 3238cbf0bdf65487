/* ad.h -- the differentiation engines as the language sees them.
 *
 * Glue between the evaluator and the three engines: forward-mode Taylor
 * numbers and reverse-mode tape numbers are SL_OBJECT values that take
 * part in arithmetic through the SlObjType hooks, so any user function —
 * a one-liner or a `def` with loops and branches — runs on them unchanged.
 * Symbolic derivatives come from diff.h on the expression a function
 * builds when called with symbols.
 *
 * Exactness: a derivative computed from integer inputs by exact integer
 * operations only (+, -, *, non-negative integer powers) is returned as an
 * int, so f'(1) is 3 for f(x) = x² + x − 6 whichever engine computes it;
 * anything else is a float at the session precision.  The engines run with
 * guard bits and round once at the end.
 */
#ifndef SL_AD_H
#define SL_AD_H

#include "builtins.h"
#include "eval.h"
#include "expr.h"

typedef enum SlEngine {
    SL_ENGINE_REVERSE,  /* the tape (default) */
    SL_ENGINE_FORWARD,  /* Taylor numbers */
    SL_ENGINE_SYMBOLIC, /* diff, then substitute */
    SL_ENGINE_FINITE    /* central difference at extra precision (gradcheck) */
} SlEngine;

/* The expression f builds from symbols named after its parameters (for a
 * derived function, the symbolic derivative).  NULL + error when f cannot
 * run on symbols (a branch on a symbol) or is not a function. */
SlExpr *sl_ad_symbolic(SlSession *s, SlValue *f, SlError *err);
/* Parameter names of a callable (borrowed; "x" for builtins). */
size_t sl_ad_params(SlValue *f, const char **names, size_t max);

/* n-th derivative of a one-variable function or expression at a point. */
SlValue *sl_ad_derivative(SlSession *s, SlValue *f, SlValue *at, long n, SlEngine eng, SlError *err);
/* Gradient at a point (a list of numbers): a list.  A function of one
 * parameter given a list of several numbers takes the list as its argument. */
SlValue *sl_ad_grad(SlSession *s, SlValue *f, SlValue *point, SlEngine eng, SlError *err);

/* Call a derived function f' (order >= 1) with evaluated arguments. */
SlValue *sl_ad_call_derived(SlSession *s, SlFunc *f, SlValue **args, size_t nargs, SlError *err);
/* f' as a value: a derived function of f (a user function or a builtin). */
SlValue *sl_ad_prime(SlSession *s, SlValue *f, const char *name, int order, SlError *err);

/* The builtins this module provides (diff, grad, derivative, ...),
 * looked up by builtins.c. */
const SlBuiltin *sl_ad_builtin_lookup(const char *name);
const SlBuiltin *sl_ad_builtin_at(size_t i);

/* explain(diff(e, x)) as the evaluator's special form. */
SlValue *sl_ad_explain(SlSession *s, SlValue *e, SlValue *var, SlError *err);

#endif
