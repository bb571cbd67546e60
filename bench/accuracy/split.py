#!/usr/bin/env python3
"""split.py -- deterministic train/test splits of the unpacked corpus for
bench/accuracy.sh.

Usage: split.py CORPUS_DIR OUT_DIR [TEST_PERCENT [KEEP_PERCENT]]

CORPUS_DIR holds <source>/<ham|spam|phish>/<file>.  Each message goes to
the test part when the first 8 hex digits of SHA-256("<source>/<label>/
<file>"), taken modulo 100, fall below TEST_PERCENT (default 20): the
same file always lands on the same side, whatever else is in the corpus.
KEEP_PERCENT (default 100) keeps only that share of the corpus (by
another hash), for a quick run on a small sample.

Two splits are laid out as trees of symbolic links (nothing is copied),
each with a labels file:

  OUT_DIR/random/train/<source>/<label>/<file>   80 % of every source
  OUT_DIR/random/test/<source>/<label>/<file>    the other 20 %
  OUT_DIR/random/test.tsv                        <path>\t<label>
  OUT_DIR/modern/train/...   the random train part without the "modern"
                             sources (phishing_pot, lfdr_lists)
  OUT_DIR/modern/test/...    the random test part of those two sources:
                             recent phishing and recent list ham that no
                             filter saw any of while training
  OUT_DIR/modern/test.tsv

Paths in test.tsv are as RATE prints them for the argument
OUT_DIR/<split>/test.  The train and test trees are rebuilt on every run;
other files in OUT_DIR/<split> are left alone.
"""
import hashlib
import os
import shutil
import sys

LABELS = ("ham", "spam", "phish")
MODERN = ("phishing_pot", "lfdr_lists")


def is_test(rel, percent):
    digest = hashlib.sha256(rel.encode("utf-8", "surrogateescape"))
    return int(digest.hexdigest()[:8], 16) % 100 < percent


def is_kept(rel, percent):
    digest = hashlib.sha256(rel.encode("utf-8", "surrogateescape"))
    return int(digest.hexdigest()[8:16], 16) % 100 < percent


def collect(corpus):
    items = []
    for source in sorted(os.listdir(corpus)):
        if source.startswith("."):
            continue
        for label in LABELS:
            d = os.path.join(corpus, source, label)
            if not os.path.isdir(d):
                continue
            for name in sorted(os.listdir(d)):
                if name.startswith("."):
                    continue
                items.append((source, label, name))
    return items


def link(target_root, corpus, source, label, name):
    d = os.path.join(target_root, source, label)
    os.makedirs(d, exist_ok=True)
    src = os.path.abspath(os.path.join(corpus, source, label, name))
    dst = os.path.join(d, name)
    os.symlink(src, dst)
    return dst


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    corpus, out = sys.argv[1], sys.argv[2]
    percent = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    keep = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    items = [i for i in collect(corpus)
             if is_kept("%s/%s/%s" % i, keep)]
    if not items:
        print("split.py: no messages under %s" % corpus, file=sys.stderr)
        return 1
    splits = {"random": lambda s: True, "modern": lambda s: s in MODERN}
    for split, picks_test_source in splits.items():
        root = os.path.join(out, split)
        # Only the trees are rebuilt: results of earlier runs beside them
        # stay, so a run of some filters keeps the others' rows.
        for part in ("train", "test"):
            shutil.rmtree(os.path.join(root, part), ignore_errors=True)
            os.makedirs(os.path.join(root, part))
        counts = {}
        with open(os.path.join(root, "test.tsv"), "w") as tsv:
            for source, label, name in items:
                rel = "%s/%s/%s" % (source, label, name)
                if is_test(rel, percent):
                    if not picks_test_source(source):
                        continue
                    part = "test"
                    path = link(os.path.join(root, "test"), corpus, source,
                                label, name)
                    tsv.write("%s\t%s\t%s\n" % (path, label, source))
                else:
                    if split == "modern" and source in MODERN:
                        continue
                    part = "train"
                    link(os.path.join(root, "train"), corpus, source, label,
                         name)
                key = (part, label)
                counts[key] = counts.get(key, 0) + 1
        print("%s: train %s; test %s" % (
            split,
            ", ".join("%s %d" % (l, counts.get(("train", l), 0))
                      for l in LABELS),
            ", ".join("%s %d" % (l, counts.get(("test", l), 0))
                      for l in LABELS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
