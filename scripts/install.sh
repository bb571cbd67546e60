#!/bin/sh
# install.sh -- `make install` and `make uninstall` (SPEC §1).
#
#   sh scripts/install.sh install|uninstall
#
# Environment (the Makefile passes its variables):
#   BUILD    where CGPCloudmark and cmtool were built (build)
#   PREFIX   the CommuniGate Pro base directory (/var/CommuniGate)
#   MANDIR   root of the manual pages (/usr/local/share/man)
#   DESTDIR  staging root prepended to both (empty)
#
# Layout, as CGP administrators know it from the original plug-in: one
# CGPCloudmark/ folder in the base directory holds the program and the
# three configuration files side by side.  That is also what the program
# expects: CGP starts helpers in the base directory, the Program Path gives
# "-c CGPCloudmark/CGPCloudmark.cfg", and relative paths in a configuration
# file (cartridge.cfg, whitelist.cfg, update.pub, micro_updates/, the state
# file) are relative to the file's own directory.
#
#   PREFIX/CGPCloudmark/CGPCloudmark          the helper and shell commands
#   PREFIX/CGPCloudmark/cmtool                the publisher's tool
#   PREFIX/CGPCloudmark/<name>.cfg.sample     annotated defaults, always fresh
#   PREFIX/CGPCloudmark/<name>.cfg            only when absent: never replaced
#   PREFIX/CGPCloudmark/default.cmc           the default cartridge (also
#                                             built into the program)
#   MANDIR/man{1,5,8}/...                     the manual pages
#
# Programs are copied under a temporary name and renamed, so a running
# helper keeps its old program file.  Uninstall removes what install put
# there, and a configuration file only when nobody edited it: identical
# to its sample, or to what install wrote (its SHA-256 is kept beside it in
# .<name>.installed, since after an upgrade an untouched file holds the
# older release's defaults); the cache, keys and state file are the
# site's and stay.
set -eu
mode=${1:-}
build=${BUILD:-build}
prefix=${PREFIX:-/var/CommuniGate}
mandir=${MANDIR:-/usr/local/share/man}
dest=${DESTDIR:-}
dir="$dest$prefix/CGPCloudmark"
man="$dest$mandir"

# name:source of each configuration file.
CONFIGS="CGPCloudmark.cfg:CGPCloudmark.cfg.sample cartridge.cfg:conf/cartridge.cfg
whitelist.cfg:conf/whitelist.cfg"
PROGRAMS="CGPCloudmark cmtool"
PAGES="man/CGPCloudmark.8 man/cmtool.1 man/CGPCloudmark.cfg.5
man/cartridge.cfg.5 man/whitelist.cfg.5"

# cartridge.cfg takes the proxy password ("http proxy basic auth"): not
# for other users' eyes.  The samples hold no secret.
config_mode() {
    case $1 in
    cartridge.cfg) echo 0640 ;;
    *) echo 0644 ;;
    esac
}

sha256_of() {
    sha256sum <"$1" | cut -d ' ' -f 1
}

# Whether the configuration file name in $dir is as install left it.
is_untouched() {
    [ -f "$dir/$1" ] || return 1
    if [ -f "$dir/$1.sample" ] && cmp -s "$dir/$1" "$dir/$1.sample"; then
        return 0
    fi
    [ -f "$dir/.$1.installed" ] &&
        [ "$(sha256_of "$dir/$1")" = "$(cat "$dir/.$1.installed")" ]
}

page_dest() {
    page=$1
    echo "$man/man${page##*.}/$(basename "$page")"
}

do_install() {
    for p in $PROGRAMS; do
        [ -x "$build/$p" ] || { echo "install: $build/$p missing (run make)" >&2; exit 1; }
    done
    install -d -m 0755 "$dir"
    for p in $PROGRAMS; do
        install -m 0755 "$build/$p" "$dir/.$p.new"
        mv -f "$dir/.$p.new" "$dir/$p"
    done
    install -m 0644 cartridge/default.cmc "$dir/default.cmc"
    for pair in $CONFIGS; do
        name=${pair%%:*}
        src=${pair#*:}
        install -m 0644 "$src" "$dir/$name.sample"
        if [ -e "$dir/$name" ] || [ -L "$dir/$name" ]; then
            echo "install: kept $dir/$name; the new defaults are in $name.sample"
        else
            install -m "$(config_mode "$name")" "$src" "$dir/$name"
            sha256_of "$dir/$name" >"$dir/.$name.installed"
        fi
    done
    for page in $PAGES; do
        to=$(page_dest "$page")
        install -d -m 0755 "$(dirname "$to")"
        install -m 0644 "$page" "$to"
    done
    echo "install: CGPCloudmark installed in $dir, manual pages in $man"
}

do_uninstall() {
    for p in $PROGRAMS; do
        rm -f "$dir/$p"
    done
    rm -f "$dir/default.cmc"
    for pair in $CONFIGS; do
        name=${pair%%:*}
        if is_untouched "$name"; then
            rm -f "$dir/$name"
        elif [ -e "$dir/$name" ]; then
            echo "uninstall: kept $dir/$name (changed since install)"
        fi
        rm -f "$dir/$name.sample" "$dir/.$name.installed"
    done
    for page in $PAGES; do
        rm -f "$(page_dest "$page")"
    done
    if rmdir "$dir" 2>/dev/null; then
        echo "uninstall: removed $dir"
    elif [ -d "$dir" ]; then
        echo "uninstall: left in $dir: $(ls -A "$dir" | paste -sd ' ' -)"
    fi
}

case $mode in
install) do_install ;;
uninstall) do_uninstall ;;
*) echo "usage: sh scripts/install.sh install|uninstall" >&2; exit 2 ;;
esac
