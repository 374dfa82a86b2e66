import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { Store } from '../../src/storage/store.ts';
import type { StoreFixture, StoreHandle } from './stores.ts';
import { basicAuth, createTestApp, type TestApp } from './test-app.ts';

/** A stored event as the admin API shows it: the Segment message itself. */
export type Message = Record<string, unknown>;

export interface Stats {
  readonly events: number;
  readonly profiles: number;
  readonly [key: string]: unknown;
}

export interface SendOptions {
  /** Replaces the default Basic auth header; `null` sends no Authorization header. */
  readonly auth?: string | null;
  readonly headers?: Record<string, string>;
  readonly remoteAddress?: string;
}

/**
 * Posts to the Tracking API. Objects are sent as JSON text with `application/json`; strings and
 * buffers are sent as given (no content type unless one is passed in `headers`).
 */
export function send(
  t: TestApp,
  route: string,
  body: unknown,
  options: SendOptions = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  const raw = typeof body === 'string' || Buffer.isBuffer(body);
  if (!raw) headers['content-type'] = 'application/json';
  if (options.auth === undefined) Object.assign(headers, basicAuth(t.writeKey));
  else if (options.auth !== null) headers['authorization'] = options.auth;
  Object.assign(headers, options.headers);
  return t.app.http.inject({
    method: 'POST',
    url: `/v1/${route}`,
    headers,
    payload: raw ? body : JSON.stringify(body),
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  });
}

/** Sends and asserts Segment's success answer. */
export async function sendOk(
  t: TestApp,
  route: string,
  body: unknown,
  options: SendOptions = {},
): Promise<void> {
  const res = await send(t, route, body, options);
  assert.equal(res.statusCode, 200, `POST /v1/${route} answered ${res.statusCode}: ${res.body}`);
  assert.deepEqual(res.json(), { success: true });
}

/** Asserts the public error shape and status; returns the error object. */
export function expectError(
  res: LightMyRequestResponse,
  status: number,
  code?: string,
): Record<string, unknown> {
  assert.equal(res.statusCode, status, `expected ${status}, got ${res.statusCode}: ${res.body}`);
  assert.match(String(res.headers['content-type']), /application\/json/);
  const body = res.json<{ error?: Record<string, unknown> }>();
  assert.ok(body.error && typeof body.error === 'object', `no "error" object in ${res.body}`);
  assert.equal(typeof body.error['code'], 'string', `error.code missing in ${res.body}`);
  assert.equal(typeof body.error['message'], 'string', `error.message missing in ${res.body}`);
  assert.notEqual(body.error['message'], '');
  if (code !== undefined) assert.equal(body.error['code'], code, `unexpected code in ${res.body}`);
  return body.error;
}

export async function admin(
  t: TestApp,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
  /** `{authorization}` for a token, or a console session's cookie and CSRF headers. */
  auth: Readonly<Record<string, string>> = t.adminHeaders,
): Promise<LightMyRequestResponse> {
  return t.app.http.inject({
    method,
    url,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

export function wsUrl(t: TestApp, rest = ''): string {
  return `/api/v1/workspaces/${t.workspace.slug}${rest}`;
}

export async function stats(t: TestApp): Promise<Stats> {
  const res = await admin(t, 'GET', wsUrl(t, '/stats'));
  assert.equal(res.statusCode, 200, res.body);
  return res.json<Stats>();
}

/** Every stored event of the test workspace matching `query`, newest first, walking all pages. */
export async function allEvents(t: TestApp, query: Record<string, string> = {}): Promise<Message[]> {
  const items: Message[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const params = new URLSearchParams({ limit: '500', ...query, ...(cursor ? { cursor } : {}) });
    const res = await admin(t, 'GET', wsUrl(t, `/events?${params}`));
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ items: Message[]; nextCursor: string | null }>();
    items.push(...body.items);
    cursor = body.nextCursor;
    if (cursor === null) return items;
  }
  throw new Error('events paging did not end');
}

/** The one stored event with this messageId (fails when there are none or several). */
export async function storedMessage(t: TestApp, messageId: string): Promise<Message> {
  const found = (await allEvents(t)).filter((m) => m['messageId'] === messageId);
  assert.equal(
    found.length,
    1,
    `expected one stored event with messageId ${messageId}, found ${found.length}`,
  );
  return found[0] as Message;
}

let counter = 0;
/** A messageId unique within the test run. */
export function uniqueId(prefix = 'msg'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Builds an app over `store`, runs `fn`, and always closes the app (not the store). */
export async function withApp<T>(
  store: Store,
  options: Parameters<typeof createTestApp>[1],
  fn: (t: TestApp) => Promise<T>,
): Promise<T> {
  const t = await createTestApp(store, options);
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/** One store per suite, opened on first use (the fixture cleans it up after the suite). */
export function sharedStore(fixture: StoreFixture): () => Promise<Store> {
  let handle: Promise<StoreHandle> | undefined;
  return async () => {
    handle ??= fixture.fresh();
    return (await handle).store;
  };
}

/** Polls until `probe` answers something (the pipeline and background work run after the ack). */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Every stage has processed everything in the log, and every Audience event decided meanwhile
 * is in the log and processed too: nothing was owed before the lag was read, none was decided
 * while it was read (the counter did not move), and the lag was 0.
 */
export async function drained(t: TestApp): Promise<void> {
  await eventually(async () => {
    const before = t.app.audiences.publishing();
    const lags = await t.app.pipeline.lag();
    const after = t.app.audiences.publishing();
    const quiet = before.pending === 0 && after.pending === 0 && before.generation === after.generation;
    return quiet && lags.every((l) => l.lag === 0) ? true : undefined;
  }, 'pipeline');
}

/** The `audience_key` of the profile's events named `event` (Audience Entered / Exited), as listed. */
export async function audienceKeys(t: TestApp, profileId: string, event: string): Promise<string[]> {
  const res = await admin(
    t,
    'GET',
    wsUrl(t, `/profiles/${profileId}/events?event=${encodeURIComponent(event)}`),
  );
  return res
    .json<{ items: { properties: { audience_key: string } }[] }>()
    .items.map((e) => e.properties.audience_key);
}
