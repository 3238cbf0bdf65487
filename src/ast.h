/* ast.h -- source chunks, their arenas, and the syntax tree.
 *
 * Ownership: an SlSource is one chunk of input text (a REPL entry, a script
 * file, a -e argument).  It owns a copy of the text and an arena from which
 * every token and AST node parsed from it is allocated.  Sources are
 * reference counted: the statement being run holds one reference, and each
 * user function defined from the chunk holds another, so a function body's
 * AST (and the text that error carets point into) lives exactly as long as
 * something can still run it.  AST nodes are never freed one by one.
 */
#ifndef SL_AST_H
#define SL_AST_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct SlArenaBlock SlArenaBlock;
typedef struct SlSourceHook SlSourceHook;

struct SlSource {
    int refs;             /* reference count */
    char *name;           /* file name, or NULL at the prompt / -e */
    char *text;           /* the chunk, NUL-terminated */
    size_t len;           /* strlen(text) */
    int first_line;       /* line number of the chunk's first line */
    SlArenaBlock *arena;  /* blocks of AST memory */
    size_t *lines;        /* byte offset of each line's start, built by the
                             first sl_source_line (malloc'd), or NULL */
    size_t nlines;        /* entries in lines */
    unsigned long serial; /* unique among every source the process makes */
    SlSourceHook *hooks;  /* run when the source is freed (arena-allocated) */
};

/* New source with a copy of text; one reference. */
SlSource *sl_source_new(const char *name, const char *text, size_t len, int first_line);
SlSource *sl_source_ref(SlSource *s);
void sl_source_unref(SlSource *s);
/* Zeroed memory from the chunk's arena (aborts on OOM). */
void *sl_arena_alloc(SlSource *s, size_t size);
char *sl_arena_strndup(SlSource *s, const char *p, size_t n);
/* Whether p points into s's arena (a node parsed from s). */
bool sl_source_owns(const SlSource *s, const void *p);
/* Call fn(arg) when s is freed, before its arena goes (the evaluator
 * releases the values its node caches hold). */
void sl_source_on_free(SlSource *s, void (*fn)(void *arg), void *arg);
/* The text of source line `line` (absolute number) without its newline. */
const char *sl_source_line(const SlSource *s, int line, size_t *len);

typedef enum SlAstKind {
    /* expressions */
    SL_AST_INT,      /* text: decimal digits as written (underscores removed) */
    SL_AST_FLOAT,    /* text: literal as written ("1.5", "1e-5", ".5") */
    SL_AST_STR,      /* text/len: decoded contents (escapes applied) */
    SL_AST_BOOL,     /* ival: 0 or 1 (True/False/true/false) */
    SL_AST_NONE,     /* None / none */
    SL_AST_NAME,     /* text: identifier (UTF-8, may be Greek, π) */
    SL_AST_PRIME,    /* text: function name; ival: number of primes (f'' -> 2) */
    SL_AST_UNARY,    /* op: SL_OP_NEG (- −), SL_OP_POS (+), SL_OP_NOT, or
                        SL_OP_SQRT (prefix √); a: operand */
    SL_AST_BINARY,   /* op: an SlOp; a, b: operands */
    SL_AST_COMPARE,  /* chained comparison: items = operands (n >= 2),
                        ops = n-1 SlOp comparison operators */
    SL_AST_AND,      /* a and b (short-circuit) */
    SL_AST_OR,       /* a or b (short-circuit) */
    SL_AST_CALL,     /* a: callee; items: args (SL_AST_KWARG for name=value) */
    SL_AST_KWARG,    /* text: keyword; a: value (only inside CALL items) */
    SL_AST_INDEX,    /* a: object; items: one or more subscripts (SLICE allowed) */
    SL_AST_SLICE,    /* a: start, b: stop, c: step; each may be NULL */
    SL_AST_ATTR,     /* a: object; text: attribute name */
    SL_AST_LIST,     /* items: elements  [a, b] */
    SL_AST_TUPLE,    /* items: elements  (a, b)  (a,) */

    /* statements */
    SL_AST_BLOCK,    /* items: statements */
    SL_AST_EXPR,     /* a: expression; ival: 1 when silenced by a trailing ';' */
    SL_AST_ASSIGN,   /* a: target (NAME, INDEX, ATTR, or TUPLE of NAMEs);
                        b: value; op: SL_OP_ASSIGN for '=', SL_OP_ADD/SUB/MUL/DIV
                        for += -= *= /= */
    SL_AST_FUNCDEF,  /* f(x, y) = expr.  text: name; params: parameter list;
                        a: body expression */
    SL_AST_DEF,      /* def name(params) { ... }.  text, params; a: BLOCK */
    SL_AST_OPTIMIZER,/* optimizer NAME(hyper=default, ...) { ... }.
                        text, params; a: BLOCK */
    SL_AST_STATE,    /* state v = expr (optimizer bodies).  text: name; a: init */
    SL_AST_RETURN,   /* a: value or NULL */
    SL_AST_BREAK,
    SL_AST_CONTINUE,
    SL_AST_IF,       /* a: condition; b: then BLOCK; c: else BLOCK, IF, or NULL */
    SL_AST_WHILE,    /* a: condition; b: BLOCK */
    SL_AST_FOR,      /* a: target (NAME or TUPLE of NAMEs); b: iterable; c: BLOCK */
    SL_AST_NOGRAD,   /* no_grad { ... }   a: BLOCK */
    SL_AST_COMMAND,  /* :name rest-of-line.  text: command name (no ':');
                        str: the rest of the line, trimmed (may be "") */
    SL_AST_PASS      /* an empty statement (pass) */
} SlAstKind;

