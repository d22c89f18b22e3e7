#!/usr/bin/env python3
"""Reboots: `vsh reboot` (ACPI, libvirt's fake reboot), `vsh reset`, and the
guest's own reboot and power-off under on_reboot / on_poweroff."""

import time

import harness
from harness import Daemon


class Reboot(harness.VirtdTestCase):

    def assertStaysRunning(self, d, name, seconds=3):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.assertEqual(d.domstate(name), 'running')
            time.sleep(0.5)

    def test_acpi_reboot(self):
        name = 'rb1'
        with Daemon() as d:
            d.define(name)
            boot1 = d.start_domain(name)
            domid = d.domid(name)
            self.assertVshOut(d.vsh('reboot', name), "Domain '%s' is being rebooted" % name)
            boot2 = d.wait_boot(name, seen=[boot1])
            self.assertNotEqual(boot1, boot2)
            self.assertIn('VIRTD-GUEST-POWERBUTTON', d.console_text(name),
                          'reboot did not go through the ACPI power button')
            self.assertStaysRunning(d, name)
            self.assertEqual(d.domid(name), domid, 'a reboot keeps the domain id')
            self.assertEqual(d.domstate(name, reason=True).split(' ')[0], 'running')
            # Still manageable after the fake reboot.
            self.assertVshOut(d.vsh('shutdown', name), "Domain '%s' is being shutdown" % name)
            d.wait_state(name, 'shut off (shutdown)', reason=True)
            self.assertNoQemu(d)

    def test_reset(self):
        name = 'rs1'
        with Daemon() as d:
            d.define(name)
            boot1 = d.start_domain(name)
            pid = d.qemu_pid(name)
            self.assertVshOut(d.vsh('reset', name), "Domain '%s' was reset" % name)
            boot2 = d.wait_boot(name, seen=[boot1])
            self.assertNotEqual(boot1, boot2)
            self.assertStaysRunning(d, name)
            self.assertEqual(d.qemu_pid(name), pid, 'a reset keeps the QEMU process')
            self.assertNotIn('VIRTD-GUEST-POWERBUTTON', d.console_text(name),
                             'reset is not a power button press')
            d.vsh('destroy', name)
            self.assertNoQemu(d)

    def test_guest_reboot_restart(self):
        # Default on_reboot (restart): the guest's own `reboot -f` boots it again.
        name = 'gr1'
        with Daemon() as d:
            d.define(name, cmdline_extra='virtd.action=reboot virtd.delay=1')
            boot1 = d.start_domain(name)
            boot2 = d.wait_boot(name, seen=[boot1])
            self.assertNotEqual(boot1, boot2)
            self.assertEqual(d.domstate(name), 'running')
            d.vsh('destroy', name)
            self.assertNoQemu(d)

    def test_on_reboot_destroy(self):
        name = 'ord1'
        with Daemon() as d:
            d.define(name, on_reboot='destroy', cmdline_extra='virtd.action=reboot virtd.delay=1')
            boot1 = d.start_domain(name)
            d.wait_state(name, 'shut off', timeout=harness.SHUTDOWN_TIMEOUT)
            self.assertListed(d, name, 'shut off')
            self.assertNoQemu(d)
            self.assertEqual(d.boots(name)[-1], boot1, 'the guest booted again')
            self.assertIn('VIRTD-GUEST-ACTION reboot', d.console_text(name))
            reason = d.domstate(name, reason=True)
            self.assertNotIn('crashed', reason, 'a lifecycle action is not a crash')

    def test_on_poweroff_restart(self):
        name = 'opr1'
        with Daemon() as d:
            d.define(name, on_poweroff='restart',
                     cmdline_extra='virtd.action=poweroff virtd.delay=5')
            boot1 = d.start_domain(name)
            boot2 = d.wait_boot(name, seen=[boot1])
            self.assertNotEqual(boot1, boot2)
            self.assertIn('VIRTD-GUEST-ACTION poweroff', d.console_text(name))
            # The new boot powers off again after 5 s: look now.
            self.assertEqual(d.domstate(name), 'running')
            self.assertListed(d, name, 'running')
            d.vsh('destroy', name)
            d.wait_state(name, 'shut off (destroyed)', reason=True, timeout=15)
            self.assertNoQemu(d)


if __name__ == '__main__':
    harness.main()
