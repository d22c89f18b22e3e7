#!/usr/bin/env python3
"""Bad input through vsh and the raw API: each is refused with the error
code, HTTP status and vsh exit status of docs/api.md, a message naming the
problem, and no change at all (vsh list --all and GET /v1/domains are the
same before and after)."""

import json
import os
import uuid as uuidlib

import harness
from harness import Daemon, domain_xml, dom_path


class BadInput(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = d = Daemon()
        d.__enter__()
        try:
            cls.uuid1 = str(uuidlib.uuid4())
            d.define('bad1', domain_xml('bad1', uuid=cls.uuid1))
            d.define('bad2')
            d.start_domain('bad1', wait_boot=False)
        except BaseException:
            d.cleanup(failed=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)

    def setUp(self):
        self.before = self.snapshot()

    def tearDown(self):
        self.assertEqual(self.snapshot(), self.before, 'the bad request changed something')

    def snapshot(self):
        d = self.d
        listing = d.vsh('list', '--all')[1]
        doms = d.api_json('GET', '/v1/domains?all=1')['domains']
        for x in doms:
            x.pop('cpu_time_ns', None)
        files = sorted(os.listdir(d.path('etc', 'domains'))) if os.path.isdir(d.path('etc', 'domains')) else None
        return listing, json.dumps(doms, sort_keys=True), len(d.qemu_pids()), files

    def vsh_define_fails(self, xml, rc, *mentions, verb='define'):
        path = self.d.write_xml('bad-input', xml, filename='xml/bad-input.xml')
        code, out, err = self.d.vsh(verb, path, check=False)
        self.assertEqual(code, rc, 'exit status; stdout %r stderr %r' % (out, err))
        self.assertTrue(err.startswith('error: '), 'stderr %r' % err)
        for m in mentions:
            self.assertIn(m, err)
        return err

    # ---- XML

    def test_malformed_xml(self):
        xml = "<domain type='qemu'><name>x1</name><memory>65536</memory>\n<os><type>hvm</type></os>\n"
        err = self.vsh_define_fails(xml, 2)
        self.assertRegex(err.lower(), r'xml|line|premature|end')
        r = self.d.api('POST', '/v1/domains', xml)
        self.assertApiError(r, 400, 'xml-error')

    def test_not_xml(self):
        r = self.d.api('POST', '/v1/domains', b'hello world', {'Content-Type': 'application/xml'})
        self.assertApiError(r, 400, 'xml-error')
        self.vsh_define_fails('hello world\n', 2)

    def test_missing_name(self):
        xml = domain_xml('x').replace('<name>x</name>', '')
        err = self.vsh_define_fails(xml, 2, 'name')
        self.assertTrue(err)
        r = self.d.api('POST', '/v1/domains', xml)
        self.assertApiError(r, 400, ('xml-error', 'invalid-argument'))
        self.assertIn('name', r.error_message())

    def test_wrong_root(self):
        xml = "<network><name>n1</name></network>"
        self.vsh_define_fails(xml, 2)
        self.assertApiError(self.d.api('POST', '/v1/domains', xml), 400, 'xml-error')

    def test_bad_memory(self):
        xml = domain_xml('mem1').replace("<memory unit='MiB'>256</memory>",
                                         "<memory unit='MiB'>lots</memory>")
        self.vsh_define_fails(xml, 2, 'memory')

    def test_zero_and_absurd_sizes(self):
        """An explicit 0 is refused, never turned into a default (it was:
        <vcpu>0</vcpu> became 1 vCPU)."""
        base = domain_xml('size1')
        for old, new, mentions in (
                ('<vcpu>1</vcpu>', '<vcpu>0</vcpu>', ('<vcpu> 0', '1 to 255')),
                ('<vcpu>1</vcpu>', '<vcpu>256</vcpu>', ('<vcpu> 256', '255')),
                ('<vcpu>1</vcpu>', '<vcpu>99999999999</vcpu>', ('<vcpu>',)),
                ('<vcpu>1</vcpu>', "<vcpu current='3'>2</vcpu>", ('current',)),
                ("<memory unit='MiB'>256</memory>", "<memory unit='MiB'>0</memory>",
                 ('<memory> 0',)),
                ("<currentMemory unit='MiB'>256</currentMemory>",
                 "<currentMemory unit='MiB'>0</currentMemory>", ('<currentMemory> 0',)),
                ("<memory unit='MiB'>256</memory>", "<memory unit='KiB'>18014398509481983</memory>",
                 ('more than QEMU can take',)),
                ("<memory unit='MiB'>256</memory>", "<memory unit='EiB'>100</memory>",
                 ('too large',))):
            self.assertIn(old, base)
            xml = base.replace(old, new)
            self.vsh_define_fails(xml, 2, *mentions)
            r = self.d.api('POST', '/v1/domains?start=1', xml)
            self.assertApiError(r, 400, 'xml-error')

    # ---- names

    def test_bad_names(self):
        for name in ('a/b', '..', '.', 'a\tb', 'a\nb', 'a\x7fb', '', '../../etc/x', ' ', '   ',
                     ' web', 'web ', 'web\u00a0', 'c1\u0085'):
            xml = domain_xml(name)
            r = self.d.api('POST', '/v1/domains', xml)
            self.assertEqual(r.status, 400, 'name %r: %s %r' % (name, r.status, r.body))
            self.assertIn(r.error_code(), ('invalid-argument', 'xml-error'), name)
            code, out, err = self.d.vsh('define', self.d.write_xml('n', xml, 'xml/n.xml'), check=False)
            self.assertEqual(code, 2, 'name %r: %r %r' % (name, out, err))
            # Transient creation is checked the same way.
            r = self.d.api('POST', '/v1/domains?start=1', xml)
            self.assertEqual(r.status, 400, 'create with name %r: %s %r' % (name, r.status, r.body))
        # '../../etc/x' did not escape the definitions directory.
        self.assertFalse(os.path.exists(self.d.path('etc', 'x.xml')))

    def test_bad_names_in_paths(self):
        for raw in ('..%2F..%2Fetc%2Fpasswd', '%2E%2E', 'a%00b', 'a%0Ab', '%2F', 'a%2Fb'):
            r = self.d.api('GET', '/v1/domains/' + raw)
            self.assertIn(r.status, (400, 404), '%s: %s %r' % (raw, r.status, r.body))
            self.assertIn(r.error_code(), ('invalid-argument', 'no-domain', 'not-found'), raw)
            r = self.d.api('POST', '/v1/domains/' + raw + '/start')
            self.assertIn(r.status, (400, 404), '%s: %s %r' % (raw, r.status, r.body))

    # ---- unknown domain

    def test_unknown_domain(self):
        for verb in ('domstate', 'dominfo', 'start', 'shutdown', 'destroy', 'suspend', 'resume',
                     'reboot', 'reset', 'undefine', 'dumpxml', 'domblklist', 'autostart'):
            code, out, err = self.d.vsh(verb, 'nope', check=False)
            self.assertEqual(code, 4, '%s: %r %r' % (verb, out, err))
            self.assertIn("error: failed to get domain 'nope'", err, verb)
        r = self.d.api('GET', dom_path('nope'))
        self.assertApiError(r, 404, 'no-domain')
        self.assertIn('nope', r.error_message())
        self.assertApiError(self.d.api('POST', dom_path('nope', '/start')), 404, 'no-domain')
        self.assertApiError(self.d.api('DELETE', dom_path('nope')), 404, 'no-domain')
        # An id that is not running, a UUID nobody has.
        self.assertEqual(self.d.vsh('domstate', '9999', check=False)[0], 4)
        self.assertEqual(self.d.vsh('domstate', str(uuidlib.uuid4()), check=False)[0], 4)

    # ---- duplicates

    def test_duplicate_name(self):
        xml = domain_xml('bad2', uuid=str(uuidlib.uuid4()))
        self.vsh_define_fails(xml, 5, 'bad2')
        self.assertApiError(self.d.api('POST', '/v1/domains', xml), 409, 'exists')
        # A running domain's name, as a transient domain.
        xml = domain_xml('bad1')
        self.vsh_define_fails(xml, 5, 'bad1', verb='create')
        self.assertApiError(self.d.api('POST', '/v1/domains?start=1', xml), 409, 'exists')

    def test_duplicate_uuid(self):
        xml = domain_xml('other1', uuid=self.uuid1)
        self.vsh_define_fails(xml, 5)
        r = self.d.api('POST', '/v1/domains', xml)
        self.assertApiError(r, 409, 'exists')
        self.assertIn(self.uuid1, r.error_message())
        self.vsh_define_fails(xml, 5, verb='create')

    # ---- states

    def test_start_running(self):
        code, out, err = self.d.vsh('start', 'bad1', check=False)
        self.assertEqual(code, 6, '%r %r' % (out, err))
        self.assertTrue(err.startswith('error: '), err)
        r = self.d.api('POST', dom_path('bad1', '/start'))
        self.assertApiError(r, 409, 'invalid-state')
        self.assertIn('Requested operation is not valid', r.error_message())

    def test_stop_stopped(self):
        for verb in ('shutdown', 'destroy', 'suspend', 'resume', 'reboot', 'reset'):
            code, out, err = self.d.vsh(verb, 'bad2', check=False)
            self.assertEqual(code, 6, '%s: %r %r' % (verb, out, err))
            self.assertIn('not running', err, verb)
        r = self.d.api('POST', dom_path('bad2', '/shutdown'))
        self.assertApiError(r, 409, 'invalid-state')
        self.assertIn('domain is not running', r.error_message())

    def test_resume_running(self):
        code, _out, err = self.d.vsh('resume', 'bad1', check=False)
        self.assertEqual(code, 6, err)

    def test_redefine_running_uuid_mismatch(self):
        xml = domain_xml('bad1', uuid=str(uuidlib.uuid4()))
        self.vsh_define_fails(xml, 5, 'bad1')

    # ---- size

    def test_body_too_large(self):
        xml = domain_xml('big1')
        pad = '<!-- ' + 'x' * (2 << 20) + ' -->\n'
        big = xml.replace('</domain>', pad + '</domain>')
        self.assertGreater(len(big), 2 << 20)
        r = self.d.api('POST', '/v1/domains', big)
        self.assertApiError(r, 413, 'too-large')
        r = self.d.api('POST', '/v1/domains?start=1', big)
        self.assertEqual(r.status, 413)
        r = self.d.api('PUT', dom_path('bad2', '/xml'), big)
        self.assertEqual(r.status, 413)
        self.vsh_define_fails(big, 2)
        # The daemon still answers afterwards.
        self.assertEqual(self.d.api('GET', '/v1/version').status, 200)

    # ---- KVM

    def test_kvm_unusable(self):
        host = self.d.api_json('GET', '/v1/host')
        if host.get('kvm', {}).get('status') == 'usable':
            self.skipTest('KVM is usable on this host')
        xml = domain_xml('kvm1', dom_type='kvm')
        # As a transient domain: refused before QEMU runs.
        code, out, err = self.d.vsh('create', self.d.write_xml('kvm1', xml), check=False)
        self.assertEqual(code, 3, '%r %r' % (out, err))
        self.assertIn("type='qemu'", err)
        r = self.d.api('POST', '/v1/domains?start=1', xml)
        self.assertApiError(r, 422, 'kvm-unusable')
        self.assertIn("type='qemu'", r.error_message())

    def test_kvm_unusable_defined(self):
        host = self.d.api_json('GET', '/v1/host')
        if host.get('kvm', {}).get('status') == 'usable':
            self.skipTest('KVM is usable on this host')
        d = self.d
        xml = domain_xml('kvm2', dom_type='kvm')
        code, out, err = d.vsh('define', d.write_xml('kvm2', xml), check=False)
        if code == 0:
            # Defining is allowed; starting it is refused, and nothing runs.
            try:
                before = d.vsh('list', '--all')[1]
                code, out, err = d.vsh('start', 'kvm2', check=False)
                self.assertEqual(code, 3, '%r %r' % (out, err))
                self.assertIn("type='qemu'", err)
                r = d.api('POST', dom_path('kvm2', '/start'))
                self.assertApiError(r, 422, 'kvm-unusable')
                self.assertEqual(d.vsh('list', '--all')[1], before)
                self.assertEqual(d.domstate('kvm2'), 'shut off')
            finally:
                d.vsh('undefine', 'kvm2', check=False)
        else:
            self.assertEqual(code, 3, '%r %r' % (out, err))
            self.assertIn("type='qemu'", err)

    # ---- HTTP level

    def test_unknown_path_and_method(self):
        self.assertApiError(self.d.api('GET', '/v1/nothing-here'), 404, 'not-found')
        self.assertApiError(self.d.api('GET', '/v2/domains'), 404, 'not-found')
        self.assertApiError(self.d.api('DELETE', '/v1/domains'), 405, 'method-not-allowed')
        self.assertApiError(self.d.api('PUT', '/v1/version'), 405, 'method-not-allowed')

    def test_bad_json(self):
        r = self.d.api('PUT', dom_path('bad2', '/autostart'), b'{not json',
                       {'Content-Type': 'application/json'})
        self.assertApiError(r, 400, 'invalid-argument')
        r = self.d.api('PUT', dom_path('bad2', '/autostart'), {'autostart': 'maybe'})
        self.assertApiError(r, 400, 'invalid-argument')

    def test_vsh_usage(self):
        code, _out, err = self.d.vsh('no-such-verb', check=False)
        self.assertNotEqual(code, 0)
        self.assertTrue(err)
        code, _out, err = self.d.vsh('start', check=False)
        self.assertEqual(code, 2, err)

    def test_no_daemon(self):
        r = harness.subprocess.run([harness.VSH_BIN, '-c', 'unix://' + self.d.path('nope.sock'),
                                    'list', '--all'], stdout=harness.subprocess.PIPE,
                                   stderr=harness.subprocess.PIPE, universal_newlines=True, timeout=30)
        self.assertEqual(r.returncode, 8, r.stderr)
        self.assertIn('error: ', r.stderr)


class LookupOrder(harness.VirtdTestCase):
    """A domain argument is an id, then a UUID, then a name (virsh's order):
    a name never shadows another domain's id or UUID, and define warns
    about names that read as one."""

    def test_uuid_before_name(self):
        with Daemon() as d:
            ua = str(uuidlib.uuid4())
            d.define('alpha', domain_xml('alpha', uuid=ua))
            path = d.write_xml(ua, domain_xml(ua))
            code, out, err = d.vsh('define', path)
            self.assertIn("warning: domain name '%s' is a UUID" % ua, err)
            code, out, err = d.vsh('undefine', ua)
            self.assertIn("Domain 'alpha' has been undefined", out)
            names = [x['name'] for x in d.domains()]
            self.assertEqual(names, [ua], 'undefine by UUID removed the domain named like it')
            # The API reads the path segment the same way.
            self.assertEqual(d.summary(ua)['name'], ua)

    def test_id_before_name(self):
        with Daemon() as d:
            d.define('runner')
            d.start_domain('runner', wait_boot=False)
            rid = d.domid('runner')
            r = d.api('POST', '/v1/domains', domain_xml(rid))
            self.assertEqual(r.status, 201, r.body)
            self.assertTrue(any(("domain name '%s' is a number" % rid) in w
                                for w in r.json()['warnings']), r.json())
            self.assertEqual(d.summary(rid)['name'], 'runner')
            self.assertVshOut(d.vsh('destroy', rid), "Domain 'runner' destroyed")
            self.assertEqual(d.domstate('runner'), 'shut off')
            self.assertNoQemu(d)
            # With no domain of that id running, the number is the name.
            self.assertEqual(d.summary(rid)['name'], rid)
            self.assertEqual(d.api('DELETE', dom_path(rid)).status, 200)
            self.assertEqual([x['name'] for x in d.domains()], ['runner'])

    def test_pool_uuid_before_name(self):
        """The same for storage pools (virsh: UUID, then name)."""
        with Daemon() as d:
            ua = str(uuidlib.uuid4())
            for name, uuid in (('pa', ua), (ua, None)):
                xml = ("<pool type='dir'><name>%s</name>%s<target><path>%s</path></target>"
                       "</pool>" % (name, '<uuid>%s</uuid>' % uuid if uuid else '',
                                    d.path('pools', name)))
                r = d.api('POST', '/v1/pools', xml)
                self.assertEqual(r.status, 201, r.body)
            self.assertEqual(d.api_json('GET', '/v1/pools/' + ua)['pool']['name'], 'pa')
            self.assertEqual(d.api('DELETE', '/v1/pools/' + ua).status, 200)
            names = [p['name'] for p in d.api_json('GET', '/v1/pools?all=1')['pools']]
            self.assertIn(ua, names)
            self.assertNotIn('pa', names)


class StoredDefinitions(harness.VirtdTestCase):
    """Rules added for new input (a name without leading or trailing white
    space, a one-line title) do not make stored definitions vanish."""

    def test_old_definition_still_loads(self):
        with Daemon() as d:
            d.define('plain')
            d.stop()
            old_uuid = str(uuidlib.uuid4())
            xml = domain_xml(' old', title='two\nlines', uuid=old_uuid)
            with open(d.path('etc', 'domains', ' old.xml'), 'w') as f:
                f.write(xml)
            d.start()
            names = [x['name'] for x in d.domains()]
            self.assertIn(' old', names)
            self.assertEqual(d.api('GET', dom_path(' old', '/xml')).status, 200)
            # It can be edited (its name is not new); a new such name is refused.
            r = d.api('PUT', dom_path(' old', '/xml'), domain_xml(' old', memory_mib=128, uuid=old_uuid))
            self.assertEqual(r.status, 200, r.body)
            r = d.api('POST', '/v1/domains', domain_xml(' new'))
            self.assertApiError(r, 400, 'invalid-argument')


if __name__ == '__main__':
    harness.main()
