import { Agent, request } from 'node:http';

/**
 * Ingestion traffic and read-back for end-to-end tests: concurrent clients posting
 * `/v1/batch` over keep-alive connections, remembering which batches were acknowledged, and
 * the admin API read side to check what is stored.
 */

export interface SentBatch {
  readonly client: number;
  readonly messageIds: readonly string[];
  readonly body: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** One POST over `agent`; rejects on a socket error or after `timeoutMs`. */
export function post(
  agent: Agent,
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs = 20_000,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export function basicAuth(writeKey: string): { authorization: string } {
  return { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` };
}

export function makeBatch(prefix: string, client: number, index: number, size: number): SentBatch {
  const messageIds = Array.from({ length: size }, (_, i) => `${prefix}-c${client}-b${index}-e${i}`);
  const batch = messageIds.map((messageId, i) => ({
    type: 'track',
    messageId,
    userId: `user-${client}`,
    event: 'E2E Event',
    properties: { client, batch: index, item: i },
    timestamp: new Date().toISOString(),
  }));
  return { client, messageIds, body: JSON.stringify({ batch }) };
}

export interface LoadOptions {
  readonly url: string;
  readonly writeKey: string;
  readonly clients: number;
  readonly batchSize: number;
  /** Unique per run, so messageIds never collide across runs. */
  readonly prefix: string;
  /** Upper bound per client, so a load never runs away. */
  readonly maxBatchesPerClient: number;
}

export interface Load {
  readonly sent: SentBatch[];
  readonly acked: SentBatch[];
  /** HTTP answers other than 200, by status. */
  readonly refused: Map<number, number>;
  /** Requests that ended without an HTTP answer (reset, refused, timeout). */
  readonly failed: SentBatch[];
  inFlight(): number;
  /** Ask the clients to stop after their current request. */
  stop(): void;
  /** Resolves when every client has stopped. */
  readonly done: Promise<void>;
}

/**
 * `clients` concurrent loops, each posting one batch at a time on its own keep-alive
 * connection. A client stops on its first failure without an HTTP answer (the server went
 * away), on a 503, on `stop()`, or after `maxBatchesPerClient` batches.
 */
export function startLoad(options: LoadOptions): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const sent: SentBatch[] = [];
  const acked: SentBatch[] = [];
  const failed: SentBatch[] = [];
  const refused = new Map<number, number>();
  let inFlight = 0;
  let stopped = false;
  const headers = basicAuth(options.writeKey);
  const client = async (id: number): Promise<void> => {
    for (let n = 0; n < options.maxBatchesPerClient && !stopped; n++) {
      const batch = makeBatch(options.prefix, id, n, options.batchSize);
      sent.push(batch);
      inFlight++;
      try {
        const answer = await post(agent, `${options.url}/v1/batch`, batch.body, headers);
        if (answer.status === 200 && (JSON.parse(answer.body) as { success?: unknown }).success === true) {
          acked.push(batch);
        } else {
          refused.set(answer.status, (refused.get(answer.status) ?? 0) + 1);
          if (answer.status === 503) return;
        }
      } catch {
        failed.push(batch);
        return;
      } finally {
        inFlight--;
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.clients }, (_, id) => client(id))).then(() =>
    agent.destroy(),
  );
  return {
    sent,
    acked,
    refused,
    failed,
    inFlight: () => inFlight,
    stop: () => {
      stopped = true;
    },
    done,
  };
}

/** Resolves when `condition` holds, polling; rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface AdminClient {
  get<T>(path: string): Promise<{ status: number; body: T }>;
  post<T>(path: string, body: unknown): Promise<{ status: number; body: T }>;
}

export function adminClient(url: string, token: string): AdminClient {
  const call = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  return { get: (path) => call('GET', path), post: (path, body) => call('POST', path, body) };
}

/** A new workspace with one HTTP source, through the admin API. */
export async function createWorkspaceWithSource(
  admin: AdminClient,
  name: string,
): Promise<{ slug: string; writeKey: string }> {
  const ws = await admin.post<{ slug: string }>('/api/v1/workspaces', { name });
  if (ws.status !== 201) throw new Error(`POST /api/v1/workspaces answered ${ws.status}`);
  const source = await admin.post<{ writeKey: string }>(`/api/v1/workspaces/${ws.body.slug}/sources`, {
    name: 'e2e',
    type: 'http',
  });
  if (source.status !== 201) throw new Error(`POST …/sources answered ${source.status}`);
  return { slug: ws.body.slug, writeKey: source.body.writeKey };
}

/**
 * Every stored messageId of the workspace with how often it is stored, paging through
 * `GET /api/v1/workspaces/{ws}/events?limit=500` (bounded by `maxPages`).
 */
export async function storedMessageIds(
  admin: AdminClient,
  workspace: string,
  maxPages = 2_000,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let cursor: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const answer = await admin.get<{ items: { messageId: string }[]; nextCursor: string | null }>(
      `/api/v1/workspaces/${workspace}/events?limit=500${query}`,
    );
    if (answer.status !== 200) throw new Error(`GET …/events answered ${answer.status}`);
    for (const item of answer.body.items) counts.set(item.messageId, (counts.get(item.messageId) ?? 0) + 1);
    cursor = answer.body.nextCursor;
    if (cursor === null) return counts;
  }
  throw new Error(`more than ${maxPages} pages of events`);
}

export async function storedEventCount(admin: AdminClient, workspace: string): Promise<number> {
  const answer = await admin.get<{ events: number }>(`/api/v1/workspaces/${workspace}/stats`);
  if (answer.status !== 200) throw new Error(`GET …/stats answered ${answer.status}`);
  return answer.body.events;
}
