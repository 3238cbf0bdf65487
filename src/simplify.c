/* simplify.c -- not written yet. */
typedef int sl_simplify_stub_;
