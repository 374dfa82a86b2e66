/**
 * API reads while the embedded pipeline works off a backlog (after an import, an outage, a
 * burst): how long a lookup waits, and how long the catch-up takes with and without them.
 * A lookup that writes nothing (a caller without PII access, by user id) is served, while a
 * batch holds the main connection, by a read-only connection of its own
 * (storage/kysely/read-routing.ts); one that is audited (`BENCH_LOOKUP_ROLE=owner`: its audit
 * entry needs the write lock) waits for the batch under way.
 * One in-process app over a fresh SQLite store, as `npm start` runs it; requests go through
 * Fastify's `inject` (no sockets: what is measured is the server's handling and its waits).
 * The generator's shop (`BENCH_PEOPLE`, default 3,000) is appended straight to the log, then
 * the pipeline is started; phase 1 only watches the lag, phase 2 (a fresh store, the same
 * data) also looks a profile up by user id every `BENCH_READ_GAP_MS` (default 200), with a
 * token of `BENCH_LOOKUP_ROLE` (default `analyst`; `owner` for an audited read), on a loop of
 * its own (the lag is polled every 50 ms beside it).
 * Usage: node --import tsx bench/identity/lookups-during-catch-up.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { integer } from './bench-options.ts';
import { buildBenchApp } from './pipeline-run.ts';
import { appendShopToLog } from './shop-log.ts';

const people = integer('BENCH_PEOPLE', 3_000, 1);
const gapMs = integer('BENCH_READ_GAP_MS', 200, 1);
const role = process.env['BENCH_LOOKUP_ROLE'] ?? 'analyst';
if (role !== 'analyst' && role !== 'owner') throw new Error('BENCH_LOOKUP_ROLE: analyst or owner');
const log = (line: string): void => void process.stdout.write(`${line}\n`);

interface Phase {
  readonly events: number;
  readonly seconds: number;
  readonly lookupsMs: readonly number[];
}

async function phase(withLookups: boolean): Promise<Phase> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdp-catch-up-'));
  const store = createSqliteStore({ filename: path.join(dir, 'cdp.sqlite'), backgroundCheckpoints: true });
  try {
    await store.migrate();
    const { app, workspaceId } = await buildBenchApp(store, { CDP_DATA_DIR: dir, CDP_RATE_LIMIT_API: '0' });
    const source = await app.services.sources.create(workspaceId, { name: 'bench', type: 'http' });
    const { secret } = await app.services.tokens.create(role === 'owner' ? null : workspaceId, {
      name: 'bench',
      role,
    });
    const lag = async (): Promise<number> => Math.max(0, ...(await app.pipeline.lag()).map((l) => l.lag));
    await app.start();
    const identified = await app.http.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: { authorization: `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}` },
      payload: { userId: 'looked-up', traits: { plan: 'pro' } },
    });
    if (identified.statusCode !== 200)
      throw new Error(`identify: ${identified.statusCode} ${identified.body}`);
    while ((await lag()) > 0) await sleep(10);
    // The backlog arrives while the pipeline runs: it picks it up at its next poll.
    const { events } = await appendShopToLog(store, workspaceId, { people, seed: 3 }, () => undefined);
    const started = performance.now();
    const lookupsMs: number[] = [];
    let caughtUp = false;
    const lookups = (async () => {
      while (withLookups && !caughtUp) {
        const sent = performance.now();
        const answer = await app.http.inject({
          method: 'GET',
          url: '/api/v1/workspaces/identity-bench/profiles/lookup?type=user_id&value=looked-up',
          headers: { authorization: `Bearer ${secret}` },
        });
        if (answer.statusCode !== 200) throw new Error(`lookup: ${answer.statusCode} ${answer.body}`);
        lookupsMs.push(performance.now() - sent);
        await sleep(gapMs);
      }
    })();
    while ((await lag()) > 0) await sleep(50);
    const seconds = (performance.now() - started) / 1000;
    caughtUp = true;
    await lookups;
    await app.close();
    return { events, seconds, lookupsMs };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const at = (sorted: readonly number[], q: number): string =>
  (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1);

const quiet = await phase(false);
const read = await phase(true);
const sorted = [...read.lookupsMs].sort((a, b) => a - b);
log(
  `${people} people, ${quiet.events} events in the backlog; a lookup (${role} token) every ${gapMs} ms in the second run`,
);
log('| run | catch-up s | events/s | lookups | p50 ms | p90 ms | p99 ms | max ms |');
log('|---|---|---|---|---|---|---|---|');
log(
  `| lag polls only | ${quiet.seconds.toFixed(1)} | ${Math.round(quiet.events / quiet.seconds)} | | | | | |`,
);
log(
  `| with lookups | ${read.seconds.toFixed(1)} | ${Math.round(read.events / read.seconds)} | ${sorted.length} | ${at(sorted, 0.5)} | ${at(sorted, 0.9)} | ${at(sorted, 0.99)} | ${at(sorted, 1)} |`,
);
