#!/usr/bin/env python3
"""A domain's life through vsh: define, start, suspend/resume, ACPI shutdown,
start again, destroy, undefine; a transient domain; the XML and device lists."""

import os
import time
import xml.etree.ElementTree as ET

import harness
from harness import Daemon, domain_xml, disk_xml, parse_keyvals, parse_table


class Lifecycle(harness.VirtdTestCase):

    def test_full_cycle(self):
        name = 'life1'
        with Daemon() as d:
            self.assertEqual(d.list_all(), [])
            rc, out, _err = d.vsh('list')
            header, rows = parse_table(out)
            self.assertEqual(header, ['Id', 'Name', 'State'])
            self.assertEqual(rows, [])

            # define
            path = d.write_xml(name, domain_xml(name))
            self.assertVshOut(d.vsh('define', path), "Domain '%s' defined from %s" % (name, path))
            self.assertListed(d, name, 'shut off')
            self.assertIsNone(self.list_row(d, name, all_=False), 'list without --all shows a shut off domain')
            self.assertEqual(d.domstate(name), 'shut off')
            info = parse_keyvals(d.vsh('dominfo', name)[1])
            self.assertEqual(info.get('Name'), name)
            self.assertEqual(info.get('Id'), '-')
            self.assertEqual(info.get('State'), 'shut off')
            self.assertEqual(info.get('Persistent'), 'yes')
            self.assertRegex(info.get('UUID', ''), r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')

            # start
            self.assertVshOut(d.vsh('start', name), "Domain '%s' started" % name)
            self.assertEqual(d.domstate(name, reason=True), 'running (booted)')
            row = self.assertListed(d, name, 'running')
            self.assertEqual(self.list_row(d, name, all_=False), row, 'list without --all lacks a running domain')
            self.assertEqual(d.domid(name), row[0])
            pid = d.qemu_pid(name)
            self.assertIsNotNone(pid, 'no pid file %s' % d.pid_file_path(name))
            self.assertTrue(harness.pid_alive(pid))
            self.assertIn(pid, d.qemu_pids())
            boot1 = d.wait_boot(name)

            info = parse_keyvals(d.vsh('dominfo', name)[1])
            self.assertEqual(info.get('Id'), row[0])
            self.assertEqual(info.get('State'), 'running')
            self.assertEqual(info.get('CPU(s)'), '1')
            self.assertEqual(info.get('Max memory'), '262144 KiB')
            self.assertEqual(info.get('OS Type'), 'hvm')
            status = d.guest_status(name)
            self.assertEqual(status['cpus'], 1)

            # suspend: the guest stops printing
            self.assertVshOut(d.vsh('suspend', name), "Domain '%s' suspended" % name)
            self.assertEqual(d.domstate(name, reason=True), 'paused (user)')
            self.assertListed(d, name, 'paused')
            time.sleep(0.5)
            size = len(d.console_text(name))
            time.sleep(4.5)    # the guest prints a status line every 2 s
            self.assertEqual(len(d.console_text(name)), size, 'a paused guest kept printing')
            self.assertEqual(d.qemu_pid(name), pid)

            # resume: it prints again
            self.assertVshOut(d.vsh('resume', name), "Domain '%s' resumed" % name)
            self.assertEqual(d.domstate(name, reason=True), 'running (unpaused)')
            self.assertListed(d, name, 'running')
            harness.wait_for(lambda: len(d.console_text(name)) > size, 15,
                             what='console output after resume')

            # ACPI shutdown
            self.assertVshOut(d.vsh('shutdown', name), "Domain '%s' is being shutdown" % name)
            d.wait_state(name, 'shut off', timeout=harness.SHUTDOWN_TIMEOUT)
            self.assertEqual(d.domstate(name, reason=True), 'shut off (shutdown)')
            self.assertListed(d, name, 'shut off')
            self.assertNoQemu(d)
            self.assertFalse(harness.pid_alive(pid))
            self.assertIn('VIRTD-GUEST-POWERBUTTON', d.console_text(name),
                          'the guest did not see the power button')
            self.assertTrue(os.path.exists(d.qemu_log_path(name)), 'QEMU log not kept')

            # start again: a new boot, a new id
            self.assertVshOut(d.vsh('start', name), "Domain '%s' started" % name)
            row2 = self.assertListed(d, name, 'running')
            self.assertNotEqual(row2[0], row[0], 'ids are not reused (virsh)')
            boot2 = d.wait_boot(name, seen=[boot1])
            self.assertNotEqual(boot2, boot1)

            # destroy
            self.assertVshOut(d.vsh('destroy', name), "Domain '%s' destroyed" % name)
            self.assertEqual(d.domstate(name, reason=True), 'shut off (destroyed)')
            self.assertListed(d, name, 'shut off')
            self.assertNoQemu(d)
            self.assertEqual(d.summary(name)['id'], -1)

            # undefine
            self.assertVshOut(d.vsh('undefine', name), "Domain '%s' has been undefined" % name)
            self.assertNotListed(d, name)
            self.assertEqual(d.list_all(), [])
            rc, _out, err = d.vsh('domstate', name, check=False)
            self.assertEqual(rc, 4, err)

    def test_transient(self):
        name = 'trans1'
        with Daemon() as d:
            path = d.write_xml(name, domain_xml(name))
            self.assertVshOut(d.vsh('create', path), "Domain '%s' created from %s" % (name, path))
            self.assertListed(d, name, 'running')
            self.assertFalse(d.summary(name)['persistent'])
            info = parse_keyvals(d.vsh('dominfo', name)[1])
            self.assertEqual(info.get('Persistent'), 'no')
            d.wait_boot(name)
            self.assertVshOut(d.vsh('destroy', name), "Domain '%s' destroyed" % name)
            # A transient domain is gone once it stops.
            self.assertNotListed(d, name)
            self.assertNoQemu(d)
            rc, _out, err = d.vsh('domstate', name, check=False)
            self.assertEqual(rc, 4, err)

    def test_undefine_running_becomes_transient(self):
        name = 'undef1'
        with Daemon() as d:
            d.define(name)
            d.start_domain(name, wait_boot=False)
            self.assertVshOut(d.vsh('undefine', name), "Domain '%s' has been undefined" % name)
            self.assertListed(d, name, 'running')
            self.assertFalse(d.summary(name)['persistent'])
            d.vsh('destroy', name)
            self.assertNotListed(d, name)
            self.assertNoQemu(d)

    def test_dumpxml_and_device_lists(self):
        name = 'xml1'
        with Daemon() as d:
            img = d.path('images', 'disk0.img')
            os.makedirs(os.path.dirname(img))
            with open(img, 'wb') as f:
                f.truncate(16 << 20)
            devices = disk_xml(img, 'vda') + "\n    <interface type='user'><model type='virtio'/></interface>"
            # The guest's DHCP client on the user-mode network (QEMU's slirp
            # leases 10.0.2.15 with router 10.0.2.2).
            d.define(name, domain_xml(name, memory_mib=192, vcpus=2, extra_devices=devices,
                                      title='a test',
                                      cmdline_extra='virtd.net=dhcp virtd.hostname=' + name))

            root = ET.fromstring(d.vsh('dumpxml', name)[1])
            self.assertEqual(root.tag, 'domain')
            self.assertEqual(root.get('type'), 'qemu')
            self.assertEqual(root.findtext('name'), name)
            uuid = root.findtext('uuid')
            self.assertRegex(uuid or '', r'^[0-9a-f-]{36}$')
            self.assertEqual(root.findtext('vcpu'), '2')
            self.assertIsNone(root.get('id'), 'an inactive domain has no id')
            self.assertEqual(root.findtext('title'), 'a test')
            mac = root.find('devices/interface/mac')
            self.assertIsNotNone(mac, 'define fills in the MAC address')
            mac = mac.get('address')
            self.assertRegex(mac, r'^52:54:00(:[0-9a-f]{2}){3}$')

            _h, rows = parse_table(d.vsh('domblklist', name)[1])
            self.assertEqual(rows, [['vda', img]])
            header, rows = parse_table(d.vsh('domiflist', name)[1])
            self.assertEqual(header, ['Interface', 'Type', 'Source', 'Model', 'MAC'])
            self.assertEqual(rows, [['-', 'user', '-', 'virtio', mac]])

            d.start_domain(name)
            d.wait_console(name, 'VIRTD-GUEST-NET eth0 mac=%s ip=10.0.2.15/24 router=10.0.2.2'
                           % mac, timeout=30)
            live = ET.fromstring(d.vsh('dumpxml', name)[1])
            self.assertRegex(live.get('id') or '', r'^\d+$', 'a running domain has an id')
            self.assertEqual(live.get('id'), d.domid(name))
            self.assertEqual(live.findtext('uuid'), uuid)
            inactive = ET.fromstring(d.vsh('dumpxml', '--inactive', name)[1])
            self.assertIsNone(inactive.get('id'))
            self.assertEqual(inactive.findtext('uuid'), uuid)
            # Lookups by UUID and by id work as by name (virsh).
            self.assertEqual(d.domstate(uuid), 'running')
            self.assertEqual(d.domstate(live.get('id')), 'running')

            status = d.guest_status(name)
            self.assertEqual(status['cpus'], 2)
            self.assertIn('vda', status['disks'])
            self.assertEqual(status['nics'], ['eth0'])
            # 192 MiB, less what the kernel keeps for itself.
            self.assertTrue(100 * 1024 < status['mem_kib'] <= 192 * 1024, status)

            _h, rows = parse_table(d.vsh('domiflist', name)[1])
            self.assertEqual(len(rows), 1)
            self.assertEqual(rows[0][1:], ['user', '-', 'virtio', mac])
            _h, rows = parse_table(d.vsh('domblklist', name)[1])
            self.assertEqual(rows, [['vda', img]])
            # QEMU really opened that file.
            pid = d.qemu_pid(name)
            fds = []
            for fd in os.listdir('/proc/%d/fd' % pid):
                try:
                    fds.append(os.readlink('/proc/%d/fd/%s' % (pid, fd)))
                except OSError:
                    pass
            self.assertIn(img, fds)
            d.vsh('destroy', name)
            self.assertNoQemu(d)


if __name__ == '__main__':
    harness.main()
