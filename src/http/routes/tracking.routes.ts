import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppServices } from '../../app/app-services.ts';
import { AppError } from '../../errors/app-error.ts';
import type { IngestRoute } from '../../ingestion/ingestion.service.ts';
import { INGESTION_LIMITS } from '../../ingestion/ingestion-limits.ts';
import { pixelMessage, TRANSPARENT_GIF, type PixelQuery } from '../../ingestion/pixel-message.ts';
import { allowCors, preflight } from '../ingestion-cors.ts';
import { sdkSettingsRoutes } from './sdk-settings.routes.ts';

const ROUTES: readonly IngestRoute[] = ['identify', 'track', 'page', 'screen', 'group', 'alias', 'batch'];
const PIXEL_CALLS = ROUTES.filter((r) => r !== 'batch').join(', ');
/** analytics.js posts to one-letter paths (`/v1/t`, batched `/v1/b`); they mean the same calls. */
const SHORT_PATHS: Readonly<Record<string, IngestRoute>> = {
  i: 'identify',
  t: 'track',
  p: 'page',
  s: 'screen',
  g: 'group',
  a: 'alias',
  b: 'batch',
  // Segment's older libraries posted their batches to /v1/import.
  import: 'batch',
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

const queryWriteKey = (request: FastifyRequest): string | undefined => {
  const value = (request.query as Record<string, unknown> | undefined)?.['writeKey'];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

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
    ...ROUTES.map((route): [string, IngestRoute] => [`/v1/${route}`, route]),
    ...Object.entries(SHORT_PATHS).map(([path, route]): [string, IngestRoute] => [`/v1/${path}`, route]),
    // RudderStack's JavaScript SDK with `useBeacon`: the write key in the query string.
    ['/beacon/v1/batch', 'batch'],
  ];
  for (const [path, route] of paths) {
    app.options(path, preflight('POST, OPTIONS'));
    app.post(path, { schema: { hide: true } }, async (request, reply) => {
      await ingest(request, route, Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));
      return reply.code(200).send({ success: true });
    });
  }
  for (const prefix of ['/v1/pixel', '/pixel/v1']) {
    app.get<{ Params: { call: string } }>(
      `${prefix}/:call`,
      { schema: { hide: true } },
      async (request, reply) => {
        const route = ROUTES.find((r) => r === request.params.call && r !== 'batch');
        if (route === undefined)
          throw new AppError(
            'request.not_found',
            `no pixel for "${request.params.call.slice(0, 50)}"; calls: ${PIXEL_CALLS}`,
          );
        const pixel = pixelMessage(request.query as PixelQuery);
        if (!pixel.ok) throw new AppError('request.invalid_body', pixel.message);
        await ingest(request, route, Buffer.from(pixel.body), { writeKey: pixel.writeKey });
        return reply
          .code(200)
          .header('Content-Type', 'image/gif')
          .header('Cache-Control', 'no-store, max-age=0')
          .send(TRANSPARENT_GIF);
      },
    );
  }

  async function ingest(
    request: FastifyRequest,
    route: IngestRoute,
    raw: Buffer,
    /** A pixel's message, built from its query string: never encoded. */
    pixel?: { readonly writeKey: string | undefined },
  ): Promise<void> {
    const started = performance.now();
    let status = 200;
    try {
      await services.ingestion.ingest({
        route,
        raw,
        contentEncoding: pixel === undefined ? request.headers['content-encoding'] : undefined,
        headerWriteKey:
          writeKeyFromHeader(request.headers.authorization) ?? pixel?.writeKey ?? queryWriteKey(request),
        ip: request.ip ?? null,
        gpc: request.headers['sec-gpc'] === '1',
      });
    } catch (error) {
      status = AppError.is(error) ? error.status : 500;
      throw error;
    } finally {
      services.metrics.observeAck(route, status, (performance.now() - started) / 1000);
    }
  }
}
