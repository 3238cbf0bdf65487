/* optim.c -- optimizers (optim.h): SGD, Adam and user optimizers.
 *
 * The updates of SGD and Adam are fused loops over the parameters' data,
 * written to round exactly as PyTorch 1.13's single-tensor code does on an
 * AVX2 CPU.  What each torch call rounds to, found by tests/gen_optim.py
 * and checked bit for bit by tests/unit/test_optim.c (vector body and
 * scalar tail alike):
 *
 *     t.add_(u, alpha=a)        fma(u, (T)a, t)          one rounding
 *     t.mul_(s)                 t * (T)s
 *     t.addcmul_(u, w, value=v) fma((T)v * u, w, t)      v*u rounded first
 *     t.addcdiv_(u, w, value=v) t + ((T)v * u) / w       three roundings
 *     t / s, t.add_(s)          t / (T)s, t + (T)s       s a Python float
 *
 * where T is the tensor's element type and Python floats (lr, -lr,
 * 1 - dampening, bias corrections) are computed in double first, as torch
 * computes them in Python.  This file is ISO C17, so the compiler does not
 * fuse a*b + c on its own; fma() is written where torch fuses.  mpfr
 * tensors get the same formulas at each parameter's precision, with the
 * hyper-parameters taken at their own precision (so lr=0.1 at :precision
 * 256 is 0.1 to 256 bits, not the double).
 *
 * State is allocated once per parameter (on its first step with a grad, as
 * torch's lazy state) and updated in place: a step allocates nothing for
 * float32/float64 contiguous parameters.
 */
#include "optim.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "eval_internal.h"
#include "num.h"
#include "tensor_value.h"

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

/* ---------------------------------------------------------------------------
 * Hyper-parameters
 * ------------------------------------------------------------------------- */

typedef enum OptKind { OPT_SGD, OPT_ADAM, OPT_USER } OptKind;

/* What a builtin's hyper-parameter accepts. */
typedef enum HyperType {
    H_NUM,   /* a number (bool, int, float) */
    H_FLAG,  /* anything with a truth value (Python's `if nesterov`) */
    H_BETAS, /* a pair of numbers */
    H_ANY    /* anything (foreach) */
} HyperType;

typedef struct HyperSpec {
    const char *name;   /* keyword */
    HyperType type;     /* what it accepts */
    bool kwonly;        /* keyword-only in torch's signature */
    const char *dflt;   /* default as slope source text; NULL: required */
} HyperSpec;

/* torch.optim.SGD(params, lr=required, momentum=0, dampening=0,
 *     weight_decay=0, nesterov=False, *, maximize=False, foreach=None,
 *     differentiable=False) */
enum { SGD_LR, SGD_MOMENTUM, SGD_DAMPENING, SGD_WD, SGD_NESTEROV, SGD_MAXIMIZE, SGD_FOREACH, SGD_DIFF, SGD_N };
static const HyperSpec sgd_spec[SGD_N] = {
    {"lr", H_NUM, false, NULL},           {"momentum", H_NUM, false, "0"},
    {"dampening", H_NUM, false, "0"},     {"weight_decay", H_NUM, false, "0"},
    {"nesterov", H_FLAG, false, "False"}, {"maximize", H_FLAG, true, "False"},
    {"foreach", H_ANY, true, "None"},     {"differentiable", H_FLAG, true, "False"},
};

/* torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
 *     weight_decay=0, amsgrad=False, *, foreach=None, maximize=False,
 *     capturable=False, differentiable=False, fused=False) */
enum { ADAM_LR, ADAM_BETAS, ADAM_EPS, ADAM_WD, ADAM_AMSGRAD, ADAM_FOREACH, ADAM_MAXIMIZE, ADAM_CAPTURABLE, ADAM_DIFF,
       ADAM_FUSED, ADAM_N };
static const HyperSpec adam_spec[ADAM_N] = {
    {"lr", H_NUM, false, "0.001"},          {"betas", H_BETAS, false, "(0.9, 0.999)"},
    {"eps", H_NUM, false, "1e-08"},         {"weight_decay", H_NUM, false, "0"},
    {"amsgrad", H_FLAG, false, "False"},    {"foreach", H_ANY, true, "None"},
    {"maximize", H_FLAG, true, "False"},    {"capturable", H_FLAG, true, "False"},
    {"differentiable", H_FLAG, true, "False"}, {"fused", H_FLAG, true, "False"},
};

/* The builtins' hyper-parameters as Python floats, for the update. */
typedef struct Coef {
    double lr, momentum, dampening, weight_decay; /* SGD (lr, weight_decay: Adam too) */
    double beta1, beta2, eps;                     /* Adam */
    bool nesterov, maximize, amsgrad;             /* flags */
} Coef;

struct SlOptim {
    SlObjType type;        /* the value's type: named after the optimizer */
    OptKind kind;          /* SGD, Adam or a user optimizer */
    char *name;            /* "SGD", "Adam", or the definition's name (malloc'd) */
    SlTensor **params;     /* owned references */
    size_t np;             /* their number */
    const HyperSpec *spec; /* builtins: hval's specs; NULL for user optimizers */
    const char **hname;    /* hyper-parameter names (static, or f's arena) */
    SlValue **hval;        /* owned: their values as given */
    size_t nh;             /* their number */
    Coef k;                /* builtins: hval as numbers (kept in sync) */
    SlTensor **buf[3];     /* per parameter, owned or NULL: SGD's momentum_buffer;
                              Adam's exp_avg, exp_avg_sq, max_exp_avg_sq */
    float *steps;          /* Adam: each parameter's step (a float32 tensor in torch) */
    SlFunc *func;          /* user: the definition (owned reference) */
    const char **sname;    /* user: state variables, in order of declaration */
    const SlAst **sinit;   /* user: their initialisers (f's arena) */
    size_t ns;             /* user: their number */
    SlValue **state;       /* user: np * ns values, owned, NULL before the first step */
};

/* A number compared with c at its own precision: -1, 0 or 1; *unordered
 * for NaN (and for values that are not numbers). */
static int num_cmp(const SlValue *v, long c, bool *unordered)
{
    *unordered = false;
    switch (v->kind) {
    case SL_BOOL: return (v->u.b > c) - (v->u.b < c);
    case SL_INT: return mpz_cmp_si(v->u.z, c) > 0 ? 1 : mpz_cmp_si(v->u.z, c) < 0 ? -1 : 0;
    case SL_FLOAT:
        if (mpfr_nan_p(v->u.f)) {
            *unordered = true;
            return 0;
        }
        return mpfr_cmp_si(v->u.f, c) > 0 ? 1 : mpfr_cmp_si(v->u.f, c) < 0 ? -1 : 0;
    default: *unordered = true; return 0;
    }
}

static bool lt(const SlValue *v, long c) /* v < c */
{
    bool u;
    int r = num_cmp(v, c, &u);
    return !u && r < 0;
}

static bool le(long c, const SlValue *v) /* c <= v */
{
    bool u;
    int r = num_cmp(v, c, &u);
    return !u && r >= 0;
}

static bool truth(const SlValue *v)
{
    bool ok;
    bool t = sl_truthy(v, &ok);
    return ok && t;
}

/* str(v), for messages and printing */
static char *str_of(const SlValue *v)
{
    SlBuf b;
    sl_buf_init(&b);
    sl_str(&b, v);
    return sl_buf_take(&b);
}

static bool err_value(SlError *err, const char *fmt, const SlValue *v)
{
    char *s = str_of(v);
    sl_err(err, SL_E_VALUE, fmt, s);
    free(s);
    return false;
}

/* Does v fit spec's type?  false + TypeError: torch's for the values its
 * constructor compares with 0 (lr < 0.0), else "SGD() argument dampening
 * must be a number, not str"; for opt.name = v (set): "SGD.lr must be ...". */
