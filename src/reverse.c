/* reverse.c -- not written yet. */
typedef int sl_reverse_stub_;
