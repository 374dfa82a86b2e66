import type { FastifyError } from 'fastify';
import { AppError } from '../errors/app-error.ts';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly [key: string]: unknown };
}

/** Maps whatever was thrown to the public error shape and status; internals never leak. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody; retryAfterSeconds?: number } {
  if (AppError.is(error)) {
    const { retryAfterSeconds, ...details } = error.details ?? {};
    const body: ErrorBody = { error: { code: error.code, message: error.message, ...details } };
    return typeof retryAfterSeconds === 'number' ? { status: error.status, body, retryAfterSeconds } : { status: error.status, body };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    return { status: 400, body: { error: { code: 'request.invalid_body', message: fastifyError.message ?? 'invalid request' } } };
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: { code: 'request.too_large', message: 'the body is larger than allowed' } } };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: { error: { code: 'request.invalid_json', message: fastifyError.message ?? 'invalid JSON' } } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { error: { code: 'request.invalid_body', message: 'unsupported content type; send application/json' } } };
    default:
      break;
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, body: { error: { code: 'request.invalid_body', message: fastifyError.message ?? 'bad request' } } };
  }
  return { status: 500, body: { error: { code: 'internal.error', message: 'internal error' } } };
}
