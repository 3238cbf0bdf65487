#!/bin/sh
# run-forward.sh -- benchmark 8c: derivatives 0..10 of exp(sin(x)) at 0.5.
#
#   tests/bench/run-forward.sh BUILD_DIR [D ...]      (default D: 50 1000 10000)
#
# Builds nothing: BUILD_DIR must hold tests/bench/bench_forward (ninja -C
# BUILD_DIR tests/bench/bench_forward).  Runs, one after the other so they
# do not compete for the cores:
#   bench_forward        forward.h and the hand-written MPFR baseline (C)
#   forward_peers.py     mpmath.diffs and mpmath.taylor   (Debian: python3-mpmath)
#   forward_peers.gp     exp(sin(1/2 + x + O(x^11)))      (Debian: pari-gp)
# then checks the digits: forward.h against mpmath at D + 30 digits, gp at
# \p D against the same, and the baseline against forward.h; prints a
# Markdown table.  mpmath at 10000 digits takes a few minutes.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [D ...]" >&2; exit 2; }
build=$1
shift
[ $# -ge 1 ] || set -- 50 1000 10000
here=$(cd "$(dirname "$0")" && pwd)
bench=$build/tests/bench/bench_forward
[ -x "$bench" ] || { echo "$0: no $bench (ninja -C $build tests/bench/bench_forward)" >&2; exit 1; }
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" -c 'import mpmath' 2>/dev/null || { echo "$0: mpmath missing (apt-get install python3-mpmath)" >&2; exit 1; }
command -v gp >/dev/null || { echo "$0: gp missing (apt-get install pari-gp)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

field() { # field KEY LINE
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

echo "# $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
echo "# gp $(echo 'version()' | gp -q -f 2>/dev/null | tr -d '[] ')"
"$bench" "$@" | tee "$tmp/c.txt" | grep '^#' || true
"$py" "$here/forward_peers.py" time "$@" | tee "$tmp/mp.txt" | grep '^#' || true
for d in "$@"; do
    printf 'read("%s"); fwd_time(%s)\n' "$here/forward_peers.gp" "$d" | gp -q -f >>"$tmp/gp.txt"
done

echo
echo "| digits | forward.h µs | baseline µs | forward/baseline | mpmath diffs µs | mpmath taylor µs | diffs/forward | gp µs | gp/forward | digits ok: forward, baseline, gp |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for d in "$@"; do
    c=$(grep "^forward D=$d " "$tmp/c.txt")
    m=$(grep "^mpmath D=$d " "$tmp/mp.txt")
    g=$(grep "^gp D=$d " "$tmp/gp.txt")
    "$bench" --values "$d" >"$tmp/fw$d.txt"
    printf 'read("%s"); fwd_values(%s)\n' "$here/forward_peers.gp" "$d" | gp -q -f >"$tmp/gp$d.txt"
    agree=$("$py" "$here/forward_peers.py" compare "$d" "$tmp/fw$d.txt" "$tmp/gp$d.txt" | tr '\n' ' ')
    fw=$(field forward_us "$c"); bl=$(field baseline_us "$c"); md=$(field diffs_us "$m")
    mt=$(field taylor_us "$m"); gu=$(field series_us "$g")
    awk -v d="$d" -v fw="$fw" -v bl="$bl" -v md="$md" -v mt="$mt" -v gu="$gu" \
        -v a="${agree%% *}" -v b="$(field agree_digits "$c")" -v g="$(echo "$agree" | cut -d' ' -f2)" 'BEGIN {
        printf "| %s | %.1f | %.1f | %.2f | %.0f | %.0f | %.0f× | %.1f | %.2f | %s (vs mpmath), %s (vs forward), %s (vs mpmath) |\n",
            d, fw, bl, fw / bl, md, mt, md / fw, gu, gu / fw, a, b, g }'
done
