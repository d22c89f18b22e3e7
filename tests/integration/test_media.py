#!/usr/bin/env python3
"""SPICE, sound and USB redirection (issue 10), against real QEMU (TCG):

- the guest virt-install writes for a desktop (SPICE autoport with
  tlsPort='-1', qxl, the agent's spicevmc channel, two USB redirections,
  ich9 sound with <audio type='none'>) starts and boots; domdisplay gives
  spice://127.0.0.1:PORT and that port accepts TCP connections; the live
  XML shows the port; QEMU's command line (its log) has the devices
  libvirt would give; screenshot writes a PNG;
- a second SPICE guest gets another port (the daemon picks them);
- a SPICE password is set over QMP: a wrong ticket gets SPICE's
  "permission denied" and the right one is accepted, where a guest
  without a password accepts any;
- refusals with their reason: a real tlsPort, <gl enable='yes'> without a
  render node, a host audio back end, a tcp redirdev.
"""

import os
import re
import socket
import struct
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import harness
from harness import Daemon, domain_xml

DESKTOP_DEVICES = """
    <channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>
    <input type='tablet' bus='usb'/>
    <graphics type='spice' port='-1' tlsPort='-1' autoport='yes'%s>
      <image compression='off'/>
    </graphics>
    <sound model='ich9'/>
    <audio id='1' type='none'/>
    <video><model type='qxl'/></video>
    <redirdev bus='usb' type='spicevmc'/>
    <redirdev bus='usb' type='spicevmc'/>
"""


def desktop_xml(name, passwd=None):
    extra = DESKTOP_DEVICES % ((" passwd='%s'" % passwd) if passwd else '')
    return domain_xml(name, machine='q35', extra_devices=extra)


def spice_port(d, name):
    uri = d.vsh('domdisplay', name)[1].strip()
    m = re.match(r'^spice://127\.0\.0\.1:(\d+)$', uri)
    if not m:
        raise AssertionError('domdisplay gave %r, not spice://127.0.0.1:PORT' % uri)
    return int(m.group(1))


def recv_exactly(s, n):
    data = b''
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise AssertionError('SPICE server closed the connection')
        data += chunk
    return data


def spice_link(port, password=None):
    """Links to the SPICE main channel (no capabilities: SPICE's ticket
    authentication) and returns the server's link reply error code (0:
    OK); with a password, then sends it as the ticket, RSA-OAEP encrypted
    with the server's key (openssl), and returns the server's verdict (0:
    accepted; 7: SPICE_LINK_ERR_PERMISSION_DENIED)."""
    with socket.create_connection(('127.0.0.1', port), timeout=10) as s:
        # SpiceLinkHeader ("REDQ", 2, 2, size) + SpiceLinkMess: connection
        # id, channel type 1 (main), id, common caps, channel caps, offset.
        body = struct.pack('<IBBIII', 0, 1, 0, 0, 0, 18)
        s.sendall(b'REDQ' + struct.pack('<III', 2, 2, len(body)) + body)
        magic, major, _minor, size = struct.unpack('<4sIII', recv_exactly(s, 16))
        if magic != b'REDQ' or major != 2:
            raise AssertionError('not a SPICE server: %r' % magic)
        reply = recv_exactly(s, size)
        error = struct.unpack('<I', reply[:4])[0]
        if password is None or error:
            return error
        with tempfile.TemporaryDirectory(prefix='vtmed-') as tmp:
            key = os.path.join(tmp, 'key.der')
            with open(key, 'wb') as f:
                f.write(reply[4:4 + 162])       # X.509 SubjectPublicKeyInfo, DER
            ticket = subprocess.run(
                ['openssl', 'pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', key,
                 '-pkeyopt', 'rsa_padding_mode:oaep'],
                input=password.encode() + b'\0', stdout=subprocess.PIPE, check=True).stdout
        s.sendall(ticket)
        return struct.unpack('<I', recv_exactly(s, 4))[0]


