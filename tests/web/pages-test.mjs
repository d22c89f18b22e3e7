// The browser test of the pages that change things (tests/integration/
// test_web_pages.py starts the daemon and runs this): Create VM from the
// test guest's kernel + initrd with a new disk volume, its boot read from the
// serial console, a snapshot taken and reverted on the Snapshots tab, a disk
// hot-added on the Disks tab, a shutdown, a delete with both disks.
//
//   node tests/web/pages-test.mjs --url URL --user U --password P --name NAME --pool POOL
//        --kernel PATH --initrd PATH --cmdline TEXT [--boot-timeout S] [--shots DIR]
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
const url = opt('url'), name = opt('name'), pool = opt('pool'), shots = opt('shots', null);
const bootMs = Number(opt('boot-timeout', '90')) * 1000;
const result = {};
const log = (...a) => console.error('pages-test:', ...a);

async function shot(page, what) {
  if (!shots) return;
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `pages-${what}.png`) });
}

const consoleText = (page) => page.evaluate(() => (window.virtdConsole ? window.virtdConsole.text() : ''));
const waitText = (page, re, timeout) => page.waitForFunction((src) => window.virtdConsole
  && new RegExp(src).test(window.virtdConsole.text()), re.source, { timeout, polling: 250 });
const waitState = (page, st, timeout = 30000) => page.waitForFunction((s) => document.querySelector('#vm-state')?.textContent === s,
  st, { timeout });

const apiGet = (page, p) => page.evaluate(async (u) => {
  const r = await fetch(`/api/v1${u}`);
  return (r.headers.get('content-type') || '').includes('json') ? r.json() : r.text();
}, p);

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
  await page.waitForFunction(() => !document.querySelector('dialog.modal[open]'), null, { timeout: 60000 }).catch(async (e) => {
    const err = await dlg.locator('.error-text').textContent().catch(() => '');
    throw new Error(`dialog did not close: ${err || e.message}`);
  });
}

