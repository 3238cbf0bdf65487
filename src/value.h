/* value.h -- slope's runtime values.
 *
 * Every value is a reference-counted SlValue.  The convention, everywhere:
 *   - functions BORROW their SlValue arguments (they take a reference of
 *     their own if they keep one);
 *   - functions RETURN A NEW REFERENCE, or NULL after recording an error in
 *     the SlError they were given.
 * So a caller releases what it got back with sl_unref() and nothing else.
 * None, True and False are immortal singletons (ref/unref are no-ops on them).
 *
 * Numbers follow Python: SL_INT is an exact GMP integer of any size,
 * SL_FLOAT an MPFR number (created at the session precision, see num.h),
 * SL_BOOL is a distinct kind that arithmetic treats as 0/1.
 */
#ifndef SL_VALUE_H
#define SL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <gmp.h>
#include <mpfr.h>

#include "error.h"

typedef struct SlValue SlValue;
typedef struct SlExpr SlExpr;       /* expr.h */
typedef struct SlFunc SlFunc;       /* eval.h: a user function */
typedef struct SlBuiltin SlBuiltin; /* builtins.h */
typedef struct SlObjType SlObjType;
struct SlCall;                      /* builtins.h */
typedef struct SlBuf SlBuf;

/* SL_TAG_RAW on a str: a statement whose value it is shows it bare, not
 * as its repr (latex()'s results, so the LaTeX reads as written); repr(),
 * lists and {!r} still quote it. */
enum { SL_TAG_NONE, SL_TAG_PI, SL_TAG_E, SL_TAG_RAW };

typedef enum SlKind {
    SL_NONE,
    SL_BOOL,
    SL_INT,
    SL_FLOAT,
    SL_STR,
    SL_LIST,
    SL_TUPLE,
    SL_EXPR,     /* a symbolic expression */
    SL_FUNC,     /* a user function (f(x) = ..., def, optimizer) */
    SL_BUILTIN,  /* a builtin function */
    SL_METHOD,   /* a builtin bound to its receiver: "abc".format */
    SL_OBJECT    /* anything else (tensors, layers, ...): see SlObjType */
} SlKind;

/* Behaviour of an SL_OBJECT kind; later modules fill one in per type. */
/* Behaviour of an SL_OBJECT kind.  Only name, free and repr are required;
 * the numeric hooks let a type take part in arithmetic (AD numbers,
 * tensors): the evaluator calls them whenever an operand is such an object.
 * All follow the value conventions (borrowed arguments, new reference or
 * NULL + error). */
struct SlObjType {
    const char *name;                                 /* type name for messages */
    void (*free)(void *data);                         /* release data */
    void (*repr)(const SlValue *v, FILE *out);        /* how it prints */
    /* a op b, where a or b (or both) is of this type; op is an SlOp */
    SlValue *(*binop)(int op, SlValue *a, SlValue *b, SlError *err);
    /* SL_OP_NEG / SL_OP_POS */
    SlValue *(*unop)(int op, SlValue *a, SlError *err);
    /* an elementary function (SlMathFn) with at least one argument of this type */
    SlValue *(*math)(int fn, SlValue *const *args, size_t nargs, SlError *err);
    /* the plain number this value stands for, for comparisons, truth and
     * indexing (an AD number's primal value); NULL when it has none */
    SlValue *(*primal)(const SlValue *v);
    /* comparison (SL_OP_LT ... SL_OP_NE) when it is not by primal value
     * (tensors compare elementwise) */
    SlValue *(*compare)(int op, SlValue *a, SlValue *b, SlError *err);
    /* truth value (bool(t) of a one-element tensor); false + error when undefined */
    bool (*truthy)(const SlValue *v, bool *result, SlError *err);
    /* obj.name: a new reference, or NULL WITHOUT an error when there is no
     * such attribute (methods are looked up next) */
    SlValue *(*getattr)(SlValue *self, const char *name, SlError *err);
    /* obj.name = v */
    bool (*setattr)(SlValue *self, const char *name, SlValue *v, SlError *err);
    /* obj.name(...) methods (SlBuiltin with c->self = obj); NULL when none.
     * The answer must depend on the type and the name only, never on the
     * object's state: the evaluator caches it per call site and type */
    const SlBuiltin *(*method)(const SlValue *self, const char *name);
    /* obj[i, j:k, ...]: subscripts are numbers, SlSlice objects (sl_slice_type),
     * None, lists or other objects */
    SlValue *(*index)(SlValue *self, SlValue *const *idx, size_t n, SlError *err);
    bool (*setindex)(SlValue *self, SlValue *const *idx, size_t n, SlValue *v, SlError *err);
    /* obj(...): layers, losses and modules are called like functions */
    SlValue *(*call)(SlValue *self, struct SlCall *c);
    /* len(obj) */
    bool (*length)(const SlValue *self, size_t *n, SlError *err);
    /* for x in obj / zip(obj, ...): the items as a new list */
    SlValue *(*iter)(SlValue *self, SlError *err);
    /* "{:spec}".format(obj) */
    bool (*format)(SlBuf *out, const SlValue *self, const char *spec, size_t speclen, SlError *err);
};

