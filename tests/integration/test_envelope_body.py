#!/usr/bin/env python3
"""test_envelope_body.py -- Max_Body_Length counts the message after CGP's
envelope lines, not the queue file.  argv[1]: the build directory holding
CGPCloudmark.

In a CGP base directory made under mkdtemp, with Max_Body_Length = 2K,
the analysis header on (its r= field is the rescan flag) and a cartridge
trained on testdata/update/train in the cache (the embedded default marks
every verdict for rescan):
  - a short message (about 1.1 KB) behind an envelope of 3000 recipient
    lines (about 200 KB, well past 2K) is scored by the helper, with the
    same score as behind a one-recipient envelope and r=0 (nothing of the
    message was cut); before, the 2K read held only envelope and the file
    failed open ("no blank line after the envelope or header");
  - the same with a message longer than 2K: scored, r=1 (the message was
    cut at 2K, as it is behind a small envelope);
  - an envelope longer than the envelope allowance (CAPS_ENVELOPE_MAX_BYTES,
    512 KB) with no end in the bytes read still fails open: the read stays
    bounded;
  - RATE (which reads queue files through msgsrc) gives the same scores and
    rescan flags as the helper.
One overall deadline bounds the run; processes are killed by PID.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helperlib_cgp import (CgpHelper, TestFailure, Watchdog, check,  # noqa
                           check_score_headers, decode_cgp_string,
                           parse_answer)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MESSAGE = os.path.join(REPO, "testdata", "messages", "phish-bank.eml")
DEADLINE_S = 60

CFG = b"""{
  Max_Body_Length = 2K;
  AnalysisHeader = YES;
}
"""

HEAD = (b"P I 01-01-2024 00:00:00 0000 ____ ____ <a@example.org>\n"
        b"S SMTP [192.0.2.1]\n")


def envelope(n_rcpts):
    return HEAD + b"".join(
        b"R W 01-01-2024 00:00:00 0000 ____ _FY_ <user%05d@example.com>\n"
        % i for i in range(n_rcpts))


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def analysis(text):
    for ln in text.split("\n"):
        if ln.startswith("X-Cloudmark-Analysis:"):
            return ln
    raise TestFailure("no analysis header in %r" % text)


def helper_results(binary, base, wd, names):
    """{name: (score, rescan) or None when failed open} from one helper."""
    h = CgpHelper(binary, base, wd, args=["-c", "CGPCloudmark.cfg"])
    try:
        req = b"".join(b"%d FILE Queue/%s\n" % (i + 1, n.encode())
                       for i, n in enumerate(names))
        quit_seq = b"%d" % (len(names) + 1)
        h.send(req + quit_seq + b" QUIT\n")
        h.wait_answers([b"%d" % (i + 1) for i in range(len(names) + 1)])
        got = {}
        for i, n in enumerate(names):
            m = parse_answer(h.answers[b"%d" % (i + 1)][0])
            if m.group("text") is None:
                got[n] = None
                continue
            text = decode_cgp_string(m.group("text"))
            score = check_score_headers(text)
            got[n] = (score, " r=1" in analysis(text))
        check(h.wait_exit() == 0, "helper exit status")
        return got, b"\n".join(h.info)
    finally:
        h.kill()


def rate_results(binary, base, names):
    p = subprocess.run([binary, "RATE", "-c", "CGPCloudmark.cfg", "--json"] +
                       ["Queue/" + n for n in names], cwd=base,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    got = {}
    for line in p.stdout.decode().splitlines():
        o = json.loads(line)
        name = os.path.basename(o["path"])
        got[name] = None if o["score"] in ("-", None) else \
            (int(o["score"]), o["rescan"])
    return got, p.stderr.decode()


def main():
    binary = os.path.join(os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                                          else "build"), "CGPCloudmark")
    wd = Watchdog(DEADLINE_S)
    tmp = tempfile.mkdtemp(prefix="test_envelope_body.")
    try:
        base = tmp
        write(os.path.join(base, "CGPCloudmark.cfg"), CFG)
        # A trained cartridge in the cache: the embedded default marks
        # every verdict for rescan, which would hide the truncation's.
        os.mkdir(os.path.join(base, "micro_updates"), 0o700)
        cmtool = os.path.join(os.path.dirname(binary), "cmtool")
        p = subprocess.run([cmtool, "train", "--version", "5", "--folds",
                            "2", "--passes", "1",
                            os.path.join(REPO, "testdata", "update", "train"),
                            "-o", os.path.join(base, "micro_updates",
                                               "cartridge-5.cmc")],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=wd.left())
        check(p.returncode == 0, "cmtool train: %r" % p.stderr)
        queue = os.path.join(base, "Queue")
        os.mkdir(queue)
        with open(MESSAGE, "rb") as f:
            msg = f.read()
        check(len(msg) < 2048, "the test message fits 2K")
        long_msg = msg + b"\n" + b"Please confirm your account now.\n" * 100
        big = envelope(3000)
        check(len(big) > 100 * 1024, "the envelope is large")
        files = {
            "small-short.msg": envelope(1) + b"\n" + msg,
            "big-short.msg": big + b"\n" + msg,
            "small-long.msg": envelope(1) + b"\n" + long_msg,
            "big-long.msg": big + b"\n" + long_msg,
            "endless.msg": envelope(9000) + b"\n" + msg,
        }
        for name, data in files.items():
            write(os.path.join(queue, name), data)
        names = sorted(files)

        got, info = helper_results(binary, base, wd, names)
        check(got["small-short.msg"] is not None and
              not got["small-short.msg"][1],
              "small envelope, short message: %r" % (got,))
        check(got["big-short.msg"] is not None,
              "a short message behind a large envelope failed open: %r"
              % info)
        check(got["big-short.msg"] == got["small-short.msg"],
              "behind a large envelope the message scored differently: %r"
              % (got,))
        check(got["small-long.msg"] is not None and got["small-long.msg"][1],
              "small envelope, long message not marked for rescan: %r"
              % (got,))
        check(got["big-long.msg"] == got["small-long.msg"],
              "long message behind a large envelope: %r" % (got,))
        check(got["endless.msg"] is None and b"no blank line" in info,
              "an envelope past the allowance: %r" % (got,))

        rated, err = rate_results(binary, base, names)
        for name in names:
            check(rated.get(name) == got[name],
                  "RATE %s: %r, helper %r (%s)" % (name, rated.get(name),
                                                    got[name], err[-300:]))
    except TestFailure as e:
        print("FAIL test_envelope_body: %s" % e)
        return 1
    finally:
        wd.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok test_envelope_body: Max_Body_Length counts the message after "
          "a large envelope (helper and RATE), an endless envelope fails "
          "open")
    return 0


if __name__ == "__main__":
    sys.exit(main())
