// The browser test of the host's pages (Host, Networks, Storage, Task log):
// Playwright (playwright-core from web/node_modules) driving Debian's
// Chromium headless against a running virtd web listener.
// tests/integration/test_web_host.py starts the daemon and runs this.
//
//   node tests/web/host-test.mjs --url URL --user U --password P --net NAME
//        --net-address A --pool NAME --pool-path DIR [--shots DIR]
//
// Host page: the KVM verdict. Networks: create NAME isolated (the address
// given, DHCP on), start it, add and remove a static host, stop it, delete
// it. Storage: create a directory pool at DIR, upload a 4 MiB file as an ISO
// volume (progress to 100 %), see it in the task log, delete it, stop and
// delete the pool. Prints one JSON line of results; exits non-zero on any
// failure (with a screenshot in --shots).
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

const rest = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : dflt;
};
const url = opt('url');
const shots = opt('shots', null);
const CHROMIUM = process.env.VIRTD_TEST_CHROMIUM || '/usr/bin/chromium';
const result = {};
const log = (...a) => console.error('host-test:', ...a);
const T = 20000;

async function shot(page, name) {
  if (!shots) return;
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function login(page) {
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#login-user', { timeout: T });
  await page.fill('#login-user', opt('user', 'root'));
  await page.fill('#login-password', opt('password', ''));
  await page.click('.login-form button[type=submit]');
  await page.waitForSelector('.page-list', { timeout: T });
}

// Fails at once with the page's error toast, if one shows up.
async function noError(page, what) {
  const errs = await page.$$eval('.toast-error .toast-text', (els) => els.map((e) => e.textContent));
  if (errs.length) throw new Error(`${what}: the page says: ${errs.join(' | ')}`);
}

async function waitRow(page, table, name, state) {
  const sel = `#${table} tr[data-name="${name}"]${state ? `[data-state="${state}"]` : ''}`;
  try {
    await page.waitForSelector(sel, { timeout: T });
  } catch (e) {
    await noError(page, `waiting for ${sel}`);
    throw e;
  }
  return page.locator(sel);
}

async function hostPage(page) {
  await page.click('.mainnav a[href="#/host"]');
  await page.waitForSelector('#kvm-verdict .kvm-status', { timeout: T });
  await page.waitForSelector('#host-pools tr', { timeout: T });
  await page.waitForSelector('#host-nets tr', { timeout: T });
  result.kvm_verdict = (await page.textContent('#kvm-verdict')).trim();
  result.host_facts = await page.$$eval('#host-facts dt', (els) => els.map((e) => e.textContent));
  await shot(page, 'host');
}

async function networks(page) {
  const name = opt('net');
  await page.click('.mainnav a[href="#/networks"]');
  await page.waitForSelector('#net-form');
  await page.fill('#net-name', name);
  await page.selectOption('#net-mode', 'isolated');
  await page.fill('#net-address', opt('net-address'));
  await page.fill('#net-prefix', '24');
  await page.check('#net-dhcp');
  await page.uncheck('#net-start');
  await page.click('#net-form button[type=submit]');
  await waitRow(page, 'networks', name, 'inactive');
  result.net_listed = true;
  const row = () => page.locator(`#networks tr[data-name="${name}"]`);
  await row().locator('button[data-action=start]').click();
  await waitRow(page, 'networks', name, 'active');
  result.net_started = true;
  result.net_row = (await row().textContent()).trim();

  // Static host: add, see it, remove.
  await row().locator('a').click();
  await page.waitForSelector('#net-detail:not([hidden]) #host-mac');
  const hostIp = opt('net-address').replace(/\.\d+$/, '.50');
  await page.fill('#host-mac', '52:54:00:aa:bb:cc');
  await page.fill('#host-ip', hostIp);
  await page.fill('#host-name', 'webhost');
  await page.click('#net-detail form button[type=submit]');
  await page.waitForFunction((ip) => [...document.querySelectorAll('#net-detail td')].some((t) => t.textContent === ip), hostIp, { timeout: T })
    .catch(async (e) => { await noError(page, 'static host'); throw e; });
  result.static_host_added = true;
  await shot(page, 'networks');
  await page.click('#net-detail button:has-text("Remove")');
  await page.waitForSelector('#net-detail td:has-text("No static hosts.")', { timeout: T });
  result.static_host_removed = true;

  await row().locator('button[data-action=stop]').click();
  await waitRow(page, 'networks', name, 'inactive');
  result.net_stopped = true;
  await row().locator('button[data-action=delete]').click();
  await page.waitForFunction((n) => !document.querySelector(`#networks tr[data-name="${n}"]`), name, { timeout: T });
  await noError(page, 'network');
  result.net_deleted = true;
}

async function storage(page) {
  const pool = opt('pool');
  await page.click('.mainnav a[href="#/storage"]');
  await page.waitForSelector('#pool-form');
  await page.fill('#pool-name', pool);
  await page.fill('#pool-path', opt('pool-path'));
  await page.click('#pool-form button[type=submit]');
  const prow = await waitRow(page, 'pools', pool);
  await page.waitForFunction((p) => document.querySelector(`#pools tr[data-name="${p}"]`)?.textContent.includes('running'), pool, { timeout: T });
  await page.waitForSelector('#volumes:not([hidden]) #upload-form');

  // 4 MiB: a few progress events on the way.
  const size = 4 * 1024 * 1024;
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4096) buf.write(`VIRTD-WEB-ISO ${i}\n`, i);
  await page.evaluate(() => {
    window.uploadSeen = [];
    const bar = document.querySelector('#upload-progress');
    new MutationObserver(() => window.uploadSeen.push(Number(bar.value))).observe(bar, { attributes: true });
    const t = document.querySelector('#upload-text');
    new MutationObserver(() => window.uploadSeen.push(t.textContent)).observe(t, { childList: true, characterData: true, subtree: true });
  });
  await page.setInputFiles('#upload-file', { name: 'web-test.iso', mimeType: 'application/x-iso9660-image', buffer: buf });
  await page.click('#upload-form button[type=submit]');
  await page.waitForFunction(() => /^100 %: .* uploaded/.test(document.querySelector('#upload-text').textContent), null, { timeout: 60000 })
    .catch(async (e) => { await noError(page, 'upload'); throw e; });
  result.upload_text = await page.textContent('#upload-text');
  result.upload_progress = await page.$eval('#upload-progress', (b) => b.value);
  result.upload_seen = (await page.evaluate(() => window.uploadSeen)).filter((v) => typeof v === 'string').slice(0, 8);
  await waitRow(page, 'volumes', 'web-test.iso').catch(() => null);
  await page.waitForSelector('#volumes tr[data-name="web-test.iso"]', { timeout: T });
  result.volume_row = (await page.textContent('#volumes tr[data-name="web-test.iso"]')).trim();
  await shot(page, 'storage');

  // The task log has the upload, completed.
  await page.click('.mainnav a[href="#/tasks"]');
  await page.waitForSelector('#tasks tr[data-operation="upload"][data-object="web-test.iso"]', { timeout: T });
  result.task_row = (await page.textContent('#tasks tr[data-operation="upload"][data-object="web-test.iso"]')).trim();
  result.task_state = await page.getAttribute('#tasks tr[data-operation="upload"][data-object="web-test.iso"]', 'data-state');
  await shot(page, 'tasks');

  // Delete the volume, stop and delete the pool.
  await page.click('.mainnav a[href="#/storage"]');
  await page.click(`#pools tr[data-name="${pool}"] a`);
  await page.waitForSelector('#volumes tr[data-name="web-test.iso"]', { timeout: T });
  await page.click('#volumes tr[data-name="web-test.iso"] button[data-action=delete]');
  await page.waitForFunction(() => !document.querySelector('#volumes tr[data-name="web-test.iso"]'), null, { timeout: T });
  result.volume_deleted = true;
  await page.click(`#pools tr[data-name="${pool}"] button[data-action=stop]`);
  await page.waitForSelector(`#pools tr[data-name="${pool}"] button[data-action=delete]:not([disabled])`, { timeout: T });
  await page.click(`#pools tr[data-name="${pool}"] button[data-action=delete]`);
  await page.waitForFunction((p) => !document.querySelector(`#pools tr[data-name="${p}"]`), pool, { timeout: T });
  await noError(page, 'storage');
  result.pool_deleted = true;
  void prow;
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let rc = 0;
const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
const page = await context.newPage();
const consoleLog = [];
page.on('console', (m) => consoleLog.push(`${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => consoleLog.push(`pageerror: ${e.message}`));
page.on('dialog', (d) => d.accept()); // the pages' "Delete ...?" confirmations
try {
  await login(page);
  await hostPage(page);
  await networks(page);
  await storage(page);
  result.ok = true;
} catch (e) {
  rc = 1;
  result.ok = false;
  result.error = String(e && e.stack ? e.stack : e);
  log(result.error);
  try { await shot(page, 'failure'); } catch { /* page gone */ }
}
result.browser_console = consoleLog.slice(-20);
await browser.close();
console.log(JSON.stringify(result));
process.exit(rc);
