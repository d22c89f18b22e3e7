#!/usr/bin/env python3
"""The serial console through the API: `vsh console` (on a terminal, and on
pipes) and the raw WebSocket. It replays what the guest printed, carries
typing both ways, refuses a second session (busy, exit 7) unless --force,
and ends when the domain stops."""

import harness
from harness import Daemon, WebSocket, dom_path


class Console(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = d = Daemon()
        d.__enter__()
        try:
            d.define('con1')
            d.start_domain('con1')
        except BaseException:
            d.cleanup(failed=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)

    def test_1_vsh_console_tty(self):
        d = self.d
        with d.console('con1') as c:
            # The replay of the last 16 KiB shows the boot marker.
            c.read_until(harness.READY_MARKER, timeout=20)
            start = len(c.buf)
            c.type_line('echo hello-$((6*7))')
            c.read_until('hello-42', timeout=20, start=start)

            # A second session is refused while this one is attached.
            with d.console('con1') as c2:
                rc = c2.wait(20)
                self.assertEqual(rc, 7, 'second console: %r' % c2.text)
                self.assertIn('error: ', c2.text)

            # The first is undisturbed.
            start = len(c.buf)
            c.type_line('echo still-$((1+1))')
            c.read_until('still-2', timeout=20, start=start)

            # --force takes over and closes the first session.
            with d.console('con1', '--force') as c3:
                c3.read_until(harness.READY_MARKER, timeout=20)
                rc1 = c.wait(20)
                self.assertIsNotNone(rc1)
                start = len(c3.buf)
                c3.type_line('echo forced-$((2+3))')
                c3.read_until('forced-5', timeout=20, start=start)
                self.assertEqual(c3.detach(), 0, c3.text)

        # Detached: a new session may attach.
        with d.console('con1') as c4:
            c4.read_until(harness.READY_MARKER, timeout=20)
            self.assertEqual(c4.detach(), 0, c4.text)

    def test_2_vsh_console_pipes(self):
        d = self.d
        with d.console('con1', use_pty=False) as c:
            c.read_until(harness.READY_MARKER, timeout=20)
            start = len(c.buf)
            c.type_line('echo piped-$((3*3))')
            c.read_until('piped-9', timeout=20, start=start)
            self.assertEqual(c.detach(), 0, c.text)

    def test_3_websocket(self):
        d = self.d
        ws, err = WebSocket.connect(d, 'con1')
        self.assertIsNone(err, err and err.body)
        with ws:
            ws.read_until(harness.READY_MARKER, timeout=20)
            start = len(ws.data)
            ws.send('echo ws-$((40+2))\r')
            ws.read_until('ws-42', timeout=20, start=start)

            # Busy: a plain HTTP error instead of the upgrade.
            ws2, err = WebSocket.connect(d, 'con1')
            self.assertIsNone(ws2)
            self.assertApiError(err, 409, 'busy')
            # vsh gets the same answer.
            code, _out, verr = d.vsh('console', 'con1', check=False, timeout=20)
            self.assertEqual(code, 7, verr)

            ws3, err = WebSocket.connect(d, 'con1', force=True)
            self.assertIsNone(err, err and err.body)
            with ws3:
                self.assertTrue(ws.wait_closed(15), 'the forced-out session stayed open')
                start = len(ws3.data)
                ws3.send('echo ws3-$((1+2))\r')
                ws3.read_until('ws3-3', timeout=20, start=start)

    def test_4_unknown_and_stopped(self):
        d = self.d
        code, _out, err = d.vsh('console', 'nope', check=False, timeout=20)
        self.assertEqual(code, 4, err)
        ws, err = WebSocket.connect(d, 'nope')
        self.assertIsNone(ws)
        self.assertApiError(err, 404, 'no-domain')
        d.define('con2')
        try:
            code, _out, err = d.vsh('console', 'con2', check=False, timeout=20)
            self.assertEqual(code, 6, err)
            r = d.api('GET', dom_path('con2', '/console'))
            self.assertIn(r.status, (400, 409), r.body)
        finally:
            d.vsh('undefine', 'con2', check=False)

    def test_5_session_ends_with_domain(self):
        d = self.d
        with d.console('con1') as c:
            c.read_until(harness.READY_MARKER, timeout=20)
            d.vsh('destroy', 'con1')
            rc = c.wait(20)
            self.assertIsNotNone(rc)
        self.assertNoQemu(d)


if __name__ == '__main__':
    harness.main()
