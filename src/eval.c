/* eval.c -- the evaluator: statements, expressions, calls, scopes.
 *
 * A tree-walking interpreter over the AST.  Errors travel by return value
 * (NULL / FLOW_ERROR) with the first error recorded in ctx->err; the node
 * that failed attaches its location on the way out (innermost wins).
 *
 * Atomicity: a simple statement either completes or changes nothing.
 * Assignments evaluate the whole right-hand side (and, for tuple targets,
 * check the shape) before binding anything; definitions bind only after
 * their defaults evaluate.  Compound statements (loops) keep the effects of
 * the inner statements that completed, as in Python.
 */
#include "eval.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad.h"
#include "autograd.h"
#include "builtins.h"
#include "capture.h"
#include "eval_internal.h"
#include "expr.h"
#include "num.h"
#include "lexer.h"
#include "nn.h"
#include "optim.h"
#include "parser.h"
#include "pool.h"
#include "tensor_value.h"

volatile sig_atomic_t sl_interrupted = 0;

/* ---------------------------------------------------------------------------
 * Scopes: insertion-ordered hash maps
 * ------------------------------------------------------------------------- */

static unsigned long hash_str(const char *s)
{
    unsigned long h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h ? h : 1; /* 0 means "not computed" in the AST caches */
}

/* The last scope version handed out: versions never repeat, so a cached
 * (version, position) can only match the scope state it was taken from. */
static unsigned long scope_versions;

/* Shapes.  A function's locals start at the function's own version
 * (f->shape) and every name added moves them to the version this table
 * gives for (version, name), the same one at every call; names are keyed
 * by pointer, which is enough: they are strings of the function's AST.
 * So caches of positions in the locals carry over from call to call.  The
 * table is emptied when it grows large (later insertions then take new
 * numbers, which only costs cache misses). */
typedef struct Shape {
    unsigned long from;  /* a version (0: empty slot) */
    const char *name;    /* the name added */
    unsigned long to;    /* the version after */
} Shape;

#define SHAPES_MAX 65536 /* slots at most */

static struct {
    Shape *slots;        /* open addressing */
    size_t cap, used;    /* slots allocated (power of two) / in use */
} shapes;

static void shapes_free(void) { free(shapes.slots); }

static size_t shape_slot(unsigned long from, const char *name, size_t mask)
{
    unsigned long h = (from * 0x9E3779B97F4A7C15ul) ^ ((unsigned long)(uintptr_t)name >> 3);
    size_t i = (size_t)(h ^ (h >> 29)) & mask;
    while (shapes.slots[i].from && !(shapes.slots[i].from == from && shapes.slots[i].name == name))
        i = (i + 1) & mask;
    return i;
}

static unsigned long shape_next(unsigned long from, const char *name)
{
    if (2 * (shapes.used + 1) > shapes.cap) {
        size_t cap = shapes.cap ? shapes.cap * 2 : 256;
        Shape *old = shapes.slots;
        size_t oldcap = shapes.cap;
        if (cap > SHAPES_MAX) {
            cap = SHAPES_MAX;
            oldcap = 0; /* forget every transition */
        }
        if (!old)
            atexit(shapes_free);
        shapes.slots = calloc(cap, sizeof *shapes.slots);
        if (!shapes.slots)
            abort();
        shapes.cap = cap;
        shapes.used = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].from) {
                shapes.slots[shape_slot(old[i].from, old[i].name, cap - 1)] = old[i];
                shapes.used++;
            }
        free(old);
    }
    Shape *sh = &shapes.slots[shape_slot(from, name, shapes.cap - 1)];
    if (!sh->from) {
        sh->from = from;
        sh->name = name;
        sh->to = ++scope_versions;
        shapes.used++;
    }
    return sh->to;
}

/* Arrays of SL_SCOPE_SMALL variables (every user function call makes one)
 * come from a free list. */
static SlPool vars_pool = {.max = 64};

static void vars_release(SlVar *vars, size_t cap)
{
    if (cap == SL_SCOPE_SMALL)
        sl_pool_put(&vars_pool, vars);
    else
        free(vars);
}

void sl_scope_init(SlScope *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->version = ++scope_versions;
}

/* A user function's locals: names are the AST's own strings, and the
 * first SL_SCOPE_SMALL variables live in the caller's array `room` (which
 * must outlive the scope). */
static void scope_init_local(SlScope *sc, SlVar *room, SlFunc *f)
{
    sl_scope_init(sc);
    if (!f->shape)
        f->shape = ++scope_versions;
    sc->version = f->shape;
    sc->borrowed = true;
    sc->vars = room;
    sc->cap = SL_SCOPE_SMALL;
    sc->room = true;
}

void sl_scope_free(SlScope *sc)
{
    for (size_t i = 0; i < sc->len; i++) {
        if (sc->vars[i].name) {
            if (!sc->borrowed)
                free(sc->vars[i].name);
            sl_unref(sc->vars[i].value);
            if (sc->vars[i].src)
                sl_source_unref(sc->vars[i].src);
        }
    }
    if (sc->vars && !sc->room)
        vars_release(sc->vars, sc->cap);
    if (sc->index)
        free(sc->index);
    memset(sc, 0, sizeof *sc);
    sc->version = ++scope_versions;
}

static size_t *find_slot(const SlScope *sc, const char *name, unsigned long h)
{
    size_t mask = sc->icap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        size_t *slot = &sc->index[i];
        if (*slot == 0)
            return slot;
        const SlVar *v = &sc->vars[*slot - 1];
        if (v->name && v->hash == h && strcmp(v->name, name) == 0)
            return slot;
    }
}

/* The variable called name (whose hash is h), or NULL.  (A removed entry
 * never survives sl_scope_del's compaction, so every entry has a name.) */
static inline SlVar *scope_find(const SlScope *sc, const char *name, unsigned long h)
{
    if (!sc->index) {
        SlVar *v = sc->vars, *end = v + sc->len;
        for (; v < end; v++)
            if (v->hash == h && (v->name == name || strcmp(v->name, name) == 0))
                return v;
        return NULL;
    }
    size_t *slot = find_slot(sc, name, h);
    return *slot ? &sc->vars[*slot - 1] : NULL;
}

static void rebuild(SlScope *sc)
{
    /* compact removed entries, then (past SL_SCOPE_SMALL) re-index at twice
     * the live size */
    size_t j = 0;
    for (size_t i = 0; i < sc->len; i++)
        if (sc->vars[i].name)
            sc->vars[j++] = sc->vars[i];
    sc->len = j;
    free(sc->index);
    sc->index = NULL;
    sc->icap = 0;
    if (sc->len <= SL_SCOPE_SMALL)
        return;
    size_t icap = 16;
    while (icap < 2 * (sc->len + 1))
        icap *= 2;
    sc->index = calloc(icap, sizeof *sc->index);
    if (!sc->index)
        abort();
    sc->icap = icap;
    for (size_t i = 0; i < sc->len; i++) {
        size_t *slot = find_slot(sc, sc->vars[i].name, sc->vars[i].hash);
        *slot = i + 1;
    }
}

SlValue *sl_scope_get(const SlScope *sc, const char *name)
{
    SlVar *v = scope_find(sc, name, hash_str(name));
    return v ? v->value : NULL;
}

static SlVar *scope_var(const SlScope *sc, const char *name) { return scope_find(sc, name, hash_str(name)); }

/* Bind name (hash h) to v (a new reference); returns its position. */
static size_t scope_set_h(SlScope *sc, const char *name, unsigned long h, SlValue *v)
{
    SlVar *var = scope_find(sc, name, h);
    if (var) {
        sl_assign(&var->value, v);
        return (size_t)(var - sc->vars);
    }
    if (sc->len == sc->cap) {
        if (sc->cap == 0) {
            sc->vars = sl_pool_get(&vars_pool, SL_SCOPE_SMALL * sizeof *sc->vars);
            sc->cap = SL_SCOPE_SMALL;
        } else {
            SlVar *vars = malloc(2 * sc->cap * sizeof *vars);
            if (!vars)
                abort();
            memcpy(vars, sc->vars, sc->len * sizeof *vars);
            if (!sc->room)
                vars_release(sc->vars, sc->cap);
            sc->room = false;
            sc->vars = vars;
            sc->cap *= 2;
        }
    }
    var = &sc->vars[sc->len];
    if (sc->borrowed) {
        var->name = (char *)name;
    } else {
        var->name = strdup(name);
        if (!var->name)
            abort();
    }
    var->value = sl_ref(v);
    var->hash = h;
    var->src = NULL;
    sc->len++;
    sc->live++;
    sc->version = sc->borrowed ? shape_next(sc->version, var->name) : ++scope_versions;
    /* no removed entries are ever left behind (sl_scope_del compacts), so
     * the new one stays last */
    if (sc->index && 2 * (sc->len + 1) <= sc->icap)
        *find_slot(sc, name, h) = sc->len;
    else if (sc->index || sc->len > SL_SCOPE_SMALL)
        rebuild(sc);
    return sc->len - 1;
}

void sl_scope_set(SlScope *sc, const char *name, SlValue *v) { scope_set_h(sc, name, hash_str(name), v); }

bool sl_scope_del(SlScope *sc, const char *name)
{
    SlVar *v = scope_var(sc, name);
    if (!v)
        return false;
    if (!sc->borrowed)
        free(v->name);
    v->name = NULL;
    sl_unref(v->value);
    sl_source_unref(v->src);
    v->value = NULL;
    v->src = NULL;
    sc->live--;
    sc->version = ++scope_versions;
    rebuild(sc);
    return true;
}

/* ---------------------------------------------------------------------------
 * Evaluation context
 * ------------------------------------------------------------------------- */

typedef enum Flow { FLOW_NORMAL, FLOW_BREAK, FLOW_CONTINUE, FLOW_RETURN, FLOW_ERROR } Flow;

typedef struct Ctx {
    SlSession *s;       /* the session */
    SlScope *locals;    /* the running function's locals, or NULL at top level */
    SlSource *src;      /* the chunk the running code comes from */
    SlError *err;       /* where errors go */
    SlValue *retval;    /* FLOW_RETURN's value (owned) */
    int loops;          /* enclosing loops in this function */
    bool in_func;       /* inside a def body */
    bool in_optimizer;  /* inside an optimizer body */
    bool top;           /* statements print their values */
} Ctx;

#define ARGS_ON_STACK 8 /* calls with more arguments allocate their arrays */

static SlValue *eval(Ctx *c, const SlAst *n);
static Flow exec(Ctx *c, const SlAst *n);
static Flow exec_block(Ctx *c, const SlAst *block);

static SlValue *fail_at(Ctx *c, const SlAst *n)
{
    sl_err_locate(c->err, c->src, n->loc);
    return NULL;
}

static bool check_interrupt(Ctx *c, const SlAst *n)
{
    if (!sl_interrupted)
        return true;
    sl_interrupted = 0;
    sl_err_at(c->err, c->src, n->loc, SL_E_INTERRUPTED);
    return false;
}

/* ---------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------- */

static const SlObjType module_type;

typedef struct Module {
    const char *name; /* torch, nn, optim, math, F */
} Module;

static const Module modules[] = {
    {"torch"}, {"nn"}, {"optim"}, {"math"}, {"F"}, {"np"},
};

static void module_free(void *data) { (void)data; }
static void module_repr(const SlValue *v, FILE *out)
{
    const Module *m = v->u.obj.data;
    fprintf(out, "<module '%s'>", m->name);
}
static const SlObjType module_type = {.name = "module", .free = module_free, .repr = module_repr};

static SlValue *constant(const char *name)
{
    SlValue *v = NULL;
    if (strcmp(name, "pi") == 0 || strcmp(name, "π") == 0) {
        v = sl_num_pi();
        v->tag = SL_TAG_PI;
    } else if (strcmp(name, "e") == 0) {
        v = sl_num_e();
        v->tag = SL_TAG_E;
    }
    if (v)
        return v;
    if (strcmp(name, "inf") == 0 || strcmp(name, "∞") == 0)
        return sl_num_inf();
    if (strcmp(name, "nan") == 0)
        return sl_num_nan();
    return NULL;
}

/* What a name means when no variable has it (cached per node: it depends
 * on the name alone). */
enum { RES_NONE, RES_CONST, RES_BUILTIN, RES_MODULE, RES_SYMBOL };

/* The node's cache (the evaluator's own, written through const trees). */
static SlAstCache *cache_of(const SlAst *n) { return (SlAstCache *)&n->ic; }

static inline unsigned long node_hash(const SlAst *n)
{
    SlAstCache *ic = cache_of(n);
    if (!ic->hash)
        ic->hash = hash_str(n->text);
    return ic->hash;
}

/* Refill n's globals entry from a search (the cache is stale). */
static __attribute__((noinline)) SlVar *global_var_search(SlScope *g, const SlAst *n)
{
    SlAstCache *ic = cache_of(n);
    SlVar *v = scope_find(g, n->text, node_hash(n));
    ic->pos = v ? (size_t)(v - g->vars) + 1 : 0;
    ic->ver = g->version;
    return v;
}

/* The global variable named by n (its text), through n's cache; NULL when
 * there is none. */
static inline SlVar *global_var(Ctx *c, const SlAst *n)
{
    SlScope *g = &c->s->globals;
    const SlAstCache *ic = &n->ic;
    if (ic->ver != g->version)
        return global_var_search(g, n);
    return ic->pos ? &g->vars[ic->pos - 1] : NULL;
}

static __attribute__((noinline)) SlVar *local_var_search(SlScope *sc, const SlAst *n)
{
    SlAstCache *ic = cache_of(n);
    SlVar *v = scope_find(sc, n->text, node_hash(n));
    ic->lpos = v ? (size_t)(v - sc->vars) + 1 : 0;
    ic->lver = sc->version;
    return v;
}

/* The same in the locals sc, through n's locals entry. */
static inline SlVar *local_var(SlScope *sc, const SlAst *n)
{
    const SlAstCache *ic = &n->ic;
    if (ic->lver != sc->version)
        return local_var_search(sc, n);
    return ic->lpos ? &sc->vars[ic->lpos - 1] : NULL;
}

/* The variable n names in the running code's scopes (locals first). */
static inline SlVar *var_of(Ctx *c, const SlAst *n)
{
    if (c->locals) {
        SlVar *v = local_var(c->locals, n);
        if (v)
            return v;
    }
    return global_var(c, n);
}

