import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe('landing page and live debugger served at /', () => {
  let t: TestApp;
  before(async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    t = await createTestApp(store);
  });
  after(async () => {
    await t.close();
    await t.store.close();
  });

  it('serves the page with a CSP that forbids inline script', async () => {
    const page = await t.app.http.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /^text\/html/);
    assert.match(page.body, /<script type="module" src="\/console\/debugger.js"><\/script>/);
    assert.doesNotMatch(page.body, /<script>(?!<)/, 'no inline script');
    const csp = page.headers['content-security-policy'] as string;
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
  });

  it('serves the debugger script and stylesheet', async () => {
    const script = await t.app.http.inject({ method: 'GET', url: '/console/debugger.js' });
    assert.equal(script.statusCode, 200);
    assert.match(script.headers['content-type'] as string, /^text\/javascript/);
    assert.match(script.body, /\/events\/stream/);
    const css = await t.app.http.inject({ method: 'GET', url: '/console/debugger.css' });
    assert.match(css.headers['content-type'] as string, /^text\/css/);
  });

  it('does not put the CSP of the page on API answers: they get a locked-down one', async () => {
    const health = await t.app.http.inject({ method: 'GET', url: '/health' });
    const csp = String(health.headers['content-security-policy']);
    assert.doesNotMatch(csp, /script-src 'self'/);
    assert.match(csp, /default-src 'none'/);
  });
});
