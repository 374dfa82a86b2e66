import type { Principal } from '../../workspaces/workspace-types.ts';

/** Who made a change, as a short label stored with what they changed (never a secret). */
export function actorLabel(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return `user:${principal.userId}`;
    case 'instance_owner':
      return principal.tokenId === null ? 'instance:admin-token' : `instance:${principal.tokenId}`;
    case 'workspace_token':
      return `token:${principal.tokenId}`;
  }
}
