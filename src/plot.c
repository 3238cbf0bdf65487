/* plot.c -- pictures in the terminal and in SVG files (plot.h).
 *
 *     plot(f, a, b)   plot(f, g, a, b)   plot([f, g], a, b)
 *     plot(d)   plot(f, a, b, path=d)    plot(list)   plot(xs, ys)
 *     keywords: file="out.svg", animate=True, log=True, ylim=(lo, hi),
 *               width=, height=, title=, xlabel=, ylabel=
 *
 * A text picture, top to bottom: the title and the y label (when given),
 * the plot rows (y tick labels, the y axis ┤│, the canvas), the x axis
 * └─┬─, the x tick labels (and the x label at the right), the legend.
 * Lines of series 1, 2, 3 are solid, dashed and dotted (and coloured on a
 * terminal), so a legend reads without colour.  Sizes: the terminal's
 * (TIOCGWINSZ) when the output is one, else 80 columns × 24 lines; the
 * picture leaves a column and two lines free.
 */
#include "plot.h"

#include <errno.h>
#include <langinfo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ad.h"
#include "descend.h"
#include "eval_internal.h"
#include "expr.h"
#include "num.h"

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    char *r = strdup(s);
    if (!r)
        abort();
    return r;
}

/* Characters (not bytes) of a UTF-8 string. */
static size_t columns(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* ===========================================================================
 * The canvas
 * ======================================================================== */

struct SlCanvas {
    int cols, rows;        /* character cells */
    bool braille;          /* 2×4 dots per cell, else one */
    unsigned char *dots;   /* per cell: braille bits, or 1 for a set ASCII dot */
    signed char *who;      /* per cell: series of the last dot set, -1 for none */
    char (*text)[8];       /* per cell: overlay text (one UTF-8 character) */
    signed char *twho;     /* per cell: overlay's series */
    int lastx, lasty;      /* the last dot a line drew (polylines share ends) */
};

SlCanvas *sl_canvas_new(int cols, int rows, bool braille)
{
    if (cols < 1)
        cols = 1;
    if (rows < 1)
        rows = 1;
    SlCanvas *c = xcalloc(1, sizeof *c);
    size_t n = (size_t)cols * (size_t)rows;
    c->cols = cols;
    c->rows = rows;
    c->braille = braille;
    c->dots = xcalloc(n, 1);
    c->who = xcalloc(n, 1);
    c->text = xcalloc(n, sizeof *c->text);
    c->twho = xcalloc(n, 1);
    memset(c->who, -1, n);
    memset(c->twho, -1, n);
    c->lastx = c->lasty = -1000000;
    return c;
}

void sl_canvas_free(SlCanvas *c)
{
    if (!c)
        return;
    free(c->dots);
    free(c->who);
    free(c->text);
    free(c->twho);
    free(c);
}

int sl_canvas_dots_x(const SlCanvas *c) { return c->braille ? 2 * c->cols : c->cols; }
int sl_canvas_dots_y(const SlCanvas *c) { return c->braille ? 4 * c->rows : c->rows; }

/* Braille dot bits by (row within the cell, column within the cell). */
static const unsigned char braille_bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};

void sl_canvas_set(SlCanvas *c, int x, int y, int series)
{
    if (x < 0 || y < 0 || x >= sl_canvas_dots_x(c) || y >= sl_canvas_dots_y(c))
        return;
    size_t i;
    if (c->braille) {
        i = (size_t)(y / 4) * (size_t)c->cols + (size_t)(x / 2);
        c->dots[i] |= braille_bit[y % 4][x % 2];
    } else {
        i = (size_t)y * (size_t)c->cols + (size_t)x;
        c->dots[i] = 1;
    }
    c->who[i] = (signed char)(series % 100);
}

/* Clip the segment to [lo, hi] on both axes (Liang–Barsky); false when
 * nothing is left. */
static bool clip(double *x0, double *y0, double *x1, double *y1, double xlo, double xhi, double ylo, double yhi)
{
    double t0 = 0, t1 = 1, dx = *x1 - *x0, dy = *y1 - *y0;
    double p[4] = {-dx, dx, -dy, dy}, q[4] = {*x0 - xlo, xhi - *x0, *y0 - ylo, yhi - *y0};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return false;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0) {
            if (t > t1)
                return false;
            if (t > t0)
                t0 = t;
        } else {
            if (t < t0)
                return false;
            if (t < t1)
                t1 = t;
        }
    }
    double ax = *x0 + t0 * dx, ay = *y0 + t0 * dy, bx = *x0 + t1 * dx, by = *y0 + t1 * dy;
    *x0 = ax;
    *y0 = ay;
    *x1 = bx;
    *y1 = by;
    return true;
}

static bool dash_on(SlLineStyle style, long phase)
{
    switch (style) {
    case SL_LINE_DASHED: return (phase / 4) % 2 == 0;
    case SL_LINE_DOTTED: return phase % 2 == 0;
    default: return true;
    }
}

void sl_canvas_line(SlCanvas *c, double x0, double y0, double x1, double y1, int series, SlLineStyle style,
                    long *phase)
{
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1))
        return;
    double w = sl_canvas_dots_x(c), h = sl_canvas_dots_y(c);
    if (!clip(&x0, &y0, &x1, &y1, -0.5, w - 0.5, -0.5, h - 0.5))
        return;
    int ax = (int)lround(x0), ay = (int)lround(y0), bx = (int)lround(x1), by = (int)lround(y1);
    int dx = abs(bx - ax), dy = -abs(by - ay), sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1;
    int e = dx + dy;
    bool first = true;
    for (;;) {
        if (!(first && ax == c->lastx && ay == c->lasty)) {
            if (dash_on(style, *phase))
                sl_canvas_set(c, ax, ay, series);
            (*phase)++;
        }
        first = false;
        if (ax == bx && ay == by)
            break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            ax += sx;
        }
        if (e2 <= dx) {
            e += dx;
            ay += sy;
        }
    }
    c->lastx = bx;
    c->lasty = by;
}

bool sl_canvas_text(SlCanvas *c, int col, int row, const char *text, int series)
{
    size_t n = columns(text);
    if (row < 0 || row >= c->rows || col < 0 || (size_t)col + n > (size_t)c->cols)
        return false;
    size_t base = (size_t)row * (size_t)c->cols + (size_t)col;
    for (size_t k = 0; k < n; k++)
        if (c->text[base + k][0])
            return false;
    const char *p = text;
    for (size_t k = 0; k < n; k++) {
        size_t len = 1;
        while (p[len] && ((unsigned char)p[len] & 0xC0) == 0x80)
            len++;
        if (len > 7)
            len = 7;
        memcpy(c->text[base + k], p, len);
        c->text[base + k][len] = '\0';
        c->twho[base + k] = (signed char)(series % 100);
        p += len;
    }
    return true;
}

static bool has_text(const SlCanvas *c, int col, int row)
{
    if (row < 0 || row >= c->rows || col < 0 || col >= c->cols)
        return false;
    return c->text[(size_t)row * (size_t)c->cols + (size_t)col][0] != 0;
}

static const char *const ansi_colour[] = {"34", "31", "32", "35", "33", "36"};
static const char ascii_dot[] = "*+x#%&";

void sl_canvas_row(const SlCanvas *c, int row, SlBuf *out, bool color)
{
    int current = -1; /* colour in effect: series, or 100 + series for bold overlay */
    for (int col = 0; col < c->cols; col++) {
        size_t i = (size_t)row * (size_t)c->cols + (size_t)col;
        int want = c->text[i][0] ? 100 + c->twho[i] : c->dots[i] ? c->who[i] : -1;
        if (color && want != current) {
            if (current != -1)
                sl_buf_puts(out, "\x1b[0m");
            if (want >= 100)
                sl_buf_printf(out, "\x1b[1;%sm", ansi_colour[(want - 100) % 6]);
            else if (want >= 0)
                sl_buf_printf(out, "\x1b[%sm", ansi_colour[want % 6]);
            current = want;
        }
        if (c->text[i][0]) {
            sl_buf_puts(out, c->text[i]);
        } else if (!c->dots[i]) {
            sl_buf_putc(out, ' ');
        } else if (c->braille) {
            unsigned cp = 0x2800u + c->dots[i];
            char u[4] = {(char)(0xE0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3F)), (char)(0x80 | (cp & 0x3F)), 0};
            sl_buf_puts(out, u);
        } else {
            sl_buf_putc(out, ascii_dot[(c->who[i] < 0 ? 0 : c->who[i]) % 6]);
        }
    }
    if (color && current != -1)
        sl_buf_puts(out, "\x1b[0m");
}

/* ===========================================================================
 * Ticks
 * ======================================================================== */

