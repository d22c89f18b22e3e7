// NICs tab: interfaces (GET .../interfaces) with their addresses (GET
// .../interfaces/addresses, DHCP leases), link up/down (PUT .../link),
// remove (POST .../devices/detach) and "Add NIC" on a network (POST .../devices).
import { h, clear, run } from '../ui.js';
import { api, enc } from '../api.js';
import { dialog, select, scopeFields, scopeQuery, val, xmlEsc } from './domain-form.js';

const dpath = (ctx, rest = '') => `/domains/${enc(ctx.name)}${rest}`;
const running = (ctx) => ctx.summary && ctx.summary.state !== 'shut off';

async function addNic(ctx) {
  const nets = ((await api('GET', '/networks')).networks || []).map((n) => n.name);
  dialog('Add network interface', [
    select('Connect to', 'an-net', [...nets.map((n) => [`network:${n}`, `network ${n}`]), ['user:', 'user-mode networking (no host setup)']],
      nets.length ? `network:${nets[0]}` : 'user:'),
    select('Model', 'an-model', ['virtio', 'e1000', 'e1000e', 'rtl8139'], 'virtio'),
    scopeFields('an', running(ctx))], 'Add', async (f) => {
    const [type, net] = val(f, 'an-net').split(':');
    const src = type === 'network' ? `<source network='${xmlEsc(net)}'/>` : '';
    const j = await api('POST', dpath(ctx, `/devices${scopeQuery(f, 'an')}`),
      `<interface type='${type}'>${src}<model type='${xmlEsc(val(f, 'an-model'))}'/></interface>`);
    await ctx.reload();
    const mac = /address=['"]([^'"]+)/.exec(j.device || '');
    return `Interface ${mac ? mac[1] : ''} added to ${ctx.name}.`;
  });
}

function removeNic(ctx, n) {
  dialog(`Remove interface ${n.mac}`, [h('p', {}, `Detach ${n.mac} (${n.type} ${n.source}) from ${ctx.name}.`),
    scopeFields('rn', running(ctx))], 'Remove', async (f) => {
    await api('POST', dpath(ctx, `/devices/detach${scopeQuery(f, 'rn')}`),
      `<interface type='${xmlEsc(n.type)}'><mac address='${xmlEsc(n.mac)}'/></interface>`);
    await ctx.reload();
    return `Interface ${n.mac} removed.`;
  });
}

async function setLink(ctx, n) {
  const state = n.link === 'down' ? 'up' : 'down';
  const live = running(ctx);
  await api('PUT', dpath(ctx, `/interfaces/${enc(n.mac)}/link`), { state, live, config: true });
  await ctx.reload();
}

export function domainNicsTab(ctx) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const load = async () => {
    try {
      const nics = (await api('GET', dpath(ctx, '/interfaces'))).interfaces || [];
      const addrs = {};
      if (ctx.summary && ctx.summary.state === 'running') {
        const a = await api('GET', dpath(ctx, '/interfaces/addresses')).catch(() => ({ interfaces: [] }));
        for (const i of a.interfaces || []) addrs[i.mac] = (i.addrs || []).map((x) => `${x.addr}/${x.prefix}`).join(', ');
      }
      const btn = (label, fn, act) => h('button', { class: 'btn btn-link', dataset: { act }, onclick: fn }, label);
      clear(body).append(nics.length ? h('table', { class: 'table', id: 'nics-table' },
        h('thead', {}, h('tr', {}, ['Interface', 'Type', 'Source', 'Model', 'MAC', 'Link', 'Addresses', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, nics.map((n) => h('tr', { dataset: { mac: n.mac } },
          [n.interface, n.type, n.source, n.model, n.mac, n.link, addrs[n.mac] || ''].map((v) => h('td', {}, v ?? '—')),
          h('td', { class: 'actions' },
            btn(n.link === 'down' ? 'Link up' : 'Link down', () => run('Link', () => setLink(ctx, n)), 'link'),
            btn('Remove', () => removeNic(ctx, n), 'remove')))))) : h('div', { class: 'empty' }, 'No network interfaces.'));
    } catch (e) {
      clear(body).append(h('p', { class: 'error-text', role: 'alert' }, e.message));
    }
  };
  ctx.changed.add(load);
  load();
  return {
    el: h('div', { class: 'card' },
      h('div', { class: 'toolbar' }, h('h2', {}, 'Network interfaces'), h('span', { class: 'grow' }),
        h('button', { class: 'btn btn-primary', id: 'nic-add', onclick: () => run('Add NIC', () => addNic(ctx)) }, 'Add NIC…')),
      body),
    destroy() { ctx.changed.delete(load); },
  };
}
