/* test_parser.c -- text to AST through sl_parse: every statement and
 * expression form (via the dump), precedence, incomplete input, the exact
 * syntax error messages and positions, limits, and random input. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "lexer.h"
#include "parser.h"

static char out[16384];

/* Parse text (chunk starting at line 1); the dump, "INCOMPLETE", or
 * "ERROR L:C: message". */
static const char *parse_mode(const char *text, bool final, SlError *keep)
{
    SlSource *src = sl_source_new(NULL, text, strlen(text), 1);
    SlAst *block = NULL;
    SlError err = {0};
    SlParseStatus st = final ? sl_parse_final(src, &block, &err) : sl_parse(src, &block, &err);
    if (st == SL_PARSE_OK) {
        ck_assert(!err.set);
        char *s = sl_ast_dump_str(block);
        snprintf(out, sizeof out, "%s", s);
        free(s);
    } else if (st == SL_PARSE_INCOMPLETE) {
        ck_assert(!err.set);
        snprintf(out, sizeof out, "INCOMPLETE");
    } else {
        ck_assert(err.set);
        ck_assert(err.has_loc);
        snprintf(out, sizeof out, "ERROR %d:%d: %s", err.loc.first_line, err.loc.first_column, err.msg);
    }
    if (keep)
        *keep = err;
    else
        sl_err_clear(&err);
    sl_source_unref(src);
    return out;
}

static const char *pd(const char *text) { return parse_mode(text, false, NULL); }

/* The dump of the one expression statement of text. */
static const char *ed(const char *text)
{
    const char *s = pd(text);
    static char inner[16384];
    const char *pre = "(block (expr ";
    if (strncmp(s, pre, strlen(pre)) != 0)
        return s;
    size_t n = strlen(s) - strlen(pre) - 2;
    snprintf(inner, sizeof inner, "%.*s", (int)n, s + strlen(pre));
    ck_assert_str_eq(s + strlen(pre) + n, "))");
    return inner;
}

#define P(text, expect) ck_assert_str_eq(pd(text), expect)
#define E(text, expect) ck_assert_str_eq(ed(text), expect)
#define INCOMPLETE(text) ck_assert_str_eq(pd(text), "INCOMPLETE")
#define ERR(text, expect) ck_assert_str_eq(pd(text), "ERROR " expect)
#define FINAL(text, expect) ck_assert_str_eq(parse_mode(text, true, NULL), expect)

static const char *hint_of(const char *text)
{
    static char h[256];
    SlError err = {0};
    parse_mode(text, false, &err);
    snprintf(h, sizeof h, "%s", err.hint);
    sl_err_clear(&err);
    return h;
}

/* ---------------------------------------------------------------------- */

START_TEST(test_precedence)
{
    E("-x^2", "(unary - (binary ** (name x) (int 2)))");
    E("-x²", "(unary - (binary ** (name x) (int 2)))");
    E("2^3^2", "(binary ** (int 2) (binary ** (int 3) (int 2)))");
    E("2**3**2", "(binary ** (int 2) (binary ** (int 3) (int 2)))");
    E("2x^2", "(binary * (int 2) (binary ** (name x) (int 2)))");
    E("1/2x", "(binary / (int 1) (binary * (int 2) (name x)))");
    E("-2^-2", "(unary - (binary ** (int 2) (unary - (int 2))))");
    E("2^-1", "(binary ** (int 2) (unary - (int 1)))");
    E("2**-x", "(binary ** (int 2) (unary - (name x)))");
    E("a < b < c", "(compare (name a) < (name b) < (name c))");
    E("a < b", "(compare (name a) < (name b))");
    E("(a < b) < c", "(compare (compare (name a) < (name b)) < (name c))");
    E("a + b < c * d", "(compare (binary + (name a) (name b)) < (binary * (name c) (name d)))");
    E("not a == b", "(unary not (compare (name a) == (name b)))");
    E("not a and b", "(and (unary not (name a)) (name b))");
    E("not not a", "(unary not (unary not (name a)))");
    E("a or b and c", "(or (name a) (and (name b) (name c)))");
    E("a and b or c", "(or (and (name a) (name b)) (name c))");
    E("a + b * c", "(binary + (name a) (binary * (name b) (name c)))");
    E("a * b + c", "(binary + (binary * (name a) (name b)) (name c))");
    E("a - b - c", "(binary - (binary - (name a) (name b)) (name c))");
    E("a / b / c", "(binary / (binary / (name a) (name b)) (name c))");
    E("a // b % c @ d", "(binary @ (binary % (binary // (name a) (name b)) (name c)) (name d))");
    E("-a * b", "(binary * (unary - (name a)) (name b))");
    E("a * -b", "(binary * (name a) (unary - (name b)))");
    E("- -a", "(unary - (unary - (name a)))");
    E("+a", "(unary + (name a))");
    E("−a − b", "(binary - (unary - (name a)) (name b))");
    /* implicit multiplication: tighter than * and /, looser than ^ */
    E("2x", "(binary * (int 2) (name x))");
    E("2 + 3x", "(binary + (int 2) (binary * (int 3) (name x)))");
    E("2x/3", "(binary / (binary * (int 2) (name x)) (int 3))");
    E("-2x", "(unary - (binary * (int 2) (name x)))");
    E("2x²", "(binary * (int 2) (binary ** (name x) (int 2)))");
    E("3(x + 1)", "(binary * (int 3) (binary + (name x) (int 1)))");
    E("2(x+1)²", "(binary * (int 2) (binary ** (binary + (name x) (int 1)) (int 2)))");
    E("2π", "(binary * (int 2) (name π))");
    E("0.5x²", "(binary * (float 0.5) (binary ** (name x) (int 2)))");
    E("2e", "(binary * (int 2) (name e))");
    E("2e5", "(float 2e5)");
    E("1e-5x", "(binary * (float 1e-5) (name x))");
    E("2x(y)", "(binary * (int 2) (call (name x) (name y)))");
    E("2^2x", "(binary ** (int 2) (binary * (int 2) (name x)))"); /* as Julia: 2^(2x) */
    E("x^2y", "(binary ** (name x) (binary * (int 2) (name y)))");
    /* √ takes a unary operand */
    E("√x", "(unary √ (name x))");
    E("√x²", "(unary √ (binary ** (name x) (int 2)))");
    E("√x^2", "(unary √ (binary ** (name x) (int 2)))");
    E("√(x+1)", "(unary √ (binary + (name x) (int 1)))");
    E("√x·y", "(binary * (unary √ (name x)) (name y))");
    E("2√x", "(binary * (int 2) (unary √ (name x)))");
    E("2√x²", "(binary * (int 2) (unary √ (binary ** (name x) (int 2))))");
    E("√2x", "(unary √ (binary * (int 2) (name x)))");
    E("√-x", "(unary √ (unary - (name x)))");
    E("-√x", "(unary - (unary √ (name x)))");
    E("2^√x", "(binary ** (int 2) (unary √ (name x)))");
    E("√√x", "(unary √ (unary √ (name x)))");
    /* superscripts are postfix, after calls and indexing */
    E("x^y²", "(binary ** (name x) (binary ** (name y) (int 2)))");
    E("x²^3", "(binary ** (binary ** (name x) (int 2)) (int 3))");
    E("f(x)²", "(binary ** (call (name f) (name x)) (int 2))");
    E("a[0]²", "(binary ** (index (name a) (int 0)) (int 2))");
    E("x²⁻¹", "(binary ** (binary ** (name x) (int 2)) (unary - (int 1)))");
    E("2²", "(binary ** (int 2) (int 2))");
    /* x²y: no implicit multiplication after a superscript */
    ERR("x²y", "1:3: unexpected name 'y'");
}
END_TEST

