import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ThrottleState } from '../../src/access/login-throttle.ts';
import type { Membership, Session, User } from '../../src/access/user-types.ts';
import type { Store } from '../../src/storage/store.ts';
import { describeEachStore } from '../support/stores.ts';

/** The console-user repositories (users, memberships, sessions, sign-in throttle, setup code). */

const NOW = Date.UTC(2026, 10, 1, 12);

const user = (id: string, email: string, overrides: Partial<User> = {}): User => ({
  id,
  email,
  instanceOwner: false,
  createdMs: NOW,
  updatedMs: NOW,
  disabledMs: null,
  lastLoginMs: null,
  ...overrides,
});

const membership = (
  userId: string,
  workspaceId: string,
  overrides: Partial<Membership> = {},
): Membership => ({
  userId,
  workspaceId,
  role: 'viewer',
  pii: null,
  createdMs: NOW,
  updatedMs: NOW,
  ...overrides,
});

const session = (idHash: string, userId: string, overrides: Partial<Session> = {}): Session => ({
  idHash,
  userId,
  createdMs: NOW,
  lastSeenMs: NOW,
  expiresMs: NOW + 12 * 3_600_000,
  ip: '198.51.100.1',
  userAgent: 'test',
  ...overrides,
});

async function withWorkspaces(store: Store): Promise<void> {
  await store.workspaces.create({ id: 'ws_a', slug: 'a', name: 'A', createdMs: NOW });
  await store.workspaces.create({ id: 'ws_b', slug: 'b', name: 'B', createdMs: NOW });
}

const bump = (current: ThrottleState | undefined): ThrottleState => ({
  failures: (current?.failures ?? 0) + 1,
  windowStartMs: current?.windowStartMs ?? NOW,
  lockedUntilMs: 0,
  lockouts: 0,
  updatedMs: NOW,
});

