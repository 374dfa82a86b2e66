/**
 * Privacy requests (contract §3): export, erase, suppress_and_erase, unsuppress. A request is
 * stored first (202), then run in the background by whichever process claims it; a request
 * whose runner died is taken again once its lease expires, so requests survive restarts.
 * Every request ends with an audit entry.
 */
import { AppError } from '../errors/app-error.ts';
import type { AuditActor } from '../governance/audit-log.ts';
import type { AuditService } from '../governance/audit.service.ts';
import { createBlockedValues } from '../identity/blocked-values.ts';
import { extractIdentifiers } from '../identity/extract-identifiers.ts';
import { storedIdentifierKey, type Identifier } from '../identity/identifier-types.ts';
import type { IdentitySettings } from '../identity/identity-settings.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import type { ProfileSettings } from '../profiles/profile-settings.ts';
import type { Clock } from '../shared/clock.ts';
import type { JsonObject } from '../shared/json.ts';
import { generateId } from '../shared/secrets.ts';
import type { Workspace } from '../workspaces/workspace-types.ts';
import type { ConsentRepository } from './consent.port.ts';
import { buildExportDocument } from './export-document.ts';
import type {
  EraseCounts,
  PrivacyRequest,
  PrivacyRequestRepository,
  PrivacyRequestType,
  SubjectRepository,
  SuppressionRepository,
} from './privacy.port.ts';
import type { SuppressionHasher } from './suppression-hasher.ts';

/** How long a runner holds a request before another process may take it over. */
const LEASE_MS = 60_000;
/** How long an export document stays downloadable. */
export const EXPORT_TTL_MS = 7 * 24 * 3_600_000;

export interface PrivacyRequestDeps {
  readonly requests: PrivacyRequestRepository;
  readonly subjects: SubjectRepository;
  readonly suppressions: SuppressionRepository;
  readonly consent: ConsentRepository;
  readonly hasher: SuppressionHasher;
  readonly audit: AuditService;
  readonly clock: Clock;
  /** Normalizes an identifier as identity resolution does (throws profile.invalid_identifier). */
  readonly normalize: (workspaceId: string, type: string, value: string) => Promise<Identifier>;
  readonly identitySettings: (workspaceId: string) => Promise<IdentitySettings>;
  readonly profileSettings: (workspaceId: string) => Promise<ProfileSettings>;
  readonly workspace: (workspaceId: string) => Promise<Workspace>;
  /** The profiles stage's cursor and the log's head: erasure waits for the stage to catch up. */
  readonly profilesCursor: () => Promise<number>;
  readonly logHead: () => Promise<number>;
  /** The suppression list of this process changed: reload it now. */
  readonly suppressionChanged?: (workspaceId: string) => Promise<void>;
  /**
   * Resolves once events that passed the suppression check before it changed are committed
   * (this process), and other processes have seen the change (their poll interval).
   */
  readonly suppressionSettled?: () => Promise<void>;
  /** The actor of the audit entries written when requests finish. */
  readonly actor: AuditActor;
  readonly onError?: (error: unknown, request: PrivacyRequest) => void;
  /**
   * The store could not be reached or was locked past the wait (Store.isUnavailable): the
   * request is not failed for that; its lease runs out and it runs again (erasures and exports
   * can run twice).
   */
  readonly isUnavailable?: (error: unknown) => boolean;
  /**
   * Queues a deletion call to the destinations that received the person's events; returns
   * their ids (recorded in the request's result).
   */
  readonly deletionCalls?: (
    workspaceId: string,
    request: {
      readonly id: string;
      readonly type: string;
      readonly profileIds: readonly string[];
      readonly identities: readonly { readonly type: string; readonly value: string }[];
    },
  ) => Promise<string[]>;
  /** How long erasure waits for the profiles stage to catch up with the log (default 30 s). */
  readonly catchUpTimeoutMs?: number;
  /** How often the runner looks for requests made by other processes (default 5 s). */
  readonly pollIntervalMs?: number;
}

export class PrivacyRequestService {
  readonly #deps: PrivacyRequestDeps;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  #again = false;