START_TEST(test_literals)
{
    E("123", "(int 123)");
    E("1_000", "(int 1000)");
    E("0x1F", "(int 31)");
    E("0b101", "(int 5)");
    E("0o17", "(int 15)");
    E("1.5", "(float 1.5)");
    E("1.", "(float 1.)");
    E(".5", "(float .5)");
    E("1e-5", "(float 1e-5)");
    E("2.5E+3", "(float 2.5E+3)");
    E("\"a\\nb\"", "(str \"a\\nb\")");
    E("'it\\'s'", "(str \"it's\")");
    E("\"\\u00e9\\x41\"", "(str \"éA\")");
    E("\"a\\0b\"", "(str \"a\\x00b\")");
    E("True", "(bool True)");
    E("false", "(bool False)");
    E("None", "(none)");
    E("none", "(none)");
    E("pi", "(name pi)");
    E("π", "(name π)");
    E("η", "(name η)");
    E("x₁", "(name x₁)");
    E("f'", "(prime f 1)");
    E("f''", "(prime f 2)");
    E("f′", "(prime f 1)");
    E("[]", "(list)");
    E("[1, 2]", "(list (int 1) (int 2))");
    E("[1, 2,]", "(list (int 1) (int 2))");
    E("[[1], [2, 3]]", "(list (list (int 1)) (list (int 2) (int 3)))");
    E("()", "(tuple)");
    E("(1,)", "(tuple (int 1))");
    E("(1, 2)", "(tuple (int 1) (int 2))");
    E("(1)", "(int 1)");
    E("1, 2", "(tuple (int 1) (int 2))");
    E("1,", "(tuple (int 1))");
}
END_TEST

START_TEST(test_postfix)
{
    E("f()", "(call (name f))");
    E("f(a, b)", "(call (name f) (name a) (name b))");
    E("f(a, k=v)", "(call (name f) (name a) (kwarg k (name v)))");
    E("f(a,)", "(call (name f) (name a))");
    E("f(x)(y)", "(call (call (name f) (name x)) (name y))");
    E("f'(1)", "(call (prime f 1) (int 1))");
    E("f''(x)", "(call (prime f 2) (name x))");
    E("a[i]", "(index (name a) (name i))");
    E("a[i, j]", "(index (name a) (name i) (name j))");
    E("a[1:3]", "(index (name a) (slice (int 1) (int 3) _))");
    E("a[:, 0]", "(index (name a) (slice _ _ _) (int 0))");
    E("a[::2]", "(index (name a) (slice _ _ (int 2)))");
    E("a[1:]", "(index (name a) (slice (int 1) _ _))");
    E("a[:-1]", "(index (name a) (slice _ (unary - (int 1)) _))");
    E("a[1:10:2]", "(index (name a) (slice (int 1) (int 10) (int 2)))");
    E("a[i][j]", "(index (index (name a) (name i)) (name j))");
    E("x.grad", "(attr (name x) grad)");
    E("y.backward()", "(call (attr (name y) backward))");
    E("x.grad.data.zero_()", "(call (attr (attr (attr (name x) grad) data) zero_))");
    E("torch.optim.SGD([x], lr=0.001)",
      "(call (attr (attr (name torch) optim) SGD) (list (name x)) (kwarg lr (float 0.001)))");
    E("\"{: >8}\".format(i)", "(call (attr (str \"{: >8}\") format) (name i))");
    E("torch.no_grad()", "(call (attr (name torch) no_grad))");
    E("f(optimizer=1, state=2)",
      "(call (name f) (kwarg optimizer (int 1)) (kwarg state (int 2)))");
    E("print('w=', w)", "(call (name print) (str \"w=\") (name w))");
}
END_TEST

