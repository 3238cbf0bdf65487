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

/* Notes for callers (reverse.c has the details and the conventions at
 * non-smooth points, which are PyTorch's):
 *   - A failed operation records nothing and leaves the tape valid: the
 *     nodes recorded so far keep their values, recording may go on, and
 *     sl_tape_backward works on any earlier node.
 *   - min/max record no node: *out is the first argument attaining the
 *     extremum, so the gradient flows to it alone.
 *   - Pointers from sl_tape_value/sl_tape_adjoint stay valid until
 *     sl_tape_reset or sl_tape_free (node storage never moves).  An
 *     adjoint is valid after the latest sl_tape_backward; nodes not on a
 *     path to its output (and nodes recorded after it) read as 0.
 *   - backward may be called again with another output (a jacobian row
 *     per output); each call starts from zero adjoints.
 *   - Values are Python's float results at the tape precision (IEEE double
 *     range at 53 bits); errors are num.c's, word for word.
 *
 * Additions for the evaluator.
 *
 * out = op a for SL_OP_NEG and SL_OP_POS (POS gives a itself), with an
 * error when the tape is full (sl_tape_neg above fails silently then). */
bool sl_tape_unop(SlTape *t, int op, SlNode a, SlNode *out, SlError *err);
/* A constant node: made by sl_tape_const, by an operation on constants
 * only, or by an operation whose derivative is 0 (sign, floor, ceil,
 * round, //, x ** 0).  The evaluator may turn such a result back into a
 * plain number (floor/ceil/round give ints in Python). */
bool sl_tape_is_const(const SlTape *t, SlNode n);
/* Node storage allocated, in bytes (kept across sl_tape_reset). */
size_t sl_tape_bytes(const SlTape *t);
/* binop, unop and fn fail with SL_E_LIMIT ("the reverse-mode tape is
 * full: ...") once recording one more node would take the node storage
 * past this many bytes; sl_tape_var and sl_tape_const never fail. */
#define SL_TAPE_MAX_BYTES ((size_t)2 << 30)
void sl_tape_set_max_bytes(SlTape *t, size_t bytes);
/* When the tape runs with guard bits, the precision the user works at:
 * error messages then show the operands rounded to it ("math domain
 * error: log(-0.1)"), not every guard digit.  0 (the default): the tape's. */
void sl_tape_set_message_prec(SlTape *t, mpfr_prec_t prec);

/* Zero all adjoints, seed adjoint(output) = 1, sweep backwards. */
void sl_tape_backward(SlTape *t, SlNode output);
mpfr_srcptr sl_tape_adjoint(const SlTape *t, SlNode n);

#endif
