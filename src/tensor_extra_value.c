/* tensor_extra_value.c -- tensor_extra.h's operations as tensor methods
 * (t.std(), t.sort(), ...) and torch.* functions (torch.std(t), ...), with
 * PyTorch's argument names, defaults and return types: sort and topk give
 * a torch.return_types object, split/chunk/unique tuples, allclose/equal
 * Python bools.
 *
 * Conventions as value.h: arguments borrowed, results new references or
 * NULL after sl_err(c->err, ...).
 */
#include "tensor_extra.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "nnops.h"
#include "num.h"
#include "tensor_value.h"

/* ---------------------------------------------------------------------------
 * Argument helpers (as tensor_value.c's)
 * ------------------------------------------------------------------------- */

static SlValue *kwarg(SlCall *c, const char *name) { return sl_call_kwarg(c, name); }

static bool check(SlCall *c, const char *fname, size_t min, size_t max, const char *const *kw)
{
    return sl_call_keywords(c, fname, kw) && sl_call_arity(c, fname, min, max);
}

static bool given(const SlValue *v) { return v && v->kind != SL_NONE; }

/* an optional bool argument (default when absent or None) */
static bool opt_bool(SlCall *c, const char *fname, const char *argname, const SlValue *v, bool dflt, bool *out)
{
    *out = dflt;
    return !given(v) || sl_arg_bool(c, fname, argname, v, out);
}

static SlTensor *tensor_arg(SlCall *c, const char *fname, const char *argname, const SlValue *v)
{
    if (!v) {
        sl_err(c->err, SL_E_ARG_MISSING, fname, argname);
        return NULL;
    }
    SlTensor *t = sl_tensor_of(v);
    if (!t) {
        char an[64];
        snprintf(an, sizeof an, "'%s'", argname);
        sl_err(c->err, SL_E_ARG_TYPE, fname, an, "Tensor", sl_type_name(v));
    }
    return t;
}

/* dtype=: a torch.dtype object, or Python's float/int/bool */
static bool parse_dtype(SlCall *c, const SlValue *v, bool *have, SlDTypeP *out)
{
    *have = false;
    if (!given(v))
        return true;
    if (v->kind == SL_OBJECT && strcmp(v->u.obj.type->name, "torch.dtype") == 0) {
        *out = *(const SlDTypeP *)v->u.obj.data;
        if (out->dt == SL_DT_MPFR && out->prec == 0)
            out->prec = sl_num_prec();
        *have = true;
        return true;
    }
    if (v->kind == SL_BUILTIN) {
        const char *n = v->u.builtin->name;
        *have = true;
        if (strcmp(n, "float") == 0)
            *out = (SlDTypeP){SL_DT_F64, 0};
        else if (strcmp(n, "int") == 0)
            *out = (SlDTypeP){SL_DT_I64, 0};
        else if (strcmp(n, "bool") == 0)
            *out = (SlDTypeP){SL_DT_BOOL, 0};
        else
            *have = false;
        if (*have)
            return true;
    }
    return sl_err(c->err, SL_E_TYPE, "dtype must be torch.dtype, not %s", sl_type_name(v));
}

/* t converted to the dtype dv (ToCopyBackward0), or t itself when dv is
 * absent or None; a new reference */
static SlTensor *with_dtype_value(SlCall *c, SlTensor *t, const SlValue *dv, bool *ok)
{
    bool have;
    SlDTypeP dt;
    *ok = parse_dtype(c, dv, &have, &dt);
    if (!*ok)
        return NULL;
    if (!have)
        return sl_tensor_ref(t);
    SlTensor *r = sl_ag_to(t, dt.dt, dt.prec, c->err);
    *ok = r != NULL;
    return r;
}

/* the same for the dtype= keyword */
static SlTensor *with_dtype(SlCall *c, SlTensor *t, bool *ok) { return with_dtype_value(c, t, kwarg(c, "dtype"), ok); }

/* the items of a list, tuple or torch.Size (a new list), or NULL */
static SlValue *seq_items(SlCall *c, SlValue *v)
{
    if (v->kind == SL_LIST || v->kind == SL_TUPLE)
        return sl_ref(v);
    if (v->kind == SL_OBJECT && strcmp(v->u.obj.type->name, "torch.Size") == 0 && v->u.obj.type->iter)
        return v->u.obj.type->iter(v, c->err);
    return NULL;
}

/* ints from positional index `from` (several, or one sequence), or keyword
 * kw; at most SL_TENSOR_MAXDIM */
static bool int_list(SlCall *c, const char *fname, const char *argname, size_t from, const char *kw, int *n,
                     int64_t *out)
{
    SlValue *one = NULL;
    size_t np = c->nargs > from ? c->nargs - from : 0;
    if (np == 0)
        one = kw ? kwarg(c, kw) : NULL;
    else if (np == 1)
        one = c->args[from];
    *n = 0;
    if (one) {
        SlValue *items = seq_items(c, one);
        if (items) {
            size_t len = items->u.list.len;
            if (len > SL_TENSOR_MAXDIM) {
                sl_unref(items);
                return sl_err(c->err, SL_E_LIMIT, "tensors have at most 16 dimensions");
            }
            for (size_t i = 0; i < len; i++) {
                long l;
                if (!sl_arg_long(c, fname, argname, items->u.list.items[i], &l)) {
                    sl_unref(items);
                    return false;
                }
                out[(*n)++] = l;
            }
            sl_unref(items);
            return true;
        }
        if (c->err->set)
            return false;
        long l;
        if (!sl_arg_long(c, fname, argname, one, &l))
            return false;
        out[(*n)++] = l;
        return true;
    }
    if (np > SL_TENSOR_MAXDIM)
        return sl_err(c->err, SL_E_LIMIT, "tensors have at most 16 dimensions");
    for (size_t i = from; i < c->nargs; i++) {
        long l;
        if (!sl_arg_long(c, fname, argname, c->args[i], &l))
            return false;
        out[(*n)++] = l;
    }
    return true;
}

/* dim as an int or a sequence of ints -> mask (dims wrapped and checked) */
static bool dims_mask(SlCall *c, const char *fname, SlValue *dv, const SlTensor *t, uint32_t *mask, bool *all)
{
    *mask = 0;
    *all = !given(dv);
    if (*all)
        return true;
    SlValue *items = seq_items(c, dv);
    SlValue *const *it = items ? items->u.list.items : &dv;
    size_t n = items ? items->u.list.len : 1;
    bool ok = true;
    if (items && n == 0)
        *all = true;
    for (size_t i = 0; ok && i < n; i++) {
        long d;
        ok = sl_arg_long(c, fname, "dim", it[i], &d);
        int di = (int)d;
        ok = ok && sl_tensor_wrap_dim(&di, t->ndim, c->err);
        if (ok && t->ndim > 0) {
            if (*mask & (1u << di))
                ok = sl_err(c->err, SL_E_VALUE, "dim %d appears multiple times in the list of dims", di);
            *mask |= 1u << di;
        }
    }
    sl_unref(items);
    return ok;
}

