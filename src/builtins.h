/* builtins.h -- the table of builtin functions and methods.
 *
 * A builtin receives its arguments already evaluated in an SlCall (all
 * borrowed) and returns a new reference or NULL after sl_err(c->err, ...).
 * Methods ("abc".format, list.append) are builtins whose receiver is
 * c->self.  Argument checking helpers give Python's messages.
 */
#ifndef SL_BUILTINS_H
#define SL_BUILTINS_H

#include <stddef.h>

#include "ast.h"
#include "error.h"
#include "value.h"

typedef struct SlSession SlSession;

typedef struct SlCall {
    SlSession *s;          /* the session */
    SlValue *self;         /* receiver of a method, else NULL */
    SlValue **args;        /* positional arguments */
    size_t nargs;          /* their number */
    const char **kwnames;  /* keyword argument names */
    SlValue **kwargs;      /* keyword argument values */
    size_t nkw;            /* their number */
    SlSource *src;         /* where the call is written (may be NULL) */
    SlLoc loc;             /* its span */
    SlError *err;          /* where to report */
} SlCall;

typedef SlValue *(*SlBuiltinFn)(SlCall *c);

/* Argument checks with Python's messages, for every builtin module:
 * between min and max positional arguments ((size_t)-1: no maximum);
 * only the keywords in the NULL-terminated `allowed`; a keyword's value. */
bool sl_call_arity_check(SlCall *c, const char *name, size_t min, size_t max);
bool sl_call_keywords_check(SlCall *c, const char *name, const char *const *allowed);
SlValue *sl_call_kwarg_find(SlCall *c, const char *name);

/* The same, inline for the common case (the count is right, no keywords). */
static inline bool sl_call_arity(SlCall *c, const char *name, size_t min, size_t max)
{
    return (c->nargs >= min && c->nargs <= max) || sl_call_arity_check(c, name, min, max);
}
static inline bool sl_call_keywords(SlCall *c, const char *name, const char *const *allowed)
{
    return c->nkw == 0 || sl_call_keywords_check(c, name, allowed);
}
static inline SlValue *sl_call_kwarg(SlCall *c, const char *name)
{
    return c->nkw == 0 ? NULL : sl_call_kwarg_find(c, name);
}

struct SlBuiltin {
    const char *name;   /* as the user calls it */
    SlBuiltinFn fn;     /* implementation */
    const char *sig;    /* signature for :help, "sin(x)" */
    const char *help;   /* one paragraph for :help NAME */
};

/* Look up a global builtin function by name (NULL when none). */
const SlBuiltin *sl_builtin_lookup(const char *name);
/* The same through a hash cache (for the evaluator's hot path). */
const SlBuiltin *sl_builtin_lookup_cached(const char *name);
/* Look up a name after torch. / nn. / optim. / F. / np.: every tensor
 * function first (torch.t, torch.sum), then the global builtins. */
const SlBuiltin *sl_namespace_lookup(const char *name);
/* Look up a method of a value's type (NULL when none). */
const SlBuiltin *sl_method_lookup(const SlValue *self, const char *name);
/* Iterate over all global builtins (for :help and completion). */
const SlBuiltin *sl_builtin_at(size_t i);

void sl_builtin_print(SlBuf *out, const SlBuiltin *b);
/* fn(args) on any values: numbers (Python's math), expressions (a node),
 * objects with a math hook (AD numbers, tensors).  fn is an SlMathFn. */
SlValue *sl_math_value(int fn, SlValue *const *args, size_t nargs, SlError *err);
/* type(a) == type(b) for the objects type() returns. */
bool sl_type_object_equal(const SlValue *a, const SlValue *b);
/* The methods of a type by its name ("str", "list", "expression"), for :help. */
const SlBuiltin *sl_method_table(const char *type, size_t *n);

#endif