/* What a name means: a value, or a builtin or module not yet made one. */
typedef struct Meaning {
    SlValue *v;         /* a variable's value, a constant or a symbol (new reference), or NULL */
    const SlBuiltin *b; /* else a builtin */
    const Module *m;    /* else a module */
} Meaning;

/* ... when no variable has the name (cached: it depends on the name alone). */
static __attribute__((noinline)) Meaning resolve_fixed(const SlAst *n)
{
    SlAstCache *ic = cache_of(n);
    if (ic->kind == RES_NONE) {
        SlValue *k = constant(n->text);
        const SlBuiltin *bi = k ? NULL : sl_builtin_lookup_cached(n->text);
        const Module *mod = NULL;
        for (size_t i = 0; !k && !bi && !mod && i < sizeof modules / sizeof modules[0]; i++)
            if (strcmp(modules[i].name, n->text) == 0)
                mod = &modules[i];
        sl_unref(k);
        ic->kind = k ? RES_CONST : bi ? RES_BUILTIN : mod ? RES_MODULE : RES_SYMBOL;
        ic->val = bi ? (const void *)bi : (const void *)mod;
    }
    switch (ic->kind) {
    case RES_CONST: return (Meaning){.v = constant(n->text)};
    case RES_BUILTIN: return (Meaning){.b = ic->val};
    case RES_MODULE: return (Meaning){.m = ic->val};
    default: return (Meaning){.v = sl_expr_value(sl_expr_sym(n->text))};
    }
}

/* The meaning of NAME (or PRIME) node n where the running code is. */
static inline Meaning resolve(Ctx *c, const SlAst *n)
{
    SlVar *var = var_of(c, n);
    if (var)
        return (Meaning){.v = sl_ref(var->value)};
    if (n->ic.kind == RES_BUILTIN)
        return (Meaning){.b = n->ic.val};
    return resolve_fixed(n);
}

static SlValue *module_value(const Module *m) { return sl_object_new(&module_type, (void *)m); }

/* The value of a name (NAME or PRIME node): locals, globals, constants,
 * builtins, modules, else a symbol. */
static inline SlValue *lookup(Ctx *c, const SlAst *n)
{
    Meaning mn = resolve(c, n);
    if (mn.b)
        return sl_builtin_value(mn.b);
    if (mn.m)
        return module_value(mn.m);
    return mn.v;
}

static SlValue *eval_call(Ctx *c, const SlAst *n);

enum { IC_LITERAL = 32 }; /* a literal node's cache holds its value (see literal()) */

/* eval, with the commonest nodes (names, calls, literals already made)
 * taken without its switch. */
static inline SlValue *eval_quick(Ctx *c, const SlAst *n)
{
    if (n->kind == SL_AST_NAME)
        return lookup(c, n);
    if (n->kind == SL_AST_CALL)
        return eval_call(c, n);
    if (n->ic.kind == IC_LITERAL && n->kind != SL_AST_FLOAT)
        return sl_ref((SlValue *)n->ic.val);
    return eval(c, n);
}

/* Edit distance for "did you mean" hints (small strings only). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 30 || lb > 30)
        return 99;
    size_t d[32][32];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

static void hint_similar(Ctx *c, const char *name)
{
    const char *best = NULL;
    size_t bestd = strlen(name) <= 3 ? 1 : 2;
    bestd++;
    for (size_t i = 0; sl_builtin_at(i); i++) {
        size_t d = edit_distance(name, sl_builtin_at(i)->name);
        if (d < bestd) {
            bestd = d;
            best = sl_builtin_at(i)->name;
        }
    }
    const SlScope *g = &c->s->globals;
    for (size_t i = 0; i < g->len; i++) {
        if (!g->vars[i].name || g->vars[i].value->kind != SL_FUNC)
            continue;
        size_t d = edit_distance(name, g->vars[i].name);
        if (d < bestd) {
            bestd = d;
            best = g->vars[i].name;
        }
    }
    if (best)
        sl_err_hint(c->err, "did you mean '%s'?", best);
}

/* ---------------------------------------------------------------------------
 * Operators
 * ------------------------------------------------------------------------- */

static bool is_seq(const SlValue *v) { return v->kind == SL_LIST || v->kind == SL_TUPLE; }

static SlExpr *as_expr(const SlValue *v)
{
    if (v->kind == SL_EXPR)
        return sl_expr_ref(v->u.expr);
    return sl_expr_from_value(v);
}

static SlValue *repeat_seq(SlValue *seq, SlValue *count, SlError *err)
{
    long n;
    if (!sl_num_to_long(count, &n))
        return sl_err(err, SL_E_OVERFLOW, "cannot fit 'int' into an index-sized integer"), NULL;
    if (n < 0)
        n = 0;
    if (seq->kind == SL_STR) {
        if (n && seq->u.str.len > (size_t)100000000 / (size_t)n)
            return sl_err(err, SL_E_LIMIT, "string too long (over 100 MB)"), NULL;
        size_t len = seq->u.str.len * (size_t)n;
        char *p = malloc(len + 1);
        if (!p)
            return sl_err(err, SL_E_NOMEM), NULL;
        for (long i = 0; i < n; i++)
            memcpy(p + (size_t)i * seq->u.str.len, seq->u.str.s, seq->u.str.len);
        p[len] = '\0';
        return sl_str_take(p, len);
    }
    size_t len = seq->u.list.len;
    if (n && len > (size_t)50000000 / (size_t)n)
        return sl_err(err, SL_E_LIMIT, "list too long (over 50 million items)"), NULL;
    SlValue *r = seq->kind == SL_LIST ? sl_list_new(len * (size_t)n) : sl_tuple_new(len * (size_t)n);
    for (long i = 0; i < n; i++)
        for (size_t j = 0; j < len; j++)
            sl_list_push(r, seq->u.list.items[j]);
    return r;
}

static SlValue *concat(SlValue *a, SlValue *b)
{
    if (a->kind == SL_STR) {
        size_t len = a->u.str.len + b->u.str.len;
        char *p = malloc(len + 1);
        if (!p)
            abort();
        memcpy(p, a->u.str.s, a->u.str.len);
        memcpy(p + a->u.str.len, b->u.str.s, b->u.str.len);
        p[len] = '\0';
        return sl_str_take(p, len);
    }
    SlValue *r = a->kind == SL_LIST ? sl_list_new(a->u.list.len + b->u.list.len)
                                    : sl_tuple_new(a->u.list.len + b->u.list.len);
    for (size_t i = 0; i < a->u.list.len; i++)
        sl_list_push(r, a->u.list.items[i]);
    for (size_t i = 0; i < b->u.list.len; i++)
        sl_list_push(r, b->u.list.items[i]);
    return r;
}

static bool is_intlike(const SlValue *v) { return v->kind == SL_INT || v->kind == SL_BOOL; }

/* An expression that folded to a number (x*0, x - x after simplifying) is
 * a number value again; consumes e. */
static SlValue *expr_result(SlExpr *e)
{
    if (sl_expr_is_number(e)) {
        SlValue *v = sl_expr_number_value(e);
        sl_expr_unref(e);
        return v;
    }
    return sl_expr_value(e);
}

static SlValue *expr_binop(int op, SlValue *a, SlValue *b, SlError *err)
{
    SlExpr *x = as_expr(a), *y = as_expr(b), *r = NULL;
    switch (op) {
    case SL_OP_ADD: r = sl_expr_add(x, y); break;
    case SL_OP_SUB: r = sl_expr_sub(x, y); break;
    case SL_OP_MUL: r = sl_expr_mul(x, y); break;
    case SL_OP_DIV: r = sl_expr_div_e(x, y, err); break;
    case SL_OP_POW: r = sl_expr_pow(x, y); break;
    default:
        sl_err(err, SL_E_TYPE, "operator '%s' is not defined for symbolic expressions", sl_op_name(op));
        break;
    }
    sl_expr_unref(x);
    sl_expr_unref(y);
    return r ? expr_result(r) : NULL;
}

static const char *binop_symbol(int op)
{
    return op == SL_OP_POW ? "** or pow()" : sl_op_name(op);
}

SlValue *sl_binop(int op, SlValue *a, SlValue *b, SlError *err)
{
    if (sl_is_number(a) && sl_is_number(b))
        return sl_num_binop(op, a, b, err);
    if (a->kind == SL_OBJECT && a->u.obj.type->binop)
        return a->u.obj.type->binop(op, a, b, err);
    if (b->kind == SL_OBJECT && b->u.obj.type->binop)
        return b->u.obj.type->binop(op, a, b, err);
    bool ax = a->kind == SL_EXPR || sl_is_number(a), bx = b->kind == SL_EXPR || sl_is_number(b);
    if ((a->kind == SL_EXPR || b->kind == SL_EXPR) && ax && bx)
        return expr_binop(op, a, b, err);
    switch (op) {
    case SL_OP_ADD:
        if (a->kind == b->kind && (a->kind == SL_STR || is_seq(a)))
            return concat(a, b);
        if ((a->kind == SL_STR || is_seq(a)) && a->kind != b->kind) {
            if (a->kind == SL_STR)
                return sl_err(err, SL_E_TYPE, "can only concatenate str (not \"%s\") to str",
                              sl_type_name(b)), NULL;
            if (is_seq(b) || b->kind == SL_STR || sl_is_number(b) || b->kind == SL_NONE)
                return sl_err(err, SL_E_TYPE, "can only concatenate %s (not \"%s\") to %s",
                              sl_type_name(a), sl_type_name(b), sl_type_name(a)), NULL;
        }
        break;
    case SL_OP_MUL:
        if ((a->kind == SL_STR || is_seq(a)) && is_intlike(b))
            return repeat_seq(a, b, err);
        if ((b->kind == SL_STR || is_seq(b)) && is_intlike(a))
            return repeat_seq(b, a, err);
        if (a->kind == SL_STR || is_seq(a))
            return sl_err(err, SL_E_TYPE, "can't multiply sequence by non-int of type '%s'",
                          sl_type_name(b)), NULL;
        if (b->kind == SL_STR || is_seq(b))
            return sl_err(err, SL_E_TYPE, "can't multiply sequence by non-int of type '%s'",
                          sl_type_name(a)), NULL;
        break;
    case SL_OP_MOD:
        if (a->kind == SL_STR)
            return sl_err(err, SL_E_TYPE, "%%-formatting of strings is not supported; use \"...\".format(...)"), NULL;
        break;
    default: break;
    }
    return sl_err(err, SL_E_TYPE_BINOP, binop_symbol(op), sl_type_name(a), sl_type_name(b)), NULL;
}

SlValue *sl_unop(int op, SlValue *a, SlError *err)
{
    if (op == SL_OP_NOT) {
        if (a->kind == SL_OBJECT && a->u.obj.type->truthy) {
            bool t;
            return a->u.obj.type->truthy(a, &t, err) ? sl_bool(!t) : NULL;
        }
        bool ok;
        bool t = sl_truthy(a, &ok);
        if (!ok) {
            SlBuf b = {0};
            sl_repr(&b, a);
            sl_err(err, SL_E_SYMBOLIC_BOOL, b.s);
            sl_buf_free(&b);
            return NULL;
        }
        return sl_bool(!t);
    }
    if (op == SL_OP_SQRT) {
        if (sl_is_number(a)) {
            SlValue *args[1] = {a};
            return sl_num_apply(SL_FN_SQRT, args, 1, err);
        }
        if (a->kind == SL_OBJECT && a->u.obj.type->math) {
            SlValue *args[1] = {a};
            return a->u.obj.type->math(SL_FN_SQRT, args, 1, err);
        }
        if (a->kind == SL_EXPR) {
            SlExpr *x = a->u.expr;
            return sl_expr_value(sl_expr_fn(SL_FN_SQRT, &x, 1));
        }
        return sl_err(err, SL_E_TYPE_UNOP, "√", sl_type_name(a)), NULL;
    }
    if (sl_is_number(a))
        return sl_num_unop(op, a, err);
    if (a->kind == SL_OBJECT && a->u.obj.type->unop)
        return a->u.obj.type->unop(op, a, err);
    if (a->kind == SL_EXPR) {
        if (op == SL_OP_POS)
            return sl_ref(a);
        return sl_expr_value(sl_expr_neg(a->u.expr));
    }
    return sl_err(err, SL_E_TYPE_UNOP, op == SL_OP_NEG ? "-" : "+", sl_type_name(a)), NULL;
}

bool sl_values_equal(const SlValue *a, const SlValue *b)
{
    if (sl_is_number(a) && sl_is_number(b))
        return sl_num_equal(a, b);
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case SL_NONE: return true;
    case SL_STR: return a->u.str.len == b->u.str.len && memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    case SL_LIST:
    case SL_TUPLE:
        if (a->u.list.len != b->u.list.len)
            return false;
        for (size_t i = 0; i < a->u.list.len; i++)
            if (!sl_values_equal(a->u.list.items[i], b->u.list.items[i]))
                return false;
        return true;
    case SL_EXPR: return a->u.expr == b->u.expr;
    case SL_FUNC: return a->u.func == b->u.func;
    case SL_BUILTIN: return a->u.builtin == b->u.builtin;
    case SL_OBJECT: return a == b || sl_type_object_equal(a, b);
    default: return a == b;
    }
}

/* Ordering for <, <=, >, >=: -1/0/1, 2 unordered (NaN), -2 not comparable. */
static int order(const SlValue *a, const SlValue *b)
{
    if (sl_is_number(a) && sl_is_number(b))
        return sl_num_cmp(a, b);
    if (a->kind == SL_STR && b->kind == SL_STR) {
        size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
        int r = memcmp(a->u.str.s, b->u.str.s, n);
        if (r == 0)
            r = (a->u.str.len > b->u.str.len) - (a->u.str.len < b->u.str.len);
        return (r > 0) - (r < 0);
    }
    if (a->kind == b->kind && is_seq(a)) {
        size_t n = a->u.list.len < b->u.list.len ? a->u.list.len : b->u.list.len;
        for (size_t i = 0; i < n; i++) {
            if (sl_values_equal(a->u.list.items[i], b->u.list.items[i]))
                continue;
            return order(a->u.list.items[i], b->u.list.items[i]);
        }
        return (a->u.list.len > b->u.list.len) - (a->u.list.len < b->u.list.len);
    }
    return -2;
}

