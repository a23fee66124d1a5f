import t from 'tap';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createLogger, createPool, issueApiKey } from '@strata/core';
import { apiClient, createTenant, recentBaseTime, startSystem, waitForToken } from '@strata/testkit';

/*
 * ops' status page in a real browser (Debian's chromium, driven by playwright-core) against the four
 * services as processes: it loads without console errors, shows the numbers this test produced, lists
 * a dead letter whose attacker-written text stays text, refuses a retry with a read key, stays within
 * a phone's width, and a dead letter retried from the page (with an all key) is projected.
 *
 * STATUS_PAGE_SCREENSHOT=docs/images/status-page.png also saves the desktop view there (README).
 */
const CHROMIUM = '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM) ? false : 'chromium is not installed (apt-get install -y chromium)';
const BASE = recentBaseTime();
// No quotes in it: the reason and the stored event quote JSON, which would escape them.
const HOSTILE = '<img src=x onerror=window.__pwned=1>';

t.test('the status page, in Chromium', { skip: SKIP }, async (t) => {
  const system = await startSystem(t, { ingestMaxWaitMs: 2 });
  const db = createPool({ connectionString: system.config.databaseUrl, max: 2, applicationName: 'e2e-status-page' }, createLogger('e2e', 'silent'));
  t.teardown(() => db.end());
  const tenant = await createTenant(db, 'page');
  const readKey = (await issueApiKey(db, tenant.tenant, { scope: 'read' }))?.apiKey as string;
  const write = apiClient(system.urls['command-api'], tenant.apiKey);
  const read = apiClient(system.urls['query-api'], tenant.apiKey);

  // 30 events, then one the database refuses after its 202: a constraint an operator put on history
  // (class 23, so the projector dead-letters it alone). Lifting it later is "the cause is gone".
  const ingested = await write.post('/v1/events', { events: Array.from({ length: 30 }, (_, i) => ({ device: 'meter-1', ts: BASE + i * 1000, values: { kw: i } })) });
  t.equal(ingested.status, 202);
  await waitForToken(db, ingested.body.token);
  await db.query(`ALTER TABLE events ADD CONSTRAINT status_page_hold CHECK (NOT ("values" ? 'note')) NOT VALID`);
  const held = await write.post('/v1/events', { device: 'held', ts: BASE, values: { note: HOSTILE } });
  t.equal(held.status, 202);
  await waitForToken(db, held.body.token);
  const letters = await db.query<{ id: string; reason: string }>('SELECT id::text, reason FROM dead_letters');
  t.equal(letters.rowCount, 1, 'one dead letter');
  t.match(letters.rows[0]?.reason, HOSTILE, 'its reason carries the attacker-written value');

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  const errors: string[] = [];
  const opsUrl = system.urls.ops;

  const desktop = await open(browser, { width: 1280, height: 900 }, errors);
  await desktop.goto(opsUrl);
  await waitForText(desktop, '#dead-events', '1');

  t.test('it loads without console errors and shows the numbers this test produced', async (t) => {
    t.equal(await text(desktop, '#ingest-events60'), '31', '30 + 1 events applied in the last minute');
    t.equal(await text(desktop, '#ingest-batches60'), '2');
    t.equal(await text(desktop, '#dead-tenants'), '1');
    t.equal(await text(desktop, '#backlog-events'), '0', 'nothing staged');
    t.equal(await text(desktop, '#part-ahead'), '7', 'a week of partitions ahead');
    t.equal(await text(desktop, '#part-missing'), 'none');
    t.equal(await text(desktop, '#cache-breaker'), 'closed', 'breakers as query-api reports them');
    t.match(await text(desktop, '#routing-note'), /No replicas configured/);
    t.equal(await desktop.getAttribute('#card-dead', 'data-state'), 'bad');
    t.match(await text(desktop, '#live-text'), /^live$/);
    t.same(errors, [], 'no console errors');
  });

  t.test('a read key lists the dead letter as text, and may not retry it', async (t) => {
    await useKey(desktop, readKey);
    await desktop.waitForSelector('#dl-list li.letter');
    t.match(await text(desktop, '#dl-list .reason'), HOSTILE, 'the reason is shown literally');
    t.match(await text(desktop, '#dl-list .event'), HOSTILE);
    t.equal(await desktop.locator('#dl-list img').count(), 0, 'no element was made from it');
    t.equal(await desktop.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined, 'no script ran');
    await desktop.click('#dl-list button.retry');
    await waitForText(desktop, '#dl-message', 'this request needs a key with scope all');
    t.same(errors.filter((line) => !/status of 403/.test(line)), [], 'only the refused request was logged');
    errors.length = 0;
    await desktop.click('#key-forget');
  });

  t.test('on a phone (390×844) nothing is wider than the screen', async (t) => {
    const phone = await open(browser, { width: 390, height: 844 }, errors);
    await phone.goto(opsUrl);
    await waitForText(phone, '#dead-events', '1');
    await useKey(phone, tenant.apiKey);
    await phone.waitForSelector('#dl-list li.letter');
    const widths = await phone.evaluate(() => {
      const page = globalThis as unknown as BrowserGlobals;
      return { scroll: page.document.documentElement.scrollWidth, inner: page.innerWidth };
    });
    t.ok(widths.scroll <= widths.inner, `page ${widths.scroll}px wide in a ${widths.inner}px viewport`);
    await phone.close();
  });

  t.test('a dead letter retried from the page with an all key is projected', async (t) => {
    await useKey(desktop, tenant.apiKey);
    await desktop.waitForSelector('#dl-list li.letter');
    const screenshot = process.env.STATUS_PAGE_SCREENSHOT;
    if (screenshot) {
      // Some traffic of the last seconds, so the picture has a rate in it.
      for (let i = 0; i < 10; i++) {
        const batch = await write.post('/v1/events', { events: Array.from({ length: 20 }, (_, j) => ({ device: `meter-${(j % 4) + 1}`, ts: BASE + 60_000 + i * 20_000 + j * 1000, values: { kw: j } })) });
        await waitForToken(db, batch.body.token);
      }
      await desktop.waitForFunction(() => Number((globalThis as unknown as BrowserGlobals).document.querySelector('#ingest-eps10')?.textContent) >= 10);
      mkdirSync(dirname(screenshot), { recursive: true });
      await desktop.screenshot({ path: screenshot, fullPage: true });
    }
    await db.query('ALTER TABLE events DROP CONSTRAINT status_page_hold');
    await desktop.click('#dl-list button.retry');
    await waitForText(desktop, '#dl-message', `#${letters.rows[0]?.id} retried and projected.`);
    await waitForText(desktop, '#dead-events', '0');
    t.equal(await desktop.locator('#dl-list li.letter').count(), 0, 'gone from the list');
    const history = await read.get('/v1/devices/held/events');
    t.equal(history.status, 200);
    t.same(history.body.items?.map((e: { values: unknown }) => e.values), [{ note: HOSTILE }], 'in history');
    const state = await read.get('/v1/devices/held?consistency=strong');
    t.same(state.body.values, { note: HOSTILE }, 'in latest state');
    t.same(errors, [], 'no console errors');
  });
});

/** The little of the DOM these checks use (the tests are typed without the DOM library). */
interface BrowserGlobals {
  innerWidth: number;
  document: { documentElement: { scrollWidth: number }; querySelector(selector: string): { textContent: string | null } | null };
}

async function open(browser: Browser, viewport: { width: number; height: number }, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('dialog', (dialog) => {
    errors.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return page;
}

async function useKey(page: Page, key: string): Promise<void> {
  await page.fill('#api-key', key);
  await page.click('#key-use');
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector)) ?? '').trim();
}

async function waitForText(page: Page, selector: string, expected: string): Promise<void> {
  // A function, not a string: the page's policy forbids eval, and playwright evaluates strings with it.
  await page.waitForFunction(
    ([sel, want]) => ((globalThis as unknown as BrowserGlobals).document.querySelector(sel)?.textContent ?? '').trim() === want,
    [selector, expected] as const,
    { timeout: 15_000 },
  );
}
