import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { PII_IDENTIFIER_TYPES } from '../../governance/pii-masking.ts';
import { piiAccess, principalOf, workspaceFor } from '../admin-auth.ts';
import { cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { presentRebuild, presentUnlinked } from '../presenters.ts';
import { errorResponses, PageQuery, pageOf, WsIdParams, WsParams } from '../schemas.ts';

/**
 * Maintaining the identity graph: its data quality, unmerging a profile (unlinking an
 * identifier) and undoing it, and rebuilding every profile from the log.
 */
const IdentifierBody = Type.Object({
  type: Type.String({ minLength: 1, maxLength: 64 }),
  value: Type.String({ minLength: 1, maxLength: 4096 }),
});
const UnmergeSchema = Type.Object({
  profileId: Type.String(),
  resolvesTo: Type.Union([Type.String(), Type.Null()]),
  profiles: Type.Array(Type.String()),
  deletedProfiles: Type.Array(Type.String()),
});
const UnlinkedSchema = Type.Object({
  type: Type.String(),
  value: Type.String(),
  /** The profile it was unlinked from (since split, merged or deleted, maybe). */
  profileId: Type.String(),
  actor: Type.String(),
  at: Type.String({ format: 'date-time' }),
});
const RelinkSchema = Type.Object({
  identifier: Type.Object({ type: Type.String(), value: Type.String() }),
  /** False when no stored state held it any more (a rebuild ran since): only later events link it. */
  reresolved: Type.Boolean(),
  profiles: Type.Array(Type.String()),
});
const RebuildSchema = Type.Object({
  status: Type.Union([
    Type.Literal('clearing'),
    Type.Literal('replaying'),
    Type.Literal('pruning'),
    Type.Literal('done'),
  ]),
  /** Events applied, of what the log held at the start (more arrive meanwhile). */
  done: Type.Integer(),
  total: Type.Integer(),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export async function identityRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['profiles'];
  const profiles = services.profiles;

  app.get(
    '/api/v1/workspaces/:ws/identity/quality',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary:
          'Data quality of identity: identifiers rejected or demoted and traits dropped, counted by reason',
        params: WsParams,
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({ kind: Type.String(), reason: Type.String(), count: Type.Integer() }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return { items: await profiles.quality(workspace.id) };
    },
  );

  app.post(
    '/api/v1/workspaces/:ws/profiles/:id/unmerge',
    {
      config: { access: 'identity.manage' },
      schema: {
        tags,
        summary:
          'Unlink an identifier from a profile: it links nothing again (until DELETE /identity/unlinked undoes it); the profile splits along the remaining graph, the side holding the event that created it keeping its id',
        description:
          '`resolvesTo` is where the profile id answers now: itself, the profile it was folded into, or null when no profile is left (the identifier was the only one of its events: they belong to no profile, listed in `deletedProfiles`, and `profiles` is empty).',
        params: WsIdParams,
        body: Type.Object({ identifier: IdentifierBody }),
        response: { 200: UnmergeSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const principal = principalOf(request);
      const actor =
        principal.kind === 'user'
          ? `user:${principal.userId}`
          : principal.kind === 'instance_owner'
            ? `instance:${principal.tokenId}`
            : `token:${principal.tokenId}`;
      return profiles.unlink(workspace.id, request.params.id, request.body.identifier, actor);
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/identity/unlinked',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'Identifiers an unmerge unlinked: they link nothing until the unlink is undone',
        params: WsParams,
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(UnlinkedSchema), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const afterKey = cursorString(decodeCursor(request.query.cursor), 'k');
      const pii = await piiAccess(request, services);
      const rows = await profiles.unlinked(workspace.id, limit + 1, afterKey, { pii });
      const page = toPage(rows, limit, (u) => ({ k: u.key }));
      return { items: page.items.map(presentUnlinked), nextCursor: page.nextCursor };
    },
  );

  app.delete(
    '/api/v1/workspaces/:ws/identity/unlinked',
    {
      config: { access: 'identity.manage' },
      schema: {
        tags,
        summary:
          'Undo an unlink: the identifier links again; the profiles its unmerge split merge back (audited)',
        description:
          'The identifier is named in the query, as for /profiles/lookup (a path segment would cap its length). The component it was unlinked from is re-resolved at once; events no profile holds (those of a profile the unmerge deleted, or that carried only this identifier since) link again through POST /profiles/rebuild; later events link it anyway.',
        params: WsParams,
        querystring: IdentifierBody,
        response: { 200: RelinkSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const { type, value } = request.query;
      // The value only for types that are not personal data: the audit log is no copy of PII.
      request.auditNote = (PII_IDENTIFIER_TYPES as readonly string[]).includes(type)
        ? { identifierType: type }
        : { identifierType: type, identifier: value.slice(0, 256) };
      return profiles.relink(workspace.id, { type, value });
    },
  );

  app.post(
    '/api/v1/workspaces/:ws/profiles/rebuild',
    {
      config: { access: 'identity.manage' },
      schema: {
        tags,
        summary:
          "Rebuild every profile from the workspace's event log (after changing identity settings): starts it, or starts it over, in the background; GET follows it",
        params: WsParams,
        response: { 202: RebuildSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return reply.code(202).send(presentRebuild(await profiles.startRebuild(workspace.id)));
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/profiles/rebuild',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: "How far the workspace's latest profile rebuild is",
        params: WsParams,
        response: { 200: RebuildSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return presentRebuild(await profiles.rebuildProgress(workspace.id));
    },
  );
}
