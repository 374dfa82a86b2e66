import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * Write keys and tokens carry 192 bits of randomness, so a fast hash is enough to store them:
 * nobody can brute-force the preimage, and lookups stay one index probe.
 */
export function generateSecret(prefix: string): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretsEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function generateId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}

export function generateMessageId(): string {
  return randomUUID();
}
