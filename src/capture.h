/* capture.h -- record the tensor work of a loop body once, replay it.
 *
 * A training loop runs the same tensor operations on the same shapes every
 * iteration; only the numbers change.  The evaluator (eval.c) runs one
 * iteration of such a body under a capture: every kernel the engine runs
 * is recorded as a closure (a function and a copy of its arguments: data
 * pointers, sizes, strides), and every call that must run again in full
 * (an optimizer's step, zero_grad) as a call.  Later iterations replay the
 * list -- the same kernels on the same buffers, in the same order, so the
 * same roundings -- without the interpreter, argument parsing, allocation
 * or autograd bookkeeping.  It is CUDA graphs' idea on a CPU.
 *
 * Soundness rests on three rules, checked as the capture runs:
 *   - every tensor storage allocated during the capture must be written by
 *     a recorded kernel (or declared a constant) before a recorded kernel
 *     reads it and before the capture ends: an operation that has no
 *     closure leaves its result unclaimed, and the capture fails;
 *   - an in-place change (a version bump) outside a recorded kernel fails
 *     the capture;
 *   - the evaluator lets only calls it knows have no other effects run in
 *     a capture (eval.c: capture_allows).
 * The plan keeps every storage it points into alive, so a replay never
 * touches freed memory.  A capture that fails costs nothing: the iteration
 * it recorded ran normally, and the loop goes on without a plan.
 */
#ifndef SL_CAPTURE_H
#define SL_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct SlTensor SlTensor;
typedef struct SlStorage SlStorage;
typedef struct SlPlan SlPlan;

/* Nonzero while a capture records (zero when none runs or it is suspended):
 * the engine's hooks test it before doing anything. */
extern int sl_cap_on;

/* A kernel: computes from the data its argument block points to. */
typedef void (*SlKernelFn)(const void *args);

/* Run fn(args) now; under a capture, also record it.  ins are the tensors
 * it reads, outs the ones it writes whole (they become "claimed"); inplace
 * the ones it reads and updates (each must already be claimed or older than
 * the capture), whose versions the replay bumps as the caller bumps them
 * now.  Any may be NULL with its count 0; NULL entries are skipped. */
void sl_kernel(SlKernelFn fn, const void *args, size_t size, SlTensor *const *ins, int nin, SlTensor *const *outs,
               int nout, SlTensor *const *inplace, int ninplace);

/* What a kernel that finds its inputs wrong does (a class index out of
 * range, which its operation checked before, changed since: at a replay,
 * or between a forward and its backward): it writes nothing out of bounds
 * and calls this.  The caller of sl_kernel collects the error with
 * sl_kernel_error (true: there was one, now in err); a replay fails. */
void sl_kernel_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool sl_kernel_error(SlError *err);

/* A tensor whose contents, set now, are the same at every iteration (the
 * 1 that starts a backward): claimed without a kernel. */
void sl_capture_const(SlTensor *t);

/* A call that must run whole again at every replay (an optimizer step):
 * fn(obj, ctx, err) with ctx as given to sl_plan_run; drop(obj) when the plan
 * goes.  The caller runs the call itself now, inside sl_capture_suspend.
 * Without a capture it just drops obj. */
typedef bool (*SlPlanCallFn)(void *obj, void *ctx, SlError *err);
void sl_capture_call(SlPlanCallFn fn, void *obj, void (*drop)(void *obj));
/* What the evaluator runs now (its statement, or the call inside it),
 * noted with each kernel and call: a replay's error points there */
void sl_capture_where(const void *where);
const void *sl_capture_get_where(void);

/* What a call inside a capture that is neither a kernel nor a replayable
 * call does first: the capture cannot be replayed (why: a short phrase). */
void sl_capture_fail(const char *why);

/* Pause recording around work that runs again in full at replay. */
void sl_capture_suspend(void);
void sl_capture_resume(void);

/* Autograd hooks: a graph node made while recording (returns the
 * capture's id, kept in the node); a node of capture id released by a
 * backward.  A plan must consume the graphs it builds: a node still alive
 * when the capture ends belongs to a graph the rest of the loop would use,
 * and a replay does not rebuild graphs. */
unsigned long sl_capture_node_made(void);
void sl_capture_node_released(unsigned long id);
/* Graph nodes made by the running capture and not yet released */
long sl_capture_live_nodes(void);
/* The running capture's id (what sl_capture_node_made returned), 0: none */
unsigned long sl_capture_id(void);

/* Engine hooks (tensor.c): a storage was allocated; a tensor changed in place. */
void sl_capture_alloc(SlStorage *s);
void sl_capture_bumped(SlTensor *t);

/* Start recording; end it: the plan, or NULL (*why the first reason) */
void sl_capture_begin(void);
SlPlan *sl_capture_end(const char **why);
bool sl_capture_active(void); /* a capture runs (recording or suspended) */
/* The evaluator's statement number now; the one the last capture failed
 * in while it ran (-1: it ran to the end; what sl_capture_end found
 * wrong has no statement) */
void sl_capture_statement(long i);
long sl_capture_failed_statement(void);

/* Replay.  SL_PLAN_DONE; SL_PLAN_ERROR, err set by a kernel or a call,
 * stop->where that operation's where, and stop->resume the statement from
 * which interpreting the iteration again is safe and gives the error
 * itself (every operation before it that is not a pure recomputation --
 * a call, an accumulation into an older tensor -- ended in an earlier
 * statement), or -1; SL_PLAN_STOPPED, a call changed the structure
 * (sl_struct_gen), and the iteration must go on interpreted from
 * stop->resume, the statement after that call's. */
enum { SL_PLAN_DONE, SL_PLAN_ERROR, SL_PLAN_STOPPED };
typedef struct SlPlanStop {
    const void *where;
    long resume;
} SlPlanStop;
int sl_plan_run(SlPlan *p, void *ctx, SlPlanStop *stop, SlError *err);
void sl_plan_free(SlPlan *p);
/* Whether the storages the capture made have as many references as when it
 * ended: one more means something outside the plan holds a result (a list
 * keeps a loss, a detached view of it), which a replay would overwrite. */
bool sl_plan_untouched(const SlPlan *p);
size_t sl_plan_size(const SlPlan *p); /* operations in it */

/* Bumped by every change that could make a recorded step differ in more
 * than its numbers: a .grad set or cleared, requires_grad changed, ... A
 * plan is replayed only while it has the value it had at the capture. */
extern unsigned long sl_struct_gen;

#endif
