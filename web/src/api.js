// The API client: every call goes to /api/v1/... on the web listener with the
// session cookie; changes carry X-CSRF-Token. A 401 sends the user back to the
// login page; any other failure throws ApiError with the daemon's own error
// message ({"error": {"code", "message"}}, docs/api.md "Errors").

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = { user: null, csrf: null };
let onUnauthorized = () => {};

export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

async function errorOf(r) {
  let code = `http-${r.status}`;
  let message = `${r.status} ${r.statusText || 'error'}`;
  try {
    const j = await r.json();
    if (j && j.error) {
      code = j.error.code || code;
      message = j.error.message || message;
    }
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(r.status, code, message);
}

async function request(method, url, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = session.csrf || '';
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string') {
      headers['Content-Type'] = opts.type || 'application/xml';
      payload = body;
    } else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  let r;
  // A read that fails on the way (the network changed, the server restarted)
  // is tried again twice; a change is not: it may have been done.
  const tries = method === 'GET' || method === 'HEAD' ? 3 : 1;
  for (let i = 0; ; i++) {
    try {
      r = await fetch(url, { method, headers, body: payload, credentials: 'same-origin', signal: opts.signal });
      break;
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      if (i + 1 >= tries) throw new ApiError(0, 'connect-failed', `cannot reach the server (${e.message})`);
      await new Promise((res) => setTimeout(res, 300 * (i + 1)));
    }
  }
  if (r.status === 401 && !opts.noRedirect) {
    session.user = session.csrf = null;
    onUnauthorized();
    throw await errorOf(r);
  }
  if (!r.ok) throw await errorOf(r);
  if (opts.raw) return r;
  const ct = r.headers.get('content-type') || '';
  return ct.includes('json') ? r.json() : r.text();
}

// api('GET', '/domains?all=1') -> the JSON of /api/v1/domains?all=1.
export function api(method, path, body, opts) {
  return request(method, `/api/v1${path}`, body, opts);
}

export const enc = encodeURIComponent;

export async function login(user, password) {
  const j = await request('POST', '/api/login', { user, password }, { noRedirect: true });
  session.user = j.user;
  session.csrf = j.csrf_token;
  return j;
}

export async function logout() {
  try { await request('POST', '/api/logout', undefined, { noRedirect: true }); } catch { /* gone anyway */ }
  session.user = session.csrf = null;
}

// The session the cookie already carries (a reload keeps the user logged in).
export async function resume() {
  try {
    const j = await request('GET', '/api/session', undefined, { noRedirect: true });
    session.user = j.user;
    session.csrf = j.csrf_token;
    return true;
  } catch {
    return false;
  }
}

// ws(s)://this-host/api/v1/PATH: the listener checks the Origin, which the
// browser sets to this page's own.
export function wsUrl(path) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/api/v1${path}`;
}
