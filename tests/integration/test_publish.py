#!/usr/bin/env python3
"""test_publish.py -- cmtool publish --refresh (SPEC §5): the published
manifest is re-signed with a new issue time and expiry while its version
and files stay as they were, a helper on that version still sees it as
current, and a web root without a manifest is refused; a second publish
on a web root another one holds locked is refused (exit 4); a refused
first publish leaves no web root (nor its lock file) behind; inspect with
keys that cannot be read, or with no public key among them (a -k
directory without signing.pub), is a bad argument (exit 2), not "not
verified";
a --history inside the web root is refused (also through a symlink); a signing.pub in the key
directory that does not list signing.key's public key (or cannot be
read) is refused, since every helper given it would refuse the updates;
under a strict umask the served files and directories are still readable
by the HTTP server, and the history stays private; deltas are made only
from versions a helper can hold (not above the published one).
argv[1]: the build directory holding cmtool and CGPCloudmark.

Everything runs in a mkdtemp directory with no network: the manifest is
read back with `cmtool inspect -k`, which verifies its signature.
"""

import fcntl
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sanlib import timeout_s  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TRAIN = os.path.join(REPO, "testdata", "update", "train")


def run(build, tool, *args):
    binary = os.path.join(build, tool)
    p = subprocess.run([binary] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout_s(binary, 120))
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def manifest_fields(build, keys, www):
    rc, out = run(build, "cmtool", "inspect", "-k", keys,
                  os.path.join(www, "manifest"))
    if rc != 0 or "signature        good" not in out:
        raise AssertionError("manifest does not verify: %s" % out)
    fields = {}
    for key in ("version", "issued", "expires"):
        m = re.search(r"^%s +(\d+)" % key, out, re.M)
        fields[key] = int(m.group(1))
    fields["files"] = re.findall(r"^file +(\S+\.cmu .*)$", out, re.M)
    return fields


def check_pub_mismatch(build, tmp, cart):
    """KEYDIR/signing.pub is the file keygen tells the administrator to
    copy to every helper.  Publishing with a signing.key it does not list
    (keys from two keygen runs mixed, a half-finished --force) made a
    tree every helper refuses ("unknown key id") while publish said
    "published" and exited 0; a damaged signing.pub was ignored alike."""
    mixed = os.path.join(tmp, "mixed-keys")
    other = os.path.join(tmp, "other-keys")
    for d in (mixed, other):
        rc, out = run(build, "cmtool", "keygen", d)
        assert rc == 0, "keygen: %s" % out
    pub = os.path.join(mixed, "signing.pub")
    shutil.copy(os.path.join(other, "signing.pub"), pub)
    www = os.path.join(tmp, "www-mixed")
    rc, out = run(build, "cmtool", "publish", cart, www, "-k", mixed)
    assert rc == 3 and pub in out and "signing.key" in out, \
        "publish with a signing.pub not listing signing.key: %d %s" % (rc,
                                                                        out)
    assert not os.path.exists(www), "refused publish left %r" % (
        os.listdir(www))
    with open(pub, "w") as f:
        f.write("damaged\n")
    rc, out = run(build, "cmtool", "publish", cart, www, "-k", mixed)
    assert rc == 3 and pub in out, \
        "publish with a damaged signing.pub: %d %s" % (rc, out)
    assert not os.path.exists(www), "refused publish left a web root"
    # Without signing.pub (a publishing machine holding only the secret
    # keys) publish goes on, and so it does with the matching one.
    os.unlink(pub)
    rc, out = run(build, "cmtool", "publish", cart, www, "-k", mixed)
    assert rc == 0, "publish without signing.pub: %d %s" % (rc, out)
    rc, out = run(build, "cmtool", "publish", "--refresh", www, "-k", other)
    assert rc == 3, "refresh with other keys: %d %s" % (rc, out)


