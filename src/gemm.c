/* gemm.c -- the float32 / float64 matrix kernel under mm, addmm and their
 * backward (sl_tensor_gemm_f32, sl_tensor_gemm_f64; see tensor.h).
 *
 * The invariant, which everything here keeps: each element of C is its
 * own chain, the reference BLAS's,
 *     s = C0[i][j] (with c0 and not post) or 0
 *     s = s + a[i][l] * b[l][j]      for l = 0, 1, ..., k-1, in order
 *     s = s + C0[i][j]               (with post)
 * every product rounded, then every sum: no fused multiply-add (the build
 * is -std=c17, under which GCC does not contract; keep it so, never fma).
 * Nothing below changes any element's chain; it changes only which
 * elements are worked on side by side and where operands are read from:
 *   - a row of C goes in the lanes of vectors (GCC's vector extensions:
 *     lane-wise * and +, the same roundings as scalars); a tile of up to 4
 *     rows by up to 4 vectors stays in registers over the whole l loop, so
 *     each a[i][l] is broadcast once for its row and each row of B loaded
 *     once for the tile;
 *   - C^T = B^T A^T when that is cheaper (x*y == y*x exactly): the lanes
 *     along i, the tile transposed in registers on the way out;
 *   - B's rows (up to 4 vectors of them) are first copied into a buffer on
 *     the stack, contiguous, the last vector padded (the padded lanes are
 *     computed and dropped), a column-contiguous B by L x L transposes;
 *   - k is cut into blocks of KB, each block's sums stored in C and read
 *     back for the next (a float or double in memory is the same number
 *     as in a register), so C must not overlap A, B or C0.
 * Products of a training step are tiny (4 x 10 @ 10 x 5), so most of the
 * work is not the multiplying: hence one function a panel width, nothing
 * set up that the shape does not need, and a cost model to pick C or C^T.
 *
 * The kernel is written once for an element type T and its vector V of L
 * lanes (the part under #else): this file includes itself for float and
 * for double.
 */
#ifndef GEMM_T

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "tensor.h"

#define KB 256  /* rows of B per block (of the copied B) */
#define NVMAX 4 /* vectors of a row of C in a tile, at most */

/* 16-byte vectors: SSE2, which every x86-64 has */
typedef float SlV4f __attribute__((vector_size(16)));
typedef int32_t SlV4i __attribute__((vector_size(16)));
typedef double SlV2d __attribute__((vector_size(16)));
typedef int64_t SlV2l __attribute__((vector_size(16)));

/* an L x L tile transposed: r[q][x] = r[x][q] */
static inline void transpose_f32(SlV4f *r)
{
    SlV4f t0 = __builtin_shuffle(r[0], r[1], (SlV4i){0, 4, 1, 5});
    SlV4f t1 = __builtin_shuffle(r[0], r[1], (SlV4i){2, 6, 3, 7});
    SlV4f t2 = __builtin_shuffle(r[2], r[3], (SlV4i){0, 4, 1, 5});
    SlV4f t3 = __builtin_shuffle(r[2], r[3], (SlV4i){2, 6, 3, 7});
    r[0] = __builtin_shuffle(t0, t2, (SlV4i){0, 1, 4, 5});
    r[1] = __builtin_shuffle(t0, t2, (SlV4i){2, 3, 6, 7});
    r[2] = __builtin_shuffle(t1, t3, (SlV4i){0, 1, 4, 5});
    r[3] = __builtin_shuffle(t1, t3, (SlV4i){2, 3, 6, 7});
}

static inline void transpose_f64(SlV2d *r)
{
    SlV2d t0 = __builtin_shuffle(r[0], r[1], (SlV2l){0, 2});
    r[1] = __builtin_shuffle(r[0], r[1], (SlV2l){1, 3});
    r[0] = t0;
}

/* lane x of v in every lane (moved as integers: the bits as they are) */
#define SPLAT_F32(v, x) ((SlV4f)__builtin_shuffle((SlV4i)(v), (SlV4i){x, x, x, x}))
#define SPLAT_F64(v, x) ((SlV2d)__builtin_shuffle((SlV2l)(v), (SlV2l){x, x}))

#define UNROLL _Pragma("GCC unroll 4")

