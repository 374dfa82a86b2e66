import { SEGMENT_ERROR_CATALOGUE, type SegmentErrorCode } from '../segment-language/index.ts';

/**
 * Every error code the platform can answer with, in one place. Codes are a public contract:
 * clients branch on them, so a code is never renamed or reused for another meaning.
 * docs/ERRORS.md lists them for users.
 */
export interface ErrorSpec {
  readonly status: number;
  readonly retryable: boolean;
  readonly title: string;
}

const spec = (status: number, title: string, retryable = false): ErrorSpec => ({ status, title, retryable });

/** A definition that does not parse or validate: 400 with the language's own code, line and column. */
type DefinitionErrorCode = Exclude<SegmentErrorCode, 'segment.trivial_count'>;
const SEGMENT_DEFINITION_ERRORS = Object.fromEntries(
  Object.entries(SEGMENT_ERROR_CATALOGUE)
    .filter(([code]) => code !== 'segment.trivial_count')
    .map(([code, title]) => [code, spec(400, title)]),
) as Record<DefinitionErrorCode, ErrorSpec>;

export const ERROR_CATALOGUE = {
  // Request shape
  'request.invalid_json': spec(400, 'The body is not valid JSON'),
  'request.invalid_body': spec(400, 'The body does not match the expected shape'),
  'request.invalid_gzip': spec(400, 'The gzip body could not be decompressed'),
  'request.unsupported_encoding': spec(415, 'Only identity and gzip content encodings are accepted'),
  'request.unsupported_media_type': spec(415, 'The content type is not accepted here'),
  'request.too_large': spec(413, 'The body is larger than allowed'),
  'request.invalid_cursor': spec(400, 'The paging cursor is not valid'),
  'request.not_found': spec(404, 'No such route'),
  // Ingestion
  'ingest.missing_identity': spec(400, 'Either userId or anonymousId is required'),
  'ingest.missing_field': spec(400, 'A field required by this call type is missing'),
  'ingest.invalid_field': spec(400, 'A field has the wrong type or format'),
  'ingest.unknown_type': spec(400, 'Unknown message type'),
  'ingest.event_too_large': spec(413, 'One event is larger than 32 KB'),
  'ingest.batch_too_large': spec(413, 'The batch is larger than 500 KB'),
  'ingest.batch_too_many_events': spec(400, 'The batch holds more than 2,500 events'),
  'ingest.overloaded': spec(429, 'The platform is shedding load; retry after the delay given', true),
  'ingest.rate_limited': spec(
    429,
    'Too many requests with this write key (CDP_RATE_LIMIT_INGEST); retry after the delay given',
    true,
  ),
  // Auth
  'auth.invalid_write_key': spec(401, 'Missing, unknown or revoked write key'),
  'auth.missing_token': spec(401, 'A bearer token is required'),
  'auth.invalid_token': spec(401, 'Unknown or revoked token'),
  'auth.forbidden': spec(403, 'This token or user may not do that'),
  'auth.invalid_credentials': spec(401, 'Wrong e-mail address or password'),
  'auth.session_expired': spec(
    401,
    'The session ended (signed out, timed out, or the user was disabled or removed); sign in again',
  ),
  'auth.csrf_failed': spec(
    403,
    'A cookie-authenticated write needs the X-CSRF-Token header and must come from the same site',
  ),
  'api.rate_limited': spec(
    429,
    'Too many requests with this token or session (CDP_RATE_LIMIT_API); retry after the delay given',
    true,
  ),
  'auth.too_many_attempts': spec(429, 'Too many failed attempts; retry after the delay given', true),
  'auth.https_required': spec(403, 'Signing in needs HTTPS (plain HTTP is accepted on localhost only)'),
  // Console users and the first-owner setup
  'user.not_found': spec(404, 'No such user (in this workspace)'),
  'user.email_taken': spec(409, 'A user already has that e-mail address'),
  'user.already_member': spec(409, 'The user is already a member of this workspace'),
  'user.invalid_email': spec(400, 'Not an e-mail address'),
  'user.weak_password': spec(400, 'The password does not meet the password policy'),
  'user.password_required': spec(400, 'A new user needs a password'),
  'user.invalid_role': spec(400, 'Unknown role'),
  'setup.unavailable': spec(409, 'Setup is done: the first user exists already'),
  'setup.invalid_code': spec(403, 'Wrong, replaced or already used setup code'),
  // Resources
  'workspace.not_found': spec(404, 'No such workspace'),
  'workspace.slug_taken': spec(409, 'A workspace already has that slug'),
  'source.not_found': spec(404, 'No such source'),
  'token.not_found': spec(404, 'No such token'),
  'token.invalid_role': spec(400, 'Unknown role'),
  'failed_event.not_found': spec(404, 'No such failed event'),
  'segment.not_found': spec(404, 'No such segment'),
  'segment.slug_taken': spec(409, 'A segment of the workspace already has that slug'),
  'segment.in_use': spec(
    409,
    'Other segments refer to this segment with `in segment`, or destinations sync it',
  ),
  'destination.not_found': spec(404, 'No such destination'),
  'destination.invalid': spec(400, 'The destination definition is not valid; details list each problem'),
  'computed_trait.not_found': spec(404, 'No such computed trait'),
  'computed_trait.name_taken': spec(409, 'A computed trait of the workspace already has that name'),
  'computed_trait.invalid_definition': spec(
    400,
    'The computed trait definition is not valid; details list each problem',
  ),
  'computed_trait.in_use': spec(409, 'Segments read this computed trait'),
  // Segment definitions (the segment language's codes)
  ...SEGMENT_DEFINITION_ERRORS,
  'profile.not_found': spec(404, 'No such profile'),
  'profile.invalid_identifier': spec(400, 'The identifier is not valid for its type'),
  'profile.identifier_not_linked': spec(409, 'The identifier is not linked to this profile'),
  'profile.identifier_not_unlinked': spec(404, "The identifier is not in the workspace's unlinked set"),
  'profile.rebuild_not_found': spec(404, "No rebuild of this workspace's profiles has run"),
  'settings.invalid': spec(400, 'The settings are not valid'),
  // Consent and privacy requests
  'consent.invalid': spec(400, 'The consent update is not valid'),
  'consent.unknown_category': spec(400, 'Not a consent category of this workspace'),
  'privacy_request.not_found': spec(404, 'No such privacy request'),
  'privacy_request.export_not_ready': spec(
    409,
    'The export is not ready: the request is pending, running or failed',
    true,
  ),
  'privacy_request.export_gone': spec(
    410,
    'No export document: the request is not an export, or its document expired or was erased',
  ),
  'privacy.key_mismatch': spec(
    500,
    "The stored keys cannot be opened with this instance's encryption key (CDP_ENCRYPTION_KEY)",
  ),
  // Runtime
  'storage.unavailable': spec(
    503,
    'The store is not reachable (or cannot write: locked, disk full); sent with `Retry-After`',
    true,
  ),
  'pipeline.handler_failed': spec(500, 'A pipeline stage failed on an event', true),
  'internal.error': spec(500, 'Internal error', true),
  'server.shutting_down': spec(503, 'The server is shutting down', true),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
