/* reverse.c -- reverse-mode differentiation: a tape over MPFR scalars.
 *
 * Memory.  Nodes live in chunks of 2^k nodes (k chosen so that a chunk is
 * about 1 MiB at most, up to 4096 nodes), each chunk one malloc that holds
 * the node headers and, in each node's tail, the limbs of its value and of
 * its adjoint (mpfr_custom_* interface: the mpfr structs are set up once,
 * when the chunk is made, and are never cleared): 80 bytes of header and
 * 16 of limbs at 53 bits, 144 at 256 bits.  So recording a node is
 * a few stores and one MPFR operation, with no malloc once the tape has
 * grown to its working size; chunks never move, so the pointers that
 * sl_tape_value and sl_tape_adjoint return stay valid until reset or free;
 * sl_tape_reset keeps every chunk for the next recording.
 *
 * Forward values are what Python (num.c) computes on floats at the tape's
 * precision, bit for bit: each operation is correctly rounded by MPFR and
 * brought into the IEEE double range at 53 bits (sl_num_fit).  The common
 * cases are computed here; special operands (0.0 ** x, inf, nan), errors
 * and the rare functions (round(x, n)) go through num.c itself, at the tape
 * precision, so the values and the messages are num.c's own ("float
 * division by zero", "math domain error: log(0.0)", "math range error").
 * An operation that fails records nothing: the tape stays as it was, valid,
 * and recording can go on (or the caller resets it).
 *
 * Backward.  sl_tape_backward(output) sweeps output, output-1, ..., 0.
 * Adjoints are marked valid by a generation counter instead of being
 * zeroed: a node whose mark is not the current generation has adjoint 0
 * and is skipped (it does not lie on a path to the output), and its first
 * contribution is stored with "=" rather than added.  Every later
 * contribution is accumulated with "+=", so a node used twice gets both
 * (x*x gives 2x, x + x gives 2).  Constant nodes take no adjoint at all.
 * Partials are computed at the tape precision, like PyTorch's float64
 * autograd: the gradient is accurate to a few ulps per node, not
 * correctly rounded.
 *
 * Conventions at non-smooth and singular points (the same as PyTorch):
 *   abs'(0) = 0, relu'(0) = 0 (relu'(x) = 1 only for x > 0);
 *   sign, heaviside, floor, ceil, round, // have derivative 0: their
 *     results are recorded as constant nodes;
 *   min/max: the gradient goes to the first argument attaining the
 *     extremum (the result *is* that argument's node: no node is added);
 *   sqrt'(0) = +inf, cbrt'(0) = +inf, d/dx asin, acos at +-1 = +-inf;
 *   a ** b: d/da = b * a^(b-1), and 0 when b == 0; d/db = a^b * log(a),
 *     0 when a == 0 (and b >= 0), nan for a < 0; d/db is not computed when
 *     the exponent is a constant node; a constant exponent 0 gives the
 *     constant 1;
 *   atan2(y, x): x/(x²+y²), -y/(x²+y²) (nan at the origin);
 *   sigmoid' = s(1-s), tanh' = (1-t)(1+t), tan' = 1 + tan² (computed
 *     without cancellation: 1-s = s·exp(-x) for s > 1/2, tanh' = sech²(x)
 *     for |t| > 1/2, so they stay accurate where the functions saturate);
 *   a % b: d/da = 1, d/db = -(a // b) (Python's floor quotient).
 */
#include "reverse.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h" /* SL_OP_* */
#include "value.h"

#define RNDN MPFR_RNDN
#define CHUNK_SHIFT_MAX 12           /* 4096 nodes per chunk at most */
#define CHUNK_BYTES_MAX (1u << 20)   /* and about 1 MiB (at least one node) */

/* Node kinds.  Functions with derivative 0 are recorded as N_CONST. */
enum {
    N_VAR, N_CONST, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV, N_SQR, N_POW, N_MOD,
    N_SIN, N_COS, N_TAN, N_ASIN, N_ACOS, N_ATAN, N_ATAN2, N_SINH, N_COSH,
    N_TANH, N_EXP, N_LOG, N_LOG2, N_LOG10, N_LOGB, N_SQRT, N_CBRT, N_ABS,
    N_SIGMOID, N_RELU
};

typedef struct Node {
    __mpfr_struct v; /* value; limbs in the node's tail */
    __mpfr_struct g; /* adjoint (valid when gen == tape gen); limbs after v's */
    uint32_t a, b;   /* operands (0 when unused); a tape holds < 2^32 nodes */
    uint32_t gen;    /* generation of the backward sweep that last touched g */
    uint8_t op;      /* N_* */
} Node;

struct SlTape {
    mpfr_prec_t prec;    /* precision of every value and adjoint */
    size_t size;         /* nodes recorded */
    size_t stride;       /* bytes per node, header and limbs */
    unsigned shift;      /* log2(nodes per chunk) */
    size_t mask;         /* nodes per chunk - 1 */
    char **chunks;       /* chunk directory */
    size_t nchunks;      /* chunks allocated */
    size_t chunks_cap;   /* directory capacity */
    size_t limb_bytes;   /* bytes of limbs per value */
    size_t nlimbs;       /* limbs per value */
    size_t max_nodes;    /* binop/fn fail past this many nodes */
    mpfr_exp_t emax;     /* MPFR's emax when the tape was made */
    mpfr_prec_t msg_prec; /* precision of values in error messages; 0: prec */
    uint32_t gen;        /* current backward generation, never 0 */
    bool have_ln10;      /* ln10 computed */
    mpfr_t zero;         /* the adjoint of untouched nodes */
    mpfr_t acc;          /* accumulation temporary */
    mpfr_t s[5];         /* scratch for partials and helpers */
    mpfr_t ln2, ln10;    /* constants for log2', log10' */
    mpfr_t w;            /* sigmoid's working precision */
};

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

