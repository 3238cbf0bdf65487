/* repl.c -- the interactive prompt: readline, history, completion, Ctrl-C.
 *
 * Readline is driven through its callback interface: the loop waits in
 * pselect() with SIGINT, SIGWINCH and SIGTSTP blocked everywhere except
 * inside that wait, so a signal can only arrive while we sleep and is seen
 * the moment pselect returns EINTR (no lost wake-ups, no longjmp out of a
 * handler, no readline calls from a handler).  Ctrl-C there throws away
 * the line being edited and the pending continuation lines; Ctrl-Z puts
 * the terminal back before stopping; a resize is passed on to readline.
 *
 * While a statement runs the terminal is in its normal mode and SIGINT is
 * unblocked: the handler sets sl_interrupted, which the evaluator polls.
 *
 * The text of one statement (its first line and every continuation line)
 * is one history entry, written to the history file as soon as it is
 * complete and before it runs, so a crash loses nothing.  In the file an
 * entry is one line: a backslash is written "\\" and a newline "\n".
 */
#include "repl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "builtins.h"
#include "config.h"
#include "parser.h"

#define PROMPT "> "
#define PROMPT_MORE "... "
#define HISTORY_KEEP 1000 /* entries kept in memory and in the file */

/* ------------------------------------------------------------------ */
/* Signals                                                             */

static volatile sig_atomic_t got_winch; /* the terminal was resized */
static volatile sig_atomic_t got_tstp;  /* Ctrl-Z while reading */
static volatile sig_atomic_t extra_int; /* Ctrl-C's not yet noticed */
static volatile sig_atomic_t sigints;   /* Ctrl-C's since the start */
static volatile sig_atomic_t reading;   /* the prompt is waiting for a key */
static bool tty_echo;                   /* the terminal echoes "^C" */

static void on_sigint(int sig)
{
    sigints++;
    if (sl_interrupted) {
        /* The evaluator has not polled since the first Ctrl-C: after two
         * more, stop for good. */
        if (++extra_int >= 2) {
            static const char msg[] = "\nslope: interrupted\n";
            ssize_t r = write(STDERR_FILENO, msg, sizeof msg - 1);
            (void)r;
            signal(sig, SIG_DFL);
            raise(sig);
        }
        return;
    }
    extra_int = 0;
    sl_interrupted = 1;
    /* The terminal has echoed "^C"; start the error message on a line of
     * its own (at the prompt, cancel_line does this). */
    if (tty_echo && !reading) {
        ssize_t r = write(STDERR_FILENO, "\n", 1);
        (void)r;
    }
}

static void on_sigwinch(int sig)
{
    (void)sig;
    got_winch = 1;
}

static void on_sigtstp(int sig)
{
    (void)sig;
    got_tstp = 1;
}

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking reads return EINTR */
    sigaction(sig, &sa, NULL);
}

long sl_repl_sigints(void)
{
    return (long)sigints;
}

void sl_repl_install_sigint(void)
{
    tty_echo = isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
    set_handler(SIGINT, on_sigint);
}

/* ------------------------------------------------------------------ */
/* History                                                             */

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        fputs("slope: out of memory\n", stderr);
        exit(1);
    }
    return d;
}

static char *path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p) {
        fputs("slope: out of memory\n", stderr);
        exit(1);
    }
    memcpy(p, a, la);
    size_t n = la;
    if (n == 0 || p[n - 1] != '/')
        p[n++] = '/';
    memcpy(p + n, b, lb + 1);
    return p;
}

/* mkdir -p for the directory part of path; quiet on failure (opening the
 * file will report it). */
static void make_parent_dirs(const char *path)
{
    char *d = xstrdup(path);
    char *slash = strrchr(d, '/');
    if (slash && slash != d) {
        *slash = '\0';
        for (char *p = d + 1; *p; p++) {
            if (*p == '/') {
                *p = '\0';
                mkdir(d, 0700);
                *p = '/';
            }
        }
        mkdir(d, 0700);
    }
    free(d);
}

char *sl_repl_history_path(void)
{
    const char *env = getenv("SLOPE_HISTORY");
    if (env)
        return *env ? xstrdup(env) : NULL;
    const char *state = getenv("XDG_STATE_HOME");
    if (state && *state == '/') {
        char *dir = path_join(state, "slope");
        char *p = path_join(dir, "history");
        free(dir);
        return p;
    }
    const char *home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    return path_join(home, ".slope_history");
}

