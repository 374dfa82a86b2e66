import { Type, type TSchema } from 'typebox';

export const ErrorSchema = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: true }) },
  { $id: 'Error' },
);

export const WsParams = Type.Object({ ws: Type.String({ minLength: 1, maxLength: 200 }) });
export const WsIdParams = Type.Object({
  ws: Type.String({ minLength: 1, maxLength: 200 }),
  id: Type.String({ minLength: 1, maxLength: 200 }),
});
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  cursor: Type.Optional(Type.String({ maxLength: 2000 })),
};

export const pageOf = (item: TSchema) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export const errorResponses = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
};

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const WorkspaceSchema = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
});

export const SourceSchema = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  name: Type.String(),
  type: Type.String(),
  writeKeyPrefix: Type.String(),
  settings: Type.Object({ captureIp: Type.Boolean() }),
  enabled: Type.Boolean(),
  createdAt: Type.String(),
  keyRotatedAt: Type.Union([Type.String(), Type.Null()]),
});

export const TokenSchema = Type.Object({
  id: Type.String(),
  workspaceId: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  role: Type.String(),
  tokenPrefix: Type.String(),
  createdAt: Type.String(),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

export const PiiAccessSchema = Type.Union(
  [Type.Literal('role'), Type.Literal('grant'), Type.Literal('withdraw')],
  {
    description: 'PII access beyond the role: as the role says, granted, or withdrawn',
  },
);

export const MemberSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Type.String(),
  piiAccess: PiiAccessSchema,
  /** Whether the user may read PII here: the role, or the override. */
  readsPii: Type.Boolean(),
  disabled: Type.Boolean(),
  createdAt: Type.String(),
  lastLoginAt: Type.Union([Type.String(), Type.Null()]),
});

export const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  instanceOwner: Type.Boolean(),
  disabled: Type.Boolean(),
  createdAt: Type.String(),
  lastLoginAt: Type.Union([Type.String(), Type.Null()]),
  memberships: Type.Array(
    Type.Object({ workspaceId: Type.String(), role: Type.String(), piiAccess: PiiAccessSchema }),
  ),
});
