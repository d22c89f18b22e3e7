"""The live migration figures of bench/run.py (issue 13): an idle 512 MiB
guest moved between two QEMUs on this machine, shared disk image, TCG
(see bench/README.md, "Live migration figures").

- The limit ("QEMU/QMP" column): two QEMUs driven directly over QMP, no
  daemon. Their command line is virtd's own for the same domain, read from
  the argv header of the source daemon's log/NAME.log, with the name, QMP
  socket, pid file, serial file and disk image replaced; the destination
  gets the same argv plus `-incoming defer`. The same capabilities and
  parameters as virtd's migration (RAW_CAPS, RAW_PARAMS below, taken from
  src/daemon/migration/migration-qemu.c), `migrate-incoming
  tcp:127.0.0.1:0`, `migrate`; once both ends say "completed", `cont` on
  the destination. Total: `migrate` sent -> `cont` answered. Downtime:
  the source's query-migrate "downtime". Guest-visible gap: the
  destination's RESUME event minus the source's STOP event (QEMU's own
  event timestamps, same host clock, microseconds).
- Ours ("virtd+vsh" column): two virtd daemons (the run's, and a second one
  with its own root), the same guest defined and started on the first,
  `vsh -c SRC migrate --live --persistent NAME unix:///ROOT_B/virtd.sock`.
  Total: the command launched -> the destination's API reports the domain
  running (GET /v1/domains/NAME every 10 ms over one kept-alive
  connection). Downtime: the source's `domjobinfo NAME --completed`
  "Total downtime" (QEMU's figure; the destination's says 0 at bcb073d).
  Gap: the source daemon's log line "-> paused" to the destination
  daemon's "-> running" (ms resolution).
  Why --persistent: the source keeps the definition ("shut off
  (migrated)") and with it the completed job's figures; a transient guest
  leaves nothing to ask on the source. The definition left on the other
  end by the previous run is undefined first (untimed): virtd refuses a
  migration to a daemon where the name is defined, even inactive.

Each run migrates the guest to the other end (ping-pong); sides alternate
run by run. Every migration is checked: the guest's counter goes on past
the last value seen before it, with the same boot_id (it did not boot).
"""

import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time

import transport_phase

FIGURES = [
    # key, label, unit
    ('mig_total', 'live migration 512 MiB: total, median of {runs}', 'ms'),
    ('mig_downtime', 'live migration: downtime, median of {runs}', 'ms'),
]
INFO_FIGURES = [
    ('mig_gap', 'guest-visible gap (paused -> running), median', 'ms'),
    ('mig_total_min', 'migration total, min', 'ms'),
    ('mig_total_max', 'migration total, max', 'ms'),
    ('mig_downtime_min', 'downtime, min', 'ms'),
    ('mig_downtime_max', 'downtime, max', 'ms'),
    ('mig_launch_total', 'total incl. launching the dest. QEMU (QMP side)', 'ms'),
    ('mig_cmd', '`vsh migrate` command returns', 'ms'),
    ('mig_counting', 'migrate -> guest counting on the destination', 's'),
    ('mig_qemu_total', 'QEMU\'s "total-time" / domjobinfo "Time elapsed"', 'ms'),
    ('mig_ram_mib', 'RAM transferred (QEMU\'s ram.transferred)', 'MiB'),
]
# The figures whose left column is the QMP side (key 'qemu'), not libvirt.
LEFT_KEY = {k: 'qemu' for k, _l, _u in FIGURES + INFO_FIGURES}
PARTS = ('live', 'transport')
GOALS = [
    ('mig_total', 'ratio', 1.2, 'live migration total <= 1.2x QEMU over QMP'),
    # The same, the QMP side's launch of its destination QEMU counted too
    # (ours launches one inside its total).
    ('mig_launch_total', 'ratio', 1.2, 'the same, QMP side incl. its dest. QEMU launch'),
    ('mig_downtime', 'abs_virtd', 0.100, 'live migration downtime < 100 ms'),
]

