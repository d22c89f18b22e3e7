#!/usr/bin/env python3
"""TPM 2.0 with swtpm (issue 10): the daemon runs one swtpm per domain with
<tpm><backend type='emulator'>, before QEMU; the guest's kernel finds the
TPM; the state is kept under the daemon's lib/swtpm/UUID across starts and
a plain undefine, and removed by `undefine --tpm`; a daemon killed while
the guest runs finds its swtpm again and still ends it with the domain;
what cannot run is refused with the reason."""

import os
import re
import stat
import time

import harness
from harness import Daemon, domain_xml
from test_network_guests import Shell

UUID = '6a1d2d9e-5b8c-4f57-9c1e-2f6e7d0b7a11'
TPM_CRB = ("    <tpm model='tpm-crb'>\n"
           "      <backend type='emulator' version='2.0'/>\n"
           "    </tpm>\n")


# pc, not q35: the test guest's kernel boots through PVH (vmlinux), and on
# q35 it finds the ACPI tables overwritten (RSDT garbage, "ACPI:
# Interpreter disabled"), so no ACPI device at all, TPM or other; on pc
# tpm-crb is found through its ACPI TPM2 table as on q35.
def tpm_xml(name, tpm=TPM_CRB, uuid=UUID, machine='pc'):
    return domain_xml(name, extra_devices=tpm, uuid=uuid, machine=machine)


