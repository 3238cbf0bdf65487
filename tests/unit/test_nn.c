/* test_nn.c -- layers, losses and parameters() through the C API: the
 * constructors as builtins (PyTorch's initial weights bit for bit, from
 * nn_init.txt written by tests/gen_nn.py), the object hooks (repr,
 * getattr, call, index), sl_nn_collect_parameters on modules, lists and
 * user functions, argument errors, and no leaks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "eval_internal.h"
#include "expr.h"
#include "nn.h"
#include "nnops.h"
#include "num.h"
#include "tensor_value.h"
#include "session.h"




/* The first line of the error text must contain want. */
static void expect_error(SlSession *s, const char *text, const char *want)
{
    SlRunStatus st;
    char *got = run(s, text, &st);
    ck_assert_msg(st != SL_RUN_OK, "input %s: no error (printed %s)", text, got);
    got[strcspn(got, "\n")] = '\0';
    ck_assert_msg(strstr(got, want), "input %s:\nexpected an error with: %s\ngot: %s", text, want, got);
    free(got);
}

/* Call a builtin of this module with positional and keyword arguments. */
static SlValue *call(const char *name, SlValue **args, size_t n, const char **kwn, SlValue **kwv, size_t nkw,
                     SlSession *s, SlError *err)
{
    const SlBuiltin *b = sl_nn_builtin_lookup(name);
    ck_assert_msg(b != NULL, "no builtin %s", name);
    SlCall c = {.s = s, .args = args, .nargs = n, .kwnames = kwn, .kwargs = kwv, .nkw = nkw, .err = err};
    return b->fn(&c);
}

static SlTensor *attr_tensor(SlValue *m, const char *name)
{
    SlError err = {0};
    SlValue *v = m->u.obj.type->getattr(m, name, &err);
    ck_assert_msg(v != NULL, "no attribute %s", name);
    SlTensor *t = sl_tensor_of(v);
    if (t)
        sl_tensor_ref(t);
    sl_unref(v);
    return t; /* new reference, or NULL for None */
}

static FILE *open_data(const char *name)
{
    const char *env = getenv("SL_TEST_DATA_DIR");
    const char *dirs[] = {env, "../tests/unit", "../../tests/unit", "tests/unit", "."};
    char path[4096];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i])
            continue;
        snprintf(path, sizeof path, "%s/%s", dirs[i], name);
        FILE *f = fopen(path, "r");
        if (f)
            return f;
    }
    ck_abort_msg("cannot find test data %s (set SL_TEST_DATA_DIR to tests/unit)", name);
    return NULL;
}

/* "weight f32 N hex..." against t, or "bias none" against NULL */
static void check_param(const char *line, SlTensor *t, const char *what)
{
    char name[16], dt[8];
    int off = 0;
    if (sscanf(line, "%15s none", name) == 1 && strstr(line, " none")) {
        ck_assert_msg(t == NULL, "%s: expected no %s", what, name);
        return;
    }
    long n;
    ck_assert(sscanf(line, "%15s %7s %ld%n", name, dt, &n, &off) == 3);
    ck_assert_msg(t != NULL, "%s: missing %s", what, name);
    ck_assert_int_eq(sl_tensor_numel(t), n);
    ck_assert(t->requires_grad && t->is_param && t->grad_fn == NULL);
    bool f32 = strcmp(dt, "f32") == 0;
    ck_assert_int_eq(t->dtype, f32 ? SL_DT_F32 : SL_DT_F64);
    const char *p = line + off;
    for (long i = 0; i < n; i++) {
        unsigned long long bitsv;
        int used;
        ck_assert(sscanf(p, "%llx%n", &bitsv, &used) == 1);
        p += used;
        if (f32) {
            float f = sl_tensor_get_f(t, i);
            unsigned int u;
            memcpy(&u, &f, sizeof u);
            ck_assert_msg(u == (unsigned int)bitsv, "%s %s[%ld]: %08x, torch %08llx", what, name, i, u, bitsv);
        } else {
            double d = sl_tensor_get_d(t, i);
            unsigned long long u;
            memcpy(&u, &d, sizeof u);
            ck_assert_msg(u == bitsv, "%s %s[%ld]: %016llx, torch %016llx", what, name, i, u, bitsv);
        }
    }
}

