#!/usr/bin/env python3
"""vCPU hot-plug (issue 11): setvcpus --live adds CPUs with device_add at
the free slots query-hotpluggable-cpus lists and removes the highest with
device_del (the guest ejects them); the guest's STATUS line shows each
count. vcpucount, vcpuinfo, vcpupin (live: the thread's Cpus_allowed_list;
config: dumpxml), emulatorpin; every refusal leaves the live and
persistent definitions and the guest as they were; a live change
survives a daemon restart; --config --maximum takes effect at the next
start.

Everything is named with the prefix 'hv' (domains hv-1 ..., the daemon's
root under a temporary 'hv-' directory), removed at the end."""

import os
import re
import shutil
import tempfile
import unittest

import harness
from harness import Daemon

HOST_CPUS = os.cpu_count() or 1


def vcpu_xml(name, current=1, maximum=4, machine='pc', extra_xml=''):
    xml = harness.domain_xml(name, memory_mib=192, vcpus=maximum, machine=machine,
                             cmdline_extra='virtd.status=1', extra_xml=extra_xml)
    return xml.replace("<vcpu>%d</vcpu>" % maximum,
                       "<vcpu current='%d'>%d</vcpu>" % (current, maximum))


def private_root():
    base = os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir()
    return tempfile.mkdtemp(prefix='hv-', dir=base)


def vcpu_of_xml(xml):
    m = re.search(r"<vcpu([^>]*)>(\d+)</vcpu>", xml)
    assert m, xml
    cur = re.search(r"current='(\d+)'", m.group(1))
    return (int(cur.group(1) if cur else m.group(2)), int(m.group(2)))


def cpus_allowed(pid, tid):
    with open('/proc/%d/task/%d/status' % (pid, tid)) as f:
        for line in f:
            if line.startswith('Cpus_allowed_list:'):
                return line.split(':', 1)[1].strip()
    return None


