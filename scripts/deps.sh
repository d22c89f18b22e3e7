#!/bin/sh
# Installs the Debian packages virtd needs to build, run and test.
# Idempotent: a no-op when everything is present.
set -e
PKGS="build-essential meson ninja-build pkg-config dpkg-dev
libglib2.0-dev libjson-glib-dev libsoup-3.0-dev libxml2-dev libreadline-dev
liblzma-dev zlib1g-dev libzstd-dev liblz4-dev
qemu-system-x86 qemu-utils
linux-image-amd64 busybox-static cpio
socat curl python3 openssl
python3-prometheus-client
glib-networking gnutls-bin
libarchive-dev
mmdebstrap mtools dosfstools fdisk e2fsprogs grub-pc-bin grub-common
debian-installer-12-netboot-amd64 grub-rescue-pc
xorriso
dnsmasq-base nftables libnftables-dev libnl-3-dev libnl-route-3-dev iproute2
swtpm swtpm-tools ovmf
openssh-server openssh-client
libpam0g-dev ccache
clang libclang-rt-14-dev
nodejs chromium fonts-dejavu-core"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps: installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends $missing
fi
# npm: Debian's package, unless the installed nodejs brings its own (a
# nodejs that bundles npm conflicts with Debian's npm package).
if ! command -v npm >/dev/null 2>&1; then
  echo "deps: installing: npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends npm
fi
# The web front end's packages (web/package-lock.json), from the npm
# registry. Skipped when web/node_modules was installed from this very lock
# file, so a machine without the network still builds.
web="$(dirname "$0")/../web"
if [ -f "$web/package-lock.json" ]; then
  want="$(sha256sum < "$web/package-lock.json")"
  have="$(cat "$web/node_modules/.virtd-lock-sha256" 2>/dev/null || true)"
  if [ "$want" != "$have" ]; then
    echo "deps: npm ci in web/"
    (cd "$web" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    echo "$want" > "$web/node_modules/.virtd-lock-sha256"
  fi
fi
