#!/usr/bin/env python3
"""Statistics (issue 11 item 6): `vsh domstats` of all domains in one
request, in virsh's "Domain: 'NAME'" / "  key=value" shape, each group's
figures plausible and moving with what the guests do (CPU time, disk reads
and writes typed on the console, datagrams sent to a NIC); the --list-*
filters and names; `vsh domblkstat` in virsh's shape, plain and --human;
one stopped QEMU (SIGSTOP) costs only its own block figures, with a
warning, not the whole answer; virsh's errors for a missing domain, a
missing disk and a shut-off domain.

Two running guests (hs-1 with a disk and a NIC on a test bridge, hs-2 with
a disk and 2 vCPUs) and one shut off (hs-3). Everything on the host is
named with the prefix hs (bridge hs0, tap hst0, files in /tmp/hs-*) and
removed at the end, even on failure."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import harness
from harness import Daemon

BRIDGE = 'hs0'
TAP = 'hst0'
MIB = 1024 * 1024
DISK_MIB = 16
GUEST_IP = '10.219.0.10'


def ip(*args, check=True):
    return subprocess.run(('ip',) + args, check=check, capture_output=True, text=True)


def link_exists(name):
    return os.path.exists('/sys/class/net/%s' % name)


def parse_domstats(text):
    """virsh domstats output as {name: {key: value}}, checking its shape."""
    out = {}
    cur = None
    order = []
    for line in text.splitlines():
        m = re.match(r"^Domain: '(.*)'$", line)
        if m:
            cur = out.setdefault(m.group(1), {})
            order.append(m.group(1))
            continue
        if not line:
            cur = None
            continue
        m = re.match(r'^  ([a-z0-9._]+)=(.*)$', line)
        if not m or cur is None:
            raise AssertionError('not a domstats line: %r in\n%s' % (line, text))
        v = m.group(2)
        cur[m.group(1)] = int(v) if re.match(r'^-?\d+$', v) else v
    out['_order'] = order
    return out


def send_datagrams(count):
    """UDP datagrams to the guest, out of the test bridge only
    (SO_BINDTODEVICE)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, BRIDGE.encode())
        for _ in range(count):
            s.sendto(b'hs-stats' * 20, (GUEST_IP, 9))
            time.sleep(0.05)
    finally:
        s.close()


