import { describeChange } from '../governance/audit-change.ts';
import type { JsonObject } from '../shared/json.ts';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppServices } from '../app/app-services.ts';
import { AppError } from '../errors/app-error.ts';
import type { SessionContext } from '../access/session.service.ts';
import type { AuditActor } from '../governance/audit-log.ts';
import {
  isInstanceOwner,
  isPermission,
  principalCan,
  roleIn,
  type Permission,
} from '../governance/permissions.ts';
import type { Principal, Workspace } from '../workspaces/workspace-types.ts';
import { authenticateRequest } from './request-auth.ts';

/** What an admin route needs: a permission of the matrix, or the instance owner. */
export type RouteAccess = Permission | 'instance_owner';

export interface AdminRoute {
  readonly method: string;
  readonly url: string;
  readonly access: RouteAccess;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    workspace: Workspace | null;
    /** The console session, when the caller authenticated with the session cookie. */
    session: SessionContext | null;
    /** What a route adds to the audit entry's target (e.g. the id of what it created). */
    auditNote: Record<string, string> | null;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyInstance {
    adminRoutes: readonly AdminRoute[];
  }
}

/**
 * Every admin route needs a bearer token or a console session (http/request-auth.ts) and
 * declares what it needs (`config.access`); a route without a declaration is refused at start,
 * so no route can be left open by accident. The check runs before the handler, the same for
 * tokens and users: another workspace answers 404 (exactly like a missing one), a role without
 * the permission 403.
 */
export function registerAdminAuth(app: FastifyInstance, services: AppServices, routes: AdminRoute[]): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('workspace', null);
  app.decorateRequest('session', null);
  app.decorateRequest('auditNote', null);
  app.addHook('onRoute', (route) => {
    const access = (route.config as { access?: unknown } | undefined)?.access;
    if (access !== 'instance_owner' && !isPermission(access)) {
      throw new Error(`admin route ${String(route.method)} ${route.url} declares no access (config.access)`);
    }
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: route.url, access });
    }
  });
  app.addHook('onRequest', async (request) => {
    const identity = await authenticateRequest(request, services);
    request.principal = identity.principal;
    request.session = identity.session;
    const decision = services.rateLimits.api.take(rateKeyOf(identity.principal), performance.now());
    if (!decision.ok)
      throw new AppError(
        'api.rate_limited',
        `more than ${services.config.rateLimitApi} requests per second with this token or session`,
        { retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) },
      );
  });
  // Before the body is validated: a caller who may not use the route learns nothing about
  // what it would accept (403, not a 400 listing the fields).
  app.addHook('preValidation', async (request) => {
    const principal = principalOf(request);
    const access = request.routeOptions.config.access;
    const ws = (request.params as { ws?: string } | undefined)?.ws;
    if (ws !== undefined) request.workspace = await resolveWorkspace(principal, services, ws);
    if (access === 'instance_owner') requireInstanceOwner(request);
    else if (access === undefined || !principalCan(principal, access, request.workspace?.id)) {
      throw new AppError('auth.forbidden', `your role may not do that (needs ${access ?? 'an access rule'})`);
    }
  });
  app.addHook('preHandler', async (request) => {
    // Reading unmasked personal data is audited when it is allowed (and the request valid),
    // before anything is sent.
    if (request.routeOptions.config.access === 'events.read_pii') await audit(services, request, 'read');
  });
  // Every successful change is audited once it is done.
  app.addHook('onResponse', async (request, reply) => {
    if (
      request.method === 'GET' ||
      request.method === 'HEAD' ||
      reply.statusCode >= 400 ||
      !request.principal
    )
      return;
    await audit(services, request, 'change').catch((error: unknown) =>
      request.log.error({ err: error }, 'audit entry could not be written'),
    );
  });
}

/** One budget per API token, per console user, and one for CDP_ADMIN_TOKEN. */
function rateKeyOf(principal: Principal): string {
  switch (principal.kind) {
    case 'instance_owner':
      return principal.tokenId === null ? 'admin-token' : `token:${principal.tokenId}`;
    case 'workspace_token':
      return `token:${principal.tokenId}`;
    case 'user':
      return `user:${principal.userId}`;
  }
}

function actorOf(principal: Principal, workspaceId: string | undefined): AuditActor {
  switch (principal.kind) {
    case 'instance_owner':
      return { kind: 'instance_owner', tokenId: principal.tokenId, role: 'owner' };
    case 'workspace_token':
      return { kind: 'workspace_token', tokenId: principal.tokenId, role: principal.role };
    case 'user':
      return { kind: 'user', tokenId: null, role: roleIn(principal, workspaceId), userId: principal.userId };
  }
}

