/* graph.h -- pictures of computational graphs: graph(y) for a tensor's
 * autograd graph and for a symbolic expression's DAG, as an indented tree
 * or as Graphviz DOT, and the live trace of y.backward(trace=True).
 *
 * Trees: one line per node, from the root down to the leaves, numbered
 * [1], [2], ... in that (depth-first, inputs in order) order; a node
 * reached a second time is a back-reference ("↑ see [3] MulBackward0")
 * and is not expanded again.  A tensor node shows its grad_fn name, the
 * shape and dtype of what it produced, the global name bound to it if any,
 * and for a leaf (AccumulateGrad) that it requires grad.  An expression
 * node shows its operator (+ · ^, a function name) or the leaf (symbol,
 * number, constant), and the text of small subexpressions.  Box-drawing
 * characters, or ASCII under :style ascii.
 *
 * DOT: "digraph slope { ... }", nodes n1, n2, ... numbered as in the tree,
 * each with a label; an edge from each input to the node that uses it.
 *
 * Ownership: everything here borrows its tensors and expressions; output
 * is appended to an SlBuf the caller owns.
 */
#ifndef SL_GRAPH_H
#define SL_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "autograd.h"
#include "builtins.h"
#include "expr.h"
#include "tensor.h"
#include "value.h"

/* Trees longer than this many nodes stop with a line saying how many were
 * left out (DOT output has every node, up to SL_GRAPH_DOT_MAX). */
#define SL_GRAPH_TREE_MAX 1000
#define SL_GRAPH_DOT_MAX 200000

/* Names for tensors in pictures: a leaf by its tensor, a result by its
 * grad_fn node.  The first name given to one of them wins. */
typedef struct SlGraphNames {
    const void **keys;  /* a leaf SlTensor or an SlNode */
    char **names;       /* malloc'd */
    size_t n, cap;      /* entries used / allocated */
} SlGraphNames;

void sl_graph_names_add(SlGraphNames *nm, const SlTensor *t, const char *name);
/* Every tensor bound to a global of the session, and the parameters of
 * every module bound to one ("l1.weight", "model.0.bias"). */
void sl_graph_names_add_session(SlGraphNames *nm, SlSession *s);
void sl_graph_names_free(SlGraphNames *nm);

/* The tree of t's graph (names may be NULL).  A tensor without a graph
 * (a leaf, or made without requires_grad or under no_grad) gets one line
 * saying so.  Every line ends with '\n'. */
void sl_graph_tensor_tree(SlBuf *out, const SlTensor *t, const SlGraphNames *names, bool ascii);
/* The DOT of t's graph; false + SL_E_LIMIT beyond SL_GRAPH_DOT_MAX nodes,
 * or SL_E_VALUE for a tensor without a graph. */
bool sl_graph_tensor_dot(SlBuf *out, const SlTensor *t, const SlGraphNames *names, SlError *err);

/* The same for a symbolic expression (its DAG: shared subexpressions once). */
void sl_graph_expr_tree(SlBuf *out, const SlExpr *e, bool ascii);
bool sl_graph_expr_dot(SlBuf *out, const SlExpr *e, SlError *err);

/* root.backward(gradient, retain_graph) with every step written to out as
 * the engine runs it (each step as soon as it is done): the node, its incoming gradient, and for each input
 * the incoming gradient × the local derivative = what it sends (or just
 * what it sends, when the local derivative is no tensor of either shape);
 * an AccumulateGrad step shows the leaf's .grad.  root_name ("loss") may
 * be NULL.  Node numbers are the tree's.  Computes exactly what
 * sl_ag_backward computes. */
bool sl_graph_backward_trace(FILE *out, SlTensor *root, SlTensor *gradient, bool retain_graph,
                             const SlGraphNames *names, const char *root_name, bool ascii, SlError *err);

/* The graph builtin: graph(y), graph(expr), graph(y, file="g.dot"). */
const SlBuiltin *sl_graph_builtin_lookup(const char *name);
const SlBuiltin *sl_graph_builtin_at(size_t i);

#endif
