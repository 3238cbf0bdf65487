/* expr.c -- the hash-consed expression DAG.
 *
 * Four parts, in this order:
 *   1. the node table (hash-consing, reference counts, iterative freeing);
 *   2. Num, the numbers the constructors fold and subs evaluates with:
 *      an exact rational or an SL_FLOAT value, with Python's semantics
 *      borrowed from num.c for every float operation;
 *   3. the constructors and their light canonicalisation;
 *   4. walks over the DAG (free symbols, substitution, evaluation) and the
 *      printer.  Every walk uses an explicit stack: nothing here recurses on
 *      the depth of an expression, so a chain of a million nodes is built,
 *      evaluated, printed and freed on a small C stack.
 *
 * Decisions beyond expr.h (see also the comments at each rule):
 *   - 0·x is 0 and 0.0·x is 0.0 (the folded coefficient annihilates; the
 *     float case ignores x = inf/nan, as CAS packages do).  x + 0 drops the
 *     exact 0; x + 0.0 keeps the float 0.0 (it makes the result a float).
 *   - The numeric constant of a sum is folded in argument order and goes
 *     last; the coefficient of a product goes first.
 *   - (b^r)^n = b^(r·n) for an exact rational r and an integer n, so that
 *     1/x² (POW(POW(x, 2), -1)) is the same node as x^-2.
 *   - a / b for a float b and a symbolic a is MUL(a, POW(b, -1)) with the
 *     power left unfolded, so that evaluation divides as Python does.
 *   - Functions fold on exact arguments only where the value is exact:
 *     abs sign floor ceil round min max relu, and the identities sin(0) = 0,
 *     cos(0) = 1, exp(0) = 1, log(1) = 0 (and their kin), sigmoid(0) = 1/2,
 *     sin(π) = 0, cos(π) = -1, log(e) = 1.  A float argument folds through
 *     sl_num_apply unless it fails (then the call stays symbolic).
 */
#include "expr.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

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

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

/* A growable array of node pointers. */
typedef struct Vec {
    SlExpr **v;  /* items */
    size_t n;    /* used */
    size_t cap;  /* allocated */
} Vec;

static void vec_push(Vec *a, SlExpr *e)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = e;
}

/* A set / map keyed by node address (open addressing, linear probing). */
typedef struct PMap {
    const void **keys; /* NULL = empty slot */
    size_t *vals;      /* payload per key */
    size_t cap;        /* slots (power of two) */
    size_t count;      /* keys stored */
} PMap;

static size_t pslot(const PMap *m, const void *k)
{
    uint64_t h = ((uint64_t)(uintptr_t)k >> 4) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 20) & (m->cap - 1);
}

static size_t pmap_get(const PMap *m, const void *k)
{
    if (!m->cap)
        return SIZE_MAX;
    for (size_t i = pslot(m, k);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return SIZE_MAX;
        if (m->keys[i] == k)
            return m->vals[i];
    }
}

