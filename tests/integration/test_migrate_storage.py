#!/usr/bin/env python3
"""Migration with copied storage (issue 13, docs/migration-storage.md): two
daemons in their own network namespaces (migrate_lab.py) with SEPARATE
storage, each with its own pool 'default'; the guests' disks are pool
volumes (<disk type='volume'>), so each host keeps its copy in its own pool.

test_live, one running counter guest whose disk is an overlay on a backing
file both hosts have (one path on this machine):
- the destination's pool out of space (a small tmpfs mounted over it in
  daemon B's mount namespace) for --copy-storage-all: the migration fails
  with a clear error, the guest runs on at the source with its marker,
  nothing is left on the destination (no domain, no file, no QEMU);
- --copy-storage-inc to B while a loop in the guest writes markers to its
  disk before, during and after the move: the counter goes on (same boot),
  no write is lost and read-mark shows the last; B's copy is an overlay on
  the same backing file, whose data the guest reads;
- --copy-storage-all back to A: one flat image, the marker written on B;
- --xml naming a copy path inside B's own configuration: refused, nothing
  made.
test_offline: --offline --persistent --copy-storage-all of a shut-off
domain: the qcow2 file arrives as it is (its internal snapshot too), the
domain starts on the destination and reads its marker.
test_source_killed_while_mirrors_ready: with the disks mirrored and in
sync (the hold point source-mirrors-ready), domjobabort, then the source
daemon killed: the mirrors and NBD nodes go (at the restart), the guest
runs on at the source, the destination drops its copy; then it migrates.
"""

import os
import re
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import domain_xml, wait_for  # noqa: E402
import migrate_lab  # noqa: E402
from migrate_lab import MigrateLab, counters  # noqa: E402


def volume_disk_xml(volume, target='vda', pool='default'):
    return ("    <disk type='volume' device='disk'>\n"
            "      <driver name='qemu' type='qcow2'/>\n"
            "      <source pool='%s' volume='%s'/>\n"
            "      <target dev='%s' bus='virtio'/>\n"
            "    </disk>" % (pool, volume, target))


def run(*argv):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True).stdout


