import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { maskString, PII_IDENTIFIER_TYPES } from '../../governance/pii-masking.ts';
import { PRIVACY_REQUEST_TYPES, type PrivacyRequest } from '../../privacy/privacy.port.ts';
import { piiAccess, principalOf, requirePermission, workspaceFor } from '../admin-auth.ts';
import { cursorNumber, cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { errorResponses, iso, PageQuery, pageOf, WsIdParams, WsParams } from '../schemas.ts';
import { actorLabel } from './actor-label.ts';

const RequestSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('running'),
    Type.Literal('completed'),
    Type.Literal('failed'),
  ]),
  identifier: Type.Object({ type: Type.String(), value: Type.Optional(Type.String()) }),
  requestedBy: Type.String(),
  createdAt: Type.String(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  result: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  exportUrl: Type.Optional(Type.String()),
});

/**
 * A request as the API shows it. The identifier's value is shown while the request waits or
 * runs (e-mail and phone masked without PII access); once it finished, only its type remains.
 */
function present(r: PrivacyRequest, ws: string, pii: boolean) {
  const shown =
    r.identifierValue === null
      ? undefined
      : pii || !(PII_IDENTIFIER_TYPES as readonly string[]).includes(r.identifierType)
        ? r.identifierValue
        : maskString(r.identifierValue);
  return {
    id: r.id,
    type: r.type,
    status: r.status,
    identifier: { type: r.identifierType, ...(shown === undefined ? {} : { value: shown }) },
    requestedBy: r.requestedBy,
    createdAt: new Date(r.createdMs).toISOString(),
    startedAt: iso(r.startedMs),
    finishedAt: iso(r.finishedMs),
    attempts: r.attempts,
    result: r.result,
    error: r.error,
    ...(r.type === 'export' && r.status === 'completed'
      ? { exportUrl: `/api/v1/workspaces/${ws}/privacy-requests/${r.id}/export` }
      : {}),
  };
}

/** Privacy requests (contract §3): asynchronous, with status, timestamps and an audit entry. */
export async function privacyRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['privacy'];
  const requests = services.privacyRequests;

  app.post(
    '/api/v1/workspaces/:ws/privacy-requests',
    {
      config: { access: 'privacy.manage' },
      schema: {
        tags,
        summary:
          'Ask for an export, an erasure, a suppression with erasure, or the end of a suppression, of the person an identifier belongs to',
        params: WsParams,
        body: Type.Object(
          {
            type: Type.Union(PRIVACY_REQUEST_TYPES.map((t) => Type.Literal(t))),
            identifier: Type.Object({
              type: Type.String({ minLength: 1, maxLength: 64 }),
              value: Type.String({ minLength: 1, maxLength: 4096 }),
            }),
          },
          { additionalProperties: false },
        ),
        response: { 202: RequestSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const created = await requests.create(workspace.id, request.body, actorLabel(principalOf(request)));
      request.auditNote = { requestId: created.id, type: created.type };
      const pii = await piiAccess(request, services);
      return reply.code(202).send(present(created, request.params.ws, pii));
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/privacy-requests',
    {
      config: { access: 'privacy.manage' },
      schema: {
        tags,
        summary: 'Privacy requests of the workspace, newest first',
        params: WsParams,
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(RequestSchema), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const cursor = decodeCursor(request.query.cursor);
      const before =
        cursor === undefined
          ? undefined
          : { createdMs: cursorNumber(cursor, 't') ?? 0, id: cursorString(cursor, 'id') ?? '' };
      const rows = await requests.list(workspace.id, { before, limit: limit + 1 });
      const page = toPage(rows, limit, (r) => ({ t: r.createdMs, id: r.id }));
      const pii = page.items.some((r) => r.identifierValue !== null) && (await piiAccess(request, services));
      return {
        items: page.items.map((r) => present(r, request.params.ws, pii)),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/privacy-requests/:id',
    {
      config: { access: 'privacy.manage' },
      schema: {
        tags,
        summary: 'A privacy request: status (pending, running, completed, failed), timestamps, result',
        params: WsIdParams,
        response: { 200: RequestSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const found = await requests.get(workspace.id, request.params.id);
      const pii = found.identifierValue !== null && (await piiAccess(request, services));
      return present(found, request.params.ws, pii);
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/privacy-requests/:id/export',
    {
      config: { access: 'privacy.manage' },
      schema: {
        tags,
        summary:
          "A completed export's JSON document: everything stored about the person (needs PII access too; the read is audited)",
        params: WsIdParams,
        response: { ...errorResponses, 409: Type.Ref('Error'), 410: Type.Ref('Error') },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      requirePermission(request, 'events.read_pii');
      const document = await requests.exportDocument(workspace.id, request.params.id);
      await piiAccess(request, services);
      return reply
        .type('application/json; charset=utf-8')
        .header(
          'Content-Disposition',
          `attachment; filename="${request.params.id.replace(/[^\w-]/g, '')}.json"`,
        )
        .header('Cache-Control', 'no-store')
        .send(document);
    },
  );
}
