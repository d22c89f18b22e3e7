"""Is a guest crash after a live migration QEMU's or virtd's? (s14-guestcrash;
docs/migration.md, "Limit: TCG guests can crash after a live migration").

Two raw QEMUs, no daemon, driven over QMP (migrate_phase.py's client, the
capabilities and parameters virtd sends), with virtd's own argv for a test
guest: ARGV_FILE has one argument a line, as parse_argv_header() reads it
from a daemon's log/NAME.log (a guest defined with harness.domain_xml and
cmdline_extra 'virtd.counter=1'). The tap NIC becomes a restricted user
netdev (no traffic leaves QEMU); the serial goes to a file. The guest is
migrated ping-pong N times over a UNIX socket; after each migration its
counter must go on (same boot, n + 4 within 8 s) and its console show no
oops, else the console is kept as BASE/crashK.txt and a new guest boots.

    python3 bench/tcg_migration_repro.py BASE N [VARIANT] (ARGV_FILE in env)

VARIANT, '+'-joined: bw:MIB (max-bandwidth: several copy rounds), single
(-accel tcg,thread=single), pause ('stop' before 'migrate'),
append:ARGS (guest cmdline), arg:ARGS (more QEMU arguments). Host load:
run it inside a cgroup with a cpu quota (cfs_quota_us) to preempt QEMU.
"""
import os, re, sys, time, json, subprocess
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from migrate_phase import RawQemu, Qmp, QmpError, migration_end, RAW_CAPS_SOURCE, RAW_CAPS_DEST, RAW_PARAMS
BASE = sys.argv[1]; N = int(sys.argv[2]); variant = sys.argv[3] if len(sys.argv) > 3 else ''
os.makedirs(BASE, exist_ok=True)
argv0 = open(os.environ['ARGV_FILE']).read().split('\n')[:-1]
OOPS = re.compile(rb'(BUG:|Oops|general protection|RIP:|Kernel panic|Call Trace|rcu_sched|soft lockup|watchdog|Booting Linux|Linux version)')
CNT = re.compile(rb'VIRTD-GUEST-COUNTER n=(\d+) boot_id=(\S+?)\r?\n')
seq = [0]
def mk(incoming):
    seq[0] += 1; n = seq[0]
    qmp = '%s/q%d.qmp' % (BASE, n); ser = '%s/s%d.serial' % (BASE, n)
    out = []
    i = 0
    while i < len(argv0):
        a = argv0[i]
        if a.startswith('guest='): a = 'guest=repro%d,debug-threads=on' % n
        elif a.startswith('socket,id=charmonitor'): a = 'socket,id=charmonitor,path=%s,server=on,wait=off' % qmp
        elif a.startswith('socket,id=charserial0'): a = 'file,id=charserial0,path=%s' % ser
        elif a.endswith('.pid'): a = '%s/q%d.pid' % (BASE, n)
        elif a.startswith('{"type":"tap"'): a = '{"type":"user","id":"hostnet0","restrict":true}'
        out.append(a); i += 1
    for v in variant.split('+'):
        if v.startswith('append:'):
            j = out.index('-append'); out[j+1] += ' ' + v[7:]
        elif v.startswith('arg:'):
            out += v[4:].split(' ')
        elif v.startswith('bw:') or v == 'pause': pass
        elif v == 'single':
            j = out.index('-machine'); out[j+1] = out[j+1].replace('accel=tcg,', '')
            out += ['-accel', 'tcg,thread=single']
    if incoming: out += ['-incoming', 'defer']
    q = RawQemu(out, qmp, ser, '%s/q%d.log' % (BASE, n))
    return q
def counters(p):
    try: d = open(p, 'rb').read()
    except OSError: return b'', []
    return d, [(int(m.group(1)), m.group(2)) for m in CNT.finditer(d)]
src = mk(False); src.qmp.cmd('cont')
t = time.time()
while True:
    d, c = counters(src.serial)
    if c: break
    if time.time() - t > 120: print('no boot'); sys.exit(2)
    time.sleep(0.5)
boot = c[-1][1]
crashes = 0; done = 0
for it in range(N):
    time.sleep(1.0)
    d, c = counters(src.serial); n0 = c[-1][0] if c else -1
    dst = mk(True)
    for q, caps in ((src, RAW_CAPS_SOURCE), (dst, RAW_CAPS_DEST)):
        q.qmp.cmd('migrate-set-capabilities', capabilities=[{'capability': k, 'state': v} for k, v in caps.items()])
    params = dict(RAW_PARAMS)
    for v in variant.split('+'):
        if v.startswith('bw:'): params['max-bandwidth'] = int(v[3:]) * 1024 * 1024
    src.qmp.cmd('migrate-set-parameters', **params)
    dst.qmp.cmd('migrate-incoming', uri='unix:%s/mig%d.sock' % (BASE, seq[0]))
    if 'pause' in variant.split('+'): src.qmp.cmd('stop')
    ms, md = src.qmp.mark(), dst.qmp.mark()
    src.qmp.cmd('migrate', uri='unix:%s/mig%d.sock' % (BASE, seq[0]))
    ev = src.qmp.wait_event(migration_end, ms, 300)
    ev2 = dst.qmp.wait_event(migration_end, md, 300)
    if ev[3].get('status') != 'completed' or ev2[3].get('status') != 'completed':
        print('migration failed', ev, ev2); break
    dst.qmp.cmd('cont')
    src.quit()
    src = dst; done += 1
    # check: the counter goes on for 6 s, no oops
    t = time.time(); ok = False
    while time.time() - t < 8:
        time.sleep(0.5)
        d, c = counters(src.serial)
        if c and c[-1][1] == boot and c[-1][0] >= n0 + 4: ok = True; break
    d, c = counters(src.serial)
    bad = OOPS.search(d)
    if not ok or bad:
        crashes += 1
        print('CRASH after migration %d (n0=%d): ok=%s' % (done, n0, ok)); sys.stdout.flush()
        open('%s/crash%d.txt' % (BASE, done), 'wb').write(d)
        src.quit()
        src = mk(False); src.qmp.cmd('cont')
        t = time.time()
        while time.time() - t < 120:
            d, c = counters(src.serial)
            if c: break
            time.sleep(0.5)
        boot = c[-1][1]
    print('it %d done, crashes %d, load %s' % (done, crashes, os.getloadavg()[0])); sys.stdout.flush()
src.quit()
print('RESULT variant=%r migrations=%d crashes=%d' % (variant, done, crashes))
