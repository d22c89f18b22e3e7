#!/usr/bin/env python3
"""vsh install (virt-install's job) end to end, with real install media:
Debian's netboot installer (--location DIR), an ISO built here in Debian's
layout from the test guest (--location ISO, read with libarchive), GRUB's
rescue CD (--cdrom + VNC + screenshot); that the install phase is not the
definition (the next start boots from disk); that --print-xml and
--dry-run create nothing; and that bad input is refused before anything is
created.

Nothing here is skipped: missing media or a missing daemon feature is a
failure (scripts/deps.sh installs the media)."""

import os
import re
import shutil
import struct
import subprocess
import time
import zlib

import harness
from harness import Daemon

NETBOOT = '/usr/lib/debian-installer/images/12/amd64/text'
GRUB_ISO = '/usr/lib/grub-rescue/grub-rescue-cdrom.iso'
INSTALLER_TIMEOUT = 120 * harness.TIMEOUT_SCALE
LANGUAGE_RE = re.compile(r'Choose language|Select a language')


def png_is_blank(data):
    """True when a PNG (8-bit RGB/RGBA/grey, as QEMU's screendump writes)
    has a single colour, or cannot be read."""
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        return True
    pos, idat, width, height, bpp = 8, b'', 0, 0, 3
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, ctype = struct.unpack('>IIBB', body[:10])
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype, 3) * max(depth // 8, 1)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp + 1
    # Undo only what is needed: distinct filtered bytes other than the
    # filter type mean distinct pixels, except for a uniform image, whose
    # rows filter to zeros (Sub/Up/Paeth) or to one repeated value (None).
    values = set()
    for y in range(height):
        row = raw[y * stride + 1:(y + 1) * stride]
        values.update(row[bpp:])
        if len(values) > 2:
            return False
    return len(values) <= 1


class Install(harness.VirtdTestCase):

    def assertNothingCreated(self, d, files=()):
        self.assertEqual([x['name'] for x in d.domains()], [])
        for f in files:
            self.assertFalse(os.path.exists(f), '%s was created' % f)
        for pool in d.api_json('GET', '/v1/pools?all=1')['pools']:
            vols = d.api('GET', '/v1/pools/%s/volumes' % pool['name'])
            if vols.status == 200:
                self.assertEqual(vols.json()['volumes'], [], 'pool %s' % pool['name'])

    # 1. Debian's netboot installer, from the tree Debian ships.
    def test_debian_netboot_location_dir(self):
        with Daemon() as d:
            t0 = time.monotonic()
            rc, out, err = d.vsh('install', '--name', 'di', '--memory', '1024',
                                 '--location', NETBOOT, '--extra-args', 'console=ttyS0',
                                 '--graphics', 'none', '--disk', 'none', '--noautoconsole',
                                 '--virt-type', 'qemu')
            self.assertIn('Starting install...', out)
            self.assertIn('Domain installation still in progress', out)
            # Its first question: localechooser's "Select a language" dialog,
            # which is the main menu's "Choose language" step.
            harness.wait_for(lambda: LANGUAGE_RE.search(d.console_text('di')),
                             INSTALLER_TIMEOUT, interval=0.5,
                             what=lambda: 'the language question on the console of di; it '
                             'ends with:\n' + d.console_text('di')[-1500:])
            sys_note('debian-installer asks for the language after %.1f s' %
                     (time.monotonic() - t0))
            # The definition is the installed system, not the installer.
            xml = d.vsh('dumpxml', 'di', '--inactive')[1]
            self.assertNotIn('<kernel>', xml)
            live = d.vsh('dumpxml', 'di')[1]
            self.assertIn('debian-installer/amd64/linux', live)
            d.vsh('destroy', 'di')
            self.assertNoQemu(d)

    # 2 + 5. An ISO in Debian's layout, read with libarchive; the installer
    # "reboots", the install phase ends and the guest restarts from disk.
    def test_location_iso_then_disk_boot(self):
        with Daemon() as d:
            iso = make_debian_layout_iso(d.root)
            disk = os.path.join(d.root, 'iso-guest.qcow2')
            # vsh stages the kernel and initrd under $TMPDIR: a directory
            # of this test's, so that the check below sees only its own.
            tmpdir = d.path('tmp')
            os.makedirs(tmpdir)
            t0 = time.monotonic()
            rc, out, err = d.vsh(
                'install', '--name', 'isog', '--memory', '256', '--location', iso,
                '--extra-args', harness.GUEST_CMDLINE + ' virtd.action=reboot virtd.delay=1',
                '--disk', 'path=%s,size=0.05' % disk, '--graphics', 'none',
                '--noautoconsole', '--wait', '3', timeout=240, env={'TMPDIR': tmpdir})
            sys_note('ISO install phase to restart: %.1f s' % (time.monotonic() - t0))
            self.assertIn("Retrieving 'vmlinuz'", out)
            self.assertIn("Allocating 'iso-guest.qcow2'", out)
            self.assertIn('Domain creation completed.', out)
            self.assertIn('Restarting guest.', out)
            log = d.console_text('isog')
            self.assertIn(harness.READY_MARKER, log)
            self.assertIn('VIRTD-GUEST-ACTION reboot', log)
            # Restarted with the final XML: disk first, no installer kernel.
            self.assertListed(d, 'isog', 'running')
            xml = d.vsh('dumpxml', 'isog')[1]
            self.assertNotIn('<kernel>', xml)
            self.assertIn("<boot dev='hd'/>", xml)
            self.assertIn(disk, xml)
            # The staged kernel and initrd are gone.
            self.assertEqual(os.listdir(tmpdir), [])
            d.vsh('destroy', 'isog')
            self.assertNoQemu(d)

    # 2b. --initrd-inject: the file is at / of the installer's initramfs
    # (how preseed.cfg and kickstart files reach an installer).
    def test_initrd_inject(self):
        with Daemon() as d:
            make_debian_layout_iso(d.root)
            tree = os.path.join(d.root, 'iso-tree')
            seed = os.path.join(d.root, 'preseed.cfg')
            with open(seed, 'w') as f:
                f.write('virtd-injected-%d\n' % (6 * 7))
            d.vsh('install', '--name', 'inj', '--memory', '256', '--location', tree,
                  '--initrd-inject', seed, '-x', harness.GUEST_CMDLINE, '--disk', 'none',
                  '--graphics', 'none', '--noautoconsole', timeout=120)
            d.wait_console('inj', harness.READY_MARKER)
            with d.console('inj') as c:
                c.read_until('guest# ')
                c.type_until('echo got-$(cat /preseed.cfg)', 'got-virtd-injected-42')
            # The tree's own initrd is untouched: a copy got the file.
            with open(os.path.join(tree, 'install.amd', 'initrd.gz'), 'rb') as f, \
                    open(harness.guest_initrd(), 'rb') as g:
                self.assertEqual(f.read(), g.read())
            d.vsh('destroy', 'inj')

    # 3. A real bootable ISO as a CD-ROM, with VNC, and a new pool volume.
    def test_cdrom_vnc_screenshot(self):
        with Daemon() as d:
            rc, out, err = d.vsh('install', '--name', 'grub', '--memory', '256', '--cdrom',
                                 GRUB_ISO, '--graphics', 'vnc', '--disk', 'size=1',
                                 '--noautoconsole', '--virt-type', 'qemu')
            self.assertIn("Allocating 'grub.qcow2'", out)
            self.assertListed(d, 'grub', 'running')
            png = os.path.join(d.root, 'out.png')
            deadline = time.monotonic() + 60 * harness.TIMEOUT_SCALE
            while True:
                d.vsh('screenshot', 'grub', png)
                with open(png, 'rb') as f:
                    data = f.read()
                if not png_is_blank(data) or time.monotonic() > deadline:
                    break
                time.sleep(2)
            self.assertFalse(png_is_blank(data), 'screenshot of GRUB is blank')
            self.assertIn('grub.qcow2', d.vsh('domblklist', 'grub', check=False)[1] or
                          d.vsh('dumpxml', 'grub')[1])
            d.vsh('destroy', 'grub')
            xml = d.vsh('dumpxml', 'grub')[1]
            self.assertNotIn(GRUB_ISO, xml)   # ejected in the definition
            self.assertNotIn("<boot dev='cdrom'/>", xml)

    # 3b. No pool 'default' (an administrator removed it): made again where
    # the daemon keeps it, as virt-install does.
    def test_default_pool_recreated(self):
        with Daemon() as d:
            target = d.api_json('GET', '/v1/host')['default_pool_target']
            self.assertTrue(target.startswith(d.root), target)
            d.vsh('pool-destroy', 'default')
            d.vsh('pool-undefine', 'default')
            rc, out, err = d.vsh('install', '--name', 'np', '--memory', '128', '--cdrom',
                                 GRUB_ISO, '--graphics', 'none', '--disk', 'size=1',
                                 '--noautoconsole', '--virt-type', 'qemu')
            self.assertIn("Created storage pool 'default' at %s" % target, out)
            self.assertTrue(os.path.exists(os.path.join(target, 'np.qcow2')))
            self.assertIn('np.qcow2', d.vsh('vol-list', 'default')[1])
            d.vsh('destroy', 'np')

    # 3c. A new path= in a pool's directory becomes a volume of that pool,
    # so undefine --remove-all-storage removes it.
    def test_new_file_in_pool_dir_is_a_volume(self):
        with Daemon() as d:
            target = d.api_json('GET', '/v1/pools/default')['pool']['target']
            path = os.path.join(target, 'pv-disk.qcow2')
            rc, out, err = d.vsh('install', '--name', 'pv', '--memory', '128', '--cdrom',
                                 GRUB_ISO, '--graphics', 'none', '--disk',
                                 'path=%s,size=0.5' % path, '--noautoconsole',
                                 '--virt-type', 'qemu')
            self.assertIn("Allocating 'pv-disk.qcow2'", out)
            vol = d.api_json('GET', '/v1/pools/default/volumes/pv-disk.qcow2')['volume']
            self.assertEqual(vol['path'], path)
            self.assertEqual(vol['format'], 'qcow2')
            self.assertEqual(vol['capacity'], 512 * 1024 * 1024)
            d.vsh('destroy', 'pv')
            out = d.vsh('undefine', 'pv', '--remove-all-storage')[1]
            self.assertIn("Volume 'vda'(%s) removed." % path, out)
            self.assertFalse(os.path.exists(path))

    # 4. --print-xml and --dry-run create nothing.
    def test_print_xml_and_dry_run_create_nothing(self):
        with Daemon() as d:
            disk = os.path.join(d.root, 'new.qcow2')
            common = ['--name', 'px', '--memory', '256', '--graphics', 'none',
                      '--disk', 'path=%s,size=1' % disk, '--virt-type', 'qemu']
            rc, out, err = d.vsh('install', *common, '--cdrom', GRUB_ISO, '--print-xml')
            self.assertEqual(out.count('<domain '), 2, out)      # install phase, then final
            first, second = out.split('</domain>')[:2]
            self.assertIn("<boot dev='cdrom'/>", first)
            self.assertIn('<on_reboot>destroy</on_reboot>', first)
            self.assertNotIn("<boot dev='cdrom'/>", second)
            self.assertIn(disk, second)
            rc, out, err = d.vsh('install', *common, '--import', '--print-xml')
            self.assertEqual(out.count('<domain '), 1, out)
            rc, out, err = d.vsh('install', *common, '--cdrom', GRUB_ISO, '--dry-run')
            self.assertIn("Would allocate '%s'" % disk, out)
            self.assertIn('Dry run completed successfully', out)
            d.vsh('install', '--name', 'px2', '--disk', 'size=1', '--cdrom', GRUB_ISO,
                  '--graphics', 'none', '--dry-run', '--virt-type', 'qemu')
            self.assertNothingCreated(d, [disk])

    # 4. Bad input: a clear error, exit != 0, nothing created.
    def test_bad_input_creates_nothing(self):
        with Daemon() as d:
            empty = os.path.join(d.root, 'empty-tree')
            os.makedirs(os.path.join(empty, 'casper'))
            disk = os.path.join(d.root, 'bad.qcow2')
            base = ['--memory', '256', '--graphics', 'none', '--virt-type', 'qemu',
                    '--noautoconsole']
            cases = [
                (['--name', 'b1', '--disk', 'path=%s,size=1,colour=red' % disk, '--import'],
                 "unknown option 'colour'"),
                (['--disk', 'path=%s,size=1' % disk, '--import'], '--name'),
                (['--name', 'b2', '--disk', 'path=%s,size=1' % disk, '--cdrom', GRUB_ISO,
                  '--location', NETBOOT], 'Only one install method'),
                (['--name', 'b3', '--disk', 'path=%s,size=1' % disk, '--location', empty],
                 'Could not find an installable distribution'),
                (['--name', 'b4', '--disk', 'path=%s,size=1' % disk, '--cdrom', GRUB_ISO,
                  '--extra-args', 'x'], 'Kernel arguments are only supported'),
                (['--name', 'b5', '--disk', 'path=%s' % disk, '--import'],
                 'Size must be specified'),
                (['--name', 'b6', '--disk', 'path=%s,size=1' % disk, '--cdrom',
                  '/nonexistent.iso'], "'/nonexistent.iso'"),
                (['--name', 'b7', '--disk', 'path=%s,size=1' % disk], 'install method'),
            ]
            for args, needle in cases:
                rc, out, err = d.vsh_fail('install', *(args + base))
                self.assertIn(needle, err, 'vsh install %s' % ' '.join(args))
                self.assertNotIn('Starting install', out)
            self.assertNothingCreated(d, [disk])
            self.assertIn('casper/vmlinuz', d.vsh_fail(
                'install', '--name', 'b3', '--location', empty, '--disk', 'none',
                *base)[2])

            # An existing name is refused before a disk is made.
            d.define('taken')
            rc, out, err = d.vsh_fail('install', '--name', 'taken', '--disk',
                                      'path=%s,size=1' % disk, '--import', *base)
            self.assertIn("Guest name 'taken' is already in use", err)
            self.assertFalse(os.path.exists(disk))

            # A name that reads as the id of a running domain is not taken by
            # it (the check goes by name, not by GET /v1/domains/ID).
            d.start_domain('taken', wait_boot=False)
            rc, out, err = d.vsh('install', '--name', d.domid('taken'), '--disk', 'none',
                                 '--cdrom', GRUB_ISO, '--dry-run', *base, check=False)
            self.assertNotIn('already in use', err)
            self.assertEqual(rc, 0, err)

    # A failure after the disks were made removes them and the definition.
    def test_failure_after_allocation_is_undone(self):
        with Daemon() as d:
            disk = os.path.join(d.root, 'undo.qcow2')
            # cdrom on bus virtio: accepted by vsh, refused by the daemon at start.
            rc, out, err = d.vsh_fail('install', '--name', 'undo', '--memory', '256',
                                      '--graphics', 'none', '--virt-type', 'qemu',
                                      '--noautoconsole', '--import',
                                      '--disk', 'path=%s,size=0.01' % disk,
                                      '--disk', 'path=%s,device=cdrom,bus=virtio' % GRUB_ISO)
            self.assertIn("Allocating 'undo.qcow2'", out)
            self.assertIn('removed what this run created', err)
            self.assertNothingCreated(d, [disk])


def make_debian_layout_iso(root):
    """An ISO9660 image with Debian's install.amd/{vmlinuz,initrd.gz},
    holding the test guest's kernel and initramfs."""
    tree = os.path.join(root, 'iso-tree', 'install.amd')
    os.makedirs(tree)
    shutil.copy(os.path.join(harness.GUEST_DIR, 'vmlinuz'), os.path.join(tree, 'vmlinuz'))
    shutil.copy(harness.guest_initrd(), os.path.join(tree, 'initrd.gz'))
    iso = os.path.join(root, 'debian-layout.iso')
    subprocess.run(['xorriso', '-as', 'mkisofs', '-quiet', '-R', '-J', '-V', 'VIRTD_TEST',
                    '-o', iso, os.path.join(root, 'iso-tree')], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return iso


def sys_note(text):
    """Timings, for the test log."""
    print('  [%s]' % text, flush=True)


if __name__ == '__main__':
    harness.main()
