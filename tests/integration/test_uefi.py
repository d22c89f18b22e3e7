#!/usr/bin/env python3
"""UEFI guests under TCG, with Debian's ovmf and its firmware descriptors:

- <os firmware='efi'> on q35 with nothing asked picks, as libvirt does on
  Debian, the first descriptor (40-edk2-x86_64-secure-enrolled.json:
  secure boot with Microsoft's keys, SMM): the test guest's kernel boots
  through OVMF to its marker (OVMF takes -kernel through fw_cfg; Debian
  12's edk2 falls back to its legacy loader when the Debian-signed kernel
  does not verify against Microsoft's db, so the guest runs with secure
  boot *enabled*: the kernel says so and locks itself down); the live XML
  names loader, template, nvram and SMM (also after a daemon restart);
  QEMU got smm=on and the cfi.pflash01 secure global;
- the nvram is made from the template at the first start only (the same
  file across restarts), plain undefine is refused naming --nvram and
  --keep-nvram, undefine --nvram removes it;
- secure-boot without enrolled keys (50-edk2-x86_64-secure.json, empty
  varstore): boots with secure boot disabled (setup mode);
- an explicit <loader> with <nvram template=> on i440fx boots, its store
  is made at lib/nvram/NAME_VARS.fd, undefine --keep-nvram keeps it;
- refusals with the reason: secure boot on 'pc'; no firmware installed
  (VIRTD_FIRMWARE_DIRS pointing at an empty directory): "install ovmf".
"""

import os
import re
import tempfile
import time

import harness
from harness import Daemon, domain_xml

OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd'
OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd'
MS_CODE = '/usr/share/OVMF/OVMF_CODE_4M.ms.fd'
MS_VARS = '/usr/share/OVMF/OVMF_VARS_4M.ms.fd'

# UEFI boots the bzImage (its EFI stub), never the cached vmlinux; the
# kernel's own log says how it was booted, so keep its info messages.
VERBOSE = 'loglevel=7'


def efi_xml(name, machine='q35', features='', os_extra=''):
    xml = domain_xml(name, machine=machine, kernel=os.path.join(harness.GUEST_DIR, 'vmlinuz'),
                     cmdline_extra=VERBOSE)
    firmware = "    <firmware>%s</firmware>\n" % features if features else ''
    head = "<os firmware='efi'>" if not os_extra else "<os>"
    xml = xml.replace("<os>", head, 1)
    return re.sub(r"(    <type [^\n]*\n)", lambda m: m.group(1) + firmware + os_extra, xml,
                  count=1)


def feature(name, enabled):
    return "<feature enabled='%s' name='%s'/>" % ('yes' if enabled else 'no', name)


