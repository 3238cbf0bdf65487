/* tensor_print.h -- PyTorch 1.13's tensor printing, byte for byte.
 *
 * The formatter knows nothing of tensor storage: it sees a read-only view
 * (dtype, shape, an element getter in row-major order) and the suffixes
 * to append, and writes exactly what torch 1.13's repr(t) writes with the
 * default print options (precision 4, threshold 1000, edgeitems 3,
 * linewidth 80).  See ../shared/reference/pytorch-printing.md.
 */
#ifndef SL_TENSOR_PRINT_H
#define SL_TENSOR_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mpfr.h>

#include "dtype.h"
#include "value.h"

typedef struct SlTensorView {
    SlDType dtype;          /* element type */
    int ndim;               /* 0 for a scalar tensor */
    const int64_t *shape;   /* ndim sizes */
    const void *ctx;        /* passed to the getters */
    /* element i in row-major order (i < product of shape; 0 for 0-d) */
    double (*get_f)(const void *ctx, size_t i);        /* F32 (widened) and F64 */
    int64_t (*get_i)(const void *ctx, size_t i);       /* I64 */
    bool (*get_b)(const void *ctx, size_t i);          /* BOOL */
    mpfr_srcptr (*get_m)(const void *ctx, size_t i);   /* MPFR */
    mpfr_prec_t mpfr_prec;  /* MPFR: the elements' precision */
} SlTensorView;

typedef struct SlTensorSuffix {
    bool requires_grad;     /* ", requires_grad=True" (a leaf) */
    const char *grad_fn;    /* ", grad_fn=<NAME>" (a non-leaf), or NULL */
    bool parameter;         /* "Parameter containing:\n" prefix */
} SlTensorSuffix;

/* Append repr(t) exactly as torch 1.13 prints it, including the dtype
 * suffix (", dtype=torch.float64", ", dtype=torch.int32"... as torch
 * decides: float32 and int64 are the defaults that print none; bool prints
 * none; an empty tensor always shows a non-default dtype; mpfr tensors
 * print ", dtype=slope.mpfr(BITS)"), the wrapping of suffixes past 80
 * columns, summarisation beyond 1000 elements. */
void sl_tensor_format(SlBuf *out, const SlTensorView *v, const SlTensorSuffix *s);

/* The Python float repr of a float32 value widened to double, as
 * t.item() prints ("0.550000011920929"). */
void sl_tensor_format_item_f32(SlBuf *out, float x);

#endif
