/* eval.c -- not written yet. */
typedef int sl_eval_stub_;
