import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { PiiVault } from '../../src/privacy/pii-vault.ts';
import type { Database } from '../../src/storage/database-schema.ts';
import { PiiSealing } from '../../src/storage/kysely/pii-sealing.ts';

// The store's sealing remembers opened scalars by their sealed text (the pipeline reads the
// same profiles batch after batch): what it remembers must never outlive the key ring it came from.
// (The database is only read for a workspace's PII classification, which these cases do not need.)
const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
after(() => db.destroy());
const sealing = new PiiSealing(db);
const lookup = randomBytes(32);
const ring = (id: string, key: Buffer): PiiVault =>
  new PiiVault({ activeId: id, keys: new Map([[id, key]]) }, lookup);

it('opens a sealed scalar the same way every time, from memory after the first', () => {
  const vault = ring('k1', randomBytes(32));
  sealing.install(vault);
  const sealed = vault.seal('zoe@example.fr');
  assert.equal(sealing.open(sealed), 'zoe@example.fr');
  assert.equal(sealing.open(sealed), 'zoe@example.fr');
  const number = vault.seal(42);
  assert.equal(sealing.open(number), 42);
  assert.equal(sealing.open(number), 42);
  assert.equal(sealing.open('plain text'), 'plain text', 'plain data stays as it is');
});

it('forgets what it opened when another key ring is installed', () => {
  const first = ring('k1', randomBytes(32));
  sealing.install(first);
  const sealed = first.seal('+33612345678');
  assert.equal(sealing.open(sealed), '+33612345678');
  // A ring without that key (the key retired): the text no longer opens, even once remembered.
  sealing.install(ring('k2', randomBytes(32)));
  assert.equal(sealing.open(sealed), sealed);
});

it('hands out a fresh copy of a sealed object on every read', () => {
  const vault = ring('k1', randomBytes(32));
  sealing.install(vault);
  const sealed = vault.seal({ street: '1 rue X', zip: '75001' });
  const first = sealing.open(sealed) as { street: string };
  first.street = 'changed by a caller';
  assert.deepEqual(sealing.open(sealed), { street: '1 rue X', zip: '75001' });
});
