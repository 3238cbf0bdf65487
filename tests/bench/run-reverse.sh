#!/bin/sh
# run-reverse.sh BUILD_DIR [n ...] -- reverse mode on the extended Rosenbrock
# function (issue 3, benchmark 8b): builds and runs bench_reverse, then, when
# a python3 that can import torch is found, the same function under PyTorch's
# float64 autograd for the same n, with the same ratio grad/eval.
#
#   tests/bench/run-reverse.sh build-rev            n = 10 100 1000 10000 100000
#   tests/bench/run-reverse.sh build-rev 1000 10000
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [n ...]" >&2
    exit 2
fi
build=$1
shift
[ $# -gt 0 ] || set -- 10 100 1000 10000 100000

ninja -C "$build" tests/bench/bench_reverse >/dev/null
echo "== slope: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
"$build/tests/bench/bench_reverse" "$@"

py=
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1; then
        py=$p
        break
    fi
done
if [ -z "$py" ]; then
    echo "== PyTorch: not installed (apt-get install -y python3-torch), skipped"
    exit 0
fi

"$py" - "$@" <<'EOF'
# The same function and point under PyTorch float64 autograd, one thread.
#   vector: v a tensor of n elements, f from slices (PyTorch's natural form);
#   scalar: v a list of n 0-dim tensors, f by a Python loop (a graph of one
#           node per operation, like the tape; n <= 10^4, it is slow).
# eval: f under no_grad; grad: f + backward; the best of 9 interleaved
# batches of about 50 ms, as bench_reverse does.
import sys, time, torch

torch.set_num_threads(1)
ns = [int(a) for a in sys.argv[1:]]

def f_vec(v):
    a = v[:-1]
    return (100 * (v[1:] - a ** 2) ** 2 + (1 - a) ** 2).sum()

def f_scalar(v):
    s = torch.zeros((), dtype=torch.float64)
    for i in range(len(v) - 1):
        s = s + (100 * (v[i + 1] - v[i] ** 2) ** 2 + (1 - v[i]) ** 2)
    return s

def timeall(fs):
    reps = []
    for f in fs:
        f()
        r = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(r):
                f()
            dt = time.perf_counter() - t0
            if dt >= 0.05:
                break
            r = int(r * 0.06 / dt) + 1 if dt > 0.005 else r * 10
        reps.append(r)
    best = [float("inf")] * len(fs)
    for _ in range(9):
        for k, f in enumerate(fs):
            t0 = time.perf_counter()
            for _ in range(reps[k]):
                f()
            best[k] = min(best[k], (time.perf_counter() - t0) / reps[k])
    return best

print("== PyTorch %s float64 autograd, 1 thread (times per call, microseconds)" % torch.__version__)
print("%8s %6s %11s %11s %7s" % ("n", "form", "eval", "grad", "grad/ev"))
for n in ns:
    v = torch.full((n,), 1.5, dtype=torch.float64, requires_grad=True)

    def ev():
        with torch.no_grad():
            return f_vec(v)

    def gr():
        v.grad = None
        f_vec(v).backward()

    te, tg = timeall([ev, gr])
    assert abs(v.grad[0].item() - 451) < 1e-9
    print("%8d %6s %11.2f %11.2f %7.2f" % (n, "vector", te * 1e6, tg * 1e6, tg / te))
    if n <= 10000:
        vs = [torch.tensor(1.5, dtype=torch.float64, requires_grad=True) for _ in range(n)]

        def evs():
            with torch.no_grad():
                return f_scalar(vs)

        def grs():
            for x in vs:
                x.grad = None
            f_scalar(vs).backward()

        te, tg = timeall([evs, grs])
        assert abs(vs[0].grad.item() - 451) < 1e-9
        print("%8d %6s %11.2f %11.2f %7.2f" % (n, "scalar", te * 1e6, tg * 1e6, tg / te))
    sys.stdout.flush()
EOF