static void pmap_put(PMap *m, const void *k, size_t val)
{
    if (2 * (m->count + 1) > m->cap) {
        PMap g = {NULL, NULL, m->cap ? m->cap * 2 : 64, 0};
        g.keys = xmalloc(g.cap * sizeof *g.keys);
        g.vals = xmalloc(g.cap * sizeof *g.vals);
        memset(g.keys, 0, g.cap * sizeof *g.keys);
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i])
                pmap_put(&g, m->keys[i], m->vals[i]);
        free(m->keys);
        free(m->vals);
        *m = g;
    }
    size_t i = pslot(m, k);
    while (m->keys[i] && m->keys[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->count++;
    m->keys[i] = k;
    m->vals[i] = val;
}

static void pmap_free(PMap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* The public pointer map of expr.h (same scheme, void * payloads). */
static size_t mslot(const SlExprMap *m, const SlExpr *k)
{
    uint64_t h = ((uint64_t)(uintptr_t)k >> 4) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 20) & (m->cap - 1);
}

void *sl_expr_map_get(const SlExprMap *m, const SlExpr *k)
{
    if (!m->cap)
        return NULL;
    for (size_t i = mslot(m, k);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return NULL;
        if (m->keys[i] == k)
            return m->vals[i];
    }
}

void sl_expr_map_put(SlExprMap *m, const SlExpr *k, void *val)
{
    if (2 * (m->count + 1) > m->cap) {
        SlExprMap g = {NULL, NULL, m->cap ? m->cap * 2 : 64, 0};
        g.keys = xmalloc(g.cap * sizeof *g.keys);
        g.vals = xmalloc(g.cap * sizeof *g.vals);
        memset(g.keys, 0, g.cap * sizeof *g.keys);
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i])
                sl_expr_map_put(&g, m->keys[i], m->vals[i]);
        free(m->keys);
        free(m->vals);
        *m = g;
    }
    size_t i = mslot(m, k);
    while (m->keys[i] && m->keys[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->count++;
    m->keys[i] = k;
    m->vals[i] = val;
}

void sl_expr_map_free(SlExprMap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ===========================================================================
 * 1. The node table
 * ======================================================================== */

static struct {
    SlExpr **b;   /* buckets, chained through SlExpr.next */
    size_t size;  /* number of buckets: 0 or a power of two */
    size_t count; /* live nodes */
} tab;

/* What a node is made of, before it exists. */
typedef struct Key {
    SlExprKind kind;      /* node kind */
    int small;            /* cid (CONST) or fn (FN) */
    const char *name;     /* SYM */
    mpq_srcptr q;         /* RAT (canonical) */
    mpfr_srcptr f;        /* FLT */
    SlExpr *const *args;  /* children (ADD MUL POW FN) */
    size_t nargs;         /* their number */
} Key;

static unsigned long mix(unsigned long h, unsigned long v)
{
    return h ^ (v + (unsigned long)0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2));
}

static unsigned long hash_mpz(unsigned long h, mpz_srcptr z)
{
    h = mix(h, (unsigned long)(mpz_sgn(z) + 1));
    size_t n = mpz_size(z);
    for (size_t i = 0; i < n; i++)
        h = mix(h, (unsigned long)mpz_getlimbn(z, (mp_size_t)i));
    return h;
}

static unsigned long hash_key(const Key *k)
{
    unsigned long h = mix(0x51ED270BUL, (unsigned long)k->kind);
    switch (k->kind) {
    case SL_EX_RAT:
        h = hash_mpz(h, mpq_numref(k->q));
        h = hash_mpz(h, mpq_denref(k->q));
        break;
    case SL_EX_FLT:
        h = mix(h, (unsigned long)mpfr_get_prec(k->f));
        if (mpfr_nan_p(k->f))
            return mix(h, 7);
        h = mix(h, (unsigned long)(mpfr_signbit(k->f) ? 1 : 2));
        if (mpfr_inf_p(k->f))
            return mix(h, 3);
        if (mpfr_zero_p(k->f))
            return mix(h, 4);
        h = mix(h, (unsigned long)mpfr_get_exp(k->f));
        {
            const unsigned char *p = mpfr_custom_get_significand(k->f);
            size_t n = mpfr_custom_get_size(mpfr_get_prec(k->f));
            for (size_t i = 0; i < n; i++)
                h = mix(h, p[i]);
        }
        break;
    case SL_EX_CONST:
    case SL_EX_FN: h = mix(h, (unsigned long)k->small); break;
    case SL_EX_SYM:
        for (const unsigned char *s = (const unsigned char *)k->name; *s; s++)
            h = mix(h, *s);
        break;
    default: break;
    }
    h = mix(h, (unsigned long)k->nargs);
    for (size_t i = 0; i < k->nargs; i++)
        h = mix(h, k->args[i]->hash);
    return h;
}

static bool flt_same(mpfr_srcptr a, mpfr_srcptr b)
{
    if (mpfr_get_prec(a) != mpfr_get_prec(b))
        return false;
    if (mpfr_nan_p(a) || mpfr_nan_p(b))
        return mpfr_nan_p(a) && mpfr_nan_p(b);
    return mpfr_equal_p(a, b) && !mpfr_signbit(a) == !mpfr_signbit(b);
}

static bool key_eq(const SlExpr *n, const Key *k)
{
    if (n->kind != k->kind || n->nargs != k->nargs)
        return false;
    switch (k->kind) {
    case SL_EX_RAT:
        if (!mpq_equal(n->u.q, k->q))
            return false;
        break;
    case SL_EX_FLT:
        if (!flt_same(n->u.f, k->f))
            return false;
        break;
    case SL_EX_CONST: if (n->u.cid != k->small) return false; break;
    case SL_EX_FN: if (n->u.fn != k->small) return false; break;
    case SL_EX_SYM: if (strcmp(n->u.name, k->name) != 0) return false; break;
    default: break;
    }
    for (size_t i = 0; i < k->nargs; i++)
        if (n->args[i] != k->args[i])
            return false;
    return true;
}

static void tab_grow(void)
{
    size_t size = tab.size ? tab.size * 2 : 1024;
    SlExpr **b = xmalloc(size * sizeof *b);
    memset(b, 0, size * sizeof *b);
    for (size_t i = 0; i < tab.size; i++) {
        SlExpr *n = tab.b[i];
        while (n) {
            SlExpr *next = n->next;
            size_t j = n->hash & (size - 1);
            n->next = b[j];
            b[j] = n;
            n = next;
        }
    }
    free(tab.b);
    tab.b = b;
    tab.size = size;
}

/* The node for k: an existing one with a new reference, or a new node that
 * takes references to its children and copies its payload. */
static SlExpr *intern(const Key *k)
{
    unsigned long h = hash_key(k);
    if (tab.size)
        for (SlExpr *n = tab.b[h & (tab.size - 1)]; n; n = n->next)
            if (n->hash == h && key_eq(n, k))
                return sl_expr_ref(n);
    if (tab.count >= tab.size)
        tab_grow();
    SlExpr *n = xmalloc(sizeof *n + k->nargs * sizeof(SlExpr *));
    memset(n, 0, sizeof *n);
    n->refs = 1;
    n->kind = k->kind;
    n->hash = h;
    n->nargs = k->nargs;
    n->args = k->nargs ? (SlExpr **)(n + 1) : NULL;
    for (size_t i = 0; i < k->nargs; i++) {
        n->args[i] = k->args[i];
        k->args[i]->refs++;
    }
    switch (k->kind) {
    case SL_EX_RAT:
        mpq_init(n->u.q);
        mpq_set(n->u.q, k->q);
        break;
    case SL_EX_FLT:
        mpfr_init2(n->u.f, mpfr_get_prec(k->f));
        mpfr_set(n->u.f, k->f, MPFR_RNDN);
        break;
    case SL_EX_CONST: n->u.cid = k->small; break;
    case SL_EX_FN: n->u.fn = k->small; break;
    case SL_EX_SYM: n->u.name = xstrdup(k->name); break;
    default: break;
    }
    size_t j = h & (tab.size - 1);
    n->next = tab.b[j];
    tab.b[j] = n;
    tab.count++;
    return n;
}

static void destroy_payload(SlExpr *n)
{
    switch (n->kind) {
    case SL_EX_RAT: mpq_clear(n->u.q); break;
    case SL_EX_FLT: mpfr_clear(n->u.f); break;
    case SL_EX_SYM: free((char *)n->u.name); break;
    default: break;
    }
    free(n);
}

static void tab_unlink(SlExpr *n)
{
    SlExpr **p = &tab.b[n->hash & (tab.size - 1)];
    while (*p != n)
        p = &(*p)->next;
    *p = n->next;
    tab.count--;
}

SlExpr *sl_expr_ref(SlExpr *e)
{
    if (e)
        e->refs++;
    return e;
}

void sl_expr_unref(SlExpr *e)
{
    if (!e)
        return;
    assert(e->refs > 0);
    if (--e->refs > 0)
        return;
    /* Free iteratively: dead children go on a work stack. */
    SlExpr *local[64], **stack = local;
    size_t n = 0, cap = 64;
    for (;;) {
        tab_unlink(e);
        for (size_t i = 0; i < e->nargs; i++) {
            SlExpr *c = e->args[i];
            if (--c->refs == 0) {
                if (n == cap) {
                    cap *= 2;
                    if (stack == local) {
                        stack = xmalloc(cap * sizeof *stack);
                        memcpy(stack, local, sizeof local);
                    } else {
                        stack = xrealloc(stack, cap * sizeof *stack);
                    }
                }
                stack[n++] = c;
            }
        }
        destroy_payload(e);
        if (!n)
            break;
        e = stack[--n];
    }
    if (stack != local)
        free(stack);
}

size_t sl_expr_live_count(void) { return tab.count; }

void sl_expr_shutdown(void)
{
    for (size_t i = 0; i < tab.size; i++) {
        SlExpr *n = tab.b[i];
        while (n) {
            SlExpr *next = n->next;
            destroy_payload(n);
            n = next;
        }
    }
    free(tab.b);
    tab.b = NULL;
    tab.size = tab.count = 0;
}

/* ---- leaves ---- */

/* The first byte of a placeholder symbol's name (see sl_expr_placeholder). */
#define PLACEHOLDER '\x01'

SlExpr *sl_expr_placeholder(const char *text)
{
    size_t n = strlen(text);
    char *name = xmalloc(n + 2);
    name[0] = PLACEHOLDER;
    memcpy(name + 1, text, n + 1);
    SlExpr *e = sl_expr_sym(name);
    free(name);
    return e;
}

bool sl_expr_is_placeholder(const SlExpr *e) { return e->kind == SL_EX_SYM && e->u.name[0] == PLACEHOLDER; }

SlExpr *sl_expr_sym(const char *name)
{
    Key k = {.kind = SL_EX_SYM, .name = name};
    return intern(&k);
}

SlExpr *sl_expr_rat(const mpq_t q)
{
    mpq_t c;
    mpq_init(c);
    /* mpq_set assumes a canonical source; copy the parts (q may have a
     * negative denominator; a zero one, a caller bug, is taken as 1) */
    mpz_set(mpq_numref(c), mpq_numref(q));
    mpz_set(mpq_denref(c), mpq_denref(q));
    if (mpz_sgn(mpq_denref(c)) == 0)
        mpz_set_ui(mpq_denref(c), 1);
    mpq_canonicalize(c);
    Key k = {.kind = SL_EX_RAT, .q = c};
    SlExpr *e = intern(&k);
    mpq_clear(c);
    return e;
}

SlExpr *sl_expr_int(long n)
{
    mpq_t q;
    mpq_init(q);
    mpq_set_si(q, n, 1);
    Key k = {.kind = SL_EX_RAT, .q = q};
    SlExpr *e = intern(&k);
    mpq_clear(q);
    return e;
}

static SlExpr *rat_z(mpz_srcptr z)
{
    mpq_t q;
    mpq_init(q);
    mpq_set_z(q, z);
    Key k = {.kind = SL_EX_RAT, .q = q};
    SlExpr *e = intern(&k);
    mpq_clear(q);
    return e;
}

SlExpr *sl_expr_flt(const mpfr_t f)
{
    Key k = {.kind = SL_EX_FLT, .f = f};
    return intern(&k);
}

SlExpr *sl_expr_const(SlExprConst c)
{
    Key k = {.kind = SL_EX_CONST, .small = (int)c};
    return intern(&k);
}

SlExpr *sl_expr_from_value(const SlValue *v)
{
    switch (v->kind) {
    case SL_BOOL: return sl_expr_int(v->u.b ? 1 : 0);
    case SL_INT: return rat_z(v->u.z);
    case SL_FLOAT:
        if (v->tag == SL_TAG_PI)
            return sl_expr_const(SL_CONST_PI);
        if (v->tag == SL_TAG_E)
            return sl_expr_const(SL_CONST_E);
        return sl_expr_flt(v->u.f);
    default: return NULL;
    }
}

SlExpr *sl_expr_find_nary(SlExprKind kind, SlExpr *const *args, size_t nargs)
{
    if (nargs == 1 && (kind == SL_EX_ADD || kind == SL_EX_MUL))
        return args[0];
    Key k = {.kind = kind, .args = args, .nargs = nargs};
    unsigned long h = hash_key(&k);
    if (tab.size)
        for (SlExpr *n = tab.b[h & (tab.size - 1)]; n; n = n->next)
            if (n->hash == h && key_eq(n, &k))
                return n;
    return NULL;
}

/* A raw interior node: no canonicalisation at all. */
static SlExpr *mk(SlExprKind kind, int small, SlExpr *const *args, size_t nargs)
{
    Key k = {.kind = kind, .small = small, .args = args, .nargs = nargs};
    return intern(&k);
}

bool sl_expr_is_number(const SlExpr *e) { return e->kind == SL_EX_RAT || e->kind == SL_EX_FLT; }

bool sl_expr_is_int(const SlExpr *e, long v)
{
    return e->kind == SL_EX_RAT && mpz_cmp_ui(mpq_denref(e->u.q), 1) == 0 && mpz_cmp_si(mpq_numref(e->u.q), v) == 0;
}

static bool rat_integral(const SlExpr *e)
{
    return e->kind == SL_EX_RAT && mpz_cmp_ui(mpq_denref(e->u.q), 1) == 0;
}

static bool rat_neg(const SlExpr *e) { return e->kind == SL_EX_RAT && mpq_sgn(e->u.q) < 0; }

/* ===========================================================================
 * 2. Numbers: exact rationals and floats
 * ======================================================================== */

typedef struct Num {
    SlValue *f; /* the value when it is a float (SL_FLOAT, owned), else NULL */
    mpq_t q;    /* the exact value when f is NULL */
} Num;

static void num_init(Num *n)
{
    n->f = NULL;
    mpq_init(n->q);
}

static void num_clear(Num *n)
{
    sl_unref(n->f);
    n->f = NULL;
    mpq_clear(n->q);
}

static void num_copy(Num *d, const Num *s)
{
    sl_unref(d->f);
    d->f = sl_ref(s->f);
    mpq_set(d->q, s->q);
}

static void num_set_si(Num *n, long v)
{
    sl_unref(n->f);
    n->f = NULL;
    mpq_set_si(n->q, v, 1);
}

static SlValue *float_of_mpfr(mpfr_srcptr x)
{
    SlValue *v = sl_float_new(mpfr_get_prec(x));
    mpfr_set(v->u.f, x, MPFR_RNDN);
    return v;
}

/* n = the constant node e (RAT or FLT). */
static void num_set_node(Num *n, const SlExpr *e)
{
    sl_unref(n->f);
    n->f = NULL;
    if (e->kind == SL_EX_RAT)
        mpq_set(n->q, e->u.q);
    else
        n->f = float_of_mpfr(e->u.f);
}

/* Takes over a number value (consumed): ints and bools are exact. */
static void num_take(Num *n, SlValue *v)
{
    sl_unref(n->f);
    n->f = NULL;
    if (v->kind == SL_FLOAT) {
        n->f = v;
        return;
    }
    if (v->kind == SL_INT)
        mpq_set_z(n->q, v->u.z);
    else
        mpq_set_si(n->q, v->kind == SL_BOOL && v->u.b ? 1 : 0, 1);
    sl_unref(v);
}

static bool num_integral(const Num *n) { return !n->f && mpz_cmp_ui(mpq_denref(n->q), 1) == 0; }

/* As a value for num.c: an int when integral, else a float at the session
 * precision (which is what Python would have had: 1/3 is a float there). */
static SlValue *num_value(const Num *n)
{
    if (n->f)
        return sl_ref(n->f);
    if (num_integral(n))
        return sl_int_z(mpq_numref(n->q));
    SlValue *v = sl_float_new(sl_num_prec());
    mpfr_set_q(v->u.f, n->q, MPFR_RNDN);
    return v;
}

static SlExpr *num_node(const Num *n)
{
    if (n->f)
        return sl_expr_flt(n->f->u.f);
    Key k = {.kind = SL_EX_RAT, .q = n->q};
    return intern(&k);
}

static bool num_zero(const Num *n) { return n->f ? mpfr_zero_p(n->f->u.f) != 0 : mpq_sgn(n->q) == 0; }
static bool num_exact_is(const Num *n, long v) { return !n->f && mpq_cmp_si(n->q, v, 1) == 0; }

/* r = a op b for op in SL_OP_ADD SUB MUL DIV.  r may alias a or b. */
static bool num_arith(int op, Num *r, const Num *a, const Num *b, SlError *err)
{
    if (!a->f && !b->f) {
        switch (op) {
        case SL_OP_ADD: mpq_add(r->q, a->q, b->q); break;
        case SL_OP_SUB: mpq_sub(r->q, a->q, b->q); break;
        case SL_OP_MUL: mpq_mul(r->q, a->q, b->q); break;
        default:
            if (mpq_sgn(b->q) == 0)
                return sl_err(err, SL_E_ZERODIV, "division by zero");
            mpq_div(r->q, a->q, b->q);
            break;
        }
        return true;
    }
    SlValue *x = num_value(a), *y = num_value(b);
    SlValue *v = sl_num_binop(op, x, y, err);
    sl_unref(x);
    sl_unref(y);
    if (!v)
        return false;
    num_take(r, v);
    return true;
}

/* Size limits for exact powers, in bits of the result: the constructors fold
 * only small results; evaluation goes further, then falls back to floats
 * (what Python computes for int ** negative and float ** int). */
#define FOLD_BITS 100000UL
#define EVAL_BITS (1UL << 24)

/* r = a ^ b.  Returns 1 when done, 0 on an error (in err), and -1 when
 * folding (build) declines: the power then stays symbolic. */
static int num_pow(Num *r, const Num *a, const Num *b, bool build, SlError *err)
{
    if (!a->f && !b->f) {
        if (num_integral(b)) {
            mpz_srcptr ez = mpq_numref(b->q);
            if (mpz_sgn(ez) == 0) {
                num_set_si(r, 1);
                return 1;
            }
            if (mpz_sgn(mpq_numref(a->q)) == 0 && mpz_sgn(ez) > 0) {
                num_set_si(r, 0);
                return 1;
            }
            if (num_exact_is(a, 1)) {
                num_set_si(r, 1);
                return 1;
            }
            bool small = mpz_sizeinbase(ez, 2) <= 62 && mpz_sgn(mpq_numref(a->q)) != 0;
            unsigned long n = small ? mpz_get_ui(ez) : 0; /* |exponent| */
            size_t bits = mpz_sizeinbase(mpq_numref(a->q), 2) + mpz_sizeinbase(mpq_denref(a->q), 2);
            bool fits = small && n <= (build ? FOLD_BITS : EVAL_BITS) / bits;
            if (build && !fits)
                return -1;
            if (!build && num_integral(a) && mpz_sgn(ez) > 0)
                goto via_num; /* int ** positive int: num.c's exact power */
            if (fits) {
                mpz_t p, q;
                mpz_init(p);
                mpz_init(q);
                mpz_pow_ui(p, mpq_numref(a->q), n);
                mpz_pow_ui(q, mpq_denref(a->q), n);
                sl_unref(r->f);
                r->f = NULL;
                if (mpz_sgn(ez) > 0) {
                    mpz_set(mpq_numref(r->q), p);
                    mpz_set(mpq_denref(r->q), q);
                } else {
                    mpz_set(mpq_numref(r->q), q);
                    mpz_set(mpq_denref(r->q), p);
                }
                mpq_canonicalize(r->q);
                mpz_clear(p);
                mpz_clear(q);
                return 1;
            }
            goto via_num;
        }
        if (build) {
            /* An exact root: 4^(1/2) = 2, (8/27)^(2/3) = 4/9. */
            if (mpq_sgn(a->q) <= 0 || !mpz_fits_ulong_p(mpq_denref(b->q)) || !mpz_fits_slong_p(mpq_numref(b->q)))
                return -1;
            unsigned long k = mpz_get_ui(mpq_denref(b->q));
            mpz_t p, q;
            mpz_init(p);
            mpz_init(q);
            bool exact = k <= 1000000 && mpz_root(p, mpq_numref(a->q), k) && mpz_root(q, mpq_denref(a->q), k);
            int res = -1;
            if (exact) {
                Num base, e;
                num_init(&base);
                num_init(&e);
                mpz_set(mpq_numref(base.q), p);
                mpz_set(mpq_denref(base.q), q);
                mpq_canonicalize(base.q);
                mpq_set_z(e.q, mpq_numref(b->q));
                res = num_pow(r, &base, &e, true, err);
                num_clear(&base);
                num_clear(&e);
            }
            mpz_clear(p);
            mpz_clear(q);
            return res;
        }
    }
via_num:;
    SlError local = {0};
    SlValue *x = num_value(a), *y = num_value(b);
    SlValue *v = sl_num_binop(SL_OP_POW, x, y, build ? &local : err);
    sl_unref(x);
    sl_unref(y);
    if (!v) {
        if (build) {
            sl_err_clear(&local);
            return -1;
        }
        return 0;
    }
    if (build && v->kind == SL_INT && mpz_sizeinbase(v->u.z, 2) > FOLD_BITS) {
        sl_unref(v);
        return -1;
    }
    num_take(r, v);
    return 1;
}

/* Exact values of functions at exact rationals, where they are exact.
 * Returns false when fn has no exact rule. */
static bool fn_exact(SlMathFn fn, Num *r, const Num *args, size_t n)
{
    mpq_srcptr x = args[0].q;
    switch (fn) {
    case SL_FN_ABS:
        if (n != 1)
            return false;
        mpq_abs(r->q, x);
        return true;
    case SL_FN_SIGN:
        if (n != 1)
            return false;
        mpq_set_si(r->q, mpq_sgn(x), 1);
        return true;
    case SL_FN_HEAVISIDE:
        if (n != 1)
            return false;
        mpq_set_si(r->q, mpq_sgn(x) > 0, 1);
        return true;
    case SL_FN_RELU:
        if (n != 1)
            return false;
        if (mpq_sgn(x) > 0)
            mpq_set(r->q, x);
        else
            mpq_set_si(r->q, 0, 1);
        return true;
    case SL_FN_FLOOR:
    case SL_FN_CEIL:
    case SL_FN_ROUND: {
        if (n != 1)
            return false;
        mpz_t z, rem2;
        mpz_init(z);
        mpz_init(rem2);
        if (fn == SL_FN_CEIL) {
            mpz_cdiv_q(z, mpq_numref(x), mpq_denref(x));
        } else {
            mpz_fdiv_qr(z, rem2, mpq_numref(x), mpq_denref(x));
            if (fn == SL_FN_ROUND) {
                /* compare 2·remainder with the denominator: half to even */
                mpz_mul_2exp(rem2, rem2, 1);
                int c = mpz_cmp(rem2, mpq_denref(x));
                if (c > 0 || (c == 0 && mpz_odd_p(z)))
                    mpz_add_ui(z, z, 1);
            }
        }
        mpq_set_z(r->q, z);
        mpz_clear(z);
        mpz_clear(rem2);
        return true;
    }
    case SL_FN_MIN:
    case SL_FN_MAX: {
        size_t best = 0;
        for (size_t i = 1; i < n; i++) {
            int c = mpq_cmp(args[i].q, args[best].q);
            if (fn == SL_FN_MIN ? c < 0 : c > 0)
                best = i;
        }
        mpq_set(r->q, args[best].q);
        return true;
    }
    default: return false;
    }
}

/* r = fn(args) numerically (evaluation): exact where fn_exact applies,
 * otherwise Python's math through sl_num_apply. */
static bool num_apply(SlMathFn fn, Num *r, const Num *args, size_t n, SlError *err)
{
    bool exact = true;
    for (size_t i = 0; i < n; i++)
        if (args[i].f)
            exact = false;
    if (exact) {
        Num t;
        num_init(&t);
        bool ok = fn_exact(fn, &t, args, n);
        if (ok)
            num_copy(r, &t);
        num_clear(&t);
        if (ok)
            return true;
    }
    SlValue *local[4], **vals = n <= 4 ? local : xmalloc(n * sizeof *vals);
    for (size_t i = 0; i < n; i++)
        vals[i] = num_value(&args[i]);
    SlValue *v = sl_num_apply(fn, vals, (int)n, err);
    for (size_t i = 0; i < n; i++)
        sl_unref(vals[i]);
    if (vals != local)
        free(vals);
    if (!v)
        return false;
    if (v->kind != SL_INT && v->kind != SL_FLOAT && v->kind != SL_BOOL) {
        sl_unref(v);
        return sl_err(err, SL_E_INTERNAL, "math function returned a non-number");
    }
    num_take(r, v);
    return true;
}

/* ===========================================================================
 * 3. Constructors
 * ======================================================================== */

/* Flattened, folded sum of terms (borrowed). */
static SlExpr *build_sum(SlExpr *const *terms, size_t n)
{
    Vec out = {0};
    Num acc, t;
    bool have = false;
    num_init(&acc);
    num_init(&t);
    for (size_t i = 0; i < n; i++) {
        SlExpr *const *part = &terms[i];
        size_t np = 1;
        if (terms[i]->kind == SL_EX_ADD) {
            part = terms[i]->args;
            np = terms[i]->nargs;
        }
        for (size_t j = 0; j < np; j++) {
            SlExpr *c = part[j];
            if (!sl_expr_is_number(c)) {
                vec_push(&out, c);
                continue;
            }
            if (!have) {
                num_set_node(&acc, c);
                have = true;
                continue;
            }
            num_set_node(&t, c);
            SlError err = {0};
            if (!num_arith(SL_OP_ADD, &acc, &acc, &t, &err)) { /* cannot happen: keep the term */
                sl_err_clear(&err);
                vec_push(&out, c);
            }
        }
    }
    SlExpr *r;
    SlExpr *cnode = have && !num_exact_is(&acc, 0) ? num_node(&acc) : NULL;
    if (cnode)
        vec_push(&out, cnode);
    if (out.n == 0)
        r = sl_expr_int(0);
    else if (out.n == 1)
        r = sl_expr_ref(out.v[0]);
    else
        r = mk(SL_EX_ADD, 0, out.v, out.n);
    sl_expr_unref(cnode);
    free(out.v);
    num_clear(&acc);
    num_clear(&t);
    return r;
}

/* Flattened product of factors (borrowed) with one leading coefficient. */
static SlExpr *build_prod(SlExpr *const *factors, size_t n)
{
    Vec out = {0};
    Num acc, t;
    bool have = false;
    num_init(&acc);
    num_init(&t);
    vec_push(&out, NULL); /* room for the coefficient */
    for (size_t i = 0; i < n; i++) {
        SlExpr *const *part = &factors[i];
        size_t np = 1;
        if (factors[i]->kind == SL_EX_MUL) {
            part = factors[i]->args;
            np = factors[i]->nargs;
        }
        for (size_t j = 0; j < np; j++) {
            SlExpr *c = part[j];
            if (!sl_expr_is_number(c)) {
                vec_push(&out, c);
                continue;
            }
            if (!have) {
                num_set_node(&acc, c);
                have = true;
                continue;
            }
            num_set_node(&t, c);
            SlError err = {0};
            if (!num_arith(SL_OP_MUL, &acc, &acc, &t, &err)) {
                sl_err_clear(&err);
                vec_push(&out, c);
            }
        }
    }
    SlExpr *r = NULL;
    if (have && num_zero(&acc)) {
        r = num_node(&acc); /* 0·x = 0, 0.0·x = 0.0 */
    } else {
        SlExpr *cnode = have && !num_exact_is(&acc, 1) ? num_node(&acc) : NULL;
        SlExpr **v = out.v + 1;
        size_t nv = out.n - 1;
        if (cnode) {
            out.v[0] = cnode;
            v = out.v;
            nv = out.n;
        }
        if (nv == 0)
            r = sl_expr_int(1);
        else if (nv == 1)
            r = sl_expr_ref(v[0]);
        else
            r = mk(SL_EX_MUL, 0, v, nv);
        sl_expr_unref(cnode);
    }
    free(out.v);
    num_clear(&acc);
    num_clear(&t);
    return r;
}

SlExpr *sl_expr_add(SlExpr *a, SlExpr *b)
{
    SlExpr *t[2] = {a, b};
    return build_sum(t, 2);
}

SlExpr *sl_expr_mul(SlExpr *a, SlExpr *b)
{
    SlExpr *t[2] = {a, b};
    return build_prod(t, 2);
}

SlExpr *sl_expr_neg(SlExpr *a)
{
    if (a->kind == SL_EX_RAT) {
        mpq_t q;
        mpq_init(q);
        mpq_neg(q, a->u.q);
        Key k = {.kind = SL_EX_RAT, .q = q};
        SlExpr *r = intern(&k);
        mpq_clear(q);
        return r;
    }
    if (a->kind == SL_EX_FLT) {
        mpfr_t f;
        mpfr_init2(f, mpfr_get_prec(a->u.f));
        mpfr_neg(f, a->u.f, MPFR_RNDN);
        SlExpr *r = sl_expr_flt(f);
        mpfr_clear(f);
        return r;
    }
    SlExpr *m1 = sl_expr_int(-1);
    SlExpr *r = sl_expr_mul(m1, a);
    sl_expr_unref(m1);
    return r;
}

SlExpr *sl_expr_sub(SlExpr *a, SlExpr *b)
{
    SlExpr *nb = sl_expr_neg(b);
    SlExpr *r = sl_expr_add(a, nb);
    sl_expr_unref(nb);
    return r;
}

SlExpr *sl_expr_pow(SlExpr *a, SlExpr *b)
{
    SlExpr *tmp = NULL; /* an exponent made while merging (b^r)^n */
    /* (b^r)^n = b^(r·n) for exact rational r and integer n */
    while (a->kind == SL_EX_POW && a->args[1]->kind == SL_EX_RAT && rat_integral(b)) {
        mpq_t q;
        mpq_init(q);
        mpq_mul(q, a->args[1]->u.q, b->u.q);
        Key k = {.kind = SL_EX_RAT, .q = q};
        SlExpr *nb = intern(&k);
        mpq_clear(q);
        a = a->args[0];
        sl_expr_unref(tmp);
        b = tmp = nb;
    }
    SlExpr *r = NULL;
    if (sl_expr_is_number(a) && sl_expr_is_number(b)) {
        Num x, y, z;
        num_init(&x);
        num_init(&y);
        num_init(&z);
        num_set_node(&x, a);
        num_set_node(&y, b);
        if (num_pow(&z, &x, &y, true, NULL) == 1)
            r = num_node(&z);
        num_clear(&x);
        num_clear(&y);
        num_clear(&z);
    }
    if (!r) {
        if (sl_expr_is_int(b, 0))
            r = sl_expr_int(1);
        else if (sl_expr_is_int(b, 1))
            r = sl_expr_ref(a);
        else {
            SlExpr *t[2] = {a, b};
            r = mk(SL_EX_POW, 0, t, 2);
        }
    }
    sl_expr_unref(tmp);
    return r;
}

SlExpr *sl_expr_div_e(SlExpr *a, SlExpr *b, SlError *err)
{
    if (sl_expr_is_number(a) && sl_expr_is_number(b)) {
        Num x, y;
        num_init(&x);
        num_init(&y);
        num_set_node(&x, a);
        num_set_node(&y, b);
        SlExpr *r = num_arith(SL_OP_DIV, &x, &x, &y, err) ? num_node(&x) : NULL;
        num_clear(&x);
        num_clear(&y);
        return r;
    }
    if (b->kind == SL_EX_RAT) {
        if (mpq_sgn(b->u.q) == 0)
            return sl_err(err, SL_E_ZERODIV, "division by zero"), NULL;
        mpq_t q;
        mpq_init(q);
        mpq_inv(q, b->u.q);
        Key k = {.kind = SL_EX_RAT, .q = q};
        SlExpr *inv = intern(&k);
        mpq_clear(q);
        SlExpr *r = sl_expr_mul(a, inv);
        sl_expr_unref(inv);
        return r;
    }
    SlExpr *m1 = sl_expr_int(-1), *inv;
    if (b->kind == SL_EX_FLT) {
        SlExpr *t[2] = {b, m1};
        inv = mk(SL_EX_POW, 0, t, 2); /* unfolded: evaluates as a true division */
    } else {
        inv = sl_expr_pow(b, m1);
    }
    SlExpr *r = sl_expr_mul(a, inv);
    sl_expr_unref(inv);
    sl_expr_unref(m1);
    return r;
}

SlExpr *sl_expr_div(SlExpr *a, SlExpr *b) { return sl_expr_div_e(a, b, NULL); }

/* Exact identities of functions at special points. */
static SlExpr *fn_identity(SlMathFn fn, const SlExpr *x)
{
    if (x->kind == SL_EX_CONST) {
        if (x->u.cid == SL_CONST_PI && fn == SL_FN_SIN)
            return sl_expr_int(0);
        if (x->u.cid == SL_CONST_PI && fn == SL_FN_COS)
            return sl_expr_int(-1);
        if (x->u.cid == SL_CONST_E && fn == SL_FN_LOG)
            return sl_expr_int(1);
        return NULL;
    }
    if (sl_expr_is_int(x, 0)) {
        switch (fn) {
        case SL_FN_SIN: case SL_FN_TAN: case SL_FN_ASIN: case SL_FN_ATAN: case SL_FN_SINH:
        case SL_FN_TANH: case SL_FN_SQRT: case SL_FN_CBRT:
            return sl_expr_int(0);
        case SL_FN_COS: case SL_FN_COSH: case SL_FN_EXP:
            return sl_expr_int(1);
        case SL_FN_SIGMOID: {
            mpq_t q;
            mpq_init(q);
            mpq_set_si(q, 1, 2);
            SlExpr *r = sl_expr_rat(q);
            mpq_clear(q);
            return r;
        }
        default: return NULL;
        }
    }
    if (sl_expr_is_int(x, 1)) {
        switch (fn) {
        case SL_FN_LOG: case SL_FN_LOG2: case SL_FN_LOG10: case SL_FN_ACOS:
            return sl_expr_int(0);
        case SL_FN_SQRT: case SL_FN_CBRT:
            return sl_expr_int(1);
        default: return NULL;
        }
    }
    return NULL;
}

SlExpr *sl_expr_fn(SlMathFn fn, SlExpr *const *args, size_t nargs)
{
    if ((int)fn < 0 || fn >= SL_FN_COUNT || nargs == 0)
        return NULL;
    bool numbers = true, any_float = false;
    for (size_t i = 0; i < nargs; i++) {
        if (!sl_expr_is_number(args[i]))
            numbers = false;
        else if (args[i]->kind == SL_EX_FLT)
            any_float = true;
    }
    if (numbers) {
        Num *v = xmalloc(nargs * sizeof *v), r;
        num_init(&r);
        for (size_t i = 0; i < nargs; i++) {
            num_init(&v[i]);
            num_set_node(&v[i], args[i]);
        }
        SlExpr *res = NULL;
        if (!any_float) {
            if (fn_exact(fn, &r, v, nargs))
                res = num_node(&r);
        } else {
            SlError err = {0};
            if (num_apply(fn, &r, v, nargs, &err))
                res = num_node(&r);
            sl_err_clear(&err);
        }
        for (size_t i = 0; i < nargs; i++)
            num_clear(&v[i]);
        free(v);
        num_clear(&r);
        if (res)
            return res;
    }
    if (nargs == 1) {
        SlExpr *r = fn_identity(fn, args[0]);
        if (r)
            return r;
    }
    return mk(SL_EX_FN, (int)fn, args, nargs);
}

SlExpr *sl_expr_nary(SlExprKind kind, SlExpr *const *args, size_t nargs)
{
    switch (kind) {
    case SL_EX_ADD:
    case SL_EX_MUL:
        if (nargs == 0)
            return sl_expr_int(kind == SL_EX_ADD ? 0 : 1);
        if (nargs == 1)
            return sl_expr_ref(args[0]);
        return mk(kind, 0, args, nargs);
    case SL_EX_POW: return nargs == 2 ? mk(kind, 0, args, 2) : NULL;
    default: return NULL;
    }
}

SlValue *sl_expr_number_value(const SlExpr *e)
{
    if (e->kind == SL_EX_FLT)
        return float_of_mpfr(e->u.f);
    if (e->kind != SL_EX_RAT)
        return NULL;
    if (rat_integral(e))
        return sl_int_z(mpq_numref(e->u.q));
    SlValue *v = sl_float_new(sl_num_prec());
    mpfr_set_q(v->u.f, e->u.q, MPFR_RNDN);
    return v;
}

/* ===========================================================================
 * 4. Walks
 * ======================================================================== */

/* Pre-order, left to right, each distinct node once.  visit returns false
 * to stop the walk. */
static void walk(const SlExpr *e, bool (*visit)(const SlExpr *, void *), void *ctx)
{
    PMap seen = {0};
    const SlExpr **stack = xmalloc(64 * sizeof *stack);
    size_t n = 0, cap = 64;
    stack[n++] = e;
    while (n) {
        const SlExpr *x = stack[--n];
        if (pmap_get(&seen, x) != SIZE_MAX)
            continue;
        pmap_put(&seen, x, 0);
        if (!visit(x, ctx))
            break;
        if (n + x->nargs > cap) {
            while (n + x->nargs > cap)
                cap *= 2;
            stack = xrealloc(stack, cap * sizeof *stack);
        }
        for (size_t i = x->nargs; i-- > 0;)
            if (pmap_get(&seen, x->args[i]) == SIZE_MAX)
                stack[n++] = x->args[i];
    }
    free(stack);
    pmap_free(&seen);
}

typedef struct SymSearch {
    const char *name;  /* has_sym: the name looked for */
    bool found;        /* has_sym: result */
    const char **out;  /* free_syms: where names go */
    size_t max, n;     /* free_syms: capacity and count */
} SymSearch;

static bool visit_has(const SlExpr *x, void *ctx)
{
    SymSearch *s = ctx;
    if (x->kind == SL_EX_SYM && strcmp(x->u.name, s->name) == 0)
        s->found = true;
    return !s->found;
}

bool sl_expr_has_sym(const SlExpr *e, const char *name)
{
    SymSearch s = {.name = name};
    walk(e, visit_has, &s);
    return s.found;
}

static bool visit_free(const SlExpr *x, void *ctx)
{
    SymSearch *s = ctx;
    if (x->kind == SL_EX_SYM) {
        if (s->n == s->max)
            return false;
        s->out[s->n++] = x->u.name;
    }
    return true;
}

size_t sl_expr_free_syms(const SlExpr *e, const char **names, size_t max)
{
    SymSearch s = {.out = names, .max = max};
    if (max)
        walk(e, visit_free, &s);
    return s.n;
}

static bool visit_count(const SlExpr *x, void *ctx)
{
    (void)x;
    ++*(size_t *)ctx;
    return true;
}

size_t sl_expr_node_count(const SlExpr *e)
{
    size_t n = 0;
    walk(e, visit_count, &n);
    return n;
}

/* ---- numeric evaluation ---- */

/* A factor of a product that evaluates as a division: b^r with r < 0. */
static bool is_den(const SlExpr *f) { return f->kind == SL_EX_POW && rat_neg(f->args[1]); }

typedef struct Env {
    const char *const *names; /* bound symbols */
    const Num *vals;          /* their values */
    size_t n;                 /* how many */
} Env;

typedef struct Eval {
    PMap memo;  /* node -> index in vals */
    Num *vals;  /* computed values */
    size_t n, cap;
} Eval;

static const Num *ev_get(const Eval *ev, const SlExpr *e)
{
    size_t i = pmap_get(&ev->memo, e);
    return i == SIZE_MAX ? NULL : &ev->vals[i];
}

/* The nodes whose values e needs: its children, except that a division
 * factor b^-r of a product needs b (the power is taken on the spot) and a
 * b^-r alone needs b too (evaluated as 1/b^r, as Python computes 1/x**2). */
static size_t ev_deps(const SlExpr *e, size_t i, const SlExpr **out)
{
    if (i >= e->nargs)
        return 0;
    const SlExpr *c = e->args[i];
    if (e->kind == SL_EX_MUL && is_den(c))
        c = c->args[0];
    if (e->kind == SL_EX_POW && i == 1 && e->args[1]->kind == SL_EX_RAT)
        c = NULL; /* the exponent is read from the node */
    *out = c;
    return 1;
}

/* d = v ^ (-r) where r is the negative exact exponent node. */
static bool pow_neg(Num *d, const Num *v, const SlExpr *r, SlError *err)
{
    Num e;
    num_init(&e);
    mpq_neg(e.q, r->u.q);
    bool ok = num_pow(d, v, &e, false, err) == 1;
    num_clear(&e);
    return ok;
}

static bool ev_node(Eval *ev, const SlExpr *e, const Env *env, Num *r, SlError *err)
{
    switch (e->kind) {
    case SL_EX_RAT:
    case SL_EX_FLT: num_set_node(r, e); return true;
    case SL_EX_CONST: num_take(r, e->u.cid == SL_CONST_PI ? sl_num_pi() : sl_num_e()); return true;
    case SL_EX_SYM:
        for (size_t i = 0; i < env->n; i++)
            if (strcmp(env->names[i], e->u.name) == 0) {
                num_copy(r, &env->vals[i]);
                return true;
            }
        return sl_err(err, SL_E_INTERNAL, "unbound symbol in evaluation");
    case SL_EX_ADD: {
        /* left to right; a term -b adds (-b), which rounds exactly as a - b */
        num_copy(r, ev_get(ev, e->args[0]));
        for (size_t i = 1; i < e->nargs; i++)
            if (!num_arith(SL_OP_ADD, r, r, ev_get(ev, e->args[i]), err))
                return false;
        return true;
    }
    case SL_EX_MUL: {
        /* As Python evaluates the written form: a coefficient p/q is p·(...)/q,
         * a factor b^-r divides by b^r, factors go left to right. */
        bool have = false, ok = true;
        size_t i = 0;
        mpz_srcptr den = NULL;
        Num t;
        num_init(&t);
        if (e->args[0]->kind == SL_EX_RAT) {
            mpq_srcptr c = e->args[0]->u.q;
            if (mpz_cmp_ui(mpq_denref(c), 1) != 0)
                den = mpq_denref(c);
            if (mpz_cmp_ui(mpq_numref(c), 1) != 0) {
                num_set_si(r, 0);
                mpq_set_z(r->q, mpq_numref(c));
                have = true;
            }
            i = 1;
        }
        for (; ok && i < e->nargs; i++) {
            const SlExpr *f = e->args[i];
            if (is_den(f)) {
                ok = pow_neg(&t, ev_get(ev, f->args[0]), f->args[1], err);
                if (ok && !have) {
                    num_set_si(r, 1);
                    have = true;
                }
                ok = ok && num_arith(SL_OP_DIV, r, r, &t, err);
            } else if (!have) {
                num_copy(r, ev_get(ev, f));
                have = true;
            } else {
                ok = num_arith(SL_OP_MUL, r, r, ev_get(ev, f), err);
            }
        }
        if (ok && !have)
            num_set_si(r, 1);
        if (ok && den) {
            num_set_si(&t, 0);
            mpq_set_z(t.q, den);
            ok = num_arith(SL_OP_DIV, r, r, &t, err);
        }
        num_clear(&t);
        return ok;
    }
    case SL_EX_POW: {
        const Num *b = ev_get(ev, e->args[0]);
        if (rat_neg(e->args[1])) {
            Num t, one;
            num_init(&t);
            num_init(&one);
            num_set_si(&one, 1);
            bool ok = pow_neg(&t, b, e->args[1], err) && num_arith(SL_OP_DIV, r, &one, &t, err);
            num_clear(&t);
            num_clear(&one);
            return ok;
        }
        if (e->args[1]->kind == SL_EX_RAT) {
            Num x;
            num_init(&x);
            num_set_node(&x, e->args[1]);
            bool ok = num_pow(r, b, &x, false, err) == 1;
            num_clear(&x);
            return ok;
        }
        return num_pow(r, b, ev_get(ev, e->args[1]), false, err) == 1;
    }
    case SL_EX_FN: {
        Num *a = xmalloc(e->nargs * sizeof *a);
        for (size_t i = 0; i < e->nargs; i++) {
            num_init(&a[i]);
            num_copy(&a[i], ev_get(ev, e->args[i]));
        }
        bool ok = num_apply((SlMathFn)e->u.fn, r, a, e->nargs, err);
        for (size_t i = 0; i < e->nargs; i++)
            num_clear(&a[i]);
        free(a);
        return ok;
    }
    }
    return sl_err(err, SL_E_INTERNAL, "bad expression node");
}

/* Evaluate e (every free symbol bound in env) into out. */
static bool eval_expr(const SlExpr *root, const Env *env, Num *out, SlError *err)
{
    Eval ev = {0};
    const SlExpr **stack = xmalloc(64 * sizeof *stack);
    size_t n = 0, cap = 64;
    bool ok = true;
    stack[n++] = root;
    while (ok && n) {
        const SlExpr *e = stack[n - 1], *d;
        if (ev_get(&ev, e)) {
            n--;
            continue;
        }
        bool pushed = false;
        for (size_t i = 0; ev_deps(e, i, &d); i++) {
            if (d && !ev_get(&ev, d)) {
                if (n == cap) {
                    cap *= 2;
                    stack = xrealloc(stack, cap * sizeof *stack);
                }
                stack[n++] = d;
                pushed = true;
            }
        }
        if (pushed)
            continue;
        Num r;
        num_init(&r);
        ok = ev_node(&ev, e, env, &r, err);
        if (!ok) {
            num_clear(&r);
            break;
        }
        if (ev.n == ev.cap) {
            ev.cap = ev.cap ? ev.cap * 2 : 64;
            ev.vals = xrealloc(ev.vals, ev.cap * sizeof *ev.vals);
        }
        ev.vals[ev.n] = r; /* a Num moves by value */
        pmap_put(&ev.memo, e, ev.n++);
        n--;
    }
    if (ok)
        num_copy(out, ev_get(&ev, root));
    for (size_t i = 0; i < ev.n; i++)
        num_clear(&ev.vals[i]);
    free(ev.vals);
    pmap_free(&ev.memo);
    free(stack);
    return ok;
}

/* ---- substitution ---- */

typedef struct Binding {
    const char *name; /* symbol */
    SlExpr *expr;     /* replacement node (owned) */
    bool numeric;     /* num holds its value (it has no free symbols) */
    Num num;          /* the value, when numeric */
} Binding;

static const Binding *find_binding(const Binding *b, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(b[i].name, name) == 0)
            return &b[i];
    return NULL;
}

