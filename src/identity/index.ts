/** Public surface of identity resolution (the pure core). */
export type { Identifier, BuiltInIdentifierType } from './identifier-types.ts';
export {
  BUILT_IN_IDENTIFIER_TYPES,
  compareIdentifiers,
  identifierKey,
  isBuiltInIdentifierType,
  isValidCustomTypeName,
} from './identifier-types.ts';
export { IDENTITY_REASONS, MAX_IDENTIFIER_BYTES } from './identity-reasons.ts';
export type { IdentityReason } from './identity-reasons.ts';
export {
  DEFAULT_IDENTITY_SETTINGS,
  DEFAULT_LIMITS,
  identitySettings,
  limitFor,
  priorityRank,
  validateIdentitySettings,
} from './identity-settings.ts';
export type {
  IdentityLimit,
  IdentitySettings,
  IdentitySettingsInput,
  SettingsProblem,
  SettingsResult,
} from './identity-settings.ts';
export { DEFAULT_BLOCKED_VALUES, createBlockedValues, isZeroesAndDashes } from './blocked-values.ts';
export type { BlockedValues } from './blocked-values.ts';
export { normalizeIdentifier, normalizeIdentifierPrefix } from './normalize-identifier.ts';
export type { NormalizeContext, NormalizeResult } from './normalize-identifier.ts';
export { regionFromLocale, toE164 } from './normalize-phone.ts';
export { extractIdentifiers } from './extract-identifiers.ts';
export type { ExtractedIdentifiers, IdentityEventInput, RejectedIdentifier } from './extract-identifiers.ts';
export { IdentityGraph } from './identity-graph.ts';
export type { EventRef, LinkOutcome } from './identity-graph.ts';
export { profileIdFor } from './profile-id.ts';
export { resolveIdentities } from './reference-resolver.ts';
export type {
  EventAssignment,
  IdentityDecision,
  IdentityEvent,
  IdentityResolution,
  LinkRecord,
  MergeRecord,
  ResolvedProfile,
} from './reference-resolver.ts';
