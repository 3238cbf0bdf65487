/* test_lexer.c -- the token stream: every Unicode form, numbers, strings,
 * primes, implicit multiplication, newlines, commands, errors, locations. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"

static SlSource *src;
static SlLexer lx;

static void start(const char *text, size_t len, int first_line)
{
    if (src)
        sl_source_unref(src);
    src = sl_source_new(NULL, text, len, first_line);
    sl_lex_init(&lx, src);
}

static void teardown(void)
{
    if (src)
        sl_source_unref(src);
    src = NULL;
}

static void render(char *out, size_t size, const SlToken *t)
{
    switch (t->kind) {
    case SL_TOK_NAME: snprintf(out, size, "name:%s", t->text); break;
    case SL_TOK_INT: snprintf(out, size, "int:%s%s", t->text, t->implicit ? "*" : ""); break;
    case SL_TOK_FLOAT: snprintf(out, size, "float:%s%s", t->text, t->implicit ? "*" : ""); break;
    case SL_TOK_STR: {
        size_t k = (size_t)snprintf(out, size, "str:\"");
        for (size_t i = 0; i < t->len && k + 6 < size; i++) {
            unsigned char c = (unsigned char)t->text[i];
            if (c < 0x20 || c == '\\')
                k += (size_t)snprintf(out + k, size - k, "\\%02x", c);
            else
                out[k++] = (char)c;
        }
        snprintf(out + k, size - k, "\"");
        break;
    }
    case SL_TOK_PRIME: snprintf(out, size, "prime:%s/%ld", t->text, t->ival); break;
    case SL_TOK_SUPER:
        snprintf(out, size, "sup:%s%s", t->ival < 0 ? "-" : t->ival > 0 ? "+" : "", t->text);
        break;
    case SL_TOK_BOOL: snprintf(out, size, "bool:%ld", t->ival); break;
    case SL_TOK_NONE: snprintf(out, size, "none"); break;
    case SL_TOK_COMMAND: snprintf(out, size, "cmd:%s|%s", t->text, t->str); break;
    case SL_TOK_NEWLINE: snprintf(out, size, "NL"); break;
    case SL_TOK_MINUS: snprintf(out, size, "-"); break;
    case SL_TOK_POW: snprintf(out, size, "**"); break;
    case SL_TOK_MULOP:
    case SL_TOK_CMP: snprintf(out, size, "%s", sl_op_name((int)t->ival)); break;
    case SL_TOK_AUGASSIGN: snprintf(out, size, "%s=", sl_op_name((int)t->ival)); break;
    case SL_TOK_ERROR:
        snprintf(out, size, "%s(%s)", lx.incomplete ? "INCOMPLETE" : "ERROR", lx.msg);
        break;
    default: snprintf(out, size, "%.*s", (int)t->nbytes, t->start); break;
    }
}

/* The whole stream as one string: "name:x = int:3". */
static const char *toks_n(const char *text, size_t len)
{
    static char buf[4096];
    start(text, len, 1);
    size_t k = 0;
    buf[0] = '\0';
    for (int guard = 0; guard < 500; guard++) {
        SlToken t;
        SlTokKind kind = sl_lex_next(&lx, &t);
        if (kind == SL_TOK_END)
            break;
        char one[512];
        render(one, sizeof one, &t);
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s", k ? " " : "", one);
        if (kind == SL_TOK_ERROR)
            break;
    }
    return buf;
}

static const char *toks(const char *text) { return toks_n(text, strlen(text)); }

#define T(text, expect) ck_assert_str_eq(toks(text), expect)

/* ---------------------------------------------------------------------- */

START_TEST(test_basic)
{
    T("", "");
    T("   # only a comment", "");
    T("x = 3", "name:x = int:3");
    T("f(a, b=1)", "name:f ( name:a , name:b = int:1 )");
    T("a.b[0]; c", "name:a . name:b [ int:0 ] ; name:c");
    T("x += 1; x -= 1; x *= 2; x /= 2",
      "name:x += int:1 ; name:x -= int:1 ; name:x *= int:2 ; name:x /= int:2");
    T("a + b - c * d / e // f % g @ h ^ i ** j",
      "name:a + name:b - name:c * name:d / name:e // name:f % name:g @ name:h ** name:i ** name:j");
    T("a == b != c < d <= e > f >= g", "name:a == name:b != name:c < name:d <= name:e > name:f >= name:g");
}
END_TEST

