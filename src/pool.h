/* pool.h -- free lists for the small objects a training loop makes and
 * drops every step (tensor headers, storages, graph nodes), so the hot
 * loop does not go through malloc.
 *
 * A pool keeps at most `max` freed blocks of one size and hands them back
 * zeroed (sl_pool_get) or as they are (sl_pool_get_raw).  Under AddressSanitizer the pools are bypassed (every get is a
 * calloc, every put a free), so use-after-free is still caught.
 */
#ifndef SL_POOL_H
#define SL_POOL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define SL_POOL_OFF 1
#else
#define SL_POOL_OFF 0
#endif

/* memset through a pointer: for the few hundred bytes of a header GCC
 * would inline `rep stos`, whose start-up costs more than libc's vector
 * stores. */
static void *(*const volatile sl_pool_memset)(void *, int, size_t) = memset;

typedef struct SlPool {
    void *free;      /* singly linked through each block's first word */
    size_t count;    /* blocks on the list */
    size_t max;      /* blocks kept at most (0: 1024) */
} SlPool;

static inline void *sl_pool_get(SlPool *p, size_t size)
{
    if (!SL_POOL_OFF && p->free) {
        void *b = p->free;
        memcpy(&p->free, b, sizeof p->free);
        p->count--;
        sl_pool_memset(b, 0, size);
        return b;
    }
    void *b = calloc(1, size ? size : 1);
    if (!b) {
        fputs("slope: out of memory\n", stderr);
        abort();
    }
    return b;
}

/* A block whose contents the caller overwrites anyway: not zeroed. */
static inline void *sl_pool_get_raw(SlPool *p, size_t size)
{
    if (!SL_POOL_OFF && p->free) {
        void *b = p->free;
        memcpy(&p->free, b, sizeof p->free);
        p->count--;
        return b;
    }
    void *b = malloc(size ? size : 1);
    if (!b) {
        fputs("slope: out of memory\n", stderr);
        abort();
    }
    return b;
}

static inline void sl_pool_put(SlPool *p, void *b)
{
    if (SL_POOL_OFF || p->count >= (p->max ? p->max : 1024)) {
        free(b);
        return;
    }
    memcpy(b, &p->free, sizeof p->free);
    p->free = b;
    p->count++;
}

#endif
