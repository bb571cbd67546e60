#!/usr/bin/env python3
"""test_helper.py -- CGPCloudmark in helper mode, driven as CGP drives it
(SPEC §2, §3).  argv[1]: the build directory holding CGPCloudmark.

Each case makes a CGP base directory (Queue/, Submitted/) under a mkdtemp
directory, copies testdata/queue/* into Queue/ beside hostile files, starts
the real binary there and checks every answer line against the protocol
grammar.  Cases: a full session (INTF, KEY, 200 pipelined FILE requests,
hostile files and lines, QUIT); EOF with requests in flight; SIGTERM with
requests in flight; a CGPCloudmark.cfg (-c) changing header names,
AlertThreshold and FailOpenAnswer; stdout closed by the reader (EPIPE);
the argument errors; Threads = 64 under an address-space limit; a
backlog past MessageTimeout; Threads = 64 under a range of limits, each
leaving room to score; stdin that cannot be read; stdin closed; an over-long INTF and QUIT; an over-long KEY not logged; lines after
QUIT in the same read.  Nothing may appear
on stderr while the helper runs.  One overall deadline (60 s) bounds the
whole file; a watchdog kills the processes by PID when it passes.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helperlib_cgp import (CgpHelper, TestFailure, Watchdog, check,  # noqa
                           check_score_headers, decode_cgp_string,
                           parse_answer)
from sanlib import is_sanitized  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TESTDATA = os.path.join(REPO, "testdata", "queue")
DEADLINE_S = 60

# Files every case can expect to be scored (not fail-open).
GOOD = sorted(f for f in os.listdir(TESTDATA)
              if os.path.isfile(os.path.join(TESTDATA, f)))


def make_base(tmp):
    """A CGP base directory with the good and the hostile queue files."""
    base = tempfile.mkdtemp(prefix="cgpbase.", dir=tmp)
    queue = os.path.join(base, "Queue")
    os.mkdir(queue)
    os.mkdir(os.path.join(base, "Submitted"))
    for f in GOOD:
        shutil.copy(os.path.join(TESTDATA, f), queue)
    open(os.path.join(queue, "empty.msg"), "wb").close()
    os.mkdir(os.path.join(queue, "adir.msg"))
    os.mkfifo(os.path.join(queue, "fifo.msg"))
    with open(os.path.join(queue, "junk.msg"), "wb") as f:
        f.write(bytes(range(256)) * 16)
    with open(os.path.join(queue, "noblank.msg"), "wb") as f:
        f.write(b"P I 01-01-2024 00:00:00 0000 ____ ____ <a@example.org>\n"
                b"R W 01-01-2024 00:00:00 0000 ____ _FY_ <b@example.com>\n"
                b"Subject: the envelope never ends\n\nbody\n")
    # A message that is all header (no blank line, no body; RFC 5322
    # allows it): scored, not let through unscored.
    with open(os.path.join(queue, "headeronly.msg"), "wb") as f:
        f.write(b"P I 01-01-2024 00:00:00 0000 ____ ____ <a@example.org>\n"
                b"R W 01-01-2024 00:00:00 0000 ____ _FY_ <b@example.com>\n"
                b"\n"
                b"From: Prize Office <win@example.net>\n"
                b"Subject: You won, reply with your bank details\n")
    # 1 GiB, almost all of it a hole: only Max_Body_Length may be read.
    huge = os.path.join(queue, "huge.msg")
    with open(huge, "wb") as f:
        f.write(b"P I 01-01-2024 00:00:00 0000 ____ ____ <a@example.org>\n"
                b"S SMTP [192.0.2.1]\n"
                b"R W 01-01-2024 00:00:00 0000 ____ _FY_ <b@example.com>\n"
                b"\n"
                b"From: a@example.org\nSubject: big\n\nhello\n")
    os.truncate(huge, 1 << 30)
    return base


class Session:
    """Requests sent and their expected kind, checked at the end."""

    def __init__(self, helper):
        self.h = helper
        self.n = 0
        self.expect = {}  # seq -> "scored" | "fail" | "ok" | "any" | intf

    def seq(self):
        self.n += 1
        return b"%d" % (1000 + self.n)

    def request(self, cmd, expect):
        s = self.seq()
        self.expect[s] = expect
        return s + b" " + cmd + b"\n"

    def check_all(self, fail_answer=b"OK", headers=None):
        headers = headers or {}
        self.h.wait_answers(self.expect.keys())
        for s, kind in self.expect.items():
            got = self.h.answers[s]
            check(len(got) == 1, "seq %r answered %d times" % (s, len(got)))
            m = parse_answer(got[0])
            if kind == "scored":
                check(m.group("text") is not None,
                      "seq %r not scored: %r" % (s, got[0]))
                check_score_headers(decode_cgp_string(m.group("text")),
                                    **headers)
            elif kind == "fail":
                check(m.group("simple") == fail_answer,
                      "seq %r: want fail-open %r, got %r"
                      % (s, fail_answer, got[0]))
                check(any(i.startswith(s + b" ") for i in self.h.info),
                      "no '* %s reason' line for a fail-open" % s.decode())
            elif kind == "ok":
                check(m.group("simple") == b"OK",
                      "seq %r: want OK, got %r" % (s, got[0]))
            elif kind == "any":
                if m.group("text") is not None:
                    check_score_headers(decode_cgp_string(m.group("text")),
                                        **headers)
            else:
                check(m.group("intf") == kind,
                      "seq %r: want INTF %r, got %r" % (s, kind, got[0]))
        # Nothing answered that was not asked.
        extra = set(self.h.answers) - set(self.expect)
        check(not extra, "answers to unknown sequences: %r"
              % sorted(extra)[:5])


def check_cartridge(h):
    h.wait_info(b" started, ")
    started = [i for i in h.info if b" started, " in i][0]
    check(b"no cartridge" not in started,
          "the binary has no usable default cartridge (%r): run "
          "`make cartridge` and rebuild" % started)


def case_session(binary, tmp, wd):
    base = make_base(tmp)
    h = CgpHelper(binary, base, wd)
    try:
        check_cartridge(h)
        s = Session(h)
        out = []
        out.append(s.request(b"INTF 4", b"3"))
        out.append(s.request(b"intf 2", b"2"))
        out.append(s.request(b"KEY 1234-5678-ABCD", "ok"))
        h.send(b"".join(out))
        h.wait_answers(list(s.expect))

        # 200 FILE requests in one burst, many in flight at once.
        out = []
        for i in range(200):
            name = GOOD[i % len(GOOD)]
            if i % 7 == 3:
                out.append(s.request(b'FILE "Queue/' + name.encode() + b'"',
                                     "scored"))
            else:
                out.append(s.request(b"FILE Queue/" + name.encode(),
                                     "scored"))
        h.send(b"".join(out))

        # Hostile files and paths: each is answered, fail-open.
        out = []
        for path in [b"Queue/missing.msg", b"Queue/empty.msg",
                     b"Queue/adir.msg", b"Queue/fifo.msg", b"Queue/junk.msg",
                     b"Queue/noblank.msg", b"../etc/passwd", b"/etc/passwd",
                     b"Queue/../Queue/" + GOOD[0].encode(),
                     b"Queue/ham\x00meeting.msg", b'"Queue/x\\010y"',
                     b'"unterminated']:
            out.append(s.request(b"FILE " + path, "fail"))
        out.append(s.request(b"FILE", "fail"))
        out.append(s.request(b"FILE Queue/huge.msg", "any"))
        out.append(s.request(b"FILE Queue/headeronly.msg", "scored"))
        out.append(s.request(b"FILE Queue/" + GOOD[0].encode() + b" HEADERS",
                             "scored"))
        # Unknown commands and odd but answerable lines.
        out.append(s.request(b"HELLO world", "ok"))
        out.append(s.request(b"noop", "ok"))
        out.append(s.request(b"KE\x00Y x", "ok"))
        out.append(s.seq() + b"\r\n")  # a sequence alone
        s.expect[b"%d" % (1000 + s.n)] = "ok"
        # Lines that cannot be answered: no sequence.
        out.append(b"\n   \n\t\n")
        out.append(b"\x00\x00 FILE Queue/empty.msg\n")
        out.append(b"\xff\xfe KEY x\n")
        out.append(b"x" * 40 + b" KEY\n")
        out.append(b"y" * 40 + b" key 9876-5432-WXYZ\n")
        out.append(b" \t" + b"z" * 40 + b"\tKEY 9876-5432-WXYZ\n")
        # 1 MB garbage lines: one with a readable sequence, one without.
        big = s.seq()
        s.expect[big] = "ok"
        out.append(big + b" " + b"z" * (1 << 20) + b"\n")
        out.append(b"\x01" * (1 << 20) + b"\n")
        # A large FILE line: the path is not kept, the request fails open.
        out.append(s.request(b"FILE Queue/" + b"a" * 5000, "fail"))
        h.send(b"".join(out))
        s.check_all()

        # QUIT: everything before it answered, then its OK, exit 0.
        q = s.seq()
        h.send(q + b" QUIT\n")
        rc = h.wait_exit()
        check(rc == 0, "exit status %r after QUIT" % rc)
        check(h.answers.get(q) == [q + b" OK"], "QUIT answer %r"
              % h.answers.get(q))
        answers = [ln for ln in h.order if not ln.startswith(b"* ")]
        check(answers[-1] == q + b" OK\n", "QUIT's OK is not the last answer")
        check(h.stderr == b"", "stderr: %r" % h.stderr[:300])
        for ln in h.order:
            check(ln.endswith(b"\n"), "unterminated line %r" % ln[:80])
            check(len(ln) - 1 <= 4096, "line over 4096 bytes")
        info = b"\n".join(h.info)
        check(b"unknown command" in info, "unknown command not logged")
        check(b"1234-5678" not in info, "the KEY text was logged")
        check(b"9876-5432" not in info,
              "the KEY text of a line with a bad sequence was logged")
        check(any(i.startswith(big + b" ") for i in h.info),
              "the 1 MB line was not logged with its sequence")
    finally:
        h.kill()


def case_eof(binary, tmp, wd):
    base = make_base(tmp)
    h = CgpHelper(binary, base, wd)
    try:
        s = Session(h)
        out = [s.request(b"FILE Queue/" + GOOD[i % len(GOOD)].encode(),
                         "scored") for i in range(40)]
        out.append(s.request(b"FILE Queue/huge.msg", "any"))
        out.append(s.request(b"FILE Queue/fifo.msg", "fail"))
        # The last line has no LF: it still counts.
        h.send(b"".join(out) + b"9999 FILE Queue/" + GOOD[0].encode())
        s.expect[b"9999"] = "scored"
        h.close_stdin()
        rc = h.wait_exit()
        check(rc == 0, "exit status %r after EOF" % rc)
        check_cartridge(h)
        s.check_all()
        check(h.stderr == b"", "stderr: %r" % h.stderr[:300])
    finally:
        h.kill()


def case_sigterm(binary, tmp, wd):
    base = make_base(tmp)
    h = CgpHelper(binary, base, wd)
    try:
        s = Session(h)
        out = []
        for i in range(100):
            name = "huge.msg" if i % 10 == 0 else GOOD[i % len(GOOD)]
            out.append(s.request(b"FILE Queue/" + name.encode(), "any"))
        # INTF is answered by the reader itself: once its answer is out,
        # every FILE line before it has been read and queued.
        marker = s.request(b"INTF 3", b"3")
        h.send(b"".join(out) + marker)
        h.wait_answers([b"%d" % (1000 + s.n)])
        os.kill(h.proc.pid, signal.SIGTERM)
        rc = h.wait_exit()
        check(rc == 0, "exit status %r after SIGTERM" % rc)
        s.check_all()
        check(h.stderr == b"", "stderr: %r" % h.stderr[:300])
    finally:
        h.kill()


CFG = b"""{
  HeaderJunkScore = "X-Test-Junk";
  HeaderScore = "X-Test-Score";
  AlertHeader = "X-Test-Alert: yes";
  ColorHeader = "X-Test-Color: blue";
  AlertThreshold = 1;
  FailOpenAnswer = FAILURE;
  Threads = 3;
  InterfaceVersion = 4;
}
"""


def case_config(binary, tmp, wd):
    base = make_base(tmp)
    os.mkdir(os.path.join(base, "CGPCloudmark"))
    with open(os.path.join(base, "CGPCloudmark", "CGPCloudmark.cfg"),
              "wb") as f:
        f.write(CFG)
    h = CgpHelper(binary, base, wd,
                  args=["-c", "CGPCloudmark/CGPCloudmark.cfg"])
    try:
        check_cartridge(h)
        started = [i for i in h.info if b" started, " in i][0]
        check(b"3 threads" in started, "Threads not applied: %r" % started)
        s = Session(h)
        out = [s.request(b"INTF 5", b"4")]
        out += [s.request(b"FILE Queue/" + g.encode(), "scored")
                for g in GOOD]
        out.append(s.request(b"FILE Queue/missing.msg", "fail"))
        out.append(s.request(b"FILE /etc/passwd", "fail"))
        out.append(s.request(b"FILE Queue/junk.msg", "fail"))
        out.append(s.request(b"UNKNOWN x", "ok"))
        h.send(b"".join(out))
        s.check_all(fail_answer=b"FAILURE",
                    headers=dict(junk="X-Test-Junk", score="X-Test-Score",
                                 alert="X-Test-Alert: yes",
                                 color="X-Test-Color: blue", threshold=1))
        h.close_stdin()
        check(h.wait_exit() == 0, "exit status after EOF")
        check(h.stderr == b"", "stderr: %r" % h.stderr[:300])
    finally:
        h.kill()


def case_stdout_closed(binary, tmp, wd):
    """CGP went away: writes fail with EPIPE (SIGPIPE is ignored); the
    helper stops reading, drains and exits 0, silently."""
    base = make_base(tmp)
    r, w = os.pipe()
    os.close(r)  # nobody will ever read the helper's stdout
    proc = subprocess.Popen([binary], cwd=base, stdin=subprocess.PIPE,
                            stdout=w, stderr=subprocess.PIPE)
    os.close(w)
    wd.add(proc.pid)
    try:
        try:
            name = GOOD[0].encode()
            proc.stdin.write(b"".join(b"%d FILE Queue/%s\n" % (i, name)
                                      for i in range(20)))
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # it may already have stopped reading
        try:
            _, err = proc.communicate(timeout=max(1, wd.left()))
        except subprocess.TimeoutExpired:
            raise TestFailure("helper did not stop after EPIPE")
        check(proc.returncode == 0, "exit status %r after EPIPE"
              % proc.returncode)
        check(err == b"", "stderr: %r" % err[:300])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def vm_size(pid):
    """Virtual size of a process in bytes (VmSize), or None."""
    try:
        with open("/proc/%d/status" % pid, "rb") as f:
            for ln in f:
                if ln.startswith(b"VmSize:"):
                    return int(ln.split()[1]) * 1024
    except OSError:
        pass
    return None


def one_worker_size(binary, tmp, wd):
    """A base directory with one.cfg (Threads = 1) and many.cfg (64), a
    message's name in its Queue, and the address space a one-worker
    helper has after it scored that message (for the RLIMIT_AS cases)."""
    base = make_base(tmp)
    with open(os.path.join(base, "one.cfg"), "wb") as f:
        f.write(b"{ Threads = 1; }\n")
    with open(os.path.join(base, "many.cfg"), "wb") as f:
        f.write(b"{ Threads = 64; }\n")
    name = GOOD[0].encode()
    h = CgpHelper(binary, base, wd, args=["-c", "one.cfg"])
    try:
        h.send(b"1 FILE Queue/" + name + b"\n")
        h.wait_answers([b"1"])
        size = vm_size(h.proc.pid)
        h.close_stdin()
        h.wait_exit()
    finally:
        h.kill()
    check(size is not None, "no VmSize for the helper")
    return base, name, size


def case_thread_limit(binary, tmp, wd):
    """Threads = 64 under an address-space limit that leaves room for a
    few thread stacks only: the helper serves with the threads it got
    (and says so) instead of exiting at start-up, which left CGP
    restarting it in a loop with every message waiting.  Skipped for a
    sanitizer build (ASan and TSan need terabytes of address space)."""
    import resource
    if is_sanitized(binary):
        return
    base, name, size = one_worker_size(binary, tmp, wd)
    limit = size + (48 << 20)  # a few 8 MiB stacks, far fewer than 64

    def limit_as():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    r = subprocess.run([binary, "-c", "many.cfg"], cwd=base,
                       input=b"1 FILE Queue/" + name + b"\n2 QUIT\n",
                       capture_output=True, preexec_fn=limit_as,
                       timeout=max(1, wd.left()))
    check(r.returncode == 0 and r.stderr == b"",
          "exit %r, stderr %r with 64 threads under a %d MiB limit"
          % (r.returncode, r.stderr[:200], limit >> 20))
    lines = r.stdout.split(b"\n")
    check(b"2 OK" in lines, "QUIT not answered: %r" % r.stdout[-300:])
    check(len([ln for ln in lines if ln.startswith(b"1 ")]) == 1,
          "FILE not answered once: %r" % r.stdout[-300:])
    check(any(ln.startswith(b"* only ") and b" of 64 worker threads" in ln
              for ln in lines), "no '* only N of 64 worker threads' line")


def case_thread_limit_room(binary, tmp, wd):
    """Threads = 64 under address-space limits one MiB apart: the
    workers that start must leave room to score.  Started until the
    system refused a thread, the last stack took the memory the workers
    then needed, and at about one limit in four nearly every message was
    answered "out of memory" for the life of the helper.  Skipped for a
    sanitizer build, as case_thread_limit, and for a wrapper script (make
    valgrind): valgrind's own address space is not the helper's."""
    import resource
    with open(binary, "rb") as f:
        is_script = f.read(2) == b"#!"
    if is_sanitized(binary) or is_script:
        return
    base, name, size = one_worker_size(binary, tmp, wd)
    n = 40
    requests = b"".join(b"%d FILE Queue/%s\n" % (i, name)
                        for i in range(1, n + 1)) + b"999 QUIT\n"
    for extra_mib in range(0, 40):
        limit = size + (extra_mib << 20)

        def limit_as():
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        r = subprocess.run([binary, "-c", "many.cfg"], cwd=base,
                           input=requests, capture_output=True,
                           preexec_fn=limit_as, timeout=max(1, wd.left()))
        lines = r.stdout.split(b"\n")
        check(r.returncode == 0 and b"999 OK" in lines,
              "exit %r under a limit of %d MiB" % (r.returncode, limit >> 20))
        oom = [ln for ln in lines if b"out of memory" in ln]
        check(not oom, "%d of %d messages failed open under a limit of "
              "%d MiB (VmSize + %d MiB): %r"
              % (len(oom), n, limit >> 20, extra_mib, oom[:2]))


def case_stdin_unreadable(binary, tmp, wd):
    """read() on stdin failing (here EISDIR: stdin is a directory) is a
    reader error, not the end of the input: exit status 1 as
    CGPCloudmark(8) says, and the stop line says so.  It was logged as
    "stopping (end of input)" with exit status 0."""
    base = make_base(tmp)
    fd = os.open(base, os.O_RDONLY)
    try:
        r = subprocess.run([binary], cwd=base, stdin=fd,
                           capture_output=True, timeout=max(1, wd.left()))
    finally:
        os.close(fd)
    out = r.stdout.split(b"\n")
    check(any(ln.startswith(b"* reading stdin failed: ") for ln in out),
          "no '* reading stdin failed' line: %r" % r.stdout[-300:])
    check(b"* stopping (reader error), finishing the requests in flight"
          in out, "stop reason not 'reader error': %r" % r.stdout[-300:])
    check(r.returncode == 1 and r.stderr == b"",
          "exit %r, stderr %r after a failed read of stdin"
          % (r.returncode, r.stderr[:200]))


def case_stdin_closed(binary, tmp, wd):
    """Started with stdin closed (no descriptor 0 at all), the helper
    cannot read requests: a reader error, exit status 1, at once.  The
    self-pipe took descriptor 0, so the reader polled its own wake-up
    pipe as its input and waited forever."""
    base = make_base(tmp)
    try:
        r = subprocess.run([binary], cwd=base, stdin=subprocess.DEVNULL,
                           preexec_fn=lambda: os.close(0),
                           capture_output=True, timeout=max(1, wd.left()))
    except subprocess.TimeoutExpired:
        raise TestFailure("the helper with stdin closed did not exit")
    out = r.stdout.split(b"\n")
    check(any(ln.startswith(b"* reading stdin failed: ") for ln in out),
          "no '* reading stdin failed' line: %r" % r.stdout[-300:])
    check(r.returncode == 1 and r.stderr == b"",
          "exit %r, stderr %r with stdin closed"
          % (r.returncode, r.stderr[:200]))


def case_backlog(binary, tmp, wd):
    """MessageTimeout runs from when the request was read, as CGP's
    Time-out does: with one worker and 400 requests for a 1.6 MB message
    (a few ms each), those that waited their 10 ms for the worker are
    answered fail-open at once ("spent waiting for a worker") instead of
    each being scored minutes after CGP gave up on it.  Every request is
    still answered exactly once."""
    base = make_base(tmp)
    words = [b"w%dx%d" % (i, i * 7919 % 1000) for i in range(5000)]
    body = b"\n".join(b" ".join(words[(i * 12 + k) * 31 % 5000]
                                 for k in range(12))
                       for i in range(20000))
    with open(os.path.join(base, "Queue", "big.msg"), "wb") as f:
        f.write(b"P I 01-01-2024 00:00:00 0000 ____ ____ <a@example.org>\n"
                b"R W 01-01-2024 00:00:00 0000 ____ _FY_ <b@example.com>\n"
                b"\nFrom: a@example.org\nTo: b@example.com\n"
                b"Subject: long\n\n" + body + b"\n")
    with open(os.path.join(base, "slow.cfg"), "wb") as f:
        f.write(b"{ Threads = 1; MessageTimeout = 10; }\n")
    n = 400
    r = subprocess.run([binary, "-c", "slow.cfg"], cwd=base,
                       input=b"".join(b"%d FILE Queue/big.msg\n" % i
                                      for i in range(1, n + 1))
                       + b"9999 QUIT\n",
                       capture_output=True, timeout=max(1, wd.left()))
    check(r.returncode == 0 and r.stderr == b"",
          "exit %r, stderr %r" % (r.returncode, r.stderr[:200]))
    answers = {}
    waited = 0
    for ln in r.stdout.split(b"\n"):
        if ln.startswith(b"* ") and b"spent waiting for a worker" in ln:
            waited += 1
        elif ln and not ln.startswith(b"*"):
            answers.setdefault(ln.split(b" ", 1)[0], []).append(ln)
    check(answers.get(b"9999") == [b"9999 OK"], "QUIT answer")
    check(all(len(answers.get(b"%d" % i, [])) == 1
              for i in range(1, n + 1)), "a FILE not answered exactly once")
    check(waited >= n // 4, "only %d of %d requests shed after waiting "
          "their budget" % (waited, n))


def case_arguments(binary, tmp, wd):
    r = subprocess.run([binary, "--help"], cwd=tmp, capture_output=True,
                       timeout=max(1, wd.left()), stdin=subprocess.DEVNULL)
    check(r.returncode == 0 and b"usage" in r.stdout, "--help")
    r = subprocess.run([binary, "-c"], cwd=tmp, capture_output=True,
                       timeout=max(1, wd.left()), stdin=subprocess.DEVNULL)
    check(r.returncode == 2 and r.stderr != b"" and r.stdout == b"",
          "-c without a file: %r" % (r,))
    r = subprocess.run([binary, "-x"], cwd=tmp, capture_output=True,
                       timeout=max(1, wd.left()), stdin=subprocess.DEVNULL)
    check(r.returncode == 2 and r.stderr != b"", "unknown option")


def case_overlong_intf_quit(binary, tmp, wd):
    """An over-long INTF still gets an INTF answer, and an over-long QUIT
    still ends the session: the cap cuts a line, not its command."""
    base = make_base(tmp)
    h = CgpHelper(binary, base, wd)
    try:
        h.send(b"1 INTF 4 " + b"v" * 5000 + b"\n")
        h.wait_answers([b"1"])
        check(h.answers[b"1"] == [b"1 INTF 3"],
              "over-long INTF answered %r" % h.answers[b"1"])
        h.send(b"2 QUIT " + b"q" * 5000 + b"\n3 KEY x\n")
        h.close_stdin()
        rc = h.wait_exit()
        check(rc == 0, "exit status %r after an over-long QUIT" % rc)
        check(h.answers.get(b"2") == [b"2 OK"], "QUIT answer %r"
              % h.answers.get(b"2"))
        check(b"3" not in h.answers, "a line after QUIT was answered")
        info = b"\n".join(h.info)
        check(b"request line over 4096 bytes" in info,
              "the over-long lines were not logged")
        check(h.stderr == b"", "stderr: %r" % h.stderr[:300])
    finally:
        h.kill()


def case_overlong_key(binary, tmp, wd):
    """KEY's text is never logged, not even from a line over 4096 bytes:
    the over-long line's log sample stopped only at 64 bytes, so it
    carried the start of the key into CGP's log."""
    base = make_base(tmp)
    h = CgpHelper(binary, base, wd)
    try:
        h.send(b"1 KEY s3cr3t-licence-key-" + b"k" * 5000 + b"\n2 QUIT\n")
        rc = h.wait_exit()
        check(rc == 0 and h.answers.get(b"1") == [b"1 OK"],
              "exit %r, KEY answer %r" % (rc, h.answers.get(b"1")))
        check(any(b"request line over 4096 bytes" in i for i in h.info),
              "the over-long line was not logged: %r" % h.info)
        check(not any(b"s3cr3t" in ln for ln in h.order),
              "the key's text reached the log: %r"
              % [ln for ln in h.order if b"s3cr3t" in ln])
    finally:
        h.kill()


