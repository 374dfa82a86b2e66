import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { MESSAGE_TYPES } from '../../ingestion/message-types.ts';
import { workspaceFor } from '../admin-auth.ts';
import { cursorNumber, decodeCursor, encodeCursor, pageSize, toPage } from '../paging.ts';
import { presentEvent } from '../presenters.ts';
import { errorResponses, PageQuery, pageOf, WsParams } from '../schemas.ts';
import { watchAccess } from './live-stream-access.ts';

const AnyObject = Type.Object({}, { additionalProperties: true });
const HEARTBEAT_MS = 15_000;

/** Settles when `stream` can take more, or once the client is gone (`signal`). */
function drained(stream: Writable, signal: AbortSignal): Promise<void> {
  return once(stream, 'drain', { signal }).then(
    () => undefined,
    () => undefined,
  );
}
/**
 * How many of the workspace's events one filtered page looks at (newest first, from its
 * cursor): about a quarter of a second of reading at most, so a filter matching nothing does not
 * hold the store for the length of the whole history.
 */
const FILTER_SCAN_WITHIN = 50_000;

export async function eventsRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['events'];

  app.get(
    '/api/v1/workspaces/:ws/events',
    {
      config: { access: 'events.read_pii' },
      schema: {
        tags,
        summary: 'Stored events, newest first',
        description:
          "With a filter (type, event, userId, anonymousId) each page looks at up to 50,000 of the workspace's events from its cursor: when they hold fewer matches than the page size, the page is short, possibly empty, and nextCursor continues further back. Page until nextCursor is null.",
        params: WsParams,
        querystring: Type.Object({
          type: Type.Optional(Type.Union(MESSAGE_TYPES.map((t) => Type.Literal(t)))),
          event: Type.Optional(Type.String({ maxLength: 500 })),
          userId: Type.Optional(Type.String({ maxLength: 1024 })),
          anonymousId: Type.Optional(Type.String({ maxLength: 1024 })),
          ...PageQuery,
        }),
        response: { 200: pageOf(AnyObject), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const { type, event, userId, anonymousId } = request.query;
      const limit = pageSize(request.query.limit);
      const beforeSeq = cursorNumber(decodeCursor(request.query.cursor), 'seq');
      const { events, continueBefore } = await services.events.list({
        workspaceId: workspace.id,
        type,
        event,
        userId,
        anonymousId,
        beforeSeq,
        limit: limit + 1,
        scanWithin: FILTER_SCAN_WITHIN,
      });
      const page = toPage(events, limit, (e) => ({ seq: e.seq }));
      // A filtered page that reached its scan bound first is short (even empty); the cursor
      // continues further back.
      const nextCursor =
        page.nextCursor ?? (continueBefore === undefined ? null : encodeCursor({ seq: continueBefore }));
      return { items: page.items.map(presentEvent), nextCursor };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/events/stream',
    {
      config: { access: 'events.read_pii' },
      schema: {
        tags,
        summary: 'Live event stream for the debugger (Server-Sent Events); resumes after Last-Event-ID',
        params: WsParams,
        response: {
          200: {
            description:
              'text/event-stream: one "event: message" per stored event. Access is checked again before each page and every 5 s: once it is gone (token revoked, session ended, membership, role or PII access withdrawn) one "event: end" with {"code","message"} (the error a new request would get), then the stream closes',
            type: 'string',
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const lastEventId = Number(request.headers['last-event-id']);
      const after =
        Number.isSafeInteger(lastEventId) && lastEventId > 0 ? lastEventId : await services.events.headSeq();
      const abort = new AbortController();
      request.raw.on('close', () => abort.abort());
      services.shutdownSignal.addEventListener('abort', () => abort.abort(), { once: true });
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      res.write(': connected\n\n');
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
      const access = watchAccess(request, services, workspace, 'events.read_pii', res, abort);
      const closed = services.metrics.liveStreamOpened(res);
      try {
        for await (const batch of services.events.follow(workspace.id, after, abort.signal)) {
          // The page shows unmasked events: only to a caller who may still read them now.
          if (!(await access.stillAllowed())) break;
          for (const event of batch)
            res.write(`id: ${event.seq}\nevent: message\ndata: ${JSON.stringify(event.message)}\n\n`);
          // A client slower than the traffic (a throttled tab, a slow link) holds its stream
          // back: the next page is read from the log once the socket took this one, instead of
          // the server buffering for it without bound.
          if (res.writableNeedDrain) await drained(res, abort.signal);
        }
      } catch (error) {
        services.logger.warn({ err: error }, 'live event stream ended with an error');
      } finally {
        access.stop();
        closed();
        clearInterval(heartbeat);
        res.end();
      }
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/stats',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'Counts of what is stored now, and how far processing is behind ingestion',
        params: WsParams,
        response: {
          200: Type.Object({
            events: Type.Integer(),
            profiles: Type.Integer(),
            sources: Type.Integer(),
            failedEvents: Type.Integer(),
            suppressedEvents: Type.Integer(),
            unprocessedEvents: Type.Integer({
              description:
                'Acknowledged events not yet processed into profiles, segments and destinations (counted up to 10,000: a larger backlog shows as 10,000)',
            }),
            processingDelayMs: Type.Integer({
              description: 'How long the oldest unprocessed event has waited, in ms (0 when none waits)',
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return services.events.stats(workspace.id);
    },
  );
}
