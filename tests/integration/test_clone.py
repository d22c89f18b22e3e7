#!/usr/bin/env python3
"""vsh clone (virt-clone) and domrename, end to end (issue 12, items 1-2).

One daemon, one isolated network with DHCP (made by the test, prefix vc,
dnsmasq without forwarding), and small TCG guests booted from the test
kernel with a qcow2 data disk as vda:

- a full clone boots beside its original with its own UUID, MAC, disk and
  DHCP lease, each MAC seen inside its guest (the guest's NET line);
- a linked clone is made in well under a second, and what its guest writes
  to its disk never reaches the original's image (read on the host);
- a full clone of a 1 GiB image shows progress: vsh prints the Allocating
  line, GET /v1/jobs shows the copy while it runs, the original cannot be
  started meanwhile and the daemon keeps answering;
- every refusal (name, UUID, existing --file, too many --file, unknown
  --skip-copy target, --linked on raw, running original, linked clone's
  original losing its storage, domrename of a running domain) is followed
  by a check that nothing changed: no new domain, no new file;
- domrename of an inactive domain keeps its UUID, and the renamed domain
  starts.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, NetLab, domain_xml, disk_xml, parse_table, wait_for  # noqa: E402
from test_network_guests import Shell, net_xml, nic_xml, LEASE_TIMEOUT  # noqa: E402

MEM = 128
NET_LINE = re.compile(r'VIRTD-GUEST-NET eth0 mac=(\S+) ip=([\d.]+)/')


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


class Clone(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.lab = NetLab(prefix='vc').__enter__()
        cls.d = None
        base = os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir()
        cls.root = tempfile.mkdtemp(prefix='vc-clone-', dir=base)
        try:
            cls.d = d = Daemon(root=cls.root).__enter__()
            cls.images = d.path('vcimages')
            os.makedirs(cls.images)
            # The images are volumes of a pool: undefine --remove-all-storage
            # removes them, and the clones land in the same pool.
            path = d.write_file('xml/vcpool.xml',
                                "<pool type='dir'><name>vcpool</name><target><path>%s</path>"
                                "</target></pool>" % cls.images)
            d.vsh('pool-define', path)
            d.vsh('pool-start', 'vcpool')
            subnet = cls.lab.subnet()
            cls.net = 'vcnet'
            path = d.write_file('xml/vcnet.xml', net_xml(cls.net, cls.lab.name('br'), subnet))
            d.vsh('net-define', path)
            d.vsh('net-start', cls.net)
            cls.orig_img = cls.img('vcorig.qcow2')
            subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', cls.orig_img, '64M'],
                           check=True)
            cls.define_guest('vcorig', cls.orig_img, 'qcow2')
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.d is not None:
            cls.d.cleanup()
        # The root is ours (named vc-clone-*): the harness removes only
        # the roots it made itself.
        if os.environ.get('VIRTD_TEST_KEEP') != '1':
            shutil.rmtree(cls.root, ignore_errors=True)
        cls.lab.close()

    @classmethod
    def img(cls, leaf):
        return os.path.join(cls.images, leaf)

    @classmethod
    def define_guest(cls, name, image, fmt):
        cls.d.define(name, domain_xml(
            name, memory_mib=MEM,
            extra_devices=disk_xml(image, fmt=fmt) + '\n' + nic_xml('network', cls.net),
            cmdline_extra='virtd.net=dhcp virtd.hostname=' + name))

    # ---- helpers

    def state(self):
        """What a refusal must not change: the domains, the image files."""
        names = sorted(r[1] for r in harness.parse_list(self.d.vsh('list', '--all')[1]))
        return names, sorted(os.listdir(self.images))

    def refused(self, args, words, rc=None):
        before = self.state()
        _rc, _out, err = self.d.vsh_fail(*args, rc=rc)
        self.assertIn(words, err)
        self.assertEqual(self.state(), before, 'a refused %r changed something' % (args,))
        return err

    def dumpxml(self, name):
        return self.d.vsh('dumpxml', name)[1]

    def uuid(self, name):
        return re.search(r'<uuid>([^<]+)</uuid>', self.dumpxml(name)).group(1)

    def mac(self, name):
        return re.search(r"<mac address='([^']+)'", self.dumpxml(name)).group(1)

    def source(self, name):
        return re.search(r"<source file='([^']+)'", self.dumpxml(name)).group(1)

    def boot(self, name):
        """Starts @name; (mac, ip) of eth0's lease as its guest printed it."""
        d = self.d
        offset = len(d.console_text(name))
        d.vsh('start', name)

        def lease():
            text = d.console_text(name)
            m = NET_LINE.search(text[offset if len(text) >= offset else 0:])
            return m.groups() if m else None
        return wait_for(lease, LEASE_TIMEOUT, interval=0.25,
                        what=lambda: 'a lease of %s; console ends with:\n%s' %
                        (name, d.console_text(name)[-1500:]))

    def destroy(self, name):
        self.d.vsh('destroy', name)
        self.d.wait_state(name, 'shut off')

    # ---- the tests, in name order

    def test_10_refusals_of_a_shut_off_original(self):
        d = self.d
        self.refused(['clone', '--original', 'vcorig', '--name', 'vcorig'], 'already in use')
        self.refused(['clone', '--original', 'vcorig', '--name', 'vcx', '--uuid',
                      self.uuid('vcorig')], 'is in use by another domain')
        self.refused(['clone', '--original', 'vcorig', '--name', 'vcx', '--file',
                      self.orig_img], 'exists')
        self.refused(['clone', '--original', 'vcorig', '--name', 'vcx', '--file',
                      self.img('vcx1.qcow2'), '--file', self.img('vcx2.qcow2')],
                     '2 --file given but only 1 disk(s)')
        self.refused(['clone', '--original', 'vcorig', '--name', 'vcx', '--skip-copy', 'vdz'],
                     "no disk with target 'vdz'")
        self.refused(['clone', '--original', 'vcorig'], 'A name is required')
        self.refused(['clone', '--name', 'vcx'], "An original machine name is required")
        # A copy that fails removes what it made, and defines nothing.
        self.refused(['clone', '--original', 'vcorig', '--name', 'vcx', '--file',
                      self.img('nodir/vcx.qcow2')], 'cannot create')
        # Nor into the daemon's own directories.
        self.refused(['clone', '--original', 'vcorig', '--name', 'vcx', '--file',
                      d.path('etc', 'vcx.qcow2')], "inside the daemon's configuration")
        self.assertFalse(os.path.exists(d.path('etc', 'vcx.qcow2')))
        # --linked on a raw disk: the fix is named.
        raw = self.img('vcraw.img')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'raw', raw, '16M'], check=True)
        self.define_guest('vcraw', raw, 'raw')
        err = self.refused(['clone', '--original', 'vcraw', '--name', 'vcx', '--linked'],
                           'convert it to qcow2')
        self.assertIn('without --linked', err)
        d.vsh('undefine', 'vcraw', '--remove-all-storage')
        # --print-xml makes nothing and shows the new definition.
        before = self.state()
        out = d.vsh('clone', '--original', 'vcorig', '--auto-clone', '--print-xml')[1]
        self.assertIn('<name>vcorig-clone</name>', out)
        self.assertIn(self.img('vcorig-clone.qcow2'), out)
        self.assertEqual(self.state(), before)

    def test_20_full_clone_boots_beside_its_original(self):
        d = self.d
        rc, out, err = d.vsh('clone', '--original', 'vcorig', '--name', 'vcfull')
        self.assertRegex(out, r"Allocating 'vcfull\.qcow2' +\| +64 MB  \d\d:\d\d:\d\d\n")
        self.assertIn("Clone 'vcfull' created successfully.", out)
        self.assertNotEqual(self.uuid('vcfull'), self.uuid('vcorig'))
        self.assertNotEqual(self.mac('vcfull'), self.mac('vcorig'))
        self.assertTrue(self.mac('vcfull').startswith('52:54:00:'))
        self.assertEqual(self.source('vcfull'), self.img('vcfull.qcow2'))
        self.assertIn('vcfull.qcow2', d.vsh('vol-list', 'vcpool')[1])
        orig_mac, orig_ip = self.boot('vcorig')
        full_mac, full_ip = self.boot('vcfull')
        # Inside each guest: its own MAC, its own lease.
        self.assertEqual(orig_mac, self.mac('vcorig'))
        self.assertEqual(full_mac, self.mac('vcfull'))
        self.assertNotEqual(orig_ip, full_ip)

        def leases():
            _h, rows = parse_table(d.vsh('net-dhcp-leases', self.net)[1])
            macs = {r[1]: r[3] for r in rows}
            return macs if orig_mac in macs and full_mac in macs else None
        macs = wait_for(leases, 30, what='both leases in net-dhcp-leases')
        self.assertEqual(macs[orig_mac].split('/')[0], orig_ip)
        self.assertEqual(macs[full_mac].split('/')[0], full_ip)

        # A running original: refused (virt-clone's words and the fix) ...
        err = self.refused(['clone', '--original', 'vcorig', '--name', 'vcx'],
                           'Domain to clone must be shutoff.')
        self.assertIn('--preserve-data', err)
        # ... as domrename is.
        self.refused(['domrename', 'vcorig', 'vcx'], 'cannot rename active domain')
        # --preserve-data: nothing copied, the clone uses the same disk.
        before = sorted(os.listdir(self.images))
        out = d.vsh('clone', '--original', 'vcorig', '--name', 'vcpres', '--preserve-data')[1]
        self.assertIn("Clone 'vcpres' created successfully.", out)
        self.assertEqual(self.source('vcpres'), self.orig_img)
        self.assertEqual(sorted(os.listdir(self.images)), before)
        d.vsh('undefine', 'vcpres')
        self.destroy('vcfull')
        self.destroy('vcorig')

    def test_30_linked_clone(self):
        d = self.d
        before = sha256(self.orig_img)
        t0 = time.monotonic()
        out = d.vsh('clone', '--original', 'vcorig', '--name', 'vclinked', '--linked')[1]
        elapsed = time.monotonic() - t0
        self.assertIn("Clone 'vclinked' created successfully.", out)
        self.assertLess(elapsed, 3.0 * harness.TIMEOUT_SCALE, 'a linked clone took %.2f s' % elapsed)
        overlay = self.img('vclinked.qcow2')
        info = subprocess.run(['qemu-img', 'info', '-U', overlay], capture_output=True,
                              text=True, check=True).stdout
        self.assertIn('backing file: ' + self.orig_img, info)
        self.assertIn('backing file format: qcow2', info)
        self.assertLess(os.path.getsize(overlay), 2 << 20)
        # The clone's guest writes to its disk; the original's image stays.
        seen = self.d.boots('vclinked')
        d.vsh('start', 'vclinked')
        d.wait_boot('vclinked', seen)
        with Shell(d, 'vclinked') as sh:
            rc, _o = sh.run('mark-disk vda vclinkedmark')
            self.assertEqual(rc, 0)
            rc, o = sh.run('read-mark vda')
            self.assertIn('VIRTD-GUEST-MARK dev=vda text=vclinkedmark', o)
        self.destroy('vclinked')
        self.assertEqual(sha256(self.orig_img), before)
        raw = subprocess.run(['qemu-io', '-r', '-f', 'qcow2', '-c', 'read -v 0 512',
                              self.orig_img], capture_output=True, text=True).stdout
        self.assertNotIn('vclinke', raw)
        seen = subprocess.run(['qemu-io', '-r', '-f', 'qcow2', '-c', 'read -v 0 512', overlay],
                              capture_output=True, text=True).stdout
        self.assertIn('vclinke', seen)

    def test_40_original_of_a_linked_clone_keeps_its_disk(self):
        err = self.refused(['undefine', 'vcorig', '--remove-all-storage'], "'vclinked'")
        self.assertIn('linked clone', err)
        # Nor through its volume.
        self.refused(['vol-delete', '--pool', 'vcpool', 'vcorig.qcow2'], "'vclinked'")
        self.assertTrue(os.path.exists(self.orig_img))
        self.assertIn('vcorig', self.state()[0])

    def test_50_full_clone_of_1g_shows_progress(self):
        d = self.d
        big = self.img('vcbig.img')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'raw', big, '1G'], check=True)
        # Data, not holes: a sparse copy would skip them in no time.
        subprocess.run(['qemu-io', '-f', 'raw', '-c', 'write -P 0x5a 0 1G', big], check=True,
                       stdout=subprocess.DEVNULL)
        self.define_guest('vcbig', big, 'raw')
        new = self.img('vcbig-clone.img')
        result = {}

        def run():
            result['r'] = d.vsh('clone', '--original', 'vcbig', '--auto-clone', check=False,
                                timeout=240)
        th = threading.Thread(target=run)
        th.start()
        seen, seen_at, refused_start, answered = [], [], None, []
        try:
            while th.is_alive():
                t0 = time.monotonic()
                jobs = d.api_json('GET', '/v1/jobs')['jobs']
                answered.append(time.monotonic() - t0)
                for j in jobs:
                    if j['path'] == new and j['kind'] == 'clone' and j['pool'] == 'vcpool':
                        seen.append(j['progress'])
                        seen_at.append(time.monotonic())
                        # Early enough for the copy to outlast the start's refusal.
                        if refused_start is None and j['progress'] < 50:
                            refused_start = d.vsh('start', 'vcbig', check=False)
                time.sleep(0.05)
        finally:
            th.join()
        rc, out, err = result['r']
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"Allocating 'vcbig-clone\.img' +\| +1\.0 GB  \d\d:\d\d:\d\d\n")
        self.assertIn("Clone 'vcbig-clone' created successfully.", out)
        self.assertTrue(seen, 'GET /v1/jobs never showed the copy of %s' % new)
        # Seen part-way (a 1 GiB copy takes seconds here), never going back.
        self.assertTrue(any(0 < p < 100 for p in seen), seen)
        self.assertEqual(seen, sorted(seen))
        self.assertIsNotNone(refused_start)
        self.assertNotEqual(refused_start[0], 0, 'start of the original during its clone')
        self.assertIn('is being cloned', refused_start[2])
        # A main loop blocked by the copy would answer only after it: the
        # slowest answer stays well below the copy's own duration.
        copy_time = seen_at[-1] - seen_at[0]
        self.assertLess(max(answered), max(1.0, copy_time / 2),
                        'the daemon was slow to answer during the copy: %r' % answered)
        self.assertEqual(sha256(new), sha256(big))
        self.assertEqual(d.domstate('vcbig'), 'shut off')
        d.vsh('undefine', 'vcbig-clone', '--remove-all-storage')
        self.assertFalse(os.path.exists(new))

    def test_55_daemon_killed_during_a_clone(self):
        """The images of a clone cut short by SIGKILL are gone after the
        restart, and no domain was defined."""
        d = self.d
        big, new = self.img('vcbig.img'), self.img('vckilled.img')
        before = self.state()
        proc = subprocess.Popen([harness.VSH_BIN, '-c', d.uri, 'clone', '--original', 'vcbig',
                                 '--name', 'vckilled'], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            # Killed in the middle of the copy (qemu-img, which the kill does
            # not stop, has its target open by then).
            wait_for(lambda: any(j['path'] == new and j['progress'] > 0
                                 for j in d.api_json('GET', '/v1/jobs')['jobs']),
                     30, interval=0.02, what='the copy of %s in /v1/jobs' % new)
            self.assertTrue(os.path.exists(new))
            d.kill()
        finally:
            proc.wait(30)
        d.start()
        self.assertEqual(self.state(), before)
        self.assertFalse(os.path.exists(new))
        self.assertEqual(d.domstate('vcbig'), 'shut off')
        d.vsh('undefine', 'vcbig', '--remove-all-storage')
        self.assertFalse(os.path.exists(big))

    def test_60_domrename(self):
        d = self.d
        uuid = self.uuid('vcfull')
        out = d.vsh('domrename', 'vcfull', 'vcrenamed')[1]
        self.assertIn('Domain successfully renamed', out)
        self.assertEqual(self.uuid('vcrenamed'), uuid)
        self.assertNotIn('vcfull', self.state()[0])
        self.assertTrue(os.path.exists(d.path('etc', 'domains', 'vcrenamed.xml')))
        self.assertFalse(os.path.exists(d.path('etc', 'domains', 'vcfull.xml')))
        self.refused(['domrename', 'vcrenamed', 'vcorig'], 'already exists')
        seen = d.boots('vcrenamed')
        d.vsh('start', 'vcrenamed')
        d.wait_boot('vcrenamed', seen)
        self.assertEqual(d.domstate('vcrenamed'), 'running')
        self.destroy('vcrenamed')


if __name__ == '__main__':
    unittest.main(verbosity=2)
