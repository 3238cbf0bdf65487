/* format.c -- Python's format mini-language: format(value, spec).
 *
 *   [[fill]align][sign][z][#][0][width][grouping][.precision][type]
 *
 * A transcription of CPython 3.11's Python/formatter_unicode.c for ints,
 * bools, floats and strings: the same parse, the same checks in the same
 * order with the same messages, and the same layout of a number field
 *
 *   <lpadding> <sign> <prefix> <spadding> <grouped digits> <decimal>
 *   <remainder> <rpadding>
 *
 * in the C locale ('n' groups nothing and uses '.').  Widths count code
 * points of the UTF-8 text.  Float digits come from sl_num_float_str, so
 * a float at more than 53 bits formats its exact value ("{:.30f}" shows 30
 * correct digits).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

/* Beyond these a width or precision would only exhaust memory. */
#define FORMAT_SIZE_MAX 10000000L

typedef struct Spec {
    uint32_t fill;    /* fill character, a code point */
    uint32_t align;   /* '<' '>' '^' '=' */
    uint32_t sign;    /* '+' '-' ' ', or 0 when not given */
    bool no_neg_0;    /* 'z' */
    bool alternate;   /* '#' */
    long width;       /* -1 when not given */
    int sep;          /* 0, ',' or '_'; 4 for '_' every four digits */
    long precision;   /* -1 when not given */
    uint32_t type;    /* presentation type, 0 when not given */
} Spec;

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

/* ---- UTF-8 ---- */

static bool cont(unsigned char c) { return (c & 0xC0) == 0x80; }

/* Bytes in the code point at s[i]: a well-formed UTF-8 sequence, or one
 * byte that stands for itself. */
static size_t utf8_step(const unsigned char *u, size_t len, size_t i)
{
    unsigned char c = u[i];
    if (c >= 0xC2 && c < 0xE0 && i + 1 < len && cont(u[i + 1]))
        return 2;
    if (c >= 0xE0 && c < 0xF0 && i + 2 < len && cont(u[i + 1]) && cont(u[i + 2]))
        return 3;
    if (c >= 0xF0 && c < 0xF5 && i + 3 < len && cont(u[i + 1]) && cont(u[i + 2]) && cont(u[i + 3]))
        return 4;
    return 1;
}

/* Decode into out (room for len code points); returns their number. */
static size_t utf8_decode(const char *s, size_t len, uint32_t *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_step(u, len, i);
        uint32_t cp = u[i];
        if (k == 2)
            cp = (uint32_t)(u[i] & 0x1F) << 6 | (u[i + 1] & 0x3F);
        else if (k == 3)
            cp = (uint32_t)(u[i] & 0x0F) << 12 | (uint32_t)(u[i + 1] & 0x3F) << 6 | (u[i + 2] & 0x3F);
        else if (k == 4)
            cp = (uint32_t)(u[i] & 0x07) << 18 | (uint32_t)(u[i + 1] & 0x3F) << 12 |
                 (uint32_t)(u[i + 2] & 0x3F) << 6 | (u[i + 3] & 0x3F);
        out[n++] = cp;
        i += k;
    }
    return n;
}

