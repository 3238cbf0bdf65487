/* vecmath.h -- float32 and float64 elementary functions with the last bits
 * PyTorch 1.13 gets on this CPU.
 *
 * torch's CPU kernels compute exp, log, sin, tanh, ... of contiguous
 * float/double data through Sleef's vector functions (Sleef_expf8_u10 and
 * friends, 1-ulp accurate, from the same libsleef that Debian's torch links)
 * when the CPU has AVX2 and FMA, and through the C library otherwise.
 * These functions do the same, element by element: a Sleef result does
 * not depend on its lane, so any element order gives torch's values.
 * sinh and cosh are the exception (torch's cpu_kernel_vec): the array
 * forms send whole blocks of 16 floats / 8 doubles through Sleef and the
 * rest through the C library, and the one-element forms (for elements of
 * non-contiguous tensors) use the C library.
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
/* One element, as an element of a non-contiguous tensor. */
float sl_vm_f32_1(int fn, float x);
double sl_vm_f64_1(int fn, double x);
/* y = a ** e elementwise by Sleef's pow (torch's Vectorized pow), for the
 * elements torch's cpu_kernel_vec sends through the vector path (whole
 * blocks of 16 floats / 8 doubles of a contiguous tensor); the others go
 * through the C library, as torch's scalar loop does. */
void sl_vm_powf(float *y, const float *a, double e, int64_t n);
void sl_vm_pow(double *y, const double *a, double e, int64_t n);
/* y = pow(a, b) or atan2(a, b) elementwise (op 'p' or 'a'), n long; the
 * strides sa, sb are 1 (an array) or 0 (one number broadcast),
 * as torch's binary cpu_kernel_vec: blocks of 16 floats / 8 doubles
 * through Sleef, the rest through the C library. */
void sl_vm_binf(char op, float *y, const float *a, int sa, const float *b, int sb, int64_t n);
void sl_vm_bin(char op, double *y, const double *a, int sa, const double *b, int sb, int64_t n);
/* Whether this process uses Sleef (the CPU has AVX2 and FMA). */
bool sl_vm_sleef(void);

#endif
