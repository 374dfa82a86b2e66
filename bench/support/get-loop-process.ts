/**
 * A closed loop of HTTP GETs in a process of its own, holding nothing but the paths: a latency
 * measured from the benchmark's own process would include the pauses of its collector, whose
 * heap holds the whole generated data set (at 100,000 people, a `/health` p99 of 8 ms was
 * mostly the client's).
 * Input (stdin, JSON): `GetLoopPlan`. Output (stdout, JSON): `GetLoopResult`.
 */
import { Agent, request } from 'node:http';

export interface GetLoopPlan {
  readonly port: number;
  readonly token?: string;
  readonly paths: readonly string[];
  /** The first `warmup` answers are not measured. */
  readonly warmup: number;
  readonly connections: number;
  /**
   * Open loop: requests start at this rate whatever the answers (at most `connections` at a
   * time, the rest queue in the client), and each latency runs from the scheduled start, so a
   * stall of the server counts for every request it delayed. Absent: closed loop.
   */
  readonly ratePerSecond?: number;
  /**
   * What a right answer holds, per path: the `id` of a 200 JSON body; or null: any 200.
   */
  readonly expectedIds?: readonly string[];
}

export interface GetLoopResult {
  readonly latenciesMs: number[];
  readonly seconds: number;
  /** Answers that were not a 200 with the expected id. */
  readonly wrong: number;
}

function get(
  agent: Agent,
  port: number,
  path: string,
  token: string | undefined,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function run(plan: GetLoopPlan): Promise<GetLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: plan.connections });
  const latenciesMs: number[] = [];
  let next = 0;
  let wrong = 0;
  let measuredFrom = performance.now();
  const worker = async (): Promise<void> => {
    while (next < plan.paths.length) {
      const index = next++;
      if (index === plan.warmup) measuredFrom = performance.now();
      const started = performance.now();
      const answer = await get(agent, plan.port, plan.paths[index] as string, plan.token);
      const elapsed = performance.now() - started;
      if (index < plan.warmup) continue;
      latenciesMs.push(elapsed);
      const expected = plan.expectedIds?.[index];
      const right =
        answer.status === 200 &&
        (expected === undefined || (JSON.parse(answer.body) as { id?: unknown }).id === expected);
      if (!right) wrong += 1;
    }
  };
  if (plan.ratePerSecond === undefined) await Promise.all(Array.from({ length: plan.connections }, worker));
  else measuredFrom = await openLoop(plan, plan.ratePerSecond, agent, latenciesMs, () => (wrong += 1));
  const seconds = (performance.now() - measuredFrom) / 1000;
  agent.destroy();
  return { latenciesMs, seconds, wrong };
}

async function openLoop(
  plan: GetLoopPlan,
  rate: number,
  agent: Agent,
  latenciesMs: number[],
  onWrong: () => void,
): Promise<number> {
  // Warm-up as fast as the server answers, one request per connection at a time: an open loop
  // over a cold server (code not yet optimized, pages not yet cached) would build a queue
  // that the measured requests then inherit.
  let next = 0;
  const warm = async (): Promise<void> => {
    while (next < plan.warmup) await get(agent, plan.port, plan.paths[next++] as string, plan.token);
  };
  await Promise.all(Array.from({ length: plan.connections }, warm));
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let index = plan.warmup; index < plan.paths.length; index++) {
    const due = started + ((index - plan.warmup) * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    // Sent late (the client was busy): the wait counts; sent up to 1 ms early: it does not.
    const from = Math.min(due, performance.now());
    pending.push(
      get(agent, plan.port, plan.paths[index] as string, plan.token).then((answer) => {
        latenciesMs.push(performance.now() - from);
        const expected = plan.expectedIds?.[index];
        if (
          answer.status !== 200 ||
          (expected !== undefined && (JSON.parse(answer.body) as { id?: unknown }).id !== expected)
        )
          onWrong();
      }),
    );
  }
  await Promise.all(pending);
  return started;
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const result = await run(JSON.parse(Buffer.concat(chunks).toString()) as GetLoopPlan);
process.stdout.write(JSON.stringify(result));
