#!/usr/bin/env python3
"""The device routes every class shares (issue 11): attach-device,
detach-device and update-device pick the class by the element, refuse
the others naming them and what can be done instead, and refuse XML that
is not a device, each time changing nothing; update-device on an
<interface> changes its link state in the running guest (seen from inside)
and in the definition, and refuses a model change on a running guest.

A user-mode NIC only: nothing leaves the machine, nothing is made on the
host."""

import harness
from harness import Daemon

MAC = '52:54:00:31:31:01'


def nic(link=None, model='virtio', mac=MAC):
    return ("<interface type='user'><mac address='%s'/><model type='%s'/>%s</interface>" %
            (mac, model, "<link state='%s'/>" % link if link else ''))


class DeviceRoutes(harness.VirtdTestCase):

    def xml_both(self, d, name):
        live = d.vsh('dumpxml', name)[1]
        config = d.vsh('dumpxml', name, '--inactive')[1]
        return live, config

    def test_update_interface_link_and_refusals(self):
        name = 'vdr1'
        with Daemon() as d:
            d.define(name, harness.domain_xml(name, extra_devices='    ' + nic() + '\n',
                                              cmdline_extra='virtd.status=0'))
            d.start_domain(name)
            con = d.console(name)
            self.addCleanup(con.detach)
            con.type_until('ip link set eth0 up && echo up-$((40+2))', 'up-42')
            con.type_until('echo carrier=$(cat /sys/class/net/eth0/carrier)', 'carrier=1')

            # Link down in the running guest and in the definition.
            path = d.write_file('down.xml', nic(link='down'))
            out = d.vsh('update-device', name, path, '--live', '--config')[1]
            self.assertIn('Device updated successfully', out)
            con.type_until('echo carrier=$(cat /sys/class/net/eth0/carrier)', 'carrier=0')
            live, config = self.xml_both(d, name)
            self.assertIn("<link state='down'/>", live)
            self.assertIn("<link state='down'/>", config)

            # Back up, live only (the default scope of a running domain).
            path = d.write_file('up.xml', nic(link='up'))
            d.vsh('update-device', name, path)
            con.type_until('echo carrier=$(cat /sys/class/net/eth0/carrier)', 'carrier=1')
            live, config = self.xml_both(d, name)
            self.assertNotIn("<link state='down'/>", live)
            self.assertIn("<link state='down'/>", config)

            before = self.xml_both(d, name)
            # A model change on the running guest: refused with the fix.
            path = d.write_file('model.xml', nic(model='e1000'))
            err = d.vsh_fail('update-device', name, path, '--live')[2]
            self.assertIn('cannot change the model', err)
            self.assertIn('detach the interface and attach a new one', err)
            # An interface the domain does not have.
            path = d.write_file('other.xml', nic(mac='52:54:00:31:31:99'))
            err = d.vsh_fail('update-device', name, path)[2]
            self.assertIn('52:54:00:31:31:99', err)
            # A class with no live path, on the running guest: refused for
            # each verb with the way to do it.
            sound = path = d.write_file('sound.xml', "<sound model='ich9'/>")
            for verb in ('attach-device', 'detach-device', 'update-device'):
                err = d.vsh_fail(verb, name, path)[2]
                self.assertIn('<sound>', err)
                self.assertIn('--config' if verb != 'update-device' else 'vsh edit', err)
            err = d.vsh_fail('attach-device', name, path, '--persistent')[2]
            self.assertIn('<sound>', err)
            # Not XML at all.
            path = d.write_file('junk.xml', 'this is <not xml')
            err = d.vsh_fail('attach-device', name, path)[2]
            self.assertIn('not well-formed', err)
            # Nothing changed by any of them, and the guest's link is up.
            self.assertEqual(self.xml_both(d, name), before)
            con.type_until('echo carrier=$(cat /sys/class/net/eth0/carrier)', 'carrier=1')

            # --config alone: the definition gets the sound card (the next
            # start's), the running guest is untouched; then it goes again.
            out = d.vsh('attach-device', name, sound, '--config')[1]
            self.assertIn('Device attached successfully', out)
            self.assertIn("<sound model='ich9'", d.vsh('dumpxml', name, '--inactive')[1])
            self.assertNotIn('<sound', d.vsh('dumpxml', name)[1])
            out = d.vsh('detach-device', name, sound, '--config')[1]
            self.assertIn('Device detached successfully', out)
            self.assertNotIn('<sound', d.vsh('dumpxml', name, '--inactive')[1])
            err = d.vsh_fail('detach-device', name, sound, '--config')[2]
            self.assertIn("no <sound> device matching", err)

            # A live update of a shut-off domain is refused; config works.
            d.vsh('destroy', name)
            err = d.vsh_fail('update-device', name, d.path('up.xml'), '--live')[2]
            self.assertIn('domain is not running', err)
            d.vsh('update-device', name, d.path('up.xml'), '--config')
            self.assertNotIn("<link state='down'/>", d.vsh('dumpxml', name, '--inactive')[1])


if __name__ == '__main__':
    harness.main()
