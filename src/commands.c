/* commands.c -- not written yet. */
typedef int sl_commands_stub_;
