/* ast.c -- source chunks, arenas, AST constructors and the tree dump. */
#include "ast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    for (SlArenaBlock *b = s->arena, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(s->name);
    free(s->text);
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

char *sl_arena_strndup(SlSource *s, const char *p, size_t n)
{
    char *q = sl_arena_alloc(s, n + 1);
    memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

const char *sl_source_line(const SlSource *s, int line, size_t *len)
{
    int l = s->first_line;
    const char *p = s->text;
    while (l < line) {
        p = strchr(p, '\n');
        if (!p)
            return NULL;
        p++;
        l++;
    }
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
