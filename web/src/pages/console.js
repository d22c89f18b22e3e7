// Console: the serial console in xterm.js, over the daemon's console
// WebSocket (GET /api/v1/domains/NAME/console: the guest's bytes both ways,
// binary frames; the last 16 KiB the guest printed come first). Copy:
// select with the mouse, then Ctrl+Shift+C or the Copy button; paste:
// Ctrl+Shift+V, the Paste button, or the browser's paste (middle click).
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { h, clear, run, toast } from '../ui.js';
import { enc, wsUrl } from '../api.js';
import { graphicsConsole } from './graphics.js';

// The tab: the serial console, or the graphical one (Cockpit's console type
// choice); #/vm/NAME/console/vnc opens the graphical one.
export function consoleTab(ctx) {
  let inner = null;
  const body = h('div');
  const kind = h('select', { 'aria-label': 'Console type', id: 'console-type', onchange: () => show(kind.value) },
    h('option', { value: 'serial' }, 'Serial console'),
    h('option', { value: 'vnc' }, 'Graphics console (VNC)'));
  function show(k) {
    if (inner) inner.destroy();
    inner = k === 'vnc' ? graphicsConsole(ctx) : serialConsole(ctx);
    clear(body).append(inner.el);
  }
  const k = location.hash.endsWith('/console/vnc') ? 'vnc' : 'serial';
  kind.value = k;
  show(k);
  return {
    el: h('div', { class: 'card console-card' }, h('div', { class: 'toolbar' }, h('h2', {}, 'Console'), kind), body),
    destroy() { if (inner) inner.destroy(); },
  };
}

function serialConsole(ctx) {
  const status = h('span', { class: 'console-status', id: 'console-status', 'aria-live': 'polite' }, 'Connecting…');
  const screen = h('div', { class: 'console-screen', id: 'console-screen' });
  const term = new Terminal({
    convertEol: false,
    cursorBlink: true,
    scrollback: 5000,
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", monospace',
    fontSize: 14,
    lineHeight: 1.2, // room for underscores below the baseline
    theme: { background: '#151515' },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  const encoder = new TextEncoder();
  let ws = null;
  let closedByUs = false;

  function send(text) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(text));
  }
  async function copy() {
    const sel = term.getSelection();
    if (!sel) { toast('Select text in the console first.'); return; }
    await run('Copy', () => navigator.clipboard.writeText(sel));
  }
  async function paste() {
    const text = await run('Paste', () => navigator.clipboard.readText());
    if (text) term.paste(text); // xterm sends it through onData (bracketed if the guest asked)
  }

  term.onData(send);
  term.attachCustomKeyEventHandler((e) => {
    if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
    if (e.code === 'KeyC') { copy(); return false; }
    if (e.code === 'KeyV') { paste(); return false; }
    return true;
  });

  const reconnect = h('button', { class: 'btn btn-secondary', onclick: () => connect(false) }, 'Reconnect');
  const force = h('button', {
    class: 'btn btn-secondary', hidden: true,
    title: 'Close the other session attached to this console and attach here',
    onclick: () => connect(true),
  }, 'Disconnect the other session');

  function connect(forceIt) {
    if (ws) { closedByUs = true; ws.close(); }
    closedByUs = false;
    force.hidden = true;
    status.textContent = 'Connecting…';
    status.dataset.state = 'connecting';
    const sock = new WebSocket(wsUrl(`/domains/${enc(ctx.name)}/console${forceIt ? '?force=1' : ''}`));
    sock.binaryType = 'arraybuffer';
    let opened = false;
    sock.onopen = () => {
      opened = true;
      status.textContent = 'Connected';
      status.dataset.state = 'connected';
      term.focus();
    };
    sock.onmessage = (m) => term.write(new Uint8Array(m.data));
    sock.onclose = (e) => {
      if (ws !== sock || closedByUs) return;
      ws = null;
      status.dataset.state = 'closed';
      if (!opened) {
        // The upgrade was refused; a browser does not show why. The usual
        // reasons: not running, or another session is attached (busy).
        const st = ctx.summary ? ctx.summary.state : '';
        status.textContent = st && st !== 'running' && st !== 'paused'
          ? `Not connected: the machine is ${st}. Start it, then reconnect.`
          : 'Not connected: the console is busy (another session is attached) or unavailable.';
        force.hidden = !(st === 'running' || st === 'paused');
      } else {
        status.textContent = `Disconnected${e.reason ? `: ${e.reason}` : e.code === 1000 ? ': the machine stopped' : ''}.`;
      }
    };
    ws = sock;
  }

  const ro = new ResizeObserver(() => { try { fit.fit(); } catch { /* hidden */ } });
  const el = h('div', {},
    h('div', { class: 'toolbar' },
      status, h('span', { class: 'grow' }),
      h('button', { class: 'btn btn-secondary', onclick: copy, title: 'Ctrl+Shift+C' }, 'Copy'),
      h('button', { class: 'btn btn-secondary', onclick: paste, title: 'Ctrl+Shift+V' }, 'Paste'),
      force, reconnect),
    screen);

  // Open the terminal once the panel is in the document (xterm measures fonts).
  requestAnimationFrame(() => {
    term.open(screen);
    try { fit.fit(); } catch { /* not laid out yet */ }
    ro.observe(screen);
    connect(false);
  });
  // For the browser test and for debugging: what the terminal holds.
  window.virtdConsole = {
    text() {
      const b = term.buffer.active;
      const lines = [];
      for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
      return lines.join('\n');
    },
  };

  let lastState = ctx.summary && ctx.summary.state;
  const onChange = () => {
    // The machine (re)started while this tab is open: attach.
    const st = ctx.summary && ctx.summary.state;
    if (st === 'running' && lastState !== 'running' && !ws) connect(false);
    lastState = st;
  };
  ctx.changed.add(onChange);

  return {
    el,
    destroy() {
      ctx.changed.delete(onChange);
      closedByUs = true;
      if (ws) ws.close();
      ro.disconnect();
      term.dispose();
      delete window.virtdConsole;
    },
  };
}
