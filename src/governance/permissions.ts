import type { Principal, Role } from '../workspaces/workspace-types.ts';

/**
 * The permission matrix: what each role may do inside its workspace. This is the one place it
 * is written; HTTP routes declare the permission they need and one hook enforces it
 * (http/admin-auth.ts). docs/PERMISSIONS.md shows the same table for people.
 */
export const PERMISSIONS = [
  'workspace.read',
  'workspace.manage',
  'sources.manage',
  'tokens.read',
  'tokens.manage',
  'tokens.mint_owner',
  'events.read_pii',
  'pipeline.manage',
  'audit.read',
  'identity.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ALL: readonly Permission[] = PERMISSIONS;
const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: ALL,
  // Everything but minting owner tokens (and, later, deleting the workspace).
  admin: ALL.filter((p) => p !== 'tokens.mint_owner'),
  // Works with people's data (segments, destinations, imports come with later issues).
  marketer: ['workspace.read', 'events.read_pii'],
  // Reads all but unmasked personal data; raw events carry PII until masking lands.
  analyst: ['workspace.read'],
  viewer: ['workspace.read'],
};

export function roleCan(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** The instance owner (CDP_ADMIN_TOKEN or an instance token) may do everything everywhere. */
export function principalCan(principal: Principal, permission: Permission): boolean {
  return principal.kind === 'instance_owner' || roleCan(principal.role, permission);
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}
