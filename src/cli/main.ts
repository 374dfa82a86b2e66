import path from 'node:path';
import { CommanderError } from 'commander';
import { AppError } from '../errors/app-error.ts';
import { ConfigError } from '../config/config.ts';
import { buildCliProgram } from './cli-program.ts';
import { promptHidden, readStdin } from './password-input.ts';

const program = buildCliProgram({
  env: process.env,
  out: (text) => process.stdout.write(`${text}\n`),
  readStdin: () => readStdin(),
  promptHidden,
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof ConfigError) {
    process.stderr.write(`cdp: configuration error: ${error.message}\n`);
    process.exitCode = 2;
  } else if (AppError.is(error)) {
    process.stderr.write(`cdp: ${error.message} (${error.code})\n`);
    process.exitCode = 1;
  } else if (isUnreadableSqlite(error)) {
    const file = path.resolve(process.env['CDP_DATA_DIR'] ?? './data', 'cdp.sqlite');
    process.stderr.write(
      `cdp: ${file} is not a readable SQLite database (${(error as Error).message}); ` +
        'restore it from a backup, or set CDP_DATA_DIR to another folder\n',
    );
    process.exitCode = 1;
  } else if (isConnectionError(error)) {
    const target = process.env['CDP_DATABASE_URL'] ? 'PostgreSQL at CDP_DATABASE_URL' : 'the store';
    process.stderr.write(`cdp: cannot reach ${target}: ${(error as Error).message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`cdp: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
  // A command that failed is over, whatever it left open (a pool, a worker, a timer): waiting
  // on those would leave a process that looks alive to a service manager and does nothing.
  process.exit();
}

function isUnreadableSqlite(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_NOTADB' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'));
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', '3D000', '28P01'].includes(code)
  );
}
