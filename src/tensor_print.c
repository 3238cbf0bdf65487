/* tensor_print.c -- repr(t) as torch 1.13 writes it, byte for byte.
 *
 * A transcription of torch/_tensor_str.py (1.13) for the default print
 * options, with the same names where it helps to read the two side by
 * side:
 *   _Formatter                   -> Fmt, fmt_init(), put_elem()
 *   get_summarized_data          -> the "shown" index maps (shown_len/at)
 *   _vector_str                  -> vector_str()
 *   _tensor_str_with_formatter   -> tensor_str()
 *   _add_suffixes                -> add_suffix()
 *   _str_intern                  -> sl_tensor_format()
 *
 * Float elements are formatted as Python formats the double (float32
 * values widened first): '%.4f', '%.4e', '%.0f' through glibc's snprintf,
 * which rounds the exact binary value correctly as Python does; only nan
 * differs (Python never writes a sign on nan).
 *
 * MPFR tensors (slope's own dtype) follow the same rules on the exact
 * mpfr values: the mode is decided with mpfr comparisons (the max/min
 * ratio at max(53, prec) bits, so a 53-bit tensor decides exactly as a
 * float64 one and a 24-bit one as a float32 one), and the digits come
 * from num.c's Python-style formatter, so values outside the double range
 * print correctly (1.0000e-400).  They carry the suffix
 * ", dtype=slope.mpfr(BITS)", placed and wrapped like torch's dtype=.
 */
#include "tensor_print.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

enum {
    LINEWIDTH = 80,  /* PRINT_OPTS.linewidth */
    THRESHOLD = 1000, /* PRINT_OPTS.threshold: summarise when numel > this */
    EDGEITEMS = 3,   /* PRINT_OPTS.edgeitems */
    PRECISION = 4    /* PRINT_OPTS.precision */
};

static const char PREFIX[] = "tensor(";
#define INDENT ((int)(sizeof PREFIX - 1))

typedef struct Fmt {
    const SlTensorView *v;  /* the tensor */
    bool summarize;         /* numel > THRESHOLD */
    bool int_mode;          /* floats: all shown nonzero finite are integral */
    bool sci_mode;          /* floats: '%.4e' */
    size_t width;           /* max_width: every element is padded to it */
    size_t *stride;         /* row-major strides, ndim of them */
    SlBuf tmp;              /* scratch for one element */
} Fmt;

/* ---- which entries are shown (get_summarized_data) ---- */

static int64_t shown_len(const Fmt *f, int64_t n)
{
    return f->summarize && n > 2 * EDGEITEMS ? 2 * EDGEITEMS : n;
}

/* The k-th shown index of a dimension of size n. */
static int64_t shown_at(const Fmt *f, int64_t n, int64_t k)
{
    return f->summarize && n > 2 * EDGEITEMS && k >= EDGEITEMS ? n - 2 * EDGEITEMS + k : k;
}

static size_t shown_count(const Fmt *f)
{
    size_t c = 1;
    for (int d = 0; d < f->v->ndim; d++)
        c *= (size_t)shown_len(f, f->v->shape[d]);
    return c;
}

/* Flat index of the j-th shown element (row-major over the shown ones). */
static size_t shown_flat(const Fmt *f, size_t j)
{
    size_t flat = 0;
    for (int d = f->v->ndim - 1; d >= 0; d--) {
        size_t len = (size_t)shown_len(f, f->v->shape[d]);
        flat += (size_t)shown_at(f, f->v->shape[d], (int64_t)(j % len)) * f->stride[d];
        j /= len;
    }
    return flat;
}

/* ---- one element, unpadded (_Formatter.format without the padding) ---- */

static void raw_double(const Fmt *f, SlBuf *b, double x)
{
    if (isnan(x)) {
        sl_buf_puts(b, "nan");
    } else if (f->sci_mode) {
        sl_buf_printf(b, "%.*e", PRECISION, x);
    } else if (f->int_mode) {
        sl_buf_printf(b, "%.0f", x);
        if (!isinf(x))
            sl_buf_putc(b, '.');
    } else {
        sl_buf_printf(b, "%.*f", PRECISION, x);
    }
}

