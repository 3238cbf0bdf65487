/* graph.c -- graph(y) and graph(expr) as trees and as DOT, and the trace
 * of y.backward(trace=True).
 *
 * One walker serves every picture: a depth-first walk from the root,
 * inputs in order, iterative (an explicit stack, so a graph ten thousand
 * operations deep prints without recursion), that numbers each node the
 * first time it is reached and reports a later arrival as a
 * back-reference.  The tree printer, the DOT writer and the trace all use
 * its numbers, so [3] means the same node in all three.
 */
#include "graph.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "nn.h"
#include "num.h"
#include "tensor_print.h"
#include "tensor_value.h"

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("slope: out of memory\n", stderr);
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = xrealloc(NULL, n);
    memcpy(d, s, n);
    return d;
}

/* Display columns of UTF-8 text (every character here is one column wide). */
static size_t cols(const char *s)
{
    size_t k = 0;
    for (; *s; s++)
        k += ((unsigned char)*s & 0xC0) != 0x80;
    return k;
}

/* ---------------------------------------------------------------------------
 * A map from pointers to numbers (0: absent)
 * ------------------------------------------------------------------------- */

typedef struct PtrMap {
    const void **keys;  /* NULL: empty slot */
    size_t *vals;       /* numbers, never 0 */
    size_t cap, count;  /* slots (a power of two) / keys */
} PtrMap;

static size_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return (size_t)x;
}

static size_t map_get(const PtrMap *m, const void *k)
{
    if (!m->cap)
        return 0;
    for (size_t i = ptr_hash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return 0;
        if (m->keys[i] == k)
            return m->vals[i];
    }
}

static void map_put(PtrMap *m, const void *k, size_t v);

static void map_grow(PtrMap *m)
{
    PtrMap n = {NULL, NULL, m->cap ? 2 * m->cap : 64, 0};
    n.keys = calloc(n.cap, sizeof *n.keys);
    n.vals = calloc(n.cap, sizeof *n.vals);
    if (!n.keys || !n.vals)
        abort();
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            map_put(&n, m->keys[i], m->vals[i]);
    free(m->keys);
    free(m->vals);
    *m = n;
}

static void map_put(PtrMap *m, const void *k, size_t v)
{
    if (4 * (m->count + 1) > 3 * m->cap)
        map_grow(m);
    size_t i = ptr_hash(k) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->count++;
    m->keys[i] = k;
    m->vals[i] = v;
}

static void map_free(PtrMap *m)
{
    free(m->keys);
    free(m->vals);
    *m = (PtrMap){0};
}

/* ---------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------- */

static const char *names_get(const SlGraphNames *nm, const void *key)
{
    if (!nm)
        return NULL;
    for (size_t i = 0; i < nm->n; i++)
        if (nm->keys[i] == key)
            return nm->names[i];
    return NULL;
}

static void names_put(SlGraphNames *nm, const void *key, const char *name)
{
    if (names_get(nm, key))
        return;
    if (nm->n == nm->cap) {
        nm->cap = nm->cap ? 2 * nm->cap : 16;
        nm->keys = xrealloc(nm->keys, nm->cap * sizeof *nm->keys);
        nm->names = xrealloc(nm->names, nm->cap * sizeof *nm->names);
    }
    nm->keys[nm->n] = key;
    nm->names[nm->n++] = xstrdup(name);
}

void sl_graph_names_add(SlGraphNames *nm, const SlTensor *t, const char *name)
{
    names_put(nm, t->grad_fn ? (const void *)t->grad_fn : (const void *)t, name);
}

/* module.named_parameters() as (name, tensor) pairs */
static void add_module_params(SlGraphNames *nm, SlSession *s, SlValue *mod, const char *var)
{
    const SlBuiltin *b = sl_method_lookup(mod, "named_parameters");
    if (!b)
        return;
    SlError e = {0};
    SlCall c = {.s = s, .self = mod, .err = &e};
    SlValue *list = b->fn(&c);
    sl_err_clear(&e);
    if (!list)
        return;
    SlBuf name;
    sl_buf_init(&name);
    for (size_t i = 0; list->kind == SL_LIST && i < list->u.list.len; i++) {
        SlValue *pair = list->u.list.items[i];
        if (pair->kind != SL_TUPLE || pair->u.list.len != 2 || pair->u.list.items[0]->kind != SL_STR)
            continue;
        SlTensor *t = sl_tensor_of(pair->u.list.items[1]);
        if (!t)
            continue;
        name.len = 0;
        name.s[0] = '\0';
        sl_buf_printf(&name, "%s.%s", var, pair->u.list.items[0]->u.str.s);
        sl_graph_names_add(nm, t, name.s);
    }
    sl_buf_free(&name);
    sl_unref(list);
}

