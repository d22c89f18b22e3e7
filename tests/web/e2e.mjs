// Issue 14's browser end-to-end test, one flow against a real virtd (--web)
// and the real test guest (tests/integration/test_web_e2e.py starts them):
//
//   login (the stream refused once: polled for, reopened) -> the list; a
//   lifecycle change made elsewhere reaches the list
//   through the event stream (no reload, no poll) -> Create VM (kernel +
//   initrd, a new volume, VNC) -> its boot read from the serial console ->
//   the VNC console's canvas drawn -> a disk hot-added on the Disks tab and
//   seen by the guest -> a snapshot taken and reverted (the guest's counter
//   goes back) -> the usage graphs gain points -> shut down from the page
//   (the state comes through the stream) -> deleted with its storage.
//
//   node tests/web/e2e.mjs --url URL --user U --password P --name NAME --other NAME
//        --pool POOL --kernel PATH --initrd PATH --cmdline TEXT [--boot-timeout S]
//        [--shots DIR] [--docs-shots DIR] [--timeout-scale X]
//
// --docs-shots DIR: one 1280x800 screenshot per page on the way (docs/web-ui/).
// Prints one JSON line of results (with each step's time); exits non-zero on
// any failure.
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const url = opt('url'), name = opt('name'), other = opt('other'), pool = opt('pool');
const shots = opt('shots', null), docShots = opt('docs-shots', null);
const bootMs = Number(opt('boot-timeout', '90')) * 1000;
// Every wait's bound times this (a sanitizer build's daemon is slower).
const scale = Number(opt('timeout-scale', '1')) || 1;
const T = (ms) => Math.round(ms * scale);
const result = { steps: {} };
const log = (...a) => console.error('e2e:', ...a);

let stepT = Date.now();
function step(what) {
  const now = Date.now();
  result.steps[what] = now - stepT;
  log(`${what}: ${now - stepT} ms`);
  stepT = now;
}

async function shot(page, what) {
  if (shots) {
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, `e2e-${what}.png`) });
  }
}
// A page for the docs: the pointer out of the way, animations settled.
async function docShot(page, what) {
  if (!docShots) return;
  fs.mkdirSync(docShots, { recursive: true });
  await page.mouse.move(1279, 799);
  await page.evaluate(() => document.activeElement?.blur());
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(docShots, `${what}.png`) });
}

const consoleText = (page) => page.evaluate(() => (window.virtdConsole ? window.virtdConsole.text() : ''));
const waitText = (page, re, timeout) => page.waitForFunction((src) => window.virtdConsole
  && new RegExp(src).test(window.virtdConsole.text()), re.source, { timeout, polling: 250 });
const waitState = (page, st, timeout = T(30000)) => page.waitForFunction((s) => document.querySelector('#vm-state')?.textContent === s,
  st, { timeout });
const rowState = (page, n) => page.locator(`.vlist-row[data-name="${n}"] .c-state .badge`);
const waitRowState = (page, n, st, timeout) => page.waitForFunction(([n2, s]) => document.querySelector(
  `.vlist-row[data-name="${n2}"] .c-state .badge`)?.textContent.trim() === s, [n, st], { timeout, polling: 50 });
const events = (page) => page.evaluate(() => ({ mode: window.virtdEvents?.mode, ...window.virtdEvents?.stats }));

const apiGet = (page, p) => page.evaluate(async (u) => {
  const r = await fetch(`/api/v1${u}`);
  return (r.headers.get('content-type') || '').includes('json') ? r.json() : r.text();
}, p);
// A change the page does not know about (as another client's would be).
const apiPostAside = (page, p) => page.evaluate(async (u) => {
  const s = await (await fetch('/api/session')).json();
  const r = await fetch(`/api/v1${u}`, { method: 'POST', headers: { 'X-CSRF-Token': s.csrf_token } });
  return r.status;
}, p);

// The last VIRTD-GUEST-COUNTER the serial console shows: {n, boot}.
async function lastCounter(page) {
  const all = [...(await consoleText(page)).matchAll(/VIRTD-GUEST-COUNTER n=(\d+) boot_id=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/g)];
  if (!all.length) return null;
  const m = all[all.length - 1];
  return { n: Number(m[1]), boot: m[2] };
}
async function waitCounter(page, pred, timeout, what) {
  const end = Date.now() + timeout;
  for (;;) {
    const c = await lastCounter(page);
    if (c && pred(c)) return c;
    if (Date.now() > end) throw new Error(`${what}: the console's last counter is ${JSON.stringify(c)}`);
    await page.waitForTimeout(250);
  }
}