/* Rebuild e with the bindings' expressions in place of their symbols
 * (post-order, memoised, through the canonicalising constructors). */
static SlExpr *rebuild(SlExpr *root, const Binding *b, size_t nb)
{
    PMap memo = {0};
    Vec res = {0};
    Vec stack = {0};
    vec_push(&stack, root);
    while (stack.n) {
        SlExpr *e = stack.v[stack.n - 1];
        if (pmap_get(&memo, e) != SIZE_MAX) {
            stack.n--;
            continue;
        }
        bool pushed = false;
        for (size_t i = 0; i < e->nargs; i++)
            if (pmap_get(&memo, e->args[i]) == SIZE_MAX) {
                vec_push(&stack, e->args[i]);
                pushed = true;
            }
        if (pushed)
            continue;
        SlExpr *r;
        if (e->kind == SL_EX_SYM) {
            const Binding *bb = find_binding(b, nb, e->u.name);
            r = sl_expr_ref(bb ? bb->expr : e);
        } else if (e->nargs == 0) {
            r = sl_expr_ref(e);
        } else {
            SlExpr *local[8], **c = e->nargs <= 8 ? local : xmalloc(e->nargs * sizeof *c);
            bool same = true;
            for (size_t i = 0; i < e->nargs; i++) {
                c[i] = res.v[pmap_get(&memo, e->args[i])];
                same = same && c[i] == e->args[i];
            }
            if (same)
                r = sl_expr_ref(e);
            else if (e->kind == SL_EX_ADD)
                r = build_sum(c, e->nargs);
            else if (e->kind == SL_EX_MUL)
                r = build_prod(c, e->nargs);
            else if (e->kind == SL_EX_POW && c[0]->kind == SL_EX_FLT && rat_neg(c[1]))
                r = mk(SL_EX_POW, 0, c, 2); /* keep the division (see sl_expr_div) */
            else if (e->kind == SL_EX_POW)
                r = sl_expr_pow(c[0], c[1]);
            else
                r = sl_expr_fn((SlMathFn)e->u.fn, c, e->nargs);
            if (c != local)
                free(c);
        }
        pmap_put(&memo, e, res.n);
        vec_push(&res, r);
        stack.n--;
    }
    SlExpr *out = sl_expr_ref(res.v[pmap_get(&memo, root)]);
    for (size_t i = 0; i < res.n; i++)
        sl_expr_unref(res.v[i]);
    free(res.v);
    free(stack.v);
    pmap_free(&memo);
    return out;
}

