/* main.c -- not written yet. */
typedef int sl_main_stub_;