void sl_plot_tick_label(long long n, int e, char *buf, size_t size)
{
    if (n == 0) {
        snprintf(buf, size, "0");
        return;
    }
    while (n % 10 == 0) {
        n /= 10;
        e++;
    }
    bool neg = n < 0;
    unsigned long long m = neg ? (unsigned long long)(-(n + 1)) + 1 : (unsigned long long)n;
    char digits[32];
    int nd = snprintf(digits, sizeof digits, "%llu", m);
    int lead = nd - 1 + e; /* exponent of the leading digit */
    char body[64];
    if (lead >= -4 && lead < 6) {
        if (e >= 0) {
            snprintf(body, sizeof body, "%s%.*s", digits, e, "0000000000000000");
        } else if (-e < nd) {
            snprintf(body, sizeof body, "%.*s.%s", nd + e, digits, digits + nd + e);
        } else {
            snprintf(body, sizeof body, "0.%.*s%s", -e - nd, "0000000000000000", digits);
        }
    } else if (nd == 1) {
        snprintf(body, sizeof body, "%se%c%02d", digits, lead < 0 ? '-' : '+', abs(lead));
    } else {
        snprintf(body, sizeof body, "%c.%se%c%02d", digits[0], digits + 1, lead < 0 ? '-' : '+', abs(lead));
    }
    snprintf(buf, size, "%s%s", neg ? "-" : "", body);
}

/* A nice step near x: m·10ᵉ with m in {1, 2, 5}. */
static void nice_step(double x, int *m, int *e)
{
    int ex = (int)floor(log10(x));
    double f = x / pow(10, ex);
    int nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    if (nf == 10) {
        nf = 1;
        ex++;
    }
    *m = nf;
    *e = ex;
}

static void smaller_step(int *m, int *e)
{
    if (*m == 5)
        *m = 2;
    else if (*m == 2)
        *m = 1;
    else {
        *m = 5;
        (*e)--;
    }
}

static void bigger_step(int *m, int *e)
{
    if (*m == 1)
        *m = 2;
    else if (*m == 2)
        *m = 5;
    else {
        *m = 1;
        (*e)++;
    }
}

/* The fallback for axes nice steps cannot label: the two ends. */
static void end_ticks(double lo, double hi, SlTicks *t)
{
    t->n = 2;
    t->v[0] = lo;
    t->v[1] = hi;
    /* enough digits to tell the ends apart */
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(t->label[0], sizeof t->label[0], "%.*g", digits, lo);
        snprintf(t->label[1], sizeof t->label[1], "%.*g", digits, hi);
        if (strcmp(t->label[0], t->label[1]) != 0)
            break;
    }
    t->lo = lo;
    t->hi = hi;
}

void sl_plot_ticks(double lo, double hi, int target, bool loose, bool integer, SlTicks *t)
{
    memset(t, 0, sizeof *t);
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi)) {
        end_ticks(lo, hi, t);
        return;
    }
    if (target < 2)
        target = 2;
    int m, e;
    nice_step((hi - lo) / (target - 1), &m, &e);
    if (integer && e < 0) {
        m = 1;
        e = 0;
    }
    bool grew = false;
    for (int tries = 0; tries < 64; tries++) {
        double step = m * pow(10, e);
        double a = lo / step, b = hi / step;
        if (fabs(a) > 1e15 || fabs(b) > 1e15) {
            end_ticks(lo, hi, t);
            return;
        }
        long long ka = loose ? (long long)floor(a + 1e-9) : (long long)ceil(a - 1e-9);
        long long kb = loose ? (long long)ceil(b - 1e-9) : (long long)floor(b + 1e-9);
        if (kb - ka + 1 > SL_TICKS_MAX || kb - ka + 1 > 2 * target + 2) {
            bigger_step(&m, &e);
            grew = true;
            continue;
        }
        if (kb - ka + 1 < 2 && !grew && !(integer && m == 1 && e == 0)) { /* at least two labels */
            smaller_step(&m, &e);
            continue;
        }
        t->n = 0;
        for (long long k = ka; k <= kb; k++) {
            double v = e >= 0 ? (double)(k * m) * pow(10, e) : (double)(k * m) / pow(10, -e);
            t->v[t->n] = v;
            sl_plot_tick_label(k * m, e, t->label[t->n], sizeof t->label[t->n]);
            t->n++;
        }
        t->lo = loose && t->n ? fmin(lo, t->v[0]) : lo;
        t->hi = loose && t->n ? fmax(hi, t->v[t->n - 1]) : hi;
        if (t->n == 0) /* a tight axis shorter than one step: label its ends */
            end_ticks(lo, hi, t);
        return;
    }
    end_ticks(lo, hi, t);
}

void sl_plot_log_ticks(double lo, double hi, int target, bool loose, SlTicks *t)
{
    memset(t, 0, sizeof *t);
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi) || fabs(lo) > 400 || fabs(hi) > 400) {
        end_ticks(lo, hi, t);
        for (size_t k = 0; k < 2; k++) /* label the values, not their logarithms */
            snprintf(t->label[k], sizeof t->label[k], "%.3g", pow(10, t->v[k]));
        return;
    }
    if (target < 2)
        target = 2;
    double eps = 1e-9;
    long ka = loose ? (long)floor(lo + eps) : (long)ceil(lo - eps);
    long kb = loose ? (long)ceil(hi - eps) : (long)floor(hi + eps);
    if (kb - ka >= 1) { /* decades */
        long every = (kb - ka + target - 1) / target;
        if (every < 1)
            every = 1;
        long first = ka;
        while (first % every)
            first++;
        if (loose)
            ka = first > ka ? first - every : ka;
        t->n = 0;
        for (long k = loose ? ka : first; k <= kb && t->n < SL_TICKS_MAX; k += every) {
            t->v[t->n] = (double)k;
            sl_plot_tick_label(1, (int)k, t->label[t->n], sizeof t->label[t->n]);
            t->n++;
        }
        if (loose && t->n && t->v[t->n - 1] < hi - eps && t->n < SL_TICKS_MAX) {
            double k = t->v[t->n - 1] + (double)every;
            t->v[t->n] = k;
            sl_plot_tick_label(1, (int)k, t->label[t->n], sizeof t->label[t->n]);
            t->n++;
        }
        t->lo = loose ? fmin(lo, t->v[0]) : lo;
        t->hi = loose ? fmax(hi, t->v[t->n - 1]) : hi;
        return;
    }
    /* a short axis: 1, 2, 5 × 10ᵏ, then every digit */
    static const int sets[2][10] = {{1, 2, 5, 0}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 0}};
    for (int s = 0; s < 2; s++) {
        double cand[64];
        char lab[64][24];
        size_t nc = 0;
        for (long k = (long)floor(lo) - 1; k <= (long)ceil(hi) + 1 && nc < 60; k++)
            for (int j = 0; sets[s][j] && nc < 60; j++) {
                cand[nc] = log10((double)sets[s][j]) + (double)k;
                sl_plot_tick_label(sets[s][j], (int)k, lab[nc], sizeof lab[nc]);
                nc++;
            }
        size_t i0 = 0, i1 = 0;
        bool any = false;
        for (size_t i = 0; i < nc; i++) {
            bool in = cand[i] >= lo - eps && cand[i] <= hi + eps;
            if (in && !any) {
                i0 = i;
                any = true;
            }
            if (in)
                i1 = i;
        }
        if (!any || i1 - i0 + 1 < 2)
            if (s == 0)
                continue;
        if (!any) {
            end_ticks(lo, hi, t);
            for (size_t k = 0; k < 2; k++)
                snprintf(t->label[k], sizeof t->label[k], "%.3g", pow(10, t->v[k]));
            return;
        }
        if (loose) {
            if (i0 > 0 && cand[i0] > lo + eps)
                i0--;
            if (i1 + 1 < nc && cand[i1] < hi - eps)
                i1++;
        }
        t->n = 0;
        for (size_t i = i0; i <= i1 && t->n < SL_TICKS_MAX; i++) {
            t->v[t->n] = cand[i];
            memcpy(t->label[t->n], lab[i], sizeof lab[i]);
            t->n++;
        }
        t->lo = loose ? fmin(lo, t->v[0]) : lo;
        t->hi = loose ? fmax(hi, t->v[t->n - 1]) : hi;
        return;
    }
}

/* ===========================================================================
 * Figures
 * ======================================================================== */

void sl_figure_init(SlFigure *fig) { memset(fig, 0, sizeof *fig); }

void sl_figure_free(SlFigure *fig)
{
    for (size_t i = 0; i < fig->nseries; i++) {
        free(fig->series[i].label);
        free(fig->series[i].x);
        free(fig->series[i].y);
    }
    free(fig->series);
    free(fig->title);
    free(fig->xlabel);
    free(fig->ylabel);
    memset(fig, 0, sizeof *fig);
}

SlSeries *sl_figure_add(SlFigure *fig, const char *label, size_t n)
{
    SlSeries *ns = realloc(fig->series, (fig->nseries + 1) * sizeof *ns);
    if (!ns)
        abort();
    fig->series = ns;
    SlSeries *s = &fig->series[fig->nseries++];
    memset(s, 0, sizeof *s);
    s->label = xstrdup(label);
    s->x = xcalloc(n, sizeof *s->x);
    s->y = xcalloc(n, sizeof *s->y);
    s->n = n;
    return s;
}

