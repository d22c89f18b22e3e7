"""The clone, save/restore and snapshot figures of bench/run.py (issue 12),
for both sides, with the same images and the same domain XML (see
bench/README.md, "Clone, save/restore and snapshot figures").

- linked: a linked clone of a domain whose disk is a 10 GiB qcow2 (virtual
  size, sparse, made by the run): `vsh clone --original A --name B --file P
  --linked`, end to end (the command's wall clock). virtd only: libvirt has
  no linked clone; beside it the floor, `qemu-img create -f qcow2 -b BASE
  -F qcow2 P` by hand.
- fullclone: a full clone of a domain whose disk is a 1 GiB qcow2 with
  256 MiB of data written in it: `vsh clone --original A --name B --file P`
  against `virt-clone --original A --name B --file P` (virt-manager's tool,
  on the private libvirtd), the same source image for both sides.
- save: a running 512 MiB guest (run.py's template, 512 MiB, a 64 MiB qcow2
  disk, `virtd.counter=1`): `save NAME FILE`, then `restore FILE`, each
  timed; then the time until the guest counts again (a counter line with a
  higher count and the same boot_id: it resumed, it did not reboot).
- snapshot: the same running guest: `snapshot-create-as NAME SNAP` (an
  internal snapshot with the memory state, in the qcow2), timed; checked
  with `qemu-img snapshot -l -U` on the image, then deleted (untimed).

A part the virtd side cannot do yet (command missing, refused) is reported
as "unavailable: <reason>" in its cell; the run goes on with the others.
"""

import json
import os
import re
import shutil
import subprocess
import time

import hotplug_phase

FIGURES = [
    # key, label, unit
    ('sn_linked', 'linked clone, 10 GiB qcow2, median of {lruns}', 'ms'),
    ('sn_fullclone', 'full clone, qcow2 with 256 MiB data, median of {runs}', 's'),
    ('sn_saverestore', 'save + restore, 512 MiB guest, median of {runs}', 's'),
    ('sn_snapshot', 'snapshot-create-as, 512 MiB guest, median of {runs}', 's'),
]
INFO_FIGURES = [
    ('sn_linked_floor', 'linked clone\'s floor: qemu-img create -b by hand', 'ms'),
    ('sn_save', '`save` command returns', 's'),
    ('sn_restore', '`restore` command returns', 's'),
    ('sn_restore_counting', 'restore -> guest counting again', 's'),
    ('sn_save_size', 'save file size', 'MiB'),
    ('sn_snapshot_delete', '`snapshot-delete` command returns', 's'),
    ('sn_snapshot_counting', 'snapshot-create-as -> guest counting again', 's'),
]
GOALS = [
    ('sn_linked', 'abs_virtd', 0.300, 'linked clone of a 10 GiB qcow2 < 300 ms'),
    ('sn_fullclone', 'ratio', 1.0, 'full clone: no slower than virt-clone'),
    ('sn_saverestore', 'ratio', 1.0, 'save + restore: no slower'),
]

PARTS = ('linked', 'fullclone', 'save', 'snapshot')

# Whole lines only: the guest may be writing the one at the end of the file.
COUNTER_RE = re.compile(rb'VIRTD-GUEST-COUNTER n=(\d+) boot_id=(\S+?)\r?\n')

