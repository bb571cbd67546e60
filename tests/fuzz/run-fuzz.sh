#!/bin/sh
# make fuzz: builds every tests/fuzz/fuzz_<mod>.c with clang's libFuzzer,
# ASan and UBSan, and runs each for FUZZ_SECONDS seconds over a scratch
# copy of its seed corpus.  Fails on any crash, leak or sanitizer report.
# New crashing inputs are left in build-fuzz/<mod>/ to become corpus files
# and regression tests.
set -u
seconds=${1:-30}
out=build-fuzz
mkdir -p "$out"
srcs=$(sed -n 's/^[[:space:]]*\(src\/[a-z_0-9]*\.c\).*/\1/p' sources.mk |
    grep -vE 'src/(main|cmtool)\.c')
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
-std=c11 -Iinclude -D_POSIX_C_SOURCE=200809L $(pkg-config --cflags libcurl libcrypto zlib inih)"
libs="$(pkg-config --libs libcurl libcrypto zlib inih) -pthread -lm"
status=0
for t in tests/fuzz/fuzz_*.c; do
    mod=$(basename "$t" .c); mod=${mod#fuzz_}
    bin="$out/fuzz_$mod"
    # shellcheck disable=SC2086
    if ! clang $flags -o "$bin" "$t" $srcs src/default_cartridge.S \
        $( [ -f cartridge/default.cmc ] && echo "-DCARTRIDGE_FILE=\"cartridge/default.cmc\"" ) \
        $libs 2>"$out/$mod.build.log"; then
        echo "fuzz: build of $mod failed"; cat "$out/$mod.build.log"
        status=1; continue
    fi
    work="$out/$mod.corpus"; rm -rf "$work"; mkdir -p "$work" "$out/$mod"
    [ -d "tests/fuzz/corpus/$mod" ] && cp tests/fuzz/corpus/"$mod"/* "$work"/ 2>/dev/null
    if "$bin" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        -artifact_prefix="$out/$mod/" "$work" >"$out/$mod.log" 2>&1; then
        echo "fuzz: $mod ok ($(grep -c . "$out/$mod.log") log lines)"
    else
        echo "fuzz: $mod FAILED, see $out/$mod.log"; tail -40 "$out/$mod.log"
        status=1
    fi
done
exit "$status"
