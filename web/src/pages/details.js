// A VM's details: a header with its state and power actions, and tabs.
import { h, clear, run, toast, stateBadge } from '../ui.js';
import { api, enc } from '../api.js';
import * as events from '../events.js';
import { domainOverviewTab } from './domain-overview.js';
import { usageTab } from './usage.js';
import { consoleTab } from './console.js';
import { xmlTab } from './devices.js';
import { domainDisksTab } from './domain-disks.js';
import { domainNicsTab } from './domain-nics.js';
import { domainSnapshotsTab } from './domain-snapshots.js';
import { actionButtons } from './domain-actions.js';

const TABS = [
  ['overview', 'Overview', domainOverviewTab],
  ['usage', 'Usage', usageTab],
  ['console', 'Console', consoleTab],
  ['disks', 'Disks', domainDisksTab],
  ['nics', 'NICs', domainNicsTab],
  ['snapshots', 'Snapshots', domainSnapshotsTab],
  ['xml', 'XML', xmlTab],
];

// Which action each state allows (virsh refuses the others with invalid-state).
const ACTIONS = [
  ['start', 'Start', 'btn-primary', (s) => s === 'shut off' || s === 'crashed'],
  ['shutdown', 'Shut down', 'btn-secondary', (s) => s === 'running' || s === 'in shutdown'],
  ['destroy', 'Force off', 'btn-danger', (s) => s !== 'shut off'],
  ['suspend', 'Pause', 'btn-secondary', (s) => s === 'running'],
  ['resume', 'Resume', 'btn-secondary', (s) => s === 'paused' || s === 'pmsuspended'],
];

export function detailsPage(name, initialTab, go) {
  // Shared by the tabs: the latest GET /v1/domains/NAME and who wants to know.
  const ctx = {
    name,
    summary: null,
    info: null,
    changed: new Set(),
    async reload() {
      const j = await api('GET', `/domains/${enc(name)}`);
      ctx.summary = j.domain;
      ctx.info = j.info;
      updateHead();
      for (const fn of ctx.changed) fn();
      return j;
    },
  };

  const badge = h('span');
  const buttons = ACTIONS.map(([action, label, cls, allowed]) => {
    const b = h('button', {
      class: `btn ${cls}`, dataset: { action }, disabled: true,
      onclick: async () => {
        buttons.forEach((x) => { x.disabled = true; });
        await run(label, () => api('POST', `/domains/${enc(name)}/${action}`));
        await run('Refresh', ctx.reload);
      },
    }, label);
    b.allowed = allowed;
    return b;
  });
  function updateHead() {
    const st = ctx.summary ? ctx.summary.state : null;
    clear(badge).append(stateBadge(st));
    badge.firstChild.id = 'vm-state';
    for (const b of buttons) b.disabled = !st || !b.allowed(st);
  }

  const tabBtns = new Map();
  const panel = h('div', { class: 'tabpanel', role: 'tabpanel', tabindex: '0' });
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Details' },
    TABS.map(([key, label]) => {
      const b = h('a', { role: 'tab', id: `tab-${key}`, href: `#/vm/${enc(name)}/${key}`, 'aria-controls': 'vm-tabpanel' }, label);
      tabBtns.set(key, b);
      return b;
    }));
  panel.id = 'vm-tabpanel';

  const el = h('section', { class: 'page page-details' },
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, 'Virtual machines'), ' › ', name),
    h('div', { class: 'page-head' }, h('h1', {}, name), badge, h('span', { class: 'grow' }), buttons, actionButtons(ctx, go || ((hash) => { location.hash = hash; }))),
    tablist, panel);

  let tab = null;
  let tabKey = null;
  function setTab(key) {
    if (!TABS.some(([k]) => k === key)) key = 'overview';
    if (key === tabKey) return;
    if (tab && tab.destroy) tab.destroy();
    tabKey = key;
    for (const [k, b] of tabBtns) {
      b.setAttribute('aria-selected', String(k === key));
      b.classList.toggle('active', k === key);
    }
    panel.setAttribute('aria-labelledby', `tab-${key}`);
    const make = TABS.find(([k]) => k === key)[2];
    tab = make(ctx);
    clear(panel).append(tab.el);
  }

  const unsub = events.subscribe((ev) => {
    if (ctx.deleting) return; // being deleted from this page (domain-actions.js)
    if (ev.kind === 'poll' || ev.kind === 'reconnect' || (ev.domain === name)) {
      ctx.reload().catch((e) => {
        if (e.code === 'no-domain') toast(`${name} no longer exists.`, 'error');
      });
    }
  });

  setTab(initialTab);
  run(`Load ${name}`, ctx.reload);
  return {
    el,
    name,
    setTab,
    destroy() { unsub(); if (tab && tab.destroy) tab.destroy(); },
  };
}
export { createPage } from './create.js';
