/**
 * What a log of large events costs the pipeline in memory: `BENCH_EVENTS` (default 20,000)
 * events of ~30 KB each (near the 32 KB ingestion limit; 2,000 people, identify and track)
 * appended to a fresh SQLite log, then the profiles stage run to zero lag while the process's
 * peak RSS and heap are sampled every 10 ms. Batches bounded only by their count would hold
 * up to 5,000 × 30 KB of JSON at once.
 * Usage: node --import tsx bench/identity/large-event-batches.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { normalizeMessage } from '../../src/ingestion/normalize-message.ts';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { buildBenchApp, runPipelineToZeroLag } from './pipeline-run.ts';
import { benchEnvelope } from './shop-log.ts';

const events = Number(process.env['BENCH_EVENTS'] ?? 20_000);
const PEOPLE = 2_000;
const FILLER = 30_000;

function message(i: number): Record<string, unknown> {
  const person = i % PEOPLE;
  const base = {
    messageId: `large-${i}`,
    userId: `user-${person}`,
    anonymousId: `anon-${person}`,
    timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1_000).toISOString(),
  };
  // A filler of distinct characters per event, so no two payloads share their text.
  const filler = `${i}:`.padEnd(FILLER, String.fromCharCode(97 + (i % 26)));
  return i % 10 === 0
    ? { ...base, type: 'identify', traits: { email: `p${person}@example.com`, notes: filler } }
    : { ...base, type: 'track', event: 'Page Read', properties: { body: filler } };
}

const dir = mkdtempSync(path.join(tmpdir(), 'cdp-large-events-'));
const store = createSqliteStore({ filename: path.join(dir, 'cdp.sqlite'), backgroundCheckpoints: true });
try {
  await store.migrate();
  const { app, workspaceId } = await buildBenchApp(store, { CDP_DATA_DIR: dir });
  const envelope = benchEnvelope(workspaceId, 'src_large_events', Date.now());
  for (let start = 0; start < events; start += 500) {
    const batch: AcceptedEvent[] = [];
    for (let i = start; i < Math.min(events, start + 500); i += 1) {
      const result = normalizeMessage(message(i), undefined, envelope);
      if (!result.ok) throw new Error(result.problem.message);
      batch.push(result.event);
    }
    await store.events.append(batch, 0);
  }
  globalThis.gc?.();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  }, 10);
  const timing = await runPipelineToZeroLag(app, store);
  clearInterval(sampler);
  const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
  process.stdout.write(
    `${events} events of ~${FILLER / 1000} KB: pipeline ${timing.seconds.toFixed(1)} s ` +
      `(${Math.round(events / timing.seconds)} events/s), failed ${timing.failed}; ` +
      `RSS ${mb(before.rss)} MB before, peak ${mb(peakRss)} MB; heap ${mb(before.heapUsed)} MB before, peak ${mb(peakHeap)} MB\n`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
