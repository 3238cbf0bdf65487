/* nn.c -- layers and losses as language values (nn.h).
 *
 * A module is an SL_OBJECT whose type is one of the class types below (one
 * SlObjType per PyTorch class, so sl_type_name() says "Linear").  Its data
 * is a Module: the Parameters it owns (Linear, Conv2d), its settings, and
 * for Sequential the child module values.  Modules never form cycles
 * (Sequential only takes existing modules and append() refuses its own
 * ancestors) and nest at most MAX_NEST deep, which bounds every recursion
 * here (calls, printing, freeing, parameters).
 *
 * Every builtin follows value.h: borrowed arguments, new references, NULL
 * after an error in c->err.  The arithmetic is nnops.h / autograd.h.
 */
#include "nn.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "eval_internal.h"
#include "nnops.h"
#include "num.h"
#include "tensor_value.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_NEST 100  /* Sequential inside Sequential */
#define MAX_WALK 200  /* functions calling functions, lists inside lists (parameters()) */

typedef enum Kind {
    K_LINEAR, K_CONV2D, K_RELU, K_SIGMOID, K_TANH, K_SOFTMAX, K_LOG_SOFTMAX, K_LEAKY_RELU, K_FLATTEN,
    K_IDENTITY, K_SEQUENTIAL, K_MSE, K_L1, K_BCE, K_CE, K_NLL, K_COUNT
} Kind;

enum { PAD_INTS, PAD_VALID, PAD_SAME }; /* Conv2d padding= */

typedef struct Module {
    Kind kind;
    uint64_t serial;         /* creation order: parameters(function) follows it */
    int nest;                /* Sequential: 1 + the deepest child's nest (0 for others) */
    int parents;             /* Sequentials holding this module */
    bool training;           /* train() / eval() */
    SlTensor *weight, *bias; /* owned Parameters, or NULL (Linear, Conv2d) */
    SlTensor *lweight;       /* owned: a loss's class weight (a buffer), or NULL */
    int64_t in, out;         /* features (Linear), channels (Conv2d) */
    int kernel[2], stride[2], padding[2];
    int pad_mode;            /* PAD_INTS, or padding='valid' / 'same' */
    bool has_dim;            /* Softmax / LogSoftmax: dim given */
    long dim;                /* its value; Flatten: start_dim */
    long end_dim;            /* Flatten */
    double slope;            /* LeakyReLU negative_slope */
    bool slope_int;          /* given as an int (prints 1, not 1.0) */
    bool inplace;            /* ReLU, LeakyReLU */
    SlReduction red;         /* losses */
    const char *red_name;    /* 'mean', 'sum', 'none' (static) */
    int64_t ignore_index;    /* CrossEntropyLoss, NLLLoss */
    double label_smoothing;  /* CrossEntropyLoss (0 only) */
    SlValue **items;         /* Sequential: owned child module values */
    char **names;            /* their names "0", "1", ... (malloc'd) */
    size_t n, cap;           /* children used / allocated */
} Module;

static const char *const class_names[K_COUNT] = {
    "Linear", "Conv2d", "ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "LeakyReLU", "Flatten",
    "Identity", "Sequential", "MSELoss", "L1Loss", "BCELoss", "CrossEntropyLoss", "NLLLoss",
};

static const SlObjType mod_types[K_COUNT];
static uint64_t mod_counter;

static bool is_loss(Kind k) { return k >= K_MSE; }

static Module *mod_of(const SlValue *v)
{
    if (v && v->kind == SL_OBJECT && v->u.obj.type >= &mod_types[0] && v->u.obj.type < &mod_types[K_COUNT])
        return v->u.obj.data;
    return NULL;
}

bool sl_nn_is_module(const SlValue *v) { return mod_of(v) != NULL; }

static Module *mod_new(Kind k)
{
    Module *m = calloc(1, sizeof *m);
    if (!m)
        abort();
    m->kind = k;
    m->serial = ++mod_counter;
    m->nest = k == K_SEQUENTIAL;
    m->training = true;
    m->red = SL_RED_MEAN;
    m->red_name = "mean";
    m->ignore_index = -100;
    return m;
}

static SlValue *mod_value(Module *m) { return sl_object_new(&mod_types[m->kind], m); }

static void mod_free(void *data)
{
    Module *m = data;
    sl_tensor_unref(m->weight);
    sl_tensor_unref(m->bias);
    sl_tensor_unref(m->lweight);
    for (size_t i = 0; i < m->n; i++) {
        mod_of(m->items[i])->parents--;
        sl_unref(m->items[i]);
        free(m->names[i]);
    }
    free(m->items);
    free(m->names);
    free(m);
}

/* Append a child (takes a new reference to v). */
static void seq_push(Module *m, SlValue *v, const char *name)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 4;
        m->items = realloc(m->items, m->cap * sizeof *m->items);
        m->names = realloc(m->names, m->cap * sizeof *m->names);
        if (!m->items || !m->names)
            abort();
    }
    m->items[m->n] = sl_ref(v);
    mod_of(v)->parents++;
    m->names[m->n] = strdup(name);
    if (!m->names[m->n])
        abort();
    m->n++;
    int nest = mod_of(v)->nest + 1;
    if (nest > m->nest)
        m->nest = nest;
}

/* ---------------------------------------------------------------------------
 * Arguments
 * ------------------------------------------------------------------------- */

/* Bind c's arguments to the parameters names (NULL-terminated) as Python
 * does: vals[i] is borrowed, NULL when not given; the first `required`
 * must be given. */
static bool bind(SlCall *c, const char *fname, const char *const *names, size_t required, SlValue **vals)
{
    size_t n = 0;
    while (names[n])
        n++;
    if (c->nargs > n)
        return sl_call_arity_check(c, fname, required, n); /* always an error here */
    for (size_t i = 0; i < n; i++)
        vals[i] = i < c->nargs ? c->args[i] : NULL;
    for (size_t k = 0; k < c->nkw; k++) {
        size_t i = 0;
        while (i < n && strcmp(names[i], c->kwnames[k]) != 0)
            i++;
        if (i == n)
            return sl_err(c->err, SL_E_ARG_KEYWORD, fname, c->kwnames[k]);
        if (vals[i])
            return sl_err(c->err, SL_E_ARG_DUPLICATE, fname, names[i]);
        vals[i] = c->kwargs[k];
    }
    for (size_t i = 0; i < required; i++)
        if (!vals[i])
            return sl_err(c->err, SL_E_ARG_MISSING, fname, names[i]);
    return true;
}

static bool given(const SlValue *v) { return v && v->kind != SL_NONE; }

/* Python truth of a flag (True, False, 0, 1). */
static bool bool_arg(SlCall *c, const char *fname, const char *aname, const SlValue *v, bool *out)
{
    if (v->kind == SL_NONE) {
        *out = false;
        return true;
    }
    return sl_arg_bool(c, fname, aname, v, out);
}

/* A tensor argument, in the words torch uses for its C++ functions. */
static SlTensor *tensor_arg(SlCall *c, const char *fname, const char *aname, int pos, const SlValue *v)
{
    SlTensor *t = sl_tensor_of(v);
    if (!t)
        sl_err(c->err, SL_E_TYPE, "%s(): argument '%s' (position %d) must be Tensor, not %s", fname, aname, pos,
               v ? sl_type_name(v) : "NoneType");
    return t;
}

/* An optional tensor: *out NULL for None or absent. */
static bool opt_tensor_arg(SlCall *c, const char *fname, const char *aname, int pos, const SlValue *v,
                           SlTensor **out)
{
    *out = NULL;
    if (!given(v))
        return true;
    *out = tensor_arg(c, fname, aname, pos, v);
    return *out != NULL;
}

/* int or a tuple/list of two ints (torch's _pair) */
static bool pair_arg(SlCall *c, const char *fname, const char *aname, const SlValue *v, int out[2])
{
    long a, b;
    if (sl_value_as_long(v, &a)) {
        b = a;
    } else if ((v->kind == SL_TUPLE || v->kind == SL_LIST) && v->u.list.len == 2 &&
               sl_value_as_long(v->u.list.items[0], &a) && sl_value_as_long(v->u.list.items[1], &b)) {
    } else {
        return sl_err(c->err, SL_E_ARG_TYPE, fname, aname, "an int or a tuple of two ints", sl_type_name(v));
    }
    if (a < -1000000 || a > 1000000 || b < -1000000 || b > 1000000)
        return sl_err(c->err, SL_E_VALUE, "%s(): %s (%ld, %ld) is too large", fname, aname, a, b);
    out[0] = (int)a;
    out[1] = (int)b;
    return true;
}

/* dtype=: torch.float32 / float64 / mpfr (or Python's float, which is
 * float64); float32 when absent.  dtype objects belong to tensor_value.c,
 * recognised by their type name. */
static bool dtype_arg(SlCall *c, const char *fname, const SlValue *v, SlDTypeP *out)
{
    *out = (SlDTypeP){SL_DT_F32, 0};
    if (!given(v))
        return true;
    if (v->kind == SL_OBJECT && strcmp(v->u.obj.type->name, "torch.dtype") == 0)
        *out = *(const SlDTypeP *)v->u.obj.data;
    else if (v->kind == SL_BUILTIN && strcmp(v->u.builtin->name, "float") == 0)
        *out = (SlDTypeP){SL_DT_F64, 0};
    else
        return sl_err(c->err, SL_E_TYPE, "%s(): dtype must be torch.dtype, not %s", fname, sl_type_name(v));
    if (!sl_dtype_is_float(out->dt))
        return sl_err(c->err, SL_E_VALUE, "Only Tensors of floating point and complex dtype can require gradients");
    return true;
}

static bool device_arg(SlCall *c, const SlValue *v)
{
    if (!given(v) || (v->kind == SL_STR && strcmp(v->u.str.s, "cpu") == 0))
        return true;
    SlBuf b;
    sl_buf_init(&b);
    sl_str(&b, v);
    sl_err(c->err, SL_E_VALUE, "slope computes on the cpu only, not on device %s", b.s);
    sl_buf_free(&b);
    return false;
}

/* reduction=, with the legacy size_average= / reduce= overriding it as
 * torch's _Reduction.legacy_get_string does. */
