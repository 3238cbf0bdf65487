/* expr.c -- not written yet. */
typedef int sl_expr_stub_;
