/* test_train.c -- training loops written in slope, through the evaluator's
 * C API: seed 000's XOR network trained for 100 000 steps with no growth in
 * live tensors, storages, graph nodes or heap, and the same loss as a
 * shorter run continued (a step depends on nothing but the state). */
#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "eval.h"
#include "expr.h"
#include "num.h"
#include "tensor.h"
#include "session.h"

/* run text, which must succeed; what it printed (malloc'd) */
static char *run_ok(SlSession *s, const char *text)
{
    SlRunStatus r;
    char *buf = run(s, text, &r);
    ck_assert_msg(r == SL_RUN_OK, "failed:\n%s\n%s", text, buf);
    return buf;
}

static const char *const setup_xor =
    "torch.manual_seed(0)\n"
    "x2 = torch.tensor([[1.0,1.0], [1.0,0.0], [0.0,0.1], [0.0,0.0]], requires_grad=True)\n"
    "target2 = torch.tensor([[1.0],[0.0],[0.0],[1.0]], requires_grad=True)\n"
    "l1 = nn.Linear(2, 10)\n"
    "l2 = nn.Linear(10, 5)\n"
    "l3 = nn.Linear(5, 1)\n"
    "model(x) = sigmoid(l3(relu(l2(relu(l1(x))))))\n"
    "opt = optim.SGD(parameters(model), lr=0.01)\n"
    "loss_fcn = nn.MSELoss()\n"
    "losses = []\n"
    "def train(n) {\n"
    "    for i in range(n) {\n"
    "        opt.zero_grad()\n"
    "        loss = loss_fcn(model(x2), target2)\n"
    "        loss.backward()\n"
    "        opt.step()\n"
    "    }\n"
    "    losses.append(loss.item())\n"
    "}\n";

static size_t heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return 0; /* ASan's allocator: not comparable */
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks;
#endif
}

START_TEST(test_xor_memory_flat)
{
    /* both ways: the loop body replayed (capture.h), and interpreted */
    bool replay = _i == 0;
    sl_num_set_prec(53);
    sl_expr_set_style(SL_STYLE_UNICODE);
    SlSession *s = sl_session_new();
    sl_session_set_mode(s, SL_MODE_CHECK);
    free(run_ok(s, replay ? ":replay on\n" : ":replay off\n"));
    free(run_ok(s, setup_xor));
    free(run_ok(s, "train(1000)\n"));
    long tensors = sl_tensor_live(), storages = sl_storage_live(), nodes = sl_node_live();
    size_t heap = heap_in_use();
    free(run_ok(s, "train(100000)\n"));
    ck_assert_int_eq(sl_tensor_live(), tensors);
    ck_assert_int_eq(sl_storage_live(), storages);
    ck_assert_int_eq(sl_node_live(), nodes);
    size_t after = heap_in_use();
    /* pools and caches may settle, but 100 000 steps may not grow the heap */
    ck_assert_msg(after <= heap + 64 * 1024, "heap grew from %zu to %zu bytes", heap, after);
    /* the loss went down, and printing it works */
    char *out = run_ok(s, "print(losses[0] > losses[1], losses[1] < 0.01)\n");
    ck_assert_str_eq(out, "True True\n");
    free(out);
    out = run_ok(s, ":replay\n");
    ck_assert_str_eq(out, replay ? "on; last loop: replayed 4 of the body's 4 statements (42 operations)\n"
                                 : "off\n");
    free(out);
    free(run_ok(s, ":replay on\n"));
    sl_session_free(s);
}
END_TEST

/* A step depends only on the state: 300 steps at once give the bits of
 * 100 + 200. */
START_TEST(test_xor_steps_compose)
{
    sl_num_set_prec(53);
    SlSession *a = sl_session_new(), *b = sl_session_new();
    sl_session_set_mode(a, SL_MODE_CHECK);
    sl_session_set_mode(b, SL_MODE_CHECK);
    free(run_ok(a, setup_xor));
    free(run_ok(b, setup_xor));
    free(run_ok(a, "train(300)\n"));
    free(run_ok(b, "train(100)\ntrain(200)\n"));
    char *la = run_ok(a, "print(losses[-1])\n"), *lb = run_ok(b, "print(losses[-1])\n");
    ck_assert_str_eq(la, lb);
    free(la);
    free(lb);
    sl_session_free(a);
    sl_session_free(b);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("train");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_xor_memory_flat, 0, 2);
    tcase_add_test(tc, test_xor_steps_compose);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