START_TEST(test_unicode_forms)
{
    E("x · y × z ÷ w − v",
      "(binary - (binary / (binary * (binary * (name x) (name y)) (name z)) (name w)) (name v))");
    E("a ≤ b ≥ c ≠ d", "(compare (name a) <= (name b) >= (name c) != (name d))");
    E("x⁻¹", "(binary ** (name x) (unary - (int 1)))");
    E("x¹⁰", "(binary ** (name x) (int 10))");
    E("x⁺³", "(binary ** (name x) (int 3))");
    E("η·x", "(binary * (name η) (name x))");
    P("f(x) = x² + x − 6",
      "(block (funcdef f (x) (binary - (binary + (binary ** (name x) (int 2)) (name x)) (int 6))))");
    P("g(x, y) = x³·y² + sin(x·y)",
      "(block (funcdef g (x y) (binary + (binary * (binary ** (name x) (int 3)) (binary ** (name y) "
      "(int 2))) (call (name sin) (binary * (name x) (name y))))))");
}
END_TEST

START_TEST(test_statements)
{
    P("", "(block)");
    P("  # nothing\n\n", "(block)");
    P("x = 3", "(block (assign = (name x) (int 3)))");
    P("a, b = b, a", "(block (assign = (tuple (name a) (name b)) (tuple (name b) (name a))))");
    P("(a, b) = 1, 2", "(block (assign = (tuple (name a) (name b)) (tuple (int 1) (int 2))))");
    P("a[0] = 1", "(block (assign = (index (name a) (int 0)) (int 1)))");
    P("x.data = 2", "(block (assign = (attr (name x) data) (int 2)))");
    P("x += 1", "(block (assign += (name x) (int 1)))");
    P("x -= 1; x *= 2; x /= 2",
      "(block (assign -= (name x) (int 1)) (assign *= (name x) (int 2)) (assign /= (name x) (int 2)))");
    P("p -= lr * p.grad", "(block (assign -= (name p) (binary * (name lr) (attr (name p) grad))))");
    P("f(x) = x^2", "(block (funcdef f (x) (binary ** (name x) (int 2))))");
    P("f(x, y=2) = x*y", "(block (funcdef f (x y=(int 2)) (binary * (name x) (name y))))");
    P("g() = 1", "(block (funcdef g () (int 1)))");
    P("f(x) =\n  x + 1", "(block (funcdef f (x) (binary + (name x) (int 1))))");
    P("def f(a, b=1) { return a + b }",
      "(block (def f (a b=(int 1)) (block (return (binary + (name a) (name b))))))");
    P("def f() {\n}\n", "(block (def f () (block)))");
    P("def rosen(v) {\n    s = 0\n    for i in range(len(v) - 1) { s += 100*(v[i+1] - v[i]^2)^2 }\n"
      "    return s\n}",
      "(block (def rosen (v) (block (assign = (name s) (int 0)) (for (name i) (call (name range) "
      "(binary - (call (name len) (name v)) (int 1))) (block (assign += (name s) (binary * (int 100) "
      "(binary ** (binary - (index (name v) (binary + (name i) (int 1))) (binary ** (index (name v) "
      "(name i)) (int 2))) (int 2)))))) (return (name s)))))");
    P("optimizer SimpleGD(lr=0.01) {\n    p -= lr * p.grad\n}",
      "(block (optimizer SimpleGD (lr=(float 0.01)) (block (assign -= (name p) (binary * (name lr) "
      "(attr (name p) grad))))))");
    P("optimizer Momentum(lr=0.01, mu=0.9) {\n    state v = 0\n    v = mu*v + p.grad\n    p -= lr*v\n}",
      "(block (optimizer Momentum (lr=(float 0.01) mu=(float 0.9)) (block (state v (int 0)) (assign = "
      "(name v) (binary + (binary * (name mu) (name v)) (attr (name p) grad))) (assign -= (name p) "
      "(binary * (name lr) (name v))))))");
    P("state v = 0", "(block (state v (int 0)))");
    P("return", "(block (return))");
    P("return x", "(block (return (name x)))");
    P("return a, b", "(block (return (tuple (name a) (name b))))");
    P("break; continue; pass", "(block (break) (continue) (pass))");
    P("optimizer = optim.SGD(model2.parameters(), lr = 0.01)",
      "(block (assign = (name optimizer) (call (attr (name optim) SGD) (call (attr (name model2) "
      "parameters)) (kwarg lr (float 0.01)))))");
    P("state = 1", "(block (assign = (name state) (int 1)))");
}
END_TEST

