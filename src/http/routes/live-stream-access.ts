import type { Writable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { AppServices } from '../../app/app-services.ts';
import { AppError } from '../../errors/app-error.ts';
import { principalCan, type Permission } from '../../governance/permissions.ts';
import type { Workspace } from '../../workspaces/workspace-types.ts';
import { visibleWorkspaceIds } from '../admin-auth.ts';
import { authenticateRequest } from '../request-auth.ts';

/** Why a long-lived response lost its caller's access: the error the same request would get now. */
export interface AccessLoss {
  readonly code: string;
  readonly message: string;
}

/**
 * Checks again, for a response that outlives its request (the live event stream), what the
 * admin hook checked when it began: the bearer token or the session (and its user) is still
 * valid, the caller still sees the workspace, and still holds `permission` there. The same code
 * as for a new request (request-auth.ts, admin-auth.ts, the permission matrix) answers, so a
 * revoked token, an ended session, a removed member or a withdrawn PII access end the stream
 * exactly as they refuse any other request. Resolves null while access holds.
 *
 * A check that cannot be made (the store is unreachable) counts as a loss: the stream shows
 * personal data, so it fails closed; the client resumes after its Last-Event-ID.
 */
export async function accessLossOf(
  request: FastifyRequest,
  services: AppServices,
  workspace: Workspace,
  permission: Permission,
): Promise<AccessLoss | null> {
  try {
    // Watching is no activity of the user: the session's idle timeout keeps running.
    const { principal } = await authenticateRequest(request, services, { touch: false });
    const visible = visibleWorkspaceIds(principal);
    if (visible !== 'all' && !visible.includes(workspace.id))
      return lossOf(new AppError('workspace.not_found', `no workspace "${workspace.slug}"`));
    if (!principalCan(principal, permission, workspace.id))
      return lossOf(new AppError('auth.forbidden', `your role may not do that (needs ${permission})`));
    return null;
  } catch (error) {
    if (AppError.is(error)) return lossOf(error);
    services.logger.warn({ err: error }, 'live stream access could not be checked; the stream ends');
    return lossOf(
      new AppError(services.isStoreUnavailable(error) ? 'storage.unavailable' : 'internal.error'),
    );
  }
}

const lossOf = (error: AppError): AccessLoss => ({ code: error.code, message: error.message });

/** How often a stream without traffic checks again (one with traffic checks before each page). */
export const ACCESS_CHECK_MS = 5_000;

export interface AccessWatch {
  /** Checks now: false once access is gone (the client was told why and the stream is ending). */
  stillAllowed(): Promise<boolean>;
  stop(): void;
}

/**
 * Watches a live stream's access: `stillAllowed()` before each page, and a timer while the
 * stream waits for events. Once access is gone the client gets `event: end` with the error's
 * code and message (`auth.invalid_token`, `auth.session_expired`, `auth.forbidden`…), then
 * `abort` ends the stream: nothing more is written. A client that reconnects is refused like
 * any other request.
 */
export function watchAccess(
  request: FastifyRequest,
  services: AppServices,
  workspace: Workspace,
  permission: Permission,
  stream: Writable,
  abort: AbortController,
): AccessWatch {
  let lost = false;
  let idleCheck: Promise<boolean> | undefined;
  const check = async (): Promise<boolean> => {
    const loss = await accessLossOf(request, services, workspace, permission);
    if (loss !== null && !lost) {
      lost = true;
      if (!stream.writableEnded && !stream.destroyed)
        stream.write(`event: end\ndata: ${JSON.stringify(loss)}\n\n`);
      abort.abort();
    }
    return !lost;
  };
  const timer = setInterval(() => {
    idleCheck ??= check().finally(() => {
      idleCheck = undefined;
    });
  }, ACCESS_CHECK_MS);
  timer.unref();
  return { stillAllowed: check, stop: () => clearInterval(timer) };
}