/* ---- storage ---- */

static inline Node *node(const SlTape *t, SlNode i)
{
    return (Node *)(t->chunks[i >> t->shift] + (i & t->mask) * t->stride);
}

static inline bool live(const Node *n) { return n->op != N_CONST; }

/* sl_num_fit, with the common case (nothing to do) inline. */
static inline int fit(mpfr_ptr x, int t)
{
    if (mpfr_get_prec(x) != 53)
        return t;
    mpfr_exp_t e = mpfr_get_exp(x);
    if ((e >= -1021 && e <= 1024) || !mpfr_regular_p(x))
        return t;
    return sl_num_fit(x, t);
}

/* x == 2 exactly, without a call. */
static inline bool is_two(mpfr_srcptr x)
{
    if (x->_mpfr_exp != 2 || x->_mpfr_sign < 0)
        return false;
    size_t top = (size_t)(mpfr_get_prec(x) - 1) / GMP_NUMB_BITS;
    if (x->_mpfr_d[top] != (mp_limb_t)1 << (GMP_NUMB_BITS - 1))
        return false;
    for (size_t i = 0; i < top; i++)
        if (x->_mpfr_d[i])
            return false;
    return true;
}

SlTape *sl_tape_new(mpfr_prec_t prec)
{
    if (prec < SL_PREC_MIN)
        prec = SL_PREC_MIN;
    if (prec > SL_PREC_MAX)
        prec = SL_PREC_MAX;
    SlTape *t = xmalloc(sizeof *t);
    memset(t, 0, sizeof *t);
    t->prec = prec;
    size_t limbs = mpfr_custom_get_size(prec);
    t->stride = (sizeof(Node) + 2 * limbs + 7) & ~(size_t)7;
    unsigned shift = CHUNK_SHIFT_MAX;
    while (shift > 0 && ((size_t)1 << shift) * t->stride > CHUNK_BYTES_MAX)
        shift--;
    t->shift = shift;
    t->mask = ((size_t)1 << shift) - 1;
    t->limb_bytes = limbs;
    t->nlimbs = limbs / sizeof(mp_limb_t);
    sl_tape_set_max_bytes(t, SL_TAPE_MAX_BYTES);
    t->emax = mpfr_get_emax();
    t->gen = 1;
    mpfr_inits2(prec, t->zero, t->acc, t->s[0], t->s[1], t->s[2], t->s[3], t->s[4], t->ln2, t->ln10,
                (mpfr_ptr)0);
    mpfr_init2(t->w, prec + 24);
    mpfr_set_zero(t->zero, 1);
    mpfr_const_log2(t->ln2, RNDN);
    return t;
}

void sl_tape_free(SlTape *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nchunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
    mpfr_clears(t->zero, t->acc, t->s[0], t->s[1], t->s[2], t->s[3], t->s[4], t->ln2, t->ln10, t->w,
                (mpfr_ptr)0);
    free(t);
}

void sl_tape_reset(SlTape *t) { t->size = 0; }

mpfr_prec_t sl_tape_prec(const SlTape *t) { return t->prec; }

size_t sl_tape_size(const SlTape *t) { return t->size; }

size_t sl_tape_bytes(const SlTape *t) { return t->nchunks * (t->mask + 1) * t->stride; }

void sl_tape_set_message_prec(SlTape *t, mpfr_prec_t prec) { t->msg_prec = prec; }

void sl_tape_set_max_bytes(SlTape *t, size_t bytes)
{
    t->max_nodes = bytes / t->stride;
    if (t->max_nodes > UINT32_MAX)
        t->max_nodes = UINT32_MAX;
}

bool sl_tape_is_const(const SlTape *t, SlNode n)
{
    assert(n < t->size);
    return n >= t->size || node(t, n)->op == N_CONST;
}

/* d = s (or -s) for two numbers at the tape precision: an exact copy,
 * inline (MPFR's own mpfr_set is a call and a thread-local access). */
static inline void copy(const SlTape *t, mpfr_ptr d, mpfr_srcptr s, bool neg)
{
    d->_mpfr_sign = neg ? -s->_mpfr_sign : s->_mpfr_sign;
    d->_mpfr_exp = s->_mpfr_exp;
    if (mpfr_regular_p(s))
        for (size_t i = 0; i < t->nlimbs; i++)
            d->_mpfr_d[i] = s->_mpfr_d[i];
}

/* x *= 2, exact, inline (then fit() for the double range at 53 bits). */
static inline void twice(const SlTape *t, mpfr_ptr x)
{
    if (mpfr_regular_p(x) && x->_mpfr_exp < t->emax)
        x->_mpfr_exp++;
    else
        mpfr_mul_2ui(x, x, 1, RNDN);
}

/* Add a chunk for node number t->size. */
static void grow(SlTape *t)
{
    if (t->nchunks == t->chunks_cap) {
        t->chunks_cap = t->chunks_cap ? 2 * t->chunks_cap : 16;
        t->chunks = xrealloc(t->chunks, t->chunks_cap * sizeof *t->chunks);
    }
    size_t per = t->mask + 1;
    char *mem = xmalloc(per * t->stride);
    size_t limbs = mpfr_custom_get_size(t->prec);
    for (size_t i = 0; i < per; i++) {
        Node *n = (Node *)(mem + i * t->stride);
        char *tail = (char *)(n + 1);
        mpfr_custom_init(tail, t->prec);
        mpfr_custom_init(tail + limbs, t->prec);
        mpfr_custom_init_set(&n->v, MPFR_ZERO_KIND, 0, t->prec, tail);
        mpfr_custom_init_set(&n->g, MPFR_ZERO_KIND, 0, t->prec, tail + limbs);
    }
    t->chunks[t->nchunks++] = mem;
}

