#!/usr/bin/env python3
"""The API's HTTP transport against a hostile client (issue 8, items 2, 3,
5, 9 and 10): nested JSON, NUL escapes, bodies over the limit with and
without Content-Length, invalid UTF-8 in URLs, slow and silent clients,
descriptor exhaustion, many connections. The daemon must refuse with the
error of docs/api.md, keep its memory and descriptors bounded, and keep
answering. Bounds on memory are generous correctness bounds, not timings."""

import json
import os
import socket
import stat
import time

import harness
from harness import Daemon, dom_path, wait_for

MiB = 1 << 20
IDLE = 2                    # --idle-timeout of the daemons here, seconds


def status_kib(pid, field):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid):
    """Restarts the kernel's count of the peak RSS (VmHWM) of pid."""
    with open('/proc/%d/clear_refs' % pid, 'w') as f:
        f.write('5')


def bare_xml(name, extra=''):
    """A domain without kernel: defining it reads no file (the kernel
    cache's extraction would count in the daemon's peak RSS)."""
    return ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>%s</domain>" % (name, extra))


def fd_count(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def connect(d, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(d.sock_path)
    return s


def read_all(s):
    """Everything until the daemon closes (a reset after data counts as close)."""
    data = b''
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def parse_response(raw):
    """(status, body bytes) of one raw HTTP/1.1 response."""
    head, _, body = raw.partition(b'\r\n\r\n')
    status = int(head.split(b' ', 2)[1])
    return status, body


def strict_json(body):
    """The body as JSON, decoded as strict UTF-8 (raises otherwise)."""
    return json.loads(body.decode('utf-8', errors='strict'))


def send_until_refused(s, head, chunks):
    """Sends head then the chunks; stops when the daemon has closed. Returns
    the bytes of the body sent before that."""
    s.sendall(head)
    sent = 0
    try:
        for chunk in chunks:
            s.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def is_closed_by_daemon(s, timeout):
    """True if the daemon closes s (EOF or reset) within timeout."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class HostileHttp(harness.VirtdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = d = Daemon(args=['--idle-timeout', str(IDLE)])
        d.__enter__()
        try:
            d.define('h1', bare_xml('h1'))
        except BaseException:
            d.cleanup(failed=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.__exit__(None, None, None)

    def assertRssBound(self, kib, bound, msg):
        self.assertMemoryBound(kib, bound, msg)

    def assertAlive(self):
        self.assertEqual(self.d.api('GET', '/v1/version').status, 200)

    # ---- item 2: nesting, and item 9: \u0000

    def test_deep_json_refused_on_every_json_route(self):
        d = self.d
        routes = [('PUT', dom_path('h1', '/autostart')),
                  ('POST', dom_path('h1', '/start')),
                  ('PUT', '/v1/pools/default/autostart'),
                  ('POST', '/v1/pools/default/volumes')]
        deep = b'{"x":' + b'[' * 80000 + b']' * 80000 + b'}'
        just_over = b'{"autostart":' + b'[' * 64 + b']' * 64 + b'}'
        for method, path in routes:
            for body in (deep, just_over):
                r = d.api(method, path, body, {'Content-Type': 'application/json'})
                self.assertApiError(r, 400, 'invalid-argument')
                self.assertIn('deep', r.error_message())
        # One level less reaches the handler, which judges the value.
        ok_depth = b'{"autostart":' + b'[' * 63 + b']' * 63 + b'}'
        r = d.api('PUT', dom_path('h1', '/autostart'), ok_depth,
                  {'Content-Type': 'application/json'})
        self.assertEqual(r.status, 400)
        self.assertNotIn('deep', r.error_message())
        self.assertAlive()
        self.assertEqual(d.api_json('GET', dom_path('h1'))['domain']['autostart'], False)

    def test_deep_xml_refused(self):
        # The neighbour of nested JSON: libxml2 stops at depth 256.
        d = self.d
        deep = ("<domain type='qemu'><name>deepx</name><memory>65536</memory>"
                "<os><type>hvm</type></os><metadata>" + '<a>' * 100000 + '</a>' * 100000 +
                "</metadata></domain>")
        for method, path in [('POST', '/v1/domains'), ('PUT', dom_path('h1', '/xml'))]:
            r = d.api(method, path, deep)
            self.assertApiError(r, 400, 'xml-error')
        self.assertAlive()

    def test_nul_escape_in_json_refused(self):
        d = self.d
        r = d.api('POST', '/v1/pools/default/volumes', {'name': 'nul\x00.raw', 'capacity': MiB})
        self.assertApiError(r, 400, 'invalid-argument')
        self.assertIn('\\u0000', r.error_message())
        names = [v['name'] for v in d.api_json('GET', '/v1/pools/default/volumes')['volumes']]
        self.assertNotIn('nul', names)
        self.assertFalse(os.path.exists(d.path('lib', 'images', 'nul')))
        # An escaped backslash followed by "u0000" is just text.
        r = d.api('POST', '/v1/pools/default/volumes', {'name': 'bs\\u0000.raw',
                                                        'capacity': MiB})
        self.assertEqual(r.status, 201, r.body)
        self.assertTrue(os.path.exists(d.path('lib', 'images', 'bs\\u0000.raw')))
        d.api('DELETE', '/v1/pools/default/volumes/' + 'bs%5Cu0000.raw')

    # ---- item 9: invalid UTF-8 from the URL

    def test_invalid_utf8_in_url_gives_valid_json(self):
        d = self.d
        for method, path in [('GET', '/v1/domains/%FF%FE'),
                             ('POST', '/v1/domains/%C3%28/start'),
                             ('DELETE', '/v1/domains/a%80b'),
                             ('GET', '/v1/pools/%FF/volumes'),
                             ('GET', '/v1/pools/default/volumes/%FE%FF'),
                             ('GET', '/v1/%FF%FE'),
                             ('GET', '/%FF')]:
            r = d.api(method, path)
            self.assertIn(r.status, (400, 404, 405), (path, r.body))
            doc = strict_json(r.body)
            self.assertTrue(doc['error']['message'], (path, r.body))

    # ---- item 3: the body limit, before buffering

    def test_every_route_refuses_large_content_length_at_once(self):
        d = self.d
        head = ('%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n'
                'Content-Length: %d\r\n\r\n')
        for method, path in [('POST', '/v1/domains'), ('POST', '/v1/domains?start=1'),
                             ('PUT', dom_path('h1', '/xml')), ('PUT', dom_path('h1', '/autostart')),
                             ('POST', '/v1/pools'), ('POST', '/v1/pools/default/volumes'),
                             ('POST', '/v1/pools/default/volumes/x.raw/resize'),
                             ('GET', '/v1/version'), ('POST', '/v1/nowhere')]:
            s = connect(d)
            try:
                # Only the headers: the answer must come without the body.
                s.sendall((head % (method, path, 400 * MiB)).encode())
                status, body = parse_response(read_all(s))
            finally:
                s.close()
            self.assertEqual(status, 413, (method, path, body))
            self.assertEqual(strict_json(body)['error']['code'], 'too-large')
        # Volume data is streamed: a missing volume is said at once too.
        s = connect(d)
        try:
            s.sendall((head % ('PUT', '/v1/pools/default/volumes/nosuch/data', 400 * MiB))
                      .encode())
            status, body = parse_response(read_all(s))
        finally:
            s.close()
        self.assertEqual(status, 404)
        self.assertEqual(strict_json(body)['error']['code'], 'no-volume')
        self.assertAlive()

    def huge_post(self, chunked):
        """400 MiB to POST /v1/domains, generated as sent; the daemon's peak
        RSS must stay small."""
        d = self.d
        block = b'<!-- ' + b'x' * (MiB - 9) + b' -->'
        if chunked:
            head = (b'POST /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n'
                    b'Transfer-Encoding: chunked\r\n\r\n')
            chunks = (b'%x\r\n' % len(block) + block + b'\r\n' for _ in range(400))
        else:
            head = (b'POST /v1/domains HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n'
                    b'Content-Length: %d\r\n\r\n' % (400 * MiB))
            chunks = (block for _ in range(400))
        reset_peak(d.pid)
        s = connect(d, timeout=120)
        try:
            sent = send_until_refused(s, head, chunks)
            status, body = parse_response(read_all(s))
        finally:
            s.close()
        self.assertEqual(status, 413, body)
        self.assertEqual(strict_json(body)['error']['code'], 'too-large')
        self.assertLess(sent, 400 * MiB, 'the daemon read the whole body before refusing it')
        peak = status_kib(d.pid, 'VmHWM')
        self.assertRssBound(peak, 64 * 1024, 'daemon peak RSS %d KiB' % peak)
        self.assertAlive()

    def test_huge_body_with_content_length(self):
        self.huge_post(chunked=False)

    def test_huge_body_chunked(self):
        self.huge_post(chunked=True)

    def test_bodies_held_at_once_are_bounded(self):
        # 100 clients each send all of a 1 MiB body but its last byte: each
        # is under the limit, together they would hold 100 MiB.
        d = self.d
        reset_peak(d.pid)
        head = (b'PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                b'Content-Length: %d\r\n\r\n' % (dom_path('h1', '/autostart').encode(), MiB))
        held, busy = [], 0
        try:
            for _ in range(100):
                s = connect(d)
                held.append(s)
                send_until_refused(s, head, [b' ' * (MiB - 1)])
            for s in held:
                s.settimeout(0.2)
                try:
                    raw = s.recv(65536)
                except (socket.timeout, ConnectionResetError):
                    continue
                if raw.startswith(b'HTTP/1.1 409'):
                    self.assertEqual(strict_json(parse_response(raw)[1])['error']['code'], 'busy')
                    busy += 1
            peak = status_kib(d.pid, 'VmHWM')
        finally:
            for s in held:
                s.close()
        self.assertGreater(busy, 0, 'no client was refused')
        self.assertRssBound(peak, 64 * 1024, 'daemon peak RSS %d KiB' % peak)
        # The budget comes back when the clients are gone.
        wait_for(lambda: d.api('PUT', dom_path('h1', '/autostart'), {'autostart': False})
                 .status == 200, IDLE * 10, what='a body to be accepted again')

    # ---- headers and request lines

    def test_huge_request_line_and_headers(self):
        d = self.d
        reset_peak(d.pid)
        for head in [b'GET /v1/' + b'a' * (4 * MiB) + b' HTTP/1.1\r\nHost: x\r\n\r\n',
                     b'GET /v1/version HTTP/1.1\r\nHost: x\r\n' +
                     b''.join(b'X-H%d: v\r\n' % i for i in range(100000)) + b'\r\n',
                     b'GET /v1/version HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'b' * (4 * MiB) +
                     b'\r\n\r\n']:
            s = connect(d)
            try:
                send_until_refused(s, b'', [head[i:i + MiB] for i in range(0, len(head), MiB)])
                raw = read_all(s)
            finally:
                s.close()
            # libsoup stops reading at 64 KiB of headers; it closes without
            # an answer, or answers 400.
            self.assertTrue(raw == b'' or raw.startswith(b'HTTP/1.1 400'), raw[:200])
        peak = status_kib(d.pid, 'VmHWM')
        self.assertRssBound(peak, 64 * 1024, 'daemon peak RSS %d KiB' % peak)
        self.assertAlive()

    def test_http10_without_host(self):
        # libsoup builds such a request's URI from the local address, which
        # it takes for an inet one: criticals and a 400 on a UNIX socket.
        s = connect(self.d)
        try:
            s.sendall(b'GET /v1/version HTTP/1.0\r\n\r\n')
            status, body = parse_response(read_all(s))
        finally:
            s.close()
        self.assertEqual(status, 200, body)
        self.assertEqual(strict_json(body)['daemon'], self.d.api_json('GET', '/v1/version')['daemon'])
        self.assertNotIn('critical', self.d.daemon_log_tail(400))

    def test_pipelined_requests_get_one_answer_then_close(self):
        s = connect(self.d)
        try:
            s.sendall(b'GET /v1/version HTTP/1.1\r\nHost: x\r\n\r\n' * 3)
            raw = read_all(s)
        finally:
            s.close()
        self.assertEqual(raw.count(b'HTTP/1.1 200'), 1, raw)
        self.assertAlive()

    # ---- item 5: slow and silent clients

    def test_slowloris_headers_are_cut(self):
        s = connect(self.d)
        try:
            s.sendall(b'GET /v1/version HTTP/1.1\r\n')
            closed = False
            # One header line every half second, for at most 10 idle timeouts.
            for i in range(IDLE * 20):
                try:
                    s.sendall(b'X-Slow-%d: 1\r\n' % i)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                if is_closed_by_daemon(s, 0.5):
                    closed = True
                    break
            self.assertTrue(closed, 'a client trickling headers kept its connection')
        finally:
            s.close()
        self.assertAlive()

    def test_slow_body_is_cut(self):
        s = connect(self.d)
        try:
            s.sendall(b'PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                      b'Content-Length: 1000\r\n\r\n' % dom_path('h1', '/autostart').encode())
            closed = False
            for _ in range(IDLE * 20):
                try:
                    s.sendall(b' ')
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                if is_closed_by_daemon(s, 0.5):
                    closed = True
                    break
            self.assertTrue(closed, 'a client trickling its body kept its connection')
        finally:
            s.close()
        self.assertAlive()

    def test_silent_client_is_cut(self):
        s = connect(self.d)
        try:
            self.assertTrue(is_closed_by_daemon(s, IDLE * 10),
                            'an idle connection stayed open')
        finally:
            s.close()

    def test_client_that_never_reads_its_answer(self):
        d = self.d
        # An answer far larger than the socket's buffers: ~900 KB of XML.
        big = bare_xml('hbig', '<description>%s</description>' % ('d' * (900 * 1000)))
        d.define('hbig', big)
        pid = d.pid
        reset_peak(pid)
        base = fd_count(pid)
        silent = []
        try:
            for _ in range(5):
                s = connect(d)
                s.sendall(b'GET %s HTTP/1.1\r\nHost: x\r\n\r\n' % dom_path('hbig', '/xml').encode())
                silent.append(s)
            # The daemon keeps serving others meanwhile...
            self.assertAlive()
            # ...and drops the readers that never read, freeing their descriptors.
            wait_for(lambda: fd_count(pid) <= base, IDLE * 10,
                     what=lambda: 'daemon descriptors back to %d (now %d)' % (base,
                                                                              fd_count(pid)))
        finally:
            for s in silent:
                s.close()
            d.api('DELETE', dom_path('hbig'))
        peak = status_kib(pid, 'VmHWM')
        self.assertRssBound(peak, 64 * 1024, 'daemon peak RSS %d KiB' % peak)

    # ---- item 10: connections leave nothing behind

    def test_many_connections_leave_no_descriptor_or_memory(self):
        d = self.d
        pid = d.pid

        def churn(n):
            for i in range(n):
                s = connect(d)
                try:
                    kind = i % 4
                    if kind == 0:          # a whole request
                        s.sendall(b'GET /v1/version HTTP/1.1\r\nHost: x\r\n\r\n')
                        read_all(s)
                    elif kind == 1:        # half a request, then gone
                        s.sendall(b'GET /v1/vers')
                    elif kind == 2:        # an error answer
                        s.sendall(b'GET /v1/domains/%FF HTTP/1.1\r\nHost: x\r\n\r\n')
                        read_all(s)
                    # kind 3: connect and close at once
                finally:
                    s.close()

        churn(500)                          # warm-up: pools and caches
        time.sleep(0.5)
        base_fds = fd_count(pid)
        base_rss = status_kib(pid, 'VmRSS')
        churn(20000)
        wait_for(lambda: fd_count(pid) <= base_fds, 20,
                 what=lambda: 'daemon descriptors back to %d (now %d)' % (base_fds,
                                                                          fd_count(pid)))
        grown = status_kib(pid, 'VmRSS') - base_rss
        # libsoup 3.2's listener leaked a GSocket (~340 bytes) per connection:
        # 20,000 made 6.8 MB.
        self.assertRssBound(grown, 4 * 1024, 'RSS grew by %d KiB over 20,000 connections' % grown)
        self.assertAlive()


class StreamsExempt(harness.VirtdTestCase):
    """The idle timeout never cuts a console session or a volume transfer
    that pauses: they are the client's to keep open."""

    def test_quiet_console_session_stays_open(self):
        with Daemon(args=['--idle-timeout', str(IDLE)]) as d:
            d.define('con1', harness.domain_xml('con1'))
            d.start_domain('con1')          # booted: the guest is quiet now
            ws, err = harness.WebSocket.connect(d, 'con1')
            self.assertIsNone(err, err)
            with ws:
                time.sleep(IDLE * 3)
                ws.send('echo idle-$((6*7))\n')
                ws.read_until('idle-42', timeout=30)
            d.api('POST', dom_path('con1', '/destroy'))

    def test_paused_download_and_upload_complete(self):
        with Daemon(args=['--idle-timeout', str(IDLE)]) as d:
            size = 8 * MiB
            r = d.api('POST', '/v1/pools/default/volumes', {'name': 'x.raw', 'capacity': size})
            self.assertEqual(r.status, 201, r.body)
            data = os.urandom(size)
            # Upload: half, a pause of three idle timeouts, the rest.
            s = connect(d, timeout=60)
            try:
                s.sendall(b'PUT /v1/pools/default/volumes/x.raw/data HTTP/1.1\r\nHost: x\r\n'
                          b'Content-Type: application/octet-stream\r\n'
                          b'Content-Length: %d\r\n\r\n' % size)
                s.sendall(data[:size // 2])
                time.sleep(IDLE * 3)
                s.sendall(data[size // 2:])
                status, body = parse_response(read_all(s))
            finally:
                s.close()
            self.assertEqual(status, 200, body)
            # Download: read a little, pause, read the rest.
            s = connect(d, timeout=60)
            try:
                s.sendall(b'GET /v1/pools/default/volumes/x.raw/data HTTP/1.1\r\nHost: x\r\n\r\n')
                first = s.recv(65536)
                time.sleep(IDLE * 3)
                raw = first + read_all(s)
            finally:
                s.close()
            status, body = parse_response(raw)
            self.assertEqual(status, 200)
            self.assertEqual(len(body), size)
            self.assertTrue(body == data, 'downloaded data differs from what was uploaded')


class LimitedDaemon(Daemon):
    """A daemon started under `ulimit -n SOFT` with hard limit HARD."""

    def __init__(self, soft, hard, args=()):
        super().__init__(args=args)
        self.soft, self.hard = soft, hard

    def start(self, timeout=harness.DAEMON_TIMEOUT):
        wrapper = os.path.join(self.root, 'limited-virtd')
        with open(wrapper, 'w') as f:
            f.write('#!/bin/sh\nulimit -Sn %d && ulimit -Hn %d && exec "%s" "$@"\n' %
                    (self.soft, self.hard, harness.VIRTD_BIN))
        os.chmod(wrapper, stat.S_IRWXU)
        real, harness.VIRTD_BIN = harness.VIRTD_BIN, wrapper
        try:
            return super().start(timeout)
        finally:
            harness.VIRTD_BIN = real


def max_open_files(pid):
    with open('/proc/%d/limits' % pid) as f:
        for line in f:
            if line.startswith('Max open files'):
                return [int(x) for x in line.split()[3:5]]
    raise KeyError('Max open files')


class DescriptorExhaustion(harness.VirtdTestCase):

    def open_idle(self, d, n):
        conns = []
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(d.sock_path)
            except BlockingIOError:
                pass          # the backlog is full: this one waits
            conns.append(s)
        return conns

    def assertAnswersAgain(self, d):
        def version():
            try:
                return d.api('GET', '/v1/version', timeout=5).status == 200
            except OSError:
                return False
        wait_for(version, IDLE * 15, what='GET /v1/version to answer again')

    def test_limit_raised_to_hard_limit(self):
        with LimitedDaemon(256, 4096, args=['--idle-timeout', str(IDLE)]) as d:
            self.assertEqual(max_open_files(d.pid), [4096, 4096])

    def test_accept_failure_logged_and_recovered(self):
        # Soft = hard: nothing to raise. The connection limit is set above
        # the descriptor limit, so accept() itself fails (EMFILE).
        with LimitedDaemon(256, 256, args=['--idle-timeout', str(IDLE),
                                           '--max-connections', '1000']) as d:
            self.assertEqual(max_open_files(d.pid), [256, 256])
            idle = self.open_idle(d, 300)
            try:
                wait_for(lambda: 'cannot accept connections' in d.daemon_log_tail(400), 30,
                         what='the accept failure in the daemon log')
                # Closing them frees descriptors: the daemon accepts again.
                for s in idle[:150]:
                    s.close()
                self.assertAnswersAgain(d)
                # The others were cut by the idle timeout.
                self.assertAnswersAgain(d)
                wait_for(lambda: fd_count(d.pid) < 64, IDLE * 15,
                         what=lambda: 'idle connections closed (%d fds)' % fd_count(d.pid))
            finally:
                for s in idle:
                    s.close()
            self.assertIn('accepting API connections again', d.daemon_log_tail(400))
            self.assertAnswersAgain(d)

    def test_connection_limit_keeps_descriptors_for_guests(self):
        # By default at most 3/4 of the descriptors serve API clients: the
        # rest wait in the backlog, and accept() never fails.
        with LimitedDaemon(256, 256, args=['--idle-timeout', str(IDLE)]) as d:
            idle = self.open_idle(d, 300)
            try:
                wait_for(lambda: 'the most this daemon serves at once' in
                         d.daemon_log_tail(400), 30, what='the connection limit in the log')
                self.assertLessEqual(fd_count(d.pid), 256 - 32)
                # Nobody closes anything: the idle timeout frees the slots.
                self.assertAnswersAgain(d)
            finally:
                for s in idle:
                    s.close()
            self.assertNotIn('cannot accept connections', d.daemon_log_tail(400))


if __name__ == '__main__':
    harness.main()
