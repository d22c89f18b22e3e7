// Task log: the daemon's long operations (GET /v1/tasks: volume creates,
// clones, uploads ...; domain saves, snapshots, migrations ...), newest
// first, with their progress, current step and result; a task the daemon
// marks "cancellable" (domain jobs domjobabort may abort, image builds,
// uploads) has a Cancel button (POST /v1/tasks/ID/cancel); others have
// none. Refreshed on the event stream's job events, and every 2 s while
// something runs (progress).
import { h, clear, run } from '../ui.js';
import { api, enc } from '../api.js';
import * as events from '../events.js';

export function tasksPage() {
  const rows = h('tbody');
  let timer = null;
  const el = h('div', { class: 'page-tasks' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Task log')),
    h('section', { class: 'card' }, h('table', { class: 'table', id: 'tasks' },
      h('thead', {}, h('tr', {}, ['Started', 'Operation', 'Object', 'Progress', 'Result', 'Time', ''].map((t) => h('th', {}, t)))), rows)));

  async function load() {
    clearTimeout(timer); timer = null;
    const t = await run('Task log', () => api('GET', '/tasks'));
    if (!t) return;
    clear(rows);
    for (const x of t.tasks) {
      const obj = h('td', {}, x.target === 'domain' ? h('a', { href: `#/vm/${enc(x.domain)}` }, x.domain) : `${x.pool ? `${x.pool}/` : ''}${x.volume}`);
      if (x.detail) obj.append(h('div', { class: 'muted task-detail' }, x.detail));
      const prog = h('td', {});
      if (x.progress !== undefined) prog.append(h('progress', { max: '100', value: String(x.progress) }), ` ${x.progress} %`);
      else if (x.state === 'running' && x.target === 'domain') {
        api('GET', `/domains/${enc(x.domain)}/job`).then((j) => {
          if (j.data_total) prog.append(h('progress', { max: '100', value: String((100 * j.data_processed) / j.data_total) }), ` ${Math.floor((100 * j.data_processed) / j.data_total)} %`);
        }, () => {});
      }
      rows.append(h('tr', { dataset: { id: x.id, operation: x.operation, state: x.state, object: x.volume || x.domain } },
        h('td', {}, new Date(x.started_at).toLocaleString()), h('td', {}, `${x.target} ${x.operation}`), obj, prog,
        h('td', { class: `task-${x.state}`, title: x.message || '' }, x.message ? `${x.state}: ${x.message}` : x.state),
        h('td', {}, `${x.elapsed.toFixed(1)} s`),
        h('td', {}, x.state === 'running' && x.cancellable
          ? h('button', { class: 'btn btn-secondary task-cancel', onclick: async (e) => { e.target.disabled = true; await run(`Cancel ${x.operation} of ${x.volume || x.domain}`, () => api('POST', `/tasks/${x.id}/cancel`)); load(); } }, 'Cancel')
          : null)));
    }
    if (!t.tasks.length) rows.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No long operations since the daemon started.')));
    if (t.tasks.some((x) => x.state === 'running')) timer = setTimeout(load, 2000);
  }
  load();
  const off = events.subscribe((ev) => { if (ev.kind === 'job' || ev.kind === 'poll') load(); });
  return { el, destroy() { off(); clearTimeout(timer); } };
}
