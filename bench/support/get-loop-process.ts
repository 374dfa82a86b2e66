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
  await Promise.all(Array.from({ length: plan.connections }, worker));
  const seconds = (performance.now() - measuredFrom) / 1000;
  agent.destroy();
  return { latenciesMs, seconds, wrong };
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const result = await run(JSON.parse(Buffer.concat(chunks).toString()) as GetLoopPlan);
process.stdout.write(JSON.stringify(result));
