import { ConfigError, type Config } from '../config/config.ts';
import { createLogger } from '../observability/logger.ts';
import { systemClock } from '../shared/clock.ts';
import { createStore } from '../storage/create-store.ts';
import type { Store } from '../storage/store.ts';
import { lockDataDir } from '../storage/sqlite/server-lock.ts';
import { bootstrapInstance } from './bootstrap.ts';
import { buildApp } from './build-app.ts';
import { loadOrCreateEncryptionKey } from './encryption-key.ts';
import { PipelineThread } from './pipeline-thread.ts';

function banner(lines: string[]): string {
  const width = Math.max(...lines.map((line) => line.length)) + 2;
  return [
    '',
    `┌${'─'.repeat(width)}┐`,
    ...lines.map((line) => `│ ${line.padEnd(width - 1)}│`),
    `└${'─'.repeat(width)}┘`,
    '',
  ].join('\n');
}

type App = Awaited<ReturnType<typeof buildApp>>;

/** Opens the store, builds the app and listens; each resource is reported as soon as it exists. */
async function startUp(
  config: Config,
  logger: ReturnType<typeof createLogger>,
  opened: (store: Store) => void,
  built: (app: App) => void,
) {
  const encryptionKey = loadOrCreateEncryptionKey(config.encryptionKey, config.dataDir);
  const store = createStore(config, { server: true });
  opened(store);
  await store.migrate();
  // Rebuild what the append path needs (SQLite's dedup index) before accepting traffic.
  await store.events.prepare(Date.now() - config.dedupWindowMs);
  const app = await buildApp({
    config,
    store,
    clock: systemClock,
    logger,
    encryptionKey,
    ...(config.pipelineThread
      ? { role: { kind: 'api', link: new PipelineThread({ config, encryptionKey, logger }) } as const }
      : {}),
  });
  built(app);
  const boot = await bootstrapInstance({ instance: store.instance, ...app.services });
  // While no console user exists, every start prints a fresh one-time code (the older is void).
  const setupCode = await app.services.setup.issueIfNeeded();
  await app.start();
  const address = await app.http.listen({ port: config.port, host: config.host }).catch((error: unknown) => {
    throw listenError(error, config) ?? error;
  });
  return { store, app, boot, setupCode, address };
}

/** Why the server could not listen, in terms of the variables that decide it. */
function listenError(error: unknown, config: Config): ConfigError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const where = `${config.host}:${config.port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ConfigError(
        'PORT',
        `${where} is already in use by another process (EADDRINUSE); stop it or choose another PORT`,
      );
    case 'EACCES':
      return new ConfigError(
        'PORT',
        `not allowed to listen on ${where} (EACCES; ports below 1024 need privileges)`,
      );
    case 'EADDRNOTAVAIL':
      return new ConfigError('HOST', `${config.host} is not an address of this machine (EADDRNOTAVAIL)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(
        'HOST',
        `cannot resolve the host name ${JSON.stringify(config.host)} (${String(code)})`,
      );
    default:
      return undefined;
  }
}

/** `cdp start` / `npm start`: the whole platform in one process. */
export async function startServer(
  config: Config,
  print: (text: string) => void = (text) => process.stdout.write(`${text}\n`),
): Promise<void> {
  const logger = createLogger(config);
  if (config.natsUrl !== undefined) {
    throw new Error(
      'CDP_NATS_URL: the NATS JetStream bus is not part of this build yet; unset it to use the in-process bus',
    );
  }
  // PostgreSQL deployments with several processes must share CDP_ENCRYPTION_KEY: a key file is
  // local to one machine (the suppression key made with one cannot be opened with another).
  if (config.databaseUrl !== undefined && config.encryptionKey === undefined)
    logger.warn(
      'CDP_ENCRYPTION_KEY is not set: using the key file in the data dir; set the same key on every process',
    );
  // Before anything is read or written in the data dir: one server per embedded store.
  const lock = config.databaseUrl === undefined ? lockDataDir(config.dataDir) : undefined;
  let store: Store | undefined;
  let app: App | undefined;
  let started: Awaited<ReturnType<typeof startUp>>;
  try {
    started = await startUp(
      config,
      logger,
      (s) => (store = s),
      (a) => (app = a),
    );
  } catch (error) {
    // A server that cannot serve stops here, everything it opened closed and the data dir's
    // lock released last: left running, it would hold the store with nobody to answer.
    await app?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    lock?.release();
    throw error;
  }
  const { boot, setupCode, address } = started;
  const running = { app: started.app, store: started.store };
  const storeLine =
    config.databaseUrl === undefined ? `SQLite in ${config.dataDir}` : 'PostgreSQL (CDP_DATABASE_URL)';
  const lines = [`CDP listening on ${address}   (store: ${storeLine})`];
  if (boot.firstStart) {
    lines.push(
      `Workspace:      ${boot.workspace.slug} (${boot.workspace.id})`,
      `Write key:      ${boot.writeKey}   (source "${boot.source.name}")`,
      `Admin token:    ${boot.adminToken}`,
      'Both secrets are shown only now: store them. Rotate a write key with `cdp source rotate-key`.',
    );
  } else if (boot.workspace) {
    lines.push(`Workspace:      ${boot.workspace.slug} (${boot.workspace.id})`);
    if (boot.source)
      lines.push(
        `Write key:      ${boot.source.writeKeyPrefix}…   (shown at first start; \`cdp source rotate-key ${boot.workspace.slug} ${boot.source.id}\` makes a new one)`,
      );
  }
  if (setupCode !== undefined) {
    lines.push(
      `Setup code:     ${setupCode}`,
      'No console user yet: create the first owner with this one-time code (POST /api/v1/setup),',
      'or with `cdp user create --email <you> --role owner`. A restart prints a new code.',
    );
  }
  lines.push(
    `Try:  curl -u '<write key>:' ${address}/v1/track -H 'content-type: application/json' -d '{"userId":"u1","event":"Hello"}'`,
  );
  print(banner(lines));

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    running.app
      .close()
      .then(() => running.store.close())
      .then(() => {
        lock?.release();
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
