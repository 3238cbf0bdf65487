/* tensor.c -- storage, views, kernels, promotion and the generator.
 *
 * float32 kernels compute in float and mirror PyTorch 1.13's CPU kernels
 * where the order of operations shows in the last bit (see tensor.h).
 * This file is compiled as ISO C17, so GCC does not contract a*b + c into
 * a fused multiply-add behind our back; where PyTorch fuses (add with
 * alpha), we call fmaf/fma explicitly.
 */
#include "tensor.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "num.h"
#include "pool.h"
#include "vecmath.h"

/* ---------------------------------------------------------------------------
 * Allocation and reference counting
 * ------------------------------------------------------------------------- */

static long live_tensors, live_storages;

long sl_tensor_live(void) { return live_tensors; }
long sl_storage_live(void) { return live_storages; }

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("slope: out of memory\n", stderr);
        abort();
    }
    return p;
}

static size_t dtype_size(SlDType dt)
{
    switch (dt) {
    case SL_DT_F32: return sizeof(float);
    case SL_DT_F64: return sizeof(double);
    case SL_DT_I64: return sizeof(int64_t);
    case SL_DT_BOOL: return sizeof(bool);
    case SL_DT_MPFR: return sizeof(__mpfr_struct);
    }
    return 1;
}

/* Pools: tensor headers, storages, version counters, and the data of
 * small storages by size class (powers of two from 64 bytes to 16 KiB,
 * each class keeping at most about 1 MiB).  An mpfr storage is one block:
 * the __mpfr_struct array, then every element's limbs (mpfr's custom
 * interface), so making one costs no allocation per element; its elements
 * must never be cleared, swapped or given another precision (nothing
 * outside this file touches them but through mpfr_set and friends). */
#define DATA_CLASSES 9
static SlPool header_pool = {.max = 4096}, storage_pool = {.max = 4096}, version_pool = {.max = 4096};
static SlPool data_pool[DATA_CLASSES] = {
    {.max = 1024}, {.max = 1024}, {.max = 1024}, {.max = 1024}, {.max = 1024},
    {.max = 512},  {.max = 256},  {.max = 128},  {.max = 64},
};

/* bytes of the data block of n elements */
static size_t data_bytes(SlDType dt, size_t n, mpfr_prec_t prec)
{
    if (dt == SL_DT_MPFR)
        return n * (sizeof(__mpfr_struct) + mpfr_custom_get_size(prec));
    return n * dtype_size(dt);
}

/* size class of a block (-1: too big, straight from malloc) */
static int data_class(size_t bytes)
{
    int c = 0;
    for (size_t sz = 64; sz < bytes; sz <<= 1)
        if (++c == DATA_CLASSES)
            return -1;
    return c;
}

/* A fresh small tensor is one block: its header, storage, version counter
 * and data together (one pool get, one memset).  Views and .data keep
 * using the parts independently; the block goes back to its pool when the
 * last of the three is released. */
typedef struct TBlock {
    SlTensor t;
    SlStorage s;
    SlVersion v;
    int live;      /* parts still in use */
    int cls;       /* size class: 512 << cls bytes */
    /* the data follows, aligned to 16 */
} TBlock;

#define TBLOCK_HEAD ((sizeof(TBlock) + 15) & ~(size_t)15)
#define TBLOCK_CLASSES 5
static SlPool tblock_pool[TBLOCK_CLASSES] = {{.max = 1024}, {.max = 1024}, {.max = 512}, {.max = 256}, {.max = 128}};

static void tblock_release(TBlock *b)
{
    if (--b->live == 0)
        sl_pool_put(&tblock_pool[b->cls], b);
}

static void mpfr_elems_init(__mpfr_struct *m, size_t n, mpfr_prec_t prec)
{
    size_t limb = mpfr_custom_get_size(prec);
    char *lp = (char *)(m + n);
    for (size_t i = 0; i < n; i++, lp += limb)
        mpfr_custom_init_set(&m[i], MPFR_ZERO_KIND, 0, prec, lp);
}

static SlStorage *storage_new(SlDType dt, size_t n, mpfr_prec_t prec)
{
    SlStorage *s = sl_pool_get(&storage_pool, sizeof *s);
    s->refs = 1;
    s->dtype = dt;
    s->n = n;
    s->prec = dt == SL_DT_MPFR ? prec : 0;
    size_t bytes = data_bytes(dt, n, prec);
    int c = data_class(bytes);
    if (dt == SL_DT_MPFR) {
        char *blk = c >= 0 ? sl_pool_get_raw(&data_pool[c], (size_t)64 << c) : xcalloc(1, bytes);
        mpfr_elems_init((__mpfr_struct *)(void *)blk, n, prec);
        s->data = blk;
    } else {
        s->data = c >= 0 ? sl_pool_get(&data_pool[c], (size_t)64 << c) : xcalloc(n, dtype_size(dt));
    }
    live_storages++;
    s->cap_id = 0;
    s->cap_claimed = false;
    if (sl_cap_on)
        sl_capture_alloc(s);
    return s;
}

static void storage_unref(SlStorage *s);
void sl_storage_ref(SlStorage *s) { s->refs++; }
void sl_storage_unref(SlStorage *s) { storage_unref(s); }

static void storage_unref(SlStorage *s)
{
    if (!s || --s->refs > 0)
        return;
    live_storages--;
    if (s->in_block) {
        tblock_release((TBlock *)(void *)((char *)s - offsetof(TBlock, s)));
        return;
    }
    int c = data_class(data_bytes(s->dtype, s->n, s->prec));
    if (c >= 0)
        sl_pool_put(&data_pool[c], s->data);
    else
        free(s->data);
    sl_pool_put(&storage_pool, s);
}

static SlVersion *version_new(void)
{
    SlVersion *v = sl_pool_get(&version_pool, sizeof *v);
    v->refs = 1;
    return v;
}

static void version_unref(SlVersion *v)
{
    if (!v || --v->refs > 0)
        return;
    if (v->in_block)
        tblock_release((TBlock *)(void *)((char *)v - offsetof(TBlock, v)));
    else
        sl_pool_put(&version_pool, v);
}

void sl_tensor_free_(SlTensor *t)
{
    sl_tensor_unref(t->grad);
    if (t->grad_fn && t->grad_fn->retain == t)
        t->grad_fn->retain = NULL;
    sl_node_unref(t->grad_fn);
    storage_unref(t->storage);
    version_unref(t->version);
    live_tensors--;
    if (t->in_block)
        tblock_release((TBlock *)(void *)t);
    else
        sl_pool_put(&header_pool, t);
}

void sl_tensor_assign(SlTensor **slot, SlTensor *t)
{
    sl_tensor_ref(t);
    sl_tensor_unref(*slot);
    *slot = t;
}

static SlTensor *header_new(void)
{
    SlTensor *t = sl_pool_get(&header_pool, sizeof *t);
    t->refs = 1;
    live_tensors++;
    return t;
}

static void contiguous_strides(SlTensor *t)
{
    int64_t s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        t->strides[d] = s;
        s *= t->shape[d] > 0 ? t->shape[d] : 1;
    }
}

static bool check_shape(int ndim, const int64_t *shape, int64_t *numel, SlError *err)
{
    if (ndim < 0 || ndim > SL_TENSOR_MAXDIM)
        return sl_err(err, SL_E_LIMIT, "tensors have at most 16 dimensions");
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0)
            return sl_err(err, SL_E_VALUE, "Trying to create tensor with negative dimension %lld: [%lld]",
                          (long long)shape[d], (long long)shape[d]);
        if (shape[d] && n > SL_TENSOR_MAX_NUMEL / shape[d])
            return sl_err(err, SL_E_LIMIT, "tensor too large: at most 268435456 elements");
        n *= shape[d];
    }
    if (n > SL_TENSOR_MAX_NUMEL)
        return sl_err(err, SL_E_LIMIT, "tensor too large: at most 268435456 elements");
    *numel = n;
    return true;
}

/* A contiguous tensor with fresh (zeroed) storage; shape already checked. */
static SlTensor *tensor_new(SlDType dt, int ndim, const int64_t *shape, mpfr_prec_t prec)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    size_t bytes = data_bytes(dt, (size_t)n, prec), need = TBLOCK_HEAD + bytes;
    int c = 0;
    while (c < TBLOCK_CLASSES && ((size_t)512 << c) < need)
        c++;
    SlTensor *t;
    if (c < TBLOCK_CLASSES) {
        TBlock *b = sl_pool_get_raw(&tblock_pool[c], (size_t)512 << c);
        sl_pool_memset(b, 0, dt == SL_DT_MPFR ? TBLOCK_HEAD : need); /* mpfr elements are set below */
        b->live = 3;
        b->cls = c;
        t = &b->t;
        t->refs = 1;
        t->in_block = true;
        live_tensors++;
        SlStorage *s = &b->s;
        s->refs = 1;
        s->dtype = dt;
        s->n = (size_t)n;
        s->prec = dt == SL_DT_MPFR ? prec : 0;
        s->data = (char *)b + TBLOCK_HEAD;
        s->in_block = true;
        if (dt == SL_DT_MPFR)
            mpfr_elems_init(s->data, (size_t)n, prec);
        live_storages++;
        b->v.refs = 1;
        b->v.in_block = true;
        if (sl_cap_on)
            sl_capture_alloc(s);
        t->storage = s;
        t->version = &b->v;
    } else {
        t = header_new();
        t->storage = storage_new(dt, (size_t)n, prec);
        t->version = version_new();
    }
    t->dtype = dt;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        t->shape[d] = shape[d];
    contiguous_strides(t);
    return t;
}

SlTensor *sl_tensor_zeros(SlDType dt, int ndim, const int64_t *shape, mpfr_prec_t prec, SlError *err)
{
    int64_t n;
    if (!check_shape(ndim, shape, &n, err))
        return NULL;
    return tensor_new(dt, ndim, shape, prec);
}

/* ---------------------------------------------------------------------------
 * Metadata
 * ------------------------------------------------------------------------- */

const char *sl_dtype_name(SlDType dt)
{
    switch (dt) {
    case SL_DT_F32: return "torch.float32";
    case SL_DT_F64: return "torch.float64";
    case SL_DT_I64: return "torch.int64";
    case SL_DT_BOOL: return "torch.bool";
    case SL_DT_MPFR: return "slope.mpfr";
    }
    return "?";
}

const char *sl_dtype_word(SlDType dt)
{
    switch (dt) {
    case SL_DT_F32: return "Float";
    case SL_DT_F64: return "Double";
    case SL_DT_I64: return "Long";
    case SL_DT_BOOL: return "Bool";
    default: return "MPFR";
    }
}

void sl_sizes_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

mpfr_prec_t sl_tensor_prec(const SlTensor *t)
{
    switch (t->dtype) {
    case SL_DT_F32: return 24;
    case SL_DT_MPFR: return t->storage->prec;
    default: return 53;
    }
}

void sl_shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int d = 0; d < ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (ndim == 1 && k < n)
        k += (size_t)snprintf(buf + k, n - k, ",");
    if (k < n)
        snprintf(buf + k, n - k, ")");
}

/* ---------------------------------------------------------------------------
 * Elements
 * ------------------------------------------------------------------------- */

int64_t sl_tensor_elem_offset(const SlTensor *t, int64_t i)
{
    int64_t off = t->offset;
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t sz = t->shape[d];
        if (sz <= 0)
            break;
        off += (i % sz) * t->strides[d];
        i /= sz;
    }
    return off;
}

#define F32P(t) ((float *)(t)->storage->data)
#define F64P(t) ((double *)(t)->storage->data)
#define I64P(t) ((int64_t *)(t)->storage->data)
#define BOOLP(t) ((bool *)(t)->storage->data)
#define MPP(t) ((__mpfr_struct *)(t)->storage->data)

static double raw_get_d(const SlTensor *t, int64_t o)
{
    switch (t->dtype) {
    case SL_DT_F32: return F32P(t)[o];
    case SL_DT_F64: return F64P(t)[o];
    case SL_DT_I64: return (double)I64P(t)[o];
    case SL_DT_BOOL: return BOOLP(t)[o];
    case SL_DT_MPFR: return mpfr_get_d(&MPP(t)[o], MPFR_RNDN);
    }
    return 0;
}

/* Element reads to the host: what is done with the number is not a kernel,
 * so a capture running now cannot be replayed (capture.h) */
static void host_read(void)
{
    if (sl_cap_on)
        sl_capture_fail("it reads a tensor's numbers");
}

double sl_tensor_get_d(const SlTensor *t, int64_t i)
{
    host_read();
    return raw_get_d(t, sl_tensor_elem_offset(t, i));
}

float sl_tensor_get_f(const SlTensor *t, int64_t i)
{
    host_read();
    return F32P(t)[sl_tensor_elem_offset(t, i)];
}

int64_t sl_tensor_get_i(const SlTensor *t, int64_t i)
{
    host_read();
    int64_t o = sl_tensor_elem_offset(t, i);
    switch (t->dtype) {
    case SL_DT_I64: return I64P(t)[o];
    case SL_DT_BOOL: return BOOLP(t)[o];
    case SL_DT_MPFR: return mpfr_get_si(&MPP(t)[o], MPFR_RNDZ);
    default: {
        double d = raw_get_d(t, o);
        return d != d ? 0 : d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : (int64_t)d;
    }
    }
}

bool sl_tensor_get_b(const SlTensor *t, int64_t i)
{
    host_read();
    int64_t o = sl_tensor_elem_offset(t, i);
    switch (t->dtype) {
    case SL_DT_BOOL: return BOOLP(t)[o];
    case SL_DT_I64: return I64P(t)[o] != 0;
    case SL_DT_MPFR: return !mpfr_zero_p(&MPP(t)[o]);
    default: return raw_get_d(t, o) != 0;
    }
}

mpfr_srcptr sl_tensor_get_m(const SlTensor *t, int64_t i)
{
    host_read();
    return &MPP(t)[sl_tensor_elem_offset(t, i)];
}

static void raw_set_d(SlTensor *t, int64_t o, double v)
{
    switch (t->dtype) {
    case SL_DT_F32: F32P(t)[o] = (float)v; break;
    case SL_DT_F64: F64P(t)[o] = v; break;
    case SL_DT_I64: I64P(t)[o] = v != v ? 0 : (int64_t)v; break;
    case SL_DT_BOOL: BOOLP(t)[o] = v != 0; break;
    case SL_DT_MPFR: mpfr_set_d(&MPP(t)[o], v, MPFR_RNDN); break;
    }
}

void sl_tensor_set_d(SlTensor *t, int64_t i, double v) { raw_set_d(t, sl_tensor_elem_offset(t, i), v); }

void sl_tensor_set_i(SlTensor *t, int64_t i, int64_t v)
{
    int64_t o = sl_tensor_elem_offset(t, i);
    switch (t->dtype) {
    case SL_DT_I64: I64P(t)[o] = v; break;
    case SL_DT_BOOL: BOOLP(t)[o] = v != 0; break;
    case SL_DT_MPFR: mpfr_set_si(&MPP(t)[o], (long)v, MPFR_RNDN); break;
    case SL_DT_F32: F32P(t)[o] = (float)v; break;
    case SL_DT_F64: F64P(t)[o] = (double)v; break;
    }
}

void sl_tensor_set_m(SlTensor *t, int64_t i, mpfr_srcptr v)
{
    int64_t o = sl_tensor_elem_offset(t, i);
    switch (t->dtype) {
    case SL_DT_MPFR: mpfr_set(&MPP(t)[o], v, MPFR_RNDN); break;
    case SL_DT_F32: F32P(t)[o] = mpfr_get_flt(v, MPFR_RNDN); break;
    case SL_DT_F64: F64P(t)[o] = mpfr_get_d(v, MPFR_RNDN); break;
    case SL_DT_I64: I64P(t)[o] = mpfr_nan_p(v) ? 0 : (int64_t)mpfr_get_sj(v, MPFR_RNDZ); break;
    case SL_DT_BOOL: BOOLP(t)[o] = !mpfr_zero_p(v); break;
    }
}

/* Copy element so of s into element do of d, converting. */
static void elem_copy(SlTensor *d, int64_t dof, const SlTensor *s, int64_t sof)
{
    if (d->dtype == s->dtype) {
        switch (d->dtype) {
        case SL_DT_F32: F32P(d)[dof] = F32P(s)[sof]; return;
        case SL_DT_F64: F64P(d)[dof] = F64P(s)[sof]; return;
        case SL_DT_I64: I64P(d)[dof] = I64P(s)[sof]; return;
        case SL_DT_BOOL: BOOLP(d)[dof] = BOOLP(s)[sof]; return;
        case SL_DT_MPFR: mpfr_set(&MPP(d)[dof], &MPP(s)[sof], MPFR_RNDN); return;
        }
    }
    switch (s->dtype) {
    case SL_DT_MPFR: {
        mpfr_srcptr v = &MPP(s)[sof];
        switch (d->dtype) {
        case SL_DT_F32: F32P(d)[dof] = mpfr_get_flt(v, MPFR_RNDN); break;
        case SL_DT_F64: F64P(d)[dof] = mpfr_get_d(v, MPFR_RNDN); break;
        case SL_DT_I64: I64P(d)[dof] = mpfr_nan_p(v) ? 0 : (int64_t)mpfr_get_sj(v, MPFR_RNDZ); break;
        case SL_DT_BOOL: BOOLP(d)[dof] = !mpfr_zero_p(v); break;
        default: break;
        }
        return;
    }
    case SL_DT_I64: {
        int64_t v = I64P(s)[sof];
        switch (d->dtype) {
        case SL_DT_F32: F32P(d)[dof] = (float)v; break;
        case SL_DT_F64: F64P(d)[dof] = (double)v; break;
        case SL_DT_BOOL: BOOLP(d)[dof] = v != 0; break;
        case SL_DT_MPFR: mpfr_set_sj(&MPP(d)[dof], v, MPFR_RNDN); break;
        default: break;
        }
        return;
    }
    case SL_DT_BOOL: {
        bool v = BOOLP(s)[sof];
        switch (d->dtype) {
        case SL_DT_F32: F32P(d)[dof] = v; break;
        case SL_DT_F64: F64P(d)[dof] = v; break;
        case SL_DT_I64: I64P(d)[dof] = v; break;
        case SL_DT_MPFR: mpfr_set_si(&MPP(d)[dof], v, MPFR_RNDN); break;
        default: break;
        }
        return;
    }
    case SL_DT_F32:
        if (d->dtype == SL_DT_MPFR) {
            mpfr_set_flt(&MPP(d)[dof], F32P(s)[sof], MPFR_RNDN);
            return;
        }
        raw_set_d(d, dof, F32P(s)[sof]);
        return;
    case SL_DT_F64:
        if (d->dtype == SL_DT_MPFR) {
            mpfr_set_d(&MPP(d)[dof], F64P(s)[sof], MPFR_RNDN);
            return;
        }
        if (d->dtype == SL_DT_I64) {
            double v = F64P(s)[sof];
            I64P(d)[dof] = v != v ? 0 : v >= 9.2e18 ? INT64_MIN : v <= -9.3e18 ? INT64_MIN : (int64_t)v;
            return;
        }
        raw_set_d(d, dof, F64P(s)[sof]);
        return;
    }
}

/* ---------------------------------------------------------------------------
 * Strided iteration over up to three operands of one shape
 * ------------------------------------------------------------------------- */

typedef struct Iter {
    int nd;                               /* dimensions */
    int64_t shape[SL_TENSOR_MAXDIM];      /* iteration shape */
    int64_t st[3][SL_TENSOR_MAXDIM];      /* strides of each operand (0: broadcast) */
    int64_t base[3];                      /* storage offsets */
    int64_t n;                            /* elements */
} Iter;

/* Strides of t broadcast to (nd, shape): 0 along broadcast dimensions. */
static void iter_operand(Iter *it, int k, const SlTensor *t)
{
    int lead = it->nd - (t ? t->ndim : 0);
    for (int d = 0; d < it->nd; d++) {
        if (!t || d < lead || t->shape[d - lead] == 1)
            it->st[k][d] = 0;
        else
            it->st[k][d] = t->strides[d - lead];
    }
    it->base[k] = t ? t->offset : 0;
}