class Tpm(harness.VirtdTestCase):

    def state_dir(self, d, uuid=UUID):
        return d.path('lib', 'swtpm', uuid)

    def swtpms(self, d, uuid=UUID):
        """pids of live swtpm processes working on this domain's state."""
        state = os.path.join(self.state_dir(d, uuid), 'tpm')
        out = []
        for p in harness.processes_mentioning(state):
            if not harness.pid_alive(p):
                continue
            argv = harness.read_cmdline(p)
            if argv and os.path.basename(argv[0]) == 'swtpm':
                out.append(p)
        return out

    def one_swtpm(self, d, uuid=UUID):
        pids = self.swtpms(d, uuid)
        self.assertEqual(len(pids), 1, 'swtpm processes for %s: %s\n%s' %
                         (uuid, pids, d.daemon_log_tail(20)))
        return pids[0]

    def wait_swtpm_gone(self, d, uuid=UUID):
        harness.wait_for(lambda: not self.swtpms(d, uuid), 10,
                         what=lambda: 'swtpm of %s to end (%s)\n%s' %
                         (uuid, self.swtpms(d, uuid), d.daemon_log_tail(20)))

    def qemu_argv_text(self, d, name):
        with open(d.qemu_log_path(name)) as f:
            return f.read()

    def daemon_log(self, d):
        with open(d.path(harness.DAEMON_LOG), errors='replace') as f:
            return f.read()

    def test_guest_restart_undefine(self):
        with Daemon() as d:
            d.define('tpm1', tpm_xml('tpm1'))
            d.start_domain('tpm1')
            state = self.state_dir(d)

            # QEMU was given swtpm's socket, the emulator and the device.
            log = self.qemu_argv_text(d, 'tpm1')
            self.assertIn('-tpmdev\n  emulator,id=tpm-tpm0,chardev=chrtpm', log)
            self.assertIn('{"driver":"tpm-crb","tpmdev":"tpm-tpm0","id":"tpm0"}', log)
            # ... as a connection the daemon made (swtpm's socket is root's).
            sock = d.path('run', 'domains', 'tpm1.swtpm')
            m = re.search(r"fd (\d+): a connection to the socket '%s'" % re.escape(sock), log)
            self.assertIsNotNone(m, log)
            self.assertIn('socket,id=chrtpm,fd=%s\n' % m.group(1), log)
            st = os.stat(sock)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o600))

            # One swtpm, on the state swtpm_setup made, in a session of its own.
            pid = self.one_swtpm(d)
            argv = harness.read_cmdline(pid)
            self.assertIn('--tpm2', argv)
            self.assertIn('--terminate', argv)
            self.assertIn('dir=%s/tpm2,mode=0600' % state, argv)
            self.assertTrue(os.path.exists(os.path.join(state, 'tpm2', 'tpm2-00.permall')))
            self.assertNotEqual(os.getsid(pid), os.getsid(d.pid),
                                'swtpm is in the daemon\'s session')
            # The daemon's own local CA signed the EK certificate.
            self.assertTrue(os.path.exists(d.path('lib', 'swtpm-localca', 'issuercert.pem')))

            # The guest's kernel (tpm_crb built in) sees a TPM 2.0.
            with Shell(d, 'tpm1') as sh:
                rc, out = sh.run('cat /sys/class/tpm/tpm0/tpm_version_major')
                self.assertEqual(rc, 0, out)
                self.assertRegex(out, r'(?m)^2\r?$')
                rc, out = sh.run('ls /dev/tpm0 /dev/tpmrm0')
                self.assertEqual(rc, 0, out)
                rc, out = sh.run('basename $(readlink /sys/class/tpm/tpm0/device/driver)')
                self.assertEqual(rc, 0, out)
                self.assertRegex(out, r'(?m)^tpm_crb\r?$')

            # The daemon killed and restarted: guest and swtpm live on, and
            # the new daemon finds the swtpm.
            qemu = d.qemu_pid('tpm1')
            d.kill()
            self.assertTrue(harness.pid_alive(qemu))
            self.assertTrue(harness.pid_alive(pid))
            d.start()
            self.assertEqual(d.domstate('tpm1'), 'running')
            self.assertEqual(self.one_swtpm(d), pid)
            harness.wait_for(lambda: "its swtpm runs (pid %d)" % pid in self.daemon_log(d), 10,
                             what='the restarted daemon to find swtpm')
            # Still managed: destroy ends QEMU and swtpm.
            self.assertVshOut(d.vsh('destroy', 'tpm1'), "Domain 'tpm1' destroyed")
            self.wait_swtpm_gone(d)
            self.assertNoQemu(d)

            # The state stays and is used again: no second swtpm_setup.
            d.start_domain('tpm1', wait_boot=False)
            self.one_swtpm(d)
            self.assertEqual(self.daemon_log(d).count("'tpm1': creating its TPM state"), 1)
            # undefine --tpm of a running domain is refused and changes nothing.
            rc, out, err = d.vsh_fail('undefine', 'tpm1', '--tpm')
            self.assertIn("its swtpm holds the TPM state; destroy it first", err)
            self.assertEqual(d.domstate('tpm1'), 'running')
            d.vsh('destroy', 'tpm1')
            self.wait_swtpm_gone(d)

            # A plain undefine keeps the state; --tpm removes it.
            d.vsh('undefine', 'tpm1', '--keep-tpm')
            self.assertTrue(os.path.isdir(os.path.join(state, 'tpm2')))
            d.define('tpm1', tpm_xml('tpm1'))
            self.assertVshOut(d.vsh('undefine', 'tpm1', '--tpm'),
                              "Domain 'tpm1' has been undefined")
            self.assertFalse(os.path.exists(state), 'TPM state left after undefine --tpm')
            self.assertNoQemu(d)

    def test_tpm12_tis(self):
        """TPM 1.2 on tpm-tis (what libvirt allows) on a pc machine."""
        uuid = '6a1d2d9e-5b8c-4f57-9c1e-2f6e7d0b7a12'
        tis = ("    <tpm model='tpm-tis'><backend type='emulator' version='1.2'/></tpm>\n")
        with Daemon() as d:
            d.define('tpm12', tpm_xml('tpm12', tis, uuid, machine='pc'))
            d.start_domain('tpm12')
            pid = self.one_swtpm(d, uuid)
            self.assertNotIn('--tpm2', harness.read_cmdline(pid))
            self.assertTrue(os.path.exists(
                os.path.join(self.state_dir(d, uuid), 'tpm1.2', 'tpm-00.permall')))
            with Shell(d, 'tpm12') as sh:
                rc, out = sh.run('cat /sys/class/tpm/tpm0/tpm_version_major')
                self.assertEqual(rc, 0, out)
                self.assertRegex(out, r'(?m)^1\r?$')
                rc, out = sh.run('basename $(readlink /sys/class/tpm/tpm0/device/driver)')
                self.assertRegex(out, r'(?m)^tpm_tis\r?$')
            d.vsh('destroy', 'tpm12')
            self.wait_swtpm_gone(d, uuid)

    def test_refusals(self):
        cases = [
            ('tpmpass', "<tpm model='tpm-tis'><backend type='passthrough'>"
                        "<device path='/dev/tpm0'/></backend></tpm>",
             "passthrough hands the host's TPM to one guest"),
            ('tpmcrb12', "<tpm model='tpm-crb'><backend type='emulator' version='1.2'/></tpm>",
             "use version='2.0', or model='tpm-tis' for a TPM 1.2"),
            ('tpmenc', "<tpm model='tpm-crb'><backend type='emulator' version='2.0'>"
                       "<encryption secret='6dd3e4a5-1d76-44ce-961f-f119f5aad935'/>"
                       "</backend></tpm>",
             "needs libvirt's secret store"),
        ]
        with Daemon() as d:
            for i, (name, tpm, message) in enumerate(cases):
                uuid = '6a1d2d9e-5b8c-4f57-9c1e-2f6e7d0b7b%02d' % i
                d.define(name, tpm_xml(name, tpm, uuid))
                _rc, _out, err = d.vsh_fail('start', name)
                self.assertIn(message, err)
                self.assertEqual(d.domstate(name), 'shut off')
                self.assertEqual(self.swtpms(d, uuid), [])
                self.assertFalse(os.path.exists(self.state_dir(d, uuid)))
            self.assertNoQemu(d)

    def test_no_swtpm(self):
        """A host without swtpm: the start is refused, saying what to install."""
        os.environ['VIRTD_SWTPM'] = '/nonexistent/swtpm'
        try:
            d = Daemon().__enter__()
        finally:
            del os.environ['VIRTD_SWTPM']
        try:
            d.define('tpmnone', tpm_xml('tpmnone'))
            _rc, _out, err = d.vsh_fail('start', 'tpmnone')
            self.assertIn('TPM emulation needs swtpm: apt-get install swtpm swtpm-tools', err)
            self.assertEqual(d.domstate('tpmnone'), 'shut off')
            self.assertNoQemu(d)
        finally:
            d.__exit__(None, None, None)

    def test_daemon_killed_before_qemu(self):
        """A daemon killed after swtpm started but before QEMU ran: no QEMU
        will ever connect, so --terminate never ends it; the restart does."""
        with Daemon() as d:
            d.define('tpmcrash', tpm_xml('tpmcrash'))
            d.kill()
            os.environ['VIRTD_TEST_CRASH_AT'] = 'spawning'
            try:
                d.start()
            finally:
                del os.environ['VIRTD_TEST_CRASH_AT']
            try:
                d.api('POST', harness.dom_path('tpmcrash', '/start'), timeout=60)
            except (OSError, harness.http.client.HTTPException):
                pass  # the daemon died under the request
            harness.wait_for(lambda: d.proc.poll() is not None, 60,
                             what='the daemon to kill itself at spawning')
            pid = self.one_swtpm(d)
            d.start()
            harness.wait_for(lambda: not harness.pid_alive(pid), 10,
                             what='the restarted daemon to end the orphan swtpm\n' +
                             d.daemon_log_tail(20))
            self.assertEqual(d.domstate('tpmcrash', reason=True), 'shut off (failed)')
            # And the next start works.
            d.start_domain('tpmcrash', wait_boot=False)
            self.one_swtpm(d)
            d.vsh('destroy', 'tpmcrash')
            self.wait_swtpm_gone(d)
            self.assertNoQemu(d)


if __name__ == '__main__':
    harness.main()
