#!/bin/sh
# One integration test for run.sh: its output goes to a log printed whole
# when it ends (so tests run side by side do not interleave their lines),
# its result to RESULTS/<name>.status.
#
#   sh tests/integration/run-one.sh BUILD RESULTS tests/integration/test_X.py
set -u
name=$(basename "$3" .py)
if python3 "$3" "$1" >"$2/$name.log" 2>&1; then
    echo ok >"$2/$name.status"
else
    echo failed >"$2/$name.status"
fi
cat "$2/$name.log"
