// The browser test of Create VM's install-tree and image-build sources and
// of the Task log's Cancel (tests/integration/test_web_create.py starts the
// daemon, with a stand-in debian-12 recipe that only reports steps, and runs
// this):
//   1. "Install tree or ISO": a Debian netboot tree holding the test guest;
//      ends on the console with the guest's READY line;
//   2. "Build a new Debian 12 image": the build's steps shown, then the VM
//      defined, started, and the page on its console;
//   3. the same, cancelled from the Create page mid-way: nothing defined;
//   4. a build cancelled from the Task log; ended tasks show no Cancel.
//
//   node tests/web/create-test.mjs --url URL --user U --password P --pool POOL
//        --tree DIR --cmdline TEXT [--boot-timeout S] [--shots DIR]
//
// Prints one JSON line of results; exits non-zero on any failure.
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const url = opt('url'), pool = opt('pool'), shots = opt('shots', null);
const bootMs = Number(opt('boot-timeout', '90')) * 1000;
const result = {};

async function shot(page, what) {
  if (!shots) return;
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `create-${what}.png`) });
}

const apiGet = (page, p) => page.evaluate(async (u) => (await fetch(`/api/v1${u}`)).json(), p);
const domainNames = async (page) => (await apiGet(page, '/domains?all=1')).domains.map((d) => d.name);

async function openCreate(page, name, mode) {
  await page.goto(`${url}#/create`);
  await page.waitForSelector('#cr-name');
  await page.fill('#cr-name', name);
  await page.selectOption('#cr-mode', mode);
  await page.fill('#cr-memory', '128');
  await page.fill('#cr-vcpus', '1');
  await page.selectOption('#cr-net', '');
  await page.selectOption('#cr-type', 'qemu');
  await page.setChecked('#cr-vnc', false);
}

const formError = (page) => page.locator('.create-form .error-text').textContent().catch(() => '');

// Starts a build from the Create page and waits until its progress box
// shows @step ("2/7"), or (step null) until the page went on to the new
// VM's console; returns the step texts seen (polled: some may be missed).
async function startBuild(page, name, hostname, step) {
  await openCreate(page, name, 'build');
  await page.selectOption('#cr-pool', pool);
  await page.fill('#cr-size', '1G');
  await page.fill('#cr-hostname', hostname);
  await page.fill('#cr-password', 'pw');
  await page.click('#cr-submit');
  const seen = new Set();
  const t0 = Date.now();
  for (;;) {
    if (!step && await page.evaluate((n) => location.hash === `#/vm/${n}/console`, name)) break;
    const text = await page.locator('#cr-progress .build-step').textContent({ timeout: 1000 }).catch(() => '');
    if (text) seen.add(text.replace(/ \(\d+ s\)$/, ''));
    if (step && text.startsWith(step)) break;
    if (Date.now() - t0 > 60000) throw new Error(`no step ${step} in the progress box: ${[...seen]} ${await formError(page)}`);
    await page.waitForTimeout(200);
  }
  return [...seen];
}