# What virtd's migration sends (src/qemu/qemu-migration.c, i13-migrate at
# 6f4d8d9: vd_qemu_migration_caps_args, _params_args with no --bandwidth
# and no migrate-setmaxdowntime), mirrored on the QMP side: the same
# capabilities, the same downtime limit (QEMU's default, 300 ms) and
# bandwidth (unlimited: INT64_MAX bytes/s; QEMU's own default would be
# 128 MiB/s). The parameters go to the source.
RAW_CAPS_SOURCE = {'events': True, 'postcopy-ram': False, 'auto-converge': False}
RAW_CAPS_DEST = {'events': True, 'postcopy-ram': False}
RAW_PARAMS = {'downtime-limit': 300, 'max-bandwidth': 2 ** 63 - 1}

MIB = 1 << 20
COUNTER_RE = re.compile(rb'VIRTD-GUEST-COUNTER n=(\d+) boot_id=(\S+?)\r?\n')
LOG_TS_RE = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) ')
UNAVAILABLE_RE = re.compile(r'unknown command|not supported|not implemented|unsupported|'
                            r'no such option|unknown option|HTTP 404|HTTP 501|'
                            r'Not Found|Not Implemented', re.I)


class Unavailable(Exception):
    pass


class QmpError(Exception):
    pass


def counters(path):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return []
    return [(int(m.group(1)), m.group(2)) for m in COUNTER_RE.finditer(data)]


def serial_tail(path, n=1500):
    """The end of a serial file, zero bytes (a file opened anew) dropped."""
    try:
        with open(path, 'rb') as f:
            data = f.read().replace(b'\0', b'')
    except OSError:
        return ''
    return data[-n:].decode('utf-8', 'replace')


