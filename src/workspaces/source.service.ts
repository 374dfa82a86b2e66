import { AppError } from '../errors/app-error.ts';
import { requireDisplayName } from './display-name.ts';
import type { Clock } from '../shared/clock.ts';
import { RefreshingCache } from '../shared/refreshing-cache.ts';
import { generateId, generateSecret, hashSecret } from '../shared/secrets.ts';
import type { Source, SourceSettings, SourceType } from './workspace-types.ts';
import type { Page, SourceRepository } from './workspaces.port.ts';

const WRITE_KEY_PREFIX = 'wk_';
const DEFAULT_SETTINGS: SourceSettings = { captureIp: true };
/**
 * Authenticated write keys are cached: ingestion must not hit the database per request, nor
 * wait for it when a cached answer gets old (it is refreshed behind the request; see
 * shared/refreshing-cache.ts). A change made by another process shows within about
 * KEY_FRESH_MS; a key unused for KEY_MAX_STALE_MS is looked up again before answering.
 */
const KEY_FRESH_MS = 5_000;
const KEY_MAX_STALE_MS = 60_000;

export interface SourceWithKey {
  readonly source: Source;
  /** Shown once: only its hash is stored. */
  readonly writeKey: string;
}

export class SourceService {
  readonly #repository: SourceRepository;
  readonly #clock: Clock;
  readonly #keyCache: RefreshingCache<Source | undefined>;

  constructor(deps: { sources: SourceRepository; clock: Clock }) {
    this.#repository = deps.sources;
    this.#clock = deps.clock;
    this.#keyCache = new RefreshingCache({
      freshMs: KEY_FRESH_MS,
      maxStaleMs: KEY_MAX_STALE_MS,
      maxEntries: 10_000,
      now: () => this.#clock.now(),
    });
  }

  async create(
    workspaceId: string,
    input: { name: string; type: SourceType; settings?: Partial<SourceSettings> | undefined },
  ): Promise<SourceWithKey> {
    const name = requireDisplayName(input.name);
    const writeKey = generateSecret(WRITE_KEY_PREFIX);
    const source: Source = {
      id: generateId('src'),
      workspaceId,
      name,
      type: input.type,
      writeKeyPrefix: writeKey.slice(0, 9),
      settings: { ...DEFAULT_SETTINGS, ...input.settings },
      createdMs: this.#clock.now(),
      keyRotatedMs: null,
      disabledMs: null,
    };
    await this.#repository.create(source, hashSecret(writeKey));
    return { source, writeKey };
  }

  async get(workspaceId: string, id: string): Promise<Source> {
    const source = await this.#repository.find(workspaceId, id);
    if (!source) throw new AppError('source.not_found', `no source "${id}" in this workspace`);
    return source;
  }

  list(workspaceId: string, page: Page): Promise<Source[]> {
    return this.#repository.list(workspaceId, page);
  }

  /** A new key replaces the old one at once: the old key answers 401 from now on. */
  async rotateKey(workspaceId: string, id: string): Promise<SourceWithKey> {
    const writeKey = generateSecret(WRITE_KEY_PREFIX);
    const ok = await this.#repository.replaceWriteKey(
      workspaceId,
      id,
      hashSecret(writeKey),
      writeKey.slice(0, 9),
      this.#clock.now(),
    );
    if (!ok) throw new AppError('source.not_found', `no source "${id}" in this workspace`);
    this.#keyCache.clear();
    return { source: await this.get(workspaceId, id), writeKey };
  }

  async update(
    workspaceId: string,
    id: string,
    changes: {
      name?: string | undefined;
      settings?: Partial<SourceSettings> | undefined;
      enabled?: boolean | undefined;
    },
  ): Promise<Source> {
    const current = await this.get(workspaceId, id);
    const patch: { name?: string; settings?: SourceSettings; disabledMs?: number | null } = {};
    if (changes.name !== undefined) patch.name = requireDisplayName(changes.name);
    if (changes.settings !== undefined) patch.settings = { ...current.settings, ...changes.settings };
    if (changes.enabled !== undefined) patch.disabledMs = changes.enabled ? null : this.#clock.now();
    await this.#repository.update(workspaceId, id, patch);
    this.#keyCache.clear();
    return this.get(workspaceId, id);
  }

  /** The source a write key belongs to, or undefined for an unknown or disabled source. */
  async authenticate(writeKey: string): Promise<Source | undefined> {
    if (!writeKey.startsWith(WRITE_KEY_PREFIX) || writeKey.length > 200) return undefined;
    const hash = hashSecret(writeKey);
    return this.#keyCache.get(hash, async () => {
      const found = await this.#repository.findByWriteKeyHash(hash);
      return found && found.disabledMs === null ? found : undefined;
    });
  }
}
