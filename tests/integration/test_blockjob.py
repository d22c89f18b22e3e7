#!/usr/bin/env python3
"""External disk-only snapshots and block jobs (issue 12): an external
snapshot of a running guest (its writes land in the overlay, the base stays
as it was), blockcommit --active --pivot --verbose merges them back (the
base holds the guest's marker, the definition names the base again, the
guest reads its marker), blockpull leaves a disk with no backing file that
the guest still reads, blockjob --info/--raw while a bandwidth-limited job
runs and --abort leaving the chain as it was; a shut-off domain's external
snapshot; and the refusals, each followed by a check that nothing changed
(dumpxml live and inactive, the files, the guest).

Names carry the prefix vb: the domains vb-g and vb-off, the images in a
temporary directory /tmp/vb-*, removed at the end."""

import os
import json
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

import harness
from harness import Daemon

MIB = 1024 * 1024


def write_raw(path, mib, text=None, fill=None):
    with open(path, 'wb') as f:
        if fill is not None:
            chunk = bytes([fill]) * MIB
            for _ in range(mib):
                f.write(chunk)
        else:
            f.truncate(mib * MIB)
        if text:
            f.seek(0)
            f.write((text + '\n').encode().ljust(512, b'\0'))
    return path


def overlay(path, base, base_fmt='raw'):
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', base_fmt, '-b', base, path],
                   check=True)
    return path