static bool hyper_type_ok(const char *fname, const HyperSpec *h, SlValue *v, bool set, SlError *err)
{
    const char *want = NULL;
    switch (h->type) {
    case H_NUM:
        if (sl_is_number(v))
            return true;
        if (!set && strcmp(h->name, "dampening") != 0)
            return sl_err(err, SL_E_TYPE, "'<' not supported between instances of '%s' and 'float'",
                          sl_type_name(v));
        want = "a number";
        break;
    case H_FLAG:
        if (sl_is_number(v) || v->kind == SL_NONE)
            return true;
        want = "a bool";
        break;
    case H_BETAS:
        if ((v->kind == SL_TUPLE || v->kind == SL_LIST) && v->u.list.len == 2 && sl_is_number(v->u.list.items[0]) &&
            sl_is_number(v->u.list.items[1]))
            return true;
        want = "a pair of numbers";
        break;
    case H_ANY: return true;
    }
    if (set)
        return sl_err(err, SL_E_TYPE, "%s.%s must be %s, not %s", fname, h->name, want, sl_type_name(v));
    return sl_err(err, SL_E_ARG_TYPE, fname, h->name, want, sl_type_name(v));
}

static void sync(SlOptim *o)
{
    SlValue **v = o->hval;
    Coef *k = &o->k;
    if (o->kind == OPT_SGD) {
        k->lr = v[SGD_LR] ? sl_num_to_double(v[SGD_LR]) : 0;
        k->momentum = sl_num_to_double(v[SGD_MOMENTUM]);
        k->dampening = sl_num_to_double(v[SGD_DAMPENING]);
        k->weight_decay = sl_num_to_double(v[SGD_WD]);
        k->nesterov = truth(v[SGD_NESTEROV]);
        k->maximize = truth(v[SGD_MAXIMIZE]);
    } else if (o->kind == OPT_ADAM) {
        k->lr = sl_num_to_double(v[ADAM_LR]);
        k->beta1 = sl_num_to_double(v[ADAM_BETAS]->u.list.items[0]);
        k->beta2 = sl_num_to_double(v[ADAM_BETAS]->u.list.items[1]);
        k->eps = sl_num_to_double(v[ADAM_EPS]);
        k->weight_decay = sl_num_to_double(v[ADAM_WD]);
        k->amsgrad = truth(v[ADAM_AMSGRAD]);
        k->maximize = truth(v[ADAM_MAXIMIZE]);
    }
}

/* torch's range checks, in its order (before the parameters are looked at). */
static bool check_ranges(OptKind kind, SlValue **v, SlError *err)
{
    if (kind == OPT_SGD) {
        if (v[SGD_LR] && lt(v[SGD_LR], 0))
            return err_value(err, "Invalid learning rate: %s", v[SGD_LR]);
        if (lt(v[SGD_MOMENTUM], 0))
            return err_value(err, "Invalid momentum value: %s", v[SGD_MOMENTUM]);
        if (lt(v[SGD_WD], 0))
            return err_value(err, "Invalid weight_decay value: %s", v[SGD_WD]);
        /* nesterov and (momentum <= 0 or dampening != 0) */
        bool um, ud;
        int m = num_cmp(v[SGD_MOMENTUM], 0, &um), d = num_cmp(v[SGD_DAMPENING], 0, &ud);
        if (truth(v[SGD_NESTEROV]) && ((!um && m <= 0) || ud || d != 0))
            return sl_err(err, SL_E_VALUE, "Nesterov momentum requires a momentum and zero dampening");
        return true;
    }
    if (!le(0, v[ADAM_LR]))
        return err_value(err, "Invalid learning rate: %s", v[ADAM_LR]);
    if (!le(0, v[ADAM_EPS]))
        return err_value(err, "Invalid epsilon value: %s", v[ADAM_EPS]);
    for (int i = 0; i < 2; i++) {
        SlValue *b = v[ADAM_BETAS]->u.list.items[i];
        if (!(le(0, b) && lt(b, 1)))
            return err_value(err, i == 0 ? "Invalid beta parameter at index 0: %s"
                                         : "Invalid beta parameter at index 1: %s",
                             b);
    }
    if (!le(0, v[ADAM_WD]))
        return err_value(err, "Invalid weight_decay value: %s", v[ADAM_WD]);
    return true;
}

/* What slope does not do (torch's words where it has them). */
static bool check_unsupported(OptKind kind, SlValue **v, SlError *err)
{
    if (kind == OPT_SGD && !v[SGD_LR])
        return sl_err(err, SL_E_VALUE,
                      "parameter group didn't specify a value of required optimization parameter lr");
    if (truth(v[kind == OPT_SGD ? SGD_DIFF : ADAM_DIFF]))
        return sl_err(err, SL_E_VALUE, "differentiable=True is not supported: slope's optimizers step in no_grad");
    if (kind == OPT_ADAM && truth(v[ADAM_FUSED]))
        return sl_err(err, SL_E_VALUE, "FusedAdam requires all the params to be CUDA, floating point");
    if (kind == OPT_ADAM && truth(v[ADAM_CAPTURABLE]))
        return sl_err(err, SL_E_VALUE, "If capturable=True, params and state_steps must be CUDA tensors.");
    return true;
}

/* ---------------------------------------------------------------------------
 * Construction and destruction
 * ------------------------------------------------------------------------- */

static void optim_free_data(void *data) { sl_optim_free(data); }
static void optim_repr_hook(const SlValue *v, FILE *out);
static SlValue *optim_getattr(SlValue *self, const char *name, SlError *err);
static bool optim_setattr(SlValue *self, const char *name, SlValue *v, SlError *err);
static const SlBuiltin *optim_method(const SlValue *self, const char *name);

static const SlObjType optim_type_template = {
    .name = "Optimizer",
    .free = optim_free_data,
    .repr = optim_repr_hook,
    .getattr = optim_getattr,
    .setattr = optim_setattr,
    .method = optim_method,
};

void sl_optim_free(SlOptim *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->np; i++) {
        sl_tensor_unref(o->params[i]);
        for (int b = 0; b < 3; b++)
            if (o->buf[b])
                sl_tensor_unref(o->buf[b][i]);
    }
    for (int b = 0; b < 3; b++)
        free(o->buf[b]);
    for (size_t i = 0; i < o->nh; i++)
        sl_unref(o->hval[i]);
    if (o->state)
        for (size_t i = 0; i < o->np * o->ns; i++)
            sl_unref(o->state[i]);
    free(o->state);
    free(o->params);
    free(o->hval);
    free(o->hname);
    free(o->steps);
    free(o->sname);
    free(o->sinit);
    if (o->func)
        sl_func_unref(o->func);
    free(o->name);
    free(o);
}

/* torch's checks on one parameter (Optimizer.add_param_group). */
static bool check_param(const SlTensor *t, SlError *err)
{
    if (!sl_tensor_is_leaf(t) && !t->retains_grad)
        return sl_err(err, SL_E_VALUE, "can't optimize a non-leaf Tensor");
    return true;
}

/* A new optimizer holding the parameters (references taken) and the
 * hyper-parameter values (references taken). */
static SlOptim *optim_alloc(OptKind kind, const char *name, SlTensor *const *params, size_t np, size_t nh)
{
    SlOptim *o = xcalloc(1, sizeof *o);
    o->kind = kind;
    o->name = strdup(name);
    if (!o->name)
        abort();
    o->type = optim_type_template;
    o->type.name = o->name;
    o->params = xcalloc(np, sizeof *o->params);
    for (size_t i = 0; i < np; i++)
        o->params[i] = sl_tensor_ref(params[i]);
    o->np = np;
    o->nh = nh;
    o->hname = xcalloc(nh, sizeof *o->hname);
    o->hval = xcalloc(nh, sizeof *o->hval);
    return o;
}

