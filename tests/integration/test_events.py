#!/usr/bin/env python3
"""The daemon's event stream (GET /v1/events, server-sent events) and
`vsh event` / `vsh net-event` (docs/events.md): a real daemon and a real
128 MiB guest. `vsh event --all --loop --timestamp` runs in the background
while the guest is defined, started, given a disk (pulled from its
backing file) and relieved of it,
suspended, resumed, saved, restored, shut down by its own power-off,
started again, reset, destroyed and undefined: the lines are virsh's, in
order. Filters, one-shot and timeouts; the stream's
JSON; a network's lifecycle; and a client that never reads its stream is
dropped, without slowing the daemon's other clients or growing it."""

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import threading
import time
import unittest

import harness
from harness import Daemon, domain_xml, wait_for

TS = r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: '
# Every line vsh event prints for a domain, whatever the event.
LINE_RE = re.compile(r"^(%s)?event '[a-z0-9-]+' for domain '[^']+'(:.*)?$" % TS)

VIRSH_EVENT_LIST = [
    'lifecycle', 'reboot', 'rtc-change', 'watchdog', 'io-error', 'graphics',
    'io-error-reason', 'control-error', 'block-job', 'disk-change', 'tray-change',
    'pm-wakeup', 'pm-suspend', 'balloon-change', 'pm-suspend-disk', 'device-removed',
    'block-job-2', 'tunable', 'agent-lifecycle', 'device-added', 'migration-iteration',
    'job-completed', 'device-removal-failed', 'metadata-change', 'block-threshold',
    'memory-failure', 'memory-device-size-change']


