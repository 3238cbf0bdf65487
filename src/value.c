/* value.c -- reference counting, constructors and printing of values. */
#include "value.h"

#include "pool.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "builtins.h"
#include "eval.h"
#include "expr.h"
#include "num.h"

SlValue sl_none_value = {.refs = -1, .kind = SL_NONE};
SlValue sl_true_value = {.refs = -1, .kind = SL_BOOL, .u.b = true};
SlValue sl_false_value = {.refs = -1, .kind = SL_BOOL, .u.b = false};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("slope: out of memory\n", stderr);
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("slope: out of memory\n", stderr);
        abort();
    }
    return p;
}

static SlPool value_pool = {.max = 4096};

/* A value of the kind with one reference; the payload is for the caller to
 * set (a free-list block is not cleared: every constructor below sets
 * what its kind uses). */
static SlValue *alloc(SlKind kind)
{
    SlValue *v;
    if (!SL_POOL_OFF && value_pool.free) {
        v = value_pool.free;
        memcpy(&value_pool.free, v, sizeof value_pool.free);
        value_pool.count--;
    } else {
        v = sl_pool_get(&value_pool, sizeof *v);
    }
    v->refs = 1;
    v->kind = kind;
    v->tag = SL_TAG_NONE;
    return v;
}

/* Freed ints and floats keep their GMP / MPFR storage for the next number
 * made (a loop that makes and drops numbers then never calls malloc): at
 * most NUM_KEEP of each, small ones only.  Off with the pools (sanitizers
 * see every allocation). */
#define NUM_KEEP 256
#define KEEP_LIMBS 4      /* ints of at most this many limbs */
#define KEEP_PREC 4096    /* floats of at most this many bits */

static struct {
    SlValue *v[NUM_KEEP]; /* kind set, number still initialised, refs 0 */
    size_t n;             /* entries used */
} kept_ints, kept_floats;

static bool keep_number(SlValue *v)
{
    if (SL_POOL_OFF)
        return false;
    if (v->kind == SL_INT && kept_ints.n < NUM_KEEP && mpz_size(v->u.z) <= KEEP_LIMBS) {
        kept_ints.v[kept_ints.n++] = v;
        return true;
    }
    if (v->kind == SL_FLOAT && kept_floats.n < NUM_KEEP && mpfr_get_prec(v->u.f) <= KEEP_PREC) {
        kept_floats.v[kept_floats.n++] = v;
        return true;
    }
    return false;
}

/* A kept int (its mpz holds some old value), or NULL. */
static SlValue *reuse_int(void)
{
    if (!kept_ints.n)
        return NULL;
    SlValue *v = kept_ints.v[--kept_ints.n];
    v->refs = 1;
    v->tag = SL_TAG_NONE;
    return v;
}

void sl_value_destroy(SlValue *v)
{
    switch (v->kind) {
    case SL_INT:
    case SL_FLOAT:
        if (keep_number(v))
            return;
        if (v->kind == SL_INT)
            mpz_clear(v->u.z);
        else
            mpfr_clear(v->u.f);
        break;
    case SL_STR: free(v->u.str.s); break;
    case SL_LIST:
    case SL_TUPLE:
        for (size_t i = 0; i < v->u.list.len; i++)
            sl_unref(v->u.list.items[i]);
        free(v->u.list.items);
        break;
    case SL_EXPR: sl_expr_unref(v->u.expr); break;
    case SL_FUNC: sl_func_unref(v->u.func); break;
    case SL_METHOD: sl_unref(v->u.method.self); break;
    case SL_OBJECT:
        if (v->u.obj.type->free)
            v->u.obj.type->free(v->u.obj.data);
        break;
    case SL_NONE:
    case SL_BOOL:
    case SL_BUILTIN: break;
    }
    sl_pool_put(&value_pool, v);
}

void sl_assign(SlValue **slot, SlValue *v)
{
    sl_ref(v);
    sl_unref(*slot);
    *slot = v;
}

SlValue *sl_bool(bool b) { return b ? SL_TRUE_V : SL_FALSE_V; }

