#!/usr/bin/env python3
"""test_report.py -- CGPCloudmark REPORT and the daily-report counters
(SPEC §7).  argv[1]: the build directory holding CGPCloudmark.

Each case makes a CGP base directory (CGPCloudmark.cfg, Submitted/) under
a mkdtemp directory and runs the real binary there with TZ=UTC:

  - REPORT over a hand-written state file: one .sub in Submitted/, no .tmp,
    a multipart/alternative mail (text/plain + text/html) to
    postmaster@<MainDomain> with Return-Path <> and Envelope-To, whose
    counts equal the state file's; the state file is not changed;
  - REPORT --date for a kept ended day, for a day not kept (exit 1),
    --stdout (nothing written), ReportTo, no state file (zero counts),
    bad arguments (exit 2), --help, no Submitted/ (exit 1, none made);
  - a helper driven with FILE requests (scored and fail-open) and QUIT:
    the counts REPORT shows equal the requests answered.  Skipped, with a
    message, while the helper writes no state file (counters not wired).

The whole file is skipped with a message while the binary has no REPORT
command.  One overall deadline bounds the run; processes are killed by PID.
"""

import datetime
import email
import email.policy
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helperlib_cgp import (CgpHelper, TestFailure, Watchdog, check,  # noqa
                           parse_answer)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TESTDATA = os.path.join(REPO, "testdata", "queue")
DEADLINE_S = 60
ENV = dict(os.environ, TZ="UTC")

# SPEC §4 default bars: (label in the text part, lowest, highest score).
BARS = [("0        []", 0, 0), ("1-39     [X]", 1, 39),
        ("40-80    [XX]", 40, 80), ("81-90    [XXX]", 81, 90),
        ("91-95    [XXXX]", 91, 95), ("96-99    [XXXXX]", 96, 99),
        ("100      [XXXXXX]", 100, 100)]


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def run(binary, base, *args, timeout=20):
    return subprocess.run([binary] + list(args), cwd=base, env=ENV,
                          stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout)


def make_base(tmp, cfg=b"{ MainDomain = example.com; }\n"):
    base = tempfile.mkdtemp(prefix="cgpbase.", dir=tmp)
    os.mkdir(os.path.join(base, "Submitted"))
    with open(os.path.join(base, "CGPCloudmark.cfg"), "wb") as f:
        f.write(cfg)
    return base


def files(base, suffix):
    sub = os.path.join(base, "Submitted")
    return sorted(os.path.join(sub, n) for n in os.listdir(sub)
                  if n.endswith(suffix))


def number_after(text, label):
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(label):
            rest = stripped[len(label):].split()
            if rest:
                return int(rest[0])
    raise TestFailure("no %r line in the report text" % label)


def parse_mail(raw, rcpt, has_counts=True):
    """Check the envelope and MIME shape; return (message, text, html)."""
    check(b"\r" not in raw, "CR in a report (PIPE wants native LF)")
    check(all(b < 0x80 for b in raw), "non-ASCII byte in a report")
    check(raw.startswith(b"Return-Path: <>\nEnvelope-To: <%s>\n" % rcpt),
          "report does not start with Return-Path/Envelope-To: %r"
          % raw[:120])
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for h in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version"):
        check(msg[h] is not None, "report has no %s header" % h)
    check(msg.get_content_type() == "multipart/alternative",
          "report is %s, not multipart/alternative" % msg.get_content_type())
    parts = list(msg.iter_parts())
    check([p.get_content_type() for p in parts] == ["text/plain",
                                                    "text/html"],
          "report parts: %r" % [p.get_content_type() for p in parts])
    html = parts[1].get_content()
    check("<script" not in html and "http" not in html and "src=" not in html,
          "HTML part refers to something outside the mail")
    check(("width:" in html) == has_counts,
          "HTML chart bars: want %s" % has_counts)
    return msg, parts[0].get_content(), html