void sl_graph_names_add_session(SlGraphNames *nm, SlSession *s)
{
    /* tensors first: a parameter also bound to its own name goes by it */
    for (size_t i = 0; i < s->globals.len; i++) {
        const SlVar *v = &s->globals.vars[i];
        SlTensor *t = v->name ? sl_tensor_of(v->value) : NULL;
        if (t)
            sl_graph_names_add(nm, t, v->name);
    }
    for (size_t i = 0; i < s->globals.len; i++) {
        const SlVar *v = &s->globals.vars[i];
        if (v->name && sl_nn_is_module(v->value))
            add_module_params(nm, s, v->value, v->name);
    }
}

void sl_graph_names_free(SlGraphNames *nm)
{
    for (size_t i = 0; i < nm->n; i++)
        free(nm->names[i]);
    free(nm->keys);
    free(nm->names);
    *nm = (SlGraphNames){0};
}

/* The name of what node n produced: its leaf for AccumulateGrad. */
static const char *node_var(const SlGraphNames *nm, const SlNode *n)
{
    return names_get(nm, n->kind == SL_N_ACCUMULATE ? (const void *)n->leaf : (const void *)n);
}

/* ---------------------------------------------------------------------------
 * The walker
 * ------------------------------------------------------------------------- */

/* How to see a graph's nodes: children are the inputs that are present. */
typedef struct Kind {
    size_t (*nchild)(const void *n);
    const void *(*child)(const void *n, size_t k, int *edge); /* the k-th, its input index */
} Kind;

static size_t node_nchild(const void *p)
{
    const SlNode *n = p;
    size_t k = 0;
    for (int i = 0; i < n->nnext; i++)
        k += n->next[i] != NULL;
    return k;
}

static const void *node_child(const void *p, size_t k, int *edge)
{
    const SlNode *n = p;
    for (int i = 0; i < n->nnext; i++)
        if (n->next[i] && k-- == 0) {
            *edge = i;
            return n->next[i];
        }
    return NULL;
}

static size_t expr_nchild(const void *p) { return ((const SlExpr *)p)->nargs; }

static const void *expr_child(const void *p, size_t k, int *edge)
{
    *edge = (int)k;
    return ((const SlExpr *)p)->args[k];
}

static const Kind node_kind = {node_nchild, node_child};
static const Kind expr_kind = {expr_nchild, expr_child};

/* What the walker reports for each line of the tree. */
typedef struct Visit {
    const void *n;        /* the node */
    size_t num;           /* its number */
    bool again;           /* reached before: a back-reference */
    bool deferred;        /* its inputs are drawn later, in a part of their own */
    bool resumed;         /* the head line of such a part (the node was shown already) */
    const void *parent;   /* the node that uses it (NULL for the root and a part's head) */
    int edge;             /* as parent's input number edge */
    const char *prefix;   /* the tree's drawing for this line */
} Visit;

typedef void (*VisitFn)(void *ctx, const Visit *v);

#define INDENT_MAX 30 /* columns of indentation after which a subtree becomes a part of its own */

typedef struct Frame {
    const void *n;  /* node */
    size_t k, nk;   /* next child, number of children */
    size_t plen;    /* length of the prefix its children's lines continue */
} Frame;

/* Walk from root, numbering nodes from *count + 1 in nums, calling visit
 * (may be NULL) per line; stops after limit numbered nodes.  A subtree
 * that would be indented past INDENT_MAX columns is drawn after the rest,
 * as a part that starts again at the left margin with its head node, so
 * that deep graphs (a loop's thousand steps) keep short lines.  Returns
 * false when it stopped early. */
