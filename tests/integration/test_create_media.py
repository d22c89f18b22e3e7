#!/usr/bin/env python3
"""Create VM's daemon side (issue 14): an image build as a task
(POST /v1/images/build: the recipe vsh image build runs, its steps in
GET /v1/tasks, cancelled mid-way: process group gone, partial volume and
work directory removed, state 'cancelled'; killed when the daemon stops); install media
(POST /v1/install-media: vsh install --location's kernel + initrd out of a
Debian netboot tree and out of an ISO) booted to the test guest's READY
line, the install phase started over a disk-boot definition; an upload
a volume clone and a domain save cancelled from the task log; tasks that
cannot be cancelled say so.

The image build downloads from Debian's mirror only until the cancel
(step 2/7, mmdebstrap); a whole build takes minutes and is test_image.py's.
"""

import os
import shutil
import socket
import tempfile
import threading
import time
import uuid

import harness
from harness import Daemon
from test_install import make_debian_layout_iso

STEP_TIMEOUT = 120 * harness.TIMEOUT_SCALE


def task(d, tid):
    for t in d.api_json('GET', '/v1/tasks')['tasks']:
        if t['id'] == tid:
            return t
    raise AssertionError('task %d not in GET /v1/tasks' % tid)


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def install_xmls(name, kernel, initrd, disk):
    """The final definition (boots the disk) and the install phase (the
    installer's kernel + initrd) with the same name and UUID, as the web
    console's Create VM and vsh install make them."""
    u = str(uuid.uuid4())
    final = harness.domain_xml(name, uuid=u, extra_devices=harness.disk_xml(disk))
    # Boot from the disk: no kernel in the definition.
    start, end = final.index('    <kernel>'), final.index('  </os>')
    final = final[:start] + "    <boot dev='hd'/>\n" + final[end:]
    install = harness.domain_xml(name, uuid=u, kernel=kernel, initrd=initrd,
                                 extra_devices=harness.disk_xml(disk))
    return final, install


