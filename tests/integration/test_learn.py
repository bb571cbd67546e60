#!/usr/bin/env python3
"""test_learn.py -- CGPCloudmark LEARN spam|ham and the site layer
(SPEC §9).  argv[1]: the build directory holding CGPCloudmark.

In a CGP base directory made under mkdtemp (CGPCloudmark.cfg from conf/,
Queue/ with the newsletter of testdata/messages):
  - LEARN spam lifts the newsletter from its cartridge score to >= 96, as
    RATE shows, and a helper started afterwards answers FILE with the same
    score and logs the layer it loaded;
  - LEARN ham brings it below 10; learning the same again changes nothing
    ("already scored so"); what the walk skips (a directory loop, a FIFO)
    is named on stderr;
  - other messages of testdata/messages do not move by more than a few
    points (the layer's overlap gate);
  - an unusable layer file: LEARN exits 3 and leaves it, RATE refuses to
    score (its scores would not be the helper's), the helper logs it and
    still answers every request with a score;
  - a layer learned under another feature set (an older binary) is
    ignored by RATE with a warning, as by the helper, so both still give
    the same score (RATE refused to run at all: exit 1);
  - a LEARN that finds the layer's lock file held waits, says so, and
    learns on top of the layer the holder wrote (two runs at once lose
    nothing);
  - bad arguments exit 2 (also a -c file that does not exist, which
    would learn with the defaults); a folder without messages, or whose files are
    none of them mail, exits 1 and leaves the layer as it was;
  - with a newer cartridge in the micro-update cache, RATE scores with it
    as the helper does (not with the embedded default), before and after
    a LEARN made on it;
  - a message the layer cannot move (an executable attachment makes it
    malware whatever its words say) is not reported "already scored
    so", before or after a LEARN that changed the layer: it is named
    as still on the other side;
  - temporary layer files a killed LEARN left (an hour old) are removed
    by the next LEARN and by the helper at start; fresh ones, symlinks
    and names not ours stay.
One overall deadline bounds the run; processes are killed by PID.
"""

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helperlib_cgp import (CgpHelper, TestFailure, Watchdog, check,  # noqa
                           check_score_headers, decode_cgp_string,
                           parse_answer)
from templib import plant_temps  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MESSAGES = os.path.join(REPO, "testdata", "messages")
TARGET = "newsletter.eml"
DEADLINE_S = 90


