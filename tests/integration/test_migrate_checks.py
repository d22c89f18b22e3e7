#!/usr/bin/env python3
"""Every refusal before a migration moves anything (issue 13 section 5;
src/daemon/migration/migration-check*.c, docs/migration-checks.md).

Two hosts on one machine (migrate_lab.py: two daemons, each in a network
namespace of its own, shared storage in one directory). Host A runs small
counter guests (no NIC unless the case needs one); each case asks `vsh
migrate` for a migration to host B (or to A itself) that must be refused,
asserts the message (virsh's or libvirt's words, the thing and the fix),
then that nothing changed on either host: `list --all` of both, A's
definitions, no migration record, no file made under B's root nor in the
shared storage, and the guest still running on A with its counter going
on in the same boot.

What each case needs that the other host lacks:
- a disk path: a directory of A's that B's daemon sees empty (a tmpfs
  mounted over it in B's mount namespace, nsenter);
- a network: defined and started on A only;
- a bridge: made in A's namespace only;
- the CPU: B's daemon reads its host CPU from a copy of /proc/cpuinfo with
  another model and a flag removed ($VIRTD_TEST_CPUINFO);
- the machine type: last, B's daemon restarted with its probed QEMU
  capabilities edited as a QEMU 7.1 would report them (no pc-*-7.2 machine
  types): this machine has one QEMU, so the fixture stands for an older
  one; nothing runs on it.
The unsafe cache and the different CPU are then migrated with --unsafe:
accepted, the guest goes on running on B in the same boot.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import migrate_lab  # noqa: E402
from harness import domain_xml, wait_for  # noqa: E402

SCALE = harness.TIMEOUT_SCALE
COUNTER_RE = migrate_lab.COUNTER_RE
GUEST_MIB = 128
UUID_G1 = '6c1e3f2a-9b7d-4c55-8e21-3a4b5c6d7e01'
CPU_FLAG_REMOVED = 'sse2'  # every x86-64 CPU has it: surely on the source


def fake_cpuinfo(text):
    """/proc/cpuinfo of another CPU: model and model name changed, a flag
    removed, on every processor."""
    out = []
    for line in text.splitlines():
        key = line.split(':', 1)[0].strip()
        if key == 'model':
            line = 'model\t\t: 250'
        elif key == 'model name':
            line = 'model name\t: Other CPU of the test'
        elif key == 'flags':
            k, v = line.split(':', 1)
            line = k + ': ' + ' '.join(f for f in v.split() if f != CPU_FLAG_REMOVED)
        out.append(line)
    return '\n'.join(out) + '\n'


class MigrateChecks(migrate_lab.LabCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='virtd-migchk-')
        cls.lab = None
        try:
            cls._setup()
        except BaseException:
            cls._teardown()
            raise

    @classmethod
    def _setup(cls):
        with open('/proc/cpuinfo') as f:
            real = f.read()
        cls.cpuinfo = os.path.join(cls.tmp, 'cpuinfo')
        with open(cls.cpuinfo, 'w') as f:
            f.write(fake_cpuinfo(real))
        cls.lab = lab = migrate_lab.MigrateLab(
            storage='shared', env_b={'VIRTD_TEST_CPUINFO': cls.cpuinfo}).__enter__()
        cls.a, cls.b = lab.a, lab.b

        # A directory of A's that B does not see (its own mount namespace:
        # `ip netns exec` made one).
        cls.only_a = os.path.join(lab.base, 'onlyA')
        os.makedirs(cls.only_a)
        subprocess.run(['nsenter', '-t', str(cls.b.proc.pid), '-m', 'mount', '-t', 'tmpfs',
                        '-o', 'size=1m', 'vdtmigchk', cls.only_a], check=True)
        probe = os.path.join(cls.only_a, 'probe')
        open(probe, 'w').close()
        seen = subprocess.run(['nsenter', '-t', str(cls.b.proc.pid), '-m', 'ls', cls.only_a],
                              stdout=subprocess.PIPE, universal_newlines=True, check=True)
        assert seen.stdout.strip() == '', 'B still sees %s: %r' % (cls.only_a, seen.stdout)
        os.unlink(probe)

        # A bridge and a network on A only.
        lab.net.ns_run(lab.ns_a, ['ip', 'link', 'add', 'ckbr', 'type', 'bridge'])
        lab.net.ns_run(lab.ns_a, ['ip', 'link', 'set', 'ckbr', 'up'])
        net = cls.a.write_file('cknet.xml', "<network><name>cknet</name>"
                                            "<bridge name='ckvbr0'/></network>")
        cls.a.vsh('net-define', net)
        cls.a.vsh('net-start', 'cknet')

        disk_only_a = os.path.join(cls.only_a, 'gdisk.qcow2')
        disk_shared = os.path.join(lab.pool_a, 'gcache.qcow2')
        for p in (disk_only_a, disk_shared):
            subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', p, '16M'], check=True)

        def disk(path, cache):
            return ("    <disk type='file' device='disk'>"
                    "<driver name='qemu' type='qcow2' cache='%s'/>"
                    "<source file='%s'/><target dev='vda' bus='virtio'/></disk>" % (cache, path))
        cls.guests = {
            'g1': dict(uuid=UUID_G1),
            'gdisk': dict(extra_devices=disk(disk_only_a, 'none')),
            'gcache': dict(extra_devices=disk(disk_shared, 'writeback')),
            'gnet': dict(extra_devices="    <interface type='network'><source network='cknet'/>"
                                       "<model type='virtio'/></interface>"),
            'gbr': dict(extra_devices="    <interface type='bridge'><source bridge='ckbr'/>"
                                      "<model type='virtio'/></interface>"),
            'gcpu': dict(extra_xml="  <cpu mode='host-passthrough'/>"),
            'gmach': dict(machine='pc-i440fx-7.2'),
        }
        cls.boot = {}
        for name, kw in cls.guests.items():
            cls.a.define(name, domain_xml(name, memory_mib=GUEST_MIB,
                                          live_copy=True, **kw))
            cls.a.start_domain(name, wait_boot=False)
        cls.a.define('goff', domain_xml('goff', memory_mib=GUEST_MIB))
        for name in cls.guests:
            cls.boot[name] = cls.a.wait_boot(name)

    @classmethod
    def _teardown(cls):
        if cls.lab is not None:
            cls.lab.close()
            left = cls.lab.leftovers()
        else:
            left = []
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if left:
            raise AssertionError('the lab left: %s' % left)

    @classmethod
    def tearDownClass(cls):
        cls._teardown()

    # ---- helpers

    def files(self, *roots):
        out = set()
        for root in roots:
            for dirpath, _dirs, names in os.walk(root):
                for n in names:
                    out.add(os.path.join(dirpath, n))
        return out

    def snapshot(self):
        a, b = self.a, self.b
        defs = {}
        for row in harness.parse_list(a.vsh('list', '--all')[1]):
            defs[row[1]] = a.vsh('dumpxml', '--inactive', row[1])[1]
        return {
            'list a': a.vsh('list', '--all')[1],
            'list b': b.vsh('list', '--all')[1],
            'definitions a': defs,
            'records': (self.lab.records(a), self.lab.records(b)),
            'files b': self.files(self.lab.root_b, self.lab.pool_b),
        }

    def last_counter(self, d, name):
        c = COUNTER_RE.findall(d.console_text(name))
        return (int(c[-1][0]), c[-1][1]) if c else None

    def assert_goes_on(self, d, name, boot):
        """The guest runs on @d in boot @boot, its counter going up."""
        self.assertListed(d, name, 'running')
        start = self.last_counter(d, name)
        wait_for(lambda: (self.last_counter(d, name) or (0, ''))[0] > (start or (0, ''))[0],
                 15 * SCALE, what=lambda: 'the counter of %s to go on (at %s)' % (name, start))
        self.assertEqual(self.last_counter(d, name)[1], boot, 'boot id of %s' % name)

    def refused(self, name, dest, *flags, words=()):
        """`vsh migrate FLAGS NAME DEST` on A refused with @words; nothing
        changed; the guest (if running) goes on. Returns the message."""
        before = self.snapshot()
        rc, out, err = self.a.vsh('migrate', *flags, name, dest, check=False, timeout=60)
        self.assertNotEqual(rc, 0, 'migrate %s %s was not refused: %r %r' % (flags, name, out,
                                                                              err))
        for w in words:
            self.assertIn(w, err, 'refusal of %s %s' % (name, flags))
        after = self.snapshot()
        # Files: none made on B nor in the shared storage, none gone. B's
        # kernel cache (an uncompressed copy of a defined domain's kernel,
        # made and evicted in the background) is B's own business.
        files_after, files_before = after.pop('files b'), before.pop('files b')
        made = {f for f in files_after - files_before if '/cache/kernels/' not in f}
        gone = {f for f in files_before - files_after if '/cache/kernels/' not in f}
        self.assertEqual(made, set(), 'files made after the refusal: %s' % err)
        self.assertEqual(gone, set(), 'files gone after the refusal: %s' % err)
        self.assertEqual(after, before, 'something changed after the refusal: %s' % err)
        if name in self.boot:
            self.assert_goes_on(self.a, name, self.boot[name])
        return err

    # ---- the cases (unittest runs them in name order)

    def test_01_same_daemon(self):
        self.refused('g1', self.lab.uri_a, '--live', words=(
            'Attempt to migrate guest to the same host', 'same daemon'))

    def test_02_name_exists_on_dest(self):
        self.b.define('g1', domain_xml('g1', memory_mib=GUEST_MIB))
        try:
            self.refused('g1', self.lab.uri_b, '--live', words=(
                "operation failed: domain 'g1' already exists with uuid", '--dname'))
        finally:
            self.b.vsh('undefine', 'g1')

    def test_03_uuid_exists_on_dest(self):
        self.b.define('other', domain_xml('other', memory_mib=GUEST_MIB, uuid=UUID_G1))
        try:
            self.refused('g1', self.lab.uri_b, '--live', words=(
                "domain 'other' is already defined with uuid %s" % UUID_G1,
                "undefine 'other' there first"))
        finally:
            self.b.vsh('undefine', 'other')

    def test_04_disk_missing_on_dest(self):
        self.refused('gdisk', self.lab.uri_b, '--live', words=(
            "disk vda of domain 'gdisk'", 'does not exist on the destination',
            'use --copy-storage-all, or shared storage'))

    def test_05_unsafe_cache(self):
        self.refused('gcache', self.lab.uri_b, '--live', words=(
            'Unsafe migration: Migration may lead to data corruption if disks use cache other '
            'than none or directsync', "cache 'writeback'", '--unsafe'))

    def test_06_network_missing_on_dest(self):
        self.refused('gnet', self.lab.uri_b, '--live', words=(
            "no network with matching name 'cknet' on the destination", 'net-define'))

    def test_07_bridge_missing_on_dest(self):
        self.refused('gbr', self.lab.uri_b, '--live', words=(
            "bridge 'ckbr' does not exist on the destination", 'ip link add ckbr type bridge'))

    def test_08_cpu_differs(self):
        self.refused('gcpu', self.lab.uri_b, '--live', words=(
            "domain 'gcpu' has <cpu mode='host-passthrough'>", 'Other CPU of the test',
            'this host lacks CPU flags %s' % CPU_FLAG_REMOVED, '--unsafe'))

    def test_09_offline_without_persistent(self):
        self.refused('g1', self.lab.uri_b, '--offline', words=(
            'offline migration must be specified with the persistent flag set',))

    def test_10_shut_off_without_offline(self):
        self.refused('goff', self.lab.uri_b, words=(
            'Requested operation is not valid', 'not running', '--offline --persistent'))

    def test_10b_xml_other_machine(self):
        """--xml must describe the same guest: another machine type is not."""
        xml = self.a.vsh('dumpxml', 'g1')[1]
        edited = re.sub(r"machine='[^']*'", "machine='q35'", xml, count=1)
        self.assertNotEqual(edited, xml)
        path = self.a.write_file('g1-q35.xml', edited)
        self.refused('g1', self.lab.uri_b, '--live', '--xml', path, words=(
            'Target domain machine type q35 does not match source',
            '--xml may change host-side details only'))

    def test_10c_postcopy_into_unprivileged_qemu(self):
        """B's QEMU runs as virtd-qemu (the default): on a host that gives
        it no userfaultfd (Debian 12: vm.unprivileged_userfaultfd = 0, QEMU
        7.2 does not use /dev/userfaultfd) post-copy is refused before
        anything moves, naming the cause and the fixes; g1 goes on on A."""
        with open('/proc/sys/vm/unprivileged_userfaultfd') as f:
            sysctl = int(f.read())
        version = subprocess.run(['qemu-system-x86_64', '--version'], stdout=subprocess.PIPE,
                                 universal_newlines=True, check=True).stdout
        major, minor = map(int, re.search(r'version (\d+)\.(\d+)', version).groups())
        if sysctl == 1 or (major, minor) >= (8, 1):
            self.skipTest('this host gives an unprivileged QEMU a userfaultfd')
        words = ("post-copy migration of domain 'g1' needs a userfaultfd",
                 "unprivileged user 'virtd-qemu'", 'vm.unprivileged_userfaultfd is 0',
                 'sysctl vm.unprivileged_userfaultfd=1', 'virtd --qemu-user root',
                 'without --postcopy')
        self.refused('g1', self.lab.uri_b, '--live', '--postcopy', words=words)
        self.refused('g1', self.lab.uri_b, '--live', '--postcopy', '--timeout', '5',
                     '--timeout-postcopy', words=words)

    def test_11_unsafe_accepted(self):
        """--unsafe lets the unsafe cache and the other CPU through: the
        guests run on B, same boot."""
        for name in ('gcache', 'gcpu'):
            rc, out, err = self.a.vsh('migrate', '--live', '--unsafe', name, self.lab.uri_b,
                                      check=False, timeout=120)
            self.assertEqual(rc, 0, 'migrate --unsafe %s: %r %r' % (name, out, err))
            wait_for(lambda: self.lab.states(name) == {'a': 'shut off', 'b': 'running'}
                     or self.lab.states(name) == {'a': None, 'b': 'running'},
                     30 * SCALE, what=lambda: '%s to run on B only (%s)'
                     % (name, self.lab.states(name)))
            self.assert_goes_on(self.b, name, self.boot[name])
            self.assertEqual(self.lab.records(self.a), [])
            self.assertEqual(self.lab.records(self.b), [])

    def test_12_machine_type_unknown_on_dest(self):
        """B's QEMU capabilities as a QEMU 7.1 reports them (fixture)."""
        lab, b = self.lab, self.b
        b.stop()
        cache_dir = os.path.join(lab.root_b, 'cache')
        caches = [os.path.join(cache_dir, n) for n in os.listdir(cache_dir)
                  if n.startswith('qemu-caps-') and n.endswith('.json')]
        self.assertEqual(len(caches), 1, caches)
        with open(caches[0]) as f:
            caps = json.load(f)
        caps['machines'] = [m for m in caps['machines'] if not re.search(r'-7\.2$', m)]
        caps['version'] = [7, 1, 0]
        with open(caches[0], 'w') as f:
            json.dump(caps, f)
        # B's tmpfs over onlyA went with its mount namespace: no case below needs it.
        lab.restart_daemon(b)
        try:
            err = self.refused('gmach', lab.uri_b, '--live', words=(
                "machine type 'pc-i440fx-7.2' of domain 'gmach' is not supported by QEMU",
                'on the destination', 'a destination whose QEMU is 7.2 or newer'))
            self.assertIn('QEMU 7.1 on the destination', err)
        finally:
            b.stop()
            os.unlink(caches[0])  # probed again at the next start
            lab.restart_daemon(b)


if __name__ == '__main__':
    harness.main()
