#!/bin/sh
# make fuzz: builds every tests/fuzz/fuzz_<mod>.c with clang's libFuzzer,
# ASan and UBSan, and runs each for FUZZ_SECONDS seconds over a scratch
# copy of its seed corpus.  Fails on any crash, leak, timeout or sanitizer
# report.  A crashing input is left in build-fuzz/<mod>/ (and named in the
# output) to become a corpus file -- and so a `make check` regression test.
#
#   sh tests/fuzz/run-fuzz.sh [seconds [jobs]]
#
# The library is built once (through the Makefile, in build-fuzz/, with
# -fsanitize=fuzzer-no-link) and each target is only linked against it.
# Targets run `jobs` at a time (default 2, the CI machine's cores); each
# still gets its full time.
set -u
seconds=${1:-30}
jobs=${2:-2}
out=build-fuzz
san="-fsanitize=address,undefined -fno-sanitize-recover=all"

if [ "${FUZZ_ONE:-}" != "" ]; then
    # One target (run by xargs below): fuzz, then report.
    mod=$FUZZ_ONE
    work="$out/$mod.corpus"
    rm -rf "$work" "${out:?}/$mod"
    mkdir -p "$work" "$out/$mod"
    cp tests/fuzz/corpus/"$mod"/* "$work"/ 2>/dev/null
    # stdin from /dev/null: no input may make a target wait for a terminal.
    if "$out/fuzz_$mod" -max_total_time="$seconds" -max_len=65536 \
        -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/$mod/" "$work" \
        </dev/null >"$out/$mod.log" 2>&1; then
        echo "fuzz: $mod ok: $(grep -E '^#[0-9]+[[:space:]]+DONE' \
            "$out/$mod.log" | tail -1 |
            sed 's/^#\([0-9]*\)[[:space:]]*DONE */\1 runs, /')"
        exit 0
    fi
    echo "fuzz: $mod FAILED, see $out/$mod.log; input: $(ls "$out/$mod"/*)"
    tail -60 "$out/$mod.log"
    exit 1
fi

command -v clang >/dev/null || {
    echo "fuzz: clang not found (sh scripts/install-deps.sh)" >&2
    exit 1
}
mkdir -p "$out"
cflags="-g -O1 -fsanitize=fuzzer-no-link $san"
# make cannot see a change of flags: objects of other flags are dropped.
if [ "$(cat "$out/cflags" 2>/dev/null)" != "$cflags" ]; then
    rm -rf "$out/obj" "$out/libcm.a"
    echo "$cflags" >"$out/cflags"
fi
# CC and CFLAGS through the environment so the Makefile's own flags
# (-std=c11, warnings, pkg-config) are appended to ours.
if ! CC=clang CFLAGS="$cflags" \
    make -s -j"$jobs" BUILD="$out" "$out/libcm.a" >"$out/lib.log" 2>&1; then
    echo "fuzz: library build failed"; cat "$out/lib.log"
    exit 1
fi
libs="$(make -s print-libs)"
status=0
mods=""
for t in tests/fuzz/fuzz_*.c; do
    mod=$(basename "$t" .c); mod=${mod#fuzz_}
    # shellcheck disable=SC2086
    if ! clang -g -O1 -fsanitize=fuzzer $san -std=c11 -Iinclude \
        -D_POSIX_C_SOURCE=200809L -o "$out/fuzz_$mod" "$t" "$out/libcm.a" \
        $libs 2>"$out/$mod.build.log"; then
        echo "fuzz: build of $mod failed"; cat "$out/$mod.build.log"
        status=1
        continue
    fi
    mods="$mods $mod"
done
# shellcheck disable=SC2086
printf '%s\n' $mods | xargs -P "$jobs" -I{} env FUZZ_ONE={} sh "$0" \
    "$seconds" || status=1
exit "$status"
