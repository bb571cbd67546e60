#!/bin/sh
# bench/accuracy.sh -- accuracy of CGPCloudmark against bogofilter,
# SpamAssassin, rspamd and crm114, trained and tested on the same split of
# the development corpus, in one run (SPEC §10, issue #3 item 7).
#
#   make bench-accuracy    (= sh bench/accuracy.sh build ../shared/corpus)
#   sh bench/accuracy.sh BUILD CORPUS
#
# Steps: install the peers if missing (bench/install-peers.sh, root), unpack
# the corpus into corpus-data/ (git-ignored), lay out two deterministic
# splits as symlink trees under bench/out/accuracy/ (git-ignored; see
# bench/accuracy/split.py):
#   random  80/20 of every source, by a hash of the file's path;
#   modern  trained without phishing_pot and lfdr_lists, tested on their
#           held-out 20 % (recent phishing, recent list ham);
# then, per split, train each filter on the train part, score the test
# part, and print one table per split (bench/accuracy/report.py): AUC, ham
# flagged at each filter's own threshold (ours: 96), spam and phish caught
# there, messages scored per second.  The tables also go to
# bench/out/accuracy.md.
#
# How each filter is run (all on this machine, servers on 127.0.0.1 only,
# on free ports, each stopped by its PID when the script ends):
#   CGPCloudmark  cmtool train <train> -o cart; RATE --threads 2
#                 --cartridge cart over the test folder; threshold 96.
#   bogofilter    private word list; -s/-n -B training, -T -B scoring, two
#                 processes; spamicity 0..1, threshold 0.99 (its cutoff).
#   SpamAssassin  Bayes and local rules only (-L, no DNS, Razor, Pyzor);
#                 sa-learn into a private Bayes DB (no auto-expiry), a spamd
#                 with 2 children, 2 spamc -c clients; threshold 5.0; the
#                 test set is cut to SA_MAX messages (hash order) because
#                 spamd is slow; the table says so.
#   rspamd        Bayes in a private redis-server, plus rspamd's default
#                 local rules; modules that need the network or Redis
#                 state besides Bayes are off, and its resolver is
#                 bench/speed/nxdns.py (NXDOMAIN for every name, as an
#                 offline resolver would answer, so no lookup waits for a
#                 time-out); rspamc learn_spam/learn_ham (rspamd's learn
#                 condition skips messages it already classifies
#                 confidently: the table gives the number learned),
#                 rspamc -n 4 scoring on 2 workers; threshold 6 (the
#                 add_header action).
#   crm114        the classifier of crm114's mail filters (mailfilter.cf):
#                 OSB unique microgroom, spam.css and ham.css in a private
#                 directory; bench/accuracy/crm114.crm loops over a list
#                 of files in one crm process (no process per message).
#                 Every train message is learned into its class (train
#                 everything, not mailtrainer's train-on-error), one
#                 process per class (about 2 minutes a split on the full
#                 corpus); scoring by 2 processes, half the test list
#                 each.  Like mailreaver, crm114 reads only the first
#                 CRM_BYTES (16000, mailfilter.cf's :decision_length:) of
#                 a message, as they are (mailreaver's optional base64
#                 decoding and rewrites are not done).  Score: the pR of
#                 CLASSIFY (spam.css | ham.css), higher = more spam
#                 (mailreaver's pR, which lists nonspam first, negated).
#                 Threshold 5: mailreaver marks a message spam at its pR
#                 <= -5 (:spam_threshold: in mailfilter.cf) and calls the
#                 band from -5 to 5 unsure, so 5 is where crm114's own
#                 mail filter says spam, as the other thresholds are.  A
#                 second row gives the same scores at 0, where CLASSIFY
#                 itself succeeds or fails.
# Spam and phish are both trained and counted as spam by every filter.
#
# Logs of every training and server run are kept in
# bench/out/accuracy/<split>/logs/.
#
# Environment: SPLITS ("random modern"), FILTERS ("ours bogofilter
# spamassassin rspamd crm114"), SA_MAX (1500), CRM_BYTES (16000), KEEP
# (100: percent of the corpus used; e.g. KEEP=5 for a quick trial).
# Takes about 50 minutes on two cores, most of it SpamAssassin's sa-learn.
set -eu

