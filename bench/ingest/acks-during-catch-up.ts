/**
 * Ack latency under light traffic while the pipeline works off a backlog, and while
 * `cdp keys rotate` re-encrypts the store: the moments a real instance meets after a burst or
 * during maintenance, which the steady-rate benchmarks do not show.
 *
 * Usage: [BENCH_BACKLOG=40000] [BENCH_SECONDS=15] [BENCH_ROTATE=1] node --import tsx bench/ingest/acks-during-catch-up.ts
 * A real `cdp start` (SQLite, PII sealed); the backlog is identify calls of 20,000 people with
 * e-mails, sent as fast as 4 connections go; then 2 clients send 20-event batches with 20 ms
 * between them (about 1,000 events/s) and every acknowledgement's time is recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { adminClient, basicAuth, createWorkspaceWithSource, post } from '../../test/e2e/ingest-traffic.ts';
import { E2E_ADMIN_TOKEN, runCdp, startServerProcess } from '../../test/e2e/server-process.ts';

const BACKLOG = Number(process.env['BENCH_BACKLOG'] ?? 40_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const ROTATE = process.env['BENCH_ROTATE'] === '1';

const dir = mkdtempSync(path.join(tmpdir(), 'cdp-catch-up-'));
const env = {
  CDP_DATA_DIR: dir,
  CDP_ADMIN_TOKEN: E2E_ADMIN_TOKEN,
  CDP_LOG_LEVEL: 'warn',
  CDP_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};
const server = await startServerProcess({ env });
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
try {
  const { writeKey } = await createWorkspaceWithSource(adminClient(server.url, E2E_ADMIN_TOKEN), 'catch-up');
  const headers = basicAuth(writeKey);
  let sent = 0;
  const batch = (size: number): string =>
    JSON.stringify({
      batch: Array.from({ length: size }, () => {
        sent += 1;
        const person = sent % 20_000;
        return {
          type: 'identify',
          userId: `u${person}`,
          messageId: `m${sent}`,
          traits: { email: `p${person}@example.com`, name: `Person ${person}` },
        };
      }),
    });
  const ingest = (size: number) => post(agent, `${server.url}/v1/batch`, batch(size), headers);
  for (let i = 0; i < BACKLOG / 100; i += 4) await Promise.all([0, 1, 2, 3].map(() => ingest(100)));

  const lag = async (): Promise<number> => {
    const text = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` } })
    ).text();
    return Math.max(
      0,
      ...[...text.matchAll(/^cdp_pipeline_lag_events\{[^}]*\} (\d+)/gm)].map((m) => Number(m[1])),
    );
  };
  const light = (): { stop: () => Promise<number[]> } => {
    const times: number[] = [];
    let stopped = false;
    const client = async (): Promise<void> => {
      while (!stopped) {
        const started = performance.now();
        const answer = await ingest(20);
        if (answer.status !== 200) throw new Error(`an ingest answered ${answer.status}`);
        times.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const clients = [client(), client()];
    return {
      stop: async () => {
        stopped = true;
        await Promise.all(clients);
        return times;
      },
    };
  };
  const summary = (times: number[]): string => {
    const sorted = [...times].sort((a, b) => a - b);
    const at = (q: number): string =>
      (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1);
    return `${sorted.length} acks, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`;
  };

  const lagBefore = await lag();
  const catchUp = light();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const catchUpTimes = await catchUp.stop();
  console.log(
    `catching up (lag ${lagBefore} → ${await lag()} events, ${SECONDS} s of ~1,000 events/s): ${summary(catchUpTimes)}`,
  );

  if (ROTATE) {
    while ((await lag()) > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
    const during = light();
    const started = performance.now();
    const rotation = await runCdp(['keys', 'rotate'], env, 900_000);
    const rotateTimes = await during.stop();
    if (rotation.code !== 0) throw new Error(`cdp keys rotate failed:\n${rotation.stderr}`);
    console.log(
      `during cdp keys rotate (${((performance.now() - started) / 1000).toFixed(1)} s): ${summary(rotateTimes)}`,
    );
  }
} finally {
  agent.destroy();
  await server.stop('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
