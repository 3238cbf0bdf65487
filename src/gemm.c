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
 *     lane-wise * and +, the same roundings as scalars), a tile of up to 4
 *     rows by up to 4 vectors in registers over the whole l loop;
 *   - C^T = B^T A^T when that is cheaper: lanes along i (x*y == y*x
 *     exactly), the tile transposed in registers on the way out;
 *   - a strided B, and the ragged last columns of any B, are copied into a
 *     small contiguous buffer, padded with zeros (the padded lanes are
 *     computed and dropped);
 *   - k is cut into blocks of KB, each block's sums stored in C and read
 *     back for the next (a float or double in memory is the same number
 *     as in a register), so C must not overlap A, B or C0.
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

#define KB 256  /* rows of B per block (of the packed buffer) */
#define NVMAX 4 /* vectors of a row of C per pass over l */

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

#define UNROLL _Pragma("GCC unroll 4")

#define GEMM_T float
#define GEMM_V SlV4f
#define GEMM_IV SlV4i
#define GEMM_L 4
#define GEMM_FN(x) f32_##x
#define GEMM_TRANSPOSE transpose_f32
#define GEMM_NAME sl_tensor_gemm_f32
#include "gemm.c"

#define GEMM_T double
#define GEMM_V SlV2d
#define GEMM_IV SlV2l
#define GEMM_L 2
#define GEMM_FN(x) f64_##x
#define GEMM_TRANSPOSE transpose_f64
#define GEMM_NAME sl_tensor_gemm_f64
#include "gemm.c"

#else /* the kernel for T = GEMM_T */

#define T GEMM_T
#define V GEMM_V
#define L GEMM_L
#define FN GEMM_FN

/* cnt (<= L) elements p[0], p[s], ... into the low lanes, 0 in the others */
static inline V FN(load)(const T *p, int64_t s, int cnt)
{
    V v = {0};
    if (s == 1 && cnt == L)
        memcpy(&v, p, sizeof v);
    else if (s == 0) {
        v[0] = p[0];
        v = __builtin_shuffle(v, (GEMM_IV){0});
    } else if (cnt == L)
        UNROLL for (int x = 0; x < L; x++) v[x] = p[x * s];
    else
        UNROLL for (int x = 0; x < L; x++) if (x < cnt) v[x] = p[x * s];
    return v;
}

/* the low cnt lanes to p[0], p[s], ... */
static inline void FN(store)(T *p, int64_t s, int cnt, V v)
{
    if (s == 1 && cnt == L)
        memcpy(p, &v, sizeof v);
    else
        UNROLL for (int q = 0; q < L; q++) if (q < cnt) p[q * s] = v[q];
}

/* b's rows l = 0..kb-1, columns nf full vectors and nt more, into buf as
 * rows of nv = nf + (nt > 0) vectors (padded with zeros) */
static inline __attribute__((always_inline)) void FN(pack)(int nf, int nv, int nt, const T *b, int64_t bs0,
                                                           int64_t bs1, int64_t kb, T *buf)
{
    int64_t l = 0;
    if (bs0 == 1) /* columns of B contiguous: L x L tiles transposed */
        for (; l + L <= kb; l += L)
            UNROLL for (int v = 0; v < nv; v++)
            {
                V t[L];
                UNROLL for (int x = 0; x < L; x++) t[x] =
                    v < nf || x < nt ? FN(load)(b + l + (v * L + x) * bs1, 1, L) : (V){0};
                GEMM_TRANSPOSE(t);
                UNROLL for (int x = 0; x < L; x++) memcpy(buf + ((l + x) * nv + v) * L, &t[x], sizeof t[x]);
            }
    for (; l < kb; l++)
        UNROLL for (int v = 0; v < nv; v++)
        {
            V t = FN(load)(b + l * bs0 + v * L * bs1, bs1, v < nf ? L : nt);
            memcpy(buf + (l * nv + v) * L, &t, sizeof t);
        }
}

/* One tile of C: R rows (of a, as0 apart) by nf full vectors and, with
 * tail, one of nt lanes; c = (init ? c : 0) + a @ b over kb.  b's full
 * vectors are at p (rows sp apart), the tail's at q (sq apart).  Inlined
 * with constant R, nf and tail: the tile lives in registers. */