static bool reduction_arg(SlCall *c, const SlValue *rv, const SlValue *size_average, const SlValue *reduce,
                          Module *m)
{
    if (given(size_average) || given(reduce)) {
        bool sa = true, rd = true;
        if ((given(size_average) && !bool_arg(c, "loss", "size_average", size_average, &sa)) ||
            (given(reduce) && !bool_arg(c, "loss", "reduce", reduce, &rd)))
            return false;
        m->red = sa && rd ? SL_RED_MEAN : rd ? SL_RED_SUM : SL_RED_NONE;
        m->red_name = sa && rd ? "mean" : rd ? "sum" : "none";
        return true;
    }
    if (!rv)
        return true;
    if (rv->kind == SL_STR) {
        const char *s = rv->u.str.s;
        if (strcmp(s, "mean") == 0 || strcmp(s, "elementwise_mean") == 0) {
            m->red = SL_RED_MEAN, m->red_name = "mean";
            return true;
        }
        if (strcmp(s, "sum") == 0) {
            m->red = SL_RED_SUM, m->red_name = "sum";
            return true;
        }
        if (strcmp(s, "none") == 0) {
            m->red = SL_RED_NONE, m->red_name = "none";
            return true;
        }
    }
    SlBuf b;
    sl_buf_init(&b);
    sl_str(&b, rv);
    sl_err(c->err, SL_E_VALUE, "%s is not a valid value for reduction", b.s);
    sl_buf_free(&b);
    return false;
}

/* "torch.Size([2, 1])" */
static void size_str(SlBuf *b, const SlTensor *t)
{
    sl_buf_puts(b, "torch.Size([");
    for (int d = 0; d < t->ndim; d++)
        sl_buf_printf(b, d ? ", %lld" : "%lld", (long long)t->shape[d]);
    sl_buf_puts(b, "])");
}

/* torch.typename(t) */
static const char *tensor_typename(const SlTensor *t)
{
    switch (t->dtype) {
    case SL_DT_F32: return "torch.FloatTensor";
    case SL_DT_F64: return "torch.DoubleTensor";
    case SL_DT_I64: return "torch.LongTensor";
    case SL_DT_BOOL: return "torch.BoolTensor";
    default: return "slope.MpfrTensor";
    }
}

/* ---------------------------------------------------------------------------
 * Initialisation: torch.nn.init as Linear and Conv2d use it
 * ------------------------------------------------------------------------- */

static SlTensor *param_new(SlDTypeP dt, int nd, const int64_t *shape, SlError *err)
{
    SlTensor *t = sl_tensor_zeros(dt.dt, nd, shape, dt.dt == SL_DT_MPFR ? dt.prec : 0, err);
    if (t) {
        t->requires_grad = true;
        t->is_param = true;
    }
    return t;
}

/* torch's uniform_ (fused as torch's AVX2 kernel is: tensor.c) */
static bool uniform_(SlTensor *t, double from, double to, SlError *err)
{
    (void)err;
    sl_tensor_uniform_(t, from, to);
    return true;
}

/* kaiming_uniform_(w, a=sqrt(5)): bound computed in double as Python does.
 * A tensor with no elements is left alone (and draws nothing). */
static bool kaiming_uniform(SlTensor *w, int64_t fan_in, SlError *err)
{
    if (sl_tensor_numel(w) == 0)
        return true;
    double a = sqrt(5.0);
    double gain = sqrt(2.0 / (1 + a * a));
    double std = gain / sqrt((double)fan_in);
    double bound = sqrt(3.0) * std;
    return uniform_(w, -bound, bound, err);
}

/* weight (shape), kaiming, then bias (out) uniform(+-1/sqrt(fan_in)) */
static bool init_weights(Module *m, SlDTypeP dt, int nd, const int64_t *shape, int64_t fan_in, bool bias,
                         bool linear, SlError *err)
{
    m->weight = param_new(dt, nd, shape, err);
    if (!m->weight)
        return false;
    if (!kaiming_uniform(m->weight, fan_in, err))
        return false;
    if (!bias)
        return true;
    m->bias = param_new(dt, 1, shape, err);
    if (!m->bias)
        return false;
    /* Linear draws uniform_(-0, 0) for fan_in 0; Conv2d skips the draw */
    if (fan_in > 0)
        return uniform_(m->bias, -1 / sqrt((double)fan_in), 1 / sqrt((double)fan_in), err);
    return linear ? uniform_(m->bias, 0, 0, err) : true;
}

static bool negative_dim(SlCall *c, int nd, const int64_t *shape)
{
    for (int d = 0; d < nd; d++)
        if (shape[d] < 0) {
            SlBuf b;
            sl_buf_init(&b);
            for (int k = 0; k < nd; k++)
                sl_buf_printf(&b, k ? ", %lld" : "%lld", (long long)shape[k]);
            sl_err(c->err, SL_E_VALUE, "Trying to create tensor with negative dimension %lld: [%s]",
                   (long long)shape[d], b.s);
            sl_buf_free(&b);
            return true;
        }
    int64_t n = 1;
    for (int d = 0; d < nd; d++) {
        if (shape[d] && n > SL_TENSOR_MAX_NUMEL / shape[d]) {
            sl_err(c->err, SL_E_LIMIT, "a layer of more than 2^28 parameters is beyond slope's tensor size limit");
            return true;
        }
        n *= shape[d];
    }
    return false;
}

/* ---------------------------------------------------------------------------
 * Constructors
 * ------------------------------------------------------------------------- */

/* Linear(in_features, out_features, bias=True, device=None, dtype=None) */
static SlValue *b_Linear(SlCall *c)
{
    static const char *const names[] = {"in_features", "out_features", "bias", "device", "dtype", NULL};
    SlValue *v[5];
    long in, out;
    bool bias = true;
    SlDTypeP dt;
    if (!bind(c, "Linear", names, 2, v) || !sl_arg_long(c, "Linear", "in_features", v[0], &in) ||
        !sl_arg_long(c, "Linear", "out_features", v[1], &out) || (v[2] && !bool_arg(c, "Linear", "bias", v[2], &bias)) ||
        !device_arg(c, v[3]) || !dtype_arg(c, "Linear", v[4], &dt))
        return NULL;
    int64_t shape[2] = {out, in};
    if (negative_dim(c, 2, shape))
        return NULL;
    Module *m = mod_new(K_LINEAR);
    m->in = in;
    m->out = out;
    if (!init_weights(m, dt, 2, shape, in, bias, true, c->err)) {
        mod_free(m);
        return NULL;
    }
    return mod_value(m);
}

/* Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
 *        dilation=1, groups=1, bias=True, padding_mode='zeros', device, dtype) */
static SlValue *b_Conv2d(SlCall *c)
{
    static const char *const names[] = {"in_channels", "out_channels", "kernel_size", "stride",
                                        "padding",     "dilation",     "groups",      "bias",
                                        "padding_mode", "device",      "dtype",       NULL};
    const char *f = "Conv2d";
    SlValue *v[11];
    long in, out, groups = 1;
    int kernel[2], stride[2] = {1, 1}, padding[2] = {0, 0}, dilation[2] = {1, 1};
    int pad_mode = PAD_INTS;
    bool bias = true;
    SlDTypeP dt;
    if (!bind(c, f, names, 3, v) || !sl_arg_long(c, f, "in_channels", v[0], &in) ||
        !sl_arg_long(c, f, "out_channels", v[1], &out) || !pair_arg(c, f, "kernel_size", v[2], kernel) ||
        (v[3] && !pair_arg(c, f, "stride", v[3], stride)) || (v[5] && !pair_arg(c, f, "dilation", v[5], dilation)) ||
        (v[6] && !sl_arg_long(c, f, "groups", v[6], &groups)) || (v[7] && !bool_arg(c, f, "bias", v[7], &bias)) ||
        !device_arg(c, v[9]) || !dtype_arg(c, f, v[10], &dt))
        return NULL;
    if (v[4] && v[4]->kind == SL_STR) {
        if (strcmp(v[4]->u.str.s, "valid") == 0)
            pad_mode = PAD_VALID;
        else if (strcmp(v[4]->u.str.s, "same") == 0)
            pad_mode = PAD_SAME;
        else
            return sl_err(c->err, SL_E_VALUE, "Invalid padding string '%s', should be one of {'same', 'valid'}",
                          v[4]->u.str.s),
                   NULL;
    } else if (v[4] && !pair_arg(c, f, "padding", v[4], padding)) {
        return NULL;
    }
    if (groups <= 0)
        return sl_err(c->err, SL_E_VALUE, "groups must be a positive integer"), NULL;
    if (in % groups != 0)
        return sl_err(c->err, SL_E_VALUE, "in_channels must be divisible by groups"), NULL;
    if (out % groups != 0)
        return sl_err(c->err, SL_E_VALUE, "out_channels must be divisible by groups"), NULL;
    if (groups != 1 || dilation[0] != 1 || dilation[1] != 1)
        return sl_err(c->err, SL_E_VALUE, "Conv2d: groups and dilation other than 1 are not supported yet"), NULL;
    if (pad_mode == PAD_SAME && (stride[0] != 1 || stride[1] != 1))
        return sl_err(c->err, SL_E_VALUE, "padding='same' is not supported for strided convolutions"), NULL;
    if (pad_mode == PAD_SAME && (kernel[0] % 2 == 0 || kernel[1] % 2 == 0))
        return sl_err(c->err, SL_E_VALUE, "padding='same' with an even kernel size is not supported yet; "
                                          "give the padding as numbers"),
               NULL;
    if (v[8] && (v[8]->kind != SL_STR || strcmp(v[8]->u.str.s, "zeros") != 0)) {
        if (v[8]->kind != SL_STR)
            return sl_err(c->err, SL_E_ARG_TYPE, f, "padding_mode", "a str", sl_type_name(v[8])), NULL;
        static const char *const modes[] = {"reflect", "replicate", "circular"};
        for (size_t i = 0; i < COUNT(modes); i++)
            if (strcmp(v[8]->u.str.s, modes[i]) == 0)
                return sl_err(c->err, SL_E_VALUE, "padding_mode '%s' is not supported yet (only 'zeros')",
                              v[8]->u.str.s),
                       NULL;
        return sl_err(c->err, SL_E_VALUE,
                      "padding_mode must be one of {'circular', 'replicate', 'reflect', 'zeros'}, but got "
                      "padding_mode='%s'",
                      v[8]->u.str.s),
               NULL;
    }
    if (pad_mode == PAD_SAME)
        padding[0] = kernel[0] / 2, padding[1] = kernel[1] / 2;
    if (stride[0] <= 0 || stride[1] <= 0)
        return sl_err(c->err, SL_E_VALUE, "non-positive stride is not supported"), NULL;
    if (padding[0] < 0 || padding[1] < 0)
        return sl_err(c->err, SL_E_VALUE, "negative padding is not supported"), NULL;
    int64_t shape[4] = {out, in, kernel[0], kernel[1]};
    if (negative_dim(c, 4, shape))
        return NULL;
    Module *m = mod_new(K_CONV2D);
    m->in = in;
    m->out = out;
    memcpy(m->kernel, kernel, sizeof kernel);
    memcpy(m->stride, stride, sizeof stride);
    memcpy(m->padding, padding, sizeof padding);
    m->pad_mode = pad_mode;
    if (!init_weights(m, dt, 4, shape, in * kernel[0] * kernel[1], bias, false, c->err)) {
        mod_free(m);
        return NULL;
    }
    return mod_value(m);
}

