import { Type } from 'typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { DELIVERY_STATUSES } from '../../destinations/destination-types.ts';
import { principalCan } from '../../governance/permissions.ts';
import { principalOf, workspaceFor } from '../admin-auth.ts';
import {
  DeliverySchema,
  DestinationSchema,
  presentDelivery,
  presentDestination,
  presentTestOutcome,
  TestOutcomeSchema,
} from '../destination-presenters.ts';
import { cursorNumber, cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { errorResponses, PageQuery, pageOf, WsIdParams, WsParams } from '../schemas.ts';

/** Checked by the service, which lists every problem (and the filter's line and column). */
const Definition = Type.Unknown();

/** Destinations (contract §3): webhooks that receive events under the person's consent. */
export async function destinationsRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['destinations'];
  const destinations = services.destinations;
  const fullUrl = (request: FastifyRequest, workspaceId: string): boolean =>
    principalCan(principalOf(request), 'destinations.manage', workspaceId);

  app.post(
    '/api/v1/workspaces/:ws/destinations',
    {
      config: { access: 'destinations.manage' },
      schema: {
        tags,
        summary: 'Create a destination; the signing secret (given or generated) is shown this once',
        params: WsParams,
        body: Definition,
        response: { 201: DestinationSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const { destination, secret } = await destinations.create(workspace.id, request.body);
      request.auditNote = { destinationId: destination.id };
      return reply.code(201).send(presentDestination(destination, { fullUrl: true, secret }));
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/destinations',
    {
      config: { access: 'destinations.read' },
      schema: {
        tags,
        summary: 'List destinations',
        params: WsParams,
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(DestinationSchema), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const afterId = cursorString(decodeCursor(request.query.cursor), 'id');
      const page = toPage(
        await destinations.list(workspace.id, { afterId, limit: limit + 1 }),
        limit,
        (d) => ({
          id: d.id,
        }),
      );
      const full = fullUrl(request, workspace.id);
      return {
        items: page.items.map((d) => presentDestination(d, { fullUrl: full })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/destinations/:id',
    {
      config: { access: 'destinations.read' },
      schema: {
        tags,
        summary: 'A destination with its delivery counts (queued, delivered, failed, dropped)',
        params: WsIdParams,
        response: { 200: DestinationSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const { destination, counts } = await destinations.get(workspace.id, request.params.id);
      return presentDestination(destination, { fullUrl: fullUrl(request, workspace.id), counts });
    },
  );

  app.patch(
    '/api/v1/workspaces/:ws/destinations/:id',
    {
      config: { access: 'destinations.manage' },
      schema: {
        tags,
        summary: 'Change a destination (name, config, filter, segments, consent categories, enabled)',
        params: WsIdParams,
        body: Definition,
        response: { 200: DestinationSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const { destination, secret } = await destinations.update(
        workspace.id,
        request.params.id,
        request.body,
      );
      return presentDestination(destination, { fullUrl: true, secret });
    },
  );

  app.delete(
    '/api/v1/workspaces/:ws/destinations/:id',
    {
      config: { access: 'destinations.manage' },
      schema: {
        tags,
        summary: 'Delete a destination and what it has not delivered yet',
        params: WsIdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      await destinations.delete(workspace.id, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/destinations/:id/deliveries',
    {
      config: { access: 'destinations.read' },
      schema: {
        tags,
        summary: "A destination's deliveries, newest first (status=failed: its failed-delivery list)",
        params: WsIdParams,
        querystring: Type.Object({
          ...PageQuery,
          status: Type.Optional(Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s)))),
        }),
        response: { 200: pageOf(DeliverySchema), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const beforeId = cursorNumber(decodeCursor(request.query.cursor), 'id');
      const page = toPage(
        await destinations.deliveries(workspace.id, request.params.id, {
          status: request.query.status,
          beforeId,
          limit: limit + 1,
        }),
        limit,
        (d) => ({ id: d.id }),
      );
      return { items: page.items.map(presentDelivery), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/v1/workspaces/:ws/destinations/:id/deliveries/retry',
    {
      config: { access: 'destinations.manage' },
      schema: {
        tags,
        summary: 'Queue failed deliveries again (all of them, or the ids given)',
        params: WsIdParams,
        body: Type.Object(
          { ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 1000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ requeued: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return { requeued: await destinations.retry(workspace.id, request.params.id, request.body.ids) };
    },
  );

  app.post(
    '/api/v1/workspaces/:ws/destinations/:id/test',
    {
      config: { access: 'destinations.manage' },
      schema: {
        tags,
        summary: 'Send one signed sample event now and tell what the receiver answered (nothing is stored)',
        params: WsIdParams,
        response: { 200: TestOutcomeSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return presentTestOutcome(await destinations.test(workspace.id, request.params.id));
    },
  );
}