static inline __attribute__((always_inline)) void FN(tile)(int R, int nf, int tail, int nt, const T *a, int64_t as0,
                                                           int64_t as1, int64_t kb, const T *p, int64_t sp,
                                                           const T *q, int64_t sq, T *c, int64_t cs0, int64_t cs1,
                                                           bool init)
{
    int nv = nf + tail;
    V acc[4][NVMAX];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int v = 0; v < nv; v++) acc[r][v] =
        init ? FN(load)(c + r * cs0 + v * L * cs1, cs1, v < nf ? L : nt) : (V){0};
    for (int64_t l = 0; l < kb; l++, a += as1, p += sp, q += sq) {
        V b[NVMAX];
        UNROLL for (int v = 0; v < nf; v++) memcpy(&b[v], p + v * L, sizeof b[v]);
        if (tail)
            memcpy(&b[nf], q, sizeof b[nf]);
        UNROLL for (int r = 0; r < R; r++)
        {
            T x = a[r * as0];
            UNROLL for (int v = 0; v < nv; v++) acc[r][v] = acc[r][v] + x * b[v];
        }
    }
    if (R == L && cs0 == 1) /* C^T: L rows of it are L columns of C */
        UNROLL for (int v = 0; v < nv; v++)
        {
            V t[L];
            UNROLL for (int r = 0; r < L; r++) t[r] = acc[r][v];
            GEMM_TRANSPOSE(t);
            UNROLL for (int x = 0; x < L; x++) if (v < nf || x < nt) memcpy(c + (v * L + x) * cs1, &t[x], sizeof t[x]);
        }
    else
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int v = 0; v < nv; v++)
            FN(store)(c + r * cs0 + v * L * cs1, cs1, v < nf ? L : nt, acc[r][v]);
}

/* C (m x (nf*L + nt), strides cs0, cs1) = (init ? C : 0) + a @ b over kb:
 * b copied to a buffer if its rows are strided (or only its last nt
 * columns if not), then tiles of 4 rows (2 when 3 or 4 vectors wide),
 * then 2, then 1 */
static inline __attribute__((always_inline)) void FN(panel)(int nf, int tail, const T *a, int64_t as0, int64_t as1,
                                                            const T *b, int64_t bs0, int64_t bs1, int64_t m,
                                                            int64_t kb, int nt, T *c, int64_t cs0, int64_t cs1,
                                                            bool init, T *buf)
{
    const T *p = b, *q = b;
    int64_t sp = bs0, sq = bs0;
    if (bs1 != 1) {
        FN(pack)(nf, nf + tail, nt, b, bs0, bs1, kb, buf);
        p = buf;
        q = buf + nf * L;
        sp = sq = (nf + tail) * L;
    } else if (tail) {
        FN(pack)(0, 1, nt, b + nf * L, bs0, 1, kb, buf);
        q = buf;
        sq = L;
    }
    int64_t i = 0;
    if (nf + tail <= 2)
        for (; i + 4 <= m; i += 4)
            FN(tile)(4, nf, tail, nt, a + i * as0, as0, as1, kb, p, sp, q, sq, c + i * cs0, cs0, cs1, init);
    for (; i + 2 <= m; i += 2)
        FN(tile)(2, nf, tail, nt, a + i * as0, as0, as1, kb, p, sp, q, sq, c + i * cs0, cs0, cs1, init);
    if (i < m)
        FN(tile)(1, nf, tail, nt, a + i * as0, as0, as1, kb, p, sp, q, sq, c + i * cs0, cs0, cs1, init);
}

/* C (m x n, strides cs0, cs1) = (init ? C : 0) + a @ b, for n <= NVMAX * L
 * and k <= KB: one panel */
static __attribute__((noinline)) void FN(block)(const T *a, int64_t as0, int64_t as1, const T *b, int64_t bs0,
                                                int64_t bs1, int64_t m, int64_t k, int64_t n, T *c, int64_t cs0,
                                                int64_t cs1, bool init)
{
    T buf[KB * NVMAX * L];
    int nt = (int)(n % L);
    switch (n) {
#define CASE(NF, TAIL) FN(panel)(NF, TAIL, a, as0, as1, b, bs0, bs1, m, k, nt, c, cs0, cs1, init, buf); break
#if L == 4
    case 1: case 2: case 3: CASE(0, 1);
    case 4: CASE(1, 0);
    case 5: case 6: case 7: CASE(1, 1);
    case 8: CASE(2, 0);
    case 9: case 10: case 11: CASE(2, 1);
    case 12: CASE(3, 0);
    case 13: case 14: case 15: CASE(3, 1);
    default: CASE(4, 0);
#else
    case 1: CASE(0, 1);
    case 2: CASE(1, 0);
    case 3: CASE(1, 1);
    case 4: CASE(2, 0);
    case 5: CASE(2, 1);
    case 6: CASE(3, 0);
    case 7: CASE(3, 1);
    default: CASE(4, 0);
#endif
#undef CASE
    }
}