SlValue *sl_compare(int op, SlValue *a, SlValue *b, SlError *err)
{
    if (a->kind == SL_OBJECT && a->u.obj.type->compare)
        return a->u.obj.type->compare(op, a, b, err);
    if (b->kind == SL_OBJECT && b->u.obj.type->compare)
        return b->u.obj.type->compare(op, a, b, err);
    SlValue *pa = sl_primal(a), *pb = sl_primal(b);
    if (pa != a || pb != b) {
        SlValue *r = sl_compare(op, pa, pb, err);
        sl_unref(pa);
        sl_unref(pb);
        return r;
    }
    sl_unref(pa);
    sl_unref(pb);
    if (a->kind == SL_EXPR || b->kind == SL_EXPR) {
        if ((op == SL_OP_EQ || op == SL_OP_NE) && (a->kind == b->kind)) {
            bool eq = a->u.expr == b->u.expr;
            return sl_bool(op == SL_OP_EQ ? eq : !eq);
        }
        SlBuf buf = {0};
        sl_repr(&buf, a);
        sl_buf_printf(&buf, " %s ", sl_op_name(op));
        sl_repr(&buf, b);
        sl_err(err, SL_E_SYMBOLIC_BOOL, buf.s);
        sl_buf_free(&buf);
        return NULL;
    }
    if (op == SL_OP_EQ)
        return sl_bool(sl_values_equal(a, b));
    if (op == SL_OP_NE)
        return sl_bool(!sl_values_equal(a, b));
    int r = order(a, b);
    if (r == -2)
        return sl_err(err, SL_E_TYPE, "'%s' not supported between instances of '%s' and '%s'",
                      sl_op_name(op), sl_type_name(a), sl_type_name(b)), NULL;
    if (r == 2)
        return sl_bool(false);
    switch (op) {
    case SL_OP_LT: return sl_bool(r < 0);
    case SL_OP_LE: return sl_bool(r <= 0);
    case SL_OP_GT: return sl_bool(r > 0);
    case SL_OP_GE: return sl_bool(r >= 0);
    }
    return sl_err(err, SL_E_INTERNAL, "bad comparison"), NULL;
}

/* ---------------------------------------------------------------------------
 * Indexing
 * ------------------------------------------------------------------------- */

static bool index_of(SlValue *idx0, size_t len, const char *what, size_t *out, SlError *err)
{
    SlValue *idx = sl_primal(idx0);
    bool ok = false;
    long i;
    if (!is_intlike(idx))
        sl_err(err, SL_E_INDEX_TYPE, what, sl_type_name(idx));
    else if (!sl_num_to_long(idx, &i))
        sl_err(err, SL_E_INDEX_RANGE, what);
    else {
        if (i < 0)
            i += (long)len;
        if (i < 0 || (size_t)i >= len)
            sl_err(err, SL_E_INDEX_RANGE, what);
        else {
            *out = (size_t)i;
            ok = true;
        }
    }
    sl_unref(idx);
    return ok;
}

/* Python's slice.indices for a sequence of length len. */
static bool slice_bounds(Ctx *c, const SlAst *sl, long len, long *start, long *stop, long *step)
{
    long v[3] = {0, 0, 1};
    bool given[3] = {false, false, false};
    const SlAst *parts[3] = {sl->a, sl->b, sl->c};
    for (int k = 0; k < 3; k++) {
        if (!parts[k])
            continue;
        SlValue *x = eval(c, parts[k]);
        if (!x)
            return false;
        if (x->kind == SL_NONE) {
            sl_unref(x);
            continue;
        }
        if (!is_intlike(x) || !sl_num_to_long(x, &v[k])) {
            sl_err_at(c->err, c->src, parts[k]->loc, SL_E_TYPE,
                      "slice indices must be integers or None");
            sl_unref(x);
            return false;
        }
        given[k] = true;
        sl_unref(x);
    }
    *step = given[2] ? v[2] : 1;
    if (*step == 0)
        return sl_err_at(c->err, c->src, sl->loc, SL_E_VALUE, "slice step cannot be zero");
    long lo = *step < 0 ? -1 : 0, hi = *step < 0 ? len - 1 : len;
    for (int k = 0; k < 2; k++) {
        long x;
        if (!given[k]) {
            x = (*step < 0) == (k == 0) ? hi : lo;
        } else {
            x = v[k];
            if (x < 0) {
                x += len;
                if (x < lo)
                    x = lo;
            } else if (x > hi) {
                x = hi;
            }
        }
        if (k == 0)
            *start = x;
        else
            *stop = x;
    }
    return true;
}

/* Evaluate subscripts for an object's index hook (slices become values). */
static SlValue **eval_subscripts(Ctx *c, const SlAst *n, size_t *count)
{
    SlValue **idx = calloc(n->nitems + 1, sizeof *idx);
    if (!idx)
        abort();
    for (size_t i = 0; i < n->nitems; i++) {
        const SlAst *it = n->items[i];
        if (it->kind == SL_AST_SLICE) {
            SlValue *parts[3] = {NULL, NULL, NULL};
            const SlAst *asts[3] = {it->a, it->b, it->c};
            for (int k = 0; k < 3; k++) {
                if (!asts[k])
                    continue;
                parts[k] = eval(c, asts[k]);
                if (!parts[k]) {
                    for (int j = 0; j < k; j++)
                        sl_unref(parts[j]);
                    for (size_t j = 0; j < i; j++)
                        sl_unref(idx[j]);
                    free(idx);
                    return NULL;
                }
            }
            idx[i] = sl_slice_new(parts[0], parts[1], parts[2]);
        } else {
            idx[i] = eval_quick(c, it);
            if (!idx[i]) {
                for (size_t j = 0; j < i; j++)
                    sl_unref(idx[j]);
                free(idx);
                return NULL;
            }
        }
    }
    *count = n->nitems;
    return idx;
}

static void free_subscripts(SlValue **idx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_unref(idx[i]);
    free(idx);
}

static SlValue *eval_index(Ctx *c, const SlAst *n)
{
    SlValue *obj = eval_quick(c, n->a);
    if (!obj)
        return NULL;
    SlValue *result = NULL;
    if (obj->kind == SL_OBJECT && obj->u.obj.type->index) {
        size_t k = 0;
        SlValue **idx = eval_subscripts(c, n, &k);
        if (idx) {
            result = obj->u.obj.type->index(obj, idx, k, c->err);
            free_subscripts(idx, k);
        }
        sl_unref(obj);
        return result ? result : fail_at(c, n);
    }
    if (n->nitems != 1) {
        sl_err_at(c->err, c->src, n->loc, SL_E_TYPE, "%s indices must be integers or slices, not tuple",
                  sl_type_name(obj));
        goto done;
    }
    const SlAst *ix = n->items[0];
    bool is_str = obj->kind == SL_STR;
    if (sl_cap_on && obj->kind == SL_LIST)
        obj->u.list.seen = true; /* a replay would not read it again: changing it stops the replay */
    if (!is_seq(obj) && !is_str) {
        sl_err_at(c->err, c->src, n->loc, SL_E_TYPE, "'%s' object is not subscriptable", sl_type_name(obj));
        goto done;
    }
    long len = is_str ? (long)obj->u.str.len : (long)obj->u.list.len;
    if (ix->kind == SL_AST_SLICE) {
        long start = 0, stop = 0, step = 1;
        if (!slice_bounds(c, ix, len, &start, &stop, &step))
            goto done;
        if (is_str) {
            SlBuf b = {0};
            sl_buf_init(&b);
            for (long i = start; step > 0 ? i < stop : i > stop; i += step)
                sl_buf_putc(&b, obj->u.str.s[i]);
            size_t blen = b.len;
            result = sl_str_take(sl_buf_take(&b), blen);
        } else {
            result = obj->kind == SL_LIST ? sl_list_new(0) : sl_tuple_new(0);
            for (long i = start; step > 0 ? i < stop : i > stop; i += step)
                sl_list_push(result, obj->u.list.items[i]);
        }
        goto done;
    }
    SlValue *iv = eval_quick(c, ix);
    if (!iv)
        goto done;
    size_t i;
    if (index_of(iv, (size_t)len, is_str ? "string" : sl_type_name(obj), &i, c->err)) {
        if (is_str) {
            /* by byte; UTF-8 strings index by byte in this version */
            result = sl_str_new(obj->u.str.s + i, 1);
        } else {
            result = sl_ref(obj->u.list.items[i]);
        }
    } else {
        sl_err_locate(c->err, c->src, ix->loc);
    }
    sl_unref(iv);
done:
    sl_unref(obj);
    return result ? result : fail_at(c, n);
}

/* ---------------------------------------------------------------------------
 * Calls
 * ------------------------------------------------------------------------- */

static SlValue *call_user(SlSession *s, SlFunc *f, SlValue **args, size_t nargs, const char **kwnames,
                          SlValue **kwargs, size_t nkw, SlError *err);

SlValue *sl_call_value(SlSession *s, SlValue *fn, SlValue **args, size_t nargs, const char **kwnames,
                       SlValue **kwargs, size_t nkw, SlSource *src, SlLoc loc, SlError *err)
{
    if (fn->kind == SL_BUILTIN || fn->kind == SL_METHOD) {
        SlCall call = {
            .s = s,
            .self = fn->kind == SL_METHOD ? fn->u.method.self : NULL,
            .args = args,
            .nargs = nargs,
            .kwnames = kwnames,
            .kwargs = kwargs,
            .nkw = nkw,
            .src = src,
            .loc = loc,
            .err = err,
        };
        const SlBuiltin *b = fn->kind == SL_METHOD ? fn->u.method.fn : fn->u.builtin;
        return b->fn(&call);
    }
    if (fn->kind == SL_FUNC)
        return call_user(s, fn->u.func, args, nargs, kwnames, kwargs, nkw, err);
    if (fn->kind == SL_OBJECT && fn->u.obj.type->call) {
        SlCall call = {.s = s, .self = fn, .args = args, .nargs = nargs, .kwnames = kwnames, .kwargs = kwargs,
                       .nkw = nkw, .src = src, .loc = loc, .err = err};
        return fn->u.obj.type->call(fn, &call);
    }
    if (fn->kind == SL_EXPR && fn->u.expr->kind == SL_EX_SYM)
        return sl_err(err, SL_E_NAME_UNKNOWN_FN, fn->u.expr->u.name), NULL;
    return sl_err(err, SL_E_NOT_CALLABLE, sl_type_name(fn)), NULL;
}

static const char *plural(size_t n, const char *one, const char *many) { return n == 1 ? one : many; }

/* Bind arguments to a user function's parameters in a fresh scope. */
static bool bind_params(SlFunc *f, SlScope *locals, SlValue **args, size_t nargs, const char **kwnames,
                        SlValue **kwargs, size_t nkw, SlError *err)
{
    const SlAst *d = f->def;
    size_t np = d->nparams;
    if (nargs > np) {
        char what[64];
        size_t required = 0;
        for (size_t i = 0; i < np; i++)
            required += d->params[i].def == NULL;
        if (required != np)
            snprintf(what, sizeof what, "from %zu to %zu positional arguments", required, np);
        else
            snprintf(what, sizeof what, "%zu positional %s", np, plural(np, "argument", "arguments"));
        return sl_err(err, SL_E_ARG_COUNT, f->name, what, (int)nargs, plural(nargs, "was", "were"));
    }
    SlValue *onstack[ARGS_ON_STACK];
    SlValue **vals = np <= ARGS_ON_STACK ? onstack : calloc(np, sizeof *vals);
    if (!vals)
        abort();
    for (size_t i = 0; i < np; i++)
        vals[i] = i < nargs ? args[i] : NULL;
    bool ok = true;
    for (size_t k = 0; k < nkw && ok; k++) {
        size_t i;
        for (i = 0; i < np; i++)
            if (strcmp(d->params[i].name, kwnames[k]) == 0)
                break;
        if (i == np)
            ok = sl_err(err, SL_E_ARG_KEYWORD, f->name, kwnames[k]);
        else if (vals[i])
            ok = sl_err(err, SL_E_ARG_DUPLICATE, f->name, kwnames[k]);
        else
            vals[i] = kwargs[k];
    }
    for (size_t i = 0; i < np && ok; i++) {
        if (!vals[i]) {
            if (f->defaults && f->defaults[i])
                vals[i] = f->defaults[i];
            else
                ok = sl_err(err, SL_E_ARG_MISSING, f->name, d->params[i].name);
        }
    }
    if (ok && np <= SL_SCOPE_SMALL && locals->len == 0 && locals->cap >= np) {
        /* the parameters are distinct (the parser checks), so they go in
         * as they are, and the shape they make is always the same */
        for (size_t i = 0; i < np; i++) {
            SlParam *p = &d->params[i];
            if (!p->hash)
                p->hash = hash_str(p->name);
            locals->vars[i] = (SlVar){.name = (char *)p->name, .value = sl_ref(vals[i]), .hash = p->hash};
        }
        locals->len = locals->live = np;
        if (!f->shape_bound) {
            unsigned long ver = locals->version;
            for (size_t i = 0; i < np; i++)
                ver = shape_next(ver, d->params[i].name);
            f->shape_bound = ver;
        }
        locals->version = f->shape_bound;
    } else if (ok) {
        for (size_t i = 0; i < np; i++)
            scope_set_h(locals, d->params[i].name, hash_str(d->params[i].name), vals[i]);
    }
    if (vals != onstack)
        free(vals);
    return ok;
}

static SlValue *call_user(SlSession *s, SlFunc *f, SlValue **args, size_t nargs, const char **kwnames,
                          SlValue **kwargs, size_t nkw, SlError *err)
{
    if (!f->def) {
        if (nkw)
            return sl_err(err, SL_E_ARG_KEYWORD, f->name, kwnames[0]), NULL;
        if (s->depth >= SL_MAX_DEPTH)
            return sl_err(err, SL_E_RECURSION, SL_MAX_DEPTH), NULL;
        s->depth++;
        SlValue *r = sl_ad_call_derived(s, f, args, nargs, err);
        s->depth--;
        return r;
    }
    if (f->def->kind == SL_AST_OPTIMIZER) /* Name(params, hyper=...): an optimizer value (optim.c) */
        return sl_optim_user_new(s, f, args, nargs, kwnames, kwargs, nkw, err);
    if (s->depth >= SL_MAX_DEPTH)
        return sl_err(err, SL_E_RECURSION, SL_MAX_DEPTH), NULL;
    /* every name bound in the body is a string of f's AST, which f->src
     * keeps alive for as long as the caller holds f */
    SlScope locals;
    SlVar room[SL_SCOPE_SMALL];
    scope_init_local(&locals, room, f);
    if (!bind_params(f, &locals, args, nargs, kwnames, kwargs, nkw, err)) {
        sl_scope_free(&locals);
        return NULL;
    }
    s->depth++;
    Ctx c = {.s = s, .locals = &locals, .src = f->src, .err = err, .in_func = true};
    SlValue *result = NULL;
    if (f->def->kind == SL_AST_FUNCDEF) {
        result = eval_quick(&c, f->def->a);
    } else {
        Flow fl = exec_block(&c, f->def->a);
        if (fl == FLOW_RETURN)
            result = c.retval;
        else if (fl != FLOW_ERROR)
            result = SL_NONE_V;
        else
            sl_unref(c.retval);
    }
    s->depth--;
    sl_scope_free(&locals);
    return result;
}

