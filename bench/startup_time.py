#!/usr/bin/env python3
"""How soon a freshly executed virtd answers on its socket (issue 15).

Each run starts `virtd --root NEW_DIR --no-default-network` in an empty
root (no caches: the QEMU capabilities and KVM probes run, as on a first
start), then polls the socket and prints, from the exec:
  - first answer:   the first GET /v1/version that is answered
  - domains:        the first GET /v1/domains answered (needs no probe)
  - probes in:      GET /v1/host answered (it waits for the KVM probe
                    and QEMU's capabilities)
and, for a second start in the same root (caches warm), the same figures.
Figures only, nothing asserted: the machine's load decides them.

    bench/startup_time.py [--runs N] [--virtd PATH]
"""

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VIRTD = os.path.join(os.path.dirname(HERE), 'build', 'src', 'daemon', 'virtd')


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=5):
        super().__init__('localhost', timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def get(sock_path, path):
    conn = UnixHTTPConnection(sock_path)
    try:
        conn.request('GET', path)
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def poll_until_answered(proc, sock_path, path, t0, timeout=30):
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError('virtd exited with %s' % proc.returncode)
        try:
            if get(sock_path, path) == 200:
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError('no answer to %s in %d s' % (path, timeout))


def one_start(virtd, root):
    """(first answer, domains answered, probes in) in seconds from the exec."""
    sock_path = os.path.join(root, 'virtd.sock')
    log = open(os.path.join(root, 'virtd.log'), 'ab')
    t0 = time.monotonic()
    proc = subprocess.Popen([virtd, '--root', root, '--no-default-network'],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True)
    log.close()
    try:
        first = poll_until_answered(proc, sock_path, '/v1/version', t0)
        domains = poll_until_answered(proc, sock_path, '/v1/domains', t0)
        probes = poll_until_answered(proc, sock_path, '/v1/host', t0)
        return first, domains, probes
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def report(label, figures):
    for i, name in enumerate(('first answer', 'domains', 'probes in')):
        values = [f[i] * 1000 for f in figures]
        print('  %-5s %-13s median %7.1f ms   min %7.1f   max %7.1f   (%s)' % (
            label, name, statistics.median(values), min(values), max(values),
            ' '.join('%.0f' % v for v in values)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--virtd', default=os.environ.get('VIRTD_BIN', DEFAULT_VIRTD))
    args = ap.parse_args()
    cold, warm = [], []
    tmp = tempfile.mkdtemp(prefix='vd-startup-')
    try:
        for i in range(args.runs):
            root = os.path.join(tmp, 'r%d' % i)
            os.makedirs(root)
            cold.append(one_start(args.virtd, root))
            warm.append(one_start(args.virtd, root))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('virtd start-up, %d runs, from the exec (%s):' % (args.runs, args.virtd))
    report('cold', cold)
    report('warm', warm)
    return 0


if __name__ == '__main__':
    sys.exit(main())
