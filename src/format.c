/* format.c -- not written yet. */
typedef int sl_format_stub_;
