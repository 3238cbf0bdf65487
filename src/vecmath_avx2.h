/* vecmath_avx2.h -- the AVX2 half of vecmath.c, compiled with -mavx2 -mfma
 * into its own library and called only after a CPU check. */
#ifndef SL_VECMATH_AVX2_H
#define SL_VECMATH_AVX2_H

#include <stdint.h>

/* False when fn has no Sleef function here. */
_Bool sl_vm_avx2_f32(int fn, float *y, const float *x, int64_t n);
_Bool sl_vm_avx2_f64(int fn, double *y, const double *x, int64_t n);
void sl_vm_avx2_powf(float *y, const float *a, float e, int64_t n);
void sl_vm_avx2_pow(double *y, const double *a, double e, int64_t n);

void sl_vm_avx2_binf(char op, float *y, const float *a, int sa, const float *b, int sb, int64_t n);
void sl_vm_avx2_bin(char op, double *y, const double *a, int sa, const double *b, int sb, int64_t n);

#endif
