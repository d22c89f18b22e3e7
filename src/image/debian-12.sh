#!/bin/sh
# debian-12: a bootable Debian 12 (bookworm) disk image, made without
# mounting anything (docs/images.md).
#
# Driven by `vsh image build debian-12` (src/vsh/vsh-image.c), which checks
# the arguments, owns --workdir and removes it and any *.part file when the
# build fails or is interrupted. Usable by hand as well:
#
#   debian-12.sh --output OUT --size BYTES [--format qcow2|raw]
#                [--hostname H] [--root-password-file F] [--ssh-key F]
#                [--packages a,b] [--cache DIR] [--workdir DIR]
#
# Protocol on stdout (everything else, mmdebstrap's progress included, goes
# to stderr):
#   @@step N/M TEXT     a step starts
#   @@info KEY VALUE    a fact about the result (kernel, initrd, cmdline, ...)
#   @@warn TEXT         something the user should know
#
# How the disk is made: mmdebstrap builds the root tree in a directory;
# mkfs.ext4 -d copies it into an ext4 file system written straight into the
# disk image at the partition's offset (-E offset=); sfdisk writes the MBR
# partition table; GRUB's boot.img goes into the MBR and a core.img made by
# grub-mkimage (with an early config that finds the root by UUID) into the
# gap between the MBR and the partition at 1 MiB. No loop device, no mount.
set -eu

# Bump when the base tree changes in a way the cache key cannot see.
RECIPE_VERSION=3
SUITE=bookworm
STEPS=7
# What every image has: a kernel that boots anywhere (initramfs with
# MODULES=most), systemd with networkd/resolved for DHCP and DNS, the guest
# agent, and what the first-boot root resize needs (sfdisk, partx, resize2fs).
BASE_PACKAGES="linux-image-amd64 initramfs-tools zstd systemd-sysv systemd-resolved udev dbus
qemu-guest-agent e2fsprogs fdisk iproute2"
GRUB_DIR=/usr/lib/grub/i386-pc
PART_OFFSET=1048576 # the partition starts at 1 MiB; core.img lives before it

OUTPUT=
SIZE=
FORMAT=qcow2
HOST_NAME=debian
PASSWORD_FILE=
SSH_KEY=
PACKAGES=
CACHE=
WORKDIR=
OWN_WORKDIR=

step_no=0
step() {
    step_no=$((step_no + 1))
    echo "@@step $step_no/$STEPS $*"
}
info() { echo "@@info $*"; }
warn() { echo "@@warn $*"; }
die() {
    echo "debian-12: $*" >&2
    exit 1
}

need_arg() {
    [ $# -ge 2 ] || die "option $1 needs a value"
}

while [ $# -gt 0 ]; do
    case "$1" in
    --output) need_arg "$@"; OUTPUT=$2; shift 2 ;;
    --size) need_arg "$@"; SIZE=$2; shift 2 ;;
    --format) need_arg "$@"; FORMAT=$2; shift 2 ;;
    --hostname) need_arg "$@"; HOST_NAME=$2; shift 2 ;;
    --root-password-file) need_arg "$@"; PASSWORD_FILE=$2; shift 2 ;;
    --ssh-key) need_arg "$@"; SSH_KEY=$2; shift 2 ;;
    --packages) need_arg "$@"; PACKAGES=$2; shift 2 ;;
    --cache) need_arg "$@"; CACHE=$2; shift 2 ;;
    --workdir) need_arg "$@"; WORKDIR=$2; shift 2 ;;
    *) die "unknown argument '$1'" ;;
    esac
done

[ -n "$OUTPUT" ] || die "--output is required"
case "$SIZE" in
'' | *[!0-9]*) die "--size must be a number of bytes, got '$SIZE'" ;;
esac
case "$FORMAT" in
qcow2 | raw) ;;
*) die "unknown --format '$FORMAT' (qcow2 or raw)" ;;
esac
# The disk is whole MiBs so that the partition ends on the last sector.
SIZE=$((SIZE / 1048576 * 1048576))
[ "$SIZE" -ge $((1024 * 1048576)) ] || die "--size must be at least 1G"

