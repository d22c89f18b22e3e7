// The VM list: every domain (GET /v1/domains?all=1), vCPUs and memory from
// one GET /v1/domain-stats, IP addresses of the running ones that are on
// screen. Only the rows in view exist in the DOM (a virtualised list), so a
// host with thousands of domains scrolls and filters as fast as one with ten.
import { h, clear, run, toast, fmtKiB, stateBadge, pool } from '../ui.js';
import { api, enc } from '../api.js';
import * as events from '../events.js';

const ROW_H = 44; // px; must match .vlist-row in style.css
const OVERSCAN = 8;

const COLUMNS = [
  { key: 'name', label: 'Name', cls: 'c-name' },
  { key: 'state', label: 'State', cls: 'c-state' },
  { key: 'vcpus', label: 'vCPUs', cls: 'c-num' },
  { key: 'memory', label: 'Memory', cls: 'c-num' },
  { key: 'cpu', label: 'CPU', cls: 'c-spark' },
  { key: 'rss', label: 'Memory use', cls: 'c-spark' },
  { key: 'ips', label: 'IP addresses', cls: 'c-ips', nosort: true },
];

// Usage history of running domains for the sparklines, kept across visits
// of the page: name -> {t: [...], cpu: [...], rss: [...]} (last SPARK points).
const SPARK = 30;
const history = new Map();
let usageMissing = false; // the daemon has no usage API (404): no sparklines

function remember(name, p) {
  let hist = history.get(name);
  if (!hist) { hist = { t: [], cpu: [], rss: [] }; history.set(name, hist); }
  // In time order, once each (a seed of older points may come after the latest).
  let i = hist.t.length;
  while (i > 0 && hist.t[i - 1] > p.t) i--;
  if (i > 0 && hist.t[i - 1] === p.t) return;
  hist.t.splice(i, 0, p.t); hist.cpu.splice(i, 0, p.cpu_pct ?? 0); hist.rss.splice(i, 0, p.mem_kib ?? 0);
  if (hist.t.length > SPARK) { hist.t.shift(); hist.cpu.shift(); hist.rss.shift(); }
}

const SVG = 'http://www.w3.org/2000/svg';
function sparkline(values, max, label) {
  const w = 64, hgt = 18;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', w); svg.setAttribute('height', hgt);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  if (values.length > 1) {
    const top = Math.max(max, ...values) || 1;
    // Newest at the right edge; a young history fills in from the right.
    const x = (i) => w - ((values.length - 1 - i) / (SPARK - 1)) * w;
    const pts = values.map((v, i) => `${x(i).toFixed(1)},${(hgt - 1 - (v / top) * (hgt - 2)).toFixed(1)}`);
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', pts.join(' '));
    svg.append(line);
  }
  return svg;
}

const STATE_ORDER = { running: 0, paused: 1, 'in shutdown': 2, pmsuspended: 3, crashed: 4, 'shut off': 5 };

