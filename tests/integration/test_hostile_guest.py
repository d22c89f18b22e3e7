#!/usr/bin/env python3
"""What a guest or a console client can make the daemon hold: nothing grows
with them. The console log is rotated at --console-log-max (two older
generations kept, the attach backlog still whole right after a rotation);
a console client that takes none of the guest's output, that types faster
than the guest reads, or that floods pings without reading is closed with
the reason instead of being queued for without limit; no WebSocket
compression; a screen dump is read only from the file the daemon made.
(QMP's bounds are in tests/qemu/test-qmp.c.)"""

import ctypes
import os
import select
import socket
import struct
import threading
import time

import harness
from harness import Daemon, WebSocket, dom_path, domain_xml

LOG_MAX = 64 * 1024                 # --console-log-max of this daemon
# The log may pass its maximum by what arrives between two checks (every
# 64 KiB received) and while a rotation runs.
LOG_SLACK = 160 * 1024
# What the daemon may hold for one stuck session, with its allocator's
# overhead (the bound is 1 MiB each way).
RSS_GROWTH_MAX = 6 * 1024 * 1024


def flood(nbytes, n):
    """A shell command printing @nbytes, then END-<7n>: the typed line
    echoed by the terminal holds neither flood-2 nor END-<7n>."""
    return ('yes flood-$((1+1))-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 | head -c %d; '
            'echo END-$((%d*7))' % (nbytes, n))


