"""Host network fixtures and leak checks for virtd's network tests
(Python 3 standard library only; `ip`, `nft` and busybox from the host).

`NetLab` makes namespaces, veth pairs, bridges, addresses, routes and
servers, every name starting with a test-unique prefix, and removes all
it made when its `with` block ends, at interpreter exit and on the
harness's signals, whether the test passed or not. Every subnet it hands
out gets a blackhole fallback route (metric 4000), so that a packet for a
test subnet never leaves the machine even when the test's own route is
gone.

The leak checks (`network_leftovers`) say what a daemon left on the host:
links with a prefix or of a given name, dnsmasq processes mentioning the
daemon's root, nftables tables of the daemon's networks.

Environment:
  VIRTD_TEST_NET_PREFIX  first letters of every host object (default 'vdt');
                         a NetLab adds 3 random characters
  VIRTD_TEST_NET_BASE    the /16 the labs' subnets come from (default
                         '10.203': 10.203.N.0/24)
"""

import os
import random
import re
import shlex
import signal
import string
import subprocess
import sys
import time

NET_PREFIX = os.environ.get('VIRTD_TEST_NET_PREFIX') or 'vdt'
NET_BASE = os.environ.get('VIRTD_TEST_NET_BASE') or '10.203'
IFNAMSIZ = 15

_live_labs = []


def run(argv, check=True, timeout=30, input=None):
    """Runs a command: (rc, stdout, stderr) as text."""
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, input=input,
                       stdin=subprocess.DEVNULL if input is None else None,
                       universal_newlines=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError('%s exited %d: %s%s' % (' '.join(shlex.quote(a) for a in argv),
                                                    r.returncode, r.stdout, r.stderr))
    return r.returncode, r.stdout, r.stderr


# --------------------------------------------------------------------------
# What is on the host now

def host_links(netns=None):
    """Names of the network interfaces of the host (or of netns)."""
    if netns is None:
        try:
            return sorted(os.listdir('/sys/class/net'))
        except OSError:
            return []
    rc, out, _err = run(['ip', '-n', netns, '-o', 'link', 'show'], check=False)
    if rc != 0:
        return []
    return sorted(m.group(1) for m in re.finditer(r'^\d+: ([^:@\s]+)', out, re.M))


def link_exists(name):
    return os.path.exists('/sys/class/net/' + name)


def netns_list():
    rc, out, _err = run(['ip', 'netns', 'list'], check=False)
    return [l.split()[0] for l in out.splitlines() if l.strip()] if rc == 0 else []


def host_routes():
    """`ip -4 route show table all` lines (blackhole ones included)."""
    rc, out, _err = run(['ip', '-4', 'route', 'show', 'table', 'all'], check=False)
    return out.splitlines() if rc == 0 else []


def nft_tables(family='inet'):
    """Names of the nftables tables of @family."""
    rc, out, _err = run(['nft', 'list', 'tables', family], check=False)
    if rc != 0:
        return []
    return [l.split()[2] for l in out.splitlines() if l.startswith('table ') and len(l.split()) >= 3]


def fw_table_name(instance, bridge):
    """The table virtd makes for @bridge (src/network/firewall.h)."""
    return 'vd_%s_%s' % (instance, re.sub(r'[-.]', '_', bridge))


def fw_tables_for(bridges=(), instance=None):
    """virtd's inet tables of these bridges (any instance) or of @instance."""
    suffixes = {re.sub(r'[-.]', '_', b) for b in bridges}
    out = []
    for t in nft_tables():
        m = re.match(r'^vd_([0-9a-f]{8})_(.+)$', t)
        if not m:
            continue
        if (instance and m.group(1) == instance) or m.group(2) in suffixes:
            out.append(t)
    return out


