#!/bin/sh
# bench/run.sh -- the speed benchmark (make bench; SPEC §10, issue #7).
#
#   make bench                       (= sh bench/run.sh build ../shared/corpus)
#   sh bench/run.sh BUILD CORPUS
#
# One run measures, side by side, on one machine:
#  (a) messages/s of CGPCloudmark RATE against bogofilter -b, spamc to a
#      running spamd (2 children), rspamc to a running rspamd (2
#      workers, Bayes in a private redis-server) and crm114, on the same
#      MIX-message mix, every filter trained on the same TRAIN-message
#      training set;
#  (b) helper latency (bench/helperload.c, open loop) at 50, 200 and 1000
#      requests/s and flat out: p50, p99, max, throughput;
#  (c) peak RSS of the helper (VmHWM) and of RATE (getrusage);
#  (d) start-up time: spawn -> answer to the first FILE request, median;
#  (e) the longest answer delay while the updater swaps the cartridge
#      under load (cmtool publish to a local http.server; the helper's
#      updater polls it every 10 s), or "n/a" when this build cannot.
# The table goes to stdout and to bench/out/speed.md (git-ignored).
# For a figure that the neighbours on a shared machine cannot move, see
# bench/speed/icount.sh (RATE instructions per message under callgrind)
# and bench/speed/profile.sh (where they go).
#
# Message sets (bench/speed/mksets.py, deterministic): the corpus is
# unpacked into corpus-data/; in SHA-256 order of "cm-speed/<source>/
# <label>/<file>" the first TRAIN messages are the training set
# (bench/out/train/) and the next MIX the scored mix (bench/out/mix/), as
# hard links to corpus-data/ (plain files, as in a queue).  Every filter
# reads the same files; the page cache is warmed first.
#
# How each filter is run (servers on 127.0.0.1, free ports, stopped by
# PID when the script ends, whatever happens):
#   CGPCloudmark  cmtool train bench/out/train -o bench/out/bench.cmc;
#                 RATE --cartridge bench/out/bench.cmc --threads 1 and 2.
#                 The helper runs with the embedded default cartridge when
#                 the build has one, else with bench.cmc embedded as the
#                 default in a bench-only link of the same objects (said
#                 in the table).
#   bogofilter    private word list, -s/-n -B training; scoring -T -b (file
#                 names on stdin), one process and two (half the mix each).
#   SpamAssassin  sa-learn into a private Bayes DB; spamd -L (local tests,
#                 no DNS), 2 children; two spamc -c loops over SA_MAX
#                 messages of the mix (spamd is slow; the table says so).
#   rspamd        private config (network modules off, DNS to a local
#                 stub that answers NXDOMAIN at once, bench/speed/
#                 nxdns.py), Bayes in a private redis-server; rspamc
#                 learn_spam/learn_ham, then rspamc -n 16 over RSPAMD_MAX
#                 messages on 2 workers.
#   crm114        bench/accuracy/crm114.crm (OSB unique microgroom, first
#                 16000 bytes of each message, as bench/accuracy.sh runs
#                 it): every training message learned; classifying, one
#                 crm process over the whole mix (the program loops over
#                 the list, no process per message) and two (half each).
# Each row gives wall-clock messages/s and messages per CPU-second (client
# plus server processes): on a machine shared with other work, wall time
# depends on the neighbours and CPU time much less.  Ratios pair rows that
# use the same number of CPUs.
#
# The helper latency is measured twice when root can use chrt: as is, and
# with driver and helper under SCHED_FIFO, which shows what the helper
# itself does when other processes compete for the CPUs.  Each run is
# followed by the same run against bench/floorhelper.c, which reads each
# file and answers without scoring: the latency floor of the machine, the
# driver and the pipes at that moment.
#
# Environment: MIX (5000), TRAIN (3000), SA_MAX (500), RSPAMD_MAX (5000),
# REPS (3: RATE, bogofilter and crm114 runs, median kept), PEERS
# ("bogofilter spamassassin rspamd crm114"), HELPER_PHASES (50x500,
# 200x4000,1000x5000,0x10000: RATExCOUNT, 0 = flat out), SWAP (yes).
# About 8-12 minutes.
# Exit 0 when it ran (whatever the figures), non-zero only when it could
# not run (no build, no corpus, the helper could not be driven).
set -eu

