/* tensor_value.c -- tensors as values: the "Tensor" object type and its
 * hooks, torch.* builtins, dtype / torch.Size / grad_fn objects, the
 * nested namespaces (torch.optim, torch.nn.functional).  The optimizers
 * are in optim.c.
 *
 * Every function follows value.h: borrowed arguments, new references,
 * NULL + error.  A tensor value owns one reference to its SlTensor.
 */
#include "tensor_value.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "autograd.h"
#include "eval_internal.h"
#include "expr.h"
#include "graph.h"
#include "nn.h"
#include "num.h"
#include "optim.h"
#include "tensor_extra.h"
#include "tensor_print.h"

/* ---------------------------------------------------------------------------
 * Argument helpers
 * ------------------------------------------------------------------------- */

/* the shared argument checks of builtins.h, under this file's names */
static SlValue *kwarg(SlCall *c, const char *name) { return sl_call_kwarg(c, name); }
static bool check_kw(SlCall *c, const char *fname, const char *const *allowed)
{
    return sl_call_keywords(c, fname, allowed);
}
static bool check_npos(SlCall *c, const char *fname, size_t min, size_t max)
{
    return sl_call_arity(c, fname, min, max);
}

/* The argument conversions of tensor_value.h */
SlValue *sl_arg(SlCall *c, size_t i, const char *name)
{
    if (i < c->nargs)
        return c->args[i];
    return name ? kwarg(c, name) : NULL;
}

bool sl_value_as_long(const SlValue *v, long *out)
{
    if ((v->kind == SL_INT || v->kind == SL_BOOL) && sl_num_to_long(v, out))
        return true;
    SlTensor *t = sl_tensor_of(v);
    if (t && t->ndim == 0 && !sl_dtype_is_float(t->dtype)) {
        *out = (long)sl_tensor_get_i(t, 0);
        return true;
    }
    return false;
}

bool sl_arg_long(SlCall *c, const char *fname, const char *argname, const SlValue *v, long *out)
{
    if (sl_value_as_long(v, out))
        return true;
    if (v->kind == SL_INT)
        return sl_err(c->err, SL_E_OVERFLOW, "Python int too large to convert to C long");
    return sl_err(c->err, SL_E_ARG_TYPE, fname, argname, "an integer", sl_type_name(v));
}

bool sl_arg_double(SlCall *c, const char *fname, const char *argname, const SlValue *v, double *out)
{
    if (sl_is_number(v)) {
        *out = sl_num_to_double(v);
        return true;
    }
    SlTensor *t = sl_tensor_of(v);
    if (t && sl_tensor_numel(t) == 1) {
        *out = sl_tensor_get_d(t, 0);
        return true;
    }
    return sl_err(c->err, SL_E_ARG_TYPE, fname, argname, "a number", sl_type_name(v));
}

bool sl_arg_bool(SlCall *c, const char *fname, const char *argname, const SlValue *v, bool *out)
{
    if (v->kind == SL_BOOL) {
        *out = v->u.b;
        return true;
    }
    long l;
    if (v->kind == SL_INT && sl_num_to_long(v, &l)) {
        *out = l != 0;
        return true;
    }
    return sl_err(c->err, SL_E_ARG_TYPE, fname, argname, "a bool", sl_type_name(v));
}

/* The source text of the receiver of a method call ("y" in y.backward()),
 * when it is a plain name or attribute chain; NULL otherwise. */
static char receiver_buf[64];

static const char *receiver_scan(SlCall *c, const char *method);

/* The last answer, by call site (sources have unique serials): a training
 * loop asks for the same one every step. */
static struct {
    unsigned long serial; /* the source's (0: nothing cached) */
    SlLoc loc;            /* the call's span */
    const char *method;   /* the method name asked for */
    const char *text;     /* the answer: receiver_buf or NULL */
} receiver_last;

static const char *receiver_text(SlCall *c, const char *method)
{
    if (c->src && receiver_last.serial == c->src->serial && receiver_last.method == method &&
        memcmp(&receiver_last.loc, &c->loc, sizeof c->loc) == 0)
        return receiver_last.text;
    const char *text = receiver_scan(c, method);
    if (c->src) {
        receiver_last.serial = c->src->serial;
        receiver_last.loc = c->loc;
        receiver_last.method = method;
        receiver_last.text = text;
    }
    return text;
}

static const char *receiver_scan(SlCall *c, const char *method)
{
    if (!c->src || c->loc.first_line != c->loc.last_line)
        return NULL;
    size_t len;
    const char *line = sl_source_line(c->src, c->loc.first_line, &len);
    if (!line)
        return NULL;
    /* columns count characters */
    size_t i = 0;
    int col = 1;
    while (i < len && col < c->loc.first_column) {
        i++;
        while (i < len && ((unsigned char)line[i] & 0xC0) == 0x80)
            i++;
        col++;
    }
    size_t start = i, mlen = strlen(method);
    const char *best = NULL;
    for (size_t j = start; j + 1 + mlen <= len; j++)
        if (line[j] == '.' && strncmp(line + j + 1, method, mlen) == 0)
            best = line + j;
    if (!best)
        return NULL;
    size_t n = (size_t)(best - (line + start));
    if (n == 0 || n >= sizeof receiver_buf)
        return NULL;
    for (size_t k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)line[start + k];
        if (!(isalnum(ch) || ch == '_' || ch == '.' || ch >= 0x80))
            return NULL;
    }
    memcpy(receiver_buf, line + start, n);
    receiver_buf[n] = '\0';
    return receiver_buf;
}

/* ---------------------------------------------------------------------------
 * dtype objects: torch.float32 ...
 * ------------------------------------------------------------------------- */

static const SlObjType dtype_type;

static void dtype_free(void *data) { free(data); }

static void dtype_name(SlBuf *b, const SlDTypeP *d)
{
    if (d->dt == SL_DT_MPFR)
        sl_buf_printf(b, "slope.mpfr(%ld)", (long)d->prec);
    else
        sl_buf_puts(b, sl_dtype_name(d->dt));
}

static void dtype_repr(const SlValue *v, FILE *out)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    dtype_name(&b, v->u.obj.data);
    fputs(b.s, out);
    sl_buf_free(&b);
}

static SlValue *dtype_value(SlDType dt, mpfr_prec_t prec)
{
    SlDTypeP *d = malloc(sizeof *d);
    if (!d)
        abort();
    d->dt = dt;
    d->prec = dt == SL_DT_MPFR ? prec : 0;
    return sl_object_new(&dtype_type, d);
}

static SlValue *dtype_compare(int op, SlValue *a, SlValue *b, SlError *err)
{
    bool eq = a->kind == SL_OBJECT && b->kind == SL_OBJECT && a->u.obj.type == &dtype_type &&
              b->u.obj.type == &dtype_type;
    if (eq) {
        const SlDTypeP *x = a->u.obj.data, *y = b->u.obj.data;
        eq = x->dt == y->dt && x->prec == y->prec;
    }
    if (op == SL_OP_EQ)
        return sl_bool(eq);
    if (op == SL_OP_NE)
        return sl_bool(!eq);
    return sl_err(err, SL_E_TYPE, "'%s' not supported between instances of 'torch.dtype' and '%s'", sl_op_name(op),
                  sl_type_name(b)),
           NULL;
}

static SlValue *dtype_getattr(SlValue *self, const char *name, SlError *err)
{
    (void)err;
    const SlDTypeP *d = self->u.obj.data;
    if (strcmp(name, "is_floating_point") == 0)
        return sl_bool(sl_dtype_is_float(d->dt));
    return NULL;
}

static const SlObjType dtype_type = {.name = "torch.dtype",
                                     .free = dtype_free,
                                     .repr = dtype_repr,
                                     .compare = dtype_compare,
                                     .getattr = dtype_getattr};

/* dtype= argument: a dtype object, or Python's float/int/bool. */
static bool parse_dtype(SlCall *c, SlValue *v, bool *have, SlDTypeP *out)
{
    *have = false;
    if (!v || v->kind == SL_NONE)
        return true;
    if (v->kind == SL_OBJECT && v->u.obj.type == &dtype_type) {
        *out = *(const SlDTypeP *)v->u.obj.data;
        *have = true;
        return true;
    }
    if (v->kind == SL_BUILTIN) {
        const char *n = v->u.builtin->name;
        if (strcmp(n, "float") == 0)
            *out = (SlDTypeP){SL_DT_F64, 0};
        else if (strcmp(n, "int") == 0)
            *out = (SlDTypeP){SL_DT_I64, 0};
        else if (strcmp(n, "bool") == 0)
            *out = (SlDTypeP){SL_DT_BOOL, 0};
        else
            goto bad;
        *have = true;
        return true;
    }
bad:
    return sl_err(c->err, SL_E_TYPE, "dtype must be torch.dtype, not %s", sl_type_name(v));
}

/* ---------------------------------------------------------------------------
 * torch.Size
 * ------------------------------------------------------------------------- */

typedef struct Size {
    int ndim;
    int64_t d[SL_TENSOR_MAXDIM];
} Size;

static const SlObjType size_type;

static void size_free(void *data) { free(data); }

static void size_repr(const SlValue *v, FILE *out)
{
    const Size *s = v->u.obj.data;
    fputs("torch.Size([", out);
    for (int i = 0; i < s->ndim; i++)
        fprintf(out, i ? ", %lld" : "%lld", (long long)s->d[i]);
    fputs("])", out);
}

static SlValue *size_value(int ndim, const int64_t *d)
{
    Size *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->ndim = ndim;
    memcpy(s->d, d, (size_t)ndim * sizeof *d);
    return sl_object_new(&size_type, s);
}

static SlValue *size_tuple(const Size *s)
{
    SlValue *t = sl_tuple_new((size_t)s->ndim);
    for (int i = 0; i < s->ndim; i++)
        sl_list_push_take(t, sl_int_si((long)s->d[i]));
    return t;
}

static bool size_equal(const Size *s, SlValue *o)
{
    if (o->kind == SL_OBJECT && o->u.obj.type == &size_type) {
        const Size *t = o->u.obj.data;
        return s->ndim == t->ndim && memcmp(s->d, t->d, (size_t)s->ndim * sizeof *s->d) == 0;
    }
    if (o->kind != SL_TUPLE && o->kind != SL_LIST)
        return false;
    if (o->kind == SL_LIST)
        return false; /* Python: torch.Size([2]) == [2] is False */
    if (o->u.list.len != (size_t)s->ndim)
        return false;
    for (int i = 0; i < s->ndim; i++) {
        long v;
        SlValue *it = o->u.list.items[i];
        if (it->kind != SL_INT || !sl_num_to_long(it, &v) || v != s->d[i])
            return false;
    }
    return true;
}

static SlValue *size_compare(int op, SlValue *a, SlValue *b, SlError *err)
{
    SlValue *self = a->kind == SL_OBJECT && a->u.obj.type == &size_type ? a : b;
    SlValue *other = self == a ? b : a;
    if (op == SL_OP_EQ || op == SL_OP_NE) {
        bool eq = size_equal(self->u.obj.data, other);
        return sl_bool(op == SL_OP_EQ ? eq : !eq);
    }
    return sl_err(err, SL_E_TYPE, "'%s' not supported between instances of 'torch.Size' and '%s'", sl_op_name(op),
                  sl_type_name(other)),
           NULL;
}

static SlValue *size_index(SlValue *self, SlValue *const *idx, size_t n, SlError *err)
{
    const Size *s = self->u.obj.data;
    if (n != 1)
        return sl_err(err, SL_E_TYPE, "tuple indices must be integers or slices, not tuple"), NULL;
    if (idx[0]->kind == SL_OBJECT && idx[0]->u.obj.type == &sl_slice_type) {
        const SlSlice *sl = idx[0]->u.obj.data;
        long a = 0, b = s->ndim, st = 1;
        if ((sl->step && sl->step->kind != SL_NONE && !sl_value_as_long(sl->step, &st)) || st == 0)
            return sl_err(err, SL_E_VALUE, "slice step cannot be zero"), NULL;
        long lo = st < 0 ? -1 : 0, hi = st < 0 ? s->ndim - 1 : s->ndim;
        a = st < 0 ? hi : lo;
        b = st < 0 ? lo : hi;
        if (sl->start && sl->start->kind != SL_NONE && sl_value_as_long(sl->start, &a)) {
            if (a < 0)
                a = a + s->ndim < lo ? lo : a + s->ndim;
            else if (a > hi)
                a = hi;
        }
        if (sl->stop && sl->stop->kind != SL_NONE && sl_value_as_long(sl->stop, &b)) {
            if (b < 0)
                b = b + s->ndim < lo ? lo : b + s->ndim;
            else if (b > hi)
                b = hi;
        }
        int64_t d[SL_TENSOR_MAXDIM];
        int k = 0;
        for (long i = a; st > 0 ? i < b : i > b; i += st)
            d[k++] = s->d[i];
        return size_value(k, d);
    }
    long i;
    if (!sl_value_as_long(idx[0], &i))
        return sl_err(err, SL_E_INDEX_TYPE, "tuple", sl_type_name(idx[0])), NULL;
    if (i < 0)
        i += s->ndim;
    if (i < 0 || i >= s->ndim)
        return sl_err(err, SL_E_INDEX_RANGE, "tuple"), NULL;
    return sl_int_si((long)s->d[i]);
}

static bool size_length(const SlValue *self, size_t *n, SlError *err)
{
    (void)err;
    *n = (size_t)((const Size *)self->u.obj.data)->ndim;
    return true;
}

static SlValue *size_iter(SlValue *self, SlError *err)
{
    (void)err;
    SlValue *t = size_tuple(self->u.obj.data);
    SlValue *l = sl_list_new(t->u.list.len);
    for (size_t i = 0; i < t->u.list.len; i++)
        sl_list_push(l, t->u.list.items[i]);
    sl_unref(t);
    return l;
}

static SlValue *m_size_numel(SlCall *c)
{
    const Size *s = c->self->u.obj.data;
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= s->d[i];
    return sl_int_si((long)n);
}

static const SlBuiltin size_methods[] = {
    {"numel", m_size_numel, "torch.Size.numel()", "Number of elements of a tensor of this shape."},
};

static const SlBuiltin *size_method(const SlValue *self, const char *name)
{
    (void)self;
    for (size_t i = 0; i < sizeof size_methods / sizeof size_methods[0]; i++)
        if (strcmp(size_methods[i].name, name) == 0)
            return &size_methods[i];
    return NULL;
}

static const SlObjType size_type = {.name = "torch.Size",
                                    .free = size_free,
                                    .repr = size_repr,
                                    .compare = size_compare,
                                    .index = size_index,
                                    .length = size_length,
                                    .iter = size_iter,
                                    .method = size_method};

/* A shape from a list, tuple, torch.Size or ints; -1 allowed when infer. */
static bool shape_of_value(SlCall *c, const char *fname, SlValue *v, int *nd, int64_t *shape)
{
    if (v->kind == SL_OBJECT && v->u.obj.type == &size_type) {
        const Size *s = v->u.obj.data;
        *nd = s->ndim;
        memcpy(shape, s->d, (size_t)s->ndim * sizeof *shape);
        return true;
    }
    if (v->kind == SL_LIST || v->kind == SL_TUPLE) {
        if (v->u.list.len > SL_TENSOR_MAXDIM)
            return sl_err(c->err, SL_E_LIMIT, "tensors have at most 16 dimensions");
        for (size_t i = 0; i < v->u.list.len; i++) {
            long l;
            if (!sl_arg_long(c, fname, "size", v->u.list.items[i], &l))
                return false;
            shape[i] = l;
        }
        *nd = (int)v->u.list.len;
        return true;
    }
    long l;
    if (!sl_arg_long(c, fname, "size", v, &l))
        return false;
    *nd = 1;
    shape[0] = l;
    return true;
}