SlValue *sl_int_new(void)
{
    SlValue *v = reuse_int();
    if (v) {
        mpz_set_ui(v->u.z, 0);
        return v;
    }
    v = alloc(SL_INT);
    mpz_init(v->u.z);
    return v;
}

SlValue *sl_int_si(long n)
{
    SlValue *v = reuse_int();
    if (v) {
        mpz_set_si(v->u.z, n);
        return v;
    }
    v = alloc(SL_INT);
    mpz_init_set_si(v->u.z, n);
    return v;
}

SlValue *sl_int_z(const mpz_t z)
{
    SlValue *v = reuse_int();
    if (v) {
        mpz_set(v->u.z, z);
        return v;
    }
    v = alloc(SL_INT);
    mpz_init_set(v->u.z, z);
    return v;
}

SlValue *sl_float_new(mpfr_prec_t prec)
{
    if (kept_floats.n) {
        SlValue *v = kept_floats.v[--kept_floats.n];
        v->refs = 1;
        v->tag = SL_TAG_NONE;
        /* as mpfr_init2 leaves it: a positive NaN of precision prec */
        if (mpfr_get_prec(v->u.f) != prec)
            mpfr_set_prec(v->u.f, prec);
        mpfr_set_nan(v->u.f);
        mpfr_setsign(v->u.f, v->u.f, 0, MPFR_RNDN);
        return v;
    }
    SlValue *v = alloc(SL_FLOAT);
    mpfr_init2(v->u.f, prec);
    return v;
}

SlValue *sl_float_d(double d)
{
    SlValue *v = sl_float_new(sl_num_prec());
    mpfr_set_d(v->u.f, d, MPFR_RNDN);
    return v;
}

SlValue *sl_str_new(const char *s, size_t len)
{
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return sl_str_take(p, len);
}

SlValue *sl_str_cstr(const char *s) { return sl_str_new(s, strlen(s)); }

SlValue *sl_str_take(char *s, size_t len)
{
    SlValue *v = alloc(SL_STR);
    v->u.str.s = s;
    v->u.str.len = len;
    return v;
}

static SlValue *seq_new(SlKind kind, size_t cap)
{
    SlValue *v = alloc(kind);
    v->u.list.len = 0;
    v->u.list.cap = cap;
    v->u.list.seen = false;
    v->u.list.items = cap ? xmalloc(cap * sizeof(SlValue *)) : NULL;
    return v;
}

SlValue *sl_list_new(size_t cap) { return seq_new(SL_LIST, cap); }
SlValue *sl_tuple_new(size_t cap) { return seq_new(SL_TUPLE, cap); }

void sl_list_push_take(SlValue *list, SlValue *item)
{
    if (list->u.list.len == list->u.list.cap) {
        size_t cap = list->u.list.cap ? list->u.list.cap * 2 : 4;
        list->u.list.items = xrealloc(list->u.list.items, cap * sizeof(SlValue *));
        list->u.list.cap = cap;
    }
    list->u.list.items[list->u.list.len++] = item;
}

void sl_list_push(SlValue *list, SlValue *item) { sl_list_push_take(list, sl_ref(item)); }

SlValue *sl_expr_value(SlExpr *e)
{
    SlValue *v = alloc(SL_EXPR);
    v->u.expr = e;
    return v;
}

SlValue *sl_func_value(SlFunc *f)
{
    SlValue *v = alloc(SL_FUNC);
    v->u.func = f;
    return v;
}

SlValue *sl_builtin_value(const SlBuiltin *b)
{
    SlValue *v = alloc(SL_BUILTIN);
    v->u.builtin = b;
    return v;
}

SlValue *sl_method_value(SlValue *self, const SlBuiltin *fn)
{
    SlValue *v = alloc(SL_METHOD);
    v->u.method.self = sl_ref(self);
    v->u.method.fn = fn;
    return v;
}

SlValue *sl_object_new(const SlObjType *type, void *data)
{
    SlValue *v = alloc(SL_OBJECT);
    v->u.obj.type = type;
    v->u.obj.data = data;
    return v;
}

