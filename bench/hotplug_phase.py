"""The hot-plug and domstats figures of bench/run.py (issue 11), for both
sides, on the same guest and the same domain XML (see bench/README.md,
"Hot-plug and domstats figures").

- NIC and disk hot-plug: one running guest per side (run.py's template,
  with virtd.status=PERIOD on its command line so that its STATUS line,
  `disks=... nics=...`, comes every PERIOD seconds instead of every 2 s).
  The clock starts as `attach-interface` / `attach-disk` is run and stops
  when the guest's serial file has the first STATUS line that lists one
  device more than before; then `detach-interface` / `detach-disk` until a
  STATUS line lists the devices of before again. Median of --hotplug-runs,
  the sides taking turns run by run. The NIC goes on an isolated network
  of each side (a bridge, no <ip>, no <forward>: no dnsmasq, no address, no
  traffic anywhere); the disk is a raw file in the run's temp dir.
- domstats: --domstats-domains (100) small domains started paused on one
  side (QEMU runs, the guest does not), then `domstats` (no arguments: all
  domains, all groups) timed --domstats-runs times; on virtd also the raw
  API call GET /v1/domain-stats over the UNIX socket (a new connection
  each time, as a client pays). The domains are destroyed and undefined
  before the other side starts its own (memory).
"""

import concurrent.futures
import http.client
import json
import os
import re
import socket
import subprocess
import time

FIGURES = [
    # key, label, unit
    ('hp_nic_attach', 'attach-interface -> NIC seen in guest, median of {runs}', 's'),
    ('hp_disk_attach', 'attach-disk -> disk seen in guest, median of {runs}', 's'),
    ('hp_domstats', 'domstats, {ndom} running domains, median of {dsruns}', 'ms'),
]
INFO_FIGURES = [
    ('hp_nic_detach', 'detach-interface -> NIC gone in guest', 's'),
    ('hp_disk_detach', 'detach-disk -> disk gone in guest', 's'),
    ('hp_nic_attach_cli', '`attach-interface` command returns', 'ms'),
    ('hp_nic_detach_cli', '`detach-interface` command returns', 'ms'),
    ('hp_disk_attach_cli', '`attach-disk` command returns', 'ms'),
    ('hp_disk_detach_cli', '`detach-disk` command returns', 'ms'),
    ('hp_domstats_api', 'GET /v1/domain-stats (raw API), {ndom} domains', 'ms'),
    ('hp_domstats_start', 'start --paused of the {ndom} domains (batches)', 's'),
]
GOALS = [
    ('hp_nic_attach', 'ratio', 1.0, 'NIC hot-plug -> seen in guest: no slower'),
    ('hp_disk_attach', 'ratio', 1.0, 'disk hot-plug -> seen in guest: no slower'),
    ('hp_domstats', 'abs_virtd', 0.050, 'domstats of N running domains < 50 ms'),
    ('hp_domstats_api', 'abs_virtd', 0.050, 'GET /v1/domain-stats, N domains < 50 ms'),
]

PARTS = ('nic', 'disk', 'domstats')

STATUS_RE = re.compile(rb'VIRTD-GUEST-STATUS cpus=\d+ mem_kib=\d+ disks=(\S*) nics=(\S*)')