class Media(harness.VirtdTestCase):

    def test_desktop_guest(self):
        with Daemon() as d:
            d.define('desk', desktop_xml('desk'))
            d.start_domain('desk')          # boots to the guest's marker
            self.assertEqual(d.domstate('desk', reason=True), 'running (booted)')

            port = spice_port(d, 'desk')
            self.assertGreaterEqual(port, 5900)
            # The server speaks SPICE there; no password: any ticket is accepted.
            self.assertEqual(spice_link(port), 0)
            self.assertEqual(spice_link(port, password='anything'), 0)

            live = ET.fromstring(d.vsh('dumpxml', 'desk')[1])
            g = live.find('./devices/graphics')
            self.assertEqual(g.get('type'), 'spice')
            self.assertEqual(g.get('port'), str(port))
            self.assertEqual(g.get('autoport'), 'yes')
            model = live.find('./devices/video/model')
            self.assertEqual((model.get('type'), model.get('ram'), model.get('vgamem')),
                             ('qxl', '65536', '16384'))

            with open(d.qemu_log_path('desk')) as f:
                argv = f.read()
            for want in ('port=%d,addr=127.0.0.1,disable-ticketing=on,image-compression=off'
                         % port,
                         'spicevmc,id=charchannel0,name=vdagent',
                         '"driver":"virtserialport","chardev":"charchannel0","id":"channel0",'
                         '"name":"com.redhat.spice.0"',
                         '"driver":"qxl-vga","id":"video0","ram_size":67108864',
                         '{"id":"audio1","driver":"none"}',
                         '{"driver":"ich9-intel-hda","id":"sound0"}',
                         '"driver":"hda-duplex","id":"sound0-codec0","bus":"sound0.0","cad":0,'
                         '"audiodev":"audio1"',
                         'spicevmc,id=charredir0,name=usbredir',
                         'spicevmc,id=charredir1,name=usbredir',
                         '{"driver":"usb-redir","chardev":"charredir1","id":"redir1"}'):
                self.assertIn(want, argv)

            shot = d.path('desk.png')
            out = d.vsh('screenshot', 'desk', shot)[1]
            self.assertIn('Screenshot saved to %s, with type of image/png' % shot, out)
            with open(shot, 'rb') as f:
                self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')

            # A second SPICE guest, with a password: its own port, and the
            # password asked for.
            d.define('desk2', desktop_xml('desk2', passwd='s3cret'))
            d.vsh('start', 'desk2', '--paused')
            port2 = spice_port(d, 'desk2')
            self.assertNotEqual(port2, port)
            disp = d.api_json('GET', harness.dom_path('desk2', '/display'))
            self.assertEqual(disp['spice']['port'], port2)
            self.assertTrue(disp['spice']['password'])
            # The link is made; a wrong ticket is refused (permission denied).
            self.assertEqual(spice_link(port2), 0)
            self.assertEqual(spice_link(port2, password='wrong'), 7)
            self.assertEqual(spice_link(port2, password='s3cret'), 0)
            with open(d.qemu_log_path('desk2')) as f:
                self.assertNotIn('disable-ticketing', f.read())

            d.vsh('destroy', 'desk2')
            d.vsh('destroy', 'desk')
            # A second start picks again (other programs on this host may
            # hold ports meanwhile, so which one is not fixed) and serves it.
            harness.wait_for(lambda: not d.qemu_pids(), 20, what='QEMUs gone')
            d.vsh('start', 'desk', '--paused')
            self.assertEqual(spice_link(spice_port(d, 'desk')), 0)
            d.vsh('destroy', 'desk')

    def test_refusals(self):
        cases = [
            ("<graphics type='spice' autoport='yes' tlsPort='5999'/>",
             "TLS for SPICE is not supported yet: remove tlsPort or set defaultMode='insecure'"),
            ("<graphics type='spice' autoport='yes' defaultMode='secure'/>",
             "TLS for SPICE is not supported yet"),
            ("<graphics type='spice' autoport='yes'><gl enable='yes'/></graphics>",
             "needs a render node (/dev/dri/renderD*)"),
            ("<graphics type='spice' autoport='yes'/><sound model='ich9'/>"
             "<audio id='1' type='pulseaudio'/>",
             "<audio id='1' type='pulseaudio'> needs the host's sound system"),
            ("<graphics type='spice' autoport='yes'/>"
             "<redirdev bus='usb' type='tcp'><source mode='connect' host='127.0.0.1' "
             "service='4000'/></redirdev>",
             "USB redirection runs over SPICE only"),
            ("<redirdev bus='usb' type='spicevmc'/>",
             "<redirdev type='spicevmc'> needs <graphics type='spice'>"),
        ]
        with Daemon() as d:
            for i, (devices, reason) in enumerate(cases):
                name = 'refused%d' % i
                d.define(name, domain_xml(name, extra_devices=devices))
                rc, out, err = d.vsh('start', name, check=False)
                self.assertNotEqual(rc, 0, 'started: %s' % devices)
                self.assertIn(reason, err)
                self.assertEqual(d.domstate(name), 'shut off')
            # Nothing of theirs runs.
            self.assertEqual(d.qemu_pids(), [])


if __name__ == '__main__':
    harness.main()
