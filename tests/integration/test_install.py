#!/usr/bin/env python3
"""test_install.py -- `make install` / `make uninstall` (scripts/install.sh,
README "Installation").  argv[1]: the build directory holding the programs.

Into a DESTDIR under mkdtemp, with PREFIX=/opt/cgp-base and a MANDIR:
  - the programs are 0755, default.cmc, the samples, CGPCloudmark.cfg,
    whitelist.cfg and the manual pages 0644; cartridge.cfg, which holds
    the proxy password ("http proxy basic auth"), is not readable by
    other users (0640);
  - the helper runs from the base directory as CGP starts it, with the
    Program Path of the README, and VERSION and CHECK-CONFIG work there;
  - a second install (an upgrade: the first comes from a copy of the tree
    whose CGPCloudmark.cfg sample differs, as an older release's would)
    keeps an edited configuration file and refreshes its sample;
  - uninstall removes what install put there, also the older release's
    untouched CGPCloudmark.cfg, keeps the edited file and what the site
    made (state file, keys), and names what it left;
  - the package's maintainer scripts, run with DPKG_ROOT under mkdtemp as
    dpkg --root runs them: postinst links the three files into the helper
    folder on the first configuration only (a link the administrator
    removed is not made again by an upgrade's configure), and postrm purge
    removes only the links that still point at /etc/CGPCloudmark.
"""

import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helperlib_cgp import TestFailure, check  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PREFIX = "/opt/cgp-base"
MANDIR = "/usr/share/man"
PROGRAMS = ["CGPCloudmark", "cmtool"]
CONFIGS = ["CGPCloudmark.cfg", "cartridge.cfg", "whitelist.cfg"]
PAGES = ["man8/CGPCloudmark.8", "man1/cmtool.1", "man5/CGPCloudmark.cfg.5",
         "man5/cartridge.cfg.5", "man5/whitelist.cfg.5"]


def install(build, dest, mode, tree=REPO):
    env = dict(os.environ, BUILD=build, PREFIX=PREFIX, MANDIR=MANDIR,
               DESTDIR=dest)
    p = subprocess.run(["sh", "scripts/install.sh", mode], cwd=tree,
                       env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60)
    check(p.returncode == 0, "install.sh %s: exit %d %r"
          % (mode, p.returncode, p.stderr))
    return p.stdout.decode()


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def check_layout(folder, man):
    for p in PROGRAMS:
        check(mode_of(os.path.join(folder, p)) == 0o755, "%s mode" % p)
    want = {"CGPCloudmark.cfg": 0o644, "whitelist.cfg": 0o644,
            "cartridge.cfg": 0o640}
    for name, m in want.items():
        got = mode_of(os.path.join(folder, name))
        check(got == m, "%s mode %o, want %o" % (name, got, m))
        check(mode_of(os.path.join(folder, name + ".sample")) == 0o644,
              "%s.sample mode" % name)
    check(mode_of(os.path.join(folder, "default.cmc")) == 0o644,
          "default.cmc mode")
    for page in PAGES:
        check(mode_of(os.path.join(man, page)) == 0o644, "%s mode" % page)


def run_in_base(base, *args, stdin=None):
    return subprocess.run(["CGPCloudmark/CGPCloudmark"] + list(args),
                          cwd=base, input=stdin, capture_output=True,
                          timeout=60)


def check_runs(base):
    p = run_in_base(base, "VERSION", "-c", "CGPCloudmark/CGPCloudmark.cfg")
    check(p.returncode == 0 and b"CmaeCartridgeVersion" in p.stdout,
          "VERSION in the base directory: %r" % p.stderr)
    p = run_in_base(base, "CHECK-CONFIG", "-c",
                    "CGPCloudmark/CGPCloudmark.cfg")
    check(p.returncode == 0 and b"configuration OK" in p.stdout,
          "CHECK-CONFIG of the installed files: %r" % p.stdout)
    os.makedirs(os.path.join(base, "Queue"), exist_ok=True)
    shutil.copy(os.path.join(REPO, "testdata", "messages", "spam-pills.eml"),
                os.path.join(base, "Queue", "1.msg"))
    p = run_in_base(base, "-c", "CGPCloudmark/CGPCloudmark.cfg",
                    stdin=b"1 INTF 3\n2 FILE Queue/1.msg\n3 QUIT\n")
    check(p.returncode == 0 and b"\n2 ADDHEADER " in b"\n" + p.stdout,
          "helper in the base directory: %r" % p.stdout)


