import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Kysely } from 'kysely';
import {
  analyzeSegmentDefinition,
  collectDependencies,
  collectFilteredEvents,
  type Expression,
} from '../../src/segment-language/index.ts';
import { evaluateSegment } from '../../src/segments/evaluate-segment.ts';
import type { Database } from '../../src/storage/database-schema.ts';
import type { Store } from '../../src/storage/store.ts';
import { describeEachStore } from '../support/stores.ts';
import { EDGE_CASES } from './conformance-edge.cases.ts';
import { BASE, BASE_CASES, NOW, type ConformanceCase } from './conformance.cases.ts';
import { isLivePerson, openRawDatabase, seedProfiles, seedSegment, snapshotOf } from './profile-fixtures.ts';

/**
 * One meaning, three engines: every case runs through the in-memory evaluator and the SQL
 * compiler (membership and inline references) on SQLite and PostgreSQL, and each must give the
 * hand-written expected members. Snapshots read back from the store must evaluate the same as
 * the fixtures they were seeded from.
 */
const CASES: readonly ConformanceCase[] = [...BASE_CASES, ...EDGE_CASES];

function parse(text: string): Expression {
  const analysis = analyzeSegmentDefinition(text);
  if (!analysis.ok) throw new Error(`${text}: ${analysis.errors.map((e) => e.message).join('; ')}`);
  return analysis.ast;
}

interface Prepared {
  readonly workspaceId: string;
  readonly ast: Expression;
  readonly nowMs: number;
  readonly memberships: Map<string, Set<string>>;
  readonly segmentIds: Map<string, string>;
  readonly definitions: Map<string, Expression>;
  readonly inMemory: string[];
}

/** Evaluates the case in memory, referenced segments first. */
function prepare(c: ConformanceCase, index: number): Prepared {
  const profiles = c.profiles ?? BASE;
  const nowMs = c.nowMs ?? NOW;
  const memberships = new Map<string, Set<string>>();
  const definitions = new Map<string, Expression>();
  const segmentIds = new Map<string, string>();
  const segmentsOf = (id: string) =>
    new Set([...memberships].filter(([, members]) => members.has(id)).map(([slug]) => slug));
  const membersOf = (ast: Expression) =>
    profiles
      .filter(isLivePerson)
      .filter((p) => evaluateSegment(ast, snapshotOf(p, profiles, segmentsOf(p.id)), nowMs))
      .map((p) => p.id)
      .sort();
  for (const [slug, text] of Object.entries(c.segments ?? {})) {
    const ast = parse(text);
    definitions.set(slug, ast);
    segmentIds.set(slug, `seg_${slug}`);
    memberships.set(slug, new Set(membersOf(ast)));
  }
  const ast = parse(c.definition);
  return {
    workspaceId: `ws_case_${index}`,
    ast,
    nowMs,
    memberships,
    segmentIds,
    definitions,
    inMemory: membersOf(ast),
  };
}

describeEachStore('segment conformance: evaluator = SQL', (fixture) => {
  let store: Store;
  let raw: Kysely<Database>;
  const prepared = CASES.map(prepare);

  before(async () => {
    const handle = await fixture.fresh();
    store = handle.store;
    raw = openRawDatabase(handle);
    for (const [index, c] of CASES.entries()) {
      const p = prepared[index] as Prepared;
      await seedProfiles(raw, p.workspaceId, c.profiles ?? BASE);
      for (const [slug, members] of p.memberships) {
        const definition = c.segments?.[slug] ?? '';
        await seedSegment(raw, p.workspaceId, { id: `seg_${slug}`, slug, definition, members: [...members] });
      }
    }
  });
  after(async () => {
    await raw.destroy();
  });

  it(`has at least 60 cases (${CASES.length})`, () => {
    assert.ok(CASES.length >= 60);
    assert.equal(
      new Set(CASES.map((c) => c.name + String(c.nowMs))).size,
      CASES.length,
      'case names are unique',
    );
  });

  for (const [index, c] of CASES.entries()) {
    it(`${c.name}: ${c.definition}`, async () => {
      const p = prepared[index] as Prepared;
      const expected = [...c.expected].sort();
      assert.deepEqual(p.inMemory, expected, 'in-memory evaluator');
      const membership = await store.segments.matchingIds(p.workspaceId, p.ast, {
        nowMs: p.nowMs,
        references: { kind: 'membership', segmentIds: p.segmentIds },
      });
      assert.deepEqual(membership, expected, `SQL (${fixture.kind}), memberships read from the table`);
      const inline = await store.segments.matchingIds(p.workspaceId, p.ast, {
        nowMs: p.nowMs,
        references: { kind: 'inline', definitions: p.definitions },
      });
      assert.deepEqual(inline, expected, `SQL (${fixture.kind}), referenced definitions inlined`);
      const count = await store.segments.countMatching(p.workspaceId, p.ast, {
        nowMs: p.nowMs,
        references: { kind: 'membership', segmentIds: p.segmentIds },
      });
      assert.equal(count, expected.length, 'count');
    });
  }

  it('snapshots read from the store evaluate like the fixtures', async () => {
    for (const [index, c] of CASES.entries()) {
      const p = prepared[index] as Prepared;
      const members: string[] = [];
      for (const profile of (c.profiles ?? BASE).filter(isLivePerson)) {
        const snapshot = (await store.segments.loadSnapshots(p.workspaceId, [profile.id])).get(profile.id);
        assert.ok(snapshot, profile.id);
        if (evaluateSegment(p.ast, snapshot, p.nowMs)) members.push(profile.id);
      }
      assert.deepEqual(members.sort(), [...c.expected].sort(), c.name);
    }
  });

  // What the real-time path reads: only the events a `did` names, and only those a `where`
  // filters with their payload (collectFilteredEvents); the rest as name and time alone.
  it('snapshots read as the real-time path reads them evaluate like the fixtures', async () => {
    let bare = 0;
    for (const [index, c] of CASES.entries()) {
      const p = prepared[index] as Prepared;
      const trackEvents = collectDependencies(p.ast).events;
      const payloadEvents = collectFilteredEvents(p.ast);
      const members: string[] = [];
      const profiles = (c.profiles ?? BASE).filter(isLivePerson);
      const snapshots = await store.segments.loadSnapshots(
        p.workspaceId,
        profiles.map((profile) => profile.id),
        { trackEvents, payloadEvents },
      );
      for (const profile of profiles) {
        const snapshot = snapshots.get(profile.id);
        assert.ok(snapshot, profile.id);
        for (const event of snapshot.events) {
          assert.ok(trackEvents.includes(event.event ?? ''), `${c.name}: only the named events`);
          if (!payloadEvents.includes(event.event ?? '')) {
            assert.equal(event.properties, undefined, `${c.name}: read without its payload`);
            bare += 1;
          }
        }
        if (evaluateSegment(p.ast, snapshot, p.nowMs)) members.push(profile.id);
      }
      assert.deepEqual(members.sort(), [...c.expected].sort(), c.name);
    }
    assert.ok(bare > 0, 'some events were read without their payload');
  });
});
