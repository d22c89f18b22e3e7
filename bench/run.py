#!/usr/bin/env python3
"""Side-by-side benchmark: virtd + vsh against libvirtd + virsh.

Same machine, same run, same guest (tests/guest, TCG), same domain XML.
Run as root from anywhere:

    ./bench/run.py                 # as root; full run (~5-8 minutes)
    ./bench/run.py --quick         # small counts, for iterating

Python 3 standard library only. What each figure means, how libvirt is run
here and the caveats: bench/README.md.

Cleanup guarantee: whatever happens (failure, Ctrl+C, SIGTERM, SIGHUP), every
domain the benchmark defined is destroyed and undefined, the daemons it
started are stopped, every process whose command line names the run's temp
dir or its unique domain-name prefix is killed, the temp dir is removed and
the mount points / cgroups it created are removed again.
"""

import argparse
import ast
import concurrent.futures
import datetime
import http.client
import json
import os
import platform
import queue
import re
import secrets
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
sys.path.insert(0, HERE)
import net_phase  # noqa: E402  (the network figures, issue 9)
import hotplug_phase  # noqa: E402  (hot-plug and domstats figures, issue 11)
import snapshot_phase  # noqa: E402  (clone, save/restore, snapshot figures, issue 12)
import migrate_phase  # noqa: E402  (live migration figures, issue 13)
import transport_phase  # noqa: E402  (remote transports' latency, issue 13)

SRCROOT = os.path.dirname(HERE)
BUILD = os.path.join(SRCROOT, 'build')
GUEST_DIR = os.path.join(BUILD, 'guest')
REAPER = os.path.join(HERE, 'reaper.py')
BUILD_GUEST = os.path.join(SRCROOT, 'tests', 'guest', 'build-guest.sh')
HARNESS = os.path.join(SRCROOT, 'tests', 'integration', 'harness.py')
DEPS = os.path.join(SRCROOT, 'scripts', 'deps.sh')
OUT_DIR = os.path.join(HERE, 'out')

READY_MARKER = b'VIRTD-GUEST-READY'

# libvirt's privileged paths, replaced by private directories inside a mount
# namespace of their own (see Libvirt.setup).
LIBVIRT_MOUNTS = [('etc', '/etc/libvirt'), ('lib', '/var/lib/libvirt'),
                  ('run', '/run/libvirt'), ('log', '/var/log/libvirt'),
                  ('cache', '/var/cache/libvirt')]

# What the private libvirt instance changes from Debian's qemu.conf (the rest
# of /etc/libvirt/*.conf is copied as is). QEMU runs as root like virtd's,
# reads the kernel from the source tree without a chown of it, no MAC driver
# (none is active on this kind of host anyway).
QEMU_CONF_EXTRA = '''
# ---- added by virtd's bench/run.py (private instance) ----
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
'''
LIBVIRTD_CONF_EXTRA = '''
# ---- added by virtd's bench/run.py (private instance) ----
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
'''

GOALS = [
    # (figure key, kind, threshold, text)
    ('boot', 'ratio', 0.4, 'start -> guest user space <= 0.4x'),
    ('list1000', 'ratio', 0.5, 'list --all (N domains) <= 0.5x'),
    ('define', 'ratio', 0.5, 'define <= 0.5x'),
    ('rss', 'ratio', 0.33, 'daemon RSS (N domains) <= 0.33x'),
    ('storm_total', 'ratio', 0.5, '20 concurrent starts, total <= 0.5x'),
    ('storm_list_max', 'abs_virtd', 0.050, 'list during the storm < 50 ms (virtd, max)'),
] + net_phase.GOALS + hotplug_phase.GOALS + snapshot_phase.GOALS + migrate_phase.GOALS

# Figures whose left column is not libvirt's (the migration figures compare
# virtd with QEMU driven over QMP, no daemon): figure -> results key.
LEFT_KEY = dict(migrate_phase.LEFT_KEY)
LEFT_KEY.update({k: 'qemu' for k, _l, _u in transport_phase.FIGURES})   # virtd only
LEFT_LABEL = {'qemu': 'QEMU/QMP'}


class BenchError(Exception):
    pass


class Interrupted(BaseException):
    pass


def log(msg):
    sys.stderr.write('[%s] %s\n' % (time.strftime('%H:%M:%S'), msg))
    sys.stderr.flush()


def guest_cmdline():
    """The harness's GUEST_CMDLINE, read from its source (one definition)."""
    try:
        with open(HARNESS) as f:
            tree = ast.parse(f.read())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == 'GUEST_CMDLINE' for t in node.targets):
                return ast.literal_eval(node.value)
    except (OSError, SyntaxError, ValueError):
        pass
    raise BenchError('cannot read GUEST_CMDLINE from %s' % HARNESS)


def xml_escape(s):
    return (s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
            .replace("'", '&apos;').replace('"', '&quot;'))


# The one domain XML template, for both sides.
DOMAIN_XML = '''<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <currentMemory unit='MiB'>256</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='file'>
      <source path='{serial}'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='{serial}'/>
      <target type='serial' port='0'/>
    </console>
  </devices>
</domain>
'''


def domain_xml(name, serial):
    return DOMAIN_XML.format(name=xml_escape(name),
                             kernel=xml_escape(os.path.join(GUEST_DIR, 'vmlinuz')),
                             initrd=xml_escape(os.path.join(GUEST_DIR, 'initrd.img')),
                             cmdline=xml_escape(guest_cmdline()),
                             serial=xml_escape(serial))


# --------------------------------------------------------------------------
# Processes

def read_cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read()
    except OSError:
        return b''


def pid_alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(')') + 2] not in 'ZX'


def processes_mentioning(needles):
    me = os.getpid()
    out = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == me:
            continue
        cmd = read_cmdline(int(entry))
        if cmd and any(n.encode() in cmd for n in needles) and pid_alive(int(entry)):
            out.append(int(entry))
    return out


def kill_processes_mentioning(needles, timeout=10):
    """SIGKILLs every live process whose argv contains one of needles."""
    killed = []
    deadline = time.monotonic() + timeout
    while True:
        pids = processes_mentioning(needles)
        if not pids:
            return killed
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
                if p not in killed:
                    killed.append(p)
            except OSError:
                pass
            try:
                os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                pass
        if time.monotonic() > deadline:
            log('warning: could not kill %s' % pids)
            return killed
        time.sleep(0.05)


def terminate_pid(pid, timeout=20):
    """SIGTERM, then SIGKILL after timeout. Returns how it ended."""
    if not pid or not pid_alive(pid):
        return 'not running'
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return 'gone'
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not pid_alive(pid):
            return 'terminated'
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    return 'killed'


def vm_rss_kib(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def sh(argv, check=True, timeout=600, env=None, capture=True):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.STDOUT if capture else None,
                       universal_newlines=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise BenchError('%s exited %d:\n%s' % (' '.join(argv), r.returncode,
                                                 (r.stdout or '')[-3000:]))
    return r


def first_line(argv):
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, timeout=30)
        return (r.stdout or '').strip().splitlines()[0] if r.stdout.strip() else ''
    except (OSError, subprocess.SubprocessError, IndexError):
        return ''


class CliResult:
    def __init__(self, argv, rc, out, err, seconds):
        self.argv, self.rc, self.out, self.err, self.seconds = argv, rc, out, err, seconds

    def __repr__(self):
        return '%s -> %s (%.3f s)\n%s%s' % (' '.join(self.argv), self.rc, self.seconds,
                                            self.out[-2000:], self.err[-2000:])


# --------------------------------------------------------------------------
# Serial files: wait for the READY marker

class MarkerWatch:
    """Polls files for READY_MARKER, reading only what is new each time."""

    def __init__(self, paths, marker=READY_MARKER):
        self.pos = {p: 0 for p in paths}
        self.tail = {p: b'' for p in paths}
        self.found = {}
        self.marker = marker

    def poll(self):
        now = time.perf_counter()
        for p in self.pos:
            if p in self.found:
                continue
            try:
                with open(p, 'rb') as f:
                    f.seek(self.pos[p])
                    data = f.read()
            except OSError:
                continue
            if not data:
                continue
            self.pos[p] += len(data)
            buf = self.tail[p] + data
            if self.marker in buf:
                self.found[p] = now
            else:
                self.tail[p] = buf[-len(self.marker):]
        return len(self.found) == len(self.pos)


