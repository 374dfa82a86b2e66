import { parentPort, workerData } from 'node:worker_threads';
import type { EnvelopeBase } from '../decode-request.ts';
import { InlineRequestDecoder } from '../inline-request-decoder.ts';
import type { DecodeStep, RawIngestRequest } from '../request-decoder.port.ts';

export type DecoderRequestMessage =
  | {
      readonly id: number;
      readonly op: 'decode';
      readonly request: RawIngestRequest;
      readonly envelope: EnvelopeBase | undefined;
    }
  | { readonly id: number; readonly op: 'resume'; readonly ticketId: number; readonly envelope: EnvelopeBase }
  | { readonly id: number; readonly op: 'release'; readonly ticketId: number }
  | { readonly id: number; readonly op: 'recycle'; readonly buffers: readonly ArrayBuffer[] };

/** A decoder worker: the inline decoder behind a message port. */
if (parentPort) {
  const port = parentPort;
  const { index, done } = (workerData as { data: { index: number; done: Int32Array } }).data;
  const decoder = new InlineRequestDecoder(index);
  // The payload buffer of an accepted batch moves to the main thread instead of being copied.
  // `done` counts finished requests, so the main thread sees this worker's real backlog even
  // before it gets round to collecting the answers.
  const reply = (id: number, result: DecodeStep): void => {
    const transfer = result.ok === true ? [result.batch.payloads.buffer as ArrayBuffer] : [];
    Atomics.add(done, 0, 1);
    port.postMessage({ id, result }, transfer);
  };
  port.on('message', (message: DecoderRequestMessage) => {
    switch (message.op) {
      case 'decode':
        reply(message.id, decoder.decodeSync(message.request, message.envelope));
        return;
      case 'resume':
        reply(message.id, decoder.resumeSync({ id: message.ticketId, worker: index }, message.envelope));
        return;
      case 'release':
        decoder.release({ id: message.ticketId, worker: index });
        return;
      case 'recycle':
        for (const buffer of message.buffers) decoder.buffers.give(buffer);
        return;
    }
  });
}
