/**
 * Profile lookup over HTTP, on the real server (`dist/cdp.mjs start`, as `npm start` runs it)
 * pointed at the data the pipeline built: `GET /api/v1/workspaces/{ws}/profiles/lookup?type=
 * email&value=…` for random known e-mails, over a few keep-alive connections in a closed loop.
 * Each answer is checked: 200 and the profile that holds the e-mail.
 *
 * Two callers, because they take different paths: an `analyst` token sees personal data masked
 * (a pure read), while a caller with PII access (the instance owner here) has every read
 * recorded in the audit log first, a durable hash-chained write per lookup.
 */
import { Agent, request } from 'node:http';
import { createPrng } from '../generate/index.ts';
import { percentile } from '../support/load-client.ts';
import { freePort, startProcess } from '../support/processes.ts';

const ADMIN_TOKEN = 'identity-bench-admin-token-0123456789';

export interface LookupPhase {
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requestsPerSecond: number;
  /** Answers that were not 200 with the expected profile id: must be 0. */
  readonly wrong: number;
}

export interface LookupLatency {
  /** Analyst token: masked view, no audit write. */
  readonly masked: LookupPhase;
  /** Instance owner: unmasked view, audited. */
  readonly audited: LookupPhase;
  readonly peakRssBytes: number;
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

function send(agent: Agent, port: number, path: string, token: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function closedLoopLookups(
  port: number,
  token: string,
  workspaceId: string,
  plan: readonly string[],
  warmup: number,
  connections: number,
  expected: ReadonlyMap<string, string>,
): Promise<LookupPhase> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  let wrong = 0;
  let measuredFrom = performance.now();
  const latencies: number[] = [];
  const worker = async (): Promise<void> => {
    while (next < plan.length) {
      const index = next++;
      if (index === warmup) measuredFrom = performance.now();
      const email = plan[index] as string;
      const path = `/api/v1/workspaces/${workspaceId}/profiles/lookup?type=email&value=${encodeURIComponent(email)}`;
      const started = performance.now();
      const { status, body } = await send(agent, port, path, token);
      const elapsed = performance.now() - started;
      if (index < warmup) continue;
      latencies.push(elapsed);
      const id = status === 200 ? (JSON.parse(body) as { id?: unknown }).id : undefined;
      if (id !== expected.get(email)) wrong += 1;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - measuredFrom) / 1000;
  agent.destroy();
  return {
    requests: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    requestsPerSecond: latencies.length / seconds,
    wrong,
  };
}

/**
 * `targets`: e-mail → the profile expected to hold it. `server`: environment pointing the
 * server at the store (CDP_DATA_DIR or CDP_DATABASE_URL).
 */
export async function measureLookupLatency(options: {
  readonly server: Record<string, string>;
  readonly workspaceId: string;
  readonly targets: ReadonlyMap<string, string>;
  readonly lookups: number;
  readonly connections: number;
  readonly seed: number;
}): Promise<LookupLatency> {
  const emails = [...options.targets.keys()].sort();
  if (emails.length === 0) throw new Error('no e-mail to look up');
  const prng = createPrng(options.seed, 1);
  const warmup = Math.ceil(options.lookups / 10);
  const plan = (): string[] => Array.from({ length: warmup + options.lookups }, () => prng.pick(emails));
  const port = await freePort();
  const server = await startProcess(
    ['--enable-source-maps', 'dist/cdp.mjs', 'start'],
    { ...options.server, PORT: String(port), CDP_LOG_LEVEL: 'warn', CDP_ADMIN_TOKEN: ADMIN_TOKEN },
    /CDP listening on/,
  );
  try {
    const agent = new Agent({ keepAlive: false });
    const minted = await send(
      agent,
      port,
      `/api/v1/workspaces/${options.workspaceId}/tokens`,
      ADMIN_TOKEN,
      JSON.stringify({ name: 'identity bench analyst', role: 'analyst' }),
    );
    agent.destroy();
    const analystToken = (JSON.parse(minted.body) as { token?: unknown }).token;
    if (minted.status !== 201 || typeof analystToken !== 'string')
      throw new Error(`could not mint an analyst token: ${minted.status} ${minted.body}`);
    const run = (token: string): Promise<LookupPhase> =>
      closedLoopLookups(
        port,
        token,
        options.workspaceId,
        plan(),
        warmup,
        options.connections,
        options.targets,
      );
    const masked = await run(analystToken);
    const audited = await run(ADMIN_TOKEN);
    return { masked, audited, peakRssBytes: server.peakRss() };
  } finally {
    await server.stop();
  }
}
