#!/usr/bin/env python3
"""Operations racing each other on one domain (docs/architecture.md, "Jobs").

Each race is run many times with raw concurrent API requests; after each
round the daemon must be alive, every QEMU it started must be a domain that
GET /v1/domains lists as running (no invisible QEMU), destroy must work, and
a QEMU killed from outside must not take the daemon with it.

KilledDuringStart: the daemon killed at every phase of a start
(VIRTD_TEST_CRASH_AT) and at random moments; its restart finishes or undoes
the start (docs/architecture.md, "Daemon restart")."""

import os
import random
import signal
import threading
import time

import harness
from harness import Daemon, dom_path

ROUNDS = int(os.environ.get('VIRTD_TEST_RACE_ROUNDS', '40'))
NAME = 'r1'
UUID = '6c1b2e8e-93a4-4d0b-9b5e-0f6f3a5c2d11'


def concurrently(*calls, spread=0.3):
    """Runs each call in its own thread, all released together, each after
    a random delay of up to `spread` seconds (so that the second request
    lands in every phase of the first: before QEMU exists, during its
    QMP set-up, after). Returns their results in order."""
    results = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def run(i, call):
        gate.wait()
        time.sleep(random.uniform(0, spread) if i else 0)
        try:
            results[i] = call()
        except Exception as e:  # an HTTP failure is a result to check too
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


class Races(harness.VirtdTestCase):

    def api(self, d, method, suffix='', body=None):
        path = suffix if suffix.startswith('/v1/') else dom_path(NAME, suffix)
        return lambda: d.api(method, path, body)

    def assertAnswered(self, resp, ok_statuses, what):
        self.assertNotIsInstance(resp, Exception, '%s: %r' % (what, resp))
        self.assertIn(resp.status, ok_statuses, '%s: %s %r' % (what, resp.status, resp.body[:300]))
        if resp.status >= 400:
            self.assertTrue(resp.error_message(), what)

    def assertConsistent(self, d):
        """The daemon lives and every QEMU of this root is a listed, running
        domain (and the other way round)."""
        self.assertIsNone(d.proc.poll(), 'virtd died:\n' + d.daemon_log_tail())
        seen = {}

        def check():
            doms = d.domains()
            active = [x['name'] for x in doms if x['id'] != -1]
            listed = {d.qemu_pid(n) for n in active}
            pids = set(d.qemu_pids())
            seen.update(active=active, listed=listed, pids=pids)
            return pids == listed and None not in listed
        harness.wait_for(check, 15, what=lambda: 'QEMUs %(pids)s to be the listed domains '
                         '%(active)s (pids %(listed)s)' % seen)

    def stop_all(self, d, kill=False):
        """Ends every running domain: destroy, or SIGKILL of QEMU (the
        daemon must notice and survive)."""
        for dom in d.domains():
            if dom['id'] == -1:
                continue
            if kill:
                pid = d.qemu_pid(dom['name'])
                os.kill(pid, signal.SIGKILL)
            else:
                r = d.api('POST', dom_path(dom['name'], '/destroy'))
                self.assertEqual(r.status, 200, r.body)
        self.assertNoQemu(d)
        harness.wait_for(lambda: all(x['id'] == -1 for x in d.domains()), 15,
                         what='every domain shut off')
        self.assertIsNone(d.proc.poll(), 'virtd died:\n' + d.daemon_log_tail())

    def redefine(self, d, xml):
        if NAME not in [x['name'] for x in d.domains()] or not d.summary(NAME)['persistent']:
            r = d.api('POST', '/v1/domains', xml)
            self.assertIn(r.status, (200, 201), r.body)

    def test_start_undefine(self):
        """Undefine during a start: the domain stays visible (transient)
        while its QEMU runs, destroy works, and a QEMU killed from outside
        leaves a living daemon (was: 404 for a running QEMU, then a crash
        in finish_exit when it exited)."""
        with Daemon() as d:
            xml = harness.domain_xml(NAME, uuid=UUID)
            for i in range(ROUNDS):
                self.redefine(d, xml)
                # Mostly within the start's first milliseconds, before QEMU exists.
                start, undef = concurrently(self.api(d, 'POST', '/start'), self.api(d, 'DELETE'),
                                            spread=0.3 if i % 4 == 3 else 0.02)
                self.assertAnswered(start, (200, 409, 404), 'start')
                self.assertAnswered(undef, (200, 404), 'undefine')
                self.assertConsistent(d)
                if start.status == 200:
                    self.assertIn(NAME, [x['name'] for x in d.domains() if x['id'] != -1])
                self.stop_all(d, kill=i % 2 == 1)
                self.assertConsistent(d)

    def test_two_starts(self):
        """Two starts at once: one QEMU, the other request refused."""
        with Daemon() as d:
            d.define(NAME)
            for _ in range(ROUNDS):
                a, b = concurrently(self.api(d, 'POST', '/start'), self.api(d, 'POST', '/start'))
                self.assertAnswered(a, (200, 409), 'start 1')
                self.assertAnswered(b, (200, 409), 'start 2')
                self.assertEqual(sorted([a.status, b.status]), [200, 409])
                loser = a if a.status == 409 else b
                self.assertIn(loser.error_code(), ('busy', 'invalid-state'))
                self.assertConsistent(d)
                self.assertEqual(len(d.qemu_pids()), 1)
                self.stop_all(d)

    def test_start_destroy(self):
        """Destroy during a start aborts it, whatever phase the start is in
        (even before QEMU exists); a destroy that answered 200 leaves the
        domain shut off with no QEMU."""
        with Daemon() as d:
            d.define(NAME)
            for _ in range(ROUNDS):
                start, destroy = concurrently(self.api(d, 'POST', '/start'),
                                              self.api(d, 'POST', '/destroy'), spread=0.5)
                self.assertAnswered(start, (200, 500), 'start')
                self.assertAnswered(destroy, (200, 409), 'destroy')
                if start.status == 500:
                    self.assertIn('destroyed while it was starting', start.error_message())
                self.assertConsistent(d)
                if destroy.status == 200 and start.status == 500:
                    self.assertNoQemu(d)
                    self.assertEqual(d.summary(NAME)['state'], 'shut off')
                self.stop_all(d)

    def test_start_versus_everything(self):
        """Every other operation during a start: each either works or is
        refused with a clear error (busy while the start is in flight), and
        nothing is left half-done."""
        with Daemon() as d:
            xml = harness.domain_xml(NAME, uuid=UUID)
            other = harness.domain_xml(NAME, uuid=UUID, memory_mib=192)
            ops = [('PUT', '/xml', other), ('POST', '/resume', None), ('POST', '/suspend', None),
                   ('POST', '/shutdown', None), ('POST', '/reset', None),
                   ('DELETE', '?remove_all_storage=1', None), ('POST', '/reboot', None),
                   # the install phase's start with another XML, and a define over
                   ('POST', '/v1/domains?start=1', other), ('POST', '/v1/domains', other),
                   ('POST', '/destroy', None)]
            for i in range(ROUNDS):
                self.redefine(d, xml)
                method, suffix, body = ops[i % len(ops)]
                what = method + ' ' + suffix
                start, resp = concurrently(self.api(d, 'POST', '/start'),
                                           self.api(d, method, suffix, body))
                self.assertAnswered(start, (200, 404, 409, 500), 'start')
                if start.status == 409:  # the other one started it first
                    self.assertEqual(start.error_code(), 'busy')
                if start.status == 500:  # a destroy aborted it
                    self.assertIn('destroyed while it was starting', start.error_message())
                self.assertAnswered(resp, (200, 201, 404, 409), what)
                if resp.status == 409:
                    self.assertIn(resp.error_code(), ('busy', 'invalid-state'), what)
                self.assertConsistent(d)
                # Whatever happened, the domain is manageable.
                self.stop_all(d, kill=i % 3 == 0)
                self.assertConsistent(d)


