#!/usr/bin/env python3
"""The usage sampler's cost (issue 14: "stats collection for 50 running
domains under 1 % of one CPU"). Not part of the test suite; prints figures.

Starts a private virtd (the integration harness's Daemon, own --root),
defines N domains named hu-bench-NNN (64 MiB, 1 vCPU, a sparse raw disk, a
NIC on a bridge of its own, hubr0), starts them --paused (QEMU runs, its
QMP answers, its tap counts: what a sample reads is all there; N busy TCG
guests would measure the machine, not the daemon). Then, for the same
domains, three daemon runs, each a fresh process (QEMUs outlive it):

  off    VIRTD_TEST_USAGE_INTERVAL_MS=3600000: no sample in the window
  10 s   the default interval
  1 s    ten times as many samples, to see the cost per sample

and for each the daemon's CPU time (utime + stime of all its threads, from
/proc) over the window, as % of one CPU, and its RSS at the end. Cleans
everything up, also on failure.

    ./bench/usage_bench.py [--domains 50] [--window 120]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                'integration'))
import harness  # noqa: E402

BRIDGE = 'hubr0'


def cpu_s(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def run(d, interval_ms, window, warmup):
    if interval_ms is None:
        d.extra_env.pop('VIRTD_TEST_USAGE_INTERVAL_MS', None)
    else:
        d.extra_env['VIRTD_TEST_USAGE_INTERVAL_MS'] = str(interval_ms)
    d.restart()
    time.sleep(warmup)
    pid = d.pid
    c0, t0 = cpu_s(pid), time.monotonic()
    time.sleep(window)
    c1, t1 = cpu_s(pid), time.monotonic()
    return {'cpu_pct': round((c1 - c0) / (t1 - t0) * 100, 3), 'cpu_s': round(c1 - c0, 3),
            'window_s': round(t1 - t0, 1), 'rss_kib': rss_kib(pid)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--domains', type=int, default=50)
    ap.add_argument('--window', type=int, default=120)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='hu-bench-')
    names = ['hu-bench-%03d' % i for i in range(args.domains)]
    subprocess.run(['ip', 'link', 'del', BRIDGE], capture_output=True)
    subprocess.run(['ip', 'link', 'add', BRIDGE, 'type', 'bridge'], check=True)
    subprocess.run(['ip', 'link', 'set', BRIDGE, 'up'], check=True)
    try:
        with harness.Daemon(env={'VIRTD_TEST_USAGE_INTERVAL_MS': '3600000'}) as d:
            t0 = time.monotonic()
            for n in names:
                disk = os.path.join(tmp, n + '.img')
                with open(disk, 'wb') as f:
                    f.truncate(16 << 20)
                nic = ("    <interface type='bridge'><source bridge='%s'/>"
                       "<model type='virtio'/></interface>" % BRIDGE)
                d.define(n, harness.domain_xml(n, memory_mib=64,
                                               extra_devices=harness.disk_xml(disk) + nic))
                d.vsh('start', n, '--paused')
            print('%d domains started paused in %.0f s' % (len(names), time.monotonic() - t0))
            off = run(d, 3600000, args.window, 5)
            print('off:  %s' % off)
            ten = run(d, None, args.window, 25)
            print('10 s: %s' % ten)
            files = os.listdir(d.path('lib', 'usage'))
            print('usage files: %d' % len(files))
            one = run(d, 1000, max(30, args.window // 2), 5)
            print('1 s:  %s' % one)
            u = d.api_json('GET', '/v1/usage')
            print('GET /v1/usage: %d domains' % len(u['domains']))
            per_sample = (one['cpu_pct'] - off['cpu_pct']) / 100 / len(names)  # CPU s per s per domain at 1 Hz
            print('sampler cost at 10 s (from the 1 s run): %.3f %% of one CPU for %d domains '
                  '(%.2f ms per domain per sample)'
                  % (per_sample * len(names) * 100 / 10, len(names), per_sample * 1000))
            print('sampler cost at 10 s (measured): %.3f %% of one CPU (minus the idle daemon)'
                  % (ten['cpu_pct'] - off['cpu_pct']))
            print('RSS: off %d KiB, 10 s %d KiB (+%d), 1 s %d KiB'
                  % (off['rss_kib'], ten['rss_kib'], ten['rss_kib'] - off['rss_kib'],
                     one['rss_kib']))
            for n in names:
                d.vsh('destroy', n, check=False)
    finally:
        shutil.rmtree(tmp, True)
        subprocess.run(['ip', 'link', 'del', BRIDGE], capture_output=True)


if __name__ == '__main__':
    main()
