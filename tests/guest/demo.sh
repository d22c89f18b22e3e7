#!/bin/bash
# The demo: from a fresh Debian 12 checkout to a guest's console in one
# command.
#
#   ./tests/guest/demo.sh          (as root)
#
# Installs the dependencies, builds virtd and vsh, builds the fast test
# guest (the host's kernel + a busybox initramfs), starts
# `virtd --root /tmp/virtd-demo` in the background, defines the domain
# 'demo' and runs `vsh start demo --console`: you watch it boot and get a
# root shell in the guest. Ctrl+] detaches; the guest keeps running.
#
# The daemon also serves the web console (virtd --web, docs/web.md) on
# https://127.0.0.1:8443/ (a self-signed certificate made on first start;
# log in with a host account, e.g. root and its password).
#
# Environment: VIRTD_DEMO_ROOT (default /tmp/virtd-demo), VIRTD_DEMO_WEB
# (the web console's ADDR:PORT, default 127.0.0.1:8443; 0.0.0.0:8443 to
# reach it from another machine; 'off' for none).
set -euo pipefail

cd "$(dirname "$0")/../.."
SRC=$(pwd)
ROOT=${VIRTD_DEMO_ROOT:-/tmp/virtd-demo}
BUILD=$SRC/build
VIRTD=$BUILD/src/daemon/virtd
VSH=$BUILD/src/vsh/vsh
GUEST=$BUILD/guest
URI=unix://$ROOT/virtd.sock
WEB=${VIRTD_DEMO_WEB:-127.0.0.1:8443}
WEB_ARGS=()
[ "$WEB" = off ] || WEB_ARGS=(--web "$WEB")

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
    echo "demo: run as root: it installs Debian packages, makes bridges and runs QEMU" >&2
    exit 1
fi

say "Dependencies (scripts/deps.sh)"
./scripts/deps.sh

say "Build (meson + ninja)"
if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" >/dev/null
fi
meson compile -C "$BUILD" >/dev/null

say "Test guest (host kernel + busybox initramfs) in $GUEST"
./tests/guest/build-guest.sh "$GUEST"
KERNEL=$GUEST/vmlinux
[ -f "$KERNEL" ] || KERNEL=$GUEST/vmlinuz

mkdir -p "$ROOT/images"
vsh() { "$VSH" -c "$URI" "$@"; }

if vsh list >/dev/null 2>&1; then
    say "virtd already running on $ROOT/virtd.sock"
else
    say "Starting virtd --root $ROOT ${WEB_ARGS[*]} (log: $ROOT/virtd.log)"
    nohup "$VIRTD" --root "$ROOT" "${WEB_ARGS[@]}" >>"$ROOT/virtd.log" 2>&1 </dev/null &
    echo $! > "$ROOT/demo-virtd.pid"
    for _ in $(seq 150); do
        vsh list >/dev/null 2>&1 && break
        sleep 0.1
    done
    vsh list >/dev/null || { echo "demo: virtd did not start; see $ROOT/virtd.log" >&2; exit 1; }
fi

# The guest joins the daemon's NAT network 'default' (made on its first
# start) and asks for a lease; user-mode networking if that network is
# not there.
if vsh net-info default 2>/dev/null | grep -q '^Active: *yes'; then
    NIC="<interface type='network'><source network='default'/><model type='virtio'/></interface>"
else
    NIC="<interface type='user'><model type='virtio'/></interface>"
fi

if [ ! -f "$ROOT/images/demo.qcow2" ]; then
    qemu-img create -q -f qcow2 "$ROOT/images/demo.qcow2" 1G
fi

cat > "$ROOT/demo.xml" <<XML
<domain type='qemu'>
  <name>demo</name>
  <title>virtd demo: host kernel + busybox</title>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$KERNEL</kernel>
    <initrd>$GUEST/initrd.img</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet no_timer_check tsc=reliable cryptomgr.notests i8042.noaux random.trust_cpu=on virtd.status=30 virtd.net=dhcp virtd.hostname=demo</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$ROOT/images/demo.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    $NIC
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <video><model type='vga'/></video>
  </devices>
</domain>
XML

state=$(vsh domstate demo 2>/dev/null || true)
if [ -z "$state" ]; then
    vsh define "$ROOT/demo.xml"
    state="shut off"
fi

cat <<EOF

  The guest boots under TCG in a few seconds; wait for the line
  VIRTD-GUEST-READY, then you have a root shell in it (try: cat /proc/cpuinfo).
  Detach with Ctrl+]  (the guest keeps running).
EOF
if [ "$WEB" != off ]; then
    cat <<EOF
  The web console: https://$WEB/ (a self-signed certificate; its SHA-256
  fingerprint is in $ROOT/virtd.log); log in as root with root's password.
EOF
fi
echo

if [ "$state" = "running" ] || [ "$state" = "paused" ]; then
    [ "$state" = "paused" ] && vsh resume demo
    vsh console demo || true
else
    vsh start demo --console || true
fi

cat <<EOF

  Detached. The guest 'demo' is still running under virtd --root $ROOT:

    $VSH -c $URI list --all
    $VSH -c $URI domifaddr demo    # its address on the network 'default'
    $VSH -c $URI console demo      # attach again (Ctrl+] to detach)
    $VSH -c $URI shutdown demo     # ACPI power button
    $VSH -c $URI destroy demo      # pull the plug
    $VSH -c $URI net-destroy default   # the bridge, NAT rules and dnsmasq go
    kill \$(cat $ROOT/demo-virtd.pid)   # stop the daemon (guests and networks keep running)

  Or: export VSH_DEFAULT_URI=$URI and drop the -c.
EOF
if [ "$WEB" != off ]; then
    echo "  The web console: https://$WEB/ (docs/web.md, docs/web-ui.md)."
fi
