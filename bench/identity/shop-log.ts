/**
 * Fills a store's event log with generator traffic, exactly as the platform stores it: each
 * message goes through the ingestion's own `normalizeMessage` (ids, timestamps, receivedAt) and
 * is appended with `store.events.append` in batches, in the generator's shuffled order (unless
 * the options name another). The
 * caller sees every stored event with its sequence number and its true author, to build the
 * ground truth without a second pass over the generator.
 */
import { generateShop, type ShopOptions } from '../generate/index.ts';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { normalizeMessage, type MessageEnvelope } from '../../src/ingestion/normalize-message.ts';
import type { Store } from '../../src/storage/store.ts';

/** Log appends per transaction: the size of a large `/v1/batch` group commit. */
const APPEND_BATCH = 1_000;

/** How ingestion would have received a bench message: no IP, no batch-level fields. */
export function benchEnvelope(workspaceId: string, sourceId: string, receivedMs: number): MessageEnvelope {
  return {
    workspaceId,
    sourceId,
    receivedMs,
    receivedAtIso: new Date(receivedMs).toISOString(),
    ip: null,
    captureIp: false,
    batchContext: undefined,
    batchIntegrations: undefined,
    batchSentAt: undefined,
  };
}

export type LoggedEventObserver = (seq: number, personId: string, event: AcceptedEvent) => void;

export interface LoggedShop {
  readonly events: number;
  readonly appendSeconds: number;
}

export async function appendShopToLog(
  store: Store,
  workspaceId: string,
  shop: ShopOptions,
  observe: LoggedEventObserver,
): Promise<LoggedShop> {
  const envelope = benchEnvelope(workspaceId, 'src_identity_bench', Date.now());
  let events = 0;
  let appendMs = 0;
  let batch: AcceptedEvent[] = [];
  let authors: string[] = [];
  const flush = async (): Promise<void> => {
    const started = performance.now();
    const { seqs } = await store.events.append(batch, 0);
    appendMs += performance.now() - started;
    seqs.forEach((seq, i) => {
      const event = batch[i];
      const author = authors[i];
      // The generator's messageIds are unique UUIDs: a duplicate would mean a broken data set.
      if (seq === null || event === undefined || author === undefined)
        throw new Error(`event ${i} of a batch was not stored`);
      observe(seq, author, event);
    });
    events += batch.length;
    batch = [];
    authors = [];
  };
  for (const { personId, message } of generateShop({ order: 'shuffled', ...shop })) {
    const result = normalizeMessage(message, undefined, envelope);
    if (!result.ok) throw new Error(`generator message rejected: ${result.problem.message}`);
    batch.push(result.event);
    authors.push(personId);
    if (batch.length === APPEND_BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  return { events, appendSeconds: appendMs / 1000 };
}
