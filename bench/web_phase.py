#!/usr/bin/env python3
"""The web listener's figures (issue 14): HTTPS keep-alive and RSS.

Starts one virtd with `--web 127.0.0.1:PORT` (no guests, no network) and
measures:
  - N GETs of a static file on ONE connection (keep-alive), and N GETs
    each on a new connection (one TLS handshake each): requests/s and
    median / p95 latency of each;
  - the daemon's RSS: started without --web, started with --web (idle:
    no connection yet, so GnuTLS is not loaded), after the load, and 5 s after it (the listener trims the heap once
    quiet);
  - with --login (root only): RSS after one PAM login of an account made
    for the run (vdbenchPID, removed at the end) and after N API requests
    of that session (GET /api/v1/domains, /api/v1/host, /api/v1/tasks on
    one keep-alive connection, as the browser's pages do), then 5 s later.

    ./bench/web_phase.py [--virtd PATH] [--requests 200] [--login]

Standalone (Python 3 standard library only); bench/run.py does not call
it. Any user can run it without --login (static files need no login).
"""

import argparse
import atexit
import http.client
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCROOT = os.path.dirname(HERE)
VIRTD = os.path.join(SRCROOT, 'build', 'src', 'daemon', 'virtd')


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


class Virtd:
    def __init__(self, virtd, top, web, group=None):
        self.root = tempfile.mkdtemp(prefix='r-', dir=top)
        self.port = free_port() if web else None
        args = [virtd, '--root', self.root, '--no-default-network', '--dns-forward=none']
        if web:
            www = os.path.join(top, 'www')
            if not os.path.isdir(www):
                os.makedirs(os.path.join(www, 'assets'))
                with open(os.path.join(www, 'index.html'), 'w') as f:
                    f.write('<!doctype html><title>bench</title>\n')
                with open(os.path.join(www, 'assets', 'app.js'), 'w') as f:
                    f.write('// ' + 'x' * 4000 + '\n')
            args += ['--web', '127.0.0.1:%d' % self.port, '--web-root', www]
            if group:
                args += ['--web-group', group]
        self.log = open(os.path.join(self.root, 'bench.log'), 'w')
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        sock = os.path.join(self.root, 'virtd.sock')
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # Not a connection to the web port: the first one loads the
            # certificate and GnuTLS (~3 MiB), which "idle" must not count.
            if os.path.exists(sock) and (not web or self._serving()):
                break
            if self.proc.poll() is not None:
                raise RuntimeError('virtd exited: see %s' % self.log.name)
            time.sleep(0.1)
        else:
            raise RuntimeError('virtd did not start')
        time.sleep(1)

    def _serving(self):
        with open(self.log.name, errors='replace') as f:
            return 'serving the web console' in f.read()

    def context(self):
        ctx = ssl.create_default_context(cafile=os.path.join(self.root, 'lib', 'web', 'cert.pem'))
        ctx.check_hostname = False
        return ctx

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def timed_gets(v, n, reuse):
    ctx = v.context()
    lat = []
    conn = None
    t0 = time.monotonic()
    reconnects = 0
    for _ in range(n):
        t = time.monotonic()
        if conn is None:
            conn = http.client.HTTPSConnection('127.0.0.1', v.port, timeout=30, context=ctx)
            reconnects += 1
        try:
            conn.request('GET', '/assets/app.js')
            r = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError, ssl.SSLError):
            # The daemon closed it after the previous answer (without
            # saying so): a new connection, as a browser does.
            conn.close()
            conn = http.client.HTTPSConnection('127.0.0.1', v.port, timeout=30, context=ctx)
            reconnects += 1
            conn.request('GET', '/assets/app.js')
            r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError('GET /assets/app.js: %d' % r.status)
        if not reuse or r.getheader('Connection', '').lower() == 'close':
            conn.close()
            conn = None
        lat.append((time.monotonic() - t) * 1000)
    total = time.monotonic() - t0
    if conn:
        conn.close()
    lat.sort()
    return {'requests': n, 'connections': reconnects, 'req_per_s': round(n / total, 1),
            'median_ms': round(statistics.median(lat), 2),
            'p95_ms': round(lat[int(len(lat) * 0.95) - 1], 2)}


