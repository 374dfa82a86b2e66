import { loadOrCreateEncryptionKey } from '../app/encryption-key.ts';
import { buildPrivacyServices, type PrivacyServices } from '../app/privacy-services.ts';
import { ProfileSettingsService } from '../profiles/profile-settings.service.ts';
import { systemClock } from '../shared/clock.ts';
import { buildDestinationServices, type DestinationServices } from '../app/destination-services.ts';
import { ConsentService } from '../privacy/consent.service.ts';
import type { CliContext } from './cli-context.ts';

/**
 * Privacy services for one command. Requests run in this process; a server sharing the store
 * sees suppression changes at its next poll, which erasure waits for.
 */
export async function privacyServices(context: CliContext): Promise<PrivacyServices> {
  const { config, store } = context;
  const delivery = cliDestinationServices(context);
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
    // Queued here; a running server's delivery worker sends them.
    deletionCalls: (ws, request) => delivery.destinations.requestDeletions(ws, request),
    logError: (details, message) => process.stderr.write(`cdp: ${message}: ${String(details['err'])}\n`),
  });
}

/** Destinations for one command: the service only (a server's worker sends what is queued). */
export function cliDestinationServices(context: CliContext): DestinationServices {
  const consent = new ConsentService({
    consent: context.store.consent,
    settings: context.store.workspaceSettings,
    resolveProfile: (ws, id) => context.profiles.resolve(ws, id),
    clock: systemClock,
  });
  return buildDestinationServices({
    store: context.store,
    clock: systemClock,
    config: context.config,
    consentCategories: (ws) => consent.settings(ws),
    logError: (details, message) => process.stderr.write(`cdp: ${message}: ${String(details['err'])}\n`),
  });
}
