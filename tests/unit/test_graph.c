/* test_graph.c -- graph.h through its C API: the tree of a small network's
 * autograd graph and of an expression's DAG (exact text, unicode and
 * ASCII), their DOT parsed back and checked against the graph itself
 * (every node once, every edge from an input to the node using it, once
 * per use, labels naming the operations), deep graphs (bounded lines,
 * nothing lost), and backward's trace: the same gradients, bit for bit,
 * as an untraced backward, the chain-rule lines of seed 001's example,
 * the same graph-freeing rules, and no leaks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "expr.h"
#include "graph.h"
#include "nnops.h"
#include "num.h"
#include "tensor.h"

/* ---- helpers ---- */

static SlTensor *filled(int ndim, const int64_t *shape, const double *v, bool requires_grad)
{
    SlError err = {0};
    SlTensor *t = sl_tensor_zeros(SL_DT_F32, ndim, shape, 0, &err);
    ck_assert_ptr_nonnull(t);
    for (int64_t i = 0; i < sl_tensor_numel(t); i++)
        sl_tensor_set_d(t, i, v[i]);
    t->requires_grad = requires_grad;
    return t;
}

typedef struct Net {
    SlTensor *w1, *b1, *w2, *b2; /* leaves */
    SlTensor *loss;              /* mse(sigmoid(linear(relu(linear(x))))) */
} Net;

static Net net_new(void)
{
    static const double w1[] = {0.1, -0.2, 0.3, 0.4, 0.5, -0.6, -0.7, 0.8, 0.9, 0.05, -0.15, 0.25};
    static const double b1[] = {0.01, -0.02, 0.03, 0.04};
    static const double w2[] = {0.5, -0.25, 0.125, 1.0};
    static const double b2[] = {-0.1};
    static const double x[] = {1.0, 2.0, 3.0, -1.0, 0.5, 2.0};
    static const double t[] = {1.0, 0.0};
    Net n;
    n.w1 = filled(2, (int64_t[]){4, 3}, w1, true);
    n.b1 = filled(1, (int64_t[]){4}, b1, true);
    n.w2 = filled(2, (int64_t[]){1, 4}, w2, true);
    n.b2 = filled(1, (int64_t[]){1}, b2, true);
    SlTensor *xs = filled(2, (int64_t[]){2, 3}, x, false), *ts = filled(2, (int64_t[]){2, 1}, t, false);
    SlError err = {0};
    SlTensor *h1 = sl_ag_linear(xs, n.w1, n.b1, &err);
    SlTensor *r = sl_ag_unary(SL_FN_RELU, h1, &err);
    SlTensor *h2 = sl_ag_linear(r, n.w2, n.b2, &err);
    SlTensor *p = sl_ag_unary(SL_FN_SIGMOID, h2, &err);
    n.loss = sl_ag_mse_loss(p, ts, SL_RED_MEAN, &err);
    ck_assert_msg(!err.set, "%s", err.msg);
    sl_tensor_unref(h1);
    sl_tensor_unref(r);
    sl_tensor_unref(h2);
    sl_tensor_unref(p);
    sl_tensor_unref(xs);
    sl_tensor_unref(ts);
    return n;
}

static void net_free(Net *n)
{
    sl_tensor_unref(n->w1);
    sl_tensor_unref(n->b1);
    sl_tensor_unref(n->w2);
    sl_tensor_unref(n->b2);
    sl_tensor_unref(n->loss);
}

static SlGraphNames net_names(const Net *n)
{
    SlGraphNames nm = {0};
    sl_graph_names_add(&nm, n->loss, "loss");
    sl_graph_names_add(&nm, n->w1, "l1.weight");
    sl_graph_names_add(&nm, n->b1, "l1.bias");
    sl_graph_names_add(&nm, n->w2, "l2.weight");
    sl_graph_names_add(&nm, n->b2, "l2.bias");
    return nm;
}

static void expect_text(const char *got, const char *want)
{
    ck_assert_msg(strcmp(got, want) == 0, "expected:\n%s\ngot:\n%s", want, got);
}

/* ---- a DOT reader: just what graph.c writes, strictly ---- */

#define DOT_MAX 20000

typedef struct DotGraph {
    int nnodes, nedges;
    long ids[DOT_MAX];       /* node ids, in order of declaration */
    char *labels[DOT_MAX];   /* their labels, unescaped (malloc'd) */
    long from[DOT_MAX], to[DOT_MAX];
} DotGraph;

