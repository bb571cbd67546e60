#!/usr/bin/env python3
"""test_feedback.py -- cmtool feedback (issue #5: reported mail for the
next cartridge) end to end.  argv[1]: the build directory holding cmtool
and CGPCloudmark.

In a mkdtemp directory, feedback mails are built with Python's email
package the way mail clients forward a message "as attachment"
(message/rfc822; also base64 application/octet-stream named *.eml, an
mbox of two reports, a CGP .mdir folder), beside a report that only
quotes the message inline and one outside any label folder:
  - `cmtool feedback` writes each attached message once to
    OUT/feedback/<label>/<sha256>.eml with exactly the attached bytes
    (the SHA-256 of its text with CR LF read as LF: a message reported
    from a CR LF mailbox and again from an LF one is stored once),
    counts duplicates, mails without an attachment and unlabelled ones,
    exits 0; a second run adds nothing; an unwritable output exits 1,
    bad arguments exit 2;
  - `cmtool train BASE OUT` trusts the reported junk: the summary counts
    reported fingerprints, and RATE with that cartridge shows a reported
    spam -- and a copy of its campaign with other names and numbers --
    hitting fp=body:spam:reported at 96 or more, the reported phish
    hitting a phishing fingerprint, while the message reported as ham
    and training ham hit none.
"""

import email
import email.policy
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sanlib import timeout_s  # noqa: E402
from templib import plant_temps  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TRAIN = os.path.join(REPO, "testdata", "update", "train")
TIMEOUT_S = 120

SPAM_TEXT = (
    "Dear {name}, your mailbox {n} qualifies for our exclusive wholesale "
    "offer on genuine replica watches and discount pharmacy products. "
    "Order today and receive free overnight shipping to any address, a "
    "lifetime warranty and a complimentary gift with every purchase. "
    "Reply within forty eight hours to reserve your allocation before "
    "the remaining stock is released to other resellers in your region.")
SPAM2_TEXT = (
    "Hello {name}, you have been pre approved for a low interest home "
    "loan refinance of up to {n} thousand dollars with no credit check "
    "and no paperwork. Lock in the lowest rate of the decade today by "
    "clicking through to our partner lenders and completing the short "
    "application form; an agent will call you back within the hour.")
PHISH_TEXT = (
    "Security notice for {name}: we detected an unusual sign in attempt "
    "on account {n}. To avoid suspension of online banking you must "
    "verify your identity by entering your card number, expiry date and "
    "online password on the secure verification page before midnight. "
    "Failure to complete verification will result in permanent closure.")
LOTTERY_TEXT = (
    "Congratulations {name}, ticket {n} was drawn as an unrelated lottery "
    "winner in the international sweepstakes held last month. Send your "
    "full name, postal address and a small processing fee to the claims "
    "agent named below so that the prize can be released by courier.")
HAM_TEXT = (
    "Hi {name}, thanks for sending the minutes of meeting {n}. I went "
    "through the action items and updated the shared spreadsheet with "
    "the new delivery dates; the only open question is whether the "
    "supplier can confirm the revised quantities before Friday, so I "
    "will call them tomorrow morning and let you know what they say.")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def run(build, tool, *args, cwd=None):
    binary = os.path.join(build, tool)
    p = subprocess.run([binary] + list(args), cwd=cwd,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout_s(binary, TIMEOUT_S))
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def original(sender, subject, text, name, n):
    """The misclassified message as raw bytes."""
    return ("From: %s\nTo: user@example.org\nSubject: %s\n"
            "Date: Mon, 1 Jun 2026 10:00:00 +0000\n"
            "Message-ID: <%s.%d@example.net>\n\n%s\n"
            % (sender, subject, name, n, text.format(name=name, n=n))
            ).encode()


def report(raw, how="rfc822"):
    """A feedback mail attaching raw: as message/rfc822 or as a base64
    application/octet-stream named forwarded.eml."""
    outer = MIMEMultipart()
    outer["From"] = "reporter@example.org"
    outer["To"] = "spam-report@example.org"
    outer["Subject"] = "Fwd: misclassified"
    outer.attach(MIMEText("This was misclassified.\n"))
    if how == "rfc822":
        outer.attach(MIMEMessage(email.message_from_bytes(raw)))
    else:
        outer.attach(MIMEApplication(raw, "octet-stream",
                                     Name="forwarded.eml"))
    return outer.as_bytes()


def inline_forward(raw):
    m = MIMEText("---------- Forwarded message ---------\n" +
                 raw.decode())
    m["Subject"] = "Fwd: spam"
    return m.as_bytes()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def tree(out):
    """{label: {name: bytes}} of OUT/feedback."""
    got = {}
    top = os.path.join(out, "feedback")
    for label in sorted(os.listdir(top)):
        got[label] = {}
        for name in os.listdir(os.path.join(top, label)):
            with open(os.path.join(top, label, name), "rb") as f:
                got[label][name] = f.read()
    return got


