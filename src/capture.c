/* capture.c -- recording kernels into a plan and replaying it (capture.h) */
#include "capture.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor.h"

int sl_cap_on;
unsigned long sl_struct_gen;

enum { OP_KERNEL, OP_BUMP, OP_CALL };

typedef struct Op {
    int kind;
    SlKernelFn fn;        /* OP_KERNEL */
    size_t off;           /* ... its arguments in the plan's arena */
    SlTensor *t;          /* OP_BUMP: whose version (a reference) */
    SlPlanCallFn call;    /* OP_CALL */
    void *obj;
    void (*drop)(void *obj);
    const void *where;
    long stmt;            /* the evaluator's statement number (-1: none) */
    bool idem;            /* running it again recomputes the same (no call, no accumulation into an older tensor) */
} Op;

struct SlPlan {
    Op *ops;
    size_t nops, capops;
    unsigned char *arena; /* argument blocks, 16-byte aligned */
    size_t narena, caparena;
    SlStorage **keep;     /* storages pointed into (a reference each) */
    size_t nkeep, capkeep;
    unsigned long id;     /* the capture's */
    SlStorage **own;      /* the storages it made (in keep too) ... */
    int *refs;            /* ... and their references when the capture ended */
    size_t nown;
    size_t bytes;         /* about what keep holds */
};

static struct {
    bool active;
    int suspended;
    unsigned long id, last_id;
    SlPlan *plan;
    const char *why;
    const void *where;    /* the evaluator's statement or call now */
    long stmt, why_stmt;  /* its statement number now; when it failed */
    SlTensor *bump_ok[4]; /* in-place outputs of the last kernel, not yet bumped */
    int nbump_ok;
    long live_nodes;      /* graph nodes made and not released */
} cap;

unsigned long sl_capture_node_made(void)
{
    cap.live_nodes++;
    return cap.id;
}

void sl_capture_node_released(unsigned long id)
{
    if (cap.active && id == cap.id)
        cap.live_nodes--;
}

long sl_capture_live_nodes(void) { return cap.active ? cap.live_nodes : 0; }

unsigned long sl_capture_id(void) { return cap.active ? cap.id : 0; }

static void *grow(void *p, size_t *cap_, size_t need, size_t elem)
{
    if (need <= *cap_)
        return p;
    size_t c = *cap_ ? *cap_ : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(p, c * elem);
    if (!q)
        abort();
    *cap_ = c;
    return q;
}