static bool walk(const Kind *kd, const void *root, bool ascii, size_t limit, PtrMap *nums, size_t *count,
                 VisitFn visit, void *ctx)
{
    const char *tee = ascii ? "|- " : "├─ ", *elbow = ascii ? "`- " : "└─ ";
    const char *bar = ascii ? "|  " : "│  ", *gap = "   ";
    SlBuf pre;
    sl_buf_init(&pre);
    size_t sp = 0, cap = 64;
    Frame *st = xrealloc(NULL, cap * sizeof *st);
    const void **parts = NULL; /* heads of the parts still to draw */
    size_t nparts = 0, capparts = 0, part = 0;
    bool complete = true;
    if (map_get(nums, root))
        goto done; /* nothing new (the caller numbered it) */
    map_put(nums, root, ++*count);
    if (visit)
        visit(ctx, &(Visit){.n = root, .num = *count, .prefix = ""});
    st[sp++] = (Frame){root, 0, kd->nchild(root), 0};
    for (;;) {
        while (complete && sp > 0) {
            Frame *f = &st[sp - 1];
            if (f->k == f->nk) {
                sp--;
                continue;
            }
            int edge = 0;
            const void *c = kd->child(f->n, f->k++, &edge);
            bool last = f->k == f->nk;
            const void *parent = f->n;
            size_t plen = f->plen;
            pre.len = plen;
            pre.s[plen] = '\0';
            sl_buf_puts(&pre, last ? elbow : tee);
            size_t num = map_get(nums, c);
            if (num) {
                if (visit)
                    visit(ctx, &(Visit){.n = c, .num = num, .again = true, .parent = parent, .edge = edge,
                                        .prefix = pre.s});
                continue;
            }
            if (*count >= limit) {
                complete = false;
                break;
            }
            map_put(nums, c, ++*count);
            size_t nk = kd->nchild(c);
            bool defer = nk > 0 && cols(pre.s) >= INDENT_MAX;
            if (visit)
                visit(ctx, &(Visit){.n = c, .num = *count, .deferred = defer, .parent = parent, .edge = edge,
                                    .prefix = pre.s});
            if (defer) {
                if (nparts == capparts) {
                    capparts = capparts ? 2 * capparts : 16;
                    parts = xrealloc(parts, capparts * sizeof *parts);
                }
                parts[nparts++] = c;
                continue;
            }
            pre.len = plen;
            pre.s[plen] = '\0';
            sl_buf_puts(&pre, last ? gap : bar);
            if (sp == cap) {
                cap *= 2;
                st = xrealloc(st, cap * sizeof *st);
            }
            st[sp++] = (Frame){c, 0, nk, pre.len};
        }
        if (!complete || part == nparts)
            break;
        const void *head = parts[part++];
        if (visit)
            visit(ctx, &(Visit){.n = head, .num = map_get(nums, head), .resumed = true, .prefix = ""});
        st[sp++] = (Frame){head, 0, kd->nchild(head), 0};
    }
done:
    free(parts);
    free(st);
    sl_buf_free(&pre);
    return complete;
}

/* Distinct nodes under root. */
static size_t count_nodes(const Kind *kd, const void *root)
{
    PtrMap m = {0};
    size_t n = 0;
    walk(kd, root, true, SIZE_MAX, &m, &n, NULL, NULL);
    map_free(&m);
    return n;
}

/* ---------------------------------------------------------------------------
 * Lines with an aligned second column
 * ------------------------------------------------------------------------- */

typedef struct Lines {
    char **left, **right;  /* malloc'd; right may be NULL */
    size_t n, cap;
} Lines;

static void lines_add(Lines *l, SlBuf *left, SlBuf *right)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 32;
        l->left = xrealloc(l->left, l->cap * sizeof *l->left);
        l->right = xrealloc(l->right, l->cap * sizeof *l->right);
    }
    l->left[l->n] = sl_buf_take(left);
    l->right[l->n++] = right && right->len ? sl_buf_take(right) : NULL;
}

#define ALIGN_MAX 60 /* the second column starts at most here */

static void lines_flush(Lines *l, SlBuf *out)
{
    size_t w = 0;
    for (size_t i = 0; i < l->n; i++) {
        size_t c = cols(l->left[i]);
        if (l->right[i] && c > w && c <= ALIGN_MAX)
            w = c;
    }
    for (size_t i = 0; i < l->n; i++) {
        sl_buf_puts(out, l->left[i]);
        if (l->right[i]) {
            size_t c = cols(l->left[i]);
            for (size_t k = c; k < w + 2; k++)
                sl_buf_putc(out, ' ');
            if (c >= w + 2)
                sl_buf_puts(out, "  ");
            sl_buf_puts(out, l->right[i]);
        }
        sl_buf_putc(out, '\n');
        free(l->left[i]);
        free(l->right[i]);
    }
    free(l->left);
    free(l->right);
    *l = (Lines){0};
}

/* ---------------------------------------------------------------------------
 * Tensor graphs
 * ------------------------------------------------------------------------- */

static void dtype_str(SlBuf *b, SlDType dt, mpfr_prec_t prec)
{
    switch (dt) {
    case SL_DT_F32: sl_buf_puts(b, "float32"); break;
    case SL_DT_F64: sl_buf_puts(b, "float64"); break;
    case SL_DT_I64: sl_buf_puts(b, "int64"); break;
    case SL_DT_BOOL: sl_buf_puts(b, "bool"); break;
    case SL_DT_MPFR: sl_buf_printf(b, "mpfr(%ld)", (long)prec); break;
    }
}

static void shape_dtype(SlBuf *b, int ndim, const int64_t *shape, SlDType dt, mpfr_prec_t prec)
{
    char shp[24 * SL_TENSOR_MAXDIM];
    sl_shape_str(shp, sizeof shp, ndim, shape);
    sl_buf_printf(b, "%s ", shp);
    dtype_str(b, dt, prec);
}

/* The shape and dtype of what node n produced, seen from the edge it was
 * reached by (parent's input edge), or from root for the root. */
