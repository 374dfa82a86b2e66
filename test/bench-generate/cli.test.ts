import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { specViolations } from './segment-spec.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'generate-cli-'));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'bench/generate/cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

describe('generate CLI', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes messages and truth as NDJSON and a summary on stderr', () => {
    const out = join(dir, 'events.ndjson');
    const truth = join(dir, 'truth.ndjson');
    const run = cli('--people', '60', '--seed', '42', '--out', out, '--truth', truth);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '');
    const messages = lines(readFileSync(out, 'utf8')).map((line) => JSON.parse(line) as unknown);
    for (const message of messages) assert.deepEqual(specViolations(message), []);
    const people = lines(readFileSync(truth, 'utf8')).map((line) => JSON.parse(line) as { personId: string });
    assert.equal(people.length, 60);
    assert.equal(people[0]?.personId, 'p_0000000');
    assert.match(run.stderr, /people: +60/);
    assert.match(run.stderr, new RegExp(`messages: +${messages.length}\\b`));
    assert.match(run.stderr, /by type:[\s\S]*page[\s\S]*track events:[\s\S]*Product Viewed/);
  });

  it('is byte-identical across processes, to a file or to stdout', () => {
    const out = join(dir, 'again.ndjson');
    const first = cli('--people', '40', '--seed', '5', '--quiet');
    const second = cli('--people', '40', '--seed', '5', '--out', out, '--quiet');
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stderr, '');
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, '');
    assert.equal(readFileSync(out, 'utf8'), first.stdout);
    const other = cli('--people', '40', '--seed', '6', '--quiet');
    assert.notEqual(other.stdout, first.stdout);
  });

  it('--batch writes /v1/batch bodies of at most n messages', () => {
    const plain = lines(cli('--people', '30', '--seed', '8', '--quiet').stdout);
    const batched = lines(cli('--people', '30', '--seed', '8', '--quiet', '--batch', '7').stdout);
    const bodies = batched.map((line) => JSON.parse(line) as { batch: unknown[] });
    bodies.forEach((body, i) => {
      assert.deepEqual(Object.keys(body), ['batch']);
      if (i < bodies.length - 1) assert.equal(body.batch.length, 7);
      else assert.ok(body.batch.length >= 1 && body.batch.length <= 7);
    });
    assert.deepEqual(
      bodies.flatMap((body) => body.batch),
      plain.map((line) => JSON.parse(line) as unknown),
    );
  });

  it('--envelope tells who sent each message; --order and --super-node are passed through', () => {
    const run = cli(
      '--people',
      '50',
      '--seed',
      '3',
      '--quiet',
      '--envelope',
      '--order',
      'time',
      '--super-node',
      '10',
    );
    assert.equal(run.status, 0, run.stderr);
    const envelopes = lines(run.stdout).map((line) => JSON.parse(line) as { personId: string; time: number });
    assert.ok(envelopes.every((e) => /^p_\d{7}$/.test(e.personId)));
    for (let i = 1; i < envelopes.length; i++) assert.ok(envelopes[i]!.time >= envelopes[i - 1]!.time);
  });

  const invalid: [string, string[], RegExp][] = [
    ['zero people', ['--people', '0', '--seed', '1'], /people/],
    ['a missing seed', ['--people', '10'], /--seed/],
    ['a non-integer', ['--people', 'ten', '--seed', '1'], /not an integer/],
    ['an unknown order', ['--people', '10', '--seed', '1', '--order', 'random'], /order/],
    ['batch with envelope', ['--people', '10', '--seed', '1', '--batch', '5', '--envelope'], /batch/],
  ];
  for (const [label, args, pattern] of invalid) {
    it(`fails clearly on ${label}`, () => {
      const run = cli(...args);
      assert.notEqual(run.status, 0);
      assert.match(run.stderr, pattern);
      assert.equal(run.stdout, '');
    });
  }
});
