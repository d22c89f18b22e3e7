#!/usr/bin/env python3
"""Paths a hostile client names (issue 8, items 4, 6 and 9).

- A FIFO (or socket, device, directory) where a disk or kernel is expected
  is refused by type at define and at start, and the daemon keeps answering
  GET /v1/version meanwhile (it used to open() the FIFO on its main loop).
- No domain, pool or volume path may reach the daemon's own state, run, log
  or cache directories, by name, through '..' or through a symlink, at
  define or (symlink swapped since) at start; pool targets '/', /etc,
  /proc ... are refused. Nothing changes and the victim domain stays intact.
- Volume data never goes through a symlink; an upload past a volume's end is
  refused; relative disk paths are refused; the kernel cache is private;
  temporary files of interrupted writes go at start; per-name files of two
  domains ("x" and "x.console") never meet.
"""

import grp
import hashlib
import json
import os
import shutil
import socket
import stat
import threading
import time
import uuid as uuidlib

import harness
from harness import Daemon, dom_path, domain_xml, xml_escape


def sha(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


class VersionPoller:
    """Asks GET /v1/version with a short timeout over and over in a thread:
    a daemon whose main loop blocks shows up as failures."""

    def __init__(self, d):
        self.d = d
        self.failures = []
        self.answers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                r = self.d.api('GET', '/v1/version', timeout=3)
                if r.status == 200:
                    self.answers += 1
                else:
                    self.failures.append('status %d' % r.status)
            except Exception as e:  # timeouts are what this looks for
                self.failures.append(repr(e))
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)


def os_xml(name, kernel=None, disks='', serial='pty', extra=''):
    return domain_xml(name, kernel=kernel, serial=serial, extra_devices=disks + extra)


def raw_disk(path, target='vda', with_driver=False, device='disk'):
    driver = "      <driver name='qemu' type='raw'/>\n" if with_driver else ''
    return ("    <disk type='file' device='%s'>\n%s"
            "      <source file='%s'/>\n"
            "      <target dev='%s' bus='%s'/>\n"
            "    </disk>" % (device, driver, xml_escape(path), target,
                              'sata' if device == 'cdrom' else 'virtio'))


def pool_xml(name, target):
    return ("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>" %
            (name, xml_escape(target)))


