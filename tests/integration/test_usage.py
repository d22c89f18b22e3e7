#!/usr/bin/env python3
"""Usage history (issue 14's graphs): the daemon samples every running
domain (here every second: VIRTD_TEST_USAGE_INTERVAL_MS=1000) and keeps
rings of points per domain in lib/usage/NAME.usage.

One 128 MiB guest (hu-1) with a disk and a NIC on a test bridge: points
appear; its CPU % follows a busy loop typed on its console and agrees with
the QEMU's own CPU time read from /proc by this test; memory is the QEMU's
RSS; a dd to its disk and datagrams sent to it show as disk write and
network receive rates of the right size; GET /v1/usage lists it; `vsh
domusage` prints the table; the day range rolls samples up into 30-sample
periods; the history survives a SIGKILL of the daemon and a restart (the
first sample after it still has its rates), a torn record is skipped; the
file follows domrename and goes with undefine.

Everything on the host is named with the prefix hu (bridge hu0, tap hut0,
files in /tmp/hu-*) and removed at the end, even on failure."""

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import harness
from harness import Daemon

BRIDGE = 'hu0'
TAP = 'hut0'
MIB = 1024 * 1024
GUEST_IP = '10.227.0.10'
KEYS = ['t', 'cpu_pct', 'mem_kib', 'balloon_kib', 'disk_rd_bps', 'disk_wr_bps', 'net_rx_bps',
        'net_tx_bps']
REC = 128
HOUR_SLOTS = 360


def ip(*args, check=True):
    return subprocess.run(('ip',) + args, check=check, capture_output=True, text=True)


def link_exists(name):
    return os.path.exists('/sys/class/net/%s' % name)


