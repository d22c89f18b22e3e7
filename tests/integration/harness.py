"""Integration test harness for virtd (Python 3 standard library only).

Each tests/integration/test_*.py imports this module. It runs a private
`virtd --root DIR` per test (class `Daemon`), talks to it through `vsh` and
through raw HTTP on its UNIX socket, and boots the fast test guest built by
tests/guest/build-guest.sh (kernel + busybox initramfs, TCG).

Environment (set by tests/integration/meson.build; defaults for running a
test file by hand from the source tree after `meson compile -C build`):
  VIRTD_BIN   the daemon          (default build/src/daemon/virtd)
  VSH_BIN     the command line    (default build/src/vsh/vsh)
  GUEST_DIR   the fast guest      (default build/guest; built if missing)
  VIRTD_TEST_TMPDIR   where per-test roots are made (default /tmp)
  VIRTD_TEST_KEEP=1   keep each root directory after the test (processes
                      are killed all the same)
  VIRTD_TEST_KERNEL   'vmlinux' (default when present: PVH boot, ~2.5 s to
                      the marker) or 'vmlinuz' (bzImage through SeaBIOS, ~6 s)
  VIRTD_TEST_TIMEOUT_SCALE   multiply every timeout (slow machines)
  VIRTD_TEST_SANITIZER_DIR   where AddressSanitizer/UBSan reports of the
                      daemon and vsh are written (default: a private
                      directory per test file); any report fails the file

Sanitizers: every daemon and vsh this module runs gets ASAN_OPTIONS,
UBSAN_OPTIONS and LSAN_OPTIONS that send reports to files instead of
stderr; a build without sanitizers ignores them. After the tests of a file
have run and every daemon has stopped (so LeakSanitizer has reported at
exit), main() prints each non-empty report and fails the file, whatever
the tests said (.ci/run runs the integration suite a second time against
a build with -Db_sanitize=address,undefined).

Cleanup guarantee: every daemon this module starts, every QEMU (or any
other process) whose command line mentions a test root, and the root
directory itself are removed when the `with Daemon()` block ends, at
interpreter exit, and on SIGTERM/SIGHUP/SIGINT, whether a test passed,
failed or was interrupted.

Running side by side: .ci/run runs two test files at once when both are
in parallel_tests of tests/integration/meson.build (the others run alone;
that file says why each does). A file there makes every host object
(link, subnet, namespace, file outside its root) under a name of its own,
checks host-wide state only for its own (its root, its firewall instance,
its names: processes_mentioning(d.root), d.qemu_pids(), d.leftovers()),
kills only by pid, and asserts no timing that another file's load could
break.

Networks: every daemon gets `--dns-forward=none` when its --help has the
option (no test's dnsmasq sends a query off the machine), and
`--no-default-network` unless made with `Daemon(default_network=True)`
(a first start then makes no 'default' NAT network). Before it is
stopped, its active networks are destroyed through the API (its own
'default' too); what its status files (run/networks/) still call active
after that, and any nft table of its instance, is removed by hand with a
note on stderr. NetLab (netlab.py) makes namespaces, veths, bridges,
subnets with blackhole fallback routes and servers for a test, all named
with a test-unique prefix (VIRTD_TEST_NET_PREFIX, default 'vdt') and all
removed at the end; Daemon.leftovers() / assertNoNetworkLeftovers() say
what a daemon left on the host (links, dnsmasq, nft tables).
"""

import atexit
import errno
import http.client
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as _ET
from xml.sax.saxutils import escape as _xml_escape, quoteattr as _xml_quoteattr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402  (namespaces, veths, bridges; leak checks)
from netlab import NetLab, network_leftovers  # noqa: E402,F401

# --------------------------------------------------------------------------
# Layout of a `virtd --root ROOT` instance that the tests rely on. These are
# the daemon's contract with the tests; each is defined once, here.

SOCKET_PATH = 'virtd.sock'                  # ROOT/virtd.sock (docs/api.md)
NET_STATUS_DIR = 'run/networks'             # ROOT/run/networks/NAME.xml: <networkstatus table=..>
DAEMON_LOG = 'virtd.log'                    # the harness sends virtd's stdout/stderr here
CONSOLE_LOG = 'log/console/{name}.log'      # everything the guest printed on its serial console
QEMU_LOG = 'log/{name}.log'                 # QEMU's stderr (+ daemon notes); kept after QEMU ends
PID_FILE = 'run/qemu/{name}.pid'            # QEMU's pid while the domain runs (the daemon writes it)

HERE = os.path.dirname(os.path.abspath(__file__))
SRCROOT = os.path.dirname(os.path.dirname(HERE))
BUILD_GUEST = os.path.join(SRCROOT, 'tests', 'guest', 'build-guest.sh')

TIMEOUT_SCALE = float(os.environ.get('VIRTD_TEST_TIMEOUT_SCALE', '1') or 1)
BOOT_TIMEOUT = 90 * TIMEOUT_SCALE           # define/start to VIRTD-GUEST-READY
SHUTDOWN_TIMEOUT = 60 * TIMEOUT_SCALE       # ACPI power button to 'shut off'
DAEMON_TIMEOUT = 15 * TIMEOUT_SCALE         # daemon start to socket accepting

READY_MARKER = 'VIRTD-GUEST-READY'
STATUS_MARKER = 'VIRTD-GUEST-STATUS'
# A whole boot id: the console log is read while QEMU appends to it (a
# character at a time under TCG), so its last line may be cut short; a cut
# boot id must not match (it made a new boot's id look like another's).
BOOT_ID_RE = r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
_READY_RE = re.compile(r'VIRTD-GUEST-READY boot_id=(%s)' % BOOT_ID_RE)
_STATUS_RE = re.compile(r'VIRTD-GUEST-STATUS cpus=(\d+) mem_kib=(\d+) disks=(\S*) nics=(\S*)')

# Kernel command line of the test guest. 'quiet' keeps the kernel's log off
# the console (the serial port is slow under TCG); the rest shaves boot time.
GUEST_CMDLINE = ('console=ttyS0 panic=-1 quiet no_timer_check tsc=reliable '
                 'cryptomgr.notests i8042.noaux random.trust_cpu=on '
                 'memhp_default_state=online')

# A test guest that live-migrates (domain_xml(live_copy=True)). QEMU < 9.0
# loses guest writes while it copies a running TCG guest's memory: the fast
# path of its dirty-bitmap sync, taken for RAM whose size is a multiple of
# 256 KiB, does not reset TCG's software TLB, so pages written before stay
# unlogged until the vCPU's next TLB flush (QEMU commit 03bfc2188f;
# docs/migration.md, "Limit: TCG guests can crash after a live migration").
# 1 migration in 6 at 4 MiB/s crashed the guest afterwards. Such a guest gets
# 8 KiB less RAM (QEMU's slow path, which resets the TLB: 0 crashes in 20) and
# virtd.tick=10 (a TLB flush every 10 ms, tests/guest/init: 0 in 25), besides
# its counter.
LIVE_COPY_CMDLINE = 'virtd.counter=1 virtd.tick=10'
LIVE_COPY_KIB_LESS = 8