class HostilePaths(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = d = Daemon()
        d.__enter__()
        try:
            d.define('victim')
            d.start_domain('victim', wait_boot=False)
            cls.files = d.path('files')
            os.makedirs(cls.files, exist_ok=True)
        except BaseException:
            d.cleanup(failed=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)

    def f(self, *parts):
        return os.path.join(self.files, *parts)

    def setUp(self):
        self.before = self.snapshot()

    def tearDown(self):
        self.assertEqual(self.snapshot(), self.before, 'a refused request changed something')

    def snapshot(self):
        d = self.d
        qmp = d.path('run', 'qemu', 'victim.qmp')
        return (sorted(x['name'] for x in d.domains()),
                sorted(os.listdir(d.path('etc', 'domains'))),
                sha(d.path('etc', 'domains', 'victim.xml')),
                sorted(p['name'] for p in d.api_json('GET', '/v1/pools?all=1')['pools']),
                sorted(os.listdir(d.path('etc', 'storage'))),
                d.domstate('victim'),
                os.path.exists(qmp) and stat.S_ISSOCK(os.lstat(qmp).st_mode))

    def refused(self, method, path, body, *mentions, status=400, code='invalid-argument'):
        r = self.d.api(method, path, body, timeout=20)
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.error_code(), code, r.body)
        for m in mentions:
            self.assertIn(m, r.error_message())
        return r.error_message()

    def define_refused(self, xml, *mentions, code='invalid-argument'):
        return self.refused('POST', '/v1/domains', xml, *mentions, code=code)

    # ---- item 4: blocking files, by type, with the daemon answering

    def test_fifo_disk_and_kernel_at_define(self):
        fifo = self.f('fifo-define')
        os.mkfifo(fifo)
        with VersionPoller(self.d) as poll:
            # No <driver type>: define reads the image header to record the format.
            self.define_refused(os_xml('h-fifo', disks=raw_disk(fifo)),
                                "disk 'vda'", fifo, 'FIFO')
            self.define_refused(os_xml('h-fifo', disks=raw_disk(fifo, device='cdrom',
                                                                target='sda')),
                                "disk 'sda'", 'FIFO')
            self.define_refused(os_xml('h-fifo', kernel=fifo), '<kernel>', fifo, 'FIFO')
            sock = socket.socket(socket.AF_UNIX)
            sock.bind(self.f('a.sock'))
            self.define_refused(os_xml('h-fifo', disks=raw_disk(self.f('a.sock'))),
                                "disk 'vda'", 'socket')
            sock.close()
            self.define_refused(os_xml('h-fifo', disks=raw_disk('/dev/null')),
                                "disk 'vda'", 'character device')
            self.define_refused(os_xml('h-fifo', disks=raw_disk(self.files)),
                                "disk 'vda'", 'directory')
            time.sleep(0.5)
        self.assertEqual(poll.failures, [])
        self.assertGreater(poll.answers, 0)

    def test_fifo_at_start(self):
        d = self.d
        img = self.f('start.img')
        kernel = self.f('start-kernel')
        with open(img, 'wb') as fh:
            fh.truncate(1 << 20)
        shutil.copy(harness.guest_kernel(), kernel)
        d.define('h-start', os_xml('h-start', kernel=kernel,
                                   disks=raw_disk(img, with_driver=True)))
        self.before = self.snapshot()
        try:
            with VersionPoller(d) as poll:
                os.unlink(img)
                os.mkfifo(img)
                err = self.refused('POST', '/v1/domains/h-start/start', None,
                                   "disk 'vda'", img, 'FIFO')
                os.unlink(img)
                with open(img, 'wb') as fh:
                    fh.truncate(1 << 20)
                os.unlink(kernel)
                os.mkfifo(kernel)
                err = self.refused('POST', '/v1/domains/h-start/start', None,
                                   '<kernel>', kernel, 'FIFO')
                time.sleep(0.5)
            self.assertEqual(poll.failures, [], err)
            self.assertGreater(poll.answers, 0)
            self.assertEqual(d.domstate('h-start'), 'shut off')
        finally:
            d.vsh('undefine', 'h-start', check=False)
            self.before = self.snapshot()

    # ---- item 6: nothing reaches the daemon's own state

    def test_serial_unix_on_another_domains_qmp_socket(self):
        d = self.d
        qmp = d.path('run', 'qemu', 'victim.qmp')
        os.symlink(d.path('run', 'qemu'), self.f('link-run'))
        for path in (qmp,
                     self.f('..', 'run', 'qemu', 'victim.qmp'),       # '..'
                     self.f('link-run', 'victim.qmp'),                # symlinked directory
                     self.f('link-run', 'new.sock')):                 # a socket to be made
            for mode in ('bind', 'connect'):
                serial = ("<serial type='unix'><source mode='%s' path='%s'/>"
                          "<target port='0'/></serial>" % (mode, xml_escape(path)))
                self.define_refused(os_xml('h-qmp', serial=serial), 'serial 0', path,
                                    "the daemon's run-time state")
        # Also not as a channel or a console.
        chan = ("<channel type='unix'><source mode='bind' path='%s'/>"
                "<target type='virtio' name='x.y'/></channel>" % qmp)
        self.define_refused(os_xml('h-qmp', extra=chan), 'channel 0', qmp)

    def test_serial_file_on_a_definition(self):
        d = self.d
        victim = d.path('etc', 'domains', 'victim.xml')
        os.symlink(victim, self.f('victim-link'))
        os.symlink(d.path('etc', 'domains', 'new.xml'), self.f('dangling-link'))
        for path in (victim, self.f('victim-link'), self.f('dangling-link'),
                     self.f('..', 'etc', 'domains', 'victim.xml'),
                     d.path('log', 'victim.log'), d.path('cache', 'x'),
                     d.path('virtd.sock')):
            serial = ("<serial type='file'><source path='%s'/><target port='0'/></serial>" %
                      xml_escape(path))
            self.define_refused(os_xml('h-file', serial=serial), 'serial 0', path)
        self.assertFalse(os.path.exists(d.path('etc', 'domains', 'new.xml')))

    def test_serial_output_onto_a_pool_volume(self):
        d = self.d
        vol = d.path('lib', 'images', 'h-disk.raw')
        d.api_json('POST', '/v1/pools/default/volumes', {'name': 'h-disk.raw', 'capacity': 4096},
                   expect=201)
        try:
            self.before = self.snapshot()
            for kind in ('file', 'unix'):
                serial = ("<serial type='%s'><source mode='bind' path='%s'/>"
                          "<target port='0'/></serial>" % (kind, vol))
                self.define_refused(os_xml('h-ser', serial=serial), 'serial 0', vol,
                                    "storage pool 'default'")
            self.assertEqual(os.path.getsize(vol), 4096)
        finally:
            d.api('DELETE', '/v1/pools/default/volumes/h-disk.raw')
            self.before = self.snapshot()

    def test_disk_kernel_in_daemon_state(self):
        d = self.d
        victim = d.path('etc', 'domains', 'victim.xml')
        self.define_refused(os_xml('h-disk', disks=raw_disk(victim)), "disk 'vda'", victim,
                            "the daemon's configuration")
        self.define_refused(os_xml('h-disk', kernel=victim), '<kernel>', victim)
        self.define_refused(os_xml('h-disk', disks=raw_disk(d.path('lib', 'x.img'))),
                            "the daemon's state")
        self.define_refused(os_xml('h-disk', disks=raw_disk(self.f('x', '..', '..', 'etc',
                                                                   'domains', 'v.img'))),
                            "'..'")
        # The default pool's directory is meant for images.
        img = d.path('lib', 'images', 'ok.img')
        with open(img, 'wb') as fh:
            fh.truncate(1 << 20)
        try:
            d.define('h-pool-disk', os_xml('h-pool-disk', disks=raw_disk(img, with_driver=True)))
            d.vsh('undefine', 'h-pool-disk')
        finally:
            os.unlink(img)

    def test_relative_disk_path(self):
        self.define_refused(os_xml('h-rel', disks=raw_disk('foo.img')), "disk 'vda'",
                            "'foo.img' is relative", '/path/to/foo.img', code='xml-error')
        self.define_refused(os_xml('h-rel', kernel='vmlinuz'), '<kernel>', 'relative',
                            code='xml-error')

    def test_start_rechecks_a_swapped_symlink(self):
        d = self.d
        logdir = self.f('logdir')
        os.makedirs(logdir)
        serial = ("<serial type='file'><source path='%s'/><target port='0'/></serial>" %
                  os.path.join(logdir, 'serial.log'))
        d.define('h-swap', os_xml('h-swap', serial=serial))
        self.before = self.snapshot()
        try:
            os.rmdir(logdir)
            os.symlink(d.path('etc', 'domains'), logdir)
            self.refused('POST', '/v1/domains/h-swap/start', None, 'serial 0',
                         "the daemon's configuration")
            self.assertFalse(os.path.exists(d.path('etc', 'domains', 'serial.log')))
            self.assertEqual(d.domstate('h-swap'), 'shut off')
        finally:
            d.vsh('undefine', 'h-swap', check=False)
            self.before = self.snapshot()

    def test_pool_targets(self):
        d = self.d
        os.symlink(d.path('etc'), self.f('link-etc'))
        for target, why in ((d.path('etc', 'domains'), "the daemon's configuration"),
                            (d.path('etc'), "the daemon's configuration"),
                            (self.f('link-etc', 'domains'), "the daemon's configuration"),
                            (self.f('..', 'etc', 'domains'), "the daemon's configuration"),
                            (d.path('run'), "run-time state"),
                            (d.path('log', 'pool'), "logs"),
                            (d.path('lib'), "the daemon's state"),
                            ('/', 'root directory'), ('/etc', "'/etc'"),
                            ('/etc/virtd-pool', "'/etc'"), ('/proc/virtd-pool', "'/proc'"),
                            ('/usr/lib/x', "'/usr'"), ('/tmp', 'system directory')):
            self.refused('POST', '/v1/pools', pool_xml('h-pool', target), 'h-pool', why)
        self.assertFalse(os.path.exists('/proc/virtd-pool'))

    def test_pool_build_rechecks_a_swapped_symlink(self):
        d = self.d
        real = self.f('pooldir')
        os.makedirs(real)
        d.api_json('POST', '/v1/pools', pool_xml('h-swapped', real), expect=201)
        try:
            self.before = self.snapshot()
            os.rmdir(real)
            os.symlink(d.path('etc'), real)
            for action in ('build', 'start'):
                self.refused('POST', '/v1/pools/h-swapped/' + action, None,
                             "the daemon's configuration")
        finally:
            d.api('DELETE', '/v1/pools/h-swapped')
            self.before = self.snapshot()

    def test_volume_data_of_a_swapped_pool_directory(self):
        d = self.d
        real = self.f('pool2')
        os.makedirs(real)
        d.api_json('POST', '/v1/pools', pool_xml('h-pool2', real), expect=201)
        d.api_json('POST', '/v1/pools/h-pool2/start', None)
        try:
            self.before = self.snapshot()
            # While active, its directory becomes a symlink to the definitions.
            os.rmdir(real)
            os.symlink(d.path('etc', 'domains'), real)
            victim = d.path('etc', 'domains', 'victim.xml')
            self.refused('PUT', '/v1/pools/h-pool2/volumes/victim.xml/data', b'pwned',
                         "the daemon's configuration")
            r = d.api('GET', '/v1/pools/h-pool2/volumes/victim.xml/data')
            self.assertEqual(r.status, 400, r.body)
            self.assertNotIn(b'<domain', r.body)
            # Nor a listing, delete, resize, clone or create there.
            self.refused('GET', '/v1/pools/h-pool2/volumes', None, "the daemon's configuration")
            self.refused('DELETE', '/v1/pools/h-pool2/volumes/victim.xml', None,
                         "the daemon's configuration")
            self.refused('POST', '/v1/pools/h-pool2/volumes/victim.xml/resize',
                         {'capacity': 1 << 20}, "the daemon's configuration")
            self.refused('POST', '/v1/pools/h-pool2/volumes/victim.xml/clone',
                         {'name': 'copy.xml'}, "the daemon's configuration")
            self.refused('POST', '/v1/pools/h-pool2/volumes', {'name': 'new.xml', 'capacity': 0},
                         "the daemon's configuration")
            os.unlink(real)
            os.makedirs(real)
        finally:
            d.api('POST', '/v1/pools/h-pool2/destroy')
            d.api('DELETE', '/v1/pools/h-pool2')
            self.before = self.snapshot()

    def test_backing_file_in_daemon_state(self):
        d = self.d
        victim = d.path('etc', 'domains', 'victim.xml')
        self.refused('POST', '/v1/pools/default/volumes',
                     {'name': 'h-back.qcow2', 'capacity': 1 << 20, 'format': 'qcow2',
                      'backing_vol': victim, 'backing_format': 'raw'},
                     'backing volume', "the daemon's configuration")
        self.assertFalse(os.path.exists(d.path('lib', 'images', 'h-back.qcow2')))

    def test_volume_names_and_symlinks(self):
        d = self.d
        images = d.path('lib', 'images')
        outside = self.f('outside.txt')
        with open(outside, 'w') as fh:
            fh.write('secret\n')
        os.symlink(outside, os.path.join(images, 'link.raw'))
        try:
            for name in ('link.raw', '..%2F..%2Fetc%2Fdomains%2Fvictim.xml', '..', '.',
                         'a%00b'):
                r = d.api('PUT', '/v1/pools/default/volumes/%s/data' % name, b'pwned')
                self.assertIn(r.status, (400, 404, 405), (name, r.body))
                r = d.api('GET', '/v1/pools/default/volumes/%s/data' % name)
                self.assertIn(r.status, (400, 404, 405), (name, r.body))
                self.assertNotIn(b'secret', r.body)
            for name in ('../x.raw', '/x.raw', '.x.raw', '..'):
                r = d.api('POST', '/v1/pools/default/volumes', {'name': name, 'capacity': 1024})
                self.assertEqual(r.status, 400, (name, r.body))
            with open(outside) as fh:
                self.assertEqual(fh.read(), 'secret\n')
            self.assertEqual(sorted(os.listdir(images)), ['link.raw'])
        finally:
            os.unlink(os.path.join(images, 'link.raw'))

    # ---- item 9

    def test_upload_past_the_end(self):
        d = self.d
        d.api_json('POST', '/v1/pools/default/volumes', {'name': 'h-small.raw', 'capacity': 4096},
                   expect=201)
        path = d.path('lib', 'images', 'h-small.raw')
        try:
            self.refused('PUT', '/v1/pools/default/volumes/h-small.raw/data?offset=%d' % (1 << 40),
                         b'x', 'past the end', '4096')
            self.assertEqual(os.path.getsize(path), 4096)
            # Not through a second name (a hard link) of the file.
            os.link(path, self.f('hardlink'))
            self.refused('PUT', '/v1/pools/default/volumes/h-small.raw/data', b'x',
                         'hard links')
            os.unlink(self.f('hardlink'))
            # At the end it may grow, as uploads into an empty volume do.
            r = d.api('PUT', '/v1/pools/default/volumes/h-small.raw/data?offset=4096', b'y' * 10)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(os.path.getsize(path), 4106)
        finally:
            d.api('DELETE', '/v1/pools/default/volumes/h-small.raw')

    def test_run_files_of_channels_never_meet(self):
        d = self.d
        # A unix channel without a path once got NAME.TARGET: a target named
        # 'qmp' was the domain's own QMP socket.
        chan = ("<channel type='unix'><target type='virtio' name='qmp'/></channel>"
                "<channel type='unix'><target type='virtio' name='xml'/></channel>")
        d.define('h-chan', os_xml('h-chan', extra=chan))
        self.before = self.snapshot()
        try:
            d.start_domain('h-chan', wait_boot=False)
            self.assertEqual(d.domstate('h-chan'), 'running')
            run = d.path('run', 'domains')
            sockets = d.path('run', 'qemu')   # what QEMU makes (docs/security.md)
            self.assertTrue(stat.S_ISSOCK(os.lstat(os.path.join(sockets, 'h-chan.channel0')).st_mode))
            self.assertTrue(stat.S_ISREG(os.lstat(os.path.join(run, 'h-chan.xml')).st_mode))
            d.vsh('destroy', 'h-chan')
        finally:
            d.vsh('destroy', 'h-chan', check=False)
            d.vsh('undefine', 'h-chan', check=False)
            self.before = self.snapshot()


    def test_name_like_another_domains_uuid(self):
        d = self.d
        # A name too long for a socket path: its run-time sockets are UUID.qmp ...
        long_name = 'l' * 150
        uuid = str(uuidlib.uuid4())
        d.define(long_name, domain_xml(long_name, uuid=uuid))
        # A domain named like that UUID; addressed by its own UUID, since an
        # argument that reads as a UUID is looked up as one first (virsh's
        # order), which finds the long-named domain.
        own_uuid = str(uuidlib.uuid4())
        d.api_json('POST', '/v1/domains', domain_xml(uuid, uuid=own_uuid), expect=201)
        try:
            d.start_domain(long_name, wait_boot=False)
            qmp = d.path('run', 'qemu', uuid + '.qmp')
            self.assertTrue(stat.S_ISSOCK(os.lstat(qmp).st_mode))
            ino = os.lstat(qmp).st_ino
            self.before = self.snapshot()
            # ... which a domain named like that UUID must not take over.
            self.refused('POST', dom_path(own_uuid, '/start'), None, long_name, uuid + '.qmp',
                         status=409, code='invalid-state')
            self.assertEqual(os.lstat(qmp).st_ino, ino)
            self.assertEqual(d.domstate(long_name), 'running')
        finally:
            d.vsh('destroy', long_name, check=False)
            d.vsh('undefine', long_name, check=False)
            d.vsh('undefine', own_uuid, check=False)
            self.before = self.snapshot()


