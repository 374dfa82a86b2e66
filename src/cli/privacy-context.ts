import { loadOrCreateEncryptionKey } from '../app/encryption-key.ts';
import { buildPrivacyServices, type PrivacyServices } from '../app/privacy-services.ts';
import { ProfileSettingsService } from '../profiles/profile-settings.service.ts';
import { systemClock } from '../shared/clock.ts';
import type { CliContext } from './cli-context.ts';

/**
 * Privacy services for one command. Requests run in this process; a server sharing the store
 * sees suppression changes at its next poll, which erasure waits for.
 */
export function privacyServices(context: CliContext): Promise<PrivacyServices> {
  const { config, store } = context;
  return buildPrivacyServices({
    store,
    clock: systemClock,
    encryptionKey: loadOrCreateEncryptionKey(config.encryptionKey, config.dataDir),
    audit: context.audit,
    profiles: context.profiles,
    profileSettings: new ProfileSettingsService(store.workspaceSettings),
    workspaces: context.workspaces,
    actor: { kind: 'cli', tokenId: null, role: 'owner' },
    pendingEvents: () => 0,
    sharedStore: true,
    logError: (details, message) => process.stderr.write(`cdp: ${message}: ${String(details['err'])}\n`),
  });
}
