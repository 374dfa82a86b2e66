/**
 * The webhook destination as a function (contract §3): a batch of messages becomes one POST of
 * `{"batch":[…]}` signed with `X-CDP-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. No
 * I/O here: the delivery worker sends what this returns.
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-cdp-signature';
/** Bodies stay under Segment's batch limit, so a receiver built for Segment's sizes copes. */
export const MAX_BODY_BYTES = 500 * 1024;
export const MAX_BATCH_EVENTS = 100;

export interface WebhookRequest {
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

export function signBody(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function webhookRequest(
  secret: string,
  messages: readonly unknown[],
  meta: { readonly destinationId: string; readonly attemptId: string },
): WebhookRequest {
  const body = Buffer.from(JSON.stringify({ batch: messages }), 'utf8');
  return {
    body,
    headers: {
      [SIGNATURE_HEADER]: signBody(secret, body),
      'x-cdp-destination': meta.destinationId,
      // The same id on a retry of the same batch: a receiver can drop repeats.
      'x-cdp-delivery': meta.attemptId,
    },
  };
}

/**
 * Splits messages (already serialized) into batches of at most MAX_BATCH_EVENTS and about
 * MAX_BODY_BYTES; a single message larger than that still goes alone.
 */
export function batchesOf<T>(items: readonly T[], sizeOf: (item: T) => number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item) + 1;
    if (current.length > 0 && (current.length >= MAX_BATCH_EVENTS || bytes + size > MAX_BODY_BYTES - 16)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * The message of a deletion call: a `delete` message (Segment's name for a user deletion sent to
 * destinations) with the person's ids, so the receiver can find what it holds about them.
 */
export function deletionMessage(input: {
  readonly requestId: string;
  readonly requestType: string;
  readonly identities: readonly { readonly type: string; readonly value: string }[];
  readonly nowMs: number;
}): Record<string, unknown> {
  const first = (type: string): string | undefined => input.identities.find((i) => i.type === type)?.value;
  const userId = first('user_id');
  const anonymousId = first('anonymous_id');
  return {
    type: 'delete',
    messageId: `delete-${input.requestId}`,
    timestamp: new Date(input.nowMs).toISOString(),
    ...(userId !== undefined ? { userId } : {}),
    ...(anonymousId !== undefined ? { anonymousId } : {}),
    identities: input.identities.map((i) => ({ type: i.type, value: i.value })),
    context: { privacyRequest: { id: input.requestId, type: input.requestType } },
  };
}