static void iter_init(Iter *it, int nd, const int64_t *shape, const SlTensor *t0, const SlTensor *t1,
                      const SlTensor *t2)
{
    it->nd = nd;
    it->n = 1;
    for (int d = 0; d < nd; d++) {
        it->shape[d] = shape[d];
        it->n *= shape[d];
    }
    iter_operand(it, 0, t0);
    iter_operand(it, 1, t1);
    iter_operand(it, 2, t2);
    /* Coalesce: drop size-1 dims and merge a dim into the next outer one
     * when every operand steps through both as one (same element order,
     * fewer odometer carries; a contiguous tensor becomes one dim). */
    int m = 0;
    for (int d = 0; d < it->nd; d++) {
        if (it->shape[d] == 1)
            continue;
        if (m > 0) {
            bool merge = true;
            for (int k = 0; k < 3; k++)
                if (it->st[k][m - 1] != it->st[k][d] * it->shape[d])
                    merge = false;
            if (merge) {
                it->shape[m - 1] *= it->shape[d];
                for (int k = 0; k < 3; k++)
                    it->st[k][m - 1] = it->st[k][d];
                continue;
            }
        }
        it->shape[m] = it->shape[d];
        for (int k = 0; k < 3; k++)
            it->st[k][m] = it->st[k][d];
        m++;
    }
    if (it->n > 0)
        it->nd = m;
}

#define ITER(it, o0, o1, o2, BODY)                                                                             \
    do {                                                                                                       \
        int64_t ix_[SL_TENSOR_MAXDIM] = {0};                                                                   \
        int64_t o0 = (it)->base[0], o1 = (it)->base[1], o2 = (it)->base[2];                                    \
        (void)o1, (void)o2;                                                                                    \
        for (int64_t k_ = 0; k_ < (it)->n; k_++) {                                                             \
            BODY;                                                                                              \
            for (int d_ = (it)->nd - 1; d_ >= 0; d_--) {                                                       \
                o0 += (it)->st[0][d_];                                                                         \
                o1 += (it)->st[1][d_];                                                                         \
                o2 += (it)->st[2][d_];                                                                         \
                if (++ix_[d_] < (it)->shape[d_])                                                               \
                    break;                                                                                     \
                o0 -= (it)->st[0][d_] * (it)->shape[d_];                                                       \
                o1 -= (it)->st[1][d_] * (it)->shape[d_];                                                       \
                o2 -= (it)->st[2][d_] * (it)->shape[d_];                                                       \
                ix_[d_] = 0;                                                                                   \
            }                                                                                                  \
        }                                                                                                      \
    } while (0)

/* ---------------------------------------------------------------------------
 * Creation
 * ------------------------------------------------------------------------- */

void sl_tensor_fill_d(SlTensor *t, double v)
{
    if (sl_tensor_is_contiguous(t)) {
        int64_t n = sl_tensor_numel(t);
        switch (t->dtype) {
        case SL_DT_F32: {
            float *d = F32P(t) + t->offset, f = (float)v;
            for (int64_t i = 0; i < n; i++)
                d[i] = f;
            return;
        }
        case SL_DT_F64: {
            double *d = F64P(t) + t->offset;
            for (int64_t i = 0; i < n; i++)
                d[i] = v;
            return;
        }
        case SL_DT_MPFR: {
            __mpfr_struct *d = MPP(t) + t->offset;
            if (v == 0 && !signbit(v))
                for (int64_t i = 0; i < n; i++)
                    mpfr_set_zero(&d[i], 1); /* what mpfr_set_d gives for +0 */
            else
                for (int64_t i = 0; i < n; i++)
                    mpfr_set_d(&d[i], v, MPFR_RNDN);
            return;
        }
        default: break;
        }
    }
    Iter it;
    iter_init(&it, t->ndim, t->shape, t, NULL, NULL);
    ITER(&it, o, p, q, raw_set_d(t, o, v));
}

SlTensor *sl_tensor_full_d(SlDType dt, int ndim, const int64_t *shape, mpfr_prec_t prec, double v, SlError *err)
{
    SlTensor *t = sl_tensor_zeros(dt, ndim, shape, prec, err);
    if (t && v != 0)
        sl_tensor_fill_d(t, v);
    return t;
}

SlTensor *sl_tensor_full_m(SlDType dt, int ndim, const int64_t *shape, mpfr_prec_t prec, mpfr_srcptr v,
                           SlError *err)
{
    SlTensor *t = sl_tensor_zeros(dt, ndim, shape, prec, err);
    if (!t)
        return NULL;
    int64_t n = sl_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        sl_tensor_set_m(t, i, v);
    return t;
}

SlTensor *sl_tensor_scalar_d(SlDType dt, double v, mpfr_prec_t prec)
{
    SlTensor *t = tensor_new(dt, 0, NULL, prec);
    raw_set_d(t, 0, v);
    return t;
}

SlTensor *sl_tensor_scalar_i(SlDType dt, int64_t v, mpfr_prec_t prec)
{
    SlTensor *t = tensor_new(dt, 0, NULL, prec);
    sl_tensor_set_i(t, 0, v);
    return t;
}

SlTensor *sl_tensor_zeros_like(const SlTensor *t, SlError *err)
{
    return sl_tensor_zeros(t->dtype, t->ndim, t->shape, sl_tensor_prec(t), err);
}

SlTensor *sl_tensor_ones_like(const SlTensor *t, SlError *err)
{
    return sl_tensor_full_d(t->dtype, t->ndim, t->shape, sl_tensor_prec(t), 1.0, err);
}

SlTensor *sl_tensor_arange(SlDType dt, double start, double end, double step, mpfr_prec_t prec, SlError *err)
{
    if (step == 0)
        return sl_err(err, SL_E_VALUE, "step must be nonzero"), NULL;
    if (!isfinite(start) || !isfinite(end))
        return sl_err(err, SL_E_VALUE, "unsupported range: %g -> %g", start, end), NULL;
    if ((step > 0 && end < start) || (step < 0 && end > start))
        return sl_err(err, SL_E_VALUE, "upper bound and larger bound inconsistent with step sign"), NULL;
    double nd = ceil((end - start) / step);
    if (nd > (double)SL_TENSOR_MAX_NUMEL)
        return sl_err(err, SL_E_LIMIT, "tensor too large: at most 268435456 elements"), NULL;
    int64_t n = (int64_t)nd;
    SlTensor *t = tensor_new(dt, 1, &n, prec);
    /* torch's arange kernel computes in double (the accumulate type): in
     * whole blocks of two vectors (16 floats, 8 doubles) a vector's first
     * element is start + step*i and the others first + k*step from that
     * first element as stored; the rest start + step*i; every one a fused
     * multiply-add (contracted in torch's AVX2 build). */
    int64_t lanes = dt == SL_DT_F32 ? 8 : 4, vec = n - n % (2 * lanes);
    double first = 0;
    for (int64_t i = 0; i < n; i++) {
        if (dt == SL_DT_I64)
            I64P(t)[i] = (int64_t)start + i * (int64_t)step;
        else if (dt == SL_DT_F32 || dt == SL_DT_F64) {
            double v;
            if (i < vec && i % lanes != 0) {
                v = fma((double)(i % lanes), step, first);
            } else {
                v = fma(step, (double)i, start);
                if (dt == SL_DT_F32)
                    v = (float)v;
                first = v;
            }
            if (dt == SL_DT_F32)
                F32P(t)[i] = (float)v;
            else
                F64P(t)[i] = v;
        } else if (dt == SL_DT_MPFR) {
            mpfr_t a;
            mpfr_init2(a, prec);
            mpfr_set_d(a, step, MPFR_RNDN);
            mpfr_mul_si(a, a, (long)i, MPFR_RNDN);
            mpfr_add_d(&MPP(t)[i], a, start, MPFR_RNDN);
            mpfr_clear(a);
        } else
            raw_set_d(t, i, start + (double)i * step);
    }
    return t;
}

static float lin_f(float s, float e, float st, int64_t i, int64_t steps, int64_t half)
{
    return i < half ? fmaf(st, (float)i, s) : fmaf(-st, (float)(steps - i - 1), e);
}

static double lin_d(double s, double e, double st, int64_t i, int64_t steps, int64_t half)
{
    return i < half ? fma(st, (double)i, s) : fma(-st, (double)(steps - i - 1), e);
}

SlTensor *sl_tensor_linspace(SlDType dt, double start, double end, int64_t steps, mpfr_prec_t prec, SlError *err)
{
    if (steps < 0)
        return sl_err(err, SL_E_VALUE, "number of steps must be non-negative"), NULL;
    if (steps > SL_TENSOR_MAX_NUMEL)
        return sl_err(err, SL_E_LIMIT, "tensor too large: at most 268435456 elements"), NULL;
    SlTensor *t = tensor_new(dt, 1, &steps, prec);
    if (steps == 1) {
        raw_set_d(t, 0, start);
        return t;
    }
    /* torch's linspace kernel: element i is start + step*i in the first
     * half and end - step*(steps-i-1) in the second, each one fused
     * multiply-add (the compiler contracts them in torch's AVX2 build);
     * in whole blocks of two vectors (16 floats, 8 doubles) only a
     * vector's first element is computed so, the others are first + k*step
     * (Vectorized::arange), so a vector that starts before the halfway
     * point keeps counting up from start. */
    int64_t half = steps / 2;
    if (dt == SL_DT_F32) {
        float s = (float)start, e = (float)end, st = (e - s) / (float)(steps - 1);
        float *p = F32P(t);
        int64_t vec = steps - steps % 16;
        for (int64_t i = 0; i < steps; i++)
            p[i] = i >= vec || i % 8 == 0 ? lin_f(s, e, st, i, steps, half) : p[i - i % 8] + (float)(i % 8) * st;
    } else {
        double st = (end - start) / (double)(steps - 1);
        int64_t vec = steps - steps % 8;
        double prev = 0;
        for (int64_t i = 0; i < steps; i++) {
            double v = i >= vec || i % 4 == 0 ? lin_d(start, end, st, i, steps, half) : prev + (double)(i % 4) * st;
            if (i < vec && i % 4 == 0)
                prev = v;
            raw_set_d(t, i, v);
        }
    }
    return t;
}

SlTensor *sl_tensor_eye(SlDType dt, int64_t n, int64_t m, mpfr_prec_t prec, SlError *err)
{
    int64_t shape[2] = {n, m < 0 ? n : m};
    SlTensor *t = sl_tensor_zeros(dt, 2, shape, prec, err);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < shape[0] && i < shape[1]; i++)
        raw_set_d(t, i * shape[1] + i, 1.0);
    return t;
}

/* ---------------------------------------------------------------------------
 * The generator: mt19937 as PyTorch's CPUGeneratorImpl uses it
 * ------------------------------------------------------------------------- */

static struct {
    uint32_t mt[624];
    int idx;
    uint64_t seed;
    bool have_next_double;  /* cached second Box-Muller value */
    double next_double;
} gen = {.idx = -1};

void sl_tensor_manual_seed(uint64_t seed)
{
    gen.seed = seed;
    gen.mt[0] = (uint32_t)(seed & 0xffffffffu);
    for (int i = 1; i < 624; i++)
        gen.mt[i] = 1812433253u * (gen.mt[i - 1] ^ (gen.mt[i - 1] >> 30)) + (uint32_t)i;
    gen.idx = 624;
    gen.have_next_double = false;
}

uint64_t sl_tensor_initial_seed(void) { return gen.seed; }