def _default(env, *parts):
    value = os.environ.get(env)
    if value:
        return os.path.abspath(value)
    return os.path.join(SRCROOT, 'build', *parts)


VIRTD_BIN = _default('VIRTD_BIN', 'src', 'daemon', 'virtd')
VSH_BIN = _default('VSH_BIN', 'src', 'vsh', 'vsh')
GUEST_DIR = _default('GUEST_DIR', 'guest')


class HarnessError(Exception):
    pass


# --------------------------------------------------------------------------
# Sanitizer reports (see the module docstring)

SANITIZER_DIR = os.environ.get('VIRTD_TEST_SANITIZER_DIR') or tempfile.mkdtemp(
    prefix='virtd-sanitizer-', dir=os.environ.get('VIRTD_TEST_TMPDIR') or None)
SANITIZER_SUPPRESSIONS = os.path.join(SRCROOT, 'tests', 'sanitizer')


def sanitizer_env():
    """The environment variables that route sanitizer reports to
    SANITIZER_DIR. abort_on_error is off so that an ASan error ends the
    daemon with a report rather than a core; UBSan keeps going (each report
    once) so that one run finds them all."""
    os.makedirs(SANITIZER_DIR, exist_ok=True)
    base = os.path.join(SANITIZER_DIR, 'report')
    return {
        # A small quarantine and prompt release keep the daemon's RSS near
        # a plain build's, so that the tests' memory bounds still hold.
        'ASAN_OPTIONS': 'log_path=%s:detect_leaks=1:abort_on_error=0:'
                        'detect_stack_use_after_return=1:strict_string_checks=1:'
                        'quarantine_size_mb=16:allocator_release_to_os_interval_ms=100' % base,
        'UBSAN_OPTIONS': 'log_path=%s:print_stacktrace=1:halt_on_error=0:report_error_type=1'
                         ':suppressions=%s' % (base, os.path.join(SANITIZER_SUPPRESSIONS, 'ubsan.supp')),
        'LSAN_OPTIONS': 'suppressions=%s:print_suppressions=0'
                        % os.path.join(SANITIZER_SUPPRESSIONS, 'lsan.supp'),
    }


# Every process the tests start (daemons, vsh, helpers) inherits them.
os.environ.update(sanitizer_env())


def _binary_is_sanitized(path):
    try:
        with open(path, 'rb') as f:
            return b'__asan_init' in f.read()
    except OSError:
        return False


# Whether the daemon under test is built with AddressSanitizer, whose shadow
# memory and quarantine (freed memory held back to catch use after free)
# make its RSS say nothing about what the daemon holds: assertMemoryBound.
DAEMON_SANITIZED = _binary_is_sanitized(VIRTD_BIN)


def sanitizer_reports():
    """[(file name, text)] of every non-empty report written so far."""
    out = []
    try:
        names = sorted(os.listdir(SANITIZER_DIR))
    except OSError:
        return out
    for n in names:
        try:
            with open(os.path.join(SANITIZER_DIR, n), errors='replace') as f:
                text = f.read()
        except OSError:
            continue
        if text.strip():
            out.append((n, text))
    return out


class VshError(HarnessError):
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        super().__init__('%s exited %s\n--- stdout ---\n%s--- stderr ---\n%s' %
                         (' '.join(argv), rc, out, err))


# --------------------------------------------------------------------------
# Small utilities

def wait_for(predicate, timeout, interval=0.1, what='condition'):
    """Calls predicate() until it returns a true value, which is returned.
    Raises TimeoutError naming `what` (a string or a callable giving one,
    for a message showing the last observed value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            desc = what() if callable(what) else what
            raise TimeoutError('timed out after %.0f s waiting for %s' % (timeout, desc))
        time.sleep(interval)


def xml_escape(s):
    return _xml_escape(s, {'"': '&quot;', "'": '&apos;'})


def read_cmdline(pid):
    """argv of a process as a list of str, or None if it is gone."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            raw = f.read()
    except OSError:
        return None
    if not raw:
        return None
    return [a.decode('utf-8', 'surrogateescape') for a in raw.rstrip(b'\0').split(b'\0')]


def pid_alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(')') + 2] != 'Z'


def stdout_of(pid):
    """Where process @pid's standard output goes (a QEMU's: its domain's
    log, ROOT/log/NAME.log), None if unknown."""
    try:
        return os.readlink('/proc/%s/fd/1' % pid)
    except OSError:
        return None


def processes_mentioning(text):
    """pids of processes (other than this one) whose argv mentions text, or
    whose standard output is a file whose path does: a QEMU's argv need not
    name its daemon's root (its sockets and logs are descriptors), but its
    output goes to ROOT/log/NAME.log."""
    pids = []
    me = os.getpid()
    needle = text.encode('utf-8', 'surrogateescape')
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                if needle in f.read():
                    pids.append(int(entry))
                    continue
        except OSError:
            continue
        out = stdout_of(entry)
        if out and text in out:
            pids.append(int(entry))
    return pids


def kill_processes_mentioning(text, timeout=10):
    """SIGKILLs every process whose argv mentions text, and waits until they
    are gone (reaping the ones that are our children)."""
    deadline = time.monotonic() + timeout
    while True:
        pids = [p for p in processes_mentioning(text) if pid_alive(p)]
        if not pids:
            return
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        for p in pids:
            try:
                os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                pass
        if time.monotonic() > deadline:
            sys.stderr.write('harness: could not kill %s\n' % pids)
            return
        time.sleep(0.05)