def stored_name(raw):
    return hashlib.sha256(raw).hexdigest() + ".eml"


def test_extract(build, tmp, msgs):
    reports = os.path.join(tmp, "reports")
    write(os.path.join(reports, "spam", "1.eml"), report(msgs["spam"]))
    # The same message again, base64 and named *.eml: a duplicate.
    write(os.path.join(reports, "spam", "2.eml"),
          report(msgs["spam"], how="eml"))
    write(os.path.join(reports, "spam", "3.eml"),
          inline_forward(msgs["spam2"]))
    mbox = b""
    for raw in (msgs["spam2"], msgs["spam3"]):
        mbox += (b"From reporter@example.org Mon Jun  1 10:00:00 2026\n" +
                 report(raw) + b"\n")
    write(os.path.join(reports, "more", "Spam.mbox"), mbox)
    write(os.path.join(reports, "Phish.mdir", "1-1.msg"),
          report(msgs["phish"]))
    write(os.path.join(reports, "ham", "fp.eml"), report(msgs["ham"]))
    write(os.path.join(reports, "elsewhere", "x.eml"), report(msgs["ham"]))
    out = os.path.join(tmp, "out")

    rc, _, err = run(build, "cmtool", "feedback", reports, "-o", out)
    check(rc == 0, "feedback exit %d: %s" % (rc, err))
    got = tree(out)
    want = {"spam": {stored_name(msgs[k]): msgs[k]
                     for k in ("spam", "spam2", "spam3")},
            "phish": {stored_name(msgs["phish"]): msgs["phish"]},
            "ham": {stored_name(msgs["ham"]): msgs["ham"]}}
    check(got == want, "tree holds exactly the attached bytes: %r"
          % {k: sorted(v) for k, v in got.items()})
    m = re.search(r"feedback: (\d+) mails read; (\d+) messages extracted "
                  r"\(ham (\d+), spam (\d+), phish (\d+)\), (\d+) already "
                  r"stored.*; (\d+) mails without an attached message, "
                  r"(\d+) unlabelled.*; (\d+) errors", err)
    check(m is not None, "summary line: %s" % err)
    check([int(x) for x in m.groups()] == [8, 5, 1, 3, 1, 1, 1, 1, 0],
          "summary counts: %s" % m.group(0))
    check("3.eml: no attached message" in err, "inline forward warned")
    check("elsewhere/x.eml: not under" in err, "unlabelled mail warned")

    # Again: everything is already there.
    rc, _, err = run(build, "cmtool", "feedback", reports, "-o", out)
    check(rc == 0 and "0 messages extracted" in err and
          "6 already stored" in err, "second run adds nothing: %s" % err)
    check(tree(out) == got, "second run leaves the tree as it was")

    # --label for a folder without a label name.
    rc, _, err = run(build, "cmtool", "feedback", "--label", "ham",
                     os.path.join(reports, "elsewhere"), "-o", out)
    check(rc == 0 and "1 already stored" in err, "--label: %s" % err)

    # An output that cannot be written, and bad arguments.
    blocker = os.path.join(tmp, "blocker")
    write(blocker, b"a file, not a directory")
    rc, _, err = run(build, "cmtool", "feedback", reports, "-o", blocker)
    check(rc == 1 and "errors" in err, "unwritable output exits 1: %s" % err)
    for args in ([reports], ["-o", out], ["--label", "x", reports, "-o", out],
                 ["--bogus", reports, "-o", out]):
        rc, _, err = run(build, "cmtool", "feedback", *args)
        check(rc == 2, "bad arguments %r exit 2, got %d" % (args, rc))
    rc, usage, _ = run(build, "cmtool", "feedback", "--help")
    check(rc == 0 and "-o OUTDIR" in usage, "--help")
    return out


def test_out_inside_input(build, tmp, msgs):
    """OUTDIR below a DIR: the stored messages are not read back as
    reports, or a reported message that itself carries an attached one
    would add that one as a second report on every run."""
    top = os.path.join(tmp, "inside")
    carrier = report(msgs["spam2"])  # the reported mail has an attachment
    write(os.path.join(top, "spam", "1.eml"), report(carrier))
    out = os.path.join(top, "tree")
    rc, _, err = run(build, "cmtool", "feedback", top, "-o", out)
    check(rc == 0, "feedback into its own input: %s" % err)
    want = {"spam": {stored_name(carrier): carrier}}
    check(tree(out) == want, "first run stores the reported mail: %r"
          % {k: sorted(v) for k, v in tree(out).items()})
    rc, _, err = run(build, "cmtool", "feedback", top, "-o", out)
    check(rc == 0 and "1 mails read" in err,
          "second run reads only the report, not its own output: %s" % err)
    check(tree(out) == want, "second run adds nothing: %r"
          % {k: sorted(v) for k, v in tree(out).items()})


