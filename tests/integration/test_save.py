#!/usr/bin/env python3
"""save / restore / managedsave (issue 12): the guest's memory goes to a
file through QEMU's migration stream and comes back in the same boot
(same boot_id, the in-memory counter goes on, a tmpfs marker survives);
domjobinfo during a save, domjobabort cancels it and the guest runs on;
every refusal leaves everything as it was."""

import os
import re
import threading
import time

import harness
from harness import Daemon, wait_for

COUNTER_RE = re.compile(r'VIRTD-GUEST-COUNTER n=(\d+) boot_id=(%s)' % harness.BOOT_ID_RE)


def counters(d, name):
    return [(int(n), b) for n, b in COUNTER_RE.findall(d.console_text(name))]


def wait_counter(d, name, above=0, boot=None, timeout=60):
    def check():
        for n, b in reversed(counters(d, name)):
            if n > above and (boot is None or b == boot):
                return (n, b)
        return None
    return wait_for(check, timeout, interval=0.3,
                    what=lambda: 'counter above %d (boot %s) on %s: %s' %
                    (above, boot, name, d.console_text(name)[-1500:]))


def type_marker(d, name, text):
    s = d.console(name)
    try:
        s.type_until('echo %s > /tmp/m; echo MARK-$(cat /tmp/m)-OK' % text,
                     'MARK-%s-OK' % text)
    finally:
        s.detach()


def read_marker(d, name, expect):
    """The tmpfs marker reads back as `expect` (a timeout otherwise)."""
    s = d.console(name)
    try:
        s.type_until('echo GOT-$(cat /tmp/m 2>/dev/null || echo none)-END',
                     'GOT-%s-END' % expect)
        return expect
    finally:
        s.detach()


def domain_xml_other(name):
    return harness.domain_xml(name, memory_mib=128,
                              uuid='0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0')


def files_in(path):
    return sorted(os.listdir(path))


