#!/usr/bin/env python3
"""The daemon's TLS listener (virtd --listen tls://ADDR:PORT, --tls-dir,
--tls-allowed-dn; docs/remote-tls.md).

A CA, a server certificate (SAN IP 127.0.0.1 and DNS localhost) and client
certificates are made with openssl in the test's directory: one allowed,
one whose DN is outside the allow-list, one from another CA, one expired.
Only the allowed one gets HTTP (the same JSON as on the UNIX socket); the
others are closed during the handshake, nothing in the daemon changes, and
the daemon logs who and why. The client checks the server too (curl
without the CA fails). A client that sends nothing is closed after the
idle timeout; many clients at once are all served; start-up mistakes
(plain TCP, a host name, missing or wrong certificates, a busy port) fail
the daemon at start with the fix."""

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import types

import harness
from harness import Daemon

IDLE = 3
ALLOWED_DN = 'C=XX,O=virtd-test,CN=*allowed*'


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run(*argv):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    if r.returncode != 0:
        raise harness.HarnessError('%s: %s' % (' '.join(argv), r.stderr))
    return r.stdout


class Pki:
    """Certificates made with openssl under DIR (EC P-256: quick)."""

    def __init__(self, top):
        self.top = top

    def path(self, *parts):
        return os.path.join(self.top, *parts)

    def _key_and_csr(self, name, subj):
        key, csr = self.path(name + '.key'), self.path(name + '.csr')
        run('openssl', 'req', '-new', '-newkey', 'ec', '-pkeyopt',
            'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr,
            '-subj', subj)
        return key, csr

    def ca(self, name, subj):
        key, crt = self.path(name + '.key'), self.path(name + '.pem')
        run('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
            'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt,
            '-days', '30', '-subj', subj,
            '-addext', 'basicConstraints=critical,CA:TRUE',
            '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
        return name

    def cert(self, name, subj, ca, ext, days='30'):
        key, csr = self._key_and_csr(name, subj)
        crt, extfile = self.path(name + '.pem'), self.path(name + '.ext')
        with open(extfile, 'w') as f:
            f.write(ext)
        run('openssl', 'x509', '-req', '-in', csr, '-CA', self.path(ca + '.pem'),
            '-CAkey', self.path(ca + '.key'), '-CAcreateserial', '-out', crt,
            '-days', days, '-extfile', extfile)
        return crt, key

    def layout(self, dirname, ca, crt, key, server):
        """DIR/cacert.pem, DIR/{server,client}cert.pem, DIR/private/*key.pem"""
        d = self.path(dirname)
        os.makedirs(os.path.join(d, 'private'), exist_ok=True)
        who = 'server' if server else 'client'
        shutil.copy(self.path(ca + '.pem'), os.path.join(d, 'cacert.pem'))
        shutil.copy(crt, os.path.join(d, who + 'cert.pem'))
        shutil.copy(key, os.path.join(d, 'private', who + 'key.pem'))
        os.chmod(os.path.join(d, 'private', who + 'key.pem'), 0o600)
        return d


SERVER_EXT = ('subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n'
              'extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n')
CLIENT_EXT = 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n'


def make_pki(top):
    p = Pki(top)
    p.ca('ca', '/C=XX/O=virtd-test/CN=virtd test CA')
    p.ca('otherca', '/C=XX/O=virtd-test/CN=another CA')
    p.server = p.layout('server', 'ca', *p.cert('server', '/C=XX/O=virtd-test/CN=localhost',
                                              'ca', SERVER_EXT), server=True)
    p.clients = {
        'allowed': p.cert('allowed', '/C=XX/O=virtd-test/CN=client-allowed-1', 'ca',
                          CLIENT_EXT),
        'intruder': p.cert('intruder', '/C=XX/O=virtd-test/CN=intruder', 'ca', CLIENT_EXT),
        # The DN would be allowed: only the CA is wrong.
        'otherca': p.cert('otherca-client', '/C=XX/O=virtd-test/CN=client-allowed-2',
                          'otherca', CLIENT_EXT),
        # Signed by the right CA, allowed DN, but its notAfter is yesterday.
        'expired': p.cert('expired', '/C=XX/O=virtd-test/CN=client-allowed-old', 'ca',
                          CLIENT_EXT, days='-1'),
    }
    # Every client trusts the daemon's CA: the daemon is the one refusing.
    p.client_dirs = {name: p.layout('client-' + name, 'ca', crt, key, server=False)
                     for name, (crt, key) in p.clients.items()}
    return p


class RemoteTls(harness.VirtdTestCase):
    """curl, Python's ssl and vsh as TLS clients of one daemon."""

    @classmethod
    def setUpClass(cls):
        base = os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir()
        cls.top = tempfile.mkdtemp(prefix='virtd-test-tls-', dir=base)
        try:
            cls.pki = make_pki(cls.top)
            cls.port = free_port()
            cls.port6 = free_port()
            cls.d = Daemon(args=['--listen', 'tls://127.0.0.1:%d' % cls.port,
                                 '--listen', 'tls://[::1]:%d' % cls.port6,
                                 '--tls-dir', cls.pki.server,
                                 '--tls-allowed-dn', ALLOWED_DN,
                                 '--idle-timeout', str(IDLE)])
            cls.d.__enter__()
        except BaseException:
            shutil.rmtree(cls.top, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)
        shutil.rmtree(cls.top, ignore_errors=True)

    # ---- helpers

    def url(self, path, host='127.0.0.1', port=None):
        return 'https://%s:%d%s' % (host, port or self.port, path)

    def curl(self, path, client='allowed', cacert=True, method='GET', data=None, extra=()):
        argv = ['curl', '-sS', '--max-time', '20', '-o', '-', '-w', '\n%{http_code}']
        if cacert:
            argv += ['--cacert', self.pki.path('ca.pem')]
        if client:
            crt, key = self.pki.clients[client]
            argv += ['--cert', crt, '--key', key]
        if method != 'GET':
            argv += ['-X', method]
        if data is not None:
            argv += ['-H', 'Content-Type: application/xml', '--data-binary', data]
        argv += list(extra) + [self.url(path) if path.startswith('/') else path]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        body, _, code = r.stdout.rpartition('\n')
        return r.returncode, code, body, r.stderr

    def log(self):
        with open(os.path.join(self.d.root, harness.DAEMON_LOG), errors='replace') as f:
            return f.read()

    def wait_log(self, pattern, timeout=10):
        harness.wait_for(lambda: re.search(pattern, self.log()), timeout, what=pattern)
        return re.search(pattern, self.log())

    def state(self):
        """What a refused client must not change."""
        return (self.d.vsh('list', '--all')[1], sorted(os.listdir(self.d.path('etc'))
                                                        if os.path.isdir(self.d.path('etc'))
                                                        else []),
                self.d.api_json('GET', '/v1/domains?all=1'),
                self.d.api_json('GET', '/v1/domains/tls3'))

    def ssl_context(self, client='allowed'):
        ctx = ssl.create_default_context(cafile=self.pki.path('ca.pem'))
        if client:
            ctx.load_cert_chain(*self.pki.clients[client])
        return ctx

    # ---- tests

    def test_1_allowed_client_gets_the_api(self):
        d = self.d
        d.define('tls1', harness.domain_xml('tls1', memory_mib=128))
        try:
            rc, code, body, err = self.curl('/v1/domains?all=1')
            self.assertEqual((rc, code), (0, '200'), err)
            self.assertEqual(json.loads(body), d.api_json('GET', '/v1/domains?all=1'))
            self.assertIn('tls1', body)
            rc, code, body, err = self.curl('/v1/domains/tls1')
            self.assertEqual((rc, code), (0, '200'), err)
            self.assertEqual(json.loads(body), d.api_json('GET', '/v1/domains/tls1'))
            # By name too: the server certificate has DNS:localhost.
            rc, code, body, err = self.curl(self.url('/v1/version', host='localhost'))
            self.assertEqual((rc, code), (0, '200'), err)
            self.assertEqual(json.loads(body), d.api_json('GET', '/v1/version'))
            # And on the IPv6 listener.
            rc, code, body, err = self.curl(self.url('/v1/version', host='[::1]',
                                                     port=self.port6))
            self.assertEqual((rc, code), (0, '200'), err)
            # A define over TLS is a define.
            xml = harness.domain_xml('tls2', memory_mib=128)
            rc, code, body, err = self.curl('/v1/domains', method='POST', data=xml)
            self.assertEqual(rc, 0, err)
            self.assertIn(code, ('200', '201'), body)
            self.assertListed(d, 'tls2', 'shut off')
        finally:
            d.vsh('undefine', 'tls1', check=False)
            d.vsh('undefine', 'tls2', check=False)

    def test_2_refused_clients_get_no_http(self):
        d = self.d
        d.define('tls3', harness.domain_xml('tls3', memory_mib=128))
        try:
            before = self.state()
            cases = [
                # client, what the daemon logs
                (None, r'refused \(no HTTP served\): it sent no client certificate'),
                ('intruder', r"refused \(no HTTP served\): its DN matches no --tls-allowed-dn "
                             r"pattern \(certificate 'C=XX,O=virtd-test,CN=intruder'\)"),
                ('otherca', r"refused \(no HTTP served\): its certificate is not signed by the "
                            r"trusted CA .*\(certificate 'C=XX,O=virtd-test,CN=client-allowed-2'\)"),
                ('expired', r"refused \(no HTTP served\): its certificate is expired .*"
                            r"\(certificate 'C=XX,O=virtd-test,CN=client-allowed-old'\)"),
            ]
            xml = harness.domain_xml('tlsbad', memory_mib=128)
            for client, logged in cases:
                with self.subTest(client=client):
                    n = len(re.findall(logged, self.log()))
                    for method, path, data in (('GET', '/v1/domains?all=1', None),
                                               ('POST', '/v1/domains', xml),
                                               ('DELETE', '/v1/domains/tls3', None)):
                        rc, code, body, err = self.curl(path, client=client, method=method,
                                                        data=data)
                        # TLS handshake failure (35), or the connection
                        # closed at the first write (55) or read (56, 52
                        # "empty reply"): with TLS 1.3 the daemon checks
                        # the certificate after the client's side of the
                        # handshake is done. Never an HTTP status.
                        self.assertIn(rc, (35, 52, 55, 56), (rc, err))
                        self.assertEqual(code, '000', body)
                        self.assertEqual(body, '')
                    harness.wait_for(lambda: len(re.findall(logged, self.log())) >= n + 3, 10,
                                     what=logged)
                    # Who: the address and port of the client.
                    self.assertRegex(self.log(), r'TLS client 127\.0\.0\.1:\d+ ' + logged)
            self.assertEqual(self.state(), before)
            self.assertListed(d, 'tls3', 'shut off')
            self.assertNotListed(d, 'tlsbad')
        finally:
            d.vsh('undefine', 'tls3', check=False)

    def test_3_client_checks_the_server(self):
        # Without the CA, curl cannot trust the daemon's certificate.
        rc, code, body, err = self.curl('/v1/version', cacert=False)
        self.assertEqual(rc, 60, err)
        self.assertEqual(code, '000')
        # A name the certificate does not carry.
        rc, code, body, err = self.curl(
            'https://virtd-wrong-name:%d/v1/version' % self.port,
            extra=['--resolve', 'virtd-wrong-name:%d:127.0.0.1' % self.port])
        self.assertEqual(rc, 60, err)
        self.assertIn('virtd-wrong-name', err)
        # Plain HTTP on the TLS port: no HTTP answer either.
        r = subprocess.run(['curl', '-sS', '--max-time', '10', '-o', '-', '-w', '%{http_code}',
                            'http://127.0.0.1:%d/v1/version' % self.port],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, '000')
        self.wait_log(r'TLS client 127\.0\.0\.1:\d+ refused \(no HTTP served\): it does not '
                      r'speak TLS \(plain HTTP on the TLS port\?\)')

    def test_4_silent_clients_are_closed_after_the_idle_timeout(self):
        # Connected, sends nothing at all (no handshake).
        raw = socket.create_connection(('127.0.0.1', self.port))
        # Handshake done, no request.
        tcp = socket.create_connection(('127.0.0.1', self.port))
        tls = self.ssl_context().wrap_socket(tcp, server_hostname='localhost')
        t0 = time.monotonic()
        try:
            raw.settimeout(IDLE + 10)
            try:
                self.assertEqual(raw.recv(100), b'')
            except ConnectionResetError:
                pass
            took = time.monotonic() - t0
            self.assertGreaterEqual(took, IDLE - 1)
            self.assertLess(took, IDLE + 5)
            self.wait_log(r'TLS client 127\.0\.0\.1:%d refused \(no HTTP served\): no TLS '
                          r'handshake completed within %d s' % (raw.getsockname()[1], IDLE))
            tls.settimeout(IDLE + 10)
            try:
                # TLS 1.3: the session ticket may come first; then the end.
                while tls.recv(100):
                    pass
            except (ConnectionResetError, ssl.SSLError):
                pass
            self.assertLess(time.monotonic() - t0, IDLE + 6)
        finally:
            raw.close()
            tls.close()
        # The listener still serves.
        rc, code, _body, err = self.curl('/v1/version')
        self.assertEqual((rc, code), (0, '200'), err)

    def test_5_many_clients_at_once(self):
        import http.client
        n = 40
        ctx = self.ssl_context()
        # All connected and through the handshake before any request.
        conns = []
        try:
            for _ in range(n):
                c = http.client.HTTPSConnection('127.0.0.1', self.port, context=ctx,
                                                timeout=60)
                c.connect()
                conns.append(c)
            results = []

            def one(c):
                try:
                    c.request('GET', '/v1/domains?all=1')
                    r = c.getresponse()
                    results.append((r.status, json.loads(r.read())))
                except Exception as e:
                    results.append(('error', repr(e)))

            threads = [threading.Thread(target=one, args=(c,)) for c in conns]
            for t in threads:
                t.start()
            for t in threads:
                t.join(90)
        finally:
            for c in conns:
                c.close()
        expect = self.d.api_json('GET', '/v1/domains?all=1')
        self.assertEqual(results, [(200, expect)] * n)


    def test_7_stalled_handshakes_do_not_stall_the_daemon(self):
        """Clients that connect and say nothing, or send a ClientHello and
        then nothing, hold no thread the daemon's own work needs: a define
        on the UNIX socket stays quick, and TLS clients are served again
        once the idle timeout has closed the stalled ones."""
        d = self.d
        silent = [socket.create_connection(('127.0.0.1', self.port)) for _ in range(30)]
        stalled = []
        try:
            for _ in range(10):
                tcp = socket.create_connection(('127.0.0.1', self.port))
                tcp.setblocking(False)
                tls = self.ssl_context().wrap_socket(tcp, server_hostname='localhost',
                                                     do_handshake_on_connect=False)
                try:
                    tls.do_handshake()      # sends the ClientHello, then stops
                except ssl.SSLWantReadError:
                    pass
                stalled.append(tls)
            time.sleep(0.5)
            t0 = time.monotonic()
            d.define('tlsbusy', harness.domain_xml('tlsbusy', memory_mib=128))
            self.assertLess(time.monotonic() - t0, 2.5)
            self.assertListed(d, 'tlsbusy', 'shut off')
            t0 = time.monotonic()
            rc, code, _body, err = self.curl('/v1/version')
            self.assertEqual((rc, code), (0, '200'), err)
            self.assertLess(time.monotonic() - t0, 2 * IDLE + 6)
        finally:
            for c in silent + stalled:
                c.close()
            d.vsh('undefine', 'tlsbusy', check=False)

    def test_8_client_hello_in_pieces(self):
        """A ClientHello that comes in several segments is waited for (the
        daemon peeks at it before handing the connection to GIO)."""
        ctx = self.ssl_context()
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname='localhost')
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        hello = out.read()
        self.assertEqual(hello[0], 0x16)
        with socket.create_connection(('127.0.0.1', self.port)) as s:
            for part in (hello[:3], hello[3:10], hello[10:]):
                s.sendall(part)
                time.sleep(0.2)
            s.settimeout(5)
            self.assertGreater(len(s.recv(65536)), 0, 'no ServerHello')

    def tls_uri(self, client='allowed'):
        return 'tls://127.0.0.1:%d?pkipath=%s' % (self.port, self.pki.client_dirs[client])

    def vsh(self, *args, client='allowed', check=True):
        argv = [harness.VSH_BIN, '-c', self.tls_uri(client)] + [str(a) for a in args]
        env = dict(os.environ, LC_ALL='C', HOME=self.top)
        env.pop('VSH_DEFAULT_URI', None)
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, universal_newlines=True, timeout=120,
                           env=env, cwd=self.top)
        if check and r.returncode != 0:
            raise harness.VshError(argv, r.returncode, r.stdout, r.stderr)
        return r.returncode, r.stdout, r.stderr

    def test_6_vsh_guest_and_console(self):
        d = self.d
        name = 'tlsvm'
        xml = harness.domain_xml(name, memory_mib=128, live_copy=True)
        path = os.path.join(self.top, name + '.xml')
        with open(path, 'w') as f:
            f.write(xml)
        try:
            out = self.vsh('define', path)[1]
            self.assertIn("Domain '%s' defined from %s" % (name, path), out)
            self.assertEqual(self.vsh('list', '--all')[1], d.vsh('list', '--all')[1])
            self.assertListed(d, name, 'shut off')
            out = self.vsh('start', name)[1]
            self.assertIn("Domain '%s' started" % name, out)
            boot = d.wait_boot(name)
            self.assertEqual(self.vsh('list')[1], d.vsh('list')[1])
            # dominfo's CPU time moves between the two calls (the guest runs):
            # every other line must be the same over TLS as on the socket.
            cpu = re.compile(r'^CPU time:.*$', re.M)
            remote_info = self.vsh('dominfo', name)[1]
            self.assertRegex(remote_info, r'(?m)^CPU time: +\d+\.\ds$')
            self.assertEqual(cpu.sub('CPU time:', remote_info),
                             cpu.sub('CPU time:', d.vsh('dominfo', name)[1]))
            # The console over TLS: the guest's lines come, typing goes.
            remote = types.SimpleNamespace(uri=self.tls_uri(), root=self.top)
            with harness.ConsoleSession(remote, name) as c:
                c.read_until(harness.READY_MARKER, timeout=30)
                start = len(c.buf)
                m = re.compile(rb'VIRTD-GUEST-COUNTER n=(\d+) boot_id=' + boot.encode())
                c.read_until('VIRTD-GUEST-COUNTER', timeout=30, start=start)
                c.type_line('echo over-tls-$((6*7))')
                c.read_until('over-tls-42', timeout=30, start=start)
                self.assertTrue(m.search(c.buf[start:]), c.text[-2000:])

            # Refused certificates: a clear error, and nothing changed.
            before = (d.vsh('list', '--all')[1], d.vsh('dumpxml', name)[1],
                      d.qemu_pid(name))
            for client in ('intruder', 'expired', 'otherca'):
                with self.subTest(client=client):
                    rc, out, err = self.vsh('destroy', name, client=client, check=False)
                    self.assertNotEqual(rc, 0)
                    self.assertEqual(out.strip(), '')
                    self.assertIn('closed the TLS connection without answering: it refused '
                                  'the client certificate %s/clientcert.pem'
                                  % self.pki.client_dirs[client], err)
            self.assertEqual((d.vsh('list', '--all')[1], d.vsh('dumpxml', name)[1],
                              d.qemu_pid(name)), before)
            self.assertEqual(d.domstate(name), 'running')
            n = len(d.console_text(name))
            harness.wait_for(
                lambda: 'VIRTD-GUEST-COUNTER' in d.console_text(name)[n:], 10,
                what='the guest still counting')
            out = self.vsh('destroy', name)[1]
            self.assertIn("Domain '%s' destroyed" % name, out)
            self.assertListed(d, name, 'shut off')
        finally:
            d.vsh('destroy', name, check=False)
            d.vsh('undefine', name, check=False)


