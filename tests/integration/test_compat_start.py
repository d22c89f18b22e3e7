#!/usr/bin/env python3
"""Issue 10's measure: the domain XML virt-install writes starts, and the
guest sees what the XML says.

Over every file of the corpus (env VD_COMPAT_DIR, else
../shared/compat/domain-xml next to the repository; a missing corpus is a
failure), rewritten as a user would to run it here:

- <domain type='qemu'> (no KVM here), a unique name, no <uuid>, unique
  MACs (the corpus shares them), <memory> 256 MiB (NUMA cells scaled to
  it) so that every guest fits, <emulator> the harness's QEMU;
- every disk's source a small test image in the driver's format (qcow2 or
  raw), cdroms a small ISO made with xorriso;
- <kernel>/<initrd> the test guest's; a <loader> or <nvram template> that
  does not exist here (relative, or another distribution's path) Debian's
  OVMF (the secure-boot build for a secboot loader); firmware='efi' alone
  is left to auto-selection;
- interfaces of type network to a test network of the name the file
  gives (isolated, a 10.207.x.0/24 subnet), of type bridge to a test
  bridge (NetLab, prefix vtcmp).

Each is checked with `vsh domcheck` first, then defined, started and
waited for QEMU's `running` state; QMP (`vsh qemu-monitor-command`)
query-pci, query-block, query-chardev and query-tpm must show each
<disk>, <interface>, <video>, <sound>, USB <controller>, <tpm>,
<watchdog>, <rng>, <memballoon>, <serial>, <console> and <channel>; then
destroy and undefine. The table (file, started | refused(reason) |
failed(error)) and "N of M start" are printed.

Asserted: every file either starts with a matching device list or is
refused with a reason naming what the host lacks (launch security, VFIO,
/dev/vhost-vsock, a render node; a refusal for something virtd does not
implement is a failure); at least 90 % start; domcheck's verdict agrees
with the start.
"""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

import harness
import netlab
from harness import Daemon

netlab.NET_BASE = '10.207'
PREFIX = 'vtcmp'
MEMORY_MIB = 256
PARALLEL = 3
MIN_SHARE = 0.9
OVMF_DIR = '/usr/share/OVMF'

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.environ.get('VD_COMPAT_DIR') or os.path.join(REPO, '..', 'shared', 'compat',
                                                         'domain-xml')

# A refusal is acceptable only when it names what this host lacks.
HOST_LACKS = re.compile(r'/dev/vhost-vsock|vhost.vsock|VFIO|/dev/vfio|IOMMU|\bSEV\b|\bTDX\b|'
                        r'render node|/dev/dri', re.I)
# ... and never when it says virtd lacks it.
VIRTD_LACKS = re.compile(r'not supported yet|is not supported|not implemented', re.I)

# PCI vendor:device ids per model (transitional and modern virtio alike).
VIRTIO_BLK = {'1af4:1001', '1af4:1042'}
VIRTIO_NET = {'1af4:1000', '1af4:1041'}
VIRTIO_SCSI = {'1af4:1004', '1af4:1048'}
NIC_IDS = {'virtio': VIRTIO_NET, 'e1000': {'8086:100e'}, 'e1000e': {'8086:10d3'},
           'rtl8139': {'10ec:8139'}, 'ne2k_pci': {'10ec:8029'}, 'pcnet': {'1022:2000'},
           'vmxnet3': {'15ad:07b0'}}
VIDEO_IDS = {'qxl': {'1b36:0100'}, 'virtio': {'1af4:1050'}, 'vga': {'1234:1111'},
             'bochs': {'1234:1111'}, 'cirrus': {'1013:00b8'}, 'vmvga': {'15ad:0405'}}
SOUND_IDS = {'ich9': {'8086:293e'}, 'ich6': {'8086:2668'}, 'ac97': {'8086:2415'},
             'es1370': {'1274:5000'}}
