export const ROLES = ['owner', 'admin', 'marketer', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export interface Workspace {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly createdMs: number;
}

export interface SourceSettings {
  /** Record the request IP into `context.ip`; off for sources that must not keep IPs. */
  readonly captureIp: boolean;
}

export const SOURCE_TYPES = ['http'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export interface Source {
  readonly id: string;
  readonly workspaceId: string;
  readonly name: string;
  readonly type: SourceType;
  /** The first characters of the write key, so people can tell keys apart without the secret. */
  readonly writeKeyPrefix: string;
  readonly settings: SourceSettings;
  readonly createdMs: number;
  readonly keyRotatedMs: number | null;
  readonly disabledMs: number | null;
}

export interface ApiToken {
  readonly id: string;
  /** null for an instance-level token (minted at bootstrap): it acts on every workspace. */
  readonly workspaceId: string | null;
  readonly name: string;
  readonly role: Role;
  readonly tokenPrefix: string;
  readonly createdMs: number;
  readonly revokedMs: number | null;
}

/**
 * A console user's PII access in one workspace beyond their role: granted, withdrawn, or as the
 * role says (null). PII access is a permission of its own (events.read_pii).
 */
export type PiiOverride = 'grant' | 'withdraw' | null;

/** What a console user may do in one workspace: a role, and the PII override. */
export interface WorkspaceGrant {
  readonly workspaceId: string;
  readonly role: Role;
  readonly pii: PiiOverride;
}

/** Who is calling the admin API. */
export type Principal =
  | { readonly kind: 'instance_owner'; readonly tokenId: string | null }
  | {
      readonly kind: 'workspace_token';
      readonly tokenId: string;
      readonly workspaceId: string;
      readonly role: Role;
    }
  | {
      /** A console user signed in with a session cookie; grants are read per request. */
      readonly kind: 'user';
      readonly userId: string;
      /** An instance-level owner user: may do everything, like CDP_ADMIN_TOKEN. */
      readonly instanceOwner: boolean;
      readonly grants: readonly WorkspaceGrant[];
    };
