import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { workspaceFor } from '../admin-auth.ts';
import { cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { presentSource } from '../presenters.ts';
import { errorResponses, PageQuery, pageOf, SourceSchema, WsIdParams, WsParams } from '../schemas.ts';

const SourceWithKey = Type.Intersect([SourceSchema, Type.Object({ writeKey: Type.String() })]);
const Settings = Type.Object({ captureIp: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export async function sourcesRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['sources'];

  app.post(
    '/api/v1/workspaces/:ws/sources',
    {
      config: { access: 'sources.manage' },
      schema: {
        tags,
        summary: 'Create a source; the answer holds its write key, shown this once',
        params: WsParams,
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 200 }),
          type: Type.Literal('http'),
          settings: Type.Optional(Settings),
        }),
        response: { 201: SourceWithKey, ...errorResponses },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const { source, writeKey } = await services.sources.create(workspace.id, request.body);
      return reply.code(201).send({ ...presentSource(source), writeKey });
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/sources',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'List sources',
        params: WsParams,
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(SourceSchema), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const afterId = cursorString(decodeCursor(request.query.cursor), 'id');
      const page = toPage(
        await services.sources.list(workspace.id, { limit: limit + 1, afterId }),
        limit,
        (s) => ({ id: s.id }),
      );
      return { items: page.items.map(presentSource), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/sources/:id',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'Get a source',
        params: WsIdParams,
        response: { 200: SourceSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return presentSource(await services.sources.get(workspace.id, request.params.id));
    },
  );

  app.patch(
    '/api/v1/workspaces/:ws/sources/:id',
    {
      config: { access: 'sources.manage' },
      schema: {
        tags,
        summary: 'Rename, enable/disable (a disabled source answers 401), or change settings',
        params: WsIdParams,
        body: Type.Object({
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          enabled: Type.Optional(Type.Boolean()),
          settings: Type.Optional(Settings),
        }),
        response: { 200: SourceSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return presentSource(await services.sources.update(workspace.id, request.params.id, request.body));
    },
  );

  app.post(
    '/api/v1/workspaces/:ws/sources/:id/rotate-key',
    {
      config: { access: 'sources.manage' },
      schema: {
        tags,
        summary: 'Replace the write key; the old key stops working at once',
        params: WsIdParams,
        response: { 200: SourceWithKey, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const { source, writeKey } = await services.sources.rotateKey(workspace.id, request.params.id);
      return { ...presentSource(source), writeKey };
    },
  );
}