def first_sector(path, fmt):
    """The text at the start of the image's first sector, read with
    force-share (QEMU holds the image)."""
    r = subprocess.run(['qemu-io', '-U', '-r', '-f', fmt, '-c', 'read -v 0 512', path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       check=True)
    text = ''
    for line in r.stdout.splitlines():
        m = re.match(r'^[0-9a-f]+:\s+(?:[0-9a-f]{2}\s+){16}\s*(.{16})$', line)
        if m:
            text += m.group(1)
    return text.split('.')[0]


def backing_of(path):
    r = subprocess.run(['qemu-img', 'info', '-U', path], stdout=subprocess.PIPE,
                       universal_newlines=True, check=True)
    m = re.search(r'^backing file: (\S+)', r.stdout, re.M)
    return m.group(1) if m else None


def open_files(pid):
    out = set()
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            out.add(os.readlink('/proc/%d/fd/%s' % (pid, fd)))
        except OSError:
            pass
    return out


def qmp_by_hand(path, command, arguments, until_event, timeout=30):
    """One QMP command on a QEMU whose daemon is down, then waits for
    `until_event`."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    f = s.makefile('rwb')

    def send(obj):
        f.write(json.dumps(obj).encode() + b'\n')
        f.flush()

    def read():
        line = f.readline()
        if not line:
            raise EOFError('QMP closed')
        return json.loads(line)
    read()                                   # greeting
    send({'execute': 'qmp_capabilities'})
    while 'return' not in read():
        pass
    send({'execute': command, 'arguments': arguments})
    seen_return = seen_event = False
    while not (seen_return and seen_event):
        msg = read()
        if 'error' in msg:
            raise AssertionError('QMP %s: %r' % (command, msg))
        seen_return |= 'return' in msg
        seen_event |= msg.get('event') == until_event
    s.close()


def disk_of(xml, target):
    for m in re.finditer(r'<disk\b.*?</disk>', xml, re.S):
        if "dev='%s'" % target in m.group(0):
            return m.group(0)
    return None


def source_of(xml, target):
    m = re.search(r"<source file='([^']*)'", disk_of(xml, target))
    return m.group(1)


class BlockJobs(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.qemu_reachable(tempfile.mkdtemp(prefix='vb-', dir='/tmp'))
        t = cls.tmp
        cls.base = write_raw(os.path.join(t, 'vb-base.raw'), 16, text='BASEMARK')
        cls.pbase = write_raw(os.path.join(t, 'vb-pbase.raw'), 16, text='PULLMARK')
        cls.ptop = overlay(os.path.join(t, 'vb-ptop.qcow2'), cls.pbase)
        # Data everywhere: a pull at 1 MiB/s takes half a minute.
        cls.abase = write_raw(os.path.join(t, 'vb-abase.raw'), 32, fill=0x5a)
        cls.atop = overlay(os.path.join(t, 'vb-atop.qcow2'), cls.abase)
        cls.d = Daemon()
        cls.d.__enter__()
        try:
            disks = '\n'.join([harness.disk_xml(cls.base, 'vda'),
                               harness.disk_xml(cls.ptop, 'vdb', fmt='qcow2'),
                               harness.disk_xml(cls.atop, 'vdc', fmt='qcow2')])
            cls.d.define('vb-g', harness.domain_xml('vb-g', memory_mib=192,
                                                    extra_devices=disks))
            cls.d.start_domain('vb-g')
            cls.con = cls.d.console('vb-g')
            cls.con.read_until('Escape character', timeout=20)
        except BaseException:
            cls.d.cleanup(failed=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.con.detach()
        except Exception:
            pass
        cls.d.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers

    def img(self, name):
        return os.path.join(self.tmp, name)

    def dumpxml(self, *extra, name='vb-g'):
        return self.d.vsh('dumpxml', name, *extra)[1]

    def state(self):
        """What a refusal must leave as it was."""
        return (self.dumpxml(), self.dumpxml('--inactive'), self.d.domstate('vb-g'),
                sorted(os.listdir(self.tmp)), self.d.vsh('snapshot-list', 'vb-g', '--name')[1])

    def mark(self, dev, text):
        self.con.type_until('mark-disk %s %s && echo MARKED-$((40+2))' % (dev, text),
                            'MARKED-42')

    def read_mark(self, dev):
        start = self.con.type_until('read-mark %s' % dev, 'VIRTD-GUEST-MARK dev=%s ' % dev)
        end = self.con.read_until('\n', start=start)
        line = self.con.text[start:end].strip()
        m = re.match(r'text=(\S*)', line)
        self.assertIsNotNone(m, line)
        return m.group(1)

    def refuse(self, args, expect):
        before = self.state()
        rc, out, err = self.d.vsh_fail(*args)
        self.assertIn(expect, err)
        self.assertEqual(self.state(), before, 'a refusal changed something: %r' % (args,))
        return err

    # ---- tests, in order (one guest for all)

    def test_1_external_snapshot_then_active_commit(self):
        d = self.d
        ov = self.img('vb-ov1.qcow2')
        rc, out, err = d.vsh('snapshot-create-as', 'vb-g', 'vb-s1', '--disk-only', '--atomic',
                             '--diskspec', 'vda,snapshot=external,file=%s' % ov,
                             '--diskspec', 'vdb,snapshot=no', '--diskspec', 'vdc,snapshot=no')
        self.assertIn('Domain snapshot vb-s1 created', out)
        self.assertEqual(backing_of(ov), self.base)
        for extra in ((), ('--inactive',)):
            disk = disk_of(self.dumpxml(*extra), 'vda')
            self.assertIn("<source file='%s'" % ov, disk)
            self.assertRegex(disk, r"<backingStore type='file'>\s*<format type='raw'/>\s*"
                                   r"<source file='%s'/>" % re.escape(self.base))
        # The guest writes: the overlay has it, the base does not.
        self.mark('vda', 'SNAPMARK1')
        self.assertEqual(self.read_mark('vda'), 'SNAPMARK1')
        self.assertEqual(first_sector(self.base, 'raw'), 'BASEMARK')
        self.assertEqual(first_sector(ov, 'qcow2'), 'SNAPMARK1')
        # A second one on top: a chain of three, each image as it was.
        ov2 = self.img('vb-ov2.qcow2')
        d.vsh('snapshot-create-as', 'vb-g', 'vb-s2', '--disk-only',
              '--diskspec', 'vda,snapshot=external,file=%s' % ov2,
              '--diskspec', 'vdb,snapshot=no', '--diskspec', 'vdc,snapshot=no')
        for extra in ((), ('--inactive',)):
            disk = disk_of(self.dumpxml(*extra), 'vda')
            self.assertRegex(disk, r"<source file='%s'/>\s*<backingStore type='file'>\s*"
                                   r"<format type='qcow2'/>\s*<source file='%s'/>\s*"
                                   r"<backingStore type='file'>\s*<format type='raw'/>\s*"
                                   r"<source file='%s'/>" % (re.escape(ov2), re.escape(ov),
                                                             re.escape(self.base)))
        self.mark('vda', 'SNAPMARK2')
        self.assertEqual(first_sector(ov2, 'qcow2'), 'SNAPMARK2')
        self.assertEqual(first_sector(ov, 'qcow2'), 'SNAPMARK1')
        self.assertEqual(first_sector(self.base, 'raw'), 'BASEMARK')

        rc, out, err = d.vsh('blockcommit', 'vb-g', 'vda', '--active', '--pivot', '--verbose',
                             timeout=90)
        self.assertIn('Successfully pivoted', out)
        self.assertIn('Block Commit: [100 %]', err)
        for extra in ((), ('--inactive',)):
            disk = disk_of(self.dumpxml(*extra), 'vda')
            self.assertIn("<source file='%s'" % self.base, disk)
            self.assertNotIn('<backingStore', disk)
        self.assertEqual(first_sector(self.base, 'raw'), 'SNAPMARK2')
        self.assertEqual(d.domstate('vb-g'), 'running')
        # The overlay's nodes are gone from QEMU (blockdev-del after the pivot).
        harness.wait_for(lambda: not {ov, ov2} & open_files(d.qemu_pid('vb-g')), 10,
                         what='QEMU closing %s and %s' % (ov, ov2))
        self.assertEqual(self.read_mark('vda'), 'SNAPMARK2')
        # The guest's writes go to the base now.
        self.mark('vda', 'AFTERPIVOT')
        self.assertEqual(first_sector(self.base, 'raw'), 'AFTERPIVOT')
        self.assertEqual(first_sector(ov, 'qcow2'), 'SNAPMARK1')
        self.assertIn('No current block job for vda', d.vsh('blockjob', 'vb-g', 'vda')[1])

    def test_2_blockpull(self):
        d = self.d
        self.assertEqual(backing_of(self.ptop), self.pbase)
        rc, out, err = d.vsh('blockpull', 'vb-g', 'vdb', '--wait', '--verbose', timeout=90)
        self.assertIn('Pull complete', out)
        self.assertIn('Block Pull: [100 %]', err)
        self.assertIsNone(backing_of(self.ptop))
        for extra in ((), ('--inactive',)):
            disk = disk_of(self.dumpxml(*extra), 'vdb')
            self.assertIn("<source file='%s'" % self.ptop, disk)
            self.assertNotIn('<backingStore', disk)
        # QEMU has let go of the base: the guest reads its data from the
        # top alone. (The host cannot read the top while QEMU runs: the
        # qcow2 metadata of the copied clusters may still be in its cache.)
        wait = harness.wait_for
        wait(lambda: self.pbase not in open_files(d.qemu_pid('vb-g')), 10,
             what='QEMU closing %s' % self.pbase)
        self.assertEqual(self.read_mark('vdb'), 'PULLMARK')

    def test_3_info_and_abort(self):
        d = self.d
        rc, out, err = d.vsh('blockpull', 'vb-g', 'vdc', '--bandwidth', '1')
        self.assertIn('Block Pull started', out)
        try:
            rc, out, err = d.vsh('blockjob', 'vb-g', 'vdc', '--info')
            self.assertRegex(err + out, r'Block Pull: \[ *\d+ %\]')
            self.assertIn('Bandwidth limit: 1048576 bytes/s (1.000 MiB/s)', out)
            raw = d.vsh('blockjob', 'vb-g', 'vdc', '--raw')[1]
            self.assertRegex(raw, r'^ type=pull\n bandwidth=1\n cur=\d+\n end=%d\n$' % (32 * MIB))
            # A second job on the same disk is refused, the first goes on.
            err = self.refuse(['blockcommit', 'vb-g', 'vdc'],
                              "disk 'vdc' already in active block job")
            self.assertIn('--abort', err)
            self.assertIn(' type=pull', d.vsh('blockjob', 'vb-g', 'vdc', '--raw')[1])
        finally:
            d.vsh('blockjob', 'vb-g', 'vdc', '--abort', check=False)
        self.assertIn('No current block job for vdc', d.vsh('blockjob', 'vb-g', 'vdc')[1])
        # --timeout: aborted past it, waited for, and said so.
        rc, out, err = d.vsh_fail('blockpull', 'vb-g', 'vdc', '--bandwidth', '1', '--timeout',
                                  '1', '--verbose', rc=1)
        self.assertIn('Pull aborted', out)
        self.assertRegex(err, r'Block Pull: \[ *\d+ %\]')
        self.assertIn('No current block job for vdc', d.vsh('blockjob', 'vb-g', 'vdc')[1])
        # The chain is as before: the top still backed by the base.
        self.assertEqual(backing_of(self.atop), self.abase)
        for extra in ((), ('--inactive',)):
            disk = disk_of(self.dumpxml(*extra), 'vdc')
            self.assertIn("<source file='%s'" % self.atop, disk)
        self.assertIn("<source file='%s'/>" % self.abase, disk_of(self.dumpxml(), 'vdc'))
        self.assertEqual(d.domstate('vb-g'), 'running')

    def test_4_refusals(self):
        d = self.d
        self.refuse(['blockcommit', 'vb-g', 'vdz', '--active', '--pivot'],
                    "disk 'vdz' not found in domain")
        err = self.refuse(['blockcommit', 'vb-g', 'vda', '--active', '--pivot'],
                          "top '%s' in chain for 'vda' has no backing file" % self.base)
        self.assertIn('--disk-only', err)
        self.refuse(['blockpull', 'vb-g', 'vda', '--wait'],
                    "top '%s' in chain for 'vda' has no backing file" % self.base)
        self.refuse(['blockjob', 'vb-g', 'vda', '--abort'],
                    "disk 'vda' does not have an active block job")
        self.refuse(['blockcommit', 'vb-g', 'vdc', '--top', '/nonexistent/vb-x.qcow2'],
                    "could not find image '/nonexistent/vb-x.qcow2' in chain for 'vdc'")
        self.refuse(['blockcommit', 'vb-g', 'vdc'],
                    "commit of 'vdc' active layer requires active flag")
        # A raw overlay cannot have a backing file.
        ov = self.img('vb-raw-ov.raw')
        err = self.refuse(['snapshot-create-as', 'vb-g', 'vb-sraw', '--disk-only',
                           '--diskspec', 'vda,snapshot=external,file=%s,driver=raw' % ov,
                           '--diskspec', 'vdb,snapshot=no', '--diskspec', 'vdc,snapshot=no'],
                          'qcow2')
        self.assertFalse(os.path.exists(ov))
        # An existing overlay file is never overwritten.
        ov = write_raw(self.img('vb-exists.qcow2'), 1, text='KEEPME')
        self.refuse(['snapshot-create-as', 'vb-g', 'vb-sexists', '--disk-only',
                     '--diskspec', 'vda,snapshot=external,file=%s' % ov,
                     '--diskspec', 'vdb,snapshot=no', '--diskspec', 'vdc,snapshot=no'],
                    'already exists')
        self.assertEqual(first_sector(ov, 'raw'), 'KEEPME')
        # All or nothing: the second overlay cannot be made, the first one
        # made before it is removed again.
        ok = self.img('vb-first.qcow2')
        self.refuse(['snapshot-create-as', 'vb-g', 'vb-shalf', '--disk-only',
                     '--diskspec', 'vda,snapshot=external,file=%s' % ok,
                     '--diskspec', 'vdb,snapshot=external,file=/nonexistent/vb-x.qcow2',
                     '--diskspec', 'vdc,snapshot=no'],
                    '/nonexistent/vb-x.qcow2')
        self.assertFalse(os.path.exists(ok))
        os.unlink(ov)
        # --reuse-external: the file must be there (made by the user).
        mine = self.img('vb-mine.qcow2')
        self.refuse(['snapshot-create-as', 'vb-g', 'vb-sreuse', '--disk-only',
                     '--reuse-external', '--diskspec', 'vdb,snapshot=external,file=%s' % mine,
                     '--diskspec', 'vda,snapshot=no', '--diskspec', 'vdc,snapshot=no'],
                    'does not exist')
        # The guest is untouched by all of it.
        self.assertEqual(self.read_mark('vda'), 'AFTERPIVOT')
        # Made, it is used as it is, and committed back again.
        overlay(mine, self.ptop, 'qcow2')
        d.vsh('snapshot-create-as', 'vb-g', 'vb-sreuse', '--disk-only', '--reuse-external',
              '--diskspec', 'vdb,snapshot=external,file=%s' % mine,
              '--diskspec', 'vda,snapshot=no', '--diskspec', 'vdc,snapshot=no')
        self.assertEqual(source_of(self.dumpxml('--inactive'), 'vdb'), mine)
        self.mark('vdb', 'REUSEMARK')
        self.assertEqual(first_sector(mine, 'qcow2'), 'REUSEMARK')
        d.vsh('blockcommit', 'vb-g', 'vdb', '--active', '--pivot')
        self.assertEqual(source_of(self.dumpxml('--inactive'), 'vdb'), self.ptop)
        self.assertEqual(self.read_mark('vdb'), 'REUSEMARK')

    def test_5_shut_off(self):
        d = self.d
        base = write_raw(self.img('vb-offbase.raw'), 4, text='OFFMARK')
        d.define('vb-off', harness.domain_xml('vb-off', memory_mib=128,
                                              extra_devices=harness.disk_xml(base, 'vda')))
        before = (self.dumpxml('--inactive', name='vb-off'), sorted(os.listdir(self.tmp)))
        rc, out, err = d.vsh_fail('blockcommit', 'vb-off', 'vda', '--active', '--pivot')
        self.assertIn('not running', err)
        rc, out, err = d.vsh_fail('blockpull', 'vb-off', 'vda')
        self.assertIn('not running', err)
        self.assertEqual((self.dumpxml('--inactive', name='vb-off'),
                          sorted(os.listdir(self.tmp))), before)
        ov = self.img('vb-offov.qcow2')
        d.vsh('snapshot-create-as', 'vb-off', 'vb-soff', '--disk-only',
              '--diskspec', 'vda,snapshot=external,file=%s' % ov)
        self.assertEqual(backing_of(ov), base)
        disk = disk_of(self.dumpxml('--inactive', name='vb-off'), 'vda')
        self.assertIn("<source file='%s'" % ov, disk)
        self.assertIn("<source file='%s'/>" % base, disk)
        self.assertEqual(first_sector(ov, 'qcow2'), 'OFFMARK')
        # It starts on the overlay (QEMU opens the base from its header),
        # and an active commit takes it back to the base.
        d.start_domain('vb-off')
        self.assertIn("<source file='%s'/>" % base,
                      disk_of(self.dumpxml(name='vb-off'), 'vda'))
        rc, out, err = d.vsh('blockcommit', 'vb-off', 'vda', '--active', '--pivot')
        self.assertIn('Successfully pivoted', out)
        for extra in ((), ('--inactive',)):
            self.assertEqual(source_of(self.dumpxml(*extra, name='vb-off'), 'vda'), base)
        d.vsh('destroy', 'vb-off')

    def test_6_daemon_restart_finds_the_job(self):
        d = self.d
        d.vsh('blockpull', 'vb-g', 'vdc', '--bandwidth', '1')
        try:
            d.restart()
            raw = d.vsh('blockjob', 'vb-g', 'vdc', '--raw')[1]
            self.assertRegex(raw, r'^ type=pull\n bandwidth=1\n')
            self.refuse(['blockpull', 'vb-g', 'vdc'], "disk 'vdc' already in active block job")
        finally:
            d.vsh('blockjob', 'vb-g', 'vdc', '--abort', check=False)
        self.assertIn('No current block job for vdc', d.vsh('blockjob', 'vb-g', 'vdc')[1])
        self.assertEqual(backing_of(self.atop), self.abase)
        self.assertEqual(d.domstate('vb-g'), 'running')

    def test_7_pivot_while_the_daemon_is_down(self):
        """The daemon dies with an active commit in step; the pivot happens
        without it (QMP by hand). Restarted, it reads the chain back from
        QEMU: the definitions name the base, not the stale overlay that
        the next start would otherwise open."""
        d = self.d
        ov = self.img('vb-ov7.qcow2')
        d.vsh('snapshot-create-as', 'vb-g', 'vb-s7', '--disk-only',
              '--diskspec', 'vda,snapshot=external,file=%s' % ov,
              '--diskspec', 'vdb,snapshot=no', '--diskspec', 'vdc,snapshot=no')
        self.assertEqual(source_of(self.dumpxml('--inactive'), 'vda'), ov)
        rc, out, err = d.vsh('blockcommit', 'vb-g', 'vda', '--active', '--wait')
        self.assertIn('Now in synchronized phase', out)
        d.kill()
        qmp_by_hand(d.path('run', 'qemu', 'vb-g.qmp'), 'block-job-complete',
                    {'device': 'active-commit-vda'}, 'BLOCK_JOB_COMPLETED')
        d.start()
        harness.wait_for(lambda: source_of(self.dumpxml('--inactive'), 'vda') == self.base, 15,
                         what='the persistent definition naming the base again')
        self.assertEqual(source_of(self.dumpxml(), 'vda'), self.base)
        self.assertNotIn('<backingStore', disk_of(self.dumpxml(), 'vda'))
        harness.wait_for(lambda: ov not in open_files(d.qemu_pid('vb-g')), 10,
                         what='QEMU closing %s' % ov)
        con = d.console('vb-g')
        try:
            con.read_until('Escape character', timeout=20)
            con.type_until('read-mark vda', 'VIRTD-GUEST-MARK dev=vda text=AFTERPIVOT')
        finally:
            con.detach()
        self.assertEqual(d.domstate('vb-g'), 'running')


if __name__ == '__main__':
    unittest.main(verbosity=2)
