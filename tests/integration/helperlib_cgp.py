"""helperlib_cgp -- drive CGPCloudmark in helper mode the way CommuniGate
Pro does, for the integration tests (python3 standard library only).

CgpHelper starts the real binary in a CGP-like base directory, writes
request lines to its stdin without waiting (pipelining), and collects every
stdout line on a thread: "* ..." information lines and answers by sequence
number.  Every wait is bounded by one overall deadline shared by all the
helpers a test starts; past it the watchdog kills every process by PID, so
a hung helper fails the test instead of hanging CI.
"""

import os
import re
import signal
import subprocess
import threading
import time

# CGP refuses answer lines longer than this (not counting the LF).
ANSWER_MAX = 4096

# Default bar table (SPEC §4): (min, max, bar).
DEFAULT_BARS = [
    (0, 0, ""),
    (1, 39, "X"),
    (40, 80, "XX"),
    (81, 90, "XXX"),
    (91, 95, "XXXX"),
    (96, 99, "XXXXX"),
    (100, 100, "XXXXXX"),
]

ANSWER_RE = re.compile(
    rb'^(?P<seq>[\x21-\x7e]+) (?:(?P<simple>OK|FAILURE)'
    rb'|ADDHEADER "(?P<text>(?:[^"\\\x00-\x1f\x7f]|\\.)*)" OK'
    rb'|INTF (?P<intf>[0-9]+))$')


class TestFailure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise TestFailure(what)


def bar_for(score, bars=DEFAULT_BARS):
    for lo, hi, text in bars:
        if lo <= score <= hi:
            return text
    raise TestFailure("score %d outside the bar table" % score)


def decode_cgp_string(raw):
    """Decode the inside of a CGP quoted string (bytes) to text; \\e and
    \\n become LF.  Raises TestFailure on a bad escape."""
    out = bytearray()
    i = 0
    simple = {ord('e'): b'\n', ord('n'): b'\n', ord('r'): b'\r',
              ord('t'): b'\t', ord('"'): b'"', ord('\\'): b'\\'}
    while i < len(raw):
        c = raw[i]
        if c != 0x5c:
            out.append(c)
            i += 1
            continue
        check(i + 1 < len(raw), "dangling backslash in %r" % raw)
        e = raw[i + 1]
        if e in simple:
            out += simple[e]
            i += 2
        elif 0x30 <= e <= 0x39:
            digits = raw[i + 1:i + 4]
            check(len(digits) == 3 and digits.isdigit(),
                  "bad \\nnn escape in %r" % raw)
            check(int(digits) < 256, "\\nnn escape over 255 in %r" % raw)
            out.append(int(digits))
            i += 4
        else:
            raise TestFailure("unknown escape \\%c in %r" % (e, raw))
    return out.decode('utf-8', 'replace')


def parse_answer(line):
    """Check one answer line (bytes, no LF) against the protocol grammar;
    returns the regex match."""
    check(len(line) <= ANSWER_MAX, "answer longer than %d bytes: %d"
          % (ANSWER_MAX, len(line)))
    m = ANSWER_RE.match(line)
    check(m is not None, "malformed answer line %r" % line[:200])
    return m


def check_score_headers(text, junk="X-Junk-Score", score="X-Cloudmark-Score",
                        alert="X-Alert: possible spam!",
                        color="X-Color: red", threshold=91,
                        bars=DEFAULT_BARS):
    """Check the decoded ADDHEADER text; returns the score."""
    lines = text.split('\n')
    for ln in lines:
        check(ln != "" and ':' in ln, "bad header line %r in %r" % (ln, text))
    found = {}
    for name in (junk, score):
        rx = re.compile(r'^' + re.escape(name) + r': ([0-9]{1,3}) \[(X*)\]$')
        hits = [rx.match(ln) for ln in lines if rx.match(ln)]
        check(len(hits) == 1, "header %s missing or repeated in %r"
              % (name, text))
        n = int(hits[0].group(1))
        check(0 <= n <= 100, "score out of range in %r" % text)
        check(hits[0].group(2) == bar_for(n, bars),
              "bar %r does not fit score %d in %r"
              % (hits[0].group(2), n, text))
        found[name] = n
    check(found[junk] == found[score], "the two scores differ in %r" % text)
    n = found[junk]
    want_alert = n >= threshold
    check((alert in lines) == want_alert,
          "alert header presence wrong for score %d (threshold %d): %r"
          % (n, threshold, text))
    check((color in lines) == want_alert,
          "color header presence wrong for score %d (threshold %d): %r"
          % (n, threshold, text))
    return n


class Watchdog:
    """Kills every registered process when the overall deadline passes."""

    def __init__(self, seconds):
        self.deadline = time.monotonic() + seconds
        self.pids = []
        self.fired = False
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self):
        with self.lock:
            self.fired = True
            for pid in self.pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def add(self, pid):
        with self.lock:
            self.pids.append(pid)

    def left(self):
        return max(0.0, self.deadline - time.monotonic())

    def stop(self):
        self.timer.cancel()


class CgpHelper:
    """One running CGPCloudmark process in helper mode."""

    def __init__(self, binary, base_dir, watchdog, args=()):
        self.wd = watchdog
        self.proc = subprocess.Popen(
            [binary] + list(args), cwd=base_dir, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        watchdog.add(self.proc.pid)
        self.cond = threading.Condition()
        self.answers = {}   # seq (bytes) -> [answer lines]
        self.info = []      # "* ..." lines (bytes, without "* ")
        self.order = []     # every stdout line in order
        self.stdout_done = False
        self.stderr = b""
        self._t_out = threading.Thread(target=self._read_stdout, daemon=True)
        self._t_err = threading.Thread(target=self._read_stderr, daemon=True)
        self._t_out.start()
        self._t_err.start()

    def _read_stdout(self):
        for raw in iter(self.proc.stdout.readline, b""):
            with self.cond:
                check_line = raw
                self.order.append(check_line)
                line = raw[:-1] if raw.endswith(b"\n") else raw
                if line.startswith(b"* "):
                    self.info.append(line[2:])
                else:
                    seq = line.split(b" ", 1)[0]
                    self.answers.setdefault(seq, []).append(line)
                self.cond.notify_all()
        with self.cond:
            self.stdout_done = True
            self.cond.notify_all()

    def _read_stderr(self):
        self.stderr = self.proc.stderr.read()

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self):
        self.proc.stdin.close()

    def wait_answers(self, seqs):
        """Wait until every seq (bytes) has at least one answer."""
        want = list(seqs)
        with self.cond:
            while True:
                missing = [s for s in want if s not in self.answers]
                if not missing:
                    return
                check(not self.stdout_done,
                      "helper ended without answering %r" % missing[:5])
                check(self.wd.left() > 0 and not self.wd.fired,
                      "timed out waiting for %r" % missing[:5])
                self.cond.wait(min(1.0, self.wd.left()))

    def wait_info(self, needle):
        """Wait for a "* " line containing needle (bytes)."""
        with self.cond:
            while not any(needle in i for i in self.info):
                check(not self.stdout_done, "no info line with %r" % needle)
                check(self.wd.left() > 0 and not self.wd.fired,
                      "timed out waiting for info %r" % needle)
                self.cond.wait(min(1.0, self.wd.left()))

    def wait_exit(self):
        try:
            rc = self.proc.wait(timeout=max(0.1, self.wd.left()))
        except subprocess.TimeoutExpired:
            raise TestFailure("helper did not exit")
        self._t_out.join(max(0.1, self.wd.left()))
        self._t_err.join(max(0.1, self.wd.left()))
        return rc

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
