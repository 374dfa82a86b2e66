import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { AppError } from '../../errors/app-error.ts';
import { PII_IDENTIFIER_TYPES } from '../../governance/pii-masking.ts';
import { MESSAGE_TYPES } from '../../ingestion/message-types.ts';
import { auditRead, holdsPiiAccess, piiAccess, principalOf, workspaceFor } from '../admin-auth.ts';
import { cursorNumber, cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { presentEvent, presentRebuild, presentUnlinked } from '../presenters.ts';
import type { TraitHistoryQuery } from '../../profiles/profile-query.port.ts';
import { errorResponses, PageQuery, pageOf, WsIdParams, WsParams } from '../schemas.ts';

const AnyObject = Type.Object({}, { additionalProperties: true });
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

const TRAIT_FILTER = /^traits\.([A-Za-z0-9_$ -][A-Za-z0-9_.$ -]{0,127})$/;
const MAX_TRAIT_FILTERS = 10;

/** `traits.age=30` matches the number 30, `traits.vip=true` a boolean; `"30"` (quoted) the string. */
function filterValue(raw: string): string | number | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(raw) && Number.isFinite(Number(raw))) return Number(raw);
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1);
  return raw;
}

function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new AppError('request.invalid_body', `${name} must be an ISO 8601 date-time`);
  return ms;
}

/** `{t, seq, trait}`: a total order (one event sets several traits at one timestamp). */
function traitCursor(raw: string | undefined): TraitHistoryQuery['before'] {
  const cursor = decodeCursor(raw);
  if (cursor === undefined) return undefined;
  const tsMs = cursorNumber(cursor, 't') ?? 0;
  // A cursor handed out before seq and trait were added pages by timestamp alone.
  if (!('seq' in cursor)) return { tsMs };
  return { tsMs, seq: cursorNumber(cursor, 'seq') ?? 0, trait: cursorString(cursor, 'trait') ?? '' };
}

