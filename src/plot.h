/* plot.h -- pictures: functions, descent paths and loss curves, drawn in
 * the terminal (Unicode braille, or ASCII) or written as SVG files.
 *
 * Three layers, each usable from C:
 *   - a canvas: a grid of character cells, each 2×4 braille dots (or one
 *     ASCII "pixel"), that lines are rasterised into (Bresenham, clipped),
 *     with a text overlay for markers and a series number per cell for
 *     colour;
 *   - ticks: "nice" values 1, 2, 5 × 10ᵏ (Heckbert), printed exactly
 *     (0.1, not 0.30000000000000004), decades on a log axis;
 *   - a figure: series of points in data coordinates (a function's series
 *     keeps a sampler so the terminal renderer can sample it once per dot
 *     column), rendered as text (axes with ticks and labels, a legend) or
 *     as a standalone SVG (the same, plus an animated descent path).
 *
 * The plot() builtin turns language values into a figure.  Everything here
 * works in doubles: a picture needs no more.  Strings returned are
 * malloc'd and owned by the caller; a figure owns its series.
 */
#ifndef SL_PLOT_H
#define SL_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "builtins.h"
#include "value.h"

/* ---- canvas -------------------------------------------------------------- */

typedef struct SlCanvas SlCanvas;

typedef enum SlLineStyle { SL_LINE_SOLID, SL_LINE_DASHED, SL_LINE_DOTTED } SlLineStyle;

/* cols × rows character cells; braille gives 2·cols × 4·rows dots, else
 * one dot per cell. */
SlCanvas *sl_canvas_new(int cols, int rows, bool braille);
void sl_canvas_free(SlCanvas *c);
int sl_canvas_dots_x(const SlCanvas *c);
int sl_canvas_dots_y(const SlCanvas *c);
/* Set dot (x, y), (0, 0) top left; outside the canvas is ignored.  series
 * (0, 1, ...) chooses the ASCII character and the colour. */
void sl_canvas_set(SlCanvas *c, int x, int y, int series);
/* A line between dot positions (doubles: clipped to the canvas first);
 * *phase counts dots drawn along a polyline for the dash pattern. */
void sl_canvas_line(SlCanvas *c, double x0, double y0, double x1, double y1, int series, SlLineStyle style,
                    long *phase);
/* Write text (UTF-8, one cell per character) over cells from (col, row);
 * false (and nothing written) when it does not fit or a cell already has
 * overlay text. */
bool sl_canvas_text(SlCanvas *c, int col, int row, const char *text, int series);
/* Append row `row` to out: braille characters U+2800 + dots (blank cells
 * as spaces) or ASCII, overlay text on top; ANSI colours when color. */
void sl_canvas_row(const SlCanvas *c, int row, SlBuf *out, bool color);

/* ---- ticks --------------------------------------------------------------- */

#define SL_TICKS_MAX 40

typedef struct SlTicks {
    size_t n;                       /* number of ticks */
    double v[SL_TICKS_MAX];         /* their values, increasing */
    char label[SL_TICKS_MAX][24];   /* how they print: "0.5", "-3", "1e+06" */
    double lo, hi;                  /* the axis range (widened to ticks when loose) */
} SlTicks;

/* About `target` ticks on [lo, hi] (lo < hi) at multiples of a nice step.
 * loose: widen lo and hi to the ticks outside them; integer: steps of at
 * least 1 (step numbers).  log10: lo and hi are log10 of the data, ticks are
 * at powers of ten (or 1, 2, 5 × 10ᵏ on a short axis) and labelled with
 * their value. */
void sl_plot_ticks(double lo, double hi, int target, bool loose, bool integer, SlTicks *t);
void sl_plot_log_ticks(double lo, double hi, int target, bool loose, SlTicks *t);
/* n·10ᵉ as a tick label: "0", "25", "0.05", "-1.5", "2e+06", "1e-05". */
void sl_plot_tick_label(long long n, int e, char *buf, size_t size);

/* ---- figures ------------------------------------------------------------- */

/* y of a function at x, NaN where it is undefined (fails). */
typedef double (*SlPlotFn)(void *data, double x);

typedef struct SlSeries {
    char *label;        /* legend text (malloc'd) or NULL */
    double *x, *y;      /* n points (malloc'd); a non-finite y breaks the line */
    size_t n;           /* number of points */
    bool numbered;      /* markers numbered 0, 1, ... at each point (a descent path) */
    SlPlotFn fn;        /* the function sampled into x/y, or NULL */
    void *fn_data;      /* its argument (borrowed) */
} SlSeries;

typedef struct SlFigure {
    SlSeries *series;   /* drawn in order (malloc'd) */
    size_t nseries;     /* how many */
    bool has_xlim;      /* x range given (a function's [a, b]) */
    double xlo, xhi;    /* that range, when given */
    bool has_ylim;      /* y range given (ylim=) */
    double ylo, yhi;    /* that range (data values, not logarithms), when given */
    bool logy;          /* log scale on y (points with y <= 0 are left out) */
    bool xint;          /* x are step numbers: integer ticks */
    char *title;        /* each malloc'd or NULL */
    char *xlabel;
    char *ylabel;
} SlFigure;

void sl_figure_init(SlFigure *fig);
void sl_figure_free(SlFigure *fig);
/* A new series of n points (x and y allocated, filled by the caller); the
 * label is copied. */
SlSeries *sl_figure_add(SlFigure *fig, const char *label, size_t n);

/* The picture as text: at most width columns and height lines. */
char *sl_plot_text(const SlFigure *fig, int width, int height, bool unicode, bool color);
/* The picture as a standalone SVG document; animate: numbered series
 * appear point by point, with a marker moving along them (SMIL). */
void sl_plot_svg(const SlFigure *fig, FILE *out, bool animate);

/* ---- the builtin --------------------------------------------------------- */

const SlBuiltin *sl_plot_builtin_lookup(const char *name);
const SlBuiltin *sl_plot_builtin_at(size_t i);

#endif