/* size as positional ints from index `from`, one sequence, or size= */
static bool parse_shape(SlCall *c, const char *fname, size_t from, int *nd, int64_t *shape)
{
    SlValue *kw = kwarg(c, "size");
    if (c->nargs <= from) {
        if (kw)
            return shape_of_value(c, fname, kw, nd, shape);
        *nd = 0;
        return true;
    }
    if (c->nargs == from + 1 && c->args[from]->kind != SL_INT && c->args[from]->kind != SL_BOOL)
        return shape_of_value(c, fname, c->args[from], nd, shape);
    if (c->nargs - from > SL_TENSOR_MAXDIM)
        return sl_err(c->err, SL_E_LIMIT, "tensors have at most 16 dimensions");
    for (size_t i = from; i < c->nargs; i++) {
        long l;
        if (!sl_arg_long(c, fname, "size", c->args[i], &l))
            return false;
        shape[i - from] = l;
    }
    *nd = (int)(c->nargs - from);
    return true;
}

/* ---------------------------------------------------------------------------
 * grad_fn objects: <MulBackward0>
 * ------------------------------------------------------------------------- */

static const SlObjType node_type;

static void node_free(void *data) { sl_node_unref(data); }

static void node_repr(const SlValue *v, FILE *out)
{
    const SlNode *n = v->u.obj.data;
    fprintf(out, "<%s>", sl_node_name(n));
}

static SlValue *node_value(SlNode *n) /* takes a new reference */
{
    return sl_object_new(&node_type, sl_node_ref(n));
}

static SlValue *node_getattr(SlValue *self, const char *name, SlError *err)
{
    (void)err;
    SlNode *n = self->u.obj.data;
    if (strcmp(name, "next_functions") == 0) {
        SlValue *t = sl_tuple_new((size_t)n->nnext);
        for (int i = 0; i < n->nnext; i++) {
            SlValue *pair = sl_tuple_new(2);
            sl_list_push_take(pair, n->next[i] ? node_value(n->next[i]) : SL_NONE_V);
            sl_list_push_take(pair, sl_int_si(0));
            sl_list_push_take(t, pair);
        }
        return t;
    }
    if (strcmp(name, "variable") == 0 && n->leaf)
        return sl_tensor_value(sl_tensor_ref(n->leaf));
    return NULL;
}

static SlValue *m_node_name(SlCall *c)
{
    if (!check_npos(c, "name", 0, 0) || !check_kw(c, "name", NULL))
        return NULL;
    return sl_str_cstr(sl_node_name(c->self->u.obj.data));
}

static const SlBuiltin node_methods[] = {
    {"name", m_node_name, "grad_fn.name()", "The node's name, as PyTorch names it (MulBackward0)."},
};

static const SlBuiltin *node_method(const SlValue *self, const char *name)
{
    (void)self;
    return strcmp(name, "name") == 0 ? &node_methods[0] : NULL;
}

static SlValue *node_compare(int op, SlValue *a, SlValue *b, SlError *err)
{
    bool eq = a->kind == SL_OBJECT && b->kind == SL_OBJECT && a->u.obj.type == b->u.obj.type &&
              a->u.obj.data == b->u.obj.data;
    if (op == SL_OP_EQ)
        return sl_bool(eq);
    if (op == SL_OP_NE)
        return sl_bool(!eq);
    return sl_err(err, SL_E_TYPE, "'%s' not supported for grad_fn objects", sl_op_name(op)), NULL;
}

static const SlObjType node_type = {.name = "grad_fn",
                                    .free = node_free,
                                    .repr = node_repr,
                                    .compare = node_compare,
                                    .getattr = node_getattr,
                                    .method = node_method};

/* ---------------------------------------------------------------------------
 * Nested namespaces: torch.optim, torch.nn, torch.nn.functional,
 * torch.autograd.  Calls on them find builtins by name.
 * ------------------------------------------------------------------------- */

static const SlObjType ns_type;

static void ns_free(void *data) { (void)data; }

static void ns_repr(const SlValue *v, FILE *out) { fprintf(out, "<module '%s'>", (const char *)v->u.obj.data); }

static SlValue *ns_value(const char *name) { return sl_object_new(&ns_type, (void *)name); }

static SlValue *ns_getattr(SlValue *self, const char *name, SlError *err)
{
    const char *mod = self->u.obj.data;
    SlValue *v = sl_tensor_module_attr(mod, name);
    if (v)
        return v;
    const SlBuiltin *b = sl_tensor_builtin_lookup(name);
    if (!b)
        b = sl_builtin_lookup(name);
    if (b)
        return sl_builtin_value(b);
    sl_err(err, SL_E_NO_ATTR, mod, name);
    return NULL;
}

static const SlBuiltin *ns_method(const SlValue *self, const char *name)
{
    (void)self;
    const SlBuiltin *b = sl_tensor_builtin_lookup(name);
    return b ? b : sl_builtin_lookup(name);
}

static const SlObjType ns_type = {
    .name = "module", .free = ns_free, .repr = ns_repr, .getattr = ns_getattr, .method = ns_method};

/* ---------------------------------------------------------------------------
 * The Tensor type
 * ------------------------------------------------------------------------- */

SlTensor *sl_tensor_of(const SlValue *v)
{
    if (v && v->kind == SL_OBJECT && v->u.obj.type == &sl_tensor_type)
        return v->u.obj.data;
    return NULL;
}

SlValue *sl_tensor_value(SlTensor *t)
{
    if (!t)
        return NULL;
    return sl_object_new(&sl_tensor_type, t);
}

static void tensor_free(void *data) { sl_tensor_unref(data); }

static double view_get_f(const void *ctx, size_t i) { return sl_tensor_get_d(ctx, (int64_t)i); }
static int64_t view_get_i(const void *ctx, size_t i) { return sl_tensor_get_i(ctx, (int64_t)i); }
static bool view_get_b(const void *ctx, size_t i) { return sl_tensor_get_b(ctx, (int64_t)i); }
static mpfr_srcptr view_get_m(const void *ctx, size_t i) { return sl_tensor_get_m(ctx, (int64_t)i); }

static void tensor_format_buf(SlBuf *out, const SlTensor *t)
{
    SlTensorView v = {
        .dtype = t->dtype,
        .ndim = t->ndim,
        .shape = t->shape,
        .ctx = t,
        .get_f = view_get_f,
        .get_i = view_get_i,
        .get_b = view_get_b,
        .get_m = view_get_m,
        .mpfr_prec = t->dtype == SL_DT_MPFR ? t->storage->prec : 0,
    };
    SlTensorSuffix s = {
        .requires_grad = t->requires_grad && t->grad_fn == NULL,
        .grad_fn = t->grad_fn ? sl_node_name(t->grad_fn) : NULL,
        .parameter = t->is_param,
    };
    sl_tensor_format(out, &v, &s);
}

static void tensor_repr(const SlValue *v, FILE *out)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    tensor_format_buf(&b, v->u.obj.data);
    fwrite(b.s, 1, b.len, out);
    sl_buf_free(&b);
}

/* A number as a Python value: item(). */
static SlValue *elem_value(const SlTensor *t, int64_t i)
{
    switch (t->dtype) {
    case SL_DT_F32:
    case SL_DT_F64: {
        SlValue *f = sl_float_new(53);
        mpfr_set_d(f->u.f, sl_tensor_get_d(t, i), MPFR_RNDN);
        return f;
    }
    case SL_DT_I64: {
        SlValue *z = sl_int_new();
        int64_t v = sl_tensor_get_i(t, i);
        if (v >= LONG_MIN && v <= LONG_MAX)
            mpz_set_si(z->u.z, (long)v);
        return z;
    }
    case SL_DT_BOOL: return sl_bool(sl_tensor_get_b(t, i));
    case SL_DT_MPFR: return sl_num_from_mpfr(sl_tensor_get_m(t, i));
    }
    return SL_NONE_V;
}

static SlValue *tensor_primal(const SlValue *v)
{
    const SlTensor *t = v->u.obj.data;
    if (sl_tensor_numel(t) != 1)
        return NULL;
    return elem_value(t, 0);
}

SlTensor *sl_tensor_operand(SlValue *v, SlError *err)
{
    SlTensor *t = sl_tensor_of(v);
    if (t)
        return sl_tensor_ref(t);
    SlTensor *w = NULL;
    switch (v->kind) {
    case SL_BOOL: w = sl_tensor_scalar_i(SL_DT_BOOL, v->u.b, 0); break;
    case SL_INT: {
        if (!mpz_fits_slong_p(v->u.z))
            return sl_err(err, SL_E_OVERFLOW, "Overflow when unpacking long"), NULL;
        w = sl_tensor_scalar_i(SL_DT_I64, mpz_get_si(v->u.z), 0);
        break;
    }
    case SL_FLOAT: {
        mpfr_prec_t p = mpfr_get_prec(v->u.f);
        if (p == 53) {
            w = sl_tensor_scalar_d(SL_DT_F64, mpfr_get_d(v->u.f, MPFR_RNDN), 0);
        } else {
            w = sl_tensor_scalar_d(SL_DT_MPFR, 0, p);
            sl_tensor_set_m(w, 0, v->u.f);
        }
        break;
    }
    default:
        return sl_err(err, SL_E_TYPE, "expected a tensor or a number, not '%s'", sl_type_name(v)), NULL;
    }
    w->wrapped = true;
    return w;
}

static SlTOp tensor_op(int op)
{
    switch (op) {
    case SL_OP_ADD: return SL_T_ADD;
    case SL_OP_SUB: return SL_T_SUB;
    case SL_OP_MUL: return SL_T_MUL;
    case SL_OP_DIV: return SL_T_DIV;
    case SL_OP_FLOORDIV: return SL_T_FLOORDIV;
    case SL_OP_MOD: return SL_T_MOD;
    case SL_OP_POW: return SL_T_POW;
    case SL_OP_EQ: return SL_T_EQ;
    case SL_OP_NE: return SL_T_NE;
    case SL_OP_LT: return SL_T_LT;
    case SL_OP_LE: return SL_T_LE;
    case SL_OP_GT: return SL_T_GT;
    case SL_OP_GE: return SL_T_GE;
    default: return SL_T_ADD;
    }
}

static bool operand_ok(const SlValue *v)
{
    return sl_tensor_of(v) || sl_is_number(v);
}

static SlValue *tensor_binop(int op, SlValue *a, SlValue *b, SlError *err)
{
    if (!operand_ok(a) || !operand_ok(b)) {
        const char *sym = op == SL_OP_POW ? "** or pow()" : sl_op_name(op);
        return sl_err(err, SL_E_TYPE_BINOP, sym, sl_type_name(a), sl_type_name(b)), NULL;
    }
    SlTensor *ta = sl_tensor_of(a), *tb = sl_tensor_of(b);
    if (op == SL_OP_MATMUL) {
        if (!ta || !tb)
            return sl_err(err, SL_E_TYPE_BINOP, "@", sl_type_name(a), sl_type_name(b)), NULL;
        return sl_tensor_value(sl_ag_matmul(ta, tb, err));
    }
    /* tensor ** Python number: pow.Tensor_Scalar (PowBackward0) */
    if (op == SL_OP_POW && ta && !tb) {
        if (!(ta->dtype == SL_DT_MPFR && b->kind == SL_FLOAT && mpfr_get_prec(b->u.f) > 53)) {
            if (b->kind == SL_INT && !sl_dtype_is_float(ta->dtype)) {
                /* int tensor ** int */
            } else {
                return sl_tensor_value(sl_ag_pow_scalar(ta, sl_num_to_double(b), err));
            }
        }
    }
    SlTensor *A = sl_tensor_operand(a, err);
    if (!A)
        return NULL;
    SlTensor *Bt = sl_tensor_operand(b, err);
    if (!Bt) {
        sl_tensor_unref(A);
        return NULL;
    }
    SlTensor *r;
    if (!ta && (op == SL_OP_ADD || op == SL_OP_MUL))
        r = sl_ag_binary(tensor_op(op), Bt, A, err); /* 2 + x is x.__radd__(2) */
    else if (!ta && op == SL_OP_SUB)
        r = sl_ag_rsub(Bt, A, err);
    else if (!ta && op == SL_OP_DIV)
        r = sl_ag_rdiv(Bt, A, err);
    else
        r = sl_ag_binary(tensor_op(op), A, Bt, err);
    sl_tensor_unref(A);
    sl_tensor_unref(Bt);
    return sl_tensor_value(r);
}

static SlValue *tensor_unop(int op, SlValue *a, SlError *err)
{
    SlTensor *t = sl_tensor_of(a);
    if (op == SL_OP_POS)
        return sl_ref(a);
    if (op == SL_OP_NEG)
        return sl_tensor_value(sl_ag_neg(t, err));
    return sl_err(err, SL_E_TYPE_UNOP, sl_op_name(op), "Tensor"), NULL;
}

static SlValue *tensor_compare(int op, SlValue *a, SlValue *b, SlError *err)
{
    if (!operand_ok(a) || !operand_ok(b)) {
        if (op == SL_OP_EQ)
            return sl_bool(false);
        if (op == SL_OP_NE)
            return sl_bool(true);
        return sl_err(err, SL_E_TYPE, "'%s' not supported between instances of '%s' and '%s'", sl_op_name(op),
                      sl_type_name(a), sl_type_name(b)),
               NULL;
    }
    SlTensor *A = sl_tensor_operand(a, err), *Bt = A ? sl_tensor_operand(b, err) : NULL;
    SlTensor *r = Bt ? sl_tensor_binary(tensor_op(op), A, Bt, err) : NULL;
    sl_tensor_unref(A);
    sl_tensor_unref(Bt);
    return sl_tensor_value(r);
}

static bool tensor_truthy(const SlValue *v, bool *result, SlError *err)
{
    if (sl_cap_on)
        sl_capture_fail("it branches on a tensor's value");
    const SlTensor *t = v->u.obj.data;
    int64_t n = sl_tensor_numel(t);
    if (n != 1)
        return sl_err(err, SL_E_VALUE, n == 0 ? "Boolean value of Tensor with no values is ambiguous"
                                              : "Boolean value of Tensor with more than one value is ambiguous");
    *result = sl_tensor_get_b(t, 0);
    return true;
}

static bool tensor_length(const SlValue *self, size_t *n, SlError *err)
{
    const SlTensor *t = self->u.obj.data;
    if (t->ndim == 0)
        return sl_err(err, SL_E_TYPE, "len() of a 0-d tensor");
    *n = (size_t)t->shape[0];
    return true;
}

static SlValue *tensor_iter(SlValue *self, SlError *err)
{
    SlTensor *t = self->u.obj.data;
    if (t->ndim == 0)
        return sl_err(err, SL_E_TYPE, "iteration over a 0-d tensor"), NULL;
    SlValue *l = sl_list_new((size_t)t->shape[0]);
    for (int64_t i = 0; i < t->shape[0]; i++) {
        SlTensor *e = sl_ag_select(t, 0, i, err);
        if (!e) {
            sl_unref(l);
            return NULL;
        }
        sl_list_push_take(l, sl_tensor_value(e));
    }
    return l;
}

static bool tensor_fmt(SlBuf *out, const SlValue *self, const char *spec, size_t speclen, SlError *err)
{
    const SlTensor *t = self->u.obj.data;
    if (t->ndim == 0) {
        SlValue *item = elem_value(t, 0);
        bool ok = sl_num_format(out, item, spec, speclen, err);
        sl_unref(item);
        return ok;
    }
    if (speclen == 0) {
        tensor_format_buf(out, t);
        return true;
    }
    return sl_err(err, SL_E_TYPE, "unsupported format string passed to Tensor.__format__");
}

