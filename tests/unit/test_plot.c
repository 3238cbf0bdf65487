/* test_plot.c -- the picture and descent engines through their C API:
 * the braille rasteriser (dots, lines, dashes, clipping, overlay text),
 * tick choice and tick labels, text and SVG figures, and descents (seed
 * 000's iterates, momentum, divergence and stall detection).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descend.h"
#include "eval.h"
#include "num.h"
#include "plot.h"

static SlSession *session;

/* One canvas row as a string (malloc'd). */
static char *row(SlCanvas *c, int r)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_canvas_row(c, r, &b, false);
    return sl_buf_take(&b);
}

#define ROW_IS(c, r, want)                                                                                             \
    do {                                                                                                               \
        char *got_ = row(c, r);                                                                                        \
        ck_assert_str_eq(got_, want);                                                                                  \
        free(got_);                                                                                                    \
    } while (0)

/* ---- the canvas ------------------------------------------------------------ */

START_TEST(test_braille_dots)
{
    SlCanvas *c = sl_canvas_new(3, 1, true);
    ck_assert_int_eq(sl_canvas_dots_x(c), 6);
    ck_assert_int_eq(sl_canvas_dots_y(c), 4);
    ROW_IS(c, 0, "   ");
    sl_canvas_set(c, 0, 0, 0); /* dot 1 */
    ROW_IS(c, 0, "⠁  ");
    sl_canvas_set(c, 3, 3, 0); /* dot 8 of the second cell */
    ROW_IS(c, 0, "⠁⢀ ");
    for (int y = 0; y < 4; y++)
        for (int x = 4; x < 6; x++)
            sl_canvas_set(c, x, y, 0);
    ROW_IS(c, 0, "⠁⢀⣿");
    /* outside: ignored */
    sl_canvas_set(c, -1, 0, 0);
    sl_canvas_set(c, 6, 0, 0);
    sl_canvas_set(c, 0, 4, 0);
    ROW_IS(c, 0, "⠁⢀⣿");
    sl_canvas_free(c);

    /* each of the eight dots of a cell is its own bit, as Unicode numbers them */
    static const char *const one[4][2] = {{"⠁", "⠈"}, {"⠂", "⠐"}, {"⠄", "⠠"}, {"⡀", "⢀"}};
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 2; x++) {
            SlCanvas *d = sl_canvas_new(1, 1, true);
            sl_canvas_set(d, x, y, 0);
            ROW_IS(d, 0, one[y][x]);
            sl_canvas_free(d);
        }
}
END_TEST

