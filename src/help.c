/* help.c -- :help and its texts. */
#include <string.h>

#include "eval_internal.h"
#include "tensor_value.h"

typedef struct Topic {
    const char *name;  /* what follows :help */
    const char *usage; /* one line */
    const char *text;  /* the explanation */
} Topic;

/* Further lines that :help NAME prints after the text (not in the list). */
#define STYLE_MORE                                                                                           \
    "  unicode (the default)  x² + x − 6     2x + 1   x·y   √x        sin(x)                1/(x² + 1)\n"      \
    "  ascii                  x^2 + x - 6    2*x + 1  x*y   sqrt(x)   sin(x)                1/(x^2 + 1)\n"     \
    "  latex                  x^{2} + x - 6  2 x + 1  x y   \\sqrt{x}  \\sin{\\left(x\\right)}  \\frac{1}{x^{2} + 1}\n" \
    "  ascii reads back in.  In latex every result, derivative, taylor polynomial and explain step is\n"      \
    "  LaTeX for math mode (amsmath), ready for slides; latex(expr) gives the same text as a str\n"           \
    "  whatever the style.  Numbers always print with an ASCII '-'."
static const struct {
    const char *name, *text;
} more[] = {{"style", STYLE_MORE}, {"styles", STYLE_MORE}};

static const Topic commands[] = {
    {"help", ":help [topic]", "List everything, or explain one command, builtin or topic (:help sin, :help :save, :help numbers)."},
    {"precision", ":precision [BITS]", "Show or set the precision of new floats in bits (2 to 1000000; default 53, Python's float)."},
    {"digits", ":digits [N]", "Show or set the precision in decimal digits (:digits 50 is 167 bits)."},
    {"style", ":style [unicode|ascii|latex]", "Show or set how expressions print: x² + x − 6, x^2 + x - 6, or x^{2} + x - 6."},
    {"vars", ":vars", "List your variables and functions with their values."},
    {"load", ":load FILE", "Run a script file in this session (it stops at the file's first error)."},
    {"save", ":save FILE", "Write your definitions (functions, variables, settings) as a script that :load replays."},
    {"reset", ":reset", "Forget every variable and function; precision, style and seed go back to their defaults."},
    {"seed", ":seed [N]", "Show or set the seed of the random number generator (manual_seed(N) does the same)."},
    {"time", ":time STATEMENT", "Run a statement and print how long it took."},
    {"ad", ":ad [reverse|forward|symbolic]", "Show or choose the differentiation engine numeric gradients use (default reverse)."},
    {"replay", ":replay [on|off]", "Show or set whether loops replay their recorded tensor work (default on)."},
    {"quit", ":quit", "Leave slope (Ctrl-D at an empty prompt does the same)."},
};

