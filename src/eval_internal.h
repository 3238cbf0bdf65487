/* eval_internal.h -- what eval.c shares with builtins.c and commands.c.
 *
 * Not part of the public API: the session layout, the variable table, and
 * the evaluator entry points that builtins call back into (calling a user
 * function, binary operators, iteration).
 */
#ifndef SL_EVAL_INTERNAL_H
#define SL_EVAL_INTERNAL_H

#include <stdio.h>

#include "builtins.h"
#include "eval.h"

/* An insertion-ordered string -> value map (globals and locals).  Up to
 * SL_SCOPE_SMALL entries it is scanned (comparing hashes first); beyond,
 * an open-addressing index finds names. */
typedef struct SlVar {
    char *name;       /* malloc'd, or borrowed when the scope's `borrowed` is set */
    SlValue *value;   /* owned reference */
    unsigned long hash; /* of name (never 0) */
    SlSource *src;    /* definition source (functions), for :save; owned or NULL */
} SlVar;

#define SL_SCOPE_SMALL 8

typedef struct SlScope {
    SlVar *vars;      /* in insertion order; removed entries have name NULL */
    size_t len, cap;  /* entries used / allocated */
    size_t *index;    /* open-addressing table of (position + 1), 0 = empty;
                         NULL while len <= SL_SCOPE_SMALL */
    size_t icap;      /* table size (power of two) */
    size_t live;      /* entries with a name */
    unsigned long version; /* changes whenever a name is added or removed (or
                         the scope is made or freed): the evaluator caches
                         positions under it.  Equal versions mean equal
                         layouts: a fresh number each time, except that a
                         function's locals are numbered by the names put in
                         so far (one "shape" per order of names, eval.c) */
    bool borrowed;    /* names are not copied: a user function's locals, all
                         named by strings of its own AST (eval.c) */
    bool room;        /* vars is the caller's array (a function's locals
                         until they outgrow it), not to be freed */
} SlScope;

void sl_scope_init(SlScope *sc);
void sl_scope_free(SlScope *sc);
SlValue *sl_scope_get(const SlScope *sc, const char *name); /* borrowed or NULL */
void sl_scope_set(SlScope *sc, const char *name, SlValue *v); /* takes a new ref */
bool sl_scope_del(SlScope *sc, const char *name);

struct SlSession {
    SlScope globals;         /* user variables and functions */
    FILE *out;               /* results and print() */
    FILE *errout;            /* error messages */
    SlMode mode;             /* prompt, script or transcript */
    int depth;               /* current call depth */
    unsigned long seed;      /* :seed / manual_seed */
    int ad_mode;             /* 0 reverse, 1 forward, 2 symbolic (:ad) */
    int load_depth;          /* nesting of :load */
};

#define SL_MAX_DEPTH 1000    /* user function call depth */

/* Call any callable value with evaluated arguments (borrowed). */
SlValue *sl_call_value(SlSession *s, SlValue *fn, SlValue **args, size_t nargs,
                       const char **kwnames, SlValue **kwargs, size_t nkw,
                       SlSource *src, SlLoc loc, SlError *err);
/* User optimizers (optim.c): run f's body with locals bound (p, the
 * hyper-parameters, the state variables), `state` lines allowed; and
 * evaluate one expression of src (a state's initialiser) in locals. */
bool sl_eval_optimizer_body(SlSession *s, SlFunc *f, SlScope *locals, SlError *err);
SlValue *sl_eval_in_scope(SlSession *s, SlSource *src, SlScope *locals, const SlAst *expr, SlError *err);
/* Operators on values, as the language defines them. */
SlValue *sl_binop(int op, SlValue *a, SlValue *b, SlError *err);
SlValue *sl_unop(int op, SlValue *a, SlError *err);
/* ==, <, ... : returns a bool singleton or NULL. */
SlValue *sl_compare(int op, SlValue *a, SlValue *b, SlError *err);
/* Python's == on values (never fails). */
bool sl_values_equal(const SlValue *a, const SlValue *b);
/* Materialise an iterable (list, tuple, str) as a new list; NULL + error. */
SlValue *sl_iter_list(SlValue *v, SlError *err);

/* Colon commands (commands.c). */
SlRunStatus sl_command_run(SlSession *s, const SlAst *cmd, SlSource *src, SlError *err);
/* Command names, NULL-terminated (for completion and :help). */
extern const char *const sl_command_names[];
/* :help [topic] (help.c). */
bool sl_help(SlSession *s, const char *topic, SlError *err);
const char *sl_command_help(const char *name, const char **usage);

/* Write a replayable script of the session's definitions (commands.c). */
bool sl_session_save(SlSession *s, const char *path, SlError *err);

/* Printing a value as a statement result. */
void sl_print_result(SlSession *s, SlValue *v);

/* Source text of a node (its span), malloc'd. */
char *sl_ast_source_text(const SlSource *src, const SlAst *n);

#endif
