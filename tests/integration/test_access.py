#!/usr/bin/env python3
"""Who may do what through the API (issue 15, Confinement; docs/access.md).

Clients of other uids and groups are made with setpriv (numeric uids and
gids: no user or group is created): the daemon knows them by SO_PEERCRED
and SO_PEERGROUPS only.

- root may do anything; a uid in no group is refused with a 403 naming
  the rule, for reads too (vsh says it as well);
- the read-only group lists and reads (list, dumpxml) but may not define,
  start, open a console or read secrets: 403 naming the rule, nothing
  changed;
- the read-write group defines a domain whose disk is in a pool, but is
  refused <emulator>/usr/bin/env, a <kernel> of /etc/shadow, a disk
  /root/x.img, an external TPM's socket elsewhere or a symlink in the pool leading to /etc/shadow, the start
  of a domain whose kernel is outside the allowed directories, a pool
  outside them, the raw QEMU monitor and a web API token; each refusal
  names the rule and nothing is defined;
- every change is one line of the audit log with the uid, the result and
  the error code; reads are not logged; the log rotates past its size;
- the socket is 0666 (the credentials decide) and its directory
  searchable; an unknown group stops the start with a clear error;
- a TLS client is audited as its certificate's DN and address.
"""

import json
import os
import stat
import subprocess
import sys

import harness
from harness import Daemon, dom_path, domain_xml, xml_escape

RW_GID, RO_GID = 4243, 4244
NOBODY = (4242, 4242, [])          # uid, gid, supplementary groups
READER = (4245, 4245, [RO_GID])
WRITER = (4246, 4246, [RW_GID])

# One request over the UNIX socket, run as another uid by setpriv: prints
# {"status": N, "body": TEXT} (or {"connect": ERROR}).
CLIENT = r'''
import http.client, json, socket, sys
path, method, url, body, ctype = sys.argv[1:6]
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
c = C('localhost', timeout=60)
try:
    c.request(method, url, body=body.encode() if body else None,
              headers={'Content-Type': ctype} if body else {})
    r = c.getresponse()
    print(json.dumps({'status': r.status, 'body': r.read().decode()}))
except OSError as e:
    print(json.dumps({'connect': str(e)}))
'''


def setpriv(who):
    uid, gid, groups = who
    return ['setpriv', '--reuid', str(uid), '--regid', str(gid)] + \
        (['--groups', ','.join(map(str, groups))] if groups else ['--clear-groups'])


def disk_only_xml(name, disk, extra_os='', emulator=None):
    """A domain with one disk and no kernel (firmware boot): what a
    non-root client may define when the disk is in a pool."""
    emu = '    <emulator>%s</emulator>\n' % xml_escape(emulator) if emulator else ''
    return ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>\n"
            "  <os><type arch='x86_64' machine='pc'>hvm</type>%s</os>\n"
            "  <devices>\n%s%s\n  </devices>\n</domain>\n"
            % (xml_escape(name), extra_os, emu, harness.disk_xml(disk)))


