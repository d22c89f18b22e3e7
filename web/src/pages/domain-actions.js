// The details header's other actions: clone (POST .../clone), rename
// (POST .../rename), migrate (POST .../migrate with a destination URI) and
// delete (DELETE /v1/domains/NAME?storage=TARGETS: a checkbox per disk).
import { h, toast } from '../ui.js';
import { api, enc } from '../api.js';
import { dialog, field, val } from './domain-form.js';

const dpath = (ctx, rest = '') => `/domains/${enc(ctx.name)}${rest}`;

// A copied disk's new path: its directory, the clone's name, the target
// for all but the first, the original's extension (as virt-clone's).
function clonePath(src, newName, target, first) {
  const dir = src.slice(0, src.lastIndexOf('/') + 1);
  const base = src.slice(dir.length);
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.')) : '';
  return `${dir}${newName}${first ? '' : `-${target}`}${ext}`;
}

async function cloneDlg(ctx) {
  const disks = ((await api('GET', dpath(ctx, '/disks'))).disks || []).filter((d) => d.source && d.device === 'disk');
  const name = field('Name of the clone', 'cl-name', { value: `${ctx.name}-clone`, required: true });
  const files = disks.map((d, i) => field(`New image for ${d.target}`, `cl-file-${i}`, { value: clonePath(d.source, `${ctx.name}-clone`, d.target, i === 0) }));
  name.querySelector('input').addEventListener('input', (e) => disks.forEach((d, i) => {
    files[i].querySelector('input').value = clonePath(d.source, e.target.value.trim(), d.target, i === 0);
  }));
  dialog(`Clone ${ctx.name}`, [name, files,
    h('p', { class: 'muted' }, 'Each disk is copied; the clone gets new MAC addresses. The original must be shut off or paused.')],
  'Clone', async (f) => {
    const j = await api('POST', dpath(ctx, '/clone'), { name: val(f, 'cl-name'), files: disks.map((d, i) => val(f, `cl-file-${i}`)) });
    return `Cloned ${ctx.name} to ${j.domain.name}.`;
  });
}

function renameDlg(ctx, go) {
  dialog(`Rename ${ctx.name}`, [field('New name', 'rn-name', { value: ctx.name, required: true })], 'Rename', async (f) => {
    const j = await api('POST', dpath(ctx, '/rename'), { name: val(f, 'rn-name') });
    go(`#/vm/${enc(j.domain.name)}`);
    return `Renamed ${ctx.name} to ${j.domain.name}.`;
  });
}

function migrateDlg(ctx, go) {
  const off = ctx.summary.state === 'shut off';
  dialog(`Migrate ${ctx.name}`, [
    field('Destination (virtd URI)', 'mg-uri', { placeholder: 'tls://host2/system or ssh://host2/system', required: true }),
    h('label', {}, h('input', { type: 'checkbox', id: 'mg-copy' }), ' copy the disks (no shared storage)'),
    h('label', {}, h('input', { type: 'checkbox', id: 'mg-undef', checked: true }), ' remove the definition here afterwards'),
    off ? h('p', { class: 'muted' }, 'Shut off: only the definition moves (offline migration).') : null], 'Migrate', async (f) => {
    const body = { dest_uri: val(f, 'mg-uri'), persistent: true, undefine_source: f.querySelector('#mg-undef').checked };
    if (off) body.offline = true; else body.live = true;
    if (f.querySelector('#mg-copy').checked) body.copy_storage = 'all';
    await api('POST', dpath(ctx, '/migrate'), body);
    if (body.undefine_source) go('#/');
    return `Migrated ${ctx.name} to ${body.dest_uri}.`;
  });
}

async function deleteDlg(ctx, go) {
  const disks = ((await api('GET', dpath(ctx, '/disks'))).disks || []).filter((d) => d.source);
  const active = ctx.summary.state !== 'shut off';
  const snaps = ((await api('GET', dpath(ctx, '/snapshots')).catch(() => ({}))).snapshots || []).length;
  dialog(`Delete ${ctx.name}`, [
    active ? h('p', {}, `${ctx.name} is ${ctx.summary.state}: it is forced off first.`) : null,
    disks.length ? h('fieldset', { class: 'scope' }, h('legend', {}, 'Also delete these disks (their images are removed)'),
      disks.map((d) => h('label', {}, h('input', { type: 'checkbox', class: 'del-disk', value: d.target, checked: d.device === 'disk' }),
        ` ${d.target}: ${d.source}`))) : null,
    snaps ? h('p', { class: 'muted' }, `Its ${snaps} snapshot(s) are forgotten (the images' internal snapshots go with the images).`) : null],
  'Delete', async (f) => {
    const targets = [...f.querySelectorAll('.del-disk:checked')].map((c) => c.value);
    if (active) await api('POST', dpath(ctx, '/destroy'));
    const q = [];
    if (targets.length) q.push(`storage=${enc(targets.join(','))}`);
    if (snaps) q.push('snapshots_metadata=1');
    // Its Undefined event may come before the answer: the page is not to
    // say the machine "no longer exists" as if someone else removed it.
    ctx.deleting = true;
    try {
      await api('DELETE', dpath(ctx, q.length ? `?${q.join('&')}` : ''));
    } catch (e) {
      ctx.deleting = false;
      throw e;
    }
    go('#/');
    return `Deleted ${ctx.name}${targets.length ? ` and ${targets.length} disk(s)` : ''}.`;
  });
}

export function actionButtons(ctx, go) {
  const b = (action, label, fn, cls = 'btn-secondary') => h('button', {
    class: `btn ${cls}`, dataset: { action },
    onclick: async () => { try { await fn(ctx, go); } catch (e) { if (e.status !== 401) toast(`${label}: ${e.message}`, 'error'); } },
  }, label);
  return [b('clone', 'Clone…', cloneDlg), b('rename', 'Rename…', renameDlg), b('migrate', 'Migrate…', migrateDlg),
    b('delete', 'Delete…', deleteDlg, 'btn-danger')];
}
