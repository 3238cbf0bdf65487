/* test_gemm.c -- the float32 / float64 matrix kernel (src/gemm.c) against
 * a plain triple loop of its semantics, bit for bit.
 *
 * The reference: every element of C from its start value (C0 without post,
 * else 0), + a*b for l in order, unfused, then + C0 with post.  The kernel
 * vectorises, packs, blocks and transposes, none of which may change one
 * bit of any element: compared with memcmp, no tolerance, over random
 * shapes and every stride layout (row-major, transposed, padded, every
 * other element, broadcast), with and without C0, post or not, for
 * values from zeros and subnormals to ones whose products overflow.
 * (The PyTorch-generated cases in test_tensor and test_nnops check the
 * same kernel against torch's bits.)
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor.h"

/* ---- a deterministic generator (xorshift64*) ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

static int64_t rnd_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

static double rnd_unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

/* A value: mostly ordinary, with zeros of both signs, small integers,
 * subnormals and numbers big enough that products and sums overflow. */
static double rnd_value(double tiny, double huge)
{
    int r = (int)rnd_in(0, 99);
    double sign = rnd() & 1 ? -1.0 : 1.0;
    if (r < 8)
        return 0.0;
    if (r < 11)
        return -0.0;
    if (r < 21)
        return (double)rnd_in(-4, 4);
    if (r < 26)
        return sign * tiny * (1 + rnd_in(0, 1000));
    if (r < 30)
        return sign * huge * (0.5 + rnd_unit());
    return sign * (rnd_unit() * 4.0) * (r < 40 ? 1e-3 : 1.0);
}

/* ---- a stride layout of an r x s matrix: element (i, j) at i*s0 + j*s1 ---- */

typedef struct Layout {
    int64_t s0, s1; /* strides */
    int64_t size;   /* elements the buffer needs */
    const char *name;
} Layout;

static Layout layout(int64_t r, int64_t s, int kind)
{
    Layout L;
    switch (kind) {
    case 0: L = (Layout){s, 1, 0, "row-major"}; break;
    case 1: L = (Layout){1, r, 0, "transposed"}; break;
    case 2: L = (Layout){s + 3, 1, 0, "row-major, padded rows"}; break;
    case 3: L = (Layout){1, r + 5, 0, "transposed, padded"}; break;
    case 4: L = (Layout){2 * s + 1, 2, 0, "every other column"}; break;
    case 5: L = (Layout){2, 2 * r + 3, 0, "transposed, every other row"}; break;
    case 6: L = (Layout){0, 1, 0, "rows broadcast"}; break;
    default: L = (Layout){1, 0, 0, "columns broadcast"}; break;
    }
    L.size = (r - 1) * L.s0 + (s - 1) * L.s1 + 1;
    if (r == 0 || s == 0)
        L.size = 1;
    return L;
}
#define NLAYOUTS 8

/* ---- the reference and the comparison, for each type ---- */

#define DEFINE_CHECK(T, NAME, GEMM, TINY, HUGE)                                                                \
    static void NAME##_ref(const T *a, int64_t as0, int64_t as1, const T *b, int64_t bs0, int64_t bs1,         \
                           int64_t m, int64_t k, int64_t n, T *c, const T *c0, int64_t c0s0, int64_t c0s1,      \
                           bool post)                                                                          \
    {                                                                                                          \
        for (int64_t i = 0; i < m; i++)                                                                        \
            for (int64_t j = 0; j < n; j++) {                                                                  \
                T s = c0 && !post ? c0[i * c0s0 + j * c0s1] : 0;                                               \
                for (int64_t l = 0; l < k; l++) {                                                              \
                    T p = a[i * as0 + l * as1] * b[l * bs0 + j * bs1];                                         \
                    s = s + p;                                                                                 \
                }                                                                                              \
                if (c0 && post)                                                                                \
                    s = s + c0[i * c0s0 + j * c0s1];                                                           \
                c[i * n + j] = s;                                                                              \
            }                                                                                                  \
    }                                                                                                          \
    static T *NAME##_fill(int64_t size)                                                                        \
    {                                                                                                          \
        T *p = malloc((size_t)size * sizeof *p);                                                               \
        ck_assert_ptr_nonnull(p);                                                                              \
        for (int64_t i = 0; i < size; i++)                                                                     \
            p[i] = (T)rnd_value(TINY, HUGE);                                                                   \
        return p;                                                                                              \
    }                                                                                                          \
    /* one case: kinds of A's, B's and C0's layouts (c0kind < 0: no C0) */                                     \
    static void NAME##_case(int64_t m, int64_t k, int64_t n, int akind, int bkind, int c0kind, bool post)      \
    {                                                                                                          \
        Layout la = layout(m, k, akind), lb = layout(k, n, bkind), lc = layout(m, n, c0kind < 0 ? 0 : c0kind); \
        T *a = NAME##_fill(la.size), *b = NAME##_fill(lb.size), *c0 = c0kind < 0 ? NULL : NAME##_fill(lc.size); \
        int64_t cn = m * n + 8; /* with guard elements after C */                                              \
        T *want = malloc((size_t)cn * sizeof *want), *got = malloc((size_t)cn * sizeof *got);                 \
        ck_assert_ptr_nonnull(want);                                                                           \
        ck_assert_ptr_nonnull(got);                                                                            \
        for (int64_t i = 0; i < cn; i++)                                                                       \
            want[i] = got[i] = (T)(1000 + i);                                                                  \
        NAME##_ref(a, la.s0, la.s1, b, lb.s0, lb.s1, m, k, n, want, c0, lc.s0, lc.s1, post);                   \
        GEMM(a, la.s0, la.s1, b, lb.s0, lb.s1, m, k, n, got, c0, lc.s0, lc.s1, post);                          \
        if (memcmp(want, got, (size_t)cn * sizeof *want) != 0) {                                               \
            int64_t e = 0;                                                                                     \
            while (memcmp(&want[e], &got[e], sizeof *want) == 0)                                               \
                e++;                                                                                           \
            ck_abort_msg(#T " %lldx%lld @ %lldx%lld, A %s, B %s, C0 %s%s: element %lld is %a, want %a",       \
                         (long long)m, (long long)k, (long long)k, (long long)n, la.name, lb.name,             \
                         c0kind < 0 ? "none" : lc.name, post ? " (post)" : "", (long long)e, (double)got[e],   \
                         (double)want[e]);                                                                     \
        }                                                                                                      \
        free(a);                                                                                               \
        free(b);                                                                                               \
        free(c0);                                                                                              \
        free(want);                                                                                            \
        free(got);                                                                                             \
    }                                                                                                          \
    static void NAME##_random_case(int64_t m, int64_t k, int64_t n)                                            \
    {                                                                                                          \
        int c0kind = (int)rnd_in(-1, NLAYOUTS - 1);                                                            \
        NAME##_case(m, k, n, (int)rnd_in(0, NLAYOUTS - 1), (int)rnd_in(0, NLAYOUTS - 1), c0kind, rnd() & 1);   \
    }