/* optimizer NAME(...) { body }: step() runs the body once per parameter
 * (optim.c), with p, the hyper-parameters and the state variables already
 * bound in locals; `state` lines are declarations there (optim.c binds
 * them before the body runs) and `return` ends the body early. */
bool sl_eval_optimizer_body(SlSession *s, SlFunc *f, SlScope *locals, SlError *err)
{
    if (s->depth >= SL_MAX_DEPTH)
        return sl_err(err, SL_E_RECURSION, SL_MAX_DEPTH);
    s->depth++;
    Ctx c = {.s = s, .locals = locals, .src = f->src, .err = err, .in_func = true, .in_optimizer = true};
    Flow fl = exec_block(&c, f->def->a);
    if (fl == FLOW_RETURN)
        sl_unref(c.retval);
    s->depth--;
    return fl != FLOW_ERROR;
}

SlValue *sl_eval_in_scope(SlSession *s, SlSource *src, SlScope *locals, const SlAst *expr, SlError *err)
{
    Ctx c = {.s = s, .locals = locals, .src = src, .err = err, .in_func = true, .in_optimizer = true};
    return eval(&c, expr);
}

static bool loc_inside(SlLoc in, SlLoc out)
{
    bool after_start = in.first_line > out.first_line ||
                       (in.first_line == out.first_line && in.first_column >= out.first_column);
    bool before_end = in.last_line < out.last_line ||
                      (in.last_line == out.last_line && in.last_column <= out.last_column);
    return after_start && before_end;
}

/* An error inside a user function's body points into the body; say which
 * call led there (the innermost call only, as one line). */
static void note_call_site(Ctx *c, const SlAst *call, const SlFunc *f)
{
    SlError *e = c->err;
    if (!e->set || !e->has_loc || e->hint[0])
        return;
    if (e->src == c->src && loc_inside(e->loc, call->loc))
        return;
    char *text = sl_ast_source_text(c->src, call);
    if (strchr(text, '\n'))
        sl_err_hint(e, "in %s(), called at line %d", f->name, call->loc.first_line);
    else if (strlen(text) > 60)
        sl_err_hint(e, "in %s(), called as %.57s...", f->name, text);
    else
        sl_err_hint(e, "in %s(), called as %s", f->name, text);
    free(text);
}

/* explain(diff(expr, x)) sees the expression before it is differentiated:
 * a special form.  explain(expr) explains d/dx of an expression in one
 * variable. */
static SlValue *eval_explain(Ctx *c, const SlAst *n)
{
    if (n->nitems != 1 || n->items[0]->kind == SL_AST_KWARG) {
        sl_err_at(c->err, c->src, n->loc, SL_E_TYPE, "explain() takes one argument: explain(diff(expr, x))");
        return NULL;
    }
    const SlAst *arg = n->items[0];
    SlValue *e = NULL, *var = NULL, *r = NULL;
    if (arg->kind == SL_AST_CALL && arg->a->kind == SL_AST_NAME && strcmp(arg->a->text, "diff") == 0 &&
        arg->nitems >= 1 && arg->nitems <= 2) {
        e = eval(c, arg->items[0]);
        if (e && arg->nitems == 2)
            var = eval(c, arg->items[1]);
        if (!e || (arg->nitems == 2 && !var))
            goto done;
    } else {
        e = eval(c, arg);
        if (!e)
            goto done;
    }
    r = sl_ad_explain(c->s, e, var, c->err);
done:
    sl_unref(e);
    sl_unref(var);
    return r ? r : fail_at(c, n);
}

/* What an ATTR node's cache holds. */
enum { IC_METHOD = 16, IC_NAMESPACE };

/* One address per non-object kind, as the method cache's key. */
static const char kind_keys[SL_OBJECT + 1];

/* The method self.NAME (attr's text) through attr's cache: a method hook's
 * answer depends on the type and the name only (value.h). */
static const SlBuiltin *method_of(const SlValue *self, const SlAst *attr)
{
    SlAstCache *ic = cache_of(attr);
    const void *key = &kind_keys[self->kind];
    void (*hook)(void) = NULL;
    if (self->kind == SL_OBJECT) {
        key = self->u.obj.type;
        hook = (void (*)(void))self->u.obj.type->method;
    }
    if (ic->kind == IC_METHOD && ic->key == key && ic->hook == hook)
        return ic->val;
    const SlBuiltin *m = sl_method_lookup(self, attr->text);
    if (m) {
        ic->kind = IC_METHOD;
        ic->key = key;
        ic->hook = hook;
        ic->val = m;
    }
    return m;
}

/* torch.NAME, nn.NAME ... as a builtin (the same for every module), through
 * attr's cache. */
static const SlBuiltin *namespace_of(const SlAst *attr)
{
    SlAstCache *ic = cache_of(attr);
    if (ic->kind == IC_NAMESPACE)
        return ic->val;
    const SlBuiltin *b = sl_namespace_lookup(attr->text);
    if (b) {
        ic->kind = IC_NAMESPACE;
        ic->val = b;
    }
    return b;
}

static bool is_module(const SlValue *v) { return v->kind == SL_OBJECT && v->u.obj.type == &module_type; }

/* OBJ.NAME(...) as a call: the method (with *self its receiver, a new
 * reference) or, after torch. / nn. ..., the builtin (*self NULL); false
 * after an error. */
static bool attr_callee(Ctx *c, const SlAst *callee, SlValue **self, const SlBuiltin **direct)
{
    const Module *mod = NULL;
    *self = NULL;
    if (callee->a->kind == SL_AST_NAME) {
        Meaning mn = resolve(c, callee->a);
        *self = mn.b ? sl_builtin_value(mn.b) : mn.v;
        mod = mn.m;
    } else {
        *self = eval_quick(c, callee->a);
        if (!*self)
            return false;
    }
    if (*self && is_module(*self))
        mod = (*self)->u.obj.data;
    if (mod) {
        /* torch.ones, math.sin, nn.Linear: a namespace for builtins */
        sl_unref(*self);
        *self = NULL;
        *direct = namespace_of(callee);
        if (!*direct)
            return sl_err_at(c->err, c->src, callee->loc, SL_E_NO_ATTR, mod->name, callee->text);
        return true;
    }
    *direct = method_of(*self, callee);
    if (!*direct) {
        sl_err_at(c->err, c->src, callee->loc, SL_E_NO_ATTR, sl_type_name(*self), callee->text);
        sl_unref(*self);
        *self = NULL;
        return false;
    }
    return true;
}

/* Run a call whose arguments are in *call (the callee is fn, or direct
 * with call->self its receiver). */
static void capture_check_call(const SlCall *call, const SlValue *fn, const SlBuiltin *direct);
static const Ctx *cap_ctx; /* the evaluator context whose loop body is being recorded */
static void capture_check_result(const SlCall *call, const SlBuiltin *direct, const SlValue *result);

static inline SlValue *invoke(Ctx *c, const SlAst *n, SlCall *call, SlValue *fn, const SlBuiltin *direct)
{
    SlValue *result;
    if (sl_cap_on) {
        capture_check_call(call, fn, direct);
        const void *where = sl_capture_get_where();
        if (c == cap_ctx)
            sl_capture_where(n); /* a kernel's error at a replay points at this call (in the loop's own text) */
        if (direct)
            result = direct->fn(call);
        else if (fn->kind == SL_OBJECT && fn->u.obj.type->call)
            result = fn->u.obj.type->call(call->self = fn, call);
        else
            result = sl_call_value(c->s, fn, call->args, call->nargs, call->kwnames, call->kwargs, call->nkw,
                                   c->src, n->loc, c->err);
        sl_capture_where(where);
        if (result && sl_cap_on)
            capture_check_result(call, direct, result);
        if (!result && fn && fn->kind == SL_FUNC)
            note_call_site(c, n, fn->u.func);
        return result;
    }
    if (direct && call->self && call->self->kind == SL_LIST && call->self->u.list.seen)
        sl_struct_gen++; /* a list a recorded loop body read may change (a replay would miss it) */
    if (direct)
        result = direct->fn(call);
    else if (fn->kind == SL_OBJECT && fn->u.obj.type->call)
        result = fn->u.obj.type->call(call->self = fn, call);
    else
        result = sl_call_value(c->s, fn, call->args, call->nargs, call->kwnames, call->kwargs, call->nkw, c->src,
                               n->loc, c->err);
    if (!result && fn && fn->kind == SL_FUNC)
        note_call_site(c, n, fn->u.func);
    return result;
}

/* The common call: up to three positional arguments, on the stack. */
static SlValue *call_positional(Ctx *c, const SlAst *n, SlCall *call, SlValue *fn, const SlBuiltin *direct,
                                size_t npos)
{
    SlValue *argv[4] = {NULL, NULL, NULL, NULL}, *kwv[1] = {NULL};
    const char *kwn[1] = {NULL};
    SlValue *result = NULL;
    size_t i = 0;
    while (i < npos && (argv[i] = eval_quick(c, n->items[i])))
        i++;
    call->args = argv;
    call->nargs = npos;
    call->kwnames = kwn;
    call->kwargs = kwv;
    if (i == npos && check_interrupt(c, n))
        result = invoke(c, n, call, fn, direct);
    for (size_t k = 0; k < i; k++)
        sl_unref(argv[k]);
    sl_unref(fn);
    if (direct)
        sl_unref(call->self);
    return result ? result : fail_at(c, n);
}

/* Any other call: keywords, or more arguments. */
static __attribute__((noinline)) SlValue *call_general(Ctx *c, const SlAst *n, SlCall *call, SlValue *fn,
                                                       const SlBuiltin *direct, size_t npos, size_t nkw)
{
    SlValue *argv[ARGS_ON_STACK + 1], *kwv[ARGS_ON_STACK + 1];
    const char *kwn[ARGS_ON_STACK + 1];
    call->args = npos <= ARGS_ON_STACK ? argv : calloc(npos + 1, sizeof *call->args);
    call->kwargs = nkw <= ARGS_ON_STACK ? kwv : calloc(nkw + 1, sizeof *call->kwargs);
    call->kwnames = nkw <= ARGS_ON_STACK ? kwn : calloc(nkw + 1, sizeof *call->kwnames);
    if (!call->args || !call->kwargs || !call->kwnames)
        abort();
    call->args[npos] = NULL;
    call->kwargs[nkw] = NULL;
    call->kwnames[nkw] = NULL;
    SlValue *result = NULL;
    bool ok = true;
    for (size_t i = 0; i < n->nitems && ok; i++) {
        const SlAst *arg = n->items[i];
        if (arg->kind != SL_AST_KWARG) {
            ok = (call->args[call->nargs] = eval_quick(c, arg)) != NULL;
            call->nargs += ok;
            continue;
        }
        for (size_t j = 0; j < call->nkw && ok; j++)
            if (strcmp(call->kwnames[j], arg->text) == 0)
                ok = sl_err_at(c->err, c->src, arg->loc, SL_E_TYPE, "keyword argument repeated: %s", arg->text);
        if (!ok)
            break;
        call->kwnames[call->nkw] = arg->text;
        ok = (call->kwargs[call->nkw] = eval_quick(c, arg->a)) != NULL;
        call->nkw += ok;
    }
    if (ok && !check_interrupt(c, n))
        ok = false;
    if (ok)
        result = invoke(c, n, call, fn, direct);
    for (size_t i = 0; i < call->nargs; i++)
        sl_unref(call->args[i]);
    for (size_t i = 0; i < call->nkw; i++)
        sl_unref(call->kwargs[i]);
    if (call->args != argv)
        free(call->args);
    if (call->kwargs != kwv)
        free(call->kwargs);
    if (call->kwnames != kwn)
        free(call->kwnames);
    sl_unref(fn);
    if (direct)
        sl_unref(call->self);
    return result ? result : fail_at(c, n);
}

static SlValue *eval_call(Ctx *c, const SlAst *n)
{
    const SlAst *callee = n->a;
    SlCall call = {.s = c->s, .src = c->src, .loc = n->loc, .err = c->err};
    SlValue *fn = NULL;             /* the callee as a value, or */
    const SlBuiltin *direct = NULL; /* a builtin or method called without one */
    if (callee->kind == SL_AST_NAME) {
        if (callee->text[0] == 'e' && strcmp(callee->text, "explain") == 0 &&
            !sl_scope_get(&c->s->globals, "explain") && !(c->locals && sl_scope_get(c->locals, "explain")))
            return eval_explain(c, n);
        Meaning mn = resolve(c, callee);
        fn = mn.v;
        if (mn.b) {
            direct = mn.b;
        } else if (mn.m) {
            fn = module_value(mn.m);
        } else if (fn->kind == SL_EXPR && fn->u.expr->kind == SL_EX_SYM) {
            sl_err_at(c->err, c->src, callee->loc, SL_E_NAME_UNKNOWN_FN, callee->text);
            hint_similar(c, callee->text);
            sl_unref(fn);
            return NULL;
        }
    } else if (callee->kind == SL_AST_ATTR) {
        if (!attr_callee(c, callee, &call.self, &direct))
            return NULL;
    } else {
        fn = eval(c, callee);
        if (!fn)
            return NULL;
    }

    SlAstCache *ic = cache_of(n);
    if (!ic->pos) {
        ic->pos = 1;
        for (size_t i = 0; i < n->nitems; i++)
            ic->pos += n->items[i]->kind != SL_AST_KWARG;
    }
    size_t npos = ic->pos - 1, nkw = n->nitems - npos;
    if (nkw == 0 && npos <= 3)
        return call_positional(c, n, &call, fn, direct, npos);
    return call_general(c, n, &call, fn, direct, npos, nkw);
}