class DomStats(harness.VirtdTestCase):

    def setUp(self):
        super().setUp()
        base = os.environ.get('VIRTD_TEST_TMPDIR') or '/tmp'
        # Its images are here: QEMU's user must search it (docs/security.md).
        self.tmp = harness.qemu_reachable(tempfile.mkdtemp(prefix='hs-', dir=base))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        for name in (TAP, BRIDGE):
            if link_exists(name):
                ip('link', 'del', name, check=False)
        ip('link', 'add', BRIDGE, 'type', 'bridge')
        self.addCleanup(self._remove_links)
        ip('addr', 'add', '10.219.0.1/24', 'dev', BRIDGE)
        ip('link', 'set', BRIDGE, 'up')

    def _remove_links(self):
        for name in (TAP, BRIDGE):
            if link_exists(name):
                ip('link', 'del', name, check=False)

    def disk(self, name):
        path = os.path.join(self.tmp, name + '.img')
        with open(path, 'wb') as f:
            f.truncate(DISK_MIB * MIB)
        return path

    def stats(self, d, *args):
        rc, out, err = d.vsh('domstats', *args)
        return parse_domstats(out), err

    def test_domstats(self):
        nic = ("    <interface type='bridge'>\n"
               "      <mac address='52:54:00:21:90:01'/>\n"
               "      <source bridge='%s'/><target dev='%s'/><model type='virtio'/>\n"
               "    </interface>\n" % (BRIDGE, TAP))
        with Daemon(args=['--dns-forward=none']) as d:
            xml1 = harness.domain_xml('hs-1', memory_mib=192, cmdline_extra='virtd.status=1',
                                      extra_devices=harness.disk_xml(self.disk('hs-1')) + nic)
            # <currentMemory> below <memory>: balloon.current is the former
            xml1 = xml1.replace("<currentMemory unit='MiB'>192<", "<currentMemory unit='MiB'>160<")
            d.define('hs-1', xml1)
            d.define('hs-2', harness.domain_xml('hs-2', memory_mib=128, vcpus=2,
                                                extra_devices=harness.disk_xml(self.disk('hs-2'))))
            # no balloon: balloon.current is all of <memory>, as libvirt
            xml3 = harness.domain_xml('hs-3', memory_mib=128, extra_devices=(
                harness.disk_xml(self.disk('hs-3')) + "\n    <memballoon model='none'/>"))
            d.define('hs-3', xml3.replace("<currentMemory unit='MiB'>128<",
                                          "<currentMemory unit='MiB'>96<"))
            d.start_domain('hs-1')
            d.start_domain('hs-2')
            harness.wait_for(lambda: (d.guest_status('hs-1') or {}).get('disks') == ['vda'],
                             60, what='disks=vda in the status of hs-1')

            # ---- all domains, all groups, one request ----
            s, _ = self.stats(d)
            self.assertEqual(s['_order'], ['hs-1', 'hs-2', 'hs-3'])
            a, b, c = s['hs-1'], s['hs-2'], s['hs-3']
            keys = list(a)
            # virsh's group order
            self.assertEqual(keys[:5], ['state.state', 'state.reason', 'cpu.time', 'cpu.user',
                                        'cpu.system'])
            self.assertEqual((a['state.state'], a['state.reason']), (1, 1))
            self.assertGreater(a['cpu.time'], 0)
            self.assertEqual(a['cpu.time'], a['cpu.user'] + a['cpu.system'])
            self.assertEqual(a['balloon.current'], 160 * 1024)
            self.assertEqual(a['balloon.maximum'], 192 * 1024)
            self.assertGreater(a['balloon.rss'], 8 * 1024)
            self.assertLess(a['balloon.rss'], 192 * 1024 + 512 * 1024)
            self.assertEqual((b['vcpu.current'], b['vcpu.maximum']), (2, 2))
            self.assertEqual((b['vcpu.0.state'], b['vcpu.1.state']), (1, 1))
            self.assertIn('vcpu.1.time', b)
            self.assertIn('vcpu.0.wait', b)
            self.assertEqual(a['net.count'], 1)
            self.assertEqual(a['net.0.name'], TAP)
            for k in ('rx.bytes', 'rx.pkts', 'rx.errs', 'rx.drop', 'tx.bytes', 'tx.pkts',
                      'tx.errs', 'tx.drop'):
                self.assertIn('net.0.' + k, a)
            self.assertEqual(b['net.count'], 0)
            self.assertEqual(a['block.count'], 1)
            self.assertEqual(a['block.0.name'], 'vda')
            self.assertEqual(a['block.0.path'], os.path.join(self.tmp, 'hs-1.img'))
            # the guest's kernel read the partition table at least
            self.assertGreater(a['block.0.rd.reqs'], 0)
            self.assertGreater(a['block.0.rd.bytes'], 0)
            self.assertEqual(a['block.0.capacity'], DISK_MIB * MIB)
            self.assertEqual(a['block.0.physical'], DISK_MIB * MIB)
            for k in ('rd.times', 'wr.reqs', 'wr.bytes', 'wr.times', 'fl.reqs', 'fl.times',
                      'allocation'):
                self.assertIn('block.0.' + k, a)
            # shut off: its state, and what its definition says
            self.assertEqual(c['state.state'], 5)
            self.assertEqual((c['balloon.current'], c['balloon.maximum']), (131072, 131072))
            self.assertEqual(sorted(c), sorted([
                'state.state', 'state.reason', 'balloon.current', 'balloon.maximum',
                'vcpu.current', 'vcpu.maximum', 'block.count', 'block.0.name', 'block.0.path',
                'block.0.allocation', 'block.0.capacity', 'block.0.physical']))

            # ---- figures that move ----
            # an idle guest's vCPUs sleep: make hs-2's work for a while
            with d.console('hs-2') as con:
                con.type_until('i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; '
                               'echo busy-$i-done', 'busy-20000-done', timeout=60)
            # An idle guest's QEMU uses little CPU and /proc counts in 10 ms
            # ticks: give hs-1's figure time to move (seconds, not a bound).
            deadline = time.monotonic() + 30
            while True:
                s2, _ = self.stats(d, '--cpu-total', '--vcpu')
                if (s2['hs-1']['cpu.time'] > a['cpu.time'] or
                        time.monotonic() > deadline):
                    break
                time.sleep(0.5)
            self.assertGreater(s2['hs-1']['cpu.time'], a['cpu.time'])
            self.assertGreater(s2['hs-2']['vcpu.0.time'] + s2['hs-2']['vcpu.1.time'],
                               b['vcpu.0.time'] + b['vcpu.1.time'])
            self.assertEqual(sorted(s2['hs-3']), ['vcpu.current', 'vcpu.maximum'])

            # the guest's NIC up with an address (typed on its console), then
            # datagrams from the host: what it receives, and the ARP answers
            # it sends
            with d.console('hs-1') as con:
                con.type_until('ip link set eth0 up && ip addr add %s/24 dev eth0 && '
                               'echo up-$((40+2))' % GUEST_IP, 'up-42')
                before = self.stats(d, '--interface', 'hs-1')[0]['hs-1']
                send_datagrams(20)
                after = self.stats(d, '--interface', 'hs-1')[0]['hs-1']
            self.assertGreaterEqual(after['net.0.rx.pkts'] - before['net.0.rx.pkts'], 20,
                                    (before, after))
            self.assertGreater(after['net.0.rx.bytes'], before['net.0.rx.bytes'] + 20 * 160)
            self.assertGreater(after['net.0.tx.pkts'], before['net.0.tx.pkts'], (before, after))

            # ---- the group flags and the filters ----
            only_state, _ = self.stats(d, '--state')
            for name in ('hs-1', 'hs-2', 'hs-3'):
                self.assertEqual(sorted(only_state[name]), ['state.reason', 'state.state'])
            self.assertEqual(self.stats(d, '--state', 'hs-2', 'hs-3')[0]['_order'],
                             ['hs-2', 'hs-3'])
            self.assertEqual(self.stats(d, '--state', '--list-running')[0]['_order'],
                             ['hs-1', 'hs-2'])
            self.assertEqual(self.stats(d, '--state', '--list-active')[0]['_order'],
                             ['hs-1', 'hs-2'])
            self.assertEqual(self.stats(d, '--state', '--list-shutoff')[0]['_order'], ['hs-3'])
            self.assertEqual(self.stats(d, '--state', '--list-inactive')[0]['_order'], ['hs-3'])
            self.assertEqual(self.stats(d, '--state', '--list-paused')[0]['_order'], [])
            self.assertEqual(self.stats(d, '--state', '--list-transient')[0]['_order'], [])

            # ---- the API: one request, the same figures ----
            ans = d.api_json('GET', '/v1/domain-stats?groups=state,block&names=hs-1,hs-3')
            self.assertEqual([r['name'] for r in ans['domains']], ['hs-1', 'hs-3'])
            self.assertEqual(ans['domains'][0]['stats']['block.0.name'], 'vda')
            one = d.api_json('GET', harness.dom_path('hs-2', '/stats?groups=vcpu'))
            self.assertEqual(one['name'], 'hs-2')
            self.assertEqual(one['stats']['vcpu.current'], 2)
            r = d.api('GET', '/v1/domain-stats?groups=state,nonsense')
            self.assertEqual(r.error_code(), 'invalid-argument', r.body)
            self.assertIn("'nonsense'", r.error_message())

            # ---- domblkstat ----
            rc, out, err = d.vsh('domblkstat', 'hs-1', 'vda')
            fields = [l.split() for l in out.splitlines() if l.strip()]
            self.assertEqual([f[:2] for f in fields], [
                ['vda', 'rd_req'], ['vda', 'rd_bytes'], ['vda', 'wr_req'], ['vda', 'wr_bytes'],
                ['vda', 'flush_operations'], ['vda', 'rd_total_times'],
                ['vda', 'wr_total_times'], ['vda', 'flush_total_times']], out)
            blk0 = {f[1]: int(f[2]) for f in fields}
            self.assertGreater(blk0['rd_bytes'], 0)
            with d.console('hs-1') as con:
                con.type_until('dd if=/dev/zero of=/dev/vda bs=64k count=16 oflag=direct '
                               '2>/dev/null; echo dd-rc-$?-done', 'dd-rc-0-done')
            rc, out, err = d.vsh('domblkstat', 'hs-1', 'vda')
            blk1 = {l.split()[1]: int(l.split()[2]) for l in out.splitlines() if l.strip()}
            self.assertGreaterEqual(blk1['wr_bytes'] - blk0['wr_bytes'], 16 * 64 * 1024,
                                    (blk0, blk1))
            self.assertGreaterEqual(blk1['wr_req'] - blk0['wr_req'], 16, (blk0, blk1))
            # --human: virsh's labels, padded to 31
            rc, out, err = d.vsh('domblkstat', 'hs-1', 'vda', '--human')
            lines = out.splitlines()
            self.assertEqual(lines[0], 'Device: vda')
            self.assertEqual(lines[1], ' %-31s %d' % ('number of read operations:',
                                                      blk1['rd_req']))
            self.assertRegex(lines[4], r'^ number of bytes written: +\d+$')
            # no device: every disk summed, lines without a name
            rc, out, err = d.vsh('domblkstat', 'hs-1')
            self.assertTrue(out.startswith(' rd_req '), out)

            # ---- errors, as virsh ----
            rc, out, err = d.vsh('domstats', 'hs-none', check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn("error: failed to get domain 'hs-none'", err)
            self.assertNotIn('Domain:', out)
            rc, out, err = d.vsh('domblkstat', 'hs-none', check=False)
            self.assertIn("error: failed to get domain 'hs-none'", err)
            rc, out, err = d.vsh('domblkstat', 'hs-1', 'vdz', check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn('error: invalid argument: invalid path: vdz', err)
            rc, out, err = d.vsh('domblkstat', 'hs-3', 'vda', check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn('Requested operation is not valid: domain is not running', err)
            rc, out, err = d.vsh('domblkstat', 'hs-3', check=False)
            self.assertIn('Requested operation is not valid: domain is not running', err)

            # ---- a QEMU that does not answer costs only its block figures ----
            pid2 = d.qemu_pid('hs-2')
            os.kill(pid2, signal.SIGSTOP)
            try:
                t0 = time.monotonic()
                rc, out, err = d.vsh('domstats', '--block', '--state')
                took = time.monotonic() - t0
            finally:
                os.kill(pid2, signal.SIGCONT)
            s3 = parse_domstats(out)
            self.assertLess(took, 10)
            self.assertIn('block.0.rd.bytes', s3['hs-1'])
            self.assertEqual(s3['hs-2']['block.0.name'], 'vda')
            self.assertNotIn('block.0.rd.bytes', s3['hs-2'])
            self.assertIn("warning: domain 'hs-2': block I/O figures omitted", err)
            # and once it runs again, they are back
            harness.wait_for(
                lambda: 'block.0.rd.bytes' in self.stats(d, '--block', 'hs-2')[0]['hs-2'],
                20, what='block figures of hs-2 after SIGCONT')


if __name__ == '__main__':
    harness.main()