static SlValue *activation(SlCall *c, Kind k, bool has_inplace)
{
    static const char *const with[] = {"inplace", NULL}, *const without[] = {NULL};
    SlValue *v[1] = {NULL};
    bool inplace = false;
    if (!bind(c, class_names[k], has_inplace ? with : without, 0, v) ||
        (v[0] && !bool_arg(c, class_names[k], "inplace", v[0], &inplace)))
        return NULL;
    Module *m = mod_new(k);
    m->inplace = inplace;
    return mod_value(m);
}

static SlValue *b_ReLU(SlCall *c) { return activation(c, K_RELU, true); }
static SlValue *b_Sigmoid(SlCall *c) { return activation(c, K_SIGMOID, false); }
static SlValue *b_Tanh(SlCall *c) { return activation(c, K_TANH, false); }

/* Identity(*args, **kwargs): the arguments are ignored, as torch does. */
static SlValue *b_Identity(SlCall *c)
{
    (void)c;
    return mod_value(mod_new(K_IDENTITY));
}

static SlValue *softmax_class(SlCall *c, Kind k)
{
    static const char *const names[] = {"dim", NULL};
    SlValue *v[1];
    long dim = 0;
    if (!bind(c, class_names[k], names, 0, v) || (given(v[0]) && !sl_arg_long(c, class_names[k], "dim", v[0], &dim)))
        return NULL;
    Module *m = mod_new(k);
    m->has_dim = given(v[0]);
    m->dim = dim;
    return mod_value(m);
}

static SlValue *b_Softmax(SlCall *c) { return softmax_class(c, K_SOFTMAX); }
static SlValue *b_LogSoftmax(SlCall *c) { return softmax_class(c, K_LOG_SOFTMAX); }

/* LeakyReLU(negative_slope=0.01, inplace=False) */
static SlValue *b_LeakyReLU(SlCall *c)
{
    static const char *const names[] = {"negative_slope", "inplace", NULL};
    SlValue *v[2];
    double slope = 0.01;
    bool inplace = false;
    if (!bind(c, "LeakyReLU", names, 0, v) || (v[0] && !sl_arg_double(c, "LeakyReLU", "negative_slope", v[0], &slope)) ||
        (v[1] && !bool_arg(c, "LeakyReLU", "inplace", v[1], &inplace)))
        return NULL;
    Module *m = mod_new(K_LEAKY_RELU);
    m->slope = slope;
    m->slope_int = v[0] && (v[0]->kind == SL_INT || v[0]->kind == SL_BOOL);
    m->inplace = inplace;
    return mod_value(m);
}

/* Flatten(start_dim=1, end_dim=-1) */
static SlValue *b_Flatten(SlCall *c)
{
    static const char *const names[] = {"start_dim", "end_dim", NULL};
    SlValue *v[2];
    long start = 1, end = -1;
    if (!bind(c, "Flatten", names, 0, v) || (v[0] && !sl_arg_long(c, "Flatten", "start_dim", v[0], &start)) ||
        (v[1] && !sl_arg_long(c, "Flatten", "end_dim", v[1], &end)))
        return NULL;
    Module *m = mod_new(K_FLATTEN);
    m->dim = start;
    m->end_dim = end;
    return mod_value(m);
}

static bool not_a_module(SlCall *c, const SlValue *v)
{
    SlTensor *t = sl_tensor_of(v);
    return sl_err(c->err, SL_E_TYPE, "%s is not a Module subclass", t ? tensor_typename(t) : sl_type_name(v));
}

/* Sequential(*modules) */
static SlValue *b_Sequential(SlCall *c)
{
    if (!sl_call_keywords(c, "Sequential", NULL))
        return NULL;
    for (size_t i = 0; i < c->nargs; i++) {
        Module *cm = mod_of(c->args[i]);
        if (!cm)
            return not_a_module(c, c->args[i]), NULL;
        if (cm->nest >= MAX_NEST)
            return sl_err(c->err, SL_E_LIMIT, "Sequential nested more than %d deep", MAX_NEST), NULL;
    }
    Module *m = mod_new(K_SEQUENTIAL);
    for (size_t i = 0; i < c->nargs; i++) {
        char name[32];
        snprintf(name, sizeof name, "%zu", i);
        seq_push(m, c->args[i], name);
    }
    return mod_value(m);
}

/* The losses: (weight=None,) size_average=None, (ignore_index=-100,)
 * reduce=None, reduction='mean' (, label_smoothing=0.0) */
static SlValue *loss_class(SlCall *c, Kind k)
{
    static const char *const plain[] = {"size_average", "reduce", "reduction", NULL};
    static const char *const weighted[] = {"weight", "size_average", "reduce", "reduction", NULL};
    static const char *const nll[] = {"weight", "size_average", "ignore_index", "reduce", "reduction", NULL};
    static const char *const ce[] = {"weight", "size_average", "ignore_index", "reduce", "reduction",
                                     "label_smoothing", NULL};
    const char *f = class_names[k];
    SlValue *v[6] = {NULL};
    SlValue *weight = NULL, *sa, *rd, *red, *ii = NULL, *ls = NULL;
    if (k == K_MSE || k == K_L1) {
        if (!bind(c, f, plain, 0, v))
            return NULL;
        sa = v[0], rd = v[1], red = v[2];
    } else if (k == K_BCE) {
        if (!bind(c, f, weighted, 0, v))
            return NULL;
        weight = v[0], sa = v[1], rd = v[2], red = v[3];
    } else {
        if (!bind(c, f, k == K_CE ? ce : nll, 0, v))
            return NULL;
        weight = v[0], sa = v[1], ii = v[2], rd = v[3], red = v[4], ls = v[5];
    }
    Module *m = mod_new(k);
    long ignore = -100;
    double smoothing = 0;
    bool ok = reduction_arg(c, red, sa, rd, m) && (!ii || sl_arg_long(c, f, "ignore_index", ii, &ignore)) &&
              (!ls || sl_arg_double(c, f, "label_smoothing", ls, &smoothing));
    if (ok && smoothing != 0)
        ok = sl_err(c->err, SL_E_VALUE, "label_smoothing is not supported yet (only 0.0)");
    if (ok && given(weight)) {
        SlTensor *w = sl_tensor_of(weight);
        if (!w)
            ok = sl_err(c->err, SL_E_TYPE, "cannot assign '%s' object to buffer 'weight' (torch Tensor or None "
                                           "required)",
                        sl_type_name(weight));
        else
            m->lweight = sl_tensor_ref(w);
    }
    if (!ok) {
        mod_free(m);
        return NULL;
    }
    m->ignore_index = ignore;
    m->label_smoothing = smoothing;
    return mod_value(m);
}

static SlValue *b_MSELoss(SlCall *c) { return loss_class(c, K_MSE); }
static SlValue *b_L1Loss(SlCall *c) { return loss_class(c, K_L1); }
static SlValue *b_BCELoss(SlCall *c) { return loss_class(c, K_BCE); }
static SlValue *b_CrossEntropyLoss(SlCall *c) { return loss_class(c, K_CE); }
static SlValue *b_NLLLoss(SlCall *c) { return loss_class(c, K_NLL); }

/* nn.Parameter(data=None, requires_grad=True): shares data's storage. */
static SlValue *b_Parameter(SlCall *c)
{
    static const char *const names[] = {"data", "requires_grad", NULL};
    SlValue *v[2];
    bool rg = true;
    if (!bind(c, "Parameter", names, 0, v) || (v[1] && !bool_arg(c, "Parameter", "requires_grad", v[1], &rg)))
        return NULL;
    SlTensor *p;
    if (!given(v[0])) {
        int64_t zero = 0;
        p = sl_tensor_zeros(SL_DT_F32, 1, &zero, 0, c->err);
    } else {
        SlTensor *d = tensor_arg(c, "Parameter", "data", 1, v[0]);
        if (!d)
            return NULL;
        if (rg && !sl_dtype_is_float(d->dtype))
            return sl_err(c->err, SL_E_VALUE, "Only Tensors of floating point and complex dtype can require "
                                              "gradients"),
                   NULL;
        p = sl_tensor_alias(d);
    }
    if (!p)
        return NULL;
    p->requires_grad = rg;
    p->is_param = true;
    return sl_tensor_value(p);
}

/* ---------------------------------------------------------------------------
 * Forward
 * ------------------------------------------------------------------------- */

static SlValue *mod_call(SlValue *self, SlCall *c);

/* m(x) for a child, with the caller's session, location and error. */
static SlValue *call1(SlCall *c, SlValue *mod, SlValue *x)
{
    SlValue *args[1] = {x};
    SlCall cc = *c;
    cc.self = mod;
    cc.args = args;
    cc.nargs = 1;
    cc.kwnames = NULL;
    cc.kwargs = NULL;
    cc.nkw = 0;
    return mod_call(mod, &cc);
}

/* dim for a tensor of ndim dims, with torch's message when out of range
 * (checked here, before the narrowing to int). */
static bool dim_check(SlCall *c, long dim, int ndim)
{
    int n = ndim > 0 ? ndim : 1;
    if (dim >= -n && dim < n)
        return true;
    return sl_err(c->err, SL_E_TENSOR_INDEX,
                  "Dimension out of range (expected to be in range of [%d, %d], but got %ld)", -n, n - 1, dim);
}

/* torch's _get_softmax_dim for dim=None */
static long implicit_dim(const SlTensor *x) { return x->ndim == 0 || x->ndim == 1 || x->ndim == 3 ? 0 : 1; }

/* The result of an activation with inplace=True: written into x when x
 * is not in a graph; a leaf that requires grad gets torch's error; a
 * non-leaf in a graph gets the result out of place (so its backward
 * stays right). */
static SlValue *finish_inplace(SlValue *xv, SlTensor *x, SlTensor *r, bool inplace, SlError *err)
{
    if (!r)
        return NULL;
    if (!inplace || (x->requires_grad && x->grad_fn && sl_grad_enabled()))
        return sl_tensor_value(r);
    bool ok = sl_ag_copy_(x, r, err);
    sl_tensor_unref(r);
    return ok ? sl_ref(xv) : NULL;
}

static bool same_shape(const SlTensor *a, const SlTensor *b)
{
    return a->ndim == b->ndim && memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof *a->shape) == 0;
}

/* torch.broadcast_tensors(input, target), as mse_loss and l1_loss do:
 * new references in *a and *b. */
