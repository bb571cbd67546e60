#!/bin/sh
# run-manlint.sh -- the manual pages render without a warning, and every
# option a command's --help shows is documented in its page.
#
#   sh tests/run-manlint.sh [BUILD]
#
# mandoc -T lint is the strict mdoc checker; groff -ww -z is the rendering
# man(1) does on Debian (man-db itself is not needed), so both must be
# silent.  With BUILD (holding CGPCloudmark and
# cmtool) the --help texts are compared with the pages, so a new option
# cannot go undocumented.  cmtool train's tuning options are left out: the
# page points to `cmtool train --help` for them.
set -eu
build=${1:-}
fail=0
pages=$(ls man/*.[1-8])

for page in $pages; do
    out=$(mandoc -T lint -W warning "$page" 2>&1) || true
    if [ -n "$out" ]; then
        echo "FAIL mandoc lint $page:"
        echo "$out"
        fail=1
    fi
    out=$(groff -ww -z -mandoc "$page" 2>&1) || true
    if [ -n "$out" ]; then
        echo "FAIL groff $page:"
        echo "$out"
        fail=1
    fi
done

# options_documented PAGE HELP-COMMAND...: each --option of the help text
# must appear in PAGE as "Fl -option" (mdoc writes --x as Fl -x).
options_documented() {
    page=$1
    shift
    help=$("$@" --help 2>&1) || {
        echo "FAIL $* --help exits non-zero"
        fail=1
        return
    }
    for opt in $(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z-]*' |
                 sort -u); do
        if ! grep -q -- "Fl ${opt#-}\\b" "$page"; then
            echo "FAIL $page does not document $* $opt"
            fail=1
        fi
    done
}

if [ -n "$build" ]; then
    cgp="$build/CGPCloudmark"
    cmtool="$build/cmtool"
    for cmd in RATE CHECK-CONFIG REPORT UPDATE VERSION; do
        options_documented man/CGPCloudmark.8 "$cgp" "$cmd"
    done
    for cmd in inspect keygen publish feedback reputation; do
        options_documented man/cmtool.1 "$cmtool" "$cmd"
    done
    # The main options of train; the tuning ones are in its --help.
    for opt in --version --seed --threads --test --holdout --reputation \
        --reputation-data; do
        grep -q -- "Fl ${opt#-}\\b" man/cmtool.1 ||
            { echo "FAIL cmtool.1 does not document train $opt"; fail=1; }
    done
fi

n=$(echo "$pages" | wc -w)
if [ "$fail" -ne 0 ]; then
    echo "manlint: FAILED"
    exit 1
fi
echo "manlint: $n pages clean${build:+, options documented}"