class EventWatcher:
    """`vsh ARGS` in the background (vsh event ... --loop): its stdout
    lines as they come, read by a thread."""

    def __init__(self, d, *args, uri=None):
        self.d = d
        self.lines = []
        self.lock = threading.Lock()
        env = dict(os.environ, LC_ALL='C', HOME=d.root)
        env.pop('VSH_DEFAULT_URI', None)
        self.proc = subprocess.Popen([harness.VSH_BIN, '-c', uri or d.uri] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True, env=env)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip('\n'))

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def wait_line(self, pred, what, timeout=30):
        return wait_for(lambda: next((l for l in self.snapshot() if pred(l)), None), timeout,
                        interval=0.05, what=lambda: '%s; vsh printed %r (stderr so far unread)' %
                        (what, self.snapshot()))

    def stop(self):
        """SIGINT, as a user's ^C: (rc, all stdout lines, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(timeout=5)
        err = self.proc.stderr.read()
        self.close()
        return self.proc.returncode, self.snapshot(), err

    def close(self):
        self.thread.join(timeout=5)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.proc.stderr.closed:
            self.close()


def subscribe(d, watcher, probe='evprobe'):
    """Makes sure @watcher's stream is subscribed: defines and undefines
    the domain @probe until the watcher has printed its Defined event."""
    xml = d.write_xml(probe, domain_xml(probe, memory_mib=128))

    def seen():
        d.vsh('define', xml)
        d.vsh('undefine', probe)
        return any("for domain '%s': Defined Added" % probe in l for l in watcher.snapshot())
    wait_for(seen, 30, interval=0.2, what=lambda: 'the watcher subscribed: %r' %
             watcher.snapshot())


def strip_ts(line):
    return re.sub('^' + TS, '', line)


def daemon_rss_kib(d):
    with open('/proc/%d/status' % d.proc.pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS for the daemon')


class Events(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon()
        cls.d.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)

    def setUp(self):
        self.watchers = []

    def tearDown(self):
        for w in self.watchers:
            w.kill()

    def watch(self, *args):
        w = EventWatcher(self.d, *args)
        self.watchers.append(w)
        return w

    # ---- a guest's whole life, as virsh prints it

    def test_1_lifecycle_lines(self):
        d = self.d
        w = self.watch('event', '--all', '--loop', '--timestamp')
        subscribe(d, w)
        before = len(w.snapshot())
        name = 'ev1'
        d.define(name, domain_xml(name, memory_mib=128))
        d.start_domain(name)  # booted: its acpid handles the power button
        # a disk hot-added, pulled from its backing file and removed (the
        # guest lets it go)
        base = os.path.join(d.root, 'ev1-base.raw')
        with open(base, 'wb') as f:
            f.truncate(1024 * 1024)
        disk = os.path.join(d.root, 'ev1-top.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base, disk],
                       check=True)
        d.vsh('attach-disk', name, disk, 'vdb', '--live')
        d.wait_console(name, 'disks=vda')  # the guest's first disk
        d.vsh('blockpull', name, 'vdb', '--wait', timeout=90)
        # On a loaded machine the guest may take longer than vsh waits:
        # then the device goes later, and its event with it.
        d.vsh('detach-disk', name, 'vdb', '--live', check=False)
        w.wait_line(lambda l: "event 'device-removed' for domain '%s'" % name in l,
                    'the disk removed', timeout=120)
        d.vsh('suspend', name)
        d.vsh('resume', name)
        # a save and its restore: two long jobs
        saved = os.path.join(d.root, 'ev1.save')
        d.vsh('save', name, saved)
        d.vsh('restore', saved)
        # the guest's own power-off: in shutdown, then shut off
        d.vsh('shutdown', name)
        d.wait_state(name, 'shut off')
        d.vsh('start', name)
        # a reset is QEMU's RESET: virsh's 'reboot' event, no lifecycle one
        d.vsh('reset', name)
        d.vsh('destroy', name)
        d.vsh('undefine', name)
        prefix = "event 'lifecycle' for domain '%s': " % name
        w.wait_line(lambda l: l.endswith(prefix + 'Undefined Removed'), 'the undefine event')
        rc, lines, err = w.stop()
        printed = len([l for l in lines if LINE_RE.match(l)])
        lines = lines[before:]
        self.assertEqual(lines[-3:], ['event loop interrupted', 'events received: %d' % printed,
                                      ''])
        lines = lines[:-3]
        print('\n'.join(['vsh event printed:'] + lines))
        for l in lines:
            if l.startswith('\t'):
                continue  # job-completed's members
            self.assertRegex(l, '^' + TS, 'every line has the timestamp')
            self.assertRegex(l, LINE_RE)
        jobs = '\n'.join(lines).split("event 'job-completed' for domain '%s':\n" % name)[1:]
        self.assertEqual([j.split('\n')[:2] for j in jobs],
                         [['\ttype: 3', '\toperation: 2'], ['\ttype: 3', '\toperation: 3']])
        for j in jobs:
            self.assertRegex(j.split('\n')[2], r'^\ttime_elapsed: \d+$')
        mine = [strip_ts(l) for l in lines if "for domain '%s'" % name in l]
        lifecycle = [l[len(prefix):] for l in mine if l.startswith(prefix)]
        self.assertEqual(lifecycle, [
            'Defined Added',
            'Started Booted',
            'Suspended Paused',
            'Resumed Unpaused',
            'Suspended Paused',
            'Stopped Saved',
            'Started Restored',
            'Shutdown Finished after guest request',
            'Stopped Shutdown',
            'Started Booted',
            'Stopped Destroyed',
            'Undefined Removed',
        ])
        self.assertIn("event 'reboot' for domain '%s'" % name, mine)
        # the disk came and went between the first start and the suspend
        added = [i for i, l in enumerate(mine) if l.startswith(
            "event 'device-added' for domain '%s': " % name)]
        removed = [i for i, l in enumerate(mine) if l.startswith(
            "event 'device-removed' for domain '%s': " % name)]
        self.assertEqual((len(added), len(removed)), (1, 1), mine)
        alias = mine[added[0]].rsplit(': ', 1)[1]
        self.assertEqual(mine[removed[0]].rsplit(': ', 1)[1], alias)
        self.assertLess(mine.index(prefix + 'Started Booted'), added[0])
        self.assertLess(added[0], removed[0])
        self.assertLess(removed[0], mine.index(prefix + 'Suspended Paused'))
        # the pull, by file and by target (--all: both of virsh's types)
        self.assertIn("event 'block-job' for domain '%s': Block Pull for %s completed"
                      % (name, disk), mine)
        self.assertIn("event 'block-job-2' for domain '%s': Block Pull for vdb completed" % name,
                      mine)
        # the reset came between the second start and the destroy
        self.assertEqual(mine.index("event 'reboot' for domain '%s'" % name),
                         mine.index(prefix + 'Stopped Destroyed') - 1, mine)
        # timestamps never go back
        stamps = [l[:27] for l in lines if not l.startswith('\t')]
        self.assertEqual(stamps, sorted(stamps))
        self.assertEqual(rc, 0, err)

    # ---- filters, one-shot, timeouts, errors

    def test_2_filters_and_one_shot(self):
        d = self.d
        uuids = {'evA': '0c7e55d4-3f1b-4a8e-9d1c-2b6f0a9e4d01',
                 'evB': '0c7e55d4-3f1b-4a8e-9d1c-2b6f0a9e4d02'}
        paths = {n: d.define(n, domain_xml(n, memory_mib=128, uuid=u)) for n, u in uuids.items()}
        only_a = self.watch('event', '--domain', 'evA', '--event', 'lifecycle', '--loop')

        def redefined(w, n):
            d.vsh('define', paths[n])
            return any('Defined Updated' in l for l in w.snapshot())
        # subscribed once a redefinition of evA reaches it
        wait_for(lambda: redefined(only_a, 'evA'), 30, interval=0.2, what='evA redefined')
        before = len(only_a.snapshot())
        # one-shot: the first event, then it ends by itself
        one = self.watch('event', '--event', 'lifecycle', '--domain', 'evB')
        wait_for(lambda: redefined(one, 'evB'), 30, interval=0.2, what='evB redefined')
        self.assertEqual(one.proc.wait(timeout=30), 0)
        rc, lines, err = one.stop()
        self.assertEqual(lines, ["event 'lifecycle' for domain 'evB': Defined Updated",
                                 'events received: 1', ''], err)
        d.vsh('start', 'evB', '--paused')
        d.vsh('start', 'evA', '--paused')
        d.vsh('destroy', 'evA')
        d.vsh('destroy', 'evB')
        only_a.wait_line(lambda l: l.endswith('Stopped Destroyed'), 'evA destroyed')
        rc, lines, err = only_a.stop()
        self.assertEqual(lines[before:], [
            "event 'lifecycle' for domain 'evA': Started Booted",
            "event 'lifecycle' for domain 'evA': Suspended Paused",
            "event 'lifecycle' for domain 'evA': Stopped Destroyed",
            'event loop interrupted',
            'events received: %d' % (before + 3),
            '',
        ], err)
        self.assertEqual(rc, 0)
        self.assertFalse([l for l in lines if 'evB' in l], 'evB in a watcher of evA')
        for n in ('evA', 'evB'):
            d.vsh('undefine', n)

    def test_3_timeout_list_errors(self):
        d = self.d
        t0 = time.monotonic()
        rc, out, err = d.vsh('event', '--all', '--timeout', '1', check=False)
        self.assertEqual((rc, out), (1, 'event loop timed out\nevents received: 0\n\n'), err)
        self.assertLess(time.monotonic() - t0, 10)
        rc, out, _ = d.vsh('event', '--list')
        self.assertEqual(out, '\n'.join(VIRSH_EVENT_LIST) + '\n\n')
        self.assertEqual(d.vsh('net-event', '--list')[1], 'lifecycle\n\n')
        for args, msg in (
                ((), 'error: one of --list, --all, or --event <type> is required'),
                (('--event', 'foo'), 'error: unknown event type foo'),
                (('--all', '--domain', 'nosuch'), "error: failed to get domain 'nosuch'"),
                (('--all', '--timeout', '0'),
                 "error: Numeric value '0' for <timeout> option is malformed or out of range"),
                (('--all', '--event', 'lifecycle'),
                 'error: Options --all and --event are mutually exclusive')):
            rc, out, err = d.vsh_fail('event', *args)
            self.assertIn(msg, err.splitlines(), args)
        rc, out, err = d.vsh_fail('net-event')
        self.assertIn('error: either --list or --event <type> is required', err)

    # ---- the stream itself

    def test_4_stream_json(self):
        d = self.d
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(d.sock_path)
        s.sendall(b'GET /v1/events?kind=lifecycle&domain=evjson HTTP/1.1\r\nHost: localhost\r\n\r\n')
        buf = b''
        while b': subscribed' not in buf:
            buf += s.recv(4096)
        head = buf.split(b'\r\n\r\n', 1)[0].decode()
        self.assertTrue(head.startswith('HTTP/1.1 200'), head)
        self.assertRegex(head.lower(), r'content-type: text/event-stream')
        self.assertRegex(head.lower(), r'transfer-encoding: chunked')
        d.define('evjson', domain_xml('evjson', memory_mib=128))
        d.define('evother', domain_xml('evother', memory_mib=128))
        d.vsh('undefine', 'evother')
        d.vsh('undefine', 'evjson')
        uuid_ = None
        events = []
        deadline = time.monotonic() + 30
        while len(events) < 2 and time.monotonic() < deadline:
            buf += s.recv(4096)
            events = [json.loads(m) for m in re.findall(rb'data: (\{.*?\})\n\n', buf)]
        s.close()
        self.assertEqual([(e['kind'], e['domain'], e['event'], e['detail']) for e in events],
                         [('lifecycle', 'evjson', 'Defined', 'Added'),
                          ('lifecycle', 'evjson', 'Undefined', 'Removed')])
        for e in events:
            self.assertRegex(e['time'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
            self.assertRegex(e['uuid'], r'^[0-9a-f-]{36}$')
            uuid_ = uuid_ or e['uuid']
            self.assertEqual(e['uuid'], uuid_)
        self.assertLess(events[0]['seq'], events[1]['seq'])
        r = d.api('POST', '/v1/events')
        self.assertEqual(r.status, 405)

    def test_5_network_events(self):
        d = self.d
        w = self.watch('net-event', '--event', 'lifecycle', '--loop', '--timestamp')
        # subscribed once the first probe network event arrives
        xml = d.write_xml('evnetp', "<network><name>evnetp</name></network>")

        def seen():
            d.vsh('net-define', xml)
            d.vsh('net-undefine', 'evnetp')
            return any('network evnetp: Defined' in l for l in w.snapshot())
        wait_for(seen, 30, interval=0.2, what='net-event subscribed')
        before = len(w.snapshot())
        xml = d.write_xml('evnet', "<network><name>evnet</name><bridge name='vdev0'/>"
                                   "</network>")
        d.vsh('net-define', xml)
        try:
            d.vsh('net-start', 'evnet')
            d.vsh('net-destroy', 'evnet')
        finally:
            d.vsh('net-destroy', 'evnet', check=False)
            d.vsh('net-undefine', 'evnet')
        w.wait_line(lambda l: l.endswith('network evnet: Undefined'), 'net Undefined')
        rc, lines, err = w.stop()
        self.assertEqual([strip_ts(l) for l in lines[before:-3]], [
            "event 'lifecycle' for network evnet: Defined",
            "event 'lifecycle' for network evnet: Started",
            "event 'lifecycle' for network evnet: Stopped",
            "event 'lifecycle' for network evnet: Undefined",
        ])
        for l in lines[:-3]:
            self.assertRegex(l, '^' + TS)

    # ---- a client that never reads

    def test_6_stuck_client_is_dropped(self):
        d = self.d

        def list_time():
            t0 = time.monotonic()
            d.vsh('list', '--all')
            return time.monotonic() - t0

        base = statistics.median(list_time() for _ in range(5))
        rss0 = daemon_rss_kib(d)
        # A reader that keeps up, beside the stuck one: it gets everything.
        # a fixed UUID: the watcher filters by the domain, i.e. its UUID
        xml = domain_xml('evflood', memory_mib=128, uuid='6b1a3c52-8f0e-4d61-9b7a-0e5d2c4f1a77')
        path = d.define('evflood', xml)
        stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.connect(d.sock_path)
        stuck.sendall(b'GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n')
        good = self.watch('event', '--event', 'lifecycle', '--loop', '--domain', 'evflood')

        def redefined():
            d.vsh('define', path)
            return any('Defined Updated' in l for l in good.snapshot())
        # both subscribed once a redefinition reaches the good reader
        wait_for(redefined, 30, interval=0.2, what='the good reader subscribed')
        d.vsh('undefine', 'evflood')
        before = len(good.wait_line(lambda l: 'Undefined Removed' in l, 'undefined') and
                     good.snapshot())
        # Events the stuck client never reads: each define/undefine makes two
        # (about 220 bytes each), far past the daemon's bound on a client.
        conn = harness.UnixHTTPConnection(d.sock_path, timeout=60)
        rounds = 600
        during = []
        t0 = time.monotonic()
        for i in range(rounds):
            for method, path, body in (('POST', '/v1/domains', xml),
                                       ('DELETE', '/v1/domains/evflood', None)):
                conn.request(method, path, body=body,
                             headers={'Content-Type': 'application/xml'} if body else {})
                r = conn.getresponse()
                r.read()
                self.assertLess(r.status, 300, (method, r.status))
            if i % 100 == 50:
                during.append(list_time())
        flood_s = time.monotonic() - t0
        conn.close()
        during.append(list_time())
        rss1 = daemon_rss_kib(d)
        # The daemon cut the stuck client: what its socket holds, then EOF.
        stuck.settimeout(30)
        got = 0
        while True:
            chunk = stuck.recv(65536)
            if not chunk:
                break
            got += len(chunk)
        stuck.close()
        self.assertLess(got, rounds * 2 * 400, 'the stuck client was sent everything')
        # The good reader saw every event.
        want = before + 2 * rounds
        wait_for(lambda: len(good.snapshot()) >= want, 60, interval=0.2,
                 what=lambda: '%d events for the good reader (has %d)' %
                 (want, len(good.snapshot())))
        rc, lines, err = good.stop()
        self.assertEqual(lines[-3:], ['event loop interrupted', 'events received: %d' % want, ''])
        self.assertEqual(lines[before:-3],
                         ["event 'lifecycle' for domain 'evflood': Defined Added",
                          "event 'lifecycle' for domain 'evflood': Undefined Removed"] * rounds)
        print('events: vsh list %.0f ms alone, %s ms during the flood (%d requests in %.1f s); '
              'daemon RSS %d -> %d KiB; the stuck client got %d bytes before being dropped' %
              (base * 1000, [round(t * 1000) for t in during], rounds * 2, flood_s, rss0, rss1,
               got))
        self.assertLess(max(during), base * 3 + 0.5, 'vsh list slowed by the stuck client')
        # (a sanitized daemon also holds ASan's 16 MiB quarantine: harness.py)
        bound = (32 if harness.DAEMON_SANITIZED else 16) * 1024
        self.assertLess(rss1 - rss0, bound, 'the daemon grew by %d KiB' % (rss1 - rss0))
        with open(os.path.join(d.root, harness.DAEMON_LOG), errors='replace') as f:
            log = f.read()
        self.assertIn('event stream: a client has not read its last 256 events; dropping it', log)


    # ---- over TLS, quiet for longer than the idle timeout

    def test_7_over_tls(self):
        import shutil
        import tempfile
        from test_remote_tls import free_port, make_pki
        top = tempfile.mkdtemp(prefix='virtd-test-evtls-',
                               dir=os.environ.get('VIRTD_TEST_TMPDIR') or tempfile.gettempdir())
        try:
            pki = make_pki(top)
            port = free_port()
            with Daemon(args=['--listen', 'tls://127.0.0.1:%d' % port, '--tls-dir', pki.server,
                              '--idle-timeout', '2']) as d2:
                uri = 'tls://127.0.0.1:%d?pkipath=%s' % (port, pki.client_dirs['allowed'])
                w = EventWatcher(d2, 'event', '--event', 'lifecycle', '--loop', '--timeout', '30',
                                 uri=uri)
                self.watchers.append(w)
                xml = d2.write_xml('evtls', domain_xml(
                    'evtls', memory_mib=128, uuid='0c7e55d4-3f1b-4a8e-9d1c-2b6f0a9e4d07'))

                def seen():
                    d2.vsh('define', xml)
                    return any('Defined' in l for l in w.snapshot())
                wait_for(seen, 30, interval=0.2, what='the TLS watcher subscribed')
                # quiet for longer than --idle-timeout: the stream stays
                time.sleep(4)
                d2.vsh('undefine', 'evtls')
                w.wait_line(lambda l: l.endswith('Undefined Removed'), 'undefine over TLS')
                rc, lines, err = w.stop()
                self.assertIn("event 'lifecycle' for domain 'evtls': Undefined Removed", lines,
                              err)
                self.assertEqual(lines[-3:-1], ['event loop interrupted', 'events received: %d'
                                                % (len(lines) - 3)])
                # a watcher whose daemon stops: it ends, and says why
                w2 = EventWatcher(d2, 'event', '--event', 'lifecycle', '--loop')
                self.watchers.append(w2)

                def seen2():
                    d2.vsh('define', xml)
                    return any('Defined' in l for l in w2.snapshot())
                wait_for(seen2, 30, interval=0.2, what='the second watcher subscribed')
                # The daemon goes; its watcher ends by itself (waited for
                # here: leaving the block kills whatever still names the
                # daemon's root, a slow vsh included).
                d2.stop()
                self.assertEqual(w2.proc.wait(timeout=30), 1)
            rc, lines, err = w2.stop()
            self.assertEqual(lines[-2:], ['events received: %d' % (len(lines) - 2), ''])
            self.assertIn('error: the daemon ended the event stream', err)
        finally:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == '__main__':
    harness.main()