def check_umask(build, tmp, keys, carts):
    """publish run by a cron job or shell with umask 077 (or 027, a common
    hardening default) made full-N.cmu, the deltas and the manifest 0600
    (0640) and a fresh web root 0700, all owned by the publisher: the
    HTTP server could not read them and every helper got 403.  The web
    files are encrypted and meant to be 0644; the history (plain images)
    stays 0700/0600."""
    top = os.path.join(tmp, "umask-www")
    www = os.path.join(top, "a", "www")
    for cart in carts:
        cmtool = os.path.join(build, "cmtool")
        p = subprocess.run([cmtool, "publish", cart,
                            www, "-k", keys], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout_s(cmtool, 120),
                           preexec_fn=lambda: os.umask(0o077))
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        assert p.returncode == 0, "publish under umask 077: %s" % out
    names = sorted(os.listdir(www))
    assert "delta-1-2.cmu" in names, names
    modes = {}
    for path in [top, os.path.join(top, "a"), www] + [
            os.path.join(www, n) for n in names if n != ".publish.lock"]:
        modes[path] = stat.S_IMODE(os.stat(path).st_mode)
    bad = dict((p, "%o" % m) for p, m in modes.items()
               if m != (0o755 if os.path.isdir(p) else 0o644))
    assert not bad, "served files the HTTP server cannot read: %r" % bad
    hist = www + ".history"
    assert stat.S_IMODE(os.stat(hist).st_mode) == 0o700, "history dir"
    for n in os.listdir(hist):
        m = stat.S_IMODE(os.stat(os.path.join(hist, n)).st_mode)
        assert m == 0o600, "history image %s mode %o" % (n, m)


def check_unpublished_base(build, tmp, keys, cart1):
    """A run that failed after writing HISTORY/N.cmc (its manifest write
    failed) leaves the image of a version no helper ever got.  Published
    later with a version above it, that image took one of the --keep
    delta slots (delta-3-4 instead of delta-1-4 with --keep 1): helpers
    on the published version 1 had to fetch the full file."""
    www = os.path.join(tmp, "www-unpub")
    rc, out = run(build, "cmtool", "publish", cart1, www, "-k", keys)
    assert rc == 0, "publish 1: %s" % out
    hist = www + ".history"
    shutil.copy(os.path.join(hist, "1.cmc"), os.path.join(hist, "3.cmc"))
    cart4 = os.path.join(tmp, "c4.cmc")
    rc, out = run(build, "cmtool", "train", "--version", "4", TRAIN, "-o",
                  cart4)
    assert rc == 0, "train: %s" % out
    rc, out = run(build, "cmtool", "publish", cart4, www, "-k", keys,
                  "--version", "4", "--keep", "1")
    assert rc == 0, "publish 4: %s" % out
    names = [f.split()[0] for f in manifest_fields(build, keys, www)["files"]]
    assert names == ["full-4.cmu", "delta-1-4.cmu"], \
        "deltas from a version never published: %r" % names