#define GEMM_T float
#define GEMM_V SlV4f
#define GEMM_IV SlV4i
#define GEMM_L 4
#define GEMM_FN(x) f32_##x
#define GEMM_TRANSPOSE transpose_f32
#define GEMM_SPLAT SPLAT_F32
#define GEMM_NAME sl_tensor_gemm_f32
#include "gemm.c"

#define GEMM_T double
#define GEMM_V SlV2d
#define GEMM_IV SlV2l
#define GEMM_L 2
#define GEMM_FN(x) f64_##x
#define GEMM_TRANSPOSE transpose_f64
#define GEMM_SPLAT SPLAT_F64
#define GEMM_NAME sl_tensor_gemm_f64
#include "gemm.c"

#else /* the kernel for T = GEMM_T */

#define T GEMM_T
#define V GEMM_V
#define L GEMM_L
#define FN GEMM_FN

#define INLINE static inline __attribute__((always_inline))

/* An empty asm: x seems to change here, so GCC computes what depends on it
 * where it is used, instead of setting up every address a tile might use
 * (most of them on paths not taken) before the loops; a tile is small. */
#define OPAQUE(x) __asm__("" : "+r"(x))

/* cnt (<= L) elements p[0], p[s], ... into the low lanes, 0 in the others */
INLINE V FN(load)(const T *p, int64_t s, int cnt)
{
    V v = {0};
    if (s == 1 && cnt == L) {
        memcpy(&v, p, sizeof v);
    } else if (s == 0) {
        v[0] = p[0];
        v = GEMM_SPLAT(v, 0);
    } else if (s == 1) {
        UNROLL for (int x = 0; x < L; x++) if (x < cnt) v[x] = p[x];
    } else {
        UNROLL for (int x = 0; x < L; x++)
        {
            if (x < cnt)
                v[x] = *p;
            p += s;
            OPAQUE(p);
        }
    }
    return v;
}

/* the low cnt lanes to p[0], p[s], ... */
INLINE void FN(store)(T *p, int64_t s, int cnt, V v)
{
    if (s == 1 && cnt == L) {
        memcpy(p, &v, sizeof v);
    } else if (s == 1) {
        UNROLL for (int x = 0; x < L; x++) if (x < cnt) p[x] = v[x];
    } else {
        UNROLL for (int x = 0; x < L; x++)
        {
            if (x < cnt)
                *p = v[x];
            p += s;
            OPAQUE(p);
        }
    }
}

/* b's rows l = 0..kb-1, nv vectors wide (the last of nt columns), into
 * buf, rows nv * L apart */
INLINE void FN(pack)(int nv, int nt, const T *b, int64_t bs0, int64_t bs1, int64_t kb, T *buf)
{
    int64_t l = 0;
    if (bs1 == 1) {
        for (; l < kb; l++, b += bs0, buf += nv * L) {
            UNROLL for (int v = 0; v < nv - 1; v++) memcpy(buf + v * L, b + v * L, sizeof(V));
            V t = FN(load)(b + (nv - 1) * L, 1, nt);
            memcpy(buf + (nv - 1) * L, &t, sizeof t);
        }
        return;
    }
    if (bs0 == 1) /* columns of B contiguous: L x L tiles transposed */
        for (; l + L <= kb; l += L)
            UNROLL for (int v = 0; v < nv; v++)
            {
                V t[L];
                const T *col = b + l + v * L * bs1;
                UNROLL for (int x = 0; x < L; x++)
                {
                    memcpy(&t[x], col, sizeof t[x]);
                    col += v < nv - 1 || x + 1 < nt ? bs1 : 0;
                }
                GEMM_TRANSPOSE(t);
                UNROLL for (int x = 0; x < L; x++) memcpy(buf + ((l + x) * nv + v) * L, &t[x], sizeof t[x]);
            }
    for (; l < kb; l++)
        UNROLL for (int v = 0; v < nv; v++)
        {
            V t = FN(load)(b + l * bs0 + v * L * bs1, bs1, v < nv - 1 ? L : nt);
            memcpy(buf + (l * nv + v) * L, &t, sizeof t);
        }
}

