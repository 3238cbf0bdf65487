/* builtins.c -- builtin functions and methods, with their :help texts.
 *
 * Each builtin checks its own arguments with the helpers below, so every
 * message has Python's shape: "len() takes 1 positional argument but 2
 * were given", "object of type 'int' has no len()".
 */
#include "builtins.h"

#include <stdlib.h>
#include <string.h>

#include "ad.h"
#include "descend.h"
#include "eval_internal.h"
#include "graph.h"
#include "tensor_value.h"
#include "expr.h"
#include "nn.h"
#include "num.h"
#include "optim.h"
#include "plot.h"

/* ---------------------------------------------------------------------------
 * Argument helpers
 * ------------------------------------------------------------------------- */

bool sl_call_arity_check(SlCall *c, const char *name, size_t min, size_t max)
{
    if (c->nargs >= min && c->nargs <= max)
        return true;
    char what[64];
    if (min == max)
        snprintf(what, sizeof what, "%zu positional argument%s", min, min == 1 ? "" : "s");
    else if (max == (size_t)-1)
        snprintf(what, sizeof what, "at least %zu positional argument%s", min, min == 1 ? "" : "s");
    else
        snprintf(what, sizeof what, "from %zu to %zu positional arguments", min, max);
    return sl_err(c->err, SL_E_ARG_COUNT, name, what, (int)c->nargs, c->nargs == 1 ? "was" : "were");
}

/* Reject keyword arguments other than the allowed ones (NULL-terminated). */
bool sl_call_keywords_check(SlCall *c, const char *name, const char *const *allowed)
{
    for (size_t k = 0; k < c->nkw; k++) {
        bool ok = false;
        for (size_t i = 0; allowed && allowed[i]; i++)
            if (strcmp(allowed[i], c->kwnames[k]) == 0)
                ok = true;
        if (!ok)
            return sl_err(c->err, SL_E_ARG_KEYWORD, name, c->kwnames[k]);
    }
    return true;
}

SlValue *sl_call_kwarg_find(SlCall *c, const char *name)
{
    for (size_t k = 0; k < c->nkw; k++)
        if (strcmp(c->kwnames[k], name) == 0)
            return c->kwargs[k];
    return NULL;
}

static bool simple(SlCall *c, const char *name, size_t min, size_t max)
{
    return sl_call_keywords(c, name, NULL) && sl_call_arity(c, name, min, max);
}

static bool get_long(SlCall *c, const char *fname, const char *argname, SlValue *v, long *out)
{
    if ((v->kind == SL_INT || v->kind == SL_BOOL) && sl_num_to_long(v, out))
        return true;
    if (v->kind == SL_INT)
        return sl_err(c->err, SL_E_OVERFLOW, "Python int too large to convert to C long");
    return sl_err(c->err, SL_E_ARG_TYPE, fname, argname, "an integer", sl_type_name(v));
}

/* ---------------------------------------------------------------------------
 * Math: numbers, or symbols building expressions
 * ------------------------------------------------------------------------- */

static SlValue *apply_math(SlCall *c, SlMathFn fn)
{
    const SlMathFnInfo *info = &sl_math_fns[fn];
    /* relu(t), sin(t): one object with a math hook (tensors, AD numbers) */
    if (c->nargs == 1 && c->nkw == 0 && fn != SL_FN_MIN && fn != SL_FN_MAX && info->min_args <= 1 &&
        c->args[0]->kind == SL_OBJECT && c->args[0]->u.obj.type->math)
        return c->args[0]->u.obj.type->math(fn, c->args, 1, c->err);
    if (!sl_call_keywords(c, info->name, NULL))
        return NULL;
    SlValue **args = c->args;
    size_t nargs = c->nargs;
    /* min([1, 2, 3]) / max(list) take a single sequence */
    if ((fn == SL_FN_MIN || fn == SL_FN_MAX) && nargs == 1 &&
        (args[0]->kind == SL_LIST || args[0]->kind == SL_TUPLE)) {
        if (args[0]->u.list.len == 0)
            return sl_err(c->err, SL_E_VALUE, "%s() arg is an empty sequence", info->name), NULL;
        args = args[0]->u.list.items;
        nargs = args == NULL ? 0 : c->args[0]->u.list.len;
    } else if ((fn == SL_FN_MIN || fn == SL_FN_MAX) && nargs == 1 && args[0]->kind == SL_OBJECT &&
               args[0]->u.obj.type->math) {
        return sl_math_value(fn, args, 1, c->err); /* max(t): the tensor's largest element */
    } else if ((fn == SL_FN_MIN || fn == SL_FN_MAX) && nargs == 1) {
        return sl_err(c->err, SL_E_TYPE, "'%s' object is not iterable", sl_type_name(args[0])), NULL;
    }
    if (nargs < (size_t)info->min_args || (info->max_args >= 0 && nargs > (size_t)info->max_args)) {
        if (!sl_call_arity(c, info->name, (size_t)info->min_args,
                   info->max_args < 0 ? (size_t)-1 : (size_t)info->max_args))
            return NULL;
    }
    return sl_math_value(fn, args, nargs, c->err);
}

SlValue *sl_math_value(int fn, SlValue *const *args, size_t nargs, SlError *err)
{
    const SlMathFnInfo *info = &sl_math_fns[fn];
    for (size_t i = 0; i < nargs; i++)
        if (args[i]->kind == SL_OBJECT && args[i]->u.obj.type->math)
            return args[i]->u.obj.type->math(fn, args, nargs, err);
    bool symbolic = false;
    for (size_t i = 0; i < nargs; i++) {
        if (args[i]->kind == SL_EXPR)
            symbolic = true;
        else if (!sl_is_number(args[i]))
            return sl_err(err, SL_E_TYPE, "%s() needs numbers or symbolic expressions, not '%s'", info->name,
                          sl_type_name(args[i])), NULL;
    }
    if (!symbolic)
        return sl_num_apply(fn, (SlValue **)args, (int)nargs, err);
    if (fn == SL_FN_ROUND && nargs == 2)
        return sl_err(err, SL_E_TYPE, "round(x, n) needs a number, not a symbolic expression"), NULL;
    SlExpr **ex = calloc(nargs, sizeof *ex);
    if (!ex)
        abort();
    for (size_t i = 0; i < nargs; i++)
        ex[i] = args[i]->kind == SL_EXPR ? sl_expr_ref(args[i]->u.expr) : sl_expr_from_value(args[i]);
    SlExpr *r = sl_expr_fn(fn, ex, nargs);
    for (size_t i = 0; i < nargs; i++)
        sl_expr_unref(ex[i]);
    free(ex);
    if (sl_expr_is_number(r)) {
        SlValue *v = sl_expr_number_value(r);
        sl_expr_unref(r);
        return v;
    }
    return sl_expr_value(r);
}

#define MATH(id, lower)                                                                                          \
    static SlValue *b_##lower(SlCall *c) { return apply_math(c, id); }