class MigrateStorageTest(migrate_lab.LabCase):
    lab = None

    @classmethod
    def setUpClass(cls):
        cls.lab = MigrateLab(storage='separate').__enter__()

    @classmethod
    def tearDownClass(cls):
        if cls.lab:
            cls.lab.close()
            left = cls.lab.leftovers()
            if left:
                raise AssertionError('left behind: %r' % left)

    def setUp(self):
        super().setUp()
        self._cons = {}

    # ---- helpers

    def step(self, what):
        now = time.monotonic()
        if not hasattr(self, '_t0'):
            self._t0 = now
        sys.stderr.write('[%6.1f s] %s\n' % (now - self._t0, what))

    def guest(self, name, disk_path, start=True):
        """Defines NAME on host A with vda = volume NAME.qcow2 of A's pool
        (already made at @disk_path); starts it and waits for its counter."""
        lab = self.lab
        lab.a.vsh('pool-refresh', 'default')
        xml = domain_xml(name, memory_mib=128, extra_devices=volume_disk_xml(
            os.path.basename(disk_path)), live_copy=True)
        lab.a.define(name, xml)
        if not start:
            return None
        seen = lab.a.boots(name)
        lab.a.start_domain(name, wait_boot=False)
        boot = lab.a.wait_boot(name, seen)
        wait_for(lambda: any(b == boot for _n, b in counters(lab.a, name)), 60,
                 what='a counter line of %s' % name)
        n = max(n for n, b in counters(lab.a, name) if b == boot)
        from migrate_lab import Guest
        return Guest(name, None, None, boot, n)

    def con(self, d, name):
        """One console session per daemon and guest, kept attached (each
        attach costs a line the shell's terminal query may eat)."""
        key = (d.root, name)
        con = self._cons.get(key)
        if con is None or con.proc.poll() is not None:
            con = d.console(name)
            self.addCleanup(con.detach)
            tok = uuid.uuid4().hex[:8]
            con.type_until('echo A$((1+1))%s' % tok, 'A2' + tok, attempts=10, timeout=3)
            self._cons[key] = con
        return con

    def type(self, d, name, line, expect):
        return self.con(d, name).type_until(line, expect, timeout=15)

    def mark(self, d, name, text):
        tok = uuid.uuid4().hex[:8]
        self.type(d, name, 'mark-disk vda %s; echo M$((1+1))%s-$?' % (text, tok),
                  'M2%s-0' % tok)

    def read_mark(self, d, name):
        con = self.con(d, name)
        tok = uuid.uuid4().hex[:8]
        start = self.type(d, name, 'echo R$((1+1))%s; read-mark vda' % tok, 'R2' + tok)
        end = con.read_until('VIRTD-GUEST-MARK dev=vda text=', start=start, timeout=20)
        stop = con.read_until('\n', start=end)
        return con.text[end:stop].strip()

    def names(self, d):
        rc, out, _err = d.vsh('list', '--all', '--name')
        return sorted(x for x in out.split() if x)

    def pool_files(self, which):
        p = self.lab.pool_a if which == 'a' else self.lab.pool_b
        return sorted(os.listdir(p))

    def start_writer(self, d, name):
        """A loop in the guest that writes marker Ln to vda and prints
        WROTE-n, every 0.3 s, until /tmp/stop exists."""
        self.type(d, name, 'rm -f /tmp/stop; (i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); '
                  'mark-disk vda L$i && echo WROTE-$i; sleep 0.3; done) &', 'WROTE-2')

    def stop_writer(self, d, name):
        """Stops the loop; the numbers it printed on @d (console log)."""
        tok = uuid.uuid4().hex[:8]
        self.type(d, name, 'touch /tmp/stop; sleep 1; echo S$((1+1))%s' % tok, 'S2' + tok)
        return self.wrote(d, name)

    def wrote(self, d, name):
        return [int(n) for n in re.findall(r'WROTE-(\d+)', d.console_text(name))]

    # ---- tests

    def test_live(self):
        """One guest: out of space at the destination (nothing moves), then
        --copy-storage-inc to B while it writes its disk, then
        --copy-storage-all back to A."""
        lab = self.lab
        name = 'cs-live'
        # The backing file both hosts have (one path on this machine):
        # 40 MiB of data in a few hundred KiB (compressed clusters), so
        # that the destination's check of free space (the source's
        # allocation) passes and its full copy runs out of room.
        shared = os.path.join(lab.base, 'images')
        os.makedirs(shared, exist_ok=True)
        base = os.path.join(shared, 'cs-base.qcow2')
        raw = os.path.join(shared, 'cs-base.raw')
        with open(raw, 'wb') as f:
            f.write(b'virtd-copy-storage ' * (40 * 1024 * 1024 // 19))
        run('qemu-img', 'convert', '-q', '-c', '-O', 'qcow2', raw, base)
        os.unlink(raw)
        run('qemu-img', 'resize', '-q', base, '64M')
        run('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x42 48M 64k', base)
        top = os.path.join(lab.pool_a, name + '.qcow2')
        run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top)
        g = self.guest(name, top)
        self.step('booted on A')
        self.mark(lab.a, name, 'KEEPME')
        self.step('marked')

        # 1. B's pool out of space: a 16 MiB tmpfs over its directory,
        # mounted in daemon B's mount namespace (ip netns exec gives it its
        # own; the mount goes with it).
        pid = lab.b.proc.pid
        view = '/proc/%d/root%s' % (pid, lab.pool_b)
        hidden = sorted(os.listdir(view))
        run('nsenter', '-t', str(pid), '-m', 'mount', '-t', 'tmpfs', '-o', 'size=16m',
            'virtd-miglab-full', lab.pool_b)
        self.addCleanup(subprocess.run, ['nsenter', '-t', str(pid), '-m', 'umount', '-l',
                                         lab.pool_b], check=False, stderr=subprocess.DEVNULL)
        self.assertEqual(os.listdir(view), [])
        before_b = self.names(lab.b)
        rc, out, err = lab.a.vsh_fail('migrate', '--live', '--copy-storage-all', name,
                                      lab.uri_b, timeout=120)
        sys.stderr.write('out of space: %s' % err)
        self.step('out-of-space refused')
        self.assertIn("disk 'vda'", err)
        self.assertIn('No space left on device', err)
        # The guest runs on at the source, same boot, its disk intact;
        # nothing is left on the destination: no domain, no file, no QEMU.
        self.assertEqual(lab.a.domstate(name), 'running')
        lab.wait_counter(lab.a, name, g)
        self.assertEqual(self.read_mark(lab.a, name), 'KEEPME')
        wait_for(lambda: self.names(lab.b) == before_b, 30,
                 what=lambda: 'no %s on B (%r)' % (name, self.names(lab.b)))
        wait_for(lambda: os.listdir(view) == [], 15,
                 what=lambda: 'an empty pool on B (%r)' % os.listdir(view))
        self.assertEqual(lab.stray_qemus(), [])
        run('nsenter', '-t', str(pid), '-m', 'umount', lab.pool_b)
        self.assertEqual(sorted(os.listdir(view)), hidden)
        self.step('out-of-space checked')

        # 2. --copy-storage-inc while the guest writes its disk.
        self.start_writer(lab.a, name)
        self.step('writer started')
        t0 = time.monotonic()
        lab.a.vsh('migrate', '--live', '--persistent', '--copy-storage-inc', '--verbose', name,
                  lab.uri_b, timeout=120)
        sys.stderr.write('live --copy-storage-inc took %.1f s\n' % (time.monotonic() - t0))
        self.assertEqual(lab.b.domstate(name), 'running')
        self.assertEqual(lab.a.domstate(name), 'shut off')
        lab.wait_counter(lab.b, name, g)  # same boot, n goes on
        last = self.stop_writer(lab.b, name)
        self.step('writer stopped')
        self.assertTrue(last, 'the writer did not go on on B')
        # Every write, before, during and after the move: none is lost.
        seen = sorted(set(self.wrote(lab.a, name)) | set(last))
        self.assertEqual(seen, list(range(1, max(seen) + 1)), 'writes lost: %r' % seen)
        self.assertEqual(self.read_mark(lab.b, name), 'L%d' % max(seen))
        copy = os.path.join(lab.pool_b, name + '.qcow2')
        info = run('qemu-img', 'info', '-U', copy)
        self.assertIn('backing file: %s' % base, info)
        # The backing data reads through B's overlay.
        tok = uuid.uuid4().hex[:8]
        self.type(lab.b, name, 'echo X%s$(dd if=/dev/vda bs=64k skip=768 count=1 2>/dev/null '
                  '| head -c 4)' % tok, 'X%sBBBB' % tok)

        # 3. --copy-storage-all back to A: the whole chain in one image.
        # A keeps the definition and its old overlay: both go first (the
        # destination takes no domain it already has, nor writes over a file).
        lab.a.vsh('undefine', name)
        lab.a.vsh('vol-delete', name + '.qcow2', '--pool', 'default')
        self.step('inc checked')
        self.mark(lab.b, name, 'BACK4')
        t0 = time.monotonic()
        lab.b.vsh('migrate', '--live', '--copy-storage-all', name, lab.uri_a, timeout=120)
        sys.stderr.write('live --copy-storage-all took %.1f s\n' % (time.monotonic() - t0))
        self.assertEqual(lab.a.domstate(name), 'running')
        lab.wait_counter(lab.a, name, g)
        self.assertEqual(self.read_mark(lab.a, name), 'BACK4')
        self.step('back on A')
        info = run('qemu-img', 'info', '-U', top)
        self.assertNotIn('backing file', info)
        tok = uuid.uuid4().hex[:8]
        self.type(lab.a, name, 'echo X%s$(dd if=/dev/vda bs=64k skip=768 count=1 2>/dev/null '
                  '| head -c 4)' % tok, 'X%sBBBB' % tok)
        self.assertEqual([f for f in os.listdir(lab.pool_a) if 'vdmigrate' in f], [])

        # 4. A copy is never made inside the destination daemon's own
        # files (--xml naming a path in B's configuration directory).
        lab.b.vsh('undefine', name)
        lab.b.vsh('vol-delete', name + '.qcow2', '--pool', 'default')
        evil_dir = os.path.join(lab.root_b, 'etc')
        before = sorted(os.listdir(evil_dir))
        before_b = self.names(lab.b)
        xml = lab.a.vsh('dumpxml', name)[1]
        start = xml.index("<disk type='volume'")
        end = xml.index('</disk>', start) + len('</disk>')
        xml = xml[:start] + harness.disk_xml(os.path.join(evil_dir, 'evil.qcow2'),
                                             fmt='qcow2').strip() + xml[end:]
        xml_file = lab.a.write_xml(name + '-evil', xml)
        rc, out, err = lab.a.vsh_fail('migrate', '--live', '--copy-storage-all', '--xml',
                                      xml_file, name, lab.uri_b, timeout=120)
        sys.stderr.write('into the daemon\'s files: %s' % err)
        self.assertIn("daemon's configuration", err)
        self.assertEqual(sorted(os.listdir(evil_dir)), before)
        self.assertEqual(self.names(lab.b), before_b)
        self.assertEqual(os.listdir(lab.pool_b), [])
        self.assertEqual(lab.a.domstate(name), 'running')
        lab.a.vsh('destroy', name)

    def test_offline(self):
        lab = self.lab
        disk = os.path.join(lab.pool_a, 'cs-off.qcow2')
        run('qemu-img', 'create', '-q', '-f', 'qcow2', disk, '64M')
        run('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x4f 0 8', disk)  # 'OOOOOOOO'
        run('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x61 8M 1M', disk)
        run('qemu-img', 'snapshot', '-c', 'snap-keep', disk)
        self.guest('cs-off', disk, start=False)
        self.step('offline: defined')
        lab.a.vsh('migrate', '--offline', '--persistent', '--copy-storage-all', 'cs-off',
                  lab.uri_b, timeout=120)
        copy = os.path.join(lab.pool_b, 'cs-off.qcow2')
        self.assertTrue(os.path.exists(copy))
        # The qcow2 file as it was: its internal snapshot came along.
        self.assertIn('snap-keep', run('qemu-img', 'snapshot', '-l', copy))
        self.assertEqual(run('qemu-img', 'compare', disk, copy).strip(), 'Images are identical.')
        self.assertEqual([f for f in self.pool_files('b') if 'vdmigrate' in f], [])
        self.assertEqual(lab.b.domstate('cs-off'), 'shut off')
        seen = lab.b.boots('cs-off')
        lab.b.start_domain('cs-off', wait_boot=False)
        lab.b.wait_boot('cs-off', seen)
        self.step('offline: booted on B')
        self.assertEqual(self.read_mark(lab.b, 'cs-off'), 'OOOOOOOO')
        lab.b.vsh('destroy', 'cs-off')


    def test_source_killed_while_mirrors_ready(self):
        """The source daemon killed while the disks are mirrored and in sync
        (RAM not moving yet): at its restart the mirrors and NBD nodes go,
        the guest runs on at the source, the destination drops its copy."""
        lab = self.lab
        name = 'cs-kill'
        point = 'source-mirrors-ready'
        disk = os.path.join(lab.pool_a, name + '.qcow2')
        run('qemu-img', 'create', '-q', '-f', 'qcow2', disk, '64M')
        lab.restart_daemon(lab.a, env={'VIRTD_TEST_MIGRATION_HOLD': point})
        self.addCleanup(lab.restart_daemon, lab.a, env={})
        g = self.guest(name, disk)
        self.mark(lab.a, name, 'KILLMARK')

        def migrate_in_background():
            return subprocess.Popen(
                [harness.VSH_BIN, '-c', lab.uri_a, 'migrate', '--live', '--copy-storage-all',
                 name, lab.uri_b], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                universal_newlines=True, env=dict(os.environ, LC_ALL='C'))

        def nothing_left():
            wait_for(lambda: lab.a.domstate(name) == 'running' and name not in self.names(lab.b),
                     60, what=lambda: '%s running on A only (A %r, B %r)'
                     % (name, lab.a.domstate(name), self.names(lab.b)))
            lab.wait_counter(lab.a, name, g)  # same boot: never stopped
            # (after a restart the recovery drops them while the guest runs)
            def qmp(cmd):
                return lab.a.vsh('qemu-monitor-command', name, '{"execute":"%s"}' % cmd)[1]
            wait_for(lambda: qmp('query-block-jobs').split() == ['{"return":[]}'], 10,
                     what=lambda: 'no block job left on A: %s' % qmp('query-block-jobs'))
            self.assertNotIn('migrate-vda-nbd', qmp('query-named-block-nodes'))
            wait_for(lambda: name + '.qcow2' not in os.listdir(lab.pool_b), 15,
                     what=lambda: 'no copy left on B (%r)' % os.listdir(lab.pool_b))
            self.assertEqual(lab.stray_qemus(), [])

        # domjobabort with the mirrors ready: they are abandoned (force).
        mig = migrate_in_background()
        lab.wait_hold(lab.a, point)
        lab.a.vsh('domjobabort', name)
        lab.release_hold(lab.a, point)
        _out, err = mig.communicate(timeout=60)
        self.assertNotEqual(mig.returncode, 0, err)
        self.assertIn('abort', err)
        nothing_left()
        self.step('aborted with the mirrors ready')

        # The source daemon killed with the mirrors ready.
        mig = migrate_in_background()
        lab.wait_hold(lab.a, point)
        self.step('held with the mirrors ready')
        rc, out, _err = lab.a.vsh('qemu-monitor-command', name, '{"execute":"query-block-jobs"}')
        self.assertIn('"status":"ready"', out.replace(' ', ''))
        self.assertIn(name + '.qcow2', os.listdir(lab.pool_b))
        self.assertIn(name, self.names(lab.b))

        lab.kill_daemon(lab.a)
        lab.release_hold(lab.a, point)
        lab.restart_daemon(lab.a, env={})
        _out, err = mig.communicate(timeout=60)
        self.assertNotEqual(mig.returncode, 0, err)
        self.step('restarted')

        nothing_left()
        self._cons.clear()  # the old daemon's console sessions ended with it
        self.assertEqual(self.read_mark(lab.a, name), 'KILLMARK')
        # It migrates afterwards.
        lab.a.vsh('migrate', '--live', '--copy-storage-all', name, lab.uri_b, timeout=120)
        self.assertEqual(lab.b.domstate(name), 'running')
        self.assertEqual(self.read_mark(lab.b, name), 'KILLMARK')
        lab.b.vsh('destroy', name)

if __name__ == '__main__':
    harness.main()