/* acc[r][v] (R rows, nv vectors, the last of nt lanes) = c0's, or += */
INLINE void FN(with_c0)(int R, int nv, int nt, V acc[][NVMAX], const T *c0, int64_t s0, int64_t s1, bool add)
{
    V t[4][NVMAX];
    UNROLL for (int r = 0; r < R; r++)
    {
        const T *p = c0;
        if (s1 == 1) {
            UNROLL for (int v = 0; v < nv; v++) t[r][v] = FN(load)(p + v * L, 1, v < nv - 1 ? L : nt);
        } else if (s1 == 0) {
            UNROLL for (int v = 0; v < nv; v++) t[r][v] = FN(load)(p, 0, L);
        } else {
            UNROLL for (int v = 0; v < nv; v++)
            {
                t[r][v] = FN(load)(p, s1, v < nv - 1 ? L : nt);
                p += L * s1;
            }
        }
        c0 += s0;
        OPAQUE(c0);
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int v = 0; v < nv; v++) acc[r][v] =
        add ? acc[r][v] + t[r][v] : t[r][v];
}

/* acc += a (R rows, as0 apart) * b (nv vectors): one l of a tile; with
 * av, the R a's are in vectors already (a column of A is contiguous) */
INLINE void FN(step)(int R, int nv, V acc[][NVMAX], const T *a, int64_t as0, const V *av, const T *bp)
{
    V b[NVMAX];
    UNROLL for (int v = 0; v < nv; v++) memcpy(&b[v], bp + v * L, sizeof b[v]);
    UNROLL for (int r = 0; r < R; r++)
    {
        if (av) {
            V x = GEMM_SPLAT(av[r / L], r % L);
            UNROLL for (int v = 0; v < nv; v++) acc[r][v] = acc[r][v] + x * b[v];
        } else {
            T x = a[r * as0];
            UNROLL for (int v = 0; v < nv; v++) acc[r][v] = acc[r][v] + x * b[v];
        }
    }
}

/* One tile of C: R rows (of a, as0 apart) by nv vectors (the last of nt
 * lanes): the sums from c0 (without post) or 0 over l < kb of a * b (b's
 * rows at p, sp apart), then + c0 (with post); stored to c.
 * Inlined with constant R and nv: the tile lives in registers. */
INLINE void FN(tile)(int R, int nv, int nt, const T *a, int64_t as0, int64_t as1, int64_t kb, const T *p,
                     int64_t sp, T *c, int64_t cs0, int64_t cs1, const T *c0, int64_t c0s0, int64_t c0s1, bool post)
{
    V acc[4][NVMAX];
    if (c0 && !post) {
        FN(with_c0)(R, nv, nt, acc, c0, c0s0, c0s1, false);
    } else {
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int v = 0; v < nv; v++) acc[r][v] = (V){0};
    }
    if (R % L == 0 && as0 == 1) {
        for (int64_t l = 0; l < kb; l++, a += as1, p += sp) {
            V av[4 / L];
            UNROLL for (int g = 0; g < R / L; g++) memcpy(&av[g], a + g * L, sizeof av[g]);
            FN(step)(R, nv, acc, a, as0, av, p);
        }
    } else {
        for (int64_t l = 0; l < kb; l++, a += as1, p += sp)
            FN(step)(R, nv, acc, a, as0, NULL, p);
    }
    if (c0 && post)
        FN(with_c0)(R, nv, nt, acc, c0, c0s0, c0s1, true);
    if (cs1 == 1) {
        UNROLL for (int r = 0; r < R; r++)
        {
            UNROLL for (int v = 0; v < nv; v++) FN(store)(c + v * L, 1, v < nv - 1 ? L : nt, acc[r][v]);
            c += cs0;
            OPAQUE(c);
        }
    } else if (R % L == 0 && cs0 == 1) { /* C^T: L rows of it at a time are L columns of C */
        UNROLL for (int g = 0; g < R; g += L)
        {
            T *q = c + g;
            UNROLL for (int v = 0; v < nv; v++)
            {
                V t[L];
                UNROLL for (int x = 0; x < L; x++) t[x] = acc[g + x][v];
                GEMM_TRANSPOSE(t);
                UNROLL for (int x = 0; x < L; x++)
                {
                    if (v < nv - 1 || x < nt)
                        memcpy(q, &t[x], sizeof t[x]);
                    q += cs1;
                    OPAQUE(q);
                }
            }
        }
    } else {
        UNROLL for (int r = 0; r < R; r++)
        {
            T *q = c;
            UNROLL for (int v = 0; v < nv; v++)
            {
                FN(store)(q, cs1, v < nv - 1 ? L : nt, acc[r][v]);
                q += L * cs1;
            }
            c += cs0;
            OPAQUE(c);
        }
    }
}

