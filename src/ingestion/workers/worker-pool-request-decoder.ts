import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../shared/worker-script.ts';
import { AppError } from '../../errors/app-error.ts';
import type { BatchOutcome, EnvelopeBase } from '../decode-request.ts';
import { InlineRequestDecoder } from '../inline-request-decoder.ts';
import type { DecodeStep, DecodeTicket, RawIngestRequest, RequestDecoder } from '../request-decoder.port.ts';
import type { DecoderRequestMessage } from './decoder-worker.ts';

const WORKER_MODULE = new URL('./decoder-worker.ts', import.meta.url);

/** Worker index of tickets held by the main thread's own decoder. */
const INLINE = -1;
/**
 * Requests a worker may have in hand (decoding or queued; answers it has finished do not
 * count, even when the main thread has not collected them yet) before the main thread
 * decodes the next one itself. Decoding costs less than the main thread's own share (HTTP,
 * SQLite inserts and commits), and requests arrive in bursts after each commit, so the main
 * thread steals only from a worker that is far behind (a huge body, a busy machine).
 */
const STEAL_AT_BACKLOG = 8;

interface Slot {
  worker: Worker;
  readonly pending: Map<number, { resolve: (value: never) => void; reject: (error: unknown) => void }>;
  /** Requests sent to the worker, and (shared with it) requests it has finished. */
  sent: number;
  readonly done: Int32Array;
}

/**
 * Payload memory below this size is left to the allocator rather than sent back: small blocks
 * do not fragment the worker's arena, and a message per single-event request would cost more
 * than it saves.
 */
const MIN_RECYCLED_BYTES = 16 * 1024;

type Request = DecoderRequestMessage extends infer M
  ? M extends { op: 'release' } | { op: 'recycle' }
    ? never
    : M
  : never;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * Runs the decoder in worker threads so parsing and enrichment overlap with HTTP handling and
 * commits on the main thread. Work goes to the least busy worker; a resume goes back to the
 * worker holding the body. A worker that dies fails its pending requests (retryable) and is
 * replaced.
 */
export class WorkerPoolRequestDecoder implements RequestDecoder {
  readonly #slots: Slot[] = [];
  readonly #inline = new InlineRequestDecoder(INLINE);
  /** Which worker wrote the payload memory of the batches not recycled yet. */
  readonly #writtenBy = new WeakMap<ArrayBuffer, number>();
  /** Memory going back to each worker at the end of this turn of the event loop (one message). */
  readonly #returning = new Map<number, ArrayBuffer[]>();
  #next = 1;
  #closed = false;

  constructor(size: number) {
    for (let i = 0; i < Math.max(1, size); i++) this.#slots.push(this.#spawn(i));
  }

  decode(request: RawIngestRequest, envelope: EnvelopeBase | undefined): Promise<DecodeStep> {
    const index = this.#leastBusy();
    // When every worker is clearly behind, the main thread decodes this one itself: it has
    // idle time between commits, and the request would otherwise only wait.
    const slot = this.#slots[index];
    if (slot && backlog(slot) >= STEAL_AT_BACKLOG) return this.#inline.decode(request, envelope);
    return this.#send(index, { op: 'decode', request, envelope }, ownBuffer(request.raw));
  }

  resume(ticket: DecodeTicket, envelope: EnvelopeBase): Promise<BatchOutcome> {
    if (ticket.worker === INLINE) return this.#inline.resume(ticket, envelope);
    return this.#send(ticket.worker, { op: 'resume', ticketId: ticket.id, envelope });
  }

  release(ticket: DecodeTicket): void {
    if (ticket.worker === INLINE) {
      this.#inline.release(ticket);
      return;
    }
    this.#slots[ticket.worker]?.worker.postMessage({
      id: 0,
      op: 'release',
      ticketId: ticket.id,
    } satisfies DecoderRequestMessage);
  }

  recycle(payloads: Uint8Array): void {
    const buffer = payloads.buffer as ArrayBuffer;
    const worker = this.#writtenBy.get(buffer);
    if (worker === undefined) return this.#inline.recycle(payloads);
    this.#writtenBy.delete(buffer);
    if (buffer.byteLength < MIN_RECYCLED_BYTES || this.#closed) return;
    const list = this.#returning.get(worker);
    if (list) return void list.push(buffer);
    this.#returning.set(worker, [buffer]);
    if (this.#returning.size === 1) setImmediate(() => this.#giveBack());
  }

  #giveBack(): void {
    for (const [index, buffers] of this.#returning) {
      this.#slots[index]?.worker.postMessage(
        { id: 0, op: 'recycle', buffers } satisfies DecoderRequestMessage,
        buffers,
      );
    }
    this.#returning.clear();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }

  #spawn(index: number): Slot {
    // A decoder holds one request at a time per message; a small young generation keeps its
    // memory flat without slowing it (its garbage dies young).
    const done = new Int32Array(new SharedArrayBuffer(4));
    const worker = startWorker('decoder-worker', WORKER_MODULE, {
      data: { index, done },
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 48 },
    });
    const slot: Slot = { worker, pending: new Map(), sent: 0, done };
    worker.on('message', (message: { id: number; result: DecodeStep }) => {
      if (message.result.ok === true)
        this.#writtenBy.set(message.result.batch.payloads.buffer as ArrayBuffer, index);
      const waiting = slot.pending.get(message.id);
      slot.pending.delete(message.id);
      waiting?.resolve(message.result as never);
    });
    let lastError: Error | undefined;
    worker.on('error', (error) => {
      lastError = error;
    });
    worker.on('exit', (code) => {
      for (const waiting of slot.pending.values()) {
        waiting.reject(
          new AppError('internal.error', 'the request decoder failed; retry', {
            cause: lastError?.message ?? `exit code ${code}`,
          }),
        );
      }
      slot.pending.clear();
      if (!this.#closed) this.#slots[index] = this.#spawn(index);
    });
    return slot;
  }

  #leastBusy(): number {
    let best = 0;
    for (let i = 1; i < this.#slots.length; i++) {
      const slot = this.#slots[i];
      const bestSlot = this.#slots[best];
      if (slot && (!bestSlot || backlog(slot) < backlog(bestSlot))) best = i;
    }
    return best;
  }

  #send<T>(index: number, message: WithoutId<Request>, transfer: ArrayBuffer[] = []): Promise<T> {
    const slot = this.#slots[index];
    if (!slot || this.#closed) return Promise.reject(new AppError('server.shutting_down'));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.sent++;
      slot.worker.postMessage({ ...message, id }, transfer);
    });
  }
}

/** Requests the worker has been sent and not finished. */
const backlog = (slot: Slot): number => slot.sent - Atomics.load(slot.done, 0);

/**
 * The body's memory when the body is all of it (a large body read by the HTTP layer has its
 * own), so it moves to the worker instead of being copied; a slice of a shared pool is copied.
 */
function ownBuffer(raw: Uint8Array): ArrayBuffer[] {
  const { buffer } = raw;
  return buffer instanceof ArrayBuffer && raw.byteOffset === 0 && raw.byteLength === buffer.byteLength
    ? [buffer]
    : [];
}