static void raw_mpfr(const Fmt *f, SlBuf *b, mpfr_srcptr x)
{
    if (f->sci_mode) {
        sl_num_float_str(b, x, 'e', PRECISION, 0);
    } else if (f->int_mode) {
        sl_num_float_str(b, x, 'f', 0, 0);
        if (mpfr_number_p(x))
            sl_buf_putc(b, '.');
    } else {
        sl_num_float_str(b, x, 'f', PRECISION, 0);
    }
}

/* Element i formatted into f->tmp (replacing its contents). */
static void raw_elem(Fmt *f, size_t i)
{
    const SlTensorView *v = f->v;
    f->tmp.len = 0;
    f->tmp.s[0] = '\0';
    switch (v->dtype) {
    case SL_DT_BOOL: sl_buf_puts(&f->tmp, v->get_b(v->ctx, i) ? "True" : "False"); break;
    case SL_DT_I64: sl_buf_printf(&f->tmp, "%" PRId64, v->get_i(v->ctx, i)); break;
    case SL_DT_F32:
    case SL_DT_F64: raw_double(f, &f->tmp, v->get_f(v->ctx, i)); break;
    case SL_DT_MPFR: raw_mpfr(f, &f->tmp, v->get_m(v->ctx, i)); break;
    }
}

static void put_spaces(SlBuf *out, size_t n)
{
    for (size_t k = 0; k < n; k++)
        sl_buf_putc(out, ' ');
}

/* (max_width - len(ret)) * " " + ret */
static void put_elem(Fmt *f, SlBuf *out, size_t i)
{
    raw_elem(f, i);
    if (f->tmp.len < f->width)
        put_spaces(out, f->width - f->tmp.len);
    sl_buf_add(out, f->tmp.s, f->tmp.len);
}

/* ---- _Formatter.__init__ ---- */

/* Float modes on the nonzero finite shown values V: empty V keeps
 * int_mode with width 1; all integral -> int_mode, scientific when
 * max/min > 1000 or max > 1e8; otherwise also when min < 1e-4. */
static void init_double(Fmt *f, size_t count)
{
    const SlTensorView *v = f->v;
    double mn = 0, mx = 0;
    bool any = false, all_int = true;
    for (size_t j = 0; j < count; j++) {
        double x = v->get_f(v->ctx, shown_flat(f, j));
        if (!isfinite(x) || x == 0)
            continue;
        double a = fabs(x);
        if (!any || a < mn)
            mn = a;
        if (!any || a > mx)
            mx = a;
        any = true;
        if (x != ceil(x))
            all_int = false;
    }
    if (!any)
        return;
    f->int_mode = all_int;
    f->sci_mode = mx / mn > 1000.0 || mx > 1.0e8 || (!all_int && mn < 1.0e-4);
}

static void init_mpfr(Fmt *f, size_t count)
{
    const SlTensorView *v = f->v;
    mpfr_prec_t p = v->mpfr_prec;
    mpfr_t mn, mx, ratio;
    mpfr_init2(mn, p);
    mpfr_init2(mx, p);
    mpfr_init2(ratio, p > 53 ? p : 53);
    bool any = false, all_int = true;
    for (size_t j = 0; j < count; j++) {
        mpfr_srcptr x = v->get_m(v->ctx, shown_flat(f, j));
        if (!mpfr_regular_p(x))
            continue;
        if (!any || mpfr_cmpabs(x, mn) < 0)
            mpfr_abs(mn, x, MPFR_RNDN);
        if (!any || mpfr_cmpabs(x, mx) > 0)
            mpfr_abs(mx, x, MPFR_RNDN);
        any = true;
        if (!mpfr_integer_p(x))
            all_int = false;
    }
    if (any) {
        mpfr_div(ratio, mx, mn, MPFR_RNDN);
        f->int_mode = all_int;
        f->sci_mode = mpfr_cmp_d(ratio, 1000.0) > 0 || mpfr_cmp_d(mx, 1.0e8) > 0 ||
                      (!all_int && mpfr_cmp_d(mn, 1.0e-4) < 0);
    }
    mpfr_clears(mn, mx, ratio, (mpfr_ptr)0);
}

