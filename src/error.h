/* error.h -- the error catalogue and the one printer.
 *
 * Errors do not unwind with longjmp: every fallible function returns a
 * failure value (NULL or false) after recording the error in an SlError it
 * was given.  The first error recorded wins; callers pass it up unchanged,
 * adding a location only when it has none yet.  Because failure travels by
 * return, every owned reference on the way out is released by the code
 * that holds it, so a failed statement leaks nothing and leaves nothing
 * half-done (see eval.c for how assignments commit only on success).
 *
 * An SlError holds a reference to the source chunk it points into, so the
 * printer can show the line and a caret even after the chunk's statement
 * has finished (function bodies keep their chunk alive).
 */
#ifndef SL_ERROR_H
#define SL_ERROR_H

#include <stdbool.h>
#include <stdio.h>

typedef enum SlErrCode {
#define X(code, cls, fmt) SL_E_##code,
#include "errors.def"
#undef X
    SL_E_COUNT
} SlErrCode;

/* A span in a source chunk, 1-based lines and columns (columns count
 * characters, not bytes).  Layout compatible with Bison's YYLTYPE. */
typedef struct SlLoc {
    int first_line;   /* line of the first character */
    int first_column; /* column of the first character */
    int last_line;    /* line of the last character */
    int last_column;  /* column just past the last character */
} SlLoc;

typedef struct SlSource SlSource; /* ast.h */

typedef struct SlError {
    bool set;          /* an error has been recorded */
    SlErrCode code;    /* what kind */
    char msg[512];     /* formatted message, no trailing newline */
    bool has_loc;      /* loc and src are meaningful */
    SlLoc loc;         /* where */
    SlSource *src;     /* owned reference to the chunk loc points into */
    char hint[256];    /* optional second line ("did you mean ...") */
    bool quiet;        /* already reported elsewhere: fail, print nothing */
} SlError;

/* Record an error (formatted from the catalogue); ignored when one is
 * already set.  Always returns false so callers can `return sl_err(...)`. */
bool sl_err(SlError *e, SlErrCode code, ...);
/* Same, with a location in a source chunk (src may be NULL). */
bool sl_err_at(SlError *e, SlSource *src, SlLoc loc, SlErrCode code, ...);
/* Attach a location if the error has none yet. */
void sl_err_locate(SlError *e, SlSource *src, SlLoc loc);
/* Set a hint line shown under the message. */
void sl_err_hint(SlError *e, const char *fmt, ...);
/* Forget the error (releases the source reference). */
void sl_err_clear(SlError *e);

const char *sl_err_class(SlErrCode code);

/* Print as
 *     FILE:LINE:COL: error: MESSAGE       (when the chunk has a file name)
 *     error: MESSAGE                      (at the prompt)
 *       the source line
 *       ^~~~ under the span
 *     hint: HINT
 */
void sl_err_print(const SlError *e, FILE *out);

#endif
