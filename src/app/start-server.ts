import type { Config } from '../config/config.ts';
import { createLogger } from '../observability/logger.ts';
import { systemClock } from '../shared/clock.ts';
import { createStore } from '../storage/create-store.ts';
import { lockDataDir } from '../storage/sqlite/server-lock.ts';
import { bootstrapInstance } from './bootstrap.ts';
import { buildApp } from './build-app.ts';
import { loadOrCreateEncryptionKey } from './encryption-key.ts';

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
  const encryptionKey = loadOrCreateEncryptionKey(config.encryptionKey, config.dataDir);
  const store = createStore(config, { server: true });
  await store.migrate();
  // Rebuild what the append path needs (SQLite's dedup index) before accepting traffic.
  await store.events.prepare(Date.now() - config.dedupWindowMs);
  const app = await buildApp({ config, store, clock: systemClock, logger, encryptionKey });
  const boot = await bootstrapInstance({ instance: store.instance, ...app.services });
  // While no console user exists, every start prints a fresh one-time code (the older is void).
  const setupCode = await app.services.setup.issueIfNeeded();
  app.start();
  const address = await app.http.listen({ port: config.port, host: config.host });
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
    app
      .close()
      .then(() => store.close())
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
