// The virtd console: hash routes, the masthead, and the pages.
//   #/login            the login form
//   #/                 the VM list
//   #/vm/NAME[/TAB]    a VM's details (TAB: overview, usage, console, ...)
import '@xterm/xterm/css/xterm.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { h, clear, toast, importRetry } from './ui.js';
import { session, resume, logout, setUnauthorizedHandler } from './api.js';
import * as events from './events.js';
import { loginPage } from './pages/login.js';
import { listPage } from './pages/list.js';
import { hostPage } from './pages/host.js';
import { storagePage } from './pages/storage.js';
import { networksPage } from './pages/networks.js';
import { tasksPage } from './pages/tasks.js';
// The details page (xterm.js, uPlot, noVNC) loads when first opened: the list
// page, the one most visits start on, parses a third of the code.
const loadDetails = () => importRetry(() => import('./pages/details.js'));

const app = document.getElementById('app');
let current = null; // the page shown: {el, destroy()}
let wanted = null; // where to go after logging in

function parse(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'login') return { page: 'login' };
  if (parts[0] === 'create') return { page: 'create' };
  if (parts[0] === 'vm' && parts[1]) return { page: 'details', name: parts[1], tab: parts[2] || 'overview' };
  if (HOST_PAGES[parts[0]]) return { page: parts[0] };
  return { page: 'list' };
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// The host's pages (pages/host.js, storage.js, networks.js, tasks.js).
const HOST_PAGES = { host: hostPage, storage: storagePage, networks: networksPage, tasks: tasksPage };

function masthead(active) {
  const nav = (hash, page, text) => h('a', { href: hash, class: active === page ? 'active' : null }, text);
  return h('header', { class: 'masthead' },
    h('a', { class: 'brand', href: '#/' }, h('img', { src: '/assets/favicon.svg', alt: '' }), 'virtd'),
    h('nav', { class: 'mainnav', 'aria-label': 'Main' },
      nav('#/', 'list', 'Virtual machines'), nav('#/host', 'host', 'Host'), nav('#/storage', 'storage', 'Storage'),
      nav('#/networks', 'networks', 'Networks'), nav('#/tasks', 'tasks', 'Task log')),
    h('div', { class: 'user' },
      h('span', { class: 'user-name' }, session.user || ''),
      h('button', { class: 'btn btn-link btn-on-dark', onclick: async () => { await logout(); events.stop(); go('#/login'); } }, 'Log out')));
}

function show(page) {
  if (current && current.destroy) current.destroy();
  current = page;
  clear(app);
  if (page.bare) app.append(page.el);
  else app.append(masthead(page.nav || 'list'), h('main', { class: 'content', id: 'main' }, page.el));
}

async function route() {
  const hashNow = location.hash;
  const r = parse(hashNow);
  if (r.page === 'login') {
    if (session.csrf) { go(wanted || '#/'); return; }
    if (sessionPending) return; // decided when the session check answers
    show(loginPage(() => { events.start(); const w = wanted; wanted = null; go(w && w !== '#/login' ? w : '#/'); }));
    return;
  }
  if (!session.csrf && !sessionPending) {
    wanted = location.hash || '#/';
    go('#/login');
    return;
  }
  if (r.page === 'details') {
    if (current && current.name === r.name && current.setTab) { current.setTab(r.tab); return; }
    let mod;
    try {
      mod = await loadDetails();
    } catch (e) {
      toast(`Cannot load the page (${e.message}): check the connection and reload.`, 'error');
      return;
    }
    const { detailsPage } = mod;
    if (location.hash !== hashNow) return; // the user went elsewhere meanwhile
    show(detailsPage(r.name, r.tab, go));
  } else if (r.page === 'create') {
    let mod;
    try {
      mod = await loadDetails();
    } catch (e) {
      toast(`Cannot load the page (${e.message}): check the connection and reload.`, 'error');
      return;
    }
    if (location.hash !== hashNow) return;
    show(mod.createPage(go));
  } else if (HOST_PAGES[r.page]) {
    show({ ...HOST_PAGES[r.page](), nav: r.page });
  } else {
    show(listPage());
  }
}

function toLogin() {
  events.stop();
  if (!location.hash.startsWith('#/login')) {
    wanted = location.hash;
    go('#/login');
  }
}
setUnauthorizedHandler(toLogin);

// The session the cookie carries is checked while the first page already
// loads its data (one round trip less): that page's own requests get a 401
// and come back here if there is none.
let sessionPending = resume().then((ok) => {
  sessionPending = null;
  if (!ok) {
    // On #/login already (the first page's request had its 401): show it now.
    if (location.hash.startsWith('#/login')) route(); else toLogin();
    return;
  }
  events.start();
  for (const el of document.querySelectorAll('.user-name')) el.textContent = session.user;
  if (location.hash.startsWith('#/login')) go(wanted || '#/');
});

window.addEventListener('hashchange', route);
route();
