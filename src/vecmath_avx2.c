/* vecmath_avx2.c -- Sleef's AVX2 functions over arrays, as torch's
 * Vectorized<float>/<double> call them: 8 floats or 4 doubles at a time,
 * a short tail loaded into a zero-padded vector (Vectorized::loadu(p, n)).
 * This file alone is compiled with -mavx2 -mfma. */
#include "vecmath_avx2.h"

#include <immintrin.h>
#include <math.h> /* before sleef.h: FP_FAST_FMA */
#include <sleef.h>
#include <string.h>

#include "num.h"

typedef __m256 (*F8)(__m256);
typedef __m256d (*D4)(__m256d);

static F8 f8_of(int fn)
{
    switch (fn) {
    case SL_FN_SIN: return Sleef_sinf8_u10avx2;
    case SL_FN_COS: return Sleef_cosf8_u10avx2;
    case SL_FN_TAN: return Sleef_tanf8_u10avx2;
    case SL_FN_ASIN: return Sleef_asinf8_u10avx2;
    case SL_FN_ACOS: return Sleef_acosf8_u10avx2;
    case SL_FN_ATAN: return Sleef_atanf8_u10avx2;
    case SL_FN_SINH: return Sleef_sinhf8_u10avx2;
    case SL_FN_COSH: return Sleef_coshf8_u10avx2;
    case SL_FN_TANH: return Sleef_tanhf8_u10avx2;
    case SL_FN_EXP: return Sleef_expf8_u10avx2;
    case SL_FN_LOG: return Sleef_logf8_u10avx2;
    case SL_FN_LOG2: return Sleef_log2f8_u10avx2;
    case SL_FN_LOG10: return Sleef_log10f8_u10avx2;
    default: return NULL;
    }
}

static D4 d4_of(int fn)
{
    switch (fn) {
    case SL_FN_SIN: return Sleef_sind4_u10avx2;
    case SL_FN_COS: return Sleef_cosd4_u10avx2;
    case SL_FN_TAN: return Sleef_tand4_u10avx2;
    case SL_FN_ASIN: return Sleef_asind4_u10avx2;
    case SL_FN_ACOS: return Sleef_acosd4_u10avx2;
    case SL_FN_ATAN: return Sleef_atand4_u10avx2;
    case SL_FN_SINH: return Sleef_sinhd4_u10avx2;
    case SL_FN_COSH: return Sleef_coshd4_u10avx2;
    case SL_FN_TANH: return Sleef_tanhd4_u10avx2;
    case SL_FN_EXP: return Sleef_expd4_u10avx2;
    case SL_FN_LOG: return Sleef_logd4_u10avx2;
    case SL_FN_LOG2: return Sleef_log2d4_u10avx2;
    case SL_FN_LOG10: return Sleef_log10d4_u10avx2;
    default: return NULL;
    }
}

_Bool sl_vm_avx2_f32(int fn, float *y, const float *x, int64_t n)
{
    F8 f = f8_of(fn);
    if (!f)
        return 0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
    if (i < n) {
        float buf[8] = {0};
        memcpy(buf, x + i, (size_t)(n - i) * sizeof *buf);
        _mm256_storeu_ps(buf, f(_mm256_loadu_ps(buf)));
        memcpy(y + i, buf, (size_t)(n - i) * sizeof *buf);
    }
    return 1;
}

_Bool sl_vm_avx2_f64(int fn, double *y, const double *x, int64_t n)
{
    D4 f = d4_of(fn);
    if (!f)
        return 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(y + i, f(_mm256_loadu_pd(x + i)));
    if (i < n) {
        double buf[4] = {0};
        memcpy(buf, x + i, (size_t)(n - i) * sizeof *buf);
        _mm256_storeu_pd(buf, f(_mm256_loadu_pd(buf)));
        memcpy(y + i, buf, (size_t)(n - i) * sizeof *buf);
    }
    return 1;
}

void sl_vm_avx2_powf(float *y, const float *a, float e, int64_t n)
{
    __m256 ev = _mm256_set1_ps(e);
    for (int64_t i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, Sleef_powf8_u10avx2(_mm256_loadu_ps(a + i), ev));
}

void sl_vm_avx2_pow(double *y, const double *a, double e, int64_t n)
{
    __m256d ev = _mm256_set1_pd(e);
    for (int64_t i = 0; i + 4 <= n; i += 4)
        _mm256_storeu_pd(y + i, Sleef_powd4_u10avx2(_mm256_loadu_pd(a + i), ev));
}

void sl_vm_avx2_binf(char op, float *y, const float *a, int sa, const float *b, int sb, int64_t n)
{
    for (int64_t i = 0; i + 8 <= n; i += 8) {
        __m256 x = sa ? _mm256_loadu_ps(a + i) : _mm256_set1_ps(*a), z = sb ? _mm256_loadu_ps(b + i) : _mm256_set1_ps(*b);
        _mm256_storeu_ps(y + i, op == 'p' ? Sleef_powf8_u10avx2(x, z) : Sleef_atan2f8_u10avx2(x, z));
    }
}

void sl_vm_avx2_bin(char op, double *y, const double *a, int sa, const double *b, int sb, int64_t n)
{
    for (int64_t i = 0; i + 4 <= n; i += 4) {
        __m256d x = sa ? _mm256_loadu_pd(a + i) : _mm256_set1_pd(*a), z = sb ? _mm256_loadu_pd(b + i) : _mm256_set1_pd(*b);
        _mm256_storeu_pd(y + i, op == 'p' ? Sleef_powd4_u10avx2(x, z) : Sleef_atan2d4_u10avx2(x, z));
    }
}
