import { createHash } from 'node:crypto';

export const ACCOUNT_ID_PREFIX = 'acc_';

/** Accounts are keyed by the client's groupId: the same id always gives the same account. */
export function accountIdFor(groupId: string): string {
  return ACCOUNT_ID_PREFIX + createHash('sha256').update(groupId).digest('base64url').slice(0, 22);
}
