"""The network figures of bench/run.py (issue 9), for both sides, on the same
guest and the same network XML (see bench/README.md, "Network figures").

Per side: a NAT network of its own (bridge and subnet unique to the run, a
blackhole fallback route for the /16 they come from), DNS off (`<dns
enable='no'/>`, so neither side's dnsmasq can forward a query anywhere;
checked in the dnsmasq configuration it actually runs with), DHCP with
static hosts for the two guests:

- net-start -> first lease: the clock starts as `net-start` is run; the
  sink guest is started as soon as it returns; the clock stops when the
  guest's serial file has its VIRTD-GUEST-NET line. Median of --net-runs
  (the network is destroyed between runs).
- host -> guest TCP: `dd if=/dev/zero bs=1M count=N | busybox nc GUEST 5001`
  into the guest's sink, timed on the host.
- guest -> guest TCP: a second guest started with virtd.netsend=SINK:5001:N
  sends N MiB to the first; the host times its two SEND lines.
- dnsmasq RSS of the network, and the daemon's RSS growth per network with
  --net-extra more (DHCP, no guest) networks started.
"""

import os
import re
import subprocess
import time

NET_XML = '''<network>
  <name>{name}</name>
  <forward mode='nat'/>
  <bridge name='{bridge}'/>
  <dns enable='no'/>
  <ip address='{sub}.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='{sub}.100' end='{sub}.199'/>
{hosts}    </dhcp>
  </ip>
</network>
'''

NIC_XML = ("    <interface type='network'><mac address='{mac}'/><source network='{net}'/>"
           "<model type='virtio'/></interface>\n")

NET_MARKER = b'VIRTD-GUEST-NET eth0 '
SEND_START = b'VIRTD-GUEST-SEND start'
SEND_DONE_RE = re.compile(rb'VIRTD-GUEST-SEND done rc=(\d+) seconds=([\d.]+)')

# Seconds of quiet before an RSS reading here: virtd hands freed heap back
# to the system 2 s after its last API connection (api-conn.c), and a
# network start parses nft's JSON listing of the host's whole ruleset;
# read earlier, the figure is that transient, not what a network holds.
RSS_SETTLE = 4

FIGURES = [
    # key, label, unit
    ('net_lease', 'net-start -> first DHCP lease, median of {runs}', 's'),
    ('net_tput_host', 'TCP host -> guest, {mib} MiB (nc)', 's'),
    ('net_tput_g2g', 'TCP guest -> guest, same NAT network, {mib} MiB', 's'),
    ('net_dnsmasq_rss', 'dnsmasq RSS, one network', 'MiB'),
    ('net_daemon_rss', 'daemon RSS per active network ({extra} more)', 'MiB'),
]
INFO_FIGURES = [
    ('net_start_cli', '`net-start` command returns, median', 'ms'),
    ('net_mibps_host', 'TCP host -> guest', 'MiB/s'),
    ('net_mibps_g2g', 'TCP guest -> guest', 'MiB/s'),
    ('net_g2g_guest_s', 'guest -> guest as the sender timed it', 's'),
]
GOALS = [
    ('net_lease', 'ratio', 1.0, 'net-start -> first lease: no slower than libvirt'),
    ('net_tput_host', 'ratio', 1.0, 'TCP host -> guest: at least libvirt\'s'),
    ('net_tput_g2g', 'ratio', 1.0, 'TCP guest -> guest: at least libvirt\'s'),
]


def run(argv, check=True, timeout=60, input=None):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL if input is None else None, input=input,
                       universal_newlines=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError('%s exited %d: %s' % (' '.join(argv), r.returncode, r.stdout))
    return r


def host_routes():
    return run(['ip', '-4', 'route', 'show', 'table', 'all'], check=False).stdout.splitlines()


def links():
    try:
        return os.listdir('/sys/class/net')
    except OSError:
        return []


def dnsmasq_for(conf_name):
    """pid of the live dnsmasq whose argv names @conf_name (NAME.conf)."""
    for e in os.listdir('/proc'):
        if not e.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % e, 'rb') as f:
                argv = f.read().split(b'\0')
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b'dnsmasq' and \
                any(a.endswith(b'/' + conf_name.encode()) for a in argv):
            return int(e)
    return None