static SlOptim *builtin_new(OptKind kind, SlValue **vals, SlTensor *const *params, size_t np, SlError *err)
{
    if (!check_unsupported(kind, vals, err))
        return NULL;
    const HyperSpec *spec = kind == OPT_SGD ? sgd_spec : adam_spec;
    size_t nh = kind == OPT_SGD ? SGD_N : ADAM_N;
    SlOptim *o = optim_alloc(kind, kind == OPT_SGD ? "SGD" : "Adam", params, np, nh);
    o->spec = spec;
    for (size_t i = 0; i < nh; i++) {
        o->hname[i] = spec[i].name;
        o->hval[i] = sl_ref(vals[i]);
    }
    int nb = kind == OPT_SGD ? 1 : 3;
    for (int b = 0; b < nb; b++)
        o->buf[b] = xcalloc(np, sizeof *o->buf[b]);
    if (kind == OPT_ADAM)
        o->steps = xcalloc(np, sizeof *o->steps);
    sync(o);
    return o;
}

/* params as torch's Optimizer reads them: an iterable of tensors (a list,
 * a tuple, model.parameters()), or one tensor (which torch refuses). */
static SlTensor **collect_params(SlValue *pv, size_t *n, SlError *err)
{
    SlValue *items = NULL;
    SlValue *one[1] = {pv};
    SlValue **vs = one;
    size_t len = 1;
    if (!sl_tensor_of(pv)) {
        items = sl_iter_list(pv, err);
        if (!items)
            return NULL;
        vs = items->u.list.items;
        len = items->u.list.len;
    }
    if (len == 0) {
        sl_unref(items);
        return sl_err(err, SL_E_VALUE, "optimizer got an empty parameter list"), NULL;
    }
    SlTensor **ts = xcalloc(len, sizeof *ts);
    for (size_t i = 0; i < len; i++) {
        ts[i] = sl_tensor_of(vs[i]);
        if (!ts[i]) {
            sl_err(err, SL_E_TYPE, "optimizer can only optimize Tensors, but one of the params is %s",
                   sl_type_name(vs[i]));
            break;
        }
        if (!check_param(ts[i], err))
            break;
    }
    sl_unref(items);
    if (err->set) {
        free(ts);
        return NULL;
    }
    *n = len;
    return ts;
}

/* A default value written as slope source ("0", "0.001", "(0.9, 0.999)"),
 * parsed at the session precision. */
static SlValue *default_value(const char *text)
{
    if (strcmp(text, "None") == 0)
        return SL_NONE_V;
    if (strcmp(text, "False") == 0)
        return SL_FALSE_V;
    SlError e = {0};
    if (text[0] == '(') {
        SlValue *t = sl_tuple_new(2);
        char a[32], b[32];
        if (sscanf(text, "(%31[^,], %31[^)])", a, b) != 2)
            abort();
        sl_list_push_take(t, sl_num_parse_float(a, &e));
        sl_list_push_take(t, sl_num_parse_float(b, &e));
        return t;
    }
    SlValue *v = strpbrk(text, ".e") ? sl_num_parse_float(text, &e) : sl_int_si(atol(text));
    if (!v)
        abort();
    return v;
}

/* Arguments of SGD(...) / Adam(...) into vals (new references, defaults
 * filled, lr left NULL when SGD's is missing) and *pv (borrowed). */
static bool bind_builtin(SlCall *c, const char *fname, const HyperSpec *spec, size_t nh, SlValue **pv,
                         SlValue **vals)
{
    const char *allowed[16];
    size_t na = 0, npos = 1;
    allowed[na++] = "params";
    for (size_t i = 0; i < nh; i++) {
        allowed[na++] = spec[i].name;
        npos += !spec[i].kwonly;
    }
    allowed[na] = NULL;
    if (!sl_call_keywords(c, fname, allowed) || (c->nargs > npos && !sl_call_arity(c, fname, 1, npos)))
        return false;
    *pv = c->nargs > 0 ? c->args[0] : NULL;
    SlValue *given[16] = {0};
    for (size_t i = 1; i < c->nargs; i++)
        given[i - 1] = c->args[i]; /* positional hypers come first in spec */
    for (size_t k = 0; k < c->nkw; k++) {
        const char *kw = c->kwnames[k];
        if (strcmp(kw, "params") == 0) {
            if (*pv)
                return sl_err(c->err, SL_E_ARG_DUPLICATE, fname, kw);
            *pv = c->kwargs[k];
            continue;
        }
        for (size_t i = 0; i < nh; i++)
            if (strcmp(spec[i].name, kw) == 0) {
                if (given[i])
                    return sl_err(c->err, SL_E_ARG_DUPLICATE, fname, kw);
                given[i] = c->kwargs[k];
            }
    }
    if (!*pv)
        return sl_err(c->err, SL_E_ARG_MISSING, fname, "params");
    for (size_t i = 0; i < nh; i++)
        if (given[i] && !hyper_type_ok(fname, &spec[i], given[i], false, c->err))
            return false;
    for (size_t i = 0; i < nh; i++)
        vals[i] = given[i] ? sl_ref(given[i]) : spec[i].dflt ? default_value(spec[i].dflt) : NULL;
    return true;
}

static SlValue *make_builtin(SlCall *c, OptKind kind)
{
    const char *fname = kind == OPT_SGD ? "SGD" : "Adam";
    const HyperSpec *spec = kind == OPT_SGD ? sgd_spec : adam_spec;
    size_t nh = kind == OPT_SGD ? SGD_N : ADAM_N;
    SlValue *vals[16] = {0}, *pv = NULL;
    SlValue *result = NULL;
    SlTensor **ts = NULL;
    size_t np = 0;
    if (bind_builtin(c, fname, spec, nh, &pv, vals) && check_ranges(kind, vals, c->err) &&
        (ts = collect_params(pv, &np, c->err))) {
        SlOptim *o = builtin_new(kind, vals, ts, np, c->err);
        if (o)
            result = sl_optim_value(o);
    }
    free(ts);
    for (size_t i = 0; i < nh; i++)
        sl_unref(vals[i]);
    return result;
}

static SlValue *b_SGD(SlCall *c) { return make_builtin(c, OPT_SGD); }
static SlValue *b_Adam(SlCall *c) { return make_builtin(c, OPT_ADAM); }

/* ---- from C ------------------------------------------------------------- */

static SlValue *num_value(double d)
{
    return d == 0 && !signbit(d) ? sl_int_si(0) : sl_float_d(d);
}

static SlOptim *c_new(OptKind kind, SlValue **vals, size_t nh, SlTensor *const *params, size_t n, SlError *err)
{
    SlOptim *o = NULL;
    bool ok = check_ranges(kind, vals, err);
    if (ok && n == 0)
        ok = sl_err(err, SL_E_VALUE, "optimizer got an empty parameter list");
    for (size_t i = 0; ok && i < n; i++)
        ok = check_param(params[i], err);
    if (ok)
        o = builtin_new(kind, vals, params, n, err);
    for (size_t i = 0; i < nh; i++)
        sl_unref(vals[i]);
    return o;
}

SlOptim *sl_optim_sgd(SlTensor *const *params, size_t n, const SlSgdOptions *opt, SlError *err)
{
    SlValue *v[SGD_N];
    v[SGD_LR] = sl_float_d(opt->lr);
    v[SGD_MOMENTUM] = num_value(opt->momentum);
    v[SGD_DAMPENING] = num_value(opt->dampening);
    v[SGD_WD] = num_value(opt->weight_decay);
    v[SGD_NESTEROV] = sl_bool(opt->nesterov);
    v[SGD_MAXIMIZE] = sl_bool(opt->maximize);
    v[SGD_FOREACH] = SL_NONE_V;
    v[SGD_DIFF] = SL_FALSE_V;
    return c_new(OPT_SGD, v, SGD_N, params, n, err);
}

