#!/usr/bin/env python3
"""test_helper_stop.py -- the helper stopping while CGP no longer reads
its stdout, or while its request queue is full (SPEC §2).
argv[1]: the build directory holding CGPCloudmark.

Both pipes are cut to one page.  Once the start-up banner is read, the
test fills the helper's stdout pipe itself (through a second open of the
pipe), so the first answer blocks the one worker (Threads = 1); with
enough FILE requests the queue fills and the reader blocks too.  No
timing decides an outcome: the test waits for states it can see (the
requests the helper has taken from its stdin pipe) and bounds every wait
generously.

Cases:
 - SIGTERM, or EOF on stdin, while stdout is never read again, with the
   queue full or not: the helper exits 0 within 30 s and says on stderr
   (its only channel left) how many answers it could not deliver.  It
   used to block forever in the write, and CGP had to SIGKILL it.  The
   requests still queued once nothing can be delivered are not scored
   (the state file counts at most the one the worker held): scoring them
   all, up to MessageTimeout each, only delayed the exit.
 - SIGTERM while the reader waits for room in a full queue, CGP reading
   stdout again: the reader stops at once and every request it had queued
   is answered; the lines it had read but not queued are left to CGP
   (which sends them again to the next helper) and counted in a "*"
   line.  It used to queue and score the rest of its 64 KiB read first.
"""

import fcntl
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helperlib_cgp import TestFailure, Watchdog, check  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TESTDATA = os.path.join(REPO, "testdata", "queue")
DEADLINE_S = 180
EXIT_WAIT_S = 30
PIPE_PAGE = 4096
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
MSG = "ham-meeting.msg"
# One worker; the queue holds CAPS_HELPER_QUEUED_MAX jobs; the reader
# then blocks on the next FILE line.
QUEUED_MAX = 1024
BLOCKS_AT = 1 + QUEUED_MAX + 1


def line(i):
    """Every request line has the same length."""
    return b"%06d FILE Queue/%s\n" % (i, MSG.encode())


LINE_LEN = len(line(0))


def make_base(tmp):
    base = tempfile.mkdtemp(prefix="cgpbase.", dir=tmp)
    os.mkdir(os.path.join(base, "Queue"))
    os.mkdir(os.path.join(base, "Submitted"))
    shutil.copy(os.path.join(TESTDATA, MSG), os.path.join(base, "Queue"))
    with open(os.path.join(base, "one.cfg"), "wb") as f:
        f.write(b"{ Threads = 1; }\n")
    return base


