/**
 * The HTTP edge of destinations: POSTs one JSON body to a user-given URL and says what the
 * delivery should do next (done, try again later, give up). It connects only to the address the
 * egress policy approved, pinning it through the socket's `lookup` so TLS still checks the
 * certificate against the URL's host name, and it never follows redirects: a redirect would be
 * a second, unchecked destination.
 */
import { request as httpRequest, STATUS_CODES, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../shared/clock.ts';
import {
  checkDestinationUrl,
  resolveEgress,
  systemResolver,
  type EgressAllowList,
  type Resolver,
} from './egress-policy.ts';

export interface PostOutcome {
  readonly kind: 'ok' | 'retry' | 'reject';
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  readonly message: string;
  readonly durationMs: number;
}

export interface HttpPoster {
  post(url: string, body: Buffer, headers: Readonly<Record<string, string>>): Promise<PostOutcome>;
}

export interface HttpPosterOptions {
  readonly allow: EgressAllowList;
  readonly resolve?: Resolver;
  /** The whole attempt: DNS, connecting, sending and reading the response. */
  readonly timeoutMs?: number;
  /** Response bytes read (and counted for the message); the connection is closed past them. */
  readonly maxResponseBytes?: number;
  readonly userAgent?: string;
  /** Only used to turn a Retry-After date into a delay. */
  readonly clock?: Clock;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
export const DEFAULT_USER_AGENT = 'opencdp-webhook';
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;
const EXCERPT_CHARS = 200;

/**
 * Headers the client owns: framing and connection handling must match what it actually sends,
 * and Host must name the URL's host (a caller's Host would turn the checked address into a
 * virtual-host bypass).
 */
const OWN_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

type Verdict = Omit<PostOutcome, 'durationMs'>;

function verdict(
  kind: Verdict['kind'],
  status: number | null,
  message: string,
  retryAfterMs: number | null = null,
): Verdict {
  return { kind, status, retryAfterMs, message };
}

/** Delta-seconds or an HTTP date, as a delay from `nowMs`; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  const text = value?.trim() ?? '';
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  // Date.parse reads almost anything ("1.5" is a date); only the three HTTP-date forms count.
  if (!/^[A-Za-z]{3,9},? /.test(text)) return null;
  // asctime dates carry no zone but mean GMT; Date.parse would read them as local time.
  const asctime = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/.test(text);
  const at = Date.parse(asctime ? `${text} GMT` : text);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(at - nowMs, 0), MAX_RETRY_AFTER_MS);
}

/** Printable, single-line and short: what is kept ends up in logs and the console. */
function excerpt(text: string): string {
  const flat = text
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  return Array.from(flat).slice(0, EXCERPT_CHARS).join('');
}

/** The response as read: its body is only counted (see `answerOf`). */
interface ResponseRead {
  readonly response: IncomingMessage;
  readonly bodyBytes: number;
  /** Reading stopped at the limit: the body may go on. */
  readonly cut: boolean;
}

/**
 * The media type alone (`application/problem+json`), or null for anything else: the header is
 * the peer's text too, so only what has the shape of a media type is kept.
 */
function mediaTypeOf(header: string | undefined): string | null {
  const type = header?.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^[a-z0-9][\w!#$&^.+-]{0,63}\/[a-z0-9][\w!#$&^.+-]{0,63}$/.test(type) ? type : null;
}

/** Where a redirect pointed: origin and path only (a query string may carry anything). */
function locationOf(header: string | undefined, base: URL): string {
  if (header === undefined || header.trim() === '') return 'redirect not followed';
  try {
    const target = new URL(header, base);
    return `redirect to ${excerpt(`${target.origin}${target.pathname}`)} not followed`;
  } catch {
    return 'redirect to an unreadable location not followed';
  }
}

/**
 * What is kept of an answer: the status, its standard reason phrase, and the body's length and
 * media type. Never the body's text (nor the peer's own reason phrase): a receiver's answer is
 * its data, often the payload echoed back with the person's data in it, and the message is
 * stored in plain text as the delivery's `lastError`, shown to roles without PII access.
 */
function answerOf({ response, bodyBytes, cut }: ResponseRead, notes: readonly string[]): string {
  const status = response.statusCode ?? 0;
  const reason = STATUS_CODES[status];
  const head = reason === undefined ? `HTTP ${status}` : `HTTP ${status} ${reason}`;
  const all = [...notes];
  if (bodyBytes > 0) {
    const type = mediaTypeOf(response.headers['content-type']);
    const size = `${cut ? 'at least ' : ''}${bodyBytes} bytes`;
    all.push(`body: ${size}${type === null ? '' : ` of ${type}`}, not kept`);
  }
  return all.length === 0 ? head : `${head} (${all.join('; ')})`;
}

function classify(read: ResponseRead, url: URL, nowMs: number): Verdict {
  const { response } = read;
  const status = response.statusCode ?? 0;
  if (status >= 200 && status <= 299) return verdict('ok', status, answerOf(read, []));
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) {
    const retryAfter = parseRetryAfter(response.headers['retry-after'], nowMs);
    return verdict('retry', status, answerOf(read, []), retryAfter);
  }
  if (status >= 300 && status <= 399)
    return verdict('reject', status, answerOf(read, [locationOf(response.headers.location, url)]));
  return verdict('reject', status, answerOf(read, []));
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return typeof code === 'string' ? `${code} (${error.message})` : error.message;
  }
  return String(error);
}

function requestHeaders(
  url: URL,
  body: Buffer,
  given: Readonly<Record<string, string>>,
  userAgent: string,
): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': userAgent };
  for (const [name, value] of Object.entries(given)) {
    const key = name.toLowerCase();
    if (!OWN_HEADERS.has(key)) headers[key] = value;
  }
  headers.host = url.host;
  headers['content-length'] = String(body.length);
  return headers;
}

