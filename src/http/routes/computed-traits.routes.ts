import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { workspaceFor } from '../admin-auth.ts';
import { cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { ComputedTraitSchema, presentComputedTrait } from '../segment-presenters.ts';
import { errorResponses, PageQuery, pageOf, WsParams } from '../schemas.ts';

const NameParams = Type.Object({
  ws: Type.String({ minLength: 1, maxLength: 200 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
});
/** Checked by the service, which lists every problem (field, message, line and column). */
const Definition = Type.Unknown();
const conflict = { 409: Type.Ref('Error') };

/** Computed traits: `computed.<name>` on profiles and in segment definitions. */
export async function computedTraitsRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['computed traits'];
  const traits = services.computedTraits;

  app.post(
    '/api/v1/workspaces/:ws/computed-traits',
    {
      config: { access: 'segments.manage' },
      schema: {
        tags,
        summary: 'Define a computed trait; values are computed for every profile in the background',
        params: WsParams,
        body: Type.Object({ name: Type.String({ maxLength: 200 }), definition: Definition }),
        response: { 201: ComputedTraitSchema, ...errorResponses, ...conflict },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return reply.code(201).send(presentComputedTrait(await traits.create(workspace.id, request.body)));
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/computed-traits',
    {
      config: { access: 'segments.read' },
      schema: {
        tags,
        summary: 'List computed traits by name',
        params: WsParams,
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(ComputedTraitSchema), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const afterName = cursorString(decodeCursor(request.query.cursor), 'name');
      const page = toPage(await traits.list(workspace.id, { afterName, limit: limit + 1 }), limit, (t) => ({
        name: t.name,
      }));
      return { items: page.items.map(presentComputedTrait), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/computed-traits/:name',
    {
      config: { access: 'segments.read' },
      schema: {
        tags,
        summary: 'A computed trait with its computation progress',
        params: NameParams,
        response: { 200: ComputedTraitSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return presentComputedTrait(await traits.get(workspace.id, request.params.name));
    },
  );

  app.patch(
    '/api/v1/workspaces/:ws/computed-traits/:name',
    {
      config: { access: 'segments.manage' },
      schema: {
        tags,
        summary: 'Redefine a computed trait (recomputed for every profile in the background)',
        params: NameParams,
        body: Type.Object({ definition: Definition }, { additionalProperties: false }),
        response: { 200: ComputedTraitSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return presentComputedTrait(
        await traits.redefine(workspace.id, request.params.name, request.body.definition),
      );
    },
  );

  app.delete(
    '/api/v1/workspaces/:ws/computed-traits/:name',
    {
      config: { access: 'segments.manage' },
      schema: {
        tags,
        summary: 'Delete a computed trait and its values (refused while segments read it)',
        params: NameParams,
        response: { 204: Type.Null(), ...errorResponses, ...conflict },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      await traits.delete(workspace.id, request.params.name);
      return reply.code(204).send(null);
    },
  );
}