/* Make room for node number t->size (not yet counted). */
static inline Node *slot(SlTape *t)
{
    if (t->size >> t->shift == t->nchunks)
        grow(t);
    return node(t, t->size);
}

/* Fill in and count the node that slot() returned. */
static SlNode commit(SlTape *t, Node *n, int op, SlNode a, SlNode b)
{
    n->op = (uint8_t)op;
    n->a = (uint32_t)a;
    n->b = (uint32_t)b;
    n->gen = 0;
    return t->size++;
}

static __attribute__((noinline, cold)) bool full_error(SlTape *t, SlError *err)
{
    char msg[200];
    snprintf(msg, sizeof msg,
             "the reverse-mode tape is full: %zu operations recorded, %zu MiB (the limit is %zu MiB)", t->size,
             (t->size * t->stride) >> 20, (t->max_nodes * t->stride) >> 20);
    return !sl_err(err, SL_E_LIMIT, msg);
}

static inline bool full(SlTape *t, SlError *err)
{
    return t->size >= t->max_nodes && full_error(t, err);
}

static __attribute__((noinline, cold)) bool bad_node_error(const SlTape *t, SlNode a, SlError *err)
{
    char msg[100];
    snprintf(msg, sizeof msg, "tape: node %zu does not exist (%zu recorded)", a, t->size);
    sl_err(err, SL_E_INTERNAL, msg);
    return true;
}

static inline bool bad_node(const SlTape *t, SlNode a, SlError *err)
{
    return a >= t->size && bad_node_error(t, a, err);
}

static SlNode leaf(SlTape *t, mpfr_srcptr value, int op)
{
    if (t->size >= UINT32_MAX) { /* 400 GB of nodes: memory ran out long before */
        fputs("slope: the reverse-mode tape exceeds 2^32 nodes\n", stderr);
        abort();
    }
    Node *n = slot(t);
    if (mpfr_get_prec(value) == t->prec)
        copy(t, &n->v, value, false);
    else
        mpfr_set(&n->v, value, RNDN);
    fit(&n->v, 0);
    return commit(t, n, op, 0, 0);
}

SlNode sl_tape_var(SlTape *t, mpfr_srcptr value) { return leaf(t, value, N_VAR); }

SlNode sl_tape_const(SlTape *t, mpfr_srcptr value) { return leaf(t, value, N_CONST); }

mpfr_srcptr sl_tape_value(const SlTape *t, SlNode n)
{
    assert(n < t->size);
    return n < t->size ? &node(t, n)->v : t->zero;
}

/* ---- forward: Python's float semantics ---- */

/* Compute through num.c at the tape precision (special operands, errors,
 * rare functions).  is_fn selects sl_num_apply(what) over
 * sl_num_binop(what).  On success out holds the value. */
/* One num.c call with the arguments rounded to prec, at session precision prec. */
static SlValue *num_call(SlTape *t, bool is_fn, int what, const SlNode *args, int nargs, mpfr_prec_t prec,
                         SlError *err)
{
    SlValue *small[4], **vals = nargs <= 4 ? small : xmalloc((size_t)nargs * sizeof *vals);
    for (int i = 0; i < nargs; i++) {
        mpfr_srcptr x = &node(t, args[i])->v;
        if (is_fn && what == SL_FN_ROUND && i == 1 && mpfr_integer_p(x)) {
            vals[i] = sl_int_new(); /* round's ndigits is an int */
            mpfr_get_z(vals[i]->u.z, x, RNDN);
        } else {
            vals[i] = sl_float_new(prec);
            fit(vals[i]->u.f, mpfr_set(vals[i]->u.f, x, RNDN));
        }
    }
    mpfr_prec_t saved = sl_num_prec();
    sl_num_set_prec(prec);
    SlValue *r = is_fn ? sl_num_apply((SlMathFn)what, vals, nargs, err)
                       : sl_num_binop(what, vals[0], vals[1], err);
    sl_num_set_prec(saved);
    for (int i = 0; i < nargs; i++)
        sl_unref(vals[i]);
    if (vals != small)
        free(vals);
    return r;
}

/* Compute through num.c at the tape precision (special operands, errors,
 * rare functions).  is_fn selects sl_num_apply(what) over
 * sl_num_binop(what).  On success out holds the value.  On failure, with a
 * message precision below the tape's, the message is num.c's for the
 * arguments rounded to it (so it shows log(-0.1), not 40 guard digits). */
static bool slow(SlTape *t, bool is_fn, int what, const SlNode *args, int nargs, mpfr_ptr out, SlError *err)
{
    SlError e = {0};
    SlValue *r = num_call(t, is_fn, what, args, nargs, t->prec, &e);
    if (!r) {
        SlError e2 = {0};
        SlValue *r2 = NULL;
        if (t->msg_prec && t->msg_prec < t->prec)
            r2 = num_call(t, is_fn, what, args, nargs, t->msg_prec, &e2);
        SlError *use = !r2 && e2.set && e2.code == e.code ? &e2 : &e;
        if (err && !err->set) {
            *err = *use; /* the message moves to err */
            use->src = NULL;
        }
        if (r2)
            sl_unref(r2);
        sl_err_clear(&e);
        sl_err_clear(&e2);
        return false;
    }
    bool ok = true;
    switch (r->kind) {
    case SL_FLOAT: fit(out, mpfr_set(out, r->u.f, RNDN)); break;
    case SL_INT: fit(out, mpfr_set_z(out, r->u.z, RNDN)); break;
    case SL_BOOL: mpfr_set_ui(out, r->u.b, RNDN); break;
    default: ok = sl_err(err, SL_E_INTERNAL, "tape: num.c returned a non-number"); break;
    }
    sl_unref(r);
    return ok;
}

