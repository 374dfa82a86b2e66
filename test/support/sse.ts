import http from 'node:http';
import { Readable } from 'node:stream';

/** One Server-Sent Events frame. */
export interface SseFrame {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
  /** Comment lines (": connected", ": heartbeat"). */
  readonly comments: readonly string[];
}

/**
 * Reads an SSE response body over a real socket (fetch), frame by frame. `next()` waits for
 * the next frame matching `accept`, failing after `timeoutMs`.
 */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  readonly frames: SseFrame[] = [];

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  async next(accept: (frame: SseFrame) => boolean, timeoutMs = 5000): Promise<SseFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.#takeFrame();
      if (frame) {
        this.frames.push(frame);
        if (accept(frame)) return frame;
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(`no matching SSE frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), remaining);
      });
      const chunk = await Promise.race([this.#reader.read(), timeout]);
      clearTimeout(timer);
      if (chunk === 'timeout') continue;
      if (chunk.done) throw new Error(`the SSE stream ended; got ${JSON.stringify(this.frames)}`);
      this.#buffer += this.#decoder.decode(chunk.value, { stream: true });
    }
  }

  /** The next `event: message` frame, its data parsed as JSON. */
  async nextMessage(timeoutMs = 5000): Promise<{ id: string | undefined; data: Record<string, unknown> }> {
    const frame = await this.next((f) => f.event === 'message', timeoutMs);
    return { id: frame.id, data: JSON.parse(frame.data) as Record<string, unknown> };
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => undefined);
  }

  #takeFrame(): SseFrame | undefined {
    const normalized = this.#buffer.replace(/\r\n?/g, '\n');
    const end = normalized.indexOf('\n\n');
    if (end === -1) return undefined;
    this.#buffer = normalized.slice(end + 2);
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    const comments: string[] = [];
    for (const line of normalized.slice(0, end).split('\n')) {
      if (line.startsWith(':')) {
        comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    return { id, event, data: data.join('\n'), comments };
  }
}

export interface SseConnection {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly reader: SseReader;
  /** Closes the socket (the client went away). */
  close(): void;
}

/**
 * Opens a live stream over a real socket. node:http without an agent gives one connection per
 * stream, closed on `close()`; fetch's pool keeps spare idle sockets that hold a closing server
 * open for seconds.
 */
export function openSse(url: string, headers: Record<string, string>): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      url,
      { headers: { accept: 'text/event-stream', ...headers }, agent: false },
      (response) => {
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'],
          reader: new SseReader(Readable.toWeb(response) as ReadableStream<Uint8Array>),
          close: () => request.destroy(),
        });
      },
    );
    request.on('error', reject);
  });
}
