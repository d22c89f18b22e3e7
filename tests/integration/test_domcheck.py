#!/usr/bin/env python3
"""vsh domcheck (the compatibility report), define --check and
qemu-monitor-command:

- a domain that would start: "result starts", exit 0, its disk and
  interface under "runs", nothing defined;
- one with several problems: every blocker listed (two unsupported
  elements, launch security this host lacks, a missing disk, a missing
  bridge), exit 1, and the start of the same file refused with the first
  of them;
- define --check is the same report and defines nothing; domcheck NAME
  reports on a defined domain; the API answers the three lists;
- what define refuses is a blocker too (exit 1), malformed XML an error;
- what the builder adjusts (a <cmdline> without <kernel>) is listed as
  adjusted, printed by vsh start as a warning, logged by the daemon and
  answered by the API's start;
- qemu-monitor-command passes QMP (query-status, --pretty,
  --return-value) and HMP (--hmp) to a running domain, refuses a stopped
  one and a command that is not QMP JSON.
"""

import json
import os
import subprocess

import harness
from harness import Daemon, domain_xml, disk_xml


def blocks(out):
    return [l[len('blocks'):].strip() for l in out.splitlines() if l.startswith('blocks ')]


class DomcheckTest(harness.VirtdTestCase):

    def test_report(self):
        with Daemon() as d:
            img = d.path('a.qcow2')
            subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', img, '16M'], check=True)
            good = d.write_xml('good', domain_xml('good', extra_devices=disk_xml(img, fmt='qcow2')))
            rc, out, err = d.vsh('domcheck', good, check=False)
            self.assertEqual(rc, 0, out + err)
            self.assertRegex(out, r'(?m)^runs +domain \'good\': machine pc, TCG emulation, '
                                  r'1 vCPU, 256 MiB$')
            self.assertRegex(out, r'(?m)^runs +devices: 1 serial, 1 console, 1 disk$')
            self.assertRegex(out, r'(?m)^runs +disk vda: virtio disk, qcow2 file %s$' % img)
            self.assertRegex(out, r'(?m)^result +starts$')
            self.assertEqual(blocks(out), [])
            self.assertNotIn('good', d.vsh('list', '--all', '--name')[1])

            # Everything that blocks, not only the first.
            bad_xml = domain_xml(
                'bad', extra_devices=disk_xml(d.path('missing.qcow2'), fmt='qcow2') +
                "<interface type='bridge'><source bridge='vtcmpnobr0'/></interface>"
                "<filesystem type='mount'><source dir='/srv'/><target dir='srv'/></filesystem>"
                "<smartcard mode='host'/>",
                extra_xml="<launchSecurity type='sev'><policy>0x0003</policy></launchSecurity>")
            bad = d.write_xml('bad', bad_xml)
            rc, out, err = d.vsh('domcheck', bad, check=False)
            self.assertEqual(rc, 1, out + err)
            found = blocks(out)
            self.assertTrue(any('filesystem' in b for b in found), found)
            self.assertTrue(any('smartcard' in b for b in found), found)
            self.assertTrue(any('launchSecurity' in b for b in found), found)
            self.assertTrue(any('missing.qcow2' in b for b in found), found)
            self.assertTrue(any("bridge 'vtcmpnobr0' does not exist" in b for b in found), found)
            self.assertRegex(out, r'(?m)^result +blocked: %d problems$' % len(found))
            self.assertEqual(len(set(found)), len(found), found)

            # define --check: the same report, nothing defined.
            rc2, out2, _err = d.vsh('define', '--check', bad, check=False)
            self.assertEqual((rc2, blocks(out2)), (rc, found))  # (MACs are generated anew)
            self.assertNotIn('bad', d.vsh('list', '--all', '--name')[1])

            # A defined domain by name; the start meets the first blocker.
            d.vsh('define', bad)
            rc3, out3, _err = d.vsh('domcheck', 'bad', check=False)
            self.assertEqual((rc3, blocks(out3)), (1, found))
            rc, _out, err = d.vsh('start', 'bad', check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn(found[0], err)

            # The API's shape.
            with open(bad) as f:
                r = d.api('POST', '/v1/domains/check', f.read())
            self.assertEqual(r.status, 200, r.body)
            j = r.json()
            self.assertEqual(sorted(j), ['adjusted', 'blocks', 'runs', 'starts'])
            self.assertEqual(j['blocks'], found)
            self.assertIs(j['starts'], False)
            j = d.api_json('GET', '/v1/domains/bad/check')
            self.assertEqual(j['blocks'], found)

            # What define refuses is a blocker; XML that does not parse, an error.
            refused = d.write_xml('refused', domain_xml(
                'refused', extra_devices="<interface type='user'><model type='nosuchnic'/>"
                                         "</interface>"))
            rc, out, err = d.vsh('domcheck', refused, check=False)
            self.assertEqual(rc, 1, out + err)
            self.assertTrue(blocks(out) and blocks(out)[0].startswith('define refuses it: '),
                            out)
            broken = d.write_file('broken.xml', '<domain><name>x</name>')
            rc, out, err = d.vsh('domcheck', broken, check=False)
            self.assertNotIn(rc, (0, 1))
            self.assertIn('error:', err)

    def test_start_warnings(self):
        # A definition the builder adjusts: <cmdline> without <kernel>
        # (what a URL install leaves) is left out, with a note.
        xml = ("<domain type='qemu'><name>adj</name><memory unit='MiB'>128</memory>"
               "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>"
               "<cmdline>console=ttyS0</cmdline></os><devices>"
               "<serial type='pty'/><console type='pty'/></devices></domain>")
        note = ('<cmdline> ignored: there is no <kernel> to pass it to (the guest boots its '
                'own kernel)')
        with Daemon() as d:
            path = d.write_xml('adj', xml)
            rc, out, err = d.vsh('domcheck', path, check=False)
            self.assertEqual(rc, 0, out + err)
            self.assertIn('adjusted  ' + note + '\n', out)
            d.vsh('define', path)
            rc, out, err = d.vsh('start', 'adj')
            self.assertIn("Domain 'adj' started", out)
            self.assertEqual(err.strip(), 'warning: ' + note)
            self.assertIn("domain 'adj': " + note, d.daemon_log_tail(200))
            # The API's answer carries them; a start without adjustments has none.
            d.vsh('destroy', 'adj')
            j = d.api_json('POST', '/v1/domains/adj/start')
            self.assertEqual(j.get('warnings'), [note])
            d.vsh('destroy', 'adj')
            d.define('plain')
            j = d.api_json('POST', '/v1/domains/plain/start')
            self.assertNotIn('warnings', j)
            d.vsh('destroy', 'plain')

    def test_qemu_monitor_command(self):
        with Daemon() as d:
            d.define('mon')
            rc, _out, err = d.vsh('qemu-monitor-command', 'mon', '{"execute":"query-status"}',
                                  check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn('not running', err)
            d.start_domain('mon', wait_boot=False)
            out = d.vsh('qemu-monitor-command', 'mon', '{"execute":"query-status"}')[1]
            self.assertIn(json.loads(out)['return']['status'], ('running', 'paused'))
            out = d.vsh('qemu-monitor-command', 'mon', '--pretty', '--return-value',
                        '{"execute":"query-kvm"}')[1]
            self.assertEqual(json.loads(out), {'enabled': False, 'present': json.loads(out)['present']})
            self.assertIn('\n', out.strip())
            out = d.vsh('qemu-monitor-command', 'mon', '--hmp', 'info', 'name')[1]
            self.assertIn('mon', out)
            out = d.vsh('qemu-monitor-command', 'mon', '--return-value',
                        '{"execute":"query-pci"}')[1]
            self.assertIsInstance(json.loads(out), list)
            rc, _out, err = d.vsh('qemu-monitor-command', 'mon', 'info', 'pci', check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn('--hmp', err)
            rc, _out, err = d.vsh('qemu-monitor-command', 'mon', '{"execute":"no-such-cmd"}',
                                  check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn('no-such-cmd', err)
            d.vsh('destroy', 'mon')


if __name__ == '__main__':
    harness.main()