static uint32_t gen_u32(void)
{
    if (gen.idx < 0)
        sl_tensor_manual_seed(0);
    if (gen.idx >= 624) {
        for (int k = 0; k < 624; k++) {
            uint32_t y = (gen.mt[k] & 0x80000000u) | (gen.mt[(k + 1) % 624] & 0x7fffffffu);
            gen.mt[k] = gen.mt[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        gen.idx = 0;
    }
    uint32_t y = gen.mt[gen.idx++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

static uint64_t gen_u64(void)
{
    uint64_t hi = gen_u32();
    uint64_t lo = gen_u32();
    return (hi << 32) | lo;
}

/* uniform_real_distribution<float>/<double>(0, 1) */
static float uniform_f(void) { return (float)(gen_u32() & ((1u << 24) - 1)) * (1.0f / 16777216.0f); }
static double uniform_d(void)
{
    return (double)(gen_u64() & ((UINT64_C(1) << 53) - 1)) * (1.0 / 9007199254740992.0);
}

/* normal_distribution<double>: Box-Muller with the second value cached. */
static double normal_d(double mean, double std)
{
    if (gen.have_next_double) {
        gen.have_next_double = false;
        return fma(gen.next_double, std, mean); /* x * std + mean, contracted in torch's AVX2 build */
    }
    double u1 = uniform_d(), u2 = uniform_d();
    double r = sqrt(-2.0 * log(1.0 - u2));
    double theta = 2.0 * M_PI * u1;
    gen.next_double = r * sin(theta);
    gen.have_next_double = true;
    return fma(r * cos(theta), std, mean);
}

/* torch's uniform_ kernel computes x * (to - from) + from; its AVX2
 * build (the one torch dispatches to on a CPU with AVX2 and FMA) is
 * compiled with -mfma, which fuses it into one multiply-add. */
void sl_tensor_uniform_(SlTensor *t, double from, double to)
{
    int64_t n = sl_tensor_numel(t);
    bool fused = sl_vm_sleef();
    for (int64_t i = 0; i < n; i++) {
        int64_t o = sl_tensor_elem_offset(t, i);
        if (t->dtype == SL_DT_F32) {
            float f = (float)from, tt = (float)to, x = uniform_f();
            F32P(t)[o] = fused ? fmaf(x, tt - f, f) : x * (tt - f) + f;
        } else {
            double x = uniform_d();
            raw_set_d(t, o, fused ? fma(x, to - from, from) : x * (to - from) + from);
        }
    }
    sl_tensor_bump_version(t);
}

/* ---- avx_mathfun's log256_ps and sincos256_ps, one lane at a time, as
 * torch's normal_fill_16_AVX2 uses them for float tensors of 16 or more
 * elements.  Cephes polynomials in float arithmetic. */

static float mf_log(float x)
{
    if (x <= 0)
        return x == 0 ? -INFINITY : NAN;
    int e;
    /* frexp gives x = m * 2^e with m in [0.5, 1) as the SSE code's bit trick */
    float m = frexpf(x, &e);
    float fe = (float)e;
    if (m < 0.707106781186547524f) {
        fe = fe - 1.0f;
        m = m + m - 1.0f;
    } else {
        m = m - 1.0f;
    }
    /* GCC contracts each mul feeding an add into an FMA in torch's build */
    float z = m * m;
    float y = 7.0376836292E-2f;
    y = fmaf(y, m, -1.1514610310E-1f);
    y = fmaf(y, m, 1.1676998740E-1f);
    y = fmaf(y, m, -1.2420140846E-1f);
    y = fmaf(y, m, 1.4249322787E-1f);
    y = fmaf(y, m, -1.6668057665E-1f);
    y = fmaf(y, m, 2.0000714765E-1f);
    y = fmaf(y, m, -2.4999993993E-1f);
    y = fmaf(y, m, 3.3333331174E-1f);
    y = y * m;
    y = fmaf(y, z, fe * -2.12194440e-4f);
    y = fmaf(-z, 0.5f, y);
    float r = m + y;
    r = fmaf(fe, 0.693359375f, r);
    return r;
}

static void mf_sincos(float x, float *s, float *c)
{
    float sign_sin = signbit(x) ? -1.0f : 1.0f;
    x = fabsf(x);
    float y = x * 1.27323954473516f; /* 4/pi */
    int j = (int)y;
    j = (j + 1) & ~1;
    y = (float)j;
    int poly = (j & 2) != 0;
    if (j & 4)
        sign_sin = -sign_sin;
    float sign_cos = ((j - 2) & 4) ? 1.0f : -1.0f; /* andnot(j - 2, 4): negative when bit 2 is clear */
    x = fmaf(y, -0.78515625f, x);
    x = fmaf(y, -2.4187564849853515625e-4f, x);
    x = fmaf(y, -3.77489497744594108e-8f, x);
    float z = x * x;
    float yc = 2.443315711809948E-005f;
    yc = fmaf(yc, z, -1.388731625493765E-003f);
    yc = fmaf(yc, z, 4.166664568298827E-002f);
    yc = yc * z;
    yc = fmaf(yc, z, -(z * 0.5f));
    yc = yc + 1.0f;
    float ys = -1.9515295891E-4f;
    ys = fmaf(ys, z, 8.3321608736E-3f);
    ys = fmaf(ys, z, -1.6666654611E-1f);
    ys = ys * z;
    ys = fmaf(ys, x, x);
    float sv = poly ? yc : ys, cv = poly ? ys : yc;
    *s = sv * sign_sin;
    *c = cv * sign_cos;
}

static void normal_fill_16_f(float *d, float mean, float std)
{
    for (int j = 0; j < 8; j++) {
        float u1 = 1.0f - d[j];
        float u2 = d[j + 8];
        float radius = sqrtf(-2.0f * mf_log(u1));
        float theta = 2.0f * (float)M_PI * u2;
        float st, ct;
        mf_sincos(theta, &st, &ct);
        d[j] = fmaf(radius * ct, std, mean);
        d[j + 8] = fmaf(radius * st, std, mean);
    }
}

static void normal_fill_16_d(double *d, double mean, double std)
{
    for (int j = 0; j < 8; j++) {
        double u1 = 1 - d[j];
        double u2 = d[j + 8];
        double radius = sqrt(-2 * log(u1));
        double theta = 2.0 * M_PI * u2;
        d[j] = fma(radius * cos(theta), std, mean);     /* contracted in torch's AVX2 build */
        d[j + 8] = fma(radius * sin(theta), std, mean);
    }
}

void sl_tensor_normal_(SlTensor *t, double mean, double std)
{
    int64_t n = sl_tensor_numel(t);
    bool contig = sl_tensor_is_contiguous(t);
    if (n >= 16 && contig && t->dtype == SL_DT_F32) {
        float *d = F32P(t) + t->offset;
        for (int64_t i = 0; i < n; i++)
            d[i] = uniform_f();
        for (int64_t i = 0; i + 16 <= n; i += 16)
            normal_fill_16_f(d + i, (float)mean, (float)std);
        if (n % 16) {
            float *e = d + n - 16;
            for (int i = 0; i < 16; i++)
                e[i] = uniform_f();
            normal_fill_16_f(e, (float)mean, (float)std);
        }
    } else if (n >= 16 && contig && t->dtype == SL_DT_F64) {
        double *d = F64P(t) + t->offset;
        for (int64_t i = 0; i < n; i++)
            d[i] = uniform_d();
        for (int64_t i = 0; i + 16 <= n; i += 16)
            normal_fill_16_d(d + i, mean, std);
        if (n % 16) {
            double *e = d + n - 16;
            for (int i = 0; i < 16; i++)
                e[i] = uniform_d();
            normal_fill_16_d(e, mean, std);
        }
    } else {
        for (int64_t i = 0; i < n; i++)
            raw_set_d(t, sl_tensor_elem_offset(t, i), normal_d(mean, std));
    }
    sl_tensor_bump_version(t);
}

SlTensor *sl_tensor_rand(SlDType dt, int ndim, const int64_t *shape, mpfr_prec_t prec, SlError *err)
{
    SlTensor *t = sl_tensor_zeros(dt, ndim, shape, prec, err);
    if (t)
        sl_tensor_uniform_(t, 0.0, 1.0);
    return t;
}

SlTensor *sl_tensor_randn(SlDType dt, int ndim, const int64_t *shape, mpfr_prec_t prec, SlError *err)
{
    SlTensor *t = sl_tensor_zeros(dt, ndim, shape, prec, err);
    if (t)
        sl_tensor_normal_(t, 0.0, 1.0);
    return t;
}

SlTensor *sl_tensor_randint(int64_t low, int64_t high, int ndim, const int64_t *shape, SlError *err)
{
    if (high <= low)
        return sl_err(err, SL_E_VALUE, "random_ expects 'from' to be less than 'to', but got from=%lld >= to=%lld",
                      (long long)low, (long long)high),
               NULL;
    SlTensor *t = sl_tensor_zeros(SL_DT_I64, ndim, shape, 0, err);
    if (!t)
        return NULL;
    uint64_t range = (uint64_t)(high - low);
    int64_t n = sl_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        /* random_from_to: 32-bit draws when the range fits, else 64 */
        uint64_t r = range >= (UINT64_C(1) << 32) ? gen_u64() : gen_u32();
        I64P(t)[i] = (int64_t)(r % range) + low;
    }
    return t;
}

/* ---------------------------------------------------------------------------
 * Views
 * ------------------------------------------------------------------------- */

SlTensor *sl_tensor_alias(const SlTensor *t)
{
    SlTensor *v = header_new();
    v->dtype = t->dtype;
    v->ndim = t->ndim;
    memcpy(v->shape, t->shape, sizeof v->shape);
    memcpy(v->strides, t->strides, sizeof v->strides);
    v->offset = t->offset;
    v->storage = t->storage;
    v->storage->refs++;
    v->version = t->version;
    v->version->refs++;
    return v;
}

SlTensor *sl_tensor_data_alias(const SlTensor *t)
{
    SlTensor *v = sl_tensor_alias(t);
    version_unref(v->version);
    v->version = version_new();
    return v;
}


bool sl_tensor_wrap_dim(int *dim, int ndim, SlError *err)
{
    int n = ndim > 0 ? ndim : 1;
    if (*dim < -n || *dim >= n)
        return sl_err(err, SL_E_TENSOR_INDEX,
                      "Dimension out of range (expected to be in range of [%d, %d], but got %d)", -n, n - 1, *dim);
    if (*dim < 0)
        *dim += n;
    return true;
}

bool sl_tensor_infer_shape(int64_t numel, int ndim, int64_t *shape, SlError *err)
{
    int infer = -1;
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == -1) {
            if (infer >= 0)
                return sl_err(err, SL_E_VALUE, "only one dimension can be inferred");
            infer = d;
        } else if (shape[d] < 0) {
            return sl_err(err, SL_E_VALUE, "invalid shape dimension %lld", (long long)shape[d]);
        } else {
            n *= shape[d];
        }
    }
    if (infer >= 0 && n != 0 && numel % n == 0) {
        shape[infer] = numel / n;
        return true;
    }
    if (infer < 0 && n == numel)
        return true;
    char buf[16 * SL_TENSOR_MAXDIM + 8];
    size_t k = 0;
    k += (size_t)snprintf(buf, sizeof buf, "[");
    for (int d = 0; d < ndim && k < sizeof buf; d++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (k < sizeof buf)
        snprintf(buf + k, sizeof buf - k, "]");
    return sl_err(err, SL_E_VALUE, "shape '%s' is invalid for input of size %lld", buf, (long long)numel);
}

/* torch's computeStride: strides for a view of t with the new shape, or
 * false when the memory layout does not allow one. */
static bool compute_view_strides(const SlTensor *t, int ndim, const int64_t *shape, int64_t *out)
{
    int64_t numel = sl_tensor_numel(t);
    if (numel == 0 || t->ndim == 0) {
        int64_t s = 1;
        for (int d = ndim - 1; d >= 0; d--) {
            out[d] = s;
            s *= shape[d] > 0 ? shape[d] : 1;
        }
        return true;
    }
    int view_d = ndim - 1;
    int64_t chunk_base_stride = t->strides[t->ndim - 1];
    int64_t tensor_numel = 1, view_numel = 1;
    for (int tensor_d = t->ndim - 1; tensor_d >= 0; tensor_d--) {
        tensor_numel *= t->shape[tensor_d];
        if (tensor_d == 0 ||
            (t->shape[tensor_d - 1] != 1 && t->strides[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
            while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
                out[view_d] = view_numel * chunk_base_stride;
                view_numel *= shape[view_d];
                view_d--;
            }
            if (view_numel != tensor_numel)
                return false;
            if (tensor_d > 0) {
                chunk_base_stride = t->strides[tensor_d - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    return view_d == -1;
}

SlTensor *sl_tensor_view(const SlTensor *t, int ndim, const int64_t *shape0, SlError *err)
{
    int64_t shape[SL_TENSOR_MAXDIM], strides[SL_TENSOR_MAXDIM];
    if (ndim > SL_TENSOR_MAXDIM)
        return sl_err(err, SL_E_LIMIT, "tensors have at most 16 dimensions"), NULL;
    memcpy(shape, shape0, (size_t)ndim * sizeof *shape);
    if (!sl_tensor_infer_shape(sl_tensor_numel(t), ndim, shape, err))
        return NULL;
    if (!compute_view_strides(t, ndim, shape, strides))
        return sl_err(err, SL_E_VALUE,
                      "view size is not compatible with input tensor's size and stride (at least one dimension "
                      "spans across two contiguous subspaces). Use .reshape(...) instead."),
               NULL;
    SlTensor *v = sl_tensor_alias(t);
    v->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        v->shape[d] = shape[d];
        v->strides[d] = strides[d];
    }
    return v;
}

SlTensor *sl_tensor_reshape(const SlTensor *t, int ndim, const int64_t *shape0, bool *copied, SlError *err)
{
    int64_t shape[SL_TENSOR_MAXDIM], strides[SL_TENSOR_MAXDIM];
    if (ndim > SL_TENSOR_MAXDIM)
        return sl_err(err, SL_E_LIMIT, "tensors have at most 16 dimensions"), NULL;
    memcpy(shape, shape0, (size_t)ndim * sizeof *shape);
    if (!sl_tensor_infer_shape(sl_tensor_numel(t), ndim, shape, err))
        return NULL;
    *copied = !compute_view_strides(t, ndim, shape, strides);
    if (!*copied)
        return sl_tensor_view(t, ndim, shape, err);
    SlTensor *c = sl_tensor_clone(t);
    SlTensor *v = sl_tensor_view(c, ndim, shape, err);
    sl_tensor_unref(c);
    return v;
}

SlTensor *sl_tensor_transpose(const SlTensor *t, int d0, int d1, SlError *err)
{
    if (!sl_tensor_wrap_dim(&d0, t->ndim, err) || !sl_tensor_wrap_dim(&d1, t->ndim, err))
        return NULL;
    SlTensor *v = sl_tensor_alias(t);
    if (t->ndim == 0)
        return v;
    int64_t s = v->shape[d0];
    v->shape[d0] = v->shape[d1];
    v->shape[d1] = s;
    s = v->strides[d0];
    v->strides[d0] = v->strides[d1];
    v->strides[d1] = s;
    return v;
}

SlTensor *sl_tensor_permute(const SlTensor *t, const int *perm0, SlError *err)
{
    int perm[SL_TENSOR_MAXDIM];
    bool seen[SL_TENSOR_MAXDIM] = {false};
    for (int d = 0; d < t->ndim; d++) {
        perm[d] = perm0[d];
        if (!sl_tensor_wrap_dim(&perm[d], t->ndim, err))
            return NULL;
        if (seen[perm[d]])
            return sl_err(err, SL_E_VALUE, "permute(): duplicate dims are not allowed."), NULL;
        seen[perm[d]] = true;
    }
    SlTensor *v = sl_tensor_alias(t);
    for (int d = 0; d < t->ndim; d++) {
        v->shape[d] = t->shape[perm[d]];
        v->strides[d] = t->strides[perm[d]];
    }
    return v;
}

SlTensor *sl_tensor_squeeze(const SlTensor *t, int dim, SlError *err)
{
    SlTensor *v = sl_tensor_alias(t);
    if (dim != -1000) {
        if (!sl_tensor_wrap_dim(&dim, t->ndim, err)) {
            sl_tensor_unref(v);
            return NULL;
        }
        if (t->ndim == 0 || t->shape[dim] != 1)
            return v;
    }
    int k = 0;
    for (int d = 0; d < t->ndim; d++) {
        if ((dim == -1000 && t->shape[d] == 1) || d == dim)
            continue;
        v->shape[k] = t->shape[d];
        v->strides[k] = t->strides[d];
        k++;
    }
    v->ndim = k;
    return v;
}

SlTensor *sl_tensor_unsqueeze(const SlTensor *t, int dim, SlError *err)
{
    if (t->ndim >= SL_TENSOR_MAXDIM)
        return sl_err(err, SL_E_LIMIT, "tensors have at most 16 dimensions"), NULL;
    if (!sl_tensor_wrap_dim(&dim, t->ndim + 1, err))
        return NULL;
    SlTensor *v = sl_tensor_alias(t);
    for (int d = t->ndim; d > dim; d--) {
        v->shape[d] = t->shape[d - 1];
        v->strides[d] = t->strides[d - 1];
    }
    v->shape[dim] = 1;
    v->strides[dim] = dim < t->ndim ? t->shape[dim] * t->strides[dim] : 1;
    v->ndim = t->ndim + 1;
    return v;
}

SlTensor *sl_tensor_select(const SlTensor *t, int dim, int64_t index, SlError *err)
{
    if (t->ndim == 0)
        return sl_err(err, SL_E_TENSOR_INDEX, "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"),
               NULL;
    if (!sl_tensor_wrap_dim(&dim, t->ndim, err))
        return NULL;
    int64_t size = t->shape[dim];
    if (index < -size || index >= size)
        return sl_err(err, SL_E_TENSOR_INDEX, "index %lld is out of bounds for dimension %d with size %lld",
                      (long long)index, dim, (long long)size),
               NULL;
    if (index < 0)
        index += size;
    SlTensor *v = sl_tensor_alias(t);
    v->offset += index * t->strides[dim];
    for (int d = dim; d < t->ndim - 1; d++) {
        v->shape[d] = t->shape[d + 1];
        v->strides[d] = t->strides[d + 1];
    }
    v->ndim = t->ndim - 1;
    return v;
}

SlTensor *sl_tensor_slice(const SlTensor *t, int dim, int64_t start, int64_t stop, int64_t step, SlError *err)
{
    if (!sl_tensor_wrap_dim(&dim, t->ndim, err))
        return NULL;
    if (step <= 0)
        return sl_err(err, SL_E_VALUE, "step must be greater than zero"), NULL;
    int64_t size = t->shape[dim];
    if (start < 0)
        start += size;
    if (stop < 0)
        stop += size;
    if (start < 0)
        start = 0;
    if (start > size)
        start = size;
    if (stop < start)
        stop = start;
    if (stop > size)
        stop = size;
    SlTensor *v = sl_tensor_alias(t);
    v->offset += start * t->strides[dim];
    v->shape[dim] = (stop - start + step - 1) / step;
    v->strides[dim] = t->strides[dim] * step;
    return v;
}

SlTensor *sl_tensor_expand(const SlTensor *t, int ndim, const int64_t *shape, SlError *err)
{
    if (ndim < t->ndim)
        return sl_err(err, SL_E_VALUE,
                      "expand: the number of sizes provided (%d) must be greater or equal to the number of "
                      "dimensions in the tensor (%d)",
                      ndim, t->ndim),
               NULL;
    if (ndim > SL_TENSOR_MAXDIM)
        return sl_err(err, SL_E_LIMIT, "tensors have at most 16 dimensions"), NULL;
    SlTensor *v = sl_tensor_alias(t);
    int lead = ndim - t->ndim;
    for (int d = ndim - 1; d >= 0; d--) {
        int64_t want = shape[d];
        if (d >= lead) {
            int64_t have = t->shape[d - lead];
            if (want == -1)
                want = have;
            if (have == want) {
                v->shape[d] = have;
                v->strides[d] = t->strides[d - lead];
            } else if (have == 1) {
                v->shape[d] = want;
                v->strides[d] = 0;
            } else {
                sl_tensor_unref(v);
                char a[16 * SL_TENSOR_MAXDIM], b[16 * SL_TENSOR_MAXDIM];
                size_t ka = (size_t)snprintf(a, sizeof a, "["), kb = (size_t)snprintf(b, sizeof b, "[");
                for (int k = 0; k < t->ndim && ka < sizeof a; k++)
                    ka += (size_t)snprintf(a + ka, sizeof a - ka, k ? ", %lld" : "%lld", (long long)t->shape[k]);
                for (int k = 0; k < ndim && kb < sizeof b; k++)
                    kb += (size_t)snprintf(b + kb, sizeof b - kb, k ? ", %lld" : "%lld", (long long)shape[k]);
                if (ka < sizeof a)
                    snprintf(a + ka, sizeof a - ka, "]");
                if (kb < sizeof b)
                    snprintf(b + kb, sizeof b - kb, "]");
                return sl_err(err, SL_E_VALUE,
                              "The expanded size of the tensor (%lld) must match the existing size (%lld) at "
                              "non-singleton dimension %d.  Target sizes: %s.  Tensor sizes: %s",
                              (long long)want, (long long)have, d, b, a),
                       NULL;
            }
        } else {
            if (want < 0) {
                sl_tensor_unref(v);
                return sl_err(err, SL_E_VALUE,
                              "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing "
                              "dimension %d",
                              d),
                       NULL;
            }
            v->shape[d] = want;
            v->strides[d] = 0;
        }
    }
    v->ndim = ndim;
    return v;
}

/* ---------------------------------------------------------------------------
 * Copies and conversions
 * ------------------------------------------------------------------------- */

/* A copy of floats into a contiguous tensor, converting float and double
 * as elem_copy does, read in row-major order through any strides */
typedef struct CopyArgs {
    const void *s;
    void *d;
    int ndim;
    bool s64, d64;
    int64_t n, shape[SL_TENSOR_MAXDIM], strides[SL_TENSOR_MAXDIM];
} CopyArgs;

static void copy_kernel(const void *args)
{
    const CopyArgs *a = args;
    int64_t idx[SL_TENSOR_MAXDIM] = {0}, off = 0;
    for (int64_t i = 0; i < a->n; i++) {
        double v = a->s64 ? ((const double *)a->s)[off] : ((const float *)a->s)[off];
        if (a->d64)
            ((double *)a->d)[i] = v;
        else
            ((float *)a->d)[i] = a->s64 ? (float)v : ((const float *)a->s)[off];
        for (int d = a->ndim - 1; d >= 0; d--) {
            off += a->strides[d];
            if (++idx[d] < a->shape[d])
                break;
            off -= a->strides[d] * a->shape[d];
            idx[d] = 0;
        }
    }
}

static SlTensor *copy_as(const SlTensor *t, SlDType dt, mpfr_prec_t prec)
{
    SlTensor *c = tensor_new(dt, t->ndim, t->shape, prec);
    if ((dt == SL_DT_F32 || dt == SL_DT_F64) && (t->dtype == SL_DT_F32 || t->dtype == SL_DT_F64)) {
        CopyArgs a = {.s = (const char *)t->storage->data + (size_t)t->offset * dtype_size(t->dtype),
                      .d = c->storage->data, .ndim = t->ndim, .s64 = t->dtype == SL_DT_F64,
                      .d64 = dt == SL_DT_F64, .n = sl_tensor_numel(t)};
        for (int d = 0; d < t->ndim; d++) {
            a.shape[d] = t->shape[d];
            a.strides[d] = t->strides[d];
        }
        SlTensor *in = (SlTensor *)t;
        sl_kernel(copy_kernel, &a, sizeof a, &in, 1, &c, 1, NULL, 0);
        return c;
    }
    Iter it;
    iter_init(&it, t->ndim, t->shape, c, t, NULL);
    ITER(&it, o, p, q, elem_copy(c, o, t, p));
    return c;
}

SlTensor *sl_tensor_clone(const SlTensor *t) { return copy_as(t, t->dtype, sl_tensor_prec(t)); }

SlTensor *sl_tensor_contiguous(const SlTensor *t)
{
    if (sl_tensor_is_contiguous(t))
        return sl_tensor_ref((SlTensor *)t);
    return sl_tensor_clone(t);
}

SlTensor *sl_tensor_to(const SlTensor *t, SlDType dt, mpfr_prec_t prec)
{
    return copy_as(t, dt, dt == SL_DT_MPFR ? prec : 0);
}

/* Broadcast shape of two tensors, with torch's message. */
static bool broadcast(int na, const int64_t *sa, int nb, const int64_t *sb, int *nd, int64_t *out, SlError *err)
{
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int da = na - 1 - i, db = nb - 1 - i;
        int64_t a = da >= 0 ? sa[da] : 1, b = db >= 0 ? sb[db] : 1;
        if (a != b && a != 1 && b != 1)
            return sl_err(err, SL_E_VALUE,
                          "The size of tensor a (%lld) must match the size of tensor b (%lld) at non-singleton "
                          "dimension %d",
                          (long long)a, (long long)b, n - 1 - i);
        out[n - 1 - i] = a == 1 ? b : a;
    }
    *nd = n;
    return true;
}

bool sl_tensor_copy_(SlTensor *dst, const SlTensor *src, SlError *err)
{
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!broadcast(dst->ndim, dst->shape, src->ndim, src->shape, &nd, shape, err))
        return false;
    if (nd != dst->ndim || memcmp(shape, dst->shape, (size_t)nd * sizeof *shape) != 0) {
        char a[16 * SL_TENSOR_MAXDIM], b[16 * SL_TENSOR_MAXDIM];
        sl_shape_str(a, sizeof a, src->ndim, src->shape);
        sl_shape_str(b, sizeof b, dst->ndim, dst->shape);
        return sl_err(err, SL_E_VALUE, "output with shape %s doesn't match the broadcast shape %s", b, a);
    }
    /* copy through a temporary when the two overlap */
    SlTensor *s = src->storage == dst->storage ? sl_tensor_clone(src) : sl_tensor_ref((SlTensor *)src);
    Iter it;
    iter_init(&it, dst->ndim, dst->shape, dst, s, NULL);
    ITER(&it, o, p, q, elem_copy(dst, o, s, p));
    sl_tensor_unref(s);
    sl_tensor_bump_version(dst);
    return true;
}

/* ---------------------------------------------------------------------------
 * Type promotion (c10's promoteTypes and TensorIterator's result_type)
 * ------------------------------------------------------------------------- */

static int category(SlDType dt) { return dt == SL_DT_BOOL ? 0 : dt == SL_DT_I64 ? 1 : 2; }

static int rank(SlDType dt)
{
    switch (dt) {
    case SL_DT_BOOL: return 0;
    case SL_DT_I64: return 1;
    case SL_DT_F32: return 2;
    case SL_DT_F64: return 3;
    case SL_DT_MPFR: return 4;
    }
    return 0;
}

typedef struct { bool set; SlDTypeP t; } Maybe;

static SlDTypeP promote2(SlDTypeP a, SlDTypeP b)
{
    if (a.dt == SL_DT_MPFR && b.dt == SL_DT_MPFR)
        return (SlDTypeP){SL_DT_MPFR, a.prec > b.prec ? a.prec : b.prec};
    return rank(a.dt) >= rank(b.dt) ? a : b;
}

static Maybe promote_m(Maybe a, SlDTypeP b)
{
    if (!a.set)
        return (Maybe){true, b};
    return (Maybe){true, promote2(a.t, b)};
}

/* combine_categories(higher, lower) */
static Maybe combine(Maybe hi, Maybe lo)
{
    if (!hi.set)
        return lo;
    if (!lo.set)
        return hi;
    if (category(hi.t.dt) == 2)
        return hi;
    if (hi.t.dt == SL_DT_BOOL || category(lo.t.dt) == 2)
        return (Maybe){true, promote2(hi.t, lo.t)};
    return hi;
}

SlDTypeP sl_result_type(SlTensor *const *ts, int n)
{
    Maybe dim = {false, {SL_DT_F32, 0}}, zero = dim, wrapped = dim;
    for (int i = 0; i < n; i++) {
        const SlTensor *t = ts[i];
        if (!t)
            continue;
        SlDTypeP p = {t->dtype, t->dtype == SL_DT_MPFR ? t->storage->prec : 0};
        if (t->wrapped) {
            /* a Python float counts as the default dtype, an int as int64 */
            if (p.dt == SL_DT_F64)
                p.dt = SL_DT_F32;
            wrapped = promote_m(wrapped, p);
        } else if (t->ndim == 0) {
            zero = promote_m(zero, p);
        } else {
            dim = promote_m(dim, p);
        }
    }
    Maybe r = combine(dim, combine(zero, wrapped));
    return r.set ? r.t : (SlDTypeP){SL_DT_F32, 0};
}

/* ---------------------------------------------------------------------------
 * Elementwise binary kernels
 * ------------------------------------------------------------------------- */

static float f_floordiv(float a, float b)
{
    if (b == 0)
        return a / b;
    float mod = fmodf(a, b);
    float div = (a - mod) / b;
    if (mod != 0 && (b < 0) != (mod < 0))
        div -= 1.0f;
    float fl;
    if (div != 0) {
        fl = floorf(div);
        if (div - fl > 0.5f)
            fl += 1.0f;
    } else {
        fl = copysignf(0.0f, a / b);
    }
    return fl;
}

static double d_floordiv(double a, double b)
{
    if (b == 0)
        return a / b;
    double mod = fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0 && (b < 0) != (mod < 0))
        div -= 1.0;
    double fl;
    if (div != 0) {
        fl = floor(div);
        if (div - fl > 0.5)
            fl += 1.0;
    } else {
        fl = copysign(0.0, a / b);
    }
    return fl;
}

static float f_mod(float a, float b)
{
    float m = fmodf(a, b);
    if (m != 0 && (b < 0) != (m < 0))
        m += b;
    return m;
}

static double d_mod(double a, double b)
{
    double m = fmod(a, b);
    if (m != 0 && (b < 0) != (m < 0))
        m += b;
    return m;
}

static int64_t i_pow(int64_t a, int64_t b)
{
    if (b < 0) {
        if (a == 1)
            return 1;
        if (a == -1)
            return (b & 1) ? -1 : 1;
        return 0;
    }
    uint64_t r = 1, x = (uint64_t)a;
    while (b) {
        if (b & 1)
            r *= x;
        x *= x;
        b >>= 1;
    }
    return (int64_t)r;
}

/* Each operand contiguous with the result's shape, or 0-d: torch's
 * vectorised loop runs over them in one pass. */
static bool dense_operand(const SlTensor *a, int nd, const int64_t *shape)
{
    if (a->ndim == 0)
        return true;
    if (a->ndim != nd || !sl_tensor_is_contiguous(a))
        return false;
    for (int d = 0; d < nd; d++)
        if (a->shape[d] != shape[d])
            return false;
    return true;
}

static bool dense_or_scalar(const SlTensor *a, const SlTensor *b, int nd, const int64_t *shape)
{
    return nd > 0 && dense_operand(a, nd, shape) && dense_operand(b, nd, shape);
}

static bool is_cmp(SlTOp op) { return op >= SL_T_EQ && op <= SL_T_GE; }

/* float op float (also used by the scalar-exponent path) */
static float f_op(SlTOp op, float a, float b, float alpha)
{
    switch (op) {
    case SL_T_ADD: return alpha == 1.0f ? a + b : fmaf(b, alpha, a);
    case SL_T_SUB: return alpha == 1.0f ? a - b : fmaf(b, -alpha, a);
    case SL_T_MUL: return a * b;
    case SL_T_DIV: return a / b;
    case SL_T_FLOORDIV: return f_floordiv(a, b);
    case SL_T_MOD: return f_mod(a, b);
    case SL_T_POW: return powf(a, b);
    case SL_T_MINIMUM: return (a != a || b != b) ? NAN : a < b ? a : b;
    case SL_T_MAXIMUM: return (a != a || b != b) ? NAN : a > b ? a : b;
    case SL_T_ATAN2: return atan2f(a, b);
    default: return 0;
    }
}

static double d_op(SlTOp op, double a, double b, double alpha)
{
    switch (op) {
    case SL_T_ADD: return alpha == 1.0 ? a + b : fma(b, alpha, a);
    case SL_T_SUB: return alpha == 1.0 ? a - b : fma(b, -alpha, a);
    case SL_T_MUL: return a * b;
    case SL_T_DIV: return a / b;
    case SL_T_FLOORDIV: return d_floordiv(a, b);
    case SL_T_MOD: return d_mod(a, b);
    case SL_T_POW: return pow(a, b);
    case SL_T_MINIMUM: return (a != a || b != b) ? NAN : a < b ? a : b;
    case SL_T_MAXIMUM: return (a != a || b != b) ? NAN : a > b ? a : b;
    case SL_T_ATAN2: return atan2(a, b);
    default: return 0;
    }
}

static bool cmp_d(SlTOp op, double a, double b)
{
    switch (op) {
    case SL_T_EQ: return a == b;
    case SL_T_NE: return a != b;
    case SL_T_LT: return a < b;
    case SL_T_LE: return a <= b;
    case SL_T_GT: return a > b;
    case SL_T_GE: return a >= b;
    default: return false;
    }
}

static bool cmp_i(SlTOp op, int64_t a, int64_t b)
{
    switch (op) {
    case SL_T_EQ: return a == b;
    case SL_T_NE: return a != b;
    case SL_T_LT: return a < b;
    case SL_T_LE: return a <= b;
    case SL_T_GT: return a > b;
    case SL_T_GE: return a >= b;
    default: return false;
    }
}

static bool cmp_m(SlTOp op, mpfr_srcptr a, mpfr_srcptr b)
{
    switch (op) {
    case SL_T_EQ: return mpfr_equal_p(a, b);
    case SL_T_NE: return !mpfr_equal_p(a, b);
    case SL_T_LT: return mpfr_less_p(a, b);
    case SL_T_LE: return mpfr_lessequal_p(a, b);
    case SL_T_GT: return mpfr_greater_p(a, b);
    case SL_T_GE: return mpfr_greaterequal_p(a, b);
    default: return false;
    }
}

static void m_op(SlTOp op, mpfr_ptr r, mpfr_srcptr a, mpfr_srcptr b, double alpha)
{
    switch (op) {
    case SL_T_ADD:
    case SL_T_SUB:
        if (alpha == 1.0) {
            if (op == SL_T_ADD)
                mpfr_add(r, a, b, MPFR_RNDN);
            else
                mpfr_sub(r, a, b, MPFR_RNDN);
        } else {
            mpfr_t al;
            mpfr_init2(al, 64);
            mpfr_set_d(al, op == SL_T_ADD ? alpha : -alpha, MPFR_RNDN);
            mpfr_fma(r, b, al, a, MPFR_RNDN);
            mpfr_clear(al);
        }
        break;
    case SL_T_MUL: mpfr_mul(r, a, b, MPFR_RNDN); break;
    case SL_T_DIV: mpfr_div(r, a, b, MPFR_RNDN); break;
    case SL_T_FLOORDIV: {
        mpfr_t q;
        mpfr_init2(q, mpfr_get_prec(r) + 64);
        mpfr_div(q, a, b, MPFR_RNDN);
        mpfr_floor(r, q);
        mpfr_clear(q);
        break;
    }
    case SL_T_MOD: {
        mpfr_fmod(r, a, b, MPFR_RNDN);
        if (!mpfr_zero_p(r) && (mpfr_sgn(b) < 0) != (mpfr_sgn(r) < 0))
            mpfr_add(r, r, b, MPFR_RNDN);
        break;
    }
    case SL_T_POW: mpfr_pow(r, a, b, MPFR_RNDN); break;
    case SL_T_MINIMUM:
        if (mpfr_nan_p(a) || mpfr_nan_p(b))
            mpfr_set_nan(r);
        else
            mpfr_min(r, a, b, MPFR_RNDN);
        break;
    case SL_T_MAXIMUM:
        if (mpfr_nan_p(a) || mpfr_nan_p(b))
            mpfr_set_nan(r);
        else
            mpfr_max(r, a, b, MPFR_RNDN);
        break;
    case SL_T_ATAN2: mpfr_atan2(r, a, b, MPFR_RNDN); break;
    default: mpfr_set_zero(r, 1); break;
    }
}

static int64_t i_op(SlTOp op, int64_t a, int64_t b, int64_t alpha)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    switch (op) {
    case SL_T_ADD: return (int64_t)(ua + (uint64_t)alpha * ub);
    case SL_T_SUB: return (int64_t)(ua - (uint64_t)alpha * ub);
    case SL_T_MUL: return (int64_t)(ua * ub);
    case SL_T_FLOORDIV: {
        if (a == INT64_MIN && b == -1)
            return INT64_MIN;
        int64_t q = a / b, r = a % b;
        if (r != 0 && ((r < 0) != (b < 0)))
            q--;
        return q;
    }
    case SL_T_MOD: {
        if (b == -1)
            return 0;
        int64_t r = a % b;
        if (r != 0 && ((r < 0) != (b < 0)))
            r += b;
        return r;
    }
    case SL_T_POW: return i_pow(a, b);
    case SL_T_MINIMUM: return a < b ? a : b;
    case SL_T_MAXIMUM: return a > b ? a : b;
    case SL_T_AND: return a & b;
    case SL_T_OR: return a | b;
    case SL_T_XOR: return a ^ b;
    default: return 0;
    }
}

/* Cast t to (dt, prec) unless it already is; new reference. */
static SlTensor *as_type(const SlTensor *t, SlDTypeP p)
{
    if (t->dtype == p.dt && (p.dt != SL_DT_MPFR || t->storage->prec == p.prec))
        return sl_tensor_ref((SlTensor *)t);
    return copy_as(t, p.dt, p.prec);
}

static bool any_zero_i(const SlTensor *t)
{
    int64_t n = sl_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        if (sl_tensor_get_i(t, i) == 0)
            return true;
    return false;
}

/* The one element of t converted to float / double as elem_copy converts. */
static float scalar_f(const SlTensor *t)
{
    int64_t o = t->offset;
    switch (t->dtype) {
    case SL_DT_F32: return F32P(t)[o];
    case SL_DT_F64: return (float)F64P(t)[o];
    case SL_DT_I64: return (float)I64P(t)[o];
    case SL_DT_BOOL: return BOOLP(t)[o];
    case SL_DT_MPFR: return mpfr_get_flt(&MPP(t)[o], MPFR_RNDN);
    }
    return 0;
}

static double scalar_d(const SlTensor *t)
{
    int64_t o = t->offset;
    switch (t->dtype) {
    case SL_DT_F32: return F32P(t)[o];
    case SL_DT_F64: return F64P(t)[o];
    case SL_DT_I64: return (double)I64P(t)[o];
    case SL_DT_BOOL: return BOOLP(t)[o];
    case SL_DT_MPFR: return mpfr_get_d(&MPP(t)[o], MPFR_RNDN);
    }
    return 0;
}

/* How t enters a flat loop over n elements of shape (nd, shape): 1 when it
 * is contiguous of that shape (elements in order), 0 when it has one
 * element (broadcast), -1 otherwise (the strided iterator). */
static int flat_step(const SlTensor *t, int nd, const int64_t *shape, int64_t n)
{
    int64_t tn = sl_tensor_numel(t);
    if (tn == 1 && t->ndim <= nd)
        return 0;
    bool one = t->ndim <= nd; /* one number expanded (strides 0: a sum's gradient) */
    for (int d = 0; d < t->ndim && one; d++)
        one = t->strides[d] == 0 || t->shape[d] == 1;
    if (one && tn > 0)
        return 0;
    if (tn != n || t->ndim != nd || !sl_tensor_is_contiguous(t))
        return -1;
    for (int d = 0; d < nd; d++)
        if (t->shape[d] != shape[d])
            return -1;
    return 1;
}

/* binary() for float32/float64 arithmetic and comparisons on operands
 * that are contiguous of the result's shape or single elements: the same
 * per-element operations without the iterator or a converted copy (an
 * operand of another dtype must be a single element, converted once). */
/* One operand of a flat binary kernel: n elements at p (step 1), or one
 * number of dtype dt read (and converted) when the kernel runs */
typedef struct FlatOperand {
    const void *p;
    int step;
    SlDType dt;
} FlatOperand;

typedef struct BinaryArgs {
    FlatOperand a, b;
    void *r;
    int64_t n;
    double alpha;
    SlTOp op;
    bool f64;
} BinaryArgs;

static double flat_scalar(const FlatOperand *o)
{
    switch (o->dt) {
    case SL_DT_F32: return *(const float *)o->p;
    case SL_DT_F64: return *(const double *)o->p;
    case SL_DT_I64: return (double)*(const int64_t *)o->p;
    case SL_DT_BOOL: return *(const bool *)o->p;
    default: return 0;
    }
}

/* ... converted to float as scalar_f does */
static float flat_scalar_f(const FlatOperand *o)
{
    switch (o->dt) {
    case SL_DT_F32: return *(const float *)o->p;
    case SL_DT_F64: return (float)*(const double *)o->p;
    case SL_DT_I64: return (float)*(const int64_t *)o->p;
    case SL_DT_BOOL: return *(const bool *)o->p;
    default: return 0;
    }
}

/* torch's elementwise loops for + - * / and comparisons over contiguous
 * floats, a scalar operand broadcast */
static void binary_kernel(const void *args)
{
    const BinaryArgs *k = args;
    SlTOp op = k->op;
    int64_t n = k->n;
    int sa = k->a.step, sb = k->b.step;
    if (!k->f64) {
        float av = 0, bv = 0, fal = (float)k->alpha;
        const float *pa = sa ? k->a.p : (av = flat_scalar_f(&k->a), &av);
        const float *pb = sb ? k->b.p : (bv = flat_scalar_f(&k->b), &bv);
        if (is_cmp(op)) {
            bool *pr = k->r;
            for (int64_t i = 0; i < n; i++)
                pr[i] = cmp_d(op, pa[i * sa], pb[i * sb]);
            return;
        }
        float *pr = k->r;
        switch (op) {
        case SL_T_ADD:
            if (fal == 1.0f)
                for (int64_t i = 0; i < n; i++)
                    pr[i] = pa[i * sa] + pb[i * sb];
            else
                for (int64_t i = 0; i < n; i++)
                    pr[i] = fmaf(pb[i * sb], fal, pa[i * sa]);
            break;
        case SL_T_SUB:
            if (fal == 1.0f)
                for (int64_t i = 0; i < n; i++)
                    pr[i] = pa[i * sa] - pb[i * sb];
            else
                for (int64_t i = 0; i < n; i++)
                    pr[i] = fmaf(pb[i * sb], -fal, pa[i * sa]);
            break;
        case SL_T_MUL:
            for (int64_t i = 0; i < n; i++)
                pr[i] = pa[i * sa] * pb[i * sb];
            break;
        default:
            for (int64_t i = 0; i < n; i++)
                pr[i] = pa[i * sa] / pb[i * sb];
            break;
        }
    } else {
        double av = 0, bv = 0;
        const double *pa = sa ? k->a.p : (av = flat_scalar(&k->a), &av);
        const double *pb = sb ? k->b.p : (bv = flat_scalar(&k->b), &bv);
        if (is_cmp(op)) {
            bool *pr = k->r;
            for (int64_t i = 0; i < n; i++)
                pr[i] = cmp_d(op, pa[i * sa], pb[i * sb]);
            return;
        }
        double *pr = k->r;
        for (int64_t i = 0; i < n; i++)
            pr[i] = d_op(op, pa[i * sa], pb[i * sb], k->alpha);
    }
}

/* + - * / with broadcasting: a and b read through strides (0 where
 * broadcast) over the output's shape, the output contiguous; each element
 * as binary()'s loops compute it */
typedef struct StridedArgs {
    const void *a, *b;
    void *r;
    int ndim;
    int64_t n, shape[SL_TENSOR_MAXDIM], sa[SL_TENSOR_MAXDIM], sb[SL_TENSOR_MAXDIM];
    double alpha;
    SlTOp op;
    bool f64;
} StridedArgs;

#define STRIDED(T, EXPR)                                                                                       \
    do {                                                                                                       \
        const T *pa = k->a, *pb = k->b;                                                                        \
        T *pr = k->r;                                                                                          \
        int64_t idx[SL_TENSOR_MAXDIM] = {0}, oa = 0, ob = 0;                                                   \
        for (int64_t i = 0; i < k->n; i++) {                                                                   \
            T x = pa[oa], y = pb[ob];                                                                          \
            pr[i] = EXPR;                                                                                      \
            for (int d = k->ndim - 1; d >= 0; d--) {                                                           \
                oa += k->sa[d];                                                                                \
                ob += k->sb[d];                                                                                \
                if (++idx[d] < k->shape[d])                                                                    \
                    break;                                                                                     \
                oa -= k->sa[d] * k->shape[d];                                                                  \
                ob -= k->sb[d] * k->shape[d];                                                                  \
                idx[d] = 0;                                                                                    \
            }                                                                                                  \
        }                                                                                                      \
    } while (0)

static void strided_kernel(const void *args)
{
    const StridedArgs *k = args;
    if (k->f64) {
        double al = k->alpha;
        STRIDED(double, d_op(k->op, x, y, al));
        return;
    }
    float fal = (float)k->alpha;
    switch (k->op) {
    case SL_T_ADD:
        if (fal == 1.0f)
            STRIDED(float, x + y);
        else
            STRIDED(float, fmaf(y, fal, x));
        break;
    case SL_T_SUB:
        if (fal == 1.0f)
            STRIDED(float, x - y);
        else
            STRIDED(float, fmaf(y, -fal, x));
        break;
    case SL_T_MUL: STRIDED(float, x * y); break;
    default: STRIDED(float, x / y); break;
    }
}
#undef STRIDED

static SlTensor *binary_flat(SlTOp op, const SlTensor *a, const SlTensor *b, double alpha, SlDTypeP ct, int nd,
                             const int64_t *shape)
{
    if ((ct.dt != SL_DT_F32 && ct.dt != SL_DT_F64) ||
        !(op == SL_T_ADD || op == SL_T_SUB || op == SL_T_MUL || op == SL_T_DIV || is_cmp(op)))
        return NULL;
    int64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= shape[d];
    int sa = flat_step(a, nd, shape, n), sb = flat_step(b, nd, shape, n);
    if (sa < 0 || sb < 0 || (sa && a->dtype != ct.dt) || (sb && b->dtype != ct.dt))
        return NULL;
    if ((!sa && a->dtype == SL_DT_MPFR) || (!sb && b->dtype == SL_DT_MPFR))
        return NULL;
    SlTensor *r = tensor_new(is_cmp(op) ? SL_DT_BOOL : ct.dt, nd, shape, 0);
    BinaryArgs k = {.a = {(const char *)a->storage->data + (size_t)a->offset * dtype_size(a->dtype), sa, a->dtype},
                    .b = {(const char *)b->storage->data + (size_t)b->offset * dtype_size(b->dtype), sb, b->dtype},
                    .r = r->storage->data, .n = n, .alpha = alpha, .op = op, .f64 = ct.dt == SL_DT_F64};
    /* a Python number in the program is the same number at every replay */
    if (a->wrapped)
        sl_capture_const((SlTensor *)a);
    if (b->wrapped)
        sl_capture_const((SlTensor *)b);
    SlTensor *in[2] = {(SlTensor *)a, (SlTensor *)b};
    sl_kernel(binary_kernel, &k, sizeof k, in, 2, &r, 1, NULL, 0);
    return r;
}

static SlTensor *binary(SlTOp op, const SlTensor *a, const SlTensor *b, double alpha, SlError *err)
{
    SlTensor *ops[2] = {(SlTensor *)a, (SlTensor *)b};
    SlDTypeP ct = sl_result_type(ops, 2);
    if (ct.dt == SL_DT_BOOL) {
        if (op == SL_T_SUB)
            return sl_err(err, SL_E_TYPE,
                          "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                          "`logical_xor()` operator instead."),
                   NULL;
        if (op == SL_T_ADD && alpha != 1.0)
            ct.dt = SL_DT_I64;
    }
    if ((op == SL_T_DIV || op == SL_T_ATAN2) && !sl_dtype_is_float(ct.dt))
        ct = (SlDTypeP){SL_DT_F32, 0};
    if (ct.dt == SL_DT_BOOL && (op == SL_T_DIV || op == SL_T_FLOORDIV || op == SL_T_MOD || op == SL_T_POW))
        ct.dt = op == SL_T_DIV ? SL_DT_F32 : SL_DT_I64;
    if ((op == SL_T_AND || op == SL_T_OR || op == SL_T_XOR) && sl_dtype_is_float(ct.dt))
        return sl_err(err, SL_E_TYPE, "\"bitwise_%s_cpu\" not implemented for 'Float'",
                      op == SL_T_AND ? "and" : op == SL_T_OR ? "or" : "xor"),
               NULL;
    if (ct.dt == SL_DT_BOOL && op == SL_T_MUL)
        op = SL_T_AND;
    else if (ct.dt == SL_DT_BOOL && op == SL_T_ADD)
        op = SL_T_OR;
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM];
    if (!broadcast(a->ndim, a->shape, b->ndim, b->shape, &nd, shape, err))
        return NULL;
    SlTensor *fr = binary_flat(op, a, b, alpha, ct, nd, shape);
    if (fr)
        return fr;
    SlTensor *A = as_type(a, ct), *B = as_type(b, ct);
    if (ct.dt == SL_DT_I64 && (op == SL_T_FLOORDIV || op == SL_T_MOD) && any_zero_i(B)) {
        sl_tensor_unref(A);
        sl_tensor_unref(B);
        return sl_err(err, SL_E_ZERODIV, "ZeroDivisionError"), NULL;
    }
    if (ct.dt == SL_DT_I64 && op == SL_T_POW && B->ndim == 0 && sl_tensor_get_i(B, 0) < 0) {
        sl_tensor_unref(A);
        sl_tensor_unref(B);
        return sl_err(err, SL_E_VALUE, "Integers to negative integer powers are not allowed."), NULL;
    }
    SlDType outdt = is_cmp(op) ? SL_DT_BOOL : ct.dt;
    SlTensor *r = tensor_new(outdt, nd, shape, ct.prec);
    if ((ct.dt == SL_DT_F32 || ct.dt == SL_DT_F64) &&
        (op == SL_T_ADD || op == SL_T_SUB || op == SL_T_MUL || op == SL_T_DIV)) {
        /* broadcasting + - * /: one kernel over the output in order */
        StridedArgs k = {.a = (const char *)A->storage->data + (size_t)A->offset * dtype_size(ct.dt),
                         .b = (const char *)B->storage->data + (size_t)B->offset * dtype_size(ct.dt),
                         .r = r->storage->data, .ndim = nd, .n = sl_tensor_numel(r), .alpha = alpha, .op = op,
                         .f64 = ct.dt == SL_DT_F64};
        for (int d = 0; d < nd; d++) {
            int da = d - (nd - A->ndim), db = d - (nd - B->ndim);
            k.shape[d] = shape[d];
            k.sa[d] = da < 0 || A->shape[da] == 1 ? 0 : A->strides[da];
            k.sb[d] = db < 0 || B->shape[db] == 1 ? 0 : B->strides[db];
        }
        if (A->wrapped)
            sl_capture_const(A);
        if (B->wrapped)
            sl_capture_const(B);
        SlTensor *in[2] = {A, B};
        sl_kernel(strided_kernel, &k, sizeof k, in, 2, &r, 1, NULL, 0);
        sl_tensor_unref(A);
        sl_tensor_unref(B);
        return r;
    }
    Iter it;
    iter_init(&it, nd, shape, r, A, B);
    switch (ct.dt) {
    case SL_DT_F32: {
        float *pa = F32P(A), *pb = F32P(B), fal = (float)alpha;
        if (is_cmp(op)) {
            bool *pr = BOOLP(r);
            ITER(&it, o, p, q, pr[o] = cmp_d(op, pa[p], pb[q]));
        } else {
            float *pr = F32P(r);
            switch (op) {
            case SL_T_ADD:
                if (fal == 1.0f)
                    ITER(&it, o, p, q, pr[o] = pa[p] + pb[q]);
                else
                    ITER(&it, o, p, q, pr[o] = fmaf(pb[q], fal, pa[p]));
                break;
            case SL_T_SUB:
                if (fal == 1.0f)
                    ITER(&it, o, p, q, pr[o] = pa[p] - pb[q]);
                else
                    ITER(&it, o, p, q, pr[o] = fmaf(pb[q], -fal, pa[p]));
                break;
            case SL_T_MUL: ITER(&it, o, p, q, pr[o] = pa[p] * pb[q]); break;
            case SL_T_DIV: ITER(&it, o, p, q, pr[o] = pa[p] / pb[q]); break;
            case SL_T_POW:
            case SL_T_ATAN2:
                if (dense_or_scalar(A, B, nd, shape)) {
                    sl_vm_binf(op == SL_T_POW ? 'p' : 'a', pr, pa + A->offset, A->ndim > 0, pb + B->offset, B->ndim > 0,
                               it.n);
                    break;
                }
                ITER(&it, o, p, q, pr[o] = f_op(op, pa[p], pb[q], fal));
                break;
            default: ITER(&it, o, p, q, pr[o] = f_op(op, pa[p], pb[q], fal)); break;
            }
        }
        break;
    }
    case SL_DT_F64: {
        double *pa = F64P(A), *pb = F64P(B);
        if (is_cmp(op)) {
            bool *pr = BOOLP(r);
            ITER(&it, o, p, q, pr[o] = cmp_d(op, pa[p], pb[q]));
        } else {
            double *pr = F64P(r);
            if ((op == SL_T_POW || op == SL_T_ATAN2) && dense_or_scalar(A, B, nd, shape))
                sl_vm_bin(op == SL_T_POW ? 'p' : 'a', pr, pa + A->offset, A->ndim > 0, pb + B->offset, B->ndim > 0,
                          it.n);
            else
                ITER(&it, o, p, q, pr[o] = d_op(op, pa[p], pb[q], alpha));
        }
        break;
    }
    case SL_DT_I64: {
        int64_t *pa = I64P(A), *pb = I64P(B), ial = (int64_t)alpha;
        if (is_cmp(op)) {
            bool *pr = BOOLP(r);
            ITER(&it, o, p, q, pr[o] = cmp_i(op, pa[p], pb[q]));
        } else {
            int64_t *pr = I64P(r);
            ITER(&it, o, p, q, pr[o] = i_op(op, pa[p], pb[q], ial));
        }
        break;
    }
    case SL_DT_BOOL: {
        bool *pa = BOOLP(A), *pb = BOOLP(B), *pr = BOOLP(r);
        if (is_cmp(op))
            ITER(&it, o, p, q, pr[o] = cmp_i(op, pa[p], pb[q]));
        else
            ITER(&it, o, p, q, pr[o] = i_op(op, pa[p], pb[q], 1) != 0);
        break;
    }
    case SL_DT_MPFR: {
        __mpfr_struct *pa = MPP(A), *pb = MPP(B);
        if (is_cmp(op)) {
            bool *pr = BOOLP(r);
            ITER(&it, o, p, q, pr[o] = cmp_m(op, &pa[p], &pb[q]));
        } else {
            __mpfr_struct *pr = MPP(r);
            ITER(&it, o, p, q, m_op(op, &pr[o], &pa[p], &pb[q], alpha));
        }
        break;
    }
    }
    sl_tensor_unref(A);
    sl_tensor_unref(B);
    return r;
}

SlTensor *sl_tensor_binary(SlTOp op, const SlTensor *a, const SlTensor *b, SlError *err)
{
    return binary(op, a, b, 1.0, err);
}

SlTensor *sl_tensor_add_alpha(const SlTensor *a, const SlTensor *b, double alpha, SlError *err)
{
    return binary(SL_T_ADD, a, b, alpha, err);
}

static SlTensor *wrapped_d(double v)
{
    SlTensor *s = sl_tensor_scalar_d(SL_DT_F64, v, 0);
    s->wrapped = true;
    return s;
}

SlTensor *sl_tensor_mul_scalar(const SlTensor *x, double v, SlError *err)
{
    SlTensor *s = wrapped_d(v);
    SlTensor *r = binary(SL_T_MUL, x, s, 1.0, err);
    sl_tensor_unref(s);
    return r;
}

SlTensor *sl_tensor_neg(const SlTensor *x, SlError *err) { return sl_tensor_unary(SL_TU_NEG, x, err); }

/* pow_tensor_scalar over contiguous floats, as a kernel (the same cases as
 * the strided loops below) */
typedef struct PowArgs {
    const void *x;
    void *r;
    int64_t n;
    double e;
    bool f64;
} PowArgs;

static void pow_kernel(const void *args)
{
    const PowArgs *a = args;
    double e = a->e;
    int64_t n = a->n;
    if (!a->f64) {
        const float *px = a->x;
        float *pr = a->r;
        if (e == 2.0)
            for (int64_t i = 0; i < n; i++)
                pr[i] = px[i] * px[i];
        else if (e == 3.0)
            for (int64_t i = 0; i < n; i++)
                pr[i] = px[i] * px[i] * px[i];
        else if (e == -2.0)
            for (int64_t i = 0; i < n; i++)
                pr[i] = (float)(1.0 / (double)(px[i] * px[i]));
        else
            sl_vm_powf(pr, px, e, n);
    } else {
        const double *px = a->x;
        double *pr = a->r;
        if (e == 2.0)
            for (int64_t i = 0; i < n; i++)
                pr[i] = px[i] * px[i];
        else if (e == 3.0)
            for (int64_t i = 0; i < n; i++)
                pr[i] = px[i] * px[i] * px[i];
        else if (e == -2.0)
            for (int64_t i = 0; i < n; i++)
                pr[i] = 1.0 / (px[i] * px[i]);
        else
            sl_vm_pow(pr, px, e, n);
    }
}

/* x ** e, the exponent a Python number: torch's pow_tensor_scalar. */
SlTensor *sl_tensor_pow_scalar(const SlTensor *x, double e, SlError *err)
{
    if (!sl_dtype_is_float(x->dtype)) {
        SlTensor *s = (e == floor(e) && fabs(e) < 9e18) ? sl_tensor_scalar_i(SL_DT_I64, (int64_t)e, 0) : wrapped_d(e);
        s->wrapped = true;
        SlTensor *r = binary(SL_T_POW, x, s, 1.0, err);
        sl_tensor_unref(s);
        return r;
    }
    if (e == 0.5)
        return sl_tensor_unary(SL_FN_SQRT, x, err);
    if (e == -0.5)
        return sl_tensor_unary(SL_TU_RSQRT, x, err);
    if (e == -1.0)
        return sl_tensor_unary(SL_TU_RECIPROCAL, x, err);
    SlTensor *r = tensor_new(x->dtype, x->ndim, x->shape, sl_tensor_prec(x));
    if ((x->dtype == SL_DT_F32 || x->dtype == SL_DT_F64) && sl_tensor_is_contiguous(x)) {
        PowArgs a = {.x = (const char *)x->storage->data + (size_t)x->offset * dtype_size(x->dtype),
                     .r = r->storage->data, .n = sl_tensor_numel(x), .e = e, .f64 = x->dtype == SL_DT_F64};
        SlTensor *in = (SlTensor *)x;
        sl_kernel(pow_kernel, &a, sizeof a, &in, 1, &r, 1, NULL, 0);
        return r;
    }
    Iter it;
    iter_init(&it, x->ndim, x->shape, r, x, NULL);
    switch (x->dtype) {
    case SL_DT_F32: {
        float *pr = F32P(r), *px = F32P(x);
        if (e == 2.0)
            ITER(&it, o, p, q, pr[o] = px[p] * px[p]);
        else if (e == 3.0)
            ITER(&it, o, p, q, pr[o] = px[p] * px[p] * px[p]);
        else if (e == -2.0)
            ITER(&it, o, p, q, pr[o] = (float)(1.0 / (double)(px[p] * px[p])));
        else if (sl_tensor_is_contiguous(x))
            sl_vm_powf(pr, px + x->offset, e, it.n);
        else
            ITER(&it, o, p, q, pr[o] = (float)pow((double)px[p], e));
        break;
    }
    case SL_DT_F64: {
        double *pr = F64P(r), *px = F64P(x);
        if (e == 2.0)
            ITER(&it, o, p, q, pr[o] = px[p] * px[p]);
        else if (e == 3.0)
            ITER(&it, o, p, q, pr[o] = px[p] * px[p] * px[p]);
        else if (e == -2.0)
            ITER(&it, o, p, q, pr[o] = 1.0 / (px[p] * px[p]));
        else if (sl_tensor_is_contiguous(x))
            sl_vm_pow(pr, px + x->offset, e, it.n);
        else
            ITER(&it, o, p, q, pr[o] = pow(px[p], e));
        break;
    }
    case SL_DT_MPFR: {
        __mpfr_struct *pr = MPP(r), *px = MPP(x);
        if (e == floor(e) && fabs(e) < 1e18)
            ITER(&it, o, p, q, mpfr_pow_si(&pr[o], &px[p], (long)e, MPFR_RNDN));
        else
            ITER(&it, o, p, q, {
                mpfr_t ee;
                mpfr_init2(ee, 64);
                mpfr_set_d(ee, e, MPFR_RNDN);
                mpfr_pow(&pr[o], &px[p], ee, MPFR_RNDN);
                mpfr_clear(ee);
            });
        break;
    }
    default: break;
    }
    return r;
}

/* ---------------------------------------------------------------------------
 * Unary kernels
 * ------------------------------------------------------------------------- */

static bool keeps_int(int fn)
{
    return fn == SL_FN_ABS || fn == SL_FN_SIGN || fn == SL_FN_FLOOR || fn == SL_FN_CEIL || fn == SL_FN_ROUND ||
           fn == SL_FN_RELU || fn == SL_TU_NEG || fn == SL_TU_SGN || fn == SL_TU_NOT || fn == SL_FN_HEAVISIDE ||
           fn == SL_TU_SQUARE;
}

static float f_un(int fn, float a)
{
    switch (fn) {
    case SL_FN_SIN: case SL_FN_COS: case SL_FN_TAN: case SL_FN_ASIN: case SL_FN_ACOS: case SL_FN_ATAN:
    case SL_FN_SINH: case SL_FN_COSH: case SL_FN_TANH: case SL_FN_EXP: case SL_FN_LOG: case SL_FN_LOG2:
    case SL_FN_LOG10: return sl_vm_f32_1(fn, a);
    case SL_FN_SQRT: return sqrtf(a);
    case SL_FN_CBRT: return cbrtf(a);
    case SL_FN_ABS: return fabsf(a);
    case SL_FN_SIGN:
    case SL_TU_SGN: return (float)((0 < a) - (a < 0));
    case SL_FN_FLOOR: return floorf(a);
    case SL_FN_CEIL: return ceilf(a);
    case SL_FN_ROUND: return nearbyintf(a);
    case SL_FN_SIGMOID: return 1.0f / (1.0f + expf(-a));
    case SL_FN_RELU: return a < 0 ? 0.0f : a;
    case SL_FN_HEAVISIDE: return a > 0 ? 1.0f : 0.0f;
    case SL_TU_NEG: return -a;
    case SL_TU_RECIPROCAL: return 1.0f / a;
    case SL_TU_RSQRT: return 1.0f / sqrtf(a);
    case SL_TU_SQUARE: return a * a;
    case SL_TU_ONE_MINUS_SQ: return fmaf(-a, a, 1.0f);
    default: return NAN;
    }
}

static double d_un(int fn, double a)
{
    switch (fn) {
    case SL_FN_SIN: case SL_FN_COS: case SL_FN_TAN: case SL_FN_ASIN: case SL_FN_ACOS: case SL_FN_ATAN:
    case SL_FN_SINH: case SL_FN_COSH: case SL_FN_TANH: case SL_FN_EXP: case SL_FN_LOG: case SL_FN_LOG2:
    case SL_FN_LOG10: return sl_vm_f64_1(fn, a);
    case SL_FN_SQRT: return sqrt(a);
    case SL_FN_CBRT: return cbrt(a);
    case SL_FN_ABS: return fabs(a);
    case SL_FN_SIGN:
    case SL_TU_SGN: return (double)((0 < a) - (a < 0));
    case SL_FN_FLOOR: return floor(a);
    case SL_FN_CEIL: return ceil(a);
    case SL_FN_ROUND: return nearbyint(a);
    case SL_FN_SIGMOID: return 1.0 / (1.0 + exp(-a));
    case SL_FN_RELU: return a < 0 ? 0.0 : a;
    case SL_FN_HEAVISIDE: return a > 0 ? 1.0 : 0.0;
    case SL_TU_NEG: return -a;
    case SL_TU_RECIPROCAL: return 1.0 / a;
    case SL_TU_RSQRT: return 1.0 / sqrt(a);
    case SL_TU_SQUARE: return a * a;
    case SL_TU_ONE_MINUS_SQ: return fma(-a, a, 1.0);
    default: return NAN;
    }
}

static int64_t i_un(int fn, int64_t a)
{
    switch (fn) {
    case SL_FN_ABS: return a < 0 ? (int64_t)(0 - (uint64_t)a) : a;
    case SL_FN_SIGN:
    case SL_TU_SGN: return (0 < a) - (a < 0);
    case SL_FN_RELU: return a < 0 ? 0 : a;
    case SL_FN_HEAVISIDE: return a > 0;
    case SL_TU_NEG: return (int64_t)(0 - (uint64_t)a);
    case SL_TU_NOT: return ~a;
    case SL_TU_SQUARE: return (int64_t)((uint64_t)a * (uint64_t)a);
    default: return a; /* floor, ceil, round */
    }
}

static void m_un(int fn, mpfr_ptr r, mpfr_srcptr a)
{
    switch (fn) {
    case SL_FN_SIN: mpfr_sin(r, a, MPFR_RNDN); break;
    case SL_FN_COS: mpfr_cos(r, a, MPFR_RNDN); break;
    case SL_FN_TAN: mpfr_tan(r, a, MPFR_RNDN); break;
    case SL_FN_ASIN: mpfr_asin(r, a, MPFR_RNDN); break;
    case SL_FN_ACOS: mpfr_acos(r, a, MPFR_RNDN); break;
    case SL_FN_ATAN: mpfr_atan(r, a, MPFR_RNDN); break;
    case SL_FN_SINH: mpfr_sinh(r, a, MPFR_RNDN); break;
    case SL_FN_COSH: mpfr_cosh(r, a, MPFR_RNDN); break;
    case SL_FN_TANH: mpfr_tanh(r, a, MPFR_RNDN); break;
    case SL_FN_EXP: mpfr_exp(r, a, MPFR_RNDN); break;
    case SL_FN_LOG: mpfr_log(r, a, MPFR_RNDN); break;
    case SL_FN_LOG2: mpfr_log2(r, a, MPFR_RNDN); break;
    case SL_FN_LOG10: mpfr_log10(r, a, MPFR_RNDN); break;
    case SL_FN_SQRT: mpfr_sqrt(r, a, MPFR_RNDN); break;
    case SL_FN_CBRT: mpfr_cbrt(r, a, MPFR_RNDN); break;
    case SL_FN_ABS: mpfr_abs(r, a, MPFR_RNDN); break;
    case SL_FN_SIGN:
    case SL_TU_SGN:
        if (mpfr_nan_p(a))
            mpfr_set_zero(r, 1);
        else
            mpfr_set_si(r, mpfr_sgn(a), MPFR_RNDN);
        break;
    case SL_FN_FLOOR: mpfr_floor(r, a); break;
    case SL_FN_CEIL: mpfr_ceil(r, a); break;
    case SL_FN_ROUND: mpfr_rint(r, a, MPFR_RNDN); break;
    case SL_FN_SIGMOID: {
        mpfr_t t;
        mpfr_init2(t, mpfr_get_prec(r) + 16);
        mpfr_neg(t, a, MPFR_RNDN);
        mpfr_exp(t, t, MPFR_RNDN);
        mpfr_add_ui(t, t, 1, MPFR_RNDN);
        mpfr_ui_div(r, 1, t, MPFR_RNDN);
        mpfr_clear(t);
        break;
    }
    case SL_FN_RELU:
        if (mpfr_sgn(a) < 0)
            mpfr_set_zero(r, 1);
        else
            mpfr_set(r, a, MPFR_RNDN);
        break;
    case SL_FN_HEAVISIDE: mpfr_set_si(r, mpfr_sgn(a) > 0 && !mpfr_nan_p(a), MPFR_RNDN); break;
    case SL_TU_NEG: mpfr_neg(r, a, MPFR_RNDN); break;
    case SL_TU_RECIPROCAL: mpfr_ui_div(r, 1, a, MPFR_RNDN); break;
    case SL_TU_RSQRT: mpfr_rec_sqrt(r, a, MPFR_RNDN); break;
    case SL_TU_SQUARE: mpfr_sqr(r, a, MPFR_RNDN); break;
    case SL_TU_ONE_MINUS_SQ: {
        mpfr_t t;
        mpfr_init2(t, 2 * mpfr_get_prec(a));
        mpfr_sqr(t, a, MPFR_RNDN); /* exact */
        mpfr_ui_sub(r, 1, t, MPFR_RNDN);
        mpfr_clear(t);
        break;
    }
    default: mpfr_set_nan(r); break;
    }
}

typedef struct UnaryArgs {
    int fn;
    const void *x;
    void *r;
    int64_t n;
    bool f64;
} UnaryArgs;

/* r = fn(x) over n contiguous floats: relu and the libm functions one by
 * one; Sleef's (torch's vml) over all of them; sigmoid as torch's
 * cpu_kernel_vec: whole 16-float (8-double) blocks through the vectorised
 * kernel (Sleef exp), the tail through std::exp */
#define UNARY(T, VEC, VM, EXP, UN)                                                                             \
    do {                                                                                                       \
        const T *px = a->x;                                                                                    \
        T *pr = a->r;                                                                                          \
        if (fn == SL_FN_RELU) {                                                                                \
            for (int64_t i = 0; i < n; i++)                                                                    \
                pr[i] = px[i] < 0 ? (T)0 : px[i];                                                              \
        } else if (fn == SL_FN_SIGMOID) {                                                                      \
            int64_t vec = sl_vm_sleef() ? n - n % VEC : 0;                                                     \
            for (int64_t i = 0; i < vec; i++)                                                                  \
                pr[i] = (T)0 - px[i];                                                                          \
            VM(SL_FN_EXP, pr, pr, vec);                                                                        \
            for (int64_t i = 0; i < n; i++)                                                                    \
                pr[i] = i < vec ? (T)1 / ((T)1 + pr[i]) : (T)1 / ((T)1 + EXP(-px[i]));                         \
        } else if (sl_vm_has(fn)) {                                                                            \
            VM(fn, pr, px, n);                                                                                 \
        } else {                                                                                               \
            for (int64_t i = 0; i < n; i++)                                                                    \
                pr[i] = UN(fn, px[i]);                                                                         \
        }                                                                                                      \
    } while (0)

static void unary_kernel(const void *args)
{
    const UnaryArgs *a = args;
    int fn = a->fn;
    int64_t n = a->n;
    if (a->f64)
        UNARY(double, 8, sl_vm_f64, exp, d_un);
    else
        UNARY(float, 16, sl_vm_f32, expf, f_un);
}
#undef UNARY

SlTensor *sl_tensor_unary(int fn, const SlTensor *x, SlError *err)
{
    if (x->dtype == SL_DT_BOOL && fn == SL_TU_NEG)
        return sl_err(err, SL_E_TYPE,
                      "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert "
                      "a mask, use the `~` or `logical_not()` operator instead."),
               NULL;
    SlDType dt = x->dtype;
    if (fn == SL_TU_NOT) {
        if (sl_dtype_is_float(dt))
            return sl_err(err, SL_E_TYPE, "bitwise_not is only supported for integer and boolean tensors"), NULL;
    } else if (!sl_dtype_is_float(dt) && !keeps_int(fn)) {
        dt = SL_DT_F32;
    } else if (dt == SL_DT_BOOL && fn != SL_TU_NOT) {
        dt = fn == SL_FN_ABS || fn == SL_FN_RELU || fn == SL_FN_SIGN ? SL_DT_BOOL : SL_DT_I64;
    }
    SlTensor *X = as_type(x, (SlDTypeP){dt, sl_tensor_prec(x)});
    SlTensor *r = tensor_new(dt, x->ndim, x->shape, sl_tensor_prec(x));
    if ((dt == SL_DT_F32 || dt == SL_DT_F64) && sl_tensor_is_contiguous(X)) {
        /* the common case: one pass over contiguous floats, a kernel */
        UnaryArgs a = {.fn = fn, .x = (const char *)X->storage->data + (size_t)X->offset * dtype_size(dt),
                       .r = r->storage->data, .n = sl_tensor_numel(X), .f64 = dt == SL_DT_F64};
        sl_kernel(unary_kernel, &a, sizeof a, &X, 1, &r, 1, NULL, 0);
        sl_tensor_unref(X);
        return r;
    }
    Iter it;
    iter_init(&it, x->ndim, x->shape, r, X, NULL);
    switch (dt) {
    case SL_DT_F32: {
        float *pr = F32P(r), *px = F32P(X);
        ITER(&it, o, p, q, pr[o] = f_un(fn, px[p]));
        break;
    }
    case SL_DT_F64: {
        double *pr = F64P(r), *px = F64P(X);
        ITER(&it, o, p, q, pr[o] = d_un(fn, px[p]));
        break;
    }
    case SL_DT_I64: {
        int64_t *pr = I64P(r), *px = I64P(X);
        ITER(&it, o, p, q, pr[o] = i_un(fn, px[p]));
        break;
    }
    case SL_DT_BOOL: {
        bool *pr = BOOLP(r), *px = BOOLP(X);
        ITER(&it, o, p, q, pr[o] = fn == SL_TU_NOT ? !px[p] : px[p]);
        break;
    }
    case SL_DT_MPFR: {
        __mpfr_struct *pr = MPP(r), *px = MPP(X);
        ITER(&it, o, p, q, m_un(fn, &pr[o], &px[p]));
        break;
    }
    }
    sl_tensor_unref(X);
    return r;
}

SlTensor *sl_tensor_round_dec(const SlTensor *x, long decimals, SlError *err)
{
    if (!sl_dtype_is_float(x->dtype))
        return sl_tensor_clone(x);
    /* torch: neg_flag when decimals < 0; ten_pow = 10^|decimals|;
     * nearbyint(x * ten_pow) / ten_pow (or x / ten_pow * ten_pow) */
    bool neg = decimals < 0;
    long d = neg ? -decimals : decimals;
    SlTensor *r = tensor_new(x->dtype, x->ndim, x->shape, sl_tensor_prec(x));
    Iter it;
    iter_init(&it, x->ndim, x->shape, r, x, NULL);
    if (x->dtype == SL_DT_F32) {
        float tp = (float)pow(10.0, (double)d);
        float *pr = F32P(r), *px = F32P(x);
        ITER(&it, o, p, q, pr[o] = neg ? nearbyintf(px[p] / tp) * tp : nearbyintf(px[p] * tp) / tp);
    } else if (x->dtype == SL_DT_F64) {
        double tp = pow(10.0, (double)d);
        double *pr = F64P(r), *px = F64P(x);
        ITER(&it, o, p, q, pr[o] = neg ? nearbyint(px[p] / tp) * tp : nearbyint(px[p] * tp) / tp);
    } else {
        __mpfr_struct *pr = MPP(r), *px = MPP(x);
        ITER(&it, o, p, q, {
            mpfr_t tp;
            mpfr_init2(tp, mpfr_get_prec(&pr[o]) + 32);
            mpfr_ui_pow_ui(tp, 10, (unsigned long)d, MPFR_RNDN);
            if (neg) {
                mpfr_div(&pr[o], &px[p], tp, MPFR_RNDN);
                mpfr_rint(&pr[o], &pr[o], MPFR_RNDN);
                mpfr_mul(&pr[o], &pr[o], tp, MPFR_RNDN);
            } else {
                mpfr_mul(&pr[o], &px[p], tp, MPFR_RNDN);
                mpfr_rint(&pr[o], &pr[o], MPFR_RNDN);
                mpfr_div(&pr[o], &pr[o], tp, MPFR_RNDN);
            }
            mpfr_clear(tp);
        });
    }
    (void)err;
    return r;
}

SlTensor *sl_tensor_where(const SlTensor *cond, const SlTensor *a, const SlTensor *b, SlError *err)
{
    int nd, nd2;
    int64_t s1[SL_TENSOR_MAXDIM], s2[SL_TENSOR_MAXDIM];
    if (!broadcast(a->ndim, a->shape, b->ndim, b->shape, &nd, s1, err) ||
        !broadcast(cond->ndim, cond->shape, nd, s1, &nd2, s2, err))
        return NULL;
    SlTensor *ops[2] = {(SlTensor *)a, (SlTensor *)b};
    SlDTypeP ct = sl_result_type(ops, 2);
    int64_t fn = 1;
    for (int d = 0; d < nd2; d++)
        fn *= s2[d];
    int sc = flat_step(cond, nd2, s2, fn), sa = flat_step(a, nd2, s2, fn), sb = flat_step(b, nd2, s2, fn);
    if (sc >= 0 && sa >= 0 && sb >= 0 && cond->dtype == SL_DT_BOOL && a->dtype == ct.dt && b->dtype == ct.dt &&
        (ct.dt == SL_DT_F32 || ct.dt == SL_DT_F64)) {
        SlTensor *r = tensor_new(ct.dt, nd2, s2, 0);
        const bool *pc = BOOLP(cond) + cond->offset;
        if (ct.dt == SL_DT_F32) {
            const float *pa = F32P(a) + a->offset, *pb = F32P(b) + b->offset;
            float *pr = F32P(r);
            for (int64_t i = 0; i < fn; i++)
                pr[i] = pc[i * sc] ? pa[i * sa] : pb[i * sb];
        } else {
            const double *pa = F64P(a) + a->offset, *pb = F64P(b) + b->offset;
            double *pr = F64P(r);
            for (int64_t i = 0; i < fn; i++)
                pr[i] = pc[i * sc] ? pa[i * sa] : pb[i * sb];
        }
        return r;
    }
    SlTensor *A = as_type(a, ct), *B = as_type(b, ct);
    SlTensor *r = tensor_new(ct.dt, nd2, s2, ct.prec);
    Iter it;
    iter_init(&it, nd2, s2, r, A, B);
    Iter ic;
    iter_init(&ic, nd2, s2, cond, NULL, NULL);
    /* walk cond alongside: collect its offsets lazily */
    int64_t n = it.n, k = 0;
    int64_t *coff = xcalloc((size_t)n, sizeof *coff);
    ITER(&ic, o, p, q, coff[k++] = o);
    k = 0;
    ITER(&it, o, p, q, {
        bool c = cond->dtype == SL_DT_BOOL ? BOOLP(cond)[coff[k]] : raw_get_d(cond, coff[k]) != 0;
        k++;
        elem_copy(r, o, c ? A : B, c ? p : q);
    });
    free(coff);
    sl_tensor_unref(A);
    sl_tensor_unref(B);
    return r;
}

/* ---------------------------------------------------------------------------
 * In place
 * ------------------------------------------------------------------------- */

static bool inplace_check(const SlTensor *t, SlDTypeP rt, SlError *err)
{
    if (category(rt.dt) > category(t->dtype) || (rt.dt == SL_DT_I64 && t->dtype == SL_DT_BOOL))
        return sl_err(err, SL_E_TYPE, "result type %s can't be cast to the desired output type %s",
                      rt.dt == SL_DT_F32 ? "Float" : rt.dt == SL_DT_F64 ? "Double" : rt.dt == SL_DT_I64 ? "Long" : "MPFR",
                      t->dtype == SL_DT_I64 ? "Long" : t->dtype == SL_DT_BOOL ? "Bool" : "Float");
    return true;
}

/* t op= other for the common case of the training loop (gradient
 * accumulation, optimizer updates): one float dtype, both contiguous, of
 * one shape, computed as binary() would, without a temporary. */
static bool inplace_fast(SlTOp op, SlTensor *t, const SlTensor *other, double alpha, SlDTypeP rt)
{
    if (rt.dt == t->dtype && (t->dtype == SL_DT_F32 || t->dtype == SL_DT_F64) && other->ndim == 0 &&
        (op == SL_T_ADD || op == SL_T_MUL || op == SL_T_DIV) && sl_tensor_is_contiguous(t) &&
        t->storage != other->storage) {
        /* t op= a number (mean's division, scaling): the number converted to
         * t's dtype once, as binary() converts it */
        int64_t n = sl_tensor_numel(t);
        if (t->dtype == SL_DT_F32) {
            float *a = F32P(t) + t->offset, v = scalar_f(other), fal = (float)alpha;
            for (int64_t i = 0; i < n; i++)
                a[i] = op == SL_T_ADD ? (fal == 1.0f ? a[i] + v : fmaf(v, fal, a[i])) : op == SL_T_MUL ? a[i] * v
                                                                                          : a[i] / v;
        } else {
            double *a = F64P(t) + t->offset, v = scalar_d(other);
            for (int64_t i = 0; i < n; i++)
                a[i] = d_op(op, a[i], v, alpha);
        }
        sl_tensor_bump_version(t);
        return true;
    }
    if (t->dtype != other->dtype || (t->dtype != SL_DT_F32 && t->dtype != SL_DT_F64) || other->wrapped ||
        (op != SL_T_ADD && op != SL_T_MUL && op != SL_T_DIV) || t->ndim != other->ndim ||
        memcmp(t->shape, other->shape, (size_t)t->ndim * sizeof *t->shape) != 0 || !sl_tensor_is_contiguous(t) ||
        !sl_tensor_is_contiguous(other) || t->storage == other->storage)
        return false;
    int64_t n = sl_tensor_numel(t);
    if (t->dtype == SL_DT_F32) {
        float *a = F32P(t) + t->offset, fal = (float)alpha;
        const float *b = F32P(other) + other->offset;
        if (op == SL_T_ADD && fal == 1.0f)
            for (int64_t i = 0; i < n; i++)
                a[i] = a[i] + b[i];
        else if (op == SL_T_ADD)
            for (int64_t i = 0; i < n; i++)
                a[i] = fmaf(b[i], fal, a[i]);
        else if (op == SL_T_MUL)
            for (int64_t i = 0; i < n; i++)
                a[i] = a[i] * b[i];
        else
            for (int64_t i = 0; i < n; i++)
                a[i] = a[i] / b[i];
    } else {
        double *a = F64P(t) + t->offset;
        const double *b = F64P(other) + other->offset;
        if (op == SL_T_ADD && alpha == 1.0)
            for (int64_t i = 0; i < n; i++)
                a[i] = a[i] + b[i];
        else if (op == SL_T_ADD)
            for (int64_t i = 0; i < n; i++)
                a[i] = fma(b[i], alpha, a[i]);
        else if (op == SL_T_MUL)
            for (int64_t i = 0; i < n; i++)
                a[i] = a[i] * b[i];
        else
            for (int64_t i = 0; i < n; i++)
                a[i] = a[i] / b[i];
    }
    sl_tensor_bump_version(t); /* an in-place change, as the general path's copy_ counts it */
    return true;
}

static bool inplace_binary(SlTOp op, SlTensor *t, const SlTensor *other, double alpha, SlError *err)
{
    SlTensor *ops[2] = {t, (SlTensor *)other};
    SlDTypeP rt = sl_result_type(ops, 2);
    if (op == SL_T_DIV && !sl_dtype_is_float(rt.dt))
        rt.dt = SL_DT_F32;
    if (!inplace_check(t, rt, err))
        return false;
    if (inplace_fast(op, t, other, alpha, rt))
        return true;
    SlTensor *r = binary(op, t, other, alpha, err);
    if (!r)
        return false;
    bool ok = sl_tensor_copy_(t, r, err);
    sl_tensor_unref(r);
    return ok;
}

bool sl_tensor_add_(SlTensor *t, const SlTensor *other, double alpha, SlError *err)
{
    return inplace_binary(SL_T_ADD, t, other, alpha, err);
}

bool sl_tensor_mul_(SlTensor *t, const SlTensor *other, SlError *err)
{
    return inplace_binary(SL_T_MUL, t, other, 1.0, err);
}

bool sl_tensor_div_(SlTensor *t, const SlTensor *other, SlError *err)
{
    return inplace_binary(SL_T_DIV, t, other, 1.0, err);
}

/* ---------------------------------------------------------------------------
 * Reductions
 *
 * Sums follow PyTorch's cascade_sum (aten/src/ATen/native/cpu/SumKernel.cpp)
 * with AVX2 vectors (8 floats, 4 doubles): the order of additions is what
 * decides the last bit of a float32 sum.
 * ------------------------------------------------------------------------- */

static int64_t ceil_log2(int64_t x)
{
    if (x <= 1)
        return 0;
    int64_t r = 0;
    uint64_t v = (uint64_t)(x - 1);
    while (v) {
        r++;
        v >>= 1;
    }
    return r;
}

/* multi_row_sum: nrows accumulators of L lanes; element (i, k, lane) is
 * base[i*row_stride + k*col_stride + lane]. */
#define DEFINE_CASCADE(T, NAME)                                                                                \
    static void NAME##_multi_row_sum(const T *base, int64_t row_stride, int64_t col_stride, int64_t size,     \
                                     int nrows, int L, T *out)                                                 \
    {                                                                                                          \
        enum { NUM_LEVELS = 4 };                                                                               \
        int64_t level_power = ceil_log2(size) / NUM_LEVELS;                                                    \
        if (level_power < 4)                                                                                   \
            level_power = 4;                                                                                   \
        int64_t level_step = (int64_t)1 << level_power, level_mask = level_step - 1;                           \
        if (size < level_step) {                                                                               \
            /* no level is ever carried: level 0 sums in order from +0 (so it is                               \
             * never -0) and the zero levels added to it change nothing */                                     \
            for (int k = 0; k < nrows; k++)                                                                    \
                for (int l = 0; l < L; l++) {                                                                  \
                    T s = 0;                                                                                   \
                    for (int64_t i = 0; i < size; i++)                                                         \
                        s += base[i * row_stride + k * col_stride + l];                                        \
                    out[k * L + l] = s;                                                                        \
                }                                                                                              \
            return;                                                                                            \
        }                                                                                                      \
        T acc[NUM_LEVELS][4][8];                                                                               \
        memset(acc, 0, sizeof acc);                                                                            \
        int64_t i = 0;                                                                                         \
        for (; i + level_step <= size;) {                                                                      \
            for (int64_t j = 0; j < level_step; j++, i++)                                                      \
                for (int k = 0; k < nrows; k++)                                                                \
                    for (int l = 0; l < L; l++)                                                                \
                        acc[0][k][l] += base[i * row_stride + k * col_stride + l];                             \
            for (int j = 1; j < NUM_LEVELS; j++) {                                                             \
                for (int k = 0; k < nrows; k++)                                                                \
                    for (int l = 0; l < L; l++) {                                                              \
                        acc[j][k][l] += acc[j - 1][k][l];                                                      \
                        acc[j - 1][k][l] = 0;                                                                  \
                    }                                                                                          \
                int64_t mask = level_mask << (j * level_power);                                                \
                if ((i & mask) != 0)                                                                           \
                    break;                                                                                     \
            }                                                                                                  \
        }                                                                                                      \
        for (; i < size; i++)                                                                                  \
            for (int k = 0; k < nrows; k++)                                                                    \
                for (int l = 0; l < L; l++)                                                                    \
                    acc[0][k][l] += base[i * row_stride + k * col_stride + l];                                 \
        for (int j = 1; j < NUM_LEVELS; j++)                                                                   \
            for (int k = 0; k < nrows; k++)                                                                    \
                for (int l = 0; l < L; l++)                                                                    \
                    acc[0][k][l] += acc[j][k][l];                                                              \
        for (int k = 0; k < nrows; k++)                                                                        \
            for (int l = 0; l < L; l++)                                                                        \
                out[k * L + l] = acc[0][k][l];                                                                 \
    }                                                                                                          \
    /* row_sum: L lanes, elements base[i*stride + lane] for i < size */                                        \
    static void NAME##_row_sum(const T *base, int64_t stride, int64_t size, int L, T *out)                     \
    {                                                                                                          \
        T ps[4 * 8];                                                                                           \
        int64_t size_ilp = size / 4;                                                                           \
        NAME##_multi_row_sum(base, stride * 4, stride, size_ilp, 4, L, ps);                                    \
        for (int64_t i = size_ilp * 4; i < size; i++)                                                          \
            for (int l = 0; l < L; l++)                                                                        \
                ps[l] += base[i * stride + l];                                                                 \
        for (int k = 1; k < 4; k++)                                                                            \
            for (int l = 0; l < L; l++)                                                                        \
                ps[l] += ps[k * L + l];                                                                        \
        for (int l = 0; l < L; l++)                                                                            \
            out[l] = ps[l];                                                                                    \
    }                                                                                                          \
    /* One lane of row_sum for size < 64 (no level is carried): four                                       \
     * partial sums over every fourth element, the rest into the first */                                      \
    static T NAME##_ilp1(const T *base, int64_t stride, int64_t size)                                          \
    {                                                                                                          \
        T p0 = 0, p1 = 0, p2 = 0, p3 = 0;                                                                      \
        int64_t i = 0;                                                                                         \
        for (; i + 4 <= size; i += 4) {                                                                        \
            p0 += base[i * stride];                                                                            \
            p1 += base[(i + 1) * stride];                                                                      \
            p2 += base[(i + 2) * stride];                                                                      \
            p3 += base[(i + 3) * stride];                                                                      \
        }                                                                                                      \
        for (; i < size; i++)                                                                                  \
            p0 += base[i * stride];                                                                            \
        return ((p0 + p1) + p2) + p3;                                                                          \
    }                                                                                                          \
    /* sum of size0 elements at base with stride (in elements) */                                              \
    static T NAME##_inner_sum(const T *base, int64_t stride, int64_t size0, int V)                             \
    {                                                                                                          \
        T r;                                                                                                   \
        if (!(stride == 1 && size0 >= V) && size0 < 64)                                                        \
            return (T)0 + NAME##_ilp1(base, stride, size0);                                                    \
        if (stride == 1 && size0 >= V) {                                                                       \
            int64_t vec_size = size0 / V;                                                                      \
            T vacc[8];                                                                                         \
            NAME##_row_sum(base, V, vec_size, V, vacc);                                                        \
            T fin = 0;                                                                                         \
            for (int64_t k = vec_size * V; k < size0; k++)                                                     \
                fin += base[k];                                                                                \
            for (int k = 0; k < V; k++)                                                                        \
                fin += vacc[k];                                                                                \
            r = fin;                                                                                           \
        } else {                                                                                               \
            NAME##_row_sum(base, stride, size0, 1, &r);                                                        \
        }                                                                                                      \
        return (T)0 + r;                                                                                       \
    }                                                                                                          \
    /* columns j < size1 (contiguous, stride 1) each summed over size0 rows of row_stride */                  \
    static void NAME##_outer_sum(const T *base, int64_t row_stride, int64_t size0, int64_t size1, int V,       \
                                 T *out, int64_t out_stride)                                                   \
    {                                                                                                          \
        int64_t j = 0;                                                                                         \
        T tmp[4 * 8];                                                                                          \
        if (size0 < 16) {                                                                                      \
            /* few rows: no level is carried anywhere, so each column is                                       \
             * either one chain (the multi-row blocks below) or row_sum's                                      \
             * four partial sums (the rest) */                                                                 \
            int64_t direct = size1 >= V ? size1 / (4 * V) * (4 * V) : size1 / 4 * 4;                           \
            for (; j < direct; j++) {                                                                          \
                T s = 0;                                                                                       \
                for (int64_t i = 0; i < size0; i++)                                                            \
                    s += base[i * row_stride + j];                                                             \
                out[j * out_stride] = (T)0 + s;                                                                \
            }                                                                                                  \
            for (; j < size1; j++)                                                                             \
                out[j * out_stride] = (T)0 + NAME##_ilp1(base + j, row_stride, size0);                         \
            return;                                                                                            \
        }                                                                                                      \
        if (size1 >= V) {                                                                                      \
            for (; j + 4 * V <= size1; j += 4 * V) {                                                           \
                NAME##_multi_row_sum(base + j, row_stride, V, size0, 4, V, tmp);                               \
                for (int k = 0; k < 4 * V; k++)                                                                \
                    out[(j + k) * out_stride] = (T)0 + tmp[k];                                                 \
            }                                                                                                  \
            for (; j + V <= size1; j += V) {                                                                   \
                NAME##_row_sum(base + j, row_stride, size0, V, tmp);                                           \
                for (int k = 0; k < V; k++)                                                                    \
                    out[(j + k) * out_stride] = (T)0 + tmp[k];                                                 \
            }                                                                                                  \
            for (; j < size1; j++) {                                                                           \
                NAME##_row_sum(base + j, row_stride, size0, 1, tmp);                                           \
                out[j * out_stride] = (T)0 + tmp[0];                                                           \
            }                                                                                                  \
        } else {                                                                                               \
            /* scalar_outer_sum */                                                                             \
            for (; j + 3 < size1; j += 4) {                                                                    \
                NAME##_multi_row_sum(base + j, row_stride, 1, size0, 4, 1, tmp);                               \
                for (int k = 0; k < 4; k++)                                                                    \
                    out[(j + k) * out_stride] = (T)0 + tmp[k];                                                 \
            }                                                                                                  \
            for (; j < size1; j++) {                                                                           \
                NAME##_row_sum(base + j, row_stride, size0, 1, tmp);                                           \
                out[j * out_stride] = (T)0 + tmp[0];                                                           \
            }                                                                                                  \
        }                                                                                                      \
    }                                                                                                          \
    /* one 2-d block of cascade_sum (strides in elements); out accumulates */                                   \
    static void NAME##_block(const T *in, T *out, int64_t is0, int64_t is1, int64_t os0, int64_t os1, int64_t size0, \
                          int64_t size1, int V)                                                                  \
    {                                                                                                            \
        if (os0 != 0 && os1 == 0) {                                                                              \
            int64_t t;                                                                                           \
            t = is0, is0 = is1, is1 = t;                                                                         \
            t = os0, os0 = os1, os1 = t;                                                                         \
            t = size0, size0 = size1, size1 = t;                                                                 \
        }                                                                                                        \
        T tmp[4 * 8];                                                                                            \
        if (os0 != 0 && os1 != 0) {                                                                              \
            for (int64_t j = 0; j < size1; j++)                                                                  \
                for (int64_t i = 0; i < size0; i++)                                                              \
                    out[i * os0 + j * os1] += in[i * is0 + j * is1];                                             \
            return;                                                                                              \
        }                                                                                                        \
        int64_t ost = os1;                                                                                       \
        if (is0 == 1 && size0 >= V) {                                                                            \
            int64_t vs = size0 / V;                                                                              \
            for (int64_t j = 0; j < size1; j++) {                                                                \
                const T *row = in + j * is1;                                                                     \
                NAME##_row_sum(row, V, vs, V, tmp);                                                                      \
                T fin = 0;                                                                                       \
                for (int64_t k = vs * V; k < size0; k++)                                                         \
                    fin += row[k];                                                                               \
                for (int k = 0; k < V; k++)                                                                      \
                    fin += tmp[k];                                                                               \
                out[j * ost] += fin;                                                                             \
            }                                                                                                    \
        } else if (is1 == 1 && size1 >= V) {                                                                     \
            int64_t j = 0;                                                                                       \
            for (; j + 4 * V <= size1; j += 4 * V) {                                                             \
                NAME##_multi_row_sum(in + j, is0, V, size0, 4, V, tmp);                                                       \
                for (int k = 0; k < 4 * V; k++)                                                                  \
                    out[(j + k) * ost] += tmp[k];                                                                \
            }                                                                                                    \
            for (; j + V <= size1; j += V) {                                                                     \
                NAME##_row_sum(in + j, is0, size0, V, tmp);                                                              \
                for (int k = 0; k < V; k++)                                                                      \
                    out[(j + k) * ost] += tmp[k];                                                                \
            }                                                                                                    \
            for (; j < size1; j++) {                                                                             \
                NAME##_row_sum(in + j, is0, size0, 1, tmp);                                                              \
                out[j * ost] += tmp[0];                                                                          \
            }                                                                                                    \
        } else if (is0 < is1) {                                                                                  \
            for (int64_t j = 0; j < size1; j++) {                                                                \
                NAME##_row_sum(in + j * is1, is0, size0, 1, tmp);                                                        \
                out[j * ost] += tmp[0];                                                                          \
            }                                                                                                    \
        } else {                                                                                                 \
            int64_t j = 0;                                                                                       \
            for (; j + 3 < size1; j += 4) {                                                                      \
                NAME##_multi_row_sum(in + j * is1, is0, is1, size0, 4, 1, tmp);                                               \
                for (int k = 0; k < 4; k++)                                                                      \
                    out[(j + k) * ost] += tmp[k];                                                                \
            }                                                                                                    \
            for (; j < size1; j++) {                                                                             \
                NAME##_row_sum(in + j * is1, is0, size0, 1, tmp);                                                        \
                out[j * ost] += tmp[0];                                                                          \
            }                                                                                                    \
        }                                                                                                        \
    }