build=$(cd "${1:-build}" && pwd)
corpus=${2:-../shared/corpus}
MIX=${MIX:-5000}
TRAIN=${TRAIN:-3000}
SA_MAX=${SA_MAX:-500}
RSPAMD_MAX=${RSPAMD_MAX:-5000}
REPS=${REPS:-3}
PEERS=${PEERS:-"bogofilter spamassassin rspamd crm114"}
HELPER_PHASES=${HELPER_PHASES:-"50x500,200x4000,1000x5000,0x10000"}
SWAP=${SWAP:-yes}
CC=${CC:-cc}
out=bench/out
data="corpus-data"
here=bench/speed

say() {
    printf '%s speed: %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

freeport() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# ---- servers, stopped by PID -----------------------------------------

work=$(mktemp -d /tmp/cm-speed.XXXXXX)
chmod 755 "$work"
pids=$work/pids
: >"$pids"
results=$work/results.tsv
: >"$results"

stop_pid() {
    kill "$1" 2>/dev/null || true
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
        if [ "$i" -gt "$((limit * 4))" ]; then
            return 1
        fi
        sleep 0.25
    done
}

# result KIND FIELDS...: one tab-separated line for report.py.
result() {
    (IFS="$(printf '\t')"; printf '%s\n' "$*") >>"$results"
}

measure() {
    python3 "$here/measure.py" "$@"
}

# warm LIST: read the files once, so a timed run starts from the page
# cache (this machine may reclaim cold pages within minutes).
warm() {
    tr '\n' '\0' <"$1" | xargs -0 cat >/dev/null
}

# median_run N LABEL CMD...: run a measure.py command N times, keep the
# run with the median wall time.
median_run() {
    n=$1
    shift
    : >"$work/reps"
    r=0
    while [ "$r" -lt "$n" ]; do
        "$@" >>"$work/reps"
        r=$((r + 1))
    done
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^wall_s=/) {
               split($i, a, "="); print a[2] "\t" $0 } }' "$work/reps" |
        sort -n | sed -n "$(((n + 1) / 2))p" | cut -f2-
}

# ---- CGPCloudmark --------------------------------------------------------

run_ours() {
    say "CGPCloudmark: cmtool train ($TRAIN messages)"
    if ! "$build/cmtool" train "$out/train" -o "$out/bench.cmc" \
            >"$work/train.log" 2>&1; then
        tail -5 "$work/train.log" >&2
        echo "speed: cmtool train failed" >&2
        exit 1
    fi
    printf '{ }\n' >"$work/empty.cfg"
    for t in 2 1; do
        warm "$out/mix.lst"
        say "CGPCloudmark: RATE --threads $t ($REPS runs)"
        m=$(median_run "$REPS" measure --out "$work/ours$t.out" \
            --err "$work/ours$t.err" -- \
            "$build/CGPCloudmark" RATE --threads "$t" \
            --cartridge "$out/bench.cmc" -c "$work/empty.cfg" "$out/mix")
        n=$(wc -l <"$work/ours$t.out")
        errors=$(cut -f4 "$work/ours$t.out" | grep -c '^error' || true)
        result rate "ours$t" "CGPCloudmark RATE --threads $t" "$n" "$t" \
            "$m errors=$errors"
    done
}

# ---- bogofilter ----------------------------------------------------------

run_bogofilter() {
    db=$work/bogofilter
    mkdir -p "$db"
    say "bogofilter: training"
    tr '\n' '\0' <"$out/train-spam.lst" |
        xargs -0 bogofilter -C -d "$db" -s -B
    tr '\n' '\0' <"$out/train-ham.lst" |
        xargs -0 bogofilter -C -d "$db" -n -B
    warm "$out/mix.lst"
    say "bogofilter: -b, one process ($REPS runs)"
    m=$(median_run "$REPS" measure --in "$out/mix.lst" \
        --out "$work/bogo1.out" -- bogofilter -C -d "$db" -T -b)
    result rate bogo1 "bogofilter -T -b, 1 process" \
        "$(wc -l <"$work/bogo1.out")" 1 "$m"
    n=$(wc -l <"$out/mix.lst")
    head -n "$(((n + 1) / 2))" "$out/mix.lst" >"$work/bogo.a"
    tail -n "+$(((n + 1) / 2 + 1))" "$out/mix.lst" >"$work/bogo.b"
    cat >"$work/bogo2.sh" <<EOF
bogofilter -C -d "$db" -T -b <"$work/bogo.a" >"$work/bogo2.a" &
bogofilter -C -d "$db" -T -b <"$work/bogo.b" >"$work/bogo2.b"
wait
EOF
    warm "$out/mix.lst"
    say "bogofilter: -b, two processes ($REPS runs)"
    m=$(median_run "$REPS" measure -- sh "$work/bogo2.sh")
    result rate bogo2 "bogofilter -T -b, 2 processes" \
        "$(cat "$work/bogo2.a" "$work/bogo2.b" | wc -l)" 2 "$m"
}

