#!/bin/sh
# eval-crosssource.sh -- how well does a cartridge trained on some mail
# score other mail?  One `cmtool train --split` run: the corpus is parsed
# once, then for each split a cartridge is trained (with its own
# out-of-fold calibration) on everything outside the split and scored on
# the split: AUC, ham scored >= 96, junk caught at >= 96 (and at 50),
# and how the 96 guard saw each training source's ham when left out
# ("unseen" lines: share of messages and of senders at 96; "unseen
# shares": the margin 96 would take at other --loso-fp values, which with
# `-- --scores FILE` lets one run show the catch and ham at each).
#
#   sh scripts/eval-crosssource.sh [BUILD] [CORPUS_DATA] [-- train args]
#
# Splits (EVAL_SPLITS overrides, e.g. EVAL_SPLITS="no-sa=spamassassin"):
#   random      a deterministic 20% of all messages
#   no-sa       SpamAssassin (2001-02) ham + spam
#   no-trec     TREC 2007 ham + spam
#   no-csdmc    CSDMC 2010 ham + spam
#   modern      lfdr_lists (2019-26 ham) and phishing_pot (2022-23 phish):
#               trained on 2001-2010 mail only
#   no-nazario  nazario phish (2004-05) + CSDMC 2010
#   newsletter  SpamAssassin hard_ham: commercial newsletters and the like,
#               the corpus's closest thing to modern legitimate bulk mail
# The corpus is unpacked with ../shared/corpus/unpack when missing.
set -eu
build=${1:-build}
data=${2:-corpus-data}
[ $# -ge 2 ] && shift 2 || shift $#
[ "${1:-}" = "--" ] && shift
cmtool="$build/cmtool"
[ -x "$cmtool" ] || { echo "eval: build $cmtool first" >&2; exit 2; }
if [ ! -d "$data/trec07p" ]; then
    ../shared/corpus/unpack "$data"
fi
splits=${EVAL_SPLITS:-"random=%20 no-sa=spamassassin no-trec=trec07p
no-csdmc=csdmc2010 modern=lfdr_lists,phishing_pot
no-nazario=nazario,csdmc2010 newsletter=@hard_ham"}
args=""
for s in $splits; do
    args="$args --split $s"
done
# shellcheck disable=SC2086
"$cmtool" train --threads 2 $args "$@" "$data" 2>&1 |
    grep -E '^(== split|out-of-fold|unseen-source|  unseen|  [a-z0-9_+-]+ +ham)' ||
    true
