#!/usr/bin/env python3
"""spamc_scores.py -- score a list of files with spamc against a spamd on
127.0.0.1, a few clients in parallel (as many as spamd has children).

Usage: spamc_scores.py PORT LIST OUT [JOBS]
LIST: one path a line.  OUT: <path>\t<score> lines, "-" when spamc failed.
"""
import concurrent.futures
import subprocess
import sys


def score(port, path):
    try:
        with open(path, "rb") as f:
            proc = subprocess.run(
                ["spamc", "-d", "127.0.0.1", "-p", str(port), "-c", "-x",
                 "-s", "4000000", "-t", "120"],
                stdin=f, capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return "-"
    # spamc -c prints "score/threshold" and exits 0 (ham) or 1 (spam).
    text = proc.stdout.decode("ascii", "replace").strip()
    if proc.returncode not in (0, 1) or "/" not in text:
        return "-"
    value = text.split("/")[0]
    try:
        float(value)
    except ValueError:
        return "-"
    return value


def main():
    port, list_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
    jobs = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    with open(list_path, encoding="utf-8", errors="surrogateescape") as f:
        paths = [l.rstrip("\n") for l in f if l.strip()]
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        results = list(ex.map(lambda p: score(port, p), paths))
    with open(out_path, "w", encoding="utf-8",
              errors="surrogateescape") as out:
        for p, s in zip(paths, results):
            out.write("%s\t%s\n" % (p, s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
