/**
 * A destination's event filter, evaluated on one stored message: `type`, `event`, `userId`,
 * `anonymousId`, `properties.*`, `context.*` and `traits.*` (an identify's or group's traits,
 * else `context.traits`), with the segment language's comparison rules, so a filter means the
 * same here as a `where (…)` clause does in a segment.
 */
import type { Expression, PathNode } from '../segment-language/index.ts';
import { matchesOneEvent } from '../segments/event-conditions.ts';
import { readPath } from '../segments/json-path.ts';
import { isJsonObject, ownField, type JsonObject } from '../shared/json.ts';

function pathValue(message: JsonObject, path: PathNode): unknown {
  switch (path.root) {
    case 'type':
    case 'event':
    case 'userId':
    case 'anonymousId':
      return path.keys.length === 0 ? ownField(message, path.root) : undefined;
    case 'properties':
    case 'context':
      return readPath(ownField(message, path.root), path.keys);
    case 'traits': {
      const own = ownField(message, 'traits');
      if (isJsonObject(own)) return readPath(own, path.keys);
      const context = ownField(message, 'context');
      return isJsonObject(context) ? readPath(ownField(context, 'traits'), path.keys) : undefined;
    }
    default:
      return undefined;
  }
}

export function eventPassesFilter(message: JsonObject, filter: Expression): boolean {
  // `did` and `in segment` are refused in event filters by the validator; a hand-built tree gets false.
  return matchesOneEvent(filter, (path) => pathValue(message, path));
}
