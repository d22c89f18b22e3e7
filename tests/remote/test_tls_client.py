#!/usr/bin/env python3
"""vsh's TLS client (tls://, remote-tls-client.c) against a fake https API
on 127.0.0.1 made with Python's ssl module, with certificates made here
with openssl: the CA check, the client certificate presented (the fake
answers with the name in it), the host name check and no_verify=1, and
each refusal named with its fix. No virtd.

    python3 tests/remote/test_tls_client.py [BUILD_DIR]
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'build')
VSH = os.path.join(BUILD, 'src', 'vsh', 'vsh')


def openssl(*args):
    subprocess.run(['openssl'] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class Pki:
    def __init__(self, base):
        self.base = base

    def ca(self, name):
        key = os.path.join(self.base, name + '-key.pem')
        cert = os.path.join(self.base, name + '.pem')
        openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=' + name,
                '-addext', 'basicConstraints=critical,CA:TRUE',
                '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
        return cert, key

    def cert(self, name, ca, san, client=False):
        key = os.path.join(self.base, name + '-key.pem')
        csr = os.path.join(self.base, name + '.csr')
        cert = os.path.join(self.base, name + '.pem')
        ext = os.path.join(self.base, name + '.ext')
        with open(ext, 'w') as f:
            f.write('basicConstraints=CA:FALSE\n'
                    'extendedKeyUsage=%s\n' % ('clientAuth' if client else 'serverAuth'))
            if san:
                f.write('subjectAltName=%s\n' % san)
        openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                '-keyout', key, '-out', csr, '-subj', '/CN=' + name)
        openssl('x509', '-req', '-in', csr, '-CA', ca[0], '-CAkey', ca[1], '-CAcreateserial',
                '-out', cert, '-days', '2', '-extfile', ext)
        return cert, key

    def client_dir(self, name, ca_cert, client):
        d = os.path.join(self.base, name)
        os.makedirs(os.path.join(d, 'private'))
        shutil.copy(ca_cert, os.path.join(d, 'cacert.pem'))
        shutil.copy(client[0], os.path.join(d, 'clientcert.pem'))
        shutil.copy(client[1], os.path.join(d, 'private', 'clientkey.pem'))
        return d


class FakeHttps(threading.Thread):
    """Answers every request with {"hostname": "fake-for-CLIENT_CN"}."""

    def __init__(self, cert, client_ca):
        super().__init__(daemon=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(*cert)
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.ctx.load_verify_locations(client_ca)
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            s = self.ctx.wrap_socket(conn, server_side=True)
            data = b''
            while b'\r\n\r\n' not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return
                data += chunk
            cn = dict(x[0] for x in s.getpeercert()['subject'])['commonName']
            body = json.dumps({'hostname': 'fake-for-' + cn}).encode()
            s.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n'
                      b'Content-Length: %d\r\nConnection: close\r\n\r\n' % len(body) + body)
            s.close()
        except (ssl.SSLError, OSError):
            conn.close()


class TlsClient(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='vdtls-client-')
        pki = Pki(cls.tmp)
        ca = pki.ca('test-ca')
        other = pki.ca('other-ca')
        right = pki.cert('right-server', ca, 'IP:127.0.0.1,DNS:localhost')
        wrong_name = pki.cert('elsewhere-server', ca, 'DNS:elsewhere.invalid')
        client = pki.cert('vsh-client', ca, None, client=True)
        rogue = pki.cert('rogue-client', other, None, client=True)
        cls.good = pki.client_dir('good', ca[0], client)
        cls.unknown_ca = pki.client_dir('unknown-ca', other[0], rogue)
        cls.refused = pki.client_dir('refused', ca[0], rogue)
        cls.empty = os.path.join(cls.tmp, 'empty')
        os.mkdir(cls.empty)
        cls.srv = FakeHttps(right, ca[0])
        cls.srv_elsewhere = FakeHttps(wrong_name, ca[0])

    @classmethod
    def tearDownClass(cls):
        cls.srv.sock.close()
        cls.srv_elsewhere.sock.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def vsh(self, uri, *args):
        env = dict(os.environ, LC_ALL='C', HOME=self.tmp,
                   VSH_CONFIG=os.path.join(self.tmp, 'none.conf'))
        env.pop('VSH_DEFAULT_URI', None)
        r = subprocess.run([VSH, '-c', uri] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, env=env, timeout=30)
        return r.returncode, r.stdout, r.stderr

    def test_good(self):
        rc, out, err = self.vsh('tls://127.0.0.1:%d?pkipath=%s' % (self.srv.port, self.good),
                                'hostname')
        self.assertEqual(rc, 0, err)
        # The fake saw our client certificate.
        self.assertEqual(out.strip(), 'fake-for-vsh-client')
        rc, out, err = self.vsh('virtd+tls://localhost:%d/system?pkipath=%s'
                                % (self.srv.port, self.good), 'hostname')
        self.assertEqual(rc, 0, err)

    def test_unknown_ca(self):
        rc, _out, err = self.vsh('tls://127.0.0.1:%d?pkipath=%s'
                                 % (self.srv.port, self.unknown_ca), 'hostname')
        self.assertNotEqual(rc, 0)
        self.assertIn('error: failed to connect to the hypervisor', err)
        self.assertIn('not signed by the CA we trust', err)
        self.assertIn(self.unknown_ca + '/cacert.pem', err)

    def test_name_mismatch_and_no_verify(self):
        uri = 'tls://127.0.0.1:%d?pkipath=%s' % (self.srv_elsewhere.port, self.good)
        rc, _out, err = self.vsh(uri, 'hostname')
        self.assertNotEqual(rc, 0)
        self.assertIn('not for this host name', err)
        self.assertIn('no_verify=1', err)
        # no_verify=1 skips the name check only ...
        rc, out, err = self.vsh(uri + '&no_verify=1', 'hostname')
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), 'fake-for-vsh-client')
        # ... not the CA.
        rc, _out, err = self.vsh('tls://127.0.0.1:%d?pkipath=%s&no_verify=1'
                                 % (self.srv_elsewhere.port, self.unknown_ca), 'hostname')
        self.assertNotEqual(rc, 0)
        self.assertIn('not signed by the CA we trust', err)

    def test_client_certificate_refused(self):
        rc, _out, err = self.vsh('tls://127.0.0.1:%d?pkipath=%s' % (self.srv.port, self.refused),
                                 'hostname')
        self.assertNotEqual(rc, 0)
        self.assertIn('refused the client certificate %s/clientcert.pem' % self.refused, err)

    def test_missing_credentials(self):
        rc, _out, err = self.vsh('tls://127.0.0.1:%d?pkipath=%s' % (self.srv.port, self.empty),
                                 'hostname')
        self.assertNotEqual(rc, 0)
        self.assertIn('cacert.pem', err)
        self.assertIn(self.empty, err)

    def test_connection_refused(self):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
        rc, _out, err = self.vsh('tls://127.0.0.1:%d?pkipath=%s' % (port, self.good), 'hostname')
        self.assertNotEqual(rc, 0)
        self.assertIn("unable to connect to server at '127.0.0.1:%d': Connection refused" % port,
                      err)


if __name__ == '__main__':
    unittest.main(argv=sys.argv[:1], verbosity=2)
