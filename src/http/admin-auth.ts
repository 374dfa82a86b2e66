import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppServices } from '../app/app-services.ts';
import { AppError } from '../errors/app-error.ts';
import type { Principal, Workspace } from '../workspaces/workspace-types.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** Every admin route needs a bearer token: the instance admin token or a workspace token. */
export function registerAdminAuth(app: FastifyInstance, services: AppServices): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new AppError('auth.missing_token', 'send "Authorization: Bearer <token>"');
    request.principal = await services.tokens.authenticate(match[1]);
  });
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('auth.missing_token');
  return request.principal;
}

export function requireInstanceOwner(request: FastifyRequest): void {
  if (principalOf(request).kind !== 'instance_owner') {
    throw new AppError(
      'auth.forbidden',
      'only the instance owner (CDP_ADMIN_TOKEN or an instance token) may do this',
    );
  }
}

/**
 * Resolves `{ws}` for the caller. A workspace token sees only its own workspace: any other
 * answers 404, exactly as a workspace that does not exist, so tokens cannot probe for others.
 */
export async function workspaceFor(
  request: FastifyRequest,
  services: AppServices,
  idOrSlug: string,
): Promise<Workspace> {
  const principal = principalOf(request);
  const workspace = await services.workspaces.get(idOrSlug);
  if (principal.kind === 'workspace_token' && principal.workspaceId !== workspace.id) {
    throw new AppError('workspace.not_found', `no workspace "${idOrSlug}"`);
  }
  return workspace;
}