START_TEST(test_keywords)
{
    T("def return if else elif while for in break continue and or not pass",
      "def return if else elif while for in break continue and or not pass");
    T("True False true false None none", "bool:1 bool:0 bool:1 bool:0 none none");
    T("pi π e inf nan", "name:pi name:π name:e name:inf name:nan");
    /* contextual keywords */
    T("optimizer Foo(lr=1)", "optimizer name:Foo ( name:lr = int:1 )");
    T("optimizer = optim.SGD", "name:optimizer = name:optim . name:SGD");
    T("optimizer.step()", "name:optimizer . name:step ( )");
    T("state v = 0", "state name:v = int:0");
    T("state = 1", "name:state = int:1");
    T("no_grad { }", "no_grad { }");
    T("no_grad\n{ }", "no_grad { }");
    T("torch.no_grad { }", "name:torch . no_grad { }");
    T("torch.no_grad()", "name:torch . name:no_grad ( )");
    T("no_grad", "no_grad");
    /* keywords as prefixes of names */
    T("iffy ink format", "name:iffy name:ink name:format");
}
END_TEST

START_TEST(test_unicode_operators)
{
    T("a − b", "name:a - name:b");
    T("a · b × c ⋅ d ÷ e", "name:a * name:b * name:c * name:d / name:e");
    T("√x", "√ name:x");
    T("a ≤ b ≥ c ≠ d", "name:a <= name:b >= name:c != name:d");
    T("2π", "int:2* name:π");
    T("π/2", "name:π / int:2");
}
END_TEST

START_TEST(test_superscripts)
{
    T("x²", "name:x sup:2");
    T("x³ + x¹ + x⁰", "name:x sup:3 + name:x sup:1 + name:x sup:0");
    T("x⁴⁵⁶⁷⁸⁹", "name:x sup:456789");
    T("x⁻¹", "name:x sup:-1");
    T("x⁺²", "name:x sup:+2");
    T("x¹⁰", "name:x sup:10");
    T("x⁻¹²", "name:x sup:-12");
    T("x⁰⁷", "name:x sup:7");
    T("x²y", "name:x sup:2 name:y");
    T("2²", "int:2 sup:2");
    T("(x+1)²", "( name:x + int:1 ) sup:2");
    T("x²⁻¹", "name:x sup:2 sup:-1");
    T("x⁻", "name:x ERROR(expected superscript digits after '⁻')");
    T("x⁺ 2", "name:x ERROR(expected superscript digits after '⁺')");
}
END_TEST

START_TEST(test_names)
{
    T("η = 0.1", "name:η = float:0.1");
    T("αβγ ω Ω Δx", "name:αβγ name:ω name:Ω name:Δx");
    T("x₁ θ₁₂ x1_b", "name:x₁ name:θ₁₂ name:x1_b");
    T("café ñandú µ", "name:café name:ñandú name:µ");
    T("変数 = 1", "name:変数 = int:1");
    /* π is a name of its own */
    T("πr", "name:π name:r");
    T("aπ", "name:a name:π");
    /* operator characters end names */
    T("a−b", "name:a - name:b");
    T("a·b", "name:a * name:b");
    T("x×y÷z", "name:x * name:y / name:z");
    T("a≤b", "name:a <= name:b");
    /* subscripts do not start names */
    T("₁", "ERROR(unexpected character '₁' (U+2081))");
}
END_TEST

START_TEST(test_implicit_multiplication)
{
    T("2x", "int:2* name:x");
    T("2 x", "int:2 name:x");
    T("3(x + 1)", "int:3* ( name:x + int:1 )");
    T("3 (x)", "int:3 ( name:x )");
    T("2√x", "int:2* √ name:x");
    T("2π", "int:2* name:π");
    T("0.5x²", "float:0.5* name:x sup:2");
    T("2x^2", "int:2* name:x ** int:2");
    T("1/2x", "int:1 / int:2* name:x");
    T("2η", "int:2* name:η");
    /* exponents */
    T("2e5", "float:2e5");
    T("2e", "int:2* name:e");
    T("2ex", "int:2* name:ex");
    T("2e+1", "float:2e+1");
    T("2e+x", "int:2* name:e + name:x");
    T("1e-5x", "float:1e-5* name:x");
    T("2E5", "float:2E5");
    /* not after a number */
    T("x2", "name:x2");
    T("x y", "name:x name:y");
    T("(2)x", "( int:2 ) name:x");
    T("2[0]", "int:2 [ int:0 ]");
    T("2²x", "int:2 sup:2 name:x");
    /* keywords are not operands */
    T("2and x", "int:2 and name:x");
    T("x in 2in", "name:x in int:2 in");
    /* a dot before a name is an attribute, not a float */
    T("1.x", "int:1 . name:x");
    T("1.5x", "float:1.5* name:x");
    /* a no-break space is a space */
    T("2\xC2\xA0x", "int:2 name:x");
}
END_TEST