static int dot_index(const DotGraph *g, long id)
{
    for (int i = 0; i < g->nnodes; i++)
        if (g->ids[i] == id)
            return i;
    return -1;
}

/* Parse text into g; fails the test on anything unexpected. */
static void dot_parse(const char *text, DotGraph *g)
{
    memset(g, 0, sizeof *g);
    const char *p = text;
    ck_assert_msg(strncmp(p, "digraph slope {\n", 16) == 0, "header: %.40s", p);
    p += 16;
    ck_assert_msg(strncmp(p, "  node [", 8) == 0, "node defaults: %.40s", p);
    p = strchr(p, '\n') + 1;
    while (*p && strcmp(p, "}\n") != 0) {
        const char *eol = strchr(p, '\n');
        ck_assert_ptr_nonnull(eol);
        long a, b;
        int used = 0;
        if (sscanf(p, "  n%ld -> n%ld;%n", &a, &b, &used) == 2 && p + used == eol) {
            ck_assert_int_lt(g->nedges, DOT_MAX);
            g->from[g->nedges] = a;
            g->to[g->nedges++] = b;
        } else if (sscanf(p, "  n%ld [label=\"%n", &a, &used) == 1 && used > 0) {
            const char *q = p + used;
            char *label = malloc((size_t)(eol - q) + 1);
            size_t k = 0;
            for (; *q != '"'; q++) {
                ck_assert_msg(q < eol, "unterminated label: %.60s", p);
                if (*q == '\\') {
                    q++;
                    label[k++] = *q == 'n' ? '\n' : *q;
                } else {
                    label[k++] = *q;
                }
            }
            label[k] = '\0';
            ck_assert_msg(strncmp(eol - 2, "];", 2) == 0, "node line: %.*s", (int)(eol - p), p);
            ck_assert_msg(dot_index(g, a) < 0, "node n%ld declared twice", a);
            ck_assert_int_lt(g->nnodes, DOT_MAX);
            g->ids[g->nnodes] = a;
            g->labels[g->nnodes++] = label;
        } else {
            ck_abort_msg("unexpected DOT line: %.*s", (int)(eol - p), p);
        }
        p = eol + 1;
    }
    ck_assert_msg(strcmp(p, "}\n") == 0, "DOT does not end with '}'");
    for (int i = 0; i < g->nedges; i++)
        ck_assert_msg(dot_index(g, g->from[i]) >= 0 && dot_index(g, g->to[i]) >= 0, "edge n%ld -> n%ld: no such node",
                      g->from[i], g->to[i]);
}

static void dot_free(DotGraph *g)
{
    for (int i = 0; i < g->nnodes; i++)
        free(g->labels[i]);
}

/* The graph's own structure, numbered in the same depth-first preorder
 * (recursively: these graphs are small). */
typedef struct Order {
    const void *nodes[DOT_MAX];
    int n;
} Order;

static int order_find(const Order *o, const void *x)
{
    for (int i = 0; i < o->n; i++)
        if (o->nodes[i] == x)
            return i;
    return -1;
}

static void order_nodes(Order *o, const SlNode *n)
{
    if (order_find(o, n) >= 0)
        return;
    o->nodes[o->n++] = n;
    for (int i = 0; i < n->nnext; i++)
        if (n->next[i])
            order_nodes(o, n->next[i]);
}

static void order_exprs(Order *o, const SlExpr *e)
{
    if (order_find(o, e) >= 0)
        return;
    o->nodes[o->n++] = e;
    for (size_t i = 0; i < e->nargs; i++)
        order_exprs(o, e->args[i]);
}

/* The DOT's edges, as (input, user) pairs of graph nodes, must be exactly
 * the graph's edges, with multiplicity. */