  constructor(deps: PrivacyRequestDeps) {
    this.#deps = deps;
  }

  async create(
    workspaceId: string,
    input: { type: PrivacyRequestType; identifier: { type: string; value: string } },
    requestedBy: string,
  ): Promise<PrivacyRequest> {
    const identifier = await this.#deps.normalize(workspaceId, input.identifier.type, input.identifier.value);
    const request: PrivacyRequest = {
      workspaceId,
      id: generateId('prq'),
      type: input.type,
      status: 'pending',
      identifierType: identifier.type,
      identifierValue: identifier.value,
      identifierHash: this.#deps.hasher.hash(identifier),
      requestedBy,
      createdMs: this.#deps.clock.now(),
      startedMs: null,
      finishedMs: null,
      leaseUntilMs: null,
      attempts: 0,
      result: null,
      error: null,
    };
    await this.#deps.requests.create(request);
    this.wake();
    return request;
  }

  async get(workspaceId: string, id: string): Promise<PrivacyRequest> {
    const request = await this.#deps.requests.get(workspaceId, id);
    if (request === undefined)
      throw new AppError('privacy_request.not_found', `no privacy request "${id.slice(0, 64)}"`);
    return request;
  }

  list(
    workspaceId: string,
    query: Parameters<PrivacyRequestRepository['list']>[1],
  ): Promise<PrivacyRequest[]> {
    return this.#deps.requests.list(workspaceId, query);
  }

  async exportDocument(workspaceId: string, id: string): Promise<string> {
    const request = await this.get(workspaceId, id);
    if (request.type === 'export' && (request.status === 'pending' || request.status === 'running'))
      throw new AppError(
        'privacy_request.export_not_ready',
        `the export is ${request.status}; retry shortly`,
        {
          retryAfterSeconds: 1,
        },
      );
    const document =
      request.type === 'export' ? await this.#deps.requests.readExport(workspaceId, id) : undefined;
    if (document === undefined)
      throw new AppError(
        'privacy_request.export_gone',
        request.type === 'export'
          ? `no export document for ${id} (the request failed, or its document expired or was erased)`
          : `${id} is a${request.type === 'erase' ? 'n' : ''} ${request.type} request: only exports have a document`,
      );
    return document;
  }

  /** Starts running requests in the background: pending ones and any a dead process left. */
  start(): void {
    this.#stopped = false;
    this.wake();
    this.#timer = setInterval(() => this.wake(), this.#deps.pollIntervalMs ?? 5_000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Runs what is runnable now (also called after a request is created). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  /** Settles when nothing is running (tests, CLI). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Runs one given request in this process (the CLI), unless another process took it. */
  async runNow(workspaceId: string, id: string): Promise<boolean> {
    const claimed = await this.#deps.requests.claim(this.#deps.clock.now(), LEASE_MS, { workspaceId, id });
    if (claimed === undefined) return false;
    await this.#execute(claimed);
    return true;
  }

  async #drain(): Promise<void> {
    while (!this.#stopped) {
      let claimed: PrivacyRequest | undefined;
      try {
        claimed = await this.#deps.requests.claim(this.#deps.clock.now(), LEASE_MS);
      } catch {
        return; // the store is unreachable: the next poll tries again
      }
      if (claimed === undefined) return;
      const taken = claimed;
      // A store failure while finishing: the lease runs out and the request is taken again.
      await this.#execute(taken).catch((error: unknown) => this.#deps.onError?.(error, taken));
    }
  }

