// Development server for the front end, for working on web/src without
// `virtd --web`: serves a built dist/ and forwards /api/v1/* (WebSocket
// upgrades included) to a daemon's UNIX socket with /api stripped.
//
//   node dev-server.mjs --socket /tmp/X/virtd.sock [--dist ../build/web/dist]
//                       [--port 8080] [--watch]
//
// It listens on 127.0.0.1 only, over plain HTTP, and checks no password:
// /api/login accepts any user, sets a session cookie and answers a CSRF
// token; /api/v1 without that cookie is 401, as on the real listener. It is a
// developer's tool, never a way to serve the console: `virtd --web` is.
// --watch rebuilds dist/ (node build.mjs, unminified) when web/src changes.
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const socketPath = opt('socket', null);
const dist = path.resolve(opt('dist', path.join(here, 'dist')));
const port = Number(opt('port', '8080'));
if (!socketPath) {
  console.error('usage: node dev-server.mjs --socket DIR/virtd.sock [--dist DIR] [--port N] [--watch]');
  process.exit(2);
}

if (args.includes('--watch')) {
  const rebuild = () => {
    const r = spawnSync(process.execPath, [path.join(here, 'build.mjs'), dist], {
      stdio: 'inherit', env: { ...process.env, VIRTD_WEB_DEV: '1' },
    });
    console.log(r.status === 0 ? `dev-server: rebuilt ${dist}` : 'dev-server: build failed');
  };
  rebuild();
  let t = null;
  fs.watch(path.join(here, 'src'), { recursive: true }, () => { clearTimeout(t); t = setTimeout(rebuild, 100); });
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css',
  '.svg': 'image/svg+xml', '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8', '.png': 'image/png' };
const sessions = new Map(); // cookie value -> {user, csrf}

function sessionOf(req) {
  const m = /(?:^|;\s*)virtd_session=([^;]+)/.exec(req.headers.cookie || '');
  return m ? sessions.get(m[1]) : undefined;
}

function json(res, status, obj) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

function serveStatic(req, res) {
  const url = new URL(req.url, 'http://x');
  let rel = decodeURIComponent(url.pathname);
  if (rel === '/') rel = '/index.html';
  const file = path.resolve(dist, `.${path.posix.normalize(rel)}`);
  if (!file.startsWith(dist + path.sep)) { res.writeHead(403); res.end(); return; }
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404); res.end('not found'); return; }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(data);
  });
}

function proxy(req, res) {
  const up = http.request({
    socketPath, method: req.method, path: req.url.replace(/^\/api/, ''),
    headers: { ...req.headers, host: 'localhost', connection: 'close' },
  }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', (e) => json(res, 503, { error: { code: 'connect-failed', message: `dev-server: ${socketPath}: ${e.message}` } }));
  req.pipe(up);
}

const server = http.createServer((req, res) => {
  if (req.url === '/api/login' && req.method === 'POST') {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      let user = 'dev';
      try { user = JSON.parse(body).user || user; } catch { /* keep 'dev' */ }
      const id = crypto.randomBytes(16).toString('hex');
      const s = { user, csrf: crypto.randomBytes(16).toString('hex') };
      sessions.set(id, s);
      res.setHeader('Set-Cookie', `virtd_session=${id}; HttpOnly; SameSite=Strict; Path=/`);
      json(res, 200, { user, csrf_token: s.csrf });
    });
    return;
  }
  const s = sessionOf(req);
  const unauth = () => json(res, 401, { error: { code: 'denied', message: 'not logged in (dev-server)' } });
  if (req.url === '/api/logout') {
    for (const [k, v] of sessions) if (v === s) sessions.delete(k);
    json(res, 200, {});
    return;
  }
  if (req.url === '/api/session') {
    if (s) json(res, 200, { user: s.user, csrf_token: s.csrf }); else unauth();
    return;
  }
  if (req.url.startsWith('/api/v1/')) {
    if (!s) { unauth(); return; }
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.headers['x-csrf-token'] !== s.csrf) {
      json(res, 403, { error: { code: 'denied', message: 'missing or wrong X-CSRF-Token (dev-server)' } });
      return;
    }
    proxy(req, res);
    return;
  }
  serveStatic(req, res);
});

// WebSocket upgrades (the serial console): replay the request on the UNIX
// socket and splice the two connections together.
server.on('upgrade', (req, sock, head) => {
  if (!req.url.startsWith('/api/v1/') || !sessionOf(req)) { sock.destroy(); return; }
  const up = net.connect(socketPath, () => {
    const lines = [`${req.method} ${req.url.replace(/^\/api/, '')} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i];
      lines.push(`${k}: ${k.toLowerCase() === 'host' ? 'localhost' : req.rawHeaders[i + 1]}`);
    }
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head && head.length) up.write(head);
    up.pipe(sock);
    sock.pipe(up);
  });
  up.on('error', () => sock.destroy());
  sock.on('error', () => up.destroy());
});

server.listen(port, '127.0.0.1', () => {
  console.log(`dev-server: http://127.0.0.1:${port}/ -> ${dist}, /api/v1 -> ${socketPath}`);
});
