import { Agent } from 'node:http';
import { DEFAULT_END, generateShop } from '../generate/index.ts';
import { post, type LoadTarget } from '../support/load-client.ts';

export interface TrafficBatch {
  /** `{"batch":[…]}` as sent; a probe is spliced in before the closing `]}`. */
  readonly body: Buffer;
  readonly events: number;
}

/**
 * Generator batches (shuffled order, as several devices deliver them) with every timestamp moved
 * so that the shop's period ends at `endMs`: the windows of the segments (`in last 7 days`…) then
 * hold real members, and the scheduler has expiries to run during the measurement, as in
 * production. Built before the server starts, so generating costs nothing during the run.
 */
export function buildTraffic(options: {
  readonly events: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly endMs: number;
}): TrafficBatch[] {
  const shift = options.endMs - DEFAULT_END.getTime();
  // About 32 messages a person: enough people that the stream does not run dry.
  const people = Math.max(1_000, Math.ceil(options.events / 20));
  const batches: TrafficBatch[] = [];
  let batch: string[] = [];
  for (const { time, message } of generateShop({ people, seed: options.seed, order: 'shuffled' })) {
    batch.push(JSON.stringify({ ...message, timestamp: new Date(time + shift).toISOString() }));
    if (batch.length < options.batchSize) continue;
    batches.push({ body: Buffer.from(`{"batch":[${batch.join(',')}]}`), events: batch.length });
    batch = [];
    if (batches.length * options.batchSize >= options.events) break;
  }
  return batches;
}

const CLOSING = Buffer.from(']}');

function withExtra(body: Buffer, extra: readonly object[]): Buffer {
  if (extra.length === 0) return body;
  const tail = Buffer.from(`,${extra.map((m) => JSON.stringify(m)).join(',')}]}`);
  return Buffer.concat([body.subarray(0, body.length - CLOSING.length), tail]);
}

export interface OpenLoopResult {
  readonly ok: number;
  readonly rejected: number;
  readonly ackedEvents: number;
  /** From the first request to the last answer. */
  readonly seconds: number;
  /** How far behind its schedule the client sent a batch, at worst: the load it really offered. */
  readonly maxSendDelayMs: number;
  /** Each request's time from sending to its answer (ms), in sending order. */
  readonly ackMs: readonly number[];
}

/**
 * Open loop: batch i starts at `start + i / requestsPerSecond` whatever the answers, so a slow
 * server meets the same offered load. `extraFor` may add messages (probes) to a batch when it is
 * sent; `onAnswer` hears each batch's status and the instant its answer arrived.
 */
export async function sendOpenLoop<T>(options: {
  readonly target: LoadTarget;
  readonly batches: readonly TrafficBatch[];
  readonly requestsPerSecond: number;
  readonly connections: number;
  readonly extraFor: (index: number) => { readonly tag: T; readonly messages: readonly object[] } | undefined;
  readonly onAnswer: (tag: T, status: number, atMs: number) => void;
}): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const interval = 1000 / options.requestsPerSecond;
  let ok = 0;
  let rejected = 0;
  let ackedEvents = 0;
  let maxSendDelayMs = 0;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  const ackMs: number[] = [];
  for (const [index, batch] of options.batches.entries()) {
    const due = started + index * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    maxSendDelayMs = Math.max(maxSendDelayMs, performance.now() - due);
    const extra = options.extraFor(index);
    const events = batch.events + (extra?.messages.length ?? 0);
    const sentAt = performance.now();
    inflight.push(
      post(agent, options.target, withExtra(batch.body, extra?.messages ?? [])).then((status) => {
        const atMs = performance.now();
        ackMs[index] = atMs - sentAt;
        if (status === 200) {
          ok += 1;
          ackedEvents += events;
        } else rejected += 1;
        if (extra !== undefined) options.onAnswer(extra.tag, status, atMs);
      }),
    );
  }
  await Promise.all(inflight);
  agent.destroy();
  return { ok, rejected, ackedEvents, seconds: (performance.now() - started) / 1000, maxSendDelayMs, ackMs };
}
