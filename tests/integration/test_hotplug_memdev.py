#!/usr/bin/env python3
"""Memory hot-plug with memory devices (issue 11): a DIMM attached to and
detached from a running pc guest, a virtio-mem device grown and shrunk
with update-memory-device; each change seen in the guest's MemTotal (its
STATUS line; the guest onlines hot-plugged memory itself), in the live
XML and the API, and kept across a daemon restart; every refusal leaves
the live and persistent definitions and the guest as they were.

Everything is named with the prefix 'hm' (domains hm-*, the daemon's root
/tmp/hm-*), removed at the end even on failure."""

import re
import shutil
import tempfile

import harness
from harness import Daemon

MAXMEM = "<maxMemory slots='4' unit='GiB'>1</maxMemory>"


def dimm(mib, alias=None):
    return ("<memory model='dimm'><target><size unit='MiB'>%d</size></target>%s</memory>"
            % (mib, "<alias name='%s'/>" % alias if alias else ''))


VMEM = ("    <memory model='virtio-mem'><target><size unit='MiB'>512</size>"
        "<block unit='KiB'>2048</block><requested unit='MiB'>0</requested></target></memory>\n")


class HotplugMemdev(harness.VirtdTestCase):

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(prefix='hm-', dir='/tmp')
        self.addCleanup(shutil.rmtree, self.root, True)

    def mem(self, d, name):
        return (d.guest_status(name) or {}).get('mem_kib', 0)

    def wait_mem(self, d, name, pred, what, timeout=90):
        return harness.wait_for(lambda: pred(self.mem(d, name)) and self.mem(d, name), timeout,
                                interval=0.5, what=lambda: '%s (guest mem_kib=%d)' %
                                (what, self.mem(d, name)))

    def xml(self, d, name, inactive=False):
        return d.vsh(*(['dumpxml', name] + (['--inactive'] if inactive else [])))[1]

    def attach(self, d, name, xml, *flags):
        path = d.write_file('%s-dev.xml' % name, xml)
        return d.vsh('attach-device', name, path, *flags, check=False)

    def detach(self, d, name, alias):
        path = d.write_file('%s-det.xml' % name, dimm(128, alias))
        return d.vsh('detach-device', name, path, check=False, timeout=90)

    def assertRefused(self, d, name, result, message):
        """A refusal, naming @message, after which the live and persistent
        XML and the guest are as before."""
        rc, out, err = result
        self.assertNotEqual(rc, 0, out)
        self.assertIn(message, err)

    def snapshot(self, d, name):
        return (self.xml(d, name), self.xml(d, name, True), self.mem(d, name))

    def assertUnchanged(self, d, name, before):
        live, config, mem = before
        self.assertEqual(self.xml(d, name), live)
        self.assertEqual(self.xml(d, name, True), config)
        # the guest: MemTotal as it was (two status lines later)
        n = d.console_text(name).count('VIRTD-GUEST-STATUS')
        d.wait_console(name, 'VIRTD-GUEST-STATUS', count=n + 2, timeout=30)
        self.assertEqual(self.mem(d, name), mem)

    def test_memdev(self):
        with Daemon(root=self.root) as d:
            # A: DIMMs. B: virtio-mem (256 MiB base + 512 MiB device: <memory>
            # is the total, as libvirt). C: no <maxMemory>.
            d.define('hm-dimm', harness.domain_xml('hm-dimm', memory_mib=256,
                                                    cmdline_extra='virtd.status=1',
                                                    extra_xml=MAXMEM))
            d.define('hm-vmem', harness.domain_xml('hm-vmem', memory_mib=768,
                                                    cmdline_extra='virtd.status=1',
                                                    extra_devices=VMEM, extra_xml=MAXMEM))
            d.define('hm-plain', harness.domain_xml('hm-plain', memory_mib=128,
                                                     cmdline_extra='virtd.status=1'))
            for n in ('hm-dimm', 'hm-vmem', 'hm-plain'):
                d.start_domain(n)
            argv = harness.read_cmdline(d.qemu_pid('hm-vmem'))
            self.assertIn('size=262144k,slots=4,maxmem=1048576k', argv)
            self.assertIn('{"driver":"virtio-mem-pci","block-size":2097152,"requested-size":0,'
                          '"memdev":"memvirtiomem0","id":"virtiomem0"}', argv)

            self.dimm_part(d)
            self.vmem_part(d)
            self.plain_part(d)

            # A daemon restart keeps the live changes (status file).
            live_a, live_b = self.xml(d, 'hm-dimm'), self.xml(d, 'hm-vmem')
            d.restart()
            self.assertEqual(self.xml(d, 'hm-dimm'), live_a)
            self.assertEqual(self.xml(d, 'hm-vmem'), live_b)
            devs = d.api_json('GET', harness.dom_path('hm-vmem', '/memory-devices'))
            self.assertEqual(devs['devices'][0]['requested_kib'], 131072, devs)
            # ... and the operations still work on the reconnected QEMU.
            d.vsh('update-memory-device', 'hm-vmem', '--requested-size', '192M')
            self.wait_mem(d, 'hm-vmem', lambda m: abs(m - self.base_b - 196608) < 16384,
                          'the guest at 192 MiB of virtio-mem after the restart')

            # The DIMM attached with --config is in the next boot's command
            # line: the guest starts with it (and its own alias).
            d.vsh('destroy', 'hm-dimm')
            d.start_domain('hm-dimm')
            argv = harness.read_cmdline(d.qemu_pid('hm-dimm'))
            self.assertIn('size=262144k,slots=4,maxmem=1048576k', argv)
            self.assertIn('{"driver":"pc-dimm","memdev":"memdimm0","id":"dimm0"}', argv)
            self.wait_mem(d, 'hm-dimm', lambda m: abs(m - self.base_a - 262144) < 4096,
                          'the guest booted with the 256 MiB DIMM')
            self.assertIn("<alias name='dimm0'/>", self.xml(d, 'hm-dimm'))

    def dimm_part(self, d):
        name = 'hm-dimm'
        base = self.wait_mem(d, name, lambda m: m > 0, 'a status line')
        self.base_a = base
        self.assertLess(base, 262144)

        # Attach a 128 MiB DIMM live: the guest's MemTotal grows by it.
        rc, out, err = self.attach(d, name, dimm(128))
        self.assertEqual(rc, 0, err)
        self.assertIn('Device attached successfully', out)
        grown = self.wait_mem(d, name, lambda m: m >= base + 131072 - 1024,
                              'the guest seeing the DIMM')
        live = self.xml(d, name)
        self.assertIn("<memory unit='KiB'>393216</memory>", live)
        self.assertIn("<maxMemory slots='4' unit='KiB'>1048576</maxMemory>", live)
        self.assertRegex(live, r"(?s)<memory model='dimm'>.*<size unit='KiB'>131072</size>.*"
                               r"<alias name='dimm0'/>")
        # --current on a running domain is live only: config unchanged.
        self.assertNotIn("model='dimm'", self.xml(d, name, True))
        devs = d.api_json('GET', harness.dom_path(name, '/memory-devices'))
        self.assertEqual([x['alias'] for x in devs['devices']], ['dimm0'])

        # Refusals, nothing changed: above maxMemory, not a multiple of
        # 128 MiB, a duplicate alias.
        before = self.snapshot(d, name)
        self.assertRefused(d, name, self.attach(d, name, dimm(1024)),
                           "would exceed domain's maxMemory")
        self.assertRefused(d, name, self.attach(d, name, dimm(100)),
                           'not a multiple of 128 MiB')
        self.assertUnchanged(d, name, before)

        # Detach: the guest must offline the memory (ACPI eject). The test
        # guest onlined it as normal memory, where the kernel puts its own
        # allocations, so Linux usually cannot offline it: the clear
        # timeout error, the device stays, nothing changed.
        rc, out, err = self.detach(d, name, 'dimm0')
        if rc == 0:
            print('DIMM detach (normal zone): released by the guest')
            self.wait_mem(d, name, lambda m: m <= grown - 131072 + 1024,
                          'the guest without the DIMM')
            self.assertNotIn("<alias name='dimm0'/>", self.xml(d, name))
            grown -= 131072
        else:
            print('DIMM detach (normal zone): refused by the guest (timeout error)')
            self.assertIn('the guest did not release the memory device', err)
            self.assertIn('the device stays attached', err)
            self.assertIn("<alias name='dimm0'/>", self.xml(d, name))
            self.assertEqual(self.mem(d, name), grown)

        # Memory the kernel onlines as movable (typed on the guest's
        # console) can be offlined: that DIMM's detach completes.
        with d.console(name) as c:
            c.type_until('echo online_movable > /sys/devices/system/memory/auto_online_blocks'
                         ' && echo mv-$((40+2))', 'mv-42')
        rc, out, err = self.attach(d, name, dimm(128, 'ua-movable'))
        self.assertEqual(rc, 0, err)
        grown2 = self.wait_mem(d, name, lambda m: m >= grown + 131072 - 1024,
                               'the guest seeing the movable DIMM')
        rc, out, err = self.detach(d, name, 'ua-movable')
        self.assertEqual(rc, 0, err)
        self.assertIn('Device detached successfully', out)
        self.wait_mem(d, name, lambda m: m <= grown2 - 131072 + 1024,
                      'the guest without the movable DIMM')
        self.assertNotIn('ua-movable', self.xml(d, name))
        print('DIMM detach (movable zone): released by the guest')

        # Fill the slots, then one more is refused.
        have = self.xml(d, name).count("model='dimm'")
        mem = self.mem(d, name)
        for _ in range(4 - have):
            rc, out, err = self.attach(d, name, dimm(128))
            self.assertEqual(rc, 0, err)
        self.wait_mem(d, name, lambda m: m >= mem + (4 - have) * 131072 - 1024,
                      'the guest seeing all DIMMs')
        before = self.snapshot(d, name)
        self.assertRefused(d, name, self.attach(d, name, dimm(128)), 'no free memory slot')
        self.assertUnchanged(d, name, before)

        # --config: the persistent definition gets the device (and its
        # <memory> the total), the guest nothing.
        rc, out, err = self.attach(d, name, dimm(256), '--config')
        self.assertEqual(rc, 0, err)
        config = self.xml(d, name, True)
        self.assertIn("<memory unit='KiB'>524288</memory>", config)
        self.assertEqual(config.count("model='dimm'"), 1)

    def vmem_part(self, d):
        name = 'hm-vmem'
        base = self.wait_mem(d, name, lambda m: m > 0, 'a status line')
        self.base_b = base
        self.assertLess(base, 262144)
        rc, out, err = d.vsh('update-memory-device', name, '--requested-size', '256M')
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), '')
        self.wait_mem(d, name, lambda m: m >= base + 262144 - 4096,
                      'the guest growing by 256 MiB of virtio-mem')
        live = self.xml(d, name)
        self.assertIn("<requested unit='KiB'>262144</requested>", live)
        harness.wait_for(lambda: "<current unit='KiB'>262144</current>" in self.xml(d, name), 30,
                         what='<current> following the guest')
        self.assertIn("<requested unit='KiB'>0</requested>", self.xml(d, name, True))

        # Back to 128 MiB: the guest gives memory back.
        d.vsh('update-memory-device', name, '--alias', 'virtiomem0', '--requested-size',
              '131072', '--live')
        self.wait_mem(d, name, lambda m: abs(m - base - 131072) < 16384,
                      'the guest shrinking to 128 MiB of virtio-mem')
        devs = d.api_json('GET', harness.dom_path(name, '/memory-devices'))
        self.assertEqual(devs['devices'][0]['requested_kib'], 131072, devs)
        harness.wait_for(lambda: d.api_json('GET', harness.dom_path(name, '/memory-devices'))
                         ['devices'][0]['current_kib'] == 131072, 30, what='current 128 MiB')

        # --config alone: the next boot's <requested>, not the guest.
        d.vsh('update-memory-device', name, '--requested-size', '64M', '--config')
        self.assertIn("<requested unit='KiB'>65536</requested>", self.xml(d, name, True))
        self.assertIn("<requested unit='KiB'>131072</requested>", self.xml(d, name))

        # Refusals, nothing changed.
        before = self.snapshot(d, name)
        for args, message in (
                (('--requested-size', '1G'), 'is above its size'),
                (('--requested-size', '3M'), 'not a multiple of its block size'),
                (('--alias', 'nosuch', '--requested-size', '64M'), "no virtio-mem device with "
                                                                   "alias 'nosuch'")):
            self.assertRefused(d, name, d.vsh('update-memory-device', name, *args, check=False),
                               message)
        # a running virtio-mem device is shrunk, not unplugged
        self.assertRefused(d, name, d.vsh('detach-device', name, d.write_file(
            'hm-vdet.xml', "<memory model='virtio-mem'><target><size unit='MiB'>512</size>"
            "</target><alias name='virtiomem0'/></memory>"), check=False),
            "--requested-size 0")
        self.assertUnchanged(d, name, before)

    def plain_part(self, d):
        name = 'hm-plain'
        self.wait_mem(d, name, lambda m: m > 0, 'a status line')
        before = self.snapshot(d, name)
        self.assertRefused(d, name, self.attach(d, name, dimm(128)),
                           "the domain was started without <maxMemory slots=...>: set it with "
                           "'vsh edit'")
        self.assertRefused(d, name, d.vsh('update-memory-device', name, '--requested-size', '64M',
                                          check=False), 'has no virtio-mem memory device')
        self.assertUnchanged(d, name, before)


    def test_virtio_mem_q35_live(self):
        """A virtio-mem device attached to a running q35 guest goes into a
        free pcie-root-port (q35's root complex takes no hot-plugged
        device), grows when asked and the guest sees it."""
        name = 'hm-q35'
        ports = ("    <controller type='pci' model='pcie-root-port'/>\n" * 2)
        with Daemon(root=self.root) as d:
            d.define(name, harness.domain_xml(name, memory_mib=256, machine='q35',
                                              extra_devices=ports,
                                              extra_xml=MAXMEM, cmdline_extra='virtd.status=1'))
            d.start_domain(name)
            base = self.wait_mem(d, name, lambda m: m > 0, 'the guest reporting its memory')
            rc, out, err = self.attach(d, name, VMEM, '--live')
            self.assertEqual(rc, 0, err)
            self.assertIn("model='virtio-mem'", self.xml(d, name))
            self.assertNotIn("model='virtio-mem'", self.xml(d, name, True))
            # It sits behind a root port, not on pcie.0.
            pci = d.api_json('POST', harness.dom_path(name, '/qemu-monitor'),
                             {'execute': 'query-pci'})['return']
            behind = []
            for dev in pci[0]['devices']:
                for sub in dev.get('pci_bridge', {}).get('devices', []):
                    behind.append((dev.get('qdev_id'), sub.get('qdev_id')))
            self.assertIn('virtiomem0', [b for _p, b in behind], pci)
            self.assertTrue(all(p.startswith('pci.') for p, b in behind if b == 'virtiomem0'))
            d.vsh('update-memory-device', name, '--requested-size', '128M')
            self.wait_mem(d, name, lambda m: m >= base + 120 * 1024,
                          'the q35 guest growing by 128 MiB of virtio-mem')


if __name__ == '__main__':
    harness.main()