/* y on the axis: log10 on a log axis (NaN for y <= 0). */
static double axis_y(const SlFigure *fig, double y)
{
    if (!fig->logy)
        return y;
    return y > 0 ? log10(y) : NAN;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The data ranges (before ticks): false when there is no finite point. */
static bool data_range(const SlFigure *fig, double *xlo, double *xhi, double *ylo, double *yhi)
{
    double ax = INFINITY, bx = -INFINITY;
    if (fig->has_xlim) {
        ax = fig->xlo;
        bx = fig->xhi;
    } else {
        for (size_t k = 0; k < fig->nseries; k++)
            for (size_t i = 0; i < fig->series[k].n; i++) {
                double x = fig->series[k].x[i], y = axis_y(fig, fig->series[k].y[i]);
                if (isfinite(x) && isfinite(y)) {
                    ax = fmin(ax, x);
                    bx = fmax(bx, x);
                }
            }
        if (!(ax <= bx))
            return false;
        if (ax == bx) {
            double pad = fig->xint ? 1 : fmax(1, fabs(ax) * 0.1);
            ax -= pad;
            bx += pad;
        }
    }
    size_t total = 0;
    for (size_t k = 0; k < fig->nseries; k++)
        total += fig->series[k].n;
    double *ys = xcalloc(total, sizeof *ys);
    size_t n = 0;
    for (size_t k = 0; k < fig->nseries; k++)
        for (size_t i = 0; i < fig->series[k].n; i++) {
            double x = fig->series[k].x[i], y = axis_y(fig, fig->series[k].y[i]);
            if (isfinite(x) && isfinite(y) && x >= ax && x <= bx)
                ys[n++] = y;
        }
    *xlo = ax;
    *xhi = bx;
    if (fig->has_ylim) {
        free(ys);
        *ylo = axis_y(fig, fig->ylo);
        *yhi = axis_y(fig, fig->yhi);
        return isfinite(*ylo) && isfinite(*yhi) && *ylo < *yhi;
    }
    if (n == 0) {
        free(ys);
        return false;
    }
    qsort(ys, n, sizeof *ys, cmp_double);
    double lo = ys[0], hi = ys[n - 1];
    if (n >= 20) { /* a pole (1/(x − 0.5)) should not flatten everything else */
        double q1 = ys[n / 50], q2 = ys[n - 1 - n / 50], w = q2 - q1;
        if (w > 0 && hi - lo > 10 * w) {
            lo = fmax(lo, q1 - w);
            hi = fmin(hi, q2 + w);
        }
    }
    free(ys);
    if (lo == hi) {
        double pad = fig->logy ? 0.5 : fmax(1, fabs(lo) * 0.1);
        lo -= pad;
        hi += pad;
    }
    double pad = 0.03 * (hi - lo); /* the extremes a little inside the frame */
    lo -= pad;
    hi += pad;
    *ylo = lo;
    *yhi = hi;
    return true;
}

typedef struct Axes {
    SlTicks xt, yt;        /* ticks (ranges in xt.lo.., yt.lo.. on the axis scale) */
} Axes;

static void make_axes(const SlFigure *fig, double xlo, double xhi, double ylo, double yhi, int xtarget,
                      int ytarget, Axes *a)
{
    sl_plot_ticks(xlo, xhi, xtarget, false, fig->xint, &a->xt);
    if (fig->logy)
        sl_plot_log_ticks(ylo, yhi, ytarget, false, &a->yt);
    else
        sl_plot_ticks(ylo, yhi, ytarget, false, false, &a->yt);
}

/* The legend sample of series k. */
static const char *sample(const SlFigure *fig, size_t k, bool unicode)
{
    if (fig->series[k].numbered)
        return unicode ? "0 1 2…" : "0 1 2...";
    static const char *const uni[] = {"⠒⠒⠒", "⠒ ⠒", "⠂⠂⠂"};
    static const char *const asc[] = {"***", "+++", "xxx", "###", "%%%", "&&&"};
    size_t line = 0;
    for (size_t i = 0; i < k; i++)
        line += !fig->series[i].numbered;
    return unicode ? uni[line % 3] : asc[line % 6];
}

/* Line index of series k among the line series (numbered ones are not lines). */
static int line_index(const SlFigure *fig, size_t k)
{
    int line = 0;
    for (size_t i = 0; i < k; i++)
        line += !fig->series[i].numbered;
    return line;
}

/* Legend entries wrapped into lines of at most `width` columns, starting
 * at column `indent`; returns the number of lines (and appends them to out
 * when out is not NULL). */
static int legend_lines(const SlFigure *fig, int width, int indent, bool unicode, bool color, SlBuf *out)
{
    int lines = 0, col = 0;
    for (size_t k = 0; k < fig->nseries; k++) {
        const SlSeries *s = &fig->series[k];
        if (!s->label)
            continue;
        const char *smp = sample(fig, k, unicode);
        int w = (int)(columns(smp) + 1 + columns(s->label));
        if (col > 0 && col + 3 + w > width) {
            if (out)
                sl_buf_putc(out, '\n');
            col = 0;
        }
        if (col == 0) {
            lines++;
            if (out)
                sl_buf_printf(out, "%*s", indent, "");
            col = indent;
        } else {
            if (out)
                sl_buf_puts(out, "   ");
            col += 3;
        }
        if (out) {
            int colour = s->numbered ? 1 : line_index(fig, k) % 6;
            if (color)
                sl_buf_printf(out, "\x1b[%s%sm", s->numbered ? "1;" : "", ansi_colour[colour]);
            sl_buf_puts(out, smp);
            if (color)
                sl_buf_puts(out, "\x1b[0m");
            sl_buf_putc(out, ' ');
            sl_buf_puts(out, s->label);
        }
        col += w;
    }
    if (out && lines)
        sl_buf_putc(out, '\n');
    return lines;
}

/* Strip trailing blanks of every line. */
static char *strip_lines(SlBuf *b)
{
    SlBuf r = {0};
    sl_buf_init(&r);
    const char *p = b->s ? b->s : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t keep = len;
        while (keep > 0 && p[keep - 1] == ' ')
            keep--;
        sl_buf_add(&r, p, keep);
        sl_buf_putc(&r, '\n');
        p += len + (nl ? 1 : 0);
    }
    sl_buf_free(b);
    return sl_buf_take(&r);
}