def only_switch(args):
    """'net', 'hotplug', 'snapshot', 'migrate' for --only-X, else None."""
    for phase in ('net', 'hotplug', 'snapshot', 'migrate'):
        if getattr(args, 'only_' + phase):
            return phase
    return None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


class Reaped:
    """A command run under bench/reaper.py (a child subreaper that reaps every
    orphaned descendant at once, as systemd would; see reaper.py)."""

    def __init__(self, argv, log_path, cwd=None):
        self.log_path = log_path
        logf = open(log_path, 'ab')
        self.proc = subprocess.Popen([sys.executable, REAPER, '--'] + argv,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=logf, cwd=cwd, env=dict(os.environ, LC_ALL='C'),
                                     start_new_session=True)
        logf.close()
        self.lines = queue.Queue()
        self.pid = None
        self.rc = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.decode('utf-8', 'replace').strip())
        self.lines.put(None)

    def _next(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None:
            return None
        word, _sp, val = line.partition(' ')
        if word == 'pid':
            self.pid = int(val)
        elif word == 'exit':
            self.rc = int(val)
        return line

    def child_pid(self, timeout=30):
        deadline = time.monotonic() + timeout
        while self.pid is None and time.monotonic() < deadline:
            if self._next(0.1) is None and self.proc.poll() is not None:
                break
        return self.pid

    def wait_exit(self, timeout):
        """The command's exit status (None if still running after timeout)."""
        deadline = time.monotonic() + timeout
        while self.rc is None and time.monotonic() < deadline:
            if self._next(0.1) is None and self.proc.poll() is not None and self.lines.empty():
                break
        return self.rc

    def log_text(self, n=40):
        try:
            with open(self.log_path, errors='replace') as f:
                return ''.join(f.readlines()[-n:])
        except OSError:
            return ''

    def finish(self, timeout=15):
        """Waits for the helper to exit (it does once every descendant is
        gone); SIGKILLs it after timeout."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return 'helper killed'
        return 'helper done'


# --------------------------------------------------------------------------
# The two sides

class Side:
    key = label = None

    def __init__(self, bench):
        self.bench = bench
        self.serial_dir = os.path.join(bench.tmp, 'serial', self.key)
        self.xml_dir = os.path.join(bench.tmp, 'xml', self.key)
        os.makedirs(self.serial_dir)
        os.makedirs(self.xml_dir)
        self.ready_seconds = None
        self.env = dict(os.environ, LC_ALL='C', HOME=bench.home)
        for k in ('LIBVIRT_DEFAULT_URI', 'VIRSH_DEFAULT_CONNECT_URI', 'VSH_DEFAULT_URI'):
            self.env.pop(k, None)

    # to override
    def cli_argv(self, args):
        raise NotImplementedError

    def daemon_pids(self):
        raise NotImplementedError

    def alive(self):
        raise NotImplementedError

    # shared
    def cli(self, *args, check=True, timeout=120):
        argv = self.cli_argv([str(a) for a in args])
        t0 = time.perf_counter()
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True,
                               env=self.env, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise BenchError('%s: timed out after %d s' % (' '.join(argv), timeout)) from e
        res = CliResult(argv, r.returncode, r.stdout, r.stderr, time.perf_counter() - t0)
        if check and r.returncode != 0:
            raise BenchError('%s: command failed: %r' % (self.label, res))
        return res

    def cli_popen(self, *args):
        argv = self.cli_argv([str(a) for a in args])
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True, env=self.env)

    def serial_path(self, name):
        return os.path.join(self.serial_dir, name + '.serial')

    def xml_path(self, name):
        return os.path.join(self.xml_dir, name + '.xml')

    def write_xml(self, name):
        p = self.xml_path(name)
        with open(p, 'w') as f:
            f.write(domain_xml(name, self.serial_path(name)))
        return p

    def define(self, name):
        return self.cli('define', self.write_xml(name))

    def rss_kib(self):
        vals = [vm_rss_kib(p) for p in self.daemon_pids()]
        if any(v is None for v in vals):
            return None
        return sum(vals)

    def domstate(self, name):
        return self.cli('domstate', name).out.strip()

    def bench_domains(self):
        """Names of this run's domains (prefix), all states."""
        r = self.cli('list', '--all', '--name', check=False, timeout=60)
        if r.rc != 0:
            return []
        return [l.strip() for l in r.out.splitlines()
                if l.strip().startswith(self.bench.prefix)]

    def remove_all_domains(self):
        """destroy + undefine every domain of this run (parallel)."""
        if not self.alive():
            return 0
        names = self.bench_domains()

        def one(n):
            self.cli('destroy', n, check=False, timeout=60)
            self.cli('undefine', n, check=False, timeout=60)

        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
            list(ex.map(one, names))
        left = self.bench_domains()
        if left:
            log('%s: warning: %d domains still defined after cleanup' % (self.label, len(left)))
        return len(names)


class Libvirt(Side):
    key = 'libvirt'
    label = 'libvirt+virsh'

    def __init__(self, bench):
        super().__init__(bench)
        self.base = os.path.join(bench.tmp, 'libvirt')
        self.sock = os.path.join(self.base, 'run', 'libvirt-sock')
        self.uri = 'qemu:///system?socket=' + self.sock
        self.libvirtd_pid = self.virtlogd_pid = None
        self.reaper = None
        self.created_mountpoints = []
        self.cgroups_before = None

    @staticmethod
    def installed():
        if not all(os.access(p, os.X_OK) for p in
                   ('/usr/sbin/libvirtd', '/usr/sbin/virtlogd', '/usr/bin/virsh')):
            return False
        r = subprocess.run(['dpkg-query', '-W', '-f=${Status}', 'libvirt-daemon-driver-qemu'],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           universal_newlines=True)
        return 'install ok installed' in r.stdout

    @classmethod
    def install(cls):
        if cls.installed():
            return False
        pkgs = ['libvirt-daemon-system', 'libvirt-clients']
        log('installing %s from Debian' % ' '.join(pkgs))
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        argv = ['apt-get', 'install', '-y', '-q', '--no-install-recommends'] + pkgs
        r = sh(argv, check=False, env=env)
        if r.returncode != 0:
            log('apt-get install failed; apt-get update and retry')
            sh(['apt-get', 'update', '-q'], env=env)
            sh(argv, env=env)
        if not cls.installed():
            raise BenchError('libvirt is still missing after apt-get install')
        return True

    def cli_argv(self, args):
        return ['virsh', '-c', self.uri] + args

    def daemon_pids(self):
        return [p for p in (self.libvirtd_pid, self.virtlogd_pid) if p]

    def alive(self):
        return bool(self.libvirtd_pid) and pid_alive(self.libvirtd_pid)

    @staticmethod
    def _cgroup_machine_dirs():
        found = set()
        root = '/sys/fs/cgroup'
        try:
            entries = os.listdir(root)
        except OSError:
            return found
        if os.path.isdir(os.path.join(root, 'machine')):
            found.add(os.path.join(root, 'machine'))
        for e in entries:
            d = os.path.join(root, e, 'machine')
            if os.path.isdir(d):
                found.add(d)
        return found

    def setup(self):
        for sub, _target in LIBVIRT_MOUNTS:
            os.makedirs(os.path.join(self.base, sub))
        # Configuration: the host's top-level *.conf files only (no domain,
        # network, nwfilter, storage definitions, no hooks).
        etc = os.path.join(self.base, 'etc')
        for f in os.listdir('/etc/libvirt'):
            src = os.path.join('/etc/libvirt', f)
            if os.path.isfile(src) and f.endswith('.conf'):
                shutil.copy2(src, os.path.join(etc, f))
        with open(os.path.join(etc, 'qemu.conf'), 'a') as f:
            f.write(QEMU_CONF_EXTRA)
        with open(os.path.join(etc, 'libvirtd.conf'), 'a') as f:
            f.write(LIBVIRTD_CONF_EXTRA)
        for _sub, target in LIBVIRT_MOUNTS:
            if not os.path.isdir(target):
                os.makedirs(target)
                self.created_mountpoints.append(target)
        self.cgroups_before = self._cgroup_machine_dirs()

        lines = ['set -e']
        for sub, target in LIBVIRT_MOUNTS:
            lines.append("mount --bind '%s' '%s'" % (os.path.join(self.base, sub), target))
        lines.append("/usr/sbin/virtlogd -d -p '%s/virtlogd.pid'" % self.base)
        lines.append("/usr/sbin/libvirtd -d -p '%s/libvirtd.pid'" % self.base)
        t0 = time.perf_counter()
        self.reaper = Reaped(['unshare', '--mount', '--propagation', 'private', '--',
                              'sh', '-c', '\n'.join(lines)],
                             os.path.join(self.base, 'startup.log'))
        rc = self.reaper.wait_exit(120)
        if rc != 0:
            raise BenchError('could not start a private libvirtd (unshare/mount/daemons): '
                             'exit %s\n%s' % (rc, self.reaper.log_text()))
        self.virtlogd_pid = self._read_pid('virtlogd.pid')
        self.libvirtd_pid = self._read_pid('libvirtd.pid')
        deadline = time.monotonic() + 180
        while True:
            res = self.cli('version', check=False, timeout=120)
            if res.rc == 0 and 'Running hypervisor' in res.out:
                break
            if not self.alive():
                raise BenchError('libvirtd exited during start-up; log:\n%s' % self.log_tail())
            if time.monotonic() > deadline:
                raise BenchError('libvirtd not answering: %r\n%s' % (res, self.log_tail()))
            time.sleep(0.1)
        self.ready_seconds = time.perf_counter() - t0
        self.version_text = res.out

    def _read_pid(self, name):
        path = os.path.join(self.base, name)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    txt = f.read().strip()
                if txt:
                    return int(txt)
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise BenchError('no pid file %s' % path)

    def log_tail(self, n=40):
        p = os.path.join(self.base, 'log', 'libvirtd.log')
        try:
            with open(p, errors='replace') as f:
                return ''.join(f.readlines()[-n:])
        except OSError:
            return '(no %s)' % p

    def teardown(self):
        n = 0
        try:
            # Interrupted during start-up: the daemons may run, pids unread.
            for attr, fname in (('libvirtd_pid', 'libvirtd.pid'), ('virtlogd_pid', 'virtlogd.pid')):
                if not getattr(self, attr):
                    try:
                        with open(os.path.join(self.base, fname)) as f:
                            setattr(self, attr, int(f.read().strip()))
                    except (OSError, ValueError):
                        pass
            n = self.remove_all_domains()
        finally:
            res_l = terminate_pid(self.libvirtd_pid)
            res_v = terminate_pid(self.virtlogd_pid)
            res_r = 'no helper'
            if self.reaper is not None:
                kill_processes_mentioning(['guest=' + self.bench.prefix])
                res_r = self.reaper.finish()
            log('libvirt: %d domains removed; libvirtd %s, virtlogd %s, %s'
                % (n, res_l, res_v, res_r))
            # Mount points made for the private instance (its namespace is
            # gone with its last process).
            for target in reversed(self.created_mountpoints):
                try:
                    os.rmdir(target)
                except OSError as e:
                    log('warning: could not remove %s: %s' % (target, e))
            self.created_mountpoints = []
            self.remove_new_cgroups()

    def remove_new_cgroups(self):
        """libvirt without systemd makes /sys/fs/cgroup/*/machine; remove the
        ones that were not there before (empty ones only, depth first)."""
        if self.cgroups_before is None:
            return
        for d in sorted(self._cgroup_machine_dirs() - self.cgroups_before):
            for dirpath, _dirs, _files in sorted(os.walk(d, topdown=False),
                                                  key=lambda t: -t[0].count('/')):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
            if os.path.isdir(d):
                log('warning: cgroup %s left behind (not empty?)' % d)
        self.cgroups_before = None


class Virtd(Side):
    key = 'virtd'
    label = 'virtd+vsh'

    def __init__(self, bench, key=None, root_name='virtd-root', log_name='virtd.log',
                 extra_args=None):
        if key:
            self.key = key      # a second daemon (the migration figures' destination)
        super().__init__(bench)
        self.log_name = log_name
        self.extra_args = extra_args    # None, or f(virtd --help text) -> [arguments]
        self.root = os.path.join(bench.tmp, root_name)
        self.sock = os.path.join(self.root, 'virtd.sock')
        self.uri = 'unix://' + self.sock
        self.reaper = None
        self.pid = None
        bindir = os.path.join(bench.tmp, 'bin')
        self.virtd = os.path.join(bindir, 'virtd')
        self.vsh = os.path.join(bindir, 'vsh')

    def cli_argv(self, args):
        return [self.vsh, '-c', self.uri] + args

    def cli_at(self, uri, *args, timeout=120):
        """vsh -c @uri ARGS (another transport to this daemon); never raises
        on a failed command."""
        argv = [self.vsh, '-c', uri] + [str(a) for a in args]
        t0 = time.perf_counter()
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True,
                               env=self.env, timeout=timeout)
        except subprocess.TimeoutExpired:
            return CliResult(argv, -1, '', 'timed out after %d s' % timeout,
                             time.perf_counter() - t0)
        return CliResult(argv, r.returncode, r.stdout, r.stderr, time.perf_counter() - t0)

    def daemon_pids(self):
        return [self.pid] if self.pid else []

    def alive(self):
        return bool(self.pid) and pid_alive(self.pid)

    def _api_ok(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(self.sock)
            conn = http.client.HTTPConnection('localhost', timeout=5)
            conn.sock = s
            conn.request('GET', '/v1/version')
            r = conn.getresponse()
            body = r.read()
            return r.status == 200 and body
        except (OSError, http.client.HTTPException):
            return None
        finally:
            s.close()

    def setup(self):
        os.makedirs(self.root)
        # As the tests: no dnsmasq of the run sends a query off the machine.
        # And the same starting point as the private libvirtd, which is
        # given no network definitions: no 'default' network (the network
        # figures define and start their own on both sides).
        r = subprocess.run([self.virtd, '--help'], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        extra = ['--dns-forward=none'] if '--dns-forward' in r.stdout else []
        if '--no-default-network' in r.stdout:
            extra.append('--no-default-network')
        # Incoming migrations (the migration figures, two daemons on this
        # machine) listen on loopback only.
        if '--migration-host' in r.stdout:
            extra += ['--migration-host', '127.0.0.1']
        if self.extra_args:
            extra += self.extra_args(r.stdout)
        t0 = time.perf_counter()
        self.reaper = Reaped([self.virtd, '--root', self.root] + extra,
                             os.path.join(self.bench.tmp, self.log_name), cwd=self.root)
        self.pid = self.reaper.child_pid()
        if not self.pid:
            raise BenchError('could not run virtd:\n%s' % self.log_tail())
        deadline = time.monotonic() + 60
        while True:
            body = self._api_ok()
            if body:
                break
            if not self.alive():
                raise BenchError('virtd exited with %s during start-up:\n%s' %
                                 (self.reaper.wait_exit(1), self.log_tail()))
            if time.monotonic() > deadline:
                raise BenchError('virtd socket not ready after 60 s:\n%s' % self.log_tail())
            time.sleep(0.01)
        self.ready_seconds = time.perf_counter() - t0
        self.version_text = body.decode('utf-8', 'replace')

    def log_tail(self, n=40):
        try:
            with open(os.path.join(self.bench.tmp, self.log_name), errors='replace') as f:
                return ''.join(f.readlines()[-n:])
        except OSError:
            return ''

    def teardown(self):
        n = 0
        try:
            n = self.remove_all_domains()
        finally:
            how = 'not started'
            if self.reaper is not None:
                how = terminate_pid(self.pid)
                kill_processes_mentioning([self.root])
                how += ', ' + self.reaper.finish()
            log('%s: %d domains removed; virtd %s' % (self.label, n, how))


# --------------------------------------------------------------------------
# The benchmark

class Bench:
    def __init__(self, args):
        self.args = args
        token = secrets.token_hex(3)
        self.prefix = '%s-%s-' % (args.name_prefix, token)
        self.tmp = tempfile.mkdtemp(prefix=self.prefix, dir='/tmp')
        # virtd's QEMU runs as virtd-qemu (docs/security.md): it must search
        # the directories of the serial files it writes (0700 from mkdtemp).
        os.chmod(self.tmp, 0o711)
        self.home = os.path.join(self.tmp, 'home')
        os.makedirs(self.home)
        self.sides = []
        self.results = {}          # figure -> side key -> {samples, value}
        self.errors = []
        self.info = {}
        self.t_start = time.perf_counter()
        only = only_switch(args)

        def wanted(phase):
            return not getattr(args, 'no_' + phase) and only in (None, phase)
        self.net = net_phase.NetPhase(self, log, self.wait_marker, domain_xml) \
            if wanted('net') else None
        self.hotplug = hotplug_phase.HotplugPhase(self, log, self.wait_marker, domain_xml) \
            if wanted('hotplug') else None
        self.snapshot = snapshot_phase.SnapshotPhase(self, log, self.wait_marker, domain_xml) \
            if wanted('snapshot') else None
        self.migrate = migrate_phase.MigratePhase(self, log, self.wait_marker, domain_xml,
                                                  Virtd) if wanted('migrate') else None

    # ---- results

    def record(self, fig, side, value=None, samples=None, **extra):
        d = self.results.setdefault(fig, {}).setdefault(side.key, {})
        if samples is not None:
            d.setdefault('samples', []).extend(samples)
        if value is not None:
            d['value'] = value
        d.update(extra)

    def value(self, fig, key):
        d = self.results.get(fig, {}).get(key, {})
        if 'value' in d:
            return d['value']
        return median(d.get('samples', []))

    def error(self, side, what, exc):
        msg = '%s: %s: %s' % (side.label if side else '-', what, exc)
        log('ERROR ' + msg)
        self.errors.append(msg)

    def other_qemus(self):
        return [p for p in processes_mentioning(['qemu-system'])
                if self.prefix.encode() not in read_cmdline(p)
                and self.tmp.encode() not in read_cmdline(p)]

    def sample_load(self, when):
        """Other QEMUs and the load average: this benchmark wants the
        machine to itself (2 cores, TCG guests are CPU-bound)."""
        others = self.other_qemus()
        entry = {'when': when, 'loadavg': [round(x, 2) for x in os.getloadavg()],
                 'other_qemu': len(others)}
        self.info.setdefault('load', []).append(entry)
        if others:
            log('warning: %d QEMU processes of someone else are running (%s): figures will be '
                'noisy' % (len(others), when))
        return entry

    def wait_idle(self):
        if self.args.wait_idle <= 0:
            return
        deadline = time.monotonic() + self.args.wait_idle
        said = False
        while time.monotonic() < deadline:
            others, load = self.other_qemus(), os.getloadavg()[0]
            if not others and load < 1.0:
                return
            if not said:
                log('waiting up to %d s for a quiet host (other QEMUs: %d, load %.2f)'
                    % (self.args.wait_idle, len(others), load))
                said = True
            time.sleep(5)
        log('warning: the host is still busy; measuring anyway')

    def start_load_monitor(self):
        """Every 2 s: how many QEMUs that are not ours run (someone else's
        tests on a shared machine skew every figure)."""
        self.monitor_stop = threading.Event()
        self.foreign = {'samples': 0, 'with_other_qemu': 0, 'max_other_qemu': 0}

        def loop():
            while not self.monitor_stop.wait(2.0):
                try:
                    n = len(self.other_qemus())
                except Exception:
                    continue
                self.foreign['samples'] += 1
                if n:
                    self.foreign['with_other_qemu'] += 1
                self.foreign['max_other_qemu'] = max(self.foreign['max_other_qemu'], n)
        threading.Thread(target=loop, daemon=True).start()

    def stop_load_monitor(self):
        if getattr(self, 'monitor_stop', None):
            self.monitor_stop.set()
            self.info['foreign_qemu'] = self.foreign

    def order(self, i):
        """Alternate which side goes first, run by run."""
        return self.sides if i % 2 == 0 else list(reversed(self.sides))

    # ---- figures 1 and 2: one boot cycle

    def boot_cycle(self, side, name):
        """start -> READY in the serial file; then ACPI shutdown -> 'shut off'.
        Returns (start_cli_s, boot_s, shutdown_s)."""
        serial = side.serial_path(name)
        try:
            os.unlink(serial)
        except FileNotFoundError:
            pass
        watch = MarkerWatch([serial])
        t0 = time.perf_counter()
        r = side.cli('start', name)
        start_cli = r.seconds
        deadline = time.monotonic() + self.args.boot_timeout
        while not watch.poll():
            if time.monotonic() > deadline:
                side.cli('destroy', name, check=False)
                raise BenchError('no %s in %s after %d s' % (READY_MARKER.decode(), serial,
                                                            self.args.boot_timeout))
            time.sleep(0.01)
        boot = watch.found[serial] - t0

        t1 = time.perf_counter()
        side.cli('shutdown', name)
        deadline = time.monotonic() + self.args.shutdown_timeout
        while True:
            state = side.domstate(name)
            if state == 'shut off':
                break
            if time.monotonic() > deadline:
                side.cli('destroy', name, check=False)
                raise BenchError('still %r %d s after shutdown' % (state, self.args.shutdown_timeout))
            time.sleep(0.02)
        shutdown = time.perf_counter() - t1
        return start_cli, boot, shutdown

    def phase_boot(self):
        name = self.prefix + 'boot'
        for side in self.sides:
            side.define(name)
        if self.args.warmup:
            for side in self.sides:
                for i in range(self.args.warmup):
                    try:
                        sc, b, s = self.boot_cycle(side, name)
                        log('%s: warm-up %d: start->READY %.2f s, shutdown %.2f s'
                            % (side.label, i + 1, b, s))
                        if 'boot_cold' not in self.results or \
                                side.key not in self.results['boot_cold']:
                            self.record('boot_cold', side, value=b)
                    except BenchError as e:
                        self.error(side, 'warm-up boot', e)
        for i in range(self.args.boot_runs):
            for side in self.order(i):
                try:
                    sc, b, s = self.boot_cycle(side, name)
                except BenchError as e:
                    self.error(side, 'boot cycle %d' % (i + 1), e)
                    continue
                log('%s: run %d/%d: start returned %.3f s, start->READY %.2f s, '
                    'shutdown->shut off %.2f s' % (side.label, i + 1, self.args.boot_runs, sc, b, s))
                if 'boot_cold' not in self.results or side.key not in self.results['boot_cold']:
                    self.record('boot_cold', side, value=b)
                self.record('start_cli', side, samples=[sc])
                self.record('boot', side, samples=[b])
                self.record('shutdown', side, samples=[s])

    def wait_marker(self, path, marker, timeout):
        """perf_counter() when @marker first shows in the file @path."""
        watch = MarkerWatch([path], marker)
        deadline = time.monotonic() + timeout
        while not watch.poll():
            if time.monotonic() > deadline:
                raise BenchError('no %s in %s after %d s' % (marker.decode(), path, timeout))
            time.sleep(0.01)
        return watch.found[path]

    def phase_net(self):
        if self.net is not None:
            self.net.run()

    # ---- figure 5: concurrent starts

    def storm(self, side):
        n = self.args.storm
        names = [self.prefix + 's%02d' % i for i in range(1, n + 1)]
        for nm in names:
            side.define(nm)
            try:
                os.unlink(side.serial_path(nm))
            except FileNotFoundError:
                pass
        watch = MarkerWatch([side.serial_path(nm) for nm in names])
        stop = threading.Event()
        lat = []

        def lister():
            while not stop.is_set():
                try:
                    r = side.cli('list', '--all', check=False, timeout=120)
                    lat.append(r.seconds)
                except BenchError:
                    pass
                stop.wait(0.02)

        t0 = time.perf_counter()
        procs = {nm: side.cli_popen('start', nm) for nm in names}
        th = threading.Thread(target=lister, daemon=True)
        th.start()
        returned = {}
        failed = {}
        try:
            deadline = time.monotonic() + self.args.storm_timeout
            while True:
                for nm, p in procs.items():
                    if nm not in returned and p.poll() is not None:
                        returned[nm] = time.perf_counter() - t0
                        out, err = p.communicate()
                        if p.returncode != 0:
                            failed[nm] = (p.returncode, out + err)
                watch.poll()
                waiting = [nm for nm in names if side.serial_path(nm) not in watch.found
                           and nm not in failed]
                if not waiting:
                    break
                if time.monotonic() > deadline:
                    raise BenchError('storm: %d of %d guests not ready after %d s'
                                     % (len(waiting), n, self.args.storm_timeout))
                time.sleep(0.01)
        finally:
            stop.set()
            th.join(180)
            for p in procs.values():
                if p.poll() is None:
                    p.kill()
                p.communicate()
        if failed:
            raise BenchError('storm: start failed for %s' % failed)
        ready = [watch.found[side.serial_path(nm)] - t0 for nm in names]
        total = max(ready)
        self.record('storm_total', side, value=total, per_guest=sorted(ready))
        self.record('storm_start_returned', side, value=max(returned.values()))
        self.record('storm_list_median', side, value=median(lat), samples=lat)
        self.record('storm_list_max', side, value=max(lat) if lat else None)
        self.record('storm_list_p90', side,
                    value=sorted(lat)[int(0.9 * (len(lat) - 1))] if lat else None)
        log('%s: storm of %d: all READY after %.2f s (all start CLIs returned after %.2f s); '
            'list --all during it: %d samples, median %.0f ms, max %.0f ms'
            % (side.label, n, total, max(returned.values()), len(lat),
               1000 * (median(lat) or 0), 1000 * (max(lat) if lat else 0)))
        return names

    def storm_cleanup(self, side, names):
        def one(nm):
            side.cli('destroy', nm, check=False)
            side.cli('undefine', nm, check=False)
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
            list(ex.map(one, names))

    def phase_storm(self):
        if self.args.storm <= 0:
            return
        for side in self.sides:
            names = [self.prefix + 's%02d' % i for i in range(1, self.args.storm + 1)]
            try:
                self.storm(side)
            except BenchError as e:
                self.error(side, 'storm', e)
            finally:
                self.storm_cleanup(side, names)

    # ---- figures 3 and 4

    def phase_many(self):
        n = self.args.domains
        bulk = [self.prefix + 'd%04d' % i for i in range(1, n)]   # + the boot domain = n
        for side in self.sides:
            t0 = time.perf_counter()
            self.record('rss_fresh', side, value=side.rss_kib())

            def one(nm, side=side):
                side.define(nm)
            with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
                list(ex.map(one, bulk))
            count = len(side.bench_domains())
            log('%s: %d domains defined (%d of this run listed) in %.1f s'
                % (side.label, len(bulk), count, time.perf_counter() - t0))
            self.record('defined_count', side, value=count)

        runs = self.args.cli_runs
        dom = self.prefix + 'boot'
        for i in range(runs):
            for side in self.order(i):
                self.record('list1000', side, samples=[side.cli('list', '--all').seconds])
        for i in range(runs):
            for side in self.order(i):
                self.record('dominfo', side, samples=[side.cli('dominfo', dom).seconds])
        for i in range(runs):
            for side in self.order(i):
                nm = self.prefix + 'def%02d' % i
                path = side.write_xml(nm)
                self.record('define', side, samples=[side.cli('define', path).seconds])
                side.cli('undefine', nm)
        time.sleep(self.args.idle)
        for side in self.sides:
            self.record('rss', side, value=side.rss_kib(),
                        per_process={str(p): vm_rss_kib(p) for p in side.daemon_pids()})
        for side in self.sides:
            log('%s: list --all %.1f ms, dominfo %.1f ms, define %.1f ms (medians); RSS %s KiB'
                % (side.label, 1000 * self.value('list1000', side.key),
                   1000 * self.value('dominfo', side.key), 1000 * self.value('define', side.key),
                   self.value('rss', side.key)))

    # ---- setup and teardown

    def machine_info(self):
        cpu = ''
        try:
            with open('/proc/cpuinfo') as f:
                for line in f:
                    if line.startswith('model name'):
                        cpu = line.split(':', 1)[1].strip()
                        break
        except OSError:
            pass
        mem = ''
        try:
            with open('/proc/meminfo') as f:
                mem = f.readline().split(':', 1)[1].strip()
        except OSError:
            pass
        git = first_line(['git', '-C', SRCROOT, 'rev-parse', '--short', 'HEAD'])
        dirty = sh(['git', '-C', SRCROOT, 'status', '--porcelain', '--untracked-files=no'],
                   check=False).stdout
        self.info.update({
            'date': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
            'hostname': platform.node(),
            'nproc': os.cpu_count(),
            'cpu': cpu,
            'mem_total': mem,
            'kernel': platform.release(),
            'os': first_line(['sh', '-c', '. /etc/os-release && echo "$PRETTY_NAME"']),
            'qemu': first_line(['qemu-system-x86_64', '--version']),
            'libvirt': first_line(['/usr/sbin/libvirtd', '--version']),
            'virsh': first_line(['virsh', '--version']),
            'virtd': first_line([os.path.join(BUILD, 'src', 'daemon', 'virtd'), '--version']),
            'git': git + (' (+%d modified files)' % len(dirty.splitlines()) if dirty.strip() else ''),
            'guest_kernel': open(os.path.join(GUEST_DIR, 'kernel-version')).read().strip()
            if os.path.exists(os.path.join(GUEST_DIR, 'kernel-version')) else '',
            'accel': "TCG (<domain type='qemu'>)",
        })

    def prepare(self):
        a = self.args
        # The migration figures compare virtd with QEMU alone: no libvirt.
        want_libvirt = a.side in ('both', 'libvirt') and not a.only_migrate
        want_virtd = a.side in ('both', 'virtd')
        if want_libvirt:
            self.info['libvirt_installed_now'] = Libvirt.install()
        if not shutil.which('meson') or not shutil.which('qemu-system-x86_64') \
                or not shutil.which('cpio') or not os.path.exists(BUILD_GUEST):
            log('installing build dependencies (scripts/deps.sh)')
            sh(['sh', DEPS])
        if want_virtd:
            self.build_virtd()
        self.build_guest()
        self.machine_info()
        if want_libvirt:
            self.sides.append(Libvirt(self))
        if want_virtd:
            self.sides.append(Virtd(self))

    def build_virtd(self):
        virtd = os.path.join(BUILD, 'src', 'daemon', 'virtd')
        vsh = os.path.join(BUILD, 'src', 'vsh', 'vsh')
        have = os.access(virtd, os.X_OK) and os.access(vsh, os.X_OK)
        if not os.path.exists(os.path.join(BUILD, 'build.ninja')):
            log('meson setup build')
            sh(['meson', 'setup', BUILD, SRCROOT])
        if not self.args.no_build or not have:
            for attempt in range(3):
                r = sh(['meson', 'compile', '-C', BUILD], check=False)
                if r.returncode == 0:
                    self.info['build'] = 'meson compile ok'
                    break
                have = os.access(virtd, os.X_OK) and os.access(vsh, os.X_OK)
                if have:
                    log('warning: meson compile failed; measuring the binaries already built')
                    self.info['build'] = 'meson compile FAILED; measured the previous binaries'
                    break
                log('meson compile failed (attempt %d); retrying in 60 s:\n%s'
                    % (attempt + 1, r.stdout[-1500:]))
                time.sleep(60)
            else:
                raise BenchError('cannot build virtd')
        # A private copy: a rebuild during the run does not change what runs.
        bindir = os.path.join(self.tmp, 'bin')
        os.makedirs(bindir, exist_ok=True)
        shutil.copy2(virtd, os.path.join(bindir, 'virtd'))
        shutil.copy2(vsh, os.path.join(bindir, 'vsh'))
        self.info['virtd_binary_mtime'] = datetime.datetime.fromtimestamp(
            os.path.getmtime(virtd)).isoformat(timespec='seconds')

    def build_guest(self):
        r = sh([BUILD_GUEST, GUEST_DIR], check=False)
        if r.returncode != 0:
            log('build-guest.sh failed; installing dependencies and retrying')
            sh(['sh', DEPS])
            sh([BUILD_GUEST, GUEST_DIR])
        for f in ('vmlinuz', 'initrd.img'):
            if not os.path.exists(os.path.join(GUEST_DIR, f)):
                raise BenchError('no %s in %s' % (f, GUEST_DIR))

    def start_daemons(self):
        for side in self.sides:
            log('%s: starting the daemon' % side.label)
            side.setup()
            self.record('daemon_ready', side, value=side.ready_seconds)
            log('%s: daemon answers after %.2f s' % (side.label, side.ready_seconds))

    def cleanup(self):
        for phase in (self.net, self.hotplug, self.snapshot, self.migrate):
            if phase is None:
                continue
            for side in self.sides:
                try:
                    phase.side_cleanup(side)
                except BaseException as e:
                    log('warning: %s networks: %s' % (side.label, e))
        for side in reversed(self.sides):
            try:
                side.teardown()
            except BaseException as e:     # the other side must be cleaned too
                log('warning: %s teardown: %s' % (side.label, e))
        killed = kill_processes_mentioning([self.tmp, 'guest=' + self.prefix])
        if killed:
            log('killed %d stragglers: %s' % (len(killed), killed))
        left = [p for p in processes_mentioning([self.tmp, self.prefix])]
        for side in self.sides:
            if isinstance(side, Libvirt):
                side.remove_new_cgroups()
        for phase in (self.net, self.hotplug, self.snapshot, self.migrate):
            if phase is None:
                continue
            try:
                phase.cleanup()
            except BaseException as e:
                log('warning: network cleanup: %s' % e)
        shutil.rmtree(self.tmp, ignore_errors=True)
        qemus = [p for p in processes_mentioning(['qemu-system'])
                 if self.prefix.encode() in read_cmdline(p) or self.tmp.encode() in read_cmdline(p)]
        self.info['cleanup'] = {'stragglers_killed': killed, 'left': left + qemus}
        if left or qemus:
            log('warning: processes left: %s' % (left + qemus))
        else:
            log('cleanup done: no QEMU or daemon of this run left, %s removed' % self.tmp)

    # ---- report

    def rows(self):
        a = self.args
        n = a.domains
        if only_switch(a):
            # Phases 1-3 did not run: only the daemons' start-up.
            return ([('__info', '-- informational --', None),
                     ('daemon_ready', 'daemon launch -> answers', 's')] +
                    self.net_rows() + self.hotplug_rows() + self.snapshot_rows() +
                    self.migrate_rows())
        return [
            # key, label, unit, goal
            ('boot', 'start -> guest user space (READY), median of %d' % a.boot_runs, 's'),
            ('shutdown', 'ACPI shutdown -> shut off, median of %d' % a.boot_runs, 's'),
            ('define', 'define (CLI), median of %d' % a.cli_runs, 'ms'),
            ('list1000', 'list --all, %d domains, median of %d' % (n, a.cli_runs), 'ms'),
            ('dominfo', 'dominfo, median of %d' % a.cli_runs, 'ms'),
            ('rss', 'daemon RSS idle, %d domains%s' % (n, ' (libvirtd+virtlogd)'), 'MiB'),
            ('storm_total', '%d concurrent starts -> all READY' % a.storm, 's'),
            ('storm_list_median', 'list --all during the storm, median', 'ms'),
            ('storm_list_max', 'list --all during the storm, max', 'ms'),
            ('__info', '-- informational --', None),
            ('storm_list_p90', 'list --all during the storm, 90th percentile', 'ms'),
            ('start_cli', '`start` command returns, median', 'ms'),
            ('boot_cold', 'first start -> READY (fresh caches)', 's'),
            ('storm_start_returned', 'storm: all `start` commands returned', 's'),
            ('daemon_ready', 'daemon launch -> answers', 's'),
            ('rss_fresh', 'daemon RSS before the %d defines' % n, 'MiB'),
        ] + self.net_rows() + self.hotplug_rows() + self.snapshot_rows() + self.migrate_rows()

    def net_rows(self):
        if self.net is None:
            return []
        a = self.args
        fill = dict(runs=a.net_runs, mib=a.net_mib, extra=a.net_extra)
        return ([('__info', '-- network (issue 9) --', None)] +
                [(k, label.format(**fill), unit) for k, label, unit in net_phase.FIGURES] +
                [(k, label.format(**fill), unit) for k, label, unit in net_phase.INFO_FIGURES])

    def hotplug_rows(self):
        if self.hotplug is None:
            return []
        a = self.args
        fill = dict(runs=a.hotplug_runs, ndom=a.domstats_domains, dsruns=a.domstats_runs)
        return ([('__info', '-- hot-plug and domstats (issue 11) --', None)] +
                [(k, label.format(**fill), unit) for k, label, unit in hotplug_phase.FIGURES] +
                [(k, label.format(**fill), unit)
                 for k, label, unit in hotplug_phase.INFO_FIGURES])

    def snapshot_rows(self):
        if self.snapshot is None:
            return []
        a = self.args
        fill = dict(runs=a.snapshot_runs, lruns=a.snapshot_linked_runs)
        return ([('__info', '-- clone, save/restore, snapshot (issue 12) --', None)] +
                [(k, label.format(**fill), unit) for k, label, unit in snapshot_phase.FIGURES] +
                [(k, label.format(**fill), unit)
                 for k, label, unit in snapshot_phase.INFO_FIGURES])

    def migrate_rows(self):
        if self.migrate is None:
            return []
        fill = dict(runs=self.args.migrate_runs, cli=self.args.transport_cli)
        rows = []
        if 'live' in self.migrate.parts:
            rows += ([('__info', '-- live migration (issue 13); left column: QEMU driven over '
                       'QMP, no daemon --', None)] +
                     [(k, label.format(**fill), unit)
                      for k, label, unit in migrate_phase.FIGURES] +
                     [(k, label.format(**fill), unit)
                      for k, label, unit in migrate_phase.INFO_FIGURES])
        if 'transport' in self.migrate.parts:
            rows += ([('__info', '-- remote transports (issue 13), virtd only, one daemon --',
                       None)] +
                     [(k, label.format(**fill), unit)
                      for k, label, unit in transport_phase.FIGURES])
        return rows

    def unavailable(self, fig, key):
        return self.results.get(fig, {}).get(key, {}).get('unavailable')

    @staticmethod
    def fmt(v, unit):
        if v is None:
            return '-'
        if unit == 's':
            return '%.2f s' % v
        if unit == 'ms':
            return '%.1f ms' % (v * 1000)
        if unit == 'ms2':
            return '%.2f ms' % (v * 1000)
        if unit == 'MiB':
            return '%.1f MiB' % (v / 1024.0)
        if unit == 'MiB/s':
            return '%.0f MiB/s' % v
        return str(v)

    def goal_for(self, key):
        for g in GOALS:
            if g[0] == key:
                return g
        return None

    def evaluate_goals(self):
        out = []
        for key, kind, thr, text in GOALS:
            text = text.replace('N running', '%d running' % self.args.domstats_domains) \
                       .replace('N domains <', '%d domains <' % self.args.domstats_domains) \
                       .replace('N domains', '%d domains' % self.args.domains) \
                       .replace('20 concurrent', '%d concurrent' % self.args.storm)
            lv, vd = self.value(key, LEFT_KEY.get(key, 'libvirt')), self.value(key, 'virtd')
            if kind == 'ratio':
                ratio = vd / lv if (lv and vd is not None) else None
                met = None if ratio is None else ratio <= thr
                shown = '%.2fx' % ratio if ratio is not None else '-'
            else:
                met = None if vd is None else vd < thr
                shown = '%.1f ms' % (vd * 1000) if vd is not None else '-'
            out.append({'figure': key, 'goal': text, 'value': shown,
                        'met': met})
        return out

    def report(self):
        sides = {s.key for s in self.sides}
        lines = []
        w0, w1 = 52, 15
        hdr = '%-*s %*s %*s %8s  %s' % (w0, 'figure', w1, 'libvirt+virsh', w1, 'virtd+vsh',
                                         'ratio', 'goal')
        lines.append(hdr)
        lines.append('-' * len(hdr + '  ' + ' ' * 22))
        for key, label, unit in self.rows():
            if key == '__info':
                lines.append(label)
                continue
            left = LEFT_KEY.get(key, 'libvirt')
            lv = self.value(key, left) if (left in sides or left in LEFT_LABEL) else None
            vd = self.value(key, 'virtd') if 'virtd' in sides else None
            ratio = '%.2fx' % (vd / lv) if (lv and vd is not None) else '-'
            g = self.goal_for(key)
            goal = ''
            if g:
                if g[1] == 'ratio':
                    goal = '<= %.2fx ' % g[2]
                    if lv and vd is not None:
                        goal += 'met' if vd / lv <= g[2] else 'NOT met'
                else:
                    goal = '< %.0f ms ' % (g[2] * 1000)
                    if vd is not None:
                        goal += 'met' if vd < g[2] else 'NOT met'
            cells = [self.fmt(v, unit) if (v is not None or not self.unavailable(key, k))
                     else 'unavailable' for v, k in ((lv, left), (vd, 'virtd'))]
            lines.append('%-*s %*s %*s %8s  %s' % (w0, label, w1, cells[0],
                                                   w1, cells[1], ratio, goal))
        unav = ['%s, %s: %s' % (fig, k, d['unavailable'])
                for fig, per in self.results.items() for k, d in per.items()
                if d.get('unavailable') and d.get('value') is None and not d.get('samples')]
        if unav:
            lines.append('')
            lines.append('Unavailable:')
            for u in unav:
                lines.append('  unavailable: ' + u[:300])
        goals = self.evaluate_goals()
        lines.append('')
        lines.append('Goals (issues 3, 9, 11, 12 and 13), virtd/libvirt (migration: '
                     'virtd/QEMU over QMP) in this run:')
        shown_keys = {k for k, _l, _u in self.rows()}
        for g in goals:
            if g['figure'] not in shown_keys:      # its phase did not run
                continue
            state = {True: 'met', False: 'NOT met', None: 'n/a'}[g['met']]
            lines.append('  %-48s %10s  %s' % (g['goal'], g['value'], state))
        i = self.info
        lines.append('')
        lines.append('Machine: %s; %s CPUs (%s); %s; kernel %s' % (
            i.get('hostname'), i.get('nproc'), i.get('cpu'), i.get('mem_total'), i.get('kernel')))
        lines.append('         %s; %s; %s; virtd %s at %s; guest kernel %s, %s' % (
            i.get('os'), i.get('qemu'), i.get('libvirt'), i.get('virtd'), i.get('git'),
            i.get('guest_kernel'), i.get('accel')))
        loads = i.get('load', [])
        if loads:
            fq = i.get('foreign_qemu', {})
            worst = max([l['other_qemu'] for l in loads] + [fq.get('max_other_qemu', 0)])
            lines.append('Load: load average %s at start, %s at end; QEMUs not ours: up to %d, '
                         'in %d of %d samples (every 2 s)%s'
                         % (loads[0]['loadavg'][0], loads[-1]['loadavg'][0], worst,
                            fq.get('with_other_qemu', 0), fq.get('samples', 0),
                            ' -- NOISY: the host was shared' if worst else ''))
        if self.errors:
            lines.append('')
            lines.append('ERRORS (%d):' % len(self.errors))
            for e in self.errors:
                lines.append('  ' + e.splitlines()[0][:300])
        return '\n'.join(lines), goals

    def write_json(self, table, goals):
        os.makedirs(OUT_DIR, exist_ok=True)
        stamp = time.strftime('%Y%m%d-%H%M%S')
        path = os.path.join(OUT_DIR, 'results-%s.json' % stamp)
        doc = {
            'machine': self.info,
            'config': {k: v for k, v in vars(self.args).items()},
            'domain_xml': domain_xml(self.prefix + 'NAME', '/tmp/.../NAME.serial'),
            'libvirt_private_config': {'qemu.conf (appended)': QEMU_CONF_EXTRA.strip(),
                                       'libvirtd.conf (appended)': LIBVIRTD_CONF_EXTRA.strip()},
            'units': 'seconds, RSS in KiB',
            'figures': self.results,
            'goals': goals,
            'errors': self.errors,
            'table': table,
            'wall_seconds': round(time.perf_counter() - self.t_start, 1),
        }
        with open(path + '.tmp', 'w') as f:
            json.dump(doc, f, indent=2, default=str)
        os.replace(path + '.tmp', path)
        return path


def parse_args(argv):
    p = argparse.ArgumentParser(description='virtd+vsh vs libvirtd+virsh, side by side '
                                '(see bench/README.md)')
    p.add_argument('--quick', action='store_true',
                   help='small counts: 2 boot runs, 5 CLI runs, 200 domains, storm of 5, no warm-up')
    p.add_argument('--boot-runs', type=int, help='start/shutdown cycles per side (default 5)')
    p.add_argument('--cli-runs', type=int, help='runs of define, list --all, dominfo (default 20)')
    p.add_argument('--domains', type=int, help='domains defined for list/RSS (default 1000)')
    p.add_argument('--storm', type=int, help='concurrent starts (default 20; 0 skips)')
    p.add_argument('--warmup', type=int, help='untimed boot cycles per side first (default 1)')
    p.add_argument('--side', choices=('both', 'libvirt', 'virtd'), default='both',
                   help='measure one side only (no ratios)')
    p.add_argument('--no-build', action='store_true',
                   help='do not run meson compile when virtd is already built')
    p.add_argument('--wait-idle', type=int, default=0, metavar='SECONDS',
                   help='first wait up to SECONDS for a quiet host (no QEMU of anyone else, '
                   '1-minute load average < 1); default 0: do not wait')
    p.add_argument('--idle', type=float, default=2.0, help='seconds idle before reading RSS')
    p.add_argument('--boot-timeout', type=int, default=120)
    p.add_argument('--shutdown-timeout', type=int, default=60)
    p.add_argument('--storm-timeout', type=int, default=400)
    p.add_argument('--net-runs', type=int, help='net-start -> lease runs per side (default 3)')
    p.add_argument('--net-mib', type=int, help='MiB per TCP throughput run (default 200)')
    p.add_argument('--net-extra', type=int,
                   help='networks started for the daemon RSS per network (default 4)')
    p.add_argument('--net-base', default='10.203', metavar='A.B',
                   help='the /16 the networks\' /24s come from (default 10.203), each '
                   'with a blackhole fallback route while the run lasts')
    p.add_argument('--no-net', action='store_true', help='skip the network figures')
    p.add_argument('--only-net', action='store_true',
                   help='only the network figures (no boot, storm or 1,000 domains)')
    p.add_argument('--no-hotplug', action='store_true',
                   help='skip the hot-plug and domstats figures')
    p.add_argument('--only-hotplug', action='store_true',
                   help='only the hot-plug and domstats figures (issue 11)')
    p.add_argument('--hotplug-parts', default=','.join(hotplug_phase.PARTS),
                   help='which of them, comma-separated (default %s)'
                   % ','.join(hotplug_phase.PARTS))
    p.add_argument('--hotplug-runs', type=int,
                   help='attach/detach cycles per device kind and side (default 5)')
    p.add_argument('--hotplug-status', default='0.1', metavar='SECONDS',
                   help='the hot-plug guest\'s STATUS line period (virtd.status=, default 0.1)')
    p.add_argument('--hotplug-timeout', type=int, default=60)
    p.add_argument('--hotplug-same-priority', action='store_true',
                   help='set the autogroup nice of virtd\'s hot-plug guest to 0 (virtd uses '
                   '10), as libvirt\'s guest in /machine: the daemons\' paths alone')
    p.add_argument('--domstats-domains', type=int, default=100,
                   help='domains started paused for domstats (default 100)')
    p.add_argument('--domstats-runs', type=int, help='domstats calls per side (default 10)')
    p.add_argument('--no-snapshot', action='store_true',
                   help='skip the clone, save/restore and snapshot figures')
    p.add_argument('--only-snapshot', action='store_true',
                   help='only the clone, save/restore and snapshot figures (issue 12)')
    p.add_argument('--snapshot-parts', default=','.join(snapshot_phase.PARTS),
                   help='which of them, comma-separated (default %s)'
                   % ','.join(snapshot_phase.PARTS))
    p.add_argument('--snapshot-runs', type=int,
                   help='full clones, save+restore cycles and snapshots per side (default 3)')
    p.add_argument('--snapshot-linked-runs', type=int,
                   help='linked clones (virtd) and qemu-img create -b (default 10)')
    p.add_argument('--no-migrate', action='store_true',
                   help='skip the live migration figures')
    p.add_argument('--only-migrate', action='store_true',
                   help='only the live migration figures (issue 13; no libvirt), ~2 minutes')
    p.add_argument('--migrate-runs', type=int,
                   help='live migrations per side, QEMU over QMP and virtd (default 5)')
    p.add_argument('--migrate-warmup', type=int, default=1,
                   help='untimed live migrations per side first (default 1)')
    p.add_argument('--migrate-parts', default=','.join(migrate_phase.PARTS),
                   help='which of them, comma-separated (default %s): live migration, '
                   'remote transports\' latency' % ','.join(migrate_phase.PARTS))
    p.add_argument('--transport-gets', type=int,
                   help='kept-alive GETs per transport (default 200)')
    p.add_argument('--transport-cli', type=int,
                   help='vsh -c URI list runs per transport (default 20)')
    p.add_argument('--name-prefix', default='vdbench', metavar='WORD',
                   help='first word of every domain name and of the temp dir (default vdbench)')
    a = p.parse_args(argv)
    quick = dict(boot_runs=2, cli_runs=5, domains=200, storm=5, warmup=0,
                 net_runs=2, net_mib=50, net_extra=2, hotplug_runs=3, domstats_runs=5,
                 snapshot_runs=2, snapshot_linked_runs=5, migrate_runs=3,
                 transport_gets=100, transport_cli=10)
    full = dict(boot_runs=5, cli_runs=20, domains=1000, storm=20, warmup=1,
                net_runs=3, net_mib=200, net_extra=4, hotplug_runs=5, domstats_runs=10,
                snapshot_runs=3, snapshot_linked_runs=10, migrate_runs=5,
                transport_gets=200, transport_cli=20)
    for k, v in (quick if a.quick else full).items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.domains < 2:
        p.error('--domains must be at least 2')
    if a.no_net and a.only_net:
        p.error('--no-net and --only-net exclude each other')
    if sum(map(bool, (a.only_net, a.only_hotplug, a.only_snapshot, a.only_migrate))) > 1 or \
            (a.no_hotplug and a.only_hotplug) or (a.no_snapshot and a.only_snapshot) or \
            (a.no_migrate and a.only_migrate):
        p.error('--only-net, --only-hotplug, --only-snapshot and --only-migrate exclude each '
                'other, and each its --no- switch')
    if a.only_migrate and a.side == 'libvirt':
        p.error('--only-migrate measures virtd against QEMU over QMP: not with --side libvirt')
    bad = set(a.hotplug_parts.split(',')) - set(hotplug_phase.PARTS)
    if bad:
        p.error('--hotplug-parts: unknown %s' % ','.join(sorted(bad)))
    bad = set(a.migrate_parts.split(',')) - set(migrate_phase.PARTS)
    if bad:
        p.error('--migrate-parts: unknown %s' % ','.join(sorted(bad)))
    bad = set(a.snapshot_parts.split(',')) - set(snapshot_phase.PARTS)
    if bad:
        p.error('--snapshot-parts: unknown %s' % ','.join(sorted(bad)))
    if not re.match(r'^[a-z][a-z0-9]{1,15}$', a.name_prefix):
        p.error('--name-prefix: 2-16 lower-case letters and digits')
    return a


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        sys.exit('bench/run.py: run as root: it installs libvirt, '
                 'runs libvirtd and QEMU')

    def on_signal(signum, _frame):
        raise Interrupted('signal %d' % signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(s, on_signal)

    bench = Bench(args)
    log('run %s, temp dir %s' % (bench.prefix.rstrip('-'), bench.tmp))
    rc = 0
    try:
        bench.prepare()
        bench.wait_idle()
        bench.sample_load('start')
        bench.start_load_monitor()
        if bench.net is not None:
            bench.net.before_daemons()
        bench.start_daemons()
        if not only_switch(args):
            log('phase 1/7: %d boot cycles per side (start -> READY, shutdown -> shut off)'
                % args.boot_runs)
            bench.phase_boot()
            log('phase 2/7: %d concurrent starts per side' % args.storm)
            bench.sample_load('before the storm')
            bench.phase_storm()
            bench.sample_load('after the storm')
            log('phase 3/7: %d domains per side; define, list --all, dominfo x %d; RSS'
                % (args.domains, args.cli_runs))
            bench.phase_many()
        if bench.net is not None:
            log('phase 4/7: networks: net-start -> lease x %d, TCP %d MiB host -> guest and '
                'guest -> guest, RSS per network' % (args.net_runs, args.net_mib))
            bench.sample_load('before the networks')
            bench.phase_net()
        if bench.hotplug is not None:
            log('phase 5/7: %s: hot-plug -> seen in the guest x %d; domstats of %d domains x %d'
                % (args.hotplug_parts, args.hotplug_runs, args.domstats_domains,
                   args.domstats_runs))
            bench.sample_load('before hot-plug')
            bench.hotplug.run()
        if bench.snapshot is not None:
            log('phase 6/7: %s: linked clone x %d; full clone, save + restore, snapshot x %d'
                % (args.snapshot_parts, args.snapshot_linked_runs, args.snapshot_runs))
            bench.sample_load('before clone/save/snapshot')
            bench.snapshot.run()
        if bench.migrate is not None:
            log('phase 7/7: live migration of an idle 512 MiB guest x %d: QEMU over QMP, '
                'then virtd (vsh migrate --live) between two daemons' % args.migrate_runs)
            bench.sample_load('before migration')
            bench.migrate.run()
        bench.sample_load('end')
    except Interrupted as e:
        log('interrupted (%s): cleaning up' % e)
        bench.errors.append('interrupted: %s' % e)
        rc = 130
    except BenchError as e:
        bench.error(None, 'aborted', e)
        rc = 1
    except Exception as e:
        import traceback
        traceback.print_exc()
        bench.error(None, 'aborted (bug)', repr(e))
        rc = 1
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(s, signal.SIG_IGN)
        bench.stop_load_monitor()
        log('cleaning up')
        bench.cleanup()
    table, goals = bench.report()
    print()
    print(table)
    try:
        path = bench.write_json(table, goals)
        print('\nResults: %s (total %.0f s)' % (path, time.perf_counter() - bench.t_start))
    except OSError as e:
        log('could not write results: %s' % e)
    if bench.errors and rc == 0:
        rc = 1
    return rc


if __name__ == '__main__':
    sys.exit(main())
