#!/usr/bin/env python3
"""mksets.py -- the deterministic message sets of the speed benchmark
(bench/run.sh, issue #7).

Usage: mksets.py CORPUS_DIR OUT_DIR [TRAIN_N [MIX_N]]

CORPUS_DIR holds <source>/<ham|spam|phish>/<file> (../shared/corpus/unpack).
Every message gets the key SHA-256("cm-speed/<source>/<label>/<file>");
in key order the first TRAIN_N (default 3000) messages form the training
set and the next MIX_N (default 5000) the scored mix, so the two sets are
disjoint, drawn from every source in the corpus's own proportions, and
the same on every machine with the same corpus.

Laid out as hard links to the corpus files (nothing is copied; symbolic
links where the output is on another file system), one flat folder a
label, names prefixed with their source.  Hard links, because a mail
server's queue holds plain files: a symbolic link into corpus-data/ made
every open walk a second path, about half of RATE's system time and 10%
of its CPU (perf), a cost no real queue has:

  OUT_DIR/train/<label>/<source>__<file>    what every filter learns from
  OUT_DIR/mix/<label>/<source>__<file>      what every filter scores
  OUT_DIR/train-ham.lst, train-spam.lst      absolute paths (spam and
                                            phish both count as spam)
  OUT_DIR/mix.lst                           absolute paths, key order
  OUT_DIR/sets.txt                          counts per source and label

OUT_DIR/train and OUT_DIR/mix are replaced on every run.
"""
import hashlib
import os
import shutil
import sys

LABELS = ("ham", "spam", "phish")
SALT = "cm-speed/"


def collect(corpus):
    items = []
    for source in sorted(os.listdir(corpus)):
        if source.startswith("."):
            continue
        for label in LABELS:
            d = os.path.join(corpus, source, label)
            if not os.path.isdir(d):
                continue
            for name in os.listdir(d):
                if name.startswith("."):
                    continue
                rel = "%s/%s/%s" % (source, label, name)
                key = hashlib.sha256((SALT + rel).encode(
                    "utf-8", "surrogateescape")).hexdigest()
                items.append((key, source, label, name))
    items.sort()
    return items


def link(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        os.symlink(src, dst)


def lay_out(root, corpus, items):
    shutil.rmtree(root, ignore_errors=True)
    paths = []
    counts = {}
    for _, source, label, name in items:
        d = os.path.join(root, label)
        os.makedirs(d, exist_ok=True)
        dst = os.path.abspath(os.path.join(d, "%s__%s" % (source, name)))
        link(os.path.abspath(os.path.join(corpus, source, label, name)), dst)
        paths.append((label, dst))
        counts[(source, label)] = counts.get((source, label), 0) + 1
    return paths, counts


def write_list(path, paths):
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        for p in paths:
            f.write(p + "\n")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    corpus, out = sys.argv[1], sys.argv[2]
    train_n = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
    mix_n = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
    items = collect(corpus)
    if len(items) < train_n + mix_n:
        print("mksets.py: %d messages under %s, need %d"
              % (len(items), corpus, train_n + mix_n), file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    train, train_counts = lay_out(os.path.join(out, "train"), corpus,
                                  items[:train_n])
    mix, mix_counts = lay_out(os.path.join(out, "mix"), corpus,
                              items[train_n:train_n + mix_n])
    write_list(os.path.join(out, "train-ham.lst"),
               [p for label, p in train if label == "ham"])
    write_list(os.path.join(out, "train-spam.lst"),
               [p for label, p in train if label != "ham"])
    write_list(os.path.join(out, "mix.lst"), [p for _, p in mix])
    with open(os.path.join(out, "sets.txt"), "w") as f:
        for name, counts in (("train", train_counts), ("mix", mix_counts)):
            f.write("%s: %s\n" % (name, ", ".join(
                "%s/%s %d" % (s, l, n)
                for (s, l), n in sorted(counts.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
