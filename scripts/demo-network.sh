#!/bin/sh
# demo-network.sh -- `make demo-network`: a private micro-update network on
# 127.0.0.1, end to end, the way a site runs its own (README, "Running your
# own update network").
#
#   sh scripts/demo-network.sh [BUILD]     (relative to the tree, or absolute)
#
#   1. cmtool keygen                 signing and content keys
#   2. cmtool train (versions 1, 2)  from a subset of corpus-data/ when it is
#                                    unpacked (DEMO_PER_DIR messages of each
#                                    source's ham/spam/phish folder: 150 for
#                                    version 1, 300 for version 2, ~10 s
#                                    each), else from testdata/update/train
#   3. cmtool publish version 1      into a web root
#   4. python3 -m http.server        serves it on 127.0.0.1, a free port
#   5. the helper, configured like a CGP server's CGPCloudmark/ folder,
#      installs version 1 (its "*" log lines are shown), scores messages
#      sent as FILE requests on its standard input
#   6. cmtool publish version 2      the helper swaps it in (a delta) while
#                                    running; the same messages are scored
#                                    again
#   7. QUIT; everything stops by PID and the temp directory is removed,
#      also on failure or Ctrl-C.
#
# Environment: CORPUS_DATA (default corpus-data), DEMO_PER_DIR (default 150),
# DEMO_TIMEOUT seconds to wait for each install (default 60).
set -eu
build=${1:-build}
corpus=${CORPUS_DATA:-corpus-data}
per_dir=${DEMO_PER_DIR:-150}
timeout_s=${DEMO_TIMEOUT:-60}
repo=$(pwd)
case $build in
/*) bin=$build ;;
*) bin="$repo/$build" ;;
esac
cmtool="$bin/cmtool"
cgp="$bin/CGPCloudmark"

[ -x "$cmtool" ] && [ -x "$cgp" ] ||
    { echo "demo-network: build first (make)" >&2; exit 2; }
command -v python3 >/dev/null ||
    { echo "demo-network: python3 is needed for the HTTP server" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cgpcloudmark-demo.XXXXXX")
http_pid=""
helper_pid=""

cleanup() {
    status=$?
    exec 3>&- 2>/dev/null || true
    if [ -n "$helper_pid" ] && kill -0 "$helper_pid" 2>/dev/null; then
        kill -TERM "$helper_pid" 2>/dev/null || true
        wait "$helper_pid" 2>/dev/null || true
    fi
    if [ -n "$http_pid" ] && kill -0 "$http_pid" 2>/dev/null; then
        kill -TERM "$http_pid" 2>/dev/null || true
        wait "$http_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    [ "$status" -eq 0 ] || echo "demo-network: FAILED (status $status)" >&2
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# indented COMMAND...: run it, show its output indented, stop on failure
# (sh has no pipefail, so no pipe).
indented() {
    "$@" >"$tmp/cmd.log" 2>&1 || { cat "$tmp/cmd.log" >&2; exit 1; }
    sed 's/^/    /' "$tmp/cmd.log"
}

step() {
    printf '\n==> %s\n' "$*"
}

# wait_for FILE TEXT: until FILE holds a line with TEXT (fixed string).
wait_for() {
    i=0
    while ! grep -qF -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt $((timeout_s * 10)) ]; then
            echo "demo-network: no \"$2\" in $(basename "$1") after ${timeout_s}s:" >&2
            cat "$1" >&2
            exit 1
        fi
        sleep 0.1
    done
}

# wait_answer SEQ: until the helper has answered request SEQ.
wait_answer() {
    i=0
    while ! grep -q "^$1 " "$tmp/helper.out"; do
        i=$((i + 1))
        if [ "$i" -gt $((timeout_s * 10)) ]; then
            echo "demo-network: no answer to $1 after ${timeout_s}s" >&2
            exit 1
        fi
        sleep 0.1
    done
}

# Helper output shown so far, from line $shown on.
shown=0
show_log() {
    n=$(wc -l <"$tmp/helper.out")
    if [ "$n" -gt "$shown" ]; then
        sed -n "$((shown + 1)),${n}p" "$tmp/helper.out" | sed 's/^/    /'
        shown=$n
    fi
}

# subset DEST N: N messages of every <source>/<label> folder of the corpus,
# linked (not copied) into DEST/<source>/<label>/.
subset() {
    for d in "$corpus"/*/ham "$corpus"/*/spam "$corpus"/*/phish; do
        [ -d "$d" ] || continue
        src=$(basename "$(dirname "$d")")
        to="$1/$src/$(basename "$d")"
        mkdir -p "$to"
        abs=$(cd "$d" && pwd)
        ls "$abs" | head -n "$2" | sed "s|^|$abs/|" |
            xargs -d '\n' ln -s -t "$to"
    done
}