def dnsmasq_conf(pid):
    """The configuration text a dnsmasq runs with (read through its own
    root: libvirt's lives in the private mount namespace)."""
    with open('/proc/%d/cmdline' % pid, 'rb') as f:
        argv = [a.decode() for a in f.read().split(b'\0') if a]
    for i, a in enumerate(argv):
        path = None
        if a.startswith('--conf-file='):
            path = a.split('=', 1)[1]
        elif a in ('--conf-file', '-C') and i + 1 < len(argv):
            path = argv[i + 1]
        if path:
            with open('/proc/%d/root%s' % (pid, path)) as f:
                return path, f.read()
    raise RuntimeError('dnsmasq %d has no --conf-file: %s' % (pid, argv))


def forwards_dns(conf):
    """Why this dnsmasq configuration could send a query off the machine
    (None: it cannot)."""
    lines = [l.strip() for l in conf.splitlines()]
    if 'port=0' in lines:
        return None
    if any(l.startswith('server=') for l in lines):
        return 'it has server= lines'
    if 'no-resolv' not in lines:
        return 'no port=0 and no no-resolv: it reads the host\'s resolv.conf'
    return None


class FirewallSnapshot:
    """What libvirt's network driver adds to the host's iptables (9.0:
    LIBVIRT_* chains and the jumps to them, through iptables-nft), removed
    again when it was not there before the run."""

    TOOLS = ('iptables', 'ip6tables')

    def __init__(self):
        self.chains = {t: self._chains(t) for t in self.TOOLS}
        self.tables = self._nft_tables()

    @staticmethod
    def _save(tool):
        r = run([tool + '-save'], check=False)
        return r.stdout if r.returncode == 0 else ''

    def _chains(self, tool):
        out, table = set(), None
        for l in self._save(tool).splitlines():
            if l.startswith('*'):
                table = l[1:]
            elif l.startswith(':LIBVIRT_'):
                out.add((table, l[1:].split()[0]))
        return out

    @staticmethod
    def _nft_tables():
        r = run(['nft', 'list', 'tables'], check=False)
        return set(l.strip() for l in r.stdout.splitlines() if l.startswith('table '))

    def restore(self, log):
        removed = []
        for tool in self.TOOLS:
            new = self._chains(tool) - self.chains[tool]
            if not new:
                continue
            table = None
            for l in self._save(tool).splitlines():
                if l.startswith('*'):
                    table = l[1:]
                    continue
                m = re.match(r'^-A (\S+) (.*-j (LIBVIRT_\S+).*)$', l)
                if m and (table, m.group(3)) in new and not m.group(1).startswith('LIBVIRT_'):
                    run([tool, '-t', table, '-D', m.group(1)] + m.group(2).split(), check=False)
            for table, chain in sorted(new):
                run([tool, '-t', table, '-F', chain], check=False)
            for table, chain in sorted(new):
                run([tool, '-t', table, '-X', chain], check=False)
                removed.append('%s -t %s %s' % (tool, table, chain))
        # Tables iptables-nft made for libvirt alone: gone if now empty.
        for t in sorted(self._nft_tables() - self.tables):
            fam, name = t.split()[1:3]
            text = run(['nft', 'list', 'table', fam, name], check=False).stdout
            rules = [l for l in text.splitlines() if l.strip() and not re.match(
                r'^\s*(table|chain|type|policy|\}|counter packets \d+ bytes \d+$)', l.strip())]
            if not rules:
                run(['nft', 'delete', 'table', fam, name], check=False)
                removed.append('nft table %s %s' % (fam, name))
        if removed:
            log('libvirt firewall leftovers removed: %s' % ', '.join(removed))
        return removed


