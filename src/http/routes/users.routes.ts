import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from '../../app/app-services.ts';
import { isInstanceOwner } from '../../governance/permissions.ts';
import { ROLES } from '../../workspaces/workspace-types.ts';
import { principalOf, requirePermission, workspaceFor } from '../admin-auth.ts';
import { cursorString, decodeCursor, pageSize, toPage } from '../paging.ts';
import { presentMember, presentUser } from '../presenters.ts';
import {
  errorResponses,
  MemberSchema,
  PageQuery,
  pageOf,
  PiiAccessSchema,
  UserSchema,
  WsIdParams,
  WsParams,
} from '../schemas.ts';

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Email = Type.String({ minLength: 3, maxLength: 320 });
// Policy limits (12–1024 characters) are checked by the service with a precise message.
const Password = Type.String({ maxLength: 4096 });
const conflict = { 409: Type.Ref('Error') };

/**
 * Console users. Inside a workspace (`users.manage`: owners and admins) people are added,
 * given a role and a PII override, and removed; giving or touching the owner role needs
 * `users.grant_owner` (owners only), exactly like minting owner tokens. Instance-wide user
 * administration (instance owners, disabling anyone) is for the instance owner.
 */
export async function usersRoutes(fastify: FastifyInstance, services: AppServices): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['users'];

  app.post(
    '/api/v1/workspaces/:ws/users',
    {
      config: { access: 'users.manage' },
      schema: {
        tags,
        summary:
          'Add a console user to the workspace: a new user needs an initial password; an existing one is added without',
        params: WsParams,
        body: Type.Object({
          email: Email,
          role: RoleSchema,
          password: Type.Optional(Password),
          piiAccess: Type.Optional(PiiAccessSchema),
        }),
        response: { 201: MemberSchema, ...errorResponses, ...conflict },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      if (request.body.role === 'owner') requirePermission(request, 'users.grant_owner');
      const member = await services.users.addMember(workspace.id, {
        email: request.body.email,
        role: request.body.role,
        pii: request.body.piiAccess,
        password: request.body.password,
      });
      request.auditNote = { userId: member.user.id, role: member.membership.role };
      return reply.code(201).send(presentMember(member));
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/users',
    {
      config: { access: 'users.manage' },
      schema: {
        tags,
        summary: 'List the members of the workspace',
        params: WsParams,
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(MemberSchema), ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const limit = pageSize(request.query.limit);
      const afterId = cursorString(decodeCursor(request.query.cursor), 'id');
      const page = toPage(
        await services.users.listMembers(workspace.id, { limit: limit + 1, afterId }),
        limit,
        (m) => ({ id: m.user.id }),
      );
      return { items: page.items.map(presentMember), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/workspaces/:ws/users/:id',
    {
      config: { access: 'users.manage' },
      schema: {
        tags,
        summary: 'A member of the workspace',
        params: WsIdParams,
        response: { 200: MemberSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      return presentMember(await services.users.getMember(workspace.id, request.params.id));
    },
  );

  app.patch(
    '/api/v1/workspaces/:ws/users/:id',
    {
      config: { access: 'users.manage' },
      schema: {
        tags,
        summary:
          "Change a member's role or PII access; disable (or enable) a user who belongs to this workspace only",
        params: WsIdParams,
        body: Type.Object({
          role: Type.Optional(RoleSchema),
          piiAccess: Type.Optional(PiiAccessSchema),
          disabled: Type.Optional(Type.Boolean()),
        }),
        response: { 200: MemberSchema, ...errorResponses },
      },
    },
    async (request) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const current = await services.users.getMember(workspace.id, request.params.id);
      if (request.body.role === 'owner' || current.membership.role === 'owner')
        requirePermission(request, 'users.grant_owner');
      const member = await services.users.updateMember(
        workspace.id,
        request.params.id,
        { role: request.body.role, pii: request.body.piiAccess, disabled: request.body.disabled },
        { mayDisableAnyone: isInstanceOwner(principalOf(request)) },
      );
      request.auditNote = changesNote(request.body);
      return presentMember(member);
    },
  );

  app.delete(
    '/api/v1/workspaces/:ws/users/:id',
    {
      config: { access: 'users.manage' },
      schema: {
        tags,
        summary: 'Remove a member from the workspace; their sessions end at once',
        params: WsIdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceFor(request, services, request.params.ws);
      const current = await services.users.getMember(workspace.id, request.params.id);
      if (current.membership.role === 'owner') requirePermission(request, 'users.grant_owner');
      await services.users.removeMember(workspace.id, request.params.id);
      return reply.code(204).send(null);
    },
  );

  instanceUserRoutes(fastify, services);
}

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

function instanceUserRoutes(fastify: FastifyInstance, services: AppServices): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['users'];

  app.post(
    '/api/v1/users',
    {
      config: { access: 'instance_owner' },
      schema: {
        tags,
        summary: 'Create a console user (instance owner); memberships are added per workspace',
        body: Type.Object({ email: Email, password: Password, instanceOwner: Type.Optional(Type.Boolean()) }),
        response: { 201: UserSchema, ...errorResponses, ...conflict },
      },
    },
    async (request, reply) => {
      const user = await services.users.create(request.body);
      request.auditNote = { userId: user.id, instanceOwner: String(user.instanceOwner) };
      return reply.code(201).send(presentUser(user, []));
    },
  );

  app.get(
    '/api/v1/users',
    {
      config: { access: 'instance_owner' },
      schema: {
        tags,
        summary: 'List every console user with their memberships (instance owner)',
        querystring: Type.Object(PageQuery),
        response: { 200: pageOf(UserSchema), ...errorResponses },
      },
    },
    async (request) => {
      const limit = pageSize(request.query.limit);
      const afterId = cursorString(decodeCursor(request.query.cursor), 'id');
      const page = toPage(await services.users.list({ limit: limit + 1, afterId }), limit, (u) => ({
        id: u.id,
      }));
      const memberships = await services.users.membershipsOf(page.items.map((u) => u.id));
      return { items: page.items.map((u) => presentUser(u, memberships)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/users/:id',
    {
      config: { access: 'instance_owner' },
      schema: {
        tags,
        summary: 'A console user',
        params: IdParams,
        response: { 200: UserSchema, ...errorResponses },
      },
    },
    async (request) => {
      const user = await services.users.get(request.params.id);
      return presentUser(user, await services.users.membershipsOf([user.id]));
    },
  );

  app.patch(
    '/api/v1/users/:id',
    {
      config: { access: 'instance_owner' },
      schema: {
        tags,
        summary:
          'Disable or enable a user, make or unmake an instance owner, set a new password (instance owner); disabling or a new password ends their sessions',
        params: IdParams,
        body: Type.Object({
          disabled: Type.Optional(Type.Boolean()),
          instanceOwner: Type.Optional(Type.Boolean()),
          password: Type.Optional(Password),
        }),
        response: { 200: UserSchema, ...errorResponses },
      },
    },
    async (request) => {
      const user = await services.users.update(request.params.id, request.body);
      request.auditNote = changesNote(request.body);
      return presentUser(user, await services.users.membershipsOf([user.id]));
    },
  );
}

/** Which fields a change touched, with their new values, but never a password. */
function changesNote(body: Record<string, string | boolean | undefined>): Record<string, string> {
  const note: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value !== undefined) note[key] = key === 'password' ? '(changed)' : String(value);
  }
  return note;
}
