import type { FastifyInstance } from 'fastify';
import type { AppServices } from '../../app/app-services.ts';
import { AppError } from '../../errors/app-error.ts';

/**
 * The settings browser SDKs fetch before sending anything, so they can point at this server
 * alone: Segment's analytics.js loads `<cdnURL>/v1/projects/<writeKey>/settings`, RudderStack's
 * JavaScript SDK loads `<configUrl>/sourceConfig` with the write key as Basic auth. Both answers
 * send the SDK's events back here, with no device-mode destinations.
 */
export async function sdkSettingsRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  app.get<{ Params: { writeKey: string } }>(
    '/v1/projects/:writeKey/settings',
    { schema: { hide: true } },
    async (request, reply) => {
      const source = await services.sources.authenticate(request.params.writeKey);
      if (!source) throw new AppError('auth.invalid_write_key', 'unknown or revoked write key');
      const protocol = request.protocol === 'https' ? 'https' : 'http';
      return reply.header('Cache-Control', 'public, max-age=60').send({
        integrations: {
          'Segment.io': {
            apiKey: request.params.writeKey,
            apiHost: `${request.host}/v1`,
            protocol,
            unbundledIntegrations: [],
            addBundledMetadata: false,
          },
        },
        plan: {
          track: { __default: { enabled: true, integrations: {} } },
          identify: { __default: { enabled: true } },
          group: { __default: { enabled: true } },
        },
        edgeFunction: {},
        analyticsNextEnabled: true,
        middlewareSettings: {},
        enabledMiddleware: {},
        metrics: { sampleRate: 0 },
        legacyVideoPluginsEnabled: false,
        remotePlugins: [],
      });
    },
  );

  app.get('/sourceConfig', { schema: { hide: true } }, async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const match = /^Basic\s+(\S+)$/i.exec(header.trim());
    const decoded = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const writeKey = decoded.split(':')[0] ?? '';
    const source = writeKey === '' ? undefined : await services.sources.authenticate(writeKey);
    if (!source) throw new AppError('auth.invalid_write_key', 'unknown or revoked write key');
    return reply.send({
      isHosted: false,
      source: {
        id: source.id,
        name: source.name,
        writeKey,
        enabled: true,
        deleted: false,
        workspaceId: source.workspaceId,
        config: {},
        destinations: [],
      },
    });
  });
}