USB_IDS = {'qemu-xhci': {'1b36:000d'}, 'nec-xhci': {'1033:0194'},
           'ich9-ehci1': {'8086:293a'}, 'piix3-uhci': {'8086:7020'},
           'piix4-uhci': {'8086:7112'}, 'ich9-uhci1': {'8086:2934'},
           'ich9-uhci2': {'8086:2935'}, 'ich9-uhci3': {'8086:2936'}}
USB_CLASS = 0x0c03
WATCHDOG_IDS = {'i6300esb': {'8086:25ab'}}
RNG_IDS = {'virtio': {'1af4:1005', '1af4:1044'}}
BALLOON_IDS = {'virtio': {'1af4:1002', '1af4:1045'}}
DISK_CONTROLLER_IDS = {'sata': {'8086:2922'}, 'ide': {'8086:7010'}, 'scsi': VIRTIO_SCSI,
                       'nvme': {'1b36:0010'}, 'virtio': VIRTIO_BLK}


def run(argv, **kw):
    return subprocess.run(argv, check=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, **kw)


def find_qemu():
    q = os.environ.get('VIRTD_QEMU') or shutil.which('qemu-system-x86_64')
    if not q:
        raise harness.HarnessError('qemu-system-x86_64 not found (PATH or $VIRTD_QEMU)')
    return q


class Media:
    """The test images a rewritten file points at, made once."""

    def __init__(self, d):
        # Guests' disks and ISO: searchable by QEMU's user (virtd-qemu).
        self.dir = harness.qemu_reachable(tempfile.mkdtemp(prefix='%s-media-' % PREFIX,
                                                           dir=d.root))
        self.n = 0
        self.lock = threading.Lock()      # files are rewritten in parallel
        # Once, here: guest_kernel() runs the guest's build script.
        self.kernel = harness.guest_kernel()
        self.initrd = harness.guest_initrd()
        iso_dir = os.path.join(self.dir, 'iso')
        os.makedirs(iso_dir)
        with open(os.path.join(iso_dir, 'README'), 'w') as f:
            f.write('virtd compat test\n')
        self.iso = os.path.join(self.dir, 'cd.iso')
        run(['xorriso', '-as', 'mkisofs', '-quiet', '-V', 'VTCMP', '-o', self.iso, iso_dir])

    def image(self, fmt):
        with self.lock:
            self.n += 1
            path = os.path.join(self.dir, 'disk%d.%s' % (self.n, fmt))
        run(['qemu-img', 'create', '-q', '-f', fmt, path, '64M'])
        return path


def kib(elem):
    """A libvirt memory element's value in KiB."""
    units = {'b': 1 / 1024, 'bytes': 1 / 1024, 'k': 1, 'kib': 1, 'kb': 1000 / 1024,
             'm': 1024, 'mib': 1024, 'mb': 1e6 / 1024, 'g': 1 << 20, 'gib': 1 << 20,
             'gb': 1e9 / 1024, 't': 1 << 30, 'tib': 1 << 30}
    unit = (elem.get('unit') or 'KiB').lower()
    return int(elem.text.strip()) * units.get(unit, 1)


def ovmf_for(path):
    name = os.path.basename(path or '').lower()
    if 'secboot' in name or 'secure' in name:
        return os.path.join(OVMF_DIR, 'OVMF_CODE_4M.secboot.fd')
    if 'vars' in name:
        return os.path.join(OVMF_DIR, 'OVMF_VARS_4M.fd')
    return os.path.join(OVMF_DIR, 'OVMF_CODE_4M.fd')