  /**
   * Runs a request, then finishes it in steps a crash can resume: the audit entry, the outcome
   * (which clears the identifier's value from the row), the purge of the files' stale pages
   * that still hold it, and only then the final status. A request taken again after its
   * outcome was recorded resumes at the purge; one whose purge stays busy keeps `running`
   * until its lease runs out and it is taken again.
   */
  async #execute(request: PrivacyRequest): Promise<void> {
    if (request.finishedMs === null) {
      const outcome = await this.#outcomeOf(request);
      try {
        await this.#audit(request, outcome);
      } catch (error) {
        this.#deps.onError?.(error, request);
      }
      await this.#deps.requests.recordOutcome(request.workspaceId, request.id, {
        ...outcome,
        finishedMs: this.#deps.clock.now(),
      });
    }
    // The identifier was in the request row until now: no copy of it stays in the files.
    if (request.type !== 'unsuppress') await this.#deps.subjects.purgeFiles();
    await this.#deps.requests.settle(request.workspaceId, request.id);
  }

  async #outcomeOf(
    request: PrivacyRequest,
  ): Promise<{ result: JsonObject | null; error: PrivacyRequest['error'] }> {
    try {
      return { result: await this.#run(request), error: null };
    } catch (error) {
      if (this.#deps.isUnavailable?.(error) === true) throw error;
      this.#deps.onError?.(error, request);
      return {
        result: null,
        error: AppError.is(error)
          ? { code: error.code, message: error.message }
          : { code: 'internal.error', message: 'the request failed; see the server log' },
      };
    }
  }

  async #audit(
    request: PrivacyRequest,
    outcome: { result: JsonObject | null; error: PrivacyRequest['error'] },
  ): Promise<void> {
    const status = outcome.error === null ? 'completed' : 'failed';
    await this.#deps.audit.record({
      workspaceId: request.workspaceId,
      actor: this.#deps.actor,
      action: `privacy request ${status}`,
      target: JSON.stringify({ requestId: request.id, type: request.type }),
      ip: null,
      details: {
        kind: 'change',
        requestedBy: request.requestedBy,
        result: outcome.result,
        error: outcome.error,
      },
    });
  }

  async #run(request: PrivacyRequest): Promise<JsonObject> {
    const value = request.identifierValue;
    if (value === null) throw new AppError('internal.error', 'the request lost its identifier');
    const identifier = { type: request.identifierType, value };
    switch (request.type) {
      case 'export':
        return this.#export(request, identifier);
      case 'erase': {
        const deletionCalls = await this.#deletionCalls(request, identifier);
        return { deleted: await this.#erase(request, identifier), deletionCalls };
      }
      case 'suppress_and_erase': {
        const suppressed = await this.#suppress(request, identifier);
        const deletionCalls = await this.#deletionCalls(request, identifier);
        return {
          suppressedIdentifiers: suppressed,
          deleted: await this.#erase(request, identifier),
          deletionCalls,
        };
      }
      case 'unsuppress': {
        const nowMs = this.#deps.clock.now();
        const removed = await this.#deps.suppressions.removeGroupOf(
          request.workspaceId,
          request.identifierHash,
          nowMs,
        );
        await this.#deps.suppressionChanged?.(request.workspaceId);
        return { unsuppressedIdentifiers: removed };
      }
    }
  }

  async #export(request: PrivacyRequest, identifier: Identifier): Promise<JsonObject> {
    const ws = request.workspaceId;
    const input = await this.#subjectInput(ws, [identifier]);
    const data = await this.#deps.subjects.read(ws, input);
    const consent: Record<string, JsonObject> = {};
    for (const profileId of data.subject.profileIds) {
      const current = await this.#deps.consent.current(ws, profileId);
      consent[profileId] = Object.fromEntries(
        current.map((c) => [
          c.category,
          { granted: c.granted, source: c.source, timestamp: new Date(c.tsMs).toISOString() },
        ]),
      );
    }
    const workspace = await this.#deps.workspace(ws);
    const nowMs = this.#deps.clock.now();
    const document = buildExportDocument(data, {
      request,
      workspace: { id: workspace.id, slug: workspace.slug, name: workspace.name },
      identifier,
      generatedMs: nowMs,
      consent,
    });
    await this.#deps.requests.saveExport(
      ws,
      request.id,
      JSON.stringify(document),
      nowMs,
      nowMs + EXPORT_TTL_MS,
    );
    return {
      profiles: data.subject.profileIds.length,
      identities: data.identifiers.length,
      events: data.events.length,
      expiresAt: new Date(nowMs + EXPORT_TTL_MS).toISOString(),
    };
  }

  /** Adds the person's identifiers (as keyed hashes) to the suppression list. */
  async #suppress(request: PrivacyRequest, identifier: Identifier): Promise<number> {
    const ws = request.workspaceId;
    const subject = await this.#deps.subjects.find(ws, { identifierKeys: [storedIdentifierKey(identifier)] });
    const all = [identifier, ...(subject?.identifiers ?? [])];
    const hashes = [...new Set(all.map((i) => this.#deps.hasher.hash(i)))];
    await this.#deps.suppressions.add(ws, hashes, request.id, this.#deps.clock.now());
    await this.#deps.suppressionChanged?.(ws);
    await this.#deps.suppressionSettled?.();
    return hashes.length;
  }

  /**
   * Erases in two passes: the second runs once the profiles stage has processed every event
   * appended before the first, so an event it had read just before the first pass (and would
   * link again from memory) is erased too.
   */
  async #erase(request: PrivacyRequest, identifier: Identifier): Promise<EraseCounts> {
    const ws = request.workspaceId;
    const counts: Record<string, number> = {};
    for (let pass = 0; pass < 2; pass++) {
      const head = await this.#deps.logHead();
      const input = await this.#subjectInput(ws, [identifier]);
      const hashes = input.identifiers.map((i) => this.#deps.hasher.hash(i));
      const deleted = await this.#deps.subjects.erase(ws, {
        ...input,
        identifierHashes: [...new Set([request.identifierHash, ...hashes])],
        profileSettings: await this.#deps.profileSettings(ws),
        nowMs: this.#deps.clock.now(),
      });
      for (const [table, n] of Object.entries(deleted)) counts[table] = (counts[table] ?? 0) + n;
      await this.#deps.requests.renewLease(ws, request.id, this.#deps.clock.now() + LEASE_MS);
      if (pass === 0) await this.#catchUp(head);
    }
    return counts;
  }

  /**
   * Queues the deletion calls before erasing: the record of which destinations received the
   * person's events is erased with everything else, and a request that is run again (after a
   * crash) queues each call once.
   */
  async #deletionCalls(request: PrivacyRequest, identifier: Identifier): Promise<string[]> {
    const queue = this.#deps.deletionCalls;
    if (queue === undefined) return [];
    const ws = request.workspaceId;
    const subject = await this.#deps.subjects.find(ws, { identifierKeys: [storedIdentifierKey(identifier)] });
    if (subject === undefined) return [];
    return queue(ws, {
      id: request.id,
      type: request.type,
      profileIds: [...subject.profileIds, ...subject.mergedIds],
      identities: subject.identifiers,
    });
  }

  /** Waits until the profiles stage passed `head`, or stops moving (no pipeline runs). */
  async #catchUp(head: number): Promise<void> {
    const deadline = Date.now() + (this.#deps.catchUpTimeoutMs ?? 30_000);
    let last = await this.#deps.profilesCursor();
    let lastMove = Date.now();
    while (last < head && Date.now() < deadline && Date.now() - lastMove < 3_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const cursor = await this.#deps.profilesCursor();
      if (cursor !== last) lastMove = Date.now();
      last = cursor;
    }
  }

  async #subjectInput(workspaceId: string, given: readonly Identifier[]) {
    const subject = await this.#deps.subjects.find(workspaceId, {
      identifierKeys: given.map(storedIdentifierKey),
    });
    const identifiers = new Map<string, Identifier>();
    for (const i of [...given, ...(subject?.identifiers ?? [])]) identifiers.set(storedIdentifierKey(i), i);
    const keys = new Set(identifiers.keys());
    const settings = await this.#deps.identitySettings(workspaceId);
    const blocked = createBlockedValues(settings);
    const carries = (event: StoredEvent): boolean =>
      extractIdentifiers(event, settings, blocked).identifiers.some((i) => keys.has(storedIdentifierKey(i)));
    return {
      identifierKeys: [...keys],
      identifiers: [...identifiers.values()],
      carries,
      pendingAfterSeq: await this.#deps.profilesCursor(),
    };
  }
}
