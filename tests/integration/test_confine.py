#!/usr/bin/env python3
"""Issue 15, confinement (docs/security.md): a guest's QEMU runs as the
unprivileged virtd-qemu, with no capabilities, no new privileges and QEMU's
seccomp sandbox; it uses a root-only disk image the definition names, and
cannot open another root-only file by path nor execute anything."""

import grp
import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile

import harness
from harness import Daemon

CRASHED = ('shut off (crashed)', 'crashed (crashed)', 'crashed (unknown)', 'crashed')


def proc_status(pid):
    out = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            out[k] = v.strip()
    return out


def qemu_fd_targets(pid):
    """What the descriptors of process @pid point to."""
    out = []
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            out.append(os.readlink('/proc/%d/fd/%s' % (pid, fd)))
        except OSError:
            pass
    return out


def write_private(path, mib, text=b''):
    """A raw image of @mib MiB owned by root, mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, text)
        os.ftruncate(fd, mib << 20)
    finally:
        os.close(fd)
    return path


class Confine(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.qemu_reachable(tempfile.mkdtemp(prefix='vconf-', dir='/tmp'))
        cls.disk = write_private(os.path.join(cls.tmp, 'private.raw'), 8, b'CONFINED')
        cls.secret = write_private(os.path.join(cls.tmp, 'secret.raw'), 1, b'SECRET')
        cls.d = Daemon()  # QEMU as virtd-qemu: the default for a root daemon
        cls.d.__enter__()
        xml = harness.domain_xml('cf1', extra_devices=harness.disk_xml(cls.disk, 'vdb'))
        cls.d.define('cf1', xml)
        cls.d.start_domain('cf1')

    @classmethod
    def tearDownClass(cls):
        cls.d.vsh('destroy', 'cf1', check=False)
        cls.d.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def qmp(self, name, command, **args):
        rc, out, err = self.d.vsh('qemu-monitor-command', name,
                                  json.dumps({'execute': command, 'arguments': args}),
                                  check=False, timeout=60)
        return rc, out + err

    def test_a_credentials(self):
        pid = self.d.qemu_pid('cf1')
        self.assertIsNotNone(pid)
        st = proc_status(pid)
        user = pwd.getpwnam('virtd-qemu')
        self.assertEqual(st['Uid'].split(), [str(user.pw_uid)] * 4, st['Uid'])
        self.assertEqual(st['Gid'].split(), [str(user.pw_gid)] * 4, st['Gid'])
        self.assertNotEqual(user.pw_uid, 0)
        groups = set(int(g) for g in st['Groups'].split())
        self.assertNotIn(0, groups)
        allowed = {user.pw_gid}
        try:
            allowed.add(grp.getgrnam('kvm').gr_gid)
        except KeyError:
            pass
        self.assertLessEqual(groups, allowed, st['Groups'])
        for cap in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'):
            self.assertEqual(int(st[cap], 16), 0, '%s %s' % (cap, st[cap]))
        self.assertEqual(st['NoNewPrivs'], '1')
        self.assertEqual(st['Seccomp'], '2')       # a seccomp filter
        argv = harness.read_cmdline(pid)
        i = argv.index('-sandbox')
        self.assertEqual(argv[i + 1].split(','), ['on', 'obsolete=deny', 'elevateprivileges=deny',
                                                  'spawn=deny', 'resourcecontrol=deny'])
        # QEMU makes nothing on the host: the sockets it listens on and the
        # console log are descriptors the daemon opened (qemu-run-fds.h), in
        # directories that are root's alone.
        for sub in (('run', 'qemu'), ('log', 'console')):
            st = os.stat(self.d.path(*sub))
            self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (0, 0, 0o700),
                             '/'.join(sub))
        self.assertNotIn('-pidfile', argv)
        self.assertIn('socket,id=charmonitor,fd=', ' '.join(argv))
        held = qemu_fd_targets(pid)
        self.assertIn(self.d.path('log', 'console', 'cf1.log'), held)
        log = os.stat(self.d.path('log', 'console', 'cf1.log'))
        self.assertEqual((log.st_uid, stat.S_IMODE(log.st_mode)), (0, 0o600))
        with open(self.d.path('run', 'qemu', 'cf1.pid')) as f:   # written by the daemon
            self.assertEqual(int(f.read()), pid)
        self.assertEqual(stat.S_IMODE(os.stat(self.d.path('run', 'domains')).st_mode) & 0o077,
                         0o011)   # search only: its status files stay the daemon's

    def test_b_private_disk_is_used(self):
        # The guest sees the 0600 root image: its only disk (Linux names it
        # vda), 8 MiB = 16384 sectors, in the init's STATUS line.
        harness.wait_for(lambda: re.search(r'VIRTD-GUEST-STATUS .* sizes=vda:16384\b',
                                           self.d.console_text('cf1')),
                         60 * harness.TIMEOUT_SCALE, what='the 8 MiB disk in the guest')
        # ... because QEMU holds a descriptor the daemon opened (an fd set,
        # disk-chains.h): the image stays root's 0600, is in no record of
        # files handed to QEMU's user, and QEMU's argv names it only as
        # the set's opaque text.
        st = os.stat(self.disk)
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (0, 0, 0o600))
        pid = self.d.qemu_pid('cf1')
        self.assertIn(self.disk, qemu_fd_targets(pid))
        record = self.d.path('run', 'domains', 'cf1.owners')
        if os.path.exists(record):
            with open(record) as f:
                self.assertNotIn(self.disk, f.read())
        argv = harness.read_cmdline(pid)
        self.assertEqual([a for a in argv if self.disk in a],
                         ['fd=%s,set=%s,opaque=%s' % (n, s, self.disk) for n, s in
                          re.findall(r'fd=(\d+),set=(\d+),opaque=' + re.escape(self.disk),
                                     ' '.join(argv))])
        # domblklist reads QEMU's "/dev/fdset/N" back as the path.
        self.assertIn(self.disk, self.d.vsh('domblklist', 'cf1')[1])

    def test_c_no_other_root_file(self):
        rc, out = self.qmp('cf1', 'blockdev-add', driver='file', **{'node-name': 'stolen'},
                           filename=self.secret)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('Permission denied', out)
        self.assertEqual(os.stat(self.secret).st_uid, 0)
        # /etc/shadow neither (it is readable by root alone).
        rc, out = self.qmp('cf1', 'blockdev-add', driver='file', **{'node-name': 'shadow'},
                           filename='/etc/shadow')
        self.assertNotEqual(rc, 0, out)
        self.assertIn('Permission denied', out)

    def test_c2_no_system_backing_file(self):
        """A qcow2 header naming a file of the system's as its backing file
        (an image from anywhere may say so): the start is refused, and the
        file is not handed to QEMU's user."""
        target = '/etc/virtd-test-backing-%d.raw' % os.getpid()
        write_private(target, 1, b'SYSTEM')
        overlay = os.path.join(self.tmp, 'overlay.qcow2')
        try:
            subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-u', '-b', target,
                            '-F', 'raw', overlay, '1M'], check=True)
            self.d.define('cf3', harness.domain_xml(
                'cf3', memory_mib=64,
                extra_devices=harness.disk_xml(overlay, 'vdb', fmt='qcow2')))
            rc, _out, err = self.d.vsh('start', 'cf3', check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn("backing file named in the header of '%s': '%s' is inside '/etc', "
                          "the system's own files" % (overlay, target), err)
            self.assertIn('qemu-img rebase', err)
            self.assertEqual(os.stat(target).st_uid, 0)
            self.assertEqual(self.d.domstate('cf3'), 'shut off')
            # the overlay itself was given back as well
            self.assertEqual(os.stat(overlay).st_uid, 0)
        finally:
            self.d.vsh('undefine', 'cf3', check=False)
            for f in (target, overlay):
                if os.path.exists(f):
                    os.unlink(f)

    def test_d_spawn_is_refused(self):
        """migrate to exec: forks a shell: the sandbox (spawn=deny) kills
        QEMU with SIGSYS instead. A second guest, so that the first stays."""
        d = self.d
        d.define('cf2')
        d.start_domain('cf2', wait_boot=False)
        pid = d.qemu_pid('cf2')
        marker = os.path.join(self.tmp, 'spawned')
        self.qmp('cf2', 'migrate', uri='exec:touch %s' % marker)
        harness.wait_for(lambda: d.domstate('cf2', reason=True) in CRASHED, 60,
                         what=lambda: 'cf2 crashed (now %r)' % d.domstate('cf2', reason=True))
        self.assertFalse(harness.pid_alive(pid))
        self.assertFalse(os.path.exists(marker), 'QEMU executed a command')
        d.vsh('undefine', 'cf2', check=False)

    def test_e_files_given_back_at_stop(self):
        d = self.d
        d.vsh('destroy', 'cf1')
        st = os.stat(self.disk)
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (0, 0, 0o600))
        self.assertFalse(os.path.exists(d.path('run', 'domains', 'cf1.owners')))

    def test_f_disk_in_unsearchable_directory(self):
        """A qcow2 chain (raw base <- mid <- top), root's 0600, in a
        directory QEMU's user may not search: QEMU gets every image as a
        descriptor, the guest sees the disk, nothing changes owner; a
        block commit of mid into base writes the base's real path into
        top's header (not "/dev/fdset/N"). Disks hot-plugged from there
        (a raw image, a qcow2 one with its backing file) are descriptors
        too; detached, QEMU closes them."""
        d = self.d
        hidden = os.path.join(self.tmp, 'hidden')
        os.mkdir(hidden, 0o700)
        base = write_private(os.path.join(hidden, 'base.raw'), 4)
        mid = os.path.join(hidden, 'mid.qcow2')
        top = os.path.join(hidden, 'top.qcow2')
        for img, below, fmt in ((mid, base, 'raw'), (top, mid, 'qcow2')):
            subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', below, '-F', fmt,
                            img], check=True)
            os.chmod(img, 0o600)
        images = (base, mid, top)
        d.define('cf2', harness.domain_xml(
            'cf2', extra_devices=harness.disk_xml(top, 'vdb', fmt='qcow2')))
        self.addCleanup(d.vsh, 'undefine', 'cf2', check=False)
        self.addCleanup(d.vsh, 'destroy', 'cf2', check=False)
        d.start_domain('cf2', wait_boot=False)
        pid = d.qemu_pid('cf2')
        held = qemu_fd_targets(pid)
        for img in images:
            self.assertIn(img, held)
        # the 4 MiB of the base through the chain (its only disk: vda to Linux)
        harness.wait_for(lambda: re.search(r'VIRTD-GUEST-STATUS .* sizes=vda:8192\b',
                                           d.console_text('cf2')),
                         90 * harness.TIMEOUT_SCALE, what='the chain in the guest')
        for img in images:
            st = os.stat(img)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o600), img)
        self.assertIn(top, d.vsh('domblklist', 'cf2')[1])
        d.vsh('blockcommit', 'cf2', 'vdb', '--top', mid, '--base', base, '--wait', timeout=120)
        info = json.loads(subprocess.run(['qemu-img', 'info', '-U', '--output=json', top],
                                         check=True, stdout=subprocess.PIPE).stdout)
        self.assertEqual(info['backing-filename'], base)
        xml = d.vsh('dumpxml', 'cf2')[1]
        self.assertRegex(xml, r"<source file='%s'/>\s*<backingStore type='file'>\s*"
                              r"<format type='raw'/>\s*<source file='%s'/>" % (
                                  re.escape(top), re.escape(base)))
        self.assertNotIn('/dev/fdset', xml)
        # mid left the chain: its nodes and its fd set are gone, QEMU closed it
        harness.wait_for(lambda: mid not in qemu_fd_targets(pid), 10, what='QEMU closing mid')
        self.assertIn(base, qemu_fd_targets(pid))
        # hot-plug: descriptors too, a qcow2 image's backing file as well
        disk = write_private(os.path.join(hidden, 'd.raw'), 1)
        d.vsh('attach-disk', 'cf2', disk, 'vdc', '--live', timeout=60)
        self.assertIn(disk, qemu_fd_targets(pid))
        self.assertIn(disk, d.vsh('domblklist', 'cf2')[1])
        base2 = write_private(os.path.join(hidden, 'base2.raw'), 2)
        ov = os.path.join(hidden, 'ov.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base2, '-F', 'raw', ov],
                       check=True)
        os.chmod(ov, 0o600)
        d.vsh('attach-disk', 'cf2', ov, 'vdd', '--subdriver', 'qcow2', '--live', timeout=60)
        held = qemu_fd_targets(pid)
        self.assertIn(ov, held)
        self.assertIn(base2, held)
        # the guest sees it: 2 MiB through the chain (4096 sectors), its 3rd disk
        harness.wait_for(lambda: re.search(r'VIRTD-GUEST-STATUS .* sizes=\S*vdc:4096\b',
                                           d.console_text('cf2')),
                         60 * harness.TIMEOUT_SCALE, what='the hot-plugged chain in the guest')
        for f in (disk, ov, base2):
            st = os.stat(f)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o600), f)
        for t in ('vdc', 'vdd'):
            d.vsh('detach-disk', 'cf2', t, '--live', timeout=60)
        harness.wait_for(lambda: not {disk, ov, base2} & set(qemu_fd_targets(pid)), 20,
                         what='QEMU closing the detached images')
        # detached: every node of the chain and its descriptors go
        d.vsh('detach-disk', 'cf2', 'vdb', '--live', timeout=60)
        harness.wait_for(lambda: not {top, base} & set(qemu_fd_targets(pid)), 20,
                         what='QEMU closing the detached chain')
        d.vsh('destroy', 'cf2')
        for img in images + (disk, ov, base2):
            self.assertEqual(os.stat(img).st_uid, 0, img)

    def test_f2_read_only_files(self):
        """Root opens any file read-write: a writable disk whose image lacks
        its owner's write bit (0400) is refused, naming the fix; a 0444
        backing file is fine (read-only descriptor only)."""
        d = self.d
        ro = write_private(os.path.join(self.tmp, 'ro.raw'), 1)
        os.chmod(ro, 0o400)
        d.define('cf5', harness.domain_xml('cf5', extra_devices=harness.disk_xml(ro, 'vdb')))
        self.addCleanup(d.vsh, 'undefine', 'cf5', check=False)
        rc, out, err = d.vsh('start', 'cf5', check=False, timeout=60)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("the disk image '%s' is not writable (mode 0400)" % ro, err)
        self.assertIn('<readonly/>', err)
        self.assertIsNone(d.qemu_pid('cf5'))
        base = write_private(os.path.join(self.tmp, 'ro-base.raw'), 1)
        os.chmod(base, 0o444)
        top = os.path.join(self.tmp, 'ro-top.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base, '-F', 'raw', top],
                       check=True)
        d.define('cf6', harness.domain_xml(
            'cf6', extra_devices=harness.disk_xml(top, 'vdb', fmt='qcow2')))
        self.addCleanup(d.vsh, 'undefine', 'cf6', check=False)
        d.start_domain('cf6', wait_boot=False)
        self.assertIn(base, qemu_fd_targets(d.qemu_pid('cf6')))
        d.vsh('destroy', 'cf6')

    def test_g_chardevs_are_descriptors(self):
        """A <serial type='file'> and a listening <channel type='unix'> in a
        directory QEMU's user may not even search: the daemon opens both and
        QEMU gets descriptors, so the guest starts, and both stay root's."""
        d = self.d
        hidden = os.path.join(self.tmp, 'chr-hidden')
        os.mkdir(hidden, 0o700)
        out_file = os.path.join(hidden, 'serial1.log')
        with open(out_file, 'w') as f:
            f.write('OLD CONTENT\n')       # emptied: no append='on'
        sock = os.path.join(hidden, 'app.sock')
        serial = "<serial type='file'><source path='%s'/><target port='0'/></serial>" % out_file
        devices = ("<channel type='unix'><source mode='bind' path='%s'/>"
                   "<target type='virtio' name='com.example.app'/></channel>" % sock)
        d.define('cf4', harness.domain_xml('cf4', serial=serial,
                                           extra_devices=devices))
        self.addCleanup(d.vsh, 'undefine', 'cf4', check=False)
        self.addCleanup(d.vsh, 'destroy', 'cf4', check=False)
        d.start_domain('cf4', wait_boot=False)
        pid = d.qemu_pid('cf4')
        held = qemu_fd_targets(pid)
        self.assertIn(out_file, held)

        def printed():
            with open(out_file, 'rb') as f:
                text = f.read()
            return b'VIRTD-GUEST' in text and b'OLD CONTENT' not in text
        # The guest's console (ttyS0) writes into the root-only file.
        try:
            harness.wait_for(printed, 90 * harness.TIMEOUT_SCALE, what='the guest in the file')
        except TimeoutError:
            with open(out_file, 'rb') as f:
                text = f.read()
            with open(d.path('log', 'cf4.log'), 'rb') as f:
                qlog = f.read()
            self.fail('file: %r\nQEMU log: %r' % (text[-300:], qlog[-1500:]))
        for path in (out_file, sock):
            st = os.stat(path)
            self.assertEqual(st.st_uid, 0, path)
        self.assertTrue(stat.S_ISSOCK(os.stat(sock).st_mode))
        # An existing file keeps its mode (the test made it 0644).
        self.assertEqual(stat.S_IMODE(os.stat(out_file).st_mode), 0o644)
        # QEMU listens on the socket the daemon made: a client connects.
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(10)
        c.connect(sock)
        c.close()
        argv = ' '.join(harness.read_cmdline(pid))
        self.assertNotIn(hidden, argv.replace('opaque=' + out_file, ''))
        d.vsh('destroy', 'cf4')
        self.assertEqual(os.stat(out_file).st_uid, 0)


if __name__ == '__main__':
    harness.main()
