/**
 * `cdp keys rotate`: every sealed value is re-encrypted under a new data key and the old key is
 * dropped; with `--encryption-key` the stored keys are re-wrapped, after which only the new
 * instance key opens them. The data reads the same throughout.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { runCdp } from '../e2e/server-process.ts';
import { dumpAll } from '../privacy/store-dump.ts';
import { describeEachStore } from '../support/stores.ts';

const AT = Date.parse('2026-03-01T00:00:00Z');
const OLD_KEY = Buffer.alloc(32, 5).toString('base64');
const NEW_KEY = Buffer.alloc(32, 9).toString('hex');

function identify(i: number, userId: string, traits: Record<string, string>): AcceptedEvent {
  const message = {
    type: 'identify',
    messageId: `kcli-${i}`,
    userId,
    traits,
    timestamp: new Date(AT + i).toISOString(),
  };
  return {
    workspaceId: 'ws_kcli',
    sourceId: 'src_1',
    messageId: `kcli-${i}`,
    type: 'identify',
    event: null,
    userId,
    anonymousId: null,
    timestampMs: AT + i,
    receivedMs: AT,
    payload: JSON.stringify(message),
  };
}

async function exportOf(env: Record<string, string>, email: string) {
  return runCdp(['privacy', 'request', 'kcli', 'export', 'email', email, '--json'], env);
}

describeEachStore('cdp keys rotate', (fixture) => {
  it(
    're-encrypts under a new data key, drops the old one, and re-wraps with a new instance key',
    { timeout: 180_000 },
    async () => {
      const handle = await fixture.fresh();
      const env = { ...handle.env, CDP_ENCRYPTION_KEY: OLD_KEY };
      const { store } = handle;
      await store.workspaces.create({ id: 'ws_kcli', slug: 'kcli', name: 'Keys CLI', createdMs: AT });
      await store.events.append(
        [
          identify(1, 'ann', { email: 'ann.rotate@example.com', name: 'Ann Rotate' }),
          identify(2, 'bob', { email: 'bob.rotate@example.com', phone: '+33698765432' }),
        ],
        0,
      );
      // Written without a vault (plain), like data from before encryption: rotation seals it.
      await store.destinations.create({
        id: 'dst_kcli',
        workspaceId: 'ws_kcli',
        type: 'webhook',
        name: 'hook',
        config: {
          url: 'https://hooks.example.com/x',
          secret: 'whsec_rotate_me_0123456789',
          sendDeletions: true,
        },
        filter: null,
        segments: [],
        consentCategories: [],
        enabled: true,
        createdMs: AT,
        updatedMs: AT,
      });
      await store.close();
      assert.equal((await runCdp(['profiles', 'rebuild', 'kcli'], env)).code, 0);
      const sealedUnder = (dump: Map<string, string[]>, key: string): number =>
        [...dump.values()].flat().join('\n').split(`enc:v1:${key}:`).length - 1;
      const before = await dumpAll(handle);
      assert.ok(sealedUnder(before, 'k1') > 0);

      const rotated = await runCdp(['keys', 'rotate', '--json'], env);
      assert.equal(rotated.code, 0, rotated.stderr);
      const result = JSON.parse(rotated.stdout) as {
        keyId: string;
        retired: string[];
        counts: Record<string, { rows: number; changed: number }>;
      };
      assert.equal(result.keyId, 'k2');
      assert.deepEqual(result.retired, ['k1']);
      assert.ok((result.counts['profiles']?.changed ?? 0) >= 2);
      assert.ok((result.counts['profile_identifiers']?.changed ?? 0) >= 3);
      const after = await dumpAll(handle);
      assert.equal(sealedUnder(after, 'k1'), 0, 'nothing is left under the old data key');
      assert.ok(sealedUnder(after, 'k2') > 0);
      const secrets = after.get('destinations')?.join('\n') ?? '';
      assert.ok(secrets.includes('enc:v1:k2:') && !secrets.includes('whsec_rotate_me'), secrets);
      assert.ok(!(await dumpAll(handle)).get('instance_state')?.join('').includes('"k1"'));

      const read = await exportOf(env, 'ann.rotate@example.com');
      assert.equal(read.code, 0, read.stderr);
      assert.ok(read.stdout.includes('Ann Rotate') && !read.stdout.includes('enc:v1:'), read.stdout);

      const rewrapped = await runCdp(['keys', 'rotate', '--encryption-key', '--json'], {
        ...env,
        CDP_NEW_ENCRYPTION_KEY: NEW_KEY,
      });
      assert.equal(rewrapped.code, 0, rewrapped.stderr);
      assert.equal((JSON.parse(rewrapped.stdout) as { encryptionKey: string }).encryptionKey, 'env');

      const withOld = await exportOf(env, 'bob.rotate@example.com');
      assert.equal(withOld.code, 1);
      assert.match(withOld.stderr, /another encryption key/);
      const withNew = await exportOf({ ...env, CDP_ENCRYPTION_KEY: NEW_KEY }, 'bob.rotate@example.com');
      assert.equal(withNew.code, 0, withNew.stderr);
      assert.ok(
        withNew.stdout.includes('+33698765432') && !withNew.stdout.includes('enc:v1:'),
        withNew.stdout,
      );

      const missing = await runCdp(['keys', 'rotate', '--encryption-key'], {
        ...env,
        CDP_ENCRYPTION_KEY: NEW_KEY,
      });
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /CDP_NEW_ENCRYPTION_KEY/);
    },
  );
});