class Save(harness.VirtdTestCase):

    def test_save_restore_same_boot(self):
        name = 'vvsave1'
        with Daemon() as d:
            d.define(name, memory_mib=128, cmdline_extra='virtd.counter=1')
            d.start_domain(name)
            n0, boot = wait_counter(d, name, above=2)
            type_marker(d, name, 'vvmem1')
            outdir = os.path.join(d.root, 'vvsaves')
            os.makedirs(outdir)
            img = os.path.join(outdir, 'vv1.save')
            xml_before = d.vsh('dumpxml', name)[1]

            self.assertVshOut(d.vsh('save', name, img), "Domain '%s' saved to %s" % (name, img))
            self.assertEqual(d.domstate(name, reason=True), 'shut off (saved)')
            self.assertEqual(files_in(outdir), ['vv1.save'], 'only the image, no temporary')
            self.assertNoQemu(d)
            n_saved = max(n for n, b in counters(d, name) if b == boot)
            size = os.path.getsize(img)
            self.assertGreater(size, 4096)

            rc, out, _ = d.vsh('save-image-dumpxml', img)
            self.assertIn('<name>%s</name>' % name, out)

            # Refused: save of a shut-off domain; nothing changes.
            _, _, err = d.vsh_fail('save', name, os.path.join(outdir, 'other.save'))
            self.assertIn('domain is not running', err)
            self.assertEqual(files_in(outdir), ['vv1.save'])
            self.assertEqual(os.path.getsize(img), size)
            self.assertEqual(d.domstate(name, reason=True), 'shut off (saved)')

            # Refused: restore of a file that is not a save image.
            junk = os.path.join(outdir, 'junk.save')
            with open(junk, 'wb') as f:
                f.write(os.urandom(16384))
            _, _, err = d.vsh_fail('restore', junk)
            self.assertIn('is not a save image', err)
            self.assertEqual(d.domstate(name, reason=True), 'shut off (saved)')
            self.assertNoQemu(d)
            os.unlink(junk)

            self.assertVshOut(d.vsh('restore', img), 'Domain restored from %s' % img)
            self.assertEqual(d.domstate(name, reason=True), 'running (restored)')
            n1, b1 = wait_counter(d, name, above=n_saved, boot=boot)
            self.assertEqual(b1, boot, 'restore continues the same boot')
            # The counter went on from where it was, not from 1.
            after = [n for n, b in counters(d, name) if b == boot]
            self.assertNotIn(1, after[after.index(n_saved) + 1:] if n_saved in after else after)
            self.assertEqual(len(d.boots(name)), 1, 'no new boot')
            self.assertEqual(read_marker(d, name, 'vvmem1'), 'vvmem1')
            self.assertEqual(d.vsh('dumpxml', name)[1].count('<name>'), xml_before.count('<name>'))

            # Refused: save onto an existing file; the guest runs on.
            _, _, err = d.vsh_fail('save', name, img)
            self.assertIn('already exists', err)
            self.assertEqual(os.path.getsize(img), size)
            self.assertEqual(files_in(outdir), ['vv1.save'])
            self.assertEqual(d.domstate(name), 'running')
            nn, _ = wait_counter(d, name, above=n1, boot=boot)

            # The image of a domain that is no longer defined comes back
            # transient; a domain of that name with another UUID refuses it.
            img2 = os.path.join(outdir, 'vv2.save')
            d.vsh('save', name, img2)
            d.vsh('undefine', name)
            self.assertNotIn(name, [n for _i, n, _s in d.list_all()])
            other = domain_xml_other(name)
            d.define(name, xml=other)
            _, _, err = d.vsh_fail('restore', img2)
            self.assertIn('already exists with uuid', err)
            self.assertEqual(d.domstate(name), 'shut off')
            self.assertTrue(os.path.isfile(img2))
            self.assertNoQemu(d)
            d.vsh('undefine', name)
            r = d.vsh('restore', img2, '--verbose')
            self.assertVshOut(r, 'Domain restored from %s' % img2)
            self.assertIn('Restore: [100 %]', r[2])
            self.assertRegex(d.vsh('dominfo', name)[1], r'Persistent:\s+no')
            wait_counter(d, name, above=nn, boot=boot)
            d.vsh('destroy', name)
            self.assertNoQemu(d)
            self.assertNotIn(name, [n for _i, n, _s in d.list_all()])

    def test_managedsave_start(self):
        name = 'vvmsave'
        with Daemon() as d:
            d.define(name, memory_mib=128, cmdline_extra='virtd.counter=1')
            d.start_domain(name)
            _, boot = wait_counter(d, name, above=2)
            type_marker(d, name, 'vvmem2')
            self.assertVshOut(d.vsh('managedsave', name), "Domain '%s' state saved" % name)
            image = os.path.join(d.root, 'lib', 'save', name + '.save')
            self.assertNoQemu(d)
            self.assertTrue(os.path.isfile(image), 'the managed save image exists')
            info = d.vsh('dominfo', name)[1]
            self.assertRegex(info, r'Managed save:\s+yes')
            self.assertListed(d, name, 'shut off')
            self.assertRegex(d.vsh('list', '--all', '--managed-save')[1],
                             r'-\s+%s\s+saved' % name)
            self.assertIn(name, d.vsh('list', '--all', '--with-managed-save', '--name')[1])
            self.assertNotIn(name, d.vsh('list', '--all', '--without-managed-save', '--name')[1])
            n_saved = max(n for n, b in counters(d, name) if b == boot)

            # Refused: undefine while the image exists; nothing changes.
            _, _, err = d.vsh_fail('undefine', name)
            self.assertIn('Refusing to undefine while domain managed save image exists', err)
            self.assertTrue(os.path.isfile(image))
            self.assertListed(d, name, 'shut off')
            self.assertRegex(d.vsh('dominfo', name)[1], r'Managed save:\s+yes')

            self.assertVshOut(d.vsh('start', name), "Domain '%s' started" % name)
            self.assertEqual(d.domstate(name, reason=True), 'running (restored)')
            wait_counter(d, name, above=n_saved, boot=boot)
            self.assertEqual(len(d.boots(name)), 1, 'start resumed the saved boot')
            self.assertEqual(read_marker(d, name, 'vvmem2'), 'vvmem2')
            self.assertRegex(d.vsh('dominfo', name)[1], r'Managed save:\s+no')
            self.assertFalse(os.path.exists(image), 'the image is spent once the guest runs')
            self.assertEqual(os.listdir(os.path.dirname(image)), [])

            # start --force-boot discards the image and boots afresh.
            d.vsh('managedsave', name)
            self.assertTrue(os.path.isfile(image))
            seen = d.boots(name)
            self.assertVshOut(d.vsh('start', name, '--force-boot'), "Domain '%s' started" % name)
            boot2 = d.wait_boot(name, seen)
            self.assertNotEqual(boot2, boot)
            self.assertFalse(os.path.exists(image))
            self.assertEqual(d.domstate(name, reason=True), 'running (booted)')

            # managedsave-remove: the next start boots afresh too.
            d.vsh('managedsave', name)
            self.assertVshOut(d.vsh('managedsave-remove', name),
                              "Removed managedsave image for domain '%s'" % name)
            self.assertFalse(os.path.exists(image))
            self.assertVshOut(d.vsh('managedsave-remove', name), 'removal skipped')
            self.assertRegex(d.vsh('dominfo', name)[1], r'Managed save:\s+no')
            new_boot = d.start_domain(name)
            self.assertNotIn(new_boot, (boot, boot2))
            # undefine --managed-save removes the image with the definition.
            d.vsh('managedsave', name)
            self.assertVshOut(d.vsh('undefine', name, '--managed-save'),
                              "Domain '%s' has been undefined" % name)
            self.assertFalse(os.path.exists(image))
            self.assertNoQemu(d)

    def test_domjobinfo_and_abort(self):
        name = 'vvjob'
        with Daemon() as d:
            d.define(name, memory_mib=256, cmdline_extra='virtd.counter=1')
            d.start_domain(name)
            n0, boot = wait_counter(d, name, above=2)
            outdir = os.path.join(d.root, 'vvjobs')
            os.makedirs(outdir)
            img = os.path.join(outdir, 'slow.save')
            self.assertIn('Job type:         None', d.vsh('domjobinfo', name)[1])
            result = {}

            def slow_save():
                # 1 MiB/s: the guest's touched memory takes many seconds.
                r = d.api('POST', harness.dom_path(name, '/save'),
                          {'file': img, 'max_bandwidth_mib': 1}, timeout=120)
                result['status'] = r.status
                result['body'] = r.body
            t = threading.Thread(target=slow_save)
            t.start()
            try:
                def progressing():
                    out = d.vsh('domjobinfo', name)[1]
                    m = re.search(r'Data processed:\s+([\d.]+) (\w+)', out)
                    return out if 'Operation:        Save' in out and m and float(m.group(1)) > 0 \
                        else None
                out = wait_for(progressing, 30, interval=0.3, what='a save in progress')
                self.assertIn('Job type:         Unbounded', out)
                self.assertRegex(out, r'Time elapsed:\s+\d+\s+ms')
                self.assertIn('Data total:', out)
                self.assertEqual(d.domstate(name, reason=True), 'paused (saved)')
                # A second save meanwhile is refused.
                _, _, err = d.vsh_fail('save', name, os.path.join(outdir, 'second.save'))
                self.assertIn('is being saved', err)
                d.vsh('domjobabort', name)
            finally:
                t.join(60)
            self.assertFalse(t.is_alive())
            self.assertNotEqual(result['status'], 200, result)
            self.assertIn(b'aborted', result['body'])
            self.assertEqual(files_in(outdir), [], 'an aborted save leaves no file')
            self.assertEqual(d.domstate(name), 'running')
            last = max(n for n, b in counters(d, name) if b == boot)
            wait_counter(d, name, above=last, boot=boot, timeout=20)
            self.assertIn('Job type:         None', d.vsh('domjobinfo', name)[1])
            self.assertIn('Job type:         Cancelled', d.vsh('domjobinfo', name, '--completed')[1])
            # With no limit, the same save completes and domjobinfo --completed says so.
            d.vsh('save', name, img)
            out = d.vsh('domjobinfo', name, '--completed')[1]
            self.assertIn('Job type:         Completed', out)
            self.assertIn('Operation:        Save', out)
            self.assertEqual(files_in(outdir), ['slow.save'])
            d.vsh('restore', img)
            wait_counter(d, name, above=last, boot=boot)
            d.vsh('destroy', name)
            self.assertNoQemu(d)