class Limits(harness.VirtdTestCase):
    """TLS connections count against --max-connections with the UNIX
    socket's: silent TLS clients hold the slots until the idle timeout
    frees them, then the waiting clients (TLS and UNIX) are served."""

    def test_max_connections_shared(self):
        top = tempfile.mkdtemp(prefix='virtd-test-tls-',
                               dir=os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir())
        try:
            pki = make_pki(top)
            port = free_port()
            with Daemon(args=['--listen', 'tls://127.0.0.1:%d' % port, '--tls-dir', pki.server,
                              '--max-connections', '2', '--idle-timeout', '2',
                              '--verbose']) as d:
                silent = [socket.create_connection(('127.0.0.1', port)) for _ in range(2)]
                try:
                    t0 = time.monotonic()
                    crt, key = pki.clients['allowed']
                    r = subprocess.run(['curl', '-sS', '--max-time', '20', '--cacert',
                                        pki.path('ca.pem'), '--cert', crt, '--key', key,
                                        'https://127.0.0.1:%d/v1/version' % port],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       universal_newlines=True)
                    took = time.monotonic() - t0
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(json.loads(r.stdout), d.api_json('GET', '/v1/version'))
                    # It waited in the backlog for the idle ones to go.
                    self.assertGreaterEqual(took, 1.0)
                    with open(os.path.join(d.root, harness.DAEMON_LOG)) as f:
                        log = f.read()
                    self.assertIn('2 API connections are open, the most this daemon serves',
                                  log)
                    self.assertEqual(len(re.findall('no TLS handshake completed within 2 s',
                                                    log)), 2, log[-3000:])
                    # Each request knows who sent it (api-conn.h's identity,
                    # in the log of a refused request).
                    r = subprocess.run(['curl', '-sS', '--max-time', '20', '--cacert',
                                        pki.path('ca.pem'), '--cert', crt, '--key', key,
                                        '-o', '/dev/null', '-w', '%{http_code} %{local_port}',
                                        'https://127.0.0.1:%d/v1/domains/nope-tls' % port],
                                       stdout=subprocess.PIPE, universal_newlines=True)
                    code, cport = r.stdout.split()
                    self.assertEqual(code, '404')
                    self.assertEqual(d.api('GET', '/v1/domains/nope-unix').status, 404)
                    with open(os.path.join(d.root, harness.DAEMON_LOG)) as f:
                        log = f.read()
                    self.assertIn("API GET /v1/domains/nope-tls (tls 'C=XX,O=virtd-test,"
                                  "CN=client-allowed-1' at 127.0.0.1:%s)" % cport, log)
                    self.assertRegex(log, r'API GET /v1/domains/nope-unix \(unix uid %d pid %d\)'
                                     % (os.getuid(), os.getpid()))
                finally:
                    for c in silent:
                        c.close()
        finally:
            shutil.rmtree(top, ignore_errors=True)


