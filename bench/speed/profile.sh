#!/bin/sh
# bench/speed/profile.sh -- where CGPCloudmark's instructions go (issue #7).
#
#   sh bench/speed/profile.sh [BUILD [N]]
#
# Needs valgrind, and bench/out/mix.lst and bench/out/bench.cmc from a
# `make bench` run.  Three callgrind profiles (instruction counts, so the
# figures do not depend on what else the machine is doing):
#   rate     RATE --threads 1 --cartridge bench/out/bench.cmc over the
#            first N (1000) messages of the mix;
#   helper   the helper (the build's default cartridge) answering the
#            same N messages as queue files, flat out, 8 in flight;
#   startup  the helper from exec to the answer to one FILE request.
# For each: instructions per message and the top functions, self and
# inclusive (callgrind_annotate).  Output files stay in
# bench/out/profile/ (git-ignored) for callgrind_annotate or kcachegrind.
set -eu

build=$(cd "${1:-build}" && pwd)
n=${2:-1000}
out=bench/out/profile
here=bench/speed
CC=${CC:-cc}

if ! command -v valgrind >/dev/null 2>&1; then
    echo "profile: valgrind is not installed" >&2
    exit 2
fi
if [ ! -f bench/out/mix.lst ] || [ ! -f bench/out/bench.cmc ]; then
    echo "profile: run make bench first (bench/out/mix.lst, bench.cmc)" >&2
    exit 2
fi
rm -rf "$out"
mkdir -p "$out/sub" "$out/base"
head -n "$n" bench/out/mix.lst >"$out/sub.lst"
while IFS= read -r f; do
    # Hard links as in the mix (mksets.py); a symbolic link where that
    # cannot be.
    ln "$f" "$out/sub/$(basename "$f")" 2>/dev/null ||
        ln -s "$(readlink -f "$f")" "$out/sub/$(basename "$f")"
done <"$out/sub.lst"
python3 "$here/mkqueue.py" "$out/sub.lst" "$out/base"
printf '{ }\n' >"$out/base/CGPCloudmark.cfg"
printf '{ }\n' >"$out/empty.cfg"
"$CC" -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -pthread \
    -o "$out/helperload" bench/helperload.c

top() {
    # $1 profile, $2 label, $3 messages
    total=$(callgrind_annotate "$1" 2>/dev/null |
        sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ',')
    printf '\n== %s: %s instructions' "$2" "$total"
    if [ "$3" -gt 0 ]; then
        printf ', %s per message' "$((total / $3))"
    fi
    printf '\n-- self\n'
    callgrind_annotate "$1" 2>/dev/null | sed -n '/file:function/,$p' |
        sed -n '3,$p' | tidy | head -25
    printf -- '-- inclusive\n'
    callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
        sed -n '/file:function/,$p' | sed -n '3,$p' | tidy | head -25
}

# Drops the object names and the second copy of a function that the
# debug information names by both a relative and an absolute path.
tidy() {
    sed -e 's/ \[[^]]*\]$//' -e "s|$(pwd)/||" | awk '!seen[$0]++'
}

echo "profile: RATE over $n messages (callgrind, about a minute)" >&2
valgrind --tool=callgrind --callgrind-out-file="$out/rate.cg" \
    "$build/CGPCloudmark" RATE --threads 1 \
    --cartridge bench/out/bench.cmc -c "$out/empty.cfg" "$out/sub" \
    >"$out/rate.out" 2>"$out/rate.err"
echo "profile: helper over $n queue files" >&2
"$out/helperload" -d "$out/base" -l "$out/base/requests.lst" -w 8 \
    -P "0x$n" -- "$(command -v valgrind)" --tool=callgrind \
    --callgrind-out-file="$(pwd)/$out/helper.cg" "$build/CGPCloudmark" \
    >"$out/helper.txt" 2>"$out/helper.err"
echo "profile: helper start-up" >&2
"$out/helperload" -d "$out/base" -l "$out/base/requests.lst" -S 1 -- \
    "$(command -v valgrind)" --tool=callgrind \
    --callgrind-out-file="$(pwd)/$out/startup.cg" "$build/CGPCloudmark" \
    >"$out/startup.txt" 2>"$out/startup.err"

top "$out/rate.cg" "RATE --threads 1, $n messages" "$n"
top "$out/helper.cg" "helper, $n requests (start-up included)" "$n"
top "$out/startup.cg" "helper start-up and one request" 0