def ensure_guest():
    """Builds the fast guest into GUEST_DIR if needed (cached, cheap)."""
    if not os.access(BUILD_GUEST, os.X_OK):
        raise HarnessError('missing %s' % BUILD_GUEST)
    r = subprocess.run([BUILD_GUEST, GUEST_DIR], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    if r.returncode != 0:
        raise HarnessError('build-guest.sh failed:\n' + r.stdout)


def guest_kernel():
    ensure_guest()
    choice = os.environ.get('VIRTD_TEST_KERNEL')
    if not choice:
        choice = 'vmlinux' if os.path.exists(os.path.join(GUEST_DIR, 'vmlinux')) else 'vmlinuz'
    return os.path.join(GUEST_DIR, choice)


def guest_initrd():
    ensure_guest()
    return os.path.join(GUEST_DIR, 'initrd.img')


# --------------------------------------------------------------------------
# Domain XML

def domain_xml(name, memory_mib=256, vcpus=1, extra_devices='', on_poweroff=None,
               on_reboot=None, on_crash=None, serial='pty', uuid=None, title=None,
               cmdline_extra='', dom_type='qemu', kernel=None, initrd=None,
               machine='pc', extra_xml='', live_copy=False):
    """The fast test guest as libvirt domain XML (TCG: type='qemu');
    @live_copy: one that live-migrates (LIVE_COPY_CMDLINE above)."""
    parts = ["<domain type=%s>" % _xml_quoteattr(dom_type),
             "  <name>%s</name>" % xml_escape(name)]
    if uuid:
        parts.append("  <uuid>%s</uuid>" % uuid)
    if title:
        parts.append("  <title>%s</title>" % xml_escape(title))
    cmdline = GUEST_CMDLINE + (' ' + cmdline_extra if cmdline_extra else '')
    memory = "unit='MiB'>%d" % memory_mib
    if live_copy:
        cmdline += ' ' + LIVE_COPY_CMDLINE
        memory = "unit='KiB'>%d" % (memory_mib * 1024 - LIVE_COPY_KIB_LESS)
    parts += [
        "  <memory %s</memory>" % memory,
        "  <currentMemory %s</currentMemory>" % memory,
        "  <vcpu>%d</vcpu>" % vcpus,
        "  <os>",
        "    <type arch='x86_64' machine=%s>hvm</type>" % _xml_quoteattr(machine),
        "    <kernel>%s</kernel>" % xml_escape(kernel or guest_kernel()),
        "    <initrd>%s</initrd>" % xml_escape(initrd or guest_initrd()),
        "    <cmdline>%s</cmdline>" % xml_escape(cmdline),
        "  </os>",
        "  <features><acpi/><apic/></features>",
    ]
    for elem, value in (('on_poweroff', on_poweroff), ('on_reboot', on_reboot),
                        ('on_crash', on_crash)):
        if value:
            parts.append("  <%s>%s</%s>" % (elem, value, elem))
    parts.append("  <devices>")
    if serial == 'pty':
        parts += ["    <serial type='pty'><target port='0'/></serial>",
                  "    <console type='pty'><target type='serial' port='0'/></console>"]
    elif serial:
        parts.append(serial)
    if extra_devices:
        parts.append(extra_devices)
    parts.append("  </devices>")
    if extra_xml:
        parts.append(extra_xml)
    parts.append("</domain>")
    return '\n'.join(parts) + '\n'


def disk_xml(path, target='vda', bus='virtio', fmt='raw', device='disk'):
    return ("    <disk type='file' device=%s>\n"
            "      <driver name='qemu' type=%s/>\n"
            "      <source file=%s/>\n"
            "      <target dev=%s bus=%s/>\n"
            "    </disk>" % (_xml_quoteattr(device), _xml_quoteattr(fmt),
                             _xml_quoteattr(path), _xml_quoteattr(target),
                             _xml_quoteattr(bus)))


# --------------------------------------------------------------------------
# HTTP over the UNIX socket

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__('localhost', timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(self.timeout)
            s.connect(self.unix_path)
        except BaseException:
            s.close()
            raise
        self.sock = s


class ApiResponse(tuple):
    """(status, headers, body) with helpers; headers keys are lower case."""

    def __new__(cls, status, headers, body):
        return super().__new__(cls, (status, headers, body))

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    body = property(lambda self: self[2])

    def json(self):
        return json.loads(self.body.decode('utf-8'))

    def error_code(self):
        try:
            return self.json()['error']['code']
        except (ValueError, KeyError, TypeError):
            return None

    def error_message(self):
        try:
            return self.json()['error']['message']
        except (ValueError, KeyError, TypeError):
            return None


def dom_path(name, suffix=''):
    return '/v1/domains/' + urllib.parse.quote(name, safe='') + suffix


# --------------------------------------------------------------------------
# The daemon

_help_cache = {}


def daemon_supports(option, binary=None):
    """True if `virtd --help` mentions @option (e.g. '--dns-forward'), so
    that the harness passes options a daemon built from an older tree
    does not know only when it knows them."""
    binary = binary or VIRTD_BIN
    if binary not in _help_cache:
        try:
            r = subprocess.run([binary, '--help'], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               universal_newlines=True, timeout=10)
            _help_cache[binary] = r.stdout
        except (OSError, subprocess.TimeoutExpired):
            _help_cache[binary] = ''
    return option in _help_cache[binary]


def qemu_reachable(path):
    """Lets QEMU, which runs as the unprivileged virtd-qemu (docs/security.md),
    search @path, a directory of images a test made with mkdtemp (0700), as
    libvirt's qemu user must search the directories of its images. Returns
    @path."""
    os.chmod(path, 0o711)
    return path


def default_daemon_args(default_network=False):
    """Arguments every test daemon gets before its own: no dnsmasq of a
    test forwards DNS queries to the host's resolvers; and no 'default'
    NAT network unless the test asks for it (a full Debian guest installed
    without --network then stays on user-mode networking, and a test
    daemon costs no bridge)."""
    args = []
    if daemon_supports('--dns-forward'):
        args.append('--dns-forward=none')
    if not default_network and daemon_supports('--no-default-network'):
        args.append('--no-default-network')
    return args


def net_path(name, suffix=''):
    return '/v1/networks/' + urllib.parse.quote(name, safe='') + suffix


_live_daemons = []
_live_children = []          # other Popen objects (vsh console sessions)


class Daemon:
    """A private virtd instance: `with Daemon() as d: d.vsh('list', '--all')`."""

    def __init__(self, root=None, args=(), keep=None, default_network=False, netns=None,
                 env=None):
        self._own_root = root is None
        # Extra environment for the daemon (e.g. VIRTD_FIRMWARE_DIRS).
        self.extra_env = dict(env or {})
        # Run the daemon (and so its bridges, rules, dnsmasq and QEMUs) in
        # this network namespace: a test can then give it a host firewall
        # of its own (Docker's chains, a FORWARD policy) without touching
        # the machine's.
        self.netns = netns
        if root is None:
            base = os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir()
            os.makedirs(base, exist_ok=True)
            root = tempfile.mkdtemp(prefix='virtd-test-', dir=base)
        self.root = os.path.abspath(root)
        own = list(args)
        defaults = [a for a in default_daemon_args(default_network)
                    if not any(o.split('=')[0] == a.split('=')[0] for o in own)]
        self.args = defaults + own
        # Bridges of the networks this daemon had active, seen by
        # networks(): name -> forward mode (leak checks and the last resort
        # clean-up of a daemon that could not destroy them).
        self.net_bridges = {}
        self.net_tables = set()
        self.keep = os.environ.get('VIRTD_TEST_KEEP') == '1' if keep is None else keep
        self.proc = None
        self.sock_path = os.path.join(self.root, SOCKET_PATH)
        self.uri = 'unix://' + self.sock_path
        self._log = None
        self._cleaned = False

    # ---- life cycle of the daemon process

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.cleanup(failed=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.cleanup(failed=exc_type is not None)
        return False

    def start(self, timeout=DAEMON_TIMEOUT):
        if self.proc is not None and self.proc.poll() is None:
            raise HarnessError('daemon already running')
        if not os.access(VIRTD_BIN, os.X_OK):
            raise HarnessError('no daemon binary at %s (set VIRTD_BIN)' % VIRTD_BIN)
        if self not in _live_daemons:
            _live_daemons.append(self)
        log = open(os.path.join(self.root, DAEMON_LOG), 'ab')
        log.write(('\n==== harness: starting %s --root %s\n' % (VIRTD_BIN, self.root)).encode())
        log.flush()
        env = dict(os.environ, LC_ALL='C')
        env.update(self.extra_env)
        prefix = ['ip', 'netns', 'exec', self.netns] if self.netns else []
        self.proc = subprocess.Popen(prefix + [VIRTD_BIN, '--root', self.root] + self.args,
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     cwd=self.root, env=env, start_new_session=True)
        log.close()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=DAEMON_TIMEOUT):
        """Waits until the socket accepts connections and answers HTTP."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError('virtd exited with %s during start-up\n%s' %
                                   (self.proc.returncode, self.daemon_log_tail()))
            conn = UnixHTTPConnection(self.sock_path, timeout=5)
            try:
                conn.request('GET', '/v1/version')
                conn.getresponse().read()
                return
            except (OSError, http.client.HTTPException) as e:
                last = e
            finally:
                conn.close()
            time.sleep(0.05)
        raise HarnessError('virtd socket %s not ready after %.0f s (%s)\n%s' %
                           (self.sock_path, timeout, last, self.daemon_log_tail()))

    def stop(self, timeout=15):
        """SIGTERM, then SIGKILL if the daemon does not exit in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise HarnessError('virtd ignored SIGTERM for %d s' % timeout)
        return self.proc.returncode

    def kill(self):
        """SIGKILL: the daemon dies at once, its QEMUs live on."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.stop()
        self.start()

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    # ---- cleanup

    def cleanup(self, failed=False, quick=False):
        if self._cleaned:
            return
        self._cleaned = True
        try:
            if failed and not quick:
                self.dump_logs()
            if self.proc is not None and self.proc.poll() is None:
                # Networks first, while the daemon runs: its bridges, rules
                # and dnsmasq outlive it by design (a restart takes them
                # over).
                try:
                    self.destroy_networks(timeout=0.3 if quick else 20)
                except Exception as e:
                    sys.stderr.write('harness: destroying the networks of %s: %s\n' % (self.root, e))
            if self.proc is not None and self.proc.poll() is None:
                if quick:
                    self.proc.kill()
                else:
                    self.proc.send_signal(signal.SIGTERM)
                    try:
                        self.proc.wait(10)
                    except subprocess.TimeoutExpired:
                        sys.stderr.write('harness: virtd ignored SIGTERM; killing it\n')
                        self.proc.kill()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
            # What the daemon still had active (it died, or a test stopped
            # it with networks up): their bridges and tables go below.
            still = self.networks_from_status()
            # Every QEMU (and anything else: vsh consoles, dnsmasq, helpers)
            # started for this root.
            kill_processes_mentioning(self.root)
            self._remove_network_leftovers(still)
        finally:
            if self in _live_daemons:
                _live_daemons.remove(self)
            if self._own_root and not self.keep:
                shutil.rmtree(self.root, ignore_errors=True)
            elif self.keep:
                sys.stderr.write('harness: kept %s\n' % self.root)

    # ---- networks

    def networks(self, all_=True):
        """Network summaries (GET /v1/networks); [] when the daemon has no
        networks API. Remembers the bridges of active ones."""
        r = self.api('GET', '/v1/networks' + ('?all=1' if all_ else ''), timeout=10)
        if r.status != 200:
            return []
        nets = r.json().get('networks', [])
        for n in nets:
            if n.get('active') and n.get('bridge'):
                self.net_bridges[n['bridge']] = n.get('forward')
        return nets

    def networks_from_status(self):
        """The active networks as the daemon's status files say (readable
        when the daemon is not running): {bridge: (forward mode, nft
        table)}; remembered like networks() does."""
        out = {}
        d = os.path.join(self.root, NET_STATUS_DIR)
        try:
            names = sorted(os.listdir(d))
        except OSError:
            return out
        for n in names:
            if not n.endswith('.xml'):
                continue
            try:
                st = _ET.parse(os.path.join(d, n)).getroot()
            except (OSError, _ET.ParseError):
                continue
            net = st.find('network')
            br = net.find('bridge') if net is not None else None
            if br is None or not br.get('name'):
                continue
            fwd = net.find('forward')
            mode = fwd.get('mode') if fwd is not None else 'none'
            out[br.get('name')] = (mode, st.get('table'))
            self.net_bridges[br.get('name')] = mode
            if st.get('table'):
                self.net_tables.add(st.get('table'))
        return out

    def destroy_networks(self, timeout=20):
        """Destroys every active network through the API; returns their
        names. Errors other than 'not active' raise."""
        deadline = time.monotonic() + timeout
        done = []
        self.networks_from_status()       # learns the nft instance tag
        r = self.api('GET', '/v1/networks', timeout=max(0.2, timeout))
        if r.status != 200:
            return done
        for n in r.json().get('networks', []):
            if n.get('bridge'):
                self.net_bridges[n['bridge']] = n.get('forward')
            if not n.get('active'):
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                break
            rr = self.api('POST', net_path(n['name'], '/destroy'), timeout=max(0.2, left))
            if rr.status != 200 and rr.error_code() != 'invalid-state':
                raise HarnessError('destroying network %s: %s %s' %
                                   (n['name'], rr.status, rr.body[:500]))
            done.append(n['name'])
        return done

    @property
    def fw_instance(self):
        """The instance tag in this daemon's nft table names (vd_TAG_BRIDGE,
        src/network/firewall.h): as seen in its status files, else the
        first 8 hex digits of the SHA-256 of its root (firewall.c)."""
        for t in sorted(self.net_tables):
            m = re.match(r'^vd_([0-9a-f]{8})_', t)
            if m:
                return m.group(1)
        import hashlib
        return hashlib.sha256(self.root.encode()).hexdigest()[:8]

    def leftovers(self, prefixes=(), links=()):
        """network_leftovers() for this daemon: dnsmasq mentioning its root,
        the bridges of networks it had (bridge-mode host bridges excepted:
        the test owns those), nft tables of its instance, plus
        @prefixes/@links."""
        self.networks_from_status()
        ours = [b for b, fwd in self.net_bridges.items() if fwd != 'bridge']
        return network_leftovers(root=self.root, prefixes=prefixes,
                                 links=list(links) + ours, instance=self.fw_instance)

    def _remove_network_leftovers(self, still):
        """Last resort, after the daemon is gone: deletes what its status
        files still call active (@still, from networks_from_status(): a
        daemon that died or was stopped with networks up) and every nft
        table of its instance, saying so. Never touches a bridge-mode
        network's host bridge, nor a bridge the daemon destroyed (another
        daemon may have taken the name since)."""
        for t in netlab.fw_tables_for(instance=self.fw_instance):
            sys.stderr.write('harness: removing leftover nft table inet %s\n' % t)
            netlab.run(['nft', 'delete', 'table', 'inet', t], check=False)
        for b, (mode, _table) in sorted(still.items()):
            if mode != 'bridge' and netlab.link_exists(b):
                sys.stderr.write('harness: removing leftover bridge %s\n' % b)
                netlab.run(['ip', 'link', 'del', b], check=False)

    def daemon_log_tail(self, lines=60):
        return _tail(os.path.join(self.root, DAEMON_LOG), lines)

    def dump_logs(self, lines=80):
        out = ['==== harness: logs of %s' % self.root]
        for dirpath, _dirs, files in os.walk(self.root):
            for f in sorted(files):
                if f.endswith('.log'):
                    p = os.path.join(dirpath, f)
                    out.append('---- %s (last %d lines)' % (os.path.relpath(p, self.root), lines))
                    out.append(_tail(p, lines))
        sys.stderr.write('\n'.join(out) + '\n')
        sys.stderr.flush()

    # ---- paths

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def console_log_path(self, name):
        return os.path.join(self.root, CONSOLE_LOG.format(name=name))

    def qemu_log_path(self, name):
        return os.path.join(self.root, QEMU_LOG.format(name=name))

    def pid_file_path(self, name):
        return os.path.join(self.root, PID_FILE.format(name=name))

    def write_file(self, relname, text):
        p = os.path.join(self.root, relname)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'w') as f:
            f.write(text)
        return p

    def write_xml(self, name, xml, filename=None):
        return self.write_file(filename or ('xml/%s.xml' % name.replace('/', '_')), xml)

    # ---- vsh and the API

    def vsh(self, *args, check=True, input=None, timeout=60, env=None):
        """Runs vsh against this daemon: (rc, stdout, stderr)."""
        argv = [VSH_BIN, '-c', self.uri] + [str(a) for a in args]
        e = dict(os.environ, LC_ALL='C', HOME=self.root)
        e.pop('VSH_DEFAULT_URI', None)
        if env:
            e.update(env)
        try:
            r = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL if input is None else None,
                               universal_newlines=True, timeout=timeout * TIMEOUT_SCALE,
                               env=e, cwd=self.root)
        except subprocess.TimeoutExpired as ex:
            raise VshError(argv, 'nothing (timed out after %d s)' % timeout,
                           _s(ex.stdout), _s(ex.stderr))
        if check and r.returncode != 0:
            raise VshError(argv, r.returncode, r.stdout, r.stderr)
        return r.returncode, r.stdout, r.stderr

    def vsh_fail(self, *args, rc=None, timeout=60):
        """Runs vsh expecting failure (exit code rc if given): (rc, out, err)."""
        code, out, err = self.vsh(*args, check=False, timeout=timeout)
        if code == 0 or (rc is not None and code != rc):
            raise VshError([VSH_BIN] + list(args),
                           '%s (expected %s)' % (code, rc if rc is not None else 'non-zero'),
                           out, err)
        return code, out, err

    def api(self, method, path, body=None, headers=None, timeout=60):
        """Raw HTTP on the socket: ApiResponse (status, headers, body bytes).
        body: bytes, str (sent as application/xml when it looks like XML) or
        a JSON-able object."""
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, bytearray)):
            if isinstance(body, str):
                if 'Content-Type' not in hdrs:
                    hdrs['Content-Type'] = ('application/xml' if body.lstrip().startswith('<')
                                            else 'text/plain')
                body = body.encode('utf-8')
            else:
                body = json.dumps(body).encode('utf-8')
                hdrs.setdefault('Content-Type', 'application/json')
        conn = UnixHTTPConnection(self.sock_path, timeout=timeout * TIMEOUT_SCALE)
        try:
            try:
                conn.request(method, path, body=body, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                # The daemon answered (e.g. 413) and closed before reading the
                # whole body: its answer is still in our receive queue.
                pass
            resp = conn.getresponse()
            data = resp.read()
            return ApiResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def api_json(self, method, path, body=None, expect=200):
        r = self.api(method, path, body)
        if expect is not None and r.status != expect:
            raise HarnessError('%s %s: expected %s, got %s %s' %
                               (method, path, expect, r.status, r.body[:2000]))
        return r.json()

    # ---- domains

    def domains(self):
        """All domain summaries (GET /v1/domains?all=1)."""
        return self.api_json('GET', '/v1/domains?all=1')['domains']

    def summary(self, name):
        return self.api_json('GET', dom_path(name))['domain']

    def define(self, name, xml=None, **kw):
        """Writes the XML to a file and `vsh define`s it; returns the file."""
        path = self.write_xml(name, xml if xml is not None else domain_xml(name, **kw))
        _rc, out, _err = self.vsh('define', path)
        expect = "Domain '%s' defined from %s" % (name, path)
        if expect not in out:
            raise HarnessError('unexpected define output %r (wanted %r)' % (out, expect))
        return path

    def start_domain(self, name, wait_boot=True, timeout=BOOT_TIMEOUT):
        """`vsh start NAME`; with wait_boot, waits for the guest's new boot
        and returns its boot id."""
        seen = self.boots(name)
        _rc, out, _err = self.vsh('start', name)
        if "Domain '%s' started" % name not in out:
            raise HarnessError('unexpected start output %r' % out)
        if wait_boot:
            return self.wait_boot(name, seen, timeout)
        return None

    def domstate(self, name, reason=False):
        args = ['domstate', name] + (['--reason'] if reason else [])
        return self.vsh(*args)[1].strip()

    def domid(self, name):
        return self.vsh('domid', name)[1].strip()

    def list_all(self):
        """`vsh list --all` parsed: [(id, name, state)]."""
        return parse_list(self.vsh('list', '--all')[1])

    def qemu_pid(self, name):
        """The QEMU pid from the pid file (None if absent or empty)."""
        try:
            with open(self.pid_file_path(name)) as f:
                text = f.read().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def qemu_pids(self):
        """pids of live QEMU processes started for this root."""
        out = []
        for p in processes_mentioning(self.root):
            argv = read_cmdline(p)
            if argv and 'qemu' in os.path.basename(argv[0]) and pid_alive(p):
                out.append(p)
        return out

    def wait_state(self, name, state, timeout=SHUTDOWN_TIMEOUT, reason=False):
        """Waits until domstate (with --reason if asked) equals state, or
        starts with it when state ends with ' ('."""
        last = [None]

        def check():
            rc, out, _err = self.vsh(*(['domstate', name] + (['--reason'] if reason else [])),
                                     check=False)
            last[0] = out.strip() if rc == 0 else 'vsh rc %s' % rc
            return last[0] == state
        wait_for(check, timeout, interval=0.25,
                 what=lambda: "domain '%s' state %r (last seen %r)" % (name, state, last[0]))

    # ---- the guest's console

    def console_text(self, name):
        try:
            with open(self.console_log_path(name), 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def console_has(self, name, needle):
        """Whether @needle is in the guest's console log, each character
        perhaps twice: QEMU 7.2 logs a serial byte both when the console
        socket answers EAGAIN (chardev/char.c logs the buffer on res < 0)
        and when the 16550 sends it again, so a log written while the
        daemon's reader lagged holds doubled characters ("efi: EFI v2.70
        by EDK II" as "EFI v2.70  by")."""
        pattern = ''.join(re.escape(c) + '{1,2}' for c in needle)
        return re.search(pattern, self.console_text(name)) is not None

    def boots(self, name):
        """boot ids of the guest's boots seen in its console log, in order."""
        return _READY_RE.findall(self.console_text(name))

    def wait_console(self, name, text, timeout=BOOT_TIMEOUT, count=1):
        """Waits until `text` appears (at least `count` times) in the
        domain's console log; returns the log."""
        def check():
            log = self.console_text(name)
            return log if log.count(text) >= count else None
        return wait_for(check, timeout, interval=0.2,
                        what=lambda: '%r x%d on the console of %s; console log ends with:\n%s' %
                        (text, count, name, self.console_text(name)[-2000:]))

    def wait_boot(self, name, seen=(), timeout=BOOT_TIMEOUT):
        """Waits for a VIRTD-GUEST-READY line whose boot id is not in `seen`
        (works whether or not the daemon truncates the log on start);
        returns the new boot id."""
        seen = set(seen)

        def check():
            for b in self.boots(name):
                if b not in seen:
                    return b
            return None
        return wait_for(check, timeout, interval=0.2,
                        what=lambda: 'a new boot of %s (seen %d); console log ends with:\n%s' %
                        (name, len(seen), self.console_text(name)[-2000:]))

    def guest_status(self, name):
        """The last VIRTD-GUEST-STATUS line: dict(cpus, mem_kib, disks, nics)."""
        found = _STATUS_RE.findall(self.console_text(name))
        if not found:
            return None
        cpus, mem, disks, nics = found[-1]
        return {'cpus': int(cpus), 'mem_kib': int(mem),
                'disks': [d for d in disks.split(',') if d],
                'nics': [n for n in nics.split(',') if n]}

    def console(self, name, *extra, use_pty=True):
        """Starts `vsh console NAME` in a subprocess: ConsoleSession."""
        return ConsoleSession(self, name, extra, use_pty=use_pty)


