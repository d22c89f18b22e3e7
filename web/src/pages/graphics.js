// The graphical console: noVNC (loaded when first used) through the
// daemon's WebSocket-to-VNC proxy, GET /api/v1/domains/NAME/vnc. Scaled to
// the page, full screen, detachable into its own tab, Ctrl+Alt+Del and
// other key combinations.
import { h, clear, run, importRetry } from '../ui.js';
import { api, enc, wsUrl } from '../api.js';

const KEYS = [
  // [label, [keysyms pressed in order, released in reverse]]
  ['Ctrl+Alt+Del', null],
  ['Ctrl+Alt+Backspace', [0xffe3, 0xffe9, 0xff08]],
  ['Ctrl+Alt+F1', [0xffe3, 0xffe9, 0xffbe]],
  ['Ctrl+Alt+F2', [0xffe3, 0xffe9, 0xffbf]],
  ['Alt+Tab', [0xffe9, 0xff09]],
];

export function graphicsConsole(ctx, { detached = false } = {}) {
  const status = h('span', { class: 'console-status', 'aria-live': 'polite' }, 'Connecting…');
  const screen = h('div', { class: 'vnc-screen' });
  let rfb = null;
  let destroyed = false;

  const keys = h('select', {
    'aria-label': 'Send key',
    onchange: () => {
      const k = KEYS.find(([l]) => l === keys.value);
      keys.value = '';
      if (!rfb || !k) return;
      if (!k[1]) { rfb.sendCtrlAltDel(); return; }
      k[1].forEach((s) => rfb.sendKey(s, null, true));
      [...k[1]].reverse().forEach((s) => rfb.sendKey(s, null, false));
      rfb.focus();
    },
  }, h('option', { value: '' }, 'Send key…'), KEYS.map(([l]) => h('option', { value: l }, l)));
  const scale = h('input', { type: 'checkbox', checked: true, id: 'vnc-scale', onchange: () => { if (rfb) rfb.scaleViewport = scale.checked; } });

  async function connect() {
    if (rfb) { rfb.disconnect(); rfb = null; }
    const st = ctx.summary ? ctx.summary.state : null;
    let display;
    try {
      display = await api('GET', `/domains/${enc(ctx.name)}/display`);
    } catch (e) {
      status.textContent = st && st !== 'running' && st !== 'paused'
        ? `Not connected: the machine is ${st}.` : `Not connected: ${e.message}`;
      return;
    }
    if (!display.vnc) { status.textContent = 'This machine has no VNC display (add <graphics type="vnc"/>).'; return; }
    let RFB;
    try {
      ({ default: RFB } = await importRetry(() => import('@novnc/novnc')));
    } catch (e) {
      status.textContent = `Cannot load the VNC client (${e.message}): reload the page.`;
      return;
    }
    if (destroyed) return;
    clear(screen);
    let connected = false;
    rfb = new RFB(screen, wsUrl(`/domains/${enc(ctx.name)}/vnc`));
    rfb.scaleViewport = scale.checked;
    rfb.resizeSession = false;
    rfb.addEventListener('connect', () => { connected = true; status.textContent = 'Connected'; status.dataset.state = 'connected'; });
    rfb.addEventListener('disconnect', (e) => {
      status.dataset.state = 'closed';
      status.textContent = connected || e.detail.clean
        ? 'Disconnected.' : 'Not connected: the daemon\'s VNC proxy refused or is not there.';
    });
    rfb.addEventListener('credentialsrequired', () => { status.textContent = 'The VNC display asks for a password.'; });
  }

  const el = h('div', { class: 'graphics' },
    h('div', { class: 'toolbar' }, status, h('span', { class: 'grow' }), keys,
      h('label', { for: 'vnc-scale', class: 'inline' }, scale, ' Scale'),
      h('button', { class: 'btn btn-secondary', onclick: () => run('Full screen', () => screen.requestFullscreen()) }, 'Full screen'),
      detached ? null : h('button', {
        class: 'btn btn-secondary',
        onclick: () => window.open(`${location.pathname}#/vm/${enc(ctx.name)}/console/vnc`, `vnc-${ctx.name}`),
      }, 'Detach'),
      h('button', { class: 'btn btn-secondary', onclick: connect }, 'Reconnect')),
    screen);
  requestAnimationFrame(connect);
  return { el, destroy() { destroyed = true; if (rfb) rfb.disconnect(); } };
}