char *sl_plot_text(const SlFigure *fig, int width, int height, bool unicode, bool color)
{
    double xlo, xhi, ylo, yhi;
    if (!data_range(fig, &xlo, &xhi, &ylo, &yhi)) {
        xlo = 0, xhi = 1, ylo = 0, yhi = 1;
    }
    int fixed = (fig->title ? 1 : 0) + (fig->ylabel ? 1 : 0) + 2;
    int leg = legend_lines(fig, width, 0, unicode, false, NULL);
    int rows = height - fixed - leg;
    if (rows < 3)
        rows = 3;
    Axes ax;
    make_axes(fig, xlo, xhi, ylo, yhi, 2, rows / 3 + 1 < 2 ? 2 : rows / 3 + 1, &ax);
    int lw = 1;
    for (size_t i = 0; i < ax.yt.n; i++)
        if ((int)strlen(ax.yt.label[i]) > lw)
            lw = (int)strlen(ax.yt.label[i]);
    int left = lw + 2; /* labels, a space, the axis */
    int xl = fig->xlabel ? (int)columns(fig->xlabel) : 0;
    int cols = width - left - (xl ? xl + 2 : 1); /* the x label goes at the end of the axis */
    if (cols < 10)
        cols = 10;
    make_axes(fig, xlo, xhi, ylo, yhi, cols / 10 < 2 ? 2 : cols / 10, rows / 3 + 1 < 2 ? 2 : rows / 3 + 1, &ax);
    xlo = ax.xt.lo;
    xhi = ax.xt.hi;
    ylo = ax.yt.lo;
    yhi = ax.yt.hi;

    SlCanvas *cv = sl_canvas_new(cols, rows, unicode);
    int W = sl_canvas_dots_x(cv), H = sl_canvas_dots_y(cv);
    double sx = (W - 1) / (xhi - xlo), sy = (H - 1) / (yhi - ylo);
#define PX(x) (((x) - xlo) * sx)
#define PY(y) ((yhi - (y)) * sy)
    /* lines first, numbered markers over them */
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < fig->nseries; k++) {
            const SlSeries *s = &fig->series[k];
            if (s->numbered != (pass == 1))
                continue;
            if (s->numbered) {
                for (size_t i = 0; i < s->n; i++) {
                    double y = axis_y(fig, s->y[i]);
                    if (!isfinite(s->x[i]) || !isfinite(y))
                        continue;
                    double px = PX(s->x[i]), py = PY(y);
                    if (px < -0.5 || px > W - 0.5 || py < -0.5 || py > H - 0.5)
                        continue;
                    int col = (int)lround(px) / (unicode ? 2 : 1), row = (int)lround(py) / (unicode ? 4 : 1);
                    char num[24];
                    int len = snprintf(num, sizeof num, "%zu", i);
                    /* a number with a free cell on each side, else a dot */
                    bool room = !has_text(cv, col - 1, row) && !has_text(cv, col + len, row);
                    if (!room || !sl_canvas_text(cv, col, row, num, 1))
                        sl_canvas_text(cv, col, row, unicode ? "•" : "o", 1);
                }
                continue;
            }
            int li = line_index(fig, k);
            SlLineStyle style = unicode ? (SlLineStyle)(li % 3) : SL_LINE_SOLID;
            size_t n = s->n;
            double *xs = s->x, *ys = s->y, *own = NULL;
            if (s->fn) { /* once per dot column */
                n = (size_t)W;
                own = xcalloc(2 * n, sizeof *own);
                xs = own;
                ys = own + n;
                for (size_t i = 0; i < n; i++) {
                    xs[i] = n > 1 ? xlo + (xhi - xlo) * (double)i / (double)(n - 1) : xlo;
                    ys[i] = s->fn(s->fn_data, xs[i]);
                }
            }
            long phase = 0;
            cv->lastx = cv->lasty = -1000000;
            for (size_t i = 0; i < n; i++) {
                double y = axis_y(fig, ys[i]);
                if (!isfinite(xs[i]) || !isfinite(y))
                    continue;
                double y0 = i > 0 ? axis_y(fig, ys[i - 1]) : NAN;
                bool prev = i > 0 && isfinite(xs[i - 1]) && isfinite(y0);
                double y1 = i + 1 < n ? axis_y(fig, ys[i + 1]) : NAN;
                bool next = i + 1 < n && isfinite(xs[i + 1]) && isfinite(y1);
                /* from above the top to below the bottom: a pole, not a line */
                bool pole = prev && ((y0 > yhi && y < ylo) || (y0 < ylo && y > yhi));
                if (prev && !pole)
                    sl_canvas_line(cv, PX(xs[i - 1]), PY(y0), PX(xs[i]), PY(y), li, style, &phase);
                else if (!next)
                    sl_canvas_line(cv, PX(xs[i]), PY(y), PX(xs[i]), PY(y), li, SL_LINE_SOLID, &phase);
            }
            free(own);
        }

    SlBuf out = {0};
    sl_buf_init(&out);
    if (fig->title) {
        int tw = (int)columns(fig->title);
        int at = left + (cols - tw) / 2;
        sl_buf_printf(&out, "%*s%s\n", at < 0 ? 0 : at, "", fig->title);
    }
    if (fig->ylabel)
        sl_buf_printf(&out, "%s\n", fig->ylabel);
    /* rows: the tick of each row, if any */
    const char **rowlabel = xcalloc((size_t)rows, sizeof *rowlabel);
    for (size_t i = 0; i < ax.yt.n; i++) {
        double py = PY(ax.yt.v[i]);
        if (py < -0.5 || py > H - 0.5)
            continue;
        int r = (int)lround(py) / (unicode ? 4 : 1);
        if (r >= 0 && r < rows)
            rowlabel[r] = ax.yt.label[i];
    }
    for (int r = 0; r < rows; r++) {
        sl_buf_printf(&out, "%*s ", lw, rowlabel[r] ? rowlabel[r] : "");
        sl_buf_puts(&out, rowlabel[r] ? (unicode ? "┤" : "+") : (unicode ? "│" : "|"));
        sl_canvas_row(cv, r, &out, color);
        sl_buf_putc(&out, '\n');
    }
    free(rowlabel);
    /* the x axis */
    char *tickcol = xcalloc((size_t)cols, 1);
    int *labelcol = xcalloc(ax.xt.n ? ax.xt.n : 1, sizeof *labelcol);
    for (size_t i = 0; i < ax.xt.n; i++) {
        double px = PX(ax.xt.v[i]);
        labelcol[i] = -1;
        if (px < -0.5 || px > W - 0.5)
            continue;
        int cc = (int)lround(px) / (unicode ? 2 : 1);
        if (cc >= 0 && cc < cols) {
            tickcol[cc] = 1;
            labelcol[i] = cc;
        }
    }
    sl_buf_printf(&out, "%*s%s", lw + 1, "", unicode ? "└" : "+");
    for (int cc = 0; cc < cols; cc++)
        sl_buf_puts(&out, tickcol[cc] ? (unicode ? "┬" : "+") : (unicode ? "─" : "-"));
    if (fig->xlabel)
        sl_buf_printf(&out, " %s", fig->xlabel);
    sl_buf_putc(&out, '\n');
    /* x tick labels, centred under their ticks, none overlapping */
    int total = left + cols + (xl ? xl + 2 : 1);
    char *line = xcalloc((size_t)total + 1, 1);
    memset(line, ' ', (size_t)total);
    int end = -1;
    for (size_t i = 0; i < ax.xt.n; i++) {
        if (labelcol[i] < 0)
            continue;
        int len = (int)strlen(ax.xt.label[i]);
        int at = left + labelcol[i] - len / 2;
        if (at + len > total)
            at = total - len;
        if (at < 0)
            at = 0;
        if (at <= end + 1 && end >= 0)
            continue;
        memcpy(line + at, ax.xt.label[i], (size_t)len);
        end = at + len - 1;
    }
    sl_buf_add(&out, line, (size_t)total);
    sl_buf_putc(&out, '\n');
    free(line);
    free(tickcol);
    free(labelcol);
    legend_lines(fig, width, left, unicode, color, &out);
    sl_canvas_free(cv);
#undef PX
#undef PY
    return strip_lines(&out);
}

/* ===========================================================================
 * SVG
 * ======================================================================== */