DEFINE_CASCADE(float, f32)
DEFINE_CASCADE(double, f64)

/* Sum x over the dims in mask into r (zeroed, of the reduced shape) in
 * torch's order: SumKernel.cpp's cascade_sum driven as a TensorIterator
 * drives it -- dims reordered with the reduced ones innermost, by stride
 * (so a transposed tensor is summed in memory order), adjacent dims
 * coalesced, then 2-d blocks.  float32/float64. */
static void torch_order_sum(const SlTensor *x, uint32_t mask, SlTensor *r)
{
    int n = x->ndim;
    int64_t ostr[SL_TENSOR_MAXDIM], shape[SL_TENSOR_MAXDIM], is[SL_TENSOR_MAXDIM];
    /* the output's strides over x's dims: 0 where reduced */
    int64_t st = 1;
    for (int d = n - 1; d >= 0; d--) {
        ostr[d] = mask & (1u << d) ? 0 : st;
        if (!(mask & (1u << d)))
            st *= x->shape[d];
    }
    /* reorder_dimensions: perm starts n-1 .. 0; insertion sort */
    int perm[SL_TENSOR_MAXDIM];
    for (int i = 0; i < n; i++)
        perm[i] = n - 1 - i;
    for (int i = 1; i < n; i++) {
        int d1 = i;
        for (int d0 = i - 1; d0 >= 0; d0--) {
            int a = perm[d0], b = perm[d1], cmp = 0;
            /* the output: reduced dims to the front */
            if ((ostr[a] == 0) != (ostr[b] == 0)) {
                cmp = ostr[b] == 0 ? 1 : -1;
            } else {
                const int64_t *ss[2] = {ostr, x->strides};
                for (int op = 0; op < 2 && cmp == 0; op++) {
                    int64_t s0 = ss[op][a], s1 = ss[op][b];
                    if (s0 == 0 || s1 == 0)
                        continue;
                    if (s0 < s1) {
                        cmp = -1;
                        break;
                    }
                    if (s0 > s1) {
                        cmp = 1;
                        break;
                    }
                    if (x->shape[a] > x->shape[b])
                        cmp = 1;
                }
            }
            if (cmp > 0) {
                int t = perm[d0];
                perm[d0] = perm[d1];
                perm[d1] = t;
                d1 = d0;
            } else if (cmp < 0) {
                break;
            }
        }
    }
    int64_t os[SL_TENSOR_MAXDIM];
    for (int i = 0; i < n; i++) {
        shape[i] = x->shape[perm[i]];
        is[i] = x->strides[perm[i]];
        os[i] = ostr[perm[i]];
    }
    /* coalesce_dimensions */
    int prev = 0;
    for (int d = 1; d < n; d++) {
        bool ok = shape[prev] == 1 || shape[d] == 1 ||
                  (shape[prev] * is[prev] == is[d] && shape[prev] * os[prev] == os[d]);
        if (ok) {
            if (shape[prev] == 1) {
                is[prev] = is[d];
                os[prev] = os[d];
            }
            shape[prev] *= shape[d];
        } else {
            prev++;
            if (prev != d) {
                is[prev] = is[d];
                os[prev] = os[d];
                shape[prev] = shape[d];
            }
        }
    }
    n = prev + 1;
    int64_t size0 = shape[0], size1 = n > 1 ? shape[1] : 1, is1 = n > 1 ? is[1] : 0, os1 = n > 1 ? os[1] : 0;
    int64_t oc[SL_TENSOR_MAXDIM] = {0}, nouter = 1;
    for (int d = 2; d < n; d++)
        nouter *= shape[d];
    for (int64_t o = 0; o < nouter; o++) {
        int64_t io = x->offset, oo = 0;
        for (int d = 2; d < n; d++) {
            io += oc[d] * is[d];
            oo += oc[d] * os[d];
        }
        if (x->dtype == SL_DT_F32)
            f32_block(F32P(x) + io, F32P(r) + oo, is[0], is1, os[0], os1, size0, size1, 8);
        else
            f64_block(F64P(x) + io, F64P(r) + oo, is[0], is1, os[0], os1, size0, size1, 4);
        for (int d = 2; d < n; d++) { /* dim 2 varies fastest */
            if (++oc[d] < shape[d])
                break;
            oc[d] = 0;
        }
    }
}

