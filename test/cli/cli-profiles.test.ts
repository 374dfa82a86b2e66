import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { runCdp } from '../e2e/server-process.ts';
import { describeEachStore } from '../support/stores.ts';

const AT = Date.parse('2026-03-01T00:00:00Z');

function event(i: number, message: Record<string, unknown>): AcceptedEvent {
  const full: Record<string, unknown> = {
    messageId: `cli-${i}`,
    timestamp: new Date(AT + i * 1000).toISOString(),
    ...message,
  };
  return {
    workspaceId: 'ws_prof',
    sourceId: 'src_1',
    messageId: `cli-${i}`,
    type: full['type'] as AcceptedEvent['type'],
    event: typeof full['event'] === 'string' ? full['event'] : null,
    userId: typeof full['userId'] === 'string' ? full['userId'] : null,
    anonymousId: typeof full['anonymousId'] === 'string' ? full['anonymousId'] : null,
    timestampMs: AT + i * 1000,
    receivedMs: AT,
    payload: JSON.stringify(full),
  };
}

describeEachStore('cdp profiles', (fixture) => {
  it('rebuilds profiles from the log, looks them up, unmerges, relinks', { timeout: 300_000 }, async () => {
    const handle = await fixture.fresh();
    const { store } = handle;
    await store.workspaces.create({ id: 'ws_prof', slug: 'prof', name: 'Profiles', createdMs: AT });
    await store.events.append(
      [
        event(1, { type: 'track', anonymousId: 'kiosk', event: 'Viewed' }),
        event(2, {
          type: 'identify',
          anonymousId: 'kiosk',
          traits: { email: 'Ann@Example.com', plan: 'pro' },
          context: { consent: { categoryPreferences: { Marketing: true } } },
        }),
        event(3, {
          type: 'identify',
          anonymousId: 'kiosk',
          traits: { email: 'bob@example.com' },
          context: { consent: { categoryPreferences: { Marketing: false } } },
        }),
      ],
      0,
    );
    await store.close();

    const rebuilt = await runCdp(['profiles', 'rebuild', 'prof'], handle.env);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    assert.match(rebuilt.stdout, /rebuilt 1 profiles from 3 events/);

    const found = await runCdp(
      ['profiles', 'lookup', 'prof', 'email', ' ANN@example.com', '--json'],
      handle.env,
    );
    assert.equal(found.code, 0, found.stderr);
    const profile = JSON.parse(found.stdout) as {
      id: string;
      eventCount: number;
      traits: Record<string, unknown>;
    };
    assert.equal(profile.eventCount, 3);
    assert.equal(profile.traits['plan'], 'pro');

    const human = await runCdp(['profiles', 'get', 'prof', profile.id], handle.env);
    assert.match(human.stdout, /email: ann@example\.com/);

    const split = await runCdp(
      ['profiles', 'unmerge', 'prof', profile.id, 'anonymous_id', 'kiosk'],
      handle.env,
    );
    assert.equal(split.code, 0, split.stderr);
    assert.match(split.stdout, /unlinked anonymous_id/);
    const ann = JSON.parse(
      (await runCdp(['profiles', 'lookup', 'prof', 'email', 'ann@example.com', '--json'], handle.env)).stdout,
    ) as { id: string };
    const bob = JSON.parse(
      (await runCdp(['profiles', 'lookup', 'prof', 'email', 'bob@example.com', '--json'], handle.env)).stdout,
    ) as { id: string };
    assert.notEqual(ann.id, bob.id);
    // Consent followed the events of each side (the CLI reports changes like the server).
    const reopened = await handle.reopen();
    try {
      const marketing = async (id: string) =>
        (await reopened.consent.current('ws_prof', id)).find((c) => c.category === 'marketing')?.granted;
      assert.equal(await marketing(ann.id), true);
      assert.equal(await marketing(bob.id), false);
    } finally {
      await reopened.close();
    }

    // The unlink is listed, and undone: the two sides are one profile again.
    const listed = await runCdp(['profiles', 'unlinked', 'prof'], handle.env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^anonymous_id\tkiosk\tfrom ${profile.id}\tby cli\t`));
    const relinked = await runCdp(['profiles', 'relink', 'prof', 'anonymous_id', 'kiosk'], handle.env);
    assert.equal(relinked.code, 0, relinked.stderr);
    assert.match(relinked.stdout, /^anonymous_id links again; profiles now: prf_\S+\n$/);
    const again = async (email: string) =>
      (
        JSON.parse(
          (await runCdp(['profiles', 'lookup', 'prof', 'email', email, '--json'], handle.env)).stdout,
        ) as { id: string }
      ).id;
    assert.equal(await again('ann@example.com'), await again('bob@example.com'));
    assert.equal(
      (await runCdp(['profiles', 'unlinked', 'prof'], handle.env)).stdout,
      'no unlinked identifiers\n',
    );
    const twice = await runCdp(['profiles', 'relink', 'prof', 'anonymous_id', 'kiosk'], handle.env);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, /not unlinked|was not unlinked|is not unlinked/);

    const missing = await runCdp(['profiles', 'lookup', 'prof', 'email', 'nobody@example.com'], handle.env);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no profile has this email/);
    const bad = await runCdp(['profiles', 'lookup', 'prof', 'shoe_size', '42'], handle.env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown identifier type "shoe_size"/);
  });
});
