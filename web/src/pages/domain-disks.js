// Disks tab: the disks (GET .../disks, .../info) with remove, resize and,
// on a CD-ROM, insert/eject; "Add disk" attaches a new volume made in a
// pool or an existing one (POST .../devices, the <disk> vsh attach-disk sends).
import { h, clear, run, fmtBytes } from '../ui.js';
import { api, enc } from '../api.js';
import { dialog, field, select, scopeFields, scopeQuery, val, xmlEsc, parseSize } from './domain-form.js';

const dpath = (ctx, rest = '') => `/domains/${enc(ctx.name)}${rest}`;
const running = (ctx) => ctx.summary && ctx.summary.state !== 'shut off';

function nextTarget(disks) {
  const used = new Set(disks.map((d) => d.target));
  for (let i = 0; i < 26; i++) {
    const t = `vd${String.fromCharCode(97 + i)}`;
    if (!used.has(t)) return t;
  }
  return 'vdz';
}

export function diskXml(path, target, bus = 'virtio', format = null, device = 'disk') {
  const drv = format ? `<driver name='qemu' type='${xmlEsc(format)}'/>` : '';
  const src = path ? `<source file='${xmlEsc(path)}'/>` : '';
  return `<disk type='file' device='${device}'>${drv}${src}<target dev='${xmlEsc(target)}' bus='${xmlEsc(bus)}'/>`
    + `${device === 'cdrom' ? '<readonly/>' : ''}</disk>`;
}

async function pools() {
  const j = await api('GET', '/pools');
  return (j.pools || []).map((p) => p.name);
}

async function addDisk(ctx, disks) {
  const names = await pools();
  if (!names.length) throw new Error('no active storage pool: create or start one on the Storage page');
  const vols = h('select', { id: 'ad-vol', name: 'ad-vol' });
  const fillVols = async (pool) => {
    const j = await api('GET', `/pools/${enc(pool)}/volumes`);
    clear(vols).append(...(j.volumes || []).map((v) => h('option', { value: v.path }, `${v.name} (${fmtBytes(v.capacity)})`)));
  };
  const poolSel = select('Pool', 'ad-pool', names, names[0]);
  poolSel.querySelector('select').addEventListener('change', (e) => run('Volumes', () => fillVols(e.target.value)));
  const mode = select('Source', 'ad-mode', [['new', 'New volume'], ['existing', 'Existing volume']], 'new');
  const newBox = h('div', {}, field('Volume name', 'ad-name', { value: `${ctx.name}-${nextTarget(disks)}.qcow2` }),
    field('Size (e.g. 1G, 512M)', 'ad-size', { value: '1G' }), select('Format', 'ad-format', ['qcow2', 'raw'], 'qcow2'));
  const oldBox = h('div', { hidden: true }, h('label', { class: 'field', for: 'ad-vol' }, h('span', {}, 'Volume'), vols));
  mode.querySelector('select').addEventListener('change', (e) => {
    newBox.hidden = e.target.value !== 'new';
    oldBox.hidden = !newBox.hidden;
    if (!oldBox.hidden) run('Volumes', () => fillVols(poolSel.querySelector('select').value));
  });
  dialog('Add disk', [mode, poolSel, newBox, oldBox,
    field('Target', 'ad-target', { value: nextTarget(disks) }),
    select('Bus', 'ad-bus', ['virtio', 'scsi', 'sata'], 'virtio'),
    scopeFields('ad', running(ctx))], 'Add', async (f) => {
    let path, format = null;
    if (val(f, 'ad-mode') === 'new') {
      const capacity = parseSize(val(f, 'ad-size'));
      if (Number.isNaN(capacity)) throw new Error('size: a number of MiB, or like 512M, 2G');
      format = val(f, 'ad-format');
      const j = await api('POST', `/pools/${enc(val(f, 'ad-pool'))}/volumes`, { name: val(f, 'ad-name'), capacity, format });
      path = j.volume.path;
    } else {
      path = val(f, 'ad-vol');
      if (!path) throw new Error('choose a volume');
    }
    await api('POST', dpath(ctx, `/devices${scopeQuery(f, 'ad')}`), diskXml(path, val(f, 'ad-target'), val(f, 'ad-bus'), format));
    await ctx.reload();
    return `Disk ${val(f, 'ad-target')} added to ${ctx.name}.`;
  });
}

