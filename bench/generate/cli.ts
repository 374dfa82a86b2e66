/**
 * Command line front of the generator (a composition root: the only module here doing I/O).
 *
 *   node --import tsx bench/generate/cli.ts --people 1000 --seed 42 \
 *     [--out events.ndjson] [--truth truth.ndjson] [--batch 100]
 *
 * Messages go to --out or stdout, the summary to stderr.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import { generatePeople, generateShop } from './generate-shop.ts';
import { NdjsonWriter } from './ndjson-writer.ts';
import type { GeneratedMessage } from './segment-message.ts';
import { countMessage, createSummary, formatSummary } from './shop-summary.ts';
import type { ShopSummary } from './shop-summary.ts';
import { validateShopOptions } from './shop-options.ts';
import type { ShopOptions, StreamOrder, SuperNodeKind } from './shop-options.ts';

interface CliOptions {
  people: number;
  seed: number;
  out?: string;
  truth?: string;
  batch?: number;
  envelope?: boolean;
  end?: Date;
  months?: number;
  activity?: number;
  order?: StreamOrder;
  window?: number;
  timeBuffer?: number;
  superNode?: number;
  superNodeKind: SuperNodeKind;
  superNodeValue?: string;
  quiet?: boolean;
}

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new InvalidArgumentError('not an integer');
  return parsed;
}

function decimal(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new InvalidArgumentError('not a number');
  return parsed;
}

function date(value: string): Date {
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new InvalidArgumentError('not an ISO 8601 date');
  return parsed;
}

function buildProgram(): Command {
  return new Command()
    .name('generate-shop')
    .description('Simulated online shop: Segment HTTP API messages and the ground truth of who is who.')
    .requiredOption('--people <n>', 'number of people', integer)
    .requiredOption('--seed <n>', 'PRNG seed (0 .. 2^32-1); same seed, same bytes', integer)
    .option('--out <file>', 'messages NDJSON file (default: stdout)')
    .option('--truth <file>', 'ground truth NDJSON file, one person per line')
    .option('--batch <n>', 'write {"batch":[...]} bodies of n messages per line (Segment /v1/batch)', integer)
    .option('--envelope', 'write {"personId","time","message"} lines instead of bare messages')
    .option('--end <date>', 'end of the simulated period, exclusive (default 2025-01-01T00:00:00Z)', date)
    .option('--months <n>', 'length of the period in months (default 6)', integer)
    .option('--activity <x>', 'multiplier on sessions per person (default 1)', decimal)
    .addOption(
      new Option('--order <order>', 'stream order (default person)').choices(['person', 'shuffled', 'time']),
    )
    .option('--window <n>', 'shuffle window in messages for --order shuffled (default 10000)', integer)
    .option('--time-buffer <n>', 'messages held per pass for --order time (default 500000)', integer)
    .option('--super-node <size>', 'make <size> people share one identifier', integer)
    .addOption(
      new Option('--super-node-kind <kind>', 'identifier they share')
        .choices(['anonymousId', 'email'])
        .default('anonymousId'),
    )
    .option('--super-node-value <value>', 'the shared value (default: a seeded UUID / info@shop.example)')
    .option('--quiet', 'do not print the summary');
}

function toShopOptions(cli: CliOptions): ShopOptions {
  const superNode =
    cli.superNode === undefined
      ? undefined
      : {
          size: cli.superNode,
          kind: cli.superNodeKind,
          ...(cli.superNodeValue ? { value: cli.superNodeValue } : {}),
        };
  return {
    people: cli.people,
    seed: cli.seed,
    ...(cli.end ? { end: cli.end } : {}),
    ...(cli.months !== undefined ? { months: cli.months } : {}),
    ...(cli.activity !== undefined ? { activity: cli.activity } : {}),
    ...(cli.order ? { order: cli.order } : {}),
    ...(cli.window !== undefined ? { shuffleWindow: cli.window } : {}),
    ...(cli.timeBuffer !== undefined ? { timeBuffer: cli.timeBuffer } : {}),
    ...(superNode ? { superNode } : {}),
  };
}

async function writeMessages(
  messages: Iterable<GeneratedMessage>,
  writer: NdjsonWriter,
  cli: CliOptions,
  summary: ShopSummary,
): Promise<void> {
  const batch: string[] = [];
  for (const generated of messages) {
    countMessage(summary, generated.message);
    const line = JSON.stringify(cli.envelope ? generated : generated.message);
    if (cli.batch === undefined) {
      if (writer.push(line)) await writer.drained();
      continue;
    }
    batch.push(line);
    if (batch.length >= cli.batch && writer.push(`{"batch":[${batch.splice(0).join(',')}]}`)) {
      await writer.drained();
    }
  }
  if (batch.length > 0) writer.push(`{"batch":[${batch.join(',')}]}`);
}

function open(path: string | undefined): NdjsonWriter {
  const stream: Writable = path === undefined ? process.stdout : createWriteStream(path);
  return new NdjsonWriter(stream, path !== undefined);
}

async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  program.parse(argv);
  const cli = program.opts<CliOptions>();
  if (cli.batch !== undefined && (cli.batch < 1 || cli.envelope)) {
    program.error('--batch needs a positive size and cannot be combined with --envelope');
  }
  const options = toShopOptions(cli);
  const validation = validateShopOptions(options);
  if (!validation.ok) program.error(validation.errors.join('\n'));
  const started = performance.now();
  const summary = createSummary(cli.people);
  const writer = open(cli.out);
  await writeMessages(generateShop(options), writer, cli, summary);
  await writer.close();
  if (cli.truth !== undefined) {
    const truth = open(cli.truth);
    for (const person of generatePeople(options))
      if (truth.push(JSON.stringify(person))) await truth.drained();
    await truth.close();
  }
  if (!cli.quiet) process.stderr.write(formatSummary(summary, performance.now() - started) + '\n');
}

// `| head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

await main(process.argv);
