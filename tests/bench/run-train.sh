#!/bin/sh
# run-train.sh -- issue 5's training benchmark: seed 000's XOR MLP (full
# batch and per sample) and seed 003's conv classifier, in slope (float32,
# float64, mpfr at 53 and 256 bits) and in PyTorch 1.13 (/usr/bin/python3),
# on the same machine in the same run: µs per optimizer step and the ratio
# to PyTorch (same dtype; mpfr against PyTorch's float64).  Each run prints
# its final loss, so equal work can be checked.  slope runs each program
# twice: as it is (loop bodies replayed where they can be: :replay) and
# with :replay off (every statement interpreted); the "replayed" column
# says how much of the loop body the first run replayed.
# Usage: run-train.sh BUILD_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
slope="$1/slope"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

secs() { awk '/^time: / { v = $2; u = $3; if (u == "µs") v /= 1e6; else if (u == "ms") v /= 1e3; print v }' "$1"; }
lossof() { awk '/^loss / { print $2 }' "$1"; }

printf '| program | dtype | steps | slope µs/step | replayed | slope µs/step, :replay off | PyTorch µs/step | PyTorch ÷ slope | slope loss | PyTorch loss |\n'
printf '|---|---|--:|--:|:-:|--:|--:|--:|--:|--:|\n'
for kind in xor xor_sample conv; do
    case $kind in
        xor) steps=20000; per=1 ;;
        xor_sample) steps=5000; per=4 ;;
        conv) steps=20000; per=1 ;;
    esac
    for dt in float32 float64 mpfr53 mpfr256; do
        n=$steps
        case $dt in
            mpfr53) head=":precision 53
DT = torch.mpfr"; peer=float64; n=$((steps / 4)) ;;
            mpfr256) head=":precision 256
DT = torch.mpfr"; peer=float64; n=$((steps / 10)) ;;
            *) head="DT = torch.$dt"; peer=$dt ;;
        esac
        { printf '%s\nSTEPS = %d\n' "$head" "$n"; cat "$here/train_$kind.slope"; echo ":replay"; } > "$tmp/p.slope"
        "$slope" "$tmp/p.slope" > "$tmp/s.out"
        { echo ":replay off"; cat "$tmp/p.slope"; } > "$tmp/q.slope"
        "$slope" "$tmp/q.slope" > "$tmp/q.out"
        /usr/bin/python3 "$here/train_peers.py" "$kind" "$peer" "$n" > "$tmp/t.out"
        s=$(secs "$tmp/s.out"); q=$(secs "$tmp/q.out"); t=$(secs "$tmp/t.out")
        rp=$(awk '/^on; last loop: replayed / { split($5, a, " "); print $5 "/" $9; next } /^on; last loop:/ { print "no" }' "$tmp/s.out")
        awk -v k="$kind" -v d="$dt" -v n="$n" -v per="$per" -v s="$s" -v q="$q" -v t="$t" -v rp="$rp" \
            -v sl="$(lossof "$tmp/s.out")" -v ql="$(lossof "$tmp/q.out")" -v tl="$(lossof "$tmp/t.out")" 'BEGIN {
            su = s * 1e6 / (n * per); qu = q * 1e6 / (n * per); tu = t * 1e6 / (n * per);
            if (sl != ql) { printf "slope loss %s with replay, %s without\n", sl, ql > "/dev/stderr"; exit 1 }
            printf "| %s | %s | %d | %.2f | %s | %.2f | %.1f | %.1f× | %s | %s |\n", k, d, n * per, su, rp, qu, tu, tu / su, sl, tl }'
    done
done