BASE_DISK_XML = ("    <disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                 "<source file='{path}'/><target dev='vda' bus='virtio'/></disk>\n")

NET_XML = "<network>\n  <name>{name}</name>\n  <bridge name='{bridge}'/>\n</network>\n"


class StatusWatch:
    """Reads a guest's serial file as it grows and hands out its STATUS
    lines, each with the time it was read (polled every 10 ms)."""

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.buf = b''

    def skip(self):
        """Forget what the file holds so far: only lines written from now
        on count."""
        try:
            self.pos = os.path.getsize(self.path)
        except OSError:
            self.pos = 0
        self.buf = b''

    def _read(self):
        try:
            with open(self.path, 'rb') as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            return []
        now = time.perf_counter()
        self.pos += len(data)
        self.buf += data
        *lines, self.buf = self.buf.split(b'\n')
        out = []
        for l in lines:
            m = STATUS_RE.search(l)
            if m:
                out.append((now, set(filter(None, m.group(1).split(b','))),
                            set(filter(None, m.group(2).split(b',')))))
        return out

    def wait(self, pred, timeout, what):
        """(time, disks, nics) of the first STATUS line for which
        pred(disks, nics) holds."""
        deadline = time.monotonic() + timeout
        while True:
            for t, disks, nics in self._read():
                if pred(disks, nics):
                    return t, disks, nics
            if time.monotonic() > deadline:
                raise RuntimeError('%s: not seen in %s after %d s' % (what, self.path, timeout))
            time.sleep(0.01)


def one_more(before):
    """A predicate: exactly one name more than @before (and all of them)."""
    return lambda now: before < now and len(now - before) == 1


class HotplugPhase:
    def __init__(self, bench, run_log, wait_marker, domain_xml):
        self.b = bench
        self.a = bench.args
        self.log = run_log
        self.wait_marker = wait_marker       # (path, marker bytes, timeout) -> perf_counter time
        self.domain_xml = domain_xml         # run.py's one template
        self.token = bench.prefix.split('-')[1]
        self.networks = {}                   # side key -> [network names]
        self.bridges = []
        self.parts = [p for p in self.a.hotplug_parts.split(',') if p]

    # ---- host resources

    def define_network(self, side):
        name = self.b.prefix + side.key + '-hpnet'
        bridge = '%s%s%sh' % (self.b.prefix.split('-')[0][:3], self.token, side.key[0])
        path = os.path.join(side.xml_dir, name + '.net.xml')
        with open(path, 'w') as f:
            f.write(NET_XML.format(name=name, bridge=bridge))
        self.networks.setdefault(side.key, []).append(name)
        self.bridges.append(bridge)
        side.cli('net-define', path)
        side.cli('net-start', name)
        return name

    def define_guest(self, side, name, memory_mib=None, cmdline=None, devices=''):
        xml = self.domain_xml(name, side.serial_path(name))
        if devices:
            xml = xml.replace('  </devices>', devices + '  </devices>', 1)
        if cmdline:
            xml = xml.replace('</cmdline>', ' ' + cmdline + '</cmdline>', 1)
        if memory_mib:
            xml = re.sub(r"(<(?:current)?[mM]emory unit='MiB'>)\d+(<)",
                         r'\g<1>%d\g<2>' % memory_mib, xml)
        path = side.xml_path(name)
        with open(path, 'w') as f:
            f.write(xml)
        side.cli('define', path)

    # ---- the figures

    def run(self):
        if 'nic' in self.parts or 'disk' in self.parts:
            try:
                self.run_hotplug()
            except Exception as e:
                self.b.error(None, 'hot-plug figures', e)
        if 'domstats' in self.parts:
            for side in self.b.sides:
                try:
                    self.run_domstats(side)
                except Exception as e:
                    self.b.error(side, 'domstats figures', e)

    def run_hotplug(self):
        b, a = self.b, self.a
        guest = b.prefix + 'hp'
        ready = {}
        for side in b.sides:
            try:
                net = self.define_network(side) if 'nic' in self.parts else None
                # A first disk (vda, not booted from: the kernel is given
                # directly), so that the hot-plugged vdb is a second disk
                # on both sides (virtd refuses to detach the only disk of a
                # running guest without --boot-disk).
                base = self.image(side, 'vda', 1)
                self.define_guest(side, guest, cmdline='virtd.status=%s' % a.hotplug_status,
                                  devices=BASE_DISK_XML.format(path=base))
                serial = side.serial_path(guest)
                if os.path.exists(serial):
                    os.unlink(serial)
                side.cli('start', guest)
                ready[side.key] = (side, net, StatusWatch(serial))
            except Exception as e:
                b.error(side, 'hot-plug guest set-up', e)
        for side, _net, watch in ready.values():
            self.wait_marker(watch.path, b'VIRTD-GUEST-READY', a.boot_timeout)
            # The guest reacts to a hot-plug with its own CPU: under TCG, on
            # a busy host, its scheduling priority shows in these figures.
            if a.hotplug_same_priority and side.key == 'virtd':
                for q in qemu_sched(guest, side.key):
                    with open('/proc/%d/autogroup' % q['pid'], 'w') as f:
                        f.write('0')
            sched = qemu_sched(guest, side.key)
            b.record('hp_guest_sched', side, value=sched)
            self.log('%s: hot-plug guest QEMU: %s' % (side.label, sched))
        disk_file = {side.key: self.image(side, 'vdb', 16) for side, _n, _w in ready.values()}
        mac = '52:54:00:%s:%s:%s' % (self.token[:2], self.token[2:4], self.token[4:6])
        kinds = [k for k in ('nic', 'disk') if k in self.parts]
        failed = set()
        for i in range(a.hotplug_runs):
            for side in b.order(i):
                if side.key not in ready:
                    continue
                _s, net, watch = ready[side.key]
                for kind in kinds:
                    if (side.key, kind) in failed:
                        continue
                    try:
                        if kind == 'nic':
                            att = ('attach-interface', guest, 'network', net, '--model', 'virtio',
                                   '--mac', mac, '--live')
                            det = ('detach-interface', guest, 'network', '--mac', mac, '--live')
                        else:
                            att = ('attach-disk', guest, disk_file[side.key], 'vdb',
                                   '--subdriver', 'raw', '--live')
                            det = ('detach-disk', guest, 'vdb', '--live')
                        self.cycle(side, watch, kind, att, det, i)
                    except Exception as e:
                        failed.add((side.key, kind))
                        b.error(side, '%s hot-plug run %d' % (kind, i + 1), e)
                        if not side.alive():
                            b.error(side, 'the daemon died; its log ends with',
                                    side.log_tail(30))
        for side, _n, _w in ready.values():
            side.cli('destroy', guest, check=False)
            side.cli('undefine', guest, check=False)

    def cycle(self, side, watch, kind, att, det, i):
        """One attach -> seen, detach -> gone; records the four figures."""
        a = self.a
        idx = 1 if kind == 'nic' else 0       # which set of the STATUS line
        # The devices now: the next STATUS line.
        watch.skip()
        _t, *sets = watch.wait(lambda d, n: True, 30, 'a STATUS line')
        before = sets[idx]
        watch.skip()
        t0 = time.perf_counter()
        r = side.cli(*att)
        t_seen, *sets = watch.wait(lambda *s: one_more(before)(s[idx]), a.hotplug_timeout,
                                   '%s attached' % kind)
        new = (sets[idx] - before).pop().decode()
        watch.skip()
        t1 = time.perf_counter()
        r2 = side.cli(*det)
        t_gone, *_s = watch.wait(lambda *s: s[idx] == before, a.hotplug_timeout,
                                 '%s detached' % kind)
        self.b.record('hp_%s_attach' % kind, side, samples=[t_seen - t0])
        self.b.record('hp_%s_attach_cli' % kind, side, samples=[r.seconds])
        self.b.record('hp_%s_detach' % kind, side, samples=[t_gone - t1])
        self.b.record('hp_%s_detach_cli' % kind, side, samples=[r2.seconds])
        self.log('%s: %s run %d/%d: attach returned %.3f s, %s seen %.2f s after it; '
                 'detach returned %.3f s, gone after %.2f s'
                 % (side.label, kind, i + 1, a.hotplug_runs, r.seconds, new, t_seen - t0,
                    r2.seconds, t_gone - t1))
        # Let the guest settle (its kernel finishes the unplug, udhcpc etc.)
        time.sleep(0.3)

    def image(self, side, what, mib):
        """A sparse raw file of @mib MiB in the run's temp dir."""
        p = os.path.join(self.b.tmp, '%shp-%s-%s.img' % (self.b.prefix, side.key, what))
        with open(p, 'wb') as f:
            f.truncate(mib << 20)
        return p

    def run_domstats(self, side):
        b, a = self.b, self.a
        n = a.domstats_domains
        names = [b.prefix + 'ds%03d' % i for i in range(n)]
        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
                list(ex.map(lambda nm: self.define_guest(side, nm, memory_mib=64), names))
            t0 = time.perf_counter()
            # Batches: a few start commands at once (each QEMU starts while
            # the daemon handles the next ones).
            with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
                list(ex.map(lambda nm: side.cli('start', '--paused', nm, timeout=300), names))
            b.record('hp_domstats_start', side, value=time.perf_counter() - t0)
            self.log('%s: %d domains started paused in %.1f s'
                     % (side.label, n, time.perf_counter() - t0))
            time.sleep(a.idle)
            cli_err = api_err = None
            for i in range(a.domstats_runs):
                # The CLI and the raw API call are measured apart: one may
                # be missing from the build while the other is there.
                if cli_err is None:
                    try:
                        r = side.cli('domstats')
                        count = sum(1 for l in r.out.splitlines() if l.startswith('Domain:'))
                        if count < n:
                            raise RuntimeError('domstats listed %d domains, not %d:\n%s'
                                               % (count, n, r.out[:2000]))
                        b.record('hp_domstats', side, samples=[r.seconds], domains_listed=count,
                                 output_bytes=len(r.out), sample_output=r.out[:3000])
                    except Exception as e:
                        cli_err = e
                if side.key == 'virtd' and api_err is None:
                    try:
                        secs, status, body = self.api_get(side.sock, '/v1/domain-stats')
                        if status != 200:
                            raise RuntimeError('GET /v1/domain-stats: HTTP %d: %s'
                                               % (status, body[:500]))
                        b.record('hp_domstats_api', side, samples=[secs], body_bytes=len(body),
                                 domains_in_body=json_count(body))
                    except Exception as e:
                        api_err = e
            ms = lambda k: ('%.1f ms' % (1000 * b.value(k, side.key))
                            if b.value(k, side.key) is not None else '-')
            self.log('%s: domstats of %d domains: median %s%s'
                     % (side.label, n, ms('hp_domstats'),
                        '; GET /v1/domain-stats median %s' % ms('hp_domstats_api')
                        if side.key == 'virtd' else ''))
            for e in (cli_err, api_err):
                if e is not None:
                    b.error(side, 'domstats figures', e)
        finally:
            def gone(nm):
                side.cli('destroy', nm, check=False, timeout=120)
                side.cli('undefine', nm, check=False, timeout=120)
            with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
                list(ex.map(gone, names))

    @staticmethod
    def api_get(sock_path, path):
        """Seconds for one GET on a new connection to the UNIX socket, from
        connect to the last byte of the body."""
        t0 = time.perf_counter()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        try:
            s.connect(sock_path)
            conn = http.client.HTTPConnection('localhost', timeout=60)
            conn.sock = s
            conn.request('GET', path)
            r = conn.getresponse()
            body = r.read()
            return time.perf_counter() - t0, r.status, body
        finally:
            s.close()

    # ---- clean-up

    def side_cleanup(self, side):
        """This phase's networks on @side: destroyed, undefined."""
        if not side.alive():
            return
        for n in self.networks.get(side.key, []):
            side.cli('net-destroy', n, check=False, timeout=60)
            side.cli('net-undefine', n, check=False, timeout=60)

    def cleanup(self):
        """After the daemons have stopped: bridges of this phase still there."""
        for br in self.bridges:
            if os.path.exists('/sys/class/net/' + br):
                self.log('warning: removing leftover bridge %s' % br)
                subprocess.run(['ip', 'link', 'del', br], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        self.bridges = []


def qemu_sched(name, side_key):
    """nice, autogroup and cgroup of @side_key's QEMU whose argv names
    @name (both sides use the same names; libvirt's QEMUs are in its
    .libvirt-qemu cgroups, virtd's are not)."""
    out = []
    for e in os.listdir('/proc'):
        if not e.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % e, 'rb') as f:
                argv = f.read().split(b'\0')
            if not argv or b'qemu-system' not in argv[0] or \
                    not any(name.encode() in x for x in argv):
                continue
            with open('/proc/%s/stat' % e) as f:
                stat = f.read()
            nice = int(stat[stat.rindex(')') + 2:].split()[16])
            try:
                with open('/proc/%s/autogroup' % e) as f:
                    ag = f.read().strip()
            except OSError:
                ag = None
            with open('/proc/%s/cgroup' % e) as f:
                cg = f.read().strip().splitlines()[-1]
            if ('.libvirt-qemu' in cg) != (side_key == 'libvirt'):
                continue
            out.append({'pid': int(e), 'nice': nice, 'autogroup': ag, 'cgroup': cg})
        except (OSError, ValueError, IndexError):
            continue
    return out


def json_count(body):
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if isinstance(doc, list):
        return len(doc)
    if isinstance(doc, dict):
        for v in doc.values():
            if isinstance(v, list):
                return len(v)
    return None
