#!/bin/sh
# Builds the fast test guest (docs: tests/guest/README.md):
#   OUTDIR/vmlinuz     copy of the host's newest Debian kernel (/boot/vmlinuz-*)
#   OUTDIR/initrd.img  gzip'd newc cpio: busybox-static, /init (tests/guest/init)
#                      and the kernel modules for virtio, ACPI button, evdev,
#                      ATA/AHCI/SCSI disks and cdroms, e1000/e1000e/rtl8139
#                      NICs; /etc/udhcpc.script for virtd.net=dhcp.
#   OUTDIR/vmlinux     the same kernel uncompressed (QEMU boots it through
#                      its PVH entry point, skipping SeaBIOS's kernel loader
#                      and the decompressor); absent if it cannot be extracted.
#   OUTDIR/kernel-version
# Idempotent and cached: does nothing when OUTDIR/.stamp is newer than every
# input (this script, init, the kernel, modules.dep, busybox).
#
# Usage: build-guest.sh OUTDIR
# Environment: GUEST_KVER=6.1.0-56-amd64 picks a kernel other than the newest.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
OUTDIR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
INIT="$HERE/init"

# The newest kernel that has both an image in /boot and its modules.
KVER=${GUEST_KVER:-}
if [ -z "$KVER" ]; then
    for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V -r); do
        if [ -f "/lib/modules/$k/modules.dep" ]; then
            KVER=$k
            break
        fi
    done
fi
if [ -z "$KVER" ] || [ ! -f "/boot/vmlinuz-$KVER" ]; then
    echo "build-guest: no kernel in /boot with modules in /lib/modules (apt-get install linux-image-amd64)" >&2
    exit 1
fi
KERNEL=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER

# busybox-static's binary (Debian installs it as /bin/busybox).
BUSYBOX=
if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
    BUSYBOX=$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n 1)
fi
[ -n "$BUSYBOX" ] || BUSYBOX=/bin/busybox
if [ ! -x "$BUSYBOX" ]; then
    echo "build-guest: no static busybox (apt-get install busybox-static)" >&2
    exit 1
fi
for tool in cpio gzip; do
    command -v $tool >/dev/null 2>&1 || { echo "build-guest: $tool is missing" >&2; exit 1; }
done

# Cache check.
STAMP="$OUTDIR/.stamp"
if [ -f "$STAMP" ] && [ -f "$OUTDIR/vmlinuz" ] && [ -f "$OUTDIR/initrd.img" ] \
   && [ "$(cat "$OUTDIR/kernel-version" 2>/dev/null)" = "$KVER" ]; then
    stale=
    for f in "$0" "$INIT" "$KERNEL" "$MODDIR/modules.dep" "$BUSYBOX"; do
        if [ "$f" -nt "$STAMP" ]; then stale=1; fi
    done
    if [ -z "$stale" ]; then
        exit 0
    fi
fi

# Modules wanted; their dependencies come from modules.dep.
WANT="virtio_pci virtio_blk virtio_net virtio_console virtio_balloon virtio-rng
virtio_scsi virtio_input virtio_mem
button evdev pvpanic_mmio i6300esb qemu_fw_cfg
e1000 e1000e 8139cp 8139too
libata ahci ata_piix ata_generic scsi_mod sd_mod sr_mod cdrom"

mkdir -p "$OUTDIR"
WORK=$(mktemp -d "$OUTDIR/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
ROOT="$WORK/root"
mkdir -p "$ROOT/bin" "$ROOT/sbin" "$ROOT/usr/bin" "$ROOT/usr/sbin" "$ROOT/etc" \
    "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/tmp" "$ROOT/run" "$ROOT/root" \
    "$ROOT/var/log" "$ROOT/var/run" "$ROOT/lib/modules/$KVER"

cp "$BUSYBOX" "$ROOT/bin/busybox"
# The few links /init needs before 'busybox --install -s' has run.
ln -s busybox "$ROOT/bin/sh"

# Resolve the load order: depth-first over modules.dep, dependencies first.
awk -v want="$WANT" -v moddir="$MODDIR" '
    function base(p) { sub(/^.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); gsub(/-/, "_", p); return p }
    function visit(m,   n, i, d) {
        if (m in done) return
        if (!(m in path)) { missing[m] = 1; return }
        done[m] = 1
        n = split(deps[m], d, " ")
        for (i = 1; i <= n; i++) visit(base(d[i]))
        order[++count] = path[m]
    }
    {
        p = $1; sub(/:$/, "", p)
        m = base(p)
        path[m] = p
        $1 = ""
        deps[m] = $0
    }
    END {
        n = split(want, w, /[ \n]+/)
        for (i = 1; i <= n; i++) if (w[i] != "") visit(base(w[i]))
        for (i = 1; i <= count; i++) print order[i]
        for (m in missing) print "build-guest: note: " m " is not a module (built in or absent)" > "/dev/stderr"
    }' "$MODDIR/modules.dep" > "$WORK/modules.order"

: > "$ROOT/etc/modules"
while read -r rel; do
    src="$MODDIR/$rel"
    name=$(basename "$rel")
    case "$name" in
    *.ko.xz)  xz -dc "$src" > "$ROOT/lib/modules/$KVER/${name%.xz}"; name=${name%.xz} ;;
    *.ko.zst) zstd -qdc "$src" > "$ROOT/lib/modules/$KVER/${name%.zst}"; name=${name%.zst} ;;
    *.ko.gz)  gzip -dc "$src" > "$ROOT/lib/modules/$KVER/${name%.gz}"; name=${name%.gz} ;;
    *)        cp "$src" "$ROOT/lib/modules/$KVER/$name" ;;
    esac
    echo "/lib/modules/$KVER/$name" >> "$ROOT/etc/modules"
