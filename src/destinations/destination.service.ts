/**
 * Destinations behind the API and the CLI: definitions (checked against the workspace's
 * segments and consent categories), the outbox as people read it (deliveries by status, counts),
 * retrying failed deliveries, a test send, and the deletion calls of an erasure.
 */
import { isIP } from 'node:net';
import { AppError } from '../errors/app-error.ts';
import { definitionError } from '../segments/segment-definition-errors.ts';
import type { Clock } from '../shared/clock.ts';
import { generateId, generateSecret } from '../shared/secrets.ts';
import {
  readDestinationDraft,
  type DefinitionProblem,
  type DestinationDraft,
} from './destination-definition.ts';
import type { Delivery, DeliveryCounts, DeliveryStatus, Destination } from './destination-types.ts';
import type { DestinationRepository } from './destinations.port.ts';
import { egressAllowed, type EgressAllowList } from './egress-policy.ts';
import type { HttpPoster, PostOutcome } from './webhook-client.ts';
import { deletionMessage, webhookRequest } from './webhook-request.ts';

export interface DestinationServiceDeps {
  readonly destinations: DestinationRepository;
  readonly segmentExists: (workspaceId: string, slug: string) => Promise<boolean>;
  readonly consentCategories: (workspaceId: string) => Promise<readonly string[]>;
  readonly egressAllow: EgressAllowList;
  readonly poster: HttpPoster;
  readonly clock: Clock;
  /** This process changed a workspace's destinations or queue (router cache, worker wake-up). */
  readonly onChanged?: (workspaceId: string) => void;
}

export interface DestinationView {
  readonly destination: Destination;
  readonly counts: DeliveryCounts;
}

export class DestinationService {
  readonly #deps: DestinationServiceDeps;

  constructor(deps: DestinationServiceDeps) {
    this.#deps = deps;
  }

  /** Creates a destination; the secret (given or generated) is returned this once. */
  async create(workspaceId: string, input: unknown): Promise<{ destination: Destination; secret: string }> {
    const draft = await this.#check(workspaceId, input, 'create');
    const nowMs = this.#deps.clock.now();
    const secret = draft.secret ?? generateSecret('whsec_');
    const destination: Destination = {
      id: generateId('dst'),
      workspaceId,
      type: draft.type ?? 'webhook',
      name: draft.name ?? '',
      config: { url: draft.url ?? '', secret, sendDeletions: draft.sendDeletions ?? true },
      filter: draft.filter ?? null,
      segments: draft.segments ?? [],
      consentCategories: draft.consentCategories ?? [],
      enabled: draft.enabled ?? true,
      createdMs: nowMs,
      updatedMs: nowMs,
    };
    await this.#deps.destinations.create(destination);
    this.#deps.onChanged?.(workspaceId);
    return { destination, secret };
  }