// Fills the open dialog's fields and presses its OK button; waits until it closes.
async function submitDialog(page, fields = {}) {
  const dlg = page.locator('dialog.modal[open]');
  await dlg.waitFor();
  for (const [id, v] of Object.entries(fields)) {
    const el = dlg.locator(`#${id}`);
    if (typeof v === 'boolean') await el.setChecked(v);
    else if (await el.evaluate((e) => e.tagName === 'SELECT')) await el.selectOption(v);
    else await el.fill(v);
  }
  await dlg.locator('button[data-ok]').click();
  await page.waitForFunction(() => !document.querySelector('dialog.modal[open]'), null, { timeout: T(60000) }).catch(async (e) => {
    const err = await dlg.locator('.error-text').textContent().catch(() => '');
    throw new Error(`dialog did not close: ${err || e.message}`);
  });
}

// The usage tab's charts: how many points they hold (usage.js sets it).
const chartPoints = (page) => page.evaluate(() => Number(document.querySelector('.charts')?.dataset.points || 0));

async function run(page) {
  // The stream's first two answers are Playwright's: one that opens and
  // ends (the browser reconnects by itself), then a refusal (the browser
  // gives up: CLOSED). The page is to poll, then reopen the real one.
  let faked = 0;
  await page.route('**/api/v1/events', (route) => (++faked === 1
    ? route.fulfill({ status: 200, contentType: 'text/event-stream', body: 'retry: 200\n: fake\n\n' })
    : route.fulfill({ status: 503, contentType: 'text/plain', body: 'refused by the test' })));
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#login-user', { timeout: T(15000) });
  await docShot(page, 'login');
  await page.fill('#login-user', opt('user', 'root'));
  await page.fill('#login-password', opt('password', ''));
  await page.click('.login-form button[type=submit]');
  await page.waitForSelector('.page-list', { timeout: T(15000) });
  step('login');
  await page.waitForFunction(() => window.virtdEvents?.mode === 'poll', null, { timeout: T(10000) }).catch(async () => {
    throw new Error(`the page did not fall back to polling: ${JSON.stringify(await events(page))}, ${faked} requests`);
  });
  await page.unroute('**/api/v1/events');
  await page.waitForFunction(() => window.virtdEvents?.mode === 'stream', null, { timeout: T(15000) }).catch(async () => {
    throw new Error(`the page did not reopen the stream: ${JSON.stringify(await events(page))}`);
  });
  result.reopen = { faked, ...(await events(page)), log: consoleLog.filter((l) => /virtd:/.test(l)) };
  const logFrom = consoleLog.length;
  step('stream_reopen');

  // The list; a start and a destroy made aside reach it through the stream.
  await page.waitForSelector(`.vlist-row[data-name="${other}"]`, { timeout: T(15000) });
  result.list_other = (await rowState(page, other).textContent()).trim();
  const ev0 = await events(page);
  if (await apiPostAside(page, `/domains/${other}/start`) !== 200) throw new Error(`start ${other} failed`);
  let t = Date.now();
  // Well under the 5 s of the poll the page falls back to without the stream.
  await waitRowState(page, other, 'running', T(3000));
  result.stream_running_ms = Date.now() - t;
  if (await apiPostAside(page, `/domains/${other}/destroy`) !== 200) throw new Error(`destroy ${other} failed`);
  t = Date.now();
  await waitRowState(page, other, 'shut off', T(3000));
  result.stream_shutoff_ms = Date.now() - t;
  const ev1 = await events(page);
  result.stream = { mode: ev1.mode, received: ev1.received - ev0.received, opens: ev1.opens, errors: ev1.errors };
  // A reload (the session kept): the old page's stream ends with the page,
  // which is no 'stream closed'; the new page's opens.
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.waitForSelector(`.vlist-row[data-name="${other}"]`, { timeout: T(15000) });
  await page.waitForFunction(() => window.virtdEvents?.mode === 'stream', null, { timeout: T(10000) });
  step('list_and_stream');

  // Create VM: kernel + initrd, a new 64 MiB qcow2 volume, VNC, no network, TCG.
  await page.click('#create-vm');
  await page.waitForSelector('#cr-name');
  await page.fill('#cr-name', name);
  await page.selectOption('#cr-mode', 'kernel');
  await page.fill('#cr-kernel', opt('kernel'));
  await page.fill('#cr-initrd', opt('initrd'));
  await page.fill('#cr-cmdline', opt('cmdline'));
  await page.fill('#cr-memory', '192');
  await page.fill('#cr-vcpus', '1');
  await page.selectOption('#cr-pool', pool);
  await page.fill('#cr-size', '64M');
  await page.selectOption('#cr-net', '');
  await page.selectOption('#cr-type', 'qemu');
  await page.setChecked('#cr-vnc', true);
  await docShot(page, 'create');
  await page.click('#cr-submit');
  await page.waitForFunction((n) => location.hash === `#/vm/${n}/console`, name, { timeout: T(30000) }).catch(async (e) => {
    throw new Error(`Create did not end on the console: ${await page.locator('.create-form .error-text').textContent().catch(() => '')} ${e.message}`);
  });
  step('create');
  await waitText(page, /VIRTD-GUEST-READY/, bootMs);
  result.ready_line = (await consoleText(page)).split('\n').find((l) => /VIRTD-GUEST-READY/.test(l)).trim();
  step('boot_serial');
  // The usage history's first points (the rings sample every 10 s).
  await page.click('#tab-usage');
  await page.waitForSelector('.charts[data-points], .charts .empty', { timeout: T(15000) });
  result.usage_points_first = await chartPoints(page);

  // The graphics console: noVNC through the daemon's proxy; the canvas holds
  // the guest's screen (SeaBIOS's and the kernel's text): not one colour.
  await page.click('#tab-console');
  await page.waitForSelector('#console-type');
  await page.selectOption('#console-type', 'vnc');
  await page.waitForSelector('.graphics .console-status[data-state=connected]', { timeout: T(20000) }).catch(async (e) => {
    throw new Error(`VNC did not connect: ${await page.locator('.graphics .console-status').textContent().catch(() => '')}`);
  });
  const h = await page.waitForFunction(() => {
    const c = document.querySelector('.vnc-screen canvas');
    if (!c || !c.width || !c.height) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const colours = new Map();
    for (let i = 0; i < d.length; i += 4) {
      const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
      colours.set(k, (colours.get(k) || 0) + 1);
    }
    const top = Math.max(...colours.values());
    // Drawn: more than one colour, the second ones more than a cursor's worth.
    return colours.size > 1 && d.length / 4 - top > 200 ? { w: c.width, h: c.height, colours: colours.size, other: d.length / 4 - top } : false;
  }, null, { timeout: T(30000), polling: 500 });
  result.vnc_canvas = await h.jsonValue();
  await shot(page, 'vnc');
  await docShot(page, 'vnc');
  step('vnc_canvas');

  // Disks tab: hot-add a new 32 MiB volume as vdb; the guest lists it.
  await page.click('#tab-disks');
  await page.waitForSelector('#disks-table tr[data-target=vda]');
  await page.click('#disk-add');
  await submitDialog(page, { 'ad-pool': pool, 'ad-name': `${name}-vdb.qcow2`, 'ad-size': '32M', 'ad-target': 'vdb' });
  await page.waitForSelector('#disks-table tr[data-target=vdb]', { timeout: T(30000) });
  result.disks = await page.$$eval('#disks-table tbody tr', (rows) => rows.map((r) => r.dataset.target));
  await docShot(page, 'disks');
  await page.click('#tab-console');
  await page.selectOption('#console-type', 'serial');
  await waitText(page, /disks=vda,vdb/, T(30000));
  result.guest_sees_vdb = (await consoleText(page)).split('\n').filter((l) => /VIRTD-GUEST-STATUS.*disks=vda,vdb/.test(l)).pop().trim();
  await docShot(page, 'console');
  step('disk_hotplug');

  // Snapshots tab: take snap1 (with memory) at counter N; let the counter
  // run on; revert; the guest goes on from N (same boot), not from later.
  const atSnap = await waitCounter(page, () => true, T(15000), 'the counter before the snapshot');
  await page.click('#tab-snapshots');
  await page.waitForSelector('#snap-create');
  await page.click('#snap-create');
  await submitDialog(page, { 'sn-name': 'snap1', 'sn-desc': 'taken by the e2e test' });
  await page.waitForSelector('#snap-tree li[data-name=snap1]', { timeout: T(60000) });
  step('snapshot');
  await page.click('#tab-console');
  await page.waitForSelector('#console-type');
  const before = await waitCounter(page, (c) => c.n >= atSnap.n + 6, T(30000), 'the counter after the snapshot');
  await page.click('#tab-snapshots');
  await page.waitForSelector('#snap-tree li[data-name=snap1] button[data-act=revert]');
  await page.click('#snap-tree li[data-name=snap1] button[data-act=revert]');
  await submitDialog(page);
  await waitState(page, 'running', T(60000));
  await page.waitForSelector('#snap-tree li[data-name=snap1] .badge', { timeout: T(15000) });
  result.reverted_badge = await page.locator('#snap-tree li[data-name=snap1] .badge').textContent();
  await docShot(page, 'snapshots');
  await page.click('#tab-console');
  await page.waitForSelector('#console-type');
  // The console replays the last 16 KiB first: wait for a line newer than
  // the replay, i.e. one whose n is below the highest seen before revert.
  const after = await waitCounter(page, (c) => c.n < before.n, T(30000), 'the counter after the revert');
  result.counter = { at_snapshot: atSnap.n, before_revert: before.n, after_revert: after.n, same_boot: after.boot === atSnap.boot };
  step('revert');

  // The usage graphs: more points than at boot, and more again while shown.
  await page.click('#tab-usage');
  await page.waitForSelector('.charts[data-points]', { timeout: T(15000) });
  const p1 = await chartPoints(page);
  await page.waitForFunction((n) => Number(document.querySelector('.charts')?.dataset.points || 0) > n, p1, { timeout: T(30000), polling: 500 });
  const p2 = await chartPoints(page);
  const api = await apiGet(page, `/domains/${name}/usage?range=hour`);
  result.usage_points = { first: result.usage_points_first, tab_opened: p1, later: p2, api: (api.points || []).length };
  await docShot(page, 'usage');
  step('usage_graphs');

  // The other pages, for the docs, while the guest runs.
  if (docShots) {
    await page.click('#tab-overview');
    await page.waitForSelector('.facts dt');
    await docShot(page, 'overview');
    await page.goto(`${url}#/`);
    await waitRowState(page, name, 'running', T(15000));
    await page.waitForSelector(`.vlist-row[data-name="${name}"] .c-spark svg, .vlist-row[data-name="${name}"] .c-spark canvas`, { timeout: T(15000) }).catch(() => {});
    await docShot(page, 'list');
    for (const p of ['host', 'storage', 'networks', 'tasks']) {
      await page.goto(`${url}#/${p}`);
      await page.waitForSelector(`.page-${p} table`, { timeout: T(15000) }).catch(() => {});
      if (p === 'storage') {
        // The test's pool opened: its volumes (the disks of the guest).
        await page.click(`#pools a:text-is("${pool}")`);
        await page.waitForSelector('#volumes:not([hidden]) table', { timeout: T(15000) }).catch(() => {});
      }
      await page.waitForTimeout(500);
      await docShot(page, p);
    }
    await page.goto(`${url}#/vm/${name}/overview`);
    await page.waitForSelector('#vm-state');
    step('doc_screenshots');
  }

  // Shut down from the header; the power-off comes through the stream.
  await page.click('#tab-overview');
  await waitState(page, 'running', T(15000));
  await page.waitForFunction(() => !document.querySelector('button[data-action=shutdown]').disabled);
  const evs = await events(page);
  await page.click('button[data-action=shutdown]');
  await waitState(page, 'shut off', T(60000));
  const eve = await events(page);
  result.shutdown_events = eve.received - evs.received;
  step('shutdown');

  // Delete with its storage: both disks checked.
  await page.click('button[data-action=delete]');
  await page.locator('dialog.modal[open] .del-disk').first().waitFor();
  result.delete_boxes = await page.$$eval('dialog.modal[open] .del-disk', (b) => b.map((x) => `${x.value}:${x.checked}`));
  await submitDialog(page);
  await page.waitForSelector('.page-list', { timeout: T(15000) });
  await page.waitForFunction((n) => !document.querySelector(`.vlist-row[data-name="${n}"]`), name, { timeout: T(15000) });
  step('delete');
  result.events_end = await events(page);
  // The browser's log since the real stream opened (the reload's included).
  result.console_after_reopen = consoleLog.slice(logFrom);
  // Error toasts stay until dismissed: none came on the way.
  result.error_toasts = await page.$$eval('.toast-error .toast-text', (x) => x.map((y) => y.textContent));
}

const browser = await chromium.launch({
  executablePath: process.env.VIRTD_TEST_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let rc = 0;
const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
const consoleLog = [];
page.on('console', (m) => consoleLog.push(`${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => consoleLog.push(`pageerror: ${e.message}`));
// The API's refusals on the way (the 401s before the login are expected).
const httpErrors = [];
page.on('response', (r) => {
  if (r.status() >= 400 && r.url().includes('/api/')) httpErrors.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
});
const t0 = Date.now();
try {
  await run(page);
  result.ok = true;
} catch (e) {
  rc = 1;
  result.ok = false;
  result.error = String(e && e.stack ? e.stack : e);
  result.toasts = await page.$$eval('.toast-text', (x) => x.map((y) => y.textContent)).catch(() => []);
  log(result.error);
  try { await shot(page, 'failure'); } catch { /* page gone */ }
}
result.total_ms = Date.now() - t0;
result.browser_console = consoleLog;
result.http_errors = httpErrors;
await browser.close();
console.log(JSON.stringify(result));
process.exit(rc);
