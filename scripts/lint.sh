#!/bin/sh
# make lint: banned calls in src/ (STYLE.md §2.12), printing outside the
# helper writer and the CLI output code, and shellcheck warnings in the
# shell scripts.  Exits non-zero on any finding.
set -u
status=0
banned='\<(gets|strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|sscanf|system|popen|alloca|rand)[[:space:]]*\('
# Strip comments and string literals crudely before matching: good enough
# for a tree that never hides calls in macros.
for f in src/*.c; do
    hits=$(sed -e 's://.*$::' -e 's:"[^"]*"::g' "$f" | grep -nE "$banned" || true)
    if [ -n "$hits" ]; then
        echo "$f: banned call:"; echo "$hits"
        status=1
    fi
done
# Only CLI front ends and the helper writer may print.
printers='\<(printf|puts|putchar)[[:space:]]*\(|fprintf[[:space:]]*\([[:space:]]*stdout'
allowed='src/(helper|rate|checkconfig|train|inspect|main|cmtool|keygen|publish|reportcmd|update|learn|feedback|repcmd)\.c'
for f in src/*.c; do
    echo "$f" | grep -qE "$allowed" && continue
    hits=$(sed -e 's://.*$::' "$f" | grep -nE "$printers" || true)
    if [ -n "$hits" ]; then
        echo "$f: prints outside the CLI/helper code:"; echo "$hits"
        status=1
    fi
done
# Every shell script at shellcheck's warning level (style notes are left
# to the author); skipped with a note where shellcheck is not installed.
if command -v shellcheck >/dev/null 2>&1; then
    scripts=$(find . -name '*.sh' -not -path './build*' -not -path './corpus-data/*' \
        -not -path './bench/out/*' | sort)
    # shellcheck disable=SC2086 # one argument per script path (no spaces)
    if ! shellcheck -S warning $scripts; then
        echo "lint: shellcheck findings above"
        status=1
    fi
else
    echo "lint: shellcheck not installed, shell scripts not checked"
fi
[ "$status" -eq 0 ] && echo "lint: clean"
exit "$status"
