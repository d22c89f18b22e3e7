#!/usr/bin/env python3
"""vsh's network commands against a fake API on a UNIX socket.

The daemon's side of docs/api.md "Networks" and "Domain interfaces" is
tested on its own; this test pins vsh's side of the same contract: which
method and path each command calls, the JSON or XML it sends, what it
prints from a canned answer, and its exit status (no-network is 12). No
virtd, no QEMU, nothing on the host but a socket in a temporary directory.

    python3 tests/vsh/test_vsh_net_api.py [BUILD_DIR]
"""
import http.server
import json
import os
import socketserver
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'build')
VSH = os.path.join(BUILD, 'src', 'vsh', 'vsh')

NET = {'name': 'default', 'uuid': '11111111-2222-3333-4444-555555555555', 'active': True,
       'autostart': True, 'persistent': True, 'bridge': 'virbr0', 'forward': 'nat',
       'ips': ['192.168.122.1/24'], 'dhcp': True, 'notes': []}
DOM = {'name': 'web1', 'uuid': '4dea22b3-1d52-d8f3-2516-782e98ab3fa0', 'id': 3,
       'state': 'running', 'reason': 'booted', 'persistent': True, 'autostart': False}
NET_XML = "<network>\n  <name>default</name>\n  <bridge name='virbr0'/>\n</network>\n"


