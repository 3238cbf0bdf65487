/* main.c -- the command line.
 *
 *     slope                    the REPL (a script from stdin if it is not a tty)
 *     slope FILE...            run script files in one session
 *     slope -e 'STATEMENTS'    run statements (may repeat, mixes with FILEs)
 *     slope --check FILE...    replay transcripts
 *     slope --record FILE...   rewrite transcripts' expected output
 *
 * Exit status: 0 when everything ran (or every transcript matched), 1 at
 * the first error of a script or on any transcript mismatch, 2 for a bad
 * command line, 130 when Ctrl-C stopped a script or a replay.
 */
#include <errno.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "eval.h"
#include "repl.h"
#include "transcript.h"

static const char usage_text[] =
    "usage: slope [-q] [FILE... | -e STATEMENTS...]\n"
    "       slope --check FILE...\n"
    "       slope --record FILE...\n"
    "\n"
    "  slope                    interactive prompt (reads a script from standard\n"
    "                           input when it is not a terminal)\n"
    "  slope FILE...            run script files in order in one session; stop at\n"
    "                           the first error (exit status 1); - is standard input\n"
    "  -e, --eval STATEMENTS    run STATEMENTS; may be repeated and mixed with FILEs\n"
    "  --check FILE...          replay transcripts; print a diff and exit 1 on any\n"
    "                           difference\n"
    "  --record FILE...         rewrite transcripts in place with the actual output\n"
    "  -q, --quiet              no banner at the interactive prompt\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "\n"
    "At the prompt, :help shows the language and the session commands.\n";

static void usage_error(const char *fmt, const char *arg)
{
    fputs("slope: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    fputs(usage_text, stderr);
    exit(2);
}

/* One thing to run, in command-line order. */
typedef struct Job {
    const char *text; /* statements (-e) or a file name */
    bool is_eval;     /* -e */
} Job;

/* The command line's scripts and transcripts (static, so that an early
 * exit leaves nothing unreachable). */
static Job *jobs;
static char **files;

/* Read all of a stream; NULL on a read error. */
static char *slurp(FILE *f, size_t *len)
{
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) {
            if (ferror(f) && errno == EINTR && !sl_interrupted) {
                clearerr(f);
                continue;
            }
            break;
        }
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static SlRunStatus run_stdin(SlSession *s)
{
    size_t len;
    char *text = slurp(stdin, &len);
    if (!text) {
        if (sl_interrupted)
            fputs("slope: interrupted\n", stderr);
        else
            fprintf(stderr, "slope: <stdin>: %s\n", strerror(errno));
        return SL_RUN_ERROR;
    }
    sl_interrupted = 0;
    SlSource *src = sl_source_new("<stdin>", text, len, 1);
    free(text);
    SlRunStatus st = sl_session_exec(s, src, true);
    sl_source_unref(src);
    return st;
}

static int run_jobs(const Job *job, size_t n)
{
    SlSession *s = sl_session_new();
    sl_session_set_mode(s, SL_MODE_SCRIPT);
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        SlRunStatus st;
        sl_interrupted = 0;
        if (job[i].is_eval)
            st = sl_session_exec_text(s, "-e", job[i].text, 1, true);
        else if (strcmp(job[i].text, "-") == 0)
            st = run_stdin(s);
        else
            st = sl_session_exec_file(s, job[i].text);
        fflush(stdout);
        if (st == SL_RUN_QUIT)
            break;
        if (st != SL_RUN_OK) {
            status = sl_repl_sigints() > 0 ? 130 : 1;
            break;
        }
    }
    sl_session_free(s);
    return status;
}

static int run_transcripts(char **paths, size_t n, bool record)
{
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        if (!sl_transcript_run(paths[i], record, stdout))
            status = 1;
        if (sl_repl_sigints() > 0)
            return 130; /* Ctrl-C: stop, like any command interrupted */
    }
    return status;
}

static int run_repl(bool quiet)
{
    const char *force = getenv("SLOPE_FORCE_INTERACTIVE");
    bool forced = force && *force && strcmp(force, "0") != 0;
    if (!isatty(STDIN_FILENO) && !forced) {
        /* not a terminal: a script on standard input */
        Job in = {"-", false};
        return run_jobs(&in, 1);
    }
    SlSession *s = sl_session_new();
    char *hist = sl_repl_history_path();
    SlReplOptions opt = {
        .banner = !quiet,
        .plain = !isatty(STDIN_FILENO),
        .history = hist,
    };
    int status = sl_repl_run(s, &opt);
    free(hist);
    sl_session_free(s);
    return status;
}

int main(int argc, char **argv)
{
    /* Readline needs the character set to edit UTF-8 (x², π, η); numbers
     * keep the C locale's formatting.  A plain C locale is taken to mean
     * UTF-8, as Python does (PEP 538), unless LC_ALL insists; the variable
     * is set too because readline reads the environment itself. */
    const char *loc = setlocale(LC_CTYPE, "");
    const char *all = getenv("LC_ALL");
    if ((!loc || strcmp(loc, "C") == 0 || strcmp(loc, "POSIX") == 0) && (!all || !*all) &&
        setlocale(LC_CTYPE, "C.UTF-8"))
        setenv("LC_CTYPE", "C.UTF-8", 1);
    /* Results and errors interleave in order when both go to one pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    sl_repl_install_sigint();

    enum { RUN, CHECK, RECORD } action = RUN;
    bool quiet = false;
    jobs = calloc((size_t)argc, sizeof *jobs);
    files = calloc((size_t)argc, sizeof *files);
    if (!jobs || !files) {
        fputs("slope: out of memory\n", stderr);
        return 1;
    }
    size_t njobs = 0, nfiles = 0;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
            jobs[njobs++] = (Job){a, false};
            files[nfiles++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            options_done = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("slope %s\n", SL_VERSION);
            return 0;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "--check") == 0 || strcmp(a, "--record") == 0) {
            int want = a[2] == 'c' ? CHECK : RECORD;
            if (action != RUN && (int)action != want)
                usage_error("%s: --check and --record do not go together", a);
            action = want;
        } else if (strcmp(a, "-e") == 0 || strcmp(a, "--eval") == 0) {
            if (i + 1 >= argc)
                usage_error("option %s needs an argument (the statements to run)", a);
            jobs[njobs++] = (Job){argv[++i], true};
        } else if (strncmp(a, "--eval=", 7) == 0) {
            jobs[njobs++] = (Job){a + 7, true};
        } else if (strncmp(a, "-e", 2) == 0) {
            jobs[njobs++] = (Job){a + 2, true};
        } else {
            usage_error("unknown option '%s'", a);
        }
    }

    int status;
    if (action != RUN) {
        if (njobs != nfiles)
            usage_error("%s takes transcript files, not -e", action == CHECK ? "--check" : "--record");
        if (nfiles == 0)
            usage_error("%s needs at least one transcript file",
                        action == CHECK ? "--check" : "--record");
        status = run_transcripts(files, nfiles, action == RECORD);
    } else if (njobs > 0) {
        status = run_jobs(jobs, njobs);
    } else {
        status = run_repl(quiet);
    }
    free(jobs);
    free(files);
    fflush(stdout);
    return status;
}