START_TEST(test_lines)
{
    long phase = 0;
    SlCanvas *c = sl_canvas_new(4, 1, true);
    sl_canvas_line(c, 0, 1, 7, 1, 0, SL_LINE_SOLID, &phase);
    ROW_IS(c, 0, "⠒⠒⠒⠒");
    ck_assert_int_eq(phase, 8);
    sl_canvas_free(c);

    c = sl_canvas_new(1, 2, true); /* vertical, over two rows */
    phase = 0;
    sl_canvas_line(c, 0, 0, 0, 7, 0, SL_LINE_SOLID, &phase);
    ROW_IS(c, 0, "⡇");
    ROW_IS(c, 1, "⡇");
    sl_canvas_free(c);

    c = sl_canvas_new(2, 1, true); /* a diagonal */
    phase = 0;
    sl_canvas_line(c, 0, 0, 3, 3, 0, SL_LINE_SOLID, &phase);
    ROW_IS(c, 0, "⠑⢄");
    sl_canvas_free(c);

    /* dashes: four dots on, four off; dots: every other one */
    c = sl_canvas_new(8, 1, true);
    phase = 0;
    sl_canvas_line(c, 0, 1, 15, 1, 0, SL_LINE_DASHED, &phase);
    ROW_IS(c, 0, "⠒⠒  ⠒⠒  ");
    sl_canvas_free(c);
    c = sl_canvas_new(3, 1, true);
    phase = 0;
    sl_canvas_line(c, 0, 1, 5, 1, 0, SL_LINE_DOTTED, &phase);
    ROW_IS(c, 0, "⠂⠂⠂");
    sl_canvas_free(c);

    /* clipped to the canvas; non-finite ends draw nothing */
    c = sl_canvas_new(2, 1, true);
    phase = 0;
    sl_canvas_line(c, -1000, 1, 1e9, 1, 0, SL_LINE_SOLID, &phase);
    ROW_IS(c, 0, "⠒⠒");
    sl_canvas_line(c, NAN, 0, 1, 1, 0, SL_LINE_SOLID, &phase);
    sl_canvas_line(c, 0, 0, INFINITY, 1, 0, SL_LINE_SOLID, &phase);
    sl_canvas_line(c, -5, -5, -1, -9, 0, SL_LINE_SOLID, &phase); /* all outside */
    ROW_IS(c, 0, "⠒⠒");
    sl_canvas_free(c);

    /* polylines: a shared end is drawn (and counted) once */
    c = sl_canvas_new(4, 1, true);
    phase = 0;
    sl_canvas_line(c, 0, 1, 3, 1, 0, SL_LINE_SOLID, &phase);
    sl_canvas_line(c, 3, 1, 7, 1, 0, SL_LINE_SOLID, &phase);
    ck_assert_int_eq(phase, 8);
    sl_canvas_free(c);
}
END_TEST

START_TEST(test_ascii_and_text)
{
    SlCanvas *c = sl_canvas_new(5, 2, false);
    ck_assert_int_eq(sl_canvas_dots_x(c), 5);
    ck_assert_int_eq(sl_canvas_dots_y(c), 2);
    long phase = 0;
    sl_canvas_line(c, 0, 0, 4, 0, 0, SL_LINE_SOLID, &phase);
    phase = 0;
    sl_canvas_line(c, 0, 1, 2, 1, 1, SL_LINE_SOLID, &phase);
    ROW_IS(c, 0, "*****");
    ROW_IS(c, 1, "+++  ");
    ck_assert(sl_canvas_text(c, 1, 0, "12", 1));
    ROW_IS(c, 0, "*12**");
    ck_assert(!sl_canvas_text(c, 2, 0, "3", 1)); /* taken */
    ck_assert(!sl_canvas_text(c, 4, 0, "45", 1)); /* does not fit */
    ck_assert(sl_canvas_text(c, 4, 1, "•", 1));  /* one character, three bytes */
    ROW_IS(c, 1, "+++ •");
    sl_canvas_free(c);
}
END_TEST

/* ---- ticks ----------------------------------------------------------------- */

