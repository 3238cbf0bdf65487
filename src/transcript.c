/* transcript.c -- slope --check and slope --record.
 *
 * A file is read into lines and cut into entries: an entry is an input
 * (its "> " line and the "... " lines right after it) and its body, the
 * lines up to the next input.  The body's comment lines are set aside and
 * what remains, less trailing blank lines, is the expected output.
 *
 * Each input runs in one session per file with the session's output and
 * error streams pointed at one memory stream, so that results and errors
 * interleave as a user would see them.  Lines compare with trailing blanks
 * ignored (editors strip them).
 *
 * The diff is taken between the file and the file as --record would write
 * it, so its line numbers refer to the transcript and applying it gives
 * the recorded file.  The edit script is built entry by entry (inputs and
 * comments are the same on both sides, so an entry never lines up with
 * another one), with an LCS table per differing entry, and then printed as
 * unified hunks with three lines of context.
 */
#include "transcript.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "repl.h"

#define CONTEXT 3               /* lines of context around a hunk */
#define LCS_MAX_CELLS 4000000u  /* above this an entry is diffed as a block */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("slope: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("slope: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

/* ------------------------------------------------------------------ */
/* Lines                                                               */

typedef struct Lines {
    char **v;   /* NUL-terminated lines without their line end (owned) */
    size_t n;   /* number of lines */
    size_t cap; /* allocated slots */
} Lines;

static void lines_push(Lines *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    char *c = xmalloc(len + 1);
    memcpy(c, s, len);
    c[len] = '\0';
    l->v[l->n++] = c;
}

static void lines_free(Lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Split text into lines: "\n" or "\r\n" ends a line; a last line without
 * a line end still counts.  *crlf tells whether the first line ended in
 * "\r\n". */
static void split_lines(Lines *l, const char *text, size_t len, bool *crlf)
{
    size_t start = 0;
    if (crlf)
        *crlf = false;
    for (size_t i = 0; i <= len; i++) {
        if (i == len && start == len)
            break;
        if (i == len || text[i] == '\n') {
            size_t end = i;
            if (end > start && text[end - 1] == '\r') {
                end--;
                if (crlf && l->n == 0)
                    *crlf = true;
            }
            lines_push(l, text + start, end - start);
            start = i + 1;
        }
    }
}

static bool is_blank(const char *s)
{
    return s[strspn(s, " \t\r")] == '\0';
}

/* Equal except for trailing blanks. */
static bool line_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 0 && (a[la - 1] == ' ' || a[la - 1] == '\t'))
        la--;
    while (lb > 0 && (b[lb - 1] == ' ' || b[lb - 1] == '\t'))
        lb--;
    return la == lb && memcmp(a, b, la) == 0;
}

static bool is_input(const char *s)
{
    return (s[0] == '>' && s[1] == ' ') || strcmp(s, ">") == 0;
}

static bool is_continuation(const char *s)
{
    return strncmp(s, "... ", 4) == 0 || strcmp(s, "...") == 0;
}

/* A comment inside an expected output: "#" alone or "# ..." */
static bool is_body_comment(const char *s)
{
    return (s[0] == '#' && s[1] == ' ') || strcmp(s, "#") == 0;
}

/* ------------------------------------------------------------------ */
/* Entries                                                             */

typedef struct Entry {
    size_t first;     /* index of the "> " line */
    size_t body;      /* index of the first line after the input */
    size_t end;       /* index just past the body */
    char *src;        /* the input with prefixes stripped (owned) */
    Lines actual;     /* what it printed, trailing blank lines dropped */
    bool ran;         /* it was run (not after :quit) */
    bool differs;     /* actual differs from expected */
} Entry;

typedef struct Transcript {
    const char *path; /* file name */
    Lines file;       /* its lines */
    bool crlf;        /* it uses CRLF line ends */
    size_t preamble;  /* lines before the first input */
    Entry *e;         /* the entries */
    size_t ne;        /* their number */
    bool interrupted; /* Ctrl-C stopped the replay */
} Transcript;

