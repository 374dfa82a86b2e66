import { ERROR_CATALOGUE, type ErrorCode } from './error-catalogue.ts';

/** The one error type that crosses module boundaries; HTTP maps it to `{"error":{"code","message"}}`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  /** `options.cause`: what went wrong underneath, for the log; never sent to clients. */
  constructor(
    code: ErrorCode,
    message?: string,
    details?: Record<string, unknown>,
    options?: { readonly cause?: unknown },
  ) {
    const spec = ERROR_CATALOGUE[code];
    super(message ?? spec.title, options);
    this.name = 'AppError';
    this.code = code;
    this.status = spec.status;
    this.retryable = spec.retryable;
    this.details = details;
  }

  static is(value: unknown): value is AppError {
    return value instanceof AppError;
  }
}
