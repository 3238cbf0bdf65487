#!/usr/bin/python3
"""Write the expected data of tests/unit/test_tensor.c and test_autograd.c
from PyTorch 1.13 (run by hand with python3-torch: /usr/bin/python3).

Files (one case per line, floats as C hex literals so they read back
exactly):
  tensor_promotion.txt   OPERAND_A OPERAND_B OP RESULT_DTYPE
  tensor_f32.txt         OP N  x0..  [y0..]  ->  r0..   (float32 kernels, bit for bit)
  tensor_sum.txt         SHAPE DIM  x..  ->  r..          (float32 sums: torch's cascade order)
  tensor_mm.txt          M K N  a..  b..  ->  c..         (float32 matmul: the BLAS order)
  tensor_rng.txt         SEED KIND N  ->  values           (manual_seed then rand/randn)
  autograd_f32.txt       OP N  x..  ->  grad..             (float32 gradients of sum(op(x)) bit for bit)
"""
import os, random, struct

import torch

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unit")
random.seed(20240601)
torch.manual_seed(1234)


def hx(v):
    return float(v).hex()


def f32(t):
    return [hx(v) for v in t.flatten().tolist()]


def write(name, lines):
    with open(os.path.join(here, name), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", name, len(lines))


# ---- promotion -------------------------------------------------------------
operands = {
    "b1": lambda: torch.tensor([True, False]),
    "i1": lambda: torch.tensor([1, 2]),
    "f1": lambda: torch.tensor([1.5, 2.5]),
    "d1": lambda: torch.tensor([1.5, 2.5], dtype=torch.float64),
    "b0": lambda: torch.tensor(True),
    "i0": lambda: torch.tensor(3),
    "f0": lambda: torch.tensor(1.5),
    "d0": lambda: torch.tensor(1.5, dtype=torch.float64),
    "pb": lambda: True,
    "pi": lambda: 3,
    "pf": lambda: 1.5,
}
names = {torch.bool: "bool", torch.int64: "int64", torch.float32: "float32", torch.float64: "float64"}
lines = []
for a in operands:
    for b in operands:
        if a[0] == "p" and b[0] == "p":
            continue
        for op in "+*/":
            x, y = operands[a](), operands[b]()
            try:
                r = eval("x %s y" % op)
                lines.append("%s %s %s %s" % (a, b, op, names[r.dtype]))
            except RuntimeError:
                lines.append("%s %s %s error" % (a, b, op))
write("tensor_promotion.txt", lines)

# ---- float32 kernels -------------------------------------------------------
def rnd(n, lo=-3.0, hi=3.0):
    return torch.tensor([random.uniform(lo, hi) for _ in range(n)], dtype=torch.float32)


lines = []
binops = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
          "div": lambda x, y: x / y, "pow": lambda x, y: x.abs() ** y, "max": torch.maximum,
          "min": torch.minimum, "atan2": torch.atan2}
for op, f in binops.items():
    for _ in range(20):
        n = random.randint(1, 15)
        x, y = rnd(n), rnd(n)
        lines.append("%s %d %s %s -> %s" % (op, n, " ".join(f32(x)), " ".join(f32(y)), " ".join(f32(f(x, y)))))
# scalar operands (Python floats: rounded to float32 first), add with alpha
for _ in range(30):
    n = random.randint(1, 15)
    x = rnd(n)
    s = random.uniform(-2, 2)
    for op, f in (("adds", lambda: x + s), ("muls", lambda: x * s), ("divs", lambda: x / s),
                  ("rsubs", lambda: s - x), ("rdivs", lambda: s / x)):
        lines.append("%s %d %s %s -> %s" % (op, n, " ".join(f32(x)), hx(s), " ".join(f32(f()))))
    y = rnd(n)
    r = x.clone()
    r.add_(y, alpha=-s)
    lines.append("addalpha %d %s %s %s -> %s" % (n, " ".join(f32(x)), " ".join(f32(y)), hx(s), " ".join(f32(r))))
for e in (2, 3, -2, 0.5, -0.5, -1, 1.5, 0.3, 4):
    for _ in range(5):
        n = random.randint(1, 15)
        x = rnd(n, 0.1, 3.0)
        lines.append("pows %d %s %s -> %s" % (n, " ".join(f32(x)), hx(e), " ".join(f32(x ** e))))
unops = {"sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp, "log": torch.log,
         "sqrt": torch.sqrt, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
         "abs": torch.abs, "neg": torch.neg, "sinh": torch.sinh, "cosh": torch.cosh, "atan": torch.atan,
         "asin": torch.asin, "acos": torch.acos, "log2": torch.log2, "log10": torch.log10,
         "floor": torch.floor, "ceil": torch.ceil, "round": torch.round, "sign": torch.sign,
         "rsqrt": torch.rsqrt, "reciprocal": torch.reciprocal}
# Sizes on both sides of torch's vector blocks (8 lanes, blocks of 16 in
# cpu_kernel_vec), magnitudes up to 30 (sin/cos argument reduction), and
# float64 ("d" + op) as well: torch computes these through Sleef.
for op, f in unops.items():
    for i in range(24):
        n = random.randint(1, 40)
        lo, hi = (0.05, 3.0) if op in ("log", "sqrt", "log2", "log10", "rsqrt") else \
                 (-0.95, 0.95) if op in ("asin", "acos") else (-3.0, 3.0)
        if i % 3 == 2 and op in ("sin", "cos", "tan", "atan", "exp", "tanh", "sigmoid", "log", "log10", "log2"):
            lo, hi = lo * 10, hi * 10
            if op.startswith("log"):
                lo = 0.01
        x = rnd(n, lo, hi)
        lines.append("%s %d %s -> %s" % (op, n, " ".join(f32(x)), " ".join(f32(f(x)))))
        xd = x.double() * (1 + 1e-9)
        lines.append("d%s %d %s -> %s" % (op, n, " ".join(f32(xd)), " ".join(f32(f(xd)))))