def test_label_above_dir(build, tmp, msgs):
    """A folder above the DIR given is the site's layout, not a verdict:
    reports in /home/spam/reports given as that DIR are unlabelled; the
    same tree given from /home/spam is spam."""
    home = os.path.join(tmp, "home-above")
    reports = os.path.join(home, "spam", "reports")
    write(os.path.join(reports, "x.eml"), report(msgs["spam"]))
    out = os.path.join(tmp, "out-above")
    rc, _, err = run(build, "cmtool", "feedback", reports, "-o", out)
    check(rc == 0 and "1 unlabelled" in err and
          "0 messages extracted" in err,
          "a spam/ folder above DIR does not label: %s" % err)
    check(tree(out) == {}, "nothing stored from above DIR: %r" % tree(out))
    rc, _, err = run(build, "cmtool", "feedback",
                     os.path.join(home, "spam"), "-o", out)
    check(rc == 0 and "1 messages extracted" in err and
          list(tree(out)) == ["spam"],
          "DIR's own name labels: %s %r" % (err, tree(out)))


def rate(build, tmp, cart, path):
    rc, out, err = run(build, "CGPCloudmark", "RATE", "--cartridge", cart,
                       "--explain", path, cwd=tmp)
    check(rc == 0, "RATE exit %d: %s" % (rc, err))
    f = out.rstrip("\n").split("\t")
    return int(f[1]), f[4] if len(f) > 4 else ""


def test_train(build, tmp, msgs, out):
    base = os.path.join(tmp, "corpus", "base")
    shutil.copytree(TRAIN, base)
    cart = os.path.join(tmp, "fb.cmc")
    rc, _, err = run(build, "cmtool", "train", base, out, "-o", cart)
    check(rc == 0, "train on the feedback tree: %s" % err[-500:])
    m = re.search(r"(\d+) reported \((\d+) dropped", err)
    check(m is not None and int(m.group(1)) == 4,
          "four reported junk fingerprints: %s" % err[-600:])
    with open(os.path.join(tmp, "CGPCloudmark.cfg"), "w") as f:
        f.write("{ }\n")
    spam = os.path.join(out, "feedback", "spam", stored_name(msgs["spam"]))
    score, why = rate(build, tmp, cart, spam)
    check("fp=body:spam:reported" in why and score >= 96,
          "reported spam hits its fingerprint: %d %s" % (score, why))
    # The same campaign to someone else: a near duplicate, not a copy.
    again = os.path.join(tmp, "again.eml")
    write(again, original("deals@cheap.example", "Your offer",
                          SPAM_TEXT, "Zoe", 4711))
    score, why = rate(build, tmp, cart, again)
    check("fp=body:spam:reported" in why and score >= 96,
          "the campaign's next copy hits too: %d %s" % (score, why))
    phish = os.path.join(out, "feedback", "phish",
                         stored_name(msgs["phish"]))
    score, why = rate(build, tmp, cart, phish)
    check("fp=body:phishing:reported" in why,
          "reported phish hits a phishing fingerprint: %s" % why)
    ham = os.path.join(out, "feedback", "ham", stored_name(msgs["ham"]))
    _, why = rate(build, tmp, cart, ham)
    check("fp=" not in why, "message reported as ham hits nothing: %s" % why)
    for name in sorted(os.listdir(os.path.join(base, "ham"))):
        _, why = rate(build, tmp, cart, os.path.join(base, "ham", name))
        check("fp=" not in why, "training ham %s hits nothing" % name)


def test_line_ends(build, tmp, msgs):
    """One message reported twice, from an LF mailbox and from one that
    stores CR LF line ends: stored once, under the name of its LF text."""
    reports = os.path.join(tmp, "reports-line-ends")
    write(os.path.join(reports, "spam", "lf.eml"), report(msgs["spam"]))
    write(os.path.join(reports, "spam", "crlf.eml"),
          report(msgs["spam"]).replace(b"\n", b"\r\n"))
    out = os.path.join(tmp, "out-line-ends")
    rc, _, err = run(build, "cmtool", "feedback", reports, "-o", out)
    check(rc == 0 and "1 messages extracted" in err and
          "1 already stored" in err,
          "CR LF copy of a reported message stored again: %s" % err)
    got = tree(out)
    check(sorted(got["spam"]) == [stored_name(msgs["spam"])],
          "stored as %r" % sorted(got["spam"]))


