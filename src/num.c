/* num.c -- Python's numeric tower on GMP and MPFR.
 *
 * Semantics are CPython 3.11's (Objects/longobject.c, floatobject.c,
 * Modules/mathmodule.c, Python/pystrtod.c), generalised to any precision:
 *
 *   - int is exact (mpz).  + - * // % and ** with an exponent >= 0 are
 *     exact; int / int is the exact quotient rounded once; int ** negative
 *     goes through float ** float, as in CPython.
 *   - In mixed int/float arithmetic the int is first converted to a float
 *     at the session precision (correctly rounded, as PyLong_AsDouble does)
 *     and the float operation follows, so the results are Python's bit for
 *     bit; comparisons are exact across kinds.
 *   - Every new float is made at the session precision, correctly rounded.
 *
 * Exponent range.  MPFR's default exponent range is about 2^(+-2^30), far
 * wider than a double's.  So that 53-bit floats are Python floats bit for
 * bit, including gradual underflow to subnormals and overflow to inf, every
 * 53-bit result is brought into the IEEE double range by sl_num_fit()
 * (mpfr_check_range + mpfr_subnormalize with emin = -1073, emax = 1024,
 * using the ternary value so nothing is rounded twice).  Operations are
 * computed in MPFR's wide range and fitted afterwards, so inputs never need
 * to be in the narrow range.  At any other precision the wide range is
 * kept: nothing overflows in practice, and there are no subnormals.
 *   As in Python, + - * / overflow silently to inf, while ** raises
 *   OverflowError "(34, 'Numerical result out of range')" and exp, sinh,
 *   cosh raise "math range error"; converting an int too large for the
 *   double range raises "int too large to convert to float".
 *
 * Printing: the shortest digit string that reads back to the same value at
 * the value's precision (for a 53-bit double, read back as a double, so
 * subnormals print as Python prints them: 5e-324), laid out by the rules of
 * CPython's format_float_short ('r' mode switches to exponent notation at
 * 1e16, generalised to 10^max(16, digits(prec))).
 */
#include "num.h"

#include <ctype.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ast.h"

#define RNDN MPFR_RNDN

static mpfr_prec_t session_prec = 53;

mpfr_prec_t sl_num_prec(void) { return session_prec; }

void sl_num_set_prec(mpfr_prec_t bits)
{
    if (bits < SL_PREC_MIN)
        bits = SL_PREC_MIN;
    if (bits > SL_PREC_MAX)
        bits = SL_PREC_MAX;
    session_prec = bits;
}

/* ceil(d * log2(10)) and floor((b - 1) * log10(2)), computed with enough
 * precision that the irrational products are never misrounded. */
mpfr_prec_t sl_num_bits_for_digits(long digits)
{
    if (digits <= 0)
        return 0;
    mpfr_t t;
    mpfr_init2(t, 128);
    mpfr_set_ui(t, 10, RNDN);
    mpfr_log2(t, t, RNDN);
    /* mpmath's rule, round((digits + 1)·log2 10): 53 bits for 15 digits,
     * and sl_num_digits_for_bits of the result gives digits back */
    mpfr_mul_si(t, t, digits + 1, RNDN);
    mpfr_round(t, t);
    long r = mpfr_get_si(t, RNDN);
    mpfr_clear(t);
    return (mpfr_prec_t)r;
}

long sl_num_digits_for_bits(mpfr_prec_t bits)
{
    static mpfr_prec_t last_bits = 53; /* printing asks for this often */
    static long last = 15;
    if (bits == last_bits)
        return last;
    if (bits <= 1)
        return 0;
    mpfr_t t;
    mpfr_init2(t, 128);
    mpfr_set_ui(t, 2, RNDN);
    mpfr_log10(t, t, RNDN);
    mpfr_mul_si(t, t, (long)bits - 1, RNDN);
    mpfr_floor(t, t);
    long r = mpfr_get_si(t, RNDN);
    mpfr_clear(t);
    last_bits = bits;
    last = r;
    return r;
}

/* ---- the double exponent range ---- */

int sl_num_fit(mpfr_t x, int t)
{
    if (mpfr_get_prec(x) != 53 || !mpfr_regular_p(x))
        return t;
    mpfr_exp_t e = mpfr_get_exp(x);
    if (e >= -1021 && e <= 1024) /* [2^-1022, 2^1024): a normal double */
        return t;
    mpfr_exp_t emin = mpfr_get_emin(), emax = mpfr_get_emax();
    mpfr_set_emin(-1073);
    mpfr_set_emax(1024);
    t = mpfr_check_range(x, t, RNDN);
    t = mpfr_subnormalize(x, t, RNDN);
    mpfr_set_emin(emin);
    mpfr_set_emax(emax);
    return t;
}