# ---- crm114 --------------------------------------------------------------

run_crm114() {
    cr=$work/crm114
    mkdir -p "$cr"
    say "crm114: learning ($TRAIN messages, one crm process per class)"
    crm bench/accuracy/crm114.crm --mode=learn --css="$cr/spam.css" \
        <"$out/train-spam.lst" >"$cr/learn-spam.log" 2>&1 &
    crm_a=$!
    crm bench/accuracy/crm114.crm --mode=learn --css="$cr/ham.css" \
        <"$out/train-ham.lst" >"$cr/learn-ham.log" 2>&1 &
    crm_b=$!
    wait "$crm_a" "$crm_b" || true
    if [ ! -s "$cr/spam.css" ] || [ ! -s "$cr/ham.css" ]; then
        say "crm114: learning failed: $(tail -1 "$cr/learn-spam.log")"
        result note "crm114: learning failed; no figure"
        return 0
    fi
    warm "$out/mix.lst"
    say "crm114: classify, one process ($REPS runs)"
    m=$(median_run "$REPS" measure --in "$out/mix.lst" \
        --out "$work/crm1.out" -- crm bench/accuracy/crm114.crm \
        --spam="$cr/spam.css" --ham="$cr/ham.css")
    errors=$(cut -f2 "$work/crm1.out" | grep -cx -- - || true)
    result rate crm1 "crm114 (OSB unique microgroom), 1 process" \
        "$(wc -l <"$work/crm1.out")" 1 "$m errors=$errors"
    n=$(wc -l <"$out/mix.lst")
    head -n "$(((n + 1) / 2))" "$out/mix.lst" >"$work/crm.a"
    tail -n "+$(((n + 1) / 2 + 1))" "$out/mix.lst" >"$work/crm.b"
    cat >"$work/crm2.sh" <<EOF
crm bench/accuracy/crm114.crm --spam="$cr/spam.css" --ham="$cr/ham.css" \
    <"$work/crm.a" >"$work/crm2.a" &
crm bench/accuracy/crm114.crm --spam="$cr/spam.css" --ham="$cr/ham.css" \
    <"$work/crm.b" >"$work/crm2.b"
wait
EOF
    warm "$out/mix.lst"
    say "crm114: classify, two processes ($REPS runs)"
    m=$(median_run "$REPS" measure -- sh "$work/crm2.sh")
    errors=$(cat "$work/crm2.a" "$work/crm2.b" | cut -f2 |
        grep -cx -- - || true)
    result rate crm2 "crm114, 2 processes" \
        "$(cat "$work/crm2.a" "$work/crm2.b" | wc -l)" 2 "$m errors=$errors"
}

# ---- SpamAssassin ------------------------------------------------------

