#!/bin/sh
# eval-modern-ham.sh -- how does a cartridge score legitimate mail newer
# than the corpus's ham?  The training ham is 2001-2010 mail plus plain-
# text mailing lists, so mail as it is sent today (HTML newsletters from
# ESPs, receipts, sign-in codes, calendar invitations, a note from a
# phone) is what a cartridge has least evidence about.
#
#   sh scripts/eval-modern-ham.sh [BUILD] [CARTRIDGE]
#
# Rates testdata/modern-ham (40 synthetic messages written for this
# project, modelled on what mail servers receive in 2024-26; not real
# mail, so a robustness check, not an accuracy figure) with
# BUILD/CGPCloudmark RATE, the default cartridge unless CARTRIDGE is
# given, and prints each message's score and category, then how many
# reach 96 and 50 and how many are labelled spam or phishing.
set -eu
build=${1:-build}
cartridge=${2:-}
rate="$build/CGPCloudmark"
dir=testdata/modern-ham
if [ ! -x "$rate" ]; then
    echo "eval-modern-ham: build $rate first" >&2
    exit 2
fi
cfg=$(mktemp "${TMPDIR:-/tmp}/eval-modern-ham.XXXXXX")
trap 'rm -f "$cfg"' EXIT INT TERM
echo '{ }' >"$cfg"
if [ -n "$cartridge" ]; then
    set -- --cartridge "$cartridge"
else
    set --
fi
"$rate" RATE -c "$cfg" "$@" "$dir" 2>/dev/null | sort |
    awk -F '\t' '
        { n++; sub(".*/", "", $1)
          printf "  %-40s %3d  %s\n", $1, $2, $4
          if ($2 >= 96) hi++
          if ($2 >= 50) mid++
          if ($4 == "spam" || $4 == "phishing") junk++
          sum += $2 }
        END { if (n == 0) { print "eval-modern-ham: nothing rated"; exit 1 }
              printf "%d messages: >=96 %d, >=50 %d, labelled spam or phishing %d, mean score %.1f\n",
                     n, hi, mid, junk, sum / n }'