/* C (m x n, strides cs0, cs1) = a @ b from c0 or + c0 (as tile), for
 * nv = ceil(n / L) vectors (NV, at most NVMAX) and k <= KB: B copied,
 * then tiles of 4 rows (2 when 4 vectors wide), then 2, then 1. */
#define PANEL(NV)                                                                                                  \
    static __attribute__((noinline)) void FN(panel_##NV)(const T *a, int64_t as0, int64_t as1, const T *b,        \
                                                         int64_t bs0, int64_t bs1, int64_t m, int64_t k, int nt,   \
                                                         T *c, int64_t cs0, int64_t cs1, const T *c0, int64_t c0s0, \
                                                         int64_t c0s1, bool post)                                  \
    {                                                                                                              \
        T buf[KB * NV * L];                                                                                        \
        int64_t sp = NV * L;                                                                                       \
        FN(pack)(NV, nt, b, bs0, bs1, k, buf);                                                                     \
        int64_t i = 0;                                                                                             \
        for (; NV <= 3 && i + 4 <= m; i += 4) {                                                                    \
            const T *ai = a + i * as0, *c0i = c0 ? c0 + i * c0s0 : NULL;                                           \
            T *ci = c + i * cs0;                                                                                   \
            OPAQUE(ai); OPAQUE(ci); OPAQUE(c0i);                                                                   \
            FN(tile)(4, NV, nt, ai, as0, as1, k, buf, sp, ci, cs0, cs1, c0i, c0s0, c0s1, post);                    \
        }                                                                                                          \
        for (; i + 2 <= m; i += 2) {                                                                               \
            const T *ai = a + i * as0, *c0i = c0 ? c0 + i * c0s0 : NULL;                                           \
            T *ci = c + i * cs0;                                                                                   \
            OPAQUE(ai); OPAQUE(ci); OPAQUE(c0i);                                                                   \
            FN(tile)(2, NV, nt, ai, as0, as1, k, buf, sp, ci, cs0, cs1, c0i, c0s0, c0s1, post);                    \
        }                                                                                                          \
        if (i < m)                                                                                                 \
            FN(tile)(1, NV, nt, a + i * as0, as0, as1, k, buf, sp, c + i * cs0, cs0, cs1,                          \
                     c0 ? c0 + i * c0s0 : NULL, c0s0, c0s1, post);                                                 \
    }
PANEL(1)
PANEL(2)
PANEL(3)
PANEL(4)
#undef PANEL

/* the same for n <= NVMAX * L */
INLINE void FN(block)(const T *a, int64_t as0, int64_t as1, const T *b, int64_t bs0, int64_t bs1, int64_t m,
                      int64_t k, int64_t n, T *c, int64_t cs0, int64_t cs1, const T *c0, int64_t c0s0, int64_t c0s1,
                      bool post)
{
    int nv = (int)((n + L - 1) / L), nt = (int)(n - (nv - 1) * L);
    switch (nv) {
    case 1: FN(panel_1)(a, as0, as1, b, bs0, bs1, m, k, nt, c, cs0, cs1, c0, c0s0, c0s1, post); break;
    case 2: FN(panel_2)(a, as0, as1, b, bs0, bs1, m, k, nt, c, cs0, cs1, c0, c0s0, c0s1, post); break;
    case 3: FN(panel_3)(a, as0, as1, b, bs0, bs1, m, k, nt, c, cs0, cs1, c0, c0s0, c0s1, post); break;
    default: FN(panel_4)(a, as0, as1, b, bs0, bs1, m, k, nt, c, cs0, cs1, c0, c0s0, c0s1, post); break;
    }
}

/* C (m x n, strides cs0, cs1) = c0, or += c0 (strides c0s0, c0s1) */
static void FN(copy_c0)(T *c, int64_t cs0, int64_t cs1, int64_t m, int64_t n, const T *c0, int64_t c0s0,
                        int64_t c0s1, bool add)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            T *p = c + i * cs0 + j * cs1;
            *p = add ? *p + c0[i * c0s0 + j * c0s1] : c0[i * c0s0 + j * c0s1];
        }
}

/* any n and k: panels of NVMAX * L columns, each in blocks of KB rows of b
 * (the sums so far kept in C) */
