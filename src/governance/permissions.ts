import type { Principal, Role, WorkspaceGrant } from '../workspaces/workspace-types.ts';

/**
 * The permission matrix: what each role may do inside its workspace. This is the one place it
 * is written; HTTP routes declare the permission they need and one hook enforces it
 * (http/admin-auth.ts), for API tokens and console users alike. docs/PERMISSIONS.md shows the
 * same table for people.
 */
export const PERMISSIONS = [
  'workspace.read',
  'workspace.manage',
  'sources.manage',
  'tokens.read',
  'tokens.manage',
  'tokens.mint_owner',
  'users.manage',
  'users.grant_owner',
  'events.read_pii',
  'pipeline.manage',
  'audit.read',
  'identity.manage',
  'privacy.manage',
  'segments.read',
  'segments.manage',
  'destinations.read',
  'destinations.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Only owners may make (or unmake) owners, whether by token or by membership. */
const OWNER_ONLY: readonly Permission[] = ['tokens.mint_owner', 'users.grant_owner'];

const ALL: readonly Permission[] = PERMISSIONS;
const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: ALL,
  // Everything but making owners (and, later, deleting the workspace).
  admin: ALL.filter((p) => !OWNER_ONLY.includes(p)),
  // Works with people's data: segments, computed traits and destinations (imports come later).
  marketer: [
    'workspace.read',
    'events.read_pii',
    'segments.read',
    'segments.manage',
    'destinations.read',
    'destinations.manage',
  ],
  // Reads all but unmasked personal data; raw events carry PII until masking lands.
  analyst: ['workspace.read', 'segments.read', 'destinations.read'],
  viewer: ['workspace.read', 'segments.read', 'destinations.read'],
};

export function roleCan(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/**
 * A console user's membership: the role's permissions, except PII access, which a per-user
 * override can grant or withdraw whatever the role.
 */
export function grantCan(grant: Pick<WorkspaceGrant, 'role' | 'pii'>, permission: Permission): boolean {
  if (permission === 'events.read_pii' && grant.pii !== null) return grant.pii === 'grant';
  return roleCan(grant.role, permission);
}

/**
 * Whether the caller holds `permission` in the workspace `workspaceId` (resolved from the
 * route's `{ws}`; undefined for routes outside a workspace, where any membership counts). The
 * instance owner (CDP_ADMIN_TOKEN, an instance token or an instance-owner user) may do
 * everything everywhere. A workspace token's own workspace is enforced apart (other workspaces
 * answer 404, see http/admin-auth.ts).
 */
export function principalCan(principal: Principal, permission: Permission, workspaceId?: string): boolean {
  switch (principal.kind) {
    case 'instance_owner':
      return true;
    case 'workspace_token':
      return roleCan(principal.role, permission);
    case 'user':
      return (
        principal.instanceOwner ||
        principal.grants.some(
          (g) => (workspaceId === undefined || g.workspaceId === workspaceId) && grantCan(g, permission),
        )
      );
  }
}

export function isInstanceOwner(principal: Principal): boolean {
  return principal.kind === 'instance_owner' || (principal.kind === 'user' && principal.instanceOwner);
}

/** The role the caller acts with in a workspace (for the audit log); null when it has none. */
export function roleIn(principal: Principal, workspaceId: string | undefined): Role | null {
  switch (principal.kind) {
    case 'instance_owner':
      return 'owner';
    case 'workspace_token':
      return principal.role;
    case 'user':
      if (principal.instanceOwner) return 'owner';
      return principal.grants.find((g) => g.workspaceId === workspaceId)?.role ?? null;
  }
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}
