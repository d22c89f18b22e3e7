#!/usr/bin/env python3
"""Writes the generated seeds of fuzz/corpus/ (README.md): small bzImages
(a setup header and a tiny vmlinux ELF with the PVH note, compressed each
way the kernel does) for kernel-image, and small ISO images in the known
install-tree layouts for install-iso. Needs xorriso, zstd and lz4 (the
command-line tools). Run from anywhere; rewrites only its own files."""
import gzip, lzma, os, struct, subprocess, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def elf_with_pvh_note(with_note=True):
    # ELF64 header, one PT_NOTE program header, the note "Xen" type 18.
    note = struct.pack('<III', 4, 4, 18 if with_note else 17) + b'Xen\0' + struct.pack('<I', 0x1000000)
    ehdr_size, phdr_size = 64, 56
    note_off = ehdr_size + phdr_size
    ident = b'\x7fELF' + bytes([2, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack('<HHIQQQIHHHHHH', 2, 62, 1, 0x1000000, ehdr_size, 0, 0,
                               ehdr_size, phdr_size, 1, 64, 0, 0)
    phdr = struct.pack('<IIQQQQQQ', 4, 4, note_off, 0, 0, len(note), len(note), 4)
    return ehdr + phdr + note


def bzimage(payload, version=0x20f):
    setup_sects = 1
    setup = bytearray((setup_sects + 1) * 512)
    setup[0x1f1] = setup_sects
    setup[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', setup, 0x206, version)
    struct.pack_into('<II', setup, 0x248, 0, len(payload))
    return bytes(setup) + payload


def tool(args, data):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout


def kernel_seeds():
    out = os.path.join(HERE, 'corpus', 'kernel-image')
    os.makedirs(out, exist_ok=True)
    elf = elf_with_pvh_note()
    seeds = {
        'gzip': gzip.compress(elf),
        'xz': lzma.compress(elf, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32),
        'lzma': lzma.compress(elf, format=lzma.FORMAT_ALONE),
        'zstd': tool(['zstd', '-q', '-c'], elf) + struct.pack('<I', len(elf)),
        'lz4': tool(['lz4', '-q', '-l', '-c'], elf),
        'gzip-no-pvh': gzip.compress(elf_with_pvh_note(False)),
    }
    for name, payload in seeds.items():
        with open(os.path.join(out, 'bzimage-' + name), 'wb') as f:
            f.write(bzimage(payload))
    with open(os.path.join(out, 'bzimage-old-protocol'), 'wb') as f:
        f.write(bzimage(gzip.compress(elf), version=0x207))
    with open(os.path.join(out, 'vmlinux-pvh'), 'wb') as f:
        f.write(elf)


def iso_seeds():
    out = os.path.join(HERE, 'corpus', 'install-iso')
    os.makedirs(out, exist_ok=True)
    layouts = {
        'debian': ('install.amd/vmlinuz', 'install.amd/initrd.gz'),
        'fedora': ('images/pxeboot/vmlinuz', 'images/pxeboot/initrd.img'),
    }
    # Two images (each ~70 KiB, mostly the empty system area): Rock Ridge
    # and Joliet names, and plain ISO9660 ones (upper case, matched
    # ignoring case). A layout that is not found is a mutation away.
    for name, flags in (('debian', ['-R', '-J']), ('fedora', [])):
        kernel, initrd = layouts[name]
        with tempfile.TemporaryDirectory() as tree:
            for rel, body in ((kernel, b'kernel\n'), (initrd, b'initrd\n')):
                os.makedirs(os.path.join(tree, os.path.dirname(rel)), exist_ok=True)
                with open(os.path.join(tree, rel), 'wb') as f:
                    f.write(body)
            iso = os.path.join(out, 'iso-%s-%s' % (name, 'rr' if flags else 'plain'))
            subprocess.run(['xorriso', '-as', 'mkisofs', '-quiet', '-no-pad', *flags,
                            '-o', iso, tree], check=True, stderr=subprocess.DEVNULL)


kernel_seeds()
iso_seeds()
