// Small helpers shared by the details tabs that change things and Create VM:
// a modal dialog, labelled fields, the scope (live/config) choice, XML text.
import { h, toast } from '../ui.js';

// A modal <dialog> with a form: fields, then OK/Cancel. onOk(form) runs the
// change; an error (the API's message) is shown inside the dialog and the
// dialog stays open so the user can fix the input.
export function dialog(title, fields, okLabel, onOk) {
  const err = h('p', { class: 'error-text', role: 'alert', hidden: true });
  const ok = h('button', { class: 'btn btn-primary', type: 'submit', dataset: { ok: '1' } }, okLabel);
  const form = h('form', { method: 'dialog', class: 'dialog-form' },
    h('h2', {}, title), fields, err,
    h('div', { class: 'toolbar' }, h('span', { class: 'grow' }),
      h('button', { class: 'btn btn-secondary', type: 'button', onclick: () => close() }, 'Cancel'), ok));
  const dlg = h('dialog', { class: 'modal', 'aria-label': title }, form);
  function close() { dlg.close(); dlg.remove(); }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    ok.disabled = true;
    try {
      const msg = await onOk(form);
      close();
      if (msg) toast(msg);
    } catch (x) {
      if (x && x.status === 401) { close(); return; }
      err.textContent = x && x.message ? x.message : String(x);
      err.hidden = false;
    } finally {
      ok.disabled = false;
    }
  });
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

// A labelled input: field('Name', 'clone-name', {value: 'x'}) -> <label><span>Name</span><input></label>.
export function field(label, id, attrs = {}, tag = 'input') {
  return h('label', { class: 'field', for: id }, h('span', {}, label), h(tag, { id, name: id, ...attrs }));
}

export function select(label, id, options, value) {
  const s = h('select', { id, name: id },
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o];
      return h('option', { value: v, selected: v === value }, text);
    }));
  return h('label', { class: 'field', for: id }, h('span', {}, label), s);
}

// Live/config checkboxes with virsh's defaults for the domain's state:
// running -> both, shut off -> config only (live would be refused).
export function scopeFields(prefix, running) {
  return h('fieldset', { class: 'scope' }, h('legend', {}, 'Apply'),
    h('label', {}, h('input', { type: 'checkbox', id: `${prefix}-live`, checked: running, disabled: !running }), ' to the running guest'),
    h('label', {}, h('input', { type: 'checkbox', id: `${prefix}-config`, checked: true }), ' to the saved definition'));
}

// '?live=1&config=1' from scopeFields' boxes (neither: '' = current).
export function scopeQuery(form, prefix) {
  const q = [];
  if (form.querySelector(`#${prefix}-live`)?.checked) q.push('live=1');
  if (form.querySelector(`#${prefix}-config`)?.checked) q.push('config=1');
  return q.length ? `?${q.join('&')}` : '';
}

export const val = (form, id) => form.querySelector(`#${id}`).value.trim();

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
export const xmlEsc = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);

// "2G", "512M", "1024" (MiB) -> bytes; NaN when unreadable.
export function parseSize(text, unitDefault = 'M') {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$/i.exec(text);
  if (!m) return NaN;
  const pow = { K: 1, M: 2, G: 3, T: 4 }[(m[2] || unitDefault).toUpperCase()];
  return Math.round(Number(m[1]) * 1024 ** pow);
}
