/* commands.c -- the colon commands (:precision, :save, ...). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval_internal.h"
#include "expr.h"
#include "num.h"
#include "tensor.h"

const char *const sl_command_names[] = {
    "help", "precision", "digits", "style", "vars", "load", "save", "reset", "seed", "time", "ad", "replay", "quit", NULL,
};

static bool usage(SlError *err, const char *name)
{
    const char *u = NULL;
    sl_command_help(name, &u);
    return sl_err(err, SL_E_COMMAND_USAGE, u ? u : name);
}

/* Parse a whole-string decimal integer. */
static bool parse_long(const char *s, long *out)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

static SlRunStatus cmd_precision(SlSession *s, const char *arg, SlError *err)
{
    if (!*arg) {
        fprintf(s->out, "%ld bits (%ld digits)\n", (long)sl_num_prec(), sl_num_digits_for_bits(sl_num_prec()));
        return SL_RUN_OK;
    }
    long bits;
    if (!parse_long(arg, &bits) || bits < SL_PREC_MIN || bits > SL_PREC_MAX) {
        sl_err(err, SL_E_PRECISION, SL_PREC_MIN, SL_PREC_MAX, arg);
        return SL_RUN_ERROR;
    }
    sl_num_set_prec((mpfr_prec_t)bits);
    return SL_RUN_OK;
}

static SlRunStatus cmd_digits(SlSession *s, const char *arg, SlError *err)
{
    long lo = 1, hi = sl_num_digits_for_bits(SL_PREC_MAX);
    if (!*arg) {
        fprintf(s->out, "%ld digits (%ld bits)\n", sl_num_digits_for_bits(sl_num_prec()), (long)sl_num_prec());
        return SL_RUN_OK;
    }
    long d;
    if (!parse_long(arg, &d) || d < lo || d > hi) {
        sl_err(err, SL_E_DIGITS, lo, hi, arg);
        return SL_RUN_ERROR;
    }
    sl_num_set_prec(sl_num_bits_for_digits(d));
    return SL_RUN_OK;
}

static const char *const style_names[] = {"unicode", "ascii", "latex"};

static SlRunStatus cmd_style(SlSession *s, const char *arg, SlError *err)
{
    if (!*arg) {
        fprintf(s->out, "%s\n", style_names[sl_expr_style()]);
        return SL_RUN_OK;
    }
    for (int i = 0; i < 3; i++)
        if (strcmp(arg, style_names[i]) == 0) {
            sl_expr_set_style((SlStyle)i);
            return SL_RUN_OK;
        }
    usage(err, "style");
    return SL_RUN_ERROR;
}

static SlRunStatus cmd_vars(SlSession *s)
{
    size_t shown = 0;
    for (size_t i = 0; i < s->globals.len; i++) {
        const SlVar *v = &s->globals.vars[i];
        if (!v->name)
            continue;
        SlBuf b = {0};
        sl_buf_init(&b);
        if (v->value->kind == SL_FUNC) {
            sl_repr(&b, v->value);
        } else {
            sl_buf_printf(&b, "%s = ", v->name);
            sl_repr(&b, v->value);
        }
        fprintf(s->out, "%s\n", b.s);
        sl_buf_free(&b);
        shown++;
    }
    if (!shown)
        fprintf(s->out, "no variables or functions defined\n");
    return SL_RUN_OK;
}

static SlRunStatus cmd_replay(SlSession *s, const char *arg, SlError *err)
{
    if (!*arg) {
        const char *last = sl_replay_last();
        fprintf(s->out, "%s%s%s\n", sl_replay_enabled() ? "on" : "off", *last ? "; last loop: " : "", last);
        return SL_RUN_OK;
    }
    if (strcmp(arg, "on") == 0 || strcmp(arg, "off") == 0) {
        sl_replay_set(strcmp(arg, "on") == 0);
        return SL_RUN_OK;
    }
    usage(err, "replay");
    return SL_RUN_ERROR;
}