START_TEST(test_init_matches_torch)
{
    SlSession *s = session();
    FILE *f = open_data("nn_init.txt");
    char *line = NULL;
    size_t cap = 0;
    SlValue *m = NULL;
    char what[64] = "";
    int layers = 0;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || !line[0])
            continue;
        long a[5];
        int bias;
        char dt[8];
        if (sscanf(line, "seed %ld", &a[0]) == 1) {
            sl_tensor_manual_seed((uint64_t)a[0]);
        } else if (sscanf(line, "Linear %ld %ld %d %7s", &a[0], &a[1], &bias, dt) == 4 ||
                   sscanf(line, "Conv2d %ld %ld %ld %ld %d %7s", &a[0], &a[1], &a[2], &a[3], &bias, dt) == 6) {
            bool conv = line[0] == 'C';
            SlValue *args[3] = {sl_int_si(a[0]), sl_int_si(a[1]), NULL};
            if (conv) {
                args[2] = sl_tuple_new(2);
                sl_list_push_take(args[2], sl_int_si(a[2]));
                sl_list_push_take(args[2], sl_int_si(a[3]));
            }
            const char *kwn[2] = {"bias", "dtype"};
            SlValue *kwv[2] = {sl_bool(bias != 0),
                               sl_tensor_module_attr("torch", strcmp(dt, "f32") ? "float64" : "float32")};
            SlError err = {0};
            sl_unref(m);
            m = call(conv ? "Conv2d" : "Linear", args, conv ? 3 : 2, kwn, kwv, 2, s, &err);
            ck_assert_msg(m != NULL, "%s: %s", line, err.msg);
            ck_assert(sl_nn_is_module(m));
            for (int i = 0; i < 3; i++)
                if (args[i])
                    sl_unref(args[i]);
            sl_unref(kwv[1]);
            snprintf(what, sizeof what, "%s", line);
            layers++;
        } else if (!strncmp(line, "weight ", 7) || !strncmp(line, "bias ", 5)) {
            ck_assert(m != NULL);
            SlTensor *t = attr_tensor(m, line[0] == 'w' ? "weight" : "bias");
            check_param(line, t, what);
            sl_tensor_unref(t);
        } else {
            ck_abort_msg("bad line in nn_init.txt: %s", line);
        }
    }
    ck_assert_int_ge(layers, 10);
    sl_unref(m);
    free(line);
    fclose(f);
    sl_session_free(s);
}
END_TEST

START_TEST(test_repr)
{
    SlSession *s = session();
    expect(s, "Linear(2, 10)", "Linear(in_features=2, out_features=10, bias=True)\n");
    expect(s, "Conv2d(1, 4, kernel_size=4, bias=False)",
           "Conv2d(1, 4, kernel_size=(4, 4), stride=(1, 1), bias=False)\n");
    expect(s, "Conv2d(1, 4, (3, 2), stride=2, padding=1)",
           "Conv2d(1, 4, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1))\n");
    expect(s, "Sequential(Linear(2, 3), ReLU(), Sequential(Tanh(), Softmax(dim=1)))",
           "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n"
           "  (2): Sequential(\n    (0): Tanh()\n    (1): Softmax(dim=1)\n  )\n)\n");
    expect(s, "print(Sequential(), Softmax(), LeakyReLU(), LeakyReLU(1, True), Flatten(), MSELoss(reduction='sum'))",
           "Sequential() Softmax(dim=None) LeakyReLU(negative_slope=0.01) LeakyReLU(negative_slope=1, "
           "inplace=True) Flatten(start_dim=1, end_dim=-1) MSELoss()\n");
    expect(s, "type(CrossEntropyLoss())", "<class 'CrossEntropyLoss'>\n");
    sl_session_free(s);
}
END_TEST

START_TEST(test_lookup_tables)
{
    /* capitalised classes and the loss functions are globals; relu etc. only after F. */
    ck_assert_ptr_nonnull(sl_nn_global_lookup("Linear"));
    ck_assert_ptr_nonnull(sl_nn_global_lookup("parameters"));
    ck_assert_ptr_nonnull(sl_nn_global_lookup("cross_entropy"));
    ck_assert_ptr_null(sl_nn_global_lookup("relu"));
    ck_assert_ptr_null(sl_nn_global_lookup("linear"));
    ck_assert_ptr_nonnull(sl_nn_builtin_lookup("relu"));
    ck_assert_ptr_nonnull(sl_nn_builtin_lookup("Linear"));
    ck_assert_ptr_null(sl_nn_builtin_lookup("nope"));
    size_t n = 0;
    for (const SlBuiltin *b; (b = sl_nn_global_at(n)); n++) {
        ck_assert_ptr_eq(sl_nn_global_lookup(b->name), b);
        ck_assert(b->sig && b->help && strlen(b->help) > 5);
    }
    ck_assert_uint_ge(n, 24);
    /* the global relu is still the math builtin */
    ck_assert_ptr_ne(sl_builtin_lookup("relu"), sl_nn_builtin_lookup("relu"));
}
END_TEST