SlValue *sl_tensor_inplace_binop(int op, SlValue *self, SlValue *v, SlError *err)
{
    SlTensor *t = sl_tensor_of(self);
    if (!t || !operand_ok(v) || (op != SL_OP_ADD && op != SL_OP_SUB && op != SL_OP_MUL && op != SL_OP_DIV))
        return NULL;
    SlTensor *o = sl_tensor_operand(v, err);
    if (!o)
        return NULL;
    bool ok;
    switch (op) {
    case SL_OP_ADD: ok = sl_ag_add_(t, o, 1.0, err); break;
    case SL_OP_SUB: ok = sl_ag_sub_(t, o, 1.0, err); break;
    case SL_OP_MUL: ok = sl_ag_mul_(t, o, err); break;
    default: ok = sl_ag_div_(t, o, err); break;
    }
    sl_tensor_unref(o);
    return ok ? sl_ref(self) : NULL;
}

/* ---- indexing ----------------------------------------------------------- */

static bool is_slice(const SlValue *v) { return v->kind == SL_OBJECT && v->u.obj.type == &sl_slice_type; }

static bool slice_part(SlValue *v, int64_t dflt, int64_t *out, SlError *err)
{
    if (!v || v->kind == SL_NONE) {
        *out = dflt;
        return true;
    }
    long l;
    if (!sl_value_as_long(v, &l)) {
        if (v->kind == SL_INT) {
            *out = mpz_sgn(v->u.z) < 0 ? INT64_MIN / 2 : INT64_MAX / 2;
            return true;
        }
        return sl_err(err, SL_E_TYPE, "slice indices must be integers or None or have an __index__ method");
    }
    *out = l;
    return true;
}

/* x[idx...] with autograd (grad) or as plain views (for assignment). */
static SlTensor *index_tensor(SlTensor *x, SlValue *const *idx, size_t n, bool grad, SlError *err)
{
    SlTensor *cur = sl_tensor_ref(x);
    int dim = 0;
    size_t nreal = 0;
    for (size_t i = 0; i < n; i++)
        if (idx[i]->kind != SL_NONE)
            nreal++;
    if ((long)nreal > x->ndim) {
        sl_tensor_unref(cur);
        return sl_err(err, SL_E_TENSOR_INDEX, "too many indices for tensor of dimension %d", x->ndim), NULL;
    }
    for (size_t i = 0; i < n && cur; i++) {
        SlValue *v = idx[i];
        SlTensor *next = NULL;
        long l;
        SlTensor *it = sl_tensor_of(v);
        if (v->kind == SL_NONE) {
            next = grad ? sl_ag_unsqueeze(cur, dim, err) : sl_tensor_unsqueeze(cur, dim, err);
            dim++;
        } else if (is_slice(v)) {
            const SlSlice *s = v->u.obj.data;
            int64_t a = 0, b = 0, st = 1;
            if (!slice_part(s->step, 1, &st, err) || !slice_part(s->start, 0, &a, err) ||
                !slice_part(s->stop, INT64_MAX / 2, &b, err)) {
                sl_tensor_unref(cur);
                return NULL;
            }
            if (st == 0) {
                sl_tensor_unref(cur);
                return sl_err(err, SL_E_VALUE, "slice step cannot be zero"), NULL;
            }
            next = grad ? sl_ag_slice(cur, dim, a, b, st, err) : sl_tensor_slice(cur, dim, a, b, st, err);
            dim++;
        } else if ((v->kind == SL_INT || v->kind == SL_BOOL || (it && it->ndim == 0 && !sl_dtype_is_float(it->dtype) &&
                                                                 it->dtype != SL_DT_BOOL)) &&
                   sl_value_as_long(v, &l)) {
            if (v->kind == SL_BOOL) {
                /* x[True] is x[None] in torch */
                next = grad ? sl_ag_unsqueeze(cur, dim, err) : sl_tensor_unsqueeze(cur, dim, err);
                dim++;
            } else {
                next = grad ? sl_ag_select(cur, dim, l, err) : sl_tensor_select(cur, dim, l, err);
            }
        } else if (v->kind == SL_LIST || v->kind == SL_TUPLE || (it && !sl_dtype_is_float(it->dtype))) {
            if (n != 1 || !grad) {
                sl_tensor_unref(cur);
                return sl_err(err, SL_E_INDEX_TYPE, "tensor", "a list mixed with other subscripts"), NULL;
            }
            SlTensor *ix = it ? sl_tensor_ref(it) : sl_tensor_from_data(v, false, (SlDTypeP){SL_DT_I64, 0}, err);
            if (ix && sl_dtype_is_float(ix->dtype)) {
                sl_tensor_unref(ix);
                sl_tensor_unref(cur);
                return sl_err(err, SL_E_INDEX_TYPE, "tensors used as", "floats"), NULL;
            }
            next = ix ? sl_ag_index_tensor(cur, ix, err) : NULL;
            sl_tensor_unref(ix);
        } else {
            sl_tensor_unref(cur);
            return sl_err(err, SL_E_TENSOR_INDEX,
                          "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                          "indices (got %s)",
                          sl_type_name(v)),
                   NULL;
        }
        sl_tensor_unref(cur);
        cur = next;
    }
    return cur;
}

static SlValue *tensor_index(SlValue *self, SlValue *const *idx, size_t n, SlError *err)
{
    return sl_tensor_value(index_tensor(self->u.obj.data, idx, n, true, err));
}

static bool tensor_setindex(SlValue *self, SlValue *const *idx, size_t n, SlValue *v, SlError *err)
{
    SlTensor *t = self->u.obj.data;
    if (sl_grad_enabled() && t->requires_grad && t->grad_fn == NULL) {
        sl_err(err, SL_E_VALUE, "a view of a leaf Variable that requires grad is being used in an in-place operation.");
        sl_err_hint(err, "assign through .data (x.data[i] = v) or inside no_grad { ... }");
        return false;
    }
    SlTensor *src = sl_tensor_operand(v, err);
    if (!src)
        return false;
    SlTensor *view = index_tensor(t, idx, n, false, err);
    bool ok = view && sl_ag_copy_slices(t, view, src, err);
    if (ok && view->version != t->version)
        sl_tensor_bump_version(t);
    sl_tensor_unref(view);
    sl_tensor_unref(src);
    return ok;
}

/* ---- attributes ---------------------------------------------------------- */

static SlValue *tensor_getattr(SlValue *self, const char *name, SlError *err)
{
    SlTensor *t = self->u.obj.data;
    if (strcmp(name, "grad") == 0)
        return t->grad ? sl_tensor_value(sl_tensor_ref(t->grad)) : SL_NONE_V;
    if (strcmp(name, "data") == 0)
        return sl_tensor_value(sl_tensor_data_alias(t));
    if (strcmp(name, "requires_grad") == 0)
        return sl_bool(t->requires_grad);
    if (strcmp(name, "is_leaf") == 0)
        return sl_bool(t->grad_fn == NULL);
    if (strcmp(name, "grad_fn") == 0)
        return t->grad_fn ? node_value(t->grad_fn) : SL_NONE_V;
    if (strcmp(name, "shape") == 0)
        return size_value(t->ndim, t->shape);
    if (strcmp(name, "dtype") == 0)
        return dtype_value(t->dtype, sl_tensor_prec(t));
    if (strcmp(name, "ndim") == 0)
        return sl_int_si(t->ndim);
    if (strcmp(name, "T") == 0) {
        int perm[SL_TENSOR_MAXDIM];
        for (int d = 0; d < t->ndim; d++)
            perm[d] = t->ndim - 1 - d;
        return sl_tensor_value(sl_ag_permute(t, perm, err));
    }
    if (strcmp(name, "device") == 0)
        return sl_str_cstr("cpu");
    if (strcmp(name, "is_cuda") == 0)
        return sl_bool(false);
    return NULL;
}

static bool tensor_setattr(SlValue *self, const char *name, SlValue *v, SlError *err)
{
    SlTensor *t = self->u.obj.data;
    if (strcmp(name, "grad") == 0) {
        if (v->kind == SL_NONE) {
            sl_tensor_assign(&t->grad, NULL);
            return true;
        }
        SlTensor *g = sl_tensor_of(v);
        if (!g)
            return sl_err(err, SL_E_TYPE, "assigned grad expected to be a Tensor or None but got grad of type %s",
                          sl_type_name(v));
        if (g->ndim != t->ndim || memcmp(g->shape, t->shape, (size_t)t->ndim * sizeof *t->shape) != 0)
            return sl_err(err, SL_E_VALUE, "assigned grad has data of a different size");
        if (g->dtype != t->dtype)
            return sl_err(err, SL_E_TYPE, "assigned grad has data of a different type");
        sl_tensor_assign(&t->grad, g);
        return true;
    }
    if (strcmp(name, "data") == 0) {
        SlTensor *d = sl_tensor_of(v);
        if (!d)
            return sl_err(err, SL_E_TYPE, "Variable data has to be a tensor, but got %s", sl_type_name(v));
        /* set_data: take d's storage and geometry, keep identity and history */
        d->storage->refs++;
        SlStorage *old = t->storage;
        t->storage = d->storage;
        t->dtype = d->dtype;
        t->ndim = d->ndim;
        memcpy(t->shape, d->shape, sizeof t->shape);
        memcpy(t->strides, d->strides, sizeof t->strides);
        t->offset = d->offset;
        /* release the old storage through a throwaway header */
        SlTensor *tmp = sl_tensor_alias(t);
        tmp->storage->refs--;
        tmp->storage = old;
        sl_tensor_unref(tmp);
        return true;
    }
    if (strcmp(name, "requires_grad") == 0) {
        bool b;
        if (v->kind != SL_BOOL)
            return sl_err(err, SL_E_TYPE, "requires_grad must be a bool, not %s", sl_type_name(v));
        b = v->u.b;
        return sl_ag_requires_grad_(t, b, err);
    }
    return sl_err(err, SL_E_NO_ATTR, "Tensor", name);
}

/* ---- math hook: sin(t), exp(t), max(t), atan2(a, b), round(t, 2) ---------- */

static SlValue *tensor_math(int fn, SlValue *const *args, size_t nargs, SlError *err)
{
    if (nargs == 1) {
        SlTensor *t = sl_tensor_of(args[0]);
        if (!t)
            return sl_err(err, SL_E_TYPE, "%s() got an unsupported argument", sl_math_fns[fn].name), NULL;
        if (fn == SL_FN_MAX || fn == SL_FN_MIN)
            return sl_tensor_value(sl_ag_max_all(t, fn == SL_FN_MIN, err));
        return sl_tensor_value(sl_ag_unary(fn, t, err));
    }
    if (fn == SL_FN_ROUND && nargs == 2) {
        SlTensor *t = sl_tensor_of(args[0]);
        long d;
        if (!t || !sl_value_as_long(args[1], &d))
            return sl_err(err, SL_E_TYPE, "round(tensor, decimals): decimals must be an int"), NULL;
        return sl_tensor_value(sl_ag_round_dec(t, d, err));
    }
    if (fn == SL_FN_ATAN2 || fn == SL_FN_MIN || fn == SL_FN_MAX) {
        SlTOp op = fn == SL_FN_ATAN2 ? SL_T_ATAN2 : fn == SL_FN_MIN ? SL_T_MINIMUM : SL_T_MAXIMUM;
        SlTensor *acc = sl_tensor_operand(args[0], err);
        for (size_t i = 1; acc && i < nargs; i++) {
            SlTensor *b = sl_tensor_operand(args[i], err);
            SlTensor *r = b ? sl_ag_binary(op, acc, b, err) : NULL;
            sl_tensor_unref(b);
            sl_tensor_unref(acc);
            acc = r;
        }
        return sl_tensor_value(acc);
    }
    return sl_err(err, SL_E_TYPE, "%s() takes one tensor argument", sl_math_fns[fn].name), NULL;
}

static const SlBuiltin *tensor_method(const SlValue *self, const char *name);

const SlObjType sl_tensor_type = {
    .name = "Tensor",
    .free = tensor_free,
    .repr = tensor_repr,
    .binop = tensor_binop,
    .unop = tensor_unop,
    .math = tensor_math,
    .primal = tensor_primal,
    .compare = tensor_compare,
    .truthy = tensor_truthy,
    .getattr = tensor_getattr,
    .setattr = tensor_setattr,
    .method = tensor_method,
    .index = tensor_index,
    .setindex = tensor_setindex,
    .length = tensor_length,
    .iter = tensor_iter,
    .format = tensor_fmt,
};

/* ---------------------------------------------------------------------------
 * Data -> tensor (torch.tensor's rules)
 * ------------------------------------------------------------------------- */

typedef struct Scan {
    int nd;                          /* dims found */
    int64_t shape[SL_TENSOR_MAXDIM]; /* their sizes */
    int kind;                        /* 0 bool, 1 int, 2 float */
    bool any;                        /* saw a scalar */
    mpfr_prec_t prec;                /* widest float precision seen */
    bool big_int;                    /* an int beyond int64 */
} Scan;

static bool scan_data(SlValue *v, int depth, Scan *s, SlError *err)
{
    SlTensor *t = sl_tensor_of(v);
    if (v->kind == SL_LIST || v->kind == SL_TUPLE || (t && t->ndim > 0 && depth > 0 && 0)) {
        size_t n = v->u.list.len;
        if (depth >= SL_TENSOR_MAXDIM)
            return sl_err(err, SL_E_LIMIT, "tensors have at most 16 dimensions");
        if (depth == s->nd) {
            if (s->any) /* a number came first at this depth */
                return sl_err(err, SL_E_TYPE, "'%s' object cannot be interpreted as a number here: the items at "
                                              "dim %d mix numbers and lists",
                              sl_type_name(v), depth);
            s->shape[s->nd++] = (int64_t)n;
        } else if (s->shape[depth] != (int64_t)n) {
            return sl_err(err, SL_E_VALUE, "expected sequence of length %lld at dim %d (got %zu)",
                          (long long)s->shape[depth], depth, n);
        }
        for (size_t i = 0; i < n; i++)
            if (!scan_data(v->u.list.items[i], depth + 1, s, err))
                return false;
        return true;
    }
    if (depth < s->nd)
        return sl_err(err, SL_E_TYPE, "not a sequence: expected a list of length %lld at dim %d, got a number",
                      (long long)s->shape[depth], depth);
    s->any = true;
    int k;
    if (t) {
        if (sl_tensor_numel(t) != 1 || t->ndim > 0)
            return sl_err(err, SL_E_VALUE, "only one element tensors can be converted to Python scalars");
        k = sl_dtype_is_float(t->dtype) ? 2 : t->dtype == SL_DT_I64 ? 1 : 0;
    } else if (v->kind == SL_BOOL) {
        k = 0;
    } else if (v->kind == SL_INT) {
        k = 1;
        if (!mpz_fits_slong_p(v->u.z))
            s->big_int = true;
    } else if (v->kind == SL_FLOAT) {
        k = 2;
        if (mpfr_get_prec(v->u.f) > s->prec)
            s->prec = mpfr_get_prec(v->u.f);
    } else {
        SlValue *p = sl_primal(v);
        bool num = sl_is_number(p);
        sl_unref(p);
        if (!num)
            return sl_err(err, SL_E_TYPE, "new(): invalid data type '%s'", sl_type_name(v));
        k = 2;
    }
    if (k > s->kind)
        s->kind = k;
    return true;
}

