import assert from 'node:assert/strict';
import {
  createServer,
  STATUS_CODES,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { it } from 'node:test';
import { parseEgressAllow, type Resolver } from '../../src/destinations/egress-policy.ts';
import {
  createHttpPoster,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  type PostOutcome,
} from '../../src/destinations/webhook-client.ts';
import { createManualClock } from '../../src/shared/clock.ts';

const LOOPBACK = parseEgressAllow(['127.0.0.1']);
const BODY = Buffer.from('{"type":"track","event":"Order Completed","properties":{"total":42}}');

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface TestServer {
  readonly port: number;
  readonly url: string;
  readonly received: { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }[];
  close(): Promise<void>;
}

async function listen(server: ReturnType<typeof createServer> | ReturnType<typeof createTcpServer>) {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A real HTTP server on 127.0.0.1 that records each request once its body is read. */
async function startServer(handler: Handler): Promise<TestServer> {
  const received: TestServer['received'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res);
    });
  });
  const port = await listen(server);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw TCP server, for answers an HTTP server would not send. */
async function startTcpServer(onSocket: (socket: Socket) => void) {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  const port = await listen(server);
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs `body` against a fresh server and always closes it. */
async function withServer(handler: Handler, body: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startServer(handler);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

/** The outcome without its duration, to compare whole. */
function summary(outcome: PostOutcome) {
  const { kind, status, retryAfterMs, message } = outcome;
  return { kind, status, retryAfterMs, message };
}

function reply(status: number, body = '', headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

it('POSTs the exact bytes with JSON, length, user-agent and the given headers, and reads 2xx as ok', async () => {
  await withServer(reply(200, '{"ok":true}'), async (server) => {
    const outcome = await createHttpPoster({ allow: LOOPBACK }).post(
      `${server.url}/hooks/in?source=cdp`,
      BODY,
      {
        'X-CDP-Signature': 't=1,v1=abc',
        Authorization: 'Bearer token',
      },
    );
    assert.deepEqual(summary(outcome), {
      kind: 'ok',
      status: 200,
      retryAfterMs: null,
      message: 'HTTP 200 OK (body: 11 bytes, not kept)',
    });
    assert.ok(outcome.durationMs >= 0 && outcome.durationMs < 5000);
    assert.equal(server.received.length, 1);
    const { method, url, body, headers } = server.received[0] ?? assert.fail('no request');
    assert.deepEqual({ method, url, body }, { method: 'POST', url: '/hooks/in?source=cdp', body: BODY });
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['content-length'], String(BODY.length));
    assert.equal(headers['x-cdp-signature'], 't=1,v1=abc');
    assert.equal(headers.authorization, 'Bearer token');
    assert.equal(headers['user-agent'], 'opencdp-webhook');
    assert.equal(headers.host, `127.0.0.1:${server.port}`);
  });
});

it('keeps framing and Host its own: callers cannot override them', async () => {
  await withServer(reply(204), async (server) => {
    const outcome = await createHttpPoster({ allow: LOOPBACK, userAgent: 'acme-cdp/2' }).post(
      server.url,
      BODY,
      {
        'Content-Length': '1',
        Host: 'internal.admin',
        'Transfer-Encoding': 'chunked',
        'Content-Type': 'application/json; charset=utf-8',
      },
    );
    const message = 'HTTP 204 No Content';
    assert.deepEqual(summary(outcome), { kind: 'ok', status: 204, retryAfterMs: null, message });
    const { headers, body } = server.received[0] ?? assert.fail('no request');
    assert.equal(headers['content-length'], String(BODY.length));
    assert.equal(headers.host, `127.0.0.1:${server.port}`);
    assert.equal(headers['transfer-encoding'], undefined);
    assert.equal(headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(headers['user-agent'], 'acme-cdp/2');
    assert.deepEqual(body, BODY);
  });
});

it('reads 429, 5xx and 408 as retry, with Retry-After in seconds or as a date', async () => {
  const clock = createManualClock(Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'));
  const answers: readonly (readonly [number, string | null, number | null])[] = [
    [500, '120', 120_000],
    [503, 'Wed, 21 Oct 2015 07:30:00 GMT', 120_000],
    [503, 'Wed, 21 Oct 2015 07:00:00 GMT', 0],
    [429, '0', 0],
    [429, '9999999999', MAX_RETRY_AFTER_MS],
    [429, 'Wed, 21 Oct 2037 07:30:00 GMT', MAX_RETRY_AFTER_MS],
    [502, 'soon', null],
    [502, '1.5', null],
    [599, null, null],
    [408, null, null],
  ];
  for (const [status, retryAfter, retryAfterMs] of answers) {
    const headers: Record<string, string> = retryAfter === null ? {} : { 'retry-after': retryAfter };
    await withServer(reply(status, 'try later', headers), async (server) => {
      const outcome = await createHttpPoster({ allow: LOOPBACK, clock }).post(server.url, BODY, {});
      const message = `HTTP ${status}${status === 599 ? '' : ` ${STATUS_CODES[status]}`} (body: 9 bytes, not kept)`;
      const expected = { kind: 'retry', status, retryAfterMs, message };
      assert.deepEqual(summary(outcome), expected, `${status} ${retryAfter}`);
    });
  }
});

it('parses Retry-After alone: delta-seconds, HTTP dates in their three forms, nothing else', () => {
  const now = Date.parse('Sun, 06 Nov 1994 08:49:00 GMT');
  const cases = [
    [undefined, null],
    ['', null],
    [' 30 ', 30_000],
    ['-5', null],
    ['2015', 2_015_000],
    ['86401', MAX_RETRY_AFTER_MS],
    ['Sun, 06 Nov 1994 08:49:37 GMT', 37_000],
    ['Sunday, 06-Nov-94 08:49:37 GMT', 37_000],
    ['Sun Nov  6 08:49:37 1994', 37_000],
    ['Sun, 99 Nov 1994 08:49:37 GMT', null],
  ] as const;
  for (const [value, expected] of cases) assert.equal(parseRetryAfter(value, now), expected, value);
});

it('reads other 4xx as reject, with the status, its reason and the size and type of the body, never its text', async () => {
  // A receiver's answer is its data (often the payload echoed back): only its shape is kept.
  const answers: readonly (readonly [number, string, Record<string, string>, string])[] = [
    [400, 'bad\r\n\u0000\tpayload\u001b[31m', {}, 'HTTP 400 Bad Request (body: 19 bytes, not kept)'],
    [
      422,
      '{"email":"uma.secret@bank.com"}',
      { 'content-type': 'Application/JSON; charset=utf-8' },
      'HTTP 422 Unprocessable Entity (body: 31 bytes of application/json, not kept)',
    ],
    [
      404,
      'é'.repeat(300),
      { 'content-type': 'text/plain uma.secret@bank.com' },
      'HTTP 404 Not Found (body: 600 bytes, not kept)',
    ],
    [410, '', {}, 'HTTP 410 Gone'],
    [
      413,
      'too large',
      { 'content-type': 'text/html' },
      'HTTP 413 Payload Too Large (body: 9 bytes of text/html, not kept)',
    ],
    [499, 'custom', {}, 'HTTP 499 (body: 6 bytes, not kept)'],
  ];
  for (const [status, body, headers, message] of answers) {
    await withServer(reply(status, body, { 'retry-after': '60', ...headers }), async (server) => {
      const outcome = await createHttpPoster({ allow: LOOPBACK }).post(server.url, BODY, {});
      assert.deepEqual(summary(outcome), { kind: 'reject', status, retryAfterMs: null, message });
    });
  }
});

it("keeps the standard reason phrase, never the receiver's own", async () => {
  const custom: Handler = (_req, res) => {
    res.statusMessage = 'uma.secret@bank.com is not allowed';
    res.writeHead(403);
    res.end();
  };
  await withServer(custom, async (server) => {
    const outcome = await createHttpPoster({ allow: LOOPBACK }).post(server.url, BODY, {});
    assert.equal(outcome.message, 'HTTP 403 Forbidden');
  });
});

it('never follows a redirect: 3xx is reject and the target never hears of it', async () => {
  await withServer(reply(200), async (target) => {
    const location = `${target.url}/elsewhere?email=uma.secret@bank.com#x`;
    await withServer(reply(301, 'moved', { location }), async (server) => {
      const outcome = await createHttpPoster({ allow: LOOPBACK }).post(server.url, BODY, {});
      const message = `HTTP 301 Moved Permanently (redirect to ${target.url}/elsewhere not followed; body: 5 bytes, not kept)`;
      assert.deepEqual(summary(outcome), { kind: 'reject', status: 301, retryAfterMs: null, message });
      assert.equal(server.received.length, 1);
      assert.equal(target.received.length, 0);
    });
  });
});

it('gives up on a silent server at the timeout and asks for a retry', async () => {
  const silent: Handler = () => undefined;
  await withServer(silent, async (server) => {
    const started = Date.now();
    const outcome = await createHttpPoster({ allow: LOOPBACK, timeoutMs: 300 }).post(server.url, BODY, {});
    const elapsed = Date.now() - started;
    const expected = { kind: 'retry', status: null, retryAfterMs: null, message: 'timed out after 300 ms' };
    assert.deepEqual(summary(outcome), expected);
    assert.ok(elapsed >= 250 && elapsed < 1500, `took ${elapsed} ms`);
    assert.ok(outcome.durationMs >= 250 && outcome.durationMs < 1500, `reported ${outcome.durationMs} ms`);
  });
});

it('judges by the status once it arrived, even if the body then stalls past the timeout', async () => {
  const stalling: Handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('accepted, still ');
  };
  await withServer(stalling, async (server) => {
    const outcome = await createHttpPoster({ allow: LOOPBACK, timeoutMs: 300 }).post(server.url, BODY, {});
    const message = 'HTTP 200 OK (body: 16 bytes of text/plain, not kept)';
    const expected = { kind: 'ok', status: 200, retryAfterMs: null, message };
    assert.deepEqual(summary(outcome), expected);
    assert.ok(outcome.durationMs < 1500);
  });
});

it('a DNS answer that never comes counts against the same timeout', async () => {
  const hanging: Resolver = () => new Promise(() => undefined);
  const poster = createHttpPoster({ allow: LOOPBACK, resolve: hanging, timeoutMs: 200 });
  const outcome = await poster.post('https://hooks.example.com/', BODY, {});
  const expected = { kind: 'retry', status: null, retryAfterMs: null, message: 'timed out after 200 ms' };
  assert.deepEqual(summary(outcome), expected);
  assert.ok(outcome.durationMs < 1000);
});

it('asks for a retry when the connection is refused or reset', async () => {
  const closed = await startServer(reply(200));
  await closed.close();
  const refused = await createHttpPoster({ allow: LOOPBACK }).post(closed.url, BODY, {});
  assert.deepEqual([refused.kind, refused.status], ['retry', null]);
  assert.match(refused.message, /^connection failed: ECONNREFUSED/);

  const resetting = await startTcpServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
  try {
    const poster = createHttpPoster({ allow: LOOPBACK });
    const reset = await poster.post(`http://127.0.0.1:${resetting.port}/`, BODY, {});
    assert.deepEqual([reset.kind, reset.status], ['retry', null]);
    assert.match(reset.message, /^connection failed: ECONNRESET/);
  } finally {
    await resetting.close();
  }
});

it('reads 101 as reject without taking over the connection', async () => {
  const upgrade = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
  const server = await startTcpServer((socket) => socket.once('data', () => socket.write(upgrade)));
  try {
    const poster = createHttpPoster({ allow: LOOPBACK, timeoutMs: 2000 });
    const outcome = await poster.post(`http://127.0.0.1:${server.port}/`, BODY, {});
    assert.deepEqual({ kind: outcome.kind, status: outcome.status }, { kind: 'reject', status: 101 });
  } finally {
    await server.close();
  }
});

it('refuses loopback without an allow list before any byte is sent', async () => {
  await withServer(reply(200), async (server) => {
    const poster = createHttpPoster({ allow: parseEgressAllow([]) });
    for (const target of [
      server.url,
      `http://localhost:${server.port}/`,
      `http://[::ffff:127.0.0.1]:${server.port}/`,
      `http://2130706433:${server.port}/`,
    ]) {
      const outcome = await poster.post(target, BODY, {});
      assert.deepEqual([outcome.kind, outcome.status, outcome.retryAfterMs], ['reject', null, null], target);
      assert.match(outcome.message, /^egress refused: .*not a public address/, target);
    }
    assert.equal(server.received.length, 0);
  });
});

it('refuses bad URLs as egress refusals', async () => {
  await withServer(reply(200), async (server) => {
    const poster = createHttpPoster({ allow: LOOPBACK });
    for (const [target, reason] of [
      [`ftp://127.0.0.1:${server.port}/`, /http or https/],
      [`http://user:secret@127.0.0.1:${server.port}/`, /user name or password/],
      ['http://127.0.0.1:0/', /port/],
      ['not a url', /not a valid absolute URL/],
    ] as const) {
      const outcome = await poster.post(target, BODY, {});
      assert.deepEqual([outcome.kind, outcome.status], ['reject', null], target);
      assert.match(outcome.message, /^egress refused: /);
      assert.match(outcome.message, reason);
    }
    assert.equal(server.received.length, 0);
  });
});

it('connects to the address it checked, resolved once, with the URL host in Host', async () => {
  await withServer(reply(200), async (server) => {
    const asked: string[] = [];
    let answer = '127.0.0.1';
    // A rebinding DNS: a second question would get a private address the allow list refuses.
    const rebinding: Resolver = async (hostname) => {
      asked.push(hostname);
      const address = answer;
      answer = '10.0.0.1';
      return [{ address, family: 4 }];
    };
    const poster = createHttpPoster({ allow: parseEgressAllow(['hooks.example.test']), resolve: rebinding });
    const outcome = await poster.post(`http://hooks.example.test:${server.port}/in`, BODY, {});
    assert.equal(outcome.kind, 'ok', outcome.message);
    assert.deepEqual(asked, ['hooks.example.test']);
    assert.equal(server.received[0]?.headers.host, `hooks.example.test:${server.port}`);
  });
});

it('refuses a mixed DNS answer and retries when DNS fails', async () => {
  await withServer(reply(200), async (server) => {
    const dns: Resolver = async (hostname) => {
      if (hostname !== 'mixed.example.test') {
        throw Object.assign(new Error(`getaddrinfo EAI_AGAIN ${hostname}`), { code: 'EAI_AGAIN' });
      }
      return [
        { address: '93.184.215.14', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ];
    };
    const poster = createHttpPoster({ allow: parseEgressAllow([]), resolve: dns });
    const mixed = await poster.post(`http://mixed.example.test:${server.port}/`, BODY, {});
    assert.equal(mixed.kind, 'reject');
    assert.match(mixed.message, /^egress refused: "mixed\.example\.test" resolves to 127\.0\.0\.1/);
    const failing = await poster.post(`http://down.example.test:${server.port}/`, BODY, {});
    const message = 'could not resolve "down.example.test": EAI_AGAIN';
    assert.deepEqual(summary(failing), { kind: 'retry', status: null, retryAfterMs: null, message });
    assert.equal(server.received.length, 0);
  });
});

it('rejects headers node cannot send instead of throwing', async () => {
  await withServer(reply(200), async (server) => {
    const headers = { 'x-injected': 'a\r\nx-evil: 1' };
    const outcome = await createHttpPoster({ allow: LOOPBACK }).post(server.url, BODY, headers);
    assert.deepEqual([outcome.kind, outcome.status], ['reject', null]);
    assert.match(outcome.message, /^invalid request: ERR_INVALID_CHAR/);
    assert.equal(server.received.length, 0);
  });
});

it('stops reading an endless response body at the limit', async () => {
  const endless: Handler = (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(16 * 1024, 'x');
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  };
  await withServer(endless, async (server) => {
    for (const maxResponseBytes of [undefined, 10]) {
      const poster = createHttpPoster({ allow: LOOPBACK, timeoutMs: 5000, maxResponseBytes });
      const outcome = await poster.post(server.url, BODY, {});
      const limit = maxResponseBytes ?? 64 * 1024;
      const message = `HTTP 500 Internal Server Error (body: at least ${limit} bytes of text/plain, not kept)`;
      assert.deepEqual(summary(outcome), { kind: 'retry', status: 500, retryAfterMs: null, message });
      assert.ok(outcome.durationMs < 4000, `took ${outcome.durationMs} ms`);
    }
  });
});

it('is ok on a 2xx with a large body, read only up to the limit', async () => {
  await withServer(reply(202, 'y'.repeat(5 * 1024 * 1024)), async (server) => {
    const outcome = await createHttpPoster({ allow: LOOPBACK, maxResponseBytes: 1024 }).post(
      server.url,
      BODY,
      {},
    );
    const message = 'HTTP 202 Accepted (body: at least 1024 bytes, not kept)';
    const expected = { kind: 'ok', status: 202, retryAfterMs: null, message };
    assert.deepEqual(summary(outcome), expected);
  });
});