run_spamassassin() {
    sa=$work/sa
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
    say "SpamAssassin: sa-learn ($TRAIN messages, about 2 minutes)"
    tr '\n' '\0' <"$out/train-spam.lst" |
        xargs -0 -n 1000 sa-learn --siteconfigpath="$sa/site" --spam \
            >"$sa/learn.log" 2>&1
    tr '\n' '\0' <"$out/train-ham.lst" |
        xargs -0 -n 1000 sa-learn --siteconfigpath="$sa/site" --ham \
            >>"$sa/learn.log" 2>&1
    # spamd drops to "nobody" when started as root: let it read the DB.
    chmod -R a+rwX "$sa"
    port=$(freeport)
    spamd -L --siteconfigpath="$sa/site" -i 127.0.0.1 -p "$port" \
        -A 127.0.0.1 -m 2 --min-children=2 --min-spare=1 --max-spare=2 \
        -u nobody -x -s "$sa/spamd.log" --helper-home-dir="$sa/home" \
        >"$sa/spamd.out" 2>&1 &
    spamd_pid=$!
    echo "$spamd_pid" >>"$pids"
    if ! wait_for 120 spamc -d 127.0.0.1 -p "$port" -K; then
        say "spamd did not start: $(tail -2 "$sa/spamd.out")"
        stop_pid "$spamd_pid"
        result note "SpamAssassin: spamd did not start; no figure"
        return 0
    fi
    # One message through each child first: rule and Bayes DB loading is
    # start-up cost, not scoring.
    for f in $(head -4 "$out/mix.lst"); do
        spamc -d 127.0.0.1 -p "$port" -c <"$f" >/dev/null 2>&1 || true
    done
    head -n "$SA_MAX" "$out/mix.lst" >"$work/sa.lst"
    n=$(wc -l <"$work/sa.lst")
    head -n "$(((n + 1) / 2))" "$work/sa.lst" >"$work/sa.a"
    tail -n "+$(((n + 1) / 2 + 1))" "$work/sa.lst" >"$work/sa.b"
    cat >"$work/sa.sh" <<EOF
score() {
    while IFS= read -r f; do
        spamc -d 127.0.0.1 -p $port -c -x -t 120 <"\$f" || true
        echo
    done
}
score <"$work/sa.a" >"$work/sa.a.out" &
score <"$work/sa.b" >"$work/sa.b.out"
wait
EOF
    warm "$work/sa.lst"
    say "SpamAssassin: spamc -> spamd, $n messages, 2 clients"
    m=$(measure --tree "$spamd_pid" -- sh "$work/sa.sh")
    scored=$(cat "$work/sa.a.out" "$work/sa.b.out" | grep -c '/' || true)
    result rate spamd "spamc -> spamd (2 children), first $n of the mix" \
        "$scored" 2 "$m"
    stop_pid "$spamd_pid"
}

# ---- rspamd --------------------------------------------------------------

run_rspamd() {
    rs=$work/rspamd
    mkdir -p "$rs/local/local.d" "$rs/local/override.d" "$rs/db" \
        "$rs/run" "$rs/log" "$rs/redis"
    rport=$(freeport)
    nport=$(freeport)
    cport=$(freeport)
    dnsport=$(freeport)
    printf 'servers = "127.0.0.1:%s";\n' "$rport" \
        >"$rs/local/local.d/redis.conf"
    printf 'servers = "127.0.0.1:%s";\nautolearn = false;\n' "$rport" \
        >"$rs/local/local.d/classifier-bayes.conf"
    # A stub answers every lookup with NXDOMAIN at once: nothing leaves
    # the machine and rspamd is timed scanning, not waiting for DNS.
    printf 'dns {\n  nameserver = ["127.0.0.1:%s"];\n  timeout = 0.2s;\n  retransmits = 1;\n}\n' \
        "$dnsport" >"$rs/local/local.d/options.inc"
    printf 'bind_socket = "127.0.0.1:%s";\ncount = 2;\n' "$nport" \
        >"$rs/local/override.d/worker-normal.inc"
    printf 'bind_socket = "127.0.0.1:%s";\ncount = 1;\nsecure_ip = "127.0.0.1";\n' \
        "$cport" >"$rs/local/override.d/worker-controller.inc"
    printf 'enabled = false;\n' >"$rs/local/override.d/worker-proxy.inc"
    for mod in greylist ratelimit neural replies history_redis \
            fuzzy_check rbl surbl dkim spf dmarc arc asn reputation \
            url_redirector dkim_signing emails mx_check dcc p0f \
            antivirus external_services clickhouse elastic \
            metadata_exporter bimi aws_s3 rspamd_update; do
        printf 'enabled = false;\n' >"$rs/local/override.d/$mod.conf"
    done
    printf 'Subject: probe\n\nready?\n' >"$rs/probe.eml"
    python3 "$here/nxdns.py" "$dnsport" >"$rs/nxdns.log" 2>&1 &
    dns_pid=$!
    echo "$dns_pid" >>"$pids"
    redis-server --bind 127.0.0.1 --port "$rport" --dir "$rs/redis" \
        --save "" --appendonly no --daemonize no \
        --logfile "$rs/redis/redis.log" >/dev/null 2>&1 &
    redis_pid=$!
    echo "$redis_pid" >>"$pids"
    rspamd -f -i -c /etc/rspamd/rspamd.conf \
        --var="LOCAL_CONFDIR=$rs/local" --var="DBDIR=$rs/db" \
        --var="RUNDIR=$rs/run" --var="LOGDIR=$rs/log" \
        >"$rs/rspamd.out" 2>&1 &
    rspamd_pid=$!
    echo "$rspamd_pid" >>"$pids"
    if ! wait_for 120 rspamc -h "127.0.0.1:$cport" stat ||
        ! wait_for 60 rspamc -h "127.0.0.1:$nport" "$rs/probe.eml"; then
        say "rspamd did not start: $(tail -2 "$rs/log/rspamd.log" 2>/dev/null)"
        stop_pid "$rspamd_pid"
        stop_pid "$redis_pid"
        stop_pid "$dns_pid"
        result note "rspamd: did not start; no figure"
        return 0
    fi
    say "rspamd: rspamc learn_spam / learn_ham ($TRAIN messages)"
    tr '\n' '\0' <"$out/train-spam.lst" |
        xargs -0 rspamc -h "127.0.0.1:$cport" -n 4 learn_spam \
            >"$rs/learn.log" 2>&1 || true
    tr '\n' '\0' <"$out/train-ham.lst" |
        xargs -0 rspamc -h "127.0.0.1:$cport" -n 4 learn_ham \
            >>"$rs/learn.log" 2>&1 || true
    learned=$(grep -c 'success = true' "$rs/learn.log" || true)
    head -n "$RSPAMD_MAX" "$out/mix.lst" >"$work/rs.lst"
    n=$(wc -l <"$work/rs.lst")
    printf 'tr "\\n" "\\0" <"%s" | xargs -0 rspamc -h 127.0.0.1:%s -n 16\n' \
        "$work/rs.lst" "$nport" >"$work/rs.sh"
    warm "$work/rs.lst"
    say "rspamd: rspamc -n 16 -> 2 workers, $n messages"
    m=$(measure --out "$work/rs.out" --tree "$rspamd_pid" \
        --tree "$redis_pid" -- sh "$work/rs.sh")
    scored=$(grep -c '^Score: ' "$work/rs.out" || true)
    result rate rspamd \
        "rspamc -> rspamd (2 workers, Bayes: $learned learned)" \
        "$scored" 2 "$m"
    stop_pid "$rspamd_pid"
    stop_pid "$redis_pid"
    stop_pid "$dns_pid"
}

