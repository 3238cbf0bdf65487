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

/* One tile of C: R rows (of a, as0 apart) by nf full vectors and, with
 * tail, one of nt lanes; c = ci (or 0) + a @ b over kb, + cp (or not).
 * b's full vectors are at p (rows sp apart), the tail's at q (sq apart).
 * Inlined with constant R, nf and tail: the tile lives in registers. */
static inline __attribute__((always_inline)) void FN(tile)(int R, int nf, int tail, int nt, const T *a, int64_t as0,
                                                           int64_t as1, int64_t kb, const T *p, int64_t sp,
                                                           const T *q, int64_t sq, T *c, int64_t cs0, int64_t cs1,
                                                           const T *ci, int64_t cis0, int64_t cis1, const T *cp,
                                                           int64_t cps0, int64_t cps1)
{
    int nv = nf + tail;
    V acc[4][NVMAX];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int v = 0; v < nv; v++)
    {
        if (ci)
            acc[r][v] = FN(load)(ci + r * cis0 + v * L * cis1, cis1, v < nf ? L : nt);
        else
            acc[r][v] = (V){0};
    }
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
    if (cp)
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int v = 0; v < nv; v++) acc[r][v] =
            acc[r][v] + FN(load)(cp + r * cps0 + v * L * cps1, cps1, v < nf ? L : nt);
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

/* rows 0..m-1 of a panel of C: tiles of 4 rows (2 when the panel is 3 or 4
 * vectors wide), then 2, then 1 */
#define PANEL(NF, TAIL)                                                                                            \
    static void FN(panel_##NF##_##TAIL)(int nt, const T *a, int64_t as0, int64_t as1, int64_t m, int64_t kb,       \
                                        const T *p, int64_t sp, const T *q, int64_t sq, T *c, int64_t cs0,         \
                                        int64_t cs1, const T *ci, int64_t cis0, int64_t cis1, const T *cp,         \
                                        int64_t cps0, int64_t cps1)                                                \
    {                                                                                                              \
        int64_t i = 0;                                                                                             \
        if (NF + TAIL <= 2)                                                                                        \
            for (; i + 4 <= m; i += 4)                                                                             \
                FN(tile)(4, NF, TAIL, nt, a + i * as0, as0, as1, kb, p, sp, q, sq, c + i * cs0, cs0, cs1,          \
                         ci ? ci + i * cis0 : NULL, cis0, cis1, cp ? cp + i * cps0 : NULL, cps0, cps1);            \
        for (; i + 2 <= m; i += 2)                                                                                 \
            FN(tile)(2, NF, TAIL, nt, a + i * as0, as0, as1, kb, p, sp, q, sq, c + i * cs0, cs0, cs1,              \
                     ci ? ci + i * cis0 : NULL, cis0, cis1, cp ? cp + i * cps0 : NULL, cps0, cps1);                \
        if (i < m)                                                                                                 \
            FN(tile)(1, NF, TAIL, nt, a + i * as0, as0, as1, kb, p, sp, q, sq, c + i * cs0, cs0, cs1,              \
                     ci ? ci + i * cis0 : NULL, cis0, cis1, cp ? cp + i * cps0 : NULL, cps0, cps1);                \
    }
PANEL(0, 1)
PANEL(1, 0)
PANEL(1, 1)
PANEL(2, 0)
PANEL(2, 1)
PANEL(3, 0)
PANEL(3, 1)
PANEL(4, 0)
#undef PANEL