/* x is an odd integer (num.c's DOUBLE_IS_ODD_INTEGER). */
static bool odd_integer(SlTape *t, mpfr_srcptr x)
{
    if (!mpfr_number_p(x) || mpfr_zero_p(x) || !mpfr_integer_p(x))
        return false;
    if (mpfr_get_exp(x) > (mpfr_exp_t)mpfr_get_prec(x))
        return false;
    mpfr_div_2ui(t->s[4], x, 1, RNDN);
    return !mpfr_integer_p(t->s[4]);
}

/* Python's float % : fmod, then the sign of the divisor (num.c's float_mod). */
static void float_mod(mpfr_ptr mod, mpfr_srcptr vx, mpfr_srcptr wx)
{
    fit(mod, mpfr_fmod(mod, vx, wx, RNDN));
    if (!mpfr_zero_p(mod)) {
        if ((mpfr_sgn(wx) < 0) != (mpfr_sgn(mod) < 0))
            fit(mod, mpfr_add(mod, mod, wx, RNDN));
    } else {
        mpfr_set_zero(mod, mpfr_signbit(wx) ? -1 : 1);
    }
}

/* Python's float // (num.c's float_floordiv), into fd; uses s[1..3]. */
static void float_floordiv(SlTape *t, mpfr_ptr fd, mpfr_srcptr vx, mpfr_srcptr wx)
{
    mpfr_ptr mod = t->s[1], div = t->s[2], d = t->s[3];
    fit(mod, mpfr_fmod(mod, vx, wx, RNDN));
    fit(div, mpfr_sub(div, vx, mod, RNDN));
    fit(div, mpfr_div(div, div, wx, RNDN));
    if (!mpfr_zero_p(mod)) {
        if ((mpfr_sgn(wx) < 0) != (mpfr_sgn(mod) < 0)) {
            fit(mod, mpfr_add(mod, mod, wx, RNDN));
            fit(div, mpfr_sub_ui(div, div, 1, RNDN));
        }
    }
    if (!mpfr_zero_p(div)) {
        mpfr_floor(fd, div);
        mpfr_sub(d, div, fd, RNDN);
        if (mpfr_number_p(d) && mpfr_cmp_d(d, 0.5) > 0)
            fit(fd, mpfr_add_ui(fd, fd, 1, RNDN));
    } else {
        bool neg = mpfr_signbit(vx) != mpfr_signbit(wx);
        mpfr_set_zero(fd, neg ? -1 : 1);
    }
}

/* a ** b without num.c when the operands are ordinary; false to fall back
 * on num.c (special values, errors, overflow). */
static bool fast_pow(SlTape *t, mpfr_ptr r, mpfr_srcptr a, mpfr_srcptr b)
{
    if (!mpfr_regular_p(b))
        return false;
    if (mpfr_zero_p(a)) { /* 0.0 ** b for b > 0: a signed zero */
        if (mpfr_sgn(b) < 0)
            return false;
        mpfr_set_zero(r, odd_integer(t, b) && mpfr_signbit(a) ? -1 : 1);
        return true;
    }
    if (!mpfr_regular_p(a) || (mpfr_sgn(a) < 0 && !mpfr_integer_p(b)))
        return false;
    int tern;
    if (mpfr_integer_p(b) && mpfr_fits_slong_p(b, RNDN))
        tern = mpfr_pow_si(r, a, mpfr_get_si(b, RNDN), RNDN);
    else
        tern = mpfr_pow(r, a, b, RNDN);
    fit(r, tern);
    return !mpfr_inf_p(r);
}

/* The operators other than + - *, into n (not yet committed). */
static __attribute__((noinline)) bool binop_rare(SlTape *t, int op, Node *n, SlNode a, SlNode b, int *kind,
                                                 SlError *err)
{
    Node *na = node(t, a), *nb = node(t, b);
    mpfr_ptr r = &n->v;
    mpfr_srcptr x = &na->v, y = &nb->v;
    SlNode args[2] = {a, b};
    switch (op) {
    case SL_OP_DIV:
        if (mpfr_zero_p(y))
            return sl_err(err, SL_E_ZERODIV, "float division by zero"); /* as num.c */
        fit(r, mpfr_div(r, x, y, RNDN));
        *kind = N_DIV;
        return true;
    case SL_OP_FLOORDIV:
        if (mpfr_zero_p(y))
            return sl_err(err, SL_E_ZERODIV, "float floor division by zero");
        float_floordiv(t, r, x, y);
        *kind = N_CONST;
        return true;
    case SL_OP_MOD:
        if (mpfr_zero_p(y))
            return sl_err(err, SL_E_ZERODIV, "float modulo");
        float_mod(r, x, y);
        *kind = N_MOD;
        return true;
    case SL_OP_POW:
        if (!live(nb) && mpfr_zero_p(y)) {
            mpfr_set_ui(r, 1, RNDN); /* x ** 0 is 1 for every x, derivative 0 */
            *kind = N_CONST;
            return true;
        }
        if (!live(nb) && is_two(y)) { /* overflowed: num.c's error */
            fit(r, mpfr_sqr(r, x, RNDN));
            *kind = N_SQR;
            return !(mpfr_inf_p(r) && mpfr_number_p(x)) || slow(t, false, op, args, 2, r, err);
        }
        *kind = N_POW;
        return fast_pow(t, r, x, y) || slow(t, false, op, args, 2, r, err);
    default: return sl_err(err, SL_E_INTERNAL, "tape: not an arithmetic operator");
    }
}

