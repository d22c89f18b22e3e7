#!/usr/bin/env python3
"""Guests on virtual networks, end to end (issue 9): NAT, isolated, routed
and bridged guests with real DHCP leases, DNS by host name, masquerade as
seen from "the outside" (a namespace joined to the host by a veth pair),
static and live-updated DHCP hosts, hot-plugged NICs, a daemon killed
while guests run, and nothing left on the host at the end.

One daemon and one NetLab for the whole file (guests boot once); the tests
run in the order of their names and the last one takes everything down.
Every host object has the lab's prefix; the harness and the lab remove
them even when a test fails. Written against docs/api.md "Networks" and
"Domain interfaces" and virsh's output shapes.
"""

import os
import re
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (Daemon, NetLab, domain_xml, parse_table, wait_for,  # noqa: E402
                     TIMEOUT_SCALE)
import netlab  # noqa: E402

MEM = 128
LEASE_TIMEOUT = 90 * TIMEOUT_SCALE
_NET_RE = re.compile(r'VIRTD-GUEST-NET (eth\d+) mac=(\S+) ip=([\d.]+)/(\d+) router=(\S*)')


def net_xml(name, bridge, subnet, forward=None, hosts=(), dhcp=True):
    """libvirt network XML on subnet 'A.B.C' (A.B.C.1/24, DHCP .100-.199)."""
    fwd = "  <forward mode='%s'/>\n" % forward if forward else ''
    dh = ''
    if dhcp:
        dh = ("    <dhcp>\n      <range start='%s.100' end='%s.199'/>\n" % (subnet, subnet) +
              ''.join("      <host mac='%s' name='%s' ip='%s'/>\n" % h for h in hosts) +
              "    </dhcp>\n")
    return ("<network>\n  <name>%s</name>\n%s  <bridge name='%s'/>\n"
            "  <ip address='%s.1' netmask='255.255.255.0'>\n%s  </ip>\n</network>\n"
            % (name, fwd, bridge, subnet, dh))


def nic_xml(kind, source, mac=None, model='virtio'):
    attr = 'network' if kind == 'network' else 'bridge'
    return ("    <interface type='%s'>%s<source %s='%s'/><model type='%s'/></interface>"
            % (kind, "<mac address='%s'/>" % mac if mac else '', attr, source, model))


def http_get(addr, port=80, timeout=5):
    with urllib.request.urlopen('http://%s:%d/' % (addr, port), timeout=timeout) as r:
        return r.read().decode()


class Guest:
    """What the test knows of one guest: its console offset of the current
    boot, its leases as the guest printed them."""

    def __init__(self, d, name):
        self.d, self.name = d, name
        self.offset = 0

    def mark(self):
        """Forget what the console said so far (before a start)."""
        self.offset = len(self.d.console_text(self.name))

    def leases(self):
        text = self.d.console_text(self.name)
        if len(text) < self.offset:          # the log was started afresh
            self.offset = 0
        return _NET_RE.findall(text[self.offset:])

    def wait_lease(self, iface='eth0', timeout=LEASE_TIMEOUT):
        """The (mac, ip, prefix, router) of @iface's first lease this boot."""
        def check():
            for i, mac, ip, prefix, router in self.leases():
                if i == iface:
                    return mac, ip, int(prefix), router
            return None
        return wait_for(check, timeout, interval=0.25,
                        what=lambda: 'a DHCP lease on %s of %s; console ends with:\n%s' %
                        (iface, self.name, self.d.console_text(self.name)[-1500:]))


