#!/usr/bin/env python3
"""A revert to a snapshot with memory that cannot succeed, and reverts after
hot-plugs (issue 14's follow-up to the slot recording of s14-snaprevert).

What the user sees is checked: a revert that the checks before it refuse
(the snapshot's definition does not match its saved memory) leaves the guest
running, its counter going on in the same boot; a revert whose load fails
in QEMU after the guest was stopped says so and leaves the domain
"shut off (failed)". After a hot-plugged SCSI controller (with its disk), a
hot-plugged virtio-mem device, and a boot-time disk detached, the reverted
(and the restored) guest counts on from the snapshot with those devices.

Everything is named vr-*: the daemon's root /tmp/vr-*, domains vr-1, vr-2."""

import os
import re
import shutil
import subprocess
import tempfile
import time

import harness
from harness import Daemon

COUNTER_RE = re.compile(r'VIRTD-GUEST-COUNTER n=(\d+) boot_id=([0-9a-f]{8}-[0-9a-f]{4}-'
                        r'[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\r?$', re.M)

MAXMEM = "<maxMemory slots='4' unit='GiB'>1</maxMemory>"
VMEM = ("<memory model='virtio-mem'><target><size unit='MiB'>256</size>"
        "<block unit='KiB'>2048</block><requested unit='MiB'>0</requested></target></memory>")


