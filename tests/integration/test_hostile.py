#!/usr/bin/env python3
"""test_hostile.py -- the real helper, driven over the CGP protocol, against
hostile queue files and hostile stdin (SPEC §2 "fail open", §3 "bounded").
argv[1]: the build directory holding CGPCloudmark.

Every hostile file is generated here, in a mkdtemp directory (nothing big
is committed): an empty file, a 1 GiB sparse file, 10,000-deep nested
multiparts, 100,000 parts, a 10 MB header line, NUL bytes, broken base64
and quoted-printable, unknown charsets, a directory, a FIFO without a
writer, files truncated or deleted while requests for them are in flight,
and paths that leave the base directory.  stdin also gets 1 MB lines and
binary junk.  The helper must answer every request exactly once with a
well-formed line (scored or fail-open, each checked), keep running (an
INTF after each batch is answered), write nothing to stderr, and exit 0
on QUIT.

Paths leaving the base directory (absolute, or with a ".." component) are
refused: CGP only ever names files under its base directory, so such a
request is answered fail-open with a "* <seq> path leaves the base
directory" line and the file is never opened.

Two helpers run: one with the default Max_Body_Length (2 MB: the big files
are cut, which sets the rescan flag) and one with Max_Body_Length = 32M,
so the 10 MB header line and the 100,000 parts reach the MIME parser
whole.  One overall deadline (60 s) bounds the file; a watchdog kills the
processes by PID when it passes.
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helperlib_cgp import (CgpHelper, TestFailure, Watchdog, check,  # noqa
                           check_score_headers, decode_cgp_string,
                           parse_answer)

DEADLINE_S = 60

ENVELOPE = (b"P I 01-01-2024 00:00:00 0000 ____ ____ <a@example.org>\n"
            b"S SMTP [192.0.2.1]\n"
            b"R W 01-01-2024 00:00:00 0000 ____ _FY_ <b@example.com>\n"
            b"\n")
HEAD = (b"From: Sender <a@example.org>\nTo: b@example.com\n"
        b"Subject: hostile\nMessage-ID: <h@example.org>\n"
        b"MIME-Version: 1.0\n")
GOOD = (ENVELOPE + HEAD +
        b"Content-Type: text/plain\n\nLunch at noon tomorrow?\n")


def nested_multiparts(depth):
    """depth multiparts, each the only part of the one around it."""
    out = [ENVELOPE, HEAD]
    for i in range(depth):
        out.append(b"Content-Type: multipart/mixed; boundary=\"b%d\"\n\n"
                   b"--b%d\n" % (i, i))
    out.append(b"Content-Type: text/plain\n\ndeep inside\n")
    for i in reversed(range(depth)):
        out.append(b"--b%d--\n" % i)
    return b"".join(out)


def many_parts(n):
    out = [ENVELOPE, HEAD,
           b"Content-Type: multipart/mixed; boundary=\"p\"\n\n"]
    part = b"--p\nContent-Type: text/plain\n\nx\n"
    out.append(part * n)
    out.append(b"--p--\n")
    return b"".join(out)


def long_header(n):
    return (ENVELOPE + HEAD + b"X-Long: " + b"a" * n + b"\n" +
            b"Content-Type: text/plain\n\nbody\n")


def nul_bytes():
    return (ENVELOPE + b"From: a\x00b@example.org\nSub\x00ject: \x00\x00\n"
            b"Content-Type: text/html; charset=\"utf\x00-8\"\n\n" +
            b"<a href=\"http://ex\x00ample.com/\x00\">c\x00lick</a>\x00" * 200)


def broken_encodings():
    return (ENVELOPE + HEAD +
            b"Subject: =?utf-8?B?####?= =?utf-8?Q?=ZZ=4?= =?x?y?z?=\n"
            b"Content-Type: multipart/mixed; boundary=\"e\"\n\n"
            b"--e\nContent-Type: text/plain\n"
            b"Content-Transfer-Encoding: base64\n\n"
            b"SGVsbG8=!!!*&^\nYW=Jj\n====\nA\n"
            b"--e\nContent-Type: text/html\n"
            b"Content-Transfer-Encoding: quoted-printable\n\n"
            b"=3Cb=3Ebold=\n=Z=\n=4\n=\r\n===0G" + b"=" * 5000 + b"\n"
            b"--e\nContent-Type: application/octet-stream; name=\"a.exe\"\n"
            b"Content-Transfer-Encoding: base64\n\n" + b"@" * 10000 + b"\n"
            b"--e--\n")


def unknown_charsets():
    return (ENVELOPE + HEAD +
            b"Subject: =?x-no-such-charset?Q?caf=E9?= "
            b"=?\xff\xfe?B?AAAA?=\n"
            b"Content-Type: multipart/alternative; boundary=\"c\"\n\n"
            b"--c\nContent-Type: text/plain; charset=x-unknown-42\n\n"
            b"caf\xe9 \xff\xfe\xfd\n"
            b"--c\nContent-Type: text/plain; charset=\"" + b"u" * 3000 +
            b"\"\n\ntext\n"
            b"--c\nContent-Type: text/html; charset=utf-7\n\n"
            b"+AGA-<b>x</b>+\n"
            b"--c\nContent-Type: text/plain; charset=utf-16\n\n"
            b"\xff\xfe\x00\xd8\x00\n"
            b"--c--\n")


def binary_junk(n):
    # Deterministic bytes, all 256 values, no blank line: not mail.
    return bytes((i * 131 + (i >> 8) * 7) & 0xff or 1 for i in range(n))


def make_base(tmp):
    base = tempfile.mkdtemp(prefix="cgpbase.", dir=tmp)
    q = os.path.join(base, "Queue")
    os.mkdir(q)
    os.mkdir(os.path.join(base, "Submitted"))
    files = {
        "good.msg": GOOD,
        "empty.msg": b"",
        "nested.msg": nested_multiparts(10000),
        "parts.msg": many_parts(100000),
        "longheader.msg": long_header(10 << 20),
        "nul.msg": nul_bytes(),
        "encodings.msg": broken_encodings(),
        "charsets.msg": unknown_charsets(),
        "junk.msg": binary_junk(1 << 16),
    }
    for name, data in files.items():
        with open(os.path.join(q, name), "wb") as f:
            f.write(data)
    # 1 GiB, a hole past the first message: never written, only truncated.
    with open(os.path.join(q, "sparse.msg"), "wb") as f:
        f.write(GOOD)
    os.truncate(os.path.join(q, "sparse.msg"), 1 << 30)
    os.mkdir(os.path.join(q, "adir.msg"))
    os.mkfifo(os.path.join(q, "fifo.msg"))
    return base


# name -> what the answer must be: "scored", "fail" (fail-open + log line)
# or "any" (either, checked).  Mail with a usable envelope and header is
# scored however hostile its MIME; "longheader.msg" is decided per cap.
FILE_CASES = [
    ("good.msg", "scored"),
    ("empty.msg", "fail"),
    ("sparse.msg", "scored"),
    ("nested.msg", "scored"),
    ("parts.msg", "scored"),
    ("longheader.msg", None),
    ("nul.msg", "scored"),
    ("encodings.msg", "scored"),
    ("charsets.msg", "scored"),
    ("junk.msg", "fail"),
    ("adir.msg", "fail"),
    ("fifo.msg", "fail"),
    ("missing.msg", "fail"),
]

# Paths leaving the base directory: refused (fail-open), never opened.
ESCAPES = [b"../../etc/passwd", b"Queue/../../etc/passwd",
           b"/etc/passwd", b'"../Queue/good.msg"', b"Queue/..",
           b"..", b"Queue/./../../../../../../etc/shadow"]


class Session:
    def __init__(self, helper):
        self.h = helper
        self.n = 0
        self.expect = {}

    def request(self, cmd, expect):
        self.n += 1
        s = b"%d" % (5000 + self.n)
        self.expect[s] = expect
        return s + b" " + cmd + b"\n"

    def alive(self):
        """An INTF round trip: the helper still reads and answers."""
        line = self.request(b"INTF 3", "intf")
        self.h.send(line)
        self.h.wait_answers([line.split(b" ", 1)[0]])

    def check_all(self):
        self.h.wait_answers(self.expect.keys())
        for s, kind in self.expect.items():
            got = self.h.answers[s]
            check(len(got) == 1, "seq %r answered %d times" % (s, len(got)))
            m = parse_answer(got[0])
            text = m.group("text")
            if kind == "intf":
                check(m.group("intf") == b"3", "INTF answer %r" % got[0])
            elif kind == "ok":
                check(m.group("simple") == b"OK", "seq %r: %r" % (s, got[0]))
            elif kind == "scored" or (kind == "any" and text is not None):
                check(text is not None, "seq %r not scored: %r"
                      % (s, got[0]))
                check_score_headers(decode_cgp_string(text))
            else:
                check(m.group("simple") == b"OK",
                      "seq %r: want fail-open OK, got %r" % (s, got[0]))
                if kind == "fail":
                    check(any(i.startswith(s + b" ") for i in self.h.info),
                          "no '* %s reason' line for a fail-open"
                          % s.decode())
        extra = set(self.h.answers) - set(self.expect)
        check(not extra, "answers to unknown sequences: %r"
              % sorted(extra)[:5])


def files_and_escapes(s, h, is_big_cap):
    # With the default 2 MB cap the 10 MB header line is cut before the
    # header ends: no blank line, so not mail, fail-open.  With 32 MB the
    # whole header reaches the parser and the message is scored.
    long_kind = "scored" if is_big_cap else "fail"
    out = [s.request(b"FILE Queue/" + name.encode(), kind or long_kind)
           for name, kind in FILE_CASES]
    out.append(s.request(b'FILE "Queue/nul\\000.msg"', "fail"))
    h.send(b"".join(out))
    s.alive()
    out = []
    for p in ESCAPES:
        seq_line = s.request(b"FILE " + p, "fail")
        out.append(seq_line)
    h.send(b"".join(out))
    s.alive()
    s.check_all()
    refused = [i for i in h.info if b"path leaves the base directory" in i]
    check(len(refused) == len(ESCAPES),
          "%d of %d escaping paths logged as refused"
          % (len(refused), len(ESCAPES)))


def vanishing_files(s, h, base):
    """Files truncated or deleted while requests for them are in flight:
    whichever moment the worker reads, the answer is valid."""
    q = os.path.join(base, "Queue")
    big = long_header(4 << 20)
    out = []
    names = []
    for i in range(12):
        name = "vanish%d.msg" % i
        with open(os.path.join(q, name), "wb") as f:
            f.write(big if i % 2 else GOOD)
        names.append(name)
        out.append(s.request(b"FILE Queue/" + name.encode(), "any"))
    h.send(b"".join(out))
    for i, name in enumerate(names):
        path = os.path.join(q, name)
        if i % 3 == 0:
            os.unlink(path)
        elif i % 3 == 1:
            os.truncate(path, 100)
        else:
            with open(path, "r+b") as f:
                f.truncate(0)
                f.write(b"\x00" * 10)
    s.alive()
    s.check_all()


def hostile_stdin(s, h):
    """1 MB lines and binary junk between requests; the requests around
    them are still answered."""
    out = [s.request(b"FILE Queue/good.msg", "scored")]
    big = s.request(b"KEY " + b"k" * (1 << 20), "ok")
    out.append(big)
    out.append(b"\x00\xff\x01" * (1 << 18) + b"\n")       # no sequence
    out.append(binary_junk(1 << 20).replace(b"\n", b"\r") + b"\n")
    out.append(s.request(b"FILE Queue/" + b"q" * (1 << 20), "fail"))
    out.append(b"\n\r\n\x1b[2J\n")
    out.append(s.request(b"FILE Queue/good.msg", "scored"))
    h.send(b"".join(out))
    s.alive()
    s.check_all()


def run_helper(binary, tmp, wd, cfg):
    base = make_base(tmp)
    args = []
    if cfg is not None:
        with open(os.path.join(base, "hostile.cfg"), "wb") as f:
            f.write(cfg)
        args = ["-c", "hostile.cfg"]
    h = CgpHelper(binary, base, wd, args=args)
    try:
        s = Session(h)
        h.wait_info(b" started, ")
        files_and_escapes(s, h, cfg is not None)
        vanishing_files(s, h, base)
        hostile_stdin(s, h)
        q = b"9999"
        h.send(q + b" QUIT\n")
        rc = h.wait_exit()
        check(rc == 0, "exit status %r after QUIT" % rc)
        check(h.answers.get(q) == [q + b" OK"], "QUIT answer %r"
              % h.answers.get(q))
        check(h.stderr == b"", "stderr: %r" % h.stderr[:300])
        for ln in h.order:
            check(ln.endswith(b"\n") and len(ln) - 1 <= 4096,
                  "bad output line %r" % ln[:80])
    finally:
        h.kill()
        shutil.rmtree(base, ignore_errors=True)


def main():
    if len(sys.argv) != 2:
        print("usage: test_hostile.py BUILD_DIR", file=sys.stderr)
        return 2
    binary = os.path.join(os.path.abspath(sys.argv[1]), "CGPCloudmark")
    if not os.access(binary, os.X_OK):
        print("test_hostile: %s missing" % binary, file=sys.stderr)
        return 1
    wd = Watchdog(DEADLINE_S)
    tmp = tempfile.mkdtemp(prefix="test_hostile.")
    failed = 0
    cases = (("default body cap", None),
             ("32 MB body cap", b"{ Max_Body_Length = 32M; }\n"))
    try:
        for name, cfg in cases:
            try:
                run_helper(binary, tmp, wd, cfg)
                print("test_hostile: %s ok" % name)
            except (TestFailure, OSError, subprocess.SubprocessError) as e:
                failed += 1
                print("test_hostile: %s FAILED: %s" % (name, e))
    finally:
        wd.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_hostile: %d cases, %d failed" % (len(cases), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
