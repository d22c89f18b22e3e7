#!/usr/bin/env python3
"""Virtual networks through the API (docs/api.md, "Networks";
docs/networking.md): the first start's 'default' network, define / start /
destroy / undefine / autostart / list / xml / edit / update / leases, a
transient network (net-create), a network on an existing host bridge, the
refusals (each followed by a check that nothing changed), and a daemon
killed with SIGKILL and restarted while a network is active (bridge,
dnsmasq and firewall table taken over as they were). After destroy and
daemon stop nothing of the instance is left: no bridge, dnsmasq or nft
table.

Every daemon runs with --dns-forward=none: no dnsmasq ever forwards a
query to the host's resolvers. Host objects this file makes are named
vdc*; test subnets are in 10.201.0.0/16, which gets a blackhole fallback
route for the time of the run. Everything is removed at the end, even
when a test fails."""

import atexit
import json
import os
import pwd
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.parse

import harness
from harness import Daemon

ARGS = ['--dns-forward=none']
FALLBACK = ['blackhole', '10.201.0.0/16', 'metric', '4000']

# Everything this file put on the host, removed by cleanup_host().
_links = set()          # vdc* links made by the test itself
_bridges = set()        # bridges of our daemons' networks (virbrN of 'default')
_tables = set()         # nft tables seen for our daemons' networks
_netns = set()          # vdc* network namespaces


def run(*argv, check=True):
    return subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=check)


def read(path):
    with open(path) as f:
        return f.read()


def link_exists(name):
    return os.path.exists('/sys/class/net/%s' % name)


def link_ifindex(name):
    with open('/sys/class/net/%s/ifindex' % name) as f:
        return int(f.read())


def link_addresses(name):
    out = json.loads(run('ip', '-j', 'addr', 'show', 'dev', name).stdout)
    return ['%s/%s' % (a['local'], a['prefixlen']) for i in out for a in i.get('addr_info', [])
            if a.get('family') == 'inet']


def vdc_links():
    return sorted(n for n in os.listdir('/sys/class/net') if n.startswith('vdc'))


def nft_tables(mine=None):
    """The host's inet tables; with @mine (a Daemon), less those of other
    virtd instances (vd_OTHER_*: another daemon on this machine, which
    this file's checks must not see come and go)."""
    out = json.loads(run('nft', '-j', 'list', 'tables').stdout)
    names = sorted(t['table']['name'] for t in out['nftables']
                   if 'table' in t and t['table']['family'] == 'inet')
    if mine is None:
        return names
    own = 'vd_%s_' % mine.fw_instance
    return [t for t in names if t.startswith(own) or not re.match(r'^vd_[0-9a-f]{8}_', t)]


def nft_table_text(name):
    return run('nft', 'list', 'table', 'inet', name).stdout


def nft_rules(name):
    """The table's rules without their counters' values, which any packet
    on the bridge moves (one 40-byte packet did between two listings)."""
    return re.sub(r'counter packets \d+ bytes \d+', 'counter', nft_table_text(name))


def table_for(bridge):
    """The nft table of the network on @bridge: vd_INSTANCE_BRIDGE."""
    suffix = '_' + bridge.replace('-', '_').replace('.', '_')
    found = [t for t in nft_tables() if t.startswith('vd_') and t.endswith(suffix)]
    return found[0] if len(found) == 1 else None


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().split(b'\0')
    except OSError:
        return []