static SlRunStatus cmd_ad(SlSession *s, const char *arg, SlError *err)
{
    static const char *const names[] = {"reverse", "forward", "symbolic"};
    if (!*arg) {
        fprintf(s->out, "%s\n", names[s->ad_mode]);
        return SL_RUN_OK;
    }
    for (int i = 0; i < 3; i++)
        if (strcmp(arg, names[i]) == 0) {
            s->ad_mode = i;
            return SL_RUN_OK;
        }
    usage(err, "ad");
    return SL_RUN_ERROR;
}

static SlRunStatus cmd_seed(SlSession *s, const char *arg, SlError *err)
{
    long v;
    if (!*arg) {
        fprintf(s->out, "%lu\n", s->seed);
        return SL_RUN_OK;
    }
    if (!parse_long(arg, &v) || v < 0) {
        sl_err(err, SL_E_COMMAND_USAGE, ":seed N (a non-negative integer)");
        return SL_RUN_ERROR;
    }
    s->seed = (unsigned long)v;
    sl_tensor_manual_seed((uint64_t)v); /* :seed n is manual_seed(n) */
    return SL_RUN_OK;
}

static SlRunStatus cmd_reset(SlSession *s)
{
    sl_scope_free(&s->globals);
    sl_scope_init(&s->globals);
    sl_num_set_prec(53);
    sl_expr_set_style(SL_STYLE_UNICODE);
    s->seed = 0;
    sl_tensor_manual_seed(0);
    s->ad_mode = 0;
    return SL_RUN_OK;
}

static SlRunStatus cmd_load(SlSession *s, const char *arg, SlError *err)
{
    if (!*arg) {
        usage(err, "load");
        return SL_RUN_ERROR;
    }
    if (s->load_depth >= 16) {
        sl_err(err, SL_E_LIMIT, ":load nested more than 16 deep (does a file load itself?)");
        return SL_RUN_ERROR;
    }
    FILE *f = fopen(arg, "rb");
    if (!f) {
        sl_err(err, SL_E_IO, arg, strerror(errno));
        return SL_RUN_ERROR;
    }
    fclose(f);
    s->load_depth++;
    SlRunStatus st = sl_session_exec_file(s, arg);
    s->load_depth--;
    if (st == SL_RUN_ERROR) {
        /* the file's own error has been printed with its location: fail
         * (a script that loads it stops too) without a second message */
        sl_err(err, SL_E_IO, arg, "stopped at its first error");
        err->quiet = true;
        return SL_RUN_ERROR;
    }
    return st;
}

static SlRunStatus cmd_time(SlSession *s, const char *arg, SlError *err)
{
    if (!*arg) {
        usage(err, "time");
        return SL_RUN_ERROR;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    SlRunStatus st = sl_session_exec_text(s, NULL, arg, 1, true);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (secs < 1e-3)
        fprintf(s->out, "time: %.1f µs\n", secs * 1e6);
    else if (secs < 1)
        fprintf(s->out, "time: %.3f ms\n", secs * 1e3);
    else
        fprintf(s->out, "time: %.3f s\n", secs);
    return st == SL_RUN_ERROR ? SL_RUN_OK : st; /* its error is already printed */
}

SlRunStatus sl_command_run(SlSession *s, const SlAst *cmd, SlSource *src, SlError *err)
{
    const char *name = cmd->text, *arg = cmd->str ? cmd->str : "";
    (void)src;
    if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0)
        return sl_help(s, arg, err) ? SL_RUN_OK : SL_RUN_ERROR;
    if (strcmp(name, "precision") == 0)
        return cmd_precision(s, arg, err);
    if (strcmp(name, "digits") == 0)
        return cmd_digits(s, arg, err);
    if (strcmp(name, "style") == 0)
        return cmd_style(s, arg, err);
    if (strcmp(name, "vars") == 0)
        return *arg ? (usage(err, "vars"), SL_RUN_ERROR) : cmd_vars(s);
    if (strcmp(name, "load") == 0)
        return cmd_load(s, arg, err);
    if (strcmp(name, "save") == 0) {
        if (!*arg)
            return usage(err, "save"), SL_RUN_ERROR;
        return sl_session_save(s, arg, err) ? SL_RUN_OK : SL_RUN_ERROR;
    }
    if (strcmp(name, "reset") == 0)
        return *arg ? (usage(err, "reset"), SL_RUN_ERROR) : cmd_reset(s);
    if (strcmp(name, "seed") == 0)
        return cmd_seed(s, arg, err);
    if (strcmp(name, "time") == 0)
        return cmd_time(s, arg, err);
    if (strcmp(name, "ad") == 0)
        return cmd_ad(s, arg, err);
    if (strcmp(name, "replay") == 0)
        return cmd_replay(s, arg, err);
    if (strcmp(name, "quit") == 0 || strcmp(name, "q") == 0 || strcmp(name, "exit") == 0)
        return SL_RUN_QUIT;
    sl_err(err, SL_E_COMMAND_UNKNOWN, name);
    return SL_RUN_ERROR;
}