START_TEST(test_tick_labels)
{
    static const struct {
        long long n;
        int e;
        const char *want;
    } cases[] = {
        {0, 3, "0"},         {25, 0, "25"},          {5, -2, "0.05"},     {-15, -1, "-1.5"},
        {2, 6, "2e+06"},     {1, -5, "1e-05"},       {1, -4, "0.0001"},   {123456, 0, "123456"}, {1234567, 0, "1.234567e+06"},
        {12, 5, "1.2e+06"},  {-25, -7, "-2.5e-06"},  {300, -2, "3"},      {10, -1, "1"},
        {123, -2, "1.23"},   {5, 1, "50"},           {-2, 0, "-2"},       {1, 300, "1e+300"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        sl_plot_tick_label(cases[i].n, cases[i].e, buf, sizeof buf);
        ck_assert_msg(strcmp(buf, cases[i].want) == 0, "%lld e%d: got %s, want %s", cases[i].n, cases[i].e, buf,
                      cases[i].want);
    }
}
END_TEST

static void ticks_are(const SlTicks *t, const char *want)
{
    char got[512] = "";
    for (size_t i = 0; i < t->n; i++) {
        if (i)
            strcat(got, " ");
        strcat(got, t->label[i]);
    }
    ck_assert_str_eq(got, want);
}

START_TEST(test_ticks)
{
    SlTicks t;
    sl_plot_ticks(-4, 3, 8, false, false, &t);
    ticks_are(&t, "-4 -3 -2 -1 0 1 2 3");
    ck_assert(t.lo == -4 && t.hi == 3);
    sl_plot_ticks(0, 1, 6, false, false, &t);
    ticks_are(&t, "0 0.2 0.4 0.6 0.8 1");
    /* exact labels, not 0.30000000000000004 */
    sl_plot_ticks(0, 0.3, 4, false, false, &t);
    ticks_are(&t, "0 0.1 0.2 0.3");
    /* a tight axis keeps its range; a loose one widens to the ticks */
    sl_plot_ticks(-6.25, 6, 7, false, false, &t);
    ticks_are(&t, "-6 -4 -2 0 2 4 6");
    ck_assert(t.lo == -6.25 && t.hi == 6);
    sl_plot_ticks(-6.25, 6, 7, true, false, &t);
    ticks_are(&t, "-8 -6 -4 -2 0 2 4 6");
    ck_assert(t.lo == -8 && t.hi == 6);
    /* step numbers: never half a step */
    sl_plot_ticks(0, 3, 10, false, true, &t);
    ticks_are(&t, "0 1 2 3");
    sl_plot_ticks(0, 99, 5, false, true, &t);
    ticks_are(&t, "0 20 40 60 80");
    /* small and large magnitudes */
    sl_plot_ticks(1e-7, 5e-7, 5, false, false, &t);
    ticks_are(&t, "1e-07 2e-07 3e-07 4e-07 5e-07");
    sl_plot_ticks(0, 3e6, 4, false, false, &t);
    ticks_are(&t, "0 1e+06 2e+06 3e+06");
    /* degenerate input does not crash */
    sl_plot_ticks(1, 1, 5, false, false, &t);
    ck_assert_uint_eq(t.n, 2);
    sl_plot_ticks(NAN, 1, 5, false, false, &t);
    ck_assert_uint_eq(t.n, 2);
    /* at most SL_TICKS_MAX, whatever is asked */
    sl_plot_ticks(0, 1, 1000, false, false, &t);
    ck_assert(t.n >= 2 && t.n <= SL_TICKS_MAX);
}
END_TEST

START_TEST(test_log_ticks)
{
    SlTicks t;
    sl_plot_log_ticks(log10(0.001), log10(0.5), 4, false, &t);
    ticks_are(&t, "0.001 0.01 0.1");
    ck_assert(fabs(t.v[1] - -2) < 1e-12);
    sl_plot_log_ticks(0, 12, 4, false, &t); /* every third decade */
    ticks_are(&t, "1 1000 1e+06 1e+09 1e+12");
    sl_plot_log_ticks(log10(2), log10(9), 4, false, &t); /* inside one decade */
    ticks_are(&t, "2 5");
}
END_TEST

/* ---- figures ----------------------------------------------------------------- */

static double identity(void *data, double x)
{
    (void)data;
    return x;
}

static void line_figure(SlFigure *fig)
{
    sl_figure_init(fig);
    SlSeries *s = sl_figure_add(fig, "y = x <&>", 11);
    for (size_t i = 0; i < 11; i++)
        s->x[i] = s->y[i] = (double)i / 10;
    s->fn = identity;
    fig->has_xlim = true;
    fig->xlo = 0;
    fig->xhi = 1;
    fig->xlabel = strdup("x");
}

START_TEST(test_text_figure)
{
    SlFigure fig;
    line_figure(&fig);
    for (int uni = 0; uni < 2; uni++) {
        char *text = sl_plot_text(&fig, 40, 12, uni, false);
        int lines = 0;
        for (char *p = text; *p; p++)
            lines += *p == '\n';
        ck_assert_int_le(lines, 12);
        char *line = text;
        while (*line) { /* no line wider than asked, none ending in a blank */
            char *nl = strchr(line, '\n');
            *nl = '\0';
            size_t cols = 0;
            for (char *q = line; *q; q++)
                cols += ((unsigned char)*q & 0xC0) != 0x80;
            ck_assert_uint_le(cols, 40);
            ck_assert(nl == line || nl[-1] != ' ');
            *nl = '\n';
            line = nl + 1;
        }
        ck_assert_ptr_nonnull(strstr(text, uni ? "┤" : "+"));
        ck_assert_ptr_nonnull(strstr(text, uni ? "└" : "+--"));
        ck_assert_ptr_nonnull(strstr(text, "y = x <&>"));
        ck_assert_ptr_nonnull(strstr(text, uni ? "⠒⠒⠒ y = x" : "*** y = x"));
        ck_assert_ptr_nonnull(strstr(text, "0.5"));
        free(text);
    }
    sl_figure_free(&fig);
}
END_TEST

START_TEST(test_svg_figure)
{
    SlFigure fig;
    line_figure(&fig);
    SlSeries *p = sl_figure_add(&fig, "path", 3);
    p->numbered = true;
    for (size_t i = 0; i < 3; i++)
        p->x[i] = p->y[i] = 0.25 * (double)(i + 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sl_plot_svg(&fig, f, true);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    ck_assert_ptr_nonnull(strstr(buf, "<polyline points=\""));
    ck_assert_ptr_nonnull(strstr(buf, "y = x &lt;&amp;&gt;")); /* escaped */
    ck_assert_ptr_nonnull(strstr(buf, "class=\"marker\""));
    ck_assert_ptr_nonnull(strstr(buf, "<animate attributeName=\"cx\""));
    ck_assert_ptr_nonnull(strstr(buf, "</svg>\n"));
    free(buf);
    sl_figure_free(&fig);
}
END_TEST

/* ---- descents ---------------------------------------------------------------- */

static SlValue *global(const char *def, const char *name)
{
    ck_assert_int_eq(sl_session_exec_text(session, NULL, def, 1, true), SL_RUN_OK);
    SlValue *v = sl_session_get(session, name);
    ck_assert_ptr_nonnull(v);
    return v;
}

static SlValue *num(const char *text)
{
    SlError err = {0};
    SlValue *v = strchr(text, '.') || strchr(text, 'e') ? sl_num_parse_float(text, &err) : sl_num_parse_int(text, &err);
    ck_assert_ptr_nonnull(v);
    return v;
}

static void repr_is(const SlValue *v, const char *want)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_repr(&b, v);
    ck_assert_str_eq(b.s, want);
    sl_buf_free(&b);
}

static SlDescent *start(const char *def, const char *name, const char *x0, const char *lr, const char *mom)
{
    SlValue *f = global(def, name), *x = num(x0), *l = num(lr), *m = num(mom);
    SlError err = {0};
    SlDescent *d = sl_descent_new(session, f, x, l, m, NULL, &err);
    ck_assert_msg(d != NULL, "%s", err.msg);
    sl_unref(f);
    sl_unref(x);
    sl_unref(l);
    sl_unref(m);
    return d;
}

static void steps(SlDescent *d, int n, bool *changed)
{
    for (int i = 0; i < n; i++) {
        SlError err = {0};
        ck_assert_msg(sl_descent_step(d, changed, &err), "%s", err.msg);
    }
}

START_TEST(test_seed000_iterates)
{
    /* Python: x = 1; x = x - 0.15*(2*x + 1), repeated */
    static const char *const want[] = {"1",
                                       "0.55",
                                       "0.23500000000000004",
                                       "0.014500000000000013",
                                       "-0.13984999999999997",
                                       "-0.24789499999999998",
                                       "-0.3235265",
                                       "-0.37646855",
                                       "-0.413527985"};
    for (int mode = 0; mode < 3; mode++) { /* every :ad engine gives the same iterates */
        char cmd[32];
        snprintf(cmd, sizeof cmd, ":ad %s", mode == 0 ? "reverse" : mode == 1 ? "forward" : "symbolic");
        ck_assert_int_eq(sl_session_exec_text(session, NULL, cmd, 1, true), SL_RUN_OK);
        SlDescent *d = start("f(x) = x² + x − 6", "f", "1", "0.15", "0");
        bool changed;
        steps(d, 8, &changed);
        ck_assert_uint_eq(sl_descent_steps(d), 8);
        for (size_t i = 0; i <= 8; i++)
            repr_is(sl_descent_x(d, i), want[i]);
        repr_is(sl_descent_fx(d, 0), "-4");
        repr_is(sl_descent_fx(d, 1), "-5.1475");
        ck_assert_int_eq(d->status, SL_DESCENT_RUNNING);
        sl_descent_free(d);
    }
}
END_TEST

START_TEST(test_momentum)
{
    SlDescent *d = start("sq(x) = x^2", "sq", "1.0", "0.1", "0.9");
    bool changed;
    steps(d, 3, &changed);
    repr_is(sl_descent_x(d, 1), "0.8");
    repr_is(sl_descent_x(d, 2), "0.45999999999999996");
    repr_is(sl_descent_x(d, 3), "0.06199999999999989");
    /* f rises for a while as the ball rolls past 0, which is not divergence */
    steps(d, 3, &changed);
    ck_assert_int_eq(d->status, SL_DESCENT_RUNNING);
    sl_descent_free(d);
}
END_TEST

START_TEST(test_divergence)
{
    SlDescent *d = start("sq(x) = x^2", "sq", "1", "1.1", "0");
    bool changed = false;
    steps(d, 4, &changed);
    ck_assert_int_eq(d->status, SL_DESCENT_RUNNING);
    steps(d, 1, &changed);
    ck_assert(changed);
    ck_assert_int_eq(d->status, SL_DESCENT_DIVERGING);
    ck_assert_str_eq(d->why, "diverging at step 5: f(x) grew 5 steps in a row; try a smaller lr (now 1.1)");
    sl_descent_free(d);

    /* inf: the descent stops for good */
    d = start("m(x) = x*x", "m", "1e154", "10", "0");
    steps(d, 1, &changed);
    ck_assert_int_eq(d->status, SL_DESCENT_DIVERGING);
    ck_assert_str_eq(d->why, "diverging at step 1: f(x) is inf; try a smaller lr (now 10)");
    SlError err = {0};
    ck_assert(!sl_descent_step(d, &changed, &err));
    ck_assert(err.set);
    sl_err_clear(&err);
    sl_descent_free(d);

    /* Python's OverflowError from x**2 means the same */
    d = start("p(x) = x^2", "p", "1e154", "10", "0");
    steps(d, 1, &changed);
    ck_assert_int_eq(d->status, SL_DESCENT_DIVERGING);
    ck_assert_ptr_nonnull(strstr(d->why, "diverging at step 1: f overflows at x = -1.9e+155"));
    sl_descent_free(d);
}
END_TEST

START_TEST(test_stall)
{
    /* a zero gradient at an inflection point, at a minimum */
    SlDescent *d = start("c(x) = x^3", "c", "0", "0.1", "0");
    ck_assert_int_eq(d->status, SL_DESCENT_STALLED);
    ck_assert_ptr_nonnull(strstr(d->why, "stalled at step 0: the gradient is 0"));
    sl_descent_free(d);
    d = start("sq(x) = x^2", "sq", "1", "0.5", "0");
    bool changed;
    steps(d, 1, &changed);
    ck_assert_int_eq(d->status, SL_DESCENT_CONVERGED);
    ck_assert_str_eq(d->why, "converged at step 1: the gradient is 0 at a minimum");
    sl_descent_free(d);
    /* steps too small to move x */
    d = start("sq(x) = x^2", "sq", "1.0", "1e-20", "0");
    steps(d, 1, &changed);
    ck_assert_int_eq(d->status, SL_DESCENT_STALLED);
    ck_assert_ptr_nonnull(strstr(d->why, "try a larger lr (now 1e-20)"));
    sl_descent_free(d);
}
END_TEST

START_TEST(test_oscillation)
{
    /* x² from 6 with lr 1: 6, -6, 6, ... a 2-cycle, not a descent */
    SlDescent *d = start("sq(x) = x^2", "sq", "6", "1", "0");
    bool changed = false;
    steps(d, 1, &changed);
    ck_assert_int_eq(d->status, SL_DESCENT_RUNNING);
    steps(d, 1, &changed);
    ck_assert(changed);
    ck_assert_int_eq(d->status, SL_DESCENT_OSCILLATING);
    ck_assert_str_eq(d->why, "oscillating at step 2: x jumps back and forth between -6 and 6 without getting "
                             "closer; try a smaller lr (now 1)");
    sl_descent_free(d);
    /* lr just below the cycle converges, slowly, with alternating signs */
    d = start("sq(x) = x^2", "sq", "6", "0.9", "0");
    steps(d, 50, &changed);
    ck_assert_int_eq(d->status, SL_DESCENT_RUNNING);
    sl_descent_free(d);
}
END_TEST

START_TEST(test_several_variables)
{
    SlValue *g = global("g(x, y) = (x - 1)^2 + 2(y + 2)^2", "g");
    SlValue *x0 = sl_list_new(2);
    sl_list_push_take(x0, sl_int_si(0));
    sl_list_push_take(x0, sl_int_si(0));
    SlValue *lr = num("0.1"), *m = num("0");
    SlError err = {0};
    SlDescent *d = sl_descent_new(session, g, x0, lr, m, NULL, &err);
    ck_assert_ptr_nonnull(d);
    bool changed;
    steps(d, 2, &changed);
    repr_is(sl_descent_x(d, 1), "[0.2, -0.8]");
    repr_is(sl_descent_x(d, 2), "[0.36000000000000004, -1.28]");
    sl_descent_free(d);
    /* the wrong number of starting values */
    SlValue *x1 = num("1");
    ck_assert_ptr_null(sl_descent_new(session, g, x1, lr, m, NULL, &err));
    ck_assert_str_eq(err.msg, "descend: f takes 2 variables; give x0 as a list of 2 numbers");
    sl_err_clear(&err);
    sl_unref(x1);
    sl_unref(x0);
    sl_unref(lr);
    sl_unref(m);
    sl_unref(g);
}
END_TEST

static void setup(void)
{
    session = sl_session_new();
    sl_session_set_mode(session, SL_MODE_CHECK);
}

static void teardown(void)
{
    sl_session_free(session);
    session = NULL;
}

int main(void)
{
    Suite *su = suite_create("plot");
    TCase *tc = tcase_create("plot");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_braille_dots);
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_ascii_and_text);
    tcase_add_test(tc, test_tick_labels);
    tcase_add_test(tc, test_ticks);
    tcase_add_test(tc, test_log_ticks);
    tcase_add_test(tc, test_text_figure);
    tcase_add_test(tc, test_svg_figure);
    suite_add_tcase(su, tc);
    TCase *td = tcase_create("descend");
    tcase_add_checked_fixture(td, setup, teardown);
    tcase_add_test(td, test_seed000_iterates);
    tcase_add_test(td, test_momentum);
    tcase_add_test(td, test_divergence);
    tcase_add_test(td, test_stall);
    tcase_add_test(td, test_oscillation);
    tcase_add_test(td, test_several_variables);
    suite_add_tcase(su, td);
    SRunner *sr = srunner_create(su);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