class UefiTest(harness.VirtdTestCase):

    def nvram(self, d, name):
        return d.path('lib', 'nvram', '%s_VARS.fd' % name)

    def qemu_argv(self, d, name):
        with open(d.qemu_log_path(name), errors='replace') as f:
            return f.read()

    def boot_timed(self, d, name):
        t0 = time.monotonic()
        d.start_domain(name)
        took = time.monotonic() - t0
        print('  %s: start to VIRTD-GUEST-READY through OVMF under TCG: %.1f s' % (name, took))
        return took

    def test_auto_secure_enrolled(self):
        with Daemon() as d:
            d.define('efi1', efi_xml('efi1'))
            self.assertFalse(os.path.exists(self.nvram(d, 'efi1')))
            # Measured, not asserted: wait_boot's BOOT_TIMEOUT bounds it,
            # and the time depends on what else the host runs.
            self.boot_timed(d, 'efi1')
            # (console_has: QEMU may log a serial byte twice, harness.py)
            for line in ('efi: EFI v2.70 by EDK II', 'secureboot: Secure boot enabled',
                         'Kernel is locked down from EFI Secure Boot'):
                self.assertTrue(d.console_has('efi1', line), line)

            live = d.vsh('dumpxml', 'efi1')[1]
            self.assertIn("<os firmware='efi'>", live)
            self.assertIn("<loader readonly='yes' type='pflash' secure='yes'>%s</loader>"
                          % MS_CODE, live)
            self.assertIn("<nvram template='%s'>%s</nvram>" % (MS_VARS, self.nvram(d, 'efi1')),
                          live)
            self.assertIn("<smm state='on'/>", live)
            inactive = d.vsh('dumpxml', '--inactive', 'efi1')[1]
            self.assertNotIn('<loader', inactive)

            argv = self.qemu_argv(d, 'efi1')
            self.assertIn('pflash0=pflash0-format,pflash1=pflash1-format,smm=on', argv)
            self.assertIn('driver=cfi.pflash01,property=secure,value=on', argv)
            self.assertIn(MS_CODE, argv)
            self.assertNotIn('.vmlinux', argv)

            # A daemon restart takes the running guest back with its
            # firmware in the live XML.
            d.restart()
            self.assertEqual(d.domstate('efi1'), 'running')
            self.assertIn("secure='yes'>%s</loader>" % MS_CODE, d.vsh('dumpxml', 'efi1')[1])

            # The store: made from the template once, the same file after
            # a restart (a new copy would be a new inode).
            store = self.nvram(d, 'efi1')
            st = os.stat(store)
            self.assertEqual(st.st_size, os.path.getsize(MS_VARS))
            self.assertEqual(st.st_mode & 0o777, 0o600)
            d.vsh('destroy', 'efi1')
            d.start_domain('efi1')
            self.assertEqual(os.stat(store).st_ino, st.st_ino)
            d.vsh('destroy', 'efi1')

            # Undefine: refused while the store exists, unless told.
            _rc, _out, err = d.vsh_fail('undefine', 'efi1')
            self.assertIn('cannot undefine domain with nvram', err)
            self.assertIn('--nvram', err)
            self.assertIn('--keep-nvram', err)
            self.assertIn(store, err)
            self.assertIn('efi1', d.vsh('list', '--all')[1])
            _rc, _out, err = d.vsh_fail('undefine', 'efi1', '--nvram', '--keep-nvram')
            self.assertIn('mutually exclusive', err)
            d.vsh('undefine', 'efi1', '--nvram')
            self.assertFalse(os.path.exists(store))
            self.assertNotIn('efi1', d.vsh('list', '--all')[1])
            self.assertNoQemu(d)

    def test_secure_boot_without_keys(self):
        with Daemon() as d:
            d.define('efi2', efi_xml('efi2', features=feature('secure-boot', True) +
                                     feature('enrolled-keys', False)))
            self.boot_timed(d, 'efi2')
            for line in ('efi: EFI v2.70 by EDK II', 'secureboot: Secure boot disabled'):
                self.assertTrue(d.console_has('efi2', line), line)
            argv = self.qemu_argv(d, 'efi2')
            self.assertIn('/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', argv)
            self.assertIn('smm=on', argv)
            self.assertIn('driver=cfi.pflash01,property=secure,value=on', argv)
            live = d.vsh('dumpxml', 'efi2')[1]
            self.assertIn("<nvram template='%s'>" % OVMF_VARS, live)
            d.vsh('destroy', 'efi2')
            d.vsh('undefine', 'efi2', '--nvram')
            self.assertFalse(os.path.exists(self.nvram(d, 'efi2')))
            self.assertNoQemu(d)

    def test_explicit_loader(self):
        os_extra = ("    <loader readonly='yes' type='pflash'>%s</loader>\n"
                    "    <nvram template='%s'/>\n" % (OVMF_CODE, OVMF_VARS))
        with Daemon() as d:
            d.define('efi3', efi_xml('efi3', machine='pc', os_extra=os_extra))
            self.boot_timed(d, 'efi3')
            self.assertTrue(d.console_has('efi3', 'efi: EFI v2.70 by EDK II'))
            store = self.nvram(d, 'efi3')
            with open(store, 'rb') as f, open(OVMF_VARS, 'rb') as t:
                self.assertEqual(len(f.read()), len(t.read()))
            argv = self.qemu_argv(d, 'efi3')
            self.assertIn(OVMF_CODE, argv)
            self.assertNotIn('smm=on', argv)
            self.assertNotIn('cfi.pflash01', argv)
            d.vsh('destroy', 'efi3')
            d.vsh('undefine', 'efi3', '--keep-nvram')
            self.assertTrue(os.path.exists(store))
            self.assertNoQemu(d)

    def test_refusals(self):
        with Daemon() as d:
            d.define('sbpc', efi_xml('sbpc', machine='pc', features=feature('secure-boot', True)))
            _rc, _out, err = d.vsh_fail('start', 'sbpc')
            self.assertIn('secure boot needs machine type q35', err)
            self.assertIn("machine 'pc'", err)
            self.assertFalse(os.path.exists(self.nvram(d, 'sbpc')))
            self.assertEqual(d.domstate('sbpc'), 'shut off')
            # Never started: no store, so plain undefine is fine.
            d.vsh('undefine', 'sbpc')
            self.assertNoQemu(d)

        empty = tempfile.mkdtemp(prefix='vtefi-nofw-')
        try:
            with Daemon(env={'VIRTD_FIRMWARE_DIRS': empty}) as d:
                d.define('nofw', efi_xml('nofw'))
                _rc, _out, err = d.vsh_fail('start', 'nofw')
                self.assertIn('no UEFI firmware', err)
                self.assertIn('install ovmf', err)
                self.assertIn(empty, err)
                self.assertEqual(d.domstate('nofw'), 'shut off')
                self.assertNoQemu(d)
        finally:
            os.rmdir(empty)


if __name__ == '__main__':
    harness.main()
