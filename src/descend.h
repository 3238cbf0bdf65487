/* descend.h -- gradient descent you can step.
 *
 * A descent minimises a user function (f(x) = ..., a def, a builtin, or an
 * expression) of one variable or several from a starting point x0:
 *
 *     v = momentum·v + ∇f(x);   x = x − lr·v      (momentum 0: x − lr·∇f(x))
 *
 * Every number is a language value and every operation the language's own
 * (sl_binop), so iterates follow the session precision and print as Python
 * prints them: on f(x) = x² + x − 6 from 1 with lr = 0.15 they are Python's
 * 0.55, 0.23500000000000004, 0.014500000000000013, -0.13984999999999997, ...
 * Gradients come from the engine :ad selects (ad.h).
 *
 * After each step the descent judges where it is (status + message):
 * diverging (an iterate, f or the gradient is inf or nan; or f grew 5
 * steps in a row and is above f(x0)), converged (the gradient is 0, or x
 * stopped changing, at a point with nothing lower within 1e-4·max(1, |x|)
 * on any axis), stalled (the same at a point that is not a minimum), and
 * for run(tol=) the rule of the tutorials: |f(xₙ₊₁) − f(xₙ)| ≤ tol.
 *
 * Ownership: a descent owns its function, hyper-parameters and history;
 * the session pointer is borrowed (a descent is a value of that session).
 * Value conventions of value.h (borrowed arguments, new references).
 */
#ifndef SL_DESCEND_H
#define SL_DESCEND_H

#include <stdbool.h>
#include <stdio.h>

#include "builtins.h"
#include "value.h"

typedef enum SlDescentStatus {
    SL_DESCENT_RUNNING,   /* nothing to report */
    SL_DESCENT_CONVERGED, /* at a minimum (gradient 0, x fixed, or |Δf| ≤ tol) */
    SL_DESCENT_DIVERGING, /* growing without bound or not finite */
    SL_DESCENT_STALLED,   /* stuck where f is not lowest */
    SL_DESCENT_OSCILLATING /* jumping back and forth in a 2-cycle */
} SlDescentStatus;

#define SL_DESCENT_RISES 5          /* steps of growing f that mean divergence */
#define SL_DESCENT_MAX_STEPS 10000000L

typedef struct SlDescent {
    SlSession *s;            /* the session (borrowed) */
    SlValue *f;              /* the function (owned) */
    size_t nvars;            /* number of variables */
    bool vector;             /* x is a list (x0 was a list or tuple) */
    bool spread;             /* several variables passed as separate arguments */
    SlValue *lr;             /* learning rate (owned number) */
    SlValue *momentum;       /* heavy-ball coefficient (owned number, 0 for none) */
    SlValue *tol;            /* default tol for run(), or NULL */
    SlValue *xs;             /* iterates x₀ … xₙ: an SL_LIST of numbers or lists (owned) */
    SlValue *fs;             /* f(x₀) … f(xₙ) (owned SL_LIST) */
    SlValue *g;              /* the gradient at xₙ: number or list (owned) */
    SlValue *v;              /* the momentum buffer, as g (owned, NULL before the first step) */
    int rises;               /* consecutive steps in which f grew */
    bool dead;               /* an iterate is not finite: no further steps */
    SlDescentStatus status;  /* the judgement after the last step */
    char why[320];           /* its message ("diverging at step 7: ...") */
    bool header_printed;     /* a trace has started (its header is shown) */
} SlDescent;

/* A new descent at x0 (a number, or a list/tuple of numbers for several
 * variables); lr and momentum are numbers, tol a number or NULL.  Checks
 * f's arity against x0 and computes f(x0) and the gradient there. */
SlDescent *sl_descent_new(SlSession *s, SlValue *f, SlValue *x0, SlValue *lr, SlValue *momentum, SlValue *tol,
                          SlError *err);
void sl_descent_free(SlDescent *d);

/* One step.  *changed is set when the status changed (the caller reports
 * d->why).  False + error when f or its gradient fails; the descent is then
 * unchanged. */
bool sl_descent_step(SlDescent *d, bool *changed, SlError *err);
/* Steps taken (the history holds steps + 1 iterates). */
size_t sl_descent_steps(const SlDescent *d);
/* Iterate n and f there (borrowed). */
SlValue *sl_descent_x(const SlDescent *d, size_t n);
SlValue *sl_descent_fx(const SlDescent *d, size_t n);
/* The function's display names: "f", "x" (or "x, y"); borrowed/static. */
const char *sl_descent_fname(const SlDescent *d);
/* Print the trace header, or the row of iterate n (aligned columns:
 * step, x, f(x), f'(x) or |∇f|). */
void sl_descent_print_header(const SlDescent *d, FILE *out);
void sl_descent_print_row(const SlDescent *d, size_t n, FILE *out);

/* The descent as a language value (takes d), and back (NULL when v is not one). */
SlValue *sl_descent_value(SlDescent *d);
SlDescent *sl_descent_of(const SlValue *v);

/* The descend builtin, looked up by builtins.c. */
const SlBuiltin *sl_descend_builtin_lookup(const char *name);
const SlBuiltin *sl_descend_builtin_at(size_t i);

#endif
