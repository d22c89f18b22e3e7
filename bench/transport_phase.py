"""The remote transports' extra latency (issue 13), part of the migration
phase of bench/run.py (bench/README.md, "Remote transports"): the same
daemon (the migration figures' second virtd, started with `--listen
tls://127.0.0.1:PORT` when it has the option) reached over its UNIX
socket, over TLS (certificates made by the run with openssl) and over SSH
(an sshd of the run on 127.0.0.1, a key of the run, forwarding to the
daemon's socket).

- GET /v1/version over one kept-alive HTTP connection, `--transport-gets`
  (200) times after 10 untimed: the per-request cost of the transport, as
  a long-lived client (or the migration's peer calls) pays it. SSH: an
  `ssh -N -L 127.0.0.1:P:SOCKET` tunnel, as vsh's, the requests through it.
- `vsh -c URI list`, `--transport-cli` (20) times: what a user pays per
  command, connection set-up included (ssh's handshake, TLS's).

virtd only: the left column stays empty. A transport the binaries cannot
do yet is "unavailable" with the reason.
"""

import http.client
import os
import socket
import ssl
import subprocess
import time

FIGURES = [
    ('tr_get_unix', 'GET /v1/version kept-alive: UNIX socket, median', 'ms2'),
    ('tr_get_tls', 'GET /v1/version kept-alive: TLS, median', 'ms2'),
    ('tr_get_ssh', 'GET /v1/version kept-alive: SSH tunnel, median', 'ms2'),
    ('tr_list_unix', 'vsh -c unix:///... list, median of {cli}', 'ms'),
    ('tr_list_tls', 'vsh -c tls://127.0.0.1:P list, median of {cli}', 'ms'),
    ('tr_list_ssh', 'vsh -c ssh://root@127.0.0.1:P/... list, median of {cli}', 'ms'),
]

SERVER_EXT = ('subjectAltName=IP:127.0.0.1,DNS:localhost\n'
              'extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n')
CLIENT_EXT = 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n'
ALLOWED_DN = 'C=XX,O=vdbench,CN=*'

