#!/usr/bin/env python3
"""The Debian package on a clean Debian 12 (issue 15): scripts/build-deb.sh
makes dist/virtd_VERSION_ARCH.deb; mmdebstrap makes a minimal bookworm root
(cached as a tarball next to the build); apt installs the package there,
resolving its dependencies from Debian's mirror (downloaded packages
cached too). Then, in that root (chroot, with /proc, /sys and /dev
mounted), the daemon runs as virtd.service starts it (its ExecStart line,
the config file of the package's place, NOTIFY_SOCKET), vsh answers over
the installed socket path, and the test guest boots from the installed
daemon to its READY line. systemd-analyze verify checks the unit.

Build directory: $VIRTD_DEB_BUILD_DIR, else the tests' own build when it is
configured as a package's (prefix /usr, sysconfdir /etc, localstatedir
/var: no second build), else build-deb/ (a build of its own, made once).
Cache: $VIRTD_PACKAGE_CACHE, default BUILD/package-cache (the root's
tarball, apt's downloaded .debs). Everything mounted and every process of
the root is undone at the end, passed or failed."""

import glob
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.request

import harness

SRC = harness.SRCROOT
BUILD = os.path.dirname(os.path.dirname(os.path.dirname(harness.VIRTD_BIN)))
CACHE = os.environ.get('VIRTD_PACKAGE_CACHE') or os.path.join(BUILD, 'package-cache')
# Bumped when the root's recipe below changes (the tarball's name).
ROOT_RECIPE = 'bookworm-minbase-1'
NOTIFY = '/run/virtd-test-notify'


def run(argv, timeout=600, **kw):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=timeout, **kw)
    if r.returncode != 0:
        raise AssertionError('%s: exit %d\n%s' % (' '.join(argv), r.returncode, r.stdout[-4000:]))
    return r.stdout


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def deb_build_dir():
    if os.environ.get('VIRTD_DEB_BUILD_DIR'):
        return os.environ['VIRTD_DEB_BUILD_DIR']
    try:
        opts = {o['name']: o['value'] for o in json.loads(
            run(['meson', 'introspect', BUILD, '--buildoptions']))}
        if (opts['prefix'], opts['sysconfdir'], opts['localstatedir']) == ('/usr', '/etc', '/var'):
            return BUILD
    except (AssertionError, KeyError, ValueError):
        pass
    return os.path.join(SRC, 'build-deb')


def root_tarball():
    """A minimal Debian 12 root (mmdebstrap, minbase), made once and kept.
    apt's lists stay in it, so that apt-get update is quick later."""
    tarball = os.path.join(CACHE, 'debian-12-%s.tar' % ROOT_RECIPE)
    if not os.path.exists(tarball):
        os.makedirs(CACHE, exist_ok=True)
        part = tarball + '.part'
        run(['mmdebstrap', '--mode=unshare', '--variant=minbase', '--format=tar',
             '--skip=cleanup/apt/lists', 'bookworm', part,
             'http://deb.debian.org/debian'], timeout=900)
        os.rename(part, tarball)
    return tarball


class _RootCleanup:
    """In the harness's list of what to undo on a signal (meson's timeout)
    or at exit: the root's processes and mounts."""
    root = None

    def cleanup(self, failed=False, quick=False):
        Package._clean_up()


