#!/usr/bin/env python3
"""Storage pools and volumes end to end: the default pool of a first start,
a pool's lifecycle across a daemon restart, volumes made by qemu-img
(raw, qcow2, with a backing file), resize, clone, upload/download streamed
through the API, and the refusals (each followed by a check that nothing
changed)."""

import hashlib
import json
import os
import shlex
import subprocess
import threading
import time

import harness
from harness import Daemon


def table(text):
    return harness.parse_table(text)


def md5(path):
    h = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


class Storage(harness.VirtdTestCase):

    def vols(self, d, pool):
        return sorted(r[0] for r in table(d.vsh('vol-list', pool)[1])[1])

    def test_default_pool_on_first_start(self):
        with Daemon() as d:
            header, rows = table(d.vsh('pool-list', '--all')[1])
            self.assertEqual(header, ['Name', 'State', 'Autostart'])
            self.assertEqual(rows, [['default', 'active', 'yes']])
            info = harness.parse_keyvals(d.vsh('pool-info', 'default')[1])
            self.assertEqual(info['State'], 'running')
            self.assertEqual(info['Persistent'], 'yes')
            self.assertRegex(info['Capacity'], r'^\d+\.\d\d (B|KiB|MiB|GiB|TiB)$')
            xml = d.vsh('pool-dumpxml', 'default')[1]
            self.assertIn("<pool type='dir'>", xml)
            self.assertIn('<path>%s</path>' % d.path('lib', 'images'), xml)
            self.assertTrue(os.path.isdir(d.path('lib', 'images')))
            # Undefined by the user: a restart does not bring it back.
            d.vsh('pool-destroy', 'default')
            d.vsh('pool-undefine', 'default')
            d.restart()
            self.assertEqual(table(d.vsh('pool-list', '--all')[1])[1], [])

    def test_pool_lifecycle_and_restart(self):
        with Daemon() as d:
            target = d.path('p1dir')
            self.assertVshOut(d.vsh('pool-define-as', 'p1', 'dir', '--target', target),
                              'Pool p1 defined')
            self.assertEqual(harness.parse_keyvals(d.vsh('pool-info', 'p1')[1])['State'],
                             'inactive')
            # Not built yet: start says what to do.
            _rc, _o, err = d.vsh_fail('pool-start', 'p1')
            self.assertIn('pool-build', err)
            self.assertVshOut(d.vsh('pool-build', 'p1'), 'Pool p1 built')
            self.assertEqual(os.stat(target).st_mode & 0o777, 0o711)
            self.assertVshOut(d.vsh('pool-start', 'p1'), 'Pool p1 started')
            self.assertVshOut(d.vsh('pool-autostart', 'p1'), 'Pool p1 marked as autostarted')
            self.assertTrue(os.path.islink(d.path('etc', 'storage', 'autostart', 'p1.xml')))
            header, rows = table(d.vsh('pool-list', '--details')[1])
            self.assertEqual(header, ['Name', 'State', 'Autostart', 'Persistent', 'Capacity',
                                      'Allocation', 'Available'])
            self.assertIn(['p1', 'running', 'yes', 'yes'], [r[:4] for r in rows])
            self.assertVshOut(d.vsh('pool-refresh', 'p1'), 'Pool p1 refreshed')

            # Refusals that change nothing.
            _rc, _o, err = d.vsh_fail('pool-undefine', 'p1', rc=6)
            self.assertIn("storage pool 'p1' is still active", err)
            _rc, _o, err = d.vsh_fail('pool-define-as', 'vg', 'logical', '--target', '/dev/vg',
                                      rc=3)
            self.assertIn("'logical'", err)
            _rc, _o, err = d.vsh_fail('pool-define-as', 'p2', 'dir', '--target', target, rc=5)
            self.assertIn("'p1'", err)
            _rc, _o, err = d.vsh_fail('pool-info', 'nosuch', rc=10)
            self.assertIn("'nosuch'", err)
            names = [r[0] for r in table(d.vsh('pool-list', '--all')[1])[1]]
            self.assertEqual(names, ['default', 'p1'])

            # A restart keeps the active pool active; one stopped stays stopped.
            d.vsh('pool-define-as', 'p3', 'dir', '--target', d.path('p3dir'))
            d.vsh('pool-build', 'p3')
            d.restart()
            rows = dict((r[0], r[1:]) for r in table(d.vsh('pool-list', '--all')[1])[1])
            self.assertEqual(rows['p1'], ['active', 'yes'])
            self.assertEqual(rows['p3'], ['inactive', 'no'])

            self.assertVshOut(d.vsh('pool-autostart', 'p1', '--disable'),
                              'Pool p1 unmarked as autostarted')
            self.assertVshOut(d.vsh('pool-destroy', 'p1'), 'Pool p1 destroyed')
            self.assertVshOut(d.vsh('pool-undefine', 'p1'), 'Pool p1 has been undefined')
            self.assertFalse(os.path.exists(d.path('etc', 'storage', 'p1.xml')))
            self.assertTrue(os.path.isdir(target), 'undefine must not remove the directory')

            # pool-define from a file, and the API answers the same.
            xml = ("<pool type='dir'><name>fromfile</name>"
                   "<target><path>%s</path></target></pool>" % d.path('ff'))
            f = d.write_file('pool.xml', xml)
            self.assertVshOut(d.vsh('pool-define', f), 'Pool fromfile defined from %s' % f)
            pool = d.api_json('GET', '/v1/pools/fromfile')['pool']
            self.assertEqual(pool['state'], 'inactive')
            self.assertEqual(pool['capacity'], 0)

    def test_volumes(self):
        with Daemon() as d:
            pool_dir = d.path('lib', 'images')
            self.assertVshOut(d.vsh('vol-create-as', 'default', 'a.raw', '8M'),
                              'Vol a.raw created')
            self.assertVshOut(d.vsh('vol-create-as', 'default', 'b.qcow2', '1G',
                                    '--format', 'qcow2'), 'Vol b.qcow2 created')
            self.assertVshOut(d.vsh('vol-create-as', 'default', 'c.qcow2', '1G', '--format',
                                    'qcow2', '--backing-vol', 'b.qcow2',
                                    '--backing-vol-format', 'qcow2'), 'Vol c.qcow2 created')
            c = d.api_json('GET', '/v1/pools/default/volumes/c.qcow2')['volume']
            self.assertEqual(c['format'], 'qcow2')
            self.assertEqual(c['backing'], {'path': os.path.join(pool_dir, 'b.qcow2'),
                                            'format': 'qcow2'})
            self.assertEqual(d.api_json('GET', '/v1/pools/default/volumes/a.raw')['volume']
                             ['capacity'], 8 << 20)

            header, rows = table(d.vsh('vol-list', 'default', '--details')[1])
            self.assertEqual(header, ['Name', 'Path', 'Type', 'Capacity', 'Allocation'])
            self.assertEqual([r[0] for r in rows], ['a.raw', 'b.qcow2', 'c.qcow2'])
            self.assertEqual(rows[1][2:4], ['file', '1.00 GiB'])

            info = harness.parse_keyvals(d.vsh('vol-info', 'b.qcow2', '--pool', 'default')[1])
            self.assertEqual(info['Name'], 'b.qcow2')
            self.assertEqual(info['Capacity'], '1.00 GiB')
            path = d.vsh('vol-path', 'b.qcow2', '--pool', 'default')[1].strip()
            self.assertEqual(path, os.path.join(pool_dir, 'b.qcow2'))
            # By path: vol-info, vol-name, vol-pool, vol-key.
            self.assertEqual(harness.parse_keyvals(d.vsh('vol-info', path)[1])['Name'], 'b.qcow2')
            self.assertEqual(d.vsh('vol-name', path)[1].strip(), 'b.qcow2')
            self.assertEqual(d.vsh('vol-pool', path)[1].strip(), 'default')
            self.assertEqual(d.vsh('vol-key', path)[1].strip(), path)
            self.assertIn("<format type='qcow2'/>",
                          d.vsh('vol-dumpxml', 'b.qcow2', '--pool', 'default')[1])

            self.assertVshOut(d.vsh('vol-resize', 'a.raw', '16M', '--pool', 'default'),
                              "Size of volume 'a.raw' successfully changed to 16M")
            self.assertEqual(os.path.getsize(os.path.join(pool_dir, 'a.raw')), 16 << 20)
            d.vsh('vol-resize', 'a.raw', '1M', '--pool', 'default', '--delta')
            self.assertEqual(os.path.getsize(os.path.join(pool_dir, 'a.raw')), 17 << 20)
            _rc, _o, err = d.vsh_fail('vol-resize', 'a.raw', '1M', '--pool', 'default', rc=2)
            self.assertIn('shrink', err)
            self.assertEqual(os.path.getsize(os.path.join(pool_dir, 'a.raw')), 17 << 20)

            self.assertVshOut(d.vsh('vol-clone', 'b.qcow2', 'b2.qcow2', '--pool', 'default'),
                              'Vol b2.qcow2 cloned from b.qcow2')
            b2 = d.api_json('GET', '/v1/pools/default/volumes/b2.qcow2')['volume']
            self.assertEqual((b2['format'], b2['capacity']), ('qcow2', 1 << 30))

            # vol-create from XML.
            f = d.write_file('vol.xml', "<volume><name>x.qcow2</name>"
                             "<capacity unit='M'>4</capacity>"
                             "<target><format type='qcow2'/></target></volume>")
            self.assertVshOut(d.vsh('vol-create', 'default', f), 'Vol x.qcow2 created from %s' % f)

            self.assertVshOut(d.vsh('vol-delete', 'x.qcow2', '--pool', 'default'),
                              'Vol x.qcow2 deleted')
            self.assertFalse(os.path.exists(os.path.join(pool_dir, 'x.qcow2')))
            self.assertEqual(self.vols(d, 'default'), ['a.raw', 'b.qcow2', 'b2.qcow2', 'c.qcow2'])

    def test_partial_volume_after_kill(self):
        """A daemon killed while it makes a volume (its file claimed,
        still empty) removes the partial file at its next start: no torn
        volume is listed (issue 15's chaos test met one)."""
        with Daemon() as d:
            pool_dir = d.path('lib', 'images')
            part = os.path.join(pool_dir, 'vpart.raw')
            d.extra_env['VIRTD_TEST_CRASH_AT'] = 'volume-claimed'
            d.restart()
            rc, _out, _err = d.vsh('vol-create-as', 'default', 'vpart.raw', '8M', check=False)
            self.assertNotEqual(rc, 0)
            harness.wait_for(lambda: d.proc.poll() is not None, 30, what='the daemon killed itself')
            self.assertEqual(os.path.getsize(part), 0)  # the claimed, empty file
            records = os.listdir(d.path('lib', 'storage', 'partial'))
            self.assertEqual(len(records), 1, records)
            del d.extra_env['VIRTD_TEST_CRASH_AT']
            d.start()
            self.assertFalse(os.path.exists(part))
            self.assertEqual(os.listdir(d.path('lib', 'storage', 'partial')), [])
            self.assertNotIn('vpart.raw', d.vsh('vol-list', 'default')[1])
            self.assertIn("volume '%s' was being made when the daemon stopped" % part,
                          d.daemon_log_tail(200))
            # and a volume made whole leaves no record
            d.vsh('vol-create-as', 'default', 'vwhole.raw', '8M')
            self.assertEqual(os.path.getsize(os.path.join(pool_dir, 'vwhole.raw')), 8 << 20)
            self.assertEqual(os.listdir(d.path('lib', 'storage', 'partial')), [])

    def test_upload_download(self):
        with Daemon() as d:
            src = d.path('src.bin')
            with open(src, 'wb') as f:
                for i in range(48):
                    f.write(os.urandom(1 << 20))
            d.vsh('vol-create-as', 'default', 'up.raw', '0')
            before = rss_kib(d.pid)
            d.vsh('vol-upload', 'up.raw', src, '--pool', 'default', timeout=120)
            after = rss_kib(d.pid)
            out = d.path('out.bin')
            d.vsh('vol-download', 'up.raw', out, '--pool', 'default', timeout=120)
            self.assertEqual(md5(out), md5(src))
            self.assertEqual(os.path.getsize(d.path('lib', 'images', 'up.raw')), 48 << 20)
            # Streamed, not buffered: 48 MiB passed through, RSS grew far less.
            self.assertMemoryBound(after - before, 24 * 1024,
                            'daemon RSS grew by %d KiB' %
                            (after - before))
            # Offsets and lengths.
            part = d.path('part.bin')
            d.vsh('vol-download', 'up.raw', part, '--pool', 'default', '--offset', '1000',
                  '--length', '5000')
            with open(src, 'rb') as f:
                f.seek(1000)
                want = f.read(5000)
            with open(part, 'rb') as f:
                self.assertEqual(f.read(), want)
            # Upload larger than the API's 1 MiB body limit through curl-like raw PUT.
            r = d.api('PUT', '/v1/pools/default/volumes/nosuch/data', body=b'x' * (2 << 20))
            self.assertEqual(r.status, 404)
            self.assertEqual(r.error_code(), 'no-volume')

    def test_clone_progress(self):
        with Daemon() as d:
            # 512 MiB of random data: nothing for qemu-img to skip as zeros.
            # The copy took 0.7 s on a 2-CPU VM with the file in the page
            # cache, in which ~50 polls landed (one takes a few ms); a
            # slower host only widens the window.
            big = d.path('lib', 'images', 'big.raw')
            with open(big, 'wb') as f:
                for _ in range(512):
                    f.write(os.urandom(1 << 20))
            d.vsh('pool-refresh', 'default')
            answer = {}

            def clone():
                answer['r'] = d.api('POST', '/v1/pools/default/volumes/big.raw/clone',
                                    {'name': 'copy.raw'}, timeout=300)

            t = threading.Thread(target=clone)
            started = time.monotonic()
            t.start()
            seen, sources, ops = [], [], []
            while t.is_alive():
                jobs = d.api_json('GET', '/v1/jobs')['jobs']
                for j in jobs:
                    if j['kind'] == 'clone' and j['volume'] == 'copy.raw':
                        seen.append(j['progress'])
                        self.assertEqual((j['pool'], j['path']),
                                         ('default', d.path('lib', 'images', 'copy.raw')))
                        self.assertIn('started_at', j)
                    if j['kind'] == 'clone-source' and j['volume'] == 'big.raw':
                        sources.append(j['progress'])
                if seen and not ops:
                    # The new volume's summary says what runs on it.
                    r = d.api('GET', '/v1/pools/default/volumes/copy.raw')
                    if r.status == 200:
                        ops.append(r.json()['volume'].get('operation'))
                time.sleep(0.01)
            t.join()
            took = time.monotonic() - started
            self.assertEqual(answer['r'].status, 201, answer['r'].body[:500])
            self.assertTrue(seen, 'no clone job seen in %.2f s of copying' % took)
            self.assertTrue(sources, 'no clone-source job seen in %.2f s' % took)
            for p in seen + sources:
                self.assertTrue(0 <= p <= 100, seen)
            self.assertEqual(seen, sorted(seen), 'progress went backwards')
            self.assertTrue(ops and ops[0] is not None and ops[0]['kind'] == 'clone', ops)
            self.assertTrue(0 <= ops[0]['progress'] <= 100, ops)
            # Done: no job left, no operation in the summaries.
            self.assertEqual(d.api_json('GET', '/v1/jobs'), {'jobs': []})
            for v in d.api_json('GET', '/v1/pools/default/volumes')['volumes']:
                self.assertNotIn('operation', v)
            self.assertEqual(md5(d.path('lib', 'images', 'copy.raw')), md5(big))

            # vsh: a bar on a terminal's stderr, none otherwise.
            cmd = ' '.join(shlex.quote(a) for a in
                           [harness.VSH_BIN, '-c', d.uri, 'vol-clone', 'big.raw', 'tty.raw',
                            '--pool', 'default'])
            r = subprocess.run(['script', '-qec', cmd, '/dev/null'], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               universal_newlines=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertIn('Cloning [', r.stdout)
            self.assertIn('100%', r.stdout)
            self.assertIn('Vol tty.raw cloned from big.raw', r.stdout)
            _rc, out, err = d.vsh('vol-clone', 'big.raw', 'pipe.raw', '--pool', 'default',
                                  timeout=300)
            self.assertEqual(out.strip(), 'Vol pipe.raw cloned from big.raw')
            self.assertNotIn('Cloning', err)
            self.assertEqual(d.api_json('GET', '/v1/jobs'), {'jobs': []})

    def test_bad_input(self):
        with Daemon() as d:
            pool_dir = d.path('lib', 'images')
            d.vsh('vol-create-as', 'default', 'keep.raw', '1M')
            listing = os.listdir(pool_dir)

            _rc, _o, err = d.vsh_fail('vol-create-as', 'default', 'keep.raw', '2M', rc=5)
            self.assertIn("'keep.raw' already exists", err)
            self.assertEqual(os.path.getsize(os.path.join(pool_dir, 'keep.raw')), 1 << 20)
            for size in ('12X', 'lots', '1.5G'):
                _rc, _o, err = d.vsh_fail('vol-create-as', 'default', 'n.raw', size, rc=2)
                self.assertIn("'%s'" % size, err)
                self.assertIn('GiB', err)
            for name in ('../escape.raw', 'a/b.raw', '/tmp/outside.raw', '.hidden'):
                _rc, _o, err = d.vsh_fail('vol-create-as', 'default', name, '1M', rc=2)
                self.assertIn(name, err)
            self.assertFalse(os.path.exists(d.path('lib', 'escape.raw')))
            self.assertFalse(os.path.exists('/tmp/outside.raw'))
            _rc, _o, err = d.vsh_fail('vol-create-as', 'default', 'v.vmdk', '1M', '--format',
                                      'vmdk', rc=3)
            self.assertIn("'vmdk'", err)
            _rc, _o, err = d.vsh_fail('vol-create-as', 'default', 'c.qcow2', '1M', '--format',
                                      'qcow2', '--backing-vol', 'missing.qcow2', rc=11)
            self.assertIn('missing.qcow2', err)
            _rc, _o, err = d.vsh_fail('vol-info', 'nosuch.raw', '--pool', 'default', rc=11)
            self.assertIn("'nosuch.raw'", err)
            _rc, _o, err = d.vsh_fail('vol-info', '/etc/passwd', rc=11)
            self.assertEqual(sorted(os.listdir(pool_dir)), sorted(listing))

            # An inactive pool refuses volume work.
            d.vsh('pool-destroy', 'default')
            _rc, _o, err = d.vsh_fail('vol-list', 'default', rc=6)
            self.assertIn('not active', err)
            d.vsh('pool-start', 'default')

    def test_delete_volume_in_use(self):
        with Daemon() as d:
            d.vsh('vol-create-as', 'default', 'disk.qcow2', '64M', '--format', 'qcow2')
            path = d.vsh('vol-path', 'disk.qcow2', '--pool', 'default')[1].strip()
            d.define('vu', extra_devices=harness.disk_xml(path, fmt='qcow2'))
            d.start_domain('vu', wait_boot=False)
            _rc, _o, err = d.vsh_fail('vol-delete', 'disk.qcow2', '--pool', 'default', rc=6)
            self.assertIn("'vu'", err)
            self.assertTrue(os.path.exists(path))
            # The running guest's image can still be inspected (qemu-img -U).
            info = harness.parse_keyvals(d.vsh('vol-info', path)[1])
            self.assertEqual(info['Capacity'], '64.00 MiB')
            d.vsh('destroy', 'vu')
            self.assertVshOut(d.vsh('vol-delete', path), 'Vol disk.qcow2 deleted')
            self.assertFalse(os.path.exists(path))
            self.assertNoQemu(d)


if __name__ == '__main__':
    harness.main()
