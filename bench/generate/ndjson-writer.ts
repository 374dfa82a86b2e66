/**
 * Buffered line writer for big NDJSON outputs. Lines are UTF-8-encoded straight into a 1 MiB
 * buffer that is written when full: one write per line, or joining strings then encoding
 * them, cost more CPU than producing the lines. Waits for `drain` so memory stays bounded.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

const CHUNK_BYTES = 1 << 20;
/** A UTF-16 code unit never takes more than 3 bytes in UTF-8. */
const MAX_BYTES_PER_CHAR = 3;
const NEWLINE = 0x0a;

export class NdjsonWriter {
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;

  /** With `owned`, `close()` also ends the stream (a file); stdout is left open. */
  constructor(
    private readonly stream: Writable,
    private readonly owned: boolean,
  ) {}

  /**
   * Queues a line; returns true when the stream is backed up and the caller should
   * `await drained()`. Synchronous on purpose: awaiting per message costs more than making it.
   */
  push(line: string): boolean {
    const worstCase = line.length * MAX_BYTES_PER_CHAR + 1;
    if (this.used + worstCase > this.buffer.length) {
      if (this.used > 0) this.handOver();
      if (worstCase > this.buffer.length) this.buffer = Buffer.allocUnsafe(worstCase);
    }
    this.used += this.buffer.write(line, this.used, 'utf8');
    this.buffer[this.used++] = NEWLINE;
    return this.stream.writableNeedDrain;
  }

  /** Resolves once the stream accepts more data. */
  async drained(): Promise<void> {
    if (this.stream.writableNeedDrain) await once(this.stream, 'drain');
  }

  /** Flushes and, for an owned stream, ends it and waits until everything is written. */
  async close(): Promise<void> {
    if (this.used > 0) this.handOver();
    await this.drained();
    if (!this.owned) return;
    this.stream.end();
    await once(this.stream, 'finish');
  }

  /** The stream keeps the bytes until written, so the next lines go to a fresh buffer. */
  private handOver(): void {
    this.stream.write(this.buffer.subarray(0, this.used));
    this.buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
  }
}
