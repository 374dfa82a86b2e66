import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../errors/app-error.ts';
import { presentSegment } from '../http/segment-presenters.ts';
import type { CliContext } from './cli-context.ts';

type WithCli = <T>(env: NodeJS.ProcessEnv, run: (context: CliContext) => Promise<T>) => Promise<T>;

interface DefinitionOptions {
  readonly file?: string;
  readonly definition?: string;
}

/** `cdp segment create|list|preview`: definitions from a file (`-` for stdin) or inline. */
export function registerSegmentCommands(
  program: Command,
  io: { readonly env: NodeJS.ProcessEnv; out(text: string): void },
  withCli: WithCli,
): void {
  const segment = program.command('segment').description('segments written in the segment language');
  segment
    .command('create <workspace> <slug>')
    .description('create a segment and compute its members (waits for the backfill)')
    .requiredOption('--name <name>', 'display name')
    .option('--file <path>', 'read the definition from a file (- for stdin)')
    .option('--definition <text>', 'the definition itself')
    .option('--description <text>', 'what the segment is for')
    .option('--json', 'print JSON')
    .action(
      async (
        ws: string,
        slug: string,
        options: DefinitionOptions & { name: string; description?: string; json?: boolean },
      ) =>
        withCli(io.env, async ({ workspaces, segments, auditChange }) => {
          const target = await workspaces.get(ws);
          const source = readDefinition(options);
          const { segment: created, warnings } = await located(source, () =>
            segments.create(target.id, {
              name: options.name,
              slug,
              definition: source.text,
              description: options.description,
            }),
          );
          await auditChange('segment create', target.id, { ws: target.slug, slug });
          await segments.idle();
          const done = await segments.get(target.id, slug);
          const size = await segments.size(done);
          const lines = [
            `created segment ${slug} (${created.id}): ${size} members, ${done.backfill.status}`,
            ...warnings.map((w) => `warning: ${w.message}`),
          ];
          io.out(
            options.json === true ? JSON.stringify(presentSegment(done, size), null, 2) : lines.join('\n'),
          );
        }),
    );
  segment
    .command('list <workspace>')
    .description('list segments with their size')
    .option('--json', 'print JSON')
    .action(async (ws: string, options: { json?: boolean }) =>
      withCli(io.env, async ({ workspaces, segments }) => {
        const target = await workspaces.get(ws);
        const all = await segments.list(target.id, { limit: 10_000 });
        const shown = [];
        for (const s of all) shown.push(presentSegment(s, await segments.size(s)));
        io.out(
          options.json === true
            ? JSON.stringify(shown, null, 2)
            : shown.length === 0
              ? 'no segments'
              : shown.map((s) => `${s.slug}\t${s.size}\t${s.status}\t${s.name}`).join('\n'),
        );
      }),
    );
  segment
    .command('preview <workspace>')
    .description('size and first members of a definition, now, without saving it')
    .option('--file <path>', 'read the definition from a file (- for stdin)')
    .option('--definition <text>', 'the definition itself')
    .option('--sample <n>', 'how many member ids to show', '10')
    .option('--json', 'print JSON')
    .action(async (ws: string, options: DefinitionOptions & { sample: string; json?: boolean }) =>
      withCli(io.env, async ({ workspaces, segments }) => {
        const target = await workspaces.get(ws);
        const source = readDefinition(options);
        const sample = Math.max(0, Math.min(100, Number.parseInt(options.sample, 10) || 0));
        const preview = await located(source, () => segments.preview(target.id, source.text, sample));
        io.out(
          options.json === true
            ? JSON.stringify(
                { size: preview.size, sample: preview.sample, warnings: preview.warnings },
                null,
                2,
              )
            : [
                `${preview.size} profiles match`,
                ...preview.sample.map((id) => `  ${id}`),
                ...preview.warnings.map((w) => `warning: ${w.message}`),
              ].join('\n'),
        );
      }),
    );
}

interface DefinitionSource {
  readonly text: string;
  /** Shown in front of positions: the file name, `<stdin>` or `<definition>`. */
  readonly name: string;
}

function readDefinition(options: DefinitionOptions): DefinitionSource {
  if ((options.file === undefined) === (options.definition === undefined)) {
    throw new Error('give the definition with either --file <path> or --definition <text>');
  }
  if (options.definition !== undefined) return { text: options.definition, name: '<definition>' };
  const file = options.file as string;
  return file === '-'
    ? { text: readFileSync(0, 'utf8'), name: '<stdin>' }
    : { text: readFileSync(file, 'utf8'), name: file };
}

/**
 * Runs a service call; a definition error becomes `file:line:column: message` with the source
 * line and a caret under the column, as compilers print them.
 */
async function located<T>(source: DefinitionSource, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const line = AppError.is(error) ? error.details?.['line'] : undefined;
    const column = AppError.is(error) ? error.details?.['column'] : undefined;
    if (!AppError.is(error) || typeof line !== 'number' || typeof column !== 'number') throw error;
    const detail = error.message.replace(/^line \d+, column \d+: /, '');
    const text = source.text.split(/\r\n|\r|\n/)[line - 1] ?? '';
    const gutter = String(line);
    throw new Error(
      [
        `${source.name}:${line}:${column}: ${detail} (${error.code})`,
        `  ${gutter} | ${text}`,
        `  ${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, column - 1))}^`,
      ].join('\n'),
    );
  }
}