const char *sl_type_name(const SlValue *v)
{
    switch (v->kind) {
    case SL_NONE: return "NoneType";
    case SL_BOOL: return "bool";
    case SL_INT: return "int";
    case SL_FLOAT: return "float";
    case SL_STR: return "str";
    case SL_LIST: return "list";
    case SL_TUPLE: return "tuple";
    case SL_EXPR: return "expression";
    case SL_FUNC: return "function";
    case SL_BUILTIN: return "builtin_function";
    case SL_METHOD: return "method";
    case SL_OBJECT: return v->u.obj.type->name;
    }
    return "?";
}

bool sl_is_number(const SlValue *v)
{
    return v->kind == SL_BOOL || v->kind == SL_INT || v->kind == SL_FLOAT;
}

int sl_no_grad_depth = 0;

static void slice_free(void *d)
{
    SlSlice *s = d;
    sl_unref(s->start);
    sl_unref(s->stop);
    sl_unref(s->step);
    free(s);
}

static void slice_part(FILE *out, const SlValue *v)
{
    SlBuf b = {0};
    if (v)
        sl_repr(&b, v);
    fputs(v ? b.s : "None", out);
    sl_buf_free(&b);
}

static void slice_repr(const SlValue *v, FILE *out)
{
    const SlSlice *s = v->u.obj.data;
    fputs("slice(", out);
    slice_part(out, s->start);
    fputs(", ", out);
    slice_part(out, s->stop);
    fputs(", ", out);
    slice_part(out, s->step);
    fputs(")", out);
}

const SlObjType sl_slice_type = {.name = "slice", .free = slice_free, .repr = slice_repr};

SlValue *sl_slice_new(SlValue *start, SlValue *stop, SlValue *step)
{
    SlSlice *s = xmalloc(sizeof *s);
    s->start = start;
    s->stop = stop;
    s->step = step;
    return sl_object_new(&sl_slice_type, s);
}

SlValue *sl_primal(SlValue *v)
{
    if (v->kind == SL_OBJECT && v->u.obj.type->primal) {
        SlValue *p = v->u.obj.type->primal(v);
        if (p)
            return p;
    }
    return sl_ref(v);
}

bool sl_truthy(const SlValue *v, bool *ok)
{
    *ok = true;
    if (v->kind == SL_OBJECT && v->u.obj.type->primal) {
        SlValue *p = v->u.obj.type->primal(v);
        if (p) {
            bool t = sl_truthy(p, ok);
            sl_unref(p);
            return t;
        }
    }
    switch (v->kind) {
    case SL_NONE: return false;
    case SL_BOOL: return v->u.b;
    case SL_INT: return mpz_sgn(v->u.z) != 0;
    case SL_FLOAT: return !mpfr_zero_p(v->u.f);
    case SL_STR: return v->u.str.len != 0;
    case SL_LIST:
    case SL_TUPLE: return v->u.list.len != 0;
    case SL_EXPR: *ok = false; return false;
    default: return true;
    }
}

/* ---- buffers ---- */

void sl_buf_init(SlBuf *b)
{
    b->cap = 64;
    b->s = xmalloc(b->cap);
    b->s[0] = '\0';
    b->len = 0;
}

