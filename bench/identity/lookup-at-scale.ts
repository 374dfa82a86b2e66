/**
 * Profile lookup over HTTP at a million profiles (issue 3's fourth benchmark). The shop data
 * set at 1M people is ~32M events, which the pipeline would take hours to process here; the
 * lookup's cost does not depend on how many events a profile has (the view reads the profile
 * row, its identifiers, consent, computed traits and memberships by index), only on how many
 * profiles and identifiers the indexes hold. So each person sends one `identify` (user id,
 * anonymous id, e-mail, name, country; a phone for a third), which goes the whole real way:
 * normalized as ingestion does, appended to the log, resolved by the profiles stage with
 * personal data sealed, then looked up by e-mail through `dist/cdp.mjs` from a separate load
 * process (bench/support/get-loop-process.ts).
 * Usage: BENCH_PROFILES=1000000 node --import tsx bench/identity/lookup-at-scale.ts
 * `BENCH_AUDIT_READS_WAIT_FOR_DISK=false,true,…`: the whole measurement once per value, in that
 * order, with the server's `CDP_AUDIT_READS_WAIT_FOR_DISK` set to it (default: the product's).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPrng } from '../generate/index.ts';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { normalizeMessage } from '../../src/ingestion/normalize-message.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { integer } from './bench-options.ts';
import { measureLookupLatency, type LookupLatency, type LookupPhase } from './lookup-latency.ts';
import { buildBenchApp, runPipelineToZeroLag } from './pipeline-run.ts';
import { ProfileStateReader } from './profile-state-reader.ts';
import { benchEnvelope } from './shop-log.ts';

const profiles = integer('BENCH_PROFILES', 1_000_000, 1);
const lookups = integer('BENCH_LOOKUPS', 20_000, 10);
/** Concurrent connections, one measurement each: 1 is the latency of a lone caller; 4 saturates two cores. */
const connectionCounts = (process.env['BENCH_LOOKUP_CONNECTIONS'] ?? '1,4').split(',').map(Number);
if (connectionCounts.some((n) => !Number.isInteger(n) || n < 1))
  throw new Error('BENCH_LOOKUP_CONNECTIONS: a comma-separated list of positive integers');
const seed = integer('BENCH_SEED', 42, 0);
const keep = process.env['BENCH_KEEP'] === '1';
/** `BENCH_OPEN_LOOP=0`: the closed loops only. */
const openLoop = process.env['BENCH_OPEN_LOOP'] !== '0';
const auditModes = (process.env['BENCH_AUDIT_READS_WAIT_FOR_DISK'] ?? '').split(',').filter((m) => m !== '');
if (auditModes.some((m) => m !== 'true' && m !== 'false'))
  throw new Error('BENCH_AUDIT_READS_WAIT_FOR_DISK: a comma-separated list of true and false');

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const FIRST_NAMES = ['Ada', 'Louis', 'Marie', 'Noor', 'Kenji', 'Ines', 'Tomás', 'Zoe', 'Omar', 'Lena'];
const COUNTRIES = ['FR', 'DE', 'US', 'GB', 'JP', 'BR', 'IN', 'ES'];

function identifyOf(i: number, prng: ReturnType<typeof createPrng>, startMs: number): object {
  const first = prng.pick(FIRST_NAMES);
  const traits: Record<string, unknown> = {
    email: `${first.toLowerCase()}.${i}@example.com`,
    name: `${first} ${i}`,
    country: prng.pick(COUNTRIES),
  };
  // French mobile numbers (+33 6 followed by 8 digits): valid for libphonenumber.
  if (i % 3 === 0) traits['phone'] = `+33 6${String(10_000_000 + (i % 90_000_000)).slice(-8)}`;
  return {
    type: 'identify',
    userId: `user-${i}`,
    anonymousId: `anon-${i}-${Math.floor(prng.next() * 1e9)}`,
    traits,
    messageId: `lookup-scale-${i}`,
    timestamp: new Date(startMs + i * 1000).toISOString(),
  };
}

execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
const dir = mkdtempSync(path.join(tmpdir(), 'cdp-lookup-scale-'));
const serverEnv = { CDP_DATA_DIR: dir, CDP_ENCRYPTION_KEY: randomBytes(32).toString('hex') };
try {
  const store = createSqliteStore({ filename: path.join(dir, 'cdp.sqlite'), backgroundCheckpoints: true });
  let workspaceId: string;
  try {
    await store.migrate();
    const bench = await buildBenchApp(store, serverEnv);
    workspaceId = bench.workspaceId;
    const receivedMs = Date.now();
    const envelope = benchEnvelope(workspaceId, 'src_lookup_bench', receivedMs);
    const prng = createPrng(seed, 3);
    const startMs = receivedMs - profiles * 1000;
    let batch: AcceptedEvent[] = [];
    const appendStarted = performance.now();
    for (let i = 0; i < profiles; i++) {
      const result = normalizeMessage(identifyOf(i, prng, startMs), undefined, envelope);
      if (!result.ok) throw new Error(`message ${i} rejected: ${result.problem.message}`);
      batch.push(result.event);
      if (batch.length === 1_000 || i === profiles - 1) {
        await store.events.append(batch, 0);
        batch = [];
      }
    }
    log(
      `${profiles} identify calls appended in ${((performance.now() - appendStarted) / 1000).toFixed(1)} s`,
    );
    const timing = await runPipelineToZeroLag(bench.app, store);
    log(
      `pipeline: ${timing.seconds.toFixed(1)} s (${Math.round(profiles / timing.seconds)} events/s), failed ${timing.failed}`,
    );
  } finally {
    await store.close();
  }
  const reader = await ProfileStateReader.open(
    { sqliteFile: path.join(dir, 'cdp.sqlite') },
    workspaceId,
    Buffer.from(serverEnv.CDP_ENCRYPTION_KEY, 'hex'),
  );
  const targets = new Map<string, string>();
  try {
    const summary = await reader.summary();
    log(`live profiles: ${summary.liveProfiles}`);
    for (const [key, profile] of await reader.identifierOwners())
      if (key.startsWith('email:')) targets.set(key.slice('email:'.length), profile);
  } finally {
    await reader.close();
  }
  const report = (title: string, latency: LookupLatency): void => {
    const row = (name: string, phase: LookupPhase): string =>
      `| ${name} | ${phase.requests} | ${phase.p50Ms.toFixed(2)} | ${phase.p99Ms.toFixed(2)} | ${Math.round(phase.requestsPerSecond)} | ${phase.wrong} |`;
    log(
      `\nLookups at ${profiles} profiles, ${title}, peak server RSS ${Math.round(latency.peakRssBytes / 1e6)} MB`,
    );
    log('| request | measured | p50 ms | p99 ms | requests/s | wrong |');
    log('|---|---|---|---|---|---|');
    log(row('`/health` (floor)', latency.floor));
    log(row('lookup by e-mail, analyst (masked)', latency.masked));
    log(row('lookup by e-mail, owner (audited)', latency.audited));
  };
  const measure = (
    connections: number,
    auditMode: string | undefined,
    rates?: { masked: number; audited: number },
  ) =>
    measureLookupLatency({
      server:
        auditMode === undefined ? serverEnv : { ...serverEnv, CDP_AUDIT_READS_WAIT_FOR_DISK: auditMode },
      workspaceId,
      targets,
      lookups,
      connections,
      ...(rates === undefined ? {} : { rates }),
      seed,
    });
  for (const auditMode of auditModes.length === 0 ? [undefined] : auditModes) {
    const mode = auditMode === undefined ? '' : `CDP_AUDIT_READS_WAIT_FOR_DISK=${auditMode}, `;
    let saturated: LookupLatency | undefined;
    for (const connections of connectionCounts) {
      const latency = await measure(connections, auditMode);
      report(`${mode}${connections} connection(s), closed loop`, latency);
      saturated = latency;
    }
    // The latency a caller sees while the server is half busy: an open loop at half the rate the
    // last closed loop reached (the most connections: the server's maximum).
    if (saturated !== undefined && openLoop) {
      const rates = {
        masked: saturated.masked.requestsPerSecond / 2,
        audited: saturated.audited.requestsPerSecond / 2,
      };
      const latency = await measure(Math.max(...connectionCounts) * 4, auditMode, rates);
      report(
        `${mode}open loop at half the maximum rate (${Math.round(rates.masked)} / ${Math.round(rates.audited)} requests/s)`,
        latency,
      );
    }
  }
} finally {
  if (keep) log(`store kept: CDP_DATA_DIR=${dir} CDP_ENCRYPTION_KEY=${serverEnv.CDP_ENCRYPTION_KEY}`);
  else rmSync(dir, { recursive: true, force: true });
}
