#!/usr/bin/env python3
"""test_demo_network.py -- `make demo-network` (scripts/demo-network.sh),
the README's "Try it on one machine", end to end with the build directory
given as an absolute path (make demo-network BUILD=/tmp/b), as run.sh
passes it.

The corpus is left out (CORPUS_DATA names no directory), so the script
trains on the 15 messages of testdata/update/train: keys, version 1
published and installed by the helper, version 2 swapped in from its
delta, QUIT, exit 0, and the temporary directory removed.

Usage: python3 tests/integration/test_demo_network.py BUILD_DIR
Standard library only.  The script runs in its own process group; past the
deadline the group is sent SIGTERM (the script's trap stops the HTTP
server and the helper by PID) and then SIGKILL.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
DEADLINE_S = 240


def main():
    tmp = tempfile.mkdtemp(prefix="test_demo_network.")
    env = dict(os.environ, CORPUS_DATA=os.path.join(tmp, "no-corpus"),
               TMPDIR=tmp)
    p = subprocess.Popen(["sh", "scripts/demo-network.sh", BUILD], cwd=TOP,
                         env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=DEADLINE_S)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
    text = out.decode(errors="replace")
    failures = []
    if p.returncode != 0:
        failures.append("exit status %s" % p.returncode)
    for needle in ("installed cartridge 1", "installed cartridge 2 (delta "
                   "from 1)", "helper exit status 0", "demo-network: done"):
        if needle not in text:
            failures.append("no %r in the output" % needle)
    if len(re.findall(r"^    spam-pills\.eml +\d+ \[X*\]$", text,
                      re.M)) != 2:
        failures.append("spam-pills.eml not scored twice")
    left = os.listdir(tmp)
    if left:
        failures.append("left in TMPDIR: %r" % left)
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(text)
        for f in failures:
            print("FAIL test_demo_network: " + f)
        return 1
    print("ok test_demo_network: make demo-network with BUILD=%s" % BUILD)
    return 0


if __name__ == "__main__":
    sys.exit(main())
