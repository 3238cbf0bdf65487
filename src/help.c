/* help.c -- not written yet. */
typedef int sl_help_stub_;