SlExpr *sl_expr_subs_expr(SlExpr *e, const char *const *names, SlExpr *const *exprs, size_t n)
{
    Binding *b = xmalloc((n ? n : 1) * sizeof *b);
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        if (find_binding(b, nb, names[i]))
            continue;
        b[nb].name = names[i];
        b[nb].expr = exprs[i];
        b[nb].numeric = false;
        nb++;
    }
    SlExpr *r = rebuild(e, b, nb);
    free(b);
    return r;
}

static SlValue *num_result(const Num *n)
{
    if (n->f)
        return sl_ref(n->f);
    return num_value(n); /* int when integral, else a float at the session precision */
}

SlValue *sl_expr_subs(SlExpr *e, const char *const *names, SlValue *const *vals, size_t n, SlError *err)
{
    /* free symbols of e */
    size_t nfree = sl_expr_node_count(e);
    const char **fs = xmalloc((nfree ? nfree : 1) * sizeof *fs);
    nfree = sl_expr_free_syms(e, fs, nfree);

    Binding *b = xmalloc((n ? n : 1) * sizeof *b);
    size_t nb = 0;
    SlValue *result = NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        SlValue *v = vals[i];
        if (!sl_is_number(v) && v->kind != SL_EXPR) {
            char what[64];
            snprintf(what, sizeof what, "'%s'", names[i]);
            ok = sl_err(err, SL_E_ARG_TYPE, "subs", what, "a number or an expression", sl_type_name(v));
            break;
        }
        if (find_binding(b, nb, names[i]))
            continue; /* the first binding of a name wins */
        Binding *bb = &b[nb++];
        bb->name = names[i];
        bb->expr = v->kind == SL_EXPR ? sl_expr_ref(v->u.expr) : sl_expr_from_value(v);
        num_init(&bb->num);
        bb->numeric = false;
        bool used = false;
        for (size_t j = 0; j < nfree && !used; j++)
            used = strcmp(fs[j], names[i]) == 0;
        if (!used)
            continue;
        if (v->kind != SL_EXPR) {
            num_take(&bb->num, sl_ref(v));
            bb->numeric = true;
        } else {
            const char *dummy;
            if (sl_expr_free_syms(bb->expr, &dummy, 1) == 0) {
                Env none = {0};
                ok = eval_expr(bb->expr, &none, &bb->num, err);
                bb->numeric = ok;
            }
        }
    }
    if (ok) {
        bool numeric = true;
        for (size_t j = 0; j < nfree && numeric; j++) {
            const Binding *bb = find_binding(b, nb, fs[j]);
            numeric = bb && bb->numeric;
        }
        if (numeric) {
            const char **bn = xmalloc((nb ? nb : 1) * sizeof *bn);
            Num *bv = xmalloc((nb ? nb : 1) * sizeof *bv);
            size_t k = 0;
            for (size_t i = 0; i < nb; i++)
                if (b[i].numeric) {
                    bn[k] = b[i].name;
                    bv[k++] = b[i].num; /* borrowed copies of the structs */
                }
            Env env = {bn, bv, k};
            Num r;
            num_init(&r);
            if (eval_expr(e, &env, &r, err))
                result = num_result(&r);
            num_clear(&r);
            free(bn);
            free(bv);
        } else {
            result = sl_expr_value(rebuild(e, b, nb));
        }
    }
    for (size_t i = 0; i < nb; i++) {
        sl_expr_unref(b[i].expr);
        num_clear(&b[i].num);
    }
    free(b);
    free(fs);
    return result;
}