/* Record an error of a generic kind (catalogue format "%s"), formatted here. */
static bool errf(SlError *err, SlErrCode code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool errf(SlError *err, SlErrCode code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_err(err, code, "%s", msg);
}

static SlValue *new_float(void) { return sl_float_new(session_prec); }

/* ---- operands ---- */

/* An int operand as an mpz: bools get a temporary. */
typedef struct Zop {
    mpz_t t;       /* storage for a bool */
    mpz_srcptr p;  /* the value */
    bool tmp;      /* t is in use */
} Zop;

static void zop_init(Zop *o, const SlValue *v)
{
    o->tmp = v->kind == SL_BOOL;
    if (o->tmp) {
        mpz_init_set_ui(o->t, v->u.b);
        o->p = o->t;
    } else {
        o->p = v->u.z;
    }
}

static void zop_clear(Zop *o)
{
    if (o->tmp)
        mpz_clear(o->t);
}

/* float(int) at the session precision, as PyLong_AsDouble: correctly
 * rounded, OverflowError when it leaves the double range (53 bits). */
static bool int_to_fr(mpfr_t out, mpz_srcptr z, SlError *err)
{
    int t = mpfr_set_z(out, z, RNDN);
    sl_num_fit(out, t);
    if (mpfr_inf_p(out))
        return errf(err, SL_E_OVERFLOW, "int too large to convert to float");
    return true;
}

/* A float operand: floats are used as they are, ints converted. */
typedef struct Fop {
    mpfr_t t;       /* storage for a converted int */
    mpfr_srcptr p;  /* the value */
    bool tmp;       /* t is in use */
} Fop;

static bool fop_init(Fop *o, const SlValue *v, SlError *err)
{
    o->tmp = false;
    if (v->kind == SL_FLOAT) {
        o->p = v->u.f;
        return true;
    }
    mpfr_init2(o->t, session_prec);
    o->tmp = true;
    o->p = o->t;
    if (v->kind == SL_BOOL) {
        mpfr_set_ui(o->t, v->u.b, RNDN);
        return true;
    }
    if (!int_to_fr(o->t, v->u.z, err)) {
        mpfr_clear(o->t);
        o->tmp = false;
        return false;
    }
    return true;
}

static void fop_clear(Fop *o)
{
    if (o->tmp)
        mpfr_clear(o->t);
    o->tmp = false;
}

static bool is_intlike(const SlValue *v) { return v->kind == SL_INT || v->kind == SL_BOOL; }

/* A short description of a value for messages: its repr, or its size when
 * the repr would be long. */
static void short_repr(SlBuf *out, const SlValue *v)
{
    if (v->kind == SL_INT && mpz_sizeinbase(v->u.z, 10) > 40) {
        sl_buf_printf(out, "<%zu-digit int>", mpz_sizeinbase(v->u.z, 10));
        return;
    }
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_num_repr(&b, v);
    if (b.len > 60) {
        sl_buf_add(out, b.s, 30);
        sl_buf_puts(out, "...");
    } else {
        sl_buf_add(out, b.s, b.len);
    }
    sl_buf_free(&b);
}

static bool limit_bits(SlError *err, double bits)
{
    return errf(err, SL_E_LIMIT, "integer result too large: it would have %.0f bits (the limit is %ld)", bits,
                  SL_INT_BITS_MAX);
}

/* ---- parsing ---- */

/* Copy text without underscores and surrounding white space. */
static char *clean_literal(const char *text)
{
    size_t n = strlen(text);
    char *s = malloc(n + 1);
    if (!s)
        abort();
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (text[i] != '_')
            s[j++] = text[i];
    s[j] = '\0';
    size_t a = 0;
    while (s[a] && isspace((unsigned char)s[a]))
        a++;
    while (j > a && isspace((unsigned char)s[j - 1]))
        j--;
    memmove(s, s + a, j - a);
    s[j - a] = '\0';
    return s;
}

SlValue *sl_num_parse_int(const char *text, SlError *err)
{
    char *s = clean_literal(text);
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    int base = 10;
    if (p[0] == '0' && p[1] && strchr("xXoObB", p[1])) {
        base = (p[1] == 'x' || p[1] == 'X') ? 16 : (p[1] == 'o' || p[1] == 'O') ? 8 : 2;
        p += 2;
    }
    bool ok = *p != '\0';
    for (const char *q = p; *q && ok; q++) {
        int c = tolower((unsigned char)*q);
        int d = isdigit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : 99;
        ok = d < base;
    }
    SlValue *v = NULL;
    if (ok) {
        v = sl_int_new();
        ok = mpz_set_str(v->u.z, p, base) == 0;
        if (ok && neg)
            mpz_neg(v->u.z, v->u.z);
    }
    if (!ok) {
        sl_unref(v);
        v = NULL;
        errf(err, SL_E_VALUE, "invalid literal for int() with base 10: '%s'", text);
    }
    free(s);
    return v;
}

/* Read a decimal string at x's precision, as Python's float(): correctly
 * rounded, fitted to the double range at 53 bits.  Accepts an optional
 * sign, digits with an optional point, an optional exponent, and
 * inf/infinity/nan. */
static bool read_float(mpfr_t x, const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!strcasecmp(p, "inf") || !strcasecmp(p, "infinity") || !strcasecmp(p, "nan")) {
        if (tolower((unsigned char)*p) == 'n')
            mpfr_set_nan(x);
        else
            mpfr_set_inf(x, *s == '-' ? -1 : 1);
        return true;
    }
    size_t nd = 0;
    while (isdigit((unsigned char)*p))
        p++, nd++;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            nd++;
    if (nd == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p)
        return false;
    char *end;
    int t = mpfr_strtofr(x, s, &end, 10, RNDN);
    if (*end)
        return false;
    sl_num_fit(x, t);
    return true;
}

SlValue *sl_num_parse_float(const char *text, SlError *err)
{
    char *s = clean_literal(text);
    SlValue *v = new_float();
    if (!read_float(v->u.f, s)) {
        sl_unref(v);
        v = NULL;
        errf(err, SL_E_VALUE, "could not convert string to float: '%s'", text);
    }
    free(s);
    return v;
}

/* ---- arithmetic ---- */

static SlValue *float_pow(mpfr_srcptr iv, mpfr_srcptr iw, SlError *err);

/* x is an odd integer (DOUBLE_IS_ODD_INTEGER). */
static bool is_odd_integer(mpfr_srcptr x)
{
    if (!mpfr_number_p(x) || mpfr_zero_p(x) || !mpfr_integer_p(x))
        return false;
    if (mpfr_get_exp(x) > (mpfr_exp_t)mpfr_get_prec(x))
        return false; /* a multiple of 2^(EXP-PREC) >= 2 */
    mpfr_t h;
    mpfr_init2(h, mpfr_get_prec(x));
    mpfr_div_2ui(h, x, 1, RNDN); /* exact */
    bool odd = !mpfr_integer_p(h);
    mpfr_clear(h);
    return odd;
}

/* Python's float % (float_rem): fmod, then the sign of the divisor. */
static void float_mod(mpfr_t mod, mpfr_srcptr vx, mpfr_srcptr wx)
{
    sl_num_fit(mod, mpfr_fmod(mod, vx, wx, RNDN));
    if (!mpfr_zero_p(mod)) {
        if ((mpfr_sgn(wx) < 0) != (mpfr_sgn(mod) < 0))
            sl_num_fit(mod, mpfr_add(mod, mod, wx, RNDN));
    } else {
        mpfr_set_zero(mod, mpfr_signbit(wx) ? -1 : 1);
    }
}

/* Python's float // (_float_div_mod), step by step at the session
 * precision so that the double case rounds exactly as CPython's does. */
static void float_floordiv(mpfr_t floordiv, mpfr_srcptr vx, mpfr_srcptr wx)
{
    mpfr_t mod, div, t;
    mpfr_inits2(session_prec, mod, div, t, (mpfr_ptr)0);
    sl_num_fit(mod, mpfr_fmod(mod, vx, wx, RNDN));
    sl_num_fit(div, mpfr_sub(div, vx, mod, RNDN));
    sl_num_fit(div, mpfr_div(div, div, wx, RNDN));
    if (!mpfr_zero_p(mod)) {
        if ((mpfr_sgn(wx) < 0) != (mpfr_sgn(mod) < 0)) {
            sl_num_fit(mod, mpfr_add(mod, mod, wx, RNDN));
            sl_num_fit(div, mpfr_sub_ui(div, div, 1, RNDN));
        }
    }
    if (!mpfr_zero_p(div)) {
        mpfr_floor(floordiv, div);
        mpfr_sub(t, div, floordiv, RNDN);
        if (mpfr_number_p(t) && mpfr_cmp_d(t, 0.5) > 0)
            sl_num_fit(floordiv, mpfr_add_ui(floordiv, floordiv, 1, RNDN));
    } else {
        bool neg = mpfr_signbit(vx) != mpfr_signbit(wx);
        mpfr_set_zero(floordiv, neg ? -1 : 1);
    }
    mpfr_clears(mod, div, t, (mpfr_ptr)0);
}

static SlValue *float_binop(int op, const SlValue *a, const SlValue *b, SlError *err)
{
    Fop x, y;
    if (!fop_init(&x, a, err))
        return NULL;
    if (!fop_init(&y, b, err)) {
        fop_clear(&x);
        return NULL;
    }
    SlValue *r = NULL;
    switch (op) {
    case SL_OP_ADD:
        r = new_float();
        sl_num_fit(r->u.f, mpfr_add(r->u.f, x.p, y.p, RNDN));
        break;
    case SL_OP_SUB:
        r = new_float();
        sl_num_fit(r->u.f, mpfr_sub(r->u.f, x.p, y.p, RNDN));
        break;
    case SL_OP_MUL:
        r = new_float();
        sl_num_fit(r->u.f, mpfr_mul(r->u.f, x.p, y.p, RNDN));
        break;
    case SL_OP_DIV:
        if (mpfr_zero_p(y.p)) {
            errf(err, SL_E_ZERODIV, "float division by zero");
            break;
        }
        r = new_float();
        sl_num_fit(r->u.f, mpfr_div(r->u.f, x.p, y.p, RNDN));
        break;
    case SL_OP_FLOORDIV:
        if (mpfr_zero_p(y.p)) {
            errf(err, SL_E_ZERODIV, "float floor division by zero");
            break;
        }
        r = new_float();
        float_floordiv(r->u.f, x.p, y.p);
        break;
    case SL_OP_MOD:
        if (mpfr_zero_p(y.p)) {
            errf(err, SL_E_ZERODIV, "float modulo");
            break;
        }
        r = new_float();
        float_mod(r->u.f, x.p, y.p);
        break;
    case SL_OP_POW: r = float_pow(x.p, y.p, err); break;
    default: sl_err(err, SL_E_INTERNAL, "num: not an arithmetic operator"); break;
    }
    fop_clear(&x);
    fop_clear(&y);
    return r;
}