static void fill_data(SlValue *v, SlTensor *t, int64_t *pos)
{
    if (v->kind == SL_LIST || v->kind == SL_TUPLE) {
        for (size_t i = 0; i < v->u.list.len; i++)
            fill_data(v->u.list.items[i], t, pos);
        return;
    }
    int64_t i = (*pos)++;
    SlTensor *e = sl_tensor_of(v);
    if (e) {
        if (e->dtype == SL_DT_MPFR)
            sl_tensor_set_m(t, i, sl_tensor_get_m(e, 0));
        else if (e->dtype == SL_DT_I64 || e->dtype == SL_DT_BOOL)
            sl_tensor_set_i(t, i, sl_tensor_get_i(e, 0));
        else if (e->dtype == SL_DT_F32 && t->dtype == SL_DT_F32)
            sl_tensor_set_d(t, i, sl_tensor_get_f(e, 0));
        else
            sl_tensor_set_d(t, i, sl_tensor_get_d(e, 0));
        return;
    }
    SlValue *p = sl_primal(v);
    switch (p->kind) {
    case SL_BOOL: sl_tensor_set_i(t, i, p->u.b); break;
    case SL_INT:
        if (mpz_fits_slong_p(p->u.z)) {
            sl_tensor_set_i(t, i, mpz_get_si(p->u.z));
        } else {
            mpfr_t m;
            mpfr_init2(m, t->dtype == SL_DT_MPFR ? t->storage->prec : 64);
            mpfr_set_z(m, p->u.z, MPFR_RNDN);
            sl_tensor_set_m(t, i, m);
            mpfr_clear(m);
        }
        break;
    case SL_FLOAT: sl_tensor_set_m(t, i, p->u.f); break;
    default: break;
    }
    sl_unref(p);
}

SlTensor *sl_tensor_from_data(SlValue *data, bool have_dtype, SlDTypeP dtype, SlError *err)
{
    SlTensor *src = sl_tensor_of(data);
    if (src) {
        SlDTypeP d = have_dtype ? dtype : (SlDTypeP){src->dtype, sl_tensor_prec(src)};
        return sl_tensor_to(src, d.dt, d.prec);
    }
    Scan s = {.nd = 0, .kind = -1, .any = false, .prec = 0, .big_int = false};
    if (!scan_data(data, 0, &s, err))
        return NULL;
    SlDTypeP d = dtype;
    if (!have_dtype) {
        d.prec = 0;
        d.dt = s.kind == 2 ? SL_DT_F32 : s.kind == 1 ? SL_DT_I64 : s.kind == 0 ? SL_DT_BOOL : SL_DT_F32;
    }
    if (d.dt == SL_DT_MPFR && d.prec == 0)
        d.prec = sl_num_prec();
    if (s.big_int && (d.dt == SL_DT_I64 || d.dt == SL_DT_BOOL))
        return sl_err(err, SL_E_OVERFLOW, "Overflow when unpacking long"), NULL;
    SlTensor *t = sl_tensor_zeros(d.dt, s.nd, s.shape, d.prec, err);
    if (!t)
        return NULL;
    int64_t pos = 0;
    fill_data(data, t, &pos);
    return t;
}

/* ---------------------------------------------------------------------------
 * Methods
 * ------------------------------------------------------------------------- */

#define SELF ((SlTensor *)c->self->u.obj.data)
#define SELF_T(c) ((SlTensor *)(c)->self->u.obj.data)

static bool noargs(SlCall *c, const char *name)
{
    return check_npos(c, name, 0, 0) && check_kw(c, name, NULL);
}

static SlValue *m_backward(SlCall *c)
{
    static const char *const kw[] = {"gradient", "retain_graph", "create_graph", "inputs", "trace", NULL};
    if (!check_kw(c, "backward", kw) || !check_npos(c, "backward", 0, 2))
        return NULL;
    SlValue *gv = sl_arg(c, 0, "gradient"), *rv = sl_arg(c, 1, "retain_graph");
    SlTensor *g = NULL;
    if (gv && gv->kind != SL_NONE) {
        g = sl_tensor_of(gv);
        if (!g)
            return sl_err(c->err, SL_E_TYPE, "gradient must be a Tensor, not %s", sl_type_name(gv)), NULL;
    }
    bool retain = false;
    if (rv && rv->kind != SL_NONE && !sl_arg_bool(c, "backward", "retain_graph", rv, &retain))
        return NULL;
    SlValue *cg = kwarg(c, "create_graph");
    if (cg && cg->kind == SL_BOOL && cg->u.b)
        return sl_err(c->err, SL_E_VALUE, "create_graph=True (higher derivatives through tensors) is not "
                                          "supported yet; use derivative() or f'' for higher derivatives"),
               NULL;
    /* trace=True (slope's own): print each step of backpropagation (graph.h) */
    bool trace = false;
    SlValue *tv = kwarg(c, "trace");
    if (tv && tv->kind != SL_NONE && !sl_arg_bool(c, "backward", "trace", tv, &trace))
        return NULL;
    sl_ag_receiver_name = receiver_text(c, "backward");
    bool ok;
    if (trace) {
        SlGraphNames names = {0};
        sl_graph_names_add_session(&names, c->s);
        ok = sl_graph_backward_trace(c->s->out, SELF, g, retain, &names, sl_ag_receiver_name,
                                     sl_expr_style() == SL_STYLE_ASCII, c->err);
        sl_graph_names_free(&names);
    } else {
        ok = sl_ag_backward(SELF, g, retain, c->err);
    }
    sl_ag_receiver_name = NULL;
    return ok ? SL_NONE_V : NULL;
}

static SlValue *m_item(SlCall *c)
{
    if (!noargs(c, "item"))
        return NULL;
    if (sl_tensor_numel(SELF) != 1)
        return sl_err(c->err, SL_E_VALUE, "only one element tensors can be converted to Python scalars"), NULL;
    return elem_value(SELF, 0);
}

static SlValue *tolist_rec(const SlTensor *t, int d, int64_t *pos)
{
    if (d == t->ndim)
        return elem_value(t, (*pos)++);
    SlValue *l = sl_list_new((size_t)t->shape[d]);
    for (int64_t i = 0; i < t->shape[d]; i++)
        sl_list_push_take(l, tolist_rec(t, d + 1, pos));
    return l;
}

static SlValue *m_tolist(SlCall *c)
{
    if (!noargs(c, "tolist"))
        return NULL;
    int64_t pos = 0;
    return tolist_rec(SELF, 0, &pos);
}

static SlValue *m_numel(SlCall *c)
{
    if (!noargs(c, "numel"))
        return NULL;
    return sl_int_si((long)sl_tensor_numel(SELF));
}

static SlValue *m_size(SlCall *c)
{
    static const char *const kw[] = {"dim", NULL};
    if (!check_kw(c, "size", kw) || !check_npos(c, "size", 0, 1))
        return NULL;
    SlValue *dv = sl_arg(c, 0, "dim");
    if (!dv || dv->kind == SL_NONE)
        return size_value(SELF->ndim, SELF->shape);
    long d;
    if (!sl_arg_long(c, "size", "dim", dv, &d))
        return NULL;
    int di = (int)d;
    if (!sl_tensor_wrap_dim(&di, SELF->ndim, c->err))
        return NULL;
    if (SELF->ndim == 0)
        return sl_err(c->err, SL_E_TENSOR_INDEX, "Dimension specified as %ld but tensor has no dimensions", d), NULL;
    return sl_int_si((long)SELF->shape[di]);
}

static SlValue *m_dim(SlCall *c)
{
    if (!noargs(c, "dim"))
        return NULL;
    return sl_int_si(SELF->ndim);
}

static SlValue *m_view(SlCall *c)
{
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!check_kw(c, "view", (const char *const[]){"size", NULL}))
        return NULL;
    /* view(dtype) is not supported; view(*shape) is */
    if (!parse_shape(c, "view", 0, &nd, shape))
        return NULL;
    return sl_tensor_value(sl_ag_view(SELF, nd, shape, c->err));
}

static SlValue *m_reshape(SlCall *c)
{
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!check_kw(c, "reshape", (const char *const[]){"shape", "size", NULL}))
        return NULL;
    SlValue *sv = kwarg(c, "shape");
    if (sv && c->nargs == 0) {
        if (!shape_of_value(c, "reshape", sv, &nd, shape))
            return NULL;
    } else if (!parse_shape(c, "reshape", 0, &nd, shape)) {
        return NULL;
    }
    return sl_tensor_value(sl_ag_reshape(SELF, nd, shape, c->err));
}

static bool dim_arg(SlCall *c, const char *fname, size_t i, const char *name, long dflt, long *out)
{
    SlValue *v = sl_arg(c, i, name);
    if (!v || v->kind == SL_NONE) {
        *out = dflt;
        return true;
    }
    return sl_arg_long(c, fname, name, v, out);
}

static SlValue *m_flatten(SlCall *c)
{
    static const char *const kw[] = {"start_dim", "end_dim", NULL};
    long a, b;
    if (!check_kw(c, "flatten", kw) || !check_npos(c, "flatten", 0, 2) ||
        !dim_arg(c, "flatten", 0, "start_dim", 0, &a) || !dim_arg(c, "flatten", 1, "end_dim", -1, &b))
        return NULL;
    return sl_tensor_value(sl_ag_flatten(SELF, (int)a, (int)b, c->err));
}

static SlValue *m_squeeze(SlCall *c)
{
    static const char *const kw[] = {"dim", NULL};
    long d;
    if (!check_kw(c, "squeeze", kw) || !check_npos(c, "squeeze", 0, 1) ||
        !dim_arg(c, "squeeze", 0, "dim", -1000, &d))
        return NULL;
    return sl_tensor_value(sl_ag_squeeze(SELF, (int)d, c->err));
}

static SlValue *m_unsqueeze(SlCall *c)
{
    static const char *const kw[] = {"dim", NULL};
    long d;
    if (!check_kw(c, "unsqueeze", kw) || !check_npos(c, "unsqueeze", 0, 1))
        return NULL;
    SlValue *dv = sl_arg(c, 0, "dim");
    if (!dv)
        return sl_err(c->err, SL_E_ARG_MISSING, "unsqueeze", "dim"), NULL;
    if (!sl_arg_long(c, "unsqueeze", "dim", dv, &d))
        return NULL;
    return sl_tensor_value(sl_ag_unsqueeze(SELF, (int)d, c->err));
}

static SlValue *m_t(SlCall *c)
{
    if (!noargs(c, "t"))
        return NULL;
    return sl_tensor_value(sl_ag_t(SELF, c->err));
}

static SlValue *m_transpose(SlCall *c)
{
    static const char *const kw[] = {"dim0", "dim1", NULL};
    long a, b;
    if (!check_kw(c, "transpose", kw) || !check_npos(c, "transpose", 0, 2))
        return NULL;
    SlValue *av = sl_arg(c, 0, "dim0"), *bv = sl_arg(c, 1, "dim1");
    if (!av || !bv)
        return sl_err(c->err, SL_E_ARG_MISSING, "transpose", !av ? "dim0" : "dim1"), NULL;
    if (!sl_arg_long(c, "transpose", "dim0", av, &a) || !sl_arg_long(c, "transpose", "dim1", bv, &b))
        return NULL;
    return sl_tensor_value(sl_ag_transpose(SELF, (int)a, (int)b, c->err));
}

static SlValue *m_permute(SlCall *c)
{
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!check_kw(c, "permute", (const char *const[]){"dims", NULL}))
        return NULL;
    SlValue *dv = kwarg(c, "dims");
    if (dv && c->nargs == 0) {
        if (!shape_of_value(c, "permute", dv, &nd, shape))
            return NULL;
    } else if (!parse_shape(c, "permute", 0, &nd, shape)) {
        return NULL;
    }
    if (nd != SELF->ndim)
        return sl_err(c->err, SL_E_VALUE,
                      "permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
                      "the desired ordering of dimensions i.e. input.dim() = %d is not equal to len(dims) = %d",
                      SELF->ndim, nd),
               NULL;
    int perm[SL_TENSOR_MAXDIM];
    for (int d = 0; d < nd; d++)
        perm[d] = (int)shape[d];
    return sl_tensor_value(sl_ag_permute(SELF, perm, c->err));
}

static SlValue *m_expand(SlCall *c)
{
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!check_kw(c, "expand", (const char *const[]){"size", NULL}) || !parse_shape(c, "expand", 0, &nd, shape))
        return NULL;
    return sl_tensor_value(sl_ag_expand(SELF, nd, shape, c->err));
}

/* dim= as an int or a list of ints -> mask; *all when absent */
static bool dims_mask(SlCall *c, const char *fname, SlValue *dv, const SlTensor *t, uint32_t *mask, bool *all)
{
    *mask = 0;
    *all = !dv || dv->kind == SL_NONE;
    if (*all)
        return true;
    SlValue *const *items = &dv;
    size_t n = 1;
    if (dv->kind == SL_LIST || dv->kind == SL_TUPLE) {
        items = dv->u.list.items;
        n = dv->u.list.len;
        if (n == 0) {
            *all = true;
            return true;
        }
    }
    for (size_t i = 0; i < n; i++) {
        long d;
        if (!sl_arg_long(c, fname, "dim", items[i], &d))
            return false;
        int di = (int)d;
        if (!sl_tensor_wrap_dim(&di, t->ndim, c->err))
            return false;
        if (t->ndim == 0)
            continue;
        if (*mask & (1u << di))
            return sl_err(c->err, SL_E_VALUE, "dim %d appears multiple times in the list of dims", di);
        *mask |= 1u << di;
    }
    return true;
}

static SlValue *reduce_call(SlCall *c, SlTensor *t, const char *fname, bool mean)
{
    static const char *const kw[] = {"dim", "keepdim", "dtype", NULL};
    if (!check_kw(c, fname, kw))
        return NULL;
    size_t base = c->self ? 0 : 1;
    if (!check_npos(c, fname, base, base + 2))
        return NULL;
    SlValue *dv = sl_arg(c, base, "dim"), *kv = sl_arg(c, base + 1, "keepdim");
    uint32_t mask;
    bool all, keep = false;
    if (!dims_mask(c, fname, dv, t, &mask, &all))
        return NULL;
    if (kv && !sl_arg_bool(c, fname, "keepdim", kv, &keep))
        return NULL;
    bool have;
    SlDTypeP dt;
    if (!parse_dtype(c, kwarg(c, "dtype"), &have, &dt))
        return NULL;
    SlTensor *src = have ? sl_ag_to(t, dt.dt, dt.prec ? dt.prec : sl_num_prec(), c->err) : sl_tensor_ref(t);
    if (!src)
        return NULL;
    SlTensor *r = mean ? sl_ag_mean(src, mask, all, keep, c->err) : sl_ag_sum(src, mask, all, keep, c->err);
    sl_tensor_unref(src);
    return sl_tensor_value(r);
}

static SlValue *m_sum(SlCall *c) { return reduce_call(c, SELF, "sum", false); }
static SlValue *m_mean(SlCall *c) { return reduce_call(c, SELF, "mean", true); }

/* max()/min(): everything, or along dim= giving (values, indices);
 * max(other) elementwise */
