/* session.h -- running slope text in a session from a unit test: what it
 * printed, compared with what it should print.  Static functions: each
 * test program includes it once. */
#ifndef SL_TEST_SESSION_H
#define SL_TEST_SESSION_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "expr.h"
#include "num.h"

/* A fresh session at the defaults (53 bits, unicode), in check mode. */
static inline SlSession *session(void)
{
    sl_num_set_prec(53);
    sl_expr_set_style(SL_STYLE_UNICODE);
    SlSession *s = sl_session_new();
    sl_session_set_mode(s, SL_MODE_CHECK);
    return s;
}

/* Run text in s and return everything it printed (malloc'd); *st gets
 * the run's status when st is not NULL. */
static inline char *run(SlSession *s, const char *text, SlRunStatus *st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sl_session_set_output(s, f, f);
    SlRunStatus r = sl_session_exec_text(s, NULL, text, 1, true);
    if (st)
        *st = r;
    fclose(f);
    sl_session_set_output(s, stdout, stderr);
    return buf;
}

/* text prints exactly out. */
static inline void expect(SlSession *s, const char *text, const char *out)
{
    char *got = run(s, text, NULL);
    ck_assert_msg(strcmp(got, out) == 0, "input:\n%s\nexpected:\n%s\ngot:\n%s", text, out, got);
    free(got);
}

#endif