class Package(harness.VirtdTestCase):
    root = None
    mounts = []
    daemon = None
    times = {}

    @classmethod
    def setUpClass(cls):
        harness._live_daemons.append(_RootCleanup())
        try:
            cls._set_up()
        except BaseException:
            cls._clean_up()
            raise

    @classmethod
    def _set_up(cls):
        t = time.monotonic()
        out = run([os.path.join(SRC, 'scripts', 'build-deb.sh'), deb_build_dir()], timeout=3600)
        cls.deb = out.strip().splitlines()[-1]
        cls.times['build-deb'] = time.monotonic() - t

        t = time.monotonic()
        tarball = root_tarball()
        base = os.environ.get('VIRTD_TEST_TMPDIR') or '/tmp'
        cls.root = tempfile.mkdtemp(prefix='vdpkg-', dir=base)
        _RootCleanup.root = cls.root
        run(['tar', '-C', cls.root, '--numeric-owner', '-xpf', tarball])
        cls.times['root'] = time.monotonic() - t

        # What a booted system has; --make-rslave: an unmount in the root
        # never reaches the host's /dev.
        for fs, args in (('proc', ['-t', 'proc', 'proc']), ('sys', ['--rbind', '/sys']),
                         ('dev', ['--rbind', '/dev'])):
            target = os.path.join(cls.root, fs)
            run(['mount'] + args + [target])
            cls.mounts.append(target)
            if fs != 'proc':
                run(['mount', '--make-rslave', target])
        archives = os.path.join(CACHE, 'apt-archives')
        os.makedirs(os.path.join(archives, 'partial'), exist_ok=True)
        target = os.path.join(cls.root, 'var/cache/apt/archives')
        run(['mount', '--bind', archives, target])
        cls.mounts.append(target)
        shutil.copy('/etc/resolv.conf', os.path.join(cls.root, 'etc/resolv.conf'))

        t = time.monotonic()
        shutil.copy(cls.deb, os.path.join(cls.root, 'tmp'))
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        cls.chroot(['apt-get', 'update', '-q'], env=env)
        cls.apt_log = cls.chroot(['apt-get', 'install', '-y', '-q', '--no-install-recommends',
                                  '/tmp/' + os.path.basename(cls.deb)], env=env, timeout=900)
        cls.times['apt install'] = time.monotonic() - t

    @classmethod
    def chroot(cls, argv, **kw):
        return run(['chroot', cls.root] + argv, **kw)

    @classmethod
    def _clean_up(cls):
        if cls.root:
            # Every process whose root is the test's: the daemon, QEMU.
            for _ in range(50):
                pids = []
                for p in glob.glob('/proc/[0-9]*'):
                    try:
                        if os.readlink(p + '/root') == cls.root:
                            pids.append(int(os.path.basename(p)))
                    except OSError:
                        pass
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.1)
        for target in reversed(cls.mounts):
            if subprocess.run(['umount', '-R', target]).returncode != 0:
                subprocess.run(['umount', '-R', '-l', target])
        cls.mounts = []
        if cls.root:
            with open('/proc/self/mountinfo') as f:
                still = [l for l in f if cls.root in l]
            if still:
                raise AssertionError('still mounted under %s:\n%s' % (cls.root, ''.join(still)))
            shutil.rmtree(cls.root, ignore_errors=True)
            cls.root = None

    @classmethod
    def tearDownClass(cls):
        if cls.daemon and cls.daemon.poll() is None:
            cls.daemon.kill()
            cls.daemon.wait()
        cls._clean_up()
        for step, secs in cls.times.items():
            print('test_package: %s: %.1f s' % (step, secs))

    def path(self, p):
        return os.path.join(self.root, p.lstrip('/'))

    def test_1_installed(self):
        """Every file in its place, the dependencies installed by apt, the
        user made and the service enabled by postinst."""
        for p in ('/usr/sbin/virtd', '/usr/bin/vsh', '/usr/libexec/virtd/virtd-install-media',
                  '/usr/libexec/virtd/image/debian-12.sh', '/usr/share/virtd/web/index.html',
                  '/usr/lib/systemd/system/virtd.service', '/etc/virtd/virtd.conf',
                  '/etc/pam.d/virtd', '/usr/share/man/man8/virtd.8.gz',
                  '/usr/share/man/man1/vsh.1.gz',
                  '/usr/share/bash-completion/completions/vsh'):
            self.assertTrue(os.path.exists(self.path(p)), p)
        self.assertIn('qemu-system-x86', self.apt_log)
        status = self.chroot(['dpkg-query', '-W', '-f', '${Status} ${Depends}\n', 'virtd',
                              'qemu-system-x86', 'dnsmasq-base', 'libsoup-3.0-0'])
        self.assertEqual(status.count('install ok installed'), 4, status)
        self.assertIn('libglib2.0-0 (>=', status)
        conffiles = self.chroot(['dpkg-query', '-W', '-f', '${Conffiles}\n', 'virtd'])
        self.assertIn('/etc/virtd/virtd.conf', conffiles)
        self.assertIn('virtd-qemu', self.chroot(['getent', 'passwd', 'virtd-qemu']))
        self.assertTrue(os.path.islink(
            self.path('/etc/systemd/system/multi-user.target.wants/virtd.service')))
        # The installed example loads as it is (everything commented out).
        self.chroot(['virtd', '--config', '/etc/virtd/virtd.conf', '--version'])
        man = self.chroot(['sh', '-c', 'zcat /usr/share/man/man8/virtd.8.gz'])
        self.assertIn('\\-\\-socket\\-group', man)

    def test_2_unit_verifies(self):
        if not shutil.which('systemd-analyze'):
            self.skipTest('systemd-analyze is not installed')
        unit = self.path('/usr/lib/systemd/system/virtd.service')
        r = subprocess.run(['systemd-analyze', 'verify', '--root=' + self.root,
                            '/usr/lib/systemd/system/virtd.service'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        # Its Documentation= check runs the host's man, which has not the
        # root's pages (test_1 finds them in the root).
        complaints = [l for l in r.stdout.splitlines()
                      if 'virtd.service' in l and "Command 'man " not in l]
        self.assertEqual(complaints, [], r.stdout)
        with open(unit) as f:
            text = f.read()
        for line in ('Type=notify', 'KillMode=process', 'ExecStart=/usr/sbin/virtd'):
            self.assertIn('\n' + line + '\n', text)

    def test_3_service_serves_and_boots(self):
        """The daemon as the unit starts it: READY=1 once the installed
        socket answers; vsh over it; the test guest boots; STOPPING=1."""
        with open(self.path('/usr/lib/systemd/system/virtd.service')) as f:
            exec_start = [l.split('=', 1)[1].split() for l in f
                          if l.startswith('ExecStart=')][0]
        # The package's config file, as an administrator would edit it: no
        # NAT network on the test host, no DNS query off the machine; the
        # web console (its files from the installed share/virtd/web, TLS
        # through glib-networking) with a certificate made here.
        web_port = free_port()
        run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
             '-subj', '/CN=localhost', '-keyout', self.path('/etc/virtd/web-key.pem'),
             '-out', self.path('/etc/virtd/web-cert.pem')])
        os.chmod(self.path('/etc/virtd/web-key.pem'), 0o600)
        with open(self.path('/etc/virtd/virtd.conf'), 'a') as f:
            f.write('no-default-network = true\ndns-forward = none\n'
                    'web = 127.0.0.1:%d\nweb-cert = /etc/virtd/web-cert.pem\n'
                    'web-key = /etc/virtd/web-key.pem\n' % web_port)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(self.path(NOTIFY))
        notify.settimeout(60)
        env = dict(os.environ, NOTIFY_SOCKET=NOTIFY)
        t = time.monotonic()
        daemon_log = self.path('/var/log/virtd-test-daemon.log')
        with open(daemon_log, 'w') as log_file:
            type(self).daemon = subprocess.Popen(['chroot', self.root] + exec_start, env=env,
                                                 stdout=log_file, stderr=log_file)
        msg = notify.recv(4096).decode()
        self.times['daemon READY=1'] = time.monotonic() - t
        self.assertIn('READY=1', msg.split('\n'))
        self.assertTrue(os.path.exists(self.path('/run/virtd/virtd.sock')))

        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen('https://127.0.0.1:%d/' % web_port, context=insecure,
                                    timeout=30) as r:
            page = r.read()
        with open(self.path('/usr/share/virtd/web/index.html'), 'rb') as f:
            self.assertEqual(page, f.read())

        version = os.path.basename(self.deb).split('_')[1]
        self.assertIn(version, self.chroot(['vsh', 'version']))
        self.assertIn('Name', self.chroot(['vsh', 'list', '--all']))

        guest = self.path('/srv/test-guest')
        os.makedirs(guest, exist_ok=True)
        os.chmod(guest, 0o755)
        kernel = harness.guest_kernel()
        for f in (kernel, harness.guest_initrd()):
            shutil.copy(f, guest)
            os.chmod(os.path.join(guest, os.path.basename(f)), 0o644)
        xml = harness.domain_xml(
            'pkg1', memory_mib=128,
            kernel='/srv/test-guest/' + os.path.basename(kernel),
            initrd='/srv/test-guest/initrd.img')
        with open(self.path('/tmp/pkg1.xml'), 'w') as f:
            f.write(xml)
        self.chroot(['vsh', 'define', '/tmp/pkg1.xml'])
        t = time.monotonic()
        self.chroot(['vsh', 'start', 'pkg1'])
        log = self.path('/var/log/virtd/console/pkg1.log')

        def ready():
            try:
                with open(log, errors='replace') as f:
                    return harness.READY_MARKER in f.read()
            except OSError:
                return False
        def tails():
            text = ''
            for f in (log, self.path('/var/log/virtd/pkg1.log')):
                try:
                    with open(f, errors='replace') as fh:
                        text += '\n---- %s:\n%s' % (f, fh.read()[-1500:])
                except OSError as e:
                    text += '\n---- %s' % e
            return 'the guest READY line' + text
        # Under TCG on a loaded machine (load average 30 on 2 CPUs here: 82
        # to 96 s, once over 180 s), so a bound four times the harness's.
        harness.wait_for(ready, 4 * harness.BOOT_TIMEOUT, interval=0.5, what=tails)
        self.times['guest boot'] = time.monotonic() - t
        self.assertIn('running', self.chroot(['vsh', 'domstate', 'pkg1']))
        self.chroot(['vsh', 'destroy', 'pkg1'])

        self.daemon.send_signal(signal.SIGTERM)
        self.assertIn('STOPPING=1', notify.recv(4096).decode())
        with open(daemon_log) as f:
            self.assertEqual(self.daemon.wait(30), 0, f.read()[-3000:])
        notify.close()

    def test_4_reinstall_and_purge(self):
        """A reinstallation keeps the edited virtd.conf (a conffile: no
        question asked); a purge removes the package, its logs and cache
        and the enabled link, and keeps the machines (definitions, state)."""
        if self.daemon and self.daemon.poll() is None:
            self.daemon.kill()
            self.daemon.wait()
        conf = self.path('/etc/virtd/virtd.conf')
        with open(conf) as f:
            edited = f.read()
        self.assertIn('no-default-network = true', edited)
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        self.chroot(['dpkg', '-i', '/tmp/' + os.path.basename(self.deb)], env=env,
                    stdin=subprocess.DEVNULL)
        with open(conf) as f:
            self.assertEqual(f.read(), edited)

        self.chroot(['dpkg', '--purge', 'virtd'], env=env, stdin=subprocess.DEVNULL)
        for gone in ('/usr/sbin/virtd', '/usr/bin/vsh', '/etc/virtd/virtd.conf',
                     '/var/log/virtd', '/var/cache/virtd', '/run/virtd',
                     '/etc/systemd/system/multi-user.target.wants/virtd.service'):
            self.assertFalse(os.path.lexists(self.path(gone)), gone)
        for kept in ('/etc/virtd/domains/pkg1.xml', '/var/lib/virtd'):
            self.assertTrue(os.path.exists(self.path(kept)), kept)


if __name__ == '__main__':
    harness.main()