bool sl_tape_binop(SlTape *t, int op, SlNode a, SlNode b, SlNode *out, SlError *err)
{
    if (bad_node(t, a, err) || bad_node(t, b, err) || full(t, err))
        return false;
    Node *n = slot(t), *na = node(t, a), *nb = node(t, b);
    mpfr_ptr r = &n->v;
    mpfr_srcptr x = &na->v, y = &nb->v;
    int kind;
    if (op == SL_OP_ADD) {
        fit(r, mpfr_add(r, x, y, RNDN));
        kind = N_ADD;
    } else if (op == SL_OP_SUB) {
        fit(r, mpfr_sub(r, x, y, RNDN));
        kind = N_SUB;
    } else if (op == SL_OP_MUL) {
        fit(r, mpfr_mul(r, x, y, RNDN));
        kind = N_MUL;
    } else if (op == SL_OP_POW && !live(nb) && is_two(y)) {
        fit(r, mpfr_sqr(r, x, RNDN));
        kind = N_SQR;
        if (mpfr_inf_p(r) && mpfr_number_p(x) && !binop_rare(t, op, n, a, b, &kind, err))
            return false;
    } else if (!binop_rare(t, op, n, a, b, &kind, err)) {
        return false;
    }
    if (!live(na) && !live(nb))
        kind = N_CONST;
    *out = commit(t, n, kind, a, b);
    return true;
}

bool sl_tape_unop(SlTape *t, int op, SlNode a, SlNode *out, SlError *err)
{
    if (bad_node(t, a, err))
        return false;
    if (op == SL_OP_POS) {
        *out = a;
        return true;
    }
    if (op != SL_OP_NEG)
        return sl_err(err, SL_E_INTERNAL, "tape: not a unary operator");
    if (full(t, err))
        return false;
    Node *n = slot(t), *na = node(t, a);
    copy(t, &n->v, &na->v, true);
    *out = commit(t, n, live(na) ? N_NEG : N_CONST, a, 0);
    return true;
}

bool sl_tape_neg(SlTape *t, SlNode a, SlNode *out)
{
    SlError e = {0};
    bool ok = sl_tape_unop(t, SL_OP_NEG, a, out, &e);
    sl_err_clear(&e);
    return ok;
}

/* sigmoid(x) = 1/(1 + exp(-x)), correctly rounded (num.c's math_sigmoid). */
static void sigmoid(SlTape *t, mpfr_ptr f, mpfr_srcptr x)
{
    mpfr_prec_t p = t->prec;
    if (mpfr_nan_p(x)) {
        mpfr_set_nan(f);
    } else if (mpfr_inf_p(x)) {
        mpfr_set_ui(f, mpfr_sgn(x) > 0, RNDN);
    } else if (mpfr_zero_p(x) || mpfr_get_exp(x) < -(mpfr_exp_t)p - 3) {
        mpfr_set_d(f, 0.5, RNDN);
    } else if (mpfr_sgn(x) > 0 && mpfr_cmp_ui(x, (unsigned long)p + 3) > 0) {
        mpfr_set_ui(f, 1, RNDN);
    } else {
        mpfr_prec_t w = p + 24;
        mpfr_ptr s = t->w;
        for (;;) {
            mpfr_neg(s, x, RNDN);
            mpfr_exp(s, s, RNDN);
            if (mpfr_inf_p(s)) {
                mpfr_set_zero(f, 1);
                break;
            }
            mpfr_add_ui(s, s, 1, RNDN);
            mpfr_ui_div(s, 1, s, RNDN);
            if (mpfr_can_round(s, w - 3, RNDN, MPFR_RNDZ, p + 1)) {
                fit(f, mpfr_set(f, s, RNDN));
                break;
            }
            w += w / 2;
            mpfr_set_prec(s, w);
        }
        if (w != p + 24)
            mpfr_set_prec(s, p + 24);
    }
}

typedef int (*MpfrFn1)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t);

/* Python's math_1 and loghelper: nan from a non-nan or inf from a finite
 * value is an error, which num.c reports (or, should it disagree, computes). */
static bool math_1(SlTape *t, SlMathFn fn, MpfrFn1 f, const SlNode *args, mpfr_ptr r, SlError *err)
{
    mpfr_srcptr x = &node(t, args[0])->v;
    fit(r, f(r, x, RNDN));
    if ((mpfr_nan_p(r) && !mpfr_nan_p(x)) || (mpfr_inf_p(r) && mpfr_number_p(x)))
        return slow(t, true, (int)fn, args, 1, r, err);
    return true;
}

static bool bad_result(mpfr_srcptr r, mpfr_srcptr x)
{
    return (mpfr_nan_p(r) && !mpfr_nan_p(x)) || (mpfr_inf_p(r) && mpfr_number_p(x));
}

