import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppServices } from '../../app/app-services.ts';
import { AppError } from '../../errors/app-error.ts';
import type { IngestRoute } from '../../ingestion/ingestion.service.ts';
import { INGESTION_LIMITS } from '../../ingestion/ingestion-limits.ts';
import { sdkSettingsRoutes } from './sdk-settings.routes.ts';

const ROUTES: readonly IngestRoute[] = ['identify', 'track', 'page', 'screen', 'group', 'alias', 'batch'];
/** analytics.js posts to one-letter paths (`/v1/t`, batched `/v1/b`); they mean the same calls. */
const SHORT_PATHS: Readonly<Record<string, IngestRoute>> = {
  i: 'identify',
  t: 'track',
  p: 'page',
  s: 'screen',
  g: 'group',
  a: 'alias',
  b: 'batch',
};

/** Basic auth as Segment's SDKs send it: the write key as user name, empty password. */
function writeKeyFromHeader(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const key = colon === -1 ? decoded : decoded.slice(0, colon);
  return key === '' ? undefined : key;
}

/** Browser SDKs post from any origin; CORS is open on ingestion routes only. */
function allowCors(request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  reply.header('Access-Control-Allow-Origin', origin ?? '*');
  reply.header('Vary', 'Origin');
}

/**
 * The Segment-compatible Tracking API. Bodies are read raw (any content type, since browser
 * beacons send text/plain), inflated with a cap, parsed, authenticated, and acknowledged only
 * after the group commit made them durable.
 */
export async function trackingRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: INGESTION_LIMITS.maxRawBodyBytes },
    (_request, body, done) => {
      done(null, body);
    },
  );
  app.addHook('onRequest', async (request, reply) => allowCors(request, reply));
  await sdkSettingsRoutes(app, services);

  const paths: [string, IngestRoute][] = [
    ...ROUTES.map((route): [string, IngestRoute] => [route, route]),
    ...Object.entries(SHORT_PATHS),
  ];
  for (const [path, route] of paths) {
    app.options(`/v1/${path}`, async (_request, reply) => {
      reply
        .header('Access-Control-Allow-Methods', 'POST, OPTIONS')
        .header('Access-Control-Allow-Headers', 'Content-Type, Authorization, Content-Encoding')
        .header('Access-Control-Max-Age', '86400')
        .code(204)
        .send();
    });
    app.post(`/v1/${path}`, { schema: { hide: true } }, async (request, reply) => {
      const started = performance.now();
      let status = 200;
      try {
        await services.ingestion.ingest({
          route,
          raw: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
          contentEncoding: request.headers['content-encoding'],
          headerWriteKey: writeKeyFromHeader(request.headers.authorization),
          ip: request.ip ?? null,
          gpc: request.headers['sec-gpc'] === '1',
        });
        return await reply.code(200).send({ success: true });
      } catch (error) {
        status = AppError.is(error) ? error.status : 500;
        throw error;
      } finally {
        services.metrics.observeAck(route, status, (performance.now() - started) / 1000);
      }
    });
  }
}
