/* repl.c -- not written yet. */
typedef int sl_repl_stub_;