def run(binary, base, *args):
    p = subprocess.run([binary] + list(args), cwd=base,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def rate(binary, base, *paths):
    """{file name: score} of RATE over paths."""
    rc, out, err = run(binary, base, "RATE", *paths)
    check(rc == 0, "RATE exit %d: %s" % (rc, err))
    scores = {}
    for line in out.splitlines():
        f = line.split("\t")
        scores[os.path.basename(f[0])] = int(f[1])
    return scores


def helper_score(binary, base, wd, name=TARGET):
    h = CgpHelper(binary, base, wd)
    try:
        h.send(b"1 FILE Queue/%s\n2 QUIT\n" % name.encode())
        h.wait_answers([b"1", b"2"])
        m = parse_answer(h.answers[b"1"][0])
        check(m.group("text") is not None,
              "FILE not scored: %r" % h.answers[b"1"])
        score = check_score_headers(decode_cgp_string(m.group("text")))
        check(h.wait_exit() == 0, "helper exit status")
        return score, b"\n".join(h.info)
    finally:
        h.kill()


def concurrent_runs(binary, tmp, wd):
    """A LEARN that finds the layer locked waits for it, then learns on
    top of what the holder wrote: the result is the sequential one."""
    base = os.path.join(tmp, "concurrent")
    os.mkdir(base)
    shutil.copy(os.path.join(REPO, "conf", "CGPCloudmark.cfg"), base)
    layer = os.path.join(base, "CGPCloudmark.learned")
    other = os.path.join(MESSAGES, "colleague-note.eml")
    target = os.path.join(MESSAGES, TARGET)

    # The sequential reference: the other run's layer, then ours on it.
    check(run(binary, base, "LEARN", "spam", other)[0] == 0, "LEARN other")
    with open(layer, "rb") as f:
        theirs = f.read()
    check(run(binary, base, "LEARN", "spam", target)[0] == 0, "LEARN target")
    with open(layer, "rb") as f:
        sequential = f.read()
    check(sequential != theirs, "the target taught nothing new")
    os.unlink(layer)

    # Hold the lock as another LEARN would; ours must wait for it, and
    # only then read the layer the holder wrote meanwhile.
    with open(layer + ".lock", "a+b") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        p = subprocess.Popen([binary, "LEARN", "spam", target], cwd=base,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wd.add(p.pid)
        said = b""
        for line in p.stderr:
            said += line
            if b"waiting" in line:
                break
        with open(layer + ".tmp", "wb") as f:
            f.write(theirs)
        os.rename(layer + ".tmp", layer)
        fcntl.lockf(lock, fcntl.LOCK_UN)
        out, err = p.communicate(timeout=wd.left())
    check(b"waiting" in said, "LEARN did not wait for the lock: %r" % said)
    check(p.returncode == 0, "LEARN after the lock: %d %r" % (p.returncode,
                                                             said + err))
    with open(layer, "rb") as f:
        check(f.read() == sequential,
              "the locked-out LEARN lost the other run's learning")


def cached_cartridge(binary, tmp, wd):
    """The cartridge a helper starts on is the newest one in the cache:
    RATE must score with that one too, or its scores (and --explain) are
    not the helper's.  A cartridge trained on the 15 messages of
    testdata/update/train scores testdata/messages far from the default."""
    base = os.path.join(tmp, "cached")
    os.makedirs(os.path.join(base, "Queue"))
    os.mkdir(os.path.join(base, "micro_updates"), 0o700)
    shutil.copy(os.path.join(REPO, "conf", "CGPCloudmark.cfg"), base)
    cmtool = os.path.join(os.path.dirname(binary), "cmtool")
    cart = os.path.join(base, "micro_updates", "cartridge-5.cmc")
    p = subprocess.run([cmtool, "train", "--version", "5", "--folds", "2",
                        "--passes", "1",
                        os.path.join(REPO, "testdata", "update", "train"),
                        "-o", cart], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=wd.left())
    check(p.returncode == 0, "cmtool train: %r" % p.stderr)
    names = ["colleague-note.eml", "newsletter.eml", "spam-pills.eml"]
    for name in names:
        shutil.copy(os.path.join(MESSAGES, name),
                    os.path.join(base, "Queue", name))
    rc, out, err = run(binary, base, "VERSION")
    check(rc == 0 and '"5"' in out, "VERSION: %d %r" % (rc, out))
    # A -c naming no file would show the built-in cartridge, not the one
    # the helper runs: refused instead.
    rc, out, err = run(binary, base, "VERSION", "-c", "nowhere/x.cfg")
    check(rc == 2 and "nowhere/x.cfg" in err and "(default)" not in out,
          "VERSION with a missing -c file: %d %r %r" % (rc, out, err))
    rated = rate(binary, base, *["Queue/" + n for n in names])
    default = rate(binary, os.path.join(REPO, "testdata"),
                   *["messages/" + n for n in names])
    check(rated != default, "the cached cartridge scores like the default: "
          "%r" % rated)
    for name in names:
        score, _ = helper_score(binary, base, wd, name)
        check(rated[name] == score, "%s: RATE %d, helper %d on the cached "
              "cartridge" % (name, rated[name], score))
    rc, out, err = run(binary, base, "LEARN", "ham", "Queue/spam-pills.eml")
    check(rc == 0 and "on cartridge 5" in out,
          "LEARN ham on the cached cartridge: %d %s %s" % (rc, out, err))
    score, _ = helper_score(binary, base, wd, "spam-pills.eml")
    after = rate(binary, base, "Queue/spam-pills.eml")["spam-pills.eml"]
    check(after == score and after < 10, "after LEARN ham: RATE %d, helper "
          "%d" % (after, score))


def other_feature_set(binary, tmp, wd):
    """The layer records the feature set it was learned under; an engine
    with another one ignores it (sitelayer.h, the man page).  The helper
    does; RATE must too, and score as the helper does."""
    base = os.path.join(tmp, "features")
    os.makedirs(os.path.join(base, "Queue"))
    shutil.copy(os.path.join(REPO, "conf", "CGPCloudmark.cfg"), base)
    shutil.copy(os.path.join(MESSAGES, TARGET),
                os.path.join(base, "Queue", TARGET))
    without = rate(binary, base, "Queue/" + TARGET)[TARGET]
    rc, out, err = run(binary, base, "LEARN", "spam", "Queue/" + TARGET)
    check(rc == 0, "LEARN spam: %d %r" % (rc, err))
    layer = os.path.join(base, "CGPCloudmark.learned")
    with open(layer, "rb") as f:
        img = bytearray(f.read())
    # features_version (bytes 8..11) of another engine, crc32 re-made
    img[8:12] = (int.from_bytes(img[8:12], "little") + 1).to_bytes(
        4, "little")
    img[-4:] = zlib.crc32(bytes(img[:-4])).to_bytes(4, "little")
    with open(layer, "wb") as f:
        f.write(img)
    rc, out, err = run(binary, base, "RATE", "Queue/" + TARGET)
    check(rc == 0 and "feature set" in err and out.count("\n") == 1,
          "RATE on another feature set's layer: %d %r %r" % (rc, out, err))
    score = int(out.split("\t")[1])
    check(score == without, "RATE scored %d with the ignored layer, %d "
          "without" % (score, without))
    helper, _ = helper_score(binary, base, wd)
    check(helper == score, "helper %d, RATE %d" % (helper, score))


def unmovable(binary, tmp):
    """LEARN ham of malware: the executable-attachment rule keeps it at
    99 whatever the layer learns, so neither run may count it "already
    scored so" (the second one did: it looked only at the margin)."""
    base = os.path.join(tmp, "unmovable")
    os.mkdir(base)
    shutil.copy(os.path.join(REPO, "conf", "CGPCloudmark.cfg"), base)
    name = "malware-invoice.eml"
    shutil.copy(os.path.join(MESSAGES, name), os.path.join(base, name))
    check(rate(binary, base, name)[name] >= 10, "malware scores below 10")
    for attempt in ("first", "second"):
        rc, out, err = run(binary, base, "LEARN", "ham", name)
        check(rc == 0 and "0 already" in out and
              "1 still on the other side" in out and name in err and
              "still scores" in err,
              "%s LEARN ham of malware: %d %r %r" % (attempt, rc, out, err))
        check(rate(binary, base, name)[name] >= 10,
              "malware learned below 10")


def stale_temps(binary, tmp, wd):
    """Temporary layer files a killed LEARN left (an hour old, our
    "<layer>.tmp.<pid>.<n>" names, regular files) are removed by the next
    LEARN and by the helper at start; fresh ones, names not ours and
    symlinks stay."""
    base = os.path.join(tmp, "temps")
    os.mkdir(base)
    shutil.copy(os.path.join(REPO, "conf", "CGPCloudmark.cfg"), base)
    os.mkdir(os.path.join(base, "Queue"))
    shutil.copy(os.path.join(MESSAGES, TARGET),
                os.path.join(base, "Queue", TARGET))
    layer = os.path.join(base, "CGPCloudmark.learned")
    target = os.path.join(tmp, "temps-outside")
    old, fresh, other, link = plant_temps(layer, target)
    hour_ago = os.stat(other).st_mtime
    rc, out, err = run(binary, base, "LEARN", "spam", "Queue/" + TARGET)
    check(rc == 0, "LEARN beside stale temps: %d %s %s" % (rc, out, err))
    check(not os.path.exists(old), "LEARN left a stale temporary layer")
    check("removed temporary files" in err, "LEARN did not say: %r" % err)
    check(os.path.exists(fresh), "LEARN removed a fresh temporary file")
    check(os.path.exists(other), "LEARN removed a file not ours")
    check(os.path.islink(link) and os.path.exists(target),
          "LEARN removed a symlink (or its target)")

    # the helper, at start: LEARN may never run again
    with open(old, "wb") as f:
        f.write(b"x")
    os.utime(old, (hour_ago, hour_ago))
    score, info = helper_score(binary, base, wd)
    check(not os.path.exists(old), "the helper left a stale temporary layer")
    check(b"removed 1 temporary file" in info,
          "the helper did not log the removal: %r" % info)
    check(os.path.exists(fresh) and os.path.exists(other) and
          os.path.islink(link), "the helper removed what is not stale")


def main():
    binary = os.path.join(os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                                          else "build"), "CGPCloudmark")
    wd = Watchdog(DEADLINE_S)
    tmp = tempfile.mkdtemp(prefix="test_learn.")
    try:
        base = tmp
        shutil.copy(os.path.join(REPO, "conf", "CGPCloudmark.cfg"), base)
        os.mkdir(os.path.join(base, "Queue"))
        shutil.copy(os.path.join(MESSAGES, TARGET),
                    os.path.join(base, "Queue", TARGET))
        layer = os.path.join(base, "CGPCloudmark.learned")
        others = [os.path.join(MESSAGES, f) for f in sorted(
            os.listdir(MESSAGES)) if f.endswith(".eml") and f != TARGET]
        before = rate(binary, base, "Queue/" + TARGET, *others)
        check(before[TARGET] < 96, "newsletter already >= 96: %r" % before)

        rc, out, err = run(binary, base, "LEARN", "spam", "Queue/" + TARGET)
        check(rc == 0 and "learned 1 of 1 messages as spam" in out,
              "LEARN spam: %d %s %s" % (rc, out, err))
        check(os.path.isfile(layer), "no layer file written")
        after = rate(binary, base, "Queue/" + TARGET, *others)
        check(after[TARGET] >= 96, "LEARN spam: score %d" % after[TARGET])
        for name, s in before.items():
            if name != TARGET:
                check(abs(after[name] - s) <= 3,
                      "%s moved from %d to %d" % (name, s, after[name]))
        score, info = helper_score(binary, base, wd)
        check(score == after[TARGET], "helper %d, RATE %d"
              % (score, after[TARGET]))
        check(b"site layer" in info, "helper did not log the layer: %r"
              % info)

        rc, out, err = run(binary, base, "LEARN", "ham", "Queue/" + TARGET)
        check(rc == 0 and "learned 1 of 1 messages as ham" in out,
              "LEARN ham: %d %s %s" % (rc, out, err))
        check(rate(binary, base, "Queue/" + TARGET)[TARGET] < 10,
              "LEARN ham did not bring it below 10")
        rc, out, err = run(binary, base, "LEARN", "ham", "Queue/" + TARGET)
        check(rc == 0 and "learned 0 of 1" in out and "1 already" in out,
              "LEARN ham again: %s" % out)
        # What the walk passes over is said, not silently left unlearned
        # (a folder it cannot read, one past the caps, a loop).
        looped = os.path.join(base, "looped")
        os.mkdir(looped)
        shutil.copy(os.path.join(base, "Queue", TARGET), looped)
        os.symlink(".", os.path.join(looped, "again"))
        os.mkfifo(os.path.join(looped, "pipe"))
        rc, out, err = run(binary, base, "LEARN", "ham", "looped")
        check(rc == 0 and "1 already" in out and "directory loop" in err
              and "looped/pipe" in err,
              "LEARN over a loop and a FIFO: %d %r %r" % (rc, out, err))
        shutil.rmtree(looped)

        # bad arguments, nothing to learn
        check(run(binary, base, "LEARN", "maybe", "Queue")[0] == 2,
              "LEARN maybe")
        check(run(binary, base, "LEARN", "spam")[0] == 2, "LEARN no paths")
        # -c without its value is said as such (it said "unknown option")
        rc, out, err = run(binary, base, "LEARN", "spam", "Queue", "-c")
        check(rc == 2 and "-c needs a value" in err,
              "LEARN -c without a value: %d %r" % (rc, err))
        # "--" ends the options: a path that starts with '-' is learned
        dash = os.path.join(base, "-dash.eml")
        shutil.copy(os.path.join(base, "Queue", TARGET), dash)
        rc, out, err = run(binary, base, "LEARN", "ham", "--", "-dash.eml")
        check(rc == 0 and "unknown option" not in err,
              "LEARN -- -dash.eml: %d %r %r" % (rc, out, err))
        os.unlink(dash)
        # A mistyped -c must not learn into a default layer in the current
        # directory that no helper reads (the helper's is beside its -c).
        os.mkdir(os.path.join(base, "CGPCloudmark"))
        rc, out, err = run(binary, base, "LEARN", "spam", "-c",
                           "CGPCloudmark/CGPCloudmark.cf", "Queue/" + TARGET)
        check(rc == 2 and "CGPCloudmark/CGPCloudmark.cf" in err and
              "not found" in err and not os.listdir(
                  os.path.join(base, "CGPCloudmark")),
              "LEARN with a missing -c file: %d %r %r" % (rc, out, err))
        os.rmdir(os.path.join(base, "CGPCloudmark"))
        os.mkdir(os.path.join(base, "empty"))
        check(run(binary, base, "LEARN", "spam", "empty")[0] == 1,
              "LEARN on an empty folder")
        # inputs that are read but none is mail: exit 1, layer untouched
        with open(layer, "rb") as f:
            kept = f.read()
        for name, data in (("empty.msg", b""),
                           ("junk.msg", bytes(range(256)) * 2)):
            with open(os.path.join(base, "empty", name), "wb") as f:
                f.write(data)
        rc, out, err = run(binary, base, "LEARN", "spam", "empty")
        check(rc == 1 and "no usable message" in err and out == "",
              "LEARN on files that are not mail: %d %r %r" % (rc, out, err))
        with open(layer, "rb") as f:
            check(f.read() == kept, "LEARN on non-mail changed the layer")

        # an unusable layer
        with open(layer, "r+b") as f:
            f.seek(20)
            b = f.read(1)
            f.seek(20)
            f.write(bytes([b[0] ^ 0xff]))
        rc, out, err = run(binary, base, "LEARN", "spam", "Queue/" + TARGET)
        check(rc == 3 and "checksum" in err, "LEARN on a bad layer: %d %s"
              % (rc, err))
        rc, out, err = run(binary, base, "RATE", "Queue/" + TARGET)
        check(rc != 0 and "site layer" in err and out == "",
              "RATE on a bad layer: %d %r %r" % (rc, out, err))
        score, info = helper_score(binary, base, wd)
        check(score == before[TARGET], "helper with a bad layer: %d" % score)
        check(b"unusable" in info, "bad layer not logged: %r" % info)
        # A helper just started has no earlier layer to keep.
        check(b"scoring without a site layer" in info and
              b"keeping the previous" not in info,
              "bad layer at start logged as kept: %r" % info)

        concurrent_runs(binary, tmp, wd)
        cached_cartridge(binary, tmp, wd)
        stale_temps(binary, tmp, wd)
        unmovable(binary, tmp)
        other_feature_set(binary, tmp, wd)
    except TestFailure as e:
        print("FAIL test_learn: %s" % e)
        return 1
    finally:
        wd.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok test_learn: LEARN spam/ham move the message through RATE and "
          "the helper, others stay, bad layer and arguments handled, RATE "
          "scores with the cached cartridge the helper starts on")
    return 0


if __name__ == "__main__":
    sys.exit(main())