/* Gather the elements of t into a contiguous buffer in an order where the
 * reduced dims (mask) come last; returns the buffer as a tensor of shape
 * (outer, inner). */
static SlTensor *reduce_layout(const SlTensor *t, uint32_t mask, int64_t *outer, int64_t *inner)
{
    int perm[SL_TENSOR_MAXDIM], k = 0;
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < t->ndim; d++)
        if (!(mask & (1u << d))) {
            perm[k++] = d;
            *outer *= t->shape[d];
        }
    for (int d = 0; d < t->ndim; d++)
        if (mask & (1u << d)) {
            perm[k++] = d;
            *inner *= t->shape[d];
        }
    /* the permuted order is t's own when only size-1 dims move */
    bool identity = true;
    for (int d = 0, last = -1; d < t->ndim; d++)
        if (t->shape[perm[d]] != 1) {
            if (perm[d] < last)
                identity = false;
            last = perm[d];
        }
    if (identity && sl_tensor_is_contiguous(t))
        return sl_tensor_ref((SlTensor *)t);
    SlTensor *p = sl_tensor_permute(t, perm, NULL);
    SlTensor *c = sl_tensor_contiguous(p);
    sl_tensor_unref(p);
    return c;
}

static bool reduce_shape(const SlTensor *t, uint32_t mask, bool keepdim, int *nd, int64_t *shape)
{
    int k = 0;
    for (int d = 0; d < t->ndim; d++) {
        if (mask & (1u << d)) {
            if (keepdim)
                shape[k++] = 1;
        } else {
            shape[k++] = t->shape[d];
        }
    }
    *nd = k;
    return true;
}

