#!/usr/bin/python3
"""Write the expected data of tests/unit/test_optim.c from PyTorch 1.13
(run by hand with python3-torch: /usr/bin/python3 tests/gen_optim.py).

Files (floats as Python hex literals, so C's strtod reads them back exactly;
float32 values are written as the doubles they are):

  optim_steps.txt   optimizer runs, every iterate:
                      case KIND DTYPE KEY=VALUE ...      (sgd | adam, f32 | f64)
                      param I HEX...                     (initial values)
                      step                               (then, for this step:)
                      set KEY VALUE                      (opt.lr = ... before it)
                      grad I HEX... | grad I none        (p.grad, or None: skipped)
                      expect I HEX...                    (the parameter after step())
                      end
  optim_repr.txt    print(optimizer) as torch prints it:
                      EXPRESSION <TAB> REPR with "\\n" for newlines

The runs draw random parameters and gradients (magnitudes from 1e-3 to 1e3,
some exact zeros) rather than computing a loss, so every update path is
exercised with many roundings; sizes straddle torch's vector blocks (16
floats, 8 doubles per cpu_kernel_vec iteration) so both the AVX2 body and
the scalar tail are compared.  The kernels found by tests/unit/test_optim.c
to match (see optim.c): add_(alpha=) and addcmul_ are fused multiply-adds,
addcdiv_ and division by a Python scalar are not.
"""
import os
import random

import torch

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unit")
random.seed(20240611)
torch.manual_seed(4321)
torch.set_num_threads(1)

DT = {"f32": torch.float32, "f64": torch.float64}


def hx(v):
    """float.hex without the trailing zeros: 0x1.afa6b8p+1"""
    s = float(v).hex()
    if "." not in s:
        return s
    mant, exp = s.split("p")
    mant = mant.rstrip("0").rstrip(".")
    return mant + "p" + exp


def vals(t):
    return " ".join(hx(v) for v in t.detach().flatten().tolist())


def rand_tensor(shape, dtype):
    scale = 10.0 ** random.uniform(-3, 3)
    t = torch.randn(shape, dtype=torch.float64) * scale
    if random.random() < 0.2:
        t[torch.rand(shape) < 0.3] = 0.0
    return t.to(dtype)


def run_case(kind, dt, opts, shapes, steps, schedule=None, none_grads=()):
    """One optimizer run; returns its lines."""
    dtype = DT[dt]
    params = [rand_tensor(s, dtype).requires_grad_() for s in shapes]
    kw = dict(opts)
    if kind == "adam" and ("beta1" in kw or "beta2" in kw):
        kw["betas"] = (kw.pop("beta1", 0.9), kw.pop("beta2", 0.999))
    opt = (torch.optim.SGD if kind == "sgd" else torch.optim.Adam)(params, **kw)
    head = ["case", kind, dt] + ["%s=%s" % (k, hx(v) if isinstance(v, float) else int(v)) for k, v in opts.items()]
    lines = [" ".join(head)]
    for i, p in enumerate(params):
        lines.append("param %d %s" % (i, vals(p)))
    for step in range(steps):
        lines.append("step")
        if schedule and step in schedule:
            k, v = schedule[step]
            opt.param_groups[0][k] = v
            lines.append("set %s %s" % (k, hx(v)))
        for i, p in enumerate(params):
            if (i, step) in none_grads:
                p.grad = None
                lines.append("grad %d none" % i)
            else:
                p.grad = rand_tensor(p.shape, dtype)
                lines.append("grad %d %s" % (i, vals(p.grad)))
        opt.step()
        for i, p in enumerate(params):
            lines.append("expect %d %s" % (i, vals(p)))
    lines.append("end")
    return lines


sgd_opts = [
    dict(lr=0.1),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.05, momentum=0.5, dampening=0.3),
    dict(lr=0.02, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.03, maximize=True),
    dict(lr=0.007, momentum=0.8, weight_decay=0.05, nesterov=True, maximize=True),
    dict(lr=0.3, momentum=0.99, dampening=0.1, weight_decay=0.001),
    dict(lr=1.0),
    dict(lr=0.15),
]
adam_opts = [
    dict(),
    dict(lr=0.01),
    dict(lr=0.1, beta1=0.8, beta2=0.99, eps=1e-6),
    dict(lr=0.002, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.05, maximize=True),
    dict(lr=0.003, beta1=0.5, beta2=0.9, eps=1e-3, weight_decay=0.01, amsgrad=True, maximize=True),
    dict(lr=1.0, beta1=0.0, beta2=0.0),
]

