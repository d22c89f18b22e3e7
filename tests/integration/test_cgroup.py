#!/usr/bin/env python3
"""Issue 15: each QEMU in a cgroup of its own, with <cputune>, <memtune>,
<blkiotune> and the daemon's pids limit applied.

Real kernel, real QEMU: the values are read back from the files of the
cgroup that /proc/PID/cgroup names for the running QEMU (cgroup v1
hierarchies on a hybrid host such as this project's machines, the v2 tree
elsewhere); the cgroup is gone once the domain is destroyed; a daemon
killed with SIGKILL and started again finds the QEMU in its cgroup and
removes an empty stale one; bad values are refused with the element named
and change nothing."""

import os
import stat

import harness
from harness import Daemon

PIDS_MAX = 512
MIB = 1024 * 1024


def mounts():
    """controller name ('cpu', 'memory', 'blkio', 'pids', or '' for the v2
    tree) -> (mount point, mount root)."""
    found = {}
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields = line.split()
            sep = fields.index('-')
            fstype, super_opts = fields[sep + 1], fields[sep + 3]
            if fstype == 'cgroup2':
                found.setdefault('', (fields[4], fields[3]))
            elif fstype == 'cgroup':
                for opt in super_opts.split(','):
                    found.setdefault(opt, (fields[4], fields[3]))
    return found


def cgroup_dirs(pid):
    """For QEMU @pid: {'cpu'|'memory'|'io'|'pids': (directory, is_v2)}."""
    table = mounts()
    dirs = {}
    with open('/proc/%d/cgroup' % pid) as f:
        lines = [line.rstrip('\n').split(':', 2) for line in f]
    for name, v1 in (('cpu', 'cpu'), ('memory', 'memory'), ('io', 'blkio'), ('pids', 'pids')):
        for hid, ctrls, path in lines:
            if v1 in ctrls.split(',') and v1 in table:
                mount, root = table[v1]
                v2 = False
                break
        else:
            if '' not in table:
                continue
            path = next(p for h, c, p in lines if h == '0' and not c)
            mount, root = table['']
            v2 = True
        below = path[len(root):] if root != '/' and path.startswith(root) else path
        dirs[name] = (mount + below, v2)
    return dirs


def read(directory, name):
    with open(os.path.join(directory, name)) as f:
        return f.read().strip()


def host_block_device():
    """A block device of this host (major:minor, path) for the throttles."""
    for dev in sorted(os.listdir('/sys/block')):
        if dev.startswith(('loop', 'zram', 'ram')):
            continue
        path = '/dev/' + dev
        if os.path.exists(path) and stat.S_ISBLK(os.stat(path).st_mode):
            rdev = os.stat(path).st_rdev
            return '%d:%d' % (os.major(rdev), os.minor(rdev)), path
    return None, None


TUNED = """
  <cputune><shares>2048</shares><period>100000</period><quota>50000</quota></cputune>
  <memtune>
    <hard_limit unit='MiB'>1024</hard_limit>
    <soft_limit unit='MiB'>768</soft_limit>
    <swap_hard_limit unit='MiB'>2048</swap_hard_limit>
  </memtune>
  <blkiotune><weight>800</weight>%s</blkiotune>
"""