def dnsmasq_pids(mentioning):
    """pids of live dnsmasq processes whose argv mentions @mentioning."""
    out = []
    needle = mentioning.encode()
    for e in os.listdir('/proc'):
        if not e.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % e, 'rb') as f:
                raw = f.read()
            with open('/proc/%s/stat' % e) as f:
                stat = f.read()
        except OSError:
            continue
        argv0 = os.path.basename(raw.split(b'\0', 1)[0])
        if argv0 == b'dnsmasq' and needle in raw and stat[stat.rindex(')') + 2] != 'Z':
            out.append(int(e))
    return out


def network_leftovers(root=None, prefixes=(), links=(), bridges=(), instance=None):
    """What a daemon (root) and a test left on the host, as sentences:
    links whose name starts with one of @prefixes or is one of @links
    (bridges, taps, veths), dnsmasq processes mentioning @root, inet
    tables named vd_* for @bridges or @instance. Empty: nothing left."""
    found = []
    for name in host_links():
        if name in links or any(name.startswith(p) for p in prefixes):
            found.append('link %s still exists' % name)
    if root:
        for pid in dnsmasq_pids(root):
            found.append('dnsmasq pid %d (mentions %s) still runs' % (pid, root))
    for t in fw_tables_for(list(bridges) + list(links), instance):
        found.append('nft table inet %s still exists' % t)
    return found


# --------------------------------------------------------------------------
# The outside's server: a TCP server that answers HTTP GETs and logs the
# source address of every connection, one per line.

_LOG_SERVER = r'''
import socket, sys, threading
addr, port, log, text = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(64)
def serve(c, peer):
    with open(log, 'a') as f:
        f.write(peer[0] + '\n')
    try:
        c.settimeout(10)
        c.recv(4096)
        body = (text + '\n').encode()
        c.sendall(b'HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
    except OSError:
        pass
    c.close()
open(log, 'a').close()
print('listening', flush=True)
while True:
    c, peer = s.accept()
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()
'''