static SlValue *tuple_of(SlTensor **ts, int n)
{
    SlValue *t = sl_tuple_new((size_t)n);
    for (int i = 0; i < n; i++)
        sl_list_push_take(t, sl_tensor_value(ts[i]));
    return t;
}

#define SELF ((SlTensor *)c->self->u.obj.data)

/* The source text of the receiver of t.method(...) when it is a plain name
 * or attribute chain ("w" in w.exp_()), for the hints of in-place errors;
 * NULL otherwise. */
static char receiver_buf[64];

static const char *receiver(SlCall *c, const char *method)
{
    if (!c->src || c->loc.first_line != c->loc.last_line)
        return NULL;
    size_t len;
    const char *line = sl_source_line(c->src, c->loc.first_line, &len);
    if (!line)
        return NULL;
    size_t i = 0; /* columns count characters */
    for (int col = 1; i < len && col < c->loc.first_column; col++) {
        i++;
        while (i < len && ((unsigned char)line[i] & 0xC0) == 0x80)
            i++;
    }
    size_t start = i, mlen = strlen(method);
    const char *dot = NULL;
    for (size_t j = start; j + 1 + mlen <= len; j++)
        if (line[j] == '.' && strncmp(line + j + 1, method, mlen) == 0)
            dot = line + j;
    size_t n = dot ? (size_t)(dot - (line + start)) : 0;
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

/* an in-place call on SELF with the receiver's name for the hints */
#define NAMED(c, method, call)                                                                               \
    (sl_ag_receiver_name = receiver(c, method), inplace_result = (call), sl_ag_receiver_name = NULL,           \
     inplace_result)
static bool inplace_result;

/* ---------------------------------------------------------------------------
 * torch.return_types.sort / topk (/ max / min)
 * ------------------------------------------------------------------------- */

typedef struct RetTypes {
    const char *name;   /* "sort", "topk", ... */
    SlValue *v[2];      /* values, indices (owned) */
} RetTypes;

static const SlObjType ret_type;

static void ret_free(void *data)
{
    RetTypes *r = data;
    sl_unref(r->v[0]);
    sl_unref(r->v[1]);
    free(r);
}

static void ret_repr(const SlValue *v, FILE *out)
{
    const RetTypes *r = v->u.obj.data;
    SlBuf a = {0}, b = {0};
    sl_buf_init(&a);
    sl_buf_init(&b);
    sl_repr(&a, r->v[0]);
    sl_repr(&b, r->v[1]);
    fprintf(out, "torch.return_types.%s(\nvalues=%s,\nindices=%s)", r->name, a.s, b.s);
    sl_buf_free(&a);
    sl_buf_free(&b);
}

static SlValue *ret_getattr(SlValue *self, const char *name, SlError *err)
{
    (void)err;
    const RetTypes *r = self->u.obj.data;
    if (strcmp(name, "values") == 0)
        return sl_ref(r->v[0]);
    if (strcmp(name, "indices") == 0)
        return sl_ref(r->v[1]);
    return NULL;
}

static SlValue *ret_index(SlValue *self, SlValue *const *idx, size_t n, SlError *err)
{
    const RetTypes *r = self->u.obj.data;
    long i;
    if (n != 1 || !sl_value_as_long(idx[0], &i))
        return sl_err(err, SL_E_TYPE, "tuple indices must be integers or slices, not %s",
                      n == 1 ? sl_type_name(idx[0]) : "tuple"),
               NULL;
    if (i < 0)
        i += 2;
    if (i < 0 || i > 1)
        return sl_err(err, SL_E_INDEX_RANGE, "tuple"), NULL;
    return sl_ref(r->v[i]);
}

static bool ret_length(const SlValue *self, size_t *n, SlError *err)
{
    (void)self, (void)err;
    *n = 2;
    return true;
}

static SlValue *ret_iter(SlValue *self, SlError *err)
{
    (void)err;
    const RetTypes *r = self->u.obj.data;
    SlValue *l = sl_list_new(2);
    sl_list_push(l, r->v[0]);
    sl_list_push(l, r->v[1]);
    return l;
}

static const SlObjType ret_type = {.name = "torch.return_types",
                                   .free = ret_free,
                                   .repr = ret_repr,
                                   .getattr = ret_getattr,
                                   .index = ret_index,
                                   .length = ret_length,
                                   .iter = ret_iter};

SlValue *sl_return_types_value(const char *name, SlValue *values, SlValue *indices)
{
    RetTypes *r = malloc(sizeof *r);
    if (!r)
        abort();
    r->name = name;
    r->v[0] = values;
    r->v[1] = indices;
    return sl_object_new(&ret_type, r);
}

static SlValue *pair_value(const char *name, SlTensor *v, SlTensor *i)
{
    return sl_return_types_value(name, sl_tensor_value(v), sl_tensor_value(i));
}

/* ---------------------------------------------------------------------------
 * Reductions and scans
 * ------------------------------------------------------------------------- */

/* std/var(dim=None, unbiased=True, keepdim=False, *, correction=None), or
 * std(unbiased) */
static SlValue *stdvar(SlCall *c, const char *fname, bool take_sqrt)
{
    static const char *const kw[] = {"dim", "unbiased", "keepdim", "correction", NULL};
    if (!check(c, fname, 0, 3, kw))
        return NULL;
    SlValue *dv, *uv, *kv;
    if (c->nargs >= 1 && c->args[0]->kind == SL_BOOL) {
        /* std(unbiased) */
        if (c->nargs > 1)
            return sl_err(c->err, SL_E_TYPE, "%s() received an invalid combination of arguments", fname), NULL;
        dv = kwarg(c, "dim");
        uv = c->args[0];
        kv = kwarg(c, "keepdim");
    } else {
        dv = sl_arg(c, 0, "dim");
        uv = sl_arg(c, 1, "unbiased");
        kv = sl_arg(c, 2, "keepdim");
    }
    SlValue *cv = kwarg(c, "correction");
    bool unbiased, keep;
    uint32_t mask;
    bool all;
    if (!opt_bool(c, fname, "unbiased", uv, true, &unbiased) || !opt_bool(c, fname, "keepdim", kv, false, &keep) ||
        !dims_mask(c, fname, dv, SELF, &mask, &all))
        return NULL;
    long corr = unbiased ? 1 : 0;
    if (given(cv)) {
        if (given(uv))
            return sl_err(c->err, SL_E_TYPE, "%s() received an invalid combination of arguments - got both unbiased "
                                             "and correction", fname),
                   NULL;
        if (cv->kind == SL_FLOAT)
            return sl_err(c->err, SL_E_ARG_TYPE, fname, "'correction'", "int", "float"), NULL;
        if (!sl_arg_long(c, fname, "correction", cv, &corr))
            return NULL;
    }
    return sl_tensor_value(sl_ag_var(SELF, mask, all, corr, keep, take_sqrt, c->err));
}

static SlValue *m_std(SlCall *c) { return stdvar(c, "std", true); }
static SlValue *m_var(SlCall *c) { return stdvar(c, "var", false); }

/* prod(dtype=None) or prod(dim, keepdim=False, dtype=None) */
static SlValue *m_prod(SlCall *c)
{
    static const char *const kw[] = {"dim", "keepdim", "dtype", NULL};
    if (!check(c, "prod", 0, 2, kw))
        return NULL;
    SlValue *dv = sl_arg(c, 0, "dim"), *kv = sl_arg(c, 1, "keepdim");
    long d = 0;
    bool keep, ok;
    if (given(dv) && (dv->kind == SL_LIST || dv->kind == SL_TUPLE))
        return sl_err(c->err, SL_E_ARG_TYPE, "prod", "'dim'", "int", sl_type_name(dv)), NULL;
    if ((given(dv) && !sl_arg_long(c, "prod", "dim", dv, &d)) || !opt_bool(c, "prod", "keepdim", kv, false, &keep))
        return NULL;
    SlTensor *t = with_dtype(c, SELF, &ok);
    if (!ok)
        return NULL;
    SlTensor *r = sl_ag_prod(t, !given(dv), (int)d, keep, c->err);
    sl_tensor_unref(t);
    return sl_tensor_value(r);
}

static SlValue *cum(SlCall *c, const char *fname, bool prod)
{
    static const char *const kw[] = {"dim", "dtype", NULL};
    if (!check(c, fname, 0, 1, kw))
        return NULL;
    SlValue *dv = sl_arg(c, 0, "dim");
    if (!dv)
        return sl_err(c->err, SL_E_ARG_MISSING, fname, "dim"), NULL;
    long d;
    bool ok;
    if (!sl_arg_long(c, fname, "dim", dv, &d))
        return NULL;
    SlTensor *t = with_dtype(c, SELF, &ok);
    if (!ok)
        return NULL;
    SlTensor *r = sl_ag_cumsum(t, (int)d, prod, c->err);
    sl_tensor_unref(t);
    return sl_tensor_value(r);
}

static SlValue *m_cumsum(SlCall *c) { return cum(c, "cumsum", false); }
static SlValue *m_cumprod(SlCall *c) { return cum(c, "cumprod", true); }

static SlValue *m_logsumexp(SlCall *c)
{
    static const char *const kw[] = {"dim", "keepdim", NULL};
    if (!check(c, "logsumexp", 0, 2, kw))
        return NULL;
    SlValue *dv = sl_arg(c, 0, "dim"), *kv = sl_arg(c, 1, "keepdim");
    if (!dv)
        return sl_err(c->err, SL_E_ARG_MISSING, "logsumexp", "dim"), NULL;
    uint32_t mask;
    bool all, keep;
    if (!dims_mask(c, "logsumexp", dv, SELF, &mask, &all) || !opt_bool(c, "logsumexp", "keepdim", kv, false, &keep))
        return NULL;
    if (all)
        mask = ~0u;
    return sl_tensor_value(sl_ag_logsumexp(SELF, mask, keep, c->err));
}

static SlValue *m_trace(SlCall *c)
{
    if (!check(c, "trace", 0, 0, NULL))
        return NULL;
    return sl_tensor_value(sl_ag_trace(SELF, c->err));
}

static SlValue *m_square(SlCall *c)
{
    if (!check(c, "square", 0, 0, NULL))
        return NULL;
    SlTensor *t = SELF;
    if (t->dtype == SL_DT_BOOL) {
        SlTensor *i = sl_tensor_to(t, SL_DT_I64, 0);
        SlTensor *r = sl_ag_pow_scalar(i, 2, c->err);
        sl_tensor_unref(i);
        return sl_tensor_value(r);
    }
    return sl_tensor_value(sl_ag_pow_scalar(t, 2, c->err));
}

/* softmax(dim, dtype=None) / log_softmax */
static SlValue *softmax_m(SlCall *c, const char *fname, bool log)
{
    static const char *const kw[] = {"dim", "dtype", NULL};
    if (!check(c, fname, 0, 2, kw))
        return NULL;
    SlValue *dv = sl_arg(c, 0, "dim");
    if (!given(dv))
        return sl_err(c->err, SL_E_ARG_MISSING, fname, "dim"), NULL;
    long d;
    bool ok;
    if (!sl_arg_long(c, fname, "dim", dv, &d))
        return NULL;
    SlTensor *t = c->nargs > 1 ? with_dtype_value(c, SELF, c->args[1], &ok) : with_dtype(c, SELF, &ok);
    if (!ok)
        return NULL;
    SlTensor *r = sl_ag_softmax(t, (int)d, log, c->err);
    sl_tensor_unref(t);
    return sl_tensor_value(r);
}

static SlValue *m_softmax(SlCall *c) { return softmax_m(c, "softmax", false); }
static SlValue *m_log_softmax(SlCall *c) { return softmax_m(c, "log_softmax", true); }

/* ---------------------------------------------------------------------------
 * In place
 * ------------------------------------------------------------------------- */

static SlValue *unary_(SlCall *c, const char *fname, int fn)
{
    if (!check(c, fname, 0, 0, NULL))
        return NULL;
    return NAMED(c, fname, sl_ag_unary_(fn, SELF, c->err)) ? sl_ref(c->self) : NULL;
}

static SlValue *m_exp_(SlCall *c) { return unary_(c, "exp_", SL_FN_EXP); }
static SlValue *m_log_(SlCall *c) { return unary_(c, "log_", SL_FN_LOG); }
static SlValue *m_abs_(SlCall *c) { return unary_(c, "abs_", SL_FN_ABS); }
static SlValue *m_sqrt_(SlCall *c) { return unary_(c, "sqrt_", SL_FN_SQRT); }
static SlValue *m_neg_(SlCall *c) { return unary_(c, "neg_", SL_TU_NEG); }

static SlValue *m_pow_(SlCall *c)
{
    static const char *const kw[] = {"exponent", NULL};
    if (!check(c, "pow_", 0, 1, kw))
        return NULL;
    SlValue *ev = sl_arg(c, 0, "exponent");
    if (!ev)
        return sl_err(c->err, SL_E_ARG_MISSING, "pow_", "exponent"), NULL;
    double e;
    if (sl_tensor_of(ev) && sl_tensor_of(ev)->ndim > 0)
        return sl_err(c->err, SL_E_TYPE, "pow_(): slope takes a number as the exponent of an in-place power"),
               NULL;
    if (!sl_arg_double(c, "pow_", "exponent", ev, &e))
        return NULL;
    return NAMED(c, "pow_", sl_ag_pow_(SELF, e, c->err)) ? sl_ref(c->self) : NULL;
}

static SlValue *m_clamp_(SlCall *c)
{
    static const char *const kw[] = {"min", "max", NULL};
    if (!check(c, "clamp_", 0, 2, kw))
        return NULL;
    SlValue *lv = sl_arg(c, 0, "min"), *hv = sl_arg(c, 1, "max");
    double lo = 0, hi = 0;
    if ((given(lv) && !sl_arg_double(c, "clamp_", "min", lv, &lo)) ||
        (given(hv) && !sl_arg_double(c, "clamp_", "max", hv, &hi)))
        return NULL;
    return NAMED(c, "clamp_", sl_ag_clamp_(SELF, given(lv), lo, given(hv), hi, c->err)) ? sl_ref(c->self) : NULL;
}

/* ---------------------------------------------------------------------------
 * Sorting
 * ------------------------------------------------------------------------- */

/* sort(dim=-1, descending=False, stable=False) */
static bool sort_args(SlCall *c, const char *fname, long *dim, bool *desc, bool *stable)
{
    static const char *const kw[] = {"dim", "descending", "stable", NULL};
    if (!check(c, fname, 0, 2, kw))
        return false;
    SlValue *dv = sl_arg(c, 0, "dim"), *sv = sl_arg(c, 1, "descending"), *st = kwarg(c, "stable");
    *dim = -1;
    return (!given(dv) || sl_arg_long(c, fname, "dim", dv, dim)) && opt_bool(c, fname, "descending", sv, false, desc) &&
           opt_bool(c, fname, "stable", st, false, stable);
}

static SlValue *m_sort(SlCall *c)
{
    long dim;
    bool desc, stable;
    if (!sort_args(c, "sort", &dim, &desc, &stable))
        return NULL;
    SlTensor *v, *i;
    if (!sl_ag_sort(SELF, (int)dim, desc, stable, &v, &i, c->err))
        return NULL;
    return pair_value("sort", v, i);
}

static SlValue *m_argsort(SlCall *c)
{
    long dim;
    bool desc, stable;
    if (!sort_args(c, "argsort", &dim, &desc, &stable))
        return NULL;
    SlTensor *v, *i;
    /* no gradient flows through indices: sort without recording */
    SlTensor *x = sl_ag_detach(SELF);
    bool ok = sl_ag_sort(x, (int)dim, desc, stable, &v, &i, c->err);
    sl_tensor_unref(x);
    if (!ok)
        return NULL;
    sl_tensor_unref(v);
    return sl_tensor_value(i);
}

/* topk(k, dim=-1, largest=True, sorted=True) */
static SlValue *m_topk(SlCall *c)
{
    static const char *const kw[] = {"k", "dim", "largest", "sorted", NULL};
    if (!check(c, "topk", 0, 4, kw))
        return NULL;
    SlValue *kv = sl_arg(c, 0, "k"), *dv = sl_arg(c, 1, "dim"), *lv = sl_arg(c, 2, "largest"), *sv = sl_arg(c, 3, "sorted");
    if (!kv)
        return sl_err(c->err, SL_E_ARG_MISSING, "topk", "k"), NULL;
    long k, dim = -1;
    bool largest, sorted;
    if (!sl_arg_long(c, "topk", "k", kv, &k) || (given(dv) && !sl_arg_long(c, "topk", "dim", dv, &dim)) ||
        !opt_bool(c, "topk", "largest", lv, true, &largest) || !opt_bool(c, "topk", "sorted", sv, true, &sorted))
        return NULL;
    SlTensor *v, *i;
    if (!sl_ag_topk(SELF, k, (int)dim, largest, sorted, &v, &i, c->err))
        return NULL;
    return pair_value("topk", v, i);
}

/* unique(sorted=True, return_inverse=False, return_counts=False, dim=None) */
static SlValue *m_unique(SlCall *c)
{
    static const char *const kw[] = {"sorted", "return_inverse", "return_counts", "dim", NULL};
    if (!check(c, "unique", 0, 4, kw))
        return NULL;
    bool sorted, inv, cnt;
    long dim = 0;
    SlValue *dv = sl_arg(c, 3, "dim");
    if (!opt_bool(c, "unique", "sorted", sl_arg(c, 0, "sorted"), true, &sorted) ||
        !opt_bool(c, "unique", "return_inverse", sl_arg(c, 1, "return_inverse"), false, &inv) ||
        !opt_bool(c, "unique", "return_counts", sl_arg(c, 2, "return_counts"), false, &cnt) ||
        (given(dv) && !sl_arg_long(c, "unique", "dim", dv, &dim)))
        return NULL;
    SlTensor *v, *iv = NULL, *cv = NULL;
    if (!sl_tensor_unique(SELF, sorted || given(dv), given(dv), (int)dim, &v, inv ? &iv : NULL, cnt ? &cv : NULL,
                          c->err))
        return NULL;
    if (!inv && !cnt)
        return sl_tensor_value(v);
    SlValue *t = sl_tuple_new(3);
    sl_list_push_take(t, sl_tensor_value(v));
    if (inv)
        sl_list_push_take(t, sl_tensor_value(iv));
    if (cnt)
        sl_list_push_take(t, sl_tensor_value(cv));
    return t;
}

/* ---------------------------------------------------------------------------
 * Shapes and data movement
 * ------------------------------------------------------------------------- */

/* flip(*dims) or flip(dims) */
static SlValue *m_flip(SlCall *c)
{
    static const char *const kw[] = {"dims", NULL};
    if (!check(c, "flip", 0, SL_TENSOR_MAXDIM, kw))
        return NULL;
    if (c->nargs == 0 && !kwarg(c, "dims"))
        return sl_err(c->err, SL_E_ARG_MISSING, "flip", "dims"), NULL;
    int n;
    int64_t d[SL_TENSOR_MAXDIM];
    if (!int_list(c, "flip", "dims", 0, "dims", &n, d))
        return NULL;
    uint32_t mask = 0;
    for (int i = 0; i < n; i++) {
        int di = (int)d[i];
        if (!sl_tensor_wrap_dim(&di, SELF->ndim, c->err))
            return NULL;
        if (mask & (1u << di))
            return sl_err(c->err, SL_E_VALUE, "dim %d appears multiple times in the list of dims", di), NULL;
        mask |= 1u << di;
    }
    if (SELF->ndim == 0)
        mask = 0;
    return sl_tensor_value(sl_ag_flip(SELF, mask, c->err));
}

/* roll(shifts, dims=None) */
static SlValue *m_roll(SlCall *c)
{
    static const char *const kw[] = {"shifts", "dims", NULL};
    if (!check(c, "roll", 0, 2, kw))
        return NULL;
    SlValue *sv = sl_arg(c, 0, "shifts"), *dv = sl_arg(c, 1, "dims");
    if (!sv)
        return sl_err(c->err, SL_E_ARG_MISSING, "roll", "shifts"), NULL;
    int ns = 0, nd = 0;
    int64_t s[SL_TENSOR_MAXDIM], d[SL_TENSOR_MAXDIM];
    SlCall one = *c;
    one.args = &sv;
    one.nargs = 1;
    if (!int_list(&one, "roll", "shifts", 0, NULL, &ns, s))
        return NULL;
    if (given(dv)) {
        one.args = &dv;
        if (!int_list(&one, "roll", "dims", 0, NULL, &nd, d))
            return NULL;
    }
    if (ns == 0)
        return sl_err(c->err, SL_E_VALUE, "`shifts` required"), NULL;
    if (nd == 0 && ns != 1)
        return sl_err(c->err, SL_E_VALUE, "shifts and dimensions must align. shifts: %d, dims:%d", ns, nd), NULL;
    if (nd != 0 && ns != nd)
        return sl_err(c->err, SL_E_VALUE, "shifts and dimensions must align. shifts: %d, dims:%d", ns, nd), NULL;
    int dims[SL_TENSOR_MAXDIM];
    for (int i = 0; i < nd; i++)
        dims[i] = (int)d[i];
    return sl_tensor_value(sl_ag_roll(SELF, nd, s, dims, nd == 0, c->err));
}

/* repeat(*sizes) or repeat(sizes) */
static SlValue *m_repeat(SlCall *c)
{
    static const char *const kw[] = {"repeats", NULL};
    if (!check(c, "repeat", 0, SL_TENSOR_MAXDIM, kw))
        return NULL;
    if (c->nargs == 0 && !kwarg(c, "repeats"))
        return sl_err(c->err, SL_E_ARG_MISSING, "repeat", "repeats"), NULL;
    int n;
    int64_t r[SL_TENSOR_MAXDIM];
    if (!int_list(c, "repeat", "repeats", 0, "repeats", &n, r))
        return NULL;
    return sl_tensor_value(sl_ag_repeat(SELF, n, r, c->err));
}

static SlValue *pieces(SlCall *c, SlTensor **ts, int n)
{
    return n < 0 ? NULL : tuple_of(ts, n);
}

enum { MAX_PIECES = 4096 };

/* split(split_size_or_sections, dim=0) */
static SlValue *m_split(SlCall *c)
{
    static const char *const kw[] = {"split_size", "split_size_or_sections", "dim", NULL};
    if (!check(c, "split", 0, 2, kw))
        return NULL;
    SlValue *sv = sl_arg(c, 0, "split_size"), *dv = sl_arg(c, 1, "dim");
    if (!sv)
        sv = kwarg(c, "split_size_or_sections");
    if (!sv)
        return sl_err(c->err, SL_E_ARG_MISSING, "split", "split_size"), NULL;
    long dim = 0;
    if (given(dv) && !sl_arg_long(c, "split", "dim", dv, &dim))
        return NULL;
    SlTensor **ts = calloc(MAX_PIECES, sizeof *ts);
    if (!ts)
        abort();
    int n = -1;
    SlValue *items = seq_items(c, sv);
    if (items) {
        size_t len = items->u.list.len;
        int64_t *sizes = calloc(len ? len : 1, sizeof *sizes);
        if (!sizes)
            abort();
        bool ok = len <= MAX_PIECES;
        if (!ok)
            sl_err(c->err, SL_E_LIMIT, "split into more than %d pieces", MAX_PIECES);
        for (size_t i = 0; ok && i < len; i++) {
            long l;
            ok = sl_arg_long(c, "split", "split_size_or_sections", items->u.list.items[i], &l);
            sizes[i] = l;
        }
        if (ok)
            n = sl_ag_split(SELF, 0, sizes, (int)len, (int)dim, ts, MAX_PIECES, c->err);
        free(sizes);
        sl_unref(items);
    } else {
        long s;
        if (sl_arg_long(c, "split", "split_size", sv, &s))
            n = sl_ag_split(SELF, s, NULL, 0, (int)dim, ts, MAX_PIECES, c->err);
    }
    SlValue *r = pieces(c, ts, n);
    free(ts);
    return r;
}

/* chunk(chunks, dim=0) */
static SlValue *m_chunk(SlCall *c)
{
    static const char *const kw[] = {"chunks", "dim", NULL};
    if (!check(c, "chunk", 0, 2, kw))
        return NULL;
    SlValue *kv = sl_arg(c, 0, "chunks"), *dv = sl_arg(c, 1, "dim");
    if (!kv)
        return sl_err(c->err, SL_E_ARG_MISSING, "chunk", "chunks"), NULL;
    long k, dim = 0;
    if (!sl_arg_long(c, "chunk", "chunks", kv, &k) || (given(dv) && !sl_arg_long(c, "chunk", "dim", dv, &dim)))
        return NULL;
    SlTensor **ts = calloc(MAX_PIECES, sizeof *ts);
    if (!ts)
        abort();
    SlValue *r = pieces(c, ts, sl_ag_chunk(SELF, k, (int)dim, ts, MAX_PIECES, c->err));
    free(ts);
    return r;
}

/* narrow(dim, start, length) */
static SlValue *m_narrow(SlCall *c)
{
    static const char *const kw[] = {"dim", "start", "length", NULL};
    if (!check(c, "narrow", 0, 3, kw))
        return NULL;
    SlValue *dv = sl_arg(c, 0, "dim"), *sv = sl_arg(c, 1, "start"), *lv = sl_arg(c, 2, "length");
    if (!dv || !sv || !lv)
        return sl_err(c->err, SL_E_ARG_MISSING, "narrow", !dv ? "dim" : !sv ? "start" : "length"), NULL;
    long d, s, l;
    if (!sl_arg_long(c, "narrow", "dim", dv, &d) || !sl_arg_long(c, "narrow", "start", sv, &s) ||
        !sl_arg_long(c, "narrow", "length", lv, &l))
        return NULL;
    return sl_tensor_value(sl_ag_narrow(SELF, (int)d, s, l, c->err));
}

static SlValue *tri(SlCall *c, const char *fname, bool lower)
{
    static const char *const kw[] = {"diagonal", NULL};
    if (!check(c, fname, 0, 1, kw))
        return NULL;
    SlValue *dv = sl_arg(c, 0, "diagonal");
    long k = 0;
    if (given(dv) && !sl_arg_long(c, fname, "diagonal", dv, &k))
        return NULL;
    return sl_tensor_value(sl_ag_triu(SELF, k, lower, c->err));
}

static SlValue *m_triu(SlCall *c) { return tri(c, "triu", false); }
static SlValue *m_tril(SlCall *c) { return tri(c, "tril", true); }

static SlValue *m_diag(SlCall *c)
{
    static const char *const kw[] = {"diagonal", NULL};
    if (!check(c, "diag", 0, 1, kw))
        return NULL;
    SlValue *dv = sl_arg(c, 0, "diagonal");
    long k = 0;
    if (given(dv) && !sl_arg_long(c, "diag", "diagonal", dv, &k))
        return NULL;
    return sl_tensor_value(sl_ag_diag(SELF, k, c->err));
}

/* ---------------------------------------------------------------------------
 * Indexing
 * ------------------------------------------------------------------------- */

static SlValue *m_gather(SlCall *c)
{
    static const char *const kw[] = {"dim", "index", "sparse_grad", NULL};
    if (!check(c, "gather", 0, 2, kw))
        return NULL;
    SlValue *dv = sl_arg(c, 0, "dim");
    if (!dv)
        return sl_err(c->err, SL_E_ARG_MISSING, "gather", "dim"), NULL;
    long d;
    if (!sl_arg_long(c, "gather", "dim", dv, &d))
        return NULL;
    SlTensor *ix = tensor_arg(c, "gather", "index", sl_arg(c, 1, "index"));
    return ix ? sl_tensor_value(sl_ag_gather(SELF, (int)d, ix, c->err)) : NULL;
}

static SlValue *m_index_select(SlCall *c)
{
    static const char *const kw[] = {"dim", "index", NULL};
    if (!check(c, "index_select", 0, 2, kw))
        return NULL;
    SlValue *dv = sl_arg(c, 0, "dim");
    if (!dv)
        return sl_err(c->err, SL_E_ARG_MISSING, "index_select", "dim"), NULL;
    long d;
    if (!sl_arg_long(c, "index_select", "dim", dv, &d))
        return NULL;
    SlTensor *ix = tensor_arg(c, "index_select", "index", sl_arg(c, 1, "index"));
    return ix ? sl_tensor_value(sl_ag_index_select(SELF, (int)d, ix, c->err)) : NULL;
}

static SlValue *m_masked_fill(SlCall *c)
{
    static const char *const kw[] = {"mask", "value", NULL};
    if (!check(c, "masked_fill", 0, 2, kw))
        return NULL;
    SlTensor *mask = tensor_arg(c, "masked_fill", "mask", sl_arg(c, 0, "mask"));
    if (!mask)
        return NULL;
    SlValue *vv = sl_arg(c, 1, "value");
    if (!vv)
        return sl_err(c->err, SL_E_ARG_MISSING, "masked_fill", "value"), NULL;
    SlTensor *v = sl_tensor_operand(vv, c->err);
    if (!v)
        return NULL;
    SlTensor *r = sl_ag_masked_fill(SELF, mask, v, c->err);
    sl_tensor_unref(v);
    return sl_tensor_value(r);
}

static SlValue *m_masked_fill_(SlCall *c)
{
    static const char *const kw[] = {"mask", "value", NULL};
    if (!check(c, "masked_fill_", 0, 2, kw))
        return NULL;
    SlTensor *mask = tensor_arg(c, "masked_fill_", "mask", sl_arg(c, 0, "mask"));
    if (!mask)
        return NULL;
    SlValue *vv = sl_arg(c, 1, "value");
    if (!vv)
        return sl_err(c->err, SL_E_ARG_MISSING, "masked_fill_", "value"), NULL;
    SlTensor *v = sl_tensor_operand(vv, c->err);
    if (!v)
        return NULL;
    bool ok = NAMED(c, "masked_fill_", sl_ag_masked_fill_(SELF, mask, v, c->err));
    sl_tensor_unref(v);
    return ok ? sl_ref(c->self) : NULL;
}

static SlValue *m_nonzero(SlCall *c)
{
    static const char *const kw[] = {"as_tuple", NULL};
    if (!check(c, "nonzero", 0, 0, kw))
        return NULL;
    bool as_tuple;
    if (!opt_bool(c, "nonzero", "as_tuple", kwarg(c, "as_tuple"), false, &as_tuple))
        return NULL;
    SlTensor *nz = sl_tensor_nonzero(SELF, c->err);
    if (!nz || !as_tuple)
        return sl_tensor_value(nz);
    /* one index tensor per dim (a 0-d tensor counts as 1-d) */
    int nd = SELF->ndim ? SELF->ndim : 1;
    int64_t cnt = nz->shape[0];
    SlValue *t = sl_tuple_new((size_t)nd);
    for (int d = 0; d < nd; d++) {
        SlTensor *col = sl_tensor_zeros(SL_DT_I64, 1, &cnt, 0, c->err);
        for (int64_t i = 0; i < cnt && SELF->ndim; i++)
            sl_tensor_set_i(col, i, sl_tensor_get_i(nz, i * SELF->ndim + d));
        sl_list_push_take(t, sl_tensor_value(col));
    }
    sl_tensor_unref(nz);
    return t;
}

/* ---------------------------------------------------------------------------
 * Tests and comparisons
 * ------------------------------------------------------------------------- */

static SlValue *m_isnan(SlCall *c)
{
    if (!check(c, "isnan", 0, 0, NULL))
        return NULL;
    return sl_tensor_value(sl_tensor_isnan(SELF, false, c->err));
}

static SlValue *m_isinf(SlCall *c)
{
    if (!check(c, "isinf", 0, 0, NULL))
        return NULL;
    return sl_tensor_value(sl_tensor_isnan(SELF, true, c->err));
}

static SlValue *m_allclose(SlCall *c)
{
    static const char *const kw[] = {"other", "rtol", "atol", "equal_nan", NULL};
    if (!check(c, "allclose", 0, 4, kw))
        return NULL;
    SlTensor *o = tensor_arg(c, "allclose", "other", sl_arg(c, 0, "other"));
    if (!o)
        return NULL;
    double rtol = 1e-05, atol = 1e-08;
    bool en, res;
    SlValue *rv = sl_arg(c, 1, "rtol"), *av = sl_arg(c, 2, "atol");
    if ((given(rv) && !sl_arg_double(c, "allclose", "rtol", rv, &rtol)) ||
        (given(av) && !sl_arg_double(c, "allclose", "atol", av, &atol)) ||
        !opt_bool(c, "allclose", "equal_nan", sl_arg(c, 3, "equal_nan"), false, &en))
        return NULL;
    if (!sl_tensor_allclose(SELF, o, rtol, atol, en, &res, c->err))
        return NULL;
    return sl_bool(res);
}

static SlValue *m_equal(SlCall *c)
{
    static const char *const kw[] = {"other", NULL};
    if (!check(c, "equal", 0, 1, kw))
        return NULL;
    SlTensor *o = tensor_arg(c, "equal", "other", sl_arg(c, 0, "other"));
    return o ? sl_bool(sl_tensor_equal(SELF, o)) : NULL;
}

/* ---------------------------------------------------------------------------
 * Arithmetic
 * ------------------------------------------------------------------------- */

static SlValue *m_dist(SlCall *c)
{
    static const char *const kw[] = {"other", "p", NULL};
    if (!check(c, "dist", 0, 2, kw))
        return NULL;
    SlTensor *o = tensor_arg(c, "dist", "other", sl_arg(c, 0, "other"));
    if (!o)
        return NULL;
    double p = 2;
    SlValue *pv = sl_arg(c, 1, "p");
    if (given(pv) && !sl_arg_double(c, "dist", "p", pv, &p))
        return NULL;
    return sl_tensor_value(sl_ag_dist(SELF, o, p, c->err));
}

static SlValue *m_lerp(SlCall *c)
{
    static const char *const kw[] = {"end", "weight", NULL};
    if (!check(c, "lerp", 0, 2, kw))
        return NULL;
    SlTensor *e = tensor_arg(c, "lerp", "end", sl_arg(c, 0, "end"));
    if (!e)
        return NULL;
    SlValue *wv = sl_arg(c, 1, "weight");
    if (!wv)
        return sl_err(c->err, SL_E_ARG_MISSING, "lerp", "weight"), NULL;
    SlTensor *w = sl_tensor_operand(wv, c->err);
    if (!w)
        return NULL;
    SlTensor *r = sl_ag_lerp(SELF, e, w, c->err);
    sl_tensor_unref(w);
    return sl_tensor_value(r);
}

static SlValue *m_outer(SlCall *c)
{
    static const char *const kw[] = {"vec2", NULL};
    if (!check(c, "outer", 0, 1, kw))
        return NULL;
    SlTensor *o = tensor_arg(c, "outer", "vec2", sl_arg(c, 0, "vec2"));
    return o ? sl_tensor_value(sl_ag_outer(SELF, o, c->err)) : NULL;
}

/* ---------------------------------------------------------------------------
 * Types and new tensors
 * ------------------------------------------------------------------------- */

static SlValue *m_type_as(SlCall *c)
{
    static const char *const kw[] = {"other", NULL};
    if (!check(c, "type_as", 0, 1, kw))
        return NULL;
    SlTensor *o = tensor_arg(c, "type_as", "other", sl_arg(c, 0, "other"));
    return o ? sl_tensor_value(sl_ag_to(SELF, o->dtype, sl_tensor_prec(o), c->err)) : NULL;
}

/* new_zeros(*size, dtype=None, requires_grad=False) and new_ones */
static SlValue *new_filled(SlCall *c, const char *fname, double v)
{
    static const char *const kw[] = {"size", "dtype", "requires_grad", "device", NULL};
    if (!check(c, fname, 0, SL_TENSOR_MAXDIM, kw))
        return NULL;
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (c->nargs == 0 && !kwarg(c, "size"))
        return sl_err(c->err, SL_E_ARG_MISSING, fname, "size"), NULL;
    if (!int_list(c, fname, "size", 0, "size", &nd, shape))
        return NULL;
    bool have, rg;
    SlDTypeP dt;
    if (!parse_dtype(c, kwarg(c, "dtype"), &have, &dt) ||
        !opt_bool(c, fname, "requires_grad", kwarg(c, "requires_grad"), false, &rg))
        return NULL;
    if (!have)
        dt = (SlDTypeP){SELF->dtype, sl_tensor_prec(SELF)};
    SlTensor *r = sl_tensor_full_d(dt.dt, nd, shape, dt.prec, v, c->err);
    if (r && rg && !sl_ag_requires_grad_(r, true, c->err)) {
        sl_tensor_unref(r);
        r = NULL;
    }
    return sl_tensor_value(r);
}

static SlValue *m_new_zeros(SlCall *c) { return new_filled(c, "new_zeros", 0); }
static SlValue *m_new_ones(SlCall *c) { return new_filled(c, "new_ones", 1); }

static SlValue *m_new_tensor(SlCall *c)
{
    static const char *const kw[] = {"data", "dtype", "requires_grad", "device", NULL};
    if (!check(c, "new_tensor", 0, 1, kw))
        return NULL;
    SlValue *data = sl_arg(c, 0, "data");
    if (!data)
        return sl_err(c->err, SL_E_ARG_MISSING, "new_tensor", "data"), NULL;
    bool have, rg;
    SlDTypeP dt;
    if (!parse_dtype(c, kwarg(c, "dtype"), &have, &dt) ||
        !opt_bool(c, "new_tensor", "requires_grad", kwarg(c, "requires_grad"), false, &rg))
        return NULL;
    if (!have)
        dt = (SlDTypeP){SELF->dtype, sl_tensor_prec(SELF)};
    SlTensor *src = sl_tensor_of(data);
    SlTensor *r = src ? sl_tensor_to(src, dt.dt, dt.prec) : sl_tensor_from_data(data, true, dt, c->err);
    if (r && src && r == src) {
        sl_tensor_unref(r);
        r = sl_tensor_clone(src);
    }
    if (r && rg && !sl_ag_requires_grad_(r, true, c->err)) {
        sl_tensor_unref(r);
        r = NULL;
    }
    return sl_tensor_value(r);
}

/* ---------------------------------------------------------------------------
 * Tables
 * ------------------------------------------------------------------------- */

static const SlBuiltin methods[] = {
    {"std", m_std, "t.std(dim=None, unbiased=True, keepdim=False, correction=)",
     "Standard deviation of all elements, or along dim (unbiased: divides by n - 1)."},
    {"var", m_var, "t.var(dim=None, unbiased=True, keepdim=False, correction=)",
     "Variance of all elements, or along dim (unbiased: divides by n - 1)."},
    {"prod", m_prod, "t.prod(dim=None, keepdim=False, dtype=None)", "Product of all elements, or along dim."},
    {"cumsum", m_cumsum, "t.cumsum(dim, dtype=None)", "Running sums along dim."},
    {"cumprod", m_cumprod, "t.cumprod(dim, dtype=None)", "Running products along dim."},
    {"logsumexp", m_logsumexp, "t.logsumexp(dim, keepdim=False)", "log(sum(exp(t))) along dim, computed stably."},
    {"trace", m_trace, "t.trace()", "Sum of the diagonal of a matrix."},
    {"square", m_square, "t.square()", "Elementwise t ** 2."},
    {"softmax", m_softmax, "t.softmax(dim, dtype=None)", "exp(t) / exp(t).sum(dim), computed stably."},
    {"log_softmax", m_log_softmax, "t.log_softmax(dim, dtype=None)", "log(softmax(t, dim)), computed stably."},
    {"exp_", m_exp_, "t.exp_()", "t = exp(t), in place."},
    {"log_", m_log_, "t.log_()", "t = log(t), in place."},
    {"abs_", m_abs_, "t.abs_()", "t = |t|, in place."},
    {"sqrt_", m_sqrt_, "t.sqrt_()", "t = sqrt(t), in place."},
    {"neg_", m_neg_, "t.neg_()", "t = -t, in place."},
    {"pow_", m_pow_, "t.pow_(exponent)", "t = t ** exponent, in place."},
    {"clamp_", m_clamp_, "t.clamp_(min=None, max=None)", "Elements limited to [min, max], in place."},
    {"sort", m_sort, "t.sort(dim=-1, descending=False, stable=False)",
     "Sorted values and their indices along dim (torch.return_types.sort)."},
    {"argsort", m_argsort, "t.argsort(dim=-1, descending=False, stable=False)",
     "Indices that sort t along dim."},
    {"topk", m_topk, "t.topk(k, dim=-1, largest=True, sorted=True)",
     "The k largest (or smallest) values along dim and their indices."},
    {"unique", m_unique, "t.unique(sorted=True, return_inverse=False, return_counts=False, dim=None)",
     "The distinct elements; with the inverse indices and counts when asked."},
    {"flip", m_flip, "t.flip(dims)", "Elements in reverse order along the dims."},
    {"roll", m_roll, "t.roll(shifts, dims=None)", "Elements shifted circularly along dims (flattened without)."},
    {"repeat", m_repeat, "t.repeat(*sizes)", "t tiled sizes[i] times along each dimension."},
    {"split", m_split, "t.split(split_size_or_sections, dim=0)",
     "Pieces of split_size (or of the listed sizes) along dim, as views."},
    {"chunk", m_chunk, "t.chunk(chunks, dim=0)", "t split into chunks pieces (the last may be smaller)."},
    {"narrow", m_narrow, "t.narrow(dim, start, length)", "The view t[start:start+length] along dim."},
    {"triu", m_triu, "t.triu(diagonal=0)", "The upper triangle of a matrix (the rest zero)."},
    {"tril", m_tril, "t.tril(diagonal=0)", "The lower triangle of a matrix (the rest zero)."},
    {"diag", m_diag, "t.diag(diagonal=0)", "A vector's diagonal matrix, or a matrix's diagonal."},
    {"gather", m_gather, "t.gather(dim, index)", "out[i][j] = t[index[i][j]][j] (for dim 0), and so on."},
    {"index_select", m_index_select, "t.index_select(dim, index)", "The slices of t at index along dim."},
    {"masked_fill", m_masked_fill, "t.masked_fill(mask, value)", "t with value where mask is true."},
    {"masked_fill_", m_masked_fill_, "t.masked_fill_(mask, value)", "value where mask is true, in place."},
    {"nonzero", m_nonzero, "t.nonzero(as_tuple=False)", "Indices of the nonzero elements."},
    {"isnan", m_isnan, "t.isnan()", "Where t is NaN."},
    {"isinf", m_isinf, "t.isinf()", "Where t is infinite."},
    {"allclose", m_allclose, "t.allclose(other, rtol=1e-05, atol=1e-08, equal_nan=False)",
     "Whether |t - other| <= atol + rtol * |other| everywhere."},
    {"equal", m_equal, "t.equal(other)", "Whether t and other have the same shape and values."},
    {"dist", m_dist, "t.dist(other, p=2)", "The p-norm of t - other."},
    {"lerp", m_lerp, "t.lerp(end, weight)", "t + weight * (end - t)."},
    {"outer", m_outer, "t.outer(vec2)", "The outer product of two vectors."},
    {"type_as", m_type_as, "t.type_as(other)", "t converted to other's dtype."},
    {"new_zeros", m_new_zeros, "t.new_zeros(*size)", "Zeros of t's dtype."},
    {"new_ones", m_new_ones, "t.new_ones(*size)", "Ones of t's dtype."},
    {"new_tensor", m_new_tensor, "t.new_tensor(data)", "A tensor from data, of t's dtype."},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const SlBuiltin *sl_tensor_extra_method(const char *name)
{
    for (size_t i = 0; i < COUNT(methods); i++)
        if (strcmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
}

const SlBuiltin *sl_tensor_extra_method_at(size_t i) { return i < COUNT(methods) ? &methods[i] : NULL; }

/* torch.X(t, ...) calls method X with t as the receiver ("input" may be a
 * keyword) */

#define AS(name)                                                                                             \
    static SlValue *b_##name(SlCall *c) { return sl_tensor_as_method(c, #name, m_##name, false); }
AS(std)
AS(var)
AS(prod)
AS(cumsum)
AS(cumprod)
AS(logsumexp)
AS(trace)
AS(square)
AS(sort)
AS(argsort)
AS(topk)
AS(unique)
AS(flip)
AS(roll)
AS(split)
AS(chunk)
AS(narrow)
AS(triu)
AS(tril)
AS(diag)
AS(gather)
AS(index_select)
AS(masked_fill)
AS(nonzero)
AS(isnan)
AS(isinf)
AS(allclose)
AS(equal)
AS(dist)
AS(lerp)
AS(outer)
#undef AS

static const SlBuiltin builtins[] = {
    {"std", b_std, "torch.std(t, dim=None, unbiased=True, keepdim=False)", "Standard deviation of t's elements."},
    {"var", b_var, "torch.var(t, dim=None, unbiased=True, keepdim=False)", "Variance of t's elements."},
    {"prod", b_prod, "torch.prod(t, dim=None, keepdim=False)", "Product of t's elements."},
    {"cumsum", b_cumsum, "torch.cumsum(t, dim)", "Running sums along dim."},
    {"cumprod", b_cumprod, "torch.cumprod(t, dim)", "Running products along dim."},
    {"logsumexp", b_logsumexp, "torch.logsumexp(t, dim, keepdim=False)", "log(sum(exp(t))) along dim."},
    {"trace", b_trace, "torch.trace(m)", "Sum of the diagonal of a matrix."},
    {"square", b_square, "torch.square(t)", "Elementwise t ** 2."},
    {"sort", b_sort, "torch.sort(t, dim=-1, descending=False, stable=False)", "Sorted values and indices."},
    {"argsort", b_argsort, "torch.argsort(t, dim=-1, descending=False)", "Indices that sort t."},
    {"topk", b_topk, "torch.topk(t, k, dim=-1, largest=True, sorted=True)", "The k largest values and indices."},
    {"unique", b_unique, "torch.unique(t, sorted=True, return_inverse=False, return_counts=False, dim=None)",
     "The distinct elements of t."},
    {"flip", b_flip, "torch.flip(t, dims)", "t reversed along dims."},
    {"roll", b_roll, "torch.roll(t, shifts, dims=None)", "t shifted circularly."},
    {"split", b_split, "torch.split(t, split_size_or_sections, dim=0)", "Pieces of t along dim."},
    {"chunk", b_chunk, "torch.chunk(t, chunks, dim=0)", "t split into chunks pieces."},
    {"narrow", b_narrow, "torch.narrow(t, dim, start, length)", "A slice of t along dim."},
    {"triu", b_triu, "torch.triu(m, diagonal=0)", "The upper triangle of a matrix."},
    {"tril", b_tril, "torch.tril(m, diagonal=0)", "The lower triangle of a matrix."},
    {"diag", b_diag, "torch.diag(t, diagonal=0)", "A diagonal matrix, or a matrix's diagonal."},
    {"gather", b_gather, "torch.gather(t, dim, index)", "Values of t picked along dim by index."},
    {"index_select", b_index_select, "torch.index_select(t, dim, index)", "Slices of t at index."},
    {"masked_fill", b_masked_fill, "torch.masked_fill(t, mask, value)", "t with value where mask is true."},
    {"nonzero", b_nonzero, "torch.nonzero(t, as_tuple=False)", "Indices of the nonzero elements."},
    {"isnan", b_isnan, "torch.isnan(t)", "Where t is NaN."},
    {"isinf", b_isinf, "torch.isinf(t)", "Where t is infinite."},
    {"allclose", b_allclose, "torch.allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False)",
     "Whether a and b are equal within the tolerances."},
    {"equal", b_equal, "torch.equal(a, b)", "Whether a and b have the same shape and values."},
    {"dist", b_dist, "torch.dist(a, b, p=2)", "The p-norm of a - b."},
    {"lerp", b_lerp, "torch.lerp(start, end, weight)", "start + weight * (end - start)."},
    {"outer", b_outer, "torch.outer(a, b)", "The outer product of two vectors."},
};

const SlBuiltin *sl_tensor_extra_builtin(const char *name)
{
    for (size_t i = 0; i < COUNT(builtins); i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

const SlBuiltin *sl_tensor_extra_builtin_at(size_t i) { return i < COUNT(builtins) ? &builtins[i] : NULL; }