static __attribute__((noinline)) void FN(blocks)(const T *a, int64_t as0, int64_t as1, const T *b, int64_t bs0,
                                                 int64_t bs1, int64_t m, int64_t k, int64_t n, T *c, int64_t cs0,
                                                 int64_t cs1, const T *c0, int64_t c0s0, int64_t c0s1, bool post)
{
    if (k <= KB) {
        for (int64_t j0 = 0; j0 < n; j0 += NVMAX * L)
            FN(block)(a, as0, as1, b + j0 * bs1, bs0, bs1, m, k, n - j0 < NVMAX * L ? n - j0 : NVMAX * L,
                      c + j0 * cs1, cs0, cs1, c0 ? c0 + j0 * c0s1 : NULL, c0s0, c0s1, post);
        return;
    }
    if (c0 && !post)
        FN(copy_c0)(c, cs0, cs1, m, n, c0, c0s0, c0s1, false);
    for (int64_t j0 = 0; j0 < n; j0 += NVMAX * L)
        for (int64_t l0 = 0; l0 < k; l0 += KB)
            FN(block)(a + l0 * as1, as0, as1, b + l0 * bs0 + j0 * bs1, bs0, bs1, m, k - l0 < KB ? k - l0 : KB,
                      n - j0 < NVMAX * L ? n - j0 : NVMAX * L, c + j0 * cs1, cs0, cs1,
                      (c0 && !post) || l0 ? c + j0 * cs1 : NULL, cs0, cs1, false);
    if (c0 && post)
        FN(copy_c0)(c, cs0, cs1, m, n, c0, c0s0, c0s1, true);
}

/* Roughly the instructions of the kernel with the lanes along a dimension
 * of vec, over rows of the other (multiplying, tiles, copying B, a call a
 * panel): unit, B's stride along vec is 1; cols, along k.  (The weights
 * are measured ones, on the products of a training step.) */
INLINE uint64_t FN(cost)(uint64_t rows, uint64_t vec, uint64_t k, bool unit, bool cols)
{
    uint64_t nv = (vec + L - 1) / L, panels = (nv + NVMAX - 1) / NVMAX, tiles = (rows + 3) / 4;
    return k * (rows * (2 + 2 * nv) + tiles * (8 + nv) + nv * (unit ? 3 : cols ? 8 : 2 * L)) + 160 * panels;
}

/* C (m x n, strides cs0, cs1) = a @ b (as tile) for any shape */
INLINE void FN(run)(const T *a, int64_t as0, int64_t as1, const T *b, int64_t bs0, int64_t bs1, int64_t m,
                    int64_t k, int64_t n, T *c, int64_t cs0, int64_t cs1, const T *c0, int64_t c0s0, int64_t c0s1,
                    bool post)
{
    if (n <= NVMAX * L && k <= KB)
        FN(block)(a, as0, as1, b, bs0, bs1, m, k, n, c, cs0, cs1, c0, c0s0, c0s1, post);
    else
        FN(blocks)(a, as0, as1, b, bs0, bs1, m, k, n, c, cs0, cs1, c0, c0s0, c0s1, post);
}

void GEMM_NAME(const T *a, int64_t as0, int64_t as1, const T *b, int64_t bs0, int64_t bs1, int64_t m, int64_t k,
               int64_t n, T *c, const T *c0, int64_t c0s0, int64_t c0s1, bool post)
{
    if (m <= 0 || n <= 0)
        return;
    /* C^T = B^T A^T when that is cheaper: the lanes along i */
    if (FN(cost)((uint64_t)n, (uint64_t)m, (uint64_t)k, as0 == 1, as1 == 1) <
        FN(cost)((uint64_t)m, (uint64_t)n, (uint64_t)k, bs1 == 1, bs0 == 1))
        FN(run)(b, bs1, bs0, a, as1, as0, n, k, m, c, 1, n, c0, c0s1, c0s0, post);
    else
        FN(run)(a, as0, as1, b, bs0, bs1, m, k, n, c, n, 1, c0, c0s0, c0s1, post);
}

#undef INLINE
#undef OPAQUE
#undef T
#undef V
#undef L
#undef FN
#undef GEMM_T
#undef GEMM_V
#undef GEMM_IV
#undef GEMM_L
#undef GEMM_FN
#undef GEMM_TRANSPOSE
#undef GEMM_SPLAT
#undef GEMM_NAME

#endif