QCOW2_DISK_XML = ("    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                  "<source file='{path}'/><target dev='vda' bus='virtio'/></disk>\n")

# What a missing or unfinished command looks like on the virtd side: the
# part is then "unavailable", not a failure of the run.
UNAVAILABLE_RE = re.compile(r'unknown command|not supported|not implemented|unsupported|'
                            r'no such option|unknown option|HTTP 404|HTTP 501|'
                            r'Not Found|Not Implemented', re.I)


class Unavailable(Exception):
    pass


def counters(path):
    """(n, boot_id) of every counter line in the serial file @path (the file
    is small: one line a second; it may be truncated by a new QEMU)."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return []
    return [(int(m.group(1)), m.group(2)) for m in COUNTER_RE.finditer(data)]


def qemu_img_info(path):
    r = subprocess.run(['qemu-img', 'info', '-U', '--output=json', path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError('qemu-img info %s: %s' % (path, r.stderr.strip()))
    return json.loads(r.stdout)


def ensure_virt_clone(run_log):
    """virt-clone comes with Debian's virtinst (not with libvirt's daemon
    packages): installed here when missing. None, or why it is missing."""
    if shutil.which('virt-clone'):
        return None
    run_log('installing virtinst (virt-clone) from Debian')
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    argv = ['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'virtinst']
    for attempt in range(2):
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, env=env)
        if r.returncode == 0 and shutil.which('virt-clone'):
            return None
        if attempt == 0:
            subprocess.run(['apt-get', 'update', '-q'], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=env)
    return 'virt-clone missing (apt-get install virtinst failed: %s)' % r.stdout[-300:].strip()


class SnapshotPhase:
    def __init__(self, bench, run_log, wait_marker, domain_xml):
        self.b = bench
        self.a = bench.args
        self.log = run_log
        self.wait_marker = wait_marker
        self.domain_xml = domain_xml
        self.parts = [p for p in self.a.snapshot_parts.split(',') if p]
        self.virt_clone_missing = None

    # ---- helpers

    def path(self, what):
        return os.path.join(self.b.tmp, '%s%s' % (self.b.prefix, what))

    # The same guest definition as the hot-plug figures' (it reads only
    # self.domain_xml).
    define_guest = hotplug_phase.HotplugPhase.define_guest

    def cli(self, side, *args, timeout=600):
        """side.cli, but a virtd command that does not exist (yet) or is
        refused as unsupported raises Unavailable, not BenchError."""
        r = side.cli(*args, check=False, timeout=timeout)
        if r.rc != 0:
            text = (r.err + r.out).strip()
            first = text.splitlines()[0] if text else 'exit %d' % r.rc
            if side.key == 'virtd' and UNAVAILABLE_RE.search(text):
                raise Unavailable('%s: %s' % (args[0], first[:200]))
            raise RuntimeError('%s: %s' % (' '.join(map(str, args)), text[-1500:]))
        return r

    def unavailable(self, side, keys, reason):
        for k in keys:
            self.b.record(k, side, unavailable=reason)
        self.b.error(side, 'unavailable: ' + keys[0], reason)

    def remove_domain(self, side, name):
        side.cli('destroy', name, check=False, timeout=120)
        r = side.cli('undefine', name, '--snapshots-metadata', check=False, timeout=120)
        if r.rc != 0:
            side.cli('undefine', name, check=False, timeout=120)

    @staticmethod
    def rm(path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    @staticmethod
    def run_cmd(argv, timeout=600):
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError('%s: exit %d: %s' % (' '.join(argv), r.returncode,
                                                   r.stdout[-1500:]))
        return time.perf_counter() - t0, r.stdout

    # ---- the phase

    def run(self):
        for part, fn in (('linked', self.run_linked), ('fullclone', self.run_fullclone)):
            if part in self.parts:
                try:
                    fn()
                except Exception as e:
                    self.b.error(None, '%s figures' % part, e)
        if 'save' in self.parts or 'snapshot' in self.parts:
            try:
                self.run_running_guest()
            except Exception as e:
                self.b.error(None, 'save/snapshot figures', e)

    # ---- linked clone (virtd only; the floor by hand)

    def run_linked(self):
        b, a = self.b, self.a
        side = next((s for s in b.sides if s.key == 'virtd'), None)
        if side is None:
            return
        base = self.path('lc-base.qcow2')
        self.run_cmd(['qemu-img', 'create', '-q', '-f', 'qcow2', base, '10G'])
        orig = b.prefix + 'lc'
        self.define_guest(side, orig, devices=QCOW2_DISK_XML.format(path=base))
        try:
            floor = []
            for i in range(a.snapshot_linked_runs):
                p = self.path('lc-floor%d.qcow2' % i)
                os.sync()
                secs, _o = self.run_cmd(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base,
                                         '-F', 'qcow2', p])
                floor.append(secs)
                self.rm(p)
            b.record('sn_linked_floor', side, samples=floor)
            for i in range(a.snapshot_linked_runs):
                name = b.prefix + 'lc-c%d' % i
                p = self.path('lc-c%d.qcow2' % i)
                os.sync()
                try:
                    r = self.cli(side, 'clone', '--original', orig, '--name', name,
                                 '--file', p, '--linked')
                except Unavailable as e:
                    self.unavailable(side, ['sn_linked'], str(e))
                    return
                try:
                    info = qemu_img_info(p)
                    backing = info.get('full-backing-filename') or info.get('backing-filename')
                    if info.get('format') != 'qcow2' or not backing or \
                            os.path.realpath(os.path.join(os.path.dirname(p), backing)) != \
                            os.path.realpath(base):
                        raise RuntimeError('%s is not a qcow2 overlay of %s: %s'
                                           % (p, base, info))
                    if name not in side.cli('list', '--all', '--name').out.split():
                        raise RuntimeError('clone %s not listed after the command' % name)
                finally:
                    self.remove_domain(side, name)
                    self.rm(p)
                b.record('sn_linked', side, samples=[r.seconds])
                self.log('%s: linked clone %d/%d: %.1f ms (qemu-img create -b: %.1f ms)'
                         % (side.label, i + 1, a.snapshot_linked_runs, 1000 * r.seconds,
                            1000 * floor[i]))
        finally:
            self.remove_domain(side, orig)
            self.rm(base)

    # ---- full clone: vsh clone against virt-clone

    def clone_cmd(self, side, orig, name, dest):
        """The full clone on @side, timed; returns seconds."""
        if side.key == 'virtd':
            return self.cli(side, 'clone', '--original', orig, '--name', name,
                            '--file', dest).seconds
        if self.virt_clone_missing:
            raise Unavailable(self.virt_clone_missing)
        argv = ['virt-clone', '--connect', side.uri, '--original', orig, '--name', name,
                '--file', dest]
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True,
                           env=side.env, timeout=600)
        secs = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError('%s: exit %d: %s' % (' '.join(argv), r.returncode,
                                                   r.stdout[-1500:]))
        return secs

    def run_fullclone(self):
        b, a = self.b, self.a
        if any(s.key == 'libvirt' for s in b.sides):
            self.virt_clone_missing = ensure_virt_clone(self.log)
        src = self.path('fc-src.qcow2')
        self.run_cmd(['qemu-img', 'create', '-q', '-f', 'qcow2', src, '1G'])
        # Data, not zeroes: a copy that skips zero clusters still has to
        # copy these 256 MiB.
        self.run_cmd(['qemu-io', '-f', 'qcow2', '-c', 'write -q -P 0x5a 0 256M', src])
        orig = b.prefix + 'fc'
        defined = []
        try:
            for side in b.sides:
                self.define_guest(side, orig, devices=QCOW2_DISK_XML.format(path=src))
                defined.append(side)
            # Read once untimed: both sides then read it from the page cache.
            self.run_cmd(['qemu-img', 'convert', '-f', 'qcow2', '-O', 'qcow2', src,
                          self.path('fc-warm.qcow2')])
            self.rm(self.path('fc-warm.qcow2'))
            dead = set()
            for i in range(a.snapshot_runs):
                for side in b.order(i):
                    if side.key in dead:
                        continue
                    name = b.prefix + 'fc-c%d' % i
                    dest = self.path('fc-%s-c%d.qcow2' % (side.key, i))
                    os.sync()       # the previous copy's dirty pages are not this one's cost
                    try:
                        secs = self.clone_cmd(side, orig, name, dest)
                        if i == 0:
                            # Same guest-visible content (untimed).
                            self.run_cmd(['qemu-img', 'compare', '-U', src, dest])
                        info = qemu_img_info(dest)
                        b.record('sn_fullclone', side, samples=[secs],
                                 dest_format=info.get('format'),
                                 dest_actual_size=info.get('actual-size'),
                                 dest_backing=info.get('backing-filename'))
                        self.log('%s: full clone %d/%d: %.2f s'
                                 % (side.label, i + 1, a.snapshot_runs, secs))
                    except Unavailable as e:
                        dead.add(side.key)
                        self.unavailable(side, ['sn_fullclone'], str(e))
                    except Exception as e:
                        dead.add(side.key)
                        b.error(side, 'full clone run %d' % (i + 1), e)
                    finally:
                        self.remove_domain(side, name)
                        self.rm(dest)
        finally:
            for side in defined:
                self.remove_domain(side, orig)
            self.rm(src)

    # ---- save / restore and snapshot: one running guest per side

    def wait_counting(self, serial, after_n, boot_id, timeout):
        """perf_counter() when @serial shows a counter line past @after_n of
        the same boot (the guest runs on, from its memory)."""
        deadline = time.monotonic() + timeout
        while True:
            for n, bid in counters(serial):
                if n > after_n:
                    if bid != boot_id:
                        raise RuntimeError('the guest rebooted (boot_id %s, was %s)'
                                           % (bid.decode(), boot_id.decode()))
                    return time.perf_counter()
            if time.monotonic() > deadline:
                raise RuntimeError('no counter line past n=%d in %s after %d s'
                                   % (after_n, serial, timeout))
            time.sleep(0.01)

    def last_counter(self, serial, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            c = counters(serial)
            if c:
                return c[-1]
            if time.monotonic() > deadline:
                raise RuntimeError('no VIRTD-GUEST-COUNTER line in %s' % serial)
            time.sleep(0.05)

    def run_running_guest(self):
        b, a = self.b, self.a
        guest = b.prefix + 'sv'
        up = {}
        for side in b.sides:
            try:
                disk = self.path('sv-%s.qcow2' % side.key)
                self.run_cmd(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, '64M'])
                self.define_guest(side, guest, memory_mib=512, cmdline='virtd.counter=1',
                                  devices=QCOW2_DISK_XML.format(path=disk))
                serial = side.serial_path(guest)
                self.rm(serial)
                side.cli('start', guest)
                up[side.key] = (side, serial, disk)
            except Exception as e:
                b.error(side, 'save/snapshot guest set-up', e)
        try:
            for side, serial, _d in up.values():
                self.wait_marker(serial, b'VIRTD-GUEST-READY', a.boot_timeout)
                self.last_counter(serial)
            if 'save' in self.parts:
                self.run_save(guest, up)
            if 'snapshot' in self.parts:
                self.run_snapshot(guest, up)
        finally:
            for side, _s, disk in up.values():
                self.remove_domain(side, guest)
                self.rm(disk)

    def ensure_running(self, side, guest, serial):
        """After a failed part: the guest runs again for the next one."""
        if side.domstate(guest) == 'running':
            return
        side.cli('destroy', guest, check=False)
        self.rm(serial)
        side.cli('start', guest)
        self.wait_marker(serial, b'VIRTD-GUEST-READY', self.a.boot_timeout)
        self.last_counter(serial)

    def run_save(self, guest, up):
        b, a = self.b, self.a
        dead = set()
        # --warmup untimed cycles first (the first save and restore after
        # the boot are slower on both sides, by up to a second).
        for i in range(-a.warmup, a.snapshot_runs):
            for side in b.order(i):
                if side.key not in up or side.key in dead:
                    continue
                _s, serial, _d = up[side.key]
                f = self.path('sv-%s-%d.save' % (side.key, i + a.warmup))
                try:
                    n, boot_id = self.last_counter(serial)
                    os.sync()
                    r = self.cli(side, 'save', guest, f)
                    st = side.domstate(guest)
                    if st != 'shut off':
                        raise RuntimeError('state %r after save, not shut off' % st)
                    size = os.path.getsize(f)
                    os.sync()
                    t0 = time.perf_counter()
                    r2 = self.cli(side, 'restore', f)
                    counting = self.wait_counting(serial, n, boot_id, 120) - t0
                    if i < 0:
                        self.log('%s: save + restore warm-up: %.2f s + %.2f s'
                                 % (side.label, r.seconds, r2.seconds))
                        continue
                    b.record('sn_save', side, samples=[r.seconds])
                    b.record('sn_restore', side, samples=[r2.seconds])
                    b.record('sn_saverestore', side, samples=[r.seconds + r2.seconds])
                    b.record('sn_restore_counting', side, samples=[counting])
                    b.record('sn_save_size', side, samples=[size // 1024])
                    self.log('%s: save %d/%d: %.2f s (%.0f MiB), restore %.2f s, counting '
                             'again %.2f s after restore began'
                             % (side.label, i + 1, a.snapshot_runs, r.seconds, size / 2**20,
                                r2.seconds, counting))
                except Unavailable as e:
                    dead.add(side.key)
                    self.unavailable(side, ['sn_saverestore', 'sn_save', 'sn_restore'], str(e))
                except Exception as e:
                    dead.add(side.key)
                    b.error(side, 'save/restore %s' % ('run %d' % (i + 1) if i >= 0
                                                       else 'warm-up'), e)
                finally:
                    self.rm(f)
                if side.key in dead:
                    try:
                        self.ensure_running(side, guest, serial)
                    except Exception as e:
                        b.error(side, 'guest after save/restore', e)

    def run_snapshot(self, guest, up):
        b, a = self.b, self.a
        dead = set()
        for i in range(a.snapshot_runs):
            for side in b.order(i):
                if side.key not in up or side.key in dead:
                    continue
                _s, serial, disk = up[side.key]
                snap = b.prefix + 'snap%d' % i
                try:
                    if side.domstate(guest) != 'running':
                        raise RuntimeError('guest not running before the snapshot')
                    n, boot_id = self.last_counter(serial)
                    os.sync()
                    t0 = time.perf_counter()
                    r = self.cli(side, 'snapshot-create-as', guest, snap)
                    t_count = self.wait_counting(serial, n, boot_id, 120)
                    info = qemu_img_info(disk)
                    names = [s.get('name') for s in info.get('snapshots', [])]
                    if snap not in names:
                        raise RuntimeError('no internal snapshot %s in %s (it has %s)'
                                           % (snap, disk, names))
                    b.record('sn_snapshot', side, samples=[r.seconds])
                    b.record('sn_snapshot_counting', side,
                             samples=[t_count - t0])
                    r2 = side.cli('snapshot-delete', guest, snap, check=False, timeout=300)
                    if r2.rc == 0:
                        b.record('sn_snapshot_delete', side, samples=[r2.seconds])
                    self.log('%s: snapshot %d/%d: %.2f s; snapshot-delete %s'
                             % (side.label, i + 1, a.snapshot_runs, r.seconds,
                                '%.2f s' % r2.seconds if r2.rc == 0 else
                                'failed: ' + (r2.err + r2.out).strip()[:200]))
                except Unavailable as e:
                    dead.add(side.key)
                    self.unavailable(side, ['sn_snapshot'], str(e))
                except Exception as e:
                    dead.add(side.key)
                    b.error(side, 'snapshot run %d' % (i + 1), e)

    # ---- clean-up (domains are removed by run(); these are for a failure)

    def side_cleanup(self, side):
        if not side.alive():
            return
        prefix = self.b.prefix
        for name in side.bench_domains():
            if name.startswith(prefix + 'sv') or name.startswith(prefix + 'lc') or \
                    name.startswith(prefix + 'fc'):
                self.remove_domain(side, name)

    def cleanup(self):
        pass