static SlValue *eval_attr(Ctx *c, const SlAst *n)
{
    SlValue *obj = eval_quick(c, n->a);
    if (!obj)
        return NULL;
    SlValue *r = NULL;
    if (is_module(obj)) {
        const Module *mod = obj->u.obj.data;
        SlValue *k = sl_tensor_module_attr(mod->name, n->text);
        if (!k)
            k = constant(n->text);
        const SlBuiltin *b = k ? NULL : namespace_of(n);
        if (k)
            r = k;
        else if (b)
            r = sl_builtin_value(b);
        else
            sl_err_at(c->err, c->src, n->loc, SL_E_NO_ATTR, ((const Module *)obj->u.obj.data)->name, n->text);
    } else {
        if (obj->kind == SL_OBJECT && obj->u.obj.type->getattr) {
            if (sl_cap_on && sl_optim_of(obj))
                sl_capture_fail("it reads an optimizer's setting, which the loop may change");
            r = obj->u.obj.type->getattr(obj, n->text, c->err);
            /* a tensor's attributes are tensors or fixed (shape, dtype); another
             * object's may be numbers the loop changes (module.training, d.x) */
            if (sl_cap_on && r && !sl_tensor_of(obj) && !sl_tensor_of(r) && !sl_nn_is_module(r) && r->kind != SL_NONE)
                sl_capture_fail("it reads an object's attribute, which the loop may change");
            if (!r && c->err->set) {
                sl_unref(obj);
                return fail_at(c, n);
            }
        }
        if (!r) {
            const SlBuiltin *m = method_of(obj, n);
            if (m)
                r = sl_method_value(obj, m);
            else
                sl_err_at(c->err, c->src, n->loc, SL_E_NO_ATTR, sl_type_name(obj), n->text);
        }
    }
    sl_unref(obj);
    return r;
}

/* ---------------------------------------------------------------------------
 * Expressions
 * ------------------------------------------------------------------------- */

static SlValue *eval_binary(Ctx *c, const SlAst *n)
{
    SlValue *a = eval_quick(c, n->a);
    if (!a)
        return NULL;
    SlValue *b = eval_quick(c, n->b);
    if (!b) {
        sl_unref(a);
        return NULL;
    }
    SlValue *r = sl_binop(n->op, a, b, c->err);
    sl_unref(a);
    sl_unref(b);
    return r ? r : fail_at(c, n);
}

static SlValue *eval_compare(Ctx *c, const SlAst *n)
{
    SlValue *left = eval_quick(c, n->items[0]);
    if (!left)
        return NULL;
    /* Python: a < b < c is (a < b) and (b < c); the value is the last
     * comparison's or the first false one's (a tensor for tensors) */
    SlValue *result = NULL;
    for (size_t i = 1; i < n->nitems; i++) {
        SlValue *right = eval_quick(c, n->items[i]);
        if (!right) {
            sl_unref(left);
            sl_unref(result);
            return NULL;
        }
        SlValue *r = sl_compare(n->ops[i - 1], left, right, c->err);
        sl_unref(left);
        left = right;
        if (!r) {
            sl_unref(left);
            sl_unref(result);
            return fail_at(c, n);
        }
        sl_unref(result);
        result = r;
        if (i + 1 < n->nitems) {
            bool t;
            if (r->kind == SL_OBJECT && r->u.obj.type->truthy) {
                if (!r->u.obj.type->truthy(r, &t, c->err)) {
                    sl_unref(left);
                    sl_unref(result);
                    return fail_at(c, n);
                }
            } else {
                t = r != SL_FALSE_V;
            }
            if (!t)
                break;
        }
    }
    sl_unref(left);
    return result;
}

static SlValue *truth(Ctx *c, const SlAst *n, SlValue *v, bool *t)
{
    if (v->kind == SL_OBJECT && v->u.obj.type->truthy) {
        if (!v->u.obj.type->truthy(v, t, c->err)) {
            sl_unref(v);
            return fail_at(c, n);
        }
        return v;
    }
    bool ok;
    *t = sl_truthy(v, &ok);
    if (!ok) {
        SlBuf b = {0};
        sl_repr(&b, v);
        sl_err_at(c->err, c->src, n->loc, SL_E_SYMBOLIC_BOOL, b.s);
        sl_buf_free(&b);
        sl_unref(v);
        return NULL;
    }
    return v;
}

static SlValue *eval_literal_seq(Ctx *c, const SlAst *n)
{
    SlValue *r = n->kind == SL_AST_LIST ? sl_list_new(n->nitems) : sl_tuple_new(n->nitems);
    for (size_t i = 0; i < n->nitems; i++) {
        SlValue *v = eval_quick(c, n->items[i]);
        if (!v) {
            sl_unref(r);
            return NULL;
        }
        sl_list_push_take(r, v);
    }
    return r;
}

/* Literals: the value is made once and kept in the node (numbers and
 * strings are never changed in place once made); a float's is remade
 * when the precision changes.  The node's source releases it. */
static void literal_drop(void *node) { sl_unref((SlValue *)((SlAst *)node)->ic.val); }

static SlValue *literal(Ctx *c, const SlAst *n)
{
    SlAstCache *ic = cache_of(n);
    unsigned long prec = n->kind == SL_AST_FLOAT ? (unsigned long)sl_num_prec() : 0;
    if (ic->kind == IC_LITERAL && ic->ver == prec)
        return sl_ref((SlValue *)ic->val);
    SlValue *v = n->kind == SL_AST_INT     ? sl_num_parse_int(n->text, c->err)
                 : n->kind == SL_AST_FLOAT ? sl_num_parse_float(n->text, c->err)
                                           : sl_str_new(n->text, n->len);
    if (!v)
        return fail_at(c, n);
    if (ic->kind == IC_LITERAL) {
        sl_unref((SlValue *)ic->val);
    } else {
        /* kept only when the node is the running source's own (then the
         * source outlives the node's uses and frees the value with it) */
        if (!c->src || !sl_source_owns(c->src, n))
            return v;
        sl_source_on_free(c->src, literal_drop, (void *)n);
        ic->kind = IC_LITERAL;
    }
    ic->val = sl_ref(v);
    ic->ver = prec;
    return v;
}

static SlValue *eval(Ctx *c, const SlAst *n)
{
    SlValue *v;
    switch (n->kind) {
    case SL_AST_INT:
    case SL_AST_FLOAT:
    case SL_AST_STR: return literal(c, n);
    case SL_AST_BOOL: return sl_bool(n->ival != 0);
    case SL_AST_NONE: return SL_NONE_V;
    case SL_AST_NAME: return lookup(c, n);
    case SL_AST_PRIME: {
        SlValue *f = lookup(c, n);
        v = sl_ad_prime(c->s, f, n->text, (int)n->ival, c->err);
        sl_unref(f);
        return v ? v : fail_at(c, n);
    }
    case SL_AST_UNARY: {
        SlValue *a = eval_quick(c, n->a);
        if (!a)
            return NULL;
        v = sl_unop(n->op, a, c->err);
        sl_unref(a);
        return v ? v : fail_at(c, n);
    }
    case SL_AST_BINARY: return eval_binary(c, n);
    case SL_AST_COMPARE: return eval_compare(c, n);
    case SL_AST_AND:
    case SL_AST_OR: {
        bool t;
        SlValue *a = eval_quick(c, n->a);
        if (!a || !truth(c, n->a, a, &t))
            return NULL;
        if ((n->kind == SL_AST_AND) != t)
            return a; /* short circuit: Python returns the deciding operand */
        sl_unref(a);
        return eval(c, n->b);
    }
    case SL_AST_CALL: return eval_call(c, n);
    case SL_AST_INDEX: return eval_index(c, n);
    case SL_AST_ATTR: return eval_attr(c, n);
    case SL_AST_LIST:
    case SL_AST_TUPLE: return eval_literal_seq(c, n);
    case SL_AST_SLICE:
        sl_err_at(c->err, c->src, n->loc, SL_E_TYPE, "a slice can only be used inside [ ]");
        return NULL;
    case SL_AST_KWARG:
        sl_err_at(c->err, c->src, n->loc, SL_E_TYPE, "keyword argument '%s' outside a call", n->text);
        return NULL;
    default:
        sl_err_at(c->err, c->src, n->loc, SL_E_INTERNAL, "not an expression");
        return NULL;
    }
}

/* ---------------------------------------------------------------------------
 * Statements
 * ------------------------------------------------------------------------- */

/* Bind the name of node n (a NAME target, or a definition's text) to v. */
static void bind(Ctx *c, const SlAst *n, SlValue *v)
{
    SlScope *sc = c->locals ? c->locals : &c->s->globals;
    SlVar *var = c->locals ? local_var(sc, n) : global_var(c, n);
    if (var) {
        sl_assign(&var->value, v);
        return;
    }
    size_t pos = scope_set_h(sc, n->text, node_hash(n), v);
    SlAstCache *ic = cache_of(n);
    if (c->locals) {
        ic->lver = sc->version;
        ic->lpos = pos + 1;
    } else {
        ic->ver = sc->version;
        ic->pos = pos + 1;
    }
}

/* The variable an assignment to NAME node n would rebind, or NULL when
 * it would make a new one. */
static SlVar *var_in_target_scope(Ctx *c, const SlAst *n)
{
    return c->locals ? local_var(c->locals, n) : global_var(c, n);
}

static bool assign_index(Ctx *c, const SlAst *target, SlValue *v)
{
    SlValue *obj = eval_quick(c, target->a);
    if (!obj)
        return false;
    bool ok = false;
    if (obj->kind == SL_OBJECT && obj->u.obj.type->setindex) {
        size_t k = 0;
        SlValue **idx = eval_subscripts(c, target, &k);
        if (idx) {
            ok = obj->u.obj.type->setindex(obj, idx, k, v, c->err);
            free_subscripts(idx, k);
        }
        if (!ok)
            sl_err_locate(c->err, c->src, target->loc);
    } else if (obj->kind != SL_LIST) {
        sl_err_at(c->err, c->src, target->loc, SL_E_TYPE, "'%s' object does not support item assignment",
                  sl_type_name(obj));
    } else if (target->nitems != 1 || target->items[0]->kind == SL_AST_SLICE) {
        sl_err_at(c->err, c->src, target->loc, SL_E_TYPE, "list assignment takes one integer index");
    } else {
        SlValue *iv = eval_quick(c, target->items[0]);
        size_t i;
        if (iv && index_of(iv, obj->u.list.len, "list assignment", &i, c->err)) {
            sl_assign(&obj->u.list.items[i], v);
            ok = true;
        } else {
            sl_err_locate(c->err, c->src, target->items[0]->loc);
        }
        sl_unref(iv);
    }
    sl_unref(obj);
    return ok;
}

/* Check a tuple target against the value before binding anything. */
static bool unpack_ok(Ctx *c, const SlAst *target, SlValue *v)
{
    if (!is_seq(v))
        return sl_err_at(c->err, c->src, target->loc, SL_E_TYPE, "cannot unpack non-sequence %s",
                         sl_type_name(v));
    if (v->u.list.len != target->nitems)
        return sl_err_at(c->err, c->src, target->loc, SL_E_VALUE,
                         v->u.list.len > target->nitems ? "too many values to unpack (expected %zu)"
                                                        : "not enough values to unpack (expected %zu, got %zu)",
                         target->nitems, v->u.list.len);
    for (size_t i = 0; i < target->nitems; i++)
        if (target->items[i]->kind != SL_AST_NAME)
            return sl_err_at(c->err, c->src, target->items[i]->loc, SL_E_SYNTAX,
                             "only names can be unpacked into");
    return true;
}

static bool assign_to(Ctx *c, const SlAst *target, SlValue *v)
{
    switch (target->kind) {
    case SL_AST_NAME: bind(c, target, v); return true;
    case SL_AST_INDEX:
        if (sl_cap_on)
            sl_capture_fail("it assigns an item, which a replay would not do again");
        sl_struct_gen++;
        return assign_index(c, target, v);
    case SL_AST_TUPLE:
    case SL_AST_LIST: {
        /* objects that iterate unpack as Python's do: v, i = x.sort() */
        SlValue *items = NULL;
        if (!is_seq(v) && v->kind == SL_OBJECT && v->u.obj.type->iter) {
            items = v->u.obj.type->iter(v, c->err);
            if (!items) {
                sl_err_locate(c->err, c->src, target->loc);
                return false;
            }
            v = items;
        }
        bool ok = unpack_ok(c, target, v);
        for (size_t i = 0; ok && i < target->nitems; i++)
            bind(c, target->items[i], v->u.list.items[i]);
        sl_unref(items);
        return ok;
    }
    case SL_AST_ATTR: {
        if (sl_cap_on)
            sl_capture_fail("it assigns an attribute, which a replay would not do again");
        SlValue *obj = eval_quick(c, target->a);
        if (!obj)
            return false;
        if (!sl_optim_of(obj))
            sl_struct_gen++; /* a replayed loop body (capture.h) must not outlive this; an
                                optimizer's step reads its settings at every replay */
        bool ok = false;
        if (obj->kind == SL_OBJECT && obj->u.obj.type->setattr) {
            ok = obj->u.obj.type->setattr(obj, target->text, v, c->err);
            if (!ok)
                sl_err_locate(c->err, c->src, target->loc);
        } else {
            sl_err_at(c->err, c->src, target->loc, SL_E_NO_ATTR, sl_type_name(obj), target->text);
        }
        sl_unref(obj);
        return ok;
    }
    default:
        return sl_err_at(c->err, c->src, target->loc, SL_E_SYNTAX, "cannot assign to this expression");
    }
}

