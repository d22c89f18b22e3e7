#!/usr/bin/env python3
"""Autostart: a marked domain starts when the daemon starts; an unmarked one
does not; --disable removes the mark."""

import harness
from harness import Daemon, parse_keyvals


class Autostart(harness.VirtdTestCase):

    def test_autostart_on_daemon_start(self):
        with Daemon() as d:
            d.define('auto1')
            d.define('manual1')
            self.assertVshOut(d.vsh('autostart', 'auto1'), "Domain 'auto1' marked as autostarted")
            self.assertTrue(d.summary('auto1')['autostart'])
            self.assertFalse(d.summary('manual1')['autostart'])
            self.assertEqual(parse_keyvals(d.vsh('dominfo', 'auto1')[1]).get('Autostart'), 'enable')
            self.assertEqual(parse_keyvals(d.vsh('dominfo', 'manual1')[1]).get('Autostart'), 'disable')
            # Marking does not start it.
            self.assertEqual(d.domstate('auto1'), 'shut off')

            d.restart()
            harness.wait_for(lambda: d.domstate('auto1') == 'running', 30,
                             what='auto1 running after the daemon restart')
            self.assertListed(d, 'auto1', 'running')
            self.assertListed(d, 'manual1', 'shut off')
            d.wait_boot('auto1')
            self.assertTrue(d.summary('auto1')['autostart'], 'the mark survives a restart')

            # A second restart leaves the running domain alone (same QEMU).
            pid = d.qemu_pid('auto1')
            domid = d.domid('auto1')
            d.restart()
            self.assertEqual(d.domstate('auto1'), 'running')
            self.assertEqual(d.qemu_pid('auto1'), pid)
            self.assertEqual(d.domid('auto1'), domid)

            # --disable: a restart no longer starts it.
            self.assertVshOut(d.vsh('autostart', '--disable', 'auto1'),
                              "Domain 'auto1' unmarked as autostarted")
            self.assertFalse(d.summary('auto1')['autostart'])
            d.vsh('destroy', 'auto1')
            self.assertNoQemu(d)
            d.restart()
            self.assertListed(d, 'auto1', 'shut off')
            self.assertListed(d, 'manual1', 'shut off')
            self.assertEqual(d.qemu_pids(), [])

    def test_autostart_api(self):
        with Daemon() as d:
            d.define('auto2')
            r = d.api('PUT', harness.dom_path('auto2', '/autostart'), {'autostart': True})
            self.assertEqual(r.status, 200, r.body)
            self.assertTrue(r.json()['domain']['autostart'])
            r = d.api('PUT', harness.dom_path('auto2', '/autostart'), {'autostart': False})
            self.assertEqual(r.status, 200, r.body)
            self.assertFalse(r.json()['domain']['autostart'])
            r = d.api('PUT', harness.dom_path('nope', '/autostart'), {'autostart': True})
            self.assertApiError(r, 404, 'no-domain')


if __name__ == '__main__':
    harness.main()