async function run(page) {
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#login-user', { timeout: 15000 });
  await page.fill('#login-user', opt('user', 'root'));
  await page.fill('#login-password', opt('password', ''));
  await page.click('.login-form button[type=submit]');
  await page.waitForSelector('.page-list', { timeout: 15000 });

  // Create VM: kernel + initrd, a new 64 MiB qcow2 volume, no network, TCG.
  await page.click('#create-vm');
  await page.waitForSelector('#cr-name');
  await page.fill('#cr-name', name);
  await page.selectOption('#cr-mode', 'kernel');
  await page.fill('#cr-kernel', opt('kernel'));
  await page.fill('#cr-initrd', opt('initrd'));
  await page.fill('#cr-cmdline', opt('cmdline'));
  await page.fill('#cr-memory', '128');
  await page.fill('#cr-vcpus', '1');
  await page.selectOption('#cr-pool', pool);
  await page.fill('#cr-size', '64M');
  await page.selectOption('#cr-net', '');
  await page.selectOption('#cr-type', 'qemu');
  await page.setChecked('#cr-vnc', false);
  await shot(page, 'create');
  const t0 = Date.now();
  await page.click('#cr-submit');
  await page.waitForFunction((n) => location.hash === `#/vm/${n}/console`, name, { timeout: 30000 }).catch(async (e) => {
    throw new Error(`Create did not end on the console: ${await page.locator('.create-form .error-text').textContent().catch(() => '')} ${e.message}`);
  });
  await waitText(page, /VIRTD-GUEST-READY/, bootMs);
  result.create_to_ready_ms = Date.now() - t0;
  await shot(page, 'console');

  // Snapshots tab: take snap1 (running: with memory), revert to it.
  await page.click('#tab-snapshots');
  await page.waitForSelector('#snap-create');
  await page.click('#snap-create');
  await submitDialog(page, { 'sn-name': 'snap1', 'sn-desc': 'from the web page' });
  await page.waitForSelector('#snap-tree li[data-name=snap1]', { timeout: 60000 });
  await shot(page, 'snapshots');
  await page.click('#snap-tree li[data-name=snap1] button[data-act=revert]');
  await submitDialog(page);
  await waitState(page, 'running', 60000);
  result.snapshot_current = (await apiGet(page, `/domains/${name}/snapshots`)).current;
  result.reverted = await page.locator('#snap-tree li[data-name=snap1] .badge').textContent();

  // Disks tab: hot-add a new 32 MiB volume as vdb (live + config).
  await page.click('#tab-disks');
  await page.waitForSelector('#disks-table tr[data-target=vda]');
  await page.click('#disk-add');
  await submitDialog(page, { 'ad-pool': pool, 'ad-name': `${name}-vdb.qcow2`, 'ad-size': '32M', 'ad-target': 'vdb' });
  await page.waitForSelector('#disks-table tr[data-target=vdb]', { timeout: 30000 });
  result.disks = await page.$$eval('#disks-table tbody tr', (rows) => rows.map((r) => r.dataset.target));
  // The live definition, through the same API the page uses.
  result.live_xml_vdb = await apiGet(page, `/domains/${name}/xml`).then((x) => (/<target dev=.vdb./.test(x)
    ? (/<source file='([^']*vdb[^']*)'/.exec(x) || [])[1] || 'no source' : null));
  await shot(page, 'disks');
  // The guest sees it: its status line lists vdb.
  await page.click('#tab-console');
  await waitText(page, /disks=vda,vdb/, 30000);
  result.guest_sees_vdb = true;
  // Resize it live to 48 MiB: the table and the guest (98304 sectors) say so.
  await page.click('#tab-disks');
  await page.click('#disks-table tr[data-target=vdb] button[data-act=resize]');
  await submitDialog(page, { 'rs-size': '48M' });
  await page.waitForFunction(() => document.querySelector('#disks-table tr[data-target=vdb] td:nth-child(5)')?.textContent === '48 MiB',
    null, { timeout: 15000 });
  await page.click('#tab-console');
  await waitText(page, /vdb:98304/, 30000);
  result.guest_sees_resize = true;

  // Shut down from the header; the guest powers off.
  await page.waitForFunction(() => !document.querySelector('button[data-action=shutdown]').disabled);
  await page.click('button[data-action=shutdown]');
  await waitState(page, 'shut off', 60000);
  result.console_tail = (await consoleText(page)).split('\n').filter((l) => /VIRTD-GUEST-POWERBUTTON/.test(l)).slice(-1);

  // Shut off: settings (config), a NIC added, its link set down, removed.
  await page.click('#tab-overview');
  await page.click('#ov-edit-memory');
  await submitDialog(page, { 'mem-cur': '192', 'mem-max': '192' });
  await page.waitForFunction(() => [...document.querySelectorAll('.facts dt')].some((dt) => dt.textContent === 'Max memory'
    && dt.nextSibling.textContent === '192 MiB'), null, { timeout: 15000 });
  await page.click('#ov-edit-desc');
  await submitDialog(page, { 'desc-text': 'made by the web test' });
  result.description_saved = /<description>made by the web test<\/description>/.test(await apiGet(page, `/domains/${name}/xml?inactive=1`));
  await page.click('#tab-nics');
  await page.click('#nic-add');
  await submitDialog(page, { 'an-net': 'user:', 'an-model': 'e1000' });
  await page.waitForSelector('#nics-table tbody tr', { timeout: 15000 });
  await page.click('#nics-table tbody tr button[data-act=link]');
  await page.waitForFunction(() => document.querySelector('#nics-table tbody tr td:nth-child(6)')?.textContent === 'down', null, { timeout: 15000 });
  result.nic_link = 'down';
  await page.click('#nics-table tbody tr button[data-act=remove]');
  await submitDialog(page);
  await page.waitForSelector('#nics-table', { state: 'detached', timeout: 15000 });
  result.nic_removed = true;

  // Clone, then rename the original (the page follows it).
  await page.click('button[data-action=clone]');
  await submitDialog(page, { 'cl-name': `${name}-clone` });
  result.clone_disks = await apiGet(page, `/domains/${name}-clone/disks`).then((j) => j.disks.map((d) => d.source));
  await page.click('button[data-action=rename]');
  await submitDialog(page, { 'rn-name': `${name}-r` });
  await page.waitForFunction((n) => location.hash === `#/vm/${n}` && document.querySelector('.page-details h1')?.textContent === n,
    `${name}-r`, { timeout: 15000 });
  await page.waitForFunction(() => document.querySelector('#vm-state')?.textContent === 'shut off', null, { timeout: 15000 });

  // Delete with both disks.
  await page.click('button[data-action=delete]');
  await page.locator('dialog.modal[open] .del-disk').first().waitFor();
  const boxes = await page.$$eval('dialog.modal[open] .del-disk', (b) => b.map((x) => `${x.value}:${x.checked}`));
  result.delete_boxes = boxes;
  await submitDialog(page);
  await page.waitForSelector('.page-list', { timeout: 15000 });
  await page.waitForFunction((n) => !document.querySelector(`.vlist-row[data-name="${n}"]`), name, { timeout: 15000 });
  result.total_ms = Date.now() - t0;
  await shot(page, 'deleted');
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
  result.toasts = await page.$$eval('.toast-text', (t) => t.map((x) => x.textContent)).catch(() => []);
  log(result.error);
  try { await shot(page, 'failure'); } catch { /* page gone */ }
}
result.browser_console = consoleLog.slice(-20);
await browser.close();
console.log(JSON.stringify(result));
process.exit(rc);
