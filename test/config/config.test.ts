import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/config.ts';

describe('parseConfig', () => {
  it('applies the contract defaults', () => {
    const config = parseConfig({}, '/srv');
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.dataDir, '/srv/data');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.natsUrl, undefined);
    assert.equal(config.dedupWindowMs, 24 * 3_600_000);
    assert.equal(config.sessionIdleMs, 30 * 60_000, 'console sessions: 30 idle minutes');
    assert.equal(config.sessionMaxMs, 12 * 3_600_000, 'and 12 hours at most');
    assert.deepEqual(config.egressAllow, []);
    assert.equal(config.sqliteCacheMb, 8, 'SQLite page cache: 8 MB');
    assert.equal(config.databasePoolSize, 10, 'PostgreSQL: 10 connections per process');
    assert.equal(config.pipelineThread, false, 'the pipeline shares the main thread');
    assert.equal(config.auditReadsWaitForDisk, true, 'reads are answered once their audit entry is on disk');
    assert.ok(Object.isFrozen(config));
  });

  it('reads every variable', () => {
    const config = parseConfig(
      {
        PORT: '9000',
        HOST: '0.0.0.0',
        CDP_DATA_DIR: '/var/cdp',
        CDP_DATABASE_URL: 'postgres://u@db:5432/cdp',
        CDP_NATS_URL: 'nats://127.0.0.1:4222',
        CDP_ADMIN_TOKEN: 'a-long-enough-admin-token',
        CDP_ENCRYPTION_KEY: 'ab'.repeat(32),
        CDP_EGRESS_ALLOW: 'hooks.internal, 10.0.0.0/8 ,::1',
        CDP_DEDUP_WINDOW_HOURS: '48',
        CDP_SESSION_IDLE_MINUTES: '15',
        CDP_SESSION_MAX_HOURS: '8',
        CDP_SQLITE_CACHE_MB: '256',
        CDP_DATABASE_POOL_SIZE: '25',
        CDP_PIPELINE_THREAD: 'true',
        CDP_AUDIT_READS_WAIT_FOR_DISK: 'false',
      },
      '/',
    );
    assert.equal(config.port, 9000);
    assert.equal(config.dataDir, '/var/cdp');
    assert.equal(config.databaseUrl, 'postgres://u@db:5432/cdp');
    assert.equal(config.encryptionKey?.length, 32);
    assert.deepEqual(config.egressAllow, ['hooks.internal', '10.0.0.0/8', '::1']);
    assert.equal(config.dedupWindowMs, 48 * 3_600_000);
    assert.equal(config.sessionIdleMs, 15 * 60_000);
    assert.equal(config.sessionMaxMs, 8 * 3_600_000);
    assert.equal(config.sqliteCacheMb, 256);
    assert.equal(config.databasePoolSize, 25);
    assert.equal(config.pipelineThread, true);
    assert.equal(config.auditReadsWaitForDisk, false);
  });

  const bad: [Record<string, string>, string, RegExp][] = [
    [{ CDP_SESSION_IDLE_MINUTES: '0' }, 'CDP_SESSION_IDLE_MINUTES', /out of range/],
    [
      { CDP_SESSION_IDLE_MINUTES: '600', CDP_SESSION_MAX_HOURS: '2' },
      'CDP_SESSION_IDLE_MINUTES',
      /must not exceed CDP_SESSION_MAX_HOURS/,
    ],
    [{ PORT: 'abc' }, 'PORT', /whole number/],
    [{ CDP_SQLITE_CACHE_MB: '1' }, 'CDP_SQLITE_CACHE_MB', /out of range/],
    [{ CDP_SQLITE_CACHE_MB: '8.5' }, 'CDP_SQLITE_CACHE_MB', /whole number/],
    [{ CDP_DATABASE_POOL_SIZE: '1' }, 'CDP_DATABASE_POOL_SIZE', /out of range/],
    [{ CDP_DATABASE_POOL_SIZE: 'ten' }, 'CDP_DATABASE_POOL_SIZE', /whole number/],
    [{ PORT: '70000' }, 'PORT', /out of range/],
    [{ CDP_DATABASE_URL: 'mysql://x/y' }, 'CDP_DATABASE_URL', /postgres/],
    [{ CDP_DATABASE_URL: 'not a url' }, 'CDP_DATABASE_URL', /not a URL/],
    [{ CDP_NATS_URL: 'http://x' }, 'CDP_NATS_URL', /nats/],
    [{ CDP_PUBLIC_URL: 'ftp://cdp.example' }, 'CDP_PUBLIC_URL', /https?:/],
    [{ CDP_PUBLIC_URL: 'cdp.example' }, 'CDP_PUBLIC_URL', /not a URL/],
    [{ CDP_ENCRYPTION_KEY: 'short' }, 'CDP_ENCRYPTION_KEY', /32 bytes/],
    [{ CDP_ADMIN_TOKEN: 'short' }, 'CDP_ADMIN_TOKEN', /16 characters/],
    [{ CDP_EGRESS_ALLOW: 'a b' }, 'CDP_EGRESS_ALLOW', /host name/],
    [{ CDP_EGRESS_ALLOW: '10.0.0.0/8/9' }, 'CDP_EGRESS_ALLOW', /CIDR/],
    [{ CDP_LOG_LEVEL: 'loud' }, 'CDP_LOG_LEVEL', /one of/],
    [{ CDP_TRUST_PROXY: 'maybe' }, 'CDP_TRUST_PROXY', /true or false/],
    [{ CDP_PIPELINE_THREAD: 'yes please' }, 'CDP_PIPELINE_THREAD', /true or false/],
    [{ CDP_AUDIT_READS_WAIT_FOR_DISK: 'sometimes' }, 'CDP_AUDIT_READS_WAIT_FOR_DISK', /true or false/],
    [{ HOST: 'bad host!' }, 'HOST', /host name/],
  ];
  for (const [env, variable, message] of bad) {
    it(`rejects ${JSON.stringify(env)} naming ${variable}`, () => {
      assert.throws(
        () => parseConfig(env),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.variable === variable &&
          message.test(error.message) &&
          error.message.startsWith(variable),
      );
    });
  }
});