def state_text(day, prev):
    return ("version=1\n"
            "last_reported=%s\n"
            "cartridge_version=777\n"
            "day=%s\n"
            "score.0=10\n"
            "score.5=3\n"
            "score.97=4\n"
            "score.100=1\n"
            "category.legit=13\n"
            "category.spam=5\n"
            "fail_open.missing_file=2\n"
            "fail_open.timeout=1\n"
            "errors=1\n"
            "latency_us.100=18\n"
            "latency_us.2000=3\n"
            "updates_installed=1\n"
            "day=%s\n"
            "score.50=6\n"
            "category.bulk=6\n"
            % (prev, day, prev)).encode()


def case_report_now(binary, tmp):
    base = make_base(tmp)
    d = today()
    prev = d - datetime.timedelta(days=1)
    state = os.path.join(base, "CGPCloudmark.state")
    with open(state, "wb") as f:
        f.write(state_text(d.isoformat(), prev.isoformat()))
    before = open(state, "rb").read()
    r = run(binary, base, "REPORT")
    check(r.returncode == 0, "REPORT failed: %r %r" % (r.returncode,
                                                       r.stderr))
    subs = files(base, ".sub")
    check(len(subs) == 1, "want one .sub, got %r" % subs)
    check(files(base, ".tmp") == [], "a .tmp was left behind")
    check(os.path.basename(subs[0]).encode() in r.stdout,
          "REPORT did not say where the report went: %r" % r.stdout)
    msg, text, _ = parse_mail(open(subs[0], "rb").read(),
                              b"postmaster@example.com")
    check(d.isoformat() in msg["Subject"], "no date in %r" % msg["Subject"])
    check("until" in msg["Subject"], "the current day is not marked partial")
    check(number_after(text, "Requests answered") == 21, "requests")
    check(number_after(text, "scored") == 18, "scored")
    check(number_after(text, "fail-open") == 3, "fail-opens")
    check(number_after(text, "Errors") == 1, "errors")
    scores = {0: 10, 5: 3, 97: 4, 100: 1}
    for label, lo, hi in BARS:
        want = sum(n for s, n in scores.items() if lo <= s <= hi)
        check(number_after(text, label) == want,
              "bar %r: want %d" % (label, want))
    check(number_after(text, "legit") == 13, "legit")
    check(number_after(text, "spam") == 5, "spam")
    check(number_after(text, "missing file") == 2, "missing file")
    check(number_after(text, "timeout") == 1, "timeout")
    check(number_after(text, "installed") == 1, "updates installed")
    check(number_after(text, "Cartridge version") == 777, "cartridge")
    check("p50" in text and "p99" in text, "no latency percentiles")
    check(open(state, "rb").read() == before, "REPORT changed the state")

    # An ended day the state file keeps.
    r = run(binary, base, "REPORT", "--date", prev.isoformat())
    check(r.returncode == 0, "REPORT --date failed: %r" % r.stderr)
    subs = files(base, ".sub")
    check(len(subs) == 2, "want two .sub files, got %r" % subs)
    new = [s for s in subs if prev.isoformat() in os.path.basename(s)]
    check(len(new) == 1, "no .sub named for %s: %r" % (prev, subs))
    msg, text, _ = parse_mail(open(new[0], "rb").read(),
                              b"postmaster@example.com")
    check("daily report %s" % prev.isoformat() in msg["Subject"],
          "subject of an ended day: %r" % msg["Subject"])
    check(number_after(text, "Requests answered") == 6, "history requests")
    check(number_after(text, "40-80    [XX]") == 6, "history bar")

    # A day not kept: exit 1, nothing written.
    r = run(binary, base, "REPORT", "--date", "2001-01-01")
    check(r.returncode == 1, "unknown day: exit %d" % r.returncode)
    check(b"no saved counters" in r.stderr, "stderr: %r" % r.stderr)
    check(len(files(base, ".sub")) == 2, "a report for an unknown day")

    # --stdout: the mail on stdout, nothing in Submitted/.
    r = run(binary, base, "REPORT", "--stdout")
    check(r.returncode == 0, "--stdout failed: %r" % r.stderr)
    parse_mail(r.stdout, b"postmaster@example.com")
    check(len(files(base, ".sub")) == 2, "--stdout wrote a file")
    check(files(base, ".tmp") == [], "--stdout left a .tmp")


