#!/bin/sh
# End-to-end tests of slope's command line.
# Usage: tests/cli/run.sh SLOPE
#
# Each check runs the binary the way a user or CI would (options, files,
# pipes, transcripts, the history file) and compares exit status, standard
# output and standard error.  Prints one line per failure and exits 1 if
# any failed.
set -u

slope=${1:?usage: run.sh SLOPE}
case $slope in /*) ;; *) slope=$(pwd)/$slope ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slope-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp" || exit 1

# No history file and no terminal behaviour leak in from the environment.
SLOPE_HISTORY=
export SLOPE_HISTORY
unset SLOPE_FORCE_INTERACTIVE XDG_STATE_HOME

failures=0
checks=0

fail() {
    failures=$((failures + 1))
    echo "FAIL: $*"
}

# run NAME CMD...: run CMD with stdin from ./in (if present), keep the
# status in $rc, stdout in ./out, stderr in ./err.
run() {
    name=$1
    shift
    checks=$((checks + 1))
    if [ -f in ]; then
        "$@" <in >out 2>err
    else
        "$@" </dev/null >out 2>err
    fi
    rc=$?
}

expect_rc() {
    [ "$rc" -eq "$1" ] || fail "$name: exit status $rc, expected $1 (stderr: $(head -c 300 err))"
}

# expect_out FILE TEXT: FILE's contents are exactly TEXT (printf format).
expect_file() {
    printf -- "$2" >expected
    cmp -s expected "$1" || {
        fail "$name: $1 differs"
        diff expected "$1" | sed 's/^/    /' | head -20
    }
}

# expect_grep FILE PATTERN: FILE has a line matching PATTERN (grep -E).
expect_grep() {
    grep -Eq -- "$2" "$1" || {
        fail "$name: no line matching /$2/ in $1"
        sed 's/^/    /' "$1" | head -20
    }
}

expect_no_grep() {
    if grep -Eq -- "$2" "$1"; then
        fail "$name: unexpected line matching /$2/ in $1"
    fi
}

# --- options ----------------------------------------------------------

run version "$slope" --version
expect_rc 0
expect_grep out '^slope [0-9]+\.[0-9]+\.[0-9]+$'
expect_file err ''

run version-short "$slope" -V
expect_rc 0
expect_grep out '^slope [0-9]'

run help "$slope" --help
expect_rc 0
for opt in '--check' '--record' '-e' '--quiet' '--version'; do
    expect_grep out "$opt"
done
expect_file err ''

run unknown-option "$slope" --frobnicate
expect_rc 2
expect_grep err "unknown option '--frobnicate'"
expect_grep err '^usage: slope'
expect_file out ''

run e-missing-argument "$slope" -e
expect_rc 2
expect_grep err 'needs an argument'

run check-no-files "$slope" --check
expect_rc 2

run check-and-record "$slope" --check --record x.slope
expect_rc 2

# --- -e ---------------------------------------------------------------

run eval "$slope" -e 'print(1 + 2)'
expect_rc 0
expect_file out '3\n'
expect_file err ''

run eval-repeated "$slope" -e 'x = 4' -e 'print(x * 2); x + 1'
expect_rc 0
expect_file out '8\n5\n'

run eval-semicolon-silences "$slope" -e 'x = 2; x + 1;'
expect_rc 0
expect_file out ''

run eval-error "$slope" -e 'print(1)' -e '1/0' -e 'print(2)'
expect_rc 1
expect_file out '1\n'
expect_grep err 'error:'
expect_no_grep out '^2$'

run eval-syntax-error "$slope" -e 'x = (1 +'
expect_rc 1
expect_grep err 'error:'

# --- script files -----------------------------------------------------

printf 'x = 2\nprint(x + 1)\n' >a.slope
printf 'x * 10\n' >b.slope
run files "$slope" a.slope b.slope
expect_rc 0
expect_file out '3\n20\n'
expect_file err ''

printf 'y = 1\nprint(y)\n  1/0\nprint(99)\n' >bad.slope
run script-error "$slope" bad.slope a.slope
expect_rc 1
expect_file out '1\n'
expect_grep err '^bad\.slope:3:3: error: '
expect_no_grep out '99'

run missing-file "$slope" nosuch.slope
expect_rc 1
expect_grep err 'nosuch\.slope'

printf 'print(1)\n:quit\nprint(2)\n' >quit.slope
run script-quit "$slope" quit.slope
expect_rc 0
expect_file out '1\n'

run eval-and-file "$slope" -e 'x = 7' b.slope
expect_rc 0
expect_file out '70\n'

# --- a script on standard input ----------------------------------------

printf 'x = 5\nx + 1\nprint("hi")\n' >in
run stdin-script "$slope"
expect_rc 0
expect_file out '6\nhi\n'
expect_file err ''

printf 'x = 5\n1/0\nx\n' >in
run stdin-error "$slope"
expect_rc 1
expect_file out ''
expect_grep err '^<stdin>:2:[0-9]+: error: '

printf 'print(3)\n' >in
run stdin-dash "$slope" -e 'print(2)' -
expect_rc 0
expect_file out '2\n3\n'
rm -f in

# --- transcripts --------------------------------------------------------

cat >good.slope <<'EOF'
# a comment before the first input

> x = 2
> x + 1
3

# a comment between entries
> for i in range(3) {
...     print(i)
... }
0
1
2

> 1/0
error: division by zero
> :quit
> this is not run
nor compared
EOF
# the error message is whatever slope says: record it first
cp good.slope rec.slope
run record-good "$slope" --record rec.slope
expect_rc 0
run check-good "$slope" --check rec.slope
expect_rc 0
expect_grep out '^ok   rec\.slope \(5 inputs\)$'

cat >pass.slope <<'EOF'
# arithmetic
> 1 + 1
2

> print("a")
... print("b")
a
b
> x = 3
> x * x
9
EOF
run check-pass "$slope" --check pass.slope
expect_rc 0
expect_file out 'ok   pass.slope (4 inputs)\n'

sed 's/^9$/10/; s/^a$/A/' pass.slope >fail.slope
run check-fail "$slope" --check fail.slope pass.slope
expect_rc 1
expect_grep out '^--- fail\.slope \(expected\)$'
expect_grep out '^\+\+\+ fail\.slope \(actual\)$'
expect_grep out '^@@ -[0-9]+(,[0-9]+)? \+[0-9]+(,[0-9]+)? @@$'
expect_grep out '^-A$'
expect_grep out '^\+a$'
expect_grep out '^-10$'
expect_grep out '^\+9$'
expect_grep out '^FAIL fail\.slope \(2 of 4 inputs differ\)$'
expect_grep out '^ok   pass\.slope \(4 inputs\)$'

# The diff's line numbers are the transcript's: "-10" is on line 11.
printf '> 1\n1\n> 2\n20\n' >lines.slope
run diff-lines "$slope" --check lines.slope
expect_rc 1
expect_file out '--- lines.slope (expected)\n+++ lines.slope (actual)\n@@ -1,4 +1,4 @@\n > 1\n 1\n > 2\n-20\n+2\nFAIL lines.slope (1 of 2 inputs differ)\n'

cp fail.slope fixed.slope
run record "$slope" --record fixed.slope
expect_rc 0
expect_grep out 'fixed\.slope'
cmp -s fixed.slope pass.slope || {
    fail "record: the rewritten file is not the passing one"
    diff pass.slope fixed.slope | sed 's/^/    /'
}
run record-again "$slope" --record fixed.slope
expect_rc 0
run check-recorded "$slope" --check fixed.slope
expect_rc 0

# CRLF line ends and a missing final newline
printf '> 1 + 1\r\n2\r\n\r\n> print("x")\r\nx' >crlf.slope
run check-crlf "$slope" --check crlf.slope
expect_rc 0
printf '> 1 + 1\r\n3\r\n' >crlf2.slope
run record-crlf "$slope" --record crlf2.slope
expect_rc 0
printf '> 1 + 1\r\n2\r\n' >expected-crlf
cmp -s expected-crlf crlf2.slope || fail "record-crlf: CRLF line ends not kept"

printf 'stray text\n> 1\n1\n' >malformed.slope
run check-malformed "$slope" --check malformed.slope
expect_rc 1
expect_grep out 'malformed\.slope:1:'

run check-missing "$slope" --check nosuch.slope
expect_rc 1
expect_grep out '^FAIL nosuch\.slope'

# --- the prompt's history (SLOPE_FORCE_INTERACTIVE: prompts on a pipe) ---

printf 'x = 1\nfor i in range(2) {\n\n    print(i)\n}\nx + 1\n :secret\n:quit\nprint(99)\n' >in
run repl-pipe env SLOPE_FORCE_INTERACTIVE=1 SLOPE_HISTORY="$tmp/hist" "$slope" -q
expect_rc 0
expect_file out '> > ... ... ... 0\n1\n> 2\n> > '
expect_grep err "unknown command ':secret'"
printf 'x = 1\nfor i in range(2) {\\n\\n    print(i)\\n}\nx + 1\n:quit\n' >expected-hist
cmp -s expected-hist hist || {
    fail "history: file differs"
    diff expected-hist hist | sed 's/^/    /'
}

printf 'print("a\\\\b")\n' >in
run repl-history-append env SLOPE_FORCE_INTERACTIVE=1 SLOPE_HISTORY="$tmp/hist" "$slope" -q
expect_rc 0
expect_grep out 'a\\b'
tail -n 1 hist >last
printf 'print("a\\\\\\\\b")\n' >expected-last
cmp -s expected-last last || fail "history: backslash not escaped ($(cat last))"

rm -rf state
printf '1\n' >in
run repl-xdg env -u SLOPE_HISTORY XDG_STATE_HOME="$tmp/state" SLOPE_FORCE_INTERACTIVE=1 "$slope"
expect_rc 0
expect_grep out '^slope .*:help'
if [ -f state/slope/history ]; then
    expect_file state/slope/history '1\n'
else
    fail "repl-xdg: \$XDG_STATE_HOME/slope/history not created"
fi
rm -f in

# --- the real prompt on a terminal (util-linux script(1) gives a pty) ---
# Only facts that do not depend on timing are checked: the results, the
# continuation prompt, the status, and the history file.

if script -qec true /dev/null >/dev/null 2>&1 </dev/null; then
    printf 'x = 2\nfor i in range(2) {\nprint(i + x)\n}\n:quit\n' >in
    run tty-repl env SLOPE_HISTORY="$tmp/tty-hist" TERM=xterm script -qec "'$slope' -q" /dev/null
    expect_rc 0
    esc=$(printf '\033')
    tr -d '\r' <out | sed "s/$esc\[[0-9;?]*[a-zA-Z]//g" >out.txt
    expect_grep out.txt '^2$'
    expect_grep out.txt '^3$'
    expect_grep out.txt '\.\.\. '
    printf 'x = 2\nfor i in range(2) {\\nprint(i + x)\\n}\n:quit\n' >expected-hist
    cmp -s expected-hist tty-hist || {
        fail "tty-repl: history file differs"
        diff expected-hist tty-hist | sed 's/^/    /'
    }
    rm -f in
else
    echo "cli: script(1) not found, skipping the terminal test"
fi

echo "cli: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