static void node_output(SlBuf *b, const SlNode *n, const SlNode *parent, int edge, const SlTensor *root)
{
    if (n->kind == SL_N_ACCUMULATE)
        shape_dtype(b, n->leaf->ndim, n->leaf->shape, n->leaf->dtype, sl_tensor_prec(n->leaf));
    else if (parent)
        shape_dtype(b, parent->in_ndim[edge], parent->in_shape[edge], parent->in_type[edge].dt,
                    parent->in_type[edge].prec);
    else
        shape_dtype(b, root->ndim, root->shape, root->dtype, sl_tensor_prec(root));
}

/* The remarks after shape and dtype: "w (leaf, requires_grad=True)",
 * "loss", "(saved values freed)". */
static void node_remarks(SlBuf *b, const SlNode *n, const SlGraphNames *nm, const char *sep)
{
    const char *name = node_var(nm, n);
    bool freed = n->kind != SL_N_ACCUMULATE && n->released && n->nsaved > 0;
    if (name)
        sl_buf_printf(b, "%s%s", sep, name);
    if (n->kind == SL_N_ACCUMULATE)
        sl_buf_printf(b, "%s(leaf, requires_grad=True)", name ? " " : sep);
    else if (freed)
        sl_buf_printf(b, "%s(saved values freed)", name ? " " : sep);
}

typedef struct TensorTree {
    Lines lines;
    const SlTensor *root;
    const SlGraphNames *names;
    bool ascii;
} TensorTree;

static void tensor_tree_visit(void *ctx, const Visit *v)
{
    TensorTree *tt = ctx;
    const SlNode *n = v->n;
    SlBuf left, right;
    sl_buf_init(&left);
    sl_buf_init(&right);
    if (v->again) {
        sl_buf_printf(&left, "%s%s see [%zu] %s", v->prefix, tt->ascii ? "^" : "↑", v->num, sl_node_name(n));
        const char *name = node_var(tt->names, n);
        if (name)
            sl_buf_printf(&left, " (%s)", name);
    } else if (v->resumed) {
        sl_buf_printf(&left, "[%zu] %s (continued)", v->num, sl_node_name(n));
    } else {
        sl_buf_printf(&left, "%s[%zu] %s", v->prefix, v->num, sl_node_name(n));
        node_output(&right, n, v->parent, v->edge, tt->root);
        node_remarks(&right, n, tt->names, "  ");
        if (v->deferred)
            sl_buf_printf(&right, "  %s continued below", tt->ascii ? "->" : "→");
    }
    lines_add(&tt->lines, &left, &right);
    sl_buf_free(&left);
    sl_buf_free(&right);
}

/* One line for a tensor with no graph to draw. */
static void no_graph(SlBuf *out, const SlTensor *t, const SlGraphNames *names)
{
    const char *name = names_get(names, t);
    if (name)
        sl_buf_printf(out, "%s: ", name);
    if (t->requires_grad) {
        sl_buf_puts(out, "leaf tensor ");
        shape_dtype(out, t->ndim, t->shape, t->dtype, sl_tensor_prec(t));
        sl_buf_puts(out, ", requires_grad=True: no graph until an operation uses it\n");
    } else {
        sl_buf_puts(out, "tensor ");
        shape_dtype(out, t->ndim, t->shape, t->dtype, sl_tensor_prec(t));
        sl_buf_puts(out, ", requires_grad=False: no graph (no input required grad, or it was made under "
                         "no_grad)\n");
    }
}

static void tree_end(SlBuf *out, bool complete, size_t shown, size_t total, bool ascii)
{
    if (!complete)
        sl_buf_printf(out, "%s (%zu of %zu nodes shown; graph(..., file=\"g.dot\") writes them all)\n",
                      ascii ? "..." : "…", shown, total);
}

void sl_graph_tensor_tree(SlBuf *out, const SlTensor *t, const SlGraphNames *names, bool ascii)
{
    if (!t->grad_fn) {
        no_graph(out, t, names);
        return;
    }
    TensorTree tt = {.root = t, .names = names, .ascii = ascii};
    PtrMap nums = {0};
    size_t count = 0;
    bool complete = walk(&node_kind, t->grad_fn, ascii, SL_GRAPH_TREE_MAX, &nums, &count, tensor_tree_visit, &tt);
    map_free(&nums);
    lines_flush(&tt.lines, out);
    if (!complete)
        tree_end(out, false, count, count_nodes(&node_kind, t->grad_fn), ascii);
}

/* ---- DOT ---- */

static void dot_escape(SlBuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sl_buf_putc(b, '\\');
        if (*s == '\n')
            sl_buf_puts(b, "\\n");
        else
            sl_buf_putc(b, *s);
    }
}

typedef struct Dot {
    SlBuf nodes, edges;         /* node lines, edge lines */
    const PtrMap *nums;         /* the walk's numbers */
    const SlTensor *root;       /* tensor graphs: the tensor drawn */
    const SlGraphNames *names;  /* tensor graphs: names */
} Dot;