static Flow exec_assign(Ctx *c, const SlAst *n)
{
    SlValue *v = eval_quick(c, n->b);
    if (!v)
        return FLOW_ERROR;
    if (n->op != SL_OP_ASSIGN && n->op != '=') {
        /* augmented: x += v is x = x + v; lists extend in place */
        SlValue *old = eval_quick(c, n->a);
        if (!old) {
            sl_unref(v);
            return FLOW_ERROR;
        }
        SlValue *nv = NULL;
        if (old->kind == SL_LIST && n->op == SL_OP_ADD && is_seq(v)) {
            if (sl_cap_on)
                sl_capture_fail("it changes a list, which a replay would not do again");
            else if (old->u.list.seen)
                sl_struct_gen++;
            for (size_t i = 0; i < v->u.list.len; i++)
                sl_list_push(old, v->u.list.items[i]);
            nv = sl_ref(old);
        } else {
            /* tensors change in place, as Python's x -= ... (w -= lr * w.grad
             * inside no_grad keeps w the same leaf) */
            nv = sl_tensor_inplace_binop(n->op, old, v, c->err);
            if (!nv && !c->err->set)
                nv = sl_binop(n->op, old, v, c->err);
        }
        sl_unref(old);
        sl_unref(v);
        if (!nv) {
            fail_at(c, n);
            return FLOW_ERROR;
        }
        v = nv;
    }
    bool ok = assign_to(c, n->a, v);
    sl_unref(v);
    return ok ? FLOW_NORMAL : FLOW_ERROR;
}

static Flow exec_define(Ctx *c, const SlAst *n)
{
    SlFunc *f = calloc(1, sizeof *f);
    if (!f)
        abort();
    f->refs = 1;
    f->name = strdup(n->text);
    f->def = n;
    f->src = sl_source_ref(c->src);
    bool ok = true;
    for (size_t i = 0; i < n->nparams; i++) {
        for (size_t j = 0; j < i; j++)
            if (strcmp(n->params[i].name, n->params[j].name) == 0) {
                ok = sl_err_at(c->err, c->src, n->params[i].loc, SL_E_SYNTAX,
                               "duplicate parameter '%s' in the definition of %s", n->params[i].name, n->text);
                break;
            }
        if (!ok)
            break;
        if (!n->params[i].def)
            continue;
        if (!f->defaults) {
            f->defaults = calloc(n->nparams, sizeof *f->defaults);
            if (!f->defaults)
                abort();
        }
        f->defaults[i] = eval(c, n->params[i].def);
        if (!f->defaults[i]) {
            ok = false;
            break;
        }
    }
    if (ok) {
        bool required_after_default = false;
        for (size_t i = 0, seen = 0; i < n->nparams; i++) {
            if (n->params[i].def)
                seen = 1;
            else if (seen)
                required_after_default = true;
        }
        if (required_after_default && n->kind != SL_AST_OPTIMIZER)
            ok = sl_err_at(c->err, c->src, n->loc, SL_E_SYNTAX,
                           "a parameter without a default follows one with a default in %s", n->text);
    }
    if (ok && n->kind == SL_AST_OPTIMIZER)
        ok = sl_optim_check_def(n, c->src, c->err);
    if (!ok) {
        sl_func_unref(f);
        return FLOW_ERROR;
    }
    SlValue *v = sl_func_value(f);
    bind(c, n, v);
    sl_unref(v);
    if (!c->locals) {
        SlVar *var = scope_var(&c->s->globals, n->text);
        sl_source_unref(var->src);
        var->src = sl_source_ref(c->src);
    }
    return FLOW_NORMAL;
}

/* for loops over range(...) run without building the list */
static bool lazy_range(Ctx *c, const SlAst *it, long *start, long *stop, long *step, bool *ok)
{
    *ok = true;
    if (it->kind != SL_AST_CALL || it->a->kind != SL_AST_NAME || strcmp(it->a->text, "range") != 0)
        return false;
    if (c->locals && sl_scope_get(c->locals, "range"))
        return false;
    if (sl_scope_get(&c->s->globals, "range"))
        return false;
    if (it->nitems < 1 || it->nitems > 3)
        return false;
    long v[3];
    for (size_t i = 0; i < it->nitems; i++) {
        if (it->items[i]->kind == SL_AST_KWARG)
            return false;
        SlValue *x = eval(c, it->items[i]);
        if (!x) {
            *ok = false;
            return true;
        }
        bool fits = is_intlike(x) && sl_num_to_long(x, &v[i]);
        if (!fits) {
            sl_err_at(c->err, c->src, it->items[i]->loc, SL_E_TYPE,
                      is_intlike(x) ? "range() argument is too large" : "'%s' object cannot be interpreted as an integer",
                      sl_type_name(x));
            sl_unref(x);
            *ok = false;
            return true;
        }
        sl_unref(x);
    }
    *start = 0;
    *step = 1;
    if (it->nitems == 1) {
        *stop = v[0];
    } else {
        *start = v[0];
        *stop = v[1];
        if (it->nitems == 3)
            *step = v[2];
    }
    if (*step == 0) {
        sl_err_at(c->err, c->src, it->loc, SL_E_VALUE, "range() arg 3 must not be zero");
        *ok = false;
    }
    return true;
}

static Flow loop_body_from(Ctx *c, const SlAst *body, size_t from, bool *stop);

static Flow loop_body(Ctx *c, const SlAst *body, bool *stop) { return loop_body_from(c, body, 0, stop); }

/* ---------------------------------------------------------------------------
 * Replayed loop bodies (capture.h)
 *
 * A loop body that starts with plain statements (expressions, and
 * assignments to names) is a candidate: its second iteration runs those
 * statements under a capture, and when the capture holds, later iterations
 * replay the plan instead of evaluating them, then run the rest of the
 * body as usual.  What the plan cannot see is checked here:
 *   - the statements read no name the loop changes: not the loop variable,
 *     none that the rest of the body assigns, none that they assign
 *     themselves before assigning it (a value carried from one iteration
 *     to the next), and neither do the functions they call;
 *   - every call in them is one whose only effects are tensor operations
 *     (capture_check_call), and no tensor's numbers decide anything;
 *   - nothing else changes the structure (sl_struct_gen: a .grad set or
 *     dropped, requires_grad, an attribute or item assigned) or grad mode.
 * A replay runs the same kernels on the same buffers in the same order,
 * so the numbers are the ones the statements would give.
 * ------------------------------------------------------------------------- */

typedef struct NameSet {
    const char **v;
    size_t n, cap;
} NameSet;

static bool names_has(const NameSet *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], name) == 0)
            return true;
    return false;
}

static void names_add(NameSet *s, const char *name)
{
    if (!name || names_has(s, name))
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            abort();
    }
    s->v[s->n++] = name;
}

/* every name an expression or statement mentions (over-approximates reads) */
static void names_in(const SlAst *n, NameSet *out)
{
    if (!n)
        return;
    if (n->kind == SL_AST_NAME || n->kind == SL_AST_PRIME)
        names_add(out, n->text);
    names_in(n->a, out);
    names_in(n->b, out);
    names_in(n->c, out);
    for (size_t i = 0; i < n->nitems; i++)
        names_in(n->items[i], out);
}

static void target_names(const SlAst *t, NameSet *out)
{
    if (t->kind == SL_AST_NAME)
        names_add(out, t->text);
    else if (t->kind == SL_AST_TUPLE || t->kind == SL_AST_LIST)
        for (size_t i = 0; i < t->nitems; i++)
            target_names(t->items[i], out);
}

/* the names statement n (and what it contains) binds; false when it runs a
 * :command, which may change anything.  With aug, a name assigned only
 * with += -= *= /= goes there instead (a tensor changes in place: the name
 * keeps its value; checked at the capture and at each replay) */
static bool names_bound_aug(const SlAst *n, NameSet *out, NameSet *aug);

static bool names_bound(const SlAst *n, NameSet *out) { return names_bound_aug(n, out, NULL); }

static bool names_bound_aug(const SlAst *n, NameSet *out, NameSet *aug)
{
    if (!n)
        return true;
    switch (n->kind) {
    case SL_AST_ASSIGN:
        if (aug && n->a->kind == SL_AST_NAME && n->op != SL_OP_ASSIGN && n->op != '=')
            names_add(aug, n->a->text);
        else
            target_names(n->a, out);
        return true;
    case SL_AST_FUNCDEF:
    case SL_AST_DEF:
    case SL_AST_OPTIMIZER: names_add(out, n->text); return true;
    case SL_AST_FOR: target_names(n->a, out); return names_bound_aug(n->c, out, aug);
    case SL_AST_WHILE: return names_bound_aug(n->b, out, aug);
    case SL_AST_IF: return names_bound_aug(n->b, out, aug) && names_bound_aug(n->c, out, aug);
    case SL_AST_NOGRAD: return names_bound_aug(n->a, out, aug);
    case SL_AST_BLOCK:
        for (size_t i = 0; i < n->nitems; i++)
            if (!names_bound_aug(n->items[i], out, aug))
                return false;
        return true;
    case SL_AST_COMMAND: return false;
    default: return true;
    }
}

typedef struct Replay {
    const SlAst *loop;     /* the for statement */
    size_t nstmt;          /* leading statements a plan may stand for (0: none) */
    NameSet assigned;      /* names the whole body binds, and the loop variable */
    NameSet bound;         /* names the leading statements bind */
    NameSet aug;           /* names the body changes only with += and the like */
    SlValue **aug_held;    /* their values at the capture (tensors, changed in place; borrowed) */
    SlValue **held;        /* their values after the capture (a reference each) */
    int *held_refs;        /* ... and their references then */
    int *held_trefs;       /* ... and their tensors' (0: not a tensor) */
    int *held_nrefs;       /* ... and those tensors' grad_fn's (0: none) */
    size_t nheld;
    SlPlan *plan;
    unsigned long gen;     /* sl_struct_gen when it was made */
    int no_grad;           /* sl_no_grad_depth then */
    bool tried;            /* a capture was tried (and not to be retried) */
    const char *first_why; /* why the first capture failed */
    int tries;
} Replay;

/* What the session remembers of the last loop that tried (for :replay). */
static char replay_last[160];
static bool replay_off;

void sl_replay_set(bool on) { replay_off = !on; }
bool sl_replay_enabled(void) { return !replay_off; }
const char *sl_replay_last(void) { return replay_last; }

static void replay_init(Replay *r, const SlAst *loop, const SlAst *target, const SlAst *body)
{
    memset(r, 0, sizeof *r);
    r->loop = loop;
    if (replay_off || sl_capture_active() || body->kind != SL_AST_BLOCK)
        return;
    if (cache_of(loop)->pos >= 2) {
        /* a loop run again and again (an inner loop over samples) would pay
         * for a capture that fails each time */
        snprintf(replay_last, sizeof replay_last, "not replayed: its last two captures failed");
        return;
    }
    target_names(target, &r->assigned);
    for (size_t i = 0; i < body->nitems; i++)
        if (!names_bound_aug(body->items[i], &r->assigned, &r->aug)) {
            snprintf(replay_last, sizeof replay_last, "not replayed: the body runs a :command");
            return;
        }
    /* the leading plain statements, up to the first that reads a name the
     * body binds (the loop variable, a carried value, another statement's) */
    NameSet bound_here = {0};
    size_t k = 0;
    for (; k < body->nitems; k++) {
        const SlAst *st = body->items[k];
        bool plain = st->kind == SL_AST_EXPR ||
                     (st->kind == SL_AST_ASSIGN && st->a->kind == SL_AST_NAME &&
                      (st->op == SL_OP_ASSIGN || st->op == '='));
        if (!plain)
            break;
        NameSet mention = {0};
        names_in(st->kind == SL_AST_EXPR ? st->a : st->b, &mention);
        bool carried = false;
        for (size_t i = 0; i < mention.n && !carried; i++) {
            carried = names_has(&r->assigned, mention.v[i]) && !names_has(&bound_here, mention.v[i]);
            if (carried && k == 0)
                snprintf(replay_last, sizeof replay_last, "not replayed: its first statement reads %s, which the loop changes",
                         mention.v[i]);
        }
        free(mention.v);
        if (carried)
            break;
        if (st->kind == SL_AST_ASSIGN)
            names_add(&bound_here, st->a->text);
    }
    /* a name bound by the leading statements and again after them would be
     * left as the rest of the body set it */
    NameSet later = {0};
    for (size_t i = k; i < body->nitems; i++)
        names_bound(body->items[i], &later);
    for (size_t i = 0; i < bound_here.n && k; i++)
        if (names_has(&later, bound_here.v[i])) {
            snprintf(replay_last, sizeof replay_last, "not replayed: %s is bound again later in the body",
                     bound_here.v[i]);
            k = 0;
        }
    const SlAst *first = body->nitems ? body->items[0] : NULL;
    if (first && !(first->kind == SL_AST_EXPR ||
                   (first->kind == SL_AST_ASSIGN && first->a->kind == SL_AST_NAME &&
                    (first->op == SL_OP_ASSIGN || first->op == '='))))
        snprintf(replay_last, sizeof replay_last, "not replayed: the body does not start with plain statements");
    free(later.v);
    r->bound = bound_here;
    r->nstmt = k;
}

static void replay_drop(Replay *r)
{
    sl_plan_free(r->plan);
    r->plan = NULL;
    r->nstmt = 0;
    for (size_t i = 0; i < r->nheld; i++)
        sl_unref(r->held[i]);
    free(r->held);
    free(r->held_refs);
    free(r->held_trefs);
    free(r->held_nrefs);
    free(r->aug_held);
    r->aug_held = NULL;
    r->held = NULL;
    r->held_refs = NULL;
    r->held_trefs = NULL;
    r->held_nrefs = NULL;
    r->nheld = 0;
}

static void replay_free(Replay *r)
{
    replay_drop(r);
    free(r->aug.v);
    free(r->assigned.v);
    free(r->bound.v);
}

/* Whether anything outside the plan took hold of what the replayed
 * statements bound (a list that keeps the loss, another name for it): a
 * replay would change what it holds. */
static bool replay_untouched(const Replay *r, const Ctx *c)
{
    const SlScope *sc = c->locals ? c->locals : &c->s->globals;
    for (size_t i = 0; i < r->aug.n; i++)
        if (sl_scope_get(sc, r->aug.v[i]) != r->aug_held[i])
            return false; /* w -= ... did not stay in place */
    for (size_t i = 0; i < r->nheld; i++) {
        const SlTensor *t = sl_tensor_of(r->held[i]);
        if (r->held[i]->refs != r->held_refs[i] || (t && t->refs != r->held_trefs[i]))
            return false; /* t: .float() gives the same tensor in a new value */
        if (t && t->grad_fn && t->grad_fn->refs != r->held_nrefs[i])
            return false; /* its grad_fn kept: a new one at every iteration */
    }
    return sl_plan_untouched(r->plan);
}

/* the user functions called while a capture runs: their bodies' names are
 * checked as the statements' are */
static const SlAst **cap_funcs;
static size_t cap_nfuncs, cap_capfuncs;