def process_uid(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('Uid:'):
                return int(line.split()[1])
    return None


def dnsmasq_of(d, name):
    """The pid of the dnsmasq of network @name of daemon @d, or None."""
    conf = ('--conf-file=' + d.path('lib', 'dnsmasq', name + '.conf')).encode()
    for pid in harness.processes_mentioning(d.root):
        if conf in cmdline(pid):
            return pid
    return None


def cleanup_host():
    for ns in sorted(_netns):
        run('ip', 'netns', 'del', ns, check=False)
    for name in sorted(_links | _bridges):
        if link_exists(name):
            run('ip', 'link', 'del', name, check=False)
    existing = set(nft_tables())
    for t in _tables & existing:
        run('nft', 'delete', 'table', 'inet', t, check=False)
    run('ip', 'route', 'del', *FALLBACK, check=False)


def net_xml(name, bridge, subnet, forward='nat', dhcp=True, hosts=(), extra=''):
    """A network on 10.201.@subnet.0/24, the host at .1, DHCP .10-.100."""
    fwd = "<forward mode='%s'/>" % forward if forward else ''
    br = "<bridge name='%s'/>" % bridge if bridge else ''
    host_xml = ''.join("<host mac='%s' name='%s' ip='10.201.%d.%d'/>" % (mac, hn, subnet, last)
                       for mac, hn, last in hosts)
    dhcp_xml = ("<dhcp><range start='10.201.%d.10' end='10.201.%d.100'/>%s</dhcp>" %
                (subnet, subnet, host_xml)) if dhcp else ''
    return ("<network><name>%s</name>%s%s%s<ip address='10.201.%d.1' netmask='255.255.255.0'>"
            "%s</ip></network>" % (name, fwd, br, extra, subnet, dhcp_xml))


def plug_netns(ns, bridge, mac):
    """A network namespace @ns plugged into @bridge by a veth pair
    (ns-side MAC @mac): a peer on the network without a guest."""
    _netns.add(ns)
    _links.add(ns + 'v')
    run('ip', 'netns', 'add', ns)
    run('ip', 'link', 'add', ns + 'v', 'type', 'veth', 'peer', 'name', ns + 'p',
        'netns', ns)
    run('ip', 'link', 'set', ns + 'v', 'master', bridge, 'up')
    run('ip', '-n', ns, 'link', 'set', ns + 'p', 'address', mac, 'up')
    run('ip', '-n', ns, 'link', 'set', 'lo', 'up')


def unplug_netns(ns):
    run('ip', 'netns', 'del', ns)
    _netns.discard(ns)
    harness.wait_for(lambda: not link_exists(ns + 'v'), 10, what='veth of %s gone' % ns)


# One DNS query (A record), run inside a namespace by `ip netns exec ns
# python3 -c DNS_QUERY NAME SERVER`: prints "RCODE ADDRESS|-".
DNS_QUERY = r'''
import socket, struct, sys
name, server = sys.argv[1], sys.argv[2]
q = struct.pack('>HHHHHH', 0x1d1d, 0x0100, 1, 0, 0, 0)
q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'
q += struct.pack('>HH', 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(q, (server, 53))
d = s.recv(512)
answers = struct.unpack('>H', d[6:8])[0]
print(d[3] & 15, socket.inet_ntoa(d[-4:]) if answers else '-')
'''


def dns_query(ns, name, server):
    """(rcode, address or '-'); (None, None) when nothing answered."""
    r = run('ip', 'netns', 'exec', ns, sys.executable, '-c', DNS_QUERY, name, server,
            check=False)
    if r.returncode != 0:
        return None, None
    rcode, addr = r.stdout.split()
    return int(rcode), addr


def q(name):
    return urllib.parse.quote(name, safe='')


class Networks(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        atexit.register(cleanup_host)
        run('ip', 'route', 'replace', *FALLBACK)

    @classmethod
    def tearDownClass(cls):
        cleanup_host()

    # ---- helpers

    def daemon(self):
        return Daemon(args=ARGS, default_network=True)

    def nets(self, d):
        return {n['name']: n for n in d.api_json('GET', '/v1/networks?all=1')['networks']}

    def net(self, d, name):
        return d.api_json('GET', '/v1/networks/' + q(name))['network']

    def define(self, d, xml, expect=201):
        ans = d.api_json('POST', '/v1/networks', xml, expect=expect)
        n = ans['network']
        if n.get('bridge'):
            _bridges.add(n['bridge'])
        return ans

    def start(self, d, name):
        n = d.api_json('POST', '/v1/networks/%s/start' % q(name))['network']
        self.assertTrue(n['active'])
        _bridges.add(n['bridge'])
        t = table_for(n['bridge'])
        if t:
            _tables.add(t)
        return n

    def destroy(self, d, name):
        return d.api_json('POST', '/v1/networks/%s/destroy' % q(name))['network']

    def forget_default(self, d):
        """The first start's 'default' network: recorded for the clean-up,
        then destroyed and not autostarted, for tests about other things."""
        n = self.net(d, 'default')
        _bridges.add(n['bridge'])
        if n['active']:
            t = table_for(n['bridge'])
            if t:
                _tables.add(t)
            self.destroy(d, 'default')
        d.api_json('PUT', '/v1/networks/default/autostart', {'autostart': False})
        return n

    def destroy_all(self, d):
        for n in self.nets(d).values():
            if n['active']:
                self.destroy(d, n['name'])

    def assertGone(self, d, name, bridge, table, host_bridge=False):
        """Nothing of network @name is left on the host."""
        if not host_bridge:
            self.assertFalse(link_exists(bridge), 'bridge %s left' % bridge)
        self.assertIsNone(dnsmasq_of(d, name), 'dnsmasq of %s left' % name)
        if table:
            self.assertNotIn(table, nft_tables())

    def assertRunning(self, d, name, bridge, address):
        self.assertTrue(link_exists(bridge), 'no bridge %s' % bridge)
        self.assertIn(address, link_addresses(bridge))
        pid = dnsmasq_of(d, name)
        self.assertIsNotNone(pid, 'no dnsmasq for %s' % name)
        self.assertEqual(self.net(d, name).get('dnsmasq_pid'), pid)
        table = table_for(bridge)
        self.assertIsNotNone(table, 'no nft table for %s (tables: %s)' % (bridge, nft_tables()))
        _tables.add(table)
        return pid, table

    def assertRefused(self, resp, text, code='invalid-argument', status=400):
        self.assertApiError(resp, status, code)
        for t in ([text] if isinstance(text, str) else text):
            self.assertIn(t, resp.error_message())

    # ---- tests

    def test_default_network(self):
        with self.daemon() as d:
            n = self.net(d, 'default')
            _bridges.add(n['bridge'])
            self.assertTrue(n['active'] and n['autostart'] and n['persistent'], n)
            self.assertEqual(n['forward'], 'nat')
            self.assertTrue(n['dhcp'])
            self.assertRegex(n['bridge'], r'^virbr\d+$')
            self.assertEqual(len(n['ips']), 1)
            octet = int(n['ips'][0].split('.')[2])
            self.assertEqual(n['ips'][0], '192.168.%d.1/24' % octet)
            if octet != 122:
                # Moved off a subnet the host routes already: said so.
                self.assertTrue(any('took 192.168.%d.0/24' % octet in x for x in n['notes']),
                                n['notes'])
                self.assertIn('took 192.168.%d.0/24' % octet,
                              read(d.path('virtd.log')))
            pid, table = self.assertRunning(d, 'default', n['bridge'], n['ips'][0])
            conf = read(d.path('lib', 'dnsmasq', 'default.conf'))
            self.assertIn('no-resolv', conf)         # --dns-forward=none
            self.assertIn('interface=%s' % n['bridge'], conf)
            self.assertTrue(os.path.islink(d.path('etc', 'networks', 'autostart',
                                                  'default.xml')))
            xml = d.api('GET', '/v1/networks/default/xml').body.decode()
            self.assertIn("<name>default</name>", xml)
            self.assertIn("<bridge name='%s'" % n['bridge'], xml)
            # Destroyed: everything goes; still defined; a restart without
            # autostart does not bring it back, nor makes a second one.
            d.api_json('PUT', '/v1/networks/default/autostart', {'autostart': False})
            n2 = self.destroy(d, 'default')
            self.assertFalse(n2['active'])
            self.assertGone(d, 'default', n['bridge'], table)
            d.restart()
            self.assertEqual(list(self.nets(d)), ['default'])
            self.assertFalse(self.net(d, 'default')['active'])
            self.assertFalse(link_exists(n['bridge']))

    def test_default_network_moves(self):
        """192.168.122.0/24 routed on the host: the first start's default
        network takes the first free 192.168.N.0/24 and says so. The route
        is made with metric 4001 on a veth of ours, so that it never takes
        traffic from another bridge on that subnet."""
        _links.add('vdcm0')
        run('ip', 'link', 'add', 'vdcm0', 'type', 'veth', 'peer', 'name', 'vdcm0p')
        run('ip', 'link', 'set', 'vdcm0', 'up')
        run('ip', 'link', 'set', 'vdcm0p', 'up')
        run('ip', 'route', 'add', '192.168.122.0/24', 'dev', 'vdcm0', 'metric', '4001')
        try:
            with self.daemon() as d:
                n = self.forget_default(d)
                octet = int(n['ips'][0].split('.')[2])
                self.assertNotEqual(octet, 122)
                self.assertEqual(n['ips'], ['192.168.%d.1/24' % octet])
                note = (r'^192\.168\.122\.0/24 is routed on the host via \S+ '
                        r'\(192\.168\.122\.0/24\): took 192\.168\.%d\.0/24$' % octet)
                self.assertEqual(len(n['notes']), 1, n)
                self.assertRegex(n['notes'][0], note)
                self.assertIn("network 'default': " + n['notes'][0], read(d.path('virtd.log')))
        finally:
            run('ip', 'link', 'del', 'vdcm0', check=False)

    def test_lifecycle(self):
        # A root directory others may traverse, as /var/lib/virtd: dnsmasq
        # drops to user nobody and still reads its host files at SIGHUP.
        d = self.daemon()
        os.chmod(d.root, 0o755)
        parent = os.path.dirname(d.root)
        while parent != '/':
            self.assertTrue(os.stat(parent).st_mode & 0o001,
                            '%s must be traversable by others (o+x) for this test: '
                            '.ci/run makes its temporary directory 0711' % parent)
            parent = os.path.dirname(parent)
        with d:
            self.forget_default(d)
            xml = net_xml('vdcnet1', 'vdc1', 1, hosts=[('52:54:00:0d:c0:01', 'fixed', 5)])
            ans = self.define(d, xml)
            n = ans['network']
            self.assertEqual((n['active'], n['persistent'], n['autostart']), (False, True, False))
            self.assertEqual(n['ips'], ['10.201.1.1/24'])
            self.assertEqual(n['bridge'], 'vdc1')
            self.assertTrue(os.path.exists(d.path('etc', 'networks', 'vdcnet1.xml')))
            self.assertNotIn('vdcnet1', [x['name'] for x in
                                         d.api_json('GET', '/v1/networks')['networks']])
            self.assertEqual([x['name'] for x in
                              d.api_json('GET', '/v1/networks?inactive=1')['networks']],
                             ['default', 'vdcnet1'])
            # By UUID too.
            self.assertEqual(self.net(d, n['uuid'])['name'], 'vdcnet1')

            self.start(d, 'vdcnet1')
            pid, table = self.assertRunning(d, 'vdcnet1', 'vdc1', '10.201.1.1/24')
            self.assertNotEqual(process_uid(pid), 0)
            self.assertIn('52:54:00:0d:c0:01',
                          read(d.path('lib', 'dnsmasq', 'vdcnet1.hostsfile')))
            self.assertApiError(d.api('POST', '/v1/networks/vdcnet1/start'), 409,
                                'invalid-state')

            d.api_json('PUT', '/v1/networks/vdcnet1/autostart', {'autostart': True})
            self.assertTrue(os.path.islink(d.path('etc', 'networks', 'autostart', 'vdcnet1.xml')))
            self.assertTrue(self.net(d, 'vdcnet1')['autostart'])

            # net-edit of an active network: the new definition waits for
            # the next start, and the answer says so.
            live_xml = d.api('GET', '/v1/networks/vdcnet1/xml').body.decode()
            edited = live_xml.replace("end='10.201.1.100'", "end='10.201.1.120'")
            self.assertNotEqual(edited, live_xml)
            ans = d.api_json('PUT', '/v1/networks/vdcnet1/xml', edited)
            self.assertTrue(any('active' in w for w in ans['warnings']), ans)
            self.assertIn("10.201.1.120",
                          d.api('GET', '/v1/networks/vdcnet1/xml?inactive=1').body.decode())
            self.assertIn("10.201.1.100",
                          d.api('GET', '/v1/networks/vdcnet1/xml').body.decode())

            # net-update --live --config: the host file and the definition,
            # dnsmasq told by SIGHUP (same process).
            host = "<host mac='52:54:00:0d:c0:02' name='other' ip='10.201.1.6'/>"
            d.api_json('POST', '/v1/networks/vdcnet1/update',
                       {'command': 'add', 'section': 'ip-dhcp-host', 'xml': host,
                        'parent_index': -1, 'live': True, 'config': True})
            self.assertIn('52:54:00:0d:c0:02',
                          read(d.path('lib', 'dnsmasq', 'vdcnet1.hostsfile')))
            self.assertIn('52:54:00:0d:c0:02', read(d.path('etc', 'networks',
                                                           'vdcnet1.xml')))
            self.assertEqual(dnsmasq_of(d, 'vdcnet1'), pid)
            # The same host again: refused, nothing changes.
            r = d.api('POST', '/v1/networks/vdcnet1/update',
                      {'command': 'add', 'section': 'ip-dhcp-host', 'xml': host})
            self.assertApiError(r, 400, 'invalid-argument')
            dns = "<host ip='10.201.1.7'><hostname>printer</hostname></host>"
            d.api_json('POST', '/v1/networks/vdcnet1/update',
                       {'command': 'add', 'section': 'dns-host', 'xml': dns})
            self.assertIn('printer', read(d.path('lib', 'dnsmasq', 'vdcnet1.addnhosts')))
            self.assertNotIn('printer', read(d.path('etc', 'networks', 'vdcnet1.xml')))

            # A peer on the network (a namespace, no guest needed): DNS
            # answers the live update's host, forwards nothing
            # (--dns-forward=none); DHCP gives the static host's address,
            # which the leases show.
            plug_netns('vdcns1', 'vdc1', '52:54:00:0d:c0:01')
            run('ip', '-n', 'vdcns1', 'addr', 'add', '10.201.1.200/24', 'dev', 'vdcns1p')
            # (a new bridge port forwards after STP's listening and learning)
            harness.wait_for(lambda: dns_query('vdcns1', 'printer', '10.201.1.1')[0] == 0, 30,
                             what='dnsmasq answering on vdc1')
            self.assertEqual(dns_query('vdcns1', 'printer', '10.201.1.1'), (0, '10.201.1.7'))
            self.assertEqual(dns_query('vdcns1', 'example.com', '10.201.1.1')[1], '-')
            run('ip', '-n', 'vdcns1', 'addr', 'flush', 'dev', 'vdcns1p')
            run('ip', 'netns', 'exec', 'vdcns1', 'busybox', 'udhcpc', '-i', 'vdcns1p', '-n', '-q',
                '-f', '-t', '10', '-T', '1', '-s', '/bin/true', '-x', 'hostname:nsclient')
            ls = d.api_json('GET', '/v1/networks/vdcnet1/leases')['leases']
            self.assertEqual([(l['mac'], l['ip'], l['interface']) for l in ls],
                             [('52:54:00:0d:c0:01', '10.201.1.5', 'vdc1')])
            self.assertGreater(ls[0]['expiry_time'], time.time())
            run('ip', '-n', 'vdcns1', 'addr', 'add', '10.201.1.5/24', 'dev', 'vdcns1p')
            self.assertEqual(dns_query('vdcns1', 'fixed', '10.201.1.1'), (0, '10.201.1.5'))
            unplug_netns('vdcns1')

            # What the API makes of dnsmasq's lease file: expired leases
            # dropped, unknown host names and client ids left out.
            leases = d.path('lib', 'dnsmasq', 'vdcnet1.leases')
            open(leases, 'w').close()
            future = int(time.time()) + 3600
            with open(leases, 'a') as f:
                f.write('%d 52:54:00:0d:c0:09 10.201.1.50 vm1 01:52:54:00:0d:c0:09\n' % future)
                f.write('%d 52:54:00:0d:c0:0a 10.201.1.51 * *\n' % future)
                f.write('%d 52:54:00:0d:c0:0b 10.201.1.52 old *\n' % (future - 7200))
            ls = d.api_json('GET', '/v1/networks/vdcnet1/leases')['leases']
            self.assertEqual([l['ip'] for l in ls], ['10.201.1.50', '10.201.1.51'])
            self.assertEqual(ls[0], {'expiry_time': future, 'mac': '52:54:00:0d:c0:09',
                                     'type': 'ipv4', 'ip': '10.201.1.50', 'prefix': 24,
                                     'hostname': 'vm1', 'client_id': '01:52:54:00:0d:c0:09',
                                     'interface': 'vdc1'})
            self.assertNotIn('hostname', ls[1])
            ls = d.api_json('GET', '/v1/networks/vdcnet1/leases?mac=52:54:00:0D:C0:0A')['leases']
            self.assertEqual([l['ip'] for l in ls], ['10.201.1.51'])

            self.destroy(d, 'vdcnet1')
            self.assertGone(d, 'vdcnet1', 'vdc1', table)
            self.assertApiError(d.api('POST', '/v1/networks/vdcnet1/destroy'), 409,
                                'invalid-state')
            self.assertEqual(d.api_json('GET', '/v1/networks/vdcnet1/leases')['leases'], [])
            # The edited range is what the next start uses.
            self.start(d, 'vdcnet1')
            self.assertIn('10.201.1.120', read(d.path('lib', 'dnsmasq', 'vdcnet1.conf')))
            self.destroy(d, 'vdcnet1')
            ans = d.api_json('DELETE', '/v1/networks/vdcnet1')
            self.assertEqual(ans['network']['name'], 'vdcnet1')
            self.assertApiError(d.api('GET', '/v1/networks/vdcnet1'), 404, 'no-network')
            self.assertFalse(os.path.exists(d.path('etc', 'networks', 'vdcnet1.xml')))
            self.assertFalse(os.path.lexists(d.path('etc', 'networks', 'autostart',
                                                    'vdcnet1.xml')))
            self.assertGone(d, 'vdcnet1', 'vdc1', table)

    def test_transient_and_undefine_active(self):
        with self.daemon() as d:
            self.forget_default(d)
            ans = d.api_json('POST', '/v1/networks?start=1',
                             net_xml('vdcnet2', 'vdc2', 2, forward='route'), expect=201)
            n = ans['network']
            _bridges.add('vdc2')
            self.assertEqual((n['active'], n['persistent'], n['forward']), (True, False, 'route'))
            pid, table = self.assertRunning(d, 'vdcnet2', 'vdc2', '10.201.2.1/24')
            self.assertFalse(os.path.exists(d.path('etc', 'networks', 'vdcnet2.xml')))
            self.assertApiError(d.api('DELETE', '/v1/networks/vdcnet2'), 409, 'invalid-state')
            self.assertApiError(d.api('PUT', '/v1/networks/vdcnet2/autostart',
                                      {'autostart': True}), 409, 'invalid-state')
            # A daemon restart keeps a transient network too.
            d.restart()
            self.assertEqual(self.net(d, 'vdcnet2')['persistent'], False)
            self.assertEqual(dnsmasq_of(d, 'vdcnet2'), pid)
            gone = self.destroy(d, 'vdcnet2')
            self.assertFalse(gone['active'])
            self.assertApiError(d.api('GET', '/v1/networks/vdcnet2'), 404, 'no-network')
            self.assertGone(d, 'vdcnet2', 'vdc2', table)

            # Undefine of an active network: it runs on, transient, and
            # leaves with its destroy.
            self.define(d, net_xml('vdcnet3', 'vdc3', 3, forward=None))
            self.start(d, 'vdcnet3')
            pid, table = self.assertRunning(d, 'vdcnet3', 'vdc3', '10.201.3.1/24')
            n = d.api_json('DELETE', '/v1/networks/vdcnet3')['network']
            self.assertEqual((n['active'], n['persistent']), (True, False))
            self.assertFalse(os.path.exists(d.path('etc', 'networks', 'vdcnet3.xml')))
            self.assertEqual(dnsmasq_of(d, 'vdcnet3'), pid)
            self.destroy(d, 'vdcnet3')
            self.assertNotIn('vdcnet3', self.nets(d))
            self.assertGone(d, 'vdcnet3', 'vdc3', table)

    def test_host_bridge(self):
        with self.daemon() as d:
            self.forget_default(d)
            xml = ("<network><name>vdclan</name><forward mode='bridge'/>"
                   "<bridge name='vdcbr0'/></network>")
            self.define(d, xml)
            _bridges.discard('vdcbr0')
            before = nft_tables(d)
            r = d.api('POST', '/v1/networks/vdclan/start')
            self.assertRefused(r, ["'vdcbr0'", 'does not exist'])
            self.assertFalse(self.net(d, 'vdclan')['active'])
            self.assertFalse(link_exists('vdcbr0'))
            _links.add('vdcbr0')
            run('ip', 'link', 'add', 'vdcbr0', 'type', 'bridge')
            n = self.start(d, 'vdclan')
            self.assertEqual((n['forward'], n['dhcp'], n['ips']), ('bridge', False, []))
            self.assertIsNone(dnsmasq_of(d, 'vdclan'))
            self.assertEqual(nft_tables(d), before)
            self.destroy(d, 'vdclan')
            # The host's bridge is the host's: never deleted.
            self.assertTrue(link_exists('vdcbr0'))
            run('ip', 'link', 'del', 'vdcbr0')

    def test_refusals(self):
        with self.daemon() as d:
            self.forget_default(d)
            self.define(d, net_xml('vdcnet4', 'vdc4', 4))
            self.start(d, 'vdcnet4')
            _links.add('vdcdum0')
            # A host interface with a route to 10.201.50.0/24 (a veth
            # pair: the dummy driver may be missing).
            run('ip', 'link', 'add', 'vdcdum0', 'type', 'veth', 'peer', 'name', 'vdcdum0p')
            run('ip', 'addr', 'add', '10.201.50.1/24', 'dev', 'vdcdum0')
            run('ip', 'link', 'set', 'vdcdum0', 'up')
            run('ip', 'link', 'set', 'vdcdum0p', 'up')

            def state():
                return (self.nets(d), vdc_links(), nft_tables(d),
                        sorted(os.listdir(d.path('etc', 'networks'))),
                        sorted(os.listdir(d.path('lib', 'dnsmasq'))))

            before = state()
            cases = [
                # another network's subnet, naming it, with a free one
                (net_xml('vdcover', 'vdc5', 4).replace("netmask='255.255.255.0'",
                                                       "prefix='25'"),
                 ["'vdcnet4'", 'a free subnet is 10.201.']),
                # another network's bridge
                (net_xml('vdcsamebr', 'vdc4', 6), ["'vdc4'", "'vdcnet4'"]),
                # a bridge name over 15 bytes
                (net_xml('vdclong', 'vdc0123456789abc', 6), ['vdc0123456789abc']),
                # a bridge name a host link has
                (net_xml('vdchostlink', 'vdcdum0', 6), ["'vdcdum0'", 'host interface']),
                # a DHCP range outside the subnet
                (net_xml('vdcrange', 'vdc6', 6).replace("end='10.201.6.100'",
                                                        "end='10.201.7.100'"),
                 ['10.201.7.100']),
                # the same MAC twice among DHCP hosts
                (net_xml('vdcdupmac', 'vdc6', 6, hosts=[('52:54:00:0d:c0:03', 'a', 5),
                                                        ('52:54:00:0d:c0:03', 'b', 6)]),
                 ['52:54:00:0d:c0:03']),
                # a name with '/'
                (net_xml('vdc/slash', 'vdc6', 6), ['/']),
            ]
            for xml, texts in cases:
                with self.subTest(xml=xml):
                    self.assertRefused(d.api('POST', '/v1/networks', xml), texts)
                    self.assertRefused(d.api('POST', '/v1/networks?start=1', xml), texts)
                    self.assertEqual(state(), before)

            # A subnet the host routes (vdcdum0): net-create refused, naming
            # the interface and a free subnet; defined with a warning,
            # refused at start the same way.
            r = d.api('POST', '/v1/networks?start=1', net_xml('vdcrouted2', 'vdc8', 50))
            self.assertRefused(r, ['vdcdum0', '10.201.50.0/24', 'such as 10.201.51.0/24'])
            self.assertEqual(state(), before)
            ans = self.define(d, net_xml('vdcrouted', 'vdc7', 50))
            self.assertTrue(any('vdcdum0' in w for w in ans['warnings']), ans)
            before = state()
            r = d.api('POST', '/v1/networks/vdcrouted/start')
            self.assertRefused(r, ['vdcdum0', '10.201.50.0/24', 'such as 10.201.51.0/24'])
            self.assertEqual(state(), before)
            self.assertFalse(link_exists('vdc7'))
            # ... and starts once the subnet is free.
            run('ip', 'link', 'del', 'vdcdum0')
            self.start(d, 'vdcrouted')
            self.assertRunning(d, 'vdcrouted', 'vdc7', '10.201.50.1/24')
            self.destroy_all(d)
            self.assertEqual([t for t in nft_tables() if t in _tables], [])

    def test_restart_keeps_network(self):
        with self.daemon() as d:
            self.forget_default(d)
            self.define(d, net_xml('vdcnet9', 'vdc9', 9, hosts=[('52:54:00:0d:c0:04', 'h', 5)]))
            self.start(d, 'vdcnet9')
            pid, table = self.assertRunning(d, 'vdcnet9', 'vdc9', '10.201.9.1/24')
            # dnsmasq drops to nobody when it can reach its host files as
            # nobody: the daemon makes its root searchable for QEMU's user
            # (virtd-qemu, docs/security.md). A private root (0700, QEMU as
            # root) keeps dnsmasq root, and the log says so.
            if os.stat(d.root).st_mode & 0o001:
                self.assertEqual(process_uid(pid), pwd.getpwnam('nobody').pw_uid)
            else:
                self.assertEqual(process_uid(pid), 0)
                self.assertIn("network 'vdcnet9': dnsmasq (pid %d) keeps running as root" % pid,
                              read(d.path('virtd.log')))
            ifindex = link_ifindex('vdc9')
            rules = nft_rules(table)
            instance = table[:len('vd_12345678')]

            d.kill()
            self.assertTrue(link_exists('vdc9'))
            self.assertEqual(dnsmasq_of(d, 'vdcnet9'), pid)   # outlives the daemon
            d.start()
            n = self.net(d, 'vdcnet9')
            self.assertTrue(n['active'])
            self.assertEqual(n['dnsmasq_pid'], pid)
            self.assertEqual(dnsmasq_of(d, 'vdcnet9'), pid)
            self.assertEqual(link_ifindex('vdc9'), ifindex)
            self.assertEqual(nft_rules(table), rules)
            # Still usable: a live update reaches the same dnsmasq.
            d.api_json('POST', '/v1/networks/vdcnet9/update',
                       {'command': 'delete', 'section': 'ip-dhcp-host',
                        'xml': "<host mac='52:54:00:0d:c0:04'/>"})
            self.assertNotIn('52:54:00:0d:c0:04',
                             read(d.path('lib', 'dnsmasq', 'vdcnet9.hostsfile')))

            # A dnsmasq and a table that died meanwhile are brought back.
            d.kill()
            os.kill(pid, signal.SIGKILL)
            harness.wait_for(lambda: dnsmasq_of(d, 'vdcnet9') is None, 10, what='dnsmasq gone')
            run('nft', 'delete', 'table', 'inet', table)
            d.start()
            pid2 = dnsmasq_of(d, 'vdcnet9')
            self.assertIsNotNone(pid2)
            self.assertNotEqual(pid2, pid)
            self.assertIn(table, nft_tables())
            self.assertEqual(link_ifindex('vdc9'), ifindex)

            # destroy + daemon stop: nothing of this instance is left.
            self.destroy(d, 'vdcnet9')
            d.stop()
            self.assertFalse(link_exists('vdc9'))
            self.assertEqual([p for p in harness.processes_mentioning(d.root)
                              if b'dnsmasq' in b' '.join(cmdline(p))], [])
            self.assertEqual([t for t in nft_tables() if t.startswith(instance + '_')], [])

    def test_failed_start_rolls_back(self):
        """dnsmasq failing at start (a stand-in that prints dnsmasq's
        message and exits 2): the bridge, rules and files the start made
        are gone, the network is inactive (net-create: not there at all),
        and the error carries dnsmasq's message."""
        d = self.daemon()
        fake = os.path.join(d.root, 'fake-dnsmasq')
        with open(fake, 'w') as f:
            f.write('#!/bin/sh\necho "dnsmasq: failed to create listening socket for '
                    'port 53: Address already in use" >&2\nexit 2\n')
        os.chmod(fake, 0o755)
        os.environ['VIRTD_DNSMASQ'] = fake
        try:
            d.__enter__()
        finally:
            del os.environ['VIRTD_DNSMASQ']
        try:
            n = self.net(d, 'default')
            _bridges.add(n['bridge'])
            self.assertFalse(n['active'])
            self.assertFalse(link_exists(n['bridge']))
            self.assertIn('cannot start the default network', read(d.path('virtd.log')))
            d.api_json('PUT', '/v1/networks/default/autostart', {'autostart': False})
            self.define(d, net_xml('vdcnet11', 'vdc11', 11))
            tables = nft_tables(d)
            for path in ('/v1/networks/vdcnet11/start', '/v1/networks?start=1'):
                r = d.api('POST', path, net_xml('vdcnet12', 'vdc12', 12)
                          if 'start=1' in path else None)
                self.assertApiError(r, 500, 'operation-failed')
                self.assertIn('Address already in use', r.error_message())
                self.assertEqual(vdc_links(), [])
                self.assertEqual(nft_tables(d), tables)
                self.assertEqual(sorted(os.listdir(d.path('run', 'networks'))), [])
                self.assertEqual([f for f in os.listdir(d.path('lib', 'dnsmasq'))
                                  if not f.endswith('.leases')], [])
            self.assertFalse(self.net(d, 'vdcnet11')['active'])
            self.assertNotIn('vdcnet12', self.nets(d))
        finally:
            d.__exit__(None, None, None)

    def test_hung_dnsmasq_fails_the_start(self):
        """A dnsmasq whose first process never returns (a stand-in that
        sleeps): the start gives up after its bound (5 s), kills it, and
        rolls back as for a failed start; the daemon answers again.
        Without the first start's default network: its start would hang
        on the stand-in too, and hold the daemon's start-up for 12 s of
        the harness's 15."""
        d = Daemon(args=ARGS)
        fake = os.path.join(d.root, 'hung-dnsmasq')
        with open(fake, 'w') as f:
            f.write('#!/bin/sh\necho "dnsmasq: stuck" >&2\nexec sleep 600\n')
        os.chmod(fake, 0o755)
        os.environ['VIRTD_DNSMASQ'] = fake
        try:
            d.__enter__()
        finally:
            del os.environ['VIRTD_DNSMASQ']
        try:
            self.define(d, net_xml('vdcnet13', 'vdc13', 13))
            tables = nft_tables(d)
            t0 = time.monotonic()
            r = d.api('POST', '/v1/networks/vdcnet13/start')
            took = time.monotonic() - t0
            self.assertApiError(r, 504, 'timeout')
            self.assertIn('did not finish starting in 5 s', r.error_message())
            self.assertIn('dnsmasq: stuck', r.error_message())
            self.assertLess(took, 30)
            self.assertEqual(harness.processes_mentioning(fake), [], 'the stand-in is killed')
            self.assertFalse(self.net(d, 'vdcnet13')['active'])
            self.assertFalse(link_exists('vdc13'))
            self.assertEqual(nft_tables(d), tables)
        finally:
            d.__exit__(None, None, None)

    def test_killed_in_start(self):
        """A daemon killed after it made the bridge, the rules and dnsmasq
        but before it recorded the start as complete: the restart undoes
        it all, and the network starts again cleanly."""
        with self.daemon() as d:
            self.forget_default(d)
            self.define(d, net_xml('vdcnet10', 'vdc10', 10))
            d.stop()
            os.environ['VIRTD_TEST_CRASH_AT'] = 'network-started'
            try:
                d.start()
                try:
                    d.api('POST', '/v1/networks/vdcnet10/start')
                except (OSError, harness.http.client.HTTPException):
                    pass
                harness.wait_for(lambda: d.proc.poll() is not None, 10, what='daemon killed')
            finally:
                del os.environ['VIRTD_TEST_CRASH_AT']
            t = table_for('vdc10')
            if t:
                _tables.add(t)
            self.assertTrue(link_exists('vdc10'))      # half-made, as the kill left it
            self.assertIsNotNone(dnsmasq_of(d, 'vdcnet10'))
            d.start()
            self.assertFalse(self.net(d, 'vdcnet10')['active'])
            self.assertGone(d, 'vdcnet10', 'vdc10', t)
            self.assertIn('middle of its start', read(d.path('virtd.log')))
            self.start(d, 'vdcnet10')
            self.assertRunning(d, 'vdcnet10', 'vdc10', '10.201.10.1/24')
            self.destroy(d, 'vdcnet10')
            self.assertGone(d, 'vdcnet10', 'vdc10', t)


if __name__ == '__main__':
    harness.main()