class DaemonFiles(harness.VirtdTestCase):
    """Files of the daemon itself: temporary files, the kernel cache, logs."""

    def test_stale_temp_files_removed_at_start(self):
        with Daemon() as d:
            d.define('t1')
            d.api_json('POST', '/v1/pools/default/volumes', {'name': 'v.raw', 'capacity': 1024},
                       expect=201)
            stale = [d.path('etc', 'domains', '.t1.xml.AbC123'),
                     d.path('run', 'domains', '.t1.xml.Zz9911'),
                     d.path('etc', 'storage', '.default.xml.q1w2e3'),
                     d.path('run', 'storage', '.default.xml.XYZ789')]
            keep = d.path('lib', 'images', '.keep.q1w2e3')  # a pool's files are not ours
            for p in stale + [keep]:
                with open(p, 'w') as fh:
                    fh.write('<half')
            d.restart()
            for p in stale:
                self.assertFalse(os.path.exists(p), p)
            self.assertTrue(os.path.exists(keep))
            self.assertEqual([x['name'] for x in d.domains()], ['t1'])

    def test_kernel_cache_is_private(self):
        with Daemon() as d:
            kernel = d.path('files', 'vmlinuz')
            os.makedirs(os.path.dirname(kernel))
            shutil.copy(os.path.join(harness.GUEST_DIR, 'vmlinuz'), kernel)
            os.chmod(kernel, 0o600)
            d.define('k1', domain_xml('k1', kernel=kernel))
            d.start_domain('k1', wait_boot=False)
            cache = d.path('cache', 'kernels')
            # Root's, and QEMU's (it runs as virtd-qemu: docs/security.md):
            # others may search cache/ but list or read nothing.
            qemu_gid = grp.getgrnam('virtd-qemu').gr_gid
            self.assertEqual(stat.S_IMODE(os.stat(d.path('cache')).st_mode) & 0o066, 0)
            self.assertEqual(stat.S_IMODE(os.stat(cache).st_mode), 0o750)
            self.assertEqual(os.stat(cache).st_gid, qemu_gid)
            files = os.listdir(cache)
            self.assertTrue(any(x.endswith('.vmlinux') for x in files), files)
            for x in files:
                st = os.stat(os.path.join(cache, x))
                mode = stat.S_IMODE(st.st_mode)
                self.assertEqual(mode & 0o007, 0, '%s is mode %o' % (x, mode))
                if x.endswith('.vmlinux'):
                    self.assertEqual((mode, st.st_gid), (0o640, qemu_gid), x)

    def test_console_logs_of_x_and_x_console(self):
        with Daemon() as d:
            d.define('x')
            d.define('x.console')
            d.start_domain('x')
            d.start_domain('x.console')
            # Each console log has its own guest's boot, and no QEMU log header.
            self.assertEqual(len(d.boots('x')), 1)
            self.assertEqual(len(d.boots('x.console')), 1)
            self.assertNotIn('starting up', d.console_text('x'))
            with open(d.qemu_log_path('x.console')) as fh:
                self.assertIn(': starting up', fh.readline())

    def test_console_logs_move_to_their_directory(self):
        d = Daemon()
        try:
            os.makedirs(d.path('log'))
            with open(d.path('log', 'old.console.log'), 'w') as fh:
                fh.write('SeaBIOS (version 1.16)\nguest output\n')
            qemu_log = '2026-01-31 12:00:00 UTC: starting up\n  /usr/bin/qemu\n'
            with open(d.path('log', 'y.console.log'), 'w') as fh:
                fh.write(qemu_log)   # the QEMU log of a domain named 'y.console'
            d.start()
            with open(d.path('log', 'console', 'old.log')) as fh:
                self.assertIn('guest output', fh.read())
            self.assertFalse(os.path.exists(d.path('log', 'old.console.log')))
            with open(d.path('log', 'y.console.log')) as fh:
                self.assertEqual(fh.read(), qemu_log)
            self.assertFalse(os.path.exists(d.path('log', 'console', 'y.log')))
        finally:
            d.cleanup()


if __name__ == '__main__':
    harness.main()
