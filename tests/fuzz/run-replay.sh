#!/bin/sh
# Replays each fuzz target's corpus (tests/fuzz/corpus/<mod>/) once.
set -u
build=${1:-build}
passed=0
failed=0
for r in "$build"/fuzz/replay_*; do
    [ -x "$r" ] || continue
    mod=${r##*/replay_}
    if "$r" "tests/fuzz/corpus/$mod" >/dev/null 2>"$build/fuzz/$mod.log"; then
        passed=$((passed + 1))
    else
        echo "FAILED: replay of $mod"; cat "$build/fuzz/$mod.log"
        failed=$((failed + 1))
    fi
done
echo "fuzz replay: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
