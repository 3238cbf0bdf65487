/* builtins.c -- not written yet. */
typedef int sl_builtins_stub_;