interface Exchange {
  readonly url: URL;
  readonly address: string;
  readonly family: 4 | 6;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  readonly totalTimeoutMs: number;
  readonly maxResponseBytes: number;
  readonly clock: Clock;
}

/** One request on its own socket; resolves exactly once and leaves nothing open behind it. */
function exchange(x: Exchange): Promise<Verdict> {
  return new Promise((resolve) => {
    const pinned: LookupFunction = (_hostname, options, callback) => {
      if (options.all === true) callback(null, [{ address: x.address, family: x.family }]);
      else callback(null, x.address, x.family);
    };
    const hostname = x.url.hostname.replace(/^\[(.*)\]$/, '$1');
    let req: ClientRequest;
    try {
      req = (x.url.protocol === 'https:' ? httpsRequest : httpRequest)({
        method: 'POST',
        hostname,
        port: x.url.port === '' ? (x.url.protocol === 'https:' ? 443 : 80) : Number(x.url.port),
        path: `${x.url.pathname}${x.url.search}`,
        headers: x.headers,
        agent: false,
        lookup: pinned,
      });
    } catch (error) {
      // Header names or values node refuses to send: the request itself is wrong, not the peer.
      resolve(verdict('reject', null, `invalid request: ${describeError(error)}`));
      return;
    }
    let response: IncomingMessage | null = null;
    let kept = 0;
    let cut = false;
    let settled = false;
    const settle = (result: Verdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      response?.destroy();
      req.destroy();
      resolve(result);
    };
    // Once the status line is in, the peer has decided; a body cut short or too slow only
    // shortens the message (retrying a 2xx whose body stalls would deliver twice).
    const settleFromResponse = () => {
      if (response !== null) settle(classify({ response, bodyBytes: kept, cut }, x.url, x.clock.now()));
    };
    const timer = setTimeout(() => {
      if (response !== null) settleFromResponse();
      else settle(verdict('retry', null, `timed out after ${x.totalTimeoutMs} ms`));
    }, x.timeoutMs);
    req.on('response', (res) => {
      response = res;
      // The body is counted, not kept; past the limit the connection is closed.
      res.on('data', (chunk: Buffer) => {
        const room = x.maxResponseBytes - kept;
        kept += Math.min(chunk.length, Math.max(room, 0));
        if (kept >= x.maxResponseBytes) {
          cut = true;
          settleFromResponse();
        }
      });
      res.on('end', settleFromResponse);
      res.on('error', settleFromResponse);
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      response = res;
      settleFromResponse();
    });
    req.on('error', (error) => {
      if (response !== null) settleFromResponse();
      else settle(verdict('retry', null, `connection failed: ${describeError(error)}`));
    });
    req.end(x.body);
  });
}

const TIMED_OUT = Symbol('timed out');

async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, expiry]);
  } finally {
    clearTimeout(timer);
  }
}

export function createHttpPoster(options: HttpPosterOptions): HttpPoster {
  const resolver = options.resolve ?? systemResolver;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const clock = options.clock ?? systemClock;

  async function attempt(
    url: string,
    body: Buffer,
    headers: Readonly<Record<string, string>>,
    started: number,
  ) {
    const checked = checkDestinationUrl(url);
    if (!checked.ok) return verdict('reject', null, `egress refused: ${checked.message}`);
    const decision = await within(resolveEgress(checked.url, options.allow, resolver), timeoutMs);
    const timedOut = verdict('retry', null, `timed out after ${timeoutMs} ms`);
    if (decision === TIMED_OUT) return timedOut;
    if (!decision.ok) {
      return decision.retryable
        ? verdict('retry', null, decision.message)
        : verdict('reject', null, `egress refused: ${decision.message}`);
    }
    const remaining = timeoutMs - (performance.now() - started);
    if (remaining <= 0) return timedOut;
    return exchange({
      url: checked.url,
      address: decision.address,
      family: decision.family,
      body,
      headers: requestHeaders(checked.url, body, headers, userAgent),
      timeoutMs: remaining,
      totalTimeoutMs: timeoutMs,
      maxResponseBytes,
      clock,
    });
  }

  return {
    async post(url, body, headers) {
      const started = performance.now();
      let result: Verdict;
      try {
        result = await attempt(url, body, headers, started);
      } catch (error) {
        // Nothing above should throw; if it does, the attempt cannot be judged, so try later.
        result = verdict('retry', null, `unexpected failure: ${describeError(error)}`);
      }
      return { ...result, durationMs: Math.round(performance.now() - started) };
    },
  };
}
