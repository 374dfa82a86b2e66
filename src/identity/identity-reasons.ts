/**
 * Why an identifier was not used, or not linked. Stable strings: they are stored with decisions,
 * counted as data-quality metrics and shown in the console, so never rename one.
 */
export const IDENTITY_REASONS = {
  /** Not a string (or a number, which Segment stringifies): object, array, boolean, null. */
  invalidShape: 'identity.invalid_shape',
  /** Empty or blank after trimming. */
  empty: 'identity.empty',
  /** Longer than `MAX_IDENTIFIER_BYTES` (UTF-8). */
  tooLong: 'identity.too_long',
  invalidEmail: 'identity.invalid_email',
  invalidPhone: 'identity.invalid_phone',
  /** A blocked value (Segment's defaults or the workspace's list). */
  blocked: 'identity.blocked',
  /** A `context.externalIds` type that the workspace has not declared. */
  undeclaredType: 'identity.undeclared_type',
  /** A `context.externalIds` entry whose collection is not `users` or whose encoding is not `none`. */
  unsupportedExternalId: 'identity.unsupported_external_id',
  /** Past the per-event bound: the event carried more identifiers than we link. */
  tooManyIdentifiers: 'identity.too_many_identifiers',
  /** Linking would push a profile over a per-type limit: demoted (Segment's semantics). */
  limitExceeded: 'identity.limit_exceeded',
  /** An admin unlinked this identifier (unmerge): it no longer links anything in the workspace. */
  unlinked: 'identity.unlinked',
} as const;

export type IdentityReason = (typeof IDENTITY_REASONS)[keyof typeof IDENTITY_REASONS];

/** Identifier values longer than this never link: they are almost always payload mistakes. */
export const MAX_IDENTIFIER_BYTES = 1024;
