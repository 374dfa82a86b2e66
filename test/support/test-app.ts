import { Writable } from 'node:stream';
import { buildApp, type App, type AppDependencies } from '../../src/app/build-app.ts';
import { parseConfig, type Config } from '../../src/config/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createManualClock, systemClock, type Clock } from '../../src/shared/clock.ts';
import type { Store } from '../../src/storage/store.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** A fixed instance encryption key, so apps reopened on the same store compute the same hashes. */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7);

export interface TestApp {
  readonly app: App;
  readonly store: Store;
  readonly config: Config;
  readonly adminHeaders: { authorization: string };
  /** A workspace with one source, ready for ingestion. */
  readonly workspace: { id: string; slug: string };
  readonly writeKey: string;
  readonly sourceId: string;
  readonly logs: string[];
  close(): Promise<void>;
}

export { createManualClock };

/** A complete app over a real store (no sockets; use `app.http.inject`). */
export async function createTestApp(
  store: Store,
  options: {
    env?: Record<string, string>;
    clock?: Clock;
    stages?: AppDependencies['stages'];
    retryPolicy?: AppDependencies['retryPolicy'];
    workspaceSlug?: string;
    /** `false`: the caller starts the app's background work (`app.start()`) itself. */
    start?: boolean;
  } = {},
): Promise<TestApp> {
  const config = parseConfig({ CDP_ADMIN_TOKEN: ADMIN_TOKEN, CDP_LOG_LEVEL: 'warn', ...options.env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger(config, sink);
  const app = await buildApp({
    config,
    store,
    clock: options.clock ?? systemClock,
    logger,
    stages: options.stages ?? [],
    busPollIntervalMs: 50,
    encryptionKey: TEST_ENCRYPTION_KEY,
    ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
  });
  if (options.start !== false) await app.start();
  const slug = options.workspaceSlug ?? `ws-${Math.random().toString(36).slice(2, 10)}`;
  const existing = await store.workspaces.findByIdOrSlug(slug);
  const workspace = existing ?? (await app.services.workspaces.create({ name: slug, slug }));
  const { source, writeKey } = await app.services.sources.create(workspace.id, {
    name: 'test source',
    type: 'http',
  });
  return {
    app,
    store,
    config,
    adminHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` },
    workspace: { id: workspace.id, slug: workspace.slug },
    writeKey,
    sourceId: source.id,
    logs,
    close: () => app.close(),
  };
}

export function basicAuth(writeKey: string): { authorization: string } {
  return { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` };
}