static void capture_note_func(const SlFunc *f)
{
    while (f && !f->def && f->parent && f->parent->kind == SL_FUNC)
        f = f->parent->u.func; /* a derivative: what it differentiates */
    if (!f || !f->def)
        return;
    for (size_t i = 0; i < cap_nfuncs; i++)
        if (cap_funcs[i] == f->def)
            return;
    if (cap_nfuncs == cap_capfuncs) {
        cap_capfuncs = cap_capfuncs ? 2 * cap_capfuncs : 8;
        cap_funcs = realloc(cap_funcs, cap_capfuncs * sizeof *cap_funcs);
        if (!cap_funcs)
            abort();
    }
    cap_funcs[cap_nfuncs++] = f->def;
}

/* Calls a captured statement may make: ones whose effects are tensor
 * operations (the capture sees those) and nothing else. */
static const char *const capture_functions[] = {
    "abs", "acos", "asin", "atan", "atan2", "bmm", "cat", "ceil", "clamp", "conv2d", "cos", "cosh", "cross_entropy",
    "binary_cross_entropy", "dot", "exp", "flatten", "floor", "l1_loss", "leaky_relu", "linear", "log", "log10",
    "log2", "log_softmax", "matmul", "max", "mean", "min", "mm", "mse_loss", "mv", "neg", "nll_loss", "permute",
    "pow", "relu", "reshape", "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "softmax", "sqrt", "squeeze",
    "stack", "sum", "t", "tan", "tanh", "transpose", "unsqueeze", "view", "where", "add", "sub", "mul", "div",
    "maximum", "minimum", "square", "outer", NULL};