def rss(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    return 0


class HostileGuest(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = d = Daemon(args=['--console-log-max', '64KiB'])
        d.__enter__()
        try:
            d.define('hg1')
            d.start_domain('hg1')
        except BaseException:
            d.cleanup(failed=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)

    def log_generations(self):
        base = self.d.console_log_path('hg1')
        return {suffix: os.path.getsize(base + suffix)
                for suffix in ('', '.1', '.2', '.3') if os.path.exists(base + suffix)}

    def log_tail(self):
        base = self.d.console_log_path('hg1')
        out = b''
        for suffix in ('.1', ''):
            try:
                with open(base + suffix, 'rb') as f:
                    out += f.read()
            except OSError:
                pass
        return out

    def type_command(self, line):
        """Types `line` at the guest's shell through vsh console and
        detaches once the guest has started on it."""
        with self.d.console('hg1') as c:
            c.type_until('echo ready-$((1+1))', 'ready-2')
            start = len(c.buf)
            c.type_line(line)
            c.read_until('\n', timeout=20, start=start)   # the echo of the typed line
            self.assertEqual(c.detach(), 0, c.text)

    def connect(self):
        """The console WebSocket, once the vsh session before it is gone."""
        def attempt():
            ws, err = WebSocket.connect(self.d, 'hg1')
            if err is not None and err.status == 409:
                return None
            self.assertIsNone(err, err and err.body)
            return ws
        return harness.wait_for(attempt, 10, interval=0.2, what='the console to be free')

    def printed(self, n):
        return ('END-%d' % (7 * n)).encode() in self.log_tail()[-4096:]

    def wait_printed(self, n, timeout=120):
        harness.wait_for(lambda: self.printed(n), timeout, interval=0.5,
                         what=lambda: 'END-%d at the end of the console log; sizes %r'
                         % (7 * n, self.log_generations()))

    def test_1_log_is_rotated(self):
        """A guest printing ten times the maximum leaves the log and two
        older generations, each within the bound, the end of what it
        printed in them, and the whole backlog on attach."""
        self.type_command(flood(10 * LOG_MAX, 1))
        self.wait_printed(1)
        sizes = self.log_generations()
        self.assertNotIn('.3', sizes)
        self.assertIn('.1', sizes)
        self.assertIn('.2', sizes)
        for suffix, size in sizes.items():
            self.assertLessEqual(size, LOG_MAX + LOG_SLACK, 'console log%s: %r' % (suffix, sizes))
        # The backlog on attach is the last 16 KiB, across a rotation.
        with self.connect() as ws:
            ws.read_until('END-7', timeout=20)
            ws.read_until('flood-2-ABC', timeout=5)
        # Right after a rotation the log is (nearly) empty: the backlog
        # continues from the end of the previous generation. (Truncating
        # the log here is what a rotation does; QEMU appends with O_APPEND.)
        os.truncate(self.d.console_log_path('hg1'), 0)
        with self.connect() as ws:
            ws.read_until('flood-2-ABC', timeout=10)

    def test_2_client_not_reading(self):
        """A client that reads nothing while the guest prints: the daemon
        keeps at most ~1 MiB for it, then closes it; the guest never waits."""
        d = self.d
        self.type_command('sleep 3; ' + flood(2 * 1024 * 1024, 2))
        with self.connect() as ws:
            base = peak = rss(d.pid)
            deadline = time.monotonic() + 180 * harness.TIMEOUT_SCALE
            while not self.printed(2):
                self.assertLess(time.monotonic(), deadline, 'the guest did not finish printing')
                peak = max(peak, rss(d.pid))
                time.sleep(0.5)
            self.assertMemoryBound(peak - base, RSS_GROWTH_MAX,
                            'daemon RSS grew from %d to %d' % (base, peak))
            # Now read: what was in the socket, then the end of the session.
            self.assertTrue(ws.wait_closed(30), 'the stuck session is still open')
            self.assertLess(len(ws.data), 1536 * 1024, 'the stuck client got everything')
        # Closed for its backlog, or for having read nothing for 15 s,
        # whichever came first on this machine.
        self.assertRegex(d.daemon_log_tail(200),
                         'console session closed: console (output backed up|client stuck)')
        # The daemon answers, and a new session works.
        self.assertEqual(d.api('GET', '/v1/version').status, 200)
        with self.connect() as ws:
            ws.read_until('END-14', timeout=20)

    def test_3_ping_flood_not_reading(self):
        """Pings without reading the pongs (libsoup queues a pong for each
        without limit): a session whose socket takes nothing for 15 s is
        closed."""
        d = self.d
        with self.connect() as ws:
            base = rss(d.pid)
            ping = bytes([0x89, 0x80 | 125]) + b'\0\0\0\0' + b'p' * 125
            blob = ping * 8000
            # Blocks once the daemon stops reading from a client that does
            # not read; fails once the daemon closes the connection.
            ws.sock.settimeout(60 * harness.TIMEOUT_SCALE)
            deadline = time.monotonic() + 60 * harness.TIMEOUT_SCALE
            dropped = False
            budget = 32 * 1024 * 1024     # far more than the daemon reads from it now
            while time.monotonic() < deadline and not dropped and budget > 0:
                budget -= len(blob)
                try:
                    ws.sock.sendall(blob)
                except socket.timeout:
                    break
                except OSError:
                    dropped = True
            peak = rss(d.pid)
            self.assertTrue(dropped, 'a client flooding pings and reading nothing stayed attached')
        self.assertMemoryBound(peak - base, 128 * 1024 * 1024,
                        'daemon RSS grew from %d to %d' % (base, peak))
        self.assertIn('console client stuck', d.daemon_log_tail(200))
        self.assertEqual(d.api('GET', '/v1/version').status, 200)
        with self.connect() as ws:
            ws.send('echo alive-$((2*3))\r')
            ws.read_until('alive-6', timeout=20)

    def test_4_no_deflate(self):
        """permessage-deflate is not offered: a small frame could inflate
        to a large message."""
        def handshake():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(15)
            try:
                s.connect(self.d.sock_path)
                s.sendall(b'GET /v1/domains/hg1/console HTTP/1.1\r\nHost: localhost\r\n'
                          b'Upgrade: websocket\r\nConnection: Upgrade\r\n'
                          b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
                          b'Sec-WebSocket-Version: 13\r\n'
                          b'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n'
                          b'\r\n')
                head = b''
                while b'\r\n\r\n' not in head:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    head += chunk
            finally:
                s.close()
            return None if b' 409 ' in head.split(b'\r\n')[0] else head
        head = harness.wait_for(handshake, 10, interval=0.2, what='the console to be free')
        self.assertIn(b' 101 ', head.split(b'\r\n')[0], head)
        self.assertNotIn(b'sec-websocket-extensions', head.lower(), head)

    def test_5_input_not_read(self):
        """Typing into a paused guest: the daemon queues at most ~1 MiB for
        it, then closes the session with the reason."""
        d = self.d
        d.vsh('suspend', 'hg1')
        try:
            ws = self.connect()
            base = rss(d.pid)
            chunk = b'#' * 65536
            sent = 0
            with ws:
                try:
                    while sent < 32 * 1024 * 1024 and not ws.closed:
                        ws.send(chunk)
                        sent += len(chunk)
                except OSError:
                    pass      # the daemon closed the connection
                peak = rss(d.pid)
                self.assertTrue(ws.wait_closed(30), 'the session stayed open after %d bytes' % sent)
            self.assertMemoryBound(peak - base, RSS_GROWTH_MAX,
                            'daemon RSS grew from %d to %d' % (base, peak))
            self.assertIn('console input backed up', d.daemon_log_tail(200))
            self.assertEqual(d.api('GET', '/v1/version').status, 200)

            # vsh console says why its session ended, and fails.
            with d.console('hg1', use_pty=False) as c:
                try:
                    for _ in range(64):
                        c.send(chunk)
                except OSError:
                    pass      # vsh exited
                rc = c.wait(30)
                self.assertNotEqual(rc, 0, c.text)
                self.assertIn('console session closed by the daemon: console input backed up',
                              c.text)
        finally:
            d.vsh('destroy', 'hg1', check=False)

    def test_6_screenshot_name_replaced(self):
        """Whatever is put at the screen dump's name while QEMU writes it
        (QEMU runs what its guest controls) is never what the daemon
        reads: here a symlink to a file of secrets replaces the name the
        moment it appears."""
        d = self.d
        d.define('hg2', domain_xml('hg2', extra_devices="<graphics type='vnc'/>"))
        d.start_domain('hg2', wait_boot=False)
        secret = d.path('secret.txt')
        run_dir = os.path.dirname(d.path(harness.PID_FILE.format(name='hg2')))
        swaps = []
        stop = threading.Event()

        def replace_dumps():
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            libc.inotify_add_watch(fd, run_dir.encode(), 0x100)      # IN_CREATE
            try:
                while not stop.is_set():
                    if not select.select([fd], [], [], 0.1)[0]:
                        continue
                    buf = os.read(fd, 65536)
                    i = 0
                    while i < len(buf):
                        _wd, _mask, _cookie, n = struct.unpack_from('iIII', buf, i)
                        name = buf[i + 16:i + 16 + n].rstrip(b'\0').decode()
                        i += 16 + n
                        # Once per name: our own symlink makes an IN_CREATE too.
                        if name.startswith('hg2.screen-') and name not in swaps:
                            path = os.path.join(run_dir, name)
                            try:
                                os.unlink(path)
                                os.symlink(secret, path)
                                swaps.append(name)
                            except OSError:
                                pass
            finally:
                os.close(fd)

        thread = threading.Thread(target=replace_dumps, daemon=True)
        thread.start()
        try:
            for _ in range(5):
                with open(secret, 'w') as f:
                    f.write('SECRET-OF-THE-HOST\n')
                r = d.api('GET', dom_path('hg2', '/screenshot'))
                self.assertNotIn(b'SECRET-OF-THE-HOST', r.body)
                self.assertIn(r.status, (200, 500), r.body)
        finally:
            stop.set()
            thread.join()
            d.vsh('destroy', 'hg2', check=False)
        self.assertTrue(swaps, 'the dump file never appeared in %s' % run_dir)
        # What the daemon created is gone; a symlink of ours made after the
        # daemon removed the name is the test's own leftover.
        leftovers = [n for n in os.listdir(run_dir) if '.screen-' in n
                     and not os.path.islink(os.path.join(run_dir, n))]
        self.assertEqual(leftovers, [])


if __name__ == '__main__':
    harness.main()
