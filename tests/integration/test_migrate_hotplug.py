#!/usr/bin/env python3
"""An incoming migration after hot-plugs (issue 14's follow-up to the slot
recording): a guest booted with vda, vdb, vdc that had vdb detached, a SCSI
disk (and with it the virtio-scsi controller) and a virtio-mem device
attached, moves live to the other host (migrate_lab.py, shared storage):
the destination's QEMU has every device in the slot the guest had it in,
the state loads, and the guest's counter goes on there in the same boot
with the same devices. Names: domain vmh1, the lab's own."""

import os
import re
import subprocess

import harness
import migrate_lab

COUNTER_RE = re.compile(r'VIRTD-GUEST-COUNTER n=(\d+) boot_id=(%s)' % harness.BOOT_ID_RE)
MAXMEM = "<maxMemory slots='4' unit='GiB'>1</maxMemory>"
VMEM = ("<memory model='virtio-mem'><target><size unit='MiB'>256</size>"
        "<block unit='KiB'>2048</block><requested unit='MiB'>0</requested></target></memory>")


def counters(d, name):
    return [(int(n), b) for n, b in COUNTER_RE.findall(d.console_text(name))]


def pci_ids(d, name):
    out = {}

    def walk(devices):
        for dev in devices:
            if dev.get('qdev_id'):
                out[dev['qdev_id']] = (dev['bus'], dev['slot'])
            walk(dev.get('pci_bridge', {}).get('devices', []))
    for bus in d.api_json('POST', harness.dom_path(name, '/qemu-monitor'),
                          {'execute': 'query-pci'})['return']:
        walk(bus['devices'])
    return out


class MigrateHotplug(migrate_lab.LabCase):

    def test_after_hotplugs(self):
        lab = migrate_lab.migrate_lab(self, storage='shared')
        name = 'vmh1'
        disks = {}
        for t in ('vda', 'vdb', 'vdc', 'sdb'):
            disks[t] = os.path.join(lab.pool_a, '%s-%s.qcow2' % (name, t))
            subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', disks[t], '16M'], check=True)
        xml = lab.guest_xml(name, lab.next_mac(), memory_mib=128, extra_devices=''.join(
            harness.disk_xml(disks[t], target=t, fmt='qcow2') for t in ('vda', 'vdb', 'vdc')))
        # cache='none': the safe mode for shared storage.
        xml = re.sub(r"<driver name='qemu' type=.qcow2./>",
                     "<driver name='qemu' type='qcow2' cache='none'/>",
                     xml.replace('</domain>', MAXMEM + '</domain>'))
        lab.a.define(name, xml)
        lab.a.start_domain(name)
        boot = harness.wait_for(lambda: counters(lab.a, name) and counters(lab.a, name)[-1][1],
                                60, what='a counter line')

        rc, _out, err = lab.a.vsh('detach-disk', name, 'vdb', '--live', check=False, timeout=90)
        self.assertEqual(rc, 0, err)
        lab.a.vsh('attach-disk', name, disks['sdb'], 'sdb', '--targetbus', 'scsi',
                  '--subdriver', 'qcow2', '--cache', 'none', '--live')
        rc, _out, err = lab.a.vsh('attach-device', name, lab.a.write_file('vmem.xml', VMEM),
                                  '--live', check=False)
        self.assertEqual(rc, 0, err)
        before = pci_ids(lab.a, name)
        self.assertNotIn('disk-vdb', before)
        for dev in ('disk-vdc', 'scsi0', 'virtiomem0', 'balloon0'):
            self.assertIn(dev, before)

        n = counters(lab.a, name)[-1][0]
        rc, _out, err = lab.a.vsh('migrate', '--live', name, lab.uri_b, check=False, timeout=120)
        self.assertEqual(rc, 0, err)
        self.assertEqual(lab.b.domstate(name, reason=True), 'running (migrated)')
        harness.wait_for(lambda: any(c > n for c, _b in counters(lab.b, name)), 30,
                         what='the counter going on on the destination')
        self.assertEqual({b for _c, b in counters(lab.b, name)}, {boot})
        self.assertEqual(pci_ids(lab.b, name), before)
        blk = lab.b.vsh('domblklist', name)[1]
        self.assertIn('vmh1-sdb.qcow2', blk)
        self.assertNotIn('vmh1-vdb.qcow2', blk)
        lab.b.vsh('destroy', name)


if __name__ == '__main__':
    harness.main()
