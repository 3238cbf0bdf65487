/* vecmath.c -- torch's elementary functions (vecmath.h): Sleef through
 * vecmath_avx2.c on CPUs with AVX2 and FMA (torch's AVX2 kernels), the C
 * library otherwise (torch's DEFAULT kernels call std::sin and friends). */
#include "vecmath.h"

#include <math.h>

#include "num.h"
#include "vecmath_avx2.h"

bool sl_vm_sleef(void)
{
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return known;
}

bool sl_vm_has(int fn)
{
    switch (fn) {
    case SL_FN_SIN: case SL_FN_COS: case SL_FN_TAN: case SL_FN_ASIN: case SL_FN_ACOS: case SL_FN_ATAN:
    case SL_FN_SINH: case SL_FN_COSH: case SL_FN_TANH: case SL_FN_EXP: case SL_FN_LOG: case SL_FN_LOG2:
    case SL_FN_LOG10: return true;
    default: return false;
    }
}

static float libm_f(int fn, float a)
{
    switch (fn) {
    case SL_FN_SIN: return sinf(a);
    case SL_FN_COS: return cosf(a);
    case SL_FN_TAN: return tanf(a);
    case SL_FN_ASIN: return asinf(a);
    case SL_FN_ACOS: return acosf(a);
    case SL_FN_ATAN: return atanf(a);
    case SL_FN_SINH: return sinhf(a);
    case SL_FN_COSH: return coshf(a);
    case SL_FN_TANH: return tanhf(a);
    case SL_FN_EXP: return expf(a);
    case SL_FN_LOG: return logf(a);
    case SL_FN_LOG2: return log2f(a);
    case SL_FN_LOG10: return log10f(a);
    default: return NAN;
    }
}

static double libm_d(int fn, double a)
{
    switch (fn) {
    case SL_FN_SIN: return sin(a);
    case SL_FN_COS: return cos(a);
    case SL_FN_TAN: return tan(a);
    case SL_FN_ASIN: return asin(a);
    case SL_FN_ACOS: return acos(a);
    case SL_FN_ATAN: return atan(a);
    case SL_FN_SINH: return sinh(a);
    case SL_FN_COSH: return cosh(a);
    case SL_FN_TANH: return tanh(a);
    case SL_FN_EXP: return exp(a);
    case SL_FN_LOG: return log(a);
    case SL_FN_LOG2: return log2(a);
    case SL_FN_LOG10: return log10(a);
    default: return NAN;
    }
}

/* sinh and cosh have their own kernels in torch (cpu_kernel_vec): whole
 * blocks of two vectors through Sleef, the tail (and any non-contiguous
 * tensor) through std::sinh; the others go through torch's vml, which
 * sends every element through Sleef. */
static bool blocked(int fn) { return fn == SL_FN_SINH || fn == SL_FN_COSH; }

void sl_vm_f32(int fn, float *y, const float *x, int64_t n)
{
    int64_t done = 0;
    if (sl_vm_sleef()) {
        done = blocked(fn) ? n - n % 16 : n;
        if (done && !sl_vm_avx2_f32(fn, y, x, done))
            done = 0;
    }
    for (int64_t i = done; i < n; i++)
        y[i] = libm_f(fn, x[i]);
}

void sl_vm_f64(int fn, double *y, const double *x, int64_t n)
{
    int64_t done = 0;
    if (sl_vm_sleef()) {
        done = blocked(fn) ? n - n % 8 : n;
        if (done && !sl_vm_avx2_f64(fn, y, x, done))
            done = 0;
    }
    for (int64_t i = done; i < n; i++)
        y[i] = libm_d(fn, x[i]);
}

float sl_vm_f32_1(int fn, float x)
{
    if (blocked(fn))
        return libm_f(fn, x);
    float y;
    sl_vm_f32(fn, &y, &x, 1);
    return y;
}

double sl_vm_f64_1(int fn, double x)
{
    if (blocked(fn))
        return libm_d(fn, x);
    double y;
    sl_vm_f64(fn, &y, &x, 1);
    return y;
}

/* torch's pow_tensor_scalar: blocks of 2 vectors through Sleef, the rest
 * (and everything without AVX2) as std::pow(float, double) does it. */
void sl_vm_powf(float *y, const float *a, double e, int64_t n)
{
    int64_t vec = sl_vm_sleef() ? n - n % 16 : 0;
    if (vec)
        sl_vm_avx2_powf(y, a, (float)e, vec);
    for (int64_t i = vec; i < n; i++)
        y[i] = (float)pow((double)a[i], e);
}

void sl_vm_pow(double *y, const double *a, double e, int64_t n)
{
    int64_t vec = sl_vm_sleef() ? n - n % 8 : 0;
    if (vec)
        sl_vm_avx2_pow(y, a, e, vec);
    for (int64_t i = vec; i < n; i++)
        y[i] = pow(a[i], e);
}

void sl_vm_binf(char op, float *y, const float *a, int sa, const float *b, int sb, int64_t n)
{
    int64_t vec = sl_vm_sleef() ? n - n % 16 : 0;
    if (vec)
        sl_vm_avx2_binf(op, y, a, sa, b, sb, vec);
    for (int64_t i = vec; i < n; i++)
        y[i] = op == 'p' ? powf(a[i * sa], b[i * sb]) : atan2f(a[i * sa], b[i * sb]);
}

void sl_vm_bin(char op, double *y, const double *a, int sa, const double *b, int sb, int64_t n)
{
    int64_t vec = sl_vm_sleef() ? n - n % 8 : 0;
    if (vec)
        sl_vm_avx2_bin(op, y, a, sa, b, sb, vec);
    for (int64_t i = vec; i < n; i++)
        y[i] = op == 'p' ? pow(a[i * sa], b[i * sb]) : atan2(a[i * sa], b[i * sb]);
}