/* Expected output of an entry: body lines that are not comments, trailing
 * blank lines dropped.  Stores file indices in *out (caller frees). */
static size_t expected_lines(const Transcript *t, const Entry *e, size_t **out)
{
    size_t *idx = xmalloc((e->end - e->body) * sizeof *idx);
    size_t n = 0;
    for (size_t i = e->body; i < e->end; i++)
        if (!is_body_comment(t->file.v[i]))
            idx[n++] = i;
    while (n > 0 && is_blank(t->file.v[idx[n - 1]]))
        n--;
    *out = idx;
    return n;
}

/* Cut the file into entries; false (with a message) on a malformed file. */
static bool parse(Transcript *t, FILE *report)
{
    Lines *f = &t->file;
    size_t i = 0;
    while (i < f->n && !is_input(f->v[i])) {
        if (!is_blank(f->v[i]) && f->v[i][0] != '#') {
            fprintf(report,
                    "%s:%zu: error: text before the first input (inputs start with '> ', "
                    "comments with '#')\n",
                    t->path, i + 1);
            return false;
        }
        i++;
    }
    t->preamble = i;
    size_t cap = 0;
    while (i < f->n) {
        if (t->ne == cap) {
            cap = cap ? 2 * cap : 32;
            t->e = xrealloc(t->e, cap * sizeof *t->e);
        }
        Entry *e = &t->e[t->ne++];
        memset(e, 0, sizeof *e);
        e->first = i;
        SlBuf src;
        sl_buf_init(&src);
        const char *s = f->v[i];
        sl_buf_puts(&src, s[1] ? s + 2 : s + 1);
        i++;
        while (i < f->n && is_continuation(f->v[i])) {
            s = f->v[i];
            sl_buf_putc(&src, '\n');
            sl_buf_puts(&src, s[3] ? s + 4 : s + 3);
            i++;
        }
        e->src = sl_buf_take(&src);
        sl_buf_free(&src);
        e->body = i;
        while (i < f->n && !is_input(f->v[i]))
            i++;
        e->end = i;
    }
    return true;
}

static void transcript_free(Transcript *t)
{
    for (size_t i = 0; i < t->ne; i++) {
        free(t->e[i].src);
        lines_free(&t->e[i].actual);
    }
    free(t->e);
    lines_free(&t->file);
}

static bool read_file(const char *path, char **text, size_t *len, FILE *report)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(report, "slope: %s: %s\n", path, strerror(errno));
        return false;
    }
    size_t cap = 8192, n = 0;
    char *buf = xmalloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            buf = xrealloc(buf, cap *= 2);
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(report, "slope: %s: read error\n", path);
        free(buf);
        return false;
    }
    *text = buf;
    *len = n;
    return true;
}

/* Run every input; fill in actual and differs. */
static void run_all(Transcript *t)
{
    SlSession *s = sl_session_new();
    sl_session_set_mode(s, SL_MODE_CHECK);
    for (size_t k = 0; k < t->ne; k++) {
        Entry *e = &t->e[k];
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m) {
            fputs("slope: out of memory\n", stderr);
            exit(1);
        }
        sl_session_set_output(s, m, m);
        SlSource *src = sl_source_new(NULL, e->src, strlen(e->src), 1);
        long ints = sl_repl_sigints();
        sl_interrupted = 0;
        SlRunStatus st = sl_session_exec(s, src, true);
        sl_source_unref(src);
        fclose(m);
        sl_session_set_output(s, stdout, stderr);
        e->ran = true;
        split_lines(&e->actual, buf, len, NULL);
        free(buf);
        while (e->actual.n > 0 && is_blank(e->actual.v[e->actual.n - 1]))
            free(e->actual.v[--e->actual.n]);

        size_t *exp;
        size_t ne = expected_lines(t, e, &exp);
        e->differs = ne != e->actual.n;
        for (size_t j = 0; !e->differs && j < ne; j++)
            e->differs = !line_eq(t->file.v[exp[j]], e->actual.v[j]);
        free(exp);
        if (sl_repl_sigints() != ints) {
            t->interrupted = true;
            break;
        }
        if (st == SL_RUN_QUIT)
            break;
    }
    sl_session_free(s);
}

