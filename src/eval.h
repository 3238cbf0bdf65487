/* eval.h -- the session and the evaluator.
 *
 * A session holds the global variables, user functions, settings and the
 * output streams.  Text enters as an SlSource (ast.h), is parsed, and its
 * statements are run one by one.  A statement that fails prints one error
 * (error.h) and changes nothing: assignments bind only after their value is
 * computed, definitions only after they are checked.  Later statements of
 * the same chunk still run at the prompt; in a script (SL_MODE_SCRIPT) the
 * first error stops everything.
 */
#ifndef SL_EVAL_H
#define SL_EVAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "ast.h"
#include "error.h"
#include "value.h"

typedef struct SlSession SlSession;

typedef enum SlRunStatus {
    SL_RUN_OK,         /* everything ran */
    SL_RUN_INCOMPLETE, /* the text ends mid-statement; nothing ran */
    SL_RUN_ERROR,      /* an error was printed */
    SL_RUN_QUIT        /* :quit was run */
} SlRunStatus;

typedef enum SlMode {
    SL_MODE_INTERACTIVE, /* a person at the prompt */
    SL_MODE_SCRIPT,      /* a script: stop at the first error */
    SL_MODE_CHECK        /* a transcript being replayed: like the prompt */
} SlMode;

/* A user function: f(x) = expr, def f(x) { ... }, or optimizer N(...) {...}. */
/* A user function: f(x) = expr, def f(x) { ... }, optimizer N(...) {...};
 * or a derivative f' of order `order` of another callable (def == NULL). */
struct SlFunc {
    int refs;             /* reference count */
    char *name;           /* its name (malloc'd): "f", "f''" */
    const SlAst *def;     /* the FUNCDEF / DEF / OPTIMIZER node, or NULL */
    SlSource *src;        /* owned: keeps def's arena alive (NULL if derived) */
    SlValue **defaults;   /* evaluated default values, one per param (or NULL) */
    SlValue *parent;      /* derived: the function differentiated (owned) */
    int order;            /* derived: how many primes */
    unsigned long shape;  /* version its calls' locals start from (eval.c;
                             0 until the first call) */
    unsigned long shape_bound; /* their version once the parameters are
                             bound (0 until known) */
};

SlFunc *sl_func_ref(SlFunc *f);
void sl_func_unref(SlFunc *f);

SlSession *sl_session_new(void);
void sl_session_free(SlSession *s);
/* Where results and errors go (default stdout and stderr). */
void sl_session_set_output(SlSession *s, FILE *out, FILE *errout);
void sl_session_set_mode(SlSession *s, SlMode mode);

/* Parse and run a chunk.  When final is false and the text is incomplete,
 * returns SL_RUN_INCOMPLETE without running anything; when final is true an
 * incomplete text is a syntax error ("unexpected end of input"). */
SlRunStatus sl_session_exec(SlSession *s, SlSource *src, bool final);
/* Convenience: wraps text in a source. */
SlRunStatus sl_session_exec_text(SlSession *s, const char *name, const char *text,
                                 int first_line, bool final);
/* Run a script file (used by main and :load). */
SlRunStatus sl_session_exec_file(SlSession *s, const char *path);

/* Call fn(name, kind, data) for every global name the user defined
 * (kind: "variable" or "function"), for :vars and tab completion. */
void sl_session_each_name(SlSession *s, void (*fn)(const char *name, const char *kind, void *data),
                          void *data);

/* A global variable's value (a new reference), or NULL when unbound. */
SlValue *sl_session_get(SlSession *s, const char *name);

/* Ctrl-C: the signal handler sets this; long loops poll it and stop with
 * SL_E_INTERRUPTED.  The REPL clears it before each statement. */
extern volatile sig_atomic_t sl_interrupted;

/* --- added for the REPL (repl.c): tab completion of session commands --- */
/* The i-th session command's name without the ':' ("help", "precision",
 * ...), in the order :help lists them; NULL past the last. */
const char *sl_command_at(size_t i);

/* Replayed loop bodies (eval.c, capture.h): on by default; :replay */
void sl_replay_set(bool on);
bool sl_replay_enabled(void);
const char *sl_replay_last(void); /* what the last loop that tried did ("" before) */

#endif