static void check_edges(const DotGraph *g, const Order *o, bool tensor)
{
    int expected = 0;
    for (int k = 0; k < o->n; k++) {
        size_t nin = tensor ? (size_t)((const SlNode *)o->nodes[k])->nnext : ((const SlExpr *)o->nodes[k])->nargs;
        for (size_t i = 0; i < nin; i++) {
            const void *in = tensor ? (const void *)((const SlNode *)o->nodes[k])->next[i]
                                    : (const void *)((const SlExpr *)o->nodes[k])->args[i];
            if (!in)
                continue;
            expected++;
            /* the pair (in -> node k) must occur in the DOT as often as in the graph */
            long a = order_find(o, in) + 1, b = k + 1;
            int in_graph = 0, in_dot = 0;
            for (size_t j = 0; j < nin; j++) {
                const void *in2 = tensor ? (const void *)((const SlNode *)o->nodes[k])->next[j]
                                         : (const void *)((const SlExpr *)o->nodes[k])->args[j];
                in_graph += in2 == in;
            }
            for (int e = 0; e < g->nedges; e++)
                in_dot += g->from[e] == a && g->to[e] == b;
            ck_assert_msg(in_dot == in_graph, "edge n%ld -> n%ld: %d in the DOT, %d in the graph", a, b, in_dot,
                          in_graph);
        }
    }
    ck_assert_int_eq(g->nedges, expected);
}

/* ---- tensor graphs ---- */

static const char net_tree[] =
    "[1] MseLossBackward0                  () float32  loss\n"
    "└─ [2] SigmoidBackward0               (2, 1) float32\n"
    "   └─ [3] AddmmBackward0              (2, 1) float32\n"
    "      ├─ [4] AccumulateGrad           (1,) float32  l2.bias (leaf, requires_grad=True)\n"
    "      ├─ [5] ReluBackward0            (2, 4) float32\n"
    "      │  └─ [6] AddmmBackward0        (2, 4) float32\n"
    "      │     ├─ [7] AccumulateGrad     (4,) float32  l1.bias (leaf, requires_grad=True)\n"
    "      │     └─ [8] TBackward0         (3, 4) float32\n"
    "      │        └─ [9] AccumulateGrad  (4, 3) float32  l1.weight (leaf, requires_grad=True)\n"
    "      └─ [10] TBackward0              (4, 1) float32\n"
    "         └─ [11] AccumulateGrad       (1, 4) float32  l2.weight (leaf, requires_grad=True)\n";

START_TEST(test_tensor_tree)
{
    Net n = net_new();
    SlGraphNames nm = net_names(&n);
    SlBuf b;
    sl_buf_init(&b);
    sl_graph_tensor_tree(&b, n.loss, &nm, false);
    expect_text(b.s, net_tree);
    b.len = 0;
    sl_graph_tensor_tree(&b, n.loss, &nm, true);
    ck_assert_ptr_nonnull(strstr(b.s, "`- [2] SigmoidBackward0"));
    ck_assert_ptr_nonnull(strstr(b.s, "      |     |- [7] AccumulateGrad"));
    for (const char *p = b.s; *p; p++)
        ck_assert_msg((unsigned char)*p < 0x80, "non-ASCII in the ascii tree:\n%s", b.s);
    /* without names, and for tensors without a graph */
    b.len = 0;
    sl_graph_tensor_tree(&b, n.loss, NULL, false);
    ck_assert_ptr_nonnull(strstr(b.s, "[9] AccumulateGrad  (4, 3) float32  (leaf, requires_grad=True)\n"));
    b.len = 0;
    sl_graph_tensor_tree(&b, n.w1, &nm, false);
    expect_text(b.s, "l1.weight: leaf tensor (4, 3) float32, requires_grad=True: no graph until an operation uses "
                     "it\n");
    SlTensor *plain = sl_tensor_zeros(SL_DT_F64, 0, NULL, 0, &(SlError){0});
    b.len = 0;
    sl_graph_tensor_tree(&b, plain, NULL, false);
    expect_text(b.s, "tensor () float64, requires_grad=False: no graph (no input required grad, or it was made "
                     "under no_grad)\n");
    sl_tensor_unref(plain);
    sl_buf_free(&b);
    sl_graph_names_free(&nm);
    net_free(&n);
    ck_assert_int_eq(sl_node_live(), 0);
}
END_TEST

