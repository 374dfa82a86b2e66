/**
 * The baseline of the pipeline target: the bare durable-append rate of the foundation
 * benchmark, measured in the same run and the same way (bench/ingest/bare-server.ts over HTTP,
 * /v1/batch bodies of 100 generator events, 16 keep-alive connections, closed loop).
 */
import path from 'node:path';
import { batchBodies } from '../support/batch-bodies.ts';
import { closedLoop, percentile } from '../support/load-client.ts';
import { freePort, startProcess } from '../support/processes.ts';

const CONNECTIONS = 16;
const BATCH = 100;
/** The ingest benchmark's traffic: 20,000 people, shuffled. */
const PEOPLE = 20_000;
/** Enough bodies for a fast run of the bare server (it peaks around 50–80k events/s here). */
const EVENTS_PER_SECOND_BUDGET = 80_000 * 1.6;

export interface BareAppendRate {
  readonly eventsPerSecond: number;
  readonly seconds: number;
  readonly p99Ms: number;
  readonly rejected: number;
}

export async function measureBareAppendRate(
  scratch: string,
  seconds: number,
  seed: number,
): Promise<BareAppendRate> {
  const load = batchBodies(Math.ceil((seconds * EVENTS_PER_SECOND_BUDGET) / BATCH), {
    people: PEOPLE,
    seed,
    batchSize: BATCH,
  });
  const port = await freePort();
  const key = 'wk_bare_benchmark_key';
  const server = await startProcess(
    ['--import', 'tsx', 'bench/ingest/bare-server.ts', path.join(scratch, 'bare.sqlite'), String(port), key],
    {},
    /ready/,
  );
  try {
    const authorization = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
    const result = await closedLoop(
      { port, path: '/v1/batch', headers: { authorization } },
      load,
      CONNECTIONS,
      seconds,
    );
    return {
      eventsPerSecond: result.ackedEvents / result.seconds,
      seconds: result.seconds,
      p99Ms: percentile(result.latenciesMs, 99),
      rejected: result.rejected,
    };
  } finally {
    await server.stop();
  }
}
