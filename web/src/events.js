// Live updates. The daemon's event stream (GET /api/v1/events, server-sent
// events, one JSON object per event) tells pages what changed; where the
// stream is not there (an older daemon: 404), pages are refreshed by a 5 s
// poll instead, and the browser's console says so (the UI does not).
// window.virtdEvents.mode / .stats tell how updates arrive (tests read it).

const listeners = new Set();
let source = null;
let pollTimer = null;
export let mode = 'idle'; // 'stream' | 'poll' | 'idle'
// For tests and the curious (the browser's console): how updates arrive.
const stats = { received: 0, opens: 0, errors: 0 };
if (typeof window !== 'undefined') {
  window.virtdEvents = { get mode() { return mode; }, stats };
}

// fn({kind, domain, event, detail, ...}) for each event; in poll mode
// fn({kind: 'poll'}) every 5 s. Returns the unsubscribe function.
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(ev) {
  for (const fn of [...listeners]) {
    try { fn(ev); } catch (e) { console.error('virtd: event listener failed', e); }
  }
}

function startPolling(why) {
  if (pollTimer) return;
  mode = 'poll';
  console.info(`virtd: event stream unavailable (${why}); refreshing every 5 s instead`);
  pollTimer = setInterval(() => emit({ kind: 'poll' }), 5000);
}

// A stream that was open and is closed for good (the browser gives up when
// a reconnect is refused: the session expired, the daemon restarted without
// the stream) is polled for meanwhile and reopened after 5 s, 10 s, ... 60 s.
let everOpened = false;
let retryTimer = null;
let retryDelay = 0;
let generation = 0; // stop() makes older timers moot

function open() {
  let opened = false;
  source = new EventSource('/api/v1/events', { withCredentials: true });
  source.onopen = () => {
    const again = everOpened && !opened;
    opened = true;
    everOpened = true;
    retryDelay = 0;
    mode = 'stream';
    stats.opens++;
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    console.info('virtd: live updates from /api/v1/events');
    // Reopened after it closed: what happened meanwhile is reloaded.
    if (again) emit({ kind: 'reconnect' });
  };
  source.onmessage = (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    stats.received++;
    emit(ev);
  };
  source.onerror = () => {
    stats.errors++;
    if (opened && source.readyState !== EventSource.CLOSED) {
      // A dropped connection: EventSource reconnects by itself; the pages
      // reload meanwhile so nothing is missed.
      emit({ kind: 'reconnect' });
      return;
    }
    source.close();
    source = null;
    if (!everOpened) {
      // Never opened: the route is missing (404) or refused; EventSource
      // would retry forever, so stop it and poll.
      startPolling('GET /api/v1/events failed');
      return;
    }
    // Closed for good. A reload or a link to another page cancels the
    // request too, and the browser reports that the same way: decided a
    // moment later, which a page being left never gets to.
    const gen = generation;
    setTimeout(() => {
      if (gen !== generation || source || retryTimer) return;
      retryDelay = Math.min(60000, retryDelay ? retryDelay * 2 : 5000);
      startPolling(`the stream closed; reopening it in ${retryDelay / 1000} s`);
      retryTimer = setTimeout(() => { retryTimer = null; if (gen === generation && !source) open(); }, retryDelay);
    }, 1000);
  };
}

export function start() {
  if (source || pollTimer) return;
  if (typeof EventSource === 'undefined') { startPolling('no EventSource in this browser'); return; }
  open();
}

export function stop() {
  generation++;
  if (source) { source.close(); source = null; }
  if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
  retryDelay = 0;
  mode = 'idle';
}
