import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppServices } from '../../app/app-services.ts';
import { AppError } from '../../errors/app-error.ts';
import { preflight } from '../ingestion-cors.ts';

/**
 * The settings browser SDKs fetch before sending anything, so they can point at this server
 * alone: Segment's analytics.js loads `<cdnURL>/v1/projects/<writeKey>/settings`, RudderStack's
 * JavaScript SDK loads `<configUrl>/sourceConfig/` (the key as Basic auth and in the query). Both answers
 * send the SDK's events back here, with no device-mode destinations.
 */
export async function sdkSettingsRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  app.get<{ Params: { writeKey: string } }>(
    '/v1/projects/:writeKey/settings',
    { schema: { hide: true } },
    async (request, reply) => {
      const source = await services.sources.authenticate(request.params.writeKey);
      if (!source) throw new AppError('auth.invalid_write_key', 'unknown or revoked write key');
      // A configured public URL wins over what this request says (its Host header is the
      // client's to choose, and a TLS proxy's scheme is only seen when it is trusted).
      const publicUrl =
        services.config.publicUrl === undefined ? undefined : new URL(services.config.publicUrl);
      const protocol = publicUrl
        ? publicUrl.protocol.replace(':', '')
        : request.protocol === 'https'
          ? 'https'
          : 'http';
      const apiHost = publicUrl
        ? `${publicUrl.host}${publicUrl.pathname.replace(/\/+$/, '')}/v1`
        : `${request.host}/v1`;
      return reply.header('Cache-Control', 'public, max-age=60').send({
        integrations: {
          'Segment.io': {
            apiKey: request.params.writeKey,
            apiHost,
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

  // The SDK asks for `<configUrl>/sourceConfig/?p=…&v=…&writeKey=…` (with the slash) and sends the
  // key as Basic auth too, which makes the browser send a preflight first.
  for (const path of ['/sourceConfig', '/sourceConfig/']) {
    app.options(path, preflight('GET, OPTIONS'));
    app.get(path, { schema: { hide: true } }, sourceConfig);
  }

  async function sourceConfig(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const header = request.headers.authorization ?? '';
    const match = /^Basic\s+(\S+)$/i.exec(header.trim());
    const decoded = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const queryKey = (request.query as Record<string, unknown> | undefined)?.['writeKey'];
    const writeKey = decoded.split(':')[0] || (typeof queryKey === 'string' ? queryKey : '');
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
  }
}