/* Python's float_pow, special cases first, then a correctly rounded pow. */
static SlValue *float_pow(mpfr_srcptr iv, mpfr_srcptr iw, SlError *err)
{
    SlValue *r = new_float();
    mpfr_ptr f = r->u.f;
    if (mpfr_zero_p(iw)) { /* v**0 is 1, even 0**0 and nan**0 */
        mpfr_set_ui(f, 1, RNDN);
        return r;
    }
    if (mpfr_nan_p(iv)) {
        mpfr_set_nan(f);
        return r;
    }
    if (mpfr_nan_p(iw)) { /* 1**nan = 1 */
        if (mpfr_cmp_ui(iv, 1) == 0)
            mpfr_set_ui(f, 1, RNDN);
        else
            mpfr_set_nan(f);
        return r;
    }
    if (mpfr_inf_p(iw)) {
        int c = mpfr_cmpabs_ui(iv, 1);
        if (c == 0)
            mpfr_set_ui(f, 1, RNDN);
        else if ((mpfr_sgn(iw) > 0) == (c > 0))
            mpfr_set_inf(f, 1);
        else
            mpfr_set_zero(f, 1);
        return r;
    }
    if (mpfr_inf_p(iv)) {
        bool odd = is_odd_integer(iw);
        if (mpfr_sgn(iw) > 0)
            mpfr_set_inf(f, odd && mpfr_sgn(iv) < 0 ? -1 : 1);
        else
            mpfr_set_zero(f, odd && mpfr_sgn(iv) < 0 ? -1 : 1);
        return r;
    }
    if (mpfr_zero_p(iv)) {
        bool odd = is_odd_integer(iw);
        if (mpfr_sgn(iw) < 0) {
            sl_unref(r);
            errf(err, SL_E_ZERODIV, "0.0 cannot be raised to a negative power");
            return NULL;
        }
        mpfr_set_zero(f, odd && mpfr_signbit(iv) ? -1 : 1);
        return r;
    }
    bool negate = false;
    if (mpfr_sgn(iv) < 0) {
        if (!mpfr_integer_p(iw)) {
            sl_unref(r);
            errf(err, SL_E_VALUE,
                   "negative number cannot be raised to a fractional power "
                   "(the result is complex, and slope has no complex numbers)");
            return NULL;
        }
        negate = is_odd_integer(iw);
    }
    if (mpfr_cmpabs_ui(iv, 1) == 0) {
        mpfr_set_si(f, negate ? -1 : 1, RNDN);
        return r;
    }
    mpfr_t av;
    mpfr_init2(av, mpfr_get_prec(iv));
    mpfr_abs(av, iv, RNDN);
    int t = mpfr_pow(f, av, iw, RNDN);
    mpfr_clear(av);
    sl_num_fit(f, t);
    if (mpfr_inf_p(f)) {
        sl_unref(r);
        errf(err, SL_E_OVERFLOW, "(34, 'Numerical result out of range')");
        return NULL;
    }
    if (negate)
        mpfr_neg(f, f, RNDN);
    return r;
}

/* int / int: the exact quotient, rounded once. */
static SlValue *int_truediv(mpz_srcptr a, mpz_srcptr b, SlError *err)
{
    if (mpz_sgn(b) == 0) {
        errf(err, SL_E_ZERODIV, "division by zero");
        return NULL;
    }
    mpfr_t x, y;
    size_t na = mpz_sizeinbase(a, 2), nb = mpz_sizeinbase(b, 2);
    mpfr_init2(x, (mpfr_prec_t)(na < 2 ? 2 : na));
    mpfr_init2(y, (mpfr_prec_t)(nb < 2 ? 2 : nb));
    mpfr_set_z(x, a, RNDN); /* exact */
    mpfr_set_z(y, b, RNDN); /* exact */
    SlValue *r = new_float();
    sl_num_fit(r->u.f, mpfr_div(r->u.f, x, y, RNDN));
    mpfr_clears(x, y, (mpfr_ptr)0);
    if (mpfr_inf_p(r->u.f)) {
        sl_unref(r);
        errf(err, SL_E_OVERFLOW, "integer division result too large for a float");
        return NULL;
    }
    return r;
}

static SlValue *int_pow(const SlValue *av, const SlValue *bv, mpz_srcptr a, mpz_srcptr b, SlError *err)
{
    SlValue *r = sl_int_new();
    if (mpz_cmpabs_ui(a, 1) <= 0) { /* 0, 1, -1 */
        if (mpz_sgn(a) == 0)
            mpz_set_ui(r->u.z, mpz_sgn(b) == 0);
        else if (mpz_sgn(a) > 0 || mpz_even_p(b))
            mpz_set_ui(r->u.z, 1);
        else
            mpz_set_si(r->u.z, -1);
        return r;
    }
    long ea;
    double da = mpz_get_d_2exp(&ea, a); /* |a| = |da| * 2^ea, |da| in [0.5, 1) */
    double l2 = (double)ea + log2(fabs(da));
    double eb = mpz_get_d(b);
    double bits = floor(eb * l2) + 1;
    if (!mpz_fits_ulong_p(b) || bits > (double)SL_INT_BITS_MAX) {
        SlBuf m = {0};
        sl_buf_init(&m);
        bool neg = mpz_sgn(a) < 0;
        if (neg)
            sl_buf_putc(&m, '(');
        short_repr(&m, av);
        if (neg)
            sl_buf_putc(&m, ')');
        sl_buf_puts(&m, "**");
        short_repr(&m, bv);
        sl_unref(r);
        if (bits < 1e18)
            errf(err, SL_E_LIMIT, "integer result too large: %s would have %.0f bits", m.s, bits);
        else
            errf(err, SL_E_LIMIT, "integer result too large: %s would have about %.3g bits", m.s, bits);
        sl_buf_free(&m);
        return NULL;
    }
    mpz_pow_ui(r->u.z, a, mpz_get_ui(b));
    return r;
}

static SlValue *int_binop(int op, const SlValue *a, const SlValue *b, SlError *err)
{
    if (op == SL_OP_POW) {
        Zop y;
        zop_init(&y, b);
        bool neg = mpz_sgn(y.p) < 0;
        zop_clear(&y);
        if (neg) /* CPython: int ** negative int is float ** float */
            return float_binop(op, a, b, err);
    }
    Zop x, y;
    zop_init(&x, a);
    zop_init(&y, b);
    SlValue *r = NULL;
    switch (op) {
    case SL_OP_ADD:
        r = sl_int_new();
        mpz_add(r->u.z, x.p, y.p);
        break;
    case SL_OP_SUB:
        r = sl_int_new();
        mpz_sub(r->u.z, x.p, y.p);
        break;
    case SL_OP_MUL: {
        double bits = (double)mpz_sizeinbase(x.p, 2) + (double)mpz_sizeinbase(y.p, 2);
        if (mpz_sgn(x.p) && mpz_sgn(y.p) && bits > (double)SL_INT_BITS_MAX) {
            limit_bits(err, bits);
            break;
        }
        r = sl_int_new();
        mpz_mul(r->u.z, x.p, y.p);
        break;
    }
    case SL_OP_DIV: r = int_truediv(x.p, y.p, err); break;
    case SL_OP_FLOORDIV:
        if (mpz_sgn(y.p) == 0) {
            errf(err, SL_E_ZERODIV, "integer division or modulo by zero");
            break;
        }
        r = sl_int_new();
        mpz_fdiv_q(r->u.z, x.p, y.p);
        break;
    case SL_OP_MOD:
        if (mpz_sgn(y.p) == 0) {
            errf(err, SL_E_ZERODIV, "integer modulo by zero");
            break;
        }
        r = sl_int_new();
        mpz_fdiv_r(r->u.z, x.p, y.p);
        break;
    case SL_OP_POW: r = int_pow(a, b, x.p, y.p, err); break;
    default: sl_err(err, SL_E_INTERNAL, "num: not an arithmetic operator"); break;
    }
    zop_clear(&x);
    zop_clear(&y);
    return r;
}

