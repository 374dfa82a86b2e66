import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';

/**
 * The whole configuration, parsed once at start-up from the environment and frozen.
 * Nothing else in the code base reads `process.env`.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  /**
   * PostgreSQL: connections this process may hold (API reads run beside a pipeline batch, so at
   * least 2). Scale-out runs many processes against one server: their sum, plus the pipeline
   * thread's where it is on, must stay under the server's `max_connections`.
   */
  readonly databasePoolSize: number;
  readonly natsUrl: string | undefined;
  readonly adminToken: string | undefined;
  /** 32 raw bytes, or undefined: then a key file in the data dir is used (created on first start). */
  readonly encryptionKey: Buffer | undefined;
  readonly egressAllow: readonly string[];
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly dedupWindowMs: number;
  /** Events waiting for a group commit beyond which ingestion answers 429. */
  readonly maxPendingEvents: number;
  readonly trustProxy: boolean;
  /**
   * Where clients reach this server when that is not what it sees (a TLS proxy, a load
   * balancer, another name): the SDK settings send browsers there instead of to the Host header.
   */
  readonly publicUrl: string | undefined;
  readonly shutdownTimeoutMs: number;
  /** Worker threads that parse and enrich ingested bodies; 0 runs that on the main thread. */
  readonly ingestWorkers: number;
  /** A console session ends after this long without a request. */
  readonly sessionIdleMs: number;
  /** A console session ends this long after sign-in, however active. */
  readonly sessionMaxMs: number;
  /** Ingestion requests per second per write key (burst: twice that); 0: no limit. */
  readonly rateLimitIngest: number;
  /** Admin API requests per second per API token or console user (burst: twice that); 0: no limit. */
  readonly rateLimitApi: number;
  /**
   * In-process pipeline, while ingestion requests come and the pipeline has fallen behind: how
   * much thread time one of its batches may take (its transaction lets requests in between
   * statements, so this trades freshness against API reads waiting for the batch and against
   * the ack path's share of the thread, not against one ack's wait).
   */
  readonly pipelineMaxBatchMs: number;
  /**
   * The server runs the pipeline (stages, real-time audiences, their scheduler) on a thread of
   * its own (`CDP_PIPELINE_THREAD`, default false): the ack path and the admin API keep the
   * main thread, the pipeline gets a core of its own where the machine has one to spare
   * (docs/PERFORMANCE.md has what it costs on two cores shared with the load).
   */
  readonly pipelineThread: boolean;
  /**
   * Embedded store: SQLite's page cache, in MB (pages are taken as they are read, up to this).
   * More keeps the profile indexes of a large store in memory: faster pipeline, larger RSS.
   */
  readonly sqliteCacheMb: number;
  /**
   * Whether an audited read of personal data is answered only once its audit entry is on disk
   * (`CDP_AUDIT_READS_WAIT_FOR_DISK`, default true; false: once it is committed and its flush
   * started, governance/audit.service.ts). Changes always wait for the disk.
   */
  readonly auditReadsWaitForDisk: boolean;
}

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw))
    throw new ConfigError(name, `"${raw}" is not a whole number; allowed: ${min}–${max}`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(name, `${value} is out of range; allowed: ${min}–${max}`);
  return value;
}

