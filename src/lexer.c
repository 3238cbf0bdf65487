/* lexer.c -- UTF-8 text to tokens (see lexer.h for what it decides). */
#include "lexer.h"

#include <gmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * UTF-8 and character classes
 * ------------------------------------------------------------------------- */

#define CP_BAD 0xFFFFFFFFu
#define CP_PI 0x03C0u   /* π */
#define CP_SQRT 0x221Au /* √ */

/* Decode one code point at p; returns its length in bytes, 0 if the bytes
 * are not valid UTF-8 (overlong, surrogate, truncated, > U+10FFFF). */
static int u8_decode(const char *s, const char *end, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[0];
    int n;
    uint32_t min, v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (end - s < n)
        return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

static int u8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static int hex_value(int c)
{
    return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Letters other than ASCII that may appear in names.  π is not here: it is
 * a name of its own (2π, π/2) and never part of a longer one. */
static bool is_uni_letter(uint32_t c)
{
    if (c == CP_PI)
        return false;
    if (c == 0xAA || c == 0xB5 || c == 0xBA)                    /* ª µ º */
        return true;
    if (c >= 0xC0 && c <= 0x24F)                                /* Latin-1, Extended-A/B */
        return c != 0xD7 && c != 0xF7;                          /* not × ÷ */
    if (c >= 0x250 && c <= 0x2AF)                               /* IPA */
        return true;
    if (c == 0x386 || (c >= 0x388 && c <= 0x3FF))               /* Greek */
        return c != 0x3F6 && c != 0x38B && c != 0x38D && c != 0x3A2;
    if (c >= 0x400 && c <= 0x52F)                               /* Cyrillic */
        return !(c >= 0x482 && c <= 0x489);
    if (c >= 0xE01 && c <= 0xE4E)                               /* Thai */
        return c != 0xE3F;
    if (c >= 0x1100 && c <= 0x11FF)                             /* Hangul Jamo */
        return true;
    if (c >= 0x1E00 && c <= 0x1FFF)                             /* Latin/Greek extended */
        return true;
    if (c >= 0x3041 && c <= 0x30FF)                             /* kana (not ・) */
        return c != 0x30FB && c != 0x30A0;
    if ((c >= 0x3131 && c <= 0x318E) || (c >= 0xAC00 && c <= 0xD7A3)) /* Hangul */
        return true;
    if ((c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF)) /* CJK */
        return true;
    return false;
}

static bool is_sub_digit(uint32_t c) { return c >= 0x2080 && c <= 0x2089; } /* ₀-₉ */

/* ⁰¹²³⁴⁵⁶⁷⁸⁹ -> 0..9, else -1 */
static int super_digit(uint32_t c)
{
    switch (c) {
    case 0x2070: return 0;
    case 0x00B9: return 1;
    case 0x00B2: return 2;
    case 0x00B3: return 3;
    default: return c >= 0x2074 && c <= 0x2079 ? (int)(c - 0x2070) : -1;
    }
}

/* Primes: ' ′ ″ ‴ -> how many, else 0 */
static int prime_count(uint32_t c)
{
    switch (c) {
    case '\'': return 1;
    case 0x2032: return 1;
    case 0x2033: return 2;
    case 0x2034: return 3;
    default: return 0;
    }
}

/* Non-ASCII blanks: no-break and other spaces, BOM / zero-width no-break. */
static bool is_uni_space(uint32_t c)
{
    return c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F ||
           c == 0x3000 || c == 0xFEFF;
}

static bool is_name_start(uint32_t c)
{
    return (c < 0x80 && (is_alpha((int)c) || c == '_')) || is_uni_letter(c) || c == CP_PI;
}

/* Code point at q (CP_BAD at the end or on invalid bytes), length in *n. */
static uint32_t cp_at(const SlLexer *lx, const char *q, int *n)
{
    uint32_t cp = CP_BAD;
    int k = q < lx->end ? u8_decode(q, lx->end, &cp) : 0;
    if (n)
        *n = k;
    return k ? cp : CP_BAD;
}

/* ---------------------------------------------------------------------------
 * Position and errors
 * ------------------------------------------------------------------------- */

static SlLoc here(const SlLexer *lx)
{
    return (SlLoc){lx->line, lx->col, lx->line, lx->col + 1};
}

/* Step over one character of n bytes. */
static void adv(SlLexer *lx, int n)
{
    if (*lx->p == '\n') {
        lx->line++;
        lx->col = 1;
        lx->line_blank = true;
    } else {
        lx->col++;
    }
    lx->p += n;
}

static SlTokKind fail(SlLexer *lx, SlToken *tok, SlLoc loc, bool incomplete, const char *hint,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->msg, sizeof lx->msg, fmt, ap);
    va_end(ap);
    snprintf(lx->hint, sizeof lx->hint, "%s", hint ? hint : "");
    lx->err_loc = loc;
    lx->incomplete = incomplete;
    tok->kind = SL_TOK_ERROR;
    tok->loc = loc;
    tok->nbytes = (size_t)(lx->p - tok->start);
    lx->prev = lx->cur;
    lx->cur = *tok;
    lx->p = lx->end;
    return SL_TOK_ERROR;
}

static SlTokKind bad_utf8(SlLexer *lx, SlToken *tok)
{
    return fail(lx, tok, here(lx), false, NULL, "invalid UTF-8 byte 0x%02x", (unsigned char)*lx->p);
}

/* Describe a code point for a message: "'$'", "'€' (U+20AC)", "U+0007". */
static void describe_cp(char *buf, size_t size, uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
        snprintf(buf, size, "U+%04X", (unsigned)cp);
    } else if (cp < 0x80) {
        snprintf(buf, size, "'%c'", (char)cp);
    } else {
        char u[5] = {0};
        u[u8_encode(cp, u)] = '\0';
        snprintf(buf, size, "'%s' (U+%04X)", u, (unsigned)cp);
    }
}