/* ------------------------------------------------------------------ */
/* The recorded file                                                   */

/* Where each line of the recorded file comes from: a line of the
 * transcript (old >= 0) or of an entry's actual output. */
typedef struct NewLine {
    const char *s; /* its text (borrowed) */
    long old;      /* index in the transcript, or -1 for a new line */
} NewLine;

typedef struct NewFile {
    NewLine *v;  /* lines */
    size_t n;    /* number */
    size_t cap;  /* allocated */
} NewFile;

static void nf_push(NewFile *nf, const char *s, long old)
{
    if (nf->n == nf->cap) {
        nf->cap = nf->cap ? 2 * nf->cap : 64;
        nf->v = xrealloc(nf->v, nf->cap * sizeof *nf->v);
    }
    nf->v[nf->n].s = s;
    nf->v[nf->n].old = old;
    nf->n++;
}

/* Append entry e as --record writes it: unchanged when it matched, else
 * its input, the comments that led its body, the actual output, the
 * comments that were among the old output, and the trailing blank and
 * comment lines. */
static void record_entry(const Transcript *t, const Entry *e, NewFile *nf)
{
    char **v = t->file.v;
    if (!e->differs) {
        for (size_t i = e->first; i < e->end; i++)
            nf_push(nf, v[i], (long)i);
        return;
    }
    for (size_t i = e->first; i < e->body; i++)
        nf_push(nf, v[i], (long)i);
    /* trailing blank and comment lines stay after the output; comments
     * that lead an old output (before its first output line) stay before */
    size_t tail = e->end;
    while (tail > e->body && (is_blank(v[tail - 1]) || is_body_comment(v[tail - 1])))
        tail--;
    size_t lead = e->body;
    while (lead < tail && is_body_comment(v[lead]))
        lead++;
    for (size_t i = e->body; i < lead; i++)
        nf_push(nf, v[i], (long)i);
    for (size_t j = 0; j < e->actual.n; j++)
        nf_push(nf, e->actual.v[j], -1);
    for (size_t i = lead; i < tail; i++)
        if (is_body_comment(v[i]))
            nf_push(nf, v[i], (long)i);
    for (size_t i = tail; i < e->end; i++)
        nf_push(nf, v[i], (long)i);
}

/* ------------------------------------------------------------------ */
/* Diff                                                                */

typedef enum { OP_EQ, OP_DEL, OP_INS } OpKind;

typedef struct Op {
    OpKind kind;     /* what */
    const char *s;   /* the line to show */
} Op;

typedef struct Script {
    Op *v;      /* operations in order */
    size_t n;   /* number */
    size_t cap; /* allocated */
} Script;

static void op_push(Script *sc, OpKind kind, const char *s)
{
    if (sc->n == sc->cap) {
        sc->cap = sc->cap ? 2 * sc->cap : 128;
        sc->v = xrealloc(sc->v, sc->cap * sizeof *sc->v);
    }
    sc->v[sc->n].kind = kind;
    sc->v[sc->n].s = s;
    sc->n++;
}

/* Diff old lines a[0..na) against new lines b[0..nb): longest common
 * subsequence by dynamic programming, deletions before insertions. */