static void utf8_put(SlBuf *b, uint32_t cp)
{
    char s[4];
    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
    if (cp < 0x80) {
        sl_buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        s[0] = (char)(0xC0 | cp >> 6);
        s[1] = (char)(0x80 | (cp & 0x3F));
        sl_buf_add(b, s, 2);
    } else if (cp < 0x10000) {
        s[0] = (char)(0xE0 | cp >> 12);
        s[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        s[2] = (char)(0x80 | (cp & 0x3F));
        sl_buf_add(b, s, 3);
    } else {
        s[0] = (char)(0xF0 | cp >> 18);
        s[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        s[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        s[3] = (char)(0x80 | (cp & 0x3F));
        sl_buf_add(b, s, 4);
    }
}

static void put_fill(SlBuf *b, uint32_t cp, long n)
{
    for (long i = 0; i < n; i++)
        utf8_put(b, cp);
}

/* Code points in s, counted as utf8_decode counts them. */
static size_t utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; n++)
        i += utf8_step((const unsigned char *)s, len, i);
    return n;
}

/* Byte offset of code point k in s. */
static size_t utf8_offset(const char *s, size_t len, size_t k)
{
    size_t i = 0;
    for (; k > 0 && i < len; k--)
        i += utf8_step((const unsigned char *)s, len, i);
    return i;
}

/* ---- parsing the spec ---- */

static bool is_align(uint32_t c) { return c == '<' || c == '>' || c == '=' || c == '^'; }

/* Digits at *pos into *result; the number of digits, or -1 on overflow. */
static int get_integer(const uint32_t *s, size_t *pos, size_t end, long *result, SlError *err)
{
    long acc = 0;
    int n = 0;
    for (; *pos < end; (*pos)++, n++) {
        uint32_t c = s[*pos];
        if (c < '0' || c > '9')
            break;
        long d = (long)(c - '0');
        if (acc > (LONG_MAX - d) / 10) {
            errf(err, SL_E_FORMAT, "Too many decimal digits in format string");
            return -1;
        }
        acc = acc * 10 + d;
    }
    *result = acc;
    return n;
}

static void put_code(char *buf, size_t size, uint32_t c)
{
    if (c > 32 && c < 128)
        snprintf(buf, size, "%c", (char)c);
    else
        snprintf(buf, size, "\\x%x", (unsigned)c);
}

static bool unknown_type(SlError *err, uint32_t type, const SlValue *v)
{
    char code[16];
    put_code(code, sizeof code, type);
    return errf(err, SL_E_FORMAT, "Unknown format code '%s' for object of type '%s'", code, sl_type_name(v));
}

/* parse_internal_render_format_spec */
static bool parse_spec(const SlValue *v, const char *spec, size_t speclen, Spec *f, uint32_t default_type,
                       uint32_t default_align, SlError *err)
{
    uint32_t *s = malloc(speclen * sizeof *s);
    if (!s)
        abort();
    size_t end = utf8_decode(spec, speclen, s), pos = 0;
    bool align_specified = false, fill_specified = false, ok = false;

    f->fill = ' ';
    f->align = default_align;
    f->sign = 0;
    f->no_neg_0 = false;
    f->alternate = false;
    f->width = -1;
    f->sep = 0;
    f->precision = -1;
    f->type = default_type;

    if (end - pos >= 2 && is_align(s[pos + 1])) {
        f->align = s[pos + 1];
        f->fill = s[pos];
        fill_specified = align_specified = true;
        pos += 2;
    } else if (end - pos >= 1 && is_align(s[pos])) {
        f->align = s[pos];
        align_specified = true;
        pos++;
    }
    if (end - pos >= 1 && (s[pos] == '+' || s[pos] == '-' || s[pos] == ' '))
        f->sign = s[pos++];
    if (end - pos >= 1 && s[pos] == 'z') {
        f->no_neg_0 = true;
        pos++;
    }
    if (end - pos >= 1 && s[pos] == '#') {
        f->alternate = true;
        pos++;
    }
    if (!fill_specified && end - pos >= 1 && s[pos] == '0') {
        f->fill = '0';
        if (!align_specified && default_align == '>')
            f->align = '=';
        pos++;
    }
    int consumed = get_integer(s, &pos, end, &f->width, err);
    if (consumed < 0)
        goto done;
    if (consumed == 0)
        f->width = -1;
    if (end - pos && s[pos] == ',') {
        f->sep = ',';
        pos++;
    }
    if (end - pos && s[pos] == '_') {
        if (f->sep) {
            errf(err, SL_E_FORMAT, "Cannot specify both ',' and '_'.");
            goto done;
        }
        f->sep = '_';
        pos++;
    }
    if (end - pos && s[pos] == ',' && f->sep == '_') {
        errf(err, SL_E_FORMAT, "Cannot specify both ',' and '_'.");
        goto done;
    }
    if (end - pos && s[pos] == '.') {
        pos++;
        consumed = get_integer(s, &pos, end, &f->precision, err);
        if (consumed < 0)
            goto done;
        if (consumed == 0) {
            errf(err, SL_E_FORMAT, "Format specifier missing precision");
            goto done;
        }
    }
    if (end - pos > 1) {
        errf(err, SL_E_FORMAT, "Invalid format specifier '%.*s' for object of type '%s'", (int)speclen, spec,
               sl_type_name(v));
        goto done;
    }
    if (end - pos == 1)
        f->type = s[pos++];
    if (f->sep) {
        switch (f->type) {
        case 'd': case 'e': case 'f': case 'g': case 'E': case 'G': case '%': case 'F': case 0: break;
        case 'b': case 'o': case 'x': case 'X':
            if (f->sep == '_') {
                f->sep = 4;
                break;
            }
            /* fall through */
        default: {
            char code[16];
            put_code(code, sizeof code, f->type);
            errf(err, SL_E_FORMAT, "Cannot specify '%c' with '%s'.", f->sep == 4 ? '_' : f->sep, code);
            goto done;
        }
        }
    }
    ok = true;
done:
    free(s);
    return ok;
}

/* ---- number fields ---- */

/* The digits grouped as _PyUnicode_InsertThousandsGrouping does, padded
 * with '0' to min_width (only for fill '0' with '=' alignment). */
static void group_digits(SlBuf *out, const char *digits, long n_digits, long min_width, int group, char sep)
{
    if (min_width < 0)
        min_width = 0;
    long cap = 2 * ((n_digits > min_width ? n_digits : min_width) + 2), k = 0;
    char *rev = malloc((size_t)cap);
    if (!rev)
        abort();
    long remaining = n_digits, dpos = n_digits;
    bool use_sep = false, broken = false;
#define EMIT(len_)                                                        \
    do {                                                                  \
        long len = (len_);                                                \
        long n_zeros = len - remaining > 0 ? len - remaining : 0;         \
        long n_chars = remaining < len ? remaining : len;                 \
        if (n_chars < 0)                                                  \
            n_chars = 0;                                                  \
        if (use_sep)                                                      \
            rev[k++] = sep;                                               \
        for (long i_ = 0; i_ < n_chars; i_++)                             \
            rev[k++] = digits[--dpos];                                    \
        for (long i_ = 0; i_ < n_zeros; i_++)                             \
            rev[k++] = '0';                                               \
        use_sep = true;                                                   \
        remaining -= n_chars;                                             \
        min_width -= len;                                                 \
    } while (0)
    if (group > 0) {
        for (;;) {
            long m = remaining > min_width ? remaining : min_width;
            if (m < 1)
                m = 1;
            EMIT(group < m ? group : m);
            if (remaining <= 0 && min_width <= 0) {
                broken = true;
                break;
            }
            min_width -= 1; /* the separator */
        }
    }
    if (!broken) {
        long m = remaining > min_width ? remaining : min_width;
        EMIT(m < 1 ? 1 : m);
    }
#undef EMIT
    for (long i = k - 1; i >= 0; i--)
        sl_buf_putc(out, rev[i]);
    free(rev);
}

typedef struct Num {
    char sign;            /* the number's own sign: '-' or 0 */
    const char *prefix;   /* "0x" and the like, or "" */
    const char *digits;   /* the integer digits (ASCII) */
    long n_digits;
    bool has_decimal;     /* a decimal point follows the digits */
    const char *rem;      /* what follows the point: fraction, exponent, "inf", 'c' char */
    size_t rem_bytes;
    long rem_chars;       /* in code points */
} Num;

/* calc_number_widths + fill_number */
static void fill_number(SlBuf *out, const Spec *f, const Num *num, int group, char sep)
{
    char sign = 0;
    if (f->sign == '+')
        sign = num->sign == '-' ? '-' : '+';
    else if (f->sign == ' ')
        sign = num->sign == '-' ? '-' : ' ';
    else if (num->sign == '-')
        sign = '-';
    long n_prefix = (long)strlen(num->prefix);
    long non_digit = (sign != 0) + n_prefix + num->has_decimal + num->rem_chars;
    long min_width = f->fill == '0' && f->align == '=' ? f->width - non_digit : 0;
    SlBuf g = {0};
    sl_buf_init(&g);
    if (num->n_digits > 0)
        group_digits(&g, num->digits, num->n_digits, min_width, group, sep);
    long n_padding = f->width - (non_digit + (long)g.len), lpad = 0, spad = 0, rpad = 0;
    if (n_padding > 0) {
        switch (f->align) {
        case '<': rpad = n_padding; break;
        case '^':
            lpad = n_padding / 2;
            rpad = n_padding - lpad;
            break;
        case '=': spad = n_padding; break;
        default: lpad = n_padding; break;
        }
    }
    put_fill(out, f->fill, lpad);
    if (sign)
        sl_buf_putc(out, sign);
    sl_buf_puts(out, num->prefix);
    put_fill(out, f->fill, spad);
    sl_buf_add(out, g.s, g.len);
    if (num->has_decimal)
        sl_buf_putc(out, '.');
    sl_buf_add(out, num->rem, num->rem_bytes);
    put_fill(out, f->fill, rpad);
    sl_buf_free(&g);
}

static void locale_grouping(const Spec *f, int *group, char *sep)
{
    *group = 0;
    *sep = 0;
    if (f->type == 'n' || !f->sep)
        return;
    *group = f->sep == 4 ? 4 : 3;
    *sep = f->sep == ',' ? ',' : '_';
}

static bool too_large(SlError *err)
{
    return errf(err, SL_E_LIMIT, "format width or precision too large (the limit is %ld)", FORMAT_SIZE_MAX);
}

/* format_float_internal */
static bool format_float(SlBuf *out, mpfr_srcptr x, const Spec *f, SlError *err)
{
    long precision = f->precision, default_precision = 6;
    uint32_t type = f->type;
    int flags = 0;
    if (precision > INT_MAX)
        return errf(err, SL_E_FORMAT, "precision too big");
    if (precision > FORMAT_SIZE_MAX || f->width > FORMAT_SIZE_MAX)
        return too_large(err);
    if (f->alternate)
        flags |= SL_DTSF_ALT;
    if (f->no_neg_0)
        flags |= SL_DTSF_NO_NEG_0;
    if (type == 0) { /* like repr, or 'g' keeping one decimal with a precision */
        flags |= SL_DTSF_ADD_DOT_0;
        type = 'r';
        default_precision = 0;
    }
    if (type == 'n')
        type = 'g';
    mpfr_t val;
    mpfr_init2(val, mpfr_get_prec(x));
    mpfr_set(val, x, MPFR_RNDN);
    bool add_pct = false;
    if (type == '%') {
        type = 'f';
        sl_num_fit(val, mpfr_mul_ui(val, val, 100, MPFR_RNDN));
        add_pct = true;
    }
    if (precision < 0)
        precision = default_precision;
    else if (type == 'r')
        type = 'g';
    SlBuf s = {0};
    sl_buf_init(&s);
    sl_num_float_str(&s, val, (char)type, precision, flags);
    mpfr_clear(val);
    if (add_pct)
        sl_buf_putc(&s, '%');

    Num num = {.prefix = ""};
    size_t i = 0;
    if (s.s[0] == '-') {
        num.sign = '-';
        i++;
    }
    num.digits = s.s + i;
    while (i < s.len && s.s[i] >= '0' && s.s[i] <= '9')
        i++;
    num.n_digits = (long)(s.s + i - num.digits);
    num.has_decimal = i < s.len && s.s[i] == '.';
    if (num.has_decimal)
        i++;
    num.rem = s.s + i;
    num.rem_bytes = s.len - i;
    num.rem_chars = (long)num.rem_bytes;
    int group;
    char sep;
    locale_grouping(f, &group, &sep);
    fill_number(out, f, &num, group, sep);
    sl_buf_free(&s);
    (void)err;
    return true;
}

/* format_long_internal, with the float types converting first. */
static bool format_int(SlBuf *out, const SlValue *v, const Spec *f, SlError *err)
{
    switch (f->type) {
    case 'b': case 'c': case 'd': case 'o': case 'x': case 'X': case 'n': break;
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case '%': {
        SlValue *fv = sl_num_to_float(v, err);
        if (!fv)
            return false;
        bool ok = format_float(out, fv->u.f, f, err);
        sl_unref(fv);
        return ok;
    }
    default: return unknown_type(err, f->type, v);
    }
    if (f->precision != -1)
        return errf(err, SL_E_FORMAT, "Precision not allowed in integer format specifier");
    if (f->no_neg_0)
        return errf(err, SL_E_FORMAT, "Negative zero coercion (z) not allowed in integer format specifier");
    if (f->width > FORMAT_SIZE_MAX)
        return too_large(err);

    mpz_t z;
    if (v->kind == SL_BOOL)
        mpz_init_set_ui(z, v->u.b);
    else
        mpz_init_set(z, v->u.z);
    Num num = {.prefix = ""};
    char *digits = NULL, cbuf[8];
    SlBuf cb = {0};
    bool ok = true;
    int group;
    char sep;
    locale_grouping(f, &group, &sep);
    if (f->type == 'c') {
        if (f->sign)
            ok = errf(err, SL_E_FORMAT, "Sign not allowed with integer format specifier 'c'");
        else if (f->alternate)
            ok = errf(err, SL_E_FORMAT, "Alternate form (#) not allowed with integer format specifier 'c'");
        else if (!mpz_fits_slong_p(z))
            ok = errf(err, SL_E_OVERFLOW, "Python int too large to convert to C long");
        else if (mpz_sgn(z) < 0 || mpz_cmp_ui(z, 0x10ffff) > 0)
            ok = errf(err, SL_E_OVERFLOW, "%%c arg not in range(0x110000)");
        if (ok) {
            sl_buf_init(&cb);
            utf8_put(&cb, (uint32_t)mpz_get_ui(z));
            memcpy(cbuf, cb.s, cb.len);
            num.digits = "";
            num.n_digits = 0;
            num.rem = cbuf;
            num.rem_bytes = cb.len;
            num.rem_chars = 1;
            fill_number(out, f, &num, 0, 0);
            sl_buf_free(&cb);
        }
    } else {
        int base = 10;
        switch (f->type) {
        case 'b': base = 2; num.prefix = f->alternate ? "0b" : ""; break;
        case 'o': base = 8; num.prefix = f->alternate ? "0o" : ""; break;
        case 'x': base = 16; num.prefix = f->alternate ? "0x" : ""; break;
        case 'X': base = -16; num.prefix = f->alternate ? "0X" : ""; break;
        default: break;
        }
        if (mpz_sgn(z) < 0) {
            num.sign = '-';
            mpz_neg(z, z);
        }
        digits = mpz_get_str(NULL, base, z);
        num.digits = digits;
        num.n_digits = (long)strlen(digits);
        num.rem = "";
        fill_number(out, f, &num, group, sep);
        void (*freefn)(void *, size_t);
        mp_get_memory_functions(NULL, NULL, &freefn);
        freefn(digits, strlen(digits) + 1);
    }
    mpz_clear(z);
    return ok;
}

/* format_string_internal */
static bool format_str(SlBuf *out, const SlValue *v, const Spec *f, SlError *err)
{
    if (f->type != 's')
        return unknown_type(err, f->type, v);
    if (f->sign == ' ')
        return errf(err, SL_E_FORMAT, "Space not allowed in string format specifier");
    if (f->sign)
        return errf(err, SL_E_FORMAT, "Sign not allowed in string format specifier");
    if (f->no_neg_0)
        return errf(err, SL_E_FORMAT, "Negative zero coercion (z) not allowed in string format specifier");
    if (f->alternate)
        return errf(err, SL_E_FORMAT, "Alternate form (#) not allowed in string format specifier");
    if (f->align == '=')
        return errf(err, SL_E_FORMAT, "'=' alignment not allowed in string format specifier");
    if (f->width > FORMAT_SIZE_MAX)
        return too_large(err);
    const char *s = v->u.str.s;
    size_t bytes = v->u.str.len;
    long len = (long)utf8_count(s, bytes);
    if (f->precision >= 0 && len > f->precision) {
        bytes = utf8_offset(s, bytes, (size_t)f->precision);
        len = f->precision;
    }
    long total = f->width > len ? f->width : len, lpad = 0;
    if (f->align == '>')
        lpad = total - len;
    else if (f->align == '^')
        lpad = (total - len) / 2;
    put_fill(out, f->fill, lpad);
    sl_buf_add(out, s, bytes);
    put_fill(out, f->fill, total - len - lpad);
    return true;
}

bool sl_num_format(SlBuf *out, const SlValue *v, const char *spec, size_t speclen, SlError *err)
{
    if (speclen == 0) { /* format(x, '') is str(x) */
        if (v->kind == SL_STR)
            sl_buf_add(out, v->u.str.s, v->u.str.len);
        else if (sl_is_number(v))
            sl_num_repr(out, v);
        else
            sl_str(out, v);
        return true;
    }
    Spec f;
    switch (v->kind) {
    case SL_STR:
        if (!parse_spec(v, spec, speclen, &f, 's', '<', err))
            return false;
        return format_str(out, v, &f, err);
    case SL_BOOL:
    case SL_INT:
        if (!parse_spec(v, spec, speclen, &f, 'd', '>', err))
            return false;
        return format_int(out, v, &f, err);
    case SL_FLOAT:
        if (!parse_spec(v, spec, speclen, &f, 0, '>', err))
            return false;
        switch (f.type) {
        case 0: case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'n': case '%':
            return format_float(out, v->u.f, &f, err);
        default: return unknown_type(err, f.type, v);
        }
    default:
        return errf(err, SL_E_TYPE, "unsupported format string passed to %s.__format__", sl_type_name(v));
    }
}