MATH(SL_FN_SIN, sin)
MATH(SL_FN_COS, cos)
MATH(SL_FN_TAN, tan)
MATH(SL_FN_ASIN, asin)
MATH(SL_FN_ACOS, acos)
MATH(SL_FN_ATAN, atan)
MATH(SL_FN_ATAN2, atan2)
MATH(SL_FN_SINH, sinh)
MATH(SL_FN_COSH, cosh)
MATH(SL_FN_TANH, tanh)
MATH(SL_FN_EXP, exp)
MATH(SL_FN_LOG, log)
MATH(SL_FN_LOG2, log2)
MATH(SL_FN_LOG10, log10)
MATH(SL_FN_SQRT, sqrt)
MATH(SL_FN_CBRT, cbrt)
MATH(SL_FN_ABS, abs)
MATH(SL_FN_SIGN, sign)
MATH(SL_FN_FLOOR, floor)
MATH(SL_FN_CEIL, ceil)
MATH(SL_FN_ROUND, round)
MATH(SL_FN_MIN, min)
MATH(SL_FN_MAX, max)
MATH(SL_FN_SIGMOID, sigmoid)
MATH(SL_FN_RELU, relu)
MATH(SL_FN_HEAVISIDE, heaviside)
#undef MATH

/* ---------------------------------------------------------------------------
 * Core builtins
 * ------------------------------------------------------------------------- */

static SlValue *b_print(SlCall *c)
{
    static const char *const kw[] = {"sep", "end", NULL};
    if (!sl_call_keywords(c, "print", kw))
        return NULL;
    SlValue *sep = sl_call_kwarg(c, "sep"), *end = sl_call_kwarg(c, "end");
    if (sep && sep->kind != SL_STR && sep->kind != SL_NONE)
        return sl_err(c->err, SL_E_TYPE, "sep must be None or a string, not %s", sl_type_name(sep)), NULL;
    if (end && end->kind != SL_STR && end->kind != SL_NONE)
        return sl_err(c->err, SL_E_TYPE, "end must be None or a string, not %s", sl_type_name(end)), NULL;
    SlBuf b = {0};
    sl_buf_init(&b);
    for (size_t i = 0; i < c->nargs; i++) {
        if (i) {
            if (sep && sep->kind == SL_STR)
                sl_buf_add(&b, sep->u.str.s, sep->u.str.len);
            else
                sl_buf_putc(&b, ' ');
        }
        sl_str(&b, c->args[i]);
    }
    if (end && end->kind == SL_STR)
        sl_buf_add(&b, end->u.str.s, end->u.str.len);
    else
        sl_buf_putc(&b, '\n');
    fwrite(b.s, 1, b.len, c->s->out);
    sl_buf_free(&b);
    return SL_NONE_V;
}

static size_t utf8_len(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            k++;
    return k;
}

static SlValue *b_len(SlCall *c)
{
    if (!simple(c, "len", 1, 1))
        return NULL;
    SlValue *v = c->args[0];
    if (v->kind == SL_STR)
        return sl_int_si((long)utf8_len(v->u.str.s, v->u.str.len));
    if (v->kind == SL_LIST || v->kind == SL_TUPLE)
        return sl_int_si((long)v->u.list.len);
    size_t n;
    if (v->kind == SL_OBJECT && v->u.obj.type->length)
        return v->u.obj.type->length(v, &n, c->err) ? sl_int_si((long)n) : NULL;
    return sl_err(c->err, SL_E_TYPE, "object of type '%s' has no len()", sl_type_name(v)), NULL;
}

static SlValue *b_range(SlCall *c)
{
    if (!simple(c, "range", 1, 3))
        return NULL;
    long v[3] = {0, 0, 1};
    for (size_t i = 0; i < c->nargs; i++) {
        if (c->args[i]->kind != SL_INT && c->args[i]->kind != SL_BOOL)
            return sl_err(c->err, SL_E_TYPE, "'%s' object cannot be interpreted as an integer",
                          sl_type_name(c->args[i])), NULL;
        if (!sl_num_to_long(c->args[i], &v[i]))
            return sl_err(c->err, SL_E_OVERFLOW, "range() argument is too large"), NULL;
    }
    long start = 0, stop, step = 1;
    if (c->nargs == 1) {
        stop = v[0];
    } else {
        start = v[0];
        stop = v[1];
        step = c->nargs == 3 ? v[2] : 1;
    }
    if (step == 0)
        return sl_err(c->err, SL_E_VALUE, "range() arg 3 must not be zero"), NULL;
    long count = 0;
    if (step > 0 && stop > start)
        count = (stop - start + step - 1) / step;
    else if (step < 0 && stop < start)
        count = (start - stop - step - 1) / -step;
    if (count > 50000000)
        return sl_err(c->err, SL_E_LIMIT,
                      "range() with more than 50 million items is too big for a list (use it in a for loop)"),
               NULL;
    SlValue *r = sl_list_new((size_t)count);
    for (long i = 0; i < count; i++)
        sl_list_push_take(r, sl_int_si(start + i * step));
    return r;
}

static SlValue *b_sum(SlCall *c)
{
    static const char *const kw[] = {"start", NULL};
    if (!sl_call_keywords(c, "sum", kw) || !sl_call_arity(c, "sum", 1, 2))
        return NULL;
    SlValue *items = sl_iter_list(c->args[0], c->err);
    if (!items)
        return NULL;
    SlValue *start = c->nargs == 2 ? c->args[1] : sl_call_kwarg(c, "start");
    if (start && start->kind == SL_STR) {
        sl_unref(items);
        return sl_err(c->err, SL_E_TYPE, "sum() can't sum strings [use ''.join(seq) instead]"), NULL;
    }
    SlValue *acc = start ? sl_ref(start) : sl_int_si(0);
    for (size_t i = 0; i < items->u.list.len && acc; i++) {
        SlValue *next = sl_binop(SL_OP_ADD, acc, items->u.list.items[i], c->err);
        sl_unref(acc);
        acc = next;
    }
    sl_unref(items);
    return acc;
}

static SlValue *b_subs(SlCall *c)
{
    if (!sl_call_arity(c, "subs", 1, 1))
        return NULL;
    SlValue *e = c->self ? c->self : c->args[0];
    if (c->self && c->nargs)
        return sl_call_arity(c, "subs", 0, 0), NULL;
    if (sl_is_number(e))
        return sl_ref(e);
    if (e->kind == SL_FUNC) {
        return sl_call_value(c->s, e, NULL, 0, c->kwnames, c->kwargs, c->nkw, c->src, c->loc, c->err);
    }
    if (e->kind != SL_EXPR)
        return sl_err(c->err, SL_E_TYPE, "subs() needs an expression, not '%s'", sl_type_name(e)), NULL;
    for (size_t i = 0; i < c->nkw; i++) {
        SlValue *v = c->kwargs[i];
        if (!sl_is_number(v) && v->kind != SL_EXPR)
            return sl_err(c->err, SL_E_TYPE, "subs() can put numbers or expressions for %s, not '%s'",
                          c->kwnames[i], sl_type_name(v)), NULL;
    }
    return sl_expr_subs(e->u.expr, c->kwnames, c->kwargs, c->nkw, c->err);
}

