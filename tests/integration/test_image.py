#!/usr/bin/env python3
"""`vsh image build debian-12`: a real Debian guest built without mounting
anything, then booted through the daemon both ways (SeaBIOS + GRUB from
the disk, and directly from the kernel and initrd written next to it),
logged into over the serial console. Also: Ctrl+C during a build leaves
nothing behind.

Needs root and Debian's mirror (mmdebstrap downloads ~150 MB); skipped
(77) without root or mmdebstrap. Slow: a build is 2-5 minutes, each TCG
boot to the login prompt about a minute; the timings are printed.
Set VIRTD_TEST_IMAGE_CACHE=DIR to reuse the installed packages between runs.
"""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import harness
from harness import Daemon

PASSWORD = 'virtd-test-pw'
HOSTNAME = 'imgtest'
SIZE = '2G'
GROWN_SIZE = '3G'           # the disk is enlarged before the first boot
LOGIN_TIMEOUT = 600 * harness.TIMEOUT_SCALE
BUILD_TIMEOUT = 1200 * harness.TIMEOUT_SCALE
EXTRA_PACKAGE = 'less'



def printed_install(build_output, boot_kernel):
    """argv (after 'vsh') of the `vsh install` line the build printed: the
    disk boot one, or the direct kernel boot one."""
    lines = [l.strip() for l in build_output.splitlines()
             if l.strip().startswith('vsh install ')]
    line = [l for l in lines if ('--boot ' in l) == boot_kernel]
    if len(line) != 1:
        raise AssertionError('no single printed install line in:\n%s' % build_output)
    return shlex.split(line[0])[1:]


def renamed(argv, name):
    argv = list(argv)
    argv[argv.index('--name') + 1] = name
    return argv


def vsh_env(tmpdir):
    return dict(os.environ, LC_ALL='C', TMPDIR=tmpdir,
                VSH_IMAGE_RECIPES=os.path.join(harness.SRCROOT, 'src', 'image'))


def make_tmpdir(prefix):
    """Under $VIRTD_TEST_TMPDIR when set (.ci/run sweeps processes that
    mention it), else /var/tmp: the root tree is about 1 GiB."""
    base = os.environ.get('VIRTD_TEST_TMPDIR') or '/var/tmp'
    os.makedirs(base, exist_ok=True)
    # The built image boots from here: QEMU's user (virtd-qemu) must search it.
    return harness.qemu_reachable(tempfile.mkdtemp(prefix=prefix, dir=base))


def cache_dir(tmp):
    """The developer's cache, else one for this run: the pool build reuses
    what the first build installed (and so tests the cache)."""
    return os.environ.get('VIRTD_TEST_IMAGE_CACHE') or os.path.join(tmp, 'cache')