def check_write_failure_says_why(build, tmp, keys, cart1):
    """A file publish cannot write is named with the system's reason (it
    said only "cannot write DIR/NAME": a full disk, permissions and a
    name taken by a folder looked the same)."""
    www = os.path.join(tmp, "www-blocked")
    os.makedirs(os.path.join(www, "full-1.cmu", "x"))
    rc, out = run(build, "cmtool", "publish", cart1, www, "-k", keys)
    assert rc == 4 and "cannot write" in out and \
        "full-1.cmu: Is a directory" in out, \
        "publish over a folder: %d %s" % (rc, out)


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    tmp = tempfile.mkdtemp(prefix="test_publish.")
    try:
        keys = os.path.join(tmp, "keys")
        www = os.path.join(tmp, "www")
        cart = os.path.join(tmp, "c1.cmc")
        rc, out = run(build, "cmtool", "keygen", keys)
        assert rc == 0, "keygen: %s" % out
        rc, out = run(build, "cmtool", "train", "--version", "1", TRAIN,
                      "-o", cart)
        assert rc == 0, "train: %s" % out
        rc, out = run(build, "cmtool", "publish", cart, www, "-k", keys)
        assert rc == 0, "publish: %s" % out
        before = manifest_fields(build, keys, www)

        rc, out = run(build, "cmtool", "publish", "--refresh", www, "-k",
                      keys, "--expires-days", "30")
        assert rc == 0, "refresh: %s" % out
        after = manifest_fields(build, keys, www)
        assert after["version"] == before["version"] == 1, (before, after)
        assert after["files"] == before["files"], (before, after)
        assert after["issued"] >= before["issued"], (before, after)
        assert after["expires"] - after["issued"] == 30 * 86400, after
        assert after["expires"] > before["expires"], (before, after)

        # A publish after a refresh still counts on from the version.
        rc, out = run(build, "cmtool", "publish", cart, www, "-k", keys)
        assert rc == 3 and "this publish is version 2" in out, out
        # The same cartridge published twice: say it is not above the
        # published version, not "pass --version 1 if that is newer than 1".
        assert "not above the published 1" in out and \
            "newer than" not in out, out

        # Two runs on one web root (cron and a hand-run publish) would
        # write full-2.cmu and the manifest of different cartridges over
        # each other; the second is refused while the first holds the lock.
        cart2 = os.path.join(tmp, "c2.cmc")
        rc, out = run(build, "cmtool", "train", "--version", "2", TRAIN,
                      "-o", cart2)
        assert rc == 0, "train: %s" % out
        with open(os.path.join(www, ".publish.lock"), "a+") as lock:
            fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            rc, out = run(build, "cmtool", "publish", cart2, www, "-k", keys)
            assert rc == 4 and "another cmtool publish" in out, \
                "publish while another holds the lock: %d %s" % (rc, out)
            rc, out = run(build, "cmtool", "publish", "--refresh", www,
                          "-k", keys)
            assert rc == 4 and "another cmtool publish" in out, \
                "refresh while another holds the lock: %d %s" % (rc, out)
        assert manifest_fields(build, keys, www)["version"] == 1
        # What a run killed half-way leaves (fsutil_write_atomic's temp
        # names): the next run, holding the lock, clears it; other files
        # stay.
        leftovers = [os.path.join(www, "manifest.tmp.4242.7"),
                     os.path.join(www, "full-2.cmu.tmp.4242.0"),
                     os.path.join(www, "delta-1-2.cmu.tmp.4242.3"),
                     os.path.join(www + ".history", "2.cmc.tmp.4242.5")]
        for path in leftovers + [os.path.join(www, "index.html")]:
            with open(path, "w") as f:
                f.write("partial")
        rc, out = run(build, "cmtool", "publish", cart2, www, "-k", keys)
        assert rc == 0, "publish once the lock is free: %s" % out
        left = [p for p in leftovers if os.path.exists(p)]
        assert left == [], "temporary files of a killed run left: %r" % left
        assert os.path.exists(os.path.join(www, "index.html")), \
            "a file that is not ours was removed"

        # A history inside the web root would serve the plain images to
        # anyone: refused before anything is written.
        www2 = os.path.join(tmp, "www2")
        for hist in (os.path.join(www2, "hist"),
                     os.path.join(www2, "sub", "..", "hist2")):
            rc, out = run(build, "cmtool", "publish", cart, www2, "-k", keys,
                          "--history", hist)
            assert rc == 2 and "inside the web root" in out, \
                "history %s inside the web root: %d %s" % (hist, rc, out)
            # The web root this refused run made is gone again, lock
            # file and all: it was left holding .publish.lock, which an
            # HTTP server would serve.
            assert not os.path.exists(www2), \
                "refused publish left %r" % os.listdir(www2)

        # ... also when a symlink leads there: the check walked up the
        # path by name from the link, never seeing the web root above
        # the link's target, and the plain images were served.
        www3 = os.path.join(tmp, "www3")
        os.makedirs(os.path.join(www3, "sub"))
        link_dir = os.path.join(tmp, "hist-link")
        link_parent = os.path.join(tmp, "parent-link")
        os.symlink(os.path.join(www3, "sub"), link_dir)
        os.symlink(os.path.join(www3, "sub"), link_parent)
        for hist in (link_dir, os.path.join(link_parent, "h")):
            rc, out = run(build, "cmtool", "publish", cart, www3, "-k", keys,
                          "--history", hist)
            assert rc == 2 and "inside the web root" in out, \
                "history %s linked into the web root: %d %s" % (hist, rc,
                                                                 out)
            served = [f for _, _, files in os.walk(www3) for f in files]
            assert served == [".publish.lock"], \
                "refused publish left %r in the web root" % served

        # A refused first publish creates nothing: bad keys and a bad
        # cartridge are seen before the web root (or its parents) is
        # made; a version the empty tree cannot take is seen under the
        # lock, and the web root made for it is removed with the lock.
        fresh = os.path.join(tmp, "fresh", "a", "www")
        not_cart = os.path.join(tmp, "not-a-cartridge")
        with open(not_cart, "w") as f:
            f.write("not a cartridge\n")
        for args, want in (
                ([cart, fresh, "-k", os.path.join(tmp, "no-keys")], 3),
                ([not_cart, fresh, "-k", keys], 3),
                ([cart2, fresh, "-k", keys], 3),
                ([cart, fresh, "-k", keys, "--version", "2"], 3)):
            rc, out = run(build, "cmtool", "publish", *args)
            assert rc == want, "publish %r: %d %s" % (args, rc, out)
            assert not os.path.exists(os.path.join(tmp, "fresh")), \
                "refused publish %r left %r" % (args, os.listdir(
                    os.path.join(tmp, "fresh")))
            assert not os.path.exists(fresh + ".history"), args
        # A web root that was there before is not removed; with bad keys
        # not even the lock file is made in it.
        empty = os.path.join(tmp, "empty-www")
        os.mkdir(empty)
        rc, out = run(build, "cmtool", "publish", cart, empty, "-k",
                      os.path.join(tmp, "no-keys"))
        assert rc == 3 and os.listdir(empty) == [], \
            "bad keys in an existing web root: %d %r" % (rc,
                                                         os.listdir(empty))
        rc, out = run(build, "cmtool", "publish", cart2, empty, "-k", keys)
        assert rc == 3 and os.path.isdir(empty), \
            "a web root made by hand stays: %d %s" % (rc, out)
        # The first publish into a fresh nested web root still works.
        rc, out = run(build, "cmtool", "publish", cart, fresh, "-k", keys)
        assert rc == 0 and os.path.exists(os.path.join(fresh, "manifest")), \
            "publish into a new nested web root: %d %s" % (rc, out)

        # One inspect line for everything a publisher checks: -k with a
        # cartridge (which carries no signature) is no usage error.
        rc, out = run(build, "cmtool", "inspect", "-k", keys, cart)
        assert rc == 0 and "cartridge format" in out, \
            "inspect -k KEYDIR CARTRIDGE: %d %s" % (rc, out)
        rc, out = run(build, "cmtool", "inspect", "--all", "-k", keys, cart)
        assert rc == 0 and "cartridge format" in out, \
            "inspect --all -k KEYDIR CARTRIDGE: %d %s" % (rc, out)

        # --all is for a cartridge's lists; with a manifest it was taken
        # for a cartridge ("bad magic"): now the manifest is shown whole.
        rc, out = run(build, "cmtool", "inspect", "--all", "-k", keys,
                      os.path.join(www, "manifest"))
        assert rc == 0 and "signature        good" in out and \
            "bad magic" not in out, "inspect --all MANIFEST: %d %s" % (rc, out)
        # -h is --help: the whole usage (it printed the cartridge half).
        for how in (["inspect", "-h"], ["inspect", "--help"],
                    ["help", "inspect"]):
            rc, out = run(build, "cmtool", *how)
            assert rc == 0 and "usage: cmtool inspect" in out and \
                "--all lists every" in out, "%r: %d %s" % (how, rc, out)

        # inspect -k with a key directory that holds no keys (a typo in
        # a publisher's check script) must not pass as a good manifest.
        rc, out = run(build, "cmtool", "inspect", "-k",
                      os.path.join(tmp, "no-such-keys"),
                      os.path.join(www, "manifest"))
        assert rc == 2 and "no-such-keys" in out, \
            "inspect -k with no keys there: %d %s" % (rc, out)
        bad_pub = os.path.join(tmp, "bad.pub")
        with open(bad_pub, "w") as f:
            f.write("not a key file\n")
        rc, out = run(build, "cmtool", "inspect", "--public", bad_pub,
                      os.path.join(www, "manifest"))
        assert rc == 2 and "bad.pub" in out, \
            "inspect --public with a broken key file: %d %s" % (rc, out)

        # An update file with the public key only (--public, or a key
        # directory without content.key, as a helper's keys are named):
        # the signature can be checked, and was not -- "NOT verified" and
        # exit 0 even for a file whose signature had been altered.
        pub = os.path.join(keys, "signing.pub")
        cmu = os.path.join(www, sorted(f for f in os.listdir(www)
                                       if f.endswith(".cmu"))[0])
        forged = os.path.join(tmp, "forged.cmu")
        with open(cmu, "rb") as f:
            data = bytearray(f.read())
        data[-1] ^= 0x01
        with open(forged, "wb") as f:
            f.write(data)
        rc, out = run(build, "cmtool", "inspect", "--public", pub, cmu)
        assert rc == 0 and "signature        good" in out and \
            "decryption       NOT checked" in out, \
            "inspect --public UPDATE: %d %s" % (rc, out)
        rc, out = run(build, "cmtool", "inspect", "--public", pub, forged)
        assert rc == 1 and "signature        FAILED" in out, \
            "inspect --public FORGED-UPDATE: %d %s" % (rc, out)
        pub_only = os.path.join(tmp, "pub-only")
        os.makedirs(pub_only)
        shutil.copy(pub, pub_only)
        rc, out = run(build, "cmtool", "inspect", "-k", pub_only, forged)
        assert rc == 1 and "signature        FAILED" in out, \
            "inspect -k PUB-ONLY FORGED-UPDATE: %d %s" % (rc, out)

        # A key directory with content.key but no signing.pub (a helper's
        # keys copied without update.pub, a half-copied publisher's
        # directory): the signature could not be checked, yet the
        # manifest and the update file, even the forged one, were shown
        # with exit 0 as if -k had checked them.  Keys given without a
        # public key are a bad argument, like a directory with no keys.
        content_only = os.path.join(tmp, "content-only")
        os.makedirs(content_only)
        shutil.copy(os.path.join(keys, "content.key"), content_only)
        for f in (os.path.join(www, "manifest"), cmu, forged):
            for how in (["-k", content_only],
                        ["--content", os.path.join(keys, "content.key")]):
                rc, out = run(build, "cmtool", "inspect", *(how + [f]))
                assert rc == 2 and "signature" in out and \
                    "not verified" in out and "no public key" in out and \
                    "signing key id" not in out, \
                    "inspect %s %s: %d %s" % (how[0], f, rc, out)
        # Without keys the file is shown unverified, as asked, exit 0.
        rc, out = run(build, "cmtool", "inspect", cmu)
        assert rc == 0 and "signature        NOT verified" in out, \
            "inspect UPDATE without keys: %d %s" % (rc, out)

        # A key directory too long to join a file name to: the message
        # names the problem (it printed an unset path and "(null)").
        long_keys = os.path.join(tmp, "k" * 4095)
        rc, out = run(build, "cmtool", "publish", cart,
                      os.path.join(tmp, "www-long"), "-k", long_keys)
        assert rc == 2 and "key directory path too long" in out and \
            "(null)" not in out, "publish -k TOO-LONG: %d %s" % (rc, out)

        rc, out = run(build, "cmtool", "publish", "--refresh",
                      os.path.join(tmp, "nothing"), "-k", keys)
        assert rc == 3 and "no manifest to refresh" in out, out
        rc, out = run(build, "cmtool", "publish", "--refresh", www)
        assert rc == 2, "refresh without -k: %d %s" % (rc, out)
        # --refresh re-signs the manifest and takes nothing else: a
        # cartridge before it ("publish CART --refresh WEBROOT"), --version,
        # --keep or --history were dropped without a word, and the run
        # said "refreshed" with exit 0, the cartridge not published.
        with open(os.path.join(www, "manifest"), "rb") as f:
            manifest = f.read()
        for extra in ([cart2, "--refresh", www],
                      ["--refresh", www, "--version", "9"],
                      ["--refresh", www, "--keep", "1"],
                      ["--refresh", www, "--history",
                       os.path.join(tmp, "hist")]):
            rc, out = run(build, "cmtool", "publish", *(extra + ["-k",
                                                                 keys]))
            assert rc == 2 and "--refresh" in out and \
                "refreshed" not in out, \
                "publish %s: %d %s" % (" ".join(extra), rc, out)
        with open(os.path.join(www, "manifest"), "rb") as f:
            assert f.read() == manifest, "a refused --refresh wrote"
        check_pub_mismatch(build, tmp, cart)
        check_umask(build, tmp, keys, [cart, cart2])
        check_unpublished_base(build, tmp, keys, cart)
        check_write_failure_says_why(build, tmp, keys, cart)
    except AssertionError as e:
        print("FAIL test_publish: %s" % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok test_publish: refresh re-signs the manifest, keeps version "
          "and files, refuses an empty web root")
    return 0


if __name__ == "__main__":
    sys.exit(main())
