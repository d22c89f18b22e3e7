// Disks, NICs, Snapshots and XML tabs: what the API says today; editing
// (hot-add, resize, snapshots, XML with inline errors) grows here.
import { h, clear, run, toast, fmtBytes } from '../ui.js';
import { api, enc } from '../api.js';

function table(cols, rows) {
  return h('table', { class: 'table' },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((v) => h('td', {}, v ?? '—'))))));
}

// A card that loads with fn() and re-renders when the machine changes.
function loadingCard(ctx, title, fn) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const reload = async () => {
    try {
      const content = await fn();
      clear(body).append(content);
    } catch (e) {
      clear(body).append(h('p', { class: 'error-text', role: 'alert' }, e.message));
    }
  };
  ctx.changed.add(reload);
  reload();
  return { el: h('div', { class: 'card' }, h('h2', {}, title), body), destroy() { ctx.changed.delete(reload); } };
}

export function disksTab(ctx) {
  return loadingCard(ctx, 'Disks', async () => {
    const j = await api('GET', `/domains/${enc(ctx.name)}/disks`);
    const disks = j.disks || [];
    if (!disks.length) return h('div', { class: 'empty' }, 'No disks.');
    const sizes = await Promise.all(disks.map((d) => (d.source
      ? api('GET', `/domains/${enc(ctx.name)}/disks/${enc(d.target)}/info`).catch(() => null) : null)));
    return table(['Target', 'Device', 'Bus', 'Source', 'Capacity', 'Allocation'],
      disks.map((d, i) => [d.target, d.device, d.bus, d.source || '(empty)',
        sizes[i] ? fmtBytes(sizes[i].capacity) : '—', sizes[i] ? fmtBytes(sizes[i].allocation) : '—']));
  });
}

export function nicsTab(ctx) {
  return loadingCard(ctx, 'Network interfaces', async () => {
    const j = await api('GET', `/domains/${enc(ctx.name)}/interfaces`);
    const nics = j.interfaces || [];
    if (!nics.length) return h('div', { class: 'empty' }, 'No network interfaces.');
    let addrs = {};
    if (ctx.summary && ctx.summary.state === 'running') {
      const a = await api('GET', `/domains/${enc(ctx.name)}/interfaces/addresses`).catch(() => ({ interfaces: [] }));
      for (const i of a.interfaces || []) addrs[i.mac] = (i.addrs || []).map((x) => `${x.addr}/${x.prefix}`).join(', ');
    }
    return table(['Interface', 'Type', 'Source', 'Model', 'MAC', 'Link', 'Addresses'],
      nics.map((n) => [n.interface, n.type, n.source, n.model, n.mac, n.link, addrs[n.mac] || '']));
  });
}

export function snapshotsTab(ctx) {
  return loadingCard(ctx, 'Snapshots', async () => {
    const j = await api('GET', `/domains/${enc(ctx.name)}/snapshots`);
    const snaps = j.snapshots || [];
    if (!snaps.length) return h('div', { class: 'empty' }, 'No snapshots.');
    return table(['Name', 'Created', 'State', 'Parent', 'Location', 'Current'],
      snaps.map((s) => [s.name, new Date(s.creation_time * 1000).toLocaleString(), s.state,
        s.parent || '', s.location, s.current ? 'yes' : '']));
  });
}

export function xmlTab(ctx) {
  const area = h('textarea', { class: 'xml', id: 'xml-text', spellcheck: 'false', 'aria-label': 'Domain XML' });
  const err = h('pre', { class: 'error-text', role: 'alert', hidden: true });
  const save = h('button', {
    class: 'btn btn-primary',
    onclick: async () => {
      err.hidden = true;
      try {
        const j = await api('PUT', `/domains/${enc(ctx.name)}/xml`, area.value);
        toast(`Saved the definition of ${ctx.name}.`);
        for (const w of j.warnings || []) toast(w, 'warning');
        await ctx.reload();
      } catch (e) {
        if (e.status === 401) return;
        err.textContent = e.message; // shown where the user is editing
        err.hidden = false;
      }
    },
  }, 'Save');
  const load = async () => {
    area.value = await api('GET', `/domains/${enc(ctx.name)}/xml?inactive=1`);
  };
  run('Load XML', load);
  return {
    el: h('div', { class: 'card' },
      h('div', { class: 'toolbar' }, h('h2', {}, 'XML (persistent definition)'), h('span', { class: 'grow' }),
        h('button', { class: 'btn btn-secondary', onclick: () => run('Load XML', load) }, 'Revert'), save),
      err, area),
  };
}