def maint_script(root, name, *args):
    env = dict(os.environ, DPKG_ROOT=root)
    p = subprocess.run(["sh", os.path.join(REPO, "debian",
                                           "cgpcloudmark." + name)]
                       + list(args), env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60)
    check(p.returncode == 0, "%s %s: exit %d %r"
          % (name, " ".join(args), p.returncode, p.stderr))


def links_in(folder):
    return {n: os.readlink(os.path.join(folder, n))
            for n in sorted(os.listdir(folder))
            if os.path.islink(os.path.join(folder, n))}


def check_deb_scripts(tmp):
    root = os.path.join(tmp, "debroot")
    folder = os.path.join(root, "var/CommuniGate/CGPCloudmark")
    os.makedirs(folder)
    maint_script(root, "postinst", "configure")
    want = {n: "/etc/CGPCloudmark/" + n for n in CONFIGS}
    check(links_in(folder) == want, "postinst, first configure: %r"
          % links_in(folder))
    os.unlink(os.path.join(folder, "whitelist.cfg"))
    maint_script(root, "postinst", "configure", "1.0-1")
    del want["whitelist.cfg"]
    check(links_in(folder) == want, "postinst on upgrade made again a "
          "link the administrator removed: %r" % links_in(folder))
    os.unlink(os.path.join(folder, "cartridge.cfg"))
    with open(os.path.join(folder, "cartridge.cfg"), "w") as f:
        f.write("{ }\n")
    maint_script(root, "postrm", "purge")
    check(sorted(os.listdir(folder)) == ["cartridge.cfg"],
          "postrm purge left %r" % sorted(os.listdir(folder)))


def older_release(tmp):
    """A copy of what install.sh reads, with other CGPCloudmark.cfg
    defaults."""
    tree = os.path.join(tmp, "older-release")
    for d in ["scripts", "conf", "cartridge", "man"]:
        shutil.copytree(os.path.join(REPO, d), os.path.join(tree, d))
    sample = os.path.join(tree, "CGPCloudmark.cfg.sample")
    shutil.copy(os.path.join(REPO, "CGPCloudmark.cfg.sample"), sample)
    with open(sample, "a") as f:
        f.write("# the older release's defaults\n")
    return tree


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    tmp = tempfile.mkdtemp(prefix="test_install.")
    try:
        base = tmp + PREFIX
        folder = os.path.join(base, "CGPCloudmark")
        man = tmp + MANDIR
        install(build, tmp, "install", older_release(tmp))
        check_layout(folder, man)
        check_runs(base)

        edited = os.path.join(folder, "whitelist.cfg")
        with open(edited, "a") as f:
            f.write("# site edit\n")
        with open(os.path.join(folder, "whitelist.cfg.sample"), "a") as f:
            f.write("# stale sample\n")
        out = install(build, tmp, "install")
        check("kept" in out and "whitelist.cfg" in out, "reinstall: %r" % out)
        check(open(edited).read().endswith("# site edit\n"),
              "reinstall replaced an edited whitelist.cfg")
        check(not open(edited + ".sample").read().endswith("stale sample\n"),
              "reinstall did not refresh whitelist.cfg.sample")

        with open(os.path.join(folder, "update.pub"), "w") as f:
            f.write("site key\n")
        out = install(build, tmp, "uninstall")
        left = sorted(os.listdir(folder))
        check(left == ["CGPCloudmark.state", "update.pub", "whitelist.cfg"],
              "uninstall left %r" % left)
        check("whitelist.cfg" in out, "uninstall did not name the kept "
              "file: %r" % out)
        for page in PAGES:
            check(not os.path.exists(os.path.join(man, page)),
                  "uninstall left %s" % page)
        check_deb_scripts(tmp)
    except TestFailure as e:
        print("FAIL test_install: %s" % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok test_install: modes, the helper in the base directory, an "
          "edited file kept on reinstall and uninstall, the package's "
          "maintainer scripts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
