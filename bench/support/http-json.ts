import { Agent, request } from 'node:http';

export interface JsonAnswer {
  readonly status: number;
  readonly body: string;
  /** `performance.now()` when the whole answer had arrived. */
  readonly atMs: number;
}

/** JSON over keep-alive HTTP to one local server, with a bearer token (the admin API). */
export class JsonClient {
  readonly #agent: Agent;
  readonly #port: number;

  constructor(port: number, connections: number) {
    this.#port = port;
    this.#agent = new Agent({ keepAlive: true, maxSockets: connections });
  }

  /** `token` undefined: no Authorization header. */
  send(method: 'GET' | 'POST', path: string, token: string | undefined, body?: unknown): Promise<JsonAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.#port,
          path,
          method,
          agent: this.#agent,
          headers: {
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              atMs: performance.now(),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Sends and parses; any other status than `expected` is an error (setup must not fail quietly). */
  async expect<T>(
    expected: number,
    method: 'GET' | 'POST',
    path: string,
    token: string,
    body?: unknown,
  ): Promise<T> {
    const answer = await this.send(method, path, token, body);
    if (answer.status !== expected)
      throw new Error(`${method} ${path}: expected ${expected}, got ${answer.status} ${answer.body}`);
    return JSON.parse(answer.body) as T;
  }

  close(): void {
    this.#agent.destroy();
  }
}