train() { # VERSION OUT
    if [ -d "$corpus/trec07p" ]; then
        rm -rf "$tmp/train"
        subset "$tmp/train" $((per_dir * $1))
        n=$(find "$tmp/train" -type l | wc -l)
        echo "    training version $1 on $n messages of $corpus"
        "$cmtool" train --version "$1" "$tmp/train" -o "$2" >"$tmp/train.log" 2>&1 ||
            { cat "$tmp/train.log" >&2; exit 1; }
    else
        echo "    no $corpus/ (unpack it: ../shared/corpus/unpack $corpus);" \
             "training" \
             "version $1 on testdata/update/train (15 messages: the scores" \
             "mean little)"
        "$cmtool" train --version "$1" --seed "$1" --folds 2 --passes 1 \
            testdata/update/train -o "$2" >"$tmp/train.log" 2>&1 ||
            { cat "$tmp/train.log" >&2; exit 1; }
    fi
    grep -E 'wrote|done in' "$tmp/train.log" | sed 's/^/    /'
}

# score SEQ-PREFIX: one FILE request per message, then the answers.
score() {
    k=0
    for m in $msgs; do
        k=$((k + 1))
        echo "$1$k FILE msgs/$m" >&3
    done
    k=0
    for m in $msgs; do
        k=$((k + 1))
        wait_answer "$1$k"
        answer=$(grep "^$1$k " "$tmp/helper.out" | head -n 1)
        score=$(echo "$answer" | sed -n 's/.*X-Junk-Score: \([0-9]*\) \(\[X*\]\).*/\1 \2/p')
        printf '    %-22s %s\n' "$m" "${score:-$answer}"
    done
    shown=$(wc -l <"$tmp/helper.out")
}

step "1. keys for the update network (cmtool keygen)"
indented "$cmtool" keygen "$tmp/keys"
ls -l "$tmp/keys" | sed '1d; s/^/    /'

step "2. train version 1 (cmtool train)"
train 1 "$tmp/cart-1.cmc"

step "3. publish version 1 (cmtool publish)"
indented "$cmtool" publish "$tmp/cart-1.cmc" "$tmp/www" -k "$tmp/keys"

step "4. serve the tree: python3 -m http.server on 127.0.0.1"
python3 -u -m http.server --bind 127.0.0.1 --directory "$tmp/www" 0 \
    >"$tmp/http.log" 2>&1 &
http_pid=$!
wait_for "$tmp/http.log" "Serving HTTP"
port=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$tmp/http.log" | head -n 1)
url="http://127.0.0.1:$port/"
echo "    $url (pid $http_pid)"

step "5. a CGP server's CGPCloudmark/ folder, and the helper started in it"
base="$tmp/base"
mkdir -p "$base/CGPCloudmark" "$base/msgs"
cp "$tmp/keys/signing.pub" "$base/CGPCloudmark/update.pub"
cp "$tmp/keys/content.key" "$base/CGPCloudmark/content.key"
chmod 600 "$base/CGPCloudmark/content.key"
cp CGPCloudmark.cfg.sample "$base/CGPCloudmark/CGPCloudmark.cfg"
cat >"$base/CGPCloudmark/cartridge.cfg" <<EOF
micro-update url = $url
micro-update interval = 10s
micro-update timeout = 5
report statistics = no
EOF
cp conf/whitelist.cfg "$base/CGPCloudmark/whitelist.cfg"
msgs="spam-pills.eml phish-bank.eml malware-invoice.eml newsletter.eml colleague-note.eml"
for m in $msgs; do
    cp "testdata/messages/$m" "$base/msgs/$m"
done
sed 's/^/    /' "$base/CGPCloudmark/cartridge.cfg"
echo "    Program Path: CGPCloudmark/CGPCloudmark -c CGPCloudmark/CGPCloudmark.cfg"
mkfifo "$tmp/helper.in"
(cd "$base" && exec "$cgp" -c CGPCloudmark/CGPCloudmark.cfg \
    <"$tmp/helper.in" >"$tmp/helper.out" 2>&1) &
helper_pid=$!
exec 3>"$tmp/helper.in"
echo "1 INTF 3" >&3
wait_for "$tmp/helper.out" "installed cartridge 1"
show_log

step "6. score messages through the protocol (FILE requests on stdin)"
score a

step "7. train and publish version 2 while the helper runs"
train 2 "$tmp/cart-2.cmc"
indented "$cmtool" publish "$tmp/cart-2.cmc" "$tmp/www" -k "$tmp/keys"
echo "    waiting for the helper's next poll (interval 10 s)"
wait_for "$tmp/helper.out" "installed cartridge 2"
show_log

step "8. the same messages on version 2 (swapped in without a restart)"
score b

step "9. stop: QUIT to the helper, SIGTERM to the HTTP server"
echo "q QUIT" >&3
exec 3>&-
wait "$helper_pid" && rc=0 || rc=$?
helper_pid=""
show_log
echo "    helper exit status $rc"
echo "    cache: $(ls "$base/CGPCloudmark/micro_updates" | tr '\n' ' ')"
echo "    web root: $(ls "$tmp/www" | tr '\n' ' ')"
[ "$rc" -eq 0 ]
echo
echo "demo-network: done; $tmp removed"
