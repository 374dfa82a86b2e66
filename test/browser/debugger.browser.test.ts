import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { ADMIN_TOKEN, basicAuth, createTestApp, type TestApp } from '../support/test-app.ts';

const CHROMIUM = process.env['CDP_CHROMIUM'] ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env['CI'])
  throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run installs it in CI`);

/** Debian's Chromium, headless (Playwright gives it a fresh profile), driving the page at `/`. */
describe(
  'live event debugger in Chromium',
  { skip: available ? false : `Chromium not installed at ${CHROMIUM}` },
  () => {
    let t: TestApp;
    let base: string;
    let browser: Browser;

    before(async () => {
      const store = createSqliteStore({ filename: ':memory:' });
      await store.migrate();
      t = await createTestApp(store);
      base = await t.app.http.listen({ port: 0, host: '127.0.0.1' });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });
    after(async () => {
      await browser?.close();
      await t.close();
      await t.store.close();
    });

    it(
      'shows events as they are ingested, with no CSP violation or script error',
      { timeout: 60_000 },
      async () => {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('console', (message) => {
          if (message.type() === 'error') problems.push(message.text());
        });
        page.on('pageerror', (error) => problems.push(error.message));
        await page.goto(`${base}/`);
        await page.getByText('healthy').waitFor();
        await page.fill('#token', ADMIN_TOKEN);
        await page.fill('#workspace', t.workspace.slug);
        await page.click('button[type=submit]');
        await page.getByText(/events stored/).waitFor();
        // Stats are read first; give the stream a moment to open before sending.
        await page.waitForTimeout(300);
        const sent = await fetch(`${base}/v1/track`, {
          method: 'POST',
          headers: { ...basicAuth(t.writeKey), 'content-type': 'application/json' },
          body: JSON.stringify({ userId: 'browser-1', event: 'Debugger Saw Me' }),
        });
        assert.equal(sent.status, 200);
        await page.locator('#events li', { hasText: 'Debugger Saw Me' }).waitFor({ timeout: 10_000 });
        assert.deepEqual(problems, []);
        await page.close();
      },
    );
  },
);