static bool broadcast2(SlTensor *x, SlTensor *y, SlTensor **a, SlTensor **b, SlError *err)
{
    if (same_shape(x, y)) {
        *a = sl_tensor_ref(x);
        *b = sl_tensor_ref(y);
        return true;
    }
    int n = x->ndim > y->ndim ? x->ndim : y->ndim;
    int64_t shape[SL_TENSOR_MAXDIM];
    for (int i = 0; i < n; i++) {
        int ia = x->ndim - n + i, ib = y->ndim - n + i;
        int64_t da = ia >= 0 ? x->shape[ia] : 1, db = ib >= 0 ? y->shape[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return sl_err(err, SL_E_VALUE,
                          "The size of tensor a (%lld) must match the size of tensor b (%lld) at non-singleton "
                          "dimension %d",
                          (long long)da, (long long)db, i);
        shape[i] = da == 1 ? db : da;
    }
    *a = sl_ag_expand(x, n, shape, err);
    *b = *a ? sl_ag_expand(y, n, shape, err) : NULL;
    if (!*b) {
        sl_tensor_unref(*a);
        return false;
    }
    return true;
}

/* One loss on tensors already checked. */
static SlTensor *loss_apply(SlCall *c, Kind k, SlTensor *in, SlTensor *tg, SlTensor *w, SlReduction red,
                            int64_t ignore)
{
    SlTensor *a = NULL, *b = NULL, *r;
    switch (k) {
    case K_MSE:
    case K_L1:
        if (!broadcast2(in, tg, &a, &b, c->err))
            return NULL;
        r = k == K_MSE ? sl_ag_mse_loss(a, b, red, c->err) : sl_ag_l1_loss(a, b, red, c->err);
        sl_tensor_unref(a);
        sl_tensor_unref(b);
        return r;
    case K_BCE:
        if (!same_shape(in, tg)) {
            SlBuf s;
            sl_buf_init(&s);
            sl_buf_puts(&s, "Using a target size (");
            size_str(&s, tg);
            sl_buf_puts(&s, ") that is different to the input size (");
            size_str(&s, in);
            sl_buf_puts(&s, ") is deprecated. Please ensure they have the same size.");
            sl_err(c->err, SL_E_VALUE, "%s", s.s);
            sl_buf_free(&s);
            return NULL;
        }
        return sl_ag_bce_loss(in, tg, w, red, c->err);
    case K_CE: return sl_ag_cross_entropy(in, tg, w, red, ignore, c->err);
    default: return sl_ag_nll_loss(in, tg, w, red, ignore, c->err);
    }
}

static const char *const loss_fn_names[] = {"mse_loss", "l1_loss", "binary_cross_entropy", "cross_entropy",
                                            "nll_loss"};

static SlValue *forward(SlValue *self, SlCall *c)
{
    static const char *const one[] = {"input", NULL}, *const two[] = {"input", "target", NULL};
    Module *m = self->u.obj.data;
    SlValue *v[2];
    size_t want = is_loss(m->kind) ? 2 : 1;
    if (c->nkw == 0 && c->nargs == want) { /* the usual m(x), loss(y, t) */
        v[0] = c->args[0];
        v[1] = want == 2 ? c->args[1] : NULL;
    } else if (!bind(c, "forward", want == 2 ? two : one, want, v)) {
        return NULL;
    }
    if (m->kind == K_IDENTITY)
        return sl_ref(v[0]);
    if (m->kind == K_SEQUENTIAL) {
        SlValue *x = sl_ref(v[0]);
        for (size_t i = 0; i < m->n && x; i++) {
            SlValue *y = call1(c, m->items[i], x);
            sl_unref(x);
            x = y;
        }
        return x;
    }
    if (is_loss(m->kind)) {
        const char *f = loss_fn_names[m->kind - K_MSE];
        SlTensor *in = tensor_arg(c, f, "input", 1, v[0]);
        SlTensor *tg = in ? tensor_arg(c, f, "target", 2, v[1]) : NULL;
        if (!tg)
            return NULL;
        return sl_tensor_value(loss_apply(c, m->kind, in, tg, m->lweight, m->red, m->ignore_index));
    }
    static const char *const fn_names[] = {"linear",      "conv2d",     "relu",    "sigmoid", "tanh",
                                           "softmax",     "log_softmax", "leaky_relu", "flatten"};
    SlTensor *x = tensor_arg(c, fn_names[m->kind], "input", 1, v[0]);
    if (!x)
        return NULL;
    switch (m->kind) {
    case K_LINEAR: return sl_tensor_value(sl_ag_linear(x, m->weight, m->bias, c->err));
    case K_CONV2D: return sl_tensor_value(sl_ag_conv2d(x, m->weight, m->bias, m->stride, m->padding, c->err));
    case K_RELU: return finish_inplace(v[0], x, sl_ag_unary(SL_FN_RELU, x, c->err), m->inplace, c->err);
    case K_SIGMOID: return sl_tensor_value(sl_ag_unary(SL_FN_SIGMOID, x, c->err));
    case K_TANH: return sl_tensor_value(sl_ag_unary(SL_FN_TANH, x, c->err));
    case K_SOFTMAX:
    case K_LOG_SOFTMAX: {
        long dim = m->has_dim ? m->dim : implicit_dim(x);
        if (!dim_check(c, dim, x->ndim))
            return NULL;
        return sl_tensor_value(sl_ag_softmax(x, (int)dim, m->kind == K_LOG_SOFTMAX, c->err));
    }
    case K_LEAKY_RELU:
        return finish_inplace(v[0], x, sl_ag_leaky_relu(x, m->slope, c->err), m->inplace, c->err);
    default:
        if (!dim_check(c, m->dim, x->ndim) || !dim_check(c, m->end_dim, x->ndim))
            return NULL;
        return sl_tensor_value(sl_ag_flatten(x, (int)m->dim, (int)m->end_dim, c->err));
    }
}

static SlValue *mod_call(SlValue *self, SlCall *c) { return forward(self, c); }

/* ---------------------------------------------------------------------------
 * Printing: PyTorch 1.13's Module.__repr__
 * ------------------------------------------------------------------------- */

static void double_repr(SlBuf *b, double d)
{
    mpfr_t x;
    mpfr_init2(x, 53);
    mpfr_set_d(x, d, MPFR_RNDN);
    sl_num_float_str(b, x, 'r', 0, SL_DTSF_ADD_DOT_0);
    mpfr_clear(x);
}

static void extra_repr(SlBuf *b, const Module *m)
{
    switch (m->kind) {
    case K_LINEAR:
        sl_buf_printf(b, "in_features=%lld, out_features=%lld, bias=%s", (long long)m->in, (long long)m->out,
                      m->bias ? "True" : "False");
        break;
    case K_CONV2D:
        sl_buf_printf(b, "%lld, %lld, kernel_size=(%d, %d), stride=(%d, %d)", (long long)m->in, (long long)m->out,
                      m->kernel[0], m->kernel[1], m->stride[0], m->stride[1]);
        if (m->pad_mode != PAD_INTS)
            sl_buf_puts(b, m->pad_mode == PAD_VALID ? ", padding=valid" : ", padding=same");
        else if (m->padding[0] || m->padding[1])
            sl_buf_printf(b, ", padding=(%d, %d)", m->padding[0], m->padding[1]);
        if (!m->bias)
            sl_buf_puts(b, ", bias=False");
        break;
    case K_RELU:
        if (m->inplace)
            sl_buf_puts(b, "inplace=True");
        break;
    case K_SOFTMAX:
    case K_LOG_SOFTMAX:
        if (m->has_dim)
            sl_buf_printf(b, "dim=%ld", m->dim);
        else
            sl_buf_puts(b, "dim=None");
        break;
    case K_LEAKY_RELU:
        sl_buf_puts(b, "negative_slope=");
        if (m->slope_int)
            sl_buf_printf(b, "%.0f", m->slope);
        else
            double_repr(b, m->slope);
        if (m->inplace)
            sl_buf_puts(b, ", inplace=True");
        break;
    case K_FLATTEN: sl_buf_printf(b, "start_dim=%ld, end_dim=%ld", m->dim, m->end_dim); break;
    default: break;
    }
}

/* torch's _addindent(s, 2): every line after the first indented */
static void add_indented(SlBuf *b, const char *s)
{
    for (; *s; s++) {
        sl_buf_putc(b, *s);
        if (*s == '\n')
            sl_buf_puts(b, "  ");
    }
}

static void mod_str(SlBuf *b, const Module *m)
{
    sl_buf_puts(b, class_names[m->kind]);
    sl_buf_putc(b, '(');
    SlBuf extra;
    sl_buf_init(&extra);
    extra_repr(&extra, m);
    if (m->n == 0) {
        sl_buf_puts(b, extra.s);
    } else {
        if (extra.len) {
            sl_buf_puts(b, "\n  ");
            sl_buf_puts(b, extra.s);
        }
        for (size_t i = 0; i < m->n; i++) {
            SlBuf child;
            sl_buf_init(&child);
            mod_str(&child, mod_of(m->items[i]));
            sl_buf_printf(b, "\n  (%s): ", m->names[i]);
            add_indented(b, child.s);
            sl_buf_free(&child);
        }
        sl_buf_putc(b, '\n');
    }
    sl_buf_free(&extra);
    sl_buf_putc(b, ')');
}

static void mod_repr(const SlValue *v, FILE *out)
{
    SlBuf b;
    sl_buf_init(&b);
    mod_str(&b, v->u.obj.data);
    fputs(b.s, out);
    sl_buf_free(&b);
}

/* ---------------------------------------------------------------------------
 * Parameters
 * ------------------------------------------------------------------------- */

typedef struct Params {
    SlTensor **t;   /* borrowed */
    char **names;   /* malloc'd ("0.weight"), or NULL when not asked */
    size_t n, cap;
} Params;

static void params_push(Params *p, SlTensor *t, const char *prefix, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->t[i] == t)
            return;
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->t = realloc(p->t, p->cap * sizeof *p->t);
        p->names = realloc(p->names, p->cap * sizeof *p->names);
        if (!p->t || !p->names)
            abort();
    }
    p->t[p->n] = t;
    SlBuf b;
    sl_buf_init(&b);
    sl_buf_puts(&b, prefix);
    sl_buf_puts(&b, name);
    p->names[p->n] = sl_buf_take(&b);
    sl_buf_free(&b);
    p->n++;
}

static void params_free(Params *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->names[i]);
    free(p->t);
    free(p->names);
}

/* PyTorch's order: a module's own weight, bias, then its children's. */
static void module_params(const Module *m, const char *prefix, Params *p)
{
    if (m->weight)
        params_push(p, m->weight, prefix, "weight");
    if (m->bias)
        params_push(p, m->bias, prefix, "bias");
    for (size_t i = 0; i < m->n; i++) {
        SlBuf b;
        sl_buf_init(&b);
        sl_buf_printf(&b, "%s%s.", prefix, m->names[i]);
        module_params(mod_of(m->items[i]), b.s, p);
        sl_buf_free(&b);
    }
}

/* What parameters(v) finds: modules (in the order to list them) and loose
 * parameter tensors from lists. */
typedef struct Walk {
    SlSession *s;
    const Module **mods;   /* borrowed, no repeats */
    size_t nmods, cap;
    const SlFunc **funcs;  /* functions already walked */
    size_t nfuncs, fcap;
    SlTensor **loose;      /* tensors given directly in a list, by position among mods */
    size_t *loose_at;      /* nmods when each was seen */
    size_t nloose, lcap;
} Walk;