/* ---------------------------------------------------------------------------
 * :save -- a script that :load (or slope FILE) replays
 * ------------------------------------------------------------------------- */

/* Values that print as slope source: numbers, strings, bools, None, lists
 * and tuples of them, expressions (in ascii style). */
static bool saveable(const SlValue *v)
{
    switch (v->kind) {
    case SL_NONE:
    case SL_BOOL:
    case SL_INT:
    case SL_FLOAT:
    case SL_STR:
    case SL_EXPR: return true;
    case SL_LIST:
    case SL_TUPLE:
        for (size_t i = 0; i < v->u.list.len; i++)
            if (!saveable(v->u.list.items[i]))
                return false;
        return true;
    default: return false;
    }
}

bool sl_session_save(SlSession *s, const char *path, SlError *err)
{
    SlBuf b = {0};
    sl_buf_init(&b);
    sl_buf_puts(&b, "# slope session, written by :save; replay with :load or slope FILE\n");
    if (sl_num_prec() != 53)
        sl_buf_printf(&b, ":precision %ld\n", (long)sl_num_prec());
    SlStyle style = sl_expr_style();
    sl_expr_set_style(SL_STYLE_ASCII);
    for (size_t i = 0; i < s->globals.len; i++) {
        const SlVar *v = &s->globals.vars[i];
        if (!v->name)
            continue;
        if (v->value->kind == SL_FUNC && !v->value->u.func->def) {
            sl_buf_printf(&b, "%s = %s\n", v->name, v->value->u.func->name);
        } else if (v->value->kind == SL_FUNC) {
            const SlFunc *f = v->value->u.func;
            char *text = sl_ast_source_text(f->src, f->def);
            sl_buf_puts(&b, text);
            sl_buf_putc(&b, '\n');
            free(text);
            if (strcmp(f->name, v->name) != 0)
                sl_buf_printf(&b, "%s = %s\n", v->name, f->name);
        } else if (saveable(v->value)) {
            sl_buf_printf(&b, "%s = ", v->name);
            sl_repr(&b, v->value);
            sl_buf_putc(&b, '\n');
        } else {
            sl_buf_printf(&b, "# %s: a %s, which :save cannot write\n", v->name, sl_type_name(v->value));
        }
    }
    sl_expr_set_style(style);
    if (style != SL_STYLE_UNICODE)
        sl_buf_printf(&b, ":style %s\n", style_names[style]);
    FILE *f = fopen(path, "w");
    bool ok = f != NULL;
    if (ok) {
        ok = fwrite(b.s, 1, b.len, f) == b.len;
        ok = fclose(f) == 0 && ok;
    }
    if (!ok)
        sl_err(err, SL_E_IO, path, strerror(errno));
    sl_buf_free(&b);
    return ok;
}

const char *sl_command_at(size_t i)
{
    return i < sizeof sl_command_names / sizeof sl_command_names[0] ? sl_command_names[i] : NULL;
}