class KilledDuringSave(harness.VirtdTestCase):
    """A daemon killed (SIGKILL) in the middle of a save or of a managed
    restore restarts consistent: a save whose stream was not complete is
    cancelled (no file, the guest runs on in the same boot); one whose
    stream was complete is finished ("shut off (saved)", the image restores);
    a managed restore keeps its image unless the guest ran from it; and
    autostart resumes a domain from its managed save image."""

    def crash_at(self, d, point):
        d.kill()
        d.extra_env['VIRTD_TEST_CRASH_AT'] = point
        try:
            d.start()
        finally:
            del d.extra_env['VIRTD_TEST_CRASH_AT']

    def request_dying(self, d, method, path, body=None, out=None):
        """A request the daemon dies under: it never answers."""
        try:
            r = d.api(method, path, body, timeout=60)
        except (OSError, harness.http.client.HTTPException) as e:
            r = e
        if out is not None:
            out['r'] = r
        else:
            self.assertNotIsInstance(r, harness.ApiResponse, '%s %s answered' % (method, path))
        return r

    def wait_state(self, d, name, want, timeout=30):
        seen = {}

        def check():
            seen['s'] = d.domstate(name, reason=True)
            return seen['s'] == want
        wait_for(check, timeout, interval=0.2,
                 what=lambda: '%s to be %r (is %r)\n%s' % (name, want, seen.get('s'),
                                                          d.daemon_log_tail(15)))

    def test_killed_during_save(self):
        name = 'vvkill'
        with Daemon() as d:
            d.define(name, memory_mib=128, cmdline_extra='virtd.counter=1')
            d.start_domain(name)
            _, boot = wait_counter(d, name, above=2)
            type_marker(d, name, 'vvmem3')
            outdir = os.path.join(d.root, 'vvkills')
            os.makedirs(outdir)
            img = os.path.join(outdir, 'vvk.save')
            record = os.path.join(d.root, 'run', 'domains', name + '.save-job')
            managed = os.path.join(d.root, 'lib', 'save', name + '.save')

            # 1. Killed while a slow save streams: cancelled, the guest runs on.
            result = {}
            t = threading.Thread(target=self.request_dying,
                                 args=(d, 'POST', harness.dom_path(name, '/save'),
                                       {'file': img, 'max_bandwidth_mib': 1}, result))
            t.start()

            def streaming():
                out = d.vsh('domjobinfo', name)[1]
                m = re.search(r'Data processed:\s+([\d.]+)', out)
                return m and float(m.group(1)) > 0
            wait_for(streaming, 30, interval=0.2, what='a save in progress')
            self.assertEqual(files_in(outdir), ['.vvk.save.vdsave-tmp'])
            self.assertTrue(os.path.isfile(record), 'the save is recorded')
            d.kill()
            t.join(30)
            self.assertNotIsInstance(result.get('r'), harness.ApiResponse,
                                     'the save never answered')
            d.start()
            self.wait_state(d, name, 'running (unpaused)')
            self.assertEqual(files_in(outdir), [], 'no temporary file, no image')
            self.assertFalse(os.path.exists(record))
            last = max(n for n, b in counters(d, name) if b == boot)
            n1, _ = wait_counter(d, name, above=last, boot=boot, timeout=20)
            self.assertEqual(len(d.boots(name)), 1, 'the same boot runs on')
            self.assertEqual(read_marker(d, name, 'vvmem3'), 'vvmem3')
            self.assertIn('Job type:         None', d.vsh('domjobinfo', name)[1])

            # 2. Killed once the stream is complete and synced, before the
            # rename: the restart finishes the managed save.
            self.crash_at(d, 'save-synced')
            self.request_dying(d, 'POST', harness.dom_path(name, '/managedsave'), {})
            wait_for(lambda: d.proc.poll() is not None, 30, what='virtd to kill itself')
            self.assertTrue(os.path.isfile(os.path.join(d.root, 'lib', 'save',
                                                        '.%s.save.vdsave-tmp' % name)))
            d.start()
            self.wait_state(d, name, 'shut off (saved)')
            self.assertNoQemu(d)
            self.assertEqual(os.listdir(os.path.dirname(managed)), [name + '.save'])
            self.assertFalse(os.path.exists(record))
            self.assertRegex(d.vsh('dominfo', name)[1], r'Managed save:\s+yes')
            n_saved = max(n for n, b in counters(d, name) if b == boot)

            # 3. Killed while the managed restore sets QEMU up: the start
            # failed, the image is kept, and "start" again restores it.
            self.crash_at(d, 'setting-up')
            self.request_dying(d, 'POST', harness.dom_path(name, '/start'))
            wait_for(lambda: d.proc.poll() is not None, 30, what='virtd to kill itself')
            d.start()
            self.wait_state(d, name, 'shut off (failed)')
            self.assertNoQemu(d)
            self.assertTrue(os.path.isfile(managed), 'the image is kept')
            self.assertRegex(d.vsh('dominfo', name)[1], r'Managed save:\s+yes')

            # 4. Killed once the restored guest runs ("cont" answered): the
            # start is complete and the image spent.
            self.crash_at(d, 'resumed')
            self.request_dying(d, 'POST', harness.dom_path(name, '/start'))
            wait_for(lambda: d.proc.poll() is not None, 30, what='virtd to kill itself')
            d.start()
            self.wait_state(d, name, 'running (restored)')
            wait_for(lambda: not os.path.exists(managed), 10, what='the spent image removed')
            self.assertRegex(d.vsh('dominfo', name)[1], r'Managed save:\s+no')
            self.assertFalse(os.path.exists(record))
            n2, _ = wait_counter(d, name, above=n_saved, boot=boot)
            self.assertEqual(len(d.boots(name)), 1, 'the saved boot goes on')
            self.assertEqual(read_marker(d, name, 'vvmem3'), 'vvmem3')

            # 5. Autostart resumes the domain from its managed save image.
            self.assertVshOut(d.vsh('managedsave', name), "Domain '%s' state saved" % name)
            d.vsh('autostart', name)
            n_saved = max(n for n, b in counters(d, name) if b == boot)
            d.restart()
            self.wait_state(d, name, 'running (restored)')
            wait_counter(d, name, above=n_saved, boot=boot)
            self.assertEqual(len(d.boots(name)), 1, 'autostart restored the saved boot')
            self.assertFalse(os.path.exists(managed))
            self.assertIn('restored from its managed save image', d.daemon_log_tail(300))
            d.vsh('autostart', name, '--disable')
            d.vsh('destroy', name)
            self.assertNoQemu(d)


if __name__ == '__main__':
    harness.main()
