import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hash } from '@node-rs/argon2';
import { Argon2idPasswordHasher, OWASP_ARGON2ID } from '../../src/access/argon2id-password-hasher.ts';

describe('argon2id password hasher', () => {
  const hasher = new Argon2idPasswordHasher();

  it('hashes with argon2id at OWASP parameters, a fresh salt each time', async () => {
    const first = await hasher.hash('plum tractor sings at dawn');
    const second = await hasher.hash('plum tractor sings at dawn');
    assert.match(first, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(first, second);
    assert.equal(await hasher.verify(first, 'plum tractor sings at dawn'), true);
    assert.equal(await hasher.verify(first, 'plum tractor sings at dusk'), false);
    assert.equal(hasher.needsRehash(first), false);
  });

  it('answers false, never throws, for a malformed or foreign hash', async () => {
    assert.equal(await hasher.verify('', 'x'), false);
    assert.equal(await hasher.verify('$argon2id$garbage', 'x'), false);
    assert.equal(await hasher.verify('$2b$10$abcdefghijklmnopqrstuv', 'x'), false);
  });

  it('asks for a rehash of weaker hashes, and refuses weaker parameters', async () => {
    const weak = await hash('plum tractor sings at dawn', { memoryCost: 8192, timeCost: 1, parallelism: 1 });
    assert.equal(hasher.needsRehash(weak), true);
    assert.throws(() => new Argon2idPasswordHasher({ ...OWASP_ARGON2ID, memoryCost: 4096 }), /OWASP/);
    const stronger = new Argon2idPasswordHasher({ ...OWASP_ARGON2ID, timeCost: 3 });
    assert.equal(stronger.needsRehash(await hasher.hash('plum tractor sings at dawn')), true);
  });
});
