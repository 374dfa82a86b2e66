/**
 * The persisted, incremental resolver against the reference resolver (the specification):
 * random events arrive in a random order, in random batches, and the stored profiles (ids,
 * identifiers), the event assignments and the trait values must equal what the reference
 * computes from the same events, on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';

import fc from 'fast-check';

import {
  DEFAULT_IDENTITY_SETTINGS,
  identitySettings,
  resolveIdentities,
  type IdentitySettings,
  type IdentitySettingsInput,
} from '../../src/identity/index.ts';
import type { AcceptedEvent, StoredEvent } from '../../src/ingestion/message-types.ts';
import { ProfileSettingsService } from '../../src/profiles/profile-settings.service.ts';
import { DEFAULT_PROFILE_SETTINGS } from '../../src/profiles/profile-settings.ts';
import { ProfileStage } from '../../src/profiles/profile-stage.ts';
import {
  applyObservation,
  emptyTraits,
  observeTraits,
  traitValues,
} from '../../src/profiles/trait-values.ts';
import type { JsonObject } from '../../src/shared/json.ts';
import type { Store } from '../../src/storage/store.ts';
import { describeEachStore } from '../support/stores.ts';

const BASE = Date.parse('2025-01-01T00:00:00Z');

const specArbitrary = fc.record({
  userId: fc.option(fc.constantFrom('u0', 'u1', 'u2', 'u3', 'null'), { nil: undefined }),
  anonymousId: fc.option(fc.constantFrom('a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'kiosk'), { nil: undefined }),
  email: fc.option(
    fc.constantFrom('e0@x.example', ' E0@X.example', 'e1@x.example', 'shared@x.example', 'bad'),
    {
      nil: undefined,
    },
  ),
  phone: fc.option(fc.constantFrom('+33 6 12 34 56 78', '+44 7911 123456', '12'), { nil: undefined }),
  plan: fc.option(fc.constantFrom('free', 'pro', 'team'), { nil: undefined }),
  second: fc.integer({ min: 0, max: 20 }),
  source: fc.constantFrom('src_web', 'src_crm'),
});

type Spec = typeof specArbitrary extends fc.Arbitrary<infer T> ? T : never;

const scenarioArbitrary = fc.array(specArbitrary, { maxLength: 30 }).chain((specs) =>
  fc.record({
    specs: fc.constant(specs),
    order: fc.shuffledSubarray(
      specs.map((_, i) => i),
      { minLength: specs.length, maxLength: specs.length },
    ),
    cuts: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
  }),
);

function toAccepted(workspaceId: string, runId: string, i: number, spec: Spec): AcceptedEvent {
  const identify = spec.email !== undefined || spec.phone !== undefined || spec.plan !== undefined;
  const type = identify ? 'identify' : 'track';
  const messageId = `${runId}-m${i}`;
  const timestampMs = BASE + spec.second * 1000;
  const message: JsonObject = { type, messageId, timestamp: new Date(timestampMs).toISOString() };
  if (type === 'track') message['event'] = 'Viewed';
  if (spec.userId !== undefined) message['userId'] = spec.userId;
  if (spec.anonymousId !== undefined) message['anonymousId'] = spec.anonymousId;
  if (spec.userId === undefined && spec.anonymousId === undefined) message['anonymousId'] = 'null';
  const traits: JsonObject = {};
  if (spec.email !== undefined) traits['email'] = spec.email;
  if (spec.phone !== undefined) traits['phone'] = spec.phone;
  if (spec.plan !== undefined) traits['plan'] = spec.plan;
  if (identify) message['traits'] = traits;
  return {
    workspaceId,
    sourceId: spec.source,
    messageId,
    type,
    event: type === 'track' ? 'Viewed' : null,
    userId: spec.userId ?? null,
    anonymousId: typeof message['anonymousId'] === 'string' ? message['anonymousId'] : null,
    timestampMs,
    receivedMs: BASE,
    payload: JSON.stringify(message),
  };
}

async function storedProfiles(store: Store, ws: string) {
  const profiles = await store.profiles.list(ws, { kind: 'person', limit: 10_000 });
  const out = [];
  for (const p of profiles) {
    const identifiers = (await store.profiles.identifiers(ws, p.id))
      .map((i) => `${i.type}:${i.value}`)
      .sort();
    const events = (await store.profiles.timeline(ws, { profileId: p.id, limit: 10_000 }))
      .map((e) => e.seq)
      .sort((a, b) => a - b);
    out.push({ id: p.id, identifiers, events, traits: traitValues(p.traits) });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

function expected(events: readonly StoredEvent[], settings: IdentitySettings) {
  const reference = resolveIdentities(events, settings);
  const bySeq = new Map(events.map((e) => [e.seq, e]));
  return reference.profiles
    .map((p) => {
      const seqs = reference.assignments
        .filter((a) => a.profileId === p.id)
        .map((a) => a.event.seq)
        .sort((a, b) => a - b);
      const traits = emptyTraits();
      for (const seq of seqs) {
        const event = bySeq.get(seq);
        if (event?.type !== 'identify') continue;
        for (const o of observeTraits(event).observations)
          applyObservation(DEFAULT_PROFILE_SETTINGS, traits, o);
      }
      return {
        id: p.id,
        identifiers: p.identifiers.map((i) => `${i.type}:${i.value}`).sort(),
        events: seqs,
        traits: traitValues(traits),
      };
    })
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

const TIGHT: IdentitySettingsInput = {
  limits: { email: { max: 1 }, anonymous_id: { max: 2 }, phone: { max: 1 } },
};
/** [name, settings, deferred]: deferred = every re-resolution is left to the reconcile rounds. */
const SETTINGS: [string, IdentitySettingsInput, boolean][] = [
  ['default limits', {}, false],
  ['tight limits', TIGHT, false],
  ['windowed limits', { limits: { anonymous_id: { max: 2, windowMs: 5_000 } } }, false],
  ['tight limits, re-resolution deferred to reconcile rounds', TIGHT, true],
];

