#!/bin/sh
# run-symbolic.sh -- benchmark 8a: d/dx of the logistic map's n-th iterate.
#
#   tests/bench/run-symbolic.sh BUILD_DIR [N ...]   (default N: 4 ... 16 20 24 30)
#
# Builds nothing: BUILD_DIR must hold tests/bench/bench_symbolic (ninja -C
# BUILD_DIR tests/bench/bench_symbolic).  Runs, one after the other so they
# do not compete for the cores:
#   bench_symbolic          sl_diff (src/diff.c), sizes, value at 0.3 (C)
#   symbolic_peers.py N     sympy.diff              (Debian: python3-sympy)
#   symbolic_peers.mac      Maxima's diff           (Debian: maxima)
# Each peer runs once per n in its own process, limited to PEER_TIMEOUT
# seconds (default 300); after a timeout that peer skips the larger n.
# Prints a Markdown table: times in microseconds per call, the ratios
# peer/slope, sizes, and the values at x = 0.3 against the 256-bit
# recurrence.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [N ...]" >&2; exit 2; }
build=$1
shift
[ $# -ge 1 ] || set -- 4 5 6 7 8 9 10 11 12 13 14 15 16 20 24 30
here=$(cd "$(dirname "$0")" && pwd)
bench=$build/tests/bench/bench_symbolic
[ -x "$bench" ] || { echo "$0: no $bench (ninja -C $build tests/bench/bench_symbolic)" >&2; exit 1; }
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" -c 'import sympy' 2>/dev/null || { echo "$0: sympy missing (apt-get install python3-sympy)" >&2; exit 1; }
command -v maxima >/dev/null || { echo "$0: maxima missing (apt-get install maxima)" >&2; exit 1; }
limit=${PEER_TIMEOUT:-300}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

field() { # field KEY LINE
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

echo "# $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
echo "# sympy $("$py" -c 'import sympy; print(sympy.__version__)'), $(maxima --version 2>/dev/null | head -1)"
"$bench" "$@" >"$tmp/c.txt"

sympy_ok=1
maxima_ok=1
for n in "$@"; do
    if [ $sympy_ok = 1 ]; then
        if timeout "$limit" "$py" "$here/symbolic_peers.py" "$n" >"$tmp/py.$n" 2>/dev/null; then :; else
            echo "n=$n timeout" >"$tmp/py.$n"
            sympy_ok=0
        fi
    fi
    if [ $maxima_ok = 1 ]; then
        if (cd "$here" && timeout "$limit" maxima --very-quiet \
                --batch-string="n: $n\$ batchload(\"symbolic_peers.mac\")\$") 2>/dev/null |
                grep '^n=' >"$tmp/mx.$n"; then :; else
            echo "n=$n timeout" >"$tmp/mx.$n"
            maxima_ok=0
        fi
    fi
done

relerr() { # relerr VALUE REF
    awk -v v="$1" -v r="$2" 'BEGIN { if (v == "") { print "-"; exit } e = (v - r) / r; printf "%.1e", sqrt(e * e) }'
}
ratio() { # ratio PEER_US SLOPE_US
    awk -v p="$1" -v s="$2" 'BEGIN { if (p == "") { print "-"; exit } printf "%.0f", p / s }'
}

echo
echo "| n | slope µs | nodes | printed B | tree B | SymPy µs | SymPy/slope | SymPy dag | SymPy tree | Maxima µs | Maxima/slope | err slope | err SymPy | err Maxima |"
echo "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
while read -r line; do
    case $line in n=*) ;; *) continue ;; esac
    n=$(field n "$line")
    us=$(field diff_us "$line")
    ref=$(field ref "$line")
    pyl=$(cat "$tmp/py.$n" 2>/dev/null || true)
    mxl=$(cat "$tmp/mx.$n" 2>/dev/null || true)
    pus=$(field diff_us "$pyl")
    mus=$(field diff_us "$mxl")
    case $pyl in *timeout*) pshow=">${limit}s" ;; "") pshow="-" ;; *) pshow=$pus ;; esac
    case $mxl in *timeout*) mshow=">${limit}s" ;; "") mshow="-" ;; *) mshow=$mus ;; esac
    echo "| $n | $us | $(field nodes "$line") | $(field printed "$line") | $(field tree "$line") |" \
        "$pshow | $(ratio "$pus" "$us") | $(field dag "$pyl") | $(field tree "$pyl") |" \
        "$mshow | $(ratio "$mus" "$us") |" \
        "$(relerr "$(field value "$line")" "$ref") | $(relerr "$(field value "$pyl")" "$ref") |" \
        "$(relerr "$(field value "$mxl")" "$ref") |"
done <"$tmp/c.txt"
echo
echo "Raw lines:"
echo
sed 's/^/    /' "$tmp/c.txt"
for n in "$@"; do
    [ -s "$tmp/py.$n" ] && sed 's/^/    sympy  /' "$tmp/py.$n"
    [ -s "$tmp/mx.$n" ] && sed 's/^/    maxima /' "$tmp/mx.$n"
done
exit 0
