#!/bin/sh
# eval-categories.sh -- which category does a cartridge name for mail it
# was not trained on?  The README "Categories" table comes from this.
#
#   sh scripts/eval-categories.sh [BUILD] [CORPUS_DATA]
#
# For each split a cartridge is trained with `BUILD/cmtool train` (default
# options) on the training side, then the held-out side is rated with
# `BUILD/CGPCloudmark RATE --json --cartridge` and counted by folder:
#   random      held out: the messages whose file name (the last path
#               component) hashes, by the first 8 bytes of its SHA-1 read
#               as a big-endian number, to < 20 modulo 100 (20%);
#               trained on the other 80%
#   modern      trained on the 2001-2010 sources (spamassassin, trec07p,
#               csdmc2010, nazario); held out: lfdr_lists (2019-26 ham) and
#               phishing_pot (2022-23 phish)
#   no-trec     held out: trec07p (2007 ham and spam, its newsletters and
#               alerts among the ham); trained on every other source
#   newsletter  held out: spamassassin ham whose name contains "hard_ham"
#               (commercial newsletters and the like); trained on the rest
#   recent      held out: every message whose Date header (the first one
#               in the first 64 KiB, parsed by Python's email.utils) is on
#               or after 2023-10-01 UTC: the last quarter of phishing_pot
#               (950 phish) and lfdr_lists from then to 2026 (about 850
#               ham); trained on everything older, modern phish included,
#               as a published cartridge is before the next quarter's mail
# Lines printed per split (a share of a held-out folder kind; "-" when the
# split holds none of it):
#   phish->phishing   phish/ messages with category "phishing"
#   spam->phish/mal   spam/ messages with category "phishing" or "malware"
#   ham->phish/mal    ham/ messages with category "phishing" or "malware"
#   AUC               of the score, ham against spam and phish (ties
#                     count half); "-" without both
#   junk>=96          spam/ and phish/ messages scored 96 or more
#   ham>=96           ham/ messages scored 96 or more
#   exe->malware      held-out messages (any folder) with an executable
#                     attachment, labelled "malware".  "Executable
#                     attachment" is decided here, independently of the
#                     engine, by Python's email parser: a MIME part with a
#                     file name (Content-Disposition filename or
#                     Content-Type name, RFC 2047 decoded) whose extension
#                     is one of EXE_EXTS below, or a zip part (by name or
#                     magic) holding a member with such an extension.
# plus the count of each category among the phish/ messages, so a change
# shows where the rest went.  EVAL_SPLITS="random modern" picks splits;
# EVAL_KEEP=DIR keeps the trees, cartridges and RATE output in DIR.
# Run time: about a minute per split on 2 CPUs.
set -eu
build=${1:-build}
data=${2:-corpus-data}
cmtool="$build/cmtool"
rate="$build/CGPCloudmark"
if [ ! -x "$cmtool" ] || [ ! -x "$rate" ]; then
    echo "eval-categories: build $cmtool and $rate first" >&2
    exit 2
fi
if [ ! -d "$data/trec07p" ]; then
    ../shared/corpus/unpack "$data"
fi
splits=${EVAL_SPLITS:-"random modern no-trec newsletter recent"}
if [ -n "${EVAL_KEEP:-}" ]; then
    work=$EVAL_KEEP
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/eval-categories.XXXXXX")
    trap 'rm -rf "$work"' EXIT INT TERM
fi
data=$(cd "$data" && pwd -P)

# Trees of symbolic links: WORK/SPLIT/{train,test}/SOURCE/LABEL/NAME, so
# cmtool sees the same source names as in corpus-data.
# shellcheck disable=SC2086
python3 - "$data" "$work" $splits <<'EOF'
import datetime, email.utils, hashlib, os, re, shutil, sys

data, work, splits = sys.argv[1], sys.argv[2], sys.argv[3:]
old = ("spamassassin", "trec07p", "csdmc2010", "nazario")
recent_from = datetime.datetime(2023, 10, 1, tzinfo=datetime.timezone.utc)

def is_recent(path):
    with open(path, "rb") as f:
        head = f.read(65536)
    head = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
    m = re.search(rb"^date:[ \t]*(.*(?:\r?\n[ \t].*)*)", head,
                  re.IGNORECASE | re.MULTILINE)
    if m is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(
            m.group(1).decode("latin-1").replace("\r", " ").replace("\n", " "))
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when >= recent_from

def held_out(split, source, label, name, path):
    if split == "random":
        h = hashlib.sha1(name.encode()).digest()
        return int.from_bytes(h[:8], "big") % 100 < 20
    if split == "modern":
        return source not in old
    if split == "no-trec":
        return source == "trec07p"
    if split == "newsletter":
        return source == "spamassassin" and label == "ham" and "hard_ham" in name
    if split == "recent":
        return is_recent(path)
    raise SystemExit("eval-categories: unknown split " + split)