lines = []
for dt in ("f32", "f64"):
    for kind, table in (("sgd", sgd_opts), ("adam", adam_opts)):
        for n, opts in enumerate(table):
            shapes = [(1,), (19,), (2, 3)] if n % 2 == 0 else [(5,), (3, 11)]
            lines += run_case(kind, dt, opts, shapes, 24, none_grads={(1, 0), (1, 1), (0, 5)})
    # a learning-rate schedule, and long runs on larger tensors
    lines += run_case("sgd", dt, dict(lr=0.1, momentum=0.9), [(7,)], 12, schedule={4: ("lr", 0.01), 8: ("lr", 0.5)})
    lines += run_case("adam", dt, dict(lr=0.1), [(7,)], 12, schedule={4: ("lr", 0.01), 8: ("lr", 0.5)})
    lines += run_case("sgd", dt, dict(lr=0.01, momentum=0.9, weight_decay=1e-4), [(300,)], 6)
    lines += run_case("adam", dt, dict(lr=0.001, weight_decay=1e-4, amsgrad=True), [(300,)], 6)
    lines += run_case("adam", dt, dict(lr=0.01), [(3,)], 400)

with open(os.path.join(here, "optim_steps.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("wrote optim_steps.txt", len(lines))

# ---- printing --------------------------------------------------------------
x = torch.ones(2, requires_grad=True)
SGD, Adam = torch.optim.SGD, torch.optim.Adam
exprs = [
    "SGD([x], lr=0.1)",
    "SGD([x], lr=0.001)",
    "SGD([x], lr=1)",
    "SGD([x], lr=1e-05)",
    "SGD([x], lr=0.01, momentum=0.9)",
    "SGD([x], 0.1, 0.9, 0.1, 0.001)",
    "SGD([x], lr=0.01, momentum=0.9, nesterov=True)",
    "SGD([x], lr=0.5, weight_decay=0.0001, maximize=True)",
    "SGD([x], lr=0.1, foreach=False)",
    "Adam([x])",
    "Adam([x], lr=0.01)",
    "Adam([x], 0.1, (0.8, 0.99), 1e-06, 0.1, True)",
    "Adam([x], lr=0.002, betas=[0.5, 0.6])",
    "Adam([x], lr=1, maximize=True, amsgrad=True)",
]
lines = []
for e in exprs:
    lines.append("%s\t%s" % (e, repr(eval(e)).replace("\n", "\\n")))


class SimpleGD(torch.optim.Optimizer):
    def __init__(self, params, lr):
        super().__init__(params, dict(lr=lr))


class Momentum(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, mu=0.9):
        super().__init__(params, dict(lr=lr, mu=mu))


lines.append("user SimpleGD([x], lr=0.1)\t%s" % repr(SimpleGD([x], lr=0.1)).replace("\n", "\\n"))
lines.append("user Momentum([x])\t%s" % repr(Momentum([x])).replace("\n", "\\n"))
with open(os.path.join(here, "optim_repr.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("wrote optim_repr.txt", len(lines))

# ---- transcripts -----------------------------------------------------------
# tests/transcripts/optim.slope and optim_errors.slope: slope statements and,
# when Python differs, their Python spelling; the expected output is what
# PyTorch 1.13 prints.  When torch raises, the transcript gets a comment
# '# torch: Error: message' and no expected output: `slope --record` fills in
# slope's message, to be reviewed against the comment.  User optimizers are
# spelled as torch.optim.Optimizer subclasses (UserOptimizer below), as
# seed 003 writes SimpleGD.
import contextlib
import io
import warnings

S = None  # the same in Python
ONLY = "slope only"  # no Python spelling: output from `slope --record`
PRELUDE = '''
class UserOptimizer(torch.optim.Optimizer):
    """What `optimizer Name(hyper=...) { rule }` is: rule(p, state, **hyper)
    once per parameter with a grad, in no_grad."""
    def __init__(self, params, **hyper):
        super().__init__(params, hyper)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is not None:
                    self.rule(p, self.state[p], **{k: v for k, v in group.items() if k != 'params'})

def state(st, name, p, init):
    if name not in st:
        st[name] = torch.full_like(p, init) if isinstance(init, (int, float)) else init
    return st[name]
'''

SIMPLE_GD = '''\
optimizer SimpleGD(lr=0.01) {
    p -= lr * p.grad
}'''
SIMPLE_GD_PY = '''\
class SimpleGD(UserOptimizer):
    def __init__(self, params, lr=0.01): super().__init__(params, lr=lr)
    def rule(self, p, st, lr):
        p -= lr * p.grad'''
MOMENTUM = '''\
optimizer Momentum(lr=0.01, mu=0.9) {
    state v = 0
    v = mu*v + p.grad
    p.add_(v, alpha=-lr)
}'''
MOMENTUM_PY = '''\
class Momentum(UserOptimizer):
    def __init__(self, params, lr=0.01, mu=0.9): super().__init__(params, lr=lr, mu=mu)
    def rule(self, p, st, lr, mu):
        v = state(st, 'v', p, 0)
        v = mu*v + p.grad
        p.add_(v, alpha=-lr)
        st['v'] = v'''
MOMENTUM2 = '''\
optimizer Momentum2(lr=0.01, mu=0.9) {
    state v = 0
    v = mu*v + p.grad
    p -= lr*v
}'''
MOMENTUM2_PY = MOMENTUM_PY.replace("Momentum(", "Momentum2(").replace("p.add_(v, alpha=-lr)", "p -= lr*v")
ADAMW = '''\
optimizer MyAdam(lr=0.001, b1=0.9, b2=0.999, eps=1e-8) {
    state m = 0
    state v = 0
    state t = 0
    t += 1
    m = b1*m + (1 - b1)*p.grad
    v = b2*v + (1 - b2)*p.grad**2
    mhat = m / (1 - b1**t)
    vhat = v / (1 - b2**t)
    p -= lr * mhat / (vhat.sqrt() + eps)
}'''
ADAMW_PY = '''\
class MyAdam(UserOptimizer):
    def __init__(self, params, lr=0.001, b1=0.9, b2=0.999, eps=1e-8):
        super().__init__(params, lr=lr, b1=b1, b2=b2, eps=eps)
    def rule(self, p, st, lr, b1, b2, eps):
        m, v, t = state(st, 'm', p, 0), state(st, 'v', p, 0), state(st, 't', p, 0)
        t += 1
        m = b1*m + (1 - b1)*p.grad
        v = b2*v + (1 - b2)*p.grad**2
        mhat = m / (1 - b1**t)
        vhat = v / (1 - b2**t)
        p -= lr * mhat / (vhat.sqrt() + eps)
        st['m'], st['v'], st['t'] = m, v, t'''


def loop(n, body, py_body=None, every=None):
    """for i in range(n) { body } in both languages (body: ;-free lines)."""
    lines = body.split("\n")
    py = (py_body or body).split("\n")
    s = "for i in range(%d) {\n" % n + "\n".join("    " + l for l in lines) + "\n}"
    p = "for i in range(%d):\n" % n + "\n".join("    " + l for l in py)
    return s, p


TRANSCRIPTS = {}
TRANSCRIPTS["optim"] = ("""\
# Optimizers: torch.optim.SGD and Adam, updating parameters exactly as
# PyTorch 1.13 does (float32 bit for bit), and optimizers written in slope
# (`optimizer Name(hyper=default) { rule for p }`), which print and step as
# torch.optim.Optimizer subclasses do.  Expected output generated by
# tests/gen_optim.py from PyTorch 1.13 running the same programs (user
# optimizers as Optimizer subclasses).""", [
    ("# --- SGD: seed 000's first step, then momentum", None),
    ("x = torch.ones(1, requires_grad=True)", S),
    ("opt = optim.SGD([x], lr=0.001)", "opt = torch.optim.SGD([x], lr=0.001)"),
    ("opt", S),
    ("(x**2 + x - 6).backward()", S),
    ("opt.step()", S),
    ("x", S),
    ("opt.zero_grad()", S),
    ("x.grad", S),
    ("w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)", S),
    ("opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)", S),
    loop(6, "opt.zero_grad()\nloss = (w**2).sum()\nloss.backward()\nopt.step()\nprint(i, w, loss.item())"),
    ("w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)", S),
    ("opt = torch.optim.SGD([w], lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.01)", S),
    ("opt", S),
    loop(6, "opt.zero_grad()\n(w**4).sum().backward()\nopt.step()\nprint(i, w)"),
    ("w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)", S),
    ("opt = torch.optim.SGD([w], 0.05, 0.5, 0.25, maximize=True)", S),
    loop(4, "opt.zero_grad()\n(-(w - 3)**2).sum().backward()\nopt.step()\nprint(i, w)"),
    ("# --- Adam", None),
    ("w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)", S),
    ("opt = torch.optim.Adam([w], lr=0.1)", S),
    ("opt", S),
    loop(8, "opt.zero_grad()\nloss = ((w - 1)**2 * torch.tensor([1.0, 10.0, 100.0])).sum()\nloss.backward()\n"
         "opt.step()\nprint(i, w, loss.item())"),
    ("w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)", S),
    ("opt = torch.optim.Adam([w], lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, amsgrad=True)", S),
    ("opt", S),
    loop(5, "opt.zero_grad()\n(w.sin() * w).sum().backward()\nopt.step()\nprint(i, w.tolist())"),
    ("# --- float64 parameters, several of them, a tuple of them", None),
    ("a = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)", S),
    ("b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)", S),
    ("opt = torch.optim.Adam((a, b), lr=0.3)", S),
    loop(4, "opt.zero_grad()\n((a * b - 1)**2).sum().backward()\nopt.step()\nprint(i, a.tolist(), b.item())"),
    ("# --- learning-rate schedules: opt.lr reads and sets the learning rate", None),
    ("w = torch.tensor([3.0], requires_grad=True)", S),
    ("opt = optim.SGD([w], lr=0.1)", "opt = torch.optim.SGD([w], lr=0.1)"),
    ("opt.lr", "opt.param_groups[0]['lr']"),
    loop(6, "opt.zero_grad()\n(w**2).sum().backward()\nopt.step()\nopt.lr = opt.lr * 0.5\nprint(i, w, opt.lr)",
         "opt.zero_grad()\n(w**2).sum().backward()\nopt.step()\nopt.param_groups[0]['lr'] *= 0.5\n"
         "print(i, w, opt.param_groups[0]['lr'])"),
    ("opt", S),
    ("opt.momentum = 0.9", "opt.param_groups[0]['momentum'] = 0.9"),
    ("opt.momentum", "opt.param_groups[0]['momentum']"),
    ("# --- zero_grad(set_to_none=True), a parameter without a grad, step(closure)", None),
    ("opt.zero_grad(set_to_none=True)", S),
    ("print(w.grad)", S),
    ("opt.step()", S),
    ("w", S),
    ("def closure() {\n    opt.zero_grad()\n    loss = (w**2).sum()\n    loss.backward()\n    return loss\n}",
     "def closure():\n    opt.zero_grad()\n    loss = (w**2).sum()\n    loss.backward()\n    return loss"),
    ("opt.step(closure)", S),
    ("w", S),
    ("# --- user optimizers: seed 003's SimpleGD on x², 50 steps", None),
    (SIMPLE_GD, SIMPLE_GD_PY),
    ("x = torch.tensor([1.0], requires_grad=True)", S),
    ("opt = SimpleGD([x], lr=0.1)", S),
    ("print(opt)", S),
    loop(50, "opt.zero_grad()\nf = x[0] ** 2\nf.backward()\nopt.step()\nif i < 5 {\n    print(i, x)\n}",
         "opt.zero_grad()\nf = x[0] ** 2\nf.backward()\nopt.step()\nif i < 5:\n    print(i, x)"),
    ("x", S),
    ("x.item()", S),
    ("opt.lr", "opt.param_groups[0]['lr']"),
    ("SimpleGD([x])", S),
    ("SimpleGD([x], 0.5)", S),
    ("# --- per-parameter state: a user momentum is SGD(momentum=mu), bit for bit", None),
    (MOMENTUM, MOMENTUM_PY),
    ("torch.manual_seed(3)", "_ = torch.manual_seed(3)"),
    ("w0 = torch.randn(5)", S),
    ("k = torch.randn(5)", S),
    ("u = w0.clone().requires_grad_()", S),
    ("v = w0.clone().requires_grad_()", S),
    ("ou = Momentum([u], lr=0.05)", S),
    ("ov = torch.optim.SGD([v], lr=0.05, momentum=0.9)", S),
    loop(100, "ou.zero_grad()\nov.zero_grad()\n((u * k).sin() * u).sum().backward()\n((v * k).sin() * v).sum().backward()\n"
         "ou.step()\nov.step()"),
    ("u", S),
    ("v", S),
    ("bool((u == v).all())", S),
    ("ou", S),
    ("# p -= lr*v rounds lr*v first: two roundings where SGD's add_(alpha=) has one", None),
    (MOMENTUM2, MOMENTUM2_PY),
    ("c = w0.clone().requires_grad_()", S),
    ("oc = Momentum2([c], lr=0.05)", S),
    loop(100, "oc.zero_grad()\n((c * k).sin() * c).sum().backward()\noc.step()"),
    ("bool((c == v).all())", S),
    ("(c - v).abs().max().item() < 1e-5", S),
    ("# --- several states, one of them a step counter; Adam written out", None),
    (ADAMW, ADAMW_PY),
    ("w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)", S),
    ("opt = MyAdam([w], lr=0.1)", S),
    ("opt", S),
    loop(5, "opt.zero_grad()\n((w - 1)**2).sum().backward()\nopt.step()\nprint(i, w)"),
])

TRANSCRIPTS["optim_errors"] = ("""\
# Optimizers given bad input: torch's messages where torch has one (the
# '# torch:' comments), and slope's own for user optimizers.  Expected
# output generated by tests/gen_optim.py from PyTorch 1.13, errors filled in
# by `slope --record` and reviewed against the comments.""", [
    ("x = torch.ones(2, requires_grad=True)", S),
    ("# --- SGD", None),
    ("optim.SGD([x], lr=-1)", "torch.optim.SGD([x], lr=-1)"),
    ("optim.SGD([x], lr=-0.5)", "torch.optim.SGD([x], lr=-0.5)"),
    ("optim.SGD([x], lr=0.1, momentum=-0.9)", "torch.optim.SGD([x], lr=0.1, momentum=-0.9)"),
    ("optim.SGD([x], lr=0.1, weight_decay=-1)", "torch.optim.SGD([x], lr=0.1, weight_decay=-1)"),
    ("optim.SGD([x], lr=0.1, nesterov=True)", "torch.optim.SGD([x], lr=0.1, nesterov=True)"),
    ("optim.SGD([x], lr=0.1, momentum=0.9, dampening=0.5, nesterov=True)",
     "torch.optim.SGD([x], lr=0.1, momentum=0.9, dampening=0.5, nesterov=True)"),
    ("optim.SGD([x])", "torch.optim.SGD([x])"),
    ("optim.SGD([x], lr=\"big\")", "torch.optim.SGD([x], lr=\"big\")"),
    ("optim.SGD([x], lr=0.1, momentun=0.9)", "torch.optim.SGD([x], lr=0.1, momentun=0.9)"),
    ("optim.SGD([x], 0.1, 0.9, 0, 0, False, True)", "torch.optim.SGD([x], 0.1, 0.9, 0, 0, False, True)"),
    ("optim.SGD(lr=0.1)", "torch.optim.SGD(lr=0.1)"),
    ("# --- the parameters", None),
    ("optim.SGD([], lr=0.1)", "torch.optim.SGD([], lr=0.1)"),
    ("optim.SGD([x * 2], lr=0.1)", "torch.optim.SGD([x * 2], lr=0.1)"),
    ("optim.SGD([x, 1], lr=0.1)", "torch.optim.SGD([x, 1], lr=0.1)"),
    ("optim.SGD(5, lr=0.1)", "torch.optim.SGD(5, lr=0.1)"),
    ("optim.SGD([torch.ones(2)], lr=0.1).step()", "torch.optim.SGD([torch.ones(2)], lr=0.1).step()"),
    ("# --- Adam", None),
    ("optim.Adam([x], lr=-0.001)", "torch.optim.Adam([x], lr=-0.001)"),
    ("optim.Adam([x], eps=-1e-8)", "torch.optim.Adam([x], eps=-1e-8)"),
    ("optim.Adam([x], betas=(1.0, 0.999))", "torch.optim.Adam([x], betas=(1.0, 0.999))"),
    ("optim.Adam([x], betas=(0.9, -0.1))", "torch.optim.Adam([x], betas=(0.9, -0.1))"),
    ("optim.Adam([x], weight_decay=-1)", "torch.optim.Adam([x], weight_decay=-1)"),
    ("optim.Adam([x], lr=nan)", "torch.optim.Adam([x], lr=float('nan'))"),
    ("optim.Adam([x], fused=True)", "torch.optim.Adam([x], fused=True)"),
    ("# --- methods and attributes", None),
    ("opt = optim.SGD([x], lr=0.1)", "opt = torch.optim.SGD([x], lr=0.1)"),
    ("opt.zero_grad(True, 2)", S),
    ("opt.step(1, 2)", S),
    ("opt.learning_rate", S),
    ("# torch takes any value into param_groups (and fails in step()); slope checks it", None),
    ("opt.lr = \"fast\"", "opt.param_groups[0]['lr'] = 'fast'"),
    ("opt.betas = 0.9", ONLY),
    ("optim.SGD([x], lr=0.1, dampening=\"x\")", ONLY),
    ("opt.lr", "opt.param_groups[0]['lr']"),
    ("# --- user optimizers", None),
    (SIMPLE_GD, SIMPLE_GD_PY),
    ("SimpleGD([x], rate=0.1)", S),
    ("SimpleGD([x], 0.1, 0.2)", S),
    ("SimpleGD([], 0.1)", S),
    ("SimpleGD()", S),
    ("SimpleGD([x], lr=0.1, lr=0.2)", ONLY),
    ("optimizer Bad(lr=0.1) {\n    state v = 0\n    v = v + p.grad * undefined_thing(lr)\n    p -= v\n}", ONLY),
    ("opt = Bad([x])", ONLY),
    ("x.grad = torch.ones(2)", S),
    ("opt.step()", ONLY),
    ("x", S),
    ("y = x * 2", S),
    ("y.requires_grad", S),
    ("optimizer Lost(lr=0.1) {\n    p = p - lr * p.grad\n}", ONLY),
    ("Lost([x]).step()", ONLY),
    ("optimizer Clash(lr=0.1) {\n    state lr = 0\n}", ONLY),
    ("optimizer Twice(lr=0.1) {\n    state v = 0\n    state v = 1\n}", ONLY),
    ("optimizer UsesP(p=1) {\n    pass\n}", ONLY),
    ("optimizer Shape(lr=0.1) {\n    state v = torch.zeros(3)\n    p -= lr * (v + p.grad)\n}", ONLY),
    ("Shape([x]).step()", ONLY),
    ("state s = 0", ONLY),
    ("x", S),
])


def run_py(src, ns):
    """Output of src as the REPL shows it (a bare expression prints its repr)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            code = compile(src, "<case>", "eval")
        except SyntaxError:
            code = None
        if code is not None:
            v = eval(code, ns)
            if v is not None:
                print(repr(v))
        else:
            exec(src, ns)
    return buf.getvalue()


def write_transcripts():
    warnings.simplefilter("ignore")
    out_dir = os.path.join(os.path.dirname(here), "transcripts")
    for name, (header, cases) in TRANSCRIPTS.items():
        ns = {"torch": torch}
        exec(PRELUDE, ns)
        torch.manual_seed(0)
        out = [header, ""]
        for slope, py in cases:
            if py is None and slope.startswith("#"):
                out.append(slope)
                continue
            err = None
            text = ""
            if py is not ONLY:
                try:
                    text = run_py(slope if py is S else py, ns)
                except Exception as e:  # torch's error, for review
                    err = "%s: %s" % (type(e).__name__, str(e).split("\n")[0])
            if err:
                out.append("# torch: " + err)
            lines = slope.split("\n")
            out.append("> " + lines[0])
            out.extend("... " + l for l in lines[1:])
            if text:
                out.extend(text.rstrip("\n").split("\n"))
        with open(os.path.join(out_dir, name + ".slope"), "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
        print("wrote", name + ".slope")


write_transcripts()