def proc_cpu_s(pid):
    """utime + stime of a process, in seconds."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def proc_rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS')


class Usage(harness.VirtdTestCase):

    def setUp(self):
        super().setUp()
        base = os.environ.get('VIRTD_TEST_TMPDIR') or '/tmp'
        # Its images are here: QEMU's user must search it (docs/security.md).
        self.tmp = harness.qemu_reachable(tempfile.mkdtemp(prefix='hu-', dir=base))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        for name in (TAP, BRIDGE):
            if link_exists(name):
                ip('link', 'del', name, check=False)
        ip('link', 'add', BRIDGE, 'type', 'bridge')
        self.addCleanup(self._remove_links)
        ip('addr', 'add', '10.227.0.1/24', 'dev', BRIDGE)
        ip('link', 'set', BRIDGE, 'up')

    def _remove_links(self):
        for name in (TAP, BRIDGE):
            if link_exists(name):
                ip('link', 'del', name, check=False)

    def disk(self, name, mib=16):
        path = os.path.join(self.tmp, name + '.img')
        with open(path, 'wb') as f:
            f.truncate(mib * MIB)
        return path

    def usage(self, d, name, rng='hour'):
        u = d.api_json('GET', harness.dom_path(name, '/usage?range=' + rng))
        self.assertEqual(u['range'], rng)
        return u

    def points(self, d, name, rng='hour'):
        return self.usage(d, name, rng)['points']

    def wait_points(self, d, name, pred, timeout, what):
        found = []

        def check():
            found[:] = self.points(d, name)
            return pred(found)
        harness.wait_for(check, timeout, what=what)
        return found

    def send_datagrams(self, count, size):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, BRIDGE.encode())
            for _ in range(count):
                s.sendto(b'u' * size, (GUEST_IP, 9))
                time.sleep(0.005)
        finally:
            s.close()

    def test_usage(self):
        nic = ("    <interface type='bridge'>\n"
               "      <mac address='52:54:00:22:70:01'/>\n"
               "      <source bridge='%s'/><target dev='%s'/><model type='virtio'/>\n"
               "    </interface>\n" % (BRIDGE, TAP))
        env = {'VIRTD_TEST_USAGE_INTERVAL_MS': '1000'}
        with Daemon(args=['--dns-forward=none'], env=env) as d:
            usage_dir = d.path('lib', 'usage')
            d.define('hu-1', harness.domain_xml(
                'hu-1', memory_mib=128, extra_devices=harness.disk_xml(self.disk('hu-1')) + nic))
            d.define('hu-2', harness.domain_xml('hu-2', memory_mib=128))
            # never run: no history, no file
            self.assertEqual(self.usage(d, 'hu-2'),
                             {'range': 'hour', 'interval_s': 1, 'points': []})
            self.assertEqual(self.usage(d, 'hu-2', 'week')['interval_s'], 180)
            r = d.api('GET', harness.dom_path('hu-2', '/usage?range=month'))
            self.assertEqual(r.status, 400)
            self.assertIn("unknown usage range 'month'", r.error_message())
            self.assertEqual(d.api('GET', harness.dom_path('nope', '/usage')).status, 404)

            d.start_domain('hu-1')
            pid = d.qemu_pid('hu-1')
            pts = self.wait_points(d, 'hu-1', lambda p: len(p) >= 3 and
                                   p[-1]['cpu_pct'] is not None, 20, 'three points of hu-1')
            self.assertTrue(os.path.isfile(os.path.join(usage_dir, 'hu-1.usage')))
            self.assertFalse(os.path.exists(os.path.join(usage_dir, 'hu-2.usage')))
            for p in pts:
                self.assertEqual(sorted(p), sorted(KEYS))
            ts = [p['t'] for p in pts]
            self.assertEqual(ts, sorted(ts))
            self.assertLess(abs(ts[-1] - time.time()), 10)
            last = pts[-1]
            # the QEMU's resident memory; <currentMemory> as the balloon's size
            rss = proc_rss_kib(pid)
            self.assertGreater(last['mem_kib'], 16 * 1024)
            self.assertLess(abs(last['mem_kib'] - rss), rss * 0.3 + 8192, (last, rss))
            self.assertEqual(last['balloon_kib'], 128 * 1024)
            for k in ('disk_rd_bps', 'disk_wr_bps', 'net_rx_bps', 'net_tx_bps'):
                self.assertIsInstance(last[k], int, k)

            # ---- CPU: a busy loop in the guest, measured on both sides ----
            with d.console('hu-1') as con:
                con.type_until('ip link set eth0 up && ip addr add %s/24 dev eth0 && '
                               'echo up-$((40+2))' % GUEST_IP, 'up-42')
                ti, ci = time.time(), proc_cpu_s(pid)
                time.sleep(4)
                own_idle = (proc_cpu_s(pid) - ci) / (time.time() - ti) * 100
                time.sleep(1.5)
                idle = [p['cpu_pct'] for p in self.points(d, 'hu-1')
                        if ti + 1 <= p['t'] <= ti + 4 and p['cpu_pct'] is not None]
                con.type_until('(while :; do :; done) & echo spin-$((6*7))', 'spin-42')
                t0, c0 = time.time(), proc_cpu_s(pid)
                time.sleep(6)
                t1, c1 = time.time(), proc_cpu_s(pid)
                own = (c1 - c0) / (t1 - t0) * 100
                time.sleep(1.5)
                busy = [p for p in self.points(d, 'hu-1') if t0 + 1 <= p['t'] <= t1]
                con.type_until('kill %1; echo stopped-$((6*7))', 'stopped-42')
                self.assertGreaterEqual(len(busy), 3, busy)
                daemon = sum(p['cpu_pct'] for p in busy) / len(busy)
                # a spinning vCPU under TCG: the QEMU takes what the host
                # gives it (little on a loaded machine): the daemon's figure
                # must be what /proc says, idle and busy
                print('CPU %%: idle %s (/proc %.1f), busy %.1f (/proc %.1f)'
                      % (idle, own_idle, daemon, own))
                self.assertGreaterEqual(len(idle), 2, idle)
                daemon_idle = sum(idle) / len(idle)
                self.assertLess(abs(daemon_idle - own_idle), 5 + own_idle * 0.2, (idle, own_idle))
                self.assertGreater(daemon, 0, busy)
                self.assertLess(abs(daemon - own), 5 + own * 0.2, (daemon, own, busy))

                # ---- disk: 8 MiB written by the guest ----
                t2 = time.time()
                con.type_until('dd if=/dev/zero of=/dev/vda bs=1M count=8 conv=fsync '
                               '2>/dev/null; echo dd-$((6*7))', 'dd-42', timeout=30)
                time.sleep(2.5)
                pts = [p for p in self.points(d, 'hu-1') if p['t'] >= t2 - 1]
                # about 1 s apart: rates add up to the bytes (half of
                # them if a loaded machine made the daemon skip samples)
                written = sum(p['disk_wr_bps'] or 0 for p in pts)
                self.assertGreater(written, 3.5 * MIB, pts)
                self.assertLess(written, 16 * MIB, pts)

            # ---- network: 400 datagrams of 1000 bytes to the guest ----
            t3 = time.time()
            self.send_datagrams(400, 1000)
            time.sleep(2.5)
            pts = [p for p in self.points(d, 'hu-1') if p['t'] >= t3 - 1]
            received = sum(p['net_rx_bps'] or 0 for p in pts)
            self.assertGreater(received, 180 * 1000, pts)
            self.assertLess(received, 1000 * 1000, pts)

            # ---- the latest point of every running domain ----
            latest = d.api_json('GET', '/v1/usage')
            self.assertEqual(latest['interval_s'], 1)
            self.assertEqual([x['name'] for x in latest['domains']], ['hu-1'])
            self.assertEqual(sorted(latest['domains'][0]),
                             sorted(KEYS + ['name', 'uuid']))
            self.assertIsNotNone(latest['domains'][0]['cpu_pct'])
            # with the last hour points, for sparklines
            spark = d.api_json('GET', '/v1/usage?points=5')['domains'][0]
            self.assertEqual(len(spark['points']), 5)
            self.assertEqual(sorted(spark['points'][0]), sorted(KEYS))
            # (a sample may land in the file between the two)
            self.assertIn(spark['t'], [p['t'] for p in spark['points']])
            self.assertEqual(d.api('GET', '/v1/usage?points=361').status, 400)

            # ---- vsh domusage ----
            rc, out, err = d.vsh('domusage', 'hu-1')
            lines = out.splitlines()
            self.assertEqual(lines[0].split(), ['Time', 'CPU', '%', 'Memory', 'MiB', 'Disk', 'rd',
                                                'KiB/s', 'Disk', 'wr', 'KiB/s', 'Net', 'rx',
                                                'KiB/s', 'Net', 'tx', 'KiB/s'])
            self.assertTrue(lines[1].startswith('---'))
            self.assertGreaterEqual(len(lines), 2 + 10)
            rc, out, err = d.vsh('domusage', 'hu-1', '--range', 'day')
            self.assertGreaterEqual(len(out.splitlines()), 3)
            d.vsh_fail('domusage', 'hu-1', '--range', 'year')

            # ---- roll-up: 30-sample day points ----
            hour = self.points(d, 'hu-1')
            day = self.usage(d, 'hu-1', 'day')
            self.assertEqual(day['interval_s'], 30)
            self.assertGreaterEqual(len(day['points']), 1)
            for p in day['points']:
                self.assertEqual(p['t'] % 30, 0, p)
                inside = [h['cpu_pct'] for h in hour if p['t'] <= h['t'] < p['t'] + 30 and
                          h['cpu_pct'] is not None]
                if inside:
                    self.assertAlmostEqual(p['cpu_pct'], sum(inside) / len(inside), delta=1.0)

            # ---- the daemon killed: the history stays; a torn record is skipped ----
            before = self.points(d, 'hu-1')
            d.kill()
            path = os.path.join(usage_dir, 'hu-1.usage')
            with open(path, 'r+b') as f:
                data = f.read()
                recs = [(struct.unpack_from('<Qq', data, 128 + i * REC), i)
                        for i in range(HOUR_SLOTS)]
                (seq, t_ms), slot = max(recs)
                self.assertGreater(seq, 10)
                # half a record rewritten: the checksum no longer matches
                f.seek(128 + slot * REC + 40)
                f.write(b'\xff' * 32)
            torn_t = t_ms // 1000
            d.start()
            after = self.points(d, 'hu-1')
            kept = [p for p in before if p['t'] != torn_t]
            self.assertEqual([p['t'] for p in after[:len(kept)]], [p['t'] for p in kept])
            self.assertNotIn(torn_t, [p['t'] for p in after])
            # sampling goes on, with rates from the counters kept in the file
            pts = self.wait_points(d, 'hu-1', lambda p: p[-1]['t'] > time.time() - 2 and
                                   len(p) > len(kept), 20, 'points after the restart')
            new = [p for p in pts if p['t'] > before[-1]['t']]
            self.assertIsNotNone(new[0]['cpu_pct'], new)

            # a clean restart too
            d.restart()
            self.assertGreaterEqual(len(self.points(d, 'hu-1')), len(pts))

            # ---- domrename moves it, undefine removes it ----
            d.vsh('destroy', 'hu-1')
            self.assertEqual(d.api_json('GET', '/v1/usage')['domains'], [])
            n = len(self.points(d, 'hu-1'))
            d.vsh('domrename', 'hu-1', 'hu-3')
            harness.wait_for(lambda: os.path.exists(os.path.join(usage_dir, 'hu-3.usage')), 10,
                             what='hu-3.usage')
            self.assertFalse(os.path.exists(path))
            self.assertEqual(len(self.points(d, 'hu-3')), n)
            d.vsh('undefine', 'hu-3')
            harness.wait_for(lambda: not os.path.exists(os.path.join(usage_dir, 'hu-3.usage')),
                             10, what='hu-3.usage removed')
            # the name defined again starts with no history
            d.define('hu-3', harness.domain_xml('hu-3', memory_mib=128))
            self.assertEqual(self.points(d, 'hu-3'), [])


if __name__ == '__main__':
    harness.main()
