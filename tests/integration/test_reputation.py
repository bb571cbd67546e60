#!/usr/bin/env python3
"""test_reputation.py -- the cartridge's reputation lists end to end:
`cmtool reputation` puts a plain-text list into a cartridge, `cmtool
inspect` shows it, and `CGPCloudmark RATE` scores a CGP queue file whose
envelope `S ... [ip]` line names a blocked address high with that
cartridge and low without; an allow entry pulls a spam message down; a
bad list, or lists that allow and block the same key, are refused with
file and line and write nothing; so is a
--version at or below the input's, or a default version past the largest;
`cmtool train --reputation` carries a list into a trained cartridge;
temporary files a killed run left beside -o (an hour old) are removed
when it is written, fresh ones, symlinks and names not ours stay.

Usage: python3 tests/integration/test_reputation.py BUILD_DIR
Standard library only; every file goes under a mkdtemp directory.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import check, summary  # noqa: E402
from sanlib import timeout_s  # noqa: E402
from templib import plant_temps  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
BIN = os.path.join(BUILD, "CGPCloudmark")
CMTOOL = os.path.join(BUILD, "cmtool")
MESSAGES = os.path.join(TOP, "testdata", "messages")
TIMEOUT_S = timeout_s(CMTOOL, 120)

WORK = [None]  # the temporary directory, set by main

# A plain colleague's note arriving over SMTP from 198.51.100.23.
QUEUE_FILE = (
    "P I 14-03-2024 09:30:12 0000 ____ ____ <ann@sender.example>\n"
    "O T\n"
    "S SMTP [198.51.100.23]\n"
    "R W 14-03-2024 09:30:12 0000 ____ _FY_ <bob@example.org>\n"
    "\n"
    "Return-Path: <ann@sender.example>\n"
    "Received: from mail.sender.example ([198.51.100.23] verified)\n"
    "\tby mx.example.org (CommuniGate Pro SMTP 6.3.20)\n"
    "\twith ESMTPS id 1 for bob@example.org; Thu, 14 Mar 2024 10:30:12 "
    "+0100\n"
    "From: Ann Example <ann@sender.example>\n"
    "To: Bob <bob@example.org>\n"
    "Subject: notes from Tuesday\n"
    "Date: Thu, 14 Mar 2024 10:30:00 +0100\n"
    "Message-ID: <1@sender.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "Hi Bob,\n\nhere are my notes from Tuesday's meeting. Let me know if I\n"
    "missed anything; I will send the minutes round on Friday.\n\nAnn\n")



def run(argv, cwd=None):
    proc = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=TIMEOUT_S)
    return (proc.returncode, proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"))


def rate(cart, path, explain=False):
    """(score, category, analysis) of one message, or None."""
    argv = [BIN, "RATE", "--cartridge", cart]
    if explain:
        argv.append("--explain")
    # From the work directory: no CGPCloudmark.cfg of the checkout.
    code, out, err = run(argv + [path], cwd=WORK[0])
    check(code == 0, "RATE exit 0: %s" % err[-300:])
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) >= 4 and f[1].isdigit():
            return int(f[1]), f[3], f[4] if len(f) > 4 else ""
    check(False, "RATE printed a score line: %r" % out)
    return None


def base_cartridge(workdir):
    """The committed default cartridge when it loads, else one trained on
    a few testdata messages."""
    default = os.path.join(TOP, "cartridge", "default.cmc")
    if os.path.exists(default) and run([CMTOOL, "inspect", default])[0] == 0:
        return default
    tree = os.path.join(workdir, "train", "src")
    for name, label in (("colleague-note.eml", "ham"),
                        ("newsletter.eml", "ham"),
                        ("spam-pills.eml", "spam"),
                        ("phish-bank.eml", "phish")):
        os.makedirs(os.path.join(tree, label), exist_ok=True)
        shutil.copy(os.path.join(MESSAGES, name),
                    os.path.join(tree, label, name))
    cart = os.path.join(workdir, "small.cmc")
    run([CMTOOL, "train", os.path.join(workdir, "train"), "-o", cart])
    return cart


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def header_version(cart):
    code, out, _ = run([CMTOOL, "inspect", cart])
    m = re.search(r"version (\d+)", out)
    return int(m.group(1)) if code == 0 and m else None


def test_block_ip(workdir, base):
    msg = write(os.path.join(workdir, "queue.msg"), QUEUE_FILE)
    lst = write(os.path.join(workdir, "block.list"),
                "# test list\n"
                "block ip 198.51.100.0/24 10 phishing\n"
                "allow domain partner.example\n")
    out_cart = os.path.join(workdir, "blocked.cmc")
    code, _, err = run([CMTOOL, "reputation", base, "--list", lst, "-o",
                        out_cart])
    check(code == 0 and os.path.exists(out_cart),
          "cmtool reputation writes the cartridge: %s" % err)
    if code != 0:
        return
    check(header_version(out_cart) == header_version(base) + 1,
          "cmtool reputation bumps the version by default")
    code, out, _ = run([CMTOOL, "inspect", out_cart])
    check(code == 0 and "reputation: 2 entries" in out and
          "block ip 198.51.100.0/24 10.00 phishing" in out,
          "cmtool inspect shows the section: %r" % out[-400:])

    without = rate(base, msg)
    with_list = rate(out_cart, msg, explain=True)
    if without is None or with_list is None:
        return
    check(without[0] < 50, "the note scores low without the list: %r" %
          (without,))
    check(with_list[0] >= 96, "the blocked peer IP scores high: %r" %
          (with_list,))
    check(with_list[1] == "phishing",
          "a strong block sets its category: %r" % (with_list,))
    check("rep=ip:+10.00" in with_list[2] and
          "rep-hits=ip:198.51.100.0/24:+10.00" in with_list[2],
          "the analysis names the hit: %r" % with_list[2])

    # The same message with an unspecified envelope address: the topmost
    # Received line with a public address is the peer.
    msg0 = write(os.path.join(workdir, "queue0.msg"),
                 QUEUE_FILE.replace("S SMTP [198.51.100.23]",
                                    "S SMTP [0.0.0.0]"))
    r = rate(out_cart, msg0)
    check(r is not None and r[0] >= 96,
          "Received fallback finds the blocked IP: %r" % (r,))


def test_allow_and_version(workdir, base):
    spam = os.path.join(MESSAGES, "spam-pills.eml")
    before = rate(base, spam)
    m = re.search(r"<[^@<>\s]+@([a-z0-9.-]+)>", open(spam).read())
    check(m is not None, "spam-pills.eml has a From address")
    if m is None or before is None:
        return
    lst = write(os.path.join(workdir, "allow.list"),
                "allow domain %s 10\n" % m.group(1))
    out_cart = os.path.join(workdir, "allowed.cmc")
    code, _, err = run([CMTOOL, "reputation", base, "--list", lst,
                        "--version", "777", "-o", out_cart])
    check(code == 0, "cmtool reputation --version: %s" % err)
    check(header_version(out_cart) == 777, "--version sets the version")
    after = rate(out_cart, spam)
    check(after is not None and after[0] < before[0],
          "an allow entry lowers the score: %r -> %r" % (before, after))

    # --merge keeps what the cartridge had; no list and no --merge empties.
    merged = os.path.join(workdir, "merged.cmc")
    lst2 = write(os.path.join(workdir, "more.list"),
                 "block urlhost bad.example\n")
    code, _, _ = run([CMTOOL, "reputation", out_cart, "--list", lst2,
                      "--merge", "-o", merged])
    code2, out, _ = run([CMTOOL, "inspect", merged])
    check(code == 0 and code2 == 0 and "reputation: 2 entries" in out,
          "--merge keeps the old entries: %r" % out[-300:])
    emptied = os.path.join(workdir, "emptied.cmc")
    code, _, _ = run([CMTOOL, "reputation", merged, "-o", emptied])
    code2, out, _ = run([CMTOOL, "inspect", emptied])
    check(code == 0 and "reputation: 0 entries" in out,
          "no list empties the section")


def test_bad_list(workdir, base):
    lst = write(os.path.join(workdir, "bad.list"),
                "block ip 192.0.2.0/24\nblock ip 192.0.2.1/24\n")
    out_cart = os.path.join(workdir, "never.cmc")
    code, _, err = run([CMTOOL, "reputation", base, "--list", lst, "-o",
                        out_cart])
    check(code != 0, "a bad list fails")
    check("bad.list:2:" in err and "host bits" in err,
          "the error names file and line: %r" % err)
    check(not os.path.exists(out_cart), "nothing is written")
    code, _, err = run([CMTOOL, "reputation", base, "-o"])
    check(code == 2, "usage error exits 2")
    # The same key allowed in one list and blocked in another: refused
    # with both places, not settled silently by the order of the lists.
    blk = write(os.path.join(workdir, "block2.list"),
                "block urlhost login-verify.example 8 phishing\n")
    alw = write(os.path.join(workdir, "allow2.list"),
                "# partners\nallow urlhost Login-Verify.example\n")
    code, _, err = run([CMTOOL, "reputation", base, "--list", alw,
                        "--list", blk, "-o", out_cart])
    check(code == 1 and "block2.list:1:" in err and "allow2.list:2" in err,
          "a contradicting list is refused with file and line: %d %r"
          % (code, err))
    check(not os.path.exists(out_cart), "nothing is written on a conflict")
    os.makedirs(os.path.join(workdir, "empty", "ham"), exist_ok=True)
    code, _, err = run([CMTOOL, "train", "--reputation", blk,
                        "--reputation", alw, os.path.join(workdir, "empty"),
                        "-o", out_cart])
    check(code != 0 and "allow2.list:2:" in err and "block2.list:1" in err,
          "cmtool train refuses it too: %d %r" % (code, err[-300:]))
    check(not os.path.exists(out_cart), "train writes nothing on a conflict")
    # One --list past the limit: the message says the limit, not just
    # "bad argument".
    ok = write(os.path.join(workdir, "ok.list"), "block ip 192.0.2.0/24\n")
    argv = [CMTOOL, "reputation", base, "-o", out_cart]
    for _ in range(65):
        argv += ["--list", ok]
    code, _, err = run(argv)
    check(code == 2 and "at most 64 --list" in err,
          "a 65th --list names the limit: %d %r" % (code, err))
    check(not os.path.exists(out_cart), "nothing is written past the limit")


def test_version_refusals(workdir, base):
    """A version clients would refuse as a replay, or one past the
    largest, is an error and writes nothing."""
    out_cart = os.path.join(workdir, "replay.cmc")
    five = os.path.join(workdir, "five.cmc")
    code, _, err = run([CMTOOL, "reputation", base, "--version", "5", "-o",
                        five])
    check(code == 0 and header_version(five) == 5, "--version 5: %r" % err)
    for v in ("5", "3"):
        code, _, err = run([CMTOOL, "reputation", five, "--version", v,
                            "-o", out_cart])
        check(code != 0 and "not above" in err,
              "--version %s at or below the input's 5 refused: %d %r"
              % (v, code, err))
        check(not os.path.exists(out_cart), "nothing written for %s" % v)
    top = os.path.join(workdir, "top.cmc")
    code, _, err = run([CMTOOL, "reputation", base, "--version",
                        str(2 ** 64 - 1), "-o", top])
    check(code == 0 and header_version(top) == 2 ** 64 - 1,
          "the largest version can be set: %r" % err)
    code, _, err = run([CMTOOL, "reputation", top, "-o", out_cart])
    check(code != 0 and "no higher version" in err,
          "the default version does not wrap to 0: %d %r" % (code, err))
    check(not os.path.exists(out_cart), "nothing written after the largest")


def test_train_list(workdir):
    tree = os.path.join(workdir, "t2", "src")
    for name, label in (("colleague-note.eml", "ham"),
                        ("newsletter.eml", "ham"),
                        ("spam-pills.eml", "spam"),
                        ("phish-bank.eml", "phish")):
        os.makedirs(os.path.join(tree, label), exist_ok=True)
        shutil.copy(os.path.join(MESSAGES, name),
                    os.path.join(tree, label, name))
    lst = write(os.path.join(workdir, "train.list"),
                "block urlhost evil.example 4 malware\n")
    cart = os.path.join(workdir, "t2.cmc")
    code, _, err = run([CMTOOL, "train", "--reputation", lst,
                        os.path.join(workdir, "t2"), "-o", cart])
    check(code == 0, "cmtool train --reputation: %s" % err[-300:])
    code, out, _ = run([CMTOOL, "inspect", cart])
    check(code == 0 and "block urlhost evil.example 4.00 malware" in out,
          "the trained cartridge holds the list: %r" % out[-300:])
    bad = write(os.path.join(workdir, "train-bad.list"), "block nothing\n")
    code, _, err = run([CMTOOL, "train", "--reputation", bad,
                        os.path.join(workdir, "t2"), "-o", cart + ".2"])
    check(code != 0 and "train-bad.list:1:" in err,
          "cmtool train refuses a bad list: %r" % err[-200:])


def test_stale_temps(workdir, base):
    """Temporary cartridge files a killed run left beside -o (an hour old,
    "<out>.tmp.<pid>.<n>", regular) go when the next run writes it; fresh
    ones, names not ours and symlinks stay."""
    os.mkdir(os.path.join(workdir, "temps"))
    out_cart = os.path.join(workdir, "temps", "out.cmc")
    outside = os.path.join(workdir, "temps-outside")
    old, fresh, other, link = plant_temps(out_cart, outside)
    code, _, err = run([CMTOOL, "reputation", base, "-o", out_cart])
    check(code == 0, "cmtool reputation beside stale temps: %s" % err)
    check(not os.path.exists(old), "a stale temporary cartridge stayed")
    check("removed temporary files" in err, "the removal is said: %r" % err)
    check(os.path.exists(fresh), "a fresh temporary file was removed")
    check(os.path.exists(other), "a file not ours was removed")
    check(os.path.islink(link) and os.path.exists(outside),
          "a symlink (or its target) was removed")


def main():
    if not os.access(BIN, os.X_OK) or not os.access(CMTOOL, os.X_OK):
        print("test_reputation: binaries not built in %s" % BUILD,
              file=sys.stderr)
        return 1
    workdir = tempfile.mkdtemp(prefix="test_reputation.")
    WORK[0] = workdir
    try:
        write(os.path.join(workdir, "CGPCloudmark.cfg"), "{ }\n")
        base = base_cartridge(workdir)
        test_block_ip(workdir, base)
        test_allow_and_version(workdir, base)
        test_bad_list(workdir, base)
        test_version_refusals(workdir, base)
        test_train_list(workdir)
        test_stale_temps(workdir, base)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return summary("test_reputation")


if __name__ == "__main__":
    sys.exit(main())
