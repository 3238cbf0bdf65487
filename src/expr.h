/* expr.h -- symbolic expressions: a hash-consed DAG.
 *
 * Every node is unique: building a node equal to an existing one returns
 * the existing node (with a new reference), so structural equality is a
 * pointer compare and common subexpressions are shared.  Nodes are
 * immutable and reference counted; a node leaves the hash table when its
 * last reference goes.  Convention as in value.h: arguments are borrowed,
 * results are new references.
 *
 * Canonical form kept by the constructors ("light canonicalisation"):
 *   - ADD and MUL are n-ary and flattened; numeric constants are folded
 *     into one coefficient (x + 0 -> x, 1·x -> x, 0·x -> 0, 2·3·x -> 6·x);
 *   - subtraction a - b is ADD(a, MUL(-1, b)); division a / b is
 *     MUL(a, POW(b, -1)); the printer shows them as − and /;
 *   - x^1 -> x, x^0 -> 1, numbers^numbers fold when exact;
 *   - exact rationals stay exact (x/3 keeps 1/3); a float anywhere in a
 *     fold makes the folded constant a float.
 * The full simplifier (collecting like terms, ordering) is simplify.c's job.
 */
#ifndef SL_EXPR_H
#define SL_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include <gmp.h>
#include <mpfr.h>

#include "num.h"
#include "value.h"

typedef enum SlExprKind {
    SL_EX_RAT,   /* exact rational constant: q */
    SL_EX_FLT,   /* float constant: f (at its own precision) */
    SL_EX_CONST, /* named constant: cid (pi, e) — kept symbolic */
    SL_EX_SYM,   /* symbol: name */
    SL_EX_ADD,   /* sum of args[0..nargs) */
    SL_EX_MUL,   /* product of args[0..nargs) */
    SL_EX_POW,   /* args[0] ^ args[1] */
    SL_EX_FN     /* fn(args...): an SlMathFn */
} SlExprKind;

typedef enum SlExprConst { SL_CONST_PI, SL_CONST_E } SlExprConst;

struct SlExpr {
    int refs;             /* reference count */
    SlExprKind kind;      /* node kind */
    unsigned long hash;   /* structural hash (of kind and child pointers) */
    SlExpr *next;         /* hash chain */
    size_t nargs;         /* children */
    SlExpr **args;        /* owned references to children */
    union {
        mpq_t q;          /* SL_EX_RAT */
        mpfr_t f;         /* SL_EX_FLT */
        int cid;          /* SL_EX_CONST: SlExprConst */
        const char *name; /* SL_EX_SYM: interned, owned by the node */
        int fn;           /* SL_EX_FN: SlMathFn */
    } u;
};

SlExpr *sl_expr_ref(SlExpr *e);
void sl_expr_unref(SlExpr *e);

/* Leaves. */
SlExpr *sl_expr_sym(const char *name);
SlExpr *sl_expr_int(long n);
SlExpr *sl_expr_rat(const mpq_t q);           /* canonicalised copy */
SlExpr *sl_expr_flt(const mpfr_t f);          /* copy at f's precision */
SlExpr *sl_expr_const(SlExprConst c);
/* A number value (bool/int/float) as a constant node; NULL if not a number. */
SlExpr *sl_expr_from_value(const SlValue *v);

/* Builders (canonicalising as described above). */
SlExpr *sl_expr_add(SlExpr *a, SlExpr *b);
SlExpr *sl_expr_sub(SlExpr *a, SlExpr *b);
SlExpr *sl_expr_mul(SlExpr *a, SlExpr *b);
SlExpr *sl_expr_div(SlExpr *a, SlExpr *b);    /* NULL + err on exact division by 0 */
SlExpr *sl_expr_div_e(SlExpr *a, SlExpr *b, SlError *err);
SlExpr *sl_expr_neg(SlExpr *a);
SlExpr *sl_expr_pow(SlExpr *a, SlExpr *b);
SlExpr *sl_expr_fn(SlMathFn fn, SlExpr *const *args, size_t nargs);
/* A placeholder: a symbol that prints as text verbatim in every style
 * ("d/dx [x²]" in explain's steps).  No user can type its name. */
SlExpr *sl_expr_placeholder(const char *text);
bool sl_expr_is_placeholder(const SlExpr *e);
/* Raw n-ary nodes (children already canonical; used by simplify.c). */
SlExpr *sl_expr_nary(SlExprKind kind, SlExpr *const *args, size_t nargs);

/* The existing ADD / MUL / POW node with exactly these children, borrowed,
 * or NULL when there is none (nothing is created). */
SlExpr *sl_expr_find_nary(SlExprKind kind, SlExpr *const *args, size_t nargs);

bool sl_expr_is_number(const SlExpr *e);      /* RAT or FLT */
bool sl_expr_is_int(const SlExpr *e, long v); /* RAT equal to v */
/* True when sym occurs in e. */
bool sl_expr_has_sym(const SlExpr *e, const char *name);
/* Free symbols in order of first appearance (names are borrowed from e).
 * Stores at most max names and returns how many it stored. */
