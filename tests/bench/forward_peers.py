#!/usr/bin/python3
"""forward_peers.py -- the mpmath side of benchmark 8c (bench_forward.c).

Derivatives 0..10 of exp(sin(x)) at x = 0.5, by mpmath.diffs (numerical
differentiation at raised precision) and mpmath.taylor, at mp.dps = D.

  forward_peers.py time D...        µs per run of diffs and taylor at each D
  forward_peers.py values D         the derivatives, one per line, "k value",
                                    computed at D + 30 digits, printed to D + 10
  forward_peers.py compare D FILE...
                                    agreeing significant digits between each FILE
                                    (lines "k value", e.g. bench_forward --values)
                                    and mpmath at D + 30 digits; prints the minimum
                                    over k, one line per file
  forward_peers.py c-literal D      the 10th derivative to D digits as a C string
                                    literal (for tests/unit/test_forward.c)

Needs Debian's python3-mpmath (run with /usr/bin/python3).
"""
import sys
import time

import mpmath
from mpmath import mp

if hasattr(sys, "set_int_max_str_digits"):  # Python >= 3.11 limits int(str) to 4300 digits
    sys.set_int_max_str_digits(0)

N = 10
X = "0.5"


def f(x):
    return mp.exp(mp.sin(x))


def derivs(dps):
    with mp.workdps(dps):
        return list(mp.diffs(f, mp.mpf(X), N))


def bench(fn, budget=2.0, min_runs=1, max_runs=1000):
    """µs per call: repeat until budget seconds have passed."""
    runs, t0 = 0, time.perf_counter()
    while True:
        fn()
        runs += 1
        el = time.perf_counter() - t0
        if runs >= max_runs or (runs >= min_runs and el >= budget):
            return el / runs * 1e6, runs


def cmd_time(ds):
    print(f"# mpmath {mpmath.__version__} backend {mpmath.libmp.BACKEND}, python {sys.version.split()[0]}")
    for d in ds:
        mp.dps = d
        x = mp.mpf(X)
        us_d, n_d = bench(lambda: list(mp.diffs(f, x, N)))
        us_t, n_t = bench(lambda: mp.taylor(f, x, N))
        print(f"mpmath D={d} diffs_us={us_d:.1f} runs={n_d} taylor_us={us_t:.1f} runs={n_t}")
        sys.stdout.flush()


def cmd_values(d):
    ds = derivs(d + 30)
    with mp.workdps(d + 30):
        for k, v in enumerate(ds):
            print(k, mp.nstr(v, d + 10, min_fixed=1, max_fixed=0))


def agree(a, b):
    """Significant decimal digits on which a and b agree (b the reference)."""
    if a == b:
        return float("inf")
    if b == 0:
        return -mp.log10(abs(a)) if a else float("inf")
    return float(-mp.log10(abs(a - b) / abs(b)))


def cmd_compare(d, paths):
    ref = derivs(d + 30)
    with mp.workdps(d + 30):
        for path in paths:
            worst = float("inf")
            with open(path) as fh:
                for line in fh:
                    k, v = line.split(None, 1)
                    worst = min(worst, agree(mp.mpf(v.replace(" ", "")), ref[int(k)]))
            print(f"{worst:.1f}" if worst != float("inf") else "all")


def cmd_c_literal(d):
    v = derivs(d + 30)[N]
    with mp.workdps(d + 30):
        s = mp.nstr(v, d, min_fixed=1, max_fixed=0)
    print(f"/* d^10/dx^10 exp(sin(x)) at 0.5, {d} digits, mpmath {mpmath.__version__} diffs at dps {d + 30} */")
    for i in range(0, len(s), 72):
        print(f'    "{s[i:i + 72]}"')


def main(argv):
    if len(argv) >= 2 and argv[0] == "time":
        cmd_time([int(a) for a in argv[1:]])
    elif len(argv) == 2 and argv[0] == "values":
        cmd_values(int(argv[1]))
    elif len(argv) >= 3 and argv[0] == "compare":
        cmd_compare(int(argv[1]), argv[2:])
    elif len(argv) == 2 and argv[0] == "c-literal":
        cmd_c_literal(int(argv[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
