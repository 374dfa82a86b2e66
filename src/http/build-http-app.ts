import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { AppServices } from '../app/app-services.ts';
import { AppError } from '../errors/app-error.ts';
import { registerAdminAuth, type AdminRoute } from './admin-auth.ts';
import { storeUnavailable, toErrorResponse } from './error-response.ts';
import { RepeatThrottle } from '../observability/repeat-throttle.ts';

import { auditRoutes } from './routes/audit.routes.ts';
import { computedTraitsRoutes } from './routes/computed-traits.routes.ts';
import { destinationsRoutes } from './routes/destinations.routes.ts';
import { consoleRoutes } from './routes/console.routes.ts';
import { eventsRoutes } from './routes/events.routes.ts';
import { failedEventsRoutes } from './routes/failed-events.routes.ts';
import { profilesRoutes } from './routes/profiles.routes.ts';
import { identityRoutes } from './routes/identity.routes.ts';
import { operationsRoutes } from './routes/operations.routes.ts';
import { sessionRoutes } from './routes/session.routes.ts';
import { segmentsRoutes } from './routes/segments.routes.ts';
import { sourcesRoutes } from './routes/sources.routes.ts';
import { tokensRoutes } from './routes/tokens.routes.ts';
import { trackingRoutes } from './routes/tracking.routes.ts';
import { usersRoutes } from './routes/users.routes.ts';
import { workspacesRoutes } from './routes/workspaces.routes.ts';
import { ErrorSchema } from './schemas.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { consentRoutes } from './routes/consent.routes.ts';
import { privacyRoutes } from './routes/privacy.routes.ts';

/** While the store is unavailable, at most one failed request is logged per 10 s. */
const OUTAGE_LOG_INTERVAL_MS = 10_000;

/** The HTTP surface: thin routes over services. Tests drive it with `app.inject()`. */
export async function buildHttpApp(services: AppServices): Promise<FastifyInstance> {
  // Typed as Fastify's base logger so route plugins see the default FastifyInstance type.
  const loggerInstance: FastifyBaseLogger = services.logger;
  const app = Fastify({
    loggerInstance,
    // One log line per ingestion request would dwarf the data; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: services.config.trustProxy,
    bodyLimit: 1024 * 1024,
    // Client JSON goes through JSON.parse for ingestion; admin bodies are small and schema-checked.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });
  // Many clients send `content-type: application/json` on a DELETE or a body-less action with
  // nothing after it: that is no body (the route's schema decides if one was needed), not JSON
  // that failed to parse.
  const jsonParser = app.getDefaultJsonParser('ignore', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else void jsonParser(request, typeof body === 'string' ? body : body.toString('utf8'), done);
  });

  // Every admin route with what it requires: the authorization matrix test is generated from it.
  const adminRoutes: AdminRoute[] = [];
  app.decorate('adminRoutes', adminRoutes);
  app.addSchema(ErrorSchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'CDP admin API',
        version: '1',
        description: "Admin API of the platform. Ingestion follows Segment's HTTP Tracking API at /v1/*.",
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          // The console's session cookie (`cdp_session` on plain-HTTP localhost); writes made
          // with it also need the X-CSRF-Token header.
          session: { type: 'apiKey', in: 'cookie', name: '__Host-cdp_session' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });

  // An unreachable store fails every request alike: one line per interval, with the count.
  const outageLog = new RepeatThrottle(OUTAGE_LOG_INTERVAL_MS);
  app.setErrorHandler((error, request, reply) => {
    const { status, body, retryAfterSeconds } = toErrorResponse(
      services.isStoreUnavailable(error) ? storeUnavailable(error) : error,
    );
    if (body.error.code === 'storage.unavailable') {
      const { log, suppressed } = outageLog.admit(body.error.code);
      if (log)
        request.log.error(
          { err: error, url: request.url, suppressed },
          suppressed > 0
            ? `request failed: the store is unavailable (${suppressed} more such failures since the last line)`
            : 'request failed: the store is unavailable',
        );
    } else if (status >= 500) request.log.error({ err: error, url: request.url }, 'request failed');
    // analytics.js reads X-RateLimit-Reset (seconds) rather than Retry-After; send both.
    if (retryAfterSeconds !== undefined)
      void reply.headers({
        'Retry-After': String(retryAfterSeconds),
        'X-RateLimit-Reset': String(retryAfterSeconds),
      });
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = toErrorResponse(
      new AppError('request.not_found', `no route ${request.method} ${request.url.split('?')[0]}`),
    );
    return reply.code(status).send(body);
  });
  registerSecurityHeaders(app);

  await app.register(async (scope) => trackingRoutes(scope, services));
  await app.register(async (scope) => operationsRoutes(scope, services));
  await app.register(async (scope) => consoleRoutes(scope));
  await app.register(async (scope) => sessionRoutes(scope, services));
  await app.register(async (scope) => {
    registerAdminAuth(scope, services, adminRoutes);
    await workspacesRoutes(scope, services);
    await sourcesRoutes(scope, services);
    await tokensRoutes(scope, services);
    await eventsRoutes(scope, services);
    await failedEventsRoutes(scope, services);
    await auditRoutes(scope, services);
    await profilesRoutes(scope, services);
    await identityRoutes(scope, services);
    await usersRoutes(scope, services);
    await segmentsRoutes(scope, services);
    await computedTraitsRoutes(scope, services);
    await destinationsRoutes(scope, services);
    await consentRoutes(scope, services);
    await privacyRoutes(scope, services);
  });
  return app;
}
