import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { principalOf, workspaceFor } from '../admin-auth.ts';
import { cursorNumber, decodeCursor, pageSize, toPage } from '../paging.ts';
import { errorResponses, PageQuery, pageOf, WsIdParams, WsParams } from '../schemas.ts';
import { actorLabel } from './actor-label.ts';

const AnyObject = Type.Object({}, { additionalProperties: true });
const ConsentSettingsSchema = Type.Object({
  categories: Type.Array(Type.String()),
  gpcOptOut: Type.Array(Type.String()),
});
const RetentionSettingsSchema = Type.Object({ eventsDays: Type.Union([Type.Integer(), Type.Null()]) });
const ConsentView = Type.Object({
  profileId: Type.String(),
  categories: Type.Array(Type.String()),
  consent: Type.Record(
    Type.String(),
    Type.Object({ granted: Type.Boolean(), source: Type.String(), timestamp: Type.String() }),
  ),
});
const HistoryItem = Type.Object({
  category: Type.String(),
  granted: Type.Boolean(),
  source: Type.String(),
  timestamp: Type.String(),
  messageId: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()]),
  recordedAt: Type.String(),
});

/** Consent per profile and the consent and retention settings of a workspace. */
export async function consentRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const consent = services.consent;

  app.get(
    '/api/v1/workspaces/:ws/settings/consent',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags: ['settings'],
        summary: 'Consent categories of the workspace, and those a Sec-GPC: 1 request refuses',
        params: WsParams,
        response: { 200: ConsentSettingsSchema, ...errorResponses },
      },
    },
    async (request) => consent.settings((await workspaceFor(request, services, request.params.ws)).id),
  );
  app.put(
    '/api/v1/workspaces/:ws/settings/consent',
    {
      config: { access: 'privacy.manage' },
      schema: {
        tags: ['settings'],
        summary:
          'Replace the consent categories (default necessary, analytics, marketing, advertising, personalization)',
        params: WsParams,
        body: AnyObject,
        response: { 200: ConsentSettingsSchema, ...errorResponses },
      },
    },
    async (request) =>
      consent.putSettings((await workspaceFor(request, services, request.params.ws)).id, request.body),
  );
  app.get(
    '/api/v1/workspaces/:ws/settings/retention',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags: ['settings'],
        summary: 'How many days events are kept after they were received (null: forever; default 730)',
        params: WsParams,
        response: { 200: RetentionSettingsSchema, ...errorResponses },
      },
    },
    async (request) =>
      services.retention.settings((await workspaceFor(request, services, request.params.ws)).id),
  );
  app.put(
    '/api/v1/workspaces/:ws/settings/retention',
    {
      config: { access: 'privacy.manage' },
      schema: {
        tags: ['settings'],
        summary: 'Set the retention of events: {"eventsDays": N} or {"eventsDays": null}',
        params: WsParams,
        body: AnyObject,
        response: { 200: RetentionSettingsSchema, ...errorResponses },
      },
    },
    async (request) =>
      services.retention.putSettings(
        (await workspaceFor(request, services, request.params.ws)).id,
        request.body,
      ),
  );

  app.get(
    '/api/v1/workspaces/:ws/profiles/:id/consent',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags: ['consent'],
        summary: "A profile's current consent per category, with where and when each value came from",
        params: WsIdParams,
        response: { 200: ConsentView, ...errorResponses },
      },
    },
    async (request) =>
      consent.get((await workspaceFor(request, services, request.params.ws)).id, request.params.id),
  );
  app.put(
    '/api/v1/workspaces/:ws/profiles/:id/consent',
    {
      config: { access: 'privacy.manage' },
      schema: {
        tags: ['consent'],
        summary:
          'Record consent given or refused outside events (preference center, import); the latest timestamp wins',
        params: WsIdParams,
        body: Type.Object(
          {
            categoryPreferences: Type.Record(Type.String({ maxLength: 64 }), Type.Boolean()),
            source: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            timestamp: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ConsentView, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return consent.put(workspace.id, request.params.id, request.body, actorLabel(principalOf(request)));
    },
  );
  app.get(
    '/api/v1/workspaces/:ws/profiles/:id/consent/history',
    {
      config: { access: 'workspace.read' },
      schema: {
        tags: ['consent'],
        summary: 'Every consent value the profile received (events, GPC, API), newest first',
        params: WsIdParams,
        querystring: Type.Object({ category: Type.Optional(Type.String({ maxLength: 64 })), ...PageQuery }),
        response: { 200: pageOf(HistoryItem), ...errorResponses },
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
      const rows = await consent.history(workspace.id, request.params.id, {
        category: request.query.category,
        before,
        limit: limit + 1,
      });
      const page = toPage(rows, limit, (r) => ({ t: r.tsMs, seq: r.seq }));
      return {
        items: page.items.map(({ seq: _seq, tsMs: _tsMs, ...item }) => item),
        nextCursor: page.nextCursor,
      };
    },
  );
}