SlAdamOptions sl_adam_defaults(void)
{
    return (SlAdamOptions){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
}

SlOptim *sl_optim_adam(SlTensor *const *params, size_t n, const SlAdamOptions *opt, SlError *err)
{
    SlValue *v[ADAM_N];
    v[ADAM_LR] = sl_float_d(opt->lr);
    v[ADAM_BETAS] = sl_tuple_new(2);
    sl_list_push_take(v[ADAM_BETAS], num_value(opt->beta1));
    sl_list_push_take(v[ADAM_BETAS], num_value(opt->beta2));
    v[ADAM_EPS] = num_value(opt->eps);
    v[ADAM_WD] = num_value(opt->weight_decay);
    v[ADAM_AMSGRAD] = sl_bool(opt->amsgrad);
    v[ADAM_FOREACH] = SL_NONE_V;
    v[ADAM_MAXIMIZE] = sl_bool(opt->maximize);
    v[ADAM_CAPTURABLE] = SL_FALSE_V;
    v[ADAM_DIFF] = SL_FALSE_V;
    v[ADAM_FUSED] = SL_FALSE_V;
    return c_new(OPT_ADAM, v, ADAM_N, params, n, err);
}

/* ---------------------------------------------------------------------------
 * The update kernels (contiguous data; see the top of the file for the
 * roundings).  T is float or double, FMA fmaf or fma.
 * ------------------------------------------------------------------------- */

/* _single_tensor_sgd for one parameter:
 *     d_p = grad (negated when maximize)
 *     d_p = d_p.add(param, alpha=weight_decay)          if weight_decay != 0
 *     buf = clone(d_p) at first, else buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
 *     d_p = d_p.add(buf, alpha=momentum) if nesterov else buf
 *     param.add_(d_p, alpha=-lr) */
#define SGD_KERNEL(NAME, T, FMA, ATTR)                                                                          \
    ATTR static void NAME(T *p, const T *g, T *buf, bool first, int64_t n, const Coef *k)                     \
    {                                                                                                          \
        const T nlr = (T)(-k->lr), mom = (T)k->momentum, damp = (T)(1.0 - k->dampening);                       \
        const T wd = (T)k->weight_decay;                                                                       \
        const bool use_wd = k->weight_decay != 0, neg = k->maximize, nest = k->nesterov;                       \
        if (!buf && !use_wd && !neg) {                                                                         \
            for (int64_t i = 0; i < n; i++)                                                                    \
                p[i] = FMA(g[i], nlr, p[i]);                                                                   \
            return;                                                                                            \
        }                                                                                                      \
        if (buf && !first && !use_wd && !neg && !nest) {                                                       \
            for (int64_t i = 0; i < n; i++) {                                                                  \
                T b = FMA(g[i], damp, buf[i] * mom);                                                           \
                buf[i] = b;                                                                                    \
                p[i] = FMA(b, nlr, p[i]);                                                                      \
            }                                                                                                  \
            return;                                                                                            \
        }                                                                                                      \
        for (int64_t i = 0; i < n; i++) {                                                                      \
            T d = neg ? -g[i] : g[i];                                                                          \
            if (use_wd)                                                                                        \
                d = FMA(p[i], wd, d);                                                                          \
            if (buf) {                                                                                         \
                T b = first ? d : FMA(d, damp, buf[i] * mom);                                                  \
                buf[i] = b;                                                                                    \
                d = nest ? FMA(b, mom, d) : b;                                                                 \
            }                                                                                                  \
            p[i] = FMA(d, nlr, p[i]);                                                                          \
        }                                                                                                      \
    }

/* Each kernel twice: portable (fma() from libm) and, on x86-64 CPUs that
 * have it, compiled for the FMA instructions (the same roundings, a few
 * times faster than calling libm per element). */
static int use_hw_fma = -1; /* -1: not decided yet */

#if defined(__GNUC__) && defined(__x86_64__)
#define FMA_TARGET __attribute__((target("fma")))
static bool cpu_fma(void) { return __builtin_cpu_supports("fma") != 0; }
#else
#define FMA_TARGET
static bool cpu_fma(void) { return false; }
#endif

static bool cpu_has_fma(void)
{
    if (use_hw_fma < 0)
        use_hw_fma = cpu_fma();
    return use_hw_fma;
}

bool sl_optim_hw_fma(int on)
{
    if (on >= 0)
        use_hw_fma = on && cpu_fma();
    return cpu_has_fma();
}
#define NO_TARGET

SGD_KERNEL(sgd_f32, float, fmaf, NO_TARGET)
SGD_KERNEL(sgd_f64, double, fma, NO_TARGET)
SGD_KERNEL(sgd_f32_fma, float, fmaf, FMA_TARGET)
SGD_KERNEL(sgd_f64_fma, double, fma, FMA_TARGET)

/* Adam's bias corrections for one step, as torch computes them in Python. */
typedef struct AdamStep {
    double step_size;     /* lr / (1 - beta1 ** step) */
    double bc2_sqrt;      /* math.sqrt(1 - beta2 ** step) */
} AdamStep;

static AdamStep adam_step(const Coef *k, double step)
{
    AdamStep a;
    a.step_size = k->lr / (1.0 - pow(k->beta1, step));
    a.bc2_sqrt = sqrt(1.0 - pow(k->beta2, step));
    return a;
}

/* _single_tensor_adam for one parameter:
 *     grad = grad (negated when maximize); grad.add(param, alpha=weight_decay)
 *     exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
 *     exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
 *     torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)  (amsgrad)
 *     denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)  (or the max's)
 *     param.addcdiv_(exp_avg, denom, value=-step_size) */
#define ADAM_KERNEL(NAME, T, FMA, SQRT, ATTR)                                                                  \
    ATTR static void NAME(T *p, const T *g, T *ea, T *es, T *mx, int64_t n, const Coef *k, AdamStep a)        \
    {                                                                                                          \
        const T b1 = (T)k->beta1, a1 = (T)(1.0 - k->beta1), b2 = (T)k->beta2, a2 = (T)(1.0 - k->beta2);        \
        const T den = (T)a.bc2_sqrt, eps = (T)k->eps, nss = (T)(-a.step_size), wd = (T)k->weight_decay;        \
        const bool use_wd = k->weight_decay != 0, neg = k->maximize;                                           \
        for (int64_t i = 0; i < n; i++) {                                                                      \
            T d = neg ? -g[i] : g[i];                                                                          \
            if (use_wd)                                                                                        \
                d = FMA(p[i], wd, d);                                                                          \
            T m = FMA(d, a1, ea[i] * b1);                                                                      \
            T v = FMA(a2 * d, d, es[i] * b2);                                                                  \
            ea[i] = m;                                                                                         \
            es[i] = v;                                                                                         \
            if (mx) {                                                                                          \
                T x = mx[i];                                                                                   \
                x = (x != x || v != v) ? (T)NAN : x < v ? v : x;                                               \
                mx[i] = x;                                                                                     \
                v = x;                                                                                         \
            }                                                                                                  \
            T dn = SQRT(v) / den + eps;                                                                        \
            p[i] = p[i] + nss * m / dn;                                                                        \
        }                                                                                                      \
    }

ADAM_KERNEL(adam_f32, float, fmaf, sqrtf, NO_TARGET)
ADAM_KERNEL(adam_f64, double, fma, sqrt, NO_TARGET)
ADAM_KERNEL(adam_f32_fma, float, fmaf, sqrtf, FMA_TARGET)
ADAM_KERNEL(adam_f64_fma, double, fma, sqrt, FMA_TARGET)

/* ---- mpfr: the same formulas at the parameter's precision --------------- */

/* x = v (a number) rounded to x's precision */
static void to_m(mpfr_ptr x, const SlValue *v) { sl_num_to_mpfr(x, v); }

/* x = 1 - v, one rounding to x's precision */
static void one_minus_m(mpfr_ptr x, const SlValue *v)
{
    mpfr_t t;
    mpfr_init2(t, v->kind == SL_FLOAT ? mpfr_get_prec(v->u.f) : 128);
    to_m(t, v);
    mpfr_ui_sub(x, 1, t, MPFR_RNDN);
    mpfr_clear(t);
}

static void sgd_m(SlOptim *o, __mpfr_struct *p, const __mpfr_struct *g, __mpfr_struct *buf, bool first,
                  int64_t n, mpfr_prec_t prec)
{
    const Coef *k = &o->k;
    mpfr_t nlr, mom, damp, wd, d, t;
    if (!buf && !k->maximize && k->weight_decay == 0) {
        /* plain SGD: p += (-lr) * grad, one rounding (the grad is read in
         * place when copying it to the parameter's precision is exact) */
        mpfr_init2(nlr, prec);
        to_m(nlr, o->hval[SGD_LR]);
        mpfr_neg(nlr, nlr, MPFR_RNDN);
        mpfr_init2(d, prec);
        /* at 53 bits one fma in doubles is mpfr's (a single rounding of the
         * exact value either way) when the operands are doubles and the
         * result a normal one; any other element goes through mpfr */
        double ld;
        bool d53 = prec == 53 && sl_m53_get(nlr, -1021, &ld);
        for (int64_t i = 0; i < n; i++) {
            double gd, pd;
            if (d53 && mpfr_get_prec(&g[i]) == 53 && sl_m53_get(&g[i], -1021, &gd) && sl_m53_get(&p[i], -1021, &pd)) {
                double r = fma(gd, ld, pd);
                if (isfinite(r) && fabs(r) >= 0x1p-1021) {
                    sl_m53_set(&p[i], r);
                    continue;
                }
            }
            mpfr_srcptr gi = &g[i];
            if (mpfr_get_prec(gi) > prec) {
                mpfr_set(d, gi, MPFR_RNDN);
                gi = d;
            }
            mpfr_fma(&p[i], gi, nlr, &p[i], MPFR_RNDN);
        }
        mpfr_clears(nlr, d, (mpfr_ptr)0);
        return;
    }
    mpfr_inits2(prec, nlr, mom, damp, wd, d, t, (mpfr_ptr)0);
    to_m(nlr, o->hval[SGD_LR]);
    mpfr_neg(nlr, nlr, MPFR_RNDN);
    to_m(mom, o->hval[SGD_MOMENTUM]);
    one_minus_m(damp, o->hval[SGD_DAMPENING]);
    to_m(wd, o->hval[SGD_WD]);
    for (int64_t i = 0; i < n; i++) {
        mpfr_set(d, &g[i], MPFR_RNDN);
        if (k->maximize)
            mpfr_neg(d, d, MPFR_RNDN);
        if (k->weight_decay != 0)
            mpfr_fma(d, &p[i], wd, d, MPFR_RNDN);
        if (buf) {
            if (first) {
                mpfr_set(&buf[i], d, MPFR_RNDN);
            } else {
                mpfr_mul(t, &buf[i], mom, MPFR_RNDN);
                mpfr_fma(&buf[i], d, damp, t, MPFR_RNDN);
            }
            if (k->nesterov)
                mpfr_fma(d, &buf[i], mom, d, MPFR_RNDN);
            else
                mpfr_set(d, &buf[i], MPFR_RNDN);
        }
        mpfr_fma(&p[i], d, nlr, &p[i], MPFR_RNDN);
    }
    mpfr_clears(nlr, mom, damp, wd, d, t, (mpfr_ptr)0);
}

static void adam_m(SlOptim *o, __mpfr_struct *p, const __mpfr_struct *g, __mpfr_struct *ea, __mpfr_struct *es,
                   __mpfr_struct *mx, int64_t n, mpfr_prec_t prec, float step)
{
    const Coef *k = &o->k;
    SlValue *betas = o->hval[ADAM_BETAS];
    mpfr_t b1, a1, b2, a2, den, eps, nss, wd, d, t, u;
    mpfr_inits2(prec, b1, a1, b2, a2, den, eps, nss, wd, d, t, u, (mpfr_ptr)0);
    to_m(b1, betas->u.list.items[0]);
    one_minus_m(a1, betas->u.list.items[0]);
    to_m(b2, betas->u.list.items[1]);
    one_minus_m(a2, betas->u.list.items[1]);
    to_m(eps, o->hval[ADAM_EPS]);
    to_m(wd, o->hval[ADAM_WD]);
    /* step_size = lr / (1 - beta1^step), bc2_sqrt = sqrt(1 - beta2^step) */
    unsigned long st = (unsigned long)step;
    mpfr_pow_ui(t, b1, st, MPFR_RNDN);
    mpfr_ui_sub(t, 1, t, MPFR_RNDN);
    to_m(nss, o->hval[ADAM_LR]);
    mpfr_div(nss, nss, t, MPFR_RNDN);
    mpfr_neg(nss, nss, MPFR_RNDN);
    mpfr_pow_ui(t, b2, st, MPFR_RNDN);
    mpfr_ui_sub(t, 1, t, MPFR_RNDN);
    mpfr_sqrt(den, t, MPFR_RNDN);
    for (int64_t i = 0; i < n; i++) {
        mpfr_set(d, &g[i], MPFR_RNDN);
        if (k->maximize)
            mpfr_neg(d, d, MPFR_RNDN);
        if (k->weight_decay != 0)
            mpfr_fma(d, &p[i], wd, d, MPFR_RNDN);
        mpfr_mul(t, &ea[i], b1, MPFR_RNDN);
        mpfr_fma(&ea[i], d, a1, t, MPFR_RNDN);
        mpfr_mul(t, &es[i], b2, MPFR_RNDN);
        mpfr_mul(u, a2, d, MPFR_RNDN);
        mpfr_fma(&es[i], u, d, t, MPFR_RNDN);
        mpfr_srcptr v = &es[i];
        if (mx) {
            if (mpfr_nan_p(&mx[i]) || mpfr_nan_p(&es[i]))
                mpfr_set_nan(&mx[i]);
            else if (mpfr_less_p(&mx[i], &es[i]))
                mpfr_set(&mx[i], &es[i], MPFR_RNDN);
            v = &mx[i];
        }
        mpfr_sqrt(t, v, MPFR_RNDN);
        mpfr_div(t, t, den, MPFR_RNDN);
        mpfr_add(t, t, eps, MPFR_RNDN);
        mpfr_mul(u, nss, &ea[i], MPFR_RNDN);
        mpfr_div(u, u, t, MPFR_RNDN);
        mpfr_add(&p[i], &p[i], u, MPFR_RNDN);
    }
    mpfr_clears(b1, a1, b2, a2, den, eps, nss, wd, d, t, u, (mpfr_ptr)0);
}

/* ---------------------------------------------------------------------------
 * step() and zero_grad()
 * ------------------------------------------------------------------------- */

#define DATA(t, T) ((T *)(t)->storage->data + (t)->offset)

static bool same_shape(const SlTensor *a, const SlTensor *b)
{
    return a->ndim == b->ndim && memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof a->shape[0]) == 0;
}