/* ===========================================================================
 * 5. Printing
 *
 * The printer is a loop over a stack of tasks (text to emit, or a node to
 * print in a context), so it never recurses.  A node's context is the
 * least precedence it may have without parentheses, plus two flags:
 * F_ABS prints a negative number or product without its sign (the sum
 * around it writes " − "), F_INV prints a power b^-r as b^r (it is in a
 * denominator).  Output beyond SL_EXPR_PRINT_MAX bytes ends with "…".
 * ======================================================================== */

static SlStyle cur_style = SL_STYLE_UNICODE;
SlStyle sl_expr_style(void) { return cur_style; }
void sl_expr_set_style(SlStyle s) { cur_style = s; }

enum { P_SUM = 1, P_NEG, P_MUL, P_POW, P_ATOM };
#define F_ABS 1
#define F_INV 2
#define F_ROOT 4 /* a named node printed as its own definition */

enum { T_STR, T_OWN, T_NODE };
typedef struct Task {
    const SlExpr *e;     /* T_NODE */
    const char *s;       /* T_STR (static) / T_OWN (malloc'd) */
    unsigned char kind;  /* T_* */
    unsigned char need;  /* T_NODE: least precedence without parentheses */
    unsigned char flags; /* T_NODE: F_ABS, F_INV */
} Task;

typedef struct Printer {
    SlStyle st;          /* style */
    const PMap *names;   /* where-printing: node -> index into text, or NULL */
    char **text;         /* where-printing: the names ("t₁") */
    Task *stk;           /* pending tasks, top last */
    size_t n, cap;
    Task *tmp;           /* the pieces of the node being expanded, in order */
    size_t tn, tcap;
} Printer;

#define U_MINUS "\xe2\x88\x92"
#define U_DOT "\xc2\xb7"
#define U_SQRT "\xe2\x88\x9a"
#define U_PI "\xcf\x80"
#define U_SIGMA "\xcf\x83"
#define U_ELLIPSIS "\xe2\x80\xa6"

static void piece(Printer *p, Task t)
{
    if (p->tn == p->tcap) {
        p->tcap = p->tcap ? p->tcap * 2 : 16;
        p->tmp = xrealloc(p->tmp, p->tcap * sizeof *p->tmp);
    }
    p->tmp[p->tn++] = t;
}

static void put(Printer *p, const char *s) { piece(p, (Task){.s = s, .kind = T_STR}); }
static void put_own(Printer *p, char *s) { piece(p, (Task){.s = s, .kind = T_OWN}); }
static void put_node(Printer *p, const SlExpr *e, int need, int flags)
{
    piece(p, (Task){.e = e, .kind = T_NODE, .need = (unsigned char)need, .flags = (unsigned char)flags});
}

static void push(Printer *p, Task t)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->stk = xrealloc(p->stk, p->cap * sizeof *p->stk);
    }
    p->stk[p->n++] = t;
}

/* The name a where-printing gives e, or NULL. */
static const char *named(const Printer *p, const SlExpr *e)
{
    if (!p->names)
        return NULL;
    size_t i = pmap_get(p->names, e);
    return i == SIZE_MAX ? NULL : p->text[i];
}

/* A factor written below the bar (a named one is written by its name). */
static bool den_factor(const Printer *p, const SlExpr *f) { return is_den(f) && !named(p, f); }

static const char *lparen(const Printer *p) { return p->st == SL_STYLE_LATEX ? "\\left(" : "("; }
static const char *rparen(const Printer *p) { return p->st == SL_STYLE_LATEX ? "\\right)" : ")"; }
static const char *times(const Printer *p)
{
    return p->st == SL_STYLE_UNICODE ? U_DOT : p->st == SL_STYLE_ASCII ? "*" : " \\cdot ";
}
static const char *neg_sign(const Printer *p) { return p->st == SL_STYLE_UNICODE ? U_MINUS : "-"; }

/* ---- number text ---- */

static char *mpz_text(mpz_srcptr z, bool abs)
{
    char *s = xmalloc(mpz_sizeinbase(z, 10) + 2);
    mpz_get_str(s, 10, z);
    if (abs && s[0] == '-')
        memmove(s, s + 1, strlen(s));
    return s;
}

static bool num_negative(const SlExpr *e)
{
    if (e->kind == SL_EX_RAT)
        return mpq_sgn(e->u.q) < 0;
    if (e->kind == SL_EX_FLT)
        return !mpfr_nan_p(e->u.f) && mpfr_signbit(e->u.f);
    return false;
}

/* repr of a float node, without its sign when abs */
static char *flt_repr(const SlExpr *e, bool abs)
{
    SlValue v;
    memset(&v, 0, sizeof v);
    v.refs = -1;
    v.kind = SL_FLOAT;
    memcpy(v.u.f, e->u.f, sizeof(mpfr_t)); /* a read-only view of the node's number */
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_num_repr(&b, &v);
    char *s = sl_buf_take(&b);
    if (abs && s[0] == '-')
        memmove(s, s + 1, strlen(s));
    return s;
}

static bool latex_sci(const char *s) { return strchr(s, 'e') && !strchr(s, 'n'); }

static char *num_text(const Printer *p, const SlExpr *e, bool abs)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    if (e->kind == SL_EX_RAT) {
        bool neg = mpq_sgn(e->u.q) < 0 && !abs;
        char *n = mpz_text(mpq_numref(e->u.q), true);
        if (neg)
            sl_buf_putc(&b, '-');
        if (mpz_cmp_ui(mpq_denref(e->u.q), 1) == 0) {
            sl_buf_puts(&b, n);
        } else {
            char *d = mpz_text(mpq_denref(e->u.q), true);
            if (p->st == SL_STYLE_LATEX)
                sl_buf_printf(&b, "\\frac{%s}{%s}", n, d);
            else
                sl_buf_printf(&b, "%s/%s", n, d);
            free(d);
        }
        free(n);
        return sl_buf_take(&b);
    }
    char *s = flt_repr(e, abs);
    if (p->st != SL_STYLE_LATEX) {
        sl_buf_free(&b);
        return s;
    }
    /* latex: 1e-05 -> 1 \cdot 10^{-5}, inf -> \infty, nan -> \mathrm{nan} */
    const char *t = s;
    if (*t == '-') {
        sl_buf_putc(&b, '-');
        t++;
    }
    if (strcmp(t, "inf") == 0) {
        sl_buf_puts(&b, "\\infty");
    } else if (strcmp(t, "nan") == 0) {
        sl_buf_puts(&b, "\\mathrm{nan}");
    } else if (latex_sci(t)) {
        const char *ep = strchr(t, 'e');
        sl_buf_add(&b, t, (size_t)(ep - t));
        sl_buf_printf(&b, " \\cdot 10^{%ld}", strtol(ep + 1, NULL, 10));
    } else {
        sl_buf_puts(&b, t);
    }
    free(s);
    return sl_buf_take(&b);
}

