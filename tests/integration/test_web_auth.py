#!/usr/bin/env python3
"""The web console's listener (virtd --web, docs/web.md) and its security:
PAM logins of a test account made for this file (and removed at its end,
even on failure), session cookies and their flags, 401 without a session,
403 for a change without the CSRF token (nothing changed) and for a
cross-origin WebSocket, API tokens, the failed-login rate limit (429),
static files never served from outside the web root, ETag/304, and the
self-signed certificate kept across a restart (checked at start, loaded
at the first connection), --web-cert/--web-key, HTTP keep-alive (a
request never inherits the previous one's identity; closed and idle
connections are gone from the daemon). One 128 MiB guest (its serial
console WebSocket)."""

import atexit
import base64
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import stat
import subprocess
import tempfile
import time

import harness
from harness import Daemon

PREFIX = 's14web'
TAG = '%s%d' % (PREFIX, os.getpid() % 100000)
GROUP = TAG + 'g'
USER = TAG + 'u'          # in GROUP: may log in
OUTSIDER = TAG + 'x'      # not in GROUP: may not
PASSWORD = 'Pw-' + base64.b32encode(os.urandom(10)).decode()
IDLE = 6                  # --web-idle-timeout
CONN_IDLE = 5             # --idle-timeout (connections)


def run(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def remove_accounts():
    for u in (USER, OUTSIDER):
        subprocess.run(['userdel', u], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(['groupdel', GROUP], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_accounts():
    remove_accounts()
    atexit.register(remove_accounts)
    run('groupadd', GROUP)
    for u, extra in ((USER, ['-g', GROUP]), (OUTSIDER, [])):
        run('useradd', '-M', '-N', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', *extra, u)
        subprocess.run(['chpasswd'], input=('%s:%s\n' % (u, PASSWORD)).encode(), check=True)


def free_port(family=socket.AF_INET, addr='127.0.0.1'):
    s = socket.socket(family)
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers      # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body.decode())

    def code(self):
        try:
            return self.json()['error']['code']
        except (ValueError, KeyError, TypeError):
            return None


class WebAuth(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        make_accounts()
        cls.port = free_port()
        cls.port6 = free_port(socket.AF_INET6, '::1')
        cls.www = tempfile.mkdtemp(prefix=PREFIX + '-www-', dir=os.environ.get('VIRTD_TEST_TMPDIR'))
        cls.d = d = Daemon()
        try:
            # The web root, and a secret next to it that must never be served.
            root = os.path.join(cls.www, 'root')
            os.makedirs(os.path.join(root, 'assets'))
            with open(os.path.join(root, 'index.html'), 'w') as f:
                f.write('<!doctype html><title>t</title><p>web-index-marker</p>\n')
            with open(os.path.join(root, 'assets', 'app.js'), 'w') as f:
                f.write('console.log("web-js-marker");\n')
            with open(os.path.join(cls.www, 'secret.txt'), 'w') as f:
                f.write('SECRET-OUTSIDE-ROOT\n')
            os.symlink(os.path.join(cls.www, 'secret.txt'), os.path.join(root, 'link.txt'))
            os.symlink(cls.www, os.path.join(root, 'up'))
            cls.root = root
            d.args += ['--web', '127.0.0.1:%d' % cls.port, '--web', '[::1]:%d' % cls.port6,
                       '--web-group', GROUP,
                       '--web-root', root, '--web-idle-timeout', str(IDLE),
                       # USER is not root: the guest's kernel must be in an
                       # allowed directory (test_3b_not_root checks the rule)
                       '--allowed-path', harness.GUEST_DIR,
                       '--idle-timeout', str(CONN_IDLE)]
            d.__enter__()
            d.define('webcon', memory_mib=128)
            d.start_domain('webcon')
        except BaseException:
            d.cleanup(failed=True)
            remove_accounts()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.__exit__(None, None, None)
        finally:
            remove_accounts()
            subprocess.run(['rm', '-rf', cls.www])

    # ---- HTTPS helpers

    def cert_path(self):
        return self.d.path('lib', 'web', 'cert.pem')

    def context(self):
        # Verified against the daemon's own self-signed certificate, for
        # the address: the certificate names 127.0.0.1.
        ctx = ssl.create_default_context(cafile=self.cert_path())
        ctx.check_hostname = True
        return ctx

    def request(self, method, path, body=None, headers=None, cookie=None, csrf=None):
        hdrs = dict(headers or {})
        if cookie:
            hdrs['Cookie'] = 'virtd_session=' + cookie
        if csrf:
            hdrs['X-CSRF-Token'] = csrf
        if body is not None and not isinstance(body, bytes):
            if isinstance(body, str):
                body = body.encode()
                hdrs.setdefault('Content-Type', 'application/xml')
            else:
                body = json.dumps(body).encode()
                hdrs.setdefault('Content-Type', 'application/json')
        conn = http.client.HTTPSConnection('127.0.0.1', self.port, timeout=30,
                                           context=self.context())
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            if body is not None:
                conn.putheader('Content-Length', str(len(body)))
            conn.endheaders(body)
            r = conn.getresponse()
            return Resp(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def login(self, user=USER, password=PASSWORD):
        return self.request('POST', '/api/login', {'user': user, 'password': password})

    def session(self):
        """A fresh session: (cookie value, csrf token)."""
        r = self.login()
        self.assertEqual(r.status, 200, r.body)
        m = re.match(r'virtd_session=([0-9a-f]+);', r.header('Set-Cookie') or '')
        self.assertIsNotNone(m, r.headers)
        return m.group(1), r.json()['csrf_token']

    def websocket(self, path, cookie=None, origin=None):
        """A WebSocket handshake on the web listener: (status, socket or None)."""
        raw = socket.create_connection(('127.0.0.1', self.port), timeout=15)
        s = self.context().wrap_socket(raw, server_hostname='127.0.0.1')
        key = base64.b64encode(os.urandom(16)).decode()
        req = ('GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n'
               'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n'
               % (path, self.port, key))
        if cookie:
            req += 'Cookie: virtd_session=%s\r\n' % cookie
        if origin:
            req += 'Origin: %s\r\n' % origin
        s.sendall((req + '\r\n').encode())
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _sep, rest = data.partition(b'\r\n\r\n')
        m = re.match(r'HTTP/1\.1 (\d+)', head.decode('iso-8859-1'))
        status = int(m.group(1)) if m else 0
        if status != 101:
            s.close()
            return status, None
        return status, harness.WebSocket(s, rest)

    def names(self):
        return [row[1] for row in self.d.list_all()]

    # ---- tests

    def test_1_login(self):
        # Wrong password, an account outside --web-group, an unknown one.
        for user, pw in ((USER, 'wrong-password'), (OUTSIDER, PASSWORD),
                         (TAG + 'nobody', PASSWORD)):
            r = self.login(user, pw)
            self.assertEqual((r.status, r.code()), (401, 'unauthenticated'), (user, r.body))
            self.assertEqual(r.all('Set-Cookie'), [])
        # A form of another site cannot post it: JSON only.
        r = self.request('POST', '/api/login', json.dumps({'user': USER, 'password': PASSWORD}),
                         headers={'Content-Type': 'text/plain'})
        self.assertEqual((r.status, r.code()), (400, 'invalid-argument'), r.body)
        self.assertEqual(r.all('Set-Cookie'), [])
        r = self.login()
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        self.assertEqual(body['user'], USER)
        self.assertRegex(body['csrf_token'], r'^[0-9a-f]{64}$')
        cookies = r.all('Set-Cookie')
        self.assertEqual(len(cookies), 1, cookies)
        attrs = [a.strip() for a in cookies[0].split(';')]
        self.assertRegex(attrs[0], r'^virtd_session=[0-9a-f]{64}$')
        for flag in ('HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/'):
            self.assertIn(flag, attrs, cookies[0])
        cookie = attrs[0].split('=', 1)[1]
        r = self.request('GET', '/api/session', cookie=cookie)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), body)
        self.assertEqual(r.header('Cache-Control'), 'no-store')
        # Each login is a new session.
        self.assertNotEqual(self.session()[0], cookie)
        log = self.d.daemon_log_tail(400)
        self.assertIn("login of '%s' from 127.0.0.1 failed" % USER, log)
        self.assertIn("login of '%s' from 127.0.0.1 failed" % OUTSIDER, log)
        self.assertIn("'%s' logged in from 127.0.0.1" % USER, log)

    def fds(self):
        return len(os.listdir('/proc/%d/fd' % self.d.pid))

    def test_1b_keepalive(self):
        cookie, _csrf = self.session()
        token = self.d.vsh('web-token', 'create', 'keepalive')[1].strip()
        conn = http.client.HTTPSConnection('127.0.0.1', self.port, timeout=30,
                                           context=self.context())

        def req(method, path, headers=None):
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            body = r.read()
            self.assertFalse(r.will_close, (method, path, r.getheaders()))
            return r.status

        try:
            conn.connect()
            port = conn.sock.getsockname()[1]
            self.assertEqual(req('GET', '/'), 200)
            self.assertEqual(req('GET', '/api/v1/version',
                                 {'Authorization': 'Bearer ' + token}), 200)
            # The next request on the same connection is a stranger again.
            self.assertEqual(req('GET', '/api/v1/version'), 401)
            self.assertEqual(req('GET', '/api/v1/domains?all=1',
                                 {'Cookie': 'virtd_session=' + cookie}), 200)
            self.assertEqual(req('POST', '/api/v1/domains/webcon/destroy',
                                 {'Cookie': 'virtd_session=' + cookie}), 403)
            self.assertEqual(req('GET', '/api/session'), 401)
            for _ in range(20):
                self.assertEqual(req('GET', '/assets/app.js'), 200)
            # One connection (one TLS handshake) throughout.
            self.assertEqual(conn.sock.getsockname()[1], port)
        finally:
            conn.close()
        self.assertEqual(self.d.domstate('webcon'), 'running')
        self.d.vsh('web-token', 'revoke', 'keepalive')
        # A WebSocket upgrade as a connection's second request.
        raw = socket.create_connection(('127.0.0.1', self.port), timeout=15)
        s = self.context().wrap_socket(raw, server_hostname='127.0.0.1')
        s.sendall(('GET /api/session HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n'
                   'Cookie: virtd_session=%s\r\n\r\n' % (self.port, cookie)).encode())
        data = b''
        while True:
            head, sep, rest = data.partition(b'\r\n\r\n')
            m = re.search(rb'(?i)content-length: *(\d+)', head)
            if sep and m and len(rest) >= int(m.group(1)):
                break
            chunk = s.recv(65536)
            self.assertTrue(chunk, data)
            data += chunk
        self.assertTrue(data.startswith(b'HTTP/1.1 200'), data)
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall(('GET /api/v1/domains/webcon/console HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n'
                   'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
                   'Sec-WebSocket-Version: 13\r\nCookie: virtd_session=%s\r\n'
                   'Origin: https://127.0.0.1:%d\r\n\r\n'
                   % (self.port, key, cookie, self.port)).encode())
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = s.recv(65536)
            self.assertTrue(chunk, data)
            data += chunk
        head, _sep, rest = data.partition(b'\r\n\r\n')
        self.assertTrue(head.startswith(b'HTTP/1.1 101'), head)
        with harness.WebSocket(s, rest) as ws:
            ws.send('echo web-$((40+3))\r')
            ws.read_until('web-43', timeout=30)
        # Connections a client closed after a request are gone from the
        # daemon (libsoup alone would keep them), and idle ones are cut.
        time.sleep(1)
        base = self.fds()
        conns = []
        for _ in range(20):
            c = http.client.HTTPSConnection('127.0.0.1', self.port, timeout=30,
                                            context=self.context())
            c.request('GET', '/')
            r = c.getresponse()
            r.read()
            self.assertFalse(r.will_close)
            conns.append(c)
        self.assertGreaterEqual(self.fds(), base + 20)
        for c in conns[:10]:
            c.close()
        t0 = time.monotonic()
        harness.wait_for(lambda: self.fds() <= base + 11, 10,
                         what=lambda: 'closed connections gone (%d fds, %d before)'
                         % (self.fds(), base))
        self.assertLess(time.monotonic() - t0, CONN_IDLE - 1)
        harness.wait_for(lambda: self.fds() <= base + 1, CONN_IDLE + 10,
                         what=lambda: 'idle connections cut (%d fds, %d before)'
                         % (self.fds(), base))
        for c in conns[10:]:
            c.sock.settimeout(5)
            try:
                self.assertEqual(c.sock.recv(100), b'')
            except (ssl.SSLError, ConnectionResetError):
                pass        # cut without close_notify: closed all the same
            c.close()

    def test_2_no_session(self):
        for cookie in (None, '0' * 64, 'garbage'):
            r = self.request('GET', '/api/v1/domains?all=1', cookie=cookie)
            self.assertEqual((r.status, r.code()), (401, 'unauthenticated'), r.body)
            r = self.request('GET', '/api/session', cookie=cookie)
            self.assertEqual(r.status, 401)
        # The session's GET: the API's own answer, "/api" stripped.
        cookie, _csrf = self.session()
        r = self.request('GET', '/api/v1/domains?all=1', cookie=cookie)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn('webcon', [x['name'] for x in r.json()['domains']])
        # The API's own errors, unchanged.
        r = self.request('GET', '/api/v1/domains/nosuch', cookie=cookie)
        self.assertEqual((r.status, r.code()), (404, 'no-domain'), r.body)
        r = self.request('GET', '/api/v2/x', cookie=cookie)
        self.assertEqual(r.status, 404)

    def test_3_csrf(self):
        cookie, csrf = self.session()
        xml = harness.domain_xml('webdef', 128)
        for token in (None, '0' * 64, csrf[:-1]):
            r = self.request('POST', '/api/v1/domains', xml, cookie=cookie, csrf=token)
            self.assertEqual((r.status, r.code()), (403, 'denied'), r.body)
            self.assertNotIn('webdef', self.names())
        # A change on a running domain, refused as well.
        r = self.request('POST', '/api/v1/domains/webcon/destroy', cookie=cookie)
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(self.d.domstate('webcon'), 'running')
        # Another session's token is not this one's.
        _other, other_csrf = self.session()
        r = self.request('POST', '/api/v1/domains', xml, cookie=cookie, csrf=other_csrf)
        self.assertEqual(r.status, 403, r.body)
        # With the token: done.
        r = self.request('POST', '/api/v1/domains', xml, cookie=cookie, csrf=csrf)
        self.assertEqual(r.status, 201, r.body)
        self.assertIn('webdef', self.names())
        r = self.request('DELETE', '/api/v1/domains/webdef', cookie=cookie)
        self.assertEqual(r.status, 403, r.body)
        r = self.request('DELETE', '/api/v1/domains/webdef', cookie=cookie, csrf=csrf)
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn('webdef', self.names())
        # Each refusal is logged with the web user.
        self.assertIn("(user '%s') refused: no CSRF token" % USER, self.d.daemon_log_tail(400))

    def test_4_websocket(self):
        cookie, _csrf = self.session()
        path = '/api/v1/domains/webcon/console'
        own = 'https://127.0.0.1:%d' % self.port
        for origin in ('https://evil.example', 'https://127.0.0.1:%d' % (self.port + 1),
                       'http://127.0.0.1:%d' % self.port, None):
            status, ws = self.websocket(path, cookie=cookie, origin=origin)
            self.assertEqual(status, 403, origin)
        status, ws = self.websocket(path, cookie=None, origin=own)
        self.assertEqual(status, 401)
        status, ws = self.websocket(path, cookie=cookie, origin=own)
        self.assertEqual(status, 101)
        with ws:
            ws.read_until(harness.READY_MARKER, timeout=30)
            start = len(ws.data)
            ws.send('echo web-$((40+2))\r')
            ws.read_until('web-42', timeout=30, start=start)

    def test_3b_not_root(self):
        """A web user other than root has the read-write group's rules
        (docs/access.md): no host file outside the allowed directories on
        its word."""
        cookie, csrf = self.session()
        xml = harness.domain_xml('webnr', 128).replace(harness.guest_initrd(), '/etc/shadow')
        self.assertIn('/etc/shadow', xml)
        r = self.request('POST', '/api/v1/domains', xml, cookie=cookie, csrf=csrf)
        self.assertEqual((r.status, r.code()), (403, 'denied'), r.body)
        msg = r.json()['error']['message']
        self.assertIn('/etc/shadow', msg)
        self.assertIn("web user '%s' is not root" % USER, msg)
        self.assertIn('--allowed-path', msg)
        self.assertNotIn('webnr', self.names())
        # the raw QEMU monitor is root's
        r = self.request('POST', '/api/v1/domains/webcon/qemu-monitor',
                         {'execute': 'query-status'}, cookie=cookie, csrf=csrf)
        self.assertEqual((r.status, r.code()), (403, 'denied'), r.body)
        # a token made for root keeps root's access
        token = self.d.vsh('web-token', 'create', 'rootci')[1].strip()
        try:
            r = self.request('POST', '/api/v1/domains', xml,
                             headers={'Authorization': 'Bearer ' + token})
            self.assertEqual(r.status, 201, r.body)
            r = self.request('DELETE', '/api/v1/domains/webnr',
                             headers={'Authorization': 'Bearer ' + token})
            self.assertEqual(r.status, 200, r.body)
        finally:
            self.d.vsh('web-token', 'revoke', 'rootci')

    def test_5_tokens(self):
        d = self.d
        token = d.vsh('web-token', 'create', 'ci')[1].strip()
        self.assertRegex(token, r'^vdt_[0-9a-f]{64}$')
        rc, out, _err = d.vsh('web-token', 'list')
        self.assertIn('ci', out)
        self.assertNotIn(token, out)
        with open(d.path('lib', 'web', 'tokens')) as f:
            stored = f.read()
        self.assertNotIn(token, stored)
        self.assertIn(hashlib.sha256(token.encode()).hexdigest(), stored)
        self.assertEqual(stat.S_IMODE(os.stat(d.path('lib', 'web', 'tokens')).st_mode), 0o600)
        auth = {'Authorization': 'Bearer ' + token}
        r = self.request('GET', '/api/v1/domains/webcon', headers=auth)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.all('Set-Cookie'), [])
        # No CSRF token needed with a bearer token.
        r = self.request('POST', '/api/v1/domains', harness.domain_xml('webtok', 128),
                         headers=auth)
        self.assertEqual(r.status, 201, r.body)
        r = self.request('DELETE', '/api/v1/domains/webtok', headers=auth)
        self.assertEqual(r.status, 200, r.body)
        # Tokens are not managed over the web (the API's handler sees
        # that the request came from the web listener).
        r = self.request('POST', '/api/v1/web-tokens', {'name': 'x'}, headers=auth)
        self.assertEqual((r.status, r.code()), (403, 'denied'), r.body)
        self.assertNotIn(' x ', d.vsh('web-token', 'list')[1])
        r = self.request('GET', '/api/v1/version', headers={'Authorization': 'Bearer vdt_' + '0' * 64})
        self.assertEqual(r.status, 401)
        d.vsh('web-token', 'revoke', 'ci')
        r = self.request('GET', '/api/v1/version', headers=auth)
        self.assertEqual(r.status, 401)

    def test_6_static(self):
        r = self.request('GET', '/')
        self.assertEqual(r.status, 200)
        self.assertIn(b'web-index-marker', r.body)
        self.assertEqual(r.header('Content-Type'), 'text/html; charset=utf-8')
        csp = r.header('Content-Security-Policy')
        self.assertIn("default-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertEqual(r.header('X-Content-Type-Options'), 'nosniff')
        self.assertEqual(r.header('Referrer-Policy'), 'no-referrer')
        etag, modified = r.header('ETag'), r.header('Last-Modified')
        self.assertTrue(etag and modified, r.headers)
        r = self.request('GET', '/', headers={'If-None-Match': etag})
        self.assertEqual((r.status, r.body), (304, b''))
        self.assertEqual(r.header('ETag'), etag)
        r = self.request('GET', '/index.html', headers={'If-None-Match': '"other"'})
        self.assertEqual(r.status, 200)
        r = self.request('GET', '/', headers={'If-Modified-Since': modified})
        self.assertEqual(r.status, 304)
        r = self.request('GET', '/assets/app.js')
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header('Content-Type'), 'text/javascript; charset=utf-8')
        self.assertIn(b'web-js-marker', r.body)
        r = self.request('HEAD', '/assets/app.js')
        self.assertEqual((r.status, r.body), (200, b''))
        # A changed file gets a new ETag.
        with open(os.path.join(self.root, 'assets', 'app.js'), 'a') as f:
            f.write('// more\n')
        r = self.request('GET', '/assets/app.js', headers={'If-None-Match': etag})
        self.assertEqual(r.status, 200)
        # Never outside the root.
        for path in ('/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt',
                     '/assets/%2E%2E/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt',
                     '/..%2fsecret.txt', '/link.txt', '/up/secret.txt',
                     '/.%2e/secret.txt', '/assets%00/app.js', '/%00', '/nosuch.html',
                     '/assets/..%5c..%5csecret.txt', '/' + self.www + '/secret.txt'):
            r = self.request('GET', path)
            self.assertIn(r.status, (403, 404), path)
            self.assertNotIn(b'SECRET', r.body, path)
        r = self.request('POST', '/', b'x')
        self.assertEqual(r.status, 405)
        # The second listener, on IPv6: the same files, the same rules.
        ctx = ssl.create_default_context(cafile=self.cert_path())
        conn = http.client.HTTPSConnection('::1', self.port6, timeout=30, context=ctx)
        try:
            conn.request('GET', '/')
            r6 = conn.getresponse()
            self.assertEqual(r6.status, 200)
            self.assertIn(b'web-index-marker', r6.read())
            conn.close()
            conn.request('GET', '/api/v1/version')
            self.assertEqual(conn.getresponse().status, 401)
        finally:
            conn.close()

    def test_7_logout_and_idle(self):
        cookie, csrf = self.session()
        r = self.request('POST', '/api/logout', cookie=cookie)
        self.assertEqual(r.status, 403)
        r = self.request('POST', '/api/logout', cookie=cookie, csrf=csrf)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn('Max-Age=0', r.header('Set-Cookie'))
        r = self.request('GET', '/api/v1/version', cookie=cookie)
        self.assertEqual(r.status, 401)
        # The idle timeout: a request keeps a session alive, silence ends it.
        cookie, _csrf = self.session()
        for _ in range(3):
            time.sleep(IDLE / 2)
            self.assertEqual(self.request('GET', '/api/session', cookie=cookie).status, 200)
        time.sleep(IDLE + 1)
        self.assertEqual(self.request('GET', '/api/session', cookie=cookie).status, 401)

    def test_8_rate_limit(self):
        # Five failures lock the user and the address: the sixth attempt,
        # even with the right password, is refused without asking PAM.
        for i in range(5):
            r = self.login(USER, 'wrong-%d' % i)
            self.assertEqual(r.status, 401, (i, r.body))
        t0 = time.monotonic()
        r = self.login(USER, PASSWORD)
        self.assertEqual((r.status, r.code()), (429, 'rate-limited'), r.body)
        self.assertLess(time.monotonic() - t0, 1.0)
        retry = int(r.header('Retry-After'))
        self.assertTrue(0 < retry <= 30, retry)
        # The same address with another user: locked too.
        r = self.login(OUTSIDER, PASSWORD)
        self.assertEqual(r.status, 429)
        log = self.d.daemon_log_tail(400)
        self.assertGreaterEqual(len(re.findall("login of '%s' from 127.0.0.1 failed" % USER, log)), 5)
        self.assertIn('refused: locked for', log)

    def test_9_certificate_kept(self):
        d = self.d
        cert = self.cert_path()
        key = d.path('lib', 'web', 'key.pem')
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(cert).st_mode), 0o600)

        def served():
            return self.served_sha256(self.port)

        def read(path):
            with open(path) as f:
                return f.read()

        before = served()
        pem = read(cert)
        self.assertEqual(before, hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest())
        d.stop()
        d.start()
        # Checked at start in a child process; loaded (and GnuTLS with it)
        # by the daemon only at the first connection.
        self.assertFalse(self.gnutls_loaded(d))
        self.assertIn(self.fingerprint(pem), d.daemon_log_tail(200))
        self.assertEqual(served(), before)
        self.assertTrue(self.gnutls_loaded(d))
        self.assertEqual(read(cert), pem)
        # Sessions were in the old daemon's memory; the lock too.
        r = self.login()
        self.assertEqual(r.status, 200, r.body)

    def test_10_certificate_files(self):
        """--web-cert/--web-key: a key that does not load stops the start
        with the file's name; a good pair is served as given."""
        cert = self.cert_path()
        key = self.d.path('lib', 'web', 'key.pem')
        bad = os.path.join(self.www, 'bad-key.pem')
        with open(bad, 'w') as f:
            f.write('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')
        port = free_port()
        args = ['--web', '127.0.0.1:%d' % port, '--web-root', self.root, '--web-cert', cert]
        with self.assertRaises(harness.HarnessError) as cm:
            with Daemon(args=args + ['--web-key', bad]):
                pass
        self.assertIn("cannot load the web certificate '%s' with key '%s'" % (cert, bad),
                      str(cm.exception))
        with Daemon(args=args + ['--web-key', key]) as d2:
            self.assertFalse(self.gnutls_loaded(d2))
            with open(cert) as f:
                der = ssl.PEM_cert_to_DER_cert(f.read())
            self.assertEqual(self.served_sha256(port), hashlib.sha256(der).hexdigest())
            self.assertTrue(self.gnutls_loaded(d2))

    # ---- certificate helpers

    def served_sha256(self, port):
        raw = socket.create_connection(('127.0.0.1', port), timeout=15)
        with self.context().wrap_socket(raw, server_hostname='127.0.0.1') as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()

    @staticmethod
    def fingerprint(pem):
        digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
        return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))

    @staticmethod
    def gnutls_loaded(d):
        with open('/proc/%d/maps' % d.proc.pid) as f:
            return 'libgnutls' in f.read()


if __name__ == '__main__':
    harness.main()
