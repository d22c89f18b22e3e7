"""Two hosts on a LAN, on this machine, for the migration tests (issue 13;
Python 3 standard library only, built on netlab.py and harness.py).

    lan  (namespace)  bridge 'lan', no address: the switch
     |-- hostA (namespace)  eth0 enslaved to br0; br0 has ADDR_A (.2)
     |                      virtd --root BASE/hostA --migration-host ADDR_A
     |-- hostB (namespace)  eth0 enslaved to br0; br0 has ADDR_B (.3)
     |                      virtd --root BASE/hostB --migration-host ADDR_B
     `-- outside (namespace) eth0 with ADDR_OUT (.1), dnsmasq for the LAN
                            (DHCP .100-.199, no DNS, no forwarding)

Each host namespace's br0 enslaves its LAN link, as a real host's bridge
does: a guest whose NIC is <interface type='bridge'><source bridge='br0'/>
is on the LAN, gets its lease from the outside, and the outside reaches it
(the guest's httpd) whichever host runs it. QEMU's migration stream goes
over the LAN (each daemon's --migration-host is its host's LAN address);
the daemons' sockets are files, so vsh and the peer calls reach both with
unix:// URIs (MigrateLab.uri_a / .uri_b).

Everything lives in the lab's namespaces (the LAN never touches the host's
network stack; its subnet still gets NetLab's blackhole fallback route)
and in one directory BASE (/tmp/virtd-miglab-*: both roots, the storage);
close() stops both daemons, kills every process mentioning BASE (QEMUs
included) and removes the namespaces and BASE, whether the test passed or
not (also at exit and on the harness's signals).

Storage: 'shared' (BASE/shared, one directory both daemons use, pool
'default' on both pointing at it) or 'separate' (BASE/poolA and
BASE/poolB, each daemon's pool 'default').

    with MigrateLab(storage='shared') as lab:
        g = lab.start_counter_guest('mig1')        # on host A, bridged to br0
        lab.a.vsh('migrate', '--live', 'mig1', lab.uri_b)
        lab.wait_counter_after(lab.b, 'mig1', g)   # same boot, n goes on
        assert lab.outside_get(g.ip) == 'mig1'

Environment for a daemon (the test seam VIRTD_TEST_MIGRATION_HOLD, short
deadlines): MigrateLab(env_a={...}, env_b={...}); change lab.a.extra_env
before lab.a.start() to restart it with another.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import netlab  # noqa: E402
from harness import Daemon, NetLab, domain_xml, wait_for  # noqa: E402

# Daemon arguments for a lab whose guests migrate in post-copy: QEMU as
# root, since this host gives no unprivileged QEMU a userfaultfd
# (docs/security.md, "Post-copy migration").
QEMU_AS_ROOT = ('--qemu-user', 'root')

COUNTER_RE = re.compile(r'VIRTD-GUEST-COUNTER n=(\d+) boot_id=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
                        r'[0-9a-f]{4}-[0-9a-f]{12})\b')

_HTTP_GET = r'''
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
s.settimeout(float(sys.argv[3]))
s.sendall(b'GET / HTTP/1.0\r\nHost: x\r\n\r\n')
data = b''
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
head, _, body = data.partition(b'\r\n\r\n')
sys.stdout.write(body.decode('utf-8', 'replace'))
sys.exit(0 if b' 200 ' in head.split(b'\r\n')[0] else 1)
'''


class Guest:
    """What the lab knows of a guest it started: name, MAC, the address
    its lease gave, its boot id and the last counter seen at start, and
    the boots of earlier guests of that name whose lines the (appended)
    console logs still hold: not a reboot of this one."""

    def __init__(self, name, mac, ip, boot_id, n, earlier=()):
        self.name, self.mac, self.ip, self.boot_id, self.n = name, mac, ip, boot_id, n
        self.earlier = frozenset(earlier) - {boot_id}

    def __repr__(self):
        return 'Guest(%s mac=%s ip=%s boot=%s n=%s)' % (self.name, self.mac, self.ip,
                                                          self.boot_id, self.n)


def counters(d, name):
    """[(n, boot_id)] of the guest's counter lines in @d's console log."""
    return [(int(n), b) for n, b in COUNTER_RE.findall(d.console_text(name))]


def last_counter(d, name):
    c = counters(d, name)
    return c[-1] if c else None


class MigrateLab:
    def __init__(self, storage='shared', env_a=None, env_b=None, args_a=(), args_b=()):
        if storage not in ('shared', 'separate'):
            raise ValueError('storage: shared or separate, not %r' % storage)
        self.storage = storage
        self._env = (dict(env_a or {}), dict(env_b or {}))
        self._args = (list(args_a), list(args_b))
        self.net = None
        self.a = self.b = None
        self.base = None
        self._closed = False
        self._macs = 0
        self._vsh_procs = []

    # ---- life

    def __enter__(self):
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _build(self):
        tmp = os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir()
        os.makedirs(tmp, exist_ok=True)
        self.base = tempfile.mkdtemp(prefix='virtd-miglab-', dir=tmp)
        _live_labs.append(self)
        lab = self.net = NetLab().__enter__()
        self.subnet = sub = lab.subnet()
        self.addr_out, self.addr_a, self.addr_b = sub + '.1', sub + '.2', sub + '.3'
        self.ns_lan = lab.netns('lan')
        self.ns_out = lab.netns('out')
        self.ns_a = lab.netns('hostA')
        self.ns_b = lab.netns('hostB')
        lab.ns_run(self.ns_lan, ['ip', 'link', 'add', 'lan', 'type', 'bridge', 'stp_state', '0',
                                 'forward_delay', '0'])
        lab.ns_run(self.ns_lan, ['ip', 'link', 'set', 'lan', 'up'])
        # Each host's LAN link: 'eth0' in the host, 'pN' on the switch.
        for port, ns, addr in (('pa', self.ns_a, self.addr_a), ('pb', self.ns_b, self.addr_b),
                               ('po', self.ns_out, self.addr_out)):
            netlab.run(['ip', 'link', 'add', port, 'netns', self.ns_lan, 'type', 'veth',
                        'peer', 'name', 'eth0', 'netns', ns])
            lab.ns_run(self.ns_lan, ['ip', 'link', 'set', port, 'master', 'lan'])
            lab.ns_run(self.ns_lan, ['ip', 'link', 'set', port, 'up'])
            if ns == self.ns_out:
                lab.ns_run(ns, ['ip', 'addr', 'add', addr + '/24', 'dev', 'eth0'])
                lab.ns_run(ns, ['ip', 'link', 'set', 'eth0', 'up'])
                continue
            # A real host's bridge: the LAN link enslaved, the address on br0.
            lab.ns_run(ns, ['ip', 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0',
                            'forward_delay', '0'])
            lab.ns_run(ns, ['ip', 'link', 'set', 'eth0', 'master', 'br0'])
            lab.ns_run(ns, ['ip', 'link', 'set', 'eth0', 'up'])
            # br0 keeps eth0's MAC, set explicitly: a bridge left to choose
            # takes its ports' lowest, so a guest's tap (fe:...) joining
            # changed it when eth0's random MAC was higher; the other host's
            # ARP entry then pointed at the old MAC and its next connection
            # failed ("No route to host": CopyStorageKill's NBD in CI).
            mac = lab.ns_run(ns, ['cat', '/sys/class/net/eth0/address'])[1].strip()
            lab.ns_run(ns, ['ip', 'link', 'set', 'br0', 'address', mac])
            lab.ns_run(ns, ['ip', 'addr', 'add', addr + '/24', 'dev', 'br0'])
            lab.ns_run(ns, ['ip', 'link', 'set', 'br0', 'up'])
        self.dnsmasq = lab.dnsmasq(self.ns_out, 'eth0', '%s.100,%s.199,255.255.255.0,1h'
                                   % (sub, sub))
        # The LAN works before any daemon starts.
        # The hosts reach each other too (QEMU's stream and NBD go from
        # host to host, not through the outside).
        for ns, addr in ((self.ns_out, self.addr_a), (self.ns_out, self.addr_b),
                         (self.ns_a, self.addr_b), (self.ns_b, self.addr_a)):
            wait_for(lambda: lab.ns_run(ns, ['busybox', 'ping', '-c1', '-W1', addr],
                                        check=False)[0] == 0, 10,
                     what='ping %s from %s' % (addr, ns))

        self.root_a = os.path.join(self.base, 'hostA')
        self.root_b = os.path.join(self.base, 'hostB')
        if self.storage == 'shared':
            self.pool_a = self.pool_b = os.path.join(self.base, 'shared')
        else:
            self.pool_a = os.path.join(self.base, 'poolA')
            self.pool_b = os.path.join(self.base, 'poolB')
        for p in (self.root_a, self.root_b, self.pool_a, self.pool_b):
            os.makedirs(p, exist_ok=True)
        self.a = self._daemon(self.ns_a, self.root_a, self.addr_a, self._env[0], self._args[0])
        self.b = self._daemon(self.ns_b, self.root_b, self.addr_b, self._env[1], self._args[1])
        self.uri_a, self.uri_b = self.a.uri, self.b.uri
        for d, pool in ((self.a, self.pool_a), (self.b, self.pool_b)):
            # The daemon's own 'default' (under its root) makes way for the lab's.
            d.vsh('pool-destroy', 'default', check=False)
            d.vsh('pool-undefine', 'default', check=False)
            d.vsh('pool-define-as', 'default', 'dir', '--target', pool)
            d.vsh('pool-start', 'default')
            d.vsh('pool-autostart', 'default')

    def _daemon(self, ns, root, addr, env, args):
        d = Daemon(root=root, netns=ns, env=env, keep=False,
                   args=['--migration-host', addr] + list(args))
        return d.__enter__()

    def close(self, quick=False):
        """Stops both daemons (SIGTERM, so that a sanitizer build reports
        leaks at exit; SIGKILL when @quick), kills every process of the lab
        (QEMUs included), removes the namespaces and BASE; goes on through
        errors."""
        if self._closed:
            return
        self._closed = True
        for p in self._vsh_procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        for d in (self.a, self.b):
            if d is not None:
                try:
                    d.cleanup(quick=quick)
                except Exception as e:
                    sys.stderr.write('migrate_lab: stopping %s: %s\n' % (d.root, e))
        if self.base:
            harness.kill_processes_mentioning(self.base)
        if self.net is not None:
            self.net.close()
        if self.base:
            if os.environ.get('VIRTD_TEST_KEEP') == '1':
                sys.stderr.write('migrate_lab: kept %s\n' % self.base)
            else:
                shutil.rmtree(self.base, ignore_errors=True)
        if self in _live_labs:
            _live_labs.remove(self)

    def leftovers(self):
        """What is left of the lab (after close): processes, namespaces, BASE."""
        out = ['pid %d' % p for p in harness.processes_mentioning(self.base)
               if harness.pid_alive(p)] if self.base else []
        if self.net is not None:
            out += self.net.leftovers()
        if self.base and os.path.exists(self.base) and os.environ.get('VIRTD_TEST_KEEP') != '1':
            out.append('directory %s' % self.base)
        return out

    # ---- the daemons

    def daemon(self, which):
        return {'a': self.a, 'b': self.b}[which]

    def other(self, d):
        return self.b if d is self.a else self.a

    def kill_daemon(self, d):
        """SIGKILL: the daemon dies at once, its QEMUs live on."""
        d.kill()

    def restart_daemon(self, d, env=None):
        """(Re)starts a stopped or killed daemon, with @env replacing its
        extra environment when given."""
        if d.proc is not None and d.proc.poll() is None:
            d.stop()
        if env is not None:
            d.extra_env = dict(env)
        d._cleaned = False
        d.start()

    def hold_file(self, d, point):
        """run_dir/migration-hold.POINT of the test seam (migration-priv.h)."""
        return os.path.join(d.root, 'run', 'migration-hold.' + point)

    def wait_hold(self, d, point, timeout=60):
        path = self.hold_file(d, point)
        wait_for(lambda: os.path.exists(path), timeout,
                 what=lambda: 'the migration to stop at %s (%s); daemon log:\n%s'
                 % (point, path, d.daemon_log_tail(30)))
        return path

    def release_hold(self, d, point):
        try:
            os.unlink(self.hold_file(d, point))
        except FileNotFoundError:
            pass

    def migrate_async(self, src, dst, name, *flags):
        """`vsh migrate --live FLAGS NAME DST_URI` against @src in the
        background: a Popen (text stdout/stderr), killed with the lab."""
        argv = [harness.VSH_BIN, '-c', src.uri, 'migrate', '--live'] + list(flags) + \
               [name, dst.uri]
        env = dict(os.environ, LC_ALL='C', HOME=src.root)
        env.pop('VSH_DEFAULT_URI', None)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True, env=env,
                             cwd=src.root, start_new_session=True)
        self._vsh_procs.append(p)
        return p

    def records(self, d):
        """Names of the domains with a migration record on @d."""
        rd = os.path.join(d.root, 'run', 'domains')
        try:
            return sorted(n[:-len('.migration')] for n in os.listdir(rd)
                          if n.endswith('.migration'))
        except OSError:
            return []

    def states(self, name):
        """{'a': state or None, 'b': state or None} from `vsh list --all`."""
        out = {}
        for k, d in (('a', self.a), ('b', self.b)):
            out[k] = None
            rc, text, _err = d.vsh('list', '--all', check=False, timeout=20)
            if rc != 0:
                out[k] = 'vsh rc %d' % rc
                continue
            for row in harness.parse_list(text):
                if row[1] == name:
                    out[k] = row[2]
        return out

    def stray_qemus(self):
        """QEMUs of the lab's roots that no daemon knows of: a pid not in
        its root's run/qemu/*.pid of a domain the daemon lists as live."""
        stray = []
        for d in (self.a, self.b):
            known = set()
            rc, text, _err = d.vsh('list', check=False, timeout=20)
            names = [r[1] for r in harness.parse_list(text)] if rc == 0 else []
            for n in names:
                p = d.qemu_pid(n)
                if p:
                    known.add(p)
            for p in d.qemu_pids():
                if p not in known:
                    stray.append((d.root, p, harness.read_cmdline(p)))
        return stray

    # ---- the network

    def outside_get(self, ip, port=80, timeout=3):
        """The body of http://IP:PORT/ fetched from the outside namespace,
        or None when it cannot be reached."""
        rc, out, _err = self.net.ns_run(self.ns_out, [sys.executable, '-c', _HTTP_GET, ip,
                                                      str(port), str(timeout)],
                                        check=False, timeout=timeout * 3 + 5)
        return out.strip() if rc == 0 else None

    def wait_outside_get(self, ip, expect, timeout=30):
        last = [None]

        def check():
            last[0] = self.outside_get(ip)
            return last[0] == expect
        wait_for(check, timeout, interval=0.5,
                 what=lambda: 'the outside to read %r from http://%s/ (last %r)'
                 % (expect, ip, last[0]))

    def cut_lan(self, which='b'):
        """Takes host @which's LAN link down (its namespace's eth0)."""
        ns = self.ns_a if which == 'a' else self.ns_b
        self.net.ns_run(ns, ['ip', 'link', 'set', 'eth0', 'down'])

    def restore_lan(self, which='b'):
        ns = self.ns_a if which == 'a' else self.ns_b
        self.net.ns_run(ns, ['ip', 'link', 'set', 'eth0', 'up'])

    # ---- guests

    def next_mac(self):
        self._macs += 1
        return '52:54:00:%02x:%02x:%02x' % (os.getpid() & 0xff, (os.getpid() >> 8) & 0xff,
                                            self._macs & 0xff)

    def guest_xml(self, name, mac, memory_mib=128, disk=None, extra_devices=''):
        nic = ("    <interface type='bridge'><mac address='%s'/><source bridge='br0'/>"
               "<model type='virtio'/></interface>" % mac)
        # A volume of pool 'default': each host finds it in its own pool
        # (separate storage: the copy --copy-storage-* makes there).
        vol = ("    <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>"
               "<source pool='default' volume='%s'/><target dev='vda' bus='virtio'/></disk>"
               % os.path.basename(disk)) if disk else ''
        devs = nic + ('\n' + vol if disk else '')
        if extra_devices:
            devs += '\n' + extra_devices
        return domain_xml(name, memory_mib=memory_mib, extra_devices=devs,
                          live_copy=True, cmdline_extra='virtd.net=dhcp '
                                        'virtd.hostname=%s' % name)

    def make_disk(self, name, size='64M'):
        """A qcow2 volume NAME.qcow2 in host A's pool 'default' (shared
        storage: on both); guest_xml() refers to it as a volume."""
        path = os.path.join(self.pool_a, name + '.qcow2')
        netlab.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path, size])
        self.a.vsh('pool-refresh', 'default', check=False)
        if self.storage == 'shared':
            self.b.vsh('pool-refresh', 'default', check=False)
        return path

    def start_counter_guest(self, name, on='a', memory_mib=128, disk=False, persistent=True):
        """Defines (or creates, not @persistent) and starts the counter
        guest on host @on, bridged to br0; waits for its lease, its first
        counter line and the outside reaching its httpd. Returns a Guest."""
        d = self.daemon(on)
        mac = self.next_mac()
        path = self.make_disk(name) if disk else None
        xml = self.guest_xml(name, mac, memory_mib=memory_mib, disk=path)
        seen = d.boots(name)
        # A guest of this name that an earlier case lost (or rebooted)
        # left its lines in the console logs, which QEMU appends to.
        earlier = {b for h in (self.a, self.b) for _n, b in counters(h, name)}
        if persistent:
            d.define(name, xml)
            d.start_domain(name, wait_boot=False)
        else:
            f = d.write_xml(name, xml)
            d.vsh('create', f)
        boot = d.wait_boot(name, seen)
        log = d.wait_console(name, 'VIRTD-GUEST-NET eth0 mac=%s ip=' % mac, timeout=60)
        m = re.findall(r'VIRTD-GUEST-NET eth0 mac=%s ip=([\d.]+)/' % re.escape(mac), log)
        ip = m[-1]
        # (60 s: on a loaded 2-CPU machine a TCG guest can stall for 20 s.)
        wait_for(lambda: any(b == boot for _n, b in counters(d, name)), 60 * harness.TIMEOUT_SCALE,
                 what='a counter line of %s' % name)
        self.wait_outside_get(ip, name)
        n = max(n for n, b in counters(d, name) if b == boot)
        return Guest(name, mac, ip, boot, n, earlier)

    def wait_counter(self, d, name, guest, above=None, timeout=30):
        """Waits until @d's console log of @name shows a counter line of
        @guest's boot with n > @above (default: the last n seen of it) and
        returns that n; raises if a line of another boot shows up."""
        floor = guest.n if above is None else above

        def check():
            for n, b in counters(d, name):
                if b != guest.boot_id and b not in guest.earlier:
                    raise AssertionError('%s: counter of another boot %s (n=%d) on %s: the '
                                         'guest rebooted' % (name, b, n, d.root))
            best = [n for n, b in counters(d, name) if b == guest.boot_id and n > floor]
            return max(best) if best else None
        n = wait_for(check, timeout, interval=0.3,
                     what=lambda: 'the counter of %s (boot %s) above %d on %s; last: %r'
                     % (name, guest.boot_id, floor, d.root, last_counter(d, name)))
        guest.n = n
        return n