static Op *push_op(SlPlan *p, int kind)
{
    p->ops = grow(p->ops, &p->capops, p->nops + 1, sizeof *p->ops);
    Op *o = &p->ops[p->nops++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->where = cap.where;
    o->stmt = cap.stmt;
    o->idem = kind == OP_KERNEL;
    return o;
}

/* A plan keeps what it points into: a capture that would keep more than
 * this (a long inner loop inside the recorded statements) is not worth it */
#define PLAN_MAX_OPS 50000
#define PLAN_MAX_BYTES ((size_t)64 << 20)

static void keep(SlPlan *p, SlStorage *s)
{
    p->keep = grow(p->keep, &p->capkeep, p->nkeep + 1, sizeof *p->keep);
    p->keep[p->nkeep++] = s;
    sl_storage_ref(s);
    p->bytes += s->n * 8;
    if (p->bytes > PLAN_MAX_BYTES || p->nops > PLAN_MAX_OPS)
        sl_capture_fail("it is too long to record (a plan keeps every buffer it uses)");
}

static void update_on(void) { sl_cap_on = cap.active && !cap.suspended && !cap.why; }

void sl_capture_fail(const char *why)
{
    if (cap.active && !cap.why) {
        cap.why = why;
        cap.why_stmt = cap.stmt;
    }
    update_on();
}

void sl_capture_begin(void)
{
    if (cap.active)
        abort(); /* the evaluator never nests captures */
    cap.active = true;
    cap.suspended = 0;
    cap.why = NULL;
    cap.where = NULL;
    cap.stmt = cap.why_stmt = -1;
    cap.nbump_ok = 0;
    cap.live_nodes = 0;
    cap.id = ++cap.last_id;
    cap.plan = calloc(1, sizeof *cap.plan);
    if (!cap.plan)
        abort();
    cap.plan->id = cap.id;
    update_on();
}

bool sl_capture_active(void) { return cap.active; }

/* A call run whole again at each replay must not take hold of what the
 * recorded statements made (an optimizer's state keeping the loss): the
 * replay would change it under the call.  The references of the capture's
 * storages when the outermost suspend began, compared when it ends. */
static int *susp_refs;
static size_t susp_n;

void sl_capture_suspend(void)
{
    if (cap.suspended++ == 0 && cap.active && !cap.why) {
        SlPlan *p = cap.plan;
        free(susp_refs);
        susp_refs = malloc((p->nkeep ? p->nkeep : 1) * sizeof *susp_refs);
        if (!susp_refs)
            abort();
        susp_n = p->nkeep;
        for (size_t i = 0; i < p->nkeep; i++)
            susp_refs[i] = p->keep[i]->refs;
    }
    update_on();
}

void sl_capture_resume(void)
{
    if (--cap.suspended == 0 && cap.active && !cap.why && susp_refs) {
        SlPlan *p = cap.plan;
        for (size_t i = 0; i < susp_n && i < p->nkeep; i++)
            if (p->keep[i]->cap_id == cap.id && p->keep[i]->refs > susp_refs[i]) {
                cap.why = "a call it makes again at each replay keeps one of its results";
                cap.why_stmt = cap.stmt;
                break;
            }
    }
    if (cap.suspended == 0) {
        free(susp_refs);
        susp_refs = NULL;
    }
    update_on();
}

/* a storage a kernel reads: written by a recorded kernel, or older */
static bool readable(const SlStorage *s) { return s->cap_id != cap.id || s->cap_claimed; }

static int kernel_code;          /* sl_kernel_fail's, 0: none */
static char kernel_msg[256];

void sl_kernel_fail(int code, const char *fmt, ...)
{
    if (kernel_code)
        return;
    kernel_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(kernel_msg, sizeof kernel_msg, fmt, ap);
    va_end(ap);
}

bool sl_kernel_error(SlError *err)
{
    if (!kernel_code)
        return false;
    sl_err(err, (SlErrCode)kernel_code, "%s", kernel_msg);
    kernel_code = 0;
    return true;
}

void sl_kernel(SlKernelFn fn, const void *args, size_t size, SlTensor *const *ins, int nin, SlTensor *const *outs,
               int nout, SlTensor *const *inplace, int ninplace)
{
    kernel_code = 0;
    fn(args);
    if (!sl_cap_on || kernel_code)
        return; /* a failed kernel: its caller turns it into the statement's error */
    SlPlan *p = cap.plan;
    for (int i = 0; i < nin; i++)
        if (ins[i] && !readable(ins[i]->storage)) {
            sl_capture_fail("it reads a result made by an operation that has no replay");
            return;
        }
    for (int i = 0; i < ninplace; i++)
        if (inplace[i] && !readable(inplace[i]->storage)) {
            sl_capture_fail("it changes a result made by an operation that has no replay");
            return;
        }
    for (int i = 0; i < nin; i++)
        if (ins[i] && ins[i]->storage->cap_id != cap.id)
            keep(p, ins[i]->storage); /* older: kept alive; newer ones are kept since made */
    for (int i = 0; i < ninplace; i++)
        if (inplace[i] && inplace[i]->storage->cap_id != cap.id)
            keep(p, inplace[i]->storage);
    for (int i = 0; i < nout; i++) {
        if (!outs[i])
            continue;
        SlStorage *s = outs[i]->storage;
        if (s->cap_id == cap.id)
            s->cap_claimed = true;
        else
            keep(p, s);
    }
    Op *o = push_op(p, OP_KERNEL);
    o->fn = fn;
    for (int i = 0; i < ninplace; i++)
        if (inplace[i] && inplace[i]->storage->cap_id != cap.id)
            o->idem = false; /* an accumulation into an older tensor */
    size_t at = (p->narena + 15) & ~(size_t)15;
    p->arena = grow(p->arena, &p->caparena, at + size, 1);
    memcpy(p->arena + at, args, size);
    p->narena = at + size;
    o->off = at;
    cap.nbump_ok = 0;
    for (int i = 0; i < ninplace && cap.nbump_ok < 4; i++)
        if (inplace[i])
            cap.bump_ok[cap.nbump_ok++] = inplace[i];
}

void sl_capture_bumped(SlTensor *t)
{
    for (int i = 0; i < cap.nbump_ok; i++)
        if (cap.bump_ok[i] == t) {
            cap.bump_ok[i] = cap.bump_ok[--cap.nbump_ok];
            Op *o = push_op(cap.plan, OP_BUMP);
            o->t = sl_tensor_ref(t);
            o->idem = t->storage->cap_id == cap.id;
            return;
        }
    sl_capture_fail("it changes a tensor in place with an operation that has no replay");
}

void sl_capture_const(SlTensor *t)
{
    if (sl_cap_on && t->storage->cap_id == cap.id)
        t->storage->cap_claimed = true;
}

void sl_capture_where(const void *where) { cap.where = where; }

const void *sl_capture_get_where(void) { return cap.where; }

void sl_capture_call(SlPlanCallFn fn, void *obj, void (*drop)(void *obj))
{
    if (!cap.active || cap.why || cap.suspended) {
        if (drop)
            drop(obj);
        return;
    }
    Op *o = push_op(cap.plan, OP_CALL);
    o->call = fn;
    o->obj = obj;
    o->drop = drop;
    o->idem = false;
    cap.nbump_ok = 0;
}

void sl_capture_alloc(SlStorage *s)
{
    s->cap_id = cap.id;
    s->cap_claimed = false;
    keep(cap.plan, s);
}

void sl_capture_statement(long i) { cap.stmt = i; }

long sl_capture_failed_statement(void) { return cap.why_stmt; }

SlPlan *sl_capture_end(const char **why)
{
    SlPlan *p = cap.plan;
    if (!cap.why)
        for (size_t i = 0; i < p->nkeep; i++)
            if (p->keep[i]->cap_id == cap.id && !p->keep[i]->cap_claimed) {
                cap.why = "it makes a tensor with an operation that has no replay";
                break;
            }
    if (!cap.why && cap.live_nodes > 0)
        cap.why = "it builds a graph that the rest of the loop uses (a replay does not rebuild graphs)";
    size_t kernels = 0;
    for (size_t i = 0; i < p->nops; i++) {
        kernels += p->ops[i].kind == OP_KERNEL;
        if (!cap.why && p->ops[i].kind == OP_CALL && i + 1 < p->nops && p->ops[i + 1].stmt == p->ops[i].stmt)
            cap.why = "an optimizer call is inside a statement that goes on after it";
    }
    if (!cap.why && kernels == 0)
        cap.why = "it runs no tensor kernels (nothing to gain)";
    *why = cap.why;
    cap.active = false;
    cap.plan = NULL;
    update_on();
    if (*why) {
        sl_plan_free(p);
        return NULL;
    }
    p->own = malloc((p->nkeep ? p->nkeep : 1) * sizeof *p->own);
    p->refs = malloc((p->nkeep ? p->nkeep : 1) * sizeof *p->refs);
    if (!p->own || !p->refs)
        abort();
    for (size_t i = 0; i < p->nkeep; i++)
        if (p->keep[i]->cap_id == p->id) {
            p->own[p->nown] = p->keep[i];
            p->refs[p->nown++] = p->keep[i]->refs;
        }
    return p;
}

bool sl_plan_untouched(const SlPlan *p)
{
    for (size_t i = 0; i < p->nown; i++)
        if (p->own[i]->refs != p->refs[i])
            return false;
    return true;
}

/* Where interpreting the iteration again may start after ops [0, i) ran
 * and op i failed: after the last op that is not a recomputation, if that
 * one's statement ended before op i's */
static long resume_after(const SlPlan *p, size_t i)
{
    long from = 0;
    for (size_t k = 0; k < i; k++)
        if (!p->ops[k].idem)
            from = p->ops[k].stmt + 1;
    return p->ops[i].stmt < 0 || from > p->ops[i].stmt ? -1 : from;
}

int sl_plan_run(SlPlan *p, void *ctx, SlPlanStop *stop, SlError *err)
{
    for (size_t i = 0; i < p->nops; i++) {
        Op *o = &p->ops[i];
        switch (o->kind) {
        case OP_KERNEL:
            kernel_code = 0;
            o->fn(p->arena + o->off);
            if (kernel_code) {
                sl_kernel_error(err);
                stop->where = o->where;
                stop->resume = resume_after(p, i);
                return SL_PLAN_ERROR;
            }
            break;
        case OP_BUMP: o->t->version->v++; break;
        default: {
            unsigned long gen = sl_struct_gen;
            if (!o->call(o->obj, ctx, err)) {
                stop->where = o->where;
                stop->resume = -1; /* its own error, where it was made */
                return SL_PLAN_ERROR;
            }
            if (sl_struct_gen != gen && i + 1 < p->nops) {
                /* e.g. an optimizer's body replaced p.data: what follows
                 * would read what it no longer uses (a call ends its
                 * statement: sl_capture_end) */
                stop->where = o->where;
                stop->resume = o->stmt + 1;
                return SL_PLAN_STOPPED;
            }
        }
        }
    }
    return SL_PLAN_DONE;
}

size_t sl_plan_size(const SlPlan *p) { return p->nops; }

void sl_plan_free(SlPlan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nops; i++) {
        Op *o = &p->ops[i];
        if (o->kind == OP_BUMP)
            sl_tensor_unref(o->t);
        else if (o->kind == OP_CALL && o->drop)
            o->drop(o->obj);
    }
    for (size_t i = 0; i < p->nkeep; i++)
        sl_storage_unref(p->keep[i]);
    free(p->ops);
    free(p->arena);
    free(p->keep);
    free(p->own);
    free(p->refs);
    free(p);
}