START_TEST(test_control_flow)
{
    P("if x { print(1) }", "(block (if (name x) (block (expr (call (name print) (int 1))))))");
    P("if x { a } else { b }", "(block (if (name x) (block (expr (name a))) (block (expr (name b)))))");
    P("if x { a } else if y { b } elif z { c } else { d }",
      "(block (if (name x) (block (expr (name a))) (if (name y) (block (expr (name b))) (if (name z) "
      "(block (expr (name c))) (block (expr (name d)))))))");
    P("if i % 100 == 0 { print(i) }",
      "(block (if (compare (binary % (name i) (int 100)) == (int 0)) (block (expr (call (name print) "
      "(name i))))))");
    P("if(i%100)==0 { print(i) }",
      "(block (if (compare (binary % (name i) (int 100)) == (int 0)) (block (expr (call (name print) "
      "(name i))))))");
    /* else on the next line, or after blank and comment lines */
    P("if x {\n a\n}\nelse {\n b\n}", "(block (if (name x) (block (expr (name a))) (block (expr (name b)))))");
    P("if x { a }\n\n# why\nelif y { b }",
      "(block (if (name x) (block (expr (name a))) (if (name y) (block (expr (name b))))))");
    /* the brace on the next line */
    P("if x\n{\n a\n}", "(block (if (name x) (block (expr (name a)))))");
    P("while loss > 0.001 { step() }",
      "(block (while (compare (name loss) > (float 0.001)) (block (expr (call (name step))))))");
    P("for i in range(0, 100) { }",
      "(block (for (name i) (call (name range) (int 0) (int 100)) (block)))");
    P("for a, b in zip(x, y) { print(a) }",
      "(block (for (tuple (name a) (name b)) (call (name zip) (name x) (name y)) (block (expr (call "
      "(name print) (name a))))))");
    P("for input, target in zip(x2, target2) { }",
      "(block (for (tuple (name input) (name target)) (call (name zip) (name x2) (name target2)) (block)))");
    P("no_grad { x -= 1 }", "(block (no_grad (block (assign -= (name x) (int 1)))))");
    P("torch.no_grad { x -= 1 }", "(block (no_grad (block (assign -= (name x) (int 1)))))");
    P("no_grad\n{\n}", "(block (no_grad (block)))");
}
END_TEST

START_TEST(test_layout)
{
    /* separators, blank lines, silence */
    P("x;", "(block (expr; (name x)))");
    P("x; y", "(block (expr; (name x)) (expr (name y)))");
    P("x;;", "(block (expr; (name x)))");
    P("x = 1;", "(block (assign = (name x) (int 1)))");
    P(";;\n\n;", "(block)");
    P("a\n\n\nb\n", "(block (expr (name a)) (expr (name b)))");
    P("if x { y; }", "(block (if (name x) (block (expr; (name y)))))");
    P("if a {\n\n  b\n\n  c;\n}",
      "(block (if (name a) (block (expr (name b)) (expr; (name c)))))");
    /* continuation: newlines inside brackets and after operators */
    P("x = [1,\n 2,\n 3]", "(block (assign = (name x) (list (int 1) (int 2) (int 3))))");
    P("y = f(a,\n      b)", "(block (assign = (name y) (call (name f) (name a) (name b))))");
    P("loss = a +\n       b", "(block (assign = (name loss) (binary + (name a) (name b))))");
    P("x = 1 \\\n + 2", "(block (assign = (name x) (binary + (int 1) (int 2))))");
    P("x = 1 # a comment\ny = 2", "(block (assign = (name x) (int 1)) (assign = (name y) (int 2)))");
    /* commands */
    P(":precision 100", "(block (command precision \"100\"))");
    P(":time x = 2", "(block (command time \"x = 2\"))");
    P(":help", "(block (command help \"\"))");
    P("x = 1\n:vars # raw\ny", "(block (assign = (name x) (int 1)) (command vars \"# raw\") (expr (name y)))");
    P("for i in range(2) {\n:time f(i)\n}",
      "(block (for (name i) (call (name range) (int 2)) (block (command time \"f(i)\"))))");
    /* CRLF */
    P("x = 1\r\ny = 2\r\n", "(block (assign = (name x) (int 1)) (assign = (name y) (int 2)))");
}
END_TEST