SlValue *sl_num_binop(int op, const SlValue *a, const SlValue *b, SlError *err)
{
    if (!sl_is_number(a) || !sl_is_number(b)) {
        sl_err(err, SL_E_INTERNAL, "sl_num_binop on a non-number");
        return NULL;
    }
    if (is_intlike(a) && is_intlike(b))
        return int_binop(op, a, b, err);
    return float_binop(op, a, b, err);
}

SlValue *sl_num_unop(int op, const SlValue *a, SlError *err)
{
    if (!sl_is_number(a) || (op != SL_OP_NEG && op != SL_OP_POS)) {
        sl_err(err, SL_E_INTERNAL, "sl_num_unop: bad operand or operator");
        return NULL;
    }
    if (a->kind == SL_BOOL)
        return sl_int_si(op == SL_OP_NEG ? -(long)a->u.b : (long)a->u.b);
    if (a->kind == SL_INT) {
        if (op == SL_OP_POS)
            return sl_ref((SlValue *)a);
        SlValue *r = sl_int_new();
        mpz_neg(r->u.z, a->u.z);
        return r;
    }
    if (op == SL_OP_POS && mpfr_get_prec(a->u.f) == session_prec)
        return sl_ref((SlValue *)a);
    SlValue *r = new_float();
    int t = op == SL_OP_NEG ? mpfr_neg(r->u.f, a->u.f, RNDN) : mpfr_set(r->u.f, a->u.f, RNDN);
    sl_num_fit(r->u.f, t);
    return r;
}

static int sgn3(int c) { return (c > 0) - (c < 0); }

int sl_num_cmp(const SlValue *a, const SlValue *b)
{
    if (is_intlike(a) && is_intlike(b)) {
        if (a->kind == SL_INT && b->kind == SL_INT)
            return sgn3(mpz_cmp(a->u.z, b->u.z));
        if (a->kind == SL_INT)
            return sgn3(mpz_cmp_si(a->u.z, b->u.b));
        if (b->kind == SL_INT)
            return -sgn3(mpz_cmp_si(b->u.z, a->u.b));
        return (a->u.b > b->u.b) - (a->u.b < b->u.b);
    }
    if ((a->kind == SL_FLOAT && mpfr_nan_p(a->u.f)) || (b->kind == SL_FLOAT && mpfr_nan_p(b->u.f)))
        return 2;
    if (a->kind == SL_FLOAT && b->kind == SL_FLOAT)
        return sgn3(mpfr_cmp(a->u.f, b->u.f));
    if (a->kind == SL_FLOAT)
        return b->kind == SL_INT ? sgn3(mpfr_cmp_z(a->u.f, b->u.z)) : sgn3(mpfr_cmp_si(a->u.f, b->u.b));
    return a->kind == SL_INT ? -sgn3(mpfr_cmp_z(b->u.f, a->u.z)) : -sgn3(mpfr_cmp_si(b->u.f, a->u.b));
}

bool sl_num_equal(const SlValue *a, const SlValue *b) { return sl_num_cmp(a, b) == 0; }

/* ---- conversions ---- */

bool sl_num_to_long(const SlValue *v, long *out)
{
    if (v->kind == SL_BOOL) {
        *out = v->u.b;
        return true;
    }
    if (v->kind == SL_INT && mpz_fits_slong_p(v->u.z)) {
        *out = mpz_get_si(v->u.z);
        return true;
    }
    return false;
}

double sl_num_to_double(const SlValue *v)
{
    switch (v->kind) {
    case SL_BOOL: return v->u.b;
    case SL_INT: {
        mpfr_t t;
        mpfr_init2(t, 53);
        mpfr_set_z(t, v->u.z, RNDN);
        double d = mpfr_get_d(t, RNDN);
        mpfr_clear(t);
        return d;
    }
    case SL_FLOAT: return mpfr_get_d(v->u.f, RNDN);
    default: return NAN;
    }
}

void sl_num_to_mpfr(mpfr_t out, const SlValue *v)
{
    switch (v->kind) {
    case SL_BOOL: mpfr_set_ui(out, v->u.b, RNDN); break;
    case SL_INT: sl_num_fit(out, mpfr_set_z(out, v->u.z, RNDN)); break;
    case SL_FLOAT: sl_num_fit(out, mpfr_set(out, v->u.f, RNDN)); break;
    default: mpfr_set_nan(out); break;
    }
}

SlValue *sl_num_from_mpfr(const mpfr_t x)
{
    SlValue *r = sl_float_new(mpfr_get_prec(x));
    mpfr_set(r->u.f, x, RNDN);
    sl_num_fit(r->u.f, 0);
    return r;
}

SlValue *sl_num_to_float(const SlValue *v, SlError *err)
{
    if (v->kind == SL_FLOAT && mpfr_get_prec(v->u.f) == session_prec)
        return sl_ref((SlValue *)v);
    Fop x;
    if (!fop_init(&x, v, err))
        return NULL;
    SlValue *r = new_float();
    sl_num_fit(r->u.f, mpfr_set(r->u.f, x.p, RNDN));
    fop_clear(&x);
    return r;
}

/* An integral-valued finite check shared by int(), floor, ceil, round. */
static bool float_to_z_ok(mpfr_srcptr f, SlError *err)
{
    if (mpfr_nan_p(f))
        return errf(err, SL_E_VALUE, "cannot convert float NaN to integer");
    if (mpfr_inf_p(f))
        return errf(err, SL_E_OVERFLOW, "cannot convert float infinity to integer");
    if (!mpfr_zero_p(f) && mpfr_get_exp(f) > SL_INT_BITS_MAX)
        return limit_bits(err, (double)mpfr_get_exp(f));
    return true;
}

static SlValue *float_to_int(mpfr_srcptr f, mpfr_rnd_t rnd, SlError *err)
{
    if (!float_to_z_ok(f, err))
        return NULL;
    SlValue *r = sl_int_new();
    mpfr_get_z(r->u.z, f, rnd);
    return r;
}

SlValue *sl_num_to_int(const SlValue *v, SlError *err)
{
    switch (v->kind) {
    case SL_BOOL: return sl_int_si(v->u.b);
    case SL_INT: return sl_ref((SlValue *)v);
    case SL_FLOAT: return float_to_int(v->u.f, MPFR_RNDZ, err);
    default: sl_err(err, SL_E_INTERNAL, "sl_num_to_int on a non-number"); return NULL;
    }
}

/* ---- constants ---- */

SlValue *sl_num_pi(void)
{
    SlValue *r = new_float();
    mpfr_const_pi(r->u.f, RNDN);
    return r;
}