static SlValue *b_subs_method(SlCall *c)
{
    if (c->nargs)
        return sl_call_arity(c, "subs", 0, 0), NULL;
    SlValue *args[1] = {c->self};
    SlCall call = *c;
    call.self = NULL;
    call.args = args;
    call.nargs = 1;
    return b_subs(&call);
}

static SlValue *b_list(SlCall *c)
{
    if (!simple(c, "list", 0, 1))
        return NULL;
    if (c->nargs == 0)
        return sl_list_new(0);
    return sl_iter_list(c->args[0], c->err);
}

static SlValue *b_tuple(SlCall *c)
{
    if (!simple(c, "tuple", 0, 1))
        return NULL;
    SlValue *r = sl_tuple_new(0);
    if (c->nargs == 0)
        return r;
    SlValue *l = sl_iter_list(c->args[0], c->err);
    if (!l) {
        sl_unref(r);
        return NULL;
    }
    for (size_t i = 0; i < l->u.list.len; i++)
        sl_list_push(r, l->u.list.items[i]);
    sl_unref(l);
    return r;
}

static SlValue *b_zip(SlCall *c)
{
    if (!sl_call_keywords(c, "zip", NULL))
        return NULL;
    SlValue **lists = calloc(c->nargs + 1, sizeof *lists);
    if (!lists)
        abort();
    size_t n = (size_t)-1;
    SlValue *r = NULL;
    size_t i;
    for (i = 0; i < c->nargs; i++) {
        lists[i] = sl_iter_list(c->args[i], c->err);
        if (!lists[i])
            break;
        if (lists[i]->u.list.len < n)
            n = lists[i]->u.list.len;
    }
    if (i == c->nargs) {
        if (c->nargs == 0)
            n = 0;
        r = sl_list_new(n);
        for (size_t k = 0; k < n; k++) {
            SlValue *t = sl_tuple_new(c->nargs);
            for (size_t j = 0; j < c->nargs; j++)
                sl_list_push(t, lists[j]->u.list.items[k]);
            sl_list_push_take(r, t);
        }
    }
    for (size_t j = 0; j < i; j++)
        sl_unref(lists[j]);
    free(lists);
    return r;
}

static SlValue *b_enumerate(SlCall *c)
{
    static const char *const kw[] = {"start", NULL};
    if (!sl_call_keywords(c, "enumerate", kw) || !sl_call_arity(c, "enumerate", 1, 2))
        return NULL;
    long start = 0;
    SlValue *sv = c->nargs == 2 ? c->args[1] : sl_call_kwarg(c, "start");
    if (sv && !get_long(c, "enumerate", "start", sv, &start))
        return NULL;
    SlValue *l = sl_iter_list(c->args[0], c->err);
    if (!l)
        return NULL;
    SlValue *r = sl_list_new(l->u.list.len);
    for (size_t i = 0; i < l->u.list.len; i++) {
        SlValue *t = sl_tuple_new(2);
        sl_list_push_take(t, sl_int_si(start + (long)i));
        sl_list_push(t, l->u.list.items[i]);
        sl_list_push_take(r, t);
    }
    sl_unref(l);
    return r;
}

/* Insertion sort keeps it stable and simple; merge sort for long lists. */
static bool sort_items(SlValue **items, size_t n, bool reverse, SlError *err)
{
    SlValue **tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp)
        abort();
    bool ok = true;
    for (size_t width = 1; width < n && ok; width *= 2) {
        for (size_t lo = 0; lo < n && ok; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                SlValue *lt = sl_compare(SL_OP_LT, reverse ? items[i] : items[j], reverse ? items[j] : items[i], err);
                if (!lt) {
                    ok = false;
                    break;
                }
                tmp[k++] = lt == SL_TRUE_V ? items[j++] : items[i++];
            }
            if (!ok)
                break;
            while (i < mid)
                tmp[k++] = items[i++];
            while (j < hi)
                tmp[k++] = items[j++];
            memcpy(items + lo, tmp + lo, (hi - lo) * sizeof *tmp);
        }
    }
    free(tmp);
    return ok;
}

static SlValue *b_sorted(SlCall *c)
{
    static const char *const kw[] = {"reverse", NULL};
    if (!sl_call_keywords(c, "sorted", kw) || !sl_call_arity(c, "sorted", 1, 1))
        return NULL;
    SlValue *rev = sl_call_kwarg(c, "reverse");
    bool ok = true;
    bool reverse = rev ? sl_truthy(rev, &ok) : false;
    SlValue *l = sl_iter_list(c->args[0], c->err);
    if (!l)
        return NULL;
    if (!sort_items(l->u.list.items, l->u.list.len, reverse, c->err)) {
        sl_unref(l);
        return NULL;
    }
    return l;
}

static SlValue *b_reversed(SlCall *c)
{
    if (!simple(c, "reversed", 1, 1))
        return NULL;
    SlValue *l = sl_iter_list(c->args[0], c->err);
    if (!l)
        return NULL;
    for (size_t i = 0, j = l->u.list.len; i + 1 < j; i++, j--) {
        SlValue *t = l->u.list.items[i];
        l->u.list.items[i] = l->u.list.items[j - 1];
        l->u.list.items[j - 1] = t;
    }
    return l;
}

static SlValue *b_int(SlCall *c)
{
    if (!simple(c, "int", 0, 1))
        return NULL;
    if (c->nargs == 0)
        return sl_int_si(0);
    SlValue *v = c->args[0];
    if (v->kind == SL_STR) {
        /* trim, allow underscores between digits and a sign */
        const char *s = v->u.str.s;
        size_t n = v->u.str.len;
        while (n && (*s == ' ' || *s == '\t' || *s == '\n'))
            s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
            n--;
        char *t = malloc(n + 1);
        if (!t)
            abort();
        size_t k = 0;
        bool ok = n > 0;
        for (size_t i = 0; i < n && ok; i++) {
            char ch = s[i];
            if ((ch == '+' || ch == '-') && i == 0)
                t[k++] = ch;
            else if (ch >= '0' && ch <= '9')
                t[k++] = ch;
            else if (ch == '_' && i > 0 && i + 1 < n && s[i - 1] >= '0' && s[i - 1] <= '9')
                continue;
            else
                ok = false;
        }
        t[k] = '\0';
        if (ok && (k == 0 || ((t[0] == '+' || t[0] == '-') && k == 1)))
            ok = false;
        SlValue *r = NULL;
        if (ok) {
            r = sl_int_new();
            mpz_set_str(r->u.z, t[0] == '+' ? t + 1 : t, 10);
        } else {
            SlBuf b = {0};
            sl_repr(&b, v);
            sl_err(c->err, SL_E_VALUE, "invalid literal for int() with base 10: %s", b.s);
            sl_buf_free(&b);
        }
        free(t);
        return r;
    }
    if (sl_is_number(v))
        return sl_num_to_int(v, c->err);
    if (v->kind == SL_OBJECT && v->u.obj.type->primal) {
        /* int(t) of a one-element tensor, int() of an AD number */
        SlValue *p = v->u.obj.type->primal(v);
        if (p) {
            SlValue *r = sl_is_number(p) ? sl_num_to_int(p, c->err) : NULL;
            sl_unref(p);
            if (r || c->err->set)
                return r;
        }
    }
    return sl_err(c->err, SL_E_TYPE, "int() argument must be a string or a number, not '%s'", sl_type_name(v)),
           NULL;
}