static void walk_add(Walk *w, const Module *m)
{
    for (size_t i = 0; i < w->nmods; i++)
        if (w->mods[i] == m)
            return;
    if (w->nmods == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 8;
        w->mods = realloc(w->mods, w->cap * sizeof *w->mods);
        if (!w->mods)
            abort();
    }
    w->mods[w->nmods++] = m;
}

static void walk_free(Walk *w)
{
    free(w->mods);
    free(w->funcs);
    free(w->loose);
    free(w->loose_at);
}

static bool walk_func(Walk *w, const SlFunc *f, int depth, SlError *err);

/* Whether name is a parameter of def, or assigned somewhere in its body
 * (a local: the global of that name is not what the body uses). */
static bool assigns(const SlAst *n, const char *name)
{
    if (!n)
        return false;
    if ((n->kind == SL_AST_ASSIGN || n->kind == SL_AST_FOR) && n->a) {
        const SlAst *t = n->a;
        if (t->kind == SL_AST_NAME && strcmp(t->text, name) == 0)
            return true;
        if (t->kind == SL_AST_TUPLE)
            for (size_t i = 0; i < t->nitems; i++)
                if (t->items[i]->kind == SL_AST_NAME && strcmp(t->items[i]->text, name) == 0)
                    return true;
    }
    if (n->kind == SL_AST_FUNCDEF || n->kind == SL_AST_DEF || n->kind == SL_AST_OPTIMIZER)
        return false; /* a nested definition has its own locals */
    if (assigns(n->a, name) || assigns(n->b, name) || assigns(n->c, name))
        return true;
    for (size_t i = 0; i < n->nitems; i++)
        if (assigns(n->items[i], name))
            return true;
    return false;
}

static bool is_local(const SlAst *def, const char *name)
{
    for (size_t i = 0; i < def->nparams; i++)
        if (strcmp(def->params[i].name, name) == 0)
            return true;
    return def->kind != SL_AST_FUNCDEF && assigns(def->a, name);
}

/* v as parameters() sees it: a module, a list/tuple of them (or of
 * parameters), a user function, a method of a module.  *found is set when
 * v is one of these.  strict: v was given to parameters() (items that are
 * none of these are errors, leaf tensors in lists are taken); otherwise v
 * is a global a function body names (only modules count, the rest of a
 * list is data and skipped). */
static bool walk_value(Walk *w, SlValue *v, int depth, bool strict, bool in_list, bool *found, SlError *err)
{
    if (depth > MAX_WALK)
        return strict || v->kind == SL_FUNC ? sl_err(err, SL_E_LIMIT, "parameters(): functions and lists nested "
                                                                      "more than %d deep",
                                                     MAX_WALK)
                                            : true;
    Module *m = mod_of(v);
    if (m) {
        walk_add(w, m);
        *found = true;
        return true;
    }
    if (v->kind == SL_METHOD && mod_of(v->u.method.self)) {
        walk_add(w, mod_of(v->u.method.self));
        *found = true;
        return true;
    }
    if (v->kind == SL_FUNC) {
        *found = true;
        return walk_func(w, v->u.func, depth + 1, err);
    }
    SlTensor *t = sl_tensor_of(v);
    if (t && strict && in_list && t->requires_grad && !t->grad_fn) {
        if (w->nloose == w->lcap) {
            w->lcap = w->lcap ? 2 * w->lcap : 8;
            w->loose = realloc(w->loose, w->lcap * sizeof *w->loose);
            w->loose_at = realloc(w->loose_at, w->lcap * sizeof *w->loose_at);
            if (!w->loose || !w->loose_at)
                abort();
        }
        w->loose[w->nloose] = t;
        w->loose_at[w->nloose++] = w->nmods;
        *found = true;
        return true;
    }
    if (v->kind == SL_LIST || v->kind == SL_TUPLE) {
        *found = true;
        for (size_t i = 0; i < v->u.list.len; i++) {
            bool f = false;
            SlValue *it = v->u.list.items[i];
            if (!walk_value(w, it, depth + 1, strict, true, &f, err))
                return false;
            if (!f && strict) {
                if (sl_tensor_of(it))
                    return sl_err(err, SL_E_VALUE, "parameters(): item %zu of the %s is a tensor that is not a "
                                                   "leaf requiring grad",
                                  i, sl_type_name(v));
                return sl_err(err, SL_E_TYPE, "parameters(): item %zu of the %s is %s, not a module", i,
                              sl_type_name(v), sl_type_name(it));
            }
        }
        return true;
    }
    return true;
}

/* The globals a function's body names, found as the session has them now. */
static bool walk_ast(Walk *w, const SlAst *def, const SlAst *n, int depth, SlError *err)
{
    if (!n)
        return true;
    if (n->kind == SL_AST_NAME && !is_local(def, n->text)) {
        SlValue *v = sl_scope_get(&w->s->globals, n->text);
        bool found = false;
        /* globals that are not layers (numbers, tensors, lists of data) add nothing */
        if (v && !walk_value(w, v, depth, false, false, &found, err))
            return false;
    }
    if (!walk_ast(w, def, n->a, depth, err) || !walk_ast(w, def, n->b, depth, err) ||
        !walk_ast(w, def, n->c, depth, err))
        return false;
    for (size_t i = 0; i < n->nitems; i++)
        if (!walk_ast(w, def, n->items[i], depth, err))
            return false;
    for (size_t i = 0; i < n->nparams; i++)
        if (!walk_ast(w, def, n->params[i].def, depth, err))
            return false;
    return true;
}

static bool walk_func(Walk *w, const SlFunc *f, int depth, SlError *err)
{
    for (size_t i = 0; i < w->nfuncs; i++)
        if (w->funcs[i] == f)
            return true;
    if (w->nfuncs == w->fcap) {
        w->fcap = w->fcap ? 2 * w->fcap : 8;
        w->funcs = realloc(w->funcs, w->fcap * sizeof *w->funcs);
        if (!w->funcs)
            abort();
    }
    w->funcs[w->nfuncs++] = f;
    if (depth > MAX_WALK)
        return sl_err(err, SL_E_LIMIT, "parameters(): functions and lists nested more than %d deep", MAX_WALK);
    if (f->parent) {
        bool found = false;
        if (!walk_value(w, f->parent, depth + 1, false, false, &found, err))
            return false;
    }
    if (!f->def)
        return true;
    if (!walk_ast(w, f->def, f->def->a, depth, err))
        return false;
    for (size_t i = 0; i < f->def->nparams; i++)
        if (!walk_ast(w, f->def, f->def->params[i].def, depth, err))
            return false;
    return true;
}

static int by_serial(const void *a, const void *b)
{
    const Module *x = *(const Module *const *)a, *y = *(const Module *const *)b;
    return x->serial < y->serial ? -1 : x->serial > y->serial;
}

bool sl_nn_collect_parameters(SlSession *s, SlValue *v, SlValue *list, SlError *err)
{
    Walk w = {.s = s};
    bool found = false;
    if (!walk_value(&w, v, 0, true, false, &found, err)) {
        walk_free(&w);
        return false;
    }
    if (!found) {
        walk_free(&w);
        return sl_err(err, SL_E_TYPE,
                      "parameters() argument must be a module, a list of modules or a function that uses "
                      "layers, not %s",
                      sl_type_name(v));
    }
    if (v->kind == SL_FUNC) {
        if (w.nmods == 0) {
            walk_free(&w);
            return sl_err(err, SL_E_VALUE, "parameters(): function '%s' uses no layers (Linear, Conv2d, ...) by "
                                           "global name",
                          v->u.func->name);
        }
        /* a function's layers: in the order they were created, as torch
         * registers a Module's attributes */
        qsort(w.mods, w.nmods, sizeof *w.mods, by_serial);
    }
    Params p = {0};
    for (size_t i = 0; i < list->u.list.len; i++) {
        SlTensor *t = sl_tensor_of(list->u.list.items[i]);
        if (t)
            params_push(&p, t, "", "");
    }
    size_t before = p.n, k = 0;
    for (size_t i = 0; i <= w.nmods; i++) {
        for (; k < w.nloose && w.loose_at[k] == i; k++)
            params_push(&p, w.loose[k], "", "");
        if (i < w.nmods)
            module_params(w.mods[i], "", &p);
    }
    for (size_t i = before; i < p.n; i++)
        sl_list_push_take(list, sl_tensor_value(sl_tensor_ref(p.t[i])));
    params_free(&p);
    walk_free(&w);
    return true;
}

/* parameters(model_or_function) */
static SlValue *b_parameters(SlCall *c)
{
    if (!sl_call_keywords(c, "parameters", NULL) || !sl_call_arity(c, "parameters", 1, 1))
        return NULL;
    SlValue *list = sl_list_new(8);
    if (!sl_nn_collect_parameters(c->s, c->args[0], list, c->err)) {
        sl_unref(list);
        return NULL;
    }
    return list;
}

/* ---------------------------------------------------------------------------
 * Attributes and methods
 * ------------------------------------------------------------------------- */

static SlValue *pair_value(const int p[2])
{
    SlValue *t = sl_tuple_new(2);
    sl_list_push_take(t, sl_int_si(p[0]));
    sl_list_push_take(t, sl_int_si(p[1]));
    return t;
}

static SlValue *opt_tensor_value(SlTensor *t) { return t ? sl_tensor_value(sl_tensor_ref(t)) : SL_NONE_V; }