# ---- helper: latency, RSS, start-up, swap -------------------------------

# Which binary the helper figures use: the build's own when it embeds a
# default cartridge, else a bench-only link with bench.cmc embedded.
pick_helper() {
    if "$build/CGPCloudmark" VERSION >"$work/version.txt" 2>/dev/null; then
        helper_bin=$build/CGPCloudmark
        v=$(sed -n 's/^CmaeCartridgeVersion = //p' "$work/version.txt" |
            tr -d '"')
        helper_cart="embedded default cartridge, $v"
        return 0
    fi
    say "no default cartridge in this build: linking a bench helper with bench.cmc embedded"
    # shellcheck disable=SC2046
    if "$CC" -c -DCARTRIDGE_FILE="\"$(pwd)/$out/bench.cmc\"" \
            -o "$work/bench_cartridge.o" src/default_cartridge.S &&
        "$CC" -o "$work/CGPCloudmark-bench" "$build/obj/src/main.o" \
            "$work/bench_cartridge.o" "$build/libcm.a" \
            $(make -s print-libs); then
        helper_bin=$work/CGPCloudmark-bench
        helper_cart="bench.cmc embedded as the default (this build has no default cartridge yet)"
        return 0
    fi
    return 1
}

# helperload_result MODE FILE: copy its lines into the results.
helperload_result() {
    while IFS= read -r line; do
        result helper "$1" "$line"
    done <"$2"
}

# run_floor MODE [PREFIX...]: the same phases against bench/floorhelper.c
# (reads each file, answers OK, no scoring), right after the helper's run
# and in the same way, so the table shows the floor this machine puts
# under any helper's latency at that moment.
run_floor() {
    mode=$1
    shift
    (cd "$base" && warm requests.lst)
    say "helper: load $HELPER_PHASES, floor helper ($mode)"
    if "$@" "$work/helperload" -d "$base" -l "$base/requests.lst" \
            -P "$HELPER_PHASES" -- "$work/floorhelper" \
            >"$work/$mode.txt"; then
        helperload_result "$mode" "$work/$mode.txt"
    else
        result note "floor helper ($mode): could not be driven; no floor figure"
    fi
}