static bool elem_counts(const Fmt *f, size_t i)
{
    const SlTensorView *v = f->v;
    switch (v->dtype) {
    case SL_DT_F32:
    case SL_DT_F64: {
        double x = v->get_f(v->ctx, i);
        return isfinite(x) && x != 0;
    }
    case SL_DT_MPFR: return mpfr_regular_p(v->get_m(v->ctx, i)) != 0;
    default: return true;
    }
}

static void fmt_init(Fmt *f, const SlTensorView *v, size_t numel)
{
    f->v = v;
    f->summarize = numel > THRESHOLD;
    f->int_mode = true;
    f->sci_mode = false;
    f->width = 1;
    f->stride = malloc((size_t)(v->ndim > 0 ? v->ndim : 1) * sizeof *f->stride);
    if (!f->stride)
        abort();
    size_t s = 1;
    for (int d = v->ndim - 1; d >= 0; d--) {
        f->stride[d] = s;
        s *= (size_t)v->shape[d];
    }
    sl_buf_init(&f->tmp);

    size_t count = shown_count(f);
    if (v->dtype == SL_DT_F32 || v->dtype == SL_DT_F64)
        init_double(f, count);
    else if (v->dtype == SL_DT_MPFR)
        init_mpfr(f, count);

    /* max_width: over every shown element for int and bool, over the
     * nonzero finite ones for floats (the int_mode '.' included). */
    for (size_t j = 0; j < count; j++) {
        size_t i = shown_flat(f, j);
        if (!elem_counts(f, i))
            continue;
        raw_elem(f, i);
        if (f->tmp.len > f->width)
            f->width = f->tmp.len;
    }
}

static void fmt_free(Fmt *f)
{
    free(f->stride);
    sl_buf_free(&f->tmp);
}

/* ---- layout ---- */

/* _vector_str: the row at flat offset off, the last dimension. */
static void vector_str(Fmt *f, SlBuf *out, size_t off, int indent)
{
    int64_t n = f->v->shape[f->v->ndim - 1];
    int64_t per_line = (LINEWIDTH - indent) / ((int64_t)f->width + 2);
    if (per_line < 1)
        per_line = 1;
    bool gap = f->summarize && n > 2 * EDGEITEMS;
    int64_t items = gap ? 2 * EDGEITEMS + 1 : n;
    sl_buf_putc(out, '[');
    for (int64_t k = 0; k < items; k++) {
        if (k > 0) {
            if (k % per_line == 0) {
                sl_buf_puts(out, ",\n");
                put_spaces(out, (size_t)indent + 1);
            } else {
                sl_buf_puts(out, ", ");
            }
        }
        if (gap && k == EDGEITEMS)
            sl_buf_puts(out, " ...");
        else
            put_elem(f, out, off + (size_t)(gap && k > EDGEITEMS ? n - (items - k) : k));
    }
    sl_buf_putc(out, ']');
}

/* _tensor_str_with_formatter for the sub-tensor of dimensions d.. at
 * flat offset off: slices joined by "," + "\n" * (dim - 1) + indent. */
static void tensor_str(Fmt *f, SlBuf *out, int d, size_t off, int indent)
{
    const SlTensorView *v = f->v;
    if (v->ndim == 0) {
        put_elem(f, out, 0);
        return;
    }
    if (d == v->ndim - 1) {
        vector_str(f, out, off, indent);
        return;
    }
    int dim = v->ndim - d;
    int64_t n = v->shape[d];
    bool gap = f->summarize && n > 2 * EDGEITEMS;
    int64_t items = gap ? 2 * EDGEITEMS + 1 : n;
    sl_buf_putc(out, '[');
    for (int64_t k = 0; k < items; k++) {
        if (k > 0) {
            sl_buf_putc(out, ',');
            for (int nl = 0; nl < dim - 1; nl++)
                sl_buf_putc(out, '\n');
            put_spaces(out, (size_t)indent + 1);
        }
        if (gap && k == EDGEITEMS) {
            sl_buf_puts(out, "...");
            continue;
        }
        int64_t idx = gap && k > EDGEITEMS ? n - (items - k) : k;
        tensor_str(f, out, d + 1, off + (size_t)idx * f->stride[d], indent + 1);
    }
    sl_buf_putc(out, ']');
}

/* ---- suffixes (_add_suffixes) ---- */