/* Sums as kernels: cols columns each summed over rows rows (outer, the
 * rows row_stride apart), or rows runs of cols elements each summed
 * (inner); then, for a mean, each result divided by div. */
typedef struct SumArgs {
    const void *x;
    void *r;
    int64_t rows, cols, row_stride;
    bool inner, f64;
} SumArgs;

static void sum_kernel(const void *args)
{
    const SumArgs *a = args;
    if (!a->f64) {
        if (a->inner)
            for (int64_t o = 0; o < a->rows; o++)
                ((float *)a->r)[o] = f32_inner_sum((const float *)a->x + o * a->cols, 1, a->cols, 8);
        else
            f32_outer_sum(a->x, a->row_stride, a->rows, a->cols, 8, a->r, 1);
    } else {
        if (a->inner)
            for (int64_t o = 0; o < a->rows; o++)
                ((double *)a->r)[o] = f64_inner_sum((const double *)a->x + o * a->cols, 1, a->cols, 4);
        else
            f64_outer_sum(a->x, a->row_stride, a->rows, a->cols, 4, a->r, 1);
    }
}

typedef struct DivArgs {
    void *a;
    int64_t m, n;
    bool f64;
} DivArgs;

/* a[i] /= n, the count converted to a's dtype, as div_ by a wrapped int does */
static void div_count_kernel(const void *args)
{
    const DivArgs *d = args;
    if (!d->f64) {
        float *a = d->a, v = (float)d->n;
        for (int64_t i = 0; i < d->m; i++)
            a[i] = a[i] / v;
    } else {
        double *a = d->a, v = (double)d->n;
        for (int64_t i = 0; i < d->m; i++)
            a[i] = a[i] / v;
    }
}