run_helper() {
    say "helper: building bench/helperload"
    if ! "$CC" -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra \
            -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
            -Wstrict-prototypes -Wvla -Wconversion -Wno-sign-conversion \
            -pthread -o "$work/helperload" \
            bench/helperload.c; then
        echo "speed: cannot build bench/helperload.c" >&2
        exit 1
    fi
    if ! "$CC" -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra \
            -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
            -Wstrict-prototypes -Wvla -Wconversion -Wno-sign-conversion \
            -o "$work/floorhelper" bench/floorhelper.c; then
        echo "speed: cannot build bench/floorhelper.c" >&2
        exit 1
    fi
    if ! pick_helper; then
        echo "speed: cannot link a helper with the bench cartridge" >&2
        exit 1
    fi
    result meta helper_cartridge "$helper_cart"
    base=$work/base
    mkdir -p "$base"
    printf '{ }\n' >"$base/CGPCloudmark.cfg"
    python3 "$here/mkqueue.py" "$out/mix.lst" "$base"

    (cd "$base" && warm requests.lst)
    say "helper: start-up to the first answer (5 runs)"
    if "$work/helperload" -d "$base" -l "$base/requests.lst" -S 5 -- \
            "$helper_bin" >"$work/startup.txt"; then
        helperload_result startup "$work/startup.txt"
    else
        echo "speed: the helper could not be started" >&2
        exit 1
    fi

    (cd "$base" && warm requests.lst)
    say "helper: load $HELPER_PHASES (as is)"
    if ! "$work/helperload" -d "$base" -l "$base/requests.lst" \
            -P "$HELPER_PHASES" -- "$helper_bin" >"$work/load.txt"; then
        cat "$work/load.txt" >&2
        echo "speed: the helper could not be driven" >&2
        exit 1
    fi
    helperload_result shared "$work/load.txt"
    result meta load_shared "$(cut -d' ' -f1-3 /proc/loadavg)"
    run_floor floor-shared


    if [ "$has_rt" = yes ]; then
        (cd "$base" && warm requests.lst)
        say "helper: load $HELPER_PHASES (driver and helper SCHED_FIFO)"
        if chrt -f 10 "$work/helperload" -d "$base" \
                -l "$base/requests.lst" -P "$HELPER_PHASES" -- \
                "$helper_bin" >"$work/load-rt.txt"; then
            helperload_result isolated "$work/load-rt.txt"
            result meta load_isolated "$(cut -d' ' -f1-3 /proc/loadavg)"
            run_floor floor-isolated chrt -f 10
        fi
    fi
}

# (e): needs cmtool keygen/publish and an updater in helper mode.  Per
# mode (as is; isolated when chrt works): a fresh base directory and an
# update server holding only cartridge 1; the helper's first cycle
# installs 1 at start, cartridge 2 is published 3 s into a 30 s load at
# 200 requests/s and installed by the cycle after the 10 s interval, so
# both swaps happen while requests flow.
swap_once() {
    mode=$1
    rm -rf "$sw/www" "$sw/base-$mode"
    mkdir -p "$sw/www" "$sw/base-$mode"
    cp -R "$sw/www-v1/." "$sw/www/"
    cp "$sw/keys/signing.pub" "$sw/base-$mode/update.pub"
    cp "$sw/keys/content.key" "$sw/base-$mode/content.key"
    printf '{ }\n' >"$sw/base-$mode/CGPCloudmark.cfg"
    cat >"$sw/base-$mode/cartridge.cfg" <<EOF
micro-update url = http://127.0.0.1:$port/
micro-update interval = 10s
micro-update timeout = 5
update public key = update.pub
update content key = content.key
report statistics = no
EOF
    ln -s "$work/base/Queue" "$sw/base-$mode/Queue"
    (cd "$work/base" && warm requests.lst)
    say "swap ($mode): 200 requests/s for 30 s; cartridge 2 published after 3 s"
    set -- "$work/helperload" -d "$sw/base-$mode" \
        -l "$work/base/requests.lst" -P 200x6000 -m installed \
        -x "3:$build/cmtool publish $sw/c2.cmc $sw/www -k $sw/keys >>$sw/log 2>&1" \
        -- "$helper_bin"
    if [ "$mode" = isolated ]; then
        set -- chrt -f 10 "$@"
    fi
    if ! "$@" >"$sw/load-$mode.txt"; then
        result swap "n/a ($mode: the helper could not be driven with updates on)"
        return 0
    fi
    helperload_result "swap-$mode" "$sw/load-$mode.txt"
    if ! grep -q '^event ' "$sw/load-$mode.txt"; then
        why="the helper installed no update during the run"
        result swap "n/a ($mode: $why; no updater in helper mode?)"
    fi
}

