// Create VM (#/create): a machine from an existing disk image or volume,
// an ISO (with a new disk), an install tree or ISO booted like vsh install
// --location (POST /install-media finds the installer's kernel + initrd),
// a freshly built Debian 12 image (POST /images/build: a task whose steps
// are shown, cancellable), or a kernel + initrd; memory, vCPUs, disk,
// network and OS variant. Through the API only: the new volume (POST
// /pools/P/volumes), the definition (POST /domains), the start; ends on the
// machine's console tab. A volume made here is removed again if the
// definition is refused.
import { h, clear, run, toast } from '../ui.js';
import { api, enc } from '../api.js';
import { field, select, val, xmlEsc, parseSize } from './domain-form.js';
import { diskXml } from './domain-disks.js';

// OS variant -> the defaults vsh install --osinfo takes (docs/installing.md)
// and libosinfo's id, kept in <metadata> as virt-install does.
const VARIANTS = [
  ['generic', 'Generic / other', 512, 1, null],
  ['debian12', 'Debian 12', 1024, 1, 'http://debian.org/debian/12'],
  ['debian13', 'Debian 13', 1024, 1, 'http://debian.org/debian/13'],
  ['ubuntu24.04', 'Ubuntu 24.04', 2048, 2, 'http://ubuntu.com/ubuntu/24.04'],
  ['fedora41', 'Fedora 41', 2048, 2, 'http://fedoraproject.org/fedora/41'],
  ['rhel9', 'RHEL 9', 2048, 2, 'http://redhat.com/rhel/9.0'],
  ['rocky9', 'Rocky Linux 9', 2048, 2, 'http://rockylinux.org/rocky/9'],
];

function domainXml(o) {
  const dev = [];
  let boot = '';
  if (o.mode === 'kernel' || (o.mode === 'tree' && o.installPhase)) {
    boot = `<kernel>${xmlEsc(o.kernel)}</kernel>${o.initrd ? `<initrd>${xmlEsc(o.initrd)}</initrd>` : ''}`
      + `${o.cmdline ? `<cmdline>${xmlEsc(o.cmdline)}</cmdline>` : ''}`;
  } else if (o.mode === 'iso') {
    boot = "<boot dev='cdrom'/><boot dev='hd'/>";
    dev.push(diskXml(o.iso, 'sda', 'sata', 'raw', 'cdrom'));
  } else {
    boot = "<boot dev='hd'/>";
  }
  if (o.disk) dev.unshift(diskXml(o.disk, 'vda', 'virtio', o.diskFormat));
  if (o.net) {
    const [type, name] = o.net.split(':');
    dev.push(`<interface type='${type}'>${type === 'network' ? `<source network='${xmlEsc(name)}'/>` : ''}<model type='virtio'/></interface>`);
  }
  dev.push("<serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console>");
  if (o.graphics) dev.push("<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/><video><model type='virtio'/></video>");
  const meta = o.osId ? `<metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>`
    + `<libosinfo:os id='${xmlEsc(o.osId)}'/></libosinfo:libosinfo></metadata>` : '';
  return `<domain type='${o.type}'><name>${xmlEsc(o.name)}</name>${o.uuid ? `<uuid>${o.uuid}</uuid>` : ''}${meta}`
    + `<memory unit='MiB'>${o.memory}</memory><currentMemory unit='MiB'>${o.memory}</currentMemory><vcpu>${o.vcpus}</vcpu>`
    + `<os><type arch='x86_64' machine='pc'>hvm</type>${boot}</os><features><acpi/><apic/></features>`
    + `<on_poweroff>destroy</on_poweroff>${o.installPhase ? '<on_reboot>destroy</on_reboot>' : ''}<devices>${dev.join('')}</devices></domain>`;
}

