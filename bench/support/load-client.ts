import { Agent, request } from 'node:http';

export interface LoadResult {
  readonly requests: number;
  readonly ok: number;
  readonly rejected: number;
  readonly ackedEvents: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
}

export interface LoadTarget {
  readonly port: number;
  readonly path: string;
  readonly headers: Record<string, string>;
}

export function post(agent: Agent, target: LoadTarget, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.path,
        method: 'POST',
        agent,
        headers: { ...target.headers, 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Closed loop: `connections` keep-alive connections, each sending the next body as soon as the
 * previous answer arrived, until the bodies or the time run out.
 */
export async function closedLoop(
  target: LoadTarget,
  bodies: readonly { body: Buffer; events: number }[],
  connections: number,
  maxSeconds: number,
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  let ok = 0;
  let rejected = 0;
  let ackedEvents = 0;
  const latenciesMs: number[] = [];
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  const worker = async (): Promise<void> => {
    while (next < bodies.length && performance.now() < deadline) {
      const item = bodies[next++];
      if (!item) break;
      const t0 = performance.now();
      const status = await post(agent, target, item.body);
      latenciesMs.push(performance.now() - t0);
      if (status === 200) {
        ok++;
        ackedEvents += item.events;
      } else rejected++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { requests: ok + rejected, ok, rejected, ackedEvents, seconds, latenciesMs };
}

/** Open loop: requests start at a fixed rate whatever the answers, to measure latency at a load. */
export async function openLoop(
  target: LoadTarget,
  bodies: readonly { body: Buffer; events: number }[],
  requestsPerSecond: number,
  seconds: number,
  connections: number,
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const total = Math.min(bodies.length, Math.floor(requestsPerSecond * seconds));
  const interval = 1000 / requestsPerSecond;
  const latenciesMs: number[] = [];
  let ok = 0;
  let rejected = 0;
  let ackedEvents = 0;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const item = bodies[i];
    if (!item) break;
    inflight.push(
      post(agent, target, item.body).then((status) => {
        // Measured from the scheduled start: queueing behind a slow server counts as latency.
        latenciesMs.push(performance.now() - due);
        if (status === 200) {
          ok++;
          ackedEvents += item.events;
        } else rejected++;
      }),
    );
  }
  await Promise.all(inflight);
  agent.destroy();
  return {
    requests: ok + rejected,
    ok,
    rejected,
    ackedEvents,
    seconds: (performance.now() - started) / 1000,
    latenciesMs,
  };
}
