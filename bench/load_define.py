#!/usr/bin/env python3
"""Memory and latency of virtd under many concurrent API clients (issue 8,
item 10): N clients define domains as fast as they can for T seconds,
then every domain is undefined; the daemon's RSS is read before, after
the defines, and after the undefines, with p50/p99 of each define.

    ./bench/load_define.py                          # 200 clients, 60 s
    ./bench/load_define.py --clients 50 --seconds 10
    ./bench/load_define.py --virtd /tmp/old/virtd   # another build, same load

It starts its own `virtd --root DIR` (a fresh temporary DIR, removed at the
end) and talks to it over its UNIX socket only; nothing leaves the
machine. Each client opens one connection per request, as vsh does. The
domains have no kernel or disk, so defining one reads no file: what is
measured is the API, the registry and the atomic write of each
definition. Python 3 standard library only; asserts nothing.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VIRTD = os.path.join(os.path.dirname(HERE), 'build', 'src', 'daemon', 'virtd')

XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/><apic/></features>
  <devices>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>
"""


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__('localhost', timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def request(sock, method, path, body=None, ctype=None):
    conn = UnixHTTPConnection(sock)
    try:
        headers = {'Content-Type': ctype} if ctype else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def percentile(values, p):
    if not values:
        return float('nan')
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


class Done(Exception):
    """Raised by a client's body_of when it has nothing left to do."""


def run_clients(n, body_of, seconds):
    """n threads call body_of(client, i) until `seconds` have passed (or it
    raises Done). Returns (latencies, errors)."""
    deadline = time.monotonic() + seconds
    lat, errors, lock = [], [], threading.Lock()

    def worker(c):
        i = 0
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                ok = body_of(c, i)
            except Done:
                return
            except OSError as e:
                ok = str(e)
            dt = time.monotonic() - t0
            with lock:
                if ok is True:
                    lat.append(dt)
                else:
                    errors.append(ok)
            i += 1

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--virtd', default=DEFAULT_VIRTD, help='the daemon binary (default: build/)')
    ap.add_argument('--clients', type=int, default=200)
    ap.add_argument('--seconds', type=float, default=60)
    ap.add_argument('--settle', type=float, default=3,
                    help='seconds of quiet before each RSS reading (default 3)')
    ap.add_argument('--json', action='store_true', help='print the figures as JSON too')
    args = ap.parse_args()

    root = tempfile.mkdtemp(prefix='vdload-')
    sock = os.path.join(root, 'virtd.sock')
    log = open(os.path.join(root, 'virtd.log'), 'wb')
    proc = subprocess.Popen([args.virtd, '--root', root], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if request(sock, 'GET', '/v1/version')[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit('virtd did not start; see %s/virtd.log' % root)
            time.sleep(0.05)
        time.sleep(args.settle)
        pid = proc.pid
        figures = {'clients': args.clients, 'seconds': args.seconds,
                   'rss_start_kib': rss_kib(pid), 'fds_start': fd_count(pid)}

        def define(c, i):
            name = 'load-%d-%d' % (c, i)
            status, body = request(sock, 'POST', '/v1/domains', XML.format(name=name),
                                   'application/xml')
            return True if status in (200, 201) else 'define %s: %s %s' % (name, status,
                                                                         body[:200])

        t0 = time.monotonic()
        lat, errors = run_clients(args.clients, define, args.seconds)
        elapsed = time.monotonic() - t0
        figures.update(defines=len(lat), define_errors=len(errors),
                       defines_per_s=len(lat) / elapsed,
                       define_p50_ms=1000 * percentile(lat, 50),
                       define_p99_ms=1000 * percentile(lat, 99),
                       define_mean_ms=1000 * statistics.mean(lat) if lat else float('nan'),
                       rss_peak_kib=None)
        time.sleep(args.settle)
        figures['rss_after_define_kib'] = rss_kib(pid)

        names = [d['name'] for d in
                 json.loads(request(sock, 'GET', '/v1/domains?all=1')[1])['domains']]
        chunks = [names[i::args.clients] for i in range(args.clients)]

        def undefine(c, i):
            if i >= len(chunks[c]):
                raise Done()
            status, body = request(sock, 'DELETE', '/v1/domains/' + chunks[c][i])
            return True if status in (200, 204) else 'undefine: %s %s' % (status, body[:200])

        ulat, _ = run_clients(args.clients, undefine, 3600)
        left = len(json.loads(request(sock, 'GET', '/v1/domains?all=1')[1])['domains'])
        time.sleep(args.settle)
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    figures['rss_peak_kib'] = int(line.split()[1])
        figures.update(undefines=len(ulat), left_defined=left,
                       undefine_p50_ms=1000 * percentile(ulat, 50),
                       rss_after_undefine_kib=rss_kib(pid), fds_end=fd_count(pid))

        print('virtd %s, %d clients for %.0f s' % (args.virtd, args.clients, args.seconds))
        print('  defines: %d (%.1f/s), %d errors; latency p50 %.0f ms, p99 %.0f ms' %
              (figures['defines'], figures['defines_per_s'], figures['define_errors'],
               figures['define_p50_ms'], figures['define_p99_ms']))
        print('  undefines: %d, %d left; latency p50 %.0f ms' %
              (figures['undefines'], left, figures['undefine_p50_ms']))
        print('  RSS: start %.1f MB, after defines %.1f MB, after undefines %.1f MB, '
              'peak %.1f MB' % (figures['rss_start_kib'] / 1024,
                                figures['rss_after_define_kib'] / 1024,
                                figures['rss_after_undefine_kib'] / 1024,
                                figures['rss_peak_kib'] / 1024))
        print('  descriptors: %d at start, %d at end' % (figures['fds_start'],
                                                         figures['fds_end']))
        if errors:
            print('  first error: %s' % errors[0])
        if args.json:
            print(json.dumps(figures, sort_keys=True))
        sys.stdout.flush()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    main()