/* ---------------------------------------------------------------------------
 * Tokens
 * ------------------------------------------------------------------------- */

void sl_lex_init(SlLexer *lx, SlSource *src)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->p = src->text;
    lx->end = src->text + src->len;
    lx->line = src->first_line;
    lx->col = 1;
    lx->line_blank = true;
    /* "the previous token" starts as a statement boundary */
    lx->cur.kind = SL_TOK_NEWLINE;
    lx->cur.loc = (SlLoc){src->first_line, 1, src->first_line, 1};
    lx->prev = lx->cur;
    lx->head = SL_TOK_END;
    /* a byte-order mark at the very start */
    if (lx->end - lx->p >= 3 && memcmp(lx->p, "\xEF\xBB\xBF", 3) == 0)
        lx->p += 3;
}

static const struct {
    const char *word;
    SlTokKind kind;
    int ival;
} keywords[] = {
    {"def", SL_TOK_DEF, 0},       {"return", SL_TOK_RETURN, 0},   {"if", SL_TOK_IF, 0},
    {"else", SL_TOK_ELSE, 0},     {"elif", SL_TOK_ELIF, 0},       {"while", SL_TOK_WHILE, 0},
    {"for", SL_TOK_FOR, 0},       {"in", SL_TOK_IN, 0},           {"break", SL_TOK_BREAK, 0},
    {"continue", SL_TOK_CONTINUE, 0}, {"and", SL_TOK_AND, 0},     {"or", SL_TOK_OR, 0},
    {"not", SL_TOK_NOT, 0},       {"pass", SL_TOK_PASS, 0},       {"optimizer", SL_TOK_OPTIMIZER, 0},
    {"state", SL_TOK_STATE, 0},   {"no_grad", SL_TOK_NOGRAD, 0},  {"True", SL_TOK_BOOL, 1},
    {"true", SL_TOK_BOOL, 1},     {"False", SL_TOK_BOOL, 0},      {"false", SL_TOK_BOOL, 0},
    {"None", SL_TOK_NONE, 0},     {"none", SL_TOK_NONE, 0},
};

static int keyword_index(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i].word) == n && memcmp(keywords[i].word, s, n) == 0)
            return (int)i;
    return -1;
}

/* Length of the ASCII identifier at q (letters, digits, _). */
static size_t ascii_word(const SlLexer *lx, const char *q)
{
    const char *r = q;
    while (r < lx->end && (is_alpha(*r) || is_digit(*r) || *r == '_'))
        r++;
    return (size_t)(r - q);
}

/* Does the word at q equal w, not followed by a name character? */
static bool word_is(const SlLexer *lx, const char *q, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(lx->end - q) < n || memcmp(q, w, n) != 0)
        return false;
    int k;
    uint32_t c = cp_at(lx, q + n, &k);
    return c == CP_BAD || !(is_name_start(c) || (c < 0x80 && is_digit((int)c)) || is_sub_digit(c));
}

/* Skip blanks, comments, newlines and line continuations from q, without
 * changing any state; returns the first significant byte (or end). */
static const char *skip_blank(const SlLexer *lx, const char *q)
{
    while (q < lx->end) {
        unsigned char c = (unsigned char)*q;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\n') {
            q++;
        } else if (c == '#') {
            while (q < lx->end && *q != '\n')
                q++;
        } else if (c == '\\' && q + 1 < lx->end && q[1] == '\n') {
            q += 2;
        } else if (c >= 0x80) {
            int n;
            uint32_t cp = cp_at(lx, q, &n);
            if (cp == CP_BAD || !is_uni_space(cp))
                return q;
            q += n;
        } else {
            return q;
        }
    }
    return q;
}

