#!/usr/bin/env python3
"""mkqueue.py -- lay out a CGP base directory for the helper benchmark
(bench/run.sh, issue #7).

Usage: mkqueue.py LIST BASE_DIR [N]

Copies the first N (default: all) messages named in LIST (one path a
line) into BASE_DIR/Queue/<k>.msg as CGP queue files: envelope lines (P
return-path, S source with a documentation-range peer IP, R recipient),
an empty line, then the message bytes (a leading mbox "From " line, which
a real queue file never has, is dropped).  Writes
BASE_DIR/requests.lst: the "Queue/<k>.msg" paths, in LIST order, which is
what bench/helperload sends as FILE requests.
"""
import os
import sys

ENVELOPE = (b"P I 22-11-2026 04:00:00 0000 ____ ____ <sender@example.net>\n"
            b"S SMTP [192.0.2.%d]\n"
            b"R W 22-11-2026 04:00:00 0000 ____ _FY_ <user@example.com>\n"
            b"\n")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    list_path, base = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else None
    with open(list_path, encoding="utf-8", errors="surrogateescape") as f:
        paths = [line.rstrip("\n") for line in f if line.strip()]
    if limit is not None:
        paths = paths[:limit]
    queue = os.path.join(base, "Queue")
    os.makedirs(queue, exist_ok=True)
    names = []
    for k, path in enumerate(paths):
        with open(path, "rb") as src:
            body = src.read()
        # A queue file holds the message itself: no mbox separator line.
        if body.startswith(b"From "):
            body = body[body.find(b"\n") + 1:] if b"\n" in body else b""
        name = "Queue/%d.msg" % (k + 1)
        with open(os.path.join(base, name), "wb") as dst:
            dst.write(ENVELOPE % (k % 250 + 1))
            dst.write(body)
        names.append(name)
    with open(os.path.join(base, "requests.lst"), "w") as f:
        for name in names:
            f.write(name + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
