import type { PiiOverride, Role } from '../workspaces/workspace-types.ts';

/** A person who signs in to the console. Only a hash of the password is ever stored. */
export interface User {
  readonly id: string;
  /** Normalized: trimmed, lower case. Unique on the instance. */
  readonly email: string;
  /** An instance-level owner: may do everything everywhere, like CDP_ADMIN_TOKEN. */
  readonly instanceOwner: boolean;
  readonly createdMs: number;
  readonly updatedMs: number;
  /** A disabled user cannot sign in, and their sessions are gone. */
  readonly disabledMs: number | null;
  readonly lastLoginMs: number | null;
}

/** A user's role in one workspace, with the per-user PII override. */
export interface Membership {
  readonly userId: string;
  readonly workspaceId: string;
  readonly role: Role;
  readonly pii: PiiOverride;
  readonly createdMs: number;
  readonly updatedMs: number;
}

/** A console session as stored: the id itself lives only in the user's cookie. */
export interface Session {
  /** SHA-256 of the session id. */
  readonly idHash: string;
  readonly userId: string;
  readonly createdMs: number;
  readonly lastSeenMs: number;
  /** The absolute end, whatever the activity. */
  readonly expiresMs: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** The way the API and the CLI spell a PII override. */
export const PII_ACCESS = ['role', 'grant', 'withdraw'] as const;
export type PiiAccess = (typeof PII_ACCESS)[number];

export const piiOverrideOf = (access: PiiAccess): PiiOverride => (access === 'role' ? null : access);
export const piiAccessOf = (pii: PiiOverride): PiiAccess => pii ?? 'role';
