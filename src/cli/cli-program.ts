import { Command, Option } from 'commander';
import { parseConfig } from '../config/config.ts';
import { presentFailedEvent, presentSource, presentToken, presentWorkspace } from '../http/presenters.ts';
import { processingBacklog } from '../events/processing-backlog.ts';
import { PROFILES_STAGE } from '../profiles/profile-stage.ts';
import { ROLES } from '../workspaces/workspace-types.ts';
import { show, withCli, type CliIo } from './cli-io.ts';
import { addUserCommands } from './user-commands.ts';
import { registerKeyCommands } from './key-commands.ts';
import { registerDestinationCommands } from './destination-commands.ts';
import { registerPrivacyCommands } from './privacy-commands.ts';
import { registerSegmentCommands } from './segment-commands.ts';

export type { CliIo };

function describeProfile(profile: {
  id: string;
  identities: readonly { type: string; value: string }[];
  traits: Record<string, unknown>;
  eventCount: number;
  firstSeenAt: string;
  lastSeenAt: string;
}): string {
  return [
    `profile ${profile.id}  (${profile.eventCount} events, ${profile.firstSeenAt} → ${profile.lastSeenAt})`,
    ...profile.identities.map((i) => `  ${i.type}: ${i.value}`),
    ...Object.entries(profile.traits).map(([k, v]) => `  traits.${k} = ${JSON.stringify(v)}`),
  ].join('\n');
}

