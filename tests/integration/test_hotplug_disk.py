#!/usr/bin/env python3
"""Disks and cdrom media changed while the guest runs (issue 11): attach-disk
and detach-disk on pc (pci.0) and q35 (a free pcie-root-port), a SCSI disk
with its controller attached on demand, the format read from a qcow2 image's
header, blockresize seen by the guest, change-media on a SATA cdrom, a live
change kept over a daemon restart, an unplug the paused guest does not
answer; and the refusals, each followed by a check that nothing changed
(dumpxml live and inactive, and the guest's STATUS line).

The guest's STATUS line carries sizes=vda:SECTORS,... (tests/guest/init):
that is what every check reads. Domains are named hd-*, images live in a
temporary directory /tmp/hd-*, removed at the end."""

import os
import re
import shutil
import subprocess
import tempfile

import harness
from harness import Daemon

_SIZES_RE = re.compile(r'VIRTD-GUEST-STATUS .* disks=(\S*) nics=\S* sizes=(\S*)')
MIB = 1024 * 1024
# A status line every second (the guest's default: 2 s): every check of
# what the guest sees waits for a fresh line, and there are dozens. Not for
# the guest with 30 disks (one check; its line would read them all each
# second while it handles the unplug).
STATUS = 'virtd.status=1'


def make_raw(path, mib):
    with open(path, 'wb') as f:
        f.truncate(mib * MIB)
    return path


def make_qcow2(path, mib):
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path, '%dM' % mib], check=True)
    return path


def guest_sizes(d, name, after=0):
    """{disk: sectors} of the last well-formed STATUS line printed after
    offset `after` of the console log (a line garbled on the emulated
    serial port, which happens under load, is skipped)."""
    for disks, sizes_text in reversed(_SIZES_RE.findall(d.console_text(name)[after:])):
        sizes = {}
        for item in sizes_text.split(','):
            m = re.fullmatch(r'([a-z]+[0-9]*):(\d+)', item)
            if not m:
                sizes = None
                break
            sizes[m.group(1)] = int(m.group(2))
        if sizes is not None and sorted(sizes) == sorted(x for x in disks.split(',') if x):
            return sizes
    return None


def root_ports(n, first=1):
    return '\n'.join("    <controller type='pci' index='%d' model='pcie-root-port'/>" % i
                     for i in range(first, first + n))


