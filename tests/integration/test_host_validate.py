#!/usr/bin/env python3
"""Issue 15, operations: `vsh host-validate` on this host (the KVM probe's
verdict reported with its reason and the fix, one line per check in
virt-host-validate's shape, exit status 1 on a FAIL), `vsh nodeinfo`,
`nodememstats`, `nodecpustats` and `sysinfo` in virsh's shapes with figures
compared with /proc, GET /v1/metrics in Prometheus's text format (parsed by
Debian's python3-prometheus-client and checked strictly by hand) for a
running guest whose counters move with what it does, and the start-up
figures (exec to the first answer; printed, not asserted).

One running guest (hvl-1: a disk and a NIC on a test bridge) and one shut
off (hvl-2). Everything on the host is named with the prefix hvl (bridge
hvl0, tap hvlt0, files in /tmp/hvl-*) and removed at the end."""

import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import harness
from harness import Daemon

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's package, under another Python than Debian's (pyenv): it is
    # pure Python
    sys.path.append('/usr/lib/python3/dist-packages')
    from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                                'bench'))
import startup_time  # noqa: E402

BRIDGE = 'hvl0'
TAP = 'hvlt0'
GUEST_IP = '10.216.0.10'
MIB = 1024 * 1024

CHECK_LINE = re.compile(r'^ *([A-Z]+): Checking (.{60,}?) ?: (PASS|WARN|FAIL)(?: \((.*)\))?$')
FIX_LINE = re.compile(r'^ {8}Fix: (.+)$')


def ip(*args, check=True):
    return subprocess.run(('ip',) + args, check=check, capture_output=True, text=True)


def link_exists(name):
    return os.path.exists('/sys/class/net/%s' % name)


def meminfo():
    out = {}
    with open('/proc/meminfo') as f:
        for line in f:
            k, v = line.split(':', 1)
            out[k] = int(v.split()[0])
    return out


def proc_stat_ns(cpu=None):
    """(user+nice, system+irq+softirq, idle, iowait) in ns of /proc/stat."""
    tick = 10 ** 9 // os.sysconf('SC_CLK_TCK')
    name = 'cpu' if cpu is None else 'cpu%d' % cpu
    with open('/proc/stat') as f:
        for line in f:
            f_ = line.split()
            if f_[0] == name:
                v = [int(x) for x in f_[1:8]]
                return ((v[0] + v[1]) * tick, (v[2] + v[5] + v[6]) * tick, v[3] * tick,
                        v[4] * tick)
    raise AssertionError('no %s in /proc/stat' % name)


def out_lines(out):
    """A command's lines, without the empty line vsh (as virsh) ends with."""
    lines = out.splitlines()
    return lines[:-1] if lines and lines[-1] == '' else lines


def parse_validate(test, out):
    """[(group, check, result, detail, fix)] of host-validate's output,
    every line checked for its shape."""
    checks = []
    for line in out_lines(out):
        m = CHECK_LINE.match(line)
        if m:
            test.assertEqual(line.index(': Checking '), 6, line)
            test.assertGreaterEqual(len(line.split(': ')[1]), len('Checking ') + 60, line)
            checks.append([m.group(1), m.group(2).rstrip(), m.group(3), m.group(4), None])
            continue
        m = FIX_LINE.match(line)
        test.assertTrue(m and checks and checks[-1][2] != 'PASS' and checks[-1][4] is None,
                        'not a host-validate line: %r in\n%s' % (line, out))
        checks[-1][4] = m.group(1)
    return checks