class CreateMedia(harness.VirtdTestCase):

    def test_image_build_progress_and_cancel(self):
        # The recipe's work directory goes here ($TMPDIR): checked empty after.
        work = tempfile.mkdtemp(prefix='virtd-imgtask-',
                                dir=os.environ.get('VIRTD_TEST_TMPDIR') or '/var/tmp')
        try:
            with Daemon(env={'TMPDIR': work}) as d:
                r = d.api('POST', '/v1/images/build', {'pool': 'default', 'name': 'x.qcow2',
                                                        'size': 512 << 20})
                self.assertEqual(r.status, 400, r.body)
                self.assertIn('too small', r.error_message())
                r = d.api('POST', '/v1/images/build', {'template': 'nosuch', 'pool': 'default',
                                                        'name': 'x.qcow2'})
                self.assertEqual(r.status, 400, r.body)
                self.assertIn('debian-12', r.error_message())

                t0 = time.monotonic()
                j = d.api_json('POST', '/v1/images/build',
                               {'template': 'debian-12', 'pool': 'default', 'name': 'b.qcow2',
                                'size': '2G', 'hostname': 'built', 'root_password': 'pw'},
                               expect=202)
                tid, pgid = j['task'], j['pgid']
                self.assertEqual(j['path'], d.path('lib', 'images', 'b.qcow2'))
                self.assertTrue(group_alive(pgid))
                # Steps as the recipe reports them: 1/7 tools, 2/7 mmdebstrap.
                seen = []

                def at_step_2():
                    t = task(d, tid)
                    if t.get('detail') and t['detail'] not in seen:
                        seen.append(t['detail'])
                    self.assertEqual(t['state'], 'running', t)
                    return t if t.get('detail', '').startswith('2/7 ') else None
                t = harness.wait_for(at_step_2, STEP_TIMEOUT, interval=0.2,
                                     what='step 2/7 of the image build')
                print('  [steps seen %s after %.1f s]' % (seen, time.monotonic() - t0))
                self.assertEqual(t['operation'], 'build')
                self.assertEqual(t['target'], 'volume')
                self.assertEqual(t['volume'], 'b.qcow2')
                self.assertTrue(t['cancellable'])
                self.assertAlmostEqual(t['progress'], 100 / 7, delta=0.5)
                self.assertGreater(t['elapsed'], 0)
                # Let mmdebstrap get going (it is downloading), then cancel.
                time.sleep(3)
                self.assertTrue(group_alive(pgid))
                self.assertEqual(len(os.listdir(work)), 1, os.listdir(work))
                r = d.api('POST', '/v1/tasks/%d/cancel' % tid)
                self.assertEqual(r.status, 202, r.body)

                def ended():
                    t = task(d, tid)
                    return t if t['state'] != 'running' else None
                t = harness.wait_for(ended, 30 * harness.TIMEOUT_SCALE, interval=0.2,
                                     what='the cancelled build to end')
                self.assertEqual(t['state'], 'cancelled', t)
                self.assertIn('stopped during step 2/7', t['message'])
                self.assertFalse(t['cancellable'])
                # SIGKILLed; members that were mid-exit are reaped soon (a loaded
                # machine saw the group for a moment after the task ended).
                harness.wait_for(lambda: not group_alive(pgid), 10, interval=0.1,
                                 what='the recipe process group to end')
                images = os.listdir(d.path('lib', 'images'))
                self.assertEqual([f for f in images if f.startswith('b.qcow2')], [], images)
                self.assertEqual(os.listdir(work), [], 'work directory left behind')
                vols = d.api_json('GET', '/v1/pools/default/volumes')['volumes']
                self.assertEqual([v['name'] for v in vols], [])
                # Cancelling again, or an unknown task: refused with the reason.
                r = d.api('POST', '/v1/tasks/%d/cancel' % tid)
                self.assertEqual(r.status, 409, r.body)
                self.assertIn('already ended', r.error_message())
                r = d.api('DELETE', '/v1/tasks/999')
                self.assertEqual(r.status, 404, r.body)
                # The volume name is free again.
                r = d.api('POST', '/v1/pools/default/volumes', {'name': 'b.qcow2',
                                                                'capacity': 1 << 20})
                self.assertEqual(r.status, 201, r.body)

                # A build does not outlive the daemon: stopped with it.
                j = d.api_json('POST', '/v1/images/build',
                               {'pool': 'default', 'name': 'c.qcow2', 'size': '2G'}, expect=202)
                harness.wait_for(lambda: task(d, j['task']).get('detail', '').startswith('2/7'),
                                 STEP_TIMEOUT, interval=0.2, what='step 2/7 of build c')
                d.stop()
                # SIGKILLed at the daemon's exit; its members reaped by init soon.
                harness.wait_for(lambda: not group_alive(j['pgid']), 10, interval=0.1,
                                 what='the recipe process group to end with the daemon')
                images = os.listdir(d.path('lib', 'images'))
                self.assertEqual([f for f in images if f.startswith('c.qcow2')], [], images)
                self.assertEqual(os.listdir(work), [], 'work directory left behind')
                d.start()
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_install_tree_and_iso_boot(self):
        with Daemon() as d:
            # A Debian netboot tree holding the test guest.
            tree = d.path('netboot')
            amd = os.path.join(tree, 'debian-installer', 'amd64')
            os.makedirs(amd)
            shutil.copy(harness.guest_kernel(), os.path.join(amd, 'linux'))
            shutil.copy(harness.guest_initrd(), os.path.join(amd, 'initrd.gz'))
            m = d.api_json('POST', '/v1/install-media', {'location': tree, 'name': 'tree1'})
            self.assertEqual(m, {'kernel': os.path.join(amd, 'linux'),
                                 'initrd': os.path.join(amd, 'initrd.gz'), 'copied': False})
            # An ISO in Debian's layout: the two files copied into the pool.
            iso = make_debian_layout_iso(d.root)
            m2 = d.api_json('POST', '/v1/install-media', {'location': iso, 'name': 'iso1',
                                                          'pool': 'default'})
            self.assertEqual(m2['kernel'], d.path('lib', 'images', 'iso1.vmlinuz'))
            self.assertEqual(m2['initrd'], d.path('lib', 'images', 'iso1.initrd'))
            self.assertTrue(m2['copied'])
            with open(m2['initrd'], 'rb') as a, open(harness.guest_initrd(), 'rb') as b:
                self.assertEqual(a.read(), b.read())
            self.assertEqual([f for f in os.listdir(d.path('lib', 'images')) if 'install' in f],
                             [], 'staging directory left behind')
            # Not install media: refused with the places looked at.
            empty = d.path('empty')
            os.makedirs(empty)
            r = d.api('POST', '/v1/install-media', {'location': empty, 'name': 'e'})
            self.assertEqual(r.status, 400, r.body)
            self.assertIn('debian-installer/amd64/linux', r.error_message())
            r = d.api('POST', '/v1/install-media', {'location': d.path('etc'), 'name': 'e'})
            self.assertEqual(r.status, 400, r.body)
            # A file that is no ISO: the helper's error, as the daemon's, and no
            # staging directory left behind.
            junk = d.path('junk.iso')
            with open(junk, 'wb') as f:
                f.write(b'not an ISO image\n' * 100)
            r = d.api('POST', '/v1/install-media', {'location': junk, 'name': 'j'})
            self.assertEqual(r.status, 400, r.body)
            self.assertIn("cannot read ISO image '%s'" % junk, r.error_message())
            self.assertEqual([f for f in os.listdir(d.path('lib', 'images')) if 'install' in f],
                             [], 'staging directory left behind')
            # The ISOs were read by virtd-install-media: libarchive is not in
            # the daemon's address space.
            with open('/proc/%d/maps' % d.proc.pid) as f:
                self.assertNotIn('libarchive', f.read())

            # Both boot the guest: the install phase over a disk-boot definition.
            for name, media in (('tree1', m), ('iso1', m2)):
                disk = d.path('%s.raw' % name)
                with open(disk, 'wb') as f:
                    f.truncate(16 << 20)
                final, install = install_xmls(name, media['kernel'], media['initrd'], disk)
                d.api_json('POST', '/v1/domains', final, expect=201)
                r = d.api('POST', '/v1/domains?start=1', install)
                self.assertIn(r.status, (200, 201), r.body)
                d.wait_boot(name)
                # The definition still boots the disk.
                xml = d.api('GET', '/v1/domains/%s/xml?inactive=1' % name).body.decode()
                self.assertNotIn('<kernel>', xml)
                d.vsh('destroy', name)

    def test_install_media_time_limit(self):
        # A helper that never answers: stopped at the time limit, the request
        # answered 'timeout', the staging directory removed, and the daemon's
        # main loop free meanwhile (the helper runs asynchronously).
        work = tempfile.mkdtemp(prefix='virtd-s14media-')
        helper = os.path.join(work, 'virtd-install-media')
        pidfile = os.path.join(work, 'pid')
        with open(helper, 'w') as f:
            f.write('#!/bin/sh\necho $$ > %s\nexec sleep 300\n' % pidfile)
        os.chmod(helper, 0o755)
        try:
            with Daemon(env={'VIRTD_INSTALL_MEDIA': helper,
                             'VIRTD_TEST_INSTALL_MEDIA_TIMEOUT_S': '3'}) as d:
                iso = make_debian_layout_iso(d.root)
                result = {}

                def media():
                    result['r'] = d.api('POST', '/v1/install-media',
                                        {'location': iso, 'name': 'slow'})
                th = threading.Thread(target=media)
                t0 = time.monotonic()
                th.start()
                harness.wait_for(lambda: os.path.exists(pidfile), 10, interval=0.05,
                                 what='the helper to start')
                with open(pidfile) as f:
                    pid = int(f.read())
                stage = [f for f in os.listdir(d.path('lib', 'images')) if 'install' in f]
                self.assertEqual(len(stage), 1, stage)
                r = d.api('GET', '/v1/domains')
                self.assertEqual(r.status, 200, r.body)
                self.assertLess(time.monotonic() - t0, 2.5, 'the API waited for the helper')
                th.join(30)
                r = result['r']
                self.assertEqual(r.status, 504, r.body)
                self.assertIn('took longer than 3 s', r.error_message())
                # g_timeout_add_seconds() may fire up to a second early.
                self.assertGreater(time.monotonic() - t0, 1.9)
                self.assertFalse(harness.pid_alive(pid), 'the helper still runs')
                self.assertEqual([f for f in os.listdir(d.path('lib', 'images'))
                                  if 'install' in f or f.startswith('slow.')], [])
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_clone_cancel(self):
        # qemu-img convert held at 10 % (exec: the daemon kills this pid).
        wrapper = os.path.join(tempfile.mkdtemp(prefix='virtd-imgtask-qemu-img-'), 'qemu-img')
        with open(wrapper, 'w') as f:
            f.write('#!/bin/sh\nif [ "$1" = convert ]; then echo "    (10.00/100%)"; '
                    'exec sleep 300; fi\nexec qemu-img "$@"\n')
        os.chmod(wrapper, 0o755)
        try:
            with Daemon(env={'VIRTD_QEMU_IMG': wrapper}) as d:
                r = d.api('POST', '/v1/pools/default/volumes', {'name': 's.raw',
                                                                'capacity': 1 << 20})
                self.assertEqual(r.status, 201, r.body)
                result = {}

                def clone():
                    result['r'] = d.api('POST', '/v1/pools/default/volumes/s.raw/clone',
                                        {'name': 'c.raw'})
                th = threading.Thread(target=clone)
                th.start()

                def running():
                    ts = [t for t in d.api_json('GET', '/v1/tasks')['tasks']
                          if t['operation'] == 'clone' and t['state'] == 'running']
                    return ts[0] if ts and ts[0]['progress'] == 10 else None
                t = harness.wait_for(running, 20, what='the clone at 10 %')
                self.assertTrue(t['cancellable'])
                r = d.api('POST', '/v1/tasks/%d/cancel' % t['id'])
                self.assertEqual(r.status, 202, r.body)
                th.join(30)
                self.assertFalse(th.is_alive())
                self.assertEqual(result['r'].status, 500, result['r'].body)
                self.assertIn('cancelled', result['r'].error_message())
                states = {(x['operation'], x['state']) for x in
                          d.api_json('GET', '/v1/tasks')['tasks']
                          if x['operation'] in ('clone', 'clone-source')}
                self.assertEqual(states, {('clone', 'cancelled'), ('clone-source', 'cancelled')})
                self.assertFalse(os.path.exists(d.path('lib', 'images', 'c.raw')))
                self.assertEqual(harness.processes_mentioning(wrapper), [])
        finally:
            shutil.rmtree(os.path.dirname(wrapper), ignore_errors=True)

    def test_domain_job_cancel(self):
        # A save at 1 MiB/s: a domain job that domjobabort may abort.
        with Daemon() as d:
            d.define('sj1', memory_mib=256)
            d.start_domain('sj1')
            img = d.path('slow.save')
            result = {}

            def slow_save():
                result['r'] = d.api('POST', harness.dom_path('sj1', '/save'),
                                    {'file': img, 'max_bandwidth_mib': 1}, timeout=120)
            th = threading.Thread(target=slow_save)
            th.start()
            try:
                def running():
                    ts = [t for t in d.api_json('GET', '/v1/tasks')['tasks']
                          if t['target'] == 'domain' and t['state'] == 'running']
                    return ts[0] if ts and ts[0]['cancellable'] else None
                t = harness.wait_for(running, 30, interval=0.2, what='a cancellable save task')
                r = d.api('POST', '/v1/tasks/%d/cancel' % t['id'])
                self.assertEqual(r.status, 202, r.body)
            finally:
                th.join(60)
            self.assertNotEqual(result['r'].status, 200, result['r'].body)
            self.assertIn(b'aborted', result['r'].body)
            x = harness.wait_for(lambda: task(d, t['id']) if task(d, t['id'])['state'] != 'running'
                                 else None, 20, what='the save task to end')
            self.assertEqual(x['state'], 'cancelled', x)
            self.assertFalse(x['cancellable'])
            self.assertFalse(os.path.exists(img))
            self.assertEqual(d.domstate('sj1'), 'running')
            d.vsh('destroy', 'sj1')

    def test_upload_cancel(self):
        with Daemon() as d:
            size = 64 << 20
            r = d.api('POST', '/v1/pools/default/volumes', {'name': 'u.raw', 'capacity': size})
            self.assertEqual(r.status, 201, r.body)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(d.sock_path)
            try:
                s.sendall(b'PUT /v1/pools/default/volumes/u.raw/data HTTP/1.1\r\nHost: x\r\n'
                          b'Content-Type: application/octet-stream\r\n'
                          b'Content-Length: %d\r\n\r\n' % size)
                s.sendall(b'\1' * (4 << 20))

                def running():
                    ts = [t for t in d.api_json('GET', '/v1/tasks')['tasks']
                          if t['operation'] == 'upload' and t['state'] == 'running']
                    return ts[0] if ts and ts[0]['progress'] > 0 else None
                t = harness.wait_for(running, 20, what='the upload task with progress')
                self.assertTrue(t['cancellable'])
                r = d.api('POST', '/v1/tasks/%d/cancel' % t['id'])
                self.assertEqual(r.status, 202, r.body)
                answer = b''
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
                self.assertIn(b'cancelled from the task log', answer)
            finally:
                s.close()

            def ended():
                x = task(d, t['id'])
                return x if x['state'] != 'running' else None
            x = harness.wait_for(ended, 20, what='the cancelled upload to end')
            self.assertEqual(x['state'], 'cancelled', x)
            self.assertFalse(x['cancellable'])
            # A finished volume task (the create) was never cancellable.
            create = [y for y in d.api_json('GET', '/v1/tasks')['tasks']
                      if y['operation'] == 'create']
            self.assertTrue(create and not create[0]['cancellable'], create)
            r = d.api('POST', '/v1/tasks/%d/cancel' % create[0]['id'])
            self.assertEqual(r.status, 409, r.body)
            # The volume is free again.
            r = d.api('DELETE', '/v1/pools/default/volumes/u.raw')
            self.assertEqual(r.status, 200, r.body)


if __name__ == '__main__':
    harness.main()
