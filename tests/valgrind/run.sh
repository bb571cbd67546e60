#!/bin/sh
# make valgrind: every integration test (tests/integration/run.sh) with
# CGPCloudmark and cmtool run under valgrind memcheck.  A wrapper build
# directory, $build/valgrind/, holds two scripts of those names that exec
# valgrind on the real binaries, so the tests find them as usual.  Fails
# when a test fails or when any process reported a memory error or a
# definite leak (processes killed by a signal report what they did until
# then; their leaks cannot be checked).
#
#   sh tests/valgrind/run.sh [build]
set -u
build=$(cd "${1:-build}" && pwd)
wrap="$build/valgrind"
logs="$wrap/logs"
rm -rf "$wrap"
mkdir -p "$logs"
command -v valgrind >/dev/null || {
    echo "valgrind: not installed (sh scripts/install-deps.sh)" >&2
    exit 1
}
for prog in CGPCloudmark cmtool; do
    cat >"$wrap/$prog" <<WRAP
#!/bin/sh
exec valgrind -q --tool=memcheck --error-exitcode=97 --leak-check=full \\
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \\
    --num-callers=30 --log-file="$logs/$prog.%p.log" "$build/$prog" "\$@"
WRAP
    chmod +x "$wrap/$prog"
done
status=0
# Two at a time: every test is CPU-bound under memcheck (two cores).
INTEGRATION_JOBS=${INTEGRATION_JOBS:-2} sh tests/integration/run.sh "$wrap" ||
    status=1
# -q: a log file has text only when valgrind found something.
n_procs=$(find "$logs" -name '*.log' | wc -l)
bad=$(find "$logs" -name '*.log' -size +0c)
if [ -n "$bad" ]; then
    for f in $bad; do
        echo "valgrind: report in $f:"; head -80 "$f"
    done
    status=1
fi
n_bad=$(echo "$bad" | grep -c .)
echo "valgrind: $n_procs processes checked, $n_bad with errors or" \
    "definite leaks"
exit "$status"