class StalledCgp:
    """A helper on one-page pipes whose stdout the test can fill."""

    def __init__(self, binary, base, wd):
        self.wd = wd
        out_r, out_w = os.pipe()
        in_r, in_w = os.pipe()
        fcntl.fcntl(out_w, F_SETPIPE_SZ, PIPE_PAGE)
        fcntl.fcntl(in_w, F_SETPIPE_SZ, PIPE_PAGE)
        self.proc = subprocess.Popen(
            [binary, "-c", "one.cfg"], cwd=base, stdin=in_r, stdout=out_w,
            stderr=subprocess.PIPE)
        wd.add(self.proc.pid)
        # A second open of the pipe: the helper's stdout keeps its own
        # flags while the test writes to it without blocking.
        self.filler = os.open("/proc/self/fd/%d" % out_w,
                              os.O_WRONLY | os.O_NONBLOCK)
        os.close(out_w)
        os.close(in_r)
        self.out_r = out_r
        self.in_w = in_w
        fl = fcntl.fcntl(in_w, fcntl.F_GETFL)
        fcntl.fcntl(in_w, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        self.n_sent = 0
        self.out = b""
        self.stderr = b""
        self._t_err = threading.Thread(target=self._read_stderr,
                                       daemon=True)
        self._t_err.start()
        self._t_out = None

    def _read_stderr(self):
        self.stderr = self.proc.stderr.read()

    def wait_banner(self):
        while b" started, " not in self.out:
            check(self.wd.left() > 0, "no start-up banner")
            r, _, _ = select.select([self.out_r], [], [],
                                    min(1.0, self.wd.left()))
            if r:
                data = os.read(self.out_r, 65536)
                check(data != b"", "stdout closed before the banner")
                self.out += data

    def fill_stdout(self):
        """Fill the stdout pipe: the helper's next write blocks."""
        while True:
            try:
                os.write(self.filler, b"* filler\n")
            except BlockingIOError:
                break
        os.close(self.filler)
        self.filler = -1

    def in_pipe(self):
        buf = bytearray(4)
        fcntl.ioctl(self.in_w, termios.FIONREAD, buf)
        return int.from_bytes(buf, sys.byteorder)

    def taken(self):
        """Request lines the helper has read from its stdin pipe."""
        return self.n_sent - self.in_pipe() // LINE_LEN

    def send_until_taken(self, want, limit):
        """Send request lines until the helper took at least want."""
        end = time.monotonic() + 20
        while self.taken() < want:
            check(time.monotonic() < end and self.wd.left() > 0,
                  "the helper took only %d of %d requests"
                  % (self.taken(), want))
            while self.n_sent < limit:
                try:
                    os.write(self.in_w, line(self.n_sent + 1))
                except BlockingIOError:
                    break
                self.n_sent += 1
            time.sleep(0.02)

    def start_reading(self):
        self._t_out = threading.Thread(target=self._read_stdout,
                                       daemon=True)
        self._t_out.start()

    def _read_stdout(self):
        while True:
            data = os.read(self.out_r, 65536)
            if not data:
                break
            self.out += data

    def close_stdin(self):
        os.close(self.in_w)
        self.in_w = -1

    def wait_exit(self):
        try:
            rc = self.proc.wait(timeout=min(EXIT_WAIT_S, self.wd.left()))
        except subprocess.TimeoutExpired:
            raise TestFailure("helper still running %d s after it was "
                              "told to stop" % EXIT_WAIT_S)
        self._t_err.join(max(0.1, self.wd.left()))
        if self._t_out is not None:
            self._t_out.join(max(0.1, self.wd.left()))
        return rc

    def close(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        for fd in (self.filler, self.in_w, self.out_r):
            if fd >= 0:
                os.close(fd)
        self.filler = self.in_w = self.out_r = -1


def handled_today(base):
    """FILE requests the state file counts today (scored or failed open)."""
    n = 0
    days = 0
    with open(os.path.join(base, "CGPCloudmark.state"), "rb") as f:
        for ln in f.read().split(b"\n"):
            if ln.startswith(b"day="):
                days += 1
            elif days == 1 and (ln.startswith(b"category.")
                                or ln.startswith(b"fail_open.")):
                n += int(ln.split(b"=", 1)[1])
    return n


def stalled_case(binary, tmp, wd, is_full, stop):
    """stdout never read again; stop is "term" or "eof"."""
    base = make_base(tmp)
    h = StalledCgp(binary, base, wd)
    try:
        h.wait_banner()
        h.fill_stdout()
        if is_full:
            h.send_until_taken(BLOCKS_AT, 4 * BLOCKS_AT)
        else:
            h.send_until_taken(20, 20)
        if stop == "term":
            os.kill(h.proc.pid, signal.SIGTERM)
        else:
            h.close_stdin()
        rc = h.wait_exit()
        check(rc == 0, "exit status %r" % rc)
        m = re.search(rb"stdout not read for \d+ s while stopping: "
                      rb"(\d+) answers? not delivered", h.stderr)
        check(m is not None and int(m.group(1)) > 0,
              "stderr does not say what was not delivered: %r"
              % h.stderr[:300])
        n = handled_today(base)
        check(n <= 1, "%d requests handled after stdout stalled" % n)
    finally:
        h.close()


def case_stalled_sigterm(binary, tmp, wd):
    stalled_case(binary, tmp, wd, False, "term")


def case_stalled_eof(binary, tmp, wd):
    stalled_case(binary, tmp, wd, False, "eof")


def case_stalled_full_sigterm(binary, tmp, wd):
    stalled_case(binary, tmp, wd, True, "term")


def case_stalled_full_eof(binary, tmp, wd):
    stalled_case(binary, tmp, wd, True, "eof")


def case_full_queue_sigterm(binary, tmp, wd):
    """SIGTERM reaches the reader waiting for room in the queue; CGP
    reads stdout again, so every queued request is answered."""
    h = StalledCgp(binary, make_base(tmp), wd)
    try:
        h.wait_banner()
        h.fill_stdout()
        h.send_until_taken(BLOCKS_AT, 4 * BLOCKS_AT)
        taken = h.taken()
        os.kill(h.proc.pid, signal.SIGTERM)
        h.start_reading()
        rc = h.wait_exit()
        check(rc == 0 and h.stderr == b"",
              "exit %r, stderr %r" % (rc, h.stderr[:300]))
        lines = h.out.split(b"\n")
        answers = {}
        for ln in lines:
            if re.match(rb"\d{6} ", ln):
                answers.setdefault(ln[:6], []).append(ln)
        check(all(len(a) == 1 for a in answers.values()),
              "a request answered twice")
        left = [re.match(rb"\* (\d+) request lines? read but not "
                         rb"answered", ln) for ln in lines]
        left = [int(m.group(1)) for m in left if m is not None]
        check(len(left) == 1 and left[0] > 0,
              "no '* N request lines read but not answered' line (the "
              "reader queued the rest of its read first): %d answers of "
              "%d requests taken" % (len(answers), taken))
        check(len(answers) + left[0] == taken,
              "%d answered + %d left != %d requests taken"
              % (len(answers), left[0], taken))
        check(len(answers) >= BLOCKS_AT - 1,
              "only %d answers: queued requests were dropped"
              % len(answers))
    finally:
        h.close()


def main():
    if len(sys.argv) != 2:
        print("usage: test_helper_stop.py BUILD_DIR", file=sys.stderr)
        return 2
    binary = os.path.join(os.path.abspath(sys.argv[1]), "CGPCloudmark")
    if not os.access(binary, os.X_OK):
        print("test_helper_stop: %s missing" % binary, file=sys.stderr)
        return 1
    wd = Watchdog(DEADLINE_S)
    tmp = tempfile.mkdtemp(prefix="test_helper_stop.")
    failed = 0
    try:
        cases = (case_stalled_sigterm, case_stalled_eof,
                 case_stalled_full_sigterm, case_stalled_full_eof,
                 case_full_queue_sigterm)
        for case in cases:
            try:
                case(binary, tmp, wd)
                print("test_helper_stop: %s ok" % case.__name__)
            except (TestFailure, OSError, subprocess.SubprocessError) as e:
                failed += 1
                print("test_helper_stop: %s FAILED: %s"
                      % (case.__name__, e))
    finally:
        wd.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_helper_stop: %d cases, %d failed" % (len(cases), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