class HotplugVcpu(harness.VirtdTestCase):

    def setUp(self):
        super().setUp()
        self.root = private_root()
        self.addCleanup(shutil.rmtree, self.root, True)

    def wait_cpus(self, d, name, n, timeout=60):
        def check():
            st = d.guest_status(name)
            return st if st and st['cpus'] == n else None
        return harness.wait_for(check, timeout, interval=0.5,
                                what=lambda: 'guest %s sees %d CPUs (last status %r)' %
                                (name, n, d.guest_status(name)))

    def state(self, d, name):
        """(live <vcpu>, config <vcpu>, guest cpus) as (current, max) pairs."""
        live = d.vsh('dumpxml', name)[1]
        config = d.vsh('dumpxml', name, '--inactive')[1]
        return vcpu_of_xml(live), vcpu_of_xml(config), live, config

    def assertUnchanged(self, d, name, before, cpus):
        after = self.state(d, name)
        self.assertEqual(after[:2], before[:2])
        self.assertEqual(after[2], before[2])
        self.assertEqual(after[3], before[3])
        # Two more status lines: the guest still sees the same count.
        seen = d.console_text(name).count('VIRTD-GUEST-STATUS')
        harness.wait_for(lambda: d.console_text(name).count('VIRTD-GUEST-STATUS') >= seen + 2,
                         20, what='two more status lines')
        self.assertEqual(d.guest_status(name)['cpus'], cpus)

    def test_hotplug_unplug_pin_restart(self):
        name = 'hv-1'
        with Daemon(root=self.root) as d:
            d.define(name, vcpu_xml(name, 1, 4))
            # vcpucount on a shut-off domain: only the config rows.
            out = d.vsh('vcpucount', name)[1]
            self.assertEqual(out.strip('\n'),
                             'maximum      config         4\n'
                             'current      config         1')
            out = d.vsh('vcpuinfo', name)[1]
            self.assertEqual(out.strip('\n'), 'VCPU:           0\nCPU:            N/A\n'
                             'State:          N/A\nCPU time:       N/A\n'
                             'CPU Affinity:   ' + 'y' * HOST_CPUS)
            # A live change on a shut-off domain is refused.
            err = d.vsh_fail('setvcpus', name, '2', '--live')[2]
            self.assertIn('domain is not running', err)

            d.start_domain(name)
            self.wait_cpus(d, name, 1)
            pid = d.qemu_pid(name)

            # Hot-plug 2 CPUs: the guest sees 3.
            d.vsh('setvcpus', name, '3', '--live')
            self.wait_cpus(d, name, 3)
            live, config, _l, _c = self.state(d, name)
            self.assertEqual(live, (3, 4))
            self.assertEqual(config, (1, 4))
            out = d.vsh('vcpucount', name)[1]
            self.assertEqual(out.strip('\n'),
                             'maximum      config         4\n'
                             'maximum      live           4\n'
                             'current      config         1\n'
                             'current      live           3')
            self.assertEqual(d.vsh('vcpucount', name, '--maximum', '--live')[1].strip(), '4')
            self.assertEqual(d.vsh('vcpucount', name, '--active', '--config')[1].strip(), '1')

            # vcpuinfo: three blocks from the vCPU threads.
            out = d.vsh('vcpuinfo', name)[1]
            blocks = [b for b in out.split('\n\n') if b.strip()]
            self.assertEqual(len(blocks), 3, out)
            for i, b in enumerate(blocks):
                lines = b.strip('\n').split('\n')
                self.assertEqual(lines[0], 'VCPU:           %d' % i)
                self.assertRegex(lines[1], r'^CPU:            \d+$')
                self.assertEqual(lines[2], 'State:          running')
                self.assertRegex(lines[3], r'^CPU time:       \d+\.\ds$')
                self.assertEqual(lines[4], 'CPU Affinity:   ' + 'y' * HOST_CPUS)
            out = d.vsh('vcpuinfo', name, '--pretty')[1]
            self.assertIn('CPU Affinity:   0-%d (out of %d)' % (HOST_CPUS - 1, HOST_CPUS), out)

            # Refusals, nothing changed.
            before = self.state(d, name)
            err = d.vsh_fail('setvcpus', name, '8', '--live')[2]
            self.assertIn('requested vcpus is greater than max allowable vcpus for the live '
                          'domain: 8 > 4', err)
            self.assertIn('--config --maximum', err)
            err = d.vsh_fail('setvcpus', name, '0', '--live')[2]
            self.assertIn('at least 1', err)
            err = d.vsh_fail('setvcpus', name, '6', '--maximum', '--live')[2]
            self.assertIn("maximum vcpu count of a live domain can't be modified", err)
            err = d.vsh_fail('vcpupin', name, '0', str(HOST_CPUS + 3), '--live')[2]
            self.assertIn("Physical CPU %d doesn't exist" % (HOST_CPUS + 3), err)
            err = d.vsh_fail('emulatorpin', name, '0,%d' % (HOST_CPUS + 1))[2]
            self.assertIn("Physical CPU %d doesn't exist" % (HOST_CPUS + 1), err)
            err = d.vsh_fail('vcpupin', name, '3', '0', '--live')[2]
            self.assertIn('vcpu 3 is out of range of live cpu count 3', err)
            err = d.vsh_fail('setvcpus', name, '5', '--config')[2]
            self.assertIn('requested vcpus is greater than max allowable vcpus for the '
                          'persistent domain: 5 > 4', err)
            self.assertUnchanged(d, name, before, 3)

            # vcpupin --live: the thread's affinity.
            info = d.api_json('GET', harness.dom_path(name, '/vcpus'))
            tids = {v['vcpu']: v['thread_id'] for v in info['vcpus']}
            self.assertEqual(sorted(tids), [0, 1, 2])
            d.vsh('vcpupin', name, '1', '0', '--live')
            self.assertEqual(cpus_allowed(pid, tids[1]), '0')
            self.assertEqual(cpus_allowed(pid, tids[0]), '0-%d' % (HOST_CPUS - 1)
                             if HOST_CPUS > 1 else '0')
            out = d.vsh('vcpupin', name)[1]
            all_cpus = '0-%d' % (HOST_CPUS - 1) if HOST_CPUS > 1 else '0'
            self.assertIn(' VCPU   CPU Affinity\n', out)
            self.assertRegex(out, r'\n 1      0\n')
            self.assertIn("<vcpupin vcpu='1' cpuset='0'/>", d.vsh('dumpxml', name)[1])
            self.assertNotIn('vcpupin', d.vsh('dumpxml', name, '--inactive')[1])
            # vcpupin --config: the definition only.
            d.vsh('vcpupin', name, '3', '0', '--config')
            self.assertIn("<vcpupin vcpu='3' cpuset='0'/>",
                          d.vsh('dumpxml', name, '--inactive')[1])
            out = d.vsh('vcpupin', name, '--config')[1]
            self.assertRegex(out, r'\n 3      0\n')
            self.assertRegex(out, r'\n 0      %s\n' % re.escape(all_cpus))
            # emulatorpin --live: QEMU's main thread.
            d.vsh('emulatorpin', name, '0', '--live')
            self.assertEqual(cpus_allowed(pid, pid), '0')
            out = d.vsh('emulatorpin', name)[1]
            self.assertEqual(out, 'emulator: CPU Affinity\n'
                             '----------------------------------\n'
                             '       *: 0\n\n')
            # The vCPU threads kept their own affinity.
            self.assertEqual(cpus_allowed(pid, tids[0]), all_cpus)

            # Hot-unplug one: the guest releases it and sees 2.
            d.vsh('setvcpus', name, '2', '--live')
            self.wait_cpus(d, name, 2)
            live, config, _l, _c = self.state(d, name)
            self.assertEqual(live, (2, 4))
            out = d.vsh('vcpuinfo', name)[1]
            self.assertEqual(len([b for b in out.split('\n\n') if b.strip()]), 2, out)
            # QEMU 7.2's TCG crashes on a plug after an unplug: refused.
            before = self.state(d, name)
            err = d.vsh_fail('setvcpus', name, '3', '--live')[2]
            self.assertIn('hot-plugged after one was hot-unplugged', err)
            self.assertUnchanged(d, name, before, 2)
            self.assertEqual(d.qemu_pid(name), pid)

            # The live change survives a daemon restart (status file).
            d.restart()
            live, config, _l, _c = self.state(d, name)
            self.assertEqual(live, (2, 4))
            self.assertEqual(d.vsh('vcpucount', name, '--active', '--live')[1].strip(), '2')
            self.assertEqual(d.qemu_pid(name), pid)
            # ... and the threads are found again.
            out = d.vsh('vcpuinfo', name)[1]
            self.assertEqual(len([b for b in out.split('\n\n') if b.strip()]), 2, out)
            # ... and so is the refusal of a plug after an unplug (QEMU
            # would crash just the same after a daemon restart).
            err = d.vsh_fail('setvcpus', name, '3', '--live')[2]
            self.assertIn('hot-plugged after one was hot-unplugged', err)
            self.assertEqual(d.qemu_pid(name), pid)
            # An unplug the guest does not complete (it is paused): after
            # 10 s the error says so and nothing changed.
            d.vsh('suspend', name)
            before = self.state(d, name)
            err = d.vsh_fail('setvcpus', name, '1', timeout=60)[2]   # --current: live
            self.assertIn('the guest did not release the CPU', err)
            self.assertIn('the domain keeps 2 vCPUs', err)
            self.assertEqual(self.state(d, name)[:2], before[:2])
            self.assertEqual(d.vsh('vcpucount', name, '--active', '--live')[1].strip(), '2')
            # Resumed, the guest ejects it late: the live definition follows.
            d.vsh('resume', name)
            self.wait_cpus(d, name, 1)
            harness.wait_for(lambda: self.state(d, name)[0] == (1, 4), 20,
                             what='the late release in the live definition')

            # --config --maximum, then a restart of the domain: new maximum.
            d.vsh('setvcpus', name, '6', '--config', '--maximum')
            d.vsh('setvcpus', name, '2', '--config')
            live, config, _l, _c = self.state(d, name)
            self.assertEqual(live, (1, 4))
            self.assertEqual(config, (2, 6))
            d.vsh('vcpupin', name, '0', '0', '--config')
            d.vsh('destroy', name)
            d.start_domain(name)
            self.wait_cpus(d, name, 2)
            out = d.vsh('vcpucount', name)[1]
            self.assertIn('maximum      live           6', out)
            self.assertIn('current      live           2', out)
            # The vcpupin of the definition was applied at start.
            pid = d.qemu_pid(name)
            d.vsh('setvcpus', name, '4', '--live')
            self.wait_cpus(d, name, 4)
            info = d.api_json('GET', harness.dom_path(name, '/vcpus'))
            tids = {v['vcpu']: v['thread_id'] for v in info['vcpus']}
            self.assertEqual(cpus_allowed(pid, tids[0]), '0')   # at start
            self.assertEqual(cpus_allowed(pid, tids[3]), '0')   # after the hot-plug
            self.assertEqual(cpus_allowed(pid, tids[1]), all_cpus)
            d.vsh('destroy', name)

    def test_q35(self):
        name = 'hv-2'
        with Daemon(root=self.root) as d:
            d.define(name, vcpu_xml(name, 1, 2, machine='q35'))
            d.start_domain(name)
            self.wait_cpus(d, name, 1)
            d.vsh('setvcpus', name, '2', '--live', '--config')
            self.wait_cpus(d, name, 2)
            live, config, _l, _c = self.state(d, name)
            self.assertEqual((live, config), ((2, 2), (2, 2)))
            err = d.vsh_fail('setvcpus', name, '3', '--live')[2]
            self.assertIn('max allowable vcpus for the live domain: 3 > 2', err)
            d.vsh('setvcpus', name, '1', '--live')
            self.wait_cpus(d, name, 1)
            self.assertEqual(self.state(d, name)[:2], ((1, 2), (2, 2)))
            d.vsh('destroy', name)


if __name__ == '__main__':
    unittest.main()
