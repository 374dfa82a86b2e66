/**
 * A destination's event filter, evaluated on one stored message: `type`, `event`, `userId`,
 * `anonymousId`, `properties.*`, `context.*` and `traits.*` (an identify's or group's traits,
 * else `context.traits`), with the segment language's comparison rules, so a filter means the
 * same here as a `where (…)` clause does in a segment.
 */
import type { Expression, PathNode } from '../segment-language/index.ts';
import { compareValue, existsValue, inValues } from '../segments/compare-values.ts';
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
  switch (filter.kind) {
    case 'and':
      return filter.operands.every((operand) => eventPassesFilter(message, operand));
    case 'or':
      return filter.operands.some((operand) => eventPassesFilter(message, operand));
    case 'not':
      return !eventPassesFilter(message, filter.operand);
    case 'compare':
      return compareValue(pathValue(message, filter.path), filter.op, filter.value);
    case 'in':
      return inValues(pathValue(message, filter.path), filter.values);
    case 'exists':
      return existsValue(pathValue(message, filter.path));
    case 'did':
    case 'in_segment':
      // The validator refuses them in event filters; a hand-built tree gets false.
      return false;
  }
}
