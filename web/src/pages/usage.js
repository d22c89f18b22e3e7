// Usage: the daemon's history of a machine's CPU, memory, disk and network
// use (GET /api/v1/domains/NAME/usage?range=hour|day|week), drawn by uPlot
// (loaded when this tab first opens). Refreshed every interval while shown.
import { h, clear, fmtKiB, fmtBytes, importRetry } from '../ui.js';
import { api, enc } from '../api.js';

const RANGES = [['hour', 'Hour'], ['day', 'Day'], ['week', 'Week']];

const CHARTS = [
  { title: 'CPU', unit: (v) => `${v.toFixed(0)} %`, series: [['cpu_pct', 'CPU %', '#0066cc']] },
  { title: 'Memory', unit: (v) => fmtKiB(v), series: [['mem_kib', 'Used', '#3e8635']] },
  { title: 'Disk I/O', unit: (v) => `${fmtBytes(v)}/s`, series: [['disk_rd_bps', 'Read', '#0066cc'], ['disk_wr_bps', 'Write', '#ec7a08']] },
  { title: 'Network', unit: (v) => `${fmtBytes(v)}/s`, series: [['net_rx_bps', 'Received', '#0066cc'], ['net_tx_bps', 'Sent', '#ec7a08']] },
];

export function usageTab(ctx) {
  let range = 'hour';
  let plots = [];
  let timer = null;
  let destroyed = false;
  const body = h('div', { class: 'charts' });
  const buttons = RANGES.map(([key, label]) => h('button', {
    class: 'btn btn-toggle', 'aria-pressed': String(key === range),
    onclick: () => {
      range = key;
      buttons.forEach((b, i) => b.setAttribute('aria-pressed', String(RANGES[i][0] === range)));
      load();
    },
  }, label));

  function emptyState(text) {
    plots.forEach((p) => p.destroy());
    plots = [];
    clear(body).append(h('div', { class: 'empty' }, text));
  }

  async function load() {
    clearTimeout(timer);
    let j;
    try {
      j = await api('GET', `/domains/${enc(ctx.name)}/usage?range=${range}`);
    } catch (e) {
      if (destroyed) return;
      if (e.status === 404 && e.code !== 'no-domain') emptyState('This daemon keeps no usage history (no usage API).');
      else emptyState(`No usage history: ${e.message}`);
      return;
    }
    if (destroyed) return;
    const pts = j.points || [];
    if (!pts.length) emptyState('No usage recorded yet: history starts when the machine runs.');
    else await draw(pts);
    timer = setTimeout(load, Math.max(5, j.interval_s || 10) * 1000);
  }

  async function draw(pts) {
    const { default: UPlot } = await importRetry(() => import('uplot'));
    if (destroyed) return;
    plots.forEach((p) => p.destroy());
    plots = [];
    clear(body);
    const t = pts.map((p) => p.t);
    body.dataset.points = String(t.length); // what the charts hold (tests read it)
    const width = Math.max(300, Math.min(body.clientWidth || 900, 1200) / 2 - 24);
    for (const c of CHARTS) {
      const box = h('div', { class: 'chart' }, h('h3', {}, c.title));
      body.append(box);
      const data = [t, ...c.series.map(([k]) => pts.map((p) => (p[k] ?? null)))];
      plots.push(new UPlot({
        width, height: 180,
        series: [{}, ...c.series.map(([, label, stroke]) => ({ label, stroke, width: 1.5, fill: `${stroke}22`, value: (u, v) => (v === null ? '—' : c.unit(v)) }))],
        axes: [{}, { values: (u, vals) => vals.map((v) => c.unit(v)), size: 80 }],
        scales: { y: { range: (u, min, max) => [0, Math.max(max, c.title === 'CPU' ? 100 : 1)] } },
        legend: { live: true },
      }, data, box));
    }
  }

  load();
  return {
    el: h('div', { class: 'card' },
      h('div', { class: 'toolbar' }, h('h2', {}, 'Usage'), h('span', { class: 'grow' }),
        h('div', { class: 'btn-group', role: 'group', 'aria-label': 'Range' }, buttons)),
      body),
    destroy() { destroyed = true; clearTimeout(timer); plots.forEach((p) => p.destroy()); },
  };
}
