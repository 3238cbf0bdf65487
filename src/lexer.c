/* lexer.c -- not written yet. */
typedef int sl_lexer_stub_;
