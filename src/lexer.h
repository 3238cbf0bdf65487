/* lexer.h -- UTF-8 text to tokens, for the grammar (grammar/slope.y).
 *
 * The lexer is hand-written and reentrant: all of its state is an SlLexer
 * the caller owns (the parser embeds one).  Token payloads (names, decoded
 * strings, decimal digits of integers) are allocated in the source chunk's
 * arena, so they live exactly as long as the AST built from them.
 *
 * What the lexer decides, so the grammar stays small and conflict-free:
 *   - Newlines.  A newline is a statement separator (SL_TOK_NEWLINE) except
 *     inside () and [] (a bracket stack is kept), after a token that cannot
 *     end a statement (a binary operator, '=', '.', 'if', ...), before a
 *     line that starts with '{', 'else' or 'elif', and at the end of the
 *     text.  Runs of blank and comment lines give one NEWLINE.  Because of
 *     this, a chunk that ends in the middle of a statement followed by the
 *     next line of input parses as one statement, which is what the REPL's
 *     "incomplete" answer promises.
 *   - Implicit multiplication.  A number immediately followed (no space) by
 *     a name, '(', '√' or 'π' has tok.implicit set (2x, 3(x+1), 2π).
 *   - Primes.  A name immediately followed by ' or ′ (″ ‴) is one
 *     SL_TOK_PRIME token (f', f''); a quote anywhere else opens a string.
 *   - Superscripts.  ⁻¹, ², ¹⁰ ... are one SL_TOK_SUPER token each run.
 *   - Colon commands.  At the start of a statement, a line whose first
 *     non-blank character is ':' followed by a letter is one SL_TOK_COMMAND.
 *   - Contextual keywords.  'optimizer' and 'state' are keywords only when
 *     a name follows on the same line (so `optimizer = optim.SGD(...)` is an
 *     assignment); 'no_grad' only when '{' (or the end of the text) follows.
 *
 * Columns count characters (code points), 1-based; lines are absolute
 * (the chunk's first line is src->first_line).
 */
#ifndef SL_LEXER_H
#define SL_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"
#include "error.h"
#include "parser.h"

typedef enum SlTokKind {
    SL_TOK_END,       /* end of the text */
    SL_TOK_ERROR,     /* lexical error: see SlLexer.msg / incomplete */
    SL_TOK_NEWLINE,   /* statement separator (a newline) */
    SL_TOK_SEMI,      /* ; */
    SL_TOK_INT,       /* text: decimal digits (0x/0o/0b converted, _ removed) */
    SL_TOK_FLOAT,     /* text: the literal as written, _ removed */
    SL_TOK_STR,       /* text/len: decoded contents */
    SL_TOK_NAME,      /* text: the identifier */
    SL_TOK_PRIME,     /* text: the name; ival: number of primes */
    SL_TOK_SUPER,     /* text: decimal digits; ival: -1 for ⁻, +1 for ⁺, 0 */
    SL_TOK_BOOL,      /* ival: 0 or 1 */
    SL_TOK_NONE,      /* None none */
    SL_TOK_COMMAND,   /* text: command name; str: rest of the line, trimmed */
    /* keywords */
    SL_TOK_DEF, SL_TOK_RETURN, SL_TOK_IF, SL_TOK_ELSE, SL_TOK_ELIF,
    SL_TOK_WHILE, SL_TOK_FOR, SL_TOK_IN, SL_TOK_BREAK, SL_TOK_CONTINUE,
    SL_TOK_AND, SL_TOK_OR, SL_TOK_NOT, SL_TOK_OPTIMIZER, SL_TOK_STATE,
    SL_TOK_NOGRAD, SL_TOK_PASS,
    /* punctuation */
    SL_TOK_LPAREN, SL_TOK_RPAREN, SL_TOK_LBRACK, SL_TOK_RBRACK,
    SL_TOK_LBRACE, SL_TOK_RBRACE, SL_TOK_COMMA, SL_TOK_DOT, SL_TOK_COLON,
    SL_TOK_ASSIGN,    /* = */
    SL_TOK_AUGASSIGN, /* += -= *= /=      ival: SL_OP_ADD/SUB/MUL/DIV */
    SL_TOK_PLUS,      /* + */
    SL_TOK_MINUS,     /* - − */
    SL_TOK_MULOP,     /* * · ⋅ × / ÷ // % @   ival: the SlOp */
    SL_TOK_POW,       /* ^ ** */
    SL_TOK_CMP,       /* == != ≠ < <= ≤ > >= ≥   ival: the SlOp */
    SL_TOK_SQRT,      /* √ */
    SL_TOK_COUNT
} SlTokKind;