/* parameters(v) via the C API: the tensors themselves, in order */
static void check_params(SlSession *s, const char *expr, const char *const *expected, size_t n)
{
    SlError err = {0};
    SlValue *v = sl_scope_get(&s->globals, expr);
    ck_assert_msg(v != NULL, "no global %s", expr);
    SlValue *list = sl_list_new(4);
    ck_assert_msg(sl_nn_collect_parameters(s, v, list, &err), "%s: %s", expr, err.msg);
    ck_assert_uint_eq(list->u.list.len, n);
    for (size_t i = 0; i < n; i++) {
        char mod[32];
        const char *dot = strchr(expected[i], '.');
        snprintf(mod, sizeof mod, "%.*s", (int)(dot - expected[i]), expected[i]);
        SlTensor *t = attr_tensor(sl_scope_get(&s->globals, mod), dot + 1);
        ck_assert_msg(sl_tensor_of(list->u.list.items[i]) == t, "%s: item %zu is not %s", expr, i, expected[i]);
        sl_tensor_unref(t);
    }
    sl_unref(list);
}

START_TEST(test_collect_parameters)
{
    SlSession *s = session();
    /* made in the order b, a, c: a function lists them in that order */
    expect(s, "b = Linear(2, 3)\na = Linear(3, 4, bias=False)\nc = Linear(4, 1)\nact = ReLU()", "");
    expect(s, "f(x) = c(act(a(b(x))))", "");
    static const char *const fwant[] = {"b.weight", "b.bias", "a.weight", "c.weight", "c.bias"};
    check_params(s, "f", fwant, 5);
    /* through another function, a repeat and a parameter shadowing a layer */
    expect(s, "g(x, c) = f(x) + b(x).sum() + c", "");
    check_params(s, "g", fwant, 5);
    /* a def whose local shadows a global layer */
    expect(s, "def h(x) {\n  a = 2\n  return c(x) * a\n}", "");
    static const char *const hwant[] = {"c.weight", "c.bias"};
    check_params(s, "h", hwant, 2);
    /* a list keeps its order */
    expect(s, "lst = [c, b, c]", "");
    static const char *const lwant[] = {"c.weight", "c.bias", "b.weight", "b.bias"};
    check_params(s, "lst", lwant, 4);
    /* a Sequential: its children's order */
    expect(s, "seq = Sequential(c, act, b)", "");
    check_params(s, "seq", lwant, 4);
    /* a recursive function terminates */
    expect(s, "def r(x) {\n  if x > 0 { return r(x - 1) }\n  return b(x)\n}", "");
    static const char *const rwant[] = {"b.weight", "b.bias"};
    check_params(s, "r", rwant, 2);
    /* a body's lists: layers in them count, data (even tensors that require grad) does not */
    expect(s, "layers = [c, 1.5]\ndata = [torch.ones(2, requires_grad=True)]\nloop = [b]\nloop.append(loop);", "");
    expect(s, "u(x) = layers[0](x) + data[0].sum() + loop[0](x).sum()", "");
    static const char *const uwant[] = {"b.weight", "b.bias", "c.weight", "c.bias"};
    check_params(s, "u", uwant, 4);
    expect(s, "loop.pop();", "");
    /* the builtin gives the same list */
    expect(s, "len(parameters(f))", "5\n");
    expect(s, "len(parameters(seq))", "4\n");
    expect(s, "len(seq.parameters())", "4\n");
    expect_error(s, "parameters(3)", "parameters() argument must be a module");
    expect_error(s, "k(x) = x^2\nparameters(k)", "function 'k' uses no layers");
    expect_error(s, "parameters([b, 3])", "item 1 of the list is int");
    sl_session_free(s);
}
END_TEST