describeEachStore('store conformance: console users', (fixture) => {
  it('stores users with unique e-mail addresses, the hash only for sign-in', async () => {
    const { store } = await fixture.fresh();
    assert.equal(await store.users.any(), false);
    const zoe = user('usr_a', 'zoe@example.com', { instanceOwner: true });
    assert.equal(await store.users.create(zoe, '$argon2id$hash-a'), true);
    assert.equal(await store.users.create(user('usr_b', 'zoe@example.com'), 'x'), false);
    await store.users.create(user('usr_c', 'cy@example.com'), '$argon2id$hash-c');
    assert.equal(await store.users.any(), true);
    assert.deepEqual(await store.users.find('usr_a'), zoe);
    assert.deepEqual(await store.users.findByEmail('zoe@example.com'), {
      user: zoe,
      passwordHash: '$argon2id$hash-a',
    });
    assert.equal(await store.users.findByEmail('nobody@example.com'), undefined);
    assert.deepEqual(
      (await store.users.list({ limit: 1, afterId: 'usr_a' })).map((u) => u.id),
      ['usr_c'],
    );
    assert.equal(
      await store.users.update('usr_a', {
        updatedMs: NOW + 1,
        disabledMs: NOW + 1,
        instanceOwner: false,
        passwordHash: 'new',
      }),
      true,
    );
    await store.users.recordLogin('usr_a', NOW + 2);
    assert.deepEqual(await store.users.find('usr_a'), {
      ...zoe,
      instanceOwner: false,
      updatedMs: NOW + 1,
      disabledMs: NOW + 1,
      lastLoginMs: NOW + 2,
    });
    assert.equal((await store.users.findByEmail('zoe@example.com'))?.passwordHash, 'new');
    assert.equal(await store.users.update('usr_none', { updatedMs: NOW }), false);
  });

  it('keeps one membership per user and workspace, with role and PII override', async () => {
    const { store } = await fixture.fresh();
    await withWorkspaces(store);
    await store.users.create(user('usr_a', 'a@example.com'), 'h');
    await store.users.create(user('usr_b', 'b@example.com'), 'h');
    const granted = membership('usr_a', 'ws_a', { role: 'viewer', pii: 'grant' });
    assert.equal(await store.memberships.add(granted), true);
    assert.equal(await store.memberships.add(membership('usr_a', 'ws_a')), false);
    await store.memberships.add(membership('usr_a', 'ws_b', { role: 'admin' }));
    await store.memberships.add(membership('usr_b', 'ws_a', { pii: 'withdraw', role: 'marketer' }));
    assert.deepEqual(await store.memberships.find('usr_a', 'ws_a'), granted);
    assert.deepEqual(
      (await store.memberships.listForUser('usr_a')).map((m) => [m.workspaceId, m.role, m.pii]),
      [
        ['ws_a', 'viewer', 'grant'],
        ['ws_b', 'admin', null],
      ],
    );
    assert.equal((await store.memberships.listForUsers(['usr_a', 'usr_b'])).length, 3);
    const members = await store.memberships.listForWorkspace('ws_a', { limit: 10 });
    assert.deepEqual(
      members.map((m) => [m.user.email, m.membership.role, m.membership.pii]),
      [
        ['a@example.com', 'viewer', 'grant'],
        ['b@example.com', 'marketer', 'withdraw'],
      ],
    );
    assert.deepEqual(members[0]?.membership, granted);
    assert.deepEqual(
      (await store.memberships.listForWorkspace('ws_a', { limit: 10, afterId: 'usr_a' })).map(
        (m) => m.user.id,
      ),
      ['usr_b'],
    );
    assert.equal(
      await store.memberships.update('usr_a', 'ws_a', { role: 'analyst', pii: null, updatedMs: NOW + 5 }),
      true,
    );
    assert.deepEqual(await store.memberships.find('usr_a', 'ws_a'), {
      ...granted,
      role: 'analyst',
      pii: null,
      updatedMs: NOW + 5,
    });
    assert.equal(await store.memberships.remove('usr_a', 'ws_a'), true);
    assert.equal(await store.memberships.remove('usr_a', 'ws_a'), false);
    assert.equal(await store.memberships.find('usr_a', 'ws_a'), undefined);
  });

  it('stores sessions by hash, touches forward only, and ends them per user or when expired', async () => {
    const { store } = await fixture.fresh();
    await store.users.create(user('usr_a', 'a@example.com'), 'h');
    await store.users.create(user('usr_b', 'b@example.com'), 'h');
    const first = session('h1', 'usr_a');
    await store.sessions.create(first);
    await store.sessions.create(session('h2', 'usr_a'));
    await store.sessions.create(session('h3', 'usr_b', { lastSeenMs: NOW - 3_600_000 }));
    await store.sessions.create(session('h4', 'usr_b', { expiresMs: NOW - 1 }));
    assert.deepEqual(await store.sessions.find('h1'), first);
    await store.sessions.touch('h1', NOW + 60_000);
    await store.sessions.touch('h1', NOW + 30_000);
    assert.equal((await store.sessions.find('h1'))?.lastSeenMs, NOW + 60_000, 'never moves back');
    assert.equal(await store.sessions.deleteExpired(NOW, NOW - 30 * 60_000), 2);
    assert.equal(await store.sessions.find('h3'), undefined);
    assert.equal(await store.sessions.deleteForUser('usr_a', 'h1'), 1);
    assert.notEqual(await store.sessions.find('h1'), undefined);
    assert.equal(await store.sessions.delete('h1'), true);
    assert.equal(await store.sessions.delete('h1'), false);
  });

  it('updates sign-in throttle counters atomically, also from several connections', async () => {
    const handle = await fixture.fresh();
    const { store } = handle;
    assert.deepEqual(await store.loginThrottle.read(['k']), new Map());
    await Promise.all(Array.from({ length: 10 }, () => store.loginThrottle.update('k', bump)));
    assert.equal((await store.loginThrottle.read(['k', 'other'])).get('k')?.failures, 10);

    // A second connection to the same data (another API process).
    const second = await handle.reopen();
    try {
      if (fixture.kind === 'postgres') {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 === 0 ? store : second).loginThrottle.update('k', bump),
          ),
        );
      } else {
        // Two SQLite connections in one process cannot wait for each other (better-sqlite3 waits
        // synchronously); processes can, so here they take turns.
        for (let i = 0; i < 20; i++) await (i % 2 === 0 ? store : second).loginThrottle.update('k', bump);
      }
      assert.equal((await second.loginThrottle.read(['k'])).get('k')?.failures, 30);
    } finally {
      await second.close();
    }
    await store.loginThrottle.delete('k');
    assert.equal((await store.loginThrottle.read(['k'])).size, 0);
    await store.loginThrottle.update('old', (c) => ({ ...bump(c), updatedMs: NOW - 1 }));
    await store.loginThrottle.update('locked', (c) => ({
      ...bump(c),
      updatedMs: NOW - 1,
      lockedUntilMs: NOW + 1,
    }));
    assert.equal(await store.loginThrottle.prune(NOW), 1, 'a running lockout is kept');
  });

  it('keeps one setup code hash, consumed exactly once', async () => {
    const { store } = await fixture.fresh();
    await store.setupCodes.put('hash-1');
    await store.setupCodes.put('hash-2');
    assert.equal(await store.setupCodes.consume('hash-1'), false, 'replaced by the newer code');
    const results = await Promise.all([1, 2, 3].map(() => store.setupCodes.consume('hash-2')));
    assert.deepEqual(results.filter(Boolean), [true]);
    await store.setupCodes.put('hash-3');
    await store.setupCodes.clear();
    assert.equal(await store.setupCodes.consume('hash-3'), false);
  });
});