run_swap() {
    if [ "$SWAP" != yes ]; then
        result swap "n/a (SWAP=$SWAP)"
        return 0
    fi
    if ! "$build/cmtool" keygen --help >/dev/null 2>&1 ||
        ! "$build/cmtool" publish --help >/dev/null 2>&1; then
        result swap "n/a (no updater in this build: cmtool keygen/publish are not dispatched)"
        return 0
    fi
    sw=$work/swap
    mkdir -p "$sw/www-v1"
    say "swap: keys, cartridges 1 and 2, local update server"
    if ! "$build/cmtool" keygen "$sw/keys" >"$sw/log" 2>&1 ||
        ! "$build/cmtool" train --version 1 "$out/train" -o "$sw/c1.cmc" \
            >>"$sw/log" 2>&1 ||
        ! "$build/cmtool" train --version 2 --seed 2 "$out/train" \
            -o "$sw/c2.cmc" >>"$sw/log" 2>&1 ||
        ! "$build/cmtool" publish "$sw/c1.cmc" "$sw/www-v1" -k "$sw/keys" \
            >>"$sw/log" 2>&1; then
        result swap "n/a (could not prepare the update: $(tail -1 "$sw/log"))"
        return 0
    fi
    mkdir -p "$sw/www"
    port=$(freeport)
    # Serves $sw/www, which swap_once refills before each run.
    python3 -m http.server --bind 127.0.0.1 --directory "$sw/www" "$port" \
        >"$sw/http.log" 2>&1 &
    http_pid=$!
    echo "$http_pid" >>"$pids"
    wait_for 20 python3 -c \
        "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/')" ||
        true
    swap_once shared
    if [ "$has_rt" = yes ]; then
        swap_once isolated
    fi
    stop_pid "$http_pid"
}

# ---- main ------------------------------------------------------------

if [ ! -x "$build/CGPCloudmark" ] || [ ! -x "$build/cmtool" ]; then
    echo "speed: build $build first (make)" >&2
    exit 2
fi
if [ ! -f "$build/libcm.a" ] || [ ! -f "$build/obj/src/main.o" ]; then
    echo "speed: $build/libcm.a or obj/src/main.o missing (make)" >&2
    exit 2
fi
sh bench/install-peers.sh || say "some peers could not be installed"
say "unpacking the corpus into $data"
"$corpus/unpack" "$data" >/dev/null
mkdir -p "$out"
python3 "$here/mksets.py" "$data" "$out" "$TRAIN" "$MIX"
say "sets: $(tr '\n' ' ' <"$out/sets.txt")"
warm "$out/mix.lst"
warm "$out/train-ham.lst"
warm "$out/train-spam.lst"
result meta machine "$(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
result meta load_at_start "$(cut -d' ' -f1-3 /proc/loadavg)"
result meta mix "$(wc -l <"$out/mix.lst") messages, $(xargs cat <"$out/mix.lst" | wc -c) bytes"
result meta sets "$(tr '\n' ';' <"$out/sets.txt")"

has_rt=no
if [ "$(id -u)" -eq 0 ] && command -v chrt >/dev/null 2>&1 &&
    chrt -f 10 true 2>/dev/null; then
    has_rt=yes
fi

run_ours
for p in $PEERS; do
    case $p in
    bogofilter) cmd=bogofilter ;;
    spamassassin) cmd=spamd ;;
    rspamd) cmd=rspamd ;;
    crm114) cmd=crm ;;
    *) echo "speed: unknown peer $p" >&2; exit 2 ;;
    esac
    if command -v "$cmd" >/dev/null 2>&1; then
        "run_$p"
    else
        result note "$p: not installed (bench/install-peers.sh); no figure"
    fi
done
run_helper
run_swap
result meta load_at_end "$(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/report.py" "$results" "$out/speed.md"
