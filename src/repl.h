/* repl.h -- the interactive prompt.
 *
 * sl_repl_run reads statements with GNU Readline: the prompt is "> ", and
 * "... " while the text typed so far is incomplete (an open bracket or
 * brace, a trailing operator); the lines of one statement are run as one
 * chunk and stored as one history entry.  History persists in a file (see
 * sl_repl_history_path), appended to as each entry is entered.  Tab
 * completes session commands after ':', builtin and user names elsewhere.
 *
 * Ctrl-C at the prompt discards the line and any pending continuation
 * lines; while a statement runs it sets sl_interrupted, which the
 * evaluator polls.  The REPL borrows the session.
 */
#ifndef SL_REPL_H
#define SL_REPL_H

#include <stdbool.h>

#include "eval.h"

typedef struct SlReplOptions {
    bool banner;         /* print the one-line banner first */
    bool plain;          /* read with getline instead of readline (stdin is
                            not a terminal but a prompt was asked for) */
    const char *history; /* history file; NULL for none */
} SlReplOptions;

/* Run the prompt until :quit or end of input; returns the exit status (0). */
int sl_repl_run(SlSession *s, const SlReplOptions *opt);

/* The history file: $SLOPE_HISTORY when set (empty: no history), else
 * $XDG_STATE_HOME/slope/history when XDG_STATE_HOME is set (the directory
 * is created), else ~/.slope_history.  malloc'd, or NULL for none. */
char *sl_repl_history_path(void);

/* Install the SIGINT handler that sets sl_interrupted (no SA_RESTART, so a
 * blocking read returns EINTR).  A third Ctrl-C that arrives before the
 * evaluator has noticed the first ends the program: nothing hangs without
 * a way out. */
void sl_repl_install_sigint(void);
/* How many times Ctrl-C was pressed since the start (so that --check and
 * scripts can stop altogether rather than go on with the next input). */
long sl_repl_sigints(void);

#endif