static const char *const svg_colour[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"};
static const char *const svg_dash[] = {"", "7,4", "1.5,3"};
#define PATH_COLOUR "#d62728"

static void xml_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* Pixel coordinates are kept within a margin of the picture so that a
 * pole does not write 1e300 into the file (the plot area is clipped). */
static double clampc(double v, double lo, double hi)
{
    double m = hi - lo;
    return v < lo - m ? lo - m : v > hi + m ? hi + m : v;
}

void sl_plot_svg(const SlFigure *fig, FILE *out, bool animate)
{
    const double W = 720, H = 450, cw = 7.0; /* size and an average character width */
    double xlo, xhi, ylo, yhi;
    if (!data_range(fig, &xlo, &xhi, &ylo, &yhi)) {
        xlo = 0, xhi = 1, ylo = 0, yhi = 1;
    }
    Axes ax;
    make_axes(fig, xlo, xhi, ylo, yhi, 8, 6, &ax);
    xlo = ax.xt.lo;
    xhi = ax.xt.hi;
    ylo = ax.yt.lo;
    yhi = ax.yt.hi;
    double ylw = 0;
    for (size_t i = 0; i < ax.yt.n; i++)
        ylw = fmax(ylw, (double)strlen(ax.yt.label[i]) * cw);
    double left = 16 + (fig->ylabel ? 18 : 0) + ylw + 10, right = W - 24;
    /* legend rows, entries of a 30px sample and the label */
    int legrows = 0;
    double lx = 0;
    for (size_t k = 0; k < fig->nseries; k++) {
        if (!fig->series[k].label)
            continue;
        double w = 40 + cw * (double)columns(fig->series[k].label);
        if (legrows == 0 || lx + w > right - left) {
            legrows++;
            lx = 0;
        }
        lx += w + 16;
    }
    double top = 16 + (fig->title ? 24 : 0);
    double bottom = H - 30 - (fig->xlabel ? 18 : 0) - legrows * 18 - (legrows ? 8 : 0);
    double sx = (right - left) / (xhi - xlo), sy = (bottom - top) / (yhi - ylo);
#define SX(x) clampc(left + ((x) - xlo) * sx, left, right)
#define SY(y) clampc(bottom - ((y) - ylo) * sy, top, bottom)

    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" "
            "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
            W, H, W, H);
    fprintf(out, "<title>");
    xml_text(out, fig->title ? fig->title : "slope plot");
    fprintf(out, "</title>\n");
    fprintf(out, "<rect width=\"%g\" height=\"%g\" fill=\"white\"/>\n", W, H);
    fprintf(out, "<defs><clipPath id=\"plotarea\"><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>"
                 "</clipPath></defs>\n",
            left, top, right - left, bottom - top);
    /* grid, frame, ticks */
    fprintf(out, "<g class=\"grid\" stroke=\"#e8e8e8\" stroke-width=\"1\">\n");
    for (size_t i = 0; i < ax.xt.n; i++)
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", SX(ax.xt.v[i]), top,
                SX(ax.xt.v[i]), bottom);
    for (size_t i = 0; i < ax.yt.n; i++)
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", left, SY(ax.yt.v[i]), right,
                SY(ax.yt.v[i]));
    fprintf(out, "</g>\n");
    fprintf(out, "<rect class=\"frame\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
                 "stroke=\"black\"/>\n",
            left, top, right - left, bottom - top);
    fprintf(out, "<g class=\"xticks\" text-anchor=\"middle\">\n");
    for (size_t i = 0; i < ax.xt.n; i++) {
        double x = SX(ax.xt.v[i]);
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"black\"/>", x, bottom, x,
                bottom + 5);
        fprintf(out, "<text class=\"xtick\" x=\"%.2f\" y=\"%.2f\">%s</text>\n", x, bottom + 18, ax.xt.label[i]);
    }
    fprintf(out, "</g>\n<g class=\"yticks\" text-anchor=\"end\">\n");
    for (size_t i = 0; i < ax.yt.n; i++) {
        double y = SY(ax.yt.v[i]);
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"black\"/>", left - 5, y, left,
                y);
        fprintf(out, "<text class=\"ytick\" x=\"%.2f\" y=\"%.2f\" data-y=\"%.2f\">%s</text>\n", left - 8, y + 4, y,
                ax.yt.label[i]);
    }
    fprintf(out, "</g>\n");
    if (fig->title) {
        fprintf(out, "<text class=\"title\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"14\">",
                (left + right) / 2, top - 10);
        xml_text(out, fig->title);
        fprintf(out, "</text>\n");
    }
    if (fig->xlabel) {
        fprintf(out, "<text class=\"xlabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", (left + right) / 2,
                bottom + 36);
        xml_text(out, fig->xlabel);
        fprintf(out, "</text>\n");
    }
    if (fig->ylabel) {
        double cx = 16, cy = (top + bottom) / 2;
        fprintf(out, "<text class=\"ylabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" "
                     "transform=\"rotate(-90 %.2f %.2f)\">",
                cx, cy, cx, cy);
        xml_text(out, fig->ylabel);
        fprintf(out, "</text>\n");
    }
    /* series */
    for (size_t k = 0; k < fig->nseries; k++) {
        const SlSeries *s = &fig->series[k];
        if (s->numbered)
            continue;
        int li = line_index(fig, k);
        fprintf(out, "<g class=\"series\" clip-path=\"url(#plotarea)\" fill=\"none\" stroke=\"%s\" "
                     "stroke-width=\"1.8\" stroke-linejoin=\"round\"",
                svg_colour[li % 6]);
        if (svg_dash[li % 3][0])
            fprintf(out, " stroke-dasharray=\"%s\"", svg_dash[li % 3]);
        fprintf(out, ">");
        if (s->label) {
            fprintf(out, "<title>");
            xml_text(out, s->label);
            fprintf(out, "</title>");
        }
        fprintf(out, "\n");
        bool open = false;
        double py = NAN;
        for (size_t i = 0; i < s->n; i++) {
            double y = axis_y(fig, s->y[i]);
            bool ok = isfinite(s->x[i]) && isfinite(y);
            bool pole = open && ((py > yhi && y < ylo) || (py < ylo && y > yhi));
            py = y;
            if (pole) { /* from above the top to below the bottom: not a line */
                fprintf(out, "\"/>\n");
                open = false;
            }
            if (!ok) {
                if (open)
                    fprintf(out, "\"/>\n");
                open = false;
                continue;
            }
            if (!open) {
                bool next = i + 1 < s->n && isfinite(s->x[i + 1]) && isfinite(axis_y(fig, s->y[i + 1]));
                if (!next) { /* an isolated point */
                    fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"1.5\" fill=\"%s\"/>\n", SX(s->x[i]), SY(y),
                            svg_colour[li % 6]);
                    continue;
                }
                fprintf(out, "<polyline points=\"");
                open = true;
            } else {
                fputc(' ', out);
            }
            fprintf(out, "%.2f,%.2f", SX(s->x[i]), SY(y));
        }
        if (open)
            fprintf(out, "\"/>\n");
        fprintf(out, "</g>\n");
    }
    /* descent paths */
    for (size_t k = 0; k < fig->nseries; k++) {
        const SlSeries *s = &fig->series[k];
        if (!s->numbered)
            continue;
        size_t n = s->n, every = animate && n > 400 ? (n + 399) / 400 : 1;
        size_t frames = 0;
        for (size_t i = 0; i < n; i += every)
            frames++;
        double dt = frames > 1 ? fmin(0.6, fmax(0.04, 6.0 / (double)frames)) : 1;
        double T = (double)frames * dt + 1.5;
        fprintf(out, "<g class=\"path\" clip-path=\"url(#plotarea)\">");
        if (s->label) {
            fprintf(out, "<title>");
            xml_text(out, s->label);
            fprintf(out, "</title>");
        }
        fprintf(out, "\n");
        double lastlx[64], lastly[64];
        size_t nlab = 0;
        size_t f = 0;
        double px = NAN, py = NAN;
        for (size_t i = 0; i < n; i += every, f++) {
            double y = axis_y(fig, s->y[i]);
            if (!isfinite(s->x[i]) || !isfinite(y))
                continue;
            double cx = SX(s->x[i]), cy = SY(y);
            char anim[256] = "";
            if (animate && f > 0)
                snprintf(anim, sizeof anim,
                         "<animate attributeName=\"opacity\" values=\"0;1\" keyTimes=\"0;%.4f\" dur=\"%.2fs\" "
                         "calcMode=\"discrete\" repeatCount=\"indefinite\"/>",
                         (double)f * dt / T, T);
            if (isfinite(px))
                fprintf(out,
                        "<line class=\"step\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                        "stroke-width=\"1.2\" stroke-opacity=\"0.7\">%s</line>\n",
                        px, py, cx, cy, PATH_COLOUR, anim);
            fprintf(out,
                    "<circle class=\"marker\" cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"%s\" stroke=\"white\" "
                    "stroke-width=\"0.8\" data-step=\"%zu\">%s</circle>\n",
                    cx, cy, PATH_COLOUR, i, anim);
            bool crowded = false;
            for (size_t j = 0; j < nlab && !crowded; j++)
                crowded = fabs(lastlx[j] - cx) < 14 && fabs(lastly[j] - cy) < 12;
            if (!crowded && nlab < 64) {
                fprintf(out,
                        "<text class=\"marker-label\" x=\"%.2f\" y=\"%.2f\" font-size=\"10\" fill=\"%s\">%zu%s</text>\n",
                        cx + 5, cy - 6, PATH_COLOUR, i, anim);
                lastlx[nlab] = cx;
                lastly[nlab] = cy;
                nlab++;
            }
            px = cx;
            py = cy;
        }
        if (animate && frames > 0) {
            /* the current point, moving from iterate to iterate */
            SlBuf xs = {0}, ys = {0}, kt = {0};
            sl_buf_init(&xs);
            sl_buf_init(&ys);
            sl_buf_init(&kt);
            double fx = NAN, fy = NAN;
            f = 0;
            for (size_t i = 0; i < n; i += every, f++) {
                double y = axis_y(fig, s->y[i]);
                double cx = isfinite(s->x[i]) && isfinite(y) ? SX(s->x[i]) : fx;
                double cy = isfinite(s->x[i]) && isfinite(y) ? SY(y) : fy;
                if (!isfinite(cx)) {
                    cx = left;
                    cy = top;
                }
                if (!isfinite(fx)) {
                    fx = cx;
                    fy = cy;
                }
                sl_buf_printf(&xs, "%s%.2f", f ? ";" : "", cx);
                sl_buf_printf(&ys, "%s%.2f", f ? ";" : "", cy);
                sl_buf_printf(&kt, "%s%.4f", f ? ";" : "", (double)f * dt / T);
                fx = cx;
                fy = cy;
            }
            sl_buf_printf(&xs, ";%.2f", fx);
            sl_buf_printf(&ys, ";%.2f", fy);
            sl_buf_puts(&kt, ";1");
            double x0 = SX(s->x[0]), y0 = SY(axis_y(fig, s->y[0]));
            fprintf(out, "<circle class=\"current\" cx=\"%.2f\" cy=\"%.2f\" r=\"6\" fill=\"none\" stroke=\"%s\" "
                         "stroke-width=\"2\">\n",
                    isfinite(x0) ? x0 : left, isfinite(y0) ? y0 : top, PATH_COLOUR);
            fprintf(out, "<animate attributeName=\"cx\" values=\"%s\" keyTimes=\"%s\" dur=\"%.2fs\" "
                         "repeatCount=\"indefinite\"/>\n",
                    xs.s, kt.s, T);
            fprintf(out, "<animate attributeName=\"cy\" values=\"%s\" keyTimes=\"%s\" dur=\"%.2fs\" "
                         "repeatCount=\"indefinite\"/>\n</circle>\n",
                    ys.s, kt.s, T);
            sl_buf_free(&xs);
            sl_buf_free(&ys);
            sl_buf_free(&kt);
        }
        fprintf(out, "</g>\n");
        if (animate && frames > 0) {
            /* "step k" under the title, one text per frame */
            fprintf(out, "<g class=\"frames\" font-size=\"11\" fill=\"#444\">\n");
            f = 0;
            for (size_t i = 0; i < n; i += every, f++) {
                double t0 = (double)f * dt / T, t1 = (double)(f + 1) * dt / T;
                bool last = i + every >= n;
                fprintf(out, "<text x=\"%.2f\" y=\"%.2f\" opacity=\"%d\">step %zu: x = %.6g, f(x) = %.6g", left + 6,
                        top + 14, f == 0 ? 1 : 0, i, s->x[i], s->y[i]);
                if (f == 0 && last)
                    ;
                else if (f == 0)
                    fprintf(out, "<animate attributeName=\"opacity\" values=\"1;0\" keyTimes=\"0;%.4f\" "
                                 "dur=\"%.2fs\" calcMode=\"discrete\" repeatCount=\"indefinite\"/>",
                            t1, T);
                else if (last)
                    fprintf(out, "<animate attributeName=\"opacity\" values=\"0;1\" keyTimes=\"0;%.4f\" "
                                 "dur=\"%.2fs\" calcMode=\"discrete\" repeatCount=\"indefinite\"/>",
                            t0, T);
                else
                    fprintf(out, "<animate attributeName=\"opacity\" values=\"0;1;0\" keyTimes=\"0;%.4f;%.4f\" "
                                 "dur=\"%.2fs\" calcMode=\"discrete\" repeatCount=\"indefinite\"/>",
                            t0, t1, T);
                fprintf(out, "</text>\n");
            }
            fprintf(out, "</g>\n");
        }
    }
    /* legend */
    if (legrows) {
        fprintf(out, "<g class=\"legend\">\n");
        double y = bottom + 30 + (fig->xlabel ? 18 : 0) + 8, x = left;
        bool first = true;
        for (size_t k = 0; k < fig->nseries; k++) {
            const SlSeries *s = &fig->series[k];
            if (!s->label)
                continue;
            double w = 40 + cw * (double)columns(s->label);
            if (!first && x - left + w > right - left) {
                x = left;
                y += 18;
            }
            first = false;
            if (s->numbered) {
                fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"%s\"/>", x + 15, y - 4, PATH_COLOUR);
            } else {
                int li = line_index(fig, k);
                fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"1.8\"",
                        x, y - 4, x + 30, y - 4, svg_colour[li % 6]);
                if (svg_dash[li % 3][0])
                    fprintf(out, " stroke-dasharray=\"%s\"", svg_dash[li % 3]);
                fprintf(out, "/>");
            }
            fprintf(out, "<text class=\"legend-label\" x=\"%.2f\" y=\"%.2f\">", x + 36, y);
            xml_text(out, s->label);
            fprintf(out, "</text>\n");
            x += w + 16;
        }
        fprintf(out, "</g>\n");
    }
    fprintf(out, "</svg>\n");