/* A slice a:b:c as a subscript value (members are NULL when omitted). */
typedef struct SlSlice {
    SlValue *start, *stop, *step; /* owned references or NULL */
} SlSlice;
extern const SlObjType sl_slice_type;
SlValue *sl_slice_new(SlValue *start, SlValue *stop, SlValue *step); /* takes new references */

/* no_grad { } nesting depth: autograd records nothing while it is > 0. */
extern int sl_no_grad_depth;

struct SlValue {
    int refs;     /* reference count; < 0 for immortals */
    SlKind kind;  /* which member of the union is live */
    int tag;      /* SL_TAG_PI / SL_TAG_E: this float is the named constant
                     itself, so mixing it with symbols keeps π or e symbolic */
    union {
        bool b;                                  /* SL_BOOL */
        mpz_t z;                                 /* SL_INT */
        mpfr_t f;                                /* SL_FLOAT */
        struct { char *s; size_t len; } str;     /* SL_STR: UTF-8, NUL-terminated */
        struct { SlValue **items; size_t len, cap; bool seen; } list; /* SL_LIST, SL_TUPLE; seen: read by a
                                                                         recorded loop body (eval.c) */
        SlExpr *expr;                            /* SL_EXPR: owned reference */
        SlFunc *func;                            /* SL_FUNC: owned reference */
        const SlBuiltin *builtin;                /* SL_BUILTIN: static */
        struct { SlValue *self; const SlBuiltin *fn; } method; /* SL_METHOD */
        struct { const SlObjType *type; void *data; } obj;   /* SL_OBJECT */
    } u;
};

extern SlValue sl_none_value, sl_true_value, sl_false_value;
#define SL_NONE_V (&sl_none_value)
#define SL_TRUE_V (&sl_true_value)
#define SL_FALSE_V (&sl_false_value)

/* Taking and dropping references (inline: the evaluator does it for every
 * value it touches); the last sl_unref frees through sl_value_destroy. */
void sl_value_destroy(SlValue *v);

static inline SlValue *sl_ref(SlValue *v)
{
    if (v && v->refs >= 0)
        v->refs++;
    return v;
}

static inline void sl_unref(SlValue *v)
{
    if (v && v->refs >= 0 && --v->refs == 0)
        sl_value_destroy(v);
}

/* Replace *slot with v (taking a new reference to v), releasing the old. */
void sl_assign(SlValue **slot, SlValue *v);

SlValue *sl_bool(bool b);                       /* singleton, no ref needed */
SlValue *sl_int_si(long n);
SlValue *sl_int_z(const mpz_t z);               /* copies */
SlValue *sl_int_new(void);                      /* 0, to be filled in via u.z */
SlValue *sl_float_new(mpfr_prec_t prec);        /* NaN at prec, to be filled in */
SlValue *sl_float_d(double d);                  /* at the session precision */
SlValue *sl_str_new(const char *s, size_t len); /* copies */
SlValue *sl_str_cstr(const char *s);
SlValue *sl_str_take(char *s, size_t len);      /* takes ownership of malloc'd s */
SlValue *sl_list_new(size_t cap);
SlValue *sl_tuple_new(size_t cap);
void sl_list_push(SlValue *list, SlValue *item); /* takes a new reference to item */
void sl_list_push_take(SlValue *list, SlValue *item); /* consumes item */
SlValue *sl_expr_value(SlExpr *e);              /* consumes the expr reference */
SlValue *sl_func_value(SlFunc *f);              /* consumes the func reference */
SlValue *sl_builtin_value(const SlBuiltin *b);
SlValue *sl_method_value(SlValue *self, const SlBuiltin *fn);
SlValue *sl_object_new(const SlObjType *type, void *data); /* takes data */

/* Python's type name: "int", "float", "str", "list", "expression", ... */
const char *sl_type_name(const SlValue *v);
bool sl_is_number(const SlValue *v);            /* bool, int or float */
bool sl_truthy(const SlValue *v, bool *ok);     /* ok=false for expressions */
/* The plain value an object stands for (an AD number's primal), or v
 * itself; a new reference either way. */
SlValue *sl_primal(SlValue *v);

/* repr: how a value prints at the prompt ("'abc'" for strings, 0.1, [1, 2]).
 * str: how print() shows it (abc without quotes).  Both append to a
 * growable buffer. */
struct SlBuf {
    char *s;     /* NUL-terminated contents (malloc'd) */
    size_t len;  /* bytes used, excluding the NUL */
    size_t cap;  /* bytes allocated */
};

void sl_buf_init(SlBuf *b);
void sl_buf_free(SlBuf *b);
void sl_buf_add(SlBuf *b, const char *s, size_t n);
void sl_buf_puts(SlBuf *b, const char *s);
void sl_buf_putc(SlBuf *b, char c);
void sl_buf_printf(SlBuf *b, const char *fmt, ...);
char *sl_buf_take(SlBuf *b);  /* returns contents, resets b */

void sl_repr(SlBuf *out, const SlValue *v);
/* How user functions print ("f(x) = x² + x − 6"); eval.c sets it. */
extern void (*sl_func_print_hook)(SlBuf *out, const SlFunc *f);
void sl_str(SlBuf *out, const SlValue *v);

#endif