bool sl_tape_fn(SlTape *t, SlMathFn fn, const SlNode *args, int nargs, SlNode *out, SlError *err)
{
    if ((unsigned)fn >= SL_FN_COUNT)
        return sl_err(err, SL_E_INTERNAL, "tape: bad function");
    for (int i = 0; i < nargs; i++)
        if (bad_node(t, args[i], err))
            return false;
    const SlMathFnInfo *info = &sl_math_fns[fn];
    if (nargs < info->min_args || (info->max_args >= 0 && nargs > info->max_args)) {
        mpfr_t dummy;
        mpfr_init2(dummy, t->prec);
        bool ok = slow(t, true, (int)fn, args, nargs, dummy, err); /* num.c's message */
        mpfr_clear(dummy);
        if (ok)
            sl_err(err, SL_E_INTERNAL, "tape: bad argument count");
        return false;
    }
    if (fn == SL_FN_MIN || fn == SL_FN_MAX) { /* the first extreme argument itself */
        SlNode best = args[0];
        for (int i = 1; i < nargs; i++) {
            mpfr_srcptr x = &node(t, args[i])->v, bx = &node(t, best)->v;
            if (fn == SL_FN_MAX ? mpfr_greater_p(x, bx) : mpfr_less_p(x, bx))
                best = args[i];
        }
        *out = best;
        return true;
    }
    if (full(t, err))
        return false;
    Node *n = slot(t), *na = node(t, args[0]);
    Node *nb = nargs > 1 ? node(t, args[1]) : NULL;
    mpfr_ptr r = &n->v;
    mpfr_srcptr x = &na->v;
    int kind;
    bool ok = true;
    switch (fn) {
    case SL_FN_SIN: ok = math_1(t, fn, mpfr_sin, args, r, err), kind = N_SIN; break;
    case SL_FN_COS: ok = math_1(t, fn, mpfr_cos, args, r, err), kind = N_COS; break;
    case SL_FN_TAN: ok = math_1(t, fn, mpfr_tan, args, r, err), kind = N_TAN; break;
    case SL_FN_ASIN: ok = math_1(t, fn, mpfr_asin, args, r, err), kind = N_ASIN; break;
    case SL_FN_ACOS: ok = math_1(t, fn, mpfr_acos, args, r, err), kind = N_ACOS; break;
    case SL_FN_ATAN: ok = math_1(t, fn, mpfr_atan, args, r, err), kind = N_ATAN; break;
    case SL_FN_SINH: ok = math_1(t, fn, mpfr_sinh, args, r, err), kind = N_SINH; break;
    case SL_FN_COSH: ok = math_1(t, fn, mpfr_cosh, args, r, err), kind = N_COSH; break;
    case SL_FN_TANH: ok = math_1(t, fn, mpfr_tanh, args, r, err), kind = N_TANH; break;
    case SL_FN_EXP: ok = math_1(t, fn, mpfr_exp, args, r, err), kind = N_EXP; break;
    case SL_FN_SQRT: ok = math_1(t, fn, mpfr_sqrt, args, r, err), kind = N_SQRT; break;
    case SL_FN_CBRT: ok = math_1(t, fn, mpfr_cbrt, args, r, err), kind = N_CBRT; break;
    case SL_FN_LOG2: ok = math_1(t, fn, mpfr_log2, args, r, err), kind = N_LOG2; break;
    case SL_FN_LOG10: ok = math_1(t, fn, mpfr_log10, args, r, err), kind = N_LOG10; break;
    case SL_FN_LOG:
        if (nargs == 1) {
            ok = math_1(t, fn, mpfr_log, args, r, err);
            kind = N_LOG;
            break;
        }
        kind = N_LOGB; /* log(x, base) = log(x) / log(base) */
        fit(t->s[0], mpfr_log(t->s[0], x, RNDN));
        fit(t->s[1], mpfr_log(t->s[1], &nb->v, RNDN));
        if (bad_result(t->s[0], x) || bad_result(t->s[1], &nb->v) || mpfr_zero_p(t->s[1]))
            ok = slow(t, true, (int)fn, args, nargs, r, err);
        else
            fit(r, mpfr_div(r, t->s[0], t->s[1], RNDN));
        break;
    case SL_FN_ATAN2:
        fit(r, mpfr_atan2(r, x, &nb->v, RNDN));
        kind = N_ATAN2;
        break;
    case SL_FN_ABS:
        mpfr_abs(r, x, RNDN);
        kind = N_ABS;
        break;
    case SL_FN_SIGN:
    case SL_FN_HEAVISIDE:
        if (mpfr_nan_p(x))
            mpfr_set_nan(r);
        else if (fn == SL_FN_SIGN)
            mpfr_set_si(r, mpfr_sgn(x), RNDN);
        else
            mpfr_set_ui(r, mpfr_sgn(x) > 0, RNDN);
        kind = N_CONST;
        break;
    case SL_FN_FLOOR:
    case SL_FN_CEIL:
    case SL_FN_ROUND: /* ints in Python: exact at the tape precision */
        kind = N_CONST;
        if (!mpfr_number_p(x) || nargs == 2) {
            ok = slow(t, true, (int)fn, args, nargs, r, err);
            break;
        }
        if (fn == SL_FN_FLOOR)
            mpfr_floor(r, x);
        else if (fn == SL_FN_CEIL)
            mpfr_ceil(r, x);
        else
            mpfr_rint(r, x, RNDN); /* half to even */
        if (mpfr_zero_p(r))
            mpfr_set_zero(r, 1); /* int 0 has no sign */
        break;
    case SL_FN_SIGMOID:
        sigmoid(t, r, x);
        kind = N_SIGMOID;
        break;
    case SL_FN_RELU:
        if (mpfr_nan_p(x) || mpfr_sgn(x) > 0)
            mpfr_set(r, x, RNDN);
        else
            mpfr_set_zero(r, 1);
        kind = N_RELU;
        break;
    default: {
        char msg[100];
        snprintf(msg, sizeof msg, "the reverse-mode tape has no derivative for %s()", info->name);
        return sl_err(err, SL_E_INTERNAL, msg);
    }
    }
    if (!ok)
        return false;
    bool any_live = false;
    for (int i = 0; i < nargs; i++)
        any_live = any_live || live(node(t, args[i]));
    if (!any_live)
        kind = N_CONST;
    *out = commit(t, n, kind, args[0], nargs > 1 ? args[1] : 0);
    return true;
}

/* ---- backward ---- */

/* adjoint(j) = or += (neg ? -x : x) */
static inline void acc_add(SlTape *t, Node *j, mpfr_srcptr x, bool neg)
{
    if (!live(j))
        return;
    if (j->gen != t->gen) {
        j->gen = t->gen;
        copy(t, &j->g, x, neg);
    } else {
        fit(&j->g, neg ? mpfr_sub(&j->g, &j->g, x, RNDN) : mpfr_add(&j->g, &j->g, x, RNDN));
    }
}

