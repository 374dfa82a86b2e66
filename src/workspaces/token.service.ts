import { AppError } from '../errors/app-error.ts';
import { requireDisplayName } from './display-name.ts';
import type { Clock } from '../shared/clock.ts';
import { generateId, generateSecret, hashSecret, secretsEqual } from '../shared/secrets.ts';
import { isRole, type ApiToken, type Principal } from './workspace-types.ts';
import type { Page, TokenRepository } from './workspaces.port.ts';

const TOKEN_PREFIX = 'cdp_';
const TOKEN_CACHE_MS = 5_000;

export interface TokenWithSecret {
  readonly token: ApiToken;
  /** Shown once: only its hash is stored. */
  readonly secret: string;
}

export class TokenService {
  readonly #repository: TokenRepository;
  readonly #clock: Clock;
  readonly #adminToken: string | undefined;
  readonly #cache = new Map<string, { token: ApiToken | undefined; expiresMs: number }>();

  constructor(deps: { tokens: TokenRepository; clock: Clock; adminToken: string | undefined }) {
    this.#repository = deps.tokens;
    this.#clock = deps.clock;
    this.#adminToken = deps.adminToken;
  }

  /** workspaceId null mints an instance-level owner token (bootstrap and CLI only). */
  async create(workspaceId: string | null, input: { name: string; role: string }): Promise<TokenWithSecret> {
    if (!isRole(input.role))
      throw new AppError(
        'token.invalid_role',
        `unknown role "${input.role}"; one of owner, admin, marketer, analyst, viewer`,
      );
    const name = requireDisplayName(input.name);
    const secret = generateSecret(TOKEN_PREFIX);
    const token: ApiToken = {
      id: generateId('tok'),
      workspaceId,
      name,
      role: input.role,
      tokenPrefix: secret.slice(0, 10),
      createdMs: this.#clock.now(),
      revokedMs: null,
    };
    await this.#repository.create(token, hashSecret(secret));
    return { token, secret };
  }

  list(workspaceId: string | null, page: Page): Promise<ApiToken[]> {
    return this.#repository.list(workspaceId, page);
  }

  async revoke(workspaceId: string | null, id: string): Promise<void> {
    const ok = await this.#repository.revoke(workspaceId, id, this.#clock.now());
    if (!ok) throw new AppError('token.not_found', `no active token "${id}"`);
    this.#cache.clear();
  }

  async authenticate(bearer: string): Promise<Principal> {
    if (this.#adminToken !== undefined && secretsEqual(bearer, this.#adminToken))
      return { kind: 'instance_owner', tokenId: null };
    const token =
      bearer.startsWith(TOKEN_PREFIX) && bearer.length < 200
        ? await this.#lookup(hashSecret(bearer))
        : undefined;
    if (!token || token.revokedMs !== null) throw new AppError('auth.invalid_token');
    if (token.workspaceId === null) return { kind: 'instance_owner', tokenId: token.id };
    return { kind: 'workspace_token', tokenId: token.id, workspaceId: token.workspaceId, role: token.role };
  }

  async #lookup(hash: string): Promise<ApiToken | undefined> {
    const now = this.#clock.now();
    const cached = this.#cache.get(hash);
    if (cached && cached.expiresMs > now) return cached.token;
    const token = await this.#repository.findByHash(hash);
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(hash, { token, expiresMs: now + TOKEN_CACHE_MS });
    return token;
  }
}