def rewrite(text, name, media, qemu, bridge_for, network_names, index):
    """The file as a user would change it to run here; returns the XML."""
    root = ET.fromstring(text)
    root.set('type', 'qemu')
    root.find('name').text = name
    for u in root.findall('uuid'):
        root.remove(u)
    mem = root.find('memory')
    total = kib(mem) if mem is not None else 0
    for tag in ('memory', 'currentMemory'):
        e = root.find(tag)
        if e is not None:
            e.text = str(MEMORY_MIB)
            e.set('unit', 'MiB')
    cells = root.findall('./cpu/numa/cell')
    if cells:
        sizes = [kib(c) for c in cells]
        whole = sum(sizes) or total or 1
        left = MEMORY_MIB
        for i, (c, s) in enumerate(zip(cells, sizes)):
            mib = left if i == len(cells) - 1 else max(1, int(MEMORY_MIB * s / whole))
            left -= mib
            c.set('memory', str(mib))
            c.set('unit', 'MiB')
    os_ = root.find('os')
    if os_ is not None:
        for tag, path in (('kernel', media.kernel), ('initrd', media.initrd)):
            e = os_.find(tag)
            if e is not None:
                e.text = path
        loader = os_.find('loader')
        if loader is not None and loader.text and not os.path.exists(loader.text.strip()):
            loader.text = ovmf_for(loader.text.strip())
        nvram = os_.find('nvram')
        if nvram is not None:
            tpl = nvram.get('template')
            if tpl and not os.path.exists(tpl):
                nvram.set('template', ovmf_for('VARS'))
            if nvram.text and nvram.text.strip():
                nvram.text = os.path.join(media.dir, '%s_VARS.fd' % name)
    devices = root.find('devices')
    emu = devices.find('emulator')
    if emu is not None:
        emu.text = qemu
    for disk in devices.findall('disk'):
        src = disk.find('source')
        drv = disk.find('driver')
        if src is None or not (src.get('file') or src.get('dev')):
            continue
        if disk.get('device') == 'cdrom':
            path = media.iso
            if drv is not None:
                drv.set('type', 'raw')
        else:
            fmt = drv.get('type') if drv is not None and drv.get('type') in ('qcow2', 'raw') \
                else 'qcow2'
            path = media.image(fmt)
        for a in ('file', 'dev'):
            if a in src.attrib:
                del src.attrib[a]
        disk.set('type', 'file')
        src.set('file', path)
    for n, iface in enumerate(devices.findall('interface')):
        mac = iface.find('mac')
        if mac is None:
            mac = ET.SubElement(iface, 'mac')
        mac.set('address', '52:54:00:cf:%02x:%02x' % (index, n))
        src = iface.find('source')
        if iface.get('type') == 'bridge' and src is not None:
            src.set('bridge', bridge_for(src.get('bridge')))
        if iface.get('type') == 'network' and src is not None:
            network_names.add(src.get('network'))
    return ET.tostring(root, encoding='unicode')