START_TEST(test_attributes_and_sequence)
{
    SlSession *s = session();
    expect(s, "l = Linear(2, 3)", "");
    expect(s, "l.in_features, l.out_features, l.training", "(2, 3, True)\n");
    expect(s, "l.weight.shape", "torch.Size([3, 2])\n");
    expect(s, "l.bias.requires_grad", "True\n");
    expect(s, "c = Conv2d(3, 8, (3, 2), stride=(2, 1))", "");
    expect(s, "c.kernel_size, c.stride, c.padding, c.weight.shape",
           "((3, 2), (2, 1), (0, 0), torch.Size([8, 3, 3, 2]))\n");
    expect(s, "m = Sequential(l, ReLU(), Linear(3, 1))", "");
    expect(s, "len(m)", "3\n");
    expect(s, "m[1]", "ReLU()\n");
    expect(s, "m[-3].in_features", "2\n");
    expect(s, "m[1:]", "Sequential(\n  (1): ReLU()\n  (2): Linear(in_features=3, out_features=1, bias=True)\n)\n");
    expect(s, "m[::-1][0]", "Linear(in_features=3, out_features=1, bias=True)\n");
    expect(s, "m.eval().training, m[0].training, l.training", "(False, False, False)\n");
    expect(s, "m.train()[0].training", "True\n");
    expect(s, "m.append(Tanh());\nlen(m)", "4\n");
    expect(s, "for k in m { print(k) }",
           "Linear(in_features=2, out_features=3, bias=True)\nReLU()\n"
           "Linear(in_features=3, out_features=1, bias=True)\nTanh()\n");
    expect(s, "l.bias = None\nl", "Linear(in_features=2, out_features=3, bias=False)\n");
    expect(s, "l.weight = nn.Parameter(torch.ones(3, 2))\nl.weight.sum()", "tensor(6., grad_fn=<SumBackward0>)\n");
    expect(s, "len(m.parameters())", "3\n");
    expect_error(s, "m[4]", "index 4 is out of range");
    expect_error(s, "l.weight = torch.ones(3, 2)", "cannot assign 'torch.FloatTensor' as parameter 'weight'");
    expect_error(s, "m.append(m)", "cannot append a Sequential to itself");
    /* a nested Sequential may take layers but not grow deeper */
    expect(s, "inner = Sequential()\nouter = Sequential(inner)\ninner.append(ReLU());\nlen(outer[0])", "1\n");
    expect_error(s, "inner.append(Sequential())", "inside another one");
    expect_error(s, "Sequential(Sequential(m), 1)", "int is not a Module subclass");
    sl_session_free(s);
}
END_TEST

START_TEST(test_argument_errors)
{
    SlSession *s = session();
    expect_error(s, "Linear(2)", "Linear() missing required argument 'out_features'");
    expect_error(s, "Linear(2, 3, True, None, None, 6)", "Linear() takes from 2 to 5 positional arguments but 6");
    expect_error(s, "Linear(2, 3, bad=1)", "unexpected keyword argument 'bad'");
    expect_error(s, "Linear(2, in_features=3)", "multiple values for argument 'in_features'");
    expect_error(s, "Linear(-1, 3)", "Trying to create tensor with negative dimension -1: [3, -1]");
    expect_error(s, "Linear(100000, 100000)", "beyond slope's tensor size limit");
    expect_error(s, "Linear(2, 3)(5)", "linear(): argument 'input' (position 1) must be Tensor, not int");
    expect_error(s, "MSELoss()(torch.ones(2), 1)",
                 "mse_loss(): argument 'target' (position 2) must be Tensor, not int");
    expect_error(s, "MSELoss(reduction='avg')", "avg is not a valid value for reduction");
    expect_error(s, "F.mse_loss(torch.ones(2), torch.ones(3))",
                 "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0");
    expect_error(s, "BCELoss()(torch.ones(2, 1), torch.ones(2))",
                 "Using a target size (torch.Size([2])) that is different to the input size (torch.Size([2, 1]))");
    expect_error(s, "Conv2d(1, 4, 3, padding='foo')", "Invalid padding string 'foo'");
    expect_error(s, "Linear(2, 3)()", "forward() missing required argument 'input'");
    expect_error(s, "w = torch.ones(2, requires_grad=True)\nReLU(inplace=True)(w)", "leaf");
    /* the session goes on */
    expect(s, "Identity()(7)", "7\n");
    sl_session_free(s);
}
END_TEST

START_TEST(test_nesting_is_bounded)
{
    SlSession *s = session();
    expect_error(s, "q = Identity()\nfor i in range(1000) { q = Sequential(q) }", "nested more than");
    expect(s, "len(q)", "1\n");
    expect(s, "q(3)", "3\n");
    sl_session_free(s);
}
END_TEST