build=$(cd "${1:-build}" && pwd)
corpus=${2:-../shared/corpus}
SPLITS=${SPLITS:-"random modern"}
FILTERS=${FILTERS:-"ours bogofilter spamassassin rspamd crm114"}
SA_MAX=${SA_MAX:-1500}
CRM_BYTES=${CRM_BYTES:-16000}
KEEP=${KEEP:-100}
out=bench/out/accuracy
data="corpus-data"
here=bench/accuracy

say() {
    printf '%s accuracy: %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

now() {
    date +%s.%N
}

elapsed() {
    python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) -
float(sys.argv[1])))" "$1" "$2"
}

freeport() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# ---- servers, stopped by PID ----------------------------------------

work=$(mktemp -d /tmp/cm-accuracy.XXXXXX)
chmod 755 "$work"
pids="$work/pids"
: >"$pids"

stop_pid() {
    kill "$1" 2>/dev/null || true
    # Give it a moment to flush and exit; it is our child, so wait works.
    wait "$1" 2>/dev/null || true
    grep -vx "$1" "$pids" >"$pids.new" 2>/dev/null || true
    mv "$pids.new" "$pids"
}

cleanup() {
    if [ -f "$pids" ]; then
        while read -r p; do
            kill "$p" 2>/dev/null || true
        done <"$pids"
        while read -r p; do
            wait "$p" 2>/dev/null || true
        done <"$pids"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
    limit=$1
    shift
    i=0
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt "$((limit * 2))" ]; then
            return 1
        fi
        sleep 0.5
    done
}

# ---- filters --------------------------------------------------------

# Each run_<filter> SPLIT NAME writes $out/SPLIT/<filter>.scores and one
# line (filter, threshold, scores file, seconds, note) to $out/SPLIT/run.NAME,
# so a later run of some filters only (FILTERS=...) keeps the others' rows.

run_ours() {
    d=$out/$1
    cart=$work/$1.ours.cmc
    say "$1: CGPCloudmark: training"
    t0=$(now)
    if ! "$build/cmtool" train "$d/train" -o "$cart" \
            >"$d/logs/ours.train.log" 2>&1; then
        tail -5 "$d/logs/ours.train.log" >&2
        say "$1: CGPCloudmark: training failed"
        return 0
    fi
    t1=$(now)
    printf '{ }\n' >"$work/empty.cfg"
    say "$1: CGPCloudmark: scoring"
    t2=$(now)
    "$build/CGPCloudmark" RATE --threads 2 --cartridge "$cart" \
        -c "$work/empty.cfg" "$d/test" >"$work/$1.ours.out" \
        2>"$d/logs/ours.rate.log" ||
        say "$1: RATE failed: $(tail -1 "$d/logs/ours.rate.log")"
    t3=$(now)
    cut -f1,2 "$work/$1.ours.out" >"$d/ours.scores"
    printf '%s\t%s\t%s\t%s\t%s\n' CGPCloudmark 96 ours.scores \
        "$(elapsed "$t2" "$t3")" \
        "RATE --threads 2; trained in $(elapsed "$t0" "$t1")s" \
        >"$d/run.$2"
}

run_bogofilter() {
    d=$out/$1
    db=$work/$1.bogofilter
    mkdir -p "$db"
    say "$1: bogofilter: training"
    t0=$(now)
    tr '\n' '\0' <"$work/$1.spam.lst" |
        xargs -0 bogofilter -C -d "$db" -s -B
    tr '\n' '\0' <"$work/$1.ham.lst" |
        xargs -0 bogofilter -C -d "$db" -n -B
    t1=$(now)
    say "$1: bogofilter: scoring"
    n=$(wc -l <"$work/$1.test.lst")
    half=$(((n + 1) / 2))
    head -n "$half" "$work/$1.test.lst" >"$work/$1.bogo.a"
    tail -n "+$((half + 1))" "$work/$1.test.lst" >"$work/$1.bogo.b"
    t2=$(now)
    tr '\n' '\0' <"$work/$1.bogo.a" |
        xargs -0 bogofilter -C -d "$db" -T -B >"$work/$1.bogo.a.out" &
    bogo_a=$!
    tr '\n' '\0' <"$work/$1.bogo.b" |
        xargs -0 bogofilter -C -d "$db" -T -B >"$work/$1.bogo.b.out" &
    bogo_b=$!
    wait "$bogo_a" "$bogo_b" || true
    t3=$(now)
    cat "$work/$1.bogo.a.out" "$work/$1.bogo.b.out" |
        awk '{ s = $NF; $NF = ""; $(NF - 1) = ""; sub(/ +$/, "")
               print $0 "\t" s }' \
        >"$d/bogofilter.scores"
    printf '%s\t%s\t%s\t%s\t%s\n' bogofilter 0.99 bogofilter.scores \
        "$(elapsed "$t2" "$t3")" \
        "2 processes; trained in $(elapsed "$t0" "$t1")s" >"$d/run.$2"
}