export function listPage() {
  const rows = new Map(); // name -> {summary, vcpus, memory, ips, ipsAt}
  let view = []; // the rows shown, filtered and sorted
  const selected = new Set();
  let sortKey = 'name';
  let sortDir = 1;
  let filterText = '';
  let stateFilter = 'all';
  let destroyed = false;

  const filter = h('input', {
    type: 'search', class: 'filter', placeholder: 'Filter by name', 'aria-label': 'Filter by name',
    oninput: () => { filterText = filter.value.trim().toLowerCase(); refresh(); },
  });
  const stateSel = h('select', { 'aria-label': 'Filter by state', onchange: () => { stateFilter = stateSel.value; refresh(); } },
    h('option', { value: 'all' }, 'All states'),
    h('option', { value: 'running' }, 'Running'),
    h('option', { value: 'shut off' }, 'Shut off'),
    h('option', { value: 'other' }, 'Other'));
  const count = h('span', { class: 'count', 'aria-live': 'polite' });
  const btnStart = h('button', { class: 'btn btn-secondary', disabled: true, onclick: () => bulk('start') }, 'Start');
  const btnShutdown = h('button', { class: 'btn btn-secondary', disabled: true, onclick: () => bulk('shutdown') }, 'Shut down');

  const selectAll = h('input', {
    type: 'checkbox', 'aria-label': 'Select all shown',
    onchange: () => {
      if (selectAll.checked) view.forEach((r) => selected.add(r.summary.name));
      else selected.clear();
      render(true);
    },
  });
  const headCells = COLUMNS.map((c) => {
    const cell = h('div', { class: `vlist-cell ${c.cls}`, role: 'columnheader' });
    if (c.nosort) cell.append(c.label);
    else {
      cell.append(h('button', {
        class: 'sort', onclick: () => {
          if (sortKey === c.key) sortDir = -sortDir; else { sortKey = c.key; sortDir = 1; }
          refresh();
        },
      }, c.label, h('span', { class: 'sort-ind', 'aria-hidden': 'true' })));
    }
    return cell;
  });
  const head = h('div', { class: 'vlist-head', role: 'row' },
    h('div', { class: 'vlist-cell c-check', role: 'columnheader' }, selectAll), headCells);
  const spacer = h('div', { class: 'vlist-spacer' });
  const body = h('div', { class: 'vlist-body', role: 'rowgroup' });
  const scroller = h('div', { class: 'vlist-scroll', tabindex: '-1' }, spacer, body);
  const empty = h('div', { class: 'empty', hidden: true });
  const table = h('div', { class: 'vlist', role: 'table', 'aria-label': 'Virtual machines' },
    h('div', { role: 'rowgroup' }, head), scroller);

  const el = h('section', { class: 'page page-list' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Virtual machines'), count),
    h('div', { class: 'toolbar' }, filter, stateSel, h('span', { class: 'grow' }), btnStart, btnShutdown,
      h('a', { class: 'btn btn-primary', href: '#/create', id: 'create-vm' }, 'Create VM')),
    h('div', { class: 'card card-flush' }, table, empty));

  function value(r, key) {
    switch (key) {
      case 'state': return STATE_ORDER[r.summary.state] ?? 9;
      case 'vcpus': return r.vcpus ?? -1;
      case 'memory': return r.memory ?? -1;
      case 'cpu': { const hh = history.get(r.summary.name); return hh && hh.cpu.length ? hh.cpu[hh.cpu.length - 1] : -1; }
      case 'rss': { const hh = history.get(r.summary.name); return hh && hh.rss.length ? hh.rss[hh.rss.length - 1] : -1; }
      default: return r.summary.name;
    }
  }

  function refresh() {
    const all = [...rows.values()];
    view = all.filter((r) => {
      const s = r.summary;
      if (filterText && !s.name.toLowerCase().includes(filterText) &&
          !(s.title || '').toLowerCase().includes(filterText)) return false;
      if (stateFilter === 'all') return true;
      if (stateFilter === 'other') return s.state !== 'running' && s.state !== 'shut off';
      return s.state === stateFilter;
    });
    const coll = new Intl.Collator(undefined, { numeric: true });
    view.sort((a, b) => {
      const va = value(a, sortKey), vb = value(b, sortKey);
      const c = typeof va === 'string' ? coll.compare(va, vb) : va - vb;
      return (c || coll.compare(a.summary.name, b.summary.name)) * sortDir;
    });
    for (const [i, c] of COLUMNS.entries()) {
      headCells[i].setAttribute('aria-sort', c.key === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
      const ind = headCells[i].querySelector('.sort-ind');
      if (ind) ind.textContent = c.key === sortKey ? (sortDir > 0 ? ' ▲' : ' ▼') : '';
    }
    table.setAttribute('aria-rowcount', String(view.length + 1));
    count.textContent = `${view.length} of ${rows.size}`;
    empty.hidden = view.length > 0;
    empty.textContent = rows.size ? 'No virtual machine matches the filter.' : 'No virtual machines are defined.';
    spacer.style.height = `${view.length * ROW_H}px`;
    render(true);
  }

  let shownFrom = -1, shownTo = -1;
  function render(force) {
    const top = scroller.scrollTop;
    const height = scroller.clientHeight || 600;
    const from = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const to = Math.min(view.length, Math.ceil((top + height) / ROW_H) + OVERSCAN);
    if (!force && from === shownFrom && to === shownTo) return;
    shownFrom = from; shownTo = to;
    const frag = document.createDocumentFragment();
    for (let i = from; i < to; i++) frag.append(rowEl(view[i], i));
    clear(body).append(frag);
    body.style.transform = `translateY(${from * ROW_H}px)`;
    btnStart.disabled = btnShutdown.disabled = !view.some((r) => selected.has(r.summary.name));
    selectAll.checked = view.length > 0 && view.every((r) => selected.has(r.summary.name));
    loadIps(view.slice(from, to));
    seedUsage(view.slice(from, to));
  }

  function rowEl(r, i) {
    const s = r.summary;
    const href = `#/vm/${enc(s.name)}`;
    const check = h('input', {
      type: 'checkbox', 'aria-label': `Select ${s.name}`, checked: selected.has(s.name),
      onchange: (e) => { e.stopPropagation(); if (check.checked) selected.add(s.name); else selected.delete(s.name); render(true); },
    });
    return h('div', {
      class: 'vlist-row', role: 'row', 'aria-rowindex': String(i + 2), dataset: { name: s.name },
      onclick: (e) => { if (e.target.closest('input, a')) return; location.hash = href; },
    },
    h('div', { class: 'vlist-cell c-check', role: 'cell' }, check),
    h('div', { class: 'vlist-cell c-name', role: 'cell' }, h('a', { href }, s.name),
      s.title ? h('span', { class: 'title' }, s.title) : null),
    h('div', { class: 'vlist-cell c-state', role: 'cell' }, stateBadge(s.state)),
    h('div', { class: 'vlist-cell c-num', role: 'cell' }, r.vcpus ?? '—'),
    h('div', { class: 'vlist-cell c-num', role: 'cell' }, r.memory !== undefined ? fmtKiB(r.memory) : '—'),
    sparkCell(s, 'cpu', (v) => `${Math.round(v)} %`, 100),
    sparkCell(s, 'rss', fmtKiB, r.memory || 0),
    h('div', { class: 'vlist-cell c-ips', role: 'cell' }, s.state === 'running' ? (r.ips || []).join(', ') : ''));
  }

  function sparkCell(s, key, fmt, max) {
    const hist = s.state === 'running' || s.state === 'paused' ? history.get(s.name) : null;
    if (!hist || !hist.t.length) return h('div', { class: 'vlist-cell c-spark', role: 'cell' });
    const v = hist[key][hist[key].length - 1];
    return h('div', { class: 'vlist-cell c-spark', role: 'cell' },
      sparkline(hist[key], max, `${key === 'cpu' ? 'CPU' : 'Memory use'} over the last ${hist.t.length} samples`),
      h('span', { class: 'spark-val' }, fmt(v)));
  }

  // The latest point of every running domain (GET /v1/usage), every interval.
  let usageTimer = null;
  async function loadUsage() {
    if (usageMissing || destroyed) return;
    let j;
    try {
      j = await api('GET', '/usage');
    } catch (e) {
      if (e.status === 404 && e.code !== 'no-domain') { usageMissing = true; console.info('virtd: no usage API (GET /api/v1/usage: 404): no sparklines'); }
      return;
    } finally {
      if (!usageMissing && !destroyed) usageTimer = setTimeout(loadUsage, 10000);
    }
    for (const p of j.domains || []) remember(p.name, p);
    if (!destroyed) render(true);
  }
  // A row's first sparkline: its last SPARK points of the hour's history.
  const seeded = new Set();
  async function seedUsage(visible) {
    if (usageMissing) return;
    const todo = visible.filter((r) => r.summary.state === 'running' && !seeded.has(r.summary.name) &&
      !(history.get(r.summary.name)?.t.length > 1));
    if (!todo.length) return;
    todo.forEach((r) => seeded.add(r.summary.name));
    await pool(todo, 4, async (r) => {
      const j = await api('GET', `/domains/${enc(r.summary.name)}/usage?range=hour`);
      for (const p of (j.points || []).slice(-SPARK)) remember(r.summary.name, p);
    });
    if (!destroyed) render(true);
  }

  let ipBusy = false;
  async function loadIps(visible) {
    if (ipBusy) return;
    const now = Date.now();
    const todo = visible.filter((r) => r.summary.state === 'running' && !(r.ipsAt > now - 30000));
    if (!todo.length) return;
    ipBusy = true;
    todo.forEach((r) => { r.ipsAt = now; });
    await pool(todo, 4, async (r) => {
      const j = await api('GET', `/domains/${enc(r.summary.name)}/interfaces/addresses`);
      r.ips = (j.interfaces || []).flatMap((i) => (i.addrs || []).map((a) => a.addr));
    });
    ipBusy = false;
    if (!destroyed) render(true);
  }

  async function load() {
    const j = await api('GET', '/domains?all=1');
    const seen = new Set();
    for (const s of j.domains || []) {
      seen.add(s.name);
      const r = rows.get(s.name);
      if (r) r.summary = s; else rows.set(s.name, { summary: s });
    }
    for (const name of [...rows.keys()]) if (!seen.has(name)) { rows.delete(name); selected.delete(name); }
    refresh();
    loadStats();
  }

  async function loadStats() {
    try {
      const j = await api('GET', '/domain-stats?groups=state,vcpu,balloon');
      for (const d of j.domains || []) {
        const r = rows.get(d.name);
        if (!r) continue;
        r.vcpus = d.stats['vcpu.current'];
        r.memory = d.stats['balloon.maximum'] ?? d.stats['balloon.current'];
      }
      if (!destroyed) refresh();
    } catch (e) {
      console.warn('virtd: domain-stats failed', e);
    }
  }

  async function reloadOne(name) {
    try {
      const j = await api('GET', `/domains/${enc(name)}`);
      const r = rows.get(name) || { summary: j.domain };
      r.summary = j.domain;
      if (j.info) { r.vcpus = j.info.vcpus; r.memory = j.info.max_memory_kib; }
      r.ipsAt = 0;
      rows.set(name, r);
    } catch (e) {
      if (e.code === 'no-domain') rows.delete(name); else throw e;
    }
    if (!destroyed) refresh();
  }

  async function bulk(action) {
    const want = action === 'start' ? (s) => s.state === 'shut off' || s.state === 'crashed'
      : (s) => s.state === 'running' || s.state === 'paused';
    // The selected rows the filter shows: what the user sees is what is acted on.
    const names = view.filter((r) => selected.has(r.summary.name) && want(r.summary)).map((r) => r.summary.name);
    if (!names.length) { toast(`None of the selected machines can ${action === 'start' ? 'start' : 'shut down'}.`); return; }
    const res = await pool(names, 4, (n) => api('POST', `/domains/${enc(n)}/${action}`));
    const failed = res.map((r, i) => [r, names[i]]).filter(([r]) => !r.ok);
    for (const [r, n] of failed) toast(`${n}: ${r.error.message}`, 'error');
    toast(`${action === 'start' ? 'Started' : 'Shutdown sent to'} ${names.length - failed.length} of ${names.length}.`);
    await run('Reload', load);
  }

  let pending = null;
  const unsub = events.subscribe((ev) => {
    if (ev.kind === 'poll' || ev.kind === 'reconnect') { run('Reload', load); return; }
    if (!ev.domain) return;
    if (ev.kind === 'defined' || ev.kind === 'undefined' || ev.event === 'Defined' || ev.event === 'Renamed' ||
        ev.event === 'Undefined' || !rows.has(ev.domain)) {
      clearTimeout(pending); // many at once (a script defining 1,000): one reload
      pending = setTimeout(() => run('Reload', load), 300);
    } else {
      run('Reload', () => reloadOne(ev.domain));
    }
  });

  let raf = 0;
  scroller.addEventListener('scroll', () => {
    if (!raf) raf = requestAnimationFrame(() => { raf = 0; render(false); });
  });
  const ro = new ResizeObserver(() => render(false));
  ro.observe(scroller);

  run('List virtual machines', load);
  loadUsage();
  return {
    el,
    destroy() { destroyed = true; unsub(); ro.disconnect(); clearTimeout(pending); clearTimeout(usageTimer); },
  };
}
