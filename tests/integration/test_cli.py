#!/usr/bin/env python3
"""vsh's surface beyond the lifecycle: list filters, id/name/uuid lookups,
start --paused / --console, edit (validated before it is saved), transient
domains, undefine of a running domain, version and help, the socket's
permissions, and on_crash with a guest that panics."""

import os
import stat
import subprocess

import harness
from harness import Daemon


class Cli(harness.VirtdTestCase):

    def test_list_filters_and_lookups(self):
        with Daemon() as d:
            for n in ('fa', 'fb', 'fc'):
                d.define(n)
            d.start_domain('fa')
            d.vsh('start', 'fb', '--paused')
            self.assertEqual(d.domstate('fb', reason=True), 'paused (user)')

            names = lambda *a: [l for l in d.vsh('list', *a)[1].splitlines() if l]
            self.assertEqual(names('--name'), ['fa', 'fb'])
            self.assertEqual(names('--all', '--name'), ['fa', 'fb', 'fc'])
            self.assertEqual(names('--inactive', '--name'), ['fc'])
            self.assertEqual(names('--all', '--state-running', '--name'), ['fa'])
            self.assertEqual(names('--all', '--state-paused', '--name'), ['fb'])
            self.assertEqual(names('--all', '--state-shutoff', '--name'), ['fc'])
            uuids = names('--all', '--uuid')
            self.assertEqual(len(uuids), 3)

            # domid / domname / domuuid, by any of name, id and uuid.
            uuid = d.vsh('domuuid', 'fa')[1].strip()
            self.assertIn(uuid, uuids)
            domid = d.domid('fa')
            self.assertRegex(domid, r'^\d+$')
            self.assertEqual(d.vsh('domname', domid)[1].strip(), 'fa')
            self.assertEqual(d.vsh('domname', uuid)[1].strip(), 'fa')
            self.assertEqual(d.vsh('domid', uuid)[1].strip(), domid)
            self.assertEqual(d.vsh('domid', 'fc')[1].strip(), '-')
            info = harness.parse_keyvals(d.vsh('dominfo', domid)[1])
            self.assertEqual(info['Name'], 'fa')
            self.assertEqual(info['State'], 'running')
            d.vsh('resume', 'fb')
            self.assertEqual(d.domstate('fb', reason=True), 'running (unpaused)')
            d.vsh('destroy', 'fa')
            d.vsh('destroy', 'fb')
            self.assertNoQemu(d)

    def test_start_console(self):
        with Daemon() as d:
            d.define('sc')
            env = dict(os.environ, LC_ALL='C', HOME=d.root)
            proc = subprocess.Popen([harness.VSH_BIN, '-c', d.uri, 'start', 'sc', '--console'],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, env=env)
            try:
                d.wait_console('sc', 'VIRTD-GUEST-READY')
                # The console session stays attached until the domain stops.
                d.vsh('destroy', 'sc')
                out, _ = proc.communicate(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            text = out.decode('utf-8', 'replace')
            self.assertIn("Domain 'sc' started", text)
            self.assertIn("Connected to domain 'sc'", text)
            self.assertIn('VIRTD-GUEST-READY', text)
            self.assertEqual(proc.returncode, 0, text)

    def _editor(self, d, script):
        path = d.path('editor.sh')
        with open(path, 'w') as f:
            f.write('#!/bin/sh\n' + script + '\n')
        os.chmod(path, 0o755)
        return dict(os.environ, EDITOR=path, VISUAL=path)

    def test_edit(self):
        with Daemon() as d:
            d.define('ed', memory_mib=256)
            before = d.vsh('dumpxml', 'ed', '--inactive')[1]

            # No change.
            rc, out, _ = d.vsh('edit', 'ed', env=self._editor(d, 'true'))
            self.assertIn("Domain 'ed' XML configuration not changed.", out)

            # An invalid change is refused and nothing is saved.
            bad = self._editor(d, 'sed -i "s|<vcpu>1</vcpu>|<vcpu current=\\"4\\">2</vcpu>|" "$1"')
            rc, out, err = d.vsh('edit', 'ed', env=bad, check=False, input='')
            self.assertNotEqual(rc, 0)
            self.assertIn('current', err)
            self.assertEqual(d.vsh('dumpxml', 'ed', '--inactive')[1], before)

            # Malformed XML likewise.
            broken = self._editor(d, 'sed -i "s|</domain>||" "$1"')
            rc, out, err = d.vsh('edit', 'ed', env=broken, check=False, input='')
            self.assertNotEqual(rc, 0)
            self.assertEqual(d.vsh('dumpxml', 'ed', '--inactive')[1], before)

            # A good change is saved and survives a daemon restart.
            good = self._editor(d, 'sed -i "s|<vcpu>1</vcpu>|<vcpu>2</vcpu>|" "$1"')
            rc, out, _ = d.vsh('edit', 'ed', env=good)
            self.assertIn("Domain 'ed' XML configuration edited.", out)
            d.restart()
            info = harness.parse_keyvals(d.vsh('dominfo', 'ed')[1])
            self.assertEqual(info['CPU(s)'], '2')

    def test_transient_and_undefine_running(self):
        with Daemon() as d:
            path = d.write_xml('tr', harness.domain_xml('tr'))
            self.assertVshOut(d.vsh('create', path), "Domain 'tr' created from %s" % path)
            d.wait_console('tr', 'VIRTD-GUEST-READY')
            info = harness.parse_keyvals(d.vsh('dominfo', 'tr')[1])
            self.assertEqual(info['Persistent'], 'no')
            # A transient domain cannot be undefined or autostarted.
            self.assertEqual(d.vsh('undefine', 'tr', check=False)[0], 6)
            d.vsh('destroy', 'tr')
            self.assertNotListed(d, 'tr')
            self.assertFalse(os.path.exists(d.path('etc', 'domains', 'tr.xml')))

            # Undefining a running persistent domain leaves it running as
            # a transient one, gone once it stops.
            d.define('ur')
            d.start_domain('ur')
            self.assertVshOut(d.vsh('undefine', 'ur'), "Domain 'ur' has been undefined")
            self.assertListed(d, 'ur', 'running')
            info = harness.parse_keyvals(d.vsh('dominfo', 'ur')[1])
            self.assertEqual(info['Persistent'], 'no')
            d.vsh('destroy', 'ur')
            self.assertNotListed(d, 'ur')
            self.assertNoQemu(d)

    def test_version_help_socket(self):
        with Daemon() as d:
            out = d.vsh('version')[1]
            self.assertIn('Compiled against library: virtd', out)
            self.assertRegex(out, r'Running hypervisor: QEMU \d+\.\d+')
            out = d.vsh('help')[1]
            for verb in ('start', 'shutdown', 'destroy', 'console', 'list', 'dominfo', 'edit'):
                self.assertIn(verb, out)
            out = d.vsh('help', 'start')[1]
            self.assertIn('--paused', out)
            self.assertIn('--console', out)
            mode = stat.S_IMODE(os.stat(d.path('virtd.sock')).st_mode)
            self.assertEqual(mode, 0o600, 'API socket mode %o' % mode)

    def test_concurrent_starts(self):
        # Several `vsh start` at once: every one succeeds, each guest
        # boots, ids are distinct, and the API keeps answering meanwhile.
        names = ['cs%d' % i for i in range(5)]
        with Daemon() as d:
            for n in names:
                d.define(n)
            env = dict(os.environ, LC_ALL='C', HOME=d.root)
            procs = [subprocess.Popen([harness.VSH_BIN, '-c', d.uri, 'start', n],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                     for n in names]
            for _ in range(5):
                self.assertEqual(d.vsh('list', '--all')[0], 0)
            for n, p in zip(names, procs):
                out, err = p.communicate(timeout=120)
                self.assertEqual(p.returncode, 0, err)
                self.assertIn("Domain '%s' started" % n, out.decode())
            for n in names:
                d.wait_console(n, 'VIRTD-GUEST-READY')
            ids = [d.domid(n) for n in names]
            self.assertEqual(len(set(ids)), len(names), ids)
            self.assertEqual(len(d.qemu_pids()), len(names))
            for n in names:
                d.vsh('destroy', n)
            self.assertNoQemu(d)

    def _panic_domain(self, d, name, on_crash):
        d.define(name, on_crash=on_crash,
                 cmdline_extra='virtd.action=panic virtd.delay=1',
                 extra_devices="    <panic model='isa'/>")

    def test_on_crash_destroy(self):
        with Daemon() as d:
            self._panic_domain(d, 'pc1', 'destroy')
            d.start_domain('pc1')
            d.wait_state('pc1', 'shut off (crashed)', reason=True)
            self.assertNoQemu(d)

    def test_on_crash_preserve(self):
        with Daemon() as d:
            self._panic_domain(d, 'pc2', 'preserve')
            d.start_domain('pc2')
            d.wait_state('pc2', 'crashed (panicked)', reason=True)
            # QEMU is kept for inspection until destroyed.
            self.assertTrue(d.qemu_pids())
            d.vsh('destroy', 'pc2')
            d.wait_state('pc2', 'shut off (destroyed)', reason=True)
            self.assertNoQemu(d)


if __name__ == '__main__':
    harness.main()
