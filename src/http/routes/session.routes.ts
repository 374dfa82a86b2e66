import { Type } from 'typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import type { ClientInfo, SessionContext, SignIn } from '../../access/session.service.ts';
import { piiAccessOf } from '../../access/user-types.ts';
import { AppError } from '../../errors/app-error.ts';
import { grantCan, PERMISSIONS } from '../../governance/permissions.ts';
import { authenticateRequest, requireSameSite } from '../request-auth.ts';
import {
  clearedSessionCookie,
  cookieModeOf,
  requireCookieMode,
  sessionCookie,
  sessionIdOf,
} from '../session-cookie.ts';
import { PiiAccessSchema } from '../schemas.ts';

const SessionSchema = Type.Object({
  user: Type.Object({ id: Type.String(), email: Type.String(), instanceOwner: Type.Boolean() }),
  workspaces: Type.Array(
    Type.Object({
      id: Type.String(),
      slug: Type.String(),
      name: Type.String(),
      role: Type.String(),
      piiAccess: PiiAccessSchema,
      permissions: Type.Array(Type.String()),
    }),
  ),
  /** Send it back as X-CSRF-Token on every write made with the session cookie. */
  csrfToken: Type.String(),
  idleExpiresAt: Type.String(),
  expiresAt: Type.String(),
});

const authErrors = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  409: Type.Ref('Error'),
  429: Type.Ref('Error'),
};

const Credentials = {
  email: Type.String({ minLength: 1, maxLength: 320 }),
  password: Type.String({ minLength: 1, maxLength: 4096 }),
};

const clientOf = (request: FastifyRequest): ClientInfo => ({
  ip: request.ip,
  userAgent: request.headers['user-agent'],
});

/**
 * Console sign-in, the current session, sign-out, password change and the first-owner setup.
 * These routes authenticate by themselves (there is no session yet, or the session is what they
 * manage); every admin route goes through http/admin-auth.ts.
 */
export async function sessionRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['session'];
  // Answers carry the CSRF token and who is signed in: never cached, never shared.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('Cache-Control', 'no-store');
    return payload;
  });

  const view = async (context: SessionContext) => {
    const workspaces = await Promise.all(
      context.principal.grants.map(async (grant) => {
        const workspace = await services.workspaces.get(grant.workspaceId);
        return {
          id: workspace.id,
          slug: workspace.slug,
          name: workspace.name,
          role: grant.role,
          piiAccess: piiAccessOf(grant.pii),
          permissions: PERMISSIONS.filter((p) => context.user.instanceOwner || grantCan(grant, p)),
        };
      }),
    );
    // The instance owner reaches every workspace, granted or not: the console lists them all.
    const granted = new Set(context.principal.grants.map((grant) => grant.workspaceId));
    const ownerOnly = context.user.instanceOwner
      ? (await services.workspaces.list({ limit: 1000 })).filter((w) => !granted.has(w.id))
      : [];
    for (const workspace of ownerOnly)
      workspaces.push({
        id: workspace.id,
        slug: workspace.slug,
        name: workspace.name,
        role: 'owner',
        piiAccess: 'role',
        permissions: [...PERMISSIONS],
      });
    return {
      user: { id: context.user.id, email: context.user.email, instanceOwner: context.user.instanceOwner },
      workspaces,
      csrfToken: context.csrfToken,
      idleExpiresAt: new Date(context.idleEndsMs).toISOString(),
      expiresAt: new Date(context.session.expiresMs).toISOString(),
    };
  };

  const setCookie = (request: FastifyRequest, reply: FastifyReply, signIn: SignIn) => {
    const mode = requireCookieMode(request);
    const lifetimeSeconds = (signIn.session.expiresMs - signIn.session.createdMs) / 1000;
    void reply.header('Set-Cookie', sessionCookie(mode, signIn.sessionId, lifetimeSeconds));
  };

  app.post(
    '/api/v1/session',
    {
      schema: {
        tags,
        summary:
          'Sign in to the console: sets the session cookie and answers the CSRF token (rate-limited per account and IP)',
        security: [],
        body: Type.Object(Credentials),
        response: { 200: SessionSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      requireCookieMode(request);
      requireSameSite(request);
      const signIn = await services.sessions.login(
        { ...request.body, previousSessionId: sessionIdOf(request) },
        clientOf(request),
      );
      setCookie(request, reply, signIn);
      return view(signIn);
    },
  );

  app.get(
    '/api/v1/session',
    {
      schema: {
        tags,
        summary: 'The signed-in user, their workspaces and permissions, and the CSRF token',
        security: [],
        response: { 200: SessionSchema, ...authErrors },
      },
    },
    async (request) => view(await requireSession(request, services)),
  );

  app.delete(
    '/api/v1/session',
    {
      schema: {
        tags,
        summary: 'Sign out: the session ends and the cookie is cleared',
        security: [],
        response: { 204: Type.Null(), ...authErrors },
      },
    },
    async (request, reply) => {
      const mode = cookieModeOf(request);
      const sessionId = sessionIdOf(request);
      if (sessionId !== undefined) {
        const signedIn = await requireSession(request, services).catch((error: unknown) => {
          // An ended session is signed out already; a forged request (CSRF) is refused.
          if (AppError.is(error) && error.code === 'auth.session_expired') return undefined;
          throw error;
        });
        if (signedIn) await services.sessions.logout(sessionId, clientOf(request));
      }
      if (mode) void reply.header('Set-Cookie', clearedSessionCookie(mode));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/session/password',
    {
      schema: {
        tags,
        summary: "Change the signed-in user's password; their other sessions end",
        security: [],
        body: Type.Object({
          currentPassword: Credentials.password,
          newPassword: Type.String({ maxLength: 4096 }),
        }),
        response: { 204: Type.Null(), ...authErrors },
      },
    },
    async (request, reply) => {
      const context = await requireSession(request, services);
      await services.sessions.changePassword(context, request.body, clientOf(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/setup',
    {
      schema: {
        tags,
        summary: 'Whether the first owner still has to be created (with the setup code printed at start)',
        security: [],
        response: { 200: Type.Object({ needed: Type.Boolean() }) },
      },
    },
    async () => ({ needed: await services.setup.needed() }),
  );

  app.post(
    '/api/v1/setup',
    {
      schema: {
        tags,
        summary:
          'Create the first owner with the one-time setup code printed at start (usable once, only while no user exists); signs them in',
        security: [],
        body: Type.Object({ setupCode: Type.String({ minLength: 1, maxLength: 200 }), ...Credentials }),
        response: { 201: SessionSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      requireCookieMode(request);
      requireSameSite(request);
      const signIn = await services.setup.redeem(
        { code: request.body.setupCode, email: request.body.email, password: request.body.password },
        clientOf(request),
      );
      setCookie(request, reply, signIn);
      return reply.code(201).send(await view(signIn));
    },
  );
}

/** The console session of the request (CSRF-checked for writes); 401 without one. */
async function requireSession(request: FastifyRequest, services: AppServices): Promise<SessionContext> {
  if (request.headers.authorization !== undefined)
    throw new AppError('auth.session_expired', 'this route is for console sessions, not bearer tokens');
  const identity = await authenticateRequest(request, services);
  if (!identity.session)
    throw new AppError('auth.session_expired', 'not signed in (POST /api/v1/session signs in)');
  return identity.session;
}
