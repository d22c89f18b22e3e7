#!/usr/bin/env python3
"""CPU features, Hyper-V, timers, <pm> and NUMA cells (issue 10, cpu-ext):
the test guest dressed as virt-install dresses a Windows guest, with its
memory given only by two NUMA cells, starts under TCG and boots; the guest
sees the features, the two nodes with their CPUs and memory; the start
says (domain log and daemon log) which enlightenments TCG dropped."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, domain_xml  # noqa: E402
from test_network_guests import Shell  # noqa: E402

NAME = 'vtcpu-win1'
CELLS_MIB = (192, 128)
TOTAL_KIB = sum(CELLS_MIB) * 1024

EXTRA = """  <features>
    <acpi/>
    <apic/>
    <hyperv mode='custom'>
      <relaxed state='on'/>
      <vapic state='on'/>
      <spinlocks state='on' retries='8191'/>
      <vpindex state='on'/>
      <synic state='on'/>
      <stimer state='on'/>
    </hyperv>
    <vmport state='off'/>
  </features>
  <cpu mode='custom' match='exact' check='partial'>
    <model fallback='allow'>Skylake-Client-noTSX-IBRS</model>
    <feature policy='require' name='pdpe1gb'/>
    <feature policy='disable' name='abm'/>
    <numa>
      <cell id='0' cpus='0' memory='%d' unit='MiB'/>
      <cell id='1' cpus='1' memory='%d' unit='KiB'/>
    </numa>
  </cpu>
  <clock offset='utc'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='hpet' present='no'/>
    <timer name='hypervclock' present='yes'/>
  </clock>
  <pm>
    <suspend-to-mem enabled='no'/>
    <suspend-to-disk enabled='no'/>
  </pm>
""" % (CELLS_MIB[0], CELLS_MIB[1] * 1024)

HYPERV_NOTE = ("Hyper-V enlightenments 'relaxed', 'vapic', 'spinlocks', 'vpindex', 'synic', "
               "'stimer', 'hypervclock' dropped: TCG has none (they only speed up Windows "
               "under KVM)")


def guest_xml():
    """domain_xml() with no <memory>/<currentMemory> and this file's
    features, CPU, clock and pm."""
    xml = domain_xml(NAME, vcpus=2)
    lines = [l for l in xml.splitlines()
             if '<memory' not in l and '<currentMemory' not in l]
    xml = '\n'.join(lines) + '\n'
    plain = '  <features><acpi/><apic/></features>\n'
    assert plain in xml, xml
    return xml.replace(plain, EXTRA)


class CpuExt(harness.VirtdTestCase):

    def test_numa_hyperv_guest(self):
        with Daemon() as d:
            path = d.write_xml(NAME, guest_xml())
            rc, out, err = d.vsh('define', path)
            # The family's elements are acted on: define reports none of them.
            for word in ('hyperv', 'timer', '<domain/pm>', 'numa', 'cpu/feature'):
                self.assertNotIn(word, out + err)
            info = harness.parse_keyvals(d.vsh('dominfo', NAME)[1])
            self.assertEqual(info.get('Max memory'), '%d KiB' % TOTAL_KIB)
            self.assertIn('>%d</memory>' % TOTAL_KIB, d.vsh('dumpxml', NAME)[1])

            d.start_domain(NAME)
            self.assertEqual(d.domstate(NAME, reason=True), 'running (booted)')

            # What QEMU was given: two nodes, hpet off, no enlightenment.
            argv = harness.read_cmdline(d.qemu_pid(NAME))
            self.assertEqual(argv.count('-numa'), 2, argv)
            self.assertIn('hpet=off', argv)
            self.assertIn('PIIX4_PM.disable_s3=1', argv)
            self.assertFalse([a for a in argv if 'hv-' in a], argv)

            # The note, in the domain's log and the daemon's.
            with open(d.qemu_log_path(NAME), encoding='utf-8', errors='replace') as f:
                self.assertIn('note: ' + HYPERV_NOTE, f.read())
            with open(d.path(harness.DAEMON_LOG), encoding='utf-8', errors='replace') as f:
                self.assertIn("domain '%s': %s" % (NAME, HYPERV_NOTE), f.read())

            status = d.guest_status(NAME)
            self.assertEqual(status['cpus'], 2)
            # MemTotal is what the kernel keeps after its own reservations.
            self.assertLessEqual(status['mem_kib'], TOTAL_KIB)
            self.assertGreater(status['mem_kib'], TOTAL_KIB * 0.75)

            with Shell(d, NAME) as sh:
                rc, out = sh.run('ls -d /sys/devices/system/node/node* | wc -l')
                self.assertEqual((rc, out.split()[-1]), (0, '2'), out)
                for node, cpu in ((0, '0'), (1, '1')):
                    rc, out = sh.run('cat /sys/devices/system/node/node%d/cpulist' % node)
                    self.assertEqual(out.split()[-1], cpu, out)
                    rc, out = sh.run("grep MemTotal /sys/devices/system/node/node%d/meminfo"
                                     % node)
                    m = re.search(r'MemTotal:\s+(\d+) kB', out)
                    self.assertIsNotNone(m, out)
                    cell_kib = CELLS_MIB[node] * 1024
                    self.assertLessEqual(int(m.group(1)), cell_kib)
                    self.assertGreater(int(m.group(1)), cell_kib * 0.6)
                rc, out = sh.run('grep -m1 ^flags /proc/cpuinfo')
                flags = out.split()
                self.assertIn('pdpe1gb', flags)
                self.assertNotIn('abm', flags)
                self.assertIn('hypervisor', flags)

            d.vsh('destroy', NAME)
            self.assertNoQemu(d)


if __name__ == '__main__':
    harness.main()
