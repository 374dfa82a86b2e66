import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { requirePermission, workspaceFor } from '../admin-auth.ts';
import { cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { presentToken } from '../presenters.ts';
import { errorResponses, PageQuery, pageOf, TokenSchema, WsIdParams, WsParams } from '../schemas.ts';

const TokenWithSecret = Type.Intersect([TokenSchema, Type.Object({ token: Type.String() })]);

export async function tokensRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['tokens'];

  app.post(
    '/api/v1/workspaces/:ws/tokens',
    {
      config: { access: 'tokens.manage' },
      schema: {
        tags,
        summary: 'Mint an API token for the workspace; the answer holds the token, shown this once',
        params: WsParams,
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), role: Type.String() }),
        response: { 201: TokenWithSecret, ...errorResponses },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      if (request.body.role === 'owner') requirePermission(request, 'tokens.mint_owner');
      const { token, secret } = await services.tokens.create(workspace.id, request.body);
      return reply.code(201).send({ ...presentToken(token), token: secret });
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/tokens',
    {
      config: { access: 'tokens.read' },
      schema: {
        tags,
        summary: 'List tokens (never their secrets)',
        params: WsParams,
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(TokenSchema), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const afterId = cursorString(decodeCursor(request.query.cursor), 'id');
      const page = toPage(
        await services.tokens.list(workspace.id, { limit: limit + 1, afterId }),
        limit,
        (t) => ({ id: t.id }),
      );
      return { items: page.items.map(presentToken), nextCursor: page.nextCursor };
    },
  );

  app.delete(
    '/api/v1/workspaces/:ws/tokens/:id',
    {
      config: { access: 'tokens.manage' },
      schema: {
        tags,
        summary: 'Revoke a token',
        params: WsIdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      await services.tokens.revoke(workspace.id, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