/* adjoint(j) = or += (neg ? -x*y : x*y) */
static inline void acc_mul(SlTape *t, Node *j, mpfr_srcptr x, mpfr_srcptr y, bool neg)
{
    if (!live(j))
        return;
    if (j->gen != t->gen) {
        j->gen = t->gen;
        fit(&j->g, mpfr_mul(&j->g, x, y, RNDN));
        if (neg)
            mpfr_neg(&j->g, &j->g, RNDN);
        return;
    }
    fit(t->acc, mpfr_mul(t->acc, x, y, RNDN));
    fit(&j->g, neg ? mpfr_sub(&j->g, &j->g, t->acc, RNDN) : mpfr_add(&j->g, &j->g, t->acc, RNDN));
}

/* adjoint(j) = or += 2*x*y */
static inline void acc_mul2(SlTape *t, Node *j, mpfr_srcptr x, mpfr_srcptr y)
{
    if (!live(j))
        return;
    if (j->gen != t->gen) {
        j->gen = t->gen;
        int r = mpfr_mul(&j->g, x, y, RNDN);
        twice(t, &j->g);
        fit(&j->g, r);
        return;
    }
    int r = mpfr_mul(t->acc, x, y, RNDN);
    twice(t, t->acc);
    fit(t->acc, r);
    fit(&j->g, mpfr_add(&j->g, &j->g, t->acc, RNDN));
}

/* adjoint(j) = or += (neg ? -x/y : x/y) */
static inline void acc_div(SlTape *t, Node *j, mpfr_srcptr x, mpfr_srcptr y, bool neg)
{
    if (!live(j))
        return;
    if (j->gen != t->gen) {
        j->gen = t->gen;
        fit(&j->g, mpfr_div(&j->g, x, y, RNDN));
        if (neg)
            mpfr_neg(&j->g, &j->g, RNDN);
        return;
    }
    fit(t->acc, mpfr_div(t->acc, x, y, RNDN));
    fit(&j->g, neg ? mpfr_sub(&j->g, &j->g, t->acc, RNDN) : mpfr_add(&j->g, &j->g, t->acc, RNDN));
}

/* A zero contribution: the node is reached (its inputs are visited, as in
 * PyTorch) but its adjoint does not change. */
static inline void acc_zero(SlTape *t, Node *j)
{
    if (!live(j) || j->gen == t->gen)
        return;
    j->gen = t->gen;
    mpfr_set_zero(&j->g, 1);
}

