import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import type { AuditEntry } from '../../governance/audit-log.ts';
import { workspaceFor } from '../admin-auth.ts';
import { cursorNumber, decodeCursor, pageSize, toPage, type PageOf } from '../paging.ts';
import { errorResponses, PageQuery, pageOf, WsParams } from '../schemas.ts';

const AuditEntrySchema = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  actor: Type.Object({
    kind: Type.String(),
    tokenId: Type.Union([Type.String(), Type.Null()]),
    role: Type.Union([Type.String(), Type.Null()]),
    userId: Type.Optional(Type.String()),
  }),
  action: Type.String(),
  target: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  details: Type.Object({}, { additionalProperties: true }),
  hash: Type.String(),
});

const presentEntry = (e: AuditEntry) => ({
  seq: e.seq,
  at: new Date(e.atMs).toISOString(),
  actor: e.actor,
  action: e.action,
  target: e.target,
  ip: e.ip,
  details: { ...e.details },
  hash: e.hash,
});

async function auditPage(
  services: AppServices,
  workspaceId: string | null,
  query: { limit?: number | undefined; cursor?: string | undefined },
): Promise<PageOf<ReturnType<typeof presentEntry>>> {
  const limit = pageSize(query.limit);
  const beforeSeq = cursorNumber(decodeCursor(query.cursor), 'seq');
  const page = toPage(
    await services.audit.list(workspaceId, { beforeSeq, limit: limit + 1 }),
    limit,
    (e) => ({
      seq: e.seq,
    }),
  );
  return { items: page.items.map(presentEntry), nextCursor: page.nextCursor };
}

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
      return auditPage(services, workspace.id, request.query);
    },
  );

  app.get(
    '/api/v1/audit-log',
    {
      config: { access: 'instance_owner' },
      schema: {
        tags: ['audit'],
        summary:
          'Instance-level entries (sign-ins and their failures, setup, console users, workspaces), newest first (instance owner)',
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(AuditEntrySchema), ...errorResponses },
      },
    },
    async (request) => auditPage(services, null, request.query),
  );
}
