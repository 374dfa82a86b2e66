import assert from 'node:assert/strict';
import { it } from 'node:test';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { AuditService } from '../../src/governance/audit.service.ts';
import { runCdp } from '../e2e/server-process.ts';
import { describeEachStore, type StoreHandle } from '../support/stores.ts';
import { basicAuth, createTestApp } from '../support/test-app.ts';

/** Changes the stored audit log behind the platform's back, as an intruder with DB access would. */
async function tamper(handle: StoreHandle, statement: string): Promise<void> {
  if (handle.env['CDP_DATABASE_URL']) {
    const client = new pg.Client({ connectionString: handle.env['CDP_DATABASE_URL'] });
    await client.connect();
    await client.query(statement);
    await client.end();
    return;
  }
  const db = new BetterSqlite3(path.join(handle.env['CDP_DATA_DIR'] ?? '', 'cdp.sqlite'));
  db.exec(statement);
  db.close();
}

describeEachStore('audit log', (fixture) => {
  it('records changes and reads of personal data, lists them, and keeps an intact chain', async () => {
    const { store } = await fixture.fresh();
    const t = await createTestApp(store);
    const ws = `/api/v1/workspaces/${t.workspace.slug}`;
    const created = await t.app.http.inject({
      method: 'POST',
      url: `${ws}/sources`,
      headers: t.adminHeaders,
      payload: { name: 'Audited', type: 'http' },
      remoteAddress: '198.51.100.7',
    });
    assert.equal(created.statusCode, 201);
    await t.app.http.inject({
      method: 'POST',
      url: '/v1/track',
      headers: basicAuth(t.writeKey),
      payload: { userId: 'u', event: 'E' },
    });
    assert.equal(
      (await t.app.http.inject({ method: 'GET', url: `${ws}/events?userId=u`, headers: t.adminHeaders }))
        .statusCode,
      200,
    );
    const refused = await t.app.http.inject({
      method: 'POST',
      url: `${ws}/tokens`,
      headers: t.adminHeaders,
      payload: { name: 'x', role: 'nope' },
    });
    assert.equal(refused.statusCode, 400);

    const listed = await t.app.http.inject({
      method: 'GET',
      url: `${ws}/audit-log`,
      headers: t.adminHeaders,
    });
    assert.equal(listed.statusCode, 200, listed.body);
    const items = listed.json().items as {
      action: string;
      ip: string;
      actor: { kind: string };
      details: { kind: string; filters?: string[] };
      target: string;
    }[];
    assert.deepEqual(
      items.map((e) => e.action),
      ['GET /api/v1/workspaces/:ws/events', 'POST /api/v1/workspaces/:ws/sources'],
    );
    assert.equal(items[1]?.ip, '198.51.100.7');
    assert.equal(items[1]?.actor.kind, 'instance_owner');
    assert.deepEqual(
      items[0]?.details,
      { kind: 'read', filters: ['userId'] },
      'filters named, values (PII) not stored',
    );

    const viewer = await t.app.services.tokens.create(t.workspace.id, { name: 'v', role: 'viewer' });
    const forbidden = await t.app.http.inject({
      method: 'GET',
      url: `${ws}/audit-log`,
      headers: { authorization: `Bearer ${viewer.secret}` },
    });
    assert.equal(forbidden.statusCode, 403);
    assert.deepEqual(await t.app.services.audit.verify(), { ok: true, entries: 2 });
    await t.close();
  });

  it('detects a changed entry, a removed entry and removed newest entries', async () => {
    const handle = await fixture.fresh();
    const audit = new AuditService({
      auditLog: handle.store.auditLog,
      clock: { now: () => Date.UTC(2026, 0, 1) },
    });
    for (const action of ['one', 'two', 'three', 'four']) {
      await audit.record({
        workspaceId: 'ws',
        actor: { kind: 'cli', tokenId: null, role: 'owner' },
        action,
        target: '{}',
        ip: null,
        details: {},
      });
    }
    assert.deepEqual(await audit.verify(), { ok: true, entries: 4 });
    await handle.store.close();

    const verify = async () => {
      const store = await handle.reopen();
      try {
        return await new AuditService({ auditLog: store.auditLog, clock: { now: () => 0 } }).verify();
      } finally {
        await store.close();
      }
    };
    await tamper(handle, "UPDATE audit_log SET action = 'nothing happened' WHERE action = 'two'");
    assert.deepEqual(await verify(), {
      ok: false,
      entries: 2,
      brokenAtSeq: 2,
      reason: 'this entry was changed',
    });
    await tamper(handle, "UPDATE audit_log SET action = 'two' WHERE action = 'nothing happened'");
    assert.equal((await verify()).ok, true, 'restoring the exact row restores the chain');
    await tamper(handle, "DELETE FROM audit_log WHERE action = 'four'");
    assert.deepEqual(await verify(), {
      ok: false,
      entries: 3,
      brokenAtSeq: 4,
      reason: 'the newest entries were removed',
    });
    await tamper(handle, "DELETE FROM audit_log WHERE action = 'two'");
    const broken = await verify();
    assert.equal(broken.ok, false);
    assert.equal(!broken.ok && broken.brokenAtSeq, 3);

    const cli = await runCdp(['audit', 'verify'], handle.env);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /audit log broken at entry 3/);
  });

  it('cdp audit verify passes on an intact log and records CLI changes', { timeout: 120_000 }, async () => {
    const handle = await fixture.fresh();
    await handle.store.close();
    assert.equal((await runCdp(['workspace', 'create', 'Audited Inc'], handle.env)).code, 0);
    assert.equal(
      (await runCdp(['token', 'create', 'audited-inc', 'ci', '--role', 'viewer'], handle.env)).code,
      0,
    );
    const verified = await runCdp(['audit', 'verify'], handle.env);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /audit log intact: 2 entries/);
  });

  // Two connections (as the server and a CLI command, or two API processes) appending at once:
  // each entry must chain to the one committed before it, never to the same predecessor.
  it('two connections appending at once keep one unbroken chain', async () => {
    const handle = await fixture.fresh();
    const other = await handle.reopen();
    const clock = { now: () => Date.now() };
    const services = [handle.store, other].map(
      (store) => new AuditService({ auditLog: store.auditLog, clock }),
    );
    const appends = services.flatMap((service, s) =>
      Array.from({ length: 40 }, (_, i) =>
        service.record({
          workspaceId: null,
          actor: { kind: 'instance_owner', tokenId: null, role: 'owner' },
          action: 'POST /test',
          target: `${s}-${i}`,
          ip: null,
          details: { kind: 'change' },
        }),
      ),
    );
    const entries = await Promise.all(appends);
    assert.equal(new Set(entries.map((e) => e.prevHash)).size, 80, 'no two entries share a predecessor');
    const verdict = await services[0]?.verify();
    assert.deepEqual(verdict, { ok: true, entries: 80 });
    await other.close();
  });
});