static void diff_block(char *const *a, size_t na, const NewLine *b, size_t nb, Script *sc)
{
    /* common prefix and suffix first: usually that is nearly all */
    size_t pre = 0;
    while (pre < na && pre < nb && line_eq(a[pre], b[pre].s))
        op_push(sc, OP_EQ, a[pre++]);
    size_t suf = 0;
    while (suf < na - pre && suf < nb - pre && line_eq(a[na - 1 - suf], b[nb - 1 - suf].s))
        suf++;
    size_t n = na - pre - suf, m = nb - pre - suf;
    char *const *x = a + pre;
    const NewLine *y = b + pre;
    if (n == 0 || m == 0 || (n + 1) * (m + 1) > LCS_MAX_CELLS) {
        for (size_t i = 0; i < n; i++)
            op_push(sc, OP_DEL, x[i]);
        for (size_t j = 0; j < m; j++)
            op_push(sc, OP_INS, y[j].s);
    } else {
        /* L[i][j] = LCS length of x[i..n) and y[j..m) */
        unsigned *L = xmalloc((n + 1) * (m + 1) * sizeof *L);
#define AT(i, j) L[(i) * (m + 1) + (j)]
        for (size_t i = n + 1; i-- > 0;)
            for (size_t j = m + 1; j-- > 0;) {
                if (i == n || j == m)
                    AT(i, j) = 0;
                else if (line_eq(x[i], y[j].s))
                    AT(i, j) = AT(i + 1, j + 1) + 1;
                else
                    AT(i, j) = AT(i + 1, j) >= AT(i, j + 1) ? AT(i + 1, j) : AT(i, j + 1);
            }
        size_t i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && line_eq(x[i], y[j].s)) {
                op_push(sc, OP_EQ, x[i]);
                i++, j++;
            } else if (i < n && (j == m || AT(i + 1, j) >= AT(i, j + 1))) {
                op_push(sc, OP_DEL, x[i++]);
            } else {
                op_push(sc, OP_INS, y[j++].s);
            }
        }
#undef AT
        free(L);
    }
    for (size_t k = 0; k < suf; k++)
        op_push(sc, OP_EQ, a[na - suf + k]);
}

static void print_range(FILE *out, size_t start, size_t count)
{
    /* unified diff: an empty range names the line before it */
    if (count == 0)
        fprintf(out, "%zu,0", start);
    else if (count == 1)
        fprintf(out, "%zu", start + 1);
    else
        fprintf(out, "%zu,%zu", start + 1, count);
}

