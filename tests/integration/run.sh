#!/bin/sh
# Runs every integration test (tests/integration/test_*.py) against the
# binaries of a build.  Each test makes its own temporary directory, binds
# only ports the kernel chooses and stops whatever it started by PID, so
# tests can run side by side: INTEGRATION_JOBS=N runs N at a time (make
# valgrind uses 2: under memcheck every test is CPU-bound), largest test
# file first so that a long test does not start last.
#
#   [INTEGRATION_JOBS=N] sh tests/integration/run.sh [build]
set -u
build=$(cd "${1:-build}" && pwd)
jobs=${INTEGRATION_JOBS:-1}
case $jobs in
    '' | *[!0-9]* | 0)
        echo "run.sh: INTEGRATION_JOBS must be a positive number" >&2
        exit 2 ;;
esac
results=$(mktemp -d "${TMPDIR:-/tmp}/cm-integration.XXXXXX") || exit 2
trap 'rm -rf "$results"' EXIT

find tests/integration -maxdepth 1 -name 'test_*.py' -printf '%s %p\n' |
    sort -rn | cut -d ' ' -f 2- | tr '\n' '\0' |
    xargs -0 -n 1 -P "$jobs" sh tests/integration/run-one.sh "$build" "$results"

passed=0
failed=0
for t in tests/integration/test_*.py; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .py)
    if [ "$(cat "$results/$name.status" 2>/dev/null)" = ok ]; then
        passed=$((passed + 1))
    else
        echo "FAILED: $t"
        failed=$((failed + 1))
    fi
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
