#!/usr/bin/env python3
"""test_rate.py -- drives `CGPCloudmark RATE` (SPEC §6) over
testdata/messages and over small trees made under a temporary directory.

Checks: one line per message in input order, the line format, mbox names
<path>:<n>, .mdir folders, a CGP queue file, --json validity and path
escaping, --explain, --threads 1 and 4 giving identical output, a trained
cartridge through --cartridge, the heuristic rules of a cartridge trained
with --protect (a look-alike link and a password form make phishing, a
newsletter stays legit or bulk; cmtool inspect lists the protected
domain), unusable arguments (exit 2 with a message),
and junk (empty file, binary bytes, FIFO, dangling link) that yields error
lines or skip warnings without ending the run.

Usage: python3 tests/integration/test_rate.py BUILD_DIR
Standard library only; every file goes under a mkdtemp directory.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import check, summary  # noqa: E402
from sanlib import timeout_s  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
BIN = os.path.join(BUILD, "CGPCloudmark")
CMTOOL = os.path.join(BUILD, "cmtool")
MESSAGES = "testdata/messages"
TIMEOUT_S = timeout_s(CMTOOL, 120)

# testdata/messages in the order RATE must list it (sorted, recursive).
EXPECTED_NAMES = [
    "testdata/messages/archive.mbox:1",
    "testdata/messages/archive.mbox:2",
    "testdata/messages/archive.mbox:3",
    "testdata/messages/colleague-note.eml",
    "testdata/messages/inbox.mdir/1001-R-20240311080102",
    "testdata/messages/inbox.mdir/1002-N-20240311093544",
    "testdata/messages/malware-invoice.eml",
    "testdata/messages/newsletter.eml",
    "testdata/messages/phish-bank.eml",
    "testdata/messages/queue-00001.msg",
    "testdata/messages/spam-pills.eml",
]

# SPEC §4 default bars.
DEFAULT_BARS = [(0, 0, ""), (1, 39, "X"), (40, 80, "XX"), (81, 90, "XXX"),
                (91, 95, "XXXX"), (96, 99, "XXXXX"), (100, 100, "XXXXXX")]

LINE_RE = re.compile(
    r"^(?P<path>[^\t]+)\t(?P<score>\d{1,3}|-)\t(?P<bar>\[X*\]|-)\t"
    r"(?P<cat>[a-z_]+|error:[a-z0-9._-]+)(?:\t(?P<explain>.*))?$")

# Options added to every scoring run: empty while the embedded default
# cartridge is usable, else --cartridge with one trained here, so RATE's
# own behaviour is still tested (the default cartridge has its own test).
EXTRA = []



def rate(args, cwd=None, extra=True):
    opts = EXTRA if extra and args and args[0] != "--help" else []
    proc = subprocess.run([BIN, "RATE"] + opts + args, cwd=cwd or TOP,
                          stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=TIMEOUT_S)
    return (proc.returncode, proc.stdout.decode("utf-8", "surrogateescape"),
            proc.stderr.decode("utf-8", "replace"))


def bar_for(score):
    for lo, hi, text in DEFAULT_BARS:
        if lo <= score <= hi:
            return "[" + text + "]"
    return None


def parse_lines(out):
    rows = []
    for line in out.splitlines():
        m = LINE_RE.match(line)
        check(m is not None, "line format: %r" % line)
        if m is not None:
            rows.append(m.groupdict())
    return rows


def test_testdata(workdir):
    code, out, err = rate(["--threads", "2", MESSAGES], cwd=workdir)
    check(code == 0, "RATE testdata exit 0 (got %d): %s" % (code, err))
    rows = parse_lines(out)
    names = [r["path"] for r in rows]
    check(names == EXPECTED_NAMES, "testdata names and order: %r" % names)
    for r in rows:
        check(r["score"] != "-", "testdata message scored: %r" % r)
        if r["score"] == "-":
            continue
        score = int(r["score"])
        check(0 <= score <= 100, "score in 0..100: %r" % r)
        check(r["bar"] == bar_for(score), "bar matches score: %r" % r)
        check(r["cat"] in ("legit", "spam", "phishing", "malware", "bulk"),
              "known category: %r" % r)
        check(r["explain"] is None, "no 5th column without --explain")
    check("messages" in err and "messages/s" in err,
          "summary on stderr: %r" % err)
    check("\r" not in err, "no progress bar when stderr is not a tty")
    return out


def test_input_order(workdir):
    args = [MESSAGES + "/spam-pills.eml", MESSAGES + "/archive.mbox",
            MESSAGES + "/inbox.mdir/", MESSAGES + "/colleague-note.eml",
            MESSAGES + "/spam-pills.eml"]
    code, out, err = rate(["--threads", "3"] + args, cwd=workdir)
    check(code == 0, "order run exit 0: %s" % err)
    names = [r["path"] for r in parse_lines(out)]
    want = [args[0], args[1] + ":1", args[1] + ":2", args[1] + ":3",
            args[2] + "1001-R-20240311080102",
            args[2] + "1002-N-20240311093544", args[3], args[4]]
    check(names == want, "argument order kept: %r" % names)


def test_threads_identical(workdir):
    # A tree big enough that workers finish out of order.
    tree = os.path.join(workdir, "many")
    os.mkdir(tree)
    for i in range(160):
        body = ("free money now click here " * (i % 7 + 1) if i % 3 == 0
                else "meeting notes for the project, see you tomorrow\n"
                * (i % 5 + 1))
        with open(os.path.join(tree, "m%03d.eml" % i), "w") as f:
            f.write("From: a%d@example.com\nTo: b@example.org\n"
                    "Subject: message %d\n\n%s\n" % (i, i, body))
    outs = []
    for threads in ("1", "4"):
        code, out, err = rate(["--threads", threads, MESSAGES, tree],
                              cwd=workdir)
        check(code == 0, "--threads %s exit 0: %s" % (threads, err))
        outs.append(out)
    check(outs[0] == outs[1], "--threads 1 and 4 give the same output")
    check(len(outs[0].splitlines()) == 160 + len(EXPECTED_NAMES),
          "one line per message with --threads")


def test_json(workdir):
    odd = os.path.join(workdir, "odd")
    os.mkdir(odd)
    names = ["tab\there.eml", "quote\"back\\slash.eml", "caf\u00e9.eml"]
    for n in names:
        with open(os.path.join(odd, n), "w") as f:
            f.write("From: x@example.com\nSubject: hi\n\nhello\n")
    # Names that are bytes, not UTF-8: caf\xe9 (Latin-1) is another file
    # than the UTF-8 "caf\u00e9.eml" above and must read back as itself.
    raw_names = [b"bad\xffbyte.eml", b"caf\xe9.eml"]
    for n in raw_names:
        with open(os.path.join(os.fsencode(odd), n), "wb") as f:
            f.write(b"From: x@example.com\nSubject: hi\n\nhello\n")
    code, out, err = rate(["--json", MESSAGES, odd], cwd=workdir)
    check(code == 0, "--json exit 0: %s" % err)
    objs = []
    for line in out.splitlines():
        try:
            objs.append(json.loads(line))
        except ValueError:
            check(False, "--json line is JSON: %r" % line)
    check(len(objs) == len(EXPECTED_NAMES) + 5, "--json one object each")
    keys = {"path", "score", "bar", "category", "subcategory", "rescan",
            "analysis"}
    for o in objs:
        check(keys <= set(o), "--json keys: %r" % o)
        check(isinstance(o.get("score"), int), "--json score int: %r" % o)
        check(o.get("bar") == bar_for(o.get("score", -1)),
              "--json bar: %r" % o)
        check(isinstance(o.get("rescan"), bool), "--json rescan: %r" % o)
    paths = [o.get("path") for o in objs]
    check(paths[:len(EXPECTED_NAMES)] == EXPECTED_NAMES, "--json order")
    # A byte that is not UTF-8 comes out as \udcXX (PEP 383's
    # surrogateescape): os.fsencode gives back the name on disk.
    got = sorted(os.fsencode(os.path.basename(p))
                 for p in paths[len(EXPECTED_NAMES):])
    check(got == sorted(raw_names + [os.fsencode(n) for n in names]),
          "--json paths read back to the names on disk: %r" % got)
    # The text form keeps a line a line: control bytes as \xNN.
    code, out, err = rate([os.path.join(odd, names[0])], cwd=workdir)
    check(out.startswith(os.path.join(odd, "tab\\x09here.eml") + "\t"),
          "text path escapes a tab: %r" % out)


def test_text_path_unambiguous(workdir):
    """A name holding a backslash cannot pass for an escaped one: a file
    literally named 'a\\x0ab' and one named 'a<LF>b' give different
    paths, and every text path decodes back to its name."""
    d = os.path.join(workdir, "bslash")
    os.mkdir(d)
    names = ["a\\x0ab.eml", "a\nb.eml", "c\\d.eml"]
    for n in names:
        with open(os.path.join(d, n), "w") as f:
            f.write("From: x@example.com\nSubject: hi\n\nhello\n")
    code, out, err = rate([d], cwd=workdir)
    check(code == 0, "backslash names exit 0: %s" % err)
    paths = [line.split("\t")[0] for line in out.splitlines()]
    check(len(paths) == 3 and len(set(paths)) == 3,
          "three distinct text paths: %r" % paths)
    decoded = sorted(os.path.basename(re.sub(
        r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), p))
        for p in paths)
    check(decoded == sorted(names),
          "text paths decode back to the names: %r" % decoded)


def test_unicode_line_breaks(workdir):
    """A name holding a character that Unicode-aware readers take as a
    line break or a terminal control (NEL U+0085 and the other C1
    controls, LINE and PARAGRAPH SEPARATOR U+2028/9) still gives one
    line per message, in text and in --json (str.splitlines splits on
    them), and the JSON path is the name, unchanged."""
    d = os.path.join(workdir, "uni")
    os.mkdir(d)
    names = ["nel\u0085x.eml", "ls\u2028x.eml", "ps\u2029x.eml",
             "csi\u009b2Jx.eml"]
    for n in names:
        with open(os.path.join(d, n), "w") as f:
            f.write("From: x@example.com\nSubject: hi\n\nhello\n")
    code, out, err = rate([d], cwd=workdir)
    check(code == 0, "unicode names exit 0: %s" % err)
    lines = out.splitlines()
    check(len(lines) == len(names) and all(LINE_RE.match(x) for x in lines),
          "text: one line per message: %r" % lines)
    decoded = sorted(os.path.basename(os.fsdecode(re.sub(
        rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
        os.fsencode(x.split("\t")[0])))) for x in lines)
    check(decoded == sorted(names), "text paths decode back: %r" % decoded)
    code, out, err = rate(["--json", d], cwd=workdir)
    lines = out.splitlines()
    check(len(lines) == len(names), "--json: one line each: %r" % lines)
    try:
        got = sorted(os.path.basename(json.loads(x)["path"]) for x in lines)
    except ValueError:
        got = None
    check(got == sorted(names), "--json paths are the names: %r" % got)


def test_explain(workdir):
    code, out, err = rate(["--explain", MESSAGES + "/phish-bank.eml"],
                          cwd=workdir)
    check(code == 0, "--explain exit 0: %s" % err)
    rows = parse_lines(out)
    check(len(rows) == 1 and rows[0]["explain"] is not None,
          "--explain adds a 5th column: %r" % out)
    # The features that moved the margin most, largest first, each
    # "ns:text:+w"; printable ASCII without quotes.
    m = re.search(r" top=(\S+)$", rows[0]["explain"])
    check(m is not None, "--explain lists top features: %r" % out)
    items = m.group(1).split(",")
    check(1 <= len(items) <= 8, "1..8 top features: %r" % items)
    weights = []
    for it in items:
        f = re.match(r"^([a-z-]+):(.+):([+-][0-9]+\.[0-9]{2})$", it)
        check(f is not None, "top feature %r is ns:text:+w" % it)
        weights.append(abs(float(f.group(3))))
    check(weights == sorted(weights, reverse=True),
          "top features by decreasing weight: %r" % items)
    # Each namespace's share of the margin, largest first, before top=.
    m = re.search(r" ns=(\S+) top=", rows[0]["explain"])
    check(m is not None, "--explain sums by namespace: %r" % out)
    shares = []
    for it in m.group(1).split(","):
        f = re.match(r"^([a-z-]+):([+-][0-9]+\.[0-9]{2})$", it)
        check(f is not None, "namespace share %r is ns:+w" % it)
        shares.append(abs(float(f.group(2))))
    check(1 <= len(shares) <= 6 and shares == sorted(shares, reverse=True),
          "1..6 namespace shares by decreasing weight: %r" % m.group(1))
    check(all(0x20 <= ord(c) < 0x7f and c != '"' for c in
              rows[0]["explain"]), "analysis is plain ASCII")


def test_bad_arguments(workdir):
    cases = [
        ([], "no file"),
        (["--threads", "2"], "no file"),
        (["/nonexistent/for/sure"], "no such file"),
        (["--threads", "0", MESSAGES], "--threads"),
        (["--threads", "abc", MESSAGES], "--threads"),
        (["--threads", "65", MESSAGES], "--threads"),
        (["--threads"], "needs a value"),
        (["--frobnicate", MESSAGES], "unknown option"),
        (["-c", "/nonexistent.cfg", MESSAGES], "configuration"),
        (["--cartridge", "/nonexistent.cmc", MESSAGES], "cartridge"),
    ]
    for args, needle in cases:
        code, out, err = rate(args, cwd=workdir, extra=False)
        check(code == 2, "exit 2 for %r (got %d)" % (args, code))
        check(needle in err, "message for %r: %r" % (args, err))
        check(out == "", "nothing on stdout for %r" % (args,))
    # An argument that is neither a file nor a folder (a FIFO, a device)
    # holds no message: an unusable argument, refused before any output.
    fifo = os.path.join(workdir, "arg-fifo")
    os.mkfifo(fifo)
    for args in ([fifo], [MESSAGES, "/dev/null"]):
        code, out, err = rate(args, cwd=workdir, extra=False)
        check(code == 2 and "not a file or folder" in err and out == "",
              "exit 2 for the special file in %r (got %d): %r"
              % (args, code, err))
    code, out, err = rate(["--help"], cwd=workdir)
    check(code == 0 and "usage" in out and "--cartridge" in out,
          "--help prints usage")
    # A cartridge that is not one: the run cannot start (exit 1).
    junk = os.path.join(workdir, "junk.cmc")
    with open(junk, "wb") as f:
        f.write(b"not a cartridge at all")
    code, out, err = rate(["--cartridge", junk, MESSAGES], cwd=workdir,
                          extra=False)
    check(code == 1 and "cartridge" in err and out == "",
          "unusable cartridge: exit 1 with a message (got %d)" % code)


def test_junk(workdir):
    junk = os.path.join(workdir, "junk")
    os.mkdir(junk)
    open(os.path.join(junk, "a-empty"), "w").close()
    with open(os.path.join(junk, "b-binary"), "wb") as f:
        f.write(bytes(range(256)) * 8)
    with open(os.path.join(junk, "c-good.eml"), "w") as f:
        f.write("From: x@example.com\nSubject: fine\n\nhello\n")
    os.mkfifo(os.path.join(junk, "d-fifo"))
    os.symlink("nowhere", os.path.join(junk, "e-dangling"))
    os.symlink(".", os.path.join(junk, "f-loop"))
    with open(os.path.join(junk, ".hidden"), "w") as f:
        f.write("From: x@example.com\n\nhidden\n")
    code, out, err = rate(["--threads", "2", junk], cwd=workdir)
    check(code == 0, "junk run completes with exit 0: %s" % err)
    rows = {r["path"]: r for r in parse_lines(out)}
    p = lambda n: os.path.join(junk, n)
    check(p("a-empty") in rows and rows[p("a-empty")]["cat"].startswith(
        "error:") and rows[p("a-empty")]["score"] == "-",
        "empty file gives an error line: %r" % rows.get(p("a-empty")))
    check(p("b-binary") in rows, "binary junk gives a line")
    check(p("c-good.eml") in rows and rows[p("c-good.eml")]["score"] != "-",
          "good file next to junk is scored")
    check(p("d-fifo") not in rows and "d-fifo" in err,
          "FIFO skipped with a warning: %r" % err)
    check(p("e-dangling") in rows and
          rows[p("e-dangling")]["cat"].startswith("error:"),
          "dangling link gives an error line")
    check(not any(".hidden" in k for k in rows), "dot files skipped")
    check("errors" in err, "summary counts errors")


def train_small(workdir):
    """A cartridge trained by cmtool on four testdata messages; None when
    cmtool fails."""
    tree = os.path.join(workdir, "train", "src")
    for label in ("ham", "spam", "phish"):
        os.makedirs(os.path.join(tree, label), exist_ok=True)
    for name, label in (("colleague-note.eml", "ham"),
                        ("newsletter.eml", "ham"),
                        ("spam-pills.eml", "spam"),
                        ("phish-bank.eml", "phish")):
        shutil.copy(os.path.join(TOP, MESSAGES, name),
                    os.path.join(tree, label, name))
    cart = os.path.join(workdir, "small.cmc")
    proc = subprocess.run([CMTOOL, "train", os.path.join(workdir, "train"),
                           "-o", cart], capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=TIMEOUT_S)
    check(proc.returncode == 0 and os.path.exists(cart),
          "cmtool train makes a small cartridge: %r" % proc.stderr[-300:])
    return cart if os.path.exists(cart) else None


def test_cartridge_option(workdir, cart):
    if cart is None:
        return
    code, out, err = rate(["--cartridge", cart, MESSAGES], cwd=workdir,
                          extra=False)
    check(code == 0, "--cartridge run exit 0: %s" % err)
    names = [r["path"] for r in parse_lines(out)]
    check(names == EXPECTED_NAMES, "--cartridge scores every message")


def test_one_block_cartridge(workdir):
    """A cartridge from before the model's two normalisation blocks
    (MODEL format 1, kept as a fuzz seed) still loads, says so, and
    scores every message."""
    old = os.path.join(TOP, "tests/fuzz/corpus/cartridge/trained-format1.cmc")
    info = subprocess.run([CMTOOL, "inspect", old], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL,
                          timeout=TIMEOUT_S)
    check(info.returncode == 0 and "normalisation: one block" in info.stdout,
          "inspect names a format 1 model's one block: %r" % info.stdout[-300:])
    code, out, err = rate(["--json", "--cartridge", old, MESSAGES],
                          cwd=workdir, extra=False)
    rows = [json.loads(line) for line in out.splitlines() if line]
    check(code == 0 and [r["path"] for r in rows] == EXPECTED_NAMES,
          "a format 1 cartridge scores every message: %s" % err)
    check(all(0 <= r["score"] <= 100 for r in rows),
          "format 1 scores in 0..100: %r" % [r["score"] for r in rows])


LURE = """From: "Examplebank Security" <alerts@notice-center.example>
To: tom.berg@example.org
Subject: Urgent: your account has been suspended
Date: Wed, 13 Mar 2024 21:05:37 +0000
Message-ID: <lure-1@notice-center.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body>
<p>Dear Customer,</p>
<p>We detected unusual sign-in activity on your Example Bank account and
have temporarily suspended online access.  To restore access you must
verify your identity within 24 hours.</p>
<p><a href="https://secure.examp1ebank.example/login">Restore access</a></p>
<form action="https://collect.notice-center.example/p">
<input name=user><input type=password name=pw></form>
<p>Example Bank Security Department</p>
</body></html>
"""


def test_rules(workdir):
    """A cartridge trained with --protect: its RULES section carries the
    admin's domain; a lure linking to a look-alike of it with a password
    form is phishing named by a rule; the newsletter is not."""
    prot = os.path.join(workdir, "protect.txt")
    with open(prot, "w") as f:
        f.write("# our bank\nExampleBank.example\n\n")
    cart = os.path.join(workdir, "rules.cmc")
    proc = subprocess.run([CMTOOL, "train", "--protect", prot,
                           os.path.join(workdir, "train"), "-o", cart],
                          capture_output=True, stdin=subprocess.DEVNULL,
                          timeout=TIMEOUT_S)
    check(proc.returncode == 0, "train --protect: %r" % proc.stderr[-300:])
    check(b"rule lookalike-domain" in proc.stderr,
          "train reports the rules: %r" % proc.stderr[-600:])
    if proc.returncode != 0:
        return
    ins = subprocess.run([CMTOOL, "inspect", cart], capture_output=True,
                         stdin=subprocess.DEVNULL, timeout=TIMEOUT_S)
    text = ins.stdout.decode("utf-8", "replace")
    check("rules: RULES section" in text and "protected domains: " in text
          and "lookalike-domain" in text,
          "inspect shows the RULES section: %r" % text[-800:])
    # The plain listing stops after the first names; --all has every one,
    # the admin's own a brand among the seed brands.
    ins = subprocess.run([CMTOOL, "inspect", "--all", cart],
                         capture_output=True, stdin=subprocess.DEVNULL,
                         timeout=TIMEOUT_S)
    lines = ins.stdout.decode("utf-8", "replace").splitlines()
    check(ins.returncode == 0 and "    examplebank.example*" in lines
          and "    paypal.com*" in lines,
          "inspect --all lists every protected domain: %r" % lines[-5:])
    bad = subprocess.run([CMTOOL, "train", "--protect",
                          os.path.join(workdir, "missing.txt"),
                          os.path.join(workdir, "train"), "-o",
                          os.path.join(workdir, "never.cmc")],
                         capture_output=True, stdin=subprocess.DEVNULL,
                         timeout=TIMEOUT_S)
    check(bad.returncode != 0 and
          not os.path.exists(os.path.join(workdir, "never.cmc")),
          "train --protect with a missing file fails")
    lure = os.path.join(workdir, "lure.eml")
    with open(lure, "w") as f:
        f.write(LURE.replace("\n", "\r\n"))
    code, out, err = rate(["--json", "--explain", "--cartridge", cart, lure,
                           os.path.join(MESSAGES, "newsletter.eml")],
                          cwd=workdir, extra=False)
    check(code == 0, "RATE with the rules cartridge: %s" % err)
    rows = [json.loads(line) for line in out.splitlines() if line]
    check(len(rows) == 2, "two verdicts: %r" % out)
    if len(rows) != 2:
        return
    r = rows[0]
    check(r["category"] == "phishing" and r["subcategory"] in
          ("lookalike-domain", "credential-form") and
          re.search(r"rules=[^ ]*lookalike-domain,credential-form",
                    r["analysis"]) is not None and
          re.search(r"rulew=[^ ]*lookalike-domain:[-+][0-9.]+,"
                    r"credential-form:", r["analysis"]) is not None and
          "lookalike=confusable" in r["analysis"],
          "look-alike link + password form: phishing by rule: %r" % r)
    n = rows[1]
    check(n["category"] in ("legit", "bulk") and
          "bulk-markers" in n["analysis"] and
          "lookalike-domain" not in n["analysis"],
          "newsletter is not phishing: %r" % n)


def main():
    if not os.access(BIN, os.X_OK):
        print("test_rate: %s not built" % BIN, file=sys.stderr)
        return 1
    workdir = tempfile.mkdtemp(prefix="test_rate.")
    try:
        # Run from a copy of testdata so relative names are as given and
        # no CGPCloudmark.cfg of the checkout is picked up.
        shutil.copytree(os.path.join(TOP, MESSAGES),
                        os.path.join(workdir, MESSAGES), symlinks=True)
        with open(os.path.join(workdir, "CGPCloudmark.cfg"), "w") as f:
            f.write("{ }\n")
        cart = train_small(workdir)
        version = subprocess.run([BIN, "VERSION"], capture_output=True,
                                 stdin=subprocess.DEVNULL, timeout=TIMEOUT_S)
        if version.returncode != 0 and cart is not None:
            print("test_rate: the embedded default cartridge is unusable; "
                  "rating with a cartridge trained here", file=sys.stderr)
            EXTRA.extend(["--cartridge", cart])
        test_testdata(workdir)
        test_input_order(workdir)
        test_threads_identical(workdir)
        test_json(workdir)
        test_text_path_unambiguous(workdir)
        test_unicode_line_breaks(workdir)
        test_explain(workdir)
        test_bad_arguments(workdir)
        test_junk(workdir)
        test_cartridge_option(workdir, cart)
        test_one_block_cartridge(workdir)
        test_rules(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return summary("test_rate")


if __name__ == "__main__":
    sys.exit(main())