def expected_devices(xml):
    """[(what, kind, ids or key)] the guest must show, from the rewritten XML."""
    root = ET.fromstring(xml)
    dev = root.find('devices')
    machine = (root.find('./os/type').get('machine') or 'pc') if root.find('./os/type') \
        is not None else 'pc'
    out = []
    for d in dev.findall('disk'):
        target = d.find('target')
        t = target.get('dev')
        bus = target.get('bus') or ('virtio' if t.startswith('vd') else
                                    'sata' if t.startswith('sd') and 'q35' in machine else
                                    'scsi' if t.startswith('sd') else 'ide')
        out.append(('disk %s' % t, 'block', t))
        if bus in DISK_CONTROLLER_IDS:
            out.append(('disk %s (%s)' % (t, bus), 'pci', DISK_CONTROLLER_IDS[bus]))
    for i, n in enumerate(dev.findall('interface')):
        m = n.find('model')
        model = m.get('type') if m is not None else 'rtl8139'
        out.append(('interface %d (%s)' % (i, model), 'pci', NIC_IDS.get(model, {'?'})))
    for i, v in enumerate(dev.findall('video')):
        m = v.find('model')
        model = m.get('type') if m is not None else 'vga'
        if model not in ('none', 'ramfb'):
            out.append(('video %d (%s)' % (i, model), 'pci', VIDEO_IDS.get(model, {'?'})))
    for i, s in enumerate(dev.findall('sound')):
        model = s.get('model')
        if model != 'usb':
            out.append(('sound %d (%s)' % (i, model), 'pci', SOUND_IDS.get(model, {'?'})))
    for c in dev.findall('controller'):
        if c.get('type') != 'usb' or c.get('model') == 'none':
            continue
        model = c.get('model')
        out.append(('controller usb (%s)' % (model or 'default'),
                    'pci', USB_IDS.get(model, USB_CLASS) if model else USB_CLASS))
    for i, _t in enumerate(dev.findall('tpm')):
        out.append(('tpm %d' % i, 'tpm', i))
    for w in dev.findall('watchdog'):
        model = w.get('model')
        if model in WATCHDOG_IDS:
            out.append(('watchdog (%s)' % model, 'pci', WATCHDOG_IDS[model]))
    for i, r in enumerate(dev.findall('rng')):
        out.append(('rng %d' % i, 'pci', RNG_IDS.get(r.get('model') or 'virtio', {'?'})))
    for b in dev.findall('memballoon'):
        model = b.get('model')
        if model != 'none':
            out.append(('memballoon', 'pci', BALLOON_IDS.get(model, {'?'})))
    serials = dev.findall('serial')
    for i, _s in enumerate(serials):
        out.append(('serial %d' % i, 'chardev', 'charserial%d' % i))
    for i, c in enumerate(dev.findall('console')):
        t = c.find('target')
        ttype = t.get('type') if t is not None else None
        if ttype == 'virtio':
            out.append(('console %d (virtio)' % i, 'chardev', 'charconsole%d' % i))
        else:
            out.append(('console %d (serial)' % i, 'chardev', 'charserial0'))
    for i, _c in enumerate(dev.findall('channel')):
        out.append(('channel %d' % i, 'chardev', 'charchannel%d' % i))
    return out


def pci_devices(query_pci):
    found = []

    def walk(devices):
        for dv in devices:
            ident = dv.get('id', {})
            found.append(('%04x:%04x' % (dv.get('vendor_id', ident.get('vendor', 0)),
                                         dv.get('device_id', ident.get('device', 0))),
                          dv.get('class_info', {}).get('class', -1)))
            bridge = dv.get('pci_bridge', {})
            walk(bridge.get('devices', []))
    for bus in query_pci:
        walk(bus.get('devices', []))
    return found


class Outcome:
    def __init__(self, file):
        self.file = file
        self.kind = 'failed'      # started | refused | failed
        self.detail = ''
        self.domcheck_blocks = []
        self.domcheck_starts = None
        self.warnings = []        # what vsh start printed as warnings
        self.problems = []        # assertion failures for this file

    def row(self):
        shown = self.kind if self.kind == 'started' else '%s(%s)' % (self.kind, self.detail)
        return '%-48s %s' % (self.file, shown)


def qmp(d, name, command):
    rc, out, err = d.vsh('qemu-monitor-command', name, '--return-value',
                         json.dumps({'execute': command}), check=False)
    if rc != 0:
        raise harness.HarnessError('%s on %s: %s' % (command, name, err.strip()))
    return json.loads(out)


def check_devices(d, name, xml, outcome, timeout=150):
    """Compares the guest-visible devices with the XML. Devices behind a
    PCIe root port or a PCI bridge show in query-pci only once the guest's
    firmware has numbered the bridges' buses (SeaBIOS in a second, OVMF
    in several under TCG, minutes on a loaded host), so a mismatch is
    asked again until @timeout."""
    deadline = time.monotonic() + timeout
    while True:
        problems = []
        check_devices_once(d, name, xml, problems)
        if not problems or time.monotonic() >= deadline:
            outcome.problems.extend(problems)
            return
        time.sleep(1)