START_TEST(test_numbers)
{
    T("123", "int:123");
    T("1_000_000", "int:1000000");
    T("007", "int:007");
    T("0x1F 0XFF 0x_ff", "int:31 int:255 int:255");
    T("0b101 0B11 0o17 0O7", "int:5 int:3 int:15 int:7");
    T("0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "int:340282366920938463463374607431768211455");
    T("1.5 1. .5 1e-5 2.5E+3", "float:1.5 float:1. float:.5 float:1e-5 float:2.5E+3");
    T("1_0.5_0 1e1_0", "float:10.50 float:1e10");
    T("1.e5", "float:1.e5");
    T("a[1.]", "name:a [ float:1. ]");
    /* 0x with no hex digit is 0 times a name */
    T("0x", "int:0* name:x");
    T("0b2", "int:0* name:b2");
    T("1__0", "ERROR(invalid '_' in number: '_' goes between digits)");
    T("1_", "ERROR(invalid '_' in number: '_' goes between digits)");
    T("2_x", "ERROR(invalid '_' in number: '_' goes between digits)");
    T("0x1g", "ERROR(invalid digit 'g' in hexadecimal literal)");
    T("0b12", "ERROR(invalid digit '2' in binary literal)");
    T("0o78", "ERROR(invalid digit '8' in octal literal)");
    T("0x1_", "ERROR(invalid '_' in hexadecimal literal)");
}
END_TEST

START_TEST(test_primes_and_quotes)
{
    T("f'", "prime:f/1");
    T("f''", "prime:f/2");
    T("f'''(x)", "prime:f/3 ( name:x )");
    T("f′", "prime:f/1");
    T("f″ g‴", "prime:f/2 prime:g/3");
    T("f'′", "prime:f/2");
    T("print('w=', w)", "name:print ( str:\"w=\" , name:w )");
    T("x = 'a'", "name:x = str:\"a\"");
    T("d['k']", "name:d [ str:\"k\" ]");
    T("(f)'a'", "( name:f ) str:\"a\"");
    T("2'a'", "int:2 str:\"a\"");
    T("if'a'", "if str:\"a\"");
    T("f '", "name:f INCOMPLETE(unterminated string (no closing '))");
    T("′", "ERROR(unexpected character '′' (U+2032))");
}
END_TEST

START_TEST(test_strings)
{
    T("\"abc\"", "str:\"abc\"");
    T("'a\"b' \"a'b\"", "str:\"a\"b\" str:\"a'b\"");
    T("\"\\n\\t\\r\\\\\\\"\\'\"", "str:\"\\0a\\09\\0d\\5c\"'\"");
    T("\"\\x41\\u00e9\\U0001F600\"", "str:\"Aé😀\"");
    T("\"\\q\"", "str:\"\\5cq\"");
    T("\"a\\\nb\"", "str:\"ab\"");
    T("\"a\nb\"", "str:\"a\\0ab\"");
    T("\"é€\"", "str:\"é€\"");
    T("\"\\x4\"", "ERROR(invalid escape '\\x': expected 2 hex digits)");
    T("\"\\u12\"", "ERROR(invalid escape '\\u': expected 4 hex digits)");
    T("\"\\uD800\"", "ERROR(invalid escape '\\uD800': not a character)");
    T("\"\\U00110000\"", "ERROR(invalid escape '\\U00110000': not a character)");
    T("\"abc", "INCOMPLETE(unterminated string (no closing \"))");
    T("'abc\\", "INCOMPLETE(unterminated string (no closing '))");
    /* NUL bytes: \0 and a raw one */
    start("\"a\\0b\"", 6, 1);
    SlToken t;
    ck_assert_int_eq(sl_lex_next(&lx, &t), SL_TOK_STR);
    ck_assert_uint_eq(t.len, 3);
    ck_assert_int_eq(memcmp(t.text, "a\0b", 3), 0);
    ck_assert_str_eq(toks_n("\"a\0b\"", 5), "str:\"a\\00b\"");
}
END_TEST

START_TEST(test_newlines)
{
    T("a\nb", "name:a NL name:b");
    T("a\n\n\n  \nb", "name:a NL name:b");
    T("a\n# comment\n\nb", "name:a NL name:b");
    T("\n\na", "name:a");
    T("a\n", "name:a");
    T("a\n# comment\n  ", "name:a");
    T("a;\nb", "name:a ; name:b");
    /* inside () and [] newlines are spaces; inside {} they separate */
    T("(a\nb)", "( name:a name:b )");
    T("[1,\n2]", "[ int:1 , int:2 ]");
    T("{a\nb}", "{ name:a NL name:b }");
    T("f({\na\n})", "name:f ( { name:a NL } )");
    /* after a token that cannot end a statement */
    T("a +\nb", "name:a + name:b");
    T("x =\n\n 2", "name:x = int:2");
    T("a.\nb", "name:a . name:b");
    T("if\nx", "if name:x");
    /* before '{', 'else', 'elif' */
    T("if x\n{", "if name:x {");
    T("}\nelse {", "} else {");
    T("}\n\n# c\nelif x", "} elif name:x");
    T("a\nelsewhere", "name:a NL name:elsewhere");
    /* line continuation */
    T("a \\\n+ b", "name:a + name:b");
    T("a \\", "name:a INCOMPLETE(the text ends after a line continuation '\\')");
    T("a\r\nb\r\n", "name:a NL name:b");
}
END_TEST

START_TEST(test_commands)
{
    T(":precision 100", "cmd:precision|100");
    T("  :help  ", "cmd:help|");
    T(":time x = 2 # not a comment", "cmd:time|x = 2 # not a comment");
    T("x\n:vars\ny", "name:x NL cmd:vars| NL name:y");
    T("{\n:style ascii\n}", "{ cmd:style|ascii NL }");
    T(":load dir/a file.slope\r\n", "cmd:load|dir/a file.slope");
    /* not at the start of a statement or of a line */
    T("x = 1; :help", "name:x = int:1 ; : name:help");
    T("a[1\n:2]", "name:a [ int:1 : int:2 ]");
    T(":5", ": int:5");
}
END_TEST

START_TEST(test_bad_input)
{
    T("€", "ERROR(unexpected character '€' (U+20AC))");
    T("x = 2 € 3", "name:x = int:2 ERROR(unexpected character '€' (U+20AC))");
    T("$", "ERROR(unexpected character '$')");
    T("?", "ERROR(unexpected character '?')");
    T("\x07", "ERROR(unexpected character U+0007)");
    ck_assert_str_eq(toks_n("a\0b", 3), "name:a ERROR(unexpected character U+0000)");
    T("“hi”", "ERROR(unexpected character '“' (U+201C))");
    ck_assert_str_eq(lx.hint, "use straight quotes: \"...\" or '...'");
    T("!x", "ERROR(unexpected character '!')");
    ck_assert_str_eq(lx.hint, "use 'not' for negation ('!=' means not equal)");
    T("a && b", "name:a ERROR(unexpected character '&')");
    T("\xff", "ERROR(invalid UTF-8 byte 0xff)");
    T("a\xc3", "name:a ERROR(invalid UTF-8 byte 0xc3)");
    T("\xc0\xaf", "ERROR(invalid UTF-8 byte 0xc0)");         /* overlong */
    T("\xed\xa0\x80", "ERROR(invalid UTF-8 byte 0xed)");     /* surrogate */
    T("\xf4\x90\x80\x80", "ERROR(invalid UTF-8 byte 0xf4)"); /* > U+10FFFF */
    T("x # \xfe", "name:x ERROR(invalid UTF-8 byte 0xfe)");
    T("\"\x80\"", "ERROR(invalid UTF-8 byte 0x80)");
    T(":help \xff", "ERROR(invalid UTF-8 byte 0xff)");
    /* errors are sticky */
    T("$ x y", "ERROR(unexpected character '$')");
    SlToken t;
    ck_assert_int_eq(sl_lex_next(&lx, &t), SL_TOK_ERROR);
    /* a byte-order mark at the start is skipped */
    T("\xEF\xBB\xBFx", "name:x");
}
END_TEST

START_TEST(test_nesting_limit)
{
    char buf[SL_LEX_MAX_NEST + 10];
    memset(buf, '(', sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    const char *s = toks(buf);
    ck_assert_ptr_nonnull(strstr(s, "ERROR(too many nested brackets (more than 200))"));
}
END_TEST

/* Locations count characters, 1-based, lines absolute. */
static SlToken tok_at(int i)
{
    SlToken t;
    for (int k = 0; k <= i; k++)
        sl_lex_next(&lx, &t);
    return t;
}

#define LOC(tk, l1, c1, l2, c2)                                                              \
    do {                                                                                     \
        SlToken t_ = (tk);                                                                   \
        ck_assert_int_eq(t_.loc.first_line, l1);                                             \
        ck_assert_int_eq(t_.loc.first_column, c1);                                           \
        ck_assert_int_eq(t_.loc.last_line, l2);                                              \
        ck_assert_int_eq(t_.loc.last_column, c2);                                            \
    } while (0)

START_TEST(test_locations)
{
    const char *s = "η = αβ + √x² − 1";
    start(s, strlen(s), 1);
    LOC(tok_at(0), 1, 1, 1, 2);   /* η */
    LOC(tok_at(0), 1, 3, 1, 4);   /* = */
    LOC(tok_at(0), 1, 5, 1, 7);   /* αβ */
    LOC(tok_at(0), 1, 8, 1, 9);   /* + */
    LOC(tok_at(0), 1, 10, 1, 11); /* √ */
    LOC(tok_at(0), 1, 11, 1, 12); /* x */
    LOC(tok_at(0), 1, 12, 1, 13); /* ² */
    LOC(tok_at(0), 1, 14, 1, 15); /* − */
    LOC(tok_at(0), 1, 16, 1, 17); /* 1 */
    LOC(tok_at(0), 1, 17, 1, 18); /* end: just past the last token */

    /* absolute lines: the chunk starts at line 10 */
    s = "a\n  bc\n\"x\ny\" d";
    start(s, strlen(s), 10);
    LOC(tok_at(0), 10, 1, 10, 2);  /* a */
    LOC(tok_at(0), 10, 2, 10, 3);  /* newline */
    LOC(tok_at(0), 11, 3, 11, 5);  /* bc */
    LOC(tok_at(1), 12, 1, 13, 3);  /* the two-line string */
    LOC(tok_at(0), 13, 4, 13, 5);  /* d */

    /* raw text of a token */
    s = "f′(x) x⁻¹";
    start(s, strlen(s), 1);
    SlToken t = tok_at(0);
    ck_assert_int_eq((int)t.nbytes, 4);
    ck_assert_int_eq(memcmp(t.start, "f′", 4), 0);
    LOC(t, 1, 1, 1, 3);
    t = tok_at(4);
    ck_assert_int_eq(t.kind, SL_TOK_SUPER);
    ck_assert_int_eq(memcmp(t.start, "⁻¹", t.nbytes), 0);
    LOC(t, 1, 8, 1, 10);

    /* errors point at the character */
    s = "ab + €";
    start(s, strlen(s), 3);
    t = tok_at(2);
    ck_assert_int_eq(t.kind, SL_TOK_ERROR);
    ck_assert_int_eq(lx.err_loc.first_line, 3);
    ck_assert_int_eq(lx.err_loc.first_column, 6);
}
END_TEST

START_TEST(test_brackets)
{
    /* mismatched closers are reported with the bracket they met */
    const char *s = "(1]";
    start(s, strlen(s), 1);
    SlToken t = tok_at(2);
    ck_assert_int_eq(t.kind, SL_TOK_RBRACK);
    ck_assert_int_eq(lx.mismatch, '(');
    ck_assert_int_eq(lx.mismatch_loc.first_column, 1);
    s = "[()]";
    start(s, strlen(s), 1);
    t = tok_at(3);
    ck_assert_int_eq(lx.mismatch, 0);
    ck_assert_int_eq(lx.nopen, 0);
}
END_TEST

START_TEST(test_tok_names)
{
    for (int k = 0; k < SL_TOK_COUNT; k++)
        ck_assert_str_ne(sl_tok_name((SlTokKind)k), "?");
    ck_assert_str_eq(sl_tok_name(SL_TOK_NAME), "name");
    ck_assert_str_eq(sl_tok_name(SL_TOK_LPAREN), "'('");
}
END_TEST

static Suite *lexer_suite(void)
{
    Suite *s = suite_create("lexer");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_keywords);
    tcase_add_test(tc, test_unicode_operators);
    tcase_add_test(tc, test_superscripts);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_implicit_multiplication);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_primes_and_quotes);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_newlines);
    tcase_add_test(tc, test_commands);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_nesting_limit);
    tcase_add_test(tc, test_locations);
    tcase_add_test(tc, test_brackets);
    tcase_add_test(tc, test_tok_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lexer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
