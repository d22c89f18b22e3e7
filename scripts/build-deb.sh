#!/bin/sh
# Builds the Debian package of virtd from this checkout:
#
#   scripts/build-deb.sh [BUILDDIR]     ->  dist/virtd_VERSION_ARCH.deb
#
# BUILDDIR (default build-deb/) is a meson build directory configured as a
# Debian package's is: made here when new (--prefix=/usr --sysconfdir=/etc
# --localstatedir=/var); an existing one must have these (a developer's
# build/ after `meson configure build -Dprefix=/usr -Dsysconfdir=/etc
# -Dlocalstatedir=/var` is fine: its tests still run from the tree).
# Then `meson install --destdir`, and the package's control files: Depends
# from the libraries the programs link (dpkg-shlibdeps) plus what the
# daemon loads or runs (below), the conffiles, and the maintainer scripts
# of scripts/deb/. Needs dpkg-dev (scripts/deps.sh); runs as any user
# (dpkg-deb --root-owner-group).
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$src/build-deb}")
work=$build/deb-staging
# Where dpkg-shlibdeps expects a package's files (debian/PACKAGE/).
root=$work/debian/virtd
dist=$src/dist

die() { echo "build-deb: $*" >&2; exit 1; }
command -v dpkg-shlibdeps >/dev/null || die "dpkg-shlibdeps missing: install dpkg-dev (scripts/deps.sh)"
command -v dpkg-deb >/dev/null || die "dpkg-deb missing: install dpkg"

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$src" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
        >"$build.setup.log" || { cat "$build.setup.log" >&2; die "meson setup failed"; }
    rm -f "$build.setup.log"
fi
# The paths compiled into the programs are these options': check them.
have=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o["prefix"], o["sysconfdir"], o["localstatedir"])')
[ "$have" = "/usr /etc /var" ] ||
    die "$build has prefix, sysconfdir, localstatedir '$have', not '/usr /etc /var': meson configure $build -Dprefix=/usr -Dsysconfdir=/etc -Dlocalstatedir=/var, or give another directory"
mkdir -p "$work"
# Only what is installed (the tests are not built here): the programs,
# the web bundle and the documents written from the tables.
meson compile -C "$build" src/daemon/virtd src/vsh/vsh src/image/virtd-install-media \
    web/web-dist data/virtd.8 data/virtd.conf data/vsh.1 data/vsh-bash-completion \
    >"$work/compile.log" || { tail -40 "$work/compile.log" >&2; die "build failed"; }
rm -rf "$root"
meson install -C "$build" --no-rebuild --strip --destdir "$root" >"$work/install.log" ||
    { cat "$work/install.log" >&2; die "meson install failed"; }

version=$(meson introspect "$build" --projectinfo |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
arch=$(dpkg --print-architecture)

# Debian's layout: compressed man pages, a copyright file.
find "$root/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +
mkdir -p "$root/usr/share/doc/virtd"
cat >"$root/usr/share/doc/virtd/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: virtd

Files: *
License: LGPL-2.1-or-later
 On Debian systems the full text is in /usr/share/common-licenses/LGPL-2.1.
COPY
for f in README.md docs/install.md; do
    gzip -9nc "$src/$f" >"$root/usr/share/doc/virtd/$(basename "$f").gz"
done

# The libraries the ELF files link, with the versions they need.
elfs=$(cd "$work" && find debian/virtd/usr -type f -perm -u+x -exec sh -c \
    'head -c 4 "$1" | grep -q "ELF" && echo "$1"' sh {} \;)
printf 'Source: virtd\n\nPackage: virtd\nArchitecture: any\n' >"$work/debian/control"
mkdir -p "$root/DEBIAN" # how dpkg-shlibdeps knows the package's root
shlibs=$(cd "$work" && dpkg-shlibdeps -O $(for e in $elfs; do printf ' -e%s' "$e"; done) |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no libraries"
# Loaded with dlopen() at their first use, so not in the ELF files' needs:
# nftables and netlink (networks), PAM (web console logins), GIO's TLS
# module (glib-networking: --listen tls://, --web, vsh -c tls://,
# migrations). Run as programs: QEMU and qemu-img, dnsmasq (networks),
# adduser (postinst).
extra="libnftables1, libnl-3-200, libnl-route-3-200, libpam0g, glib-networking,
 qemu-system-x86, qemu-utils, dnsmasq-base, adduser"

mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CTRL
Package: virtd
Version: $version
Architecture: $arch
Maintainer: virtd developers <virtd@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $shlibs, $(echo $extra)
Recommends: ovmf, swtpm, swtpm-tools, openssh-client, gnutls-bin
Suggests: mmdebstrap, fdisk, e2fsprogs, grub-pc-bin, grub-common, bash-completion
Section: admin
Priority: optional
Description: light KVM/QEMU manager: the virtd daemon and the vsh command line
 virtd holds libvirt-style domain definitions, starts and supervises one
 QEMU per virtual machine, manages storage pools and virtual networks and
 serves an HTTP/JSON API on a UNIX socket and a web console; vsh is its
 command line, with virsh's commands and output shapes.
CTRL
# Files under /etc are the administrator's: dpkg keeps their changes.
(cd "$root" && find etc -type f | sed 's|^|/|' | sort) >"$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do
    install -m 0755 "$src/scripts/deb/$s" "$root/DEBIAN/$s"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort |
    xargs md5sum) >"$root/DEBIAN/md5sums"

mkdir -p "$dist"
deb=$dist/virtd_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb.part" >/dev/null
mv "$deb.part" "$deb"
echo "$deb"