class StartupErrors(harness.VirtdTestCase):
    """Mistakes fail the daemon at start, with the fix."""

    @classmethod
    def setUpClass(cls):
        base = os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir()
        cls.top = tempfile.mkdtemp(prefix='virtd-test-tls-', dir=base)
        cls.pki = make_pki(cls.top)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.top, ignore_errors=True)

    def virtd(self, *args):
        root = tempfile.mkdtemp(prefix='root-', dir=self.top)
        argv = [harness.VIRTD_BIN, '--root', root] + harness.default_daemon_args() + list(args)
        try:
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=60)
        except subprocess.TimeoutExpired:
            harness.kill_processes_mentioning(root)
            raise
        self.assertFalse(os.path.exists(os.path.join(root, harness.SOCKET_PATH)))
        return r.returncode, r.stderr

    def test_plain_tcp_and_bad_addresses(self):
        for spec in ('tcp://127.0.0.1:16509', 'http://0.0.0.0:80', 'unix:///tmp/x.sock'):
            rc, err = self.virtd('--listen', spec, '--tls-dir', self.pki.server)
            self.assertEqual(rc, 2, err)
            self.assertIn("invalid --listen '%s': only tls:// is offered" % spec, err)
            self.assertIn('tls://ADDRESS[:PORT]', err)
        rc, err = self.virtd('--listen', 'tls://localhost:16514', '--tls-dir', self.pki.server)
        self.assertEqual(rc, 2, err)
        self.assertIn("'localhost' is not an IP address", err)
        rc, err = self.virtd('--listen', '127.0.0.1', '--tls-dir', self.pki.server)
        self.assertEqual(rc, 2, err)
        rc, err = self.virtd('--tls-allowed-dn', 'CN=*')
        self.assertEqual(rc, 2, err)
        self.assertIn('give --listen tls://ADDRESS[:PORT] too', err)

    def test_missing_and_wrong_credentials(self):
        spec = 'tls://127.0.0.1:%d' % free_port()
        empty = os.path.join(self.top, 'empty')
        os.makedirs(empty, exist_ok=True)
        rc, err = self.virtd('--listen', spec, '--tls-dir', empty)
        self.assertEqual(rc, 1, err)
        self.assertIn("cannot read the CA certificate '%s/cacert.pem': No such file or directory"
                      % empty, err)
        self.assertIn('docs/remote-tls.md', err)
        # CA only: the server certificate is named.
        shutil.copy(self.pki.path('ca.pem'), os.path.join(empty, 'cacert.pem'))
        rc, err = self.virtd('--listen', spec, '--tls-dir', empty)
        self.assertEqual(rc, 1, err)
        self.assertIn("cannot read the server certificate '%s/servercert.pem'" % empty, err)
        shutil.copy(self.pki.path('server.pem'), os.path.join(empty, 'servercert.pem'))
        rc, err = self.virtd('--listen', spec, '--tls-dir', empty)
        self.assertEqual(rc, 1, err)
        self.assertIn("cannot read the server private key '%s/private/serverkey.pem'" % empty,
                      err)
        # A server certificate another CA signed: clients would refuse it.
        wrong = self.pki.layout('wrong-ca', 'otherca', self.pki.path('server.pem'),
                                self.pki.path('server.key'), server=True)
        rc, err = self.virtd('--listen', spec, '--tls-dir', wrong)
        self.assertEqual(rc, 1, err)
        self.assertIn('is not signed by the trusted CA', err)
        self.assertIn('clients would refuse it', err)
        # A CA file that is no certificate.
        with open(os.path.join(empty, 'cacert.pem'), 'w') as f:
            f.write('not a certificate\n')
        rc, err = self.virtd('--listen', spec, '--tls-dir', empty)
        self.assertEqual(rc, 1, err)
        self.assertIn("'%s/cacert.pem'" % empty, err)

    def test_port_in_use(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
            busy.bind(('127.0.0.1', 0))
            busy.listen(1)
            spec = 'tls://127.0.0.1:%d' % busy.getsockname()[1]
            rc, err = self.virtd('--listen', spec, '--tls-dir', self.pki.server)
        self.assertEqual(rc, 1, err)
        self.assertIn("cannot listen on '%s'" % spec, err)


if __name__ == '__main__':
    harness.main()
