import type { FastifyError } from 'fastify';
import { AppError } from '../errors/app-error.ts';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly [key: string]: unknown };
}

const FASTIFY_ERRORS: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'request.too_large',
    message: 'the body is larger than allowed',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'request.invalid_json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'request.invalid_json' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'request.unsupported_media_type',
    message: 'unsupported content type; send application/json',
  },
};

/** Seconds a client is asked to wait when the store cannot be reached. */
const STORE_RETRY_AFTER_SECONDS = 2;

/**
 * A driver error saying the store is unreachable or cannot write (see Store.isUnavailable)
 * becomes 503 `storage.unavailable` with Retry-After, so SDKs and scripts back off and retry
 * instead of reporting an internal error. The driver's text stays in the server log (`cause`).
 */
export function storeUnavailable(error: unknown): AppError {
  if (AppError.is(error)) return error;
  return new AppError(
    'storage.unavailable',
    'the store is not reachable right now; retry',
    { retryAfterSeconds: STORE_RETRY_AFTER_SECONDS },
    { cause: error },
  );
}

/** Maps whatever was thrown to the public error shape and status; internals never leak. */
export function toErrorResponse(error: unknown): {
  status: number;
  body: ErrorBody;
  retryAfterSeconds?: number;
} {
  if (AppError.is(error)) {
    const { retryAfterSeconds, ...details } = error.details ?? {};
    const body: ErrorBody = { error: { code: error.code, message: error.message, ...details } };
    return typeof retryAfterSeconds === 'number'
      ? { status: error.status, body, retryAfterSeconds }
      : { status: error.status, body };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    return {
      status: 400,
      body: {
        error: {
          code: 'request.invalid_body',
          message: validationMessage(fastifyError) ?? fastifyError.message ?? 'invalid request',
        },
      },
    };
  }
  const known = FASTIFY_ERRORS[fastifyError.code ?? ''];
  if (known)
    return {
      status: known.status,
      body: { error: { code: known.code, message: known.message ?? fastifyError.message ?? known.code } },
    };
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return {
      status: fastifyError.statusCode,
      body: { error: { code: 'request.invalid_body', message: fastifyError.message ?? 'bad request' } },
    };
  }
  return { status: 500, body: { error: { code: 'internal.error', message: 'internal error' } } };
}

interface ValidationIssue {
  readonly keyword?: string;
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: { readonly allowedValue?: unknown; readonly allowedValues?: readonly unknown[] };
}

/**
 * One line per field instead of the validator's list: a field checked against a choice of
 * constants (a TypeBox union of literals) yields one error per constant, which read as the
 * same complaint repeated; they become "must be one of …".
 */
function validationMessage(error: Partial<FastifyError>): string | undefined {
  const issues = (error.validation ?? []) as readonly ValidationIssue[];
  if (issues.length === 0) return undefined;
  const where = error.validationContext ?? 'request';
  const byField = new Map<string, { allowed: unknown[]; messages: Set<string> }>();
  for (const issue of issues) {
    const field = `${where}${issue.instancePath ?? ''}`;
    const entry = byField.get(field) ?? { allowed: [], messages: new Set<string>() };
    byField.set(field, entry);
    if (issue.keyword === 'const') entry.allowed.push(issue.params?.allowedValue);
    else if (issue.keyword === 'enum') entry.allowed.push(...(issue.params?.allowedValues ?? []));
    else if (issue.keyword !== 'anyOf') entry.messages.add(issue.message ?? 'is invalid');
  }
  const lines = [...byField].map(([field, { allowed, messages }]) =>
    allowed.length > 0
      ? `${field} must be one of ${[...new Set(allowed.map((v) => JSON.stringify(v)))].join(', ')}`
      : `${field} ${messages.size > 0 ? [...messages].join(', ') : 'matches none of the allowed forms'}`,
  );
  return lines.join('; ');
}