class SnapshotRevert(harness.VirtdTestCase):

    def setUp(self):
        super().setUp()
        base = os.environ.get('VIRTD_TEST_TMPDIR') or '/tmp'
        self.root = tempfile.mkdtemp(prefix='vr-', dir=base)
        self.addCleanup(shutil.rmtree, self.root, True)

    def img(self, name):
        path = os.path.join(self.root, name)
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path, '16M'], check=True)
        return path

    def counters(self, d, name, start=0):
        return [(int(n), b) for n, b in COUNTER_RE.findall(d.console_text(name)[start:])]

    def last_counter(self, d, name):
        c = self.counters(d, name)
        return c[-1][0] if c else None

    def wait_counter(self, d, name, above, start=0):
        def seen():
            c = self.counters(d, name, start)
            return c and c[-1][0] > above and c[-1][0]
        return harness.wait_for(seen, 30, interval=0.2,
                                what='counter of %s above %d' % (name, above))

    def state(self, d, name):
        return d.vsh('domstate', name, '--reason')[1].strip()

    def take(self, d, name, snap):
        """The snapshot holds a counter in [a, b] (b may have been in flight
        on the serial line when the snapshot was taken)."""
        a = self.last_counter(d, name)
        out = d.vsh('snapshot-create-as', name, snap)[1]
        self.assertIn("Domain snapshot %s created" % snap, out)
        b = self.wait_counter(d, name, a)
        return a, b

    def assert_restarted(self, d, name, offset, window, boot):
        """After a revert or restore: the counter goes on from the snapshot's
        value (in @window), in boot @boot, and counts on."""
        a, b = window

        def first_new():
            c = self.counters(d, name, offset)
            return c and c[0]
        n, bid = harness.wait_for(first_new, 30, interval=0.2,
                                  what='a counter after the revert')
        self.assertGreaterEqual(n, a + 1)
        # b was the first counter read after the snapshot returned, but it
        # may have left the guest before the snapshot was taken (on its way
        # through QEMU's serial chardev and the daemon's console log): then
        # the snapshot's guest has printed b already and goes on with b+1.
        self.assertLessEqual(n, b + 1)
        self.assertEqual(bid, boot, 'a reverted guest is the same boot')
        self.wait_counter(d, name, n, offset)

    def redefine(self, d, name, snap, edit):
        """Replaces @snap's metadata by its XML passed through @edit (as a user
        with snapshot-create --redefine)."""
        xml = d.vsh('snapshot-dumpxml', name, snap)[1]
        new = edit(xml)
        self.assertNotEqual(new, xml)
        path = d.write_file('%s-%s.xml' % (name, snap), new)
        d.vsh('snapshot-create', name, path, '--redefine')

    def qmp(self, d, name, command, **args):
        body = {'execute': command}
        if args:
            body['arguments'] = args
        return d.api_json('POST', harness.dom_path(name, '/qemu-monitor'), body)['return']

    def pci_ids(self, d, name):
        """qdev ids on the guest's PCI buses, with their slots."""
        out = {}

        def walk(devices):
            for dev in devices:
                if dev.get('qdev_id'):
                    out[dev['qdev_id']] = (dev['bus'], dev['slot'])
                walk(dev.get('pci_bridge', {}).get('devices', []))
        for bus in self.qmp(d, name, 'query-pci'):
            walk(bus['devices'])
        return out

    # ---- a revert that cannot succeed

    def test_failed_revert(self):
        name = 'vr-1'
        img = self.img('vr-1.qcow2')
        with Daemon(root=self.root) as d:
            d.define(name, harness.domain_xml(
                name, memory_mib=128, cmdline_extra='virtd.counter=1',
                extra_devices=harness.disk_xml(img, fmt='qcow2') +
                "<interface type='user'><model type='virtio'/></interface>"))
            d.start_domain(name)
            boot = d.boots(name)[-1]
            self.wait_counter(d, name, 1)
            self.take(d, name, 's1')

            # The definition says 256 MiB, the memory state has 128: refused
            # before the guest is touched, which counts on in its boot.
            self.redefine(d, name, 's1', lambda x: x.replace(
                "<memory unit='KiB'>131072</memory>", "<memory unit='KiB'>262144</memory>", 1)
                .replace("<currentMemory unit='KiB'>131072</currentMemory>",
                         "<currentMemory unit='KiB'>262144</currentMemory>", 1))
            n = self.last_counter(d, name)
            rc, out, err = d.vsh('snapshot-revert', name, 's1', check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn("cannot revert domain 'vr-1' to snapshot 's1': the saved state has "
                          "131072 KiB of base memory, the snapshot's definition 262144 KiB; "
                          "nothing was changed, the guest runs on", err)
            self.assertEqual(self.state(d, name), 'running (booted)')
            self.wait_counter(d, name, n + 2)
            self.assertEqual({b for _n, b in self.counters(d, name)}, {boot})

            # The NIC in another slot than the state's ROM: refused the same way.
            self.redefine(d, name, 's1', lambda x: x.replace(
                "<memory unit='KiB'>262144</memory>", "<memory unit='KiB'>131072</memory>", 1)
                .replace("<currentMemory unit='KiB'>262144</currentMemory>",
                         "<currentMemory unit='KiB'>131072</currentMemory>", 1)
                .replace("<model type='virtio'/>", "<model type='virtio'/><address type='pci' "
                         "domain='0x0000' bus='0x00' slot='0x0a' function='0x0'/>", 1))
            rc, out, err = d.vsh('snapshot-revert', name, 's1', check=False)
            self.assertNotEqual(rc, 0)
            self.assertRegex(err, r"the saved state has a virtio-net-pci in PCI slot 00:0[0-9a-f]"
                             r"\.0, the snapshot's definition puts it in slot 0xa; nothing was "
                             r"changed, the guest runs on")
            self.assertEqual(self.state(d, name), 'running (booted)')
            n = self.last_counter(d, name)
            self.wait_counter(d, name, n + 1)

            # The disk moved: only QEMU's load finds it, after the guest was
            # stopped. The error says the guest is lost; the state says why.
            self.redefine(d, name, 's1', lambda x: re.sub(
                r"(<interface type='user'>.*?)<address [^>]*/>", r"\1", x, count=1, flags=re.S)
                .replace("<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='virtio'/>"
                         "<address type='pci' domain='0x0000' bus='0x00' slot='0x0b' "
                         "function='0x0'/>", 1))
            rc, out, err = d.vsh('snapshot-revert', name, 's1', check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn("Error -22 while loading VM state", err)
            self.assertIn("the running guest of domain 'vr-1' was stopped for the revert and is "
                          "lost: the domain is shut off, start it again", err)
            self.assertEqual(self.state(d, name), 'shut off (failed)')


    # ---- reverts after hot-plugs

    def revert_and_restore(self, d, name, snap, window, boot, check_devices):
        """Reverts to @snap, then saves and restores: the guest counts on
        each time, in its boot, with the devices @check_devices checks."""
        off = len(d.console_text(name))
        rc, out, err = d.vsh('snapshot-revert', name, snap, check=False)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.state(d, name), 'running (from snapshot)')
        self.assert_restarted(d, name, off, window, boot)
        check_devices()
        state = os.path.join(self.root, '%s.save' % name)
        n = self.last_counter(d, name)
        d.vsh('save', name, state)
        off = len(d.console_text(name))
        rc, out, err = d.vsh('restore', state, check=False)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.state(d, name), 'running (restored)')
        self.wait_counter(d, name, n, off)
        self.assertEqual({b for _n, b in self.counters(d, name, off)}, {boot})
        check_devices()
        os.unlink(state)

    def test_scsi_controller_hotplugged(self):
        """attach-disk --targetbus scsi adds a virtio-scsi controller first."""
        name = 'vr-2'
        img, sdb = self.img('vr-2.qcow2'), self.img('vr-2b.qcow2')
        with Daemon(root=self.root) as d:
            d.define(name, harness.domain_xml(
                name, memory_mib=128, cmdline_extra='virtd.counter=1',
                extra_devices=harness.disk_xml(img, fmt='qcow2')))
            d.start_domain(name)
            boot = d.boots(name)[-1]
            self.wait_counter(d, name, 1)
            d.vsh('attach-disk', name, sdb, 'sdb', '--targetbus', 'scsi', '--subdriver', 'qcow2',
                  '--live')
            before = self.pci_ids(d, name)
            self.assertIn('scsi0', before)
            w = self.take(d, name, 's1')

            def devices():
                self.assertEqual(self.pci_ids(d, name), before)
                self.assertIn('vr-2b.qcow2', d.vsh('domblklist', name)[1])
            self.revert_and_restore(d, name, 's1', w, boot, devices)

    def test_virtio_mem_hotplugged(self):
        name = 'vr-3'
        img = self.img('vr-3.qcow2')
        with Daemon(root=self.root) as d:
            d.define(name, harness.domain_xml(
                name, memory_mib=128, cmdline_extra='virtd.counter=1', extra_xml=MAXMEM,
                extra_devices=harness.disk_xml(img, fmt='qcow2')))
            d.start_domain(name)
            boot = d.boots(name)[-1]
            self.wait_counter(d, name, 1)
            rc, out, err = d.vsh('attach-device', name, d.write_file('vmem.xml', VMEM), '--live',
                                 check=False)
            self.assertEqual(rc, 0, err)
            d.vsh('update-memory-device', name, '--requested-size', '64M')
            before = self.pci_ids(d, name)
            self.assertIn('virtiomem0', before)
            w = self.take(d, name, 's1')

            def devices():
                self.assertEqual(self.pci_ids(d, name), before)
                self.assertIn("model='virtio-mem'", d.vsh('dumpxml', name)[1])
            self.revert_and_restore(d, name, 's1', w, boot, devices)

    def test_q35_root_ports(self):
        """q35: vdb of vda, vdb, vdc detached (each behind a root port of its
        own), then the SCSI controller and a virtio-mem device hot-plugged
        into free ports: all come back behind the same ports."""
        name = 'vr-5'
        img, vdb, vdc, sdb = (self.img('vr-5%s.qcow2' % t) for t in ('a', 'b', 'c', 'd'))
        ports = "<controller type='pci' model='pcie-root-port'/>" * 6
        with Daemon(root=self.root) as d:
            d.define(name, harness.domain_xml(
                name, memory_mib=128, machine='q35', cmdline_extra='virtd.counter=1',
                extra_xml=MAXMEM, extra_devices=harness.disk_xml(img, fmt='qcow2') +
                harness.disk_xml(vdb, target='vdb', fmt='qcow2') +
                harness.disk_xml(vdc, target='vdc', fmt='qcow2') + ports))
            d.start_domain(name)
            boot = d.boots(name)[-1]
            self.wait_counter(d, name, 1)
            rc, out, err = d.vsh('detach-disk', name, 'vdb', '--live', check=False, timeout=90)
            self.assertEqual(rc, 0, err)
            harness.wait_for(lambda: 'disk-vdb' not in self.pci_ids(d, name), 30,
                             what='vdb detached')
            d.vsh('attach-disk', name, sdb, 'sdb', '--targetbus', 'scsi', '--subdriver', 'qcow2',
                  '--live')
            rc, out, err = d.vsh('attach-device', name, d.write_file('vmem.xml', VMEM), '--live',
                                 check=False)
            self.assertEqual(rc, 0, err)
            before = self.pci_ids(d, name)
            self.assertIn('scsi0', before)
            self.assertIn('virtiomem0', before)
            w = self.take(d, name, 's1')

            def devices():
                self.assertEqual(self.pci_ids(d, name), before)
            self.revert_and_restore(d, name, 's1', w, boot, devices)

    def test_boot_disk_detached(self):
        """vdb of vda, vdb, vdc detached: vdc, the NIC, the balloon and the
        RNG stay in their slots (a fresh command line would move them up)."""
        name = 'vr-4'
        img, vdb, vdc = self.img('vr-4.qcow2'), self.img('vr-4b.qcow2'), self.img('vr-4c.qcow2')
        with Daemon(root=self.root) as d:
            d.define(name, harness.domain_xml(
                name, memory_mib=128, cmdline_extra='virtd.counter=1',
                extra_devices=harness.disk_xml(img, fmt='qcow2') +
                harness.disk_xml(vdb, target='vdb', fmt='qcow2') +
                harness.disk_xml(vdc, target='vdc', fmt='qcow2') +
                "<interface type='user'><model type='virtio'/></interface>" +
                "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"))
            d.start_domain(name)
            boot = d.boots(name)[-1]
            self.wait_counter(d, name, 1)
            # vdb goes: vdc stays in its slot, after a hole a fresh command
            # line would close.
            rc, out, err = d.vsh('detach-disk', name, 'vdb', '--live', check=False, timeout=90)
            self.assertEqual(rc, 0, err)
            harness.wait_for(lambda: 'vr-4b' not in d.vsh('domblklist', name)[1], 30,
                             what='vdb detached')
            before = self.pci_ids(d, name)
            self.assertNotIn('disk-vdb', before)
            # The slots of the devices that stay are in the live XML only.
            self.assertNotIn('<address', d.vsh('dumpxml', name, '--inactive')[1])
            w = self.take(d, name, 's1')

            def devices():
                self.assertEqual(self.pci_ids(d, name), before)
                self.assertNotIn('vr-4b.qcow2', d.vsh('domblklist', name)[1])
            self.revert_and_restore(d, name, 's1', w, boot, devices)


if __name__ == '__main__':
    harness.main()