def test_stale_temps(build, tmp, msgs, out):
    """Temporary files a killed run left in OUT/feedback/<label>/ (an hour
    old, "<sha256>.eml.tmp.<pid>.<n>", regular) go when the next run
    starts; fresh ones, names not ours and symlinks stay.  `cmtool train`
    would read a leftover as one more message."""
    spam = os.path.join(out, "feedback", "spam")
    hexname = os.path.join(spam, "ab" * 32 + ".eml")
    outside = os.path.join(tmp, "stale-outside")
    old, fresh, other, link = plant_temps(
        hexname, outside,
        link_stem=os.path.join(out, "feedback", "ham", "cd" * 32 + ".eml"))
    reports = os.path.join(tmp, "reports")
    rc, _, err = run(build, "cmtool", "feedback", reports, "-o", out)
    check(rc == 0, "feedback beside stale temps: %d %s" % (rc, err))
    check(not os.path.exists(old), "a stale temporary message stayed")
    check("removed 1 temporary file" in err, "the removal is logged: %s"
          % err)
    check(os.path.exists(fresh), "a fresh temporary file was removed")
    check(os.path.exists(other), "a file not ours was removed")
    check(os.path.islink(link) and os.path.exists(outside),
          "a symlink (or its target) was removed")
    for p in (fresh, other, link):
        os.unlink(p)


def test_as_is(build, tmp, msgs):
    """--as-is: the mails themselves are the misclassified messages (the
    files a site gave LEARN), stored whole in the same tree: a plain
    file, each message of an mbox (its From line left out), a CGP queue
    file without its envelope.  A report mail is stored as itself, not
    its attachment; a second run stores nothing new."""
    top = os.path.join(tmp, "as-is")
    out = os.path.join(tmp, "out-as-is")
    write(os.path.join(top, "missed", "1.eml"), msgs["spam"])
    write(os.path.join(top, "missed", "box.mbox"),
          b"From x@y Mon Jun  1 10:00:00 2026\n" + msgs["spam2"] + b"\n" +
          b"From x@y Mon Jun  1 10:00:01 2026\n" + msgs["spam3"])
    write(os.path.join(top, "missed", "q.msg"),
          b"P I 01-06-2026_10:00:00 <deals@cheap.example>\n"
          b"R W 01-06-2026_10:00:00 <a@example.org>\n"
          b"S SMTP [192.0.2.7]\n\n" + msgs["phish"])
    carrier = report(msgs["ham"])
    write(os.path.join(top, "missed", "report.eml"), carrier)
    rc, _, err = run(build, "cmtool", "feedback", "--as-is", "--label",
                     "spam", top, "-o", out)
    check(rc == 0, "feedback --as-is exit %d: %s" % (rc, err))
    want = {"spam": {stored_name(raw): raw
                     for raw in (msgs["spam"], msgs["spam2"], msgs["spam3"],
                                 msgs["phish"], carrier)}}
    check(tree(out) == want, "--as-is stores each mail whole: %r"
          % {k: sorted(v) for k, v in tree(out).items()})
    check("5 messages extracted (ham 0, spam 5, phish 0)" in err,
          "--as-is summary: %s" % err)
    rc, _, err = run(build, "cmtool", "feedback", "--as-is", "--label",
                     "spam", top, "-o", out)
    check(rc == 0 and "5 already stored" in err,
          "--as-is second run: %s" % err)
    rc, _, err = run(build, "cmtool", "feedback", "--as-is", top, "-o", out)
    check(rc == 0 and "5 unlabelled" in err,
          "--as-is takes labels from folders as without it: %s" % err)


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    tmp = tempfile.mkdtemp(prefix="test_feedback.")
    try:
        msgs = {
            "spam": original("deals@cheap.example", "Your offer",
                             SPAM_TEXT, "Ann", 17),
            "spam2": original("news@other.example", "Weekly",
                              SPAM2_TEXT, "Bob", 23),
            # Its own campaign, unrelated to the others.  (Not one
            # phrase repeated: a text of so few distinct shingles gets no
            # signature, see FINGERPRINT_MIN_BINS.)
            "spam3": original("x@third.example", "Last chance",
                              LOTTERY_TEXT, "Cid", 5),
            "phish": original("security@bank.example", "Account notice",
                              PHISH_TEXT, "Dee", 99),
            "ham": original("colleague@example.org", "Re: minutes",
                            HAM_TEXT, "Eve", 3),
        }
        out = test_extract(build, tmp, msgs)
        test_out_inside_input(build, tmp, msgs)
        test_label_above_dir(build, tmp, msgs)
        test_train(build, tmp, msgs, out)
        test_stale_temps(build, tmp, msgs, out)
        test_line_ends(build, tmp, msgs)
        test_as_is(build, tmp, msgs)
    except AssertionError as e:
        print("test_feedback: FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_feedback: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
