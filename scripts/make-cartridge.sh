#!/bin/sh
# make-cartridge.sh -- trains the embedded default cartridge
# (cartridge/default.cmc) from the public corpus (SPEC §4, `make cartridge`).
#
#   sh scripts/make-cartridge.sh [BUILD] [CORPUS]
#
# CORPUS is the packed corpus (../shared/corpus); it is unpacked into
# corpus-data/ (git-ignored) once.  Training is deterministic: the same
# corpus and binary give a byte-identical cartridge (the created time is 0
# unless SOURCE_DATE_EPOCH is set).  CARTRIDGE_VERSION overrides the
# cartridge version (default 1).
set -eu
build=${1:-build}
corpus=${2:-../shared/corpus}
data="corpus-data"
out=cartridge/default.cmc
version=${CARTRIDGE_VERSION:-1}
cmtool="$build/cmtool"

[ -x "$cmtool" ] || { echo "make-cartridge: $cmtool missing (run make)" >&2; exit 2; }
if [ ! -d "$data/trec07p" ]; then
    if [ ! -x "$corpus/unpack" ]; then
        echo "make-cartridge: no corpus at $corpus" >&2
        exit 2
    fi
    "$corpus/unpack" "$data"
fi
mkdir -p cartridge
"$cmtool" train --version "$version" "$data" -o "$out"
"$cmtool" inspect "$out" | sed -n '1,12p'
