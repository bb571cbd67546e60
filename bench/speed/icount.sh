#!/bin/sh
# bench/speed/icount.sh -- RATE instructions per message (issue #7), a
# figure that does not depend on what else the machine is doing.
#
#   sh bench/speed/icount.sh [BUILD [N [CARTRIDGE]]]
#
# Needs valgrind.  Scores the first N (2000) messages of the speed mix
# (bench/out/mix.lst, laid out by bench/speed/mksets.py from corpus-data/
# exactly as make bench does, if it is not there yet) with RATE --threads 1
# and an empty configuration, as make bench runs RATE, under callgrind, and
# prints the total instructions and the instructions per message (start-up
# included, spread over the N messages).  CARTRIDGE defaults to
# bench/out/bench.cmc, trained by cmtool train on the speed training set
# as make bench does, if it is not there yet.
#
# Compare builds on the same message list and the same cartridge: keep
# bench/out/ between runs (or pass CARTRIDGE), since a retrained cartridge
# has other fingerprints and weights.  The RATE output goes to
# bench/out/icount/rate.out, so two builds' outputs can be compared too.
#
# Instruction counts leave out what callgrind cannot see: cache misses
# (the model's weight table), and CPU extensions valgrind does not
# emulate (SHA-NI: OpenSSL's SHA-256 counts several times the
# instructions it runs on a CPU with it).
set -eu

build=$(cd "${1:-build}" && pwd)
n=${2:-2000}
out=bench/out
cart=${3:-$out/bench.cmc}
here=bench/speed
dir=$out/icount

if ! command -v valgrind >/dev/null 2>&1; then
    echo "icount: valgrind is not installed" >&2
    exit 2
fi
if [ ! -f "$out/mix.lst" ]; then
    if [ ! -d corpus-data ]; then
        echo "icount: no corpus-data/ (make bench unpacks it)" >&2
        exit 2
    fi
    python3 "$here/mksets.py" corpus-data "$out" >/dev/null
fi
if [ ! -f "$cart" ]; then
    "$build/cmtool" train "$out/train" -o "$cart" >/dev/null
fi
rm -rf "$dir"
mkdir -p "$dir/sub"
head -n "$n" "$out/mix.lst" >"$dir/sub.lst"
while IFS= read -r f; do
    # Hard links as in the mix (mksets.py); a symbolic link where that
    # cannot be.
    ln "$f" "$dir/sub/$(basename "$f")" 2>/dev/null ||
        ln -s "$(readlink -f "$f")" "$dir/sub/$(basename "$f")"
done <"$dir/sub.lst"
printf '{ }\n' >"$dir/empty.cfg"
valgrind --tool=callgrind --callgrind-out-file="$dir/rate.cg" \
    "$build/CGPCloudmark" RATE --threads 1 --cartridge "$cart" \
    -c "$dir/empty.cfg" "$dir/sub" >"$dir/rate.out" 2>"$dir/rate.err"
m=$(wc -l <"$dir/rate.out")
total=$(callgrind_annotate "$dir/rate.cg" 2>/dev/null |
    sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ',')
printf 'RATE --threads 1, %s messages: %s instructions, %s per message\n' \
    "$m" "$total" "$((total / m))"
