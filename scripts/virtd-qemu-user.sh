#!/bin/sh
# Creates the system user QEMU runs as under virtd (docs/security.md), if it
# is missing: what the daemon does itself on its first start as root
# (src/daemon/domain/qemu-confine.c, vd_confine_ensure_user), for the install
# step (a Debian package's postinst: `scripts/virtd-qemu-user.sh`).
# Usage: virtd-qemu-user.sh [USER]   (default virtd-qemu)
set -eu
user=${1:-virtd-qemu}
if getent passwd "$user" >/dev/null; then
    exit 0
fi
useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "virtd QEMU processes" "$user"
# KVM guests need /dev/kvm (root:kvm 0660 on Debian); the daemon also adds
# the group when QEMU starts, this makes it visible to administrators.
if getent group kvm >/dev/null; then
    usermod -a -G kvm "$user"
fi
