#!/bin/sh
# make lint: banned calls in src/ (STYLE.md §2.12) and printing outside the
# helper writer and the CLI output code.  Exits non-zero on any finding.
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
[ "$status" -eq 0 ] && echo "lint: clean"
exit "$status"