typedef enum SlOp {
    SL_OP_ADD = 256, /* +            (values above 255 so '=' etc. can share op) */
    SL_OP_SUB,       /* - −          */
    SL_OP_MUL,       /* * · ×        (also implicit multiplication 2x) */
    SL_OP_DIV,       /* / ÷          */
    SL_OP_FLOORDIV,  /* //           */
    SL_OP_MOD,       /* %            */
    SL_OP_POW,       /* ^ ** and superscripts */
    SL_OP_MATMUL,    /* @            */
    SL_OP_NEG,       /* unary -      */
    SL_OP_POS,       /* unary +      */
    SL_OP_NOT,       /* not          */
    SL_OP_SQRT,      /* prefix √     */
    SL_OP_EQ,        /* ==           */
    SL_OP_NE,        /* != ≠         */
    SL_OP_LT,        /* <            */
    SL_OP_LE,        /* <= ≤         */
    SL_OP_GT,        /* >            */
    SL_OP_GE,        /* >= ≥         */
    SL_OP_ASSIGN     /* = (plain assignment) */
} SlOp;

typedef struct SlAst SlAst;

/* The evaluator's inline cache on a node (eval.c fills it in and checks it
 * before each use; the arena hands nodes out zeroed, which means "empty").
 * NAME, PRIME and assignment targets: the name's hash, its position in the
 * globals as of a version of them (and in the locals as of theirs), and
 * what it means when no variable has it (a builtin, a module, a constant,
 * a symbol).  ATTR callees: the method found for a receiver type, or the
 * builtin after torch. / nn. ...  CALL: how many of the arguments are
 * positional.  INT, FLOAT, STR: the literal's value (a reference its
 * source drops when freed; a float's for one precision, in ver). */
typedef struct SlAstCache {
    unsigned long hash;  /* hash of text for scope lookups (0: not computed) */
    unsigned long ver;   /* the globals' version pos belongs to (0: none);
                            FLOAT: the precision val was made at */
    size_t pos;          /* position + 1 of text among the globals, 0: absent;
                            CALL: positional arguments + 1 (0: not counted);
                            FOR: captures of its body that failed in a row */
    unsigned long lver;  /* the same for the locals: their version (shape) */
    size_t lpos;         /* ... and the position + 1 there, 0: absent */
    int kind;            /* what `val` is (eval.c's enum; 0: nothing cached) */
    const void *key;     /* ATTR: the receiver's type (SlObjType) */
    void (*hook)(void);  /* ATTR: that type's method hook, as it was */
    const void *val;     /* the builtin, module or method found; a literal's SlValue */
} SlAstCache;

/* One formal parameter: name, optional default (NULL when required). */
typedef struct SlParam {
    const char *name; /* arena string */
    SlAst *def;       /* default value expression, or NULL */
    SlLoc loc;        /* where the parameter is written */
    unsigned long hash; /* the name's hash, the evaluator's (0: not yet) */
} SlParam;

struct SlAst {
    SlAstKind kind;
    SlLoc loc;          /* span of the whole node */
    int op;             /* SlOp, or a char for '=' */
    long ival;          /* small integer payload (see kinds) */
    const char *text;   /* arena string payload (see kinds) */
    size_t len;         /* byte length of text (strings may hold NULs) */
    const char *str;    /* second string payload (COMMAND) */
    SlAst *a, *b, *c;   /* children (see kinds) */
    SlAst **items;      /* child list (see kinds) */
    size_t nitems;      /* its length */
    int *ops;           /* COMPARE: nitems-1 operators */
    SlParam *params;    /* FUNCDEF / DEF / OPTIMIZER */
    size_t nparams;     /* their number */
    SlAstCache ic;      /* the evaluator's cache (see above); not part of the tree */
};

/* Constructors used by the parser (all memory from src's arena). */
SlAst *sl_ast_new(SlSource *src, SlAstKind kind, SlLoc loc);
/* Append to n->items (arena-grown). */
void sl_ast_push(SlSource *src, SlAst *n, SlAst *item);

/* Write a compact S-expression of the tree, for tests and debugging:
 * (binary + (int 1) (name x)). */
void sl_ast_dump(const SlAst *n, FILE *out);
/* The same into a malloc'd string (caller frees). */
char *sl_ast_dump_str(const SlAst *n);
/* Name of an operator as the user writes it ("+", "//", "**" for POW). */
const char *sl_op_name(int op);

#endif
