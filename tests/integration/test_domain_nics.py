#!/usr/bin/env python3
"""Guest network interfaces (issue 9): a type='bridge' interface on a test
bridge gets a tap that the daemon creates and hands to QEMU as a
descriptor; the interfaces API shows it; link state, counters, hot-plug
and hot-unplug act on the running guest; the tap goes with QEMU; a start
on a missing bridge or an inactive network is refused before anything is
spawned.

Everything on the host is named with the prefix 'vdd' (bridge vdd0, taps
vddt*) and 10.202.0.0/24 with a blackhole fallback route, removed at the
end even on failure. The daemon's root gets an empty networks directory
first, so that it does not create its 'default' network here."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import harness
from harness import Daemon

BRIDGE = 'vdd0'
SUBNET = '10.202.0.0/16'   # the blackhole fallback of every test subnet
MAC0 = '52:54:00:20:20:01'
MAC1 = '52:54:00:20:20:02'
GUEST_IP = '10.202.0.10'


def ip(*args, check=True):
    return subprocess.run(('ip',) + args, check=check, capture_output=True, text=True)


def link_exists(name):
    return os.path.exists('/sys/class/net/%s' % name)


def link_master(name):
    try:
        return os.path.basename(os.readlink('/sys/class/net/%s/master' % name))
    except OSError:
        return None


def link_mac(name):
    with open('/sys/class/net/%s/address' % name) as f:
        return f.read().strip()


def send_datagrams(addr, count):
    """UDP datagrams to the guest, out of the test bridge only
    (SO_BINDTODEVICE)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, BRIDGE.encode())
        for _ in range(count):
            s.sendto(b'virtd-test' * 10, (addr, 9))
            time.sleep(0.2)
    finally:
        s.close()


def nic_xml(mac, tap, bridge=BRIDGE, extra=''):
    return ("    <interface type='bridge'>\n"
            "      <mac address='%s'/>\n"
            "      <source bridge='%s'/>\n"
            "      <target dev='%s'/>\n"
            "      <model type='virtio'/>\n%s"
            "    </interface>\n" % (mac, bridge, tap, extra))


def private_root():
    base = os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir()
    root = tempfile.mkdtemp(prefix='virtd-test-nics-', dir=base)
    os.makedirs(os.path.join(root, 'etc', 'networks'))
    return root