static SlValue *b_float(SlCall *c)
{
    if (!simple(c, "float", 0, 1))
        return NULL;
    if (c->nargs == 0)
        return sl_float_d(0.0);
    SlValue *v = c->args[0];
    if (v->kind == SL_STR) {
        const char *s = v->u.str.s;
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
            n--;
        char *t = strndup(s, n);
        if (!t)
            abort();
        SlValue *r = sl_float_new(sl_num_prec());
        char *end;
        const char *p = t;
        bool neg = false;
        if (*p == '+' || *p == '-')
            neg = *p++ == '-';
        bool ok = n > 0;
        if (ok && (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0))
            mpfr_set_inf(r->u.f, neg ? -1 : 1);
        else if (ok && strcasecmp(p, "nan") == 0)
            mpfr_set_nan(r->u.f);
        else if (ok) {
            ok = (*p >= '0' && *p <= '9') || *p == '.';
            if (ok) {
                mpfr_strtofr(r->u.f, t, &end, 10, MPFR_RNDN);
                ok = *end == '\0' && end != t;
            }
        }
        free(t);
        if (ok)
            return r;
        sl_unref(r);
        SlBuf b = {0};
        sl_repr(&b, v);
        sl_err(c->err, SL_E_VALUE, "could not convert string to float: %s", b.s);
        sl_buf_free(&b);
        return NULL;
    }
    if (sl_is_number(v))
        return sl_num_to_float(v, c->err);
    if (v->kind == SL_OBJECT && v->u.obj.type->primal) {
        /* float(t) of a one-element tensor, float() of an AD number */
        SlValue *p = v->u.obj.type->primal(v);
        if (p) {
            SlValue *r = sl_is_number(p) ? sl_num_to_float(p, c->err) : NULL;
            sl_unref(p);
            if (r || c->err->set)
                return r;
        }
    }
    return sl_err(c->err, SL_E_TYPE, "float() argument must be a string or a real number, not '%s'",
                  sl_type_name(v)), NULL;
}

static SlValue *b_str(SlCall *c)
{
    if (!simple(c, "str", 0, 1))
        return NULL;
    if (c->nargs == 0)
        return sl_str_new("", 0);
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_str(&b, c->args[0]);
    size_t n = b.len;
    return sl_str_take(sl_buf_take(&b), n);
}

static SlValue *b_repr(SlCall *c)
{
    if (!simple(c, "repr", 1, 1))
        return NULL;
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_repr(&b, c->args[0]);
    size_t n = b.len;
    return sl_str_take(sl_buf_take(&b), n);
}

static SlValue *b_bool(SlCall *c)
{
    if (!simple(c, "bool", 0, 1))
        return NULL;
    if (c->nargs == 0)
        return sl_bool(false);
    SlValue *v = c->args[0];
    if (v->kind == SL_OBJECT && v->u.obj.type->truthy) {
        bool t;
        return v->u.obj.type->truthy(v, &t, c->err) ? sl_bool(t) : NULL;
    }
    bool ok;
    bool t = sl_truthy(c->args[0], &ok);
    if (!ok) {
        SlBuf b = {0};
        sl_repr(&b, c->args[0]);
        sl_err(c->err, SL_E_SYMBOLIC_BOOL, b.s);
        sl_buf_free(&b);
        return NULL;
    }
    return sl_bool(t);
}

/* type(x): an object that prints as Python's <class 'int'>; type(a) ==
 * type(b) compares the names. */
static void type_free(void *data) { free(data); }
static void type_repr(const SlValue *v, FILE *out) { fprintf(out, "<class '%s'>", (const char *)v->u.obj.data); }
static const SlObjType type_type = {.name = "type", .free = type_free, .repr = type_repr};

static SlValue *b_type(SlCall *c)
{
    if (!simple(c, "type", 1, 1))
        return NULL;
    char *name = strdup(sl_type_name(c->args[0]));
    if (!name)
        abort();
    return sl_object_new(&type_type, name);
}

bool sl_type_object_equal(const SlValue *a, const SlValue *b)
{
    return a->u.obj.type == &type_type && b->u.obj.type == &type_type &&
           strcmp(a->u.obj.data, b->u.obj.data) == 0;
}

static SlValue *b_pow(SlCall *c)
{
    if (!simple(c, "pow", 2, 2))
        return NULL;
    return sl_binop(SL_OP_POW, c->args[0], c->args[1], c->err);
}

static SlValue *b_divmod(SlCall *c)
{
    if (!simple(c, "divmod", 2, 2))
        return NULL;
    if (!sl_is_number(c->args[0]) || !sl_is_number(c->args[1]))
        return sl_err(c->err, SL_E_TYPE_BINOP, "divmod()", sl_type_name(c->args[0]), sl_type_name(c->args[1])),
               NULL;
    SlValue *q = sl_num_binop(SL_OP_FLOORDIV, c->args[0], c->args[1], c->err);
    if (!q)
        return NULL;
    SlValue *r = sl_num_binop(SL_OP_MOD, c->args[0], c->args[1], c->err);
    if (!r) {
        sl_unref(q);
        return NULL;
    }
    SlValue *t = sl_tuple_new(2);
    sl_list_push_take(t, q);
    sl_list_push_take(t, r);
    return t;
}

static SlValue *b_symbols(SlCall *c)
{
    /* symbols("x y") -> (x, y) ; a name that is bound is still a symbol here */
    if (!simple(c, "symbols", 1, 1))
        return NULL;
    SlValue *v = c->args[0];
    if (v->kind != SL_STR)
        return sl_err(c->err, SL_E_ARG_TYPE, "symbols", "1", "a string", sl_type_name(v)), NULL;
    SlValue *t = sl_tuple_new(0);
    const char *p = v->u.str.s;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *q = p;
        while (*q && *q != ' ' && *q != ',')
            q++;
        if (q > p) {
            char *name = strndup(p, (size_t)(q - p));
            if (!name)
                abort();
            sl_list_push_take(t, sl_expr_value(sl_expr_sym(name)));
            free(name);
        }
        p = q;
    }
    if (t->u.list.len == 1) {
        SlValue *one = sl_ref(t->u.list.items[0]);
        sl_unref(t);
        return one;
    }
    return t;
}

/* ---------------------------------------------------------------------------
 * str.format: Python's replacement fields {} {0} {name} {:spec} {!r} {{ }}
 * ------------------------------------------------------------------------- */

