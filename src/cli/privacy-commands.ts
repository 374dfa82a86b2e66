import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../errors/app-error.ts';
import {
  PRIVACY_REQUEST_TYPES,
  type PrivacyRequest,
  type PrivacyRequestType,
} from '../privacy/privacy.port.ts';
import type { CliContext } from './cli-context.ts';

type WithCli = <T>(env: NodeJS.ProcessEnv, run: (context: CliContext) => Promise<T>) => Promise<T>;

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

function describe(r: PrivacyRequest): string {
  const result = r.result === null ? '' : `  ${JSON.stringify(r.result)}`;
  const error = r.error === null ? '' : `  ${r.error.code}: ${r.error.message}`;
  return `${r.id}\t${r.type}\t${r.status}\t${r.identifierType}\t${iso(r.createdMs)}\t${iso(r.finishedMs)}${result}${error}`;
}

/** `cdp privacy request|list`: privacy requests from the command line (audited as `cli`). */
export function registerPrivacyCommands(
  program: Command,
  io: { readonly env: NodeJS.ProcessEnv; out(text: string): void },
  withCli: WithCli,
): void {
  const privacy = program.command('privacy').description('privacy requests: export, erase, suppress');
  privacy
    .command('request <workspace> <type> <identifierType> <value>')
    .description(
      `make a privacy request (${PRIVACY_REQUEST_TYPES.join(', ')}) for the person an identifier belongs to, run it and print the result`,
    )
    .option('--out <file>', 'write the export document to this file (mode 0600) instead of printing it')
    .option('--no-wait', 'only record the request: a running server carries it out')
    .option('--json', 'print JSON')
    .action(
      async (
        ws: string,
        type: string,
        identifierType: string,
        value: string,
        options: { out?: string; wait: boolean; json?: boolean },
      ) =>
        withCli(io.env, async (context) => {
          if (!(PRIVACY_REQUEST_TYPES as readonly string[]).includes(type))
            throw new AppError(
              'request.invalid_body',
              `type must be one of ${PRIVACY_REQUEST_TYPES.join(', ')}`,
            );
          const { privacyServices } = await import('./privacy-context.ts');
          const { privacyRequests } = await privacyServices(context);
          const target = await context.workspaces.get(ws);
          const created = await privacyRequests.create(
            target.id,
            { type: type as PrivacyRequestType, identifier: { type: identifierType, value } },
            'cli',
          );
          await context.auditChange('privacy request', target.id, {
            ws: target.slug,
            requestId: created.id,
            type: created.type,
          });
          if (!options.wait) {
            io.out(
              options.json === true ? JSON.stringify({ id: created.id, status: 'pending' }) : created.id,
            );
            return;
          }
          // Run it here; if a server took it first, wait for the server to finish it.
          await privacyRequests.runNow(target.id, created.id);
          let done = await privacyRequests.get(target.id, created.id);
          while (done.status === 'pending' || done.status === 'running') {
            await new Promise((resolve) => setTimeout(resolve, 200));
            done = await privacyRequests.get(target.id, created.id);
          }
          if (done.status === 'failed')
            throw new AppError(
              'internal.error',
              `privacy request ${done.id} failed: ${done.error?.message ?? ''}`,
            );
          if (done.type === 'export') {
            const document = await privacyRequests.exportDocument(target.id, done.id);
            if (options.out !== undefined) {
              writeFileSync(options.out, document, { mode: 0o600 });
              io.out(`export ${done.id} written to ${options.out}: ${JSON.stringify(done.result)}`);
            } else io.out(JSON.stringify(JSON.parse(document), null, 2));
            return;
          }
          io.out(options.json === true ? JSON.stringify(done, null, 2) : describe(done));
        }),
    );
  privacy
    .command('list <workspace>')
    .description('privacy requests of a workspace, newest first')
    .option('--json', 'print JSON')
    .action(async (ws: string, options: { json?: boolean }) =>
      withCli(io.env, async (context) => {
        const { privacyServices } = await import('./privacy-context.ts');
        const { privacyRequests } = await privacyServices(context);
        const target = await context.workspaces.get(ws);
        const rows = await privacyRequests.list(target.id, { limit: 500 });
        io.out(options.json === true ? JSON.stringify(rows, null, 2) : rows.map(describe).join('\n'));
      }),
    );
}