SSHD_CONFIG = '''ListenAddress 127.0.0.1
HostKey {dir}/hostkey
AuthorizedKeysFile {dir}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
AllowStreamLocalForwarding yes
'''


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run(*argv):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError('%s: %s' % (' '.join(argv), r.stdout[-800:]))
    return r.stdout


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return (xs[n // 2] + xs[(n - 1) // 2]) / 2.0 if xs else None


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__('localhost', timeout=30)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.unix_path)
        self.sock = s


class Transports:
    def __init__(self, bench, run_log, top):
        self.b = bench
        self.a = bench.args
        self.log = run_log
        self.dir = os.path.join(top, 'remote')
        self.tls_port = None
        self.procs = []

    def path(self, *p):
        return os.path.join(self.dir, *p)

    # ---- before the daemon starts: its TLS listener

    def daemon_args(self, virtd_help):
        """Arguments for the daemon when its binary can listen on TLS."""
        if '--listen' not in virtd_help or '--tls-dir' not in virtd_help:
            self.tls_missing = 'virtd has no --listen/--tls-dir'
            return []
        os.makedirs(self.dir, exist_ok=True)
        try:
            self.make_pki()
        except Exception as e:
            self.tls_missing = 'certificates: %s' % e
            return []
        self.tls_port = free_port()
        args = ['--listen', 'tls://127.0.0.1:%d' % self.tls_port, '--tls-dir',
                self.path('server')]
        if '--tls-allowed-dn' in virtd_help:
            args += ['--tls-allowed-dn', ALLOWED_DN]
        return args

    def make_pki(self):
        def ec_req(name, subj, extra):
            run('openssl', 'req', '-new', '-newkey', 'ec', '-pkeyopt',
                'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', self.path(name + '.key'),
                '-subj', subj, *extra)
        ec_req('ca', '/C=XX/O=vdbench/CN=vdbench CA',
               ['-x509', '-out', self.path('ca.pem'), '-days', '2',
                '-addext', 'basicConstraints=critical,CA:TRUE',
                '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
        for who, subj, ext in (('server', '/C=XX/O=vdbench/CN=localhost', SERVER_EXT),
                               ('client', '/C=XX/O=vdbench/CN=vdbench-client', CLIENT_EXT)):
            ec_req(who, subj, ['-out', self.path(who + '.csr')])
            with open(self.path(who + '.ext'), 'w') as f:
                f.write(ext)
            run('openssl', 'x509', '-req', '-in', self.path(who + '.csr'), '-CA',
                self.path('ca.pem'), '-CAkey', self.path('ca.key'), '-CAcreateserial',
                '-out', self.path(who + '.pem'), '-days', '2', '-extfile',
                self.path(who + '.ext'))
            d = self.path(who)
            os.makedirs(os.path.join(d, 'private'), exist_ok=True)
            for src, dst in (('ca.pem', 'cacert.pem'), (who + '.pem', who + 'cert.pem'),
                             (who + '.key', os.path.join('private', who + 'key.pem'))):
                with open(self.path(src), 'rb') as fi, open(os.path.join(d, dst), 'wb') as fo:
                    fo.write(fi.read())
            os.chmod(os.path.join(d, 'private', who + 'key.pem'), 0o600)

    # ---- the figures

    def run(self, side, record_as):
        """@side: a running Virtd (its sock, uri, cli); the figures go into
        the column of @record_as (the run's virtd side)."""
        self.rec = record_as
        n, cli = self.a.transport_gets, self.a.transport_cli
        self.one(side, 'unix', lambda: UnixHTTP(side.sock), side.uri, n, cli)
        if self.tls_port:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(self.path('client', 'cacert.pem'))
            ctx.load_cert_chain(self.path('client', 'clientcert.pem'),
                                self.path('client', 'private', 'clientkey.pem'))
            uri = 'tls://127.0.0.1:%d/?pkipath=%s' % (self.tls_port, self.path('client'))
            self.one(side, 'tls', lambda: http.client.HTTPSConnection(
                '127.0.0.1', self.tls_port, timeout=30, context=ctx), uri, n, cli)
        else:
            self.unavailable(side, 'tls', getattr(self, 'tls_missing', 'no TLS listener'))
        try:
            port = self.start_sshd()
        except Exception as e:
            self.unavailable(side, 'ssh', 'sshd: %s' % e)
            return
        try:
            lport = self.start_tunnel(port, side.sock)
            uri = ('ssh://root@127.0.0.1:%d%s?keyfile=%s&no_verify=1&command=%s'
                   % (port, side.sock, self.path('clientkey'), self.path('ssh-wrap')))
            self.one(side, 'ssh', lambda: http.client.HTTPConnection('127.0.0.1', lport,
                                                                      timeout=30),
                     uri, n, cli)
        except Exception as e:
            self.unavailable(side, 'ssh', str(e)[:300])
        finally:
            self.stop()

    def unavailable(self, side, tr, why):
        for k in ('tr_get_', 'tr_list_'):
            self.b.record(k + tr, self.rec, unavailable=why)
        self.log('%s: transport %s unavailable: %s' % (side.label, tr, why))

    def one(self, side, tr, connect, uri, n, cli):
        try:
            conn = connect()
            times = []
            for i in range(10 + n):
                t0 = time.perf_counter()
                conn.request('GET', '/v1/version')
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    raise RuntimeError('GET /v1/version: HTTP %d' % r.status)
                if i >= 10:
                    times.append(time.perf_counter() - t0)
            conn.close()
            self.b.record('tr_get_' + tr, self.rec, samples=times)
        except Exception as e:
            self.b.record('tr_get_' + tr, self.rec, unavailable='%s: %s' % (tr, e))
            self.b.error(side, 'transport %s GET' % tr, e)
        lists = []
        for i in range(cli):
            r = side.cli_at(uri, 'list', '--all')
            if r.rc != 0:
                why = (r.err + r.out).strip()[:300]
                self.b.record('tr_list_' + tr, self.rec, unavailable='%s: %s' % (uri, why))
                self.b.error(side, 'transport %s: vsh -c %s list' % (tr, uri), why)
                lists = []
                break
            lists.append(r.seconds)
        if lists:
            self.b.record('tr_list_' + tr, self.rec, samples=lists, uri=uri)
        g = self.b.value('tr_get_' + tr, self.rec.key)
        self.log('%s: %s: GET kept-alive %s, vsh list %s (load %.2f)'
                 % (side.label, tr, '%.3f ms' % (g * 1000) if g else '-',
                    '%.1f ms' % (median(lists) * 1000) if lists else '-', os.getloadavg()[0]))

    # ---- sshd and the tunnel

    def start_sshd(self):
        os.makedirs(self.dir, exist_ok=True)
        if not os.path.exists('/usr/sbin/sshd'):
            raise RuntimeError('no /usr/sbin/sshd (openssh-server)')
        if not os.path.isdir('/run/sshd'):
            raise RuntimeError('/run/sshd (sshd\'s privilege separation directory) is missing')
        for key in ('hostkey', 'clientkey'):
            if not os.path.exists(self.path(key)):
                run('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', self.path(key))
        with open(self.path('clientkey.pub')) as f, \
                open(self.path('authorized_keys'), 'w') as out:
            out.write(f.read())
        with open(self.path('sshd_config'), 'w') as f:
            f.write(SSHD_CONFIG.format(dir=self.dir))
        # vsh's ssh: no user configuration, known hosts of the run only.
        with open(self.path('ssh-wrap'), 'w') as f:
            f.write('#!/bin/sh\nexec ssh -F /dev/null -o UserKnownHostsFile=%s '
                    '-o StrictHostKeyChecking=no -o BatchMode=yes -o LogLevel=ERROR "$@"\n'
                    % self.path('known_hosts'))
        os.chmod(self.path('ssh-wrap'), 0o755)
        port = free_port()
        logf = open(self.path('sshd.log'), 'ab')
        p = subprocess.Popen(['/usr/sbin/sshd', '-D', '-e', '-f', self.path('sshd_config'),
                              '-p', str(port)], stdin=subprocess.DEVNULL, stdout=logf,
                             stderr=logf, start_new_session=True)
        logf.close()
        self.procs.append(p)
        self.wait_port(port, p, 'sshd')
        return port

    def start_tunnel(self, port, sock):
        lport = free_port()
        p = subprocess.Popen([self.path('ssh-wrap'), '-N', '-o', 'ExitOnForwardFailure=yes',
                              '-i', self.path('clientkey'), '-p', str(port),
                              '-L', '127.0.0.1:%d:%s' % (lport, sock), 'root@127.0.0.1'],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=open(self.path('tunnel.log'), 'ab'),
                             start_new_session=True)
        self.procs.append(p)
        self.wait_port(lport, p, 'ssh tunnel')
        return lport

    def wait_port(self, port, proc, what, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                return
            except OSError:
                pass
            if proc.poll() is not None:
                raise RuntimeError('%s exited %d' % (what, proc.returncode))
            if time.monotonic() > deadline:
                raise RuntimeError('%s: port %d not answering after %d s'
                                   % (what, port, timeout))
            time.sleep(0.05)

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