def strict_exposition_check(test, text):
    """Prometheus text format 0.0.4, checked line by line: every sample
    belongs to the family whose # HELP and # TYPE came just before it, no
    family twice, metric and label names valid, label values escaped,
    values floats, the text ends with a newline."""
    test.assertTrue(text.endswith('\n'))
    name_re = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
    sample_re = re.compile(r'^(%s)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
                           r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)?\})? '
                           r'(\S+)$' % name_re)
    seen, current, types = set(), None, {}
    lines = text[:-1].split('\n')
    for i, line in enumerate(lines):
        if line.startswith('# HELP '):
            name = line.split(' ')[2]
            test.assertRegex(name, '^%s$' % name_re)
            test.assertNotIn(name, seen, 'family %s twice' % name)
            seen.add(name)
            current = name
            test.assertRegex(lines[i + 1], r'^# TYPE %s (counter|gauge)$' % re.escape(name))
            types[name] = lines[i + 1].split(' ')[3]
            continue
        if line.startswith('# TYPE '):
            test.assertTrue(lines[i - 1].startswith('# HELP %s ' % line.split(' ')[2]), line)
            continue
        m = sample_re.match(line)
        test.assertIsNotNone(m, 'not a sample line: %r' % line)
        test.assertEqual(m.group(1), current, 'sample outside its family: %r' % line)
        v = float(m.group(3))
        test.assertFalse(math.isnan(v), line)
        if types[current] == 'counter':
            test.assertTrue(current.endswith('_total'), current)
            test.assertGreaterEqual(v, 0, line)
    return seen


def scrape(test, d):
    r = d.api('GET', '/v1/metrics')
    test.assertEqual(r.status, 200, r.body[:500])
    test.assertEqual(r.headers['content-type'].replace(' ', ''),
                     'text/plain;version=0.0.4;charset=utf-8')
    text = r.body.decode('utf-8')
    strict_exposition_check(test, text)
    samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            key = (s.name,) + tuple(sorted(s.labels.items()))
            test.assertNotIn(key, samples)
            samples[key] = s.value
    return samples


def metric(samples, name, **labels):
    return samples[(name,) + tuple(sorted(labels.items()))]


