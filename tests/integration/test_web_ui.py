#!/usr/bin/env python3
"""The browser console end to end: Debian's Chromium, headless, driven by
Playwright (tests/web/ui-test.mjs, playwright-core from web/node_modules),
against a real virtd serving build/web/dist and a real test guest.

- e2e: log in, see the guest in the list, open its details, start it, read
  its boot lines from the xterm.js terminal (and type a command the guest's
  shell echoes), shut it down from the page.
- perf: 1,000 defined domains; the list page is interactive (rows drawn, a
  click handled) in under a second (the best of three loads: one load on a
  busy 2-CPU machine can stall), and stays virtualised; three selected rows
  started and shut down with the bulk buttons.

The daemon serves the page itself with `--web` (HTTPS, PAM login as a user
this test creates). The daemon and Chromium run in a network namespace of
the test's own (vdwebuiPID, loopback only): Chromium drops every request in
flight when the host's interfaces change (net::ERR_NETWORK_CHANGED), and
other tests add and remove bridges and veths all the time. A virtd without `--web` is served through
web/dev-server.mjs (plain HTTP on 127.0.0.1 to the daemon's socket, no
login check); the test says which it used."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import harness
from harness import Daemon

NODE = shutil.which('node') or shutil.which('nodejs')
CHROMIUM = os.environ.get('VIRTD_TEST_CHROMIUM', '/usr/bin/chromium')
UI_TEST = os.path.join(harness.SRCROOT, 'tests', 'web', 'ui-test.mjs')
DEV_SERVER = os.path.join(harness.SRCROOT, 'web', 'dev-server.mjs')
WEB_ROOT = os.environ.get('VIRTD_WEB_ROOT') or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(harness.VIRTD_BIN))), 'web', 'dist')
# The account the browser logs in as (PAM), made for this run and removed.
WEB_USER = 'vdwebui%d' % os.getpid()
PERF_COUNT = 1000
# The goal for the list page with 1,000 domains, printed beside the
# measure (a figure, not an assertion: timings are the benchmarks' job, and
# a loaded 2-CPU machine or a sanitizer build says nothing about the page).
PERF_GOAL_MS = 1000


def free_port():
    """A port number (any is free in the fresh namespace; one the host has
    free too keeps a log line unambiguous)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(netns, port, proc, timeout=30):
    """Waits until 127.0.0.1:PORT of the namespace accepts connections."""
    probe = ('import socket,sys\ntry: socket.create_connection(("127.0.0.1", %d), 1)\n'
             'except OSError: sys.exit(1)' % port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise harness.HarnessError('web server exited with %s' % proc.returncode)
        if subprocess.run(['ip', 'netns', 'exec', netns, sys.executable, '-c', probe]).returncode == 0:
            return
        time.sleep(0.2)
    raise harness.HarnessError('nothing listens on 127.0.0.1:%d after %d s' % (port, timeout))


def perf_xml(i):
    return ("<domain type='qemu'><name>wperf-%04d</name><memory unit='MiB'>64</memory>"
            "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>" % i)


class WebUI(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        for what, path in (('node', NODE), ('chromium', CHROMIUM), ('built front end', os.path.join(WEB_ROOT, 'index.html')),
                           ('playwright-core', os.path.join(harness.SRCROOT, 'web', 'node_modules', 'playwright-core'))):
            if not path or not os.path.exists(path):
                raise harness.HarnessError('%s missing (%s): run scripts/deps.sh and build' % (what, path))
        cls.port = free_port()
        cls.dev = None
        cls.user_made = False
        cls.netns = None
        cls.d = None
        cls.real_web = harness.daemon_supports('--web')
        args = []
        if cls.real_web:
            cls.password = secrets.token_urlsafe(12)
            subprocess.run(['groupadd', WEB_USER], check=True)
            subprocess.run(['useradd', '-M', '-N', '-g', WEB_USER, '-s', '/usr/sbin/nologin', WEB_USER], check=True)
            cls.user_made = True
            subprocess.run(['chpasswd'], input='%s:%s\n' % (WEB_USER, cls.password),
                           universal_newlines=True, check=True)
            # WEB_USER is not root: the daemon reads only files under the
            # allowed directories on its word (docs/access.md); the test
            # guest's kernel and initrd are in GUEST_DIR.
            # A subclass's own files (its allowed_paths) likewise.
            args = ['--web', '127.0.0.1:%d' % cls.port, '--web-group', WEB_USER, '--web-root', WEB_ROOT]
            for path in [harness.GUEST_DIR] + list(getattr(cls, 'allowed_paths', [])):
                args += ['--allowed-path', path]
            cls.url = 'https://127.0.0.1:%d/' % cls.port
            cls.user = WEB_USER
        else:
            cls.password = 'unchecked'
            cls.url = 'http://127.0.0.1:%d/' % cls.port
            cls.user = 'root'
        print('web-ui: serving through %s at %s' % ('virtd --web' if cls.real_web else 'web/dev-server.mjs (this virtd has no --web)', cls.url),
              file=sys.stderr)
        try:
            subprocess.run(['ip', 'netns', 'add', WEB_USER], check=True)
            cls.netns = WEB_USER
            subprocess.run(['ip', '-n', cls.netns, 'link', 'set', 'lo', 'up'], check=True)
            cls.d = d = Daemon(args=args, netns=cls.netns)
            d.__enter__()
            # Chromium in the namespace: Playwright talks to it over a pipe.
            cls.chromium = os.path.join(d.root, 'chromium-in-netns')
            with open(cls.chromium, 'w') as f:
                f.write('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (cls.netns, CHROMIUM))
            os.chmod(cls.chromium, 0o755)
            if not cls.real_web:
                cls.dev_log = open(os.path.join(d.root, 'dev-server.log'), 'wb')
                cls.dev = subprocess.Popen(['ip', 'netns', 'exec', cls.netns, NODE, DEV_SERVER,
                                            '--socket', d.sock_path, '--dist', WEB_ROOT,
                                            '--port', str(cls.port)], stdout=cls.dev_log, stderr=cls.dev_log,
                                           stdin=subprocess.DEVNULL, start_new_session=True)
            wait_port(cls.netns, cls.port, cls.dev)
            d.define('webui1', memory_mib=128)
        except BaseException:
            cls.tearDownClass(failed=True)
            raise

    @classmethod
    def tearDownClass(cls, failed=False):
        if cls.dev is not None:
            cls.dev.terminate()
            try:
                cls.dev.wait(10)
            except subprocess.TimeoutExpired:
                cls.dev.kill()
                cls.dev.wait()
            cls.dev_log.close()
        if cls.d is not None:
            cls.d.cleanup(failed=failed)
        if cls.netns:
            subprocess.run(['ip', 'netns', 'del', cls.netns], check=False)
        if cls.user_made:
            subprocess.run(['userdel', WEB_USER], check=False)
            # userdel may have removed the group with its last member.
            if subprocess.run(['getent', 'group', WEB_USER], stdout=subprocess.DEVNULL).returncode == 0:
                subprocess.run(['groupdel', WEB_USER], check=False)

    def browser(self, mode, *args, timeout=300):
        shots = os.path.join(self.d.root, 'shots')
        cmd = [NODE, UI_TEST, mode, '--url', self.url, '--user', self.user,
               '--password', self.password, '--shots', shots] + list(args)
        t0 = time.monotonic()
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           universal_newlines=True, timeout=timeout * harness.TIMEOUT_SCALE,
                           env=dict(os.environ, VIRTD_TEST_CHROMIUM=self.chromium))
        lines = [l for l in r.stdout.splitlines() if l.startswith('{')]
        res = json.loads(lines[-1]) if lines else {}
        print('web-ui %s (%.1f s): %s' % (mode, time.monotonic() - t0, json.dumps(res, indent=1)), file=sys.stderr)
        if r.returncode != 0 or not res.get('ok'):
            self.fail('browser %s failed (rc %s): %s\nstderr: %s\nscreenshots: %s\n%s' %
                      (mode, r.returncode, res.get('error'), r.stderr[-3000:], shots,
                       self.d.daemon_log_tail()))
        return res

    def test_1_login_start_console_shutdown(self):
        d = self.d
        # The boot is the harness's (BOOT_TIMEOUT), plus the page's own steps.
        res = self.browser('e2e', '--domain', 'webui1', '--boot-timeout', str(int(harness.BOOT_TIMEOUT) + 30))
        self.assertEqual(res['list_state'], 'shut off')
        self.assertEqual(res['overview']['Max memory'], '128 MiB')
        self.assertEqual(res['overview']['CPU(s)'], '1')
        self.assertTrue(any(harness.READY_MARKER in l for l in res['console_lines']), res['console_lines'])
        self.assertTrue(res['typed_echo'])
        # The page's word is the daemon's: the guest really went through it.
        self.assertEqual(d.domstate('webui1'), 'shut off')
        with open(os.path.join(d.root, harness.CONSOLE_LOG.format(name='webui1')), errors='replace') as f:
            log = f.read()
        self.assertIn('web-ui-42', log)
        self.assertIn('VIRTD-GUEST-POWERBUTTON', log)

    def test_2_list_with_1000_domains(self):
        d = self.d
        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as ex:
            statuses = list(ex.map(lambda i: d.api('POST', '/v1/domains', perf_xml(i)).status, range(PERF_COUNT)))
        self.assertEqual(statuses, [201] * PERF_COUNT)
        print('web-ui: defined %d domains in %.1f s' % (PERF_COUNT, time.monotonic() - t0), file=sys.stderr)
        total = len(d.domains())
        self.assertEqual(total, PERF_COUNT + 1)
        bulk = ['wperf-0001', 'wperf-0002', 'wperf-0003']
        res = self.browser('perf', '--count', str(total), '--filter', 'wperf-0999',
                           '--bulk', ','.join(bulk), '--bulk-filter', 'wperf-000')
        # Bulk start and shutdown reached the daemon: running (they have no
        # OS: the power button does not stop them), and nothing else started.
        self.assertTrue(res.get('bulk_ok'))
        running = sorted(s['name'] for s in d.domains() if s['state'] != 'shut off')
        self.assertEqual(running, bulk)
        for n in bulk:
            d.vsh('destroy', n)
        self.assertEqual(res['filter_count'], '1 of %d' % total)
        self.assertLess(res['rows_in_dom'], 100)
        print('web-ui: list page with %d domains interactive after %s ms (best of three loads: '
              '%s ms; goal %d ms)' % (total, res['interactive_ms'], res['all_interactive_ms'],
                                      PERF_GOAL_MS), file=sys.stderr)


if __name__ == '__main__':
    harness.main()