/* An edge from each input to the node that uses it, once per use. */
static void dot_edge(Dot *d, const Visit *v)
{
    if (v->parent)
        sl_buf_printf(&d->edges, "  n%zu -> n%zu;\n", v->num, map_get(d->nums, v->parent));
}

static void dot_node(Dot *d, size_t num, const char *label, const char *attrs)
{
    sl_buf_printf(&d->nodes, "  n%zu [label=\"", num);
    dot_escape(&d->nodes, label);
    sl_buf_printf(&d->nodes, "\"%s];\n", attrs);
}

static void tensor_dot_visit(void *ctx, const Visit *v)
{
    Dot *d = ctx;
    const SlNode *n = v->n;
    dot_edge(d, v);
    if (v->again || v->resumed)
        return;
    SlBuf label;
    sl_buf_init(&label);
    sl_buf_printf(&label, "%s\n", sl_node_name(n));
    node_output(&label, n, v->parent, v->edge, d->root);
    node_remarks(&label, n, d->names, "\n");
    dot_node(d, v->num, label.s,
             n->kind == SL_N_ACCUMULATE ? ", style=filled, fillcolor=lightblue"
             : !v->parent               ? ", style=filled, fillcolor=darkolivegreen1"
                                        : "");
    sl_buf_free(&label);
}

static bool dot_write(SlBuf *out, const Kind *kd, const void *root, VisitFn node_visit, Dot *d, SlError *err)
{
    size_t total = count_nodes(kd, root);
    if (total > SL_GRAPH_DOT_MAX)
        return sl_err(err, SL_E_LIMIT, "the graph has too many nodes for DOT output");
    PtrMap nums = {0};
    size_t count = 0;
    sl_buf_init(&d->nodes);
    sl_buf_init(&d->edges);
    d->nums = &nums;
    walk(kd, root, true, SIZE_MAX, &nums, &count, node_visit, d);
    map_free(&nums);
    sl_buf_puts(out, "digraph slope {\n  node [shape=box, fontname=\"monospace\"];\n");
    sl_buf_puts(out, d->nodes.s);
    sl_buf_puts(out, d->edges.s);
    sl_buf_puts(out, "}\n");
    sl_buf_free(&d->nodes);
    sl_buf_free(&d->edges);
    return true;
}

bool sl_graph_tensor_dot(SlBuf *out, const SlTensor *t, const SlGraphNames *names, SlError *err)
{
    if (!t->grad_fn)
        return sl_err(err, SL_E_VALUE, "the tensor has no graph to draw");
    Dot d = {.root = t, .names = names};
    return dot_write(out, &node_kind, t->grad_fn, tensor_dot_visit, &d, err);
}

/* ---------------------------------------------------------------------------
 * Expression DAGs
 * ------------------------------------------------------------------------- */

#define TEXT_MAX 40 /* subexpressions printed beside their node up to this size */

static SlStyle text_style(bool ascii) { return ascii ? SL_STYLE_ASCII : SL_STYLE_UNICODE; }

static void expr_label(SlBuf *b, const SlExpr *e, bool ascii)
{
    switch (e->kind) {
    case SL_EX_ADD: sl_buf_puts(b, "+"); break;
    case SL_EX_MUL: sl_buf_puts(b, ascii ? "*" : "·"); break;
    case SL_EX_POW: sl_buf_puts(b, "^"); break;
    case SL_EX_FN: sl_buf_puts(b, sl_math_fns[e->u.fn].name); break;
    default: sl_expr_print(b, e, text_style(ascii)); break;
    }
}

/* The text of an operator node when it is short. */
static void expr_text(SlBuf *b, const SlExpr *e, bool ascii)
{
    if (e->nargs == 0 || sl_expr_tree_size(e, text_style(ascii)) > TEXT_MAX)
        return;
    sl_expr_print(b, e, text_style(ascii));
}

typedef struct ExprTree {
    Lines lines;
    bool ascii;
} ExprTree;

static void expr_tree_visit(void *ctx, const Visit *v)
{
    ExprTree *et = ctx;
    SlBuf left, right;
    sl_buf_init(&left);
    sl_buf_init(&right);
    if (v->again)
        sl_buf_printf(&left, "%s%s see [%zu] ", v->prefix, et->ascii ? "^" : "↑", v->num);
    else
        sl_buf_printf(&left, "%s[%zu] ", v->prefix, v->num);
    expr_label(&left, v->n, et->ascii);
    if (v->resumed)
        sl_buf_puts(&left, " (continued)");
    else if (!v->again)
        expr_text(&right, v->n, et->ascii);
    if (v->deferred)
        sl_buf_printf(&right, "%s%s continued below", right.len ? "  " : "", et->ascii ? "->" : "→");
    lines_add(&et->lines, &left, &right);
    sl_buf_free(&left);
    sl_buf_free(&right);
}