/* ---- symbols and functions ---- */

static const struct {
    const char *name, *utf8, *latex;
} greek[] = {
    {"alpha", "\xce\xb1", "\\alpha"}, {"beta", "\xce\xb2", "\\beta"}, {"gamma", "\xce\xb3", "\\gamma"},
    {"delta", "\xce\xb4", "\\delta"}, {"epsilon", "\xce\xb5", "\\epsilon"}, {"zeta", "\xce\xb6", "\\zeta"},
    {"eta", "\xce\xb7", "\\eta"}, {"theta", "\xce\xb8", "\\theta"}, {"iota", "\xce\xb9", "\\iota"},
    {"kappa", "\xce\xba", "\\kappa"}, {"lambda", "\xce\xbb", "\\lambda"}, {"mu", "\xce\xbc", "\\mu"},
    {"nu", "\xce\xbd", "\\nu"}, {"xi", "\xce\xbe", "\\xi"}, {"omicron", "\xce\xbf", "o"},
    {"pi", "\xcf\x80", "\\pi"}, {"rho", "\xcf\x81", "\\rho"}, {"sigma", "\xcf\x83", "\\sigma"},
    {"tau", "\xcf\x84", "\\tau"}, {"upsilon", "\xcf\x85", "\\upsilon"}, {"phi", "\xcf\x86", "\\phi"},
    {"chi", "\xcf\x87", "\\chi"}, {"psi", "\xcf\x88", "\\psi"}, {"omega", "\xcf\x89", "\\omega"},
    {"Gamma", "\xce\x93", "\\Gamma"}, {"Delta", "\xce\x94", "\\Delta"}, {"Theta", "\xce\x98", "\\Theta"},
    {"Lambda", "\xce\x9b", "\\Lambda"}, {"Xi", "\xce\x9e", "\\Xi"}, {"Pi", "\xce\xa0", "\\Pi"},
    {"Sigma", "\xce\xa3", "\\Sigma"}, {"Upsilon", "\xce\xa5", "\\Upsilon"}, {"Phi", "\xce\xa6", "\\Phi"},
    {"Psi", "\xce\xa8", "\\Psi"}, {"Omega", "\xce\xa9", "\\Omega"},
};

/* Greek letters whose capital is a Latin letter, and variant forms. */
static const struct {
    const char *name, *latex;
} greek_more[] = {
    {"Alpha", "A"}, {"Beta", "B"}, {"Epsilon", "E"}, {"Zeta", "Z"}, {"Eta", "H"}, {"Iota", "I"},
    {"Kappa", "K"}, {"Mu", "M"}, {"Nu", "N"}, {"Omicron", "O"}, {"Rho", "P"}, {"Tau", "T"}, {"Chi", "X"},
    {"\xce\x91", "A"}, {"\xce\x92", "B"}, {"\xce\x95", "E"}, {"\xce\x96", "Z"}, {"\xce\x97", "H"},
    {"\xce\x99", "I"}, {"\xce\x9a", "K"}, {"\xce\x9c", "M"}, {"\xce\x9d", "N"}, {"\xce\x9f", "O"},
    {"\xce\xa1", "P"}, {"\xce\xa4", "T"}, {"\xce\xa7", "X"},
    {"varepsilon", "\\varepsilon"}, {"vartheta", "\\vartheta"}, {"varphi", "\\varphi"},
    {"varrho", "\\varrho"}, {"varsigma", "\\varsigma"}, {"varpi", "\\varpi"},
    {"\xcf\x82", "\\varsigma"}, {"\xcf\xb5", "\\epsilon"}, {"\xcf\x91", "\\vartheta"}, {"\xcf\x95", "\\phi"},
};

/* A name without its subscript: a Greek letter, one character as it is,
 * longer names upright (\mathrm{lr}), underscores escaped. */
static void latex_stem(SlBuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof greek / sizeof greek[0]; i++)
        if ((strlen(greek[i].name) == n && memcmp(greek[i].name, s, n) == 0) ||
            (strlen(greek[i].utf8) == n && memcmp(greek[i].utf8, s, n) == 0)) {
            sl_buf_puts(b, greek[i].latex);
            return;
        }
    for (size_t i = 0; i < sizeof greek_more / sizeof greek_more[0]; i++)
        if (strlen(greek_more[i].name) == n && memcmp(greek_more[i].name, s, n) == 0) {
            sl_buf_puts(b, greek_more[i].latex);
            return;
        }
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            chars++;
    if (chars > 1)
        sl_buf_puts(b, "\\mathrm{");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_')
            sl_buf_putc(b, '\\');
        sl_buf_putc(b, s[i]);
    }
    if (chars > 1)
        sl_buf_putc(b, '}');
}

/* Bytes of the subscript digits (ASCII, or ₀-₉ as written by the lexer)
 * that end name[0..n), leaving at least one character of stem. */
static size_t digit_tail(const char *name, size_t n)
{
    size_t k = n;
    for (;;) {
        if (k > 1 && name[k - 1] >= '0' && name[k - 1] <= '9')
            k--;
        else if (k > 3 && (unsigned char)name[k - 3] == 0xE2 && (unsigned char)name[k - 2] == 0x82 &&
                 (unsigned char)name[k - 1] >= 0x80 && (unsigned char)name[k - 1] <= 0x89)
            k -= 3;
        else
            break;
    }
    return n - k;
}

static void latex_name(SlBuf *b, const char *name)
{
    size_t n = strlen(name), stem = n;
    const char *us = strchr(name, '_');
    const char *sub = NULL;
    if (us && us != name && us[1]) {
        stem = (size_t)(us - name);
        sub = us + 1;
    } else {
        stem = n - digit_tail(name, n);
        if (stem < n)
            sub = name + stem;
    }
    latex_stem(b, name, stem);
    if (!sub)
        return;
    sl_buf_puts(b, "_{");
    if (sub == name + stem) { /* digits: x1 -> x_{1}, t₁ -> t_{1} */
        for (const char *c = sub; *c; c++) {
            if (*c >= '0' && *c <= '9') {
                sl_buf_putc(b, *c);
            } else {
                sl_buf_putc(b, (char)('0' + ((unsigned char)c[2] - 0x80)));
                c += 2;
            }
        }
    } else {
        bool digits = true;
        for (const char *c = sub; *c; c++)
            digits = digits && *c >= '0' && *c <= '9';
        if (digits)
            sl_buf_puts(b, sub);
        else
            latex_name(b, sub); /* x_max -> x_{\mathrm{max}}, a_b_c -> a_{b_{c}} */
    }
    sl_buf_putc(b, '}');
}

/* x1 -> x_{1}, x_max -> x_{\mathrm{max}}, alpha -> \alpha, lr -> \mathrm{lr} */
static char *latex_sym(const char *name)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    latex_name(&b, name);
    return sl_buf_take(&b);
}

void sl_expr_latex_name(SlBuf *out, const char *name) { latex_name(out, name); }

static const struct {
    const char *name, *latex;
} fn_names[SL_FN_COUNT] = {
    [SL_FN_SIN] = {"sin", "\\sin"},       [SL_FN_COS] = {"cos", "\\cos"},
    [SL_FN_TAN] = {"tan", "\\tan"},       [SL_FN_ASIN] = {"asin", "\\arcsin"},
    [SL_FN_ACOS] = {"acos", "\\arccos"},  [SL_FN_ATAN] = {"atan", "\\arctan"},
    [SL_FN_ATAN2] = {"atan2", "\\operatorname{atan2}"},
    [SL_FN_SINH] = {"sinh", "\\sinh"},    [SL_FN_COSH] = {"cosh", "\\cosh"},
    [SL_FN_TANH] = {"tanh", "\\tanh"},    [SL_FN_EXP] = {"exp", "\\exp"},
    [SL_FN_LOG] = {"log", "\\log"},        [SL_FN_LOG2] = {"log2", "\\log_{2}"},
    [SL_FN_LOG10] = {"log10", "\\log_{10}"},
    [SL_FN_SQRT] = {"sqrt", "\\sqrt"},    [SL_FN_CBRT] = {"cbrt", "\\sqrt[3]"},
    [SL_FN_ABS] = {"abs", "abs"},         [SL_FN_SIGN] = {"sign", "\\operatorname{sign}"},
    [SL_FN_FLOOR] = {"floor", "floor"},   [SL_FN_CEIL] = {"ceil", "ceil"},
    [SL_FN_ROUND] = {"round", "\\operatorname{round}"},
    [SL_FN_MIN] = {"min", "\\min"},       [SL_FN_MAX] = {"max", "\\max"},
    [SL_FN_SIGMOID] = {"sigmoid", "\\sigma"},
    [SL_FN_RELU] = {"relu", "\\operatorname{relu}"},
    [SL_FN_HEAVISIDE] = {"heaviside", "\\theta"},
};

/* ---- precedence ---- */

typedef struct MulInfo {
    const SlExpr *coef; /* numeric coefficient (args[0]) or NULL */
    bool neg;           /* print a leading minus */
    bool coef_shown;    /* the coefficient's |numerator| is written */
    bool rat_den;       /* the coefficient is p/q with q > 1 */
    size_t nnum, nden;  /* factors above / below the bar (not the coefficient) */
    const SlExpr *one;  /* the numerator factor when it is alone */
    const SlExpr *oneden; /* the denominator factor when it is alone */
} MulInfo;

static void mul_info(const Printer *p, const SlExpr *e, int flags, MulInfo *m)
{
    memset(m, 0, sizeof *m);
    size_t i = 0;
    if (sl_expr_is_number(e->args[0])) {
        m->coef = e->args[0];
        i = 1;
    }
    for (; i < e->nargs; i++) {
        if (den_factor(p, e->args[i])) {
            m->nden++;
            m->oneden = e->args[i];
        } else {
            m->nnum++;
            m->one = e->args[i];
        }
    }
    if (m->coef) {
        m->neg = num_negative(m->coef) && !(flags & F_ABS);
        if (m->coef->kind == SL_EX_RAT) {
            m->rat_den = mpz_cmp_ui(mpq_denref(m->coef->u.q), 1) != 0;
            m->coef_shown = mpz_cmpabs_ui(mpq_numref(m->coef->u.q), 1) != 0 || m->nnum == 0;
        } else {
            m->coef_shown = true;
        }
    }
}

static int prec_of(const Printer *p, const SlExpr *e, int flags);

static int pow_prec(const Printer *p, const SlExpr *e, int flags)
{
    const SlExpr *x = e->args[1];
    if (x->kind != SL_EX_RAT)
        return P_POW;
    int sgn = mpq_sgn(x->u.q) * ((flags & F_INV) ? -1 : 1);
    if (sgn < 0)
        return P_MUL;
    bool one = mpz_cmpabs_ui(mpq_numref(x->u.q), 1) == 0;
    if ((flags & F_INV) && one && mpz_cmp_ui(mpq_denref(x->u.q), 1) == 0)
        return prec_of(p, e->args[0], 0);
    if (one && mpz_cmp_ui(mpq_denref(x->u.q), 2) == 0) /* square root */
        return p->st == SL_STYLE_UNICODE ? P_POW : P_ATOM;
    return P_POW;
}

static int prec_of(const Printer *p, const SlExpr *e, int flags)
{
    if (!(flags & F_ROOT) && named(p, e))
        return P_ATOM;
    switch (e->kind) {
    case SL_EX_RAT:
        if (num_negative(e) && !(flags & F_ABS))
            return P_NEG;
        return mpz_cmp_ui(mpq_denref(e->u.q), 1) != 0 ? P_MUL : P_ATOM;
    case SL_EX_FLT:
        if (num_negative(e) && !(flags & F_ABS))
            return P_NEG;
        if (p->st == SL_STYLE_LATEX) {
            char *s = flt_repr(e, true);
            bool sci = latex_sci(s);
            free(s);
            if (sci)
                return P_MUL;
        }
        return P_ATOM;
    case SL_EX_CONST:
    case SL_EX_SYM: return P_ATOM;
    case SL_EX_ADD: return P_SUM;
    case SL_EX_MUL: {
        MulInfo m;
        mul_info(p, e, flags, &m);
        if (m.neg)
            return P_NEG;
        if (m.nden || m.rat_den)
            return P_MUL;
        if (m.nnum == 1 && !m.coef_shown) {
            int q = prec_of(p, m.one, 0);
            return q < P_POW ? P_ATOM : q; /* it will be parenthesised */
        }
        return P_MUL;
    }
    case SL_EX_POW: return pow_prec(p, e, flags);
    case SL_EX_FN:
        if (p->st == SL_STYLE_UNICODE && e->u.fn == SL_FN_SQRT)
            return P_POW;
        if (p->st == SL_STYLE_LATEX && e->u.fn == SL_FN_EXP)
            return P_POW;
        return P_ATOM;
    }
    return P_ATOM;
}