static SlValue *mod_getattr(SlValue *self, const char *name, SlError *err)
{
    (void)err;
    Module *m = self->u.obj.data;
    Kind k = m->kind;
    if (strcmp(name, "training") == 0)
        return sl_bool(m->training);
    if (k == K_LINEAR || k == K_CONV2D) {
        if (strcmp(name, "weight") == 0)
            return opt_tensor_value(m->weight);
        if (strcmp(name, "bias") == 0)
            return opt_tensor_value(m->bias);
    }
    if (k == K_LINEAR) {
        if (strcmp(name, "in_features") == 0)
            return sl_int_si((long)m->in);
        if (strcmp(name, "out_features") == 0)
            return sl_int_si((long)m->out);
    }
    if (k == K_CONV2D) {
        static const int ones[2] = {1, 1}, zeros[2] = {0, 0};
        if (strcmp(name, "in_channels") == 0)
            return sl_int_si((long)m->in);
        if (strcmp(name, "out_channels") == 0)
            return sl_int_si((long)m->out);
        if (strcmp(name, "kernel_size") == 0)
            return pair_value(m->kernel);
        if (strcmp(name, "stride") == 0)
            return pair_value(m->stride);
        if (strcmp(name, "padding") == 0)
            return m->pad_mode == PAD_INTS ? pair_value(m->padding)
                                           : sl_str_cstr(m->pad_mode == PAD_VALID ? "valid" : "same");
        if (strcmp(name, "dilation") == 0)
            return pair_value(ones);
        if (strcmp(name, "output_padding") == 0)
            return pair_value(zeros);
        if (strcmp(name, "groups") == 0)
            return sl_int_si(1);
        if (strcmp(name, "padding_mode") == 0)
            return sl_str_cstr("zeros");
        if (strcmp(name, "transposed") == 0)
            return sl_bool(false);
    }
    if ((k == K_RELU || k == K_LEAKY_RELU) && strcmp(name, "inplace") == 0)
        return sl_bool(m->inplace);
    if (k == K_LEAKY_RELU && strcmp(name, "negative_slope") == 0)
        return m->slope_int ? sl_int_si((long)m->slope) : sl_float_d(m->slope);
    if ((k == K_SOFTMAX || k == K_LOG_SOFTMAX) && strcmp(name, "dim") == 0)
        return m->has_dim ? sl_int_si(m->dim) : SL_NONE_V;
    if (k == K_FLATTEN) {
        if (strcmp(name, "start_dim") == 0)
            return sl_int_si(m->dim);
        if (strcmp(name, "end_dim") == 0)
            return sl_int_si(m->end_dim);
    }
    if (is_loss(k)) {
        if (strcmp(name, "reduction") == 0)
            return sl_str_cstr(m->red_name);
        if ((k == K_BCE || k == K_CE || k == K_NLL) && strcmp(name, "weight") == 0)
            return opt_tensor_value(m->lweight);
        if ((k == K_CE || k == K_NLL) && strcmp(name, "ignore_index") == 0)
            return sl_int_si((long)m->ignore_index);
        if (k == K_CE && strcmp(name, "label_smoothing") == 0)
            return sl_float_d(m->label_smoothing);
    }
    return NULL;
}

/* l.weight = Parameter(...), l.bias = None, model.training = False */
static bool mod_setattr(SlValue *self, const char *name, SlValue *v, SlError *err)
{
    Module *m = self->u.obj.data;
    const char *cls = class_names[m->kind];
    if (strcmp(name, "training") == 0) {
        if (v->kind != SL_BOOL)
            return sl_err(err, SL_E_TYPE, "training must be a bool, not %s", sl_type_name(v));
        m->training = v->u.b;
        return true;
    }
    if ((m->kind == K_LINEAR || m->kind == K_CONV2D) && (strcmp(name, "weight") == 0 || strcmp(name, "bias") == 0)) {
        bool is_w = name[0] == 'w';
        SlTensor *t = sl_tensor_of(v);
        if (v->kind == SL_NONE && !is_w) {
            sl_tensor_assign(&m->bias, NULL);
            return true;
        }
        if (!t || !t->is_param)
            return sl_err(err, SL_E_TYPE, "cannot assign '%s' as parameter '%s' (torch.nn.Parameter or None "
                                          "expected)",
                          t ? tensor_typename(t) : sl_type_name(v), name);
        sl_tensor_assign(is_w ? &m->weight : &m->bias, t);
        return true;
    }
    if (is_loss(m->kind) && strcmp(name, "reduction") == 0)
        return reduction_arg(&(SlCall){.err = err}, v, NULL, NULL, m);
    SlValue *cur = mod_getattr(self, name, err);
    if (cur) {
        sl_unref(cur);
        return sl_err(err, SL_E_TYPE, "attribute '%s' of '%s' objects is not writable in slope", name, cls);
    }
    return sl_err(err, SL_E_NO_ATTR, cls, name);
}

#define SELF_MOD ((Module *)c->self->u.obj.data)

static bool no_args(SlCall *c, const char *name)
{
    return sl_call_keywords(c, name, NULL) && sl_call_arity(c, name, 0, 0);
}

static SlValue *m_parameters(SlCall *c)
{
    static const char *const names[] = {"recurse", NULL};
    SlValue *v[1];
    bool recurse = true;
    if (!bind(c, "parameters", names, 0, v) || (v[0] && !bool_arg(c, "parameters", "recurse", v[0], &recurse)))
        return NULL;
    Params p = {0};
    if (recurse) {
        module_params(SELF_MOD, "", &p);
    } else {
        if (SELF_MOD->weight)
            params_push(&p, SELF_MOD->weight, "", "weight");
        if (SELF_MOD->bias)
            params_push(&p, SELF_MOD->bias, "", "bias");
    }
    SlValue *list = sl_list_new(p.n);
    for (size_t i = 0; i < p.n; i++)
        sl_list_push_take(list, sl_tensor_value(sl_tensor_ref(p.t[i])));
    params_free(&p);
    return list;
}

static SlValue *m_named_parameters(SlCall *c)
{
    static const char *const names[] = {"prefix", "recurse", NULL};
    SlValue *v[2];
    if (!bind(c, "named_parameters", names, 0, v))
        return NULL;
    if (v[0] && v[0]->kind != SL_STR)
        return sl_err(c->err, SL_E_ARG_TYPE, "named_parameters", "prefix", "a str", sl_type_name(v[0])), NULL;
    SlBuf pre;
    sl_buf_init(&pre);
    if (v[0] && v[0]->u.str.len)
        sl_buf_printf(&pre, "%s.", v[0]->u.str.s);
    Params p = {0};
    module_params(SELF_MOD, pre.s, &p);
    sl_buf_free(&pre);
    SlValue *list = sl_list_new(p.n);
    for (size_t i = 0; i < p.n; i++) {
        SlValue *t = sl_tuple_new(2);
        sl_list_push_take(t, sl_str_cstr(p.names[i]));
        sl_list_push_take(t, sl_tensor_value(sl_tensor_ref(p.t[i])));
        sl_list_push_take(list, t);
    }
    params_free(&p);
    return list;
}

static void zero_grads(const SlValue *self, bool to_none);

/* A recorded loop body's module.zero_grad(), train() and eval(), run again
 * at each replay (capture.h); obj is the module's value */
static bool replay_zero_grad(void *obj, void *ctx, SlError *err)
{
    (void)ctx;
    (void)err;
    zero_grads(obj, false);
    return true;
}

static bool replay_zero_grad_none(void *obj, void *ctx, SlError *err)
{
    (void)ctx;
    (void)err;
    zero_grads(obj, true);
    return true;
}

static void drop_value(void *obj) { sl_unref(obj); }

static SlValue *m_zero_grad(SlCall *c)
{
    static const char *const names[] = {"set_to_none", NULL};
    SlValue *v[1];
    bool to_none = false;
    if (!bind(c, "zero_grad", names, 0, v) || (v[0] && !bool_arg(c, "zero_grad", "set_to_none", v[0], &to_none)))
        return NULL;
    sl_capture_suspend();
    zero_grads(c->self, to_none);
    sl_capture_resume();
    sl_capture_call(to_none ? replay_zero_grad_none : replay_zero_grad, sl_ref(c->self), drop_value);
    return SL_NONE_V;
}

static void zero_grads(const SlValue *self, bool to_none)
{
    Params p = {0};
    module_params(mod_of(self), "", &p);
    for (size_t i = 0; i < p.n; i++) {
        SlTensor *t = p.t[i];
        if (!t->grad)
            continue;
        if (to_none) {
            sl_tensor_assign(&t->grad, NULL);
            sl_struct_gen++; /* a recorded step (capture.h) would still accumulate into it */
        } else {
            sl_tensor_fill_d(t->grad, 0.0);
            sl_tensor_bump_version(t->grad);
        }
    }
    params_free(&p);
}

static SlValue *m_forward(SlCall *c) { return forward(c->self, c); }

static void set_training(Module *m, bool mode)
{
    m->training = mode;
    for (size_t i = 0; i < m->n; i++)
        set_training(mod_of(m->items[i]), mode);
}

static bool replay_train(void *obj, void *ctx, SlError *err)
{
    (void)ctx;
    (void)err;
    set_training(mod_of(obj), true);
    return true;
}

static bool replay_eval(void *obj, void *ctx, SlError *err)
{
    (void)ctx;
    (void)err;
    set_training(mod_of(obj), false);
    return true;
}

static SlValue *m_train(SlCall *c)
{
    static const char *const names[] = {"mode", NULL};
    SlValue *v[1];
    bool mode = true;
    if (!bind(c, "train", names, 0, v))
        return NULL;
    if (v[0]) {
        if (v[0]->kind != SL_BOOL)
            return sl_err(c->err, SL_E_VALUE, "training mode is expected to be boolean"), NULL;
        mode = v[0]->u.b;
    }
    set_training(SELF_MOD, mode);
    sl_capture_call(mode ? replay_train : replay_eval, sl_ref(c->self), drop_value);
    return sl_ref(c->self);
}

static SlValue *m_eval(SlCall *c)
{
    if (!no_args(c, "eval"))
        return NULL;
    set_training(SELF_MOD, false);
    sl_capture_call(replay_eval, sl_ref(c->self), drop_value);
    return sl_ref(c->self);
}

static SlValue *m_requires_grad_(SlCall *c)
{
    static const char *const names[] = {"requires_grad", NULL};
    SlValue *v[1];
    bool rg = true;
    if (!bind(c, "requires_grad_", names, 0, v) ||
        (v[0] && !bool_arg(c, "requires_grad_", "requires_grad", v[0], &rg)))
        return NULL;
    Params p = {0};
    module_params(SELF_MOD, "", &p);
    bool ok = true;
    for (size_t i = 0; i < p.n && ok; i++)
        ok = sl_ag_requires_grad_(p.t[i], rg, c->err);
    params_free(&p);
    return ok ? sl_ref(c->self) : NULL;
}

static SlValue *m_children(SlCall *c)
{
    if (!no_args(c, "children"))
        return NULL;
    Module *m = SELF_MOD;
    SlValue *list = sl_list_new(m->n);
    for (size_t i = 0; i < m->n; i++)
        sl_list_push(list, m->items[i]);
    return list;
}

static bool contains(const Module *m, const Module *target)
{
    if (m == target)
        return true;
    for (size_t i = 0; i < m->n; i++)
        if (contains(mod_of(m->items[i]), target))
            return true;
    return false;
}

static SlValue *m_append(SlCall *c)
{
    static const char *const names[] = {"module", NULL};
    SlValue *v[1];
    if (!bind(c, "append", names, 1, v))
        return NULL;
    Module *m = SELF_MOD, *cm = mod_of(v[0]);
    if (!cm)
        return not_a_module(c, v[0]), NULL;
    if (contains(cm, m))
        return sl_err(c->err, SL_E_VALUE, "cannot append a Sequential to itself (or to a module inside it)"), NULL;
    /* only a Sequential no other holds may grow deeper, so that every
     * module's nest stays exact and bounded */
    if (m->parents > 0 && cm->nest + 1 > m->nest)
        return sl_err(c->err, SL_E_VALUE, "cannot append a Sequential to a Sequential that is inside another "
                                          "one; append before nesting it"),
               NULL;
    if (cm->nest >= MAX_NEST)
        return sl_err(c->err, SL_E_LIMIT, "Sequential nested more than %d deep", MAX_NEST), NULL;
    sl_struct_gen++; /* what a recorded forward does changes (capture.h) */
    char name[32];
    snprintf(name, sizeof name, "%zu", m->n);
    seq_push(m, v[0], name);
    return sl_ref(c->self);
}