START_TEST(test_incomplete)
{
    static const char *const cases[] = {
        "(1 +", "f(x) = ", "if x {", "def f(x) {\n return x", "[1, 2,", "\"abc", "x ^",
        "for i in range(3)", "for i in range(3)\n", "x = (", "f(", "a[1:", "if x {} else",
        "if x {} elif", "while x", "def f(x)", "optimizer Foo(lr=0.1)", "state v =", "x +", "not",
        "a and", "-", "√", "'abc\\", "x = 1 \\", "g(x, y) =\n", "for a,", "for i in", "print('w=',",
        "x.", "if x {\n  if y {\n", "f(x) = x² +", "return (", "x = [\n1,\n2", "\"a\\\n", "def",
        "1 <", "x **", "2x +", "a, b = ", "no_grad", "torch.no_grad {", "if x\n", "x +\n\n",
        "def f(x) {  # a comment", "optimizer M(lr=1) {\n state v = 0\n", "x = \"multi\nline",
        "if a { b } else if c", "while x {\n  for i in y {\n  }\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(strcmp(pd(cases[i]), "INCOMPLETE") == 0, "%s -> %s", cases[i], out);

    /* genuine errors are not incomplete, even at the end of the text */
    static const char *const errors[] = {
        "1 +* 2", ")", "x = = 2", "(1]", "if x = 1", "x y", "€", "f(2) =", "3 =", "else", "{",
        "x^^", "1 + )", "if x =", "def f(2)", "x²y", "a, b +=", "\xff", "f(a=1, b)", "x = 1 2",
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        ck_assert_msg(strncmp(pd(errors[i]), "ERROR", 5) == 0, "%s -> %s", errors[i], out);
}
END_TEST

START_TEST(test_errors)
{
    ERR("f(x) = x^^2", "1:10: expected an expression after '^'");
    ERR("1 +* 2", "1:4: expected an expression after '+'");
    ERR("x = = 2", "1:5: expected an expression after '='");
    ERR(")", "1:1: unexpected ')'");
    ERR("x = 2)", "1:6: unexpected ')'");
    ERR("(1 + 2]", "1:7: unclosed '(' opened at 1:1");
    ERR("print((1 + 2)\nx = 3", "2:1: unclosed '(' opened at 1:6");
    ERR("if x { f(1 }", "1:12: unclosed '(' opened at 1:9");
    ERR("if x {\n y\n)", "3:1: unexpected ')'");
    ERR("f(2) = 3", "1:3: cannot define a function with parameter '2'; parameters must be names");
    ERR("f(x, y + 1) = 3", "1:6: cannot define a function with parameter 'y + 1'; parameters must be names");
    ERR("def f(x, 2) { }", "1:10: cannot define a function with parameter '2'; parameters must be names");
    ERR("3 = x", "1:1: cannot assign to literal '3'");
    ERR("\"s\" = x", "1:1: cannot assign to literal '\"s\"'");
    ERR("x + 1 = 2", "1:1: cannot assign to expression 'x + 1'");
    ERR("a, 1 = 2, 3", "1:4: cannot assign to '1' in a tuple; only names can be unpacked");
    ERR("a, b += 1", "1:1: '+=' needs a single target, not 'a, b'");
    ERR("f(x) += 1", "1:1: cannot assign to the call 'f(x)'");
    ERR("a.b(x) = 1", "1:1: cannot assign to the call 'a.b(x)'");
    ERR("f'(x) = 1", "1:1: cannot define the derivative 'f'' directly");
    ERR("f(x, x) = 1", "1:6: duplicate parameter 'x' in the definition of 'f'");
    ERR("f(a=1, b) = 1", "1:8: positional argument follows keyword argument");
    ERR("def f(a=1, b) { }", "1:12: parameter 'b' without a default follows one with a default");
    ERR("g(a=1, a=2)", "1:8: keyword argument 'a' repeated");
    ERR("if x = 1 { }", "1:6: use '==' to compare, not '=' (which assigns)");
    ERR("while x = 1 { }", "1:9: use '==' to compare, not '=' (which assigns)");
    ERR("if a { } elif b = 2 { }", "1:17: use '==' to compare, not '=' (which assigns)");
    ERR("if x print(x)", "1:6: expected '{' after the condition of 'if'");
    ERR("while x < 3\n  print(x)", "1:12: expected '{' after the condition of 'while'");
    ERR("if { }", "1:4: expected a condition after 'if'");
    ERR("if x { } else print(1)", "1:15: expected '{' or 'if' after 'else'");
    ERR("for i range(3) { }", "1:7: expected 'in' after the loop variable");
    ERR("for i in range(3) print(i)", "1:19: expected '{' to start the body of the 'for' loop");
    ERR("for 1 in x { }", "1:5: expected a name after 'for'");
    ERR("def f(x) = x", "1:10: expected '{' to start the body of 'def f'");
    ERR("def 3", "1:5: expected a name after 'def'");
    ERR("def f { }", "1:7: expected '(' after 'f'");
    ERR("for i in range(3): print(i)", "1:18: unexpected ':'");
    ERR("def f(x):", "1:9: unexpected ':'");
    ERR("x = 1\nelse { }", "2:1: 'else' without a matching 'if'");
    ERR("2 x", "1:3: unexpected name 'x'");
    ERR("x y", "1:3: unexpected name 'y'");
    ERR("x = 1 2", "1:7: unexpected number '2'");
    ERR("x²(x+1)", "1:3: unexpected '('");
    ERR("print \"hi\"", "1:7: unexpected string \"hi\"");
    ERR("import torch", "1:8: unexpected name 'torch'");
    ERR("x = 2 € 3", "1:7: unexpected character '€' (U+20AC)");
    ERR("a\xff", "1:2: invalid UTF-8 byte 0xff");
    ERR("x = $", "1:5: unexpected character '$'");
    ERR("x = 1; :help", "1:8: unexpected ':'");
    ERR("{ x }", "1:1: unexpected '{'");
    ERR("nn.no_grad { x }", "1:1: 'nn.no_grad' is not a block");
    ERR("x = 0x1g", "1:8: invalid digit 'g' in hexadecimal literal");
    ERR("s = \"\\x4\"", "1:6: invalid escape '\\x': expected 2 hex digits");
    ERR("y = x⁻", "1:6: expected superscript digits after '⁻'");
    /* positions count characters and follow the chunk's lines */
    ERR("η = αβ +\n\n  * 2", "3:3: expected an expression after '+'");
    ERR("x = 1\ny = (2 +\n)", "3:1: expected an expression after '+'");
    ERR("a = \"é\" + ) ", "1:11: expected an expression after '+'");
}
END_TEST

START_TEST(test_hints)
{
    ck_assert_str_eq(hint_of("2 x"), "to multiply, write 2x (no space) or 2*x");
    ck_assert_str_eq(hint_of("x y"), "is an operator missing? ('*' multiplies)");
    ck_assert_str_eq(hint_of("import torch"), "slope has no 'import': torch, nn and optim are built in");
    ck_assert_str_eq(hint_of("with torch.no_grad():"), "for 'with torch.no_grad():' write 'no_grad { ... }'");
    ck_assert_str_eq(hint_of("print \"hi\""), "print is a function: print(...)");
    ck_assert_str_eq(hint_of("for i in range(3):"),
                     "blocks are written in braces: if x { ... }, for i in range(3) { ... }");
    ck_assert_str_eq(hint_of("3 = x"), "to compare, use '=='");
    ck_assert_str_eq(hint_of("def f(x) = x"), "a one-line function needs no 'def': f(x) = ...");
    ck_assert_str_eq(hint_of("if x {\n y\n)"), "the block opened at 1:6 is still open");
    ck_assert_str_eq(hint_of("x = 1\nelse { }"), "'else' goes right after the '}' that closes an if block");
    ck_assert_str_eq(hint_of("a = “b”"), "use straight quotes: \"...\" or '...'");
    ck_assert_str_eq(hint_of("x = 1"), "");
}
END_TEST

START_TEST(test_final)
{
    FINAL("(1 +", "ERROR 1:5: expected an expression after '+'");
    FINAL("if x {", "ERROR 1:7: expected '}' to close the block opened at 1:6");
    FINAL("def f(x) {\n  return x\n", "ERROR 2:11: expected '}' to close the block opened at 1:10");
    FINAL("x = [1, 2,\n", "ERROR 1:11: unclosed '[' opened at 1:5");
    FINAL("print(f(x)", "ERROR 1:11: unclosed '(' opened at 1:6");
    FINAL("\"abc", "ERROR 1:1: unterminated string (no closing \")");
    FINAL("x ^", "ERROR 1:4: expected an expression after '^'");
    FINAL("for i in range(3)\n", "ERROR 1:18: expected '{' to start the body of the 'for' loop");
    FINAL("if x", "ERROR 1:5: expected '{' after the condition of 'if'");
    FINAL("x = 1 \\", "ERROR 1:7: the text ends after a line continuation '\\'");
    FINAL("x = 1", "(block (assign = (name x) (int 1)))");
    FINAL("", "(block)");
    /* genuine errors are the same either way */
    FINAL("1 +* 2", "ERROR 1:4: expected an expression after '+'");
}
END_TEST

static const SlAst *parse_tree(const char *text, int first_line, SlSource **srcp)
{
    SlSource *src = sl_source_new(NULL, text, strlen(text), first_line);
    SlAst *block = NULL;
    SlError err = {0};
    ck_assert_int_eq(sl_parse(src, &block, &err), SL_PARSE_OK);
    *srcp = src;
    return block;
}

#define NLOC(n, l1, c1, l2, c2)                                                              \
    do {                                                                                     \
        const SlAst *n_ = (n);                                                               \
        ck_assert_msg(n_->loc.first_line == (l1) && n_->loc.first_column == (c1) &&          \
                          n_->loc.last_line == (l2) && n_->loc.last_column == (c2),          \
                      "loc %d:%d-%d:%d", n_->loc.first_line, n_->loc.first_column,           \
                      n_->loc.last_line, n_->loc.last_column);                               \
    } while (0)

START_TEST(test_locations)
{
    SlSource *src;
    const SlAst *b = parse_tree("y = 2x² + √(x − 1)", 1, &src);
    const SlAst *as = b->items[0];
    NLOC(as, 1, 1, 1, 19);
    NLOC(as->a, 1, 1, 1, 2);
    const SlAst *sum = as->b;
    NLOC(sum, 1, 5, 1, 19);
    NLOC(sum->a, 1, 5, 1, 8);     /* 2x² */
    NLOC(sum->a->a, 1, 5, 1, 6);  /* 2 */
    NLOC(sum->a->b, 1, 6, 1, 8);  /* x² */
    NLOC(sum->b, 1, 11, 1, 19);   /* √(x − 1) */
    NLOC(sum->b->a, 1, 12, 1, 19); /* (x − 1), parentheses included */
    sl_source_unref(src);

    /* absolute lines; a block's span covers its braces */
    b = parse_tree("def f(a, b=1) {\n  return a\n}\nf(1)", 20, &src);
    const SlAst *d = b->items[0];
    NLOC(d, 20, 1, 22, 2);
    NLOC(d->a, 20, 15, 22, 2);
    ck_assert_int_eq((int)d->nparams, 2);
    ck_assert_int_eq(d->params[0].loc.first_column, 7);
    ck_assert_int_eq(d->params[1].loc.first_column, 10);
    NLOC(d->a->items[0], 21, 3, 21, 11);
    NLOC(b->items[1], 23, 1, 23, 5);
    NLOC(b, 20, 1, 23, 5);
    sl_source_unref(src);

    /* funcdef params and the whole definition */
    b = parse_tree("g(x, y) = x·y", 1, &src);
    NLOC(b->items[0], 1, 1, 1, 14);
    ck_assert_int_eq(b->items[0]->params[1].loc.first_column, 6);
    sl_source_unref(src);

    /* a chained comparison and a command */
    b = parse_tree("a < b ≤ c\n:digits 30", 1, &src);
    NLOC(b->items[0]->a, 1, 1, 1, 10);
    NLOC(b->items[1], 2, 1, 2, 11);
    sl_source_unref(src);
}
END_TEST

START_TEST(test_limits)
{
    char *buf = malloc(100000);
    /* 150 nested parentheses are fine */
    size_t k = 0;
    for (int i = 0; i < 150; i++)
        buf[k++] = '(';
    buf[k++] = 'x';
    for (int i = 0; i < 150; i++)
        buf[k++] = ')';
    buf[k] = '\0';
    ck_assert_str_eq(ed(buf), "(name x)");
    /* too many brackets */
    memset(buf, '[', 300);
    buf[300] = '\0';
    ck_assert_str_eq(pd(buf), "ERROR 1:201: too many nested brackets (more than 200)");
    /* a very long sum is refused, not recursed into */
    k = 0;
    for (int i = 0; i < 3000; i++)
        k += (size_t)sprintf(buf + k, "1+");
    buf[k++] = '1';
    buf[k] = '\0';
    ck_assert_ptr_nonnull(strstr(pd(buf), "the statement is nested too deeply (more than 1000 levels)"));
    /* deep unary chains exhaust Bison's stack gracefully */
    memset(buf, '-', 50000);
    buf[50000] = 'x';
    buf[50001] = '\0';
    ck_assert_ptr_nonnull(strstr(pd(buf), "nested too deeply"));
    /* many statements are not deep */
    k = 0;
    for (int i = 0; i < 5000; i++)
        k += (size_t)sprintf(buf + k, "x%d = %d\n", i, i);
    buf[k] = '\0';
    ck_assert_int_eq(strncmp(pd(buf), "(block (assign", 14), 0);
    /* long argument lists: duplicates found by sorting, reported in order */
    k = (size_t)sprintf(buf, "f(");
    for (int i = 0; i < 2000; i++) /* a1500 is written a1700, a1800 is written a5 */
        k += (size_t)sprintf(buf + k, "%sa%d=1", i ? ", " : "", i == 1500 ? 1700 : i == 1800 ? 5 : i);
    sprintf(buf + k, ")");
    ck_assert_ptr_nonnull(strstr(pd(buf), "keyword argument 'a1700' repeated"));
    k = (size_t)sprintf(buf, "g(");
    for (int i = 0; i < 2000; i++)
        k += (size_t)sprintf(buf + k, "%sp%d", i ? ", " : "", i);
    k += (size_t)sprintf(buf + k, ", p1999, p3) = 1");
    ck_assert_ptr_nonnull(strstr(pd(buf), "duplicate parameter 'p1999' in the definition of 'g'"));
    /* runs of blank and comment lines are skipped in one pass */
    k = (size_t)sprintf(buf, "x");
    for (int i = 0; i < 20000; i++)
        k += (size_t)sprintf(buf + k, "\n# c");
    sprintf(buf + k, "\ny");
    ck_assert_str_eq(pd(buf), "(block (expr (name x)) (expr (name y)))");
    free(buf);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Random input: nothing crashes, and the three answers keep their promises */

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static int line_count(const char *s, size_t n)
{
    int lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += s[i] == '\n';
    return lines;
}

static void check_locs(const SlAst *n, int lo, int hi)
{
    if (!n)
        return;
    ck_assert(n->loc.first_line >= lo && n->loc.last_line <= hi);
    ck_assert(n->loc.first_line < n->loc.last_line ||
              (n->loc.first_line == n->loc.last_line && n->loc.first_column <= n->loc.last_column));
    check_locs(n->a, lo, hi);
    check_locs(n->b, lo, hi);
    check_locs(n->c, lo, hi);
    for (size_t i = 0; i < n->nitems; i++)
        check_locs(n->items[i], lo, hi);
    for (size_t i = 0; i < n->nparams; i++)
        check_locs(n->params[i].def, lo, hi);
}

/* Parse both ways and check the contract of each answer. */
static void check_any(const char *text, size_t len)
{
    SlSource *src = sl_source_new(NULL, text, len, 7);
    int hi = 7 + line_count(text, len);
    SlAst *b1 = NULL, *b2 = NULL;
    SlError e1 = {0}, e2 = {0};
    SlParseStatus s1 = sl_parse(src, &b1, &e1);
    SlParseStatus s2 = sl_parse_final(src, &b2, &e2);
    ck_assert(s2 != SL_PARSE_INCOMPLETE);
    switch (s1) {
    case SL_PARSE_OK:
        ck_assert(!e1.set && b1 && b1->kind == SL_AST_BLOCK);
        ck_assert_int_eq(s2, SL_PARSE_OK);
        check_locs(b1, 7, hi);
        free(sl_ast_dump_str(b1));
        break;
    case SL_PARSE_INCOMPLETE:
        ck_assert(!e1.set && !b1);
        ck_assert_int_eq(s2, SL_PARSE_ERROR);
        break;
    case SL_PARSE_ERROR:
        ck_assert(e1.set && e1.has_loc && e1.msg[0] && !b1);
        ck_assert(e1.code == SL_E_SYNTAX || e1.code == SL_E_LIMIT);
        ck_assert(e1.loc.first_line >= 7 && e1.loc.first_line <= hi);
        ck_assert_int_eq(s2, SL_PARSE_ERROR);
        ck_assert_str_eq(e1.msg, e2.msg);
        break;
    }
    if (s2 == SL_PARSE_ERROR) {
        ck_assert(e2.set && e2.has_loc && e2.msg[0]);
        ck_assert(e2.loc.first_line >= 7 && e2.loc.first_line <= hi);
    }
    sl_err_clear(&e1);
    sl_err_clear(&e2);
    sl_source_unref(src);
}

START_TEST(test_random_bytes)
{
    static const char *const pieces[] = {
        "\xff", "\xc3", "\xe2\x82", "²", "⁻", "¹", "−", "√", "π", "η", "·", "≤", "′", "'", "\"",
        "\\", "\n", "\t", " ", "#", ":", "€", "\0", "₁", "“",
    };
    char buf[96];
    for (int iter = 0; iter < 4000; iter++) {
        size_t len = 0, want = rnd(64);
        while (len < want) {
            if (rnd(3) == 0) {
                const char *p = pieces[rnd(sizeof pieces / sizeof pieces[0])];
                size_t n = p[0] ? strlen(p) : 1;
                if (len + n > sizeof buf)
                    break;
                memcpy(buf + len, p, n);
                len += n;
            } else {
                buf[len++] = (char)(rnd(2) ? 32 + rnd(95) : rnd(256));
            }
        }
        check_any(buf, len);
    }
}
END_TEST

START_TEST(test_random_tokens)
{
    static const char *const toks[] = {
        "x", "f", "y1", "2", "1.5", "0x1F", "(", ")", "[", "]", "{", "}", ",", ":", ";", "\n", "=",
        "==", "+", "-", "*", "/", "//", "%", "@", "^", "**", "+=", "<", "≤", "²", "⁻¹", "√", "'",
        "\"s\"", "'t'", "if", "else", "elif", "for", "in", "while", "def", "return", "optimizer",
        "state", "no_grad", "torch", ".", "and", "or", "not", ":help", "# c\n", "2x", "f'", "π",
        "−", "·", "break", "pass", "continue", "True", "None", "x = ", "f(x) = ", "k=", "\\\n",
    };
    char buf[512];
    for (int iter = 0; iter < 4000; iter++) {
        size_t len = 0;
        int n = (int)rnd(24);
        for (int i = 0; i < n; i++) {
            const char *t = toks[rnd(sizeof toks / sizeof toks[0])];
            const char *sep = rnd(4) == 0 ? "" : rnd(6) == 0 ? "\n" : " ";
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", t, sep);
        }
        check_any(buf, len);
    }
}
END_TEST

/* Every prefix of a valid program, cut at a token boundary, is either a
 * complete program or incomplete -- never an error.  This is what lets the
 * REPL ask for another line instead of complaining. */
START_TEST(test_prefixes)
{
    static const char *const programs[] = {
        "f(x) = x² + x − 6\nf'(1)",
        "x = torch.ones(1, requires_grad=True)\ny = x**2 + x - 6\ny.backward()\nprint(x.grad)",
        "for i in range(0, 100) {\n    if i % 100 == 0 { print(i) } else { print(-i) }\n}",
        ("def rosen(v) {\n    s = 0\n    for i in range(len(v) - 1) { s += 100*(v[i+1] - v[i]^2)^2 + "
         "(1 - v[i])^2 }\n    return s\n}\ngrad(rosen, [1.5] * 1000)"),
        "optimizer Momentum(lr=0.01, mu=0.9) {\n    state v = 0\n    v = mu*v + p.grad\n    p -= lr*v\n}",
        "while loss > 0.001 { loss = step(); }\nno_grad { x -= 0.1 * x.grad }",
        "torch.no_grad {\n  w.data = w.data - 0.01 * w.grad.data\n}",
        "print(\"Epoch {: >8} Loss: {}\".format(i, loss.item()))",
        "a, b = b, a\nfor x_val, y_val in zip(x_data, y_data) { print('w=', w) }",
        "g(x, y=2) = √(x·y) / 2x + a[1:3, ::2]",
        "if a < b ≤ c and not d { x = [1, 2,\n 3] } elif e { pass } else if f { break }",
        ":precision 100\nx = 1e-5x + 0x1F\n:time x = 2",
        "d = descend(f, 3, lr=0.1)\nd.step(10); d.run(tol=1e-3)",
        "x = 1 +\n    2\nif x\n{\n}\nelse\n{\n}",
    };
    for (size_t p = 0; p < sizeof programs / sizeof programs[0]; p++) {
        const char *text = programs[p];
        size_t len = strlen(text);
        ck_assert_msg(strncmp(pd(text), "(block", 6) == 0, "%s -> %s", text, out);
        /* token boundaries, from the lexer */
        SlSource *src = sl_source_new(NULL, text, len, 1);
        SlLexer lx;
        sl_lex_init(&lx, src);
        size_t cuts[1024], ncuts = 0;
        SlToken t;
        while (sl_lex_next(&lx, &t) != SL_TOK_END && ncuts + 2 < 1024) {
            ck_assert_int_ne(t.kind, SL_TOK_ERROR);
            cuts[ncuts++] = (size_t)(t.start - src->text);
            cuts[ncuts++] = (size_t)(t.start - src->text) + t.nbytes;
        }
        for (size_t i = 0; i < ncuts; i++) {
            char *prefix = strndup(text, cuts[i]);
            const char *r = pd(prefix);
            ck_assert_msg(strncmp(r, "ERROR", 5) != 0, "prefix [%s] -> %s", prefix, r);
            free(prefix);
        }
        sl_source_unref(src);
    }
}
END_TEST

START_TEST(test_dump)
{
    /* the dump format, and operator names */
    ck_assert_str_eq(sl_op_name(SL_OP_POW), "**");
    ck_assert_str_eq(sl_op_name(SL_OP_FLOORDIV), "//");
    ck_assert_str_eq(sl_op_name(SL_OP_NEG), "-");
    ck_assert_str_eq(sl_op_name(SL_OP_SQRT), "√");
    ck_assert_str_eq(sl_op_name(SL_OP_NOT), "not");
    ck_assert_str_eq(sl_op_name(SL_OP_GE), ">=");
    ck_assert_str_eq(sl_op_name(SL_OP_ASSIGN), "=");
    char *nul = sl_ast_dump_str(NULL);
    ck_assert_str_eq(nul, "_");
    free(nul);
    P("x = 3", "(block (assign = (name x) (int 3)))");
    P("f(x, y) = x + y", "(block (funcdef f (x y) (binary + (name x) (name y))))");
    P("s = \"tab\\there \\\"q\\\"\"", "(block (assign = (name s) (str \"tab\\there \\\"q\\\"\")))");
}
END_TEST

static Suite *parser_suite(void)
{
    Suite *s = suite_create("parser");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_precedence);
    tcase_add_test(tc, test_literals);
    tcase_add_test(tc, test_postfix);
    tcase_add_test(tc, test_unicode_forms);
    tcase_add_test(tc, test_statements);
    tcase_add_test(tc, test_control_flow);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_incomplete);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_hints);
    tcase_add_test(tc, test_final);
    tcase_add_test(tc, test_locations);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_random_bytes);
    tcase_add_test(tc, test_random_tokens);
    tcase_add_test(tc, test_prefixes);
    tcase_add_test(tc, test_dump);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(parser_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
