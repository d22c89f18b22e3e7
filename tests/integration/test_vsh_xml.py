#!/usr/bin/env python3
"""vsh xml (virt-xml, issue 11 item 5) against a real daemon and guest:
--edit --vcpus / --memory, --add-device --disk size=N (a new volume in the
'default' pool, made by vsh install's code), --remove-device, --edit SEL
--disk cache=, --add-device --network on an isolated test network,
--print-diff / --print-xml that change nothing, --update on a running
guest (the guest's STATUS line shows the new NIC), and refusals that
change nothing (dumpxml live and config, volumes, the guest).

Everything on the host carries the prefix 'hx': domains hx-*, the network
hx-net on bridge hxbr0 (10.231.0.0/24, no DHCP, no forward), removed at
the end even on failure."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import Daemon

BRIDGE = 'hxbr0'
NET = 'hx-net'
MAC_A = '52:54:00:31:00:0a'
MAC_B = '52:54:00:31:00:0b'


def ip(*args, check=True):
    return subprocess.run(('ip',) + args, check=check, capture_output=True, text=True)


def link_exists(name):
    return os.path.exists('/sys/class/net/%s' % name)


def private_root():
    base = os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir()
    root = tempfile.mkdtemp(prefix='hx-virtd-', dir=base)
    # No 'default' network of the daemon's on this machine.
    os.makedirs(os.path.join(root, 'etc', 'networks'))
    return root


class VshXml(harness.VirtdTestCase):

    def setUp(self):
        super().setUp()
        if link_exists(BRIDGE):
            ip('link', 'del', BRIDGE, check=False)
        self.addCleanup(lambda: link_exists(BRIDGE) and ip('link', 'del', BRIDGE, check=False))
        self.root = private_root()
        self.addCleanup(shutil.rmtree, self.root, True)

    def daemon(self):
        return Daemon(root=self.root, args=['--dns-forward=none'])

    def snapshot(self, d, name):
        """What a refusal must leave alone: both definitions, the volumes."""
        live = d.vsh('dumpxml', name)[1]
        config = d.vsh('dumpxml', '--inactive', name)[1]
        vols = sorted(v['name'] for v in
                      d.api_json('GET', '/v1/pools/default/volumes')['volumes'])
        return live, config, vols

    def refused(self, d, name, args, needle):
        before = self.snapshot(d, name)
        _rc, out, err = d.vsh_fail('xml', name, *args)
        self.assertIn(needle, err, (args, out, err))
        self.assertNotIn('defined successfully', out)
        self.assertEqual(self.snapshot(d, name), before, args)
        return err

    def config(self, d, name):
        return d.vsh('dumpxml', '--inactive', name)[1]

    # 1. A shut off domain: every edit, the print options, the refusals.
    def test_offline_edits(self):
        name = 'hx-1'
        with self.daemon() as d:
            d.define(name, harness.domain_xml(name, memory_mib=256, vcpus=1))

            # --print-diff and --print-xml change nothing.
            before = self.config(d, name)
            out = d.vsh('xml', name, '--edit', '--vcpus', '2', '--print-diff')[1]
            self.assertIn('--- Original XML\n+++ Altered XML\n', out)
            self.assertRegex(out, r'\n-\s*<vcpu[^>]*>1</vcpu>\n\+\s*<vcpu[^>]*>2</vcpu>\n')
            out = d.vsh('xml', name, '--edit', '--memory', '512', '--print-xml')[1]
            self.assertTrue(out.startswith('<domain'), out)
            self.assertIn('<currentMemory unit="KiB">524288</currentMemory>', out)
            self.assertEqual(self.config(d, name), before)

            # --edit --vcpus: virt-xml's output; the definition changed.
            out = d.vsh('xml', name, '--edit', '--vcpus', '2')[1]
            self.assertIn("Domain '%s' defined successfully." % name, out)
            self.assertNotIn('powered off', out)  # shut off: nothing to wait for
            self.assertRegex(self.config(d, name), r"<vcpu[^>]*>2</vcpu>")

            # --edit --memory in MiB, maxmemory= raises the maximum.
            d.vsh('xml', name, '--edit', '--memory', '200,maxmemory=256')
            cfg = self.config(d, name)
            self.assertRegex(cfg, r"<memory unit='KiB'>262144</memory>")
            self.assertRegex(cfg, r"<currentMemory unit='KiB'>204800</currentMemory>")

            # --add-device --disk size=1: a new volume in the default pool.
            out = d.vsh('xml', name, '--add-device', '--disk', 'size=1')[1]
            self.assertIn("Domain '%s' defined successfully." % name, out)
            vol = d.api_json('GET', '/v1/pools/default/volumes/%s.qcow2' % name)['volume']
            self.assertEqual(vol['capacity'], 1 << 30)
            cfg = self.config(d, name)
            self.assertIn("<source file='%s'/>" % vol['path'], cfg)
            self.assertIn("<target dev='vda' bus='virtio'/>", cfg)
            # A second one: the next target and the next volume name.
            d.vsh('xml', name, '--add-device', '--disk', 'size=0.5,bus=virtio')
            vol2 = d.api_json('GET', '/v1/pools/default/volumes/%s-1.qcow2' % name)['volume']
            self.assertIn("<source file='%s'/>" % vol2['path'], self.config(d, name))
            self.assertIn("<target dev='vdb' bus='virtio'/>", self.config(d, name))

            # --edit SEL --disk cache=none: only the selected disk.
            d.vsh('xml', name, '--edit', 'vdb', '--disk', 'cache=none')
            cfg = self.config(d, name)
            disks = re.findall(r"<disk .*?</disk>", cfg, re.S)
            self.assertEqual(len(disks), 2, cfg)
            self.assertNotIn("cache=", disks[0])
            self.assertIn("cache='none'", disks[1])

            # Refusals: nothing changed.
            self.refused(d, name, ['--edit', 'vdz', '--disk', 'cache=none'],
                         'No matching objects found for --disk vdz')
            self.refused(d, name, ['--remove-device', '--disk', 'sdq'],
                         'No matching objects found for --disk sdq')
            self.refused(d, name, ['--edit', '--add-device', '--vcpus', '2'],
                         'Only one of --edit, --add-device or --remove-device')
            self.refused(d, name, ['--edit', '--vcpus', '2', '--memory', '300'],
                         'Only one change option')
            self.refused(d, name, ['--add-device', '--disk', 'size=1,colour=red'],
                         "unknown option 'colour'")
            self.refused(d, name, ['--edit', '--disk', 'cache=sometimes'],
                         "unknown cache 'sometimes'")
            self.refused(d, name, ['--edit', '--vcpus', '2', '--frobnicate'],
                         "doesn't support option --frobnicate")
            # An edit the daemon will not define: its error, nothing changed
            # (nor a volume left behind).
            self.refused(d, name, ['--add-device', '--disk', 'size=1,device=cdrom,bus=virtio'],
                         "cannot be on bus 'virtio'")
            _rc, _out, err = d.vsh_fail('xml', 'hx-nonesuch', '--edit', '--vcpus', '2')
            self.assertIn("failed to get domain 'hx-nonesuch'", err)

            # --remove-device --disk vdb (virt-xml's target=vdb too).
            out = d.vsh('xml', name, '--remove-device', '--disk', 'target=vdb')[1]
            self.assertIn("Domain '%s' defined successfully." % name, out)
            cfg = self.config(d, name)
            self.assertNotIn("dev='vdb'", cfg)
            self.assertIn("dev='vda'", cfg)

            # --confirm: "n" changes nothing, "y" defines.
            before = self.config(d, name)
            _rc, out, _e = d.vsh('xml', name, '--edit', '--vcpus', '1', '--confirm', input='n\n')
            self.assertIn('+++ Altered XML', out)
            self.assertNotIn('defined successfully', out)
            self.assertEqual(self.config(d, name), before)
            _rc, out, _e = d.vsh('xml', name, '--edit', '--vcpus', '1', '--confirm', input='y\n')
            self.assertIn('defined successfully', out)
            # The maximum (2) stays, for a later hot-plug.
            self.assertRegex(self.config(d, name), r"<vcpu[^>]*current='1'[^>]*>2</vcpu>")

            # The guest boots with what was defined.
            d.start_domain(name)
            st = harness.wait_for(lambda: d.guest_status(name), 60, what='a status line')
            self.assertEqual(st['cpus'], 1, st)
            self.assertGreater(st['mem_kib'], 150000, st)
            self.assertLess(st['mem_kib'], 204800, st)
            self.assertEqual(st['disks'], ['vda'], st)
            d.vsh('destroy', name)
            d.vsh('undefine', name, '--remove-all-storage')
            self.assertNoQemu(d)

    # 2. A running guest on an isolated network of ours: NICs added with
    #    --update reach the guest; without --update only the definition.
    def test_running_update(self):
        name = 'hx-2'
        net_xml = ("<network><name>%s</name><bridge name='%s'/>"
                   "<ip address='10.231.0.1' prefix='24'/></network>" % (NET, BRIDGE))
        with self.daemon() as d:
            d.api_json('POST', '/v1/networks?start=1', net_xml, expect=201)
            try:
                self._running_update(d, name)
            finally:
                d.api('POST', '/v1/networks/%s/destroy' % NET)
                d.api('DELETE', '/v1/networks/%s' % NET)
            self.assertFalse(link_exists(BRIDGE))

    def _running_update(self, d, name):
        d.define(name, harness.domain_xml(name, memory_mib=192, vcpus=1))
        # Room for a vCPU hot-plug, set by vsh xml itself before the boot.
        d.vsh('xml', name, '--edit', '--vcpus', '1,maxvcpus=2')
        self.assertRegex(self.config(d, name), r"<vcpu[^>]*current='1'[^>]*>2</vcpu>")
        d.start_domain(name)
        harness.wait_for(lambda: (d.guest_status(name) or {}).get('nics') == [], 60,
                         what='a status line without NICs')

        # Without --update: the definition only, virt-xml's notice.
        out = d.vsh('xml', name, '--add-device', '--network',
                    'network=%s,mac=%s' % (NET, MAC_A))[1]
        self.assertIn("Domain '%s' defined successfully." % name, out)
        self.assertIn('Changes will take effect after the domain is fully powered off.', out)
        self.assertIn(MAC_A, self.config(d, name))
        self.assertNotIn(MAC_A, d.vsh('dumpxml', name)[1])
        # --update: the running guest gets it too, and sees it.
        out = d.vsh('xml', name, '--add-device', '--update', '--network',
                    'network=%s,mac=%s,model=virtio' % (NET, MAC_B))[1]
        self.assertIn('Device hotplug successful.', out)
        self.assertIn("Domain '%s' defined successfully." % name, out)
        self.assertNotIn('powered off', out)
        self.assertIn(MAC_B, d.vsh('dumpxml', name)[1])
        self.assertIn(MAC_B, self.config(d, name))
        harness.wait_for(lambda: (d.guest_status(name) or {}).get('nics') == ['eth0'], 30,
                         what=lambda: 'eth0 in the guest (last %r)' % d.guest_status(name))

        # --edit --update of a NIC: the model cannot change live (update-
        # device refuses it): the definition changed, the guest did not.
        rc, out, err = d.vsh('xml', name, '--edit', MAC_B, '--update', '--network',
                             'model=e1000', check=False)
        self.assertNotEqual(rc, 0, (out, err))
        self.assertIn("Domain '%s' defined successfully." % name, out)
        self.assertIn('Changes will take effect after the domain is fully powered off.', out)
        self.assertIn('Error attempting device update', err)
        self.assertIn("<model type='e1000'/>", self.config(d, name))
        live = d.vsh('dumpxml', name)[1]
        self.assertIn(MAC_B, live)
        self.assertNotIn("<model type='e1000'/>", live)
        self.assertEqual(d.guest_status(name)['nics'], ['eth0'])

        # --remove-device --update: gone from both, and from the guest.
        out = d.vsh('xml', name, '--remove-device', '--update', '--network', MAC_B)[1]
        self.assertIn('Device hotunplug successful.', out)
        self.assertNotIn(MAC_B, self.config(d, name))
        harness.wait_for(lambda: (d.guest_status(name) or {}).get('nics') == [], 30,
                         what=lambda: 'no NIC in the guest (last %r)' % d.guest_status(name))
        self.assertNotIn(MAC_B, d.vsh('dumpxml', name)[1])

        # A disk with --update: hot-plugged if the daemon can, else the
        # definition changed, the guest not, and virt-xml's words say so.
        rc, out, err = d.vsh('xml', name, '--add-device', '--update', '--disk', 'size=0.25',
                             check=False)
        self.assertIn("Domain '%s' defined successfully." % name, out)
        self.assertIn("dev='vda'", self.config(d, name))
        if rc == 0:
            self.assertIn('Device hotplug successful.', out)
            harness.wait_for(lambda: (d.guest_status(name) or {}).get('disks') == ['vda'],
                             30, what=lambda: 'vda in the guest (%r)' % d.guest_status(name))
        else:
            self.assertIn('Changes will take effect after the domain is fully powered off.',
                          out)
            self.assertIn('Error attempting device hotplug', err)
            self.assertIn('the running guest was not', err)
            self.assertNotIn("dev='vda'", d.vsh('dumpxml', name)[1])
            self.assertEqual((d.guest_status(name) or {}).get('disks'), [])

        # vCPUs and memory with --update: applied live when the daemon has
        # the routes (the guest sees it), else refused live with
        # virt-xml's notice: the definition changed, the guest did not.
        rc, out, err = d.vsh('xml', name, '--edit', '--update', '--vcpus', '2', check=False)
        self.assertIn("Domain '%s' defined successfully." % name, out)
        self.assertRegex(self.config(d, name), r"<vcpu[^>]*>2</vcpu>")
        self.assertNotRegex(self.config(d, name), r"<vcpu[^>]*current=")
        if rc == 0:
            self.assertIn('vCPU update successful.', out)
            harness.wait_for(lambda: (d.guest_status(name) or {}).get('cpus') == 2, 60,
                             what=lambda: '2 CPUs in the guest (%r)' % d.guest_status(name))
        else:
            self.assertIn('Error attempting vCPU update', err)
            self.assertIn('Changes will take effect after the domain is fully powered off.',
                          out)
            self.assertEqual(d.guest_status(name)['cpus'], 1)
        mem_before = d.guest_status(name)['mem_kib']
        rc, out, err = d.vsh('xml', name, '--edit', '--update', '--memory', '160', check=False)
        self.assertIn("Domain '%s' defined successfully." % name, out)
        self.assertIn("<currentMemory unit='KiB'>163840</currentMemory>", self.config(d, name))
        if rc == 0:
            self.assertIn('Memory update successful.', out)
            harness.wait_for(lambda: d.guest_status(name)['mem_kib'] < mem_before, 60,
                             what=lambda: 'less memory in the guest (%r)' % d.guest_status(name))
        else:
            self.assertIn('Error attempting memory update', err)
            self.assertEqual(d.guest_status(name)['mem_kib'], mem_before)

        # Refused on a running domain: nothing changed, guest included.
        before_status = d.guest_status(name)
        self.refused(d, name, ['--remove-device', '--update', '--network', '52:54:00:31:00:ff'],
                     'No matching objects found for --network 52:54:00:31:00:ff')
        self.assertEqual(d.guest_status(name)['nics'], before_status['nics'])

        d.vsh('destroy', name)
        d.vsh('undefine', name, '--remove-all-storage')
        self.assertNoQemu(d)


if __name__ == '__main__':
    unittest.main()
