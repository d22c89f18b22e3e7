#!/usr/bin/env python3
"""Issue 14's browser end-to-end test: one flow in Debian's Chromium
(tests/web/e2e.mjs) against a real virtd (--web, PAM login as an account
made for the run) and the real test guest (TCG), set up as test_web_ui.py
does (the daemon and Chromium in a network namespace of the test's own).

Log in (the event stream's first two answers faked by Playwright: one
that ends, then a refused reconnect: the page polls and reopens the real
stream); the list; a start and a destroy made aside reach the list through
the event stream in under 3 s (no reload, and no 'stream closed' in the
browser's log); Create VM from the guest's kernel + initrd with a new
volume and VNC; its boot read from the xterm terminal; the VNC canvas
drawn (pixels read from it); a disk hot-added on the Disks tab and listed
by the guest; a snapshot taken and reverted (the guest's counter goes back
to the snapshot's, same boot); the usage graphs gain points; a shutdown
from the page; a delete with its storage (the volume files gone).

VIRTD_WEB_SHOTS=DIR: the flow also takes one 1280x800 screenshot per page
into DIR (docs/web-ui/ is made this way)."""

import json
import os
import subprocess
import sys
import time

import harness
import test_web_ui as webui

E2E_TEST = os.path.join(harness.SRCROOT, 'tests', 'web', 'e2e.mjs')
NAME = 'e2e-vm'
OTHER = 'e2e-other'


class WebE2E(webui.WebUI):
    # Only this file's test: the inherited ones run in test_web_ui.py.
    test_1_login_start_console_shutdown = None
    test_2_list_with_1000_domains = None

    def test_e2e(self):
        d = self.d
        pool_dir = os.path.join(d.root, 'e2epool')
        os.makedirs(pool_dir)
        r = d.api('POST', '/v1/pools', "<pool type='dir'><name>e2epool</name><target><path>%s</path></target></pool>" % pool_dir)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(d.api('POST', '/v1/pools/e2epool/start').status, 200)
        # Another machine for the stream check (no OS: it runs BIOS only).
        d.define(OTHER, memory_mib=64)
        doc_shots = os.environ.get('VIRTD_WEB_SHOTS')
        if doc_shots:
            # An isolated network for the Networks page (inside the test's
            # namespace: its bridge never reaches the host).
            r = d.api('POST', '/v1/networks', "<network><name>e2enet</name><bridge name='vde2e0'/>"
                      "<ip address='192.168.213.1' netmask='255.255.255.0'><dhcp>"
                      "<range start='192.168.213.100' end='192.168.213.150'/></dhcp></ip></network>")
            self.assertEqual(r.status, 201, r.body)
            r = d.api('POST', '/v1/networks/e2enet/start')
            self.assertEqual(r.status, 200, r.body)
        shots = os.path.join(d.root, 'shots')
        cmd = [webui.NODE, E2E_TEST, '--url', self.url, '--user', self.user, '--password', self.password,
               '--shots', shots, '--name', NAME, '--other', OTHER, '--pool', 'e2epool',
               '--kernel', harness.guest_kernel(), '--initrd', harness.guest_initrd(),
               '--cmdline', harness.GUEST_CMDLINE + ' virtd.counter=1',
               '--boot-timeout', str(int(harness.BOOT_TIMEOUT) + 30),
               '--timeout-scale', str(harness.TIMEOUT_SCALE)]
        if doc_shots:
            cmd += ['--docs-shots', doc_shots]
        t0 = time.monotonic()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           universal_newlines=True, timeout=240 * harness.TIMEOUT_SCALE,
                           env=dict(os.environ, VIRTD_TEST_CHROMIUM=self.chromium))
        lines = [l for l in p.stdout.splitlines() if l.startswith('{')]
        res = json.loads(lines[-1]) if lines else {}
        print('web-e2e (%.1f s): %s' % (time.monotonic() - t0, json.dumps(res, indent=1)), file=sys.stderr)
        if p.returncode != 0 or not res.get('ok'):
            self.fail('browser failed (rc %s): %s\nstderr: %s\nscreenshots: %s\n%s' %
                      (p.returncode, res.get('error'), p.stderr[-3000:], shots, d.daemon_log_tail()))
        # The list, and the stream: the changes came as events, the stream
        # opened once and never fell back to polling.
        self.assertEqual(res['list_other'], 'shut off')
        self.assertEqual(res['stream']['mode'], 'stream')
        self.assertGreaterEqual(res['stream']['received'], 2)
        self.assertEqual(res['events_end']['mode'], 'stream')
        # The reload's page: its stream opened once and stayed.
        self.assertEqual(res['events_end']['opens'], 1, res['events_end'])
        self.assertGreaterEqual(res['shutdown_events'], 1)
        # No error on the way: no error toast, no API refusal but the 401s
        # before the login and the stream's refusal faked by Playwright.
        self.assertEqual(res['error_toasts'], [])
        self.assertEqual([e for e in res['http_errors'] if not e.startswith('401 ')], ['503 GET /api/v1/events'])
        # The stream the browser gave up on (a refused reconnect, faked by
        # Playwright) was polled for, then reopened.
        r = res['reopen']
        self.assertGreaterEqual(r['faked'], 2, r)
        self.assertEqual((r['mode'], r['opens']), ('stream', 2), r)
        self.assertTrue(any('the stream closed; reopening it in 5 s' in l for l in r['log']), r['log'])
        for l in res['console_after_reopen']:
            self.assertNotIn('stream closed', l)
            self.assertNotIn('event stream unavailable', l)
        # The boot, VNC, the hot-added disk.
        self.assertIn('VIRTD-GUEST-READY', res['ready_line'])
        self.assertGreater(res['vnc_canvas']['colours'], 1)
        self.assertEqual(res['disks'], ['vda', 'vdb'])
        self.assertIn('disks=vda,vdb', res['guest_sees_vdb'])
        # The revert: the counter went back to the snapshot's, same boot.
        c = res['counter']
        self.assertTrue(c['same_boot'], c)
        self.assertLess(c['after_revert'], c['before_revert'])
        self.assertGreaterEqual(c['after_revert'], c['at_snapshot'])
        self.assertEqual(res['reverted_badge'], 'current')
        # The graphs gained points, as the API holds them.
        u = res['usage_points']
        self.assertGreater(u['later'], u['tab_opened'])
        self.assertGreater(u['later'], u['first'])
        self.assertGreaterEqual(u['api'], u['later'])
        # Deleted with its storage: both boxes checked, the files gone.
        self.assertEqual(sorted(res['delete_boxes']), ['vda:true', 'vdb:true'])
        self.assertNotIn(NAME, [s['name'] for s in d.domains()])
        self.assertEqual(os.listdir(pool_dir), [])
        with open(os.path.join(d.root, harness.CONSOLE_LOG.format(name=NAME)), errors='replace') as f:
            log = f.read()
        self.assertIn('VIRTD-GUEST-POWERBUTTON', log)
        print('web-e2e steps (ms): %s' % json.dumps(res['steps']), file=sys.stderr)


if __name__ == '__main__':
    harness.main()