/* torch_order_sum as a kernel: copies of the two headers (their storages
 * are the plan's to keep), r zeroed first */
typedef struct OrderSumArgs {
    SlTensor x, r;
    uint32_t mask;
} OrderSumArgs;

static void order_sum_kernel(const void *args)
{
    const OrderSumArgs *a = args;
    SlTensor r = a->r;
    memset(r.storage->data, 0, (size_t)sl_tensor_numel(&r) * dtype_size(r.dtype));
    torch_order_sum(&a->x, a->mask, &r);
}

static void run_sum(const SlTensor *t, const void *x, SlTensor *r, int64_t rows, int64_t cols, int64_t row_stride,
                    bool inner)
{
    SumArgs a = {.x = x, .r = r->storage->data, .rows = rows, .cols = cols, .row_stride = row_stride,
                 .inner = inner, .f64 = t->dtype == SL_DT_F64};
    SlTensor *in = (SlTensor *)t;
    sl_kernel(sum_kernel, &a, sizeof a, &in, 1, &r, 1, NULL, 0);
}

SlTensor *sl_tensor_sum(const SlTensor *t, uint32_t mask, bool keepdim, SlError *err)
{
    (void)err;
    mask = t->ndim == 0 ? 0 : mask & (uint32_t)((UINT64_C(1) << t->ndim) - 1);
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM] = {0};
    reduce_shape(t, mask, keepdim, &nd, shape);
    SlDType rdt = sl_dtype_is_float(t->dtype) ? t->dtype : SL_DT_I64;
    SlTensor *r = tensor_new(rdt, nd, shape, sl_tensor_prec(t));
    if (t->ndim == 0 || mask == 0) {
        Iter it;
        iter_init(&it, t->ndim, t->shape, r, t, NULL);
        ITER(&it, o, p, q, elem_copy(r, o, t, p));
        if (rdt == SL_DT_F32)
            for (int64_t i = 0, n = sl_tensor_numel(r); i < n; i++)
                F32P(r)[i] = 0.0f + F32P(r)[i];
        else if (rdt == SL_DT_F64)
            for (int64_t i = 0, n = sl_tensor_numel(r); i < n; i++)
                F64P(r)[i] = 0.0 + F64P(r)[i];
        return r;
    }
    /* One run of reduced dims d0..d1 in a contiguous float tensor: torch's
     * vectorised inner sum (run at the end) or outer sum (columns after
     * it).  Anything else: the reduced elements gathered in order. */
    int d0 = -1, d1 = -1;
    bool one_run = true;
    for (int d = 0; d < t->ndim; d++)
        if (mask & (1u << d)) {
            if (d0 < 0)
                d0 = d;
            else if (d1 != d - 1)
                one_run = false;
            d1 = d;
        }
    /* size-1 dims after the run don't count: torch drops them, so summing
     * a (17, 1) tensor over dim 0 is an inner sum */
    int64_t after = 1;
    for (int d = d1 + 1; d < t->ndim; d++)
        after *= t->shape[d];
    if ((rdt == SL_DT_F32 || rdt == SL_DT_F64) && one_run && sl_tensor_is_contiguous(t) && after > 1) {
        int64_t pre = 1, post = 1, size0 = 1;
        for (int d = 0; d < d0; d++)
            pre *= t->shape[d];
        for (int d = d0; d <= d1; d++)
            size0 *= t->shape[d];
        for (int d = d1 + 1; d < t->ndim; d++)
            post *= t->shape[d];
        if (pre == 1) {
            run_sum(t, (const char *)t->storage->data + (size_t)t->offset * dtype_size(rdt), r, size0, post, post,
                    false);
            return r;
        }
        for (int64_t a = 0; a < pre; a++) {
            if (rdt == SL_DT_F32)
                f32_outer_sum(F32P(t) + t->offset + a * size0 * post, post, size0, post, 8, F32P(r) + a * post, 1);
            else
                f64_outer_sum(F64P(t) + t->offset + a * size0 * post, post, size0, post, 4, F64P(r) + a * post, 1);
        }
        return r;
    }
    /* the gathered inner sum below is torch's order only for a contiguous
     * tensor reduced over its trailing dims; anything else (a transposed
     * tensor, dims apart) goes as torch's TensorIterator takes it */
    if ((rdt == SL_DT_F32 || rdt == SL_DT_F64) && t->dtype == rdt &&
        !(one_run && sl_tensor_is_contiguous(t) && after == 1)) {
        OrderSumArgs a = {.x = *t, .r = *r, .mask = mask};
        SlTensor *in = (SlTensor *)t;
        sl_kernel(order_sum_kernel, &a, sizeof a, &in, 1, &r, 1, NULL, 0);
        return r;
    }
    int64_t outer, inner;
    SlTensor *c = reduce_layout(t, mask, &outer, &inner);
    if ((rdt == SL_DT_F32 || rdt == SL_DT_F64) && c->dtype == rdt) {
        run_sum(c, (const char *)c->storage->data + (size_t)c->offset * dtype_size(rdt), r, outer, inner, inner,
                true);
        sl_tensor_unref(c);
        return r;
    }
    switch (rdt) {
    case SL_DT_F32:
        for (int64_t o = 0; o < outer; o++)
            F32P(r)[o] = f32_inner_sum(F32P(c) + c->offset + o * inner, 1, inner, 8);
        break;
    case SL_DT_F64:
        for (int64_t o = 0; o < outer; o++)
            F64P(r)[o] = f64_inner_sum(F64P(c) + c->offset + o * inner, 1, inner, 4);
        break;
    case SL_DT_I64:
        for (int64_t o = 0; o < outer; o++) {
            uint64_t s = 0;
            for (int64_t i = 0; i < inner; i++)
                s += (uint64_t)(c->dtype == SL_DT_BOOL ? BOOLP(c)[c->offset + o * inner + i]
                                                        : I64P(c)[c->offset + o * inner + i]);
            I64P(r)[o] = (int64_t)s;
        }
        break;
    case SL_DT_MPFR:
        for (int64_t o = 0; o < outer; o++) {
            mpfr_ptr acc = &MPP(r)[o];
            mpfr_set_zero(acc, 1);
            for (int64_t i = 0; i < inner; i++)
                mpfr_add(acc, acc, &MPP(c)[c->offset + o * inner + i], MPFR_RNDN);
        }
        break;
    default: break;
    }
    sl_tensor_unref(c);
    return r;
}

