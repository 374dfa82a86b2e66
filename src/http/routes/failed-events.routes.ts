import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { workspaceFor } from '../admin-auth.ts';
import { cursorNumber, cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { presentFailedEvent } from '../presenters.ts';
import { errorResponses, PageQuery, pageOf, WsIdParams, WsParams } from '../schemas.ts';

const FailedEventSchema = Type.Object({
  id: Type.String(),
  stage: Type.String(),
  seq: Type.Integer(),
  errorCode: Type.String(),
  reason: Type.String(),
  attempts: Type.Integer(),
  status: Type.String(),
  failedAt: Type.String(),
  replayedAt: Type.Union([Type.String(), Type.Null()]),
});

export async function failedEventsRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['failed events'];

  app.get(
    '/api/v1/workspaces/:ws/failed-events',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'Events a pipeline stage gave up on, newest first',
        params: WsParams,
        querystring: Type.Object({
          status: Type.Optional(Type.Union([Type.Literal('failed'), Type.Literal('replayed')])),
          stage: Type.Optional(Type.String({ maxLength: 100 })),
          ...PageQuery,
        }),
        response: { 200: pageOf(FailedEventSchema), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const cursor = decodeCursor(request.query.cursor);
      const before =
        cursor === undefined
          ? undefined
          : { failedMs: cursorNumber(cursor, 't') as number, id: cursorString(cursor, 'id') as string };
      const rows = await services.failedEvents.list(workspace.id, {
        status: request.query.status,
        stage: request.query.stage,
        before,
        limit: limit + 1,
      });
      const page = toPage(rows, limit, (f) => ({ t: f.failedMs, id: f.id }));
      return { items: page.items.map(presentFailedEvent), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/failed-events/:id',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'One failed event',
        params: WsIdParams,
        response: { 200: FailedEventSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return presentFailedEvent(await services.failedEvents.get(workspace.id, request.params.id));
    },
  );

  app.post(
    '/api/v1/workspaces/:ws/failed-events/:id/replay',
    {
      config: { access: 'pipeline.manage' },
      schema: {
        tags,
        summary: 'Deliver a failed event to its stage again',
        params: WsIdParams,
        response: { 202: FailedEventSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return reply
        .code(202)
        .send(presentFailedEvent(await services.failedEvents.replay(workspace.id, request.params.id)));
    },
  );

  app.post(
    '/api/v1/workspaces/:ws/failed-events/replay',
    {
      config: { access: 'pipeline.manage' },
      schema: {
        tags,
        summary: 'Replay every failed event of the workspace (optionally of one stage)',
        params: WsParams,
        body: Type.Optional(Type.Object({ stage: Type.Optional(Type.String({ maxLength: 100 })) })),
        response: { 202: Type.Object({ replayed: Type.Integer() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const replayed = await services.failedEvents.replayAll(workspace.id, request.body?.stage);
      return reply.code(202).send({ replayed });
    },
  );
}