#undef SX
#undef SY
}

/* ===========================================================================
 * The plot builtin
 * ======================================================================== */

/* A function of one variable, sampled through the language. */
typedef struct Sampler {
    SlSession *s;        /* the session */
    SlValue *f;          /* the function (borrowed) */
    const char *var;     /* an expression's variable */
    size_t ok, failed;   /* points that gave a number / that failed */
    char first[300];     /* the first failure's message */
    const char *badtype; /* the type of a non-number result, or NULL */
    double badx;         /* where */
} Sampler;

static double sample_fn(void *data, double x)
{
    Sampler *sp = data;
    if (sl_interrupted || sp->badtype)
        return NAN;
    SlError e = {0};
    SlValue *xv = sl_float_d(x);
    SlValue *r;
    if (sp->f->kind == SL_EXPR) {
        r = sl_expr_subs(sp->f->u.expr, &sp->var, &xv, sp->var ? 1 : 0, &e);
    } else {
        SlLoc loc = {0, 0, 0, 0};
        r = sl_call_value(sp->s, sp->f, &xv, 1, NULL, NULL, 0, NULL, loc, &e);
    }
    sl_unref(xv);
    double y = NAN;
    if (r) {
        SlValue *p = sl_primal(r);
        if (sl_is_number(p)) {
            y = sl_num_to_double(p);
            sp->ok++;
        } else {
            sp->badtype = sl_type_name(r);
            sp->badx = x;
        }
        sl_unref(p);
        sl_unref(r);
    } else {
        if (!sp->failed)
            snprintf(sp->first, sizeof sp->first, "%.299s", e.msg);
        sp->failed++;
    }
    sl_err_clear(&e);
    return y;
}

/* How a function is named in a legend: "f(x) = x² + x − 6", "r(v)", "sin(x)". */
static char *fn_label(const SlValue *f)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    if (f->kind == SL_BUILTIN) {
        sl_buf_printf(&b, "%s(x)", f->u.builtin->name);
        return sl_buf_take(&b);
    }
    sl_repr(&b, f);
    if (strncmp(b.s, "<function ", 10) == 0 && b.len > 11) {
        char *r = xstrdup(b.s + 10);
        r[strlen(r) - 1] = '\0';
        sl_buf_free(&b);
        return r;
    }
    const char *nl = strchr(b.s, '\n'); /* a long definition: its first line */
    if (nl)
        b.s[nl - b.s] = '\0';
    return sl_buf_take(&b);
}

/* Whether v can be plotted as a function of one variable (no checks of arity). */
static bool plottable(const SlValue *v)
{
    if (v->kind == SL_FUNC)
        return !(v->u.func->def && v->u.func->def->kind == SL_AST_OPTIMIZER);
    if (v->kind == SL_BUILTIN)
        return sl_math_fn_lookup(v->u.builtin->name) >= 0;
    return v->kind == SL_EXPR;
}

static bool is_number_arg(const SlValue *v)
{
    SlValue *p = sl_primal((SlValue *)v);
    bool r = sl_is_number(p);
    sl_unref(p);
    return r;
}

static double to_double(const SlValue *v)
{
    SlValue *p = sl_primal((SlValue *)v);
    double d = sl_num_to_double(p);
    sl_unref(p);
    return d;
}

/* A finite real number argument; false + error. */
static bool range_end(SlCall *c, const char *which, const SlValue *v, double *out)
{
    if (!is_number_arg(v))
        return sl_err(c->err, SL_E_ARG_TYPE, "plot", which, "a number", sl_type_name(v));
    *out = to_double(v);
    if (!isfinite(*out)) {
        SlBuf b = {0};
        sl_repr(&b, v);
        sl_err(c->err, SL_E_VALUE, "plot: the range must be finite, not %s", b.s);
        sl_buf_free(&b);
        return false;
    }
    return true;
}

/* The numbers of a list, tuple or iterable object (a tensor); NULL + error. */
static double *numbers_of(SlCall *c, SlValue *v, const char *what, size_t *n)
{
    SlValue *l = sl_iter_list(v, c->err);
    if (!l)
        return NULL;
    if (l->u.list.len == 0) {
        sl_unref(l);
        sl_err(c->err, SL_E_VALUE, "plot: %s is empty", what);
        return NULL;
    }
    double *r = xcalloc(l->u.list.len, sizeof *r);
    const SlBuiltin *fl = sl_builtin_lookup("float");
    for (size_t i = 0; i < l->u.list.len; i++) {
        SlValue *it = l->u.list.items[i];
        if (is_number_arg(it)) {
            r[i] = to_double(it);
            continue;
        }
        SlValue *fv = NULL;
        if (it->kind == SL_OBJECT && fl) { /* a 0-d tensor: float(t) */
            SlError e = {0};
            SlValue *fb = sl_builtin_value(fl);
            SlLoc loc = {0, 0, 0, 0};
            fv = sl_call_value(c->s, fb, &it, 1, NULL, NULL, 0, NULL, loc, &e);
            sl_unref(fb);
            sl_err_clear(&e);
        }
        if (!fv || !sl_is_number(fv)) {
            sl_unref(fv);
            sl_err(c->err, SL_E_TYPE, "plot: %s must hold numbers; item %zu is a %s", what, i, sl_type_name(it));
            free(r);
            sl_unref(l);
            return NULL;
        }
        r[i] = sl_num_to_double(fv);
        sl_unref(fv);
    }
    *n = l->u.list.len;
    sl_unref(l);
    return r;
}

/* Add f sampled at n points over [a, b]; false + error when f cannot be
 * plotted (wrong arity, never a number, a non-number result). */
static bool add_function(SlCall *c, SlFigure *fig, SlValue *f, double a, double b, Sampler *sp, const char **var)
{
    const char *names[4];
    size_t np = sl_ad_params(f, names, 4);
    char *label = fn_label(f);
    if (np > 1) {
        sl_err(c->err, SL_E_VALUE, "plot draws functions of one variable; %s has %zu", label, np);
        free(label);
        return false;
    }
    *var = np == 1 ? names[0] : NULL;
    sp->s = c->s;
    sp->f = f;
    sp->var = *var;
    enum { N = 801 };
    SlSeries *s = sl_figure_add(fig, label, N);
    free(label);
    for (size_t i = 0; i < N; i++) {
        s->x[i] = a + (b - a) * (double)i / (N - 1);
        s->y[i] = sample_fn(sp, s->x[i]);
    }
    s->x[N - 1] = b;
    s->fn = sample_fn;
    s->fn_data = sp;
    if (sl_interrupted) {
        sl_interrupted = 0;
        return sl_err(c->err, SL_E_INTERRUPTED);
    }
    if (sp->badtype) {
        SlBuf xb = {0};
        sl_buf_init(&xb);
        SlValue *xv = sl_float_d(sp->badx);
        sl_repr(&xb, xv);
        sl_unref(xv);
        sl_err(c->err, SL_E_TYPE, "plot needs numbers; %s at %s is a %s", s->label, xb.s, sp->badtype);
        sl_buf_free(&xb);
        return false;
    }
    if (sp->ok == 0) {
        char ab[2][32];
        snprintf(ab[0], sizeof ab[0], "%.6g", a);
        snprintf(ab[1], sizeof ab[1], "%.6g", b);
        return sl_err(c->err, SL_E_VALUE, "plot: %s fails at every point of [%s, %s] (%s)", s->label, ab[0], ab[1],
                      sp->first);
    }
    return true;
}

