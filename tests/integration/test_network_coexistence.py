#!/usr/bin/env python3
"""Virtual networks next to the host's other firewalls (issue 9,
"Coexistence"; docs/networking.md).

Docker sets the FORWARD policy of iptables' filter table to DROP and gives
administrators the DOCKER-USER chain as the place for their own rules;
libvirt's guests then silently lose the outside. Here each daemon runs in a
network namespace of its own (the harness's Daemon(netns=...)) whose
"host firewall" the test sets up with iptables-nft, as Docker or ufw would,
so that the machine's own firewall is never touched:

- Docker's layout: net-start says it added its rules to DOCKER-USER, they
  are there, a NAT guest reaches a server in "the outside" (another
  namespace) with the host's address, and net-destroy takes exactly those
  rules away again;
- a FORWARD policy drop without a documented hook: net-start warns naming
  the chain and the fix;
- a forward-mode-bridge network with br_netfilter's
  bridge-nf-call-iptables=1: reported the same way.

IPv6 lives here too, for the same reason: a network with an IPv6 <ip>
turns on IPv6 forwarding for its whole namespace. A guest on a network
with both families gets its IPv4 lease and configures an IPv6 address
from dnsmasq's router advertisements (SLAAC), which the host reaches.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, NetLab, domain_xml, wait_for  # noqa: E402
import netlab  # noqa: E402
from test_network_guests import Guest, Shell, net_xml, nic_xml  # noqa: E402


def iptables(lab, ns, *args, check=True):
    return lab.ns_run(ns, ['iptables'] + list(args), check=check)[1]


class Coexistence(harness.VirtdTestCase):

    def setUp(self):
        self.lab = NetLab().__enter__()
        self.addCleanup(self.lab.close)

    def daemon(self, ns):
        d = Daemon(netns=ns).__enter__()
        self.addCleanup(d.cleanup)      # runs before the lab's close
        return d

    def link_pair(self, ns_a, ns_b, subnet):
        """A veth pair between two namespaces: ns_a gets subnet.1, ns_b .2."""
        a, b = self.lab.name('va'), self.lab.name('vb')
        # Made inside the namespaces: nothing of it is ever in the host's.
        netlab.run(['ip', 'link', 'add', a, 'netns', ns_a, 'type', 'veth', 'peer', 'name', b,
                    'netns', ns_b])
        for ns, dev, addr in ((ns_a, a, subnet + '.1/24'), (ns_b, b, subnet + '.2/24')):
            self.lab.ns_run(ns, ['ip', 'addr', 'add', addr, 'dev', dev])
            self.lab.ns_run(ns, ['ip', 'link', 'set', dev, 'up'])

    def test_docker_user_hook(self):
        lab = self.lab
        host, out = lab.netns('dock'), lab.netns('out')
        outside = lab.subnet()
        self.link_pair(host, out, outside)
        server = lab.log_server(out, outside + '.2', 8080, text='outside-srv')
        # Docker's filter table, as dockerd writes it through iptables-nft.
        iptables(lab, host, '-N', 'DOCKER-USER')
        iptables(lab, host, '-A', 'DOCKER-USER', '-j', 'RETURN')
        iptables(lab, host, '-A', 'FORWARD', '-j', 'DOCKER-USER')
        iptables(lab, host, '-P', 'FORWARD', 'DROP')

        d = self.daemon(host)
        nat = lab.subnet()
        br = lab.name('nat')
        path = d.write_file('net.xml', net_xml('nat1', br, nat, 'nat'))
        d.vsh('net-define', path)
        _rc, out_text, err = d.vsh('net-start', 'nat1')
        self.assertIn('Network nat1 started', out_text)
        self.assertIn('DOCKER-USER', err, 'net-start says what it did')
        info = d.vsh('net-info', 'nat1')[1]
        self.assertRegex(info, r'Notes:.*DOCKER-USER')
        rules = iptables(lab, host, '-S', 'DOCKER-USER')
        self.assertIn('-i %s' % br, rules)
        self.assertIn('-o %s' % br, rules)

        d.define('g1', domain_xml('g1', memory_mib=128, extra_devices=nic_xml('network', 'nat1'),
                                  cmdline_extra='virtd.net=dhcp virtd.hostname=g1'))
        g = Guest(d, 'g1')
        g.mark()
        d.vsh('start', 'g1')
        g.wait_lease()
        with Shell(d, 'g1') as sh:
            _rc, got = sh.run("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 8 %s.2 8080" % outside,
                              timeout=30)
        self.assertIn('outside-srv', got, 'the guest passes Docker\'s DROP policy')
        self.assertEqual(server.peers()[-1:], [outside + '.1'], 'masqueraded')

        d.vsh('destroy', 'g1')
        d.vsh('net-destroy', 'nat1')
        rules = iptables(lab, host, '-S', 'DOCKER-USER')
        self.assertNotIn(br, rules, 'net-destroy removes the hook rules')
        self.assertIn('-A DOCKER-USER -j RETURN', rules, 'and only them')
        self.assertIn('-P FORWARD DROP', iptables(lab, host, '-S', 'FORWARD'))

    def test_ipv6_router_advertisements(self):
        lab = self.lab
        host = lab.netns('v6')
        d = self.daemon(host)
        v4, br = lab.subnet(), lab.name('v6')
        mac = '52:54:00:6e:00:01'
        xml = ("<network><name>dual</name><forward mode='nat'/><bridge name='%s'/>"
               "<ip address='%s.1' prefix='24'><dhcp><range start='%s.100' end='%s.199'/>"
               "</dhcp></ip><ip family='ipv6' address='fd5e:1:2:3::1' prefix='64'/>"
               "</network>" % (br, v4, v4, v4))
        d.vsh('net-define', d.write_file('net.xml', xml))
        self.assertIn('Network dual started', d.vsh('net-start', 'dual')[1])
        self.assertIn('inet6 fd5e:1:2:3::1/64',
                      lab.ns_run(host, ['ip', '-6', 'addr', 'show', 'dev', br])[1])
        self.assertEqual(lab.ns_run(host, ['cat', '/proc/sys/net/ipv6/conf/all/forwarding'])[1]
                         .strip(), '1')
        with open(d.path('lib', 'dnsmasq', 'dual.conf')) as f:
            self.assertIn('enable-ra', f.read())
        d.define('g6', domain_xml('g6', memory_mib=128,
                                  extra_devices=nic_xml('network', 'dual', mac=mac),
                                  cmdline_extra='virtd.net=dhcp virtd.hostname=g6'))
        g = Guest(d, 'g6')
        g.mark()
        d.vsh('start', 'g6')
        g.wait_lease()
        # SLAAC's address from the MAC (EUI-64): fd5e:1:2:3:5054:ff:fe6e:1.
        eui = 'fd5e:1:2:3:5054:ff:fe6e:1'

        with Shell(d, 'g6') as sh:
            def diagnosis():
                """What the guest, the bridge and dnsmasq say, for a failure."""
                parts = ['guest: ' + sh.run('ip -6 addr show dev eth0; ip -6 route')[1],
                         'bridge: ' + lab.ns_run(host, ['ip', '-6', 'addr', 'show', 'dev', br],
                                                 check=False)[1],
                         'ports: ' + lab.ns_run(host, ['bridge', 'link'], check=False)[1]]
                log = d.path('log', 'dnsmasq', 'dual.log')
                if os.path.exists(log):
                    with open(log) as f:
                        parts.append('dnsmasq log: ' + f.read()[-3000:])
                return '\n'.join(parts)

            def configured():
                return 'fd5e:1:2:3:' in sh.run('ip -6 addr show dev eth0 scope global')[1]
            # The guest configures the address from a router advertisement.
            wait_for(configured, 60, interval=1,
                     what=lambda: 'a SLAAC address on the guest\n' + diagnosis())

            # The guest's httpd answers over IPv6 (from the daemon's namespace).
            # The whole answer, to its end: busybox httpd sends the headers
            # and the page in separate segments, so one recv() may get only
            # the headers (seen: a guest answering for a minute while the
            # test saw no page).
            get = ("import socket; s = socket.create_connection(('%s', 80), timeout=3); "
                   "s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n'); b = b''\n"
                   "while True:\n    c = s.recv(4096)\n    if not c: break\n    b += c\n"
                   "print(b.decode())" % eui)

            def answers():
                rc, out, _err = lab.ns_run(host, ['python3', '-c', get], check=False)
                return rc == 0 and 'g6' in out
            wait_for(answers, 60, interval=1,
                     what=lambda: 'the guest answering at [%s]:80\n%s' % (eui, diagnosis()))
        d.vsh('destroy', 'g6')
        d.vsh('net-destroy', 'dual')
        self.assertNotIn(br, lab.ns_run(host, ['ip', '-br', 'link'])[1])

    def test_forward_drop_without_hook_is_named(self):
        lab = self.lab
        host = lab.netns('ufw')
        iptables(lab, host, '-P', 'FORWARD', 'DROP')
        d = self.daemon(host)
        path = d.write_file('net.xml', net_xml('nat2', lab.name('nat2'), lab.subnet(), 'nat'))
        d.vsh('net-define', path)
        _rc, out_text, err = d.vsh('net-start', 'nat2')
        self.assertIn('Network nat2 started', out_text)
        self.assertIn('FORWARD', err)
        self.assertRegex(err, r'(?i)policy drop')
        notes = d.api_json('GET', harness.net_path('nat2'))['network']['notes']
        self.assertTrue(any('FORWARD' in n for n in notes), notes)

    def test_br_netfilter_on_a_bridged_network_is_named(self):
        lab = self.lab
        host = lab.netns('brnf')
        knob = '/proc/sys/net/bridge/bridge-nf-call-iptables'
        rc, val, _e = lab.ns_run(host, ['cat', knob], check=False)
        if rc != 0 or val.strip() != '1':
            lab.ns_run(host, ['sh', '-c', 'echo 1 > ' + knob])
        br = lab.name('lan')
        lab.ns_run(host, ['ip', 'link', 'add', br, 'type', 'bridge'])
        lab.ns_run(host, ['ip', 'link', 'set', br, 'up'])
        d = self.daemon(host)
        xml = ("<network><name>lan</name><forward mode='bridge'/>"
               "<bridge name='%s'/></network>" % br)
        d.vsh('net-define', d.write_file('net.xml', xml))
        _rc, out_text, err = d.vsh('net-start', 'lan')
        self.assertIn('Network lan started', out_text)
        self.assertIn('bridge-nf-call-iptables', err)


if __name__ == '__main__':
    harness.main()
