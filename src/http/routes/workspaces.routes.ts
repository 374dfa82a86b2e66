import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { principalOf, visibleWorkspaceIds, workspaceFor } from '../admin-auth.ts';
import { cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { presentWorkspace } from '../presenters.ts';
import { errorResponses, PageQuery, pageOf, WorkspaceSchema, WsParams } from '../schemas.ts';

export async function workspacesRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/workspaces',
    {
      config: { access: 'instance_owner' },
      schema: {
        tags: ['workspaces'],
        summary: 'Create a workspace (instance owner)',
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 200 }),
          slug: Type.Optional(Type.String({ maxLength: 48 })),
        }),
        response: { 201: WorkspaceSchema, ...errorResponses, 409: Type.Ref('Error') },
      },
    },
    async (request, reply) => {
      const workspace = await services.workspaces.create(request.body);
      return reply.code(201).send(presentWorkspace(workspace));
    },
  );

  app.get(
    '/api/v1/workspaces',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags: ['workspaces'],
        summary: 'List the workspaces the caller can see',
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(WorkspaceSchema), ...errorResponses },
      },
    },
    async (request) => {
      const visible = visibleWorkspaceIds(principalOf(request));
      if (visible !== 'all') {
        const own = await Promise.all(visible.map((id) => services.workspaces.get(id)));
        return { items: own.map(presentWorkspace), nextCursor: null };
      }
      const limit = pageSize(request.query.limit);
      const afterId = cursorString(decodeCursor(request.query.cursor), 'id');
      const rows = await services.workspaces.list({ limit: limit + 1, afterId });
      const page = toPage(rows, limit, (w) => ({ id: w.id }));
      return { items: page.items.map(presentWorkspace), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags: ['workspaces'],
        summary: 'Get a workspace by id or slug',
        params: WsParams,
        response: { 200: WorkspaceSchema, ...errorResponses },
      },
    },
    async (request) => presentWorkspace(await workspaceFor(request, services, request.params.ws)),
  );
}