static bool format_one(SlCall *c, SlBuf *out, SlValue *v, char conv, const char *spec, size_t speclen)
{
    SlValue *owned = NULL;
    if (conv == 'r' || conv == 's' || conv == 'a') {
        SlBuf b = {0};
        sl_buf_init(&b);
        if (conv == 's')
            sl_str(&b, v);
        else
            sl_repr(&b, v);
        size_t n = b.len;
        owned = v = sl_str_take(sl_buf_take(&b), n);
    }
    bool ok = true;
    if (v->kind == SL_OBJECT && v->u.obj.type->format) {
        ok = v->u.obj.type->format(out, v, spec, speclen, c->err);
    } else if (v->kind == SL_STR || sl_is_number(v)) {
        ok = sl_num_format(out, v, spec, speclen, c->err);
    } else if (speclen == 0) {
        sl_str(out, v);
    } else {
        ok = sl_err(c->err, SL_E_TYPE, "unsupported format string passed to %s.__format__", sl_type_name(v));
    }
    sl_unref(owned);
    return ok;
}

static SlValue *b_format(SlCall *c)
{
    SlValue *self = c->self;
    const char *s = self->u.str.s;
    size_t n = self->u.str.len;
    SlBuf out = {0};
    sl_buf_init(&out);
    size_t autoidx = 0;
    bool manual = false, automatic = false;
    for (size_t i = 0; i < n;) {
        char ch = s[i];
        if (ch == '}') {
            if (i + 1 < n && s[i + 1] == '}') {
                sl_buf_putc(&out, '}');
                i += 2;
                continue;
            }
            sl_err(c->err, SL_E_FORMAT, "Single '}' encountered in format string");
            goto fail;
        }
        if (ch != '{') {
            sl_buf_putc(&out, ch);
            i++;
            continue;
        }
        if (i + 1 < n && s[i + 1] == '{') {
            sl_buf_putc(&out, '{');
            i += 2;
            continue;
        }
        /* a replacement field: find its end, allowing one level of nesting */
        size_t j = i + 1;
        int depth = 1;
        while (j < n && depth) {
            if (s[j] == '{')
                depth++;
            else if (s[j] == '}')
                depth--;
            if (depth)
                j++;
        }
        if (j >= n) {
            sl_err(c->err, SL_E_FORMAT, "expected '}' before end of string");
            goto fail;
        }
        const char *field = s + i + 1;
        size_t flen = j - i - 1;
        size_t namelen = 0;
        while (namelen < flen && field[namelen] != ':' && field[namelen] != '!')
            namelen++;
        char conv = 0;
        size_t k = namelen;
        if (k < flen && field[k] == '!') {
            if (k + 1 >= flen || (field[k + 1] != 'r' && field[k + 1] != 's' && field[k + 1] != 'a')) {
                sl_err(c->err, SL_E_FORMAT, "Unknown conversion specifier %c",
                       k + 1 < flen ? field[k + 1] : '?');
                goto fail;
            }
            conv = field[k + 1];
            k += 2;
            if (k < flen && field[k] != ':') {
                sl_err(c->err, SL_E_FORMAT, "expected ':' after conversion specifier");
                goto fail;
            }
        }
        const char *spec = k < flen ? field + k + 1 : "";
        size_t speclen = k < flen ? flen - k - 1 : 0;
        SlValue *arg = NULL;
        if (namelen == 0) {
            if (manual) {
                sl_err(c->err, SL_E_FORMAT, "cannot switch from manual field specification to automatic field numbering");
                goto fail;
            }
            automatic = true;
            if (autoidx >= c->nargs) {
                sl_err(c->err, SL_E_INDEX_RANGE, "Replacement");
                sl_err_hint(c->err, "the format string has more {} fields than the %zu argument%s given",
                            c->nargs, c->nargs == 1 ? "" : "s");
                goto fail;
            }
            arg = c->args[autoidx++];
        } else if (field[0] >= '0' && field[0] <= '9') {
            if (automatic) {
                sl_err(c->err, SL_E_FORMAT, "cannot switch from automatic field numbering to manual field specification");
                goto fail;
            }
            manual = true;
            char *endp;
            long idx = strtol(field, &endp, 10);
            if ((size_t)(endp - field) != namelen) {
                sl_err(c->err, SL_E_FORMAT, "only plain positions and names are supported in format fields");
                goto fail;
            }
            if (idx < 0 || (size_t)idx >= c->nargs) {
                sl_err(c->err, SL_E_INDEX_RANGE, "Replacement");
                sl_err_hint(c->err, "field {%ld} but only %zu argument%s given", idx, c->nargs,
                            c->nargs == 1 ? "" : "s");
                goto fail;
            }
            arg = c->args[idx];
        } else {
            for (size_t q = 0; q < c->nkw; q++)
                if (strlen(c->kwnames[q]) == namelen && strncmp(c->kwnames[q], field, namelen) == 0)
                    arg = c->kwargs[q];
            if (!arg) {
                sl_err(c->err, SL_E_VALUE, "format field '%.*s' has no keyword argument", (int)namelen, field);
                goto fail;
            }
        }
        /* nested {} inside the spec: substitute positional/auto arguments */
        SlBuf specbuf = {0};
        sl_buf_init(&specbuf);
        for (size_t q = 0; q < speclen; q++) {
            if (spec[q] == '{') {
                size_t r = q + 1;
                while (r < speclen && spec[r] != '}')
                    r++;
                SlValue *narg = NULL;
                if (r == q + 1) {
                    automatic = true;
                    if (autoidx < c->nargs)
                        narg = c->args[autoidx++];
                } else {
                    long idx = strtol(spec + q + 1, NULL, 10);
                    manual = true;
                    if (idx >= 0 && (size_t)idx < c->nargs)
                        narg = c->args[idx];
                }
                if (!narg) {
                    sl_buf_free(&specbuf);
                    sl_err(c->err, SL_E_INDEX_RANGE, "Replacement");
                    goto fail;
                }
                sl_str(&specbuf, narg);
                q = r;
            } else {
                sl_buf_putc(&specbuf, spec[q]);
            }
        }
        bool ok = format_one(c, &out, arg, conv, specbuf.s, specbuf.len);
        sl_buf_free(&specbuf);
        if (!ok)
            goto fail;
        i = j + 1;
    }
    {
        size_t len = out.len;
        return sl_str_take(sl_buf_take(&out), len);
    }
fail:
    sl_buf_free(&out);
    return NULL;
}

/* ---------------------------------------------------------------------------
 * String methods
 * ------------------------------------------------------------------------- */

static SlValue *str_case(SlCall *c, bool upper)
{
    if (!simple(c, upper ? "upper" : "lower", 0, 0))
        return NULL;
    SlValue *r = sl_str_new(c->self->u.str.s, c->self->u.str.len);
    for (size_t i = 0; i < r->u.str.len; i++) {
        char ch = r->u.str.s[i];
        if (upper && ch >= 'a' && ch <= 'z')
            r->u.str.s[i] = (char)(ch - 32);
        else if (!upper && ch >= 'A' && ch <= 'Z')
            r->u.str.s[i] = (char)(ch + 32);
    }
    return r;
}
static SlValue *m_upper(SlCall *c) { return str_case(c, true); }
static SlValue *m_lower(SlCall *c) { return str_case(c, false); }

static SlValue *m_strip(SlCall *c)
{
    if (!simple(c, "strip", 0, 0))
        return NULL;
    const char *s = c->self->u.str.s;
    size_t n = c->self->u.str.len;
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return sl_str_new(s, n);
}

