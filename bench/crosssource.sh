#!/bin/sh
# bench/crosssource.sh -- ours against bogofilter and crm114 on mail from a
# source none was trained on: the splits of scripts/eval-crosssource.sh (each
# source, or pair of sources, left out in turn; a random 20%; the
# hard_ham newsletters), every filter trained on the same messages in one
# run (bench/accuracy/crosssource.py says how).
#
#   make bench-crosssource     (= sh bench/crosssource.sh build corpus-data)
#   sh bench/crosssource.sh [BUILD] [CORPUS_DATA]
#
# Prints AUC, ham flagged and junk caught at each filter's own threshold
# (ours 96, bogofilter 0.99, crm114 pR 5) and writes
# bench/out/crosssource/crosssource.md.
# FILTERS ("ours,bogofilter,crm114") picks the filters.  About 20 minutes
# on two cores (crm114 learns every train message of every split).  The
# corpus is unpacked with ../shared/corpus/unpack when missing.
set -eu
build=${1:-build}
data=${2:-corpus-data}
out=bench/out/crosssource
[ -x "$build/cmtool" ] || { echo "crosssource: build $build first" >&2; exit 2; }
sh bench/install-peers.sh
if [ ! -d "$data/trec07p" ]; then
    ../shared/corpus/unpack "$data"
fi
exec python3 bench/accuracy/crosssource.py "$build/cmtool" "$data" "$out" \
    "${FILTERS:-ours,bogofilter,crm114}"
