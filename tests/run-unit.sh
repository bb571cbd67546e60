#!/bin/sh
# Runs every cmocka unit test binary of a build; prints one closing line
# "N passed, N failed" and fails when any test binary failed.
set -u
build=${1:-build}
passed=0
failed=0
for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    if "$t"; then
        passed=$((passed + 1))
    else
        echo "FAILED: $t"
        failed=$((failed + 1))
    fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