static SlValue *m_split(SlCall *c)
{
    if (!simple(c, "split", 0, 1))
        return NULL;
    const char *s = c->self->u.str.s;
    size_t n = c->self->u.str.len;
    SlValue *r = sl_list_new(0);
    if (c->nargs == 0 || c->args[0]->kind == SL_NONE) {
        size_t i = 0;
        while (i < n) {
            while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
                i++;
            size_t j = i;
            while (j < n && s[j] != ' ' && s[j] != '\t' && s[j] != '\n')
                j++;
            if (j > i)
                sl_list_push_take(r, sl_str_new(s + i, j - i));
            i = j;
        }
        return r;
    }
    SlValue *sep = c->args[0];
    if (sep->kind != SL_STR || sep->u.str.len == 0) {
        sl_unref(r);
        return sl_err(c->err, SL_E_VALUE, sep->kind == SL_STR ? "empty separator" : "must be str or None"), NULL;
    }
    size_t i = 0;
    for (;;) {
        const char *hit = NULL;
        for (size_t j = i; j + sep->u.str.len <= n; j++)
            if (memcmp(s + j, sep->u.str.s, sep->u.str.len) == 0) {
                hit = s + j;
                break;
            }
        if (!hit) {
            sl_list_push_take(r, sl_str_new(s + i, n - i));
            return r;
        }
        sl_list_push_take(r, sl_str_new(s + i, (size_t)(hit - s) - i));
        i = (size_t)(hit - s) + sep->u.str.len;
    }
}

static SlValue *m_join(SlCall *c)
{
    if (!simple(c, "join", 1, 1))
        return NULL;
    SlValue *l = sl_iter_list(c->args[0], c->err);
    if (!l)
        return NULL;
    SlBuf b = {0};
    sl_buf_init(&b);
    for (size_t i = 0; i < l->u.list.len; i++) {
        SlValue *item = l->u.list.items[i];
        if (item->kind != SL_STR) {
            sl_err(c->err, SL_E_TYPE, "sequence item %zu: expected str instance, %s found", i, sl_type_name(item));
            sl_buf_free(&b);
            sl_unref(l);
            return NULL;
        }
        if (i)
            sl_buf_add(&b, c->self->u.str.s, c->self->u.str.len);
        sl_buf_add(&b, item->u.str.s, item->u.str.len);
    }
    sl_unref(l);
    size_t n = b.len;
    return sl_str_take(sl_buf_take(&b), n);
}

static SlValue *m_replace(SlCall *c)
{
    if (!simple(c, "replace", 2, 2))
        return NULL;
    SlValue *a = c->args[0], *b = c->args[1];
    if (a->kind != SL_STR || b->kind != SL_STR)
        return sl_err(c->err, SL_E_TYPE, "replace() arguments must be str"), NULL;
    const char *s = c->self->u.str.s;
    size_t n = c->self->u.str.len;
    SlBuf out = {0};
    sl_buf_init(&out);
    for (size_t i = 0; i < n;) {
        if (a->u.str.len && i + a->u.str.len <= n && memcmp(s + i, a->u.str.s, a->u.str.len) == 0) {
            sl_buf_add(&out, b->u.str.s, b->u.str.len);
            i += a->u.str.len;
        } else {
            sl_buf_putc(&out, s[i++]);
        }
    }
    size_t len = out.len;
    return sl_str_take(sl_buf_take(&out), len);
}

static SlValue *str_affix(SlCall *c, bool start)
{
    if (!simple(c, start ? "startswith" : "endswith", 1, 1))
        return NULL;
    SlValue *a = c->args[0];
    if (a->kind != SL_STR)
        return sl_err(c->err, SL_E_TYPE, "%s arg must be str, not %s", start ? "startswith" : "endswith",
                      sl_type_name(a)), NULL;
    size_t n = c->self->u.str.len, k = a->u.str.len;
    if (k > n)
        return sl_bool(false);
    const char *p = start ? c->self->u.str.s : c->self->u.str.s + n - k;
    return sl_bool(memcmp(p, a->u.str.s, k) == 0);
}
static SlValue *m_startswith(SlCall *c) { return str_affix(c, true); }
static SlValue *m_endswith(SlCall *c) { return str_affix(c, false); }

/* ---------------------------------------------------------------------------
 * List methods
 * ------------------------------------------------------------------------- */

static SlValue *m_append(SlCall *c)
{
    if (!simple(c, "append", 1, 1))
        return NULL;
    sl_list_push(c->self, c->args[0]);
    return SL_NONE_V;
}

static SlValue *m_extend(SlCall *c)
{
    if (!simple(c, "extend", 1, 1))
        return NULL;
    SlValue *l = sl_iter_list(c->args[0], c->err);
    if (!l)
        return NULL;
    for (size_t i = 0; i < l->u.list.len; i++)
        sl_list_push(c->self, l->u.list.items[i]);
    sl_unref(l);
    return SL_NONE_V;
}

static SlValue *m_pop(SlCall *c)
{
    if (!simple(c, "pop", 0, 1))
        return NULL;
    SlValue *l = c->self;
    if (l->u.list.len == 0)
        return sl_err(c->err, SL_E_INDEX_RANGE, "pop from empty list"), NULL;
    long i = (long)l->u.list.len - 1;
    if (c->nargs == 1) {
        if (!get_long(c, "pop", "1", c->args[0], &i))
            return NULL;
        if (i < 0)
            i += (long)l->u.list.len;
        if (i < 0 || (size_t)i >= l->u.list.len)
            return sl_err(c->err, SL_E_INDEX_RANGE, "pop"), NULL;
    }
    SlValue *v = l->u.list.items[i];
    memmove(l->u.list.items + i, l->u.list.items + i + 1, (l->u.list.len - (size_t)i - 1) * sizeof(SlValue *));
    l->u.list.len--;
    return v;
}

static SlValue *m_insert(SlCall *c)
{
    if (!simple(c, "insert", 2, 2))
        return NULL;
    long i;
    if (!get_long(c, "insert", "1", c->args[0], &i))
        return NULL;
    SlValue *l = c->self;
    long n = (long)l->u.list.len;
    if (i < 0)
        i = i + n < 0 ? 0 : i + n;
    if (i > n)
        i = n;
    sl_list_push(l, c->args[1]);
    memmove(l->u.list.items + i + 1, l->u.list.items + i, (size_t)(n - i) * sizeof(SlValue *));
    l->u.list.items[i] = sl_ref(c->args[1]);
    sl_unref(c->args[1]); /* the push's reference moved */
    return SL_NONE_V;
}

static SlValue *m_index(SlCall *c)
{
    if (!simple(c, "index", 1, 1))
        return NULL;
    for (size_t i = 0; i < c->self->u.list.len; i++)
        if (sl_values_equal(c->self->u.list.items[i], c->args[0]))
            return sl_int_si((long)i);
    SlBuf b = {0};
    sl_repr(&b, c->args[0]);
    sl_err(c->err, SL_E_VALUE, "%s is not in list", b.s);
    sl_buf_free(&b);
    return NULL;
}

