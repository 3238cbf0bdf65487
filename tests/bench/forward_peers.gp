\\ forward_peers.gp -- the PARI/gp side of benchmark 8c (bench_forward.c).
\\
\\ Derivatives 0..10 of exp(sin(x)) at x = 1/2 (= 0.5 exactly) from the
\\ power series exp(sin(1/2 + x + O(x^11))) at \p D.
\\
\\   fwd_time(D)     prints "gp D=... series_us=... runs=...": the best of 5
\\                   batches of the mean µs per run (getabstime has 1 ms
\\                   resolution, so a batch lasts >= 200 ms)
\\   fwd_values(D)   prints "k value" for k = 0..10 at realprecision D, printed to D + 4 digits
\\
\\ Usage: echo 'read("tests/bench/forward_peers.gp"); fwd_time(1000)' | gp -q -f
\\ Needs Debian's pari-gp.

fwd_run() = exp(sin(1/2 + x + O(x^11)));

fwd_time(D) =
{
  my(n = 1, t, el, best = oo, us, p = default(realprecision));
  default(realprecision, D);
  \\ calibrate: runs per batch
  while (1,
    t = getabstime();
    for (i = 1, n, fwd_run());
    el = getabstime() - t;
    if (el >= 50, break);
    n *= 4);
  n = max(1, ceil(n * 200 / max(el, 1)));
  for (b = 1, 5,
    t = getabstime();
    for (i = 1, n, fwd_run());
    us = (getabstime() - t) * 1000. / n;
    best = min(best, us));
  default(realprecision, p);
  printf("gp D=%d series_us=%.2f runs=%d\n", D, best, n);
}

fwd_values(D) =
{
  my(s, p = default(realprecision));
  default(realprecision, D);
  s = fwd_run();
  for (k = 0, 10, printf(Str("%d %.", D + 4, "g\n"), k, polcoeff(s, k) * k!));
  default(realprecision, p);
}