done < "$WORK/modules.order"

install -m 0755 "$INIT" "$ROOT/init"

# ACPI power button: busybox acpid maps the event to /etc/acpi/PWRF/00000080
# (evdev input) and, for the textual /proc/acpi/event form, to
# /etc/acpi/button/power; both power off at once.
mkdir -p "$ROOT/etc/acpi/PWRF" "$ROOT/etc/acpi/button"
cat > "$ROOT/etc/acpi/poweroff.sh" <<'SH'
#!/bin/sh
echo "VIRTD-GUEST-POWERBUTTON" > /dev/console
sync
poweroff -f
SH
chmod 0755 "$ROOT/etc/acpi/poweroff.sh"
cp "$ROOT/etc/acpi/poweroff.sh" "$ROOT/etc/acpi/PWRF/00000080"
cp "$ROOT/etc/acpi/poweroff.sh" "$ROOT/etc/acpi/button/power"
printf 'PWRF PWRF/00000080\n' > "$ROOT/etc/acpid.conf"

# busybox udhcpc's event script (given with -s by /init). $mask is the
# prefix length in busybox's udhcpc; $router and $dns may hold several.
cat > "$ROOT/etc/udhcpc.script" <<'SH'
#!/bin/sh
# udhcpc event script of the test guest: configures $interface and prints
# one VIRTD-GUEST-NET line per lease bound (or renewed to another address).
state=/run/udhcpc.$interface.lease
case "$1" in
deconfig)
    ip -4 addr flush dev "$interface" 2>/dev/null
    ip link set "$interface" up 2>/dev/null
    rm -f "$state"
    ;;
bound|renew)
    new="$ip/${mask:-24}"
    old=$(cat "$state" 2>/dev/null)
    if [ "$old" != "$new" ]; then
        ip -4 addr flush dev "$interface"
        ip addr add "$new" broadcast "${broadcast:-+}" dev "$interface"
    fi
    gw=
    for r in $router; do gw=$r; break; done
    if [ -n "$gw" ]; then
        # The first interface with a router keeps the default route.
        ip route add default via "$gw" dev "$interface" 2>/dev/null
    fi
    if [ -n "$dns" ]; then
        {
            [ -n "$domain" ] && echo "search $domain"
            for d in $dns; do echo "nameserver $d"; done
        } > /etc/resolv.conf
    fi
    if [ "$old" != "$new" ]; then
        echo "$new" > "$state"
        mac=$(cat "/sys/class/net/$interface/address")
        echo "VIRTD-GUEST-NET $interface mac=$mac ip=$new router=$gw" > /dev/console
    fi
    ;;
esac
exit 0
SH
chmod 0755 "$ROOT/etc/udhcpc.script"
# The TCP sink's per-connection program (nc -ll -p 5001 -e /bin/sink).
printf '#!/bin/sh\nexec cat > /dev/null\n' > "$ROOT/bin/sink"
chmod 0755 "$ROOT/bin/sink"
# Static glibc (busybox-static) resolves names with its built-in files and
# dns modules.
echo 'hosts: files dns' > "$ROOT/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' > "$ROOT/etc/hosts"

echo 'root:x:0:0:root:/root:/bin/sh' > "$ROOT/etc/passwd"
echo 'root:x:0:' > "$ROOT/etc/group"
echo "virtd-guest" > "$ROOT/etc/hostname"
echo "$KVER" > "$ROOT/etc/kernel-version"

# Reproducible-ish archive: fixed mtimes, sorted names.
find "$ROOT" -exec touch -h -d @0 {} + 2>/dev/null || true
(cd "$ROOT" && find . -print | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) \
    | gzip -6 -n > "$WORK/initrd.img"

cp "$KERNEL" "$WORK/vmlinuz"

# Uncompressed ELF vmlinux for PVH boot: find the compressed payload inside
# the bzImage (as the kernel's scripts/extract-vmlinux does) and decompress it.
if command -v python3 >/dev/null 2>&1; then
    python3 - "$WORK/vmlinuz" "$WORK/vmlinux" <<'PY' || rm -f "$WORK/vmlinux"
import gzip, lzma, sys, zlib
data = open(sys.argv[1], 'rb').read()
def try_xz(off):
    d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    return d.decompress(data[off:])
def try_gz(off):
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[off:])
def try_zstd(off):
    raise ValueError('zstd not supported')
magics = [(b'\xfd7zXZ\x00', try_xz), (b'\x1f\x8b\x08', try_gz)]
for magic, fn in magics:
    off = data.find(magic)
    while off >= 0:
        try:
            out = fn(off)
            if out[:4] == b'\x7fELF':
                open(sys.argv[2], 'wb').write(out)
                sys.exit(0)
        except Exception:
            pass
        off = data.find(magic, off + 1)
sys.exit(1)
PY
fi

# Publish: rename each file into place (a concurrent reader never sees a
# half-written file), then the stamp.
for f in vmlinuz initrd.img vmlinux; do
    if [ -f "$WORK/$f" ]; then
        mv -f "$WORK/$f" "$OUTDIR/$f"
    else
        rm -f "$OUTDIR/$f"
    fi
done
echo "$KVER" > "$OUTDIR/kernel-version.tmp" && mv -f "$OUTDIR/kernel-version.tmp" "$OUTDIR/kernel-version"
touch "$STAMP"
echo "build-guest: $OUTDIR ready (kernel $KVER, $(wc -l < "$WORK/modules.order") modules)"
