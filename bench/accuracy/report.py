#!/usr/bin/env python3
"""report.py -- the side-by-side accuracy table of bench/accuracy.sh.

Usage: report.py OUT_MD SPLIT_DIR...

Each SPLIT_DIR (bench/out/accuracy/<split>) holds:
  test.tsv     <path>\t<label>\t<source>   (label: ham, spam, phish)
  run.<name>   one line per filter (ours, bogofilter, spamassassin,
               rspamd, crm114, in that order, then any other; crm114
               writes two, the same scores at two thresholds):
               <filter>\t<threshold>\t<scores file>\t<seconds>\t<note>
  <scores>     <path>\t<score> lines; a path may carry an mbox suffix
               ":<n>" (the highest score of a file counts); "-" or a
               missing line is an error (ranked lowest, never flagged)

For every run: AUC (spam+phish against ham, rank statistic, ties count
one half), ham at or above the filter's own threshold (false positives),
spam, phish and spam+phish at or above it, and messages scored per
second of wall time.  The tables go to stdout and to OUT_MD.
"""
import os
import re
import sys

SUFFIX_RE = re.compile(r":[0-9]+$")


def read_labels(path):
    labels = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                labels[parts[0]] = parts[1]
    return labels


def read_scores(path, labels):
    scores = {}
    if not os.path.exists(path):
        return scores
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            name = parts[0]
            if name not in labels:
                name = SUFFIX_RE.sub("", name)
            if name not in labels:
                continue
            try:
                value = float(parts[1])
            except ValueError:
                continue
            if name not in scores or value > scores[name]:
                scores[name] = value
    return scores


def auc(pos, neg):
    """P(score of a positive > score of a negative), ties one half."""
    if not pos or not neg:
        return None
    both = [(s, 1) for s in pos] + [(s, 0) for s in neg]
    both.sort(key=lambda t: t[0])
    rank_sum = 0.0
    i = 0
    while i < len(both):
        j = i
        while j < len(both) and both[j][0] == both[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2.0
        rank_sum += mean_rank * sum(1 for k in range(i, j) if both[k][1])
        i = j
    n_pos = len(pos)
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * len(neg))


def fraction(k, n):
    if n == 0:
        return "-"
    return "%d/%d (%.2f%%)" % (k, n, 100.0 * k / n)


def table(split_dir):
    name = os.path.basename(os.path.normpath(split_dir))
    labels = read_labels(os.path.join(split_dir, "test.tsv"))
    counts = {}
    for lab in labels.values():
        counts[lab] = counts.get(lab, 0) + 1
    lines = []
    lines.append("### Split `%s`: test set %d messages (ham %d, spam %d, "
                 "phish %d)" % (name, len(labels), counts.get("ham", 0),
                                counts.get("spam", 0),
                                counts.get("phish", 0)))
    lines.append("")
    lines.append("| filter | scored | errors | AUC | threshold | "
                 "ham flagged (FP) | spam caught | phish caught | "
                 "spam+phish caught | msg/s | notes |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    order = ["ours", "bogofilter", "spamassassin", "rspamd", "crm114"]
    names = sorted((n[4:] for n in os.listdir(split_dir)
                    if n.startswith("run.")),
                   key=lambda n: (order.index(n) if n in order
                                  else len(order), n))
    runs = []
    for n in names:
        with open(os.path.join(split_dir, "run." + n)) as f:
            runs += [l.rstrip("\n").split("\t") for l in f if l.strip()]
    if not runs:
        lines.append("| (no runs) |||||||||||")
        return "\n".join(lines)
    for run in runs:
        run += [""] * (5 - len(run))
        filt, thr_text, scores_file, seconds_text, note = run[:5]
        scores = read_scores(os.path.join(split_dir, scores_file), labels)
        # The messages this run was asked to score: all, or a subsample
        # listed next to the scores file.
        subset_path = os.path.join(split_dir, scores_file + ".subset")
        if os.path.exists(subset_path):
            subset = read_labels(subset_path)
            asked = {p: labels[p] for p in subset if p in labels}
        else:
            asked = labels
        floor = min(scores.values()) - 1.0 if scores else 0.0
        pos, neg = [], []
        flagged = {"ham": 0, "spam": 0, "phish": 0}
        total = {"ham": 0, "spam": 0, "phish": 0}
        errors = 0
        try:
            thr = float(thr_text)
        except ValueError:
            thr = None
        for path, lab in asked.items():
            s = scores.get(path)
            total[lab] = total.get(lab, 0) + 1
            if s is None:
                errors += 1
                s = floor
            elif thr is not None and s >= thr:
                flagged[lab] = flagged.get(lab, 0) + 1
            (neg if lab == "ham" else pos).append(s)
        a = auc(pos, neg)
        try:
            seconds = float(seconds_text)
            rate = "%.0f" % (len(asked) / seconds) if seconds > 0 else "-"
        except ValueError:
            rate = "-"
        bad = flagged["spam"] + flagged["phish"]
        n_bad = total["spam"] + total["phish"]
        lines.append("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |"
                     % (filt, len(asked) - errors, errors,
                        "%.4f" % a if a is not None else "-", thr_text,
                        fraction(flagged["ham"], total["ham"]),
                        fraction(flagged["spam"], total["spam"]),
                        fraction(flagged["phish"], total["phish"]),
                        fraction(bad, n_bad), rate, note))
    return "\n".join(lines)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out_md = sys.argv[1]
    parts = ["## Accuracy against the peers (bench/accuracy.sh)", ""]
    for d in sys.argv[2:]:
        parts.append(table(d))
        parts.append("")
        notes = os.path.join(d, "notes.txt")
        if os.path.exists(notes):
            with open(notes) as f:
                parts.append(f.read().rstrip("\n"))
                parts.append("")
    text = "\n".join(parts)
    print(text)
    with open(out_md, "w") as f:
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
