#!/usr/bin/env python3
"""test_keygen.py -- cmtool keygen replaces its key files as a set (SPEC
§5): a failure before the renames leaves the old set byte for byte, with
no temporary files; an existing key directory is narrowed to mode 0700;
publish warns (and goes on) when signing.key is readable by group or
others; temporary key files an interrupted run left are removed; a key
file that is a symlink whose target is not there (a key on a volume not
mounted) or a FIFO is an existing key: refused without --force.
argv[1]: the build directory holding cmtool.

Failures are made two ways, both before any rename: a directory where a
key file should go (rename could not replace it), and a file size limit
(RLIMIT_FSIZE, SIGXFSZ ignored) below the size of the larger rings a
rotation writes, so writing one of them fails with EFBIG after others
were written.  Everything runs in a mkdtemp directory.
"""

import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sanlib import timeout_s  # noqa: E402
from templib import plant_temps  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TRAIN = os.path.join(REPO, "testdata", "update", "train")
KEY_FILES = ("signing.key", "signing.pub", "content.key")


def run(build, *args, preexec_fn=None):
    cmtool = os.path.join(build, "cmtool")
    p = subprocess.run([cmtool] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout_s(cmtool, 120), preexec_fn=preexec_fn,
                       restore_signals=preexec_fn is None)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def snapshot(d):
    """{name: bytes} of every file in d."""
    out = {}
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[name] = f.read()
        else:
            out[name] = "dir"
    return out


def small_files():
    """In the child: files may not grow past 200 bytes (a one-key file is
    168, a two-key ring 265), and the signal that limit sends is ignored,
    so the write fails with EFBIG instead of killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))


def test_failed_set(build, tmp):
    keys = os.path.join(tmp, "keys")
    rc, out = run(build, "keygen", keys)
    assert rc == 0, "keygen: %s" % out

    # A directory in place of content.key: --force wrote signing.key and
    # signing.pub, then failed on it, leaving a set of new and old keys.
    os.unlink(os.path.join(keys, "content.key"))
    os.mkdir(os.path.join(keys, "content.key"))
    before = snapshot(keys)
    rc, out = run(build, "keygen", "--force", keys)
    assert rc == 2 and "content.key" in out, "--force: %d %s" % (rc, out)
    after = snapshot(keys)
    assert after == before, "--force over a directory changed %r" % sorted(
        n for n in set(before) | set(after)
        if before.get(n) != after.get(n))
    os.rmdir(os.path.join(keys, "content.key"))
    rc, out = run(build, "keygen", "--force", keys)
    assert rc == 0, "keygen --force: %s" % out

    # A write that fails half-way through a rotation: the first files
    # written (the old key's copy, 168 bytes) must go again, and the set
    # stays the old one.
    before = snapshot(keys)
    rc, out = run(build, "keygen", "--rotate", keys, preexec_fn=small_files)
    assert rc == 2 and "cannot write" in out, "--rotate: %d %s" % (rc, out)
    after = snapshot(keys)
    assert after == before, "a failed rotation changed %r" % sorted(
        n for n in set(before) | set(after)
        if before.get(n) != after.get(n))

    # And a rotation that works replaces all of them.
    rc, out = run(build, "keygen", "--rotate", keys)
    assert rc == 0, "keygen --rotate: %s" % out
    after = snapshot(keys)
    assert all(after[n] != before[n] for n in KEY_FILES), "rotate"
    assert not [n for n in after if ".tmp." in n], after.keys()
    return keys


def test_modes(build, tmp, keys):
    # An existing key directory open to others is narrowed to 0700.
    lax = os.path.join(tmp, "lax")
    os.mkdir(lax)
    os.chmod(lax, 0o755)
    rc, out = run(build, "keygen", lax)
    assert rc == 0 and "0700" in out, "keygen in a 0755 directory: %s" % out
    mode = stat.S_IMODE(os.stat(lax).st_mode)
    assert mode == 0o700, "key directory mode %o" % mode

    # publish warns about a signing.key others can read, and publishes.
    cart = os.path.join(tmp, "c1.cmc")
    rc, out = run(build, "train", "--version", "1", TRAIN, "-o", cart)
    assert rc == 0, "train: %s" % out
    os.chmod(os.path.join(lax, "signing.key"), 0o644)
    rc, out = run(build, "publish", cart, os.path.join(tmp, "www"), "-k",
                  lax)
    assert rc == 0 and "warning" in out and "signing.key is mode 0644" in out, \
        "publish with a readable signing.key: %d %s" % (rc, out)
    os.chmod(os.path.join(lax, "signing.key"), 0o600)
    rc, out = run(build, "publish", "--refresh", os.path.join(tmp, "www"),
                  "-k", lax)
    assert rc == 0 and "warning" not in out, "mode 0600: %d %s" % (rc, out)


def test_stale_temps(build, tmp, keys):
    """Temporary key files a killed keygen left (an hour old, our
    "<key>.tmp.<pid>.<n>" names, regular files) are removed by the next
    keygen; anything else, fresh ones and symlinks stay."""
    target = os.path.join(tmp, "outside")
    old, fresh, other, link = plant_temps(
        os.path.join(keys, "signing.key"), target,
        link_stem=os.path.join(keys, "signing.pub"))
    rc, out = run(build, "keygen", "--rotate", keys)
    assert rc == 0, "keygen --rotate: %s" % out
    assert not os.path.exists(old), "a stale temporary key file stayed"
    assert os.path.exists(fresh), "a fresh temporary file was removed"
    assert os.path.exists(other), "a file not ours was removed"
    assert os.path.islink(link) and os.path.exists(target), \
        "a symlink (or its target) was removed"
    for p in (fresh, other, link, target):
        os.unlink(p)


def test_odd_entries(build, tmp):
    """keygen without --force looked for existing keys with stat: a
    dangling symlink (signing.key kept on an encrypted volume that is not
    mounted) or a FIFO was not "there", and the new key was renamed over
    it, exit 0, replacing the site's key with one no helper has."""
    for kind in ("dangling", "fifo"):
        d = os.path.join(tmp, "odd-" + kind)
        os.mkdir(d, 0o700)
        entry = os.path.join(d, "signing.key")
        if kind == "dangling":
            os.symlink(os.path.join(tmp, "unmounted", "signing.key"), entry)
        else:
            os.mkfifo(entry, 0o600)
        rc, out = run(build, "keygen", d)
        assert rc == 2 and "exists" in out and entry in out, \
            "keygen over a %s signing.key: %d %s" % (kind, rc, out)
        assert os.listdir(d) == ["signing.key"], \
            "refused keygen wrote %r" % os.listdir(d)
        st = os.lstat(entry)
        assert (stat.S_ISLNK(st.st_mode) if kind == "dangling"
                else stat.S_ISFIFO(st.st_mode)), "the %s was replaced" % kind


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    tmp = tempfile.mkdtemp(prefix="test_keygen.")
    try:
        keys = test_failed_set(build, tmp)
        test_modes(build, tmp, keys)
        test_stale_temps(build, tmp, keys)
        test_odd_entries(build, tmp)
    except AssertionError as e:
        print("FAIL test_keygen: %s" % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok test_keygen: key sets replace whole, directory 0700, "
          "readable signing.key warned about")
    return 0


if __name__ == "__main__":
    sys.exit(main())