function changesOf(body: unknown): { changes?: JsonObject } {
  const changes = describeChange(body);
  return changes === undefined ? {} : { changes };
}

async function audit(services: AppServices, request: FastifyRequest, kind: 'read' | 'change'): Promise<void> {
  const principal = principalOf(request);
  const params = { ...(request.params as Record<string, string> | undefined) };
  const facts = {
    workspaceId: request.workspace?.id ?? null,
    actor: actorOf(principal, request.workspace?.id),
    action: `${request.method} ${request.routeOptions.url ?? request.url}`,
    target: JSON.stringify({ ...params, ...request.auditNote }),
    ip: request.ip ?? null,
    // Which filters were used, not their values: the audit log must not become a copy of PII.
    details: {
      kind,
      ...(kind === 'read' ? { filters: Object.keys((request.query as object | undefined) ?? {}) } : {}),
      // What the change set (secrets and personal values withheld: governance/audit-change.ts).
      ...(kind === 'change' ? changesOf(request.body) : {}),
    },
  };
  await (kind === 'read' ? services.audit.recordRead(facts) : services.audit.record(facts));
}

/** Records a read (no personal value in it: which route, its path parameters and `auditNote`). */
export async function auditRead(request: FastifyRequest, services: AppServices): Promise<void> {
  await audit(services, request, 'read');
}

/**
 * Audits a read and runs it meanwhile: the result is built while the audit entry's flush runs,
 * and returned only once the entry is recorded (never if it could not be).
 */
export async function whileAuditingRead<T>(
  request: FastifyRequest,
  services: AppServices,
  read: () => Promise<T>,
): Promise<T> {
  const [result, audited] = await Promise.allSettled([read(), auditRead(request, services)]);
  if (audited.status === 'rejected') throw audited.reason;
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/** Whether the caller holds PII access here, without recording anything. */
export function holdsPiiAccess(request: FastifyRequest): boolean {
  return principalCan(principalOf(request), 'events.read_pii', request.workspace?.id);
}

/**
 * For routes that show personal data masked or not depending on the caller: true (and the read
 * audited) when the caller holds PII access.
 */
export async function piiAccess(request: FastifyRequest, services: AppServices): Promise<boolean> {
  if (!principalCan(principalOf(request), 'events.read_pii', request.workspace?.id)) return false;
  await audit(services, request, 'read');
  return true;
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('auth.missing_token');
  return request.principal;
}

/** For a permission that depends on the request body (e.g. minting an owner token). */
export function requirePermission(request: FastifyRequest, permission: Permission): void {
  if (!principalCan(principalOf(request), permission, request.workspace?.id)) {
    throw new AppError('auth.forbidden', `your role may not do that (needs ${permission})`);
  }
}

export function requireInstanceOwner(request: FastifyRequest): void {
  if (!isInstanceOwner(principalOf(request))) {
    throw new AppError(
      'auth.forbidden',
      'only the instance owner (CDP_ADMIN_TOKEN, an instance token or an instance-owner user) may do this',
    );
  }
}

/** The workspaces the caller may see: every one for the instance owner, else its own. */
export function visibleWorkspaceIds(principal: Principal): readonly string[] | 'all' {
  if (isInstanceOwner(principal)) return 'all';
  if (principal.kind === 'workspace_token') return [principal.workspaceId];
  return principal.kind === 'user' ? principal.grants.map((g) => g.workspaceId) : [];
}

/**
 * Resolves `{ws}` for the caller. A workspace token sees only its own workspace, a user only
 * those they are a member of: any other answers 404, exactly as a workspace that does not
 * exist, so nobody can probe for others.
 */
export async function workspaceFor(
  request: FastifyRequest,
  services: AppServices,
  idOrSlug: string,
): Promise<Workspace> {
  // Already resolved (and checked) by the preHandler for this route's {ws}.
  if (request.workspace && (request.workspace.id === idOrSlug || request.workspace.slug === idOrSlug))
    return request.workspace;
  return resolveWorkspace(principalOf(request), services, idOrSlug);
}

async function resolveWorkspace(
  principal: Principal,
  services: AppServices,
  idOrSlug: string,
): Promise<Workspace> {
  const workspace = await services.workspaces.get(idOrSlug);
  const visible = visibleWorkspaceIds(principal);
  if (visible !== 'all' && !visible.includes(workspace.id)) {
    throw new AppError('workspace.not_found', `no workspace "${idOrSlug}"`);
  }
  return workspace;
}
