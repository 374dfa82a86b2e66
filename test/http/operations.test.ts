import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULT_GATE_POLICY } from '../../src/pipeline/foreground-activity.ts';
import { admin, expectError, send, sendOk, sharedStore, withApp, wsUrl } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

// /health, /metrics, the OpenAPI document, unknown routes and the error shape everywhere.

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

const ADMIN_ROUTES = [
  'POST /api/v1/workspaces',
  'GET /api/v1/workspaces',
  'GET /api/v1/workspaces/{ws}',
  'POST /api/v1/workspaces/{ws}/sources',
  'GET /api/v1/workspaces/{ws}/sources',
  'GET /api/v1/workspaces/{ws}/sources/{id}',
  'PATCH /api/v1/workspaces/{ws}/sources/{id}',
  'POST /api/v1/workspaces/{ws}/sources/{id}/rotate-key',
  'POST /api/v1/workspaces/{ws}/tokens',
  'GET /api/v1/workspaces/{ws}/tokens',
  'DELETE /api/v1/workspaces/{ws}/tokens/{id}',
  'GET /api/v1/workspaces/{ws}/events',
  'GET /api/v1/workspaces/{ws}/events/stream',
  'GET /api/v1/workspaces/{ws}/stats',
];

type Json = Record<string, unknown>;

