/**
 * Profile lookup over HTTP, on the real server (`dist/cdp.mjs start`, as `npm start` runs it)
 * pointed at the data the pipeline built: `GET /api/v1/workspaces/{ws}/profiles/lookup?type=
 * email&value=…` for random known e-mails, over a few keep-alive connections in a closed loop.
 * Each answer is checked: 200 and the profile that holds the e-mail.
 *
 * Two callers, because they take different paths: an `analyst` token sees personal data masked
 * (a pure read), while a caller with PII access (the instance owner here) has every read
 * recorded in the audit log first, a durable hash-chained write per lookup.
 *
 * The load runs in a child process of its own (see get-loop-process.ts).
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createPrng } from '../generate/index.ts';
import { percentile } from '../support/load-client.ts';
import type { GetLoopPlan, GetLoopResult } from '../support/get-loop-process.ts';
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
  /** `GET /health` on the same server and connections: what the machine allows right now. */
  readonly floor: LookupPhase;
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

function send(
  agent: Agent,
  port: number,
  path: string,
  token: string | undefined,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
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

/**
 * GETs of `paths` from a lean child process (bench/support/get-loop-process.ts), in a closed
 * loop or, with `ratePerSecond`, an open one; the first `warmup` answers are not measured.
 * `expectedIds[i]`: the profile id the answer must hold.
 */
async function loadGets(
  port: number,
  token: string | undefined,
  paths: readonly string[],
  warmup: number,
  connections: number,
  ratePerSecond: number | undefined,
  expectedIds?: readonly string[],
): Promise<LookupPhase> {
  const plan: GetLoopPlan = {
    port,
    ...(token === undefined ? {} : { token }),
    paths,
    warmup,
    connections,
    ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
    ...(expectedIds === undefined ? {} : { expectedIds }),
  };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('../support/get-loop-process.ts', import.meta.url))],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.stdin.end(JSON.stringify(plan));
  const code = await exited;
  if (code !== 0) throw new Error(`the lookup load process exited with ${code}`);
  const result = JSON.parse(Buffer.concat(output).toString()) as GetLoopResult;
  return {
    requests: result.latenciesMs.length,
    p50Ms: percentile(result.latenciesMs, 50),
    p99Ms: percentile(result.latenciesMs, 99),
    requestsPerSecond: result.latenciesMs.length / result.seconds,
    wrong: result.wrong,
  };
}

/** Extra flags for the server's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
const NODE_FLAGS = (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');

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
  /** Open loop at these request rates (the floor at the masked rate); absent: closed loop. */
  readonly rates?: { readonly masked: number; readonly audited: number };
  readonly seed: number;
}): Promise<LookupLatency> {
  const emails = [...options.targets.keys()].sort();
  if (emails.length === 0) throw new Error('no e-mail to look up');
  const prng = createPrng(options.seed, 1);
  const warmup = Math.ceil(options.lookups / 10);
  const plan = (): string[] => Array.from({ length: warmup + options.lookups }, () => prng.pick(emails));
  const port = await freePort();
  const server = await startProcess(
    [...NODE_FLAGS, '--enable-source-maps', 'dist/cdp.mjs', 'start'],
    {
      ...options.server,
      PORT: String(port),
      CDP_LOG_LEVEL: 'warn',
      CDP_ADMIN_TOKEN: ADMIN_TOKEN,
      // Latency is measured at the rate the machine allows, not at the per-token default limit.
      CDP_RATE_LIMIT_API: '0',
    },
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
    const lookups = async (token: string, rate: number | undefined): Promise<LookupPhase> => {
      const emails = plan();
      const paths = emails.map(
        (email) =>
          `/api/v1/workspaces/${options.workspaceId}/profiles/lookup?type=email&value=${encodeURIComponent(email)}`,
      );
      const expected = emails.map((email) => options.targets.get(email) ?? '');
      return loadGets(port, token, paths, warmup, options.connections, rate, expected);
    };
    // The floor on this machine at this moment: the same server, connections and client, a
    // route that does nothing (no auth, no storage).
    const floor = await loadGets(
      port,
      undefined,
      Array.from({ length: warmup + options.lookups }, () => '/health'),
      warmup,
      options.connections,
      options.rates?.masked,
    );
    const masked = await lookups(analystToken, options.rates?.masked);
    const audited = await lookups(ADMIN_TOKEN, options.rates?.audited);
    return { floor, masked, audited, peakRssBytes: server.peakRss() };
  } finally {
    await server.stop();
  }
}