/* C (m x n, strides cs0, cs1) with the lanes along j */
static void FN(core)(const T *a, int64_t as0, int64_t as1, const T *b, int64_t bs0, int64_t bs1, int64_t m,
                     int64_t k, int64_t n, T *c, int64_t cs0, int64_t cs1, const T *c0, int64_t c0s0, int64_t c0s1,
                     bool post)
{
    T buf[KB * NVMAX * L];
    for (int64_t j0 = 0; j0 < n; j0 += NVMAX * L) {
        int64_t w = n - j0 < NVMAX * L ? n - j0 : NVMAX * L;
        int nf = (int)(w / L), nt = (int)(w % L), nv = nf + (nt > 0);
        for (int64_t l0 = 0; l0 == 0 || l0 < k; l0 += KB) {
            int64_t kb = k - l0 < KB ? k - l0 : KB;
            const T *bl = b + l0 * bs0 + j0 * bs1, *p = bl, *q = bl;
            int64_t sp = bs0, sq = bs0;
            if (bs1 != 1) { /* the panel, nv vectors a row */
                int64_t l = 0;
                if (bs0 == 1) /* columns of B contiguous: L x L tiles transposed */
                    for (; l + L <= kb; l += L)
                        for (int v = 0; v < nv; v++) {
                            V t[L];
                            UNROLL for (int x = 0; x < L; x++) t[x] =
                                v * L + x < w ? FN(load)(bl + l + (v * L + x) * bs1, 1, L) : (V){0};
                            GEMM_TRANSPOSE(t);
                            UNROLL for (int x = 0; x < L; x++) memcpy(buf + ((l + x) * nv + v) * L, &t[x],
                                                                      sizeof t[x]);
                        }
                for (; l < kb; l++)
                    for (int v = 0; v < nv; v++) {
                        V t = FN(load)(bl + l * bs0 + v * L * bs1, bs1, v < nf ? L : nt);
                        memcpy(buf + (l * nv + v) * L, &t, sizeof t);
                    }
                p = buf;
                q = buf + nf * L;
                sp = sq = nv * L;
            } else if (nt) { /* only the last nt columns */
                for (int64_t l = 0; l < kb; l++) {
                    V t = FN(load)(bl + l * bs0 + nf * L, 1, nt);
                    memcpy(buf + l * L, &t, sizeof t);
                }
                q = buf;
                sq = L;
            }
            /* where each row's sums start: C0 or 0 in the first block, else what C holds */
            const T *ci = l0 ? c + j0 * cs1 : c0 && !post ? c0 + j0 * c0s1 : NULL;
            int64_t cis0 = l0 ? cs0 : c0s0, cis1 = l0 ? cs1 : c0s1;
            const T *cp = c0 && post && l0 + kb >= k ? c0 + j0 * c0s1 : NULL;
            const T *al = a + l0 * as1;
            T *cj = c + j0 * cs1;
#define ARGS nt, al, as0, as1, m, kb, p, sp, q, sq, cj, cs0, cs1, ci, cis0, cis1, cp, c0s0, c0s1
            switch (nf * 2 + (nt > 0)) {
            case 1: FN(panel_0_1)(ARGS); break;
            case 2: FN(panel_1_0)(ARGS); break;
            case 3: FN(panel_1_1)(ARGS); break;
            case 4: FN(panel_2_0)(ARGS); break;
            case 5: FN(panel_2_1)(ARGS); break;
            case 6: FN(panel_3_0)(ARGS); break;
            case 7: FN(panel_3_1)(ARGS); break;
            default: FN(panel_4_0)(ARGS); break;
            }
#undef ARGS
        }
    }
}

/* roughly the instructions of core with the lanes along a dimension of
 * vec, over rows of the other; unit: its operand has unit stride there,
 * scatter: C is written across the lanes */
static int64_t FN(cost)(int64_t rows, int64_t vec, int64_t k, bool unit, bool scatter)
{
    int64_t nv = (vec + L - 1) / L, np = (nv + NVMAX - 1) / NVMAX;
    int64_t pack = unit ? (vec % L ? k * L : 0) : k * nv * L;
    return rows * (k * (5 * np + 2 * nv) + (scatter ? 2 * vec : 2 * nv)) + 2 * pack;
}

void GEMM_NAME(const T *a, int64_t as0, int64_t as1, const T *b, int64_t bs0, int64_t bs1, int64_t m, int64_t k,
               int64_t n, T *c, const T *c0, int64_t c0s0, int64_t c0s1, bool post)
{
    /* C^T = B^T A^T when that is cheaper: the lanes along i */
    if (FN(cost)(n, m, k, as0 == 1, true) < FN(cost)(m, n, k, bs1 == 1, false))
        FN(core)(b, bs1, bs0, a, as1, as0, n, k, m, c, 1, n, c0, c0s1, c0s0, post);
    else
        FN(core)(a, as0, as1, b, bs0, bs1, m, k, n, c, n, 1, c0, c0s0, c0s1, post);
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
