import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { AppError } from '../../errors/app-error.ts';
import { MESSAGE_TYPES } from '../../ingestion/message-types.ts';
import { auditRead, holdsPiiAccess, piiAccess, whileAuditingRead, workspaceFor } from '../admin-auth.ts';
import { cursorNumber, cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { presentEvent } from '../presenters.ts';
import type { TraitHistoryQuery } from '../../profiles/profile-query.port.ts';
import { errorResponses, PageQuery, pageOf, WsIdParams, WsParams } from '../schemas.ts';

const AnyObject = Type.Object({}, { additionalProperties: true });
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
        if (!holdsPiiAccess(request)) return profiles.lookup(workspace.id, type, value, { pii: false });
        return whileAuditingRead(request, services, () =>
          profiles.lookup(workspace.id, type, value, { pii: true }),
        );
      }
      const pii = holdsPiiAccess(request);
      let owner: string;
      try {
        owner = await profiles.ownerOf(workspace.id, type, value);
      } catch (error) {
        request.auditNote = { identifierType: type, result: 'none' };
        await auditRead(request, services);
        throw error;
      }
      request.auditNote = { identifierType: type, profileId: owner };
      return whileAuditingRead(request, services, () => profiles.get(workspace.id, owner, { pii }));
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