def case_recipient_and_no_state(binary, tmp):
    base = make_base(tmp, b"{ ReportTo = \"spam-admin@corp.test\"; }\n")
    r = run(binary, base, "REPORT", "--stdout")
    check(r.returncode == 0, "REPORT without state: %r" % r.stderr)
    check(b"no state file" in r.stderr, "no warning: %r" % r.stderr)
    _, text, _ = parse_mail(r.stdout, b"spam-admin@corp.test", False)
    check(number_after(text, "Requests answered") == 0, "zero counts")

    # No MainDomain, no ReportTo: plain postmaster.
    base = make_base(tmp, b"{ }\n")
    r = run(binary, base, "REPORT", "--stdout")
    check(r.returncode == 0, "REPORT: %r" % r.stderr)
    parse_mail(r.stdout, b"postmaster", False)

    # A state file that is not ours: refused, exit 1.
    with open(os.path.join(base, "CGPCloudmark.state"), "wb") as f:
        f.write(b"version=42\n")
    r = run(binary, base, "REPORT", "--stdout")
    check(r.returncode == 1, "foreign state file: exit %d" % r.returncode)


def case_arguments(binary, tmp):
    base = make_base(tmp)
    r = run(binary, base, "REPORT", "--help")
    check(r.returncode == 0 and b"usage" in r.stdout.lower(), "--help")
    for bad in (["--date", "2024-13-01"], ["--date"], ["--bogus"],
                ["-c"]):
        r = run(binary, base, "REPORT", *bad)
        check(r.returncode == 2, "REPORT %r: exit %d" % (bad, r.returncode))
        check(r.stderr != b"", "REPORT %r: no message" % bad)
    # A -c naming no file would report a state file that is not the
    # helper's (all zero): refused, nothing submitted.
    r = run(binary, base, "REPORT", "-c", "nowhere/CGPCloudmark.cfg")
    check(r.returncode == 2 and b"nowhere/CGPCloudmark.cfg" in r.stderr,
          "REPORT with a missing -c file: %d %r" % (r.returncode, r.stderr))
    check(files(base, ".sub") == [], "bad arguments wrote a report")

    # -c names the configuration (and so the state file) elsewhere.
    conf = tempfile.mkdtemp(prefix="conf.", dir=tmp)
    with open(os.path.join(conf, "my.cfg"), "wb") as f:
        f.write(b"{ MainDomain = other.test; }\n")
    d = today()
    with open(os.path.join(conf, "CGPCloudmark.state"), "wb") as f:
        f.write(state_text(d.isoformat(),
                           (d - datetime.timedelta(days=1)).isoformat()))
    r = run(binary, base, "REPORT", "-c", os.path.join(conf, "my.cfg"))
    check(r.returncode == 0, "REPORT -c: %r" % r.stderr)
    subs = files(base, ".sub")
    check(len(subs) == 1, "REPORT -c: Submitted/ is CGP's: %r" % subs)
    _, text, _ = parse_mail(open(subs[0], "rb").read(), b"postmaster@"
                            b"other.test")
    check(number_after(text, "Requests answered") == 21, "-c state used")