for op, f in (("pow", lambda x, y: x.abs() ** y), ("atan2", torch.atan2)):
    for _ in range(20):
        n = random.randint(16, 40)
        x, y = rnd(n), rnd(n)
        lines.append("%s %d %s %s -> %s" % (op, n, " ".join(f32(x)), " ".join(f32(y)), " ".join(f32(f(x, y)))))
        xd, yd = x.double() * (1 + 1e-9), y.double()
        lines.append("d%s %d %s %s -> %s" % (op, n, " ".join(f32(xd)), " ".join(f32(yd)), " ".join(f32(f(xd, yd)))))
for e in (1.5, 0.3, -1.7):
    for _ in range(5):
        n = random.randint(16, 40)
        x = rnd(n, 0.1, 3.0)
        lines.append("pows %d %s %s -> %s" % (n, " ".join(f32(x)), hx(e), " ".join(f32(x ** e))))
        xd = x.double() * (1 + 1e-9)
        lines.append("dpows %d %s %s -> %s" % (n, " ".join(f32(xd)), hx(e), " ".join(f32(xd ** e))))
write("tensor_f32.txt", lines)

# ---- sums --------------------------------------------------------------------
lines = []
for n in list(range(1, 70)) + [100, 127, 128, 129, 255, 256, 257, 500, 1023, 1024, 1025, 3000]:
    x = torch.randn(n) * random.choice([1.0, 100.0, 1e-3])
    lines.append("%d -1 %s -> %s" % (n, " ".join(f32(x)), hx(x.sum().item())))
for _ in range(60):
    r, c = random.randint(1, 24), random.randint(1, 40)
    x = torch.randn(r, c)
    for d in (0, 1):
        lines.append("%dx%d %d %s -> %s" % (r, c, d, " ".join(f32(x)), " ".join(f32(x.sum(d)))))
for _ in range(20):
    a, b, c = random.randint(1, 6), random.randint(1, 20), random.randint(1, 20)
    x = torch.randn(a, b, c)
    lines.append("%dx%dx%d 1 %s -> %s" % (a, b, c, " ".join(f32(x)), " ".join(f32(x.sum(1)))))
write("tensor_sum.txt", lines)

# ---- matmul --------------------------------------------------------------------
lines = []
for _ in range(60):
    m, k, n = random.randint(1, 8), random.randint(1, 40), random.randint(1, 8)
    a, b = torch.randn(m, k), torch.randn(k, n)
    lines.append("%d %d %d %s %s -> %s" % (m, k, n, " ".join(f32(a)), " ".join(f32(b)), " ".join(f32(a @ b))))
write("tensor_mm.txt", lines)

# ---- generator -------------------------------------------------------------------
lines = []
for seed in (0, 1, 42, 1234, 2**32 + 5):
    for kind, f in (("rand", torch.rand), ("randn", torch.randn)):
        for n in (1, 3, 15, 16, 17, 40):
            for dt, dn in ((torch.float32, "f32"), (torch.float64, "f64")):
                torch.manual_seed(seed)
                v = f(n, dtype=dt)
                lines.append("%d %s %s %d -> %s" % (seed, kind, dn, n, " ".join(hx(x) for x in v.tolist())))
write("tensor_rng.txt", lines)

# ---- float32 gradients -------------------------------------------------------------
lines = []
gops = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp, "log": torch.log,
    "sqrt": torch.sqrt, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
    "abs": torch.abs, "sinh": torch.sinh, "cosh": torch.cosh, "atan": torch.atan, "asin": torch.asin,
    "acos": torch.acos, "log2": torch.log2, "log10": torch.log10, "rsqrt": torch.rsqrt,
    "reciprocal": torch.reciprocal, "neg": torch.neg,
    "square": lambda x: x ** 2, "cube": lambda x: x ** 3, "pow15": lambda x: x ** 1.5,
    "powm2": lambda x: x ** -2, "mulself": lambda x: x * x, "divself": lambda x: 1 / (x * x + 1),
    "quad": lambda x: x ** 2 + x - 6, "mean": lambda x: x.mean() * 3, "max": lambda x: x.max(),
    "rpow": lambda x: 2 ** x, "xpowx": lambda x: x ** x, "mse": lambda x: ((x - 0.3) ** 2).mean(),
}
for op, f in gops.items():
    for _ in range(8):
        n = random.randint(1, 40)
        lo, hi = (0.1, 3.0) if op in ("log", "sqrt", "log2", "log10", "rsqrt", "pow15", "xpowx", "powm2") else \
                 (-0.9, 0.9) if op in ("asin", "acos") else (-3.0, 3.0)
        x = rnd(n, lo, hi).requires_grad_()
        f(x).sum().backward()
        lines.append("%s %d %s -> %s" % (op, n, " ".join(f32(x.detach())), " ".join(f32(x.grad))))
write("autograd_f32.txt", lines)
