/* diff.c -- not written yet. */
typedef int sl_diff_stub_;