/* the same for any n and k: blocks of NVMAX * L columns and KB rows of b */
static __attribute__((noinline)) void FN(blocks)(const T *a, int64_t as0, int64_t as1, const T *b, int64_t bs0,
                                                 int64_t bs1, int64_t m, int64_t k, int64_t n, T *c, int64_t cs0,
                                                 int64_t cs1, bool init)
{
    for (int64_t j0 = 0; j0 < n; j0 += NVMAX * L)
        for (int64_t l0 = 0;;) {
            FN(block)(a + l0 * as1, as0, as1, b + l0 * bs0 + j0 * bs1, bs0, bs1, m, k - l0 < KB ? k - l0 : KB,
                      n - j0 < NVMAX * L ? n - j0 : NVMAX * L, c + j0 * cs1, cs0, cs1, init || l0);
            if ((l0 += KB) >= k)
                break;
        }
}

/* c (m x n, contiguous) = c0, or c += c0 (strides s0, s1) */
static void FN(with_c0)(T *c, int64_t m, int64_t n, const T *c0, int64_t s0, int64_t s1, bool add)
{
    for (int64_t i = 0; i < m; i++, c += n, c0 += s0) {
        int64_t j = 0;
        if (s1 == 1)
            for (; j + L <= n; j += L) {
                V x, y;
                memcpy(&y, c0 + j, sizeof y);
                if (add) {
                    memcpy(&x, c + j, sizeof x);
                    y = x + y;
                }
                memcpy(c + j, &y, sizeof y);
            }
        for (; j < n; j++)
            c[j] = add ? c[j] + c0[j * s1] : c0[j * s1];
    }
}

/* roughly the instructions with the lanes along a dimension of vec, over
 * rows of the other; unit: its operand has unit stride along vec */
static inline uint64_t FN(cost)(uint64_t rows, uint64_t vec, uint64_t k, bool unit)
{
    uint64_t nv = (vec + L - 1) / L;
    return rows * k * (3 * nv + 2) + (unit ? (vec % L ? k * L : 0) : 2 * k * nv * L);
}

void GEMM_NAME(const T *a, int64_t as0, int64_t as1, const T *b, int64_t bs0, int64_t bs1, int64_t m, int64_t k,
               int64_t n, T *c, const T *c0, int64_t c0s0, int64_t c0s1, bool post)
{
    if (m <= 0 || n <= 0)
        return;
    bool init = c0 && !post;
    if (init)
        FN(with_c0)(c, m, n, c0, c0s0, c0s1, false);
    int64_t cs0 = n, cs1 = 1, rows = m, cols = n; /* C's, as the caller sees it */
    /* C^T = B^T A^T when that is cheaper: the lanes along i */
    if (FN(cost)((uint64_t)n, (uint64_t)m, (uint64_t)k, as0 == 1) +
            (uint64_t)(m * n) < FN(cost)((uint64_t)m, (uint64_t)n, (uint64_t)k, bs1 == 1)) {
        const T *t = a;
        a = b, b = t;
        int64_t s = as0;
        as0 = bs1, bs1 = s;
        s = as1, as1 = bs0, bs0 = s;
        s = m, m = n, n = s;
        cs0 = 1, cs1 = m;
    }
    if (n <= NVMAX * L && k <= KB)
        FN(block)(a, as0, as1, b, bs0, bs1, m, k, n, c, cs0, cs1, init);
    else
        FN(blocks)(a, as0, as1, b, bs0, bs1, m, k, n, c, cs0, cs1, init);
    if (c0 && post)
        FN(with_c0)(c, rows, cols, c0, c0s0, c0s1, true);
}

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
#undef GEMM_NAME

#endif