SlValue *sl_num_e(void)
{
    SlValue *r = new_float();
    mpfr_set_ui(r->u.f, 1, RNDN);
    mpfr_exp(r->u.f, r->u.f, RNDN);
    return r;
}

SlValue *sl_num_inf(void)
{
    SlValue *r = new_float();
    mpfr_set_inf(r->u.f, 1);
    return r;
}

SlValue *sl_num_nan(void)
{
    SlValue *r = new_float();
    mpfr_set_nan(r->u.f);
    return r;
}

/* ---- shortest digits ---- */

/* Round-trip state for one value. */
typedef struct Rt {
    mpfr_t ax;   /* |x|, exact */
    mpfr_t y;    /* read-back scratch at x's precision */
    bool dbl;    /* |x| is exactly a double: generate and read back as doubles */
    double d;    /* |x| when dbl */
    bool pow2;   /* |x| is a power of two: its rounding interval is lopsided */
    SlBuf s;     /* scratch string */
} Rt;

/* n significant digits of |x| rounded by rnd (malloc'd), *exp10 such that
 * the value is 0.DIGITS * 10^exp10. */
static char *gen_digits(Rt *rt, long n, mpfr_rnd_t rnd, long *exp10)
{
    char *out = malloc((size_t)n + 1);
    if (!out)
        abort();
    if (rt->dbl && rnd == RNDN && n <= 40) {
        char buf[80];
        snprintf(buf, sizeof buf, "%.*e", (int)(n - 1), rt->d);
        long k = 0;
        const char *p = buf;
        for (; *p && *p != 'e'; p++)
            if (isdigit((unsigned char)*p))
                out[k++] = *p;
        out[k] = '\0';
        *exp10 = strtol(p + 1, NULL, 10) + 1;
        return out;
    }
    mpfr_exp_t e;
    char *s = mpfr_get_str(NULL, &e, 10, (size_t)n, rt->ax, rnd);
    memcpy(out, s, (size_t)n);
    out[n] = '\0';
    mpfr_free_str(s);
    *exp10 = (long)e;
    return out;
}

static bool rt_check(Rt *rt, const char *digits, long n, long exp10)
{
    rt->s.len = 0;
    sl_buf_add(&rt->s, digits, (size_t)n);
    sl_buf_printf(&rt->s, "e%ld", exp10 - n);
    if (rt->dbl)
        return strtod(rt->s.s, NULL) == rt->d;
    mpfr_strtofr(rt->y, rt->s.s, NULL, 10, RNDN);
    return mpfr_equal_p(rt->y, rt->ax);
}

/* The nearest n-digit decimal that reads back to x, if there is one. */
static char *try_digits(Rt *rt, long n, long *exp10)
{
    long e;
    char *d = gen_digits(rt, n, RNDN, &e);
    if (rt_check(rt, d, n, e)) {
        *exp10 = e;
        return d;
    }
    free(d);
    if (!rt->pow2) /* symmetric interval: the nearest is the best chance */
        return NULL;
    for (int i = 0; i < 2; i++) {
        d = gen_digits(rt, n, i ? MPFR_RNDU : MPFR_RNDD, &e);
        if (rt_check(rt, d, n, e)) {
            *exp10 = e;
            return d;
        }
        free(d);
    }
    return NULL;
}

char *sl_num_shortest(const mpfr_t x, long *exp10)
{
    Rt rt;
    mpfr_prec_t p = mpfr_get_prec(x);
    mpfr_init2(rt.ax, p);
    mpfr_init2(rt.y, p);
    mpfr_abs(rt.ax, x, RNDN);
    rt.d = mpfr_get_d(rt.ax, RNDN);
    rt.dbl = p == 53 && isfinite(rt.d) && mpfr_cmp_d(rt.ax, rt.d) == 0;
    rt.pow2 = mpfr_cmp_ui_2exp(rt.ax, 1, mpfr_get_exp(rt.ax) - 1) == 0;
    sl_buf_init(&rt.s);

    /* Some n-digit decimal reads back to x  =>  so does an (n+1)-digit
     * one (append a zero): the predicate is monotone in n, so a binary
     * search finds the least n.  n = 1 + ceil(p log10 2) always works. */
    long hi = rt.dbl ? 17 : 2 + (long)ceil((double)p * 0.30102999566398120);
    long lo = 0, best_e = 0;
    char *best = try_digits(&rt, hi, &best_e);
    while (!best) /* cannot happen; be safe */
        best = try_digits(&rt, ++hi, &best_e);
    bool first = true;
    while (hi - lo > 1) {
        /* Most values need nearly all the digits: probe there first. */
        long mid = first && hi - lo > 4 ? hi - 2 : lo + (hi - lo) / 2;
        first = false;
        long e;
        char *c = try_digits(&rt, mid, &e);
        if (c) {
            free(best);
            best = c;
            best_e = e;
            hi = mid;
        } else {
            lo = mid;
        }
    }
    size_t n = strlen(best);
    while (n > 1 && best[n - 1] == '0')
        best[--n] = '\0';
    mpfr_clears(rt.ax, rt.y, (mpfr_ptr)0);
    sl_buf_free(&rt.s);
    *exp10 = best_e;
    return best;
}

/* ---- decimal digits in Gay's dtoa modes ---- */

static void strip_zeros(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '0')
        s[--n] = '\0';
}

static char *dup_get_str(long n, mpfr_srcptr ax, mpfr_rnd_t rnd, long *exp10)
{
    mpfr_exp_t e;
    char *s = mpfr_get_str(NULL, &e, 10, (size_t)n, ax, rnd);
    char *out = strdup(s);
    mpfr_free_str(s);
    if (!out)
        abort();
    *exp10 = (long)e;
    return out;
}

/* Digits of |x| (finite, nonzero) without trailing zeros and decpt with
 * |x| ~ 0.DIGITS * 10^decpt, as _Py_dg_dtoa: mode 0 shortest round trip,
 * mode 2 nd significant digits, mode 3 nd digits after the point (the
 * result may then be empty: the value rounds to zero, decpt = -nd). */
static char *dtoa(mpfr_srcptr x, int mode, long nd, long *decpt)
{
    if (mode == 0)
        return sl_num_shortest(x, decpt);
    mpfr_t ax;
    mpfr_init2(ax, mpfr_get_prec(x));
    mpfr_abs(ax, x, RNDN);
    char *s;
    if (mode == 2) {
        s = dup_get_str(nd < 1 ? 1 : nd, ax, RNDN, decpt);
    } else {
        long e;
        char *t = dup_get_str(1, ax, MPFR_RNDZ, &e); /* |x| in [10^(e-1), 10^e) */
        long n = e + nd;
        if (n >= 1) {
            s = dup_get_str(n, ax, RNDN, decpt);
        } else {
            bool up = false; /* round to 10^e = 10^-nd instead of 0 */
            if (n == 0 && t[0] >= '5') {
                up = true;
                if (t[0] == '5') { /* |x| == 5 * 10^(e-1) exactly?  a tie: to even, 0 */
                    long e2;
                    char *u = dup_get_str(2, ax, MPFR_RNDU, &e2);
                    up = !(e2 == e && u[0] == '5' && u[1] == '0');
                    free(u);
                }
            }
            s = strdup(up ? "1" : "");
            if (!s)
                abort();
            *decpt = up ? e + 1 : -nd;
        }
        free(t);
    }
    mpfr_clear(ax);
    strip_zeros(s);
    return s;
}

static void put_zeros(SlBuf *out, long n)
{
    for (long i = 0; i < n; i++)
        sl_buf_putc(out, '0');
}