class KilledDuringStart(harness.VirtdTestCase):
    """A daemon killed in the middle of a start: after its restart the
    domain is never left 'paused (starting up)' and no QEMU is orphaned
    or invisible. A start that got its "cont" answered is complete
    (running); any earlier point means a half-made QEMU, killed, and the
    start recorded as failed (was: paused (starting up) forever)."""

    # VIRTD_TEST_CRASH_AT points (src/daemon/domain/start-phase.h) -> the state after
    # the restart.
    POINTS = [('spawning', 'shut off (failed)'), ('spawned', 'shut off (failed)'),
              ('connecting', 'shut off (failed)'), ('setting-up', 'shut off (failed)'),
              ('resuming', 'shut off (failed)'), ('resumed', 'running (booted)')]

    def start_crashing_at(self, d, point):
        if d.proc is not None and d.proc.poll() is None:
            d.kill()
        os.environ['VIRTD_TEST_CRASH_AT'] = point
        try:
            d.start()
        finally:
            del os.environ['VIRTD_TEST_CRASH_AT']

    def start_request(self, d):
        try:
            return d.api('POST', dom_path(NAME, '/start'), timeout=30)
        except OSError as e:  # the daemon died under the request
            return e
        except harness.http.client.HTTPException as e:
            return e

    def check_recovered(self, d, expect=None):
        # The restart decides once QEMU answers on QMP (asynchronously).
        seen = {}

        def decided():
            seen['state'] = d.domstate(NAME, reason=True)
            return seen['state'] != 'paused (starting up)'
        harness.wait_for(decided, 20, what=lambda: 'the start to be finished or undone '
                         '(state %s)\n%s' % (seen['state'], d.daemon_log_tail(15)))
        state = seen['state']
        if expect:
            self.assertEqual(state, expect, d.daemon_log_tail())
        self.assertIn(state, ('shut off (failed)', 'running (booted)', 'shut off (unknown)',
                              'shut off (destroyed)'))
        Races.assertConsistent(self, d)
        if state.startswith('running'):
            self.assertVshOut(d.vsh('destroy', NAME), "Domain '%s' destroyed" % NAME)
        self.assertNoQemu(d)

    def test_crash_points(self):
        with Daemon() as d:
            d.define(NAME)
            for point, expect in self.POINTS * 3:
                self.start_crashing_at(d, point)
                r = self.start_request(d)
                self.assertNotIsInstance(r, harness.ApiResponse,
                                         'start at %s answered: %r' % (point, r))
                harness.wait_for(lambda: d.proc.poll() is not None, 30,
                                 what='virtd to kill itself at %s' % point)
                d.start()
                self.check_recovered(d, expect)

    def test_sigkill_at_random_moments(self):
        with Daemon() as d:
            d.define(NAME)
            for i in range(ROUNDS // 2):
                t = threading.Thread(target=self.start_request, args=(d,))
                t.start()
                time.sleep(random.uniform(0, 0.6))
                d.kill()
                t.join(60)
                d.start()
                self.check_recovered(d)


if __name__ == '__main__':
    harness.main()
