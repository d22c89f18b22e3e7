// Overview: the facts `vsh dominfo` prints, kept current.
import { h, clear, run, fmtKiB } from '../ui.js';
import { api, enc } from '../api.js';

export function overviewTab(ctx) {
  const dl = h('dl', { class: 'facts' });
  const auto = h('input', {
    type: 'checkbox', id: 'ov-autostart',
    onchange: async () => {
      await run('Autostart', () => api('PUT', `/domains/${enc(ctx.name)}/autostart`, { autostart: auto.checked }));
      await run('Refresh', ctx.reload);
    },
  });
  function fill() {
    const s = ctx.summary, i = ctx.info || {};
    if (!s) return;
    const cpu = i.cpu_time_ns !== undefined ? `${(i.cpu_time_ns / 1e9).toFixed(1)}s` : '—';
    const facts = [
      ['Id', s.id >= 0 ? s.id : '-'],
      ['Name', s.name],
      ['UUID', s.uuid],
      ['Title', s.title || '—'],
      ['OS Type', i.os_type || '—'],
      ['State', s.reason ? `${s.state} (${s.reason})` : s.state],
      ['CPU(s)', i.vcpus_max && i.vcpus_max !== i.vcpus ? `${i.vcpus} of ${i.vcpus_max}` : (i.vcpus ?? '—')],
      ['CPU time', cpu],
      ['Max memory', fmtKiB(i.max_memory_kib)],
      ['Used memory', fmtKiB(i.memory_kib)],
      ['Persistent', s.persistent ? 'yes' : 'no'],
      ['Managed save', i.has_managed_save ? 'yes' : 'no'],
    ];
    clear(dl);
    for (const [k, v] of facts) dl.append(h('dt', {}, k), h('dd', {}, String(v)));
    dl.append(h('dt', {}, h('label', { for: 'ov-autostart' }, 'Autostart')), h('dd', {}, auto));
    auto.checked = !!s.autostart;
    auto.disabled = !s.persistent;
  }
  ctx.changed.add(fill);
  fill();
  return {
    el: h('div', { class: 'card' }, h('h2', {}, 'Overview'), dl),
    destroy() { ctx.changed.delete(fill); },
  };
}