static const Topic topics[] = {
    {"numbers", "numbers",
     "Numbers are Python's: int is exact and of any size (2**100), float is an MPFR number at the session\n"
     "precision (53 bits by default, which is Python's float). 7/2 is 3.5, 7//2 is 3, -7 % 3 is 2, 2**-1 is 0.5.\n"
     "Floats print as Python's repr: the shortest decimal that reads back the same (0.1 + 0.2 is\n"
     "0.30000000000000004). Raise :precision or :digits for more; constants pi (π), e, inf, nan."},
    {"symbols", "symbols",
     "A name with no value is a symbol: with x unbound, x^2 + 1 is an expression. subs(expr, x=2) puts\n"
     "values in; fractions stay exact (x/3). Math input: x², x⁻¹, 2x, 3(x + 1), √x, π, − · × ÷, Greek names."},
    {"functions", "functions",
     "f(x) = x² + x − 6 defines a function; f(1) is -4, f(1.0) is -4.0, f(y) is an expression, and f prints\n"
     "its definition. Longer functions: def name(a, b=1) { ...; return value }, with local variables.\n"
     "Parameters may have defaults; calls take keyword arguments: f(x=2)."},
    {"control", "control flow",
     "for i in range(10) { ... }   for a, b in zip(xs, ys) { ... }   while cond { ... }\n"
     "if cond { ... } else if cond { ... } else { ... }   break   continue\n"
     "Statements are separated by newlines or ';'. A trailing ';' silences a statement's value."},
    {"strings", "strings and format",
     "Strings in \"double\" or 'single' quotes with \\n \\t \\\\ escapes (a ' right after a name is a prime: f').\n"
     "\"Epoch {: >8} Loss: {}\".format(i, loss) follows Python's format mini-language: {} {0} {name}\n"
     "{:.4f} {:e} {:>8} {:,} {!r}. print(a, b) separates with a space."},
    {"lists", "lists",
     "[1, 2, 3], indexing a[0], a[-1], slices a[1:3], a + b, a * 3, len(a), a.append(x), sum(a), min(a),\n"
     "max(a), sorted(a), zip(a, b), enumerate(a). Tuples (1, 2) unpack: a, b = b, a."},
    {"styles", "output styles", ":style unicode|ascii|latex chooses how expressions print:"},
    {"derivatives", "differentiation, three ways",
     "Symbolic: diff(expr, x[, n]), diff(expr, [x, y]), f', f'', grad(f), jacobian([f, g], [x, y]),\n"
     "hessian(f), taylor(expr, x, a, n), expand, factor, simplify.  Forward mode (Taylor numbers):\n"
     "derivative(f, a, n) at any order and precision.  Reverse mode (a tape that follows loops and\n"
     "branches): grad(f, point), jacobian(F, point).  :ad picks the engine for grad and f'(a);\n"
     "gradcheck(f, point) shows all of them; explain(diff(expr, x)) shows the rules step by step.\n"
     "At kinks: abs'(0) = 0, relu'(0) = 0 (as PyTorch), max/min follow the first argument on ties."},
    {"descent", "gradient descent and plots",
     "descend(f, x0, lr=0.1, steps=N) prints N steps (step, x, f(x), f'(x) or |∇f|); without steps= it returns a\n"
     "descent d: d.step(), d.step(10), d.run(tol=1e-3, steps=10000, trace=False) (until |f(xₙ₊₁) − f(xₙ)| ≤ tol;\n"
     "returns x), d.x d.fx d.grad d.history d.losses d.steps d.status, d.lr = ... between steps; momentum=0.9.\n"
     "It says when it diverges, oscillates, stalls or converges.  plot(f, a, b), plot(f, g, a, b), plot(d), plot(list),\n"
     "plot(xs, ys); log=True, ylim=(lo, hi), width=, height=, title=, xlabel=, ylabel=, path=d;\n"
     "file=\"out.svg\" writes an SVG, with animate=True an animated descent."},
    {"errors", "errors",
     "An error names the problem and shows where; the statement that failed changes nothing and the session\n"
     "keeps everything else. In a script the first error stops it with FILE:LINE:COL and exit status 1.\n"
     "Ctrl-C stops a running loop and returns to the prompt."},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void print_more(FILE *o, const char *name)
{
    if (name[0] == ':')
        name++;
    for (size_t i = 0; i < COUNT(more); i++)
        if (strcmp(more[i].name, name) == 0)
            fprintf(o, "%s\n", more[i].text);
}

const char *sl_command_help(const char *name, const char **usage)
{
    if (name[0] == ':')
        name++;
    for (size_t i = 0; i < COUNT(commands); i++)
        if (strcmp(commands[i].name, name) == 0) {
            if (usage)
                *usage = commands[i].usage;
            return commands[i].text;
        }
    if (usage)
        *usage = NULL;
    return NULL;
}

static void list_all(SlSession *s)
{
    FILE *o = s->out;
    fputs("slope: differentiation and gradient descent at a prompt.\n\n", o);
    fputs("Commands:\n", o);
    for (size_t i = 0; i < COUNT(commands); i++)
        fprintf(o, "  %-32s %s\n", commands[i].usage, commands[i].text);
    fputs("\nBuiltins (:help NAME for one):\n", o);
    /* flowed like a paragraph: names two spaces apart, lines under 80 */
    size_t col = 0;
    for (size_t i = 0; sl_builtin_at(i); i++) {
        const char *n = sl_builtin_at(i)->name;
        size_t len = strlen(n);
        if (col > 0 && col + 2 + len > 78) {
            fputc('\n', o);
            col = 0;
        }
        fputs("  ", o);
        fputs(n, o);
        col += 2 + len;
    }
    if (col > 0)
        fputc('\n', o);
    fputs("\nConstants: pi π e inf nan.  Methods: str.format upper lower strip split join replace\n"
          "startswith endswith; list.append extend pop insert index count copy reverse sort clear;\n"
          "expr.subs; tensor methods and torch.* functions (:help NAME, e.g. :help std).\n",
          o);
    fputs("\nTopics (:help TOPIC):", o);
    for (size_t i = 0; i < COUNT(topics); i++)
        fprintf(o, " %s", topics[i].name);
    fputs("\n", o);
}

bool sl_help(SlSession *s, const char *topic, SlError *err)
{
    FILE *o = s->out;
    if (!*topic) {
        list_all(s);
        return true;
    }
    const char *usage;
    const char *text = sl_command_help(topic, &usage);
    if (text) {
        fprintf(o, "%s\n  %s\n", usage, text);
        print_more(o, topic);
        return true;
    }
    const SlBuiltin *b = sl_builtin_lookup(topic);
    if (b) {
        fprintf(o, "%s\n  %s\n", b->sig, b->help);
        return true;
    }
    for (size_t i = 0; i < COUNT(topics); i++)
        if (strcmp(topics[i].name, topic) == 0) {
            fprintf(o, "%s\n%s\n", topics[i].usage, topics[i].text);
            print_more(o, topic);
            return true;
        }
    const char *types[] = {"str", "list", "expression"};
    for (size_t t = 0; t < 3; t++) {
        size_t n;
        const SlBuiltin *m = sl_method_table(types[t], &n);
        for (size_t i = 0; i < n; i++) {
            char full[64];
            snprintf(full, sizeof full, "%s.%s", types[t], m[i].name);
            if (strcmp(topic, m[i].name) == 0 || strcmp(topic, full) == 0) {
                fprintf(o, "%s\n  %s\n", m[i].sig, m[i].help);
                return true;
            }
        }
    }
    /* torch.std, nn.Linear, F.softmax: the name after the module; then
     * tensor methods (t.std(), x.astype(...)) */
    const char *dot = strrchr(topic, '.');
    const char *name = dot ? dot + 1 : topic;
    b = sl_namespace_lookup(name);
    if (!b && sl_tensor_type.method)
        b = sl_tensor_type.method(NULL, name);
    if (b) {
        fprintf(o, "%s\n  %s\n", b->sig, b->help);
        return true;
    }
    return sl_err(err, SL_E_VALUE, "no help for '%s' (try :help for the list)", topic);
}
