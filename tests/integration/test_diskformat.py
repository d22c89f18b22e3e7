#!/usr/bin/env python3
"""Disk formats, one-shot definitions and graphics, against real QEMU:

- a qcow2 image attached without <driver type> is recorded as qcow2 at
  define (the header is read once, not at every start);
- a qcow2 image declared raw, or a raw one declared qcow2, is refused at
  start with an error naming the disk, the file and the fix;
- POST /v1/domains?start=1 with the name and UUID of a defined domain runs
  that XML once and keeps the persistent definition (virt-install's
  install phase);
- vncdisplay / domdisplay / screenshot on a guest with VNC graphics,
  booted from Debian's grub-rescue ISO: the PNG is not blank.
"""

import os
import re
import struct
import subprocess
import uuid as uuidlib
import zlib

import harness
from harness import Daemon, domain_xml, disk_xml

GRUB_ISO = '/usr/lib/grub-rescue/grub-rescue-cdrom.iso'


def qemu_img(*args):
    subprocess.run(['qemu-img'] + list(args), check=True, stdout=subprocess.DEVNULL)


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA PNG (what QEMU writes) into rows of bytes."""
    with open(path, 'rb') as f:
        data = f.read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat, width, height, ctype = 8, b'', 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8, 'bit depth %d' % depth
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    bpp = {2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


class DiskFormat(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon()
        cls.d.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)

    def image(self, name, fmt, size='16M'):
        path = self.d.path('images-' + name + '.' + fmt)
        qemu_img('create', '-q', '-f', fmt, path, size)
        return path

    def disk_without_format(self, path):
        xml = re.sub(r' *<driver [^>]*/>\n', '', disk_xml(path))
        self.assertNotIn('driver', xml)
        return xml

    def test_format_recorded_at_define(self):
        path = self.image('probe', 'qcow2')
        out = self.d.vsh('define', self.d.write_xml(
            'fmt1', domain_xml('fmt1', extra_devices=self.disk_without_format(path))))[1]
        xml = self.d.vsh('dumpxml', 'fmt1', '--inactive')[1]
        self.assertIn("type='qcow2'", xml, 'the header says qcow2: ' + out)
        # A guest that later writes another header must not change how the
        # host opens the disk: the definition keeps what define saw.
        with open(path, 'r+b') as f:
            f.write(b'\0' * 4)
        self.assertIn("type='qcow2'", self.d.vsh('dumpxml', 'fmt1', '--inactive')[1])
        self.d.vsh('undefine', 'fmt1')

    def test_format_recorded_at_first_start(self):
        """An image made after define is read at its first start and the
        format recorded then: a header the guest writes later changes
        nothing (the next start refuses instead of guessing again)."""
        path = self.d.path('images-late.qcow2')
        self.d.vsh('define', self.d.write_xml(
            'late', domain_xml('late', extra_devices=self.disk_without_format(path))))
        self.assertNotIn("type='qcow2'", self.d.vsh('dumpxml', 'late', '--inactive')[1])
        qemu_img('create', '-q', '-f', 'qcow2', path, '16M')
        self.d.start_domain('late', wait_boot=False)
        self.assertIn("type='qcow2'", self.d.vsh('dumpxml', 'late', '--inactive')[1])
        self.d.vsh('destroy', 'late')
        with open(path, 'r+b') as f:
            f.write(b'\0' * 4)
        rc, out, err = self.d.vsh('start', 'late', check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('not a qcow2 image', err)
        self.d.vsh('undefine', 'late')

    def test_qcow2_declared_raw_refused(self):
        path = self.image('trap', 'qcow2')
        self.d.define('fmt2', domain_xml('fmt2', extra_devices=disk_xml(path, fmt='raw')))
        rc, out, err = self.d.vsh('start', 'fmt2', check=False)
        self.assertNotEqual(rc, 0)
        for word in ('vda', path, 'qcow2', "type='qcow2'"):
            self.assertIn(word, err)
        self.assertEqual(self.d.domstate('fmt2'), 'shut off')
        self.d.vsh('undefine', 'fmt2')

    def test_raw_declared_qcow2_refused(self):
        path = self.image('notq', 'raw')
        self.d.define('fmt3', domain_xml('fmt3', extra_devices=disk_xml(path, fmt='qcow2')))
        rc, out, err = self.d.vsh('start', 'fmt3', check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('not a qcow2 image', err)
        self.assertIn(path, err)
        self.d.vsh('undefine', 'fmt3')

    def test_run_once_keeps_persistent_definition(self):
        d = self.d
        uid = str(uuidlib.uuid4())
        d.define('once', domain_xml('once', uuid=uid, title='persistent'))
        r = d.api('POST', '/v1/domains?start=1',
                  domain_xml('once', uuid=uid, title='install phase', on_reboot='destroy'))
        self.assertEqual(r.status, 201, r.body)
        d.wait_console('once', 'VIRTD-GUEST-READY')
        self.assertIn('install phase', d.vsh('dumpxml', 'once')[1])
        self.assertIn('persistent', d.vsh('dumpxml', 'once', '--inactive')[1])
        self.assertNotIn('install phase', d.vsh('dumpxml', 'once', '--inactive')[1])
        # on_reboot=destroy of the one-shot XML ends this run ...
        d.vsh('reboot', 'once')
        d.wait_state('once', 'shut off')
        # ... and the next start uses the persistent definition again.
        d.vsh('start', 'once')
        self.assertIn('persistent', d.vsh('dumpxml', 'once')[1])
        d.vsh('destroy', 'once')
        # Another UUID under the same name is still a conflict.
        r = d.api('POST', '/v1/domains?start=1', domain_xml('once', uuid=str(uuidlib.uuid4())))
        self.assertApiError(r, 409, 'exists')
        d.vsh('undefine', 'once')

    def volume_disk(self, pool, vol, target='vda', fmt=None):
        drv = "<driver name='qemu' type='%s'/>" % fmt if fmt else ''
        return ("<disk type='volume' device='disk'>%s<source pool='%s' volume='%s'/>"
                "<target dev='%s' bus='virtio'/></disk>" % (drv, pool, vol, target))

    def test_volume_disk_and_undefine_with_storage(self):
        d = self.d
        d.vsh('vol-create-as', 'default', 'sv1.qcow2', '16M', '--format', 'qcow2')
        d.vsh('vol-create-as', 'default', 'sv2.img', '8M')
        vol1 = d.vsh('vol-path', 'sv1.qcow2', '--pool', 'default')[1].strip()
        vol2 = d.vsh('vol-path', 'sv2.img', '--pool', 'default')[1].strip()
        outside = self.image('outside', 'raw')
        devices = (self.volume_disk('default', 'sv1.qcow2') +
                   disk_xml(vol2, target='vdb') + disk_xml(outside, target='vdc') +
                   "<disk type='file' device='cdrom'><source file='%s'/>"
                   "<target dev='hdc' bus='ide'/><readonly/></disk>" % GRUB_ISO)
        d.define('sv', domain_xml('sv', extra_devices=devices))
        d.start_domain('sv')
        # The volume's format came from the pool: the guest sees a 16 MiB disk.
        con = d.console('sv')
        try:
            con.read_until('guest# ')
            con.type_until('echo size-$(cat /sys/block/vda/size)-$(cat /sys/block/vdb/size)',
                           'size-32768-16384')
        finally:
            con.close()
        # In use: neither vol-delete nor undefine --remove-all-storage touch it.
        rc, out, err = d.vsh('vol-delete', 'sv1.qcow2', '--pool', 'default', check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('sv', err)
        rc, out, err = d.vsh('undefine', 'sv', '--remove-all-storage', check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('destroy', err)
        self.assertEqual(d.domstate('sv'), 'running')
        d.vsh('destroy', 'sv')
        # A name that is not a disk of the domain: refused, nothing changes.
        rc, out, err = d.vsh('undefine', 'sv', '--storage', 'vdz', check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("Volume 'vdz' was not found", err)
        self.assertEqual(d.domstate('sv'), 'shut off')
        rc, out, err = d.vsh('undefine', 'sv', '--remove-all-storage', check=False)
        self.assertEqual(rc, 0, err)
        self.assertIn("Domain 'sv' has been undefined", out)
        self.assertIn("Volume 'vda'(%s) removed." % vol1, out)
        self.assertIn("Volume 'vdb'(%s) removed." % vol2, out)
        self.assertIn("Volume 'vdc'(%s) kept: not managed by a storage pool" % outside, err)
        self.assertFalse(os.path.exists(vol1))
        self.assertFalse(os.path.exists(vol2))
        self.assertTrue(os.path.exists(outside))
        self.assertTrue(os.path.exists(GRUB_ISO))
        self.assertNotIn('sv1.qcow2', d.vsh('vol-list', 'default')[1])

    def test_undefine_named_storage(self):
        d = self.d
        d.vsh('vol-create-as', 'default', 'nv1.img', '8M')
        d.vsh('vol-create-as', 'default', 'nv2.img', '8M')
        p1 = d.vsh('vol-path', 'nv1.img', '--pool', 'default')[1].strip()
        p2 = d.vsh('vol-path', 'nv2.img', '--pool', 'default')[1].strip()
        d.define('nv', domain_xml('nv', extra_devices=disk_xml(p1) + disk_xml(p2, target='vdb')))
        out = d.vsh('undefine', 'nv', '--storage', p2)[1]
        self.assertIn("Volume 'vdb'(%s) removed." % p2, out)
        self.assertNotIn('vda', out)
        self.assertTrue(os.path.exists(p1))
        self.assertFalse(os.path.exists(p2))

    def test_volume_of_missing_pool_refused_at_start(self):
        d = self.d
        d.define('nopool', domain_xml('nopool', extra_devices=self.volume_disk('nosuch', 'x.img')))
        rc, out, err = d.vsh('start', 'nopool', check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('nosuch', err)
        self.assertIn('vda', err)
        d.vsh('undefine', 'nopool')

    def test_display_and_screenshot(self):
        d = self.d
        xml = ("<domain type='qemu'><name>scr</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
               "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='cdrom'/></os><devices>"
               "<disk type='file' device='cdrom'><source file='%s'/><target dev='hdc' bus='ide'/>"
               "<readonly/></disk><graphics type='vnc'/></devices></domain>" % GRUB_ISO)
        d.define('scr', xml)
        rc, out, err = d.vsh('vncdisplay', 'scr', check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('not running', err)
        d.vsh('start', 'scr')
        disp = d.vsh('vncdisplay', 'scr')[1].strip()
        self.assertRegex(disp, r'^127\.0\.0\.1:\d+$')
        self.assertEqual(d.vsh('domdisplay', 'scr')[1].strip(), 'vnc://' + disp)
        shot = d.path('scr.png')
        # GRUB's menu takes a few seconds under TCG: poll until the screen
        # shows more than one colour.
        def drawn():
            out = d.vsh('screenshot', 'scr', shot)[1]
            self.assertIn('Screenshot saved to %s, with type of image/png' % shot, out)
            w, h, rows = png_pixels(shot)
            return len(set(rows)) > 10
        harness.wait_for(drawn, 60, interval=1, what='GRUB menu on the screen')
        d.vsh('destroy', 'scr')
        # Without graphics: a clear refusal.
        d.define('nogfx')
        d.start_domain('nogfx', wait_boot=False)
        rc, out, err = d.vsh('screenshot', 'nogfx', shot, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('no graphics device', err)
        rc, out, err = d.vsh('vncdisplay', 'nogfx', check=False)
        self.assertIn('Failed to get VNC port', err)
        d.vsh('destroy', 'nogfx')


if __name__ == '__main__':
    harness.main()