/* One entry as one line of the file. */
static void hist_write_entry(FILE *f, const char *entry)
{
    for (const char *p = entry; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else
            putc(*p, f);
    }
    putc('\n', f);
}

/* Undo hist_write_entry in place (line without its newline). */
static void hist_unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '\\' && r[1] == 'n') {
            *w++ = '\n';
            r++;
        } else if (*r == '\\' && r[1] == '\\') {
            *w++ = '\\';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

typedef struct History {
    char *path;     /* the file, or NULL for none */
    bool warned;    /* a write failure was reported */
} History;

static void hist_load(History *h)
{
    if (!h->path)
        return;
    FILE *f = fopen(h->path, "r");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long count = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        hist_unescape(line);
        add_history(line);
        count++;
    }
    free(line);
    fclose(f);
    /* The file only grows as entries are appended; trim it now and then so
     * that it holds about the entries kept in memory. */
    if (count > 2 * HISTORY_KEEP) {
        char *tmp = malloc(strlen(h->path) + 8);
        if (!tmp)
            return;
        sprintf(tmp, "%s.tmp", h->path);
        FILE *out = fopen(tmp, "w");
        if (out) {
            for (int i = 0; i < history_length; i++) {
                HIST_ENTRY *e = history_get(history_base + i);
                if (e)
                    hist_write_entry(out, e->line);
            }
            if (fclose(out) == 0)
                rename(tmp, h->path);
            else
                remove(tmp);
        }
        free(tmp);
    }
}

/* Add an entry to memory and append it to the file at once. */
static void hist_add(History *h, const char *text)
{
    if (!*text || *text == ' ')
        return; /* a leading space keeps a line out of history, as in bash */
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
                     text[n - 1] == '\t'))
        n--;
    if (n == 0)
        return;
    char *entry = strndup(text, n);
    if (!entry)
        return;
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    if (!last || strcmp(last->line, entry) != 0) {
        add_history(entry);
        FILE *f = h->path ? fopen(h->path, "a") : NULL;
        if (h->path && (!f || (hist_write_entry(f, entry), fclose(f) != 0))) {
            if (!h->warned)
                fprintf(stderr, "slope: cannot write history file %s: %s\n", h->path,
                        strerror(errno));
            h->warned = true;
        }
    }
    free(entry);
}

/* ------------------------------------------------------------------ */
/* Completion                                                          */

typedef enum { C_COMMAND, C_KEYWORD, C_BUILTIN, C_FUNCTION, C_VARIABLE } CandKind;

typedef struct Cand {
    char *name;    /* malloc'd */
    CandKind kind; /* decides what is appended to a unique match */
} Cand;

static SlSession *comp_session; /* the session being completed against */
static bool comp_pending;       /* continuation lines are pending */
static Cand *cands;             /* candidates of the current attempt */
static size_t ncands, capcands;
static size_t cand_next;        /* generator position */

static const char *const keywords[] = {
    "and", "break", "continue", "def", "else", "False", "false", "for", "if", "in",
    "no_grad", "None", "none", "not", "optimizer", "or", "return", "state", "True",
    "true", "while", NULL,
};

/* Prefixes accepted before builtin names (PyTorch's module paths). */
static const char *const prefixes[] = {
    "torch.nn.functional.", "torch.nn.", "torch.optim.", "torch.", "nn.functional.", "nn.",
    "optim.", "math.", "np.", "F.", NULL,
};

/* Names that are neither builtins nor keywords: constants and modules. */
static const char *const constants[] = {
    "pi", "e", "inf", "nan", "torch", "nn", "optim", "math", "np", "F", NULL,
};

static void cands_clear(void)
{
    for (size_t i = 0; i < ncands; i++)
        free(cands[i].name);
    ncands = 0;
    cand_next = 0;
}