/** Resolves a local JSON pointer ("#/components/schemas/x"). */
function resolvePointer(doc: Json, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `non-local $ref ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>(
      (node, key) => (node && typeof node === 'object' ? (node as Json)[key] : undefined),
      doc,
    );
}

function collectRefs(node: unknown, refs: string[] = []): string[] {
  if (Array.isArray(node)) for (const child of node) collectRefs(child, refs);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') refs.push(value);
      else collectRefs(value, refs);
    }
  }
  return refs;
}

/** Prometheus text: `name{labels} value` samples, keyed by name + labels. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    const value = Number(match[3] === '+Inf' ? Infinity : match[3]);
    assert.ok(!Number.isNaN(value), line);
    samples.set(`${match[1]}${match[2] ?? ''}`, value);
  }
  return samples;
}

describeEachStore('operations and API conventions', (fixture) => {
  const store = sharedStore(fixture);
  const app = async (fn: (t: TestApp) => Promise<void>): Promise<void> => withApp(await store(), {}, fn);

  it('GET /health answers 200 {"status":"ok"} without a token', async () => {
    await app(async (t) => {
      const res = await t.app.http.inject({ method: 'GET', url: '/health' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(res.json(), { status: 'ok' });
    });
  });

  it('GET /api/v1/openapi.json is a valid OpenAPI 3 document listing the admin routes', async () => {
    await app(async (t) => {
      const res = await t.app.http.inject({ method: 'GET', url: '/api/v1/openapi.json' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const doc = res.json<Json & { paths: Record<string, Record<string, Json>>; info: Json }>();
      assert.match(String(doc['openapi']), /^3\.\d+\.\d+$/);
      assert.equal(typeof doc.info['title'], 'string');
      assert.equal(typeof doc.info['version'], 'string');
      const listed: string[] = [];
      const operationIds = new Set<string>();
      for (const [path, operations] of Object.entries(doc.paths)) {
        assert.ok(path.startsWith('/'), path);
        const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        for (const [method, operation] of Object.entries(operations)) {
          if (method === 'parameters' || method === 'summary' || method === 'description') continue;
          assert.ok(METHODS.has(method), `${path}: unknown method ${method}`);
          listed.push(`${method.toUpperCase()} ${path}`);
          const responses = operation['responses'] as Record<string, Json> | undefined;
          assert.ok(responses && Object.keys(responses).length > 0, `${method} ${path} has no responses`);
          for (const [status, response] of Object.entries(responses)) {
            assert.match(status, /^([1-5](\d\d|XX)|default)$/, `${method} ${path}: status ${status}`);
            assert.equal(
              typeof response['description'],
              'string',
              `${method} ${path} ${status}: no description`,
            );
          }
          const params = ((operation['parameters'] ?? []) as Json[]).filter((p) => p['in'] === 'path');
          for (const name of templated) {
            const param = params.find((p) => p['name'] === name);
            assert.ok(
              param && param['required'] === true,
              `${method} ${path}: path parameter {${name}} not declared`,
            );
          }
          const id = operation['operationId'];
          if (typeof id === 'string') {
            assert.ok(!operationIds.has(id), `duplicate operationId ${id}`);
            operationIds.add(id);
          }
        }
      }
      for (const route of ADMIN_ROUTES)
        assert.ok(listed.includes(route), `${route} is not in the OpenAPI document`);
      for (const ref of collectRefs(doc))
        assert.notEqual(resolvePointer(doc, ref), undefined, `unresolved $ref ${ref}`);
      const sample = doc.paths['/api/v1/workspaces/{ws}/sources']?.['post'];
      assert.ok(sample?.['requestBody'], 'POST sources documents no request body');
    });
  });

  it('GET /metrics serves Prometheus text with ingestion counters, ack latency and batch sizes', async () => {
    await app(async (t) => {
      await sendOk(t, 'track', { userId: 'u', event: 'E', messageId: 'm-1' });
      await sendOk(t, 'batch', {
        batch: [
          { type: 'track', userId: 'u', event: 'E', messageId: 'm-2' },
          { type: 'track', userId: 'u', event: 'E', messageId: 'm-3' },
          { type: 'identify', userId: 'u', messageId: 'm-1' },
        ],
      });
      assert.equal((await send(t, 'track', { userId: 'u' })).statusCode, 400);
      const res = await t.app.http.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      assert.match(res.body, /^# TYPE cdp_ingest_events_total counter$/m);
      assert.match(res.body, /^# TYPE cdp_ingest_ack_seconds histogram$/m);
      assert.match(res.body, /^# TYPE cdp_ingest_batch_size histogram$/m);
      const samples = parsePrometheus(res.body);
      const expectations: [string, number][] = [
        ['cdp_ingest_events_total{outcome="stored"}', 3],
        ['cdp_ingest_events_total{outcome="duplicate"}', 1],
        ['cdp_ingest_ack_seconds_count{route="track",status="200"}', 1],
        ['cdp_ingest_ack_seconds_count{route="batch",status="200"}', 1],
        ['cdp_ingest_ack_seconds_count{route="track",status="400"}', 1],
        ['cdp_ingest_batch_size_count{route="batch"}', 1],
        ['cdp_ingest_batch_size_sum{route="batch"}', 3],
        ['cdp_ingest_batch_size_sum{route="track"}', 1],
      ];
      for (const [sample, value] of expectations) assert.equal(samples.get(sample), value, sample);
      assert.ok([...samples.keys()].some((k) => k.startsWith('cdp_ingest_ack_seconds_bucket{')));
      // The pipeline's gate: a share of the thread, and a budget between the smallest (saturated)
      // and the maximum.
      const load = samples.get('cdp_pipeline_foreground_load');
      assert.ok(load !== undefined && load >= 0 && load <= 1, `foreground load ${load}`);
      const budget = samples.get('cdp_pipeline_busy_budget_ms');
      const { saturatedBatchMs, maxBusyBatchMs } = DEFAULT_GATE_POLICY;
      assert.ok(
        budget !== undefined && budget >= saturatedBatchMs && budget <= maxBusyBatchMs,
        `busy budget ${budget}`,
      );
    });
  });

  it('unknown routes answer 404 with the error shape', async () => {
    await app(async (t) => {
      const requests: [string, string][] = [
        ['GET', '/nope'],
        ['GET', '/api/v1/nope'],
        ['GET', '/api/v2/workspaces'],
        ['POST', '/health'],
        ['GET', '/v1/track'],
        ['POST', '/v1/purchase'],
        ['DELETE', '/api/v1/workspaces'],
        ['GET', wsUrl(t, '/sources/x/y/z')],
      ];
      for (const [method, url] of requests) {
        const res = await t.app.http.inject({ method: method as 'GET', url, headers: t.adminHeaders });
        expectError(res, 404, 'request.not_found');
      }
    });
  });

  it('admin errors always have the {"error":{"code","message"}} shape', async () => {
    await app(async (t) => {
      const json = { ...t.adminHeaders, 'content-type': 'application/json' };
      const inject = (
        method: 'POST' | 'PATCH',
        url: string,
        headers: Record<string, string>,
        payload: string,
      ) => t.app.http.inject({ method, url, headers, payload });
      expectError(await inject('POST', '/api/v1/workspaces', json, '{"name":'), 400, 'request.invalid_json');
      expectError(await inject('POST', '/api/v1/workspaces', json, ''), 400);
      expectError(await inject('POST', '/api/v1/workspaces', json, '[]'), 400, 'request.invalid_body');
      const text = { ...t.adminHeaders, 'content-type': 'text/plain' };
      const wrongType = await inject('POST', '/api/v1/workspaces', text, '{"name":"x"}');
      assert.ok(wrongType.statusCode === 415 || wrongType.statusCode === 400, wrongType.body);
      expectError(wrongType, wrongType.statusCode);
      const huge = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
      expectError(await inject('POST', '/api/v1/workspaces', json, huge), 413, 'request.too_large');
      expectError(
        await inject('PATCH', wsUrl(t, `/sources/${t.sourceId}`), json, '{"name":""}'),
        400,
        'request.invalid_body',
      );
      expectError(await admin(t, 'GET', '/api/v1/workspaces/nope/stats'), 404, 'workspace.not_found');
      expectError(await admin(t, 'DELETE', wsUrl(t, '/tokens/tok_nope')), 404, 'token.not_found');
      // A DELETE with a JSON content type and nothing after it has no body: the route answers.
      expectError(
        await t.app.http.inject({
          method: 'DELETE',
          url: wsUrl(t, '/tokens/tok_nope'),
          headers: json,
          payload: '',
        }),
        404,
        'token.not_found',
      );
      expectError(await admin(t, 'GET', wsUrl(t, '/failed-events/fe_nope')), 404);
    });
  });
});