static const SlBuiltin mod_methods[] = {
    {"parameters", m_parameters, "module.parameters(recurse=True)",
     "The module's Parameter tensors as a list, in PyTorch's order (weight, bias, then the children's)."},
    {"named_parameters", m_named_parameters, "module.named_parameters(prefix='')",
     "(name, parameter) pairs: ('weight', ...), ('0.bias', ...) for a Sequential."},
    {"zero_grad", m_zero_grad, "module.zero_grad(set_to_none=False)", "Set every parameter's .grad to zero."},
    {"forward", m_forward, "module.forward(input)", "The same as calling the module: module(input)."},
    {"train", m_train, "module.train(mode=True)", "Set training mode (recursively); returns the module."},
    {"eval", m_eval, "module.eval()", "Set evaluation mode (train(False)); returns the module."},
    {"requires_grad_", m_requires_grad_, "module.requires_grad_(requires_grad=True)",
     "Turn gradients on or off for every parameter; returns the module."},
    {"children", m_children, "module.children()", "The direct child modules, as a list."},
};

static const SlBuiltin seq_methods[] = {
    {"append", m_append, "seq.append(module)", "Add a module at the end; returns the Sequential."},
};

static const SlBuiltin *mod_method(const SlValue *self, const char *name)
{
    for (size_t i = 0; i < COUNT(mod_methods); i++)
        if (strcmp(mod_methods[i].name, name) == 0)
            return &mod_methods[i];
    if (mod_of(self)->kind == K_SEQUENTIAL)
        for (size_t i = 0; i < COUNT(seq_methods); i++)
            if (strcmp(seq_methods[i].name, name) == 0)
                return &seq_methods[i];
    return NULL;
}

/* ---- Sequential as a sequence ------------------------------------------- */

static bool slice_bound(SlValue *v, long *out, SlError *err)
{
    if (!v || v->kind == SL_NONE)
        return true;
    if (sl_value_as_long(v, out))
        return true;
    if (v->kind == SL_INT) { /* beyond a long: clamps like Python */
        *out = mpz_sgn(v->u.z) < 0 ? -(1L << 40) : 1L << 40;
        return true;
    }
    return sl_err(err, SL_E_TYPE, "slice indices must be integers or None or have an __index__ method");
}

static SlValue *seq_index(SlValue *self, SlValue *const *idx, size_t n, SlError *err)
{
    Module *m = self->u.obj.data;
    long len = (long)m->n;
    if (n == 1 && idx[0]->kind == SL_OBJECT && idx[0]->u.obj.type == &sl_slice_type) {
        const SlSlice *sl = idx[0]->u.obj.data;
        long step = 1;
        if (!slice_bound(sl->step, &step, err))
            return NULL;
        if (step == 0)
            return sl_err(err, SL_E_VALUE, "slice step cannot be zero"), NULL;
        long lo = step < 0 ? -1 : 0, hi = step < 0 ? len - 1 : len;
        long a = step < 0 ? hi : lo, b = step < 0 ? lo : hi;
        bool has_a = sl->start && sl->start->kind != SL_NONE, has_b = sl->stop && sl->stop->kind != SL_NONE;
        if (!slice_bound(sl->start, &a, err) || !slice_bound(sl->stop, &b, err))
            return NULL;
        if (has_a)
            a = a < 0 ? (a + len < lo ? lo : a + len) : (a > hi ? hi : a);
        if (has_b)
            b = b < 0 ? (b + len < lo ? lo : b + len) : (b > hi ? hi : b);
        Module *r = mod_new(K_SEQUENTIAL);
        r->training = m->training;
        for (long i = a; step > 0 ? i < b : i > b; i += step)
            seq_push(r, m->items[i], m->names[i]);
        return mod_value(r);
    }
    long i;
    if (n == 1 && idx[0]->kind == SL_INT && !sl_value_as_long(idx[0], &i))
        return sl_err(err, SL_E_TENSOR_INDEX, "cannot fit 'int' into an index-sized integer"), NULL;
    if (n != 1 || !sl_value_as_long(idx[0], &i))
        return sl_err(err, SL_E_TYPE, "Sequential indices must be integers or slices, not %s",
                      n != 1 ? "tuple" : sl_type_name(idx[0])),
               NULL;
    if (i < -len || i >= len)
        return sl_err(err, SL_E_VALUE, "index %ld is out of range", i), NULL;
    return sl_ref(m->items[i < 0 ? i + len : i]);
}

static bool seq_length(const SlValue *self, size_t *n, SlError *err)
{
    (void)err;
    *n = ((const Module *)self->u.obj.data)->n;
    return true;
}

static SlValue *seq_iter(SlValue *self, SlError *err)
{
    (void)err;
    Module *m = self->u.obj.data;
    SlValue *list = sl_list_new(m->n);
    for (size_t i = 0; i < m->n; i++)
        sl_list_push(list, m->items[i]);
    return list;
}

static const SlObjType mod_types[K_COUNT] = {
#define T(k, nm) [k] = {.name = nm, .free = mod_free, .repr = mod_repr, .getattr = mod_getattr, \
                        .setattr = mod_setattr, .method = mod_method, .call = mod_call}
    T(K_LINEAR, "Linear"),
    T(K_CONV2D, "Conv2d"),
    T(K_RELU, "ReLU"),
    T(K_SIGMOID, "Sigmoid"),
    T(K_TANH, "Tanh"),
    T(K_SOFTMAX, "Softmax"),
    T(K_LOG_SOFTMAX, "LogSoftmax"),
    T(K_LEAKY_RELU, "LeakyReLU"),
    T(K_FLATTEN, "Flatten"),
    T(K_IDENTITY, "Identity"),
    [K_SEQUENTIAL] = {.name = "Sequential", .free = mod_free, .repr = mod_repr, .getattr = mod_getattr,
                      .setattr = mod_setattr, .method = mod_method, .call = mod_call, .index = seq_index,
                      .length = seq_length, .iter = seq_iter},
    T(K_MSE, "MSELoss"),
    T(K_L1, "L1Loss"),
    T(K_BCE, "BCELoss"),
    T(K_CE, "CrossEntropyLoss"),
    T(K_NLL, "NLLLoss"),
#undef T
};

/* ---------------------------------------------------------------------------
 * The functional forms: F.relu, F.softmax, F.mse_loss, ...
 * ------------------------------------------------------------------------- */

/* relu / sigmoid / tanh on something that is not a tensor: the global
 * math builtin of that name (numbers, symbols), as before this module. */
static SlValue *elementwise(SlCall *c, const char *fname, int fn, bool has_inplace)
{
    static const char *const with[] = {"input", "inplace", NULL}, *const without[] = {"input", NULL};
    if (c->nargs >= 1 && !sl_tensor_of(c->args[0]) && c->nkw == 0) {
        const SlBuiltin *g = sl_builtin_lookup(fname);
        if (g)
            return g->fn(c);
    }
    SlValue *v[2] = {NULL};
    bool inplace = false;
    if (!bind(c, fname, has_inplace ? with : without, 1, v) ||
        (v[1] && !bool_arg(c, fname, "inplace", v[1], &inplace)))
        return NULL;
    SlTensor *x = tensor_arg(c, fname, "input", 1, v[0]);
    if (!x)
        return NULL;
    return finish_inplace(v[0], x, sl_ag_unary(fn, x, c->err), inplace, c->err);
}

static SlValue *f_relu(SlCall *c) { return elementwise(c, "relu", SL_FN_RELU, true); }
static SlValue *f_sigmoid(SlCall *c) { return elementwise(c, "sigmoid", SL_FN_SIGMOID, false); }
static SlValue *f_tanh(SlCall *c) { return elementwise(c, "tanh", SL_FN_TANH, false); }

/* softmax(input, dim=None, _stacklevel=3, dtype=None) */
static SlValue *softmax_fn(SlCall *c, const char *fname, bool log)
{
    static const char *const names[] = {"input", "dim", "_stacklevel", "dtype", NULL};
    SlValue *v[4];
    long dim = 0;
    if (!bind(c, fname, names, 1, v))
        return NULL;
    SlTensor *x = tensor_arg(c, fname, "input", 1, v[0]);
    if (!x || (given(v[1]) && !sl_arg_long(c, fname, "dim", v[1], &dim)))
        return NULL;
    if (!given(v[1]))
        dim = implicit_dim(x);
    if (!dim_check(c, dim, x->ndim))
        return NULL;
    SlTensor *cast = NULL;
    if (given(v[3])) {
        SlDTypeP dt;
        if (!dtype_arg(c, fname, v[3], &dt))
            return NULL;
        cast = sl_ag_to(x, dt.dt, dt.prec, c->err);
        if (!cast)
            return NULL;
        x = cast;
    }
    SlTensor *r = sl_ag_softmax(x, (int)dim, log, c->err);
    sl_tensor_unref(cast);
    return sl_tensor_value(r);
}

static SlValue *f_softmax(SlCall *c) { return softmax_fn(c, "softmax", false); }
static SlValue *f_log_softmax(SlCall *c) { return softmax_fn(c, "log_softmax", true); }

/* leaky_relu(input, negative_slope=0.01, inplace=False) */
static SlValue *f_leaky_relu(SlCall *c)
{
    static const char *const names[] = {"input", "negative_slope", "inplace", NULL};
    SlValue *v[3];
    double slope = 0.01;
    bool inplace = false;
    if (!bind(c, "leaky_relu", names, 1, v))
        return NULL;
    SlTensor *x = tensor_arg(c, "leaky_relu", "input", 1, v[0]);
    if (!x || (v[1] && !sl_arg_double(c, "leaky_relu", "negative_slope", v[1], &slope)) ||
        (v[2] && !bool_arg(c, "leaky_relu", "inplace", v[2], &inplace)))
        return NULL;
    return finish_inplace(v[0], x, sl_ag_leaky_relu(x, slope, c->err), inplace, c->err);
}

/* linear(input, weight, bias=None) */
static SlValue *f_linear(SlCall *c)
{
    static const char *const names[] = {"input", "weight", "bias", NULL};
    SlValue *v[3];
    SlTensor *x, *w, *b;
    if (!bind(c, "linear", names, 2, v) || !(x = tensor_arg(c, "linear", "input", 1, v[0])) ||
        !(w = tensor_arg(c, "linear", "weight", 2, v[1])) || !opt_tensor_arg(c, "linear", "bias", 3, v[2], &b))
        return NULL;
    return sl_tensor_value(sl_ag_linear(x, w, b, c->err));
}

/* conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) */
static SlValue *f_conv2d(SlCall *c)
{
    static const char *const names[] = {"input", "weight", "bias", "stride", "padding", "dilation", "groups", NULL};
    SlValue *v[7];
    SlTensor *x, *w, *b;
    int stride[2] = {1, 1}, padding[2] = {0, 0}, dilation[2] = {1, 1};
    long groups = 1;
    if (!bind(c, "conv2d", names, 2, v) || !(x = tensor_arg(c, "conv2d", "input", 1, v[0])) ||
        !(w = tensor_arg(c, "conv2d", "weight", 2, v[1])) || !opt_tensor_arg(c, "conv2d", "bias", 3, v[2], &b) ||
        (v[3] && !pair_arg(c, "conv2d", "stride", v[3], stride)) ||
        (v[5] && !pair_arg(c, "conv2d", "dilation", v[5], dilation)) ||
        (v[6] && !sl_arg_long(c, "conv2d", "groups", v[6], &groups)))
        return NULL;
    if (v[4] && v[4]->kind == SL_STR) {
        const char *p = v[4]->u.str.s;
        if (strcmp(p, "same") == 0) {
            if (stride[0] != 1 || stride[1] != 1)
                return sl_err(c->err, SL_E_VALUE, "padding='same' is not supported for strided convolutions"), NULL;
            if (w->ndim != 4 || w->shape[2] % 2 == 0 || w->shape[3] % 2 == 0)
                return sl_err(c->err, SL_E_VALUE, "padding='same' with an even kernel size is not supported yet; "
                                                  "give the padding as numbers"),
                       NULL;
            padding[0] = (int)(w->shape[2] / 2), padding[1] = (int)(w->shape[3] / 2);
        } else if (strcmp(p, "valid") != 0) {
            return sl_err(c->err, SL_E_VALUE, "Invalid padding string '%s', should be one of {'same', 'valid'}", p),
                   NULL;
        }
    } else if (v[4] && !pair_arg(c, "conv2d", "padding", v[4], padding)) {
        return NULL;
    }
    if (groups != 1 || dilation[0] != 1 || dilation[1] != 1)
        return sl_err(c->err, SL_E_VALUE, "conv2d: groups and dilation other than 1 are not supported yet"), NULL;
    if (stride[0] <= 0 || stride[1] <= 0)
        return sl_err(c->err, SL_E_VALUE, "non-positive stride is not supported"), NULL;
    if (padding[0] < 0 || padding[1] < 0)
        return sl_err(c->err, SL_E_VALUE, "negative padding is not supported"), NULL;
    return sl_tensor_value(sl_ag_conv2d(x, w, b, stride, padding, c->err));
}

/* The functional losses: the class's arguments after (input, target). */
static SlValue *loss_fn(SlCall *c, Kind k)
{
    static const char *const plain[] = {"input", "target", "size_average", "reduce", "reduction", NULL};
    static const char *const bce[] = {"input", "target", "weight", "size_average", "reduce", "reduction", NULL};
    static const char *const nll[] = {"input",  "target", "weight", "size_average", "ignore_index",
                                      "reduce", "reduction", NULL};
    static const char *const ce[] = {"input",  "target",    "weight",          "size_average", "ignore_index",
                                     "reduce", "reduction", "label_smoothing", NULL};
    const char *f = loss_fn_names[k - K_MSE];
    SlValue *v[8] = {NULL};
    if (!bind(c, f, k == K_MSE || k == K_L1 ? plain : k == K_BCE ? bce : k == K_CE ? ce : nll, 2, v))
        return NULL;
    SlTensor *in = tensor_arg(c, f, "input", 1, v[0]);
    SlTensor *tg = in ? tensor_arg(c, f, "target", 2, v[1]) : NULL;
    if (!tg)
        return NULL;
    SlValue *weight = NULL, *sa, *rd, *red, *ii = NULL, *ls = NULL;
    if (k == K_MSE || k == K_L1)
        sa = v[2], rd = v[3], red = v[4];
    else if (k == K_BCE)
        weight = v[2], sa = v[3], rd = v[4], red = v[5];
    else
        weight = v[2], sa = v[3], ii = v[4], rd = v[5], red = v[6], ls = v[7];
    Module m = {.red = SL_RED_MEAN};
    long ignore = -100;
    double smoothing = 0;
    SlTensor *w = NULL;
    if (!reduction_arg(c, red, sa, rd, &m) || (ii && !sl_arg_long(c, f, "ignore_index", ii, &ignore)) ||
        (ls && !sl_arg_double(c, f, "label_smoothing", ls, &smoothing)) ||
        !opt_tensor_arg(c, f, "weight", 3, weight, &w))
        return NULL;
    if (smoothing != 0)
        return sl_err(c->err, SL_E_VALUE, "label_smoothing is not supported yet (only 0.0)"), NULL;
    return sl_tensor_value(loss_apply(c, k, in, tg, w, m.red, ignore));
}

static SlValue *f_mse_loss(SlCall *c) { return loss_fn(c, K_MSE); }
static SlValue *f_l1_loss(SlCall *c) { return loss_fn(c, K_L1); }
static SlValue *f_binary_cross_entropy(SlCall *c) { return loss_fn(c, K_BCE); }
static SlValue *f_cross_entropy(SlCall *c) { return loss_fn(c, K_CE); }
static SlValue *f_nll_loss(SlCall *c) { return loss_fn(c, K_NLL); }

/* ---------------------------------------------------------------------------
 * Tables
 * ------------------------------------------------------------------------- */

/* Global names (no prefix needed), also reachable after nn. / F. */
static const SlBuiltin nn_globals[] = {
    {"Linear", b_Linear, "Linear(in_features, out_features, bias=True, dtype=None)",
     "A fully connected layer: y = x @ weight.T + bias, weights initialised as PyTorch does."},
    {"Conv2d", b_Conv2d, "Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)",
     "A 2-d convolution over (N, C, H, W) or (C, H, W) input; sizes are ints or pairs."},
    {"ReLU", b_ReLU, "ReLU(inplace=False)", "The layer max(0, x)."},
    {"Sigmoid", b_Sigmoid, "Sigmoid()", "The layer 1 / (1 + exp(-x))."},
    {"Tanh", b_Tanh, "Tanh()", "The layer tanh(x)."},
    {"Softmax", b_Softmax, "Softmax(dim=None)", "The layer exp(x) / sum(exp(x)) along dim."},
    {"LogSoftmax", b_LogSoftmax, "LogSoftmax(dim=None)", "The layer log(softmax(x)) along dim."},
    {"LeakyReLU", b_LeakyReLU, "LeakyReLU(negative_slope=0.01, inplace=False)",
     "The layer x for x > 0, negative_slope * x otherwise."},
    {"Flatten", b_Flatten, "Flatten(start_dim=1, end_dim=-1)", "The layer that folds dims start_dim..end_dim."},
    {"Identity", b_Identity, "Identity()", "The layer that returns its input."},
    {"Sequential", b_Sequential, "Sequential(*modules)",
     "Modules applied one after the other; model[i], len(model), model.append(m)."},
    {"MSELoss", b_MSELoss, "MSELoss(reduction='mean')", "Mean squared error loss(input, target)."},
    {"L1Loss", b_L1Loss, "L1Loss(reduction='mean')", "Mean absolute error loss(input, target)."},
    {"BCELoss", b_BCELoss, "BCELoss(weight=None, reduction='mean')",
     "Binary cross entropy of probabilities in [0, 1] against 0/1 targets."},
    {"CrossEntropyLoss", b_CrossEntropyLoss, "CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean')",
     "Cross entropy of raw scores (N, C) against class indices (N) or probabilities."},
    {"NLLLoss", b_NLLLoss, "NLLLoss(weight=None, ignore_index=-100, reduction='mean')",
     "Negative log likelihood of log-probabilities (N, C) against class indices (N)."},
    {"mse_loss", f_mse_loss, "mse_loss(input, target, reduction='mean')", "Mean squared error."},
    {"l1_loss", f_l1_loss, "l1_loss(input, target, reduction='mean')", "Mean absolute error."},
    {"binary_cross_entropy", f_binary_cross_entropy,
     "binary_cross_entropy(input, target, weight=None, reduction='mean')", "Binary cross entropy."},
    {"cross_entropy", f_cross_entropy,
     "cross_entropy(input, target, weight=None, ignore_index=-100, reduction='mean')",
     "Cross entropy of raw scores against class indices."},
    {"nll_loss", f_nll_loss, "nll_loss(input, target, weight=None, ignore_index=-100, reduction='mean')",
     "Negative log likelihood of log-probabilities."},
    {"softmax", f_softmax, "softmax(input, dim=None)", "exp(x) / sum(exp(x)) along dim."},
    {"log_softmax", f_log_softmax, "log_softmax(input, dim=None)", "log(softmax(x)) along dim."},
    {"parameters", b_parameters, "parameters(model)",
     "The Parameters of a module, a list of modules, or a function whose body uses layers by name "
     "(in the order the layers were made): SGD(parameters(net), lr=0.1)."},
};

/* Only after nn. / torch.nn. / F. / torch. */
static const SlBuiltin nn_prefixed[] = {
    {"relu", f_relu, "F.relu(input, inplace=False)", "max(0, x) elementwise."},
    {"sigmoid", f_sigmoid, "F.sigmoid(input)", "1 / (1 + exp(-x)) elementwise."},
    {"tanh", f_tanh, "F.tanh(input)", "tanh(x) elementwise."},
    {"leaky_relu", f_leaky_relu, "F.leaky_relu(input, negative_slope=0.01, inplace=False)",
     "x for x > 0, negative_slope * x otherwise."},
    {"linear", f_linear, "F.linear(input, weight, bias=None)", "input @ weight.T + bias."},
    {"conv2d", f_conv2d, "F.conv2d(input, weight, bias=None, stride=1, padding=0)", "A 2-d convolution."},
    {"Parameter", b_Parameter, "nn.Parameter(data, requires_grad=True)",
     "A tensor marked as a module parameter (shares data's storage)."},
};

const SlBuiltin *sl_nn_builtin_lookup(const char *name)
{
    const SlBuiltin *b = sl_nn_global_lookup(name);
    if (b)
        return b;
    for (size_t i = 0; i < COUNT(nn_prefixed); i++)
        if (strcmp(nn_prefixed[i].name, name) == 0)
            return &nn_prefixed[i];
    return NULL;
}

const SlBuiltin *sl_nn_global_lookup(const char *name)
{
    for (size_t i = 0; i < COUNT(nn_globals); i++)
        if (strcmp(nn_globals[i].name, name) == 0)
            return &nn_globals[i];
    return NULL;
}

const SlBuiltin *sl_nn_global_at(size_t i) { return i < COUNT(nn_globals) ? &nn_globals[i] : NULL; }