class Cgroup(harness.VirtdTestCase):

    def tuned_xml(self, name):
        self.devnum, dev = host_block_device()
        device = ''
        if dev:
            device = ('<device><path>%s</path><read_bytes_sec>10485760</read_bytes_sec>'
                      '<write_iops_sec>200</write_iops_sec></device>' % dev)
        return harness.domain_xml(name, vcpus=2, extra_xml=TUNED % device)

    def assertLimits(self, dirs):
        cpu, v2 = dirs['cpu']
        if v2:
            self.assertEqual(read(cpu, 'cpu.weight'), '200')          # 2048 * 100 / 1024
            self.assertEqual(read(cpu, 'cpu.max'), '100000 100000')   # 50000 x 2 vCPUs
        else:
            self.assertEqual(read(cpu, 'cpu.shares'), '2048')
            self.assertEqual(read(cpu, 'cpu.cfs_period_us'), '100000')
            self.assertEqual(read(cpu, 'cpu.cfs_quota_us'), '100000')
        mem, v2 = dirs['memory']
        if v2:
            self.assertEqual(int(read(mem, 'memory.max')), 1024 * MIB)
            self.assertEqual(int(read(mem, 'memory.high')), 768 * MIB)
            self.assertEqual(int(read(mem, 'memory.swap.max')), 1024 * MIB)
        else:
            self.assertEqual(int(read(mem, 'memory.limit_in_bytes')), 1024 * MIB)
            self.assertEqual(int(read(mem, 'memory.soft_limit_in_bytes')), 768 * MIB)
            if os.path.exists(os.path.join(mem, 'memory.memsw.limit_in_bytes')):
                self.assertEqual(int(read(mem, 'memory.memsw.limit_in_bytes')), 2048 * MIB)
        io, v2 = dirs['io']
        if v2:
            weight = 'io.weight' if os.path.exists(os.path.join(io, 'io.weight')) \
                else 'io.bfq.weight'
            self.assertIn('default 160', read(io, weight))
            if self.devnum:
                self.assertIn('%s rbps=10485760' % self.devnum, read(io, 'io.max'))
        else:
            weight = 'blkio.weight' if os.path.exists(os.path.join(io, 'blkio.weight')) \
                else 'blkio.bfq.weight'
            self.assertIn('800', read(io, weight))
            if self.devnum:
                self.assertEqual(read(io, 'blkio.throttle.read_bps_device'),
                                 '%s 10485760' % self.devnum)
                self.assertEqual(read(io, 'blkio.throttle.write_iops_device'),
                                 '%s 200' % self.devnum)
        pids, _v2 = dirs['pids']
        self.assertEqual(read(pids, 'pids.max'), str(PIDS_MAX))

    def assertScope(self, dirs, name):
        for ctrl, (directory, _v2) in dirs.items():
            self.assertEqual(os.path.basename(directory), 'machine-virtd-%s.scope' % name, ctrl)
            parent = os.path.basename(os.path.dirname(directory))
            self.assertRegex(parent, r'^virtd-[0-9a-f]{8}\.slice$', ctrl)

    def test_limits_applied_then_removed(self):
        with Daemon(args=['--qemu-pids-max=%d' % PIDS_MAX]) as d:
            d.define('cg-tuned', self.tuned_xml('cg-tuned'))
            d.start_domain('cg-tuned')
            pid = d.qemu_pid('cg-tuned')
            dirs = cgroup_dirs(pid)
            self.assertEqual(sorted(dirs), ['cpu', 'io', 'memory', 'pids'])
            self.assertScope(dirs, 'cg\\x2dtuned')
            self.assertLimits(dirs)
            # Every thread of QEMU is inside (it joined before exec).
            procs = read(dirs['pids'][0], 'cgroup.procs').split()
            self.assertEqual(procs, [str(pid)])
            self.assertGreater(int(read(dirs['pids'][0], 'pids.current')), 2)

            d.vsh('destroy', 'cg-tuned')
            self.assertNoQemu(d)
            harness.wait_for(lambda: not any(os.path.exists(p) for p, _ in dirs.values()), 10,
                             what='the cgroup removed after destroy')

            # A domain without tunables still gets its cgroup and the pids limit.
            d.define('cg-plain')
            d.start_domain('cg-plain', wait_boot=False)
            plain = cgroup_dirs(d.qemu_pid('cg-plain'))
            self.assertEqual(read(plain['pids'][0], 'pids.max'), str(PIDS_MAX))
            if not plain['cpu'][1]:
                self.assertEqual(read(plain['cpu'][0], 'cpu.shares'), '1024')  # untouched
            # Destroyed just before the daemon stops: still removed.
            d.vsh('destroy', 'cg-plain')
            self.assertNoQemu(d)
        harness.wait_for(lambda: not any(os.path.exists(p) for p, _ in plain.values()),
                         10, what='the plain cgroup removed')
        # And the instance's partition with it (virtd-HASH.slice).
        for p, _v2 in plain.values():
            self.assertFalse(os.path.exists(os.path.dirname(p)), p)

    def test_daemon_killed_keeps_cgroup(self):
        with Daemon(args=['--qemu-pids-max=%d' % PIDS_MAX]) as d:
            d.define('cg-keep', self.tuned_xml('cg-keep'))
            d.start_domain('cg-keep', wait_boot=False)
            pid = d.qemu_pid('cg-keep')
            dirs = cgroup_dirs(pid)
            # A cgroup a killed daemon could leave behind (made, QEMU never in it).
            stale = [os.path.join(os.path.dirname(p), 'machine-virtd-gone.scope')
                     for p, _ in dirs.values()]
            for p in stale:
                os.makedirs(p, exist_ok=True)
            d.kill()
            self.assertTrue(harness.pid_alive(pid))
            self.assertEqual(cgroup_dirs(pid), dirs)
            d.start()
            self.assertEqual(d.qemu_pid('cg-keep'), pid)
            harness.wait_for(lambda: 'is in its cgroup' in d.daemon_log_tail(200), 10,
                             what='the restarted daemon finding the cgroup')
            self.assertLimits(dirs)
            harness.wait_for(lambda: not any(os.path.exists(p) for p in stale), 10,
                             what='the stale cgroup removed at restart')
            d.vsh('destroy', 'cg-keep')
            self.assertNoQemu(d)
            harness.wait_for(lambda: not any(os.path.exists(p) for p, _ in dirs.values()), 10,
                             what='the cgroup removed after destroy')

    def test_bad_values_refused(self):
        with Daemon() as d:
            good = harness.domain_xml('cg-bad', extra_xml=(
                "<cputune><shares>512</shares></cputune>"))
            d.define('cg-bad', good)
            bad_cases = [
                ("<cputune><shares>1</shares></cputune>",
                 '<cputune><shares> 1 is out of range: use 2 to 262144'),
                ("<memtune><hard_limit unit='MiB'>64</hard_limit></memtune>",
                 "<memtune><hard_limit> 65536 KiB is below the guest's <memory> 262144 KiB"),
                ("<blkiotune><weight>5</weight></blkiotune>",
                 '<blkiotune><weight> 5 is out of range: use 100 to 1000'),
            ]
            for extra, message in bad_cases:
                path = d.write_xml('cg-bad-new', harness.domain_xml('cg-bad', extra_xml=extra))
                _rc, _out, err = d.vsh_fail('define', path)
                self.assertIn(message, err)
            # Nothing changed: the definition is the good one.
            self.assertIn('<shares>512</shares>', d.vsh('dumpxml', 'cg-bad')[1])

            # Valid XML the host cannot apply: refused at start, nothing left.
            d.define('cg-nodev', harness.domain_xml('cg-nodev', extra_xml=(
                "<blkiotune><device><path>/etc/hostname</path>"
                "<read_bytes_sec>1000</read_bytes_sec></device></blkiotune>")))
            _rc, _out, err = d.vsh_fail('start', 'cg-nodev')
            self.assertIn("<blkiotune><device><path> '/etc/hostname' is not a block device", err)
            self.assertEqual(d.domstate('cg-nodev'), 'shut off')
            self.assertNoQemu(d)

            d.start_domain('cg-bad', wait_boot=False)
            dirs = cgroup_dirs(d.qemu_pid('cg-bad'))
            if not dirs['cpu'][1]:
                self.assertEqual(read(dirs['cpu'][0], 'cpu.shares'), '512')
            d.vsh('destroy', 'cg-bad')
            self.assertNoQemu(d)


if __name__ == '__main__':
    harness.main()
