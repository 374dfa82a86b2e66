/**
 * Wrapping of the instance's own keys (data keys, the lookup and suppression HMAC keys) with
 * the instance encryption key (CDP_ENCRYPTION_KEY or the key file): AES-256-GCM, a fresh IV
 * each time, and a label as associated data so a key wrapped for one purpose never opens as
 * another. Only wrapped keys are stored; rotating the encryption key re-wraps them.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors/app-error.ts';

export function wrapKey(key: Buffer, encryptionKey: Buffer, label: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
  cipher.setAAD(Buffer.from(label));
  const data = Buffer.concat([cipher.update(key), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), data]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function unwrapKey(wrapped: string, encryptionKey: Buffer, label: string): Buffer {
  const [version, iv, tag, data] = wrapped.split('.');
  try {
    if (version !== 'v1' || iv === undefined || tag === undefined || data === undefined)
      throw new Error('format');
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(label));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
  } catch {
    throw new AppError(
      'privacy.key_mismatch',
      'the stored keys cannot be opened: this process runs with another encryption key than the one that made them (set the same CDP_ENCRYPTION_KEY on every process)',
    );
  }
}