function url(env: Env, name: string, schemes: readonly string[]): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a URL; expected ${schemes.map((s) => `${s}//…`).join(' or ')}`);
  }
  if (!schemes.includes(parsed.protocol)) {
    throw new ConfigError(name, `scheme "${parsed.protocol}" not allowed; expected ${schemes.join(' or ')}`);
  }
  return raw;
}

function encryptionKey(env: Env): Buffer | undefined {
  return readEncryptionKey(env, 'CDP_ENCRYPTION_KEY');
}

/** A 32-byte key from a variable, as 64 hex characters or base64 (also `CDP_NEW_ENCRYPTION_KEY`). */
export function readEncryptionKey(env: Env, name: string): Buffer | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) {
    throw new ConfigError(name, 'must be 32 bytes, as 64 hex characters or base64');
  }
  return key;
}

function egressAllow(env: Env): string[] {
  const raw = read(env, 'CDP_EGRESS_ALLOW');
  if (raw === undefined) return [];
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const isCidr =
      bits !== undefined && extra === undefined && isIP(address ?? '') !== 0 && /^\d{1,3}$/.test(bits);
    const isHost = bits === undefined && /^[a-zA-Z0-9.\-:[\]]+$/.test(entry);
    if (!isCidr && !isHost) {
      throw new ConfigError(
        'CDP_EGRESS_ALLOW',
        `"${entry}" is neither a host name, an IP address nor a CIDR`,
      );
    }
  }
  return entries;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function logLevel(env: Env): Config['logLevel'] {
  const raw = read(env, 'CDP_LOG_LEVEL') ?? 'info';
  const level = LOG_LEVELS.find((candidate) => candidate === raw);
  if (level === undefined)
    throw new ConfigError('CDP_LOG_LEVEL', `"${raw}" not allowed; one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `"${raw}" not allowed; use true or false`);
}

export function parseConfig(env: Env, cwd: string = process.cwd()): Config {
  const adminToken = read(env, 'CDP_ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('CDP_ADMIN_TOKEN', 'must be at least 16 characters long');
  }
  const host = read(env, 'HOST') ?? '127.0.0.1';
  const sessionIdleMs = integer(env, 'CDP_SESSION_IDLE_MINUTES', 30, 1, 24 * 60) * 60_000;
  const sessionMaxMs = integer(env, 'CDP_SESSION_MAX_HOURS', 12, 1, 24 * 30) * 3_600_000;
  if (sessionIdleMs > sessionMaxMs)
    throw new ConfigError('CDP_SESSION_IDLE_MINUTES', 'must not exceed CDP_SESSION_MAX_HOURS');
  if (!/^[a-zA-Z0-9.\-:[\]]+$/.test(host))
    throw new ConfigError('HOST', `"${host}" is not a host name or IP address`);
  return Object.freeze({
    port: integer(env, 'PORT', 8080, 0, 65535),
    host,
    dataDir: path.resolve(cwd, read(env, 'CDP_DATA_DIR') ?? './data'),
    databaseUrl: url(env, 'CDP_DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePoolSize: integer(env, 'CDP_DATABASE_POOL_SIZE', 10, 2, 1_000),
    natsUrl: url(env, 'CDP_NATS_URL', ['nats:', 'tls:']),
    adminToken,
    encryptionKey: encryptionKey(env),
    egressAllow: Object.freeze(egressAllow(env)),
    logLevel: logLevel(env),
    dedupWindowMs: integer(env, 'CDP_DEDUP_WINDOW_HOURS', 24, 1, 24 * 90) * 3_600_000,
    maxPendingEvents: integer(env, 'CDP_MAX_PENDING_EVENTS', 100_000, 100, 10_000_000),
    trustProxy: bool(env, 'CDP_TRUST_PROXY', false),
    publicUrl: url(env, 'CDP_PUBLIC_URL', ['http:', 'https:']),
    shutdownTimeoutMs: integer(env, 'CDP_SHUTDOWN_TIMEOUT_MS', 8_000, 100, 600_000),
    rateLimitIngest: integer(env, 'CDP_RATE_LIMIT_INGEST', 1_000, 0, 10_000_000),
    rateLimitApi: integer(env, 'CDP_RATE_LIMIT_API', 100, 0, 10_000_000),
    pipelineMaxBatchMs: integer(env, 'CDP_PIPELINE_MAX_BATCH_MS', 500, 25, 10_000),
    pipelineThread: bool(env, 'CDP_PIPELINE_THREAD', false),
    sqliteCacheMb: integer(env, 'CDP_SQLITE_CACHE_MB', 8, 2, 64 * 1024),
    auditReadsWaitForDisk: bool(env, 'CDP_AUDIT_READS_WAIT_FOR_DISK', true),
    ingestWorkers: integer(
      env,
      'CDP_INGEST_WORKERS',
      Math.max(1, Math.min(4, availableParallelism() - 1)),
      0,
      64,
    ),
    sessionIdleMs,
    sessionMaxMs,
  });
}