function removeDisk(ctx, d) {
  dialog(`Remove disk ${d.target}`, [
    h('p', {}, `Detach ${d.target} (${d.source || 'empty'}) from ${ctx.name}. The image stays.`),
    running(ctx) ? h('label', {}, h('input', { type: 'checkbox', id: 'rd-boot' }), ' even if the guest booted from it') : null,
    scopeFields('rd', running(ctx))], 'Remove', async (f) => {
    // The API refuses the boot disk of a running guest unless asked (boot_disk=1).
    let q = scopeQuery(f, 'rd');
    if (f.querySelector('#rd-boot')?.checked) q += `${q ? '&' : '?'}boot_disk=1`;
    await api('POST', dpath(ctx, `/devices/detach${q}`), `<disk><target dev='${xmlEsc(d.target)}'/></disk>`);
    await ctx.reload();
    return `Disk ${d.target} removed from ${ctx.name}.`;
  });
}

function resizeDisk(ctx, d, info) {
  dialog(`Resize ${d.target}`, [
    field('New size (e.g. 2G)', 'rs-size', { value: info ? `${Math.ceil(info.capacity / 1048576)}M` : '' }),
    h('label', {}, h('input', { type: 'checkbox', id: 'rs-shrink' }), ' allow shrinking (data past the end is lost)')],
  'Resize', async (f) => {
    const size = parseSize(val(f, 'rs-size'));
    if (Number.isNaN(size)) throw new Error('size: a number of MiB, or like 512M, 2G');
    const shrink = f.querySelector('#rs-shrink').checked;
    if (running(ctx)) {
      await api('POST', dpath(ctx, `/disks/${enc(d.target)}/resize`), { size, shrink });
    } else {
      // Shut off: the image is resized as the pool volume it is.
      const v = (await api('GET', `/volumes?path=${enc(d.source)}`)).volume;
      await api('POST', `/pools/${enc(v.pool)}/volumes/${enc(v.name)}/resize`, { capacity: size, shrink });
    }
    await ctx.reload();
    return `Disk ${d.target} resized.`;
  });
}

function media(ctx, d) {
  if (d.source) {
    return run('Eject', async () => {
      await api('POST', dpath(ctx, `/disks/${enc(d.target)}/media${running(ctx) ? '?live=1&config=1' : '?config=1'}`), { action: 'eject', force: true });
      await ctx.reload();
    });
  }
  return dialog(`Insert media in ${d.target}`, [field('ISO image path', 'md-path', { placeholder: '/var/lib/virtd/images/x.iso', required: true })],
    'Insert', async (f) => {
      await api('POST', dpath(ctx, `/disks/${enc(d.target)}/media${running(ctx) ? '?live=1&config=1' : '?config=1'}`),
        { action: 'insert', source: val(f, 'md-path') });
      await ctx.reload();
      return `Media inserted in ${d.target}.`;
    });
}

export function domainDisksTab(ctx) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  let disks = [];
  const load = async () => {
    try {
      disks = (await api('GET', dpath(ctx, '/disks'))).disks || [];
      const infos = await Promise.all(disks.map((d) => (d.source
        ? api('GET', dpath(ctx, `/disks/${enc(d.target)}/info`)).catch(() => null) : null)));
      const btn = (label, fn, attrs = {}) => h('button', { class: 'btn btn-link', onclick: fn, ...attrs }, label);
      clear(body).append(disks.length ? h('table', { class: 'table', id: 'disks-table' },
        h('thead', {}, h('tr', {}, ['Target', 'Device', 'Bus', 'Source', 'Capacity', 'Allocation', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, disks.map((d, i) => h('tr', { dataset: { target: d.target } },
          h('td', {}, d.target), h('td', {}, d.device), h('td', {}, d.bus), h('td', {}, d.source || '(empty)'),
          h('td', {}, infos[i] ? fmtBytes(infos[i].capacity) : '—'), h('td', {}, infos[i] ? fmtBytes(infos[i].allocation) : '—'),
          h('td', { class: 'actions' },
            d.device === 'cdrom' || d.device === 'floppy'
              ? btn(d.source ? 'Eject' : 'Insert…', () => media(ctx, d), { dataset: { act: 'media' } })
              : btn('Resize…', () => resizeDisk(ctx, d, infos[i]), { dataset: { act: 'resize' } }),
            btn('Remove', () => removeDisk(ctx, d), { dataset: { act: 'remove' } })))))) : h('div', { class: 'empty' }, 'No disks.'));
    } catch (e) {
      clear(body).append(h('p', { class: 'error-text', role: 'alert' }, e.message));
    }
  };
  ctx.changed.add(load);
  load();
  return {
    el: h('div', { class: 'card' },
      h('div', { class: 'toolbar' }, h('h2', {}, 'Disks'), h('span', { class: 'grow' }),
        h('button', { class: 'btn btn-primary', id: 'disk-add', onclick: () => run('Add disk', () => addDisk(ctx, disks)) }, 'Add disk…')),
      body),
    destroy() { ctx.changed.delete(load); },
  };
}