def _s(x):
    if x is None:
        return ''
    return x.decode('utf-8', 'replace') if isinstance(x, bytes) else x


def _tail(path, lines):
    try:
        with open(path, 'rb') as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode('utf-8', 'replace')
    except OSError as e:
        return '(%s)' % e
    return '\n'.join(data.splitlines()[-lines:])


# --------------------------------------------------------------------------
# virsh-shaped output

def parse_table(text):
    """A virsh table (header, dashes, rows) as (header cells, [row cells]).
    Columns are separated by two or more spaces, so values may contain
    single spaces (e.g. 'shut off')."""
    lines = [l for l in text.splitlines()]
    while lines and not lines[0].strip():
        lines.pop(0)
    if len(lines) < 2 or not re.match(r'^-+$', lines[1].strip()):
        raise HarnessError('not a virsh table:\n' + text)
    header = re.split(r'\s{2,}', lines[0].strip())
    rows = [re.split(r'\s{2,}', l.strip()) for l in lines[2:] if l.strip()]
    return header, rows


def parse_list(text):
    header, rows = parse_table(text)
    if header != ['Id', 'Name', 'State']:
        raise HarnessError('unexpected list header %r' % (header,))
    out = []
    for r in rows:
        if len(r) != 3:
            raise HarnessError('unexpected list row %r in:\n%s' % (r, text))
        out.append(tuple(r))
    return out