class HostValidate(harness.VirtdTestCase):

    def setUp(self):
        super().setUp()
        base = os.environ.get('VIRTD_TEST_TMPDIR') or '/tmp'
        # Its images are here: QEMU's user must search it (docs/security.md).
        self.tmp = harness.qemu_reachable(tempfile.mkdtemp(prefix='hvl-', dir=base))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def _remove_links(self):
        for name in (TAP, BRIDGE):
            if link_exists(name):
                ip('link', 'del', name, check=False)

    def make_bridge(self):
        self._remove_links()
        ip('link', 'add', BRIDGE, 'type', 'bridge')
        self.addCleanup(self._remove_links)
        ip('addr', 'add', '10.216.0.1/24', 'dev', BRIDGE)
        ip('link', 'set', BRIDGE, 'up')

    def test_startup_time(self):
        """Exec to the first answers, a cold and a warm start (printed)."""
        figures = []
        for i in range(3):
            root = os.path.join(self.tmp, 'start%d' % i)
            os.makedirs(root)
            figures.append(startup_time.one_start(harness.VIRTD_BIN, root))
            figures.append(startup_time.one_start(harness.VIRTD_BIN, root))
        print('\nstart-up, ms from the exec: first answer, GET /v1/domains, probes in '
              '(GET /v1/host)')
        for i, f in enumerate(figures):
            print('  %s  %6.1f %6.1f %6.1f' % ('cold' if i % 2 == 0 else 'warm',
                                               f[0] * 1000, f[1] * 1000, f[2] * 1000))
        for f in figures:
            # what can be asserted: the order of the three
            self.assertLessEqual(f[1], f[2] + 0.5)

    def test_probes_in_background(self):
        """A start the moment the daemon answers: a type='kvm' domain waits
        for the KVM probe and is refused with its reason (where KVM is not
        usable), an autostart domain starts once the probes are in."""
        with Daemon(args=['--dns-forward=none', '--no-default-network']) as d:
            kvm_status = d.api_json('GET', '/v1/host')['kvm']['status']
            d.define('hvl-k', harness.domain_xml('hvl-k', memory_mib=64, dom_type='kvm'))
            d.define('hvl-a', harness.domain_xml('hvl-a', memory_mib=64))
            d.vsh('autostart', 'hvl-a')
            d.stop()
            # no caches: both probes run again
            shutil.rmtree(os.path.join(d.root, 'cache'))
            d.start()
            r = d.api('POST', harness.dom_path('hvl-k', '/start'))
            if kvm_status == 'usable':
                self.assertEqual(r.status, 200, r.body)
            else:
                self.assertApiError(r, 422, 'kvm-unusable')
                self.assertIn("type='qemu'", r.error_message())
                self.assertIn(kvm_status, r.error_message())
            d.wait_state('hvl-a', 'running', timeout=60 * harness.TIMEOUT_SCALE)
            with open(os.path.join(d.root, harness.DAEMON_LOG)) as f:
                self.assertEqual(f.read().count('KVM probe in '), 2)

    def test_host_validate(self):
        with Daemon(args=['--dns-forward=none', '--no-default-network']) as d:
            host = d.api_json('GET', '/v1/host')
            version = d.api_json('GET', '/v1/version')
            rc, out, err = d.vsh('host-validate', check=False)
            checks = parse_validate(self, out)
            by_name = {c[1]: c for c in checks}
            api = d.api_json('GET', '/v1/host/validate')
            self.assertEqual(len(api['checks']), len(checks))
            self.assertEqual(api['pass'] + api['warn'] + api['fail'], len(checks))
            fails = [c for c in checks if c[2] == 'FAIL']
            self.assertEqual(api['fail'], len(fails))
            if fails:
                self.assertEqual(rc, 1, err)
                self.assertRegex(err, r'error: %d host checks? failed' % len(fails))
            else:
                self.assertEqual(rc, 0, err)
            for c in checks:
                if c[2] != 'PASS':
                    self.assertTrue(c[3] and c[4], 'a %s without reason or fix: %s' % (c[2], c))

            # the KVM probe's verdict, with its reason and the fix
            kvm = by_name['if KVM runs guest kernel code at hardware speed']
            if host['kvm']['status'] == 'usable':
                self.assertEqual(kvm[2], 'PASS')
            else:
                self.assertEqual(kvm[2], 'FAIL', kvm)
                self.assertIn(host['kvm']['status'], kvm[3])
                self.assertIn(host['kvm']['detail'], kvm[3])
                self.assertIn("use <domain type='qemu'>", kvm[4])
            with open('/proc/cpuinfo') as f:
                flags = re.search(r'^flags\s*:.*\b(vmx|svm)\b', f.read(), re.M)
            self.assertEqual(by_name['for hardware virtualization'][2],
                             'PASS' if flags else 'FAIL')
            for dev in ('/dev/kvm', '/dev/net/tun', '/dev/vhost-net'):
                c = by_name['if device %s exists' % dev]
                self.assertEqual(c[2] == 'PASS', os.path.exists(dev), c)
            # cgroups: this host's layout
            unified = os.path.exists('/sys/fs/cgroup/cgroup.controllers')
            layout = by_name['for the cgroup layout']
            self.assertEqual(layout[2], 'PASS' if unified else 'WARN', layout)
            if not unified:
                with open('/proc/self/mounts') as f:
                    hybrid = ' cgroup2 ' in f.read()
                self.assertTrue(layout[3].startswith('hybrid' if hybrid else 'legacy'), layout)
                self.assertEqual(by_name["for cgroup 'memory' controller support"][2], 'PASS')
            # IOMMU
            tables = '/sys/firmware/acpi/tables/'
            self.assertEqual(by_name['for device assignment IOMMU support'][2] == 'PASS',
                             os.path.exists(tables + 'DMAR') or os.path.exists(tables + 'IVRS'))
            groups = os.listdir('/sys/kernel/iommu_groups') if os.path.isdir(
                '/sys/kernel/iommu_groups') else []
            self.assertEqual(by_name['if IOMMU is enabled by kernel'][2] == 'PASS', bool(groups))
            # QEMU and its machine types, as the daemon probed them
            qemu = by_name['for QEMU binary %s' % version['qemu_binary']]
            self.assertEqual((qemu[2], qemu[3]), ('PASS', 'QEMU %s' % version['qemu']))
            machines = by_name['for QEMU machine types pc and q35']
            self.assertEqual(machines[2], 'PASS')
            self.assertIn('%d machine types' % len(host['qemu']['machines']), machines[3])
            # networking
            self.assertEqual(by_name['for nftables (NAT and filtering of virtual networks)'][2],
                             'PASS')
            dnsmasq = by_name['for dnsmasq (DHCP and DNS of virtual networks)']
            self.assertRegex(dnsmasq[3], r'^Dnsmasq version \d+\.\d+')
            nf = '/proc/sys/net/bridge/bridge-nf-call-iptables'
            nf_on = os.path.exists(nf) and open(nf).read().strip() != '0'
            self.assertEqual(by_name['for br_netfilter'][2], 'WARN' if nf_on else 'PASS')
            # the pool 'default' of a first start, its free space as statvfs says
            pool = by_name["free space in pool 'default'"]
            target = host['default_pool_target']
            self.assertIn(' in %s' % target, pool[3])
            st = os.statvfs(target)
            m = re.match(r'^([\d.]+) (KiB|MiB|GiB|TiB) free of', pool[3])
            scale = {'KiB': 1 << 10, 'MiB': 1 << 20, 'GiB': 1 << 30, 'TiB': 1 << 40}[m.group(2)]
            self.assertAlmostEqual(float(m.group(1)) * scale, st.f_bavail * st.f_frsize,
                                   delta=max(0.02 * st.f_bavail * st.f_frsize, 64 * MIB))
            # --problems: the same, without the PASS lines
            rc2, out2, _ = d.vsh('host-validate', '--problems', check=False)
            self.assertEqual(rc2, rc)
            self.assertEqual([c for c in parse_validate(self, out2)],
                             [c for c in checks if c[2] != 'PASS'])
            print('\n' + out)

    def assert_between(self, value, before, after, i):
        """@value of counter @i read between the readings @before and
        @after of /proc/stat. user and system only grow; idle and iowait
        may step back a little (proc(5): iowait "is not reliable"), hence
        their second of slack."""
        slack = 0 if i < 2 else 10 ** 9
        lo, hi = min(before[i], after[i]), max(before[i], after[i])
        self.assertTrue(lo - slack <= value <= hi + slack, (i, value, before, after))

    def test_node_commands(self):
        with Daemon(args=['--dns-forward=none', '--no-default-network']) as d:
            # ---- nodeinfo ----
            _, out, _ = d.vsh('nodeinfo')
            lines = out_lines(out)
            labels = [l[:20] for l in lines]
            expected = ['CPU model:', 'CPU(s):', 'CPU frequency:', 'CPU socket(s):',
                        'Core(s) per socket:', 'Thread(s) per core:', 'NUMA cell(s):',
                        'Memory size:']
            if not any(l.startswith('CPU frequency:') for l in lines):
                expected.remove('CPU frequency:')
            self.assertEqual([l.rstrip() for l in labels], expected, out)
            self.assertTrue(all(l[20] == ' ' and l[21] != ' ' for l in lines), out)
            info = {l[:20].strip(): l[21:] for l in lines}
            self.assertEqual(info['CPU model:'], platform.machine())
            with open('/sys/devices/system/cpu/online') as f:
                online = 0
                for part in f.read().strip().split(','):
                    a, _, b = part.partition('-')
                    online += int(b or a) - int(a) + 1
            self.assertEqual(int(info['CPU(s):']), online)
            self.assertEqual(int(info['CPU socket(s):']) * int(info['Core(s) per socket:']) *
                             int(info['Thread(s) per core:']) * int(info['NUMA cell(s):']),
                             online)
            self.assertEqual(info['Memory size:'], '%d KiB' % meminfo()['MemTotal'])
            if 'CPU frequency:' in info:
                self.assertRegex(info['CPU frequency:'], r'^[1-9]\d* MHz$')

            # ---- nodememstats ----
            before = meminfo()
            _, out, _ = d.vsh('nodememstats')
            now = meminfo()
            self.assertEqual([l[:7] for l in out_lines(out)],
                             ['total  ', 'free   ', 'buffers', 'cached '], out)
            mem = {}
            for l in out_lines(out):
                m = re.match(r'^(\w+) *: +(\d+) KiB$', l)
                self.assertTrue(m and len(l) == 7 + 2 + 20 + 4, l)
                mem[m.group(1)] = int(m.group(2))
            self.assertEqual(mem['total'], now['MemTotal'])
            # Other tests run beside this one (guests start, page cache
            # grows): the figure lies between the readings before and after,
            # give or take 256 MiB.
            for k, proc in (('free', 'MemFree'), ('buffers', 'Buffers'), ('cached', 'Cached')):
                lo, hi = sorted((before[proc], now[proc]))
                self.assertTrue(lo - 256 * 1024 <= mem[k] <= hi + 256 * 1024,
                                (k, mem, before, now))
            if os.path.exists('/sys/devices/system/node/node0/meminfo'):
                _, out, _ = d.vsh('nodememstats', '--cell', '0')
                self.assertEqual([l[:7] for l in out_lines(out)], ['total  ', 'free   '])
            _, _, err = d.vsh_fail('nodememstats', '--cell', '999')
            self.assertIn('no NUMA cell 999 on this host', err)

            # ---- nodecpustats ----
            before = proc_stat_ns()
            _, out, _ = d.vsh('nodecpustats')
            after = proc_stat_ns()
            names = ['user:', 'system:', 'idle:', 'iowait:']
            self.assertEqual([l.split()[0] for l in out_lines(out)], names, out)
            for i, l in enumerate(out_lines(out)):
                self.assertEqual(len(l), 15 + 1 + 20, l)
                self.assertEqual(l[:15].rstrip(), names[i])
                self.assert_between(int(l[16:]), before, after, i)
            b0 = proc_stat_ns(0)
            _, out, _ = d.vsh('nodecpustats', '--cpu', '0')
            a0 = proc_stat_ns(0)
            for i, l in enumerate(out_lines(out)):
                self.assert_between(int(l[16:]), b0, a0, i)
            _, _, err = d.vsh_fail('nodecpustats', '--cpu', '4096')
            self.assertIn('no CPU 4096 on this host', err)
            _, out, _ = d.vsh('nodecpustats', '--percent')
            pct = {}
            for l in out_lines(out):
                m = re.match(r'^(\w+): +(\d+\.\d)%$', l)
                self.assertTrue(m and len(l) == 15 + 1 + 6, l)
                pct[m.group(1)] = float(m.group(2))
            self.assertEqual(list(pct), ['usage', 'user', 'system', 'idle', 'iowait'])
            self.assertAlmostEqual(sum(pct[k] for k in ('user', 'system', 'idle', 'iowait')),
                                   100, delta=0.3)
            self.assertAlmostEqual(pct['usage'], pct['user'] + pct['system'], delta=0.2)

            # ---- sysinfo ----
            _, out, _ = d.vsh('sysinfo')
            root = ET.fromstring(out)
            self.assertEqual((root.tag, root.get('type')), ('sysinfo', 'smbios'))
            procs = root.findall('processor')
            self.assertGreaterEqual(len(procs), 1)
            entries = {e.get('name'): e.text for e in procs[0].findall('entry')}
            with open('/proc/cpuinfo') as f:
                cpuinfo = f.read()
            # the values as /proc/cpuinfo has them, less their blanks around
            fields = {}
            for line in cpuinfo.splitlines():
                k, sep, v = line.partition(':')
                if sep:
                    fields.setdefault(k.strip(), set()).add(v.strip())
            self.assertIn(entries['version'], fields['model name'])
            self.assertIn(entries['manufacturer'], fields['vendor_id'])
            vendor = '/sys/class/dmi/id/sys_vendor'
            if os.path.exists(vendor):
                with open(vendor) as f:
                    self.assertEqual(root.find("system/entry[@name='manufacturer']").text,
                                     f.read().strip())
            else:
                self.assertEqual([c.tag for c in root], ['processor'] * len(procs))

    def test_metrics(self):
        self.make_bridge()
        nic = ("    <interface type='bridge'>\n"
               "      <mac address='52:54:00:21:60:01'/>\n"
               "      <source bridge='%s'/><target dev='%s'/><model type='virtio'/>\n"
               "    </interface>\n" % (BRIDGE, TAP))
        disk = os.path.join(self.tmp, 'hvl-1.img')
        with open(disk, 'wb') as f:
            f.truncate(16 * MIB)
        with Daemon(args=['--dns-forward=none', '--no-default-network']) as d:
            d.define('hvl-1', harness.domain_xml('hvl-1', memory_mib=128,
                                                 extra_devices=harness.disk_xml(disk) + nic))
            d.define('hvl-2', harness.domain_xml('hvl-2', memory_mib=96))
            d.start_domain('hvl-1')
            first = scrape(self, d)
            dom = {'domain': 'hvl-1'}
            self.assertEqual(metric(first, 'virtd_domain_state', **dom), 1)
            self.assertEqual(metric(first, 'virtd_domain_state', domain='hvl-2'), 5)
            self.assertEqual(metric(first, 'virtd_domain_memory_max_bytes', **dom), 128 * MIB)
            self.assertEqual(metric(first, 'virtd_domain_memory_max_bytes', domain='hvl-2'),
                             96 * MIB)
            rss = metric(first, 'virtd_domain_memory_rss_bytes', **dom)
            self.assertTrue(8 * MIB < rss < 128 * MIB + 512 * MIB, rss)
            self.assertGreater(metric(first, 'virtd_domain_cpu_time_seconds_total', **dom), 0)
            self.assertGreater(metric(first, 'virtd_domain_block_read_bytes_total',
                                      device='vda', **dom), 0)
            self.assertGreater(metric(first, 'virtd_domain_block_read_requests_total',
                                      device='vda', **dom), 0)
            self.assertIn(('virtd_domain_net_receive_packets_total', ('domain', 'hvl-1'),
                           ('interface', TAP)), first)
            # the daemon's health
            self.assertEqual(metric(first, 'virtd_domains', state='running'), 1)
            self.assertEqual(metric(first, 'virtd_domains', state='shut off'), 1)
            self.assertEqual(metric(first, 'virtd_domains', state='paused'), 0)
            self.assertGreater(metric(first, 'virtd_uptime_seconds'), 0)
            self.assertGreater(metric(first, 'virtd_resident_memory_bytes'), MIB)
            self.assertEqual(metric(first, 'virtd_host_probes_done'), 1)
            kvm = d.api_json('GET', '/v1/host')['kvm']['status']
            self.assertEqual(metric(first, 'virtd_kvm_usable'), 1 if kvm == 'usable' else 0)

            # ---- what the guest does moves its counters ----
            with d.console('hvl-1') as con:
                con.type_until('dd if=/dev/urandom of=/dev/vda bs=64k count=32 conv=fsync '
                               '2>/dev/null; echo wrote-$((30+2))', 'wrote-32', timeout=60)
                con.type_until('ip link set eth0 up && ip addr add %s/24 dev eth0 && '
                               'echo up-$((40+2))' % GUEST_IP, 'up-42')
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, BRIDGE.encode())
                    for _ in range(20):
                        s.sendto(b'hvl-metrics' * 16, (GUEST_IP, 9))
                        time.sleep(0.05)
                finally:
                    s.close()
                con.type_until('i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; '
                               'echo busy-$i-done', 'busy-20000-done', timeout=60)
            second = scrape(self, d)
            dev = dict(device='vda', **dom)
            self.assertGreaterEqual(
                metric(second, 'virtd_domain_block_write_bytes_total', **dev) -
                metric(first, 'virtd_domain_block_write_bytes_total', **dev), 32 * 64 * 1024)
            self.assertGreater(metric(second, 'virtd_domain_block_write_requests_total', **dev),
                               metric(first, 'virtd_domain_block_write_requests_total', **dev))
            net = dict(interface=TAP, **dom)
            self.assertGreaterEqual(
                metric(second, 'virtd_domain_net_receive_packets_total', **net) -
                metric(first, 'virtd_domain_net_receive_packets_total', **net), 20)
            self.assertGreater(metric(second, 'virtd_domain_net_receive_bytes_total', **net),
                               metric(first, 'virtd_domain_net_receive_bytes_total', **net) +
                               20 * 176)
            self.assertGreater(metric(second, 'virtd_domain_cpu_time_seconds_total', **dom),
                               metric(first, 'virtd_domain_cpu_time_seconds_total', **dom))
            # the scrapes and the requests between them are counted
            self.assertGreater(metric(second, 'virtd_api_requests_total'),
                               metric(first, 'virtd_api_requests_total') + 1)
            self.assertGreater(metric(second, 'virtd_uptime_seconds'),
                               metric(first, 'virtd_uptime_seconds'))

            # a name that needs escaping in a label value
            d.define('hvl-"q\\', harness.domain_xml('hvl-"q\\', memory_mib=64))
            third = scrape(self, d)
            self.assertEqual(metric(third, 'virtd_domain_state', domain='hvl-"q\\'), 5)
            r = d.api('POST', '/v1/metrics')
            self.assertEqual(r.status, 405)


if __name__ == '__main__':
    harness.main()
