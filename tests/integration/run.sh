#!/bin/sh
# Runs every integration test (tests/integration/test_*.py) against the
# binaries of a build.  Each test makes its own temporary directory and
# stops whatever it started by PID.
set -u
build=$(cd "${1:-build}" && pwd)
passed=0
failed=0
for t in tests/integration/test_*.py; do
    [ -f "$t" ] || continue
    if python3 "$t" "$build"; then
        passed=$((passed + 1))
    else
        echo "FAILED: $t"
        failed=$((failed + 1))
    fi
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
