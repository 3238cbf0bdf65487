/* num.h -- Python's numeric tower on GMP and MPFR.
 *
 * Numbers are SlValues of kind SL_BOOL, SL_INT (exact, mpz) and SL_FLOAT
 * (mpfr).  New floats are made at the session precision (default 53 bits,
 * which is Python's float; round-to-nearest-even everywhere).  All results
 * are correctly rounded by MPFR.  Arithmetic follows Python 3.11 exactly:
 * int/int true division is the correctly rounded exact quotient, // and %
 * floor, % takes the sign of the divisor, int**negative is a float,
 * bool behaves as int, error messages are Python's own words
 * ("division by zero", "float modulo", ...).
 *
 * Printing generalises Python's float repr to any precision: the shortest
 * decimal string that reads back (at the value's precision) to the same
 * value; fixed notation when -4 <= exponent < max(16, digits(prec)),
 * otherwise scientific with at least two exponent digits ("1e-05", "1e+16");
 * "inf", "-inf", "nan"; integral floats print with ".0".
 *
 * Value conventions of value.h apply (borrowed arguments, new references,
 * NULL plus an error in *err on failure).
 */
#ifndef SL_NUM_H
#define SL_NUM_H

#include <stdbool.h>

#include "value.h"

#define SL_PREC_MIN 2L          /* bits */
#define SL_PREC_MAX 1000000L    /* bits: about 301 000 digits */
/* Exact int results (* and **, float -> int) larger than this many bits
 * give SL_E_LIMIT instead of exhausting memory. */
#define SL_INT_BITS_MAX 10000000L

/* The session precision for new floats, in bits. */
mpfr_prec_t sl_num_prec(void);
void sl_num_set_prec(mpfr_prec_t bits);
/* Decimal digits <-> bits as :digits uses them (mpmath's rule):
 * bits = round((d+1)*log2(10)), digits(prec) = floor((prec-1)*log10(2));
 * 15 digits is 53 bits and digits(bits(d)) == d. */
mpfr_prec_t sl_num_bits_for_digits(long digits);
long sl_num_digits_for_bits(mpfr_prec_t bits);

/* Literals as the lexer wrote them: "123", "1.5", "1e-5", ".5".  The float is
 * correctly rounded from the decimal at the session precision. */
SlValue *sl_num_parse_int(const char *text, SlError *err);
SlValue *sl_num_parse_float(const char *text, SlError *err);

/* Binary arithmetic: op is SL_OP_ADD, SUB, MUL, DIV, FLOORDIV, MOD, POW.
 * Both operands must be numbers (bool/int/float); otherwise the caller
 * reports the type error. */
SlValue *sl_num_binop(int op, const SlValue *a, const SlValue *b, SlError *err);
/* Unary: SL_OP_NEG, SL_OP_POS. */
SlValue *sl_num_unop(int op, const SlValue *a, SlError *err);
/* Comparison of two numbers: -1, 0, 1; 2 when unordered (NaN involved).
 * Exact across kinds (int vs float compares the true values). */
int sl_num_cmp(const SlValue *a, const SlValue *b);
bool sl_num_equal(const SlValue *a, const SlValue *b); /* Python's == */

/* Conversions. */
bool sl_num_to_long(const SlValue *v, long *out);     /* int/bool only, fits */
double sl_num_to_double(const SlValue *v);            /* any number */
void sl_num_to_mpfr(mpfr_t out, const SlValue *v);    /* out already inited */
SlValue *sl_num_from_mpfr(const mpfr_t x);            /* float at x's precision */
SlValue *sl_num_to_float(const SlValue *v, SlError *err); /* float(v) */
SlValue *sl_num_to_int(const SlValue *v, SlError *err);   /* int(v): truncates */

/* The elementary functions, shared with the expression DAG and the AD
 * engines.  Keep the order: expr.c and builtins.c index tables by it. */