DEFINE_CHECK(float, f32, sl_tensor_gemm_f32, 1e-42, 1e30)
DEFINE_CHECK(double, f64, sl_tensor_gemm_f64, 1e-315, 1e250)

/* ---- the cases ---- */

/* every combination of layouts, C0 and post, on shapes around the vector
 * widths and the training step's */
START_TEST(test_all_layouts)
{
    static const int64_t shapes[][3] = {
        {4, 2, 10}, {4, 10, 5}, {4, 5, 1}, {4, 1, 5}, {1, 4, 5}, {4, 5, 10}, {5, 4, 10}, {10, 4, 2},
        {1, 1, 1}, {3, 7, 9}, {8, 8, 8}, {17, 3, 16}, {2, 33, 31}, {16, 16, 17}, {1, 40, 1},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ak = 0; ak < NLAYOUTS; ak++)
            for (int bk = 0; bk < NLAYOUTS; bk++)
                for (int ck = -1; ck < NLAYOUTS; ck++)
                    for (int post = 0; post < 2; post++) {
                        f32_case(shapes[s][0], shapes[s][1], shapes[s][2], ak, bk, ck, post);
                        f64_case(shapes[s][0], shapes[s][1], shapes[s][2], ak, bk, ck, post);
                    }
}
END_TEST

/* every m, k, n up to 12, and random ones up to 40, random layouts */
START_TEST(test_small_shapes)
{
    for (int64_t m = 1; m <= 12; m++)
        for (int64_t k = 1; k <= 12; k++)
            for (int64_t n = 1; n <= 12; n++)
                for (int rep = 0; rep < 3; rep++) {
                    f32_random_case(m, k, n);
                    f64_random_case(m, k, n);
                }
    for (int rep = 0; rep < 6000; rep++) {
        int64_t m = rnd_in(1, 40), k = rnd_in(1, 40), n = rnd_in(1, 40);
        f32_random_case(m, k, n);
        f64_random_case(m, k, n);
    }
}
END_TEST

/* bigger ones: k past the kernel's blocks of 256, wide and tall C */
START_TEST(test_big_shapes)
{
    static const int64_t shapes[][3] = {
        {64, 300, 70}, {3, 700, 5}, {100, 257, 1}, {1, 513, 100}, {200, 16, 200}, {130, 64, 3}, {5, 256, 129},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int rep = 0; rep < 8; rep++) {
            f32_random_case(shapes[s][0], shapes[s][1], shapes[s][2]);
            f64_random_case(shapes[s][0], shapes[s][1], shapes[s][2]);
        }
}
END_TEST

/* k = 0: C is C0 (as it is, or 0 + C0 with post: -0 becomes +0), or zeros;
 * m or n = 0 writes nothing */
START_TEST(test_empty)
{
    for (int ck = -1; ck < NLAYOUTS; ck++)
        for (int post = 0; post < 2; post++) {
            f32_case(3, 0, 5, 0, 0, ck, post);
            f64_case(6, 0, 2, 1, 1, ck, post);
            f32_case(0, 4, 5, 0, 0, ck, post);
            f64_case(3, 4, 0, 0, 0, ck, post);
        }
    float z = -0.0f, c = 1.0f, d = 2.0f;
    sl_tensor_gemm_f32(&d, 1, 1, &d, 1, 1, 1, 0, 1, &c, &z, 0, 0, false);
    ck_assert(c == 0 && signbit(c));
    sl_tensor_gemm_f32(&d, 1, 1, &d, 1, 1, 1, 0, 1, &c, &z, 0, 0, true);
    ck_assert(c == 0 && !signbit(c));
}
END_TEST

static Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_all_layouts);
    tcase_add_test(tc, test_small_shapes);
    tcase_add_test(tc, test_big_shapes);
    tcase_add_test(tc, test_empty);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(gemm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
