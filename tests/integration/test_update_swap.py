"""test_update_swap.py -- hot swap under load (SPEC §5, issue #4).

argv[1] = build directory.  A helper runs with a cartridge.cfg pointing at
a local update server (python http.server, stopped by PID) and a
`micro-update interval` of 10 s (the smallest allowed); its cache holds
version 1, which it starts on.  While a feeder keeps up to 64 FILE
requests in flight, the test publishes versions 2 and 3 (each reaches the
helper as a delta); the helper must log each install ("* micro-update: installed cartridge
N") and answer every request exactly once, before, during and after each
swap; QUIT then ends it with exit 0.

The helper needs the updater wired in (updater_load_startup,
updater_start, updater_stop in helper.c).  Until then the helper logs no
"micro-update" line before its banner, and this test skips itself with a
message saying so.
"""

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import updlib_server  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TRAIN_DIR = os.path.join(REPO, "testdata", "update", "train")
MESSAGES = os.path.join(REPO, "testdata", "messages")
IN_FLIGHT = 64
# Bounds for waiting on events (not sleeps): an interval plus timeouts.
INSTALL_DEADLINE_S = 40


class Helper:
    """The helper under test: a feeder thread and a reader thread."""

    def __init__(self, cgp, base, files):
        self.proc = subprocess.Popen([cgp], cwd=base, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.files = files
        self.lock = threading.Lock()
        self.answer_cond = threading.Condition(self.lock)
        self.sent = set()
        self.answered = {}
        self.duplicates = []
        self.logs = queue.Queue()
        self.all_logs = []
        self.slots = threading.Semaphore(IN_FLIGHT)
        self.stop_feeding = threading.Event()
        self.next_seq = 1
        self.is_eof = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.feeder = None

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("* "):
                self.all_logs.append(line)
                self.logs.put(line)
                continue
            seq = line.split(" ", 1)[0]
            with self.lock:
                if seq in self.answered:
                    self.duplicates.append(line)
                self.answered[seq] = line
                self.answer_cond.notify_all()
            if seq.isdigit():
                self.slots.release()
        self.logs.put(None)
        with self.lock:
            self.is_eof = True
            self.answer_cond.notify_all()

    def wait_answers(self, n, deadline_s):
        """Wait until n requests are answered (or EOF, or the deadline)."""
        end = time.monotonic() + deadline_s
        with self.lock:
            while len(self.answered) < n and not self.is_eof:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.answer_cond.wait(left)
            return len(self.answered) >= n

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def _feed(self):
        i = 0
        while not self.stop_feeding.is_set():
            if not self.slots.acquire(timeout=1):
                continue
            seq = str(self.next_seq)
            self.next_seq += 1
            with self.lock:
                self.sent.add(seq)
            try:
                self.send("%s FILE %s\n" % (seq, self.files[i % len(
                    self.files)]))
            except BrokenPipeError:
                return
            i += 1

    def start_feeding(self):
        self.feeder = threading.Thread(target=self._feed, daemon=True)
        self.feeder.start()

    def wait_log(self, text, deadline_s):
        """The first log line containing text, or None at the deadline."""
        end = time.monotonic() + deadline_s
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.logs.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            if text in line:
                return line

    def answered_count(self):
        with self.lock:
            return len(self.answered)

    def quit(self):
        self.stop_feeding.set()
        if self.feeder is not None:
            self.feeder.join(10)
        self.send("quit QUIT\n")
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=60)
        self.reader.join(10)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def main():
    if len(sys.argv) < 2:
        print("usage: test_update_swap.py BUILD_DIR")
        return 2
    build = os.path.abspath(sys.argv[1])
    cmtool = os.path.join(build, "cmtool")
    cgp = os.path.join(build, "CGPCloudmark")
    tmp = tempfile.mkdtemp(prefix="test_update_swap.")
    try:
        return body(cmtool, cgp, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cm(cmtool, *args):
    p = subprocess.run([cmtool] + list(args), capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def body(cmtool, cgp, tmp):
    rc, _ = cm(cmtool, "publish", "--help")
    if rc != 0:
        print("SKIP test_update_swap: cmtool publish is not dispatched yet")
        return 0
    keys = os.path.join(tmp, "keys")
    www = os.path.join(tmp, "www")
    base = os.path.join(tmp, "base")
    rc, out = cm(cmtool, "keygen", keys)
    if rc != 0:
        print("FAIL keygen: %s" % out)
        return 1
    carts = []
    for v in (1, 2, 3):
        path = os.path.join(tmp, "c%d.cmc" % v)
        rc, out = cm(cmtool, "train", "--version", str(v), "--seed", str(v),
                     "--folds", "2", "--passes", "1", TRAIN_DIR, "-o", path)
        if rc != 0:
            print("FAIL train: %s" % out)
            return 1
        carts.append(path)
    rc, out = cm(cmtool, "publish", carts[0], www, "-k", keys)
    if rc != 0:
        print("FAIL publish 1: %s" % out)
        return 1

    os.makedirs(os.path.join(base, "msgs"))
    files = []
    for name in sorted(os.listdir(MESSAGES)):
        src = os.path.join(MESSAGES, name)
        if os.path.isfile(src):
            shutil.copy(src, os.path.join(base, "msgs", name))
            files.append("msgs/" + name)
    with open(os.path.join(base, "CGPCloudmark.cfg"), "w") as f:
        f.write("{ }\n")
    shutil.copy(os.path.join(keys, "signing.pub"),
                os.path.join(base, "update.pub"))
    shutil.copy(os.path.join(keys, "content.key"),
                os.path.join(base, "content.key"))
    # The helper starts on version 1 from its cache (no embedded default
    # cartridge needed), so both swaps are deltas.
    os.makedirs(os.path.join(base, "micro_updates"), mode=0o700)
    shutil.copy(carts[0], os.path.join(base, "micro_updates",
                                       "cartridge-1.cmc"))

    server = updlib_server.StaticServer(www)
    helper = None
    failures = []
    try:
        with open(os.path.join(base, "cartridge.cfg"), "w") as f:
            f.write("micro-update url = %s\nmicro-update interval = 10s\n"
                    "micro-update timeout = 5\n" % server.url)
        helper = Helper(cgp, base, files)
        banner = helper.wait_log("started", 30)
        if banner is None:
            print("FAIL: no start-up banner; logs: %s" % helper.all_logs)
            return 1
        if not any("micro-update" in line for line in helper.all_logs):
            late = helper.wait_log("micro-update", 3)
            if late is None:
                print("SKIP test_update_swap: the helper has no updater yet "
                      "(no \"* micro-update\" line at start-up; wire "
                      "updater_start into helper.c)")
                helper.quit()
                return 0
        helper.start_feeding()
        for version, cart in ((2, carts[1]), (3, carts[2])):
            rc, out = cm(cmtool, "publish", cart, www, "-k", keys)
            if rc != 0:
                failures.append("publish %d: %s" % (version, out))
                break
            before = helper.answered_count()
            line = helper.wait_log("installed cartridge %d" % version,
                                   INSTALL_DEADLINE_S)
            if line is None:
                failures.append("no install of version %d; logs: %s"
                                % (version, helper.all_logs[-5:]))
                break
            if "delta" not in line:
                failures.append("version %d not from a delta: %s"
                                % (version, line))
            print("ok   %s (%d answers so far)" % (line, before))
        # Requests keep flowing after the last swap.
        if not helper.wait_answers(helper.answered_count() + 2 * IN_FLIGHT,
                                   30):
            failures.append("requests stopped being answered after a swap")
        rc = helper.quit()
        if rc != 0:
            failures.append("helper exit status %d" % rc)
        with helper.lock:
            missing = helper.sent - set(helper.answered)
            answers = [helper.answered[s] for s in helper.sent
                       if s in helper.answered]
        if missing:
            failures.append("%d requests never answered" % len(missing))
        if helper.duplicates:
            failures.append("answered twice: %s" % helper.duplicates[:3])
        if helper.answered.get("quit") != "quit OK":
            failures.append("QUIT answer: %r" % helper.answered.get("quit"))
        bad = [a for a in answers if " ADDHEADER " not in a
               and not a.endswith(" OK")]
        if bad:
            failures.append("odd answers: %s" % bad[:3])
        print("ok   %d requests answered across the swaps"
              % len(helper.sent))
    finally:
        if helper is not None:
            helper.kill()
        server.stop()
    for f in failures:
        print("FAIL %s" % f)
    print("test_update_swap: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
