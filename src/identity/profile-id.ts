/**
 * Profile ids are derived from the event that created the profile, never from a counter or a
 * clock: replaying the same events yields the same ids, so ids can be compared across runs,
 * processes and the reference resolver.
 */
import { createHash } from 'node:crypto';

import { identifierKey, type Identifier } from './identifier-types.ts';

export const PROFILE_ID_PREFIX = 'prf_';

/**
 * `messageId` alone is not enough: clients sometimes reuse ids. One event creates at most one
 * profile, from identifiers no profile owned yet, so (messageId, first identifier) is unique.
 */
export function profileIdFor(messageId: string, firstIdentifier: Identifier): string {
  const digest = createHash('sha256')
    .update(messageId)
    .update('\u0000')
    .update(identifierKey(firstIdentifier));
  return PROFILE_ID_PREFIX + digest.digest('base64url').slice(0, 22);
}
