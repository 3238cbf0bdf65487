/* autograd.c -- not written yet. */
typedef int sl_autograd_stub_;