export async function profilesRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['profiles'];
  const profiles = services.profiles;

  app.get(
    '/api/v1/workspaces/:ws/profiles/lookup',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'The profile holding an identifier (any type: user_id, anonymous_id, email, phone, custom)',
        params: WsParams,
        querystring: Type.Object({
          type: Type.String({ minLength: 1, maxLength: 64 }),
          value: Type.String({ minLength: 1, maxLength: 4096 }),
        }),
        response: { 200: AnyObject, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const { type, value } = request.query;
      // Looking a person up by their e-mail or phone tells whether they are here, even to a
      // caller who sees the profile masked: such lookups are audited for every role, found or
      // not, with the profile found (never the value). Other lookups as any PII read.
      if (!(await profiles.isPersonalIdentifierType(workspace.id, type))) {
        const pii = await piiAccess(request, services);
        return profiles.lookup(workspace.id, type, value, { pii });
      }
      const pii = holdsPiiAccess(request);
      let found = '';
      try {
        const view = await profiles.lookup(workspace.id, type, value, { pii });
        found = view.id;
        return view;
      } finally {
        request.auditNote =
          found === ''
            ? { identifierType: type, result: 'none' }
            : { identifierType: type, profileId: found };
        await auditRead(request, services);
      }
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/profiles',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'List or search profiles: by identifier prefix, by trait values (traits.<name>=<value>)',
        params: WsParams,
        querystring: Type.Object(
          {
            kind: Type.Optional(Type.Union([Type.Literal('person'), Type.Literal('account')])),
            identifier: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
            identifierType: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            ...PageQuery,
          },
          { additionalProperties: Type.String({ maxLength: 1024 }) },
        ),
        response: { 200: pageOf(AnyObject), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const query = request.query as Record<string, string | number | undefined>;
      const traitEquals: [string, string | number | boolean][] = [];
      for (const [key, value] of Object.entries(query)) {
        if (['kind', 'identifier', 'identifierType', 'limit', 'cursor'].includes(key)) continue;
        const match = TRAIT_FILTER.exec(key);
        if (!match?.[1] || typeof value !== 'string')
          throw new AppError(
            'request.invalid_body',
            `unknown filter "${key.slice(0, 64)}" (use traits.<name>=<value>)`,
          );
        traitEquals.push([match[1], filterValue(value)]);
      }
      if (traitEquals.length > MAX_TRAIT_FILTERS)
        throw new AppError('request.invalid_body', `at most ${MAX_TRAIT_FILTERS} trait filters`);
      const limit = pageSize(request.query.limit);
      const afterId = cursorString(decodeCursor(request.query.cursor), 'id');
      const pii = await piiAccess(request, services);
      const rows = await profiles.list(
        workspace.id,
        {
          kind: request.query.kind ?? 'person',
          limit: limit + 1,
          afterId,
          identifierPrefix: request.query.identifier,
          identifierType: request.query.identifierType,
          traitEquals,
        },
        { pii },
      );
      return toPage(rows, limit, (p) => ({ id: p.id }));
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/profiles/:id',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'A profile by id (a merged id answers with the profile it was merged into)',
        params: WsIdParams,
        response: { 200: AnyObject, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const pii = await piiAccess(request, services);
      return profiles.get(workspace.id, request.params.id, { pii });
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/profiles/:id/events',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: "The profile's timeline, newest first (anonymous history included)",
        params: WsIdParams,
        querystring: Type.Object({
          type: Type.Optional(Type.Union(MESSAGE_TYPES.map((t) => Type.Literal(t)))),
          event: Type.Optional(Type.String({ maxLength: 500 })),
          since: Type.Optional(Type.String({ maxLength: 64 })),
          until: Type.Optional(Type.String({ maxLength: 64 })),
          ...PageQuery,
        }),
        response: { 200: pageOf(AnyObject), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const cursor = decodeCursor(request.query.cursor);
      const before =
        cursor === undefined
          ? undefined
          : { tsMs: cursorNumber(cursor, 't') ?? 0, seq: cursorNumber(cursor, 'seq') ?? 0 };
      const pii = await piiAccess(request, services);
      const rows = await profiles.timeline(
        workspace.id,
        request.params.id,
        {
          type: request.query.type,
          event: request.query.event,
          sinceMs: parseTime(request.query.since, 'since'),
          untilMs: parseTime(request.query.until, 'until'),
          before,
          limit: limit + 1,
        },
        { pii },
      );
      const page = toPage(rows, limit, (e) => ({ t: e.timestampMs, seq: e.seq }));
      return { items: page.items.map(presentEvent), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/profiles/:id/graph',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'Identity graph: identifiers with the event that linked each, merges, decisions',
        params: WsIdParams,
        response: { 200: AnyObject, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const pii = await piiAccess(request, services);
      return profiles.graph(workspace.id, request.params.id, { pii });
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/profiles/:id/traits/history',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'Every value a trait received, with its source and event, newest first',
        params: WsIdParams,
        querystring: Type.Object({ trait: Type.Optional(Type.String({ maxLength: 256 })), ...PageQuery }),
        response: { 200: pageOf(AnyObject), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const pii = await piiAccess(request, services);
      const rows = await profiles.traitHistory(
        workspace.id,
        request.params.id,
        { trait: request.query.trait, limit: limit + 1, before: traitCursor(request.query.cursor) },
        { pii },
      );
      const page = toPage(rows, limit, (o) => ({ t: o.tsMs, seq: o.seq, trait: o.trait }));
      return {
        items: page.items.map((o) => ({
          trait: o.trait,
          value: o.value,
          sourceId: o.sourceId,
          messageId: o.messageId,
          timestamp: new Date(o.tsMs).toISOString(),
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/accounts/:id/members',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags,
        summary: 'Profiles that belong to an account (from group calls)',
        params: WsIdParams,
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(AnyObject), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const afterId = cursorString(decodeCursor(request.query.cursor), 'id');
      const rows = await profiles.members(workspace.id, request.params.id, limit + 1, afterId);
      const page = toPage(rows, limit, (m) => ({ id: m.profileId }));
      return {
        items: page.items.map((m) => ({ profileId: m.profileId, since: new Date(m.tsMs).toISOString() })),
        nextCursor: page.nextCursor,
      };
    },
  );

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

  for (const [name, put] of [
    [
      'identity',
      (ws: string, body: unknown, now: number) => services.profileSettings.putIdentity(ws, body, now),
    ],
    [
      'profiles',
      (ws: string, body: unknown, now: number) => services.profileSettings.putProfiles(ws, body, now),
    ],
    [
      'privacy',
      (ws: string, body: unknown, now: number) => services.profileSettings.putPrivacy(ws, body, now),
    ],
  ] as const) {
    app.get(
      `/api/v1/workspaces/:ws/settings/${name}`,
      {
        config: { access: 'workspace.read' },
        schema: {
          tags: ['settings'],
          summary: `The workspace's ${name} settings`,
          params: WsParams,
          response: { 200: AnyObject, ...errorResponses },
        },
      },
      async (request) => {
        const workspace = await workspaceFor(request, services, request.params.ws);
        const settings = services.profileSettings;
        if (name === 'identity') return settings.identityInput(workspace.id);
        if (name === 'profiles') return settings.profiles(workspace.id);
        return settings.privacy(workspace.id);
      },
    );
    app.put(
      `/api/v1/workspaces/:ws/settings/${name}`,
      {
        config: { access: name === 'privacy' ? 'workspace.manage' : 'identity.manage' },
        schema: {
          tags: ['settings'],
          summary: `Replace the workspace's ${name} settings (validated; problems listed in the 400)`,
          params: WsParams,
          body: AnyObject,
          response: { 200: AnyObject, ...errorResponses },
        },
      },
      async (request) => {
        const workspace = await workspaceFor(request, services, request.params.ws);
        return put(workspace.id, request.body, services.clock.now());
      },
    );
  }
}