/* CPython's format_float_short, generalised to any precision. */
void sl_num_float_str(SlBuf *out, const mpfr_t x, char code, long precision, int flags)
{
    bool upper = code == 'E' || code == 'F' || code == 'G';
    code = (char)tolower((unsigned char)code);
    int mode = 0;
    switch (code) {
    case 'e': mode = 2; precision++; break;
    case 'f': mode = 3; break;
    case 'g':
        mode = 2;
        if (precision == 0)
            precision = 1;
        break;
    default: code = 'r'; mode = 0; break;
    }
    bool sign = !mpfr_nan_p(x) && mpfr_signbit(x);
    if (!mpfr_number_p(x)) {
        if (sign)
            sl_buf_putc(out, '-');
        else if (flags & SL_DTSF_SIGN)
            sl_buf_putc(out, '+');
        if (mpfr_inf_p(x))
            sl_buf_puts(out, upper ? "INF" : "inf");
        else
            sl_buf_puts(out, upper ? "NAN" : "nan");
        return;
    }
    long decpt;
    char *digits;
    if (mpfr_zero_p(x)) {
        digits = strdup("0");
        if (!digits)
            abort();
        decpt = 1;
    } else {
        digits = dtoa(x, mode, precision, &decpt);
    }
    long digits_len = (long)strlen(digits);
    if ((flags & SL_DTSF_NO_NEG_0) && sign && (digits_len == 0 || (digits_len == 1 && digits[0] == '0')))
        sign = false;

    bool add_dot_0 = flags & SL_DTSF_ADD_DOT_0, alt = flags & SL_DTSF_ALT;
    bool use_exp = false;
    long vdigits_end = digits_len, exp = 0;
    switch (code) {
    case 'e':
        use_exp = true;
        vdigits_end = precision;
        break;
    case 'f': vdigits_end = decpt + precision; break;
    case 'g':
        if (decpt <= -4 || decpt > (add_dot_0 ? precision - 1 : precision))
            use_exp = true;
        if (alt)
            vdigits_end = precision;
        break;
    default: { /* 'r': exponent notation from 10^max(16, digits) */
        long lim = sl_num_digits_for_bits(mpfr_get_prec(x));
        if (lim < 16)
            lim = 16;
        if (decpt <= -4 || decpt > lim)
            use_exp = true;
        break;
    }
    }
    if (use_exp) {
        exp = decpt - 1;
        decpt = 1;
    }
    long vdigits_start = decpt <= 0 ? decpt - 1 : 0;
    if (!use_exp && add_dot_0)
        vdigits_end = vdigits_end > decpt ? vdigits_end : decpt + 1;
    else
        vdigits_end = vdigits_end > decpt ? vdigits_end : decpt;

    size_t start = out->len;
    if (sign)
        sl_buf_putc(out, '-');
    else if (flags & SL_DTSF_SIGN)
        sl_buf_putc(out, '+');
    if (decpt <= 0) {
        put_zeros(out, decpt - vdigits_start);
        sl_buf_putc(out, '.');
        put_zeros(out, -decpt);
    } else {
        put_zeros(out, -vdigits_start);
    }
    if (0 < decpt && decpt <= digits_len) {
        sl_buf_add(out, digits, (size_t)decpt);
        sl_buf_putc(out, '.');
        sl_buf_add(out, digits + decpt, (size_t)(digits_len - decpt));
    } else {
        sl_buf_add(out, digits, (size_t)digits_len);
    }
    if (digits_len < decpt) {
        put_zeros(out, decpt - digits_len);
        sl_buf_putc(out, '.');
        put_zeros(out, vdigits_end - decpt);
    } else {
        put_zeros(out, vdigits_end - digits_len);
    }
    if (out->len > start && out->s[out->len - 1] == '.' && !alt)
        out->s[--out->len] = '\0';
    if (use_exp)
        sl_buf_printf(out, "%c%+.02ld", upper ? 'E' : 'e', exp);
    free(digits);
}

void sl_num_repr(SlBuf *out, const SlValue *v)
{
    switch (v->kind) {
    case SL_BOOL: sl_buf_puts(out, v->u.b ? "True" : "False"); break;
    case SL_INT: {
        char *s = mpz_get_str(NULL, 10, v->u.z);
        sl_buf_puts(out, s);
        void (*freefn)(void *, size_t);
        mp_get_memory_functions(NULL, NULL, &freefn);
        freefn(s, strlen(s) + 1);
        break;
    }
    case SL_FLOAT: sl_num_float_str(out, v->u.f, 'r', 0, SL_DTSF_ADD_DOT_0); break;
    default: sl_buf_puts(out, "?"); break;
    }
}

/* ---- the math functions ---- */

const SlMathFnInfo sl_math_fns[SL_FN_COUNT] = {
    [SL_FN_SIN] = {"sin", 1, 1},       [SL_FN_COS] = {"cos", 1, 1},
    [SL_FN_TAN] = {"tan", 1, 1},       [SL_FN_ASIN] = {"asin", 1, 1},
    [SL_FN_ACOS] = {"acos", 1, 1},     [SL_FN_ATAN] = {"atan", 1, 1},
    [SL_FN_ATAN2] = {"atan2", 2, 2},   [SL_FN_SINH] = {"sinh", 1, 1},
    [SL_FN_COSH] = {"cosh", 1, 1},     [SL_FN_TANH] = {"tanh", 1, 1},
    [SL_FN_EXP] = {"exp", 1, 1},       [SL_FN_LOG] = {"log", 1, 2},
    [SL_FN_LOG2] = {"log2", 1, 1},     [SL_FN_LOG10] = {"log10", 1, 1},
    [SL_FN_SQRT] = {"sqrt", 1, 1},     [SL_FN_CBRT] = {"cbrt", 1, 1},
    [SL_FN_ABS] = {"abs", 1, 1},       [SL_FN_SIGN] = {"sign", 1, 1},
    [SL_FN_FLOOR] = {"floor", 1, 1},   [SL_FN_CEIL] = {"ceil", 1, 1},
    [SL_FN_ROUND] = {"round", 1, 2},   [SL_FN_MIN] = {"min", 1, -1},
    [SL_FN_MAX] = {"max", 1, -1},      [SL_FN_SIGMOID] = {"sigmoid", 1, 1},
    [SL_FN_RELU] = {"relu", 1, 1},
    [SL_FN_HEAVISIDE] = {"heaviside", 1, 1},
};

int sl_math_fn_lookup(const char *name)
{
    for (int i = 0; i < SL_FN_COUNT; i++)
        if (!strcmp(sl_math_fns[i].name, name))
            return i;
    return -1;
}

/* "log(0)" for the domain error message. */
static bool domain_error(SlError *err, SlMathFn fn, SlValue *const *args, int nargs)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_buf_printf(&b, "%s(", sl_math_fns[fn].name);
    for (int i = 0; i < nargs; i++) {
        if (i)
            sl_buf_puts(&b, ", ");
        short_repr(&b, args[i]);
    }
    sl_buf_putc(&b, ')');
    sl_err(err, SL_E_MATH_DOMAIN, b.s);
    sl_buf_free(&b);
    return false;
}

typedef int (*MpfrFn1)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t);

/* Python's math_1: nan from a non-nan is a domain error, inf from a
 * finite value an overflow (exp, sinh, cosh) or a domain error (log 0). */