static SlValue *maxmin_call(SlCall *c, SlTensor *t, const char *fname, bool is_min)
{
    static const char *const kw[] = {"dim", "keepdim", NULL};
    if (!check_kw(c, fname, kw))
        return NULL;
    size_t base = c->self ? 0 : 1;
    if (!check_npos(c, fname, base, base + 2))
        return NULL;
    SlValue *dv = sl_arg(c, base, "dim"), *kv = sl_arg(c, base + 1, "keepdim");
    if (dv && sl_tensor_of(dv)) {
        SlTensor *r = sl_ag_binary(is_min ? SL_T_MINIMUM : SL_T_MAXIMUM, t, sl_tensor_of(dv), c->err);
        return sl_tensor_value(r);
    }
    if (!dv || dv->kind == SL_NONE)
        return sl_tensor_value(sl_ag_max_all(t, is_min, c->err));
    long d;
    bool keep = false;
    if (!sl_arg_long(c, fname, "dim", dv, &d) || (kv && !sl_arg_bool(c, fname, "keepdim", kv, &keep)))
        return NULL;
    SlTensor *vals, *idx;
    if (!sl_ag_max_dim(t, (int)d, keep, is_min, &vals, &idx, c->err))
        return NULL;
    SlValue *tup = sl_tuple_new(2);
    sl_list_push_take(tup, sl_tensor_value(vals));
    sl_list_push_take(tup, sl_tensor_value(idx));
    return tup;
}

static SlValue *m_max(SlCall *c) { return maxmin_call(c, SELF, "max", false); }
static SlValue *m_min(SlCall *c) { return maxmin_call(c, SELF, "min", true); }

static SlValue *argmax_call(SlCall *c, SlTensor *t, const char *fname, bool is_min)
{
    static const char *const kw[] = {"dim", "keepdim", NULL};
    if (!check_kw(c, fname, kw))
        return NULL;
    size_t base = c->self ? 0 : 1;
    if (!check_npos(c, fname, base, base + 2))
        return NULL;
    SlValue *dv = sl_arg(c, base, "dim"), *kv = sl_arg(c, base + 1, "keepdim");
    if (!dv || dv->kind == SL_NONE)
        return sl_tensor_value(sl_tensor_argmax_all(t, is_min, c->err));
    long d;
    bool keep = false;
    if (!sl_arg_long(c, fname, "dim", dv, &d) || (kv && !sl_arg_bool(c, fname, "keepdim", kv, &keep)))
        return NULL;
    SlTensor *vals, *idx;
    if (!sl_tensor_max_dim(t, (int)d, keep, is_min, &vals, &idx, c->err))
        return NULL;
    sl_tensor_unref(vals);
    return sl_tensor_value(idx);
}

static SlValue *m_argmax(SlCall *c) { return argmax_call(c, SELF, "argmax", false); }
static SlValue *m_argmin(SlCall *c) { return argmax_call(c, SELF, "argmin", true); }

static SlValue *m_detach(SlCall *c)
{
    if (!noargs(c, "detach"))
        return NULL;
    return sl_tensor_value(sl_ag_detach(SELF));
}

static SlValue *m_clone(SlCall *c)
{
    if (!check_kw(c, "clone", (const char *const[]){"memory_format", NULL}) || !check_npos(c, "clone", 0, 0))
        return NULL;
    return sl_tensor_value(sl_ag_clone(SELF, c->err));
}

static SlValue *m_numpy(SlCall *c)
{
    if (!check_kw(c, "numpy", (const char *const[]){"force", NULL}) || !check_npos(c, "numpy", 0, 0))
        return NULL;
    if (SELF->requires_grad && !(kwarg(c, "force") && kwarg(c, "force")->kind == SL_BOOL &&
                                 kwarg(c, "force")->u.b))
        return sl_err(c->err, SL_E_VALUE, "Can't call numpy() on Tensor that requires grad. Use "
                                          "tensor.detach().numpy() instead."),
               NULL;
    /* slope has no numpy: a detached copy stands in for the array */
    return sl_tensor_value(sl_tensor_clone(SELF));
}

static SlValue *m_requires_grad_(SlCall *c)
{
    static const char *const kw[] = {"requires_grad", NULL};
    if (!check_kw(c, "requires_grad_", kw) || !check_npos(c, "requires_grad_", 0, 1))
        return NULL;
    bool flag = true;
    SlValue *v = sl_arg(c, 0, "requires_grad");
    if (v && !sl_arg_bool(c, "requires_grad_", "requires_grad", v, &flag))
        return NULL;
    if (!sl_ag_requires_grad_(SELF, flag, c->err))
        return NULL;
    return sl_ref(c->self);
}

static SlValue *m_zero_(SlCall *c)
{
    if (!noargs(c, "zero_"))
        return NULL;
    sl_ag_receiver_name = receiver_text(c, "zero_");
    bool ok = sl_ag_fill_(SELF, NULL, c->err);
    sl_ag_receiver_name = NULL;
    return ok ? sl_ref(c->self) : NULL;
}

static SlValue *m_fill_(SlCall *c)
{
    if (!check_kw(c, "fill_", (const char *const[]){"value", NULL}) || !check_npos(c, "fill_", 0, 1))
        return NULL;
    SlValue *v = sl_arg(c, 0, "value");
    if (!v)
        return sl_err(c->err, SL_E_ARG_MISSING, "fill_", "value"), NULL;
    SlTensor *o = sl_tensor_operand(v, c->err);
    if (!o)
        return NULL;
    sl_ag_receiver_name = receiver_text(c, "fill_");
    bool ok = sl_ag_fill_(SELF, o, c->err);
    sl_ag_receiver_name = NULL;
    sl_tensor_unref(o);
    return ok ? sl_ref(c->self) : NULL;
}

/* t.uniform_(from=0, to=1), t.normal_(mean=0, std=1): refill from the
 * generator, as torch draws them */
static SlValue *refill(SlCall *c, const char *fname, bool normal)
{
    const char *const kw_u[] = {"from", "to", NULL}, *const kw_n[] = {"mean", "std", NULL};
    const char *const *kw = normal ? kw_n : kw_u;
    if (!check_kw(c, fname, kw) || !check_npos(c, fname, 0, 2))
        return NULL;
    double a = normal ? 0 : 0, b = 1;
    SlValue *va = sl_arg(c, 0, kw[0]), *vb = sl_arg(c, 1, kw[1]);
    if ((va && !sl_arg_double(c, fname, kw[0], va, &a)) || (vb && !sl_arg_double(c, fname, kw[1], vb, &b)))
        return NULL;
    SlTensor *t = SELF;
    if (!sl_dtype_is_float(t->dtype))
        return sl_err(c->err, SL_E_TYPE, "\"%s\" not implemented for '%s'",
                      normal ? "normal_kernel_cpu" : "check_uniform_bounds", t->dtype == SL_DT_BOOL ? "Bool" : "Long"),
               NULL;
    if (t->requires_grad && sl_grad_enabled())
        return sl_err(c->err, SL_E_VALUE,
                      "a leaf Variable that requires grad is being used in an in-place operation."), NULL;
    if (normal && b < 0)
        return sl_err(c->err, SL_E_VALUE, "normal expects std >= 0.0, but found std %g", b), NULL;
    if (!normal && a > b)
        return sl_err(c->err, SL_E_VALUE, "uniform_ expects to return a [from, to) range, but found from=%g > to=%g", a, b), NULL;
    if (normal)
        sl_tensor_normal_(t, a, b);
    else
        sl_tensor_uniform_(t, a, b);
    return sl_ref(c->self);
}

static SlValue *m_uniform_(SlCall *c) { return refill(c, "uniform_", false); }
static SlValue *m_normal_(SlCall *c) { return refill(c, "normal_", true); }

static SlValue *inplace_call(SlCall *c, const char *fname, int which)
{
    static const char *const kw[] = {"other", "alpha", NULL};
    if (!check_kw(c, fname, which <= 1 ? kw : (const char *const[]){"other", NULL}) || !check_npos(c, fname, 0, 2))
        return NULL;
    SlValue *ov = sl_arg(c, 0, "other");
    if (!ov)
        return sl_err(c->err, SL_E_ARG_MISSING, fname, "other"), NULL;
    double alpha = 1.0;
    SlValue *av = sl_arg(c, 1, "alpha");
    if (av && !sl_arg_double(c, fname, "alpha", av, &alpha))
        return NULL;
    SlTensor *o = sl_tensor_operand(ov, c->err);
    if (!o)
        return NULL;
    sl_ag_receiver_name = receiver_text(c, fname);
    bool ok;
    switch (which) {
    case 0: ok = sl_ag_add_(SELF, o, alpha, c->err); break;
    case 1: ok = sl_ag_sub_(SELF, o, alpha, c->err); break;
    case 2: ok = sl_ag_mul_(SELF, o, c->err); break;
    case 3: ok = sl_ag_div_(SELF, o, c->err); break;
    default: ok = sl_ag_copy_(SELF, o, c->err); break;
    }
    sl_ag_receiver_name = NULL;
    sl_tensor_unref(o);
    return ok ? sl_ref(c->self) : NULL;
}

static SlValue *m_add_(SlCall *c) { return inplace_call(c, "add_", 0); }
static SlValue *m_sub_(SlCall *c) { return inplace_call(c, "sub_", 1); }
static SlValue *m_mul_(SlCall *c) { return inplace_call(c, "mul_", 2); }
static SlValue *m_div_(SlCall *c) { return inplace_call(c, "div_", 3); }
static SlValue *m_copy_(SlCall *c) { return inplace_call(c, "copy_", 4); }

/* out-of-place binary methods: x.add(y, alpha=), x.mul(y), x.pow(e) ... */
static SlValue *binary_method(SlCall *c, const char *fname, int op)
{
    static const char *const kw[] = {"other", "alpha", "exponent", NULL};
    if (!check_kw(c, fname, kw) || !check_npos(c, fname, 1, 2))
        return NULL;
    SlValue *ov = c->args[0];
    SlValue *av = sl_arg(c, 1, "alpha");
    if (av && (op == SL_OP_ADD || op == SL_OP_SUB)) {
        double alpha = 1;
        if (!sl_arg_double(c, fname, "alpha", av, &alpha))
            return NULL;
        SlTensor *o = sl_tensor_operand(ov, c->err);
        if (!o)
            return NULL;
        SlTensor *r = sl_ag_add_alpha(SELF, o, op == SL_OP_SUB ? -alpha : alpha, c->err);
        if (r && r->grad_fn && op == SL_OP_SUB) {
            r->grad_fn->kind = SL_N_SUB;
            r->grad_fn->scalar = alpha;
        }
        sl_tensor_unref(o);
        return sl_tensor_value(r);
    }
    return tensor_binop(op, c->self, ov, c->err);
}

static SlValue *m_add(SlCall *c) { return binary_method(c, "add", SL_OP_ADD); }
static SlValue *m_sub(SlCall *c) { return binary_method(c, "sub", SL_OP_SUB); }
static SlValue *m_mul(SlCall *c) { return binary_method(c, "mul", SL_OP_MUL); }
static SlValue *m_div(SlCall *c) { return binary_method(c, "div", SL_OP_DIV); }
static SlValue *m_pow(SlCall *c) { return binary_method(c, "pow", SL_OP_POW); }
static SlValue *m_matmul(SlCall *c) { return binary_method(c, "matmul", SL_OP_MATMUL); }

static SlValue *cmp_method(SlCall *c, const char *fname, int op)
{
    if (!check_kw(c, fname, NULL) || !check_npos(c, fname, 1, 1))
        return NULL;
    return tensor_compare(op, c->self, c->args[0], c->err);
}

static SlValue *m_eq(SlCall *c) { return cmp_method(c, "eq", SL_OP_EQ); }
static SlValue *m_ne(SlCall *c) { return cmp_method(c, "ne", SL_OP_NE); }
static SlValue *m_lt(SlCall *c) { return cmp_method(c, "lt", SL_OP_LT); }
static SlValue *m_le(SlCall *c) { return cmp_method(c, "le", SL_OP_LE); }
static SlValue *m_gt(SlCall *c) { return cmp_method(c, "gt", SL_OP_GT); }
static SlValue *m_ge(SlCall *c) { return cmp_method(c, "ge", SL_OP_GE); }

static SlValue *unary_method(SlCall *c, const char *fname, int fn)
{
    if (!noargs(c, fname))
        return NULL;
    return sl_tensor_value(sl_ag_unary(fn, SELF, c->err));
}

#define UNARY_METHOD(lower, fn)                                                                              \
    static SlValue *m_##lower(SlCall *c) { return unary_method(c, #lower, fn); }
UNARY_METHOD(sin, SL_FN_SIN)
UNARY_METHOD(cos, SL_FN_COS)
UNARY_METHOD(tan, SL_FN_TAN)
UNARY_METHOD(asin, SL_FN_ASIN)
UNARY_METHOD(acos, SL_FN_ACOS)
UNARY_METHOD(atan, SL_FN_ATAN)
UNARY_METHOD(sinh, SL_FN_SINH)
UNARY_METHOD(cosh, SL_FN_COSH)
UNARY_METHOD(tanh, SL_FN_TANH)
UNARY_METHOD(exp, SL_FN_EXP)
UNARY_METHOD(log, SL_FN_LOG)
UNARY_METHOD(log2, SL_FN_LOG2)
UNARY_METHOD(log10, SL_FN_LOG10)
UNARY_METHOD(sqrt, SL_FN_SQRT)
UNARY_METHOD(abs, SL_FN_ABS)
UNARY_METHOD(sign, SL_FN_SIGN)
UNARY_METHOD(floor, SL_FN_FLOOR)
UNARY_METHOD(ceil, SL_FN_CEIL)
UNARY_METHOD(sigmoid, SL_FN_SIGMOID)
UNARY_METHOD(relu, SL_FN_RELU)
UNARY_METHOD(neg, SL_TU_NEG)
UNARY_METHOD(reciprocal, SL_TU_RECIPROCAL)
UNARY_METHOD(rsqrt, SL_TU_RSQRT)
#undef UNARY_METHOD

static SlValue *m_round(SlCall *c)
{
    if (!check_kw(c, "round", (const char *const[]){"decimals", NULL}) || !check_npos(c, "round", 0, 0))
        return NULL;
    SlValue *dv = kwarg(c, "decimals");
    long d = 0;
    if (dv && !sl_arg_long(c, "round", "decimals", dv, &d))
        return NULL;
    if (!dv)
        return sl_tensor_value(sl_ag_unary(SL_FN_ROUND, SELF, c->err));
    return sl_tensor_value(sl_ag_round_dec(SELF, d, c->err));
}

static SlValue *convert_method(SlCall *c, const char *fname, SlDType dt)
{
    if (!noargs(c, fname))
        return NULL;
    return sl_tensor_value(sl_ag_to(SELF, dt, sl_num_prec(), c->err));
}

static SlValue *m_float(SlCall *c) { return convert_method(c, "float", SL_DT_F32); }
static SlValue *m_double(SlCall *c) { return convert_method(c, "double", SL_DT_F64); }
static SlValue *m_long(SlCall *c) { return convert_method(c, "long", SL_DT_I64); }
static SlValue *m_bool(SlCall *c) { return convert_method(c, "bool", SL_DT_BOOL); }

static SlValue *m_to(SlCall *c)
{
    if (!check_kw(c, "to", (const char *const[]){"dtype", "device", NULL}) || !check_npos(c, "to", 0, 2))
        return NULL;
    SlValue *dv = kwarg(c, "dtype");
    for (size_t i = 0; !dv && i < c->nargs; i++)
        if (c->args[i]->kind == SL_OBJECT && c->args[i]->u.obj.type == &dtype_type)
            dv = c->args[i];
    bool have;
    SlDTypeP dt;
    if (!parse_dtype(c, dv, &have, &dt))
        return NULL;
    if (!have)
        return sl_ref(c->self); /* .to("cpu") */
    return sl_tensor_value(sl_ag_to(SELF, dt.dt, dt.prec ? dt.prec : sl_num_prec(), c->err));
}

/* a.astype(np.float32): numpy's conversion (always a copy), for tensors
 * standing in for numpy arrays */