START_TEST(test_tensor_dot)
{
    Net n = net_new();
    SlGraphNames nm = net_names(&n);
    SlBuf b;
    sl_buf_init(&b);
    SlError err = {0};
    ck_assert(sl_graph_tensor_dot(&b, n.loss, &nm, &err));
    static DotGraph g;
    dot_parse(b.s, &g);
    static Order o;
    o.n = 0;
    order_nodes(&o, n.loss->grad_fn);
    ck_assert_int_eq(g.nnodes, o.n);
    ck_assert_int_eq(o.n, 11);
    for (int k = 0; k < o.n; k++) {
        const SlNode *node = o.nodes[k];
        int i = dot_index(&g, k + 1);
        ck_assert_msg(i >= 0, "no DOT node n%d", k + 1);
        /* first line: the operation; a leaf's label names its variable */
        const char *nl = strchr(g.labels[i], '\n');
        ck_assert_ptr_nonnull(nl);
        ck_assert_msg(strncmp(g.labels[i], sl_node_name(node), (size_t)(nl - g.labels[i])) == 0 &&
                          strlen(sl_node_name(node)) == (size_t)(nl - g.labels[i]),
                      "n%d is labelled %s, the node is %s", k + 1, g.labels[i], sl_node_name(node));
        if (node->kind == SL_N_ACCUMULATE)
            ck_assert_ptr_nonnull(strstr(g.labels[i], "requires_grad=True"));
    }
    ck_assert_ptr_nonnull(strstr(g.labels[dot_index(&g, 9)], "(4, 3) float32\nl1.weight"));
    check_edges(&g, &o, true);
    /* a tensor without a graph has no DOT */
    b.len = 0;
    ck_assert(!sl_graph_tensor_dot(&b, n.w1, &nm, &err));
    ck_assert(err.set);
    sl_err_clear(&err);
    dot_free(&g);
    sl_buf_free(&b);
    sl_graph_names_free(&nm);
    net_free(&n);
}
END_TEST

/* y = y * 1.5 + x, steps times: a deep graph */
static SlTensor *chain(SlTensor *x, int steps)
{
    SlError err = {0};
    SlTensor *y = sl_tensor_ref(x);
    SlTensor *k = sl_tensor_scalar_d(SL_DT_F64, 1.5, 0);
    k->wrapped = true;
    for (int i = 0; i < steps; i++) {
        SlTensor *m = sl_ag_binary(SL_T_MUL, y, k, &err);
        SlTensor *a = sl_ag_binary(SL_T_ADD, m, x, &err);
        sl_tensor_unref(m);
        sl_tensor_unref(y);
        y = a;
    }
    ck_assert(!err.set);
    sl_tensor_unref(k);
    return y;
}

START_TEST(test_deep_graphs)
{
    SlTensor *x = filled(1, (int64_t[]){1}, (double[]){1.0}, true);
    /* 300 nodes: all shown, no line wider than the indentation limit allows */
    SlTensor *y = chain(x, 150);
    SlBuf b;
    sl_buf_init(&b);
    sl_graph_tensor_tree(&b, y, NULL, false);
    int lines = 0, numbered = 0;
    for (char *p = b.s; *p;) {
        char *eol = strchr(p, '\n');
        size_t cols = 0;
        for (char *q = p; q < eol; q++)
            cols += ((unsigned char)*q & 0xC0) != 0x80;
        ck_assert_msg(cols < 110, "line %d is %zu columns: %.*s", lines + 1, cols, (int)(eol - p), p);
        lines++;
        *eol = '\0';
        numbered += !strstr(p, "see [") && !strstr(p, "(continued)");
        *eol = '\n';
        p = eol + 1;
    }
    ck_assert_ptr_nonnull(strstr(b.s, "→ continued below"));
    ck_assert_ptr_nonnull(strstr(b.s, "(continued)\n"));
    ck_assert_ptr_nonnull(strstr(b.s, "  └─ [12] AccumulateGrad    (1,) float32  (leaf, requires_grad=True)\n"));
    ck_assert_ptr_nonnull(strstr(b.s, "[301] "));
    ck_assert_ptr_null(strstr(b.s, "[302]"));
    ck_assert_int_eq(numbered, 301);
    /* the DOT has every node and edge */
    b.len = 0;
    SlError err = {0};
    ck_assert(sl_graph_tensor_dot(&b, y, NULL, &err));
    static DotGraph g;
    dot_parse(b.s, &g);
    ck_assert_int_eq(g.nnodes, 301);
    ck_assert_int_eq(g.nedges, 150 + 2 * 150); /* y into each *, y * 1.5 and x into each + */
    dot_free(&g);
    sl_tensor_unref(y);
    /* beyond SL_GRAPH_TREE_MAX nodes the tree stops and says so */
    y = chain(x, 3000);
    b.len = 0;
    sl_graph_tensor_tree(&b, y, NULL, false);
    ck_assert_ptr_nonnull(strstr(b.s, "… (1000 of 6001 nodes shown; graph(..., file=\"g.dot\") writes them all)\n"));
    sl_tensor_unref(y);
    sl_buf_free(&b);
    sl_tensor_unref(x);
    ck_assert_int_eq(sl_node_live(), 0);
}
END_TEST