_live_labs = []

# What a failed test prints of each open lab (report()): the last lines of
# both daemons' logs and of each QEMU's own log (stderr, -msg timestamp=on;
# "load of migration failed" and the like are only there).
REPORT_DAEMON_LINES = 40
REPORT_QEMU_LINES = 12
REPORT_CONSOLE_LINES = 12


def _qemu_logs(d):
    """[(name, path)] of QEMU's logs under @d's root (log/NAME.log), newest
    first; the console logs (log/console/) are not QEMU's."""
    logdir = os.path.join(d.root, 'log')
    try:
        names = [n for n in os.listdir(logdir) if n.endswith('.log')]
    except OSError:
        return []
    paths = [(n[:-4], os.path.join(logdir, n)) for n in names]
    paths = [(n, p) for n, p in paths if os.path.isfile(p)]
    return sorted(paths, key=lambda np: -os.path.getmtime(np[1]))


def _qemu_log_lines(path, lines):
    """The last @lines of a QEMU log without its argv (one word a line,
    indented: the daemon's note of each start): what QEMU itself said."""
    text = harness._tail(path, 400)
    kept = [ln for ln in text.splitlines() if not ln.startswith('  ')]
    return kept[-lines:]


def report(lab, why=''):
    """The tails of both daemons' and their QEMUs' logs, as one text."""
    out = ['==== migrate_lab: %s%s' % (lab.base, (' (%s)' % why) if why else '')]
    for tag, d in (('A', lab.a), ('B', lab.b)):
        if d is None:
            continue
        out.append('---- host %s daemon %s (last %d lines)'
                   % (tag, harness.DAEMON_LOG, REPORT_DAEMON_LINES))
        out.append(d.daemon_log_tail(REPORT_DAEMON_LINES))
        for name, path in _qemu_logs(d)[:3]:
            out.append('---- host %s QEMU of %s: log/%s.log (last %d lines but its argv)'
                       % (tag, name, name, REPORT_QEMU_LINES))
            out.extend(_qemu_log_lines(path, REPORT_QEMU_LINES))
            # The guest's own words (an oops after a migration, a reboot),
            # without its counter and status lines.
            lines = harness._tail(d.console_log_path(name), 400).splitlines()
            said = [ln for ln in lines
                    if ln.strip() and 'VIRTD-GUEST-COUNTER' not in ln and
                    'VIRTD-GUEST-STATUS' not in ln]
            out.append('---- host %s console of %s (last %d lines but the counter)'
                       % (tag, name, REPORT_CONSOLE_LINES))
            out.extend(said[-REPORT_CONSOLE_LINES:])
            # ... and where the counter and the status lines stood (a guest
            # that stalled, or one whose counter never began).
            ticks = [ln for ln in lines if 'VIRTD-GUEST-COUNTER' in ln or
                     'VIRTD-GUEST-STATUS' in ln]
            out.append('---- host %s console of %s: its last counter and status lines'
                       % (tag, name))
            out.extend(ticks[-3:] or ['(none in the last 400 lines)'])
    return '\n'.join(out) + '\n'