static SlValue *m_astype(SlCall *c)
{
    if (!check_kw(c, "astype", (const char *const[]){"dtype", NULL}) || !check_npos(c, "astype", 0, 1))
        return NULL;
    SlValue *dv = c->nargs ? c->args[0] : kwarg(c, "dtype");
    if (!dv)
        return sl_err(c->err, SL_E_ARG_MISSING, "astype", "dtype"), NULL;
    bool have;
    SlDTypeP dt;
    if (!parse_dtype(c, dv, &have, &dt))
        return NULL;
    if (!have)
        return sl_err(c->err, SL_E_TYPE, "astype() needs a dtype such as np.float32"), NULL;
    return sl_tensor_value(sl_tensor_to(SELF, dt.dt, dt.prec ? dt.prec : sl_num_prec()));
}

static SlValue *m_contiguous(SlCall *c)
{
    if (!noargs(c, "contiguous"))
        return NULL;
    if (sl_tensor_is_contiguous(SELF))
        return sl_ref(c->self);
    return sl_tensor_value(sl_ag_clone(SELF, c->err));
}

static SlValue *m_is_contiguous(SlCall *c)
{
    if (!noargs(c, "is_contiguous"))
        return NULL;
    return sl_bool(sl_tensor_is_contiguous(SELF));
}

static SlValue *m_retain_grad(SlCall *c)
{
    if (!noargs(c, "retain_grad"))
        return NULL;
    return sl_ag_retain_grad(SELF, c->err) ? SL_NONE_V : NULL;
}

static SlValue *m_type_as_str(SlCall *c)
{
    if (!noargs(c, "type"))
        return NULL;
    const char *n = SELF->dtype == SL_DT_F32 ? "torch.FloatTensor" : SELF->dtype == SL_DT_F64 ? "torch.DoubleTensor"
                  : SELF->dtype == SL_DT_I64 ? "torch.LongTensor" : SELF->dtype == SL_DT_BOOL ? "torch.BoolTensor"
                                                                                              : "slope.MPFRTensor";
    return sl_str_cstr(n);
}

static SlValue *m_dot(SlCall *c)
{
    if (!check_kw(c, "dot", NULL) || !check_npos(c, "dot", 1, 1))
        return NULL;
    SlTensor *o = sl_tensor_of(c->args[0]);
    if (!o)
        return sl_err(c->err, SL_E_ARG_TYPE, "dot", "'tensor'", "Tensor", sl_type_name(c->args[0])), NULL;
    if (SELF->ndim != 1 || o->ndim != 1)
        return sl_err(c->err, SL_E_VALUE, "1D tensors expected, but got %dD and %dD tensors", SELF->ndim, o->ndim),
               NULL;
    return sl_tensor_value(sl_ag_matmul(SELF, o, c->err));
}

static SlValue *m_mm(SlCall *c)
{
    if (!check_kw(c, "mm", NULL) || !check_npos(c, "mm", 1, 1))
        return NULL;
    SlTensor *o = sl_tensor_of(c->args[0]);
    if (!o)
        return sl_err(c->err, SL_E_ARG_TYPE, "mm", "'mat2'", "Tensor", sl_type_name(c->args[0])), NULL;
    return sl_tensor_value(sl_ag_mm(SELF, o, c->err));
}

static SlValue *m_norm(SlCall *c)
{
    if (!check_kw(c, "norm", (const char *const[]){"p", NULL}) || !check_npos(c, "norm", 0, 1))
        return NULL;
    double p = 2;
    SlValue *pv = sl_arg(c, 0, "p");
    if (pv && pv->kind != SL_NONE && !sl_arg_double(c, "norm", "p", pv, &p))
        return NULL;
    return sl_tensor_value(sl_ag_norm(SELF_T(c), p, c->err));
}

static SlValue *m_clamp(SlCall *c)
{
    if (!check_kw(c, "clamp", (const char *const[]){"min", "max", NULL}) || !check_npos(c, "clamp", 0, 2))
        return NULL;
    SlValue *lv = sl_arg(c, 0, "min"), *hv = sl_arg(c, 1, "max");
    double lo = 0, hi = 0;
    bool hl = lv && lv->kind != SL_NONE, hh = hv && hv->kind != SL_NONE;
    if ((hl && !sl_arg_double(c, "clamp", "min", lv, &lo)) || (hh && !sl_arg_double(c, "clamp", "max", hv, &hi)))
        return NULL;
    return sl_tensor_value(sl_ag_clamp(SELF_T(c), hl, lo, hh, hi, c->err));
}

static SlValue *m_clamp_min(SlCall *c)
{
    if (!check_kw(c, "clamp_min", NULL) || !check_npos(c, "clamp_min", 1, 1))
        return NULL;
    double lo = 0;
    if (!sl_arg_double(c, "clamp_min", "min", c->args[0], &lo))
        return NULL;
    return sl_tensor_value(sl_ag_clamp(SELF_T(c), true, lo, false, 0, c->err));
}

static SlValue *allany(SlCall *c, const char *fname, bool all)
{
    if (!noargs(c, fname))
        return NULL;
    SlTensor *t = SELF_T(c);
    bool r = all;
    for (int64_t i = 0, n = sl_tensor_numel(t); i < n; i++)
        if (sl_tensor_get_b(t, i) != all) {
            r = !all;
            break;
        }
    return sl_tensor_value(sl_tensor_scalar_i(SL_DT_BOOL, r, 0));
}

static SlValue *m_all(SlCall *c) { return allany(c, "all", true); }
static SlValue *m_any(SlCall *c) { return allany(c, "any", false); }

static const SlBuiltin tensor_methods[] = {
    {"backward", m_backward, "t.backward(gradient=None, retain_graph=False, trace=False)",
     "Gradients of t with respect to the leaves that require grad, added into their .grad. trace=True prints "
     "each step as backpropagation runs: the gradient reaching each node, its local derivative, and what it "
     "passes on to each input (the chain rule); node numbers are graph(t)'s."},
    {"item", m_item, "t.item()", "The one element as a Python number."},
    {"tolist", m_tolist, "t.tolist()", "Nested lists of Python numbers."},
    {"numel", m_numel, "t.numel()", "Number of elements."},
    {"size", m_size, "t.size(dim=None)", "The shape (torch.Size), or one dimension's size."},
    {"dim", m_dim, "t.dim()", "Number of dimensions."},
    {"view", m_view, "t.view(*shape)", "The same elements seen with another shape (no copy)."},
    {"reshape", m_reshape, "t.reshape(*shape)", "Another shape; a view when possible, else a copy."},
    {"flatten", m_flatten, "t.flatten(start_dim=0, end_dim=-1)", "Dimensions start..end folded into one."},
    {"squeeze", m_squeeze, "t.squeeze(dim=None)", "Drop dimensions of size 1."},
    {"unsqueeze", m_unsqueeze, "t.unsqueeze(dim)", "Insert a dimension of size 1."},
    {"t", m_t, "t.t()", "Transpose of a matrix."},
    {"transpose", m_transpose, "t.transpose(dim0, dim1)", "Swap two dimensions."},
    {"permute", m_permute, "t.permute(*dims)", "Reorder the dimensions."},
    {"expand", m_expand, "t.expand(*sizes)", "Repeat size-1 dimensions without copying."},
    {"sum", m_sum, "t.sum(dim=None, keepdim=False)", "Sum of all elements, or along dim."},
    {"mean", m_mean, "t.mean(dim=None, keepdim=False)", "Mean of all elements, or along dim."},
    {"max", m_max, "t.max(dim=None, keepdim=False)", "Largest element, or (values, indices) along dim."},
    {"min", m_min, "t.min(dim=None, keepdim=False)", "Smallest element, or (values, indices) along dim."},
    {"argmax", m_argmax, "t.argmax(dim=None, keepdim=False)", "Index of the largest element."},
    {"argmin", m_argmin, "t.argmin(dim=None, keepdim=False)", "Index of the smallest element."},
    {"detach", m_detach, "t.detach()", "The same data without autograd history."},
    {"clone", m_clone, "t.clone()", "A copy (gradients flow back to t)."},
    {"numpy", m_numpy, "t.numpy()", "A detached copy (slope has no numpy arrays; a tensor stands in)."},
    {"requires_grad_", m_requires_grad_, "t.requires_grad_(True)", "Start (or stop) recording operations on t."},
    {"zero_", m_zero_, "t.zero_()", "Set every element to 0, in place."},
    {"fill_", m_fill_, "t.fill_(value)", "Set every element to value, in place."},
    {"uniform_", m_uniform_, "t.uniform_(from=0, to=1)", "Refill with uniform numbers from the generator."},
    {"normal_", m_normal_, "t.normal_(mean=0, std=1)", "Refill with normal numbers from the generator."},
    {"add_", m_add_, "t.add_(other, alpha=1)", "t += alpha*other, in place."},
    {"sub_", m_sub_, "t.sub_(other, alpha=1)", "t -= alpha*other, in place."},
    {"mul_", m_mul_, "t.mul_(other)", "t *= other, in place."},
    {"div_", m_div_, "t.div_(other)", "t /= other, in place."},
    {"copy_", m_copy_, "t.copy_(src)", "Copy src's values into t."},
    {"add", m_add, "t.add(other, alpha=1)", "t + alpha*other."},
    {"sub", m_sub, "t.sub(other, alpha=1)", "t - alpha*other."},
    {"mul", m_mul, "t.mul(other)", "t * other."},
    {"div", m_div, "t.div(other)", "t / other."},
    {"pow", m_pow, "t.pow(exponent)", "t ** exponent."},
    {"matmul", m_matmul, "t.matmul(other)", "t @ other."},
    {"mm", m_mm, "t.mm(mat2)", "Matrix product of two matrices."},
    {"dot", m_dot, "t.dot(other)", "Dot product of two vectors."},
    {"eq", m_eq, "t.eq(other)", "t == other, elementwise."},
    {"ne", m_ne, "t.ne(other)", "t != other, elementwise."},
    {"lt", m_lt, "t.lt(other)", "t < other, elementwise."},
    {"le", m_le, "t.le(other)", "t <= other, elementwise."},
    {"gt", m_gt, "t.gt(other)", "t > other, elementwise."},
    {"ge", m_ge, "t.ge(other)", "t >= other, elementwise."},
    {"sin", m_sin, "t.sin()", "Elementwise sine."},
    {"cos", m_cos, "t.cos()", "Elementwise cosine."},
    {"tan", m_tan, "t.tan()", "Elementwise tangent."},
    {"asin", m_asin, "t.asin()", "Elementwise arcsine."},
    {"acos", m_acos, "t.acos()", "Elementwise arccosine."},
    {"atan", m_atan, "t.atan()", "Elementwise arctangent."},
    {"sinh", m_sinh, "t.sinh()", "Elementwise hyperbolic sine."},
    {"cosh", m_cosh, "t.cosh()", "Elementwise hyperbolic cosine."},
    {"tanh", m_tanh, "t.tanh()", "Elementwise hyperbolic tangent."},
    {"exp", m_exp, "t.exp()", "Elementwise e**t."},
    {"log", m_log, "t.log()", "Elementwise natural logarithm."},
    {"log2", m_log2, "t.log2()", "Elementwise base-2 logarithm."},
    {"log10", m_log10, "t.log10()", "Elementwise base-10 logarithm."},
    {"sqrt", m_sqrt, "t.sqrt()", "Elementwise square root."},
    {"rsqrt", m_rsqrt, "t.rsqrt()", "Elementwise 1/sqrt(t)."},
    {"abs", m_abs, "t.abs()", "Elementwise absolute value."},
    {"sign", m_sign, "t.sign()", "Elementwise sign (-1, 0, 1)."},
    {"floor", m_floor, "t.floor()", "Elementwise floor."},
    {"ceil", m_ceil, "t.ceil()", "Elementwise ceiling."},
    {"round", m_round, "t.round(decimals=0)", "Elementwise rounding, half to even."},
    {"sigmoid", m_sigmoid, "t.sigmoid()", "Elementwise 1/(1+exp(-t))."},
    {"relu", m_relu, "t.relu()", "Elementwise max(t, 0)."},
    {"neg", m_neg, "t.neg()", "Elementwise -t."},
    {"reciprocal", m_reciprocal, "t.reciprocal()", "Elementwise 1/t."},
    {"float", m_float, "t.float()", "A float32 copy."},
    {"double", m_double, "t.double()", "A float64 copy."},
    {"long", m_long, "t.long()", "An int64 copy."},
    {"bool", m_bool, "t.bool()", "A bool copy."},
    {"to", m_to, "t.to(dtype)", "A copy converted to dtype."},
    {"astype", m_astype, "a.astype(np.float32)", "numpy's conversion: a copy in another dtype."},
    {"type", m_type_as_str, "t.type()", "The legacy type name (torch.FloatTensor)."},
    {"contiguous", m_contiguous, "t.contiguous()", "t, or a contiguous copy."},
    {"is_contiguous", m_is_contiguous, "t.is_contiguous()", "Whether the elements are in row-major order."},
    {"retain_grad", m_retain_grad, "t.retain_grad()", "Keep the gradient of a non-leaf tensor in its .grad."},
    {"norm", m_norm, "t.norm(p=2)", "The p-norm of all elements (p = 1 or 2)."},
    {"clamp", m_clamp, "t.clamp(min=None, max=None)", "Elements limited to [min, max]."},
    {"clamp_min", m_clamp_min, "t.clamp_min(min)", "Elements limited below by min."},
    {"all", m_all, "t.all()", "Whether every element is true."},
    {"any", m_any, "t.any()", "Whether some element is true."},
};

static const SlBuiltin *tensor_method(const SlValue *self, const char *name)
{
    (void)self;
    for (size_t i = 0; i < sizeof tensor_methods / sizeof tensor_methods[0]; i++)
        if (strcmp(tensor_methods[i].name, name) == 0)
            return &tensor_methods[i];
    return sl_tensor_extra_method(name);
}

#undef SELF

/* ---------------------------------------------------------------------------
 * Builtins: torch.tensor, zeros, ones, ...
 * ------------------------------------------------------------------------- */

typedef struct Opts {
    bool have_dtype;
    SlDTypeP dtype;
    bool requires_grad;
} Opts;

static bool parse_opts(SlCall *c, const char *fname, Opts *o)
{
    if (!parse_dtype(c, kwarg(c, "dtype"), &o->have_dtype, &o->dtype))
        return false;
    if (o->have_dtype && o->dtype.dt == SL_DT_MPFR && o->dtype.prec == 0)
        o->dtype.prec = sl_num_prec();
    o->requires_grad = false;
    SlValue *rg = kwarg(c, "requires_grad");
    if (rg && !sl_arg_bool(c, fname, "requires_grad", rg, &o->requires_grad))
        return false;
    return true;
}

static SlValue *finish(SlCall *c, SlTensor *t, const Opts *o)
{
    if (!t)
        return NULL;
    if (o->requires_grad && !sl_ag_requires_grad_(t, true, c->err)) {
        sl_tensor_unref(t);
        return NULL;
    }
    return sl_tensor_value(t);
}

static const char *const creation_kw[] = {"dtype", "requires_grad", "device", "size", "layout", "pin_memory",
                                          NULL};

static SlValue *b_tensor(SlCall *c)
{
    static const char *const kw[] = {"data", "dtype", "requires_grad", "device", NULL};
    if (!check_kw(c, "tensor", kw) || !check_npos(c, "tensor", 0, 1))
        return NULL;
    SlValue *data = sl_arg(c, 0, "data");
    if (!data)
        return sl_err(c->err, SL_E_ARG_MISSING, "tensor", "data"), NULL;
    Opts o;
    if (!parse_opts(c, "tensor", &o))
        return NULL;
    return finish(c, sl_tensor_from_data(data, o.have_dtype, o.dtype, c->err), &o);
}