/* Propagate node n's adjoint to its operands. */
static inline __attribute__((always_inline)) void propagate(SlTape *t, Node *n)
{
    mpfr_srcptr g = &n->g, y = &n->v;
    mpfr_ptr s0 = t->s[0], s1 = t->s[1];
    Node *a = node(t, n->a), *b = node(t, n->b);
    mpfr_srcptr x = &a->v;
    switch (n->op) {
    case N_NEG: acc_add(t, a, g, true); break;
    case N_ADD:
        acc_add(t, a, g, false);
        acc_add(t, b, g, false);
        break;
    case N_SUB:
        acc_add(t, a, g, false);
        acc_add(t, b, g, true);
        break;
    case N_MUL:
        acc_mul(t, a, g, &b->v, false);
        acc_mul(t, b, g, x, false);
        break;
    case N_DIV: /* d/da = 1/b, d/db = -a/b² = -y/b */
        fit(s0, mpfr_div(s0, g, &b->v, RNDN));
        acc_add(t, a, s0, false);
        if (live(b))
            acc_mul(t, b, s0, y, true);
        break;
    case N_SQR: acc_mul2(t, a, g, x); break;
    case N_POW: {
        mpfr_srcptr e = &b->v;
        if (live(a)) {
            if (mpfr_zero_p(e)) {
                acc_zero(t, a);
            } else {
                if (mpfr_integer_p(e) && mpfr_fits_slong_p(e, RNDN)) {
                    long k = mpfr_get_si(e, RNDN);
                    fit(s0, mpfr_pow_si(s0, x, k - 1, RNDN));
                } else {
                    fit(s1, mpfr_sub_ui(s1, e, 1, RNDN));
                    fit(s0, mpfr_pow(s0, x, s1, RNDN));
                }
                fit(s0, mpfr_mul(s0, s0, e, RNDN));
                acc_mul(t, a, g, s0, false);
            }
        }
        if (live(b)) {
            if (mpfr_zero_p(x) && mpfr_sgn(e) >= 0) {
                acc_zero(t, b);
            } else {
                fit(s0, mpfr_log(s0, x, RNDN));
                fit(s0, mpfr_mul(s0, s0, y, RNDN));
                acc_mul(t, b, g, s0, false);
            }
        }
        break;
    }
    case N_MOD:
        acc_add(t, a, g, false);
        if (live(b)) {
            float_floordiv(t, s0, x, &b->v);
            acc_mul(t, b, g, s0, true);
        }
        break;
    case N_SIN:
        fit(s0, mpfr_cos(s0, x, RNDN));
        acc_mul(t, a, g, s0, false);
        break;
    case N_COS:
        fit(s0, mpfr_sin(s0, x, RNDN));
        acc_mul(t, a, g, s0, true);
        break;
    case N_TAN: /* 1 + tan² */
        fit(s0, mpfr_sqr(s0, y, RNDN));
        fit(s0, mpfr_add_ui(s0, s0, 1, RNDN));
        acc_mul(t, a, g, s0, false);
        break;
    case N_ASIN:
    case N_ACOS: /* ±1/sqrt((1-x)(1+x)) */
        fit(s0, mpfr_ui_sub(s0, 1, x, RNDN));
        fit(s1, mpfr_add_ui(s1, x, 1, RNDN));
        fit(s0, mpfr_mul(s0, s0, s1, RNDN));
        fit(s0, mpfr_sqrt(s0, s0, RNDN));
        acc_div(t, a, g, s0, n->op == N_ACOS);
        break;
    case N_ATAN: /* 1/(1+x²) */
        fit(s0, mpfr_sqr(s0, x, RNDN));
        fit(s0, mpfr_add_ui(s0, s0, 1, RNDN));
        acc_div(t, a, g, s0, false);
        break;
    case N_ATAN2: /* atan2(a, b): b/(a²+b²), -a/(a²+b²) */
        fit(s0, mpfr_sqr(s0, x, RNDN));
        fit(s1, mpfr_sqr(s1, &b->v, RNDN));
        fit(s0, mpfr_add(s0, s0, s1, RNDN));
        fit(s0, mpfr_div(s0, g, s0, RNDN));
        acc_mul(t, a, s0, &b->v, false);
        acc_mul(t, b, s0, x, true);
        break;
    case N_SINH:
        fit(s0, mpfr_cosh(s0, x, RNDN));
        acc_mul(t, a, g, s0, false);
        break;
    case N_COSH:
        fit(s0, mpfr_sinh(s0, x, RNDN));
        acc_mul(t, a, g, s0, false);
        break;
    case N_TANH: /* (1-y)(1+y), or sech²(x) where 1-|y| would cancel */
        if (!mpfr_regular_p(y) || mpfr_get_exp(y) <= 0) { /* |y| < 1/2 */
            fit(s0, mpfr_ui_sub(s0, 1, y, RNDN));
            fit(s1, mpfr_add_ui(s1, y, 1, RNDN));
            fit(s0, mpfr_mul(s0, s0, s1, RNDN));
        } else {
            fit(s0, mpfr_sech(s0, x, RNDN));
            fit(s0, mpfr_sqr(s0, s0, RNDN));
        }
        acc_mul(t, a, g, s0, false);
        break;
    case N_EXP: acc_mul(t, a, g, y, false); break;
    case N_LOG: acc_div(t, a, g, x, false); break;
    case N_LOG2:
    case N_LOG10:
        if (n->op == N_LOG10 && !t->have_ln10) {
            mpfr_log_ui(t->ln10, 10, RNDN);
            t->have_ln10 = true;
        }
        fit(s0, mpfr_mul(s0, x, n->op == N_LOG2 ? t->ln2 : t->ln10, RNDN));
        acc_div(t, a, g, s0, false);
        break;
    case N_LOGB: /* y = log(x)/log(b): 1/(x log b), -y/(b log b) */
        fit(s1, mpfr_log(s1, &b->v, RNDN));
        if (live(a)) {
            fit(s0, mpfr_mul(s0, x, s1, RNDN));
            acc_div(t, a, g, s0, false);
        }
        if (live(b)) {
            fit(s0, mpfr_mul(s0, &b->v, s1, RNDN));
            fit(s0, mpfr_div(s0, y, s0, RNDN));
            acc_mul(t, b, g, s0, true);
        }
        break;
    case N_SQRT: /* 1/(2y) */
        copy(t, s0, y, false);
        twice(t, s0);
        fit(s0, 0);
        acc_div(t, a, g, s0, false);
        break;
    case N_CBRT: /* 1/(3y²) */
        fit(s0, mpfr_sqr(s0, y, RNDN));
        fit(s0, mpfr_mul_ui(s0, s0, 3, RNDN));
        acc_div(t, a, g, s0, false);
        break;
    case N_ABS:
        if (mpfr_nan_p(x)) {
            mpfr_set_nan(s0);
            acc_add(t, a, s0, false);
        } else if (mpfr_zero_p(x)) {
            acc_zero(t, a);
        } else {
            acc_add(t, a, g, mpfr_sgn(x) < 0);
        }
        break;
    case N_SIGMOID: /* y(1-y); for y > 1/2, 1-y = y·exp(-x) without cancellation */
        if (!mpfr_number_p(x) || mpfr_cmp_ui_2exp(y, 1, -1) <= 0) {
            fit(s0, mpfr_ui_sub(s0, 1, y, RNDN));
        } else {
            fit(s0, mpfr_neg(s0, x, RNDN));
            fit(s0, mpfr_exp(s0, s0, RNDN));
            fit(s0, mpfr_mul(s0, s0, y, RNDN));
        }
        fit(s0, mpfr_mul(s0, s0, y, RNDN));
        acc_mul(t, a, g, s0, false);
        break;
    case N_RELU:
        if (mpfr_sgn(x) > 0 && !mpfr_nan_p(x))
            acc_add(t, a, g, false);
        else
            acc_zero(t, a);
        break;
    default: break; /* N_VAR, N_CONST: leaves */
    }
}

void sl_tape_backward(SlTape *t, SlNode output)
{
    assert(output < t->size);
    if (output >= t->size)
        return;
    if (t->gen == UINT32_MAX) { /* generations wrapped: clear every mark */
        for (size_t i = 0; i < t->size; i++)
            node(t, i)->gen = 0;
        t->gen = 0;
    }
    t->gen++;
    Node *out = node(t, output);
    out->gen = t->gen;
    mpfr_set_ui(&out->g, 1, RNDN);
    for (size_t i = output + 1; i-- > 0;) {
        Node *n = node(t, i);
        if (n->gen == t->gen && n->op > N_CONST)
            propagate(t, n);
    }
}

mpfr_srcptr sl_tape_adjoint(const SlTape *t, SlNode n)
{
    assert(n < t->size);
    if (n >= t->size)
        return t->zero;
    const Node *p = node(t, n);
    return p->gen == t->gen ? &p->g : t->zero;
}