/* Tokens after which a newline cannot end the statement. */
static bool continues(SlTokKind k)
{
    switch (k) {
    case SL_TOK_PLUS: case SL_TOK_MINUS: case SL_TOK_MULOP: case SL_TOK_POW: case SL_TOK_CMP:
    case SL_TOK_SQRT: case SL_TOK_ASSIGN: case SL_TOK_AUGASSIGN: case SL_TOK_DOT:
    case SL_TOK_AND: case SL_TOK_OR: case SL_TOK_NOT: case SL_TOK_IN: case SL_TOK_IF:
    case SL_TOK_ELIF: case SL_TOK_ELSE: case SL_TOK_WHILE: case SL_TOK_FOR: case SL_TOK_DEF:
    case SL_TOK_OPTIMIZER: case SL_TOK_STATE:
        return true;
    default:
        return false;
    }
}

static bool statement_start(SlTokKind k)
{
    return k == SL_TOK_NEWLINE || k == SL_TOK_SEMI || k == SL_TOK_LBRACE;
}

static void begin(SlLexer *lx, SlToken *tok)
{
    memset(tok, 0, sizeof *tok);
    tok->start = lx->p;
    tok->loc = here(lx);
    lx->line_blank = false;
    lx->mismatch = 0;
}

static SlTokKind finish(SlLexer *lx, SlToken *tok, SlTokKind kind)
{
    tok->kind = kind;
    tok->nbytes = (size_t)(lx->p - tok->start);
    tok->loc.last_line = lx->line;
    tok->loc.last_column = lx->col;
    /* the statement's keyword is forgotten once the next statement starts */
    if (statement_start(lx->cur.kind) || lx->cur.kind == SL_TOK_RBRACE) {
        lx->head = SL_TOK_END;
        lx->head_name = NULL;
    }
    switch (kind) {
    case SL_TOK_IF: case SL_TOK_ELIF: case SL_TOK_ELSE: case SL_TOK_WHILE: case SL_TOK_FOR:
    case SL_TOK_DEF: case SL_TOK_OPTIMIZER:
        lx->head = kind;
        lx->head_name = NULL;
        break;
    case SL_TOK_NAME:
        if (lx->cur.kind == SL_TOK_DEF || lx->cur.kind == SL_TOK_OPTIMIZER)
            lx->head_name = tok->text;
        break;
    default:
        break;
    }
    lx->prev = lx->cur;
    lx->cur = *tok;
    return kind;
}

