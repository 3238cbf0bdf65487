/* parser.h -- text to AST: the entry point to the lexer and the Bison grammar.
 *
 * sl_parse reads a whole chunk.  The result is a BLOCK of statements
 * allocated in the chunk's arena.  When the text ends in the middle of a
 * statement (an open bracket or brace, a trailing operator, an unfinished
 * string) the result is SL_PARSE_INCOMPLETE and the REPL asks for another
 * line; that is decided by the parser reaching end of input in the middle
 * of a rule, not by counting brackets.
 */
#ifndef SL_PARSER_H
#define SL_PARSER_H

#include "ast.h"
#include "error.h"

typedef enum SlParseStatus {
    SL_PARSE_OK,         /* *out is a BLOCK (possibly empty) */
    SL_PARSE_INCOMPLETE, /* more input needed; err not set */
    SL_PARSE_ERROR       /* err holds the syntax error with its location */
} SlParseStatus;

SlParseStatus sl_parse(SlSource *src, SlAst **out, SlError *err);

#endif