static SlValue *math_1(SlMathFn fn, MpfrFn1 f, bool can_overflow, SlValue *const *args, SlError *err)
{
    Fop x;
    if (!fop_init(&x, args[0], err))
        return NULL;
    SlValue *r = new_float();
    sl_num_fit(r->u.f, f(r->u.f, x.p, RNDN));
    bool bad_nan = mpfr_nan_p(r->u.f) && !mpfr_nan_p(x.p);
    bool bad_inf = mpfr_inf_p(r->u.f) && mpfr_number_p(x.p);
    fop_clear(&x);
    if (bad_nan || (bad_inf && !can_overflow)) {
        sl_unref(r);
        domain_error(err, fn, args, 1);
        return NULL;
    }
    if (bad_inf) {
        sl_unref(r);
        errf(err, SL_E_OVERFLOW, "math range error");
        return NULL;
    }
    return r;
}

/* Python's loghelper: ints must be positive, and ints beyond the double
 * range still have a logarithm (computed here from the exact int). */
static SlValue *log_helper(SlMathFn fn, MpfrFn1 f, const SlValue *v, SlValue *const *args, int nargs,
                           SlError *err)
{
    if (v->kind == SL_INT) {
        if (mpz_sgn(v->u.z) <= 0) {
            domain_error(err, fn, args, nargs);
            return NULL;
        }
        mpfr_t t;
        mpfr_init2(t, session_prec);
        sl_num_fit(t, mpfr_set_z(t, v->u.z, RNDN));
        if (mpfr_inf_p(t)) {
            size_t bits = mpz_sizeinbase(v->u.z, 2);
            mpfr_set_prec(t, (mpfr_prec_t)bits);
            mpfr_set_z(t, v->u.z, RNDN); /* exact */
        }
        SlValue *r = new_float();
        sl_num_fit(r->u.f, f(r->u.f, t, RNDN));
        mpfr_clear(t);
        return r;
    }
    Fop x;
    if (!fop_init(&x, v, err))
        return NULL;
    SlValue *r = new_float();
    sl_num_fit(r->u.f, f(r->u.f, x.p, RNDN));
    bool bad = (mpfr_nan_p(r->u.f) && !mpfr_nan_p(x.p)) || (mpfr_inf_p(r->u.f) && mpfr_number_p(x.p));
    fop_clear(&x);
    if (bad) {
        sl_unref(r);
        domain_error(err, fn, args, nargs);
        return NULL;
    }
    return r;
}

static SlValue *math_log(SlMathFn fn, SlValue *const *args, int nargs, SlError *err)
{
    MpfrFn1 f = fn == SL_FN_LOG2 ? mpfr_log2 : fn == SL_FN_LOG10 ? mpfr_log10 : mpfr_log;
    SlValue *num = log_helper(fn, f, args[0], args, nargs, err);
    if (!num || nargs == 1)
        return num;
    SlValue *den = log_helper(fn, f, args[1], args, nargs, err);
    if (!den) {
        sl_unref(num);
        return NULL;
    }
    SlValue *r = NULL;
    if (mpfr_zero_p(den->u.f)) {
        errf(err, SL_E_ZERODIV, "float division by zero");
    } else {
        r = new_float();
        sl_num_fit(r->u.f, mpfr_div(r->u.f, num->u.f, den->u.f, RNDN));
    }
    sl_unref(num);
    sl_unref(den);
    return r;
}

/* sigmoid(x) = 1/(1 + exp(-x)), correctly rounded by Ziv's strategy. */
static SlValue *math_sigmoid(SlValue *const *args, SlError *err)
{
    Fop x;
    if (!fop_init(&x, args[0], err))
        return NULL;
    SlValue *r = new_float();
    mpfr_ptr f = r->u.f;
    mpfr_prec_t p = session_prec;
    if (mpfr_nan_p(x.p)) {
        mpfr_set_nan(f);
    } else if (mpfr_inf_p(x.p)) {
        mpfr_set_ui(f, mpfr_sgn(x.p) > 0, RNDN);
    } else if (mpfr_zero_p(x.p) || mpfr_get_exp(x.p) < -(mpfr_exp_t)p - 3) {
        mpfr_set_d(f, 0.5, RNDN); /* |x/4| is below a quarter ulp of 1/2 */
    } else if (mpfr_sgn(x.p) > 0 && mpfr_cmp_ui(x.p, (unsigned long)p + 3) > 0) {
        mpfr_set_ui(f, 1, RNDN); /* exp(-x) is below a quarter ulp of 1 */
    } else {
        mpfr_prec_t w = p + 24;
        mpfr_t t;
        mpfr_init2(t, w);
        for (;;) {
            mpfr_neg(t, x.p, RNDN);
            mpfr_exp(t, t, RNDN);
            if (mpfr_inf_p(t)) { /* exp(-x) beyond MPFR's range: far below any float */
                mpfr_set_zero(f, 1);
                break;
            }
            mpfr_add_ui(t, t, 1, RNDN);
            mpfr_ui_div(t, 1, t, RNDN); /* three roundings: error < 4 ulps */
            if (mpfr_can_round(t, w - 3, RNDN, MPFR_RNDZ, p + 1)) {
                sl_num_fit(f, mpfr_set(f, t, RNDN));
                break;
            }
            w += w / 2;
            mpfr_set_prec(t, w);
        }
        mpfr_clear(t);
    }
    fop_clear(&x);
    return r;
}

/* round(int, -k): the nearest multiple of 10^k, ties to even. */
static SlValue *round_int(mpz_srcptr m, long k)
{
    SlValue *r = sl_int_new();
    if ((size_t)k > mpz_sizeinbase(m, 10) + 1)
        return r; /* |m| < 10^k / 2: 0 */
    mpz_t b, q, rem;
    mpz_inits(b, q, rem, (mpz_ptr)0);
    mpz_ui_pow_ui(b, 10, (unsigned long)k);
    mpz_fdiv_qr(q, rem, m, b);
    mpz_mul_2exp(rem, rem, 1);
    int c = mpz_cmp(rem, b);
    if (c > 0 || (c == 0 && mpz_odd_p(q)))
        mpz_add_ui(q, q, 1);
    mpz_mul(r->u.z, q, b);
    mpz_clears(b, q, rem, (mpz_ptr)0);
    return r;
}

/* round(x, nd) for a float: the correctly rounded decimal, read back. */
static SlValue *round_float(mpfr_srcptr x, long nd, SlError *err)
{
    SlValue *r = new_float();
    if (!mpfr_regular_p(x)) { /* nan, inf, zero round to themselves */
        mpfr_set(r->u.f, x, RNDN);
        return r;
    }
    mpfr_exp_t exact = (mpfr_exp_t)mpfr_get_prec(x) - mpfr_get_exp(x); /* fraction bits */
    if (nd >= 0 && nd >= exact) { /* x has at most nd decimals already */
        sl_num_fit(r->u.f, mpfr_set(r->u.f, x, RNDN));
        return r;
    }
    long decpt;
    char *d = dtoa(x, 3, nd, &decpt);
    size_t n = strlen(d);
    if (n == 0) {
        mpfr_set_zero(r->u.f, mpfr_signbit(x) ? -1 : 1);
        free(d);
        return r;
    }
    SlBuf b = {0};
    sl_buf_init(&b);
    if (mpfr_signbit(x))
        sl_buf_putc(&b, '-');
    sl_buf_puts(&b, d);
    sl_buf_printf(&b, "e%ld", decpt - (long)n);
    sl_num_fit(r->u.f, mpfr_strtofr(r->u.f, b.s, NULL, 10, RNDN));
    sl_buf_free(&b);
    free(d);
    if (mpfr_inf_p(r->u.f)) {
        sl_unref(r);
        errf(err, SL_E_OVERFLOW, "rounded value too large to represent");
        return NULL;
    }
    return r;
}