SlTensor *sl_tensor_mean(const SlTensor *t, uint32_t mask, bool keepdim, SlError *err)
{
    if (!sl_dtype_is_float(t->dtype))
        return sl_err(err, SL_E_TYPE,
                      "mean(): could not infer output dtype. Input dtype must be either a floating point or "
                      "complex dtype. Got: %s",
                      t->dtype == SL_DT_BOOL ? "Bool" : "Long"),
               NULL;
    SlTensor *s = sl_tensor_sum(t, mask, keepdim, err);
    if (!s)
        return NULL;
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        if (mask & (1u << d))
            n *= t->shape[d];
    if ((s->dtype == SL_DT_F32 || s->dtype == SL_DT_F64) && sl_tensor_is_contiguous(s)) {
        /* s /= n, the count converted to s's dtype, as div_ by a wrapped int does */
        bool f64 = s->dtype == SL_DT_F64;
        DivArgs d = {.a = f64 ? (void *)(F64P(s) + s->offset) : (void *)(F32P(s) + s->offset),
                     .m = sl_tensor_numel(s), .n = n, .f64 = f64};
        sl_kernel(div_count_kernel, &d, sizeof d, NULL, 0, NULL, 0, &s, 1);
        sl_tensor_bump_version(s);
        return s;
    }
    SlTensor *k = sl_tensor_scalar_i(SL_DT_I64, n, 0);
    k->wrapped = true;
    bool ok = sl_tensor_div_(s, k, err);
    sl_tensor_unref(k);
    if (!ok) {
        sl_tensor_unref(s);
        return NULL;
    }
    return s;
}

/* a > b for max (NaN wins), a < b for min */
static bool better_d(double a, double b, bool is_min)
{
    if (a != a)
        return b == b;
    if (b != b)
        return false;
    return is_min ? a < b : a > b;
}

static bool better_at(const SlTensor *c, int64_t i, int64_t j, bool is_min)
{
    switch (c->dtype) {
    case SL_DT_I64: return is_min ? I64P(c)[i] < I64P(c)[j] : I64P(c)[i] > I64P(c)[j];
    case SL_DT_BOOL: return is_min ? BOOLP(c)[i] < BOOLP(c)[j] : BOOLP(c)[i] > BOOLP(c)[j];
    case SL_DT_MPFR: {
        mpfr_srcptr a = &MPP(c)[i], b = &MPP(c)[j];
        if (mpfr_nan_p(a))
            return !mpfr_nan_p(b);
        if (mpfr_nan_p(b))
            return false;
        return is_min ? mpfr_less_p(a, b) : mpfr_greater_p(a, b);
    }
    default: return better_d(raw_get_d(c, i), raw_get_d(c, j), is_min);
    }
}

SlTensor *sl_tensor_max_all(const SlTensor *t, bool is_min, SlError *err)
{
    int64_t n = sl_tensor_numel(t);
    if (n == 0)
        return sl_err(err, SL_E_VALUE,
                      "%s(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction "
                      "dim with the 'dim' argument.",
                      is_min ? "min" : "max"),
               NULL;
    SlTensor *c = sl_tensor_contiguous(t);
    int64_t best = c->offset;
    for (int64_t i = 1; i < n; i++)
        if (better_at(c, c->offset + i, best, is_min))
            best = c->offset + i;
    SlTensor *r = tensor_new(t->dtype, 0, NULL, sl_tensor_prec(t));
    elem_copy(r, 0, c, best);
    sl_tensor_unref(c);
    return r;
}

SlTensor *sl_tensor_argmax_all(const SlTensor *t, bool is_min, SlError *err)
{
    int64_t n = sl_tensor_numel(t);
    if (n == 0)
        return sl_err(err, SL_E_VALUE, "%s(): Expected reduction dim to be specified for input.numel() == 0.",
                      is_min ? "argmin" : "argmax"),
               NULL;
    SlTensor *c = sl_tensor_contiguous(t);
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (better_at(c, c->offset + i, c->offset + best, is_min))
            best = i;
    sl_tensor_unref(c);
    return sl_tensor_scalar_i(SL_DT_I64, best, 0);
}

bool sl_tensor_max_dim(const SlTensor *t, int dim, bool keepdim, bool is_min, SlTensor **values,
                       SlTensor **indices, SlError *err)
{
    if (!sl_tensor_wrap_dim(&dim, t->ndim, err))
        return false;
    if (t->ndim > 0 && t->shape[dim] == 0)
        return sl_err(err, SL_E_TENSOR_INDEX,
                      "%s(): Expected reduction dim %d to have non-zero size.", is_min ? "min" : "max", dim);
    uint32_t mask = t->ndim ? 1u << dim : 0;
    int nd;
    int64_t shape[SL_TENSOR_MAXDIM] = {0}, outer, inner;
    reduce_shape(t, mask, keepdim, &nd, shape);
    SlTensor *c = reduce_layout(t, mask, &outer, &inner);
    SlTensor *v = tensor_new(t->dtype, nd, shape, sl_tensor_prec(t));
    SlTensor *ix = tensor_new(SL_DT_I64, nd, shape, 0);
    for (int64_t o = 0; o < outer; o++) {
        int64_t base = c->offset + o * inner, best = 0;
        for (int64_t i = 1; i < inner; i++)
            if (better_at(c, base + i, base + best, is_min))
                best = i;
        elem_copy(v, o, c, base + best);
        I64P(ix)[o] = best;
    }
    sl_tensor_unref(c);
    *values = v;
    *indices = ix;
    return true;
}

SlTensor *sl_tensor_sum_to(const SlTensor *t, int ndim, const int64_t *shape, SlError *err)
{
    int lead = t->ndim - ndim;
    uint32_t mask = 0;
    for (int d = 0; d < t->ndim; d++) {
        if (d < lead)
            mask |= 1u << d;
        else if (shape[d - lead] == 1 && t->shape[d] != 1)
            mask |= 1u << d;
    }
    if (mask == 0 && lead == 0)
        return sl_tensor_ref((SlTensor *)t);
    if (mask == (1u << lead) - 1 && memcmp(t->shape + lead, shape, (size_t)ndim * sizeof *shape) == 0) {
        /* only leading dims go: the sum has the shape wanted */
        int64_t rows = 1, cols = 1;
        for (int d = 0; d < lead; d++)
            rows *= t->shape[d];
        for (int d = lead; d < t->ndim; d++)
            cols *= t->shape[d];
        if ((t->dtype == SL_DT_F32 || t->dtype == SL_DT_F64) && cols > 1 && sl_tensor_is_contiguous(t)) {
            /* a bias's gradient: sl_tensor_sum's outer sum, called directly */
            SlTensor *r = tensor_new(t->dtype, ndim, shape, 0);
            run_sum(t, (const char *)t->storage->data + (size_t)t->offset * dtype_size(t->dtype), r, rows, cols,
                    cols, false);
            return r;
        }
        if (t->dtype == SL_DT_MPFR && sl_tensor_is_contiguous(t)) {
            /* each column from zero over the rows in order, as sl_tensor_sum
             * does on its gathered copy */
            SlTensor *r = tensor_new(t->dtype, ndim, shape, t->storage->prec);
            const __mpfr_struct *x = MPP(t) + t->offset;
            for (int64_t j = 0; j < cols; j++) {
                mpfr_ptr acc = &MPP(r)[j];
                mpfr_set_zero(acc, 1);
                for (int64_t i = 0; i < rows; i++)
                    mpfr_add(acc, acc, &x[i * cols + j], MPFR_RNDN);
            }
            return r;
        }
        return sl_tensor_sum(t, mask, false, err);
    }
    SlTensor *s = sl_tensor_sum(t, mask, true, err);
    if (!s)
        return NULL;
    SlTensor *v = sl_tensor_view(s, ndim, shape, err);
    sl_tensor_unref(s);
    return v;
}

/* ---------------------------------------------------------------------------
 * Linear algebra: the reference BLAS's order (torch calls sgemm/sgemv of
 * the reference BLAS on this platform): each result element accumulates
 * a[i][l]*b[l][j] for l in order, starting from zero, without fusing.
 * ------------------------------------------------------------------------- */

static bool same_float_dtype(const SlTensor *a, const SlTensor *b, const char *what, SlError *err)
{
    if (a->dtype != b->dtype)
        return sl_err(err, SL_E_TYPE, "expected scalar type %s but found %s",
                      a->dtype == SL_DT_F32 ? "Float" : a->dtype == SL_DT_F64 ? "Double" : a->dtype == SL_DT_I64 ? "Long" : "MPFR",
                      b->dtype == SL_DT_F32 ? "Float" : b->dtype == SL_DT_F64 ? "Double" : b->dtype == SL_DT_I64 ? "Long" : "MPFR");
    if (a->dtype == SL_DT_BOOL)
        return sl_err(err, SL_E_TYPE, "\"%s\" not implemented for 'Bool'", what);
    return true;
}

/* mpfr at 53 bits through doubles.  With every operand of precision 53 and
 * round-to-nearest-even, mpfr_mul and mpfr_add give what double * and +
 * give wherever the double results are normal numbers: the same 53-bit
 * significands, the same ties, the same signed zeros.  So when A's and B's
 * elements are zero or at least 2^-511 in magnitude (no product can fall
 * below the normal range; a sum that does is exact in both) and finite,
 * C0's are doubles, and every result comes out finite (an overflow on the
 * way would leave an inf or NaN), the double kernel's C is mpfr's, bit for
 * bit.  Otherwise false, nothing written: the caller computes in mpfr.
 * (-510 and -1021 below are those bounds as mpfr exponents: 0.1b * 2^e.) */
static bool m53_load(const __mpfr_struct *x, mpfr_exp_t emin, double *d)
{
    return mpfr_get_prec(x) == 53 && sl_m53_get(x, emin, d);
}

#define M53_MAX 1024 /* elements of each operand done this way */

bool sl_tensor_gemm_m53(const __mpfr_struct *a, int64_t as0, int64_t as1, const __mpfr_struct *b, int64_t bs0,
                        int64_t bs1, int64_t m, int64_t k, int64_t n, __mpfr_struct *c, const __mpfr_struct *c0,
                        int64_t c0s0, int64_t c0s1, bool post)
{
    if (m * k > M53_MAX || k * n > M53_MAX || m * n > M53_MAX)
        return false;
    double da[M53_MAX], db[M53_MAX], dc[M53_MAX], d0[M53_MAX];
    for (int64_t i = 0; i < m; i++)
        for (int64_t l = 0; l < k; l++)
            if (!m53_load(&a[i * as0 + l * as1], -510, &da[i * k + l]))
                return false;
    for (int64_t l = 0; l < k; l++)
        for (int64_t j = 0; j < n; j++)
            if (!m53_load(&b[l * bs0 + j * bs1], -510, &db[l * n + j]))
                return false;
    const double *d0p = NULL;
    if (c0) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                if (!m53_load(&c0[i * c0s0 + j * c0s1], -1021, &d0[i * n + j]))
                    return false;
        d0p = d0;
    }
    for (int64_t i = 0; i < m * n; i++)
        if (mpfr_get_prec(&c[i]) != 53)
            return false;
    sl_tensor_gemm_f64(da, k, 1, db, n, 1, m, k, n, dc, d0p, n, 1, post);
    for (int64_t i = 0; i < m * n; i++)
        if (!isfinite(dc[i]))
            return false;
    for (int64_t i = 0; i < m * n; i++)
        sl_m53_set(&c[i], dc[i]);
    return true;
}

void sl_gemm_kernel(const void *args)
{
    const SlGemmArgs *g = args;
    if (g->f64)
        sl_tensor_gemm_f64(g->a, g->as0, g->as1, g->b, g->bs0, g->bs1, g->m, g->k, g->n, g->c, g->c0, g->c0s0,
                           g->c0s1, g->post);
    else
        sl_tensor_gemm_f32(g->a, g->as0, g->as1, g->b, g->bs0, g->bs1, g->m, g->k, g->n, g->c, g->c0, g->c0s0,
                           g->c0s1, g->post);
}

/* C[m][n] (contiguous) = A (m x k, strides) @ B (k x n, strides) */
static void gemm(const SlTensor *A, int64_t ao, int64_t as0, int64_t as1, const SlTensor *B, int64_t bo,
                 int64_t bs0, int64_t bs1, int64_t m, int64_t k, int64_t n, SlTensor *C, int64_t co)
{
    switch (C->dtype) {
    case SL_DT_F32:
    case SL_DT_F64: {
        bool f64 = C->dtype == SL_DT_F64;
        size_t es = f64 ? sizeof(double) : sizeof(float);
        SlGemmArgs g = {.a = (const char *)A->storage->data + (size_t)ao * es, .as0 = as0, .as1 = as1,
                        .b = (const char *)B->storage->data + (size_t)bo * es, .bs0 = bs0, .bs1 = bs1,
                        .m = m, .k = k, .n = n, .c = (char *)C->storage->data + (size_t)co * es, .f64 = f64};
        SlTensor *in[2] = {(SlTensor *)A, (SlTensor *)B};
        sl_kernel(sl_gemm_kernel, &g, sizeof g, in, 2, &C, 1, NULL, 0);
        break;
    }
    case SL_DT_I64: {
        const int64_t *a = I64P(A), *b = I64P(B);
        int64_t *c = I64P(C);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                uint64_t s = 0;
                for (int64_t l = 0; l < k; l++)
                    s += (uint64_t)a[ao + i * as0 + l * as1] * (uint64_t)b[bo + l * bs0 + j * bs1];
                c[co + i * n + j] = (int64_t)s;
            }
        break;
    }
    case SL_DT_MPFR: {
        const __mpfr_struct *a = MPP(A), *b = MPP(B);
        __mpfr_struct *c = MPP(C);
        if (C->storage->prec == 53 &&
            sl_tensor_gemm_m53(a + ao, as0, as1, b + bo, bs0, bs1, m, k, n, c + co, NULL, 0, 0, false))
            break;
        mpfr_t p;
        mpfr_init2(p, C->storage->prec);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                mpfr_ptr s = &c[co + i * n + j];
                mpfr_set_zero(s, 1);
                for (int64_t l = 0; l < k; l++) {
                    mpfr_mul(p, &a[ao + i * as0 + l * as1], &b[bo + l * bs0 + j * bs1], MPFR_RNDN);
                    mpfr_add(s, s, p, MPFR_RNDN);
                }
            }
        mpfr_clear(p);
        break;
    }
    default: break;
    }
}

static SlTensor *mm_result(const SlTensor *a, const SlTensor *b, int nd, const int64_t *shape)
{
    mpfr_prec_t p = a->dtype == SL_DT_MPFR ? (a->storage->prec > b->storage->prec ? a->storage->prec : b->storage->prec) : 0;
    return tensor_new(a->dtype, nd, shape, p);
}

SlTensor *sl_tensor_mm(const SlTensor *a, const SlTensor *b, SlError *err)
{
    if (a->ndim != 2 || b->ndim != 2)
        return sl_err(err, SL_E_VALUE, "%s must be a matrix", a->ndim != 2 ? "self" : "mat2"), NULL;
    if (a->shape[1] != b->shape[0])
        return sl_err(err, SL_E_VALUE, "mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %lldx%lld)",
                      (long long)a->shape[0], (long long)a->shape[1], (long long)b->shape[0], (long long)b->shape[1]),
               NULL;
    if (!same_float_dtype(a, b, "addmm_impl_cpu_", err))
        return NULL;
    int64_t shape[2] = {a->shape[0], b->shape[1]};
    SlTensor *c = mm_result(a, b, 2, shape);
    gemm(a, a->offset, a->strides[0], a->strides[1], b, b->offset, b->strides[0], b->strides[1], shape[0],
         a->shape[1], shape[1], c, 0);
    return c;
}

SlTensor *sl_tensor_mm_ex(const SlTensor *a, bool ta, const SlTensor *b, bool tb, bool tc, SlError *err)
{
    if (a->ndim != 2 || b->ndim != 2)
        return sl_err(err, SL_E_VALUE, "%s must be a matrix", a->ndim != 2 ? "self" : "mat2"), NULL;
    int64_t am = a->shape[ta], ak = a->shape[!ta], as0 = a->strides[ta], as1 = a->strides[!ta];
    int64_t bk = b->shape[tb], bn = b->shape[!tb], bs0 = b->strides[tb], bs1 = b->strides[!tb];
    if (ak != bk)
        return sl_err(err, SL_E_VALUE, "mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %lldx%lld)",
                      (long long)am, (long long)ak, (long long)bk, (long long)bn),
               NULL;
    if (!same_float_dtype(a, b, "addmm_impl_cpu_", err))
        return NULL;
    int64_t shape[2] = {am, bn};
    SlTensor *c = mm_result(a, b, 2, shape);
    gemm(a, a->offset, as0, as1, b, b->offset, bs0, bs1, am, ak, bn, c, 0);
    if (tc) {
        c->shape[0] = bn;
        c->shape[1] = am;
        c->strides[0] = 1;
        c->strides[1] = bn;
    }
    return c;
}

SlTensor *sl_tensor_mv(const SlTensor *a, const SlTensor *v, SlError *err)
{
    if (a->ndim != 2 || v->ndim != 1)
        return sl_err(err, SL_E_VALUE, "vector + matrix @ vector expected, got 1, %d, %d", a->ndim, v->ndim), NULL;
    if (a->shape[1] != v->shape[0])
        return sl_err(err, SL_E_VALUE, "size mismatch, got %lld, %lldx%lld,%lld", (long long)a->shape[0],
                      (long long)a->shape[0], (long long)a->shape[1], (long long)v->shape[0]),
               NULL;
    if (!same_float_dtype(a, v, "addmv_impl_cpu", err))
        return NULL;
    int64_t shape[1] = {a->shape[0]};
    SlTensor *c = mm_result(a, v, 1, shape);
    gemm(a, a->offset, a->strides[0], a->strides[1], v, v->offset, v->strides[0], 0, shape[0], a->shape[1], 1, c, 0);
    return c;
}

SlTensor *sl_tensor_dot(const SlTensor *a, const SlTensor *b, SlError *err)
{
    if (a->ndim != 1 || b->ndim != 1)
        return sl_err(err, SL_E_VALUE, "1D tensors expected, but got %dD and %dD tensors", a->ndim, b->ndim), NULL;
    if (a->shape[0] != b->shape[0])
        return sl_err(err, SL_E_VALUE,
                      "inconsistent tensor size, expected tensor [%lld] and src [%lld] to have the same number of "
                      "elements, but got %lld and %lld elements respectively",
                      (long long)a->shape[0], (long long)b->shape[0], (long long)a->shape[0], (long long)b->shape[0]),
               NULL;
    if (!same_float_dtype(a, b, "dot", err))
        return NULL;
    SlTensor *c = mm_result(a, b, 0, NULL);
    gemm(a, a->offset, 0, a->strides[0], b, b->offset, b->strides[0], 0, 1, a->shape[0], 1, c, 0);
    return c;
}

SlTensor *sl_tensor_bmm(const SlTensor *a, const SlTensor *b, SlError *err)
{
    if (a->ndim != 3 || b->ndim != 3)
        return sl_err(err, SL_E_VALUE, "batch1 must be a 3D tensor"), NULL;
    if (a->shape[0] != b->shape[0] || a->shape[2] != b->shape[1])
        return sl_err(err, SL_E_VALUE,
                      "Expected size for first two dimensions of batch2 tensor to be: [%lld, %lld] but got: [%lld, "
                      "%lld].",
                      (long long)a->shape[0], (long long)a->shape[2], (long long)b->shape[0], (long long)b->shape[1]),
               NULL;
    if (!same_float_dtype(a, b, "bmm", err))
        return NULL;
    int64_t shape[3] = {a->shape[0], a->shape[1], b->shape[2]};
    SlTensor *c = mm_result(a, b, 3, shape);
    for (int64_t i = 0; i < shape[0]; i++)
        gemm(a, a->offset + i * a->strides[0], a->strides[1], a->strides[2], b, b->offset + i * b->strides[0],
             b->strides[1], b->strides[2], shape[1], a->shape[2], shape[2], c, i * shape[1] * shape[2]);
    return c;
}

SlTensor *sl_tensor_outer(const SlTensor *a, const SlTensor *b, SlError *err)
{
    SlTensor *ua = sl_tensor_unsqueeze(a, 1, err);
    if (!ua)
        return NULL;
    SlTensor *r = sl_tensor_binary(SL_T_MUL, ua, b, err);
    sl_tensor_unref(ua);
    return r;
}