class DomainNics(harness.VirtdTestCase):

    def setUp(self):
        super().setUp()
        for name in (BRIDGE, 'vddt0', 'vddt1'):
            if link_exists(name):
                ip('link', 'del', name, check=False)
        ip('route', 'del', 'blackhole', SUBNET, 'metric', '4000', check=False)
        ip('route', 'add', 'blackhole', SUBNET, 'metric', '4000')
        self.addCleanup(ip, 'route', 'del', 'blackhole', SUBNET, 'metric', '4000', check=False)
        ip('link', 'add', BRIDGE, 'type', 'bridge')
        self.addCleanup(self._remove_links)
        ip('addr', 'add', '10.202.0.1/24', 'dev', BRIDGE)
        ip('link', 'set', BRIDGE, 'up')
        self.root = private_root()
        self.addCleanup(shutil.rmtree, self.root, True)

    def _remove_links(self):
        for name in ('vddt0', 'vddt1', 'vdd1', BRIDGE):
            if link_exists(name):
                ip('link', 'del', name, check=False)

    def daemon(self):
        # No dnsmasq of ours forwards a query to the host's resolvers.
        return Daemon(root=self.root, args=['--dns-forward=none'])

    def ifaces(self, d, name, inactive=False):
        q = '?inactive=1' if inactive else ''
        return d.api_json('GET', harness.dom_path(name, '/interfaces' + q))['interfaces']

    def test_bridge_nic_lifecycle(self):
        name = 'vddnic1'
        with self.daemon() as d:
            xml = harness.domain_xml(name, extra_devices=nic_xml(MAC0, 'vddt0'),
                                     cmdline_extra='virtd.status=1')
            d.define(name, xml)
            # Defined only: no host device yet.
            rows = self.ifaces(d, name)
            self.assertEqual(rows[0]['interface'], '-', rows)
            self.assertFalse(link_exists('vddt0'))

            d.start_domain(name)
            pid = d.qemu_pid(name)

            # The daemon made the tap, on the bridge, with the guest's MAC
            # behind fe: (so the bridge never takes the guest's address).
            self.assertTrue(link_exists('vddt0'))
            self.assertEqual(link_master('vddt0'), BRIDGE)
            self.assertEqual(link_mac('vddt0'), 'fe' + MAC0[2:])

            # QEMU got a descriptor, never a name to open.
            argv = harness.read_cmdline(pid)
            netdevs = [a for a in argv if '"type":"tap"' in a]
            self.assertEqual(len(netdevs), 1, argv)
            self.assertIn('"fd":"3"', netdevs[0])
            self.assertNotIn('ifname', ' '.join(argv))
            fds = os.listdir('/proc/%d/fd' % pid)
            self.assertIn('3', fds)
            self.assertEqual(os.readlink('/proc/%d/fd/3' % pid), '/dev/net/tun')

            rows = self.ifaces(d, name)
            self.assertEqual(len(rows), 1, rows)
            self.assertEqual(rows[0]['interface'], 'vddt0')
            self.assertEqual(rows[0]['type'], 'bridge')
            self.assertEqual(rows[0]['source'], BRIDGE)
            self.assertEqual(rows[0]['model'], 'virtio')
            self.assertEqual(rows[0]['mac'], MAC0)
            self.assertEqual(rows[0]['link'], 'up')
            self.assertEqual(rows[0]['alias'], 'net0')
            out = d.vsh('domiflist', name)[1]
            self.assertRegex(out, r'vddt0\s+bridge\s+vdd0\s+virtio\s+%s' % MAC0)
            live = d.api('GET', harness.dom_path(name, '/xml')).body.decode()
            self.assertIn("<target dev='vddt0'/>", live)
            self.assertIn("<alias name='net0'/>", live)

            harness.wait_for(lambda: (d.guest_status(name) or {}).get('nics') == ['eth0'],
                             30, what='nics=eth0 in the guest status')

            # Counters and ARP: the guest's NIC gets an address (typed on
            # its console), the host sends it datagrams; ARP answers and
            # the guest's ICMP replies are what the guest transmits.
            with d.console(name) as c:
                c.type_until('ip link set eth0 up && ip addr add %s/24 dev eth0 && '
                             'echo up-$((40+2))' % GUEST_IP, 'up-42')
                stats_path = harness.dom_path(name, '/interfaces/vddt0/stats')
                before = d.api_json('GET', stats_path)
                send_datagrams(GUEST_IP, 5)
                after = d.api_json('GET', stats_path)
                self.assertGreater(after['rx_bytes'], before['rx_bytes'], (before, after))
                self.assertGreater(after['rx_packets'], before['rx_packets'], (before, after))
                self.assertGreater(after['tx_bytes'], before['tx_bytes'], (before, after))

                addrs = d.api_json('GET', harness.dom_path(
                    name, '/interfaces/addresses?source=arp'))['interfaces']
                self.assertEqual(len(addrs), 1, addrs)
                self.assertEqual(addrs[0]['name'], 'vddt0')
                self.assertEqual(addrs[0]['mac'], MAC0)
                self.assertEqual(addrs[0]['addrs'][0]['addr'], GUEST_IP)
                # This guest has no agent channel: refused, naming the fix.
                r = d.api('GET', harness.dom_path(name, '/interfaces/addresses?source=agent'))
                self.assertEqual(r.error_code(), 'unsupported', r.body)
                self.assertIn("<channel type='unix'>", r.error_message())

                # Link down: the guest's NIC loses its carrier (QEMU's
                # set_link), the API says so; then up again.
                link = harness.dom_path(name, '/interfaces/%s/link' % MAC0)
                self.assertEqual(d.api_json('GET', link), {'state': 'up'})
                self.assertEqual(d.api_json('PUT', link, {'state': 'down'}), {'state': 'down'})
                self.assertEqual(d.api_json('GET', link), {'state': 'down'})
                self.assertEqual(d.api_json('GET', link + '?inactive=1'), {'state': 'up'})
                self.assertIn("<link state='down'/>",
                              d.api('GET', harness.dom_path(name, '/xml')).body.decode())
                c.type_until('echo carrier-$(cat /sys/class/net/eth0/carrier)-x',
                             'carrier-0-x')
                self.assertEqual(d.api_json('PUT', link, {'state': 'up'}), {'state': 'up'})
                c.type_until('echo carrier-$(cat /sys/class/net/eth0/carrier)-x',
                             'carrier-1-x')
                # --config alone: the persistent definition, not the guest.
                self.assertEqual(d.api_json('PUT', link, {'state': 'down', 'config': True}),
                                 {'state': 'down'})
                self.assertEqual(d.api_json('GET', link + '?inactive=1'), {'state': 'down'})
                self.assertEqual(d.api_json('GET', link), {'state': 'up'})
                d.api_json('PUT', link, {'state': 'up', 'config': True})
                self.assertNotIn('<link', d.vsh('dumpxml', '--inactive', name)[1].replace(
                    "<link state='up'/>", ''))

            # Hot-plug: a second NIC appears in the guest.
            frag = nic_xml(MAC1, 'vddt1')
            r = d.api('POST', harness.dom_path(name, '/devices?live=1'), frag)
            self.assertEqual(r.status, 201, r.body)
            self.assertIn(MAC1, r.json()['device'])
            self.assertEqual(link_master('vddt1'), BRIDGE)
            harness.wait_for(
                lambda: (d.guest_status(name) or {}).get('nics') == ['eth0', 'eth1'],
                30, what=lambda: 'nics=eth0,eth1 in the guest status (last %r)' %
                d.guest_status(name))
            rows = self.ifaces(d, name)
            self.assertEqual([r['interface'] for r in rows], ['vddt0', 'vddt1'], rows)
            self.assertEqual(rows[1]['alias'], 'net1')
            # Live only: the persistent definition has one interface.
            self.assertEqual(len(self.ifaces(d, name, inactive=True)), 1)

            # The same MAC again is refused, naming it.
            r = d.api('POST', harness.dom_path(name, '/devices?live=1'),
                      nic_xml(MAC1, 'vddt2'))
            self.assertEqual(r.status, 400, r.body)
            self.assertIn(MAC1, r.error_message())
            self.assertFalse(link_exists('vddt2'))

            # Devices virtd does not hot-plug: refused by name (disks are
            # hot-plugged since issue 11: test_hotplug_disk.py).
            r = d.api('POST', harness.dom_path(name, '/devices?live=1'),
                      "<sound model='ich9'/>")
            self.assertEqual(r.error_code(), 'unsupported', r.body)
            self.assertIn('<sound>', r.error_message())

            # Hot-unplug: the guest lets go, the tap goes.
            r = d.api('POST', harness.dom_path(name, '/devices/detach?live=1'),
                      "<interface type='bridge'><mac address='%s'/></interface>" % MAC1)
            self.assertEqual(r.status, 200, r.body)
            harness.wait_for(lambda: not link_exists('vddt1'), 10, what='vddt1 gone')
            harness.wait_for(lambda: (d.guest_status(name) or {}).get('nics') == ['eth0'],
                             30, what='nics=eth0 again in the guest status')
            self.assertEqual([r['interface'] for r in self.ifaces(d, name)], ['vddt0'])

            d.vsh('destroy', name)
            harness.wait_for(lambda: not link_exists('vddt0'), 10, what='vddt0 gone')
            self.assertNoQemu(d)

    def test_network_and_direct(self):
        """type='network' on a forward-mode-bridge network over vdd0 (no
        dnsmasq, no rules): refused while the network is inactive, then a
        tap on vdd0. type='direct': a macvtap on the test's veth, deleted
        when the domain stops, also after a daemon restart."""
        ip('link', 'add', 'vddv0', 'type', 'veth', 'peer', 'name', 'vddv1')
        self.addCleanup(ip, 'link', 'del', 'vddv0', check=False)
        ip('link', 'set', 'vddv0', 'up')
        with self.daemon() as d:
            net_xml = ("<network><name>vddnet</name><forward mode='bridge'/>"
                       "<bridge name='%s'/></network>" % BRIDGE)
            d.api_json('POST', '/v1/networks', net_xml, expect=201)
            name = 'vddnic5'
            devs = ("<interface type='network'><mac address='%s'/>"
                    "<source network='vddnet'/><target dev='vddt0'/>"
                    "<model type='e1000'/></interface>\n"
                    "<interface type='direct'><mac address='%s'/>"
                    "<source dev='vddv0' mode='bridge'/><target dev='vddm0'/></interface>"
                    % (MAC0, MAC1))
            d.define(name, harness.domain_xml(name, extra_devices=devs))
            rc, _out, err = d.vsh('start', name, check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn("network 'vddnet' is not active", err)
            self.assertEqual(d.qemu_pids(), [])
            self.assertFalse(link_exists('vddt0') or link_exists('vddm0'))

            d.api_json('POST', '/v1/networks/vddnet/start')
            d.start_domain(name)
            self.assertEqual(link_master('vddt0'), BRIDGE)
            self.assertTrue(link_exists('vddm0'))
            self.assertEqual(link_mac('vddm0'), MAC1)
            argv = ' '.join(harness.read_cmdline(d.qemu_pid(name)))
            self.assertIn('"fd":"3"', argv)
            self.assertIn('"fd":"4"', argv)
            rows = self.ifaces(d, name)
            self.assertEqual([(r['interface'], r['type'], r['source']) for r in rows],
                             [('vddt0', 'network', 'vddnet'), ('vddm0', 'direct', 'vddv0')])

            # The daemon restarts; the macvtap is still deleted at the end,
            # from the live definition it recorded.
            d.stop()
            d.start()
            self.assertEqual(d.domstate(name), 'running')
            d.vsh('destroy', name)
            harness.wait_for(lambda: not link_exists('vddm0') and not link_exists('vddt0'),
                             10, what='vddm0 and vddt0 gone')
            d.api_json('POST', '/v1/networks/vddnet/destroy')
            self.assertTrue(link_exists(BRIDGE), 'a forward-bridge network deleted its bridge')

    def test_network_lease(self):
        """An isolated network of ours (bridge vdd1, DHCP from its dnsmasq):
        the guest's lease is what domifaddr --source lease shows."""
        net_xml = ("<network><name>vddiso</name><bridge name='vdd1'/>"
                   "<ip address='10.202.1.1' prefix='24'><dhcp>"
                   "<range start='10.202.1.100' end='10.202.1.120'/></dhcp></ip></network>")
        with self.daemon() as d:
            d.api_json('POST', '/v1/networks?start=1', net_xml, expect=201)
            try:
                name = 'vddnic6'
                devs = ("<interface type='network'><mac address='%s'/>"
                        "<source network='vddiso'/><target dev='vddt0'/>"
                        "<model type='virtio'/></interface>" % MAC0)
                d.define(name, harness.domain_xml(name, extra_devices=devs,
                                                  cmdline_extra='virtd.net=dhcp'))
                d.start_domain(name)
                self.assertEqual(link_master('vddt0'), 'vdd1')
                d.wait_console(name, 'VIRTD-GUEST-NET eth0 mac=%s ip=10.202.1.' % MAC0,
                               timeout=60)
                path = harness.dom_path(name, '/interfaces/addresses?source=lease')

                def lease():
                    rows = d.api_json('GET', path)['interfaces']
                    return rows if rows and rows[0]['addrs'] else None
                rows = harness.wait_for(lease, 20, what='a lease in domifaddr')
                self.assertEqual(rows[0]['name'], 'vddt0')
                self.assertEqual(rows[0]['mac'], MAC0)
                addr = rows[0]['addrs'][0]
                self.assertEqual((addr['type'], addr['prefix']), ('ipv4', 24))
                self.assertTrue(addr['addr'].startswith('10.202.1.1'), addr)
                self.assertIn('ip=%s/24' % addr['addr'], d.console_text(name))

                # A hot-added NIC on the network gets its lease too.
                r = d.api('POST', harness.dom_path(name, '/devices?live=1'),
                          "<interface type='network'><mac address='%s'/>"
                          "<source network='vddiso'/><target dev='vddt1'/>"
                          "<model type='virtio'/></interface>" % MAC1)
                self.assertEqual(r.status, 201, r.body)
                self.assertEqual(link_master('vddt1'), 'vdd1')
                d.wait_console(name, 'VIRTD-GUEST-NET eth1 mac=%s ip=10.202.1.' % MAC1,
                               timeout=60)
                rows = harness.wait_for(
                    lambda: (lambda x: x if len(x) == 2 else None)(
                        d.api_json('GET', path)['interfaces']),
                    20, what='two leases in domifaddr')
                self.assertEqual([r['name'] for r in rows], ['vddt0', 'vddt1'])
                d.vsh('destroy', name)
            finally:
                d.api('POST', '/v1/networks/vddiso/destroy')
            self.assertFalse(link_exists('vdd1'))

    def test_refused_before_spawn(self):
        with self.daemon() as d:
            # A bridge that does not exist.
            name = 'vddnic2'
            d.define(name, harness.domain_xml(name, extra_devices=nic_xml(MAC0, 'vddt0',
                                                                           bridge='vdd9')))
            rc, _out, err = d.vsh('start', name, check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn("bridge 'vdd9' does not exist", err)
            self.assertEqual(d.domstate(name), 'shut off')
            self.assertEqual(d.qemu_pids(), [])
            self.assertFalse(link_exists('vddt0'))

            # Not a bridge: the test's own tap.
            ip('tuntap', 'add', 'vddt1', 'mode', 'tap')
            name = 'vddnic2b'
            d.define(name, harness.domain_xml(name, extra_devices=nic_xml(MAC1, 'vddt0',
                                                                           bridge='vddt1')))
            rc, _out, err = d.vsh('start', name, check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn("'vddt1' is not a bridge", err)
            self.assertEqual(d.qemu_pids(), [])

            # A network that does not exist.
            name = 'vddnic3'
            d.define(name, harness.domain_xml(name, extra_devices=(
                "<interface type='network'><source network='vddnone'/></interface>")))
            rc, _out, err = d.vsh('start', name, check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn("'vddnone'", err)
            self.assertEqual(d.qemu_pids(), [])

            # A shut-off domain: attach and detach change its definition.
            dev = harness.dom_path(name, '/devices')
            mac = '52:54:00:20:20:07'
            r = d.api('POST', dev, nic_xml(MAC1, 'vddt5'))
            self.assertEqual(r.error_code(), 'invalid-argument', r.body)
            self.assertIn("domain 'vddnic2b'", r.error_message())
            r = d.api('POST', dev, nic_xml(mac, 'vddt5'))
            self.assertEqual(r.status, 201, r.body)
            rows = self.ifaces(d, name)
            self.assertEqual([r['mac'] for r in rows][1:], [mac], rows)
            r = d.api('POST', dev + '?live=1', nic_xml('52:54:00:20:20:09', 'vddt6'))
            self.assertEqual(r.error_code(), 'invalid-state', r.body)
            r = d.api('POST', dev + '/detach', "<interface type='bridge'/>")
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(len(self.ifaces(d, name)), 1)
            self.assertNotIn(mac, d.vsh('dumpxml', name)[1])

            # The MAC of another domain is refused at define, naming it.
            path = d.write_xml('vddnic4', harness.domain_xml(
                'vddnic4', extra_devices=nic_xml(MAC0, 'vddt3')))
            rc, _out, err = d.vsh('define', path, check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn(MAC0, err)
            self.assertIn('vddnic2', err)


if __name__ == '__main__':
    harness.main()