static SlValue *b_np_array(SlCall *c)
{
    static const char *const kw[] = {"object", "dtype", "copy", NULL};
    if (!check_kw(c, "array", kw) || !check_npos(c, "array", 0, 2))
        return NULL;
    SlValue *data = sl_arg(c, 0, "object");
    if (!data)
        return sl_err(c->err, SL_E_ARG_MISSING, "array", "object"), NULL;
    Opts o;
    SlValue *dv = sl_arg(c, 1, "dtype");
    if (!parse_dtype(c, dv, &o.have_dtype, &o.dtype))
        return NULL;
    o.requires_grad = false;
    if (!o.have_dtype && !sl_tensor_of(data)) {
        /* numpy's defaults: float64 and int64 */
        SlTensor *t = sl_tensor_from_data(data, false, o.dtype, c->err);
        if (t && t->dtype == SL_DT_F32) {
            sl_tensor_unref(t);
            t = sl_tensor_from_data(data, true, (SlDTypeP){SL_DT_F64, 0}, c->err);
        }
        return finish(c, t, &o);
    }
    return finish(c, sl_tensor_from_data(data, o.have_dtype, o.dtype, c->err), &o);
}

/* torch.Tensor(data) is float32; torch.Tensor(2, 3) a (zero) tensor of that shape */
static SlValue *b_Tensor(SlCall *c)
{
    if (!check_kw(c, "Tensor", (const char *const[]){"requires_grad", NULL}))
        return NULL;
    Opts o = {false, {SL_DT_F32, 0}, false};
    SlValue *rg = kwarg(c, "requires_grad");
    if (rg && !sl_arg_bool(c, "Tensor", "requires_grad", rg, &o.requires_grad))
        return NULL;
    if (c->nargs == 1 && (c->args[0]->kind == SL_LIST || c->args[0]->kind == SL_TUPLE || sl_tensor_of(c->args[0])))
        return finish(c, sl_tensor_from_data(c->args[0], true, (SlDTypeP){SL_DT_F32, 0}, c->err), &o);
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!parse_shape(c, "Tensor", 0, &nd, shape))
        return NULL;
    if (c->nargs == 0) {
        nd = 1;
        shape[0] = 0;
    }
    return finish(c, sl_tensor_zeros(SL_DT_F32, nd, shape, 0, c->err), &o);
}

static SlValue *b_Variable(SlCall *c)
{
    static const char *const kw[] = {"data", "requires_grad", "volatile", NULL};
    if (!check_kw(c, "Variable", kw) || !check_npos(c, "Variable", 0, 2))
        return NULL;
    SlValue *data = sl_arg(c, 0, "data");
    SlTensor *t = data ? sl_tensor_of(data) : NULL;
    if (!t)
        return sl_err(c->err, SL_E_TYPE, "Variable data has to be a tensor, but got %s",
                      data ? sl_type_name(data) : "nothing"),
               NULL;
    bool rg = false;
    SlValue *rv = sl_arg(c, 1, "requires_grad");
    if (rv && !sl_arg_bool(c, "Variable", "requires_grad", rv, &rg))
        return NULL;
    SlTensor *r = sl_tensor_alias(t);
    if (rg && !sl_ag_requires_grad_(r, true, c->err)) {
        sl_tensor_unref(r);
        return NULL;
    }
    return sl_tensor_value(r);
}

static SlDTypeP default_dtype(const Opts *o)
{
    return o->have_dtype ? o->dtype : (SlDTypeP){SL_DT_F32, 0};
}

static SlValue *fill_builtin(SlCall *c, const char *fname, double v)
{
    if (!check_kw(c, fname, creation_kw))
        return NULL;
    Opts o;
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!parse_opts(c, fname, &o) || !parse_shape(c, fname, 0, &nd, shape))
        return NULL;
    SlDTypeP d = default_dtype(&o);
    return finish(c, sl_tensor_full_d(d.dt, nd, shape, d.prec, v, c->err), &o);
}

static SlValue *b_zeros(SlCall *c) { return fill_builtin(c, "zeros", 0.0); }
static SlValue *b_ones(SlCall *c) { return fill_builtin(c, "ones", 1.0); }
static SlValue *b_empty(SlCall *c) { return fill_builtin(c, "empty", 0.0); }

/* The element value of a fill: keeps ints exact and floats at their precision. */
static SlTensor *full_of(SlCall *c, int nd, const int64_t *shape, SlValue *fv, const Opts *o)
{
    SlDTypeP d;
    if (o->have_dtype)
        d = o->dtype;
    else if (fv->kind == SL_BOOL)
        d = (SlDTypeP){SL_DT_BOOL, 0};
    else if (fv->kind == SL_INT)
        d = (SlDTypeP){SL_DT_I64, 0};
    else
        d = (SlDTypeP){SL_DT_F32, 0};
    SlTensor *one = sl_tensor_from_data(fv, true, d, c->err);
    if (!one)
        return NULL;
    SlTensor *t = sl_tensor_zeros(d.dt, nd, shape, d.prec, c->err);
    if (t && !sl_tensor_copy_(t, one, c->err)) {
        sl_tensor_unref(t);
        t = NULL;
    }
    if (t)
        t->version->v = 0;
    sl_tensor_unref(one);
    return t;
}

static SlValue *b_full(SlCall *c)
{
    static const char *const kw[] = {"size", "fill_value", "dtype", "requires_grad", "device", NULL};
    if (!check_kw(c, "full", kw) || !check_npos(c, "full", 0, 2))
        return NULL;
    SlValue *sv = sl_arg(c, 0, "size"), *fv = sl_arg(c, 1, "fill_value");
    if (!sv || !fv)
        return sl_err(c->err, SL_E_ARG_MISSING, "full", !sv ? "size" : "fill_value"), NULL;
    Opts o;
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!parse_opts(c, "full", &o) || !shape_of_value(c, "full", sv, &nd, shape))
        return NULL;
    if (!sl_is_number(fv) && !sl_tensor_of(fv))
        return sl_err(c->err, SL_E_ARG_TYPE, "full", "'fill_value'", "a number", sl_type_name(fv)), NULL;
    return finish(c, full_of(c, nd, shape, fv, &o), &o);
}

static SlValue *random_builtin(SlCall *c, const char *fname, bool normal)
{
    if (!check_kw(c, fname, (const char *const[]){"dtype", "requires_grad", "device", "size", "generator", NULL}))
        return NULL;
    Opts o;
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!parse_opts(c, fname, &o) || !parse_shape(c, fname, 0, &nd, shape))
        return NULL;
    SlDTypeP d = default_dtype(&o);
    if (!sl_dtype_is_float(d.dt))
        return sl_err(c->err, SL_E_TYPE, "\"%s\" not implemented for '%s'", normal ? "normal_kernel_cpu" : "check_uniform_bounds",
                      d.dt == SL_DT_I64 ? "Long" : "Bool"),
               NULL;
    SlTensor *t = normal ? sl_tensor_randn(d.dt, nd, shape, d.prec, c->err)
                         : sl_tensor_rand(d.dt, nd, shape, d.prec, c->err);
    if (t)
        t->version->v = 0;
    return finish(c, t, &o);
}

static SlValue *b_rand(SlCall *c) { return random_builtin(c, "rand", false); }
static SlValue *b_randn(SlCall *c) { return random_builtin(c, "randn", true); }

static SlValue *b_randint(SlCall *c)
{
    if (!check_kw(c, "randint", (const char *const[]){"low", "high", "size", "dtype", "device", NULL}) ||
        !check_npos(c, "randint", 1, 3))
        return NULL;
    long low = 0, high;
    size_t i = 0;
    SlValue *sz = NULL;
    if (c->nargs == 3 || (c->nargs == 2 && (c->args[1]->kind == SL_INT))) {
        if (!sl_arg_long(c, "randint", "low", c->args[0], &low))
            return NULL;
        i = 1;
    }
    if (!sl_arg_long(c, "randint", "high", c->args[i], &high))
        return NULL;
    sz = i + 1 < c->nargs ? c->args[i + 1] : kwarg(c, "size");
    if (!sz)
        return sl_err(c->err, SL_E_ARG_MISSING, "randint", "size"), NULL;
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!shape_of_value(c, "randint", sz, &nd, shape))
        return NULL;
    return sl_tensor_value(sl_tensor_randint(low, high, nd, shape, c->err));
}

static SlValue *like_builtin(SlCall *c, const char *fname, int what)
{
    static const char *const kw[] = {"input", "dtype", "requires_grad", "device", "fill_value", NULL};
    if (!check_kw(c, fname, kw) || !check_npos(c, fname, 0, what == 2 ? 2 : 1))
        return NULL;
    SlValue *iv = sl_arg(c, 0, "input");
    SlTensor *t = iv ? sl_tensor_of(iv) : NULL;
    if (!t)
        return sl_err(c->err, SL_E_ARG_TYPE, fname, "'input'", "Tensor", iv ? sl_type_name(iv) : "nothing"), NULL;
    Opts o;
    if (!parse_opts(c, fname, &o))
        return NULL;
    SlDTypeP d = o.have_dtype ? o.dtype : (SlDTypeP){t->dtype, sl_tensor_prec(t)};
    SlTensor *r = NULL;
    switch (what) {
    case 0: r = sl_tensor_zeros(d.dt, t->ndim, t->shape, d.prec, c->err); break;
    case 1: r = sl_tensor_full_d(d.dt, t->ndim, t->shape, d.prec, 1.0, c->err); break;
    case 2: {
        SlValue *fv = sl_arg(c, 1, "fill_value");
        if (!fv)
            return sl_err(c->err, SL_E_ARG_MISSING, fname, "fill_value"), NULL;
        Opts o2 = o;
        o2.have_dtype = true;
        o2.dtype = d;
        r = full_of(c, t->ndim, t->shape, fv, &o2);
        break;
    }
    case 3: r = sl_tensor_rand(d.dt, t->ndim, t->shape, d.prec, c->err); break;
    default: r = sl_tensor_randn(d.dt, t->ndim, t->shape, d.prec, c->err); break;
    }
    if (r)
        r->version->v = 0;
    return finish(c, r, &o);
}

static SlValue *b_zeros_like(SlCall *c) { return like_builtin(c, "zeros_like", 0); }
static SlValue *b_ones_like(SlCall *c) { return like_builtin(c, "ones_like", 1); }
static SlValue *b_full_like(SlCall *c) { return like_builtin(c, "full_like", 2); }
static SlValue *b_rand_like(SlCall *c) { return like_builtin(c, "rand_like", 3); }
static SlValue *b_randn_like(SlCall *c) { return like_builtin(c, "randn_like", 4); }

static SlValue *b_arange(SlCall *c)
{
    static const char *const kw[] = {"start", "end", "step", "dtype", "requires_grad", "device", NULL};
    if (!check_kw(c, "arange", kw) || !check_npos(c, "arange", 0, 3))
        return NULL;
    SlValue *v[3] = {NULL, NULL, NULL};
    if (c->nargs == 1) {
        v[1] = c->args[0];
    } else {
        for (size_t i = 0; i < c->nargs; i++)
            v[i] = c->args[i];
    }
    if (!v[0])
        v[0] = kwarg(c, "start");
    if (!v[1])
        v[1] = kwarg(c, "end");
    if (!v[2])
        v[2] = kwarg(c, "step");
    if (!v[1])
        return sl_err(c->err, SL_E_ARG_MISSING, "arange", "end"), NULL;
    double d[3] = {0, 0, 1};
    bool any_float = false;
    static const char *const names[3] = {"start", "end", "step"};
    for (int i = 0; i < 3; i++) {
        if (!v[i])
            continue;
        if (!sl_arg_double(c, "arange", names[i], v[i], &d[i]))
            return NULL;
        SlTensor *t = sl_tensor_of(v[i]);
        if (v[i]->kind == SL_FLOAT || (t && sl_dtype_is_float(t->dtype)))
            any_float = true;
    }
    Opts o;
    if (!parse_opts(c, "arange", &o))
        return NULL;
    SlDTypeP dt = o.have_dtype ? o.dtype : any_float ? (SlDTypeP){SL_DT_F32, 0} : (SlDTypeP){SL_DT_I64, 0};
    return finish(c, sl_tensor_arange(dt.dt, d[0], d[1], d[2], dt.prec, c->err), &o);
}

static SlValue *b_linspace(SlCall *c)
{
    static const char *const kw[] = {"start", "end", "steps", "dtype", "requires_grad", "device", NULL};
    if (!check_kw(c, "linspace", kw) || !check_npos(c, "linspace", 0, 3))
        return NULL;
    SlValue *a = sl_arg(c, 0, "start"), *b = sl_arg(c, 1, "end"), *n = sl_arg(c, 2, "steps");
    if (!a || !b || !n)
        return sl_err(c->err, SL_E_ARG_MISSING, "linspace", !a ? "start" : !b ? "end" : "steps"), NULL;
    double da = 0, db = 0;
    long steps;
    if (!sl_arg_double(c, "linspace", "start", a, &da) || !sl_arg_double(c, "linspace", "end", b, &db) ||
        !sl_arg_long(c, "linspace", "steps", n, &steps))
        return NULL;
    Opts o;
    if (!parse_opts(c, "linspace", &o))
        return NULL;
    SlDTypeP dt = default_dtype(&o);
    return finish(c, sl_tensor_linspace(dt.dt, da, db, steps, dt.prec, c->err), &o);
}

static SlValue *b_eye(SlCall *c)
{
    static const char *const kw[] = {"n", "m", "dtype", "requires_grad", "device", NULL};
    if (!check_kw(c, "eye", kw) || !check_npos(c, "eye", 0, 2))
        return NULL;
    SlValue *nv = sl_arg(c, 0, "n"), *mv = sl_arg(c, 1, "m");
    if (!nv)
        return sl_err(c->err, SL_E_ARG_MISSING, "eye", "n"), NULL;
    long n, m = -1;
    if (!sl_arg_long(c, "eye", "n", nv, &n) || (mv && !sl_arg_long(c, "eye", "m", mv, &m)))
        return NULL;
    Opts o;
    if (!parse_opts(c, "eye", &o))
        return NULL;
    SlDTypeP dt = default_dtype(&o);
    return finish(c, sl_tensor_eye(dt.dt, n, m, dt.prec, c->err), &o);
}

static SlValue *b_manual_seed(SlCall *c)
{
    if (!check_kw(c, "manual_seed", (const char *const[]){"seed", NULL}) || !check_npos(c, "manual_seed", 0, 1))
        return NULL;
    SlValue *sv = sl_arg(c, 0, "seed");
    if (!sv)
        return sl_err(c->err, SL_E_ARG_MISSING, "manual_seed", "seed"), NULL;
    long s;
    if (!sl_arg_long(c, "manual_seed", "seed", sv, &s))
        return NULL;
    sl_tensor_manual_seed((uint64_t)s);
    if (c->s)
        c->s->seed = (unsigned long)s;
    return SL_NONE_V;
}

