/* ast.c -- source chunks, arenas, AST constructors and the tree dump. */
#include "ast.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct SlSourceHook {
    SlSourceHook *next;   /* the one registered before */
    void (*fn)(void *);   /* what to call */
    void *arg;            /* with what */
};

struct SlArenaBlock {
    SlArenaBlock *next; /* older block */
    size_t used, cap;   /* bytes used / available in data */
    max_align_t data[]; /* the memory */
};

static void oom(void)
{
    fputs("slope: out of memory\n", stderr);
    abort();
}

SlSource *sl_source_new(const char *name, const char *text, size_t len, int first_line)
{
    SlSource *s = calloc(1, sizeof *s);
    if (!s)
        oom();
    s->refs = 1;
    s->name = name ? strdup(name) : NULL;
    s->text = malloc(len + 1);
    if (!s->text || (name && !s->name))
        oom();
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->len = len;
    s->first_line = first_line;
    static unsigned long serials;
    s->serial = ++serials;
    return s;
}

SlSource *sl_source_ref(SlSource *s)
{
    if (s)
        s->refs++;
    return s;
}

void sl_source_unref(SlSource *s)
{
    if (!s || --s->refs > 0)
        return;
    for (SlSourceHook *h = s->hooks; h; h = h->next)
        h->fn(h->arg);
    for (SlArenaBlock *b = s->arena, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(s->name);
    free(s->text);
    free(s->lines);
    free(s);
}

void *sl_arena_alloc(SlSource *s, size_t size)
{
    size_t align = sizeof(max_align_t);
    size = (size + align - 1) / align * align;
    SlArenaBlock *b = s->arena;
    if (!b || b->used + size > b->cap) {
        size_t cap = size > 16384 ? size : 16384;
        b = malloc(sizeof *b + cap);
        if (!b)
            oom();
        b->next = s->arena;
        b->used = 0;
        b->cap = cap;
        s->arena = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

bool sl_source_owns(const SlSource *s, const void *p)
{
    for (const SlArenaBlock *b = s->arena; b; b = b->next) {
        uintptr_t lo = (uintptr_t)b->data, at = (uintptr_t)p;
        if (at >= lo && at < lo + b->used)
            return true;
    }
    return false;
}

void sl_source_on_free(SlSource *s, void (*fn)(void *arg), void *arg)
{
    SlSourceHook *h = sl_arena_alloc(s, sizeof *h);
    h->fn = fn;
    h->arg = arg;
    h->next = s->hooks;
    s->hooks = h;
}

char *sl_arena_strndup(SlSource *s, const char *p, size_t n)
{
    char *q = sl_arena_alloc(s, n + 1);
    memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

/* Where each line starts, found the way the lookup below always has
 * (strchr, so the text ends at a NUL byte); once per source. */
static void index_lines(SlSource *s)
{
    size_t n = 1;
    for (const char *p = s->text; (p = strchr(p, '\n')); p++)
        n++;
    s->lines = malloc(n * sizeof *s->lines);
    if (!s->lines)
        oom();
    s->lines[0] = 0;
    n = 1;
    for (const char *p = s->text; (p = strchr(p, '\n')); p++)
        s->lines[n++] = (size_t)(p + 1 - s->text);
    s->nlines = n;
}

const char *sl_source_line(const SlSource *s, int line, size_t *len)
{
    if (!s->lines)
        index_lines((SlSource *)s); /* a cache: the text itself is unchanged */
    size_t k = line > s->first_line ? (size_t)(line - s->first_line) : 0;
    if (k >= s->nlines)
        return NULL;
    const char *p = s->text + s->lines[k];
    const char *end = strchr(p, '\n');
    *len = end ? (size_t)(end - p) : strlen(p);
    if (*len && p[*len - 1] == '\r')
        (*len)--;
    return p;
}

SlAst *sl_ast_new(SlSource *src, SlAstKind kind, SlLoc loc)
{
    SlAst *n = sl_arena_alloc(src, sizeof *n);
    n->kind = kind;
    n->loc = loc;
    return n;
}

void sl_ast_push(SlSource *src, SlAst *n, SlAst *item)
{
    /* capacity is the next power of two >= nitems; grow by copying */
    size_t cap = 4;
    while (cap < n->nitems)
        cap *= 2;
    if (n->nitems == 0 || n->nitems == cap) {
        size_t ncap = n->nitems == 0 ? 4 : cap * 2;
        SlAst **items = sl_arena_alloc(src, ncap * sizeof *items);
        if (n->nitems)
            memcpy(items, n->items, n->nitems * sizeof *items);
        n->items = items;
    }
    n->items[n->nitems++] = item;
}

const char *sl_op_name(int op)
{
    switch (op) {
    case SL_OP_ADD: return "+";
    case SL_OP_SUB: return "-";
    case SL_OP_MUL: return "*";
    case SL_OP_DIV: return "/";
    case SL_OP_FLOORDIV: return "//";
    case SL_OP_MOD: return "%";
    case SL_OP_POW: return "**";
    case SL_OP_MATMUL: return "@";
    case SL_OP_NEG: return "-";
    case SL_OP_POS: return "+";
    case SL_OP_NOT: return "not";
    case SL_OP_SQRT: return "√";
    case SL_OP_EQ: return "==";
    case SL_OP_NE: return "!=";
    case SL_OP_LT: return "<";
    case SL_OP_LE: return "<=";
    case SL_OP_GT: return ">";
    case SL_OP_GE: return ">=";
    case SL_OP_ASSIGN: return "=";
    case '=': return "=";
    case '-': return "-";
    case '+': return "+";
    default: return "?";
    }
}

/* ---------------------------------------------------------------------------
 * The dump: one S-expression per node, children in order.
 *   (int 3) (float 1.5) (str "a\n") (bool True) (none) (name x) (prime f 2)
 *   (unary - X) (binary + A B) (compare A < B <= C) (and A B) (or A B)
 *   (call F ARG...) (kwarg k V) (index OBJ SUB...) (slice A B C) (attr OBJ b)
 *   (list ...) (tuple ...) (block ...) (expr X) (expr; X) for a silenced one
 *   (assign = T V) (assign += T V) (funcdef f (x y=DEFAULT) BODY)
 *   (def f (PARAMS) BLOCK) (optimizer N (PARAMS) BLOCK) (state v INIT)
 *   (return) (return X) (break) (continue) (pass) (if C THEN [ELSE])
 *   (while C B) (for T ITER B) (no_grad B) (command name "rest")
 * A missing child prints as _.
 * ------------------------------------------------------------------------- */

static void dump_str(const char *s, size_t n, FILE *out)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7F)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void dump_params(const SlAst *n, FILE *out)
{
    fputc('(', out);
    for (size_t i = 0; i < n->nparams; i++) {
        fprintf(out, "%s%s", i ? " " : "", n->params[i].name);
        if (n->params[i].def) {
            fputc('=', out);
            sl_ast_dump(n->params[i].def, out);
        }
    }
    fputc(')', out);
}

static void dump_items(const SlAst *n, FILE *out)
{
    for (size_t i = 0; i < n->nitems; i++) {
        fputc(' ', out);
        sl_ast_dump(n->items[i], out);
    }
}

static void dump_kids(FILE *out, const SlAst *a, const SlAst *b, const SlAst *c)
{
    const SlAst *k[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        if (!k[i])
            continue;
        fputc(' ', out);
        sl_ast_dump(k[i], out);
    }
}

void sl_ast_dump(const SlAst *n, FILE *out)
{
    if (!n) {
        fputc('_', out);
        return;
    }
    switch (n->kind) {
    case SL_AST_INT: fprintf(out, "(int %s)", n->text); return;
    case SL_AST_FLOAT: fprintf(out, "(float %s)", n->text); return;
    case SL_AST_STR:
        fputs("(str ", out);
        dump_str(n->text, n->len, out);
        fputc(')', out);
        return;
    case SL_AST_BOOL: fprintf(out, "(bool %s)", n->ival ? "True" : "False"); return;
    case SL_AST_NONE: fputs("(none)", out); return;
    case SL_AST_NAME: fprintf(out, "(name %s)", n->text); return;
    case SL_AST_PRIME: fprintf(out, "(prime %s %ld)", n->text, n->ival); return;
    case SL_AST_UNARY: fprintf(out, "(unary %s", sl_op_name(n->op)); break;
    case SL_AST_BINARY: fprintf(out, "(binary %s", sl_op_name(n->op)); break;
    case SL_AST_COMPARE:
        fputs("(compare", out);
        for (size_t i = 0; i < n->nitems; i++) {
            if (i)
                fprintf(out, " %s", n->ops ? sl_op_name(n->ops[i - 1]) : "?");
            fputc(' ', out);
            sl_ast_dump(n->items[i], out);
        }
        fputc(')', out);
        return;
    case SL_AST_AND: fputs("(and", out); break;
    case SL_AST_OR: fputs("(or", out); break;
    case SL_AST_CALL:
        fputs("(call ", out);
        sl_ast_dump(n->a, out);
        dump_items(n, out);
        fputc(')', out);
        return;
    case SL_AST_KWARG: fprintf(out, "(kwarg %s", n->text); break;
    case SL_AST_INDEX:
        fputs("(index ", out);
        sl_ast_dump(n->a, out);
        dump_items(n, out);
        fputc(')', out);
        return;
    case SL_AST_SLICE:
        fputs("(slice ", out);
        sl_ast_dump(n->a, out);
        fputc(' ', out);
        sl_ast_dump(n->b, out);
        fputc(' ', out);
        sl_ast_dump(n->c, out);
        fputc(')', out);
        return;
    case SL_AST_ATTR:
        fputs("(attr ", out);
        sl_ast_dump(n->a, out);
        fprintf(out, " %s)", n->text);
        return;
    case SL_AST_LIST: fputs("(list", out); dump_items(n, out); fputc(')', out); return;
    case SL_AST_TUPLE: fputs("(tuple", out); dump_items(n, out); fputc(')', out); return;
    case SL_AST_BLOCK: fputs("(block", out); dump_items(n, out); fputc(')', out); return;
    case SL_AST_EXPR: fputs(n->ival ? "(expr;" : "(expr", out); break;
    case SL_AST_ASSIGN:
        if (n->op == SL_OP_ASSIGN || n->op == '=')
            fputs("(assign =", out);
        else
            fprintf(out, "(assign %s=", sl_op_name(n->op));
        break;
    case SL_AST_FUNCDEF:
    case SL_AST_DEF:
    case SL_AST_OPTIMIZER:
        fprintf(out, "(%s %s ",
                n->kind == SL_AST_FUNCDEF ? "funcdef" : n->kind == SL_AST_DEF ? "def" : "optimizer",
                n->text);
        dump_params(n, out);
        dump_kids(out, n->a, NULL, NULL);
        fputc(')', out);
        return;
    case SL_AST_STATE: fprintf(out, "(state %s", n->text); break;
    case SL_AST_RETURN: fputs("(return", out); break;
    case SL_AST_BREAK: fputs("(break", out); break;
    case SL_AST_CONTINUE: fputs("(continue", out); break;
    case SL_AST_IF: fputs("(if", out); break;
    case SL_AST_WHILE: fputs("(while", out); break;
    case SL_AST_FOR: fputs("(for", out); break;
    case SL_AST_NOGRAD: fputs("(no_grad", out); break;
    case SL_AST_COMMAND:
        fprintf(out, "(command %s ", n->text);
        dump_str(n->str, strlen(n->str), out);
        fputc(')', out);
        return;
    case SL_AST_PASS: fputs("(pass", out); break;
    default: fprintf(out, "(?%d", (int)n->kind); break;
    }
    dump_kids(out, n->a, n->b, n->c);
    fputc(')', out);
}

char *sl_ast_dump_str(const SlAst *n)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        oom();
    sl_ast_dump(n, f);
    if (fclose(f) != 0 || !s)
        oom();
    return s;
}