START_TEST(test_no_leaks)
{
    long t0 = sl_tensor_live(), n0 = sl_node_live();
    SlSession *s = session();
    free(run(s, "l = Linear(4, 3)\nc = Conv2d(1, 2, 2)\nm = Sequential(l, ReLU(), Sequential(Tanh()))\n"
           "net(x) = m(x)\np = parameters(net)\nq = m[1:]\nn = m.named_parameters()\n"
           "Linear(2, 3)(5)\nMSELoss(reduction='x')\nSequential(1)\nm.append(m)\nparameters(3)\n"
           "z = l(torch.ones(2, 4))\nloss = MSELoss()(z, torch.zeros(2, 3))\nloss.backward()\nm.zero_grad()",
        NULL));
    sl_session_free(s);
    ck_assert_int_eq(sl_tensor_live(), t0);
    ck_assert_int_eq(sl_node_live(), n0);
}
END_TEST

/* ---- forward: these need nnops.c -------------------------------------- */

/* The number text prints (the statement must succeed). */
static double item(SlSession *s, const char *text)
{
    SlRunStatus st;
    char *out = run(s, text, &st);
    char *end;
    double d = strtod(out, &end);
    ck_assert_msg(st == SL_RUN_OK && end != out, "input:\n%s\ngot:\n%s", text, out);
    free(out);
    return d;
}

START_TEST(test_forward_matches_definitions)
{
    SlSession *s = session();
    /* each layer against the formula written with tensor operations */
    expect(s, ":seed 3\nl = Linear(3, 2)\nx = torch.rand(4, 3)\nc = Conv2d(2, 3, 2, padding=1)\n"
              "img = torch.rand(1, 2, 3, 3)",
           "");
    ck_assert_double_le(item(s, "print((l(x) - (x @ l.weight.T + l.bias)).abs().max().item())"), 1e-6);
    ck_assert_double_le(item(s, "print((Sequential(l, Sigmoid())(x) - sigmoid(l(x))).abs().max().item())"), 0);
    ck_assert_double_le(item(s, "print((Softmax(dim=1)(x).sum(1) - 1).abs().max().item())"), 1e-6);
    ck_assert_double_le(item(s, "print((LogSoftmax(dim=1)(x).exp() - Softmax(dim=1)(x)).abs().max().item())"), 1e-6);
    ck_assert_double_le(item(s, "d = x - 0.5\n"
                                "print((LeakyReLU(0.5)(d) - torch.where(d > 0, d, 0.5 * d)).abs().max().item())"),
                        0);
    expect(s, "c(img).shape", "torch.Size([1, 3, 4, 4])\n");
    /* one output element by hand: out[0, 0, 1, 1] covers img[0, :, 0:2, 0:2] */
    ck_assert_double_le(item(s, "by_hand = (img[0, :, 0:2, 0:2] * c.weight[0]).sum() + c.bias[0]\n"
                                "print((c(img)[0, 0, 1, 1] - by_hand).abs().item())"),
                        1e-6);
    ck_assert_double_le(item(s, "print((MSELoss()(x, torch.zeros(4, 3)) - (x * x).mean()).abs().item())"), 1e-7);
    ck_assert_double_le(
        item(s, "print((L1Loss(reduction='sum')(x, torch.ones(4, 3)) - (1 - x).sum()).abs().item())"), 1e-6);
    ck_assert_double_le(item(s, "t = torch.tensor([0, 2, 1, 1])\n"
                                "print((CrossEntropyLoss()(x, t) - NLLLoss()(LogSoftmax(dim=1)(x), t)).abs().item())"),
                        1e-7);
    sl_session_free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *su = suite_create("nn");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_init_matches_torch);
    tcase_add_test(tc, test_repr);
    tcase_add_test(tc, test_lookup_tables);
    tcase_add_test(tc, test_collect_parameters);
    tcase_add_test(tc, test_attributes_and_sequence);
    tcase_add_test(tc, test_argument_errors);
    tcase_add_test(tc, test_nesting_is_bounded);
    tcase_add_test(tc, test_no_leaks);
    suite_add_tcase(su, tc);
    TCase *fw = tcase_create("forward");
    tcase_add_test(fw, test_forward_matches_definitions);
    suite_add_tcase(su, fw);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
