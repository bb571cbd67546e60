#!/bin/sh
# Installs the Debian packages the build and the test suite need, once.
# Fast when everything is present (one dpkg query); needs root otherwise.
#   sh scripts/install-deps.sh        what make, make check and make demo need
#   sh scripts/install-deps.sh deb    also what make deb needs
# mandoc and groff-base lint the manual pages in make check.
set -eu
PKGS="build-essential pkg-config libcurl4-openssl-dev libssl-dev zlib1g-dev
libinih-dev libidn2-dev libcmocka-dev python3 clang libclang-rt-14-dev mandoc groff-base
valgrind openssl"
if [ "${1:-}" = deb ]; then
    PKGS="$PKGS debhelper dpkg-dev fakeroot"
fi
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: run as root, or install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
