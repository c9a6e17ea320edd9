# redis-compat/cli/checks.sh: the check helpers of cli.sh and benchmark.sh,
# sourced by both so that the ok/FAIL lines and the summary line are written
# one way: `ok - <what>`, `FAIL - <what>: <why>`, and `N passed, M failed` last
# (redis-compat/README.md). POSIX sh (dash).

passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "FAIL - $1: $2"; }

# Multi-line replies are shown on one line (\n for newlines) so that every
# check stays one line of output.
one_line() { printf '%s' "$1" | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }'; }

expect_eq() { # what expected actual
    if [ "$3" = "$2" ]; then ok "$1"
    else not_ok "$1" "expected [$(one_line "$2")], got [$(one_line "$3")]"; fi
}

# Raw field/value list -> the value after the line that is exactly the field.
raw_field() { printf '%s\n' "$2" | awk -v f="$1" 'take { print; exit } $0 == f { take = 1 }'; }

# The summary line, and the exit status run.sh expects.
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
