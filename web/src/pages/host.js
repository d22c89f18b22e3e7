// Host: CPU, memory, KVM (the daemon's probe: does KVM really run guests,
// and why not), QEMU, storage pools with their use, networks with leases.
import { h, clear, run, fmtKiB } from '../ui.js';
import { api, enc } from '../api.js';
import * as events from '../events.js';
import { usageBar } from './storage.js';

const KVM_TEXT = {
  usable: 'KVM works: guests run with hardware acceleration.',
  slow: 'KVM answers but runs a test guest too slowly to be real hardware acceleration (nested or emulated): use type \'qemu\' (TCG) guests or fix the host.',
  absent: 'No /dev/kvm on this host: guests run under TCG (software emulation), many times slower.',
  'no-access': 'The daemon may not open /dev/kvm: guests run under TCG until it can.',
  broken: 'KVM is there but a test guest failed to run under it: guests run under TCG.',
};

export function hostPage() {
  const facts = h('dl', { class: 'facts', id: 'host-facts' });
  const kvm = h('div', { id: 'kvm-verdict', class: 'kvm-verdict' }, 'Probing…');
  const pools = h('tbody', { id: 'host-pools' });
  const nets = h('tbody', { id: 'host-nets' });
  const el = h('div', { class: 'page-host' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Host')),
    h('div', { class: 'grid2' },
      h('section', { class: 'card' }, h('h2', {}, 'System'), facts),
      h('section', { class: 'card' }, h('h2', {}, 'KVM'), kvm)),
    h('section', { class: 'card' }, h('h2', {}, h('a', { href: '#/storage' }, 'Storage pools')),
      h('table', { class: 'table' }, h('thead', {}, h('tr', {}, ['Name', 'State', 'Target', 'Usage'].map((t) => h('th', {}, t)))), pools)),
    h('section', { class: 'card' }, h('h2', {}, h('a', { href: '#/networks' }, 'Networks')),
      h('table', { class: 'table' }, h('thead', {}, h('tr', {}, ['Name', 'State', 'Mode', 'Addresses', 'Leases'].map((t) => h('th', {}, t)))), nets)));

  function load() { return Promise.all([loadHost(), loadPools(), loadNets()]); }

  async function loadHost() {
    const host = await run('Host', () => api('GET', '/host'));
    if (host) {
      const mem = host.memory || {};
      const q = host.qemu || {};
      const rows = [
        ['Host name', host.hostname],
        ['CPUs', host.cpu ? `${host.cpu.count}${host.cpu.model ? ` × ${host.cpu.model}` : ''}` : '—'],
        ['Memory', mem.total_kib ? `${fmtKiB(mem.available_kib)} available of ${fmtKiB(mem.total_kib)}` : '—'],
        ['QEMU', q.version ? `${q.version} (${q.binary})` : `${q.binary || '—'}: ${q.error || ''}`],
        ['Default pool', host.default_pool_target],
      ];
      clear(facts);
      for (const [k, v] of rows) facts.append(h('dt', {}, k), h('dd', {}, String(v ?? '—')));
      const k = host.kvm || {};
      clear(kvm).append(
        h('p', { class: `kvm-status kvm-${k.status}` }, h('strong', {}, `KVM: ${k.status || 'unknown'}. `),
          KVM_TEXT[k.status] || ''),
        k.detail ? h('p', { class: 'kvm-detail' }, k.detail) : null,
        k.iterations_per_sec ? h('p', { class: 'muted' }, `Probe: ${Math.round(k.iterations_per_sec).toLocaleString()} iterations/s in a test guest.`) : null);
    }
  }

  async function loadPools() {
    const p = await run('Storage pools', () => api('GET', '/pools?all=1'));
    if (p) {
      clear(pools);
      for (const x of p.pools) {
        pools.append(h('tr', { dataset: { name: x.name } }, h('td', {}, x.name), h('td', {}, x.state), h('td', {}, x.target || '—'),
          h('td', {}, x.state === 'running' ? usageBar(x.allocation, x.capacity) : '—')));
      }
      if (!p.pools.length) pools.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No pools.')));
    }
  }

  async function loadNets() {
    const n = await run('Networks', () => api('GET', '/networks?all=1'));
    if (n) {
      clear(nets);
      for (const x of n.networks) {
        const leases = h('td', {}, x.active ? '…' : '—');
        nets.append(h('tr', { dataset: { name: x.name } }, h('td', {}, x.name), h('td', {}, x.active ? 'active' : 'inactive'),
          h('td', {}, x.forward === 'none' ? 'isolated' : x.forward), h('td', {}, (x.ips || []).join(', ') || '—'), leases));
        if (x.active) {
          api('GET', `/networks/${enc(x.name)}/leases`).then((l) => {
            clear(leases).append(l.leases.length ? l.leases.map((e) => h('div', {}, `${e.ip} ${e.mac}${e.hostname ? ` (${e.hostname})` : ''}`)) : 'none');
          }, (e) => { clear(leases).append(h('span', { class: 'error-text' }, e.message)); });
        }
      }
      if (!n.networks.length) nets.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No networks.')));
    }
  }
  load();
  const off = events.subscribe((ev) => {
    if (ev.kind === 'net-lifecycle') loadNets();
    else if (ev.kind === 'poll') load();
  });
  return { el, destroy: off };
}

