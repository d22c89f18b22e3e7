// Networks: create (NAT, isolated, routed, bridged: a small form that
// writes the network XML), start, stop, autostart, delete; per network its
// DHCP leases and static hosts (POST .../update, section ip-dhcp-host).
import { h, clear, run, toast } from '../ui.js';
import { api, enc } from '../api.js';
import * as events from '../events.js';

const xmlEscape = (s) => String(s).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const ip2n = (ip) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const n2ip = (n) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

// The network XML the form describes (exported for a unit check by hand).
export function networkXml({ name, mode, address, prefix, dhcp, bridge }) {
  let x = `<network><name>${xmlEscape(name)}</name>`;
  if (mode === 'bridge') {
    return `${x}<forward mode='bridge'/><bridge name='${xmlEscape(bridge)}'/></network>`;
  }
  if (mode !== 'isolated') x += `<forward mode='${mode}'/>`;
  if (address) {
    const p = Number(prefix);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(address) || !(p >= 8 && p <= 30)) throw new Error('give an IPv4 address and a prefix from 8 to 30');
    x += `<ip address='${xmlEscape(address)}' prefix='${p}'>`;
    if (dhcp) {
      const size = 2 ** (32 - p);
      const net = Math.floor(ip2n(address) / size) * size;
      const a = ip2n(address);
      // The range: the addresses of the subnet above the host's own.
      const start = a + 1 < net + size - 1 ? a + 1 : net + 1;
      x += `<dhcp><range start='${n2ip(start)}' end='${n2ip(net + size - 2)}'/></dhcp>`;
    }
    x += '</ip>';
  }
  return `${x}</network>`;
}

function staticHosts(xmlText) {
  const doc = new DOMParser().parseFromString(xmlText, 'application/xml');
  return [...doc.querySelectorAll('ip > dhcp > host')].map((e) => ({
    mac: e.getAttribute('mac'), ip: e.getAttribute('ip'), name: e.getAttribute('name'),
  }));
}

