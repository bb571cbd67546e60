#!/bin/sh
# bench/install-peers.sh -- installs the filters bench/accuracy.sh compares
# CGPCloudmark with: bogofilter, SpamAssassin (spamassassin, sa-learn,
# spamd, spamc), rspamd and the redis-server its Bayes classifier needs,
# and crm114 (the crm interpreter; no daemon).  All are Debian packages.  Fast when everything is present (one dpkg query
# per package); otherwise needs root.  Installing must not leave services
# running: the benchmark starts its own private instances on 127.0.0.1 and
# stops them by PID, so the packages' own units are not started here
# (policy-rc.d refuses them) and, where they did start, they are stopped.
set -eu
PKGS="bogofilter spamassassin spamd spamc rspamd redis-server crm114"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "install-peers: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-peers: run as root, or install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Keep the packages' init scripts from starting system-wide daemons.
policy=/usr/sbin/policy-rc.d
own_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=yes
fi
rc=0
apt-get update -qq || rc=$?
if [ "$rc" -eq 0 ]; then
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
        rc=$?
fi
if [ "$own_policy" = yes ]; then
    rm -f "$policy"
fi
exit "$rc"
