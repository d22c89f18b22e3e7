// Snapshots tab: the snapshot tree (parent/children from GET .../snapshots),
// create (POST a <domainsnapshot>), revert and delete.
import { h, clear, run } from '../ui.js';
import { api, enc } from '../api.js';
import { dialog, field, val, xmlEsc } from './domain-form.js';

const spath = (ctx, rest = '') => `/domains/${enc(ctx.name)}/snapshots${rest}`;

function create(ctx) {
  dialog('Create snapshot', [
    field('Name', 'sn-name', { placeholder: '(default: the time)' }),
    field('Description', 'sn-desc'),
    h('p', { class: 'muted' }, ctx.summary.state === 'shut off'
      ? 'The disks are snapshotted (qcow2 internal snapshots).'
      : 'The running guest is snapshotted with its memory: it pauses for a moment.')], 'Create', async (f) => {
    const name = val(f, 'sn-name'), desc = val(f, 'sn-desc');
    const xml = `<domainsnapshot>${name ? `<name>${xmlEsc(name)}</name>` : ''}${desc ? `<description>${xmlEsc(desc)}</description>` : ''}</domainsnapshot>`;
    const j = await api('POST', spath(ctx), xml);
    await ctx.reload();
    return `Snapshot ${j.name} created.`;
  });
}

function revert(ctx, s) {
  dialog(`Revert to ${s.name}`, [h('p', {}, `${ctx.name} returns to snapshot ${s.name} (${s.state}); what changed since is lost.`)],
    'Revert', async () => {
      await api('POST', spath(ctx, `/${enc(s.name)}/revert`));
      await ctx.reload();
      return `Reverted ${ctx.name} to ${s.name}.`;
    });
}

function remove(ctx, s) {
  dialog(`Delete snapshot ${s.name}`, [
    h('p', {}, s.children.length ? `Its children move to its parent unless deleted with it.` : 'It has no children.'),
    s.children.length ? h('label', {}, h('input', { type: 'checkbox', id: 'sd-children' }), ` also delete its ${s.descendants} descendant(s)`) : null],
  'Delete', async (f) => {
    const all = f.querySelector('#sd-children')?.checked;
    await api('DELETE', spath(ctx, `/${enc(s.name)}${all ? '?children=1' : ''}`));
    await ctx.reload();
    return `Snapshot ${s.name} deleted.`;
  });
}

// Nested lists: roots first, each snapshot's children under it.
function tree(ctx, snaps) {
  const by = new Map(snaps.map((s) => [s.name, s]));
  const item = (s) => h('li', { class: 'snap', dataset: { name: s.name } },
    h('div', { class: 'snap-row' },
      h('strong', {}, s.name), s.current ? h('span', { class: 'badge st-running' }, 'current') : null,
      h('span', { class: 'muted' }, ` ${s.state}, ${new Date(s.creation_time * 1000).toLocaleString()}${s.description ? ` — ${s.description}` : ''}`),
      h('span', { class: 'grow' }),
      h('button', { class: 'btn btn-link', dataset: { act: 'revert' }, onclick: () => revert(ctx, s) }, 'Revert'),
      h('button', { class: 'btn btn-link', dataset: { act: 'delete' }, onclick: () => remove(ctx, s) }, 'Delete')),
    s.children.length ? h('ul', {}, s.children.map((c) => by.get(c)).filter(Boolean).map(item)) : null);
  return h('ul', { class: 'snap-tree', id: 'snap-tree' }, snaps.filter((s) => !s.parent || !by.has(s.parent)).map(item));
}

export function domainSnapshotsTab(ctx) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const load = async () => {
    try {
      const snaps = (await api('GET', spath(ctx))).snapshots || [];
      clear(body).append(snaps.length ? tree(ctx, snaps) : h('div', { class: 'empty' }, 'No snapshots.'));
    } catch (e) {
      clear(body).append(h('p', { class: 'error-text', role: 'alert' }, e.message));
    }
  };
  ctx.changed.add(load);
  load();
  return {
    el: h('div', { class: 'card' },
      h('div', { class: 'toolbar' }, h('h2', {}, 'Snapshots'), h('span', { class: 'grow' }),
        h('button', { class: 'btn btn-primary', id: 'snap-create', onclick: () => run('Snapshot', () => create(ctx)) }, 'Create snapshot…')),
      body),
    destroy() { ctx.changed.delete(load); },
  };
}