def parse_keyvals(text):
    """dominfo-style 'Key:   value' lines as a dict."""
    out = {}
    for line in text.splitlines():
        m = re.match(r'^([^:]+):\s*(.*?)\s*$', line)
        if m:
            out[m.group(1).strip()] = m.group(2)
    return out


# --------------------------------------------------------------------------
# QEMU's argv

def split_qemu_opts(s):
    """Splits a QemuOpts string ('x,a=b,c=d,,e,flag') into [(key, value)],
    with ',,' unescaped. A first part without '=' is the implied value
    (key None); a later one is a boolean flag (value None)."""
    parts, cur, i = [], [], 0
    while i < len(s):
        c = s[i]
        if c == ',':
            if i + 1 < len(s) and s[i + 1] == ',':
                cur.append(',')
                i += 2
                continue
            parts.append(''.join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append(''.join(cur))
    out = []
    for n, p in enumerate(parts):
        if '=' in p:
            k, v = p.split('=', 1)
            out.append((k, v))
        elif n == 0:
            out.append((None, p))
        else:
            out.append((p, None))
    return out


def _json_strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _json_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _json_strings(v)


_OPTION_RE = re.compile(r'^--?[a-z]')
_PLAIN_ARG_OPTIONS = ('-append', '-kernel', '-initrd', '-pidfile', '-L', '-bios', '-dtb')
_OPTS_KEY_RE = re.compile(r'^[A-Za-z0-9_.+:-]+$')


def qemu_args(argv):
    """QEMU's argv as [(option, argument or None)]."""
    out, opt = [], None
    for a in argv[1:]:
        if _OPTION_RE.match(a):
            if opt is not None:
                out.append((opt, None))
            opt = a
        else:
            out.append((opt, a))
            opt = None
    if opt is not None:
        out.append((opt, None))
    return out


def qemu_arg_values(argv):
    """Every value QEMU will see: (option, key, value) for plain arguments
    (key None), QemuOpts values (',,' unescaped) and JSON string values."""
    for opt, arg in qemu_args(argv):
        if arg is None:
            continue
        if arg.startswith('{'):
            try:
                for v in _json_strings(json.loads(arg)):
                    yield opt, None, v
                continue
            except ValueError:
                pass
        yield opt, None, arg
        if opt not in _PLAIN_ARG_OPTIONS and ('=' in arg or ',' in arg):
            for k, v in split_qemu_opts(arg):
                if v is not None:
                    yield opt, k, v


def qemu_bad_opts_keys(argv):
    """(option, key) for every QemuOpts key in argv that is not a plain
    identifier: the sign of a value that leaked into the option string."""
    bad = []
    for opt, arg in qemu_args(argv):
        if arg is None or arg.startswith('{') or opt in _PLAIN_ARG_OPTIONS:
            continue
        if '=' in arg or ',' in arg:
            for k, _v in split_qemu_opts(arg):
                if k is not None and not _OPTS_KEY_RE.match(k):
                    bad.append((opt, k))
    return bad


# --------------------------------------------------------------------------
# Interactive console through `vsh console`

class ConsoleSession:
    """`vsh console NAME [extra]` with its terminal on a pty (default, as a
    user has) or on pipes. read_until() collects output; send() types."""

    ESCAPE = b'\x1d'      # Ctrl+]
    # vsh prints this, then puts its terminal in raw mode with TCSAFLUSH,
    # which throws away whatever was typed before (virsh does the same).
    BANNER = b'Escape character is'

    def __init__(self, daemon, name, extra=(), use_pty=True):
        self.daemon = daemon
        self.name = name
        self.buf = b''
        argv = [VSH_BIN, '-c', daemon.uri, 'console', name] + list(extra)
        env = dict(os.environ, LC_ALL='C', HOME=daemon.root, TERM='xterm')
        if use_pty:
            master, slave = pty.openpty()
            # The user's terminal as vsh finds it: raw is vsh's job, but make
            # the window size sane.
            try:
                import fcntl
                import struct
                fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 160, 0, 0))
            except OSError:
                pass
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                         env=env, cwd=daemon.root, start_new_session=True,
                                         preexec_fn=_make_ctty(slave))
            os.close(slave)
            self.rfd = self.wfd = master
        else:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, env=env, cwd=daemon.root,
                                         start_new_session=True)
            self.rfd = self.proc.stdout.fileno()
            self.wfd = self.proc.stdin.fileno()
        self.use_pty = use_pty
        # Only a terminal is made raw (and flushed): pipes need no wait.
        self._attached = not use_pty
        os.set_blocking(self.rfd, False)
        _live_children.append(self.proc)

    def wait_attached(self, timeout=5):
        """Waits until vsh's terminal is raw: its banner, then a first byte
        after it (the daemon's replay of what the guest printed, which vsh
        writes only from its main loop, after making the terminal raw). A
        line typed earlier would be flushed: the lost first line that
        type_until's retries were spending seconds on. Gives up quietly
        after `timeout` or when vsh ends (the caller's reads tell why)."""
        if self._attached:
            return
        self._attached = True
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        while time.monotonic() < deadline:
            i = self.buf.find(self.BANNER)
            if i >= 0:
                eol = self.buf.find(b'\n', i)
                if eol >= 0 and len(self.buf) > eol + 1:
                    return
            if not self._pump(0.05):
                return

    def _pump(self, timeout):
        r, _w, _x = select.select([self.rfd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(self.rfd, 65536)
        except BlockingIOError:
            return True
        except OSError as e:
            if e.errno == errno.EIO:     # pty: the other side is closed
                return False
            raise
        if not data:
            return False
        self.buf += data
        return True

    @property
    def text(self):
        return self.buf.decode('utf-8', 'replace')

    def read_until(self, text, timeout=30, start=0):
        """Waits until `text` appears in the output after offset `start`;
        returns the offset just after it."""
        needle = text.encode() if isinstance(text, str) else text
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        while True:
            i = self.buf.find(needle, start)
            if i >= 0:
                return i + len(needle)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError('timed out after %d s waiting for %r from vsh console %s;'
                                   ' rc=%s; output ends with:\n%s' %
                                   (timeout, text, self.name, self.proc.poll(),
                                    self.buf[-2000:].decode('utf-8', 'replace')))
            if not self._pump(min(left, 0.2)):
                # EOF: collect what is left and give one last look.
                if self.buf.find(needle, start) >= 0:
                    continue
                raise HarnessError('vsh console %s ended (rc=%s) before %r; output:\n%s' %
                                   (self.name, self.proc.poll(), text,
                                    self.buf[-2000:].decode('utf-8', 'replace')))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wait_attached()
        os.write(self.wfd, data)

    def type_line(self, line):
        self.send(line + '\r')

    def type_until(self, line, expect, attempts=5, timeout=6):
        """Types `line` at the guest's prompt until `expect` shows after it:
        typed too early, a line can be eaten by the shell's terminal query
        (ESC[6n) while it starts. (A line typed before vsh made its terminal
        raw was flushed: send() now waits for that, wait_attached().)"""
        for attempt in range(attempts):
            start = len(self.buf)
            self.type_line(line)
            try:
                return self.read_until(expect, timeout=timeout, start=start)
            except TimeoutError:
                if attempt == attempts - 1:
                    raise

    def detach(self, timeout=10):
        """Sends the escape character; returns vsh's exit code."""
        try:
            self.send(self.ESCAPE)
        except OSError:
            pass
        return self.wait(timeout)

    def wait(self, timeout=10):
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._pump(0.1)
        if self.proc.poll() is None:
            raise TimeoutError('vsh console %s still running after %d s' % (self.name, timeout))
        # Drain what it printed last.
        n = len(self.buf) - 1
        while len(self.buf) > n:
            n = len(self.buf)
            try:
                if not self._pump(0.1):
                    break
            except OSError:
                break
        return self.proc.returncode

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for fd in {self.rfd, self.wfd}:
            try:
                os.close(fd)
            except OSError:
                pass
        if not self.use_pty:
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except (OSError, ValueError):
                    pass
        if self.proc in _live_children:
            _live_children.remove(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _make_ctty(fd):
    def preexec():
        import fcntl
        try:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        except OSError:
            pass
    return preexec


# --------------------------------------------------------------------------
# Raw WebSocket client for GET /v1/domains/{dom}/console (RFC 6455)

class WebSocket:
    def __init__(self, sock, leftover=b''):
        self.sock = sock
        self.buf = leftover
        self.data = b''          # payload bytes received (binary and text)
        self.closed = False

    @classmethod
    def connect(cls, daemon, name, force=False, timeout=15, suffix='/console',
                protocols=None):
        """Opens the console WebSocket (or the one at dom_path(name, suffix),
        offering the subprotocols @protocols); returns (WebSocket, None) on
        101 (its .headers: the 101's, lower-case names) or (None,
        ApiResponse) when the daemon answered with an HTTP error."""
        import base64
        key = base64.b64encode(os.urandom(16)).decode()
        path = dom_path(name, suffix) + ('?force=1' if force else '')
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(daemon.sock_path)
        extra = ('Sec-WebSocket-Protocol: %s\r\n' % ', '.join(protocols)) if protocols else ''
        req = ('GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n'
               'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
               'Sec-WebSocket-Version: 13\r\n%s\r\n' % (path, key, extra))
        s.sendall(req.encode())
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _sep, rest = data.partition(b'\r\n\r\n')
        lines = head.decode('iso-8859-1').split('\r\n')
        m = re.match(r'HTTP/1\.[01] (\d+)', lines[0] if lines else '')
        status = int(m.group(1)) if m else 0
        headers = {}
        for l in lines[1:]:
            if ':' in l:
                k, v = l.split(':', 1)
                headers[k.strip().lower()] = v.strip()
        if status != 101:
            body = rest
            length = int(headers.get('content-length', '-1'))
            s.settimeout(5)
            try:
                while length < 0 or len(body) < length:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    body += chunk
            except OSError:
                pass
            s.close()
            return None, ApiResponse(status, headers, body)
        ws = cls(s, rest)
        ws.headers = headers
        # Frames that came with the 101 (a VNC server speaks first).
        ws._drain()
        return ws, None

    def _frame(self):
        """Parses one frame from self.buf: (opcode, payload) or None."""
        b = self.buf
        if len(b) < 2:
            return None
        opcode = b[0] & 0x0f
        masked = b[1] & 0x80
        n = b[1] & 0x7f
        i = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = int.from_bytes(b[2:4], 'big')
            i = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = int.from_bytes(b[2:10], 'big')
            i = 10
        mask = None
        if masked:
            if len(b) < i + 4:
                return None
            mask = b[i:i + 4]
            i += 4
        if len(b) < i + n:
            return None
        payload = b[i:i + n]
        if mask:
            payload = bytes(c ^ mask[j % 4] for j, c in enumerate(payload))
        self.buf = b[i + n:]
        return opcode, payload

    def _pump(self, timeout):
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return True
        except OSError:
            self.closed = True
            return False
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return self._drain()

    def _drain(self):
        """Handles the complete frames in self.buf; False on a close frame."""
        while True:
            f = self._frame()
            if f is None:
                break
            op, payload = f
            if op in (0, 1, 2):
                self.data += payload
            elif op == 8:
                self.closed = True
                return False
            elif op == 9:
                self._send(10, payload)
        return True

    def _send(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + n.to_bytes(2, 'big')
        else:
            head += bytes([0x80 | 127]) + n.to_bytes(8, 'big')
        self.sock.sendall(head + mask + bytes(c ^ mask[j % 4] for j, c in enumerate(payload)))

    def send(self, data):
        self._send(2, data.encode() if isinstance(data, str) else data)

    def read_until(self, text, timeout=30, start=0):
        needle = text.encode() if isinstance(text, str) else text
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        while True:
            i = self.data.find(needle, start)
            if i >= 0:
                return i + len(needle)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError('timed out waiting for %r on the console WebSocket;'
                                   ' received:\n%s' % (text, self.data[-2000:].decode('utf-8', 'replace')))
            if not self._pump(min(left, 0.5)) and self.data.find(needle, start) < 0:
                raise HarnessError('console WebSocket closed before %r; received:\n%s' %
                                   (text, self.data[-2000:].decode('utf-8', 'replace')))

    def wait_closed(self, timeout=15):
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        while not self.closed and time.monotonic() < deadline:
            self._pump(0.2)
        return self.closed

    def close(self):
        if not self.closed:
            try:
                self._send(8, b'\x03\xe8')
            except OSError:
                pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# --------------------------------------------------------------------------
# Cleanup on exit and on signals

def cleanup_all(quick=False):
    for p in list(_live_children):
        try:
            if p.poll() is None:
                p.kill()
        except OSError:
            pass
    for d in list(_live_daemons):
        try:
            d.cleanup(quick=quick)
        except Exception as e:     # keep going: the others must be cleaned too
            sys.stderr.write('harness: cleanup of %s failed: %s\n' % (d.root, e))
    # After the daemons: a lab's bridge may carry a daemon's network.
    netlab.cleanup_all_labs()


def _on_signal(signum, _frame):
    # meson sends SIGTERM to the test's process group on timeout and SIGKILLs
    # it 0.5 s later: kill everything at once, no graceful stops.
    sys.stderr.write('harness: signal %d: cleaning up\n' % signum)
    try:
        cleanup_all(quick=True)
        _remove_private_sanitizer_dir()
    finally:
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(128 + signum)


def _remove_private_sanitizer_dir():
    # main() has read the reports by then; a directory named by
    # VIRTD_TEST_SANITIZER_DIR belongs to whoever named it.
    if not os.environ.get('VIRTD_TEST_SANITIZER_DIR'):
        shutil.rmtree(SANITIZER_DIR, ignore_errors=True)


# atexit runs the last registered first: the daemons stop (and report) before
# their report directory goes.
atexit.register(_remove_private_sanitizer_dir)
atexit.register(cleanup_all)
for _sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT):
    try:
        signal.signal(_sig, _on_signal)
    except (ValueError, OSError):
        pass


# --------------------------------------------------------------------------
# Test runner glue

def missing_binaries():
    return [b for b in (VIRTD_BIN, VSH_BIN) if not os.access(b, os.X_OK)]


class _TimedResult(unittest.TextTestResult):
    """unittest's verbose result, plus each test's length (meson's
    testlog.txt keeps it: where a file's time goes, for CI's budget)."""

    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.stream.writeln('harness: %s took %.1f s' % (test.id().split('.')[-1],
                                                          time.monotonic() - self._started))
        self.stream.flush()


def main():
    """Entry point of each test file: unittest.main with verbose output,
    exit code 0 only if every test passed (meson protocol 'exitcode')."""
    import unittest
    missing = missing_binaries()
    if missing:
        sys.stderr.write('harness: not built: %s\n' % ', '.join(missing))
        sys.exit(77)          # meson: skipped
    ensure_guest()
    prog = unittest.main(exit=False, testRunner=unittest.TextTestRunner(
        verbosity=2, resultclass=_TimedResult))
    ok = prog.result.wasSuccessful()
    # Stop every daemon first: LeakSanitizer reports when a process exits.
    cleanup_all()
    reports = sanitizer_reports()
    for name, text in reports:
        sys.stderr.write('==== harness: sanitizer report %s\n%s\n' % (name, text))
    if reports:
        sys.stderr.write('harness: %d sanitizer report(s): failing\n' % len(reports))
        ok = False
    sys.exit(0 if ok else 1)





class VirtdTestCase(unittest.TestCase):
    """Assertions shared by the integration tests."""

    maxDiff = None

    def list_row(self, d, name, all_=True):
        text = d.vsh(*(['list', '--all'] if all_ else ['list']))[1]
        for row in parse_list(text):
            if row[1] == name:
                return row
        return None

    def assertListed(self, d, name, state, all_=True):
        """`vsh list [--all]` has NAME in STATE; the Id column is '-' when
        shut off and a number otherwise. Returns the row."""
        row = self.list_row(d, name, all_)
        self.assertIsNotNone(row, '%r missing from vsh list%s' % (name, ' --all' if all_ else ''))
        self.assertEqual(row[2], state, 'list state of %r: %r' % (name, row))
        if state == 'shut off':
            self.assertEqual(row[0], '-', 'Id of a shut off domain: %r' % (row,))
        else:
            self.assertRegex(row[0], r'^\d+$', 'Id of a live domain: %r' % (row,))
        return row

    def assertNotListed(self, d, name):
        self.assertIsNone(self.list_row(d, name), '%r still in vsh list --all' % name)

    def assertVshOut(self, result, expected):
        rc, out, err = result
        self.assertEqual(rc, 0, err)
        self.assertIn(expected, out, 'stdout %r lacks %r (stderr %r)' % (out, expected, err))

    def assertMemoryBound(self, value, bound, msg):
        """value < bound, for a daemon's RSS or its growth. Not checked
        against a sanitizer build (DAEMON_SANITIZED): .ci/run runs the same
        test against the plain build too, which checks it; everything else
        in the test is checked in both runs."""
        if not DAEMON_SANITIZED:
            self.assertLess(value, bound, msg)

    def assertNoQemu(self, d, timeout=15):
        wait_for(lambda: not d.qemu_pids(), timeout,
                 what=lambda: 'no QEMU left for %s (still: %s)' % (d.root, d.qemu_pids()))

    def assertNoNetworkLeftovers(self, d=None, prefixes=(), links=(), timeout=5):
        """Nothing of daemon @d's networks (its bridges, their nft tables,
        dnsmasq mentioning its root) nor links with @prefixes or named
        @links is left on the host (waits up to @timeout seconds: a
        dnsmasq takes a moment to exit)."""
        def left():
            return d.leftovers(prefixes, links) if d else \
                network_leftovers(prefixes=prefixes, links=links)
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        while True:
            last = left()
            if not last or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        self.assertEqual(last, [], 'left on the host: %s' % '; '.join(last))

    def assertApiError(self, resp, status, codes):
        """resp is an ApiResponse; codes a string or a tuple of acceptable codes."""
        if isinstance(codes, str):
            codes = (codes,)
        self.assertEqual(resp.status, status, 'HTTP status; body %r' % resp.body[:500])
        self.assertIn(resp.error_code(), codes, 'error code; body %r' % resp.body[:500])
        self.assertTrue(resp.error_message(), 'error message is empty: %r' % resp.body[:500])


# Module-level spellings of the console helpers.

def console_log_path(daemon, name):
    """Where the daemon keeps everything the guest printed (CONSOLE_LOG)."""
    return daemon.console_log_path(name)


def wait_console(daemon, name, text, timeout=BOOT_TIMEOUT, count=1):
    """Waits until text appears in the domain's console log."""
    return daemon.wait_console(name, text, timeout, count)