/* ---- expansion ---- */

/* unicode: can a coefficient be written right before f ("2x", "3x²",
 * "2π", "2√x")?  (latex decides in factor_sep.) */
static bool juxtaposable(const Printer *p, const SlExpr *f)
{
    if (p->st != SL_STYLE_UNICODE)
        return false;
    if (named(p, f))
        return true;
    bool power = f->kind == SL_EX_POW;
    if (power) {
        /* a denominator b^-1 is written as b */
        power = !sl_expr_is_int(f->args[1], -1);
        f = f->args[0];
    }
    if (named(p, f)) /* 2t₁ */
        return true;
    if (!power && f->kind == SL_EX_FN && f->u.fn == SL_FN_SQRT)
        return true;
    if (f->kind == SL_EX_SYM && f->u.name[0] == PLACEHOLDER)
        return false;
    if (f->kind == SL_EX_SYM) /* "2e1" would read as a float literal */
        return f->u.name[0] != 'e' && f->u.name[0] != 'E';
    if (f->kind == SL_EX_CONST)
        return f->u.cid == SL_CONST_PI;
    return false;
}

static bool plain_decimal(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || *s == '.'))
            return false;
    return true;
}

/* latex: does f's text start with a digit (3, 2.5, 3^{x})?  A factor
 * before it is then separated by \cdot ("2 \cdot 3^{x}"), as SymPy does. */
static bool latex_digit_first(const Printer *p, const SlExpr *f)
{
    bool base = false;
    if (!named(p, f) && f->kind == SL_EX_POW) {
        const SlExpr *x = f->args[1];
        if (x->kind == SL_EX_RAT && mpz_cmp_ui(mpq_denref(x->u.q), 2) == 0 && mpz_cmpabs_ui(mpq_numref(x->u.q), 1) == 0)
            return false; /* \sqrt{...} */
        f = f->args[0];
        base = true;
    }
    if (named(p, f) || num_negative(f))
        return false;
    if (f->kind == SL_EX_RAT)
        return rat_integral(f);
    if (f->kind != SL_EX_FLT || !mpfr_number_p(f->u.f))
        return false;
    if (!base)
        return true;
    char *s = flt_repr(f, true);
    bool sci = latex_sci(s); /* a base 1 \cdot 10^{-5} is parenthesised */
    free(s);
    return !sci;
}

/* The multiplication sign before factor f (after factor prev, or after the
 * coefficient when prev is NULL).  latex writes factors side by side
 * ("2 x", "x y", "x^{2} \sin\left(x\right)") and \cdot only before a
 * factor that starts with a digit and beside explain's d/dx placeholders. */
static const char *factor_sep(const Printer *p, const SlExpr *prev, const SlExpr *f)
{
    if (p->st != SL_STYLE_LATEX)
        return times(p);
    if (sl_expr_is_placeholder(f) || (prev && sl_expr_is_placeholder(prev)) || latex_digit_first(p, f))
        return times(p);
    return " ";
}

/* Coefficient text followed by the separator before f. */
static void put_coef(Printer *p, char *text, const SlExpr *f)
{
    put_own(p, text);
    if (!f)
        return;
    if (p->st == SL_STYLE_LATEX)
        put(p, factor_sep(p, NULL, f));
    else
        put(p, plain_decimal(text) && juxtaposable(p, f) ? "" : times(p));
}

/* The factors above (den = false) or below the bar, with the coefficient's
 * numerator or denominator first.  need: for each factor. */
static void put_factors(Printer *p, const SlExpr *e, const MulInfo *m, bool den, int need)
{
    size_t i = m->coef ? 1 : 0;
    bool first = true;
    const SlExpr *next = NULL;
    char *ctext = NULL;
    if (!den && m->coef_shown)
        ctext = m->coef->kind == SL_EX_RAT ? mpz_text(mpq_numref(m->coef->u.q), true) : num_text(p, m->coef, true);
    else if (den && m->rat_den)
        ctext = mpz_text(mpq_denref(m->coef->u.q), true);
    if (ctext) {
        for (size_t j = i; j < e->nargs && !next; j++)
            if (den_factor(p, e->args[j]) == den)
                next = e->args[j];
        put_coef(p, ctext, next);
        first = false;
        if (!next)
            return;
    }
    const SlExpr *prev = NULL;
    for (; i < e->nargs; i++) {
        const SlExpr *f = e->args[i];
        if (den_factor(p, f) != den)
            continue;
        if (!first && f != next)
            put(p, factor_sep(p, prev, f));
        put_node(p, f, need, den ? F_INV : 0);
        first = false;
        next = NULL;
        prev = f;
    }
    if (first)
        put(p, "1");
}

static void expand_mul(Printer *p, const SlExpr *e, int flags)
{
    MulInfo m;
    mul_info(p, e, flags, &m);
    size_t nd = m.nden + m.rat_den, nn = m.nnum + m.coef_shown;
    if (m.neg)
        put(p, neg_sign(p));
    if (p->st == SL_STYLE_LATEX && nd) {
        put(p, "\\frac{");
        put_factors(p, e, &m, false, nn == 1 ? 0 : P_POW);
        put(p, "}{");
        put_factors(p, e, &m, true, nd == 1 ? 0 : P_POW);
        put(p, "}");
        return;
    }
    put_factors(p, e, &m, false, P_POW);
    if (!nd)
        return;
    put(p, "/");
    if (nd == 1) {
        put_factors(p, e, &m, true, P_POW);
    } else {
        put(p, "(");
        put_factors(p, e, &m, true, P_POW);
        put(p, ")");
    }
}

static void expand_add(Printer *p, const SlExpr *e)
{
    for (size_t i = 0; i < e->nargs; i++) {
        const SlExpr *t = e->args[i];
        bool neg = !named(p, t) && (num_negative(t) || (t->kind == SL_EX_MUL && num_negative(t->args[0])));
        if (i == 0) {
            put_node(p, t, P_NEG, 0);
            continue;
        }
        put(p, neg ? (p->st == SL_STYLE_UNICODE ? " " U_MINUS " " : " - ") : " + ");
        put_node(p, t, P_NEG, neg ? F_ABS : 0);
    }
}

static char *superscript(mpz_srcptr z)
{
    static const char *const sup[10] = {"\xe2\x81\xb0", "\xc2\xb9", "\xc2\xb2", "\xc2\xb3", "\xe2\x81\xb4",
                                        "\xe2\x81\xb5", "\xe2\x81\xb6", "\xe2\x81\xb7", "\xe2\x81\xb8",
                                        "\xe2\x81\xb9"};
    char *d = mpz_text(z, true);
    SlBuf b = {0};
    sl_buf_init(&b);
    for (const char *c = d; *c; c++)
        sl_buf_puts(&b, sup[*c - '0']);
    free(d);
    return sl_buf_take(&b);
}

/* √ radicand, ascii sqrt(...), latex \sqrt{...} */
static void put_sqrt(Printer *p, const SlExpr *x)
{
    if (p->st == SL_STYLE_LATEX) {
        put(p, "\\sqrt{");
        put_node(p, x, 0, 0);
        put(p, "}");
    } else if (p->st == SL_STYLE_ASCII) {
        put(p, "sqrt(");
        put_node(p, x, 0, 0);
        put(p, ")");
    } else {
        put(p, U_SQRT);
        bool bare = named(p, x) || x->kind == SL_EX_SYM || x->kind == SL_EX_CONST ||
                    (x->kind == SL_EX_RAT && rat_integral(x) && !num_negative(x)) ||
                    (x->kind == SL_EX_FLT && !num_negative(x));
        if (!bare)
            put(p, "(");
        put_node(p, x, 0, 0);
        if (!bare)
            put(p, ")");
    }
}

static void expand_pow(Printer *p, const SlExpr *e, int flags)
{
    const SlExpr *b = e->args[0], *x = e->args[1];
    bool inv = (flags & F_INV) != 0;
    if (x->kind == SL_EX_RAT) {
        mpq_srcptr q = x->u.q;
        int sgn = mpq_sgn(q) * (inv ? -1 : 1);
        bool integral = mpz_cmp_ui(mpq_denref(q), 1) == 0;
        bool one = mpz_cmpabs_ui(mpq_numref(q), 1) == 0;
        if (sgn < 0) { /* 1/b^r */
            if (p->st == SL_STYLE_LATEX) {
                put(p, "\\frac{1}{");
                put_node(p, e, 0, F_INV);
                put(p, "}");
            } else {
                put(p, "1/");
                put_node(p, e, P_POW, F_INV);
            }
            return;
        }
        if (inv && one && integral) {
            put_node(p, b, 0, 0);
            return;
        }
        if (one && mpz_cmp_ui(mpq_denref(q), 2) == 0) {
            put_sqrt(p, b);
            return;
        }
        if (integral && sgn > 0 && mpz_cmpabs_ui(mpq_numref(q), 2) >= 0) {
            put_node(p, b, P_ATOM, 0);
            if (p->st == SL_STYLE_UNICODE) {
                put_own(p, superscript(mpq_numref(q)));
            } else {
                put(p, p->st == SL_STYLE_LATEX ? "^{" : "^");
                put_own(p, mpz_text(mpq_numref(q), true));
                if (p->st == SL_STYLE_LATEX)
                    put(p, "}");
            }
            return;
        }
        if (inv) { /* a positive non-integral exponent, written from |q| */
            char *n = mpz_text(mpq_numref(q), true), *d = mpz_text(mpq_denref(q), true);
            SlBuf t = {0};
            sl_buf_init(&t);
            if (p->st == SL_STYLE_LATEX)
                sl_buf_printf(&t, "^{\\frac{%s}{%s}}", n, d);
            else
                sl_buf_printf(&t, "^(%s/%s)", n, d);
            free(n);
            free(d);
            put_node(p, b, P_ATOM, 0);
            put_own(p, sl_buf_take(&t));
            return;
        }
    }
    put_node(p, b, P_ATOM, 0);
    if (p->st == SL_STYLE_LATEX) {
        put(p, "^{");
        put_node(p, x, 0, 0);
        put(p, "}");
    } else {
        put(p, "^");
        put_node(p, x, P_ATOM, 0);
    }
}

static void put_args(Printer *p, const SlExpr *e)
{
    for (size_t i = 0; i < e->nargs; i++) {
        if (i)
            put(p, ", ");
        put_node(p, e->args[i], 0, 0);
    }
}

static void expand_fn(Printer *p, const SlExpr *e)
{
    int fn = e->u.fn;
    const SlExpr *a = e->args[0];
    if (p->st == SL_STYLE_ASCII) {
        put(p, fn_names[fn].name);
        put(p, "(");
        put_args(p, e);
        put(p, ")");
        return;
    }
    if (fn == SL_FN_SQRT && e->nargs == 1) {
        put_sqrt(p, a);
        return;
    }
    if (p->st == SL_STYLE_UNICODE) {
        if (fn == SL_FN_ABS && e->nargs == 1) {
            put(p, "|");
            put_node(p, a, 0, 0);
            put(p, "|");
            return;
        }
        put(p, fn == SL_FN_SIGMOID ? U_SIGMA : fn_names[fn].name);
        put(p, "(");
        put_args(p, e);
        put(p, ")");
        return;
    }
    /* latex */
    const char *open = NULL, *close = NULL;
    switch (fn) {
    case SL_FN_ABS: open = "\\left|"; close = "\\right|"; break;
    case SL_FN_CBRT: open = "\\sqrt[3]{"; close = "}"; break;
    case SL_FN_EXP: open = "e^{"; close = "}"; break;
    case SL_FN_FLOOR: open = "\\left\\lfloor "; close = " \\right\\rfloor"; break;
    case SL_FN_CEIL: open = "\\left\\lceil "; close = " \\right\\rceil"; break;
    default: break;
    }
    if (open && e->nargs == 1) {
        put(p, open);
        put_node(p, a, 0, 0);
        put(p, close);
        return;
    }
    /* \sin{\left(x\right)}: the braces make the argument an ordinary atom,
     * so TeX sets no operator space before the parenthesis (as SymPy) */
    put(p, fn_names[fn].latex);
    put(p, "{\\left(");
    put_args(p, e);
    put(p, "\\right)}");
}

