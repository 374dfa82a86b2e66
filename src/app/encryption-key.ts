import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The key for PII encryption at rest: CDP_ENCRYPTION_KEY when given, else a key file created
 * with mode 0600 in the data dir on first start (and reused after).
 */
export function loadOrCreateEncryptionKey(configured: Buffer | undefined, dataDir: string): Buffer {
  if (configured) return configured;
  const file = path.join(dataDir, 'encryption.key');
  if (existsSync(file)) return readKey(file);
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  try {
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process starting at the same moment made it first: use theirs.
    if ((error as { code?: string }).code === 'EEXIST') return readKey(file);
    throw error;
  }
  chmodSync(file, 0o600);
  return key;
}

function readKey(file: string): Buffer {
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}

/** The key file's path in a data dir. */
export function encryptionKeyFile(dataDir: string): string {
  return path.join(dataDir, 'encryption.key');
}

/**
 * Writes a new key file in two steps: `encryption.key.new` first (mode 0600), renamed over the
 * old one once the stored keys are re-wrapped (`commit`). If the process dies between the two,
 * the `.new` file holds the key the stored keys are wrapped with.
 */
export function stageKeyFile(dataDir: string, key: Buffer): { commit(): void } {
  const file = encryptionKeyFile(dataDir);
  const staged = `${file}.new`;
  writeFileSync(staged, `${key.toString('base64')}\n`, { mode: 0o600 });
  chmodSync(staged, 0o600);
  return { commit: () => renameSync(staged, file) };
}