void sl_graph_expr_tree(SlBuf *out, const SlExpr *e, bool ascii)
{
    ExprTree et = {.ascii = ascii};
    PtrMap nums = {0};
    size_t count = 0;
    bool complete = walk(&expr_kind, e, ascii, SL_GRAPH_TREE_MAX, &nums, &count, expr_tree_visit, &et);
    map_free(&nums);
    lines_flush(&et.lines, out);
    if (!complete)
        tree_end(out, false, count, sl_expr_node_count(e), ascii);
}

static void expr_dot_visit(void *ctx, const Visit *v)
{
    Dot *d = ctx;
    const SlExpr *e = v->n;
    dot_edge(d, v);
    if (v->again || v->resumed)
        return;
    SlBuf label;
    sl_buf_init(&label);
    expr_label(&label, e, false);
    if (e->nargs && sl_expr_tree_size(e, SL_STYLE_UNICODE) <= TEXT_MAX) {
        sl_buf_putc(&label, '\n');
        sl_expr_print(&label, e, SL_STYLE_UNICODE);
    }
    dot_node(d, v->num, label.s,
             e->kind == SL_EX_SYM ? ", shape=ellipse, style=filled, fillcolor=lightblue"
             : e->nargs == 0      ? ", shape=ellipse"
                                  : "");
    sl_buf_free(&label);
}

bool sl_graph_expr_dot(SlBuf *out, const SlExpr *e, SlError *err)
{
    Dot d = {0};
    return dot_write(out, &expr_kind, e, expr_dot_visit, &d, err);
}

/* ---------------------------------------------------------------------------
 * The trace of backward(trace=True)
 * ------------------------------------------------------------------------- */

#define TRACE_FULL 16   /* tensors with more elements print by shape */
#define TRACE_WIDTH 100 /* a chain-rule line longer than this is split */

typedef struct Tracer {
    FILE *out;
    const SlGraphNames *names;
    PtrMap nums;      /* node numbers, as the tree's */
    size_t count;     /* nodes numbered */
    PtrMap arrived;   /* gradients that reached each node so far */
    bool ascii;
} Tracer;

static double view_get_f(const void *ctx, size_t i) { return sl_tensor_get_d(ctx, (int64_t)i); }
static int64_t view_get_i(const void *ctx, size_t i) { return sl_tensor_get_i(ctx, (int64_t)i); }
static bool view_get_b(const void *ctx, size_t i) { return sl_tensor_get_b(ctx, (int64_t)i); }
static mpfr_srcptr view_get_m(const void *ctx, size_t i) { return sl_tensor_get_m(ctx, (int64_t)i); }

/* A tensor as it prints (gradients have no grad_fn), or by its shape. */
static void tensor_text(SlBuf *b, const SlTensor *t)
{
    if (sl_tensor_numel(t) > TRACE_FULL) {
        char shp[24 * SL_TENSOR_MAXDIM];
        sl_shape_str(shp, sizeof shp, t->ndim, t->shape);
        sl_buf_printf(b, "tensor of shape %s", shp);
        if (t->dtype != SL_DT_F32) {
            sl_buf_puts(b, ", ");
            dtype_str(b, t->dtype, sl_tensor_prec(t));
        }
        return;
    }
    SlTensorView v = {
        .dtype = t->dtype,
        .ndim = t->ndim,
        .shape = t->shape,
        .ctx = t,
        .get_f = view_get_f,
        .get_i = view_get_i,
        .get_b = view_get_b,
        .get_m = view_get_m,
        .mpfr_prec = sl_tensor_prec(t),
    };
    SlTensorSuffix s = {.requires_grad = false, .grad_fn = NULL, .parameter = false};
    sl_tensor_format(b, &v, &s);
}

/* Append text, indenting its continuation lines to the column where it
 * starts (col), as a multi-line tensor lines up under its first row. */
static void put_at(SlBuf *b, const char *text, size_t col)
{
    for (const char *p = text; *p; p++) {
        sl_buf_putc(b, *p);
        if (*p == '\n')
            for (size_t k = 0; k < col; k++)
                sl_buf_putc(b, ' ');
    }
}

/* Where the line holding byte pos of b starts. */
static size_t line_start(const SlBuf *b, size_t pos)
{
    while (pos > 0 && b->s[pos - 1] != '\n')
        pos--;
    return pos;
}

/* Columns since the last newline of b. */
static size_t line_col(const SlBuf *b) { return cols(b->s + line_start(b, b->len)); }

static void buf_reset(SlBuf *b)
{
    b->len = 0;
    b->s[0] = '\0';
}

static size_t trace_num(Tracer *tr, const SlNode *n)
{
    size_t k = map_get(&tr->nums, n);
    if (!k) /* the AccumulateGrad of a leaf root, made by backward itself */
        map_put(&tr->nums, n, k = ++tr->count);
    return k;
}

