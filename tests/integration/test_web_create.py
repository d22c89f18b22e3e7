#!/usr/bin/env python3
"""Create VM's install-tree and image-build sources and the Task log's
Cancel, in Debian's Chromium (tests/web/create-test.mjs) against a real
virtd (--web, PAM login), set up as test_web_ui.py does (its own network
namespace): a Debian netboot tree holding the test guest booted to its
READY line; an image build followed to the end (the VM defined, started,
the page on its console); builds cancelled from the Create page and from
the Task log (process gone, nothing defined, no volume left).

The daemon runs a stand-in debian-12 recipe (VSH_IMAGE_RECIPES): its
namespace has no route to Debian's mirror, and a real build takes minutes;
the stand-in speaks the same protocol (@@step, @@info), writes OUTPUT.part
and renames it, as the real one does. The real recipe as a daemon task is
test_create_media.py's."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import harness
import test_web_ui as webui

CREATE_TEST = os.path.join(harness.SRCROOT, 'tests', 'web', 'create-test.mjs')

# Arguments as src/image/debian-12.sh takes them; "slow" as the host name
# holds the build in step 2 (mmdebstrap's) until it is stopped.
STAND_IN = r'''#!/bin/sh
set -eu
while [ $# -gt 0 ]; do
    case "$1" in
    --output) OUTPUT=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --hostname) HOST=$2; shift 2 ;;
    --format|--workdir|--root-password-file|--ssh-key|--packages|--cache) shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
echo "@@step 1/7 Checking the tools"
sleep 0.3
echo "@@step 2/7 Installing Debian packages with mmdebstrap"
if [ "$HOST" = slow ]; then sleep 300 & wait; else sleep 2; fi
qemu-img create -q -f qcow2 "$OUTPUT.part" "$SIZE"
for n in 3 4 5 6 7; do echo "@@step $n/7 step $n"; sleep 0.5; done
echo "@@info kernel_version 6.1.0-test"
mv "$OUTPUT.part" "$OUTPUT"
'''


class WebCreate(webui.WebUI):
    # Only this file's test: the inherited ones run in test_web_ui.py.
    test_1_login_start_console_shutdown = None
    test_2_list_with_1000_domains = None

    @classmethod
    def setUpClass(cls):
        cls.recipes = tempfile.mkdtemp(prefix='virtd-imgtask-recipes-')
        # The install tree the page names: the page's user is not root, so
        # its directory must be an allowed one (docs/access.md).
        cls.tree_dir = harness.qemu_reachable(tempfile.mkdtemp(prefix='virtd-webtree-'))
        cls.allowed_paths = [cls.tree_dir]
        with open(os.path.join(cls.recipes, 'debian-12.sh'), 'w') as f:
            f.write(STAND_IN)
        saved = os.environ.get('VSH_IMAGE_RECIPES')
        os.environ['VSH_IMAGE_RECIPES'] = cls.recipes
        try:
            super().setUpClass()
        except BaseException:
            # No tearDownClass after a failed setUpClass.
            shutil.rmtree(cls.recipes, ignore_errors=True)
            shutil.rmtree(cls.tree_dir, ignore_errors=True)
            raise
        finally:
            if saved is None:
                del os.environ['VSH_IMAGE_RECIPES']
            else:
                os.environ['VSH_IMAGE_RECIPES'] = saved

    @classmethod
    def tearDownClass(cls, failed=False):
        super().tearDownClass(failed)
        shutil.rmtree(cls.recipes, ignore_errors=True)
        shutil.rmtree(cls.tree_dir, ignore_errors=True)

    def test_create_from_tree_and_build_cancel(self):
        d = self.d
        tree = os.path.join(self.tree_dir, 'netboot')
        amd = os.path.join(tree, 'debian-installer', 'amd64')
        os.makedirs(amd)
        shutil.copy(harness.guest_kernel(), os.path.join(amd, 'linux'))
        shutil.copy(harness.guest_initrd(), os.path.join(amd, 'initrd.gz'))
        shots = os.path.join(d.root, 'shots')
        cmd = [webui.NODE, CREATE_TEST, '--url', self.url, '--user', self.user,
               '--password', self.password, '--shots', shots, '--pool', 'default',
               '--tree', tree, '--cmdline', harness.GUEST_CMDLINE,
               '--boot-timeout', str(int(harness.BOOT_TIMEOUT) + 30)]
        t0 = time.monotonic()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, universal_newlines=True,
                           timeout=240 * harness.TIMEOUT_SCALE,
                           env=dict(os.environ, VIRTD_TEST_CHROMIUM=self.chromium))
        lines = [l for l in p.stdout.splitlines() if l.startswith('{')]
        res = json.loads(lines[-1]) if lines else {}
        print('web-create (%.1f s): %s' % (time.monotonic() - t0, json.dumps(res, indent=1)),
              file=sys.stderr)
        if p.returncode != 0 or not res.get('ok'):
            self.fail('browser failed (rc %s): %s\nstderr: %s\nscreenshots: %s\n%s' %
                      (p.returncode, res.get('error'), p.stderr[-3000:], shots,
                       d.daemon_log_tail()))
        # 1. The install tree booted; the definition boots the disk.
        self.assertIn('VIRTD-GUEST-READY', d.console_text('wct1'))
        self.assertEqual(res['tree_definition_boots'], 'hd')
        self.assertEqual(res['tree_live_on_reboot'], 'destroy')
        # 2. The built image is the new VM's disk; it runs.
        self.assertIn('2/7 Installing Debian packages with mmdebstrap', res['build_steps'])
        self.assertTrue(any(s.startswith(('5/7', '6/7', '7/7')) for s in res['build_steps']),
                        res['build_steps'])
        self.assertEqual(res['built_state'], 'running')
        self.assertEqual(res['built_disk'], [d.path('lib', 'images', 'wcb1.qcow2')])
        # 3, 4. Cancelled builds: nothing defined, no volume or partial file.
        self.assertIn('cancelled', res['create_cancel_text'])
        self.assertFalse(res['create_cancel_defined'])
        self.assertEqual(res['create_cancel_volumes'], [])
        self.assertTrue(res['tasklog_detail'].startswith('2/7'), res['tasklog_detail'])
        self.assertFalse(res['tasklog_cancel_defined'])
        self.assertEqual(res['ended_rows_with_button'], 0)
        self.assertIn('build:wcb2.qcow2:cancelled', res['tasklog_states'])
        self.assertIn('build:wcb1.qcow2:completed', res['tasklog_states'])
        left = [f for f in os.listdir(d.path('lib', 'images')) if f.startswith(('wcb2', 'wcb3'))]
        self.assertEqual(left, [])
        # The stand-in's sleeps are gone with their process groups.
        self.assertEqual(harness.processes_mentioning(self.recipes), [])


if __name__ == '__main__':
    harness.main()
