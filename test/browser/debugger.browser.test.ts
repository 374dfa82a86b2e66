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
        await page.click('#connect button[type=submit]');
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

    it(
      'profile explorer: looks a person up by e-mail, shows identities, traits, activity chart and timeline',
      { timeout: 60_000 },
      async () => {
        for (const body of [
          { anonymousId: 'anon-br', event: 'Product Viewed', timestamp: '2026-01-01T10:00:00Z' },
          { anonymousId: 'anon-br', event: 'Order Completed', timestamp: '2026-01-02T10:00:00Z' },
        ]) {
          const sent = await fetch(`${base}/v1/track`, {
            method: 'POST',
            headers: { ...basicAuth(t.writeKey), 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          assert.equal(sent.status, 200);
        }
        const identified = await fetch(`${base}/v1/identify`, {
          method: 'POST',
          headers: { ...basicAuth(t.writeKey), 'content-type': 'application/json' },
          body: JSON.stringify({
            anonymousId: 'anon-br',
            userId: 'br-1',
            traits: { email: 'Browser@Example.com', name: '<img src=x onerror=alert(1)>' },
            timestamp: '2026-01-03T10:00:00Z',
          }),
        });
        assert.equal(identified.status, 200);
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('console', (message) => {
          // A lookup of a profile that does not exist (yet) is a 404 by design.
          if (message.type() === 'error' && !/status of 404/.test(message.text()))
            problems.push(message.text());
        });
        page.on('pageerror', (error) => problems.push(error.message));
        page.on('dialog', (dialog) => {
          problems.push(`dialog: ${dialog.message()}`);
          void dialog.dismiss();
        });
        await page.goto(`${base}/`);
        await page.fill('#token', ADMIN_TOKEN);
        await page.fill('#workspace', t.workspace.slug);
        await page.fill('#id-value', 'browser@example.com');
        // The pipeline runs after the ack: look up until the profile has its three events.
        for (let i = 0; i < 100; i += 1) {
          await page.click('#lookup button[type=submit]');
          await page.waitForTimeout(100);
          if ((await page.locator('#timeline li').count()) === 3) break;
        }
        await page.locator('#identities li', { hasText: 'email: browser@example.com' }).waitFor();
        await page.locator('#identities li', { hasText: 'anonymous_id: anon-br' }).waitFor();
        await page.locator('#traits td', { hasText: '<img src=x onerror=alert(1)>' }).waitFor();
        assert.equal(await page.locator('#activity rect').count(), 3, 'one bar per active day');
        // Readable with few days: narrow bars, a count per bar, the scale and the total.
        assert.deepEqual(await page.locator('#activity rect title').allTextContents(), [
          '2026-01-01: 1 event',
          '2026-01-02: 1 event',
          '2026-01-03: 1 event',
        ]);
        const widths = await page
          .locator('#activity rect')
          .evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('width'))));
        assert.ok(
          widths.every((w) => w > 0 && w <= 24),
          `bar widths ${widths.join(', ')}`,
        );
        await page.locator('#activity text', { hasText: '3 events on 3 of 3 days (max 1 a day)' }).waitFor();
        assert.equal(await page.locator('#timeline li').count(), 3);
        await page.fill('#id-value', 'nobody@example.com');
        await page.click('#lookup button[type=submit]');
        await page.getByText('no profile has this email').waitFor();
        assert.deepEqual(problems, []);
        await page.close();
      },
    );
  },
);