if [ -z "$WORKDIR" ]; then
    WORKDIR=$(mktemp -d "${TMPDIR:-/var/tmp}/debian-12.XXXXXX")
    OWN_WORKDIR=1
fi

cleanup() {
    status=$?
    if [ "$status" -ne 0 ]; then
        rm -f "$OUTPUT.part" "$OUTPUT.vmlinuz.part" "$OUTPUT.initrd.part" "$OUTPUT.cmdline.part"
    fi
    if [ -n "$OWN_WORKDIR" ]; then
        rm -rf --one-file-system "$WORKDIR"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# mmdebstrap's temporary chroot goes under the work dir too, so that one
# removal cleans everything.
export TMPDIR="$WORKDIR"
ROOT=$WORKDIR/root

# ---------------------------------------------------------------------------
step "Checking the tools"

check_tool() { # TOOL PACKAGE
    command -v "$1" >/dev/null 2>&1 ||
        die "missing $1: install the Debian package $2 (scripts/deps.sh installs everything)"
}
check_tool mmdebstrap mmdebstrap
check_tool sfdisk fdisk
check_tool mkfs.ext4 e2fsprogs
check_tool grub-mkimage grub-common
check_tool chpasswd passwd
check_tool systemctl systemd
[ "$FORMAT" = raw ] || check_tool qemu-img qemu-utils
[ -f "$GRUB_DIR/boot.img" ] || die "missing $GRUB_DIR/boot.img: install the Debian package grub-pc-bin"
[ "$(id -u)" = 0 ] || die "must run as root (files in the image are owned by root and other users)"

# The package list, sorted and without duplicates: it keys the cache.
pkgs="$BASE_PACKAGES $(echo "$PACKAGES" | tr ',' ' ')"
[ -z "$SSH_KEY" ] || pkgs="$pkgs openssh-server"
pkgs=$(printf '%s\n' $pkgs | sort -u | tr '\n' ',' | sed 's/,$//')
info packages "$pkgs"

# ---------------------------------------------------------------------------
# mmdebstrap in unshare mode: as root it keeps the real owners but runs in
# its own mount namespace, so the /proc and /dev it mounts for the
# maintainer scripts are never visible on the host and cannot be left
# behind.
#
# FSTYPE=ext4, set before the kernel is installed, puts fsck.ext4 into the
# initramfs: its hook would otherwise look for the root device on the
# build host, find none and leave fsck out.
debootstrap_to() { # TARGET (a directory or a .tar)
    mmdebstrap --mode=unshare --variant=minbase --include="$pkgs" \
        --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" &&
            echo FSTYPE=ext4 >"$1/etc/initramfs-tools/conf.d/virtd-root-fstype"' \
        "$SUITE" "$1" >&2
}

if [ -n "$CACHE" ]; then
    key=$(printf '%s\n' "$RECIPE_VERSION" "$SUITE" minbase "$pkgs" | sha256sum | cut -c1-16)
    tarball=$CACHE/debian-12-$key.tar
    if [ -f "$tarball" ]; then
        step "Unpacking the cached root file system ($tarball)"
    else
        step "Installing Debian packages with mmdebstrap (cached as $tarball)"
        mkdir -p "$CACHE"
        debootstrap_to "$WORKDIR/base.tar"
        # Into the cache only once complete: a half tarball is never reused.
        mv "$WORKDIR/base.tar" "$tarball.part"
        mv "$tarball.part" "$tarball"
    fi
    mkdir "$ROOT"
    tar -C "$ROOT" --numeric-owner --xattrs --xattrs-include='*' -xpf "$tarball"
else
    step "Installing Debian packages with mmdebstrap"
    debootstrap_to "$ROOT"
fi

# ---------------------------------------------------------------------------
step "Configuring the guest"

ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
KVER=$(ls "$ROOT/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -n 1)
[ -n "$KVER" ] || die "no kernel in $ROOT/boot: did linux-image-amd64 install?"
# GRUB's line sets the serial speed GRUB itself uses, for real serial
# lines. The line for direct kernel boot (always a VM, whose emulated UART
# has no speed) has no comma, so it fits in a --boot kernel_args= value,
# whose parsers split at commas.
GRUB_CMDLINE="root=UUID=$ROOT_UUID ro console=tty0 console=ttyS0,115200n8"
CMDLINE="root=UUID=$ROOT_UUID ro console=tty0 console=ttyS0"

echo "$HOST_NAME" >"$ROOT/etc/hostname"
cat >"$ROOT/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	$HOST_NAME
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF

# Empty, not absent: systemd makes a new id on the first boot of every copy
# of the image and commits it once / is writable.
: >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id"

cat >"$ROOT/etc/fstab" <<EOF
# <file system>	<mount point>	<type>	<options>	<dump>	<pass>
UUID=$ROOT_UUID	/	ext4	errors=remount-ro	0	1
EOF

# DHCP on whatever the first NIC is called (enp0s3, ens3, eth0, ...).
mkdir -p "$ROOT/etc/systemd/network"
cat >"$ROOT/etc/systemd/network/20-wired.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=yes
EOF
ln -sf ../run/systemd/resolve/stub-resolv.conf "$ROOT/etc/resolv.conf"

# First boot (and any later one after the disk was enlarged): grow the root
# partition and file system to the end of the disk.
cat >"$ROOT/usr/local/sbin/virtd-growroot" <<'EOF'
#!/bin/sh
# Grows the root partition and its ext4 file system to the end of the disk.
set -eu
part=$(findmnt -n -o SOURCE /)
name=${part#/dev/}
disk=$(lsblk -n -d -o PKNAME "$part")
[ -n "$disk" ] || exit 0
num=$(cat "/sys/class/block/$name/partition")
start=$(cat "/sys/class/block/$name/start")
size=$(cat "/sys/class/block/$name/size")
total=$(cat "/sys/class/block/$disk/size")
# Nothing to do unless at least 1 MiB is free after the partition.
[ $((total - start - size)) -ge 2048 ] || exit 0
echo ", +" | sfdisk -q --no-reread -N "$num" "/dev/$disk"
partx -u -n "$num" "/dev/$disk"
resize2fs "$part"
EOF
chmod 755 "$ROOT/usr/local/sbin/virtd-growroot"
cat >"$ROOT/etc/systemd/system/virtd-growroot.service" <<'EOF'
[Unit]
Description=Grow the root file system to the size of the disk
After=local-fs.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/virtd-growroot

[Install]
WantedBy=multi-user.target
EOF

# Offline enabling: systemctl --root only makes links in the image. (The
# guest agent needs none: udev starts it when its virtio port appears.)
systemctl --root="$ROOT" --quiet enable systemd-networkd.service systemd-resolved.service \
    serial-getty@ttyS0.service virtd-growroot.service >&2

if [ -n "$PASSWORD_FILE" ]; then
    # chpasswd hashes with the guest's own settings (yescrypt); -R chroots
    # for the files only, it runs nothing inside.
    password=$(head -n 1 "$PASSWORD_FILE")
    printf 'root:%s\n' "$password" | chpasswd -R "$ROOT"
    info root_password set
elif [ -n "$SSH_KEY" ]; then
    passwd -R "$ROOT" -q -l root
    info root_password locked
else
    passwd -R "$ROOT" -q -d root
    info root_password none
    warn "root has no password: anyone at the console logs in as root; use --root-password or --ssh-key"
fi

if [ -n "$SSH_KEY" ]; then
    install -d -m 700 "$ROOT/root/.ssh"
    install -m 600 "$SSH_KEY" "$ROOT/root/.ssh/authorized_keys"
    # Host keys made at build time would be shared by every copy of the
    # image (and by every image from the cache): make them on first boot.
    rm -f "$ROOT"/etc/ssh/ssh_host_*
    mkdir -p "$ROOT/etc/systemd/system/ssh.service.d"
    # The list is reset so that the keys exist before Debian's own check
    # (sshd -t), which fails without them.
    cat >"$ROOT/etc/systemd/system/ssh.service.d/virtd-host-keys.conf" <<'EOF'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
EOF
fi

# GRUB's menu, read by the core.img in the disk's boot gap. It boots the
# /vmlinuz and /initrd.img links, which Debian moves on every kernel
# upgrade, so the guest updates its kernel without a GRUB install of its own.
mkdir -p "$ROOT/boot/grub/i386-pc"
cp "$GRUB_DIR"/*.mod "$GRUB_DIR"/*.lst "$ROOT/boot/grub/i386-pc/"
cat >"$ROOT/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
set default=0

menuentry 'Debian GNU/Linux 12' {
	search --no-floppy --fs-uuid --set=root $ROOT_UUID
	linux /vmlinuz $GRUB_CMDLINE
	initrd /initrd.img
}
EOF

# Out of the image before the file system is made: the disk is cleaner
# without them and the kernel files are written next to the image.
cp "$ROOT/boot/vmlinuz-$KVER" "$OUTPUT.vmlinuz.part"
cp "$ROOT/boot/initrd.img-$KVER" "$OUTPUT.initrd.part"

# ---------------------------------------------------------------------------
step "Partitioning and making the root file system (mkfs.ext4 -d)"

if [ "$FORMAT" = raw ]; then
    DISK=$OUTPUT.part
else
    DISK=$WORKDIR/disk.raw
fi
rm -f "$DISK"
truncate -s "$SIZE" "$DISK"
# One bootable Linux partition from 1 MiB to the end of the disk.
printf 'label: dos\nunit: sectors\n\nstart=%d, type=83, bootable\n' $((PART_OFFSET / 512)) |
    sfdisk -q --no-reread --no-tell-kernel "$DISK" >&2
# The file system fills the partition: a guest whose disk is this size
# needs no resize; virtd-growroot handles a disk enlarged later.
fs_kib=$(((SIZE - PART_OFFSET) / 1024))
mkfs.ext4 -q -F -L debian-root -U "$ROOT_UUID" -d "$ROOT" \
    -E "offset=$PART_OFFSET" "$DISK" "${fs_kib}k" >&2

# ---------------------------------------------------------------------------
step "Installing the GRUB boot loader"

cat >"$WORKDIR/early.cfg" <<EOF
search --no-floppy --fs-uuid --set=root $ROOT_UUID
set prefix=(\$root)/boot/grub
EOF
# Everything GRUB needs up to reading grub.cfg is inside core.img, so it
# does not depend on the module directory's version matching.
grub-mkimage -O i386-pc -d "$GRUB_DIR" -c "$WORKDIR/early.cfg" -p /boot/grub \
    -o "$WORKDIR/core.img" \
    biosdisk part_msdos ext2 search search_fs_uuid normal configfile linux \
    serial terminal echo test gzio boot minicmd
core_size=$(stat -c %s "$WORKDIR/core.img")
[ "$core_size" -le $((PART_OFFSET - 512)) ] ||
    die "core.img is $core_size bytes, more than the gap before the partition"
# boot.img's code (440 bytes: the disk signature and partition table after
# it stay) loads the sector its kernel_sector field names, 1 by default;
# that is diskboot.img, core.img's first sector, whose block list by default
# reads the rest of core.img from sector 2 on. Placed there, no field needs
# patching, which is what grub-bios-setup would do on a real disk.
dd if="$GRUB_DIR/boot.img" of="$DISK" bs=440 count=1 conv=notrunc status=none
dd if="$WORKDIR/core.img" of="$DISK" bs=512 seek=1 conv=notrunc status=none

# ---------------------------------------------------------------------------
if [ "$FORMAT" = qcow2 ]; then
    step "Writing the qcow2 image"
    qemu-img convert -f raw -O qcow2 "$DISK" "$OUTPUT.part"
    rm -f "$DISK"
else
    step "Writing the raw image"
fi

# ---------------------------------------------------------------------------
step "Writing the kernel and initrd for direct kernel boot"

echo "$CMDLINE" >"$OUTPUT.cmdline.part"
mv "$OUTPUT.cmdline.part" "$OUTPUT.cmdline"
mv "$OUTPUT.vmlinuz.part" "$OUTPUT.vmlinuz"
mv "$OUTPUT.initrd.part" "$OUTPUT.initrd"
mv "$OUTPUT.part" "$OUTPUT"
info image "$OUTPUT"
info format "$FORMAT"
info size "$SIZE"
info kernel "$OUTPUT.vmlinuz"
info initrd "$OUTPUT.initrd"
info cmdline_file "$OUTPUT.cmdline"
info cmdline "$CMDLINE"
info kernel_version "$KVER"
info root_uuid "$ROOT_UUID"