def check_devices_once(d, name, xml, problems):
    pci = pci_devices(qmp(d, name, 'query-pci'))
    ids = [i for i, _c in pci]
    blocks = qmp(d, name, 'query-block')
    chardevs = {c.get('label') for c in qmp(d, name, 'query-chardev')}
    tpms = None
    used = {}
    for what, kind, want in expected_devices(xml):
        if kind == 'pci':
            if isinstance(want, int):
                n = sum(1 for _i, c in pci if c == want)
                key = 'class%x' % want
            else:
                n = sum(1 for i in ids if i in want)
                key = ','.join(sorted(want))
            used[key] = used.get(key, 0) + 1
            # Each device of the XML needs its own PCI function (two NICs,
            # two functions), except controllers shared by disks.
            need = 1 if what.startswith('disk ') else used[key]
            if n < need:
                problems.append('%s: no PCI device %s in query-pci (has %s)'
                                        % (what, key, ' '.join(ids)))
        elif kind == 'block':
            if not any('disk-%s' % want in (b.get('qdev') or '') for b in blocks):
                problems.append('%s: not in query-block (%s)' %
                                        (what, ' '.join(b.get('qdev') or '?' for b in blocks)))
        elif kind == 'chardev':
            if want not in chardevs:
                problems.append('%s: no chardev %s in query-chardev (has %s)'
                                        % (what, want, ' '.join(sorted(chardevs))))
        elif kind == 'tpm':
            if tpms is None:
                tpms = qmp(d, name, 'query-tpm')
            if len(tpms) <= want:
                problems.append('%s: query-tpm lists %d TPMs' % (what, len(tpms)))


def try_file(d, media, qemu, bridge_for, networks, index, fname):
    outcome = Outcome(fname)
    # Short names: the guest agent's socket is run/qemu/NAME.agent under
    # the test daemon's root, and a UNIX socket path has at most 107 bytes.
    name = ('%s-%02d-%s' % (PREFIX, index, re.sub(r'[^A-Za-z0-9_.-]', '', fname[:-4])))[:32]
    with open(os.path.join(CORPUS, fname)) as f:
        text = f.read()
    wanted_networks = set()
    xml = rewrite(text, name, media, qemu, bridge_for, wanted_networks, index)
    for net in wanted_networks:
        networks(net)
    path = d.write_xml(name, xml)
    rc, out, err = d.vsh('domcheck', path, check=False, timeout=120)
    outcome.domcheck_starts = rc == 0
    outcome.domcheck_blocks = [l[len('blocks'):].strip() for l in out.splitlines()
                               if l.startswith('blocks ')]
    adjusted = {l[len('adjusted'):].strip() for l in out.splitlines()
                if l.startswith('adjusted ')}
    if rc not in (0, 1) or not re.search(r'^result +(starts|blocked)', out, re.M):
        outcome.problems.append('domcheck failed (rc %d): %s' % (rc, err.strip() or out))
    rc, out, err = d.vsh('define', path, check=False)
    if rc != 0:
        outcome.detail = 'define: ' + err.strip()
        return outcome
    try:
        rc, out, err = d.vsh('start', name, check=False, timeout=120)
        if rc != 0:
            reason = err.strip().replace('error: ', '', 1)
            outcome.detail = reason
            # Refused by the daemon before QEMU ran, or QEMU's own error.
            qemu_error = 'QEMU' in reason and 'while starting' in reason
            outcome.kind = 'refused' if not qemu_error else 'failed'
            if outcome.kind == 'refused' and (not HOST_LACKS.search(reason) or
                                              VIRTD_LACKS.search(reason)):
                outcome.problems.append('refused for what virtd lacks, not the host: ' + reason)
            if outcome.domcheck_starts and not qemu_error:
                outcome.problems.append('domcheck said it starts, start refused: ' + reason)
            if qemu_error:
                outcome.problems.append('QEMU failed: ' + reason)
            return outcome
        if not outcome.domcheck_starts:
            outcome.problems.append('domcheck said blocked (%s), but it started'
                                    % '; '.join(outcome.domcheck_blocks))
        # What the start adjusted (its warnings) is what domcheck announced.
        outcome.warnings = [l[len('warning: '):] for l in err.splitlines()
                            if l.startswith('warning: ')]
        for w in outcome.warnings:
            if w not in adjusted:
                outcome.problems.append('start warned %r, which domcheck did not list under '
                                        'adjusted' % w)
        d.wait_state(name, 'running', timeout=60)
        check_devices(d, name, xml, outcome)
        outcome.kind = 'started'
        if outcome.problems:
            outcome.kind = 'failed'
            outcome.detail = 'device list: ' + '; '.join(outcome.problems)
    except Exception as e:                      # one file's failure is its row
        outcome.kind = 'failed'
        outcome.detail = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
        outcome.problems.append(outcome.detail)
    finally:
        d.vsh('destroy', name, check=False, timeout=60)
        d.vsh('undefine', name, check=False)
    return outcome