class FakeApi:
    """Answers (method, path-with-query) from a table; records requests."""

    def __init__(self, path):
        self.routes = {}
        self.requests = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def address_string(self):
                return 'unix'

            def _serve(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                api.requests.append({'method': self.command, 'path': self.path,
                                     'type': self.headers.get('Content-Type'), 'body': body})
                status, ctype, payload = api.routes.get(
                    (self.command, self.path),
                    (404, 'application/json',
                     {'error': {'code': 'not-found',
                                'message': "no API resource '%s'" % self.path}}))
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(len(data)))
                self.send_header('Connection', 'close')
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, method, path, payload, status=200, ctype='application/json'):
        self.routes[(method, path)] = (status, ctype, payload)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class NetApiTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix='vsh-net-api-')
        self.sock = os.path.join(self.tmp.name, 'virtd.sock')
        self.api = FakeApi(self.sock)

    def tearDown(self):
        self.api.close()
        self.tmp.cleanup()

    def vsh(self, *args, rc=0, env=None):
        p = subprocess.run([VSH, '-c', 'unix://' + self.sock] + list(args),
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, TZ='UTC', **(env or {})))
        self.assertEqual(p.returncode, rc, '%s: %s%s' % (args, p.stdout, p.stderr))
        return p

    def last(self, n=1):
        return self.api.requests[-n]

    def json_body(self, req):
        self.assertEqual(req['type'], 'application/json')
        return json.loads(req['body'])

    # ---- networks ----

    def test_list(self):
        self.api.route('GET', '/v1/networks?all=1', {'networks': [
            NET, dict(NET, name='iso', uuid='u2', active=False, autostart=False)]})
        p = self.vsh('net-list', '--all')
        self.assertEqual(p.stdout,
                         ' Name      State      Autostart   Persistent\n'
                         '----------------------------------------------\n'
                         ' default   active     yes         yes\n'
                         ' iso       inactive   no          yes\n\n')
        self.api.route('GET', '/v1/networks', {'networks': [NET]})
        self.assertEqual(self.vsh('net-list', '--name').stdout, 'default\n\n')
        self.assertEqual(self.vsh('-q', 'net-list', '--uuid').stdout, NET['uuid'] + '\n')
        p = self.vsh('net-list', '--name', '--uuid', rc=2)
        self.assertIn('Only one argument from --table, --name and --uuid', p.stderr)

    def test_completion(self):
        self.api.route('GET', '/v1/networks?all=1', {'networks': [
            NET, dict(NET, name='lab', uuid='u2', active=False)]})
        p = self.vsh('complete', '--', 'net-start', 'l')
        self.assertEqual(p.stdout, 'lab\n\n')
        self.assertEqual(self.last()['path'], '/v1/networks?all=1')

    def test_define_create_start_destroy_undefine(self):
        xml_file = os.path.join(self.tmp.name, 'net.xml')
        with open(xml_file, 'w') as f:
            f.write(NET_XML)
        self.api.route('POST', '/v1/networks', {'network': dict(NET, active=False),
                                                'warnings': []}, status=201)
        p = self.vsh('net-define', xml_file)
        self.assertEqual(p.stdout, 'Network default defined from %s\n\n' % xml_file)
        self.assertEqual(self.last()['type'], 'application/xml')
        self.assertEqual(self.last()['body'].decode(), NET_XML)

        note = '192.168.122.0/24 is routed on the host via virbr9: took 192.168.123.0/24'
        self.api.route('POST', '/v1/networks?start=1',
                       {'network': dict(NET, persistent=False, notes=[note]), 'warnings': []},
                       status=201)
        p = self.vsh('net-create', xml_file)
        self.assertEqual(p.stdout, 'Network default created from %s\n\n' % xml_file)
        self.assertIn('warning: ' + note, p.stderr)

        self.api.route('POST', '/v1/networks/default/start',
                       {'network': dict(NET, notes=[note]), 'warnings': []})
        p = self.vsh('net-start', 'default')
        self.assertEqual(p.stdout, 'Network default started\n\n')
        self.assertIn('warning: ' + note, p.stderr)
        self.assertEqual(self.last()['body'], b'')

        self.api.route('POST', '/v1/networks/default/destroy',
                       {'network': dict(NET, active=False), 'warnings': []})
        self.assertEqual(self.vsh('net-destroy', 'default').stdout,
                         'Network default destroyed\n\n')
        self.api.route('DELETE', '/v1/networks/default', {'network': NET})
        self.assertEqual(self.vsh('net-undefine', 'default').stdout,
                         'Network default has been undefined\n\n')

    def test_autostart(self):
        self.api.route('PUT', '/v1/networks/default/autostart', {'network': NET})
        self.assertEqual(self.vsh('net-autostart', 'default').stdout,
                         'Network default marked as autostarted\n\n')
        self.assertEqual(self.json_body(self.last()), {'autostart': True})
        self.assertEqual(self.vsh('net-autostart', 'default', '--disable').stdout,
                         'Network default unmarked as autostarted\n\n')
        self.assertEqual(self.json_body(self.last()), {'autostart': False})

    def test_info_uuid_name_dumpxml(self):
        self.api.route('GET', '/v1/networks/default',
                       {'network': dict(NET, notes=['forwarded traffic: DOCKER-USER rule added'])})
        self.assertEqual(self.vsh('net-info', 'default').stdout,
                         'Name:           default\n'
                         'UUID:           %s\n'
                         'Active:         yes\n'
                         'Persistent:     yes\n'
                         'Autostart:      yes\n'
                         'Bridge:         virbr0\n'
                         'Notes:          forwarded traffic: DOCKER-USER rule added\n\n' % NET['uuid'])
        self.assertEqual(self.vsh('net-uuid', 'default').stdout, NET['uuid'] + '\n\n')
        self.api.route('GET', '/v1/networks/' + NET['uuid'], {'network': NET})
        self.assertEqual(self.vsh('net-name', NET['uuid']).stdout, 'default\n\n')
        self.api.route('GET', '/v1/networks/default/xml', NET_XML, ctype='application/xml')
        self.api.route('GET', '/v1/networks/default/xml?inactive=1', NET_XML.replace('0', '7'),
                       ctype='application/xml')
        self.assertEqual(self.vsh('net-dumpxml', 'default').stdout, NET_XML + '\n')
        self.assertIn("virbr7", self.vsh('net-dumpxml', 'default', '--inactive').stdout)

    def test_no_network_exit_status(self):
        msg = "Network not found: no network with matching name 'nope'"
        self.api.route('GET', '/v1/networks/nope',
                       {'error': {'code': 'no-network', 'message': msg}}, status=404)
        p = self.vsh('net-info', 'nope', rc=12)
        self.assertEqual(p.stderr, 'error: %s\n' % msg)
        self.api.route('POST', '/v1/networks/default/start',
                       {'error': {'code': 'invalid-state',
                                  'message': "network 'default' is already active"}}, status=409)
        p = self.vsh('net-start', 'default', rc=6)
        self.assertIn("network 'default' is already active", p.stderr)

    def test_update(self):
        self.api.route('POST', '/v1/networks/default/update', {'network': NET})
        host = "<host mac='52:54:00:00:00:05' name='vm5' ip='192.168.122.5'/>"
        p = self.vsh('net-update', 'default', 'add', 'ip-dhcp-host', host, '--live', '--config')
        self.assertEqual(p.stdout,
                         'Updated network default persistent config and live state\n')
        self.assertEqual(self.json_body(self.last()),
                         {'command': 'add', 'section': 'ip-dhcp-host', 'xml': host,
                          'parent_index': -1, 'live': True, 'config': True})
        # XML from a file, --current: both false; an active network says live.
        f = os.path.join(self.tmp.name, 'host.xml')
        with open(f, 'w') as fh:
            fh.write(host)
        p = self.vsh('net-update', 'default', 'delete', 'dns-host', f, '--current',
                     '--parent-index', '0')
        self.assertEqual(p.stdout, 'Updated network default live state\n')
        self.assertEqual(self.json_body(self.last()),
                         {'command': 'delete', 'section': 'dns-host', 'xml': host,
                          'parent_index': 0, 'live': False, 'config': False})
        p = self.vsh('net-update', 'default', 'add', 'ip-dhcp-host', host, '--config')
        self.assertEqual(p.stdout, 'Updated network default persistent config\n')
        n = len(self.api.requests)
        p = self.vsh('net-update', 'default', 'insert', 'ip-dhcp-host', host, rc=2)
        self.assertIn("unrecognized command name 'insert'", p.stderr)
        p = self.vsh('net-update', 'default', 'add', 'dhcp-host', host, rc=2)
        self.assertIn("unrecognized section name 'dhcp-host'", p.stderr)
        p = self.vsh('net-update', 'default', 'add', 'ip-dhcp-host', host, '--live', '--current',
                     rc=2)
        self.assertIn('mutually exclusive', p.stderr)
        self.assertEqual(len(self.api.requests), n, 'a refused command sent nothing')

    def test_leases(self):
        self.api.route('GET', '/v1/networks/default/leases?mac=52%3A54%3A00%3A4c%3Aee%3A9c', {
            'leases': [{'expiry_time': 1718791262, 'mac': '52:54:00:4c:ee:9c', 'type': 'ipv4',
                        'ip': '192.168.122.45', 'prefix': 24, 'hostname': 'vm1',
                        'client_id': '01:52:54:00:4c:ee:9c', 'interface': 'virbr0'}]})
        p = self.vsh('net-dhcp-leases', 'default', '--mac', '52:54:00:4c:ee:9c')
        self.assertEqual(p.stdout.splitlines()[2],
                         ' 2024-06-19 10:01:02   52:54:00:4c:ee:9c   ipv4       '
                         '192.168.122.45/24   vm1        01:52:54:00:4c:ee:9c')

    def test_edit(self):
        self.api.route('GET', '/v1/networks/default', {'network': NET})
        path = '/v1/networks/%s/xml' % NET['uuid']
        self.api.route('GET', path + '?inactive=1', NET_XML, ctype='application/xml')
        self.api.route('PUT', path, {'network': NET, 'warnings': [
            "network 'default' is active: the new definition applies from its next start"]})
        p = self.vsh('net-edit', 'default', env={'EDITOR': 'sed -i s/virbr0/virbr9/',
                                                  'VISUAL': ''})
        self.assertEqual(p.stdout, 'Network default XML configuration edited.\n\n')
        self.assertIn('applies from its next start', p.stderr)
        self.assertEqual(self.last()['method'], 'PUT')
        self.assertEqual(self.last()['type'], 'application/xml')
        self.assertIn(b"<bridge name='virbr9'/>", self.last()['body'])
        p = self.vsh('net-edit', 'default', env={'EDITOR': 'true', 'VISUAL': ''})
        self.assertEqual(p.stdout, 'Network default XML configuration not changed.\n\n')

    # ---- domain interfaces ----

    def test_domiflist_domifaddr(self):
        self.api.route('GET', '/v1/domains/web1/interfaces?inactive=1', {'interfaces': [
            {'interface': '-', 'type': 'network', 'source': 'default', 'model': 'virtio',
             'mac': '52:54:00:00:00:01', 'link': 'up', 'alias': 'net0'}]})
        self.assertEqual(self.vsh('domiflist', 'web1', '--inactive').stdout,
                         ' Interface   Type      Source    Model    MAC\n'
                         '%s\n'
                         ' -           network   default   virtio   52:54:00:00:00:01\n\n' % ('-' * 61))
        self.api.route('GET', '/v1/domains/web1/interfaces/addresses?source=arp', {'interfaces': [
            {'name': 'vnet0', 'mac': '52:54:00:00:00:01',
             'addrs': [{'type': 'ipv4', 'addr': '192.168.122.45', 'prefix': 24}]}]})
        p = self.vsh('domifaddr', 'web1', '--source', 'arp')
        self.assertEqual(p.stdout.splitlines()[0],
                         ' Name       MAC address          Protocol     Address')
        self.assertEqual(p.stdout.splitlines()[2],
                         ' vnet0      52:54:00:00:00:01    ipv4         192.168.122.45/24')
        p = self.vsh('domifaddr', 'web1', '--source', 'dhcp', rc=2)
        self.assertIn("Unknown data source 'dhcp'", p.stderr)

    def test_link_and_stats(self):
        self.api.route('GET', '/v1/domains/web1', {'domain': DOM, 'info': {}})
        self.api.route('PUT', '/v1/domains/web1/interfaces/vnet0/link', {'state': 'down'})
        self.assertEqual(self.vsh('domif-setlink', 'web1', 'vnet0', 'down').stdout,
                         'Device updated successfully\n\n')
        self.assertEqual(self.json_body(self.last()),
                         {'state': 'down', 'live': True, 'config': False})
        self.vsh('domif-setlink', 'web1', 'vnet0', 'up', '--config')
        self.assertEqual(self.json_body(self.last()),
                         {'state': 'up', 'live': False, 'config': True})
        # A shut-off domain: its definition, as virsh.
        self.api.route('GET', '/v1/domains/web1', {'domain': dict(DOM, id=-1), 'info': {}})
        self.vsh('domif-setlink', 'web1', 'vnet0', 'down')
        self.assertEqual(self.json_body(self.last()),
                         {'state': 'down', 'live': False, 'config': True})
        self.vsh('domif-setlink', 'web1', 'vnet0', 'sideways', rc=2)

        self.api.route('GET', '/v1/domains/web1/interfaces/52%3A54%3A00%3A00%3A00%3A01/link'
                       '?inactive=1', {'state': 'down'})
        self.assertEqual(self.vsh('domif-getlink', 'web1', '52:54:00:00:00:01',
                                  '--config').stdout, '52:54:00:00:00:01 down\n')
        stats = {'rx_bytes': 123, 'rx_packets': 4, 'rx_errs': 0, 'rx_drop': 0,
                 'tx_bytes': 456, 'tx_packets': 5, 'tx_errs': 0, 'tx_drop': -1}
        self.api.route('GET', '/v1/domains/web1/interfaces/vnet0/stats', stats)
        self.assertEqual(self.vsh('domifstat', 'web1', 'vnet0').stdout,
                         'vnet0 rx_bytes 123\nvnet0 rx_packets 4\nvnet0 rx_errs 0\n'
                         'vnet0 rx_drop 0\nvnet0 tx_bytes 456\nvnet0 tx_packets 5\n'
                         'vnet0 tx_errs 0\n\n')

    def test_attach_detach(self):
        device = "<interface type='network'>...</interface>"
        self.api.route('GET', '/v1/domains/web1', {'domain': DOM, 'info': {}})
        for q in ('', '?live=1', '?config=1', '?live=1&config=1'):
            self.api.route('POST', '/v1/domains/web1/devices' + q,
                           {'domain': DOM, 'device': device}, status=201)
            self.api.route('POST', '/v1/domains/web1/devices/detach' + q, {'domain': DOM})
        p = self.vsh('attach-interface', 'web1', 'network', 'default', '--model', 'virtio',
                     '--mac', '52:54:00:00:00:07', '--persistent')
        self.assertEqual(p.stdout, 'Interface attached successfully\n\n')
        req = self.last()
        self.assertEqual(req['path'], '/v1/domains/web1/devices?live=1&config=1')
        self.assertEqual(req['type'], 'application/xml')
        self.assertEqual(req['body'].decode(),
                         "<interface type='network'>\n"
                         "  <source network='default'/>\n"
                         "  <mac address='52:54:00:00:00:07'/>\n"
                         "  <model type='virtio'/>\n"
                         "</interface>\n")
        self.vsh('attach-interface', '--domain', 'web1', '--type', 'bridge', '--source', 'br0')
        self.assertEqual(self.last()['path'], '/v1/domains/web1/devices')
        n = len(self.api.requests)
        p = self.vsh('attach-interface', 'web1', 'bridge', 'br0', '--print-xml')
        self.assertEqual(p.stdout, "<interface type='bridge'>\n  <source bridge='br0'/>\n"
                                   "</interface>\n\n")
        self.vsh('attach-interface', 'web1', 'hostdev', '01:00.0', rc=2)
        self.vsh('attach-interface', 'web1', 'network', 'default', '--live', '--current', rc=2)
        self.assertEqual(len(self.api.requests), n)

        p = self.vsh('detach-interface', 'web1', 'network', '--mac', '52:54:00:00:00:07',
                     '--config')
        self.assertEqual(p.stdout, 'Interface detached successfully\n\n')
        self.assertEqual(self.last()['path'], '/v1/domains/web1/devices/detach?config=1')
        self.assertEqual(self.last()['body'].decode(),
                         "<interface type='network'>\n  <mac address='52:54:00:00:00:07'/>\n"
                         "</interface>\n")

        f = os.path.join(self.tmp.name, 'nic.xml')
        with open(f, 'w') as fh:
            fh.write(device)
        self.assertEqual(self.vsh('attach-device', 'web1', f, '--live').stdout,
                         'Device attached successfully\n\n')
        self.assertEqual(self.last()['path'], '/v1/domains/web1/devices?live=1')
        self.assertEqual(self.last()['body'].decode(), device)
        self.assertEqual(self.vsh('detach-device', 'web1', f).stdout,
                         'Device detached successfully\n\n')
        self.assertEqual(self.last()['path'], '/v1/domains/web1/devices/detach')

        self.api.route('POST', '/v1/domains/nope/devices',
                       {'error': {'code': 'no-domain', 'message': 'Domain not found'}},
                       status=404)
        p = self.vsh('attach-device', 'nope', f, rc=4)
        self.assertIn("failed to get domain 'nope'", p.stderr)

    # ---- vsh install --network ----

    def install(self, *args, rc=0):
        disk = os.path.join(self.tmp.name, 'd.img')
        open(disk, 'wb').close()
        self.api.route('GET', '/v1/domains?all=1', {'domains': []})
        return self.vsh('install', '--name', 'n1', '--import', '--disk', disk + ',format=raw',
                        '--virt-type', 'qemu', '--osinfo', 'debian12', '--graphics', 'none',
                        *args, rc=rc)

    def test_install_default_network(self):
        self.api.route('GET', '/v1/networks/default', {'network': NET})
        p = self.install('--dry-run')
        self.assertIn("Using the virtual network 'default'", p.stdout)
        self.assertRegex(p.stdout, r"Would connect NIC 52:54:00:[0-9a-f:]{8} to network 'default'")
        p = self.install('--print-xml')
        self.assertIn("<source network='default'/>", p.stdout)
        self.assertNotIn('Using', p.stdout)

        self.api.route('GET', '/v1/networks/default', {'network': dict(NET, active=False)})
        p = self.install('--dry-run')
        self.assertIn("'default' is not active: the guest gets user-mode networking", p.stdout)
        self.api.route('GET', '/v1/networks/default',
                       {'error': {'code': 'no-network', 'message': 'no'}}, status=404)
        p = self.install('--print-xml')
        self.assertIn("<interface type='user'>", p.stdout)

    def test_install_network_options(self):
        p = self.install('--print-xml', '--network', 'bridge=br0,model=e1000',
                         '--network', 'network=lab,mac=52:54:00:aa:bb:cc')
        self.assertIn("<source bridge='br0'/>\n      <model type='e1000'/>", p.stdout)
        self.assertIn("<mac address='52:54:00:aa:bb:cc'/>\n      <source network='lab'/>",
                      p.stdout)
        self.assertNotIn('/v1/networks/default', [r['path'] for r in self.api.requests])
        p = self.install('--print-xml', '--network', 'none')
        self.assertNotIn('<interface', p.stdout)
        p = self.install('--print-xml', '--network', 'bridge', rc=2)
        self.assertIn('name the host bridge', p.stderr)
        p = self.install('--print-xml', '--network', 'none', '--network', 'user', rc=2)
        self.assertIn('--network none cannot be combined', p.stderr)


if __name__ == '__main__':
    unittest.main(argv=sys.argv[:1], verbosity=2)
