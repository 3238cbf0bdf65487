/* num.c -- not written yet. */
typedef int sl_num_stub_;