class Shell:
    """Commands typed at a guest's console shell through `vsh console`."""

    def __init__(self, d, name):
        self.con = d.console(name)
        self.n = 0
        self.con.type_until('echo "up$((6*7))"', 'up42', attempts=10)

    def run(self, cmd, timeout=30):
        """(exit status, output) of @cmd in the guest."""
        self.n += 1
        marker = '@%d-rc' % (1000 + self.n)
        start = len(self.con.buf)
        self.con.type_line('%s; echo "@$((1000+%d))-rc$?"' % (cmd, self.n))
        end = self.con.read_until(marker, timeout=timeout, start=start)
        self.con.read_until('\n', timeout=5, start=end)
        text = self.con.buf[start:].decode('utf-8', 'replace')
        m = re.search(re.escape(marker) + r'(\d+)', text)
        body = text[:text.index(marker)]
        return int(m.group(1)), body

    def close(self):
        self.con.detach()
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class NetworkGuests(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.lab = lab = NetLab().__enter__()
        try:
            cls.d = d = Daemon().__enter__()
            status = d.api('GET', '/v1/networks').status
            if status != 200:
                raise AssertionError('GET /v1/networks answered %d, not 200' % status)
            cls._setup(lab, d)
        except BaseException:
            cls._teardown()
            raise

    @classmethod
    def _setup(cls, lab, d):
        p = lab.prefix
        cls.nat, cls.iso, cls.rt, cls.outside, cls.lan = (lab.subnet() for _ in range(5))
        cls.br = {'nat1': p + '-nat', 'iso1': p + '-iso', 'rt1': p + '-rt'}
        cls.g2_mac = '52:54:00:fd:%02x:02' % (os.getpid() & 0xff)
        cls.g3_mac = '52:54:00:fd:%02x:03' % (os.getpid() & 0xff)

        # The outside: a namespace behind a veth pair, with a server that
        # logs its clients; a route back to the routed network.
        cls.out_ns = lab.netns('out')
        lab.veth('o', cls.out_ns, host_addr=cls.outside + '.1/24',
                 peer_addr=cls.outside + '.2/24')
        # Routes back through the host for every network: only the routed
        # one may answer (NAT and isolated ones refuse new connections in).
        for subnet in (cls.rt, cls.nat, cls.iso):
            lab.route(cls.out_ns, subnet + '.0/24', cls.outside + '.1')
        cls.server = lab.log_server(cls.out_ns, cls.outside + '.2', 8080, text='outside-srv')

        # A LAN: a host bridge with a peer (namespace) running its own DHCP.
        cls.lan_br = lab.bridge('lan')
        cls.lan_ns = lab.netns('lan')
        lab.veth('l', cls.lan_ns, master=cls.lan_br, peer_addr=cls.lan + '.2/24')
        cls.lan_dhcp = lab.dnsmasq(cls.lan_ns, 'eth0', '%s.150,%s.159,255.255.255.0,1h'
                                   % (cls.lan, cls.lan))

        # Networks through vsh, as a user would.
        for name, subnet, fwd, hosts in (
                ('nat1', cls.nat, 'nat', [(cls.g2_mac, 'g2', cls.nat + '.50')]),
                ('iso1', cls.iso, None, []),
                ('rt1', cls.rt, 'route', [])):
            path = d.write_file('xml/net-%s.xml' % name,
                                net_xml(name, cls.br[name], subnet, fwd, hosts))
            d.vsh('net-define', path)
            cls._assert_out(d.vsh('net-start', name), 'Network %s started' % name)

        cls.guests = {}
        specs = [('g1', nic_xml('network', 'nat1')),
                 ('g2', nic_xml('network', 'nat1', mac=cls.g2_mac)),
                 ('g3', nic_xml('network', 'nat1', mac=cls.g3_mac, model='e1000')),
                 ('g4', nic_xml('network', 'iso1')),
                 ('g5', nic_xml('network', 'rt1', model='rtl8139')),
                 ('g6', nic_xml('bridge', cls.lan_br))]
        for name, nic in specs:
            d.define(name, domain_xml(name, memory_mib=MEM, extra_devices=nic,
                                      cmdline_extra='virtd.net=dhcp virtd.hostname=' + name))
            g = cls.guests[name] = Guest(d, name)
            g.mark()
            d.vsh('start', name)
        cls.ip = {}
        for name, g in cls.guests.items():
            cls.ip[name] = g.wait_lease()[1]
        # Tap names as the daemon reports them (leak checks at the end).
        cls.taps = set()
        for name in cls.guests:
            _h, rows = parse_table(d.vsh('domiflist', name)[1])
            cls.taps.update(r[0] for r in rows if r[0] != '-')

    @staticmethod
    def _assert_out(result, text):
        if text not in result[1]:
            raise AssertionError('%r lacks %r' % (result, text))

    @classmethod
    def _teardown(cls):
        d = getattr(cls, 'd', None)
        if d is not None:
            d.cleanup()
        cls.lab.close()

    @classmethod
    def tearDownClass(cls):
        cls._teardown()

    def in_subnet(self, ip, subnet):
        self.assertTrue(ip.startswith(subnet + '.'), '%s is not in %s.0/24' % (ip, subnet))

    # ---- NAT

    def test_10_nat_leases(self):
        d = self.d
        self.in_subnet(self.ip['g1'], self.nat)
        self.assertEqual(self.ip['g2'], self.nat + '.50', 'the static DHCP host entry')
        mac, _ip, prefix, router = self.guests['g1'].wait_lease()
        self.assertEqual((prefix, router), (24, self.nat + '.1'))
        # net-dhcp-leases lists both with the names the guests sent.
        def rows():
            _h, r = parse_table(d.vsh('net-dhcp-leases', 'nat1')[1])
            return r
        got = wait_for(lambda: (lambda r: r if len(r) >= 3 else None)(rows()), 10,
                       what='three leases in net-dhcp-leases nat1')
        by_mac = {r[1]: r for r in got}
        self.assertEqual(by_mac[mac][3], self.ip['g1'] + '/24')
        self.assertEqual(by_mac[mac][4], 'g1')
        self.assertEqual(by_mac[self.g2_mac][3], self.nat + '.50/24')
        self.assertEqual(by_mac[self.g2_mac][4], 'g2')
        _h, r = parse_table(d.vsh('net-dhcp-leases', 'nat1', '--mac', self.g2_mac)[1])
        self.assertEqual([x[1] for x in r], [self.g2_mac])
        # domifaddr shows the lease (default source).
        header, r = parse_table(d.vsh('domifaddr', 'g1')[1])
        self.assertEqual(header, ['Name', 'MAC address', 'Protocol', 'Address'])
        self.assertEqual(r[0][1:], [mac, 'ipv4', self.ip['g1'] + '/24'])
        # The lab's LAN server handed out nothing on our networks.
        self.assertNotIn(self.guests['g6'].wait_lease()[0], by_mac)

    def test_11_host_reaches_guest_services(self):
        for name in ('g1', 'g2'):
            self.assertEqual(http_get(self.ip[name]).strip(), name)

    def test_12_guests_ping_each_other(self):
        with Shell(self.d, 'g1') as sh:
            rc, out = sh.run('ping -c1 -W5 %s' % self.ip['g2'])
            self.assertEqual(rc, 0, out)
            rc, out = sh.run('ping -c1 -W5 g2')
            self.assertEqual(rc, 0, out)
            self.assertIn(self.ip['g2'], out, 'g2 resolved to its lease')
        with Shell(self.d, 'g2') as sh:
            rc, out = sh.run('ping -c1 -W5 g1')
            self.assertEqual(rc, 0, out)
            self.assertIn(self.ip['g1'], out)

    def fetch_outside(self, guest, timeout=8):
        """(rc, output) of an HTTP GET of the outside's server from @guest."""
        with Shell(self.d, guest) as sh:
            return sh.run("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w %d %s.2 8080"
                          % (timeout, self.outside), timeout=timeout + 20)

    def test_20_nat_outside_sees_the_host(self):
        before = len(self.server.peers())
        rc, out = self.fetch_outside('g1')
        self.assertIn('outside-srv', out)
        peers = self.server.peers()[before:]
        self.assertEqual(peers, [self.outside + '.1'], 'masqueraded to the host\'s address')
        # New connections from the outside to a NAT guest are refused.
        _rc, out, _e = self.lab.ns_run(self.out_ns, ['busybox', 'nc', '-w', '3', self.ip['g1'],
                                                     '80'], check=False,
                                       input='GET / HTTP/1.0\r\n\r\n')
        self.assertNotIn('g1', out)

    def test_21_isolated_guest_cannot_reach_outside(self):
        _mac, ip, _p, router = self.guests['g4'].wait_lease()
        self.in_subnet(ip, self.iso)
        self.assertEqual(router, '', 'an isolated network offers no router')
        before = len(self.server.peers())
        with Shell(self.d, 'g4') as sh:
            # Even with a route through the host, the host must not forward.
            sh.run('ip route add default via %s.1' % self.iso)
            rc, out = sh.run("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 4 %s.2 8080"
                             % self.outside, timeout=30)
            self.assertNotIn('outside-srv', out)
            # The host itself (the bridge address) is reachable.
            rc, out = sh.run('ping -c1 -W5 %s.1' % self.iso)
            self.assertEqual(rc, 0, out)
        self.assertEqual(self.server.peers()[before:], [])
        # Nor can the outside reach the guest.
        rc, out, _e = self.lab.ns_run(self.out_ns, ['busybox', 'nc', '-w', '3', ip, '80'],
                                      check=False, input='GET / HTTP/1.0\r\n\r\n')
        self.assertNotIn('g4', out)

    def test_22_routed_guest_reaches_outside_as_itself(self):
        self.in_subnet(self.ip['g5'], self.rt)
        before = len(self.server.peers())
        rc, out = self.fetch_outside('g5')
        self.assertIn('outside-srv', out)
        self.assertEqual(self.server.peers()[before:], [self.ip['g5']], 'no masquerade')
        # And the outside reaches it back (the namespace routes rt1 via the host).
        _rc, out, _e = self.lab.ns_run(self.out_ns, ['busybox', 'nc', '-w', '5', self.ip['g5'],
                                                     '80'], input='GET / HTTP/1.0\r\n\r\n',
                                       check=False)
        self.assertIn('g5', out)

    def test_23_bridged_guest_leases_from_the_lan(self):
        mac, ip, _p, _r = self.guests['g6'].wait_lease()
        self.in_subnet(ip, self.lan)
        n = int(ip.rsplit('.', 1)[1])
        self.assertTrue(150 <= n <= 159, 'from the LAN peer\'s range: %s' % ip)
        with open(self.lan_dhcp.leases_file) as f:
            self.assertIn(mac, f.read())
        for net in ('nat1', 'iso1', 'rt1'):
            self.assertNotIn(mac, self.d.vsh('net-dhcp-leases', net)[1])
        _rc, out, _e = self.lab.ns_run(self.lan_ns, ['busybox', 'nc', '-w', '5', ip, '80'],
                                       input='GET / HTTP/1.0\r\n\r\n', check=False)
        self.assertIn('g6', out)

    # ---- DHCP hosts, NICs

    def test_30_net_update_live_then_restarted_guest(self):
        d = self.d
        g3 = self.guests['g3']
        first = g3.wait_lease()[1]
        want = self.nat + '.61'
        self.assertNotEqual(first, want)
        d.vsh('net-update', 'nat1', 'add', 'ip-dhcp-host',
              "<host mac='%s' name='g3' ip='%s'/>" % (self.g3_mac, want), '--live', '--config')
        live = d.vsh('net-dumpxml', 'nat1')[1]
        self.assertIn(want, live)
        d.vsh('destroy', 'g3')
        g3.mark()
        d.vsh('start', 'g3')
        self.assertEqual(g3.wait_lease()[1], want)
        self.assertEqual(http_get(want).strip(), 'g3')
        _h, rows = parse_table(d.vsh('domiflist', 'g3')[1])
        self.taps.update(r[0] for r in rows if r[0] != '-')

    def test_31_hotplug_nic(self):
        d = self.d
        g1 = self.guests['g1']
        d.vsh('attach-interface', 'g1', 'network', 'nat1', '--model', 'virtio', '--live')
        mac, ip, _p, _r = g1.wait_lease('eth1')
        self.in_subnet(ip, self.nat)
        _h, rows = parse_table(d.vsh('domiflist', 'g1')[1])
        self.assertEqual(len(rows), 2, rows)
        self.assertIn(mac, [r[4] for r in rows])
        self.taps.update(r[0] for r in rows if r[0] != '-')
        self.assertEqual(http_get(ip).strip(), 'g1')
        self.assertIn(ip, d.vsh('domifaddr', 'g1')[1])

        rc, out, _e = d.vsh('detach-interface', 'g1', 'network', '--mac', mac, '--live')
        self.assertIn('Interface detached successfully', out)
        seen = len(d.console_text('g1'))

        def gone():
            text = d.console_text('g1')[seen:]
            found = re.findall(r'VIRTD-GUEST-STATUS .* nics=(\S*)', text)
            return found and found[-1] == 'eth0'
        wait_for(gone, 30, interval=0.5, what='eth1 gone from g1')
        _h, rows = parse_table(d.vsh('domiflist', 'g1')[1])
        self.assertEqual(len(rows), 1, rows)

    # ---- the daemon killed while guests run

    def test_40_daemon_killed_and_restarted(self):
        d = self.d
        dns_before = sorted(netlab.dnsmasq_pids(d.root))
        # One per network with DHCP: ours, and 'default' when it started.
        self.assertGreaterEqual(len(dns_before), 3, dns_before)
        d.kill()
        for name in ('g1', 'g2'):           # still reachable with no daemon
            self.assertEqual(http_get(self.ip[name]).strip(), name)
        d.start()
        names = {n['name']: n for n in d.networks()}
        for n in ('nat1', 'iso1', 'rt1'):
            self.assertTrue(names[n]['active'], names[n])
        self.assertEqual(sorted(netlab.dnsmasq_pids(d.root)), dns_before,
                         'dnsmasq taken over, not restarted')
        for name in ('g1', 'g2', 'g5'):
            self.assertEqual(http_get(self.ip[name]).strip(), name)
        before = len(self.server.peers())
        rc, out = self.fetch_outside('g1')
        self.assertIn('outside-srv', out)
        self.assertEqual(self.server.peers()[before:], [self.outside + '.1'])
        # Leases survived.
        self.assertIn(self.g2_mac, d.vsh('net-dhcp-leases', 'nat1')[1])

    # ---- a network restarted under running guests

    def test_41_network_restart_reattaches_taps(self):
        """net-destroy takes the bridge away from under g1's tap; net-start
        plugs the taps of the running guests back in, and the host reaches
        g1 again without the guest doing anything."""
        d = self.d
        _h, rows = parse_table(d.vsh('domiflist', 'g1')[1])
        tap = rows[0][0]
        master = lambda: os.path.basename(os.path.realpath('/sys/class/net/%s/master' % tap)) \
            if os.path.exists('/sys/class/net/%s/master' % tap) else None
        self.assertEqual(master(), self.br['nat1'])
        self._assert_out(d.vsh('net-destroy', 'nat1'), 'Network nat1 destroyed')
        self.assertTrue(netlab.link_exists(tap), 'the tap lives on with its guest')
        self.assertIsNone(master())
        self.assertFalse(netlab.link_exists(self.br['nat1']))
        self._assert_out(d.vsh('net-start', 'nat1'), 'Network nat1 started')
        self.assertEqual(master(), self.br['nat1'])

        def answers():
            try:
                return http_get(self.ip['g1'], timeout=2).strip() == 'g1'
            except OSError:
                return False
        # The bridge forwards once STP has moved the port to forwarding.
        wait_for(answers, 30, interval=0.5, what='g1 reachable after net-start')

    # ---- everything down: nothing left

    def test_90_nothing_left(self):
        d = self.d
        for name in self.guests:
            d.vsh('destroy', name, check=False)
        self.assertNoQemu(d)
        # The leak check sees what is there while the networks run (so its
        # silence below means something).
        live = d.leftovers(links=sorted(self.br.values()))
        for what in ['link %s still exists' % b for b in self.br.values()] + \
                ['nft table inet vd_%s_%s still exists' % (d.fw_instance, b.replace('-', '_'))
                 for b in self.br.values()]:
            self.assertIn(what, live)
        self.assertEqual(len([l for l in live if l.startswith('dnsmasq')]),
                         len(netlab.dnsmasq_pids(d.root)))
        self.assertGreaterEqual(len(netlab.dnsmasq_pids(d.root)), 3)
        for n in ('nat1', 'iso1', 'rt1'):
            self._assert_out(d.vsh('net-destroy', n), 'Network %s destroyed' % n)
        d.destroy_networks()            # 'default' too
        self.assertNoNetworkLeftovers(d, links=sorted(self.taps) + sorted(self.br.values()))
        d.stop()
        self.assertNoNetworkLeftovers(d, links=sorted(self.taps) + sorted(self.br.values()))
        # The lab's own bridge is the lab's: still there until the lab goes.
        self.assertTrue(netlab.link_exists(self.lan_br))


if __name__ == '__main__':
    harness.main()