for split in splits:
    top = os.path.join(work, split)
    shutil.rmtree(top, ignore_errors=True)
    for source in sorted(os.listdir(data)):
        sdir = os.path.join(data, source)
        if source.startswith(".") or not os.path.isdir(sdir):
            continue
        for label in sorted(os.listdir(sdir)):
            ldir = os.path.join(sdir, label)
            if label not in ("ham", "spam", "phish") or not os.path.isdir(ldir):
                continue
            for name in sorted(os.listdir(ldir)):
                if name.startswith("."):
                    continue
                path = os.path.join(ldir, name)
                side = "test" if held_out(split, source, label, name, path) else "train"
                d = os.path.join(top, side, source, label)
                os.makedirs(d, exist_ok=True)
                os.symlink(os.path.join(ldir, name), os.path.join(d, name))
EOF

for s in $splits; do
    "$cmtool" train --threads 2 "$work/$s/train" -o "$work/$s.cmc" \
        > "$work/$s.train.log" 2>&1 ||
        { cat "$work/$s.train.log" >&2; exit 1; }
    "$rate" RATE --threads 2 --json --cartridge "$work/$s.cmc" \
        "$work/$s/test" > "$work/$s.json" 2> "$work/$s.rate.log" ||
        { cat "$work/$s.rate.log" >&2; exit 1; }
done

# shellcheck disable=SC2086
python3 - "$work" $splits <<'EOF'
import email, email.header, email.policy, email.utils, io, json, os, sys, zipfile

EXE_EXTS = {"exe", "scr", "pif", "com", "bat", "cmd", "cpl", "msi", "dll",
            "jar", "js", "jse", "vbs", "vbe", "wsf", "wsh", "hta", "ps1",
            "lnk", "iso", "img", "vhd", "vhdx", "one"}

def ext(name):
    name = name.rstrip(" .")
    return name.rsplit(".", 1)[1].lower() if "." in name else ""

def part_name(part):
    for raw in (part.get_param("filename", header="content-disposition"),
                part.get_param("name")):
        if raw:
            raw = email.utils.collapse_rfc2231_value(raw)
            try:
                return str(email.header.make_header(
                    email.header.decode_header(raw)))
            except Exception:
                return raw
    return ""

def has_executable(path):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.compat32)
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part_name(part)
        if ext(name) in EXE_EXTS:
            return True
        try:
            body = part.get_payload(decode=True) or b""
        except Exception:
            continue
        if ext(name) == "zip" or body[:4] == b"PK\x03\x04":
            try:
                with zipfile.ZipFile(io.BytesIO(body)) as z:
                    if any(ext(n) in EXE_EXTS for n in z.namelist()):
                        return True
            except Exception:
                pass
    return False

def auc(ham, junk):
    """Probability that a junk message outscores a ham one, ties half."""
    if not ham or not junk:
        return "-"
    ham_at = [0] * 101
    for x in ham:
        ham_at[x] += 1
    below = 0
    wins = 0.0
    by_score = [0] * 101
    for x in junk:
        by_score[x] += 1
    for s in range(101):
        wins += by_score[s] * (below + ham_at[s] / 2.0)
        below += ham_at[s]
    return "%.5f" % (wins / (len(ham) * len(junk)))

def pct(n, d):
    return "-" if d == 0 else "%.2f%% (%d/%d)" % (100.0 * n / d, n, d)

work, splits = sys.argv[1], sys.argv[2:]
for split in splits:
    count = {"ham": [0, 0], "spam": [0, 0], "phish": [0, 0], "exe": [0, 0]}
    phish_cats = {}
    scores = {"ham": [], "junk": []}
    with open(os.path.join(work, split + ".json")) as f:
        for line in f:
            r = json.loads(line)
            label = os.path.basename(os.path.dirname(r["path"]))
            cat = r["category"]
            if label in ("ham", "spam", "phish"):
                scores["ham" if label == "ham" else "junk"].append(r["score"])
            if label == "phish":
                count["phish"][0] += cat == "phishing"
                phish_cats[cat] = phish_cats.get(cat, 0) + 1
            elif label in count:
                count[label][0] += cat in ("phishing", "malware")
            count[label][1] += 1
            if has_executable(r["path"]):
                count["exe"][0] += cat == "malware"
                count["exe"][1] += 1
    print("== %s" % split)
    print("  phish->phishing  %s" % pct(*count["phish"]))
    print("  spam->phish/mal  %s" % pct(*count["spam"]))
    print("  ham->phish/mal   %s" % pct(*count["ham"]))
    print("  AUC              %s" % auc(scores["ham"], scores["junk"]))
    print("  junk>=96         %s" % pct(sum(x >= 96 for x in scores["junk"]),
                                        len(scores["junk"])))
    print("  ham>=96          %s" % pct(sum(x >= 96 for x in scores["ham"]),
                                        len(scores["ham"])))
    print("  exe->malware     %s" % pct(*count["exe"]))
    if phish_cats:
        print("  phish categories " + " ".join(
            "%s=%d" % kv for kv in sorted(phish_cats.items())))
EOF