ACCOUNT = 'vdbench%d' % os.getpid()
PASSWORD = 'bench-%d-pw' % os.getpid()


def remove_account():
    subprocess.run(['userdel', ACCOUNT], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(['groupdel', ACCOUNT], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_account():
    remove_account()
    atexit.register(remove_account)
    subprocess.run(['groupadd', ACCOUNT], check=True)
    subprocess.run(['useradd', '-M', '-N', '-g', ACCOUNT, '-d', '/nonexistent', '-s',
                    '/usr/sbin/nologin', ACCOUNT], check=True)
    subprocess.run(['chpasswd'], input=('%s:%s\n' % (ACCOUNT, PASSWORD)).encode(), check=True)


def login_and_api(v, n, out):
    """One PAM login, then N API GETs of that session on one connection."""
    ctx = v.context()
    conn = http.client.HTTPSConnection('127.0.0.1', v.port, timeout=60, context=ctx)
    body = json.dumps({'user': ACCOUNT, 'password': PASSWORD}).encode()
    conn.request('POST', '/api/login', body, {'Content-Type': 'application/json'})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError('login: %d %s' % (r.status, data[:200]))
    cookie = (r.getheader('Set-Cookie') or '').split(';')[0]
    conn.close()
    time.sleep(1)
    out['rss_web_after_login_kib'] = rss_kib(v.proc.pid)
    paths = ['/api/v1/domains', '/api/v1/host', '/api/v1/tasks']
    conn = None
    t0 = time.monotonic()
    for i in range(n):
        if conn is None:
            conn = http.client.HTTPSConnection('127.0.0.1', v.port, timeout=60, context=ctx)
        conn.request('GET', paths[i % len(paths)], headers={'Cookie': cookie})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError('GET %s: %d' % (paths[i % len(paths)], r.status))
        if r.getheader('Connection', '').lower() == 'close':
            conn.close()
            conn = None
    if conn:
        conn.close()
    out['api_req_per_s'] = round(n / (time.monotonic() - t0), 1)
    out['rss_web_after_api_kib'] = rss_kib(v.proc.pid)
    time.sleep(5)
    out['rss_web_after_api_quiet_kib'] = rss_kib(v.proc.pid)


def run(virtd, n, login=False):
    top = tempfile.mkdtemp(prefix='virtd-bench-web-')
    out = {}
    try:
        v = Virtd(virtd, top, web=False)
        try:
            out['rss_without_web_kib'] = rss_kib(v.proc.pid)
        finally:
            v.stop()
        v = Virtd(virtd, top, web=True, group=ACCOUNT if login else None)
        try:
            out['rss_web_idle_kib'] = rss_kib(v.proc.pid)
            # One TLS connection (handshake, no request): GnuTLS loaded.
            with socket.create_connection(('127.0.0.1', v.port), timeout=30) as raw:
                with v.context().wrap_socket(raw):
                    pass
            time.sleep(1)
            out['rss_web_after_first_connection_kib'] = rss_kib(v.proc.pid)
            if login:
                login_and_api(v, n, out)
            out['one_connection'] = timed_gets(v, n, reuse=True)
            out['connection_per_request'] = timed_gets(v, n, reuse=False)
            out['rss_web_after_load_kib'] = rss_kib(v.proc.pid)
            time.sleep(5)
            out['rss_web_after_load_quiet_kib'] = rss_kib(v.proc.pid)
        finally:
            v.stop()
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--virtd', default=VIRTD)
    p.add_argument('--requests', type=int, default=200)
    p.add_argument('--login', action='store_true',
                   help='also a PAM login and N API requests (root: makes an account)')
    a = p.parse_args()
    if a.login:
        make_account()
    json.dump(run(a.virtd, a.requests, a.login), sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
