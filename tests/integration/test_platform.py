#!/usr/bin/env python3
"""The platform family of issue 10 with real guests (TCG): what the guest
sees of <sysinfo>/<smbios> and fw_cfg, a watchdog whose action the daemon
honours and reports, q35 with virt-install's pcie-root-ports and qemu-xhci
as the guest's PCI devices, and the refusals for what this host lacks
(launchSecurity, hostdev, vsock) with their reasons, before any QEMU."""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import Daemon, domain_xml, parse_table, wait_for  # noqa: E402
from test_network_guests import Shell  # noqa: E402

UUID = 'c7a5fdbd-cdaf-9455-926a-d65c16db1809'

SYSINFO = """
  <sysinfo type='smbios'>
    <bios><entry name='vendor'>virtd BIOS, Inc.</entry><entry name='version'>4.2</entry></bios>
    <system>
      <entry name='manufacturer'>virtd-test-vendor</entry>
      <entry name='product'>virtd-test-product</entry>
      <entry name='version'>1.0</entry>
      <entry name='serial'>ds=nocloud;s=http://10.0.0.1/</entry>
      <entry name='uuid'>%s</entry>
      <entry name='family'>virtd-family</entry>
    </system>
    <baseBoard><entry name='manufacturer'>board-maker</entry>
      <entry name='product'>board-1</entry></baseBoard>
    <chassis><entry name='manufacturer'>chassis-maker</entry>
      <entry name='asset'>asset-42</entry></chassis>
    <oemStrings><entry>oem:one</entry></oemStrings>
  </sysinfo>
  <sysinfo type='fwcfg'>
    <entry name='opt/org.virtd/config'>hello, fw_cfg</entry>
  </sysinfo>
""" % UUID


def with_smbios_mode(xml, mode):
    return xml.replace('  </os>', "    <smbios mode='%s'/>\n  </os>" % mode, 1)


