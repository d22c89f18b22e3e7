#!/usr/bin/env python3
"""Memory through the balloon (issue 11 item 4): setmem lowers and raises
what a running guest has (its MemTotal: Linux's virtio_balloon takes the
inflated pages out of the kernel's total when deflate-on-oom is off, as
QEMU's default is), the live <currentMemory> follows QEMU's BALLOON_CHANGE
and survives a daemon restart; --config; setmaxmem --config seen by the
guest after a restart; dommemstat in virsh's shape; every refusal leaves
the guest and both definitions as they were; a domain whose memory is
given only by NUMA cells starts with their sum.

Everything is named hb-*: the daemon's root /tmp/hb-*, domains hb-1..3."""

import os
import re
import shutil
import tempfile

import harness
from harness import Daemon

MIB = 1024
BALLOON = "    <memballoon model='virtio'><stats period='1'/></memballoon>\n"
# A status line every second (the guest's default: 2 s): each refusal waits
# for two fresh ones.
STATUS = 'virtd.status=1'


def current_kib(xml):
    m = re.search(r"<currentMemory unit='KiB'>(\d+)</currentMemory>", xml)
    return int(m.group(1)) if m else None


def max_kib(xml):
    m = re.search(r"<memory unit='KiB'>(\d+)</memory>", xml)
    return int(m.group(1)) if m else None


