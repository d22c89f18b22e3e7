#!/usr/bin/env python3
"""The graphical console's WebSocket, GET /v1/domains/NAME/vnc: the daemon
hands QEMU one end of a socket pair (getfd + add_client) and relays the RFB
stream, so a browser (noVNC) needs no VNC port of its own. Real guests with
<graphics type='vnc'/>: the RFB handshake through the WebSocket up to a
framebuffer update with pixels; QEMU sees a UNIX-socket client, not a TCP
one; a VNC password is asked for (the proxy only relays); a domain without
VNC, a stopped one and an unknown one are refused before the upgrade with
the reason; a browser that reads nothing does not grow the daemon; the
session ends when the domain stops; 20 sessions leave no descriptor and no
memory behind."""

import re
import select
import struct
import time

import harness
from harness import Daemon, WebSocket, dom_path, domain_xml

VNC = "    <graphics type='vnc'/>\n    <video><model type='vga'/></video>"
VNC_PW = ("    <graphics type='vnc' passwd='s3cret-pw'/>\n"
          "    <video><model type='vga'/></video>")


class Rfb:
    """An RFB 3.8 client over the test's WebSocket."""

    def __init__(self, ws):
        self.ws = ws
        self.pos = 0

    def read(self, n, timeout=30):
        deadline = time.monotonic() + timeout * harness.TIMEOUT_SCALE
        while len(self.ws.data) < self.pos + n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError('RFB: wanted %d bytes, have %d' %
                                   (n, len(self.ws.data) - self.pos))
            if not self.ws._pump(min(left, 0.5)) and len(self.ws.data) < self.pos + n:
                raise harness.HarnessError('RFB: WebSocket closed after %r' %
                                           self.ws.data[self.pos:self.pos + 200])
        out = self.ws.data[self.pos:self.pos + n]
        self.pos += n
        # Keep only what is not read yet (updates are large).
        self.ws.data = self.ws.data[self.pos:]
        self.pos = 0
        return out

    def version(self):
        v = self.read(12)
        self.ws.send(b'RFB 003.008\n')
        return v

    def security_types(self):
        n = self.read(1)[0]
        return list(self.read(n)) if n else []

    def init(self):
        """ClientInit (shared) -> (width, height, bits per pixel, name)."""
        self.ws.send(b'\x01')
        w, h = struct.unpack('>HH', self.read(4))
        pf = self.read(16)
        (name_len,) = struct.unpack('>I', self.read(4))
        return w, h, pf[0], self.read(name_len).decode('utf-8', 'replace')

    def handshake_none(self):
        self.version()
        types = self.security_types()
        assert 1 in types, types
        self.ws.send(b'\x01')
        assert self.read(4) == b'\0\0\0\0'
        return self.init()

    def request_update(self, w, h, incremental=0):
        self.ws.send(struct.pack('>BBHHHH', 3, incremental, 0, 0, w, h))

    def read_update(self, bpp):
        """A FramebufferUpdate in raw encoding: [(x, y, w, h, pixels)]."""
        msg = self.read(1)[0]
        while msg != 0:
            # 2: Bell, nothing follows; 3: ServerCutText, skipped.
            if msg == 3:
                self.read(3)
                (n,) = struct.unpack('>I', self.read(4))
                self.read(n)
            elif msg != 2:
                raise AssertionError('unexpected RFB message %d' % msg)
            msg = self.read(1)[0]
        self.read(1)
        (nrects,) = struct.unpack('>H', self.read(2))
        rects = []
        for _ in range(nrects):
            x, y, w, h, enc = struct.unpack('>HHHHi', self.read(12))
            if enc != 0:
                raise AssertionError('encoding %d without SetEncodings' % enc)
            rects.append((x, y, w, h, self.read(w * h * bpp // 8)))
        return rects


def fd_count(pid):
    import os
    return len(os.listdir('/proc/%d/fd' % pid))


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS')


class VncProxy(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = d = Daemon()
        d.__enter__()
        try:
            d.define('vnc1', domain_xml('vnc1', memory_mib=128, extra_devices=VNC))
            d.define('vncpw', domain_xml('vncpw', memory_mib=128, extra_devices=VNC_PW))
            # Never started: its lack of VNC is told before its state.
            d.define('novnc', domain_xml('novnc', memory_mib=128))
            d.define('vncoff', domain_xml('vncoff', memory_mib=128, extra_devices=VNC))
            for name in ('vnc1', 'vncpw'):
                d.vsh('start', name)
            for name in ('vnc1', 'vncpw'):
                d.wait_boot(name)
        except BaseException:
            d.cleanup(failed=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)

    def open(self, name, protocols=('binary',)):
        ws, err = WebSocket.connect(self.d, name, suffix='/vnc', protocols=protocols)
        self.assertIsNone(err, err and (err.status, err.body))
        return ws

    def vnc_clients(self, name):
        r = self.d.api_json('POST', dom_path(name, '/qemu-monitor'), {'execute': 'query-vnc'})
        return r['return'].get('clients', [])

    def test_1_handshake_and_pixels(self):
        ws = self.open('vnc1')
        try:
            self.assertEqual(ws.headers.get('sec-websocket-protocol'), 'binary', ws.headers)
            rfb = Rfb(ws)
            w, h, bpp, name = rfb.handshake_none()
            self.assertGreater(w, 0)
            self.assertGreater(h, 0)
            self.assertIn(bpp, (8, 16, 32))
            self.assertIn('vnc1', name)
            rfb.request_update(w, h)
            rects = rfb.read_update(bpp)
            self.assertTrue(rects, 'an update without rectangles')
            covered = sum(rw * rh for _x, _y, rw, rh, _p in rects)
            self.assertEqual(covered, w * h, rects and [r[:4] for r in rects])
            pixels = b''.join(r[4] for r in rects)
            self.assertEqual(len(pixels), w * h * bpp // 8)
            # SeaBIOS's text on the VGA screen: not one colour.
            self.assertGreater(len(set(pixels)), 1, 'a blank screen')
            # QEMU's client is the daemon's socket pair, not TCP.
            clients = self.vnc_clients('vnc1')
            self.assertEqual([c.get('family') for c in clients], ['unix'], clients)
            # And the session stays interactive: an incremental request
            # after a key press gets its answer.
            ws.send(struct.pack('>BBxxI', 4, 1, 0xff0d) + struct.pack('>BBxxI', 4, 0, 0xff0d))
            rfb.request_update(w, h, incremental=0)
            self.assertTrue(rfb.read_update(bpp))
        finally:
            ws.close()
        harness.wait_for(lambda: not self.vnc_clients('vnc1'), 15,
                         what='QEMU dropping the VNC client after the WebSocket closed')

    def test_2_password_is_asked(self):
        ws = self.open('vncpw')
        try:
            rfb = Rfb(ws)
            self.assertEqual(rfb.version(), b'RFB 003.008\n')
            # VNC authentication only: the proxy does not skip QEMU's.
            self.assertEqual(rfb.security_types(), [2])
            ws.send(b'\x02')
            self.assertEqual(len(rfb.read(16)), 16)  # the challenge
            ws.send(b'\0' * 16)
            (result,) = struct.unpack('>I', rfb.read(4))
            self.assertEqual(result, 1, 'a wrong password was accepted')
        finally:
            ws.close()

    def test_3_refusals(self):
        d = self.d
        ws, err = WebSocket.connect(d, 'novnc', suffix='/vnc', protocols=['binary'])
        self.assertIsNone(ws)
        self.assertEqual(err.status, 422, err)
        self.assertEqual(err.error_code(), 'unsupported', err)
        self.assertIn("add <graphics type='vnc'/>", err.error_message())
        self.assertIn('graphics', err.headers.get('x-virtd-error', ''))

        ws, err = WebSocket.connect(d, 'vncoff', suffix='/vnc', protocols=['binary'])
        self.assertIsNone(ws)
        self.assertEqual(err.status, 409, err)
        self.assertIn('not running', err.error_message())

        ws, err = WebSocket.connect(d, 'nosuch', suffix='/vnc', protocols=['binary'])
        self.assertIsNone(ws)
        self.assertEqual(err.status, 404, err)

        # Not an upgrade: says what it is.
        r = d.api('GET', dom_path('vnc1', '/vnc'))
        self.assertEqual(r.status, 400, r)
        self.assertIn('WebSocket', r.error_message())

        # A subprotocol other than "binary" fails the handshake.
        ws, err = WebSocket.connect(d, 'vnc1', suffix='/vnc', protocols=['base64'])
        self.assertIsNone(ws)
        self.assertEqual(err.status, 400, err)

    def test_4_slow_browser_bounded(self):
        """Full-screen updates asked for and never read: the daemon holds
        what the browser's socket does not take to about a chunk."""
        pid = self.d.pid
        ws = self.open('vnc1')
        try:
            rfb = Rfb(ws)
            w, h, bpp, _name = rfb.handshake_none()
            before = rss_kib(pid)
            # One request at a time, as a browser does: QEMU answers each
            # with the whole screen once its socket to the daemon has room.
            # A daemon reading greedily would queue every one.
            n = 0
            end = time.monotonic() + 4
            while time.monotonic() < end:
                # Once the daemon stops reading this client (its answers
                # are not read: ws-guard.h), the requests wait here.
                if select.select([], [ws.sock], [], 0)[1]:
                    rfb.request_update(w, h)
                    n += 1
                time.sleep(0.02)
            time.sleep(1)
            grown = rss_kib(pid) - before
            self.assertLess(grown, 16 * 1024, 'daemon RSS grew by %d KiB after %d requests of '
                            '%d KiB each' % (grown, n, w * h * bpp // 8 // 1024))
            # What was waiting still arrives once the browser reads.
            self.assertTrue(rfb.read_update(bpp))
        finally:
            ws.close()

    def test_5_cycles_leave_nothing(self):
        d = self.d
        pid = d.pid

        def cycle(i):
            # noVNC offers "binary" only when told to (wsProtocols): by
            # default it offers no subprotocol, which is fine too.
            ws = self.open('vnc1', protocols=('binary',) if i % 2 else None)
            self.assertEqual(ws.headers.get('sec-websocket-protocol'),
                             'binary' if i % 2 else None, ws.headers)
            rfb = Rfb(ws)
            w, h, bpp, _name = rfb.handshake_none()
            rfb.request_update(w, h)
            rfb.read_update(bpp)
            ws.close()

        for i in range(3):  # warm up allocator and libsoup
            cycle(i)
        harness.wait_for(lambda: not self.vnc_clients('vnc1'), 15, what='no VNC client')
        fds, rss = fd_count(pid), rss_kib(pid)
        for i in range(20):
            cycle(i)
        harness.wait_for(lambda: fd_count(pid) <= fds, 15,
                         what='daemon fds back to %d (now %d)' % (fds, fd_count(pid)))
        harness.wait_for(lambda: not self.vnc_clients('vnc1'), 15, what='no VNC client')
        grown = rss_kib(pid) - rss
        self.assertLess(grown, 2048, 'daemon RSS grew by %d KiB over 20 sessions' % grown)

    def test_6_domain_stop_ends_session(self):
        d = self.d
        ws = self.open('vncpw')
        rfb = Rfb(ws)
        self.assertEqual(rfb.version(), b'RFB 003.008\n')
        d.vsh('destroy', 'vncpw')
        self.assertTrue(ws.wait_closed(15), 'WebSocket still open after the domain stopped')
        ws.close()

    def irq1(self, ws):
        """The guest's keyboard interrupts (IRQ 1, i8042), read on its serial
        console."""
        start = len(ws.data)
        ws.send('echo IRQ1=$(grep " 1:" /proc/interrupts | tr -s " " | cut -d" " -f3)-E""ND\n')
        ws.read_until('-END\r', start=start)
        m = re.search(rb'IRQ1=(\d+)-END', ws.data[start:])
        self.assertIsNotNone(m, ws.data[start:])
        return int(m.group(1))

    def test_7_send_key(self):
        d = self.d
        path = dom_path('vnc1', '/send-key')
        for body, why in (({'keys': []}, '1 to 16'), ({'keys': ['a'] * 17}, '1 to 16'),
                          ({}, 'keys'), ({'keys': ['Ctrl Alt']}, 'key names'),
                          ({'keys': [0]}, 'key names'),
                          ({'keys': ['a'], 'holdtime': -1}, 'holdtime')):
            r = d.api('POST', path, body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertIn(why, r.error_message(), body)
        # A name QEMU does not know: QEMU's refusal.
        r = d.api('POST', path, {'keys': ['nosuchkey']})
        self.assertEqual(r.error_code(), 'operation-failed', r)
        self.assertIn('nosuchkey', r.error_message())
        r = d.api('POST', dom_path('vncoff', '/send-key'), {'keys': ['a']})
        self.assertEqual(r.status, 409, r)
        r = d.api('GET', path)
        self.assertEqual(r.status, 405, r)

        # Shift as a qnum code, held 50 ms: the guest's keyboard sees it.
        con, err = WebSocket.connect(d, 'vnc1')
        self.assertIsNone(err, err)
        try:
            before = self.irq1(con)
            r = d.api('POST', path, {'keys': [0x2a], 'holdtime': 50})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json(), {'ok': True})
            harness.wait_for(lambda: self.irq1(con) > before, 15,
                             what='keyboard interrupts in the guest')
        finally:
            con.close()
        # Ctrl+Alt+Del: the test guest's kernel reboots at once (no init
        # turns that off).
        boots = d.boots('vnc1')
        r = d.api('POST', path, {'keys': ['ctrl', 'alt', 'delete']})
        self.assertEqual(r.status, 200, r)
        d.wait_boot('vnc1', seen=boots)

if __name__ == '__main__':
    harness.main()
