/* vecmath.h -- float32 and float64 elementary functions with the last bits
 * PyTorch 1.13 gets on this CPU.
 *
 * torch's CPU kernels compute exp, log, sin, tanh, ... of contiguous
 * float/double data through Sleef's vector functions (Sleef_expf8_u10 and
 * friends, 1-ulp accurate, from the same libsleef that Debian's torch links)
 * when the CPU has AVX2 and FMA, and through the C library otherwise.
 * These functions do the same, element by element: a Sleef result does
 * not depend on its lane, so any element order gives torch's values.
 *
 * fn is an SlMathFn (num.h): SL_FN_SIN COS TAN ASIN ACOS ATAN SINH COSH
 * TANH EXP LOG LOG2 LOG10.  y and x may be the same array.
 */
#ifndef SL_VECMATH_H
#define SL_VECMATH_H

#include <stdbool.h>
#include <stdint.h>

/* Whether fn goes through Sleef in torch's vectorised kernels. */
bool sl_vm_has(int fn);
void sl_vm_f32(int fn, float *y, const float *x, int64_t n);
void sl_vm_f64(int fn, double *y, const double *x, int64_t n);
/* One element: the same result as the array forms. */
float sl_vm_f32_1(int fn, float x);
double sl_vm_f64_1(int fn, double x);
/* y = a ** b elementwise by Sleef's powf (torch's Vectorized pow), for the
 * elements torch's cpu_kernel_vec sends through the vector path. */
void sl_vm_powf(float *y, const float *a, const float *b, int64_t n);
void sl_vm_pow(double *y, const double *a, const double *b, int64_t n);

#endif
