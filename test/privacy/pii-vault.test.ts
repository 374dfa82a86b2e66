import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { unwrapKey, wrapKey } from '../../src/privacy/key-wrap.ts';
import { PiiVault, SEALED_PREFIX } from '../../src/privacy/pii-vault.ts';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const lookup = randomBytes(32);
const vault = new PiiVault({ activeId: 'k1', keys: new Map([['k1', k1]]) }, lookup);

it('seals any JSON value and opens it back; equal values seal differently', () => {
  for (const value of ['zoe@example.fr', 42, true, null, ['a', 1], { street: '1 rue X', zip: '75001' }, '']) {
    const sealed = vault.seal(value);
    assert.ok(sealed.startsWith(`${SEALED_PREFIX}k1:`));
    assert.ok(!sealed.includes('zoe'));
    assert.deepEqual(vault.open(sealed), value);
  }
  assert.notEqual(vault.seal('same'), vault.seal('same'));
});

it('never opens what it did not seal: tampered text, unknown keys and look-alikes stay plain data', () => {
  const sealed = vault.seal('zoe@example.fr');
  const body = sealed.slice(sealed.lastIndexOf(':') + 1);
  const flipped = `${sealed.slice(0, sealed.length - body.length)}${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
  assert.equal(vault.open(flipped), flipped);
  assert.equal(vault.opens(flipped), false);
  const other = new PiiVault({ activeId: 'k2', keys: new Map([['k2', k2]]) }, lookup);
  assert.equal(other.open(sealed), sealed, 'a ring without k1 cannot open it');
  assert.equal(vault.open('enc:v1:k1:not-base64-at-all'), 'enc:v1:k1:not-base64-at-all');
  assert.equal(vault.open('plain value'), 'plain value');
  assert.equal(vault.opens('plain value'), false);
});

it('opens values of every key of the ring and tells which were sealed with an older key', () => {
  const rotated = new PiiVault(
    {
      activeId: 'k2',
      keys: new Map([
        ['k1', k1],
        ['k2', k2],
      ]),
    },
    lookup,
  );
  const old = vault.seal('+33612345678');
  assert.equal(rotated.open(old), '+33612345678');
  assert.equal(rotated.sealedWithOlderKey(old), true);
  assert.equal(rotated.sealedWithOlderKey(rotated.seal('x')), false);
  assert.ok(rotated.seal('x').startsWith(`${SEALED_PREFIX}k2:`));
});

it('lookup hashes are deterministic per lookup key and type', () => {
  const h = vault.lookupHash('email', 'zoe@example.fr');
  assert.equal(h, vault.lookupHash('email', 'zoe@example.fr'));
  assert.notEqual(h, vault.lookupHash('phone', 'zoe@example.fr'));
  const other = new PiiVault({ activeId: 'k1', keys: new Map([['k1', k1]]) }, randomBytes(32));
  assert.notEqual(h, other.lookupHash('email', 'zoe@example.fr'));
  assert.match(h, /^[A-Za-z0-9_-]{43}$/);
});

it('a wrapped key opens only with the same instance key and label', () => {
  const master = randomBytes(32);
  const wrapped = wrapKey(k1, master, 'label a');
  assert.deepEqual(unwrapKey(wrapped, master, 'label a'), k1);
  assert.throws(() => unwrapKey(wrapped, randomBytes(32), 'label a'), { code: 'privacy.key_mismatch' });
  assert.throws(() => unwrapKey(wrapped, master, 'label b'), { code: 'privacy.key_mismatch' });
});