/* ---- expressions ---- */

START_TEST(test_expr_tree_and_dot)
{
    sl_expr_set_style(SL_STYLE_UNICODE);
    size_t base = sl_expr_live_count();
    SlExpr *x = sl_expr_sym("x"), *two = sl_expr_int(2);
    SlExpr *x2 = sl_expr_pow(x, two), *s = sl_expr_fn(SL_FN_SIN, &x, 1);
    SlExpr *sx = sl_expr_mul(s, x), *e = sl_expr_add(x2, sx);
    SlBuf b;
    sl_buf_init(&b);
    sl_graph_expr_tree(&b, e, false);
    expect_text(b.s, "[1] +          x² + sin(x)·x\n"
                     "├─ [2] ^       x²\n"
                     "│  ├─ [3] x\n"
                     "│  └─ [4] 2\n"
                     "└─ [5] ·       sin(x)·x\n"
                     "   ├─ [6] sin  sin(x)\n"
                     "   │  └─ ↑ see [3] x\n"
                     "   └─ ↑ see [3] x\n");
    b.len = 0;
    sl_graph_expr_tree(&b, e, true);
    expect_text(b.s, "[1] +          x^2 + sin(x)*x\n"
                     "|- [2] ^       x^2\n"
                     "|  |- [3] x\n"
                     "|  `- [4] 2\n"
                     "`- [5] *       sin(x)*x\n"
                     "   |- [6] sin  sin(x)\n"
                     "   |  `- ^ see [3] x\n"
                     "   `- ^ see [3] x\n");
    b.len = 0;
    SlError err = {0};
    ck_assert(sl_graph_expr_dot(&b, e, &err));
    static DotGraph g;
    dot_parse(b.s, &g);
    static Order o;
    o.n = 0;
    order_exprs(&o, e);
    ck_assert_int_eq(g.nnodes, (int)sl_expr_node_count(e));
    ck_assert_int_eq(g.nnodes, o.n);
    static const char *const first[] = {"+", "^", "x", "2", "·", "sin"};
    for (int k = 0; k < o.n; k++) {
        const char *label = g.labels[dot_index(&g, k + 1)];
        size_t len = strcspn(label, "\n");
        ck_assert_msg(strlen(first[k]) == len && strncmp(label, first[k], len) == 0, "n%d: %s", k + 1, label);
    }
    ck_assert_str_eq(g.labels[dot_index(&g, 1)], "+\nx² + sin(x)·x");
    check_edges(&g, &o, false);
    dot_free(&g);
    sl_buf_free(&b);
    SlExpr *all[] = {x, two, x2, s, sx, e};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_expr_unref(all[i]);
    ck_assert_uint_eq(sl_expr_live_count(), base);
}
END_TEST

/* ---- the trace ---- */

static char *traced(SlTensor *root, SlTensor *gradient, bool retain, const SlGraphNames *nm, const char *name,
                    bool *ok, SlError *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    *ok = sl_graph_backward_trace(f, root, gradient, retain, nm, name, false, err);
    fclose(f);
    return text;
}

static void same_bits(const SlTensor *a, const SlTensor *b)
{
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(sl_tensor_numel(a), sl_tensor_numel(b));
    for (int64_t i = 0; i < sl_tensor_numel(a); i++) {
        double x = sl_tensor_get_d(a, i), y = sl_tensor_get_d(b, i);
        ck_assert_msg(memcmp(&x, &y, sizeof x) == 0, "element %lld: %a vs %a", (long long)i, x, y);
    }
}