/* The path of a descent of one variable as a numbered series. */
static void add_path(SlFigure *fig, const SlDescent *d)
{
    size_t n = sl_descent_steps(d) + 1;
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_buf_puts(&b, "descent from ");
    sl_repr(&b, sl_descent_x(d, 0));
    sl_buf_puts(&b, ", lr=");
    sl_repr(&b, d->lr);
    sl_buf_printf(&b, ": %zu step%s", n - 1, n == 2 ? "" : "s");
    SlSeries *s = sl_figure_add(fig, b.s, n);
    sl_buf_free(&b);
    s->numbered = true;
    for (size_t i = 0; i < n; i++) {
        s->x[i] = to_double(sl_descent_x(d, i));
        s->y[i] = to_double(sl_descent_fx(d, i));
    }
}

/* Integer keyword in [lo, hi]. */
static bool int_kw(SlCall *c, const char *name, long lo, long hi, long *out)
{
    SlValue *v = sl_call_kwarg(c, name);
    if (!v || v->kind == SL_NONE)
        return true;
    if (v->kind != SL_INT || !sl_num_to_long(v, out))
        return sl_err(c->err, SL_E_ARG_TYPE, "plot", name, "an int", sl_type_name(v));
    if (*out < lo || *out > hi)
        return sl_err(c->err, SL_E_VALUE, "plot: %s must be from %ld to %ld, not %ld", name, lo, hi, *out);
    return true;
}

static bool str_kw(SlCall *c, const char *name, char **out)
{
    SlValue *v = sl_call_kwarg(c, name);
    if (!v || v->kind == SL_NONE)
        return true;
    if (v->kind != SL_STR)
        return sl_err(c->err, SL_E_ARG_TYPE, "plot", name, "a string", sl_type_name(v));
    free(*out);
    *out = xstrdup(v->u.str.s);
    return true;
}

static bool flag_kw(SlCall *c, const char *name, bool *out)
{
    SlValue *v = sl_call_kwarg(c, name);
    if (!v || v->kind == SL_NONE)
        return true;
    bool ok = true;
    *out = sl_truthy(v, &ok);
    if (!ok)
        return sl_err(c->err, SL_E_ARG_TYPE, "plot", name, "True or False", sl_type_name(v));
    return true;
}

/* A range a picture can map with doubles: finite, and wide enough that
 * dots per unit do not overflow. */
static bool drawable(double lo, double hi) { return isfinite(hi - lo) && hi - lo > 1e-290; }

