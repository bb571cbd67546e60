#!/usr/bin/env python3
"""rspamc_scores.py -- turn rspamc's text output (stdin) into
<path>\t<score> lines (stdout).

rspamc prints, per file:
  Results for file: <path> (<t> seconds)
  ...
  Score: <score> / <reject score>
A file without a Score line (an error) is written with score "-".
"""
import io
import re
import sys

HEAD_RE = re.compile(r"^Results for file: (.*) \([0-9.]+ seconds\)$")
SCORE_RE = re.compile(r"^Score: (-?[0-9.]+) / ")


def main():
    current = None
    score = None
    out = sys.stdout
    # Symbol options quote message bytes, which need not be UTF-8.
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8",
                             errors="surrogateescape")
    for line in stdin:
        line = line.rstrip("\n")
        m = HEAD_RE.match(line)
        if m:
            if current is not None:
                out.write("%s\t%s\n" % (current, score or "-"))
            current, score = m.group(1), None
            continue
        m = SCORE_RE.match(line)
        if m and current is not None and score is None:
            score = m.group(1)
    if current is not None:
        out.write("%s\t%s\n" % (current, score or "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