static SlValue *m_count(SlCall *c)
{
    if (!simple(c, "count", 1, 1))
        return NULL;
    long k = 0;
    for (size_t i = 0; i < c->self->u.list.len; i++)
        k += sl_values_equal(c->self->u.list.items[i], c->args[0]);
    return sl_int_si(k);
}

static SlValue *m_copy(SlCall *c)
{
    if (!simple(c, "copy", 0, 0))
        return NULL;
    return sl_iter_list(c->self, c->err);
}

static SlValue *m_reverse(SlCall *c)
{
    if (!simple(c, "reverse", 0, 0))
        return NULL;
    SlValue *l = c->self;
    for (size_t i = 0, j = l->u.list.len; i + 1 < j; i++, j--) {
        SlValue *t = l->u.list.items[i];
        l->u.list.items[i] = l->u.list.items[j - 1];
        l->u.list.items[j - 1] = t;
    }
    return SL_NONE_V;
}

static SlValue *m_sort(SlCall *c)
{
    static const char *const kw[] = {"reverse", NULL};
    if (!sl_call_keywords(c, "sort", kw) || !sl_call_arity(c, "sort", 0, 0))
        return NULL;
    SlValue *rev = sl_call_kwarg(c, "reverse");
    bool ok = true;
    bool reverse = rev ? sl_truthy(rev, &ok) : false;
    SlValue *copy = sl_iter_list(c->self, c->err);
    if (!sort_items(copy->u.list.items, copy->u.list.len, reverse, c->err)) {
        sl_unref(copy);
        return NULL;
    }
    /* commit only when the sort succeeded */
    SlValue **items = c->self->u.list.items;
    c->self->u.list.items = copy->u.list.items;
    copy->u.list.items = items;
    return sl_unref(copy), SL_NONE_V;
}

static SlValue *m_clear(SlCall *c)
{
    if (!simple(c, "clear", 0, 0))
        return NULL;
    for (size_t i = 0; i < c->self->u.list.len; i++)
        sl_unref(c->self->u.list.items[i]);
    c->self->u.list.len = 0;
    return SL_NONE_V;
}

/* ---------------------------------------------------------------------------
 * Tables
 * ------------------------------------------------------------------------- */

static const SlBuiltin builtins[] = {
    {"sin", b_sin, "sin(x)", "Sine of x (radians). Symbolic when x is."},
    {"cos", b_cos, "cos(x)", "Cosine of x (radians)."},
    {"tan", b_tan, "tan(x)", "Tangent of x (radians)."},
    {"asin", b_asin, "asin(x)", "Arc sine, in [-π/2, π/2]; x in [-1, 1]."},
    {"acos", b_acos, "acos(x)", "Arc cosine, in [0, π]; x in [-1, 1]."},
    {"atan", b_atan, "atan(x)", "Arc tangent, in (-π/2, π/2)."},
    {"atan2", b_atan2, "atan2(y, x)", "Angle of the point (x, y), in (-π, π]."},
    {"sinh", b_sinh, "sinh(x)", "Hyperbolic sine."},
    {"cosh", b_cosh, "cosh(x)", "Hyperbolic cosine."},
    {"tanh", b_tanh, "tanh(x)", "Hyperbolic tangent."},
    {"exp", b_exp, "exp(x)", "e to the power x."},
    {"log", b_log, "log(x[, base])", "Natural logarithm of x (x > 0); log(x, b) is the logarithm in base b."},
    {"log2", b_log2, "log2(x)", "Base-2 logarithm."},
    {"log10", b_log10, "log10(x)", "Base-10 logarithm."},
    {"sqrt", b_sqrt, "sqrt(x)", "Square root (x >= 0); also written √x."},
    {"cbrt", b_cbrt, "cbrt(x)", "Cube root (real, also of negative x)."},
    {"abs", b_abs, "abs(x)", "Absolute value; an int for an int."},
    {"sign", b_sign, "sign(x)", "-1, 0 or 1 with the sign of x."},
    {"floor", b_floor, "floor(x)", "Largest integer <= x, as an int (Python's math.floor)."},
    {"ceil", b_ceil, "ceil(x)", "Smallest integer >= x, as an int."},
    {"round", b_round, "round(x[, n])", "x rounded to the nearest integer (ties to even), or to n decimals."},
    {"min", b_min, "min(a, b, ...) or min(list)", "The smallest argument."},
    {"max", b_max, "max(a, b, ...) or max(list)", "The largest argument."},
    {"sigmoid", b_sigmoid, "sigmoid(x)", "The logistic function σ(x) = 1/(1 + exp(-x))."},
    {"relu", b_relu, "relu(x)", "max(x, 0)."},
    {"heaviside", b_heaviside, "heaviside(x)", "1 for x > 0, else 0: the derivative of relu (0 at 0, as PyTorch)."},
    {"print", b_print, "print(a, b, ..., sep=' ', end='\\n')",
     "Print the arguments as Python does: separated by spaces, strings without quotes."},
    {"len", b_len, "len(x)", "Length of a list, tuple or string."},
    {"range", b_range, "range([start,] stop[, step])",
     "The integers start, start+step, ... before stop, as a list; in a for loop it runs without building one."},
    {"sum", b_sum, "sum(list[, start])", "start (default 0) plus every item, added left to right."},
    {"subs", b_subs, "subs(expr, x=2, y=0.5)",
     "Substitute values (numbers or expressions) for symbols; a number when no symbol is left."},
    {"list", b_list, "list([iterable])", "A new list (empty, or of the items)."},
    {"tuple", b_tuple, "tuple([iterable])", "A new tuple."},
    {"zip", b_zip, "zip(a, b, ...)", "Tuples of corresponding items, as long as the shortest argument."},
    {"enumerate", b_enumerate, "enumerate(list[, start])", "Tuples (index, item)."},
    {"sorted", b_sorted, "sorted(list, reverse=False)", "A sorted copy."},
    {"reversed", b_reversed, "reversed(list)", "A reversed copy, as a list."},
    {"int", b_int, "int(x)", "Integer from a number (truncates) or a string."},
    {"float", b_float, "float(x)", "Float (at the session precision) from a number or string."},
    {"str", b_str, "str(x)", "x as print shows it."},
    {"repr", b_repr, "repr(x)", "x as the prompt shows it."},
    {"bool", b_bool, "bool(x)", "Truth value of x."},
    {"type", b_type, "type(x)", "The name of x's type, as a string \"<class 'int'>\"."},
    {"pow", b_pow, "pow(a, b)", "a ** b."},
    {"divmod", b_divmod, "divmod(a, b)", "(a // b, a % b)."},
    {"symbols", b_symbols, "symbols(\"x y\")", "Symbols by name, even when the names are bound to values."},
};

