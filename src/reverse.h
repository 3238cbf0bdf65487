/* reverse.h -- reverse-mode differentiation: a tape over MPFR scalars.
 *
 * Operations are recorded as they execute (so a `def` function's loops and
 * branches are followed as run): each node is appended to the tape with its
 * operation, operand node indices and value.  Creation order is a
 * topological order, so backward is one reverse sweep over the array —
 * iterative, no recursion limit — accumulating each node's adjoint with +=
 * (a node used twice receives both contributions).  The cost of a gradient
 * is a small constant times the cost of recording, whatever the number of
 * inputs.
 *
 * Ownership: the tape owns all node values and adjoints (allocated in
 * blocks, not one malloc per node); node indices stay valid until
 * sl_tape_free or sl_tape_reset.
 */
#ifndef SL_REVERSE_H
#define SL_REVERSE_H

#include <stdbool.h>
#include <stddef.h>

#include <mpfr.h>

#include "error.h"
#include "num.h"

typedef struct SlTape SlTape;
typedef size_t SlNode; /* index of a node in its tape */

SlTape *sl_tape_new(mpfr_prec_t prec);
void sl_tape_free(SlTape *t);
void sl_tape_reset(SlTape *t);            /* drop every node, keep the memory */
mpfr_prec_t sl_tape_prec(const SlTape *t);
size_t sl_tape_size(const SlTape *t);     /* nodes recorded */

SlNode sl_tape_var(SlTape *t, mpfr_srcptr value);   /* an input */
SlNode sl_tape_const(SlTape *t, mpfr_srcptr value); /* a constant (no adjoint needed) */

/* out = a op b for SL_OP_ADD, SUB, MUL, DIV, POW, FLOORDIV, MOD; errors in
 * Python's words ("float division by zero", "math domain error: ..."). */
bool sl_tape_binop(SlTape *t, int op, SlNode a, SlNode b, SlNode *out, SlError *err);
bool sl_tape_neg(SlTape *t, SlNode a, SlNode *out);
/* out = fn(args...), every SlMathFn (min/max with any number of args). */
bool sl_tape_fn(SlTape *t, SlMathFn fn, const SlNode *args, int nargs, SlNode *out, SlError *err);

mpfr_srcptr sl_tape_value(const SlTape *t, SlNode n);

/* Zero all adjoints, seed adjoint(output) = 1, sweep backwards. */
void sl_tape_backward(SlTape *t, SlNode output);
mpfr_srcptr sl_tape_adjoint(const SlTape *t, SlNode n);

#endif