class Platform(harness.VirtdTestCase):

    def test_sysinfo_seen_by_guest(self):
        """<smbios mode='sysinfo'>: the guest's DMI ids are the XML's
        (values with commas and spaces intact), and the fw_cfg entry is
        readable in the guest."""
        name = 'vtplt-sysinfo'
        with Daemon() as d:
            xml = with_smbios_mode(domain_xml(name, uuid=UUID, extra_xml=SYSINFO), 'sysinfo')
            d.define(name, xml)
            d.start_domain(name)
            with Shell(d, name) as sh:
                want = {
                    'bios_vendor': 'virtd BIOS, Inc.',
                    'bios_version': '4.2',
                    'sys_vendor': 'virtd-test-vendor',
                    'product_name': 'virtd-test-product',
                    'product_version': '1.0',
                    'product_serial': 'ds=nocloud;s=http://10.0.0.1/',
                    'product_uuid': UUID,
                    'product_family': 'virtd-family',
                    'board_vendor': 'board-maker',
                    'board_name': 'board-1',
                    'chassis_vendor': 'chassis-maker',
                    'chassis_asset_tag': 'asset-42',
                }
                for f, value in sorted(want.items()):
                    rc, out = sh.run('cat /sys/class/dmi/id/%s' % f)
                    self.assertEqual(rc, 0, '%s: %r' % (f, out))
                    self.assertIn(value, out, 'guest /sys/class/dmi/id/%s' % f)
                rc, out = sh.run('cat /sys/firmware/qemu_fw_cfg/by_name/opt/org.virtd/config/raw')
                self.assertEqual(rc, 0, out)
                self.assertIn('hello, fw_cfg', out)
            d.vsh('destroy', name)

            # Without <smbios mode='sysinfo'>: QEMU's own tables (as libvirt).
            plain = 'vtplt-nosmbios'
            d.define(plain, domain_xml(plain, extra_xml=SYSINFO))
            d.start_domain(plain)
            with Shell(d, plain) as sh:
                rc, out = sh.run('cat /sys/class/dmi/id/product_name')
                self.assertEqual(rc, 0, out)
                self.assertNotIn('virtd-test-product', out)
                self.assertIn('Standard PC', out)
            d.vsh('destroy', plain)

    def test_shared_memfd_memory(self):
        """<memoryBacking> memfd, shared: the guest boots on it and QEMU's
        RAM is a shared memfd mapping in QEMU's /proc maps."""
        name = 'vtplt-memfd'
        with Daemon() as d:
            d.define(name, domain_xml(name, extra_xml=(
                "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>")))
            d.start_domain(name)
            with open('/proc/%d/maps' % d.qemu_pid(name)) as f:
                memfds = [line.split()[1] for line in f if '/memfd:memory-backend-memfd' in line]
            # One shared (s) mapping: the guest's RAM.
            self.assertEqual(memfds, ['rw-s'])
            d.vsh('destroy', name)

    def arm_watchdog(self, d, name):
        """Starts the guest's watchdog with a 2 s timeout and never feeds
        it again (-t 300)."""
        with Shell(d, name) as sh:
            rc, out = sh.run('ls /dev/watchdog')
            self.assertEqual(rc, 0, 'no /dev/watchdog in the guest (i6300esb): %r' % out)
            rc, out = sh.run('watchdog -T 2 -t 300 /dev/watchdog')
            self.assertEqual(rc, 0, out)

    def test_watchdog_pause(self):
        """action='pause': the watchdog fires, QEMU pauses the guest, and
        the daemon says why (paused (watchdog)); resume runs it again."""
        name = 'vtplt-wdpause'
        with Daemon() as d:
            d.define(name, domain_xml(
                name, extra_devices="    <watchdog model='i6300esb' action='pause'/>"))
            d.start_domain(name)
            self.assertEqual(d.domstate(name, reason=True), 'running (booted)')
            self.arm_watchdog(d, name)
            d.wait_state(name, 'paused (watchdog)', timeout=60, reason=True)
            self.assertIn('watchdog', d.daemon_log_tail(200))
            # A restarted daemon finds it the same (QEMU's status 'watchdog').
            d.restart()
            self.assertEqual(d.domstate(name, reason=True), 'paused (watchdog)')
            d.vsh('destroy', name)
            self.assertNoQemu(d)

    def test_watchdog_reset(self):
        """action='reset': the watchdog reboots the guest (a second boot,
        same QEMU)."""
        name = 'vtplt-wdreset'
        with Daemon() as d:
            d.define(name, domain_xml(
                name, extra_devices="    <watchdog model='i6300esb' action='reset'/>"))
            first = d.start_domain(name)
            pid = d.qemu_pid(name)
            self.arm_watchdog(d, name)
            d.wait_boot(name, seen=[first], timeout=120)
            self.assertEqual(d.qemu_pid(name), pid)
            self.assertEqual(d.domstate(name), 'running')
            d.vsh('destroy', name)

    def test_q35_root_ports_and_xhci(self):
        """virt-install's q35 controllers: the guest sees 14 PCIe root
        ports (class 0x060400) and one xHCI (0x0c0330), the only USB
        controller although a USB tablet is there too; the virtio disk
        still works."""
        name = 'vtplt-q35'
        img = None
        with Daemon() as d:
            img = d.path('vtplt-q35.raw')
            with open(img, 'wb') as f:
                f.truncate(16 << 20)
            devices = '\n'.join(
                ["    <controller type='usb' model='qemu-xhci' ports='15'/>",
                 "    <controller type='pci' model='pcie-root'/>"] +
                ["    <controller type='pci' model='pcie-root-port'/>"] * 14 +
                ["    <controller type='virtio-serial' index='0'/>",
                 "    <controller type='sata' index='0'/>",
                 "    <input type='tablet' bus='usb'/>",
                 harness.disk_xml(img)])
            d.define(name, domain_xml(name, machine='q35', extra_devices=devices))
            d.start_domain(name)
            self.assertIn('vda', d.guest_status(name)['disks'])
            with Shell(d, name) as sh:
                rc, out = sh.run('cat /sys/bus/pci/devices/*/class')
                self.assertEqual(rc, 0, out)
                classes = [line.strip() for line in out.splitlines()
                           if line.strip().startswith('0x')]
                self.assertEqual(classes.count('0x060400'), 14, classes)
                self.assertEqual(classes.count('0x0c0330'), 1, classes)
            d.vsh('destroy', name)

    def test_q35_hotplug_into_root_port(self):
        """q35 hot-plugs only into PCIe root ports: the boot-time NIC is in
        one, so it can be unplugged; an interface attached live goes into a
        free one (the guest sees eth0 appear, and again after a detach and a
        second attach); without root ports the attach says what to add."""
        name = 'vtplt-q35hp'
        with Daemon() as d:
            # The balloon and the boot-time NIC take a port each (as with
            # libvirt), so the NIC can be unplugged; one is left.
            ports = '\n'.join(["    <controller type='pci' model='pcie-root-port'/>"] * 3 +
                              ["    <interface type='user'><model type='virtio'/></interface>"])
            d.define(name, domain_xml(name, machine='q35', extra_devices=ports))
            d.start_domain(name)
            self.assertEqual(d.guest_status(name)['nics'], ['eth0'])

            def nics(want):
                def check():
                    found = re.findall(r'VIRTD-GUEST-STATUS .* nics=(\S*)(?: sizes=\S*)?\r?\n',
                                       d.console_text(name))
                    return found and found[-1] == want
                wait_for(check, 60, interval=0.5, what='nics=%r in the guest' % want)

            mac = parse_table(d.vsh('domiflist', name)[1])[1][0][4]
            d.vsh('detach-interface', name, 'user', '--mac', mac, '--live')
            nics('')
            for _ in range(2):
                d.vsh('attach-interface', name, 'user', '--model', 'virtio', '--live')
                nics('eth0')
                mac = parse_table(d.vsh('domiflist', name)[1])[1][0][4]
                d.vsh('detach-interface', name, 'user', '--mac', mac, '--live')
                nics('')
            d.vsh('destroy', name)

            bare = 'vtplt-q35bare'
            d.define(bare, domain_xml(bare, machine='q35'))
            d.start_domain(bare)
            _rc, out, err = d.vsh_fail('attach-interface', bare, 'user', '--live')
            self.assertIn('no free PCIe root port', out + err)
            self.assertIn("model='pcie-root-port'", out + err)
            d.vsh('destroy', bare)

    def test_refusals_name_the_host(self):
        """Start refuses what this host lacks, with the reason, before any
        QEMU runs (this CI host has no SEV, TDX, VFIO, vhost-vsock or DMI)."""
        cases = [
            ("<launchSecurity type='sev'><policy>0x07</policy></launchSecurity>", '',
             'needs AMD SEV on the host: this host has none (no /dev/sev'),
            ("<launchSecurity type='tdx'/>", '', 'needs Intel TDX on the host'),
            ('', "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                 "<address domain='0x0000' bus='0x06' slot='0x02' function='0x0'/>"
                 "</source></hostdev>",
             'needs VFIO: this host has no /dev/vfio/vfio'),
            ('', "<vsock model='virtio'><cid auto='yes'/></vsock>",
             'needs /dev/vhost-vsock, which this host lacks: load the vhost_vsock module '
             '(modprobe vhost_vsock)'),
            ('', "<graphics type='vnc'><gl enable='yes'/></graphics>",
             'needs a render node (/dev/dri/renderD*)'),
            ('', "<graphics type='egl-headless'/>", 'needs a render node (/dev/dri/renderD*)'),
            ("<memoryBacking><hugepages/></memoryBacking>", '',
             'needs 256 MiB of free 2048 KiB huge pages: this host has '),
        ]
        for probe in ('/dev/sev', '/dev/vfio/vfio', '/dev/vhost-vsock', '/dev/dri'):
            self.assertFalse(os.path.exists(probe),
                             '%s exists: this test expects a host without it' % probe)
        free = '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages'
        if os.path.exists(free):
            with open(free) as f:
                self.assertLess(int(f.read()), 128, 'this test expects < 256 MiB of free huge pages')
        with Daemon() as d:
            for i, (top, dev, reason) in enumerate(cases):
                name = 'vtplt-refuse%d' % i
                d.define(name, domain_xml(name, extra_devices=dev, extra_xml=top))
                _rc, out, err = d.vsh_fail('start', name)
                self.assertIn(reason, out + err)
                self.assertEqual(d.domstate(name), 'shut off')
            host = 'vtplt-smbios-host'
            d.define(host, with_smbios_mode(domain_xml(host), 'host'))
            _rc, out, err = d.vsh_fail('start', host)
            self.assertIn('/sys/class/dmi/id cannot be read', out + err)
            self.assertNoQemu(d)


if __name__ == '__main__':
    harness.main()