typedef struct Suffixes {
    size_t last_line_len;  /* torch's running count, see add_suffix */
} Suffixes;

/* torch starts from len(s) - s.rfind('\n') + 1 (rfind = -1 without a
 * newline); a suffix goes on its own line, indented 7, when
 * last_line_len + len(suffix) + 2 > 80. */
static void suffixes_start(Suffixes *sx, const SlBuf *out, size_t start)
{
    long nl = -1;
    for (size_t k = out->len; k > start; k--)
        if (out->s[k - 1] == '\n') {
            nl = (long)(k - 1 - start);
            break;
        }
    sx->last_line_len = (size_t)((long)(out->len - start) - nl + 1);
}

static void add_suffix(Suffixes *sx, SlBuf *out, const char *suffix)
{
    size_t n = strlen(suffix);
    if (sx->last_line_len + n + 2 > LINEWIDTH) {
        sl_buf_puts(out, ",\n");
        put_spaces(out, INDENT);
        sx->last_line_len = INDENT + n;
    } else {
        sl_buf_puts(out, ", ");
        sx->last_line_len += n + 2;
    }
    sl_buf_puts(out, suffix);
}

static void dtype_suffix(char *buf, size_t size, const SlTensorView *v)
{
    switch (v->dtype) {
    case SL_DT_F32: snprintf(buf, size, "dtype=torch.float32"); break;
    case SL_DT_F64: snprintf(buf, size, "dtype=torch.float64"); break;
    case SL_DT_I64: snprintf(buf, size, "dtype=torch.int64"); break;
    case SL_DT_BOOL: snprintf(buf, size, "dtype=torch.bool"); break;
    case SL_DT_MPFR: snprintf(buf, size, "dtype=slope.mpfr(%ld)", (long)v->mpfr_prec); break;
    }
}

/* ---- _str_intern ---- */

void sl_tensor_format(SlBuf *out, const SlTensorView *v, const SlTensorSuffix *s)
{
    if (s && s->parameter)
        sl_buf_puts(out, "Parameter containing:\n");
    size_t start = out->len;
    sl_buf_puts(out, PREFIX);

    size_t numel = 1;
    for (int d = 0; d < v->ndim; d++)
        numel *= (size_t)v->shape[d];

    char dtype[64];
    dtype_suffix(dtype, sizeof dtype, v);
    SlBuf size;
    sl_buf_init(&size);
    bool show_dtype;
    if (numel == 0) {
        /* An empty tensor: the shape when it is not (0,), the dtype unless
         * it is the default float32 (nothing to infer it from). */
        sl_buf_puts(out, "[]");
        if (v->ndim != 1) {
            sl_buf_puts(&size, "size=(");
            for (int d = 0; d < v->ndim; d++)
                sl_buf_printf(&size, d ? ", %" PRId64 : "%" PRId64, v->shape[d]);
            sl_buf_putc(&size, ')');
        }
        show_dtype = v->dtype != SL_DT_F32;
    } else {
        Fmt f;
        fmt_init(&f, v, numel);
        tensor_str(&f, out, 0, 0, INDENT);
        fmt_free(&f);
        /* has_default_dtype: float32, int64 and bool print no dtype */
        show_dtype = v->dtype == SL_DT_F64 || v->dtype == SL_DT_MPFR;
    }

    Suffixes sx;
    suffixes_start(&sx, out, start);
    if (size.len)
        add_suffix(&sx, out, size.s);
    if (show_dtype)
        add_suffix(&sx, out, dtype);
    if (s && s->grad_fn) {
        SlBuf g;
        sl_buf_init(&g);
        sl_buf_printf(&g, "grad_fn=<%s>", s->grad_fn);
        add_suffix(&sx, out, g.s);
        sl_buf_free(&g);
    } else if (s && s->requires_grad) {
        add_suffix(&sx, out, "requires_grad=True");
    }
    sl_buf_putc(out, ')');
    sl_buf_free(&size);
}

void sl_tensor_format_item_f32(SlBuf *out, float x)
{
    mpfr_t m;
    mpfr_init2(m, 53);
    mpfr_set_d(m, (double)x, MPFR_RNDN);
    sl_num_float_str(out, m, 'r', 0, SL_DTSF_ADD_DOT_0);
    mpfr_clear(m);
}
