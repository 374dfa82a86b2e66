import type { Command } from 'commander';
import { AppError } from '../errors/app-error.ts';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../destinations/destination-types.ts';
import { presentDelivery, presentDestination } from '../http/destination-presenters.ts';
import type { CliContext } from './cli-context.ts';

type WithCli = <T>(env: NodeJS.ProcessEnv, run: (context: CliContext) => Promise<T>) => Promise<T>;

/**
 * `cdp destinations list|deliveries|retry`: what an operator needs when a partner was down.
 * Definitions are made through the API (their secret is shown once there); a running server
 * sends what `retry` queues.
 */
export function registerDestinationCommands(
  program: Command,
  io: { readonly env: NodeJS.ProcessEnv; out(text: string): void },
  withCli: WithCli,
): void {
  const destinations = program.command('destinations').description('destinations and their deliveries');
  destinations
    .command('list <workspace>')
    .description('destinations with their delivery counts')
    .option('--json', 'print JSON')
    .action(async (ws: string, options: { json?: boolean }) =>
      withCli(io.env, async (context) => {
        const target = await context.workspaces.get(ws);
        const service = await destinationService(context);
        const views = [];
        for (const d of await service.list(target.id, { limit: 500 }))
          views.push(
            presentDestination(d, { fullUrl: true, counts: (await service.get(target.id, d.id)).counts }),
          );
        if (options.json === true) return io.out(JSON.stringify(views, null, 2));
        io.out(
          views.length === 0
            ? 'no destinations'
            : views
                .map(
                  (v) =>
                    `${v.id}\t${v.name}\t${v.enabled ? 'enabled' : 'disabled'}\t${v.config.url}\tqueued ${v.deliveries?.queued ?? 0}, delivered ${v.deliveries?.delivered ?? 0}, failed ${v.deliveries?.failed ?? 0}, dropped ${v.deliveries?.dropped ?? 0}`,
                )
                .join('\n'),
        );
      }),
    );
  destinations
    .command('deliveries <workspace> <destination>')
    .description('deliveries of a destination, newest first')
    .option('--status <status>', `only these: ${DELIVERY_STATUSES.join(', ')}`)
    .option('--limit <n>', 'how many (at most 500)', '50')
    .option('--json', 'print JSON')
    .action(async (ws: string, id: string, options: { status?: string; limit: string; json?: boolean }) =>
      withCli(io.env, async (context) => {
        if (
          options.status !== undefined &&
          !(DELIVERY_STATUSES as readonly string[]).includes(options.status)
        )
          throw new AppError(
            'request.invalid_body',
            `--status must be one of ${DELIVERY_STATUSES.join(', ')}`,
          );
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          throw new AppError('request.invalid_body', '--limit must be a whole number from 1 to 500');
        const target = await context.workspaces.get(ws);
        const service = await destinationService(context);
        const items = (
          await service.deliveries(target.id, id, {
            status: options.status as DeliveryStatus | undefined,
            limit,
          })
        ).map(presentDelivery);
        if (options.json === true) return io.out(JSON.stringify(items, null, 2));
        io.out(
          items.length === 0
            ? 'no deliveries'
            : items
                .map(
                  (d) =>
                    `${d.id}\t${d.kind}\t${d.status}\tseq ${d.seq ?? '-'}\tattempts ${d.attempts}\t${d.lastAttemptAt ?? '-'}${d.lastError ? `\t${d.lastError}` : ''}`,
                )
                .join('\n'),
        );
      }),
    );
  destinations
    .command('retry <workspace> <destination> [ids...]')
    .description('queue failed deliveries again (all of them, or the ids given)')
    .option('--json', 'print JSON')
    .action(async (ws: string, id: string, ids: string[], options: { json?: boolean }) =>
      withCli(io.env, async (context) => {
        const numbers = ids.map(Number);
        if (numbers.some((n) => !Number.isInteger(n) || n < 1))
          throw new AppError('request.invalid_body', 'delivery ids are positive whole numbers');
        const target = await context.workspaces.get(ws);
        const service = await destinationService(context);
        const requeued = await service.retry(target.id, id, numbers.length > 0 ? numbers : undefined);
        await context.auditChange('destination deliveries retry', target.id, {
          ws: target.slug,
          destinationId: id,
        });
        io.out(options.json === true ? JSON.stringify({ requeued }) : `${requeued} deliveries queued again`);
      }),
    );
}

async function destinationService(context: CliContext) {
  const { cliDestinationServices } = await import('./privacy-context.ts');
  return cliDestinationServices(context).destinations;
}
