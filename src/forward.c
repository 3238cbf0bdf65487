/* forward.c -- not written yet. */
typedef int sl_forward_stub_;