class HotplugDisk(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.qemu_reachable(tempfile.mkdtemp(prefix='hd-', dir='/tmp'))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def img(self, name):
        return os.path.join(self.tmp, name)

    def wait_sizes(self, d, name, predicate, what, timeout=60):
        """Waits for a STATUS line printed from now on whose sizes satisfy
        `predicate`; returns them."""
        start = len(d.console_text(name))
        last = [None]

        def check():
            s = guest_sizes(d, name, start)
            last[0] = s
            return s if s is not None and predicate(s) else None
        return harness.wait_for(check, timeout, interval=0.2,
                                what=lambda: '%s in the guest of %s (last sizes %r)' %
                                (what, name, last[0]))

    def xml(self, d, name, inactive=False):
        args = ['dumpxml', name] + (['--inactive'] if inactive else [])
        return d.vsh(*args)[1]

    def assertUnchanged(self, d, name, before, guest_before):
        """dumpxml live and inactive as `before` says, and the guest's disks
        and sizes as `guest_before` (two fresh STATUS lines)."""
        self.assertEqual(self.xml(d, name), before[0])
        self.assertEqual(self.xml(d, name, True), before[1])
        if guest_before is not None:
            self.wait_sizes(d, name, lambda s: s == guest_before, 'unchanged disks %r' %
                            guest_before)

    def snapshot(self, d, name):
        return (self.xml(d, name), self.xml(d, name, True))

    def refused(self, d, name, args, message, guest):
        before = self.snapshot(d, name)
        _rc, _out, err = d.vsh_fail(*args)
        self.assertIn(message, err)
        self.assertUnchanged(d, name, before, guest)
        return err

    # ------------------------------------------------------------------

    def test_pc_virtio_lifecycle(self):
        """pc: hot-add (raw, then qcow2 without a format), blockresize,
        the refusals, a daemon restart, hot-remove, an unplug the paused
        guest ignores."""
        name = 'hd-pc'
        root = make_raw(self.img('pc-root.raw'), 16)
        data = make_raw(self.img('pc-data.raw'), 32)
        qc = make_qcow2(self.img('pc-q.qcow2'), 64)
        with Daemon() as d:
            # The kernel is booted directly; root= names vda as the disk it
            # boots from (the initramfs ignores it), for the --boot-disk rule.
            d.define(name, harness.domain_xml(name, memory_mib=192,
                                              cmdline_extra='root=/dev/vda ' + STATUS,
                                              extra_devices=harness.disk_xml(root)))
            d.start_domain(name)
            g0 = self.wait_sizes(d, name, lambda s: 'vda' in s, 'vda')
            self.assertEqual(g0, {'vda': 16 * 2048})

            # Hot-add of a raw disk: the guest sees it with its size.
            d.vsh('attach-disk', name, data, 'vdb', '--live')
            g1 = self.wait_sizes(d, name, lambda s: s.get('vdb') == 32 * 2048, 'vdb of 32 MiB')
            self.assertIn("target dev='vdb'", self.xml(d, name))
            self.assertNotIn("target dev='vdb'", self.xml(d, name, True))

            # Refusals: nothing changes.
            self.refused(d, name, ['attach-disk', name, data, 'vdb', '--live'],
                         'target vdb already exists', g1)
            self.refused(d, name, ['attach-disk', name, data, 'hdb', '--targetbus', 'ide',
                                   '--live'], "cannot be hot-plugged on bus 'ide'", g1)
            bad = d.write_file('bad-disk.xml', "<disk type='file'><source file='/x'")
            self.refused(d, name, ['attach-device', name, bad, '--live'], 'XML', g1)
            err = self.refused(d, name, ['detach-disk', name, 'vda', '--live'], '--boot-disk',
                               g1)
            self.assertIn('booted from', err)
            err = self.refused(d, name, ['blockresize', name, 'vdb', '16M'], '--shrink', g1)
            self.assertIn('destroy', err)

            # blockresize grows the disk in the guest.
            rc, out, _ = d.vsh('blockresize', name, 'vdb', '48M')
            self.assertIn("Block device 'vdb' is resized", out)
            g2 = self.wait_sizes(d, name, lambda s: s.get('vdb') == 48 * 2048, 'vdb of 48 MiB')
            out = d.vsh('domblkinfo', name, 'vdb')[1]
            self.assertRegex(out, r'Capacity:\s+%d\n' % (48 * MIB))
            self.assertEqual(os.path.getsize(data), 48 * MIB)

            # A qcow2 image without <driver type>: the header decides.
            d.vsh('attach-disk', name, qc, 'vdc', '--live')
            g3 = self.wait_sizes(d, name, lambda s: s.get('vdc') == 64 * 2048, 'vdc of 64 MiB')
            self.assertRegex(self.xml(d, name), r"type='qcow2'")
            out = d.vsh('domblkinfo', name, '--all')[1]
            self.assertRegex(out, r'\n vdc +%d +\d+ +\d+\n' % (64 * MIB))
            self.assertRegex(out, r'\n vdb +%d ' % (48 * MIB))

            # Kept over a daemon restart, and still addressable.
            d.restart()
            live = self.xml(d, name)
            self.assertIn("target dev='vdb'", live)
            self.assertIn("target dev='vdc'", live)
            d.vsh('detach-disk', name, 'vdb', '--live')
            g4 = self.wait_sizes(d, name, lambda s: 'vdb' not in s and 'vdc' in s, 'vdb gone')
            self.assertNotIn("target dev='vdb'", self.xml(d, name))
            # The same target attaches again (QEMU's nodes of the old vdb
            # are gone, not only its device), and goes again.
            d.vsh('attach-disk', name, data, 'vdb', '--live')
            self.wait_sizes(d, name, lambda s: 'vdb' in s, 'vdb attached again')
            d.vsh('detach-disk', name, 'vdb', '--live')
            self.wait_sizes(d, name, lambda s: 'vdb' not in s and 'vdc' in s, 'vdb gone again')

            # A paused guest does not release the disk: the detach times out,
            # the disk stays; resumed, the guest completes the unplug.
            d.vsh('suspend', name)
            _rc, _out, err = d.vsh_fail('detach-disk', name, 'vdc', '--live', timeout=60)
            self.assertIn('did not release', err)
            self.assertIn("target dev='vdc'", self.xml(d, name))
            d.vsh('resume', name)
            self.wait_sizes(d, name, lambda s: s == {'vda': 16 * 2048}, 'vdc released late')
            harness.wait_for(lambda: "target dev='vdc'" not in self.xml(d, name), 30,
                             what='vdc gone from the live XML')
            # A late release frees QEMU's nodes too: vdc attaches again (the
            # guest names it by the order it finds disks: a second disk).
            d.vsh('attach-disk', name, data, 'vdc', '--live')
            self.wait_sizes(d, name, lambda s: len(s) == 2, 'vdc attached again')
            self.assertIn("target dev='vdc'", self.xml(d, name))
            d.vsh('destroy', name)

            # Shut off: --live refused, --config works (format probed).
            before = self.snapshot(d, name)
            _rc, _out, err = d.vsh_fail('attach-disk', name, data, 'vdb', '--live')
            self.assertIn('not running', err)
            self.assertEqual(self.xml(d, name, True), before[1])
            d.vsh('attach-disk', name, qc, 'vdd', '--config')
            inactive = self.xml(d, name, True)
            self.assertIn("target dev='vdd'", inactive)
            self.assertRegex(inactive, r"type='qcow2'")
            out = d.vsh('domblkinfo', name, 'vdd')[1]
            self.assertRegex(out, r'Capacity:\s+%d\n' % (64 * MIB))
            d.vsh('detach-disk', name, 'vdd', '--config')
            self.assertNotIn("target dev='vdd'", self.xml(d, name, True))

    def test_pc_slots_exhausted(self):
        """pc: once pci.0's slots are full, QEMU's "no slot" becomes a
        message naming the fix; the nodes of the refused disk are gone (the
        same target attaches once a slot is free)."""
        name = 'hd-slots'
        root = make_raw(self.img('s-root.raw'), 16)
        ro = make_raw(self.img('s-ro.raw'), 1)
        letters = 'abcdefghijklmnopqrstuvwxyz'
        targets = ['vd' + c for c in letters[1:]] + ['vda' + c for c in letters]
        with Daemon() as d:
            d.define(name, harness.domain_xml(name, memory_mib=192,
                                              extra_devices=harness.disk_xml(root)))
            d.start_domain(name)
            refused = None
            for t in targets:
                rc, _out, err = d.vsh('attach-disk', name, ro, t, '--mode', 'readonly', '--live',
                                      check=False)
                if rc != 0:
                    refused = (t, err)
                    break
            self.assertIsNotNone(refused, 'pci.0 never filled up')
            t, err = refused
            self.assertIn("no free PCI slot for disk '%s' on bus pci.0" % t, err)
            self.assertIn('q35', err)
            self.assertNotIn("target dev='%s'" % t, self.xml(d, name))
            d.vsh('detach-disk', name, 'vdb', '--live')
            # The guest names disks in the order it finds them: the new one
            # is told by its size (2 MiB, the others 1 MiB).
            big = make_raw(self.img('s-big.raw'), 2)
            d.vsh('attach-disk', name, big, t, '--live')
            self.assertIn("target dev='%s'" % t, self.xml(d, name))
            self.wait_sizes(d, name, lambda s: 2 * 2048 in s.values(), '%s in the guest' % t)
            d.vsh('destroy', name)

    def test_q35_root_port_and_scsi(self):
        """q35: a virtio disk into a free root port; a SCSI disk, its
        virtio-scsi controller attached first (into another port)."""
        name = 'hd-q35'
        root = make_raw(self.img('q-root.raw'), 16)
        data = make_raw(self.img('q-data.raw'), 24)
        scsi = make_raw(self.img('q-scsi.raw'), 40)
        with Daemon() as d:
            d.define(name, harness.domain_xml(
                name, memory_mib=192, machine='q35', cmdline_extra=STATUS,
                extra_devices=harness.disk_xml(root) + '\n' + root_ports(5)))
            d.start_domain(name)
            self.wait_sizes(d, name, lambda s: 'vda' in s, 'vda')
            d.vsh('attach-disk', name, data, 'vdb', '--live')
            self.wait_sizes(d, name, lambda s: s.get('vdb') == 24 * 2048, 'vdb of 24 MiB')
            d.vsh('attach-disk', name, scsi, 'sdb', '--targetbus', 'scsi', '--live')
            g = self.wait_sizes(d, name, lambda s: 80 * 1024 in s.values(), 'the SCSI disk',
                                timeout=90)
            self.assertEqual(len(g), 3, g)
            self.assertIn("target dev='sdb' bus='scsi'", self.xml(d, name))
            # The controller virtd added is in the live definition (and
            # only there) with the root port QEMU put it in (a QEMU loading
            # the guest's state puts it there again), and stays there over
            # a daemon restart.
            ctl_re = (r"<controller type='scsi' index='0' model='virtio-scsi'>\s*<address "
                      r"type='pci' domain='0x0000' bus='0x0[1-5]' slot='0x00' function='0x0'/>")
            self.assertRegex(self.xml(d, name), ctl_re)
            self.assertNotIn("<controller type='scsi'", self.xml(d, name, True))
            d.restart()
            self.assertRegex(self.xml(d, name), ctl_re)
            # A NIC takes the next free root port (pci-slot.c, shared).
            nic = d.write_file('nic.xml', "<interface type='user'><mac address="
                               "'52:54:00:4d:11:01'/><model type='virtio'/></interface>")
            d.vsh('attach-device', name, nic, '--live')
            harness.wait_for(lambda: (d.guest_status(name) or {}).get('nics') == ['eth0'], 60,
                             what='eth0 in the guest')
            # The five ports hold vda, the balloon, vdb, scsi0 and the NIC: the next disk is refused, naming the fix.
            spare = make_raw(self.img('q-spare.raw'), 8)
            self.refused(d, name, ['attach-disk', name, spare, 'vdc', '--live'],
                         "no free PCIe root port for disk 'vdc'", None)
            # The controller cannot go while a disk is behind it.
            ctl = d.write_file('ctl.xml', "<controller type='scsi' model='virtio-scsi'/>")
            self.refused(d, name, ['detach-device', name, ctl, '--live'],
                         "still has disk 'sdb'", None)
            d.vsh('detach-disk', name, 'sdb', '--live')
            self.wait_sizes(d, name, lambda s: 80 * 1024 not in s.values(), 'SCSI disk gone')
            # Now it may go, and the live definition follows.
            d.vsh('detach-device', name, ctl, '--live')
            self.assertNotIn("<controller type='scsi'", self.xml(d, name))
            d.vsh('detach-disk', name, 'vdb', '--live')
            self.wait_sizes(d, name, lambda s: s == {'vda': 16 * 2048}, 'vdb gone')
            live = self.xml(d, name)
            self.assertNotIn("target dev='vdb'", live)
            self.assertNotIn("target dev='sdb'", live)
            d.vsh('destroy', name)

    def test_cdrom_media(self):
        """change-media on a SATA cdrom: the guest sees the media go and
        come (sr0's size, read after opening it)."""
        name = 'hd-cd'
        root = make_raw(self.img('cd-root.raw'), 16)
        iso1 = make_raw(self.img('one.iso'), 2)
        iso2 = make_raw(self.img('two.iso'), 4)
        cd = harness.disk_xml(iso1, target='sda', bus='sata', device='cdrom')
        with Daemon() as d:
            d.define(name, harness.domain_xml(
                name, memory_mib=192, cmdline_extra=STATUS,
                extra_devices=harness.disk_xml(root) + '\n' + cd))
            d.start_domain(name)
            self.wait_sizes(d, name, lambda s: s.get('sr0') == 2 * 2048, 'sr0 with media')
            rc, out, _ = d.vsh('change-media', name, 'sda', '--eject', '--force')
            self.assertIn('Successfully ejected media.', out)
            g = self.wait_sizes(d, name, lambda s: s.get('sr0') == 0, 'sr0 empty')
            self.assertNotIn(iso1, self.xml(d, name))
            self.refused(d, name, ['change-media', name, 'sda', '--eject'], "doesn't have media",
                         g)
            rc, out, _ = d.vsh('change-media', name, 'sda', iso2, '--insert')
            self.assertIn('Successfully inserted media.', out)
            self.wait_sizes(d, name, lambda s: s.get('sr0') == 4 * 2048, 'sr0 with media 2')
            self.assertIn(iso2, self.xml(d, name))
            self.assertIn(iso1, self.xml(d, name, True))
            # The media are descriptors in an fd set (docs/security.md);
            # the ejected one's set is gone.
            sets = d.vsh('qemu-monitor-command', name, '{"execute": "query-fdsets"}')[1]
            self.assertIn('"opaque": "%s"' % iso2, sets.replace('":"', '": "'))
            self.assertNotIn(iso1, sets)
            # update-device with the first ISO again.
            upd = d.write_file('cd.xml', cd)
            rc, out, _ = d.vsh('update-device', name, upd, '--live')
            self.wait_sizes(d, name, lambda s: s.get('sr0') == 2 * 2048, 'sr0 with media 1')
            # A SATA disk cannot be hot-plugged.
            self.refused(d, name, ['attach-disk', name, iso2, 'sdb', '--targetbus', 'sata',
                                   '--live'], "bus 'sata'", None)
            d.vsh('destroy', name)


if __name__ == '__main__':
    harness.main()
