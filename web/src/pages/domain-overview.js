// Overview tab: the facts (overview.js) and the settings an administrator
// changes: vCPUs, memory (PUT .../vcpus, PUT .../memory, live and/or
// config as the API takes them), and boot order + description, which the
// API changes only through the persistent definition (PUT .../xml).
import { h, run, toast } from '../ui.js';
import { api, enc } from '../api.js';
import { overviewTab } from './overview.js';
import { dialog, field, select, scopeFields, scopeQuery, val, parseSize } from './domain-form.js';

const BOOT_DEVS = ['hd', 'cdrom', 'network', 'fd'];

async function inactiveXml(ctx) {
  const text = await api('GET', `/domains/${enc(ctx.name)}/xml?inactive=1`);
  return new DOMParser().parseFromString(text, 'application/xml');
}

async function saveXml(ctx, doc) {
  const j = await api('PUT', `/domains/${enc(ctx.name)}/xml`, new XMLSerializer().serializeToString(doc));
  for (const w of j.warnings || []) toast(w, 'warning');
  await ctx.reload();
}

function child(doc, parent, tag) {
  let el = parent.querySelector(`:scope > ${tag}`);
  if (!el) { el = doc.createElement(tag); parent.append(el); }
  return el;
}

function editVcpus(ctx) {
  const i = ctx.info || {};
  const running = ctx.summary.state === 'running';
  dialog('vCPUs', [
    field('vCPUs', 'vc-count', { type: 'number', min: 1, value: i.vcpus || 1, required: true }),
    h('label', {}, h('input', { type: 'checkbox', id: 'vc-max' }), ' set the maximum (saved definition only)'),
    scopeFields('vc', running),
  ], 'Apply', async (f) => {
    const maximum = f.querySelector('#vc-max').checked;
    const q = maximum ? '?config=1' : scopeQuery(f, 'vc');
    await api('PUT', `/domains/${enc(ctx.name)}/vcpus${q}`, { count: Number(val(f, 'vc-count')), maximum });
    await ctx.reload();
    return `vCPUs of ${ctx.name} changed.`;
  });
}

function editMemory(ctx) {
  const i = ctx.info || {};
  const running = ctx.summary.state === 'running';
  dialog('Memory', [
    field('Current memory (MiB, or 1G ...)', 'mem-cur', { value: Math.round((i.memory_kib || 0) / 1024) }),
    field('Maximum memory (saved definition)', 'mem-max', { value: Math.round((i.max_memory_kib || 0) / 1024) }),
    scopeFields('mem', running),
  ], 'Apply', async (f) => {
    const max = parseSize(val(f, 'mem-max')) / 1024;
    const cur = parseSize(val(f, 'mem-cur')) / 1024;
    if (Number.isNaN(max) || Number.isNaN(cur)) throw new Error('sizes are numbers of MiB, or like 512M, 2G');
    // The maximum first (config only: the API refuses it live), then the
    // current size, which must fit under it.
    if (max !== i.max_memory_kib) await api('PUT', `/domains/${enc(ctx.name)}/memory?config=1`, { max_kib: max });
    if (cur !== i.memory_kib || max !== i.max_memory_kib) {
      await api('PUT', `/domains/${enc(ctx.name)}/memory${scopeQuery(f, 'mem')}`, { current_kib: cur });
    }
    await ctx.reload();
    return `Memory of ${ctx.name} changed.`;
  });
}

async function editBoot(ctx) {
  const doc = await inactiveXml(ctx);
  const os = doc.querySelector('domain > os');
  const now = [...os.querySelectorAll(':scope > boot')].map((b) => b.getAttribute('dev'));
  const rows = [0, 1, 2].map((n) => select(`Boot device ${n + 1}`, `boot-${n}`, [['', '(none)'], ...BOOT_DEVS], now[n] || ''));
  const hasKernel = !!os.querySelector(':scope > kernel');
  dialog('Boot order', [
    hasKernel ? h('p', { class: 'muted' }, 'This machine boots a kernel directly: the boot order applies only without it.') : null,
    rows,
    h('p', { class: 'muted' }, 'Saved in the definition: used at the next start.'),
  ], 'Save', async (f) => {
    for (const b of os.querySelectorAll(':scope > boot')) b.remove();
    const devs = [0, 1, 2].map((n) => val(f, `boot-${n}`)).filter(Boolean);
    for (const d of new Set(devs)) {
      const b = doc.createElement('boot');
      b.setAttribute('dev', d);
      os.append(b);
    }
    await saveXml(ctx, doc);
    return `Boot order of ${ctx.name} saved.`;
  });
}

async function editDescription(ctx) {
  const doc = await inactiveXml(ctx);
  const dom = doc.documentElement;
  const desc = dom.querySelector(':scope > description');
  const title = dom.querySelector(':scope > title');
  dialog('Description', [
    field('Title', 'desc-title', { value: title ? title.textContent : '' }),
    field('Description', 'desc-text', { rows: 4 }, 'textarea'),
  ], 'Save', async (f) => {
    for (const [tag, text] of [['title', val(f, 'desc-title')], ['description', f.querySelector('#desc-text').value]]) {
      const old = dom.querySelector(`:scope > ${tag}`);
      if (!text) { if (old) old.remove(); continue; }
      child(doc, dom, tag).textContent = text;
    }
    await saveXml(ctx, doc);
    return `Description of ${ctx.name} saved.`;
  });
  document.getElementById('desc-text').value = desc ? desc.textContent : '';
}

export function domainOverviewTab(ctx) {
  const facts = overviewTab(ctx);
  const btn = (id, label, fn) => h('button', { class: 'btn btn-secondary', id, onclick: () => run(label, () => fn(ctx)) }, label);
  const edits = h('div', { class: 'card' }, h('h2', {}, 'Settings'),
    h('div', { class: 'toolbar' },
      btn('ov-edit-vcpus', 'vCPUs…', editVcpus), btn('ov-edit-memory', 'Memory…', editMemory),
      btn('ov-edit-boot', 'Boot order…', editBoot), btn('ov-edit-desc', 'Description…', editDescription)));
  return { el: h('div', {}, facts.el, edits), destroy: facts.destroy };
}