class LogServer:
    def __init__(self, lab, netns, addr, port, text):
        self.addr, self.port, self.text = addr, port, text
        self.log = os.path.join(lab.tmpdir, 'server-%s-%d.log' % (addr, port))
        self.proc = lab.spawn(netns, [sys.executable, '-c', _LOG_SERVER, addr, str(port),
                                      self.log, text], stdout=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if b'listening' not in line:
            raise RuntimeError('log server on %s:%d did not start: %r' % (addr, port, line))

    def peers(self):
        """Source addresses of the connections so far, in order."""
        try:
            with open(self.log) as f:
                return [l.strip() for l in f if l.strip()]
        except OSError:
            return []


# --------------------------------------------------------------------------

class NetLab:
    """Namespaces, veths, bridges and servers for one test:

        with NetLab() as lab:
            net = lab.subnet()                  # '10.203.N' (+ blackhole route)
            ns = lab.netns('out')               # 'vdtab3-out'
            h, p = lab.veth('o', ns, host_addr=net + '.1/24', peer_addr=net + '.2/24')
            srv = lab.log_server(ns, net + '.2', 8080)
    """

    def __init__(self, prefix=None):
        tag = ''.join(random.choice(string.ascii_lowercase + string.digits) for _ in range(3))
        self.prefix = (prefix or NET_PREFIX) + tag
        self._undo = []                      # (description, argv or callable), run in reverse
        self._procs = []
        self._netns = []
        self._subnets = []
        self.tmpdir = None
        self._closed = False

    # ---- life

    def __enter__(self):
        import tempfile
        self.tmpdir = tempfile.mkdtemp(prefix='virtd-netlab-%s-' % self.prefix)
        _live_labs.append(self)
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Removes everything this lab made, last first; keeps going
        through errors and reports them on stderr."""
        if self._closed:
            return
        self._closed = True
        for p in self._procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        # Anything else still running in our namespaces was started by us
        # (through ns_run/spawn): kill it so that the namespace can go.
        for ns in self._netns:
            rc, out, _err = run(['ip', 'netns', 'pids', ns], check=False)
            for pid in out.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
        for what, action in reversed(self._undo):
            try:
                if callable(action):
                    action()
                else:
                    rc, _out, err = run(action, check=False)
                    if rc != 0 and 'Cannot find' not in err and 'No such' not in err \
                            and 'not exist' not in err:
                        sys.stderr.write('netlab: removing %s: %s' % (what, err))
            except Exception as e:      # keep removing the rest
                sys.stderr.write('netlab: removing %s: %s\n' % (what, e))
        if self.tmpdir:
            import shutil
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        if self in _live_labs:
            _live_labs.remove(self)

    def leftovers(self):
        """Host objects with this lab's prefix that still exist (after close)."""
        out = ['link %s' % l for l in host_links() if l.startswith(self.prefix)]
        out += ['netns %s' % n for n in netns_list() if n.startswith(self.prefix)]
        for net in self._subnets:
            out += ['route %s' % r for r in host_routes() if r.split()[:2] == ['blackhole', net + '.0/24']]
        return out

    # ---- names and addresses

    def name(self, suffix):
        n = '%s-%s' % (self.prefix, suffix)
        if len(n) > IFNAMSIZ:
            raise ValueError('interface name %r is longer than %d bytes' % (n, IFNAMSIZ))
        return n

    def subnet(self):
        """A free /24 of NET_BASE as 'A.B.C' (not routed on the host, not
        handed out before), with its blackhole fallback route."""
        used = set()
        for r in host_routes():
            m = re.search(r'(?:^|\s)' + re.escape(NET_BASE) + r'\.(\d+)\.', r)
            if m:
                used.add(int(m.group(1)))
        for n in [random.randrange(1, 255) for _ in range(50)] + list(range(1, 255)):
            if n in used:
                continue
            net = '%s.%d' % (NET_BASE, n)
            rc, _o, _e = run(['ip', 'route', 'add', 'blackhole', net + '.0/24', 'metric', '4000'],
                             check=False)
            if rc != 0:
                continue          # taken meanwhile
            self._undo.append(('blackhole %s.0/24' % net,
                               ['ip', 'route', 'del', 'blackhole', net + '.0/24', 'metric', '4000']))
            self._subnets.append(net)
            return net
        raise RuntimeError('no free /24 in %s.0.0/16' % NET_BASE)

    # ---- objects

    def netns(self, suffix):
        name = '%s-%s' % (self.prefix, suffix)
        run(['ip', 'netns', 'add', name])
        self._undo.append(('netns ' + name, ['ip', 'netns', 'del', name]))
        self._netns.append(name)
        self.ns_run(name, ['ip', 'link', 'set', 'lo', 'up'])
        return name

    def bridge(self, suffix, addr=None):
        """A host bridge (up, STP off, forward delay 0), with @addr if given."""
        name = self.name(suffix)
        run(['ip', 'link', 'add', name, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'])
        self._undo.append(('bridge ' + name, ['ip', 'link', 'del', name]))
        if addr:
            run(['ip', 'addr', 'add', addr, 'dev', name])
        run(['ip', 'link', 'set', name, 'up'])
        return name

    def veth(self, suffix, netns=None, host_addr=None, peer_addr=None, master=None,
             peer_name='eth0'):
        """A veth pair: host end '<prefix>-<suffix>' (in the host, on bridge
        @master or with @host_addr), the other end moved into @netns as
        @peer_name with @peer_addr. Returns (host end, peer end)."""
        host = self.name(suffix)
        peer = self.name(suffix + 'p')
        run(['ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', peer])
        self._undo.append(('veth ' + host, ['ip', 'link', 'del', host]))
        if master:
            run(['ip', 'link', 'set', host, 'master', master])
        if host_addr:
            run(['ip', 'addr', 'add', host_addr, 'dev', host])
        run(['ip', 'link', 'set', host, 'up'])
        if netns:
            run(['ip', 'link', 'set', peer, 'netns', netns, 'name', peer_name])
            peer = peer_name
            if peer_addr:
                self.ns_run(netns, ['ip', 'addr', 'add', peer_addr, 'dev', peer])
            self.ns_run(netns, ['ip', 'link', 'set', peer, 'up'])
        else:
            if peer_addr:
                run(['ip', 'addr', 'add', peer_addr, 'dev', peer])
            run(['ip', 'link', 'set', peer, 'up'])
        return host, peer

    def route(self, netns, dest, via):
        """A route in @netns (gone with the namespace)."""
        self.ns_run(netns, ['ip', 'route', 'add', dest, 'via', via])

    def host_route(self, dest, via=None, dev=None):
        argv = ['ip', 'route', 'add', dest] + (['via', via] if via else []) + \
               (['dev', dev] if dev else [])
        run(argv)
        self._undo.append(('route ' + dest, ['ip', 'route', 'del', dest] +
                           (['via', via] if via else []) + (['dev', dev] if dev else [])))

    # ---- processes

    def ns_run(self, netns, argv, check=True, timeout=30, input=None):
        """Runs a command in @netns: (rc, stdout, stderr)."""
        return run(['ip', 'netns', 'exec', netns] + list(argv), check=check, timeout=timeout,
                   input=input)

    def spawn(self, netns, argv, stdout=None, stderr=None):
        """A background process in @netns (own process group), killed when
        the lab closes."""
        full = (['ip', 'netns', 'exec', netns] if netns else []) + list(argv)
        p = subprocess.Popen(full, stdin=subprocess.DEVNULL,
                             stdout=stdout if stdout is not None else subprocess.DEVNULL,
                             stderr=stderr if stderr is not None else subprocess.DEVNULL,
                             start_new_session=True)
        self._procs.append(p)
        return p

    def log_server(self, netns, addr, port=8080, text='outside'):
        """A TCP server on addr:port in @netns answering HTTP GETs with
        @text and logging each client's source address (LogServer.peers())."""
        return LogServer(self, netns, addr, port, text)

    def httpd(self, netns, addr, port=80, text='outside'):
        """busybox httpd bound to addr:port in @netns, serving @text."""
        www = os.path.join(self.tmpdir, 'www-%s-%d' % (addr, port))
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, 'index.html'), 'w') as f:
            f.write(text + '\n')
        return self.spawn(netns, ['busybox', 'httpd', '-f', '-p', '%s:%d' % (addr, port),
                                  '-h', www])

    def dnsmasq(self, netns, iface, dhcp_range, extra=(), dns_port=0):
        """A LAN peer's DHCP server in @netns on @iface: no DNS (port 0)
        unless @dns_port, never forwarding (no resolv.conf, no servers),
        leases and log in the lab's directory. dhcp_range: 'A,B,MASK,TIME'."""
        base = os.path.join(self.tmpdir, 'dnsmasq-%s-%s' % (netns, iface))
        argv = ['dnsmasq', '-d', '--no-resolv', '--no-hosts', '--port=%d' % dns_port,
                '--user=root',
                '--interface=' + iface, '--bind-interfaces', '--except-interface=lo',
                '--dhcp-range=' + dhcp_range, '--dhcp-leasefile=' + base + '.leases',
                '--pid-file=' + base + '.pid', '--conf-file=/dev/null'] + list(extra)
        log = open(base + '.log', 'ab')
        try:
            p = self.spawn(netns, argv, stdout=log, stderr=log)
        finally:
            log.close()
        p.leases_file = base + '.leases'
        p.log_file = base + '.log'
        return p


def cleanup_all_labs():
    for lab in list(_live_labs):
        try:
            lab.close()
        except Exception as e:
            sys.stderr.write('netlab: cleanup of %s failed: %s\n' % (lab.prefix, e))


def wait_until(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# The harness calls cleanup_all_labs() after its daemons on exit and on its
# signals; a script using NetLab alone gets the exit at least.
import atexit  # noqa: E402
atexit.register(cleanup_all_labs)