  async get(workspaceId: string, id: string): Promise<DestinationView> {
    const destination = await this.#find(workspaceId, id);
    return { destination, counts: await this.#deps.destinations.counts(workspaceId, id) };
  }

  async list(
    workspaceId: string,
    query: { afterId?: string | undefined; limit: number },
  ): Promise<Destination[]> {
    return this.#deps.destinations.list(workspaceId, query);
  }

  /** Changes what is given; a new secret replaces the old one (returned this once). */
  async update(
    workspaceId: string,
    id: string,
    input: unknown,
  ): Promise<{ destination: Destination; secret?: string }> {
    const current = await this.#find(workspaceId, id);
    const draft = await this.#check(workspaceId, input, 'update');
    if (draft.type !== undefined && draft.type !== current.type)
      throw new AppError('destination.invalid', 'type: a destination keeps its type (create another one)');
    const destination: Destination = {
      ...current,
      name: draft.name ?? current.name,
      config: {
        url: draft.url ?? current.config.url,
        secret: draft.secret ?? current.config.secret,
        sendDeletions: draft.sendDeletions ?? current.config.sendDeletions,
      },
      filter: draft.filter === undefined ? current.filter : draft.filter,
      segments: draft.segments ?? current.segments,
      consentCategories: draft.consentCategories ?? current.consentCategories,
      enabled: draft.enabled ?? current.enabled,
      updatedMs: this.#deps.clock.now(),
    };
    await this.#deps.destinations.update(destination);
    this.#deps.onChanged?.(workspaceId);
    return { destination, ...(draft.secret !== undefined ? { secret: draft.secret } : {}) };
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    if (!(await this.#deps.destinations.delete(workspaceId, id)))
      throw new AppError('destination.not_found', `no destination ${id.slice(0, 80)}`);
    this.#deps.onChanged?.(workspaceId);
  }

  async deliveries(
    workspaceId: string,
    id: string,
    query: { status?: DeliveryStatus | undefined; beforeId?: number | undefined; limit: number },
  ): Promise<Delivery[]> {
    await this.#find(workspaceId, id);
    return this.#deps.destinations.deliveries(workspaceId, id, query);
  }

  /** Failed deliveries (all, or those given) go back to the queue with a fresh retry window. */
  async retry(workspaceId: string, id: string, ids?: readonly number[]): Promise<number> {
    await this.#find(workspaceId, id);
    const n = await this.#deps.destinations.retryFailed(workspaceId, id, ids, this.#deps.clock.now());
    if (n > 0) this.#deps.onChanged?.(workspaceId);
    return n;
  }

  /**
   * Sends one sample event now, outside the outbox (nothing is stored or retried): whether the
   * receiver answers, and what, with the real signature.
   */
  async test(workspaceId: string, id: string): Promise<PostOutcome> {
    const destination = await this.#find(workspaceId, id);
    const nowMs = this.#deps.clock.now();
    const sample = {
      type: 'track',
      event: 'CDP Destination Test',
      messageId: generateId('test'),
      userId: 'cdp-test-user',
      timestamp: new Date(nowMs).toISOString(),
      properties: { destinationId: destination.id },
      context: { library: { name: 'opencdp', version: 'test' } },
    };
    const request = webhookRequest(destination.config.secret, [sample], {
      destinationId: destination.id,
      attemptId: sample.messageId,
    });
    return this.#deps.poster.post(destination.config.url, request.body, request.headers);
  }

  /**
   * Queues a deletion call to every destination that was sent the person's events (delivered or
   * attempted, whatever the answer) and accepts deletions. Returns the destinations called. Idempotent per request.
   */
  async requestDeletions(
    workspaceId: string,
    request: {
      readonly id: string;
      readonly type: string;
      readonly profileIds: readonly string[];
      readonly identities: readonly { readonly type: string; readonly value: string }[];
    },
  ): Promise<string[]> {
    const recipients = await this.#deps.destinations.recipientsOf(workspaceId, request.profileIds);
    const called: string[] = [];
    const nowMs = this.#deps.clock.now();
    for (const destinationId of recipients) {
      const destination = await this.#deps.destinations.get(workspaceId, destinationId);
      if (destination === undefined || !destination.config.sendDeletions) continue;
      called.push(destinationId);
    }
    const payload = deletionMessage({
      requestId: request.id,
      requestType: request.type,
      identities: request.identities,
      nowMs,
    });
    await this.#deps.destinations.enqueueDeletions(
      workspaceId,
      called.map((destinationId) => ({ destinationId, requestId: request.id, payload })),
      nowMs,
    );
    if (called.length > 0) this.#deps.onChanged?.(workspaceId);
    return called;
  }

  async #find(workspaceId: string, id: string): Promise<Destination> {
    const destination = await this.#deps.destinations.get(workspaceId, id);
    if (destination === undefined)
      throw new AppError('destination.not_found', `no destination ${id.slice(0, 80)}`);
    return destination;
  }

  async #check(workspaceId: string, input: unknown, mode: 'create' | 'update'): Promise<DestinationDraft> {
    const checked = readDestinationDraft(input, mode);
    if (!checked.ok) {
      if (checked.problems.length === 0 && checked.filterErrors !== undefined)
        throw definitionError(checked.filterErrors);
      throw invalid(checked.problems);
    }
    const draft = checked.draft;
    const problems: DefinitionProblem[] = [];
    if (draft.url !== undefined) {
      // Literal addresses are judged now; names are resolved (and judged) at every send.
      const host = new URL(draft.url).hostname.replace(/^\[|\]$/g, '');
      const literal = isIP(host) !== 0 || host === 'localhost';
      const address = host === 'localhost' ? '127.0.0.1' : host;
      if (literal && !egressAllowed(host, address, this.#deps.egressAllow))
        problems.push({
          path: 'config.url',
          message: `${host} is a private, loopback or link-local address: destinations may not reach it unless CDP_EGRESS_ALLOW lists it`,
        });
    }
    for (const [index, slug] of (draft.segments ?? []).entries())
      if (!(await this.#deps.segmentExists(workspaceId, slug)))
        problems.push({ path: `segments.${index}`, message: `no segment "${slug}" in this workspace` });
    if ((draft.consentCategories ?? []).length > 0) {
      const known = await this.#deps.consentCategories(workspaceId);
      for (const [index, category] of (draft.consentCategories ?? []).entries())
        if (!known.includes(category))
          problems.push({
            path: `consentCategories.${index}`,
            message: `"${category}" is not a consent category of this workspace (${known.join(', ')})`,
          });
    }
    if (problems.length > 0) throw invalid(problems);
    return draft;
  }
}

function invalid(problems: readonly DefinitionProblem[]): AppError {
  return new AppError(
    'destination.invalid',
    problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; '),
    { problems },
  );
}