START_TEST(test_trace_computes_the_same)
{
    Net a = net_new(), t = net_new();
    SlGraphNames nm = net_names(&t);
    SlError err = {0};
    ck_assert(sl_ag_backward(a.loss, NULL, true, &err));
    bool ok;
    char *text = traced(t.loss, NULL, true, &nm, "loss", &ok, &err);
    ck_assert_msg(ok, "%s", err.msg);
    same_bits(a.w1->grad, t.w1->grad);
    same_bits(a.b1->grad, t.b1->grad);
    same_bits(a.w2->grad, t.w2->grad);
    same_bits(a.b2->grad, t.b2->grad);
    /* the engine's order, with the tree's numbers */
    const char *order[] = {"[1] MseLossBackward0 (loss): in", "[2] SigmoidBackward0: in", "[3] AddmmBackward0: in",
                           "[4] AccumulateGrad (l2.bias): in", "[10] TBackward0: in",
                           "[11] AccumulateGrad (l2.weight): in", "[5] ReluBackward0: in", "[6] AddmmBackward0: in",
                           "[7] AccumulateGrad (l1.bias): in", "[8] TBackward0: in",
                           "[9] AccumulateGrad (l1.weight): in"};
    const char *p = text;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *q = strstr(p, order[i]);
        ck_assert_msg(q, "step %zu (%s) missing or out of order in:\n%s", i + 1, order[i], text);
        p = q;
    }
    free(text);
    /* retained: a second traced backward accumulates, as an untraced one does */
    ck_assert(sl_ag_backward(a.loss, NULL, false, &err));
    text = traced(t.loss, NULL, false, &nm, "loss", &ok, &err);
    ck_assert(ok);
    ck_assert_ptr_nonnull(strstr(text, "l1.weight.grad += "));
    same_bits(a.w1->grad, t.w1->grad);
    same_bits(a.b2->grad, t.b2->grad);
    free(text);
    /* freed: both fail the same way */
    ck_assert(!sl_ag_backward(a.loss, NULL, false, &err));
    char want[sizeof err.msg];
    strcpy(want, err.msg);
    sl_err_clear(&err);
    text = traced(t.loss, NULL, false, &nm, "loss", &ok, &err);
    ck_assert(!ok);
    ck_assert_str_eq(err.msg, want);
    sl_err_clear(&err);
    free(text);
    sl_graph_names_free(&nm);
    net_free(&a);
    net_free(&t);
    ck_assert_int_eq(sl_node_live(), 0);
}
END_TEST

/* Seed 001's backpropagation by hand: y_pred = x*w, loss = (y_pred - y)^2 at
 * x = 1, y = 2, w = 1 (the tutorial's first "grad: 1.0 2.0 tensor(-2.)"),
 * written as loss = (y_pred - y) * (y_pred - y) as the tutorial does. */
START_TEST(test_trace_seed001)
{
    SlTensor *w = filled(1, (int64_t[]){1}, (double[]){1.0}, true);
    SlTensor *one = sl_tensor_scalar_d(SL_DT_F64, 1.0, 0), *two = sl_tensor_scalar_d(SL_DT_F64, 2.0, 0);
    one->wrapped = two->wrapped = true;
    SlError err = {0};
    SlTensor *yp = sl_ag_binary(SL_T_MUL, one, w, &err);
    SlTensor *d = sl_ag_binary(SL_T_SUB, yp, two, &err);
    SlTensor *l = sl_ag_binary(SL_T_MUL, d, d, &err);
    SlGraphNames nm = {0};
    sl_graph_names_add(&nm, w, "w");
    sl_graph_names_add(&nm, yp, "y_pred");
    bool ok;
    char *text = traced(l, NULL, false, &nm, "l", &ok, &err);
    ck_assert(ok);
    expect_text(text, "backward from l in the engine's order, nodes numbered as graph(l) numbers them\n"
                      "each node passes on: gradient in × its local derivative = gradient to the input\n"
                      "[1] MulBackward0 (l): in tensor([1.])\n"
                      "    → [2] SubBackward0: tensor([1.]) × tensor([-1.]) = tensor([-1.])\n"
                      "    → [2] SubBackward0: tensor([1.]) × tensor([-1.]) = tensor([-1.])\n"
                      "[2] SubBackward0: in tensor([-2.]) (the sum of 2 gradients)\n"
                      "    → [3] MulBackward0 (y_pred): tensor([-2.]) × tensor([1.]) = tensor([-2.])\n"
                      "[3] MulBackward0 (y_pred): in tensor([-2.])\n"
                      "    → [4] AccumulateGrad (w): tensor([-2.]) × tensor([1.]) = tensor([-2.])\n"
                      "[4] AccumulateGrad (w): in tensor([-2.])\n"
                      "    w.grad = tensor([-2.])\n");
    ck_assert_double_eq(sl_tensor_get_d(w->grad, 0), -2.0);
    free(text);
    SlTensor *all[] = {w, one, two, yp, d, l};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_tensor_unref(all[i]);
    sl_graph_names_free(&nm);
    ck_assert_int_eq(sl_node_live(), 0);
}
END_TEST