async function run(page) {
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#login-user', { timeout: 15000 });
  await page.fill('#login-user', opt('user', 'root'));
  await page.fill('#login-password', opt('password', ''));
  await page.click('.login-form button[type=submit]');
  await page.waitForSelector('.page-list', { timeout: 15000 });

  // 1. Install tree: kernel + initrd out of the tree, booted with the extra args.
  await openCreate(page, 'wct1', 'tree');
  await page.fill('#cr-location', opt('tree'));
  await page.fill('#cr-extra', opt('cmdline'));
  await page.selectOption('#cr-pool', '');
  await shot(page, 'tree');
  let t0 = Date.now();
  await page.click('#cr-submit');
  await page.waitForFunction(() => location.hash === '#/vm/wct1/console', null, { timeout: 30000 }).catch(async (e) => {
    throw new Error(`install tree: did not end on the console: ${await formError(page)} ${e.message}`);
  });
  await page.waitForFunction(() => window.virtdConsole && /VIRTD-GUEST-READY/.test(window.virtdConsole.text()), null,
    { timeout: bootMs, polling: 250 });
  result.tree_to_ready_ms = Date.now() - t0;
  result.tree_definition_boots = /<boot dev=.hd.\/>/.test(await page.evaluate(async () => (await fetch('/api/v1/domains/wct1/xml?inactive=1')).text()))
    ? 'hd' : 'other';
  // The running install phase ends at the installer's reboot.
  result.tree_live_on_reboot = (/<on_reboot>([a-z-]+)</.exec(await page.evaluate(async () => (await fetch('/api/v1/domains/wct1/xml')).text())) || [])[1];
  await shot(page, 'tree-console');

  // 2. Image build to the end: defined, started, on the console.
  t0 = Date.now();
  result.build_steps = await startBuild(page, 'wcb1', 'wcb1', null);
  await page.waitForFunction(() => location.hash === '#/vm/wcb1/console', null, { timeout: 60000 }).catch(async (e) => {
    throw new Error(`image build: did not end on the console: ${await page.locator('#cr-progress').textContent().catch(() => '')} ${await formError(page)} ${e.message}`);
  });
  result.build_to_console_ms = Date.now() - t0;
  result.built_state = (await apiGet(page, '/domains/wcb1')).domain.state;
  result.built_disk = (await apiGet(page, '/domains/wcb1/disks')).disks.map((d) => d.source);
  await shot(page, 'build-console');

  // 3. Cancelled from the Create page.
  await startBuild(page, 'wcb2', 'slow', '2/7');
  await shot(page, 'build-progress');
  await page.click('#cr-build-cancel');
  await page.waitForSelector('#cr-progress[data-state=cancelled]', { timeout: 30000 });
  result.create_cancel_text = await page.locator('#cr-progress .build-step').textContent();
  result.create_cancel_defined = (await domainNames(page)).includes('wcb2');
  result.create_cancel_volumes = (await apiGet(page, `/pools/${pool}/volumes`)).volumes.map((v) => v.name).filter((n) => n.startsWith('wcb2'));

  // 4. Cancelled from the Task log.
  await startBuild(page, 'wcb3', 'slow', '2/7');
  await page.goto(`${url}#/tasks`);
  const row = page.locator('#tasks tr[data-object="wcb3.qcow2"][data-state=running]');
  await row.waitFor({ timeout: 15000 });
  result.tasklog_detail = await row.locator('.task-detail').textContent();
  await shot(page, 'tasks-running');
  await row.locator('button.task-cancel').click();
  await page.locator('#tasks tr[data-object="wcb3.qcow2"][data-state=cancelled]').waitFor({ timeout: 30000 });
  // Ended tasks have no Cancel button; running ones only if cancellable.
  result.ended_rows_with_button = await page.$$eval('#tasks tbody tr', (rows) => rows
    .filter((r) => r.dataset.state && r.dataset.state !== 'running' && r.querySelector('button.task-cancel')).length);
  result.tasklog_states = await page.$$eval('#tasks tbody tr', (rows) => rows.map((r) => `${r.dataset.operation}:${r.dataset.object}:${r.dataset.state}`));
  result.tasklog_cancel_defined = (await domainNames(page)).includes('wcb3');
  await shot(page, 'tasks-cancelled');
}

const browser = await chromium.launch({
  executablePath: process.env.VIRTD_TEST_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let rc = 0;
const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
const page = await context.newPage();
const consoleLog = [];
page.on('console', (m) => consoleLog.push(`${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => consoleLog.push(`pageerror: ${e.message}`));
try {
  await run(page);
  result.ok = true;
} catch (e) {
  rc = 1;
  result.ok = false;
  result.error = String(e && e.stack ? e.stack : e);
  try { await shot(page, 'failure'); } catch { /* page gone */ }
}
result.browser_console = consoleLog.slice(-20);
await browser.close();
console.log(JSON.stringify(result));
process.exit(rc);