static void trace_node(SlBuf *b, Tracer *tr, const SlNode *n)
{
    sl_buf_printf(b, "[%zu] %s", trace_num(tr, n), sl_node_name(n));
    const char *name = node_var(tr->names, n);
    if (name)
        sl_buf_printf(b, " (%s)", name);
}

static void trace_step(void *ctx, const SlAgStep *st)
{
    Tracer *tr = ctx;
    const SlNode *n = st->node;
    const char *times = tr->ascii ? "*" : "×", *arrow = tr->ascii ? "->" : "→";
    SlBuf b, g, l, s;
    sl_buf_init(&b);
    sl_buf_init(&g);
    sl_buf_init(&l);
    sl_buf_init(&s);
    tensor_text(&g, st->grad);
    trace_node(&b, tr, n);
    sl_buf_puts(&b, ": in ");
    put_at(&b, g.s, line_col(&b));
    size_t got = map_get(&tr->arrived, n);
    if (got > 1)
        sl_buf_printf(&b, " (the sum of %zu gradients)", got);
    sl_buf_putc(&b, '\n');
    if (n->kind == SL_N_ACCUMULATE) {
        const char *name = node_var(tr->names, n);
        sl_buf_printf(&b, "    %s.grad %s ", name ? name : "leaf", st->accumulated ? "+=" : "=");
        if (st->accumulated) {
            put_at(&b, g.s, line_col(&b));
            sl_buf_printf(&b, " %s ", arrow);
        }
        buf_reset(&s);
        tensor_text(&s, n->leaf->grad);
        put_at(&b, s.s, line_col(&b));
        sl_buf_putc(&b, '\n');
    }
    if (n->retain && n->retain->grad) {
        const char *name = node_var(tr->names, n);
        buf_reset(&s);
        tensor_text(&s, n->retain->grad);
        sl_buf_printf(&b, "    %s.grad = ", name ? name : "its");
        put_at(&b, s.s, line_col(&b));
        sl_buf_puts(&b, " (retain_grad)\n");
    }
    for (int i = 0; i < n->nnext; i++) {
        const SlTensor *sent = st->sent[i], *loc = st->local[i];
        if (!n->next[i] || !sent)
            continue;
        map_put(&tr->arrived, n->next[i], map_get(&tr->arrived, n->next[i]) + 1);
        sl_buf_printf(&b, "    %s ", arrow);
        trace_node(&b, tr, n->next[i]);
        buf_reset(&l);
        buf_reset(&s);
        tensor_text(&s, sent);
        if (loc)
            tensor_text(&l, loc);
        bool summed = loc && (loc->ndim != sent->ndim ||
                              memcmp(loc->shape, sent->shape, (size_t)sent->ndim * sizeof sent->shape[0]) != 0) &&
                      sl_tensor_numel(st->grad) != 1;
        char to[24 * SL_TENSOR_MAXDIM + 16] = "";
        if (summed) {
            char shp[24 * SL_TENSOR_MAXDIM];
            sl_shape_str(shp, sizeof shp, sent->ndim, sent->shape);
            snprintf(to, sizeof to, ", summed to %s", shp);
        }
        /* the chain rule on one line when it fits, else one value a line */
        size_t start = b.len;
        bool one_line = loc && !strchr(g.s, '\n') && !strchr(l.s, '\n') && !strchr(s.s, '\n');
        if (one_line) {
            sl_buf_printf(&b, ": %s %s %s%s = %s", g.s, times, l.s, to, s.s);
            if (cols(b.s + line_start(&b, start)) > TRACE_WIDTH) {
                b.len = start;
                b.s[start] = '\0';
                one_line = false;
            }
        }
        if (loc && !one_line) {
            sl_buf_puts(&b, ":\n        local ");
            put_at(&b, l.s, 14);
            sl_buf_puts(&b, "\n        sends ");
            put_at(&b, s.s, 14);
            if (summed)
                sl_buf_printf(&b, " (in %s local%s)", times, to);
        } else if (!loc) {
            sl_buf_puts(&b, ": sends ");
            put_at(&b, s.s, line_col(&b));
        }
        sl_buf_putc(&b, '\n');
    }
    fwrite(b.s, 1, b.len, tr->out);
    fflush(tr->out);
    sl_buf_free(&b);
    sl_buf_free(&g);
    sl_buf_free(&l);
    sl_buf_free(&s);
}

