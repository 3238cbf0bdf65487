#!/bin/sh
# run-language.sh -- benchmark 8b through the language: grad(rosen, p) ÷ rosen(p)
# for n = 10 .. 10^5, best of five each.  Usage: run-language.sh BUILD_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$1/slope" "$here/rosen_language.slope" | awk '
    /^(eval|grad) / { kind = $1; n = $2; next }
    /^time: / { v = $2; u = $3; if (u == "µs") v /= 1000; else if (u == "s") v *= 1000;
                k = kind " " n; if (!(k in best) || v < best[k]) best[k] = v; ns[n] = 1 }
    END { printf "| n | eval ms | grad ms | grad/eval |\n|--:|--:|--:|--:|\n";
          split("10 100 1000 10000 100000", order, " ");
          for (i = 1; i <= 5; i++) { n = order[i];
              printf "| %s | %.3f | %.3f | %.2f |\n", n, best["eval " n], best["grad " n], best["grad " n] / best["eval " n] } }'
