import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { loadOrCreateEncryptionKey, stageKeyFile } from '../app/encryption-key.ts';
import { readEncryptionKey } from '../config/config.ts';
import { rewrapKeys } from '../privacy/key-ring.ts';
import { rotateDataKey } from '../privacy/key-rotation.ts';
import type { CliContext } from './cli-context.ts';
import { progressBar } from './progress.ts';

type WithCli = <T>(env: NodeJS.ProcessEnv, run: (context: CliContext) => Promise<T>) => Promise<T>;

/** `cdp keys rotate`: a new data key for personal data, everything re-encrypted with it. */
export function registerKeyCommands(
  program: Command,
  io: { readonly env: NodeJS.ProcessEnv; out(text: string): void },
  withCli: WithCli,
): void {
  const keys = program.command('keys').description('encryption keys of personal data at rest');
  keys
    .command('rotate')
    .description(
      'make a new data key, re-encrypt every stored personal value with it and drop the old keys; with --encryption-key, also replace the instance encryption key that wraps them',
    )
    .option(
      '--encryption-key',
      'also replace the instance encryption key: from CDP_NEW_ENCRYPTION_KEY when CDP_ENCRYPTION_KEY is set, else a new key file in the data dir',
    )
    .option('--keep-old-keys', 'keep the old data keys (a process that missed the rotation can still read)')
    .option('--json', 'print JSON')
    .action(async (options: { encryptionKey?: boolean; keepOldKeys?: boolean; json?: boolean }) =>
      withCli(io.env, async (context) => {
        const { config, store } = context;
        // Fails at once when this process holds another instance key (nothing is changed).
        if (store.pii.vault === undefined) throw new Error('personal data encryption is not set up');
        let encryptionKey = loadOrCreateEncryptionKey(config.encryptionKey, config.dataDir);
        let replaced: 'env' | 'file' | null = null;
        if (options.encryptionKey === true) {
          const fromEnv = readEncryptionKey(io.env, 'CDP_NEW_ENCRYPTION_KEY');
          if (config.encryptionKey !== undefined && fromEnv === undefined)
            throw new Error(
              'CDP_ENCRYPTION_KEY is set: give the new key in CDP_NEW_ENCRYPTION_KEY (64 hex characters or base64)',
            );
          const next = fromEnv ?? randomBytes(32);
          const staged = config.encryptionKey === undefined ? stageKeyFile(config.dataDir, next) : undefined;
          await rewrapKeys(store.instance, encryptionKey, next);
          staged?.commit();
          encryptionKey = next;
          replaced = staged === undefined ? 'env' : 'file';
        }
        const bar = progressBar('re-encrypting', 'rows');
        const result = await rotateDataKey({
          instance: store.instance,
          encryptionKey,
          store: store.pii,
          keepOldKeys: options.keepOldKeys === true,
          onProgress: (p) => bar.update(p.done, p.total),
        });
        bar.stop();
        await context.auditChange('keys rotate', null, {
          dataKey: result.keyId,
          retired: result.retired.join(',') || '-',
          encryptionKey: replaced ?? 'unchanged',
        });
        if (options.json === true) {
          io.out(JSON.stringify({ ...result, encryptionKey: replaced ?? 'unchanged' }));
          return;
        }
        const changed = Object.entries(result.counts)
          .map(([name, c]) => `${name} ${c.changed}/${c.rows}`)
          .join(', ');
        io.out(`data key ${result.keyId} now seals personal data; re-encrypted rows: ${changed}`);
        if (result.retired.length > 0) io.out(`dropped old data keys: ${result.retired.join(', ')}`);
        if (replaced === 'file')
          io.out(`the instance encryption key was replaced in ${config.dataDir}/encryption.key`);
        if (replaced === 'env')
          io.out(
            'the stored keys are now wrapped with CDP_NEW_ENCRYPTION_KEY: set CDP_ENCRYPTION_KEY to it on every process before they restart',
          );
      }),
    );
}