static bool name_in(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

static void capture_check_call(const SlCall *call, const SlValue *fn, const SlBuiltin *direct)
{
    const SlValue *self = direct ? call->self : NULL;
    /* a list passed along is read now and not at a replay: changing it later stops the replay */
    for (size_t i = 0; i < call->nargs; i++)
        if (call->args[i]->kind == SL_LIST)
            call->args[i]->u.list.seen = true;
    for (size_t i = 0; i < call->nkw; i++)
        if (call->kwargs[i]->kind == SL_LIST)
            call->kwargs[i]->u.list.seen = true;
    if (!direct && fn && (fn->kind == SL_BUILTIN || fn->kind == SL_METHOD)) {
        direct = fn->kind == SL_METHOD ? fn->u.method.fn : fn->u.builtin;
        self = fn->kind == SL_METHOD ? fn->u.method.self : NULL;
    }
    if (direct) {
        if (self && sl_tensor_of(self)) {
            if (strcmp(direct->name, "backward") == 0 && call->nkw > 0)
                for (size_t i = 0; i < call->nkw; i++)
                    if (strcmp(call->kwnames[i], "trace") == 0)
                        sl_capture_fail("backward(trace=True) prints");
            return; /* a tensor method: its effects are tensor operations (results: capture_check_result) */
        }
        if (self && sl_optim_of(self) &&
            (strcmp(direct->name, "step") == 0 || strcmp(direct->name, "zero_grad") == 0))
            return; /* they record themselves (optim.c) */
        if (self && sl_nn_is_module(self) &&
            (strcmp(direct->name, "zero_grad") == 0 || strcmp(direct->name, "train") == 0 ||
             strcmp(direct->name, "eval") == 0))
            return; /* the same (nn.c) */
        if (!self && name_in(direct->name, capture_functions))
            return;
        sl_capture_fail("it calls a function whose effects a replay would miss");
        return;
    }
    if (fn && fn->kind == SL_OBJECT && sl_nn_is_module(fn))
        return; /* a layer or a loss: tensor operations */
    if (fn && fn->kind == SL_FUNC && !(fn->u.func->def && fn->u.func->def->kind == SL_AST_OPTIMIZER)) {
        capture_note_func(fn->u.func);
        return;
    }
    sl_capture_fail("it calls something whose effects a replay would miss");
}

/* A tensor method that answers with numbers read them from the tensor
 * (item, tolist, equal): a replay would not read them again.  Sizes are
 * fixed, so their answers are not. */
static void capture_check_result(const SlCall *call, const SlBuiltin *direct, const SlValue *result)
{
    static const char *const sizes[] = {"size", "dim", "numel", "ndimension", "nelement", "stride",
                                        "is_contiguous", "is_floating_point", "element_size", NULL};
    if (!direct || !call->self || !sl_tensor_of(call->self))
        return;
    if (result->kind == SL_NONE || sl_tensor_of(result) || name_in(direct->name, sizes))
        return;
    if (result->kind == SL_OBJECT)
        return; /* values with indices (torch.return_types) */
    bool tensors = result->kind == SL_LIST; /* a list of tensors */
    for (size_t i = 0; tensors && i < result->u.list.len; i++)
        tensors = sl_tensor_of(result->u.list.items[i]) != NULL;
    if (!tensors)
        sl_capture_fail("it reads a tensor's numbers");
}

/* Run statements [from, nitems) of a loop body: a break or an error (or a
 * return) sets *stop; break and continue end as a normal iteration. */
static Flow loop_body_from(Ctx *c, const SlAst *body, size_t from, bool *stop)
{
    *stop = false;
    c->loops++;
    bool top = c->top;
    c->top = false;
    Flow f = FLOW_NORMAL;
    for (size_t i = from; i < body->nitems && f == FLOW_NORMAL; i++)
        f = exec(c, body->items[i]);
    c->top = top;
    c->loops--;
    if (f == FLOW_BREAK) {
        *stop = true;
        return FLOW_NORMAL;
    }
    if (f == FLOW_CONTINUE)
        return FLOW_NORMAL;
    if (f != FLOW_NORMAL)
        *stop = true;
    return f;
}

/* Whether a name statements [0, k) bind is bound again by the rest. */
static bool bound_again(const SlAst *body, size_t k)
{
    NameSet here = {0}, later = {0};
    for (size_t i = 0; i < k; i++)
        names_bound(body->items[i], &here);
    for (size_t i = k; i < body->nitems; i++)
        names_bound(body->items[i], &later);
    bool again = false;
    for (size_t i = 0; i < here.n && !again; i++)
        again = names_has(&later, here.v[i]);
    free(here.v);
    free(later.v);
    return again;
}

/* Capture the leading statements; false when they failed (an error). */
static bool replay_capture(Ctx *c, const SlAst *body, Replay *r, Flow *f)
{
    r->tried = true;
    r->tries++;
    cap_nfuncs = 0;
    unsigned long gen = sl_struct_gen;
    sl_capture_begin();
    bool top = c->top;
    c->top = false;
    c->loops++;
    *f = FLOW_NORMAL;
    cap_ctx = c;
    for (size_t i = 0; i < r->nstmt && *f == FLOW_NORMAL; i++) {
        sl_capture_where(body->items[i]);
        sl_capture_statement((long)i);
        *f = exec(c, body->items[i]);
    }
    c->loops--;
    c->top = top;
    cap_ctx = NULL;
    if (sl_struct_gen != gen) /* while recording or in a call it runs again (an optimizer's body) */
        sl_capture_fail("it changes the structure of what it works on (a .grad, requires_grad, an attribute)");
    const char *why = NULL;
    SlPlan *plan = sl_capture_end(&why);
    if (*f != FLOW_NORMAL) {
        sl_plan_free(plan);
        return false;
    }
    /* the functions the statements called read names too */
    for (size_t f_i = 0; plan && f_i < cap_nfuncs; f_i++) {
        const SlAst *def = cap_funcs[f_i];
        NameSet mention = {0};
        names_in(def->a, &mention);
        for (size_t i = 0; plan && i < mention.n; i++) {
            bool param = false;
            for (size_t j = 0; j < def->nparams && !param; j++)
                param = strcmp(def->params[j].name, mention.v[i]) == 0;
            if (!param && names_has(&r->assigned, mention.v[i])) {
                sl_plan_free(plan);
                plan = NULL;
                why = "a function it calls reads a name the loop changes";
            }
        }
        free(mention.v);
    }
    if (plan) {
        r->plan = plan;
        r->bound.n = 0; /* what these statements bind (a retry may have fewer) */
        for (size_t i = 0; i < r->nstmt; i++)
            if (body->items[i]->kind == SL_AST_ASSIGN)
                names_add(&r->bound, body->items[i]->a->text);
        SlScope *sc = c->locals ? c->locals : &c->s->globals;
        r->aug_held = calloc(r->aug.n + 1, sizeof *r->aug_held);
        if (!r->aug_held)
            abort();
        for (size_t i = 0; i < r->aug.n; i++) {
            SlValue *v = sl_scope_get(sc, r->aug.v[i]);
            r->aug_held[i] = v;
            if (!v || !sl_tensor_of(v)) {
                replay_drop(r);
                snprintf(replay_last, sizeof replay_last,
                         "not replayed: %s changes with += and the like, and is not a tensor", r->aug.v[i]);
                cache_of(r->loop)->pos++;
                return true;
            }
        }
        r->held = calloc(r->bound.n + 1, sizeof *r->held);
        r->held_refs = calloc(r->bound.n + 1, sizeof *r->held_refs);
        r->held_trefs = calloc(r->bound.n + 1, sizeof *r->held_trefs);
        r->held_nrefs = calloc(r->bound.n + 1, sizeof *r->held_nrefs);
        if (!r->held || !r->held_refs || !r->held_trefs || !r->held_nrefs)
            abort();
        for (size_t i = 0; i < r->bound.n; i++) {
            SlValue *v = sl_scope_get(sc, r->bound.v[i]);
            if (v) {
                const SlTensor *t = sl_tensor_of(v);
                r->held[r->nheld] = sl_ref(v);
                r->held_trefs[r->nheld] = t ? t->refs : 0;
                r->held_nrefs[r->nheld] = t && t->grad_fn ? t->grad_fn->refs : 0;
                r->held_refs[r->nheld++] = v->refs;
                /* a list, a tuple or an object would be a new one at every
                 * iteration; a replay keeps the one it made */
                if (!t && !sl_is_number(v) && v->kind != SL_STR && v->kind != SL_BOOL && v->kind != SL_NONE) {
                    replay_drop(r);
                    snprintf(replay_last, sizeof replay_last,
                             "not replayed: it binds %s to a %s, which a replay would not make again",
                             r->bound.v[i], sl_type_name(v));
                    cache_of(r->loop)->pos++;
                    return true;
                }
            }
        }
        r->gen = sl_struct_gen;
        r->no_grad = sl_no_grad_depth;
        cache_of(r->loop)->pos = 0;
        snprintf(replay_last, sizeof replay_last, "replayed %zu of the body's %zu statements (%zu operations)",
                 r->nstmt, body->nitems, sl_plan_size(plan));
    } else {
        /* the first failure says most (a retry's is often its consequence) */
        if (!r->first_why)
            r->first_why = why;
        snprintf(replay_last, sizeof replay_last, "not replayed: %s", r->first_why ? r->first_why : "?");
        /* failed in a later statement: the ones before it may replay, tried
         * at the next iteration */
        long at = sl_capture_failed_statement();
        if (at > 0 && (size_t)at < r->nstmt && r->tries < 3 && !bound_again(body, (size_t)at)) {
            r->nstmt = (size_t)at;
            r->tried = false;
        } else {
            cache_of(r->loop)->pos++;
        }
    }
    return true;
}

/* One iteration of a loop body, replayed when it can be. */
static Flow replay_body(Ctx *c, const SlAst *body, Replay *r, long iteration, bool *stop)
{
    if (r->plan && (r->gen != sl_struct_gen || r->no_grad != sl_no_grad_depth || !replay_untouched(r, c))) {
        replay_drop(r);
        snprintf(replay_last, sizeof replay_last,
                 "replay stopped at iteration %ld: the loop changed what it works on, or kept a result", iteration);
    }
    if (r->plan) {
        SlPlanStop ps = {NULL, -1};
        int st = sl_plan_run(r->plan, c->s, &ps, c->err);
        if (st == SL_PLAN_DONE)
            return loop_body_from(c, body, r->nstmt, stop);
        replay_drop(r);
        if (st == SL_PLAN_STOPPED) {
            snprintf(replay_last, sizeof replay_last,
                     "replay stopped at iteration %ld: a call changed what the statements work on", iteration);
            return loop_body_from(c, body, (size_t)ps.resume, stop);
        }
        snprintf(replay_last, sizeof replay_last, "replay stopped at iteration %ld: an error", iteration);
        if (ps.resume >= 0) {
            /* interpret the iteration from there: the same error, told as
             * the interpreter tells it (the call inside a function, its hint),
             * and names bound as they would be */
            sl_err_clear(c->err);
            return loop_body_from(c, body, (size_t)ps.resume, stop);
        }
        if (ps.where)
            sl_err_locate(c->err, c->src, ((const SlAst *)ps.where)->loc);
        *stop = true;
        return FLOW_ERROR;
    }
    if (r->nstmt && !r->tried && iteration >= 1) {
        Flow f;
        size_t ran = r->nstmt; /* a failed capture may shorten nstmt for the next try */
        if (!replay_capture(c, body, r, &f)) {
            *stop = true; /* plain statements end only in an error */
            return f;
        }
        return loop_body_from(c, body, ran, stop);
    }
    return loop_body(c, body, stop);
}

static Flow exec_for(Ctx *c, const SlAst *n)
{
    long start = 0, stop = 0, step = 1;
    bool ok;
    if (lazy_range(c, n->b, &start, &stop, &step, &ok)) {
        if (!ok)
            return FLOW_ERROR;
        if (n->a->kind != SL_AST_NAME) {
            sl_err_at(c->err, c->src, n->a->loc, SL_E_TYPE, "cannot unpack non-sequence int");
            return FLOW_ERROR;
        }
        Replay rp;
        replay_init(&rp, n, n->a, n->c);
        long iteration = 0;
        for (long i = start; step > 0 ? i < stop : i > stop; i += step, iteration++) {
            if (!check_interrupt(c, n)) {
                replay_free(&rp);
                return FLOW_ERROR;
            }
            /* the counter's int is reused when only the variable holds it */
            SlVar *var = var_in_target_scope(c, n->a);
            if (var && var->value->kind == SL_INT && var->value->refs == 1) {
                mpz_set_si(var->value->u.z, i);
            } else {
                SlValue *iv = sl_int_si(i);
                bind(c, n->a, iv);
                sl_unref(iv);
            }
            bool done;
            Flow f = replay_body(c, n->c, &rp, iteration, &done);
            if (done) {
                replay_free(&rp);
                return f;
            }
        }
        replay_free(&rp);
        return FLOW_NORMAL;
    }
    SlValue *it = eval(c, n->b);
    if (!it)
        return FLOW_ERROR;
    if (sl_cap_on && it->kind == SL_LIST)
        it->u.list.seen = true;
    SlValue *items = sl_iter_list(it, c->err);
    sl_unref(it);
    if (!items) {
        sl_err_locate(c->err, c->src, n->b->loc);
        return FLOW_ERROR;
    }
    Flow result = FLOW_NORMAL;
    Replay rp;
    replay_init(&rp, n, n->a, n->c);
    for (size_t i = 0; i < items->u.list.len; i++) {
        if (!check_interrupt(c, n) || !assign_to(c, n->a, items->u.list.items[i])) {
            result = FLOW_ERROR;
            break;
        }
        bool done;
        Flow f = replay_body(c, n->c, &rp, (long)i, &done);
        if (done) {
            result = f;
            break;
        }
    }
    replay_free(&rp);
    sl_unref(items);
    return result;
}

static Flow exec_while(Ctx *c, const SlAst *n)
{
    for (;;) {
        if (!check_interrupt(c, n))
            return FLOW_ERROR;
        bool t;
        SlValue *cond = eval_quick(c, n->a);
        if (!cond || !truth(c, n->a, cond, &t))
            return FLOW_ERROR;
        sl_unref(cond);
        if (!t)
            return FLOW_NORMAL;
        bool done;
        Flow f = loop_body(c, n->b, &done);
        if (done)
            return f;
    }
}

static Flow exec_if(Ctx *c, const SlAst *n)
{
    bool t;
    SlValue *cond = eval_quick(c, n->a);
    if (!cond || !truth(c, n->a, cond, &t))
        return FLOW_ERROR;
    sl_unref(cond);
    if (t)
        return exec_block(c, n->b);
    if (!n->c)
        return FLOW_NORMAL;
    return n->c->kind == SL_AST_IF ? exec_if(c, n->c) : exec_block(c, n->c);
}

void sl_print_result(SlSession *s, SlValue *v)
{
    if (v->kind == SL_NONE)
        return;
    SlBuf b = {0};
    if (v->kind == SL_STR && v->tag == SL_TAG_RAW)
        sl_str(&b, v); /* latex()'s text, as written */
    else
        sl_repr(&b, v);
    fwrite(b.s, 1, b.len, s->out);
    fputc('\n', s->out);
    sl_buf_free(&b);
}

static Flow exec(Ctx *c, const SlAst *n)
{
    switch (n->kind) {
    case SL_AST_EXPR: {
        SlValue *v = eval_quick(c, n->a);
        if (!v)
            return FLOW_ERROR;
        if (c->top && !n->ival)
            sl_print_result(c->s, v);
        sl_unref(v);
        return FLOW_NORMAL;
    }
    case SL_AST_ASSIGN: return exec_assign(c, n);
    case SL_AST_FUNCDEF:
    case SL_AST_DEF:
    case SL_AST_OPTIMIZER: return exec_define(c, n);
    case SL_AST_STATE:
        if (!c->in_optimizer) {
            sl_err_at(c->err, c->src, n->loc, SL_E_OUTSIDE, "state", "an optimizer body");
            return FLOW_ERROR;
        }
        return FLOW_NORMAL;
    case SL_AST_RETURN:
        if (!c->in_func) {
            sl_err_at(c->err, c->src, n->loc, SL_E_OUTSIDE, "return", "function");
            return FLOW_ERROR;
        }
        if (n->a) {
            c->retval = eval_quick(c, n->a);
            if (!c->retval)
                return FLOW_ERROR;
        } else {
            c->retval = SL_NONE_V;
        }
        return FLOW_RETURN;
    case SL_AST_BREAK:
    case SL_AST_CONTINUE:
        if (!c->loops) {
            sl_err_at(c->err, c->src, n->loc, SL_E_OUTSIDE, n->kind == SL_AST_BREAK ? "break" : "continue",
                      "loop");
            return FLOW_ERROR;
        }
        return n->kind == SL_AST_BREAK ? FLOW_BREAK : FLOW_CONTINUE;
    case SL_AST_IF: return exec_if(c, n);
    case SL_AST_WHILE: return exec_while(c, n);
    case SL_AST_FOR: return exec_for(c, n);
    case SL_AST_NOGRAD: {
        sl_no_grad_depth++;
        Flow f = exec_block(c, n->a);
        sl_no_grad_depth--;
        return f;
    }
    case SL_AST_BLOCK: return exec_block(c, n);
    case SL_AST_PASS: return FLOW_NORMAL;
    case SL_AST_COMMAND: {
        /* a command may change anything (precision, the seed, names): a
         * capture cannot stand for it, and a plan must not outlive it */
        if (sl_cap_on)
            sl_capture_fail("it runs a :command");
        sl_struct_gen++;
        SlRunStatus st = sl_command_run(c->s, n, c->src, c->err);
        if (st == SL_RUN_ERROR) {
            sl_err_locate(c->err, c->src, n->loc);
            return FLOW_ERROR;
        }
        if (st == SL_RUN_QUIT) {
            c->retval = NULL;
            return FLOW_RETURN; /* the top level turns this into quit */
        }
        return FLOW_NORMAL;
    }
    default:
        /* a bare expression node where a statement was expected */
        {
            SlValue *v = eval(c, n);
            if (!v)
                return FLOW_ERROR;
            if (c->top)
                sl_print_result(c->s, v);
            sl_unref(v);
            return FLOW_NORMAL;
        }
    }
}

static Flow exec_block(Ctx *c, const SlAst *block)
{
    bool top = c->top;
    c->top = false;
    Flow f = FLOW_NORMAL;
    for (size_t i = 0; i < block->nitems; i++) {
        f = exec(c, block->items[i]);
        if (f != FLOW_NORMAL)
            break;
    }
    c->top = top;
    return f;
}

SlValue *sl_iter_list(SlValue *v, SlError *err)
{
    if (v->kind == SL_OBJECT && v->u.obj.type->iter)
        return v->u.obj.type->iter(v, err);
    if (v->kind == SL_LIST || v->kind == SL_TUPLE) {
        SlValue *r = sl_list_new(v->u.list.len);
        for (size_t i = 0; i < v->u.list.len; i++)
            sl_list_push(r, v->u.list.items[i]);
        return r;
    }
    if (v->kind == SL_STR) {
        SlValue *r = sl_list_new(v->u.str.len);
        const unsigned char *s = (const unsigned char *)v->u.str.s;
        size_t i = 0;
        while (i < v->u.str.len) {
            size_t n = 1;
            while (i + n < v->u.str.len && (s[i + n] & 0xC0) == 0x80)
                n++;
            sl_list_push_take(r, sl_str_new(v->u.str.s + i, n));
            i += n;
        }
        return r;
    }
    return sl_err(err, SL_E_TYPE, "'%s' object is not iterable", sl_type_name(v)), NULL;
}

/* ---------------------------------------------------------------------------
 * Printing user functions: f(x) = x² + x − 6
 * ------------------------------------------------------------------------- */

char *sl_ast_source_text(const SlSource *src, const SlAst *n)
{
    /* walk lines/columns to byte offsets */
    const char *t = src->text;
    int line = src->first_line;
    size_t i = 0, start = 0, end = src->len;
    bool got_start = false;
    int col = 1;
    while (i <= src->len) {
        if (!got_start && line == n->loc.first_line && col == n->loc.first_column) {
            start = i;
            got_start = true;
        }
        if (line == n->loc.last_line && col == n->loc.last_column) {
            end = i;
            break;
        }
        if (i == src->len)
            break;
        if (t[i] == '\n') {
            line++;
            col = 1;
            i++;
            continue;
        }
        i++;
        while (i < src->len && ((unsigned char)t[i] & 0xC0) == 0x80)
            i++;
        col++;
    }
    if (end < start)
        end = start;
    char *s = malloc(end - start + 1);
    if (!s)
        abort();
    memcpy(s, t + start, end - start);
    s[end - start] = '\0';
    return s;
}

static SlSession *print_session; /* the session printing a function (single-threaded) */

static void func_print(SlBuf *out, const SlFunc *f)
{
    const SlAst *d = f->def;
    if (!d) {
        /* f'(x) = its symbolic derivative, or a description when there is none */
        const char *names[1] = {"x"};
        sl_ad_params(f->parent, names, 1);
        SlError err = {0};
        SlValue *self = sl_func_value(sl_func_ref((SlFunc *)f));
        SlExpr *e = print_session ? sl_ad_symbolic(print_session, self, &err) : NULL;
        sl_unref(self);
        if (e) {
            sl_buf_printf(out, "%s(%s) = ", f->name, names[0]);
            sl_expr_print(out, e, sl_expr_style());
            sl_expr_unref(e);
        } else {
            sl_buf_printf(out, "<derivative %s(%s)>", f->name, names[0]);
        }
        sl_err_clear(&err);
        return;
    }
    if (d->kind != SL_AST_FUNCDEF || !print_session) {
        sl_buf_printf(out, "<%s %s(", d->kind == SL_AST_OPTIMIZER ? "optimizer" : "function", f->name);
        for (size_t i = 0; i < d->nparams; i++)
            sl_buf_printf(out, "%s%s", i ? ", " : "", d->params[i].name);
        sl_buf_puts(out, ")>");
        return;
    }
    /* Evaluate the body with the parameters as symbols. */
    SlScope locals;
    sl_scope_init(&locals);
    for (size_t i = 0; i < d->nparams; i++) {
        SlValue *sym = sl_expr_value(sl_expr_sym(d->params[i].name));
        sl_scope_set(&locals, d->params[i].name, sym);
        sl_unref(sym);
    }
    SlError err = {0};
    Ctx c = {.s = print_session, .locals = &locals, .src = f->src, .err = &err, .in_func = true};
    SlValue *body = eval(&c, d->a);
    sl_buf_printf(out, "%s(", f->name);
    for (size_t i = 0; i < d->nparams; i++) {
        sl_buf_printf(out, "%s%s", i ? ", " : "", d->params[i].name);
        if (f->defaults && f->defaults[i]) {
            sl_buf_putc(out, '=');
            sl_repr(out, f->defaults[i]);
        }
    }
    sl_buf_puts(out, ") = ");
    if (body) {
        sl_repr(out, body);
        sl_unref(body);
    } else {
        char *text = sl_ast_source_text(f->src, d->a);
        sl_buf_puts(out, text);
        free(text);
    }
    sl_err_clear(&err);
    sl_scope_free(&locals);
}

/* ---------------------------------------------------------------------------
 * The session
 * ------------------------------------------------------------------------- */

SlSession *sl_session_new(void)
{
    SlSession *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    sl_scope_init(&s->globals);
    s->out = stdout;
    s->errout = stderr;
    s->mode = SL_MODE_INTERACTIVE;
    /* precision and style are process-wide: a new session starts from the
     * defaults (each transcript file replays in a fresh session) */
    sl_num_set_prec(53);
    sl_expr_set_style(SL_STYLE_UNICODE);
    sl_func_print_hook = func_print;
    print_session = s;
    return s;
}

void sl_session_free(SlSession *s)
{
    if (!s)
        return;
    sl_scope_free(&s->globals);
    if (print_session == s)
        print_session = NULL;
    free(s);
}

void sl_session_set_output(SlSession *s, FILE *out, FILE *errout)
{
    s->out = out;
    s->errout = errout;
}

void sl_session_set_mode(SlSession *s, SlMode mode) { s->mode = mode; }

SlValue *sl_session_get(SlSession *s, const char *name)
{
    SlValue *v = sl_scope_get(&s->globals, name);
    return v ? sl_ref(v) : NULL;
}

void sl_session_each_name(SlSession *s, void (*fn)(const char *name, const char *kind, void *data), void *data)
{
    for (size_t i = 0; i < s->globals.len; i++) {
        const SlVar *v = &s->globals.vars[i];
        if (v->name)
            fn(v->name, v->value->kind == SL_FUNC ? "function" : "variable", data);
    }
}

static void report(SlSession *s, SlError *err)
{
    fflush(s->out);
    sl_err_print(err, s->errout);
    fflush(s->errout);
    sl_err_clear(err);
}

SlRunStatus sl_session_exec(SlSession *s, SlSource *src, bool final)
{
    SlError err = {0};
    SlAst *block = NULL;
    SlParseStatus ps = final ? sl_parse_final(src, &block, &err) : sl_parse(src, &block, &err);
    if (ps == SL_PARSE_INCOMPLETE)
        return SL_RUN_INCOMPLETE;
    if (ps == SL_PARSE_ERROR) {
        report(s, &err);
        return SL_RUN_ERROR;
    }
    SlRunStatus status = SL_RUN_OK;
    for (size_t i = 0; i < block->nitems; i++) {
        Ctx c = {.s = s, .src = src, .err = &err, .top = true};
        Flow f = exec(&c, block->items[i]);
        fflush(s->out);
        if (f == FLOW_ERROR) {
            /* the rest of the chunk does not run: at the prompt the chunk is
             * one entry, in a script it is the whole file */
            report(s, &err);
            sl_interrupted = 0;
            return SL_RUN_ERROR;
        }
        if (f == FLOW_RETURN) { /* :quit */
            sl_unref(c.retval);
            return status == SL_RUN_OK ? SL_RUN_QUIT : status;
        }
    }
    return status;
}

SlRunStatus sl_session_exec_text(SlSession *s, const char *name, const char *text, int first_line, bool final)
{
    SlSource *src = sl_source_new(name, text, strlen(text), first_line);
    SlRunStatus st = sl_session_exec(s, src, final);
    sl_source_unref(src);
    return st;
}

SlRunStatus sl_session_exec_file(SlSession *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        SlError err = {0};
        sl_err(&err, SL_E_IO, path, strerror(errno));
        report(s, &err);
        return SL_RUN_ERROR;
    }
    SlBuf b = {0};
    sl_buf_init(&b);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sl_buf_add(&b, chunk, n);
    fclose(f);
    SlMode mode = s->mode;
    s->mode = SL_MODE_SCRIPT;
    SlSource *src = sl_source_new(path, b.s, b.len, 1);
    sl_buf_free(&b);
    SlRunStatus st = sl_session_exec(s, src, true);
    sl_source_unref(src);
    s->mode = mode;
    return st;
}