static void cand_add(const char *prefix, const char *name, CandKind kind)
{
    if (ncands == capcands) {
        size_t cap = capcands ? 2 * capcands : 64;
        Cand *n = realloc(cands, cap * sizeof *n);
        if (!n)
            return;
        cands = n;
        capcands = cap;
    }
    size_t lp = strlen(prefix), ln = strlen(name);
    char *s = malloc(lp + ln + 1);
    if (!s)
        return;
    memcpy(s, prefix, lp);
    memcpy(s + lp, name, ln + 1);
    cands[ncands].name = s;
    cands[ncands].kind = kind;
    ncands++;
}

static void add_commands(const char *text)
{
    size_t n = strlen(text);
    const char *c;
    for (size_t i = 0; (c = sl_command_at(i)); i++)
        if (strncmp(c, text, n) == 0)
            cand_add("", c, C_COMMAND);
}

static void add_builtins(const char *prefix, const char *text, CandKind kind)
{
    size_t n = strlen(text);
    const SlBuiltin *b;
    for (size_t i = 0; (b = sl_builtin_at(i)); i++) {
        if (*prefix && strchr(b->name, '.'))
            continue;
        if (strncmp(b->name, text, n) == 0)
            cand_add(prefix, b->name, kind);
    }
}

typedef struct NameCtx {
    const char *text; /* the prefix typed */
    size_t len;       /* its length */
} NameCtx;

static void each_user_name(const char *name, const char *kind, void *data)
{
    NameCtx *c = data;
    if (strncmp(name, c->text, c->len) == 0)
        cand_add("", name, strcmp(kind, "function") == 0 ? C_FUNCTION : C_VARIABLE);
}

static void add_names(const char *text)
{
    for (size_t i = 0; prefixes[i]; i++) {
        size_t lp = strlen(prefixes[i]);
        if (strncmp(text, prefixes[i], lp) == 0) {
            add_builtins(prefixes[i], text + lp, C_BUILTIN);
            return;
        }
    }
    size_t n = strlen(text);
    for (size_t i = 0; keywords[i]; i++)
        if (strncmp(keywords[i], text, n) == 0)
            cand_add("", keywords[i], C_KEYWORD);
    for (size_t i = 0; constants[i]; i++)
        if (strncmp(constants[i], text, n) == 0)
            cand_add("", constants[i], C_VARIABLE);
    add_builtins("", text, C_BUILTIN);
    NameCtx ctx = {text, n};
    if (comp_session)
        sl_session_each_name(comp_session, each_user_name, &ctx);
}

/* Readline's generator: hands out the candidates collected by complete()
 * (already filtered by prefix), one per call. */
static char *cand_generator(const char *text, int state)
{
    (void)text;
    if (state == 0)
        cand_next = 0;
    return cand_next < ncands ? xstrdup(cands[cand_next++].name) : NULL;
}

static CandKind kind_of(const char *name)
{
    for (size_t i = 0; i < ncands; i++)
        if (strcmp(cands[i].name, name) == 0)
            return cands[i].kind;
    return C_VARIABLE;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    const char *line = rl_line_buffer;
    int i0 = 0;
    while (line[i0] == ' ' || line[i0] == '\t')
        i0++;
    rl_attempted_completion_over = 1; /* no file names unless asked below */
    cands_clear();
    bool command_line = !comp_pending && line[i0] == ':';
    if (command_line && start == i0 + 1) {
        add_commands(text);
    } else if (command_line) {
        /* the command's name, then its argument */
        int j = i0 + 1;
        while (line[j] && line[j] != ' ' && line[j] != '\t')
            j++;
        size_t clen = (size_t)(j - i0 - 1);
        const char *cmd = line + i0 + 1;
        if ((clen == 4 && strncmp(cmd, "load", 4) == 0) ||
            (clen == 4 && strncmp(cmd, "save", 4) == 0)) {
            rl_attempted_completion_over = 0; /* readline's file names */
            return NULL;
        }
        if (clen == 4 && strncmp(cmd, "help", 4) == 0) {
            add_commands(text);
            add_builtins("", text, C_COMMAND);
        } else if (clen == 5 && strncmp(cmd, "style", 5) == 0) {
            static const char *const styles[] = {"unicode", "ascii", "latex", NULL};
            for (size_t k = 0; styles[k]; k++)
                if (strncmp(styles[k], text, strlen(text)) == 0)
                    cand_add("", styles[k], C_KEYWORD);
        } else if (clen == 2 && strncmp(cmd, "ad", 2) == 0) {
            static const char *const modes[] = {"symbolic", "forward", "reverse", NULL};
            for (size_t k = 0; modes[k]; k++)
                if (strncmp(modes[k], text, strlen(text)) == 0)
                    cand_add("", modes[k], C_KEYWORD);
        } else if (clen == 4 && strncmp(cmd, "time", 4) == 0) {
            add_names(text);
        }
    } else {
        /* a string literal is not completed */
        int quotes = 0;
        for (int k = 0; k < start; k++)
            if (line[k] == '"' && (k == 0 || line[k - 1] != '\\'))
                quotes++;
        if (quotes % 2 == 0)
            add_names(text);
    }
    if (ncands == 0)
        return NULL;
    char **m = rl_completion_matches(text, cand_generator);
    if (m && m[0] && !m[1]) {
        switch (kind_of(m[0])) {
        case C_BUILTIN:
        case C_FUNCTION: rl_completion_append_character = '('; break;
        case C_VARIABLE: rl_completion_append_character = '\0'; break;
        default: rl_completion_append_character = ' '; break;
        }
    }
    return m;
}

