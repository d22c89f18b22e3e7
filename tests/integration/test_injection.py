#!/usr/bin/env python3
"""Option injection: a domain name with commas, quotes and spaces and a disk
path with commas and spaces reach QEMU as exactly those strings (escaped or
as JSON), never as extra options."""

import os

import harness
from harness import Daemon, domain_xml, disk_xml, parse_table, dom_path


NAME = 'a,b "c\'d'
# Each piece, if it leaked into a QemuOpts string, would be an option.
IMG_DIR = 'images, with spaces,file.locking=off'
IMG_NAME = 'disk, one,readonly=on.img'


class Injection(harness.VirtdTestCase):

    def test_name_and_disk_path(self):
        with Daemon() as d:
            img = d.path(IMG_DIR, IMG_NAME)
            os.makedirs(os.path.dirname(img))
            with open(img, 'wb') as f:
                f.write(b'virtd-injection-test\n')
                f.truncate(16 << 20)

            xml = domain_xml(NAME, extra_devices=disk_xml(img, 'vda'),
                             title='title, with=commas "and" <angles>')
            path = d.write_xml('injection', xml)
            self.assertVshOut(d.vsh('define', path), "Domain '%s' defined from %s" % (NAME, path))
            self.assertListed(d, NAME, 'shut off')
            _h, rows = parse_table(d.vsh('domblklist', NAME)[1])
            self.assertEqual(rows, [['vda', img]])

            boot = d.start_domain(NAME)
            self.assertTrue(boot)
            self.assertListed(d, NAME, 'running')
            self.assertEqual(d.domstate(NAME, reason=True), 'running (booted)')
            summary = d.api_json('GET', dom_path(NAME))['domain']
            self.assertEqual(summary['name'], NAME)
            self.assertEqual(summary['title'], 'title, with=commas "and" <angles>')
            _h, rows = parse_table(d.vsh('domblklist', NAME)[1])
            self.assertEqual(rows, [['vda', img]])

            # The guest sees exactly one disk, writable.
            harness.wait_for(lambda: (d.guest_status(NAME) or {}).get('disks') == ['vda'], 20,
                             what=lambda: 'disks=vda in %r' % d.guest_status(NAME))

            pid = d.qemu_pid(NAME)
            argv = harness.read_cmdline(pid)
            self.assertTrue(argv, 'no argv for QEMU pid %s' % pid)
            values = [v for _opt, _k, v in harness.qemu_arg_values(argv)]
            self.assertIn(img, values, 'the disk path does not reach QEMU intact:\n%s' % argv)
            if any("c'd" in a for a in argv):
                self.assertIn(NAME, values, 'the name does not reach QEMU intact:\n%s' % argv)
            bad = harness.qemu_bad_opts_keys(argv)
            self.assertEqual(bad, [], 'option keys that are not identifiers (injection):\n%s' % argv)
            for opt, key, _v in harness.qemu_arg_values(argv):
                self.assertNotIn(key, ('file.locking', 'readonly'),
                                 'injected option %s %s=... in\n%s' % (opt, key, argv))

            # QEMU opened that very file (and not some prefix of its path).
            fds = []
            for fd in os.listdir('/proc/%d/fd' % pid):
                try:
                    fds.append(os.readlink('/proc/%d/fd/%s' % (pid, fd)))
                except OSError:
                    pass
            self.assertIn(img, fds)

            # The files named after the domain use the name verbatim.
            self.assertTrue(os.path.exists(d.console_log_path(NAME)), os.listdir(d.path('log')))
            self.assertTrue(os.path.exists(d.qemu_log_path(NAME)))

            # Every verb takes the name as one argument.
            self.assertVshOut(d.vsh('suspend', NAME), "Domain '%s' suspended" % NAME)
            self.assertVshOut(d.vsh('resume', NAME), "Domain '%s' resumed" % NAME)
            self.assertVshOut(d.vsh('destroy', NAME), "Domain '%s' destroyed" % NAME)
            self.assertNoQemu(d)
            self.assertVshOut(d.vsh('undefine', NAME), "Domain '%s' has been undefined" % NAME)
            self.assertEqual(d.list_all(), [])
            with open(img, 'rb') as f:
                self.assertEqual(f.read(21), b'virtd-injection-test\n')

    def test_cmdline_and_kernel_path(self):
        # A kernel command line with commas and quotes is one -append value;
        # kernel and initrd paths with commas are passed intact.
        with Daemon() as d:
            gdir = d.path('guest, files')
            os.makedirs(gdir)
            kernel = os.path.join(gdir, 'kernel,x=1')
            initrd = os.path.join(gdir, 'initrd,y=2')
            os.symlink(harness.guest_kernel(), kernel)
            os.symlink(harness.guest_initrd(), initrd)
            name = 'inj2'
            d.define(name, domain_xml(name, kernel=kernel, initrd=initrd,
                                      cmdline_extra='virtd.note="a,b c" x=1,y=2'))
            d.start_domain(name)
            argv = harness.read_cmdline(d.qemu_pid(name))
            values = [v for _o, _k, v in harness.qemu_arg_values(argv)]
            self.assertIn(kernel, values, argv)
            self.assertIn(initrd, values, argv)
            self.assertEqual(harness.qemu_bad_opts_keys(argv), [], argv)
            d.vsh('destroy', name)
            self.assertNoQemu(d)


if __name__ == '__main__':
    harness.main()