static const SlBuiltin str_methods[] = {
    {"format", b_format, "str.format(...)",
     "Python's str.format: {} {0} {name} {:>8} {:.4f} {:e} {!r}, {{ and }} for braces."},
    {"upper", m_upper, "str.upper()", "Upper-case copy (ASCII letters)."},
    {"lower", m_lower, "str.lower()", "Lower-case copy (ASCII letters)."},
    {"strip", m_strip, "str.strip()", "Copy without leading and trailing whitespace."},
    {"split", m_split, "str.split([sep])", "List of the words (or of the pieces between sep)."},
    {"join", m_join, "str.join(list)", "The strings of list with this string between them."},
    {"replace", m_replace, "str.replace(old, new)", "Copy with every old replaced by new."},
    {"startswith", m_startswith, "str.startswith(s)", "Whether the string starts with s."},
    {"endswith", m_endswith, "str.endswith(s)", "Whether the string ends with s."},
};

static const SlBuiltin list_methods[] = {
    {"append", m_append, "list.append(x)", "Add x at the end."},
    {"extend", m_extend, "list.extend(items)", "Add every item at the end."},
    {"pop", m_pop, "list.pop([i])", "Remove and return the item at i (default: the last)."},
    {"insert", m_insert, "list.insert(i, x)", "Insert x before position i."},
    {"index", m_index, "list.index(x)", "Position of the first item equal to x."},
    {"count", m_count, "list.count(x)", "Number of items equal to x."},
    {"copy", m_copy, "list.copy()", "A shallow copy."},
    {"reverse", m_reverse, "list.reverse()", "Reverse in place."},
    {"sort", m_sort, "list.sort(reverse=False)", "Sort in place."},
    {"clear", m_clear, "list.clear()", "Remove every item."},
};

static const SlBuiltin tuple_methods[] = {
    {"index", m_index, "tuple.index(x)", "Position of the first item equal to x."},
    {"count", m_count, "tuple.count(x)", "Number of items equal to x."},
};

static const SlBuiltin expr_methods[] = {
    {"subs", b_subs_method, "expr.subs(x=2)", "Substitute values for symbols (as subs(expr, ...))."},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const SlBuiltin *find(const SlBuiltin *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* The tensor functions that are also global names (the rest, such as t,
 * add, transpose, are reached as torch.t ...: as globals they would take
 * common symbol names away from algebra). */
static const char *const tensor_globals[] = {
    "tensor", "Tensor", "FloatTensor", "Variable", "zeros", "ones", "full", "rand", "randn", "randint",
    "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "arange", "linspace", "eye",
    "manual_seed", "matmul", "mean", "argmax", "argmin", "stack", "cat", "is_tensor", NULL,
};

static bool tensor_global(const char *name)
{
    for (size_t i = 0; tensor_globals[i]; i++)
        if (strcmp(tensor_globals[i], name) == 0)
            return true;
    return false;
}

const SlBuiltin *sl_builtin_lookup(const char *name)
{
    const SlBuiltin *b = find(builtins, COUNT(builtins), name);
    if (!b)
        b = sl_ad_builtin_lookup(name);
    if (!b && tensor_global(name))
        b = sl_tensor_builtin_lookup(name);
    if (!b)
        b = sl_nn_global_lookup(name);
    if (!b)
        b = sl_optim_builtin_lookup(name);
    if (!b)
        b = sl_descend_builtin_lookup(name);
    if (!b)
        b = sl_plot_builtin_lookup(name);
    if (!b)
        b = sl_graph_builtin_lookup(name);
    return b;
}

const SlBuiltin *sl_namespace_lookup(const char *name)
{
    const SlBuiltin *b = sl_tensor_builtin_lookup(name);
    return b ? b : sl_builtin_lookup(name);
}

const SlBuiltin *sl_builtin_at(size_t i)
{
    if (i < COUNT(builtins))
        return &builtins[i];
    i -= COUNT(builtins);
    size_t nad = 0;
    while (sl_ad_builtin_at(nad))
        nad++;
    if (i < nad)
        return sl_ad_builtin_at(i);
    i -= nad;
    size_t seen = 0;
    for (size_t k = 0; sl_tensor_builtin_at(k); k++)
        if (tensor_global(sl_tensor_builtin_at(k)->name) && seen++ == i)
            return sl_tensor_builtin_at(k);
    i -= seen;
    size_t nnn = 0;
    while (sl_nn_global_at(nnn))
        nnn++;
    if (i < nnn)
        return sl_nn_global_at(i);
    i -= nnn;
    size_t nopt = 0;
    while (sl_optim_builtin_at(nopt))
        nopt++;
    if (i < nopt)
        return sl_optim_builtin_at(i);
    i -= nopt;
    size_t ndes = 0;
    while (sl_descend_builtin_at(ndes))
        ndes++;
    if (i < ndes)
        return sl_descend_builtin_at(i);
    i -= ndes;
    size_t nplot = 0;
    while (sl_plot_builtin_at(nplot))
        nplot++;
    if (i < nplot)
        return sl_plot_builtin_at(i);
    return sl_graph_builtin_at(i - nplot);
}

const SlBuiltin *sl_method_lookup(const SlValue *self, const char *name)
{
    switch (self->kind) {
    case SL_STR: return find(str_methods, COUNT(str_methods), name);
    case SL_LIST: return find(list_methods, COUNT(list_methods), name);
    case SL_TUPLE: return find(tuple_methods, COUNT(tuple_methods), name);
    case SL_EXPR: return find(expr_methods, COUNT(expr_methods), name);
    case SL_OBJECT: return self->u.obj.type->method ? self->u.obj.type->method(self, name) : NULL;
    default: return NULL;
    }
}

const SlBuiltin *sl_method_table(const char *type, size_t *n)
{
    if (strcmp(type, "str") == 0)
        return *n = COUNT(str_methods), str_methods;
    if (strcmp(type, "list") == 0)
        return *n = COUNT(list_methods), list_methods;
    if (strcmp(type, "expression") == 0)
        return *n = COUNT(expr_methods), expr_methods;
    *n = 0;
    return NULL;
}

/* ---------------------------------------------------------------------------
 * A cache in front of sl_builtin_lookup for the evaluator's name lookups
 * (every `relu`, `range` or `sigmoid` in a training loop would otherwise
 * scan the tables).  The tables are static, so an answer, NULL included,
 * never goes stale.
 * ------------------------------------------------------------------------- */

#define CACHE_SLOTS 1024

static struct {
    char *name;              /* malloc'd key, NULL for an empty slot */
    const SlBuiltin *b;      /* the answer (NULL: not a builtin) */
} lookup_cache[CACHE_SLOTS];
static size_t lookup_cached;

static void lookup_cache_free(void)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        free(lookup_cache[i].name);
}

const SlBuiltin *sl_builtin_lookup_cached(const char *name)
{
    unsigned long h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    size_t i = h & (CACHE_SLOTS - 1);
    while (lookup_cache[i].name) {
        if (strcmp(lookup_cache[i].name, name) == 0)
            return lookup_cache[i].b;
        i = (i + 1) & (CACHE_SLOTS - 1);
    }
    const SlBuiltin *b = sl_builtin_lookup(name);
    if (lookup_cached < CACHE_SLOTS * 3 / 4) {
        char *key = malloc(strlen(name) + 1);
        if (key) {
            if (lookup_cached++ == 0)
                atexit(lookup_cache_free);
            strcpy(key, name);
            lookup_cache[i].name = key;
            lookup_cache[i].b = b;
        }
    }
    return b;
}