/* torch.X(t, ...) for the methods: torch.sum(t), torch.matmul(a, b) (tensor_value.h) */
SlValue *sl_tensor_as_method(SlCall *c, const char *fname, SlBuiltinFn m, bool convert)
{
    if (c->nargs < 1 && !kwarg(c, "input"))
        return sl_err(c->err, SL_E_ARG_MISSING, fname, "input"), NULL;
    SlValue *self = c->nargs ? c->args[0] : kwarg(c, "input");
    SlTensor *t = sl_tensor_of(self);
    SlValue *owned = NULL;
    if (!t) {
        if (!convert)
            return sl_err(c->err, SL_E_ARG_TYPE, fname, "'input' (position 1)", "Tensor", sl_type_name(self)), NULL;
        t = sl_tensor_from_data(self, false, (SlDTypeP){SL_DT_F32, 0}, c->err);
        if (!t)
            return NULL;
        owned = sl_tensor_value(t);
        self = owned;
    }
    /* drop "input" from the keywords */
    const char *kwn[16];
    SlValue *kwv[16];
    size_t nkw = 0;
    for (size_t i = 0; i < c->nkw && nkw < 16; i++)
        if (strcmp(c->kwnames[i], "input") != 0) {
            kwn[nkw] = c->kwnames[i];
            kwv[nkw++] = c->kwargs[i];
        }
    SlCall mc = *c;
    mc.self = self;
    mc.args = c->nargs ? c->args + 1 : c->args;
    mc.nargs = c->nargs ? c->nargs - 1 : 0;
    mc.kwnames = kwn;
    mc.kwargs = kwv;
    mc.nkw = nkw;
    SlValue *r = m(&mc);
    sl_unref(owned);
    return r;
}

#define AS_METHOD(name, m, convert)                                                                          \
    static SlValue *b_##name(SlCall *c) { return sl_tensor_as_method(c, #name, m, convert); }
AS_METHOD(sum, m_sum, true)
AS_METHOD(mean, m_mean, true)
AS_METHOD(max, m_max, false)
AS_METHOD(min, m_min, false)
AS_METHOD(argmax, m_argmax, false)
AS_METHOD(argmin, m_argmin, false)
AS_METHOD(matmul, m_matmul, false)
AS_METHOD(mm, m_mm, false)
AS_METHOD(dot, m_dot, false)
AS_METHOD(numel, m_numel, false)
AS_METHOD(reshape, m_reshape, false)
AS_METHOD(flatten, m_flatten, false)
AS_METHOD(squeeze, m_squeeze, false)
AS_METHOD(unsqueeze, m_unsqueeze, false)
AS_METHOD(transpose, m_transpose, false)
AS_METHOD(t, m_t, false)
AS_METHOD(permute, m_permute, false)
AS_METHOD(clone, m_clone, false)
AS_METHOD(detach, m_detach, false)
AS_METHOD(from_numpy, m_clone, false)
AS_METHOD(neg, m_neg, false)
AS_METHOD(reciprocal, m_reciprocal, false)
AS_METHOD(rsqrt, m_rsqrt, false)
AS_METHOD(pow, m_pow, false)
AS_METHOD(add, m_add, false)
AS_METHOD(sub, m_sub, false)
AS_METHOD(mul, m_mul, false)
AS_METHOD(div, m_div, false)
AS_METHOD(eq, m_eq, false)
AS_METHOD(ne, m_ne, false)
AS_METHOD(lt, m_lt, false)
AS_METHOD(le, m_le, false)
AS_METHOD(gt, m_gt, false)
AS_METHOD(ge, m_ge, false)
AS_METHOD(norm, m_norm, false)
AS_METHOD(clamp, m_clamp, false)
AS_METHOD(all, m_all, false)
AS_METHOD(any, m_any, false)
#undef AS_METHOD

static SlValue *b_is_tensor(SlCall *c)
{
    if (!check_kw(c, "is_tensor", NULL) || !check_npos(c, "is_tensor", 1, 1))
        return NULL;
    return sl_bool(sl_tensor_of(c->args[0]) != NULL);
}

static SlValue *b_minimum(SlCall *c)
{
    if (!check_kw(c, "minimum", NULL) || !check_npos(c, "minimum", 2, 2))
        return NULL;
    return tensor_math(SL_FN_MIN, c->args, 2, c->err);
}

static SlValue *b_maximum(SlCall *c)
{
    if (!check_kw(c, "maximum", NULL) || !check_npos(c, "maximum", 2, 2))
        return NULL;
    return tensor_math(SL_FN_MAX, c->args, 2, c->err);
}

static SlValue *b_where(SlCall *c)
{
    if (!check_kw(c, "where", NULL) || !check_npos(c, "where", 3, 3))
        return NULL;
    SlTensor *cond = sl_tensor_of(c->args[0]);
    if (!cond)
        return sl_err(c->err, SL_E_ARG_TYPE, "where", "'condition'", "Tensor", sl_type_name(c->args[0])), NULL;
    SlTensor *a = sl_tensor_operand(c->args[1], c->err), *b = a ? sl_tensor_operand(c->args[2], c->err) : NULL;
    SlTensor *r = b ? sl_ag_where(cond, a, b, c->err) : NULL;
    sl_tensor_unref(a);
    sl_tensor_unref(b);
    return sl_tensor_value(r);
}

/* torch.stack / torch.cat */
static SlValue *join(SlCall *c, const char *fname, bool stack)
{
    if (!check_kw(c, fname, (const char *const[]){"dim", "tensors", NULL}) || !check_npos(c, fname, 0, 2))
        return NULL;
    SlValue *seq = sl_arg(c, 0, "tensors");
    if (!seq)
        return sl_err(c->err, SL_E_ARG_MISSING, fname, "tensors"), NULL;
    if (seq->kind != SL_LIST && seq->kind != SL_TUPLE)
        return sl_err(c->err, SL_E_ARG_TYPE, fname, "'tensors'", "a tuple of Tensors", sl_type_name(seq)), NULL;
    size_t n = seq->u.list.len;
    long dim = 0;
    SlValue *dv = sl_arg(c, 1, "dim");
    if (dv && !sl_arg_long(c, fname, "dim", dv, &dim))
        return NULL;
    if (n > 1000000)
        return sl_err(c->err, SL_E_LIMIT, "%s of more than a million tensors", fname), NULL;
    SlTensor **ts = calloc(n ? n : 1, sizeof *ts);
    if (!ts)
        abort();
    for (size_t i = 0; i < n; i++) {
        ts[i] = sl_tensor_of(seq->u.list.items[i]);
        if (!ts[i]) {
            free(ts);
            return sl_err(c->err, SL_E_TYPE, "expected Tensor as element %zu in argument 0, but got %s", i,
                          sl_type_name(seq->u.list.items[i])),
                   NULL;
        }
    }
    SlTensor *r = sl_ag_cat(ts, (int)n, (int)dim, stack, c->err);
    free(ts);
    return sl_tensor_value(r);
}

static SlValue *b_stack(SlCall *c) { return join(c, "stack", true); }
static SlValue *b_cat(SlCall *c) { return join(c, "cat", false); }

/* ---------------------------------------------------------------------------
 * Tables
 * ------------------------------------------------------------------------- */

static const SlBuiltin tensor_builtins[] = {
    {"tensor", b_tensor, "tensor(data, dtype=None, requires_grad=False)",
     "A tensor from nested lists of numbers (float32 for floats, int64 for ints)."},
    {"Tensor", b_Tensor, "Tensor(data) or Tensor(*shape)", "A float32 tensor from data, or of a shape."},
    {"FloatTensor", b_Tensor, "FloatTensor(data)", "A float32 tensor."},
    {"Variable", b_Variable, "Variable(tensor, requires_grad=False)",
     "The old autograd wrapper: the same tensor, requiring grad if asked."},
    {"array", b_np_array, "np.array(data, dtype=None)",
     "A tensor standing in for a numpy array (float64 for floats unless dtype=)."},
    {"zeros", b_zeros, "zeros(*size, dtype=None, requires_grad=False)", "A tensor of zeros."},
    {"ones", b_ones, "ones(*size, dtype=None, requires_grad=False)", "A tensor of ones."},
    {"empty", b_empty, "empty(*size)", "A tensor of the size (zeros in slope)."},
    {"full", b_full, "full(size, fill_value, dtype=None)", "A tensor filled with one value."},
    {"rand", b_rand, "rand(*size)", "Uniform [0, 1) numbers from the generator (manual_seed)."},
    {"randn", b_randn, "randn(*size)", "Standard normal numbers from the generator (manual_seed)."},
    {"randint", b_randint, "randint(low=0, high, size)", "Random integers in [low, high)."},
    {"zeros_like", b_zeros_like, "zeros_like(t)", "Zeros of t's shape and dtype."},
    {"ones_like", b_ones_like, "ones_like(t)", "Ones of t's shape and dtype."},
    {"full_like", b_full_like, "full_like(t, fill_value)", "fill_value in t's shape and dtype."},
    {"rand_like", b_rand_like, "rand_like(t)", "Uniform numbers in t's shape."},
    {"randn_like", b_randn_like, "randn_like(t)", "Normal numbers in t's shape."},
    {"arange", b_arange, "arange(start=0, end, step=1)", "Evenly spaced values in [start, end)."},
    {"linspace", b_linspace, "linspace(start, end, steps)", "steps evenly spaced values from start to end."},
    {"eye", b_eye, "eye(n, m=n)", "The identity matrix."},
    {"manual_seed", b_manual_seed, "manual_seed(n)", "Seed the generator (as :seed n); rand/randn match torch's."},
    {"mean", b_mean, "mean(t, dim=None, keepdim=False)", "Mean of a tensor's elements."},
    {"argmax", b_argmax, "argmax(t, dim=None)", "Index of the largest element."},
    {"argmin", b_argmin, "argmin(t, dim=None)", "Index of the smallest element."},
    {"matmul", b_matmul, "matmul(a, b)", "Matrix product (also a @ b)."},
    {"mm", b_mm, "mm(a, b)", "Product of two matrices."},
    {"dot", b_dot, "dot(a, b)", "Dot product of two vectors."},
    {"numel", b_numel, "numel(t)", "Number of elements."},
    {"reshape", b_reshape, "reshape(t, shape)", "t in another shape."},
    {"flatten", b_flatten, "flatten(t, start_dim=0, end_dim=-1)", "t with dimensions folded."},
    {"squeeze", b_squeeze, "squeeze(t, dim=None)", "t without size-1 dimensions."},
    {"unsqueeze", b_unsqueeze, "unsqueeze(t, dim)", "t with a new size-1 dimension."},
    {"transpose", b_transpose, "transpose(t, dim0, dim1)", "t with two dimensions swapped."},
    {"t", b_t, "t(m)", "Transpose of a matrix."},
    {"permute", b_permute, "permute(t, dims)", "t with its dimensions reordered."},
    {"clone", b_clone, "clone(t)", "A copy of t."},
    {"detach", b_detach, "detach(t)", "t without history."},
    {"from_numpy", b_from_numpy, "from_numpy(a)", "A tensor from an 'array' (a copy in slope)."},
    {"neg", b_neg, "neg(t)", "-t."},
    {"reciprocal", b_reciprocal, "reciprocal(t)", "1/t."},
    {"rsqrt", b_rsqrt, "rsqrt(t)", "1/sqrt(t)."},
    {"pow", b_pow, "pow(t, exponent)", "t ** exponent."},
    {"add", b_add, "add(a, b, alpha=1)", "a + alpha*b."},
    {"sub", b_sub, "sub(a, b, alpha=1)", "a - alpha*b."},
    {"mul", b_mul, "mul(a, b)", "a * b."},
    {"div", b_div, "div(a, b)", "a / b."},
    {"eq", b_eq, "eq(a, b)", "a == b elementwise."},
    {"ne", b_ne, "ne(a, b)", "a != b elementwise."},
    {"lt", b_lt, "lt(a, b)", "a < b elementwise."},
    {"le", b_le, "le(a, b)", "a <= b elementwise."},
    {"gt", b_gt, "gt(a, b)", "a > b elementwise."},
    {"ge", b_ge, "ge(a, b)", "a >= b elementwise."},
    {"minimum", b_minimum, "minimum(a, b)", "Elementwise smaller of a and b."},
    {"maximum", b_maximum, "maximum(a, b)", "Elementwise larger of a and b."},
    {"where", b_where, "where(cond, a, b)", "a where cond is true, else b."},
    {"stack", b_stack, "stack(tensors, dim=0)", "Tensors joined along a new dimension."},
    {"cat", b_cat, "cat(tensors, dim=0)", "Tensors joined along an existing dimension."},
    {"is_tensor", b_is_tensor, "is_tensor(x)", "Whether x is a tensor."},
    {"norm", b_norm, "norm(t, p=2)", "The p-norm of a tensor's elements."},
    {"clamp", b_clamp, "clamp(t, min=None, max=None)", "Elements limited to [min, max]."},
    {"all", b_all, "all(t)", "Whether every element is true."},
    {"any", b_any, "any(t)", "Whether some element is true."},
};

/* Names that builtins.c also defines (sum, max, min, abs, round, ...):
 * reachable as torch.sum once the evaluator asks this table first for
 * torch.* (see the report); looked up by torch_builtin_lookup. */
static SlValue *b_round(SlCall *c)
{
    if (c->nargs == 1 && sl_tensor_of(c->args[0]))
        return sl_tensor_as_method(c, "round", m_round, false);
    if (!check_kw(c, "round", NULL) || !check_npos(c, "round", 1, 2))
        return NULL;
    return sl_math_value(SL_FN_ROUND, c->args, c->nargs, c->err);
}

static const SlBuiltin torch_shadowed[] = {
    {"round", b_round, "torch.round(t, decimals=0)", "Elementwise rounding, half to even."},
    {"sum", b_sum, "torch.sum(t, dim=None, keepdim=False)", "Sum of a tensor's elements, or along dim."},
    {"max", b_max, "torch.max(t, dim=None, keepdim=False)", "Largest element, or (values, indices) along dim."},
    {"min", b_min, "torch.min(t, dim=None, keepdim=False)", "Smallest element, or (values, indices) along dim."},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const SlBuiltin *sl_tensor_builtin_lookup(const char *name)
{
    for (size_t i = 0; i < COUNT(tensor_builtins); i++)
        if (strcmp(tensor_builtins[i].name, name) == 0)
            return &tensor_builtins[i];
    for (size_t i = 0; i < COUNT(torch_shadowed); i++)
        if (strcmp(torch_shadowed[i].name, name) == 0)
            return &torch_shadowed[i];
    const SlBuiltin *b = sl_nn_builtin_lookup(name);
    if (!b)
        b = sl_optim_builtin_lookup(name);
    return b ? b : sl_tensor_extra_builtin(name);
}

const SlBuiltin *sl_tensor_builtin_at(size_t i)
{
    return i < COUNT(tensor_builtins) ? &tensor_builtins[i] : NULL;
}

SlValue *sl_tensor_module_attr(const char *module, const char *attr)
{
    bool torchlike = strcmp(module, "torch") == 0;
    bool nplike = strcmp(module, "np") == 0;
    if (torchlike || nplike) {
        static const struct {
            const char *name;
            SlDType dt;
            bool np;
        } dts[] = {
            {"float32", SL_DT_F32, true}, {"float", SL_DT_F32, false},  {"float64", SL_DT_F64, true},
            {"double", SL_DT_F64, false}, {"int64", SL_DT_I64, true},   {"long", SL_DT_I64, false},
            {"bool", SL_DT_BOOL, false},  {"bool_", SL_DT_BOOL, true},  {"mpfr", SL_DT_MPFR, false},
        };
        for (size_t i = 0; i < COUNT(dts); i++)
            if (strcmp(dts[i].name, attr) == 0 && (torchlike || dts[i].np))
                return dtype_value(dts[i].dt, sl_num_prec());
    }
    if (torchlike) {
        if (strcmp(attr, "optim") == 0)
            return ns_value("torch.optim");
        if (strcmp(attr, "nn") == 0)
            return ns_value("torch.nn");
        if (strcmp(attr, "autograd") == 0)
            return ns_value("torch.autograd");
        if (strcmp(attr, "Size") == 0)
            return NULL;
    }
    if (strcmp(module, "torch.nn") == 0 || strcmp(module, "nn") == 0) {
        if (strcmp(attr, "functional") == 0)
            return ns_value("torch.nn.functional");
    }
    return NULL;
}