def last_counter(path, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        c = counters(path)
        if c:
            return c[-1]        # the file is appended to in time order
        if time.monotonic() > deadline:
            raise RuntimeError('no VIRTD-GUEST-COUNTER line in %s' % path)
        time.sleep(0.05)


def wait_counting(path, after_n, boot_id, timeout=60):
    """perf_counter() when @path has a counter line past @after_n of the
    same boot."""
    deadline = time.monotonic() + timeout
    while True:
        for n, bid in counters(path):
            if n > after_n:
                if bid != boot_id:
                    raise RuntimeError('the guest booted again (boot_id %s, was %s); '
                                       'serial output: %r' % (bid.decode(), boot_id.decode(),
                                                              serial_tail(path)))
                return time.perf_counter()
        if time.monotonic() > deadline:
            raise RuntimeError('no counter line past n=%d in %s after %d s; its end: %r'
                               % (after_n, path, timeout, serial_tail(path)))
        time.sleep(0.01)


# --------------------------------------------------------------------------
# A minimal QMP client (one command at a time; events kept with QEMU's
# timestamp and the time they arrived)

class Qmp:
    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise QmpError('cannot connect to %s' % path)
                time.sleep(0.005)
        self.sock = s
        self.rfile = s.makefile('rb')
        greeting = json.loads(self.rfile.readline() or b'{}')
        if 'QMP' not in greeting:
            raise QmpError('no QMP greeting on %s: %r' % (path, greeting))
        self.cond = threading.Condition()
        self.events = []        # (name, qemu_ts seconds, arrival perf_counter, data)
        self.replies = {}
        self.closed = False
        self.next_id = 0
        threading.Thread(target=self._reader, daemon=True).start()
        self.cmd('qmp_capabilities')

    def _reader(self):
        try:
            for line in self.rfile:
                now = time.perf_counter()
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                with self.cond:
                    if 'event' in msg:
                        ts = msg.get('timestamp', {})
                        self.events.append((msg['event'], ts.get('seconds', 0) +
                                            ts.get('microseconds', 0) / 1e6, now,
                                            msg.get('data') or {}))
                    elif 'id' in msg:
                        self.replies[msg['id']] = msg
                    self.cond.notify_all()
        except (OSError, ValueError):
            pass
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def cmd(self, name, timeout=60, **args):
        with self.cond:
            self.next_id += 1
            cid = 'b%d' % self.next_id
        msg = {'execute': name, 'id': cid}
        if args:
            msg['arguments'] = args
        self.sock.sendall(json.dumps(msg).encode() + b'\n')
        deadline = time.monotonic() + timeout
        with self.cond:
            while cid not in self.replies:
                if self.closed:
                    if name == 'quit':
                        return {}
                    raise QmpError('%s: QEMU closed its monitor' % name)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise QmpError('%s: no answer after %d s' % (name, timeout))
                self.cond.wait(left)
            r = self.replies.pop(cid)
        if 'error' in r:
            raise QmpError('%s: %s' % (name, r['error'].get('desc', r['error'])))
        return r.get('return')

    def wait_event(self, pred, since, timeout):
        """The first event from index @since on for which pred(name, data)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            i = since
            while True:
                while i < len(self.events):
                    ev = self.events[i]
                    if pred(ev[0], ev[3]):
                        return ev
                    i += 1
                if self.closed:
                    raise QmpError('QEMU closed its monitor while waiting for an event')
                left = deadline - time.monotonic()
                if left <= 0:
                    raise QmpError('event not seen after %d s' % timeout)
                self.cond.wait(left)

    def mark(self):
        with self.cond:
            return len(self.events)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def migration_status(status):
    return lambda name, data: name == 'MIGRATION' and data.get('status') == status


def migration_end(name, data):
    return name == 'MIGRATION' and data.get('status') in ('completed', 'failed', 'cancelled')


def _autogroup_nice10():
    """As virtd's QEMU (src/daemon/domain/qemu-spawn.c): a session, its
    autogroup at nice 10."""
    try:
        with open('/proc/self/autogroup', 'w') as f:
            f.write('10')
    except OSError:
        pass


class RawQemu:
    def __init__(self, argv, qmp_path, serial, log_path):
        self.qmp_path, self.serial = qmp_path, serial
        with open(log_path, 'ab') as logf:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_autogroup_nice10)
        try:
            self.qmp = Qmp(qmp_path)
        except Exception:
            self.kill()
            raise

    def quit(self, timeout=20):
        try:
            self.qmp.cmd('quit', timeout=timeout)
        except QmpError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self.qmp.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if getattr(self, 'qmp', None):
            self.qmp.close()


class PseudoSide:
    """The QMP side in the results (no daemon, no CLI)."""
    key = 'qemu'
    label = 'QEMU/QMP'


def parse_argv_header(log_path):
    """The QEMU argv virtd logged last in @log_path: after 'starting up',
    one argument a line, two spaces in, up to an empty line."""
    with open(log_path, errors='replace') as f:
        lines = f.read().split('\n')
    start = max((i for i, l in enumerate(lines) if l.endswith(': starting up')), default=None)
    if start is None:
        raise RuntimeError('no "starting up" header in %s' % log_path)
    argv = []
    for l in lines[start + 1:]:
        if not l.startswith('  '):
            break
        argv.append(l[2:])
    if not argv or not argv[0].endswith('qemu-system-x86_64'):
        raise RuntimeError('no QEMU argv in %s' % log_path)
    return argv


def log_transitions(path, offset, name):
    """(wall clock seconds, line) of "domain 'NAME': A -> B" lines of a
    virtd log from byte @offset on."""
    out = []
    try:
        with open(path, 'rb') as f:
            f.seek(offset)
            data = f.read().decode('utf-8', 'replace')
    except OSError:
        return out
    needle = "domain '%s': " % name
    for line in data.splitlines():
        if needle not in line or ' -> ' not in line:
            continue
        m = LOG_TS_RE.match(line)
        if not m:
            continue
        ts = time.mktime(time.strptime(m.group(1)[:19], '%Y-%m-%d %H:%M:%S')) + \
            int(m.group(1)[20:]) / 1000.0
        out.append((ts, line.split(needle, 1)[1]))
    return out


def log_excerpt(path, offset, limit=60):
    try:
        with open(path, 'rb') as f:
            f.seek(offset)
            return f.read().decode('utf-8', 'replace').splitlines()[:limit]
    except OSError:
        return []


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class MigratePhase:
    def __init__(self, bench, run_log, wait_marker, domain_xml, virtd_class):
        self.b = bench
        self.a = bench.args
        self.log = run_log
        self.wait_marker = wait_marker
        self.domain_xml = domain_xml
        self.virtd_class = virtd_class
        self.raw = PseudoSide()
        self.dir = os.path.join(bench.tmp, 'migrate')
        self.peer = None            # the second virtd
        self.qemus = []             # every RawQemu started
        self.details = []           # one dict per run (both sides), kept in the JSON
        self.raw_seq = 0
        self.parts = [p for p in self.a.migrate_parts.split(',') if p]
        self.transports = transport_phase.Transports(bench, run_log, self.dir) \
            if 'transport' in self.parts else None

    # ---- helpers

    def path(self, what):
        return os.path.join(self.dir, what)

    def run_cmd(self, argv, timeout=300):
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError('%s: exit %d: %s' % (' '.join(argv), r.returncode,
                                                   r.stdout[-1500:]))
        return r.stdout

    def guest_xml(self, name, serial, disk):
        xml = self.domain_xml(name, serial)
        xml = re.sub(r"(<(?:current)?[mM]emory unit='MiB'>)\d+(<)", r'\g<1>512\g<2>', xml)
        xml = xml.replace('</cmdline>', ' virtd.counter=1</cmdline>', 1)
        # append: the destination QEMU opens the same file while the source
        # still writes it (both daemons run the same XML on one machine).
        xml = xml.replace("<source path='%s'/>" % serial,
                          "<source path='%s' append='on'/>" % serial)
        disk_xml = ("    <disk type='file' device='disk'><driver name='qemu' type='qcow2' "
                    "cache='none'/><source file='%s'/><target dev='vda' bus='virtio'/>"
                    "</disk>\n" % disk)
        return xml.replace('  </devices>', disk_xml + '  </devices>', 1)

    def cli(self, side, *args, timeout=300):
        r = side.cli(*args, check=False, timeout=timeout)
        if r.rc != 0:
            text = (r.err + r.out).strip()
            first = text.splitlines()[0] if text else 'exit %d' % r.rc
            if UNAVAILABLE_RE.search(text):
                raise Unavailable('%s: %s' % (args[0], first[:200]))
            raise RuntimeError('%s: %s' % (' '.join(map(str, args)), text[-1500:]))
        return r

    def load(self):
        return [round(x, 2) for x in os.getloadavg()]

    # ---- the phase

    def run(self):
        b = self.b
        src = next((s for s in b.sides if s.key == 'virtd'), None)
        if src is None:
            self.log('migration figures: no virtd side; skipped')
            return
        os.makedirs(self.dir, exist_ok=True)
        try:
            self.start_peer()
            if 'live' in self.parts:
                try:
                    self.run_both(src)
                except Exception as e:
                    b.error(None, 'migration figures', e)
            if self.transports is not None:
                # After the migrations: the guests are gone or idle.
                self.stop_guests(src)
                try:
                    self.transports.run(self.peer, src)
                except Exception as e:
                    b.error(self.peer, 'transport figures', e)
        except Exception as e:
            b.error(None, 'migration phase', e)
        finally:
            self.teardown()
        self.summarize()

    def start_peer(self):
        """The second daemon: own root, same binaries; a TLS listener for
        the transport figures when it has one."""
        tr = self.transports
        self.peer = self.virtd_class(self.b, key='virtdb', root_name='virtd-root-b',
                                     log_name='virtd-b.log',
                                     extra_args=tr.daemon_args if tr else None)
        self.peer.label = 'virtd B'
        self.peer.setup()

    def stop_guests(self, a_side):
        for q in self.qemus:
            q.kill()
        self.qemus = []
        for side in (a_side, self.peer):
            for name in side.bench_domains():
                side.cli('destroy', name, check=False, timeout=60)
                side.cli('undefine', name, check=False, timeout=60)

    def run_both(self, a_side):
        b, a = self.b, self.a
        name = b.prefix + 'mig'
        serial = self.path(name + '.serial')
        disk = self.path('mig-disk.qcow2')
        self.run_cmd(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, '64M'])
        xml_path = self.path(name + '.xml')
        with open(xml_path, 'w') as f:
            f.write(self.guest_xml(name, serial, disk))

        # The second daemon's kernel cache filled now, untimed (the first start of the
        # guest fills A's): define + undefine the same XML under another name.
        warm = b.prefix + 'migwarm'
        with open(self.path('warm.xml'), 'w') as f:
            f.write(self.guest_xml(warm, self.path('warm.serial'), disk))
        self.peer.cli('define', self.path('warm.xml'))
        self.peer.cli('undefine', warm)

        # Ours: defined and started on A; the argv virtd gave QEMU is the
        # QMP side's command line.
        self.cli(a_side, 'define', xml_path)
        self.cli(a_side, 'start', name)
        self.wait_marker(serial, b'VIRTD-GUEST-READY', a.boot_timeout)
        last_counter(serial)
        argv = parse_argv_header(os.path.join(a_side.root, 'log', name + '.log'))
        self.raw_argv_template = argv
        with open(self.path('qemu-argv.json'), 'w') as f:
            json.dump(argv, f, indent=1)

        raw_disk = self.path('raw-disk.qcow2')
        self.run_cmd(['qemu-img', 'create', '-q', '-f', 'qcow2', raw_disk, '64M'])
        raw_src = self.raw_start(argv, name, serial, disk, a_side.root, raw_disk)
        self.wait_marker(raw_src.serial, b'VIRTD-GUEST-READY', a.boot_timeout)
        last_counter(raw_src.serial)

        ours = {'at': a_side, 'other': self.peer, 'name': name, 'serial': serial}
        raw = {'src': raw_src, 'mk': (argv, name, serial, disk, a_side.root, raw_disk)}
        dead, failed = set(), {}
        # One untimed migration per side first (the first one after the
        # boot is slower, downtime too: 0.32 s / 22 ms against 0.08 s / 3 ms
        # for the QMP side here).
        for i in range(-a.migrate_warmup, a.migrate_runs):
            order = ('qemu', 'virtd') if i % 2 == 0 else ('virtd', 'qemu')
            for which in order:
                if which in dead:
                    continue
                tag = 'warm-up' if i < 0 else 'run %d/%d' % (i + 1, a.migrate_runs)
                try:
                    if which == 'qemu':
                        d = self.raw_once(raw)
                    else:
                        d = self.ours_once(ours)
                except Unavailable as e:
                    dead.add(which)
                    self.b.record('mig_total', a_side, unavailable=str(e))
                    self.b.record('mig_downtime', a_side, unavailable=str(e))
                    self.b.error(a_side, 'unavailable: mig_total', str(e))
                    continue
                except Exception as e:
                    # One failed run is an error of the run; two in a row
                    # end that side's figures (the guest may be gone).
                    failed[which] = failed.get(which, 0) + 1
                    if failed[which] >= 2:
                        dead.add(which)
                    self.b.error(self.raw if which == 'qemu' else a_side,
                                 'migration %s' % tag, e)
                    continue
                failed[which] = 0
                d.update(run=i + 1, side=which)
                self.log('%s: migration %s: total %.3f s, downtime %s ms, gap %s ms '
                         '(load %s)%s'
                         % ('QEMU/QMP' if which == 'qemu' else 'virtd+vsh', tag, d['total'],
                            d.get('downtime_ms'), fmt_ms(d.get('gap')), d['load'][0],
                            '' if which == 'virtd' else
                            ', from dest. launch %.3f s' % d['launch_total']))
                if i >= 0:
                    self.details.append(d)
                    self.record(which, d, a_side)

    def record(self, which, d, vside):
        side = self.raw if which == 'qemu' else vside
        rec = self.b.record
        rec('mig_total', side, samples=[d['total']])
        if d.get('downtime_ms') is not None:
            rec('mig_downtime', side, samples=[d['downtime_ms'] / 1000.0])
        if d.get('gap') is not None:
            rec('mig_gap', side, samples=[d['gap']])
        # Ours launches its destination QEMU inside its total: the same
        # figure in the row that includes the QMP side's launch.
        if which == 'virtd':
            rec('mig_launch_total', side, samples=[d['total']])
        for key, fig in (('launch_total', 'mig_launch_total'), ('cmd', 'mig_cmd'),
                         ('counting', 'mig_counting')):
            if d.get(key) is not None:
                rec(fig, side, samples=[d[key]])
        if d.get('qemu_total_ms') is not None:
            rec('mig_qemu_total', side, samples=[d['qemu_total_ms'] / 1000.0])
        if d.get('ram_bytes') is not None:
            rec('mig_ram_mib', side, samples=[d['ram_bytes'] / 1024.0])   # KiB, as RSS

    def summarize(self):
        for key in ('qemu', 'virtd'):
            runs = [d for d in self.details if d['side'] == key]
            if not runs:
                continue
            side = self.raw if key == 'qemu' else next(s for s in self.b.sides
                                                        if s.key == 'virtd')
            tot = [d['total'] for d in runs]
            self.b.record('mig_total_min', side, value=min(tot))
            self.b.record('mig_total_max', side, value=max(tot))
            dts = [d['downtime_ms'] for d in runs if d.get('downtime_ms') is not None]
            if dts:
                self.b.record('mig_downtime_min', side, value=min(dts) / 1000.0)
                self.b.record('mig_downtime_max', side, value=max(dts) / 1000.0)
            self.b.record('mig_total', side, runs=runs)
        self.b.info['migration'] = {
            'raw_caps_source': RAW_CAPS_SOURCE, 'raw_caps_dest': RAW_CAPS_DEST,
            'raw_params': RAW_PARAMS,
            'qemu_argv': getattr(self, 'raw_argv_template', None),
            'peer_root': self.peer.root if self.peer else None,
        }

    # ---- the QMP side

    def raw_start(self, argv, name, serial, disk, root, raw_disk, incoming=False):
        """A QEMU with virtd's argv for the guest, its own name, QMP socket,
        pid file, serial file; the QMP side's own disk image."""
        self.raw_seq += 1
        n = self.raw_seq
        qmp = self.path('raw%d.qmp' % n)
        ser = self.path('raw%d.serial' % n)
        out = []
        for arg in argv:
            if arg.startswith('guest=%s,' % name):
                arg = 'guest=%sraw%d,' % (name, n) + arg.split(',', 1)[1]
            elif arg.startswith('socket,id=charmonitor,path='):
                arg = re.sub(r'path=[^,]*', 'path=' + qmp, arg)
            elif arg.startswith('file,id=charserial0,path='):
                arg = 'file,id=charserial0,path=' + ser
            elif arg.endswith('/%s.pid' % name):
                arg = self.path('raw%d.pid' % n)
            elif disk in arg:
                arg = arg.replace(disk, raw_disk)
            out.append(arg)
        # Nothing else of the daemon's may be shared, but the kernel it
        # extracted (read only).
        for arg in out:
            if root in arg and '/cache/kernels/' not in arg:
                raise RuntimeError('QMP side argv still names virtd\'s root: %s' % arg)
        if incoming:
            out += ['-incoming', 'defer']
        q = RawQemu(out, qmp, ser, self.path('raw%d.log' % n))
        self.qemus.append(q)
        if not incoming:
            q.qmp.cmd('cont')
        return q

    def raw_once(self, raw):
        src = raw['src']
        n0, boot_id = last_counter(src.serial)
        load = self.load()
        t_launch = time.perf_counter()
        dst = self.raw_start(*raw['mk'], incoming=True)
        try:
            return self.raw_migrate(raw, src, dst, n0, boot_id, load, t_launch)
        except BaseException:
            if raw['src'] is not dst:
                # Failed before the switch: the guest goes on at the source.
                dst.kill()
                try:
                    if src.qmp.cmd('query-status').get('status') != 'running':
                        src.qmp.cmd('cont')
                except QmpError:
                    pass
            raise

    def raw_migrate(self, raw, src, dst, n0, boot_id, load, t_launch):
        for q, caps in ((src, RAW_CAPS_SOURCE), (dst, RAW_CAPS_DEST)):
            q.qmp.cmd('migrate-set-capabilities',
                      capabilities=[{'capability': k, 'state': v} for k, v in caps.items()])
        src.qmp.cmd('migrate-set-parameters', **RAW_PARAMS)
        dst.qmp.cmd('migrate-incoming', uri='tcp:127.0.0.1:0')
        addr = dst.qmp.cmd('query-migrate').get('socket-address') or []
        port = next((a.get('port') for a in addr if a.get('port')), None)
        if not port:
            raise RuntimeError('destination QEMU gave no port: %r' % addr)
        ms, md = src.qmp.mark(), dst.qmp.mark()
        t0 = time.perf_counter()
        src.qmp.cmd('migrate', uri='tcp:127.0.0.1:%s' % port)
        ev = src.qmp.wait_event(migration_end, ms, 300)
        if ev[3].get('status') != 'completed':
            raise RuntimeError('source migration %s' % ev[3].get('status'))
        ev = dst.qmp.wait_event(migration_end, md, 300)
        if ev[3].get('status') != 'completed':
            raise RuntimeError('destination migration %s' % ev[3].get('status'))
        dst.qmp.cmd('cont')
        t_end = time.perf_counter()
        info = src.qmp.cmd('query-migrate')
        stop = src.qmp.wait_event(lambda n, _d: n == 'STOP', ms, 5)
        resume = dst.qmp.wait_event(lambda n, _d: n == 'RESUME', md, 5)
        src.quit()
        raw['src'] = dst
        t_count = wait_counting(dst.serial, n0, boot_id)
        ram = info.get('ram', {})
        return {'total': t_end - t0, 'launch_total': t_end - t_launch,
                'downtime_ms': info.get('downtime'), 'qemu_total_ms': info.get('total-time'),
                'setup_ms': info.get('setup-time'), 'ram_bytes': ram.get('transferred'),
                'gap': resume[1] - stop[1], 'gap_arrival': resume[2] - stop[2],
                'counting': t_count - t0, 'load': load}

    # ---- ours: vsh migrate between the two daemons

    def ours_once(self, st):
        src, dst, name, serial = st['at'], st['other'], st['name'], st['serial']
        n0, boot_id = last_counter(serial)
        if name in dst.bench_domains():
            self.cli(dst, 'undefine', name)     # the previous run's, inactive
        logs = {s: (self.log_path(s), file_size(self.log_path(s))) for s in (src, dst)}
        load = self.load()
        seen = {}
        stop = threading.Event()
        poller = threading.Thread(target=self.poll_running, args=(dst, name, seen, stop),
                                  daemon=True)
        poller.start()
        t0_wall = time.time()
        t0 = time.perf_counter()
        try:
            r = self.cli(src, 'migrate', '--live', '--persistent', name, dst.uri,
                         timeout=600)
            # The destination says running once the command returned, or
            # soon after: give the poller a moment.
            deadline = time.monotonic() + 10
            while 'running' not in seen and time.monotonic() < deadline:
                time.sleep(0.005)
        finally:
            stop.set()
            poller.join(5)
        if 'running' not in seen:
            raise RuntimeError('%s not running on the destination after `migrate` (%s)'
                               % (name, seen.get('last')))
        st['at'], st['other'] = dst, src
        d = {'total': seen['running'] - t0, 'cmd': r.seconds, 'load': load}
        d['downtime_ms'], d['jobinfo'] = self.completed_downtime(src, dst, name)
        m = re.search(r'Time elapsed:\s+(\d+)\s*ms', d['jobinfo'] or '')
        if m:
            d['qemu_total_ms'] = int(m.group(1))
        # Source paused -> destination running, in the daemons' logs.
        paused = [ts for ts, t in log_transitions(logs[src][0], logs[src][1], name)
                  if '-> paused' in t]
        running = [ts for ts, t in log_transitions(logs[dst][0], logs[dst][1], name)
                   if '-> running' in t]
        if paused and running:
            d['gap'] = running[0] - paused[0]
            d['dest_running_log'] = running[0] - t0_wall
        if d['downtime_ms'] == 0 and (d.get('gap') or 0) > 0.005:
            # virtd's figure is missing, not zero (the guest was paused
            # for the gap): not counted in the downtime's median.
            self.log('warning: the source\'s domjobinfo --completed says "Total downtime: 0 ms" '
                     'after a %.0f ms pause; not counted' % (d['gap'] * 1000))
            d['downtime_reported'], d['downtime_ms'] = 0, None
        d['counting'] = wait_counting(serial, n0, boot_id) - t0
        # What each daemon logged meanwhile (where the time went), for the JSON.
        for key, side in (('log_src', src), ('log_dst', dst)):
            d[key] = log_excerpt(logs[side][0], logs[side][1])
        d['t0_wall'] = t0_wall
        return d

    def log_path(self, side):
        return side.reaper.log_path

    def poll_running(self, side, name, seen, stop):
        """perf_counter() of the first answer of @side's API saying @name is
        running, into seen['running'] (one connection, every 10 ms)."""
        conn = None
        while not stop.is_set() and 'running' not in seen:
            try:
                if conn is None:
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.settimeout(10)
                    s.connect(side.sock)
                    conn = http.client.HTTPConnection('localhost', timeout=10)
                    conn.sock = s
                conn.request('GET', '/v1/domains/%s' % name)
                resp = conn.getresponse()
                body = resp.read()
                now = time.perf_counter()
                if resp.status == 200:
                    state = json.loads(body).get('domain', {}).get('state')
                    seen['last'] = state
                    if state == 'running':
                        seen['running'] = now
                        break
                else:
                    seen['last'] = 'HTTP %d' % resp.status
            except (OSError, http.client.HTTPException, ValueError) as e:
                seen['last'] = repr(e)
                if conn is not None:
                    conn.close()
                conn = None
            stop.wait(0.01)
        if conn is not None:
            conn.close()

    def completed_downtime(self, src, dst, name):
        """The source's domjobinfo --completed "Total downtime" (ms) of its
        outgoing migration; (ms or None, both ends' texts for the JSON)."""
        text, found = '', None
        for side in (src, dst):
            r = side.cli('domjobinfo', name, '--completed', check=False, timeout=60)
            text += '[%s rc=%d]\n%s%s\n' % (side.label, r.rc, r.out, r.err)
            m = re.search(r'Total downtime:\s+(\d+)\s*ms', r.out)
            if side is src and r.rc == 0 and m and 'Outgoing migration' in r.out:
                found = int(m.group(1))
        return found, text

    # ---- clean-up

    def teardown(self):
        if self.transports is not None:
            self.transports.stop()
        for q in self.qemus:
            try:
                q.kill()
            except Exception:
                pass
        self.qemus = []
        if self.peer is not None:
            try:
                self.peer.teardown()
            except BaseException as e:
                self.log('warning: second virtd teardown: %s' % e)
            self.peer = None

    def side_cleanup(self, side):
        if not side.alive():
            return
        for name in side.bench_domains():
            if name.startswith(self.b.prefix + 'mig'):
                side.cli('destroy', name, check=False, timeout=60)
                side.cli('undefine', name, check=False, timeout=60)

    def cleanup(self):
        self.teardown()


def fmt_ms(x):
    return '-' if x is None else '%.1f' % (x * 1000)