/* ------------------------------------------------------------------ */
/* Running what was typed                                              */

typedef struct Repl {
    SlSession *s;      /* borrowed */
    History hist;      /* the history file */
    SlBuf pending;     /* lines of an incomplete statement */
    bool quit;         /* :quit was run or input ended */
} Repl;

/* Does text end in the middle of a statement? */
static bool is_incomplete(const char *text)
{
    SlSource *src = sl_source_new(NULL, text, strlen(text), 1);
    SlAst *ast = NULL;
    SlError err = {0};
    SlParseStatus st = sl_parse(src, &ast, &err);
    sl_err_clear(&err);
    sl_source_unref(src);
    return st == SL_PARSE_INCOMPLETE;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

/* One line (or a pasted block) typed at the prompt. */
static void submit(Repl *r, const char *line)
{
    if (r->pending.len == 0 && blank(line))
        return;
    if (r->pending.len)
        sl_buf_putc(&r->pending, '\n');
    sl_buf_puts(&r->pending, line);
    const char *text = r->pending.s;
    if (is_incomplete(text))
        return;
    hist_add(&r->hist, text);
    SlSource *src = sl_source_new(NULL, text, r->pending.len, 1);
    sl_interrupted = 0;
    SlRunStatus st = sl_session_exec(r->s, src, false);
    sl_interrupted = 0;
    sl_source_unref(src);
    fflush(stdout);
    fflush(stderr);
    if (st == SL_RUN_INCOMPLETE)
        return; /* the parser wants more after all: keep the lines */
    r->pending.len = 0;
    r->pending.s[0] = '\0';
    if (st == SL_RUN_QUIT)
        r->quit = true;
}

static void drop_pending(Repl *r)
{
    r->pending.len = 0;
    if (r->pending.s)
        r->pending.s[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* The readline loop                                                   */

static char *rl_got;     /* the line readline handed over */
static bool rl_have;     /* a line (or end of input) arrived */

static void on_line(char *line)
{
    rl_callback_handler_remove();
    rl_got = line;
    rl_have = true;
}

/* Ctrl-C while editing: forget the line and the pending input. */
static void cancel_line(Repl *r)
{
    rl_free_line_state();
    rl_callback_sigcleanup();
    rl_echo_signal_char(SIGINT);
    rl_cleanup_after_signal();
    rl_callback_handler_remove();
    fputs("\n", rl_outstream);
    fflush(rl_outstream);
    drop_pending(r);
}

/* Ctrl-Z while editing: put the terminal back, stop, and pick up again. */
static void suspend(void)
{
    rl_cleanup_after_signal();
    set_handler(SIGTSTP, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTSTP);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGTSTP); /* stops here until fg */
    sigprocmask(SIG_BLOCK, &set, NULL);
    set_handler(SIGTSTP, on_sigtstp);
    rl_reset_after_signal();
    rl_forced_update_display();
}

/* Wait for one line.  Returns it (malloc'd; NULL at end of input); a
 * Ctrl-C returns "" after clearing the pending input. */
static char *read_line(Repl *r)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGWINCH);
    sigaddset(&block, SIGTSTP);
    sigprocmask(SIG_BLOCK, &block, &old);
    reading = 1;
    set_handler(SIGWINCH, on_sigwinch);
    set_handler(SIGTSTP, on_sigtstp);

    sl_interrupted = 0;
    comp_pending = r->pending.len > 0;
    rl_have = false;
    rl_got = NULL;
    static bool started;
    if (started)
        rl_reset_screen_size(); /* the window may have changed while a statement ran */
    started = true;
    rl_callback_handler_install(r->pending.len ? PROMPT_MORE : PROMPT, on_line);
    char *result = NULL;
    int fd = fileno(rl_instream);
    while (!rl_have) {
        if (sl_interrupted) {
            sl_interrupted = 0;
            cancel_line(r);
            result = xstrdup("");
            break;
        }
        if (got_winch) {
            got_winch = 0;
            rl_resize_terminal();
        }
        if (got_tstp) {
            got_tstp = 0;
            suspend();
        }
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(fd, &fds);
        int n = pselect(fd + 1, &fds, NULL, NULL, NULL, &old);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rl_callback_handler_remove();
            rl_have = true; /* treat as end of input */
            break;
        }
        if (n > 0)
            rl_callback_read_char();
    }
    if (rl_have)
        result = rl_got;

    set_handler(SIGWINCH, SIG_DFL);
    set_handler(SIGTSTP, SIG_DFL);
    reading = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    return result;
}

