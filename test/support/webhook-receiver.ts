import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedBatch {
  readonly headers: IncomingHttpHeaders;
  readonly raw: Buffer;
  readonly batch: Record<string, unknown>[];
}

/**
 * A webhook receiver as a partner would write one from contract §3: it accepts only a POST of
 * `application/json` `{"batch":[…]}` whose `X-CDP-Signature` is `sha256=<hex HMAC-SHA256 of the
 * raw body>` with the destination's secret, and fails the test on anything else. Answers are
 * scripted: `respond` pops the next status (default 200).
 */
export class WebhookReceiver {
  readonly received: ReceivedBatch[] = [];
  readonly problems: string[] = [];
  readonly #answers: { status: number; headers?: Record<string, string> }[] = [];
  #secret = '';
  readonly #server: Server;

  private constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const answer = this.#answers.shift() ?? { status: 200 };
        try {
          this.#check(req.method, req.headers, raw);
          const parsed = JSON.parse(raw.toString('utf8')) as { batch: Record<string, unknown>[] };
          if (answer.status >= 200 && answer.status < 300)
            this.received.push({ headers: req.headers, raw, batch: parsed.batch });
        } catch (error) {
          this.problems.push(String(error));
        }
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.status >= 400 ? `refused with ${answer.status}` : 'ok');
      });
    });
  }

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks/cdp?token=abc`;
  }

  /** The secret the destination was created with (shown once in the create answer). */
  useSecret(secret: string): void {
    this.#secret = secret;
  }

  /** The next answers, in order (then 200 again). */
  respond(...answers: { status: number; headers?: Record<string, string> }[]): void {
    this.#answers.push(...answers);
  }

  /** Every delivered message, in arrival order. */
  messages(): Record<string, unknown>[] {
    return this.received.flatMap((r) => r.batch);
  }

  #check(method: string | undefined, headers: IncomingHttpHeaders, raw: Buffer): void {
    assert.equal(method, 'POST');
    assert.match(String(headers['content-type']), /^application\/json/);
    assert.equal(Number(headers['content-length']), raw.length);
    const signature = String(headers['x-cdp-signature']);
    const expected = `sha256=${createHmac('sha256', this.#secret).update(raw).digest('hex')}`;
    assert.ok(
      signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected)),
      `bad signature ${signature}`,
    );
    const body = JSON.parse(raw.toString('utf8')) as unknown;
    assert.ok(
      typeof body === 'object' && body !== null && Array.isArray((body as { batch?: unknown }).batch),
    );
    assert.deepEqual(Object.keys(body), ['batch']);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
