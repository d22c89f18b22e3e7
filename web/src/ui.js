// Tiny DOM helpers: h() builds elements, toast() tells the user something.

// h('button', {class: 'btn', onclick: fn, disabled: true}, 'Start') -> <button>.
// Attributes: on* are listeners, `class`, `style` (string), boolean values set
// or drop the attribute, anything else becomes an attribute. Children may be
// strings, nodes, arrays, null/false (skipped).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// A message at the bottom right; errors stay until dismissed.
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const t = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'toast-text' }, message),
    h('button', { class: 'toast-close', 'aria-label': 'Dismiss', onclick: () => t.remove() }, '×'));
  box.append(t);
  if (kind !== 'error') setTimeout(() => t.remove(), 5000);
  return t;
}

// Runs an async action, showing the API's error message if it fails.
export async function run(what, fn) {
  try {
    return await fn();
  } catch (e) {
    if (e && e.status === 401) return undefined; // the router is back on the login page
    toast(`${what}: ${e && e.message ? e.message : e}`, 'error');
    return undefined;
  }
}

export function fmtKiB(kib) {
  if (kib === undefined || kib === null || Number.isNaN(kib)) return '—';
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = kib, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 10 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function fmtBytes(b) {
  return b === undefined || b === null ? '—' : (b < 1024 ? `${b} B` : fmtKiB(b / 1024));
}

// virsh state string -> a short CSS class for its badge.
export function stateClass(state) {
  switch (state) {
    case 'running': return 'st-running';
    case 'paused': case 'pmsuspended': return 'st-paused';
    case 'crashed': return 'st-crashed';
    case 'in shutdown': return 'st-transition';
    default: return 'st-off';
  }
}

export function stateBadge(state) {
  return h('span', { class: `badge ${stateClass(state)}` }, state || 'unknown');
}

// Runs fn over items, at most `limit` at once; resolves to the results in order.
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try { out[i] = { ok: true, value: await fn(items[i]) }; } catch (e) { out[i] = { ok: false, error: e }; }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// import() of a chunk, tried three times: a load cut by a network change
// (Chromium's ERR_NETWORK_CHANGED when the host's interfaces change) or a
// flaky link should not leave a page that never opens.
export async function importRetry(load) {
  for (let i = 0; ; i++) {
    try {
      return await load();
    } catch (e) {
      if (i >= 2) throw e;
      await sleep(300 * (i + 1));
    }
  }
}