describeEachStore('incremental resolution equals the reference', (fixture) => {
  for (const [name, input, deferred] of SETTINGS) {
    void it(`random arrival order and batches: ${name}`, async () => {
      const { store } = await fixture.fresh();
      const settingsService = new ProfileSettingsService(store.workspaceSettings);
      const stage = new ProfileStage({
        state: store.profileState,
        settings: settingsService,
        ...(deferred ? { maxInlineReresolveEvents: 0 } : {}),
      });
      const settings = input === undefined ? DEFAULT_IDENTITY_SETTINGS : identitySettings(input);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(scenarioArbitrary, async ({ specs, order, cuts }) => {
          run += 1;
          const ws = `ws_${run}`;
          await store.workspaces.create({ id: ws, slug: `w${run}`, name: ws, createdMs: BASE });
          await settingsService.putIdentity(ws, input, BASE);
          const accepted = order.map((i) => toAccepted(ws, `r${run}`, i, specs[i] as (typeof specs)[number]));
          await store.events.append(accepted, 0);
          const logged = (await store.events.query({ workspaceId: ws, limit: 1000 })).events.reverse();
          assert.equal(logged.length, specs.length);
          let at = 0;
          for (let c = 0; at < logged.length; c += 1) {
            const size = cuts[c % cuts.length] ?? 1;
            await stage.processWorkspace(ws, logged.slice(at, at + size), BASE);
            at += size;
          }
          // A redelivery changes nothing.
          await stage.processWorkspace(ws, logged.slice(0, 5), BASE);
          // Stale components (late events applied in arrival order) converge once reconciled.
          while (await stage.reconcile(ws, BASE, true));
          assert.deepStrictEqual(await storedProfiles(store, ws), expected(logged, settings));
        }),
        { numRuns: 40 },
      );
    });
  }
});