/** The `cdp` command line. Every command reads the same environment as the server. */
export function buildCliProgram(io: CliIo): Command {
  const program = new Command('cdp')
    .description('Customer Data Platform: server and administration')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()) })
    .exitOverride();

  program
    .command('start')
    .description(
      'start the platform: HTTP API, pipeline (reads PORT, HOST, CDP_DATA_DIR, CDP_DATABASE_URL, …)',
    )
    .action(async () => {
      const config = parseConfig(io.env);
      const { startServer } = await import('../app/start-server.ts');
      await startServer(config, (text) => io.out(text));
    });

  program
    .command('migrate')
    .description('apply pending schema migrations to the configured store')
    .action(async () =>
      withCli(io.env, async ({ applied, config }) => {
        const where = config.databaseUrl === undefined ? `SQLite in ${config.dataDir}` : 'PostgreSQL';
        io.out(
          applied.length === 0
            ? `schema already up to date on ${where}`
            : `applied ${applied.join(', ')} on ${where}`,
        );
      }),
    );

  const workspace = program.command('workspace').description('manage workspaces');
  workspace
    .command('create <name>')
    .description('create a workspace')
    .option('--slug <slug>', 'URL name (derived from the name when absent)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { slug?: string; json?: boolean }) =>
      withCli(io.env, async ({ workspaces, auditChange }) => {
        const created = await workspaces.create({ name, slug: options.slug });
        await auditChange('workspace create', created.id, { ws: created.slug });
        show(
          io,
          options.json === true,
          presentWorkspace(created),
          `created workspace ${created.slug} (${created.id})`,
        );
      }),
    );
  workspace
    .command('list')
    .description('list workspaces')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) =>
      withCli(io.env, async ({ workspaces, config }) => {
        const all = await workspaces.list({ limit: 1000 });
        // Saying where nothing was found makes a mistyped CDP_DATA_DIR visible.
        const where = config.databaseUrl === undefined ? `SQLite in ${config.dataDir}` : 'PostgreSQL';
        io.out(
          options.json === true
            ? JSON.stringify(all.map(presentWorkspace), null, 2)
            : all.length === 0
              ? `no workspaces (store: ${where})`
              : all.map((w) => `${w.slug}\t${w.id}\t${w.name}`).join('\n'),
        );
      }),
    );

  workspace
    .command('stats <workspace>')
    .description('what a workspace stores, and how far processing is behind ingestion')
    .option('--json', 'print JSON')
    .action(async (ws: string, options: { json?: boolean }) =>
      withCli(io.env, async ({ workspaces, store, profiles }) => {
        const target = await workspaces.get(ws);
        const [events, profileCount, failedEvents, processedThrough] = await Promise.all([
          store.events.countByWorkspace(target.id),
          profiles.count(target.id),
          store.failedEvents.countFailed(target.id),
          // Where the server's pipeline has got to (its one stage; the cursor it commits).
          store.consumerState.getCursor(PROFILES_STAGE),
        ]);
        const backlog = await processingBacklog(store.events, target.id, processedThrough, Date.now());
        const stats = {
          events,
          profiles: profileCount,
          failedEvents,
          unprocessedEvents: backlog.events,
          processingDelayMs: backlog.delayMs,
        };
        show(
          io,
          options.json === true,
          stats,
          [
            `events\t${events}`,
            `profiles\t${profileCount}`,
            `failed events\t${failedEvents}`,
            `unprocessed events\t${backlog.events}${backlog.events === 0 ? '' : `, the oldest waiting ${(backlog.delayMs / 1000).toFixed(1)} s`}`,
          ].join('\n'),
        );
      }),
    );

  const source = program.command('source').description('manage sources and their write keys');
  source
    .command('create <workspace> <name>')
    .description('create an HTTP source; prints its write key once')
    .option('--no-capture-ip', 'do not record the request IP into context.ip')
    .option('--json', 'print JSON')
    .action(async (ws: string, name: string, options: { captureIp: boolean; json?: boolean }) =>
      withCli(io.env, async ({ workspaces, sources, auditChange }) => {
        const target = await workspaces.get(ws);
        await auditChange('source create', target.id, { ws: target.slug, name });
        const created = await sources.create(target.id, {
          name,
          type: 'http',
          settings: { captureIp: options.captureIp },
        });
        show(
          io,
          options.json === true,
          { ...presentSource(created.source), writeKey: created.writeKey },
          `created source ${created.source.id}\nwrite key: ${created.writeKey}   (shown once)`,
        );
      }),
    );
  source
    .command('rotate-key <workspace> <sourceId>')
    .description("replace a source's write key; the old one stops working at once")
    .option('--json', 'print JSON')
    .action(async (ws: string, sourceId: string, options: { json?: boolean }) =>
      withCli(io.env, async ({ workspaces, sources, auditChange }) => {
        const target = await workspaces.get(ws);
        const rotated = await sources.rotateKey(target.id, sourceId);
        await auditChange('source rotate-key', target.id, { ws: target.slug, id: sourceId });
        show(
          io,
          options.json === true,
          { ...presentSource(rotated.source), writeKey: rotated.writeKey },
          `new write key: ${rotated.writeKey}   (shown once)`,
        );
      }),
    );

  program
    .command('token')
    .description('manage API tokens')
    .command('create <workspace> <name>')
    .description('mint an API token for a workspace; prints it once')
    .addOption(new Option('--role <role>', 'role of the token').choices([...ROLES]).makeOptionMandatory())
    .option('--json', 'print JSON')
    .action(async (ws: string, name: string, options: { role: string; json?: boolean }) =>
      withCli(io.env, async ({ workspaces, tokens, auditChange }) => {
        const target = await workspaces.get(ws);
        const created = await tokens.create(target.id, { name, role: options.role });
        await auditChange('token create', target.id, {
          ws: target.slug,
          id: created.token.id,
          role: options.role,
        });
        show(
          io,
          options.json === true,
          { ...presentToken(created.token), token: created.secret },
          `token (${options.role}): ${created.secret}   (shown once)`,
        );
      }),
    );
  const failed = program.command('failed-events').description('events a pipeline stage gave up on');
  failed
    .command('list <workspace>')
    .description('list failed events, newest first')
    .option('--stage <stage>', 'only this stage')
    .option('--all', 'include replayed ones')
    .option('--json', 'print JSON')
    .action(async (ws: string, options: { stage?: string; all?: boolean; json?: boolean }) =>
      withCli(io.env, async ({ workspaces, failedEvents }) => {
        const target = await workspaces.get(ws);
        const items = await failedEvents.list(target.id, {
          stage: options.stage,
          status: options.all === true ? undefined : 'failed',
          limit: 500,
        });
        const shown = items.map(presentFailedEvent);
        io.out(
          options.json === true
            ? JSON.stringify(shown, null, 2)
            : shown.length === 0
              ? 'no failed events'
              : shown
                  .map(
                    (f) =>
                      `${f.id}\t${f.stage}\tseq ${f.seq}\t${f.status}\t${f.failedAt}\t${f.errorCode}: ${f.reason}`,
                  )
                  .join('\n'),
        );
      }),
    );
  failed
    .command('replay <workspace> [id]')
    .description('deliver a failed event (or, without an id, every failed event) to its stage again')
    .option('--stage <stage>', 'without an id: only this stage')
    .action(async (ws: string, id: string | undefined, options: { stage?: string }) =>
      withCli(io.env, async ({ workspaces, failedEvents }) => {
        const target = await workspaces.get(ws);
        if (id !== undefined) {
          await failedEvents.replay(target.id, id);
          io.out(`scheduled ${id} for redelivery`);
        } else {
          io.out(
            `scheduled ${await failedEvents.replayAll(target.id, options.stage)} failed events for redelivery`,
          );
        }
      }),
    );
  const profiles = program
    .command('profiles')
    .description('unified profiles: look up, inspect, unmerge, rebuild');
  profiles
    .command('lookup <workspace> <type> <value>')
    .description('the profile holding an identifier (user_id, anonymous_id, email, phone or a custom type)')
    .option('--json', 'print JSON')
    .action(async (ws: string, type: string, value: string, options: { json?: boolean }) =>
      withCli(io.env, async ({ workspaces, profiles: service, auditChange }) => {
        const target = await workspaces.get(ws);
        const profile = await service.lookup(target.id, type, value, { pii: true });
        await auditChange('profiles lookup (PII read)', target.id, { profile: profile.id });
        io.out(options.json === true ? JSON.stringify(profile, null, 2) : describeProfile(profile));
      }),
    );
  profiles
    .command('get <workspace> <id>')
    .description('a profile by id (a merged id shows the profile it was merged into)')
    .option('--json', 'print JSON')
    .action(async (ws: string, id: string, options: { json?: boolean }) =>
      withCli(io.env, async ({ workspaces, profiles: service, auditChange }) => {
        const target = await workspaces.get(ws);
        const profile = await service.get(target.id, id, { pii: true });
        await auditChange('profiles get (PII read)', target.id, { profile: profile.id });
        io.out(options.json === true ? JSON.stringify(profile, null, 2) : describeProfile(profile));
      }),
    );
  profiles
    .command('unmerge <workspace> <id> <type> <value>')
    .description('unlink an identifier from a profile: it never links again; the profile splits')
    .action(async (ws: string, id: string, type: string, value: string) =>
      withCli(io.env, async ({ workspaces, profiles: service, auditChange }) => {
        const target = await workspaces.get(ws);
        const result = await service.unlink(target.id, id, { type, value }, 'cli');
        await auditChange('profiles unmerge', target.id, { profile: result.profileId, type });
        io.out(
          `unlinked ${type} from ${result.profileId}; profiles now: ${result.profiles.join(', ') || 'none'}`,
        );
      }),
    );
  profiles
    .command('unlinked <workspace>')
    .description('identifiers an unmerge unlinked: they link nothing until `profiles relink` undoes it')
    .option('--json', 'print JSON')
    .action(async (ws: string, options: { json?: boolean }) =>
      withCli(io.env, async ({ workspaces, profiles: service, auditChange }) => {
        const target = await workspaces.get(ws);
        const rows = [];
        for (let after: string | undefined; ;) {
          const page = await service.unlinked(target.id, 500, after, { pii: true });
          rows.push(...page);
          if (page.length < 500) break;
          after = page.at(-1)?.key;
        }
        await auditChange('profiles unlinked (PII read)', target.id, { count: String(rows.length) });
        if (options.json === true) io.out(JSON.stringify(rows, null, 2));
        else if (rows.length === 0) io.out('no unlinked identifiers');
        else
          io.out(
            rows
              .map(
                (r) =>
                  `${r.type}\t${r.value}\tfrom ${r.profileId}\tby ${r.actor}\t${new Date(r.atMs).toISOString()}`,
              )
              .join('\n'),
          );
      }),
    );
  profiles
    .command('relink <workspace> <type> <value>')
    .description(
      'undo an unmerge: the identifier links again; the profiles it was unlinked from are re-resolved',
    )
    .action(async (ws: string, type: string, value: string) =>
      withCli(io.env, async ({ workspaces, profiles: service, auditChange }) => {
        const target = await workspaces.get(ws);
        const result = await service.relink(target.id, { type, value });
        await auditChange('profiles relink', target.id, { type });
        io.out(
          `${type} links again; profiles now: ${result.profiles.join(', ') || 'none'}` +
            (result.reresolved
              ? ''
              : ' (no stored profile held it: `cdp profiles rebuild` links its past events)'),
        );
      }),
    );
  profiles
    .command('rebuild <workspace>')
    .description('rebuild every profile of a workspace from its event log (after changing identity settings)')
    .action(async (ws: string) =>
      withCli(io.env, async ({ workspaces, profiles: service, auditChange }) => {
        const target = await workspaces.get(ws);
        const { progressBar } = await import('./progress.ts');
        const bar = progressBar('rebuilding profiles');
        const result = await service.rebuild(target.id, (done, total) => bar.update(done, total));
        bar.stop();
        await auditChange('profiles rebuild', target.id, {});
        io.out(`rebuilt ${result.profiles} profiles from ${result.events} events`);
      }),
    );
  addUserCommands(program, io);
  program
    .command('audit')
    .description('the tamper-evident audit log')
    .command('verify')
    .description('check the hash chain of the whole audit log; exits 1 when it was tampered with')
    .action(async () =>
      withCli(io.env, async ({ audit }) => {
        const verdict = await audit.verify();
        if (verdict.ok) {
          io.out(`audit log intact: ${verdict.entries} entries`);
          return;
        }
        throw new Error(`audit log broken at entry ${verdict.brokenAtSeq}: ${verdict.reason}`);
      }),
    );
  registerSegmentCommands(program, io, withCli);
  registerPrivacyCommands(program, io, withCli);
  registerKeyCommands(program, io, withCli);
  registerDestinationCommands(program, io, withCli);
  return program;
}
