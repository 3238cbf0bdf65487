/* fuzz_parse.c -- libFuzzer harness for the lexer and parser.
 *
 * Parses the input bytes as one chunk both ways (sl_parse, sl_parse_final),
 * dumps the tree or prints the error with its caret, and aborts if an
 * answer breaks its contract.  How to build and run: README.md here.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ast.h"
#include "error.h"
#include "lexer.h"
#include "parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    if (size > 1 << 16)
        return 0;
    SlSource *src = sl_source_new("fuzz.slope", (const char *)data, size, 1);
    SlParseStatus first = SL_PARSE_OK;
    for (int final = 0; final < 2; final++) {
        SlAst *out = NULL;
        SlError err = {0};
        SlParseStatus st = final ? sl_parse_final(src, &out, &err) : sl_parse(src, &out, &err);
        switch (st) {
        case SL_PARSE_OK:
            if (err.set || !out || out->kind != SL_AST_BLOCK)
                abort();
            free(sl_ast_dump_str(out));
            break;
        case SL_PARSE_INCOMPLETE:
            if (final || err.set || out)
                abort();
            break;
        case SL_PARSE_ERROR:
            if (!err.set || !err.has_loc || !err.msg[0] || out)
                abort();
            if (sink)
                sl_err_print(&err, sink);
            break;
        }
        /* the end being final changes only what was incomplete */
        if (final && first != SL_PARSE_INCOMPLETE && st != first)
            abort();
        first = st;
        sl_err_clear(&err);
    }
    sl_source_unref(src);
    return 0;
}
