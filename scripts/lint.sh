#!/bin/sh
# make lint: banned calls in src/ (STYLE.md §2.12), printing outside the
# helper writer and the CLI output code, clang's warnings on src/ (the
# fuzz build compiles with clang, make check with gcc), and shellcheck
# warnings in the shell scripts.  Exits non-zero on any finding.
#   WARN, LINT_CFLAGS: the Makefile's warning flags and pkg-config's
#   include flags (make lint passes them).
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
# clang with the build's warnings, syntax only: its constant-conversion
# and other Sema checks differ from gcc's, and a clang-only error would
# otherwise surface first in make fuzz.  Skipped with a note without clang.
if command -v clang >/dev/null 2>&1; then
    warn=${WARN:--Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wvla -Wconversion -Wno-sign-conversion}
    for f in src/*.c; do
        # shellcheck disable=SC2086 # flag lists split on purpose
        if ! clang -fsyntax-only -std=c11 -Iinclude -D_POSIX_C_SOURCE=200809L \
                $warn -pthread ${LINT_CFLAGS:-} "$f"; then
            echo "$f: clang warnings above"
            status=1
        fi
    done
else
    echo "lint: clang not installed, src/ not compiled with it"
fi
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
