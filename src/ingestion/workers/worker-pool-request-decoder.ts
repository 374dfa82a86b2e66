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
const STEAL_AT_PENDING = 2;

interface Slot {
  worker: Worker;
  readonly pending: Map<number, { resolve: (value: never) => void; reject: (error: unknown) => void }>;
}

type Request = DecoderRequestMessage extends infer M ? (M extends { op: 'release' } ? never : M) : never;
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
  #next = 1;
  #closed = false;

  constructor(size: number) {
    for (let i = 0; i < Math.max(1, size); i++) this.#slots.push(this.#spawn(i));
  }

  decode(request: RawIngestRequest, envelope: EnvelopeBase | undefined): Promise<DecodeStep> {
    const index = this.#leastBusy();
    // When every worker already has a queue, the main thread decodes this one itself: it has
    // idle time between commits, and the request would otherwise only wait.
    if ((this.#slots[index]?.pending.size ?? 0) >= STEAL_AT_PENDING)
      return this.#inline.decode(request, envelope);
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

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }

  #spawn(index: number): Slot {
    // A decoder holds one request at a time per message; a small young generation keeps its
    // memory flat without slowing it (its garbage dies young).
    const worker = startWorker('decoder-worker', WORKER_MODULE, {
      data: { index },
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 48 },
    });
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (message: { id: number; result: never }) => {
      const waiting = slot.pending.get(message.id);
      slot.pending.delete(message.id);
      waiting?.resolve(message.result);
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
      if ((this.#slots[i]?.pending.size ?? Infinity) < (this.#slots[best]?.pending.size ?? Infinity))
        best = i;
    }
    return best;
  }

  #send<T>(index: number, message: WithoutId<Request>, transfer: ArrayBuffer[] = []): Promise<T> {
    const slot = this.#slots[index];
    if (!slot || this.#closed) return Promise.reject(new AppError('server.shutting_down'));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...message, id }, transfer);
    });
  }
}

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
