/**
 * The export document: a machine-readable JSON answer to a data subject access request (GDPR
 * Art. 15 and 20). Pure: built from what the store holds about the person.
 */
import type { JsonObject, JsonValue } from '../shared/json.ts';
import type { PrivacyRequest, SubjectData } from './privacy.port.ts';

export const EXPORT_FORMAT = 'cdp.privacy-export.v1';

export interface ExportContext {
  readonly request: PrivacyRequest;
  readonly workspace: { readonly id: string; readonly slug: string; readonly name: string };
  readonly identifier: { readonly type: string; readonly value: string };
  readonly generatedMs: number;
  /** Current consent per profile (category → granted, source, time). */
  readonly consent: Readonly<Record<string, JsonObject>>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function buildExportDocument(data: SubjectData, context: ExportContext): JsonObject {
  const live = new Set(data.subject.profileIds);
  const profiles = data.profiles.filter((p) => typeof p['id'] === 'string' && live.has(p['id']));
  return {
    format: EXPORT_FORMAT,
    request: {
      id: context.request.id,
      type: context.request.type,
      identifier: { ...context.identifier },
      requestedAt: iso(context.request.createdMs),
      generatedAt: iso(context.generatedMs),
    },
    controller: { workspace: { ...context.workspace } },
    found: data.subject.profileIds.length > 0 || data.events.length > 0,
    profiles: profiles.map((p) => ({
      ...p,
      identities: data.identifiers.filter((i) => i['profileId'] === p['id']),
      consent: (typeof p['id'] === 'string' ? context.consent[p['id']] : undefined) ?? {},
      accounts: data.accounts.filter((a) => a['profileId'] === p['id']),
    })),
    mergedProfileIds: [...data.subject.mergedIds],
    identities: [...data.identifiers],
    traitHistory: [...data.traitHistory],
    consentHistory: [...data.consentHistory],
    segments: { current: [...data.segments], history: [...data.segmentHistory] },
    computedTraits: [...data.computed],
    merges: [...data.merges],
    identityDecisions: [...data.decisions],
    deliveries: [...data.deliveries],
    events: data.events.map((e): JsonValue => ({ seq: e.seq, sourceId: e.sourceId, message: e.message })),
  };
}