bool sl_graph_backward_trace(FILE *out, SlTensor *root, SlTensor *gradient, bool retain_graph,
                             const SlGraphNames *names, const char *root_name, bool ascii, SlError *err)
{
    Tracer tr = {.out = out, .names = names, .ascii = ascii};
    if (root->grad_fn)
        walk(&node_kind, root->grad_fn, ascii, SIZE_MAX, &tr.nums, &tr.count, NULL, NULL);
    SlGraphNames local = {0};
    if (root_name && root->requires_grad) {
        /* the receiver's name, unless the session already has one for it */
        for (size_t i = 0; names && i < names->n; i++)
            names_put(&local, names->keys[i], names->names[i]);
        sl_graph_names_add(&local, root, root_name);
        tr.names = &local;
    }
    if (root->requires_grad) {
        const char *who = root_name ? root_name : names_get(tr.names, root->grad_fn ? (const void *)root->grad_fn
                                                                                     : (const void *)root);
        if (who)
            fprintf(out, "backward from %s in the engine's order, nodes numbered as graph(%s) numbers them\n", who,
                    who);
        else
            fprintf(out, "backward in the engine's order, nodes numbered as graph() numbers them\n");
        fprintf(out, "each node passes on: gradient in %s its local derivative = gradient to the input\n",
                ascii ? "*" : "×");
    }
    bool ok = sl_ag_backward_traced(root, gradient, retain_graph, trace_step, &tr, err);
    map_free(&tr.nums);
    map_free(&tr.arrived);
    sl_graph_names_free(&local);
    return ok;
}

/* ---------------------------------------------------------------------------
 * The builtin
 * ------------------------------------------------------------------------- */

static bool write_file(const char *path, const SlBuf *b, SlError *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return sl_err(err, SL_E_IO, path, strerror(errno));
    bool ok = fwrite(b->s, 1, b->len, f) == b->len;
    if (fclose(f) != 0)
        ok = false;
    return ok || sl_err(err, SL_E_IO, path, strerror(errno));
}

/* graph(y), graph(expr), graph(..., file="g.dot") */
static SlValue *b_graph(SlCall *c)
{
    static const char *const kw[] = {"file", NULL};
    if (!sl_call_keywords(c, "graph", kw) || !sl_call_arity(c, "graph", 1, 1))
        return NULL;
    SlValue *v = c->args[0], *file = sl_call_kwarg(c, "file");
    if (file && file->kind == SL_NONE)
        file = NULL;
    if (file && file->kind != SL_STR)
        return sl_err(c->err, SL_E_ARG_TYPE, "graph", "file", "a str", sl_type_name(file)), NULL;
    if (file && file->u.str.len == 0)
        return sl_err(c->err, SL_E_VALUE, "graph: file= needs a file name"), NULL;
    bool ascii = sl_expr_style() == SL_STYLE_ASCII;
    SlTensor *t = sl_tensor_of(v);
    SlBuf b;
    sl_buf_init(&b);
    bool ok = true, dot = false;
    if (t) {
        SlGraphNames names = {0};
        sl_graph_names_add_session(&names, c->s);
        if (file && t->grad_fn)
            ok = dot = sl_graph_tensor_dot(&b, t, &names, c->err);
        else
            sl_graph_tensor_tree(&b, t, &names, ascii);
        sl_graph_names_free(&names);
    } else if (v->kind == SL_EXPR) {
        if (file)
            ok = dot = sl_graph_expr_dot(&b, v->u.expr, c->err);
        else
            sl_graph_expr_tree(&b, v->u.expr, ascii);
    } else {
        sl_buf_free(&b);
        sl_err(c->err, SL_E_TYPE, "graph() takes a tensor or a symbolic expression, not %s", sl_type_name(v));
        if (sl_is_number(v))
            sl_err_hint(c->err, "a number has no graph: try graph(x^2 + 1) with x a symbol, or graph(loss) for a "
                                "tensor made with requires_grad=True");
        else if (v->kind == SL_FUNC)
            sl_err_hint(c->err, "call it on symbols to get its expression: graph(f(x))");
        return NULL;
    }
    if (ok && dot) {
        ok = write_file(file->u.str.s, &b, c->err);
        if (ok)
            fprintf(c->s->out, "wrote %s\n", file->u.str.s);
    } else if (ok) {
        fwrite(b.s, 1, b.len, c->s->out);
    }
    sl_buf_free(&b);
    return ok ? SL_NONE_V : NULL;
}

static const SlBuiltin graph_builtins[] = {
    {"graph", b_graph, "graph(y, file=None)",
     "Draw a computational graph: a tensor's autograd graph from y down to its leaves (each node's grad_fn name, "
     "the shape and dtype it produced, the variable it is bound to), or a symbolic expression's DAG (shared "
     "subexpressions once). A node used twice is drawn once and referred back to. file=\"g.dot\" writes Graphviz "
     "DOT instead (render it with dot -Tsvg g.dot). y.backward(trace=True) shows backpropagation walking the same "
     "graph."},
};

const SlBuiltin *sl_graph_builtin_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof graph_builtins / sizeof graph_builtins[0]; i++)
        if (strcmp(graph_builtins[i].name, name) == 0)
            return &graph_builtins[i];
    return NULL;
}

const SlBuiltin *sl_graph_builtin_at(size_t i)
{
    return i < sizeof graph_builtins / sizeof graph_builtins[0] ? &graph_builtins[i] : NULL;
}
