/* error.c -- recording and printing errors. */
#include "error.h"

#include <stdarg.h>
#include <string.h>

#include "ast.h"

static const struct {
    const char *cls;
    const char *fmt;
} catalogue[SL_E_COUNT] = {
#define X(code, cls, fmt) [SL_E_##code] = {cls, fmt},
#include "errors.def"
#undef X
};

const char *sl_err_class(SlErrCode code)
{
    return code < SL_E_COUNT ? catalogue[code].cls : "Error";
}

static void vrecord(SlError *e, SlErrCode code, va_list ap)
{
    e->set = true;
    e->code = code;
    e->hint[0] = '\0';
    e->quiet = false;
    /* The generic kinds (TYPE, VALUE, ...) have the format "%s": their first
     * argument is then itself a format for the rest. */
    const char *fmt = catalogue[code].fmt;
    if (strcmp(fmt, "%s") == 0)
        fmt = va_arg(ap, const char *);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
#pragma GCC diagnostic pop
}

bool sl_err(SlError *e, SlErrCode code, ...)
{
    if (!e || e->set)
        return false;
    va_list ap;
    va_start(ap, code);
    vrecord(e, code, ap);
    va_end(ap);
    e->has_loc = false;
    e->src = NULL;
    return false;
}

bool sl_err_at(SlError *e, SlSource *src, SlLoc loc, SlErrCode code, ...)
{
    if (!e || e->set)
        return false;
    va_list ap;
    va_start(ap, code);
    vrecord(e, code, ap);
    va_end(ap);
    e->has_loc = false;
    e->src = NULL;
    sl_err_locate(e, src, loc);
    return false;
}

void sl_err_locate(SlError *e, SlSource *src, SlLoc loc)
{
    if (!e || !e->set || e->has_loc || !src)
        return;
    e->has_loc = true;
    e->loc = loc;
    e->src = sl_source_ref(src);
}

void sl_err_hint(SlError *e, const char *fmt, ...)
{
    if (!e)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->hint, sizeof e->hint, fmt, ap);
    va_end(ap);
}

void sl_err_clear(SlError *e)
{
    if (e->src)
        sl_source_unref(e->src);
    memset(e, 0, sizeof *e);
}

/* Columns count characters: the byte offset of column col in a line. */
static size_t col_to_byte(const char *line, size_t len, int col)
{
    size_t i = 0;
    for (int c = 1; c < col && i < len; c++) {
        i++;
        while (i < len && ((unsigned char)line[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

void sl_err_print(const SlError *e, FILE *out)
{
    if (!e->set || e->quiet)
        return;
    const SlSource *src = e->has_loc ? e->src : NULL;
    if (src && src->name)
        fprintf(out, "%s:%d:%d: ", src->name, e->loc.first_line, e->loc.first_column);
    else if (src && src->first_line != e->loc.first_line)
        fprintf(out, "%d:%d: ", e->loc.first_line, e->loc.first_column);
    else if (src && strchr(src->text, '\n') && strchr(src->text, '\n')[1] != '\0')
        fprintf(out, "%d:%d: ", e->loc.first_line, e->loc.first_column);
    fprintf(out, "error: %s\n", e->msg);
    if (src) {
        size_t len;
        const char *line = sl_source_line(src, e->loc.first_line, &len);
        if (line) {
            int ncols = 0;
            for (size_t i = 0; i < len; i++)
                if (((unsigned char)line[i] & 0xC0) != 0x80)
                    ncols++;
            int from = e->loc.first_column;
            int to = e->loc.last_line == e->loc.first_line ? e->loc.last_column : from + 1;
            if (to <= from)
                to = from + 1;
            /* columns past the end of the line point just after it */
            if (from > ncols + 1)
                from = ncols + 1;
            if (to > ncols + 1)
                to = ncols + 1 > from ? ncols + 1 : from + 1;
            /* a long line shows a window of WINDOW columns around the caret */
            enum { WINDOW = 100 };
            int ws = 1, we = ncols;
            if (ncols > WINDOW) {
                ws = from > 40 ? from - 40 : 1;
                we = ws + WINDOW - 1 < ncols ? ws + WINDOW - 1 : ncols;
                if (to > we + 1)
                    to = we + 1;
            }
            size_t b0 = col_to_byte(line, len, ws), b1 = col_to_byte(line, len, we + 1);
            /* the line, with tabs shown as single spaces so the caret lines up */
            fputs(ws > 1 ? "  ..." : "  ", out);
            for (size_t i = b0; i < b1; i++)
                fputc(line[i] == '\t' ? ' ' : line[i], out);
            fputs(we < ncols ? "...\n" : "\n", out);
            fputs(ws > 1 ? "     " : "  ", out);
            for (int c = ws; c < from; c++)
                fputc(' ', out);
            fputc('^', out);
            for (int c = from + 1; c < to; c++)
                fputc('~', out);
            fputc('\n', out);
        }
    }
    if (e->hint[0])
        fprintf(out, "hint: %s\n", e->hint);
}