START_TEST(test_trace_gradient_and_broadcast)
{
    /* s = (a * c).sum() with c broadcast: the chain rule summed to c's shape;
     * gradient= on a non-scalar root */
    SlTensor *a = filled(1, (int64_t[]){2}, (double[]){1, 2}, true);
    SlTensor *c = filled(1, (int64_t[]){1}, (double[]){0.5}, true);
    SlError err = {0};
    SlTensor *m = sl_ag_binary(SL_T_MUL, a, c, &err);
    SlTensor *g = filled(1, (int64_t[]){2}, (double[]){1, -1}, false);
    bool ok;
    char *text = traced(m, g, false, NULL, NULL, &ok, &err);
    ck_assert(ok);
    ck_assert_ptr_nonnull(strstr(text, "backward in the engine's order"));
    ck_assert_ptr_nonnull(strstr(text, "[1] MulBackward0: in tensor([ 1., -1.])\n"));
    ck_assert_ptr_nonnull(strstr(text, "    → [2] AccumulateGrad: tensor([ 1., -1.]) × tensor([0.5000, 0.5000]) = "
                                       "tensor([ 0.5000, -0.5000])\n"));
    ck_assert_ptr_nonnull(strstr(text, "    → [3] AccumulateGrad: tensor([ 1., -1.]) × tensor([1., 2.]), summed to "
                                       "(1,) = tensor([-1.])\n"));
    ck_assert_double_eq(sl_tensor_get_d(c->grad, 0), -1.0);
    ck_assert_double_eq(sl_tensor_get_d(a->grad, 1), -0.5);
    free(text);
    /* large tensors print by shape */
    SlTensor *big = sl_tensor_full_d(SL_DT_F32, 2, (int64_t[]){5, 5}, 0, 1.0, &err);
    big->requires_grad = true;
    SlTensor *sum = sl_ag_sum(big, 0, true, false, &err);
    text = traced(sum, NULL, false, NULL, "sum", &ok, &err);
    ck_assert(ok);
    ck_assert_ptr_nonnull(strstr(text, "= tensor of shape (5, 5)\n"));
    free(text);
    SlTensor *all[] = {a, c, m, g, big, sum};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_tensor_unref(all[i]);
    ck_assert_int_eq(sl_node_live(), 0);
}
END_TEST

START_TEST(test_no_leaks)
{
    long t0 = sl_tensor_live(), s0 = sl_storage_live();
    for (int i = 0; i < 50; i++) {
        Net n = net_new();
        SlGraphNames nm = net_names(&n);
        SlBuf b;
        sl_buf_init(&b);
        sl_graph_tensor_tree(&b, n.loss, &nm, i % 2);
        SlError err = {0};
        ck_assert(sl_graph_tensor_dot(&b, n.loss, &nm, &err));
        bool ok;
        char *text = traced(n.loss, NULL, false, &nm, NULL, &ok, &err);
        ck_assert(ok);
        free(text);
        sl_graph_tensor_tree(&b, n.loss, &nm, false); /* after backward: saved values freed */
        ck_assert_ptr_nonnull(strstr(b.s, "(saved values freed)"));
        sl_buf_free(&b);
        sl_graph_names_free(&nm);
        net_free(&n);
    }
    ck_assert_int_eq(sl_tensor_live(), t0);
    ck_assert_int_eq(sl_storage_live(), s0);
    ck_assert_int_eq(sl_node_live(), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *su = suite_create("graph");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_tensor_tree);
    tcase_add_test(tc, test_tensor_dot);
    tcase_add_test(tc, test_deep_graphs);
    tcase_add_test(tc, test_expr_tree_and_dot);
    tcase_add_test(tc, test_trace_computes_the_same);
    tcase_add_test(tc, test_trace_seed001);
    tcase_add_test(tc, test_trace_gradient_and_broadcast);
    tcase_add_test(tc, test_no_leaks);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    sl_num_set_prec(53);
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