/* :name rest of line */
static SlTokKind lex_command(SlLexer *lx, SlToken *tok)
{
    adv(lx, 1); /* ':' */
    const char *name = lx->p;
    while (lx->p < lx->end && (is_alpha(*lx->p) || is_digit(*lx->p) || *lx->p == '_'))
        adv(lx, 1);
    tok->text = sl_arena_strndup(lx->src, name, (size_t)(lx->p - name));
    tok->len = (size_t)(lx->p - name);
    const char *rest = lx->p;
    while (lx->p < lx->end && *lx->p != '\n') {
        int n;
        if (cp_at(lx, lx->p, &n) == CP_BAD)
            return bad_utf8(lx, tok);
        adv(lx, n);
    }
    const char *stop = lx->p;
    while (rest < stop && (*rest == ' ' || *rest == '\t'))
        rest++;
    while (stop > rest && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r'))
        stop--;
    tok->str = sl_arena_strndup(lx->src, rest, (size_t)(stop - rest));
    return finish(lx, tok, SL_TOK_COMMAND);
}

/* Does an exponent ([eE][+-]?digit) start at q? */
static bool exponent_at(const SlLexer *lx, const char *q)
{
    if (q >= lx->end || (*q != 'e' && *q != 'E'))
        return false;
    q++;
    if (q < lx->end && (*q == '+' || *q == '-'))
        q++;
    return q < lx->end && is_digit(*q);
}

/* Digits of `base` with single '_' between them; false on a misplaced '_'. */
static bool scan_digits(SlLexer *lx, int base)
{
    for (;;) {
        char c = lx->p < lx->end ? *lx->p : '\0';
        bool ok = base == 16 ? is_hex(c) : base == 10 ? is_digit(c) : (c >= '0' && c < '0' + base);
        if (ok) {
            adv(lx, 1);
        } else if (c == '_') {
            char d = lx->p + 1 < lx->end ? lx->p[1] : '\0';
            bool next = base == 16 ? is_hex(d) : base == 10 ? is_digit(d) : (d >= '0' && d < '0' + base);
            if (!next)
                return false;
            adv(lx, 1);
        } else {
            return true;
        }
    }
}

static char *strip_underscores(SlSource *src, const char *s, size_t n, size_t *len)
{
    char *out = sl_arena_alloc(src, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            out[k++] = s[i];
    out[k] = '\0';
    *len = k;
    return out;
}

/* Is the number just read followed by an operand, with no space (2x)? */
static bool implicit_follows(const SlLexer *lx)
{
    if (lx->p >= lx->end)
        return false;
    unsigned char c = (unsigned char)*lx->p;
    if (c == '(')
        return true;
    if (is_alpha(c) || c == '_') {
        int k = keyword_index(lx->p, ascii_word(lx, lx->p));
        /* 2and 3, x in 2in ...: keywords are not operands (True/None are) */
        return k < 0 || keywords[k].kind == SL_TOK_BOOL || keywords[k].kind == SL_TOK_NONE;
    }
    if (c >= 0x80) {
        uint32_t cp = cp_at(lx, lx->p, NULL);
        return cp == CP_PI || cp == CP_SQRT || is_uni_letter(cp);
    }
    return false;
}

static SlTokKind lex_number(SlLexer *lx, SlToken *tok)
{
    const char *s = lx->p;
    int base = 10;
    if (s[0] == '0' && lx->end - s >= 3) {
        char x = (char)(s[1] | 0x20), d = s[2];
        if (d == '_' && lx->end - s >= 4)
            d = s[3];
        if (x == 'x' && is_hex(d))
            base = 16;
        else if (x == 'o' && d >= '0' && d <= '7')
            base = 8;
        else if (x == 'b' && (d == '0' || d == '1'))
            base = 2;
    }
    if (base != 10) {
        const char *kind = base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary";
        adv(lx, 1);
        adv(lx, 1);
        if (*lx->p == '_')
            adv(lx, 1);
        const char *digits = lx->p;
        if (!scan_digits(lx, base))
            return fail(lx, tok, here(lx), false, NULL, "invalid '_' in %s literal", kind);
        int n;
        uint32_t c = cp_at(lx, lx->p, &n);
        if (c != CP_BAD && (is_name_start(c) || (c < 0x80 && is_digit((int)c)) || is_sub_digit(c))) {
            char what[32];
            describe_cp(what, sizeof what, c);
            return fail(lx, tok, here(lx), false, NULL, "invalid digit %s in %s literal", what, kind);
        }
        size_t len;
        char *clean = strip_underscores(lx->src, digits, (size_t)(lx->p - digits), &len);
        mpz_t z;
        mpz_init(z);
        mpz_set_str(z, clean, base);
        char *dec = sl_arena_alloc(lx->src, mpz_sizeinbase(z, 10) + 2);
        mpz_get_str(dec, 10, z);
        mpz_clear(z);
        tok->text = dec;
        tok->len = strlen(dec);
        return finish(lx, tok, SL_TOK_INT);
    }

    bool is_float = false;
    if (!scan_digits(lx, 10))
        goto bad_underscore;
    if (lx->p < lx->end && *lx->p == '.') {
        const char *q = lx->p + 1;
        int n;
        uint32_t c = cp_at(lx, q, &n);
        if (q < lx->end && is_digit(*q)) {
            adv(lx, 1);
            if (!scan_digits(lx, 10))
                goto bad_underscore;
            is_float = true;
        } else if (exponent_at(lx, q)) {
            adv(lx, 1);
            is_float = true;
        } else if (c != CP_BAD && is_name_start(c)) {
            /* 1.x: the number stops before the dot */
        } else if (c == '_') {
            /* 1._ likewise */
        } else {
            adv(lx, 1); /* 1. */
            is_float = true;
        }
    }
    if (exponent_at(lx, lx->p)) {
        adv(lx, 1);
        if (*lx->p == '+' || *lx->p == '-')
            adv(lx, 1);
        if (!scan_digits(lx, 10))
            goto bad_underscore;
        is_float = true;
    }
    tok->text = strip_underscores(lx->src, s, (size_t)(lx->p - s), &tok->len);
    tok->implicit = implicit_follows(lx);
    return finish(lx, tok, is_float ? SL_TOK_FLOAT : SL_TOK_INT);

bad_underscore:
    return fail(lx, tok, here(lx), false, NULL, "invalid '_' in number: '_' goes between digits");
}

/* A growable byte buffer for decoding strings. */
typedef struct Buf {
    char *s;
    size_t len, cap;
} Buf;

static void buf_add(Buf *b, const char *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            fputs("slope: out of memory\n", stderr);
            abort();
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
}

static SlTokKind lex_string(SlLexer *lx, SlToken *tok)
{
    char quote = *lx->p;
    SlLoc open = here(lx);
    Buf b = {0};
    adv(lx, 1);
    for (;;) {
        if (lx->p >= lx->end) {
            free(b.s);
            return fail(lx, tok, open, true, NULL, "unterminated string (no closing %c)", quote);
        }
        char c = *lx->p;
        if (c == quote) {
            adv(lx, 1);
            break;
        }
        if (c != '\\') {
            int n;
            if (cp_at(lx, lx->p, &n) == CP_BAD) {
                free(b.s);
                return bad_utf8(lx, tok);
            }
            buf_add(&b, lx->p, (size_t)n);
            adv(lx, n);
            continue;
        }
        SlLoc esc = here(lx);
        const char *e = lx->p;
        adv(lx, 1);
        if (lx->p >= lx->end) {
            free(b.s);
            return fail(lx, tok, open, true, NULL, "unterminated string (no closing %c)", quote);
        }
        char d = *lx->p, out = 0;
        int hexn = 0;
        switch (d) {
        case 'n': out = '\n'; break;
        case 't': out = '\t'; break;
        case 'r': out = '\r'; break;
        case '\\': out = '\\'; break;
        case '"': out = '"'; break;
        case '\'': out = '\''; break;
        case '0': out = '\0'; break;
        case 'x': hexn = 2; break;
        case 'u': hexn = 4; break;
        case 'U': hexn = 8; break;
        case '\n': adv(lx, 1); continue; /* line continuation */
        case '\r':
            if (lx->p + 1 < lx->end && lx->p[1] == '\n') { /* continuation, CRLF */
                adv(lx, 1);
                adv(lx, 1);
                continue;
            }
            buf_add(&b, e, 1);
            continue;
        default:
            /* unknown escapes are kept as written, as Python does */
            buf_add(&b, e, 1);
            continue;
        }
        adv(lx, 1);
        if (!hexn) {
            buf_add(&b, &out, 1);
            continue;
        }
        uint32_t cp = 0;
        for (int i = 0; i < hexn; i++) {
            if (lx->p >= lx->end || !is_hex(*lx->p)) {
                free(b.s);
                esc.last_column = lx->col;
                return fail(lx, tok, esc, false, NULL, "invalid escape '\\%c': expected %d hex digits", d,
                            hexn);
            }
            cp = cp * 16 + (uint32_t)hex_value(*lx->p);
            adv(lx, 1);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            free(b.s);
            esc.last_column = lx->col;
            return fail(lx, tok, esc, false, NULL, "invalid escape '%.*s': not a character",
                        (int)(lx->p - e), e);
        }
        char u[4];
        buf_add(&b, u, (size_t)u8_encode(cp, u));
    }
    tok->len = b.len;
    char *text = sl_arena_alloc(lx->src, b.len + 1);
    if (b.len)
        memcpy(text, b.s, b.len);
    text[b.len] = '\0';
    tok->text = text;
    free(b.s);
    return finish(lx, tok, SL_TOK_STR);
}

static SlTokKind lex_name(SlLexer *lx, SlToken *tok)
{
    const char *s = lx->p;
    int n;
    uint32_t c = cp_at(lx, lx->p, &n);
    if (c == CP_PI) {
        adv(lx, n);
    } else {
        for (;;) {
            c = cp_at(lx, lx->p, &n);
            if (c == CP_BAD)
                break;
            if (c < 0x80 ? (is_alpha((int)c) || is_digit((int)c) || c == '_') : (is_uni_letter(c) || is_sub_digit(c)))
                adv(lx, n);
            else
                break;
        }
    }
    size_t len = (size_t)(lx->p - s);
    tok->text = sl_arena_strndup(lx->src, s, len);
    tok->len = len;
    int k = keyword_index(s, len);
    if (k >= 0) {
        SlTokKind kind = keywords[k].kind;
        bool is_kw = true;
        if (kind == SL_TOK_OPTIMIZER || kind == SL_TOK_STATE) {
            /* keywords only before a name: optimizer Name(...), state v = 0 */
            const char *q = lx->p;
            while (q < lx->end && (*q == ' ' || *q == '\t'))
                q++;
            uint32_t d = cp_at(lx, q, NULL);
            is_kw = q > lx->p && d != CP_BAD && is_name_start(d);
        } else if (kind == SL_TOK_NOGRAD) {
            const char *q = skip_blank(lx, lx->p);
            is_kw = q == lx->end || *q == '{';
        }
        if (is_kw) {
            tok->ival = keywords[k].ival;
            return finish(lx, tok, kind);
        }
    }
    /* primes: f' f'' f′ */
    long primes = 0;
    int pc;
    while ((c = cp_at(lx, lx->p, &n)) != CP_BAD && (pc = prime_count(c)) > 0) {
        primes += pc;
        adv(lx, n);
    }
    if (primes) {
        tok->ival = primes;
        return finish(lx, tok, SL_TOK_PRIME);
    }
    return finish(lx, tok, SL_TOK_NAME);
}

/* ⁻¹ ² ¹⁰: one integer exponent */
static SlTokKind lex_super(SlLexer *lx, SlToken *tok, uint32_t c, int n)
{
    if (c == 0x207B || c == 0x207A) {
        tok->ival = c == 0x207B ? -1 : 1;
        adv(lx, n);
        c = cp_at(lx, lx->p, &n);
        if (c == CP_BAD || super_digit(c) < 0)
            return fail(lx, tok, tok->loc, false, NULL, "expected superscript digits after '%s'",
                        tok->ival < 0 ? "⁻" : "⁺");
    }
    Buf b = {0};
    while (c != CP_BAD && super_digit(c) >= 0) {
        char d = (char)('0' + super_digit(c));
        if (b.len > 0 || d != '0') /* no leading zeros */
            buf_add(&b, &d, 1);
        adv(lx, n);
        c = cp_at(lx, lx->p, &n);
    }
    if (b.len == 0)
        buf_add(&b, "0", 1);
    tok->text = sl_arena_strndup(lx->src, b.s, b.len);
    tok->len = b.len;
    free(b.s);
    return finish(lx, tok, SL_TOK_SUPER);
}

static SlTokKind op(SlLexer *lx, SlToken *tok, int nbytes, SlTokKind kind, long ival)
{
    /* nbytes is the whole operator; it is one or two characters */
    const char *stop = lx->p + nbytes;
    while (lx->p < stop) {
        int n;
        cp_at(lx, lx->p, &n);
        adv(lx, n ? n : 1);
    }
    tok->ival = ival;
    return finish(lx, tok, kind);
}

static SlTokKind open_bracket(SlLexer *lx, SlToken *tok, SlTokKind kind)
{
    if (lx->nopen == SL_LEX_MAX_NEST)
        return fail(lx, tok, here(lx), false, NULL, "too many nested brackets (more than %d)",
                    SL_LEX_MAX_NEST);
    lx->open[lx->nopen].ch = *lx->p;
    lx->open[lx->nopen].loc = here(lx);
    lx->nopen++;
    return op(lx, tok, 1, kind, 0);
}

static SlTokKind close_bracket(SlLexer *lx, SlToken *tok, SlTokKind kind)
{
    char want = *lx->p == ')' ? '(' : *lx->p == ']' ? '[' : '{';
    if (lx->nopen > 0 && lx->open[lx->nopen - 1].ch == want) {
        lx->nopen--;
    } else if (lx->nopen > 0) {
        lx->mismatch = lx->open[lx->nopen - 1].ch;
        lx->mismatch_loc = lx->open[lx->nopen - 1].loc;
    }
    return op(lx, tok, 1, kind, 0);
}

static SlTokKind unknown_char(SlLexer *lx, SlToken *tok, uint32_t c, int n)
{
    const char *hint = NULL;
    switch (c) {
    case '!': hint = "use 'not' for negation ('!=' means not equal)"; break;
    case '&': hint = "use 'and'"; break;
    case '|': hint = "use 'or'"; break;
    case 0x201C: case 0x201D: case 0x201E: case 0x2018: case 0x2019:
        hint = "use straight quotes: \"...\" or '...'";
        break;
    case 0x2013: case 0x2014: hint = "use '-' or '−' for minus"; break;
    case 0x2032: case 0x2033: case 0x2034: hint = "a prime follows a function name: f′(x)"; break;
    default: break;
    }
    char what[32];
    describe_cp(what, sizeof what, c);
    (void)n;
    return fail(lx, tok, here(lx), false, hint, "unexpected character %s", what);
}

SlTokKind sl_lex_next(SlLexer *lx, SlToken *tok)
{
    if (lx->cur.kind == SL_TOK_END || lx->cur.kind == SL_TOK_ERROR) {
        *tok = lx->cur;
        return tok->kind;
    }
    /* blanks, comments and newlines */
    while (lx->p < lx->end) {
        unsigned char c = (unsigned char)*lx->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            adv(lx, 1);
        } else if (c == '#') {
            while (lx->p < lx->end && *lx->p != '\n') {
                int n;
                if (cp_at(lx, lx->p, &n) == CP_BAD) {
                    begin(lx, tok);
                    return bad_utf8(lx, tok);
                }
                adv(lx, n);
            }
        } else if (c == '\\' && lx->p + 1 < lx->end && (lx->p[1] == '\n' || lx->p[1] == '\r')) {
            if (lx->p[1] == '\r' && !(lx->p + 2 < lx->end && lx->p[2] == '\n'))
                break;
            adv(lx, 1);
            while (*lx->p != '\n')
                adv(lx, 1);
            adv(lx, 1);
        } else if (c == '\\' && lx->p + 1 == lx->end) {
            begin(lx, tok);
            adv(lx, 1);
            return fail(lx, tok, tok->loc, true, NULL, "the text ends after a line continuation '\\'");
        } else if (c == '\n') {
            bool inside = lx->nopen > 0 && lx->open[lx->nopen - 1].ch != '{';
            if (inside || continues(lx->cur.kind) || statement_start(lx->cur.kind) ||
                lx->p < lx->nl_blank) {
                adv(lx, 1);
                continue;
            }
            begin(lx, tok);
            adv(lx, 1);
            const char *q = skip_blank(lx, lx->p);
            if (q == lx->end || *q == '{' || word_is(lx, q, "else") || word_is(lx, q, "elif")) {
                lx->nl_blank = q; /* and so are the newlines up to q */
                continue;
            }
            tok->loc.last_line = tok->loc.first_line;
            tok->loc.last_column = tok->loc.first_column + 1;
            tok->kind = SL_TOK_NEWLINE;
            tok->nbytes = 1;
            lx->line_blank = true;
            lx->prev = lx->cur;
            lx->cur = *tok;
            return SL_TOK_NEWLINE;
        } else if (c >= 0x80) {
            int n;
            uint32_t cp = cp_at(lx, lx->p, &n);
            if (cp == CP_BAD || !is_uni_space(cp))
                break;
            adv(lx, n);
        } else {
            break;
        }
    }

    bool first_on_line = lx->line_blank;
    begin(lx, tok);
    if (lx->p >= lx->end) {
        /* the end is just past the last token */
        SlLoc e = lx->cur.loc;
        tok->loc = (SlLoc){e.last_line, e.last_column, e.last_line, e.last_column + 1};
        tok->kind = SL_TOK_END;
        lx->prev = lx->cur;
        lx->cur = *tok;
        return SL_TOK_END;
    }

    unsigned char c = (unsigned char)*lx->p;
    char c1 = lx->p + 1 < lx->end ? lx->p[1] : '\0';
    if (c == ':' && first_on_line && statement_start(lx->cur.kind) && is_alpha(c1))
        return lex_command(lx, tok);
    if (is_digit(c) || (c == '.' && is_digit(c1)))
        return lex_number(lx, tok);
    if (c == '"' || c == '\'')
        return lex_string(lx, tok);
    if (is_alpha(c) || c == '_')
        return lex_name(lx, tok);
    if (c >= 0x80) {
        int n;
        uint32_t cp = cp_at(lx, lx->p, &n);
        if (cp == CP_BAD)
            return bad_utf8(lx, tok);
        if (is_name_start(cp))
            return lex_name(lx, tok);
        if (super_digit(cp) >= 0 || cp == 0x207B || cp == 0x207A)
            return lex_super(lx, tok, cp, n);
        switch (cp) {
        case 0x2212: return op(lx, tok, n, SL_TOK_MINUS, 0);             /* − */
        case 0x00B7: case 0x22C5: case 0x00D7:                           /* · ⋅ × */
            return op(lx, tok, n, SL_TOK_MULOP, SL_OP_MUL);
        case 0x00F7: return op(lx, tok, n, SL_TOK_MULOP, SL_OP_DIV);     /* ÷ */
        case CP_SQRT: return op(lx, tok, n, SL_TOK_SQRT, SL_OP_SQRT);   /* √ */
        case 0x2264: return op(lx, tok, n, SL_TOK_CMP, SL_OP_LE);        /* ≤ */
        case 0x2265: return op(lx, tok, n, SL_TOK_CMP, SL_OP_GE);        /* ≥ */
        case 0x2260: return op(lx, tok, n, SL_TOK_CMP, SL_OP_NE);        /* ≠ */
        default: return unknown_char(lx, tok, cp, n);
        }
    }
    switch (c) {
    case '+':
        return c1 == '=' ? op(lx, tok, 2, SL_TOK_AUGASSIGN, SL_OP_ADD) : op(lx, tok, 1, SL_TOK_PLUS, 0);
    case '-':
        return c1 == '=' ? op(lx, tok, 2, SL_TOK_AUGASSIGN, SL_OP_SUB) : op(lx, tok, 1, SL_TOK_MINUS, 0);
    case '*':
        if (c1 == '*')
            return op(lx, tok, 2, SL_TOK_POW, SL_OP_POW);
        return c1 == '=' ? op(lx, tok, 2, SL_TOK_AUGASSIGN, SL_OP_MUL)
                         : op(lx, tok, 1, SL_TOK_MULOP, SL_OP_MUL);
    case '/':
        if (c1 == '/')
            return op(lx, tok, 2, SL_TOK_MULOP, SL_OP_FLOORDIV);
        return c1 == '=' ? op(lx, tok, 2, SL_TOK_AUGASSIGN, SL_OP_DIV)
                         : op(lx, tok, 1, SL_TOK_MULOP, SL_OP_DIV);
    case '%': return op(lx, tok, 1, SL_TOK_MULOP, SL_OP_MOD);
    case '@': return op(lx, tok, 1, SL_TOK_MULOP, SL_OP_MATMUL);
    case '^': return op(lx, tok, 1, SL_TOK_POW, SL_OP_POW);
    case '=':
        return c1 == '=' ? op(lx, tok, 2, SL_TOK_CMP, SL_OP_EQ) : op(lx, tok, 1, SL_TOK_ASSIGN, SL_OP_ASSIGN);
    case '!':
        if (c1 == '=')
            return op(lx, tok, 2, SL_TOK_CMP, SL_OP_NE);
        break;
    case '<':
        return c1 == '=' ? op(lx, tok, 2, SL_TOK_CMP, SL_OP_LE) : op(lx, tok, 1, SL_TOK_CMP, SL_OP_LT);
    case '>':
        return c1 == '=' ? op(lx, tok, 2, SL_TOK_CMP, SL_OP_GE) : op(lx, tok, 1, SL_TOK_CMP, SL_OP_GT);
    case '(': return open_bracket(lx, tok, SL_TOK_LPAREN);
    case '[': return open_bracket(lx, tok, SL_TOK_LBRACK);
    case '{': return open_bracket(lx, tok, SL_TOK_LBRACE);
    case ')': return close_bracket(lx, tok, SL_TOK_RPAREN);
    case ']': return close_bracket(lx, tok, SL_TOK_RBRACK);
    case '}': return close_bracket(lx, tok, SL_TOK_RBRACE);
    case ',': return op(lx, tok, 1, SL_TOK_COMMA, 0);
    case '.': return op(lx, tok, 1, SL_TOK_DOT, 0);
    case ':': return op(lx, tok, 1, SL_TOK_COLON, 0);
    case ';': return op(lx, tok, 1, SL_TOK_SEMI, 0);
    default: break;
    }
    return unknown_char(lx, tok, c, 1);
}

const char *sl_tok_name(SlTokKind kind)
{
    static const char *const names[SL_TOK_COUNT] = {
        [SL_TOK_END] = "end of input", [SL_TOK_ERROR] = "error", [SL_TOK_NEWLINE] = "newline",
        [SL_TOK_SEMI] = "';'", [SL_TOK_INT] = "integer", [SL_TOK_FLOAT] = "float",
        [SL_TOK_STR] = "string", [SL_TOK_NAME] = "name", [SL_TOK_PRIME] = "prime",
        [SL_TOK_SUPER] = "superscript", [SL_TOK_BOOL] = "bool", [SL_TOK_NONE] = "none",
        [SL_TOK_COMMAND] = "command", [SL_TOK_DEF] = "'def'", [SL_TOK_RETURN] = "'return'",
        [SL_TOK_IF] = "'if'", [SL_TOK_ELSE] = "'else'", [SL_TOK_ELIF] = "'elif'",
        [SL_TOK_WHILE] = "'while'", [SL_TOK_FOR] = "'for'", [SL_TOK_IN] = "'in'",
        [SL_TOK_BREAK] = "'break'", [SL_TOK_CONTINUE] = "'continue'", [SL_TOK_AND] = "'and'",
        [SL_TOK_OR] = "'or'", [SL_TOK_NOT] = "'not'", [SL_TOK_OPTIMIZER] = "'optimizer'",
        [SL_TOK_STATE] = "'state'", [SL_TOK_NOGRAD] = "'no_grad'", [SL_TOK_PASS] = "'pass'",
        [SL_TOK_LPAREN] = "'('", [SL_TOK_RPAREN] = "')'", [SL_TOK_LBRACK] = "'['",
        [SL_TOK_RBRACK] = "']'", [SL_TOK_LBRACE] = "'{'", [SL_TOK_RBRACE] = "'}'",
        [SL_TOK_COMMA] = "','", [SL_TOK_DOT] = "'.'", [SL_TOK_COLON] = "':'",
        [SL_TOK_ASSIGN] = "'='", [SL_TOK_AUGASSIGN] = "augmented assignment",
        [SL_TOK_PLUS] = "'+'", [SL_TOK_MINUS] = "'-'", [SL_TOK_MULOP] = "operator",
        [SL_TOK_POW] = "'^'", [SL_TOK_CMP] = "comparison", [SL_TOK_SQRT] = "'√'",
    };
    return kind < SL_TOK_COUNT && names[kind] ? names[kind] : "?";
}
