#!/usr/bin/env python3
"""migrate to an ssh:// peer (issue 13): the source daemon reaches the
destination daemon through ssh (remote/remote-ssh.c), as vsh does. A
private sshd of the test's own (127.0.0.1, a free port, host and client
keys made here: test_remote_ssh.PrivateSshd), two daemons in the root namespace
with --migration-host 127.0.0.1 (QEMU's stream on the loopback), one
128 MiB counter guest without disks. A live migration to
'ssh://root@127.0.0.1:PORT/ROOT_B/virtd.sock?keyfile=K&no_verify=1' moves
it (same boot, the counter goes on); with a key sshd does not know, it is
refused with ssh's words and the guest still runs on the source, nothing
made on the destination."""

import os
import re
import shutil
import subprocess
import tempfile

import harness
from harness import Daemon, wait_for
from test_remote_ssh import PrivateSshd

NAME = 'vvmigssh'
COUNTER_RE = re.compile(r'VIRTD-GUEST-COUNTER n=(\d+) boot_id=(%s)' % harness.BOOT_ID_RE)


def counter(d, name, boot):
    seen = [int(n) for n, b in COUNTER_RE.findall(d.console_text(name)) if b.startswith(boot)]
    return max(seen) if seen else 0


class MigrateSsh(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        base = os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir()
        os.makedirs(base, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix='vdmigssh-', dir=base)
        cls.sshd = cls.a = cls.b = None
        try:
            cls._start()
        except BaseException:
            cls._stop(failed=True)
            raise

    @classmethod
    def _start(cls):
        cls.sshd = PrivateSshd(cls.tmp)
        cls.port = cls.sshd.port
        args = ['--migration-host', '127.0.0.1']
        cls.a = Daemon(args=args).__enter__()
        cls.b = Daemon(args=args).__enter__()

    @classmethod
    def _stop(cls, failed=False):
        for d in (cls.a, cls.b):
            if d is not None:
                d.cleanup(failed=failed)
        if cls.sshd is not None:
            cls.sshd.stop()
        harness.kill_processes_mentioning(cls.tmp)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._stop()

    def uri(self, key):
        return ('ssh://root@127.0.0.1:%d%s?keyfile=%s&no_verify=1'
                % (self.port, self.b.sock_path, os.path.join(self.tmp, key)))

    def test_migrate_over_ssh(self):
        self.a.define(NAME, memory_mib=128, live_copy=True)
        boot = self.a.start_domain(NAME)
        wait_for(lambda: counter(self.a, NAME, boot) > 0, 60, what='the counter on A')
        before_a = self.a.vsh('dumpxml', NAME)[1]

        # A key sshd does not know: ssh's refusal, nothing changed.
        rc, _out, err = self.a.vsh('migrate', '--live', NAME, self.uri('wrongkey'),
                                   check=False, timeout=120)
        self.assertNotEqual(rc, 0)
        self.assertIn('Permission denied', err)
        self.assertEqual(self.a.domstate(NAME, reason=True), 'running (booted)')
        self.assertEqual(self.a.vsh('dumpxml', NAME)[1], before_a)
        self.assertEqual(self.b.list_all(), [])
        self.assertEqual(self.b.qemu_pids(), [])
        n0 = counter(self.a, NAME, boot)
        wait_for(lambda: counter(self.a, NAME, boot) > n0, 20, what='the counter going on on A')

        # The right key: it moves, same boot, the counter goes on.
        n0 = counter(self.a, NAME, boot)
        self.a.vsh('migrate', '--live', '--persistent', '--undefinesource', NAME,
                   self.uri('clientkey'), timeout=180)
        self.assertEqual(self.b.domstate(NAME, reason=True), 'running (migrated)')
        self.assertEqual(self.a.list_all(), [])
        self.assertEqual(self.a.qemu_pids(), [])
        wait_for(lambda: counter(self.b, NAME, boot) > n0, 30, what='the counter going on on B')
        # Same boot: no new boot on B.
        self.assertEqual(self.b.boots(NAME), [])
        # No ssh of the source daemon's left behind.
        out = subprocess.run(['pgrep', '-f', '(^|/)ssh .*%s' % self.tmp],
                             stdout=subprocess.PIPE, text=True).stdout.split()
        self.assertEqual(out, [])
        self.b.vsh('destroy', NAME)
        self.b.vsh('undefine', NAME)


if __name__ == '__main__':
    harness.main()
