#!/usr/bin/env python3
"""Snapshots of a shut-off domain (issue 12): internal snapshots in the
qcow2 image (qemu-img), the tree and its listings as virsh prints them,
revert seen in the guest (a disk marker), delete of a middle snapshot,
metadata across a daemon kill, and the refusals, each followed by a check
that nothing changed."""

import os
import re
import subprocess
import uuid

import harness
from harness import Daemon

PREFIX = 'vs'


def qemu_img(*args):
    return subprocess.run(['qemu-img'] + list(args), check=True, capture_output=True,
                          text=True).stdout


def image_snapshots(path):
    """Names in `qemu-img snapshot -l` (-U: never takes a lock)."""
    out = qemu_img('snapshot', '-l', '-U', path)
    names = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 2:
            names.append(parts[1])
    return sorted(names)


class Snapshots(harness.VirtdTestCase):

    def make_disk(self, d, name, fmt='qcow2'):
        path = d.path('%s-%s.%s' % (PREFIX, name, fmt))
        qemu_img('create', '-q', '-f', fmt, path, '64M')
        return path

    def define(self, d, name, disk, fmt='qcow2', uuid=None):
        d.define(name, harness.domain_xml(name, memory_mib=128, uuid=uuid,
                                          extra_devices=harness.disk_xml(disk, fmt=fmt)))

    def mark(self, d, name, text=None):
        """Boots are done by the caller; writes or reads the first sector of
        vda from inside the guest. Returns what read-mark saw."""
        con = d.console(name)
        try:
            # a fresh token: the console replays the last output on attach,
            # older boots' marker lines included
            tok = uuid.uuid4().hex
            if text:
                con.type_until('mark-disk vda %s; echo M$((1+1))%s-$?' % (text, tok),
                               'M2%s-0' % tok)
            start = con.type_until('echo R$((1+1))%s; read-mark vda' % tok, 'R2' + tok)
            end = con.read_until('VIRTD-GUEST-MARK dev=vda text=', start=start)
            stop = con.read_until('\n', start=end)
            return con.text[end:stop].strip()
        finally:
            con.detach()

    def snapshot_files(self, d):
        out = []
        for root, _dirs, files in os.walk(d.root):
            if '/snapshots' in root:
                out += [os.path.join(root, f) for f in files]
        return sorted(out)

    def listing(self, d, name, *opts):
        """snapshot-list's output without the blank line vsh (as virsh)
        prints after every command."""
        out = d.vsh('snapshot-list', name, *opts)[1]
        self.assertTrue(out.endswith('\n'), out)
        return out[:-1]

    def current(self, d, name):
        return d.vsh('snapshot-current', name, '--name')[1]

    def test_tree_revert_delete_restart(self):
        name = PREFIX + '-tree'
        with Daemon() as d:
            disk = self.make_disk(d, 'tree')
            self.define(d, name, disk)
            for s in ('s0', 's1'):
                out = d.vsh('snapshot-create-as', name, s)[1]
                self.assertEqual(out, 'Domain snapshot %s created\n\n' % s)
            d.start_domain(name)
            self.assertEqual(self.mark(d, name, 'HELLO-S2'), 'HELLO-S2')
            d.vsh('destroy', name)
            d.wait_state(name, 'shut off')
            d.vsh('snapshot-create-as', name, 's2', 'after the marker')
            self.assertEqual(image_snapshots(disk), ['s0', 's1', 's2'])
            self.assertEqual(self.current(d, name), 's2\n')
            self.assertEqual(d.vsh('snapshot-parent', name, 's2')[1], 's1\n')

            # revert to s1 (silent), start: the marker is gone
            seen = d.boots(name)
            rc, out, err = d.vsh('snapshot-revert', name, 's1', '--running')
            d.wait_boot(name, seen)
            self.assertEqual(out.strip(), '')
            self.assertEqual(self.mark(d, name), '')
            self.assertEqual(d.domstate(name, reason=True), 'running (from snapshot)')
            self.assertEqual(image_snapshots(disk), ['s0', 's1', 's2'])
            # reverting a running domain to a shut-off snapshot stops it
            self.assertEqual(d.vsh('snapshot-revert', name, 's1')[1], '\n')
            self.assertEqual(d.domstate(name, reason=True), 'shut off (from snapshot)')
            self.assertNoQemu(d)

            # a branch: s3 from s1
            d.vsh('snapshot-create-as', name, 's3')
            tree = self.listing(d, name, '--tree')
            self.assertEqual(tree, 's0\n  |\n  +- s1\n      |\n      +- s2\n      +- s3\n'
                                   '        \n')
            self.assertEqual(self.listing(d, name, '--name'), 's0\ns1\ns2\ns3\n')
            self.assertEqual(self.listing(d, name, '--roots', '--name'), 's0\n')
            self.assertEqual(self.listing(d, name, '--leaves', '--name'), 's2\ns3\n')
            self.assertEqual(self.listing(d, name, '--from', 's1', '--name'), 's2\ns3\n')
            self.assertEqual(self.listing(d, name, '--inactive', '--internal', '--name'),
                             's0\ns1\ns2\ns3\n')
            self.assertEqual(self.listing(d, name, '--active', '--name'), '')
            self.assertEqual(self.listing(d, name, '--external', '--name'), '')
            self.assertEqual(self.listing(d, name, '--topological', '--name'),
                             's0\ns1\ns2\ns3\n')
            header, rows = harness.parse_table(self.listing(d, name, '--parent'))
            self.assertEqual(header, ['Name', 'Creation Time', 'State', 'Parent'])
            self.assertEqual([(r[0], r[2], r[3] if len(r) > 3 else '') for r in rows],
                             [('s0', 'shutoff', ''), ('s1', 'shutoff', 's0'),
                              ('s2', 'shutoff', 's1'), ('s3', 'shutoff', 's1')])
            for r in rows:
                self.assertRegex(r[1], r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$')
            info = harness.parse_keyvals(d.vsh('snapshot-info', name, 's1')[1])
            self.assertEqual((info['Name'], info['Domain'], info['Current'], info['State'],
                              info['Location'], info['Parent'], info['Children'],
                              info['Descendants'], info['Metadata']),
                             ('s1', name, 'no', 'shutoff', 'internal', 's0', '2', '2', 'yes'))
            xml = d.vsh('snapshot-dumpxml', name, 's2')[1]
            self.assertIn('<name>s2</name>', xml)
            self.assertIn('<description>after the marker</description>', xml)
            self.assertIn("<disk name='vda' snapshot='internal'/>", xml)
            self.assertIn('<domain type=', xml)
            self.assertEqual(self.listing(d, name, '--tree', '--from', 's1'),
                             's1\n  |\n  +- s2\n  +- s3\n    \n')
            # snapshot-edit (the editor is a sed), snapshot-current SNAP
            ed = {'VISUAL': '', 'EDITOR': 'sed -i s/after/AFTER/'}
            out = d.vsh('snapshot-edit', name, 's2', env=ed)[1]
            self.assertEqual(out, 'Snapshot s2 edited.\n\n')
            self.assertIn('<description>AFTER the marker</description>',
                          d.vsh('snapshot-dumpxml', name, 's2')[1])
            out = d.vsh('snapshot-edit', name, 's2', env={'VISUAL': '', 'EDITOR': 'true'})[1]
            self.assertEqual(out, 'Snapshot s2 XML configuration not changed.\n\n')
            self.assertEqual(d.vsh('snapshot-current', name, 's1')[1],
                             'Snapshot s1 set as current\n')
            self.assertEqual(self.current(d, name), 's1\n')
            d.vsh('snapshot-current', name, 's3')

            # metadata survives a daemon killed with SIGKILL
            before = (self.listing(d, name, '--parent'), self.listing(d, name, '--tree'),
                      self.current(d, name))
            d.kill()
            d.start()
            after = (self.listing(d, name, '--parent'), self.listing(d, name, '--tree'),
                     self.current(d, name))
            self.assertEqual(before, after)
            self.assertEqual(after[2], 's3\n')

            # delete the middle snapshot s1: s2 and s3 move to s0, and s2 is
            # still revertable (the marker comes back)
            out = d.vsh('snapshot-delete', name, 's1')[1]
            self.assertEqual(out.strip(), 'Domain snapshot s1 deleted')
            self.assertEqual(image_snapshots(disk), ['s0', 's2', 's3'])
            self.assertEqual(self.listing(d, name, '--tree'),
                             's0\n  |\n  +- s2\n  +- s3\n    \n')
            seen = d.boots(name)
            d.vsh('snapshot-revert', name, 's2', '--running')
            d.wait_boot(name, seen)
            self.assertEqual(self.mark(d, name), 'HELLO-S2')
            self.assertEqual(self.current(d, name), 's2\n')
            d.vsh('destroy', name)
            d.wait_state(name, 'shut off')

            # --children-only, --metadata, --children
            out = d.vsh('snapshot-delete', name, 's0', '--children-only')[1]
            self.assertEqual(out.strip(), 'Domain snapshot s0 children deleted')
            self.assertEqual(image_snapshots(disk), ['s0'])
            self.assertEqual(self.current(d, name), 's0\n')
            d.vsh('snapshot-create-as', name, 's4')
            d.vsh('snapshot-create-as', name, 's5')
            out = d.vsh('snapshot-delete', name, '--current', '--metadata')[1]
            self.assertEqual(out.strip(), 'Domain snapshot s5 deleted')
            self.assertEqual(image_snapshots(disk), ['s0', 's4', 's5'])
            self.assertEqual(self.listing(d, name, '--tree'), 's0\n  |\n  +- s4\n    \n')
            out = d.vsh('snapshot-delete', name, 's0', '--children')[1]
            self.assertEqual(out.strip(), 'Domain snapshot s0 deleted')
            self.assertEqual(image_snapshots(disk), ['s5'])
            self.assertEqual(self.listing(d, name, '--name'), '')
            self.assertEqual(self.snapshot_files(d), [])

    def crash_at(self, d, point, *vsh_args):
        """Restarts the daemon so that it kills itself at @point; vsh
        @vsh_args fails with it; the daemon is started again."""
        d.kill()
        os.environ['VIRTD_TEST_CRASH_AT'] = point
        try:
            d.start()
        finally:
            del os.environ['VIRTD_TEST_CRASH_AT']
        rc, _out, _err = d.vsh(*vsh_args, check=False)
        self.assertNotEqual(rc, 0)
        harness.wait_for(lambda: d.proc.poll() is not None, 30, what='the daemon killed itself')
        d.start()
        harness.wait_for(lambda: not [f for f in self.snapshot_files(d)
                                      if f.endswith('.intent')], 30, interval=0.1,
                         what='the restart completed the operation')

    def test_offline_crash(self):
        """A daemon killed between qemu-img and the metadata: a revert
        (images reverted, the definition not yet) and a delete (images done,
        metadata not yet) are completed at the restart."""
        name = PREFIX + '-crash'
        with Daemon() as d:
            disk = self.make_disk(d, 'crash')
            self.define(d, name, disk)
            subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x41 0 512', disk],
                           check=True, capture_output=True)
            before = d.vsh('dumpxml', name, '--inactive')[1]
            d.vsh('snapshot-create-as', name, 'c0')
            d.vsh('snapshot-create-as', name, 'c1')
            subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x42 0 512', disk],
                           check=True, capture_output=True)
            d.vsh('setmaxmem', name, '262144', '--config')
            self.assertIn("<memory unit='KiB'>262144</memory>",
                          d.vsh('dumpxml', name, '--inactive')[1])
            d.vsh('snapshot-current', name, 'c1')

            self.crash_at(d, 'snapshot-revert-applied', 'snapshot-revert', name, 'c0')
            self.assertEqual(d.vsh('dumpxml', name, '--inactive')[1], before)
            self.assertEqual(self.current(d, name), 'c0\n')
            self.assertEqual(d.domstate(name, reason=True), 'shut off (from snapshot)')
            out = subprocess.run(['qemu-io', '-r', '-f', 'qcow2', '-c', 'read -P 0x41 0 512',
                                  disk], check=True, capture_output=True, text=True).stdout
            self.assertNotIn('Pattern verification failed', out)
            self.assertEqual(image_snapshots(disk), ['c0', 'c1'])

            self.crash_at(d, 'snapshot-delete-images', 'snapshot-delete', name, 'c1')
            self.assertEqual(self.listing(d, name, '--name'), 'c0\n')
            self.assertEqual(image_snapshots(disk), ['c0'])
            self.assertEqual(self.current(d, name), 'c0\n')
            # the name is free again
            d.vsh('snapshot-create-as', name, 'c1')
            self.assertEqual(image_snapshots(disk), ['c0', 'c1'])
            self.assertEqual([os.path.basename(f) for f in self.snapshot_files(d)],
                             ['c0.xml', 'c1.xml', 'current'])

    def test_refusals(self):
        name = PREFIX + '-ref'
        raw_name = PREFIX + '-raw'
        with Daemon() as d:
            raw = self.make_disk(d, 'raw', fmt='raw')
            self.define(d, raw_name, raw, fmt='raw')
            xml_before = d.vsh('dumpxml', raw_name)[1]
            rc, out, err = d.vsh_fail('snapshot-create-as', raw_name, 'r1')
            self.assertIn("internal snapshot of disk 'vda' needs a qcow2 image, its image is raw",
                          err)
            self.assertIn('qemu-img convert -O qcow2', err)
            self.assertEqual(self.listing(d, raw_name, '--name'), '')
            self.assertEqual(d.vsh('dumpxml', raw_name)[1], xml_before)
            self.assertEqual(self.snapshot_files(d), [])

            disk = self.make_disk(d, 'ref')
            self.define(d, name, disk)
            d.vsh('snapshot-create-as', name, 'one')
            f = d.write_file('two.xml', '<domainsnapshot><name>two</name>'
                                        '<description>from a file</description></domainsnapshot>')
            out = d.vsh('snapshot-create', name, f)[1]
            self.assertEqual(out, "Domain snapshot two created from '%s'\n\n" % f)
            self.assertEqual(self.current(d, name), 'two\n')
            self.assertEqual(d.vsh('snapshot-parent', name, '--current')[1], 'one\n')
            rc, out, err = d.vsh_fail('snapshot-parent', name, 'one')
            self.assertIn("snapshot 'one' has no parent", err)
            listing = self.listing(d, name, '--parent')
            rc, out, err = d.vsh_fail('snapshot-create-as', name, 'one')
            self.assertIn("domain snapshot 'one' already exists", err)
            self.assertIn('snapshot-delete', err)
            self.assertEqual(self.listing(d, name, '--parent'), listing)
            self.assertEqual(image_snapshots(disk), ['one', 'two'])
            # --no-metadata: in the image, not in the list; its name stays
            # taken in the image
            out = d.vsh('snapshot-create-as', name, 'nm', '--no-metadata')[1]
            self.assertEqual(out, 'Domain snapshot nm created\n\n')
            self.assertEqual(self.listing(d, name, '--parent'), listing)
            self.assertEqual(image_snapshots(disk), ['nm', 'one', 'two'])
            rc, out, err = d.vsh_fail('snapshot-create-as', name, 'nm')
            self.assertIn("already has an internal snapshot 'nm'", err)
            self.assertEqual(image_snapshots(disk), ['nm', 'one', 'two'])
            self.assertEqual(self.listing(d, name, '--parent'), listing)

            for args in (['snapshot-revert', name, 'nope'], ['snapshot-delete', name, 'nope'],
                         ['snapshot-info', name, 'nope']):
                rc, out, err = d.vsh_fail(*args)
                self.assertIn("no domain snapshot with matching name 'nope'", err)
            self.assertEqual(self.listing(d, name, '--parent'), listing)

            rc, out, err = d.vsh_fail('snapshot-create-as', name, 'bad/name')
            self.assertIn('<name>', err)
            self.assertEqual(image_snapshots(disk), ['nm', 'one', 'two'])

            old_uuid = d.vsh('domuuid', name)[1].strip()
            # an image another running domain uses is left alone
            other = PREFIX + '-ref2'
            self.define(d, other, disk)
            d.start_domain(other, wait_boot=False)
            for args in (['snapshot-create-as', name, 'busy'], ['snapshot-revert', name, 'one'],
                         ['snapshot-delete', name, 'one']):
                rc, out, err = d.vsh_fail(*args)
                self.assertIn("is in use by running domain '%s'" % other, err)
            d.vsh('destroy', other)
            d.vsh('undefine', other)
            self.assertEqual(self.listing(d, name, '--parent'), listing)
            self.assertEqual(self.current(d, name), 'two\n')
            self.assertEqual(image_snapshots(disk), ['nm', 'one', 'two'])

            saved = {s: d.write_file(s + '.snap.xml', d.vsh('snapshot-dumpxml', name, s)[1])
                     for s in ('one', 'two')}
            # undefine keeps a domain with snapshot metadata, as virsh
            rc, out, err = d.vsh_fail('undefine', name)
            self.assertIn('cannot delete inactive domain with 2 snapshots', err)
            self.assertIn('--snapshots-metadata', err)
            self.assertListed(d, name, 'shut off')
            self.assertEqual(self.listing(d, name, '--parent'), listing)
            out = d.vsh('undefine', name, '--snapshots-metadata')[1]
            self.assertIn("Domain '%s' has been undefined" % name, out)
            self.assertNotListed(d, name)
            # the image keeps its internal snapshots (virsh leaves them too)
            self.assertEqual(image_snapshots(disk), ['nm', 'one', 'two'])
            for root, dirs, _files in os.walk(d.root):
                if os.path.basename(root) == 'snapshots':
                    self.assertNotIn(name, dirs)
            # a new domain of the same name starts with no snapshots; the
            # metadata comes back with snapshot-create --redefine
            self.define(d, name, disk)
            self.assertEqual(self.listing(d, name, '--name'), '')
            rc, out, err = d.vsh_fail('snapshot-create', name, saved['one'], '--redefine')
            self.assertIn('definition for snapshot one must use uuid', err)
            d.vsh('undefine', name)
            self.define(d, name, disk, uuid=old_uuid)
            rc, out, err = d.vsh_fail('snapshot-create', name, saved['two'], '--redefine')
            self.assertIn("parent snapshot 'one' for 'two' not found", err)
            self.assertEqual(self.listing(d, name, '--name'), '')
            out = d.vsh('snapshot-create', name, saved['one'], '--redefine')[1]
            self.assertEqual(out, 'Domain snapshot one defined\n\n')
            d.vsh('snapshot-create', name, saved['two'], '--redefine', '--current')
            self.assertEqual(self.listing(d, name, '--parent'), listing)
            self.assertEqual(self.current(d, name), 'two\n')
            d.vsh('snapshot-revert', name, 'one')
            self.assertEqual(self.current(d, name), 'one\n')
            self.assertEqual(image_snapshots(disk), ['nm', 'one', 'two'])
            d.vsh('undefine', name, '--snapshots-metadata')
            d.vsh('undefine', raw_name)


if __name__ == '__main__':
    harness.main()