def _report_if_failed(testcase):
    """A cleanup: when @testcase has failed so far (its setUp, test,
    tearDown or an earlier cleanup is among the result's errors or
    failures: unittest adds them as they happen), prints report() of every
    open lab to stderr, once per test, before a per-test lab is closed."""
    if getattr(testcase, '_lab_reported', False):
        return
    result = getattr(getattr(testcase, '_outcome', None), 'result', None)
    failed = result is not None and any(t is testcase for t, _tb in
                                        list(result.errors) + list(result.failures))
    if not failed:
        return
    testcase._lab_reported = True
    for lab in list(_live_labs):
        if not lab._closed:
            sys.stderr.write(report(lab, 'after the failure of %s' % testcase.id()))
    sys.stderr.flush()


class LabCase(harness.VirtdTestCase):
    """A test case on a lab: when one of its tests fails, the logs of the
    open labs are printed (report()), so a CI failure says what the
    daemons and QEMUs saw."""

    def setUp(self):
        super().setUp()
        self._lab_reported = False
        # Cleanups run last-in first-out: this one after the test's own
        # (a per-test lab registers its own report before its close).
        self.addCleanup(_report_if_failed, self)


def cleanup_all_labs(quick=False):
    for lab in list(_live_labs):
        try:
            lab.close(quick=quick)
        except Exception as e:
            sys.stderr.write('migrate_lab: cleanup of %s failed: %s\n' % (lab.base, e))


def migrate_lab(testcase, storage='shared', **kw):
    """The fixture: a MigrateLab with both daemons running, closed by
    @testcase's cleanups (after the test, whatever its outcome)."""
    lab = MigrateLab(storage=storage, **kw).__enter__()
    testcase.addCleanup(lab.close)
    testcase.addCleanup(_report_if_failed, testcase)
    return lab


def _on_signal(signum, frame):
    # The harness's handler ends in os._exit (no atexit): close the labs
    # (their daemons, QEMUs, namespaces, BASE) first.
    try:
        cleanup_all_labs(quick=True)
    finally:
        harness._on_signal(signum, frame)


# Labs go before the harness's own clean-up of daemons and NetLabs (atexit
# runs the last registered first).
import atexit  # noqa: E402
atexit.register(cleanup_all_labs)
for _sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT):
    try:
        signal.signal(_sig, _on_signal)
    except (ValueError, OSError):
        pass