class Access(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(args=['--rw-group', str(RW_GID), '--ro-group', str(RO_GID)])
        cls.d.start()
        cls.images = cls.d.path('lib', 'images')
        cls.disk = os.path.join(cls.images, 'ok.img')
        with open(cls.disk, 'wb') as fh:
            fh.truncate(1 << 20)
        # Defined by root: the guest's kernel is outside the allowed dirs.
        cls.d.api_json('POST', '/v1/domains', domain_xml('byroot'), expect=201)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def call(self, who, method, url, body=''):
        ctype = 'application/xml' if body.lstrip().startswith('<') else 'application/json'
        r = subprocess.run(setpriv(who) + [sys.executable, '-c', CLIENT, self.d.sock_path,
                                           method, url, body, ctype],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertNotIn('connect', out, 'uid %d could not connect' % who[0])
        try:
            out['json'] = json.loads(out['body'])
        except ValueError:
            out['json'] = None
        return out

    def assertDenied(self, out, *fragments):
        self.assertEqual(out['status'], 403, out['body'])
        err = out['json']['error']
        self.assertEqual(err['code'], 'denied')
        for f in fragments:
            self.assertIn(f, err['message'])
        return err['message']

    def names(self):
        return sorted(x['name'] for x in self.d.domains())

    def audit(self):
        with open(self.d.path('lib', 'audit.log')) as fh:
            return [json.loads(line) for line in fh]

    # ---- who may connect

    def test_1_socket_mode(self):
        st = os.stat(self.d.sock_path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o666)
        self.assertEqual(st.st_gid, RW_GID)
        self.assertTrue(os.stat(self.d.root).st_mode & 0o001)

    def test_2_root_and_nobody(self):
        self.assertIn('byroot', self.names())
        msg = self.assertDenied(self.call(NOBODY, 'GET', '/v1/domains'))
        self.assertEqual(msg, "uid 4242 is not root and not in the read-write group '4243' nor "
                              "the read-only group '4244' (virtd --rw-group/--ro-group)")
        self.assertDenied(self.call(NOBODY, 'POST', '/v1/domains',
                                    disk_only_xml('nobody1', self.disk)), 'uid 4242 is not root')
        # vsh says the same.
        r = subprocess.run(setpriv(NOBODY) + [harness.VSH_BIN, '-c', self.d.uri, 'list'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=dict(os.environ, HOME='/nonexistent', LC_ALL='C'), timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("uid 4242 is not root and not in the read-write group", r.stderr)
        self.assertNotIn('nobody1', self.names())

    # ---- the read-only group

    def test_3_read_only(self):
        out = self.call(READER, 'GET', '/v1/domains?all=1')
        self.assertEqual(out['status'], 200)
        self.assertIn('byroot', [x['name'] for x in out['json']['domains']])
        out = self.call(READER, 'GET', dom_path('byroot', '/xml'))
        self.assertEqual(out['status'], 200)
        self.assertIn('<name>byroot</name>', out['body'])
        self.assertDenied(self.call(READER, 'POST', '/v1/domains',
                                    disk_only_xml('ro1', self.disk)),
                          "uid 4245 is in the read-only group '4244' (virtd --ro-group)",
                          "not POST '/v1/domains'")
        self.assertDenied(self.call(READER, 'POST', dom_path('byroot', '/start')),
                          'read-only group', "/v1/domains/byroot/start")
        self.assertDenied(self.call(READER, 'DELETE', dom_path('byroot')), 'read-only group')
        self.assertDenied(self.call(READER, 'GET', dom_path('byroot', '/xml?secure=1')),
                          'for root only')
        self.assertNotIn('ro1', self.names())
        self.assertEqual(self.d.summary('byroot')['state'], 'shut off')
        # The compatibility report only reads.
        out = self.call(READER, 'POST', '/v1/domains/check', disk_only_xml('ro2', self.disk))
        self.assertEqual(out['status'], 200, out['body'])

    # ---- the read-write group

    def test_4_read_write_rules(self):
        out = self.call(WRITER, 'POST', '/v1/domains', disk_only_xml('rw1', self.disk))
        self.assertEqual(out['status'], 201, out['body'])
        self.assertIn('rw1', self.names())

        self.assertDenied(self.call(WRITER, 'POST', '/v1/domains',
                                    disk_only_xml('rw2', self.disk, emulator='/usr/bin/env')),
                          "<emulator> '/usr/bin/env' is not one of the installed QEMU binaries",
                          "uid 4246 is in the read-write group '4243', not root",
                          '--allowed-emulator')
        self.assertDenied(self.call(WRITER, 'POST', '/v1/domains',
                                    disk_only_xml('rw3', self.disk,
                                                  extra_os='<kernel>/etc/shadow</kernel>')),
                          "<kernel>: '/etc/shadow' is outside the directories a non-root "
                          "client may name (" + os.path.realpath(self.images),
                          '--allowed-path')
        self.assertDenied(self.call(WRITER, 'POST', '/v1/domains',
                                    disk_only_xml('rw4', '/root/x.img')),
                          "disk 'vda': '/root/x.img' is outside the directories")
        tpm = ("<tpm model='tpm-crb'><backend type='external'><source type='unix' "
               "mode='connect' path='/run/someone-else.sock'/></backend></tpm>")
        self.assertDenied(self.call(WRITER, 'POST', '/v1/domains',
                                    disk_only_xml('rw6', self.disk).replace(
                                        '</devices>', tpm + '</devices>')),
                          "<tpm> socket: '/run/someone-else.sock' is outside")
        link = os.path.join(self.images, 'shadow.img')
        os.symlink('/etc/shadow', link)
        try:
            self.assertDenied(self.call(WRITER, 'POST', '/v1/domains',
                                        disk_only_xml('rw5', link)),
                              "(it leads to '/etc/shadow') is outside")
        finally:
            os.unlink(link)
        # A qcow2 image in the pool whose own header names a file outside:
        # QEMU would follow it, so the writer may not use that image.
        evil = os.path.join(self.images, 'evil.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-u', '-b', '/etc/shadow',
                        '-F', 'raw', evil, '1M'], check=True)
        try:
            self.assertDenied(self.call(WRITER, 'POST', '/v1/domains',
                                        disk_only_xml('rw7', evil).replace(
                                            "type='raw'", "type='qcow2'")),
                              "backing file of disk 'vda' (named in an image's header): "
                              "'/etc/shadow' is outside the directories",
                              '--allowed-path')
        finally:
            os.unlink(evil)
        # A domain root defined: its kernel is not the writer's to name.
        self.assertDenied(self.call(WRITER, 'POST', dom_path('byroot', '/start')),
                          "<kernel>: '%s'" % harness.guest_kernel())
        self.assertEqual(self.d.summary('byroot')['state'], 'shut off')
        # A pool would make its directory an allowed one.
        self.assertDenied(self.call(WRITER, 'POST', '/v1/pools',
                                    "<pool type='dir'><name>mine</name><target><path>"
                                    "/var/tmp/access-pool</path></target></pool>"),
                          "target of pool 'mine': '/var/tmp/access-pool' is outside")
        self.assertDenied(self.call(WRITER, 'POST', dom_path('rw1', '/qemu-monitor'),
                                    json.dumps({'execute': 'query-status'})),
                          'the raw QEMU monitor', 'is for root only')
        # A web token's holder is not confined by these rules: root's to make.
        self.assertDenied(self.call(WRITER, 'POST', '/v1/web-tokens',
                                    json.dumps({'name': 'mine'})),
                          'making or revoking web API tokens is for root only')
        self.assertEqual(self.d.api_json('GET', '/v1/web-tokens')['tokens'], [])
        self.assertEqual([n for n in self.names() if n.startswith('rw')], ['rw1'])
        # Root keeps today's rules: the same kernel from root is defined.
        self.d.api_json('POST', '/v1/domains', disk_only_xml('rootenv', self.disk,
                                                             emulator='/usr/bin/env'),
                        expect=201)

    # ---- the audit log

    def test_5_audit(self):
        lines = self.audit()
        for line in lines:
            self.assertNotIn(line['method'], ('GET', 'HEAD'))
            for key in ('time', 'transport', 'method', 'path', 'object', 'status', 'error'):
                self.assertIn(key, line)
        by = lambda uid: [x for x in lines if x.get('uid') == uid]
        rw1 = [x for x in by(4246) if x['object'] == 'rw1' and x['path'] == '/v1/domains']
        self.assertEqual(len(rw1), 1, lines)
        self.assertEqual((rw1[0]['method'], rw1[0]['path'], rw1[0]['status'], rw1[0]['error'],
                          rw1[0]['transport']), ('POST', '/v1/domains', 201, None, 'unix'))
        self.assertGreater(rw1[0]['pid'], 0)
        refused = [x for x in by(4246) if x['status'] == 403]
        self.assertEqual(len(refused), 10)  # test_4: nine rules and the qcow2 header
        self.assertTrue(all(x['error'] == 'denied' for x in refused))
        self.assertIn('rw2', [x['object'] for x in refused])
        # Refused before the body was read: the define's name is not known.
        ro = [x for x in by(4245)]
        self.assertEqual({x['object'] for x in ro if x['status'] == 403}, {'byroot', None})
        self.assertEqual(len([x for x in ro if x['status'] == 403]), 3)
        self.assertIn(('POST', '/v1/domains/check', 200), [(x['method'], x['path'], x['status'])
                                                           for x in ro])
        nobody = by(4242)
        self.assertEqual([(x['path'], x['status'], x['error']) for x in nobody],
                         [('/v1/domains', 403, 'denied')])
        root = by(0)
        self.assertIn(('byroot', 201), [(x['object'], x['status']) for x in root])
        self.assertEqual(root[0]['user'], 'root')

    def test_6_rotation_and_bad_options(self):
        log = self.d.path('small-audit.log')
        with Daemon(args=['--audit-log', log, '--audit-log-max', '4KiB']) as d2:
            for i in range(40):
                d2.api('POST', '/v1/domains', '<domain><name>bad%d</name></domain>' % i)
        self.assertTrue(os.path.exists(log + '.1'))
        with open(log + '.1') as fh:
            old = [json.loads(x) for x in fh]
        with open(log) as fh:
            new = [json.loads(x) for x in fh]
        self.assertEqual(len(old) + len(new) + (0 if not os.path.exists(log + '.2') else
                                                len(open(log + '.2').readlines())), 40)
        self.assertLessEqual(os.path.getsize(log + '.1'), 4096 + 400)
        r = subprocess.run([harness.VIRTD_BIN, '--root', self.d.path('bad'), '--ro-group',
                            'no-such-group-access'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown group 'no-such-group-access' for --ro-group", r.stderr)

    def test_7_tls_identity(self):
        """A TLS client is its certificate, not a socket peer: its change is
        audited with its DN and address."""
        import tempfile
        import test_remote_tls as tls
        top = tempfile.mkdtemp(prefix='virtd-test-access-tls-', dir=os.path.dirname(self.d.root))
        try:
            pki = tls.make_pki(top)
            port = tls.free_port()
            with Daemon(args=['--listen', 'tls://127.0.0.1:%d' % port, '--tls-dir', pki.server,
                              '--audit-log', os.path.join(top, 'audit.log')]) as d2:
                crt, key = pki.clients['allowed']
                r = subprocess.run(
                    ['curl', '-sS', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code}',
                     '--cacert', pki.path('ca.pem'), '--cert', crt, '--key', key,
                     '-H', 'Content-Type: application/xml', '--data-binary',
                     disk_only_xml('tls1', os.path.join(d2.root, 'lib', 'images', 'x.img')),
                     'https://127.0.0.1:%d/v1/domains' % port],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
                self.assertEqual(r.stdout, '201', r.stderr)
            with open(os.path.join(top, 'audit.log')) as fh:
                lines = [json.loads(x) for x in fh]
            self.assertEqual(len(lines), 1, lines)
            line = lines[0]
            self.assertEqual((line['transport'], line['object'], line['status']),
                             ('tls', 'tls1', 201))
            self.assertIn('CN=client-allowed-1', line['dn'])
            self.assertTrue(line['address'].startswith('127.0.0.1:'))
            self.assertNotIn('uid', line)
        finally:
            import shutil
            shutil.rmtree(top, ignore_errors=True)


if __name__ == '__main__':
    harness.main()
