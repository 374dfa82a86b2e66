import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { principalOf, workspaceFor } from '../admin-auth.ts';
import { principalCan } from '../../governance/permissions.ts';
import { piiPolicy } from '../../governance/pii-masking.ts';
import { cursorNumber, cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { iso } from '../schemas.ts';
import { presentSegment, presentWarning, SegmentSchema, WarningSchema } from '../segment-presenters.ts';
import { errorResponses, PageQuery, pageOf, WsParams } from '../schemas.ts';

const SlugParams = Type.Object({
  ws: Type.String({ minLength: 1, maxLength: 200 }),
  slug: Type.String({ minLength: 1, maxLength: 200 }),
});
/** A definition's own limit (64 KB of UTF-8) is checked by the parser, with its own error code. */
const Definition = Type.String({ maxLength: 65_536 });
const Description = Type.String({ maxLength: 2000 });
const withWarnings = Type.Intersect([SegmentSchema, Type.Object({ warnings: Type.Array(WarningSchema) })]);
const conflict = { 409: Type.Ref('Error') };

/**
 * Segments (contract §3): CRUD, size, members, preview of a draft, membership history of a
 * profile. A definition that does not parse or validate answers 400 with the language's code,
 * `line`, `column` and `expected` (docs/ERRORS.md).
 */
export async function segmentsRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['segments'];
  const segments = services.segments;

  app.post(
    '/api/v1/workspaces/:ws/segments',
    {
      config: { access: 'segments.manage' },
      schema: {
        tags,
        summary: 'Create a segment; its members are computed in the background (see status and backfill)',
        params: WsParams,
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 200 }),
          slug: Type.String({ minLength: 1, maxLength: 64 }),
          definition: Definition,
          description: Type.Optional(Description),
        }),
        response: { 201: withWarnings, ...errorResponses, ...conflict },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const { segment, warnings } = await segments.create(workspace.id, request.body);
      return reply.code(201).send({ ...presentSegment(segment, 0), warnings: warnings.map(presentWarning) });
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/segments',
    {
      config: { access: 'segments.read' },
      schema: {
        tags,
        summary: 'List segments by slug, with their size',
        params: WsParams,
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(SegmentSchema), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const afterSlug = cursorString(decodeCursor(request.query.cursor), 'slug');
      const page = toPage(await segments.list(workspace.id, { afterSlug, limit: limit + 1 }), limit, (s) => ({
        slug: s.slug,
      }));
      const items = [];
      for (const segment of page.items) items.push(presentSegment(segment, await segments.size(segment)));
      return { items, nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/v1/workspaces/:ws/segments/preview',
    {
      config: { access: 'segments.read' },
      schema: {
        tags,
        summary: 'Size and first members of a draft definition, now; nothing is saved',
        params: WsParams,
        body: Type.Object({
          definition: Definition,
          sampleSize: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
        }),
        response: {
          200: Type.Object({
            size: Type.Integer(),
            sample: Type.Array(Type.Object({ id: Type.String() })),
            warnings: Type.Array(WarningSchema),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      // A draft's size answers questions about personal values (how many e-mails start with
      // "a"?): without PII access, conditions on personal traits are refused.
      const policy = principalCan(principalOf(request), 'events.read_pii', workspace.id)
        ? undefined
        : piiPolicy((await services.profileSettings.privacy(workspace.id)).piiTraits);
      const personalTrait = policy && ((name: string) => policy.isPiiTrait(name));
      const preview = await segments.preview(
        workspace.id,
        request.body.definition,
        request.body.sampleSize ?? 10,
        personalTrait,
      );
      return {
        size: preview.size,
        sample: preview.sample.map((id) => ({ id })),
        warnings: preview.warnings.map(presentWarning),
      };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/segments/:slug',
    {
      config: { access: 'segments.read' },
      schema: {
        tags,
        summary: 'A segment with its size and backfill progress',
        params: SlugParams,
        response: { 200: SegmentSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const segment = await segments.get(workspace.id, request.params.slug);
      return presentSegment(segment, await segments.size(segment));
    },
  );

  app.patch(
    '/api/v1/workspaces/:ws/segments/:slug',
    {
      config: { access: 'segments.manage' },
      schema: {
        tags,
        summary: 'Rename, describe or redefine a segment (a new definition is backfilled again)',
        params: SlugParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            description: Type.Optional(Description),
            definition: Type.Optional(Definition),
          },
          { additionalProperties: false },
        ),
        response: { 200: withWarnings, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const { segment, warnings } = await segments.update(workspace.id, request.params.slug, request.body);
      return {
        ...presentSegment(segment, await segments.size(segment)),
        warnings: warnings.map(presentWarning),
      };
    },
  );

  app.delete(
    '/api/v1/workspaces/:ws/segments/:slug',
    {
      config: { access: 'segments.manage' },
      schema: {
        tags,
        summary: 'Delete a segment and its memberships (refused while other segments use it)',
        params: SlugParams,
        response: { 204: Type.Null(), ...errorResponses, ...conflict },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      await segments.delete(workspace.id, request.params.slug);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/segments/:slug/members',
    {
      config: { access: 'segments.read' },
      schema: {
        tags,
        summary: 'Members by profile id (GET …/profiles/{id} for a profile)',
        params: SlugParams,
        querystring: Type.Object(PageQuery),
        response: {
          200: pageOf(Type.Object({ id: Type.String(), enteredAt: Type.String() })),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const afterProfileId = cursorString(decodeCursor(request.query.cursor), 'id');
      const rows = await segments.members(workspace.id, request.params.slug, {
        afterProfileId,
        limit: limit + 1,
      });
      const page = toPage(rows, limit, (m) => ({ id: m.profileId }));
      return {
        items: page.items.map((m) => ({ id: m.profileId, enteredAt: new Date(m.enteredMs).toISOString() })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/segments/:slug/size-history',
    {
      config: { access: 'segments.read' },
      schema: {
        tags,
        summary:
          'Size over time: for each hour or day (UTC) in which members entered or left, the size at its end',
        params: SlugParams,
        querystring: Type.Object({
          interval: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('day')])),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                at: Type.String(),
                size: Type.Integer(),
                entered: Type.Integer(),
                exited: Type.Integer(),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const bucketMs = request.query.interval === 'hour' ? 3_600_000 : 86_400_000;
      const points = await segments.sizeHistory(workspace.id, request.params.slug, bucketMs);
      return {
        items: points.map((p) => ({
          at: iso(p.atMs) as string,
          size: p.size,
          entered: p.entered,
          exited: p.exited,
        })),
      };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/profiles/:id/segment-history',
    {
      config: { access: 'segments.read' },
      schema: {
        tags,
        summary: "A profile's segment entries and exits, newest first",
        params: Type.Object({
          ws: Type.String({ minLength: 1, maxLength: 200 }),
          id: Type.String({ minLength: 1, maxLength: 200 }),
        }),
        querystring: Type.Object(PageQuery),
        response: {
          200: pageOf(
            Type.Object({
              segmentId: Type.String(),
              slug: Type.Union([Type.String(), Type.Null()]),
              change: Type.String(),
              at: Type.String(),
            }),
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const beforeSeq = cursorNumber(decodeCursor(request.query.cursor), 'seq');
      const rows = await segments.history(workspace.id, request.params.id, { beforeSeq, limit: limit + 1 });
      const page = toPage(rows, limit, (h) => ({ seq: h.seq }));
      const slugs = new Map(
        (await segments.list(workspace.id, { limit: 10_000 })).map((s) => [s.id, s.slug] as const),
      );
      return {
        items: page.items.map((h) => ({
          segmentId: h.segmentId,
          slug: slugs.get(h.segmentId) ?? null,
          change: h.change,
          at: iso(h.atMs) as string,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
}