/* Print the script as unified hunks. */
static void print_diff(const char *path, const Script *sc, FILE *out)
{
    fprintf(out, "--- %s (expected)\n+++ %s (actual)\n", path, path);
    size_t *oldno = xmalloc((sc->n + 1) * sizeof *oldno); /* old lines before op k */
    size_t *newno = xmalloc((sc->n + 1) * sizeof *newno);
    oldno[0] = newno[0] = 0;
    for (size_t k = 0; k < sc->n; k++) {
        oldno[k + 1] = oldno[k] + (sc->v[k].kind != OP_INS);
        newno[k + 1] = newno[k] + (sc->v[k].kind != OP_DEL);
    }
    size_t k = 0;
    while (k < sc->n) {
        while (k < sc->n && sc->v[k].kind == OP_EQ)
            k++;
        if (k == sc->n)
            break;
        size_t start = k >= CONTEXT ? k - CONTEXT : 0;
        /* extend while the next change is within 2*CONTEXT equal lines */
        size_t end = k;
        for (;;) {
            while (end < sc->n && sc->v[end].kind != OP_EQ)
                end++;
            size_t eq = end;
            while (eq < sc->n && sc->v[eq].kind == OP_EQ && eq - end <= 2 * CONTEXT)
                eq++;
            if (eq < sc->n && sc->v[eq].kind != OP_EQ && eq - end <= 2 * CONTEXT) {
                end = eq;
                continue;
            }
            end = end + CONTEXT < sc->n ? end + CONTEXT : sc->n;
            break;
        }
        fputs("@@ -", out);
        print_range(out, oldno[start], oldno[end] - oldno[start]);
        fputs(" +", out);
        print_range(out, newno[start], newno[end] - newno[start]);
        fputs(" @@\n", out);
        for (size_t j = start; j < end; j++) {
            static const char mark[] = {' ', '-', '+'};
            fprintf(out, "%c%s\n", mark[sc->v[j].kind], sc->v[j].s);
        }
        k = end;
    }
    free(oldno);
    free(newno);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

/* Warn about output lines that would read back as something else. */
static void warn_ambiguous(const Transcript *t, const Entry *e, FILE *report)
{
    for (size_t j = 0; j < e->actual.n; j++) {
        const char *s = e->actual.v[j];
        const char *what = NULL;
        if (is_input(s))
            what = "an input";
        else if (is_body_comment(s))
            what = "a comment";
        else if (j == 0 && is_continuation(s))
            what = "a continuation of the input";
        if (what)
            fprintf(report,
                    "%s:%zu: warning: output line \"%s\" will read back as %s\n",
                    t->path, e->first + 1, s, what);
    }
}

static bool write_file(const Transcript *t, const NewFile *nf, FILE *report)
{
    size_t plen = strlen(t->path);
    char *tmp = xmalloc(plen + 16);
    snprintf(tmp, plen + 16, "%s.record~", t->path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(report, "slope: %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return false;
    }
    const char *eol = t->crlf ? "\r\n" : "\n";
    for (size_t i = 0; i < nf->n; i++) {
        fputs(nf->v[i].s, f);
        fputs(eol, f);
    }
    bool ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp, t->path) != 0)
        ok = false;
    if (!ok) {
        fprintf(report, "slope: cannot write %s: %s\n", t->path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return ok;
}

/* ------------------------------------------------------------------ */

bool sl_transcript_run(const char *path, bool record, FILE *report)
{
    Transcript t = {.path = path};
    char *text;
    size_t len;
    if (!read_file(path, &text, &len, report)) {
        fprintf(report, "FAIL %s (cannot read)\n", path);
        return false;
    }
    split_lines(&t.file, text, len, &t.crlf);
    free(text);
    if (!parse(&t, report)) {
        fprintf(report, "FAIL %s (malformed)\n", path);
        transcript_free(&t);
        return false;
    }
    run_all(&t);
    if (t.interrupted) {
        fprintf(report, "FAIL %s (interrupted)\n", path);
        transcript_free(&t);
        return false;
    }

    size_t nrun = 0, ndiff = 0;
    for (size_t k = 0; k < t.ne; k++) {
        nrun += t.e[k].ran;
        ndiff += t.e[k].differs;
    }

    /* the file as --record writes it */
    NewFile nf = {0};
    for (size_t i = 0; i < t.preamble; i++)
        nf_push(&nf, t.file.v[i], (long)i);
    for (size_t k = 0; k < t.ne; k++)
        record_entry(&t, &t.e[k], &nf);

    bool ok;
    if (record) {
        for (size_t k = 0; k < t.ne; k++)
            warn_ambiguous(&t, &t.e[k], report);
        bool same = nf.n == t.file.n;
        for (size_t i = 0; same && i < nf.n; i++)
            same = strcmp(nf.v[i].s, t.file.v[i]) == 0;
        ok = same || write_file(&t, &nf, report);
        if (!ok)
            fprintf(report, "FAIL %s (not written)\n", path);
        else if (same)
            fprintf(report, "same %s (%zu inputs)\n", path, nrun);
        else
            fprintf(report, "wrote %s (%zu of %zu inputs changed)\n", path, ndiff, nrun);
    } else {
        ok = ndiff == 0;
        if (!ok) {
            Script sc = {0};
            for (size_t i = 0; i < t.preamble; i++)
                op_push(&sc, OP_EQ, t.file.v[i]);
            size_t at = t.preamble; /* position in nf */
            for (size_t k = 0; k < t.ne; k++) {
                Entry *e = &t.e[k];
                size_t from = at;
                NewFile one = {0};
                record_entry(&t, e, &one);
                at += one.n;
                diff_block(t.file.v + e->first, e->end - e->first, nf.v + from, one.n, &sc);
                free(one.v);
            }
            print_diff(path, &sc, report);
            free(sc.v);
            fprintf(report, "FAIL %s (%zu of %zu inputs differ)\n", path, ndiff, nrun);
        } else {
            fprintf(report, "ok   %s (%zu inputs)\n", path, nrun);
        }
    }
    fflush(report);
    free(nf.v);
    transcript_free(&t);
    return ok;
}
