#!/usr/bin/env python3
"""vsh over ssh:// (issue 13, docs/remote.md): a private sshd of the test's
own (127.0.0.1, a free high port, host and client keys made here), a
daemon with its own --root, and vsh -c 'ssh://root@127.0.0.1:PORT/ROOT/
virtd.sock?keyfile=KEY&no_verify=1' doing what it does locally: uri, list,
define, start, console (the guest's lines read through the tunnel, typing
carried back), a pool and vol-upload / vol-download with equal checksums,
destroy, undefine; an alias and uri_default from a VSH_CONFIG file; the
refusals (wrong key, no sshd, no socket at the far end) with ssh's words
and nothing changed. After every vsh: no ssh left, no tunnel socket left.
"""

import hashlib
import os
import pty
import select
import shutil
import socket
import subprocess
import tempfile
import time

import harness
from harness import Daemon

SSHD = '/usr/sbin/sshd'
GRUB_ISO = '/usr/lib/grub-rescue/grub-rescue-cdrom.iso'


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PrivateSshd:
    """An sshd of the test's own on 127.0.0.1 (a free port) with keys made
    in @tmp: clientkey (authorized, root may log in with it) and wrongkey
    (not). Also used by test_migrate_ssh.py."""

    def __init__(self, tmp):
        t = tmp
        self.tmp = tmp
        for name in ('hostkey', 'clientkey', 'wrongkey'):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'vdssh-test',
                            '-f', os.path.join(t, name)], check=True)
        self.key = os.path.join(t, 'clientkey')
        self.wrong_key = os.path.join(t, 'wrongkey')
        shutil.copy(self.key + '.pub', os.path.join(t, 'authorized_keys'))
        os.chmod(os.path.join(t, 'authorized_keys'), 0o600)
        self.port = free_port()
        config = os.path.join(t, 'sshd_config')
        with open(config, 'w') as f:
            f.write('ListenAddress 127.0.0.1\n'
                    'HostKey %s/hostkey\n'
                    'AuthorizedKeysFile %s/authorized_keys\n'
                    'PermitRootLogin prohibit-password\n'
                    'PasswordAuthentication no\n'
                    'KbdInteractiveAuthentication no\n'
                    'UsePAM no\n'
                    'StrictModes no\n'
                    'PidFile none\n'
                    'AllowStreamLocalForwarding yes\n' % (t, t))
        os.makedirs('/run/sshd', exist_ok=True)
        self.log = open(os.path.join(t, 'sshd.log'), 'ab')
        self.proc = subprocess.Popen([SSHD, '-D', '-e', '-f', config, '-p', str(self.port)],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise harness.HarnessError('sshd did not start:\n' + self.text())
                time.sleep(0.05)

    def text(self):
        with open(os.path.join(self.tmp, 'sshd.log'), errors='replace') as f:
            return f.read()[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class _Via:
    """What harness.ConsoleSession needs of a daemon, with a remote URI."""

    def __init__(self, uri, root):
        self.uri = uri
        self.root = root


class RemoteSsh(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        base = os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir()
        os.makedirs(base, exist_ok=True)
        # Short: the tunnel's socket goes under it (sun_path is 108 bytes).
        cls.tmp = tempfile.mkdtemp(prefix='vdssh-', dir=base)
        cls.sshd = None
        cls.d = None
        try:
            cls._start()
        except BaseException:
            cls._stop(failed=True)
            raise

    @classmethod
    def _start(cls):
        t = cls.tmp
        cls.vsh_tmp = os.path.join(t, 'vt')     # vsh's $TMPDIR: its tunnels go here
        os.mkdir(cls.vsh_tmp)
        cls.sshd = PrivateSshd(t)
        cls.key, cls.wrong_key, cls.port = cls.sshd.key, cls.sshd.wrong_key, cls.sshd.port
        cls.d = Daemon()
        cls.d.__enter__()
        cls.uri = ('ssh://root@127.0.0.1:%d%s?keyfile=%s&no_verify=1'
                   % (cls.port, cls.d.sock_path, cls.key))

    @classmethod
    def sshd_text(cls):
        return cls.sshd.text()

    @classmethod
    def _stop(cls, failed=False):
        if cls.d is not None:
            cls.d.cleanup(failed=failed)
        if cls.sshd is not None:
            cls.sshd.stop()
        # Any ssh a failed vsh left behind mentions our directory.
        harness.kill_processes_mentioning(cls.tmp)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._stop()

    # ---- helpers

    def env(self, **extra):
        e = dict(os.environ, LC_ALL='C', HOME=self.d.root, TMPDIR=self.vsh_tmp)
        e.pop('VSH_DEFAULT_URI', None)
        e['VSH_CONFIG'] = os.path.join(self.tmp, 'none.conf')
        e.update(extra)
        return e

    def assertNoTunnelLeft(self):
        """No ssh of ours runs and no tunnel directory is left."""
        deadline = time.monotonic() + 5
        while True:
            pids = [p for p in harness.processes_mentioning(self.vsh_tmp) if harness.pid_alive(p)]
            left = os.listdir(self.vsh_tmp)
            if not pids and not left:
                return
            if time.monotonic() > deadline:
                self.fail('left behind: ssh %s, files %s' % (pids, left))
            time.sleep(0.1)

    def rvsh(self, *args, uri=None, check=True, env=None, timeout=60):
        """vsh through the tunnel: (rc, out, err); then nothing left."""
        argv = [harness.VSH_BIN] + (['-c', uri or self.uri] if uri != '' else []) + \
            [str(a) for a in args]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True,
                           env=env or self.env(), cwd=self.d.root,
                           timeout=timeout * harness.TIMEOUT_SCALE)
        if check and r.returncode != 0:
            raise harness.VshError(argv, r.returncode, r.stdout, r.stderr)
        self.assertNoTunnelLeft()
        return r.returncode, r.stdout, r.stderr

    def rvsh_stderr_pty(self, *args):
        """vsh through the tunnel with its stderr on a terminal: what it
        drew there (the progress bars)."""
        master, slave = pty.openpty()
        argv = [harness.VSH_BIN, '-c', self.uri] + [str(a) for a in args]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=slave, env=self.env(), cwd=self.d.root)
        os.close(slave)
        out = b''
        try:
            while True:
                r, _w, _x = select.select([master], [], [], 120)
                if not r:
                    self.fail('vsh %s: no output for 120 s' % args)
                try:
                    data = os.read(master, 65536)
                except OSError:     # EIO: the terminal's other side is closed
                    break
                if not data:
                    break
                out += data
            self.assertEqual(p.wait(60), 0, out)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            os.close(master)
        self.assertNoTunnelLeft()
        return out.decode('utf-8', 'replace')

    def state(self):
        """What a refusal must not change, seen locally."""
        d = self.d
        files = sorted(os.path.relpath(os.path.join(dp, f), d.root)
                       for dp, _dn, fs in os.walk(d.root) for f in fs
                       if not f.endswith('.log'))
        return d.list_all(), files

    # ---- tests

    def test_1_uri_list_alias(self):
        _rc, out, _err = self.rvsh('uri')
        self.assertEqual(out.strip(), self.uri)
        _rc, out, _err = self.rvsh('list', '--all')
        self.assertIn('Id   Name', out)
        _rc, out, _err = self.rvsh('version', '--daemon')
        self.assertIn('daemon', out.lower())

        conf = os.path.join(self.tmp, 'vsh.conf')
        with open(conf, 'w') as f:
            f.write('# test aliases\nuri_aliases = [\n  "lab=%s",\n  "local=%s",\n]\n'
                    'uri_default = "lab"\n' % (self.uri, self.d.uri))
        env = self.env(VSH_CONFIG=conf)
        _rc, out, _err = self.rvsh('uri', uri='lab', env=env)
        self.assertEqual(out.strip(), self.uri)
        # No -c: uri_default, itself an alias.
        _rc, out, _err = self.rvsh('uri', uri='', env=env)
        self.assertEqual(out.strip(), self.uri)
        _rc, out, _err = self.rvsh('list', '--all', uri='', env=env)
        self.assertIn('Id   Name', out)
        # $VSH_DEFAULT_URI wins over uri_default.
        _rc, out, _err = self.rvsh('uri', uri='', env=dict(env, VSH_DEFAULT_URI='local'))
        self.assertEqual(out.strip(), self.d.uri)
        rc, _out, err = self.rvsh('list', uri='nosuch', env=env, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("no connection URI alias 'nosuch' in '%s'" % conf, err)
        # `connect ALIAS` moves a running vsh to the remote daemon.
        _rc, out, _err = self.rvsh('uri; connect lab; uri; hostname', uri=self.d.uri, env=env)
        self.assertEqual(out.split('\n\n')[0].strip(), self.d.uri)
        self.assertIn(self.uri, out)

    def test_1b_killed_vsh_takes_ssh_along(self):
        """vsh's shell killed (SIGKILL: no clean-up of its own) while its
        tunnel is up: ssh goes too (its parent-death signal)."""
        p = subprocess.Popen([harness.VSH_BIN, '-c', self.uri], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env=self.env(), cwd=self.d.root)
        try:
            p.stdin.write(b'hostname\n')
            p.stdin.flush()
            deadline = time.monotonic() + 20
            while not harness.processes_mentioning(self.vsh_tmp):
                self.assertLess(time.monotonic(), deadline, 'no ssh started')
                time.sleep(0.05)
            p.kill()
            p.wait()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdin.close()
            p.stdout.close()
        deadline = time.monotonic() + 5
        while [q for q in harness.processes_mentioning(self.vsh_tmp) if harness.pid_alive(q)]:
            self.assertLess(time.monotonic(), deadline, 'ssh outlived its vsh')
            time.sleep(0.05)
        # Its directory stays (nobody was left to remove it); clear it for
        # the next checks.
        for name in os.listdir(self.vsh_tmp):
            shutil.rmtree(os.path.join(self.vsh_tmp, name))

    def test_2_guest_and_console(self):
        d = self.d
        name = 'rssh1'
        xml = d.write_xml(name, harness.domain_xml(name, memory_mib=128,
                                                   live_copy=True))
        _rc, out, _err = self.rvsh('define', xml)
        self.assertIn("Domain '%s' defined from %s" % (name, xml), out)
        self.assertListed(d, name, 'shut off')
        _rc, out, _err = self.rvsh('start', name)
        self.assertIn("Domain '%s' started" % name, out)
        self.assertListed(d, name, 'running')
        _rc, out, _err = self.rvsh('list')
        self.assertRegex(out, r'\d+\s+%s\s+running' % name)

        # The console over the tunnel, on a terminal (ssh's stdin is the
        # terminal then: it must leave the typing to vsh) and on pipes.
        for use_pty in (True, False):
            saved = os.environ.get('TMPDIR')
            os.environ['TMPDIR'] = self.vsh_tmp
            try:
                c = harness.ConsoleSession(_Via(self.uri, d.root), name, use_pty=use_pty)
            finally:
                if saved is None:
                    os.environ.pop('TMPDIR')
                else:
                    os.environ['TMPDIR'] = saved
            with c:
                c.read_until(harness.READY_MARKER, timeout=harness.BOOT_TIMEOUT)
                start = len(c.buf)
                end = c.read_until('VIRTD-GUEST-COUNTER n=', timeout=20, start=start)
                c.read_until('VIRTD-GUEST-COUNTER n=', timeout=20, start=end)
                c.type_until('echo remote-$((6*7))', 'remote-42')
                self.assertEqual(c.detach(), 0, c.text)
            self.assertNoTunnelLeft()

        _rc, out, _err = self.rvsh('destroy', name)
        self.assertIn("Domain '%s' destroyed" % name, out)
        self.assertListed(d, name, 'shut off')
        _rc, out, _err = self.rvsh('undefine', name)
        self.assertIn("Domain '%s' has been undefined" % name, out)
        self.assertNotListed(d, name)

    def test_3_volumes(self):
        d = self.d
        target = d.path('rpool')
        self.rvsh('pool-define-as', 'rp', 'dir', '--target', target)
        self.rvsh('pool-build', 'rp')
        self.rvsh('pool-start', 'rp')
        self.rvsh('vol-create-as', 'rp', 'up.raw', '0')
        src = os.path.join(self.tmp, 'src.bin')
        with open(src, 'wb') as f:
            f.write(os.urandom(6 * 1024 * 1024 + 123))
        # On a terminal (stderr), the progress bar, as locally.
        text = self.rvsh_stderr_pty('vol-upload', 'up.raw', src, '--pool', 'rp')
        self.assertIn('Uploading [', text)
        self.assertIn('100%', text)
        with open(os.path.join(target, 'up.raw'), 'rb') as f:
            on_host = hashlib.sha256(f.read()).hexdigest()
        with open(src, 'rb') as f:
            want = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual(on_host, want)
        out_file = os.path.join(self.tmp, 'down.bin')
        self.rvsh('vol-download', 'up.raw', out_file, '--pool', 'rp', timeout=120)
        with open(out_file, 'rb') as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), want)
        # install through the tunnel: its allocation progress, the domain
        # made and started on the far side (the ISO is a path there).
        _rc, out, err = self.rvsh('install', '--name', 'rinst', '--memory', '128', '--cdrom',
                                  GRUB_ISO, '--graphics', 'none',
                                  '--disk', 'pool=rp,size=0.05', '--noautoconsole',
                                  '--virt-type', 'qemu', timeout=120)
        self.assertIn("Allocating 'rinst.qcow2'", out + err)
        self.assertListed(d, 'rinst', 'running')
        self.assertTrue(os.path.exists(os.path.join(target, 'rinst.qcow2')))
        self.rvsh('destroy', 'rinst')
        self.rvsh('undefine', 'rinst', '--remove-all-storage')
        self.assertNotListed(d, 'rinst')
        self.assertFalse(os.path.exists(os.path.join(target, 'rinst.qcow2')))
        self.rvsh('vol-delete', 'up.raw', '--pool', 'rp')
        self.rvsh('pool-destroy', 'rp')
        self.rvsh('pool-undefine', 'rp')

    def test_4_refusals(self):
        d = self.d
        xml = d.write_xml('rkeep', harness.domain_xml('rkeep', memory_mib=128))
        d.vsh('define', xml)
        before = self.state()

        wrong = self.uri.replace(self.key, self.wrong_key)
        rc, _out, err = self.rvsh('define', xml, uri=wrong, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('error: failed to connect to the hypervisor', err)
        self.assertIn('Permission denied', err)
        self.assertIn('keyfile', err)

        closed = 'ssh://root@127.0.0.1:%d%s?keyfile=%s&no_verify=1' % (
            free_port(), d.sock_path, self.key)
        rc, _out, err = self.rvsh('undefine', 'rkeep', uri=closed, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('Connection refused', err)
        self.assertIn('sshd', err)

        missing = os.path.join(d.root, 'nothere.sock')
        nosock = 'ssh://root@127.0.0.1:%d%s?keyfile=%s&no_verify=1' % (
            self.port, missing, self.key)
        rc, _out, err = self.rvsh('undefine', 'rkeep', uri=nosock, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("error: Failed to connect socket to '%s'" % missing, err)

        # The parser's refusals name the valid forms.
        rc, _out, err = self.rvsh('list', uri='ssh://127.0.0.1/session', check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('no session daemon', err)
        rc, _out, err = self.rvsh('list', uri=self.uri + '&bogus=1', check=False)
        self.assertIn("unknown parameter 'bogus'", err)

        self.assertEqual(self.state(), before)
        self.assertListed(d, 'rkeep', 'shut off')
        d.vsh('undefine', 'rkeep')


if __name__ == '__main__':
    harness.main()
