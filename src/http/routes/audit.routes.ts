import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { workspaceFor } from '../admin-auth.ts';
import { cursorNumber, decodeCursor, pageSize, toPage } from '../paging.ts';
import { errorResponses, PageQuery, pageOf, WsParams } from '../schemas.ts';

const AuditEntrySchema = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  actor: Type.Object({
    kind: Type.String(),
    tokenId: Type.Union([Type.String(), Type.Null()]),
    role: Type.Union([Type.String(), Type.Null()]),
  }),
  action: Type.String(),
  target: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  details: Type.Object({}, { additionalProperties: true }),
  hash: Type.String(),
});

export async function auditRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/v1/workspaces/:ws/audit-log',
    {
      config: { access: 'audit.read' },
      schema: {
        tags: ['audit'],
        summary: 'Who did what, when, from where: newest first; tamper-evident (hash chain)',
        params: WsParams,
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(AuditEntrySchema), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const beforeSeq = cursorNumber(decodeCursor(request.query.cursor), 'seq');
      const page = toPage(
        await services.audit.list(workspace.id, { beforeSeq, limit: limit + 1 }),
        limit,
        (e) => ({ seq: e.seq }),
      );
      return {
        items: page.items.map((e) => ({
          seq: e.seq,
          at: new Date(e.atMs).toISOString(),
          actor: e.actor,
          action: e.action,
          target: e.target,
          ip: e.ip,
          details: { ...e.details },
          hash: e.hash,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
}