typedef enum SlMathFn {
    SL_FN_SIN, SL_FN_COS, SL_FN_TAN, SL_FN_ASIN, SL_FN_ACOS, SL_FN_ATAN,
    SL_FN_ATAN2, SL_FN_SINH, SL_FN_COSH, SL_FN_TANH, SL_FN_EXP, SL_FN_LOG,
    SL_FN_LOG2, SL_FN_LOG10, SL_FN_SQRT, SL_FN_CBRT, SL_FN_ABS, SL_FN_SIGN,
    SL_FN_FLOOR, SL_FN_CEIL, SL_FN_ROUND, SL_FN_MIN, SL_FN_MAX,
    SL_FN_SIGMOID, SL_FN_RELU,
    SL_FN_HEAVISIDE, /* 1 for x > 0, else 0 (relu's derivative, as PyTorch) */
    SL_FN_COUNT
} SlMathFn;

typedef struct SlMathFnInfo {
    const char *name;  /* as the user types it: "sin", "log10" */
    int min_args;      /* 1 for most, 2 for atan2, 1..2 for round */
    int max_args;      /* -1 = any number (min/max) */
} SlMathFnInfo;

extern const SlMathFnInfo sl_math_fns[SL_FN_COUNT];
/* Look a function up by name; -1 when not one of them. */
int sl_math_fn_lookup(const char *name);

/* Apply to numbers only (bool/int/float).  Python's math module results:
 *   floor/ceil/round of a float give an int (round: half to even;
 *   round(x, n) gives a float), abs/min/max/sign/relu of ints stay ints,
 *   everything else is a float at the session precision;
 *   domain errors are SL_E_MATH_DOMAIN ("math domain error: log(-1)"),
 *   floor(inf) is SL_E_OVERFLOW, floor(nan) SL_E_VALUE, like Python.
 * min/max take any number of arguments here (the list forms are handled by
 * the builtin).  sigmoid(x) = 1/(1+exp(-x)), relu(x) = max(x, 0),
 * sign(x) = -1, 0, 1 (an int for ints, a float for floats; nan for nan). */
SlValue *sl_num_apply(SlMathFn fn, SlValue *const *args, int nargs, SlError *err);

/* Constants at the session precision. */
SlValue *sl_num_pi(void);
SlValue *sl_num_e(void);
SlValue *sl_num_inf(void);
SlValue *sl_num_nan(void);

/* Printing (appends to out).  repr == str for numbers. */
void sl_num_repr(SlBuf *out, const SlValue *v);
/* Shortest round-trip digits of a finite nonzero mpfr: digits (no sign, no
 * point, malloc'd) and decimal exponent such that value = 0.DIGITS * 10^exp. */
char *sl_num_shortest(const mpfr_t x, long *exp10);

/* Python's format mini-language for one value (number or string):
 * [[fill]align][sign][z][#][0][width][grouping][.precision][type]
 * with types b c d e E f F g G n o s x X % and none, exactly as Python's
 * format(value, spec).  Floats at higher precision format their exact value
 * (so "{:.30f}" shows 30 correct digits).  Returns false with SL_E_FORMAT
 * ("unknown format code 'd' for object of type 'float'") on a bad spec. */
bool sl_num_format(SlBuf *out, const SlValue *v, const char *spec, size_t speclen, SlError *err);

/* A 53-bit float lives in the IEEE double exponent range (subnormals,
 * overflow to inf), so that it is bit for bit a Python float.  Bring a
 * freshly computed 53-bit MPFR result into that range; t is the ternary
 * value of the computation (0 if unknown), the new ternary is returned.
 * Other precisions keep MPFR's wide range and are left alone. */
int sl_num_fit(mpfr_t x, int t);

/* Python's PyOS_double_to_string generalised to any precision, for
 * format.c: code is 'e' 'E' 'f' 'F' 'g' 'G' or 'r' (repr, precision 0),
 * flags a mix of the SL_DTSF_ bits.  Appends to out. */
enum {
    SL_DTSF_SIGN = 1,      /* always write a sign */
    SL_DTSF_ADD_DOT_0 = 2, /* integral values get ".0" (repr, empty type) */
    SL_DTSF_ALT = 4,       /* '#': keep the point and trailing zeros */
    SL_DTSF_NO_NEG_0 = 8   /* 'z': a value rounding to zero loses its '-' */
};
void sl_num_float_str(SlBuf *out, const mpfr_t x, char code, long precision, int flags);

#endif
