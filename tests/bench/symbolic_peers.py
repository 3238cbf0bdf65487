#!/usr/bin/env python3
"""symbolic_peers.py -- SymPy's side of benchmark 8a (see run-symbolic.sh).

    symbolic_peers.py N [--no-subs]

Builds l_0 = x, l_{k+1} = 4*l_k*(1 - l_k) as a SymPy expression, times
sympy.diff(l_N, x) alone (the cache cleared before every call, best of 5
batches of >= 0.2 s or one call when slower), and prints one line of
key=value fields:

  n            N
  diff_us      microseconds per sympy.diff call
  dag          distinct subexpressions of the result (a walk that visits
               each distinct node once: how much SymPy shares)
  tree         nodes of the result as a tree (count by memoised sums on
               that DAG; what count_ops-like tree walks traverse)
  count_ops    sympy.count_ops(result) when it finishes within the budget
               (it walks the tree), else -
  subs_us      d.subs(x, 0.3) (SymPy's own evaluation), when N <= 12, else -
  value        the value at x = 0.3 (from subs, or a memoised float walk)
"""
import sys
import time

import sympy
from sympy.core.cache import clear_cache


def logistic(n, x):
    l = x
    for _ in range(n):
        l = 4 * l * (1 - l)
    return l


def post_order(e):
    """The distinct nodes of e, children before parents."""
    done = set()
    order = []
    stack = [(e, False)]
    while stack:
        a, expanded = stack.pop()
        if id(a) in done:
            continue
        if not expanded:
            stack.append((a, True))
            stack.extend((c, False) for c in a.args if id(c) not in done)
            continue
        done.add(id(a))
        order.append(a)
    return order


def dag_stats(e):
    """(distinct nodes, tree nodes) without walking the tree."""
    order = post_order(e)
    tree = {}
    for a in order:
        tree[id(a)] = 1 + sum(tree[id(c)] for c in a.args)
    return len(order), tree[id(e)]


def float_value(e, x, v):
    """e at x = v, each distinct node once (for checking large results)."""
    memo = {}
    for a in post_order(e):
        if a == x:
            r = v
        elif a.is_Number:
            r = float(a)
        elif a.is_Add:
            r = sum(memo[id(c)] for c in a.args)
        elif a.is_Mul:
            r = 1.0
            for c in a.args:
                r *= memo[id(c)]
        elif a.is_Pow:
            r = memo[id(a.args[0])] ** memo[id(a.args[1])]
        else:
            raise ValueError("unexpected node %r" % (a.func,))
        memo[id(a)] = r
    return memo[id(e)]


def main():
    n = int(sys.argv[1])
    do_subs = "--no-subs" not in sys.argv
    x = sympy.Symbol("x")
    l = logistic(n, x)
    best = float("inf")
    d = None
    for _ in range(5):
        reps = 0
        total = 0.0
        while True:
            clear_cache()
            t0 = time.perf_counter()
            d = sympy.diff(l, x)
            total += time.perf_counter() - t0
            reps += 1
            if total >= 0.2:
                break
        best = min(best, total / reps)
        if total / reps > 2.0:  # slow: one batch is enough
            break
    dag, tree = dag_stats(d)
    ops = "-"
    if tree <= 2_000_000:
        ops = str(sympy.count_ops(d))
    subs_us = "-"
    value = None
    if do_subs and n <= 12:
        t0 = time.perf_counter()
        value = float(d.subs(x, sympy.Float(0.3)))
        subs_us = "%.1f" % ((time.perf_counter() - t0) * 1e6)
    if value is None:
        value = float_value(d, x, 0.3)
    print("n=%d diff_us=%.1f dag=%d tree=%d count_ops=%s subs_us=%s value=%.17g"
          % (n, best * 1e6, dag, tree, ops, subs_us, value))


if __name__ == "__main__":
    main()
