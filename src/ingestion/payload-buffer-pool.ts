/**
 * Memory for stored payloads, reused from one request to the next. A decoder worker writes
 * each request's payloads into a buffer that moves to the main thread; once the events are
 * stored the main thread hands it back. Without this every request allocated a new buffer in
 * the worker's malloc arena and the main thread freed it only when its collector got round to
 * the transferred buffer (tens of MB at a time under load): on the ingest benchmark that arena
 * alone held 57 MB of the server's RSS.
 */
export class PayloadBufferPool {
  readonly #buffers: ArrayBuffer[] = [];
  readonly #maxBuffers: number;
  readonly #maxBytes: number;
  #bytes = 0;

  /** At most `maxBuffers` buffers and `maxBytes` in all are kept; more is left to the collector. */
  constructor(maxBuffers = 32, maxBytes = 16 * 1024 * 1024) {
    this.#maxBuffers = maxBuffers;
    this.#maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#buffers.length;
  }

  /** A kept buffer of at least `minBytes` (the smallest that fits), or undefined. */
  take(minBytes: number): ArrayBuffer | undefined {
    let best = -1;
    for (let i = 0; i < this.#buffers.length; i++) {
      const length = (this.#buffers[i] as ArrayBuffer).byteLength;
      if (length >= minBytes && (best < 0 || length < (this.#buffers[best] as ArrayBuffer).byteLength))
        best = i;
    }
    if (best < 0) return undefined;
    const [buffer] = this.#buffers.splice(best, 1) as [ArrayBuffer];
    this.#bytes -= buffer.byteLength;
    return buffer;
  }

  /** Keeps a buffer nobody uses any more (a detached one is ignored). */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0) return;
    if (this.#buffers.length >= this.#maxBuffers || this.#bytes + buffer.byteLength > this.#maxBytes) return;
    this.#buffers.push(buffer);
    this.#bytes += buffer.byteLength;
  }
}
