/** Segment's documented limits, enforced loudly instead of with Segment's silent 200. */
export const INGESTION_LIMITS = Object.freeze({
  maxEventBytes: 32 * 1024,
  /**
   * Upper bound of what enrichment adds or removes (receivedAt, timestamp, messageId,
   * context.ip, writeKey): within this margin of the limit the client's own bytes are measured.
   */
  enrichmentAllowanceBytes: 1024,
  maxBatchBytes: 500 * 1024,
  maxBatchEvents: 2500,
  /** A gzip body never inflates beyond this, whatever its compressed size (bomb guard). */
  maxDecompressedBytes: 500 * 1024,
  /** Raw (possibly compressed) body accepted by the HTTP layer before any parsing. */
  maxRawBodyBytes: 1024 * 1024,
  maxIdLength: 1024,
  /** Objects and arrays nested deeper than this are refused (the batch envelope counts as 2). */
  maxJsonDepth: 64,
});
