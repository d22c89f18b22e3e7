#!/bin/sh
# Installs the Debian packages virtd needs to build, run and test.
# Idempotent: a no-op when everything is present.
set -e
PKGS="build-essential meson ninja-build pkg-config
libglib2.0-dev libjson-glib-dev libsoup-3.0-dev libxml2-dev libreadline-dev
liblzma-dev zlib1g-dev libzstd-dev liblz4-dev
qemu-system-x86 qemu-utils
linux-image-amd64 busybox-static cpio
socat curl python3 openssl
libarchive-dev
mmdebstrap mtools dosfstools fdisk e2fsprogs grub-pc-bin grub-common
debian-installer-12-netboot-amd64 grub-rescue-pc
xorriso
dnsmasq-base nftables libnftables-dev libnl-3-dev libnl-route-3-dev iproute2
swtpm swtpm-tools ovmf"
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