run_spamassassin() {
    d=$out/$1
    sa=$work/$1.sa
    mkdir -p "$sa/site" "$sa/bayes" "$sa/home"
    cp /etc/spamassassin/*.pre "$sa/site/"
    cat >"$sa/site/local.cf" <<EOF
use_bayes 1
bayes_auto_learn 0
bayes_auto_expire 0
bayes_learn_to_journal 0
bayes_path $sa/bayes/bayes
bayes_file_mode 0777
skip_rbl_checks 1
use_razor2 0
use_pyzor 0
dns_available no
required_score 5.0
EOF
    say "$1: SpamAssassin: sa-learn (slow)"
    t0=$(now)
    tr '\n' '\0' <"$work/$1.spam.lst" |
        xargs -0 -n 2000 sa-learn --siteconfigpath="$sa/site" --spam \
            >"$d/logs/sa-learn.log" 2>&1
    tr '\n' '\0' <"$work/$1.ham.lst" |
        xargs -0 -n 2000 sa-learn --siteconfigpath="$sa/site" --ham \
            >>"$d/logs/sa-learn.log" 2>&1
    t1=$(now)
    # spamd drops to "nobody" when started as root: let it read the DB.
    chmod -R a+rwX "$sa"
    port=$(freeport)
    spamd -L --siteconfigpath="$sa/site" -i 127.0.0.1 -p "$port" \
        -A 127.0.0.1 -m 2 --min-children=2 --min-spare=1 --max-spare=2 \
        -u nobody -x -s "$sa/spamd.log" --helper-home-dir="$sa/home" \
        >"$d/logs/spamd.out" 2>&1 &
    spamd_pid=$!
    echo "$spamd_pid" >>"$pids"
    if ! wait_for 120 spamc -d 127.0.0.1 -p "$port" -K; then
        say "$1: spamd did not start: $(tail -2 "$d/logs/spamd.out")"
        stop_pid "$spamd_pid"
        return 0
    fi
    # A deterministic subsample: test files in hash order.
    python3 - "$out/$1/test.tsv" "$SA_MAX" "$work/$1.sa.lst" \
        "$d/spamassassin.scores.subset" <<'EOF'
import hashlib, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
rows.sort(key=lambda r: hashlib.sha256(r[0].encode()).hexdigest())
rows = rows[:int(sys.argv[2])]
rows.sort()
with open(sys.argv[3], "w") as lst, open(sys.argv[4], "w") as sub:
    for r in rows:
        lst.write(r[0] + "\n")
        sub.write("\t".join(r) + "\n")
EOF
    n=$(wc -l <"$work/$1.sa.lst")
    say "$1: SpamAssassin: scoring $n messages through spamd"
    t2=$(now)
    python3 "$here/spamc_scores.py" "$port" "$work/$1.sa.lst" \
        "$d/spamassassin.scores" 2
    t3=$(now)
    stop_pid "$spamd_pid"
    cp "$sa/spamd.log" "$d/logs/spamd.log" 2>/dev/null || true
    printf '%s\t%s\t%s\t%s\t%s\n' SpamAssassin 5.0 spamassassin.scores \
        "$(elapsed "$t2" "$t3")" \
        "Bayes + local rules; spamd 2 children; $n of the test messages \
(hash subsample); trained in $(elapsed "$t0" "$t1")s" >"$d/run.$2"
}

run_rspamd() {
    d=$out/$1
    rs=$work/$1.rspamd
    mkdir -p "$rs/local/local.d" "$rs/local/override.d" "$rs/db" "$rs/run" \
        "$rs/log" "$rs/redis"
    rport=$(freeport)
    nport=$(freeport)
    cport=$(freeport)
    dnsport=$(freeport)
    printf 'servers = "127.0.0.1:%s";\n' "$rport" \
        >"$rs/local/local.d/redis.conf"
    printf 'servers = "127.0.0.1:%s";\nautolearn = false;\n' "$rport" \
        >"$rs/local/local.d/classifier-bayes.conf"
    # nxdns.py answers every lookup with NXDOMAIN at once.
    printf 'dns {\n  nameserver = ["127.0.0.1:%s"];\n  timeout = 1s;\n}\n' \
        "$dnsport" >"$rs/local/local.d/options.inc"
    printf 'bind_socket = "127.0.0.1:%s";\ncount = 2;\n' "$nport" \
        >"$rs/local/override.d/worker-normal.inc"
    printf 'bind_socket = "127.0.0.1:%s";\ncount = 1;\n%s\n' "$cport" \
        'secure_ip = "127.0.0.1";' \
        >"$rs/local/override.d/worker-controller.inc"
    printf 'enabled = false;\n' >"$rs/local/override.d/worker-proxy.inc"
    for m in greylist ratelimit neural replies history_redis fuzzy_check \
            rbl surbl dkim spf dmarc arc asn reputation url_redirector \
            dkim_signing emails mx_check dcc p0f antivirus \
            external_services clickhouse elastic metadata_exporter bimi \
            aws_s3 rspamd_update; do
        printf 'enabled = false;\n' >"$rs/local/override.d/$m.conf"
    done
    printf 'Subject: probe\n\nready?\n' >"$rs/probe.eml"
    python3 bench/speed/nxdns.py "$dnsport" >"$d/logs/nxdns.log" 2>&1 &
    dns_pid=$!
    echo "$dns_pid" >>"$pids"
    # redis-server changes into --dir first: its log path is absolute.
    redis-server --bind 127.0.0.1 --port "$rport" --dir "$rs/redis" \
        --save "" --appendonly no --daemonize no \
        --logfile "$(cd "$d/logs" && pwd)/redis.log" >/dev/null 2>&1 &
    redis_pid=$!
    echo "$redis_pid" >>"$pids"
    rspamd -f -i -c /etc/rspamd/rspamd.conf --var="LOCAL_CONFDIR=$rs/local" \
        --var="DBDIR=$rs/db" --var="RUNDIR=$rs/run" --var="LOGDIR=$rs/log" \
        >"$d/logs/rspamd.out" 2>&1 &
    rspamd_pid=$!
    echo "$rspamd_pid" >>"$pids"
    if ! wait_for 120 rspamc -h "127.0.0.1:$cport" stat ||
        ! wait_for 60 rspamc -h "127.0.0.1:$nport" "$rs/probe.eml"; then
        say "$1: rspamd did not start: $(tail -2 "$rs/log/rspamd.log")"
        stop_pid "$rspamd_pid"
        stop_pid "$redis_pid"
        stop_pid "$dns_pid"
        return 0
    fi
    say "$1: rspamd: training"
    t0=$(now)
    tr '\n' '\0' <"$work/$1.spam.lst" |
        xargs -0 rspamc -h "127.0.0.1:$cport" -n 4 learn_spam \
            >"$d/logs/rspamd-learn.log" 2>&1 || true
    tr '\n' '\0' <"$work/$1.ham.lst" |
        xargs -0 rspamc -h "127.0.0.1:$cport" -n 4 learn_ham \
            >>"$d/logs/rspamd-learn.log" 2>&1 || true
    t1=$(now)
    learned=$(grep -c 'success = true' "$d/logs/rspamd-learn.log" || true)
    say "$1: rspamd: scoring"
    t2=$(now)
    tr '\n' '\0' <"$work/$1.test.lst" |
        xargs -0 rspamc -h "127.0.0.1:$nport" -n 4 2>/dev/null |
        python3 "$here/rspamc_scores.py" >"$d/rspamd.scores" || true
    t3=$(now)
    stop_pid "$rspamd_pid"
    stop_pid "$redis_pid"
    stop_pid "$dns_pid"
    cp "$rs/log/rspamd.log" "$d/logs/rspamd.log" 2>/dev/null || true
    printf '%s\t%s\t%s\t%s\t%s\n' rspamd 6 rspamd.scores \
        "$(elapsed "$t2" "$t3")" \
        "Bayes ($learned of the train messages learned) + default local \
rules; 2 workers; trained in $(elapsed "$t0" "$t1")s" >"$d/run.$2"
}

run_crm114() {
    d=$out/$1
    cr=$work/$1.crm114
    mkdir -p "$cr"
    say "$1: crm114: training"
    t0=$(now)
    # spam.css and ham.css are separate files: one learning process each.
    crm "$here/crm114.crm" --mode=learn --css="$cr/spam.css" \
        --bytes="$CRM_BYTES" <"$work/$1.spam.lst" \
        >"$d/logs/crm114.learn-spam.log" 2>&1 &
    crm_a=$!
    crm "$here/crm114.crm" --mode=learn --css="$cr/ham.css" \
        --bytes="$CRM_BYTES" <"$work/$1.ham.lst" \
        >"$d/logs/crm114.learn-ham.log" 2>&1 &
    crm_b=$!
    wait "$crm_a" "$crm_b" || true
    t1=$(now)
    learned=$(cat "$d/logs/crm114.learn-spam.log" \
        "$d/logs/crm114.learn-ham.log" | grep -cv "$(printf '\t')" || true)
    if [ ! -s "$cr/spam.css" ] || [ ! -s "$cr/ham.css" ]; then
        say "$1: crm114: training failed:" \
            "$(tail -1 "$d/logs/crm114.learn-spam.log")"
        return 0
    fi
    say "$1: crm114: scoring"
    n=$(wc -l <"$work/$1.test.lst")
    half=$(((n + 1) / 2))
    head -n "$half" "$work/$1.test.lst" >"$work/$1.crm.a"
    tail -n "+$((half + 1))" "$work/$1.test.lst" >"$work/$1.crm.b"
    t2=$(now)
    crm "$here/crm114.crm" --spam="$cr/spam.css" --ham="$cr/ham.css" \
        --bytes="$CRM_BYTES" <"$work/$1.crm.a" >"$work/$1.crm.a.out" \
        2>"$d/logs/crm114.classify-a.log" &
    crm_a=$!
    crm "$here/crm114.crm" --spam="$cr/spam.css" --ham="$cr/ham.css" \
        --bytes="$CRM_BYTES" <"$work/$1.crm.b" >"$work/$1.crm.b.out" \
        2>"$d/logs/crm114.classify-b.log" &
    crm_b=$!
    wait "$crm_a" "$crm_b" || true
    t3=$(now)
    cat "$work/$1.crm.a.out" "$work/$1.crm.b.out" >"$d/crm114.scores"
    secs=$(elapsed "$t2" "$t3")
    note="OSB unique microgroom, first $CRM_BYTES bytes; all $learned \
train messages learned; 2 processes; trained in $(elapsed "$t0" "$t1")s"
    {
        printf '%s\t%s\t%s\t%s\t%s\n' crm114 5 crm114.scores "$secs" \
            "$note"
        printf '%s\t%s\t%s\t%s\t%s\n' "crm114 at pR 0" 0 crm114.scores \
            "$secs" "the same scores at CLASSIFY's own success point"
    } >"$d/run.$2"
}

# ---- main -----------------------------------------------------------

if [ ! -x "$build/CGPCloudmark" ] || [ ! -x "$build/cmtool" ]; then
    echo "accuracy.sh: build $build first (make)" >&2
    exit 2
fi
sh bench/install-peers.sh
say "unpacking the corpus into $data"
"$corpus/unpack" "$data" >/dev/null
mkdir -p "$out"
python3 "$here/split.py" "$data" "$out" 20 "$KEEP" >&2

for split in $SPLITS; do
    d=$out/$split
    mkdir -p "$d/logs"
    cut -f1 "$d/test.tsv" >"$work/$split.test.lst"
    find "$d/train" -type l | sort >"$work/$split.all.lst"
    grep '/ham/[^/]*$' "$work/$split.all.lst" >"$work/$split.ham.lst" || true
    grep -v '/ham/[^/]*$' "$work/$split.all.lst" \
        >"$work/$split.spam.lst" || true
    say "$split: train ham $(wc -l <"$work/$split.ham.lst"), spam+phish" \
        "$(wc -l <"$work/$split.spam.lst"); test" \
        "$(wc -l <"$work/$split.test.lst")"
    for f in $FILTERS; do
        rm -f "$d/run.$f"
        "run_$f" "$split" "$f"
    done
done

dirs=""
for split in $SPLITS; do
    dirs="$dirs $out/$split"
done
# shellcheck disable=SC2086
python3 "$here/report.py" bench/out/accuracy.md $dirs