class HotplugBalloon(harness.VirtdTestCase):

    def setUp(self):
        super().setUp()
        # Under the CI's private directory when there is one (its sweep).
        base = os.environ.get('VIRTD_TEST_TMPDIR') or '/tmp'
        self.root = tempfile.mkdtemp(prefix='hb-', dir=base)
        self.addCleanup(shutil.rmtree, self.root, True)

    def xml(self, d, name, inactive=False):
        return d.vsh(*(['dumpxml', name] + (['--inactive'] if inactive else [])))[1]

    def mem(self, d, name):
        return (d.guest_status(name) or {}).get('mem_kib')

    def wait_mem(self, d, name, pred, what, timeout=60):
        harness.wait_for(lambda: self.mem(d, name) is not None and pred(self.mem(d, name)),
                         timeout, interval=0.2,
                         what=lambda: '%s (guest mem_kib=%s)' % (what, self.mem(d, name)))
        return self.mem(d, name)

    def snapshot(self, d, name):
        """What a refusal must leave as it was: both definitions."""
        return (self.xml(d, name), self.xml(d, name, inactive=True))

    def assert_refused(self, d, name, args, message, running=True):
        before = self.snapshot(d, name)
        mem = self.mem(d, name) if running else None
        _rc, out, err = d.vsh_fail(*args)
        self.assertIn(message, err)
        self.assertEqual(out.strip(), '')
        self.assertEqual(self.snapshot(d, name), before)
        if running:
            # Two more status lines from the guest: the same memory.
            n = d.console_text(name).count('VIRTD-GUEST-STATUS')
            harness.wait_for(lambda: d.console_text(name).count('VIRTD-GUEST-STATUS') >= n + 2,
                             20, what='two more status lines')
            self.assertEqual(self.mem(d, name), mem)
        return err

    def test_setmem_setmaxmem_dommemstat(self):
        name = 'hb-1'
        with Daemon(root=self.root) as d:
            d.define(name, harness.domain_xml(name, memory_mib=256, extra_devices=BALLOON,
                                              cmdline_extra=STATUS))
            # Live on a shut-off domain: refused, nothing changed.
            self.assert_refused(d, name, ['setmem', name, '200M', '--live'],
                                'error: Requested operation is not valid: domain is not running',
                                running=False)
            d.start_domain(name)
            full = self.wait_mem(d, name, lambda m: m > 0, 'a status line')

            # Lower: the guest's MemTotal drops by the 64 MiB the balloon took.
            _rc, out, _err = d.vsh('setmem', name, '192M')
            self.assertEqual(out.strip(), '')
            low = self.wait_mem(d, name, lambda m: m <= full - 60 * MIB, 'the balloon inflated')
            self.assertGreater(low, full - 68 * MIB)
            harness.wait_for(lambda: current_kib(self.xml(d, name)) == 192 * MIB, 20,
                             what='live <currentMemory> 196608')
            self.assertEqual(max_kib(self.xml(d, name)), 256 * MIB)
            self.assertEqual(current_kib(self.xml(d, name, inactive=True)), 256 * MIB)
            info = d.vsh('dominfo', name)[1]
            self.assertRegex(info, r'Used memory:\s+196608 KiB')
            self.assertRegex(info, r'Max memory:\s+262144 KiB')

            # dommemstat: virsh's names and order; the guest's own figures
            # once it has reported (period 1 s from <stats period='1'/>).
            def stats():
                text = d.vsh('dommemstat', name)[1]
                return [tuple(l.split(' ')) for l in text.splitlines() if l]
            harness.wait_for(lambda: 'last_update' in [k for k, _v in stats()], 30,
                             what='guest statistics in dommemstat')
            rows = stats()
            keys = [k for k, _v in rows]
            self.assertEqual(keys[0], 'actual')
            self.assertEqual(keys[-1], 'rss')
            for k in ('swap_in', 'swap_out', 'major_fault', 'minor_fault', 'unused',
                      'available', 'usable', 'last_update', 'disk_caches'):
                self.assertIn(k, keys)
            order = ['actual', 'swap_in', 'swap_out', 'major_fault', 'minor_fault', 'unused',
                     'available', 'usable', 'last_update', 'disk_caches', 'hugetlb_pgalloc',
                     'hugetlb_pgfail', 'rss']
            self.assertEqual(keys, [k for k in order if k in keys])
            vals = dict((k, int(v)) for k, v in rows)
            self.assertEqual(vals['actual'], 192 * MIB)
            # The guest's total is what its status line says, give or take
            # what the kernel frees or reserves between the two readings
            # (exactly 2 MiB apart once in CI's sanitizer pass).
            self.assertLessEqual(abs(vals['available'] - self.mem(d, name)), 4 * MIB)
            self.assertGreater(vals['rss'], 10 * MIB)
            # --period: live and config.
            d.vsh('dommemstat', name, '--period', '5', '--live', '--config')
            self.assertIn("<stats period='5'/>", self.xml(d, name, inactive=True))
            self.assertIn("<stats period='5'/>", self.xml(d, name))

            # Refusals, nothing changed: above the maximum (live, config),
            # a live maximum.
            err = self.assert_refused(d, name, ['setmem', name, '300M'],
                                      'error: invalid argument: cannot set memory higher than '
                                      'max memory')
            self.assertIn('setmaxmem --config', err)
            self.assert_refused(d, name, ['setmem', name, '300M', '--config'],
                                'error: invalid argument: cannot set memory higher than '
                                'max memory')
            err = self.assert_refused(d, name, ['setmaxmem', name, '512M', '--live'],
                                      'error: Requested operation is not valid: cannot resize '
                                      'the maximum memory on an active domain')
            self.assertIn('hot-plug memory', err)
            self.assert_refused(d, name, ['setmaxmem', name, '512M'],
                                'cannot resize the maximum memory on an active domain')
            self.assert_refused(d, name, ['setmem', name, '100M', '--current', '--live'],
                                'error: Options --current and --live are mutually exclusive')

            # The live value survives a daemon restart.
            d.restart()
            self.assertEqual(current_kib(self.xml(d, name)), 192 * MIB)
            self.assertRegex(d.vsh('dominfo', name)[1], r'Used memory:\s+196608 KiB')

            # Back up.
            d.vsh('setmem', name, str(256 * MIB), '--live')
            self.wait_mem(d, name, lambda m: m >= full - MIB, 'the balloon deflated')
            harness.wait_for(lambda: current_kib(self.xml(d, name)) == 256 * MIB, 20,
                             what='live <currentMemory> back to 262144')

            # --config: the definition only.
            d.vsh('setmem', name, '224MiB', '--config')
            self.assertEqual(current_kib(self.xml(d, name, inactive=True)), 224 * MIB)
            self.assertEqual(current_kib(self.xml(d, name)), 256 * MIB)
            # setmaxmem --config; then one below the current lowers it.
            d.vsh('setmaxmem', name, '320M', '--config')
            d.vsh('setmem', name, '320M', '--config')
            d.vsh('setmaxmem', name, str(304 * MIB), '--config')
            inactive = self.xml(d, name, inactive=True)
            self.assertEqual(max_kib(inactive), 304 * MIB)
            self.assertEqual(current_kib(inactive), 304 * MIB)
            self.assertEqual(max_kib(self.xml(d, name)), 256 * MIB)

            # The next boot: the guest has 48 MiB more (less the kernel's
            # page structures for them, about 1.5 %).
            d.vsh('destroy', name)
            d.start_domain(name)
            self.wait_mem(d, name, lambda m: m >= full + 45 * MIB, 'the new maximum')
            self.assertLessEqual(self.mem(d, name), full + 48 * MIB)
            self.assertEqual(current_kib(self.xml(d, name)), 304 * MIB)
            d.vsh('destroy', name)

    def test_no_balloon_and_numa(self):
        with Daemon(root=self.root) as d:
            # No balloon: setmem --live refused naming it; dommemstat: rss.
            name = 'hb-2'
            d.define(name, harness.domain_xml(
                name, memory_mib=128, extra_devices="    <memballoon model='none'/>\n",
                cmdline_extra=STATUS))
            d.start_domain(name)
            self.wait_mem(d, name, lambda m: m > 0, 'a status line')
            err = self.assert_refused(d, name, ['setmem', name, '100M', '--live'],
                                      'error: Requested operation is not valid: Unable to change '
                                      'memory of active domain without the balloon device')
            self.assertIn("<memballoon model='none'>", err)
            err = self.assert_refused(d, name, ['dommemstat', name, '--period', '2', '--live'],
                                      'error: Unable to change balloon collection period.\n'
                                      'error: Requested operation is not valid: No memory '
                                      'balloon device configured')
            self.assertIn("<memballoon model='none'>", err)
            keys = [l.split(' ')[0] for l in d.vsh('dommemstat', name)[1].splitlines() if l]
            self.assertEqual(keys, ['rss'])
            d.vsh('destroy', name)

            # Memory only in NUMA cells: <memory> is their sum, the guest
            # has it (as a 192 MiB guest given by <memory>).
            ref = 'hb-3'
            d.define(ref, harness.domain_xml(ref, memory_mib=192, vcpus=2))
            d.start_domain(ref)
            ref_mem = self.wait_mem(d, ref, lambda m: m > 0, 'a status line')
            d.vsh('destroy', ref)
            name = 'hb-4'
            xml = harness.domain_xml(name, vcpus=2, extra_xml=(
                "  <cpu><numa><cell id='0' cpus='0' memory='96' unit='MiB'/>"
                "<cell id='1' cpus='1' memory='98304' unit='KiB'/></numa></cpu>"))
            xml = re.sub(r"  <(memory|currentMemory) unit='MiB'>\d+</\1>\n", '', xml)
            self.assertNotIn('<memory', xml)
            d.define(name, xml)
            inactive = self.xml(d, name, inactive=True)
            self.assertEqual(max_kib(inactive), 192 * MIB)
            self.assertEqual(current_kib(inactive), 192 * MIB)
            self.assert_refused(d, name, ['setmaxmem', name, '256M', '--config'],
                                'initial memory size of a domain with NUMA nodes cannot be '
                                'modified', running=False)
            d.start_domain(name)
            mem = self.wait_mem(d, name, lambda m: m > 0, 'a status line')
            self.assertLess(abs(mem - ref_mem), 2 * MIB, (mem, ref_mem))
            self.assertEqual(max_kib(self.xml(d, name)), 192 * MIB)
            d.vsh('destroy', name)


if __name__ == '__main__':
    harness.main()
