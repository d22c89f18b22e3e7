#!/usr/bin/env python3
"""Crash-proof state (issue 15): mixed operations from a few client threads
while the daemon is SIGKILLed at random moments and restarted; after each
restart everything must agree with what the operations that answered
said, and nothing may be left behind.

Each client thread owns its objects (two domains, its volumes, and the
network for thread 0), so its own answers say exactly what must be true:
an operation answered with success happened; one answered with an error
did nothing; one cut by the kill (no answer) happened entirely or not at
all. After each restart the checks are:

- every domain, network, volume and snapshot is in a state those answers
  allow (then that state becomes the known one);
- each running domain has exactly one QEMU, its pid in its status file;
  every process on the machine that names the daemon's root is the
  daemon, a QEMU of a running domain or the dnsmasq of an active network
  (a forked child the killed daemon never released, a QEMU it no longer
  knows about: not allowed); `vsh list` shows the same;
- every definition and status file parses as XML, no temporary file of an
  atomic write is left;
- the network's bridge, nft table and dnsmasq exist exactly while it is
  active; only taps held by running QEMUs are in its bridge;
- a volume that exists is whole (qemu-img reads it, its size is right);
  each snapshot with metadata is in its disk image, and a domain that is
  gone has no metadata left.

Guests need no boot: 32 MiB, no kernel, an empty qcow2 disk (SeaBIOS finds
nothing to boot and waits), so starts are cheap under TCG.

VIRTD_CHAOS_OPS sets the number of operations (default 300, for CI's time;
the issue's 1,000 with VIRTD_CHAOS_OPS=1000); VIRTD_CHAOS_SEED the random
seed (printed). Counts are printed at the end, and each inconsistency with
the last operations on its object.
"""

import collections
import http.client
import itertools
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import harness
import netlab
from harness import Daemon, dom_path, net_path

OPS = int(os.environ.get('VIRTD_CHAOS_OPS') or 300)
# At least this many kills, however fast the operations go: on a quiet
# machine 300 operations took two rounds (CI saw 2 kills).
MIN_KILLS = int(os.environ.get('VIRTD_CHAOS_KILLS') or 10)
SEED = int(os.environ.get('VIRTD_CHAOS_SEED') or random.randrange(1 << 30))
THREADS = 3
DOMS_PER_THREAD = 2
NET = 'chaosnet'
POOL = 'chaos'
VOL_BYTES = 1 << 20
SETTLE = 20 * harness.TIMEOUT_SCALE      # seconds for a restarted daemon to settle


class NoAnswer(Exception):
    """The daemon did not answer. @sent: the request may have reached it."""

    def __init__(self, sent, why):
        super().__init__(why)
        self.sent = sent


def call(d, method, path, body=None, timeout=60):
    """One API request: (status, parsed JSON or None); NoAnswer when the
    daemon is gone, saying whether the request could have reached it."""
    hdrs = {}
    if isinstance(body, str):
        hdrs['Content-Type'] = 'application/xml'
        body = body.encode()
    elif body is not None:
        hdrs['Content-Type'] = 'application/json'
        body = json.dumps(body).encode()
    conn = harness.UnixHTTPConnection(d.sock_path, timeout=timeout)
    try:
        try:
            conn.connect()
        except OSError as e:
            raise NoAnswer(False, str(e))
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise NoAnswer(True, str(e))
        try:
            return resp.status, json.loads(data) if data else None
        except ValueError:
            return resp.status, None
    finally:
        conn.close()


class Var:
    """What the answers allow for one attribute: a set of values."""

    def __init__(self, value):
        self.values = {value}

    def known(self):
        return next(iter(self.values)) if len(self.values) == 1 else None


def domain_xml(name, uuid, disk, nic):
    iface = ("<interface type='network'><source network='%s'/><model type='virtio'/>"
             "</interface>" % NET) if nic else ''
    return ("<domain type='qemu'><name>%s</name><uuid>%s</uuid>"
            "<memory unit='MiB'>32</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            "<source file='%s'/><target dev='vda' bus='virtio'/></disk>%s"
            "</devices></domain>" % (name, uuid, disk, iface))