size_t sl_expr_free_syms(const SlExpr *e, const char **names, size_t max);
/* Number of distinct nodes in the DAG under e. */
size_t sl_expr_node_count(const SlExpr *e);
/* Total nodes currently alive (for leak tests). */
size_t sl_expr_live_count(void);

/* Replace each symbol names[i] by exprs[i] (borrowed) and rebuild through
 * the constructors; nothing is evaluated (log(2) stays log(2)). */
SlExpr *sl_expr_subs_expr(SlExpr *e, const char *const *names, SlExpr *const *exprs, size_t n);

/* Substitute: replace each symbol names[i] by vals[i] (numbers or
 * expressions, as SlValues).  When the result has no free symbols left it
 * is evaluated to a number at the session precision: exact rationals stay
 * exact (an int when integral), floats and functions give floats;
 * errors (division by zero, domain) are reported in err.  Returns a value:
 * an SL_INT/SL_FLOAT when fully numeric, an SL_EXPR otherwise. */
SlValue *sl_expr_subs(SlExpr *e, const char *const *names, SlValue *const *vals,
                      size_t n, SlError *err);

/* Output styles. */
typedef enum SlStyle { SL_STYLE_UNICODE, SL_STYLE_ASCII, SL_STYLE_LATEX } SlStyle;
SlStyle sl_expr_style(void);
void sl_expr_set_style(SlStyle s);

/* Print in a style: unicode "x² + x − 6", "2x + 1", "x·y", "√x", "x/3";
 * ascii "x^2 + x - 6", "2*x + 1", "x*y", "sqrt(x)", "x/3" (ascii output
 * parses back to the same expression); latex for math mode, after SymPy's
 * latex(): "x^{2} + x - 6", "2 x + 1", "x y", "\sqrt{x}", "\frac{x}{3}",
 * "\frac{1}{x}", "e^{x}", "\pi", "\sin{\left(x\right)}" (braced so that TeX
 * sets no operator space before the parenthesis, as SymPy does),
 * "\log{\left(x\right)}" (natural; log2/log10 are \log_{2}/\log_{10}),
 * "\left(x + 1\right)^{2}",
 * "\left|x\right|", "2 \cdot 3^{x}" (\cdot only before a factor that starts
 * with a digit, and beside explain's d/dx placeholders), "1 \cdot 10^{-5}"
 * for 1e-05, "\infty"; symbols alpha/α -> "\alpha", x1/x₁ -> "x_{1}",
 * x_max -> "x_{\mathrm{max}}", lr -> "\mathrm{lr}".  Needs amsmath only for
 * \operatorname (relu, sign, ...) and where-printing's aligned.  Numbers
 * use an ASCII '-' in every style when they stand alone ("-4"), binary
 * minus is "−" in unicode. */
void sl_expr_print(SlBuf *out, const SlExpr *e, SlStyle style);
/* A symbol's name as latex writes it ("\alpha", "x_{1}", "\mathrm{lr}"). */
void sl_expr_latex_name(SlBuf *out, const char *name);

/* A number node as a value: RAT -> int when integral, else a float at the
 * session precision; FLT -> float.  NULL for other nodes. */
SlValue *sl_expr_number_value(const SlExpr *e);

/* Exact length in bytes of e's text printed as a plain tree (no names),
 * measured on the DAG without writing it (saturates near SIZE_MAX/4). */
size_t sl_expr_tree_size(const SlExpr *e, SlStyle style);
/* When the tree text would be longer than SL_EXPR_WHERE_MIN bytes,
 * sl_expr_print names the shared subexpressions (used by two or more
 * parents, longer than SL_EXPR_WHERE_NAME bytes themselves) and prints
 *     t₃·(1 − t₂) + ...
 *     where t₁ = 1 − 4x
 *           t₂ = ...
 * (t1 in ascii, an aligned environment in latex; another letter when a
 * symbol is called t1).  Definitions refer only to earlier names. */
#define SL_EXPR_WHERE_MIN ((size_t)2000)
#define SL_EXPR_WHERE_NAME ((size_t)12)
/* The plain tree text, never with names (it may be exponentially long;
 * it stops after SL_EXPR_PRINT_MAX bytes like sl_expr_print). */
void sl_expr_print_tree(SlBuf *out, const SlExpr *e, SlStyle style);

/* sl_expr_print stops after this many bytes of one expression's text and
 * ends it with an ellipsis ("…", "...", "\ldots"). */
#define SL_EXPR_PRINT_MAX ((size_t)4 << 20)

/* A map from nodes to pointers (open addressing on the node address), for
 * the memo tables of simplify.c and diff.c.  Zero-initialise; get returns
 * NULL for a missing key (so NULL cannot be stored). */
typedef struct SlExprMap {
    const SlExpr **keys; /* NULL = empty slot */
    void **vals;         /* payloads */
    size_t cap;          /* slots (a power of two) */
    size_t count;        /* keys stored */
} SlExprMap;
void *sl_expr_map_get(const SlExprMap *m, const SlExpr *k);
void sl_expr_map_put(SlExprMap *m, const SlExpr *k, void *val);
void sl_expr_map_free(SlExprMap *m);

/* Drop every node (at exit, after all references are gone). */
void sl_expr_shutdown(void);

#endif