/* The parameter's grad fits it (torch checks this when .grad is set). */
static bool grad_ok(const SlOptim *o, size_t i, SlError *err)
{
    const SlTensor *p = o->params[i], *g = p->grad;
    if (!sl_dtype_is_float(p->dtype))
        return sl_err(err, SL_E_TYPE, "%s can only update floating-point tensors, but parameter %zu is %s",
                      o->name, i, sl_dtype_name(p->dtype));
    if (g->dtype != p->dtype)
        return sl_err(err, SL_E_TYPE, "the gradient of parameter %zu is %s, but the parameter is %s", i,
                      sl_dtype_name(g->dtype), sl_dtype_name(p->dtype));
    if (!same_shape(p, g)) {
        char a[16 * SL_TENSOR_MAXDIM], b[16 * SL_TENSOR_MAXDIM];
        sl_shape_str(a, sizeof a, g->ndim, g->shape);
        sl_shape_str(b, sizeof b, p->ndim, p->shape);
        return sl_err(err, SL_E_VALUE, "the gradient of parameter %zu has shape %s, but the parameter %s", i, a, b);
    }
    return true;
}

/* State buffer b of parameter i, zeros like it on first use; *fresh says so. */
static SlTensor *state_buf(SlOptim *o, int b, size_t i, bool *fresh, SlError *err)
{
    if (fresh)
        *fresh = false;
    if (!o->buf[b][i]) {
        o->buf[b][i] = sl_tensor_zeros_like(o->params[i], err);
        if (fresh)
            *fresh = true;
    }
    return o->buf[b][i];
}