void sl_buf_free(SlBuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

static void reserve(SlBuf *b, size_t extra)
{
    if (!b->s)
        sl_buf_init(b);
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap;
    while (b->len + extra + 1 > cap)
        cap *= 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
}

void sl_buf_add(SlBuf *b, const char *s, size_t n)
{
    reserve(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void sl_buf_puts(SlBuf *b, const char *s) { sl_buf_add(b, s, strlen(s)); }
void sl_buf_putc(SlBuf *b, char c) { sl_buf_add(b, &c, 1); }

void sl_buf_printf(SlBuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        sl_buf_add(b, small, (size_t)n);
        return;
    }
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *sl_buf_take(SlBuf *b)
{
    if (!b->s)
        sl_buf_init(b);
    char *s = b->s;
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

/* ---- printing ---- */

/* Python's repr of a string: single quotes unless the text has a single
 * quote and no double quote; escapes for \\, the quote, \n \r \t and other
 * control characters. */
static void repr_str(SlBuf *out, const char *s, size_t len)
{
    bool has_sq = memchr(s, '\'', len) != NULL, has_dq = memchr(s, '"', len) != NULL;
    char q = (has_sq && !has_dq) ? '"' : '\'';
    sl_buf_putc(out, q);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c == (unsigned char)q) {
            sl_buf_putc(out, '\\');
            sl_buf_putc(out, (char)c);
        } else if (c == '\n') {
            sl_buf_puts(out, "\\n");
        } else if (c == '\r') {
            sl_buf_puts(out, "\\r");
        } else if (c == '\t') {
            sl_buf_puts(out, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            sl_buf_printf(out, "\\x%02x", c);
        } else {
            sl_buf_putc(out, (char)c);
        }
    }
    sl_buf_putc(out, q);
}

static void print_value(SlBuf *out, const SlValue *v, bool repr);

static void print_seq(SlBuf *out, const SlValue *v)
{
    bool tuple = v->kind == SL_TUPLE;
    sl_buf_putc(out, tuple ? '(' : '[');
    for (size_t i = 0; i < v->u.list.len; i++) {
        if (i)
            sl_buf_puts(out, ", ");
        print_value(out, v->u.list.items[i], true);
    }
    if (tuple && v->u.list.len == 1)
        sl_buf_putc(out, ',');
    sl_buf_putc(out, tuple ? ')' : ']');
}

void (*sl_func_print_hook)(SlBuf *out, const SlFunc *f);

/* ---- user functions (their printing is eval.c's, through the hook) ---- */

SlFunc *sl_func_ref(SlFunc *f)
{
    f->refs++;
    return f;
}

void sl_func_unref(SlFunc *f)
{
    if (!f || --f->refs > 0)
        return;
    sl_unref(f->parent);
    if (f->defaults) {
        for (size_t i = 0; i < f->def->nparams; i++)
            sl_unref(f->defaults[i]);
        free(f->defaults);
    }
    free(f->name);
    sl_source_unref(f->src);
    free(f);
}

void sl_builtin_print(SlBuf *out, const SlBuiltin *b)
{
    sl_buf_printf(out, "<built-in function %s>", b->name);
}

static void print_value(SlBuf *out, const SlValue *v, bool repr)
{
    switch (v->kind) {
    case SL_NONE: sl_buf_puts(out, "None"); break;
    case SL_BOOL: sl_buf_puts(out, v->u.b ? "True" : "False"); break;
    case SL_INT:
    case SL_FLOAT: sl_num_repr(out, v); break;
    case SL_STR:
        if (repr)
            repr_str(out, v->u.str.s, v->u.str.len);
        else
            sl_buf_add(out, v->u.str.s, v->u.str.len);
        break;
    case SL_LIST:
    case SL_TUPLE: print_seq(out, v); break;
    case SL_EXPR: sl_expr_print(out, v->u.expr, sl_expr_style()); break;
    case SL_FUNC:
        if (sl_func_print_hook)
            sl_func_print_hook(out, v->u.func);
        else
            sl_buf_printf(out, "<function %s>", v->u.func->name);
        break;
    case SL_BUILTIN: sl_builtin_print(out, v->u.builtin); break;
    case SL_METHOD:
        sl_buf_puts(out, "<method of ");
        sl_buf_puts(out, sl_type_name(v->u.method.self));
        sl_buf_puts(out, ">");
        break;
    case SL_OBJECT: {
        char *p = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&p, &n);
        if (f) {
            v->u.obj.type->repr(v, f);
            fclose(f);
            sl_buf_add(out, p, n);
            free(p);
        }
        break;
    }
    }
}

void sl_repr(SlBuf *out, const SlValue *v) { print_value(out, v, true); }
void sl_str(SlBuf *out, const SlValue *v) { print_value(out, v, false); }