static void expand(Printer *p, const SlExpr *e, int flags)
{
    switch (e->kind) {
    case SL_EX_RAT:
    case SL_EX_FLT: put_own(p, num_text(p, e, (flags & F_ABS) != 0)); break;
    case SL_EX_CONST:
        if (e->u.cid == SL_CONST_PI)
            put(p, p->st == SL_STYLE_UNICODE ? U_PI : p->st == SL_STYLE_ASCII ? "pi" : "\\pi");
        else
            put(p, "e");
        break;
    case SL_EX_SYM:
        if (e->u.name[0] == PLACEHOLDER)
            put(p, e->u.name + 1);
        else if (p->st == SL_STYLE_LATEX)
            put_own(p, latex_sym(e->u.name));
        else
            put(p, e->u.name);
        break;
    case SL_EX_ADD: expand_add(p, e); break;
    case SL_EX_MUL: expand_mul(p, e, flags); break;
    case SL_EX_POW: expand_pow(p, e, flags); break;
    case SL_EX_FN: expand_fn(p, e); break;
    }
}

/* Print e (its named subexpressions by name, itself in full when root) into
 * out; stops past SL_EXPR_PRINT_MAX bytes with an ellipsis. */
static void print_node(Printer *p, SlBuf *out, const SlExpr *e, bool root)
{
    SlStyle style = p->st;
    size_t start = out->len;
    p->n = 0;
    push(p, (Task){.e = e, .kind = T_NODE, .flags = root ? F_ROOT : 0});
    while (p->n) {
        if (out->len - start > SL_EXPR_PRINT_MAX) {
            sl_buf_puts(out, style == SL_STYLE_UNICODE ? U_ELLIPSIS : style == SL_STYLE_ASCII ? "..." : "\\ldots");
            break;
        }
        Task t = p->stk[--p->n];
        const char *name;
        if (t.kind == T_STR) {
            sl_buf_puts(out, t.s);
        } else if (t.kind == T_OWN) {
            sl_buf_puts(out, t.s);
            free((char *)t.s);
        } else if (!(t.flags & F_ROOT) && (name = named(p, t.e)) != NULL) {
            sl_buf_puts(out, name);
        } else if (prec_of(p, t.e, t.flags) < t.need) {
            push(p, (Task){.s = rparen(p), .kind = T_STR});
            push(p, (Task){.e = t.e, .kind = T_NODE, .flags = t.flags});
            push(p, (Task){.s = lparen(p), .kind = T_STR});
        } else {
            p->tn = 0;
            expand(p, t.e, t.flags & (F_ABS | F_INV));
            for (size_t i = p->tn; i-- > 0;)
                push(p, p->tmp[i]);
        }
    }
    for (size_t i = 0; i < p->n; i++)
        if (p->stk[i].kind == T_OWN)
            free((char *)p->stk[i].s);
    p->n = 0;
}

/* ---- sizes on the DAG ---- */

#define LEN_CAP (SIZE_MAX / 4)
static size_t sat_add(size_t a, size_t b) { return a >= LEN_CAP - b ? LEN_CAP : a + b; }

/* Lengths of printed text, memoised per (node, flags) on the DAG: the
 * printer's own expansion, summed, so a text of 10^30 bytes is measured
 * without being written.  A named node measures as its name. */
typedef struct Sizer {
    Printer *p;  /* style and names */
    PMap memo;   /* (node + flags) -> length of its expansion, no parentheses */
    Vec stack;   /* pending keys (node pointer + flags: nodes are aligned) */
} Sizer;

static const void *size_key(const SlExpr *e, int flags) { return (const char *)e + (flags & (F_ABS | F_INV)); }

static size_t piece_len(Sizer *z, const Task *t)
{
    if (t->kind != T_NODE)
        return strlen(t->s);
    const char *name = named(z->p, t->e);
    if (name)
        return strlen(name);
    size_t n = pmap_get(&z->memo, size_key(t->e, t->flags));
    if (prec_of(z->p, t->e, t->flags) < t->need)
        n = sat_add(n, strlen(lparen(z->p)) + strlen(rparen(z->p)));
    return n;
}

static void drop_pieces(Printer *p)
{
    for (size_t i = 0; i < p->tn; i++)
        if (p->tmp[i].kind == T_OWN)
            free((char *)p->tmp[i].s);
    p->tn = 0;
}

/* The length of e's expansion in context flags (without parentheses). */
static size_t sizer_len(Sizer *z, const SlExpr *root, int rflags)
{
    Printer *p = z->p;
    const void *rk = size_key(root, rflags);
    size_t have = pmap_get(&z->memo, rk);
    if (have != SIZE_MAX)
        return have;
    z->stack.n = 0;
    vec_push(&z->stack, (SlExpr *)rk);
    while (z->stack.n) {
        const void *k = z->stack.v[z->stack.n - 1];
        if (pmap_get(&z->memo, k) != SIZE_MAX) {
            z->stack.n--;
            continue;
        }
        int flags = (int)((uintptr_t)k & 3);
        const SlExpr *e = (const SlExpr *)((const char *)k - flags);
        p->tn = 0;
        expand(p, e, flags);
        bool pushed = false;
        for (size_t i = 0; i < p->tn; i++) {
            const Task *t = &p->tmp[i];
            if (t->kind != T_NODE || named(p, t->e))
                continue;
            const void *ck = size_key(t->e, t->flags);
            if (pmap_get(&z->memo, ck) == SIZE_MAX) {
                vec_push(&z->stack, (SlExpr *)ck);
                pushed = true;
            }
        }
        if (!pushed) {
            size_t len = 0;
            for (size_t i = 0; i < p->tn; i++)
                len = sat_add(len, piece_len(z, &p->tmp[i]));
            pmap_put(&z->memo, k, len);
            z->stack.n--;
        }
        drop_pieces(p);
    }
    return pmap_get(&z->memo, rk);
}

size_t sl_expr_tree_size(const SlExpr *e, SlStyle style)
{
    Printer p = {.st = style};
    Sizer z = {.p = &p};
    size_t n = sizer_len(&z, e, 0);
    pmap_free(&z.memo);
    free(z.stack.v);
    free(p.tmp);
    return n;
}

/* ---- where-printing ---- */

/* Nodes in post-order (children first, left to right), each once. */
static void post_order(const SlExpr *root, Vec *out)
{
    PMap done = {0};
    Vec stack = {0};
    vec_push(&stack, (SlExpr *)root);
    while (stack.n) {
        SlExpr *e = stack.v[stack.n - 1];
        if (pmap_get(&done, e) != SIZE_MAX) {
            stack.n--;
            continue;
        }
        bool pushed = false;
        for (size_t i = e->nargs; i-- > 0;)
            if (pmap_get(&done, e->args[i]) == SIZE_MAX) {
                vec_push(&stack, e->args[i]);
                pushed = true;
            }
        if (pushed)
            continue;
        stack.n--;
        pmap_put(&done, e, 0);
        vec_push(out, e);
    }
    free(stack.v);
    pmap_free(&done);
}

/* A letter for the names that no free symbol of e is spelt like (t1, t₁). */
static char name_letter(const Vec *nodes)
{
    static const char letters[] = "tuvwsrqpk";
    for (const char *l = letters; *l; l++) {
        bool clash = false;
        for (size_t i = 0; i < nodes->n && !clash; i++) {
            const SlExpr *x = nodes->v[i];
            if (x->kind != SL_EX_SYM || x->u.name[0] != *l)
                continue;
            const unsigned char *c = (const unsigned char *)x->u.name + 1;
            clash = *c != 0;
            for (; *c && clash; c++)
                clash = (*c >= '0' && *c <= '9') || *c == '_' || *c == '{' || *c == '}' || *c >= 0x80;
        }
        if (!clash)
            return *l;
    }
    return 'T';
}

static char *name_text(SlStyle st, char letter, size_t k)
{
    static const char *const sub[10] = {"\xe2\x82\x80", "\xe2\x82\x81", "\xe2\x82\x82", "\xe2\x82\x83",
                                        "\xe2\x82\x84", "\xe2\x82\x85", "\xe2\x82\x86", "\xe2\x82\x87",
                                        "\xe2\x82\x88", "\xe2\x82\x89"};
    SlBuf b = {0};
    sl_buf_init(&b);
    char d[32];
    snprintf(d, sizeof d, "%zu", k);
    if (st == SL_STYLE_UNICODE) {
        sl_buf_putc(&b, letter);
        for (const char *c = d; *c; c++)
            sl_buf_puts(&b, sub[*c - '0']);
    } else if (st == SL_STYLE_ASCII) {
        sl_buf_printf(&b, "%c%s", letter, d);
    } else {
        sl_buf_printf(&b, "%c_{%s}", letter, d);
    }
    return sl_buf_take(&b);
}

/* Decide the names: a node used by two or more parents whose ascii text
 * (with its own named parts by name) is longer than SL_EXPR_WHERE_NAME
 * bytes, so that every style names the same nodes.  Decided children
 * first, so every definition refers to earlier names.  Returns the number
 * of names; names and text (p's style) filled in. */
static size_t choose_names(Printer *p, const SlExpr *root, PMap *names, char ***text)
{
    Vec nodes = {0};
    post_order(root, &nodes);
    PMap uses = {0};
    for (size_t i = 0; i < nodes.n; i++) {
        const SlExpr *x = nodes.v[i];
        for (size_t j = 0; j < x->nargs; j++) {
            size_t u = pmap_get(&uses, x->args[j]);
            pmap_put(&uses, x->args[j], u == SIZE_MAX ? 1 : u + 1);
        }
    }
    char letter = name_letter(&nodes);
    Printer pa = {.st = SL_STYLE_ASCII, .names = names};
    char **atext = NULL;
    Sizer z = {.p = &pa};
    size_t k = 0, cap = 0;
    for (size_t i = 0; i < nodes.n; i++) {
        const SlExpr *x = nodes.v[i];
        if (x == root || x->nargs == 0)
            continue;
        size_t u = pmap_get(&uses, x);
        if (u == SIZE_MAX || u < 2)
            continue;
        if (sizer_len(&z, x, 0) <= SL_EXPR_WHERE_NAME)
            continue;
        if (k == cap) {
            cap = cap ? 2 * cap : 16;
            *text = xrealloc(*text, cap * sizeof **text);
            atext = xrealloc(atext, cap * sizeof *atext);
        }
        (*text)[k] = name_text(p->st, letter, k + 1);
        atext[k] = name_text(SL_STYLE_ASCII, letter, k + 1);
        pmap_put(names, x, k);
        pa.text = atext;
        k++;
    }
    p->names = names;
    p->text = *text;
    for (size_t i = 0; i < k; i++)
        free(atext[i]);
    free(atext);
    free(pa.stk);
    free(pa.tmp);
    pmap_free(&z.memo);
    free(z.stack.v);
    pmap_free(&uses);
    free(nodes.v);
    return k;
}

void sl_expr_print(SlBuf *out, const SlExpr *e, SlStyle style)
{
    Printer p = {.st = style};
    PMap names = {0};
    char **text = NULL;
    size_t k = 0;
    if (e->nargs && sl_expr_tree_size(e, SL_STYLE_ASCII) > SL_EXPR_WHERE_MIN)
        k = choose_names(&p, e, &names, &text);
    if (!k) {
        p.names = NULL;
        print_node(&p, out, e, false);
    } else {
        /* the named nodes, in the order they were named */
        const SlExpr **defs = xmalloc(k * sizeof *defs);
        for (size_t i = 0; i < names.cap; i++)
            if (names.keys[i])
                defs[names.vals[i]] = names.keys[i];
        if (style == SL_STYLE_LATEX)
            sl_buf_puts(out, "\\begin{aligned}\n& ");
        print_node(&p, out, e, false);
        for (size_t i = 0; i < k; i++) {
            if (style == SL_STYLE_LATEX)
                sl_buf_printf(out, " \\\\\n%s%s &= ", i == 0 ? "\\text{where } " : "", text[i]);
            else
                sl_buf_printf(out, "\n%s%s = ", i == 0 ? "where " : "      ", text[i]);
            print_node(&p, out, defs[i], true);
        }
        if (style == SL_STYLE_LATEX)
            sl_buf_puts(out, "\n\\end{aligned}");
        free(defs);
    }
    for (size_t i = 0; i < k; i++)
        free(text[i]);
    free(text);
    pmap_free(&names);
    free(p.stk);
    free(p.tmp);
}

void sl_expr_print_tree(SlBuf *out, const SlExpr *e, SlStyle style)
{
    Printer p = {.st = style};
    print_node(&p, out, e, false);
    free(p.stk);
    free(p.tmp);
}