static bool builtin_step_param(SlOptim *o, size_t i, SlError *err)
{
    SlTensor *p = o->params[i];
    const SlTensor *g = p->grad;
    if (o->kind == OPT_SGD && o->k.momentum == 0 && (p->dtype == SL_DT_F32 || p->dtype == SL_DT_F64) &&
        g->dtype == p->dtype && sl_tensor_same_shape(p, g) && sl_tensor_is_contiguous(p) &&
        sl_tensor_is_contiguous(g)) {
        /* plain SGD on contiguous float tensors (what the general path below
         * does for them, without its checks and copies) */
        bool hw = cpu_has_fma();
        int64_t n = sl_tensor_numel(p);
        if (p->dtype == SL_DT_F32)
            (hw ? sgd_f32_fma : sgd_f32)(DATA(p, float), DATA(g, float), NULL, false, n, &o->k);
        else
            (hw ? sgd_f64_fma : sgd_f64)(DATA(p, double), DATA(g, double), NULL, false, n, &o->k);
        sl_tensor_bump_version(p);
        return true;
    }
    if (!grad_ok(o, i, err))
        return false;
    SlTensor *b0 = NULL, *b1 = NULL, *b2 = NULL;
    bool first = false;
    if (o->kind == OPT_SGD) {
        if (o->k.momentum != 0 && !(b0 = state_buf(o, 0, i, &first, err)))
            return false;
    } else {
        if (!(b0 = state_buf(o, 0, i, NULL, err)) || !(b1 = state_buf(o, 1, i, NULL, err)))
            return false;
        if (o->k.amsgrad && !(b2 = state_buf(o, 2, i, NULL, err)))
            return false;
        o->steps[i] = o->steps[i] + 1.0f; /* step_t += 1 (float32) */
    }
    /* parameters and grads are contiguous in practice; others go through a copy */
    SlTensor *pc = sl_tensor_contiguous(p), *gc = sl_tensor_contiguous(p->grad);
    int64_t n = sl_tensor_numel(p);
    AdamStep a = {0, 0};
    if (o->kind == OPT_ADAM)
        a = adam_step(&o->k, (double)o->steps[i]);
    bool hw = cpu_has_fma();
    switch (p->dtype) {
    case SL_DT_F32:
        if (o->kind == OPT_SGD)
            (hw ? sgd_f32_fma : sgd_f32)(DATA(pc, float), DATA(gc, float), b0 ? DATA(b0, float) : NULL, first, n,
                                         &o->k);
        else
            (hw ? adam_f32_fma : adam_f32)(DATA(pc, float), DATA(gc, float), DATA(b0, float), DATA(b1, float),
                                           b2 ? DATA(b2, float) : NULL, n, &o->k, a);
        break;
    case SL_DT_F64:
        if (o->kind == OPT_SGD)
            (hw ? sgd_f64_fma : sgd_f64)(DATA(pc, double), DATA(gc, double), b0 ? DATA(b0, double) : NULL, first,
                                         n, &o->k);
        else
            (hw ? adam_f64_fma : adam_f64)(DATA(pc, double), DATA(gc, double), DATA(b0, double),
                                           DATA(b1, double), b2 ? DATA(b2, double) : NULL, n, &o->k, a);
        break;
    default: {
        mpfr_prec_t prec = sl_tensor_prec(p);
        if (o->kind == OPT_SGD)
            sgd_m(o, DATA(pc, __mpfr_struct), DATA(gc, __mpfr_struct), b0 ? DATA(b0, __mpfr_struct) : NULL, first,
                  n, prec);
        else
            adam_m(o, DATA(pc, __mpfr_struct), DATA(gc, __mpfr_struct), DATA(b0, __mpfr_struct),
                   DATA(b1, __mpfr_struct), b2 ? DATA(b2, __mpfr_struct) : NULL, n, prec, o->steps[i]);
        break;
    }
    }
    bool ok = true;
    if (pc != p)
        ok = sl_tensor_copy_(p, pc, err);
    sl_tensor_unref(pc);
    sl_tensor_unref(gc);
    sl_tensor_bump_version(p);
    return ok;
}

/* ---- user optimizers: the body once per parameter ------------------------ */

/* The state a `state v = init` starts from: a number n is a tensor full of
 * n like p (p's dtype and shape); anything else is taken as it is. */
static SlValue *state_start(SlValue *init, const SlTensor *p, SlError *err)
{
    if (!sl_is_number(init))
        return sl_ref(init);
    SlTensor *t;
    if (p->dtype == SL_DT_MPFR) {
        mpfr_t x;
        mpfr_init2(x, sl_tensor_prec(p));
        sl_num_to_mpfr(x, init);
        t = sl_tensor_full_m(p->dtype, p->ndim, p->shape, sl_tensor_prec(p), x, err);
        mpfr_clear(x);
    } else {
        t = sl_tensor_full_d(p->dtype, p->ndim, p->shape, 0, sl_num_to_double(init), err);
    }
    return sl_tensor_value(t);
}

/* The first `p = ...` of a body (where the parameter gets lost). */
static const SlAst *find_rebind(const SlAst *n)
{
    if (!n || n->kind == SL_AST_DEF || n->kind == SL_AST_FUNCDEF || n->kind == SL_AST_OPTIMIZER)
        return NULL;
    if (n->kind == SL_AST_ASSIGN) {
        const SlAst *t = n->a;
        bool hit = t->kind == SL_AST_NAME && strcmp(t->text, "p") == 0 && (n->op == SL_OP_ASSIGN || n->op == '=');
        for (size_t i = 0; !hit && (t->kind == SL_AST_TUPLE || t->kind == SL_AST_LIST) && i < t->nitems; i++)
            hit = t->items[i]->kind == SL_AST_NAME && strcmp(t->items[i]->text, "p") == 0;
        return hit ? n : NULL;
    }
    if (n->kind != SL_AST_BLOCK && n->kind != SL_AST_IF && n->kind != SL_AST_WHILE && n->kind != SL_AST_FOR &&
        n->kind != SL_AST_NOGRAD)
        return NULL;
    const SlAst *kids[3] = {n->a, n->b, n->c};
    for (int k = 0; k < 3; k++) {
        const SlAst *r = find_rebind(kids[k]);
        if (r)
            return r;
    }
    for (size_t i = 0; i < n->nitems; i++) {
        const SlAst *r = find_rebind(n->items[i]);
        if (r)
            return r;
    }
    return NULL;
}

static bool user_step_param(SlOptim *o, SlSession *s, size_t i, SlError *err)
{
    SlTensor *p = o->params[i];
    SlScope locals;
    sl_scope_init(&locals);
    SlValue *pv = sl_tensor_value(sl_tensor_ref(p));
    sl_scope_set(&locals, "p", pv);
    for (size_t h = 0; h < o->nh; h++)
        sl_scope_set(&locals, o->hname[h], o->hval[h]);
    SlValue **st = o->state + i * o->ns;
    bool ok = true;
    for (size_t j = 0; j < o->ns && ok; j++) {
        SlValue *v = st[j] ? sl_ref(st[j]) : NULL;
        if (!v) {
            SlValue *init = sl_eval_in_scope(s, o->func->src, &locals, o->sinit[j], err);
            v = init ? state_start(init, p, err) : NULL;
            sl_unref(init);
            if (!v && !err->has_loc)
                sl_err_locate(err, o->func->src, o->sinit[j]->loc);
        }
        if (v)
            sl_scope_set(&locals, o->sname[j], v);
        ok = v != NULL;
        sl_unref(v);
    }
    if (ok)
        ok = sl_eval_optimizer_body(s, o->func, &locals, err);
    if (ok && sl_tensor_of(sl_scope_get(&locals, "p")) != p) {
        const SlAst *where = find_rebind(o->func->def->a);
        ok = sl_err_at(err, where ? o->func->src : NULL, where ? where->loc : (SlLoc){0}, SL_E_VALUE,
                       "p = ... makes a new tensor and leaves the parameter as it was; change p in place: "
                       "p -= ..., p.sub_(...), p.add_(..., alpha=...)");
    }
    if (ok)
        for (size_t j = 0; j < o->ns; j++) {
            SlValue *v = sl_scope_get(&locals, o->sname[j]);
            if (v)
                sl_assign(&st[j], v);
        }
    sl_scope_free(&locals);
    sl_unref(pv);
    return ok;
}

