import type { StoredEvent } from '../ingestion/message-types.ts';
import { accountIdFor } from '../profiles/profile-resolver.ts';
import { isJsonObject, ownField } from '../shared/json.ts';

/**
 * Top-level account traits each account's `group` calls of a batch set, by account profile id.
 * Account traits only ever come from `group` calls (`observeTraits` reads `traits` alone), so a
 * trait missing here cannot have changed through this batch's events.
 */
export function groupTraitsSetByAccount(events: readonly StoredEvent[]): Map<string, Set<string>> {
  const byAccount = new Map<string, Set<string>>();
  for (const event of events) {
    if (event.type !== 'group') continue;
    const groupId = ownField(event.message, 'groupId');
    if (typeof groupId !== 'string' && typeof groupId !== 'number') continue;
    const accountId = accountIdFor(String(groupId));
    const keys = byAccount.get(accountId) ?? new Set<string>();
    byAccount.set(accountId, keys);
    const traits = ownField(event.message, 'traits');
    if (isJsonObject(traits)) for (const key of Object.keys(traits)) keys.add(key);
  }
  return byAccount;
}