static bool utf8_locale(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

static SlValue *b_plot(SlCall *c)
{
    static const char *const kw[] = {"file",  "animate", "log",    "ylim",   "width", "height",
                                     "title", "xlabel",  "ylabel", "path",   NULL};
    if (!sl_call_keywords(c, "plot", kw) || !sl_call_arity(c, "plot", 1, (size_t)-1))
        return NULL;
    SlFigure fig;
    sl_figure_init(&fig);
    size_t nfn = 0;
    Sampler *samplers = xcalloc(c->nargs + 1, sizeof *samplers);
    bool ok = true;
    const SlDescent *path = NULL;
    SlValue *a0 = c->args[0];
    SlValue **fns = NULL;
    size_t nf = 0, rest = 0; /* functions, and where the range starts */
    SlValue *pv = sl_call_kwarg(c, "path");
    if (pv && pv->kind != SL_NONE) {
        path = sl_descent_of(pv);
        if (!path)
            ok = sl_err(c->err, SL_E_ARG_TYPE, "plot", "path", "a descent", sl_type_name(pv));
        else if (path->nvars != 1)
            ok = sl_err(c->err, SL_E_VALUE, "plot: path= marks a descent of one variable; this one has %zu",
                        path->nvars);
    }
    bool logy = false, animate = false;
    long width = -1, height = -1;
    ok = ok && flag_kw(c, "log", &logy) && flag_kw(c, "animate", &animate) && int_kw(c, "width", 20, 1000, &width) &&
         int_kw(c, "height", 6, 500, &height) && str_kw(c, "title", &fig.title) &&
         str_kw(c, "xlabel", &fig.xlabel) && str_kw(c, "ylabel", &fig.ylabel);
    SlValue *file = sl_call_kwarg(c, "file");
    if (ok && file && file->kind != SL_NONE && file->kind != SL_STR)
        ok = sl_err(c->err, SL_E_ARG_TYPE, "plot", "file", "a string", sl_type_name(file));
    if (file && file->kind == SL_NONE)
        file = NULL;
    if (ok && file && file->u.str.len == 0)
        ok = sl_err(c->err, SL_E_VALUE, "plot: file= needs a file name");
    SlValue *yl = sl_call_kwarg(c, "ylim");
    if (ok && yl && yl->kind != SL_NONE) {
        if ((yl->kind != SL_LIST && yl->kind != SL_TUPLE) || yl->u.list.len != 2 ||
            !is_number_arg(yl->u.list.items[0]) || !is_number_arg(yl->u.list.items[1]))
            ok = sl_err(c->err, SL_E_ARG_TYPE, "plot", "ylim", "a pair of numbers (lo, hi)", sl_type_name(yl));
        else {
            fig.ylo = to_double(yl->u.list.items[0]);
            fig.yhi = to_double(yl->u.list.items[1]);
            fig.has_ylim = true;
            if (!(fig.ylo < fig.yhi) || !isfinite(fig.ylo) || !isfinite(fig.yhi))
                ok = sl_err(c->err, SL_E_VALUE, "plot: ylim must be finite with lo < hi");
            else if (logy && fig.ylo <= 0)
                ok = sl_err(c->err, SL_E_VALUE, "plot: ylim on a log scale must be above 0");
        }
    }
    fig.logy = logy;

    const SlDescent *d0 = ok ? sl_descent_of(a0) : NULL;
    if (!ok) {
    } else if (d0) {
        /* plot(d) or plot(d, a, b) */
        if (c->nargs != 1 && c->nargs != 3)
            ok = sl_err(c->err, SL_E_VALUE, "plot(d) takes a descent alone, or with a range: plot(d, a, b)");
        else if (d0->nvars != 1) { /* several variables: f at each step */
            if (c->nargs == 3)
                ok = sl_err(c->err, SL_E_VALUE, "plot: a descent of %zu variables is drawn as f by step, without "
                                                "a range", d0->nvars);
            else {
                size_t n = sl_descent_steps(d0) + 1;
                SlBuf b = {0};
                sl_buf_init(&b);
                sl_buf_printf(&b, "%s at each step", sl_descent_fname(d0));
                SlSeries *s = sl_figure_add(&fig, b.s, n);
                sl_buf_free(&b);
                for (size_t i = 0; i < n; i++) {
                    s->x[i] = (double)i;
                    s->y[i] = to_double(sl_descent_fx(d0, i));
                }
                fig.xint = true;
                if (!fig.xlabel)
                    fig.xlabel = xstrdup("step");
            }
        } else {
            double a, b;
            if (c->nargs == 3) {
                ok = range_end(c, "2 (a)", c->args[1], &a) && range_end(c, "3 (b)", c->args[2], &b);
                if (ok && !(a < b))
                    ok = sl_err(c->err, SL_E_VALUE, "plot: the range needs a < b, not %.6g and %.6g", a, b);
            } else {
                a = INFINITY;
                b = -INFINITY;
                for (size_t i = 0; i <= sl_descent_steps(d0); i++) {
                    double x = to_double(sl_descent_x(d0, i));
                    if (isfinite(x)) {
                        a = fmin(a, x);
                        b = fmax(b, x);
                    }
                }
                if (!(a <= b)) {
                    a = -1;
                    b = 1;
                }
                double span = b - a;
                if (span == 0)
                    span = fmax(1, fabs(a));
                a -= 0.15 * span;
                b += 0.15 * span;
            }
            if (ok) {
                fig.has_xlim = true;
                fig.xlo = a;
                fig.xhi = b;
                const char *var = NULL;
                ok = add_function(c, &fig, d0->f, a, b, &samplers[nfn++], &var);
                if (ok && var && !fig.xlabel)
                    fig.xlabel = xstrdup(var);
                if (ok)
                    add_path(&fig, d0);
            }
        }
        if (ok && path)
            ok = sl_err(c->err, SL_E_VALUE, "plot(d) already marks d's path; path= is for plot(f, a, b, path=d)");
        path = NULL;
    } else if ((a0->kind == SL_LIST || a0->kind == SL_TUPLE) && a0->u.list.len > 0 && plottable(a0->u.list.items[0])) {
        /* plot([f, g], a, b) */
        fns = a0->u.list.items;
        nf = a0->u.list.len;
        rest = 1;
        for (size_t i = 0; i < nf && ok; i++)
            if (!plottable(fns[i])) {
                char what[32];
                snprintf(what, sizeof what, "1 (item %zu)", i);
                ok = sl_err(c->err, SL_E_ARG_TYPE, "plot", what, "a function", sl_type_name(fns[i]));
            }
    } else if (plottable(a0)) {
        /* plot(f, g, ..., a, b) */
        fns = c->args;
        while (nf < c->nargs && plottable(c->args[nf]))
            nf++;
        rest = nf;
    } else if (a0->kind == SL_LIST || a0->kind == SL_TUPLE || (a0->kind == SL_OBJECT && a0->u.obj.type->iter)) {
        /* plot(list) or plot(xs, ys) */
        if (c->nargs > 2) {
            ok = sl_err(c->err, SL_E_VALUE, "plot takes one list (a loss curve) or two (xs, ys), not %zu arguments",
                        c->nargs);
        } else {
            size_t n = 0, m = 0;
            double *ys = NULL, *xs = NULL;
            if (c->nargs == 2) {
                xs = numbers_of(c, a0, "xs", &n);
                ys = xs ? numbers_of(c, c->args[1], "ys", &m) : NULL;
                if (ys && n != m)
                    ok = sl_err(c->err, SL_E_VALUE, "plot(xs, ys) needs lists of one length, not %zu and %zu", n, m);
                ok = ok && ys;
            } else {
                ys = numbers_of(c, a0, "the list", &n);
                ok = ys != NULL;
                fig.xint = true;
            }
            if (ok) {
                SlSeries *s = sl_figure_add(&fig, NULL, n);
                for (size_t i = 0; i < n; i++) {
                    s->x[i] = xs ? xs[i] : (double)i;
                    s->y[i] = ys[i];
                }
            }
            free(xs);
            free(ys);
        }
    } else {
        ok = sl_err(c->err, SL_E_TYPE,
                    "plot cannot draw a value of type %s; give a function and a range (plot(f, a, b)), a list "
                    "of numbers, two lists (xs, ys) or a descent",
                    sl_type_name(a0));
    }
    if (ok && nf) {
        /* the range after the functions */
        double a = 0, b = 0;
        if (c->nargs - rest < 2)
            ok = sl_err(c->err, SL_E_VALUE, "plot(f, a, b) needs the range a to b after the function%s",
                        nf == 1 ? "" : "s");
        else if (c->nargs - rest > 2)
            ok = sl_err(c->err, SL_E_VALUE, "plot: argument %zu comes after the range; plot(f, g, a, b) takes the "
                        "functions first", rest + 3);
        if (ok) {
            char wa[16], wb[16];
            snprintf(wa, sizeof wa, "%zu (a)", rest + 1);
            snprintf(wb, sizeof wb, "%zu (b)", rest + 2);
            ok = range_end(c, wa, c->args[rest], &a) && range_end(c, wb, c->args[rest + 1], &b);
            if (ok && !(a < b))
                ok = sl_err(c->err, SL_E_VALUE, "plot: the range needs a < b, not %.6g and %.6g", a, b);
        }
        if (ok) {
            fig.has_xlim = true;
            fig.xlo = a;
            fig.xhi = b;
            const char *common = NULL;
            bool same = true;
            for (size_t i = 0; i < nf && ok; i++) {
                const char *var = NULL;
                ok = add_function(c, &fig, fns[i], a, b, &samplers[nfn++], &var);
                if (ok && var) {
                    if (common && strcmp(common, var) != 0)
                        same = false;
                    common = var;
                }
            }
            if (ok && same && common && !fig.xlabel)
                fig.xlabel = xstrdup(common);
            if (ok && path)
                add_path(&fig, path);
        }
    } else if (ok && path && !d0) {
        ok = sl_err(c->err, SL_E_VALUE, "plot: path= marks a descent on a function: plot(f, a, b, path=d)");
    }
    if (ok && animate) {
        bool numbered = false;
        for (size_t k = 0; k < fig.nseries; k++)
            numbered |= fig.series[k].numbered;
        if (!file)
            ok = sl_err(c->err, SL_E_VALUE, "plot: animate=True writes an animated SVG; give file=\"descent.svg\"");
        else if (!numbered)
            ok = sl_err(c->err, SL_E_VALUE, "plot: animate=True animates a descent: plot(d, file=..., animate=True)");
    }
    if (ok) {
        double xlo, xhi, ylo, yhi;
        if (!data_range(&fig, &xlo, &xhi, &ylo, &yhi))
            ok = sl_err(c->err, SL_E_VALUE, logy ? "plot: nothing to draw on a log scale: no value is above 0"
                                                 : "plot: nothing to draw: every value is inf or nan");
        else if (!drawable(xlo, xhi) || !drawable(ylo, yhi)) {
            bool x = !drawable(xlo, xhi);
            double lo = INFINITY, hi = -INFINITY; /* the data's own extent, before padding */
            for (size_t k = 0; k < fig.nseries; k++)
                for (size_t i = 0; i < fig.series[k].n; i++) {
                    double v = x ? fig.series[k].x[i] : fig.series[k].y[i];
                    if (isfinite(v) && (x || !logy || v > 0)) {
                        lo = fmin(lo, v);
                        hi = fmax(hi, v);
                    }
                }
            if (x && fig.has_xlim) {
                lo = fig.xlo;
                hi = fig.xhi;
            }
            ok = sl_err(c->err, SL_E_VALUE, "plot: the %s values span %.3g to %.3g, too %s to draw in doubles",
                        x ? "x" : "y", lo, hi, isfinite((hi - lo) * 1.1) ? "narrow" : "wide");
        }
    }
    if (ok && file) {
        const char *path_s = file->u.str.s;
        FILE *o = fopen(path_s, "w");
        if (!o) {
            ok = sl_err(c->err, SL_E_IO, path_s, strerror(errno));
        } else {
            sl_plot_svg(&fig, o, animate);
            bool bad = ferror(o) != 0;
            int saved = errno;
            if (fclose(o) != 0 || bad)
                ok = sl_err(c->err, SL_E_IO, path_s, strerror(bad ? saved : errno));
            else
                fprintf(c->s->out, "wrote %s\n", path_s);
        }
    } else if (ok) {
        FILE *out = c->s->out;
        int fd = fileno(out);
        bool tty = fd >= 0 && isatty(fd);
        int cols = 80, lines = 24;
        if (tty) {
            struct winsize ws;
            if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
                cols = ws.ws_col;
                lines = ws.ws_row;
            }
        }
        int w = width > 0 ? (int)width : cols - 1, h = height > 0 ? (int)height : lines - 2;
        if (width <= 0 && w > 240)
            w = 240;
        if (width <= 0 && w < 20)
            w = 20;
        if (height <= 0 && h > 48)
            h = 48;
        if (height <= 0 && h < 8)
            h = 8;
        bool uni = sl_expr_style() != SL_STYLE_ASCII && (!tty || utf8_locale());
        const char *term = getenv("TERM");
        bool color = tty && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
        char *text = sl_plot_text(&fig, w, h, uni, color);
        if (sl_interrupted) {
            sl_interrupted = 0;
            ok = sl_err(c->err, SL_E_INTERRUPTED);
        } else {
            fputs(text, out);
        }
        free(text);
    }
    sl_figure_free(&fig);
    free(samplers);
    return ok ? SL_NONE_V : NULL;
}

static const SlBuiltin plot_builtins[] = {
    {"plot", b_plot, "plot(f, a, b) | plot(f, g, a, b) | plot(d) | plot(list) | plot(xs, ys)",
     "Draw in the terminal (braille; ASCII under :style ascii): functions of one variable on [a, b] (also "
     "plot([f, g], a, b)), a descent's path numbered on its function's curve (plot(d), or plot(f, a, b, "
     "path=d)), a list as a curve by index (a loss curve), or ys against xs. Points where f fails are left "
     "out. Keywords: file=\"out.svg\" writes an SVG instead, animate=True (with file=) animates a descent, "
     "log=True for a log y axis, ylim=(lo, hi), width=, height= (characters), title=, xlabel=, ylabel=."},
};

const SlBuiltin *sl_plot_builtin_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof plot_builtins / sizeof plot_builtins[0]; i++)
        if (strcmp(plot_builtins[i].name, name) == 0)
            return &plot_builtins[i];
    return NULL;
}

const SlBuiltin *sl_plot_builtin_at(size_t i)
{
    return i < sizeof plot_builtins / sizeof plot_builtins[0] ? &plot_builtins[i] : NULL;
}