export function networksPage() {
  const rows = h('tbody');
  let open = null; // the network whose leases and hosts are shown
  const detail = h('section', { class: 'card', id: 'net-detail', hidden: true });

  const f = {
    name: h('input', { id: 'net-name', placeholder: 'name', required: true }),
    mode: h('select', { id: 'net-mode' }, h('option', { value: 'nat' }, 'NAT'), h('option', { value: 'isolated' }, 'Isolated'),
      h('option', { value: 'route' }, 'Routed'), h('option', { value: 'bridge' }, 'Bridged (host bridge)')),
    address: h('input', { id: 'net-address', placeholder: '192.168.150.1' }),
    prefix: h('input', { id: 'net-prefix', type: 'number', min: '8', max: '30', value: '24', class: 'num' }),
    dhcp: h('input', { id: 'net-dhcp', type: 'checkbox', checked: true }),
    bridge: h('input', { id: 'net-bridge', placeholder: 'br0', hidden: true }),
    start: h('input', { id: 'net-start', type: 'checkbox', checked: true }),
  };
  const ipBits = h('span', {}, f.address, '/', f.prefix, h('label', {}, f.dhcp, ' DHCP'));
  f.mode.onchange = () => { const br = f.mode.value === 'bridge'; f.bridge.hidden = !br; ipBits.hidden = br; };
  const form = h('form', { class: 'inline-form', id: 'net-form', onsubmit: async (e) => {
    e.preventDefault();
    const ok = await run(`Create network ${f.name.value}`, async () => {
      const xml = networkXml({ name: f.name.value, mode: f.mode.value, address: f.address.value, prefix: f.prefix.value,
        dhcp: f.dhcp.checked, bridge: f.bridge.value });
      const r = await api('POST', '/networks', xml);
      for (const w of r.warnings || []) toast(w, 'warning');
      if (f.start.checked) await api('POST', `/networks/${enc(f.name.value)}/start`);
      return true;
    });
    if (ok) { f.name.value = ''; load(); }
  } }, h('strong', {}, 'New network'), f.name, f.mode, ipBits, f.bridge, h('label', {}, f.start, ' start'),
  h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create'));

  const el = h('div', { class: 'page-networks' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Networks')),
    h('section', { class: 'card' }, form, h('table', { class: 'table', id: 'networks' },
      h('thead', {}, h('tr', {}, ['Name', 'State', 'Mode', 'Bridge', 'Addresses', 'DHCP', 'Autostart', ''].map((t) => h('th', {}, t)))), rows)),
    detail);

  async function act(what, fn) { await run(what, fn); load(); }

  async function load() {
    const n = await run('Networks', () => api('GET', '/networks?all=1'));
    if (!n) return;
    clear(rows);
    if (open && !n.networks.some((x) => x.name === open)) open = null;
    for (const x of n.networks) {
      const auto = h('input', { type: 'checkbox', checked: !!x.autostart, disabled: !x.persistent, 'aria-label': `Autostart ${x.name}`,
        onchange: () => act(`Autostart ${x.name}`, () => api('PUT', `/networks/${enc(x.name)}/autostart`, { autostart: auto.checked })) });
      rows.append(h('tr', { dataset: { name: x.name, state: x.active ? 'active' : 'inactive' } },
        h('td', {}, h('a', { href: '#/networks', onclick: (e) => { e.preventDefault(); open = x.name; showDetail(); } }, x.name)),
        h('td', { class: 'net-state' }, x.active ? 'active' : 'inactive'),
        h('td', {}, x.forward === 'none' ? 'isolated' : x.forward), h('td', {}, x.bridge || '—'),
        h('td', {}, (x.ips || []).join(', ') || '—'), h('td', {}, x.dhcp ? 'yes' : 'no'), h('td', {}, auto),
        h('td', { class: 'actions' },
          x.active ? h('button', { class: 'btn btn-secondary', dataset: { action: 'stop' }, onclick: () => act(`Stop ${x.name}`, () => api('POST', `/networks/${enc(x.name)}/destroy`)) }, 'Stop')
            : h('button', { class: 'btn btn-secondary', dataset: { action: 'start' }, onclick: () => act(`Start ${x.name}`, () => api('POST', `/networks/${enc(x.name)}/start`)) }, 'Start'),
          h('button', { class: 'btn btn-danger', dataset: { action: 'delete' }, disabled: !x.persistent,
            onclick: () => { if (!confirm(`Delete the network ${x.name}?${x.active ? ' It stays up until stopped.' : ''}`)) return; if (open === x.name && !x.active) open = null; act(`Delete ${x.name}`, () => api('DELETE', `/networks/${enc(x.name)}`)); } }, 'Delete'))));
    }
    if (!n.networks.length) rows.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No networks.')));
    showDetail(n.networks.find((x) => x.name === open));
  }

  async function showDetail(net) {
    if (!open) { detail.hidden = true; return; }
    detail.hidden = false;
    const name = open;
    const leases = h('tbody'), hosts = h('tbody');
    const mac = h('input', { id: 'host-mac', placeholder: '52:54:00:…', required: true });
    const ip = h('input', { id: 'host-ip', placeholder: 'IPv4 address', required: true });
    const hn = h('input', { id: 'host-name', placeholder: 'host name (optional)' });
    const hostForm = h('form', { class: 'inline-form', onsubmit: async (e) => {
      e.preventDefault();
      const xml = `<host mac='${xmlEscape(mac.value)}'${hn.value ? ` name='${xmlEscape(hn.value)}'` : ''} ip='${xmlEscape(ip.value)}'/>`;
      const ok = await run('Add static host', () => update(name, 'add-last', xml));
      if (ok) showDetail(net);
    } }, h('strong', {}, 'Static host'), mac, ip, hn, h('button', { class: 'btn btn-primary', type: 'submit' }, 'Add'));
    clear(detail).append(h('h2', {}, `Network ${name}`),
      h('h3', {}, 'DHCP leases'), h('table', { class: 'table' }, h('thead', {}, h('tr', {}, ['IP', 'MAC', 'Host name', 'Expires'].map((t) => h('th', {}, t)))), leases),
      h('h3', {}, 'Static hosts'), hostForm, h('table', { class: 'table' }, h('thead', {}, h('tr', {}, ['MAC', 'IP', 'Name', ''].map((t) => h('th', {}, t)))), hosts));
    if (net && net.active) {
      const l = await api('GET', `/networks/${enc(name)}/leases`).catch((e) => {
        if (e.code !== 'no-network' && e.status !== 401) toast(`Leases: ${e.message}`, 'error');
      });
      if (l) for (const e of l.leases) leases.append(h('tr', {}, h('td', {}, `${e.ip}/${e.prefix}`), h('td', {}, e.mac), h('td', {}, e.hostname || '—'), h('td', {}, new Date(e.expiry_time * 1000).toLocaleString())));
      if (l && !l.leases.length) leases.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No leases.')));
    } else leases.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'The network is not running.')));
    let xml;
    try {
      xml = await api('GET', `/networks/${enc(name)}/xml?inactive=1`);
    } catch (e) {
      // Gone meanwhile (deleted here or elsewhere): no details to show.
      if (e.code === 'no-network') { if (open === name) { open = null; detail.hidden = true; } return; }
      if (e.status !== 401) toast(`Network XML: ${e.message}`, 'error');
      return;
    }
    if (open !== name) return;
    const list = staticHosts(xml);
    for (const s of list) {
      const del = `<host mac='${xmlEscape(s.mac || '')}'${s.name ? ` name='${xmlEscape(s.name)}'` : ''} ip='${xmlEscape(s.ip || '')}'/>`;
      hosts.append(h('tr', {}, h('td', {}, s.mac || '—'), h('td', {}, s.ip || '—'), h('td', {}, s.name || '—'),
        h('td', {}, h('button', { class: 'btn btn-link', onclick: async () => { if (await run('Remove static host', () => update(name, 'delete', del))) showDetail(net); } }, 'Remove'))));
    }
    if (!list.length) hosts.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No static hosts.')));
  }

  // Live and persistent when the network runs, else its definition only.
  async function update(name, command, xml) {
    const net = (await api('GET', `/networks/${enc(name)}`)).network;
    await api('POST', `/networks/${enc(name)}/update`, { command, section: 'ip-dhcp-host', xml, parent_index: -1, live: !!net.active, config: !!net.persistent });
    return true;
  }

  load();
  const off = events.subscribe((ev) => { if (ev.kind === 'net-lifecycle' || ev.kind === 'poll') load(); });
  return { el, destroy: off };
}