function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function createPage(go) {
  const form = h('form', { class: 'card create-form', id: 'create-form' }, h('p', { class: 'muted' }, 'Loading…'));
  const err = h('p', { class: 'error-text', role: 'alert', hidden: true });
  // The image build's task: its step, elapsed time and a Cancel button.
  const progress = h('div', { class: 'build-progress', id: 'cr-progress', hidden: true, 'aria-live': 'polite' });
  let destroyed = false;
  const show = (id, on) => { form.querySelector(`#${id}`).hidden = !on; };

  async function build() {
    const [host, pools, nets] = await Promise.all([api('GET', '/host').catch(() => ({})),
      api('GET', '/pools').then((j) => j.pools || []), api('GET', '/networks').then((j) => j.networks || [])]);
    const kvm = host.kvm && (host.kvm.status === 'ok' || host.kvm.status === 'usable');
    const poolNames = pools.map((p) => p.name);
    clear(form).append(
      field('Name', 'cr-name', { required: true, pattern: '[A-Za-z0-9_.+\\-]+' }),
      select('Install from', 'cr-mode', [['image', 'Existing disk image or volume'], ['iso', 'ISO image (installer)'],
        ['tree', 'Install tree or ISO (network-style install)'], ['build', 'Build a new Debian 12 image'],
        ['kernel', 'Kernel and initrd (direct boot)']], 'image'),
      h('div', { id: 'cr-image-box' }, field('Disk image path', 'cr-image', { placeholder: '/var/lib/virtd/images/web1.qcow2' })),
      h('div', { id: 'cr-iso-box', hidden: true }, field('ISO path', 'cr-iso', { placeholder: '/var/lib/virtd/images/debian-12.iso' })),
      h('div', { id: 'cr-tree-box', hidden: true },
        field('Install tree (directory) or ISO path', 'cr-location', { placeholder: '/srv/debian/netboot or /var/lib/virtd/images/debian-12.iso' }),
        field('Extra kernel arguments', 'cr-extra', { value: 'console=ttyS0' })),
      h('div', { id: 'cr-build-box', hidden: true },
        h('p', { class: 'muted' }, 'Builds a Debian 12 disk image with the recipe vsh image build runs (mmdebstrap; a few minutes, downloads from Debian\'s mirror), then boots it.'),
        field('Host name', 'cr-hostname', { placeholder: 'the VM\'s name', pattern: '[A-Za-z0-9.\\-]+' }),
        field('Root password (empty: none)', 'cr-password', { type: 'password', autocomplete: 'new-password' }),
        field('SSH public key for root (optional)', 'cr-sshkey', { rows: 2, placeholder: 'ssh-ed25519 AAAA… user@host' }, 'textarea')),
      h('div', { id: 'cr-kernel-box', hidden: true }, field('Kernel', 'cr-kernel'), field('Initrd', 'cr-initrd'),
        field('Kernel command line', 'cr-cmdline', { value: 'console=ttyS0' })),
      select('OS variant', 'cr-os', VARIANTS.map((v) => [v[0], v[1]]), 'generic'),
      field('Memory (MiB)', 'cr-memory', { type: 'number', min: 16, value: 512, required: true }),
      field('vCPUs', 'cr-vcpus', { type: 'number', min: 1, value: 1, required: true }),
      h('div', { id: 'cr-disk-box', hidden: true },
        select('New disk in pool', 'cr-pool', [['', '(no disk)'], ...poolNames], poolNames[0] || ''),
        field('Disk size (e.g. 10G)', 'cr-size', { value: '10G' })),
      select('Network', 'cr-net', [['', '(none)'], ...nets.map((n) => [`network:${n.name}`, `network ${n.name}`]), ['user:', 'user-mode networking']],
        nets.length ? `network:${nets[0].name}` : 'user:'),
      select('Acceleration', 'cr-type', [['kvm', 'KVM'], ['qemu', 'QEMU emulation (TCG, slow)']], kvm ? 'kvm' : 'qemu'),
      h('label', {}, h('input', { type: 'checkbox', id: 'cr-vnc', checked: true }), ' graphical console (VNC)'),
      h('label', {}, h('input', { type: 'checkbox', id: 'cr-start', checked: true }), ' start it now'),
      progress, err,
      h('div', { class: 'toolbar' }, h('span', { class: 'grow' }), h('a', { class: 'btn btn-secondary', href: '#/' }, 'Cancel'),
        h('button', { class: 'btn btn-primary', type: 'submit', id: 'cr-submit' }, 'Create')));
    const mode = form.querySelector('#cr-mode');
    mode.addEventListener('change', () => {
      show('cr-image-box', mode.value === 'image');
      show('cr-iso-box', mode.value === 'iso');
      show('cr-kernel-box', mode.value === 'kernel');
      show('cr-tree-box', mode.value === 'tree');
      show('cr-build-box', mode.value === 'build');
      show('cr-disk-box', mode.value !== 'image');
    });
    form.querySelector('#cr-os').addEventListener('change', (e) => {
      const v = VARIANTS.find((x) => x[0] === e.target.value);
      form.querySelector('#cr-memory').value = v[2];
      form.querySelector('#cr-vcpus').value = v[3];
    });
  }

  async function submit(e) {
    e.preventDefault();
    err.hidden = true;
    const btn = form.querySelector('#cr-submit');
    btn.disabled = true;
    let made = null; // the volume made here, removed again on failure
    try {
      const o = {
        name: val(form, 'cr-name'), mode: val(form, 'cr-mode'), memory: Number(val(form, 'cr-memory')),
        vcpus: Number(val(form, 'cr-vcpus')), type: val(form, 'cr-type'), net: val(form, 'cr-net'),
        graphics: form.querySelector('#cr-vnc').checked,
        osId: VARIANTS.find((v) => v[0] === val(form, 'cr-os'))[4],
      };
      if (o.mode === 'image') {
        o.disk = val(form, 'cr-image');
        if (!o.disk) throw new Error('give the path of the disk image (a pool volume\'s path)');
      } else if (o.mode === 'iso') {
        o.iso = val(form, 'cr-iso');
        if (!o.iso) throw new Error('give the path of the ISO image');
      } else if (o.mode === 'tree') {
        o.location = val(form, 'cr-location');
        if (!o.location) throw new Error('give the path of the install tree (a directory) or of the ISO image');
        o.cmdline = val(form, 'cr-extra');
      } else if (o.mode === 'build') {
        if (!val(form, 'cr-pool')) throw new Error('choose the pool the new image goes into');
      } else {
        Object.assign(o, { kernel: val(form, 'cr-kernel'), initrd: val(form, 'cr-initrd'), cmdline: val(form, 'cr-cmdline') });
        if (!o.kernel) throw new Error('give the path of the kernel');
      }
      const pool = val(form, 'cr-pool');
      if (o.mode === 'build') {
        made = await buildImage(o, pool);
        if (!made) return; // cancelled or failed: shown in the progress box
        o.disk = made.path;
        o.diskFormat = made.format;
        o.mode = 'image';
      } else if (o.mode !== 'image' && pool) {
        const capacity = parseSize(val(form, 'cr-size'), 'G');
        if (Number.isNaN(capacity)) throw new Error('disk size: like 10G or 512M');
        const j = await api('POST', `/pools/${enc(pool)}/volumes`, { name: `${o.name}.qcow2`, capacity, format: 'qcow2' });
        made = j.volume;
        o.disk = made.path;
        o.diskFormat = 'qcow2';
      }
      if (o.mode === 'tree') {
        // vsh install --location: the installer's kernel and initrd out of
        // the tree (or copied out of the ISO into the pool).
        const m = await api('POST', '/install-media', { location: o.location, name: o.name, pool: pool || undefined });
        Object.assign(o, { kernel: m.kernel, initrd: m.initrd, uuid: newUuid() });
      }
      try {
        // An install tree: the definition boots the disk; the install phase
        // (kernel + initrd) is started over it with the same name and UUID,
        // so it never becomes the definition (as vsh install does).
        const j = await api('POST', '/domains', domainXml(o));
        for (const w of j.warnings || []) toast(w, 'warning');
      } catch (x) {
        if (made) await api('DELETE', `/pools/${enc(made.pool)}/volumes/${enc(made.name)}`).catch(() => {});
        throw x;
      }
      toast(`Defined ${o.name}.`);
      if (o.mode === 'tree') {
        await api('POST', '/domains?start=1', domainXml({ ...o, installPhase: true }));
        go(`#/vm/${enc(o.name)}/console`);
      } else if (form.querySelector('#cr-start').checked) {
        await api('POST', `/domains/${enc(o.name)}/start`);
        go(`#/vm/${enc(o.name)}/console`);
      } else {
        go(`#/vm/${enc(o.name)}`);
      }
    } catch (x) {
      if (x && x.status === 401) return;
      err.textContent = x.message;
      err.hidden = false;
    } finally {
      btn.disabled = false;
    }
  }
  // POST /images/build, then the task's progress until it ends: the new
  // volume ({pool, name, path, format}) when it completed, else null (the
  // reason is shown; a cancelled build removed its partial image).
  async function buildImage(o, pool) {
    const capacity = parseSize(val(form, 'cr-size') || '8G', 'G');
    if (Number.isNaN(capacity)) throw new Error('disk size: like 10G or 512M');
    const body = { template: 'debian-12', pool, name: `${o.name}.qcow2`, size: capacity, hostname: val(form, 'cr-hostname') || o.name.replace(/[^A-Za-z0-9.-]/g, '-') };
    if (val(form, 'cr-password')) body.root_password = val(form, 'cr-password');
    if (val(form, 'cr-sshkey')) body.ssh_key = val(form, 'cr-sshkey');
    const started = await api('POST', '/images/build', body);
    const bar = h('progress', { max: '100', value: '0' });
    const step = h('span', { class: 'build-step' }, 'starting…');
    const cancel = h('button', { class: 'btn btn-secondary', type: 'button', id: 'cr-build-cancel',
      onclick: async () => { cancel.disabled = true; await run('Cancel the image build', () => api('POST', `/tasks/${started.task}/cancel`)); } }, 'Cancel build');
    clear(progress).append(h('strong', {}, `Building ${started.name}: `), step, ' ', bar, ' ', cancel);
    progress.hidden = false;
    for (;;) {
      await new Promise((r) => { setTimeout(r, 1000); });
      if (destroyed) return null;
      const t = (await api('GET', '/tasks')).tasks.find((x) => x.id === started.task);
      if (!t) throw new Error('the image build task is gone from the task log');
      bar.value = t.progress || 0;
      step.textContent = `${t.detail || ''} (${Math.round(t.elapsed)} s)`;
      progress.dataset.state = t.state;
      if (t.state === 'running') continue;
      cancel.remove();
      if (t.state === 'completed') return started;
      step.textContent = `${t.state}: ${t.message || ''}`;
      return null;
    }
  }

  form.addEventListener('submit', submit);
  run('Load', build);
  return {
    destroy() { destroyed = true; },
    el: h('section', { class: 'page page-create' },
      h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, 'Virtual machines'), ' › Create'),
      h('h1', {}, 'Create virtual machine'), form),
  };
}