bool sl_optim_step(SlOptim *o, SlSession *s, SlError *err)
{
    if (o->kind == OPT_USER && !s)
        return sl_err(err, SL_E_INTERNAL, "a user optimizer steps in a session");
    if (o->kind == OPT_USER && !o->state && o->ns)
        o->state = xcalloc(o->np * o->ns, sizeof *o->state);
    sl_no_grad_depth++;
    bool ok = true;
    for (size_t i = 0; ok && i < o->np; i++) {
        if (!o->params[i]->grad)
            continue;
        if (o->kind == OPT_USER) {
            ok = user_step_param(o, s, i, err);
            if (!ok && !err->hint[0]) {
                char shape[16 * SL_TENSOR_MAXDIM];
                sl_shape_str(shape, sizeof shape, o->params[i]->ndim, o->params[i]->shape);
                sl_err_hint(err, "in %s.step(), for parameter %zu of shape %s", o->name, i, shape);
            }
        } else {
            ok = builtin_step_param(o, i, err);
        }
    }
    sl_no_grad_depth--;
    return ok;
}

void sl_optim_zero_grad(SlOptim *o, bool set_to_none)
{
    for (size_t i = 0; i < o->np; i++) {
        SlTensor *p = o->params[i];
        if (!p->grad)
            continue;
        if (set_to_none) {
            sl_tensor_assign(&p->grad, NULL);
            sl_struct_gen++;
            continue;
        }
        if (p->grad->grad_fn) { /* p.grad.detach_() */
            sl_struct_gen++;
            SlTensor *d = sl_ag_detach(p->grad);
            sl_tensor_assign(&p->grad, d);
            sl_tensor_unref(d);
        }
        p->grad->requires_grad = false;
        sl_tensor_fill_d(p->grad, 0.0);
        sl_tensor_bump_version(p->grad);
    }
}

/* ---------------------------------------------------------------------------
 * Attributes and printing
 * ------------------------------------------------------------------------- */

size_t sl_optim_nparams(const SlOptim *o) { return o->np; }

static long hyper_index(const SlOptim *o, const char *name)
{
    for (size_t i = 0; i < o->nh; i++)
        if (strcmp(o->hname[i], name) == 0)
            return (long)i;
    return -1;
}

SlValue *sl_optim_get(const SlOptim *o, const char *name)
{
    long i = hyper_index(o, name);
    return i < 0 ? NULL : o->hval[i];
}

