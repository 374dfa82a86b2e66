import pino, { type Logger } from 'pino';
import type { Config } from '../config/config.ts';

export type { Logger };

/**
 * Structured JSON logs. Secrets must never reach them: authorization headers, cookies, write
 * keys, tokens and passwords are redacted wherever they appear.
 */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'cdp' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'writeKey',
          '*.writeKey',
          'token',
          '*.token',
          'secret',
          '*.secret',
          // Console sign-in: never log a password, a setup code or a session id.
          'password',
          '*.password',
          'currentPassword',
          'newPassword',
          'setupCode',
          '*.setupCode',
          'sessionId',
          '*.sessionId',
          'req.headers["x-csrf-token"]',
        ],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