class Chaos:
    """The model, the clients and the checks of one run."""

    def __init__(self, test, d, lab):
        self.t = test
        self.d = d
        self.lab = lab
        self.rng = random.Random(SEED)          # the killer's; each client has its own
        self.rngs = [random.Random(SEED + 1 + t) for t in range(THREADS)]
        self.bridge = lab.name('br')
        self.subnet = lab.subnet()
        self.pool_dir = d.path('pool')
        self.counts = collections.Counter()      # 'op:result'
        self.kills = 0
        self.inconsistencies = []
        self.ops_done = 0
        self.lock = threading.Lock()
        self.go = threading.Event()              # clients may issue operations
        self.idle = [threading.Event() for _ in range(THREADS)]
        self.stop = False
        self.doms = {}                           # name -> dict of Vars
        self.vols = [{} for _ in range(THREADS)]  # per owner: name -> (format, Var exists)
        self.net = {'defined': Var(False), 'active': Var(False)}
        # per object: its last operations, printed with an inconsistency
        self.history = collections.defaultdict(lambda: collections.deque(maxlen=12))
        self.seq = itertools.count(1)           # snapshot and volume names, never reused

    # ---- set-up

    def net_xml(self):
        return ("<network><name>%s</name><uuid>00000000-c4a0-4000-8000-0000000000ff</uuid>"
                "<bridge name='%s' stp='off'/>"
                "<ip address='%s.1' netmask='255.255.255.0'/></network>"
                % (NET, self.bridge, self.subnet))

    def setup(self):
        pool = ("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
                % (POOL, self.pool_dir))
        for method, path, body in (('POST', '/v1/pools', pool),
                                   ('POST', '/v1/pools/%s/build' % POOL, None),
                                   ('POST', '/v1/pools/%s/start' % POOL, None)):
            st, out = call(self.d, method, path, body)
            self.t.assertLess(st, 300, '%s %s: %s' % (method, path, out))
        for t in range(THREADS):
            for i in range(DOMS_PER_THREAD):
                name = 'chaos%d%d' % (t, i)
                st, out = call(self.d, 'POST', '/v1/pools/%s/volumes' % POOL,
                               {'name': name + '.qcow2', 'capacity': 64 << 20, 'format': 'qcow2'})
                self.t.assertEqual(st, 201, out)
                self.doms[name] = {
                    'owner': t, 'uuid': '00000000-c4a0-4000-8000-0000000000%d%d' % (t, i),
                    'disk': os.path.join(self.pool_dir, name + '.qcow2'), 'nic': i == 1,
                    'defined': Var(False), 'state': Var('shut off'), 'snaps': set(),
                    'maybe_snaps': set()}

    # ---- operations (each run by the domain's or volume's owner thread)

    def op(self, kind, apply_ok, request, subject):
        """Runs @request (a call() tuple); @apply_ok(maybe) records its
        effect: maybe=False for a success, True for a cut operation (the
        old and the new values are both allowed then). An error answer
        changes nothing. @subject names the object in the history."""
        t = time.strftime('%H:%M:%S')
        try:
            st, out = call(self.d, *request)
        except NoAnswer as e:
            self.count(kind, 'cut' if e.sent else 'no-daemon')
            if e.sent:
                self.history[subject].append('%s %s %s: cut' % (t, kind, request[1]))
                apply_ok(maybe=True)
            return
        if st < 300:
            self.count(kind, 'ok')
            self.history[subject].append('%s %s %s: ok' % (t, kind, request[1]))
            apply_ok(maybe=False)
        else:
            err = out.get('error', {}) if isinstance(out, dict) else {}
            self.count(kind, 'refused' if st < 500 else 'failed')
            self.count('error', err.get('code') or str(st))
            self.history[subject].append('%s %s %s: %s %s' % (t, kind, request[1], st,
                                                                err.get('message')))

    def count(self, kind, result):
        with self.lock:
            self.counts['%s:%s' % (kind, result)] += 1
            if result not in ('no-daemon',) and not kind == 'error':
                self.ops_done += 1

    @staticmethod
    def setvar(var, value, maybe):
        if maybe:
            var.values.add(value)
        else:
            var.values = {value}

    def domain_op(self, rng, name):
        dom = self.doms[name]
        kind = rng.choice(['define', 'undefine', 'start', 'start', 'start', 'destroy',
                           'destroy', 'suspend', 'resume', 'snapshot-create',
                           'snapshot-create', 'snapshot-delete'])
        if True not in dom['defined'].values and rng.random() < 0.7:
            kind = 'define'           # mostly operations on a domain that exists
        path = dom_path(name)
        state = dom['state']
        if kind == 'define':
            xml = domain_xml(name, dom['uuid'], dom['disk'], dom['nic'])
            self.op(kind, lambda maybe: self.setvar(dom['defined'], True, maybe),
                    ('POST', '/v1/domains', xml), name)
        elif kind == 'undefine':
            def undefined(maybe):
                # The snapshots' metadata goes with the definition (a
                # running domain keeps it until it stops, as libvirt's).
                self.setvar(dom['defined'], False, maybe)
                if maybe or state.values != {'shut off'}:
                    dom['maybe_snaps'] |= dom['snaps']
                else:
                    dom['maybe_snaps'] = set()
                dom['snaps'] = set()
            self.op(kind, undefined, ('DELETE', path + '?snapshots_metadata=1'), name)
        elif kind in ('start', 'destroy', 'suspend', 'resume'):
            new = {'start': 'running', 'destroy': 'shut off', 'suspend': 'paused',
                   'resume': 'running'}[kind]
            def changed(maybe):
                self.setvar(state, new, maybe)
                if new == 'shut off' and True not in dom['defined'].values:
                    # A transient domain is gone, with its snapshots.
                    dom['maybe_snaps'] = set() if not maybe else dom['maybe_snaps'] | dom['snaps']
                    dom['snaps'] = set()
            self.op(kind, changed, ('POST', path + '/' + kind, None), name)
        elif kind == 'snapshot-create':
            snap = 's%d-%d' % (dom['owner'], next(self.seq))

            def made(maybe):
                (dom['maybe_snaps'] if maybe else dom['snaps']).add(snap)
            xml = '<domainsnapshot><name>%s</name></domainsnapshot>' % snap
            self.op(kind, made, ('POST', path + '/snapshots', xml), name)
        else:
            snaps = sorted(dom['snaps'] | dom['maybe_snaps'])
            if not snaps:
                return
            snap = rng.choice(snaps)

            def deleted(maybe):
                if not maybe:
                    dom['snaps'].discard(snap)
                    dom['maybe_snaps'].discard(snap)
                elif snap in dom['snaps']:
                    dom['snaps'].discard(snap)
                    dom['maybe_snaps'].add(snap)
            self.op(kind, deleted, ('DELETE', path + '/snapshots/' + snap, None), name)

    def volume_op(self, rng, owner):
        vols = self.vols[owner]
        mine = sorted(n for n, (_f, var) in vols.items() if True in var.values)
        if mine and rng.random() < 0.5:
            name = rng.choice(mine)
            fmt, var = vols[name]
            self.op('vol-delete', lambda maybe: self.setvar(var, False, maybe),
                    ('DELETE', '/v1/pools/%s/volumes/%s' % (POOL, name), None), name)
            return
        fmt = rng.choice(['raw', 'qcow2'])
        name = 'v%d-%d.%s' % (owner, next(self.seq), fmt)
        var = Var(False)
        vols[name] = (fmt, var)
        self.op('vol-create', lambda maybe: self.setvar(var, True, maybe),
                ('POST', '/v1/pools/%s/volumes' % POOL,
                 {'name': name, 'capacity': VOL_BYTES, 'format': fmt}), name)

    def network_op(self, rng):
        kind = rng.choice(['net-define', 'net-undefine', 'net-start', 'net-start',
                                'net-destroy', 'net-destroy'])
        n = self.net
        if True not in n['defined'].values and rng.random() < 0.7:
            kind = 'net-define'
        if kind == 'net-define':
            self.op(kind, lambda maybe: self.setvar(n['defined'], True, maybe),
                    ('POST', '/v1/networks', self.net_xml()), NET)
        elif kind == 'net-undefine':
            self.op(kind, lambda maybe: self.setvar(n['defined'], False, maybe),
                    ('DELETE', net_path(NET), None), NET)
        else:
            active = kind == 'net-start'
            self.op(kind, lambda maybe: self.setvar(n['active'], active, maybe),
                    ('POST', net_path(NET, '/' + kind[4:]), None), NET)

    def client(self, owner):
        mine = [n for n, dom in self.doms.items() if dom['owner'] == owner]
        rng = self.rngs[owner]
        while not self.stop:
            if not self.go.is_set():
                self.idle[owner].set()
                self.go.wait(1)
                continue
            self.idle[owner].clear()
            if not self.go.is_set():
                continue
            r = rng.random()
            if owner == 0 and r < 0.2:
                self.network_op(rng)
            elif r < 0.4:
                self.volume_op(rng, owner)
            else:
                self.domain_op(rng, rng.choice(mine))
        self.idle[owner].set()

    # ---- what is there now

    def observe(self):
        """The daemon's, the host's and the files' view, for check()."""
        d = self.d
        seen = {'doms': {}, 'snaps': {}}
        st, out = call(d, 'GET', '/v1/domains?all=1')
        for s in out['domains']:
            seen['doms'][s['name']] = (s['persistent'], s['state'], s['id'])
        for name in self.doms:
            if name in seen['doms']:
                st, out = call(d, 'GET', dom_path(name, '/snapshots'))
                seen['snaps'][name] = {s['name'] for s in out['snapshots']} if st == 200 else set()
        st, out = call(d, 'GET', '/v1/networks?all=1')
        nets = {n['name']: n for n in out['networks']}
        seen['net'] = nets.get(NET)
        st, out = call(d, 'GET', '/v1/pools/%s/volumes' % POOL)
        seen['vols'] = {v['name'] for v in out['volumes']}
        seen['vsh_active'] = {name for _id, name, state in d.list_all() if state != 'shut off'}
        return seen

    def processes(self):
        """Processes naming the root: (qemus {pid: domain}, others [(pid, argv0)])."""
        qemus, others = {}, []
        # A QEMU's output goes to its domain's log, ROOT/log/NAME.log.
        log = re.compile(re.escape(os.path.join(self.d.root, 'log')) + r'/(chaos\d\d)\.log$')
        for pid in harness.processes_mentioning(self.d.root):
            argv = harness.read_cmdline(pid)
            if not argv or not harness.pid_alive(pid) or pid == self.d.pid:
                continue
            if 'qemu-system' in os.path.basename(argv[0]):
                m = log.search(harness.stdout_of(pid) or '')
                qemus[pid] = m.group(1) if m else '?'
            else:
                others.append((pid, ' '.join(argv)[:120]))
        return qemus, others

    @staticmethod
    def taps_of(pid):
        taps = set()
        fddir = '/proc/%d/fdinfo' % pid
        try:
            for fd in os.listdir(fddir):
                with open(os.path.join(fddir, fd)) as f:
                    m = re.search(r'^iff:\s*(\S+)', f.read(), re.M)
                if m:
                    taps.add(m.group(1))
        except OSError:
            pass
        return taps

    def file_problems(self):
        out = []
        temp = re.compile(r'^\..+\.[A-Za-z0-9]{6}$')
        for top in ('etc', 'run', 'lib'):
            for dirpath, _dirs, files in os.walk(self.d.path(top)):
                for f in files:
                    p = os.path.join(dirpath, f)
                    if temp.match(f) and top != 'lib':
                        # (a snapshot store removes its own when it is
                        # first loaded)
                        out.append('temporary file left: %s' % p)
                    elif f.endswith('.xml'):
                        try:
                            ET.parse(p)
                        except (ET.ParseError, OSError) as e:
                            out.append('torn file %s: %s' % (p, e))
                    elif f.endswith('.pending'):
                        out.append('snapshot left pending: %s' % p)
        return out

    def volume_problem(self, name, fmt):
        p = os.path.join(self.pool_dir, name)
        if fmt == 'raw':
            size = os.path.getsize(p)
            return None if size == VOL_BYTES else 'volume %s: %d bytes' % (name, size)
        r = subprocess.run(['qemu-img', 'info', '-U', '--output=json', p],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        if r.returncode != 0:
            return 'volume %s unreadable: %s' % (name, r.stderr.strip())
        size = json.loads(r.stdout).get('virtual-size')
        return None if size == VOL_BYTES else 'volume %s: virtual size %s' % (name, size)

    def snap_dir(self, name):
        return self.d.path('lib', 'snapshots', name)

    @staticmethod
    def image_snapshots(disk):
        r = subprocess.run(['qemu-img', 'snapshot', '-U', '-l', disk], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        return {l.split()[1] for l in r.stdout.splitlines()[2:] if len(l.split()) > 1}

    def check(self):
        """What contradicts the model now, as sentences ([] when all agree)."""
        # The files first: a snapshot still pending (the restart settles
        # it) may be listed a moment later, so what the API lists is
        # compared only once nothing is pending any more.
        self.seen = None
        bad = self.file_problems()
        if any('pending' in b for b in bad):
            return bad
        seen = self.observe()
        qemus, others = self.processes()
        active = set()
        for name, dom in self.doms.items():
            persistent, state, _id = seen['doms'].get(name, (False, 'shut off', -1))
            if persistent not in dom['defined'].values:
                bad.append('%s: persistent=%s, answers said %s' % (name, persistent,
                                                                     dom['defined'].values))
            if state not in dom['state'].values:
                bad.append('%s: %s, answers said %s' % (name, state, dom['state'].values))
            if state != 'shut off':
                active.add(name)
                pids = [p for p, n in qemus.items() if n == name]
                if len(pids) != 1:
                    bad.append('%s is %s with %d QEMUs %s' % (name, state, len(pids), pids))
                elif self.d.qemu_pid(name) != pids[0]:
                    bad.append('%s: QEMU pid %s, status says %s' % (name, pids[0],
                                                                    self.d.qemu_pid(name)))
            if name not in seen['doms']:
                # An undefine finished or not at all: no metadata of a
                # domain that is gone (a new one of that name would see it).
                left = [f for f in os.listdir(self.snap_dir(name)) if f.endswith('.xml')] \
                    if os.path.isdir(self.snap_dir(name)) else []
                if left:
                    bad.append('%s is gone but its snapshot metadata %s is left' % (name, left))
            snaps = seen['snaps'].get(name, set())
            if not dom['snaps'] <= snaps or not snaps <= dom['snaps'] | dom['maybe_snaps']:
                bad.append('%s: snapshots %s, answers said %s (maybe %s)' % (
                    name, sorted(snaps), sorted(dom['snaps']), sorted(dom['maybe_snaps'])))
            missing = snaps - self.image_snapshots(dom['disk'])
            if missing:
                bad.append('%s: snapshots %s are not in its image' % (name, sorted(missing)))
        for pid, name in qemus.items():
            if name not in active:
                bad.append('QEMU %d of %s runs unmanaged' % (pid, name))
        if seen['vsh_active'] != active:
            bad.append('vsh list shows %s active, the API %s' % (sorted(seen['vsh_active']),
                                                                 sorted(active)))
        net = seen['net']
        defined = bool(net and net.get('persistent'))
        up = bool(net and net.get('active'))
        if defined not in self.net['defined'].values or up not in self.net['active'].values:
            bad.append('network: defined=%s active=%s, answers said %s %s' % (
                defined, up, self.net['defined'].values, self.net['active'].values))
        if netlab.link_exists(self.bridge) != up:
            bad.append('bridge %s exists=%s, network active=%s' % (
                self.bridge, netlab.link_exists(self.bridge), up))
        tables = netlab.fw_tables_for(bridges=[self.bridge])
        if bool(tables) != (up and self.net_has_table):
            bad.append('nft tables %s, network active=%s' % (tables, up))
        dnsmasq = netlab.dnsmasq_pids(self.d.root)
        if bool(dnsmasq) != (up and self.net_has_dnsmasq):
            bad.append('dnsmasq %s, network active=%s' % (dnsmasq, up))
        held = set()
        for pid in qemus:
            held |= self.taps_of(pid)
        for link in netlab.host_links():
            master = os.path.realpath('/sys/class/net/%s/master' % link)
            if os.path.basename(master) == self.bridge and link not in held:
                bad.append('tap %s in %s is held by no QEMU' % (link, self.bridge))
        for pid, argv in others:
            if not (up and 'dnsmasq' in argv.split()[0]):
                bad.append('stray process %d: %s' % (pid, argv))
        for owner in range(THREADS):
            for name, (fmt, var) in self.vols[owner].items():
                exists = name in seen['vols']
                if exists not in var.values:
                    bad.append('volume %s exists=%s, answers said %s' % (name, exists, var.values))
                if exists:
                    bad.append(self.volume_problem(name, fmt))
        ours = {n for vols in self.vols for n in vols} | {n + '.qcow2' for n in self.doms}
        bad += ['unknown volume %s' % v for v in seen['vols'] - ours]
        self.seen = seen
        return [b for b in bad if b]

    def adopt(self):
        """Takes what is there as known, after a check."""
        seen = self.seen
        for name, dom in self.doms.items():
            persistent, state, _id = seen['doms'].get(name, (False, 'shut off', -1))
            dom['defined'].values = {persistent}
            dom['state'].values = {state}
            dom['snaps'] = set(seen['snaps'].get(name, set()))
            dom['maybe_snaps'] = set()
            self.history[name].append('         found: persistent=%s %s, snapshots %s' % (
                persistent, state, sorted(dom['snaps'])))
        net = seen['net']
        self.net['defined'].values = {bool(net and net.get('persistent'))}
        self.net['active'].values = {bool(net and net.get('active'))}
        for vols in self.vols:
            for name in list(vols):
                if name in seen['vols']:
                    vols[name][1].values = {True}
                else:
                    del vols[name]

    def settle_and_check(self, when):
        """Checks until all agree or SETTLE passes; records what stays wrong."""
        deadline = time.monotonic() + SETTLE
        while True:
            try:
                bad = self.check()
            except (NoAnswer, KeyError, TypeError) as e:
                bad = ['daemon not answering: %s' % e]
            if not bad or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        for b in bad:
            sys.stderr.write('chaos: INCONSISTENT %s: %s\n' % (when, b))
            subject = b.split(':')[0].split()[-1]
            for line in self.history.get(subject, ()):
                sys.stderr.write('chaos:     %s\n' % line)
        self.inconsistencies += ['%s: %s' % (when, b) for b in bad]
        if self.seen:
            self.adopt()

    def learn_network(self):
        """What an active network of this kind has on this host (nft table,
        dnsmasq), seen once before the chaos."""
        for method, path, body in (('POST', '/v1/networks', self.net_xml()),
                                   ('POST', net_path(NET, '/start'), None)):
            st, out = call(self.d, method, path, body)
            self.t.assertLess(st, 300, out)
        self.net_has_table = bool(netlab.fw_tables_for(bridges=[self.bridge]))
        self.net_has_dnsmasq = bool(netlab.dnsmasq_pids(self.d.root))
        self.t.assertTrue(netlab.link_exists(self.bridge))
        st, out = call(self.d, 'POST', net_path(NET, '/destroy'))
        self.t.assertLess(st, 300, out)
        self.net['defined'].values = {True}

    # ---- the run

    def run(self):
        self.setup()
        self.learn_network()
        self.seen = None
        threads = [threading.Thread(target=self.client, args=(t,), daemon=True)
                   for t in range(THREADS)]
        for th in threads:
            th.start()
        t0 = time.monotonic()
        while self.ops_done < OPS or self.kills < MIN_KILLS:
            self.go.set()
            # Mostly short rounds (kills in the middle of starts, which take
            # seconds on a loaded host), some long ones so that domains
            # run, are snapshotted live and are found again by a restart.
            round_s = (self.rng.uniform(0.1, 4.0) if self.rng.random() < 0.7
                       else self.rng.uniform(8.0, 20.0))
            time.sleep(round_s)
            # No new operation from here on; those in flight are cut.
            self.go.clear()
            self.d.kill()
            self.kills += 1
            for ev in self.idle:
                self.t.assertTrue(ev.wait(120), 'a client is stuck')
            self.d.start()
            self.settle_and_check('after kill %d' % self.kills)
            running = sum(1 for dom in self.doms.values() if dom['state'].known() != 'shut off')
            sys.stderr.write('chaos: kill %d after %.1f s: %d operations so far, %d domains '
                             'active, %.0f s\n' % (self.kills, round_s, self.ops_done, running,
                                                   time.monotonic() - t0))
        # One last look after a clean stop and start.
        self.d.stop()
        self.d.start()
        self.settle_and_check('after the final restart')
        self.stop = True
        for th in threads:
            th.join(120)
        self.elapsed = time.monotonic() - t0

    def report(self):
        by_op = collections.defaultdict(collections.Counter)
        for key, n in self.counts.items():
            kind, result = key.split(':', 1)
            by_op[kind][result] += n
        lines = ['chaos: seed %d, %d operations in %.0f s, %d kills, %d restarts, '
                 '%d inconsistencies' % (SEED, self.ops_done, self.elapsed, self.kills,
                                         self.kills + 1, len(self.inconsistencies))]
        for kind in sorted(by_op):
            lines.append('chaos:   %-16s %s' % (kind, ', '.join(
                '%s %d' % kv for kv in sorted(by_op[kind].items()))))
        sys.stderr.write('\n'.join(lines) + '\n')


class ChaosTest(harness.VirtdTestCase):

    def test_kills_under_load(self):
        with netlab.NetLab() as lab, Daemon() as d:
            chaos = Chaos(self, d, lab)
            try:
                chaos.run()
            finally:
                chaos.elapsed = getattr(chaos, 'elapsed', 0)
                chaos.report()
                chaos.stop = True
                chaos.go.set()
            self.assertEqual(chaos.inconsistencies, [])
            self.assertGreaterEqual(chaos.kills, MIN_KILLS)


if __name__ == '__main__':
    harness.main()