class NetPhase:
    def __init__(self, bench, run_log, wait_marker, domain_xml):
        self.b = bench
        self.domain_xml = domain_xml         # run.py's one template
        self.log = run_log
        self.wait_marker = wait_marker       # (path, marker bytes, timeout) -> perf_counter time
        self.a = bench.args
        self.token = bench.prefix.split('-')[1]
        self.subnets = []
        self.fallback = None                 # the /16 blackhole route, when we added it
        self.bridges = []
        self.networks = {}                   # side key -> [network names]
        self.fw = None

    # ---- host resources

    def subnet(self):
        """A /24 of --net-base that no route names. The fallback route is
        one blackhole for the whole /16 (metric 4000), not one per /24:
        libvirt refuses to start a network whose exact subnet has a route,
        even a blackhole one ('Network is already in use by interface *')."""
        base = self.a.net_base
        wide = base + '.0.0/16'
        if not any(r.split()[:2] == ['blackhole', wide] for r in host_routes()):
            run(['ip', 'route', 'add', 'blackhole', wide, 'metric', '4000'])
            self.fallback = wide
        used = set()
        for r in host_routes():
            m = re.search(r'(?:^|\s)' + re.escape(base) + r'\.(\d+)\.\d+/(\d+)', r)
            if m and int(m.group(2)) >= 24:
                used.add(int(m.group(1)))
        for n in range(10, 255):
            sub = '%s.%d' % (base, n)
            if n not in used and sub not in self.subnets:
                self.subnets.append(sub)
                return sub
        raise RuntimeError('no free /24 in %s' % wide)

    def bridge(self, side, i):
        name = '%s%s%s%d' % (self.b.prefix.split('-')[0][:3], self.token, side.key[0], i)
        self.bridges.append(name)
        return name

    def before_daemons(self):
        self.fw = FirewallSnapshot()

    # ---- definitions

    def define_network(self, side, name, extra_hosts=()):
        sub = self.subnet()
        hosts = ''.join("      <host mac='%s' name='%s' ip='%s'/>\n" % (mac, hn, sub + '.' + last)
                        for mac, hn, last in extra_hosts)
        path = os.path.join(side.xml_dir, name + '.net.xml')
        with open(path, 'w') as f:
            f.write(NET_XML.format(name=name, bridge=self.bridge(side, len(self.networks.get(
                side.key, []))), sub=sub, hosts=hosts))
        self.networks.setdefault(side.key, []).append(name)
        side.cli('net-define', path)
        return sub

    def define_guest(self, side, name, net, mac, cmdline):
        xml = self.domain_xml(name, side.serial_path(name))
        xml = xml.replace('</cmdline>', ' ' + cmdline + '</cmdline>', 1)
        xml = xml.replace('  </devices>', NIC_XML.format(mac=mac, net=net) + '  </devices>', 1)
        path = side.xml_path(name)
        with open(path, 'w') as f:
            f.write(xml)
        side.cli('define', path)

    # ---- the figures

    def run(self):
        for side in self.b.sides:
            try:
                self.side_run(side)
            except Exception as e:
                self.b.error(side, 'network figures', e)
            finally:
                self.side_cleanup(side)

    def side_run(self, side):
        b, a = self.b, self.a
        net = b.prefix + side.key + '-net'
        h = '%02x' % (os.getpid() & 0xff)
        sink, sender = b.prefix + side.key + '-sink', b.prefix + side.key + '-send'
        sink_mac, send_mac = '52:54:00:%s:%s:20' % (self.token[:2], h), \
            '52:54:00:%s:%s:10' % (self.token[:2], h)
        sub = self.define_network(side, net, [(sink_mac, 'sink', '20'), (send_mac, 'send', '10')])
        self.define_guest(side, sink, net, sink_mac, 'virtd.net=dhcp virtd.hostname=sink')
        self.define_guest(side, sender, net, send_mac, 'virtd.net=dhcp virtd.hostname=send '
                          'virtd.netsend=%s.20:5001:%d' % (sub, a.net_mib))

        for i in range(a.net_runs):
            serial = side.serial_path(sink)
            if os.path.exists(serial):
                os.unlink(serial)
            t0 = time.perf_counter()
            r = side.cli('net-start', net)
            side.cli('start', sink)
            found = self.wait_marker(serial, NET_MARKER, a.boot_timeout)
            b.record('net_start_cli', side, samples=[r.seconds])
            b.record('net_lease', side, samples=[found - t0])
            self.log('%s: run %d/%d: net-start returned %.3f s, first lease %.2f s after it'
                     % (side.label, i + 1, a.net_runs, r.seconds, found - t0))
            if i < a.net_runs - 1:
                side.cli('destroy', sink)
                side.cli('net-destroy', net)

        pid = dnsmasq_for(net + '.conf')
        if not pid:
            raise RuntimeError('no dnsmasq process for %s' % net)
        path, conf = dnsmasq_conf(pid)
        why = forwards_dns(conf)
        b.record('net_dnsmasq_conf', side, value=path, conf=conf)
        if why:
            raise RuntimeError('%s\'s dnsmasq could forward DNS queries (%s); refusing to '
                               'measure' % (net, why))

        # host -> guest
        addr = sub + '.20'
        deadline = time.monotonic() + 60
        while run(['busybox', 'nc', '-w', '2', addr, '5001'], check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError('the sink %s:5001 does not answer' % addr)
            time.sleep(0.5)
        # The probe took the sink's one connection (a loop of nc -l): give
        # it a moment to listen again.
        time.sleep(1)
        t0 = time.perf_counter()
        r = subprocess.run(['sh', '-c', 'dd if=/dev/zero bs=1M count=%d 2>/dev/null | '
                            'busybox nc %s 5001' % (a.net_mib, addr)], timeout=600)
        secs = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError('dd | nc to %s exited %d' % (addr, r.returncode))
        b.record('net_tput_host', side, value=secs)
        b.record('net_mibps_host', side, value=a.net_mib / secs)
        self.log('%s: host -> guest %d MiB in %.2f s (%.0f MiB/s)'
                 % (side.label, a.net_mib, secs, a.net_mib / secs))

        # guest -> guest
        serial = side.serial_path(sender)
        if os.path.exists(serial):
            os.unlink(serial)
        side.cli('start', sender)
        t_start = self.wait_marker(serial, SEND_START, a.boot_timeout + 60)
        t_done = self.wait_marker(serial, b'VIRTD-GUEST-SEND done', 600)
        with open(serial, 'rb') as f:
            m = SEND_DONE_RE.search(f.read())
        if not m or m.group(1) != b'0':
            raise RuntimeError('guest -> guest send failed: %r' % (m.group(0) if m else None))
        secs = t_done - t_start
        b.record('net_tput_g2g', side, value=secs)
        b.record('net_mibps_g2g', side, value=a.net_mib / secs)
        b.record('net_g2g_guest_s', side, value=float(m.group(2)))
        self.log('%s: guest -> guest %d MiB in %.2f s (%.0f MiB/s; the guest says %s s)'
                 % (side.label, a.net_mib, secs, a.net_mib / secs, m.group(2).decode()))

        # RSS
        side.cli('destroy', sender)
        side.cli('destroy', sink)
        time.sleep(max(a.idle, RSS_SETTLE))
        b.record('net_dnsmasq_rss', side, value=vm_rss(pid))
        before = side.rss_kib()
        extra = []
        for i in range(a.net_extra):
            name = b.prefix + side.key + '-x%d' % i
            self.define_network(side, name)
            side.cli('net-start', name)
            extra.append(name)
        time.sleep(max(a.idle, RSS_SETTLE))
        after = side.rss_kib()
        rss = [vm_rss(dnsmasq_for(n + '.conf')) for n in extra]
        if before is not None and after is not None and extra:
            b.record('net_daemon_rss', side, value=(after - before) / len(extra),
                     before=before, after=after, extra_dnsmasq_rss=rss)
        self.log('%s: dnsmasq RSS %s KiB; daemon RSS %s -> %s KiB with %d more networks'
                 % (side.label, vm_rss(pid), before, after, len(extra)))

    def side_cleanup(self, side):
        """Every network of this run on @side: destroyed, undefined."""
        if not side.alive():
            return
        r = side.cli('net-list', '--all', '--name', check=False, timeout=60)
        names = [l.strip() for l in r.out.splitlines() if l.strip()]
        for n in names:
            # virtd's own 'default' (made on a fresh root's first start) goes
            # too: its root is removed with the run.
            if n.startswith(self.b.prefix) or side.key == 'virtd':
                side.cli('net-destroy', n, check=False, timeout=60)
                if n.startswith(self.b.prefix):
                    side.cli('net-undefine', n, check=False, timeout=60)

    def cleanup(self):
        """After the daemons have stopped: dnsmasq, bridges, routes and
        libvirt's firewall chains of this run that are still there."""
        for key, names in self.networks.items():
            for n in names:
                pid = dnsmasq_for(n + '.conf')
                if pid:
                    self.log('warning: killing leftover dnsmasq %d (%s)' % (pid, n))
                    try:
                        os.kill(pid, 9)
                    except OSError:
                        pass
        for br in self.bridges:
            if br in links():
                self.log('warning: removing leftover bridge %s' % br)
                run(['ip', 'link', 'del', br], check=False)
        if self.fallback:
            run(['ip', 'route', 'del', 'blackhole', self.fallback, 'metric', '4000'], check=False)
            self.fallback = None
        if self.fw is not None:
            self.fw.restore(self.log)
            self.fw = None


def vm_rss(pid):
    if not pid:
        return None
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None