def case_lines_after_quit(binary, tmp, wd):
    """Lines after QUIT in the same read are not answered, and one "*"
    line says how many were ignored."""
    base = make_base(tmp)
    h = CgpHelper(binary, base, wd)
    try:
        check_cartridge(h)
        # One write under PIPE_BUF: the reader gets it in one read.
        h.send(b"1 QUIT\n2 FILE Queue/" + GOOD[0].encode()
               + b"\n\n3 KEY x\r\n4 NOOP")
        rc = h.wait_exit()
        check(rc == 0, "exit status %r after QUIT" % rc)
        check(sorted(h.answers) == [b"1"], "answers %r" % sorted(h.answers))
        check(any(i == b"3 request lines after QUIT ignored"
                  for i in h.info),
              "no line counting the ignored requests: %r" % h.info[-5:])
    finally:
        h.kill()


def main():
    if len(sys.argv) != 2:
        print("usage: test_helper.py BUILD_DIR", file=sys.stderr)
        return 2
    binary = os.path.join(os.path.abspath(sys.argv[1]), "CGPCloudmark")
    if not os.access(binary, os.X_OK):
        print("test_helper: %s missing" % binary, file=sys.stderr)
        return 1
    wd = Watchdog(DEADLINE_S)
    tmp = tempfile.mkdtemp(prefix="test_helper.")
    failed = 0
    try:
        cases = (case_arguments, case_session, case_eof, case_sigterm,
                 case_config, case_stdout_closed, case_thread_limit,
                 case_thread_limit_room, case_stdin_unreadable,
                 case_stdin_closed, case_backlog, case_overlong_intf_quit,
                 case_overlong_key, case_lines_after_quit)
        for case in cases:
            try:
                case(binary, tmp, wd)
                print("test_helper: %s ok" % case.__name__)
            except (TestFailure, OSError, subprocess.SubprocessError) as e:
                failed += 1
                print("test_helper: %s FAILED: %s" % (case.__name__, e))
    finally:
        wd.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_helper: %d cases, %d failed" % (len(cases), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