static SlValue *math_round(SlValue *const *args, int nargs, SlError *err)
{
    const SlValue *x = args[0];
    if (nargs == 1 || args[1]->kind == SL_NONE) {
        if (x->kind == SL_FLOAT)
            return float_to_int(x->u.f, RNDN, err);
        return sl_num_to_int(x, err);
    }
    const SlValue *n = args[1];
    if (!is_intlike(n)) {
        errf(err, SL_E_TYPE, "'%s' object cannot be interpreted as an integer", sl_type_name(n));
        return NULL;
    }
    long nd;
    if (!sl_num_to_long(n, &nd))
        nd = mpz_sgn(n->u.z) < 0 ? LONG_MIN : LONG_MAX;
    const long big = 1L << 40; /* beyond any digit count; keeps sums in range */
    if (nd > big)
        nd = big;
    if (nd < -big)
        nd = -big;
    if (x->kind == SL_FLOAT)
        return round_float(x->u.f, nd, err);
    if (nd >= 0)
        return sl_num_to_int(x, err);
    Zop z;
    zop_init(&z, x);
    SlValue *r = round_int(z.p, -nd);
    zop_clear(&z);
    return r;
}

static SlValue *int_result(const SlValue *v) /* int(v) for int/bool */
{
    return v->kind == SL_BOOL ? sl_int_si(v->u.b) : sl_ref((SlValue *)v);
}

static SlValue *math_minmax(bool is_max, SlValue *const *args, int nargs)
{
    SlValue *best = args[0];
    for (int i = 1; i < nargs; i++) {
        int c = sl_num_cmp(args[i], best);
        if (c == (is_max ? 1 : -1))
            best = args[i];
    }
    return sl_ref(best);
}

SlValue *sl_num_apply(SlMathFn fn, SlValue *const *args, int nargs, SlError *err)
{
    if ((unsigned)fn >= SL_FN_COUNT) {
        sl_err(err, SL_E_INTERNAL, "sl_num_apply: bad function");
        return NULL;
    }
    const SlMathFnInfo *info = &sl_math_fns[fn];
    if (nargs < info->min_args || (info->max_args >= 0 && nargs > info->max_args)) {
        char what[64];
        if (info->max_args < 0)
            snprintf(what, sizeof what, "at least %d argument%s", info->min_args, info->min_args == 1 ? "" : "s");
        else if (info->min_args == info->max_args)
            snprintf(what, sizeof what, "%d argument%s", info->min_args, info->min_args == 1 ? "" : "s");
        else
            snprintf(what, sizeof what, "%d to %d arguments", info->min_args, info->max_args);
        sl_err(err, SL_E_ARG_COUNT, info->name, what, nargs, nargs == 1 ? "was" : "were");
        return NULL;
    }
    for (int i = 0; i < nargs; i++) {
        if (sl_is_number(args[i]) || (fn == SL_FN_ROUND && i == 1 && args[i]->kind == SL_NONE))
            continue;
        errf(err, SL_E_TYPE, "must be real number, not %s", sl_type_name(args[i]));
        return NULL;
    }
    const SlValue *a = args[0];
    switch (fn) {
    case SL_FN_SIN: return math_1(fn, mpfr_sin, false, args, err);
    case SL_FN_COS: return math_1(fn, mpfr_cos, false, args, err);
    case SL_FN_TAN: return math_1(fn, mpfr_tan, false, args, err);
    case SL_FN_ASIN: return math_1(fn, mpfr_asin, false, args, err);
    case SL_FN_ACOS: return math_1(fn, mpfr_acos, false, args, err);
    case SL_FN_ATAN: return math_1(fn, mpfr_atan, false, args, err);
    case SL_FN_SINH: return math_1(fn, mpfr_sinh, true, args, err);
    case SL_FN_COSH: return math_1(fn, mpfr_cosh, true, args, err);
    case SL_FN_TANH: return math_1(fn, mpfr_tanh, false, args, err);
    case SL_FN_EXP: return math_1(fn, mpfr_exp, true, args, err);
    case SL_FN_SQRT: return math_1(fn, mpfr_sqrt, false, args, err);
    case SL_FN_CBRT: return math_1(fn, mpfr_cbrt, false, args, err);
    case SL_FN_LOG:
    case SL_FN_LOG2:
    case SL_FN_LOG10: return math_log(fn, args, nargs, err);
    case SL_FN_ATAN2: {
        Fop y, x;
        if (!fop_init(&y, args[0], err))
            return NULL;
        if (!fop_init(&x, args[1], err)) {
            fop_clear(&y);
            return NULL;
        }
        SlValue *r = new_float();
        sl_num_fit(r->u.f, mpfr_atan2(r->u.f, y.p, x.p, RNDN));
        fop_clear(&y);
        fop_clear(&x);
        return r;
    }
    case SL_FN_ABS:
        if (a->kind == SL_FLOAT) {
            SlValue *r = new_float();
            sl_num_fit(r->u.f, mpfr_abs(r->u.f, a->u.f, RNDN));
            return r;
        } else {
            SlValue *r = int_result(a);
            if (mpz_sgn(r->u.z) >= 0)
                return r;
            SlValue *n = sl_int_new();
            mpz_neg(n->u.z, r->u.z);
            sl_unref(r);
            return n;
        }
    case SL_FN_SIGN:
        if (a->kind == SL_FLOAT) {
            SlValue *r = new_float();
            if (mpfr_nan_p(a->u.f))
                mpfr_set_nan(r->u.f);
            else
                mpfr_set_si(r->u.f, mpfr_sgn(a->u.f), RNDN);
            return r;
        }
        return sl_int_si(a->kind == SL_BOOL ? a->u.b : mpz_sgn(a->u.z));
    case SL_FN_FLOOR:
    case SL_FN_CEIL:
        if (a->kind == SL_FLOAT)
            return float_to_int(a->u.f, fn == SL_FN_FLOOR ? MPFR_RNDD : MPFR_RNDU, err);
        return int_result(a);
    case SL_FN_ROUND: return math_round(args, nargs, err);
    case SL_FN_MIN:
    case SL_FN_MAX: return math_minmax(fn == SL_FN_MAX, args, nargs);
    case SL_FN_SIGMOID: return math_sigmoid(args, err);
    case SL_FN_RELU:
        if (a->kind == SL_FLOAT) {
            SlValue *r = new_float();
            if (mpfr_nan_p(a->u.f) || mpfr_sgn(a->u.f) > 0)
                sl_num_fit(r->u.f, mpfr_set(r->u.f, a->u.f, RNDN));
            else
                mpfr_set_zero(r->u.f, 1);
            return r;
        } else {
            SlValue *r = int_result(a);
            if (mpz_sgn(r->u.z) >= 0)
                return r;
            sl_unref(r);
            return sl_int_si(0);
        }
    case SL_FN_HEAVISIDE: {
        /* an int for an int, a float for a float; nan stays nan */
        if (a->kind == SL_FLOAT) {
            SlValue *r = new_float();
            if (mpfr_nan_p(a->u.f))
                mpfr_set_nan(r->u.f);
            else
                mpfr_set_ui(r->u.f, mpfr_sgn(a->u.f) > 0, RNDN);
            return r;
        }
        SlValue *r = int_result(a);
        int pos = mpz_sgn(r->u.z) > 0;
        sl_unref(r);
        return sl_int_si(pos);
    }
    case SL_FN_COUNT: break;
    }
    sl_err(err, SL_E_INTERNAL, "sl_num_apply: bad function");
    return NULL;
}