class Image(harness.VirtdTestCase):
    timings = {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = make_tmpdir('virtd-image-test-')
        cls.image = os.path.join(cls.tmp, 'd12.qcow2')
        pwfile = os.path.join(cls.tmp, 'pw')
        with open(pwfile, 'w') as f:
            f.write(PASSWORD + '\n')
        argv = [harness.VSH_BIN, 'image', 'build', 'debian-12', '--size', SIZE,
                '--output', cls.image, '--hostname', HOSTNAME,
                '--root-password', 'file:' + pwfile,
                '--packages', EXTRA_PACKAGE, '--cache', cache_dir(cls.tmp)]
        t0 = time.monotonic()
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, env=vsh_env(cls.tmp),
                           timeout=BUILD_TIMEOUT)
        cls.timings['build'] = time.monotonic() - t0
        cls.build_output = r.stdout
        if r.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError('image build failed (%d):\n%s' % (r.returncode, r.stdout[-6000:]))
        # The first boot grows the root file system to the disk's size.
        subprocess.run(['qemu-img', 'resize', '-q', cls.image, GROWN_SIZE], check=True)

    @classmethod
    def tearDownClass(cls):
        sys.stderr.write('\nimage timings (s): %s\n' %
                         ', '.join('%s %.0f' % kv for kv in sorted(cls.timings.items())))
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_1_build_output(self):
        out = self.build_output
        for step in range(1, 8):
            self.assertRegex(out, r'\[%d/7, \d+(m\d\d)?s\] ' % step)
        self.assertIn("Image '%s' built in" % self.image, out)
        self.assertIn('vsh install --name d12 ', out)
        self.assertIn('--boot ', out)
        for suffix in ('', '.vmlinuz', '.initrd', '.cmdline'):
            self.assertTrue(os.path.isfile(self.image + suffix), suffix)
        left = [f for f in os.listdir(self.tmp) if f.endswith('.part') or
                f.startswith('vd-image-') or f.startswith('debian-12.')]
        self.assertEqual(left, [], 'left behind in %s' % self.tmp)
        info = subprocess.run(['qemu-img', 'info', self.image], stdout=subprocess.PIPE,
                              universal_newlines=True, check=True).stdout
        self.assertIn('file format: qcow2', info)

    def boot_and_check(self, d, name, start, label, agent):
        """start() defines and starts domain NAME; then the console is read
        until the login prompt and the guest is checked from inside."""
        t0 = time.monotonic()
        start()
        d.wait_console(name, 'login:', timeout=LOGIN_TIMEOUT)
        self.timings['login_' + label] = time.monotonic() - t0
        with d.console(name) as c:
            c.type_line('')
            c.read_until('login:', timeout=60)
            start = len(c.buf)
            c.type_line('root')
            c.read_until('Password:', timeout=60, start=start)
            c.type_line(PASSWORD)
            # Only at the prompt: login discards what was typed ahead.
            c.read_until('root@%s:~# ' % HOSTNAME, timeout=60, start=start)
            start = len(c.buf)
            # DHCP may finish just after the prompt: wait for the address.
            c.type_line('for i in $(seq 60); do ip -4 -o addr | grep -q 10.0.2.15 && break; '
                        'sleep 1; done; echo "R""ES" $(cat /etc/machine-id) $(hostname) '
                        '$(systemctl is-active qemu-guest-agent) $(ip -4 -o addr | '
                        'grep -c 10.0.2.15) $(findmnt -n -b -o SIZE /) '
                        '$(command -v %s) $(systemctl is-system-running --wait) "E""ND"' % EXTRA_PACKAGE)
            # The typed line echoes as "E""ND": only the output has ' END'.
            c.read_until(' END', timeout=180, start=start)
            text = c.buf[start:].decode('utf-8', 'replace')
            m = re.search(r'RES (\S+) (\S+) (\S+) (\d+) (\d+) (\S+) (\S+) END', text)
            self.assertIsNotNone(m, 'no result line in:\n%s' % text)
            machine_id, hostname, agent_state, addrs, root_size, extra, running = m.groups()
            self.assertRegex(machine_id, r'^[0-9a-f]{32}$')
            with open('/etc/machine-id') as f:
                self.assertNotEqual(machine_id, f.read().strip(), 'the host\'s machine id')
            self.assertEqual(hostname, HOSTNAME)
            self.assertEqual(agent_state, agent)
            self.assertEqual(addrs, '1', 'no DHCP address 10.0.2.15')
            # Grown from 2G to about 3G on the first boot.
            self.assertGreater(int(root_size), 2800 * 1024 * 1024, 'root not grown')
            self.assertTrue(extra.endswith('/' + EXTRA_PACKAGE), extra)
            self.assertEqual(running, 'running', 'a unit failed: systemctl --failed tells which')
            c.detach()
        if agent == 'active':
            self.check_agent_addresses(d, name)
        return machine_id

    def check_agent_addresses(self, d, name):
        """`domifaddr --source agent`'s API: the guest's own view through
        qemu-guest-agent shows the NIC (the domain's MAC) with the address
        user-mode networking's DHCP gave it, and no loopback."""
        nics = d.api_json('GET', '/v1/domains/%s/interfaces' % name)['interfaces']
        self.assertEqual(len(nics), 1, nics)
        mac = nics[0]['mac'].lower()
        self.assertEqual(d.api_json('GET', '/v1/domains/%s/agent/ping' % name), {'ok': True})
        t0 = time.monotonic()
        got = d.api_json('GET', '/v1/domains/%s/interfaces/addresses?source=agent' % name)
        self.timings['agent_addresses'] = time.monotonic() - t0
        ifaces = got['interfaces']
        self.assertNotIn('lo', [i['name'] for i in ifaces])
        mine = [i for i in ifaces if i['mac'] == mac]
        self.assertEqual(len(mine), 1, 'no single interface with MAC %s in %s' % (mac, ifaces))
        self.assertRegex(mine[0]['name'], r'^(eth|en)\w+$')
        self.assertIn({'type': 'ipv4', 'addr': '10.0.2.15', 'prefix': 24}, mine[0]['addrs'])
        # The same through vsh, in virsh's table.
        out = d.vsh('domifaddr', name, '--source', 'agent')[1]
        self.assertRegex(out, r'(?m)^ %s\s+%s\s+ipv4\s+10\.0\.2\.15/24$'
                         % (re.escape(mine[0]['name']), re.escape(mac)))

    def test_2_boot_both_ways(self):
        """Both `vsh install` lines the build printed work: from the disk
        (SeaBIOS, GRUB), then from the kernel written next to it."""
        disk_argv = printed_install(self.build_output, boot_kernel=False)
        kernel_argv = renamed(printed_install(self.build_output, boot_kernel=True), 'd12k')
        with Daemon() as d:
            def start_disk():
                d.vsh(*(disk_argv + ['--noautoconsole']), timeout=120)

            def start_kernel():
                xml = d.vsh(*(kernel_argv + ['--print-xml']))[1]
                self.assertIn('<kernel>%s.vmlinuz</kernel>' % self.image, xml)
                d.vsh(*(kernel_argv + ['--noautoconsole']), timeout=120)

            # vsh install gives every guest the agent's channel.
            first = self.boot_and_check(d, 'd12', start_disk, 'grub', agent='active')
            d.vsh('shutdown', 'd12')
            d.wait_state('d12', 'shut off', timeout=180 * harness.TIMEOUT_SCALE)
            # The machine id made on the first boot was committed to the disk.
            second = self.boot_and_check(d, 'd12k', start_kernel, 'direct_kernel',
                                         agent='active')
            self.assertEqual(first, second)
            d.vsh('destroy', 'd12k')

    def test_3_pool_build(self):
        """--pool/--name: the image lands in the pool's directory and is
        listed at once; raw this time, from the cache."""
        with Daemon() as d:
            _rc, out, _err = d.vsh('pool-dumpxml', 'default')
            target = re.search(r'<path>([^<]+)</path>', out).group(1)
            t0 = time.monotonic()
            _rc, out, err = d.vsh('image', 'build', 'debian-12', '--pool', 'default',
                                  '--name', 'p1.raw', '--format', 'raw', '--size', '1G',
                                  '--packages', EXTRA_PACKAGE, '--cache', cache_dir(self.tmp),
                                  env=vsh_env(self.tmp), timeout=BUILD_TIMEOUT)
            self.timings['build_cached'] = time.monotonic() - t0
            self.assertIn('Unpacking the cached root file system', out)
            self.assertIn('root: no password', out)
            self.assertIn('root has no password', err)
            image = os.path.join(target, 'p1.raw')
            self.assertIn("Image '%s' built" % image, out)
            self.assertRegex(d.vsh('vol-list', 'default')[1], r'\bp1\.raw\s+%s' % re.escape(image))
            with open(image, 'rb') as f:
                mbr = f.read(512)
            self.assertEqual(mbr[510:], b'\x55\xaa')
            self.assertIn(b'GRUB', mbr[:440])
            self.assertEqual(os.path.getsize(image), 1 << 30)
            # An existing image is refused, naming the fix.
            rc, _out, err = d.vsh('image', 'build', 'debian-12', '--pool', 'default',
                                  '--name', 'p1.raw', env=vsh_env(self.tmp), check=False)
            self.assertEqual(rc, 5, err)
            self.assertIn('--force', err)

    def test_4_interrupt_leaves_nothing(self):
        tmp = make_tmpdir('virtd-image-int-')
        try:
            out = os.path.join(tmp, 'x.qcow2')
            p = subprocess.Popen([harness.VSH_BIN, 'image', 'build', 'debian-12', '--size', '1G',
                                  '--output', out], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, universal_newlines=True,
                                 env=vsh_env(tmp))
            seen = ''
            for line in p.stdout:
                seen += line
                if '[2/7' in line:
                    break
            time.sleep(3)
            p.send_signal(signal.SIGINT)
            rest, _ = p.communicate(timeout=120)
            seen += rest
            self.assertNotEqual(p.returncode, 0, seen)
            self.assertIn('interrupted during step 2/7', seen)
            self.assertEqual(os.listdir(tmp), [], seen)
            self.assertEqual(harness.processes_mentioning(tmp), [])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    if os.geteuid() != 0 or not shutil.which('mmdebstrap'):
        sys.stderr.write('test_image: needs root and mmdebstrap (scripts/deps.sh)\n')
        sys.exit(77)
    harness.main()
