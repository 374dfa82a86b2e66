/**
 * The identifiers of a stored event, read and normalized by the platform's own extraction
 * (`extractIdentifiers`, default workspace settings and blocked values): the ground truth, the
 * warehouse-style stitching and the pipeline all see the same identity edges.
 */
import {
  createBlockedValues,
  DEFAULT_IDENTITY_SETTINGS,
  extractIdentifiers,
  type Identifier,
} from '../../src/identity/index.ts';
import { payloadText } from '../../src/ingestion/accepted-batch.ts';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import type { JsonObject } from '../../src/shared/json.ts';

const blocked = createBlockedValues(DEFAULT_IDENTITY_SETTINGS);

export function identifiersOf(event: AcceptedEvent): readonly Identifier[] {
  const message = JSON.parse(payloadText(event.payload)) as JsonObject;
  return extractIdentifiers({ ...event, message }, DEFAULT_IDENTITY_SETTINGS, blocked).identifiers;
}
