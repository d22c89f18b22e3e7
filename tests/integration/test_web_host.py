#!/usr/bin/env python3
"""The browser console's host pages end to end (tests/web/host-test.mjs):
Debian's Chromium, headless, driven by Playwright against a real virtd
`--web` in a network namespace of the test's own (test_web_ui.py's set-up:
a PAM user made for the run, the daemon and Chromium in netns vdwebuiPID).

- Host: the KVM verdict the daemon's probe gives (GET /v1/host) is on the page.
- Networks: an isolated network (no forwarding: nothing leaves the
  namespace; a TEST-NET address) created from the form, listed, started,
  a static DHCP host added and removed, stopped, deleted.
- Storage: a directory pool in a temporary directory, a 4 MiB file
  uploaded as an ISO volume with the progress bar at 100 %, the upload
  in the task log (and GET /v1/tasks, with the volume's create and
  delete), the volume and the pool deleted."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import harness
import test_web_ui

HOST_TEST = os.path.join(harness.SRCROOT, 'tests', 'web', 'host-test.mjs')
NET = 'vdwebhost-net'
POOL = 'vdwebhost-pool'


class WebHost(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.pool_dir = harness.qemu_reachable(tempfile.mkdtemp(prefix='vdwebhost'))
        # the page's user is not root: its pool's directory must be allowed
        cls.allowed_paths = [cls.pool_dir]
        try:
            test_web_ui.WebUI.setUpClass.__func__(cls)
        except BaseException:
            shutil.rmtree(cls.pool_dir, ignore_errors=True)
            raise
        if not cls.real_web:
            cls.tearDownClass(failed=True)
            raise harness.HarnessError('this virtd has no --web: the host pages test needs it')

    @classmethod
    def tearDownClass(cls, failed=False):
        d = getattr(cls, 'd', None)
        if d is not None:
            # Whatever the browser left: the network stopped and gone.
            for path in ('/v1/networks/%s/destroy' % NET,):
                d.api('POST', path)
            d.api('DELETE', '/v1/networks/%s' % NET)
            d.api('POST', '/v1/pools/%s/destroy' % POOL)
            d.api('DELETE', '/v1/pools/%s' % POOL)
        test_web_ui.WebUI.tearDownClass.__func__(cls, failed=failed)
        shutil.rmtree(cls.pool_dir, ignore_errors=True)

    def test_host_networks_storage_tasks(self):
        d = self.d
        host = d.api_json('GET', '/v1/host')
        self.assertIn('count', host['cpu'])
        self.assertGreater(host['memory']['total_kib'], 0)
        pool_path = os.path.join(self.pool_dir, 'pool')
        # VIRTD_TEST_SHOTS=DIR keeps the screenshots (docs/web-ui/).
        shots = os.environ.get('VIRTD_TEST_SHOTS') or os.path.join(d.root, 'shots')
        cmd = [test_web_ui.NODE, HOST_TEST, '--url', self.url, '--user', self.user,
               '--password', self.password, '--shots', shots, '--net', NET,
               '--net-address', '198.51.100.1', '--pool', POOL, '--pool-path', pool_path]
        t0 = time.monotonic()
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           universal_newlines=True, timeout=180 * harness.TIMEOUT_SCALE,
                           env=dict(os.environ, VIRTD_TEST_CHROMIUM=self.chromium))
        lines = [l for l in r.stdout.splitlines() if l.startswith('{')]
        res = json.loads(lines[-1]) if lines else {}
        print('web-host (%.1f s): %s' % (time.monotonic() - t0, json.dumps(res, indent=1)), file=sys.stderr)
        if r.returncode != 0 or not res.get('ok'):
            self.fail('browser failed (rc %s): %s\nstderr: %s\nscreenshots: %s\n%s' %
                      (r.returncode, res.get('error'), r.stderr[-3000:], shots, d.daemon_log_tail()))

        # The page's verdict is the daemon's probe's.
        self.assertIn('KVM: %s.' % host['kvm']['status'], res['kvm_verdict'])
        if host['kvm']['detail']:
            self.assertIn(host['kvm']['detail'], res['kvm_verdict'])
        self.assertEqual(res['host_facts'][:3], ['Host name', 'CPUs', 'Memory'])
        # The network: listed isolated with its address, then gone.
        self.assertIn('isolated', res['net_row'])
        self.assertIn('198.51.100.1/24', res['net_row'])
        self.assertTrue(res['static_host_added'] and res['static_host_removed'])
        nets = [n['name'] for n in d.api_json('GET', '/v1/networks?all=1')['networks']]
        self.assertNotIn(NET, nets)
        # The upload: 100 %, the task log says completed, and /v1/tasks too.
        self.assertRegex(res['upload_text'], r'^100 %: web-test.iso uploaded \(4 MiB\)')
        self.assertEqual(res['upload_progress'], 100)
        self.assertEqual(res['task_state'], 'completed')
        tasks = d.api_json('GET', '/v1/tasks')['tasks']
        up = [t for t in tasks if t['operation'] == 'upload' and t['volume'] == 'web-test.iso']
        self.assertEqual(len(up), 1, tasks)
        self.assertEqual((up[0]['state'], up[0]['progress'], up[0]['pool']), ('completed', 100, POOL))
        self.assertIn('ended_at', up[0])
        # The create and the delete of the volume are tasks too.
        ops = [t['operation'] for t in tasks if t.get('volume') == 'web-test.iso']
        self.assertEqual(ops, ['delete', 'upload', 'create'])
        # Pool and volume gone; the directory stays (a pool's files are the user's).
        pools = [p['name'] for p in d.api_json('GET', '/v1/pools?all=1')['pools']]
        self.assertNotIn(POOL, pools)
        self.assertFalse(os.path.exists(os.path.join(pool_path, 'web-test.iso')))


if __name__ == '__main__':
    harness.main()