class CompatStartTest(harness.VirtdTestCase):

    def test_corpus_starts(self):
        self.assertTrue(os.path.isdir(CORPUS),
                        'the corpus %s is missing: set VD_COMPAT_DIR to the directory of '
                        'virt-install domain XML files' % CORPUS)
        files = sorted(f for f in os.listdir(CORPUS) if f.endswith('.xml'))
        self.assertTrue(files, 'no .xml files in the corpus %s' % CORPUS)
        for tool in ('xorriso', 'qemu-img'):
            self.assertTrue(shutil.which(tool), '%s is not installed (scripts/deps.sh)' % tool)
        qemu = find_qemu()
        started = time.monotonic()
        with netlab.NetLab(prefix=PREFIX) as lab, Daemon() as d:
            media = Media(d)
            bridges = {}

            def bridge_for(original):
                if original not in bridges:
                    bridges[original] = lab.bridge('b%d' % len(bridges))
                return bridges[original]

            made = {}

            def networks(netname):
                # One isolated test network per name the files give,
                # defined before the files that use it run.
                if netname in made:
                    return
                br = lab.name('n%d' % len(made))
                sub = lab.subnet()
                xml = ("<network><name>%s</name><bridge name='%s'/>"
                       "<ip address='%s.1' netmask='255.255.255.0'/></network>"
                       % (harness.xml_escape(netname), br, sub))
                p = d.write_xml('net-' + netname, xml)
                d.vsh('net-define', p)
                d.vsh('net-start', netname)
                made[netname] = br

            # Networks and bridges first (they are shared), then the files
            # in parallel.
            for f in files:
                root = ET.parse(os.path.join(CORPUS, f)).getroot()
                for src in root.findall("./devices/interface[@type='network']/source"):
                    networks(src.get('network'))
                for src in root.findall("./devices/interface[@type='bridge']/source"):
                    bridge_for(src.get('bridge'))
            try:
                with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
                    futures = [pool.submit(try_file, d, media, qemu, bridge_for, networks, i, f)
                               for i, f in enumerate(files)]
                    outcomes = [fu.result() for fu in futures]
            finally:
                for netname in made:
                    d.vsh('net-destroy', netname, check=False)
                    d.vsh('net-undefine', netname, check=False)
        elapsed = time.monotonic() - started

        n_started = sum(1 for o in outcomes if o.kind == 'started')
        print('\n%-48s %s' % ('file', 'outcome'))
        for o in outcomes:
            print(o.row())
        print('\n%d of %d start (%.0f s)' % (n_started, len(outcomes), elapsed))
        print('\nstart warnings (what the builder adjusted), per file:')
        for o in outcomes:
            for w in o.warnings:
                print('%s: %s' % (o.file, w))
        print('\nwhat blocks, per file (vsh domcheck):')
        for o in outcomes:
            if o.kind != 'started':
                print('%s:' % o.file)
                for b in o.domcheck_blocks or ['(domcheck: nothing) ' + o.detail]:
                    print('    ' + b)
        sys.stdout.flush()
        failures = ['%s: %s' % (o.file, p) for o in outcomes for p in o.problems]
        self.assertGreaterEqual(n_started, MIN_SHARE * len(outcomes),
                                '%d of %d start, fewer than %d %%:\n%s'
                                % (n_started, len(outcomes), MIN_SHARE * 100,
                                   '\n'.join(failures)))
        self.assertEqual(failures, [], '\n'.join(failures))


if __name__ == '__main__':
    harness.main()
