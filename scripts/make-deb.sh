#!/bin/sh
# make-deb.sh -- `make deb`: build the Debian binary package.
#
#   sh scripts/make-deb.sh [OUTDIR]      (default build/deb)
#
# dpkg-buildpackage writes its results into the parent of the source tree,
# so it runs on a copy in OUTDIR/src/cgpcloudmark-<version>/ (the files git
# knows about, committed or not, so work in progress is packaged as it
# stands) and the .deb ends up in OUTDIR, never beside the checkout.
# The package version comes from debian/changelog and must match the
# engine's version (VERSION prints it).
set -eu
out=${1:-build/deb}

version=$(dpkg-parsechangelog -S Version)
engine=$(sed -n 's/^#define ENGINE_VERSION "\(.*\)"$/\1/p' src/engine.c)
if [ "$version" != "$engine" ]; then
    echo "make-deb: debian/changelog says $version, src/engine.c $engine" >&2
    exit 1
fi

stage="$out/src/cgpcloudmark-$version"
rm -rf "$out/src"
mkdir -p "$stage"
git ls-files -z --cached --others --exclude-standard |
    grep -z -v '^corpus-data' |
    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf - | tar -xf - -C "$stage"

(cd "$stage" && dpkg-buildpackage -us -uc -b)

arch=$(dpkg-architecture -q DEB_HOST_ARCH)
deb="cgpcloudmark_${version}_${arch}.deb"
mv "$out/src/$deb" "$out/$deb"
rm -rf "$out/src"
echo "make-deb: $out/$deb"
dpkg-deb --info "$out/$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$out/$deb"