bool sl_optim_set(SlOptim *o, const char *name, SlValue *v, SlError *err)
{
    long i = hyper_index(o, name);
    if (i < 0)
        return sl_err(err, SL_E_NO_ATTR, o->name, name);
    if (o->spec && !hyper_type_ok(o->name, &o->spec[i], v, true, err))
        return false;
    sl_assign(&o->hval[i], v);
    sync(o);
    return true;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Optimizer.__repr__: the class name, then each parameter group's options
 * (one group in slope) sorted by name, as str() prints them. */
void sl_optim_repr(SlBuf *out, const SlOptim *o)
{
    sl_buf_printf(out, "%s (\nParameter Group 0\n", o->name);
    const char **names = xcalloc(o->nh, sizeof *names);
    memcpy(names, o->hname, o->nh * sizeof *names);
    qsort(names, o->nh, sizeof *names, name_cmp);
    for (size_t i = 0; i < o->nh; i++) {
        const SlValue *v = sl_optim_get(o, names[i]);
        sl_buf_printf(out, "    %s: ", names[i]);
        if (v)
            sl_str(out, v);
        else
            sl_buf_puts(out, "<required parameter>");
        sl_buf_putc(out, '\n');
    }
    free(names);
    sl_buf_putc(out, ')');
}

static void optim_repr_hook(const SlValue *v, FILE *out)
{
    SlBuf b;
    sl_buf_init(&b);
    sl_optim_repr(&b, v->u.obj.data);
    fwrite(b.s, 1, b.len, out);
    sl_buf_free(&b);
}

SlValue *sl_optim_value(SlOptim *o) { return sl_object_new(&o->type, o); }

SlOptim *sl_optim_of(const SlValue *v)
{
    if (v && v->kind == SL_OBJECT && v->u.obj.type->free == optim_free_data)
        return v->u.obj.data;
    return NULL;
}

static SlValue *optim_getattr(SlValue *self, const char *name, SlError *err)
{
    (void)err;
    SlValue *v = sl_optim_get(sl_optim_of(self), name);
    return v ? sl_ref(v) : NULL;
}

static bool optim_setattr(SlValue *self, const char *name, SlValue *v, SlError *err)
{
    return sl_optim_set(sl_optim_of(self), name, v, err);
}

/* A captured loop body's opt.step() and opt.zero_grad(), run again at
 * every replay (capture.h): obj is the optimizer's value, ctx the session. */
static bool replay_step(void *obj, void *ctx, SlError *err)
{
    return sl_optim_step(sl_optim_of(obj), ctx, err);
}

static bool replay_zero_grad(void *obj, void *ctx, SlError *err)
{
    (void)ctx;
    (void)err;
    sl_optim_zero_grad(sl_optim_of(obj), false);
    return true;
}

static bool replay_zero_grad_none(void *obj, void *ctx, SlError *err)
{
    (void)ctx;
    (void)err;
    sl_optim_zero_grad(sl_optim_of(obj), true);
    return true;
}

static void drop_value(void *obj) { sl_unref(obj); }

/* opt.step(closure=None): the closure (re-evaluating the loss) runs with
 * grad enabled first and its value is returned, as torch's step does. */
static SlValue *m_step(SlCall *c)
{
    SlOptim *o = sl_optim_of(c->self);
    static const char *const kw[] = {"closure", NULL};
    if (!sl_call_keywords(c, "step", kw) || !sl_call_arity(c, "step", 0, 1))
        return NULL;
    SlValue *closure = c->nargs ? c->args[0] : sl_call_kwarg(c, "closure");
    SlValue *loss = NULL;
    if (closure && closure->kind != SL_NONE) {
        int depth = sl_no_grad_depth;
        sl_no_grad_depth = 0;
        loss = sl_call_value(c->s, closure, NULL, 0, NULL, NULL, 0, c->src, c->loc, c->err);
        sl_no_grad_depth = depth;
        if (!loss)
            return NULL;
    }
    if (sl_capture_active() && loss)
        sl_capture_fail("opt.step(closure) runs the closure");
    if (sl_capture_live_nodes() > 0)
        sl_capture_fail("opt.step() runs before the backward of a graph whose tensors it may change");
    sl_capture_suspend();
    bool ok = sl_optim_step(o, c->s, c->err);
    sl_capture_resume();
    if (!ok) {
        sl_unref(loss);
        return NULL;
    }
    sl_capture_call(replay_step, sl_ref(c->self), drop_value);
    return loss ? loss : SL_NONE_V;
}

static SlValue *m_zero_grad(SlCall *c)
{
    static const char *const kw[] = {"set_to_none", NULL};
    if (!sl_call_keywords(c, "zero_grad", kw) || !sl_call_arity(c, "zero_grad", 0, 1))
        return NULL;
    SlValue *v = c->nargs ? c->args[0] : sl_call_kwarg(c, "set_to_none");
    bool none = v && truth(v);
    sl_capture_suspend();
    sl_optim_zero_grad(sl_optim_of(c->self), none);
    sl_capture_resume();
    sl_capture_call(none ? replay_zero_grad_none : replay_zero_grad, sl_ref(c->self), drop_value);
    return SL_NONE_V;
}

static const SlBuiltin optim_methods[] = {
    {"step", m_step, "opt.step(closure=None)",
     "Update every parameter that has a .grad (in no_grad mode); with a closure, call it first (with grad "
     "enabled) and return its loss."},
    {"zero_grad", m_zero_grad, "opt.zero_grad(set_to_none=False)",
     "Fill every parameter's .grad with zeros (set_to_none=True: drop them)."},
};

static const SlBuiltin *optim_method(const SlValue *self, const char *name)
{
    (void)self;
    for (size_t i = 0; i < sizeof optim_methods / sizeof optim_methods[0]; i++)
        if (strcmp(optim_methods[i].name, name) == 0)
            return &optim_methods[i];
    return NULL;
}

/* ---------------------------------------------------------------------------
 * User optimizers
 * ------------------------------------------------------------------------- */

/* Every `state` declaration of a body, in order (not inside nested
 * definitions, whose bodies are not the optimizer's). */
static void find_states(const SlAst *n, const SlAst ***out, size_t *len, size_t *cap)
{
    if (!n || n->kind == SL_AST_DEF || n->kind == SL_AST_FUNCDEF || n->kind == SL_AST_OPTIMIZER)
        return;
    if (n->kind == SL_AST_STATE) {
        if (*len == *cap) {
            *cap = *cap ? 2 * *cap : 4;
            *out = realloc(*out, *cap * sizeof **out);
            if (!*out)
                abort();
        }
        (*out)[(*len)++] = n;
        return;
    }
    if (n->kind != SL_AST_BLOCK && n->kind != SL_AST_IF && n->kind != SL_AST_WHILE && n->kind != SL_AST_FOR &&
        n->kind != SL_AST_NOGRAD)
        return;
    find_states(n->a, out, len, cap);
    find_states(n->b, out, len, cap);
    find_states(n->c, out, len, cap);
    for (size_t i = 0; i < n->nitems; i++)
        find_states(n->items[i], out, len, cap);
}

bool sl_optim_check_def(const SlAst *def, SlSource *src, SlError *err)
{
    for (size_t i = 0; i < def->nparams; i++) {
        const char *h = def->params[i].name;
        if (strcmp(h, "p") == 0 || strcmp(h, "params") == 0)
            return sl_err_at(err, src, def->params[i].loc, SL_E_SYNTAX,
                             "'%s' can't be a hyper-parameter of %s: p is the parameter being updated and "
                             "params the first argument of %s(params, ...)",
                             h, def->text, def->text);
    }
    const SlAst **st = NULL;
    size_t ns = 0, cap = 0;
    find_states(def->a, &st, &ns, &cap);
    bool ok = true;
    for (size_t j = 0; j < ns && ok; j++) {
        const char *v = st[j]->text;
        if (strcmp(v, "p") == 0)
            ok = sl_err_at(err, src, st[j]->loc, SL_E_SYNTAX, "'p' is the parameter; name the state otherwise");
        for (size_t i = 0; i < def->nparams && ok; i++)
            if (strcmp(v, def->params[i].name) == 0)
                ok = sl_err_at(err, src, st[j]->loc, SL_E_SYNTAX, "state '%s' has the name of a hyper-parameter of %s",
                               v, def->text);
        for (size_t i = 0; i < j && ok; i++)
            if (strcmp(v, st[i]->text) == 0)
                ok = sl_err_at(err, src, st[j]->loc, SL_E_SYNTAX, "state '%s' is declared twice in %s", v,
                               def->text);
    }
    free(st);
    return ok;
}

SlValue *sl_optim_user_new(SlSession *s, SlFunc *f, SlValue **args, size_t nargs, const char **kwnames,
                           SlValue **kwargs, size_t nkw, SlError *err)
{
    (void)s;
    const SlAst *d = f->def;
    size_t nh = d->nparams;
    if (nargs > nh + 1) {
        char what[64];
        size_t required = 1;
        for (size_t i = 0; i < nh; i++)
            required += d->params[i].def == NULL;
        if (required != nh + 1)
            snprintf(what, sizeof what, "from %zu to %zu positional arguments", required, nh + 1);
        else
            snprintf(what, sizeof what, "%zu positional argument%s", nh + 1, nh ? "s" : "");
        return sl_err(err, SL_E_ARG_COUNT, f->name, what, (int)nargs, nargs == 1 ? "was" : "were"), NULL;
    }
    SlValue *pv = nargs ? args[0] : NULL;
    SlValue **vals = xcalloc(nh, sizeof *vals);
    for (size_t i = 1; i < nargs; i++)
        vals[i - 1] = args[i];
    bool ok = true;
    for (size_t k = 0; k < nkw && ok; k++) {
        if (strcmp(kwnames[k], "params") == 0) {
            if (pv)
                ok = sl_err(err, SL_E_ARG_DUPLICATE, f->name, kwnames[k]);
            pv = kwargs[k];
            continue;
        }
        size_t i;
        for (i = 0; i < nh; i++)
            if (strcmp(d->params[i].name, kwnames[k]) == 0)
                break;
        if (i == nh)
            ok = sl_err(err, SL_E_ARG_KEYWORD, f->name, kwnames[k]);
        else if (vals[i])
            ok = sl_err(err, SL_E_ARG_DUPLICATE, f->name, kwnames[k]);
        else
            vals[i] = kwargs[k];
    }
    if (ok && !pv)
        ok = sl_err(err, SL_E_ARG_MISSING, f->name, "params");
    for (size_t i = 0; i < nh && ok; i++) {
        if (!vals[i] && f->defaults && f->defaults[i])
            vals[i] = f->defaults[i];
        if (!vals[i])
            ok = sl_err(err, SL_E_ARG_MISSING, f->name, d->params[i].name);
    }
    SlTensor **ts = NULL;
    size_t np = 0;
    if (ok)
        ok = (ts = collect_params(pv, &np, err)) != NULL;
    SlValue *result = NULL;
    if (ok) {
        SlOptim *o = optim_alloc(OPT_USER, f->name, ts, np, nh);
        for (size_t i = 0; i < nh; i++) {
            o->hname[i] = d->params[i].name;
            o->hval[i] = sl_ref(vals[i]);
        }
        o->func = sl_func_ref(f);
        const SlAst **st = NULL;
        size_t cap = 0;
        find_states(d->a, &st, &o->ns, &cap);
        o->sname = xcalloc(o->ns, sizeof *o->sname);
        o->sinit = xcalloc(o->ns, sizeof *o->sinit);
        for (size_t j = 0; j < o->ns; j++) {
            o->sname[j] = st[j]->text;
            o->sinit[j] = st[j]->a;
        }
        free(st);
        result = sl_optim_value(o);
    }
    free(ts);
    free(vals);
    return result;
}

/* ---------------------------------------------------------------------------
 * The builtin table
 * ------------------------------------------------------------------------- */

static const SlBuiltin optim_builtins[] = {
    {"SGD", b_SGD,
     "optim.SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False)",
     "Stochastic gradient descent, optionally with (Nesterov) momentum, as torch.optim.SGD: opt.step() updates "
     "every parameter with a grad, opt.zero_grad() clears the grads, opt.lr = ... changes the learning rate."},
    {"Adam", b_Adam,
     "optim.Adam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0, amsgrad=False, "
     "maximize=False)",
     "Adam, as torch.optim.Adam (the same float32 roundings): opt.step(), opt.zero_grad(), opt.lr = ..."},
};

const SlBuiltin *sl_optim_builtin_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof optim_builtins / sizeof optim_builtins[0]; i++)
        if (strcmp(optim_builtins[i].name, name) == 0)
            return &optim_builtins[i];
    return NULL;
}

const SlBuiltin *sl_optim_builtin_at(size_t i)
{
    return i < sizeof optim_builtins / sizeof optim_builtins[0] ? &optim_builtins[i] : NULL;
}