def case_no_submitted(binary, tmp):
    """REPORT run outside CGP's base directory (no Submitted/ there) says
    so and fails; it does not make a Submitted/ that CGP never reads and
    claim the report was written."""
    base = make_base(tmp)
    os.rmdir(os.path.join(base, "Submitted"))
    r = run(binary, base, "REPORT")
    check(r.returncode == 1, "REPORT without Submitted/: exit %d, %r"
          % (r.returncode, r.stdout))
    check(b"Submitted" in r.stderr, "no message naming Submitted: %r"
          % r.stderr)
    check(not os.path.exists(os.path.join(base, "Submitted")),
          "REPORT made a Submitted/ of its own")
    # --stdout needs no Submitted/.
    r = run(binary, base, "REPORT", "--stdout")
    check(r.returncode == 0, "REPORT --stdout without Submitted/: %r"
          % r.stderr)


def case_helper_counts(binary, tmp, wd):
    """Requests a helper answered show up, all of them, in the report."""
    base = make_base(tmp)
    queue = os.path.join(base, "Queue")
    os.mkdir(queue)
    good = sorted(f for f in os.listdir(TESTDATA)
                  if os.path.isfile(os.path.join(TESTDATA, f)))
    for f in good:
        shutil.copy(os.path.join(TESTDATA, f), queue)
    h = CgpHelper(binary, base, wd)
    seqs = []
    out = []
    n = 0
    try:
        for rnd in range(5):
            for f in good:
                n += 1
                seqs.append(b"%d" % n)
                out.append(b"%d FILE Queue/%s\n" % (n, f.encode()))
            n += 1
            seqs.append(b"%d" % n)
            out.append(b"%d FILE Queue/missing-%d.msg\n" % (n, rnd))
        h.send(b"".join(out))
        h.wait_answers(seqs)
        h.send(b"%d QUIT\n" % (n + 1))
        rc = h.wait_exit()
    finally:
        h.kill()
    check(rc == 0, "helper exit status %d" % rc)
    answered = {s: parse_answer(h.answers[s][0]) for s in seqs}
    # A fail-open is the one answer with a "* <seq> reason" line (a build
    # without a cartridge fails every request open: still counted).
    fails = [s for s in seqs if any(i.startswith(s + b" ") for i in h.info)]
    n_missing = 5
    state = os.path.join(base, "CGPCloudmark.state")
    if not os.path.exists(state):
        print("SKIP test_report helper counts: the helper wrote no "
              "CGPCloudmark.state (counters not wired into helper.c yet)")
        return
    r = run(binary, base, "REPORT", "--stdout")
    check(r.returncode == 0, "REPORT after the helper: %r" % r.stderr)
    _, text, _ = parse_mail(r.stdout, b"postmaster@example.com",
                            len(fails) < len(answered))
    check(number_after(text, "Requests answered") == len(answered),
          "report says %d requests, the helper answered %d"
          % (number_after(text, "Requests answered"), len(answered)))
    check(number_after(text, "fail-open") == len(fails),
          "fail-opens: report %d, helper %d"
          % (number_after(text, "fail-open"), len(fails)))
    check(number_after(text, "missing file") == n_missing,
          "missing files: report %d, sent %d"
          % (number_after(text, "missing file"), n_missing))
    check(number_after(text, "scored") == len(answered) - len(fails),
          "scored count")


def main():
    if len(sys.argv) != 2:
        print("usage: test_report.py BUILD_DIR", file=sys.stderr)
        return 2
    binary = os.path.join(sys.argv[1], "CGPCloudmark")
    tmp = tempfile.mkdtemp(prefix="test_report.")
    wd = Watchdog(DEADLINE_S)
    try:
        probe = run(binary, tmp, "REPORT", "--help")
        if probe.returncode != 0 or b"REPORT" not in probe.stdout:
            print("SKIP test_report: CGPCloudmark has no REPORT command yet "
                  "(main.c does not dispatch it to reportcmd_main)")
            return 0
        for case in (case_report_now, case_recipient_and_no_state,
                     case_arguments, case_no_submitted):
            case(binary, tmp)
        case_helper_counts(binary, tmp, wd)
    except TestFailure as e:
        print("FAIL test_report: %s" % e)
        return 1
    finally:
        wd.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_report: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