static void init_readline(Repl *r)
{
    rl_readline_name = "slope";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_attempted_completion_function = complete;
    /* '.' and '_' stay inside words (torch.zeros, no_grad); ':' breaks so
     * that ":pre" completes "pre". */
    rl_completer_word_break_characters = (char *)" \t\n\"'`@$><=;|&{}()[],+-*/%^:!";
    rl_completer_quote_characters = "\"";
    rl_basic_quote_characters = "\"";
    comp_session = r->s;
    rl_initialize();
    if (MB_CUR_MAX == 1) {
        /* not a UTF-8 locale: at least let the bytes of x² and π through
         * instead of reading them as Meta keys */
        rl_variable_bind("input-meta", "on");
        rl_variable_bind("output-meta", "on");
        rl_variable_bind("convert-meta", "off");
    }
    stifle_history(HISTORY_KEEP);
    using_history();
}

static int run_readline(Repl *r)
{
    init_readline(r);
    hist_load(&r->hist);
    while (!r->quit) {
        char *line = read_line(r);
        if (!line) {
            /* Ctrl-D: end the session (on a fresh line) */
            fputs("\n", rl_outstream);
            break;
        }
        submit(r, line);
        free(line);
    }
    rl_callback_handler_remove();
    cands_clear();
    free(cands);
    cands = NULL;
    capcands = 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Without a terminal (SLOPE_FORCE_INTERACTIVE on a pipe): prompts on     */
/* stdout, lines from stdin, the same history.                          */

static int run_plain(Repl *r)
{
    using_history();
    stifle_history(HISTORY_KEEP);
    hist_load(&r->hist);
    char *line = NULL;
    size_t cap = 0;
    while (!r->quit) {
        fputs(r->pending.len ? PROMPT_MORE : PROMPT, stdout);
        fflush(stdout);
        errno = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0) {
            if (errno == EINTR && sl_interrupted) {
                clearerr(stdin);
                sl_interrupted = 0;
                fputs("\n", stdout);
                drop_pending(r);
                continue;
            }
            fputs("\n", stdout);
            break;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        submit(r, line);
    }
    free(line);
    return 0;
}

int sl_repl_run(SlSession *s, const SlReplOptions *opt)
{
    Repl r = {.s = s};
    r.hist.path = opt->history ? xstrdup(opt->history) : NULL;
    sl_buf_init(&r.pending);
    if (r.hist.path && !getenv("SLOPE_HISTORY"))
        make_parent_dirs(r.hist.path);
    sl_session_set_mode(s, SL_MODE_INTERACTIVE);
    if (opt->banner) {
        printf("slope %s \xe2\x80\x94 :help for help, :quit to leave\n", SL_VERSION);
        fflush(stdout);
    }
    int status = opt->plain ? run_plain(&r) : run_readline(&r);
    sl_buf_free(&r.pending);
    free(r.hist.path);
    clear_history();
    return status;
}