typedef struct SlToken {
    SlTokKind kind;    /* what it is */
    SlLoc loc;         /* where (columns in characters) */
    const char *start; /* the raw source text of the token ... */
    size_t nbytes;     /* ... and its length in bytes */
    const char *text;  /* payload, arena string (see SlTokKind) */
    size_t len;        /* byte length of text */
    const char *str;   /* COMMAND: rest of the line */
    long ival;         /* small payload (see SlTokKind) */
    bool implicit;     /* INT/FLOAT immediately followed by an operand (2x) */
} SlToken;

#define SL_LEX_MAX_NEST 200 /* brackets open at once (as in CPython) */

typedef struct SlLexer {
    SlSource *src;        /* the chunk (not owned) */
    const char *p, *end;  /* next byte / end of text */
    int line, col;        /* position of p */
    bool line_blank;      /* only blanks since the last newline */
    SlToken cur;          /* the last token returned */
    SlToken prev;         /* the one before it */
    struct {
        char ch;          /* '(' '[' or '{' */
        SlLoc loc;        /* where it was opened */
    } open[SL_LEX_MAX_NEST];
    int nopen;            /* depth of the bracket stack */
    const char *nl_blank; /* newlines before this byte were found to be
                             blanks (decided once, for runs of blank lines) */
    char mismatch;        /* cur is a closer that did not match: the open
                             bracket it met ('(' '[' '{'), else 0 */
    SlLoc mismatch_loc;   /* where that bracket was opened */
    SlTokKind head;       /* last if/elif/else/while/for/def/optimizer of
                             the current statement, SL_TOK_END if none */
    const char *head_name;/* def/optimizer: the name after it, or NULL */
    /* lexical errors (cur.kind == SL_TOK_ERROR) */
    bool incomplete;      /* the text ends inside a token (a string) */
    char msg[256];        /* the message */
    char hint[160];       /* optional hint, "" if none */
    SlLoc err_loc;        /* where */
} SlLexer;

void sl_lex_init(SlLexer *lx, SlSource *src);
/* Read the next token into *tok (and lx->cur); returns its kind.  After
 * SL_TOK_END or SL_TOK_ERROR it keeps returning the same. */
SlTokKind sl_lex_next(SlLexer *lx, SlToken *tok);
/* A short name of a token kind for tests and messages ("name", "'('"). */
const char *sl_tok_name(SlTokKind kind);

/* Like sl_parse (parser.h), for text whose end is final (a script file, an
 * -e argument): where sl_parse answers SL_PARSE_INCOMPLETE this reports
 * what is unfinished, e.g. "expected '}' to close the block opened at
 * 3:10", "unclosed '(' opened at 1:4", "expected an expression after
 * '^'", "unterminated string (opened at 2:7)".  Never returns
 * SL_PARSE_INCOMPLETE.  (Declared here because parser.h is shared; it
 * belongs with sl_parse.) */
SlParseStatus sl_parse_final(SlSource *src, SlAst **out, SlError *err);

/* Deepest AST nesting a parse accepts; deeper gives a LimitError. */
#define SL_PARSE_MAX_DEPTH 1000

#endif
