#!/usr/bin/env python3
"""The web pages that change things, end to end in Debian's Chromium
(tests/web/pages-test.mjs) against a real virtd (--web, PAM login) and the
real test guest, set up as test_web_ui.py does (its own network namespace):
Create VM from the guest's kernel + initrd with a new volume, its boot read
from the serial console, a snapshot taken and reverted, a disk hot-added on
the Disks tab (in the live XML and seen by the guest) and resized live, a
shutdown; shut off:
memory and description changed, a NIC added, its link set down, removed, a
clone made, the original renamed and deleted with both disks (its volumes
gone, the clone's copies kept)."""

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import harness
import test_web_ui as webui

PAGES_TEST = os.path.join(harness.SRCROOT, 'tests', 'web', 'pages-test.mjs')


class WebPages(webui.WebUI):
    # Only this file's test: the inherited ones run in test_web_ui.py.
    test_1_login_start_console_shutdown = None
    test_2_list_with_1000_domains = None

    def test_create_disk_snapshot_delete(self):
        d = self.d
        pool_dir = os.path.join(d.root, 'wpool')
        os.makedirs(pool_dir)
        r = d.api('POST', '/v1/pools', "<pool type='dir'><name>wpool</name><target><path>%s</path></target></pool>" % pool_dir)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(d.api('POST', '/v1/pools/wpool/start').status, 200)
        shots = os.path.join(d.root, 'shots')
        cmd = [webui.NODE, PAGES_TEST, '--url', self.url, '--user', self.user, '--password', self.password,
               '--shots', shots, '--name', 'wpg1', '--pool', 'wpool',
               '--kernel', harness.guest_kernel(), '--initrd', harness.guest_initrd(),
               '--cmdline', harness.GUEST_CMDLINE, '--boot-timeout', str(int(harness.BOOT_TIMEOUT) + 30)]
        t0 = time.monotonic()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           universal_newlines=True, timeout=240 * harness.TIMEOUT_SCALE,
                           env=dict(os.environ, VIRTD_TEST_CHROMIUM=self.chromium))
        lines = [l for l in p.stdout.splitlines() if l.startswith('{')]
        res = json.loads(lines[-1]) if lines else {}
        print('web-pages (%.1f s): %s' % (time.monotonic() - t0, json.dumps(res, indent=1)), file=sys.stderr)
        if p.returncode != 0 or not res.get('ok'):
            self.fail('browser failed (rc %s): %s\nstderr: %s\nscreenshots: %s\n%s' %
                      (p.returncode, res.get('error'), p.stderr[-3000:], shots, d.daemon_log_tail()))
        self.assertEqual(res['disks'], ['vda', 'vdb'])
        self.assertEqual(res['live_xml_vdb'], os.path.join(pool_dir, 'wpg1-vdb.qcow2'))
        self.assertTrue(res['guest_sees_vdb'])
        self.assertTrue(res['guest_sees_resize'])
        self.assertEqual(res['snapshot_current'], 'snap1')
        self.assertEqual(res['reverted'], 'current')
        self.assertEqual(sorted(res['delete_boxes']), ['vda:true', 'vdb:true'])
        self.assertTrue(res['description_saved'])
        self.assertEqual(res['nic_link'], 'down')
        self.assertTrue(res['nic_removed'])
        # The daemon's word: the renamed domain and both its volumes are
        # gone; the clone (its own copies of both disks) stays.
        self.assertEqual(sorted(s['name'] for s in d.domains() if s['name'].startswith('wpg')), ['wpg1-clone'])
        self.assertEqual(len(res['clone_disks']), 2)
        self.assertEqual(d.api('POST', '/v1/pools/wpool/refresh').status, 200)
        vols = sorted(v['path'] for v in d.api('GET', '/v1/pools/wpool/volumes').json()['volumes'])
        self.assertEqual(vols, sorted(res['clone_disks']))
        self.assertEqual(sorted(os.listdir(pool_dir)), sorted(os.path.basename(p) for p in res['clone_disks']))
        root = ET.fromstring(d.api('GET', '/v1/domains/wpg1-clone/xml?inactive=1').body)
        self.assertEqual(root.findtext('memory'), str(192 * 1024))
        self.assertEqual(root.findall('devices/interface'), [])
        r = d.api('DELETE', '/v1/domains/wpg1-clone?remove_all_storage=1')
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(os.listdir(pool_dir), [])
        # The guest's console log (kept under its name at the time: wpg1,
        # or wpg1-r after the rename).
        log = ''
        for n in ('wpg1', 'wpg1-r'):
            p = os.path.join(d.root, harness.CONSOLE_LOG.format(name=n))
            if os.path.exists(p):
                with open(p, errors='replace') as f:
                    log += f.read()
        self.assertIn('disks=vda,vdb', log)
        self.assertIn('VIRTD-GUEST-POWERBUTTON', log)


if __name__ == '__main__':
    harness.main()
